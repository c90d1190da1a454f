/*
 * A snapshot's manifest (store-manifest.c): what mig writes parses back
 * to the same, and anything else is a damaged snapshot with nothing
 * left to release.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli.h"
#include "store-internal.h"

#define ID "0123456789abcdef0123456789abcdef01234567"
#define H1 "00112233445566778899aabbccddeeff"
#define H2 "ffeeddccbbaa99887766554433221100"
#define O1 "ce013625030ba8dba906f756967f9e9ca394464a"
#define O2 "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
#define HEAD "mig-snapshot 1\npage-size 4096\nsize 266240\nchunk-size 262144\nchecksum xxh128-list:" H1 "\n"

/* Two chunks: 256 KiB whole, then a page stored as a delta on a base. */
static const char good[] = HEAD "chunk " H1 " " O1 "\ndelta " H2 " " O2 " " O1 "\n";

static int parse(struct manifest *m, const char *text, struct mig_err *err)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->id, ID, sizeof(m->id));
	return manifest_parse(m, text, strlen(text), err);
}

static void test_parses_and_formats_back(void **state)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_buf b = MIG_BUF_INIT;
	struct manifest m;
	char hex[41];

	(void)state;
	assert_int_equal(parse(&m, good, &err), 0);
	assert_int_equal(m.page_size, 4096);
	assert_int_equal(m.size, 266240);
	assert_int_equal(m.chunk_size, 262144);
	assert_string_equal(m.checksum, "xxh128-list:" H1);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.c[0].delta, 0);
	assert_int_equal(m.c[1].delta, 1);
	assert_string_equal(git_oid_tostr(hex, sizeof(hex), &m.c[0].oid), O1);
	assert_string_equal(git_oid_tostr(hex, sizeof(hex), &m.c[1].oid), O2);
	assert_string_equal(git_oid_tostr(hex, sizeof(hex), &m.c[1].base), O1);
	assert_int_equal(chunk_len(&m, 0), 262144);
	assert_int_equal(chunk_len(&m, 1), 4096);
	manifest_format(&b, &m);
	assert_string_equal(b.buf, good);
	mig_buf_release(&b);
	manifest_release(&m);
	assert_null(m.c);
	/* the last line need not end in a newline */
	memset(&m, 0, sizeof(m));
	assert_int_equal(manifest_parse(&m, good, strlen(good) - 1, &err), 0);
	assert_int_equal(m.n, 2);
	manifest_release(&m);
}

/* Each of these is one change to good; none may parse. */
static void test_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		/* no magic, another version */
		"page-size 4096\nsize 266240\nchunk-size 262144\nchecksum x\nchunk " H1 " " O1 "\ndelta " H2 " " O2
		" " O1 "\n",
		"mig-snapshot 3\npage-size 4096\nsize 266240\nchunk-size 262144\nchecksum x\nchunk " H1 " " O1
		"\ndelta " H2 " " O2 " " O1 "\n",
		/* a chunk too few, a chunk too many */
		HEAD "chunk " H1 " " O1 "\n",
		HEAD "chunk " H1 " " O1 "\nchunk " H1 " " O1 "\nchunk " H1 " " O1 "\n",
		/* pages SQLite has not: 3000 bytes, 128 KiB */
		"mig-snapshot 1\npage-size 3000\nsize 266240\nchunk-size 262144\nchecksum x\nchunk " H1 " " O1
		"\ndelta " H2 " " O2 " " O1 "\n",
		"mig-snapshot 1\npage-size 131072\nsize 266240\nchunk-size 262144\nchecksum x\nchunk " H1 " " O1
		"\ndelta " H2 " " O2 " " O1 "\n",
		/* no whole number of pages; chunks mig does not make */
		"mig-snapshot 1\npage-size 4096\nsize 266241\nchunk-size 262144\nchecksum x\nchunk " H1 " " O1
		"\ndelta " H2 " " O2 " " O1 "\n",
		"mig-snapshot 1\npage-size 4096\nsize 266240\nchunk-size 1000\nchecksum x\nchunk " H1 " " O1
		"\ndelta " H2 " " O2 " " O1 "\n",
		"mig-snapshot 1\npage-size 4096\nsize 266240\nchunk-size 0\nchecksum x\nchunk " H1 " " O1
		"\ndelta " H2 " " O2 " " O1 "\n",
		/* a hash or an id that is no hex, an id cut short, a word unknown */
		HEAD "chunk " H1 " " O1 "\ndelta " H2 " " O2 " " "ce013625030ba8dba906f756967f9e9ca394464z\n",
		HEAD "chunk 00112233445566778899aabbccddeefg " O1 "\ndelta " H2 " " O2 " " O1 "\n",
		HEAD "chunk " H1 " ce013625030ba8dba906f756967f9e9ca394464\ndelta " H2 " " O2 " " O1 "\n",
		HEAD "chunk " H1 " " O1 "\ndelta " H2 " " O2 " " O1 "\nsomething else\n",
		/* pages smaller than SQLite's least; chunks larger than mig makes */
		"mig-snapshot 1\npage-size 256\nsize 266240\nchunk-size 262144\nchecksum x\nchunk " H1 " " O1
		"\ndelta " H2 " " O2 " " O1 "\n",
		"mig-snapshot 1\npage-size 4096\nsize 266240\nchunk-size 8388608\nchecksum x\nchunk " H1 " " O1 "\n",
		/* a checksum longer than any mig writes */
		"mig-snapshot 1\npage-size 4096\nsize 266240\nchunk-size 262144\nchecksum xxh128-list:" H1 H1 H1
		"\nchunk " H1 " " O1 "\ndelta " H2 " " O2 " " O1 "\n",
		/* the fields run together where a blank parts them */
		HEAD "chunk " H1 "-" O1 "\ndelta " H2 " " O2 " " O1 "\n",
		HEAD "chunk " H1 " " O1 "\ndelta " H2 " " O2 "-" O1 "\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mig_err err = MIG_ERR_INIT;
		struct manifest m;

		print_message("bad[%zu]\n", i);
		assert_int_equal(parse(&m, bad[i], &err), MIG_EENV);
		assert_string_equal(err.msg, "snapshot 0123456789ab is damaged: its manifest does not parse");
		assert_null(m.c);
		assert_int_equal(m.n, 0);
	}
}

