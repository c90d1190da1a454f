#ifndef MIG_BACKUP_H
#define MIG_BACKUP_H

#include "err.h"
#include "config.h"
#include "status.h"
#include "store.h"

/*
 * Snapshots as commands take them: with the database's applied
 * revisions in the message, and a journal entry for what was done.
 */

/*
 * Snapshot the database at path (the caller holds the store's lock and
 * has asked mig_db_has_content whether there is anything to keep); id
 * gets the snapshot's id.
 */
int mig_backup_take(struct mig_store *s, const char *path, const char *subject, int timeout_ms, int progress,
		    char id[41], struct mig_err *err);

/*
 * Restore snapshot id into the database at path and journal it, with
 * before the snapshot taken of what was there (or ""). A marker in the
 * store says that a restore is under way until its entry is written:
 * a restore killed in between is journaled by the next command that
 * writes (mig_backup_recover), if it did replace the database.
 */
int mig_backup_restore(struct mig_store *s, const char *id, const char *before, const char *path,
		       int timeout_ms, int progress, struct mig_err *err);

/* Is a restore's marker in the store at store? */
int mig_backup_interrupted(const char *store);

/*
 * Journal a restore that was killed after it replaced the database at
 * path (it is the snapshot's image), as "interrupted"; one killed
 * before leaves no entry, as it changed nothing. Then forget the marker.
 * The caller holds the store's lock.
 */
int mig_backup_recover(struct mig_store *s, const char *path, int timeout_ms, struct mig_err *err);

/*
 * Refuse (MIG_EUNSAFE) to write an image to out when it is the database
 * at db, one of its journals (-journal, -wal, -shm) or inside the store:
 * compared by name, symlinks resolved, and for files that exist by
 * device and inode (a hard link). "-" checks standard output's file.
 */
int mig_backup_check_output(const char *out, const char *db, const char *store, struct mig_err *err);

/*
 * A file written whole or not at all: a temporary file beside it
 * (O_EXCL; 0600, or the mode of the file it replaces) that
 * mig_outfile_commit syncs and renames over it, syncing the directory
 * too. Until then a file already there is untouched; release without
 * commit removes the temporary file. A device or pipe is written as it
 * is; a symlink is written through.
 */
struct mig_outfile {
	int fd;			/* write here */
	const char *name;	/* as given, for messages */
	char *path, *tmp;
};

int mig_outfile_open(struct mig_outfile *o, const char *path, struct mig_err *err);
int mig_outfile_commit(struct mig_outfile *o, struct mig_err *err);
void mig_outfile_release(struct mig_outfile *o);

/* Meter long operations: the reporter shows notes and stderr is a terminal. */
int mig_backup_progress(void);

/* The commands. */
struct mig_backup_opts {
	const char *message;	/* -m: what the snapshot is for */
	const char *out;	/* -o: also write a gzip of the image here ("-": stdout), or NULL */
};
/*
 * mig backup: snapshot the database, journaled; id gets its id (set
 * even when writing -o's file failed after it).
 */
int mig_backup(const struct mig_settings *set, const struct mig_backup_opts *o, char id[41], struct mig_err *err);
/* mig backup --list, into out. */
int mig_backup_list(struct mig_buf *out, const struct mig_settings *set, enum mig_format fmt, struct mig_err *err);
/* mig backup --verify [SPEC]: ok is called with each snapshot found whole. */
int mig_backup_verify(const struct mig_settings *set, const char *spec,
		      void (*ok)(const char *id, void *data), void *data, struct mig_err *err);
/* mig backup --prune KEEP, journaled when it removed anything. */
int mig_backup_prune(const struct mig_settings *set, size_t keep, struct mig_err *err);

struct mig_restore_opts {
	const char *spec;	/* the snapshot (NULL: the newest) */
	const char *input;	/* -i: a gzip of an image to import and restore ("-": stdin), or NULL */
	int no_backup;		/* no snapshot of the current state first */
};
/* mig restore: the database replaced, journaled, what was there snapshot first. */
int mig_restore(const struct mig_settings *set, const struct mig_restore_opts *o, struct mig_err *err);

#endif
