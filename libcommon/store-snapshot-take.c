/*
 * Taking a snapshot. SQLite's backup API streams the image (image.c);
 * the store's workers, one per core, hash each chunk with XXH3 and look
 * it up in the newest snapshot's manifest, so an unchanged chunk costs
 * a fast hash and nothing else; a new chunk is compressed with zstd,
 * gets the git id of the frame, and is written as a loose object (git's
 * own format, so libgit2 and git read it), or as a delta against the
 * chunk the newest snapshot had in its place. The first PACK_AFTER new
 * objects are loose; the rest go into one pack (store-pack.c), as git
 * keeps a fetch of many objects as a pack and explodes a small one
 * (fetch.unpackLimit): a file each cost a second snapshot more than
 * its deltas. All of it is synced before the snapshot's ref names it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "image.h"
#include "db.h"
#include "store-internal.h"

/*
 * zstd's level 2 as it is for inputs over 256 KiB (fast strategy, 64 Ki
 * hash entries, matches of 6 bytes or more), whatever the chunk size:
 * on bench/snapshot.sh's database, 512 KiB chunks store 0.98x what
 * 'zstd -3' makes of the whole file, at about half its time; level 3
 * on chunks this size is both slower and bigger.
 */
#define ZLEVEL 2
#define ZHASHLOG 16
#define ZMINMATCH 6
#define PACK_AFTER 32		/* MIG_PACK_AFTER, for tests and measuring */

/* One chunk on its way: a buffer of HDR_ROOM, then the chunk. */
struct job {
	uint64_t index;
	size_t len;
	unsigned char *buf;
};

struct taker {
	pthread_mutex_t mu;
	pthread_cond_t room;
	struct job *jobs;
	struct job **spare;	/* the jobs no worker holds */
	struct job *lent;	/* the one whose buffer the image is being read into */
	size_t nspare, njobs;
	struct chunk_ref *res;
	unsigned char *set;
	size_t nres;
	uint64_t stored;
	int failed;
	struct mig_err err;
	const struct chunk_ref *known;	/* the newest snapshot's, by hash */
	size_t nknown;
	const struct chunk_ref *prev;	/* the newest snapshot's, in order */
	size_t nprev;
	int prev_version;
	uint64_t prev_size;
	char *objdir;
	size_t chunk_size;
	struct packs *packs;	/* the store's, as the snapshot started */
	struct packw *pw;	/* this snapshot's, once it has PACK_AFTER new objects */
	size_t nnew, pack_after;
	struct store_work *work;
	struct mig_meter meter;
};

/* What one worker owns. */
struct worker {
	ZSTD_CCtx *c;
	unsigned char *frame, *loose;	/* a zstd frame; the loose object or pack entry of a blob */
	size_t framecap;
	unsigned char *delta, *base;	/* a delta; the chunk it is made against */
	struct decoder dc;		/* to read base chunks, from the taker's packs */
	int ok;
};

/* How many new objects a snapshot writes loose: MIG_PACK_AFTER, or PACK_AFTER. */
static size_t pack_after(void)
{
	const char *e = getenv("MIG_PACK_AFTER");
	char *end;
	long n = e ? strtol(e, &end, 10) : -1;

	return e && *e && !*end && n >= 0 ? (size_t)n : PACK_AFTER;
}

static int by_hash(const void *a, const void *b)
{
	return hash_cmp(((const struct chunk_ref *)a)->h, ((const struct chunk_ref *)b)->h);
}

/* Is object oid in the store: loose, packed, or in this snapshot's pack? */
static int stored_already(struct taker *t, const git_oid *oid)
{
	struct packw *pw;

	if (store_loose_exists(t->objdir, oid) || packs_has(t->packs, oid))
		return 1;
	pthread_mutex_lock(&t->mu);
	pw = t->pw;
	pthread_mutex_unlock(&t->mu);
	return pw && packw_has(pw, oid);
}

