#include "cli.h"
#include "init.h"

static const char *const usage[] = {
	"mig init [--database PATH] [--migrations DIR]",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	int rc = 0;
	const struct mig_opt opts[] = {
		MIG_OPT_END(),
	};

	if (mig_cli_parse(argc, argv, opts, usage) > 0)
		mig_usage_error("unexpected argument '%s'", argv[0]);
	if (mig_init(&mig_globals, &err) < 0)
		rc = mig_report(&err);
	mig_shutdown();
	return mig_close_stdout(rc);
}
