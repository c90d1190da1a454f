#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "layout.h"
#include "revspec.h"
#include "sqlshow.h"

/* A section as a script, ending with a complete statement. */
static void add_section(struct mig_buf *out, struct mig_db *db, const struct mig_section *s)
{
	mig_buf_add(out, s->sql, s->len);
	if (s->len && s->sql[s->len - 1] != '\n')
		mig_buf_addc(out, '\n');
	if (!mig_sql_complete(db, s->sql, s->len) && mig_sql_skip_space(s->sql, s->sql + s->len) < s->sql + s->len)
		mig_buf_adds(out, ";\n");
}

/*
 * Text from a name or path inside a "--" comment: escaped, so that no
 * newline in it can end the comment and turn the rest into SQL.
 */
static void add_comment_text(struct mig_buf *out, const char *s)
{
	mig_buf_add_esc(out, s, strlen(s));
}

static void add_revision(struct mig_buf *out, struct mig_db *db, const struct mig_rev *r, int up)
{
	const struct mig_section *s = up ? &r->up : &r->down;
	struct mig_db_row v = { "app", r->name, r->id, 0, 0, NULL, NULL };

	mig_buf_addf(out, "-- %s ", up ? "up" : "down");
	add_comment_text(out, r->name);
	mig_buf_adds(out, " (");
	add_comment_text(out, !up && r->down_path ? r->down_path : r->path);
	mig_buf_adds(out, ")\n");
	if (r->no_transaction) {
		/* dirty while it runs, as mig records it */
		v.dirty = 1;
		if (up) {
			mig_db_step_sql(db, out, MIG_STEP_RECORD, &v);
		} else {
			v.id = NULL;
			mig_db_step_sql(db, out, MIG_STEP_UPDATE, &v);
		}
		add_section(out, db, s);
		v.id = NULL;
		v.dirty = 0;
		mig_db_step_sql(db, out, up ? MIG_STEP_UPDATE : MIG_STEP_UNRECORD, &v);
		return;
	}
	mig_db_step_sql(db, out, MIG_STEP_BEGIN, &v);
	mig_db_step_sql(db, out, MIG_STEP_DEFER_FKS, &v);
	add_section(out, db, s);
	mig_db_step_sql(db, out, MIG_STEP_FK_CHECK, &v);
	mig_db_step_sql(db, out, up ? MIG_STEP_RECORD : MIG_STEP_UNRECORD, &v);
}

/*
 * End the script: the schema hash on the last record, and the last
 * commit. err says why replaying failed, when it did.
 */
static void add_schema_hash(struct mig_buf *out, struct mig_db *db, struct mig_db *replay, struct mig_err *err,
			    int no_transaction)
{
	struct mig_buf schema = MIG_BUF_INIT;
	struct mig_db_row v = { NULL, NULL, NULL, 0, 0, NULL, NULL };
	char hash[41];

	if (replay && mig_db_schema(replay, &schema, err) == 0) {
		mig_blob_id(hash, schema.buf ? schema.buf : "", schema.len);
		v.hash = hash;
		mig_db_step_sql(db, out, MIG_STEP_SCHEMA_HASH, &v);
	} else {
		mig_buf_adds(out, "-- no schema hash: replaying the revisions failed: ");
		add_comment_text(out, err->msg);
		mig_buf_addc(out, '\n');
	}
	if (!no_transaction)
		mig_db_step_sql(db, out, MIG_STEP_COMMIT, &v);
	mig_buf_release(&schema);
}

/* Does reverting recs need a body that no file holds as it was applied? */
static int need_store(const struct mig_state *st, const long *recs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!mig_state_file_as_applied(st, recs[i]))
			return 1;
	return 0;
}

