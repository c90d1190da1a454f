#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "journal.h"
#include "report.h"
#include "run.h"
#include "schemafile.h"
#include "snapshot.h"
#include "util.h"

void mig_run_token(char token[17])
{
	unsigned char r[8];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		unsigned long long x;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = (unsigned long long)ts.tv_nsec ^ (unsigned long long)ts.tv_sec << 30 ^
		    (unsigned long long)getpid() << 40;
		memcpy(r, &x, sizeof(r));
	}
	for (i = 0; i < sizeof(r); i++)
		snprintf(token + 2 * i, 3, "%02x", r[i]);
}

/* ---- the store's part of a run ---- */

/*
 * The entry of the run: a subject line for 'git log --oneline', then
 * one line per fact, which mig log reads back (journal.h).
 */
static int store_journal(struct mig_run *run, const char *result, struct mig_err *err)
{
	struct mig_journal_facts f = { result, run->schema, run->snapshot, run->before, run->token, run->drift };
	struct mig_buf m = MIG_BUF_INIT;
	int rc;

	size_t i;

	if (run->subject) {
		mig_journal_head(&m, run->subject, run->kind->op);
		for (i = 0; i < run->done; i++)
			mig_journal_add_rev(&m, run->ids[i], run->names[i], &run->ms[i]);
	} else {
		mig_journal_begin(&m, run->kind->op, run->names, run->ids, run->ms, run->done);
	}
	mig_journal_end(&m, &f);
	rc = mig_store_journal(run->store, m.buf, run->names, run->ids, run->done, err);
	mig_buf_release(&m);
	return rc;
}

/* Is the newest journal entry that of run token? */
static int journaled_cb(const struct mig_journal_entry *e, void *data)
{
	struct mig_journal_op op;
	int same;

	mig_journal_parse(&op, e->message);
	same = op.run && !strcmp(op.run, data);
	mig_journal_op_release(&op);
	return same ? 1 : -1;
}

/*
 * Write the journal entries that runs cut short (killed, or the store
 * failing) left in the database, then forget them. Called under the
 * lock, before a run changes anything.
 */
static int journal_pending(struct mig_db *db, struct mig_store *store, struct mig_err *err)
{
	static const struct mig_run_kind cut_short = { "?", 0, 0, NULL, NULL, NULL, NULL, 0, 0 };
	struct mig_journal_rows rows;
	size_t i, j;
	int rc;

	if ((rc = mig_db_journal_pending(db, &rows, err)) < 0 || !rows.nr)
		return rc;
	for (i = 0; i < rows.nr && rc == 0; i = j) {
		struct mig_run_kind kind = cut_short;
		struct mig_run run = { .kind = &kind, .store = store };
		struct mig_err seen = MIG_ERR_INIT;

		kind.op = rows.v[i].op;
		run.names = mig_xcalloc(rows.nr + 1, sizeof(*run.names));
		run.ids = mig_xcalloc(rows.nr + 1, sizeof(*run.ids));
		run.ms = mig_xcalloc(rows.nr + 1, sizeof(*run.ms));
		snprintf(run.token, sizeof(run.token), "%s", rows.v[i].run);
		snprintf(run.snapshot, sizeof(run.snapshot), "%s", rows.v[i].snapshot ? rows.v[i].snapshot : "");
		for (j = i; j < rows.nr && !strcmp(rows.v[j].run, rows.v[i].run); j++) {
			run.names[j - i] = rows.v[j].name;
			run.ids[j - i] = rows.v[j].id;
			run.ms[j - i] = rows.v[j].ms;
		}
		run.done = j - i;
		/* the entry may be in the store already: the run died before it forgot it */
		if (mig_store_log(store, 1, journaled_cb, run.token, &seen) != 1)
			rc = store_journal(&run, "interrupted", err);
		free(run.names);
		free(run.ids);
		free(run.ms);
	}
	mig_journal_rows_release(&rows);
	return rc < 0 ? rc : mig_db_journal_clear(db, err);
}

