/*
 * Snapshots as standard gzip streams of the database image: written by
 * 'mig backup -o', read by 'mig restore -i' into a new snapshot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zlib.h>

#include "store-internal.h"

#define EXPORT_LEVEL 6

static int write_all(int fd, const void *buf, size_t n, const char *name, struct mig_err *err)
{
	if (mig_write_all(fd, buf, n) < 0)
		return mig_err_errno(err, MIG_EENV, "cannot write '%s'", name);
	return 0;
}

/*
 * A gzip stream of one member per chunk (RFC 1952 allows several; gunzip
 * and zlib read them as one), each compressed on its own.
 */
int mig_snapshot_export(struct mig_store *s, const char *id, int fd, const char *name, int progress,
			struct mig_err *err)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(EXPORT_LEVEL);
	struct manifest m;
	struct reader *r = NULL;
	unsigned char *z = NULL;
	size_t zcap, i;
	int rc;

	if (!c)
		return mig_err_set(err, MIG_EENV, "out of memory for a compressor");
	if ((rc = manifest_load(&m, s, id, err)) < 0) {
		libdeflate_free_compressor(c);
		return rc;
	}
	zcap = libdeflate_gzip_compress_bound(c, m.chunk_size);
	z = mig_xmalloc(zcap);
	if ((rc = reader_start(&r, &m, s, NULL, progress, "export", err)) == 0)
		for (i = 0; i < m.n && rc == 0; i++) {
			const unsigned char *chunk;
			size_t zn;

			if ((rc = reader_get(r, i, &chunk, err)) < 0)
				break;
			if (!(zn = libdeflate_gzip_compress(c, chunk, chunk_len(&m, i), z, zcap)))
				rc = mig_err_set(err, MIG_EENV, "cannot compress chunk %zu", i);
			else
				rc = write_all(fd, z, zn, name, err);
		}
	reader_stop(r);
	free(z);
	libdeflate_free_compressor(c);
	manifest_release(&m);
	return rc;
}


int mig_snapshot_import(struct mig_store *s, int fd, const char *name, const struct mig_snapshot_opts *o,
			char id[41], struct mig_err *err)
{
	unsigned char in[64 * 1024];
	unsigned char *chunk;
	struct manifest m;
	struct taker *t;
	z_stream z;
	size_t fill = 0;
	uint64_t index = 0, want = 0, stored = 0;
	int rc = 0, zr = Z_OK, frc, eof = 0;

	memset(&m, 0, sizeof(m));
	memset(&z, 0, sizeof(z));
	m.chunk_size = chunk_size();
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return mig_err_set(err, MIG_EENV, "out of memory for zlib");
	chunk = mig_xmalloc(m.chunk_size);
	t = taker_start(s, NULL, m.chunk_size, o->progress, "import");
	for (;;) {
		size_t room;

		if (!z.avail_in && !eof) {
			ssize_t n = read(fd, in, sizeof(in));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = mig_err_errno(err, MIG_EENV, "cannot read '%s'", name);
				break;
			}
			eof = n == 0;
			z.next_in = in;
			z.avail_in = (uInt)n;
		}
		if (zr == Z_STREAM_END) {
			/* another gzip member follows, or the end */
			if (!z.avail_in && eof)
				break;
			if (!z.avail_in)
				continue;
			inflateReset(&z);
		}
		room = m.chunk_size - fill;
		z.next_out = chunk + fill;
		z.avail_out = (uInt)room;
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_BUF_ERROR && z.avail_out == room && !z.avail_in && eof) {
			rc = mig_err_set(err, MIG_EENV, "'%s' ends in the middle of its gzip stream", name);
			break;
		}
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			rc = mig_err_set(err, MIG_EENV, "'%s' is not a gzip stream: %s", name,
					 z.msg ? z.msg : "inflate failed");
			break;
		}
		fill = m.chunk_size - z.avail_out;
		if (index == 0 && fill >= 100 && image_header(chunk, fill, &m.page_size) < 0) {
			rc = mig_err_set(err, MIG_EENV, "'%s' does not hold an SQLite database", name);
			break;
		}
		if (index == 0 && fill >= 100)
			want = header_size(chunk, fill);
		if (fill == m.chunk_size) {
			m.size += fill;
			if (taker_chunk(t, index++, chunk, fill) < 0)
				break;
			fill = 0;
		}
	}
	if (rc == 0 && fill) {
		if (index == 0 && image_header(chunk, fill, &m.page_size) < 0)
			rc = mig_err_set(err, MIG_EENV, "'%s' does not hold an SQLite database", name);
		else if (taker_chunk(t, index++, chunk, fill) == 0)
			m.size += fill;
	}
	if (rc == 0 && (!m.size || !m.page_size || m.size % m.page_size))
		rc = mig_err_set(err, MIG_EENV, "'%s' does not hold an SQLite database: %llu bytes is no whole "
				 "number of pages", name, (unsigned long long)m.size);
	/* whole gzip members, but fewer than the database had: cut short */
	if (rc == 0 && want > m.size)
		rc = mig_err_set(err, MIG_EENV, "'%s' is cut short: it holds %llu bytes of the %llu its database "
				 "header says", name, (unsigned long long)m.size, (unsigned long long)want);
	m.n = (size_t)index;
	frc = taker_finish(t, rc == 0 ? &m : NULL, &stored, err);
	if (rc == 0 && frc == 0)
		rc = commit_snapshot(s, &m, name, o, stored, id, err);
	else if (rc == 0)
		rc = frc;
	inflateEnd(&z);
	free(chunk);
	manifest_release(&m);
	return rc;
}
