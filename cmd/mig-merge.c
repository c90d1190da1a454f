#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "config.h"
#include "newrev.h"

static const char *const usage[] = {
	"mig merge [--name NAME] [REV...]",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_settings set = { 0 };
	const char *name = "merge";
	char *path = NULL;
	int rc = 0;
	const struct mig_opt opts[] = {
		MIG_OPT_STRING(0, "name", &name, "NAME", "name of the merge revision (default: merge)"),
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	if (mig_settings_load(&set, &mig_globals, &err) < 0 || mig_merge(&path, &set, name, argv, (size_t)argc, &err) < 0)
		rc = mig_report(&err);
	else
		printf("%s\n", path);
	free(path);
	mig_settings_release(&set);
	mig_shutdown();
	return mig_close_stdout(rc);
}
