#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "cache.h"
#include "drift.h"
#include "ctx.h"
#include "revfile.h"
#include "store.h"
#include "util.h"

/*
 * The live schema's hash; with cached, the one remembered in the store
 * for the same sqlite_schema, unless it differs from the recorded one:
 * then the schema itself is read, as status -v shows how they differ.
 */
static int live_schema(struct mig_ctx *ctx, int cached, struct mig_err *err)
{
	char *path = cached && ctx->set->store ? mig_path_join(ctx->set->store, "schema.cache") : NULL;
	char key[33];
	int rc;

	if (path && mig_db_schema_key(ctx->db, key, err) < 0) {
		mig_err_clear(err);
		free(path);
		path = NULL;
	}
	if (path && mig_schemacache_get(path, key, ctx->st.live_hash) == 0 &&
	    !strcmp(ctx->st.live_hash, mig_state_recorded_hash(&ctx->st))) {
		free(path);
		return 0;
	}
	if ((rc = mig_db_schema(ctx->db, &ctx->schema, err)) == 0) {
		mig_blob_id(ctx->st.live_hash, ctx->schema.buf ? ctx->schema.buf : "", ctx->schema.len);
		if (path)
			mig_schemacache_put(path, key, ctx->st.live_hash);
	}
	free(path);
	return rc;
}

/*
 * Name what drifted: the recorded schema is in the store, when there is
 * one that has it; without, the hashes alone say that something did.
 */
static void describe_drift(struct mig_ctx *ctx)
{
	const char *recorded = mig_state_recorded_hash(&ctx->st);
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_store *store = NULL;
	struct mig_buf old = MIG_BUF_INIT, d = MIG_BUF_INIT;

	if (!recorded || !*ctx->st.live_hash || !strcmp(recorded, ctx->st.live_hash) || !ctx->set->store ||
	    !mig_path_exists(ctx->set->store) || mig_store_open(&store, ctx->set->store, 0, &ignored) < 0 ||
	    mig_store_get(store, recorded, &old, &ignored) < 0)
		goto out;
	mig_drift_summary(&d, old.buf ? old.buf : "", old.len, ctx->schema.buf ? ctx->schema.buf : "",
			  ctx->schema.len);
	if (d.len)
		ctx->st.drift = mig_buf_detach(&d);
out:
	mig_buf_release(&d);
	mig_buf_release(&old);
	mig_store_close(store);
}

/*
 * A database that could not be opened, likely locked: name the mig run
 * in progress, if there is one that is not this one.
 */
static void run_in_progress(const struct mig_ctx *ctx, int locked_here, struct mig_err *err)
{
	char holder[256];

	if (err->code == MIG_EENV && !locked_here && ctx->set->store &&
	    mig_store_lock_holder(ctx->set->store, holder, sizeof(holder)))
		mig_err_hint_add(err, "a mig run is in progress (%s)", *holder ? holder : "unknown holder");
}

int mig_ctx_open(struct mig_ctx **out, const struct mig_settings *set, int mode, struct mig_err *err)
{
	struct mig_ctx *ctx = mig_xcalloc(1, sizeof(*ctx));
	struct mig_applied_list applied = { NULL, 0 };
	struct mig_graph *g = NULL;
	const char *dbpath = NULL;
	char *cache = NULL;
	int mkdir_ok = mode & MIG_CTX_MKDIR, dry = mode & MIG_CTX_DRYRUN, schema = mode & MIG_CTX_SCHEMA;
	int cached = mode & MIG_CTX_CACHE, rc, exists = 0;

	mode &= ~(MIG_CTX_MKDIR | MIG_CTX_DRYRUN | MIG_CTX_SCHEMA | MIG_CTX_CACHE);
	/* a command that writes uses the store: a libgit2 that cannot load fails it before any change */
	if (mode == MIG_CTX_WRITE && (rc = mig_git_need(err)) < 0)
		goto out;
	ctx->set = set;
	if (mkdir_ok && mkdir(ctx->set->migrations, 0777) < 0 && errno != EEXIST) {
		rc = mig_err_errno(err, MIG_EENV, "cannot create '%s'", ctx->set->migrations);
		goto out;
	}
	if (mode != MIG_CTX_FILES && (rc = mig_settings_database(ctx->set, &dbpath, err)) < 0)
		goto out;
	/* the cache lives in the store; without one, it is neither read nor written */
	if (cached && ctx->set->store)
		cache = mig_path_join(ctx->set->store, "revisions.cache");
	rc = mig_graph_load_cached(&g, ctx->set->migrations, cache, err);
	free(cache);
	if (rc < 0)
		goto out;
	if (mode != MIG_CTX_FILES) {
		exists = mig_db_exists(dbpath);
		if (mode == MIG_CTX_WRITE || exists) {
			int flags = mode == MIG_CTX_WRITE ? MIG_DB_CREATE : MIG_DB_READONLY;

			if (dry)
				flags |= MIG_DB_DRYRUN;
			if ((rc = mig_db_open(&ctx->db, dry && !exists ? ":memory:" : dbpath, flags,
					      ctx->set->lock_timeout, err)) < 0) {
				run_in_progress(ctx, mode == MIG_CTX_WRITE && !dry, err);
				goto out;
			}
			if ((mode == MIG_CTX_WRITE && ctx->set->statement_lock_timeout > 0 &&
			     (rc = mig_db_statement_lock_timeout(ctx->db, ctx->set->statement_lock_timeout, err)) < 0) ||
			    (rc = mig_db_bookkeeping(ctx->db, err)) < 0 ||
			    (rc = mig_db_applied(ctx->db, &applied, err)) < 0)
				goto out;
		}
	}
	mig_state_init(&ctx->st, g, &applied, exists);
	g = NULL;
	/* the live schema only where a recorded one waits to be compared with it */
	if (schema && ctx->db && mig_state_recorded_hash(&ctx->st) && (rc = live_schema(ctx, cached, err)) == 0)
		describe_drift(ctx);
out:
	mig_graph_free(g);
	mig_applied_list_release(&applied);
	if (rc < 0) {
		mig_ctx_close(ctx);
		ctx = NULL;
	}
	*out = ctx;
	return rc;
}

void mig_ctx_close(struct mig_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->st.g)
		mig_state_release(&ctx->st);
	mig_db_close(ctx->db);
	mig_buf_release(&ctx->schema);
	free(ctx);
}
