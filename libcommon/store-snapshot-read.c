/*
 * Reading a snapshot back: verify, check, restore, and is a database a
 * snapshot's image. The chunks come in order, decoded ahead by the
 * store's workers, each checked against its object id and the
 * manifest as it is read, so a restore writes nothing from a damaged
 * snapshot.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "store-internal.h"

#define WINDOW 4	/* chunks decoded ahead per thread */

/* A chunk being decoded ahead, into buf (HDR_ROOM + chunk_size). */
struct slot {
	size_t index;
	enum { S_FREE, S_BUSY, S_READY, S_FAILED } state;
	unsigned char *buf;
	struct mig_err err;
};

struct reader {
	const struct manifest *m;
	char *objdir;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next, pos, nslots;	/* next to queue; the one asked for last */
	struct slot *slots;
	const unsigned char *want;	/* the chunks to read, or NULL: all */
	int stop;
	struct store_work *work;
	struct packs *packs;	/* opened once, read by every decoder */
	struct decoder own;	/* the reader's own, for chunks read out of order */
	unsigned char *zero, *extra;	/* chunk 0, kept; a chunk read out of order */
	size_t extra_index;
	struct mig_meter meter;
};

static void *decoder_new(void *data)
{
	struct reader *r = data;
	struct decoder *dc = mig_xmalloc(sizeof(*dc));

	decoder_init(dc, r->packs);	/* without a decompressor, each chunk fails with why */
	return dc;
}

static void decoder_free(void *state)
{
	decoder_release(state);
	free(state);
}

