/*
 * Chunks as the store holds them: git loose objects (zlib, "blob N\0"
 * and the bytes) or entries of packs (store-pack.c), written and read
 * here without libgit2 for speed, or deltas against a base chunk. Since manifest version 2 a blob holds a
 * zstd frame of its chunk (or delta), in a zlib stream of stored blocks:
 * zstd compresses three times faster than deflate, and smaller. Read
 * back, each is checked against its object id and the manifest's hash.
 * A chunk git gc stored as a git delta is read through libgit2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>
#include <nettle/sha1.h>

#include "store-internal.h"

#define DELTA_MAGIC "mig-delta 1\n"
#define DELTA_UNIT 512		/* a delta's grain: the smallest page */

char *store_loose_path(const char *objdir, const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), oid);
	return mig_xasprintf("%s/%.2s/%s", objdir, hex, hex + 2);
}

int store_loose_exists(const char *objdir, const git_oid *oid)
{
	char *p = store_loose_path(objdir, oid);
	int r = access(p, F_OK) == 0;

	free(p);
	return r;
}

uint32_t get_be32(const unsigned char *p)
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


int store_remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* What libgit2 said last. */
const char *store_git_why(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown error";
}

/* Write a compressed object to its loose path: a temporary file, renamed. */
int write_loose(const char *objdir, const git_oid *oid, const void *z, size_t n, struct mig_err *err)
{
	char *path = store_loose_path(objdir, oid), *slash = strrchr(path, '/');
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


/*
 * The sectors in which data differs from base, as a delta blob into
 * out; 0 when it would not fit in cap.
 */
size_t make_delta(const unsigned char *base, const unsigned char *data, size_t len, unsigned char *out,
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

static int damaged_object(struct mig_err *err, const struct manifest *m, size_t i, const git_oid *oid,
			  const char *what, const char *why)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), oid);
	return mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: chunk %zu (%s %s) %s", m->id, i, what, hex,
			   why);
}

int damaged(struct mig_err *err, const struct manifest *m, size_t i, const char *why)
{
	return damaged_object(err, m, i, &m->c[i].oid, "object", why);
}

/*
 * The size an image's SQLite header gives it: its page count times its
 * page size, or 0 when the header does not say (the count is only kept
 * by SQLite 3.7.0 and later, and valid when the version-valid-for
 * number matches the change counter).
 */
uint64_t header_size(const unsigned char *p, size_t len)
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
int image_whole(const struct manifest *m, const unsigned char *first, struct mig_err *err)
{
	uint64_t want = header_size(first, chunk_len(m, 0));

	if (want > m->size)
		return mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: its image is cut short: %llu bytes of "
				   "the %llu its database header says", m->id, (unsigned long long)m->size,
				   (unsigned long long)want);
	return 0;
}

/* git's id of a blob of these bytes. */
void blob_oid(git_oid *out, const void *data, size_t len)
{
	struct sha1_ctx c;
	char hdr[HDR_ROOM];
	int n = snprintf(hdr, sizeof(hdr), "blob %zu", len);

	sha1_init(&c);
	sha1_update(&c, (size_t)n + 1, (const uint8_t *)hdr);
	sha1_update(&c, len, data);
	sha1_digest(&c, GIT_OID_RAWSZ, out->id);
}

#define STORED_MAX 65535	/* the bytes of one stored deflate block */

size_t loose_bound(size_t len)
{
	size_t n = HDR_ROOM + len;

	return 2 + n + 5 * (n / STORED_MAX + 1) + 4;
}

