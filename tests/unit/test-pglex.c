/* PostgreSQL's lexical rules as the backend uses them: statements, words, guards. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "postgres-lex.h"
#include "util.h"

/* The statements of sql, each as it would be sent, joined by '|'. */
static char *split(const char *sql)
{
	const char *p = sql, *end = sql + strlen(sql), *stop;
	struct mig_buf b = MIG_BUF_INIT;

	while ((p = mig_pg_skip_space(p, end)) < end) {
		stop = mig_pg_statement_end(p, end);
		assert_true(stop > p);
		if (b.len)
			mig_buf_addc(&b, '|');
		mig_buf_add(&b, p, (size_t)(stop - p));
		p = stop;
	}
	return b.buf ? mig_buf_detach(&b) : mig_xstrdup("");
}

static void split_is(const char *sql, const char *want)
{
	char *got = split(sql);

	assert_string_equal(got, want);
	free(got);
}

static void test_statements(void **state)
{
	(void)state;
	split_is("SELECT 1; SELECT 2;", "SELECT 1;|SELECT 2;");
	split_is("SELECT 'a;b''c;'; SELECT 2", "SELECT 'a;b''c;';|SELECT 2");
	/* E'' strings take backslash escapes; a plain '' does not */
	split_is("SELECT E'\\';x'; SELECT 'a\\'; SELECT 3;", "SELECT E'\\';x';|SELECT 'a\\';|SELECT 3;");
	split_is("SELECT \"a;\"\"b\" FROM t; x;", "SELECT \"a;\"\"b\" FROM t;|x;");
	split_is("DO $$ BEGIN PERFORM 1; END $$; DO $f$ x; $$ y; $f$;", "DO $$ BEGIN PERFORM 1; END $$;|DO $f$ x; $$ y; $f$;");
	/* $1 is a parameter, not a dollar quote */
	split_is("PREPARE p AS SELECT $1; EXECUTE p(1);", "PREPARE p AS SELECT $1;|EXECUTE p(1);");
	split_is("SELECT 1 -- a; comment\n; SELECT 2 /* a /* nested; */ comment; */;",
		 "SELECT 1 -- a; comment\n;|SELECT 2 /* a /* nested; */ comment; */;");
	split_is("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END; SELECT 2;",
		 "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END;|SELECT 2;");
	/* BEGIN outside CREATE is a statement of its own */
	split_is("BEGIN; SELECT 1;", "BEGIN;|SELECT 1;");
	/* what never closes runs to the end */
	split_is("SELECT 'open; SELECT 2;", "SELECT 'open; SELECT 2;");
	split_is("SELECT $x$ open;", "SELECT $x$ open;");
	split_is("  -- only a comment\n", "");
}

