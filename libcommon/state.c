#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "state.h"
#include "util.h"

void mig_state_init(struct mig_state *st, struct mig_graph *g, struct mig_applied_list *applied,
		    int db_exists)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	st->g = g;
	st->applied = *applied;
	applied->v = NULL;
	applied->nr = 0;
	st->db_exists = db_exists;
	st->rec = mig_xmalloc((g->nr + 1) * sizeof(long));
	st->rev = mig_xmalloc((st->applied.nr + 1) * sizeof(long));
	for (i = 0; i < g->nr; i++)
		st->rec[i] = -1;
	for (i = 0; i < st->applied.nr; i++) {
		long k = mig_graph_find(g, st->applied.v[i].name);

		st->rev[i] = k;
		if (k >= 0)
			st->rec[k] = (long)i;
	}
}

void mig_state_release(struct mig_state *st)
{
	mig_graph_free(st->g);
	mig_applied_list_release(&st->applied);
	free(st->rec);
	free(st->rev);
	free(st->drift);
	memset(st, 0, sizeof(*st));
}

int mig_state_file_as_applied(const struct mig_state *st, long rec)
{
	return st->rev[rec] >= 0 && !strcmp(st->g->revs[st->rev[rec]]->id, st->applied.v[rec].id);
}

int mig_state_applied(const struct mig_state *st, size_t idx)
{
	return st->rec[idx] >= 0;
}

size_t mig_state_current(const struct mig_state *st, size_t **out)
{
	const struct mig_graph *g = st->g;
	unsigned char *has_applied_child = mig_xcalloc(g->nr + 1, 1);
	size_t i, j, n = 0;

	*out = mig_xmalloc((g->nr + 1) * sizeof(size_t));
	for (i = 0; i < g->nr; i++)
		if (mig_state_applied(st, i))
			for (j = 0; j < g->revs[i]->npidx; j++)
				has_applied_child[g->revs[i]->pidx[j]] = 1;
	for (i = 0; i < g->nr; i++)
		if (mig_state_applied(st, i) && !has_applied_child[i])
			(*out)[n++] = i;
	free(has_applied_child);
	return n;
}

static void add(struct mig_problems *p, size_t *alloc, enum mig_problem_kind kind,
		char *subject, char *detail)
{
	MIG_GROW(p->v, p->nr + 1, *alloc);
	p->v[p->nr].kind = kind;
	p->v[p->nr].subject = subject;
	p->v[p->nr].detail = detail;
	p->nr++;
}

void mig_state_problems(const struct mig_state *st, struct mig_problems *out)
{
	const struct mig_graph *g = st->g;
	unsigned char *pending_below = mig_xcalloc(g->nr + 1, 1);
	size_t alloc = 0, i, j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < st->applied.nr; i++) {
		const struct mig_applied *a = &st->applied.v[i];

		if (a->dirty)
			add(out, &alloc, MIG_PROBLEM_DIRTY, mig_xstrdup(a->name),
			    mig_xasprintf("%s did not finish: the database is dirty", a->name));
		if (st->rev[i] < 0)
			add(out, &alloc, MIG_PROBLEM_MISSING, mig_xstrdup(a->name),
			    mig_xasprintf("%s is applied but its file is missing (applied id %.12s)",
					  a->name, a->id));
		else if (strcmp(a->id, g->revs[st->rev[i]]->id))
			add(out, &alloc, MIG_PROBLEM_MODIFIED, mig_xstrdup(a->name),
			    mig_xasprintf("%s was modified after it was applied (applied %.12s, file %.12s)",
					  a->name, a->id, g->revs[st->rev[i]]->id));
	}
	/* an applied revision with a pending ancestor was applied out of order */
	for (i = 0; i < g->nr; i++) {
		size_t x = g->topo[i];
		const struct mig_rev *r = g->revs[x];

		for (j = 0; j < r->npidx; j++)
			if (pending_below[r->pidx[j]] || !mig_state_applied(st, r->pidx[j]))
				pending_below[x] = 1;
		if (pending_below[x] && mig_state_applied(st, x))
			add(out, &alloc, MIG_PROBLEM_OUT_OF_ORDER, mig_xstrdup(r->name),
			    mig_xasprintf("%s is applied but an ancestor of it is pending", r->name));
		if (r->unrunnable && !mig_state_applied(st, x))
			add(out, &alloc, MIG_PROBLEM_UNRUNNABLE, mig_xstrdup(r->name),
			    mig_xasprintf("%s is a %s Go migration (%s): mig cannot run it", r->name,
					  mig_layout_name(r->style), r->path));
	}
	if (g->nheads > 1) {
		struct mig_buf b = MIG_BUF_INIT;

		for (i = 0; i < g->nheads; i++)
			mig_buf_addf(&b, "%s%s", i ? " " : "", g->revs[g->heads[i]]->name);
		add(out, &alloc, MIG_PROBLEM_HEADS, mig_buf_detach(&b),
		    mig_xasprintf("%zu heads: merge them with 'mig merge'", g->nheads));
	}
	if (st->live_hash[0] && mig_state_recorded_hash(st) &&
	    strcmp(st->live_hash, mig_state_recorded_hash(st))) {
		const struct mig_applied *a = &st->applied.v[st->applied.nr - 1];

		add(out, &alloc, MIG_PROBLEM_DRIFT, mig_xstrdup(a->name),
		    mig_xasprintf("the schema differs from the one recorded after %s%s%s (schema %.12s, recorded %.12s)",
				  a->name, st->drift ? ": " : "", st->drift ? st->drift : "", st->live_hash,
				  a->schema_hash));
	}
	free(pending_below);
}

const char *mig_state_recorded_hash(const struct mig_state *st)
{
	return st->applied.nr ? st->applied.v[st->applied.nr - 1].schema_hash : NULL;
}

void mig_problems_release(struct mig_problems *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++) {
		free(p->v[i].subject);
		free(p->v[i].detail);
	}
	free(p->v);
	p->v = NULL;
	p->nr = 0;
}

const char *mig_problem_name(enum mig_problem_kind k)
{
	static const char *const names[] = {
		[MIG_PROBLEM_DIRTY] = "dirty",
		[MIG_PROBLEM_MODIFIED] = "modified",
		[MIG_PROBLEM_MISSING] = "missing",
		[MIG_PROBLEM_OUT_OF_ORDER] = "out-of-order",
		[MIG_PROBLEM_HEADS] = "multiple-heads",
		[MIG_PROBLEM_DRIFT] = "drift",
		[MIG_PROBLEM_UNRUNNABLE] = "cannot-run",
	};
	return names[k];
}
