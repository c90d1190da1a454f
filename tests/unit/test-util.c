/* The small helpers every module leans on: JSON and terminal escapes, files, paths, SQL spacing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fnmatch.h>
#include <cmocka.h>

#include "err.h"
#include "util.h"

static void check(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

static char *json(const char *s)
{
	struct mig_buf b = MIG_BUF_INIT;

	mig_buf_add_json(&b, s);
	return mig_buf_detach(&b);
}

static char *tty(const char *s)
{
	struct mig_buf b = MIG_BUF_INIT;

	mig_buf_add_tty(&b, s, strlen(s));
	return mig_buf_detach(&b);
}

/*
 * Blob ids where SHA-1's padding changes, counting git's "blob N\0"
 * header (8 or 9 bytes here): 55 bytes in all fit one block with the
 * length, 56 need a second, 64 fill one; 119 and 120 the same a block
 * on (printf 'a%.0s' $(seq N) | git hash-object --stdin).
 */
static void test_blob_id(void **state)
{
	static const struct {
		size_t n;
		const char *id;
	} want[] = {
		{ 47, "5e3bf7e629b4908cce461530c17a64365cb47303" },
		{ 48, "12d42395b020f44bb7710113b31f688d0ebeda7c" },
		{ 56, "1f973e890f52da1f22fa7e5620a628bc4ee74cb3" },
		{ 110, "1fcb14c5910397220c4f8d0dd2203c70116bd4e0" },
		{ 111, "d64a843f44190f041194ba87abf3cedc76eeb30e" },
	};
	char a[128], id[41];
	size_t i;

	(void)state;
	memset(a, 'a', sizeof(a));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		mig_blob_id(id, a, want[i].n);
		assert_string_equal(id, want[i].id);
	}
	mig_blob_id(id, "", 0);
	assert_string_equal(id, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
}

static void test_json(void **state)
{
	(void)state;
	check(json("a\"b\\c\nd\te\x01\x7f"), "\"a\\\"b\\\\c\\nd\\te\\u0001\\u007f\"");
	/* two-, three- and four-byte UTF-8 as it is; a C1 control escaped */
	check(json("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc2\x85"),
	      "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\u0085\"");
	/* not UTF-8: overlong, a lead byte past U+10FFFF, a broken sequence, a stray byte */
	check(json("\xc0\xaf\xf5\x80\x80\x80\xe2\x28\xff"),
	      "\"\\u00c0\\u00af\\u00f5\\u0080\\u0080\\u0080\\u00e2(\\u00ff\"");
}

static void test_tty_multibyte(void **state)
{
	(void)state;
	check(tty("\xe2\x82\xac \xf0\x9f\x98\x80"), "\xe2\x82\xac \xf0\x9f\x98\x80");
	/* a sequence cut short by the end, a lead byte past U+10FFFF */
	check(tty("a\xf0\x9f\x98"), "a\\xf0\\x9f\\x98");
	check(tty("\xf8\x88"), "\\xf8\\x88");
	/* an overlong lead, one past U+10FFFF, and U+00A0, which is no control */
	check(tty("\xc1\xbf \xf5\x80\x80\x80 \xc2\xa0"), "\\xc1\\xbf \\xf5\\x80\\x80\\x80 \xc2\xa0");
	check(json("\xc2\xa0\xc3"), "\"\xc2\xa0\\u00c3\"");
}

static void test_unesc(void **state)
{
	(void)state;
	check(mig_unesc("\\x4A\\x4a\\xAf", 12), "JJ\xaf");
	/* \x00 would cut the name short, and half an escape is kept as it is */
	check(mig_unesc("\\x00\\xg1\\x4", 12), "\\x00\\xg1\\x4");
	check(mig_unesc("\\x4g\\x", 6), "\\x4g\\x");
}

static void test_read_errors(void **state)
{
	struct mig_buf b = MIG_BUF_INIT;
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	/* a regular file whose read fails (address 0 is not mapped): an I/O error, the environment's */
	assert_int_equal(mig_read_file(&b, "/proc/self/mem", &err), MIG_EENV);
	assert_string_equal(err.msg, "cannot read '/proc/self/mem': Input/output error");
	assert_int_equal(mig_read_file(&b, "/nonexistent/x", &err), MIG_EINVALID);
	assert_string_equal(err.msg, "cannot read '/nonexistent/x': No such file or directory");
	mig_buf_release(&b);
}

static void test_file_kind(void **state)
{
	(void)state;
	assert_string_equal(mig_file_kind(S_IFREG | 0644), "a regular file");
	assert_string_equal(mig_file_kind(S_IFDIR), "a directory");
	assert_string_equal(mig_file_kind(S_IFIFO), "a FIFO");
	assert_string_equal(mig_file_kind(S_IFCHR), "a character device");
	assert_string_equal(mig_file_kind(S_IFBLK), "a block device");
	assert_string_equal(mig_file_kind(S_IFSOCK), "a socket");
	assert_string_equal(mig_file_kind(S_IFLNK), "a special file");
}

