#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <git2.h>

#include "config.h"
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

static int conf_path(git_config *cfg, const char *key, const char *prefix, char **out,
		     const char *conf, struct mig_err *err)
{
	git_buf b = { 0 };
	int rc = git_config_get_string_buf(&b, cfg, key);

	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return mig_err_git(err, MIG_EENV, conf);
	if (b.size) {
		free(*out);
		*out = relative_to(prefix, b.ptr);
	}
	git_buf_dispose(&b);
	return 0;
}

static int read_conf(struct mig_settings *s, const char *prefix, struct mig_err *err)
{
	git_config *cfg = NULL;
	int32_t v;
	int rc, b;

	mig_git_need();
	if (git_config_open_ondisk(&cfg, s->conf) < 0)
		return mig_err_git(err, MIG_EENV, "cannot read configuration");
	if ((rc = conf_path(cfg, "mig.database", prefix, &s->database, s->conf, err)) < 0 ||
	    (rc = conf_path(cfg, "mig.migrations", prefix, &s->migrations, s->conf, err)) < 0 ||
	    (rc = conf_path(cfg, "mig.store", prefix, &s->store, s->conf, err)) < 0)
		goto out;
	if ((rc = git_config_get_int32(&v, cfg, "mig.locktimeout")) == 0) {
		if (v < 0) {
			rc = mig_err_set(err, MIG_EENV, "%s: mig.lockTimeout must not be negative", s->conf);
			goto out;
		}
		s->lock_timeout = v;
	} else if (rc != GIT_ENOTFOUND) {
		rc = mig_err_git(err, MIG_EENV, s->conf);
		goto out;
	}
	if ((rc = git_config_get_bool(&b, cfg, "mig.backup")) == 0) {
		s->backup = b;
	} else if (rc != GIT_ENOTFOUND) {
		rc = mig_err_git(err, MIG_EENV, s->conf);
		goto out;
	}
	rc = 0;
out:
	git_config_free(cfg);
	return rc;
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
	if (!s->store && s->database)
		s->store = mig_xasprintf("%s.mig", s->database);
out:
	free(prefix);
	return rc;
}

int mig_settings_database(const struct mig_settings *s, const char **out, struct mig_err *err)
{
	*out = s->database;
	if (s->database)
		return 0;
	mig_err_set(err, MIG_EUSAGE, "no database given");
	mig_err_hint(err, "name one with -d PATH, MIG_DATABASE, or 'database = PATH' under [mig] in mig.conf");
	return MIG_EUSAGE;
}

void mig_settings_release(struct mig_settings *s)
{
	free(s->database);
	free(s->migrations);
	free(s->store);
	free(s->conf);
	memset(s, 0, sizeof(*s));
}
