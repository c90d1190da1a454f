#ifndef MIG_SQLSHOW_H
#define MIG_SQLSHOW_H

#include "ctx.h"
#include "err.h"
#include "config.h"
#include "util.h"

/*
 * What mig up or mig down would run, as one SQL script: mig's
 * bookkeeping, a transaction per revision with its record, the schema
 * hash the run would record (found by replaying the revisions on a copy
 * of the schema in memory). 'mig sqlshow | sqlite3 DB' then leaves DB as
 * mig up would, except that sqlite3 prints foreign-key violations where
 * mig would stop, and the bodies are not put in the store.
 */
int mig_sqlshow_run(struct mig_buf *out, const struct mig_settings *set, const char *spec, int down, int from_files, struct mig_err *err);

/* One revision's up (or down) section as written. */
int mig_sqlshow_revision(struct mig_buf *out, const struct mig_settings *set, const char *spec, int down, struct mig_err *err);

/* The schema applying everything up to spec (NULL: head) to an empty database gives. */
int mig_sqlshow_schema(struct mig_buf *out, const struct mig_settings *set, const char *spec, struct mig_err *err);

#endif
