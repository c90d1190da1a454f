/*
 * Database images in and out through SQLite's backup API and two small
 * VFSes of our own: a sink that takes the pages SQLite writes into a
 * fresh database and hands them on in chunks, and a source that serves
 * an image's pages from a callback. SQLite's pager does the rest: a
 * consistent read transaction on the way out, one atomic write
 * transaction on the way in.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "sqlite-db.h"
#include "util.h"

#define SECTOR 512	/* the smallest page SQLite writes */

/* The calls a VFS of ours hands to the default one. */
static int base_randomness(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return sqlite3_vfs_find(NULL)->xRandomness(sqlite3_vfs_find(NULL), n, out);
}

static int base_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return sqlite3_vfs_find(NULL)->xSleep(sqlite3_vfs_find(NULL), us);
}

static int base_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return sqlite3_vfs_find(NULL)->xCurrentTime(sqlite3_vfs_find(NULL), out);
}

static int base_last_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	if (n > 0)
		out[0] = '\0';
	return 0;
}

static int no_delete(sqlite3_vfs *v, const char *name, int sync)
{
	(void)v, (void)name, (void)sync;
	return SQLITE_OK;
}

/* There is never a journal or a WAL beside an image. */
static int no_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v, (void)name, (void)flags;
	*out = 0;
	return SQLITE_OK;
}

static int same_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	snprintf(out, (size_t)n, "%s", name);
	return SQLITE_OK;
}

static int file_ok(sqlite3_file *f)
{
	(void)f;
	return SQLITE_OK;
}

static int file_sync(sqlite3_file *f, int flags)
{
	(void)f, (void)flags;
	return SQLITE_OK;
}

static int file_lock(sqlite3_file *f, int level)
{
	(void)f, (void)level;
	return SQLITE_OK;
}

static int file_reserved(sqlite3_file *f, int *out)
{
	(void)f;
	*out = 0;
	return SQLITE_OK;
}

static int file_control(sqlite3_file *f, int op, void *arg)
{
	(void)f, (void)op, (void)arg;
	return SQLITE_NOTFOUND;
}

static int file_sector(sqlite3_file *f)
{
	(void)f;
	return SECTOR;
}

static int file_caps(sqlite3_file *f)
{
	(void)f;
	return 0;
}

/*
 * What the sink and the source begin with: the VFS SQLite sees, its
 * name, and the methods of its one file, the main database.
 */
struct our_vfs {
	sqlite3_vfs vfs;
	char name[64];
	const sqlite3_io_methods *methods;
};

struct our_file {
	sqlite3_file base;
	void *owner;		/* the struct sink or struct source */
};

static int our_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *outflags)
{
	struct our_vfs *o = v->pAppData;

	(void)name;
	f->pMethods = NULL;
	if (!(flags & SQLITE_OPEN_MAIN_DB))
		return SQLITE_CANTOPEN;
	((struct our_file *)f)->owner = o;
	f->pMethods = o->methods;
	if (outflags)
		*outflags = flags;
	return SQLITE_OK;
}

/* Register o (the head of a sink or source) as a VFS of its own name. */
static int vfs_register(struct our_vfs *o, const char *kind, const sqlite3_io_methods *methods)
{
	sqlite3_vfs *v = &o->vfs;

	mig_sqlite_setup();
	snprintf(o->name, sizeof(o->name), "mig-%s-%p", kind, (void *)o);
	o->methods = methods;
	memset(v, 0, sizeof(*v));
	v->iVersion = 1;
	v->szOsFile = (int)sizeof(struct our_file);
	v->mxPathname = 512;
	v->zName = o->name;
	v->pAppData = o;
	v->xOpen = our_open;
	v->xDelete = no_delete;
	v->xAccess = no_access;
	v->xFullPathname = same_pathname;
	v->xRandomness = base_randomness;
	v->xSleep = base_sleep;
	v->xCurrentTime = base_time;
	v->xGetLastError = base_last_error;
	return sqlite3_vfs_register(v, 0) == SQLITE_OK ? 0 : -1;
}

