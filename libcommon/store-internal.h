#ifndef MIG_STORE_INTERNAL_H
#define MIG_STORE_INTERNAL_H

/*
 * What the store's own files (store.c, store-*.c) share, and nothing
 * outside them includes: the repository, the snapshot format, the
 * worker queue. Everyone else asks store.h and snapshot.h, and never
 * sees a git_repository.
 */
#include <stddef.h>
#include <stdint.h>
#include <git2.h>
#include <xxhash.h>
#include <zstd.h>

#include "err.h"
#include "report.h"
#include "snapshot.h"
#include "store.h"
#include "util.h"

#define JOURNAL_REF "refs/mig/journal"
#define JOURNAL_BRANCH "refs/heads/journal"	/* follows JOURNAL_REF, for HEAD (store.c) */
#define SNAP_REFS "refs/mig/snapshots/"
#define CHUNK_SIZE (512 * 1024)
#define MAX_CHUNK_SIZE (4096 * 1024)	/* MIG_CHUNK_SIZE's largest */
#define HDR_ROOM 32		/* room before a chunk for "blob N\0" */
#define MAX_THREADS 8

struct mig_store {
	git_repository *repo;
	char *path;
	int lock_fd;
};

/*
 * Have libgit2 fsync what it writes: each object file and the directory
 * that names it, packs and their index, each ref and its directory
 * (GIT_OPT_ENABLE_FSYNC_GITDIR, libgit2 1.5: its loose backend, the
 * indexer and refdb_fs; not a directory it has just made, nor a ref it
 * deletes). Called when the store is opened, after mig_git_need.
 */
int store_git_fsync(struct mig_err *err);

/*
 * Have libgit2 check (1, its default) or not (0) that the objects a tree
 * names exist when it is built: a snapshot's chunks are known to, and
 * checking costs an open and an inflate each.
 */
void store_git_strict(int on);

/* Who commits: $USER (or "mig") at this host, now. */
int store_signature(git_signature **out, struct mig_err *err);

/*
 * Make what the store wrote durable (store.c): the objects, packs and
 * refs written so far, and the directories that name them.
 */
int store_sync(struct mig_store *s, struct mig_err *err);

/* What libgit2 said last. */
const char *store_git_why(void);

/* The path of a loose object under objdir (freed by the caller); is it there? */
char *store_loose_path(const char *objdir, const git_oid *oid);
int store_loose_exists(const char *objdir, const git_oid *oid);

/* nftw's callback: remove what it is handed, depth first. */
struct stat;
struct FTW;
int store_remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw);

/* ---- the worker queue (store-work.c) ---- */

/*
 * The store's worker threads: one per core (or MIG_THREADS), at most MAX_THREADS, each
 * with state of its own (a compressor, a decompressor), running jobs
 * from one bounded queue in the order they were queued. Taking a
 * snapshot queues each chunk to store as the image streams in; reading
 * one queues the chunks ahead of the one SQLite asks for.
 */
struct store_work;
struct store_work_ops {
	void *(*init)(void *data);	/* a thread's own state */
	void (*fini)(void *state);
	void (*run)(void *data, void *state, void *job);
};

size_t store_nthreads(void);

/* Start the threads; MIG_EENV when not one could be started. */
int store_work_start(struct store_work **out, const struct store_work_ops *ops, void *data, size_t depth,
		     struct mig_err *err);
/* Queue a job, waiting while depth jobs wait for a thread. */
void store_work_push(struct store_work *w, void *job);
/* Run every job queued, then stop the threads and free w (NULL is fine). */
void store_work_finish(struct store_work *w);

/* ---- the manifest (store-manifest.c) ---- */

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

/*
 * Manifest versions. 1: every chunk blob holds its bytes, every delta
 * blob a delta. 2 (what mig writes now): a chunk blob shorter than its
 * chunk is a zstd frame of it, a delta blob that does not start with
 * the delta's magic a zstd frame of a delta. Blobs of version 1 stay
 * valid in version 2, so a new snapshot shares an old one's chunks.
 */
#define MANIFEST_VERSION 2

struct manifest {
	char id[41];		/* the snapshot's */
	int version;
	uint32_t page_size;
	uint64_t size;
	size_t chunk_size;
	char checksum[80];
	struct chunk_ref *c;
	size_t n;
};

int hash_cmp(XXH128_hash_t a, XXH128_hash_t b);
/* The chunk size to take snapshots with: MIG_CHUNK_SIZE KiB, or CHUNK_SIZE. */
size_t chunk_size(void);
/* How many bytes chunk i of m holds: chunk_size, but for the last. */
size_t chunk_len(const struct manifest *m, size_t i);
/* The image checksum: XXH3-128 of the chunks' XXH3-128s, in order. */
void image_checksum(char out[80], const struct chunk_ref *c, size_t n);
void manifest_format(struct mig_buf *b, const struct manifest *m);
/*
 * Parse a manifest as mig writes them, and only that (m->id names the
 * snapshot in the message). On error nothing is left to release.
 */