/* The pack a new object goes into, started when first needed; NULL when it goes loose. */
static int pack_for_new(struct taker *t, struct packw **out, struct mig_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	*out = NULL;
	if (t->nnew++ >= t->pack_after) {
		if (!t->pw && (rc = packw_start(&t->pw, t->objdir, err)) < 0) {
			packw_free(t->pw);
			t->pw = NULL;
		}
		*out = t->pw;
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

/*
 * Store len bytes at data as a blob, a zstd frame of them when that is
 * shorter; *oid gets its id. A blob already there is not written again.
 */
static int put_blob(struct taker *t, struct worker *w, git_oid *oid, const unsigned char *data, size_t len,
		    size_t *stored, struct mig_err *err)
{
	size_t zn = ZSTD_compress2(w->c, w->frame, w->framecap, data, len), n;
	struct packw *pw;
	int rc, added;

	if (ZSTD_isError(zn))
		return mig_err_set(err, MIG_EENV, "cannot compress a chunk: %s", ZSTD_getErrorName(zn));
	if (zn < len) {
		data = w->frame;
		len = zn;
	}
	blob_oid(oid, data, len);
	if (stored_already(t, oid))
		return 0;
	if ((rc = pack_for_new(t, &pw, err)) < 0)
		return rc;
	if (!pw) {
		n = loose_stored(w->loose, data, len);
		*stored += n;
		return write_loose(t->objdir, oid, w->loose, n, err);
	}
	n = pack_entry_make(w->loose, data, len);
	if ((rc = packw_add(pw, oid, w->loose, n, &added, err)) == 0 && added)
		*stored += n;
	return rc;
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
	const char *why;
	size_t n;
	int rc;

	if (j->index >= t->nprev || j->len != (j->index + 1 < t->nprev ? t->chunk_size :
			(size_t)(t->prev_size - j->index * t->chunk_size)))
		return 0;
	p = &t->prev[j->index];
	base = p->delta ? &p->base : &p->oid;
	/* a base that cannot be read just means no delta; a whole chunk's bytes have the manifest's hash */
	if (load_chunk(&w->dc, t->objdir, t->prev_version, base, p->delta ? NULL : &p->h, w->base, j->len,
		       &why) < 0 ||
	    !(n = make_delta(w->base, j->buf + HDR_ROOM, j->len, w->delta, j->len / DELTA_MAX)))
		return 0;
	r->delta = 1;
	r->base = *base;
	rc = put_blob(t, w, &r->oid, w->delta, n, stored, err);
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
	if (k && stored_already(t, &k->oid) && (!k->delta || stored_already(t, &k->base))) {
		*r = *k;
		return 0;
	}
	if ((rc = try_delta(t, w, j, r, stored, err)) != 0)
		return rc < 0 ? rc : 0;
	return put_blob(t, w, &r->oid, data, j->len, stored, err);
}


static void *worker_init(void *data)
{
	struct taker *t = data;
	struct worker *w = mig_xcalloc(1, sizeof(*w));

	w->c = ZSTD_createCCtx();
	w->ok = w->c && decoder_init(&w->dc, t->packs) == 0 &&
		!ZSTD_isError(ZSTD_CCtx_setParameter(w->c, ZSTD_c_compressionLevel, ZLEVEL)) &&
		!ZSTD_isError(ZSTD_CCtx_setParameter(w->c, ZSTD_c_strategy, ZSTD_fast)) &&
		!ZSTD_isError(ZSTD_CCtx_setParameter(w->c, ZSTD_c_hashLog, ZHASHLOG)) &&
		!ZSTD_isError(ZSTD_CCtx_setParameter(w->c, ZSTD_c_minMatch, ZMINMATCH));
	w->framecap = ZSTD_compressBound(t->chunk_size);
	w->frame = mig_xmalloc(w->framecap);
	w->loose = mig_xmalloc(pack_entry_bound(t->chunk_size));
	w->delta = mig_xmalloc(t->chunk_size / DELTA_MAX + 1);
	w->base = mig_xmalloc(t->chunk_size);
	return w;
}

static void worker_fini(void *state)
{
	struct worker *w = state;

	free(w->frame);
	free(w->loose);
	free(w->delta);
	free(w->base);
	decoder_release(&w->dc);
	ZSTD_freeCCtx(w->c);
	free(w);
}

/* Keep chunk j's ref r, under the lock. */
static void keep(struct taker *t, const struct job *j, const struct chunk_ref *r, size_t stored)
{
	if (j->index >= t->nres) {
		size_t n = (size_t)j->index * 2 + 64;

		t->res = mig_xrealloc(t->res, n * sizeof(*t->res));
		t->set = mig_xrealloc(t->set, n);
		memset(t->set + t->nres, 0, n - t->nres);
		t->nres = n;
	}
	t->res[j->index] = *r;
	t->set[j->index] = 1;
	t->stored += stored;
}

static void take_one(void *data, void *state, void *job)
{
	struct taker *t = data;
	struct worker *w = state;
	struct job *j = job;
	struct mig_err e = MIG_ERR_INIT;
	struct chunk_ref r;
	size_t stored = 0;
	int rc;

	rc = w->ok ? store_chunk(t, w, j, &r, &stored, &e) :
		    mig_err_set(&e, MIG_EENV, "out of memory for a compressor");
	pthread_mutex_lock(&t->mu);
	if (rc < 0 && !t->failed) {
		t->failed = 1;
		t->err = e;
	}
	if (rc == 0)
		keep(t, j, &r, stored);
	t->spare[t->nspare++] = j;
	pthread_cond_signal(&t->room);
	pthread_mutex_unlock(&t->mu);
}

static const struct store_work_ops take_ops = { worker_init, worker_fini, take_one };

struct taker *taker_start(struct mig_store *s, const struct manifest *prev, size_t cs, int progress,
			  const char *what)
{
	struct taker *t = mig_xcalloc(1, sizeof(*t));
	size_t i;

	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->room, NULL);
	t->chunk_size = cs;
	t->objdir = mig_path_join(s->path, "objects");
	t->packs = packs_open(t->objdir);
	t->pack_after = pack_after();
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
		t->prev_version = prev->version;
	}
	/* two chunks a thread, and two more: one being read, one queued */
	t->njobs = store_nthreads() * 2 + 2;
	t->jobs = mig_xcalloc(t->njobs, sizeof(*t->jobs));
	t->spare = mig_xcalloc(t->njobs, sizeof(*t->spare));
	for (i = 0; i < t->njobs; i++) {
		t->jobs[i].buf = mig_xmalloc(HDR_ROOM + cs);
		t->spare[t->nspare++] = &t->jobs[i];
	}
	if (progress)
		mig_meter_start(&t->meter, what);
	/* no thread: the first chunk fails with why */
	if (store_work_start(&t->work, &take_ops, t, t->njobs, &t->err) < 0)
		t->failed = 1;
	return t;
}

