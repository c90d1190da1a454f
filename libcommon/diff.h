#ifndef MIG_DIFF_H
#define MIG_DIFF_H
#include "config.h"
#include "err.h"
#include "util.h"

/*
 * mig diff: how the file of an applied revision differs from its body
 * as applied (from the store), as a unified diff into out; spec NULL:
 * every applied revision whose file was edited since. A revision not
 * applied, or whose file is gone, is MIG_EUSAGE.
 */
int mig_diff(struct mig_buf *out, const struct mig_settings *set, const char *spec, struct mig_err *err);

#endif
