#ifndef MIG_APPLY_H
#define MIG_APPLY_H

#include <stdio.h>
#include "ctx.h"
#include "err.h"

struct mig_run_opts {
	int out_of_order;	/* up: allow a revision whose descendants are applied */
	int from_files;		/* down: take down sections from the files, not the store */
	int lock_timeout;	/* ms, or -1 for the setting */
	int dry_run;		/* run it all in one transaction and roll it back */
	FILE *progress;		/* one line per revision, or NULL */
};

/*
 * Apply what spec (NULL: the single head) needs, parents first, each
 * revision and its bookkeeping row in one transaction. Nothing to do
 * touches nothing. Refuses (MIG_EUNSAFE) on a dirty database, an applied
 * revision modified since, several heads without a target, or a revision
 * out of order. A failing revision is MIG_ESQL, rolled back.
 */
int mig_up(const char *spec, const struct mig_run_opts *o, struct mig_err *err);

/*
 * Revert what was applied after spec (NULL: "-1"), newest first, with the
 * down sections as they were applied (from the store).
 */
int mig_down(const char *spec, const struct mig_run_opts *o, struct mig_err *err);

#endif
