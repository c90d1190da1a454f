/*
 * mig_cli_parse, the option parser of every binary: bundles, --x=v and
 * --x v, "--", operands in their order among options, the global options
 * after the command's own. Its misuse paths print and exit 2: they run in
 * a forked child, whose exit status and stderr are checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pty.h>
#include <cmocka.h>

#include "cli.h"
#include "util.h"

static int flag, count, number;
static const char *name;

static const struct mig_opt opts[] = {
	MIG_OPT_BOOL('n', "dry-run", &flag, "a flag"),
	MIG_OPT_COUNT('x', "extra", &count, "counted"),
	MIG_OPT_STRING('m', "name", &name, "name", "the command's -m, which wins over the global one"),
	MIG_OPT_INT(0, "keep", &number, "n", "a number"),
	MIG_OPT_END(),
};

static const char *const usage[] = { "mig test [-n] [-m NAME] [ARG...]", NULL };

/* argv from the blank separated words of line ("" for an empty word) */
struct args {
	char *buf;
	char *v[32];
	int c;
};

static void split(struct args *a, const char *line)
{
	char *p;

	a->buf = mig_xstrdup(line);
	a->c = 0;
	for (p = strtok(a->buf, " "); p && a->c < 31; p = strtok(NULL, " "))
		a->v[a->c++] = strcmp(p, "\"\"") ? p : p + 2;
	a->v[a->c] = NULL;
}

static void reset(void)
{
	flag = count = number = 0;
	name = NULL;
	memset(&mig_globals, 0, sizeof(mig_globals));
	mig_globals.lock_timeout = -1;
}

/* what the values point into: kept until the next parse */
static struct args a;

/* Parse line; the operands, blank separated. */
static char *parse(const char *line)
{
	struct mig_buf b = MIG_BUF_INIT;
	int i, n;

	reset();
	free(a.buf);
	split(&a, line);
	n = mig_cli_parse(a.c, a.v, opts, usage);
	for (i = 0; i < n; i++)
		mig_buf_addf(&b, "%s%s", i ? " " : "", a.v[i]);
	assert_null(a.v[n]);
	return b.len ? mig_buf_detach(&b) : mig_xstrdup("");
}

#define expect_operands(line, want) do { \
		char *got_ = parse(line); \
		assert_string_equal(got_, want); \
		free(got_); \
	} while (0)

/* Parse line in a child: its exit status, and the first line of what it printed on fd. */
static int misuse(const char *line, int fd, char *first, size_t size)
{
	int p[2], status;
	char rest[512];
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	char *nl;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], fd);
		/* the parent's last words go, so LeakSanitizer finds none lost at exit */
		free(a.buf);
		split(&a, line);
		reset();
		mig_cli_parse(a.c, a.v, opts, usage);
		_exit(99);	/* it returned: no misuse found */
	}
	close(p[1]);
	/* all of it, so the child never writes to a closed pipe */
	while ((n = read(p[0], first + got, size - 1 - got)) > 0 && (got += (size_t)n) < size - 1)
		;
	while (read(p[0], rest, sizeof(rest)) > 0)
		;
	first[got] = '\0';
	if ((nl = strchr(first, '\n')))
		*nl = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#define expect_misuse(line, msg) do { \
		char first_[512]; \
		assert_int_equal(misuse(line, 2, first_, sizeof(first_)), 2); \
		assert_string_equal(first_, msg); \
	} while (0)

static void test_operands_keep_their_order_among_options(void **state)
{
	(void)state;
	expect_operands("mig-test a -n b --extra c", "a b c");
	assert_int_equal(flag, 1);
	assert_int_equal(count, 1);
	expect_operands("mig-test", "");
	assert_int_equal(flag, 0);
	/* a lone '-' and '-N' are operands (stdin, a revision spec) */
	expect_operands("mig-test - -1 -22 x", "- -1 -22 x");
	assert_string_equal(mig_prog, "mig-test");
	expect_operands("/usr/lib/mig/mig-test x", "x");
	assert_string_equal(mig_prog, "mig-test");
}

static void test_double_dash_ends_options(void **state)
{
	(void)state;
	expect_operands("mig-test a -- -n --name=x -- b", "a -n --name=x -- b");
	assert_int_equal(flag, 0);
	assert_null(name);
	expect_operands("mig-test -n --", "");
	assert_int_equal(flag, 1);
}

