#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "apply.h"
#include "backup.h"
#include "layout.h"
#include "report.h"
#include "revfile.h"
#include "revspec.h"
#include "store.h"
#include "util.h"

/* Refuse to move a database a no-transaction revision left half done. */
static int refuse_dirty(const struct mig_state *st, struct mig_err *err)
{
	size_t i;

	for (i = 0; i < st->applied.nr; i++)
		if (st->applied.v[i].dirty) {
			mig_err_set(err, MIG_EUNSAFE, "%s did not finish: the database is dirty",
				    st->applied.v[i].name);
			mig_err_hint(err, "check the database, then record what happened with "
				     "'mig fake --resolve applied' or 'mig fake --resolve rolled-back'");
			return MIG_EUNSAFE;
		}
	return 0;
}

/* Refuse also when an applied revision's file was edited since. */
static int check_safe(const struct mig_state *st, struct mig_err *err)
{
	size_t i;
	int rc;

	if ((rc = refuse_dirty(st, err)) < 0)
		return rc;
	for (i = 0; i < st->applied.nr; i++) {
		const struct mig_applied *a = &st->applied.v[i];

		if (st->rev[i] >= 0 && strcmp(a->id, st->g->revs[st->rev[i]]->id)) {
			mig_err_set(err, MIG_EUNSAFE, "%s was modified after it was applied (applied %.12s, file %.12s)",
				    a->name, a->id, st->g->revs[st->rev[i]]->id);
			mig_err_hint(err, "to apply the edit: 'mig redo %s' reverts it and what depends on it, then "
				     "applies them again\nonly for an edit that changes nothing (comments, white space): "
				     "'mig fake --rehash %s'\nin production: put the file back, and make the change a new "
				     "revision", a->name, a->name);
			return MIG_EUNSAFE;
		}
	}
	return 0;
}

static int all_applied(const struct mig_state *st)
{
	size_t i;

	for (i = 0; i < st->g->nr; i++)
		if (!mig_state_applied(st, i))
			return 0;
	return 1;
}

