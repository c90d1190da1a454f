#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"
#include "newrev.h"
#include "util.h"

/*
 * Create path with body; never overwrite, and never leave it half
 * written: the body goes to a temporary file beside it, hidden so that
 * it is never read as a revision, which is linked into place once whole.
 * What a killed run left of such files goes first.
 */
static int write_new(const char *path, const char *body, struct mig_err *err)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? mig_xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : mig_xstrdup(".");
	char *tmp = mig_xasprintf("%.*s.%s.tmp-XXXXXX", slash ? (int)(slash + 1 - path) : 0, path,
				  slash ? slash + 1 : path);
	mode_t mask = mig_umask();
	int fd, rc = 0;

	mig_tmp_sweep(dir, ".*.sql.tmp-??????");
	if ((fd = mig_tmp_file(tmp)) < 0) {
		rc = mig_err_errno(err, MIG_EENV, "cannot create '%s'", path);
		goto out;
	}
	if (fchmod(fd, 0666 & ~mask) < 0 || mig_write_all(fd, body, strlen(body)) < 0 || fsync(fd) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", path);
	else if (link(tmp, path) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot create '%s'", path);
	else if (mig_fsync_parent(path) < 0) {
		/* linked, but whether it reached the disk is unknown: as if it never was */
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", path);
		unlink(path);
	}
	unlink(tmp);
	close(fd);
out:
	free(tmp);
	free(dir);
	return rc;
}

/* Add one to a string of digits. */
static char *increment(const char *v, int width)
{
	size_t n = strlen(v), i;
	char *r = mig_xmalloc(n + 2);

	memcpy(r + 1, v, n + 1);
	r[0] = '0';
	for (i = n + 1; i-- > 0;) {
		if (r[i] < '9') {
			r[i]++;
			break;
		}
		r[i] = '0';
	}
	if (r[0] == '0')
		memmove(r, r + 1, n + 1);
	if ((int)strlen(r) < width) {
		char *p = mig_xasprintf("%0*d%s", width - (int)strlen(r), 0, r);

		free(r);
		return p;
	}
	return r;
}

/*
 * The next version in the directory's manner: a timestamp where the
 * versions are timestamps (dbmate, diesel, goose's default), else one
 * more than the largest, in its width.
 */
static char *next_version(const struct mig_graph *g, int stamp)
{
	char *max = mig_xstrdup(""), now[32];
	time_t t = time(NULL);
	struct tm tm;
	int width = g->style == MIG_STYLE_MIG ? 4 : 1;
	size_t i;

	for (i = 0; i < g->nr; i++) {
		char *v = mig_layout_version(g->revs[i]);

		if ((int)strlen(v) > width && *v)
			width = (int)strlen(v);
		if (*v && mig_layout_version_cmp(v, max) > 0) {
			free(max);
			max = v;
		} else {
			free(v);
		}
	}
	if (stamp || strlen(max) == 14) {
		strftime(now, sizeof(now), "%Y%m%d%H%M%S", gmtime_r(&t, &tm));
		if (mig_layout_version_cmp(now, max) > 0) {
			free(max);
			return mig_xstrdup(now);
		}
	}
	{
		char *r = increment(*max ? max : "0", width);

		free(max);
		return r;
	}
}

/*
 * Can '-- mig:parents' hold this name? Blanks separate its names and a
 * newline would end it, leaving the rest of the name to be read as SQL.
 */
static int parent_ok(const char *name)
{
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++)
		if (*p == ' ' || *p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

#define MIG_NAME_MAX 200

int mig_newrev_write(char **path, const struct mig_graph *g, const char *name,
		     const char *const *parents, size_t nparents, struct mig_err *err)
{
	struct mig_buf body = MIG_BUF_INIT;
	char *v = NULL, *file = NULL, *a = NULL, *b = NULL;
	size_t i;
	int rc = 0;

	*path = NULL;
	if (!mig_rev_name_ok(name)) {
		mig_err_set(err, MIG_EUSAGE, "invalid revision name '%s'", name);
		mig_err_hint(err, "use letters, digits, '_', '-' and '.', not starting with '-' or '.'");
		return MIG_EUSAGE;
	}
	/* a file name holds 255 bytes: room for a version and the longest suffix, ".down.sql" */
	if (strlen(name) > MIG_NAME_MAX) {
		mig_err_set(err, MIG_EUSAGE, "revision name is %zu bytes long: at most %d", strlen(name),
			    MIG_NAME_MAX);
		return MIG_EUSAGE;
	}
	v = next_version(g, g->style == MIG_STYLE_DBMATE || g->style == MIG_STYLE_DIESEL);
	switch (g->style) {
	case MIG_STYLE_MIG:
		for (i = 0; i < nparents; i++)
			if (!parent_ok(parents[i])) {
				rc = mig_err_set(err, MIG_EUNSAFE, "cannot name '%s' as a parent: "
						 "'-- mig:parents' cannot hold a blank or a control character",
						 parents[i]);
				mig_err_hint(err, "rename its file, or write the new revision by hand");
				goto out;
			}
		file = mig_xasprintf("%s_%s.sql", v, name);
		*path = mig_path_join(g->dir, file);
		mig_buf_adds(&body, "-- mig:parents");
		for (i = 0; i < nparents; i++)
			mig_buf_addf(&body, " %s", parents[i]);
		mig_buf_adds(&body, "\n-- mig:up\n\n-- mig:down\n\n");
		rc = write_new(*path, body.buf, err);
		break;
	case MIG_STYLE_DBMATE:
	case MIG_STYLE_GOOSE:
		file = mig_xasprintf("%s_%s.sql", v, name);
		*path = mig_path_join(g->dir, file);
		rc = write_new(*path, g->style == MIG_STYLE_DBMATE ? "-- migrate:up\n\n\n-- migrate:down\n\n" :
				      "-- +goose Up\n\n\n-- +goose Down\n\n", err);
		break;
	case MIG_STYLE_GOLANG:
		file = mig_xasprintf("%s_%s.up.sql", v, name);
		a = mig_path_join(g->dir, file);
		free(file);
		file = mig_xasprintf("%s_%s.down.sql", v, name);
		b = mig_path_join(g->dir, file);
		if ((rc = write_new(a, "", err)) == 0 && (rc = write_new(b, "", err)) < 0)
			unlink(a);
		*path = mig_xasprintf("%s\n%s", a, b);
		break;
	case MIG_STYLE_DIESEL: {
		char *dir;

		/* diesel's own: 2024-01-31-120000_name/ */
		file = mig_xasprintf("%.4s-%.2s-%.2s-%s_%s", v, v + 4, v + 6, v + 8, name);
		dir = mig_path_join(g->dir, file);
		a = mig_path_join(dir, "up.sql");
		b = mig_path_join(dir, "down.sql");
		if (mkdir(dir, 0777) < 0)
			rc = mig_err_errno(err, MIG_EENV, "cannot create '%s'", dir);
		else if ((rc = write_new(a, "-- Your SQL goes here\n", err)) < 0 ||
			 (rc = write_new(b, "-- This file should undo anything in `up.sql`\n", err)) < 0) {
			unlink(a);
			rmdir(dir);
		}
		*path = mig_xasprintf("%s\n%s", a, b);
		free(dir);
		break;
	}
	}
out:
	if (rc < 0) {
		free(*path);
		*path = NULL;
	}
	free(a);
	free(b);
	free(v);
	free(file);
	mig_buf_release(&body);
	return rc;
}