int manifest_parse(struct manifest *m, const char *text, size_t len, struct mig_err *err);
/*
 * Load snapshot id's manifest, and check its tree's chunks against it,
 * so what the manifest says is what git sees.
 */
int manifest_load(struct manifest *m, struct mig_store *s, const char *id, struct mig_err *err);
/* The newest snapshot's manifest: 0, or < 0 when there is none to be had. */
int manifest_newest(struct mig_store *s, struct manifest *m);
void manifest_release(struct manifest *m);

/* ---- chunks as they are stored (store-chunk.c) ---- */

#define DELTA_MAX 4		/* a delta is kept when under 1/4 of its chunk */

uint32_t get_be32(const unsigned char *p);
/*
 * The sectors in which data differs from base, as a delta blob into
 * out; 0 when it would not fit in cap.
 */
size_t make_delta(const unsigned char *base, const unsigned char *data, size_t len, unsigned char *out,
		  size_t cap);
/* Apply a delta blob to data (len bytes): -1 when it is no delta that fits. */
int apply_delta(unsigned char *data, size_t len, const unsigned char *d, size_t n);
/* The size an image's SQLite header gives it, or 0 when it does not say. */
uint64_t header_size(const unsigned char *p, size_t len);
/* Check the start of an image: SQLite's magic and a page size. */
int image_header(const unsigned char *p, size_t len, uint32_t *page_size);
/* Is snapshot m's image as long as its first chunk's header says? */
int image_whole(const struct manifest *m, const unsigned char *first, struct mig_err *err);
/* Write a compressed object to its loose path: a temporary file, renamed. */
int write_loose(const char *objdir, const git_oid *oid, const void *z, size_t n, struct mig_err *err);

/* git's id of a blob of these bytes (nettle's SHA-1: several times libgit2's). */
void blob_oid(git_oid *out, const void *data, size_t len);

/*
 * A loose object of a blob of these bytes, into out (loose_bound(len)
 * bytes): zlib with stored blocks, since what mig stores there is a
 * zstd frame or bytes zstd could not shrink. Returns its length.
 */
size_t loose_bound(size_t len);
size_t loose_stored(unsigned char *out, const unsigned char *data, size_t len);
/* zlib of stored blocks of hdr (hlen bytes, NULL when 0) and data: loose_bound(hlen + len) is room. */
size_t zlib_stored(unsigned char *out, const char *hdr, size_t hlen, const unsigned char *data, size_t len);

/* ---- packs mig writes and reads itself (store-pack.c) ---- */

/*
 * A pack being written, by any number of threads: packw_add appends an
 * entry made by pack_entry_make (pack_entry_bound(len) bytes of room)
 * unless one of that id is in already (*added says which);
 * packw_finish gives it its count and checksum, syncs it, writes its
 * index, synced too, and renames both into objects/pack (a pack of no
 * entries is removed instead); packw_free removes what was not
 * finished. The directory is the caller's to sync.
 */
struct packw;
int packw_start(struct packw **out, const char *objdir, struct mig_err *err);
size_t pack_entry_bound(size_t len);
size_t pack_entry_make(unsigned char *out, const unsigned char *data, size_t len);
int packw_add(struct packw *p, const git_oid *oid, const unsigned char *entry, size_t n, int *added,
	      struct mig_err *err);
int packw_has(struct packw *p, const git_oid *oid);
size_t packw_count(const struct packw *p);
/* The bytes of a finished pack and its index. */
uint64_t packw_bytes(const struct packw *p);
int packw_finish(struct packw *p, struct mig_err *err);
void packw_free(struct packw *p);

/*
 * The packs in objdir/pack as they were when opened: indexes mapped,
 * each pack open once, read with pread only. Read-only, so one set
 * serves every thread of an operation: it holds a descriptor a pack,
 * however many threads read. One mig cannot read is left out (libgit2
 * reads it); one that disagrees with its index (its header's count,
 * its trailing checksum) is damaged: only its index is kept, to say so.
 * packs_read reads blob oid into out from the first pack, from *from
 * on, that holds it, and moves *from past that pack: 1; -1 with *why
 * when that copy is damaged (call again: another pack may hold it
 * whole); 0 when no pack left holds a copy mig reads (git's deltas are
 * libgit2's). Called first with *from 0, it also says -1 when no pack
 * mig reads holds oid but a damaged one does, or one that could not be
 * opened may (*why lives as long as ps). packs_has and the
 * functions for prune see only the packs mig reads (libgit2 does not
 * read a damaged one either); packs_damage says why oid is in a
 * damaged pack, or NULL when it is in none.
 */