/* The pending revisions spec needs, in topological order, into *plan. */
int mig_plan_up(const struct mig_state *st, const char *spec, int out_of_order,
		   size_t **plan, size_t *n, struct mig_err *err)
{
	const struct mig_graph *g = st->g;
	unsigned char *want = mig_xcalloc(g->nr + 1, 1), *below = NULL;
	struct mig_target t;
	size_t i, j;
	int rc;

	*plan = mig_xmalloc((g->nr + 1) * sizeof(size_t));
	*n = 0;
	if ((rc = check_safe(st, err)) < 0)
		goto out;
	if (!spec && g->nheads > 1 && all_applied(st)) {
		mig_say(MIG_SAY_NOTE, "nothing to apply; there are %zu heads: merge them with 'mig merge'", g->nheads);
		goto out;
	}
	if (!spec && g->nheads > 1) {
		struct mig_buf b = MIG_BUF_INIT;

		for (i = 0; i < g->nheads; i++)
			mig_buf_addf(&b, "%s%s", i ? ", " : "", g->revs[g->heads[i]]->name);
		rc = mig_err_set(err, MIG_EUNSAFE, "%zu heads: %s", g->nheads, b.buf);
		mig_err_hint(err, "name a target ('mig up heads' applies all), or merge them with 'mig merge'");
		mig_buf_release(&b);
		goto out;
	}
	if (!spec && !g->nheads)
		goto out;
	if ((rc = mig_revspec(&t, st, spec ? spec : "head", err)) < 0)
		goto out;
	if (t.kind == MIG_TARGET_HEADS) {
		for (i = 0; i < g->nheads; i++)
			mig_graph_ancestors(g, g->heads[i], want);
	} else if (t.kind == MIG_TARGET_REV) {
		if (t.rev < 0) {
			rc = mig_err_set(err, MIG_EUSAGE, "cannot apply '%s': its file is missing", t.name);
			goto out;
		}
		mig_graph_ancestors(g, (size_t)t.rev, want);
	}
	/* below[x]: some descendant of x is applied */
	below = mig_xcalloc(g->nr + 1, 1);
	for (i = g->nr; i-- > 0;) {
		size_t x = g->topo[i];

		if (mig_state_applied(st, x) || below[x])
			for (j = 0; j < g->revs[x]->npidx; j++)
				below[g->revs[x]->pidx[j]] = 1;
	}
	for (i = 0; i < g->nr; i++) {
		size_t x = g->topo[i];

		if (!want[x] || mig_state_applied(st, x))
			continue;
		if (below[x] && !out_of_order) {
			rc = mig_err_set(err, MIG_EUNSAFE, "%s is pending but revisions after it are applied",
					 g->revs[x]->name);
			mig_err_hint(err, "apply it anyway with 'mig up --out-of-order'");
			goto out;
		}
		(*plan)[(*n)++] = x;
	}
out:
	free(want);
	free(below);
	return rc;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Record the live schema's hash on the last applied revision, and the
 * schema itself in the store (so 'mig status -v' can show drift). Once
 * per run, so its cost does not grow with the number of revisions.
 */
static int record_schema(struct mig_run *run, struct mig_err *err)
{
	struct mig_buf b = MIG_BUF_INIT;
	int rc;

	if ((rc = mig_db_schema(run->ctx->db, &b, err)) < 0)
		goto out;
	if (run->store && !run->o->dry_run)
		rc = mig_store_put(run->store, b.buf ? b.buf : "", b.len, run->schema, err);
	else
		mig_blob_id(run->schema, b.buf ? b.buf : "", b.len);
	if (rc == 0)
		rc = mig_db_set_schema_hash(run->ctx->db, run->schema, err);
out:
	mig_buf_release(&b);
	return rc;
}

/*
 * The bookkeeping of a revision that ran, in the transaction that commits
 * it: its row, its line of the run's journal entry, and after the last
 * of a run the schema. No revision commits before every body of the run
 * is in the store.
 */
static int record_run(struct mig_run *run, const struct mig_rev *r, int up, int last, long long ms,
		      struct mig_err *err)
{
	struct mig_db *db = run->ctx->db;
	int rc;

	if ((rc = mig_store_wait(&run->bodies, err)) < 0)
		return rc;
	if (r->no_transaction)
		rc = up ? mig_db_update(db, "app", r->name, NULL, 0, err) : mig_db_unrecord(db, "app", r->name, err);
	else
		rc = up ? mig_db_record(db, "app", r->name, r->id, ms, 0, err) :
			  mig_db_unrecord(db, "app", r->name, err);
	if (rc == 0)
		rc = mig_db_journal_add(db, run->token, run->kind->op, r->name, r->id, ms, run->snapshot, err);
	if (rc == 0 && last)
		rc = record_schema(run, err);
	return rc;
}

/*
 * Run one section in its own transaction together with its bookkeeping;
 * the last of a run also records the schema, in the same transaction.
 */
static int run_section(struct mig_run *run, const struct mig_rev *r, const struct mig_section *sec, int up,
		       int last, long long *ms, struct mig_err *err)
{
	struct mig_db *db = run->ctx->db;
	long long t0 = now_ms();
	char *where = mig_xasprintf("%s: %s", r->name, !up && r->down_path ? r->down_path : r->path);
	int rc;

	if (r->no_transaction) {
		/* dirty first, so a failure or a kill leaves a trace; its body stored before that */
		if ((rc = mig_store_wait(&run->bodies, err)) < 0 ||
		    (rc = up ? mig_db_record(db, "app", r->name, r->id, 0, 1, err) :
			       mig_db_update(db, "app", r->name, NULL, 1, err)) < 0)
			goto out;
		rc = mig_db_exec(db, where, sec->sql, sec->len, sec->line, MIG_EXEC_OWN_TX, err);
		if (rc == 0 && mig_db_in_transaction(db)) {
			mig_db_rollback(db);
			rc = mig_err_set(err, MIG_ESQL, "%s: the revision left a transaction open", where);
		}
		if (rc < 0) {
			mig_err_hint_add(err, "%s runs outside a transaction: it is recorded as dirty; check the "
				     "database, then 'mig fake --resolve applied|rolled-back'", r->name);
			goto out;
		}
		*ms = now_ms() - t0;
		if ((rc = mig_db_begin(db, err)) < 0)
			goto out;
		if ((rc = record_run(run, r, up, last, *ms, err)) < 0 || (rc = mig_db_commit(db, err)) < 0)
			goto fail;
		goto out;
	}
	if ((rc = mig_db_begin(db, err)) < 0)
		goto out;
	if ((rc = mig_db_defer_fks(db, err)) < 0 ||
	    (rc = mig_db_exec(db, where, sec->sql, sec->len, sec->line, 0, err)) < 0 ||
	    (rc = mig_db_fk_check(db, where, err)) < 0)
		goto fail;
	*ms = now_ms() - t0;
	if ((rc = record_run(run, r, up, last, *ms, err)) < 0)
		goto fail;
	/* a constraint checked at commit (PostgreSQL's deferred ones) fails the revision: say which */
	if ((rc = mig_db_commit(db, err)) == MIG_ESQL) {
		char *msg = mig_xstrdup(err->msg), *hint = mig_xstrdup(err->hint);

		mig_err_set(err, MIG_ESQL, "%s: %s", where, msg);
		memcpy(err->hint, hint, strlen(hint) + 1);
		free(msg);
		free(hint);
	}
	if (rc < 0)
		goto fail;
	goto out;
fail:
	mig_db_rollback(db);
out:
	free(where);
	return rc;
}

/* A dry run cannot undo what runs outside a transaction: it skips it. */
static int skip_in_dry_run(const struct mig_run *run, const struct mig_rev *r)
{
	if (!run->o->dry_run || !r->no_transaction)
		return 0;
	mig_say(MIG_SAY_NOTE, "skipping %s in a dry run: it runs outside a transaction", r->name);
	return 1;
}

/*
 * Run each of n revisions' sections (ids: as applied, when not the
 * files'), in order, the last recording the schema if it ends the run;
 * stop at the first that
 * fails. What did commit before a failure still gets its schema
 * recorded, so drift is not reported for it.
 */
static int run_sections(struct mig_run *run, struct mig_rev *const *revs, const char *const *ids, size_t n,
			int up, int ends, struct mig_err *err)
{
	const char *verb = up ? "applying" : "reverting";
	struct mig_err ignored = MIG_ERR_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		const struct mig_rev *r = revs[i];

		run->names[run->done] = r->name;
		run->ids[run->done] = ids ? ids[i] : r->id;
		if (skip_in_dry_run(run, r)) {
			run->names[run->done] = NULL;
			continue;
		}
		mig_say(MIG_SAY_PROGRESS, "%s %s%s", verb, r->name, run->o->dry_run ? " (dry run)" : "");
		if ((rc = run_section(run, r, up ? &r->up : &r->down, up, ends && i == n - 1, &run->ms[run->done],
				      err)) < 0) {
			/* outside a transaction, a failure may have changed the database */
			run->dirty = r->no_transaction;
			break;
		}
		mig_say(MIG_SAY_VERBOSE, "  %s took %lld ms", r->name, run->ms[run->done]);
		run->done++;
	}
	if (rc < 0 && run->done && record_schema(run, &ignored) < 0)
		run->schema[0] = '\0';
	return rc;
}

