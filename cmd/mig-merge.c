#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctx.h"
#include "newrev.h"
#include "revspec.h"

static const char *const usage[] = {
	"mig merge [-m NAME] [REV...]",
	NULL,
};

/* Add name to parents unless it is there already. */
static void add_parent(const char **parents, size_t *n, const char *name)
{
	size_t j;

	for (j = 0; j < *n; j++)
		if (!strcmp(parents[j], name))
			return;
	parents[(*n)++] = name;
}

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_ctx *ctx = NULL;
	const char **parents = NULL, *name = "merge";
	const struct mig_graph *g;
	size_t i, j, n = 0;
	char *path = NULL;
	int rc = 0;
	const struct mig_opt opts[] = {
		MIG_OPT_STRING('m', "name", &name, "name", "name of the merge revision (default: merge)"),
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	if (mig_ctx_open(&ctx, MIG_CTX_FILES, &err) < 0)
		goto fail;
	g = ctx->st.g;
	parents = mig_xcalloc(g->nheads + argc + 1, sizeof(*parents));
	if (!argc) {
		for (i = 0; i < g->nheads; i++)
			parents[n++] = g->revs[g->heads[i]]->name;
	}
	for (i = 0; i < (size_t)argc; i++) {
		struct mig_target t;

		if (mig_revspec(&t, &ctx->st, argv[i], &err) < 0)
			goto fail;
		/* each head once, however often it is named: there are no more parents than heads */
		if (t.kind == MIG_TARGET_HEADS) {
			for (j = 0; j < g->nheads; j++)
				add_parent(parents, &n, g->revs[g->heads[j]]->name);
			continue;
		}
		if (t.kind != MIG_TARGET_REV || t.rev < 0 || g->revs[t.rev]->nchildren) {
			mig_err_set(&err, MIG_EUSAGE, "'%s' is not a head", argv[i]);
			mig_err_hint(&err, "only heads can be merged; see 'mig status'");
			goto fail;
		}
		add_parent(parents, &n, t.name);
	}
	if (n < 2) {
		mig_err_set(&err, MIG_EUSAGE, "nothing to merge: %s",
			    argc ? "name at least two heads" :
			    g->nheads ? "there is only one head" : "there are no revisions");
		goto fail;
	}
	if (mig_newrev_write(&path, g, name, parents, n, &err) < 0)
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
