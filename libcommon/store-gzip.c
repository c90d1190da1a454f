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

#include "image.h"
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


/* A stream of gzip members read from a file: what they hold, decompressed, one after the other. */
struct gz_in {
	int fd;
	const char *name;
	z_stream z;
	int zr, eof;
	unsigned char buf[64 * 1024];
};

static ssize_t gz_read(void *data, void *out, size_t len, struct mig_err *err)
{
	struct gz_in *g = data;

	for (;;) {
		if (!g->z.avail_in && !g->eof) {
			ssize_t n = read(g->fd, g->buf, sizeof(g->buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return mig_err_errno(err, MIG_EENV, "cannot read '%s'", g->name);
			g->eof = n == 0;
			g->z.next_in = g->buf;
			g->z.avail_in = (uInt)n;
		}
		if (g->zr == Z_STREAM_END) {
			/* another gzip member follows, or the end */
			if (!g->z.avail_in && g->eof)
				return 0;
			if (!g->z.avail_in)
				continue;
			inflateReset(&g->z);
		}
		g->z.next_out = out;
		g->z.avail_out = (uInt)len;
		g->zr = inflate(&g->z, Z_NO_FLUSH);
		if (g->zr == Z_BUF_ERROR && g->z.avail_out == len && !g->z.avail_in && g->eof)
			return mig_err_set(err, MIG_EENV, "'%s' ends in the middle of its gzip stream", g->name);
		if (g->zr != Z_OK && g->zr != Z_STREAM_END && g->zr != Z_BUF_ERROR)
			return mig_err_set(err, MIG_EENV, "'%s' is not a gzip stream: %s", g->name,
					   g->z.msg ? g->z.msg : "inflate failed");
		if (g->z.avail_out < len)
			return (ssize_t)(len - g->z.avail_out);
	}
}

/* An SQLite image: the file's own bytes, whole pages, as many as its header says. */
static int import_sqlite(struct gz_in *g, struct taker *t, struct manifest *m, struct mig_err *err)
{
	unsigned char *chunk = mig_xmalloc(m->chunk_size);
	uint64_t index = 0, want = 0;
	size_t fill = 0;
	ssize_t n;
	int rc = 0;

	while ((n = gz_read(g, chunk + fill, m->chunk_size - fill, err)) > 0) {
		int first = index == 0 && fill < 100;

		fill += (size_t)n;
		if (first && fill >= 100) {
			if (image_header(chunk, fill, &m->page_size) < 0) {
				rc = mig_err_set(err, MIG_EENV, "'%s' does not hold an SQLite database", g->name);
				break;
			}
			want = header_size(chunk, fill);
		}
		if (fill == m->chunk_size) {
			m->size += fill;
			if (taker_chunk(t, index++, chunk, fill) < 0)
				break;
			fill = 0;
		}
	}
	if (n < 0)
		rc = (int)n;
	if (rc == 0 && fill) {
		if (index == 0 && image_header(chunk, fill, &m->page_size) < 0)
			rc = mig_err_set(err, MIG_EENV, "'%s' does not hold an SQLite database", g->name);
		else if (taker_chunk(t, index++, chunk, fill) == 0)
			m->size += fill;
	}
	if (rc == 0 && (!m->size || !m->page_size || m->size % m->page_size))
		rc = mig_err_set(err, MIG_EENV, "'%s' does not hold an SQLite database: %llu bytes is no whole "
				 "number of pages", g->name, (unsigned long long)m->size);
	/* whole gzip members, but fewer than the database had: cut short */
	if (rc == 0 && want > m->size)
		rc = mig_err_set(err, MIG_EENV, "'%s' is cut short: it holds %llu bytes of the %llu its database "
				 "header says", g->name, (unsigned long long)m->size, (unsigned long long)want);
	m->n = (size_t)index;
	free(chunk);
	return rc;
}

int mig_snapshot_import(struct mig_store *s, int fd, const char *name, const char *database,
			const struct mig_snapshot_opts *o, char id[41], struct mig_err *err)
{
	struct gz_in *g = mig_xcalloc(1, sizeof(*g));
	struct mig_image_stream in = { gz_read, g, name };
	struct mig_image_sink sink;
	struct mig_err ierr = MIG_ERR_INIT;
	struct manifest m;
	struct taker *t;
	uint64_t stored = 0;
	int rc, frc;

	memset(&m, 0, sizeof(m));
	g->fd = fd;
	g->name = name;
	g->zr = Z_OK;
	if (inflateInit2(&g->z, 15 + 16) != Z_OK) {
		free(g);
		return mig_err_set(err, MIG_EENV, "out of memory for zlib");
	}
	m.chunk_size = chunk_size();
	t = taker_start(s, NULL, m.chunk_size, o->progress, "import");
	sink = (struct mig_image_sink){ .chunk_size = m.chunk_size, .chunk = taker_chunk,
				       .progress = taker_progress, .data = t };
	/* a backend's own export format, or SQLite's file */
	if ((rc = mig_image_import(database, &in, &sink, &m.page_size, &m.size, &ierr)) == 1)
		rc = import_sqlite(g, t, &m, &ierr);
	else if (rc == 0)
		m.n = (size_t)((m.size + m.chunk_size - 1) / m.chunk_size);
	frc = taker_finish(t, rc == 0 ? &m : NULL, &stored, err);
	if (rc < 0 && frc == 0)
		*err = ierr;	/* the file's failure, not the store's */
	else if (rc == 0 && frc == 0)
		rc = commit_snapshot(s, &m, name, o, stored, id, err);
	else
		rc = frc < 0 ? frc : rc;
	inflateEnd(&g->z);
	free(g);
	manifest_release(&m);
	return rc;
}
