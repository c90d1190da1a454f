/* The caches: what they remember, when they must not, and bad files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "cache.h"
#include "revfile.h"
#include "util.h"

struct fixture {
	char dir[64];
	char path[96];
	int dirfd;
};

static int setup(void **state)
{
	struct fixture *f = mig_xcalloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/mig-test-cache-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/revisions.cache", f->dir);
	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	*state = f;
	return f->dirfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	close(f->dirfd);
	free(f);
	return 0;
}

static struct mig_rev *parsed(const char *text)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_rev *rev = NULL;

	if (mig_rev_parse(&rev, "0002_b", "m/0002_b.sql", text, strlen(text), &err) < 0)
		fail_msg("unexpected error: %s", err.msg);
	return rev;
}

static struct stat stat_at(long sec)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_dev = 1;
	st.st_ino = 42;
	st.st_size = 100;
	st.st_mtim.tv_sec = sec;
	st.st_ctim.tv_sec = sec;
	st.st_ctim.tv_nsec = 5;
	return st;
}

static struct mig_rev *get(struct fixture *f, const struct timespec *now, const struct stat *st)
{
	struct mig_revcache *c = mig_revcache_open(f->path, f->dirfd, now);
	char *name = mig_xstrdup("0002_b"), *path = mig_xstrdup("m/0002_b.sql");
	struct mig_rev *r = mig_revcache_get(c, "0002_b.sql", st, name, path);

	if (!r) {
		free(name);
		free(path);
	}
	mig_revcache_close(c, 1);
	return r;
}

static void put(struct fixture *f, const struct timespec *now, const struct stat *st, const char *text)
{
	struct mig_revcache *c = mig_revcache_open(f->path, f->dirfd, now);
	struct mig_rev *rev = parsed(text);

	mig_revcache_put(c, "0002_b.sql", st, rev);
	mig_revcache_close(c, 1);
	mig_rev_free(rev);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	const char *text = "-- mig:no-transaction\n-- mig:parents 0001_a 0001_z\n-- mig:up\nSELECT 1;\n";
	struct timespec now = { 1000, 0 };
	struct stat st = stat_at(900);
	struct mig_rev *want = parsed(text), *r;

	put(f, &now, &st, text);
	r = get(f, &now, &st);
	assert_non_null(r);
	assert_string_equal(r->id, want->id);
	assert_string_equal(r->name, "0002_b");
	assert_string_equal(r->path, "m/0002_b.sql");
	assert_int_equal(r->no_transaction, 1);
	assert_int_equal(r->parents_line, 2);
	assert_int_equal(r->nparents, 2);
	assert_string_equal(r->parents[0], "0001_a");
	assert_string_equal(r->parents[1], "0001_z");
	assert_null(r->data);
	mig_rev_free(r);
	mig_rev_free(want);
}

static void test_any_stat_change_misses(void **state)
{
	struct fixture *f = *state;
	struct timespec now = { 1000, 0 };
	struct stat st = stat_at(900), other;

	put(f, &now, &st, "SELECT 1;\n");
	other = st;
	other.st_size++;
	assert_null(get(f, &now, &other));
	other = st;
	other.st_ino++;
	assert_null(get(f, &now, &other));
	other = st;
	other.st_ctim.tv_nsec++;
	assert_null(get(f, &now, &other));
	other = st;
	other.st_mtim.tv_nsec++;
	assert_null(get(f, &now, &other));
}

static void test_racy_files_are_not_remembered(void **state)
{
	struct fixture *f = *state;
	struct timespec now = { 1000, 0 };
	struct stat st = stat_at(998);	/* changed two seconds before now, to the tick */
	struct mig_rev *r;

	st.st_ctim.tv_nsec = 0;
	put(f, &now, &st, "SELECT 1;\n");
	assert_null(get(f, &now, &st));
	st = stat_at(997);		/* 997.000000005: older than the slack */
	st.st_mtim.tv_sec = 998;	/* but its mtime is not */
	put(f, &now, &st, "SELECT 1;\n");
	assert_null(get(f, &now, &st));
	st = stat_at(997);
	put(f, &now, &st, "SELECT 1;\n");
	r = get(f, &now, &st);
	assert_non_null(r);
	mig_rev_free(r);
	/* a future mtime (a clock set wrong) never is */
	st = stat_at(5000);
	put(f, &now, &st, "SELECT 1;\n");
	assert_null(get(f, &now, &st));
}

