#ifndef MIG_RUN_H
#define MIG_RUN_H
#include "config.h"
#include "ctx.h"
#include "err.h"
#include "store.h"

/*
 * One run sequence for every command that changes a database or its
 * store: up, down, fake, backup and restore.
 *
 *   plan (read-only) ── nothing to do? ──▶ journal what cut-short runs left; stop
 *        │
 *   lock the store ──▶ journal what cut-short runs left ──▶ plan again, under the lock
 *        │
 *   prepare (the last refusals) ──▶ snapshot ──▶ execute ──▶ journal
 *
 * Nothing is created before the lock, nothing is changed before the
 * snapshot, and whatever execute committed is journaled, even when it
 * failed half-way. A command is a struct mig_run_kind; what a run does
 * to the store goes through a struct mig_run_env, which tests replace.
 */

struct mig_run_opts {
	int out_of_order;	/* up: allow a revision whose descendants are applied */
	int from_files;		/* down: take down sections from the files, not the store */
	int dry_run;		/* run it all in one transaction and roll it back */
	int no_backup;		/* take no snapshot first (mig.backup = off does the same) */
	int accept_drift;	/* up, down: run on a schema changed behind mig's back */
};

struct mig_run;

struct mig_run_kind {
	const char *op;		/* "up", "down", "fake", "backup", "restore"... */
	int revisions;		/* the run needs the revisions and the database (run->ctx) */
	int snapshot;		/* snapshot a database with content before executing */
	/* what there is to do, into run->n and the kind's own state: 0 is nothing */
	int (*plan)(struct mig_run *run, struct mig_err *err);
	/* under the lock, after the plan: refuse now or never (may be NULL) */
	int (*prepare)(struct mig_run *run, struct mig_err *err);
	/*
	 * Do it. Each step done adds its name, id and time at run->done
	 * (run->names...) and counts it; a step that fails is named at
	 * run->done before it starts, so the journal names it last.
	 */
	int (*execute)(struct mig_run *run, struct mig_err *err);
	/* free what plan made; called after each plan and at the end (may be NULL) */
	void (*release)(struct mig_run *run);
	int journals_itself;	/* execute writes its own entry (restore: under its marker) */
	int schema;		/* plan with the live schema read (st.live_hash, st.drift) */
};

/* What a run does to the store: the real one, or a test's. */
struct mig_run_env {
	/* open the store (creating it), take its lock, check its journal can take an entry */
	int (*lock)(struct mig_run *run, struct mig_err *err);
	/* journal what cut-short runs and restores left; with pending_only, 1 when there is any */
	int (*flush)(struct mig_run *run, int pending_only, struct mig_err *err);
	/* snapshot the database into run->snapshot ("" when empty) */
	int (*snapshot)(struct mig_run *run, const char *subject, struct mig_err *err);
	/* append the run's entry, result "ok", "failed" or "interrupted" */
	int (*journal)(struct mig_run *run, const char *result, struct mig_err *err);
	void (*unlock)(struct mig_run *run);
	/*
	 * After a run that snapshot the database went well: keep the newest
	 * mig.backupKeep automatic snapshots, prune the older ones, journal
	 * it (may be NULL)
	 */
	int (*prune)(struct mig_run *run, struct mig_err *err);
};
extern const struct mig_run_env mig_run_store;

struct mig_run {
	const struct mig_run_kind *kind;
	const struct mig_run_env *env;
	const struct mig_settings *set;
	const struct mig_run_opts *o;
	void *arg;			/* the kind's own */
	struct mig_ctx *ctx;		/* with kind->revisions */
	struct mig_store *store;	/* once locked; in a dry run an existing store, or NULL */
	struct mig_store_job *bodies;	/* bodies being stored, or NULL */
	size_t n;			/* the plan's steps */
	char token[17];			/* names the run in the database and in its journal entry */
	char schema[41];		/* the schema recorded at the end, or "" */
	char snapshot[41];		/* taken before the run (or by it), or "" */
	char before[41];		/* restore: the snapshot of what it replaced */
	const char *subject;		/* the entry's subject; NULL: from the revisions */
	char *drift;			/* drift the run was told to accept, for its entry, or NULL */
	/* what was done, in order, and the step that failed after them */
	const char **names, **ids;
	long long *ms;
	size_t done;
	int dirty;			/* a failed step may have left changes behind */
	int journaled;			/* the run's entry is in the store */
};

/*
 * Run kind with arg on the database and store set names, through env
 * (NULL: mig_run_store).
 */
int mig_run_do(const struct mig_run_kind *kind, void *arg, const struct mig_settings *set,
	       const struct mig_run_opts *o, const struct mig_run_env *env, struct mig_err *err);

/* A new run's token, 16 hex digits. */
void mig_run_token(char token[17]);

/*
 * Write to the store's journal the entries that runs cut short (killed,
 * or their store failing) left in the database at dbpath, and forget
 * them there; journal a restore cut short. The caller holds the lock.
 */
int mig_journal_flush(const char *dbpath, struct mig_store *store, int timeout_ms, struct mig_err *err);

#endif
