#ifndef MIG_STATE_H
#define MIG_STATE_H

#include <stddef.h>
#include "db.h"
#include "err.h"
#include "graph.h"

/*
 * The revision files set against what the database says is applied: which
 * revisions are applied, pending, modified since they were applied, or
 * applied with their file gone, and what is wrong.
 */
struct mig_state {
	struct mig_graph *g;
	struct mig_applied_list applied;	/* in apply order */
	long *rec;		/* per revision: index into applied, or -1 */
	long *rev;		/* per applied record: index into g->revs, or -1 */
	int db_exists;
	char live_hash[41];	/* the live schema's hash, or "" when not known */
	char *drift;		/* how it differs from the recorded one (drift.h), or NULL */
};

enum mig_problem_kind {
	MIG_PROBLEM_DIRTY,
	MIG_PROBLEM_MODIFIED,
	MIG_PROBLEM_MISSING,
	MIG_PROBLEM_OUT_OF_ORDER,
	MIG_PROBLEM_HEADS,
	MIG_PROBLEM_DRIFT,
	MIG_PROBLEM_UNRUNNABLE,	/* pending, and mig cannot run it (a goose Go migration) */
};

struct mig_problem {
	enum mig_problem_kind kind;
	char *subject;		/* the revision (or heads, space separated) */
	char *detail;		/* one line for people */
};

struct mig_problems {
	struct mig_problem *v;
	size_t nr;
};

/* Take ownership of g and applied (applied is emptied). */
void mig_state_init(struct mig_state *st, struct mig_graph *g, struct mig_applied_list *applied,
		    int db_exists);
void mig_state_release(struct mig_state *st);

/* The schema hash recorded after the last run, or NULL. */
const char *mig_state_recorded_hash(const struct mig_state *st);

/*
 * Does applied record rec's file hold the body as it was applied (it
 * exists and its id is the recorded one)? Then no store is needed to
 * read that body.
 */
int mig_state_file_as_applied(const struct mig_state *st, long rec);

/* Is revision idx applied (its record exists, whatever its id)? */
int mig_state_applied(const struct mig_state *st, size_t idx);

/* The applied revisions none of whose children are applied, in name order. */
size_t mig_state_current(const struct mig_state *st, size_t **out);

/* Everything status reports as a problem; the caller releases it. */
void mig_state_problems(const struct mig_state *st, struct mig_problems *out);
void mig_problems_release(struct mig_problems *p);

/* The stable word for a problem kind, as in --porcelain. */
const char *mig_problem_name(enum mig_problem_kind k);

#endif
