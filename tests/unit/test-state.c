/*
 * A state built in memory, files against applied records: what up and
 * down would do (mig_plan_up, mig_plan_down) and what status reports as
 * wrong (mig_state_problems), with no database and no store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apply.h"
#include "state.h"
#include "util.h"

/* 0001_a <- 0002_b <- 0003_c, and 0003_d beside 0003_c when four are taken */
static const struct mig_memfile files[] = {
	{ "0001_a", "-- mig:parents\nCREATE TABLE a(x);\n" },
	{ "0002_b", "-- mig:parents 0001_a\nCREATE TABLE b(x);\n" },
	{ "0003_c", "-- mig:parents 0002_b\nCREATE TABLE c(x);\n" },
	{ "0003_d", "-- mig:parents 0002_b\nCREATE TABLE d(x);\n" },
};

/*
 * The state of the first nfiles files with these revisions applied, in
 * this order. A name may start with '!' (dirty) or '~' (edited since:
 * another id is recorded); a name with no file is recorded with a made-up
 * id. Each record's schema hash is "h" and its index.
 */
static void build(struct mig_state *st, size_t nfiles, const char *const *applied, size_t napplied)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_graph *g = NULL;
	struct mig_applied_list l = { NULL, 0 };
	size_t i;

	if (mig_graph_load_mem(&g, files, nfiles, &err) < 0)
		fail_msg("%s", err.msg);
	l.v = mig_xcalloc(napplied + 1, sizeof(*l.v));
	for (i = 0; i < napplied; i++) {
		const char *name = applied[i];
		struct mig_applied *a = &l.v[l.nr++];
		long k;

		a->dirty = *name == '!';
		if (*name == '!' || *name == '~')
			name++;
		a->name = mig_xstrdup(name);
		k = mig_graph_find(g, name);
		if (k >= 0 && applied[i][0] != '~')
			memcpy(a->id, g->revs[k]->id, sizeof(a->id));
		else
			memcpy(a->id, "0123456789abcdef0123456789abcdef01234567", sizeof(a->id));
		a->applied_at = mig_xstrdup("2026-12-01 12:00:00");
		a->schema_hash = mig_xasprintf("h%zu", i);
		a->seq = (long long)i + 1;
	}
	mig_state_init(st, g, &l, 1);
}

/* The plan's revisions by name, blank separated. */
static char *up_names(const struct mig_state *st, const size_t *plan, size_t n)
{
	struct mig_buf b = MIG_BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++)
		mig_buf_addf(&b, "%s%s", i ? " " : "", st->g->revs[plan[i]]->name);
	return mig_buf_detach(&b);
}

static char *down_names(const struct mig_state *st, const long *recs, size_t n)
{
	struct mig_buf b = MIG_BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++)
		mig_buf_addf(&b, "%s%s", i ? " " : "", st->applied.v[recs[i]].name);
	return mig_buf_detach(&b);
}

/* plan up on nfiles files with applied: rc, and the plan's names or err's message */
static void expect_up(size_t nfiles, const char *const *applied, size_t napplied, const char *spec,
		      int out_of_order, int rc, const char *what)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_state st;
	size_t *plan = NULL, n = 99;
	char *names;

	build(&st, nfiles, applied, napplied);
	assert_int_equal(mig_plan_up(&st, spec, out_of_order, &plan, &n, &err), rc);
	assert_int_equal(err.code, rc);
	if (rc == 0) {
		names = up_names(&st, plan, n);
		assert_string_equal(names, what);
		free(names);
	} else {
		assert_string_equal(err.msg, what);
	}
	free(plan);
	mig_state_release(&st);
}

static void expect_down(size_t nfiles, const char *const *applied, size_t napplied, const char *spec,
			int rc, const char *what)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_state st;
	long *recs = NULL;
	size_t n = 99;
	char *names;

	build(&st, nfiles, applied, napplied);
	assert_int_equal(mig_plan_down(&st, spec, &recs, &n, &err), rc);
	assert_int_equal(err.code, rc);
	if (rc == 0) {
		names = down_names(&st, recs, n);
		assert_string_equal(names, what);
		free(names);
	} else {
		assert_string_equal(err.msg, what);
	}
	free(recs);
	mig_state_release(&st);
}

