#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <git2.h>

#include "cache.h"
#include "config.h"
#include "db.h"
#include "util.h"

/*
 * Find mig.conf from the working directory upward. *prefix gets the path
 * from the working directory to the file's directory ("", "../", ...).
 */
static char *find_conf(char **prefix)
{
	struct mig_buf up = MIG_BUF_INIT;
	char *dir = getcwd(NULL, 0);

	*prefix = NULL;
	while (dir) {
		char *path = mig_path_join(dir, "mig.conf");
		char *slash;

		if (mig_path_exists(path)) {
			free(dir);
			*prefix = mig_buf_detach(&up);
			return path;
		}
		free(path);
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = '\0';
		mig_buf_adds(&up, "../");
	}
	free(dir);
	mig_buf_release(&up);
	return NULL;
}

static char *relative_to(const char *prefix, const char *path)
{
	if (path[0] == '/' || !*prefix)
		return mig_xstrdup(path);
	return mig_xasprintf("%s%s", prefix, path);
}

static int conf_string(git_config *cfg, const char *key, char **out, const char *conf,
		       struct mig_err *err)
{
	git_buf b = { 0 };
	int rc = git_config_get_string_buf(&b, cfg, key);

	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return mig_err_git(err, MIG_EENV, conf);
	if (b.size)
		*out = mig_xstrdup(b.ptr);
	git_buf_dispose(&b);
	return 0;
}

static int is_include(const git_config_entry *e, void *payload)
{
	if (!strncmp(e->name, "include.", 8) || !strncmp(e->name, "includeif.", 10))
		*(int *)payload = 1;
	return 0;
}

/*
 * libgit2 reads a file up to its first NUL and takes a binary line that
 * starts like a comment for one: a mig.conf that is not text would be
 * quietly empty. Read it first (never blocking on a FIFO) to refuse that.
 */
static int check_text(const char *conf, struct mig_err *err)
{
	struct mig_buf b = MIG_BUF_INIT;
	size_t i;
	int rc;

	if ((rc = mig_read_file(&b, conf, err)) < 0) {
		/* a read that failed half way leaves what it had read */
		mig_buf_release(&b);
		err->code = MIG_EENV;
		return MIG_EENV;
	}
	for (i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.buf[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7f) {
			rc = mig_err_set(err, MIG_EENV, "%s:%d: not a text file (byte 0x%02x)", conf,
					 1 + mig_count_lines(b.buf, b.buf + i), c);
			mig_err_hint(err, "mig.conf is in git-config syntax: '[mig]', then lines of 'key = value'");
			break;
		}
	}
	mig_buf_release(&b);
	return rc;
}

/* A value libgit2 cannot read as its key's type: the file and the key named */
static int key_error(struct mig_err *err, const char *conf, const char *key)
{
	char *what = mig_xasprintf("%s: %s", conf, key);
	int rc = mig_err_git(err, MIG_EENV, what);

	free(what);
	return rc;
}

/* What conf says, read with libgit2; *includes: it includes other files. */
static int read_git(const char *conf, struct mig_confvals *v, int *includes, struct mig_err *err)
{
	git_config *cfg = NULL;
	int32_t n;
	int rc, b;

	if ((rc = check_text(conf, err)) < 0)
		return rc;
	if ((rc = mig_git_need(err)) < 0)
		return rc;
	if (git_config_open_ondisk(&cfg, conf) < 0)
		return mig_err_git(err, MIG_EENV, "cannot read configuration");
	if ((rc = conf_string(cfg, "mig.database", &v->database, conf, err)) < 0 ||
	    (rc = conf_string(cfg, "mig.migrations", &v->migrations, conf, err)) < 0 ||
	    (rc = conf_string(cfg, "mig.store", &v->store, conf, err)) < 0 ||
	    (rc = conf_string(cfg, "mig.schemafile", &v->schema_file, conf, err)) < 0 ||
	    (rc = conf_string(cfg, "mig.schema", &v->schema, conf, err)) < 0)
		goto out;
	/* PostgreSQL would cut a longer name short: two settings, one schema, two locks */
	if (v->schema && strlen(v->schema) > 63) {
		rc = mig_err_set(err, MIG_EENV, "%s: mig.schema is %zu bytes long: PostgreSQL's names are 63 at most",
				 conf, strlen(v->schema));
		goto out;
	}
	if ((rc = git_config_get_int32(&n, cfg, "mig.locktimeout")) == 0) {
		if (n < 0) {
			rc = mig_err_set(err, MIG_EENV, "%s: mig.lockTimeout must not be negative", conf);
			goto out;
		}
		v->lock_timeout = n;
	} else if (rc != GIT_ENOTFOUND) {
		rc = key_error(err, conf, "mig.lockTimeout");
		goto out;
	}
	if ((rc = git_config_get_int32(&n, cfg, "mig.backupkeep")) == 0) {
		if (n < 0) {
			rc = mig_err_set(err, MIG_EENV, "%s: mig.backupKeep must not be negative", conf);
			mig_err_hint(err, "it is how many automatic snapshots to keep; 0 keeps them all");
			goto out;
		}
		v->backup_keep = n;
	} else if (rc != GIT_ENOTFOUND) {
		rc = key_error(err, conf, "mig.backupKeep");
		goto out;
	}
	if ((rc = git_config_get_int32(&n, cfg, "mig.statementlocktimeout")) == 0) {
		if (n < 0) {
			rc = mig_err_set(err, MIG_EENV, "%s: mig.statementLockTimeout must not be negative", conf);
			mig_err_hint(err, "it is how long, in milliseconds, a revision's statement may wait for a lock; 0 waits for ever");
			goto out;
		}
		v->statement_lock_timeout = n;
	} else if (rc != GIT_ENOTFOUND) {
		rc = key_error(err, conf, "mig.statementLockTimeout");
		goto out;
	}
	if ((rc = git_config_get_bool(&b, cfg, "mig.backup")) == 0) {
		v->backup = b;
	} else if (rc != GIT_ENOTFOUND) {
		rc = key_error(err, conf, "mig.backup");
		goto out;
	}
	*includes = 0;
	if (git_config_foreach(cfg, is_include, includes) < 0)
		*includes = 1;	/* not known: then it is read every time */
	rc = 0;
out:
	git_config_free(cfg);
	return rc;
}