/* Journal a restore that was cut short, if one was. */
static int recover_restore(struct mig_store *store, const char *dbpath, int timeout_ms, struct mig_err *err)
{
	return mig_backup_interrupted(mig_store_path(store)) ? mig_backup_recover(store, dbpath, timeout_ms, err) : 0;
}

int mig_journal_flush(const char *dbpath, struct mig_store *store, int timeout_ms, struct mig_err *err)
{
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_db *db = NULL;
	size_t n = 0;
	int rc;

	if ((rc = recover_restore(store, dbpath, timeout_ms, err)) < 0)
		return rc;
	/*
	 * A look without waiting: a database that cannot be read now is the
	 * command's own to report (the entries wait for the next one)
	 */
	if (!dbpath || !mig_db_exists(dbpath) || mig_db_open(&db, dbpath, MIG_DB_READONLY, 0, &ignored) < 0)
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

static int store_lock(struct mig_run *run, struct mig_err *err)
{
	int rc;

	/* a dry run takes no lock (its one transaction keeps others out), and only reads bodies */
	if (run->o->dry_run)
		return mig_path_exists(run->set->store) ? mig_store_open(&run->store, run->set->store, 0, err) : 0;
	if ((rc = mig_store_open(&run->store, run->set->store, 1, err)) < 0 ||
	    (rc = mig_store_lock(run->store, run->set->lock_timeout, err)) < 0)
		return rc;
	/* what is done is journaled: a journal that cannot take it stops the run first */
	return mig_store_journal_check(run->store, err);
}

static int store_flush(struct mig_run *run, int pending_only, struct mig_err *err)
{
	size_t n = 0;
	int rc;

	if (run->o->dry_run)
		return 0;
	if (pending_only) {
		if (mig_backup_interrupted(run->set->store))
			return 1;
		if (!run->ctx || !run->ctx->db)
			return 0;
		if ((rc = mig_db_journal_count(run->ctx->db, &n, err)) < 0)
			return rc;
		return n > 0;
	}
	/* the run's own database when it has one open, else a look at the file */
	if (!run->ctx || !run->ctx->db)
		return mig_journal_flush(run->set->database, run->store, run->set->lock_timeout, err);
	if ((rc = recover_restore(run->store, run->set->database, run->set->lock_timeout, err)) < 0)
		return rc;
	return journal_pending(run->ctx->db, run->store, err);
}

static int store_snapshot(struct mig_run *run, const char *subject, struct mig_err *err)
{
	return mig_backup_take(run->store, run->set->database, subject, run->set->lock_timeout,
			       mig_backup_progress(), run->snapshot, err);
}

static void store_unlock(struct mig_run *run)
{
	mig_store_close(run->store);
	run->store = NULL;
}

/*
 * Automatic snapshots pile up, one a run: keep the newest backupKeep of
 * them. What the user asked for (mig backup, an import) stays.
 */
static int store_prune(struct mig_run *run, struct mig_err *err)
{
	struct mig_journal_facts f = { "ok", NULL, NULL, NULL, run->token, NULL };
	struct mig_buf m = MIG_BUF_INIT;
	size_t keep = (size_t)run->set->backup_keep, pruned, removed, left;
	uint64_t freed;
	char subject[80];
	int rc;

	if (!keep)
		return 0;
	if ((rc = mig_snapshot_prune(run->store, keep, mig_snapshot_is_automatic, NULL, &pruned, &removed, &freed,
				     &left, err)) < 0 || !pruned)
		return rc;
	mig_say(MIG_SAY_NOTE, "pruned %zu automatic snapshot%s (mig.backupKeep = %zu)", pruned,
		pruned == 1 ? "" : "s", keep);
	snprintf(subject, sizeof(subject), "prune: keep %zu automatic", keep);
	mig_journal_head(&m, subject, "prune");
	mig_journal_end(&m, &f);
	rc = mig_store_journal(run->store, m.buf, NULL, NULL, 0, err);
	mig_buf_release(&m);
	return rc;
}

const struct mig_run_env mig_run_store = {
	store_lock, store_flush, store_snapshot, store_journal, store_unlock, store_prune,
};

/* ---- the sequence ---- */

static void release_plan(struct mig_run *run)
{
	if (run->kind->release)
		run->kind->release(run);
	run->n = 0;
}

/* Plan anew, on a fresh look at the revisions and the database when mode is given. */
static int plan(struct mig_run *run, int mode, struct mig_err *err)
{
	int rc;

	release_plan(run);
	if (run->kind->revisions && mode >= 0) {
		mig_ctx_close(run->ctx);
		run->ctx = NULL;
		if ((rc = mig_ctx_open(&run->ctx, run->set, mode | (run->kind->schema ? MIG_CTX_SCHEMA : 0), err)) < 0)
			return rc;
	}
	return run->kind->plan(run, err);
}

/*
 * Neither the store nor the database may create missing directories:
 * refuse before the lock creates the store.
 */
static int check_dir(const struct mig_run *run, struct mig_err *err)
{
	char *dir, *slash;
	int rc = 0;

	if (!run->kind->revisions || run->o->dry_run || !run->set->database || mig_db_is_url(run->set->database))
		return 0;
	dir = mig_xstrdup(run->set->database);
	if ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (!mig_path_exists(dir))
			rc = mig_err_set(err, MIG_EENV, "cannot create database '%s': directory '%s' does not exist",
					 run->set->database, dir);
	}
	free(dir);
	return rc;
}