static void test_bad_files_are_empty(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage\n",
		"mig revision cache 1 " MIG_VERSION "\ndir 1 2\n",	/* another directory */
		"mig revision cache 0 0.0.0\n",
		NULL,
	};
	struct fixture *f = *state;
	struct timespec now = { 1000, 0 };
	struct stat st = stat_at(900);
	struct mig_buf b = MIG_BUF_INIT;
	size_t i;
	int fd;

	for (i = 0; bad[i]; i++) {
		fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_int_equal(mig_write_all(fd, bad[i], strlen(bad[i])), 0);
		close(fd);
		assert_null(get(f, &now, &st));
	}
	/* a good file cut short anywhere is no entry, never a wrong one */
	put(f, &now, &st, "SELECT 1;\n");
	assert_int_equal(mig_read_file(&b, f->path, &(struct mig_err)MIG_ERR_INIT), 0);
	for (i = 1; i < b.len; i++) {
		struct mig_rev *r;

		if (b.buf[i - 1] == '\n')
			continue;	/* whole lines are a good, shorter cache */
		fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_int_equal(mig_write_all(fd, b.buf, i), 0);
		close(fd);
		r = get(f, &now, &st);
		assert_null(r);
	}
	mig_buf_release(&b);
}

/* ---- what a mig.conf says, under $XDG_CACHE_HOME/mig ---- */

static int conf_setup(void **state)
{
	int rc = setup(state);
	struct fixture *f = *state;

	setenv("XDG_CACHE_HOME", f->dir, 1);
	return rc;
}

static int conf_teardown(void **state)
{
	struct fixture *f = *state;
	char *dir = mig_path_join(f->dir, "mig");
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
	unsetenv("XDG_CACHE_HOME");
	return teardown(state);
}

/* The one file in CACHE/mig, or NULL. */
static char *conf_file(struct fixture *f)
{
	char *dir = mig_path_join(f->dir, "mig"), *path = NULL;
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.') {
			assert_null(path);
			path = mig_path_join(dir, de->d_name);
		}
	if (d)
		closedir(d);
	free(dir);
	return path;
}

static void test_conf_round_trip(void **state)
{
	struct fixture *f = *state;
	struct mig_confvals v = { "app.db", "db/migrations", "../store dir", "db/schema.sql", 250, 0, 7, 1500,
				  "app's \"mig\"" }, got;
	struct timespec now = { 1000, 0 };
	struct stat st = stat_at(900), other;
	char *path;

	mig_confcache_put("/p/mig.conf", &st, &now, &v);
	assert_non_null(path = conf_file(f));
	free(path);
	assert_int_equal(mig_confcache_get("/p/mig.conf", &st, &got), 0);
	assert_string_equal(got.database, "app.db");
	assert_string_equal(got.migrations, "db/migrations");
	assert_string_equal(got.store, "../store dir");
	assert_string_equal(got.schema_file, "db/schema.sql");
	assert_int_equal(got.lock_timeout, 250);
	assert_int_equal(got.backup, 0);
	assert_int_equal(got.backup_keep, 7);
	assert_int_equal(got.statement_lock_timeout, 1500);
	assert_string_equal(got.schema, "app's \"mig\"");
	mig_confvals_release(&got);
	/* another file, or this one changed, is not what was remembered */
	assert_int_equal(mig_confcache_get("/q/mig.conf", &st, &got), -1);
	other = st;
	other.st_ctim.tv_nsec++;
	assert_int_equal(mig_confcache_get("/p/mig.conf", &other, &got), -1);
	other = st;
	other.st_size--;
	assert_int_equal(mig_confcache_get("/p/mig.conf", &other, &got), -1);
	assert_null(got.database);
	assert_int_equal(got.lock_timeout, -1);
	/* what the file does not set stays unset */
	v = (struct mig_confvals){ NULL, NULL, NULL, NULL, -1, 1, -1, -1, NULL };
	mig_confcache_put("/p/mig.conf", &st, &now, &v);
	assert_int_equal(mig_confcache_get("/p/mig.conf", &st, &got), 0);
	assert_null(got.database);
	assert_null(got.migrations);
	assert_null(got.store);
	assert_null(got.schema_file);
	assert_int_equal(got.lock_timeout, -1);
	assert_int_equal(got.backup, 1);
	assert_int_equal(got.backup_keep, -1);
	assert_int_equal(got.statement_lock_timeout, -1);
	assert_null(got.schema);
	mig_confvals_release(&got);
}