int mig_sqlshow_run(struct mig_buf *out, const struct mig_settings *set, const char *spec, int down, int from_files, struct mig_err *err)
{
	struct mig_ctx *ctx = NULL;
	struct mig_store *store = NULL;
	struct mig_db *replay = NULL;
	struct mig_err replay_err = MIG_ERR_INIT, stop = MIG_ERR_INIT;
	struct mig_rev **bodies = NULL;
	size_t *plan = NULL, n = 0, i;
	long *recs = NULL;
	char *shown;
	int rc;

	if ((rc = mig_ctx_open(&ctx, set, MIG_CTX_READ, err)) < 0)
		goto out;
	if (!down) {
		if ((rc = mig_plan_up(&ctx->st, spec, 0, &plan, &n, err)) < 0)
			goto out;
		/* as mig up: up to what mig cannot run, and then the same refusal */
		mig_layout_plan_stop(ctx->st.g->revs, plan, &n, &stop);
		if (!n)
			goto out;
		bodies = mig_xcalloc(n + 1, sizeof(*bodies));
		for (i = 0; i < n; i++)
			bodies[i] = ctx->st.g->revs[plan[i]];
	} else {
		if ((rc = mig_plan_down(&ctx->st, spec, &recs, &n, err)) < 0 || !n)
			goto out;
		/*
		 * the store only when some body is not in its file as applied,
		 * and only one that exists: without it, mig_body_of says what
		 * mig down --dry-run says
		 */
		if (!from_files && need_store(&ctx->st, recs, n) && mig_path_exists(ctx->set->store) &&
		    (rc = mig_store_open(&store, ctx->set->store, 0, err)) < 0)
			goto out;
		bodies = mig_xcalloc(n + 1, sizeof(*bodies));
		for (i = 0; i < n; i++) {
			if ((rc = mig_body_of(&bodies[i], &ctx->st, recs[i], store, from_files, err)) < 0)
				goto out;
			if ((rc = mig_layout_reversible(bodies[i], err)) < 0)
				goto out;
		}
	}
	mig_buf_addf(out, "-- mig %s on ", down ? "down" : "up");
	shown = mig_db_display_name(ctx->set->database);
	add_comment_text(out, shown);
	free(shown);
	mig_buf_addc(out, '\n');
	if (!down && (rc = mig_db_bookkeeping_sql(ctx->db, out, err)) < 0)
		goto out;
	/* the schema hash to record is found by replaying on the schema alone */
	if (mig_db_open_replay(&replay, ctx->db, &replay_err) < 0)
		replay = NULL;
	for (i = 0; i < n; i++) {
		const struct mig_section *s = down ? &bodies[i]->down : &bodies[i]->up;

		add_revision(out, ctx->db, bodies[i], !down);
		if (replay && mig_db_exec(replay, bodies[i]->name, s->sql, s->len, s->line,
					  bodies[i]->no_transaction ? MIG_EXEC_OWN_TX : 0, &replay_err) < 0) {
			mig_db_close(replay);
			replay = NULL;
		}
		if (i + 1 < n && !bodies[i]->no_transaction)
			mig_db_step_sql(ctx->db, out, MIG_STEP_COMMIT, &(struct mig_db_row){ NULL, NULL, NULL, 0, 0, NULL, NULL });
		if (i + 1 < n)
			mig_buf_addc(out, '\n');
	}
	add_schema_hash(out, ctx->db, replay, &replay_err, bodies[n - 1]->no_transaction);
	mig_err_clear(err);
	rc = 0;
out:
	if (rc == 0 && stop.code) {
		*err = stop;
		rc = stop.code;
	}
	if (down)
		for (i = 0; bodies && i < n; i++)
			mig_rev_free(bodies[i]);
	free(bodies);
	free(plan);
	free(recs);
	mig_db_close(replay);
	mig_store_close(store);
	mig_ctx_close(ctx);
	return rc;
}

int mig_sqlshow_revision(struct mig_buf *out, const struct mig_settings *set, const char *spec, int down, struct mig_err *err)
{
	struct mig_ctx *ctx = NULL;
	struct mig_store *store = NULL;
	struct mig_rev *body = NULL;
	const struct mig_rev *r;
	struct mig_target t;
	int rc;

	if ((rc = mig_ctx_open(&ctx, set, MIG_CTX_READ, err)) < 0 || (rc = mig_revspec(&t, &ctx->st, spec, err)) < 0)
		goto out;
	if (t.kind != MIG_TARGET_REV) {
		rc = mig_err_set(err, MIG_EUSAGE, "'%s' names no single revision", spec);
		goto out;
	}
	if (t.rev < 0) {
		/* applied, file gone: as it was applied */
		if ((mig_path_exists(ctx->set->store) && (rc = mig_store_open(&store, ctx->set->store, 0, err)) < 0) ||
		    (rc = mig_body_of(&body, &ctx->st, t.rec, store, 0, err)) < 0)
			goto out;
		r = body;
	} else {
		r = ctx->st.g->revs[t.rev];
	}
	if ((rc = down ? mig_layout_reversible(r, err) : mig_layout_runnable(r, err)) < 0)
		goto out;
	add_section(out, ctx->db, down ? &r->down : &r->up);
out:
	mig_rev_free(body);
	mig_store_close(store);
	mig_ctx_close(ctx);
	return rc;
}

int mig_sqlshow_schema(struct mig_buf *out, const struct mig_settings *set, const char *spec, struct mig_err *err)
{
	struct mig_ctx *ctx = NULL;
	struct mig_db *replay = NULL;
	unsigned char *want = NULL;
	struct mig_target t;
	size_t i;
	int rc;

	if ((rc = mig_ctx_open(&ctx, set, MIG_CTX_FILES, err)) < 0)
		goto out;
	want = mig_xcalloc(ctx->st.g->nr + 1, 1);
	if (!spec && ctx->st.g->nheads > 1) {
		rc = mig_err_set(err, MIG_EUNSAFE, "%zu heads: name a target, or 'heads'", ctx->st.g->nheads);
		goto out;
	}
	if (spec || ctx->st.g->nheads) {
		if ((rc = mig_revspec(&t, &ctx->st, spec ? spec : "head", err)) < 0)
			goto out;
		if (t.kind == MIG_TARGET_HEADS)
			for (i = 0; i < ctx->st.g->nheads; i++)
				mig_graph_ancestors(ctx->st.g, ctx->st.g->heads[i], want);
		else if (t.kind == MIG_TARGET_REV && t.rev >= 0)
			mig_graph_ancestors(ctx->st.g, (size_t)t.rev, want);
	}
	if ((rc = mig_db_open_scratch(&replay, set->database, err)) < 0)
		goto out;
	for (i = 0; i < ctx->st.g->nr; i++) {
		const struct mig_rev *r = ctx->st.g->revs[ctx->st.g->topo[i]];
		char *where;

		if (!want[ctx->st.g->topo[i]])
			continue;
		where = mig_xasprintf("%s: %s", r->name, r->path);
		rc = mig_db_exec(replay, where, r->up.sql, r->up.len, r->up.line,
				 r->no_transaction ? MIG_EXEC_OWN_TX : 0, err);
		free(where);
		if (rc < 0)
			goto out;
	}
	rc = mig_db_dump_schema(replay, out, err);
out:
	free(want);
	mig_db_close(replay);
	mig_ctx_close(ctx);
	return rc;
}
