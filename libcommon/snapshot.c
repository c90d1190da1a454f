/*
 * Snapshots in the store. Taking one: SQLite's backup API streams the
 * image (image.c); worker threads, one per core, hash each chunk with
 * XXH3 and look it up in the newest snapshot's manifest, so an unchanged
 * chunk costs a fast hash and nothing else; a new chunk gets its git id,
 * and is compressed with libdeflate and written as a loose object (git's
 * own format, so libgit2 and git read it), synced before the snapshot's
 * ref names it. Reading one back checks every chunk against its object
 * id and its manifest hash.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <git2.h>
#include <libdeflate.h>
#include <xxhash.h>
#include <zlib.h>

#include "cli.h"
#include "image.h"
#include "snapshot.h"

#define SNAP_REFS "refs/mig/snapshots/"
#define CHUNK_SIZE (256 * 1024)
#define MAX_CHUNK_SIZE (4096 * 1024)	/* MIG_CHUNK_SIZE's largest */
#define HDR_ROOM 32		/* room before a chunk for "blob N\0" */
#define LEVEL 5			/* libdeflate: within 3% of gzip -6's size, at 3x its speed */
#define EXPORT_LEVEL 6
#define MAX_THREADS 8
#define DELTA_MAGIC "mig-delta 1\n"
#define DELTA_UNIT 512		/* a delta's grain: the smallest page */
#define DELTA_MAX 4		/* a delta is kept when under 1/4 of its chunk */

/* ---- small things ---- */

static size_t nthreads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (size_t)n;
}

static size_t chunk_size(void)
{
	const char *e = getenv("MIG_CHUNK_SIZE");
	long kib = e ? strtol(e, NULL, 10) : 0;

	return kib >= 64 && kib * 1024 <= MAX_CHUNK_SIZE && kib % 64 == 0 ? (size_t)kib * 1024 : CHUNK_SIZE;
}

static void hash_hex(char out[33], XXH128_hash_t h)
{
	XXH128_canonical_t c;
	int i;

	XXH128_canonicalFromHash(&c, h);
	for (i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", c.digest[i]);
}

static int hash_parse(XXH128_hash_t *h, const char *s)
{
	XXH128_canonical_t c;
	int i;

	for (i = 0; i < 16; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		c.digest[i] = (unsigned char)v;
	}
	*h = XXH128_hashFromCanonical(&c);
	return 0;
}

static int hash_cmp(XXH128_hash_t a, XXH128_hash_t b)
{
	if (a.high64 != b.high64)
		return a.high64 < b.high64 ? -1 : 1;
	return a.low64 < b.low64 ? -1 : a.low64 > b.low64;
}

static char *loose_path(const char *objdir, const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), oid);
	return mig_xasprintf("%s/%.2s/%s", objdir, hex, hex + 2);
}

static int loose_exists(const char *objdir, const git_oid *oid)
{
	char *p = loose_path(objdir, oid);
	int r = access(p, F_OK) == 0;

	free(p);
	return r;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* nftw's callback: remove what it is handed, depth first. */
static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* What libgit2 said last. */
static const char *git_why(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown error";
}

/* Progress on stderr, at most ten times a second, when asked for. */
struct progress {
	int on;
	const char *what;
	long long last;
};

static void progress_show(struct progress *p, uint64_t done, uint64_t total)
{
	struct timespec ts;
	long long now;

	if (!p->on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (done < total && now - p->last < 100)
		return;
	p->last = now;
	fprintf(stderr, "\r%s: %s: %llu of %llu MiB (%d%%)%s", mig_prog, p->what,
		(unsigned long long)(done >> 20), (unsigned long long)(total >> 20),
		total ? (int)(done * 100 / total) : 100, done >= total ? "\n" : "");
}

/* ---- the manifest ---- */

/*
 * One chunk of an image: the XXH3-128 of its bytes, and the blob that
 * holds them, or (delta) a blob of the sectors in which they differ
 * from the base blob, the chunk a previous snapshot stored whole.
 */
struct chunk_ref {
	XXH128_hash_t h;
	git_oid oid;
	git_oid base;
	int delta;
};

struct manifest {
	char id[41];		/* the snapshot's */
	uint32_t page_size;
	uint64_t size;
	size_t chunk_size;
	char checksum[80];
	struct chunk_ref *c;
	size_t n;
};

static void manifest_release(struct manifest *m)
{
	free(m->c);
	m->c = NULL;
	m->n = 0;
}

/* The image checksum: XXH3-128 of the chunks' XXH3-128s, in order. */
static void image_checksum(char out[80], const struct chunk_ref *c, size_t n)
{
	XXH3_state_t *st = XXH3_createState();
	char hex[33];
	size_t i;

	XXH3_128bits_reset(st);
	for (i = 0; i < n; i++) {
		XXH128_canonical_t can;

		XXH128_canonicalFromHash(&can, c[i].h);
		XXH3_128bits_update(st, can.digest, sizeof(can.digest));
	}
	hash_hex(hex, XXH3_128bits_digest(st));
	XXH3_freeState(st);
	snprintf(out, 80, "xxh128-list:%s", hex);
}

static void manifest_format(struct mig_buf *b, const struct manifest *m)
{
	size_t i;

	mig_buf_addf(b, "mig-snapshot 1\npage-size %u\nsize %llu\nchunk-size %zu\nchecksum %s\n",
		     m->page_size, (unsigned long long)m->size, m->chunk_size, m->checksum);
	for (i = 0; i < m->n; i++) {
		char hex[33], oid[GIT_OID_HEXSZ + 1];

		hash_hex(hex, m->c[i].h);
		git_oid_tostr(oid, sizeof(oid), &m->c[i].oid);
		if (m->c[i].delta) {
			char base[GIT_OID_HEXSZ + 1];

			git_oid_tostr(base, sizeof(base), &m->c[i].base);
			mig_buf_addf(b, "delta %s %s %s\n", hex, oid, base);
		} else {
			mig_buf_addf(b, "chunk %s %s\n", hex, oid);
		}
	}
}

static int manifest_parse(struct manifest *m, const char *text, size_t len, struct mig_err *err)
{
	const char *p = text, *end = text + len;
	size_t alloc = 0, want;
	unsigned long long size = 0;
	unsigned ps = 0;
	int header = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char line[160];
		size_t n = (size_t)((eol ? eol : end) - p);

		if (n >= sizeof(line))
			goto bad;
		memcpy(line, p, n);
		line[n] = '\0';
		p = eol ? eol + 1 : end;
		if (!strcmp(line, "mig-snapshot 1"))
			header |= 1;
		else if (sscanf(line, "page-size %u", &ps) == 1)
			header |= 2;
		else if (sscanf(line, "size %llu", &size) == 1)
			header |= 4;
		else if (sscanf(line, "chunk-size %zu", &m->chunk_size) == 1)
			header |= 8;
		else if (!strncmp(line, "checksum ", 9) && n - 9 < sizeof(m->checksum))
			strcpy(m->checksum, line + 9), header |= 16;
		else if ((!strncmp(line, "chunk ", 6) && n == 6 + 32 + 1 + GIT_OID_HEXSZ && line[38] == ' ') ||
			 (!strncmp(line, "delta ", 6) && n == 6 + 32 + 2 + 2 * GIT_OID_HEXSZ && line[38] == ' ' &&
			  line[79] == ' ')) {
			struct chunk_ref *c;

			MIG_GROW(m->c, m->n + 1, alloc);
			c = &m->c[m->n++];
			memset(c, 0, sizeof(*c));
			c->delta = line[0] == 'd';
			line[38] = '\0';
			if (c->delta)
				line[79] = '\0';
			if (hash_parse(&c->h, line + 6) < 0 || git_oid_fromstr(&c->oid, line + 39) < 0 ||
			    (c->delta && git_oid_fromstr(&c->base, line + 80) < 0))
				goto bad;
		} else {
			goto bad;
		}
	}
	m->page_size = ps;
	m->size = size;
	/*
	 * Only what mig writes: whole pages of a size SQLite has, chunks
	 * chunk_size() makes (the readers allocate a few), as many as the
	 * size needs, counted without overflow. A size near 2^64 made none,
	 * and restore waited for chunk 0 forever.
	 */
	if (header != 31 || ps < 512 || ps > 65536 || (ps & (ps - 1)) || size % ps || !m->chunk_size ||
	    m->chunk_size % 65536 || m->chunk_size > MAX_CHUNK_SIZE)
		goto bad;
	want = (size_t)(size / m->chunk_size + (size % m->chunk_size != 0));
	if (m->n != want)
		goto bad;
	return 0;
bad:
	manifest_release(m);
	return mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: its manifest does not parse", m->id);
}

/*
 * Load snapshot id's manifest, and check its tree's chunks against it,
 * so what the manifest says is what git sees.
 */
static int manifest_load(struct manifest *m, struct mig_store *s, const char *id, struct mig_err *err)
{
	git_repository *repo = mig_store_repo(s);
	git_commit *c = NULL;
	git_tree *tree = NULL, *chunks = NULL;
	git_blob *blob = NULL;
	const git_tree_entry *e;
	git_oid oid;
	size_t i, n;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	if (git_oid_fromstr(&oid, id) < 0 || git_commit_lookup(&c, repo, &oid) < 0 ||
	    git_commit_tree(&tree, c) < 0 || !(e = git_tree_entry_byname(tree, "manifest")) ||
	    git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
		rc = mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: cannot read its manifest: %s", id,
				 git_why());
		goto out;
	}
	if ((rc = manifest_parse(m, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), err)) < 0)
		goto out;
	for (i = 0, n = m->n; i < m->n; i++)
		n += m->c[i].delta;
	if (!(e = git_tree_entry_byname(tree, "chunks")) || git_tree_lookup(&chunks, repo, git_tree_entry_id(e)) < 0 ||
	    git_tree_entrycount(chunks) != n) {
		rc = mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: its chunk list does not match its manifest",
				 id);
		goto out;
	}
	for (i = 0; i < m->n; i++) {
		char name[32];
		const git_tree_entry *base = NULL;

		snprintf(name, sizeof(name), "%08zu-base", i);
		if (m->c[i].delta)
			base = git_tree_entry_byname(chunks, name);
		name[8] = '\0';
		e = git_tree_entry_byname(chunks, name);
		if (!e || git_oid_cmp(git_tree_entry_id(e), &m->c[i].oid) ||
		    (m->c[i].delta && (!base || git_oid_cmp(git_tree_entry_id(base), &m->c[i].base)))) {
			rc = mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: chunk %zu differs between its tree "
					 "and its manifest", id, i);
			goto out;
		}
	}
	{
		char sum[80];

		image_checksum(sum, m->c, m->n);
		if (strcmp(sum, m->checksum))
			rc = mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: its checksum does not match its "
					 "chunks", id);
	}
