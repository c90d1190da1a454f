/*
 * The front end: global options, then "mig foo ARGS" runs mig-foo from the
 * exec path (--exec-path, MIG_EXEC_PATH, or the directory this binary is
 * in), then from PATH, with the global options passed on in the
 * environment. An unknown command exits 2 and names the nearest one.
 *
 * Some commands are built in (builtin.h): their mig-foo is a hard link to
 * this program, which runs them in-process when the exec path's mig-foo
 * is itself, and runs them by itself when started as mig-foo.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "cli.h"
#include "util.h"

#ifndef MIG_VERSION
#define MIG_VERSION "unknown"
#endif

/*
 * mig's own commands and what each does: the usage lists them, and
 * completion shows them beside the names (--list-commands=described).
 */
static const struct command {
	const char *name, *does;
} commands_table[] = {
	{ "init", "write mig.conf and the migrations directory" },
	{ "status", "show what is applied, what is pending, and what is wrong" },
	{ "up", "apply pending revisions" },
	{ "down", "revert applied revisions" },
	{ "redo", "revert an edited revision and what follows, then apply the files" },
	{ "new", "write a new revision file" },
	{ "merge", "write a revision that merges several heads" },
	{ "fake", "record revisions as applied or unapplied without running them" },
	{ "sqlshow", "print the SQL that up or down would run" },
	{ "diff", "show how applied revisions were edited since" },
	{ "log", "show the journal of operations" },
	{ "backup", "take, list, verify or prune snapshots of the database" },
	{ "restore", "put a snapshot back" },
	{ "help", "show a command's manual" },	/* not in the usage: its last line says it */
};

/* The front end's own options, for completion; the global ones follow. */
static const struct mig_opt front_opts[] = {
	MIG_OPT_BOOL(0, "version", NULL, "print mig's version"),
	MIG_OPT_BOOL(0, "exec-path", NULL, "print where mig's commands are (=DIR: look there)"),
	MIG_OPT_END(),
};

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: mig [-C DIR] [-d PATH] [-m DIR] [--store DIR] [-q] [-v] [--version] [--help]\n"
	      "           [--exec-path[=DIR]] COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n", f);
	for (i = 0; i < sizeof(commands_table) / sizeof(*commands_table); i++)
		if (strcmp(commands_table[i].name, "help"))
			fprintf(f, "   %-10s%s\n", commands_table[i].name, commands_table[i].does);
	fputs("\n'mig help COMMAND' or 'mig COMMAND --help' tells more about a command.\n", f);
}

/* What a command does, or NULL for one that is not mig's own. */
static const char *command_does(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands_table) / sizeof(*commands_table); i++)
		if (!strcmp(commands_table[i].name, name))
			return commands_table[i].does;
	return NULL;
}

static const struct builtin {
	const char *name;
	int (*fn)(int argc, char **argv);
} builtins[] = {
	{ "mig-status", cmd_status },
};

static const struct builtin *find_builtin(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (!strcmp(builtins[i].name, name))
			return &builtins[i];
	return NULL;
}

/* The file at path is this program: executing it would run what is here. */
static int is_self(const char *path)
{
	struct stat a, b;

	return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static char *exec_dir(void)
{
	const char *env = getenv("MIG_EXEC_PATH");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env)
		return mig_xstrdup(env);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return mig_xstrdup(".");
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	return mig_xstrdup(self[0] ? self : "/");
}

/* Collect "foo" for every executable mig-foo in dir into names. */
static void scan(const char *dir, char ***names, size_t *nr, size_t *alloc)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *path;
		size_t i;

		if (strncmp(de->d_name, "mig-", 4) || !de->d_name[4])
			continue;
		path = mig_path_join(dir, de->d_name);
		if (access(path, X_OK) == 0) {
			for (i = 0; i < *nr; i++)
				if (!strcmp((*names)[i], de->d_name + 4))
					break;
			if (i == *nr) {
				MIG_GROW(*names, *nr + 1, *alloc);
				(*names)[(*nr)++] = mig_xstrdup(de->d_name + 4);
			}
		}
		free(path);
	}
	closedir(d);
}

/* Every command: mig-* on the exec path and on PATH, and help. */
static size_t commands(char ***names, const char *execdir)
{
	char *pathvar = getenv("PATH") ? mig_xstrdup(getenv("PATH")) : NULL;
	char *dir, *rest = pathvar;
	size_t nr = 0, alloc = 0;

	*names = NULL;
	scan(execdir, names, &nr, &alloc);
	/* an empty entry is the current directory, as execvp reads PATH */
	while ((dir = strsep(&rest, ":")))
		scan(*dir ? dir : ".", names, &nr, &alloc);
	MIG_GROW(*names, nr + 1, alloc);
	(*names)[nr++] = mig_xstrdup("help");
	free(pathvar);
	return nr;
}

