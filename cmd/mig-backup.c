#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "backup.h"
#include "cli.h"
#include "config.h"
#include "snapshot.h"

static const char *const usage[] = {
	"mig backup [-q] [-m MSG] [-o FILE | -] [--lock-timeout MS]",
	"mig backup --list [--porcelain | --json]",
	"mig backup --verify [ID]",
	"mig backup --prune KEEP [--lock-timeout MS]",
	NULL,
};

struct args {
	const char *message, *out;
	int quiet, list, porcelain, json, verify, prune, lock_timeout;
};

/* The store as it is; a missing one is an empty one (store stays NULL). */
static int open_existing(struct mig_store **store, const struct mig_settings *set, struct mig_err *err)
{
	*store = NULL;
	return mig_path_exists(set->store) ? mig_store_open(store, set->store, 0, err) : 0;
}

static int list(const struct args *a, const struct mig_settings *set, struct mig_err *err)
{
	struct mig_snapshot_list l = { NULL, 0 };
	struct mig_store *store;
	struct mig_buf out = MIG_BUF_INIT;
	int rc;

	if ((rc = open_existing(&store, set, err)) < 0)
		return rc;
	if (!store || (rc = mig_snapshot_list(store, &l, err)) == 0) {
		mig_snapshot_show(&out, &l, a->json ? MIG_FMT_JSON : a->porcelain ? MIG_FMT_PORCELAIN : MIG_FMT_HUMAN);
		if (out.len)
			fwrite(out.buf, 1, out.len, stdout);
	}
	mig_buf_release(&out);
	mig_snapshot_list_release(&l);
	mig_store_close(store);
	return rc;
}

static int verify(const struct args *a, const char *spec, const struct mig_settings *set, struct mig_err *err)
{
	struct mig_snapshot_list l = { NULL, 0 };
	struct mig_store *store;
	char id[41];
	size_t i;
	int rc;

	if ((rc = open_existing(&store, set, err)) < 0)
		return rc;
	if (!store && spec) {
		mig_err_set(err, MIG_EENV, "no snapshot in store '%s': it does not exist", set->store);
		mig_err_hint(err, "take one with 'mig backup'");
		return MIG_EENV;
	}
	if (!store) {
		fprintf(stderr, "%s: there are no snapshots to verify\n", mig_prog);
	} else if (spec) {
		if ((rc = mig_snapshot_resolve(store, spec, id, err)) == 0 &&
		    (rc = mig_snapshot_verify(store, id, mig_backup_progress(a->quiet), err)) == 0)
			printf("%s ok\n", id);
	} else if ((rc = mig_snapshot_list(store, &l, err)) == 0) {
		for (i = 0; i < l.nr && rc == 0; i++)
			if ((rc = mig_snapshot_verify(store, l.v[i].id, mig_backup_progress(a->quiet), err)) == 0)
				printf("%s ok\n", l.v[i].id);
	}
	mig_snapshot_list_release(&l);
	mig_store_close(store);
	return rc;
}

static int lock_store(struct mig_store **store, const struct args *a, const struct mig_settings *set,
		      struct mig_err *err)
{
	int rc;

	if ((rc = mig_store_open(store, set->store, 1, err)) < 0 ||
	    (rc = mig_store_lock(*store, a->lock_timeout >= 0 ? a->lock_timeout : set->lock_timeout, err)) < 0)
		return rc;
	/* what is done here is journaled: a journal that cannot take it stops it first */
	return mig_store_journal_check(*store, err);
}

static int prune(const struct args *a, const struct mig_settings *set, struct mig_err *err)
{
	struct mig_store *store = NULL;
	size_t pruned, removed, left;
	uint64_t freed;
	int rc;

	if ((rc = lock_store(&store, a, set, err)) == 0 &&
	    (rc = mig_snapshot_prune(store, (size_t)a->prune, &pruned, &removed, &freed, &left, err)) == 0) {
		if (!a->quiet)
			fprintf(stderr, "%s: pruned %zu snapshot%s; removed %zu object%s (%.1f MiB)\n", mig_prog,
				pruned, pruned == 1 ? "" : "s", removed, removed == 1 ? "" : "s", freed / 1048576.0);
		if (!a->quiet && left)
			fprintf(stderr, "%s: %zu object%s only they used stay%s in a pack git keeps (a .keep file)\n",
				mig_prog, left, left == 1 ? "" : "s", left == 1 ? "s" : "");
		if (pruned) {
			char subject[64];

			snprintf(subject, sizeof(subject), "prune: keep %d", a->prune);
			rc = mig_backup_journal(store, subject, "prune", NULL, NULL, "ok", err);
		}
	}
	mig_store_close(store);
	return rc;
}

/*
 * Open -o's file: "-" is stdout, which must not be a terminal; a file is
 * written aside and renamed over it once whole. Neither may be the
 * database, its journals or in the store.
 */
static int open_out(const char *path, const char *dbpath, const struct mig_settings *set, struct mig_outfile *of,
		    struct mig_err *err)
{
	int rc;

