#ifndef MIG_CONFIG_H
#define MIG_CONFIG_H

#include "cli.h"
#include "err.h"

/*
 * Where mig's settings come from, highest first: the global options, the
 * environment (MIG_DATABASE, MIG_MIGRATIONS, MIG_STORE), the nearest
 * mig.conf from the working directory upward (git-config syntax; relative
 * paths in it are relative to its directory), the defaults.
 */
struct mig_settings {
	char *database;		/* NULL when nothing names one */
	char *migrations;	/* default: migrations/ beside mig.conf, or ./migrations */
	char *store;		/* default: DATABASE.mig */
	char *conf;		/* the mig.conf that was read, or NULL */
	int lock_timeout;	/* milliseconds, default 5000; mig_globals.lock_timeout wins */
	int backup;		/* snapshot before changes, default 1 */
	int backup_keep;	/* automatic snapshots kept after a run, default 20; 0 keeps all */
	char *schema_file;	/* write the live schema there after each change, or NULL */
	int statement_lock_timeout;	/* ms a revision's statement may wait for a lock (PostgreSQL); 0: no limit */
	char *schema;		/* mig.schema: the bookkeeping schema (PostgreSQL), or NULL for "mig" */
};

int mig_settings_load(struct mig_settings *s, const struct mig_globals *g, struct mig_err *err);

/*
 * The database, or MIG_EUSAGE saying how to name one; MIG_EENV when its
 * backend refuses it before opening (mig_db_check: a URL of a database
 * mig was built without, a FIFO, a device, a directory).
 */
int mig_settings_database(const struct mig_settings *s, const char **out, struct mig_err *err);

/*
 * What the mig.conf at conf itself says, as written there (cache.h's
 * struct mig_confvals: NULL or -1 for what it does not set), read afresh;
 * the caller releases v. A file that is not there, not regular, not text
 * or not git-config syntax is MIG_EENV naming it.
 */
struct mig_confvals;
int mig_conf_read(struct mig_confvals *v, const char *conf, struct mig_err *err);

void mig_settings_release(struct mig_settings *s);

#endif
