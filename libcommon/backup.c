#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "db.h"
#include "journal.h"
#include "snapshot.h"
#include "util.h"

/* The applied revisions as "revision ID NAME" lines; none when unreadable. */
static size_t applied_lines(const char *path, int timeout_ms, struct mig_buf *out)
{
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_applied_list l = { NULL, 0 };
	struct mig_db *db = NULL;
	size_t i, n = 0;

	if (mig_db_open(&db, path, MIG_DB_READONLY, timeout_ms, &ignored) == 0 &&
	    mig_db_applied(db, &l, &ignored) == 0)
		for (i = 0; i < l.nr; i++, n++)
			mig_journal_add_rev(out, l.v[i].id, l.v[i].name, NULL);
	mig_applied_list_release(&l);
	mig_db_close(db);
	return n;
}

int mig_backup_take(struct mig_store *s, const char *path, const char *subject, int timeout_ms, int progress,
		    char id[41], struct mig_err *err)
{
	struct mig_snapshot_opts o = { subject, NULL, 0, timeout_ms, progress };
	struct mig_buf revs = MIG_BUF_INIT;
	struct stat st;
	int rc;

	id[0] = '\0';
	if (stat(path, &st) < 0 || st.st_size == 0)
		return 0;
	o.nrevisions = applied_lines(path, timeout_ms, &revs);
	o.revisions = revs.buf;
	rc = mig_snapshot_take(s, path, &o, id, err);
	mig_buf_release(&revs);
	return rc;
}

int mig_backup_journal(struct mig_store *s, const char *subject, const char *op, const char *snapshot,
		       const char *before, const char *result, struct mig_err *err)
{
	struct mig_buf m = MIG_BUF_INIT;
	int rc;

	mig_buf_addf(&m, "%s\n\noperation %s\n", subject, op);
	if (snapshot && *snapshot)
		mig_buf_addf(&m, "snapshot %s\n", snapshot);
	if (before && *before)
		mig_buf_addf(&m, "before %s\n", before);
	mig_buf_addf(&m, "result %s\n", result);
	rc = mig_store_journal(s, m.buf, NULL, NULL, 0, err);
	mig_buf_release(&m);
	return rc;
}

int mig_backup_progress(int quiet)
{
	return !quiet && isatty(2);
}

/*
 * The path with symlinks resolved, as far as it exists: the real path
 * of its deepest existing ancestor, and the rest of it as written (a
 * name that does not exist is no symlink). NULL when not even the
 * current directory resolves.
 */
static char *resolve(const char *path)
{
	size_t len = strlen(path);
	char *r = realpath(path, NULL), *parent, *cut;
	const char *base, *slash;

	if (r || !len)
		return r;
	while (len > 1 && path[len - 1] == '/')
		len--;
	slash = memrchr(path, '/', len);
	parent = slash ? mig_xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : mig_xstrdup(".");
	base = slash ? slash + 1 : path;
	len -= (size_t)(base - path);
	if (strcmp(parent, path))
		r = resolve(parent);
	free(parent);
	if (!r || (len == 1 && *base == '.'))
		return r;
	if (len == 2 && !strncmp(base, "..", 2)) {
		cut = strrchr(r, '/');
		cut[cut == r] = '\0';
		return r;
	}
	parent = r;
	r = mig_xasprintf("%s/%.*s", strcmp(parent, "/") ? parent : "", (int)len, base);
	free(parent);
	return r;
}

/* Is dir, or a path under it, what path is? Both resolved. */
static int under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