/*
 * The sink. Pages arrive as SQLite's pager flushes them: ascending, but
 * page 1 is written again at commit, so chunk 0 stays open to the end.
 * A chunk is handed on once every sector of it was written; a write into
 * a chunk already handed on is an error, never a silent loss.
 */
struct open_chunk {
	uint64_t index;
	unsigned char *buf;
	unsigned char seen[256 * 1024 / SECTOR / 8 * 16];	/* up to 4 MiB chunks */
	size_t nseen;
};

struct sink {
	struct our_vfs head;	/* first: what the VFS's pAppData points to */
	const struct mig_image_sink *out;
	struct open_chunk *open;
	size_t nopen, alloc;
	unsigned char *gone;	/* gone[i]: chunk i was handed on */
	size_t ngone;
	uint64_t size, total;
	int failed;
};

static struct sink *sink_of(sqlite3_file *f)
{
	return ((struct our_file *)f)->owner;
}

static int hand_on(struct sink *s, size_t slot, size_t len)
{
	struct open_chunk *c = &s->open[slot];
	int rc = 0;

	if (len && s->out->chunk(s->out->data, c->index, c->buf, len) < 0)
		rc = -1;
	if (c->index >= s->ngone) {
		size_t n = (size_t)c->index + 1024;

		s->gone = mig_xrealloc(s->gone, n);
		memset(s->gone + s->ngone, 0, n - s->ngone);
		s->ngone = n;
	}
	s->gone[c->index] = 1;
	free(c->buf);
	s->open[slot] = s->open[--s->nopen];
	if (rc < 0)
		s->failed = 1;
	return rc;
}

static struct open_chunk *chunk_for(struct sink *s, uint64_t index)
{
	size_t i;

	for (i = 0; i < s->nopen; i++)
		if (s->open[i].index == index)
			return &s->open[i];
	MIG_GROW(s->open, s->nopen + 1, s->alloc);
	memset(&s->open[s->nopen], 0, sizeof(s->open[0]));
	s->open[s->nopen].index = index;
	s->open[s->nopen].buf = mig_xcalloc(1, s->out->chunk_size);
	return &s->open[s->nopen++];
}

static int sink_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct sink *s = sink_of(f);
	const size_t cs = s->out->chunk_size, sectors = cs / SECTOR;
	const unsigned char *p = buf;
	uint64_t o = (uint64_t)off, end = o + (uint64_t)amt;

	if (s->failed || o % SECTOR || amt % SECTOR)
		return SQLITE_IOERR_WRITE;
	while (o < end) {
		uint64_t index = o / cs;
		size_t at = (size_t)(o % cs), n = (size_t)(end - o) < cs - at ? (size_t)(end - o) : cs - at, k;
		struct open_chunk *c;

		if (index < s->ngone && s->gone[index])
			return SQLITE_IOERR_WRITE;
		c = chunk_for(s, index);
		memcpy(c->buf + at, p, n);
		for (k = at / SECTOR; k < (at + n) / SECTOR; k++)
			if (!(c->seen[k / 8] & (1u << (k % 8)))) {
				c->seen[k / 8] |= (unsigned char)(1u << (k % 8));
				c->nseen++;
			}
		if (c->nseen == sectors && index != 0 && hand_on(s, (size_t)(c - s->open), cs) < 0)
			return SQLITE_IOERR_WRITE;
		p += n;
		o += n;
	}
	if (end > s->size)
		s->size = end;
	if (s->out->progress)
		s->out->progress(s->out->data, s->size, s->total);
	return SQLITE_OK;
}

static int sink_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct sink *s = sink_of(f);
	const size_t cs = s->out->chunk_size;
	uint64_t o = (uint64_t)off;
	size_t i;

	memset(buf, 0, (size_t)amt);
	if (o >= s->size)
		return SQLITE_IOERR_SHORT_READ;
	/* only page 1 is read back, from chunk 0, which stays open */
	for (i = 0; i < s->nopen; i++)
		if (s->open[i].index == o / cs && o % cs + (size_t)amt <= cs) {
			memcpy(buf, s->open[i].buf + o % cs, (size_t)amt);
			return o + (uint64_t)amt > s->size ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
		}
	return SQLITE_IOERR_READ;
}

