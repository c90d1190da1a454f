/*
 * What a snapshot in the store says about itself, which a damaged or
 * hand-made store can make anything. The first byte picks what the
 * rest is:
 *
 *   0  a manifest: it parses, or is an environment error; one that
 *      parses is one the readers can follow (every byte of the image in
 *      a chunk, a chunk buffer mig can allocate), and formats back to
 *      one that parses the same;
 *   1  a delta blob, applied to a chunk of the length the next 3 bytes
 *      give (little-endian, up to 4 MiB); then a database header, as
 *      restore and import check one;
 *   2  a snapshot's commit message, as 'mig backup --list' reads it,
 *      shown in every format: porcelain one record a line, nothing raw
 *      to a terminal.
 *
 * The parsers are the store's own (store-internal.h).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "store-internal.h"

#define MAX_CHUNK (4096 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	mig_prog = "fuzz-manifest";
	fuzz_git_need();
	setenv("TZ", "UTC", 1);
	return 0;
}

static void manifest(const char *data, size_t len)
{
	struct mig_err err = MIG_ERR_INIT;
	struct manifest m, again;
	struct mig_buf b = MIG_BUF_INIT;
	uint64_t total = 0;
	size_t i;

	memset(&m, 0, sizeof(m));
	memcpy(m.id, "0123456789abcdef0123456789abcdef01234567", 41);
	if (manifest_parse(&m, data, len, &err) < 0) {
		if (err.code != MIG_EENV || m.c || m.n)
			abort();
		return;
	}
	/* what reader_start and the decoders do with it */
	free(mig_xmalloc(HDR_ROOM + m.chunk_size));
	for (i = 0; i < m.n; i++) {
		size_t n = chunk_len(&m, i);

		if (!n || n > m.chunk_size)
			abort();
		total += n;
	}
	if (total != m.size)
		abort();
	manifest_format(&b, &m);
	memset(&again, 0, sizeof(again));
	if (manifest_parse(&again, b.buf, b.len, &err) < 0 || again.n != m.n || again.size != m.size ||
	    again.chunk_size != m.chunk_size || again.page_size != m.page_size || strcmp(again.checksum, m.checksum))
		abort();
	for (i = 0; i < m.n; i++)
		if (hash_cmp(again.c[i].h, m.c[i].h) || git_oid_cmp(&again.c[i].oid, &m.c[i].oid) ||
		    again.c[i].delta != m.c[i].delta || (m.c[i].delta && git_oid_cmp(&again.c[i].base, &m.c[i].base)))
			abort();
	manifest_release(&again);
	manifest_release(&m);
	mig_buf_release(&b);
}

static void delta(const unsigned char *data, size_t len)
{
	unsigned char *chunk;
	size_t n;
	uint32_t ps;

	if (len < 3)
		return;
	n = ((size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16) % (MAX_CHUNK + 1);
	chunk = mig_xcalloc(1, n + 1);
	apply_delta(chunk, n, data + 3, len - 3);
	/* a delta may have made the first chunk's header */
	header_size(chunk, n);
	image_header(chunk, n, &ps);
	header_size(data + 3, len - 3);
	image_header(data + 3, len - 3, &ps);
	free(chunk);
}

static void check(enum mig_format fmt, const char *out, size_t nr)
{
	const char *p;
	size_t lines = 0, tabs = 0;

	for (p = out; *p; p++) {
		if (fmt == MIG_FMT_HUMAN && (((unsigned char)*p < 0x20 && *p != '\n') || *p == 0x7f))
			abort();
		lines += *p == '\n';
		tabs += *p == '\t';
	}
	if (fmt == MIG_FMT_PORCELAIN && (lines != nr || tabs != 6 * nr))
		abort();
}

static void listing(const char *data, size_t len)
{
	static const enum mig_format fmts[] = { MIG_FMT_HUMAN, MIG_FMT_PORCELAIN, MIG_FMT_JSON };
	struct mig_snapshot_list l;
	struct mig_buf out = MIG_BUF_INIT;
	char *msg = mig_xstrndup(data, len);
	size_t i;

	/* the message twice: as it was taken, and as a commit dated by its author only */
	l.nr = 2;
	l.v = mig_xcalloc(2, sizeof(*l.v));
	memcpy(l.v[0].id, "0123456789abcdef0123456789abcdef01234567", 41);
	memcpy(l.v[1].id, "89abcdef0123456789abcdef0123456789abcdef", 41);
	info_parse(&l.v[0], msg, 1700000000);
	info_parse(&l.v[1], msg + strlen(msg) / 2, -1700000000);
	for (i = 0; i < 3; i++) {
		mig_snapshot_show(&out, &l, fmts[i]);
		if (out.buf && strlen(out.buf) != out.len)
			abort();
		check(fmts[i], out.buf ? out.buf : "", l.nr);
		mig_buf_reset(&out);
	}
	mig_buf_release(&out);
	mig_snapshot_list_release(&l);
	free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	switch (data[0] % 3) {
	case 0:
		manifest((const char *)data + 1, size - 1);
		break;
	case 1:
		delta(data + 1, size - 1);
		break;
	default:
		listing((const char *)data + 1, size - 1);
		break;
	}
	return 0;
}
