#ifndef MIG_POSTGRES_DIAGNOSE_H
#define MIG_POSTGRES_DIAGNOSE_H

#include <stddef.h>
#include <libpq-fe.h>
#include "err.h"

/*
 * The rows to blame for res, a NOT NULL, UNIQUE or CHECK failure of
 * the statement stmt, found in the database at url (as libpq reads it)
 * as it was before the revision: the hint of err, when there are any.
 */
void mig_pg_diagnose(const char *url, PGresult *res, const char *stmt, size_t len, struct mig_err *err);

#endif
