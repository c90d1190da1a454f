/*
 * Pruning snapshots: the newest are kept, the refs of the others go,
 * then the objects only they used, loose or packed. Revision bodies,
 * the journal and what other refs reach are never touched.
 *
 * Packs mig wrote (whole objects only, no git deltas; a snapshot's new
 * chunks): one whose objects all go is removed; one in which half its
 * objects or more go is written anew with the rest; one in which fewer
 * go is left as it is, those objects with it, until a later prune
 * takes it past half. So pruning costs a copy of what stays of the
 * packs it shrinks, never a rewrite of every pack. Objects in a pack
 * git gc wrote (commits, trees, git deltas) make prune write every
 * pack anew, as before.
 *
 * What goes is what no ref reaches: kept is walked from the snapshots
 * that stay, the journal and every other ref. In a pack mig wrote
 * itself (chunks only: never libgit2's pack of revision bodies, written
 * before their journal entry), every object kept does not hold counts
 * as gone, so what an earlier prune left there is counted again. When a
 * ref cannot be walked, only what this prune drops counts. Each entry
 * copied is checked against its CRC-32 first: damage stops the prune
 * before any pack goes, and is never carried into a new pack.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-internal.h"

struct oidset {
	git_oid *v;
	size_t nr, alloc;
	int sorted;
};

static void oidset_add(struct oidset *s, const git_oid *o)
{
	MIG_GROW(s->v, s->nr + 1, s->alloc);
	s->v[s->nr++] = *o;
	s->sorted = 0;
}

static int oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

static int oidset_has(struct oidset *s, const git_oid *o)
{
	if (!s->sorted && s->nr) {
		qsort(s->v, s->nr, sizeof(*s->v), oid_cmp);
		s->sorted = 1;
	}
	return s->nr && bsearch(o, s->v, s->nr, sizeof(*s->v), oid_cmp) != NULL;
}

/* Add the commit, its tree and everything below to set. */
static int add_reachable_tree(git_repository *repo, const git_oid *tree_id, struct oidset *set)
{
	git_tree *tree = NULL;
	size_t i;
	int rc = 0;

	oidset_add(set, tree_id);
	if (git_tree_lookup(&tree, repo, tree_id) < 0)
		return -1;
	for (i = 0; i < git_tree_entrycount(tree) && rc == 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);

		if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = add_reachable_tree(repo, git_tree_entry_id(e), set);
		else
			oidset_add(set, git_tree_entry_id(e));
	}
	git_tree_free(tree);
	return rc;
}

static int add_reachable_commit(git_repository *repo, const git_oid *id, struct oidset *set)
{
	git_commit *c = NULL;
	int rc;

	oidset_add(set, id);
	if (git_commit_lookup(&c, repo, id) < 0)
		return -1;
	rc = add_reachable_tree(repo, git_commit_tree_id(c), set);
	git_commit_free(c);
	return rc;
}

/* Everything the journal reaches: revision bodies, schemas. */
static int add_journal(git_repository *repo, struct oidset *set)
{
	git_revwalk *w = NULL;
	git_oid oid;
	int rc = 0;

	if ((rc = git_reference_name_to_id(&oid, repo, JOURNAL_REF)) == GIT_ENOTFOUND)
		return 0;
	if (rc < 0 || git_revwalk_new(&w, repo) < 0)
		return -1;
	/* a journal that cannot be walked whole stops the prune: what it reaches is unknown */
	if ((rc = git_revwalk_push(w, &oid)) == 0)
		while (rc == 0 && (rc = git_revwalk_next(&oid, w)) == 0)
			rc = add_reachable_commit(repo, &oid, set);
	git_revwalk_free(w);
	return rc == GIT_ITEROVER ? 0 : rc;
}

/* Is ref name that of a snapshot mig lists: walked already, or going? */
static int listed(const struct mig_snapshot_list *l, const char *name)
{
	size_t i, n = strlen(SNAP_REFS);

	if (strncmp(name, SNAP_REFS, n))
		return 0;
	for (i = 0; i < l->nr; i++)
		if (!strcmp(name + n, l->v[i].id))
			return 1;
	return 0;
}

