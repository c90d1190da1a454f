#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"
#include "ctx.h"
#include "newrev.h"
#include "revspec.h"
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
		if (*v && mig_layout_version_cmp(g->style, v, max) > 0) {
			free(max);
			max = v;
		} else {
			free(v);
		}
	}
	if (stamp || strlen(max) == 14) {
		strftime(now, sizeof(now), "%Y%m%d%H%M%S", gmtime_r(&t, &tm));
		if (mig_layout_version_cmp(g->style, now, max) > 0) {
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

/*
 * Another tool's revision, its way: VERSION_NAME plus each of its file
 * suffixes (a directory VERSION_NAME first, for diesel), holding its
 * template. *path is the files' paths, a line each. A file written
 * before one that fails goes again.
 */
static int write_foreign(char **path, const struct mig_graph *g, const struct mig_layout *l, const char *name,
			 struct mig_err *err)
{
	char *v = next_version(g, l->new_stamp), *tv = l->new_version ? l->new_version(v) : mig_xstrdup(v);
	char *base = mig_xasprintf("%s_%s", tv, name), *stem = mig_path_join(g->dir, base), *files[2] = { NULL };
	int rc = 0, k, made = 0;

	if (l->new_dir && !(made = mkdir(stem, 0777) == 0))
		rc = mig_err_errno(err, MIG_EENV, "cannot create '%s'", stem);
	for (k = 0; k < 2 && rc == 0 && l->file_suffix[k]; k++) {
		files[k] = mig_xasprintf("%s%s", stem, l->file_suffix[k]);
		rc = write_new(files[k], l->new_body[k], err);
	}
	if (rc == 0) {
		*path = files[1] ? mig_xasprintf("%s\n%s", files[0], files[1]) : mig_xstrdup(files[0]);
	} else {
		if (k == 2 && files[0])
			unlink(files[0]);
		if (made)
			rmdir(stem);
	}
	free(files[0]);
	free(files[1]);
	free(stem);
	free(base);
	free(tv);
	free(v);
	return rc;
}

#define MIG_NAME_MAX 200

int mig_newrev_write(char **path, const struct mig_graph *g, const char *name,
		     const char *const *parents, size_t nparents, struct mig_err *err)
{
	const struct mig_layout *l;
	struct mig_buf body = MIG_BUF_INIT;
	char *v = NULL, *file = NULL;
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
	if ((l = mig_layout_of(g->style))) {
		rc = write_foreign(path, g, l, name, err);
		goto out;
	}
	v = next_version(g, 0);
	for (i = 0; i < nparents; i++)
		if (!parent_ok(parents[i])) {
			rc = mig_err_set(err, MIG_EUNSAFE, "cannot name '%s' as a parent: "
					 "'-- mig:parents' cannot hold a blank or a control character", parents[i]);
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
out:
	if (rc < 0) {
		free(*path);
		*path = NULL;
	}
	free(v);
	free(file);
	mig_buf_release(&body);
	return rc;
}

/* Add name to parents unless it is there already. */
static void add_parent(const char **parents, size_t *n, const char *name)
{
	size_t j;

	for (j = 0; j < *n; j++)
		if (!strcmp(parents[j], name))
			return;
	parents[(*n)++] = name;
}

int mig_merge(char **path, const struct mig_settings *set, const char *name, char *const *specs, size_t nspecs,
	      struct mig_err *err)
{
	struct mig_ctx *ctx = NULL;
	const char **parents = NULL;
	const struct mig_graph *g;
	size_t i, j, n = 0;
	int rc;

	*path = NULL;
	if ((rc = mig_ctx_open(&ctx, set, MIG_CTX_FILES, err)) < 0)
		return rc;
	g = ctx->st.g;
	parents = mig_xcalloc(g->nheads + nspecs + 1, sizeof(*parents));
	if (!nspecs) {
		for (i = 0; i < g->nheads; i++)
			parents[n++] = g->revs[g->heads[i]]->name;
	}
	for (i = 0; i < nspecs; i++) {
		struct mig_target t;

		if ((rc = mig_revspec(&t, &ctx->st, specs[i], err)) < 0)
			goto out;
		/* each head once, however often it is named: there are no more parents than heads */
		if (t.kind == MIG_TARGET_HEADS) {
			for (j = 0; j < g->nheads; j++)
				add_parent(parents, &n, g->revs[g->heads[j]]->name);
			continue;
		}
		if (t.kind != MIG_TARGET_REV || t.rev < 0 || g->revs[t.rev]->nchildren) {
			rc = mig_err_set(err, MIG_EUSAGE, "'%s' is not a head", specs[i]);
			mig_err_hint(err, "only heads can be merged; see 'mig status'");
			goto out;
		}
		add_parent(parents, &n, t.name);
	}
	if (n < 2) {
		rc = mig_err_set(err, MIG_EUSAGE, "nothing to merge: %s",
				 nspecs ? "name at least two heads" :
				 g->nheads ? "there is only one head" : "there are no revisions");
		goto out;
	}
	rc = mig_newrev_write(path, g, name, parents, n, err);
out:
	free(parents);
	mig_ctx_close(ctx);
	return rc;
}

int mig_new(char **path, const struct mig_settings *set, const char *name, struct mig_err *err)
{
	struct mig_ctx *ctx = NULL;
	const char **parents;
	const struct mig_graph *g;
	size_t i;
	int rc;

	*path = NULL;
	if ((rc = mig_ctx_open(&ctx, set, MIG_CTX_FILES | MIG_CTX_MKDIR, err)) < 0)
		return rc;
	g = ctx->st.g;
	parents = mig_xcalloc(g->nheads + 1, sizeof(*parents));
	for (i = 0; i < g->nheads; i++)
		parents[i] = g->revs[g->heads[i]]->name;
	rc = mig_newrev_write(path, g, name, parents, g->nheads, err);
	free(parents);
	mig_ctx_close(ctx);
	return rc;
}