/* zlib (RFC 1950) of stored deflate blocks (RFC 1951, BTYPE 00) of hdr and data. */
size_t zlib_stored(unsigned char *out, const char *hdr, size_t hlen, const unsigned char *data, size_t len)
{
	size_t total = hlen + len, at = 0, n = 2;
	uint32_t adler = libdeflate_adler32(libdeflate_adler32(1, hdr, hlen), data, len);

	out[0] = 0x78;		/* deflate, 32 KiB window */
	out[1] = 0x01;		/* no dictionary, (0x78 << 8 | 0x01) % 31 == 0 */
	do {
		size_t k = total - at < STORED_MAX ? total - at : STORED_MAX, end = at + k;

		out[n] = end == total;	/* BFINAL on the last */
		out[n + 1] = (unsigned char)k;
		out[n + 2] = (unsigned char)(k >> 8);
		out[n + 3] = (unsigned char)~k;
		out[n + 4] = (unsigned char)(~k >> 8);
		n += 5;
		if (at < hlen) {	/* the header's bytes, then the data's */
			size_t h = (end < hlen ? end : hlen) - at;

			memcpy(out + n, hdr + at, h);
			n += h;
			at += h;
		}
		memcpy(out + n, data + (at - hlen), end - at);
		n += end - at;
		at = end;
	} while (at < total);
	put_be32(out + n, adler);
	return n + 4;
}

/* A loose object: "blob N\0" and data. */
size_t loose_stored(unsigned char *out, const unsigned char *data, size_t len)
{
	char hdr[HDR_ROOM];
	size_t hlen = (size_t)snprintf(hdr, sizeof(hdr), "blob %zu", len) + 1;

	return zlib_stored(out, hdr, hlen, data, len);
}

/*
 * Where the copies of an object are looked for, in turn: its loose
 * file, each of mig's packs that holds it, then libgit2 (git's deltas,
 * packs mig does not read). One damaged copy does not end the search:
 * a pack written later, or a loose file, may hold the object whole.
 */
enum copy_at { AT_LOOSE, AT_PACKS, AT_GIT, AT_END };
struct copies {
	enum copy_at at;
	size_t pack;		/* packs_read's cursor */
};

/* The loose copy of id: 1, 0 when there is none, -1 as next_copy. */
static int read_loose(struct decoder *dc, const char *objdir, const git_oid *id, const unsigned char **body,
		      size_t *n, const char **why)
{
	char *path = store_loose_path(objdir, id);
	const unsigned char *nul;
	unsigned long long size;
	size_t got = 0;
	int rc = 1;

	mig_buf_reset(&dc->in);
	errno = 0;
	if (mig_read_file(&dc->in, path, NULL) < 0) {
		rc = errno == ENOENT ? 0 : -1;
		*why = NULL;
	} else if (libdeflate_zlib_decompress(dc->d, dc->in.buf, dc->in.len, dc->obj, dc->objcap, &got) !=
			   LIBDEFLATE_SUCCESS ||
		   !(nul = memchr(dc->obj, '\0', got < HDR_ROOM ? got : HDR_ROOM)) || memcmp(dc->obj, "blob ", 5) ||
		   sscanf((const char *)dc->obj + 5, "%llu", &size) != 1 ||
		   size != got - (size_t)(nul + 1 - dc->obj)) {
		/* "blob N\0" and at most max bytes */
		*why = "does not inflate to a blob of the right size";
		rc = -1;
	} else {
		*body = nul + 1;
		*n = (size_t)size;
	}
	free(path);
	return rc;
}

/* The copy libgit2 reads of id: 1, 0 when it has none, -1 as next_copy. */
static int read_git(struct decoder *dc, const char *objdir, const git_oid *id, size_t max,
		    const unsigned char **body, size_t *n, const char **why)
{
	git_odb_object *o = NULL;
	int rc = 1;

	if ((!dc->odb && git_odb_open(&dc->odb, objdir) < 0) || git_odb_read(&o, dc->odb, id) < 0) {
		git_error_clear();
		rc = 0;
	} else if (git_odb_object_type(o) != GIT_OBJECT_BLOB || git_odb_object_size(o) > max) {
		*why = "is not a blob of the right size";
		rc = -1;
	} else {
		*n = git_odb_object_size(o);
		memcpy(dc->obj, git_odb_object_data(o), *n);
		*body = dc->obj;
	}
	git_odb_object_free(o);
	return rc;
}

/*
 * The next copy of object id, at most max bytes, into dc->obj: 1 with
 * *body and *n; 0 when there is none at c; -1 when it is damaged
 * (*why), or could not be read (*why NULL, errno set).
 */
