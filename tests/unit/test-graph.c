/* The graph: implicit and explicit parents, heads, order, and its errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <git2.h>

#include "graph.h"
#include "revspec.h"
#include "util.h"

static struct mig_graph *load_ok(const struct mig_memfile *f, size_t n)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_graph *g = NULL;

	if (mig_graph_load_mem(&g, f, n, &err) < 0)
		fail_msg("unexpected error: %s", err.msg);
	return g;
}

static void load_fails(const struct mig_memfile *f, size_t n, const char *msg)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_graph *g = NULL;

	assert_int_equal(mig_graph_load_mem(&g, f, n, &err), MIG_EINVALID);
	assert_null(g);
	assert_string_equal(err.msg, msg);
}

static const char *topo_names(const struct mig_graph *g, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < g->nr && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? " " : "", g->revs[g->topo[i]]->name);
	return buf;
}

static void test_implicit_chain(void **state)
{
	const struct mig_memfile f[] = { { "0002_b", "" }, { "0001_a", "" }, { "0003_c", "" } };
	struct mig_graph *g = load_ok(f, 3);
	char buf[256];

	(void)state;
	assert_string_equal(topo_names(g, buf, sizeof(buf)), "0001_a 0002_b 0003_c");
	assert_int_equal(g->nheads, 1);
	assert_string_equal(g->revs[g->heads[0]]->name, "0003_c");
	assert_int_equal(g->revs[0]->npidx, 0);
	mig_graph_free(g);
}

static void test_branches_and_merge(void **state)
{
	const struct mig_memfile f[] = {
		{ "1_root", "-- mig:parents\n" },
		{ "2_b", "-- mig:parents 1_root\n" },
		{ "3_a", "-- mig:parents 1_root\n" },
		{ "4_m", "-- mig:parents 3_a 2_b\n" },
	};
	struct mig_graph *g = load_ok(f, 3);
	char buf[256];

	(void)state;
	assert_int_equal(g->nheads, 2);
	assert_string_equal(topo_names(g, buf, sizeof(buf)), "1_root 2_b 3_a");
	mig_graph_free(g);
	g = load_ok(f, 4);
	assert_int_equal(g->nheads, 1);
	assert_string_equal(g->revs[g->heads[0]]->name, "4_m");
	assert_int_equal(g->revs[3]->npidx, 2);
	mig_graph_free(g);
}

static void test_ties_broken_by_name(void **state)
{
	/* a child named early must still come after its parent */
	const struct mig_memfile f[] = {
		{ "a", "-- mig:parents z\n" }, { "b", "-- mig:parents\n" }, { "z", "-- mig:parents\n" },
	};
	struct mig_graph *g = load_ok(f, 3);
	char buf[256];

	(void)state;
	assert_string_equal(topo_names(g, buf, sizeof(buf)), "b z a");
	mig_graph_free(g);
}

static void test_errors(void **state)
{
	const struct mig_memfile unknown[] = { { "a", "-- mig:parents nosuch\n" } };
	const struct mig_memfile self[] = { { "a", "-- mig:parents a\n" } };
	const struct mig_memfile cycle[] = {
		{ "a", "-- mig:parents\n" }, { "b", "-- mig:parents c\n" }, { "c", "-- mig:parents b\n" },
	};
	const struct mig_memfile dup[] = { { "a", "" }, { "a", "x" } };
	const struct mig_memfile bad[] = { { "a", "" }, { "b", "-- mig:parents a\n-- mig:bogus\n" } };

	(void)state;
	load_fails(unknown, 1, "(built in)/a.sql:1: unknown parent 'nosuch'");
	load_fails(self, 1, "(built in)/a.sql:1: 'a' names itself as a parent");
	load_fails(cycle, 3, "cycle in the revision graph: (built in)/b.sql names its parents in a loop: "
		   "b ((built in)/b.sql) -> c ((built in)/c.sql) -> b");
	load_fails(dup, 2, "duplicate revision name 'a': (built in)/a.sql and (built in)/a.sql");
	/* a file that does not parse, after one that does: no graph, the file named */
	load_fails(bad, 2, "(built in)/b.sql:2: unknown directive '-- mig:bogus'");
}

/* A diamond's ancestors: each once, and asking again for a marked one changes nothing */
static void test_ancestors(void **state)
{
	const struct mig_memfile f[] = {
		{ "1_root", "-- mig:parents\n" },
		{ "2_a", "-- mig:parents 1_root\n" },
		{ "3_b", "-- mig:parents 1_root\n" },
		{ "4_m", "-- mig:parents 2_a 3_b\n" },
		{ "5_other", "-- mig:parents\n" },
	};
	struct mig_graph *g = load_ok(f, 5);
	unsigned char mark[6] = { 0 };

	(void)state;
	mig_graph_ancestors(g, 1, mark);
	assert_memory_equal(mark, "\1\1\0\0\0", 5);
	mig_graph_ancestors(g, 3, mark);
	assert_memory_equal(mark, "\1\1\1\1\0", 5);
	mig_graph_ancestors(g, 2, mark);
	assert_memory_equal(mark, "\1\1\1\1\0", 5);
	mig_graph_ancestors(g, 4, mark);
	assert_memory_equal(mark, "\1\1\1\1\1", 5);
	mig_graph_free(g);
}