/*
 * A schema changed behind mig's back is refused: running on it would
 * record the changed schema as the revisions' and hide the change. With
 * --accept-drift the run goes on, and its entry says what it accepted.
 */
static int check_drift(struct mig_run *run, struct mig_err *err)
{
	const struct mig_state *st = &run->ctx->st;
	const char *recorded = mig_state_recorded_hash(st);
	char *what;

	if (!recorded || !*st->live_hash || !strcmp(recorded, st->live_hash))
		return 0;
	what = st->drift ? mig_xstrdup(st->drift) :
			   mig_xasprintf("schema %.12s, recorded %.12s", st->live_hash, recorded);
	if (run->o->accept_drift) {
		free(run->drift);
		run->drift = what;
		return 0;
	}
	mig_err_set(err, MIG_EUNSAFE, "the schema differs from the one recorded after %s: %s",
		    st->applied.v[st->applied.nr - 1].name, what);
	mig_err_hint(err, "'mig status -v' shows how; make a revision of the change, or undo it; to %s all the same "
		     "and record the schema as it then is, use --accept-drift", run->kind->op);
	free(what);
	return MIG_EUNSAFE;
}

/* ---- up ---- */

struct up {
	const char *spec;
	struct mig_err stop;	/* why the plan ends before the target: a revision mig cannot run */
	size_t *plan;
	struct mig_rev **revs;
	const char **data;
	size_t *len;
};

static int up_plan(struct mig_run *run, struct mig_err *err)
{
	struct up *u = run->arg;
	int rc;

	if ((rc = mig_plan_up(&run->ctx->st, u->spec, run->o->out_of_order, &u->plan, &run->n, err)) < 0)
		return rc;
	/* what mig cannot run ends the plan: the run stops there and says so, never passes it */
	mig_err_clear(&u->stop);
	mig_layout_plan_stop(run->ctx->st.g->revs, u->plan, &run->n, &u->stop);
	if (!run->n)
		return 0;
	return check_drift(run, err);
}

static void up_release(struct mig_run *run)
{
	struct up *u = run->arg;

	free(u->plan);
	free(u->revs);
	free(u->data);
	free(u->len);
	u->plan = NULL;
	u->revs = NULL;
	u->data = NULL;
	u->len = NULL;
}

/*
 * Every body a run applies goes into the store, as one pack, while the
 * first revision runs; none commits before they are all there.
 */
static int up_execute(struct mig_run *run, struct mig_err *err)
{
	const struct mig_graph *g = run->ctx->st.g;
	struct up *u = run->arg;
	size_t i;

	u->revs = mig_xcalloc(run->n + 1, sizeof(*u->revs));
	u->data = mig_xcalloc(run->n + 1, sizeof(*u->data));
	u->len = mig_xcalloc(run->n + 1, sizeof(*u->len));
	for (i = 0; i < run->n; i++) {
		u->revs[i] = g->revs[u->plan[i]];
		u->data[i] = u->revs[i]->data;
		u->len[i] = u->revs[i]->len;
	}
	if (!run->o->dry_run)
		mig_store_put_all_start(&run->bodies, run->store, u->data, u->len, run->n);
	return run_sections(run, u->revs, NULL, run->n, 1, 1, err);
}

static const struct mig_run_kind up_kind = {
	"up", 1, 1, up_plan, NULL, up_execute, up_release, 0, 1,
};

int mig_up(const struct mig_settings *set, const char *spec, const struct mig_run_opts *o, struct mig_err *err)
{
	struct up u = { .spec = spec, .stop = MIG_ERR_INIT };
	int rc = mig_run_do(&up_kind, &u, set, o, NULL, err);

	if (rc == 0 && u.stop.code) {
		*err = u.stop;
		rc = u.stop.code;
	}
	return rc;
}

/* The applied records to revert for spec, newest first, into *recs. */
int mig_plan_down(const struct mig_state *st, const char *spec, long **recs, size_t *n,
		     struct mig_err *err)
{
	struct mig_target t;
	long from, i;
	int rc;

	*recs = mig_xmalloc((st->applied.nr + 1) * sizeof(long));
	*n = 0;
	if ((rc = refuse_dirty(st, err)) < 0)
		return rc;
	/* nothing applied is nothing to revert, unless a target was named */
	if (!spec && !st->applied.nr)
		return 0;
	if ((rc = mig_revspec(&t, st, spec ? spec : "-1", err)) < 0)
		return rc;
	if (t.kind == MIG_TARGET_HEADS)
		return mig_err_set(err, MIG_EUSAGE, "'heads' is no target for down");
	if (t.kind == MIG_TARGET_BASE)
		from = 0;
	else if (t.rec < 0)
		return mig_err_set(err, MIG_EUSAGE, "%s is not applied", t.name);
	else
		from = t.rec + 1;
	for (i = (long)st->applied.nr - 1; i >= from; i--)
		(*recs)[(*n)++] = i;
	return 0;
}

