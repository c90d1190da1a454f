#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "cli.h"
#include "config.h"
#include "snapshot.h"

static const char *const usage[] = {
	"mig restore [ID] [-q] [--no-backup] [--lock-timeout MS]",
	"mig restore -i FILE|- [-q] [--no-backup] [--lock-timeout MS]",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_settings set = { 0 };
	struct mig_store *store = NULL;
	const char *in = NULL, *dbpath, *spec;
	char id[41] = "", before[41] = "", subject[128];
	int quiet, no_backup = 0, lock_timeout = -1, timeout, fd = -1, rc = 0;
	const struct mig_opt opts[] = {
		MIG_OPT_STRING('i', "input", &in, "FILE", "restore a gzip of a database image ('-': stdin)"),
		MIG_OPT_BOOL(0, "no-backup", &no_backup, "take no snapshot of the current state first"),
		MIG_OPT_INT(0, "lock-timeout", &lock_timeout, "ms", "wait this long for another run (default 5000)"),
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	quiet = mig_globals.quiet;
	if (argc > 1 || (argc && in))
		mig_usage_error("unexpected argument '%s'", argv[in ? 0 : 1]);
	spec = argc ? argv[0] : NULL;
	if (mig_settings_load(&set, &mig_globals, &err) < 0 || mig_settings_database(&set, &dbpath, &err) < 0)
		goto fail;
	timeout = lock_timeout >= 0 ? lock_timeout : set.lock_timeout;
	if (in && strcmp(in, "-") && (fd = open(in, O_RDONLY | O_CLOEXEC)) < 0) {
		mig_err_errno(&err, MIG_EENV, "cannot open '%s'", in);
		goto fail;
	}
	if (!in && !mig_path_exists(set.store)) {
		mig_err_set(&err, MIG_EENV, "no snapshot in store '%s': it does not exist", set.store);
		mig_err_hint(&err, "take one with 'mig backup'");
		goto fail;
	}
	if (mig_store_open(&store, set.store, in != NULL, &err) < 0 || mig_store_lock(store, timeout, &err) < 0 ||
	    mig_store_journal_check(store, &err) < 0)
		goto fail;
	if (in) {
		struct mig_snapshot_opts o = { NULL, NULL, 0, timeout, mig_backup_progress(quiet) };

		snprintf(subject, sizeof(subject), "import %s", strcmp(in, "-") ? in : "from standard input");
		o.subject = subject;
		if (mig_snapshot_import(store, fd >= 0 ? fd : 0, strcmp(in, "-") ? in : "standard input", &o, id,
					&err) < 0 ||
		    mig_backup_journal(store, subject, "backup", id, NULL, "ok", &err) < 0)
			goto fail;
	} else if (mig_snapshot_resolve(store, spec, id, &err) < 0) {
		goto fail;
	}
	/* a damaged snapshot is refused before the current state is snapshot */
	if (mig_snapshot_check(store, id, &err) < 0)
		goto fail;
	if (!no_backup && set.backup &&
	    mig_backup_take(store, dbpath, "before restore", timeout, mig_backup_progress(quiet), before, &err) < 0)
		goto fail;
	snprintf(subject, sizeof(subject), "restore %.12s", id);
	if (mig_snapshot_restore(store, id, dbpath, timeout, mig_backup_progress(quiet), &err) < 0) {
		struct mig_err jerr = MIG_ERR_INIT;

		mig_backup_journal(store, subject, "restore", id, before, "failed", &jerr);
		goto fail;
	}
	if (mig_backup_journal(store, subject, "restore", id, before, "ok", &err) < 0) {
		mig_err_hint(&err, "'%s' is restored from snapshot %.12s all the same; only the journal lacks its entry",
			     dbpath, id);
		goto fail;
	}
	if (!quiet) {
		fprintf(stderr, "%s: restored snapshot %.12s into '%s'", mig_prog, id, dbpath);
		if (*before)
			fprintf(stderr, "; what was there is snapshot %.12s", before);
		fputc('\n', stderr);
	}
	goto out;
fail:
	rc = mig_report(&err);
out:
	if (fd >= 0)
		close(fd);
	mig_store_close(store);
	mig_settings_release(&set);
	mig_shutdown();
	return mig_close_stdout(rc);
}
