#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "db.h"
#include "init.h"
#include "report.h"
#include "util.h"

#define CONF "mig.conf"

/* One key mig init sets: what was named (NULL: nothing), what mig.conf says. */
struct key {
	const char *name;	/* "database", as in mig.conf's [mig] section */
	const char *what;	/* for messages */
	const char *named;
	const char *dflt;
	char *conf;
};

static const char *named(const char *option, const char *env)
{
	const char *e = getenv(env);

	if (option && *option)
		return option;
	return e && *e ? e : NULL;
}

/*
 * A value as git-config reads it back: quoted when it holds what would
 * end it or start a comment, or has blanks at either end that would be
 * trimmed. A control character has no place in mig.conf (config.c
 * refuses the file), so a path with one is refused here.
 */
static int add_value(struct mig_buf *b, const struct key *k, struct mig_err *err)
{
	const char *v = k->named ? k->named : k->dflt, *p;
	size_t len = strlen(v);
	int quote = v[0] == ' ' || v[len - 1] == ' ';

	for (p = v; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return mig_err_set(err, MIG_EUSAGE, "the %s '%s' holds a control character: mig.conf cannot name it",
					   k->what, v);
		if (strchr("\"\\#;", *p))
			quote = 1;
	}
	mig_buf_addf(b, "\t%s = ", k->name);
	if (!quote) {
		mig_buf_adds(b, v);
	} else {
		mig_buf_addc(b, '"');
		for (p = v; *p; p++) {
			if (*p == '"' || *p == '\\')
				mig_buf_addc(b, '\\');
			mig_buf_addc(b, *p);
		}
		mig_buf_addc(b, '"');
	}
	mig_buf_addc(b, '\n');
	return 0;
}

/*
 * Put body in place as mig.conf, whole or not at all: written to a
 * temporary file beside it, then linked into place when there is none
 * (so one that appeared meanwhile is never overwritten), or renamed
 * over it when it is being added to (mode is the old file's).
 */
