#include <git2.h>

#include "cli.h"
#include "err.h"

static int ready;

void mig_git_need(void)
{
	if (!ready)
		ready = git_libgit2_init() > 0;
}

void mig_shutdown(void)
{
	if (ready)
		git_libgit2_shutdown();
	ready = 0;
}

int mig_err_git(struct mig_err *err, int code, const char *what)
{
	const git_error *e = git_error_last();

	return mig_err_set(err, code, "%s: %s", what,
			   e && e->message ? e->message : "unknown libgit2 error");
}
