#ifndef MIG_APPLY_H
#define MIG_APPLY_H

#include <stdio.h>
#include "ctx.h"
#include "err.h"
#include "revfile.h"
#include "run.h"
#include "store.h"

/*
 * Apply what spec (NULL: the single head) needs, parents first, each
 * revision and its bookkeeping row in one transaction. Nothing to do
 * touches nothing. Refuses (MIG_EUNSAFE) on a dirty database, an applied
 * revision modified since, several heads without a target, or a revision
 * out of order. A failing revision is MIG_ESQL, rolled back.
 */
int mig_up(const struct mig_settings *set, const char *spec, const struct mig_run_opts *o, struct mig_err *err);

/*
 * Revert what was applied after spec (NULL: "-1"), newest first, with the
 * down sections as they were applied (from the store).
 */
int mig_down(const struct mig_settings *set, const char *spec, const struct mig_run_opts *o,
	     struct mig_err *err);

/*
 * The pending revisions spec (NULL: the single head) needs, as graph
 * indexes in the order up applies them, with up's refusals.
 */
int mig_plan_up(const struct mig_state *st, const char *spec, int out_of_order,
		size_t **plan, size_t *n, struct mig_err *err);

/* The applied records down to spec (NULL: "-1") reverts, newest first. */
int mig_plan_down(const struct mig_state *st, const char *spec, long **recs, size_t *n,
		  struct mig_err *err);

/*
 * Applied record rec as it was applied (from the store), or as its file
 * is now (from_files). store may be NULL when from_files is set.
 */
int mig_body_of(struct mig_rev **out, const struct mig_state *st, long rec, struct mig_store *store,
		int from_files, struct mig_err *err);

/*
 * Revert spec's revision and every applied revision descending from it,
 * newest first, with their bodies as applied; then apply them again
 * from their files: one run, one snapshot, one journal entry.
 */
int mig_redo(const struct mig_settings *set, const char *spec, const struct mig_run_opts *o, struct mig_err *err);

enum mig_fake_kind {
	MIG_FAKE_APPLY,			/* record pending revisions up to arg as applied */
	MIG_FAKE_UNAPPLY,		/* record those applied after arg as not applied */
	MIG_FAKE_RESOLVE_APPLIED,	/* a dirty revision did take effect */
	MIG_FAKE_RESOLVE_ROLLED_BACK,	/* a dirty revision did not take effect */
	MIG_FAKE_REHASH,		/* accept the edited file of applied revision arg */
	MIG_FAKE_ADOPT,			/* record what another tool's bookkeeping says is applied */
};

/*
 * Change what the database records without running any SQL, in one
 * transaction, journaled. Nothing to do is no error.
 */
int mig_fake(const struct mig_settings *set, enum mig_fake_kind kind, const char *arg,
	     const struct mig_run_opts *o, struct mig_err *err);

#endif