static void free_names(char **names, size_t nr)
{
	while (nr)
		free(names[--nr]);
	free(names);
}

/*
 * What users of other tools type, and what mig calls it: Alembic's
 * history, current, heads and stamp, Django's and dbmate's migrate,
 * dbmate's and Rails' rollback.
 */
static const struct peer {
	const char *name, *mig, *does;
} peers[] = {
	{ "history", "log", "the journal; 'mig log --graph' draws the revisions" },
	{ "current", "status", "what is applied, pending and wrong" },
	{ "heads", "status", "its 'head:' line names them; 'mig log --graph' draws them" },
	{ "stamp", "fake", "record revisions as applied without running them" },
	{ "migrate", "up", "apply pending revisions" },
	{ "rollback", "down", "revert applied revisions" },
};

/*
 * Is name close enough to cmd to be what was meant? Only a slip: one
 * edit in three letters, or cmd the start of name ('mig stat'), so that
 * a word of another tool is not matched to whatever is least unlike it.
 */
static int close_enough(const char *cmd, const char *name, size_t d)
{
	size_t len = strlen(cmd);

	return d * 3 <= len || (len >= 2 && !strncmp(name, cmd, len));
}

static int unknown_command(const char *cmd, const char *execdir)
{
	char **names;
	size_t nr, i, best = (size_t)-1, nbest = 0, *dist;

	fprintf(stderr, "mig: '%s' is not a mig command. See 'mig --help'.\n", cmd);
	for (i = 0; i < sizeof(peers) / sizeof(*peers); i++)
		if (!strcmp(cmd, peers[i].name)) {
			fprintf(stderr, "hint: mig calls that 'mig %s' (%s)\n", peers[i].mig, peers[i].does);
			return 2;
		}
	nr = commands(&names, execdir);
	dist = mig_xcalloc(nr + 1, sizeof(*dist));
	for (i = 0; i < nr; i++) {
		dist[i] = mig_edit_distance(cmd, names[i]);
		if (!close_enough(cmd, names[i], dist[i]))
			continue;
		if (dist[i] < best)
			best = dist[i], nbest = 0;
		if (dist[i] == best)
			nbest++;
	}
	if (nbest) {
		fprintf(stderr, "\nThe most similar command%s\n", nbest > 1 ? "s are" : " is");
		for (i = 0; i < nr; i++)
			if (dist[i] == best && close_enough(cmd, names[i], dist[i]))
				fprintf(stderr, "\t%s\n", names[i]);
	}
	free(dist);
	free_names(names, nr);
	return 2;
}

static int run(const char *execdir, const char *cmd, char **argv)
{
	char *name = mig_xasprintf("mig-%s", cmd);
	char *path = mig_path_join(execdir, name);
	const struct builtin *b = find_builtin(name);
	int saved, argc;

	argv[0] = name;
	if (b && is_self(path)) {
		for (argc = 0; argv[argc]; argc++)
			;
		free(path);
		saved = b->fn(argc, argv);
		free(name);
		return saved;
	}
	fflush(stdout);
	execv(path, argv);
	if (errno == ENOENT || errno == ENOTDIR)
		execvp(name, argv);
	saved = errno;
	free(path);
	free(name);
	if (saved == ENOENT)
		return -1;
	fprintf(stderr, "mig: cannot run 'mig-%s': %s\n", cmd, strerror(saved));
	return 6;
}

/*
 * For completion: every mig-* we can find, one a line; described, as
 * candidates (util.h) with what mig's own do.
 */
static void list_commands(int described)
{
	struct mig_buf b = MIG_BUF_INIT;
	char *d = exec_dir(), **names;
	size_t nr = commands(&names, d), k;

	for (k = 0; k < nr; k++)
		if (described)
			mig_buf_add_candidate(&b, names[k], command_does(names[k]));
		else
			mig_buf_addf(&b, "%s\n", names[k]);
	fwrite(b.buf ? b.buf : "", 1, b.len, stdout);
	mig_buf_release(&b);
	free_names(names, nr);
	free(d);
}

static void need_value(int argc, char **argv, int i)
{
	if (i + 1 >= argc) {
		fprintf(stderr, "mig: error: option '%s' requires a value\n\n", argv[i]);
		usage(stderr);
		exit(2);
	}
}

