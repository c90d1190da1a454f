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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parses_and_formats_back),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_long_line),
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
