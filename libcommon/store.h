#ifndef MIG_STORE_H
#define MIG_STORE_H

#include <stddef.h>
#include "err.h"
#include "util.h"

/*
 * The store: a bare git repository beside the database (DATABASE.mig/)
 * holding every revision body ever applied, as blobs whose ids are the
 * revisions' ids, and the journal: one commit per operation on
 * refs/mig/journal, which the branch HEAD names (refs/heads/journal)
 * follows. Created 0700, its files 0600. What mig reports written is on
 * disk: objects and refs are synced before it says so.
 */
struct mig_store;

/*
 * Open the store at path; create it when create is set and it is
 * missing. A store is created whole (made aside, then renamed into
 * place), so concurrent first runs all open the one that got there.
 */
int mig_store_open(struct mig_store **out, const char *path, int create, struct mig_err *err);
void mig_store_close(struct mig_store *s);

/* Write bytes as a blob; id (41 bytes) gets its hex id. */
int mig_store_put(struct mig_store *s, const void *data, size_t len, char id[41], struct mig_err *err);

/* Write many blobs: those the store lacks, as one pack. */
int mig_store_put_all(struct mig_store *s, const char *const *data, const size_t *len, size_t n,
		      struct mig_err *err);

/*
 * mig_store_put_all in a thread of its own, so that writing a run's
 * bodies overlaps running the first revision. The store, data and len
 * belong to the job until mig_store_wait, which joins it and returns
 * what mig_store_put_all returned. Waiting on NULL is 0.
 */
struct mig_store_job;
void mig_store_put_all_start(struct mig_store_job **job, struct mig_store *s, const char *const *data,
			     const size_t *len, size_t n);
int mig_store_wait(struct mig_store_job **job, struct mig_err *err);

/* Read the blob with this hex id into b. MIG_EENV when it is not there. */
int mig_store_get(struct mig_store *s, const char *id, struct mig_buf *b, struct mig_err *err);

/*
 * Append a commit to the journal: message, and a tree holding the bodies
 * (by hex id) of the revisions the operation touched, under their names.
 */
int mig_store_journal(struct mig_store *s, const char *message, const char *const *names,
		      const char *const *ids, size_t n, struct mig_err *err);

/*
 * Check that the journal can be appended to: no journal yet is fine; a
 * ref that points at a missing or unreadable commit is MIG_EENV. A
 * command calls it before it changes anything, so that no change is
 * made that its journal entry cannot record.
 */
int mig_store_journal_check(struct mig_store *s, struct mig_err *err);

/* One journal commit, as mig_store_log hands it over. */
struct mig_journal_entry {
	char commit[41];
	long long time;		/* seconds since the epoch */
	const char *email;	/* user@host */
	const char *message;
};

/*
 * Call fn on the journal's commits, newest first, at most max of them
 * (0: all). A store without a journal has none; a damaged one is
 * MIG_EENV, as for mig_store_journal_check. fn returning < 0 stops.
 */
int mig_store_log(struct mig_store *s, size_t max,
		  int (*fn)(const struct mig_journal_entry *e, void *data), void *data,
		  struct mig_err *err);

/*
 * Take the run lock (a lock file in the store, flock(2), so a killed run
 * leaves none behind), waiting up to timeout_ms. On timeout MIG_EENV names
 * the holder. Released by mig_store_close.
 */
int mig_store_lock(struct mig_store *s, int timeout_ms, struct mig_err *err);

/*
 * Is a mig run holding the run lock of the store at path (not opened)?
 * Then 1, with "pid N on HOST" (or "") in holder; else 0. Only for a
 * process that does not hold it itself.
 */
int mig_store_lock_holder(const char *path, char *holder, size_t n);

/*
 * A unified diff of two texts, as git diff writes it ("a/OLDNAME",
 * "b/NEWNAME"), appended to out; nothing when they are the same.
 */
int mig_store_diff(struct mig_buf *out, const char *old, size_t oldlen, const char *oldname, const char *new,
		   size_t newlen, const char *newname, struct mig_err *err);

/* The path of the store, as it was opened. */
const char *mig_store_path(const struct mig_store *s);

#endif