static void test_up_applies_parents_first_up_to_the_target(void **state)
{
	const char *ab[] = { "0001_a", "0002_b" }, *abc[] = { "0001_a", "0002_b", "0003_c" };

	(void)state;
	expect_up(3, NULL, 0, NULL, 0, 0, "0001_a 0002_b 0003_c");
	expect_up(3, NULL, 0, "0002", 0, 0, "0001_a 0002_b");
	expect_up(3, NULL, 0, "0001_a", 0, 0, "0001_a");
	expect_up(3, ab, 2, NULL, 0, 0, "0003_c");
	expect_up(3, ab, 2, "base", 0, 0, "");
	/* nothing to do is no error */
	expect_up(3, abc, 3, NULL, 0, 0, "");
	expect_up(3, abc, 3, "head", 0, 0, "");
	expect_up(0, NULL, 0, NULL, 0, 0, "");
}

static void test_up_with_two_heads_needs_a_target(void **state)
{
	const char *ab[] = { "0001_a", "0002_b" };

	(void)state;
	expect_up(4, ab, 2, NULL, 0, MIG_EUNSAFE, "2 heads: 0003_c, 0003_d");
	expect_up(4, ab, 2, "heads", 0, 0, "0003_c 0003_d");
	expect_up(4, NULL, 0, "0003_d", 0, 0, "0001_a 0002_b 0003_d");
	expect_up(4, NULL, 0, "head", 0, MIG_EUSAGE, "'head' is ambiguous: 2 heads: 0003_c, 0003_d");
}

static void test_up_refuses_out_of_order_unless_asked(void **state)
{
	const char *ac[] = { "0001_a", "0003_c" };

	(void)state;
	expect_up(3, ac, 2, NULL, 0, MIG_EUNSAFE, "0002_b is pending but revisions after it are applied");
	expect_up(3, ac, 2, NULL, 1, 0, "0002_b");
}

static void test_up_refuses_a_dirty_or_edited_database(void **state)
{
	const char *dirty[] = { "0001_a", "!0002_b" }, *edited[] = { "~0001_a" };
	const char *gone[] = { "0001_a", "0002_b", "0003_c", "0004_gone" };

	(void)state;
	expect_up(3, dirty, 2, NULL, 0, MIG_EUNSAFE, "0002_b did not finish: the database is dirty");
	expect_up(3, edited, 1, NULL, 0, MIG_EUNSAFE,
		  "0001_a was modified after it was applied (applied 0123456789ab, file fe3a6c857e52)");
	/* a revision applied whose file is gone is no target */
	expect_up(3, gone, 4, "0004_gone", 0, MIG_EUSAGE, "cannot apply '0004_gone': its file is missing");
	expect_up(3, NULL, 0, "nosuch", 0, MIG_EUSAGE, "unknown revision 'nosuch'");
}

static void test_down_reverts_newest_first_down_to_the_target(void **state)
{
	const char *abc[] = { "0001_a", "0002_b", "0003_c" };

	(void)state;
	expect_down(3, abc, 3, NULL, 0, "0003_c");
	expect_down(3, abc, 3, "-2", 0, "0003_c 0002_b");
	expect_down(3, abc, 3, "0001_a", 0, "0003_c 0002_b");
	expect_down(3, abc, 3, "base", 0, "0003_c 0002_b 0001_a");
	expect_down(3, abc, 3, "0003_c", 0, "");
	expect_down(3, abc, 1, "base", 0, "0001_a");
	expect_down(3, abc, 0, "base", 0, "");
}

static void test_down_refuses_what_it_cannot_do(void **state)
{
	const char *abc[] = { "0001_a", "0002_b", "0003_c" }, *dirty[] = { "0001_a", "!0002_b" };

	(void)state;
	expect_down(4, abc, 3, "heads", MIG_EUSAGE, "'heads' is no target for down");
	expect_down(4, abc, 3, "0003_d", MIG_EUSAGE, "0003_d is not applied");
	expect_down(3, dirty, 2, NULL, MIG_EUNSAFE, "0002_b did not finish: the database is dirty");
	expect_down(3, abc, 3, "nosuch", MIG_EUSAGE, "unknown revision 'nosuch'");
}

