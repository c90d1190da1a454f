#include "cli.h"
#include "config.h"
#include "drawgraph.h"
#include "journal.h"

static const char *const usage[] = {
	"mig log [-v] [-n N] [--porcelain | --json]",
	"mig log --graph [--dot]",
	NULL,
};

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_buf out = MIG_BUF_INIT;
	struct mig_settings set = { 0 };
	int porcelain = 0, json = 0, verbose = 0, max = 0, graph = 0, dot = 0, rc = 0;
	size_t findings;
	enum mig_format fmt = MIG_FMT_HUMAN;
	const struct mig_opt opts[] = {
		MIG_OPT_COUNT('v', "verbose", &verbose, "show each operation's revisions and schema"),
		MIG_OPT_INT('n', "max-count", &max, "N", "show only the newest N operations"),
		MIG_OPT_BOOL(0, "porcelain", &porcelain, "tab-separated output for scripts"),
		MIG_OPT_BOOL(0, "json", &json, "one JSON document"),
		MIG_OPT_BOOL(0, "graph", &graph, "draw the revisions as a graph, each with its state"),
		MIG_OPT_BOOL(0, "dot", &dot, "with --graph: the graph in Graphviz's dot language"),
		MIG_OPT_END(),
	};

	if (mig_cli_parse(argc, argv, opts, usage) > 0)
		mig_usage_error("unexpected argument '%s'", argv[0]);
	if (porcelain && json)
		mig_usage_error("--porcelain and --json cannot be used together");
	if (dot && !graph)
		mig_usage_error("--dot goes with --graph");
	if (graph && (porcelain || json || max))
		mig_usage_error("--graph cannot be used with %s", porcelain ? "--porcelain" : json ? "--json" : "-n");
	fmt = porcelain ? MIG_FMT_PORCELAIN : json ? MIG_FMT_JSON : MIG_FMT_HUMAN;
	if (mig_settings_load(&set, &mig_globals, &err) < 0 ||
	    (graph ? mig_drawgraph_show(&out, &set, dot, &findings, &err) :
		     mig_log(&out, &set, (size_t)max, fmt, verbose, &err)) < 0)
		rc = mig_report(&err);
	else if (out.len)
		fwrite(out.buf, 1, out.len, stdout);
	mig_buf_release(&out);
	mig_settings_release(&set);
	mig_shutdown();
	return mig_close_stdout(rc);
}