static void test_write_and_sync(void **state)
{
	int fd[2];

	(void)state;
	assert_int_equal(pipe(fd), 0);
	close(fd[0]);
	close(fd[1]);
	errno = 0;
	assert_int_equal(mig_write_all(fd[1], "x", 1), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(mig_fsync_parent("/nonexistent/dir/file"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(mig_fsync_parent("/etc"), 0);
	assert_int_equal(mig_fsync_parent("file-here"), 0);
}

static void test_path_join(void **state)
{
	(void)state;
	check(mig_path_join("", "a"), "a");
	check(mig_path_join(".", "a"), "a");
	check(mig_path_join("d/", "a"), "d/a");
	check(mig_path_join("d", "a"), "d/a");
}

/* A name in a glob pattern matches itself only */
static void test_glob_quote(void **state)
{
	char *q;

	(void)state;
	check(mig_glob_quote(""), "");
	check(mig_glob_quote("0001_a.sql"), "0001_a.sql");
	check(mig_glob_quote("a*b?c[d]\\e"), "a\\*b\\?c\\[d]\\\\e");
	q = mig_glob_quote("a*b?c[d]\\e");
	assert_int_equal(fnmatch(q, "a*b?c[d]\\e", 0), 0);
	assert_int_equal(fnmatch(q, "axbyc[d]\\e", 0), FNM_NOMATCH);
	assert_int_equal(fnmatch(q, "a*b?cd\\e", 0), FNM_NOMATCH);
	free(q);
}

static void test_skip_space(void **state)
{
	static const char s[] = " \t\r\n\f-- comment\n/* block */x";
	static const char open[] = "/* never closed";
	static const char dash[] = "-";
	static const char minus[] = " -1", slash[] = " /2", star[] = "/* a * b */x", line[] = "-- to the end";

	(void)state;
	assert_ptr_equal(mig_sql_skip_space(s, s + strlen(s)), s + strlen(s) - 1);
	assert_ptr_equal(mig_sql_skip_space(open, open + strlen(open)), open + strlen(open));
	assert_ptr_equal(mig_sql_skip_space(dash, dash + 1), dash);
	/* a '-' or '/' that starts no comment is SQL; a '*' inside a block is not its end */
	assert_ptr_equal(mig_sql_skip_space(minus, minus + strlen(minus)), minus + 1);
	assert_ptr_equal(mig_sql_skip_space(slash, slash + strlen(slash)), slash + 1);
	assert_ptr_equal(mig_sql_skip_space(star, star + strlen(star)), star + strlen(star) - 1);
	assert_ptr_equal(mig_sql_skip_space(line, line + strlen(line)), line + strlen(line));
}

/* Times as the journal and backup --list show them; a format that makes nothing says when */
static void test_time_format(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(mig_time_format(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", 86400, 1),
			    "1970-01-02T00:00:00Z");
	setenv("TZ", "UTC", 1);
	tzset();
	assert_string_equal(mig_time_format(buf, sizeof(buf), "%Y-%m-%d %H:%M", 90, 0), "1970-01-01 00:01");
	assert_string_equal(mig_time_format(buf, sizeof(buf), "", 1234, 1), "@1234");
	/* too small for the time: the seconds, cut to fit */
	assert_string_equal(mig_time_format(buf, 4, "%Y-%m-%d", 0, 1), "@0");
}

/* Errors: a caller may pass no err at all; hints add up to what the buffer holds. */
static void test_err(void **state)
{
	struct mig_err err = MIG_ERR_INIT;
	char big[MIG_ERR_MSG + 10];
	int i;

	(void)state;
	assert_int_equal(mig_err_set(NULL, MIG_EENV, "x"), MIG_EENV);
	assert_int_equal(mig_err_errno(NULL, MIG_EUSAGE, "x"), MIG_EUSAGE);
	mig_err_hint(NULL, "x");
	mig_err_hint_add(NULL, "x");
	errno = ENOENT;
	assert_int_equal(mig_err_errno(&err, MIG_EENV, "cannot read '%s'", "f"), MIG_EENV);
	assert_string_equal(err.msg, "cannot read 'f': No such file or directory");
	mig_err_hint_add(&err, "first");
	mig_err_hint_add(&err, "second");
	assert_string_equal(err.hint, "first\nsecond");
	/* a full hint takes no more lines */
	memset(big, 'h', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mig_err_hint(&err, "%s", big);
	for (i = 0; i < 3; i++)
		mig_err_hint_add(&err, "more");
	assert_int_equal(strlen(err.hint), MIG_ERR_MSG - 1);
	assert_null(strchr(err.hint, '\n'));
	assert_int_equal(mig_errno_code(EIO, MIG_EINVALID), MIG_EENV);
	assert_int_equal(mig_errno_code(ENOSPC, MIG_EINVALID), MIG_EENV);
	assert_int_equal(mig_errno_code(ENOENT, MIG_EINVALID), MIG_EINVALID);
}

/* Other tools' applied times, as their databases write them, become mig's own UTC form. */
static void test_time_utc(void **state)
{
	static const char *const ok[][2] = {
		{ "2024-01-31 12:00:00.123456", "2024-01-31T12:00:00.123Z" },	/* Django on SQLite */
		{ "2024-01-31 12:00:00", "2024-01-31T12:00:00.000Z" },
		{ "2024-01-31T12:00:00.5Z", "2024-01-31T12:00:00.500Z" },
		{ "2024-01-31 05:00:00.123456-05", "2024-01-31T10:00:00.123Z" },	/* timestamptz as text */
		{ "2024-01-01 01:30:00+05:30", "2023-12-31T20:00:00.000Z" },
		{ "2024-02-29 23:59:59.9999+0100", "2024-02-29T22:59:59.999Z" },
	};
	static const char *const bad[] = {
		"", "yesterday", "2024-01-31", "2024-13-01 00:00:00", "2024-01-31 12:00:00 junk", "2024-01-31 12:00:00+5",
		"01/31/2024 12:00:00",
	};
	char out[25];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		assert_int_equal(mig_time_utc(out, ok[i][0]), 0);
		assert_string_equal(out, ok[i][1]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(mig_time_utc(out, bad[i]), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blob_id),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_tty_multibyte),
		cmocka_unit_test(test_unesc),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_file_kind),
		cmocka_unit_test(test_write_and_sync),
		cmocka_unit_test(test_path_join),
		cmocka_unit_test(test_glob_quote),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_utc),
		cmocka_unit_test(test_skip_space),
		cmocka_unit_test(test_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
