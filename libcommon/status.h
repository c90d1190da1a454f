#ifndef MIG_STATUS_H
#define MIG_STATUS_H

#include "ctx.h"
#include "util.h"

enum mig_format { MIG_FMT_HUMAN, MIG_FMT_PORCELAIN, MIG_FMT_JSON };

/*
 * Describe the context's state into out in the given format. Returns the
 * number of findings --check counts: pending revisions and problems.
 */
size_t mig_status(struct mig_buf *out, const struct mig_ctx *ctx, enum mig_format fmt,
		  int verbose, int color);

#endif
