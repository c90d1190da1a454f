/*
 * Packs mig writes and reads itself (store-pack.c): what goes in comes
 * back by its id, whatever the size its entry header has to say (one,
 * two or three bytes of it), an object given twice is stored once, an
 * empty pack leaves nothing behind, an index that names a gap no entry
 * can fill is damage, not a read of all of it, a pack that cannot
 * be opened for want of files is said so, and a pack that disagrees
 * with its index is damage that names it.
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
#include <fcntl.h>
#include <sys/resource.h>
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

/* packs_read from the first pack on. */
static int read_first(const struct packs *ps, const git_oid *oid, struct libdeflate_decompressor *d,
		      struct mig_buf *in, unsigned char *out, size_t max, size_t *n, const char **why)
{
	size_t from = 0;

	return packs_read(ps, oid, &from, d, in, out, max, n, why);
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
		assert_int_equal(read_first(ps, &oid[i], d, &in, out, 300000, &n, &why), 1);
		assert_int_equal(n, sizes[i]);
		assert_memory_equal(out, data, n);
	}
	/* too long for the room given: damaged, not an overrun */
	assert_int_equal(read_first(ps, &oid[N - 1], d, &in, out, 1000, &n, &why), -1);
	assert_string_equal(why, "is not a blob of the right size");
	blob_oid(&other, "x", 1);
	assert_false(packs_has(ps, &other));
	assert_int_equal(read_first(ps, &other, d, &in, out, 300000, &n, &why), 0);
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

/* The one file in dir whose name ends so: its path. */
static char *file_ending(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *path = NULL;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strlen(e->d_name) > strlen(suffix) &&
		    !strcmp(e->d_name + strlen(e->d_name) - strlen(suffix), suffix))
			path = mig_path_join(dir, e->d_name);
	closedir(d);
	assert_non_null(path);
	return path;
}

/*
 * An index that puts a tiny blob's entry before all of the pack (the
 * next entry's offset made its own): the gap is no entry of that blob,
 * and is not read whole, as it could be gigabytes.
 */
static void test_damaged_index_gap(void **state)
{
	struct mig_err err = MIG_ERR_INIT;
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	struct mig_buf in = MIG_BUF_INIT;
	char *obj = scratch(), *packdir = mig_path_join(obj, "pack"), *idx;
	unsigned char *big = mig_xmalloc(300000), *entry = mig_xmalloc(pack_entry_bound(300000)),
		      *out = mig_xmalloc(300000), off[2][4];
	struct packw *w = NULL;
	struct packs *ps;
	git_oid oid[2];
	size_t i, n;
	int added, small;
	const char *why = NULL;
	FILE *f;

	(void)state;
	for (i = 0; i < 300000; i++)
		big[i] = (unsigned char)(i * 2654435761u >> 13);
	assert_int_equal(packw_start(&w, obj, &err), 0);
	blob_oid(&oid[0], "x", 1);
	n = pack_entry_make(entry, (const unsigned char *)"x", 1);
	assert_int_equal(packw_add(w, &oid[0], entry, n, &added, &err), 0);
	blob_oid(&oid[1], big, 300000);
	n = pack_entry_make(entry, big, 300000);
	assert_int_equal(packw_add(w, &oid[1], entry, n, &added, &err), 0);
	assert_int_equal(packw_finish(w, &err), 0);
	packw_free(w);

	/* version 2 index: header, fanout, ids, CRCs, then 32-bit offsets in id order */
	idx = file_ending(packdir, ".idx");
	small = git_oid_cmp(&oid[0], &oid[1]) < 0 ? 0 : 1;
	assert_non_null(f = fopen(idx, "r+b"));
	assert_int_equal(fseek(f, 8 + 1024 + 2 * 20 + 2 * 4, SEEK_SET), 0);
	assert_int_equal(fread(off, 4, 2, f), 2);
	memcpy(off[!small], off[small], 4);
	assert_int_equal(fseek(f, 8 + 1024 + 2 * 20 + 2 * 4, SEEK_SET), 0);
	assert_int_equal(fwrite(off, 4, 2, f), 2);
	assert_int_equal(fclose(f), 0);

	ps = packs_open(obj);
	assert_int_equal(packs_count(ps), 1);
	assert_int_equal(read_first(ps, &oid[0], d, &in, out, 300000, &n, &why), -1);
	assert_string_equal(why, "cannot be read from its pack");
	assert_true(in.alloc < 300000);
	packs_close(ps);

	libdeflate_free_decompressor(d);
	mig_buf_release(&in);
	free(big);
	free(entry);
	free(out);
	free(idx);
	free(packdir);
	remove_scratch(obj);
}

