/* The revision file parser: directives, sections, line numbers, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include <git2.h>

#include "revfile.h"
#include "util.h"

static struct mig_rev *parse_ok(const char *text)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_rev *rev = NULL;

	if (mig_rev_parse(&rev, "0001_x", "m/0001_x.sql", text, strlen(text), &err) < 0)
		fail_msg("unexpected error: %s", err.msg);
	return rev;
}

static void parse_fails(const char *text, const char *msg)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_rev *rev = NULL;

	assert_int_equal(mig_rev_parse(&rev, "0001_x", "m/0001_x.sql", text, strlen(text), &err),
			 MIG_EINVALID);
	assert_null(rev);
	assert_string_equal(err.msg, msg);
}

static char *section(const struct mig_section *s)
{
	return mig_xstrndup(s->sql, s->len);
}

static void test_sections(void **state)
{
	struct mig_rev *r = parse_ok("-- mig:parents a b\n-- mig:up\nCREATE TABLE t(x);\n"
				     "-- mig:down\nDROP TABLE t;\n");
	char *up = section(&r->up), *down = section(&r->down);

	(void)state;
	assert_string_equal(up, "CREATE TABLE t(x);\n");
	assert_int_equal(r->up.line, 3);
	assert_string_equal(down, "DROP TABLE t;\n");
	assert_int_equal(r->down.line, 5);
	assert_true(r->down.present);
	assert_int_equal(r->nparents, 2);
	assert_string_equal(r->parents[0], "a");
	assert_string_equal(r->parents[1], "b");
	assert_int_equal(r->parents_line, 1);
	assert_false(r->no_transaction);
	free(up);
	free(down);
	mig_rev_free(r);
}

static void test_implicit_up_and_irreversible(void **state)
{
	struct mig_rev *r = parse_ok("-- a comment\nCREATE TABLE t(x);\n");
	char *up = section(&r->up);

	(void)state;
	assert_string_equal(up, "-- a comment\nCREATE TABLE t(x);\n");
	assert_int_equal(r->up.line, 1);
	assert_false(r->down.present);
	assert_int_equal(r->parents_line, 0);
	free(up);
	mig_rev_free(r);
}

static void test_root_and_no_transaction(void **state)
{
	struct mig_rev *r = parse_ok("-- mig:parents\n-- mig:no-transaction\n-- mig:up\nVACUUM;\n");

	(void)state;
	assert_int_equal(r->parents_line, 1);
	assert_int_equal(r->nparents, 0);
	assert_true(r->no_transaction);
	mig_rev_free(r);
}

static void test_crlf(void **state)
{
	struct mig_rev *r = parse_ok("-- mig:parents p\r\n-- mig:up\r\nSELECT 1;\r\n-- mig:down\r\nSELECT 2;\r\n");

	(void)state;
	assert_int_equal(r->nparents, 1);
	assert_string_equal(r->parents[0], "p");
	assert_true(r->down.present);
	assert_int_equal(r->down.line, 5);
	mig_rev_free(r);
}

static void test_empty_file(void **state)
{
	struct mig_rev *r = parse_ok("");

	(void)state;
	assert_int_equal(r->up.len, 0);
	assert_false(r->down.present);
	assert_string_equal(r->id, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	mig_rev_free(r);
}

static void test_id_is_git_blob_id(void **state)
{
	struct mig_rev *r = parse_ok("hello\n");

	(void)state;
	/* printf 'hello\n' | git hash-object --stdin */
	assert_string_equal(r->id, "ce013625030ba8dba906f756967f9e9ca394464a");
	mig_rev_free(r);
}

static void test_errors(void **state)
{
	(void)state;
	parse_fails("-- mig:up\nSELECT 1;\n-- mig:upp\n", "m/0001_x.sql:3: unknown directive '-- mig:upp'");
	parse_fails("-- mig:up\n-- mig:up\n", "m/0001_x.sql:2: second '-- mig:up' (the first is on line 1)");
	parse_fails("-- mig:parents a\n-- mig:parents b\n",
		    "m/0001_x.sql:2: second '-- mig:parents' (the first is on line 1)");
	parse_fails("-- mig:parents a a\n", "m/0001_x.sql:1: parent 'a' is named twice");
	parse_fails("SELECT 1;\n-- mig:up\nSELECT 2;\n", "m/0001_x.sql:1: SQL before '-- mig:up' on line 2");
	parse_fails("-- mig:down please\n", "m/0001_x.sql:1: unexpected text after '-- mig:down'");
	parse_fails("-- mig:no-transaction yes\n",
		    "m/0001_x.sql:1: unexpected text after '-- mig:no-transaction'");
}

