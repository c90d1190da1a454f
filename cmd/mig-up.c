#include "apply.h"
#include "cli.h"

static const char *const usage[] = {
	"mig up [TARGET] [-q] [-n | --dry-run] [--no-backup] [--lock-timeout MS] [--out-of-order]",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_run_opts o = { .lock_timeout = -1, .progress = stderr };
	int rc = 0;
	const struct mig_opt opts[] = {
		MIG_OPT_BOOL('n', "dry-run", &o.dry_run, "run it all in one transaction, then roll it back"),
		MIG_OPT_BOOL(0, "no-backup", &o.no_backup, "take no snapshot of the database first"),
		MIG_OPT_INT(0, "lock-timeout", &o.lock_timeout, "ms", "wait this long for another run (default 5000)"),
		MIG_OPT_BOOL(0, "out-of-order", &o.out_of_order, "apply revisions older than applied ones"),
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	if (argc > 1)
		mig_usage_error("too many arguments");
	if (mig_globals.quiet)
		o.progress = NULL;
	o.verbose = mig_globals.verbose;
	if (mig_up(argc ? argv[0] : NULL, &o, &err) < 0)
		rc = mig_report(&err);
	mig_shutdown();
	return mig_close_stdout(rc);
}
