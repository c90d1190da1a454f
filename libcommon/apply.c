#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>
#include <sys/random.h>
#include <unistd.h>

#include "apply.h"
#include "backup.h"
#include "layout.h"
#include "cli.h"
#include "journal.h"
#include "revfile.h"
#include "revspec.h"
#include "store.h"
#include "util.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
			mig_err_hint(err, "put the file back as it was, or accept the edit with 'mig fake --rehash %s'",
				     a->name);
			return MIG_EUNSAFE;
		}
	}
	return 0;
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

/* One up, down or fake run under way: what its steps share. */
struct run {
	struct mig_db *db;
	struct mig_store *store;
	struct mig_store_job *bodies;	/* the run's bodies being written, or NULL */
	const char *op;
	char token[17];			/* names the run in the database and in its journal entry */
	char schema[41];		/* the schema recorded at the end */
	char snapshot[41];		/* taken before the run, or "" */
};

static void run_init(struct run *run, struct mig_db *db, struct mig_store *store, const char *op)
{
	unsigned char r[8];
	size_t i;

	memset(run, 0, sizeof(*run));
	run->db = db;
	run->store = store;
	run->op = op;
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		unsigned long long x = (unsigned long long)now_ms() ^ ((unsigned long long)getpid() << 40);

		memcpy(r, &x, sizeof(r));
	}
	for (i = 0; i < sizeof(r); i++)
		snprintf(run->token + 2 * i, 3, "%02x", r[i]);
}

/*
 * The journal commit of one operation: a subject line for 'git log
 * --oneline', then one line per fact, which mig log reads back. A run
 * cut short before its entry was written is journaled by the next one,
 * as "interrupted".
 */
static int journal(const struct run *run, const char *const *names, const char *const *ids,
		   const long long *ms, size_t n, const char *result, struct mig_err *err)
{
	struct mig_buf m = MIG_BUF_INIT;
	int rc;

	mig_journal_begin(&m, run->op, names, ids, ms, n);
	mig_buf_addf(&m, "result %s\n", result);
	if (*run->schema)
		mig_buf_addf(&m, "schema %s\n", run->schema);
	if (*run->snapshot)
		mig_buf_addf(&m, "snapshot %s\n", run->snapshot);
	mig_buf_addf(&m, "run %s\n", run->token);
	rc = mig_store_journal(run->store, m.buf, names, ids, n, err);
	mig_buf_release(&m);
	return rc;
}

/* Is the newest journal entry that of run token? */
static int journaled_cb(const struct mig_journal_entry *e, void *data)
{
	const char *token = data;
	const char *p = strstr(e->message, "\nrun ");

	return p && !strncmp(p + 5, token, 16) && (p[21] == '\n' || !p[21]) ? 1 : -1;
}

/*
 * Write the journal entries that runs cut short (killed, or the store
 * failing) left in the database, then forget them. Called under the
 * lock, before a run changes anything.
 */
static int journal_pending(struct mig_db *db, struct mig_store *store, struct mig_err *err)
{
	struct mig_journal_rows rows;
	size_t i, j;
	int rc;

	if ((rc = mig_db_journal_pending(db, &rows, err)) < 0 || !rows.nr)
		return rc;
	for (i = 0; i < rows.nr && rc == 0; i = j) {
		const char **names = mig_xcalloc(rows.nr + 1, sizeof(*names));
		const char **ids = mig_xcalloc(rows.nr + 1, sizeof(*ids));
		long long *ms = mig_xcalloc(rows.nr + 1, sizeof(*ms));
		struct run run;
		struct mig_err seen = MIG_ERR_INIT;

		run_init(&run, db, store, rows.v[i].op);
		snprintf(run.token, sizeof(run.token), "%s", rows.v[i].run);
		snprintf(run.snapshot, sizeof(run.snapshot), "%s", rows.v[i].snapshot ? rows.v[i].snapshot : "");
		for (j = i; j < rows.nr && !strcmp(rows.v[j].run, rows.v[i].run); j++) {
			names[j - i] = rows.v[j].name;
			ids[j - i] = rows.v[j].id;
			ms[j - i] = rows.v[j].ms;
		}
		/* the entry may be in the store already: the run died before it forgot it */
		if (mig_store_log(store, 1, journaled_cb, run.token, &seen) != 1)
			rc = journal(&run, names, ids, ms, j - i, "interrupted", err);
		free(names);
		free(ids);
		free(ms);
	}
	mig_journal_rows_release(&rows);
	return rc < 0 ? rc : mig_db_journal_clear(db, err);
}