static int sink_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct sink *s = sink_of(f);

	if ((uint64_t)size < s->size)
		s->size = (uint64_t)size;
	return SQLITE_OK;
}

static int sink_size(sqlite3_file *f, sqlite3_int64 *out)
{
	*out = (sqlite3_int64)sink_of(f)->size;
	return SQLITE_OK;
}

static const sqlite3_io_methods sink_methods = {
	1, file_ok, sink_read, sink_write, sink_truncate, file_sync, sink_size,
	file_lock, file_lock, file_reserved, file_control, file_sector, file_caps,
	NULL, NULL, NULL, NULL, NULL, NULL,
};

/* Hand on what is still open, in order: chunk 0, the tail, any hole. */
static int sink_finish(struct sink *s)
{
	const size_t cs = s->out->chunk_size;
	uint64_t n = (s->size + cs - 1) / cs, i;

	for (i = 0; i < n && !s->failed; i++) {
		size_t len = i == n - 1 ? (size_t)(s->size - i * cs) : cs, j;

		if (i < s->ngone && s->gone[i])
			continue;
		for (j = 0; j < s->nopen && s->open[j].index != i; j++)
			;
		if (j == s->nopen)
			chunk_for(s, i);	/* never written: zeros */
		if (hand_on(s, j, len) < 0)
			return -1;
	}
	return s->failed ? -1 : 0;
}

static long long pragma_int(sqlite3 *db, const char *sql);

static int sqlite_fail(struct mig_err *err, sqlite3 *db, const char *what, const char *path)
{
	return mig_err_set(err, MIG_EENV, "%s '%s': %s", what, path, db ? sqlite3_errmsg(db) : "out of memory");
}

static int busy_or_fail(struct mig_err *err, sqlite3 *db, int r, const char *path, int timeout_ms)
{
	if (r == SQLITE_BUSY || r == SQLITE_LOCKED)
		return mig_err_set(err, MIG_EENV, "cannot snapshot '%s': the database stayed locked for %d ms",
				   path, timeout_ms);
	return sqlite_fail(err, db, "cannot snapshot", path);
}

/*
 * The image read from the file itself, in chunks, under a read
 * transaction: in rollback-journal mode SQLite's SHARED lock keeps
 * every writer out of the file, so the file is the image, and reading it
 * in large blocks costs a third of the backup API's page by page. In WAL
 * mode the newest pages may be in the WAL, so the backup API (which
 * reads through the pager) does it: 1 then, as for an empty database.
 * The reads go through SQLite's own file handle, whose lock a second
 * descriptor's close would drop (POSIX locks are per process).
 */
static int read_blocks(sqlite3 *db, const char *path, int timeout_ms, const struct mig_image_sink *out,
		       uint32_t *page_size, uint64_t *size, int *failed, struct mig_err *err)
{
	sqlite3_file *f = NULL;
	sqlite3_stmt *st = NULL;
	unsigned char *buf = NULL;
	long long ps, pages;
	uint64_t total, off, index;
	int rc = 1, r, wal;

	if ((r = sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL)) != SQLITE_OK)
		return busy_or_fail(err, db, r, path, timeout_ms);
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = sqlite_fail(err, db, "cannot snapshot", path);
		goto out;
	}
	wal = !sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal");
	ps = pragma_int(db, "PRAGMA page_size");
	pages = pragma_int(db, "PRAGMA page_count");
	if (wal || ps < 512 || pages <= 0 ||
	    sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f || !f->pMethods)
		goto out;
	total = (uint64_t)ps * (uint64_t)pages;
	buf = mig_xmalloc(out->chunk_size);
	for (off = 0, index = 0; off < total; off += out->chunk_size, index++) {
		size_t n = total - off < out->chunk_size ? (size_t)(total - off) : out->chunk_size;
		unsigned char *b = out->buffer ? out->buffer(out->data) : NULL;

		if (!b)
			b = buf;
		if ((r = f->pMethods->xRead(f, b, (int)n, (sqlite3_int64)off)) != SQLITE_OK) {
			rc = mig_err_set(err, MIG_EENV, "cannot read database '%s': %s", path, sqlite3_errstr(r));
			goto out;
		}
		if (out->chunk(out->data, index, b, n) < 0) {
			*failed = 1;
			rc = mig_err_set(err, MIG_EENV, "consumer failed");
			goto out;
		}
		if (out->progress)
			out->progress(out->data, off + n, total);
	}
	*page_size = (uint32_t)ps;
	*size = total;
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	free(buf);
	return rc;
}

