/*
 * Database images in and out through SQLite's backup API: a round trip,
 * and every way a consumer, a source or the database can fail it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "image.h"
#include "util.h"

static char dir[] = "/tmp/mig-image-XXXXXX";

static char *path_of(const char *name)
{
	return mig_path_join(dir, name);
}

static void exec_on(const char *path, const char *sql)
{
	sqlite3 *h = NULL;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static char *query(const char *path, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	char *r;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	r = mig_xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return r;
}

/* An image in memory: what the sink collects, what the source serves. */
struct image {
	unsigned char *buf;
	size_t size, chunk_size;
	unsigned chunks;
	int fail_at;		/* the chunk to refuse, or -1 */
	long fail_from;		/* the source: reads from this offset fail; -1 none */
	unsigned wanted, reads;	/* chunks a write in place said it would read, and read */
};

static int take(void *data, uint64_t index, const unsigned char *buf, size_t len)
{
	struct image *im = data;
	size_t end = (size_t)index * im->chunk_size + len;

	if ((int)index == im->fail_at)
		return -1;
	if (end > im->size) {
		im->buf = mig_xrealloc(im->buf, end);
		im->size = end;
	}
	memcpy(im->buf + (size_t)index * im->chunk_size, buf, len);
	im->chunks++;
	return 0;
}

static int give(void *data, uint64_t off, unsigned char *buf, size_t len, struct mig_err *err)
{
	struct image *im = data;

	if (im->fail_from >= 0 && off + len > (uint64_t)im->fail_from)
		return mig_err_set(err, MIG_EENV, "the source failed at %llu", (unsigned long long)off);
	memcpy(buf, im->buf + off, len);
	return 0;
}

/* A source that says which chunks the database has already. */
static int same(void *data, uint64_t index, const unsigned char *buf, size_t len)
{
	struct image *im = data;

	return !memcmp(im->buf + (size_t)index * im->chunk_size, buf, len);
}

static void want(void *data, const unsigned char *w, size_t n)
{
	struct image *im = data;
	size_t i;

	for (i = 0, im->wanted = 0; i < n; i++)
		im->wanted += w[i] != 0;
}

static int give_counted(void *data, uint64_t off, unsigned char *buf, size_t len, struct mig_err *err)
{
	struct image *im = data;

	im->reads++;
	return give(data, off, buf, len, err);
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char *cmd = mig_xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd);

	(void)state;
	free(cmd);
	return rc;
}

/* A database of about 600 KiB, read out in 64 KiB chunks and written back. */
static void test_round_trip(void **state)
{
	char *a = path_of("a.db"), *b = path_of("b.db"), *sum_a, *sum_b;
	struct image im = { NULL, 0, 64 * 1024, 0, -1, -1, 0, 0 };
	struct mig_image_sink sink = { .chunk_size = 64 * 1024, .chunk = take, .data = &im };
	struct mig_image_source src = { 0 };
	struct mig_err err = MIG_ERR_INIT;
	uint32_t page_size = 0;
	uint64_t size = 0;

	(void)state;
	exec_on(a, "CREATE TABLE t(v); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)"
		   " INSERT INTO t SELECT randomblob(600) FROM n");
	assert_int_equal(mig_image_read(a, 100, &sink, &page_size, &size, &err), 0);
	assert_int_equal(page_size, 4096);
	assert_int_equal(size, im.size);
	assert_int_equal(im.chunks, (size + 65535) / 65536);
	src.size = im.size, src.read = give, src.data = &im;
	assert_int_equal(mig_image_write(b, 100, &src, &err), 0);
	sum_a = query(a, "SELECT sum(length(v)) || ' ' || count(*) FROM t");
	sum_b = query(b, "SELECT sum(length(v)) || ' ' || count(*) FROM t");
	assert_string_equal(sum_b, sum_a);
	free(sum_a);
	free(sum_b);
	free(im.buf);
	free(a);
	free(b);
}

