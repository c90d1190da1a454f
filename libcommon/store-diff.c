/* Unified diffs, as git writes them, with libgit2's diff. */
#include <git2.h>

#include "cli.h"
#include "store.h"

int mig_store_diff(struct mig_buf *out, const char *old, size_t oldlen, const char *oldname, const char *new,
		   size_t newlen, const char *newname, struct mig_err *err)
{
	git_diff_options opts;
	git_patch *patch = NULL;
	git_buf b = { NULL, 0, 0 };
	int rc;

	if ((rc = mig_git_need(err)) < 0)
		return rc;
	if (git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION) < 0 ||
	    git_patch_from_buffers(&patch, old, oldlen, oldname, new, newlen, newname, &opts) < 0 ||
	    git_patch_to_buf(&b, patch) < 0)
		rc = mig_err_git(err, MIG_EENV, "cannot diff");
	else if (b.size)
		mig_buf_add(out, b.ptr, b.size);
	git_buf_dispose(&b);
	git_patch_free(patch);
	return rc;
}