/* The revision as it was applied: from the store, or from its file. */
int mig_body_of(struct mig_rev **out, const struct mig_state *st, long rec, struct mig_store *store,
		   int from_files, struct mig_err *err)
{
	const struct mig_applied *a = &st->applied.v[rec];
	struct mig_buf b = MIG_BUF_INIT;
	char *path;
	int rc;

	/*
	 * A file whose id is the applied one holds the body as it was
	 * applied: no store is needed to read it
	 */
	if (from_files || mig_state_file_as_applied(st, rec)) {
		if (st->rev[rec] < 0)
			return mig_err_set(err, MIG_EUNSAFE, "%s: its file is missing and --from-files was given",
					   a->name);
		const struct mig_rev *f = st->g->revs[st->rev[rec]];

		if ((rc = mig_rev_parse(out, a->name, f->path, f->data, f->len, err)) < 0)
			return rc;
		mig_layout_body_places(*out, f, st->g->dir, st->g->style);
		return 0;
	}
	if (!store)
		rc = mig_err_set(err, MIG_EENV, "revision body %.12s of %s: there is no store", a->id, a->name);
	else
		rc = mig_store_get(store, a->id, &b, err);
	if (rc < 0) {
		if (st->rev[rec] >= 0)
			mig_err_hint(err, "to revert with %s as it is now, use --from-files",
				     st->g->revs[st->rev[rec]]->path);
		return rc;
	}
	/* a file as applied was read above: this body is no file's */
	path = mig_xasprintf("%s.sql (%.12s, from the store)", a->name, a->id);
	/* a two-file layout's body says where its lines really are */
	if ((rc = mig_rev_parse(out, a->name, path, b.buf ? b.buf : "", b.len, err)) == 0)
		mig_layout_body_places(*out, st->rev[rec] >= 0 ? st->g->revs[st->rev[rec]] : NULL, st->g->dir,
				       st->g->style);
	free(path);
	mig_buf_release(&b);
	return rc;
}

/* ---- down ---- */

struct down {
	const char *spec;
	long *recs;
	struct mig_rev **bodies;
	const char **ids;	/* as applied */
};

static int down_plan(struct mig_run *run, struct mig_err *err)
{
	struct down *d = run->arg;
	int rc;

	if ((rc = mig_plan_down(&run->ctx->st, d->spec, &d->recs, &run->n, err)) < 0)
		return rc;
	if (!run->n && !d->spec && !run->ctx->st.applied.nr)
		mig_say(MIG_SAY_NOTE, "nothing to revert: no revision is applied");
	if (!run->n)
		return 0;
	return check_drift(run, err);
}

static void down_release(struct mig_run *run)
{
	struct down *d = run->arg;
	size_t i;

	for (i = 0; d->bodies && i < run->n; i++)
		mig_rev_free(d->bodies[i]);
	free(d->bodies);
	free(d->recs);
	free(d->ids);
	d->bodies = NULL;
	d->recs = NULL;
	d->ids = NULL;
}

/*
 * Applied record rec cannot be reverted (err says why): hint at the
 * commands that record it as reverted without running SQL, after
 * reverting what came after it (newer, when the run reverts some first).
 */
static int irreversible(const struct mig_state *st, long rec, int newer, struct mig_err *err)
{
	const char *name = st->applied.v[rec].name;
	const char *prev = rec > 0 ? st->applied.v[rec - 1].name : "base";

	if (err->hint[0])
		return err->code;
	if (newer)
		mig_err_hint(err, "revert what was applied after it with 'mig down %s', then record it as reverted "
			     "without running SQL with 'mig fake --unapply %s'", name, prev);
	else
		mig_err_hint(err, "record it as reverted without running SQL with 'mig fake --unapply %s'", prev);
	return MIG_EUNSAFE;
}

/* Every body and down section first: refuse before reverting anything. */
static int down_prepare(struct mig_run *run, struct mig_err *err)
{
	struct down *d = run->arg;
	size_t i;
	int rc;

	d->bodies = mig_xcalloc(run->n + 1, sizeof(*d->bodies));
	d->ids = mig_xcalloc(run->n + 1, sizeof(*d->ids));
	for (i = 0; i < run->n; i++) {
		if ((rc = mig_body_of(&d->bodies[i], &run->ctx->st, d->recs[i], run->store, run->o->from_files,
				      err)) < 0)
			return rc;
		if ((rc = mig_layout_reversible(d->bodies[i], err)) < 0)
			return irreversible(&run->ctx->st, d->recs[i], i > 0, err);
		/* the id as applied, whatever the file says now */
		d->ids[i] = run->ctx->st.applied.v[d->recs[i]].id;
	}
	return 0;
}

static int down_execute(struct mig_run *run, struct mig_err *err)
{
	struct down *d = run->arg;

	return run_sections(run, d->bodies, d->ids, run->n, 0, 1, err);
}

static const struct mig_run_kind down_kind = {
	"down", 1, 1, down_plan, down_prepare, down_execute, down_release, 0, 1,
};

