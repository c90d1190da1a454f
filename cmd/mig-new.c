#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "config.h"
#include "newrev.h"

static const char *const usage[] = {
	"mig new NAME",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_settings set = { 0 };
	char *path = NULL;
	int rc = 0;
	const struct mig_opt opts[] = {
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	if (argc != 1)
		mig_usage_error(argc ? "too many arguments" : "a name is required");
	if (mig_settings_load(&set, &mig_globals, &err) < 0 || mig_new(&path, &set, argv[0], &err) < 0)
		rc = mig_report(&err);
	else
		printf("%s\n", path);
	free(path);
	mig_settings_release(&set);
	mig_shutdown();
	return mig_close_stdout(rc);
}
