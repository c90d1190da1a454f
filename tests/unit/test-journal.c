/*
 * The journal's message format: what mig_journal_begin and
 * mig_journal_add_rev write, mig_journal_parse reads back, whatever the
 * names hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "journal.h"
#include "util.h"

#define ID1 "1111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222"
#define ID3 "3333333333333333333333333333333333333333"

static void test_one_revision_reads_back(void **state)
{
	const char *names[] = { "0001_a" }, *ids[] = { ID1 };
	const long long ms[] = { 12 };
	struct mig_buf m = MIG_BUF_INIT;
	struct mig_journal_op op;

	(void)state;
	mig_journal_begin(&m, "up", names, ids, ms, 1);
	assert_string_equal(m.buf, "up 0001_a\n\noperation up\nrevision " ID1 " 0001_a 12ms\n");
	mig_buf_adds(&m, "result ok\nschema abc\nsnapshot def\n");
	mig_journal_parse(&op, m.buf);
	assert_string_equal(op.subject, "up 0001_a");
	assert_string_equal(op.operation, "up");
	assert_string_equal(op.result, "ok");
	assert_string_equal(op.schema, "abc");
	assert_string_equal(op.snapshot, "def");
	assert_null(op.before);
	assert_int_equal(op.nrevs, 1);
	assert_string_equal(op.revs[0].id, ID1);
	assert_string_equal(op.revs[0].name, "0001_a");
	assert_int_equal(op.revs[0].ms, 12);
	mig_journal_op_release(&op);
	mig_buf_release(&m);
}

static void test_several_revisions_name_the_first_and_last(void **state)
{
	const char *names[] = { "0001_a", "0002_b", "0003_c" }, *ids[] = { ID1, ID2, ID3 };
	struct mig_buf m = MIG_BUF_INIT;
	struct mig_journal_op op;
	size_t i;

	(void)state;
	/* no times: 0 each */
	mig_journal_begin(&m, "down", names, ids, NULL, 3);
	assert_string_equal(m.buf, "down 0001_a..0003_c (3 revisions)\n\noperation down\n"
			    "revision " ID1 " 0001_a 0ms\nrevision " ID2 " 0002_b 0ms\n"
			    "revision " ID3 " 0003_c 0ms\n");
	mig_journal_parse(&op, m.buf);
	assert_string_equal(op.subject, "down 0001_a..0003_c (3 revisions)");
	assert_int_equal(op.nrevs, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(op.revs[i].id, ids[i]);
		assert_string_equal(op.revs[i].name, names[i]);
		assert_int_equal(op.revs[i].ms, 0);
	}
	/* no result written: not known */
	assert_string_equal(op.result, "?");
	mig_journal_op_release(&op);
	mig_buf_reset(&m);
	mig_journal_begin(&m, "up", names, ids, NULL, 2);
	mig_journal_parse(&op, m.buf);
	assert_string_equal(op.subject, "up 0001_a..0002_b (2 revisions)");
	assert_int_equal(op.nrevs, 2);
	mig_journal_op_release(&op);
	mig_buf_release(&m);
}

static void test_names_with_newlines_and_backslashes_read_back(void **state)
{
	const char *names[] = { "a\nrevision " ID2 " forged 1ms", "back\\slash\\n", "tab\there", "sp ace" };
	const char *ids[] = { ID1, ID2, ID3, ID1 };
	const long long ms[] = { 1, 22, 333, 4444 };
	struct mig_buf m = MIG_BUF_INIT;
	struct mig_journal_op op;
	size_t i;

	(void)state;
	mig_journal_begin(&m, "up", names, ids, ms, 4);
	/* the subject is shown, not read back: no raw newline in it either */
	assert_non_null(strstr(m.buf, "up a\\nrevision "));
	assert_non_null(strstr(m.buf, "\n\noperation up\n"));
	mig_journal_parse(&op, m.buf);
	assert_int_equal(op.nrevs, 4);
	for (i = 0; i < 4; i++) {
		assert_string_equal(op.revs[i].id, ids[i]);
		assert_string_equal(op.revs[i].name, names[i]);
		assert_int_equal(op.revs[i].ms, ms[i]);
	}
	mig_journal_op_release(&op);
	mig_buf_release(&m);
}

