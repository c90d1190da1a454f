#ifndef MIG_IMAGE_H
#define MIG_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "err.h"

/*
 * A database image, streamed out of and into a live database, so it is
 * consistent whatever other connections do, and never sits whole in
 * memory or on disk. Part of the database layer: the backend the path
 * names makes and takes the image (SQLite's through its backup API,
 * sqlite-image.c); the snapshot module above it sees chunks.
 */

/*
 * Where mig_image_read sends the image: chunks of chunk_size bytes (a
 * multiple of 64 KiB), the last one shorter, each once. They come in
 * ascending order, but chunk 0 may come last (SQLite's backup API, used
 * in WAL mode, finishes it last). chunk returning < 0 stops the read;
 * the error is the consumer's own.
 */
struct mig_image_sink {
	size_t chunk_size;
	int (*chunk)(void *data, uint64_t index, const unsigned char *buf, size_t len);
	void (*progress)(void *data, uint64_t done, uint64_t total);
	void *data;
	/*
	 * Optional: a buffer of chunk_size bytes to read the next chunk
	 * into, handed back to chunk (a copy saved), or NULL.
	 */
	unsigned char *(*buffer)(void *data);
};

/*
 * A stream of bytes read in order, named for messages: read gives up
 * to len bytes, 0 at the end, or < 0 with err set.
 */
struct mig_image_stream {
	ssize_t (*read)(void *data, void *buf, size_t len, struct mig_err *err);
	void *data;
	const char *name;
};

/*
 * Can the database at path be snapshotted and restored? MIG_EENV, naming
 * it, where its backend cannot: checked before anything is created.
 */
int mig_image_check(const char *path, struct mig_err *err);

/*
 * Stream a consistent image of the database at path into sink, in one
 * read transaction (waiting up to timeout_ms for a writer): the file's
 * own bytes in rollback-journal mode, through the backup API in WAL
 * mode, so frames not yet checkpointed are in it. *page_size
 * and *size get the image's page size and length in bytes. A consumer's
 * failure is MIG_EENV with the message "consumer failed": the caller
 * knows the real one.
 */
int mig_image_read(const char *path, int timeout_ms, const struct mig_image_sink *sink,
		   uint32_t *page_size, uint64_t *size, struct mig_err *err);

/*
 * Where mig_image_write reads the image from: size bytes of pages of
 * page_size, read at any offset (mostly ascending). read returning < 0
 * with err set stops the write, and nothing of it is committed.
 * A source that can tell whether a chunk of the image (chunk_size bytes,
 * a multiple of the page size) is some given bytes (same: 1 or 0) lets
 * the write keep what the database already has: it then calls want
 * once, before the first read, with the chunks it will read (want[i]
 * non-zero), so they can be decoded ahead.
 */
struct mig_image_source {
	uint64_t size;
	uint32_t page_size;
	int (*read)(void *data, uint64_t off, unsigned char *buf, size_t len, struct mig_err *err);
	size_t chunk_size;
	int (*same)(void *data, uint64_t index, const unsigned char *buf, size_t len);
	void (*want)(void *data, const unsigned char *want, size_t n);
	void *data;
};

/*
 * Replace the content of the database at path (created when missing)
 * with the image, in one write transaction: other connections see the
 * old database or the new one, never a mix. On any failure nothing
 * changes; a kill leaves a hot journal that brings the old one back.
 * The pages are synced before it returns.
 */
int mig_image_write(const char *path, int timeout_ms, const struct mig_image_source *src,
		    struct mig_err *err);

/*
 * An image for the database at path, made of what 'backup -o' exported
 * from one like it (in, decompressed), streamed into sink as
 * mig_image_read does; refused, MIG_EENV naming in->name, when it is
 * not what the backend restores. 1, with nothing read, when the
 * backend's image is its file's own bytes, which the store reads
 * itself (SQLite's).
 */
int mig_image_import(const char *path, const struct mig_image_stream *in, const struct mig_image_sink *sink,
		     uint32_t *page_size, uint64_t *size, struct mig_err *err);

#endif
