/*
 * Packs, written and read by mig without libgit2 (git's pack format 2
 * and its index version 2, Documentation/gitformat-pack.txt). A
 * snapshot that stores many new chunks writes them into one pack
 * instead of a loose file each: every loose object is a file created
 * in a fan-out directory, and on ext4 finding an inode for it cost more
 * than the zstd frames of a second snapshot's deltas. What mig packs is
 * whole blobs (zstd frames, or bytes zstd could not shrink), each a
 * zlib stream of stored blocks, as its loose objects are, so packing
 * costs a copy; mig makes no git deltas.
 *
 * Reading: the index is mapped, an object found by its id, and a whole
 * object read with one pread and inflated with libdeflate. An object
 * stored as a git delta (in a pack git gc wrote) is left to libgit2.
 * A command opens the packs once, and all its threads read them: a
 * descriptor a pack. A pack is read only when it agrees with its
 * index, as git and libgit2 check when they open one: its
 * header's count, and its trailing SHA-1, which the index records.
 * Hashing the whole pack again would cost a read of all of it; every
 * object read is checked against its id anyway.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>
#include <nettle/sha1.h>

#include "store-internal.h"

#define PACK_HDR 12		/* "PACK", version, object count */
#define IDX_HDR 8		/* "\377tOc", version */
#define OBJ_BLOB 3
#define OBJ_OFS_DELTA 6
#define OBJ_REF_DELTA 7

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* ---- writing ---- */

struct pack_entry {
	git_oid oid;
	uint64_t off;
	uint32_t crc;
};

struct packw {
	pthread_mutex_t mu;
	char *dir;		/* objects/pack */
	char *tmp;		/* the pack as it is written */
	int fd;
	uint64_t off;		/* where the next entry goes */
	struct pack_entry *e;
	size_t n, alloc;
	size_t *slot;		/* an open-addressed set of entries, by id: index + 1, 0 when free */
	size_t nslot;
	int failed;		/* errno of a write that failed */
	uint64_t bytes;		/* of the pack and its index, once finished */
};

size_t pack_entry_bound(size_t len)
{
	return 10 + loose_bound(len);
}

/* An entry's header: its type and size, seven bits a byte, low bits first. */
static size_t entry_header(unsigned char *out, int type, size_t len)
{
	size_t n = 0;

	out[n] = (unsigned char)(type << 4 | (len & 15));
	len >>= 4;
	while (len) {
		out[n++] |= 0x80;
		out[n] = len & 127;
		len >>= 7;
	}
	return n + 1;
}

size_t pack_entry_make(unsigned char *out, const unsigned char *data, size_t len)
{
	size_t h = entry_header(out, OBJ_BLOB, len);

	return h + zlib_stored(out + h, NULL, 0, data, len);
}

int packw_start(struct packw **out, const char *objdir, struct mig_err *err)
{
	struct packw *p = mig_xcalloc(1, sizeof(*p));
	unsigned char hdr[PACK_HDR] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0 };

	pthread_mutex_init(&p->mu, NULL);
	p->dir = mig_path_join(objdir, "pack");
	p->tmp = mig_xasprintf("%s/tmp_pack_XXXXXX", p->dir);
	p->fd = -1;
	*out = p;
	if (mkdir(p->dir, 0700) < 0 && errno != EEXIST)
		return mig_err_errno(err, MIG_EENV, "cannot create '%s'", p->dir);
	if ((p->fd = mkostemp(p->tmp, O_CLOEXEC)) < 0)
		return mig_err_errno(err, MIG_EENV, "cannot write to the store at '%s'", p->tmp);
	if (mig_write_all(p->fd, hdr, sizeof(hdr)) < 0)
		return mig_err_errno(err, MIG_EENV, "cannot write '%s'", p->tmp);
	p->off = PACK_HDR;
	return 0;
}

static size_t slot_of(const git_oid *oid, size_t nslot)
{
	size_t h;

	memcpy(&h, oid->id, sizeof(h));
	return h & (nslot - 1);
}

