#ifndef MIG_BACKUP_H
#define MIG_BACKUP_H

#include "err.h"
#include "store.h"

/*
 * Snapshots as commands take them: with the database's applied
 * revisions in the message, and a journal entry for what was done.
 */

/*
 * Snapshot the database at path (the caller holds the store's lock);
 * id gets the snapshot's id. A database that does not exist or is
 * empty gets none: id is "".
 */
int mig_backup_take(struct mig_store *s, const char *path, const char *subject, int timeout_ms, int progress,
		    char id[41], struct mig_err *err);

/*
 * Journal a snapshot operation: op ("backup", "restore", "prune"),
 * the snapshot it made or used, and for a restore the one taken before.
 */
int mig_backup_journal(struct mig_store *s, const char *subject, const char *op, const char *snapshot,
		       const char *before, const char *result, struct mig_err *err);

/* Show progress on stderr: it is a terminal and nobody asked for quiet. */
int mig_backup_progress(int quiet);

#endif
