/*
 * Packs mig writes and reads itself (store-pack.c): what goes in comes
 * back by its id, whatever the size its entry header has to say (one,
 * two or three bytes of it), an object given twice is stored once, and
 * an empty pack leaves nothing behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <libdeflate.h>

#include "cli.h"
#include "store-internal.h"

/* A scratch objects directory, removed by the test. */
static char *scratch(void)
{
	char *dir = mig_xstrdup("/tmp/test-pack-XXXXXX"), *obj;

	assert_non_null(mkdtemp(dir));
	obj = mig_path_join(dir, "objects");
	assert_int_equal(mkdir(obj, 0700), 0);
	free(dir);
	return obj;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void remove_scratch(char *obj)
{
	char *top = mig_xstrndup(obj, strlen(obj) - strlen("/objects"));

	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(top);
	free(obj);
}

static size_t files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_round_trip(void **state)
{
	/* 15 fits the first byte's four bits, 16 and 2047 take two bytes, 2048 three */
	static const size_t sizes[] = { 0, 1, 15, 16, 2047, 2048, 300000 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	struct mig_err err = MIG_ERR_INIT;
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	struct mig_buf in = MIG_BUF_INIT;
	char *obj = scratch(), *packdir = mig_path_join(obj, "pack");
	unsigned char *data = mig_xmalloc(300000), *entry = mig_xmalloc(pack_entry_bound(300000)),
		      *out = mig_xmalloc(300000);
	struct packw *w = NULL;
	struct packs *ps;
	git_oid oid[N], other;
	size_t i, n;
	int added;
	const char *why = NULL;

	(void)state;
	for (i = 0; i < 300000; i++)
		data[i] = (unsigned char)(i * 7919 >> 3);
	assert_int_equal(packw_start(&w, obj, &err), 0);
	for (i = 0; i < N; i++) {
		blob_oid(&oid[i], data, sizes[i]);
		n = pack_entry_make(entry, data, sizes[i]);
		assert_int_equal(packw_add(w, &oid[i], entry, n, &added, &err), 0);
		assert_int_equal(added, 1);
		assert_true(packw_has(w, &oid[i]));
	}
	/* the same object again: not stored twice */
	n = pack_entry_make(entry, data, sizes[3]);
	assert_int_equal(packw_add(w, &oid[3], entry, n, &added, &err), 0);
	assert_int_equal(added, 0);
	assert_int_equal(packw_count(w), N);
	assert_int_equal(packw_finish(w, &err), 0);
	packw_free(w);
	/* a pack and its index, nothing temporary */
	assert_int_equal(files_in(packdir), 2);

	ps = packs_open(obj);
	assert_int_equal(packs_count(ps), 1);
	assert_int_equal(packs_objects(ps, 0), N);
	assert_true(packs_plain(ps, 0));
	for (i = 0; i < N; i++) {
		assert_true(packs_has(ps, &oid[i]));
		assert_int_equal(packs_read(ps, &oid[i], d, &in, out, 300000, &n, &why), 1);
		assert_int_equal(n, sizes[i]);
		assert_memory_equal(out, data, n);
	}
	/* too long for the room given: damaged, not an overrun */
	assert_int_equal(packs_read(ps, &oid[N - 1], d, &in, out, 1000, &n, &why), -1);
	assert_string_equal(why, "is not a blob of the right size");
	blob_oid(&other, "x", 1);
	assert_false(packs_has(ps, &other));
	assert_int_equal(packs_read(ps, &other, d, &in, out, 300000, &n, &why), 0);
	packs_close(ps);

	libdeflate_free_decompressor(d);
	mig_buf_release(&in);
	free(data);
	free(entry);
	free(out);
	free(packdir);
	remove_scratch(obj);
}

static void test_empty_pack_leaves_nothing(void **state)
{
	struct mig_err err = MIG_ERR_INIT;
	char *obj = scratch(), *packdir = mig_path_join(obj, "pack");
	struct packw *w = NULL;
	struct packs *ps;

	(void)state;
	assert_int_equal(packw_start(&w, obj, &err), 0);
	assert_int_equal(files_in(packdir), 1);
	assert_int_equal(packw_finish(w, &err), 0);
	packw_free(w);
	assert_int_equal(files_in(packdir), 0);
	/* and one never finished is removed too */
	assert_int_equal(packw_start(&w, obj, &err), 0);
	packw_free(w);
	assert_int_equal(files_in(packdir), 0);
	ps = packs_open(obj);
	assert_int_equal(packs_count(ps), 0);
	packs_close(ps);
	free(packdir);
	remove_scratch(obj);
}

int main(void)
{
	struct mig_err err = MIG_ERR_INIT;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_pack_leaves_nothing),
	};

	if (mig_git_need(&err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
