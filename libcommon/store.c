#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pwd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "cli.h"
#include "store-internal.h"

/* fsync the directory that holds path, so a rename into it lasts. */
static int sync_parent(const char *path)
{
	char *dir = mig_xstrdup(path), *slash = strrchr(dir, '/');
	int fd, rc;

	if (slash)
		slash[slash == dir] = '\0';
	fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rc = fd < 0 || fsync(fd) < 0 ? -1 : 0;
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

/*
 * Create the store at path: made whole in a temporary directory beside
 * it, then renamed into place, so no run ever opens a store half made.
 * A rename that fails because a concurrent run's store got there first
 * is no error: that store is the one to use. The temporary directory is
 * locked while it is made, so that one a killed run left can be told
 * from one being made (see sweep).
 */
static int create(const char *path, struct mig_err *err)
{
	size_t len = strlen(path);
	char *dest, *tmp;
	git_repository *repo = NULL;
	git_reference *head = NULL;
	mode_t old = umask(077);
	int rc = 0, fd;

	while (len > 1 && path[len - 1] == '/')
		len--;
	dest = mig_xstrndup(path, len);
	tmp = mig_xasprintf("%s.tmp-XXXXXX", dest);
	if ((fd = mig_tmp_dir(tmp)) < 0) {
		rc = mig_err_errno(err, MIG_EENV, "cannot create store '%s'", path);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	/*
	 * HEAD names the journal's branch (see mig_store_journal), so plain
	 * 'git log' shows it and git fsck finds HEAD on a branch
	 */
	if (git_repository_init(&repo, tmp, 1) < 0 ||
	    git_reference_symbolic_create(&head, repo, "HEAD", JOURNAL_BRANCH, 1, NULL) < 0)
		rc = mig_err_git(err, MIG_EENV, "cannot create store");
	git_reference_free(head);
	git_repository_free(repo);
	/* on disk before it is in place, and in place before anything is written to it */
	if (rc == 0 && syncfs(fd) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot create store '%s'", path);
	if (rc == 0 && rename(tmp, dest) == 0) {
		free(tmp);
		tmp = NULL;
		if (sync_parent(dest) < 0)
			rc = mig_err_errno(err, MIG_EENV, "cannot create store '%s'", path);
	} else if (rc == 0 && errno != EEXIST && errno != ENOTEMPTY) {
		rc = mig_err_errno(err, MIG_EENV, "cannot create store '%s'", path);
	}
	if (tmp)
		nftw(tmp, store_remove_one, 16, FTW_DEPTH | FTW_PHYS);
	close(fd);
out:
	umask(old);
	free(tmp);
	free(dest);
	return rc;
}

int mig_store_open(struct mig_store **out, const char *path, int create_it, struct mig_err *err)
{
	struct mig_store *s = mig_xcalloc(1, sizeof(*s));
	int rc = 0;

	s->path = mig_xstrdup(path);
	s->lock_fd = -1;
	/* what the store writes is on disk before mig says it is done */
	if ((rc = mig_git_need(err)) < 0 || (rc = store_git_fsync(err)) < 0)
		goto out;
	if (git_repository_open_bare(&s->repo, path) == 0)
		goto out;
	/* a store that appeared since is whole: it was renamed into place */
	if (create_it && !mig_path_exists(path) && (rc = create(path, err)) < 0)
		goto out;
	if (!create_it || git_repository_open_bare(&s->repo, path) < 0)
		rc = mig_err_git(err, MIG_EENV, "cannot open store");
out:
	if (rc < 0) {
		mig_store_close(s);
		s = NULL;
	}
	*out = s;
	return rc;
}

void mig_store_close(struct mig_store *s)
{
	if (!s)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	git_repository_free(s->repo);
	free(s->path);
	free(s);
}

int mig_store_put(struct mig_store *s, const void *data, size_t len, char id[41], struct mig_err *err)
{
	mode_t old = umask(077);
	git_oid oid;
	int r = git_blob_create_from_buffer(&oid, s->repo, data, len);

	umask(old);
	if (r < 0)
		return mig_err_git(err, MIG_EENV, "cannot write to the store");
	git_oid_tostr(id, 41, &oid);
	return 0;
}

/*
 * libgit2 sets zlib up afresh for each object it packs: some 270 KiB
 * allocated, cleared and freed again. Once the pack being built
 * outgrows the heap (glibc maps it apart, past 128 KiB: some 700 small
 * revisions), nothing is left above those buffers, so each free()
 * hands them back to the kernel and each next object faults them in
 * anew: page faults went from 1,600 for 200 revisions to 21,000 for
 * 1000, a cost per revision that grew with the run. Freed memory is
 * kept instead, for the life of the process, which is short.
 */
static void keep_freed_memory(void)
{
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD)
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

/*
 * Many blobs at once: those missing go into one pack (built in memory:
 * a mempack odb and libgit2's packbuilder, then indexed into the
 * store), so a run of a thousand revisions writes two files, not a
 * thousand.
 */
int mig_store_put_all(struct mig_store *s, const char *const *data, const size_t *len, size_t n,
		      struct mig_err *err)
{
	git_odb *odb = NULL, *mem_odb = NULL;
	git_odb_backend *mem = NULL;
	git_repository *mem_repo = NULL;
	git_packbuilder *pb = NULL;
	git_odb_writepack *wp = NULL;
	git_indexer_progress stats;
	git_buf pack = { 0 };
	git_oid *oids = mig_xcalloc(n + 1, sizeof(*oids));
	mode_t old = umask(077);
	size_t i, missing = 0;
	int rc = 0;

	memset(&stats, 0, sizeof(stats));
	keep_freed_memory();
	if (git_repository_odb(&odb, s->repo) < 0 || git_odb_new(&mem_odb) < 0 || git_mempack_new(&mem) < 0)
		goto fail;
	if (git_odb_add_backend(mem_odb, mem, 1) < 0) {
		mem->free(mem);
		goto fail;
	}
	if (git_repository_wrap_odb(&mem_repo, mem_odb) < 0 || git_packbuilder_new(&pb, mem_repo) < 0)
		goto fail;
	git_packbuilder_set_threads(pb, 1);
	/*
	 * The store's packs are looked for once: a blob it lacks (every
	 * body of a first run) would otherwise have libgit2 read the pack
	 * directory again, a cost per revision that grows with the store
	 */
	if (git_odb_refresh(odb) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		git_oid *oid = &oids[missing];

		if (git_odb_hash(oid, data[i], len[i], GIT_OBJECT_BLOB) < 0)
			goto fail;
		if (git_odb_exists_ext(odb, oid, GIT_ODB_LOOKUP_NO_REFRESH) ||
		    git_odb_exists_ext(mem_odb, oid, GIT_ODB_LOOKUP_NO_REFRESH))
			continue;
		if (git_odb_write(oid, mem_odb, data[i], len[i], GIT_OBJECT_BLOB) < 0 ||
		    git_packbuilder_insert(pb, oid, NULL) < 0)
			goto fail;
		missing++;
	}
	if (!missing)
		goto out;
	if (git_packbuilder_write_buf(&pack, pb) < 0 || git_odb_write_pack(&wp, odb, NULL, NULL) < 0 ||
	    wp->append(wp, pack.ptr, pack.size, &stats) < 0 || wp->commit(wp, &stats) < 0 ||
	    git_odb_refresh(odb) < 0)
		goto fail;
	/* trust what the store now holds, not what the writer said */
	for (i = 0; i < missing; i++) {
		if (!git_odb_exists(odb, &oids[i])) {
			char hex[41];

			git_oid_tostr(hex, sizeof(hex), &oids[i]);
			rc = mig_err_set(err, MIG_EENV, "cannot write to the store '%s': object %s is missing after "
					 "writing it", s->path, hex);
			goto out;
		}
	}
	goto out;
fail:
	rc = mig_err_git(err, MIG_EENV, "cannot write to the store");
out:
	umask(old);
	free(oids);
	if (wp)
		wp->free(wp);
	git_buf_dispose(&pack);
	git_packbuilder_free(pb);
	git_repository_free(mem_repo);
	git_odb_free(mem_odb);
	git_odb_free(odb);
	return rc;
}

struct mig_store_job {
	pthread_t thread;
	int started;
	struct mig_store *s;
	const char *const *data;
	const size_t *len;
	size_t n;
	int rc;
	struct mig_err err;
};

static void *put_all_thread(void *arg)
{
	struct mig_store_job *j = arg;

	j->rc = mig_store_put_all(j->s, j->data, j->len, j->n, &j->err);
	return NULL;
}

void mig_store_put_all_start(struct mig_store_job **job, struct mig_store *s, const char *const *data,
			     const size_t *len, size_t n)
{
	struct mig_store_job *j = mig_xcalloc(1, sizeof(*j));

	*j = (struct mig_store_job){ .s = s, .data = data, .len = len, .n = n, .err = MIG_ERR_INIT };
	/* libgit2 was loaded and set up when the store was opened, not in the thread */
	j->started = pthread_create(&j->thread, NULL, put_all_thread, j) == 0;
	if (!j->started)
		put_all_thread(j);
	*job = j;
}

int mig_store_wait(struct mig_store_job **job, struct mig_err *err)
{
	struct mig_store_job *j = *job;
	int rc;

	if (!j)
		return 0;
	if (j->started)
		pthread_join(j->thread, NULL);
	rc = j->rc;
	if (rc < 0)
		*err = j->err;
	free(j);
	*job = NULL;
	return rc;
}

int mig_store_get(struct mig_store *s, const char *id, struct mig_buf *b, struct mig_err *err)
{
	git_blob *blob = NULL;
	git_oid oid;

	if (git_oid_fromstr(&oid, id) < 0 || git_blob_lookup(&blob, s->repo, &oid) < 0)
		return mig_err_set(err, MIG_EENV, "revision body %.12s is not in the store '%s'", id, s->path);
	mig_buf_add(b, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return 0;
}

const char *mig_store_path(const struct mig_store *s)
{
	return s->path;
}

/*
 * Who runs mig: $USER, else the password database's name for the uid
 * (cron, systemd units and containers often leave USER unset), else "mig".
 */
static const char *user_name(void)
{
	const char *user = getenv("USER");
	struct passwd *pw;

	if (user && *user)
		return user;
	if ((pw = getpwuid(getuid())) && pw->pw_name && *pw->pw_name)
		return pw->pw_name;
	return "mig";
}

int store_signature(git_signature **out, struct mig_err *err)
{
	char host[256] = "localhost", *user = mig_xstrdup(user_name()), *email;
	int r;

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	email = mig_xasprintf("%s@%s", user, host);
	r = git_signature_now(out, user, email);
	free(email);
	free(user);
	return r < 0 ? mig_err_git(err, MIG_EENV, "cannot sign a commit") : 0;
}

/*
 * Make what the store holds durable: every loose object a snapshot
 * wrote, and the directories that name them. One syncfs(2) of the
 * store's file system instead of an fsync per chunk, which a first
 * snapshot writes thousands of; it reports a failed write-back too.
 */
int store_sync(struct mig_store *s, struct mig_err *err)
{
	int fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || syncfs(fd) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot sync the store '%s'", s->path);
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * git fsck wants HEAD on a branch (refs/heads/), and a symbolic ref
 * from there to JOURNAL_REF is no better: fsck follows it. So in a
 * store made now HEAD names JOURNAL_BRANCH, which follows the journal
 * for git's tools; mig itself reads and writes JOURNAL_REF only, so a
 * store made before, whose HEAD names JOURNAL_REF, works as it did. A
 * branch left behind (a run killed between the two writes, or a write
 * that failed) costs the journal nothing, and the next entry catches
 * it up: no error.
 */
static void follow_journal(struct mig_store *s, const git_oid *tip)
{
	git_reference *branch = NULL;

	if (git_reference_create(&branch, s->repo, JOURNAL_BRANCH, tip, 1, "journal") < 0)
		git_error_clear();
	git_reference_free(branch);
}

int mig_store_journal(struct mig_store *s, const char *message, const char *const *names,
		      const char *const *ids, size_t n, struct mig_err *err)
{
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_commit *parent = NULL;
	const git_commit *parents[1];
	git_tree *tree = NULL;
	git_oid tree_id, commit_id, parent_id, written;
	mode_t old = umask(077);
	size_t i;
	int rc = 0;

	if (git_treebuilder_new(&tb, s->repo, NULL) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		git_oid oid;
		char *entry = mig_xasprintf("%s.sql", names[i]);
		int r;

		/* tree entries cannot hold '/'; names never do */
		r = git_oid_fromstr(&oid, ids[i]) < 0 ? -1 :
		    git_treebuilder_insert(NULL, tb, entry, &oid, GIT_FILEMODE_BLOB);
		free(entry);
		if (r < 0)
			goto fail;
	}
	if (git_treebuilder_write(&tree_id, tb) < 0 || git_tree_lookup(&tree, s->repo, &tree_id) < 0)
		goto fail;
	if (store_signature(&sig, err) < 0) {
		rc = err->code;
		goto out;
	}
	if (git_reference_name_to_id(&parent_id, s->repo, JOURNAL_REF) == 0 &&
	    git_commit_lookup(&parent, s->repo, &parent_id) < 0)
		goto fail;
	parents[0] = parent;
	/*
	 * libgit2 1.5 returns 0 when it could not write the commit (a full
	 * disk), and leaves the ref as it was: the ref is the proof.
	 */
	if (git_commit_create(&commit_id, s->repo, JOURNAL_REF, sig, sig, NULL, message, tree,
			      parent ? 1 : 0, parents) < 0 ||
	    git_reference_name_to_id(&written, s->repo, JOURNAL_REF) < 0 || git_oid_cmp(&written, &commit_id))
		goto fail;
	follow_journal(s, &commit_id);
	goto out;
fail:
	rc = mig_err_git(err, MIG_EENV, "cannot write the journal");
out:
	umask(old);
	git_commit_free(parent);
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	return rc;
}

/*
 * The journal's newest commit into tip: 1, or 0 when there is no
 * journal yet; a ref that cannot be read, or that points at an object
 * that is not a readable commit, is MIG_EENV.
 */
static int journal_tip(struct mig_store *s, git_oid *tip, struct mig_err *err)
{
	git_commit *c = NULL;
	git_odb *odb = NULL;
	const git_error *e;
	char hex[GIT_OID_HEXSZ + 1], *why;
	int r = git_reference_name_to_id(tip, s->repo, JOURNAL_REF), there;

	if (r == GIT_ENOTFOUND)
		return 0;
	if (r < 0) {
		char *what = mig_xasprintf("store '%s': cannot read the journal " JOURNAL_REF, s->path);

		mig_err_git(err, MIG_EENV, what);
		free(what);
		return MIG_EENV;
	}
	if (git_commit_lookup(&c, s->repo, tip) == 0) {
		git_commit_free(c);
		return 1;
	}
	e = git_error_last();
	why = mig_xstrdup(e && e->message ? e->message : "unknown libgit2 error");
	there = git_repository_odb(&odb, s->repo) == 0 && git_odb_exists(odb, tip);
	git_odb_free(odb);
	git_oid_tostr(hex, sizeof(hex), tip);
	if (there) {
		/* an I/O error may pass: say why, and that the journal is there */
		mig_err_set(err, MIG_EENV, "store '%s': the journal " JOURNAL_REF " points at unreadable object %s: %s",
			    s->path, hex, why);
		mig_err_hint(err, "check the disk, then 'git --git-dir=%s fsck'", s->path);
	} else {
		mig_err_set(err, MIG_EENV, "store '%s': the journal " JOURNAL_REF " points at missing object %s",
			    s->path, hex);
		mig_err_hint(err, "'git --git-dir=%s fsck' shows what else is damaged; "
			     "'git --git-dir=%s update-ref -d " JOURNAL_REF "' starts a new journal", s->path, s->path);
	}
	free(why);
	return MIG_EENV;
}

int mig_store_journal_check(struct mig_store *s, struct mig_err *err)
{
	git_oid tip;
	int rc = journal_tip(s, &tip, err);

	return rc < 0 ? rc : 0;
}

int mig_store_log(struct mig_store *s, size_t max,
		  int (*fn)(const struct mig_journal_entry *e, void *data), void *data,
		  struct mig_err *err)
{
	git_revwalk *walk = NULL;
	git_oid oid;
	size_t n = 0;
	int rc, r;

	if ((rc = journal_tip(s, &oid, err)) <= 0)
		return rc;	/* nothing journaled yet, or a damaged journal */
	if (git_revwalk_new(&walk, s->repo) < 0)
		return mig_err_git(err, MIG_EENV, "cannot read the journal");
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL);
	if (git_revwalk_push(walk, &oid) < 0) {
		git_revwalk_free(walk);
		return mig_err_git(err, MIG_EENV, "cannot read the journal");
	}
	rc = 0;
	while ((!max || n < max) && (r = git_revwalk_next(&oid, walk)) == 0) {
		struct mig_journal_entry e;
		git_commit *c = NULL;

		if (git_commit_lookup(&c, s->repo, &oid) < 0) {
			rc = mig_err_git(err, MIG_EENV, "cannot read the journal");
			break;
		}
		git_oid_tostr(e.commit, sizeof(e.commit), &oid);
		e.time = git_commit_time(c);
		e.email = git_commit_author(c)->email;
		e.message = git_commit_message(c);
		rc = fn(&e, data);
		git_commit_free(c);
		if (rc < 0)
			break;
		n++;
	}
	if (rc == 0 && r < 0 && r != GIT_ITEROVER)
		rc = mig_err_git(err, MIG_EENV, "cannot read the journal");
	git_revwalk_free(walk);
	return rc;
}

/* Remove the files in dir whose names start with one of the prefixes. */
static void remove_named(const char *dir, const char *const *prefixes)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t i;

	while (d && (e = readdir(d)))
		for (i = 0; prefixes[i]; i++)
			if (!strncmp(e->d_name, prefixes[i], strlen(prefixes[i]))) {
				unlinkat(dirfd(d), e->d_name, 0);
				break;
			}
	if (d)
		closedir(d);
}

/*
 * A pack without its index: a writer killed between the two renames
 * (mig and git rename the pack first). Nothing reads it; it goes.
 */
static void remove_unindexed(const char *packdir)
{
	DIR *d = opendir(packdir);
	struct dirent *e;
	struct stat st;

	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char *idx;

		if (n < 10 || strncmp(e->d_name, "pack-", 5) || strcmp(e->d_name + n - 5, ".pack"))
			continue;
		idx = mig_xasprintf("%.*s.idx", (int)(n - 5), e->d_name);
		if (fstatat(dirfd(d), idx, &st, 0) < 0 && errno == ENOENT)
			unlinkat(dirfd(d), e->d_name, 0);
		free(idx);
	}
	if (d)
		closedir(d);
}

/* nftw's callback: remove the lock files of git's refs. */
static int remove_lock(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	size_t n = strlen(path);

	(void)st;
	(void)ftw;
	if (type == FTW_F && n > 5 && !strcmp(path + n - 5, ".lock"))
		unlink(path);
	return 0;
}

/*
 * Stores half made beside the one at path (by create) that no live run
 * is making: each is locked while it is made.
 */
static void sweep_half_made(const char *path)
{
	size_t len = strlen(path);
	char *dest, *slash, *quoted, *pattern;

	while (len > 1 && path[len - 1] == '/')
		len--;
	dest = mig_xstrndup(path, len);
	slash = strrchr(dest, '/');
	quoted = mig_glob_quote(slash ? slash + 1 : dest);
	pattern = mig_xasprintf("%s.tmp-??????", quoted);
	if (slash)
		slash[slash == dest] = '\0';
	mig_tmp_sweep(slash ? dest : ".", pattern);
	free(pattern);
	free(quoted);
	free(dest);
}

/*
 * Remove what killed runs left in and beside the store: temporary
 * objects and packs, a pack without its index, git's lock files (a ref's, packed-refs', HEAD's,
 * config's), which would make the next write of the journal or of a
 * snapshot's ref fail, and stores half made. Whoever writes the store
 * holds the run lock, which the caller now holds: every such file in
 * the store is a dead writer's.
 */
static void sweep(struct mig_store *s)
{
	static const char *const objtmp[] = { "tmp_", NULL };
	static const char *const packtmp[] = { "pack_git2_", "tmp_", NULL };
	char *objects = mig_path_join(s->path, "objects"), *refs = mig_path_join(s->path, "refs"), *sub;
	DIR *d;
	struct dirent *e;

	if ((d = opendir(s->path))) {
		while ((e = readdir(d))) {
			size_t n = strlen(e->d_name);

			if (n > 5 && !strcmp(e->d_name + n - 5, ".lock") && strcmp(e->d_name, "mig.lock"))
				unlinkat(dirfd(d), e->d_name, 0);
		}
		closedir(d);
	}
	nftw(refs, remove_lock, 16, FTW_PHYS);
	/* libgit2 writes a loose object in objects/ first, git and mig in its fan-out directory */
	remove_named(objects, objtmp);
	if ((d = opendir(objects))) {
		while ((e = readdir(d))) {
			int pack = !strcmp(e->d_name, "pack");

			if (!pack && (strlen(e->d_name) != 2 || !isxdigit((unsigned char)e->d_name[0]) ||
				      !isxdigit((unsigned char)e->d_name[1])))
				continue;
			sub = mig_path_join(objects, e->d_name);
			remove_named(sub, pack ? packtmp : objtmp);
			if (pack)
				remove_unindexed(sub);
			free(sub);
		}
		closedir(d);
	}
	sweep_half_made(s->path);
	free(refs);
	free(objects);
}

int mig_store_lock(struct mig_store *s, int timeout_ms, struct mig_err *err)
{
	char *path = mig_path_join(s->path, "mig.lock");
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	char holder[256] = "";
	int waited = 0, rc = 0;
	ssize_t n;

	if ((s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		rc = mig_err_errno(err, MIG_EENV, "cannot open lock '%s'", path);
		goto out;
	}
	while (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			rc = mig_err_errno(err, MIG_EENV, "cannot lock '%s'", path);
			goto out;
		}
		if (waited >= timeout_ms) {
			n = pread(s->lock_fd, holder, sizeof(holder) - 1, 0);
			holder[n > 0 ? n : 0] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
			rc = mig_err_set(err, MIG_EENV, "database is locked by another mig run (%s) after %d ms",
					 holder[0] ? holder : "unknown holder", timeout_ms);
			mig_err_hint(err, "wait for it, or raise --lock-timeout or mig.lockTimeout");
			goto out;
		}
		nanosleep(&nap, NULL);
		waited += 10;
	}
	gethostname(holder, sizeof(holder) - 1);
	holder[sizeof(holder) - 1] = '\0';
	if (ftruncate(s->lock_fd, 0) == 0)
		dprintf(s->lock_fd, "pid %ld on %s\n", (long)getpid(), holder);
	sweep(s);
out:
	if (rc < 0 && s->lock_fd >= 0) {
		close(s->lock_fd);
		s->lock_fd = -1;
	}
	free(path);
	return rc;
}

int mig_store_lock_holder(const char *path, char *holder, size_t n)
{
	char *lock = mig_path_join(path, "mig.lock");
	int fd = open(lock, O_RDONLY | O_CLOEXEC | O_NONBLOCK), held = 0;
	ssize_t r;

	free(lock);
	*holder = '\0';
	if (fd < 0)
		return 0;
	/* a shared lock for a moment: a run that wants it retries after 10 ms */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		held = 1;
		r = pread(fd, holder, n - 1, 0);
		holder[r > 0 ? r : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
	}
	close(fd);
	return held;
}