static void read_one(void *data, void *state, void *job)
{
	struct reader *r = data;
	struct decoder *dc = state;
	struct slot *sl = job;
	struct mig_err e = MIG_ERR_INIT;
	int rc, stop;

	pthread_mutex_lock(&r->mu);
	stop = r->stop;
	pthread_mutex_unlock(&r->mu);
	if (stop)
		rc = mig_err_set(&e, MIG_EENV, "stopped");
	else if (!dc->d)
		rc = mig_err_set(&e, MIG_EENV, "out of memory for a decompressor");
	else
		rc = decode(dc, r->objdir, r->m, sl->index, sl->buf, &e);
	pthread_mutex_lock(&r->mu);
	sl->state = rc < 0 ? S_FAILED : S_READY;
	sl->err = e;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static const struct store_work_ops read_ops = { decoder_new, decoder_free, read_one };

/*
 * Queue the chunks from next up to a window past pos, under the lock. A
 * slot still busy with a chunk SQLite skipped past is waited for.
 */
static void queue_ahead(struct reader *r)
{
	while (r->next < r->m->n && r->next < r->pos + r->nslots) {
		struct slot *sl = &r->slots[r->next % r->nslots];

		if (r->want && !r->want[r->next]) {
			r->next++;
			continue;
		}
		if (sl->state == S_BUSY)
			break;
		sl->index = r->next++;
		sl->state = S_BUSY;
		store_work_push(r->work, sl);
	}
}

int reader_start(struct reader **out, const struct manifest *m, struct mig_store *s, const unsigned char *want,
		 int progress, const char *what, struct mig_err *err)
{
	struct reader *r = mig_xcalloc(1, sizeof(*r));
	size_t i;
	int rc;

	*out = NULL;
	r->m = m;
	r->want = want;
	r->objdir = mig_path_join(s->path, "objects");
	r->packs = packs_open(r->objdir);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (progress)
		mig_meter_start(&r->meter, what);
	r->extra_index = (size_t)-1;
	r->nslots = store_nthreads() * WINDOW;
	r->slots = mig_xcalloc(r->nslots, sizeof(*r->slots));
	for (i = 0; i < r->nslots; i++)
		r->slots[i].buf = mig_xmalloc(HDR_ROOM + m->chunk_size);
	if (decoder_init(&r->own, r->packs) < 0)
		rc = mig_err_set(err, MIG_EENV, "out of memory for a decompressor");
	else
		rc = store_work_start(&r->work, &read_ops, r, r->nslots, err);
	if (rc < 0) {
		reader_stop(r);
		return rc;
	}
	pthread_mutex_lock(&r->mu);
	queue_ahead(r);
	pthread_mutex_unlock(&r->mu);
	*out = r;
	return 0;
}

void reader_stop(struct reader *r)
{
	size_t i;

	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_mutex_unlock(&r->mu);
	store_work_finish(r->work);
	for (i = 0; i < r->nslots; i++)
		free(r->slots[i].buf);
	free(r->slots);
	free(r->zero);
	free(r->extra);
	free(r->objdir);
	decoder_release(&r->own);
	packs_close(r->packs);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* Chunk i, out of the window: decoded here, into a buffer of its own. */
static int get_aside(struct reader *r, size_t i, const unsigned char **out, struct mig_err *err)
{
	int rc;

	if (!r->extra)
		r->extra = mig_xmalloc(HDR_ROOM + r->m->chunk_size);
	r->extra_index = (size_t)-1;
	if ((rc = decode(&r->own, r->objdir, r->m, i, r->extra, err)) == 0) {
		r->extra_index = i;
		*out = r->extra + HDR_ROOM;
	}
	return rc;
}

/*
 * Chunk i, decoded and checked: the next in order comes from the
 * workers; chunk 0 is kept, as SQLite reads page 1 again; anything else
 * out of order is decoded here.
 */
int reader_get(struct reader *r, size_t i, const unsigned char **out, struct mig_err *err)
{
	struct slot *sl = &r->slots[i % r->nslots];
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
		return get_aside(r, i, out, err);
	}
	/* the chunks before i are done with */
	r->pos = i;
	queue_ahead(r);
	while (!(sl->index == i && (sl->state == S_READY || sl->state == S_FAILED))) {
		pthread_cond_wait(&r->cv, &r->mu);
		queue_ahead(r);
	}
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
	mig_meter_update(&r->meter, (uint64_t)i * r->m->chunk_size + chunk_len(r->m, i), r->m->size);
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
	struct reader *r = NULL;
	size_t i;
	int rc;

	if ((rc = manifest_load(&m, s, id, err)) < 0)
		return rc;
	if ((rc = reader_start(&r, &m, s, NULL, progress, "verify", err)) == 0)
		for (i = 0; i < m.n && rc == 0; i++) {
			const unsigned char *c;

			if ((rc = reader_get(r, i, &c, err)) == 0 && i == 0)
				rc = image_whole(&m, c, err);
		}
	reader_stop(r);
	manifest_release(&m);
	return rc;
}

/*
 * Is chunk i's object in the store? Looked for in mig's packs and loose
 * first: libgit2 would keep a descriptor open for each pack it found
 * one in, as long as the store is open, beside the reader's. One in a
 * damaged pack is damaged only when libgit2 has no other copy (it
 * reads no damaged pack either).
 */
static int chunk_present(const struct packs *ps, const char *objdir, git_odb *odb, const struct manifest *m,
			 size_t i, struct mig_err *err)
{
	const git_oid *oid = &m->c[i].oid;
	const char *why;

	if (packs_has(ps, oid) || store_loose_exists(objdir, oid) || git_odb_exists(odb, oid))
		return 0;
	why = packs_damage(ps, oid);
	return damaged(err, m, i, why ? why : "is missing");
}

int mig_snapshot_check(struct mig_store *s, const char *id, struct mig_err *err)
{
	struct manifest m;
	git_odb *odb = NULL;
	struct packs *ps = NULL;
	char *objdir;
	size_t i;
	int rc;

	if ((rc = manifest_load(&m, s, id, err)) < 0)
		return rc;
	objdir = mig_path_join(s->path, "objects");
	ps = packs_open(objdir);
	if (git_repository_odb(&odb, s->repo) < 0)
		rc = mig_err_git(err, MIG_EENV, "cannot open the store's objects");
	for (i = 0; i < m.n && rc == 0; i++)
		rc = chunk_present(ps, objdir, odb, &m, i, err);
	/* the first chunk's header says how long the image must be */
	if (rc == 0 && m.n) {
		unsigned char *buf = mig_xmalloc(HDR_ROOM + m.chunk_size);
		struct decoder dc;

		if (decoder_init(&dc, ps) < 0)
			rc = mig_err_set(err, MIG_EENV, "out of memory for a decompressor");
		else if ((rc = decode(&dc, objdir, &m, 0, buf, err)) == 0)
			rc = image_whole(&m, buf + HDR_ROOM, err);
		decoder_release(&dc);
		free(buf);
	}
	git_odb_free(odb);
	packs_close(ps);
	free(objdir);
	manifest_release(&m);
	return rc;
}

/* A restore's image source: chunks the database has already are not read. */
struct restore {
	const struct manifest *m;
	struct mig_store *s;
	struct reader *r;
	unsigned char *want;
	int progress;
};

static int restore_read(void *data, uint64_t off, unsigned char *buf, size_t len, struct mig_err *err)
{
	struct restore *rs = data;
	int rc;

	if (!rs->r && (rc = reader_start(&rs->r, rs->m, rs->s, rs->want, rs->progress, "restore", err)) < 0)
		return rc;
	return reader_read(rs->r, off, buf, len, err);
}

/* Is chunk index these bytes? By the manifest's XXH3-128, as a snapshot finds a chunk unchanged. */
static int restore_same(void *data, uint64_t index, const unsigned char *buf, size_t len)
{
	struct restore *rs = data;

	return index < rs->m->n && len == chunk_len(rs->m, (size_t)index) &&
	       !hash_cmp(XXH3_128bits(buf, len), rs->m->c[index].h);
}

static void restore_want(void *data, const unsigned char *want, size_t n)
{
	struct restore *rs = data;

	if (n != rs->m->n)
		return;
	free(rs->want);
	rs->want = mig_xmalloc(n);
	memcpy(rs->want, want, n);
}

int mig_snapshot_restore(struct mig_store *s, const char *id, const char *path, int timeout_ms, int progress,
			 struct mig_err *err)
{
	struct manifest m;
	struct restore rs;
	struct mig_image_source src;
	int rc;

	/* every chunk read is checked: damage rolls the write back */
	if ((rc = manifest_load(&m, s, id, err)) < 0)
		return rc;
	rs = (struct restore){ .m = &m, .s = s, .progress = progress };
	src = (struct mig_image_source){ .size = m.size, .page_size = m.page_size, .read = restore_read,
					 .chunk_size = m.chunk_size, .same = restore_same, .want = restore_want,
					 .data = &rs };
	rc = mig_image_write(path, timeout_ms, &src, err);
	reader_stop(rs.r);
	free(rs.want);
	manifest_release(&m);
	return rc;
}

/* ---- is a database a snapshot's image? ---- */

/*
 * Do two first chunks differ, but in what a restore changes in SQLite's
 * header: the change counter (24), the schema cookie (40), the
 * version-valid-for number and SQLite's version (92)?
 */
static int first_differs(const unsigned char *a, const unsigned char *b, size_t len)
{
	if (len < 100)
		return memcmp(a, b, len) != 0;
	return memcmp(a, b, 24) || memcmp(a + 28, b + 28, 12) || memcmp(a + 44, b + 44, 48) ||
	       memcmp(a + 100, b + 100, len - 100);
}

struct same {
	const struct manifest *m;
	struct packs *packs;
	struct decoder dc;
	char *objdir;
	unsigned char *first;	/* HDR_ROOM, then the snapshot's chunk 0 */
	int differ, failed;
	struct mig_err err;
};

static int same_chunk(void *data, uint64_t index, const unsigned char *buf, size_t len)
{
	struct same *sm = data;

	if (index >= sm->m->n || len != chunk_len(sm->m, (size_t)index))
		sm->differ = 1;
	else if (index)
		sm->differ = hash_cmp(XXH3_128bits(buf, len), sm->m->c[index].h) != 0;
	else if (decode(&sm->dc, sm->objdir, sm->m, 0, sm->first, &sm->err) < 0)
		sm->failed = 1;
	else
		sm->differ = first_differs(buf, sm->first + HDR_ROOM, len);
	return sm->differ || sm->failed ? -1 : 0;
}

int mig_snapshot_is_image(struct mig_store *s, const char *id, const char *path, int timeout_ms, int *same,
			  struct mig_err *err)
{
	struct mig_err ierr = MIG_ERR_INIT;
	struct mig_image_sink sink;
	struct manifest m;
	struct same sm;
	uint32_t page_size;
	uint64_t size;
	int rc;

	*same = 0;
	if ((rc = manifest_load(&m, s, id, err)) < 0)
		return rc;
	memset(&sm, 0, sizeof(sm));
	sm.m = &m;
	sm.objdir = mig_path_join(s->path, "objects");
	sm.first = mig_xmalloc(HDR_ROOM + m.chunk_size);
	sm.packs = packs_open(sm.objdir);
	if (decoder_init(&sm.dc, sm.packs) < 0) {
		rc = mig_err_set(err, MIG_EENV, "out of memory for a decompressor");
		goto out;
	}
	sink = (struct mig_image_sink){ .chunk_size = m.chunk_size, .chunk = same_chunk, .data = &sm };
	rc = mig_image_read(path, timeout_ms, &sink, &page_size, &size, &ierr);
	if (sm.failed) {
		*err = sm.err;
		rc = err->code;
	} else if (sm.differ) {
		rc = 0;
	} else if (rc < 0) {
		*err = ierr;
	} else {
		*same = size == m.size;
	}
out:
	decoder_release(&sm.dc);
	packs_close(sm.packs);
	free(sm.first);
	free(sm.objdir);
	manifest_release(&m);
	return rc;
}
