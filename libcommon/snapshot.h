#ifndef MIG_SNAPSHOT_H
#define MIG_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "status.h"
#include "store.h"
#include "util.h"

/*
 * Snapshots: images of the database kept in the store. The image is cut
 * into page-aligned chunks (256 KiB unless MIG_CHUNK_SIZE says KiB);
 * each chunk is a zlib-compressed git blob, so a chunk that did not
 * change is stored once. A snapshot is a commit without parents, on its
 * own ref refs/mig/snapshots/ID, whose tree holds a manifest and the
 * chunks; its message records the database, page size, size, the
 * applied revisions and a checksum of the whole image. Its id is the
 * commit's.
 */

struct mig_snapshot_opts {
	const char *subject;	/* first line of the message: -m, or what it is for */
	const char *revisions;	/* "revision ID NAME\n" per applied revision, or NULL */
	size_t nrevisions;
	int timeout_ms;		/* for a writer holding the database */
	int progress;		/* show progress on stderr */
};

/*
 * Take a snapshot of the database at path into the store; id gets its
 * id. Nothing is listed unless all of it was written. The caller holds
 * the store's lock.
 */
int mig_snapshot_take(struct mig_store *s, const char *path, const struct mig_snapshot_opts *o,
		      char id[41], struct mig_err *err);

/* One snapshot, as listed. */
struct mig_snapshot_info {
	char id[41];
	long long time;		/* when it was taken: seconds */
	long nsec;		/* and nanoseconds */
	char *subject;
	char *database;
	uint64_t size, stored;
	uint32_t page_size;
	size_t revisions;
};

struct mig_snapshot_list {
	struct mig_snapshot_info *v;	/* newest first */
	size_t nr;
};

int mig_snapshot_list(struct mig_store *s, struct mig_snapshot_list *out, struct mig_err *err);
void mig_snapshot_list_release(struct mig_snapshot_list *l);

/* Format the list for 'mig backup --list'. */
void mig_snapshot_show(struct mig_buf *out, const struct mig_snapshot_list *l, enum mig_format fmt);

/*
 * The snapshot spec names: NULL the newest, else a unique prefix of 4 or
 * more hex digits of an id. MIG_EUSAGE when unknown or ambiguous;
 * MIG_EENV when the store has no snapshot at all.
 */
int mig_snapshot_resolve(struct mig_store *s, const char *spec, char id[41], struct mig_err *err);

/*
 * Re-read every chunk of snapshot id and check it against its object id
 * and the manifest. Damage is MIG_EENV naming the chunk and object.
 */
int mig_snapshot_verify(struct mig_store *s, const char *id, int progress, struct mig_err *err);

/*
 * Check that snapshot id is whole: its manifest, its tree and that
 * every chunk is there (not their content: mig_snapshot_verify does).
 */
int mig_snapshot_check(struct mig_store *s, const char *id, struct mig_err *err);

/*
 * Replace the database at path with snapshot id, checking every chunk as
 * it is read; on damage nothing is written. The caller holds the lock,
 * and calls mig_snapshot_check first to refuse a snapshot with missing
 * chunks before it does anything else (such as a snapshot of the
 * current state).
 */
int mig_snapshot_restore(struct mig_store *s, const char *id, const char *path, int timeout_ms,
			 int progress, struct mig_err *err);

/*
 * Is the database at path snapshot id's image, as a restore of it left
 * it (SQLite's change counter, schema cookie and version number in its
 * header aside)? *same gets 1 or 0. Reads the whole database.
 */
int mig_snapshot_is_image(struct mig_store *s, const char *id, const char *path, int timeout_ms, int *same,
			  struct mig_err *err);

/* Write snapshot id as a gzip stream of the database image to fd. */
int mig_snapshot_export(struct mig_store *s, const char *id, int fd, const char *name, int progress,
			struct mig_err *err);

/*
 * Read a gzip stream of a database image from fd (name for messages),
 * as 'backup -o' wrote it for a database like the one at database,
 * into a new snapshot; id gets its id.
 */
int mig_snapshot_import(struct mig_store *s, int fd, const char *name, const char *database,
			const struct mig_snapshot_opts *o, char id[41], struct mig_err *err);

/* Which snapshots a prune may remove: 1 for those it may. */
typedef int mig_snapshot_pick(const struct mig_snapshot_info *i, void *data);

/*
 * Is i a snapshot a run took by itself ("before up", "before down",
 * "before redo", "before restore"), not one asked for (mig backup, an
 * import)? A mig_snapshot_pick.
 */
int mig_snapshot_is_automatic(const struct mig_snapshot_info *i, void *data);

/*
 * Of the snapshots pick(data) picks (NULL: all of them), keep the
 * newest keep; remove the others, and the objects only they used, loose
 * or packed (store-prune.c says which packs are removed, written anew
 * or left). Snapshots not picked, revision bodies and the journal are
 * never touched. *pruned gets the snapshots removed, *removed and
 * *freed the objects and bytes removed; *left those left in packs: one
 * git was told to keep, or one of which they are under half.
 */
int mig_snapshot_prune(struct mig_store *s, size_t keep, mig_snapshot_pick *pick, void *data, size_t *pruned,
		       size_t *removed, uint64_t *freed, size_t *left, struct mig_err *err);

#endif