/* The problems as "kind subject: detail" lines. */
static char *problems(size_t nfiles, const char *const *applied, size_t napplied, const char *live)
{
	struct mig_state st;
	struct mig_problems p;
	struct mig_buf b = MIG_BUF_INIT;
	size_t i;

	build(&st, nfiles, applied, napplied);
	if (live)
		snprintf(st.live_hash, sizeof(st.live_hash), "%s", live);
	mig_state_problems(&st, &p);
	for (i = 0; i < p.nr; i++)
		mig_buf_addf(&b, "%s %s: %s\n", mig_problem_name(p.v[i].kind), p.v[i].subject, p.v[i].detail);
	mig_problems_release(&p);
	mig_state_release(&st);
	return b.len ? mig_buf_detach(&b) : mig_xstrdup("");
}

#define expect_problems(want, ...) do { \
		char *got_ = problems(__VA_ARGS__); \
		assert_string_equal(got_, want); \
		free(got_); \
	} while (0)

static void test_a_clean_state_has_no_problem(void **state)
{
	const char *ab[] = { "0001_a", "0002_b" };

	(void)state;
	expect_problems("", 3, NULL, 0, NULL);
	expect_problems("", 3, ab, 2, NULL);
	/* the live schema is the one recorded after the last run */
	expect_problems("", 3, ab, 2, "h1");
}

static void test_each_problem_is_named(void **state)
{
	const char *dirty[] = { "0001_a", "!0002_b" }, *edited[] = { "~0001_a" };
	const char *gone[] = { "0001_a", "0009_gone" }, *ac[] = { "0001_a", "0003_c" };
	const char *ab[] = { "0001_a", "0002_b" };

	(void)state;
	expect_problems("dirty 0002_b: 0002_b did not finish: the database is dirty\n", 3, dirty, 2, NULL);
	expect_problems("modified 0001_a: 0001_a was modified after it was applied "
			"(applied 0123456789ab, file fe3a6c857e52)\n", 3, edited, 1, NULL);
	expect_problems("missing 0009_gone: 0009_gone is applied but its file is missing "
			"(applied id 0123456789ab)\n", 3, gone, 2, NULL);
	expect_problems("out-of-order 0003_c: 0003_c is applied but an ancestor of it is pending\n",
			3, ac, 2, NULL);
	expect_problems("multiple-heads 0003_c 0003_d: 2 heads: merge them with 'mig merge'\n", 4, ab, 2, NULL);
	expect_problems("drift 0002_b: the schema differs from the one recorded after 0002_b "
			"(schema live, recorded h1)\n", 3, ab, 2, "live");
	/* with nothing applied, no schema was recorded to differ from */
	expect_problems("", 3, NULL, 0, "live");
}

static void test_current_is_the_applied_tips(void **state)
{
	const char *ab[] = { "0001_a", "0002_b" }, *abcd[] = { "0001_a", "0002_b", "0003_c", "0003_d" };
	struct mig_state st;
	size_t *cur = NULL;

	(void)state;
	build(&st, 4, ab, 2);
	assert_int_equal(mig_state_current(&st, &cur), 1);
	assert_string_equal(st.g->revs[cur[0]]->name, "0002_b");
	free(cur);
	assert_string_equal(mig_state_recorded_hash(&st), "h1");
	mig_state_release(&st);
	build(&st, 4, abcd, 4);
	assert_int_equal(mig_state_current(&st, &cur), 2);
	assert_string_equal(st.g->revs[cur[0]]->name, "0003_c");
	assert_string_equal(st.g->revs[cur[1]]->name, "0003_d");
	free(cur);
	mig_state_release(&st);
	build(&st, 4, NULL, 0);
	assert_int_equal(mig_state_current(&st, &cur), 0);
	assert_null(mig_state_recorded_hash(&st));
	free(cur);
	mig_state_release(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up_applies_parents_first_up_to_the_target),
		cmocka_unit_test(test_up_with_two_heads_needs_a_target),
		cmocka_unit_test(test_up_refuses_out_of_order_unless_asked),
		cmocka_unit_test(test_up_refuses_a_dirty_or_edited_database),
		cmocka_unit_test(test_down_reverts_newest_first_down_to_the_target),
		cmocka_unit_test(test_down_refuses_what_it_cannot_do),
		cmocka_unit_test(test_a_clean_state_has_no_problem),
		cmocka_unit_test(test_each_problem_is_named),
		cmocka_unit_test(test_current_is_the_applied_tips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
