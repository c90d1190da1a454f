#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

struct mig_globals mig_globals = { .lock_timeout = -1 };
const char *mig_prog = "mig";

static const char *chdir_to;

static const struct mig_opt global_opts[] = {
	MIG_OPT_STRING('C', NULL, &chdir_to, "dir", "run as if started in DIR"),
	MIG_OPT_STRING('d', "database", &mig_globals.database, "path", "the database: a file, or a postgres:// URL"),
	MIG_OPT_STRING('m', "migrations", &mig_globals.migrations, "dir", "the migrations directory"),
	MIG_OPT_STRING(0, "store", &mig_globals.store, "dir", "the store (default DATABASE.mig)"),
	MIG_OPT_COUNT('q', "quiet", &mig_globals.quiet, "no notes or progress on stderr (data and errors stay)"),
	MIG_OPT_COUNT('v', "verbose", &mig_globals.verbose, "say more"),
	MIG_OPT_END(),
};

static void print_usage(FILE *f, const struct mig_opt *opts, const char *const *usage)
{
	const struct mig_opt *tables[2] = { opts, global_opts };
	int i, t;

	for (i = 0; usage[i]; i++)
		fprintf(f, "%s %s\n", i ? "   or:" : "usage:", usage[i]);
	for (t = 0; t < 2; t++) {
		const struct mig_opt *o;

		if (tables[t][0].type != MIG_OPT_END_)
			fputc('\n', f);
		for (o = tables[t]; o->type != MIG_OPT_END_; o++) {
			char left[64];
			int n = 0;

			if (!o->help)
				continue;	/* hidden: for completion */
			if (o->short_name && o->long_name)
				n = snprintf(left, sizeof(left), "-%c, --%s", o->short_name, o->long_name);
			else if (o->short_name)
				n = snprintf(left, sizeof(left), "-%c", o->short_name);
			else
				n = snprintf(left, sizeof(left), "--%s", o->long_name);
			if (o->argname && n < (int)sizeof(left))
				snprintf(left + n, sizeof(left) - n, " %s", o->argname);
			fprintf(f, "    %-24s %s\n", left, o->help);
		}
	}
}

static const struct mig_opt *const *cur_tables;
static const char *const *cur_usage;

/*
 * "PROG: error: MSG" on stderr, a terminal too: a message names files and
 * revisions, whose names may hold anything, so its control characters
 * are shown escaped and it stays one line.
 */
static void error_line(struct mig_buf *b, const char *msg)
{
	mig_buf_addf(b, "%s: error: ", mig_prog);
	mig_buf_add_tty(b, msg, strlen(msg));
	mig_buf_addc(b, '\n');
}

void mig_usage_error(const char *fmt, ...)
{
	struct mig_buf b = MIG_BUF_INIT;
	char msg[MIG_ERR_MSG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_line(&b, msg);
	fwrite(b.buf, 1, b.len, stderr);
	mig_buf_release(&b);
	if (cur_usage) {
		fputc('\n', stderr);
		print_usage(stderr, cur_tables[0], cur_usage);
	}
	exit(2);
}

/*
 * --help shows the manual, as in git: the page beside the binaries (the
 * build tree's bin/../man, or an install's bin/../share/man), else
 * whatever man(1) finds. Returns
 * only when there is none, or no man(1), for the usage to stand in.
 */
static void show_manual(void)
{
	char self[PATH_MAX], page[PATH_MAX + 64], *cmd;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	fflush(stdout);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/'))) {
			*slash = '\0';
			snprintf(page, sizeof(page), "%s/../man/%s.1", self, mig_prog);
			if (access(page, R_OK) < 0)
				snprintf(page, sizeof(page), "%s/../share/man/man1/%s.1", self, mig_prog);
			if (access(page, R_OK) == 0)
				execlp("man", "man", "-l", page, (char *)NULL);	/* returns without man(1) */
		}
	}
	cmd = mig_xasprintf("man -w %s >/dev/null 2>&1", mig_prog);
	if (system(cmd) == 0)
		execlp("man", "man", mig_prog, (char *)NULL);
	free(cmd);
}

static const struct mig_opt *find_long(const char *name, size_t len)
{
	int t;

	for (t = 0; t < 2; t++) {
		const struct mig_opt *o;

		for (o = cur_tables[t]; o->type != MIG_OPT_END_; o++)
			if (o->long_name && strlen(o->long_name) == len && !strncmp(o->long_name, name, len))
				return o;
	}
	return NULL;
}

/*
 * The option a mistyped --name most likely meant: the only one it is a
 * prefix of, else the nearest by edit distance when that is at most a
 * third of its length (one slip in three letters); NULL when none is
 * that close. Hidden options are never suggested.
 */
