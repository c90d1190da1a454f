#ifndef MIG_SCHEMAFILE_H
#define MIG_SCHEMAFILE_H

#include "config.h"
#include "err.h"

/*
 * mig.schemaFile: write the live schema of set's database, as runnable
 * SQL in an order that depends on the schema alone (mig_db_schema_sql),
 * to set->schema_file, whole or not at all (a temporary file beside it,
 * synced, renamed over it). Nothing when no schema file is set. A new
 * file gets the umask's mode; one that is there keeps its own.
 */
int mig_schema_file_write(const struct mig_settings *set, struct mig_err *err);

#endif