out:
	if (rc < 0)
		manifest_release(m);
	git_blob_free(blob);
	git_tree_free(chunks);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

/* ---- writing chunks: the workers of one snapshot ---- */

struct job {
	uint64_t index;
	size_t len;
	unsigned char *buf;	/* HDR_ROOM, then the chunk */
};

struct taker {
	pthread_mutex_t mu;
	pthread_cond_t work, room;
	struct job *q;		/* a ring of nbufs */
	size_t qhead, qn;
	unsigned char **spare;
	size_t nspare, nbufs;
	int closing;
	struct chunk_ref *res;
	unsigned char *set;
	size_t nres;
	uint64_t stored;
	const struct chunk_ref *known;	/* the newest snapshot's, by hash */
	size_t nknown;
	const struct chunk_ref *prev;	/* the newest snapshot's, in order */
	size_t nprev;
	uint64_t prev_size;
	char *objdir;
	size_t chunk_size;
	int failed;
	struct mig_err err;
	pthread_t th[MAX_THREADS];
	size_t nth;
	struct progress prog;
};

static int by_hash(const void *a, const void *b)
{
	return hash_cmp(((const struct chunk_ref *)a)->h, ((const struct chunk_ref *)b)->h);
}

/* Write a compressed object to its loose path: a temporary file, renamed. */
static int write_loose(const char *objdir, const git_oid *oid, const void *z, size_t n, struct mig_err *err)
{
	char *path = loose_path(objdir, oid), *slash = strrchr(path, '/');
	char *tmp = NULL;
	const unsigned char *p = z;
	int fd, rc = 0;

	*slash = '\0';
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		rc = mig_err_errno(err, MIG_EENV, "cannot create '%s'", path);
		goto out;
	}
	tmp = mig_xasprintf("%s/tmp_chunk_XXXXXX", path);
	*slash = '/';
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = mig_err_errno(err, MIG_EENV, "cannot write to the store at '%s'", tmp);
		goto out;
	}
	if (mig_write_all(fd, p, n) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", tmp);
	if (close(fd) < 0 && rc == 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", tmp);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", path);
	if (rc < 0)
		unlink(tmp);
out:
	free(tmp);
	free(path);
	return rc;
}

/* What one worker owns. */
struct worker {
	struct libdeflate_compressor *c;
	unsigned char *z, *delta;	/* compressed output; a delta, after HDR_ROOM */
	size_t zcap, dcap;
	git_odb *odb;			/* to read base chunks */
};

/*
 * The sectors in which data differs from base, as a delta blob into
 * out; 0 when it would not fit in cap.
 */
static size_t make_delta(const unsigned char *base, const unsigned char *data, size_t len, unsigned char *out,
			 size_t cap)
{
	size_t n = sizeof(DELTA_MAGIC) - 1, off = 0;

	memcpy(out, DELTA_MAGIC, n);
	while (off < len) {
		size_t start, unit = len - off < DELTA_UNIT ? len - off : DELTA_UNIT;

		if (!memcmp(base + off, data + off, unit)) {
			off += unit;
			continue;
		}
		for (start = off; off < len; off += unit) {
			unit = len - off < DELTA_UNIT ? len - off : DELTA_UNIT;
			if (!memcmp(base + off, data + off, unit))
				break;
		}
		if (n + 8 + (off - start) > cap)
			return 0;
		put_be32(out + n, (uint32_t)start);
		put_be32(out + n + 4, (uint32_t)(off - start));
		memcpy(out + n + 8, data + start, off - start);
		n += 8 + (off - start);
	}
	return n;
}

/* Compress len bytes at data (HDR_ROOM free before them) as a loose blob with id oid. */
static int put_blob(struct taker *t, struct worker *w, const git_oid *oid, unsigned char *data, size_t len,
		    size_t *stored, struct mig_err *err)
{
	char hdr[HDR_ROOM];
	size_t hlen = (size_t)snprintf(hdr, sizeof(hdr), "blob %zu", len) + 1, zn;

	memcpy(data - hlen, hdr, hlen);
	if (!(zn = libdeflate_zlib_compress(w->c, data - hlen, hlen + len, w->z, w->zcap)))
		return mig_err_set(err, MIG_EENV, "cannot compress a chunk");
	*stored += zn;
	return write_loose(t->objdir, oid, w->z, zn, err);
}

/*
 * Try chunk j as a delta against the base of the previous snapshot's
 * chunk at its place; 1 when it made one.
 */
static int try_delta(struct taker *t, struct worker *w, const struct job *j, struct chunk_ref *r, size_t *stored,
		     struct mig_err *err)
{
	const struct chunk_ref *p;
	const git_oid *base;
	git_odb_object *o = NULL;
	size_t n = 0;
	int rc = 0;

	if (j->index >= t->nprev || j->len != (j->index + 1 < t->nprev ? t->chunk_size :
			(size_t)(t->prev_size - j->index * t->chunk_size)))
		return 0;
	p = &t->prev[j->index];
	base = p->delta ? &p->base : &p->oid;
	/* a base that cannot be read just means no delta */
	if ((w->odb || git_odb_open(&w->odb, t->objdir) == 0) && git_odb_read(&o, w->odb, base) == 0 &&
	    git_odb_object_type(o) == GIT_OBJECT_BLOB && git_odb_object_size(o) == j->len)
		n = make_delta(git_odb_object_data(o), j->buf + HDR_ROOM, j->len, w->delta + HDR_ROOM,
			       j->len / DELTA_MAX);
	git_odb_object_free(o);
	if (!n)
		return 0;
	r->delta = 1;
	r->base = *base;
	if (git_odb_hash(&r->oid, w->delta + HDR_ROOM, n, GIT_OBJECT_BLOB) < 0)
		return mig_err_git(err, MIG_EENV, "cannot hash a chunk");
	if (!loose_exists(t->objdir, &r->oid))
		rc = put_blob(t, w, &r->oid, w->delta + HDR_ROOM, n, stored, err);
	return rc < 0 ? rc : 1;
}