int mig_sqlite_image_read(const char *path, int timeout_ms, const struct mig_image_sink *out,
			  uint32_t *page_size, uint64_t *size, struct mig_err *err)
{
	struct sink s;
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b = NULL;
	sqlite3_stmt *st = NULL;
	struct stat sb;
	int rc = 0, r;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.out = out;
	if (out->chunk_size % (64 * 1024) || out->chunk_size > 8 * sizeof(s.open[0].seen) * SECTOR)
		return mig_err_set(err, MIG_EUSAGE, "chunk size %zu is not a multiple of 64 KiB up to 4 MiB",
				   out->chunk_size);
	if (stat(path, &sb) < 0)
		return mig_err_errno(err, MIG_EENV, "cannot read database '%s'", path);
	s.total = (uint64_t)sb.st_size;
	if (vfs_register(&s.head, "sink", &sink_methods) < 0)
		return mig_err_set(err, MIG_EENV, "cannot register the snapshot sink");
	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = sqlite_fail(err, src, "cannot open database", path);
		goto out;
	}
	/*
	 * A hot journal a killed writer left cannot be rolled back by a
	 * read-only connection: roll it back as every command does, then
	 * read. (A look without waiting: a writer at work is waited for below.)
	 */
	if (sqlite3_exec(src, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK &&
	    sqlite3_extended_errcode(src) == SQLITE_READONLY_ROLLBACK) {
		struct mig_db *db = NULL;

		sqlite3_close(src);
		src = NULL;
		rc = mig_db_open(&db, path, MIG_DB_READONLY, timeout_ms, err);
		mig_db_close(db);
		if (rc < 0)
			goto out;
		if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
			rc = sqlite_fail(err, src, "cannot open database", path);
			goto out;
		}
	}
	sqlite3_busy_timeout(src, timeout_ms);
	if ((rc = read_blocks(src, path, timeout_ms, out, page_size, size, &s.failed, err)) <= 0)
		goto out;
	rc = 0;
	if (sqlite3_open_v2("image", &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, s.head.name) != SQLITE_OK ||
	    sqlite3_exec(dst, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
			 "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-1024", NULL, NULL, NULL) != SQLITE_OK) {
		rc = sqlite_fail(err, dst, "cannot snapshot", path);
		goto out;
	}
	if (!(b = sqlite3_backup_init(dst, "main", src, "main"))) {
		rc = sqlite_fail(err, dst, "cannot snapshot", path);
		goto out;
	}
	r = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (r != SQLITE_DONE) {
		if (s.failed)
			rc = mig_err_set(err, MIG_EENV, "consumer failed");
		else if (r == SQLITE_BUSY || r == SQLITE_LOCKED)
			rc = mig_err_set(err, MIG_EENV, "cannot snapshot '%s': the database stayed locked for %d ms",
					 path, timeout_ms);
		else
			rc = mig_err_set(err, MIG_EENV, "cannot snapshot '%s': %s", path, sqlite3_errstr(r));
		goto out;
	}
	if (sqlite3_prepare_v2(dst, "PRAGMA page_size", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = sqlite_fail(err, dst, "cannot snapshot", path);
		goto out;
	}
	*page_size = (uint32_t)sqlite3_column_int(st, 0);
	*size = s.size;
	if (sink_finish(&s) < 0)
		rc = mig_err_set(err, MIG_EENV, "consumer failed");
out:
	sqlite3_finalize(st);
	sqlite3_close(dst);
	sqlite3_close(src);
	sqlite3_vfs_unregister(&s.head.vfs);
	for (i = 0; i < s.nopen; i++)
		free(s.open[i].buf);
	free(s.open);
	free(s.gone);
	return rc;
}