/*
 * A command with nothing to do of its own still writes what runs (and
 * restores) cut short left for the journal, so that whatever command
 * comes next, no entry stays missing. Nothing is written when nothing
 * is left.
 */
static int nothing_to_do(struct mig_run *run, struct mig_err *err)
{
	int rc;

	if (run->o->dry_run || !run->set->store)
		return 0;
	if ((rc = run->env->flush(run, 1, err)) <= 0)
		return rc;
	mig_ctx_close(run->ctx);
	run->ctx = NULL;
	if ((rc = run->env->lock(run, err)) == 0)
		rc = run->env->flush(run, 0, err);
	return rc;
}

/* Is there a database with something in it, before the run creates one? */
/*
 * The end of a run that got under way: after a failure, the way back;
 * then the entry, the failed step journaled too, as the last one. A
 * dry run leaves no trace. Once the entry is in the store, the database
 * forgets its copy; when the store cannot take it, the copy stays for
 * the next run to write, and the run's own result stands.
 */
static int finish(struct mig_run *run, int rc, struct mig_err *err)
{
	struct mig_err jerr = MIG_ERR_INIT;
	size_t done = run->done;

	/* the store is the body writer's until it is done; a failed step's error comes first */
	if (mig_store_wait(&run->bodies, rc < 0 ? &jerr : err) < 0 && rc == 0)
		rc = err->code;
	if (run->o->dry_run)
		return rc;
	if (run->kind->journals_itself) {
		run->journaled = rc == 0;
		return rc;
	}
	/* the way back, when there is something to go back from: not after a clean rollback */
	if (rc < 0 && *run->snapshot && (done || run->dirty))
		mig_err_hint_add(err, "to go back to where this run started: mig restore %.12s", run->snapshot);
	/* the step that failed, whatever failed in it, is the last one journaled */
	if (rc < 0 && run->names && run->names[done])
		run->done++;
	if (!run->store || (!run->done && (rc < 0 || !run->subject))) {
		run->done = done;
		return rc;
	}
	run->journaled = run->env->journal(run, rc < 0 ? "failed" : "ok", &jerr) == 0;
	if ((!run->journaled ||
	     (done && run->ctx && run->ctx->db && mig_db_journal_clear(run->ctx->db, &jerr) < 0)) && done) {
		mig_say(MIG_SAY_WARNING, "%s", jerr.msg);
		mig_say(MIG_SAY_WARNING, "the database keeps the entry; the next run writes it");
	} else if (jerr.code && rc == 0) {
		rc = mig_err_set(err, jerr.code, "%s", jerr.msg);
	}
	run->done = done;
	return rc;
}