static void test_conf_not_remembered(void **state)
{
	struct fixture *f = *state;
	struct mig_confvals v = { "app.db", NULL, NULL, NULL, -1, -1, -1, -1, NULL }, got;
	struct timespec now = { 1000, 0 };
	struct stat st = stat_at(999);
	char *home;

	mig_confcache_put("/p/mig.conf", &st, &now, &v);	/* too new */
	assert_int_equal(mig_confcache_get("/p/mig.conf", &st, &got), -1);
	st = stat_at(900);
	v.database = "a\tb.db";				/* would break its line */
	mig_confcache_put("/p/mig.conf", &st, &now, &v);
	assert_int_equal(mig_confcache_get("/p/mig.conf", &st, &got), -1);
	v.database = "app.db";
	mig_confcache_put("/p/\nmig.conf", &st, &now, &v);
	assert_null(conf_file(f));
	/* with no cache directory, nothing is remembered or found */
	home = getenv("HOME") ? mig_xstrdup(getenv("HOME")) : NULL;
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "relative", 1);
	mig_confcache_put("/p/mig.conf", &st, &now, &v);
	assert_int_equal(mig_confcache_get("/p/mig.conf", &st, &got), -1);
	assert_null(conf_file(f));
	if (home)
		setenv("HOME", home, 1);
	free(home);
}

static void test_conf_cut_short(void **state)
{
	struct fixture *f = *state;
	struct mig_confvals v = { "app.db", "m", "s", NULL, 5, 1, -1, -1, NULL }, got;
	struct timespec now = { 1000, 0 };
	struct stat st = stat_at(900);
	struct mig_buf b = MIG_BUF_INIT;
	char *path;
	size_t i;
	int fd;

	mig_confcache_put("/p/mig.conf", &st, &now, &v);
	assert_non_null(path = conf_file(f));
	assert_int_equal(mig_read_file(&b, path, &(struct mig_err)MIG_ERR_INIT), 0);
	/* cut anywhere, even after a whole line, it says nothing */
	for (i = 0; i < b.len; i++) {
		fd = open(path, O_WRONLY | O_TRUNC);
		assert_int_equal(mig_write_all(fd, b.buf, i), 0);
		close(fd);
		assert_int_equal(mig_confcache_get("/p/mig.conf", &st, &got), -1);
	}
	mig_buf_release(&b);
	free(path);
}

/* Replace the first occurrence of from in the file at path with to. */
static void edit(const char *path, const char *from, const char *to)
{
	struct mig_buf b = MIG_BUF_INIT, out = MIG_BUF_INIT;
	char *at;
	int fd;

	assert_int_equal(mig_read_file(&b, path, &(struct mig_err)MIG_ERR_INIT), 0);
	assert_non_null(at = strstr(b.buf, from));
	mig_buf_add(&out, b.buf, (size_t)(at - b.buf));
	mig_buf_adds(&out, to);
	mig_buf_adds(&out, at + strlen(from));
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(mig_write_all(fd, out.buf, out.len), 0);
	close(fd);
	mig_buf_release(&b);
	mig_buf_release(&out);
}