static void test_a_revision_without_a_time_reads_back(void **state)
{
	struct mig_buf m = MIG_BUF_INIT;
	struct mig_journal_op op;

	(void)state;
	/* as a snapshot lists what was applied */
	mig_buf_adds(&m, "backup\n\noperation backup\n");
	mig_journal_add_rev(&m, ID1, "0001_a", NULL);
	mig_journal_add_rev(&m, ID2, "two words", NULL);
	mig_journal_add_rev(&m, ID3, "new\nline", NULL);
	mig_journal_add_rev(&m, ID1, "release 2", NULL);
	mig_journal_add_rev(&m, ID2, "a ms", NULL);
	mig_journal_add_rev(&m, ID3, "b 5msx", NULL);
	assert_string_equal(m.buf, "backup\n\noperation backup\nrevision " ID1 " 0001_a\n"
			    "revision " ID2 " two words\nrevision " ID3 " new\\nline\n"
			    "revision " ID1 " release 2\nrevision " ID2 " a ms\nrevision " ID3 " b 5msx\n");
	mig_journal_parse(&op, m.buf);
	assert_int_equal(op.nrevs, 6);
	/* a last word of digits, or of "ms" without them or with more, is no time */
	assert_string_equal(op.revs[3].name, "release 2");
	assert_int_equal(op.revs[3].ms, 0);
	assert_string_equal(op.revs[4].name, "a ms");
	assert_string_equal(op.revs[5].name, "b 5msx");
	assert_string_equal(op.revs[0].name, "0001_a");
	assert_int_equal(op.revs[0].ms, 0);
	assert_string_equal(op.revs[1].name, "two words");
	assert_string_equal(op.revs[2].id, ID3);
	assert_string_equal(op.revs[2].name, "new\nline");
	mig_journal_op_release(&op);
	mig_buf_release(&m);
}

static void test_facts_and_subject_as_git_reads_them(void **state)
{
	struct mig_journal_op op;

	(void)state;
	/* the subject is the first paragraph; a fact said twice counts the last time */
	mig_journal_parse(&op, "restore abc\nsecond line\n\noperation restore\nresult failed\n"
			  "result ok\nbefore 123\nrevision " ID1 "\nrevisionary x\nrun 0123\n");
	assert_string_equal(op.subject, "restore abc second line");
	assert_string_equal(op.operation, "restore");
	assert_string_equal(op.result, "ok");
	assert_string_equal(op.before, "123");
	assert_null(op.schema);
	assert_null(op.snapshot);
	/* a revision line with no name is no revision */
	assert_int_equal(op.nrevs, 0);
	mig_journal_op_release(&op);
	/* nothing at all, and a subject with no facts */
	mig_journal_parse(&op, "");
	assert_string_equal(op.subject, "");
	assert_string_equal(op.operation, "?");
	assert_string_equal(op.result, "?");
	mig_journal_op_release(&op);
	mig_journal_parse(&op, "just a subject");
	assert_string_equal(op.subject, "just a subject");
	assert_string_equal(op.operation, "?");
	mig_journal_op_release(&op);
}

static void test_edges_of_the_format(void **state)
{
	struct mig_buf m = MIG_BUF_INIT;
	struct mig_journal_op op;

	(void)state;
	/* an operation on no revision: the subject is the operation */
	mig_journal_begin(&m, "backup", NULL, NULL, NULL, 0);
	assert_string_equal(m.buf, "backup\n\noperation backup\n");
	mig_buf_release(&m);
	/* a revision line with an id and a blank but no name is none; "ns" and "mz" are no times */
	mig_journal_parse(&op, "x\n\nrevision " ID1 " \nrevision " ID2 " c 5ns\nrevision " ID3 " d 5mz\n");
	assert_int_equal(op.nrevs, 2);
	assert_string_equal(op.revs[0].name, "c 5ns");
	assert_string_equal(op.revs[1].name, "d 5mz");
	mig_journal_op_release(&op);
}

static void test_an_older_unescaped_name_reads_the_same(void **state)
{
	struct mig_journal_op op;

	(void)state;
	/* written before names were escaped: a backslash starting no escape stays */
	mig_journal_parse(&op, "up x\n\noperation up\nrevision " ID1 " C:\\dir\\0001 7ms\n");
	assert_int_equal(op.nrevs, 1);
	assert_string_equal(op.revs[0].name, "C:\\dir\\0001");
	assert_int_equal(op.revs[0].ms, 7);
	mig_journal_op_release(&op);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_revision_reads_back),
		cmocka_unit_test(test_several_revisions_name_the_first_and_last),
		cmocka_unit_test(test_names_with_newlines_and_backslashes_read_back),
		cmocka_unit_test(test_a_revision_without_a_time_reads_back),
		cmocka_unit_test(test_facts_and_subject_as_git_reads_them),
		cmocka_unit_test(test_edges_of_the_format),
		cmocka_unit_test(test_an_older_unescaped_name_reads_the_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