/*
 * The settings in mig.conf: remembered (cache.h) while the file's stat
 * data stays, for loading libgit2 to read it costs more than a status.
 */
static int read_conf(struct mig_settings *s, const char *prefix, struct mig_err *err)
{
	struct mig_confvals v = { NULL, NULL, NULL, NULL, -1, -1, -1, -1, NULL };
	struct timespec now;
	struct stat st;
	int rc = 0, includes = 1, known;

	clock_gettime(CLOCK_REALTIME, &now);
	known = stat(s->conf, &st) == 0;
	/* libgit2 would wait for a FIFO's writer: refuse it before it opens one */
	if (known && !S_ISREG(st.st_mode))
		return mig_err_set(err, MIG_EENV, "'%s' is %s, not a regular file", s->conf, mig_file_kind(st.st_mode));
	if (!known || mig_confcache_get(s->conf, &st, &v) < 0) {
		if ((rc = read_git(s->conf, &v, &includes, err)) < 0)
			goto out;
		/* a password a user wrote there is theirs to keep, not to copy */
		if (known && !includes && !(v.database && mig_db_has_password(v.database)))
			mig_confcache_put(s->conf, &st, &now, &v);
	}
	/* a URL is no path, relative to mig.conf or to anything */
	if (v.database)
		s->database = mig_db_is_url(v.database) ? mig_xstrdup(v.database) : relative_to(prefix, v.database);
	if (v.migrations) {
		free(s->migrations);
		s->migrations = relative_to(prefix, v.migrations);
	}
	if (v.store)
		s->store = relative_to(prefix, v.store);
	if (v.schema_file)
		s->schema_file = relative_to(prefix, v.schema_file);
	if (v.lock_timeout >= 0)
		s->lock_timeout = v.lock_timeout;
	if (v.backup >= 0)
		s->backup = v.backup;
	if (v.backup_keep >= 0)
		s->backup_keep = v.backup_keep;
	if (v.statement_lock_timeout >= 0)
		s->statement_lock_timeout = v.statement_lock_timeout;
	if (v.schema)
		s->schema = mig_xstrdup(v.schema);
out:
	mig_confvals_release(&v);
	return rc;
}

int mig_conf_read(struct mig_confvals *v, const char *conf, struct mig_err *err)
{
	int includes;

	v->database = v->migrations = v->store = v->schema_file = v->schema = NULL;
	v->lock_timeout = v->backup = v->backup_keep = v->statement_lock_timeout = -1;
	/* check_text reads it first, and refuses a FIFO, a device or a directory unopened */
	return read_git(conf, v, &includes, err);
}

static void override(char **slot, const char *value)
{
	if (value && *value) {
		free(*slot);
		*slot = mig_xstrdup(value);
	}
}

int mig_settings_load(struct mig_settings *s, const struct mig_globals *g, struct mig_err *err)
{
	char *prefix = NULL;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->lock_timeout = 5000;
	s->backup = 1;
	s->backup_keep = 20;
	s->conf = find_conf(&prefix);
	s->migrations = relative_to(prefix ? prefix : "", "migrations");
	if (s->conf && (rc = read_conf(s, prefix, err)) < 0)
		goto out;
	override(&s->database, getenv("MIG_DATABASE"));
	override(&s->migrations, getenv("MIG_MIGRATIONS"));
	override(&s->store, getenv("MIG_STORE"));
	override(&s->database, g->database);
	override(&s->migrations, g->migrations);
	override(&s->store, g->store);
	/* the option governs every wait of the run: busy timeouts and the store's lock */
	if (g->lock_timeout >= 0)
		s->lock_timeout = g->lock_timeout;
	/* beside the database file; for a server's database, beside mig.conf */
	if (!s->store && s->database && mig_db_is_url(s->database)) {
		char *name = mig_db_store_name(s->database);

		s->store = relative_to(prefix ? prefix : "", name);
		free(name);
	} else if (!s->store && s->database) {
		s->store = mig_db_store_name(s->database);
	}
	mig_db_set_schema(s->schema);
out:
	free(prefix);
	return rc;
}

int mig_settings_database(const struct mig_settings *s, const char **out, struct mig_err *err)
{
	*out = s->database;
	if (!s->database) {
		mig_err_set(err, MIG_EUSAGE, "no database given");
		mig_err_hint(err, "name one with -d PATH, MIG_DATABASE, or 'database = PATH' under [mig] in mig.conf");
		return MIG_EUSAGE;
	}
	/* what the database's backend can tell before it opens: before any command creates anything */
	return mig_db_check(s->database, err);
}

void mig_settings_release(struct mig_settings *s)
{
	free(s->database);
	free(s->migrations);
	free(s->store);
	free(s->conf);
	free(s->schema_file);
	free(s->schema);
	memset(s, 0, sizeof(*s));
}