/* The source: an image served by the caller's read callback. */
struct source {
	struct our_vfs head;	/* first: what the VFS's pAppData points to */
	const struct mig_image_source *in;
	struct mig_err err;
	int failed;
};

static struct source *source_of(sqlite3_file *f)
{
	return ((struct our_file *)f)->owner;
}

static int source_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct source *s = source_of(f);
	uint64_t o = (uint64_t)off, n = (uint64_t)amt;

	if (s->failed)
		return SQLITE_IOERR_READ;
	if (o >= s->in->size) {
		memset(buf, 0, (size_t)amt);
		return SQLITE_IOERR_SHORT_READ;
	}
	if (o + n > s->in->size) {
		memset(buf, 0, (size_t)amt);
		n = s->in->size - o;
	}
	if (s->in->read(s->in->data, o, buf, (size_t)n, &s->err) < 0) {
		s->failed = 1;
		return SQLITE_IOERR_READ;
	}
	return n < (uint64_t)amt ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

static int source_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	(void)f, (void)buf, (void)amt, (void)off;
	return SQLITE_READONLY;
}

static int source_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	(void)f, (void)size;
	return SQLITE_READONLY;
}

static int source_size(sqlite3_file *f, sqlite3_int64 *out)
{
	*out = (sqlite3_int64)source_of(f)->in->size;
	return SQLITE_OK;
}

static const sqlite3_io_methods source_methods = {
	1, file_ok, source_read, source_write, source_truncate, file_sync, source_size,
	file_lock, file_lock, file_reserved, file_control, file_sector, file_caps,
	NULL, NULL, NULL, NULL, NULL, NULL,
};

/* One integer a pragma returns, or -1. */
static long long pragma_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * Did a backup that failed commit all the same? In rollback-journal
 * mode SQLite shrinks the file after the commit, and a failed ftruncate
 * then fails the step though the journal is gone and the image in place.
 * A committed copy has the schema cookie the backup gives it, one past
 * the one before, and the image's length.
 */