int mig_journal_flush(const char *dbpath, struct mig_store *store, int timeout_ms, struct mig_err *err)
{
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_db *db = NULL;
	size_t n = 0;
	int rc;

	if (mig_backup_interrupted(mig_store_path(store)) &&
	    (rc = mig_backup_recover(store, dbpath, timeout_ms, err)) < 0)
		return rc;
	/*
	 * A look without waiting: a database that cannot be read now is the
	 * command's own to report (the entries wait for the next one)
	 */
	if (!mig_db_exists(dbpath) || mig_db_open(&db, dbpath, MIG_DB_READONLY, 0, &ignored) < 0)
		return 0;
	rc = mig_db_journal_count(db, &n, &ignored);
	mig_db_close(db);
	db = NULL;
	if (rc < 0 || !n)
		return 0;
	if ((rc = mig_db_open(&db, dbpath, 0, timeout_ms, err)) == 0)
		rc = journal_pending(db, store, err);
	mig_db_close(db);
	return rc;
}

/*
 * A command with nothing to do of its own still writes what runs (and
 * restores) cut short left for the journal, so that whatever command
 * comes next, no entry stays missing. Nothing is written when nothing
 * is left.
 */
static int nothing_to_do(struct mig_ctx *ctx, const struct mig_run_opts *o, struct mig_err *err)
{
	int timeout = o->lock_timeout >= 0 ? o->lock_timeout : ctx->settings.lock_timeout;
	struct mig_store *store = NULL;
	size_t n = 0;
	int rc = 0;

	if (o->dry_run || !ctx->settings.store)
		return 0;
	if (!mig_backup_interrupted(ctx->settings.store) &&
	    (!ctx->db || (rc = mig_db_journal_count(ctx->db, &n, err)) < 0 || !n))
		return rc;
	if ((rc = mig_store_open(&store, ctx->settings.store, 1, err)) == 0 &&
	    (rc = mig_store_lock(store, timeout, err)) == 0 &&
	    (rc = mig_store_journal_check(store, err)) == 0)
		rc = mig_journal_flush(ctx->settings.database, store, timeout, err);
	mig_store_close(store);
	return rc;
}

/*
 * Record the live schema's hash on the last applied revision, and the
 * schema itself in the store (so 'mig status -v' can show drift). Once
 * per run, so its cost does not grow with the number of revisions.
 */
