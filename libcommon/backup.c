#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "db.h"
#include "image.h"
#include "journal.h"
#include "report.h"
#include "run.h"
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
	int rc;

	id[0] = '\0';
	o.nrevisions = applied_lines(path, timeout_ms, &revs);
	o.revisions = revs.buf;
	rc = mig_snapshot_take(s, path, &o, id, err);
	mig_buf_release(&revs);
	return rc;
}

/* The marker of a restore under way, in the store. */
static char *marker_path(const char *store)
{
	return mig_path_join(store, "restore.pending");
}

int mig_backup_interrupted(const char *store)
{
	char *path = marker_path(store);
	int there = mig_path_exists(path);

	free(path);
	return there;
}

/* Write the journal message of a restore, all but its result, as the marker. */
static int marker_write(const char *path, const char *message, struct mig_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), rc = 0;

	if (fd < 0)
		return mig_err_errno(err, MIG_EENV, "cannot write '%s'", path);
	if (mig_write_all(fd, message, strlen(message)) < 0 || fsync(fd) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", path);
	close(fd);
	if (rc < 0)
		unlink(path);
	return rc;
}

int mig_backup_restore(struct mig_store *s, const char *id, const char *before, const char *path,
		       int timeout_ms, int progress, struct mig_err *err)
{
	struct mig_err jerr = MIG_ERR_INIT;
	struct mig_buf m = MIG_BUF_INIT;
	char *marker = marker_path(mig_store_path(s));
	int rc;

	mig_buf_addf(&m, "restore %.12s\n\noperation restore\nsnapshot %s\n", id, id);
	if (before && *before)
		mig_buf_addf(&m, "before %s\n", before);
	if ((rc = marker_write(marker, m.buf, err)) < 0)
		goto out;
	rc = mig_snapshot_restore(s, id, path, timeout_ms, progress, err);
	mig_buf_addf(&m, "result %s\n", rc < 0 ? "failed" : "ok");
	if (mig_store_journal(s, m.buf, NULL, NULL, 0, rc < 0 ? &jerr : err) < 0) {
		/* the marker stays: the next command journals what happened */
		if (rc == 0) {
			rc = err->code;
			mig_err_hint(err, "'%s' is restored from snapshot %.12s all the same; the next command "
				     "writes the journal entry", path, id);
		}
		goto out;
	}
	unlink(marker);
out:
	mig_buf_release(&m);
	free(marker);
	return rc;
}

/* Is the newest journal entry the one whose message starts with data? */
static int journaled_cb(const struct mig_journal_entry *e, void *data)
{
	const char *m = data;

	return strncmp(e->message, m, strlen(m)) ? -1 : 1;
}

int mig_backup_recover(struct mig_store *s, const char *path, int timeout_ms, struct mig_err *err)
{
	struct mig_err seen = MIG_ERR_INIT;
	struct mig_buf m = MIG_BUF_INIT;
	struct mig_journal_op op;
	char *marker = marker_path(mig_store_path(s));
	int same = 0, rc = 0;

	if (mig_read_file(&m, marker, err) < 0) {
		mig_err_clear(err);
		goto out;
	}
	mig_journal_parse(&op, m.buf ? m.buf : "");
	/*
	 * A marker cut short was written before the database was touched;
	 * one whose entry is the newest was killed after it was written.
	 */
	if (!strcmp(op.operation, "restore") && op.snapshot && m.len && m.buf[m.len - 1] == '\n' &&
	    mig_path_exists(path) && mig_store_log(s, 1, journaled_cb, m.buf, &seen) != 1 &&
	    (rc = mig_snapshot_is_image(s, op.snapshot, path, timeout_ms, &same, err)) == 0 && same) {
		mig_buf_adds(&m, "result interrupted\n");
		rc = mig_store_journal(s, m.buf, NULL, NULL, 0, err);
	}
	mig_journal_op_release(&op);
	if (rc == 0)
		unlink(marker);
out:
	mig_buf_release(&m);
	free(marker);
	return rc;
}

