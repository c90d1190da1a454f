#ifndef MIG_SQLITE_DIAGNOSE_H
#define MIG_SQLITE_DIAGNOSE_H

#include <stddef.h>
#include <sqlite3.h>
#include "err.h"

/*
 * stmt (len bytes) just failed on h with a NOT NULL, UNIQUE or CHECK
 * constraint: find the rows to blame and put them in err's hint (table,
 * count, a sample of rowids or keys). Other failures leave err alone.
 * Only the SQLite backend's exec calls this.
 */
void mig_diagnose(sqlite3 *h, const char *stmt, size_t len, struct mig_err *err);

#endif