int mig_backup_check_output(const char *out, const char *db, const char *store, struct mig_err *err)
{
	static const struct {
		const char *suffix, *what;
	} files[] = {
		{ "", "the database" },
		{ "-journal", "the rollback journal of the database" },
		{ "-wal", "the write-ahead log of the database" },
		{ "-shm", "the shared-memory index of the database" },
	};
	int to_stdout = !strcmp(out, "-"), rc = 0;
	char *rout = to_stdout ? NULL : resolve(out), *rdb = resolve(db), *rstore = store ? resolve(store) : NULL;
	char *name = to_stdout ? mig_xstrdup("standard output") : mig_xasprintf("'%s'", out);
	struct stat so, sf;
	int have_out = to_stdout ? fstat(1, &so) == 0 : stat(out, &so) == 0;
	size_t i;

	/* SQLite keeps a database's journals beside the file its name resolves to */
	for (i = 0; rdb && i < sizeof(files) / sizeof(files[0]) && rc == 0; i++) {
		char *f = mig_xasprintf("%s%s", rdb, files[i].suffix);

		if ((rout && !strcmp(rout, f)) ||
		    (have_out && stat(f, &sf) == 0 && sf.st_dev == so.st_dev && sf.st_ino == so.st_ino))
			rc = mig_err_set(err, MIG_EUNSAFE, "refusing to write to %s: it is %s '%s'", name,
					 files[i].what, db);
		free(f);
	}
	if (rc == 0 && rout && rstore && under(rout, rstore))
		rc = mig_err_set(err, MIG_EUNSAFE, "refusing to write to %s: it is inside the store '%s'", name,
				 store);
	if (rc < 0)
		mig_err_hint(err, "write the image to a file of its own, such as '%s.gz'", db);
	free(name);
	free(rout);
	free(rdb);
	free(rstore);
	return rc;
}

int mig_outfile_open(struct mig_outfile *o, const char *path, struct mig_err *err)
{
	struct stat st;
	const char *slash;
	char *target;
	int exists = stat(path, &st) == 0;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->name = path;
	/* only a path that is not there may be taken for a new file: never rename over what stat cannot see */
	if (!exists && errno != ENOENT)
		return mig_err_errno(err, MIG_EENV, "cannot write '%s'", path);
	/* a device or a pipe (/dev/null, >(cmd)) is written as it is */
	if (exists && !S_ISREG(st.st_mode)) {
		if ((o->fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
			return mig_err_errno(err, MIG_EENV, "cannot open '%s'", path);
		return 0;
	}
	/* a symlink is written through: the file it names is replaced */
	target = exists ? realpath(path, NULL) : NULL;
	o->path = target ? target : mig_xstrdup(path);
	slash = strrchr(o->path, '/');
	o->tmp = mig_xasprintf("%.*s.%s.tmp-XXXXXX", slash ? (int)(slash + 1 - o->path) : 0, o->path,
			       slash ? slash + 1 : o->path);
	if ((o->fd = mkostemp(o->tmp, O_CLOEXEC)) < 0) {
		int e = errno;

		free(o->tmp);
		o->tmp = NULL;
		errno = e;
		return mig_err_errno(err, MIG_EENV, "cannot create '%s'", path);
	}
	/* an image holds every row: private when new (mkostemp's 0600), else the mode of the file it replaces */
	if (exists && fchmod(o->fd, st.st_mode & 07777) < 0)
		return mig_err_errno(err, MIG_EENV, "cannot create '%s'", path);
	return 0;
}

int mig_outfile_commit(struct mig_outfile *o, struct mig_err *err)
{
	struct stat st;
	int fd, rc = 0;

	if (!o->tmp) {
		if (close(o->fd) < 0)
			rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", o->name);
		o->fd = -1;
		return rc;
	}
	if (fsync(o->fd) < 0)
		return mig_err_errno(err, MIG_EENV, "cannot write '%s'", o->name);
	fd = o->fd;
	o->fd = -1;
	/* what appeared there since (a device, a directory, a link) is not ours to replace */
	if (lstat(o->path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			rc = mig_err_set(err, MIG_EENV, "cannot write '%s': it is no longer a regular file", o->name);
	} else if (errno != ENOENT) {
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", o->name);
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	if (close(fd) < 0 || rename(o->tmp, o->path) < 0)
		return mig_err_errno(err, MIG_EENV, "cannot write '%s'", o->name);
	free(o->tmp);
	o->tmp = NULL;
	/* the rename itself reaches the disk with its directory */
	if (mig_fsync_parent(o->path) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", o->name);
	return rc;
}

void mig_outfile_release(struct mig_outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
}
