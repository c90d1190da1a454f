/* Escaping names for lines, terminals and the journal, and reading them back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "journal.h"
#include "util.h"

static char *esc(const char *s)
{
	struct mig_buf b = MIG_BUF_INIT;

	mig_buf_add_esc(&b, s, strlen(s));
	return mig_buf_detach(&b);
}

static char *tty(const char *s)
{
	struct mig_buf b = MIG_BUF_INIT;

	mig_buf_add_tty(&b, s, strlen(s));
	return mig_buf_detach(&b);
}

static void check(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

static void test_esc(void **state)
{
	(void)state;
	check(esc("0001_plain name"), "0001_plain name");
	check(esc("a\tb\nc\\d\re"), "a\\tb\\nc\\\\d\\re");
	check(esc("\x1b[2J\x07\x7f"), "\\x1b[2J\\x07\\x7f");
	/* U+009B, a C1 control, is escaped; other UTF-8 and stray bytes are not */
	check(esc("\xc2\x9b caf\xc3\xa9 caf\xe9 \xc2"), "\\xc2\\x9b caf\xc3\xa9 caf\xe9 \xc2");
}

static void test_tty(void **state)
{
	(void)state;
	check(tty("a\tb\nc\\d"), "a\\tb\\nc\\d");
	check(tty("\x1b]0;x\x07"), "\\x1b]0;x\\x07");
	check(tty("\xc2\x9b caf\xc3\xa9 caf\xe9 \xe2\x82"), "\\xc2\\x9b caf\xc3\xa9 caf\\xe9 \\xe2\\x82");
	/* escaping twice changes nothing more */
	check(tty("a\\x1b"), "a\\x1b");
}

static void test_unesc_round_trip(void **state)
{
	const char *names[] = {
		"0001_plain", "a\tb\nc\\d\re", "\x1b[2J\x01\x7f", "\xc2\x9b\xff\xfe caf\xc3\xa9",
		"ends with \\", "\\x4", "\\q \\x00 \\xZZ",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *e = esc(names[i]);

		check(mig_unesc(e, strlen(e)), names[i]);
		free(e);
	}
	/* what mig_buf_add_esc never writes is kept as written */
	check(mig_unesc("a\\qb\\x0g\\x00\\", 13), "a\\qb\\x0g\\x00\\");
	check(mig_unesc("\\x41\\x4a", 8), "AJ");
}

static void test_journal_round_trip(void **state)
{
	const char *names[] = { "0001_a\tb", "0002 c\nresult failed", "0003_d\\n" };
	const char *ids[] = { "aaaa", "bbbb", "cccc" };
	long long ms[] = { 1, 22, 333 };
	struct mig_buf m = MIG_BUF_INIT;
	struct mig_journal_op op;
	size_t i;

	(void)state;
	mig_journal_begin(&m, "up", names, ids, ms, 3);
	mig_buf_adds(&m, "result ok\n");
	assert_string_equal(m.buf, "up 0001_a\\tb..0003_d\\n (3 revisions)\n\noperation up\n"
			    "revision aaaa 0001_a\\tb 1ms\nrevision bbbb 0002 c\\nresult failed 22ms\n"
			    "revision cccc 0003_d\\\\n 333ms\nresult ok\n");
	mig_journal_parse(&op, m.buf);
	assert_string_equal(op.subject, "up 0001_a\\tb..0003_d\\n (3 revisions)");
	assert_string_equal(op.operation, "up");
	assert_string_equal(op.result, "ok");
	assert_int_equal(op.nrevs, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(op.revs[i].name, names[i]);
		assert_string_equal(op.revs[i].id, ids[i]);
		assert_int_equal(op.revs[i].ms, ms[i]);
	}
	mig_journal_op_release(&op);
	mig_buf_release(&m);
}

static void test_journal_old_and_odd(void **state)
{
	struct mig_journal_op op;

	(void)state;
	/* written before names were escaped; a subject of two lines; a fact twice */
	mig_journal_parse(&op, "up 0001 a\nresult failed\n\noperation up\nrevision aaaa 0001 a 5ms\n"
			  "result failed\nresult ok\nrevision bad\n");
	assert_string_equal(op.subject, "up 0001 a result failed");
	assert_string_equal(op.result, "ok");
	assert_int_equal(op.nrevs, 1);
	assert_string_equal(op.revs[0].name, "0001 a");
	assert_int_equal(op.revs[0].ms, 5);
	mig_journal_op_release(&op);
	mig_journal_parse(&op, "");
	assert_string_equal(op.subject, "");
	assert_string_equal(op.operation, "?");
	mig_journal_op_release(&op);
}

/* A journal message as git may hold it after a hand edit: what parses is kept, the rest passed over. */
static void test_journal_parse(void **state)
{
	struct mig_journal_op op;
	struct mig_buf m = MIG_BUF_INIT;
	int i;

	(void)state;
	mig_journal_parse(&op, "up a..b\nsecond line\n\noperation down\noperation up\nresult\n"
			  "resultx ok\nres\nbefore 1234\nsnapshot 5678\nschema abcd\n"
			  "revision nospaces\nrevision id onlyname\nrevision id only name 5ms\nrevision id0 a\\tb 12ms\n");
	assert_string_equal(op.subject, "up a..b second line");
	assert_string_equal(op.operation, "up");	/* said twice: the last */
	/* no line says the result (bare, or another word, or cut short): unknown */
	assert_string_equal(op.result, "?");
	assert_string_equal(op.before, "1234");
	assert_string_equal(op.snapshot, "5678");
	assert_string_equal(op.schema, "abcd");
	assert_int_equal(op.nrevs, 3);
	/* no time, as a snapshot lists what is applied (mig_journal_add_rev without ms) */
	assert_string_equal(op.revs[0].id, "id");
	assert_string_equal(op.revs[0].name, "onlyname");
	assert_int_equal(op.revs[0].ms, 0);
	assert_string_equal(op.revs[1].id, "id");
	assert_string_equal(op.revs[1].name, "only name");	/* the last blank ends the name */
	assert_int_equal(op.revs[1].ms, 5);
	assert_string_equal(op.revs[2].name, "a\tb");
	assert_int_equal(op.revs[2].ms, 12);
	mig_journal_op_release(&op);

	mig_journal_parse(&op, "");
	assert_string_equal(op.subject, "");
	assert_string_equal(op.operation, "?");
	assert_int_equal(op.nrevs, 0);
	mig_journal_op_release(&op);

	/* forty revisions */
	mig_buf_adds(&m, "up\n\noperation up\n");
	for (i = 0; i < 40; i++) {
		char name[16], id[16];
		long long ms = i;

		snprintf(name, sizeof(name), "r%02d", i);
		snprintf(id, sizeof(id), "id%02d", i);
		mig_journal_add_rev(&m, id, name, &ms);
	}
	mig_journal_parse(&op, m.buf);
	assert_int_equal(op.nrevs, 40);
	assert_string_equal(op.revs[39].name, "r39");
	assert_int_equal(op.revs[39].ms, 39);
	mig_journal_op_release(&op);
	mig_buf_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_esc),
		cmocka_unit_test(test_tty),
		cmocka_unit_test(test_unesc_round_trip),
		cmocka_unit_test(test_journal_round_trip),
		cmocka_unit_test(test_journal_old_and_odd),
		cmocka_unit_test(test_journal_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
