#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "ctx.h"
#include "newrev.h"

static const char *const usage[] = {
	"mig new NAME",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_ctx *ctx = NULL;
	const char **parents = NULL;
	char *path = NULL;
	const struct mig_graph *g;
	int rc = 0;
	size_t i;
	const struct mig_opt opts[] = {
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	if (argc != 1)
		mig_usage_error(argc ? "too many arguments" : "a name is required");
	if (mig_ctx_open(&ctx, MIG_CTX_FILES | MIG_CTX_MKDIR, &err) < 0)
		goto fail;
	g = ctx->st.g;
	parents = mig_xcalloc(g->nheads + 1, sizeof(*parents));
	for (i = 0; i < g->nheads; i++)
		parents[i] = g->revs[g->heads[i]]->name;
	if (mig_newrev_write(&path, g, argv[0], parents, g->nheads, &err) < 0)
		goto fail;
	printf("%s\n", path);
	goto out;
fail:
	rc = mig_report(&err);
out:
	free(path);
	free(parents);
	mig_ctx_close(ctx);
	mig_shutdown();
	return mig_close_stdout(rc);
}