static void test_thousand_with_merges(void **state)
{
	struct mig_memfile *f = mig_xcalloc(1000, sizeof(*f));
	char **names = mig_xcalloc(1000, sizeof(char *)), **texts = mig_xcalloc(1000, sizeof(char *));
	struct mig_graph *g;
	size_t i, pos[1000];

	(void)state;
	/* every 10th revision opens a side branch that the next merges back */
	for (i = 0; i < 1000; i++) {
		names[i] = mig_xasprintf("%04zu_r", i);
		if (i == 0)
			texts[i] = mig_xstrdup("-- mig:parents\n");
		else if (i % 10 == 2)
			texts[i] = mig_xasprintf("-- mig:parents %04zu_r\n", i - 2);
		else if (i % 10 == 3)
			texts[i] = mig_xasprintf("-- mig:parents %04zu_r %04zu_r\n", i - 1, i - 2);
		else
			texts[i] = mig_xasprintf("-- mig:parents %04zu_r\n", i - 1);
		f[i].name = names[i];
		f[i].data = texts[i];
	}
	g = load_ok(f, 1000);
	assert_int_equal(g->nr, 1000);
	assert_int_equal(g->nheads, 1);
	for (i = 0; i < 1000; i++)
		pos[g->topo[i]] = i;
	for (i = 0; i < 1000; i++) {
		size_t j;

		for (j = 0; j < g->revs[i]->npidx; j++)
			assert_true(pos[g->revs[i]->pidx[j]] < pos[i]);
	}
	mig_graph_free(g);
	for (i = 0; i < 1000; i++) {
		free(names[i]);
		free(texts[i]);
	}
	free(names);
	free(texts);
	free(f);
}

/* revision specs against a state: 1 <- 2 <- 3, 1 and 2 applied */
static struct mig_state st;

static int setup_state(void **state)
{
	const struct mig_memfile f[] = {
		{ "0001_users", "-- mig:up\nA;\n" }, { "0002_email", "-- mig:up\nB;\n" },
		{ "0003_phone", "-- mig:up\nC;\n" }, { "0100_other", "-- mig:parents 0001_users\n" },
	};
	struct mig_applied_list applied = { NULL, 0 };
	struct mig_graph *g = load_ok(f, 4);

	(void)state;
	applied.v = mig_xcalloc(2, sizeof(*applied.v));
	applied.nr = 2;
	applied.v[0].name = mig_xstrdup("0001_users");
	applied.v[1].name = mig_xstrdup("0002_email");
	strcpy(applied.v[0].id, g->revs[0]->id);
	strcpy(applied.v[1].id, g->revs[1]->id);
	mig_state_init(&st, g, &applied, 1);
	return 0;
}

static int teardown_state(void **state)
{
	(void)state;
	mig_state_release(&st);
	return 0;
}

static void spec_is(const char *spec, enum mig_target_kind kind, const char *name)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_target t;

	if (mig_revspec(&t, &st, spec, &err) < 0)
		fail_msg("'%s': unexpected error: %s", spec, err.msg);
	assert_int_equal(t.kind, kind);
	if (name)
		assert_string_equal(t.name, name);
}

static void spec_fails(const char *spec, const char *msg)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_target t;

	assert_int_equal(mig_revspec(&t, &st, spec, &err), MIG_EUSAGE);
	assert_string_equal(err.msg, msg);
}

static void test_revspecs(void **state)
{
	char id[8];

	(void)state;
	spec_is("0002_email", MIG_TARGET_REV, "0002_email");
	spec_is("0003", MIG_TARGET_REV, "0003_phone");
	spec_is("base", MIG_TARGET_BASE, NULL);
	spec_is("heads", MIG_TARGET_HEADS, NULL);
	spec_is("current", MIG_TARGET_REV, "0002_email");
	spec_is("-1", MIG_TARGET_REV, "0001_users");
	spec_is("-2", MIG_TARGET_BASE, NULL);
	spec_is("+1", MIG_TARGET_REV, "0003_phone");
	spec_is("+2", MIG_TARGET_REV, "0100_other");
	memcpy(id, st.g->revs[2]->id, 7);
	id[7] = '\0';
	spec_is(id, MIG_TARGET_REV, "0003_phone");

	spec_fails("-3", "revision '-3' goes back past base: 2 applied");
	spec_fails("+3", "revision '+3' goes past the last pending revision");
	spec_fails("000", "revision '000' is ambiguous: 0001_users, 0002_email, 0003_phone");
	spec_fails("nosuch", "unknown revision 'nosuch'");
	spec_fails("head", "'head' is ambiguous: 2 heads: 0003_phone, 0100_other");
	spec_fails("", "empty revision");
	spec_fails("+x", "unknown revision '+x'");
}

/* From a directory on disk: hidden files and other suffixes are no revisions. */
static void test_load_dir(void **state)
{
	char dir[] = "/tmp/mig-graph-XXXXXX";
	static const char *const files[][2] = {
		{ "0001_a.sql", "SELECT 1;\n" }, { "0002_b.sql", "SELECT 2;\n" },
		{ ".0003_hidden.sql", "SELECT 3;\n" }, { "notes.txt", "" }, { "x.sq", "" },
	};
	struct mig_err err = MIG_ERR_INIT;
	struct mig_graph *g = NULL;
	size_t i;
	char *cmd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *path = mig_path_join(dir, files[i][0]);
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(files[i][1], f);
		fclose(f);
		free(path);
	}
	assert_int_equal(mig_graph_load_cached(&g, dir, NULL, &err), 0);
	assert_int_equal(g->nr, 2);
	assert_int_equal(g->nheads, 1);
	assert_string_equal(g->revs[g->heads[0]]->name, "0002_b");
	mig_graph_free(g);
	cmd = mig_xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(mig_graph_load_cached(&g, dir, NULL, &err), MIG_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_implicit_chain),
		cmocka_unit_test(test_branches_and_merge),
		cmocka_unit_test(test_ties_broken_by_name),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_ancestors),
		cmocka_unit_test(test_thousand_with_merges),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test_setup_teardown(test_revspecs, setup_state, teardown_state),
	};
	int rc;

	git_libgit2_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