/*
 * Store chunk j: known by its hash from the newest snapshot, already
 * there by its id, a delta against the newest snapshot's chunk at the
 * same place, or else whole.
 */
static int store_chunk(struct taker *t, struct worker *w, const struct job *j, struct chunk_ref *r,
		       size_t *stored, struct mig_err *err)
{
	unsigned char *data = j->buf + HDR_ROOM;
	const struct chunk_ref *k;
	int rc;

	*stored = 0;
	memset(r, 0, sizeof(*r));
	r->h = XXH3_128bits(data, j->len);
	k = t->nknown ? bsearch(r, t->known, t->nknown, sizeof(*r), by_hash) : NULL;
	if (k && loose_exists(t->objdir, &k->oid) && (!k->delta || loose_exists(t->objdir, &k->base))) {
		*r = *k;
		return 0;
	}
	if (git_odb_hash(&r->oid, data, j->len, GIT_OBJECT_BLOB) < 0)
		return mig_err_git(err, MIG_EENV, "cannot hash a chunk");
	if (loose_exists(t->objdir, &r->oid))
		return 0;
	if ((rc = try_delta(t, w, j, r, stored, err)) != 0)
		return rc < 0 ? rc : 0;
	return put_blob(t, w, &r->oid, data, j->len, stored, err);
}

static void *take_worker(void *arg)
{
	struct taker *t = arg;
	struct worker w = { 0 };

	w.c = libdeflate_alloc_compressor(LEVEL);
	w.zcap = w.c ? libdeflate_zlib_compress_bound(w.c, t->chunk_size + HDR_ROOM) : 0;
	w.z = mig_xmalloc(w.zcap + 1);
	w.delta = mig_xmalloc(HDR_ROOM + t->chunk_size / DELTA_MAX + 1);

	for (;;) {
		struct mig_err e = MIG_ERR_INIT;
		struct chunk_ref r;
		struct job j;
		size_t stored = 0;
		int rc;

		pthread_mutex_lock(&t->mu);
		while (!t->qn && !t->closing)
			pthread_cond_wait(&t->work, &t->mu);
		if (!t->qn) {
			pthread_mutex_unlock(&t->mu);
			break;
		}
		j = t->q[t->qhead];
		t->qhead = (t->qhead + 1) % t->nbufs;
		t->qn--;
		pthread_mutex_unlock(&t->mu);

		rc = w.c ? store_chunk(t, &w, &j, &r, &stored, &e) :
			   mig_err_set(&e, MIG_EENV, "out of memory for a compressor");

		pthread_mutex_lock(&t->mu);
		if (rc < 0 && !t->failed) {
			t->failed = 1;
			t->err = e;
		}
		if (rc == 0) {
			if (j.index >= t->nres) {
				size_t n = (size_t)j.index * 2 + 64;

				t->res = mig_xrealloc(t->res, n * sizeof(*t->res));
				t->set = mig_xrealloc(t->set, n);
				memset(t->set + t->nres, 0, n - t->nres);
				t->nres = n;
			}
			t->res[j.index] = r;
			t->set[j.index] = 1;
			t->stored += stored;
		}
		t->spare[t->nspare++] = j.buf;
		pthread_cond_signal(&t->room);
		pthread_mutex_unlock(&t->mu);
	}
	free(w.z);
	free(w.delta);
	git_odb_free(w.odb);
	libdeflate_free_compressor(w.c);
	return NULL;
}

static void taker_start(struct taker *t, struct mig_store *s, const struct manifest *prev, size_t cs, int progress,
			const char *what)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->work, NULL);
	pthread_cond_init(&t->room, NULL);
	t->chunk_size = cs;
	t->objdir = mig_path_join(mig_store_path(s), "objects");
	if (prev && prev->n) {
		struct chunk_ref *k = mig_xmalloc(prev->n * sizeof(*k));

		memcpy(k, prev->c, prev->n * sizeof(*k));
		qsort(k, prev->n, sizeof(*k), by_hash);
		t->known = k;
		t->nknown = prev->n;
		k = mig_xmalloc(prev->n * sizeof(*k));
		memcpy(k, prev->c, prev->n * sizeof(*k));
		t->prev = k;
		t->nprev = prev->n;
		t->prev_size = prev->size;
	}
	t->nth = nthreads();
	t->nbufs = t->nth * 2 + 2;
	t->q = mig_xcalloc(t->nbufs, sizeof(*t->q));
	t->spare = mig_xcalloc(t->nbufs, sizeof(*t->spare));
	for (i = 0; i < t->nbufs; i++)
		t->spare[t->nspare++] = mig_xmalloc(HDR_ROOM + cs);
	t->prog.on = progress;
	t->prog.what = what;
	for (i = 0; i < t->nth; i++)
		if (pthread_create(&t->th[i], NULL, take_worker, t) != 0)
			break;
	t->nth = i;
}

/* The sink's chunk callback: hand a copy to a worker. */
static int taker_chunk(void *data, uint64_t index, const unsigned char *buf, size_t len)
{
	struct taker *t = data;
	unsigned char *b;

	pthread_mutex_lock(&t->mu);
	if (!t->nth && !t->failed) {
		t->failed = 1;
		mig_err_set(&t->err, MIG_EENV, "cannot start a thread");
	}
	while (!t->nspare && !t->failed)
		pthread_cond_wait(&t->room, &t->mu);
	if (t->failed) {
		pthread_mutex_unlock(&t->mu);
		return -1;
	}
	b = t->spare[--t->nspare];
	pthread_mutex_unlock(&t->mu);
	memcpy(b + HDR_ROOM, buf, len);
	pthread_mutex_lock(&t->mu);
	t->q[(t->qhead + t->qn) % t->nbufs] = (struct job){ index, len, b };
	t->qn++;
	pthread_cond_signal(&t->work);
	pthread_mutex_unlock(&t->mu);
	return 0;
}

static void taker_progress(void *data, uint64_t done, uint64_t total)
{
	struct taker *t = data;

	progress_show(&t->prog, done, total > done ? total : done);
}

/* Wait for the workers; the chunks' refs go to m (m->n of them). */
static int taker_finish(struct taker *t, struct manifest *m, struct mig_err *err)
{
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	t->closing = 1;
	pthread_cond_broadcast(&t->work);
	pthread_mutex_unlock(&t->mu);
	for (i = 0; i < t->nth; i++)
		pthread_join(t->th[i], NULL);
	if (t->failed) {
		*err = t->err;
		rc = err->code;
	} else if (m) {
		m->c = mig_xcalloc(m->n + 1, sizeof(*m->c));
		for (i = 0; i < m->n; i++) {
			if (i >= t->nres || !t->set[i]) {
				rc = mig_err_set(err, MIG_EENV, "snapshot lost chunk %zu on the way", i);
				break;
			}
			m->c[i] = t->res[i];
		}
	}
	for (i = 0; i < t->nspare; i++)
		free(t->spare[i]);
	free(t->spare);
	free(t->q);
	free(t->res);
	free(t->set);
	free((void *)t->known);
	free((void *)t->prev);
	free(t->objdir);
	pthread_cond_destroy(&t->work);
	pthread_cond_destroy(&t->room);
	pthread_mutex_destroy(&t->mu);
	return rc;
}

/* ---- listing ---- */

static const char *fact(const char *msg, const char *key, size_t *len)
{
	size_t kl = strlen(key);
	const char *p = msg;

	while ((p = strstr(p, key))) {
		if ((p == msg || p[-1] == '\n') && p[kl] == ' ') {
			*len = strcspn(p + kl + 1, "\n");
			return p + kl + 1;
		}
		p += kl;
	}
	return NULL;
}

static unsigned long long fact_num(const char *msg, const char *key)
{
	size_t len;
	const char *v = fact(msg, key, &len);

	return v ? strtoull(v, NULL, 10) : 0;
}

/* What a snapshot's commit message says; when it was taken, unless it says, is the commit's time. */
static void info_parse(struct mig_snapshot_info *in, const char *msg, long long commit_time)
{
	const char *v;
	size_t len;

	in->time = commit_time;
	if ((v = fact(msg, "taken", &len))) {
		char *dot;

		in->time = strtoll(v, &dot, 10);
		in->nsec = *dot == '.' ? strtol(dot + 1, NULL, 10) : 0;
	}
	in->subject = mig_xstrndup(msg, strcspn(msg, "\n"));
	in->database = (v = fact(msg, "database", &len)) ? mig_xstrndup(v, len) : mig_xstrdup("?");
	in->size = fact_num(msg, "size");
	in->stored = fact_num(msg, "stored");
	in->page_size = (uint32_t)fact_num(msg, "page-size");
	in->revisions = (size_t)fact_num(msg, "revisions");
}