static int committed(const char *path, long long cookie, const struct mig_image_source *in)
{
	sqlite3 *db = NULL;
	int r = 0;

	if (cookie >= 0 && sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
		r = pragma_int(db, "PRAGMA schema_version") == ((cookie + 1) & 0xffffffff) &&
		    (uint64_t)pragma_int(db, "PRAGMA page_count") * (uint64_t)pragma_int(db, "PRAGMA page_size") ==
		    in->size;
	sqlite3_close(db);
	return r;
}

/*
 * Restoring in place, in rollback-journal mode, as SQLite's pager would
 * but in large blocks and only where the image differs. Under an
 * EXCLUSIVE lock, every page of each chunk that differs from the image
 * (the source says which, by its hash) is saved in a rollback journal
 * of SQLite's own format beside the database, and the journal synced;
 * then those chunks are decoded and their differing pages written, the
 * file synced, and the journal deleted, which commits. A kill or a
 * failure before that leaves a hot journal, which the next connection
 * (mig's own, at once, on failure) rolls back: the database as it was.
 * The backup API journals and writes every page one by one, with a
 * sync each time its cache fills; this writes what changed, with three
 * syncs.
 */
#define JOURNAL_SECTOR 4096	/* the journal header's room, as SQLite's sector */
#define JOURNAL_BUF (1024 * 1024)
#define WRITE_MAX 65536

static const unsigned char journal_magic[8] = { 0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7 };

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct journal {
	int fd;
	const char *path;
	unsigned char *buf;
	size_t len;
	uint32_t nonce, nrec, page_size;
};

/* SQLite's journal checksum of a page: a byte every 200, from the end */
static uint32_t page_cksum(uint32_t nonce, const unsigned char *p, uint32_t ps)
{
	int i;

	for (i = (int)ps - 200; i > 0; i -= 200)
		nonce += p[i];
	return nonce;
}

static int journal_flush(struct journal *j, struct mig_err *err)
{
	if (j->len && mig_write_all(j->fd, j->buf, j->len) < 0)
		return mig_err_errno(err, MIG_EENV, "cannot write '%s'", j->path);
	j->len = 0;
	return 0;
}

static int journal_add(struct journal *j, uint32_t pgno, const unsigned char *page, struct mig_err *err)
{
	if (j->len + 8 + j->page_size > JOURNAL_BUF && journal_flush(j, err) < 0)
		return MIG_EENV;
	put32(j->buf + j->len, pgno);
	memcpy(j->buf + j->len + 4, page, j->page_size);
	put32(j->buf + j->len + 4 + j->page_size, page_cksum(j->nonce, page, j->page_size));
	j->len += 8 + j->page_size;
	j->nrec++;
	return 0;
}

/* Sync the directory that holds path. */
static int sync_dir_of(const char *path)
{
	char *dir = mig_xstrdup(path), *slash = strrchr(dir, '/');
	int fd, rc = -1;

	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if ((fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(dir);
	return rc;
}

/*
 * SQLite's lock-byte page, which holds the bytes its file locks are
 * taken on (at 1 GiB): never written, and a journal record of it ends a
 * rollback (pager_playback_one_page), so it is neither journaled nor
 * written.
 */
#define LOCK_BYTE 0x40000000ULL

static int lock_page(uint64_t off, uint32_t ps)
{
	return off == LOCK_BYTE / ps * ps;
}

/* Does the page at at of chunk buf (at off) stay as it is: the same as old (olen bytes), or the lock-byte page? */
static int keep_page(uint64_t off, const unsigned char *buf, size_t at, const unsigned char *old, size_t olen,
		     uint32_t ps)
{
	return lock_page(off + at, ps) || (at + ps <= olen && !memcmp(buf + at, old + at, ps));
}

/* Write the pages of chunk buf (at off, len bytes) that differ from old (olen bytes there). */
static int write_changed(sqlite3_file *f, uint64_t off, const unsigned char *buf, size_t len,
			 const unsigned char *old, size_t olen, uint32_t ps)
{
	size_t at = 0;

	while (at < len) {
		size_t start, end;
		int r;

		if (keep_page(off, buf, at, old, olen, ps)) {
			at += ps;
			continue;
		}
		for (start = at; at < len && !keep_page(off, buf, at, old, olen, ps); at += ps)
			;
		end = at;
		/* SQLite's unix VFS writes at most 128 KiB - 1 a call (seekAndWriteFd) */
		for (; start < end; start += WRITE_MAX) {
			int n = (int)(end - start < WRITE_MAX ? end - start : WRITE_MAX);

			if ((r = f->pMethods->xWrite(f, buf + start, n, (sqlite3_int64)(off + start))) != SQLITE_OK)
				return r;
		}
	}
	return SQLITE_OK;
}

/* Let a new connection roll back the hot journal a failed restore left. */
static void roll_back(const char *path, int timeout_ms)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(db, timeout_ms);
		sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
	}
	sqlite3_close(db);
}

/*
 * 0 when restored, < 0 on failure (the database as it was, or a hot
 * journal that brings it back), 1 when this cannot do it (WAL mode,
 * another page size, an empty or missing database, a source that cannot
 * say what differs): the backup API does it then.
 */
static int write_in_place(const char *path, int timeout_ms, const struct mig_image_source *in,
			  struct mig_err *err)
{
	struct journal j = { .fd = -1 };
	sqlite3 *db = NULL;
	sqlite3_file *f = NULL;
	sqlite3_stmt *st = NULL;
	unsigned char *old = NULL, *buf = NULL, *changed = NULL, hdr[28];
	const char *jpath = NULL;
	long long ps, pages, cookie;
	uint64_t old_size, cs = in->chunk_size, n, i;
	uint32_t counter;
	struct stat sb;
	int rc = 1, r, began = 0, written = 0, wal;

	if (!in->same || !in->want || !cs || !in->page_size || !in->size || stat(path, &sb) < 0 || !sb.st_size)
		return 1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, timeout_ms);
	if ((r = sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL)) != SQLITE_OK) {
		if (r == SQLITE_BUSY || r == SQLITE_LOCKED)
			rc = mig_err_set(err, MIG_EENV, "cannot restore '%s': the database stayed locked for %d ms",
					 path, timeout_ms);
		goto out;
	}
	began = 1;
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = sqlite_fail(err, db, "cannot restore", path);
		goto out;
	}
	wal = !sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal");
	ps = pragma_int(db, "PRAGMA page_size");
	pages = pragma_int(db, "PRAGMA page_count");
	cookie = pragma_int(db, "PRAGMA schema_version");
	if (wal || ps != (long long)in->page_size || pages <= 0 || cookie < 0 || cs % (uint64_t)ps ||
	    sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f || !f->pMethods ||
	    !(jpath = sqlite3_filename_journal(sqlite3_db_filename(db, "main"))))
		goto out;
	old_size = (uint64_t)ps * (uint64_t)pages;
	n = (in->size + cs - 1) / cs;
	old = mig_xmalloc(cs);
	buf = mig_xmalloc(cs);
	changed = mig_xcalloc(n, 1);
	j.buf = mig_xmalloc(JOURNAL_BUF);
	j.page_size = (uint32_t)ps;
	j.path = jpath;
	sqlite3_randomness(sizeof(j.nonce), &j.nonce);
	if ((r = f->pMethods->xRead(f, hdr, sizeof(hdr), 0)) != SQLITE_OK) {
		rc = mig_err_set(err, MIG_EENV, "cannot read database '%s': %s", path, sqlite3_errstr(r));
		goto out;
	}
	counter = get32(hdr + 24);
	/* the journal: a header's room, then the old pages of each chunk that differs */
	if ((j.fd = open(jpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, sb.st_mode & 0666)) < 0) {
		rc = mig_err_errno(err, MIG_EENV, "cannot create '%s'", jpath);
		goto out;
	}
	memset(j.buf, 0, JOURNAL_SECTOR);
	j.len = JOURNAL_SECTOR;
	for (i = 0; i < n; i++) {
		uint64_t off = i * cs;
		size_t len = (size_t)(in->size - off < cs ? in->size - off : cs), k;
		size_t olen = off < old_size ? (size_t)(old_size - off < cs ? old_size - off : cs) : 0;

		if (olen && (r = f->pMethods->xRead(f, old, (int)olen, (sqlite3_int64)off)) != SQLITE_OK) {
			rc = mig_err_set(err, MIG_EENV, "cannot read database '%s': %s", path, sqlite3_errstr(r));
			goto out;
		}
		/* chunk 0 always: its header gets a new change counter and schema cookie */
		changed[i] = i == 0 || olen != len || !in->same(in->data, i, old, len);
		for (k = 0; changed[i] && k < olen; k += (size_t)ps)
			if (!lock_page(off + k, (uint32_t)ps) &&
			    (rc = journal_add(&j, (uint32_t)((off + k) / (uint64_t)ps + 1), old + k, err)) < 0)
				goto out;
	}
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, journal_magic, sizeof(journal_magic));
	put32(hdr + 8, j.nrec);
	put32(hdr + 12, j.nonce);
	put32(hdr + 16, (uint32_t)pages);
	put32(hdr + 20, JOURNAL_SECTOR);
	put32(hdr + 24, (uint32_t)ps);
	/* the records and the header they need, whole on the disk before the database changes */
	if ((rc = journal_flush(&j, err)) < 0)
		goto out;
	if (pwrite(j.fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) || fsync(j.fd) < 0 || sync_dir_of(jpath) < 0) {
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", jpath);
		goto out;
	}
	in->want(in->data, changed, (size_t)n);
	for (i = 0; i < n; i++) {
		uint64_t off = i * cs;
		size_t len = (size_t)(in->size - off < cs ? in->size - off : cs);
		size_t olen = off < old_size ? (size_t)(old_size - off < cs ? old_size - off : cs) : 0;

		if (!changed[i])
			continue;
		if ((rc = in->read(in->data, off, buf, len, err)) < 0)
			goto out;
		if (i == 0) {
			/* what the backup API does: connections see a new database and schema */
			put32(buf + 24, counter + 1);
			put32(buf + 28, (uint32_t)(in->size / (uint64_t)ps));
			put32(buf + 40, (uint32_t)cookie + 1);
			put32(buf + 92, counter + 1);
			put32(buf + 96, SQLITE_VERSION_NUMBER);
		}
		if (olen && (r = f->pMethods->xRead(f, old, (int)olen, (sqlite3_int64)off)) != SQLITE_OK) {
			rc = mig_err_set(err, MIG_EENV, "cannot read database '%s': %s", path, sqlite3_errstr(r));
			goto out;
		}
		/* from here on, a failure needs the journal played back */
		written = 1;
		if ((r = write_changed(f, off, buf, len, old, olen, (uint32_t)ps)) != SQLITE_OK) {
			rc = mig_err_set(err, MIG_EENV, "cannot restore '%s': %s", path, sqlite3_errstr(r));
			goto out;
		}
	}
	if ((in->size < old_size && (r = f->pMethods->xTruncate(f, (sqlite3_int64)in->size)) != SQLITE_OK) ||
	    (r = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL)) != SQLITE_OK) {
		rc = mig_err_set(err, MIG_EENV, "cannot restore '%s': %s", path, sqlite3_errstr(r));
		goto out;
	}
	/* the commit: without its journal the database is the image */
	if (unlink(jpath) < 0) {
		rc = mig_err_errno(err, MIG_EENV, "cannot restore '%s': cannot remove '%s'", path, jpath);
		goto out;
	}
	written = 0;
	sync_dir_of(jpath);	/* as SQLite at synchronous=FULL, a failure here is no failure */
	rc = 0;
