#include "ctx.h"
#include "diff.h"
#include "revspec.h"
#include "store.h"

/* Record rec's body as applied against its file, into out. */
static int diff_one(struct mig_buf *out, const struct mig_state *st, long rec, struct mig_store **store,
		    const struct mig_settings *set, struct mig_err *err)
{
	const struct mig_applied *a = &st->applied.v[rec];
	const struct mig_rev *f = st->g->revs[st->rev[rec]];
	struct mig_buf body = MIG_BUF_INIT;
	int rc;

	if (mig_state_file_as_applied(st, rec))
		return 0;
	if (!*store && !mig_path_exists(set->store))
		return mig_err_set(err, MIG_EENV, "revision body %.12s of %s: there is no store", a->id, a->name);
	if (!*store && (rc = mig_store_open(store, set->store, 0, err)) < 0)
		return rc;
	if ((rc = mig_store_get(*store, a->id, &body, err)) == 0)
		rc = mig_store_diff(out, body.buf ? body.buf : "", body.len, f->path, f->data, f->len, f->path, err);
	mig_buf_release(&body);
	return rc;
}

int mig_diff(struct mig_buf *out, const struct mig_settings *set, const char *spec, struct mig_err *err)
{
	struct mig_ctx *ctx = NULL;
	struct mig_store *store = NULL;
	struct mig_target t;
	size_t i;
	int rc;

	if ((rc = mig_ctx_open(&ctx, set, MIG_CTX_READ, err)) < 0)
		return rc;
	if (spec) {
		if ((rc = mig_revspec(&t, &ctx->st, spec, err)) < 0)
			goto out;
		if (t.kind != MIG_TARGET_REV)
			rc = mig_err_set(err, MIG_EUSAGE, "'%s' names no single revision", spec);
		else if (t.rec < 0)
			rc = mig_err_set(err, MIG_EUSAGE, "%s is not applied: there is no body to compare", t.name);
		else if (t.rev < 0)
			rc = mig_err_set(err, MIG_EUSAGE, "%s: its file is missing: there is no file to compare",
					 t.name);
		else
			rc = diff_one(out, &ctx->st, t.rec, &store, set, err);
		goto out;
	}
	for (i = 0; i < ctx->st.applied.nr && rc == 0; i++)
		if (ctx->st.rev[i] >= 0)
			rc = diff_one(out, &ctx->st, (long)i, &store, set, err);
out:
	mig_store_close(store);
	mig_ctx_close(ctx);
	return rc;
}