static int record_schema(struct run *run, struct mig_err *err)
{
	struct mig_buf b = MIG_BUF_INIT;
	int rc;

	if ((rc = mig_db_schema(run->db, &b, err)) < 0)
		goto out;
	if (run->store)
		rc = mig_store_put(run->store, b.buf ? b.buf : "", b.len, run->schema, err);
	else
		mig_blob_id(run->schema, b.buf ? b.buf : "", b.len);
	if (rc == 0)
		rc = mig_db_set_schema_hash(run->db, run->schema, err);
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
static int record_run(struct run *run, const struct mig_rev *r, int up, int last, long long ms,
		      struct mig_err *err)
{
	int rc;

	if ((rc = mig_store_wait(&run->bodies, err)) < 0)
		return rc;
	if (r->no_transaction)
		rc = up ? mig_db_update(run->db, "app", r->name, NULL, 0, err) :
			  mig_db_unrecord(run->db, "app", r->name, err);
	else
		rc = up ? mig_db_record(run->db, "app", r->name, r->id, ms, 0, err) :
			  mig_db_unrecord(run->db, "app", r->name, err);
	if (rc == 0)
		rc = mig_db_journal_add(run->db, run->token, run->op, r->name, r->id, ms, run->snapshot, err);
	if (rc == 0 && last)
		rc = record_schema(run, err);
	return rc;
}

/*
 * Run one section in its own transaction together with its bookkeeping;
 * the last of a run also records the schema, in the same transaction.
 */
static int run_section(struct run *run, const struct mig_rev *r, const struct mig_section *sec, int up,
		       int last, long long *ms, struct mig_err *err)
{
	long long t0 = now_ms();
	char *where = mig_xasprintf("%s: %s", r->name, !up && r->down_path ? r->down_path : r->path);
	int rc;

	if (r->no_transaction) {
		/* dirty first, so a failure or a kill leaves a trace; its body stored before that */
		if ((rc = mig_store_wait(&run->bodies, err)) < 0 ||
		    (rc = up ? mig_db_record(run->db, "app", r->name, r->id, 0, 1, err) :
			       mig_db_update(run->db, "app", r->name, NULL, 1, err)) < 0)
			goto out;
		rc = mig_db_exec(run->db, where, sec->sql, sec->len, sec->line, MIG_EXEC_OWN_TX, err);
		if (rc == 0 && mig_db_in_transaction(run->db)) {
			mig_db_rollback(run->db);
			rc = mig_err_set(err, MIG_ESQL, "%s: the revision left a transaction open", where);
		}
		if (rc < 0) {
			mig_err_hint(err, "%s runs outside a transaction: it is recorded as dirty; check the "
				     "database, then 'mig fake --resolve applied|rolled-back'", r->name);
			goto out;
		}
		*ms = now_ms() - t0;
		if ((rc = mig_db_begin(run->db, err)) < 0)
			goto out;
		if ((rc = record_run(run, r, up, last, *ms, err)) < 0 || (rc = mig_db_commit(run->db, err)) < 0)
			goto fail;
		goto out;
	}
	if ((rc = mig_db_begin(run->db, err)) < 0)
		goto out;
	if ((rc = mig_db_defer_fks(run->db, err)) < 0 ||
	    (rc = mig_db_exec(run->db, where, sec->sql, sec->len, sec->line, 0, err)) < 0 ||
	    (rc = mig_db_fk_check(run->db, where, err)) < 0)
		goto fail;
	*ms = now_ms() - t0;
	if ((rc = record_run(run, r, up, last, *ms, err)) < 0 || (rc = mig_db_commit(run->db, err)) < 0)
		goto fail;
	goto out;
fail:
	mig_db_rollback(run->db);
out:
	free(where);
	return rc;
}

/*
 * After a failure, what did commit still needs its schema recorded, so
 * drift is not reported for it.
 */
static void record_schema_after_failure(struct run *run, size_t done)
{
	struct mig_err ignored = MIG_ERR_INIT;

	if (done && record_schema(run, &ignored) < 0)
		run->schema[0] = '\0';
}

/*
 * Open the store and take the lock, then the database for writing. A dry
 * run takes neither store nor lock (its one transaction keeps others out)
 * and only opens an existing store, to read revision bodies.
 */
static int open_for_change(struct mig_ctx **ctx, struct mig_store **store, int dry_run, int lock_timeout,
			   struct mig_err *err)
{
	int timeout = lock_timeout >= 0 ? lock_timeout : (*ctx)->settings.lock_timeout;
	char *storepath = mig_xstrdup((*ctx)->settings.store);
	char *dir = mig_xstrdup((*ctx)->settings.database), *slash = strrchr(dir, '/');
	int rc = 0;

	/* neither the store nor the database may create missing directories */
	if (slash && slash != dir && !dry_run) {
		*slash = '\0';
		if (!mig_path_exists(dir))
			rc = mig_err_set(err, MIG_EENV, "cannot create database '%s': directory '%s' does not exist",
					 (*ctx)->settings.database, dir);
	}
	free(dir);
	if (rc < 0) {
		free(storepath);
		return rc;
	}
	mig_ctx_close(*ctx);
	*ctx = NULL;
	if (dry_run) {
		if (mig_path_exists(storepath) && (rc = mig_store_open(store, storepath, 0, err)) < 0)
			goto out;
		rc = mig_ctx_open(ctx, MIG_CTX_WRITE | MIG_CTX_DRYRUN, err);
	} else if ((rc = mig_store_open(store, storepath, 1, err)) == 0 &&
		   (rc = mig_store_lock(*store, timeout, err)) == 0 &&
		   (rc = mig_store_journal_check(*store, err)) == 0) {
		rc = mig_ctx_open(ctx, MIG_CTX_WRITE, err);
	}
out:
	free(storepath);
	return rc;
}

/* Is there a database with something in it, before the run creates one? */
static int has_content(const struct mig_ctx *ctx)
{
	struct stat st;

	return ctx->settings.database && stat(ctx->settings.database, &st) == 0 && st.st_size > 0;
}

/*
 * Snapshot a database that had content before the run, once nothing can
 * be refused any more; not in a dry run, nor with --no-backup or
 * mig.backup = off.
 */
static int snapshot_before(const struct mig_ctx *ctx, struct mig_store *store, const char *op, int had_content,
			   const struct mig_run_opts *o, char snapshot[41], struct mig_err *err)
{
	int timeout = o->lock_timeout >= 0 ? o->lock_timeout : ctx->settings.lock_timeout;
	char subject[32];
	int rc;

	if (!had_content || o->dry_run || o->no_backup || !ctx->settings.backup)
		return 0;
	snprintf(subject, sizeof(subject), "before %s", op);
	if ((rc = mig_backup_take(store, ctx->settings.database, subject, timeout, o->progress && isatty(2),
				  snapshot, err)) == 0 && *snapshot && o->progress)
		fprintf(o->progress, "snapshot %.12s\n", snapshot);
	return rc;
}

static void say(const struct mig_run_opts *o, const char *verb, const char *name)
{
	if (o->progress)
		mig_note(o->progress, "%s %s%s\n", verb, name, o->dry_run ? " (dry run)" : "");
}

/* A dry run cannot undo what runs outside a transaction: it skips it. */
static int skip_in_dry_run(const struct mig_run_opts *o, const struct mig_rev *r)
{
	if (!o->dry_run || !r->no_transaction)
		return 0;
	if (o->progress)
		mig_note(stderr, "%s: skipping %s in a dry run: it runs outside a transaction\n", mig_prog, r->name);
	return 1;
}

/*
 * The end of an up or down run that got under way: after a failure, the
 * schema of what did commit; then the journal commit, the failed
 * revision journaled too, as the last one. A dry run leaves no trace.
 * Once the entry is in the store, the database forgets its copy; when
 * the store cannot take it, the copy stays for the next run to write,
 * and the run's own result stands.
 */
static int finish_run(struct run *run, const struct mig_run_opts *o, const char **names, const char **ids,
		      const long long *ms, size_t done, int rc, struct mig_err *err)
{
	struct mig_err jerr = MIG_ERR_INIT;

	/* the store is the body writer's until it is done; a failed revision's error comes first */
	if (mig_store_wait(&run->bodies, rc < 0 ? &jerr : err) < 0 && rc == 0)
		rc = err->code;
	if (o->dry_run || (!done && rc == 0))
		return rc;
	if (rc < 0)
		record_schema_after_failure(run, done);
	if (rc < 0 && *run->snapshot)
		mig_err_hint_add(err, "to go back to where this run started: mig restore %.12s", run->snapshot);
	/* the revision that failed, whatever failed in it, is the last one journaled */
	if ((journal(run, names, ids, ms, done + (rc < 0), rc < 0 ? "failed" : "ok", &jerr) < 0 ||
	     (done && mig_db_journal_clear(run->db, &jerr) < 0)) && done) {
		if (o->warnings)
			mig_note(o->warnings, "%s: warning: %s\n", mig_prog, jerr.msg);
		if (o->warnings)
			mig_note(o->warnings, "%s: warning: the database keeps the entry; the next run writes it\n",
				 mig_prog);
	}
	return rc;
}

/*
 * A run that is going to change the database: its token, and first the
 * journal entries an earlier run (or restore) cut short left behind. A
 * dry run changes nothing, and writes nothing.
 */
static int start_run(struct run *run, struct mig_ctx *ctx, struct mig_store *store, const struct mig_run_opts *o,
		     struct mig_err *err)
{
	int timeout = o->lock_timeout >= 0 ? o->lock_timeout : ctx->settings.lock_timeout;
	int rc;

	run->db = ctx->db;
	run->store = store;
	if (o->dry_run)
		return 0;
	if (mig_backup_interrupted(mig_store_path(store)) &&
	    (rc = mig_backup_recover(store, ctx->settings.database, timeout, err)) < 0)
		return rc;
	return journal_pending(ctx->db, store, err);
}

/*
 * Every body a run applies goes into the store, as one pack, while the
 * first revision runs; none commits before they are all there.
 */
static void store_bodies(struct mig_store_job **job, struct mig_store *store, const struct mig_graph *g,
			 const size_t *plan, size_t n, const char **data, size_t *len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		data[i] = g->revs[plan[i]]->data;
		len[i] = g->revs[plan[i]]->len;
	}
	mig_store_put_all_start(job, store, data, len, n);
}