/* An entry whose fields are out of range is not believed, nor the file after it. */
static void test_bad_entries(void **state)
{
	static const char *const fields[][2] = {
		{ " 0 0 0\t", " 9 0 0\t" },		/* no such style */
		{ " 0 0 0\t", " 0 2 0\t" },		/* no_transaction is 0 or 1 */
		{ " 0 0 0\t", " 0 0 2000000000\t" },	/* no file has that many lines */
		{ " 0 0 0\t", " 0 0 x\t" },
		{ "0002_b.sql\t", "\t" },		/* no file name */
		{ "0002_b.sql\t", "0002_b.sql" },	/* no parents field */
	};
	struct fixture *f = *state;
	struct timespec now = { 1000, 0 };
	struct stat st = stat_at(900);
	struct mig_rev *r;
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		put(f, &now, &st, "SELECT 1;\n");
		r = get(f, &now, &st);
		assert_non_null(r);
		mig_rev_free(r);
		edit(f->path, fields[i][0], fields[i][1]);
		assert_null(get(f, &now, &st));
	}
}

/* Entries out of order, as no mig writes them: the file is not believed. */
static void test_unsorted_entries(void **state)
{
	struct fixture *f = *state;
	struct timespec now = { 1000, 0 };
	struct stat st = stat_at(900);
	struct mig_buf b = MIG_BUF_INIT;
	char *line, *eol;
	int fd;

	put(f, &now, &st, "SELECT 1;\n");
	assert_int_equal(mig_read_file(&b, f->path, &(struct mig_err)MIG_ERR_INIT), 0);
	/* the entry line, twice: the second is not after the first */
	line = strchr(strchr(b.buf, '\n') + 1, '\n') + 1;
	eol = strchr(line, '\n') + 1;
	fd = open(f->path, O_WRONLY | O_APPEND);
	assert_int_equal(mig_write_all(fd, line, (size_t)(eol - line)), 0);
	close(fd);
	assert_null(get(f, &now, &st));
	mig_buf_release(&b);
}

/* A remembered mig.conf whose values could not have been written is not believed. */
static void test_conf_bad_values(void **state)
{
	static const char *const edits[][2] = {
		{ "database\tapp.db\n", "database\t\n" },			/* empty */
		{ "database\tapp.db\n", "database\tapp.db\ndatabase\tb.db\n" },	/* twice */
		{ "locktimeout\t5\n", "locktimeout\t99999999999\n" },	/* too large */
		{ "locktimeout\t5\n", "locktimeout\t5\nlocktimeout\t6\n" },
		{ "backup\t1\n", "backup\t2\n" },
		{ "backup\t1\n", "backup\t1\nbackup\t0\n" },
		{ "backup\t1\n", "backup\t1\nbackupkeep\t3\nbackupkeep\t4\n" },
		{ "backup\t1\n", "colour\t1\n" },				/* no such key */
		{ "backup\t1\n", "backup 1\n" },				/* no tab */
	};
	struct fixture *f = *state;
	struct mig_confvals v = { "app.db", "m", "s", NULL, 5, 1, -1, -1, NULL }, got;
	struct timespec now = { 1000, 0 };
	struct stat st = stat_at(900);
	char *path;
	size_t i;

	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		mig_confcache_put("/p/mig.conf", &st, &now, &v);
		assert_non_null(path = conf_file(f));
		assert_int_equal(mig_confcache_get("/p/mig.conf", &st, &got), 0);
		mig_confvals_release(&got);
		edit(path, edits[i][0], edits[i][1]);
		assert_int_equal(mig_confcache_get("/p/mig.conf", &st, &got), -1);
		assert_null(got.database);
		free(path);
	}
}

/* The live schema's hash, remembered by key; another key, another file or damage is no hit. */
static void test_schema_cache(void **state)
{
	struct fixture *f = *state;
	const char *h = "0123456789abcdef0123456789abcdef01234567";
	char got[41];
	int fd;

	(void)state;
	assert_int_equal(mig_schemacache_get(f->path, "k1", got), -1);
	mig_schemacache_put(f->path, "k1", h);
	assert_int_equal(mig_schemacache_get(f->path, "k1", got), 0);
	assert_string_equal(got, h);
	assert_int_equal(mig_schemacache_get(f->path, "k2", got), -1);
	assert_int_equal(mig_schemacache_get(f->path, "k", got), -1);
	fd = open(f->path, O_WRONLY | O_TRUNC);
	assert_int_equal(mig_write_all(fd, "not a cache\n", 12), 0);
	close(fd);
	assert_int_equal(mig_schemacache_get(f->path, "k1", got), -1);
	/* the hash cut short */
	mig_schemacache_put(f->path, "k1", "0123");
	assert_int_equal(mig_schemacache_get(f->path, "k1", got), -1);
}

