#ifndef MIG_JOURNAL_H
#define MIG_JOURNAL_H

#include "config.h"
#include "store.h"
#include "status.h"
#include "util.h"

/*
 * The journal as 'mig log' shows it. Each journal commit's message holds
 * one fact per line after its subject ("operation up", "revision ID NAME
 * 12ms", "result ok", "schema HASH"); these read them back.
 */
struct mig_journal_rev {
	char *id, *name;
	long long ms;
};

struct mig_journal_op {
	char *subject, *operation, *result, *schema;
	char *snapshot;		/* taken before the operation, or made by it */
	char *before;		/* restore: the snapshot of what was replaced */
	char *run;		/* the token of the run that wrote it, or NULL */
	char *drift;		/* the drift it accepted, or NULL */
	struct mig_journal_rev *revs;
	size_t nrevs;
};

/*
 * Append a "revision ID NAME 12ms" line (without the time when ms is
 * NULL), NAME escaped (mig_buf_add_esc) so that no newline in it ends
 * the line; mig_journal_parse reads it back (without a time, a name
 * whose last word is a time, "a 5ms", reads back as "a" in 5 ms).
 */
void mig_journal_add_rev(struct mig_buf *m, const char *id, const char *name, const long long *ms);

/*
 * Start the message of an operation on the n revisions names,
 * with ids and times in ms (NULL: 0 each): the subject ("up NAME", "up
 * FIRST..LAST (N revisions)"), a blank line, "operation OP" and a
 * revision line each. The caller adds result, schema and snapshot.
 */
void mig_journal_begin(struct mig_buf *m, const char *op, const char *const *names,
		       const char *const *ids, const long long *ms, size_t n);

/* Start the message of an operation on no revisions: subject, a blank line, "operation OP". */
void mig_journal_head(struct mig_buf *m, const char *subject, const char *op);
/*
 * The facts that end a message, each when given (not NULL nor ""), in
 * this order; the result comes last, so that a message without it (a
 * restore's marker) is a prefix of the one with it.
 */
struct mig_journal_facts {
	const char *result, *schema, *snapshot, *before, *run;
	const char *drift;	/* what differed when the run was told to accept it */
};
void mig_journal_end(struct mig_buf *m, const struct mig_journal_facts *f);
/*
 * Read a message back. The subject is its first paragraph (lines joined
 * by blanks); the facts come after it. Names are unescaped; a name an
 * older mig wrote unescaped reads the same unless it holds a backslash
 * followed by one of \ n t r x.
 */
void mig_journal_parse(struct mig_journal_op *op, const char *message);
void mig_journal_op_release(struct mig_journal_op *op);

/* Format the newest max (0: all) entries of the store's journal into out. */
int mig_journal_show(struct mig_buf *out, struct mig_store *s, size_t max, enum mig_format fmt,
		     int verbose, struct mig_err *err);

/* mig log: the journal of the store set names (none yet: an empty one). */
int mig_log(struct mig_buf *out, const struct mig_settings *set, size_t max, enum mig_format fmt, int verbose,
	    struct mig_err *err);

#endif