/* A spare job, waited for; NULL when the snapshot failed. */
static struct job *spare_job(struct taker *t)
{
	struct job *j = NULL;

	pthread_mutex_lock(&t->mu);
	while (!t->nspare && !t->failed)
		pthread_cond_wait(&t->room, &t->mu);
	if (!t->failed)
		j = t->spare[--t->nspare];
	pthread_mutex_unlock(&t->mu);
	return j;
}

/* The sink's buffer callback: a spare job's, so the chunk is read where a worker takes it. */
unsigned char *taker_buffer(void *data)
{
	struct taker *t = data;

	if (!t->lent)
		t->lent = spare_job(t);
	return t->lent ? t->lent->buf + HDR_ROOM : NULL;
}

/* The sink's chunk callback: hand the chunk (a copy, unless read into a job) to a worker. */
int taker_chunk(void *data, uint64_t index, const unsigned char *buf, size_t len)
{
	struct taker *t = data;
	struct job *j = t->lent;

	t->lent = NULL;
	if (!j && !(j = spare_job(t)))
		return -1;
	j->index = index;
	j->len = len;
	if (buf != j->buf + HDR_ROOM)
		memcpy(j->buf + HDR_ROOM, buf, len);
	store_work_push(t->work, j);
	return 0;
}

void taker_progress(void *data, uint64_t done, uint64_t total)
{
	struct taker *t = data;

	mig_meter_update(&t->meter, done, total > done ? total : done);
}

