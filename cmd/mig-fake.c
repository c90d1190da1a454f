#include <string.h>

#include "apply.h"
#include "cli.h"
#include "config.h"

static const char *const usage[] = {
	"mig fake [-q] [--out-of-order] TARGET",
	"mig fake [-q] --unapply TARGET",
	"mig fake [-q] --resolve applied|rolled-back",
	"mig fake [-q] --rehash REV",
	"mig fake [-q] --adopt",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_run_opts o = { 0 };
	struct mig_settings set = { 0 };
	const char *resolve = NULL, *rehash = NULL, *unapply = NULL, *arg;
	int adopt = 0, lock_timeout = -1, rc = 0;
	enum mig_fake_kind kind = MIG_FAKE_APPLY;
	const struct mig_opt opts[] = {
		MIG_OPT_STRING(0, "unapply", &unapply, "TARGET", "record revisions after TARGET as not applied"),
		MIG_OPT_STRING(0, "resolve", &resolve, "applied|rolled-back",
			       "say how a dirty revision ended, and clear the dirty state"),
		MIG_OPT_STRING(0, "rehash", &rehash, "REV", "accept the edited file of an applied revision"),
		MIG_OPT_BOOL(0, "adopt", &adopt, "record what another tool (dbmate, goose, Alembic, Django, ...) applied"),
		MIG_OPT_BOOL(0, "out-of-order", &o.out_of_order, "record revisions older than applied ones"),
		MIG_OPT_INT(0, "lock-timeout", &lock_timeout, "ms", "wait this long for another run (default 5000)"),
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	mig_globals.lock_timeout = lock_timeout;
	if (!!unapply + !!resolve + !!rehash + adopt > 1)
		mig_usage_error("--unapply, --resolve, --rehash and --adopt cannot be used together");
	if ((unapply || resolve || rehash || adopt) ? argc > 0 : argc != 1)
		mig_usage_error(argc ? "too many arguments" : "no target given");
	arg = argc ? argv[0] : NULL;
	if (adopt) {
		kind = MIG_FAKE_ADOPT;
	} else if (unapply) {
		kind = MIG_FAKE_UNAPPLY;
		arg = unapply;
	} else if (rehash) {
		kind = MIG_FAKE_REHASH;
		arg = rehash;
	} else if (resolve) {
		if (!strcmp(resolve, "applied"))
			kind = MIG_FAKE_RESOLVE_APPLIED;
		else if (!strcmp(resolve, "rolled-back"))
			kind = MIG_FAKE_RESOLVE_ROLLED_BACK;
		else
			mig_usage_error("--resolve takes 'applied' or 'rolled-back', not '%s'", resolve);
	}
	if (mig_settings_load(&set, &mig_globals, &err) < 0 || mig_fake(&set, kind, arg, &o, &err) < 0)
		rc = mig_report(&err);
	mig_settings_release(&set);
	mig_shutdown();
	return mig_close_stdout(rc);
}