static int collect_ref(const char *name, void *data)
{
	struct mig_snapshot_list *l = data;
	size_t n = strlen(SNAP_REFS);

	if (strlen(name) == n + GIT_OID_HEXSZ) {
		l->v = mig_xrealloc(l->v, (l->nr + 1) * sizeof(*l->v));
		memset(&l->v[l->nr], 0, sizeof(l->v[0]));
		memcpy(l->v[l->nr++].id, name + n, GIT_OID_HEXSZ + 1);
	}
	return 0;
}

/*
 * libgit2's ref iterator leaves out a loose ref it cannot read (an I/O
 * error), as it would one deleted under it: a snapshot would be missing
 * from the list, and a prune would take its objects for unused. The
 * directory says which are there; a snapshot's id is its ref's name.
 */
static int collect_loose_refs(struct mig_store *s, struct mig_snapshot_list *l, struct mig_err *err)
{
	char *dir = mig_path_join(mig_store_path(s), SNAP_REFS), *name;
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t i, n = l->nr;
	int rc = 0;

	if (!d) {
		rc = errno == ENOENT ? 0 : mig_err_errno(err, MIG_EENV, "cannot list snapshots in '%s'", dir);
		free(dir);
		return rc;
	}
	for (errno = 0; (de = readdir(d)); errno = 0) {
		if (strlen(de->d_name) != GIT_OID_HEXSZ || strspn(de->d_name, "0123456789abcdef") != GIT_OID_HEXSZ)
			continue;
		for (i = 0; i < n && strcmp(l->v[i].id, de->d_name); i++)
			;
		if (i < n)
			continue;
		name = mig_xasprintf(SNAP_REFS "%s", de->d_name);
		collect_ref(name, l);
		free(name);
	}
	if (errno)
		rc = mig_err_errno(err, MIG_EENV, "cannot list snapshots in '%s'", dir);
	closedir(d);
	free(dir);
	return rc;
}

static int newest_first(const void *a, const void *b)
{
	const struct mig_snapshot_info *x = a, *y = b;

	if (x->time != y->time)
		return x->time > y->time ? -1 : 1;
	if (x->nsec != y->nsec)
		return x->nsec > y->nsec ? -1 : 1;
	return strcmp(x->id, y->id);
}

int mig_snapshot_list(struct mig_store *s, struct mig_snapshot_list *l, struct mig_err *err)
{
	git_repository *repo = mig_store_repo(s);
	size_t i;
	int rc = 0;

	l->v = NULL;
	l->nr = 0;
	if (git_reference_foreach_glob(repo, SNAP_REFS "*", collect_ref, l) < 0) {
		mig_snapshot_list_release(l);
		return mig_err_git(err, MIG_EENV, "cannot list snapshots");
	}
	if ((rc = collect_loose_refs(s, l, err)) < 0) {
		mig_snapshot_list_release(l);
		return rc;
	}
	for (i = 0; i < l->nr; i++) {
		struct mig_snapshot_info *in = &l->v[i];
		git_commit *c = NULL;
		git_oid oid;

		if (git_oid_fromstr(&oid, in->id) < 0 || git_commit_lookup(&c, repo, &oid) < 0) {
			rc = mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: its commit cannot be read", in->id);
			break;
		}
		info_parse(in, git_commit_message(c), git_commit_time(c));
		git_commit_free(c);
	}
	if (rc == 0 && l->nr)
		qsort(l->v, l->nr, sizeof(*l->v), newest_first);
	else
		mig_snapshot_list_release(l);
	return rc;
}

void mig_snapshot_list_release(struct mig_snapshot_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		free(l->v[i].subject);
		free(l->v[i].database);
	}
	free(l->v);
	l->v = NULL;
	l->nr = 0;
}

static void human_size(char *out, size_t n, uint64_t b)
{
	if (b < 1024)
		snprintf(out, n, "%llu B", (unsigned long long)b);
	else if (b < 1024 * 1024)
		snprintf(out, n, "%.1f KiB", b / 1024.0);
	else if (b < 1024ull * 1024 * 1024)
		snprintf(out, n, "%.1f MiB", b / 1048576.0);
	else
		snprintf(out, n, "%.2f GiB", b / 1073741824.0);
}