static int write_conf(const char *body, int replace, mode_t mode, struct mig_err *err)
{
	char tmp[] = "." CONF ".tmp-XXXXXX";
	int fd, rc = 0;

	mig_tmp_sweep(".", "." CONF ".tmp-??????");
	if ((fd = mig_tmp_file(tmp)) < 0)
		return mig_err_errno(err, mig_errno_code(errno, MIG_EENV), "cannot create '%s'", CONF);
	if (fchmod(fd, mode) < 0 || mig_write_all(fd, body, strlen(body)) < 0 || fsync(fd) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", CONF);
	else if (replace ? rename(tmp, CONF) < 0 : link(tmp, CONF) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot %s '%s'", replace ? "replace" : "create", CONF);
	else if (mig_fsync_parent(CONF) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", CONF);
	if (!replace || rc < 0)
		unlink(tmp);
	close(fd);
	return rc;
}

/* mig.conf names another value than the one named: shown as a database is */
static int refuse_other(const struct key *k, struct mig_err *err)
{
	char *conf = mig_db_display_name(k->conf), *named = mig_db_display_name(k->named);

	mig_err_set(err, MIG_EUNSAFE, "%s sets mig.%s to '%s', not '%s'", CONF, k->name, conf, named);
	mig_err_hint(err, "mig init never changes what %s says: edit it, or name the same %s", CONF, k->what);
	free(conf);
	free(named);
	return MIG_EUNSAFE;
}

/*
 * mig.conf is shared, often committed, and readable by all: a password
 * belongs in ~/.pgpass or the environment, where libpq finds it.
 */
static int refuse_password(const char *database, struct mig_err *err)
{
	char *shown;

	if (!database || !mig_db_has_password(database))
		return 0;
	shown = mig_db_display_name(database);
	mig_err_set(err, MIG_EUNSAFE, "the database URL '%s' holds a password: mig init does not write it to %s",
		    shown, CONF);
	mig_err_hint(err, "name the database without it, and give the password in ~/.pgpass or PGPASSWORD");
	free(shown);
	return MIG_EUNSAFE;
}

/* mkdir -p dir; *made: whether anything was made. */
static int make_dir(const char *dir, int *made, struct mig_err *err)
{
	char *path = mig_xstrdup(dir), *p = path;
	mode_t mode = 0777 & ~mig_umask();
	struct stat st;
	int rc = 0, last;

	*made = 0;
	do {
		while (*p == '/')
			p++;
		p += strcspn(p, "/");
		last = !*p || !p[strspn(p, "/")];
		*p = '\0';
		if (mkdir(path, mode) == 0) {
			*made = 1;
			if (mig_fsync_parent(path) < 0) {
				rc = mig_err_errno(err, MIG_EENV, "cannot create '%s'", path);
				break;
			}
		} else if (errno != EEXIST || stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			if (errno == EEXIST || errno == ENOTDIR)
				rc = mig_err_set(err, MIG_EENV, "cannot create migrations directory '%s': '%s' is not a directory",
						 dir, path);
			else
				rc = mig_err_errno(err, mig_errno_code(errno, MIG_EENV),
						   "cannot create migrations directory '%s'", dir);
			break;
		}
		if (!last)
			*p++ = '/';
	} while (!last);
	free(path);
	return rc;
}

int mig_init(const struct mig_globals *g, struct mig_err *err)
{
	struct key keys[] = {
		{ "database", "database", named(g->database, "MIG_DATABASE"), "app.db", NULL },
		{ "migrations", "migrations directory", named(g->migrations, "MIG_MIGRATIONS"), "migrations", NULL },
	};
	struct mig_confvals v = { NULL, NULL, NULL, NULL, -1, -1, -1, -1, NULL };
	struct mig_buf body = MIG_BUF_INIT, added = MIG_BUF_INIT;
	const char *dir;
	struct stat st, lst;
	int rc = 0, exists, made = 0;
	size_t i;

	exists = stat(CONF, &st) == 0;
	if (!exists && errno != ENOENT)
		return mig_err_errno(err, MIG_EENV, "cannot read '%s'", CONF);
	if (exists) {
		if ((rc = mig_conf_read(&v, CONF, err)) < 0)
			goto out;
		keys[0].conf = v.database;
		keys[1].conf = v.migrations;
		if ((rc = mig_read_file(&body, CONF, err)) < 0)
			goto out;
	} else {
		mig_buf_adds(&body, "# mig's settings, in git-config syntax: see mig(1)\n");
	}
	/* check everything before anything is made, so a refusal changes nothing */
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		struct key *k = &keys[i];

		if (k->conf && k->named && strcmp(k->conf, k->named)) {
			rc = refuse_other(k, err);
			goto out;
		}
		if (k->conf || (exists && !k->named))
			continue;
		if (k == &keys[0] && (rc = refuse_password(k->named, err)) < 0)
			goto out;
		if (!added.len)
			mig_buf_adds(&added, "[mig]\n");
		if ((rc = add_value(&added, k, err)) < 0)
			goto out;
	}
	dir = keys[1].named ? keys[1].named : keys[1].conf ? keys[1].conf : keys[1].dflt;
	if (added.len && exists && lstat(CONF, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		/* replacing it would cut the link to the file it shares */
		struct mig_buf what = MIG_BUF_INIT;

		for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
			if (!keys[i].conf && keys[i].named)
				mig_buf_addf(&what, "%s'%s = %s'", what.len ? " and " : "", keys[i].name, keys[i].named);
		rc = mig_err_set(err, MIG_EUNSAFE, "%s is a symbolic link: mig init does not replace it", CONF);
		mig_err_hint(err, "add %s under [mig] in the file it points to", what.buf);
		mig_buf_release(&what);
		goto out;
	}
	if ((rc = make_dir(dir, &made, err)) < 0)
		goto out;
	if (made)
		mig_say(MIG_SAY_NOTE, "created migrations directory '%s'", dir);
	if (added.len) {
		if (body.len && body.buf[body.len - 1] != '\n')
			mig_buf_addc(&body, '\n');
		mig_buf_add(&body, added.buf, added.len);
		if ((rc = write_conf(body.buf, exists, exists ? st.st_mode & 07777 : 0666 & ~mig_umask(), err)) < 0)
			goto out;
		for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
			if (!keys[i].conf && (!exists || keys[i].named))
				mig_say(MIG_SAY_NOTE, "%s %s: %s = %s", exists ? "added to" : "wrote", CONF,
					keys[i].name, keys[i].named ? keys[i].named : keys[i].dflt);
	} else if (!made) {
		mig_say(MIG_SAY_NOTE, "nothing to do: %s and '%s' are in place", CONF, dir);
	}
out:
	mig_buf_release(&body);
	mig_buf_release(&added);
	mig_confvals_release(&v);
	return rc;
}