/* A line longer than any mig writes is refused, not cut. */
static void test_long_line(void **state)
{
	struct mig_err err = MIG_ERR_INIT;
	struct manifest m;
	char *text = mig_xasprintf(HEAD "chunk " H1 " " O1 "\ndelta " H2 " " O2 " " O1 "%0200d\n", 0);

	(void)state;
	assert_int_equal(parse(&m, text, &err), MIG_EENV);
	assert_null(m.c);
	free(text);
}

/* The first 100 bytes of an image: SQLite's header with page size ps, pages pages, valid-for counter */
static void header(unsigned char *p, unsigned ps, uint32_t pages, uint32_t counter, uint32_t valid_for)
{
	memset(p, 0, 100);
	memcpy(p, "SQLite format 3", 16);
	p[16] = (unsigned char)(ps >> 8);
	p[17] = (unsigned char)ps;
	p[24] = (unsigned char)(counter >> 24), p[25] = (unsigned char)(counter >> 16);
	p[26] = (unsigned char)(counter >> 8), p[27] = (unsigned char)counter;
	p[28] = (unsigned char)(pages >> 24), p[29] = (unsigned char)(pages >> 16);
	p[30] = (unsigned char)(pages >> 8), p[31] = (unsigned char)pages;
	p[92] = (unsigned char)(valid_for >> 24), p[93] = (unsigned char)(valid_for >> 16);
	p[94] = (unsigned char)(valid_for >> 8), p[95] = (unsigned char)valid_for;
}

/* What an image's first bytes say: SQLite's magic, a page size SQLite has, a size when valid. */
static void test_image_header(void **state)
{
	unsigned char p[100];
	uint32_t ps = 0;

	(void)state;
	header(p, 4096, 3, 7, 7);
	assert_int_equal(image_header(p, 100, &ps), 0);
	assert_int_equal(ps, 4096);
	assert_int_equal(header_size(p, 100), 3 * 4096);
	assert_int_equal(image_header(p, 99, &ps), -1);
	assert_int_equal(header_size(p, 99), 0);
	/* 1 is how SQLite writes 65536 */
	header(p, 1, 2, 7, 7);
	assert_int_equal(image_header(p, 100, &ps), 0);
	assert_int_equal(ps, 65536);
	assert_int_equal(header_size(p, 100), 2 * 65536);
	/* no page count, or one an older SQLite left stale: no size */
	header(p, 4096, 0, 7, 7);
	assert_int_equal(header_size(p, 100), 0);
	header(p, 4096, 3, 8, 7);
	assert_int_equal(header_size(p, 100), 0);
	/* page sizes SQLite has not */
	header(p, 256, 3, 7, 7);
	assert_int_equal(image_header(p, 100, &ps), -1);
	header(p, 3000, 3, 7, 7);
	assert_int_equal(image_header(p, 100, &ps), -1);
	/* not SQLite's */
	header(p, 4096, 3, 7, 7);
	p[0] = 's';
	assert_int_equal(image_header(p, 100, &ps), -1);
	assert_int_equal(header_size(p, 100), 0);
}