void mig_snapshot_show(struct mig_buf *o, const struct mig_snapshot_list *l, enum mig_format fmt)
{
	size_t i;

	if (fmt == MIG_FMT_JSON)
		mig_buf_adds(o, "{\"snapshots\":[");
	for (i = 0; i < l->nr; i++) {
		const struct mig_snapshot_info *in = &l->v[i];
		char when[32], size[32], stored[32];

		/* the subject is what -m said: escaped for a terminal, and so that no tab or newline splits a record */
		if (fmt == MIG_FMT_HUMAN) {
			mig_time_format(when, sizeof(when), "%Y-%m-%d %H:%M:%S", in->time, 0);
			human_size(size, sizeof(size), in->size);
			human_size(stored, sizeof(stored), in->stored);
			mig_buf_addf(o, "%.12s  %s  %4zu revision%s  %10s  %10s new  ", in->id, when,
				     in->revisions, in->revisions == 1 ? " " : "s", size, stored);
			mig_buf_add_tty(o, in->subject, strlen(in->subject));
			mig_buf_addc(o, '\n');
			continue;
		}
		mig_time_format(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", in->time, 1);
		if (fmt == MIG_FMT_PORCELAIN) {
			mig_buf_addf(o, "snapshot\t%s\t%s\t%zu\t%llu\t%llu\t", in->id, when, in->revisions,
				     (unsigned long long)in->size, (unsigned long long)in->stored);
			mig_buf_add_esc(o, in->subject, strlen(in->subject));
			mig_buf_addc(o, '\n');
			continue;
		}
		mig_buf_addf(o, "%s{\"id\":\"%s\",\"time\":\"%s\",\"revisions\":%zu,\"size\":%llu,\"stored\":%llu,"
			     "\"page_size\":%u,\"database\":", i ? "," : "", in->id, when, in->revisions,
			     (unsigned long long)in->size, (unsigned long long)in->stored, in->page_size);
		mig_buf_add_json(o, in->database);
		mig_buf_adds(o, ",\"message\":");
		mig_buf_add_json(o, in->subject);
		mig_buf_addc(o, '}');
	}
	if (fmt == MIG_FMT_JSON)
		mig_buf_adds(o, "]}\n");
}

int mig_snapshot_resolve(struct mig_store *s, const char *spec, char id[41], struct mig_err *err)
{
	struct mig_snapshot_list l;
	struct mig_buf cand = MIG_BUF_INIT;
	size_t i, hits = 0, n = spec ? strlen(spec) : 0;
	int rc;

	if (spec && (n < 4 || n > GIT_OID_HEXSZ || strspn(spec, "0123456789abcdef") != n))
		return mig_err_set(err, MIG_EUSAGE, "'%s' is no snapshot id: give 4 to 40 hex digits", spec);
	if ((rc = mig_snapshot_list(s, &l, err)) < 0)
		return rc;
	/* nothing to restore is the store's state, not a bad request */
	if (!l.nr) {
		rc = mig_err_set(err, MIG_EENV, "no snapshot in store '%s'", mig_store_path(s));
		mig_err_hint(err, "take one with 'mig backup'");
	}
	for (i = 0; i < l.nr && rc == 0; i++) {
		if (spec && strncmp(l.v[i].id, spec, n))
			continue;
		if (!hits++)
			memcpy(id, l.v[i].id, 41);
		mig_buf_addf(&cand, "%s%.12s", hits > 1 ? ", " : "", l.v[i].id);
		if (!spec)
			break;
	}
	if (rc == 0 && !hits)
		rc = mig_err_set(err, MIG_EUSAGE, "no snapshot '%s'", spec);
	else if (rc == 0 && hits > 1)
		rc = mig_err_set(err, MIG_EUSAGE, "snapshot '%s' is ambiguous: %s", spec, cand.buf);
	if (rc == MIG_EUSAGE && !hits && l.nr)
		mig_err_hint(err, "'mig backup --list' shows them");
	mig_buf_release(&cand);
	mig_snapshot_list_release(&l);
	return rc;
}

/* ---- taking ---- */

static int newest_manifest(struct mig_store *s, struct manifest *m)
{
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_snapshot_list l;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (mig_snapshot_list(s, &l, &ignored) < 0)
		return -1;
	if (l.nr)
		rc = manifest_load(m, s, l.v[0].id, &ignored);
	mig_snapshot_list_release(&l);
	return rc;
}

/*
 * Make what the store holds durable: every loose object a snapshot
 * wrote, and the directories that name them. One syncfs(2) of the
 * store's file system instead of an fsync per chunk, which a first
 * snapshot writes thousands of; it reports a failed write-back too.
 */
static int sync_store(struct mig_store *s, struct mig_err *err)
{
	int fd = open(mig_store_path(s), O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || syncfs(fd) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot sync the store '%s'", mig_store_path(s));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Write manifest and tree, the commit, and last its ref. */
static int commit_snapshot(struct mig_store *s, struct manifest *m, const char *database,
			   const struct mig_snapshot_opts *o, uint64_t stored, char id[41], struct mig_err *err)
{
	git_repository *repo = mig_store_repo(s);
	git_treebuilder *tb = NULL, *ctb = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_reference *ref = NULL;
	git_odb *odb = NULL;
	struct mig_buf b = MIG_BUF_INIT;
	git_oid blob, chunks, tree_id, commit;
	mode_t old = umask(077);
	struct timespec now;
	size_t i;
	int rc = 0;

	image_checksum(m->checksum, m->c, m->n);
	manifest_format(&b, m);
	if (git_blob_create_from_buffer(&blob, repo, b.buf, b.len) < 0 || git_treebuilder_new(&ctb, repo, NULL) < 0)
		goto fail;
	for (i = 0; i < m->n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%08zu", i);
		if (git_treebuilder_insert(NULL, ctb, name, &m->c[i].oid, GIT_FILEMODE_BLOB) < 0)
			goto fail;
		snprintf(name, sizeof(name), "%08zu-base", i);
		if (m->c[i].delta && git_treebuilder_insert(NULL, ctb, name, &m->c[i].base, GIT_FILEMODE_BLOB) < 0)
			goto fail;
	}
	if (git_treebuilder_write(&chunks, ctb) < 0 || git_treebuilder_new(&tb, repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, tb, "manifest", &blob, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_insert(NULL, tb, "chunks", &chunks, GIT_FILEMODE_TREE) < 0 ||
	    git_treebuilder_write(&tree_id, tb) < 0 || git_tree_lookup(&tree, repo, &tree_id) < 0)
		goto fail;
	if ((rc = mig_store_signature(&sig, err)) < 0)
		goto out;
	clock_gettime(CLOCK_REALTIME, &now);
	mig_buf_reset(&b);
	mig_buf_addf(&b, "%s\n\ntaken %lld.%09ld\ndatabase %s\npage-size %u\nsize %llu\nchunk-size %zu\nchunks %zu\nstored %llu\n"
		     "checksum %s\nrevisions %zu\n%s", o->subject, (long long)now.tv_sec, now.tv_nsec, database, m->page_size, (unsigned long long)m->size,
		     m->chunk_size, m->n, (unsigned long long)stored, m->checksum, o->nrevisions,
		     o->revisions ? o->revisions : "");
	/* libgit2 1.5 returns 0 when it could not write the commit (a full disk) */
	if (git_commit_create(&commit, repo, NULL, sig, sig, NULL, b.buf, tree, 0, NULL) < 0 ||
	    git_repository_odb(&odb, repo) < 0 || !git_odb_exists(odb, &commit))
		goto fail;
	git_oid_tostr(id, 41, &commit);
	/* the objects reach the disk before the ref that names them, and the ref before its id is told */
	if ((rc = sync_store(s, err)) < 0)
		goto out;
	mig_buf_reset(&b);
	mig_buf_addf(&b, SNAP_REFS "%s", id);
	if (git_reference_create(&ref, repo, b.buf, &commit, 0, "snapshot") < 0)
		goto fail;
	rc = sync_store(s, err);
	goto out;
fail:
	rc = mig_err_git(err, MIG_EENV, "cannot write the snapshot");
out:
	if (rc < 0)
		id[0] = '\0';
	umask(old);
	mig_buf_release(&b);
	git_odb_free(odb);
	git_reference_free(ref);
	git_tree_free(tree);
	git_signature_free(sig);
	git_treebuilder_free(tb);
	git_treebuilder_free(ctb);
	return rc;
}

static char *absolute(const char *path)
{
	char *r = realpath(path, NULL);

	return r ? r : mig_xstrdup(path);
}

int mig_snapshot_take(struct mig_store *s, const char *path, const struct mig_snapshot_opts *o, char id[41],
		      struct mig_err *err)
{
	struct manifest prev, m;
	struct mig_image_sink sink;
	struct taker t;
	struct mig_err ierr = MIG_ERR_INIT;
	char *abs = absolute(path);
	int rc, frc;

	memset(&m, 0, sizeof(m));
	if (newest_manifest(s, &prev) < 0)
		memset(&prev, 0, sizeof(prev));
	m.chunk_size = chunk_size();
	taker_start(&t, s, prev.chunk_size == m.chunk_size ? &prev : NULL, m.chunk_size, o->progress, "snapshot");
	manifest_release(&prev);
	sink = (struct mig_image_sink){ m.chunk_size, taker_chunk, taker_progress, &t };
	rc = mig_image_read(path, o->timeout_ms, &sink, &m.page_size, &m.size, &ierr);
	m.n = (size_t)((m.size + m.chunk_size - 1) / m.chunk_size);
	frc = taker_finish(&t, rc == 0 ? &m : NULL, err);
	if (rc < 0 && frc == 0) {
		*err = ierr;	/* the database's failure, not a consumer's */
	} else if (rc == 0 && frc == 0) {
		rc = commit_snapshot(s, &m, abs, o, t.stored, id, err);
	} else {
		rc = frc < 0 ? frc : rc;
	}
	manifest_release(&m);
	free(abs);
	return rc;
}

/* ---- reading chunks back: in order, decoded ahead by the workers ---- */

#define WINDOW 4	/* chunks decoded ahead per thread */

struct slot {
	size_t index;
	enum { S_FREE, S_BUSY, S_READY, S_FAILED } state;
	unsigned char *buf;	/* HDR_ROOM + chunk_size */
	struct mig_err err;
};

struct decoder {
	struct libdeflate_decompressor *d;
	git_odb *odb;		/* for objects that are not loose (packed by git gc) */
	struct mig_buf in;
};

struct reader {
	const struct manifest *m;
	char *objdir;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next, pos, nslots;
	struct slot *slots;
	int stop;
	pthread_t th[MAX_THREADS];
	size_t nth;
	struct decoder own;	/* the reader's own, for chunks read out of order */
	unsigned char *zero, *extra;	/* chunk 0, kept; a chunk read out of order */
	size_t extra_index;
	struct progress prog;
};

static size_t chunk_len(const struct manifest *m, size_t i)
{
	return i + 1 < m->n ? m->chunk_size : (size_t)(m->size - (uint64_t)i * m->chunk_size);
}

static int damaged_object(struct mig_err *err, const struct manifest *m, size_t i, const git_oid *oid,
			  const char *what, const char *why)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), oid);
	return mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: chunk %zu (%s %s) %s", m->id, i, what, hex,
			   why);
}

static int damaged(struct mig_err *err, const struct manifest *m, size_t i, const char *why)
{
	return damaged_object(err, m, i, &m->c[i].oid, "object", why);
}

/*
 * The size an image's SQLite header gives it: its page count times its
 * page size, or 0 when the header does not say (the count is only kept
 * by SQLite 3.7.0 and later, and valid when the version-valid-for
 * number matches the change counter).
 */
static uint64_t header_size(const unsigned char *p, size_t len)
{
	uint32_t ps, pages;

	if (len < 100 || memcmp(p, "SQLite format 3", 16))
		return 0;
	ps = (uint32_t)p[16] << 8 | p[17];
	ps = ps == 1 ? 65536 : ps;
	pages = get_be32(p + 28);
	if (!pages || get_be32(p + 92) != get_be32(p + 24))
		return 0;
	return (uint64_t)pages * ps;
}

/*
 * Is snapshot m's image as long as its first chunk's header says? A
 * shorter one (a gzip image cut at a member boundary) is whole in every
 * chunk, yet no database SQLite can open.
 */
