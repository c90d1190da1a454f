#include "cli.h"
#include "config.h"
#include "sqlshow.h"

static const char *const usage[] = {
	"mig sqlshow [TARGET] [--down] [--from-files]",
	"mig sqlshow --revision REV [--down]",
	"mig sqlshow --schema [TARGET]",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_buf out = MIG_BUF_INIT;
	struct mig_settings set = { 0 };
	const char *revision = NULL;
	int down = 0, schema = 0, from_files = 0, rc = 0, r;
	const struct mig_opt opts[] = {
		MIG_OPT_BOOL(0, "down", &down, "what mig down would run (default target -1)"),
		MIG_OPT_STRING(0, "revision", &revision, "REV", "one revision's section, as written"),
		MIG_OPT_BOOL(0, "schema", &schema, "the schema applying up to TARGET to an empty database gives"),
		MIG_OPT_BOOL(0, "from-files", &from_files, "with --down: the files' down sections, not the store's"),
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	if (argc > 1)
		mig_usage_error("too many arguments");
	if (revision && (schema || argc))
		mig_usage_error(schema ? "--revision and --schema cannot be used together" :
			"--revision takes no other revision");
	if (schema && down)
		mig_usage_error("--schema and --down cannot be used together");
	if (mig_settings_load(&set, &mig_globals, &err) < 0)
		r = -1;
	else if (revision)
		r = mig_sqlshow_revision(&out, &set, revision, down, &err);
	else if (schema)
		r = mig_sqlshow_schema(&out, &set, argc ? argv[0] : NULL, &err);
	else
		r = mig_sqlshow_run(&out, &set, argc ? argv[0] : NULL, down, from_files, &err);
	if (r < 0)
		rc = mig_report(&err);
	else
		if (out.len)
			fwrite(out.buf, 1, out.len, stdout);
	mig_buf_release(&out);
	mig_settings_release(&set);
	mig_shutdown();
	return mig_close_stdout(rc);
}