int mig_down(const struct mig_settings *set, const char *spec, const struct mig_run_opts *o, struct mig_err *err)
{
	struct down d = { spec, NULL, NULL, NULL };

	return mig_run_do(&down_kind, &d, set, o, NULL, err);
}

/* ---- redo ---- */

struct redo {
	const char *spec;
	char *subject;
	long *recs;			/* the applied records to revert, newest first */
	struct mig_rev **bodies;	/* as applied */
	const char **ids;		/* as applied */
	struct mig_rev **revs;		/* as the files are now, in topological order */
	size_t k;			/* how many of each */
};

static void redo_release(struct mig_run *run)
{
	struct redo *r = run->arg;
	size_t i;

	for (i = 0; r->bodies && i < r->k; i++)
		mig_rev_free(r->bodies[i]);
	free(r->bodies);
	free(r->ids);
	free(r->recs);
	free(r->revs);
	free(r->subject);
	r->bodies = NULL;
	r->ids = NULL;
	r->recs = NULL;
	r->revs = NULL;
	r->subject = NULL;
	r->k = 0;
}

/*
 * REV and every applied revision that descends from it: reverted newest
 * first, then applied again from the files, parents first. Revisions
 * applied beside it, on another branch, stay.
 */
static int redo_plan(struct mig_run *run, struct mig_err *err)
{
	const struct mig_state *st = &run->ctx->st;
	const struct mig_graph *g = st->g;
	struct redo *r = run->arg;
	unsigned char *below;
	struct mig_target t;
	size_t i, j;
	long rec;
	int rc;

	if ((rc = refuse_dirty(st, err)) < 0 || (rc = mig_revspec(&t, st, r->spec, err)) < 0)
		return rc;
	if (t.kind != MIG_TARGET_REV)
		return mig_err_set(err, MIG_EUSAGE, "'%s' names no single revision", r->spec);
	if (t.rec < 0)
		return mig_err_set(err, MIG_EUSAGE, "%s is not applied: there is nothing to redo", t.name);
	/* what descends from it is known from the files: one applied after it without one may, unseen */
	for (rec = t.rec + 1; rec < (long)st->applied.nr; rec++)
		if (st->rev[rec] < 0) {
			mig_err_set(err, MIG_EUSAGE, "%s: %s was applied after it and its file is missing, so whether "
				    "it depends on %s is unknown", t.name, st->applied.v[rec].name, t.name);
			mig_err_hint(err, "put its file back, or revert it first with 'mig down'");
			return MIG_EUSAGE;
		}
	below = mig_xcalloc(g->nr + 1, 1);
	if (t.rev >= 0)
		below[t.rev] = 1;
	for (i = 0; i < g->nr; i++) {
		const struct mig_rev *x = g->revs[g->topo[i]];

		for (j = 0; j < x->npidx; j++)
			if (below[x->pidx[j]])
				below[g->topo[i]] = 1;
	}
	r->recs = mig_xcalloc(st->applied.nr + 1, sizeof(*r->recs));
	r->revs = mig_xcalloc(st->applied.nr + 1, sizeof(*r->revs));
	for (rec = (long)st->applied.nr - 1; rec >= 0; rec--)
		if (rec == t.rec || (st->rev[rec] >= 0 && below[st->rev[rec]]))
			r->recs[r->k++] = rec;
	for (i = 0, j = 0; i < g->nr; i++)
		if (below[g->topo[i]] && mig_state_applied(st, g->topo[i]))
			r->revs[j++] = g->revs[g->topo[i]];
	free(below);
	if (t.rev < 0 || j != r->k)
		return mig_err_set(err, MIG_EUSAGE, "%s: its file is missing: there is nothing to apply again", t.name);
	run->n = 2 * r->k;
	r->subject = r->k > 1 ? mig_xasprintf("redo %s (and %zu after it)", t.name, r->k - 1) :
				mig_xasprintf("redo %s", t.name);
	return check_drift(run, err);
}

/* The bodies as applied, each reversible, before anything is reverted. */
static int redo_prepare(struct mig_run *run, struct mig_err *err)
{
	const struct mig_state *st = &run->ctx->st;
	struct redo *r = run->arg;
	size_t i;
	int rc;

	r->bodies = mig_xcalloc(r->k + 1, sizeof(*r->bodies));
	r->ids = mig_xcalloc(r->k + 1, sizeof(*r->ids));
	for (i = 0; i < r->k; i++) {
		if ((rc = mig_body_of(&r->bodies[i], st, r->recs[i], run->store, 0, err)) < 0)
			return rc;
		if ((rc = mig_layout_reversible(r->bodies[i], err)) < 0)
			return irreversible(st, r->recs[i], i > 0, err);
		r->ids[i] = st->applied.v[r->recs[i]].id;
	}
	return 0;
}

static int redo_execute(struct mig_run *run, struct mig_err *err)
{
	struct redo *r = run->arg;
	const char **data = mig_xcalloc(r->k + 1, sizeof(*data));
	size_t *len = mig_xcalloc(r->k + 1, sizeof(*len)), i;
	int rc;

	for (i = 0; i < r->k; i++) {
		data[i] = r->revs[i]->data;
		len[i] = r->revs[i]->len;
	}
	/* the files' bodies are stored before any of them commits, as up stores them */
	if (!run->o->dry_run && (rc = mig_store_put_all(run->store, data, len, r->k, err)) < 0)
		goto out;
	run->subject = r->subject;
	if ((rc = run_sections(run, r->bodies, r->ids, r->k, 0, 0, err)) == 0)
		rc = run_sections(run, r->revs, NULL, r->k, 1, 1, err);
out:
	free(data);
	free(len);
	return rc;
}