static const char *nearest_long(const char *name, size_t len)
{
	char *typed = mig_xstrndup(name, len);
	const char *best = NULL, *prefixed = NULL;
	size_t bestd = (size_t)-1, nprefixed = 0;
	int t;

	for (t = 0; t < 2; t++) {
		const struct mig_opt *o;

		for (o = cur_tables[t]; o->type != MIG_OPT_END_; o++) {
			size_t d;

			if (!o->long_name || !o->help)
				continue;
			if (len >= 2 && !strncmp(o->long_name, typed, len))
				prefixed = o->long_name, nprefixed++;
			if ((d = mig_edit_distance(typed, o->long_name)) < bestd)
				bestd = d, best = o->long_name;
		}
	}
	free(typed);
	if (nprefixed == 1)
		return prefixed;
	return best && bestd * 3 <= len ? best : NULL;
}

static const struct mig_opt *find_short(char c)
{
	int t;

	for (t = 0; t < 2; t++) {
		const struct mig_opt *o;

		for (o = cur_tables[t]; o->type != MIG_OPT_END_; o++)
			if (o->short_name == c)
				return o;
	}
	return NULL;
}

void mig_cli_list_options(const struct mig_opt *opts, int described)
{
	const struct mig_opt *tables[2] = { opts, global_opts };
	struct mig_buf b = MIG_BUF_INIT;
	int t;

	for (t = 0; t < 2; t++) {
		const struct mig_opt *o;

		for (o = tables[t]; o->type != MIG_OPT_END_; o++) {
			char name[64];

			if (!o->help)
				continue;
			if (o->long_name)
				snprintf(name, sizeof(name), "--%s%s", o->long_name, o->argname ? "=" : "");
			else
				snprintf(name, sizeof(name), "-%c", o->short_name);
			if (described)
				mig_buf_add_candidate(&b, name, o->help);
			else
				mig_buf_addf(&b, "%s\n", name);
		}
	}
	if (described)
		mig_buf_add_candidate(&b, "--help", "show the manual");
	else
		mig_buf_adds(&b, "--help\n");
	fwrite(b.buf, 1, b.len, stdout);
	mig_buf_release(&b);
}

/*
 * For completion: the values of option --name (or name), when its
 * argument is a choice ("applied|rolled-back"), one a line; nothing
 * for any other option.
 */
static void list_values(const char *name)
{
	const struct mig_opt *o;
	const char *p;

	if (!strncmp(name, "--", 2))
		name += 2;
	if (!(o = find_long(name, strlen(name))) || !o->argname || !strchr(o->argname, '|'))
		return;
	for (p = o->argname; *p; p += *p == '|') {
		size_t n = strcspn(p, "|");

		printf("%.*s\n", (int)n, p);
		p += n;
	}
}

static void set_value(const struct mig_opt *o, const char *arg, const char *spelled)
{
	char *end;
	long v;

	switch (o->type) {
	case MIG_OPT_BOOL_:
		*(int *)o->value = 1;
		break;
	case MIG_OPT_COUNT_:
		(*(int *)o->value)++;
		break;
	case MIG_OPT_STRING_:
		*(const char **)o->value = arg;
		break;
	case MIG_OPT_INT_:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (!*arg || *end || errno || v < 0 || v > 0x7fffffff)
			mig_usage_error("option '%s' expects a non-negative number, not '%s'", spelled, arg);
		*(int *)o->value = (int)v;
		break;
	case MIG_OPT_END_:
		break;
	}
}