static int image_whole(const struct manifest *m, const unsigned char *first, struct mig_err *err)
{
	uint64_t want = header_size(first, chunk_len(m, 0));

	if (want > m->size)
		return mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: its image is cut short: %llu bytes of "
				   "the %llu its database header says", m->id, (unsigned long long)m->size,
				   (unsigned long long)want);
	return 0;
}

/* Read blob oid, len bytes, into data, checked against its id. */
static int decode_blob(struct decoder *dc, const char *objdir, const struct manifest *m, size_t i,
		       const git_oid *id, const char *what, unsigned char *data, size_t len, struct mig_err *err)
{
	char *path = loose_path(objdir, id);
	git_oid oid;
	int rc = 0;

	mig_buf_reset(&dc->in);
	if (mig_read_file(&dc->in, path, err) == 0) {
		char hdr[HDR_ROOM];
		size_t hlen = (size_t)snprintf(hdr, sizeof(hdr), "blob %zu", len) + 1, got = 0;
		enum libdeflate_result r;

		/* the header lands in the room before the chunk */
		r = libdeflate_zlib_decompress(dc->d, dc->in.buf, dc->in.len, data - hlen, hlen + len, &got);
		if (r != LIBDEFLATE_SUCCESS || got != hlen + len || memcmp(data - hlen, hdr, hlen))
			rc = damaged_object(err, m, i, id, what, "does not inflate to a blob of the right size");
	} else if (errno == ENOENT) {
		git_odb_object *o = NULL;

		if ((!dc->odb && git_odb_open(&dc->odb, objdir) < 0) || git_odb_read(&o, dc->odb, id) < 0)
			rc = damaged_object(err, m, i, id, what, "is missing");
		else if (git_odb_object_type(o) != GIT_OBJECT_BLOB || git_odb_object_size(o) != len)
			rc = damaged_object(err, m, i, id, what, "is not a blob of the right size");
		else
			memcpy(data, git_odb_object_data(o), len);
		git_odb_object_free(o);
	} else {
		rc = mig_err_errno(err, MIG_EENV, "cannot read '%s'", path);
	}
	free(path);
	if (rc == 0 && (git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB) < 0 || git_oid_cmp(&oid, id)))
		rc = damaged_object(err, m, i, id, what, "does not match its id");
	return rc;
}

/* Apply a delta blob (DELTA_MAGIC, then offset, length, bytes, ...) to data. */
static int apply_delta(unsigned char *data, size_t len, const unsigned char *d, size_t n)
{
	size_t at = sizeof(DELTA_MAGIC) - 1;

	if (n < at || memcmp(d, DELTA_MAGIC, at))
		return -1;
	while (at < n) {
		uint32_t off, cnt;

		if (n - at < 8)
			return -1;
		off = get_be32(d + at);
		cnt = get_be32(d + at + 4);
		at += 8;
		if (off > len || cnt > len - off || cnt > n - at)
			return -1;
		memcpy(data + off, d + at, cnt);
		at += cnt;
	}
	return 0;
}

/*
 * Read chunk i into buf + HDR_ROOM: its blob, or its base with its delta
 * applied, checked against their ids and the manifest's hash.
 */
static int decode(struct decoder *dc, const char *objdir, const struct manifest *m, size_t i,
		  unsigned char *buf, struct mig_err *err)
{
	const struct chunk_ref *c = &m->c[i];
	const size_t len = chunk_len(m, i);
	unsigned char *data = buf + HDR_ROOM;
	int rc;

	if (!c->delta) {
		rc = decode_blob(dc, objdir, m, i, &c->oid, "object", data, len, err);
	} else if ((rc = decode_blob(dc, objdir, m, i, &c->base, "base", data, len, err)) == 0) {
		git_odb_object *o = NULL;

		if ((!dc->odb && git_odb_open(&dc->odb, objdir) < 0) || git_odb_read(&o, dc->odb, &c->oid) < 0)
			rc = damaged(err, m, i, "is missing or does not match its id");
		else if (git_odb_object_type(o) != GIT_OBJECT_BLOB ||
			 apply_delta(data, len, git_odb_object_data(o), git_odb_object_size(o)) < 0)
			rc = damaged(err, m, i, "is no delta");
		git_odb_object_free(o);
	}
	if (rc == 0 && hash_cmp(XXH3_128bits(data, len), c->h))
		rc = damaged(err, m, i, "does not match the manifest");
	return rc;
}

static int decoder_init(struct decoder *dc)
{
	memset(dc, 0, sizeof(*dc));
	dc->d = libdeflate_alloc_decompressor();
	return dc->d ? 0 : -1;
}

static void decoder_release(struct decoder *dc)
{
	libdeflate_free_decompressor(dc->d);
	git_odb_free(dc->odb);
	mig_buf_release(&dc->in);
}

static void *read_worker(void *arg)
{
	struct reader *r = arg;
	struct decoder dc;
	int ok = decoder_init(&dc) == 0;

	for (;;) {
		struct slot *sl;
		struct mig_err e = MIG_ERR_INIT;
		size_t i;
		int rc;

		pthread_mutex_lock(&r->mu);
		while (!r->stop && r->next < r->m->n && r->next >= r->pos + r->nslots)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop || r->next >= r->m->n) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		i = r->next++;
		sl = &r->slots[i % r->nslots];
		sl->index = i;
		sl->state = S_BUSY;
		pthread_mutex_unlock(&r->mu);

		rc = ok ? decode(&dc, r->objdir, r->m, i, sl->buf, &e) :
			  mig_err_set(&e, MIG_EENV, "out of memory for a decompressor");

		pthread_mutex_lock(&r->mu);
		sl->state = rc < 0 ? S_FAILED : S_READY;
		sl->err = e;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	decoder_release(&dc);
	return NULL;
}

static int reader_start(struct reader *r, const struct manifest *m, struct mig_store *s, int progress,
			const char *what, struct mig_err *err)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->m = m;
	r->objdir = mig_path_join(mig_store_path(s), "objects");
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->prog.on = progress;
	r->prog.what = what;
	r->extra_index = (size_t)-1;
	if (decoder_init(&r->own) < 0)
		return mig_err_set(err, MIG_EENV, "out of memory for a decompressor");
	r->nth = nthreads();
	r->nslots = r->nth * WINDOW;
	r->slots = mig_xcalloc(r->nslots, sizeof(*r->slots));
	for (i = 0; i < r->nslots; i++)
		r->slots[i].buf = mig_xmalloc(HDR_ROOM + m->chunk_size);
	for (i = 0; i < r->nth; i++)
		if (pthread_create(&r->th[i], NULL, read_worker, r) != 0)
			break;
	r->nth = i;
	if (!r->nth)
		return mig_err_set(err, MIG_EENV, "cannot start a thread");
	return 0;
}

static void reader_stop(struct reader *r)
{
	size_t i;

	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < r->nth; i++)
		pthread_join(r->th[i], NULL);
	for (i = 0; i < r->nslots; i++)
		free(r->slots[i].buf);
	free(r->slots);
	free(r->zero);
	free(r->extra);
	free(r->objdir);
	decoder_release(&r->own);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

/*
 * Chunk i, decoded and checked: the next in order comes from the
 * workers; chunk 0 is kept, as SQLite reads page 1 again; anything else
 * out of order is decoded here.
 */
static int reader_get(struct reader *r, size_t i, const unsigned char **out, struct mig_err *err)
{
	struct slot *sl;
	int rc = 0;

	if (i == 0 && r->zero) {
		*out = r->zero + HDR_ROOM;
		return 0;
	}
	if (i == r->extra_index) {
		*out = r->extra + HDR_ROOM;
		return 0;
	}
	pthread_mutex_lock(&r->mu);
	if (i < r->pos || i >= r->pos + r->nslots) {
		pthread_mutex_unlock(&r->mu);
		if (!r->extra)
			r->extra = mig_xmalloc(HDR_ROOM + r->m->chunk_size);
		r->extra_index = (size_t)-1;
		if ((rc = decode(&r->own, r->objdir, r->m, i, r->extra, err)) == 0) {
			r->extra_index = i;
			*out = r->extra + HDR_ROOM;
		}
		return rc;
	}
	if (i > r->pos) {
		/* the chunks before i are done with */
		r->pos = i;
		pthread_cond_broadcast(&r->cv);
	}
	sl = &r->slots[i % r->nslots];
	while (!(sl->index == i && (sl->state == S_READY || sl->state == S_FAILED)))
		pthread_cond_wait(&r->cv, &r->mu);
	if (sl->state == S_FAILED) {
		*err = sl->err;
		rc = err->code;
	}
	pthread_mutex_unlock(&r->mu);
	if (rc < 0)
		return rc;
	if (i == 0) {
		r->zero = mig_xmalloc(HDR_ROOM + r->m->chunk_size);
		memcpy(r->zero, sl->buf, HDR_ROOM + r->m->chunk_size);
		*out = r->zero + HDR_ROOM;
	} else {
		*out = sl->buf + HDR_ROOM;
	}
	progress_show(&r->prog, (uint64_t)i * r->m->chunk_size + chunk_len(r->m, i), r->m->size);
	return 0;
}