int mig_up(const char *spec, const struct mig_run_opts *o, struct mig_err *err)
{
	struct mig_ctx *ctx = NULL;
	struct mig_store *store = NULL;
	struct mig_err ignored = MIG_ERR_INIT;
	const char **names = NULL, **ids = NULL, **data = NULL;
	long long *ms = NULL;
	size_t *plan = NULL, *len = NULL, n = 0, i, done = 0;
	struct run run;
	int rc, had_content;

	run_init(&run, NULL, NULL, "up");
	/* plan on a read-only look first: a bad request must not create anything */
	if ((rc = mig_ctx_open(&ctx, MIG_CTX_READ, err)) < 0 ||
	    (rc = mig_plan_up(&ctx->st, spec, o->out_of_order, &plan, &n, err)) < 0)
		goto out;
	if (!n) {
		rc = nothing_to_do(ctx, o, err);
		goto out;
	}
	had_content = has_content(ctx);
	free(plan);
	plan = NULL;
	if ((rc = open_for_change(&ctx, &store, o->dry_run, o->lock_timeout, err)) < 0 ||
	    (rc = start_run(&run, ctx, store, o, err)) < 0 ||
	    (rc = mig_plan_up(&ctx->st, spec, o->out_of_order, &plan, &n, err)) < 0 || !n ||
	    (rc = snapshot_before(ctx, store, "up", had_content, o, run.snapshot, err)) < 0)
		goto out;

	names = mig_xcalloc(n + 1, sizeof(*names));
	ids = mig_xcalloc(n + 1, sizeof(*ids));
	ms = mig_xcalloc(n + 1, sizeof(*ms));
	data = mig_xcalloc(n + 1, sizeof(*data));
	len = mig_xcalloc(n + 1, sizeof(*len));
	if (!o->dry_run)
		store_bodies(&run.bodies, store, ctx->st.g, plan, n, data, len);
	for (i = 0; i < n; i++) {
		const struct mig_rev *r = ctx->st.g->revs[plan[i]];

		names[i] = r->name;
		ids[i] = r->id;
		if (skip_in_dry_run(o, r))
			continue;
		say(o, "applying", r->name);
		if ((rc = run_section(&run, r, &r->up, 1, i == n - 1, &ms[i], err)) < 0)
			break;
		if (o->verbose && o->progress)
			mig_note(o->progress, "  %s took %lld ms\n", r->name, ms[i]);
		done++;
	}
	rc = finish_run(&run, o, names, ids, ms, done, rc, err);
out:
	mig_store_wait(&run.bodies, &ignored);
	free(names);
	free(ids);
	free(data);
	free(len);
	free(ms);
	free(plan);
	mig_ctx_close(ctx);
	mig_store_close(store);
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

	if (from_files) {
		if (st->rev[rec] < 0)
			return mig_err_set(err, MIG_EUNSAFE, "%s: its file is missing and --from-files was given",
					   a->name);
		const struct mig_rev *f = st->g->revs[st->rev[rec]];

		if ((rc = mig_rev_parse(out, a->name, f->path, f->data, f->len, err)) < 0)
			return rc;
		/* a two-file layout's body says where its lines really are */
		(*out)->style = f->style;
		(*out)->up.line = f->up.line;
		(*out)->down.line = f->down.line;
		if (f->down_path)
			(*out)->down_path = mig_xstrdup(f->down_path);
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
	path = st->rev[rec] >= 0 && !strcmp(st->g->revs[st->rev[rec]]->id, a->id) ?
		mig_xstrdup(st->g->revs[st->rev[rec]]->path) :
		mig_xasprintf("%s.sql (%.12s, from the store)", a->name, a->id);
	rc = mig_rev_parse(out, a->name, path, b.buf ? b.buf : "", b.len, err);
	free(path);
	mig_buf_release(&b);
	return rc;
}

int mig_down(const char *spec, const struct mig_run_opts *o, struct mig_err *err)
{
	struct mig_ctx *ctx = NULL;
	struct mig_store *store = NULL;
	struct mig_rev **bodies = NULL;
	const char **names = NULL, **ids = NULL;
	long long *ms = NULL;
	long *recs = NULL;
	size_t n = 0, i, done = 0;
	struct run run;
	int rc, had_content;

	run_init(&run, NULL, NULL, "down");
	if ((rc = mig_ctx_open(&ctx, MIG_CTX_READ, err)) < 0 ||
	    (rc = mig_plan_down(&ctx->st, spec, &recs, &n, err)) < 0)
		goto out;
	if (!n) {
		rc = nothing_to_do(ctx, o, err);
		goto out;
	}
	had_content = has_content(ctx);
	free(recs);
	recs = NULL;
	if ((rc = open_for_change(&ctx, &store, o->dry_run, o->lock_timeout, err)) < 0 ||
	    (rc = start_run(&run, ctx, store, o, err)) < 0 ||
	    (rc = mig_plan_down(&ctx->st, spec, &recs, &n, err)) < 0 || !n)
		goto out;
	bodies = mig_xcalloc(n + 1, sizeof(*bodies));
	names = mig_xcalloc(n + 1, sizeof(*names));
	ids = mig_xcalloc(n + 1, sizeof(*ids));
	ms = mig_xcalloc(n + 1, sizeof(*ms));
	/* every body and down section first: refuse before reverting anything */
	for (i = 0; i < n; i++) {
		if ((rc = mig_body_of(&bodies[i], &ctx->st, recs[i], store, o->from_files, err)) < 0)
			goto out;
		if (!bodies[i]->down.present) {
			rc = mig_err_set(err, MIG_EUNSAFE, "%s is irreversible: it has no '-- mig:down' section",
					 bodies[i]->name);
			mig_err_hint(err, "record it as reverted without running SQL with 'mig fake --unapply'");
			goto out;
		}
		names[i] = bodies[i]->name;
		ids[i] = ctx->st.applied.v[recs[i]].id;
	}
	if ((rc = snapshot_before(ctx, store, "down", had_content, o, run.snapshot, err)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (skip_in_dry_run(o, bodies[i]))
			continue;
		say(o, "reverting", bodies[i]->name);
		if ((rc = run_section(&run, bodies[i], &bodies[i]->down, 0, i == n - 1, &ms[i], err)) < 0)
			break;
		if (o->verbose && o->progress)
			mig_note(o->progress, "  %s took %lld ms\n", bodies[i]->name, ms[i]);
		done++;
	}
	rc = finish_run(&run, o, names, ids, ms, done, rc, err);
out:
	for (i = 0; bodies && i < n; i++)
		mig_rev_free(bodies[i]);
	free(bodies);
	free(names);
	free(ids);
	free(ms);
	free(recs);
	mig_ctx_close(ctx);
	mig_store_close(store);
	return rc;
}

/* What one fake operation records: revision, its id, and how. */
struct fake_item {
	const char *name;
	const char *id;
	const struct mig_rev *body;	/* to put in the store, or NULL */
	enum { F_RECORD, F_UNRECORD, F_CLEAN, F_REHASH } how;
};

/*
 * Adopt a database another tool migrated: its pending revisions whose
 * versions that tool's bookkeeping records, in order.
 */
static int plan_adopt(const struct mig_state *st, struct mig_db *db, struct fake_item **items, size_t *n,
		      struct mig_err *err)
{
	const struct mig_graph *g = st->g;
	struct mig_foreign f;
	unsigned char *seen;
	size_t i, j;
	int rc;

	if (!db)
		return mig_err_set(err, MIG_EUSAGE, "there is no database to adopt");
	if ((rc = refuse_dirty(st, err)) < 0 || (rc = mig_db_foreign(db, g->style, &f, err)) < 0)
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
			if (f.upto ? mig_layout_version_cmp(v, f.v[j]) <= 0 : !mig_layout_version_cmp(v, f.v[j])) {
				want = 1;
				seen[j] = 1;
			}
		free(v);
		if (want && !mig_state_applied(st, g->topo[i]))
			(*items)[(*n)++] = (struct fake_item){ r->name, r->id, r, F_RECORD };
	}
	for (j = 0; j < f.nr && !mig_globals.quiet; j++)
		if (!seen[j] && !(f.upto && !mig_layout_version_cmp(f.v[j], "0")))
			mig_note(stderr, "%s: %s records version %s, which no revision here has\n", mig_prog,
				mig_layout_name(g->style), f.v[j]);
	if (!*n && !mig_globals.quiet)
		fprintf(stderr, "%s: nothing to adopt: %s records nothing that is not applied\n", mig_prog,
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

			(*items)[i] = (struct fake_item){ r->name, r->id, r, F_RECORD };
		}
		break;
	case MIG_FAKE_UNAPPLY:
		if ((rc = mig_plan_down(st, arg, &recs, n, err)) < 0)
			break;
		for (i = 0; i < *n; i++) {
			const struct mig_applied *a = &st->applied.v[recs[i]];

			(*items)[i] = (struct fake_item){ a->name, a->id, NULL, F_UNRECORD };
		}
		break;
	case MIG_FAKE_RESOLVE_APPLIED:
	case MIG_FAKE_RESOLVE_ROLLED_BACK:
		for (i = 0; i < st->applied.nr; i++) {
			const struct mig_applied *a = &st->applied.v[i];

			if (a->dirty)
				(*items)[(*n)++] = (struct fake_item){ a->name, a->id, NULL,
					kind == MIG_FAKE_RESOLVE_APPLIED ? F_CLEAN : F_UNRECORD };
		}
		if (!*n && !mig_globals.quiet)
			fprintf(stderr, "%s: nothing is dirty\n", mig_prog);
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
			if (!mig_globals.quiet)
				mig_note(stderr, "%s: %s is unchanged since it was applied\n", mig_prog, t.name);
		} else {
			const struct mig_rev *r = st->g->revs[t.rev];

			(*items)[(*n)++] = (struct fake_item){ r->name, r->id, r, F_REHASH };
		}
		break;
	}
	free(plan);
	free(recs);
	return rc;
}