struct packs;
struct libdeflate_decompressor;
struct packs *packs_open(const char *objdir);
void packs_close(struct packs *ps);
int packs_has(const struct packs *ps, const git_oid *oid);
const char *packs_damage(const struct packs *ps, const git_oid *oid);
int packs_read(const struct packs *ps, const git_oid *oid, size_t *from, struct libdeflate_decompressor *d,
	       struct mig_buf *in, unsigned char *out, size_t max, size_t *n, const char **why);
/* For prune: pack k's name ("pack-HEX"), its object count, which pack and entry holds oid. */
size_t packs_count(const struct packs *ps);
const char *packs_name(const struct packs *ps, size_t k);
uint32_t packs_objects(const struct packs *ps, size_t k);
int packs_which(const struct packs *ps, const git_oid *oid, size_t *k, uint32_t *at);
void packs_oid(const struct packs *ps, size_t k, uint32_t at, git_oid *oid);
/*
 * Does pack k hold whole blobs only, as mig writes them? Not one git gc
 * wrote: that holds commits and trees too, and git deltas.
 */
int packs_plain(const struct packs *ps, size_t k);
/*
 * Did mig write pack k, as packw writes them: a snapshot's chunks, or
 * what prune kept of such packs? Not a pack of revision bodies libgit2
 * wrote (mig_store_put_all), nor one git wrote: their entries are
 * compressed, packw's never are.
 */
int packs_own(const struct packs *ps, size_t k);
/*
 * Copy entry at of pack k, as it is, into w: MIG_EENV naming the pack
 * when the entry does not match the CRC-32 its index records.
 */
int packs_copy(const struct packs *ps, size_t k, uint32_t at, struct packw *w, struct mig_buf *in,
	       struct mig_err *err);

/* What reads chunks back: one per thread, all of an operation's reading its one set of packs. */
struct decoder {
	struct libdeflate_decompressor *d;
	ZSTD_DCtx *z;
	const struct packs *packs;	/* the operation's, for objects that are not loose; NULL: none */
	git_odb *odb;		/* for git's deltas (in packs git gc wrote) */
	struct mig_buf in;
	unsigned char *obj;	/* an object inflated: "blob N\0", then its bytes */
	size_t objcap;
	unsigned char *delta;	/* a delta blob's delta, decompressed */
	size_t deltacap;
};
/* packs is borrowed: the caller's to close after every decoder that reads it is released. */
int decoder_init(struct decoder *dc, const struct packs *packs);
void decoder_release(struct decoder *dc);
/*
 * Read chunk i of m into buf + HDR_ROOM: its blob, or its base with its
 * delta applied, checked against their ids and the manifest's hash.
 */
int decode(struct decoder *dc, const char *objdir, const struct manifest *m, size_t i, unsigned char *buf,
	   struct mig_err *err);
/*
 * Read the chunk blob id of len bytes into data, as version version of
 * the manifest allows, checked against its id, or when h is given
 * against that XXH3-128 of its bytes instead (a twentieth of the cost):
 * 0, or -1 when it is missing or damaged (why names which, when not
 * NULL).
 */
int load_chunk(struct decoder *dc, const char *objdir, int version, const git_oid *id, const XXH128_hash_t *h,
	       unsigned char *data, size_t len, const char **why);
int damaged(struct mig_err *err, const struct manifest *m, size_t i, const char *why);

/* ---- taking and reading snapshots ---- */

/*
 * A snapshot being taken (store-snapshot-take.c): chunks handed to
 * taker_chunk, by index, are stored by the workers; taker_finish waits
 * for them and gives m (m->n chunks) their refs; commit_snapshot then
 * writes the snapshot. prev, when given, is the newest snapshot's
 * manifest, whose chunks need not be stored again.
 */
struct taker;
struct taker *taker_start(struct mig_store *s, const struct manifest *prev, size_t cs, int progress,
			  const char *what);
int taker_chunk(void *t, uint64_t index, const unsigned char *buf, size_t len);
unsigned char *taker_buffer(void *t);
void taker_progress(void *t, uint64_t done, uint64_t total);
/* Frees t; *stored gets the bytes written. */
int taker_finish(struct taker *t, struct manifest *m, uint64_t *stored, struct mig_err *err);
int commit_snapshot(struct mig_store *s, struct manifest *m, const char *database,
		    const struct mig_snapshot_opts *o, uint64_t stored, char id[41], struct mig_err *err);

/*
 * Reading a snapshot's chunks back (store-snapshot-read.c), in order,
 * decoded ahead by the workers: all of them, or those want[i] names;
 * reader_get gives chunk i, valid until the next call.
 */
struct reader;
int reader_start(struct reader **out, const struct manifest *m, struct mig_store *s, const unsigned char *want,
		 int progress, const char *what, struct mig_err *err);
int reader_get(struct reader *r, size_t i, const unsigned char **out, struct mig_err *err);
void reader_stop(struct reader *r);

/* What a snapshot's commit message says (store-snapshot-list.c). */
void info_parse(struct mig_snapshot_info *in, const char *msg, long long commit_time);

#endif
