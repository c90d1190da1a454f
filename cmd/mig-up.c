#include "run.h"

static const char *const usage[] = {
	"mig up [TARGET] [-q] [-v] [-n | --dry-run] [--no-backup] [--lock-timeout MS] [--accept-drift] [--out-of-order]",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_run_opts o = { 0 };

	return run_main(argc, argv, usage, &o,
			(struct mig_opt)MIG_OPT_BOOL(0, "out-of-order", &o.out_of_order,
						     "apply revisions older than applied ones"),
			mig_up);
}
