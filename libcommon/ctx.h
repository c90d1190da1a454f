#ifndef MIG_CTX_H
#define MIG_CTX_H

#include "config.h"
#include "db.h"
#include "err.h"
#include "state.h"

/*
 * What a command works on: its settings, the revision files and, when it
 * asks for it, the database and what is applied there.
 */
struct mig_ctx {
	const struct mig_settings *set;	/* the caller's, which outlive it */
	struct mig_db *db;	/* NULL for MIG_CTX_FILES, or a database not yet created */
	struct mig_state st;
	struct mig_buf schema;	/* the live schema, with MIG_CTX_SCHEMA and a recorded one */
};

enum {
	MIG_CTX_FILES = 0,	/* the revision files only */
	MIG_CTX_READ = 1,	/* and the database read-only, if it exists */
	MIG_CTX_WRITE = 2,	/* and the database, created and its bookkeeping upgraded */
	MIG_CTX_MKDIR = 4,	/* or'ed in: create a missing migrations directory */
	MIG_CTX_DRYRUN = 8,	/* or'ed in with WRITE: roll everything back at close; a missing
				   database is an empty one in memory */
	MIG_CTX_SCHEMA = 16,	/* or'ed in: read the live schema to compare it with the
				   one recorded after the last run (st.live_hash) */
	MIG_CTX_CACHE = 32,	/* or'ed in: take unchanged revision files from the store's
				   cache (cache.h); they have no data or sections */
};

int mig_ctx_open(struct mig_ctx **out, const struct mig_settings *set, int mode, struct mig_err *err);
void mig_ctx_close(struct mig_ctx *ctx);

#endif
