#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "cache.h"
#include "ctx.h"
#include "revfile.h"
#include "util.h"

/*
 * The live schema's hash; with cached, the one remembered in the store
 * for the same sqlite_schema, unless it differs from the recorded one:
 * then the schema itself is read, as status -v shows how they differ.
 */
static int live_schema(struct mig_ctx *ctx, int cached, struct mig_err *err)
{
	char *path = cached && ctx->settings.store ? mig_path_join(ctx->settings.store, "schema.cache") : NULL;
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

/* The revision files, loaded on a thread of their own while SQLite opens the database. */
struct graph_job {
	const char *dir;
	char *cache;
	struct mig_graph *g;
	struct mig_err err;
	int rc;
};

static void *load_graph(void *arg)
{
	struct graph_job *j = arg;

	j->rc = mig_graph_load_cached(&j->g, j->dir, j->cache, &j->err);
	return NULL;
}

static int open_db(struct mig_ctx *ctx, const char *dbpath, int mode, int dry, int exists,
		   struct mig_applied_list *applied, struct mig_err *err)
{
	int flags = mode == MIG_CTX_WRITE ? MIG_DB_CREATE : MIG_DB_READONLY;
	int rc;

	if (dry)
		flags |= MIG_DB_DRYRUN;
	if ((rc = mig_db_open(&ctx->db, dry && !exists ? ":memory:" : dbpath, flags,
			      ctx->settings.lock_timeout, err)) < 0 ||
	    (rc = mig_db_bookkeeping(ctx->db, err)) < 0)
		return rc;
	return mig_db_applied(ctx->db, applied, err);
}

int mig_ctx_open(struct mig_ctx **out, int mode, struct mig_err *err)
{
	struct mig_ctx *ctx = mig_xcalloc(1, sizeof(*ctx));
	struct mig_applied_list applied = { NULL, 0 };
	struct graph_job job = { NULL, NULL, NULL, MIG_ERR_INIT, 0 };
	const char *dbpath = NULL;
	int mkdir_ok = mode & MIG_CTX_MKDIR, dry = mode & MIG_CTX_DRYRUN, schema = mode & MIG_CTX_SCHEMA;
	int cached = mode & MIG_CTX_CACHE, rc, exists = 0, db_rc = 0, threaded = 0;
	pthread_t th;

	mode &= ~(MIG_CTX_MKDIR | MIG_CTX_DRYRUN | MIG_CTX_SCHEMA | MIG_CTX_CACHE);
	if ((rc = mig_settings_load(&ctx->settings, &mig_globals, err)) < 0)
		goto out;
	if (mkdir_ok && mkdir(ctx->settings.migrations, 0777) < 0 && errno != EEXIST) {
		rc = mig_err_errno(err, MIG_EENV, "cannot create '%s'", ctx->settings.migrations);
		goto out;
	}
	if (mode != MIG_CTX_FILES && (rc = mig_settings_database(&ctx->settings, &dbpath, err)) < 0)
		goto out;
	if (mode != MIG_CTX_FILES)
		exists = mig_path_exists(dbpath);
	job.dir = ctx->settings.migrations;
	/* the cache lives in the store; without one, it is neither read nor written */
	if (cached && ctx->settings.store)
		job.cache = mig_path_join(ctx->settings.store, "revisions.cache");

	/*
	 * Reading an existing database changes nothing, so it may start before
	 * the files are known to be good; a database to be created waits for
	 * them, so that bad files leave no database behind. The files' errors
	 * come first either way.
	 */
	if (mode == MIG_CTX_READ && exists)
		threaded = pthread_create(&th, NULL, load_graph, &job) == 0;
	if (!threaded)
		load_graph(&job);
	if (job.rc == 0 && (mode == MIG_CTX_WRITE || exists))
		db_rc = open_db(ctx, dbpath, mode, dry, exists, &applied, err);
	if (threaded)
		pthread_join(th, NULL);
	free(job.cache);
	if ((rc = job.rc) < 0) {
		*err = job.err;
		goto out;
	}
	if ((rc = db_rc) < 0)
		goto out;
	mig_state_init(&ctx->st, job.g, &applied, exists);
	job.g = NULL;
	/* the live schema only where a recorded one waits to be compared with it */
	if (schema && ctx->db && mig_state_recorded_hash(&ctx->st))
		rc = live_schema(ctx, cached, err);
out:
	mig_graph_free(job.g);
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
	mig_settings_release(&ctx->settings);
	free(ctx);
}