/* An unknown global option: exit 2, with the one it was likely meant to be. */
static void unknown_option(const char *a)
{
	static const char *const longs[] = {
		"database", "migrations", "store", "quiet", "verbose", "version", "help", "exec-path",
	};
	const char *near = NULL;
	size_t len = strcspn(a, "="), i, d, best = (size_t)-1;
	char *typed = mig_xstrndup(a + 2, len > 2 ? len - 2 : 0);

	for (i = 0; a[1] == '-' && i < sizeof(longs) / sizeof(*longs); i++)
		if ((d = mig_edit_distance(typed, longs[i])) < best && close_enough(typed, longs[i], d))
			best = d, near = longs[i];
	fprintf(stderr, "mig: error: unknown option '%s'", a);
	if (near)
		fprintf(stderr, "; did you mean '--%s'?", near);
	fputs("\n\n", stderr);
	usage(stderr);
	free(typed);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const struct builtin *b = find_builtin(self);
	char *execdir = NULL, **cargv = NULL;
	const char *cmd, *passed[8];
	int i, k, rc, npassed = 0;

	if (b)
		return b->fn(argc, argv);
	mig_prog = "mig";
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return mig_close_stdout(0);
		} else if (!strcmp(a, "--version")) {
			printf("mig version %s\n", MIG_VERSION);
			return mig_close_stdout(0);
		} else if (!strcmp(a, "--exec-path")) {
			char *d = exec_dir();

			printf("%s\n", d);
			free(d);
			return mig_close_stdout(0);
		} else if (!strncmp(a, "--exec-path=", 12)) {
			setenv("MIG_EXEC_PATH", a + 12, 1);
		} else if (!strcmp(a, "-C")) {
			need_value(argc, argv, i);
			if (chdir(argv[++i]) < 0) {
				fprintf(stderr, "mig: error: cannot change to '%s': %s\n", argv[i], strerror(errno));
				return 2;
			}
		} else if (!strcmp(a, "-d") || !strcmp(a, "--database")) {
			need_value(argc, argv, i);
			setenv("MIG_DATABASE", argv[++i], 1);
		} else if (!strncmp(a, "--database=", 11)) {
			setenv("MIG_DATABASE", a + 11, 1);
		} else if (!strcmp(a, "-m") || !strcmp(a, "--migrations")) {
			need_value(argc, argv, i);
			setenv("MIG_MIGRATIONS", argv[++i], 1);
		} else if (!strncmp(a, "--migrations=", 13)) {
			setenv("MIG_MIGRATIONS", a + 13, 1);
		} else if (!strcmp(a, "--store")) {
			need_value(argc, argv, i);
			setenv("MIG_STORE", argv[++i], 1);
		} else if (!strncmp(a, "--store=", 8)) {
			setenv("MIG_STORE", a + 8, 1);
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet") || !strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			/* every command takes these itself: hand them on */
			if (npassed < (int)(sizeof(passed) / sizeof(*passed)))
				passed[npassed++] = a;
		} else if (!strcmp(a, "--list-commands") || !strcmp(a, "--list-commands=described")) {
			list_commands(a[15] == '=');
			return mig_close_stdout(0);
		} else if (!strcmp(a, "--list-options") || !strcmp(a, "--list-options=described")) {
			/* for completion: the options before a command */
			mig_cli_list_options(front_opts, a[14] == '=');
			return mig_close_stdout(0);
		} else {
			unknown_option(a);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i];
	argv += i;
	argc -= i;
	execdir = exec_dir();
	if (!strcmp(cmd, "help")) {
		if (argc < 2) {
			usage(stdout);
			free(execdir);
			return mig_close_stdout(0);
		}
		static char *help_argv[] = { NULL, "--help", NULL };

		cmd = argv[1];
		argv = help_argv;
		argc = 2;
	}
	if (!*cmd || strchr(cmd, '/') || cmd[0] == '-') {
		fprintf(stderr, "mig: error: '%s' is not a command name\n", cmd);
		free(execdir);
		return 2;
	}
	if (npassed) {
		/* COMMAND -q -v ARGS... */
		cargv = mig_xcalloc((size_t)argc + npassed + 1, sizeof(*cargv));
		cargv[0] = argv[0];
		for (k = 0; k < npassed; k++)
			cargv[1 + k] = (char *)passed[k];
		for (k = 1; k < argc; k++)
			cargv[npassed + k] = argv[k];
		argv = cargv;
	}
	rc = run(execdir, cmd, argv);
	free(cargv);
	if (rc < 0)
		rc = unknown_command(cmd, execdir);
	free(execdir);
	return rc;
}