int mig_cli_parse(int argc, char **argv, const struct mig_opt *opts,
		  const char *const *usage)
{
	static const struct mig_opt *tables[2];
	const char *slash = strrchr(argv[0], '/');
	int i, nops = 0, only_operands = 0;

	mig_prog = slash ? slash + 1 : argv[0];
	tables[0] = opts;
	tables[1] = global_opts;
	cur_tables = tables;
	cur_usage = usage;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];
		const struct mig_opt *o;

		/* "-1" is a revision spec, not an option */
		if (only_operands || a[0] != '-' || !a[1] || (a[1] >= '0' && a[1] <= '9')) {
			argv[nops++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_operands = 1;
			continue;
		}
		if (a[1] == '-') {
			char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			char spelled[64];

			if (!strcmp(name, "help")) {
				show_manual();
				print_usage(stdout, opts, usage);
				exit(mig_close_stdout(0));
			}
			if (!strcmp(name, "list-options") || !strcmp(name, "list-options=described")) {
				mig_cli_list_options(opts, eq != NULL);
				exit(mig_close_stdout(0));
			}
			if (!strncmp(name, "list-values=", 12)) {
				list_values(name + 12);
				exit(mig_close_stdout(0));
			}
			if (!(o = find_long(name, len))) {
				const char *near = nearest_long(name, len);

				if (near)
					mig_usage_error("unknown option '--%.*s'; did you mean '--%s'?", (int)len, name,
							near);
				mig_usage_error("unknown option '--%.*s'", (int)len, name);
			}
			/* the option as named, without its =VALUE */
			snprintf(spelled, sizeof(spelled), "--%s", o->long_name);
			if (o->argname) {
				if (eq)
					set_value(o, eq + 1, spelled);
				else if (i + 1 < argc)
					set_value(o, argv[++i], spelled);
				else
					mig_usage_error("option '--%s' requires a value", o->long_name);
			} else if (eq && !o->help && o->type == MIG_OPT_BOOL_ && !strcmp(eq + 1, "described")) {
				*(int *)o->value = 2;	/* a hidden list for completion, with descriptions */
			} else {
				if (eq)
					mig_usage_error("option '--%s' takes no value", o->long_name);
				set_value(o, NULL, spelled);
			}
			continue;
		}
		/* a bundle of short options; one taking a value ends it */
		for (a++; *a; a++) {
			char spelled[3] = { '-', *a, 0 };

			if (*a == 'h') {
				print_usage(stdout, opts, usage);
				exit(mig_close_stdout(0));
			}
			if (!(o = find_short(*a)))
				mig_usage_error("unknown option '-%c'", *a);
			if (!o->argname) {
				set_value(o, NULL, spelled);
				continue;
			}
			if (a[1])
				set_value(o, a + 1, spelled);
			else if (i + 1 < argc)
				set_value(o, argv[++i], spelled);
			else
				mig_usage_error("option '-%c' requires a value", *a);
			if (o->value == (void *)&chdir_to && chdir(chdir_to) < 0)
				mig_usage_error("cannot change to '%s': %s", chdir_to, strerror(errno));
			break;
		}
	}
	argv[nops] = NULL;
	mig_reporter_stderr(mig_globals.quiet, mig_globals.verbose);
	return nops;
}

/* The reporter of a command on a terminal: stderr, names escaped. */
static void say_stderr(enum mig_say_level level, const char *msg, void *data)
{
	(void)data;
	switch (level) {
	case MIG_SAY_WARNING:
		mig_note(stderr, "%s: warning: %s\n", mig_prog, msg);
		break;
	case MIG_SAY_NOTE:
		mig_note(stderr, "%s: %s\n", mig_prog, msg);
		break;
	default:
		mig_note(stderr, "%s\n", msg);
		break;
	}
}

static void meter_stderr(const char *what, uint64_t done, uint64_t total, void *data)
{
	(void)data;
	fprintf(stderr, "\r%s: %s: %llu of %llu MiB (%d%%)%s", mig_prog, what,
		(unsigned long long)(done >> 20), (unsigned long long)(total >> 20),
		total ? (int)(done * 100 / total) : 100, done >= total ? "\n" : "");
}

void mig_reporter_stderr(int quiet, int verbose)
{
	struct mig_reporter r = { say_stderr, NULL, NULL, 1u << MIG_SAY_WARNING };

	if (!quiet) {
		r.levels |= 1u << MIG_SAY_NOTE | 1u << MIG_SAY_PROGRESS;
		if (isatty(2))
			r.meter = meter_stderr;
	}
	if (verbose && !quiet)
		r.levels |= 1u << MIG_SAY_VERBOSE;
	mig_reporter_set(&r);
}

int mig_report(const struct mig_err *err)
{
	struct mig_buf b = MIG_BUF_INIT;
	const char *p = err->hint, *nl;

	error_line(&b, err->msg[0] ? err->msg : "unknown error");
	/* every line of a hint gets its own prefix, as in git */
	while (*p) {
		nl = strchrnul(p, '\n');
		mig_buf_adds(&b, "hint: ");
		mig_buf_add_tty(&b, p, nl - p);
		mig_buf_addc(&b, '\n');
		p = *nl ? nl + 1 : nl;
	}
	fwrite(b.buf, 1, b.len, stderr);
	mig_buf_release(&b);
	return err->code < 0 ? -err->code : 6;
}

void mig_note(FILE *f, const char *fmt, ...)
{
	struct mig_buf b = MIG_BUF_INIT;
	va_list ap;
	char *line;
	size_t len;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	line = mig_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(line, (size_t)n + 1, fmt, ap);
	va_end(ap);
	len = (size_t)n;
	if (len && line[len - 1] == '\n')
		len--;
	mig_buf_add_tty(&b, line, len);
	if (len < (size_t)n)
		mig_buf_addc(&b, '\n');
	fwrite(b.buf ? b.buf : "", 1, b.len, f);
	mig_buf_release(&b);
	free(line);
}

int mig_close_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return rc;
		fprintf(stderr, "%s: error: write failure on standard output: %s\n",
			mig_prog, strerror(errno));
		return 6;
	}
	return rc;
}

int mig_want_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(fileno(f)) && !(nc && *nc);
}
