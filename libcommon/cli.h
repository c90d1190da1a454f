#ifndef MIG_CLI_H
#define MIG_CLI_H

#include <stdio.h>
#include "err.h"
#include "report.h"

/*
 * One option parser for every binary: a table of options, --x=v and --x v,
 * bundled short options (-qv), "--" to end options, options and operands
 * in any order. -h/--help prints usage to stdout and exits 0; misuse
 * prints the error and usage to stderr and exits 2. --list-options (not
 * shown) prints the long options, for shell completion
 * (mig_cli_list_options), --list-options=described the same with their
 * help, and --list-values=OPTION the values of an option whose argument
 * name is a choice ("applied|rolled-back").
 *
 * The global options (-C, -d/--database, -m/--migrations, --store, and
 * -q/--quiet and -v/--verbose) are accepted by every binary after its
 * own, so an option of the command wins a clash (mig-merge -m NAME).
 */
enum mig_opt_type { MIG_OPT_END_, MIG_OPT_BOOL_, MIG_OPT_COUNT_, MIG_OPT_STRING_, MIG_OPT_INT_ };

struct mig_opt {
	enum mig_opt_type type;
	char short_name;
	const char *long_name;
	void *value;
	const char *argname;
	const char *help;
};

#define MIG_OPT_BOOL(s, l, v, h)	{ MIG_OPT_BOOL_, (s), (l), (v), NULL, (h) }
#define MIG_OPT_COUNT(s, l, v, h)	{ MIG_OPT_COUNT_, (s), (l), (v), NULL, (h) }
#define MIG_OPT_STRING(s, l, v, a, h)	{ MIG_OPT_STRING_, (s), (l), (v), (a), (h) }
#define MIG_OPT_INT(s, l, v, a, h)	{ MIG_OPT_INT_, (s), (l), (v), (a), (h) }
#define MIG_OPT_END()			{ MIG_OPT_END_, 0, NULL, NULL, NULL, NULL }

/*
 * An option whose help is NULL is hidden from usage and --list-options.
 * A hidden BOOL is a list for completion (status --list-revisions): given
 * as --name=described, it is set to 2, for the list with descriptions.
 */

/* What the global options said; NULL when not given. */
struct mig_globals {
	const char *database, *migrations, *store;
	int quiet, verbose;	/* -q and -v, for commands that do not define their own */
	int lock_timeout;	/* ms, a command's --lock-timeout; -1 (the default) for the setting */
};

extern struct mig_globals mig_globals;
extern const char *mig_prog;	/* "mig-status", for messages */

/*
 * Parse argv against opts; usage is the synopsis lines ("mig status [-v]"),
 * NULL-terminated. Returns the number of operands, moved to argv[0..n-1].
 * Handles -C by changing directory at once. Calls exit() on -h and misuse.
 */
int mig_cli_parse(int argc, char **argv, const struct mig_opt *opts,
		  const char *const *usage);

/*
 * Install the reporter (report.h) commands use: notes and progress on
 * stderr unless quiet, verbose lines with verbose, warnings always, a
 * progress meter when stderr is a terminal. mig_cli_parse installs it
 * from -q and -v.
 */
void mig_reporter_stderr(int quiet, int verbose);
/* Print "PROG: error: MSG" and any hint to stderr; return the exit code. */
int mig_report(const struct mig_err *err);

/*
 * For completion, on stdout: opts' long options (the short one of an
 * option with no long name), then the global ones, then --help, one a
 * line, "--name=" for one that takes a value; hidden options left out.
 * Described, each is a candidate with its help (mig_buf_add_candidate,
 * util.h: "NAME<TAB>HELP", escaped).
 */
void mig_cli_list_options(const struct mig_opt *opts, int described);

/* Print a usage error ("PROG: error: ...") and exit 2. */
void mig_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Print a line of progress or a note to f (stderr, a terminal): its
 * control characters, but for the newline that ends it, shown escaped,
 * since it names revisions and their names may hold anything.
 */
void mig_note(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Flush stdout; a failed write turns rc into exit code 6. */
int mig_close_stdout(int rc);

/* Should output to f use colour (a terminal, and NO_COLOR unset)? */
int mig_want_color(FILE *f);

/*
 * libgit2's global state. Its set-up costs milliseconds (it loads TLS
 * certificates), more than a whole 'mig status', so it is made only when
 * something first needs libgit2 (mig.conf, the store): mig_git_need
 * loads libgit2 and sets it up, or is MIG_EENV naming the library and
 * what the dynamic loader said. mig_shutdown() undoes it if it was made.
 */
int mig_git_need(struct mig_err *err);
void mig_shutdown(void);

#endif
