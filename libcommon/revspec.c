#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "revspec.h"
#include "util.h"

static int set_rev(struct mig_target *t, const struct mig_state *st, long rev, long rec)
{
	t->kind = MIG_TARGET_REV;
	t->rev = rev;
	t->rec = rev >= 0 ? st->rec[rev] : rec;
	t->name = rev >= 0 ? st->g->revs[rev]->name : st->applied.v[rec].name;
	return 0;
}

static int names_of(struct mig_buf *b, const struct mig_state *st, const size_t *idx, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mig_buf_addf(b, "%s%s", i ? ", " : "", st->g->revs[idx[i]]->name);
	return 0;
}

static int is_hex(const char *s)
{
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int parse_count(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return *s && isdigit((unsigned char)*s) && !*end && !errno && *out > 0;
}

static int relative(struct mig_target *t, const struct mig_state *st, const char *spec,
		    struct mig_err *err)
{
	const struct mig_graph *g = st->g;
	long n, i;

	if (!parse_count(spec + 1, &n))
		return mig_err_set(err, MIG_EUSAGE, "bad revision '%s': expected -N or +N, N at least 1", spec);
	if (spec[0] == '-') {
		long k = (long)st->applied.nr - 1 - n;

		if (k < -1)
			return mig_err_set(err, MIG_EUSAGE, "revision '%s' goes back past base: %zu applied",
					   spec, st->applied.nr);
		if (k == -1) {
			t->kind = MIG_TARGET_BASE;
			t->rev = t->rec = -1;
			t->name = "base";
			return 0;
		}
		return set_rev(t, st, st->rev[k], k);
	}
	for (i = 0; i < (long)g->nr; i++) {
		size_t x = g->topo[i];

		if (!mig_state_applied(st, x) && !--n)
			return set_rev(t, st, (long)x, -1);
	}
	return mig_err_set(err, MIG_EUSAGE, "revision '%s' goes past the last pending revision", spec);
}

static int by_name(struct mig_target *t, const struct mig_state *st, const char *spec,
		   struct mig_err *err)
{
	const struct mig_graph *g = st->g;
	size_t speclen = strlen(spec), i, nc = 0, best = (size_t)-1;
	long *cand = mig_xmalloc((g->nr + st->applied.nr + 1) * sizeof(long));
	int idprefix = speclen >= 4 && is_hex(spec);
	long k = mig_graph_find(g, spec);
	struct mig_buf b = MIG_BUF_INIT;
	const char *nearest = NULL;
	int rc;

	if (k >= 0) {
		free(cand);
		return set_rev(t, st, k, -1);
	}
	/* candidates: graph revisions (positive), applied records without a file (-1 - rec) */
	for (i = 0; i < g->nr; i++)
		if (!strncmp(g->revs[i]->name, spec, speclen) ||
		    (idprefix && !strncasecmp(g->revs[i]->id, spec, speclen)))
			cand[nc++] = (long)i;
	for (i = 0; i < st->applied.nr; i++)
		if (st->rev[i] < 0 && (!strcmp(st->applied.v[i].name, spec) ||
				       !strncmp(st->applied.v[i].name, spec, speclen) ||
				       (idprefix && !strncasecmp(st->applied.v[i].id, spec, speclen))))
			cand[nc++] = -1 - (long)i;
	if (nc == 1) {
		rc = cand[0] >= 0 ? set_rev(t, st, cand[0], -1) : set_rev(t, st, -1, -1 - cand[0]);
		goto out;
	}
	if (nc > 1) {
		for (i = 0; i < nc && i < 10; i++)
			mig_buf_addf(&b, "%s%s", i ? ", " : "",
				     cand[i] >= 0 ? g->revs[cand[i]]->name : st->applied.v[-1 - cand[i]].name);
		if (nc > 10)
			mig_buf_addf(&b, " and %zu more", nc - 10);
		rc = mig_err_set(err, MIG_EUSAGE, "revision '%s' is ambiguous: %s", spec, b.buf);
		goto out;
	}
	for (i = 0; i < g->nr; i++) {
		size_t d = mig_edit_distance(spec, g->revs[i]->name);

		if (d < best) {
			best = d;
			nearest = g->revs[i]->name;
		}
	}
	rc = mig_err_set(err, MIG_EUSAGE, "unknown revision '%s'", spec);
	if (nearest && best <= (speclen + 2) / 3)
		mig_err_hint(err, "did you mean '%s'?", nearest);
	else
		mig_err_hint(err, "name a revision, a unique prefix of a name or id, head, heads, base, current, -N or +N");
out:
	mig_buf_release(&b);
	free(cand);
	return rc;
}

const struct mig_revspec_word mig_revspec_words[] = {
	{ "head", "the single head" },
	{ "heads", "every head" },
	{ "base", "nothing applied" },
	{ "current", "the applied head" },
	{ "-1", "one back from current" },
	{ "+1", "one forward from current" },
	{ NULL, NULL },
};

int mig_revspec(struct mig_target *t, const struct mig_state *st, const char *spec,
		struct mig_err *err)
{
	const struct mig_graph *g = st->g;
	struct mig_buf b = MIG_BUF_INIT;
	size_t *cur = NULL, n;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	t->rev = t->rec = -1;
	if (!*spec)
		return mig_err_set(err, MIG_EUSAGE, "empty revision");
	if (!strcmp(spec, "base")) {
		t->kind = MIG_TARGET_BASE;
		t->name = "base";
		return 0;
	}
	if (!strcmp(spec, "heads")) {
		t->kind = MIG_TARGET_HEADS;
		t->name = "heads";
		return 0;
	}
	if (!strcmp(spec, "head")) {
		if (g->nheads == 1)
			return set_rev(t, st, (long)g->heads[0], -1);
		if (!g->nheads)
			return mig_err_set(err, MIG_EUSAGE, "no revisions in '%s': 'head' names nothing", g->dir);
		names_of(&b, st, g->heads, g->nheads);
		rc = mig_err_set(err, MIG_EUSAGE, "'head' is ambiguous: %zu heads: %s", g->nheads, b.buf);
		mig_err_hint(err, "name one, use 'heads', or merge them with 'mig merge'");
		mig_buf_release(&b);
		return rc;
	}
	if (!strcmp(spec, "current")) {
		n = mig_state_current(st, &cur);
		if (n == 1) {
			rc = set_rev(t, st, (long)cur[0], -1);
		} else if (n == 0 && st->applied.nr) {
			/* only records without files: the newest applied */
			rc = set_rev(t, st, st->rev[st->applied.nr - 1], (long)st->applied.nr - 1);
		} else if (n == 0) {
			t->kind = MIG_TARGET_BASE;
			t->name = "base";
		} else {
			names_of(&b, st, cur, n);
			rc = mig_err_set(err, MIG_EUSAGE, "'current' is ambiguous: %zu applied heads: %s", n, b.buf);
			mig_buf_release(&b);
		}
		free(cur);
		return rc;
	}
	if ((spec[0] == '-' || spec[0] == '+') && spec[1] && isdigit((unsigned char)spec[1]))
		return relative(t, st, spec, err);
	return by_name(t, st, spec, err);
}