/* Entry index + 1 of oid, or where it would go: *at. Under the lock. */
static size_t find_slot(const struct packw *p, const git_oid *oid, size_t *at)
{
	size_t i = slot_of(oid, p->nslot);

	while (p->slot[i] && git_oid_cmp(&p->e[p->slot[i] - 1].oid, oid))
		i = (i + 1) & (p->nslot - 1);
	*at = i;
	return p->slot[i];
}

static void grow_slots(struct packw *p)
{
	size_t i, at;

	free(p->slot);
	p->nslot = p->nslot ? p->nslot * 2 : 1024;
	p->slot = mig_xcalloc(p->nslot, sizeof(*p->slot));
	for (i = 0; i < p->n; i++) {
		find_slot(p, &p->e[i].oid, &at);
		p->slot[at] = i + 1;
	}
}

int packw_has(struct packw *p, const git_oid *oid)
{
	size_t at;
	int r;

	pthread_mutex_lock(&p->mu);
	r = p->nslot && find_slot(p, oid, &at);
	pthread_mutex_unlock(&p->mu);
	return r;
}

int packw_add(struct packw *p, const git_oid *oid, const unsigned char *entry, size_t n, int *added,
	      struct mig_err *err)
{
	uint32_t crc = libdeflate_crc32(0, entry, n);
	size_t at;
	int rc = 0;