/* The image source's read callback. */
static int reader_read(void *data, uint64_t off, unsigned char *buf, size_t len, struct mig_err *err)
{
	struct reader *r = data;

	while (len) {
		size_t i = (size_t)(off / r->m->chunk_size), at = (size_t)(off % r->m->chunk_size);
		size_t n = chunk_len(r->m, i) - at;
		const unsigned char *c;
		int rc;

		if (n > len)
			n = len;
		if ((rc = reader_get(r, i, &c, err)) < 0)
			return rc;
		memcpy(buf, c + at, n);
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

int mig_snapshot_verify(struct mig_store *s, const char *id, int progress, struct mig_err *err)
{
	struct manifest m;
	struct reader r;
	size_t i;
	int rc;

	if ((rc = manifest_load(&m, s, id, err)) < 0)
		return rc;
	if ((rc = reader_start(&r, &m, s, progress, "verify", err)) == 0)
		for (i = 0; i < m.n && rc == 0; i++) {
			const unsigned char *c;

			if ((rc = reader_get(&r, i, &c, err)) == 0 && i == 0)
				rc = image_whole(&m, c, err);
		}
	reader_stop(&r);
	manifest_release(&m);
	return rc;
}

int mig_snapshot_check(struct mig_store *s, const char *id, struct mig_err *err)
{
	struct manifest m;
	git_odb *odb = NULL;
	size_t i;
	int rc;

	if ((rc = manifest_load(&m, s, id, err)) < 0)
		return rc;
	if (git_repository_odb(&odb, mig_store_repo(s)) < 0)
		rc = mig_err_git(err, MIG_EENV, "cannot open the store's objects");
	for (i = 0; i < m.n && rc == 0; i++)
		if (!git_odb_exists(odb, &m.c[i].oid))
			rc = damaged(err, &m, i, "is missing");
	/* the first chunk's header says how long the image must be */
	if (rc == 0 && m.n) {
		char *objdir = mig_path_join(mig_store_path(s), "objects");
		unsigned char *buf = mig_xmalloc(HDR_ROOM + m.chunk_size);
		struct decoder dc;

		if (decoder_init(&dc) < 0)
			rc = mig_err_set(err, MIG_EENV, "out of memory for a decompressor");
		else if ((rc = decode(&dc, objdir, &m, 0, buf, err)) == 0)
			rc = image_whole(&m, buf + HDR_ROOM, err);
		decoder_release(&dc);
		free(buf);
		free(objdir);
	}
	git_odb_free(odb);
	manifest_release(&m);
	return rc;
}

int mig_snapshot_restore(struct mig_store *s, const char *id, const char *path, int timeout_ms, int progress,
			 struct mig_err *err)
{
	struct manifest m;
	struct reader r;
	struct mig_image_source src;
	int rc;

	/* every chunk is checked as it is read: damage rolls the write back */
	if ((rc = manifest_load(&m, s, id, err)) < 0)
		return rc;
	if ((rc = reader_start(&r, &m, s, progress, "restore", err)) == 0) {
		src = (struct mig_image_source){ m.size, reader_read, &r };
		rc = mig_image_write(path, timeout_ms, &src, err);
	}
	reader_stop(&r);
	manifest_release(&m);
	return rc;
}

/* ---- gzip out and in ---- */

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
	struct reader r;
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
	if ((rc = reader_start(&r, &m, s, progress, "export", err)) == 0)
		for (i = 0; i < m.n && rc == 0; i++) {
			const unsigned char *chunk;
			size_t zn;

			if ((rc = reader_get(&r, i, &chunk, err)) < 0)
				break;
			if (!(zn = libdeflate_gzip_compress(c, chunk, chunk_len(&m, i), z, zcap)))
				rc = mig_err_set(err, MIG_EENV, "cannot compress chunk %zu", i);
			else
				rc = write_all(fd, z, zn, name, err);
		}
	reader_stop(&r);
	free(z);
	libdeflate_free_compressor(c);
	manifest_release(&m);
	return rc;
}

/* Check the start of an image: SQLite's magic and a page size. */
static int image_header(const unsigned char *p, size_t len, uint32_t *page_size)
{
	uint32_t ps;

	if (len < 100 || memcmp(p, "SQLite format 3", 16))
		return -1;
	ps = (uint32_t)p[16] << 8 | p[17];
	if (ps == 1)
		ps = 65536;
	if (ps < 512 || ps > 65536 || (ps & (ps - 1)))
		return -1;
	*page_size = ps;
	return 0;
}

int mig_snapshot_import(struct mig_store *s, int fd, const char *name, const struct mig_snapshot_opts *o,
			char id[41], struct mig_err *err)
{
	unsigned char in[64 * 1024];
	unsigned char *chunk;
	struct manifest m;
	struct taker t;
	z_stream z;
	size_t fill = 0;
	uint64_t index = 0, want = 0;
	int rc = 0, zr = Z_OK, frc, eof = 0;

	memset(&m, 0, sizeof(m));
	memset(&z, 0, sizeof(z));
	m.chunk_size = chunk_size();
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return mig_err_set(err, MIG_EENV, "out of memory for zlib");
	chunk = mig_xmalloc(m.chunk_size);
	taker_start(&t, s, NULL, m.chunk_size, o->progress, "import");
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
			if (taker_chunk(&t, index++, chunk, fill) < 0)
				break;
			fill = 0;
		}
	}
	if (rc == 0 && fill) {
		if (index == 0 && image_header(chunk, fill, &m.page_size) < 0)
			rc = mig_err_set(err, MIG_EENV, "'%s' does not hold an SQLite database", name);
		else if (taker_chunk(&t, index++, chunk, fill) == 0)
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
	frc = taker_finish(&t, rc == 0 ? &m : NULL, err);
	if (rc == 0 && frc == 0)
		rc = commit_snapshot(s, &m, name, o, t.stored, id, err);
	else if (rc == 0)
		rc = frc;
	inflateEnd(&z);
	free(chunk);
	manifest_release(&m);
	return rc;
}

/* ---- pruning ---- */

struct oidset {
	git_oid *v;
	size_t nr, alloc;
	int sorted;
};

static void oidset_add(struct oidset *s, const git_oid *o)
{
	MIG_GROW(s->v, s->nr + 1, s->alloc);
	s->v[s->nr++] = *o;
	s->sorted = 0;
}

static int oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

static int oidset_has(struct oidset *s, const git_oid *o)
{
	if (!s->sorted && s->nr) {
		qsort(s->v, s->nr, sizeof(*s->v), oid_cmp);
		s->sorted = 1;
	}
	return s->nr && bsearch(o, s->v, s->nr, sizeof(*s->v), oid_cmp) != NULL;
}

/* Add the commit, its tree and everything below to set. */
static int add_reachable_tree(git_repository *repo, const git_oid *tree_id, struct oidset *set)
{
	git_tree *tree = NULL;
	size_t i;
	int rc = 0;

	oidset_add(set, tree_id);
	if (git_tree_lookup(&tree, repo, tree_id) < 0)
		return -1;
	for (i = 0; i < git_tree_entrycount(tree) && rc == 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);

		if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = add_reachable_tree(repo, git_tree_entry_id(e), set);
		else
			oidset_add(set, git_tree_entry_id(e));
	}
	git_tree_free(tree);
	return rc;
}

static int add_reachable_commit(git_repository *repo, const git_oid *id, struct oidset *set)
{
	git_commit *c = NULL;
	int rc;

	oidset_add(set, id);
	if (git_commit_lookup(&c, repo, id) < 0)
		return -1;
	rc = add_reachable_tree(repo, git_commit_tree_id(c), set);
	git_commit_free(c);
	return rc;
}

