#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "drawgraph.h"

/*
 * The order revisions are drawn in, newest first: git's --topo-order.
 * A revision comes once all its children have; of those ready, the one
 * made ready last goes first (a stack), so a branch is drawn whole
 * before the next, and a revision's first parent comes right after it.
 */
static size_t *draw_order(const struct mig_graph *g)
{
	size_t *order = mig_xmalloc((g->nr + 1) * sizeof(size_t));
	size_t *stack = mig_xmalloc((g->nr + 1) * sizeof(size_t));
	size_t *waiting = mig_xcalloc(g->nr + 1, sizeof(size_t));
	size_t i, j, n = 0, top = 0;

	for (i = 0; i < g->nr; i++)
		for (j = 0; j < g->revs[i]->npidx; j++)
			waiting[g->revs[i]->pidx[j]]++;
	for (i = 0; i < g->nheads; i++)
		stack[top++] = g->heads[i];
	while (top) {
		const struct mig_rev *r = g->revs[order[n++] = stack[--top]];

		for (j = r->npidx; j-- > 0;)
			if (!--waiting[r->pidx[j]])
				stack[top++] = r->pidx[j];
	}
	free(stack);
	free(waiting);
	return order;
}

/* The words for revision i's state, ", " between them. */
static void state_words(struct mig_buf *b, const struct mig_state *st, size_t i)
{
	long k = st->rec[i];

	if (k < 0) {
		mig_buf_adds(b, "pending");
		return;
	}
	mig_buf_adds(b, st->applied.v[k].dirty ? "dirty" : "applied");
	if (strcmp(st->applied.v[k].id, st->g->revs[i]->id))
		mig_buf_adds(b, ", edited");
}

/*
 * The lines of the graph between two revisions' rows: each line k goes
 * from column cur[k] to column to[k], one column a row ('/' left, '\'
 * right, '|' straight down), until every line is where it goes. Lines
 * keep their order but for those that join (the same revision waited
 * for in two columns), so no two cross.
 */
static void move_lines(struct mig_buf *out, size_t *cur, const size_t *to, size_t n)
{
	struct mig_buf row = MIG_BUF_INIT;
	size_t k, moving;

	for (;;) {
		for (k = 0, moving = 0; k < n; k++)
			moving += cur[k] != to[k];
		if (!moving)
			break;
		mig_buf_reset(&row);
		for (k = 0; k < n; k++) {
			size_t at = 2 * cur[k];
			char ch = '|';

			if (cur[k] < to[k])
				at = 2 * cur[k]++ + 1, ch = '\\';
			else if (cur[k] > to[k])
				at = 2 * cur[k]-- - 1, ch = '/';
			while (row.len <= at)
				mig_buf_addc(&row, ' ');
			row.buf[at] = ch;
		}
		mig_buf_add(out, row.buf, row.len);
		mig_buf_addc(out, '\n');
	}
	mig_buf_release(&row);
}

/*
 * The graph's columns: which revision each waits for. Each step moves
 * the lines from the old columns to the new, given for each old column
 * (and, for the revision just drawn, for each of its parents) where it
 * goes.
 */
struct columns {
	size_t *v, nr, alloc;
	size_t *cur, *to, lines_alloc;	/* scratch for move_lines */
};

static void add_line(struct columns *c, size_t *n, size_t from, size_t to)
{
	MIG_GROW(c->cur, *n + 1, c->lines_alloc);
	c->to = mig_xrealloc(c->to, c->lines_alloc * sizeof(size_t));
	c->cur[*n] = from;
	c->to[(*n)++] = to;
}

/* Several columns wait for x: join them into the first before x's row. */
static size_t join(struct mig_buf *out, struct columns *c, size_t x)
{
	size_t i, n = 0, kept = 0, first = (size_t)-1;

	for (i = 0; i < c->nr; i++) {
		if (c->v[i] == x && first != (size_t)-1) {
			add_line(c, &n, i, first);
			continue;
		}
		if (c->v[i] == x)
			first = kept;
		add_line(c, &n, i, kept);
		c->v[kept++] = c->v[i];
	}
	c->nr = kept;
	move_lines(out, c->cur, c->to, n);
	return first;
}

/* After x's row: column at waits for x's parents instead of x. */
static void fork_parents(struct mig_buf *out, struct columns *c, size_t at, const struct mig_rev *r)
{
	size_t i, n = 0, np = r->npidx, old = c->nr;

	for (i = 0; i < old; i++)
		if (i < at)
			add_line(c, &n, i, i);
		else if (i > at)
			add_line(c, &n, i, i + np - 1);
	for (i = 0; i < np; i++)
		add_line(c, &n, at, at + i);
	MIG_GROW(c->v, old + np, c->alloc);
	memmove(c->v + at + np, c->v + at + 1, (old - at - 1) * sizeof(size_t));
	if (np)		/* a root's pidx may be NULL */
		memcpy(c->v + at, r->pidx, np * sizeof(size_t));
	c->nr = old + np - 1;
	move_lines(out, c->cur, c->to, n);
}

