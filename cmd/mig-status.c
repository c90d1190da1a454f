#include <string.h>

#include "builtin.h"
#include "cli.h"
#include "ctx.h"
#include "status.h"

/*
 * Can a shell offer this name? One with a control character would be
 * split at its newline, or shown raw in a menu, and cannot be typed.
 */
static int completable(const char *name)
{
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/*
 * For completion: the revision names, from the files, and those applied
 * whose files are gone when there is a database to ask; not those a
 * shell cannot offer.
 */
static int list_revisions(struct mig_err *err)
{
	struct mig_ctx *ctx = NULL;
	size_t i;
	int rc;

	if ((rc = mig_ctx_open(&ctx, MIG_CTX_READ | MIG_CTX_CACHE, err)) == MIG_EUSAGE)
		rc = mig_ctx_open(&ctx, MIG_CTX_FILES, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < ctx->st.g->nr; i++)
		if (completable(ctx->st.g->revs[i]->name))
			printf("%s\n", ctx->st.g->revs[i]->name);
	for (i = 0; i < ctx->st.applied.nr; i++)
		if (ctx->st.rev[i] < 0 && completable(ctx->st.applied.v[i].name))
			printf("%s\n", ctx->st.applied.v[i].name);
	mig_ctx_close(ctx);
	return 0;
}

static const char *const usage[] = {
	"mig status [--check] [--porcelain | --json] [-v]",
	NULL,
};

int cmd_status(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_buf out = MIG_BUF_INIT;
	struct mig_ctx *ctx = NULL;
	int check = 0, porcelain = 0, json = 0, verbose = 0, revisions = 0, rc = 0;
	enum mig_format fmt = MIG_FMT_HUMAN;
	size_t findings;
	const struct mig_opt opts[] = {
		MIG_OPT_BOOL(0, "check", &check, "exit 1 when anything is pending or wrong"),
		MIG_OPT_BOOL(0, "porcelain", &porcelain, "tab-separated output for scripts"),
		MIG_OPT_BOOL(0, "json", &json, "one JSON document"),
		MIG_OPT_COUNT('v', "verbose", &verbose, "show ids and file paths"),
		MIG_OPT_BOOL(0, "list-revisions", &revisions, NULL),
		MIG_OPT_END(),
	};

	if (mig_cli_parse(argc, argv, opts, usage) > 0)
		mig_usage_error("unexpected argument '%s'", argv[0]);
	if (porcelain && json)
		mig_usage_error("--porcelain and --json cannot be used together");
	if (revisions) {
		if (list_revisions(&err) < 0)
			rc = mig_report(&err);
		goto out;
	}
	if (porcelain)
		fmt = MIG_FMT_PORCELAIN;
	else if (json)
		fmt = MIG_FMT_JSON;
	if (mig_ctx_open(&ctx, MIG_CTX_READ | MIG_CTX_SCHEMA | MIG_CTX_CACHE, &err) < 0) {
		rc = mig_report(&err);
		goto out;
	}
	findings = mig_status(&out, ctx, fmt, verbose, fmt == MIG_FMT_HUMAN && mig_want_color(stdout));
	fwrite(out.buf, 1, out.len, stdout);
	if (check && findings)
		rc = 1;
out:
	mig_buf_release(&out);
	mig_ctx_close(ctx);
	mig_shutdown();
	return mig_close_stdout(rc);
}
