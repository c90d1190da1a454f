#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "diff.h"

static const char *const usage[] = {
	"mig diff [REV]",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_buf out = MIG_BUF_INIT;
	struct mig_settings set = { 0 };
	int rc = 0;
	const struct mig_opt opts[] = {
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	if (argc > 1)
		mig_usage_error("too many arguments");
	if (mig_settings_load(&set, &mig_globals, &err) < 0 || mig_diff(&out, &set, argc ? argv[0] : NULL, &err) < 0)
		rc = mig_report(&err);
	else if (out.len)
		fwrite(out.buf, 1, out.len, stdout);
	mig_buf_release(&out);
	mig_settings_release(&set);
	mig_shutdown();
	return mig_close_stdout(rc);
}
