/*
 * Naming the rows behind a constraint failure: the statement shapes the
 * command-line tests do not reach (quoted and qualified names, OR
 * clauses, composite keys, CHECKs with strings and nested parentheses,
 * more rows than the sample holds) and the failures it must leave alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "sqlite-diagnose.h"

static sqlite3 *db(const char *setup)
{
	sqlite3 *h = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open_v2(":memory:", &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
			 SQLITE_OK);
	sqlite3_extended_result_codes(h, 1);
	if (sqlite3_exec(h, setup, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("set-up failed: %s", msg);
	return h;
}

/* Run stmt, which must fail, diagnose it, and compare the hint (NULL: none). */
static void expect(sqlite3 *h, const char *stmt, const char *msg, const char *hint)
{
	struct mig_err err = MIG_ERR_INIT;

	assert_int_not_equal(sqlite3_exec(h, stmt, NULL, NULL, NULL), SQLITE_OK);
	if (msg)
		assert_string_equal(sqlite3_errmsg(h), msg);
	mig_diagnose(h, stmt, strlen(stmt), &err);
	assert_string_equal(err.hint, hint ? hint : "");
	assert_string_equal(err.msg, "");
}

static void test_quoted_qualified_insert(void **state)
{
	sqlite3 *h = db("CREATE TABLE \"old users\" (id INTEGER PRIMARY KEY, email TEXT);"
			"INSERT INTO \"old users\" VALUES (1, 'a'), (2, NULL), (3, NULL);"
			"CREATE TABLE [new users] (id INTEGER PRIMARY KEY, email TEXT NOT NULL);");

	(void)state;
	/* schema-qualified, bracket- and double-quoted, OR clause, trailing ';' */
	expect(h, "INSERT OR ABORT INTO main.[new users] ([id], \"email\")\n"
		  "  SELECT id, email FROM `old users` ;; \n",
	       "NOT NULL constraint failed: new users.email",
	       "2 rows of old users would leave new users.email NULL: rowid 2, 3; fix or delete them, then run again");
	/* REPLACE, no column list: the target's columns in order */
	expect(h, "REPLACE INTO [new users] SELECT * FROM \"old users\"",
	       NULL, "2 rows of old users would leave new users.email NULL: rowid 2, 3; fix or delete them, then run again");
	sqlite3_close(h);
}

static void test_quote_in_a_name(void **state)
{
	sqlite3 *h = db("CREATE TABLE t (\"e\"\"mail\" TEXT);"
			"INSERT INTO t VALUES ('a'), ('a');");

	(void)state;
	expect(h, "CREATE UNIQUE INDEX t_e ON t (\"e\"\"mail\")", "UNIQUE constraint failed: t.e\"mail",
	       "1 value of t (e\"mail) is duplicated in t: 'a' (rowid 1, 2); fix or delete them, then run again");
	sqlite3_close(h);
}

/* Names that start with '_' or hold a '$', unquoted */
static void test_bare_names(void **state)
{
	sqlite3 *h = db("CREATE TABLE _old (id INTEGER PRIMARY KEY, a$b TEXT);"
			"INSERT INTO _old VALUES (1, NULL);"
			"CREATE TABLE _new (id INTEGER PRIMARY KEY, a$b TEXT NOT NULL);");

	(void)state;
	expect(h, "INSERT INTO _new (id, a$b) SELECT id, a$b FROM _old", "NOT NULL constraint failed: _new.a$b",
	       "1 row of _old would leave _new.a$b NULL: rowid 1; fix or delete it, then run again");
	sqlite3_close(h);
}

static void test_source_not_a_table(void **state)
{
	sqlite3 *h = db("CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT);"
			"INSERT INTO a VALUES (1, NULL);"
			"CREATE TABLE b (id INTEGER PRIMARY KEY, x TEXT NOT NULL);");

	(void)state;
	/* FROM a subquery: no name for the source, and no rowid to take */
	expect(h, "INSERT INTO b (id, x) SELECT id, x FROM (SELECT * FROM a)",
	       NULL, "1 row of the source would leave b.x NULL (its SELECT reads no single table, so no rowids)");
	sqlite3_close(h);
}

