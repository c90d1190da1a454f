#include "run.h"

static const char *const usage[] = {
	"mig down [TARGET] [-q] [-v] [-n | --dry-run] [--no-backup] [--lock-timeout MS] [--accept-drift] [--from-files]",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_run_opts o = { 0 };

	return run_main(argc, argv, usage, &o,
			(struct mig_opt)MIG_OPT_BOOL(0, "from-files", &o.from_files,
						     "use the down sections of the files, not the store"),
			mig_down);
}