static void tx_is(const char *sql, const char *want)
{
	const char *got = mig_pg_transaction_control(sql, sql + strlen(sql));

	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void test_transaction_control(void **state)
{
	(void)state;
	tx_is("COMMIT", "commit");
	tx_is("  /* x */ -- y\n end", "end");
	tx_is("Start Transaction", "start");
	tx_is("ROLLBACK TO s", "rollback");
	tx_is("savepoint a", "savepoint");
	tx_is("RELEASE a", "release");
	tx_is("abort", "abort");
	tx_is("begin", "begin");
	tx_is("PREPARE TRANSACTION 'x'", "prepare transaction");
	tx_is("PREPARE p AS SELECT 1", NULL);
	tx_is("COMMENT ON TABLE t IS 'x'", NULL);
	tx_is("\"commit\"", NULL);
	tx_is("CREATE TABLE commit_log (x int)", NULL);
	tx_is("endless", NULL);
}

static void concurrently_is(const char *sql, int want)
{
	assert_int_equal(mig_pg_concurrently(sql, sql + strlen(sql)), want);
}

static void test_concurrently(void **state)
{
	(void)state;
	concurrently_is("CREATE INDEX CONCURRENTLY a_x ON a (x)", 1);
	concurrently_is("create unique index concurrently on a (x)", 1);
	concurrently_is("/* c */ CREATE -- i\n INDEX\tCONCURRENTLY IF NOT EXISTS i ON a (x)", 1);
	concurrently_is("REINDEX INDEX CONCURRENTLY a_x", 1);
	concurrently_is("REINDEX TABLE CONCURRENTLY a", 1);
	concurrently_is("CREATE INDEX a_x ON a (x)", 0);
	concurrently_is("CREATE INDEX concurrently ON a (x)", 1);
	concurrently_is("CREATE TABLE concurrently (x int)", 0);
	concurrently_is("DROP INDEX CONCURRENTLY a_x", 0);
	concurrently_is("SELECT 'CREATE INDEX CONCURRENTLY'", 0);
	concurrently_is("", 0);
}

static void writes_is(const char *sql, int want)
{
	assert_int_equal(mig_pg_writes_schema(sql, sql + strlen(sql), "mig"), want);
}

static void test_bookkeeping_guard(void **state)
{
	(void)state;
	writes_is("SELECT * FROM mig.revisions", 0);
	writes_is("CREATE TABLE a AS SELECT count(*) FROM mig.revisions", 0);
	writes_is("WITH x AS (SELECT * FROM mig.journal) SELECT * FROM x", 0);
	writes_is("SELECT 'DELETE FROM mig.revisions'", 0);
	writes_is("SELECT 1 -- DELETE FROM mig.revisions", 0);
	writes_is("CREATE TABLE migrations (x int)", 0);
	writes_is("CREATE TABLE app.mig (x int)", 0);
	writes_is("DELETE FROM mig.revisions", 1);
	writes_is("WITH d AS (DELETE FROM mig.revisions RETURNING *) SELECT 1", 1);
	writes_is("INSERT INTO mig . journal VALUES (1)", 1);
	writes_is("UPDATE \"mig\".revisions SET dirty = 1", 1);
	writes_is("UPDATE ONLY mig.revisions SET dirty = 1", 1);
	writes_is("TRUNCATE mig.journal", 1);
	writes_is("DROP TABLE a, mig.revisions", 1);
	writes_is("DROP SCHEMA mig CASCADE", 1);
	writes_is("drop schema if exists MIG cascade", 1);
	writes_is("ALTER SCHEMA mig RENAME TO old", 1);
	writes_is("ALTER TABLE mig.revisions ADD COLUMN x int", 1);
	writes_is("CREATE TABLE mig.extra (x int)", 1);
	writes_is("CREATE INDEX ON mig.revisions (name)", 1);
	writes_is("CREATE TRIGGER t BEFORE INSERT ON mig.revisions FOR EACH ROW EXECUTE FUNCTION f()", 1);
	writes_is("COPY mig.revisions FROM '/tmp/x'", 1);
}

static void test_blank_word(void **state)
{
	char sql[] = "CREATE INDEX /* concurrently */ CONCURRENTLY i ON t (x)";

	(void)state;
	assert_int_equal(mig_pg_blank_word(sql, "concurrently"), 1);
	assert_string_equal(sql, "CREATE INDEX /* concurrently */              i ON t (x)");
	assert_int_equal(mig_pg_blank_word(sql, "concurrently"), 0);
}

/* mig.schema: one quoted name wherever it is written, whatever it holds */
static void test_schema_name(void **state)
{
	static const char *const writes[] = {
		"DELETE FROM \"a\"\"b; DROP\".revisions", "DROP SCHEMA \"a\"\"b; DROP\" CASCADE",
		"UPDATE \"Mig\".revisions SET dirty = 0",
	};
	struct mig_buf b = MIG_BUF_INIT;
	char *s;
	size_t i;

	(void)state;
	s = mig_pg_quote_ident("mig");
	assert_string_equal(s, "mig");
	free(s);
	s = mig_pg_quote_ident("a\"b; DROP");
	assert_string_equal(s, "\"a\"\"b; DROP\"");
	free(s);
	s = mig_pg_bk_sql("SELECT {S}.x, hashtext({N}), nextval({SEQ}), '{}'", "it's \"q\"");
	assert_string_equal(s, "SELECT \"it's \"\"q\"\"\".x, hashtext('it''s \"q\"'), "
			       "nextval('\"it''s \"\"q\"\"\".revisions_seq_seq'), '{}'");
	free(s);
	/* placeholders at either end, and a brace that ends the text */
	s = mig_pg_bk_sql("{S}.x = {N}", "m");
	assert_string_equal(s, "\"m\".x = 'm'");
	free(s);
	s = mig_pg_bk_sql("{", "m");
	assert_string_equal(s, "{");
	free(s);
	/* mig's own revisions call it mig: renamed, but not in strings, comments, quoted names or longer words */
	s = "CREATE SCHEMA IF NOT EXISTS mig; CREATE TABLE mig.t (c text DEFAULT 'mig'); -- mig\nSELECT \"mig\", mig_x";
	mig_pg_rename_schema(&b, s, s + strlen(s), "x\"y");
	mig_buf_adds(&b, "");
	assert_string_equal(b.buf, "CREATE SCHEMA IF NOT EXISTS \"x\"\"y\"; CREATE TABLE \"x\"\"y\".t "
				   "(c text DEFAULT 'mig'); -- mig\nSELECT \"mig\", mig_x");
	mig_buf_release(&b);
	/* the guard knows the name quoted; bare only when it is all lower case, as PostgreSQL folds it */
	for (i = 0; i < sizeof(writes) / sizeof(*writes); i++)
		assert_int_equal(mig_pg_writes_schema(writes[i], writes[i] + strlen(writes[i]),
						      i < 2 ? "a\"b; DROP" : "Mig"), 1);
	s = "DELETE FROM Mig.revisions";
	assert_int_equal(mig_pg_writes_schema(s, s + strlen(s), "Mig"), 0);
	s = "DELETE FROM MIG.revisions";
	assert_int_equal(mig_pg_writes_schema(s, s + strlen(s), "mig"), 1);
}

/*
 * Is every line of script that starts with "COPY " where the scanner
 * says between statements one of want (a '|'-separated list)? The
 * script is fed in pieces of every size, as long lines come.
 */
static void copy_lines_are(const char *script, const char *want)
{
	size_t n = strlen(script), step;

	for (step = 1; step <= n; step = step < 8 ? step + 1 : step * 3) {
		struct mig_pg_scan s;
		struct mig_buf got = MIG_BUF_INIT;
		size_t i, take;

		mig_pg_scan_init(&s);
		for (i = 0; i < n; i += take) {
			take = n - i < step ? n - i : step;
			/* the scanner's word counts at a line's start, before its first byte */
			if ((i == 0 || script[i - 1] == '\n') && !strncmp(script + i, "COPY ", 5) &&
			    mig_pg_scan_between(&s)) {
				const char *e = strchr(script + i, '\n');

				if (got.len)
					mig_buf_addc(&got, '|');
				mig_buf_add(&got, script + i, e ? (size_t)(e - script - i) : strlen(script + i));
			}
			/* a line's start is never inside a piece here: cut there */
			for (size_t j = i; j < i + take; j++)
				if (script[j] == '\n' && j + 1 < i + take) {
					take = j + 1 - i;
					break;
				}
			mig_pg_scan(&s, script + i, take);
		}
		assert_string_equal(got.buf ? got.buf : "", want);
		mig_buf_release(&got);
		mig_pg_scan_release(&s);
	}
}

static void test_scan_copy_lines(void **state)
{
	(void)state;
	copy_lines_are("SET x = 1;\nCOPY a (x) FROM stdin;\n", "COPY a (x) FROM stdin;");
	/* in a string, a quoted name, a dollar quote, a comment: no statement */
	copy_lines_are("COMMENT ON TABLE a IS 'load it with\nCOPY a FROM stdin;\n\\.\n';\nCOPY b FROM stdin;\n",
		       "COPY b FROM stdin;");
	copy_lines_are("COMMENT ON TABLE a IS 'it''s\nCOPY a FROM stdin;\n';\n", "");
	copy_lines_are("COMMENT ON TABLE a IS E'\\'\nCOPY a FROM stdin;\n';\n", "");
	copy_lines_are("COMMENT ON TABLE a IS 'x\\';\nCOPY a FROM stdin;\n", "COPY a FROM stdin;");
	copy_lines_are("CREATE TABLE \"we;\nCOPY a FROM stdin;\n\" (x int);\n", "");
	copy_lines_are("CREATE FUNCTION f() RETURNS int AS $body$\nSELECT 1;\nCOPY a FROM stdin;\n$body$;\n"
		       "CREATE FUNCTION g() RETURNS int AS $$ SELECT $1; $$;\nCOPY b FROM stdin;\n",
		       "COPY b FROM stdin;");
	copy_lines_are("SELECT $a$ $b$ ; $ab$ $a $a$;\nCOPY b FROM stdin;\n", "COPY b FROM stdin;");
	copy_lines_are("SELECT x$y$ FROM t;\nCOPY b FROM stdin;\n", "COPY b FROM stdin;");
	copy_lines_are("/* a /* nested */\nCOPY a FROM stdin;\n*/\nCOPY b FROM stdin;\n", "COPY b FROM stdin;");
	copy_lines_are("SELECT 1 /*/ ;\nCOPY a FROM stdin;\n*/;\n-- ;\nCOPY b FROM stdin;\n", "COPY b FROM stdin;");
	copy_lines_are("SELECT 1\nCOPY a FROM stdin;\n", "");
	copy_lines_are("SELECT 1 -- ;\nCOPY a FROM stdin;\n", "");
	/* a psql meta-command between statements is a line of its own */
	copy_lines_are("\\connect 'x;\nCOPY b FROM stdin;\n", "COPY b FROM stdin;");
	/* a body in standard SQL, as psql reads it: its ';'s end no statement, CASE and END nest */
	copy_lines_are("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;\nCOPY a FROM stdin;\n"
		       "SELECT CASE WHEN true THEN 1 END;\nCOPY b FROM stdin;\nEND;\nCOPY c FROM stdin;\n",
		       "COPY c FROM stdin;");
	copy_lines_are("Create Or Replace Procedure p() BEGIN ATOMIC SELECT 1;\nCOPY a FROM stdin;\nend;\n"
		       "COPY b FROM stdin;\n", "COPY b FROM stdin;");
	/* elsewhere BEGIN and END are words; inside parentheses a ';' ends nothing */
	copy_lines_are("CREATE TABLE begin (x int);\nCOPY a FROM stdin;\n", "COPY a FROM stdin;");
	copy_lines_are("CREATE FUNCTION f(begin int) RETURNS int AS 'x';\nCOPY a FROM stdin;\n", "COPY a FROM stdin;");
	copy_lines_are("SELECT (1;\nCOPY a FROM stdin;\n);\nCOPY b FROM stdin;\n", "COPY b FROM stdin;");
	copy_lines_are("CREATE FUNCTION beginner() RETURNS int AS 'x';\nCOPY a FROM stdin;\n", "COPY a FROM stdin;");
}

static int copy_line(const char *line)
{
	return mig_pg_copy_from_stdin(line, line + strlen(line));
}

/* pg_dump's COPY lines, and what only ends like one */
static void test_copy_from_stdin(void **state)
{
	(void)state;
	assert_true(copy_line("COPY public.t (a, b) FROM stdin;\n"));
	assert_true(copy_line("COPY t  FROM stdin;\n"));
	assert_true(copy_line("COPY \"we ird\".\"from x\" (\"from\") FROM stdin;\r\n"));
	assert_false(copy_line("COPY (SELECT 1) TO stdout; -- FROM stdin;\n"));
	assert_false(copy_line("COPY t FROM '/dev/null' WHERE a IS DISTINCT FROM stdin;\n"));
	assert_false(copy_line("COPY t FROM stdin; SELECT 1;\n"));
	assert_false(copy_line("COPY t FROM stdin /* x */ ; -- y\n"));
	assert_false(copy_line("COPY t FROM stdin\n"));
	assert_false(copy_line("COPY t FROM stdout;\n"));
	assert_false(copy_line("COPYt FROM stdin;\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statements),
		cmocka_unit_test(test_transaction_control),
		cmocka_unit_test(test_concurrently),
		cmocka_unit_test(test_bookkeeping_guard),
		cmocka_unit_test(test_blank_word),
		cmocka_unit_test(test_schema_name),
		cmocka_unit_test(test_scan_copy_lines),
		cmocka_unit_test(test_copy_from_stdin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