static void test_nul_byte(void **state)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_rev *rev = NULL;
	static const char text[] = "SELECT 1;\nSELECT\0 2;\n";

	(void)state;
	assert_int_equal(mig_rev_parse(&rev, "x", "x.sql", text, sizeof(text) - 1, &err), MIG_EINVALID);
	assert_string_equal(err.msg, "x.sql:2: NUL byte in a revision file");
}

static void test_large_and_non_utf8(void **state)
{
	size_t n = 10 * 1024 * 1024, i;
	char *big = mig_xmalloc(n + 64);
	struct mig_rev *r;

	(void)state;
	strcpy(big, "-- mig:up\n");
	for (i = strlen(big); i < n; i++)
		big[i] = (i % 64 == 63) ? '\n' : (char)(0x80 | (i & 0x3f));
	strcpy(big + n, "\n-- mig:down\nSELECT 1;\n");
	r = parse_ok(big);
	assert_true(r->down.present);
	/* the marker follows n/64 + 1 newlines after line 1 */
	assert_int_equal(r->down.line, (int)(n / 64) + 4);
	mig_rev_free(r);
	free(big);
}

static void test_name_ok(void **state)
{
	(void)state;
	assert_true(mig_rev_name_ok("add_users-2.v1"));
	assert_true(mig_rev_name_ok("Z9_Add_Users"));
	assert_false(mig_rev_name_ok(""));
	assert_false(mig_rev_name_ok("a b"));
	assert_false(mig_rev_name_ok("a/b"));
	assert_false(mig_rev_name_ok("-x"));
	assert_false(mig_rev_name_ok(".hidden"));
	assert_false(mig_rev_name_ok("it's"));
}

static void test_blanks_in_directives(void **state)
{
	struct mig_rev *r = parse_ok("-- mig:parents\ta \t b\t\n-- mig:no-transaction\t \r\n"
				     "-- mig:up \t\nSELECT 1;\n-- mig:down\t\nSELECT 2;");
	char *down = section(&r->down);

	(void)state;
	assert_int_equal(r->nparents, 2);
	assert_string_equal(r->parents[0], "a");
	assert_string_equal(r->parents[1], "b");
	assert_true(r->no_transaction);
	assert_int_equal(r->up.line, 4);
	/* the last line has no newline */
	assert_string_equal(down, "SELECT 2;");
	free(down);
	mig_rev_free(r);
}

static void test_many_parents(void **state)
{
	struct mig_buf b = MIG_BUF_INIT;
	struct mig_rev *r;
	int i;

	(void)state;
	mig_buf_adds(&b, "-- mig:parents");
	for (i = 0; i < 40; i++)
		mig_buf_addf(&b, " p%02d", i);
	mig_buf_adds(&b, "\n");
	r = parse_ok(b.buf);
	assert_int_equal(r->nparents, 40);
	assert_string_equal(r->parents[39], "p39");
	mig_rev_free(r);
	mig_buf_release(&b);
}

static void test_only_down(void **state)
{
	struct mig_rev *r = parse_ok("-- nothing to do going up\n\n-- mig:down\nDROP TABLE t;\n");

	(void)state;
	assert_true(r->up.present);
	assert_int_equal(r->up.len, 0);
	assert_true(r->down.present);
	mig_rev_free(r);
}

