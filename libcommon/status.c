#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "revspec.h"
#include "status.h"
#include "store.h"

enum rstate { R_APPLIED, R_PENDING, R_MODIFIED };
static const char *const rstate_name[] = { "applied", "pending", "modified" };

static enum rstate state_of(const struct mig_state *st, size_t i)
{
	long k = st->rec[i];

	if (k < 0)
		return R_PENDING;
	return strcmp(st->applied.v[k].id, st->g->revs[i]->id) ? R_MODIFIED : R_APPLIED;
}

/* A tab and a porcelain field, escaped so no tab or newline in it splits a record. */
static void field(struct mig_buf *o, const char *s)
{
	mig_buf_addc(o, '\t');
	mig_buf_add_esc(o, s, strlen(s));
}

/* Text for human eyes: control characters shown escaped, never raw. */
static void text(struct mig_buf *o, const char *s)
{
	mig_buf_add_tty(o, s, strlen(s));
}

static void porcelain(struct mig_buf *o, const struct mig_ctx *ctx, const size_t *cur, size_t ncur,
		      const struct mig_problems *pr)
{
	const struct mig_state *st = &ctx->st;
	const struct mig_graph *g = st->g;
	size_t i;

	char *shown = mig_db_display_name(ctx->set->database);

	mig_buf_adds(o, "database");
	field(o, shown);
	free(shown);
	field(o, st->db_exists ? "exists" : "missing");
	mig_buf_adds(o, "\nmigrations");
	field(o, g->dir);
	mig_buf_addc(o, '\n');
	for (i = 0; i < ncur; i++) {
		mig_buf_adds(o, "current");
		field(o, g->revs[cur[i]]->name);
		mig_buf_addc(o, '\n');
	}
	for (i = 0; i < g->nr; i++) {
		const struct mig_rev *r = g->revs[g->topo[i]];

		mig_buf_adds(o, "revision");
		field(o, rstate_name[state_of(st, g->topo[i])]);
		field(o, r->name);
		field(o, r->id);
		field(o, r->path);
		mig_buf_addc(o, '\n');
	}
	for (i = 0; i < st->applied.nr; i++)
		if (st->rev[i] < 0) {
			mig_buf_adds(o, "revision\tmissing");
			field(o, st->applied.v[i].name);
			field(o, st->applied.v[i].id);
			mig_buf_adds(o, "\t-\n");
		}
	for (i = 0; i < g->nheads; i++) {
		mig_buf_adds(o, "head");
		field(o, g->revs[g->heads[i]]->name);
		mig_buf_addc(o, '\n');
	}
	for (i = 0; i < pr->nr; i++) {
		mig_buf_adds(o, "problem");
		field(o, mig_problem_name(pr->v[i].kind));
		field(o, pr->v[i].subject);
		field(o, pr->v[i].detail);
		mig_buf_addc(o, '\n');
	}
}