	*added = 0;
	pthread_mutex_lock(&p->mu);
	if (p->n * 2 >= p->nslot)
		grow_slots(p);
	if (p->failed) {
		errno = p->failed;
		rc = -1;
	} else if (!find_slot(p, oid, &at)) {
		if (mig_write_all(p->fd, entry, n) < 0) {
			p->failed = errno ? errno : EIO;
			rc = -1;
		} else {
			MIG_GROW(p->e, p->n + 1, p->alloc);
			p->e[p->n] = (struct pack_entry){ *oid, p->off, crc };
			p->slot[at] = ++p->n;
			p->off += n;
			*added = 1;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return rc < 0 ? mig_err_errno(err, MIG_EENV, "cannot write '%s'", p->tmp) : 0;
}

size_t packw_count(const struct packw *p)
{
	return p->n;
}

uint64_t packw_bytes(const struct packw *p)
{
	return p->bytes;
}

static int by_oid(const void *a, const void *b)
{
	return git_oid_cmp(&((const struct pack_entry *)a)->oid, &((const struct pack_entry *)b)->oid);
}

/* The pack's SHA-1, over what it holds so far: read back, as the count went in last. */
static int pack_digest(int fd, uint64_t len, unsigned char out[GIT_OID_RAWSZ])
{
	enum { BLOCK = 1 << 20 };
	unsigned char *buf = mig_xmalloc(BLOCK);
	struct sha1_ctx c;
	uint64_t at = 0;
	int rc = 0;

	sha1_init(&c);
	while (at < len) {
		ssize_t got = pread(fd, buf, len - at < BLOCK ? (size_t)(len - at) : BLOCK, (off_t)at);

		if (got <= 0) {
			errno = got < 0 ? errno : EIO;
			rc = -1;
			break;
		}
		sha1_update(&c, (size_t)got, buf);
		at += (uint64_t)got;
	}
	sha1_digest(&c, GIT_OID_RAWSZ, out);
	free(buf);
	return rc;
}

/* The index of the entries (sorted by id) of the pack whose SHA-1 is sum, into b. */
static void index_format(struct mig_buf *b, const struct pack_entry *e, size_t n,
			 const unsigned char sum[GIT_OID_RAWSZ])
{
	static const unsigned char hdr[IDX_HDR] = { 0xff, 't', 'O', 'c', 0, 0, 0, 2 };
	unsigned char be[8];
	struct sha1_ctx c;
	uint32_t large = 0;
	size_t i, k = 0;

	mig_buf_add(b, hdr, sizeof(hdr));
	for (i = 0; i < 256; i++) {
		while (k < n && e[k].oid.id[0] <= i)
			k++;
		put_be32(be, (uint32_t)k);
		mig_buf_add(b, be, 4);
	}
	for (i = 0; i < n; i++)
		mig_buf_add(b, e[i].oid.id, GIT_OID_RAWSZ);
	for (i = 0; i < n; i++) {
		put_be32(be, e[i].crc);
		mig_buf_add(b, be, 4);
	}
	for (i = 0; i < n; i++) {
		/* an offset past 2 GiB is the index of an 8-byte one in the table after */
		put_be32(be, e[i].off < 0x80000000u ? (uint32_t)e[i].off : 0x80000000u | large++);
		mig_buf_add(b, be, 4);
	}
	for (i = 0; i < n; i++) {
		if (e[i].off < 0x80000000u)
			continue;
		put_be32(be, (uint32_t)(e[i].off >> 32));
		put_be32(be + 4, (uint32_t)e[i].off);
		mig_buf_add(b, be, 8);
	}
	mig_buf_add(b, sum, GIT_OID_RAWSZ);
	sha1_init(&c);
	sha1_update(&c, b->len, (const uint8_t *)b->buf);
	mig_buf_grow(b, GIT_OID_RAWSZ);
	sha1_digest(&c, GIT_OID_RAWSZ, (uint8_t *)b->buf + b->len);
	b->len += GIT_OID_RAWSZ;
}

/* Write the index beside the pack as a temporary file, synced: its name into *tmp. */
static int index_write(struct packw *p, const unsigned char sum[GIT_OID_RAWSZ], char **tmp, struct mig_err *err)
{
	struct mig_buf b = MIG_BUF_INIT;
	int fd, rc = 0;

	*tmp = mig_xasprintf("%s/tmp_idx_XXXXXX", p->dir);
	qsort(p->e, p->n, sizeof(*p->e), by_oid);
	index_format(&b, p->e, p->n, sum);
	if ((fd = mkostemp(*tmp, O_CLOEXEC)) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write to the store at '%s'", *tmp);
	else if (mig_write_all(fd, b.buf, b.len) < 0 || fsync(fd) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", *tmp);
	p->bytes = p->off + GIT_OID_RAWSZ + b.len;
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", *tmp);
	if (rc < 0 && fd >= 0)
		unlink(*tmp);
	mig_buf_release(&b);
	return rc;
}

/*
 * The count, the trailing SHA-1, a sync, the index, and both renamed
 * into place: the pack first, since git and libgit2 find a pack by its
 * index. A crash before the caller syncs the directory leaves at most
 * a whole pack that nothing names yet.
 */
int packw_finish(struct packw *p, struct mig_err *err)
{
	unsigned char count[4], sum[GIT_OID_RAWSZ];
	char hex[GIT_OID_HEXSZ + 1], *idx = NULL, *name = NULL;
	git_oid oid;
	int rc = 0;

	if (!p->n) {
		unlink(p->tmp);
		return 0;
	}
	put_be32(count, (uint32_t)p->n);
	if (p->failed) {
		errno = p->failed;
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", p->tmp);
	} else if (pwrite(p->fd, count, 4, 8) != 4 || pack_digest(p->fd, p->off, sum) < 0 ||
		   mig_write_all(p->fd, sum, sizeof(sum)) < 0 || fsync(p->fd) < 0) {
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", p->tmp);
	}
	if (rc == 0 && (rc = index_write(p, sum, &idx, err)) == 0) {
		memcpy(oid.id, sum, sizeof(sum));
		git_oid_tostr(hex, sizeof(hex), &oid);
		name = mig_xasprintf("%s/pack-%s.pack", p->dir, hex);
		if (rename(p->tmp, name) < 0) {
			rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", name);
			unlink(idx);
		} else {
			free(p->tmp);
			p->tmp = NULL;
			strcpy(name + strlen(name) - 4, "idx");
			if (rename(idx, name) < 0) {
				rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", name);
				unlink(idx);
			}
		}
	}
	free(idx);
	free(name);
	return rc;
}

void packw_free(struct packw *p)
{
	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	if (p->tmp && p->fd >= 0)
		unlink(p->tmp);	/* not finished: nothing names it */
	pthread_mutex_destroy(&p->mu);
	free(p->tmp);
	free(p->dir);
	free(p->e);
	free(p->slot);
	free(p);
}

/* ---- reading ---- */

/*
 * A pack as packs_open found it: its index mapped, its pack open (one
 * descriptor, read with pread: no offset is shared), or, when the pack
 * disagrees with its index, only the index, to say so of what it holds.
 */
struct pack {
	char *name;		/* "pack-HEX", without ".pack" or ".idx" */
	char *damage;		/* a damaged pack's: why none of its objects can be read */
	unsigned char *map;	/* the index */
	size_t maplen;
	uint32_t n;
	const unsigned char *fanout, *oids, *crcs, *off32, *off64;
	size_t n64;
	uint64_t *ends;		/* the entries' offsets, sorted, then where they end */
	uint64_t size;		/* of the pack, trailer included */
	int fd;
};

struct packs {
	char *dir;		/* objects/pack, to name a pack in a message */
	struct pack *v;		/* those mig reads */
	size_t n;
	struct pack *bad;	/* damaged: their indexes only */
	size_t nbad;
	int failed;	/* errno of a pack that could not be opened for want of files or memory */
};

static void pack_close(struct pack *p)
{
	if (p->map)
		munmap(p->map, p->maplen);
	if (p->fd >= 0)
		close(p->fd);
	free(p->ends);
	free(p->name);
	free(p->damage);
	p->map = NULL;
	p->fd = -1;
	p->ends = NULL;
	p->name = p->damage = NULL;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t entry_offset(const struct pack *p, uint32_t i)
{
	uint32_t o = get_be32(p->off32 + 4 * (size_t)i);

	if (!(o & 0x80000000u))
		return o;
	o &= 0x7fffffffu;
	if (o >= p->n64)
		return UINT64_MAX;
	return (uint64_t)get_be32(p->off64 + 8 * (size_t)o) << 32 | get_be32(p->off64 + 8 * (size_t)o + 4);
}

/* Map the index idx: -1 when it is not what git writes (version 2). */
static int index_map(struct pack *p, int dfd, const char *idx)
{
	int fd = openat(dfd, idx, O_RDONLY | O_CLOEXEC), rc = -1;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < IDX_HDR + 256 * 4 + 2 * GIT_OID_RAWSZ)
		goto out;
	p->maplen = (size_t)st.st_size;
	if ((p->map = mmap(NULL, p->maplen, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		p->map = NULL;
		goto out;
	}
	if (memcmp(p->map, "\377tOc\0\0\0\2", IDX_HDR))
		goto out;
	p->fanout = p->map + IDX_HDR;
	p->n = get_be32(p->fanout + 255 * 4);
	p->oids = p->fanout + 256 * 4;
	p->crcs = p->oids + (size_t)p->n * GIT_OID_RAWSZ;
	p->off32 = p->crcs + (size_t)p->n * 4;
	p->off64 = p->off32 + (size_t)p->n * 4;
	if (p->maplen < (size_t)(p->off64 - p->map) + 2 * GIT_OID_RAWSZ)
		goto out;
	p->n64 = (p->maplen - (size_t)(p->off64 - p->map) - 2 * GIT_OID_RAWSZ) / 8;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * Does the open pack agree with its index: git's header ("PACK",
 * version 2 or 3, as git reads them) counting the index's objects, and
 * the trailing SHA-1 the index records (the one before its own)? NULL,
 * or what is wrong; -1 in *rc when the pack could not be read.
 */
static char *pack_disagrees(const struct pack *p, int *rc)
{
	unsigned char hdr[PACK_HDR], sum[GIT_OID_RAWSZ];
	uint32_t version;

	*rc = 0;
	if (p->size < PACK_HDR + GIT_OID_RAWSZ)
		return mig_xstrdup("it is too short for a pack");
	if (pread(p->fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    pread(p->fd, sum, sizeof(sum), (off_t)(p->size - GIT_OID_RAWSZ)) != (ssize_t)sizeof(sum)) {
		errno = errno ? errno : EIO;
		*rc = -1;
		return NULL;
	}
	version = get_be32(hdr + 4);
	if (memcmp(hdr, "PACK", 4) || (version != 2 && version != 3))
		return mig_xstrdup("it does not start with a pack header of version 2 or 3");
	if (get_be32(hdr + 8) != p->n)
		return mig_xasprintf("its header counts %u objects, its index %u", get_be32(hdr + 8), p->n);
	if (memcmp(sum, p->map + p->maplen - 2 * GIT_OID_RAWSZ, GIT_OID_RAWSZ))
		return mig_xstrdup("its checksum is not the one its index records");
	return NULL;
}

/*
 * Map dir/name.idx and open its pack: 0; 1 when the pack disagrees with
 * its index (damaged: p->damage says why, only the index is kept); -1,
 * errno set, when either cannot be opened or is not what git writes.
 */
static int pack_open(struct pack *p, int dfd, const char *dir, const char *name)
{
	char *idx = mig_xasprintf("%s.idx", name), *pk = mig_xasprintf("%s.pack", name), *fault = NULL;
	struct stat st;
	uint32_t i;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (index_map(p, dfd, idx) < 0)
		goto out;
	if ((p->fd = openat(dfd, pk, O_RDONLY | O_CLOEXEC)) < 0 || fstat(p->fd, &st) < 0)
		goto out;
	p->size = (uint64_t)st.st_size;
	errno = 0;
	if ((fault = pack_disagrees(p, &rc)) == NULL && rc < 0)
		goto out;
	if (fault) {
		p->damage = mig_xasprintf("is in a damaged pack, '%s/%s': %s", dir, pk, fault);
		p->name = mig_xstrdup(name);
		close(p->fd);
		p->fd = -1;
		rc = 1;
		goto out;
	}
	rc = -1;	/* an entry past the end is for libgit2 to make sense of */
	p->ends = mig_xmalloc(((size_t)p->n + 1) * sizeof(*p->ends));
	for (i = 0; i < p->n; i++)
		if ((p->ends[i] = entry_offset(p, i)) >= p->size)
			goto out;
	p->ends[p->n] = p->size - GIT_OID_RAWSZ;
	qsort(p->ends, p->n, sizeof(*p->ends), u64_cmp);
	p->name = mig_xstrdup(name);
	rc = 0;
out:
	if (rc < 0) {
		int e = errno;

		pack_close(p);
		errno = e;
	}
	free(fault);
	free(idx);
	free(pk);
	return rc;
}

/* Is e an errno of a pack that could not be opened now, but may be later? */
static int for_want_of_room(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM;
}

struct packs *packs_open(const char *objdir)
{
	char *dir = mig_path_join(objdir, "pack");
	struct packs *ps = mig_xcalloc(1, sizeof(*ps));
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t alloc = 0, badalloc = 0;
	struct pack p;

	if (!d && for_want_of_room(errno))
		ps->failed = errno;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char *name;
		int rc;

		if (len < 10 || strncmp(e->d_name, "pack-", 5) || strcmp(e->d_name + len - 4, ".idx"))
			continue;
		name = mig_xstrndup(e->d_name, len - 4);
		/* one mig cannot read is left to libgit2; one it cannot open now, said when asked for */
		errno = 0;
		if ((rc = pack_open(&p, dirfd(d), dir, name)) == 0) {
			MIG_GROW(ps->v, ps->n + 1, alloc);
			ps->v[ps->n++] = p;
		} else if (rc > 0) {
			MIG_GROW(ps->bad, ps->nbad + 1, badalloc);
			ps->bad[ps->nbad++] = p;
		} else if (for_want_of_room(errno)) {
			ps->failed = errno;
		}
		free(name);
	}
	if (d)
		closedir(d);
	ps->dir = dir;
	return ps;
}

void packs_close(struct packs *ps)
{
	size_t i;

	if (!ps)
		return;
	for (i = 0; i < ps->n; i++)
		pack_close(&ps->v[i]);
	for (i = 0; i < ps->nbad; i++)
		pack_close(&ps->bad[i]);
	free(ps->v);
	free(ps->bad);
	free(ps->dir);
	free(ps);
}

/* Entry i of p that is oid: 0, or -1 when p has none. */
static int pack_find(const struct pack *p, const git_oid *oid, uint32_t *at)
{
	uint32_t lo = oid->id[0] ? get_be32(p->fanout + 4 * (size_t)(oid->id[0] - 1)) : 0;
	uint32_t hi = get_be32(p->fanout + 4 * (size_t)oid->id[0]);

	while (lo < hi && hi <= p->n) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(p->oids + (size_t)mid * GIT_OID_RAWSZ, oid->id, GIT_OID_RAWSZ);

		if (!c) {
			*at = mid;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Where the entry at off ends: where the next begins, or the trailer. */
static uint64_t entry_end(const struct pack *p, uint64_t off)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->ends[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return p->ends[lo];
}

const char *packs_damage(const struct packs *ps, const git_oid *oid)
{
	uint32_t at;
	size_t i;

	for (i = 0; ps && i < ps->nbad; i++)
		if (pack_find(&ps->bad[i], oid, &at) == 0)
			return ps->bad[i].damage;
	return NULL;
}

int packs_has(const struct packs *ps, const git_oid *oid)
{
	uint32_t at;
	size_t i;

	for (i = 0; ps && i < ps->n; i++)
		if (pack_find(&ps->v[i], oid, &at) == 0)
			return 1;
	return 0;
}

/* The header of entry at of p: its type, its size, the header's length and the whole entry's. */
static int entry_head(const struct pack *p, uint32_t at, int *type, size_t *size, size_t *hlen, size_t *len)
{
	uint64_t off = entry_offset(p, at), end = entry_end(p, off);
	unsigned char b[16];
	size_t n, i = 0, shift = 4;

	if (end <= off)
		return -1;
	*len = (size_t)(end - off);
	n = *len < sizeof(b) ? *len : sizeof(b);
	if (pread(p->fd, b, n, (off_t)off) != (ssize_t)n)
		return -1;
	*type = b[0] >> 4 & 7;
	*size = b[0] & 15;
	while (b[i] & 0x80) {
		if (++i >= n || shift > 56)
			return -1;
		*size |= (size_t)(b[i] & 127) << shift;
		shift += 7;
	}
	*hlen = i + 1;
	return 0;
}

/*
 * Entry at of p, raw, into in: its type, its size and where its data
 * starts. A blob's entry is no longer than its header and what its size
 * deflates to at worst (with room for other writers' zlib): an index
 * that says otherwise is damaged, and no gap it names is read whole.
 */
static int entry_read(const struct pack *p, uint32_t at, struct mig_buf *in, int *type, size_t *size, size_t *hlen)
{
	uint64_t off = entry_offset(p, at);
	size_t len;

	if (entry_head(p, at, type, size, hlen, &len) < 0)
		return -1;
	if (*type == OBJ_BLOB && len > pack_entry_bound(*size) + *size / 8 + 64)
		return -1;
	mig_buf_reset(in);
	mig_buf_grow(in, len);
	if (pread(p->fd, in->buf, len, (off_t)off) != (ssize_t)len)
		return -1;
	in->len = len;
	return 0;
}

/*
 * Inflate the blob at entry at of p into out (at most max bytes): 1, -1
 * with *why when the entry is damaged, 0 when it is a git delta.
 */
static int entry_inflate(const struct pack *p, uint32_t at, struct libdeflate_decompressor *d, struct mig_buf *in,
			 unsigned char *out, size_t max, size_t *n, const char **why)
{
	size_t size, hlen, len, got = 0, used = 0;
	int type;

	if (entry_head(p, at, &type, &size, &hlen, &len) < 0) {
		*why = "cannot be read from its pack";
		return -1;
	}
	if (type == OBJ_OFS_DELTA || type == OBJ_REF_DELTA)
		return 0;	/* git's delta: libgit2's to read */
	if (type != OBJ_BLOB || size > max) {
		*why = "is not a blob of the right size";
		return -1;
	}
	if (entry_read(p, at, in, &type, &size, &hlen) < 0) {
		*why = "cannot be read from its pack";
		return -1;
	}
	if (libdeflate_zlib_decompress_ex(d, in->buf + hlen, in->len - hlen, out, size, &used, &got) !=
		    LIBDEFLATE_SUCCESS || got != size) {
		*why = "does not inflate to a blob of the right size";
		return -1;
	}
	*n = size;
	return 1;
}

int packs_read(const struct packs *ps, const git_oid *oid, size_t *from, struct libdeflate_decompressor *d,
	       struct mig_buf *in, unsigned char *out, size_t max, size_t *n, const char **why)
{
	const char *damage;
	size_t i = *from;
	uint32_t at = 0;
	int rc, first = *from == 0;

	*from = SIZE_MAX;	/* no pack left to look in */
	for (; ps && i < ps->n; i++) {
		if (pack_find(&ps->v[i], oid, &at) < 0)
			continue;
		first = 0;
		if ((rc = entry_inflate(&ps->v[i], at, d, in, out, max, n, why)) != 0) {
			*from = i + 1;
			return rc;
		}
	}
	if (first && (damage = packs_damage(ps, oid))) {
		*why = damage;
		return -1;
	}
	if (first && ps && ps->failed) {
		*why = ps->failed == ENOMEM ? "may be in a pack that could not be opened: out of memory"
					    : "may be in a pack that could not be opened: too many open files";
		return -1;
	}
	return 0;
}

/* ---- what prune asks ---- */

size_t packs_count(const struct packs *ps)
{
	return ps ? ps->n : 0;
}

const char *packs_name(const struct packs *ps, size_t k)
{
	return ps->v[k].name;
}

uint32_t packs_objects(const struct packs *ps, size_t k)
{
	return ps->v[k].n;
}

int packs_which(const struct packs *ps, const git_oid *oid, size_t *k, uint32_t *at)
{
	size_t i;

	for (i = 0; ps && i < ps->n; i++) {
		if (pack_find(&ps->v[i], oid, at) == 0) {
			*k = i;
			return 0;
		}
	}
	return -1;
}

void packs_oid(const struct packs *ps, size_t k, uint32_t at, git_oid *oid)
{
	memcpy(oid->id, ps->v[k].oids + (size_t)at * GIT_OID_RAWSZ, GIT_OID_RAWSZ);
}

int packs_plain(const struct packs *ps, size_t k)
{
	const struct pack *p = &ps->v[k];
	size_t size, hlen, len;
	uint32_t i;
	int type, plain = 1;

	/* the headers tell: no entry is read whole */
	for (i = 0; i < p->n && plain; i++)
		plain = entry_head(p, i, &type, &size, &hlen, &len) == 0 && type == OBJ_BLOB;
	return plain;
}

/*
 * Was entry at of p written by packw: a blob, zlib with no compression
 * (0x78 0x01) of stored blocks (BTYPE 00), as pack_entry_make makes
 * them? libgit2 and git compress what they pack (0x78 0x9c).
 */
static int entry_own(const struct pack *p, uint32_t at)
{
	uint64_t off = entry_offset(p, at), end = entry_end(p, off);
	unsigned char b[16];
	size_t n, i = 0;

	if (end <= off)
		return 0;
	n = end - off < sizeof(b) ? (size_t)(end - off) : sizeof(b);
	if (pread(p->fd, b, n, (off_t)off) != (ssize_t)n || (b[0] >> 4 & 7) != OBJ_BLOB)
		return 0;
	while (i < n && b[i] & 0x80)
		i++;
	return i + 3 < n && b[i + 1] == 0x78 && b[i + 2] == 0x01 && (b[i + 3] & 6) == 0;
}

int packs_own(const struct packs *ps, size_t k)
{
	const struct pack *p = &ps->v[k];
	uint32_t i;
	int own = p->n > 0;

	for (i = 0; i < p->n && own; i++)
		own = entry_own(p, i);
	return own;
}

int packs_copy(const struct packs *ps, size_t k, uint32_t at, struct packw *w, struct mig_buf *in,
	       struct mig_err *err)
{
	const struct pack *p = &ps->v[k];
	size_t size, hlen;
	git_oid oid;
	int type, added;

	packs_oid(ps, k, at, &oid);
	if (entry_read(p, at, in, &type, &size, &hlen) < 0)
		return mig_err_errno(err, MIG_EENV, "cannot read '%s/%s.pack'", ps->dir, p->name);
	/* the CRC-32 the index records of each entry: damage is not carried into a new pack */
	if (libdeflate_crc32(0, in->buf, in->len) != get_be32(p->crcs + 4 * (size_t)at)) {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), &oid);
		mig_err_set(err, MIG_EENV, "pack '%s/%s.pack' is damaged: the entry of object %s does not match its CRC-32",
			    ps->dir, p->name, hex);
		mig_err_hint(err, "no pack was removed or written anew; 'mig backup --verify' names the snapshots "
				  "that use the object");
		return MIG_EENV;
	}
	return packw_add(w, &oid, (const unsigned char *)in->buf, in->len, &added, err);
}
