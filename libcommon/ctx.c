#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "ctx.h"
#include "revfile.h"
#include "util.h"

int mig_ctx_open(struct mig_ctx **out, int mode, struct mig_err *err)
{
	struct mig_ctx *ctx = mig_xcalloc(1, sizeof(*ctx));
	struct mig_applied_list applied = { NULL, 0 };
	struct mig_graph *g = NULL;
	const char *dbpath = NULL;
	int rc, exists = 0;

	int mkdir_ok = mode & MIG_CTX_MKDIR, dry = mode & MIG_CTX_DRYRUN, schema = mode & MIG_CTX_SCHEMA;

	mode &= ~(MIG_CTX_MKDIR | MIG_CTX_DRYRUN | MIG_CTX_SCHEMA);
	if ((rc = mig_settings_load(&ctx->settings, &mig_globals, err)) < 0)
		goto out;
	if (mkdir_ok && mkdir(ctx->settings.migrations, 0777) < 0 && errno != EEXIST) {
		rc = mig_err_errno(err, MIG_EENV, "cannot create '%s'", ctx->settings.migrations);
		goto out;
	}
	if (mode != MIG_CTX_FILES && (rc = mig_settings_database(&ctx->settings, &dbpath, err)) < 0)
		goto out;
	if ((rc = mig_graph_load(&g, ctx->settings.migrations, err)) < 0)
		goto out;
	if (mode != MIG_CTX_FILES) {
		exists = mig_path_exists(dbpath);
		if (mode == MIG_CTX_WRITE || exists) {
			int flags = mode == MIG_CTX_WRITE ? MIG_DB_CREATE : MIG_DB_READONLY;

			if (dry)
				flags |= MIG_DB_DRYRUN;
			if ((rc = mig_db_open(&ctx->db, dry && !exists ? ":memory:" : dbpath, flags,
					      ctx->settings.lock_timeout, err)) < 0 ||
			    (rc = mig_db_bookkeeping(ctx->db, err)) < 0 ||
			    (rc = mig_db_applied(ctx->db, &applied, err)) < 0)
				goto out;
		}
	}
	mig_state_init(&ctx->st, g, &applied, exists);
	g = NULL;
	/* the live schema only where a recorded one waits to be compared with it */
	if (schema && ctx->db && mig_state_recorded_hash(&ctx->st)) {
		if ((rc = mig_db_schema(ctx->db, &ctx->schema, err)) < 0)
			goto out;
		mig_blob_id(ctx->st.live_hash, ctx->schema.buf ? ctx->schema.buf : "", ctx->schema.len);
	}
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
	mig_settings_release(&ctx->settings);
	free(ctx);
}