/* Wait for the workers; the chunks' refs go to m (m->n of them). */
int taker_finish(struct taker *t, struct manifest *m, uint64_t *stored, struct mig_err *err)
{
	size_t i;
	int rc = 0;

	store_work_finish(t->work);
	if (!t->failed && t->pw && packw_finish(t->pw, &t->err) < 0)
		t->failed = 1;
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
	if (stored)
		*stored = t->stored;
	for (i = 0; i < t->njobs; i++)
		free(t->jobs[i].buf);
	free(t->jobs);
	free(t->spare);
	free(t->res);
	free(t->set);
	free((void *)t->known);
	free((void *)t->prev);
	free(t->objdir);
	packs_close(t->packs);
	packw_free(t->pw);
	pthread_cond_destroy(&t->room);
	pthread_mutex_destroy(&t->mu);
	free(t);
	return rc;
}

int commit_snapshot(struct mig_store *s, struct manifest *m, const char *database,
		    const struct mig_snapshot_opts *o, uint64_t stored, char id[41], struct mig_err *err)
{
	git_repository *repo = s->repo;
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
	m->version = MANIFEST_VERSION;
	manifest_format(&b, m);
	if (git_blob_create_from_buffer(&blob, repo, b.buf, b.len) < 0 || git_treebuilder_new(&ctb, repo, NULL) < 0)
		goto fail;
	/* the workers wrote each chunk, or found it there, bases too */
	store_git_strict(0);
	for (i = 0; i < m->n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%08zu", i);
		if (git_treebuilder_insert(NULL, ctb, name, &m->c[i].oid, GIT_FILEMODE_BLOB) < 0)
			break;
		snprintf(name, sizeof(name), "%08zu-base", i);
		if (m->c[i].delta && git_treebuilder_insert(NULL, ctb, name, &m->c[i].base, GIT_FILEMODE_BLOB) < 0)
			break;
	}
	store_git_strict(1);
	if (i < m->n)
		goto fail;
	if (git_treebuilder_write(&chunks, ctb) < 0 || git_treebuilder_new(&tb, repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, tb, "manifest", &blob, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_insert(NULL, tb, "chunks", &chunks, GIT_FILEMODE_TREE) < 0 ||
	    git_treebuilder_write(&tree_id, tb) < 0 || git_tree_lookup(&tree, repo, &tree_id) < 0)
		goto fail;
	if ((rc = store_signature(&sig, err)) < 0)
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
	if ((rc = store_sync(s, err)) < 0)
		goto out;
	mig_buf_reset(&b);
	mig_buf_addf(&b, SNAP_REFS "%s", id);
	if (git_reference_create(&ref, repo, b.buf, &commit, 0, "snapshot") < 0)
		goto fail;
	rc = store_sync(s, err);
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

/* The database as the manifest names it: a file by its real path, a server's without its password. */
static char *absolute(const char *path)
{
	char *r = mig_db_is_url(path) ? NULL : realpath(path, NULL);

	return r ? r : mig_db_display_name(path);
}

int mig_snapshot_take(struct mig_store *s, const char *path, const struct mig_snapshot_opts *o, char id[41],
		      struct mig_err *err)
{
	struct manifest prev, m;
	struct mig_image_sink sink;
	struct taker *t;
	struct mig_err ierr = MIG_ERR_INIT;
	char *abs = absolute(path);
	uint64_t stored = 0;
	int rc, frc;

	memset(&m, 0, sizeof(m));
	if (manifest_newest(s, &prev) < 0)
		memset(&prev, 0, sizeof(prev));
	m.chunk_size = chunk_size();
	t = taker_start(s, prev.chunk_size == m.chunk_size ? &prev : NULL, m.chunk_size, o->progress, "snapshot");
	manifest_release(&prev);
	sink = (struct mig_image_sink){ .chunk_size = m.chunk_size, .chunk = taker_chunk,
				       .progress = taker_progress, .data = t, .buffer = taker_buffer };
	rc = mig_image_read(path, o->timeout_ms, &sink, &m.page_size, &m.size, &ierr);
	m.n = (size_t)((m.size + m.chunk_size - 1) / m.chunk_size);
	frc = taker_finish(t, rc == 0 ? &m : NULL, &stored, err);
	if (rc < 0 && frc == 0) {
		*err = ierr;	/* the database's failure, not a consumer's */
	} else if (rc == 0 && frc == 0) {
		rc = commit_snapshot(s, &m, abs, o, stored, id, err);
	} else {
		rc = frc < 0 ? frc : rc;
	}
	manifest_release(&m);
	free(abs);
	return rc;
}