void mig_drawgraph_text(struct mig_buf *out, const struct mig_state *st)
{
	const struct mig_graph *g = st->g;
	struct columns c = { 0 };
	size_t *order = draw_order(g), i, k, at, width;

	for (k = 0; k < g->nr; k++) {
		size_t x = order[k];
		const struct mig_rev *r = g->revs[x];
		int is_head = !r->nchildren;

		if (!c.nr && k)
			mig_buf_addc(out, '\n');	/* nothing of what follows is drawn above */
		for (at = 0; at < c.nr && c.v[at] != x; at++)
			;
		if (at == c.nr) {
			MIG_GROW(c.v, c.nr + 1, c.alloc);
			c.v[c.nr++] = x;
		} else {
			at = join(out, &c, x);
		}
		/* the name after the widest of this row and the next */
		width = c.nr > c.nr + r->npidx - 1 ? c.nr : c.nr + r->npidx - 1;
		for (i = 0; i < width; i++)
			mig_buf_adds(out, i == at ? "* " : i < c.nr ? "| " : "  ");
		mig_buf_add_tty(out, r->name, strlen(r->name));
		mig_buf_adds(out, "  ");
		state_words(out, st, x);
		if (is_head)
			mig_buf_adds(out, " (head)");
		mig_buf_addc(out, '\n');
		fork_parents(out, &c, at, r);
	}
	/* where they were in the graph is not known: apart, newest first */
	for (i = st->applied.nr, k = g->nr; i-- > 0;) {
		const char *name = st->applied.v[i].name;

		if (st->rev[i] >= 0)
			continue;
		if (k)
			mig_buf_addc(out, '\n');
		k = 0;
		mig_buf_adds(out, "* ");
		mig_buf_add_tty(out, name, strlen(name));
		mig_buf_adds(out, st->applied.v[i].dirty ? "  dirty, file missing\n" : "  applied, file missing\n");
	}
	free(c.v);
	free(c.cur);
	free(c.to);
	free(order);
}

/*
 * A name as a Graphviz string: escaped as in porcelain, quotes escaped,
 * and never ending in a backslash, which Graphviz would read as
 * escaping the closing quote.
 */
static void dot_string(struct mig_buf *out, const char *s)
{
	struct mig_buf e = MIG_BUF_INIT;
	size_t i;

	mig_buf_add_esc(&e, s, strlen(s));
	mig_buf_addc(out, '"');
	for (i = 0; i < e.len; i++) {
		if (e.buf[i] == '"')
			mig_buf_addc(out, '\\');
		mig_buf_addc(out, e.buf[i]);
	}
	if (e.len && e.buf[e.len - 1] == '\\')
		mig_buf_addc(out, ' ');
	mig_buf_addc(out, '"');
	mig_buf_release(&e);
}

static void dot_node(struct mig_buf *out, const char *name, const char *state, const char *attrs)
{
	struct mig_buf label = MIG_BUF_INIT;

	mig_buf_addc(out, '\t');
	dot_string(out, name);
	mig_buf_adds(out, " [label=");
	mig_buf_adds(&label, name);
	mig_buf_addc(&label, '\n');
	mig_buf_adds(&label, state);
	dot_string(out, label.buf);
	mig_buf_addf(out, "%s];\n", attrs);
	mig_buf_release(&label);
}

void mig_drawgraph_dot(struct mig_buf *out, const struct mig_state *st)
{
	const struct mig_graph *g = st->g;
	struct mig_buf state = MIG_BUF_INIT;
	size_t *order = draw_order(g), i, j;

	mig_buf_adds(out, "digraph mig {\n\tnode [shape=box, style=\"rounded,filled\", fillcolor=white];\n");
	for (i = 0; i < g->nr; i++) {
		size_t x = order[i];
		long k = st->rec[x];
		int head = !g->revs[x]->nchildren;
		const char *fill = k < 0 ? "" :
			st->applied.v[k].dirty || strcmp(st->applied.v[k].id, g->revs[x]->id) ?
			", fillcolor=lightsalmon" : ", fillcolor=palegreen";
		char *attrs = mig_xasprintf("%s%s", fill, head ? ", peripheries=2" : "");

		mig_buf_reset(&state);
		state_words(&state, st, x);
		if (head)
			mig_buf_adds(&state, " (head)");
		dot_node(out, g->revs[x]->name, state.buf, attrs);
		free(attrs);
	}
	for (i = st->applied.nr; i-- > 0;)
		if (st->rev[i] < 0)
			dot_node(out, st->applied.v[i].name, st->applied.v[i].dirty ? "dirty, file missing" :
				 "applied, file missing", ", style=\"rounded,dashed\"");
	for (i = 0; i < g->nr; i++) {
		const struct mig_rev *r = g->revs[order[i]];

		for (j = 0; j < r->npidx; j++) {
			mig_buf_addc(out, '\t');
			dot_string(out, r->name);
			mig_buf_adds(out, " -> ");
			dot_string(out, g->revs[r->pidx[j]]->name);
			mig_buf_adds(out, ";\n");
		}
	}
	mig_buf_adds(out, "}\n");
	mig_buf_release(&state);
	free(order);
}

int mig_drawgraph_show(struct mig_buf *out, const struct mig_settings *set, int dot, size_t *findings,
		       struct mig_err *err)
{
	struct mig_problems pr;
	struct mig_ctx *ctx = NULL;
	size_t i;
	int rc;

	if ((rc = mig_ctx_open(&ctx, set, MIG_CTX_READ | MIG_CTX_SCHEMA | MIG_CTX_CACHE, err)) < 0)
		return rc;
	if (dot)
		mig_drawgraph_dot(out, &ctx->st);
	else
		mig_drawgraph_text(out, &ctx->st);
	mig_state_problems(&ctx->st, &pr);
	*findings = pr.nr;
	for (i = 0; i < ctx->st.g->nr; i++)
		*findings += !mig_state_applied(&ctx->st, i);
	mig_problems_release(&pr);
	mig_ctx_close(ctx);
	return 0;
}