static void test_read_errors(void **state)
{
	char *a = path_of("a.db"), *missing = path_of("none.db");
	struct image im = { NULL, 0, 64 * 1024, 0, -1, -1, 0, 0 };
	struct mig_image_sink sink = { .chunk_size = 64 * 1024, .chunk = take, .data = &im };
	struct mig_err err = MIG_ERR_INIT;
	uint32_t page_size;
	uint64_t size;
	char *msg;

	(void)state;
	sink.chunk_size = 100 * 1024;
	assert_int_equal(mig_image_read(a, 100, &sink, &page_size, &size, &err), MIG_EUSAGE);
	assert_string_equal(err.msg, "chunk size 102400 is not a multiple of 64 KiB up to 4 MiB");
	sink.chunk_size = 8 * 1024 * 1024;
	assert_int_equal(mig_image_read(a, 100, &sink, &page_size, &size, &err), MIG_EUSAGE);
	sink.chunk_size = 64 * 1024;
	assert_int_equal(mig_image_read(missing, 100, &sink, &page_size, &size, &err), MIG_EENV);
	msg = mig_xasprintf("cannot read database '%s': No such file or directory", missing);
	assert_string_equal(err.msg, msg);
	free(msg);
	/* a consumer that fails in the middle, and one that fails at the end (chunk 0 comes last) */
	im.fail_at = 3;
	assert_int_equal(mig_image_read(a, 100, &sink, &page_size, &size, &err), MIG_EENV);
	assert_string_equal(err.msg, "consumer failed");
	im.fail_at = 0;
	assert_int_equal(mig_image_read(a, 100, &sink, &page_size, &size, &err), MIG_EENV);
	assert_string_equal(err.msg, "consumer failed");
	/* not a database */
	exec_on(a, "SELECT 1");
	{
		char *junk = path_of("junk.db");
		FILE *f = fopen(junk, "w");

		fputs("this is not an SQLite database, not even its header, but long enough to look at it "
		      "this is not an SQLite database, not even its header, but long enough to look at it", f);
		fclose(f);
		im.fail_at = -1;
		assert_int_equal(mig_image_read(junk, 100, &sink, &page_size, &size, &err), MIG_EENV);
		msg = mig_xasprintf("cannot snapshot '%s': file is not a database", junk);
		assert_string_equal(err.msg, msg);
		free(msg);
		free(junk);
	}
	free(im.buf);
	free(a);
	free(missing);
}