/* Everything the journal reaches: revision bodies, schemas. */
static int add_journal(git_repository *repo, struct oidset *set)
{
	git_revwalk *w = NULL;
	git_oid oid;
	int rc = 0;

	if ((rc = git_reference_name_to_id(&oid, repo, "refs/mig/journal")) == GIT_ENOTFOUND)
		return 0;
	if (rc < 0 || git_revwalk_new(&w, repo) < 0)
		return -1;
	/* a journal that cannot be walked whole stops the prune: what it reaches is unknown */
	if ((rc = git_revwalk_push(w, &oid)) == 0)
		while (rc == 0 && (rc = git_revwalk_next(&oid, w)) == 0)
			rc = add_reachable_commit(repo, &oid, set);
	git_revwalk_free(w);
	return rc == GIT_ITEROVER ? 0 : rc;
}

/* ---- packed objects: after a git gc, what prune removes is in packs ---- */

struct repacker {
	struct oidset *drop;	/* what goes */
	const char *objdir;
	git_packbuilder *pb;
};

/* git_odb_foreach's callback: every packed object that stays goes into the new pack. */
static int repack_one(const git_oid *oid, void *data)
{
	struct repacker *r = data;

	if (oidset_has(r->drop, oid) || loose_exists(r->objdir, oid))
		return 0;
	return git_packbuilder_insert(r->pb, oid, NULL);
}

/* The packs in packdir, by name without ".pack"; *keep when git was told to keep one. */
static int list_packs(const char *packdir, char ***names, size_t *n, int *keep, struct mig_err *err)
{
	DIR *d = opendir(packdir);
	struct dirent *e;
	size_t alloc = 0;

	*names = NULL;
	*n = 0;
	*keep = 0;
	if (!d)
		return errno == ENOENT ? 0 : mig_err_errno(err, MIG_EENV, "cannot read '%s'", packdir);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len > 5 && !strcmp(e->d_name + len - 5, ".keep"))
			*keep = 1;
		if (len > 10 && !strncmp(e->d_name, "pack-", 5) && !strcmp(e->d_name + len - 5, ".pack")) {
			MIG_GROW(*names, *n + 1, alloc);
			(*names)[(*n)++] = mig_xstrndup(e->d_name, len - 5);
		}
	}
	closedir(d);
	return 0;
}

/*
 * Write the packed objects that stay into one new pack, sync it, then
 * remove the old packs, so what drop holds is gone from them too. A
 * pack is found by its .idx, which goes first: a cut-short removal
 * leaves a .pack nobody reads. The commit-graph, multi-pack-index and
 * info/packs a git gc may have written name what is gone: they are
 * caches git makes again, and go too. A pack git was told to keep (.keep) leaves
 * everything to git: *left gets how many objects stay packed.
 */
static int repack(struct mig_store *s, const char *objdir, struct oidset *drop, size_t *removed, uint64_t *freed,
		  size_t *left, struct mig_err *err)
{
	static const char *const exts[] = { ".idx", ".pack", ".rev", ".bitmap", ".promisor", ".mtimes" };
	struct repacker r = { drop, objdir, NULL };
	char *packdir = mig_path_join(objdir, "pack"), **old = NULL, *p;
	const char *name;
	git_odb *odb = NULL;
	uint64_t before = 0, after = 0;
	mode_t mask = umask(077);
	size_t nold = 0, i, j;
	int rc, keep;
	struct stat st;

	if ((rc = list_packs(packdir, &old, &nold, &keep, err)) < 0)
		goto out;
	if (keep) {
		*left = drop->nr;
		goto out;
	}
	if (git_repository_odb(&odb, mig_store_repo(s)) < 0 || git_packbuilder_new(&r.pb, mig_store_repo(s)) < 0)
		goto fail;
	git_packbuilder_set_threads(r.pb, (unsigned)nthreads());
	if (git_odb_foreach(odb, repack_one, &r) < 0 || git_packbuilder_write(r.pb, packdir, 0, NULL, NULL) < 0)
		goto fail;
	if ((rc = sync_store(s, err)) < 0)
		goto out;
	name = git_packbuilder_name(r.pb);
	for (i = 0; i < nold; i++) {
		if (name && !strcmp(old[i] + 5, name))
			continue;
		for (j = 0; j < sizeof(exts) / sizeof(exts[0]); j++) {
			p = mig_xasprintf("%s/%s%s", packdir, old[i], exts[j]);
			if (stat(p, &st) == 0 && unlink(p) == 0)
				before += (uint64_t)st.st_size;
			free(p);
		}
	}
	if (name) {
		for (j = 0; j < 2; j++) {
			p = mig_xasprintf("%s/pack-%s%s", packdir, name, exts[j]);
			if (stat(p, &st) == 0)
				after += (uint64_t)st.st_size;
			free(p);
		}
	}
	p = mig_path_join(packdir, "multi-pack-index");
	unlink(p);
	free(p);
	p = mig_path_join(objdir, "info/commit-graph");
	unlink(p);
	free(p);
	p = mig_path_join(objdir, "info/packs");
	unlink(p);
	free(p);
	p = mig_path_join(objdir, "info/commit-graphs");
	nftw(p, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(p);
	git_odb_refresh(odb);
	*removed += drop->nr;
	*freed += before > after ? before - after : 0;
	goto out;
fail:
	rc = mig_err_git(err, MIG_EENV, "cannot repack the store");
out:
	umask(mask);
	for (i = 0; i < nold; i++)
		free(old[i]);
	free(old);
	free(packdir);
	git_packbuilder_free(r.pb);
	git_odb_free(odb);
	return rc;
}

int mig_snapshot_prune(struct mig_store *s, size_t keep, size_t *pruned, size_t *removed, uint64_t *freed,
		       size_t *left, struct mig_err *err)
{
	git_repository *repo = mig_store_repo(s);
	struct oidset gone = { 0 }, kept = { 0 }, packed = { 0 };
	struct mig_snapshot_list l = { NULL, 0 };
	char *objdir = mig_path_join(mig_store_path(s), "objects");
	git_odb *odb = NULL;
	size_t i;
	int rc;

	*pruned = *removed = *left = 0;
	*freed = 0;
	if ((rc = mig_snapshot_list(s, &l, err)) < 0)
		goto out;
	if (git_repository_odb(&odb, repo) < 0) {
		rc = mig_err_git(err, MIG_EENV, "cannot open the store's objects");
		goto out;
	}
	for (i = 0; i < l.nr; i++) {
		git_oid oid;

		git_oid_fromstr(&oid, l.v[i].id);
		if (add_reachable_commit(repo, &oid, i < keep ? &kept : &gone) < 0) {
			rc = mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: cannot walk it: %s", l.v[i].id,
					 git_why());
			goto out;
		}
	}
	if (add_journal(repo, &kept) < 0) {
		rc = mig_err_git(err, MIG_EENV, "cannot walk the journal");
		goto out;
	}
	/* the refs first: a prune cut short leaves unlisted objects, never a broken snapshot */
	for (i = keep; i < l.nr; i++) {
		char *ref = mig_xasprintf(SNAP_REFS "%s", l.v[i].id);
		int r = git_reference_remove(repo, ref);

		free(ref);
		if (r < 0) {
			rc = mig_err_git(err, MIG_EENV, "cannot remove a snapshot");
			goto out;
		}
		(*pruned)++;
	}
	if (gone.nr)
		qsort(gone.v, gone.nr, sizeof(*gone.v), oid_cmp);
	for (i = 0; i < gone.nr; i++) {
		char *p;
		struct stat st;

		if ((i && !git_oid_cmp(&gone.v[i], &gone.v[i - 1])) || oidset_has(&kept, &gone.v[i]))
			continue;
		p = loose_path(objdir, &gone.v[i]);
		if (stat(p, &st) == 0 && unlink(p) == 0) {
			(*removed)++;
			*freed += (uint64_t)st.st_size;
		} else if (errno == ENOENT && git_odb_exists(odb, &gone.v[i])) {
			oidset_add(&packed, &gone.v[i]);
		}
		free(p);
	}
	if (packed.nr)
		rc = repack(s, objdir, &packed, removed, freed, left, err);
out:
	git_odb_free(odb);
	free(packed.v);
	free(gone.v);
	free(kept.v);
	free(objdir);
	mig_snapshot_list_release(&l);
	return rc;
}