static void test_values_glued_or_apart(void **state)
{
	(void)state;
	expect_operands("mig-test --name=one", "");
	assert_string_equal(name, "one");
	expect_operands("mig-test --name two x", "x");
	assert_string_equal(name, "two");
	expect_operands("mig-test -mthree", "");
	assert_string_equal(name, "three");
	expect_operands("mig-test -m four", "");
	assert_string_equal(name, "four");
	/* an empty value is a value; one that looks like an option is too */
	expect_operands("mig-test --name= y", "y");
	assert_string_equal(name, "");
	expect_operands("mig-test --name -n", "");
	assert_string_equal(name, "-n");
	assert_int_equal(flag, 0);
	expect_operands("mig-test --keep=12 --keep 7", "");
	assert_int_equal(number, 7);
	expect_operands("mig-test --keep 2147483647", "");
	assert_int_equal(number, 2147483647);
}

static void test_bundles_of_short_options(void **state)
{
	(void)state;
	expect_operands("mig-test -nxx a", "a");
	assert_int_equal(flag, 1);
	assert_int_equal(count, 2);
	/* an option taking a value ends the bundle: the rest is its value */
	expect_operands("mig-test -xmnx b", "b");
	assert_int_equal(count, 1);
	assert_string_equal(name, "nx");
	assert_int_equal(flag, 0);
	expect_operands("mig-test -nm five", "");
	assert_string_equal(name, "five");
	/* -q and -v are global; counted */
	expect_operands("mig-test -qvv", "");
	assert_int_equal(mig_globals.quiet, 1);
	assert_int_equal(mig_globals.verbose, 2);
}

static void test_global_options_after_the_command_own(void **state)
{
	(void)state;
	expect_operands("mig-test -d app.db --migrations=m --store s x", "x");
	assert_string_equal(mig_globals.database, "app.db");
	assert_string_equal(mig_globals.migrations, "m");
	assert_string_equal(mig_globals.store, "s");
	/* the command's -m wins the clash; --migrations is still the global */
	assert_null(name);
	expect_operands("mig-test -m n --database=d.db", "");
	assert_string_equal(name, "n");
	assert_null(mig_globals.migrations);
	assert_string_equal(mig_globals.database, "d.db");
	expect_operands("mig-test --quiet --verbose", "");
	assert_int_equal(mig_globals.quiet, 1);
	assert_int_equal(mig_globals.verbose, 1);
}

static void test_misuse_exits_2_naming_it(void **state)
{
	(void)state;
	expect_misuse("mig-test --nope", "mig-test: error: unknown option '--nope'");
	expect_misuse("mig-test --nope=1", "mig-test: error: unknown option '--nope'");
	expect_misuse("mig-test -nz", "mig-test: error: unknown option '-z'");
	expect_misuse("mig-test --name", "mig-test: error: option '--name' requires a value");
	expect_misuse("mig-test -m", "mig-test: error: option '-m' requires a value");
	expect_misuse("mig-test -nm", "mig-test: error: option '-m' requires a value");
	expect_misuse("mig-test --dry-run=yes", "mig-test: error: option '--dry-run' takes no value");
	expect_misuse("mig-test --keep=-1",
		      "mig-test: error: option '--keep' expects a non-negative number, not '-1'");
	expect_misuse("mig-test --keep 12x",
		      "mig-test: error: option '--keep' expects a non-negative number, not '12x'");
	expect_misuse("mig-test --keep= a",
		      "mig-test: error: option '--keep' expects a non-negative number, not ''");
	expect_misuse("mig-test --keep=2147483648",
		      "mig-test: error: option '--keep' expects a non-negative number, not '2147483648'");
	expect_misuse("mig-test -C /nonexistent/mig-test",
		      "mig-test: error: cannot change to '/nonexistent/mig-test': No such file or directory");
	/* partial long names are not guessed, only suggested */
	expect_misuse("mig-test --dry", "mig-test: error: unknown option '--dry'; did you mean '--dry-run'?");
}

static void test_h_prints_usage_and_exits_0(void **state)
{
	char first[512];

	(void)state;
	assert_int_equal(misuse("mig-test x -h", 1, first, sizeof(first)), 0);
	assert_string_equal(first, "usage: mig test [-n] [-m NAME] [ARG...]");
	assert_int_equal(misuse("mig-test -nh", 1, first, sizeof(first)), 0);
	assert_string_equal(first, "usage: mig test [-n] [-m NAME] [ARG...]");
	/* after --, -h is an operand */
	assert_int_equal(misuse("mig-test -- -h", 1, first, sizeof(first)), 99);
}