static const struct mig_run_kind redo_kind = {
	"redo", 1, 1, redo_plan, redo_prepare, redo_execute, redo_release, 0, 1,
};

int mig_redo(const struct mig_settings *set, const char *spec, const struct mig_run_opts *o, struct mig_err *err)
{
	struct redo r = { .spec = spec };

	return mig_run_do(&redo_kind, &r, set, o, NULL, err);
}

/* What one fake operation records: revision, its id, and how. */
struct fake_item {
	const char *name;
	const char *id;
	const struct mig_rev *body;	/* to put in the store, or NULL */
	enum { F_RECORD, F_UNRECORD, F_CLEAN, F_REHASH } how;
	char *at;			/* F_RECORD: the applied time another tool recorded, or NULL */
};

/*
 * Which tool whose revisions are code (Alembic, Django) left its
 * bookkeeping in db: exactly one of them, or the user must say by hand.
 */
static int find_adopter(const struct mig_adopter **out, struct mig_foreign *f, struct mig_db *db,
			struct mig_err *err)
{
	const struct mig_adopter *a;
	struct mig_foreign tmp;
	size_t i;
	int rc;

	*out = NULL;
	for (i = 0; (a = mig_adopter_at(i)); i++) {
		if ((rc = mig_db_foreign(db, a->name, &a->q, &tmp, err)) == MIG_EUSAGE) {
			mig_err_clear(err);
			continue;
		}
		if (rc < 0)
			goto fail;
		if (*out) {
			mig_foreign_release(&tmp);
			rc = mig_err_set(err, MIG_EUSAGE, "database '%s' has both %s's %s and %s's %s: cannot tell "
					 "which to adopt", mig_db_name(db), (*out)->name, (*out)->q.table, a->name,
					 a->q.table);
			mig_err_hint(err, "drop the stale one, or record up to a revision with 'mig fake TARGET'");
			goto fail;
		}
		*out = a;
		*f = tmp;
	}
	if (*out)
		return 0;
	rc = mig_err_set(err, MIG_EUSAGE, "database '%s' has no bookkeeping to adopt: no Alembic alembic_version "
			 "nor Django django_migrations", mig_db_name(db));
	mig_err_hint(err, "in mig's own layout, fake --adopt reads those two; a dbmate, golang-migrate, goose "
		     "or diesel directory, that tool's table");
	return rc;
fail:
	if (*out)
		mig_foreign_release(f);
	*out = NULL;
	return rc;
}

/* The index of the revision that name row of a's bookkeeping stands for, from i on; g->nr: none. */
static size_t rev_for(const struct mig_graph *g, const struct mig_adopter *a, const char *row, size_t i)
{
	while (i < g->nr && !a->matches(g->revs[i]->name, row))
		i++;
	return i;
}

/* The revision row j of a's bookkeeping stands for: exactly one, or an error naming the row. */
static int adopted_rev(size_t *out, const struct mig_graph *g, const struct mig_adopter *a,
		       const struct mig_foreign *f, size_t j, struct mig_err *err)
{
	size_t i = rev_for(g, a, f->v[j], 0), other, more = 0;
	char *file;
	int rc;

	*out = i;
	if (i < g->nr && (other = rev_for(g, a, f->v[j], i + 1)) < g->nr)
		return mig_err_set(err, MIG_EUSAGE, "%s records %s, which both %s and %s stand for", a->q.table,
				   f->v[j], g->revs[i]->name, g->revs[other]->name);
	if (i < g->nr)
		return 0;
	for (i = j + 1; i < f->nr; i++)
		more += rev_for(g, a, f->v[i], 0) == g->nr;
	rc = mig_err_set(err, MIG_EUSAGE, "%s records %s, which no revision file here stands for", a->q.table,
			 f->v[j]);
	file = a->file(f->v[j]);
	mig_err_hint(err, "name its rewritten file %s (mig-fake(1)); nothing was recorded", file);
	if (more)
		mig_err_hint_add(err, "%zu more row%s of %s stand%s for no file", more, more > 1 ? "s" : "",
				 a->q.table, more > 1 ? "" : "s");
	free(file);
	return rc;
}

/*
 * Adopt a database a tool whose revisions are code migrated, from
 * revision files rewritten in mig's own layout: every row must stand
 * for one revision; Alembic's rows are heads, applied with their
 * ancestors; Django's are each one migration, with its applied time.
 */
static int plan_adopt_rewritten(const struct mig_state *st, struct mig_db *db, struct fake_item *items, size_t *n,
				struct mig_err *err)
{
	const struct mig_graph *g = st->g;
	const struct mig_adopter *a;
	struct mig_foreign f;
	unsigned char *want = NULL;
	char **at = NULL, t[25];
	size_t i, j, k;
	int rc;

