#include "apply.h"
#include "cli.h"
#include "config.h"

static const char *const usage[] = {
	"mig redo REV [-q] [-v] [-n | --dry-run] [--no-backup] [--lock-timeout MS] [--accept-drift]",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_settings set = { 0 };
	struct mig_run_opts o = { 0 };
	int lock_timeout = -1, rc = 0;
	const struct mig_opt opts[] = {
		MIG_OPT_BOOL('n', "dry-run", &o.dry_run, "run it all in one transaction, then roll it back"),
		MIG_OPT_BOOL(0, "no-backup", &o.no_backup, "take no snapshot of the database first"),
		MIG_OPT_INT(0, "lock-timeout", &lock_timeout, "ms", "wait this long for another run (default 5000)"),
		MIG_OPT_BOOL(0, "accept-drift", &o.accept_drift, "run even if the schema was changed behind mig's back"),
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	if (argc != 1)
		mig_usage_error(argc ? "too many arguments" : "name the revision to redo");
	mig_globals.lock_timeout = lock_timeout;
	if (mig_settings_load(&set, &mig_globals, &err) < 0 || mig_redo(&set, argv[0], &o, &err) < 0)
		rc = mig_report(&err);
	mig_settings_release(&set);
	mig_shutdown();
	return mig_close_stdout(rc);
}