/* Room for each step's name, id and time, and the one that failed. */
static void steps_alloc(struct mig_run *run)
{
	run->names = mig_xcalloc(run->n + 1, sizeof(*run->names));
	run->ids = mig_xcalloc(run->n + 1, sizeof(*run->ids));
	run->ms = mig_xcalloc(run->n + 1, sizeof(*run->ms));
}

int mig_run_do(const struct mig_run_kind *kind, void *arg, const struct mig_settings *set,
	       const struct mig_run_opts *o, const struct mig_run_env *env, struct mig_err *err)
{
	struct mig_run run = { .kind = kind, .env = env ? env : &mig_run_store, .set = set, .o = o, .arg = arg };
	struct mig_err ignored = MIG_ERR_INIT;
	int rc, wants_snapshot, snapshot = 0, ctx_mode = MIG_CTX_WRITE | (o->dry_run ? MIG_CTX_DRYRUN : 0);

	/*
	 * A reader of the run's output that goes away (mig up 2>&1 | head
	 * -1) must not end it between two revisions: a write to the pipe
	 * fails, and the run goes on (pg_dump and psql get the default back).
	 */
	signal(SIGPIPE, SIG_IGN);
	mig_run_token(run.token);
	/* plan on a read-only look first: a bad request must not create anything */
	if ((rc = plan(&run, MIG_CTX_READ, err)) < 0)
		goto out;
	if (!run.n) {
		rc = nothing_to_do(&run, err);
		goto out;
	}
	/* a run that snapshots, of a database with something in it: asked on the plan's connection */
	wants_snapshot = kind->snapshot && !o->dry_run && !o->no_backup && set->backup && set->database &&
		      mig_db_has_content(set->database, run.ctx ? run.ctx->db : NULL);
	release_plan(&run);
	mig_ctx_close(run.ctx);
	run.ctx = NULL;
	if ((rc = check_dir(&run, err)) < 0 || (rc = run.env->lock(&run, err)) < 0)
		goto out;
	if (kind->revisions && (rc = mig_ctx_open(&run.ctx, set, ctx_mode | (kind->schema ? MIG_CTX_SCHEMA : 0),
						  err)) < 0)
		goto out;
	/* what cut-short runs left is journaled before this one changes anything */
	if ((rc = run.env->flush(&run, 0, err)) < 0 || (rc = plan(&run, -1, err)) < 0 || !run.n)
		goto out;
	steps_alloc(&run);
	if (kind->prepare && (rc = kind->prepare(&run, err)) < 0)
		goto out;
	if (wants_snapshot) {
		char subject[64];

		snprintf(subject, sizeof(subject), "before %s", kind->op);
		if ((rc = run.env->snapshot(&run, subject, err)) < 0)
			goto out;
		snapshot = *run.snapshot != '\0';
		/* a step of a run of revisions; a restore says it in its own words */
		if (*run.snapshot && kind->revisions)
			mig_say(MIG_SAY_PROGRESS, "snapshot %.12s", run.snapshot);
	}
	rc = kind->execute(&run, err);
	rc = finish(&run, rc, err);
	/* the run's result stands: a schema file or a prune that fails after it is a warning */
	if (rc == 0 && !o->dry_run && set->schema_file && (kind->revisions || kind->snapshot)) {
		struct mig_err serr = MIG_ERR_INIT;

		if (mig_schema_file_write(set, &serr) < 0)
			mig_say(MIG_SAY_WARNING, "mig.schemaFile: %s; the run itself succeeded", serr.msg);
	}
	if (rc == 0 && snapshot && run.journaled && run.env->prune) {
		struct mig_err perr = MIG_ERR_INIT;

		if (run.env->prune(&run, &perr) < 0)
			mig_say(MIG_SAY_WARNING, "cannot prune automatic snapshots: %s", perr.msg);
	}
out:
	mig_store_wait(&run.bodies, &ignored);
	release_plan(&run);
	free(run.names);
	free(run.ids);
	free(run.ms);
	free(run.drift);
	mig_ctx_close(run.ctx);
	if (run.store)
		run.env->unlock(&run);
	return rc;
}