/* The descriptors this process has open. */
static size_t open_fds(void)
{
	size_t n = files_in("/proc/self/fd");

	return n ? n - 1 : 0;	/* less opendir's own */
}

/* Write bytes at off of path, over what is there. */
static void overwrite(const char *path, long off, const void *bytes, size_t n)
{
	FILE *f = fopen(path, "r+b");

	assert_non_null(f);
	assert_int_equal(fseek(f, off, off < 0 ? SEEK_END : SEEK_SET), 0);
	assert_int_equal(fwrite(bytes, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/*
 * A pack that disagrees with its index (the count in its header, its
 * trailing checksum, its header itself): none of it is read, not even
 * the entries that are whole, and what it holds is said to be in that
 * damaged pack, by name. It keeps no descriptor open.
 */
static void test_pack_disagrees_with_index(void **state)
{
	static const struct {
		long off;
		const char *bytes;
		const char *fault;
	} cases[] = {
		{ 8, "\0\0\0\3", "its header counts 3 objects, its index 2" },
		{ -1, "\1", "its checksum is not the one its index records" },
		{ 0, "KCAP", "it does not start with a pack header of version 2 or 3" },
		{ 4, "\0\0\0\4", "it does not start with a pack header of version 2 or 3" },
	};
	struct mig_err err = MIG_ERR_INIT;
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	struct mig_buf in = MIG_BUF_INIT;
	unsigned char entry[64], out[8];
	size_t c;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *obj = scratch(), *packdir = mig_path_join(obj, "pack"), *pack, *want;
		struct packw *w = NULL;
		struct packs *ps;
		git_oid oid[2];
		size_t i, n, fds;
		int added;
		unsigned char last;
		const char *why = NULL;
		FILE *f;

		assert_int_equal(packw_start(&w, obj, &err), 0);
		for (i = 0; i < 2; i++) {
			blob_oid(&oid[i], i ? "b" : "a", 1);
			n = pack_entry_make(entry, (const unsigned char *)(i ? "b" : "a"), 1);
			assert_int_equal(packw_add(w, &oid[i], entry, n, &added, &err), 0);
		}
		assert_int_equal(packw_finish(w, &err), 0);
		packw_free(w);
		pack = file_ending(packdir, ".pack");
		ps = packs_open(obj);
		assert_int_equal(packs_count(ps), 1);
		assert_int_equal(read_first(ps, &oid[0], d, &in, out, sizeof(out), &n, &why), 1);
		packs_close(ps);

		if (cases[c].off < 0) {
			/* the trailer's last byte, changed */
			assert_non_null(f = fopen(pack, "rb"));
			assert_int_equal(fseek(f, -1, SEEK_END), 0);
			assert_int_equal(fread(&last, 1, 1, f), 1);
			assert_int_equal(fclose(f), 0);
			last ^= 1;
			overwrite(pack, -1, &last, 1);
		} else {
			overwrite(pack, cases[c].off, cases[c].bytes, 4);
		}
		fds = open_fds();
		ps = packs_open(obj);
		assert_int_equal(open_fds(), fds);
		assert_int_equal(packs_count(ps), 0);
		want = mig_xasprintf("is in a damaged pack, '%s': %s", pack, cases[c].fault);
		for (i = 0; i < 2; i++) {
			assert_false(packs_has(ps, &oid[i]));
			assert_int_equal(read_first(ps, &oid[i], d, &in, out, sizeof(out), &n, &why), -1);
			assert_string_equal(why, want);
			assert_string_equal(packs_damage(ps, &oid[i]), want);
		}
		packs_close(ps);
		free(want);
		free(pack);
		free(packdir);
		remove_scratch(obj);
	}
	libdeflate_free_decompressor(d);
	mig_buf_release(&in);
}

/*
 * Packs that cannot be opened for want of file descriptors: what they
 * hold is not called missing, and the message says why.
 */
static void test_packs_beyond_open_files(void **state)
{
	struct mig_err err = MIG_ERR_INIT;
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	struct mig_buf in = MIG_BUF_INIT;
	char *obj = scratch(), body[2] = "a";
	unsigned char entry[64], out[8];
	struct rlimit was, low;
	struct packs *ps;
	git_oid oid[3];
	size_t i, n, read_ok = 0, said = 0;
	int added, fd;
	const char *why = NULL;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct packw *w = NULL;

		body[0] = (char)('a' + i);
		blob_oid(&oid[i], body, 1);
		n = pack_entry_make(entry, (const unsigned char *)body, 1);
		assert_int_equal(packw_start(&w, obj, &err), 0);
		assert_int_equal(packw_add(w, &oid[i], entry, n, &added, &err), 0);
		assert_int_equal(packw_finish(w, &err), 0);
		packw_free(w);
	}
	/*
	 * room for the directory and one file more: the first pack takes it
	 * (its index is closed once mapped), the second has none
	 */
	assert_true((fd = open("/dev/null", O_RDONLY)) >= 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
	low = was;
	low.rlim_cur = (rlim_t)fd + 2;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	ps = packs_open(obj);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
	assert_int_equal(packs_count(ps), 1);
	for (i = 0; i < 3; i++) {
		int rc = read_first(ps, &oid[i], d, &in, out, sizeof(out), &n, &why);

		if (rc == 1) {
			read_ok++;
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(why, "may be in a pack that could not be opened: too many open files");
			said++;
		}
	}
	assert_int_equal(read_ok, 1);
	assert_int_equal(said, 2);
	packs_close(ps);
	ps = packs_open(obj);
	assert_int_equal(packs_count(ps), 3);
	packs_close(ps);

	libdeflate_free_decompressor(d);
	mig_buf_release(&in);
	remove_scratch(obj);
}

/* A pack of its own holding blob data (len bytes), and the blob extra when given. */
static void pack_of(const char *obj, const unsigned char *data, size_t len, git_oid *oid, const char *extra)
{
	struct mig_err err = MIG_ERR_INIT;
	unsigned char *entry = mig_xmalloc(pack_entry_bound(len));
	struct packw *w = NULL;
	git_oid other;
	int added;

	blob_oid(oid, data, len);
	assert_int_equal(packw_start(&w, obj, &err), 0);
	assert_int_equal(packw_add(w, oid, entry, pack_entry_make(entry, data, len), &added, &err), 0);
	if (extra) {
		blob_oid(&other, extra, strlen(extra));
		assert_int_equal(packw_add(w, &other, entry,
					   pack_entry_make(entry, (const unsigned char *)extra, strlen(extra)), &added,
					   &err),
				 0);
	}
	assert_int_equal(packw_finish(w, &err), 0);
	packw_free(w);
	free(entry);
}

/* Flip a byte in the middle of pack name: in its first blob, when that is most of it. */
static void damage_entry(const char *obj, const char *name)
{
	char *pack = mig_xasprintf("%s/pack/%s.pack", obj, name);
	struct stat st;
	unsigned char b;
	FILE *f;

	assert_int_equal(stat(pack, &st), 0);
	assert_non_null(f = fopen(pack, "r+b"));
	assert_int_equal(fseek(f, (long)st.st_size / 2, SEEK_SET), 0);
	assert_int_equal(fread(&b, 1, 1, f), 1);
	b ^= 0x40;
	assert_int_equal(fseek(f, (long)st.st_size / 2, SEEK_SET), 0);
	assert_int_equal(fwrite(&b, 1, 1, f), 1);
	assert_int_equal(fclose(f), 0);
	free(pack);
}

/*
 * An object in two packs, its entry damaged in the one read first: the
 * other pack's copy is read, by packs_read going on and by load_chunk;
 * a damaged loose copy does not hide a packed one either. Only when
 * every copy is damaged is it damage, and what was wrong with the first
 * is said.
 */
static void test_damaged_copy_not_the_last(void **state)
{
	enum { LEN = 8192 };
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	struct mig_err err = MIG_ERR_INIT;
	struct mig_buf in = MIG_BUF_INIT;
	char *obj = scratch(), *path;
	unsigned char *data = mig_xmalloc(LEN), *out = mig_xmalloc(LEN), junk[64];
	struct decoder dc;
	struct packs *ps;
	git_oid oid;
	size_t i, k, from = 0, n;
	uint32_t at;
	const char *why = NULL;

	(void)state;
	for (i = 0; i < LEN; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 11);
	pack_of(obj, data, LEN, &oid, NULL);
	pack_of(obj, data, LEN, &oid, "another");	/* two packs that both hold it */
	ps = packs_open(obj);
	assert_int_equal(packs_count(ps), 2);
	assert_int_equal(packs_which(ps, &oid, &k, &at), 0);
	damage_entry(obj, packs_name(ps, k));
	packs_close(ps);

	ps = packs_open(obj);
	assert_int_equal(packs_count(ps), 2);
	assert_int_equal(packs_read(ps, &oid, &from, d, &in, out, LEN, &n, &why), -1);
	assert_string_equal(why, "does not inflate to a blob of the right size");
	assert_int_equal(packs_read(ps, &oid, &from, d, &in, out, LEN, &n, &why), 1);
	assert_int_equal(n, LEN);
	assert_memory_equal(out, data, LEN);
	assert_int_equal(packs_read(ps, &oid, &from, d, &in, out, LEN, &n, &why), 0);
	assert_int_equal(decoder_init(&dc, ps), 0);
	memset(out, 0, LEN);
	assert_int_equal(load_chunk(&dc, obj, MANIFEST_VERSION, &oid, NULL, out, LEN, &why), 0);
	assert_memory_equal(out, data, LEN);

	/* a damaged loose copy is read first, and passed over */
	memset(junk, 'x', sizeof(junk));
	assert_int_equal(write_loose(obj, &oid, junk, sizeof(junk), &err), 0);
	memset(out, 0, LEN);
	assert_int_equal(load_chunk(&dc, obj, MANIFEST_VERSION, &oid, NULL, out, LEN, &why), 0);
	assert_memory_equal(out, data, LEN);
	decoder_release(&dc);
	packs_close(ps);

	/* every copy damaged: the first's fault is the one said */
	path = store_loose_path(obj, &oid);
	assert_int_equal(unlink(path), 0);
	free(path);
	ps = packs_open(obj);
	assert_int_equal(packs_which(ps, &oid, &k, &at), 0);
	for (i = 0; i < packs_count(ps); i++)
		if (i != k)
			damage_entry(obj, packs_name(ps, i));
	assert_int_equal(decoder_init(&dc, ps), 0);
	assert_int_equal(load_chunk(&dc, obj, MANIFEST_VERSION, &oid, NULL, out, LEN, &why), -1);
	assert_string_equal(why, "does not inflate to a blob of the right size");
	decoder_release(&dc);
	packs_close(ps);

	libdeflate_free_decompressor(d);
	mig_buf_release(&in);
	free(data);
	free(out);
	remove_scratch(obj);
}

/*
 * Copying an entry for prune checks it against the CRC-32 the index
 * records: a damaged one is not carried into the new pack, and the
 * message names the pack and the object.
 */
static void test_copy_checks_crc(void **state)
{
	enum { LEN = 4096 };
	struct mig_err err = MIG_ERR_INIT;
	struct mig_buf in = MIG_BUF_INIT;
	char *obj = scratch(), *want, hex[GIT_OID_HEXSZ + 1];
	unsigned char *data = mig_xmalloc(LEN);
	struct packw *w = NULL;
	struct packs *ps;
	git_oid oid;
	size_t i;

	(void)state;
	for (i = 0; i < LEN; i++)
		data[i] = (unsigned char)(i * 40503u >> 7);
	pack_of(obj, data, LEN, &oid, NULL);
	ps = packs_open(obj);
	assert_int_equal(packw_start(&w, obj, &err), 0);
	assert_int_equal(packs_copy(ps, 0, 0, w, &in, &err), 0);
	assert_int_equal(packw_count(w), 1);
	packw_free(w);
	damage_entry(obj, packs_name(ps, 0));
	assert_int_equal(packw_start(&w, obj, &err), 0);
	assert_int_equal(packs_copy(ps, 0, 0, w, &in, &err), MIG_EENV);
	assert_int_equal(packw_count(w), 0);
	git_oid_tostr(hex, sizeof(hex), &oid);
	want = mig_xasprintf("pack '%s/pack/%s.pack' is damaged: the entry of object %s does not match its CRC-32",
			     obj, packs_name(ps, 0), hex);
	assert_string_equal(err.msg, want);
	packw_free(w);
	packs_close(ps);

	free(want);
	free(data);
	mig_buf_release(&in);
	remove_scratch(obj);
}

int main(void)
{
	struct mig_err err = MIG_ERR_INIT;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_pack_leaves_nothing),
		cmocka_unit_test(test_damaged_index_gap),
		cmocka_unit_test(test_packs_beyond_open_files),
		cmocka_unit_test(test_pack_disagrees_with_index),
		cmocka_unit_test(test_damaged_copy_not_the_last),
		cmocka_unit_test(test_copy_checks_crc),
	};

	if (mig_git_need(&err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
