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
 *                          hashed again;
 *   CACHE/mig/conf-HASH    what a mig.conf says, keyed by its path and stat
 *                          data, so that libgit2 is not loaded to read it
 *                          again. CACHE is $XDG_CACHE_HOME, else ~/.cache:
 *                          the store cannot hold it, as mig.conf may name
 *                          the store. A mig.conf that includes other files
 *                          is never remembered.
 *
 * No file changed less than MIG_CACHE_SLACK seconds before the command
 * began is remembered: a later change in the same timestamp tick (two
 * seconds on FAT, one on older file systems) could leave its stat data as
 * it was. The ctime, which no one can set back, moves with every change.
 *
 * A cache is only a cache: one that cannot be read, or was written by
 * another mig version or for another directory, is an empty one; one
 * that cannot be written is not written. Without a store neither store
 * cache is read or written; without a cache directory, nor is a mig.conf's.
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

/* The settings a mig.conf sets, as written there; NULL or -1: not set. */
struct mig_confvals {
	char *database, *migrations, *store, *schema_file;
	int lock_timeout, backup, backup_keep, statement_lock_timeout;
	char *schema;	/* mig.schema, PostgreSQL's bookkeeping schema */
};

/* What conf, whose stat data is st, says: 0 and v filled in, or -1. */
int mig_confcache_get(const char *conf, const struct stat *st, struct mig_confvals *v);

/*
 * Remember v for conf, its stat data st taken before conf was read, and
 * now before that.
 */
void mig_confcache_put(const char *conf, const struct stat *st, const struct timespec *now,
		       const struct mig_confvals *v);

void mig_confvals_release(struct mig_confvals *v);

#endif
