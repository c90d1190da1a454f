#include <string.h>

#include "builtin.h"
#include "cli.h"
#include "config.h"
#include "drawgraph.h"
#include "status.h"

static const char *const usage[] = {
	"mig status [--check] [--porcelain | --json] [-v]",
	"mig status [--check] --graph [--dot]",
	NULL,
};

int cmd_status(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_buf out = MIG_BUF_INIT;
	struct mig_settings set = { 0 };
	int check = 0, porcelain = 0, json = 0, verbose = 0, revisions = 0, graph = 0, dot = 0;
	int rc = 0;
	enum mig_format fmt = MIG_FMT_HUMAN;
	size_t findings = 0;
	const struct mig_opt opts[] = {
		MIG_OPT_BOOL(0, "check", &check, "exit 1 when anything is pending or wrong"),
		MIG_OPT_BOOL(0, "porcelain", &porcelain, "tab-separated output for scripts"),
		MIG_OPT_BOOL(0, "json", &json, "one JSON document"),
		MIG_OPT_COUNT('v', "verbose", &verbose, "show ids and file paths"),
		MIG_OPT_BOOL(0, "graph", &graph, "draw the revisions as a graph, each with its state"),
		MIG_OPT_BOOL(0, "dot", &dot, "with --graph: the graph in Graphviz's dot language"),
		MIG_OPT_BOOL(0, "list-revisions", &revisions, NULL),
		MIG_OPT_END(),
	};

	if (mig_cli_parse(argc, argv, opts, usage) > 0)
		mig_usage_error("unexpected argument '%s'", argv[0]);
	if (porcelain && json)
		mig_usage_error("--porcelain and --json cannot be used together");
	if (dot && !graph)
		mig_usage_error("--dot goes with --graph");
	if (graph && (porcelain || json))
		mig_usage_error("--graph cannot be used with %s", porcelain ? "--porcelain" : "--json");
	if (porcelain)
		fmt = MIG_FMT_PORCELAIN;
	else if (json)
		fmt = MIG_FMT_JSON;
	if (mig_settings_load(&set, &mig_globals, &err) < 0 ||
	    (revisions ? mig_status_revisions(&out, &set, revisions == 2, &err) :
	     graph ? mig_drawgraph_show(&out, &set, dot, &findings, &err) :
			 mig_status_show(&out, &set, fmt, verbose, fmt == MIG_FMT_HUMAN && mig_want_color(stdout),
					 &findings, &err)) < 0)
		rc = mig_report(&err);
	else if (check && findings)
		rc = 1;
	fwrite(out.buf ? out.buf : "", 1, out.len, stdout);
	mig_buf_release(&out);
	mig_settings_release(&set);
	mig_shutdown();
	return mig_close_stdout(rc);
}