	if (!strcmp(path, "-") && isatty(1))
		return mig_err_set(err, MIG_EUSAGE, "refusing to write a compressed image to a terminal");
	if ((rc = mig_backup_check_output(path, dbpath, set->store, err)) < 0)
		return rc;
	if (!strcmp(path, "-")) {
		of->fd = 1;
		of->name = "standard output";
		return 0;
	}
	return mig_outfile_open(of, path, err);
}

static int take(const struct args *a, const struct mig_settings *set, struct mig_err *err)
{
	struct mig_outfile of = { -1, NULL, NULL, NULL };
	struct mig_store *store = NULL;
	const char *dbpath;
	char id[41] = "";
	int to_stdout = a->out && !strcmp(a->out, "-"), rc;
	int timeout = a->lock_timeout >= 0 ? a->lock_timeout : set->lock_timeout;

	if ((rc = mig_settings_database(set, &dbpath, err)) < 0)
		return rc;
	if (!mig_db_exists(dbpath))
		return mig_err_set(err, MIG_EENV, "database '%s' does not exist", dbpath);
	if (a->out && (rc = open_out(a->out, dbpath, set, &of, err)) < 0)
		goto out;
	/* what a run cut short left for the journal goes there first, not into the snapshot */
	if ((rc = lock_store(&store, a, set, err)) < 0 ||
	    (rc = mig_journal_flush(dbpath, store, timeout, err)) < 0 ||
	    (rc = mig_backup_take(store, dbpath, a->message ? a->message : "backup", timeout,
				  mig_backup_progress(a->quiet), id, err)) < 0)
		goto out;
	if (!*id) {
		rc = mig_err_set(err, MIG_EENV, "database '%s' is empty: there is nothing to snapshot", dbpath);
		goto out;
	}
	/* the id goes to stdout, unless the image does */
	fprintf(to_stdout ? stderr : stdout, "%s\n", id);
	if ((rc = mig_backup_journal(store, a->message ? a->message : "backup", "backup", id, NULL, "ok", err)) < 0)
		goto out;
	if (of.fd >= 0 &&
	    (rc = mig_snapshot_export(store, id, of.fd, of.name, mig_backup_progress(a->quiet), err)) == 0 &&
	    !to_stdout)
		rc = mig_outfile_commit(&of, err);
out:
	if (!to_stdout)
		mig_outfile_release(&of);
	mig_store_close(store);
	return rc;
}

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_settings set = { 0 };
	struct args a = { .prune = -1, .lock_timeout = -1 };
	int rc = 0, modes;
	const struct mig_opt opts[] = {
		MIG_OPT_STRING('m', "message", &a.message, "MSG", "say what the snapshot is for"),
		MIG_OPT_STRING('o', "output", &a.out, "FILE", "also write a gzip of the database image ('-': stdout)"),
		MIG_OPT_BOOL(0, "list", &a.list, "list the snapshots, newest first"),
		MIG_OPT_BOOL(0, "porcelain", &a.porcelain, "with --list: tab-separated output for scripts"),
		MIG_OPT_BOOL(0, "json", &a.json, "with --list: one JSON document"),
		MIG_OPT_BOOL(0, "verify", &a.verify, "re-read and check one snapshot, or all"),
		MIG_OPT_INT(0, "prune", &a.prune, "KEEP", "keep the newest KEEP snapshots, remove the rest"),
		MIG_OPT_INT(0, "lock-timeout", &a.lock_timeout, "ms", "wait this long for another run (default 5000)"),
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	a.quiet = mig_globals.quiet;
	modes = !!a.list + !!a.verify + (a.prune >= 0);
	if (modes > 1)
		mig_usage_error("--list, --verify and --prune cannot be used together");
	if (argc > (a.verify ? 1 : 0))
		mig_usage_error("unexpected argument '%s'", argv[a.verify ? 1 : 0]);
	if ((a.porcelain || a.json) && !a.list)
		mig_usage_error("--porcelain and --json go with --list");
	if (a.porcelain && a.json)
		mig_usage_error("--porcelain and --json cannot be used together");
	if (modes && (a.message || a.out))
		mig_usage_error("-m and -o go with taking a snapshot");
	if (a.prune == 0)
		mig_usage_error("--prune 0 would remove every snapshot: KEEP must be at least 1");
	/* found now, not after the snapshot is taken */
	if (a.out && !*a.out)
		mig_usage_error("-o needs a file name, or '-' for standard output");
	if (mig_settings_load(&set, &mig_globals, &err) < 0)
		rc = mig_report(&err);
	else if ((a.list ? list(&a, &set, &err) :
		  a.verify ? verify(&a, argc ? argv[0] : NULL, &set, &err) :
		  a.prune >= 0 ? prune(&a, &set, &err) : take(&a, &set, &err)) < 0)
		rc = mig_report(&err);
	mig_settings_release(&set);
	mig_shutdown();
	return mig_close_stdout(rc);
}
