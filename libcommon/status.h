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

/*
 * mig status: the state of the database set names, into out; *findings
 * gets what --check counts.
 */
int mig_status_show(struct mig_buf *out, const struct mig_settings *set, enum mig_format fmt, int verbose,
		    int color, size_t *findings, struct mig_err *err);

/*
 * For completion: the revision names, one per line, from the files, and
 * those applied whose files are gone when there is a database to ask;
 * not those a shell cannot offer.
 */
int mig_status_revisions(struct mig_buf *out, const struct mig_settings *set, struct mig_err *err);

#endif