int mig_backup_progress(void)
{
	return isatty(2) && mig_saying(MIG_SAY_NOTE);
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
	char *target, *dir, *quoted, *pattern;
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
	/* what a killed backup left beside it goes; a live one's is locked */
	dir = slash ? mig_xstrndup(o->path, slash == o->path ? 1 : (size_t)(slash - o->path)) : mig_xstrdup(".");
	quoted = mig_glob_quote(slash ? slash + 1 : o->path);
	pattern = mig_xasprintf(".%s.tmp-??????", quoted);
	mig_tmp_sweep(dir, pattern);
	free(pattern);
	free(quoted);
	free(dir);
	if ((o->fd = mig_tmp_file(o->tmp)) < 0) {
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
	/* what appeared there since (a device, a directory, a link) is not ours to replace */
	if (lstat(o->path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return mig_err_set(err, MIG_EENV, "cannot write '%s': it is no longer a regular file",
					   o->name);
	} else if (errno != ENOENT) {
		return mig_err_errno(err, MIG_EENV, "cannot write '%s'", o->name);
	}
	/* renamed while it is still open, and locked: no sweep takes it for a dead backup's */
	if (rename(o->tmp, o->path) < 0)
		return mig_err_errno(err, MIG_EENV, "cannot write '%s'", o->name);
	fd = o->fd;
	o->fd = -1;
	if (close(fd) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", o->name);
	free(o->tmp);
	o->tmp = NULL;
	/* the rename itself reaches the disk with its directory */
	if (mig_fsync_parent(o->path) < 0 && rc == 0)
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

/* ---- the commands ---- */

/* The store as it is; a missing one is an empty one (store stays NULL). */
static int open_existing(struct mig_store **store, const struct mig_settings *set, struct mig_err *err)
{
	*store = NULL;
	return mig_path_exists(set->store) ? mig_store_open(store, set->store, 0, err) : 0;
}

int mig_backup_list(struct mig_buf *out, const struct mig_settings *set, enum mig_format fmt, struct mig_err *err)
{
	struct mig_snapshot_list l = { NULL, 0 };
	struct mig_store *store;
	int rc;

	if ((rc = open_existing(&store, set, err)) < 0)
		return rc;
	if (!store || (rc = mig_snapshot_list(store, &l, err)) == 0)
		mig_snapshot_show(out, &l, fmt);
	mig_snapshot_list_release(&l);
	mig_store_close(store);
	return rc;
}

int mig_backup_verify(const struct mig_settings *set, const char *spec,
		      void (*ok)(const char *id, void *data), void *data, struct mig_err *err)
{
	struct mig_snapshot_list l = { NULL, 0 };
	struct mig_store *store;
	char id[41];
	size_t i;
	int rc;

	if ((rc = open_existing(&store, set, err)) < 0)
		return rc;
	if (!store && spec) {
		mig_err_set(err, MIG_EENV, "no snapshot in store '%s': it does not exist", set->store);
		mig_err_hint(err, "take one with 'mig backup'");
		return MIG_EENV;
	}
	if (!store) {
		mig_say(MIG_SAY_NOTE, "there are no snapshots to verify");
	} else if (spec) {
		if ((rc = mig_snapshot_resolve(store, spec, id, err)) == 0 &&
		    (rc = mig_snapshot_verify(store, id, mig_backup_progress(), err)) == 0)
			ok(id, data);
	} else if ((rc = mig_snapshot_list(store, &l, err)) == 0) {
		for (i = 0; i < l.nr && rc == 0; i++)
			if ((rc = mig_snapshot_verify(store, l.v[i].id, mig_backup_progress(), err)) == 0)
				ok(l.v[i].id, data);
	}
	mig_snapshot_list_release(&l);
	mig_store_close(store);
	return rc;
}

/* prune: a run of its own, journaled when it removed anything */
static int prune_plan(struct mig_run *run, struct mig_err *err)
{
	(void)err;
	run->n = 1;
	return 0;
}

static int prune_execute(struct mig_run *run, struct mig_err *err)
{
	size_t keep = *(size_t *)run->arg, pruned, removed, left;
	uint64_t freed;
	char subject[64];
	int rc;

	if ((rc = mig_snapshot_prune(run->store, keep, NULL, NULL, &pruned, &removed, &freed, &left, err)) < 0)
		return rc;
	mig_say(MIG_SAY_NOTE, "pruned %zu snapshot%s; removed %zu object%s (%.1f MiB)", pruned,
		pruned == 1 ? "" : "s", removed, removed == 1 ? "" : "s", freed / 1048576.0);
	if (left)
		mig_say(MIG_SAY_NOTE, "%zu object%s only they used stay%s packed, in packs mostly still in use or "
			"kept by git (.keep)", left, left == 1 ? "" : "s", left == 1 ? "s" : "");
	if (!pruned)
		return 0;
	snprintf(subject, sizeof(subject), "prune: keep %zu", keep);
	run->subject = subject;
	rc = run->env->journal(run, "ok", err);
	run->subject = NULL;
	return rc;
}

static const struct mig_run_kind prune_kind = {
	"prune", 0, 0, prune_plan, NULL, prune_execute, NULL, 1, 0,
};

int mig_backup_prune(const struct mig_settings *set, size_t keep, struct mig_err *err)
{
	struct mig_run_opts o = { 0 };

	return mig_run_do(&prune_kind, &keep, set, &o, NULL, err);
}

/* take: the database's image into a snapshot, and with -o into a file */
struct take {
	const struct mig_backup_opts *o;
	struct mig_outfile of;
	int to_stdout, opened;
	char *id;
};

/*
 * Open -o's file: "-" is stdout, which must not be a terminal; a file is
 * written aside and renamed over it once whole. Neither may be the
 * database, its journals or in the store.
 */
static int open_out(struct take *t, const struct mig_settings *set, struct mig_err *err)
{
	const char *path = t->o->out;
	int rc;

	if (t->to_stdout && isatty(1)) {
		mig_err_set(err, MIG_EUSAGE, "refusing to write a compressed image to a terminal");
		mig_err_hint(err, "redirect it ('mig backup -o - >app.db.gz') or give a file ('mig backup -o app.db.gz')");
		return MIG_EUSAGE;
	}
	if ((rc = mig_backup_check_output(path, set->database, set->store, err)) < 0)
		return rc;
	if (t->to_stdout) {
		t->of.fd = 1;
		t->of.name = "standard output";
		return 0;
	}
	if ((rc = mig_outfile_open(&t->of, path, err)) == 0)
		t->opened = 1;
	return rc;
}

/*
 * A server's database is there when it answers: asked before a store is
 * made for it. *db gets the connection (NULL for a file's).
 */
static int server_answers(struct mig_run *run, const char *dbpath, struct mig_db **db, struct mig_err *err)
{
	*db = NULL;
	return mig_db_is_url(dbpath) ? mig_db_open(db, dbpath, MIG_DB_READONLY, run->set->lock_timeout, err) : 0;
}

static int take_plan(struct mig_run *run, struct mig_err *err)
{
	struct take *t = run->arg;
	struct mig_db *db;
	const char *dbpath;
	int rc, empty;

	if ((rc = mig_settings_database(run->set, &dbpath, err)) < 0 || (rc = mig_image_check(dbpath, err)) < 0)
		return rc;
	if (!mig_db_exists(dbpath))
		return mig_err_set(err, MIG_EENV, "database '%s' does not exist", dbpath);
	if ((rc = server_answers(run, dbpath, &db, err)) < 0)
		return rc;
	/* nothing to keep: said before a store is made for it */
	empty = !mig_db_has_content(dbpath, db);
	mig_db_close(db);
	if (empty) {
		char *shown = mig_db_display_name(dbpath);

		mig_err_set(err, MIG_EENV, "database '%s' is empty: there is nothing to snapshot", shown);
		free(shown);
		return MIG_EENV;
	}
	/* the output is checked and made before anything else is */
	if (t->o->out && t->of.fd < 0 && (rc = open_out(t, run->set, err)) < 0)
		return rc;
	run->n = 1;
	return 0;
}

static int take_execute(struct mig_run *run, struct mig_err *err)
{
	struct take *t = run->arg;
	int rc;

	run->subject = t->o->message ? t->o->message : "backup";
	if ((rc = mig_backup_take(run->store, run->set->database, run->subject, run->set->lock_timeout,
				  mig_backup_progress(), t->id, err)) < 0)
		return rc;
	snprintf(run->snapshot, sizeof(run->snapshot), "%s", t->id);
	if ((rc = run->env->journal(run, "ok", err)) < 0)
		return rc;
	if (t->of.fd >= 0 &&
	    (rc = mig_snapshot_export(run->store, t->id, t->of.fd, t->of.name, mig_backup_progress(), err)) == 0 &&
	    t->opened)
		rc = mig_outfile_commit(&t->of, err);
	return rc;
}

static const struct mig_run_kind take_kind = {
	"backup", 0, 0, take_plan, NULL, take_execute, NULL, 1, 0,
};

int mig_backup(const struct mig_settings *set, const struct mig_backup_opts *o, char id[41], struct mig_err *err)
{
	struct mig_run_opts ro = { 0 };
	struct take t = { o, { -1, NULL, NULL, NULL }, o->out && !strcmp(o->out, "-"), 0, id };
	int rc;

	id[0] = '\0';
	/* mig.backupKeep knows automatic snapshots by their message: one by hand must not read as theirs */
	if (o->message) {
		struct mig_snapshot_info as = { .subject = (char *)o->message };

		/* the message is the first line of the snapshot's commit; what follows it, mig's */
		if (strchr(o->message, '\n'))
			return mig_err_set(err, MIG_EUSAGE, "a snapshot's message is one line");
		if (mig_snapshot_is_automatic(&as, NULL)) {
			mig_err_set(err, MIG_EUSAGE, "'%s' is what mig calls its automatic snapshots, which "
				    "mig.backupKeep prunes", o->message);
			mig_err_hint(err, "say what this snapshot is for in other words");
			return MIG_EUSAGE;
		}
	}
	rc = mig_run_do(&take_kind, &t, set, &ro, NULL, err);
	/* standard output is not ours to close; a file, even one that failed to open, is */
	if (!t.to_stdout)
		mig_outfile_release(&t.of);
	return rc;
}

/* restore: a snapshot, or an image from a file, replaces the database */
struct restore {
	const struct mig_restore_opts *o;
	int fd;
	char id[41];
};

static int restore_plan(struct mig_run *run, struct mig_err *err)
{
	struct restore *r = run->arg;
	struct mig_db *db;
	const char *dbpath, *in = r->o->input;
	int rc;

	if ((rc = mig_settings_database(run->set, &dbpath, err)) < 0 || (rc = mig_image_check(dbpath, err)) < 0)
		return rc;
	if (in && strcmp(in, "-") && r->fd < 0 && (r->fd = open(in, O_RDONLY | O_CLOEXEC)) < 0)
		return mig_err_errno(err, MIG_EENV, "cannot open '%s'", in);
	if (!in && !mig_path_exists(run->set->store)) {
		mig_err_set(err, MIG_EENV, "no snapshot in store '%s': it does not exist", run->set->store);
		mig_err_hint(err, "take one with 'mig backup'");
		return MIG_EENV;
	}
	/* an import makes a store: not for a server that does not answer */
	if ((rc = server_answers(run, dbpath, &db, err)) < 0)
		return rc;
	mig_db_close(db);
	run->n = 1;
	return 0;
}

/* The snapshot to restore: imported now, or named; a damaged one is refused here. */
static int restore_prepare(struct mig_run *run, struct mig_err *err)
{
	struct restore *r = run->arg;
	const char *in = r->o->input;
	int rc;

	if (in) {
		char subject[256];
		struct mig_snapshot_opts so = { subject, NULL, 0, run->set->lock_timeout, mig_backup_progress() };

		snprintf(subject, sizeof(subject), "import %s", strcmp(in, "-") ? in : "from standard input");
		if ((rc = mig_snapshot_import(run->store, r->fd >= 0 ? r->fd : 0, strcmp(in, "-") ? in : "standard input",
					      run->set->database, &so, r->id, err)) < 0)
			return rc;
		run->subject = subject;
		snprintf(run->snapshot, sizeof(run->snapshot), "%s", r->id);
		rc = run->env->journal(run, "ok", err);
		run->subject = NULL;
		run->snapshot[0] = '\0';
		if (rc < 0)
			return rc;
	} else if ((rc = mig_snapshot_resolve(run->store, r->o->spec, r->id, err)) < 0) {
		return rc;
	}
	/* a damaged snapshot is refused before the current state is snapshot */
	return mig_snapshot_check(run->store, r->id, err);
}

static int restore_execute(struct mig_run *run, struct mig_err *err)
{
	struct restore *r = run->arg;
	char *shown;
	int rc;

	if ((rc = mig_backup_restore(run->store, r->id, run->snapshot, run->set->database, run->set->lock_timeout,
				     mig_backup_progress(), err)) < 0)
		return rc;
	shown = mig_db_display_name(run->set->database);
	if (*run->snapshot)
		mig_say(MIG_SAY_NOTE, "restored snapshot %.12s into '%s'; what was there is snapshot %.12s", r->id,
			shown, run->snapshot);
	else
		mig_say(MIG_SAY_NOTE, "restored snapshot %.12s into '%s'", r->id, shown);
	free(shown);
	return 0;
}

static const struct mig_run_kind restore_kind = {
	"restore", 0, 1, restore_plan, restore_prepare, restore_execute, NULL, 1, 0,
};

int mig_restore(const struct mig_settings *set, const struct mig_restore_opts *o, struct mig_err *err)
{
	struct mig_run_opts ro = { 0 };
	struct restore r = { o, -1, "" };
	int rc;

	ro.no_backup = o->no_backup;
	rc = mig_run_do(&restore_kind, &r, set, &ro, NULL, err);
	if (r.fd >= 0)
		close(r.fd);
	return rc;
}