static void test_composite_unique_and_sample(void **state)
{
	sqlite3 *h = db("CREATE TABLE t (a INTEGER, b INTEGER);"
			"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 14)"
			" INSERT INTO t SELECT i % 7, 0 FROM n;"
			"INSERT INTO t VALUES (NULL, 0), (NULL, 0);");

	(void)state;
	/* seven duplicated keys, five shown; the two NULL keys are not duplicates */
	expect(h, "CREATE UNIQUE INDEX t_ab ON t (a, b)", "UNIQUE constraint failed: t.a, t.b",
	       "7 values of t (a, b) are duplicated in t: (0, 0) (rowid 7, 14), (1, 0) (rowid 1, 8), "
	       "(2, 0) (rowid 2, 9), (3, 0) (rowid 3, 10), (4, 0) (rowid 4, 11), ...; fix or delete them, then run again");
	sqlite3_close(h);
}

static void test_check_outside_insert(void **state)
{
	sqlite3 *h = db("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, age INTEGER,"
			" CONSTRAINT other CHECK (id > 0),"
			" CONSTRAINT sane CHECK (name <> ')' AND (age > 0 OR (name = 'x'))));"
			"INSERT INTO t VALUES (1, 'a', 5), (2, 'b', 6);");

	(void)state;
	/* a named CHECK whose body holds a string with a parenthesis, and nested ones */
	expect(h, "UPDATE OR FAIL t SET age = -1 WHERE id = 2", "CHECK constraint failed: sane",
	       NULL);
	/* the failing UPDATE rolled back its row: nothing in t breaks the CHECK yet */
	sqlite3_exec(h, "PRAGMA ignore_check_constraints = 1; UPDATE t SET age = -1;"
		     " PRAGMA ignore_check_constraints = 0", NULL, NULL, NULL);
	expect(h, "UPDATE t SET age = -2 WHERE id = 1", "CHECK constraint failed: sane",
	       "2 rows of t fail CHECK (name <> ')' AND (age > 0 OR (name = 'x'))): rowid 1, 2; "
	       "fix or delete them, then run again");
	expect(h, "UPDATE OR ROLLBACK \"t\" SET age = -2 WHERE id = 1", NULL,
	       "2 rows of t fail CHECK (name <> ')' AND (age > 0 OR (name = 'x'))): rowid 1, 2; "
	       "fix or delete them, then run again");
	/* a CHECK failing in something other than INSERT or UPDATE: no table to ask */
	expect(h, "CREATE TABLE u AS SELECT 1; INSERT INTO t VALUES (3, 'c', -3)", NULL, NULL);
	sqlite3_close(h);
}

static void test_unnamed_check_in_insert(void **state)
{
	sqlite3 *h = db("CREATE TABLE src (v INTEGER);"
			"INSERT INTO src VALUES (1), (-1);"
			"CREATE TABLE dst (v INTEGER CHECK (v > 0));");

	(void)state;
	expect(h, "INSERT INTO dst (v) SELECT v FROM src", "CHECK constraint failed: v > 0",
	       "1 row of src fails CHECK (v > 0): rowid 2; fix or delete it, then run again");
	sqlite3_close(h);
}

/* A PRIMARY KEY that is not the rowid fails as its own constraint, and is named like UNIQUE */
static void test_primary_key_in_a_rebuild(void **state)
{
	sqlite3 *h = db("CREATE TABLE old (code TEXT, n INTEGER);"
			"INSERT INTO old VALUES ('a', 1), ('b', 2), ('a', 3);"
			"CREATE TABLE new (code TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID;");

	(void)state;
	expect(h, "INSERT INTO new (code, n) SELECT code, n FROM old", "UNIQUE constraint failed: new.code",
	       "1 value of new (code) is duplicated in old: 'a' (rowid 1, 3); fix or delete them, then run again");
	sqlite3_close(h);
}