/* What oid reaches into set: a commit goes to w, to be walked. */
static int add_target(git_repository *repo, const git_oid *oid, git_revwalk *w, struct oidset *set)
{
	git_object *o = NULL;
	int rc;

	if (git_object_lookup(&o, repo, oid, GIT_OBJECT_ANY) < 0)
		return -1;
	switch (git_object_type(o)) {
	case GIT_OBJECT_TAG:
		oidset_add(set, oid);
		rc = add_target(repo, git_tag_target_id((const git_tag *)o), w, set);
		break;
	case GIT_OBJECT_COMMIT:
		rc = git_revwalk_push(w, oid);
		break;
	case GIT_OBJECT_TREE:
		rc = add_reachable_tree(repo, oid, set);
		break;
	default:
		oidset_add(set, oid);
		rc = 0;
	}
	git_object_free(o);
	return rc;
}

struct ref_walk {
	git_repository *repo;
	const struct mig_snapshot_list *l;
	git_revwalk *w;
	struct oidset *set;
};

/* git_reference_foreach_name's callback: a ref neither the journal nor a snapshot mig lists. */
static int add_ref(const char *name, void *data)
{
	struct ref_walk *r = data;
	git_oid oid;

	if (listed(r->l, name) || !strcmp(name, JOURNAL_REF))
		return 0;
	if (git_reference_name_to_id(&oid, r->repo, name) < 0 || add_target(r->repo, &oid, r->w, r->set) < 0)
		return -1;
	return 0;
}

/*
 * Everything the other refs reach (HEAD, the journal's branch, a stray
 * snapshot ref, anyone's branch or tag), less what the journal does,
 * walked already: 0, or -1 when one cannot be walked whole.
 */
static int add_other_refs(git_repository *repo, const struct mig_snapshot_list *l, struct oidset *set)
{
	struct ref_walk r = { repo, l, NULL, set };
	git_oid oid;
	int rc;

	if (git_revwalk_new(&r.w, repo) < 0)
		return -1;
	if ((rc = git_reference_name_to_id(&oid, repo, JOURNAL_REF)) == 0)
		rc = git_revwalk_hide(r.w, &oid);
	if (rc == 0 || rc == GIT_ENOTFOUND)
		rc = git_reference_foreach_name(repo, add_ref, &r);
	if (rc == 0 && (rc = git_reference_name_to_id(&oid, repo, "HEAD")) == 0)
		rc = add_target(repo, &oid, r.w, set);
	if (rc == 0 || rc == GIT_ENOTFOUND)
		while ((rc = git_revwalk_next(&oid, r.w)) == 0 && (rc = add_reachable_commit(repo, &oid, set)) == 0)
			;
	git_revwalk_free(r.w);
	if (rc != GIT_ITEROVER) {
		git_error_clear();
		return -1;
	}
	return 0;
}

/* ---- packed objects: after a git gc, what prune removes is in packs ---- */

struct repacker {
	struct oidset *drop;	/* what goes */
	const char *objdir;
	git_packbuilder *pb;
};

/* git_odb_foreach's callback: every packed object that stays goes into the new pack. */
static int repack_one(const git_oid *oid, void *data)
{
	struct repacker *r = data;

	if (oidset_has(r->drop, oid) || store_loose_exists(r->objdir, oid))
		return 0;
	return git_packbuilder_insert(r->pb, oid, NULL);
}

/* The packs in packdir, by name without ".pack"; *keep when git was told to keep one. */
static int list_packs(const char *packdir, char ***names, size_t *n, int *keep, struct mig_err *err)
{
	DIR *d = opendir(packdir);
	struct dirent *e;
	size_t alloc = 0;

	*names = NULL;
	*n = 0;
	*keep = 0;
	if (!d)
		return errno == ENOENT ? 0 : mig_err_errno(err, MIG_EENV, "cannot read '%s'", packdir);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len > 5 && !strcmp(e->d_name + len - 5, ".keep"))
			*keep = 1;
		if (len > 10 && !strncmp(e->d_name, "pack-", 5) && !strcmp(e->d_name + len - 5, ".pack")) {
			MIG_GROW(*names, *n + 1, alloc);
			(*names)[(*n)++] = mig_xstrndup(e->d_name, len - 5);
		}
	}
	closedir(d);
	return 0;
}