	if ((rc = refuse_dirty(st, err)) < 0 || (rc = find_adopter(&a, &f, db, err)) < 0)
		return rc;
	want = mig_xcalloc(g->nr + 1, 1);
	at = mig_xcalloc(g->nr + 1, sizeof(*at));
	for (j = 0; j < f.nr; j++) {
		if ((rc = adopted_rev(&k, g, a, &f, j, err)) < 0)
			goto out;
		want[k] = 1;
		if (f.second && f.second[j] && !at[k] && mig_time_utc(t, f.second[j]) == 0)
			at[k] = mig_xstrdup(t);
	}
	/* parents come before children in topo: walk it backwards to reach every ancestor */
	for (i = g->nr; a->heads && i-- > 0;)
		if (want[g->topo[i]])
			for (j = 0; j < g->revs[g->topo[i]]->npidx; j++)
				want[g->revs[g->topo[i]]->pidx[j]] = 1;
	for (i = 0; i < g->nr; i++) {
		const struct mig_rev *r = g->revs[k = g->topo[i]];

		if (want[k] && !mig_state_applied(st, k)) {
			items[(*n)++] = (struct fake_item){ r->name, r->id, r, F_RECORD, at[k] };
			at[k] = NULL;
		}
	}
	if (!*n)
		mig_say(MIG_SAY_NOTE, "nothing to adopt: %s's %s records nothing that is not applied", a->name,
			a->q.table);
out:
	for (i = 0; i < g->nr; i++)
		free(at[i]);
	free(at);
	free(want);
	mig_foreign_release(&f);
	return rc;
}

/*
 * Adopt a database another tool migrated: its pending revisions whose
 * versions that tool's bookkeeping records, in order.
 */
static int plan_adopt(const struct mig_state *st, struct mig_db *db, struct fake_item **items, size_t *n,
		      struct mig_err *err)
{
	const struct mig_graph *g = st->g;
	const struct mig_layout *l = mig_layout_of(g->style);
	struct mig_foreign f;
	unsigned char *seen;
	size_t i, j;
	int rc;

	if (!db)
		return mig_err_set(err, MIG_EUSAGE, "there is no database to adopt");
	if (!l)
		return plan_adopt_rewritten(st, db, *items, n, err);
	if ((rc = refuse_dirty(st, err)) < 0 || (rc = mig_db_foreign(db, l->name, &l->adopt, &f, err)) < 0)
		return rc;
	if (f.dirty) {
		rc = mig_err_set(err, MIG_EUNSAFE, "golang-migrate left version %s dirty", f.v[0]);
		mig_err_hint(err, "check the database and fix it with golang-migrate's force, then adopt");
		mig_foreign_release(&f);
		return rc;
	}
	seen = mig_xcalloc(f.nr + 1, 1);
	for (i = 0; i < g->nr; i++) {
		const struct mig_rev *r = g->revs[g->topo[i]];
		char *v = mig_layout_version(r);
		int want = 0;

		for (j = 0; j < f.nr && !want; j++)
			if (f.upto ? l->version_cmp(v, f.v[j]) <= 0 : !l->version_cmp(v, f.v[j])) {
				want = 1;
				seen[j] = 1;
			}
		free(v);
		if (want && !mig_state_applied(st, g->topo[i]))
			(*items)[(*n)++] = (struct fake_item){ r->name, r->id, r, F_RECORD, NULL };
	}
	for (j = 0; j < f.nr; j++)
		if (!seen[j] && !(f.upto && !l->version_cmp(f.v[j], "0")))
			mig_say(MIG_SAY_NOTE, "%s records version %s, which no revision here has",
				mig_layout_name(g->style), f.v[j]);
	if (!*n)
		mig_say(MIG_SAY_NOTE, "nothing to adopt: %s records nothing that is not applied",
			mig_layout_name(g->style));
	free(seen);
	mig_foreign_release(&f);
	return 0;
}

static int plan_fake(const struct mig_state *st, struct mig_db *db, enum mig_fake_kind kind, const char *arg,
		     int out_of_order, struct fake_item **items, size_t *n, struct mig_err *err)
{
	size_t *plan = NULL, i;
	long *recs = NULL;
	struct mig_target t;
	int rc = 0;

	*items = mig_xcalloc(st->applied.nr + st->g->nr + 1, sizeof(**items));
	*n = 0;
	switch (kind) {
	case MIG_FAKE_APPLY:
		if ((rc = mig_plan_up(st, arg, out_of_order, &plan, n, err)) < 0)
			break;
		for (i = 0; i < *n; i++) {
			const struct mig_rev *r = st->g->revs[plan[i]];

			(*items)[i] = (struct fake_item){ r->name, r->id, r, F_RECORD, NULL };
		}
		break;
	case MIG_FAKE_UNAPPLY:
		if ((rc = mig_plan_down(st, arg, &recs, n, err)) < 0)
			break;
		for (i = 0; i < *n; i++) {
			const struct mig_applied *a = &st->applied.v[recs[i]];

			(*items)[i] = (struct fake_item){ a->name, a->id, NULL, F_UNRECORD, NULL };
		}
		break;
	case MIG_FAKE_RESOLVE_APPLIED:
	case MIG_FAKE_RESOLVE_ROLLED_BACK:
		for (i = 0; i < st->applied.nr; i++) {
			const struct mig_applied *a = &st->applied.v[i];

			if (a->dirty)
				(*items)[(*n)++] = (struct fake_item){ a->name, a->id, NULL,
					kind == MIG_FAKE_RESOLVE_APPLIED ? F_CLEAN : F_UNRECORD, NULL };
		}
		if (!*n)
			mig_say(MIG_SAY_NOTE, "nothing is dirty");
		break;
	case MIG_FAKE_ADOPT:
		rc = plan_adopt(st, db, items, n, err);
		break;
	case MIG_FAKE_REHASH:
		if ((rc = refuse_dirty(st, err)) < 0 || (rc = mig_revspec(&t, st, arg, err)) < 0)
			break;
		if (t.kind != MIG_TARGET_REV) {
			rc = mig_err_set(err, MIG_EUSAGE, "'%s' names no single revision", arg);
		} else if (t.rec < 0) {
			rc = mig_err_set(err, MIG_EUSAGE, "%s is not applied: there is nothing to rehash", t.name);
		} else if (t.rev < 0) {
			rc = mig_err_set(err, MIG_EUSAGE, "%s: its file is missing", t.name);
		} else if (!strcmp(st->applied.v[t.rec].id, st->g->revs[t.rev]->id)) {
			mig_say(MIG_SAY_NOTE, "%s is unchanged since it was applied", t.name);
		} else {
			const struct mig_rev *r = st->g->revs[t.rev];

			(*items)[(*n)++] = (struct fake_item){ r->name, r->id, r, F_REHASH, NULL };
		}
		break;
	}
	free(plan);
	free(recs);
	return rc;
}