/* Text before a down section and no up marker: up, when it is SQL; nothing, when only comments */
static void test_up_before_down(void **state)
{
	static const char *const files[][2] = {
		{ "SELECT 1;\n-- mig:down\nSELECT 2;\n", "SELECT 1;\n" },
		{ "-- just a note\n-- mig:down\nSELECT 2;\n", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct mig_rev *r = parse_ok(files[i][0]);
		char *up = section(&r->up);

		assert_true(r->up.present);
		assert_true(r->down.present);
		assert_string_equal(up, files[i][1]);
		free(up);
		mig_rev_free(r);
	}
}

static void test_more_errors(void **state)
{
	(void)state;
	parse_fails("-- mig:up now\n", "m/0001_x.sql:1: unexpected text after '-- mig:up'");
	parse_fails("-- mig:down\n-- mig:down\n", "m/0001_x.sql:2: second '-- mig:down' (the first is on line 1)");
	parse_fails("-- mig:upgrade\tnow\n", "m/0001_x.sql:1: unknown directive '-- mig:upgrade'");
	parse_fails("-- mig:u\n", "m/0001_x.sql:1: unknown directive '-- mig:u'");
	parse_fails("-- mig:\n", "m/0001_x.sql:1: unknown directive '-- mig:'");
	/* a tab ends a directive's word as a blank does */
	parse_fails("-- mig:up\tnow\n", "m/0001_x.sql:1: unexpected text after '-- mig:up'");
	parse_fails("-- mig:down\tnow\n", "m/0001_x.sql:1: unexpected text after '-- mig:down'");
	parse_fails("-- mig:no-transaction\tnow\n",
		    "m/0001_x.sql:1: unexpected text after '-- mig:no-transaction'");
	/* a directive's word with more after it, or cut short, is another word */
	parse_fails("-- mig:downward\n", "m/0001_x.sql:1: unknown directive '-- mig:downward'");
	parse_fails("-- mig:parentsx a\n", "m/0001_x.sql:1: unknown directive '-- mig:parentsx'");
	parse_fails("-- mig:no-transactions\n", "m/0001_x.sql:1: unknown directive '-- mig:no-transactions'");
	parse_fails("-- mig:do\n", "m/0001_x.sql:1: unknown directive '-- mig:do'");
	parse_fails("-- mig:pa\n", "m/0001_x.sql:1: unknown directive '-- mig:pa'");
	parse_fails("-- mig:no\n", "m/0001_x.sql:1: unknown directive '-- mig:no'");
	parse_fails("-- migrate:up\n-- migrate:ux\n", "m/0001_x.sql:2: unknown marker '-- migrate:ux'");
	parse_fails("-- migrate:up\n-- migrate:downs\n", "m/0001_x.sql:2: unknown marker '-- migrate:downs'");
}

/* dbmate's and goose's markers */
static void test_markers(void **state)
{
	struct mig_rev *r;
	char *up, *down;

	(void)state;
	r = parse_ok("-- migrate:UP transaction:false\nCREATE TABLE t(x);\n-- migrate:down\nDROP TABLE t;");
	up = section(&r->up), down = section(&r->down);
	assert_int_equal(r->style, MIG_STYLE_DBMATE);
	assert_true(r->no_transaction);
	assert_string_equal(up, "CREATE TABLE t(x);\n");
	assert_string_equal(down, "DROP TABLE t;");
	free(up);
	free(down);
	mig_rev_free(r);

	/* only a down section: up is empty */
	r = parse_ok("-- a comment\n-- migrate:down\nDROP TABLE t;\n-- migrate:up\n");
	assert_true(r->down.present);
	mig_rev_free(r);

	r = parse_ok("-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n"
		     "-- +goose StatementEnd\n-- +goose Down\nSELECT 2;\n");
	up = section(&r->up);
	assert_int_equal(r->style, MIG_STYLE_GOOSE);
	assert_true(r->no_transaction);
	assert_string_equal(up, "-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n");
	free(up);
	mig_rev_free(r);

	parse_fails("-- migrate:up\nSELECT 1;\n-- migrate:upgrade\n",
		    "m/0001_x.sql:3: unknown marker '-- migrate:upgrade'");
	parse_fails("-- migrate:up\n-- migrate:down\n-- migrate:up\n",
		    "m/0001_x.sql:3: second '-- migrate:up' (the first is on line 1)");
	parse_fails("SELECT 1;\n-- migrate:up\nSELECT 2;\n",
		    "m/0001_x.sql:1: SQL before '-- migrate:up' on line 2");
}

static void test_load(void **state)
{
	char dir[] = "/tmp/mig-revfile-XXXXXX", *path;
	struct mig_err err = MIG_ERR_INIT;
	struct mig_rev *r = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = mig_path_join(dir, "0001_empty.sql");
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	if (mig_rev_loadat(&r, AT_FDCWD, path, "0001_empty", path, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(r->name, "0001_empty");
	assert_string_equal(r->path, path);
	assert_int_equal(r->len, 0);
	assert_string_equal(r->id, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	mig_rev_free(r);
	unlink(path);
	assert_int_equal(mig_rev_loadat(&r, AT_FDCWD, path, "0001_empty", path, &err), MIG_EINVALID);
	assert_null(r);
	rmdir(dir);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_implicit_up_and_irreversible),
		cmocka_unit_test(test_root_and_no_transaction),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_id_is_git_blob_id),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_large_and_non_utf8),
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_blanks_in_directives),
		cmocka_unit_test(test_many_parents),
		cmocka_unit_test(test_only_down),
		cmocka_unit_test(test_up_before_down),
		cmocka_unit_test(test_more_errors),
		cmocka_unit_test(test_markers),
		cmocka_unit_test(test_load),
	};
	int rc;

	git_libgit2_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