/*
 * Write the packed objects that stay into one new pack, sync it, then
 * remove the old packs, so what drop holds is gone from them too. A
 * pack is found by its .idx, which goes first: a cut-short removal
 * leaves a .pack nobody reads. The commit-graph, multi-pack-index and
 * info/packs a git gc may have written name what is gone: they are
 * caches git makes again, and go too. A pack git was told to keep (.keep) leaves
 * everything to git: *left gets how many objects stay packed.
 */
static int repack(struct mig_store *s, const char *objdir, struct oidset *drop, size_t *removed, uint64_t *freed,
		  size_t *left, struct mig_err *err)
{
	static const char *const exts[] = { ".idx", ".pack", ".rev", ".bitmap", ".promisor", ".mtimes" };
	struct repacker r = { drop, objdir, NULL };
	char *packdir = mig_path_join(objdir, "pack"), **old = NULL, *p;
	const char *name;
	git_odb *odb = NULL;
	uint64_t before = 0, after = 0;
	mode_t mask = umask(077);
	size_t nold = 0, i, j;
	int rc, keep;
	struct stat st;

	if ((rc = list_packs(packdir, &old, &nold, &keep, err)) < 0)
		goto out;
	if (keep) {
		*left = drop->nr;
		goto out;
	}
	if (git_repository_odb(&odb, s->repo) < 0 || git_packbuilder_new(&r.pb, s->repo) < 0)
		goto fail;
	git_packbuilder_set_threads(r.pb, (unsigned)store_nthreads());
	if (git_odb_foreach(odb, repack_one, &r) < 0 || git_packbuilder_write(r.pb, packdir, 0, NULL, NULL) < 0)
		goto fail;
	if ((rc = store_sync(s, err)) < 0)
		goto out;
	name = git_packbuilder_name(r.pb);
	for (i = 0; i < nold; i++) {
		if (name && !strcmp(old[i] + 5, name))
			continue;
		for (j = 0; j < sizeof(exts) / sizeof(exts[0]); j++) {
			p = mig_xasprintf("%s/%s%s", packdir, old[i], exts[j]);
			if (stat(p, &st) == 0 && unlink(p) == 0)
				before += (uint64_t)st.st_size;
			free(p);
		}
	}
	if (name) {
		for (j = 0; j < 2; j++) {
			p = mig_xasprintf("%s/pack-%s%s", packdir, name, exts[j]);
			if (stat(p, &st) == 0)
				after += (uint64_t)st.st_size;
			free(p);
		}
	}
	p = mig_path_join(packdir, "multi-pack-index");
	unlink(p);
	free(p);
	p = mig_path_join(objdir, "info/commit-graph");
	unlink(p);
	free(p);
	p = mig_path_join(objdir, "info/packs");
	unlink(p);
	free(p);
	p = mig_path_join(objdir, "info/commit-graphs");
	nftw(p, store_remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(p);
	git_odb_refresh(odb);
	*removed += drop->nr;
	*freed += before > after ? before - after : 0;
	goto out;
fail:
	rc = mig_err_git(err, MIG_EENV, "cannot repack the store");
out:
	umask(mask);
	for (i = 0; i < nold; i++)
		free(old[i]);
	free(old);
	free(packdir);
	git_packbuilder_free(r.pb);
	git_odb_free(odb);
	return rc;
}

/* Is there a pack git was told to keep? Then every pack is git's to prune. */
static int keeps(const char *objdir, int *keep, struct mig_err *err)
{
	char *packdir = mig_path_join(objdir, "pack"), **names = NULL;
	size_t n = 0, i;
	int rc = list_packs(packdir, &names, &n, keep, err);

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(packdir);
	return rc;
}

/* Remove pack name from packdir, its index first: what it held goes to *freed. */
static void remove_pack(const char *packdir, const char *name, uint64_t *freed)
{
	static const char *const exts[] = { ".idx", ".pack", ".rev", ".bitmap", ".promisor", ".mtimes" };
	struct stat st;
	size_t j;

	for (j = 0; j < sizeof(exts) / sizeof(exts[0]); j++) {
		char *p = mig_xasprintf("%s/%s%s", packdir, name, exts[j]);

		if (stat(p, &st) == 0 && unlink(p) == 0)
			*freed += (uint64_t)st.st_size;
		free(p);
	}
}

/*
 * Copy the entries of pack k that stay into *w, started when first
 * needed: those in kept when it is given, else those not in drop.
 */
static int copy_live(const struct packs *ps, size_t k, struct oidset *drop, struct oidset *kept, const char *objdir,
		     struct packw **w, struct mig_err *err)
{
	struct mig_buf in = MIG_BUF_INIT;
	uint32_t at, n = packs_objects(ps, k);
	git_oid oid;
	int rc = 0;

	if (!*w && (rc = packw_start(w, objdir, err)) < 0)
		return rc;
	for (at = 0; at < n && rc == 0; at++) {
		packs_oid(ps, k, at, &oid);
		if (kept ? oidset_has(kept, &oid) : !oidset_has(drop, &oid))
			rc = packs_copy(ps, k, at, *w, &in, err);
	}
	mig_buf_release(&in);
	return rc;
}

/*
 * How many objects of pack k are dead: with kept (everything every ref
 * reaches), in a pack mig wrote, each that is not in kept, so what an
 * earlier prune left in it counts too; else goes, those that go now.
 * *own is set when kept is what tells.
 */
static size_t dead_in(const struct packs *ps, size_t k, size_t goes, struct oidset *kept, int *own)
{
	uint32_t at, n = packs_objects(ps, k);
	size_t dead = 0;
	git_oid oid;

	*own = 0;
	for (at = 0; kept && at < n; at++) {
		packs_oid(ps, k, at, &oid);
		dead += !oidset_has(kept, &oid);
	}
	/* the entries' headers are read only when it counts */
	if (dead <= goes || !packs_own(ps, k))
		return goes;
	*own = 1;
	return dead;
}

/*
 * Packed objects that go (drop), pack by pack, as mig writes packs: see
 * the top of this file. kept, when given, is everything every ref
 * reaches: then an object of a pack mig wrote is dead when kept does not
 * hold it, however long ago it went. *left gets how many of drop stay in
 * packs left as they are; *whole is set, and nothing done, when a pack
 * that holds some is not one mig reads whole: repack's to do.
 */
static int prune_packs(struct mig_store *s, const char *objdir, struct oidset *drop, struct oidset *kept,
		       size_t *removed, uint64_t *freed, size_t *left, int *whole, struct mig_err *err)
{
	char *packdir = mig_path_join(objdir, "pack");
	struct packs *ps = packs_open(objdir);
	size_t np = packs_count(ps), *goes = mig_xcalloc(np + 1, sizeof(*goes)), i, k, dead;
	unsigned char *out = mig_xcalloc(np + 1, 1);	/* out[k]: pack k is removed */
	int own;
	struct packw *w = NULL;
	uint64_t before = 0, after = 0;
	mode_t mask = umask(077);
	int rc = 0;

	*whole = 0;
	for (i = 0; i < drop->nr && !*whole; i++) {
		uint32_t at;

		if (packs_which(ps, &drop->v[i], &k, &at) < 0)
			*whole = 1;
		else
			goes[k]++;
	}
	for (k = 0; k < np && !*whole; k++)
		if (goes[k] && !packs_plain(ps, k))
			*whole = 1;
	for (k = 0; k < np && !*whole && rc == 0; k++) {
		if (!(dead = dead_in(ps, k, goes[k], kept, &own)))
			continue;
		if (dead * 2 < packs_objects(ps, k)) {
			*left += goes[k];
			continue;
		}
		out[k] = 1;
		goes[k] = dead;
		if (dead < packs_objects(ps, k))
			rc = copy_live(ps, k, drop, own ? kept : NULL, objdir, &w, err);
	}
	if (*whole || rc < 0)
		goto out;
	/* what stays is in its new pack, for good, before the old ones go */
	if (w && ((rc = packw_finish(w, err)) < 0 || (rc = store_sync(s, err)) < 0))
		goto out;
	for (k = 0; k < np; k++) {
		if (!out[k])
			continue;
		remove_pack(packdir, packs_name(ps, k), &before);
		*removed += goes[k];
	}
	after = w ? packw_bytes(w) : 0;
	*freed += before > after ? before - after : 0;
out:
	umask(mask);
	packw_free(w);
	packs_close(ps);
	free(goes);
	free(out);
	free(packdir);
	return rc;
}

int mig_snapshot_is_automatic(const struct mig_snapshot_info *i, void *data)
{
	static const char *const ops[] = { "up", "down", "redo", "restore" };
	size_t k;

	(void)data;
	if (!i->subject || strncmp(i->subject, "before ", 7))
		return 0;
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (!strcmp(i->subject + 7, ops[k]))
			return 1;
	return 0;
}

int mig_snapshot_prune(struct mig_store *s, size_t keep, mig_snapshot_pick *pick, void *data, size_t *pruned,
		       size_t *removed, uint64_t *freed, size_t *left, struct mig_err *err)
{
	git_repository *repo = s->repo;
	struct oidset gone = { 0 }, kept = { 0 }, packed = { 0 };
	struct mig_snapshot_list l = { NULL, 0 };
	char *objdir = mig_path_join(s->path, "objects");
	git_odb *odb = NULL;
	char *goes = NULL;	/* goes[i]: snapshot i is pruned */
	size_t i, picked = 0;
	int rc, walked;

	*pruned = *removed = *left = 0;
	*freed = 0;
	if ((rc = mig_snapshot_list(s, &l, err)) < 0)
		goto out;
	if (git_repository_odb(&odb, repo) < 0) {
		rc = mig_err_git(err, MIG_EENV, "cannot open the store's objects");
		goto out;
	}
	/* the newest keep of those picked stay, and all the others */
	goes = mig_xcalloc(l.nr + 1, 1);
	for (i = 0; i < l.nr; i++)
		if ((!pick || pick(&l.v[i], data)) && picked++ >= keep)
			goes[i] = 1;
	for (i = 0; i < l.nr; i++) {
		git_oid oid;

		git_oid_fromstr(&oid, l.v[i].id);
		if (add_reachable_commit(repo, &oid, goes[i] ? &gone : &kept) < 0) {
			rc = mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: cannot walk it: %s", l.v[i].id,
					 store_git_why());
			goto out;
		}
	}
	if (add_journal(repo, &kept) < 0) {
		rc = mig_err_git(err, MIG_EENV, "cannot walk the journal");
		goto out;
	}
	/* only with everything every ref reaches is what is not in kept dead */
	walked = add_other_refs(repo, &l, &kept) == 0;
	/* the refs first: a prune cut short leaves unlisted objects, never a broken snapshot */
	for (i = 0; i < l.nr; i++) {
		char *ref;
		int r;

		if (!goes[i])
			continue;
		ref = mig_xasprintf(SNAP_REFS "%s", l.v[i].id);
		r = git_reference_remove(repo, ref);

		free(ref);
		if (r < 0) {
			rc = mig_err_git(err, MIG_EENV, "cannot remove a snapshot");
			goto out;
		}
		(*pruned)++;
	}
	/* ...and are gone for good before the objects they named go (libgit2 syncs no ref it deletes) */
	if (*pruned && (rc = store_sync(s, err)) < 0)
		goto out;
	if (gone.nr)
		qsort(gone.v, gone.nr, sizeof(*gone.v), oid_cmp);
	for (i = 0; i < gone.nr; i++) {
		char *p;
		struct stat st;

		if ((i && !git_oid_cmp(&gone.v[i], &gone.v[i - 1])) || oidset_has(&kept, &gone.v[i]))
			continue;
		p = store_loose_path(objdir, &gone.v[i]);
		if (stat(p, &st) == 0 && unlink(p) == 0) {
			(*removed)++;
			*freed += (uint64_t)st.st_size;
		} else if (errno == ENOENT && git_odb_exists(odb, &gone.v[i])) {
			oidset_add(&packed, &gone.v[i]);
		}
		free(p);
	}
	if (packed.nr || (walked && *pruned)) {
		int whole = 0, keep = 0;

		rc = keeps(objdir, &keep, err);
		if (rc == 0 && keep)
			*left = packed.nr;
		else if (rc == 0)
			rc = prune_packs(s, objdir, &packed, walked ? &kept : NULL, removed, freed, left, &whole, err);
		/* libgit2 reads the packs as they are now, in this process too */
		git_odb_refresh(odb);
		if (rc == 0 && whole)
			rc = repack(s, objdir, &packed, removed, freed, left, err);
	}
out:
	git_odb_free(odb);
	free(goes);
	free(packed.v);
	free(gone.v);
	free(kept.v);
	free(objdir);
	mig_snapshot_list_release(&l);
	return rc;
}
