#include "backup.h"
#include "cli.h"
#include "config.h"

static const char *const usage[] = {
	"mig restore [ID] [-q] [--no-backup] [--lock-timeout MS]",
	"mig restore -i FILE|- [-q] [--no-backup] [--lock-timeout MS]",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_settings set = { 0 };
	struct mig_restore_opts o = { NULL, NULL, 0 };
	int lock_timeout = -1, rc = 0;
	const struct mig_opt opts[] = {
		MIG_OPT_STRING('i', "input", &o.input, "FILE", "restore a gzip of a database image ('-': stdin)"),
		MIG_OPT_BOOL(0, "no-backup", &o.no_backup, "take no snapshot of the current state first"),
		MIG_OPT_INT(0, "lock-timeout", &lock_timeout, "ms", "wait this long for another run (default 5000)"),
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	if (argc > 1 || (argc && o.input))
		mig_usage_error("unexpected argument '%s'", argv[o.input ? 0 : 1]);
	o.spec = argc ? argv[0] : NULL;
	mig_globals.lock_timeout = lock_timeout;
	if (mig_settings_load(&set, &mig_globals, &err) < 0 || mig_restore(&set, &o, &err) < 0)
		rc = mig_report(&err);
	mig_settings_release(&set);
	mig_shutdown();
	return mig_close_stdout(rc);
}