struct fake {
	enum mig_fake_kind kind;
	const char *arg;
	struct fake_item *items;
};

static int fake_plan(struct mig_run *run, struct mig_err *err)
{
	struct fake *f = run->arg;

	return plan_fake(&run->ctx->st, run->ctx->db, f->kind, f->arg, run->o->out_of_order, &f->items, &run->n,
			 err);
}

static void fake_release(struct mig_run *run)
{
	struct fake *f = run->arg;

	size_t i;

	for (i = 0; f->items && i < run->n; i++)
		free(f->items[i].at);
	free(f->items);
	f->items = NULL;
}

/* Everything a fake records, it records at once: no step is journaled unless all are. */
static int fake_execute(struct mig_run *run, struct mig_err *err)
{
	static const char *const verb[] = {
		[F_RECORD] = "recording as applied:",
		[F_UNRECORD] = "recording as not applied:",
		[F_CLEAN] = "recording as applied:",
		[F_REHASH] = "recording the new id of",
	};
	struct fake *f = run->arg;
	struct mig_db *db = run->ctx->db;
	const char **data = mig_xcalloc(run->n + 1, sizeof(*data));
	size_t *len = mig_xcalloc(run->n + 1, sizeof(*len)), i, nbodies = 0;
	int rc;

	for (i = 0; i < run->n; i++)
		if (f->items[i].body) {
			data[nbodies] = f->items[i].body->data;
			len[nbodies++] = f->items[i].body->len;
		}
	/* a baseline of a thousand revisions is one pack, as a run is */
	rc = mig_store_put_all(run->store, data, len, nbodies, err);
	free(data);
	free(len);
	if (rc < 0 || (rc = mig_db_begin(db, err)) < 0)
		return rc;
	for (i = 0; i < run->n && rc == 0; i++) {
		const struct fake_item *it = &f->items[i];

		mig_say(MIG_SAY_PROGRESS, "%s %s", verb[it->how], it->name);
		switch (it->how) {
		case F_RECORD:
			rc = mig_db_record(db, "app", it->name, it->id, 0, 0, err);
			if (rc == 0 && it->at)
				rc = mig_db_set_applied_at(db, "app", it->name, it->at, err);
			break;
		case F_UNRECORD:
			rc = mig_db_unrecord(db, "app", it->name, err);
			break;
		case F_CLEAN:
			rc = mig_db_update(db, "app", it->name, NULL, 0, err);
			break;
		case F_REHASH:
			rc = mig_db_update(db, "app", it->name, it->id, 0, err);
			break;
		}
		if (rc == 0)
			rc = mig_db_journal_add(db, run->token, run->kind->op, it->name, it->id, 0, NULL, err);
	}
	if (rc < 0 || (rc = record_schema(run, err)) < 0 || (rc = mig_db_commit(db, err)) < 0) {
		mig_db_rollback(db);
		run->schema[0] = '\0';
		return rc;
	}
	for (i = 0; i < run->n; i++) {
		run->names[i] = f->items[i].name;
		run->ids[i] = f->items[i].id;
	}
	run->done = run->n;
	return 0;
}

int mig_fake(const struct mig_settings *set, enum mig_fake_kind kind, const char *arg,
	     const struct mig_run_opts *o, struct mig_err *err)
{
	static const char *const op[] = {
		[MIG_FAKE_APPLY] = "fake",
		[MIG_FAKE_UNAPPLY] = "unapply",
		[MIG_FAKE_RESOLVE_APPLIED] = "resolve-applied",
		[MIG_FAKE_RESOLVE_ROLLED_BACK] = "resolve-rolled-back",
		[MIG_FAKE_REHASH] = "rehash",
		[MIG_FAKE_ADOPT] = "adopt",
	};
	struct mig_run_kind k = { op[kind], 1, 0, fake_plan, NULL, fake_execute, fake_release, 0, 0 };
	struct mig_run_opts fo = *o;
	struct fake f = { kind, arg, NULL };

	/* a fake runs no SQL: there is nothing to try in a dry run, nor to snapshot */
	fo.dry_run = 0;
	return mig_run_do(&k, &f, set, &fo, NULL, err);
}