/* A delta is made of the sectors that differ, and refused when it does not fit what it applies to. */
static void test_delta(void **state)
{
	static unsigned char base[8192], data[8192], copy[8192], d[9000];
	static const unsigned char magic[] = "mig-delta 1\n";
	size_t n;

	(void)state;
	memset(base, 'a', sizeof(base));
	memcpy(data, base, sizeof(data));
	memset(data + 5000, 'b', 10);
	n = make_delta(base, data, sizeof(data), d, sizeof(d));
	assert_true(n > 0);
	assert_true(n < 1000);
	memcpy(copy, base, sizeof(copy));
	assert_int_equal(apply_delta(copy, sizeof(copy), d, n), 0);
	assert_memory_equal(copy, data, sizeof(data));
	/* it would not fit in so little room */
	assert_int_equal(make_delta(base, data, sizeof(data), d, 20), 0);
	/* no magic, another magic, a record cut short */
	assert_int_equal(apply_delta(copy, sizeof(copy), magic, 5), -1);
	assert_int_equal(apply_delta(copy, sizeof(copy), (const unsigned char *)"mig-delta 2\n", 12), -1);
	memcpy(d, magic, 12);
	memset(d + 12, 0, 8);
	assert_int_equal(apply_delta(copy, sizeof(copy), d, 12 + 7), -1);
	/* a range past the end, longer than what is left, longer than the delta holds */
	d[12 + 2] = 0x40;	/* offset 16384 */
	assert_int_equal(apply_delta(copy, sizeof(copy), d, 12 + 8), -1);
	d[12 + 2] = 0x1f, d[12 + 3] = 0xff;	/* offset 8191 */
	d[12 + 7] = 2;				/* 2 bytes */
	assert_int_equal(apply_delta(copy, sizeof(copy), d, 12 + 8 + 2), -1);
	d[12 + 2] = 0, d[12 + 3] = 0;
	assert_int_equal(apply_delta(copy, sizeof(copy), d, 12 + 8 + 1), -1);
	assert_int_equal(apply_delta(copy, sizeof(copy), d, 12 + 8 + 2), 0);
}

/* A snapshot's facts from its commit message: each at the start of its own line, followed by a blank */
static void test_info_parse(void **state)
{
	struct mig_snapshot_info in;

	(void)state;
	memset(&in, 0, sizeof(in));
	info_parse(&in, "size of the before up\n\nsizes 9\nstored_size 8\ntaken 12.5\ndatabase app.db\n"
		   "page-size 4096\nsize 8192\nstored 100\nrevisions 2\n", 7);
	assert_string_equal(in.subject, "size of the before up");
	assert_int_equal(in.time, 12);
	assert_int_equal(in.nsec, 5);
	assert_string_equal(in.database, "app.db");
	assert_int_equal(in.page_size, 4096);
	assert_int_equal(in.size, 8192);
	assert_int_equal(in.stored, 100);
	assert_int_equal(in.revisions, 2);
	free(in.subject);
	free(in.database);
	/* none of them: the commit's time, no database known */
	memset(&in, 0, sizeof(in));
	info_parse(&in, "bare", 7);
	assert_int_equal(in.time, 7);
	assert_int_equal(in.nsec, 0);
	assert_string_equal(in.database, "?");
	assert_int_equal(in.size, 0);
	free(in.subject);
	free(in.database);
	/* facts follow the first blank line: what comes before is the message */
	memset(&in, 0, sizeof(in));
	info_parse(&in, "size matters\nrevisions 99\n\nsize 8192\nrevisions 2\n", 7);
	assert_string_equal(in.subject, "size matters");
	assert_int_equal(in.size, 8192);
	assert_int_equal(in.revisions, 2);
	free(in.subject);
	free(in.database);
	/* taken in whole seconds */
	memset(&in, 0, sizeof(in));
	info_parse(&in, "s\n\ntaken 30\n", 7);
	assert_int_equal(in.time, 30);
	assert_int_equal(in.nsec, 0);
	free(in.subject);
	free(in.database);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parses_and_formats_back),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_image_header),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_info_parse),
	};
	struct mig_err err = MIG_ERR_INIT;
	int rc;

	mig_prog = "test-manifest";
	/* the object ids are libgit2's */
	if (mig_git_need(&err) < 0) {
		print_error("%s\n", err.msg);
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	mig_shutdown();
	return rc;
}