/* A file name that would break its line is not remembered, and breaks nothing else. */
static void test_name_with_tab(void **state)
{
	struct fixture *f = *state;
	struct timespec now = { 1000, 0 };
	struct stat st = stat_at(900);
	struct mig_revcache *c = mig_revcache_open(f->path, f->dirfd, &now);
	struct mig_rev *rev = parsed("SELECT 1;\n"), *r;
	char *name = mig_xstrdup("0002_b"), *path = mig_xstrdup("m/0002_b.sql");

	mig_revcache_put(c, "0002_b.sql", &st, rev);
	mig_revcache_put(c, "a\tb.sql", &st, rev);
	mig_revcache_put(c, "a\nb.sql", &st, rev);
	mig_revcache_close(c, 1);
	mig_rev_free(rev);
	c = mig_revcache_open(f->path, f->dirfd, &now);
	assert_null(mig_revcache_get(c, "a\tb.sql", &st, name, path));
	assert_null(mig_revcache_get(c, "a\nb.sql", &st, name, path));
	r = mig_revcache_get(c, "0002_b.sql", &st, name, path);
	assert_non_null(r);
	mig_rev_free(r);
	mig_revcache_close(c, 0);
}

/* Values that would break their line are not remembered; without XDG_CACHE_HOME, ~/.cache is used. */
static void test_conf_unsafe_and_home(void **state)
{
	struct fixture *f = *state;
	struct mig_confvals v = { "app.db", "m\tn", NULL, NULL, -1, -1, -1, -1, NULL }, got;
	struct timespec now = { 1000, 0 };
	struct stat st = stat_at(900);
	char *home = getenv("HOME") ? mig_xstrdup(getenv("HOME")) : NULL, *dir;

	mig_confcache_put("/p/mig.conf", &st, &now, &v);
	assert_int_equal(mig_confcache_get("/p/mig.conf", &st, &got), -1);
	v.migrations = "m";
	v.store = "s\nt";
	mig_confcache_put("/p/mig.conf", &st, &now, &v);
	assert_int_equal(mig_confcache_get("/p/mig.conf", &st, &got), -1);
	v.store = "s";
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", f->dir, 1);
	mig_confcache_put("/p/mig.conf", &st, &now, &v);
	assert_int_equal(mig_confcache_get("/p/mig.conf", &st, &got), 0);
	assert_string_equal(got.store, "s");
	mig_confvals_release(&got);
	dir = mig_path_join(f->dir, ".cache/mig");
	assert_true(mig_path_exists(dir));
	{
		char *cmd = mig_xasprintf("rm -rf '%s/.cache'", f->dir);

		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	free(dir);
	/* a relative XDG_CACHE_HOME is ignored, and a relative HOME names no cache */
	setenv("XDG_CACHE_HOME", "relative", 1);
	setenv("HOME", "relative", 1);
	mig_confcache_put("/p/mig.conf", &st, &now, &v);
	assert_int_equal(mig_confcache_get("/p/mig.conf", &st, &got), -1);
	assert_false(mig_path_exists("relative"));
	if (home)
		setenv("HOME", home, 1);
	free(home);
	setenv("XDG_CACHE_HOME", f->dir, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_stat_change_misses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_racy_files_are_not_remembered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files_are_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_round_trip, conf_setup, conf_teardown),
		cmocka_unit_test_setup_teardown(test_conf_not_remembered, conf_setup, conf_teardown),
		cmocka_unit_test_setup_teardown(test_conf_cut_short, conf_setup, conf_teardown),
		cmocka_unit_test_setup_teardown(test_bad_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsorted_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_bad_values, conf_setup, conf_teardown),
		cmocka_unit_test_setup_teardown(test_schema_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_with_tab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_unsafe_and_home, conf_setup, conf_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
