#ifndef MIG_POSTGRES_IMAGE_H
#define MIG_POSTGRES_IMAGE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <libpq-fe.h>
#include "err.h"
#include "image.h"

/* A PostgreSQL client program mig runs (pg_dump, psql). */
struct mig_pg_child {
	pid_t pid;
	int in, out;	/* its stdin and stdout, when asked for; else -1 */
	FILE *errf;	/* its stderr, a temporary file */
};

void mig_pg_child_init(struct mig_pg_child *c);

/*
 * Run argv[0] from PATH with libpq's settings opts in its environment
 * (PGHOST, PGPASSWORD, ...), never on its command line; with pipes to
 * its stdin and from its stdout as asked.
 */
int mig_pg_spawn(PQconninfoOption *opts, const char *const *argv, int want_in, int want_out,
		 struct mig_pg_child *c, struct mig_err *err);

/*
 * Wait for it (after SIGTERM when kill_it): a failure is MIG_EENV,
 * "WHAT: its first line of complaint". Closes what is left open.
 */
int mig_pg_child_finish(struct mig_pg_child *c, int kill_it, const char *what, struct mig_err *err);

/* mig_image_read and mig_image_write of image.h, for the database at url (as libpq reads it). */
int mig_pg_image_read(const char *url, int timeout_ms, const struct mig_image_sink *sink, uint32_t *page_size,
		      uint64_t *size, struct mig_err *err);
/*
 * An image made of a plain SQL script, as 'backup -o' or pg_dump | gzip
 * wrote it, read from in (decompressed); refused (MIG_EENV, naming the
 * file and the line) when it is no SQL text, or says what would leave
 * the transaction a restore replays it in.
 */
int mig_pg_image_import(const struct mig_image_stream *in, const struct mig_image_sink *sink, uint32_t *page_size,
			uint64_t *size, struct mig_err *err);
int mig_pg_image_write(const char *url, int timeout_ms, const struct mig_image_source *src, struct mig_err *err);

#endif
