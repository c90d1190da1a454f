/*
 * mig_drift_summary: what the drift refusal and status name, object by
 * object, from two schema texts of "TYPE NAME: SQL" lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "drift.h"
#include "util.h"

static void expect_summary(const char *recorded, const char *live, const char *want)
{
	struct mig_buf out = MIG_BUF_INIT;

	mig_drift_summary(&out, recorded, strlen(recorded), live, strlen(live));
	assert_string_equal(out.buf ? out.buf : "", want);
	mig_buf_release(&out);
}

static void test_alike(void **state)
{
	(void)state;
	expect_summary("", "", "");
	/* the order of the lines, blank lines and a last line without its newline do not count */
	expect_summary("table a: CREATE TABLE a(x)\ntable b: CREATE TABLE b(x)\n",
		       "\ntable b: CREATE TABLE b(x)\n\ntable a: CREATE TABLE a(x)", "");
}

static void test_each_kind(void **state)
{
	(void)state;
	expect_summary("table a: CREATE TABLE a(x)\nindex i: CREATE INDEX i ON a(x)\n",
		       "table a: CREATE TABLE a(x, y)\ntable hotfix: CREATE TABLE hotfix(z)\n",
		       "index i removed, table a changed, table hotfix added");
	/* the same length, other bytes */
	expect_summary("table a: CREATE TABLE a(x)", "table a: CREATE TABLE a(y)", "table a changed");
	/* a key is the text before ": ": a prefix of another key is another object */
	expect_summary("table a: CREATE TABLE a(x)", "table a: CREATE TABLE a(x)\ntable ab: CREATE TABLE ab(x)",
		       "table ab added");
	/* a line without ": " is its own key */
	expect_summary("odd line", "", "odd line removed");
}

static void test_five_named_then_counted(void **state)
{
	struct mig_buf live = MIG_BUF_INIT;
	int i;

	(void)state;
	for (i = 10; i < 30; i++)
		mig_buf_addf(&live, "table t%d: CREATE TABLE t%d(x)\n", i, i);
	expect_summary("", live.buf, "table t10 added, table t11 added, table t12 added, table t13 added, "
		       "table t14 added and 15 more");
	mig_buf_release(&live);
	expect_summary("table a: x\ntable b: x\ntable c: x\ntable d: x\ntable e: x\n", "",
		       "table a removed, table b removed, table c removed, table d removed, table e removed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alike),
		cmocka_unit_test(test_each_kind),
		cmocka_unit_test(test_five_named_then_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