out:
	if (j.fd >= 0)
		close(j.fd);
	/* a journal nothing was written after is not needed: gone before the lock is */
	if (rc != 0 && !written && j.fd >= 0)
		unlink(jpath);
	sqlite3_finalize(st);
	if (began)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	if (rc < 0 && written)
		roll_back(path, timeout_ms);
	free(old);
	free(buf);
	free(changed);
	free(j.buf);
	return rc;
}

int mig_sqlite_image_write(const char *path, int timeout_ms, const struct mig_image_source *in,
			   struct mig_err *err)
{
	struct source s;
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b = NULL;
	long long cookie;
	int rc = 0, r;

	if ((rc = write_in_place(path, timeout_ms, in, err)) <= 0)
		return rc;
	rc = 0;
	memset(&s, 0, sizeof(s));
	s.in = in;
	if (vfs_register(&s.head, "source", &source_methods) < 0)
		return mig_err_set(err, MIG_EENV, "cannot register the snapshot source");
	if (sqlite3_open_v2("file:image?immutable=1", &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
			    s.head.name) != SQLITE_OK) {
		rc = sqlite_fail(err, src, "cannot read the image for", path);
		goto out;
	}
	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		rc = sqlite_fail(err, dst, "cannot open database", path);
		goto out;
	}
	sqlite3_busy_timeout(dst, timeout_ms);
	cookie = pragma_int(dst, "PRAGMA schema_version");
	if (!(b = sqlite3_backup_init(dst, "main", src, "main"))) {
		rc = sqlite_fail(err, dst, "cannot restore", path);
		goto out;
	}
	/* one step: one write transaction, rolled back by finish on failure */
	r = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (r == SQLITE_DONE || (!s.failed && committed(path, cookie, in)))
		goto out;
	if (s.failed) {
		*err = s.err;
		rc = err->code;
	} else if (r == SQLITE_BUSY || r == SQLITE_LOCKED) {
		rc = mig_err_set(err, MIG_EENV, "cannot restore '%s': the database stayed locked for %d ms",
				 path, timeout_ms);
	} else if (r == SQLITE_READONLY) {
		rc = mig_err_set(err, MIG_EENV, "cannot restore '%s': it is read-only, or in WAL mode with "
				 "another page size than the snapshot's", path);
	} else {
		rc = mig_err_set(err, MIG_EENV, "cannot restore '%s': %s", path, sqlite3_errstr(r));
	}
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	sqlite3_vfs_unregister(&s.head.vfs);
	return rc;
}
