#ifndef MIG_DRIFT_H
#define MIG_DRIFT_H
#include <stddef.h>
#include "util.h"

/*
 * How the live schema differs from the one recorded after the last run,
 * by object: "table hotfix added, index users_email removed, table
 * users changed", at most a few named and the rest counted. Both are
 * mig_db_schema's normalized text, one "TYPE NAME: SQL" line per object.
 * Nothing is added when they hold the same objects alike.
 */
void mig_drift_summary(struct mig_buf *out, const char *recorded, size_t rlen, const char *live, size_t llen);

#endif