static int next_copy(struct decoder *dc, const char *objdir, const git_oid *id, size_t max, struct copies *c,
		     const unsigned char **body, size_t *n, const char **why)
{
	int rc;

	switch (c->at) {
	case AT_LOOSE:
		c->at = AT_PACKS;
		return read_loose(dc, objdir, id, body, n, why);
	case AT_PACKS:
		rc = dc->packs ? packs_read(dc->packs, id, &c->pack, dc->d, &dc->in, dc->obj, max, n, why) : 0;
		if (rc > 0)
			*body = dc->obj;
		else if (rc == 0)
			c->at = AT_GIT;
		return rc;
	case AT_GIT:
		c->at = AT_END;
		return read_git(dc, objdir, id, max, body, n, why);
	default:
		return 0;
	}
}

/* Is this copy of object id what its id says? */
static int id_ok(const git_oid *id, const unsigned char *body, size_t n, const char **why)
{
	git_oid oid;

	blob_oid(&oid, body, n);
	if (!git_oid_cmp(&oid, id))
		return 1;
	*why = "does not match its id";
	return 0;
}

/* What a copy must be to be taken: ok says, with *why when it is not. */
struct want {
	int (*ok)(struct decoder *dc, const git_oid *id, const unsigned char *body, size_t n, void *arg,
		  const char **why);
	void *arg;
};

/*
 * Read object id, at most max bytes, copy after copy until one is as
 * w wants: *body gets its bytes, *n their count. -1 when none is: *why
 * says what was wrong with the first (NULL: errno says why it could not
 * be read), or that there is none.
 */
static int load_object(struct decoder *dc, const char *objdir, const git_oid *id, size_t max,
		       const struct want *w, const unsigned char **body, size_t *n, const char **why)
{
	struct copies c = { AT_LOOSE, 0 };
	const char *first = "is missing";
	int failed = 0, e = 0, rc;

	if (dc->objcap < HDR_ROOM + max) {
		dc->objcap = HDR_ROOM + max;
		dc->obj = mig_xrealloc(dc->obj, dc->objcap);
	}
	while (c.at != AT_END) {
		if ((rc = next_copy(dc, objdir, id, max, &c, body, n, why)) == 0)
			continue;
		if (rc > 0 && w->ok(dc, id, *body, *n, w->arg, why)) {
			errno = 0;
			return 0;
		}
		if (!failed++) {
			first = *why;
			e = errno;
		}
	}
	*why = first;
	errno = e;
	return -1;
}

/* A copy that matches its id. */
static int object_ok(struct decoder *dc, const git_oid *id, const unsigned char *body, size_t n, void *arg,
		     const char **why)
{
	(void)dc;
	(void)arg;
	return id_ok(id, body, n, why);
}

/* What load_chunk wants of a copy. */
struct chunk_want {
	int version;
	const XXH128_hash_t *h;
	unsigned char *data;
	size_t len;
};

/*
 * A copy that is its chunk (decompressed into data), and matches its
 * id, or the hash when one is given.
 */
static int chunk_ok(struct decoder *dc, const git_oid *id, const unsigned char *body, size_t n, void *arg,
		    const char **why)
{
	struct chunk_want *c = arg;

	if (!c->h && !id_ok(id, body, n, why))
		return 0;
	if (n == c->len) {
		memcpy(c->data, body, n);
	} else if (c->version < 2 || ZSTD_getFrameContentSize(body, n) != c->len ||
		   ZSTD_decompressDCtx(dc->z, c->data, c->len, body, n) != c->len) {
		/* shorter than its chunk: a zstd frame of exactly len bytes */
		*why = c->version < 2 ? "is not a blob of the right size" : "does not decompress to its chunk";
		return 0;
	}
	if (c->h && hash_cmp(XXH3_128bits(c->data, c->len), *c->h)) {
		*why = "does not match the manifest";
		return 0;
	}
	return 1;
}