static void json(struct mig_buf *o, const struct mig_ctx *ctx, const size_t *cur, size_t ncur,
		 const struct mig_problems *pr, size_t npending)
{
	const struct mig_state *st = &ctx->st;
	const struct mig_graph *g = st->g;
	size_t i, j;

	char *shown = mig_db_display_name(ctx->set->database);

	mig_buf_adds(o, "{\"database\":");
	mig_buf_add_json(o, shown);
	free(shown);
	mig_buf_addf(o, ",\"exists\":%s,\"migrations\":", st->db_exists ? "true" : "false");
	mig_buf_add_json(o, g->dir);
	mig_buf_adds(o, ",\"current\":[");
	for (i = 0; i < ncur; i++) {
		if (i)
			mig_buf_addc(o, ',');
		mig_buf_add_json(o, g->revs[cur[i]]->name);
	}
	mig_buf_addf(o, "],\"applied\":%zu,\"pending\":%zu,\"total\":%zu,\"revisions\":[",
		     st->applied.nr, npending, g->nr);
	for (i = 0; i < g->nr; i++) {
		const struct mig_rev *r = g->revs[g->topo[i]];

		mig_buf_adds(o, i ? ",{\"name\":" : "{\"name\":");
		mig_buf_add_json(o, r->name);
		mig_buf_addf(o, ",\"id\":\"%s\",\"state\":\"%s\",\"path\":", r->id,
			     rstate_name[state_of(st, g->topo[i])]);
		mig_buf_add_json(o, r->path);
		mig_buf_adds(o, ",\"parents\":[");
		for (j = 0; j < r->npidx; j++) {
			if (j)
				mig_buf_addc(o, ',');
			mig_buf_add_json(o, g->revs[r->pidx[j]]->name);
		}
		mig_buf_addf(o, "],\"transaction\":%s}", r->no_transaction ? "false" : "true");
	}
	for (i = 0; i < st->applied.nr; i++)
		if (st->rev[i] < 0) {
			mig_buf_adds(o, (g->nr || i) ? ",{\"name\":" : "{\"name\":");
			mig_buf_add_json(o, st->applied.v[i].name);
			mig_buf_addf(o, ",\"id\":\"%s\",\"state\":\"missing\",\"path\":null,\"parents\":[]}",
				     st->applied.v[i].id);
		}
	mig_buf_adds(o, "],\"heads\":[");
	for (i = 0; i < g->nheads; i++) {
		if (i)
			mig_buf_addc(o, ',');
		mig_buf_add_json(o, g->revs[g->heads[i]]->name);
	}
	mig_buf_adds(o, "],\"problems\":[");
	for (i = 0; i < pr->nr; i++) {
		mig_buf_addf(o, "%s{\"kind\":\"%s\",\"subject\":", i ? "," : "",
			     mig_problem_name(pr->v[i].kind));
		mig_buf_add_json(o, pr->v[i].subject);
		mig_buf_adds(o, ",\"detail\":");
		mig_buf_add_json(o, pr->v[i].detail);
		mig_buf_addc(o, '}');
	}
	mig_buf_adds(o, "]}\n");
}

/*
 * How the live schema differs from the one recorded after the last run,
 * read back from the store: "+ " lines only live, "- " lines only
 * recorded. Both are sorted the same way, so one merge pass does it.
 */
static void drift_lines(struct mig_buf *o, const struct mig_ctx *ctx, const char *indent)
{
	const char *recorded = mig_state_recorded_hash(&ctx->st);
	struct mig_store *store = NULL;
	struct mig_buf old = MIG_BUF_INIT;
	struct mig_err err = MIG_ERR_INIT;
	const char *a, *b, *aend, *bend;

	if (!recorded || !mig_path_exists(ctx->set->store) ||
	    mig_store_open(&store, ctx->set->store, 0, &err) < 0) {
		mig_buf_addf(o, "%s(the recorded schema is not in the store: ", indent);
		text(o, err.msg[0] ? err.msg : "no store");
		mig_buf_adds(o, ")\n");
		goto out;
	}
	/* mig_store_get's message speaks of a revision body */
	if (mig_store_get(store, recorded, &old, &err) < 0) {
		mig_buf_addf(o, "%s(the recorded schema %.12s is not in the store '", indent, recorded);
		text(o, ctx->set->store);
		mig_buf_adds(o, "')\n");
		goto out;
	}
	a = old.buf ? old.buf : "";
	aend = a + old.len;
	b = ctx->schema.buf ? ctx->schema.buf : "";
	bend = b + ctx->schema.len;
	while (a < aend || b < bend) {
		const char *ae = a < aend ? memchr(a, '\n', aend - a) : NULL;
		const char *be = b < bend ? memchr(b, '\n', bend - b) : NULL;
		int c;

		if (a < aend && !ae)
			ae = aend;
		if (b < bend && !be)
			be = bend;
		if (a >= aend)
			c = 1;
		else if (b >= bend)
			c = -1;
		else {
			size_t la = ae - a, lb = be - b;

			c = memcmp(a, b, la < lb ? la : lb);
			if (!c)
				c = la < lb ? -1 : la > lb;
		}
		if (c < 0) {
			mig_buf_addf(o, "%s- ", indent);
			mig_buf_add_tty(o, a, ae - a);
			mig_buf_addc(o, '\n');
			a = ae + 1;
		} else if (c > 0) {
			mig_buf_addf(o, "%s+ ", indent);
			mig_buf_add_tty(o, b, be - b);
			mig_buf_addc(o, '\n');
			b = be + 1;
		} else {
			a = ae + 1;
			b = be + 1;
		}
	}
out:
	mig_buf_release(&old);
	mig_store_close(store);
}

