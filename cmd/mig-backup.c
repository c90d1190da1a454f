#include <stdio.h>

#include "backup.h"
#include "cli.h"
#include "config.h"

static const char *const usage[] = {
	"mig backup [-q] [--message MSG] [-o FILE | -] [--lock-timeout MS]",
	"mig backup --list [--porcelain | --json]",
	"mig backup --verify [ID]",
	"mig backup --prune KEEP [--lock-timeout MS]",
	NULL,
};

static void say_ok(const char *id, void *data)
{
	(void)data;
	printf("%s ok\n", id);
}

int main(int argc, char **argv)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_buf out = MIG_BUF_INIT;
	struct mig_settings set = { 0 };
	struct mig_backup_opts o = { NULL, NULL };
	int list = 0, porcelain = 0, json = 0, verify = 0, prune = -1, lock_timeout = -1, rc = 0, modes;
	char id[41] = "";
	const struct mig_opt opts[] = {
		MIG_OPT_STRING(0, "message", &o.message, "MSG", "say what the snapshot is for"),
		MIG_OPT_STRING('o', "output", &o.out, "FILE", "also write a gzip of the database image ('-': stdout)"),
		MIG_OPT_BOOL(0, "list", &list, "list the snapshots, newest first"),
		MIG_OPT_BOOL(0, "porcelain", &porcelain, "with --list: tab-separated output for scripts"),
		MIG_OPT_BOOL(0, "json", &json, "with --list: one JSON document"),
		MIG_OPT_BOOL(0, "verify", &verify, "re-read and check one snapshot, or all"),
		MIG_OPT_INT(0, "prune", &prune, "KEEP", "keep the newest KEEP snapshots, remove the rest"),
		MIG_OPT_INT(0, "lock-timeout", &lock_timeout, "ms", "wait this long for another run (default 5000)"),
		MIG_OPT_END(),
	};

	argc = mig_cli_parse(argc, argv, opts, usage);
	modes = !!list + !!verify + (prune >= 0);
	if (modes > 1)
		mig_usage_error("--list, --verify and --prune cannot be used together");
	if (argc > (verify ? 1 : 0))
		mig_usage_error("unexpected argument '%s'", argv[verify ? 1 : 0]);
	if ((porcelain || json) && !list)
		mig_usage_error("--porcelain and --json go with --list");
	if (porcelain && json)
		mig_usage_error("--porcelain and --json cannot be used together");
	if (modes && (o.message || o.out))
		mig_usage_error("--message and -o go with taking a snapshot");
	if (prune == 0)
		mig_usage_error("--prune 0 would remove every snapshot: KEEP must be at least 1");
	/* found now, not after the snapshot is taken */
	if (o.out && !*o.out)
		mig_usage_error("-o needs a file name, or '-' for standard output");
	mig_globals.lock_timeout = lock_timeout;
	if (mig_settings_load(&set, &mig_globals, &err) < 0)
		rc = -1;
	else if (list)
		rc = mig_backup_list(&out, &set, json ? MIG_FMT_JSON : porcelain ? MIG_FMT_PORCELAIN : MIG_FMT_HUMAN,
				     &err);
	else if (verify)
		rc = mig_backup_verify(&set, argc ? argv[0] : NULL, say_ok, NULL, &err);
	else if (prune > 0)
		rc = mig_backup_prune(&set, (size_t)prune, &err);
	else
		rc = mig_backup(&set, &o, id, &err);
	/* the id goes to stdout, unless the image does */
	if (*id)
		fprintf(o.out && o.out[0] == '-' && !o.out[1] ? stderr : stdout, "%s\n", id);
	fwrite(out.buf ? out.buf : "", 1, out.len, stdout);
	if (rc < 0)
		rc = mig_report(&err);
	mig_buf_release(&out);
	mig_settings_release(&set);
	mig_shutdown();
	return mig_close_stdout(rc);
}