int load_chunk(struct decoder *dc, const char *objdir, int version, const git_oid *id, const XXH128_hash_t *h,
	       unsigned char *data, size_t len, const char **why)
{
	struct chunk_want c = { version, h, data, len };
	const struct want w = { chunk_ok, &c };
	const unsigned char *body;
	size_t n;

	return load_object(dc, objdir, id, len, &w, &body, &n, why);
}

/* Read blob id, len bytes, into data, checked against its id. */
static int decode_blob(struct decoder *dc, const char *objdir, const struct manifest *m, size_t i,
		       const git_oid *id, const char *what, unsigned char *data, size_t len, struct mig_err *err)
{
	const char *why = NULL;

	if (load_chunk(dc, objdir, m->version, id, NULL, data, len, &why) == 0)
		return 0;
	if (!why) {
		char *path = store_loose_path(objdir, id);
		int rc = mig_err_errno(err, MIG_EENV, "cannot read '%s'", path);

		free(path);
		return rc;
	}
	return damaged_object(err, m, i, id, what, why);
}

/* Apply a delta blob (DELTA_MAGIC, then offset, length, bytes, ...) to data. */
int apply_delta(unsigned char *data, size_t len, const unsigned char *d, size_t n)
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

static const struct want object_only = { object_ok, NULL };

/*
 * Read chunk i into buf + HDR_ROOM: its blob, or its base with its delta
 * applied, checked against their ids and the manifest's hash.
 */
int decode(struct decoder *dc, const char *objdir, const struct manifest *m, size_t i,
		  unsigned char *buf, struct mig_err *err)
{
	const struct chunk_ref *c = &m->c[i];
	const size_t len = chunk_len(m, i);
	unsigned char *data = buf + HDR_ROOM;
	int rc;

	if (!c->delta) {
		rc = decode_blob(dc, objdir, m, i, &c->oid, "object", data, len, err);
	} else if ((rc = decode_blob(dc, objdir, m, i, &c->base, "base", data, len, err)) == 0) {
		const unsigned char *d;
		size_t n;
		const char *why = NULL;

		if (load_object(dc, objdir, &c->oid, len, &object_only, &d, &n, &why) < 0) {
			rc = why ? damaged(err, m, i, why) :
				   mig_err_errno(err, MIG_EENV, "cannot read a chunk of snapshot %.12s", m->id);
		} else if (m->version >= 2 &&
			   (n < sizeof(DELTA_MAGIC) - 1 || memcmp(d, DELTA_MAGIC, sizeof(DELTA_MAGIC) - 1))) {
			/* a zstd frame of a delta, never longer than a quarter chunk and its magic */
			size_t cap = len / DELTA_MAX + sizeof(DELTA_MAGIC), got;

			if (dc->deltacap < cap)
				dc->delta = mig_xrealloc(dc->delta, dc->deltacap = cap);
			got = ZSTD_decompressDCtx(dc->z, dc->delta, cap, d, n);
			if (ZSTD_isError(got) || apply_delta(data, len, dc->delta, got) < 0)
				rc = damaged(err, m, i, "is no delta");
		} else if (apply_delta(data, len, d, n) < 0) {
			rc = damaged(err, m, i, "is no delta");
		}
	}
	if (rc == 0 && hash_cmp(XXH3_128bits(data, len), c->h))
		rc = damaged(err, m, i, "does not match the manifest");
	return rc;
}

int decoder_init(struct decoder *dc, const struct packs *packs)
{
	memset(dc, 0, sizeof(*dc));
	dc->packs = packs;
	dc->d = libdeflate_alloc_decompressor();
	dc->z = ZSTD_createDCtx();
	return dc->d && dc->z ? 0 : -1;
}

void decoder_release(struct decoder *dc)
{
	libdeflate_free_decompressor(dc->d);
	ZSTD_freeDCtx(dc->z);
	free(dc->obj);
	free(dc->delta);
	git_odb_free(dc->odb);
	mig_buf_release(&dc->in);
}

/* Check the start of an image: SQLite's magic and a page size. */
int image_header(const unsigned char *p, size_t len, uint32_t *page_size)
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
