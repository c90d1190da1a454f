#ifndef MIG_CACHE_H
#define MIG_CACHE_H

#include <sys/stat.h>
#include <time.h>
#include "revfile.h"

/*
 * What status may remember between runs, in the store, so that it does
 * not redo work whose inputs did not change:
 *
 *   STORE/revisions.cache  per revision file: its id, style, transaction
 *                          mode and parents, keyed by the file's stat data
 *                          (device, inode, size, mtime and ctime), as git's
 *                          index keeps blob ids, so that an unchanged file
 *                          is not read, parsed or hashed again;
 *   STORE/schema.cache     the live schema's hash, keyed by a fingerprint
 *                          of sqlite_schema as stored (mig_db_schema_key),
 *                          so that the schema is not sorted, normalized and
 *                          hashed again.
 *
 * No file changed less than MIG_CACHE_SLACK seconds before the command
 * began is remembered: a later change in the same timestamp tick (two
 * seconds on FAT, one on older file systems) could leave its stat data as
 * it was. The ctime, which no one can set back, moves with every change.
 *
 * A cache is only a cache: one that cannot be read, or was written by
 * another mig version or for another directory, is an empty one; one
 * that cannot be written is not written. Without a store neither is
 * read or written.
 */
#define MIG_CACHE_SLACK 2

struct mig_revcache;

/*
 * Open the cache at path for the migrations directory open as dirfd;
 * now is when the directory's files began to be read.
 */
struct mig_revcache *mig_revcache_open(const char *path, int dirfd, const struct timespec *now);

/*
 * The revision in file, made from the cache when st (taken before any
 * read) matches what it remembers, or NULL. A revision returned owns
 * name and path; after NULL they are still the caller's.
 * A revision made from the cache has no data and no sections.
 */
struct mig_rev *mig_revcache_get(struct mig_revcache *c, const char *file, const struct stat *st,
				 char *name, char *path);

/* Remember what was read from file, its stat data st taken before the read. */
void mig_revcache_put(struct mig_revcache *c, const char *file, const struct stat *st,
		      const struct mig_rev *rev);

/* With save, write the cache back when it changed; then free it. */
void mig_revcache_close(struct mig_revcache *c, int save);

/* The schema hash remembered at path for key: 0 and hash filled in, or -1. */
int mig_schemacache_get(const char *path, const char *key, char hash[41]);

/* Remember hash as the schema hash for key. */
void mig_schemacache_put(const char *path, const char *key, const char *hash);

#endif