static void human(struct mig_buf *o, const struct mig_ctx *ctx, const size_t *cur, size_t ncur,
		  const struct mig_problems *pr, size_t npending, int verbose, int color)
{
	const struct mig_state *st = &ctx->st;
	const struct mig_graph *g = st->g;
	const char *red = color ? "\033[31m" : "", *yellow = color ? "\033[33m" : "";
	const char *green = color ? "\033[32m" : "", *reset = color ? "\033[m" : "";
	size_t i;

	char *shown = mig_db_display_name(ctx->set->database);

	mig_buf_adds(o, "database: ");
	text(o, shown);
	free(shown);
	mig_buf_addf(o, "%s\nmigrations: ", st->db_exists ? "" : " (does not exist yet)");
	text(o, g->dir);
	mig_buf_addf(o, " (%s%s%zu revision%s)\n",
		     g->style != MIG_STYLE_MIG ? mig_layout_name(g->style) : "",
		     g->style != MIG_STYLE_MIG ? " layout, " : "", g->nr, g->nr == 1 ? "" : "s");
	mig_buf_adds(o, "current: ");
	if (!ncur)
		mig_buf_adds(o, "base (nothing applied)");
	for (i = 0; i < ncur; i++) {
		mig_buf_adds(o, i ? ", " : "");
		text(o, g->revs[cur[i]]->name);
	}
	mig_buf_addf(o, "\napplied: %zu of %zu\n", g->nr - npending, g->nr);
	if (verbose)
		for (i = 0; i < g->nr; i++) {
			const struct mig_rev *r = g->revs[g->topo[i]];
			enum rstate s = state_of(st, g->topo[i]);

			if (s == R_PENDING)
				continue;
			mig_buf_addf(o, "  %s", s == R_APPLIED ? green : red);
			text(o, r->name);
			mig_buf_addf(o, "%s  %.12s  ", reset, r->id);
			text(o, r->path);
			mig_buf_addc(o, '\n');
		}
	if (npending) {
		mig_buf_addf(o, "pending: %zu\n", npending);
		for (i = 0; i < g->nr; i++) {
			const struct mig_rev *r = g->revs[g->topo[i]];

			if (state_of(st, g->topo[i]) != R_PENDING)
				continue;
			mig_buf_addf(o, "  %s", yellow);
			text(o, r->name);
			mig_buf_adds(o, reset);
			if (verbose) {
				mig_buf_addf(o, "  %.12s  ", r->id);
				text(o, r->path);
			}
			mig_buf_addc(o, '\n');
		}
	}
	mig_buf_adds(o, g->nheads <= 1 ? "head: " : "heads: ");
	if (!g->nheads)
		mig_buf_adds(o, "none (no revisions yet)");
	for (i = 0; i < g->nheads; i++) {
		mig_buf_adds(o, i ? ", " : "");
		text(o, g->revs[g->heads[i]]->name);
	}
	mig_buf_addc(o, '\n');
	if (pr->nr) {
		mig_buf_addf(o, "%sproblems:%s\n", red, reset);
		for (i = 0; i < pr->nr; i++) {
			mig_buf_adds(o, "  ");
			text(o, pr->v[i].detail);
			mig_buf_addc(o, '\n');
			if (verbose && pr->v[i].kind == MIG_PROBLEM_DRIFT)
				drift_lines(o, ctx, "    ");
		}
	}
}

