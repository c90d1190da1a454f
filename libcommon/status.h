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
 * those applied whose files are gone when there is a database to ask,
 * then the words a spec may be (head, base, -1, ...); not the names a
 * shell cannot offer. Described, every name is a candidate (util.h's
 * mig_buf_add_candidate), escaped, none left out, with its state
 * ("pending", "applied 2026-12-01 20:15", "edited since", "file
 * missing", "dirty") or what the word means. The words are in out even
 * when the project cannot be read.
 */
int mig_status_revisions(struct mig_buf *out, const struct mig_settings *set, int described,
			 struct mig_err *err);

#endif