static void test_write_errors(void **state)
{
	char *a = path_of("a.db"), *c = path_of("c.db"), *nodir = path_of("no/such/dir.db"), *msg, *before;
	struct image im = { NULL, 0, 64 * 1024, 0, -1, -1, 0, 0 };
	struct mig_image_sink sink = { .chunk_size = 64 * 1024, .chunk = take, .data = &im };
	struct mig_image_source src = { 0 };
	struct mig_err err = MIG_ERR_INIT;
	uint32_t page_size;
	uint64_t size;
	sqlite3 *h = NULL;

	(void)state;
	assert_int_equal(mig_image_read(a, 100, &sink, &page_size, &size, &err), 0);
	src.size = im.size, src.read = give, src.data = &im;
	assert_int_equal(mig_image_write(nodir, 100, &src, &err), MIG_EENV);
	msg = mig_xasprintf("cannot open database '%s': unable to open database file", nodir);
	assert_string_equal(err.msg, msg);
	free(msg);

	/* a source that fails half way: its own error, and nothing of it written */
	exec_on(c, "CREATE TABLE keep(x); INSERT INTO keep VALUES (42)");
	im.fail_from = 40 * 4096;
	assert_int_equal(mig_image_write(c, 100, &src, &err), MIG_EENV);
	assert_string_equal(err.msg, "the source failed at 163840");
	before = query(c, "SELECT x FROM keep");
	assert_string_equal(before, "42");
	free(before);

	/* a last page cut short: SQLite reads the rest as zeros, as from a file */
	im.fail_from = -1;
	src.size = im.size + 100;
	im.buf = mig_xrealloc(im.buf, src.size);
	memset(im.buf + im.size, 0, src.size - im.size);
	assert_int_equal(mig_image_write(c, 100, &src, &err), 0);
	before = query(c, "SELECT count(*) FROM t");
	assert_string_equal(before, "1000");
	free(before);
	exec_on(c, "DROP TABLE t; CREATE TABLE keep(x); INSERT INTO keep VALUES (42)");
	src.size = im.size;

	/* a writer holds the database: it stays locked for the whole wait */
	assert_int_equal(sqlite3_open(c, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(mig_image_write(c, 50, &src, &err), MIG_EENV);
	msg = mig_xasprintf("cannot restore '%s': the database stayed locked for 50 ms", c);
	assert_string_equal(err.msg, msg);
	free(msg);
	sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(h);
	before = query(c, "SELECT x FROM keep");
	assert_string_equal(before, "42");
	free(before);
	free(im.buf);
	free(a);
	free(c);
	free(nodir);
}

/*
 * A source that says which chunks are the same: only the others are
 * read and written, and a failure half way leaves the database as it
 * was (its hot journal rolled back), with no journal left beside it.
 */
static void test_in_place(void **state)
{
	char *a = path_of("ip-a.db"), *c = path_of("ip-c.db"), *journal = path_of("ip-c.db-journal"), *v, *w;
	struct image im = { NULL, 0, 64 * 1024, 0, -1, -1, 0, 0 };
	struct mig_image_sink sink = { .chunk_size = 64 * 1024, .chunk = take, .data = &im };
	struct mig_image_source src = { 0 };
	struct mig_err err = MIG_ERR_INIT;
	uint32_t page_size;
	uint64_t size;

	(void)state;
	exec_on(a, "CREATE TABLE t(v); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)"
		   " INSERT INTO t SELECT randomblob(600) FROM n");
	assert_int_equal(mig_image_read(a, 100, &sink, &page_size, &size, &err), 0);
	src.size = im.size, src.read = give_counted, src.data = &im;
	assert_int_equal(mig_image_write(c, 100, &src, &err), 0);

	/* one row changed: chunk 0 (its header always) and the row's chunk */
	exec_on(c, "UPDATE t SET v = zeroblob(600) WHERE rowid = 500");
	src.page_size = page_size, src.chunk_size = im.chunk_size, src.same = same, src.want = want;
	im.reads = 0;
	assert_int_equal(mig_image_write(c, 100, &src, &err), 0);
	assert_int_equal(im.wanted, 2);
	assert_int_equal(im.reads, 2);
	assert_int_not_equal(access(journal, F_OK), 0);
	w = query(c, "SELECT hex(v) FROM t WHERE rowid = 500");
	v = query(a, "SELECT hex(v) FROM t WHERE rowid = 500");
	assert_string_equal(w, v);
	free(v);
	free(w);
	v = query(c, "PRAGMA integrity_check");
	assert_string_equal(v, "ok");
	free(v);

	/* half the rows gone, the source failing half way: nothing changes */
	exec_on(c, "DELETE FROM t WHERE rowid % 2 = 0");
	im.fail_from = 5 * 65536;
	assert_int_equal(mig_image_write(c, 100, &src, &err), MIG_EENV);
	assert_string_equal(err.msg, "the source failed at 327680");
	assert_int_not_equal(access(journal, F_OK), 0);
	v = query(c, "SELECT count(*) FROM t");
	assert_string_equal(v, "500");
	free(v);
	v = query(c, "PRAGMA integrity_check");
	assert_string_equal(v, "ok");
	free(v);
	im.fail_from = -1;
	assert_int_equal(mig_image_write(c, 100, &src, &err), 0);
	v = query(c, "SELECT count(*) FROM t");
	assert_string_equal(v, "1000");
	free(v);
	free(im.buf);
	free(a);
	free(c);
	free(journal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_in_place),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