size_t mig_status(struct mig_buf *out, const struct mig_ctx *ctx, enum mig_format fmt,
		  int verbose, int color)
{
	const struct mig_state *st = &ctx->st;
	struct mig_problems pr;
	size_t *cur = NULL, ncur, npending = 0, i;

	ncur = mig_state_current(st, &cur);
	mig_state_problems(st, &pr);
	for (i = 0; i < st->g->nr; i++)
		if (!mig_state_applied(st, i))
			npending++;
	if (fmt == MIG_FMT_PORCELAIN)
		porcelain(out, ctx, cur, ncur, &pr);
	else if (fmt == MIG_FMT_JSON)
		json(out, ctx, cur, ncur, &pr, npending);
	else
		human(out, ctx, cur, ncur, &pr, npending, verbose, color);
	i = npending + pr.nr;
	mig_problems_release(&pr);
	free(cur);
	return i;
}

int mig_status_show(struct mig_buf *out, const struct mig_settings *set, enum mig_format fmt, int verbose,
		    int color, size_t *findings, struct mig_err *err)
{
	struct mig_ctx *ctx = NULL;
	int rc;

	if ((rc = mig_ctx_open(&ctx, set, MIG_CTX_READ | MIG_CTX_SCHEMA | MIG_CTX_CACHE, err)) < 0)
		return rc;
	/* a mig.conf shared by a SQLite copy and a server's database (MIG_DATABASE=dev.db) is no error */
	if (fmt == MIG_FMT_HUMAN && set->schema && set->database && !mig_db_is_url(set->database))
		mig_say(MIG_SAY_NOTE, "mig.schema is for PostgreSQL: a SQLite database keeps mig's bookkeeping in "
			"its mig_* tables");
	*findings = mig_status(out, ctx, fmt, verbose, color);
	mig_ctx_close(ctx);
	return 0;
}

/*
 * Can a shell offer this name? One with a control character would be
 * split at its newline, or shown raw in a menu, and cannot be typed.
 */
static int completable(const char *name)
{
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* What completion shows beside an applied revision: when, and what is wrong. */
static void describe_applied(struct mig_buf *b, const struct mig_state *st, size_t rec)
{
	const struct mig_applied *a = &st->applied.v[rec];
	const char *at = a->applied_at ? a->applied_at : "";

	mig_buf_reset(b);
	if (a->dirty)
		mig_buf_adds(b, "dirty, ");
	/* 2026-12-01T20:15:03.123Z: to the minute */
	mig_buf_addf(b, "applied %.10s%s%.5s", at, strlen(at) > 11 ? " " : "", strlen(at) > 11 ? at + 11 : "");
	if (st->rev[rec] < 0)
		mig_buf_adds(b, ", file missing");
	else if (!mig_state_file_as_applied(st, (long)rec))
		mig_buf_adds(b, ", edited since");
}

static void add_revision(struct mig_buf *out, const char *name, const char *desc, int described)
{
	if (described)
		mig_buf_add_candidate(out, name, desc);
	else if (completable(name))
		mig_buf_addf(out, "%s\n", name);
}

int mig_status_revisions(struct mig_buf *out, const struct mig_settings *set, int described,
			 struct mig_err *err)
{
	struct mig_buf desc = MIG_BUF_INIT;
	struct mig_ctx *ctx = NULL;
	size_t i;
	int rc;

	if ((rc = mig_ctx_open(&ctx, set, MIG_CTX_READ | MIG_CTX_CACHE, err)) == MIG_EUSAGE)
		rc = mig_ctx_open(&ctx, set, MIG_CTX_FILES, err);
	if (rc == 0) {
		const struct mig_state *st = &ctx->st;

		for (i = 0; i < st->g->nr; i++) {
			if (described && st->rec[i] >= 0)
				describe_applied(&desc, st, (size_t)st->rec[i]);
			add_revision(out, st->g->revs[i]->name, st->rec[i] >= 0 ? desc.buf : "pending", described);
		}
		for (i = 0; i < st->applied.nr; i++) {
			if (st->rev[i] >= 0)
				continue;
			if (described)
				describe_applied(&desc, st, i);
			add_revision(out, st->applied.v[i].name, desc.buf, described);
		}
		mig_ctx_close(ctx);
	}
	for (i = 0; mig_revspec_words[i].word; i++)
		add_revision(out, mig_revspec_words[i].word, mig_revspec_words[i].means, described);
	mig_buf_release(&desc);
	return rc;
}