int mig_fake(enum mig_fake_kind kind, const char *arg, const struct mig_run_opts *o, struct mig_err *err)
{
	static const char *const op[] = {
		[MIG_FAKE_APPLY] = "fake",
		[MIG_FAKE_UNAPPLY] = "unapply",
		[MIG_FAKE_RESOLVE_APPLIED] = "resolve-applied",
		[MIG_FAKE_RESOLVE_ROLLED_BACK] = "resolve-rolled-back",
		[MIG_FAKE_REHASH] = "rehash",
		[MIG_FAKE_ADOPT] = "adopt",
	};
	static const char *const verb[] = {
		[F_RECORD] = "recording as applied:",
		[F_UNRECORD] = "recording as not applied:",
		[F_CLEAN] = "recording as applied:",
		[F_REHASH] = "recording the new id of",
	};
	struct mig_ctx *ctx = NULL;
	struct mig_store *store = NULL;
	struct fake_item *items = NULL;
	const char **names = NULL, **ids = NULL, **data = NULL;
	size_t n = 0, i, nbodies = 0, *len = NULL;
	struct run run;
	int rc;

	run_init(&run, NULL, NULL, op[kind]);

	if ((rc = mig_ctx_open(&ctx, MIG_CTX_READ, err)) < 0 ||
	    (rc = plan_fake(&ctx->st, ctx->db, kind, arg, o->out_of_order, &items, &n, err)) < 0)
		goto out;
	if (!n) {
		rc = nothing_to_do(ctx, o, err);
		goto out;
	}
	free(items);
	items = NULL;
	if ((rc = open_for_change(&ctx, &store, 0, o->lock_timeout, err)) < 0 ||
	    (rc = start_run(&run, ctx, store, o, err)) < 0 ||
	    (rc = plan_fake(&ctx->st, ctx->db, kind, arg, o->out_of_order, &items, &n, err)) < 0 || !n)
		goto out;
	names = mig_xcalloc(n + 1, sizeof(*names));
	ids = mig_xcalloc(n + 1, sizeof(*ids));
	data = mig_xcalloc(n + 1, sizeof(*data));
	len = mig_xcalloc(n + 1, sizeof(*len));
	for (i = 0; i < n; i++) {
		names[i] = items[i].name;
		ids[i] = items[i].id;
		if (items[i].body) {
			data[nbodies] = items[i].body->data;
			len[nbodies++] = items[i].body->len;
		}
	}
	/* a baseline of a thousand revisions is one pack, as a run is */
	if ((rc = mig_store_put_all(store, data, len, nbodies, err)) < 0)
		goto out;
	/* everything a fake records, it records at once */
	if ((rc = mig_db_begin(ctx->db, err)) < 0)
		goto out;
	for (i = 0; i < n && rc == 0; i++) {
		const struct fake_item *it = &items[i];

		if (o->progress)
			mig_note(o->progress, "%s %s\n", verb[it->how], it->name);
		switch (it->how) {
		case F_RECORD:
			rc = mig_db_record(ctx->db, "app", it->name, it->id, 0, 0, err);
			break;
		case F_UNRECORD:
			rc = mig_db_unrecord(ctx->db, "app", it->name, err);
			break;
		case F_CLEAN:
			rc = mig_db_update(ctx->db, "app", it->name, NULL, 0, err);
			break;
		case F_REHASH:
			rc = mig_db_update(ctx->db, "app", it->name, it->id, 0, err);
			break;
		}
		if (rc == 0)
			rc = mig_db_journal_add(ctx->db, run.token, run.op, it->name, it->id, 0, NULL, err);
	}
	if (rc < 0 || (rc = record_schema(&run, err)) < 0 ||
	    (rc = mig_db_commit(ctx->db, err)) < 0) {
		mig_db_rollback(ctx->db);
		goto out;
	}
	rc = finish_run(&run, o, names, ids, NULL, n, 0, err);
out:
	free(names);
	free(ids);
	free(data);
	free(len);
	free(items);
	mig_ctx_close(ctx);
	mig_store_close(store);
	return rc;
}