/* What f holds, from its start. */
static char *contents(FILE *f)
{
	struct mig_buf b = MIG_BUF_INIT;
	char buf[256];
	size_t n;

	rewind(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		mig_buf_add(&b, buf, n);
	return b.len ? mig_buf_detach(&b) : mig_xstrdup("");
}

static void test_notes_keep_their_newline_and_escape_the_rest(void **state)
{
	FILE *f = tmpfile();
	char *got;

	(void)state;
	assert_non_null(f);
	mig_note(f, "applying %s\n", "0001_a");
	mig_note(f, "no newline: %s", "a\nb\033");
	mig_note(f, "%s", "");
	mig_note(f, "\n");
	got = contents(f);
	assert_string_equal(got, "applying 0001_a\nno newline: a\\nb\\x1b\n");
	free(got);
	fclose(f);
}

/* mig_report in a child, its stderr the pipe's: the exit code it returns, what it printed */
static int report_in_child(const struct mig_err *err, char *out, size_t size)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		close(p[0]);
		dup2(p[1], 2);
		mig_prog = "mig-test";
		_exit(mig_report(err));
	}
	close(p[1]);
	n = read(p[0], out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WEXITSTATUS(status);
}

static void test_a_report_is_the_error_its_hints_and_its_exit_code(void **state)
{
	struct mig_err err = MIG_ERR_INIT;
	char out[512];

	(void)state;
	mig_err_set(&err, MIG_EUNSAFE, "0001_a was modified after it was applied");
	mig_err_hint(&err, "put the file back\nor accept the edit");
	assert_int_equal(report_in_child(&err, out, sizeof(out)), 5);
	assert_string_equal(out, "mig-test: error: 0001_a was modified after it was applied\n"
			    "hint: put the file back\nhint: or accept the edit\n");
	/* an error with no message or code still says something, and exits 6 */
	mig_err_clear(&err);
	assert_int_equal(report_in_child(&err, out, sizeof(out)), 6);
	assert_string_equal(out, "mig-test: error: unknown error\n");
}

static void test_colour_only_on_a_terminal_and_never_with_no_color(void **state)
{
	FILE *f = tmpfile(), *tty;
	int master, slave;

	(void)state;
	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	assert_non_null(tty = fdopen(slave, "w"));
	unsetenv("NO_COLOR");
	assert_false(mig_want_color(f));
	assert_true(mig_want_color(tty));
	setenv("NO_COLOR", "1", 1);
	assert_false(mig_want_color(tty));
	/* NO_COLOR set but empty says nothing (no-color.org) */
	setenv("NO_COLOR", "", 1);
	assert_true(mig_want_color(tty));
	unsetenv("NO_COLOR");
	fclose(tty);
	close(master);
	fclose(f);
}

static void test_a_failed_write_to_stdout_is_exit_6(void **state)
{
	int p[2], status;
	char out[512];
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		close(p[0]);
		dup2(p[1], 2);
		mig_prog = "mig-test";
		if (!freopen("/dev/full", "w", stdout))
			_exit(99);
		fputs("data", stdout);
		_exit(mig_close_stdout(0));
	}
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 6);
	assert_string_equal(out, "mig-test: error: write failure on standard output: No space left on device\n");
	/* nothing written, nothing to fail: the code passes through */
	assert_int_equal(mig_close_stdout(3), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_operands_keep_their_order_among_options),
		cmocka_unit_test(test_double_dash_ends_options),
		cmocka_unit_test(test_values_glued_or_apart),
		cmocka_unit_test(test_bundles_of_short_options),
		cmocka_unit_test(test_global_options_after_the_command_own),
		cmocka_unit_test(test_misuse_exits_2_naming_it),
		cmocka_unit_test(test_h_prints_usage_and_exits_0),
		cmocka_unit_test(test_notes_keep_their_newline_and_escape_the_rest),
		cmocka_unit_test(test_a_report_is_the_error_its_hints_and_its_exit_code),
		cmocka_unit_test(test_colour_only_on_a_terminal_and_never_with_no_color),
		cmocka_unit_test(test_a_failed_write_to_stdout_is_exit_6),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(a.buf);
	return rc;
}