/* A constraint SQLite names by no column (an index on an expression) is not guessed at */
static void test_no_column_named(void **state)
{
	sqlite3 *h = db("CREATE TABLE t (name TEXT); INSERT INTO t VALUES ('A'), ('a');"
			"CREATE TABLE c (x INTEGER CONSTRAINT pk PRIMARY KEY, y INTEGER CONSTRAINT big CHECK (y > 9));"
			"INSERT INTO c VALUES (1, 10);");

	(void)state;
	expect(h, "CREATE UNIQUE INDEX t_lower ON t (lower(name))", "UNIQUE constraint failed: index 't_lower'",
	       NULL);
	/* a named constraint that is no CHECK is passed over on the way to the CHECK */
	sqlite3_exec(h, "PRAGMA ignore_check_constraints = 1; UPDATE c SET y = 1;"
		     " PRAGMA ignore_check_constraints = 0", NULL, NULL, NULL);
	expect(h, "UPDATE c SET y = 2", "CHECK constraint failed: big",
	       "1 row of c fails CHECK (y > 9): rowid 1; fix or delete it, then run again");
	sqlite3_close(h);
}

static void test_left_alone(void **state)
{
	sqlite3 *h = db("PRAGMA foreign_keys = ON;"
			"CREATE TABLE p (id INTEGER PRIMARY KEY);"
			"CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p, x TEXT NOT NULL);");

	(void)state;
	/* not NOT NULL, UNIQUE or CHECK */
	expect(h, "INSERT INTO c VALUES (1, 9, 'a')", "FOREIGN KEY constraint failed", NULL);
	expect(h, "SELECT * FROM nosuch", "no such table: nosuch", NULL);
	/* an INSERT into another table than SQLite names, and no rows to blame */
	expect(h, "INSERT INTO c VALUES (1, NULL, NULL)", "NOT NULL constraint failed: c.x", NULL);
	/* statements cut short */
	expect(h, "INSERT", NULL, NULL);
	sqlite3_close(h);
}

/* Every prefix of a statement: no read past its end, no hint before its SELECT */
static void cut_short(sqlite3 *h, const char *stmt, const char *from, const char *hint)
{
	size_t len = strlen(stmt), n, before = (size_t)(strstr(stmt, from) - stmt);

	for (n = 0; n <= len; n++) {
		struct mig_err err = MIG_ERR_INIT;
		char *copy = malloc(n ? n : 1);

		/* a copy of exactly n bytes, so a sanitizer sees a read past it */
		memcpy(copy, stmt, n);
		assert_int_not_equal(sqlite3_exec(h, stmt, NULL, NULL, NULL), SQLITE_OK);
		mig_diagnose(h, copy, n, &err);
		if (n <= before)
			assert_string_equal(err.hint, "");
		if (n == len)
			assert_string_equal(err.hint, hint);
		free(copy);
	}
}

static void test_cut_short(void **state)
{
	sqlite3 *h = db("CREATE TABLE a (x TEXT); INSERT INTO a VALUES (NULL);"
			"CREATE TABLE b (x TEXT NOT NULL, y INTEGER CONSTRAINT pos CHECK (y > 0));"
			"INSERT INTO b VALUES ('v', 1);");

	(void)state;
	cut_short(h, "INSERT OR ABORT INTO main.\"b\" (\"x\") SELECT x FROM a", "SELECT",
		  "1 row of a would leave b.x NULL: rowid 1; fix or delete it, then run again");
	/* the rows of b break the CHECK only while it is ignored */
	sqlite3_exec(h, "PRAGMA ignore_check_constraints = 1; UPDATE b SET y = -1; PRAGMA ignore_check_constraints = 0",
		     NULL, NULL, NULL);
	cut_short(h, "UPDATE OR ABORT [b] SET y = -2", "[b]",
		  "1 row of b fails CHECK (y > 0): rowid 1; fix or delete it, then run again");
	sqlite3_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quoted_qualified_insert),
		cmocka_unit_test(test_quote_in_a_name),
		cmocka_unit_test(test_bare_names),
		cmocka_unit_test(test_source_not_a_table),
		cmocka_unit_test(test_composite_unique_and_sample),
		cmocka_unit_test(test_check_outside_insert),
		cmocka_unit_test(test_unnamed_check_in_insert),
		cmocka_unit_test(test_primary_key_in_a_rebuild),
		cmocka_unit_test(test_no_column_named),
		cmocka_unit_test(test_left_alone),
		cmocka_unit_test(test_cut_short),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
