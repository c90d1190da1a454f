/*
 * Listing snapshots: each is a commit on its own ref refs/mig/snapshots/ID
 * whose message says what it is (when taken, of which database, its
 * size, the revisions applied); newest first.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

static const char *fact(const char *msg, const char *key, size_t *len)
{
	size_t kl = strlen(key);
	const char *p = msg;

	while ((p = strstr(p, key))) {
		if ((p == msg || p[-1] == '\n') && p[kl] == ' ') {
			*len = strcspn(p + kl + 1, "\n");
			return p + kl + 1;
		}
		p += kl;
	}
	return NULL;
}

static unsigned long long fact_num(const char *msg, const char *key)
{
	size_t len;
	const char *v = fact(msg, key, &len);

	return v ? strtoull(v, NULL, 10) : 0;
}

/*
 * What a snapshot's commit message says; when it was taken, unless it
 * says, is the commit's time. The facts follow the message the user gave
 * and a blank line: a message that starts like one ("size matters") is
 * no fact.
 */
void info_parse(struct mig_snapshot_info *in, const char *msg, long long commit_time)
{
	const char *v, *facts = strstr(msg, "\n\n");
	size_t len;

	facts = facts ? facts + 2 : msg + strlen(msg);
	in->time = commit_time;
	if ((v = fact(facts, "taken", &len))) {
		char *dot;

		in->time = strtoll(v, &dot, 10);
		in->nsec = *dot == '.' ? strtol(dot + 1, NULL, 10) : 0;
	}
	in->subject = mig_xstrndup(msg, strcspn(msg, "\n"));
	in->database = (v = fact(facts, "database", &len)) ? mig_xstrndup(v, len) : mig_xstrdup("?");
	in->size = fact_num(facts, "size");
	in->stored = fact_num(facts, "stored");
	in->page_size = (uint32_t)fact_num(facts, "page-size");
	in->revisions = (size_t)fact_num(facts, "revisions");
}

static int collect_ref(const char *name, void *data)
{
	struct mig_snapshot_list *l = data;
	size_t n = strlen(SNAP_REFS);

	if (strlen(name) == n + GIT_OID_HEXSZ) {
		l->v = mig_xrealloc(l->v, (l->nr + 1) * sizeof(*l->v));
		memset(&l->v[l->nr], 0, sizeof(l->v[0]));
		memcpy(l->v[l->nr++].id, name + n, GIT_OID_HEXSZ + 1);
	}
	return 0;
}

/*
 * libgit2's ref iterator leaves out a loose ref it cannot read (an I/O
 * error), as it would one deleted under it: a snapshot would be missing
 * from the list, and a prune would take its objects for unused. The
 * directory says which are there; a snapshot's id is its ref's name.
 */
static int collect_loose_refs(struct mig_store *s, struct mig_snapshot_list *l, struct mig_err *err)
{
	char *dir = mig_path_join(s->path, SNAP_REFS), *name;
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t i, n = l->nr;
	int rc = 0;

	if (!d) {
		rc = errno == ENOENT ? 0 : mig_err_errno(err, MIG_EENV, "cannot list snapshots in '%s'", dir);
		free(dir);
		return rc;
	}
	for (errno = 0; (de = readdir(d)); errno = 0) {
		if (strlen(de->d_name) != GIT_OID_HEXSZ || strspn(de->d_name, "0123456789abcdef") != GIT_OID_HEXSZ)
			continue;
		for (i = 0; i < n && strcmp(l->v[i].id, de->d_name); i++)
			;
		if (i < n)
			continue;
		name = mig_xasprintf(SNAP_REFS "%s", de->d_name);
		collect_ref(name, l);
		free(name);
	}
	if (errno)
		rc = mig_err_errno(err, MIG_EENV, "cannot list snapshots in '%s'", dir);
	closedir(d);
	free(dir);
	return rc;
}

static int newest_first(const void *a, const void *b)
{
	const struct mig_snapshot_info *x = a, *y = b;

	if (x->time != y->time)
		return x->time > y->time ? -1 : 1;
	if (x->nsec != y->nsec)
		return x->nsec > y->nsec ? -1 : 1;
	return strcmp(x->id, y->id);
}

int mig_snapshot_list(struct mig_store *s, struct mig_snapshot_list *l, struct mig_err *err)
{
	git_repository *repo = s->repo;
	size_t i;
	int rc = 0;

	l->v = NULL;
	l->nr = 0;
	if (git_reference_foreach_glob(repo, SNAP_REFS "*", collect_ref, l) < 0) {
		mig_snapshot_list_release(l);
		return mig_err_git(err, MIG_EENV, "cannot list snapshots");
	}
	if ((rc = collect_loose_refs(s, l, err)) < 0) {
		mig_snapshot_list_release(l);
		return rc;
	}
	for (i = 0; i < l->nr; i++) {
		struct mig_snapshot_info *in = &l->v[i];
		git_commit *c = NULL;
		git_oid oid;

		if (git_oid_fromstr(&oid, in->id) < 0 || git_commit_lookup(&c, repo, &oid) < 0) {
			rc = mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: its commit cannot be read", in->id);
			break;
		}
		info_parse(in, git_commit_message(c), git_commit_time(c));
		git_commit_free(c);
	}
	if (rc == 0 && l->nr)
		qsort(l->v, l->nr, sizeof(*l->v), newest_first);
	else
		mig_snapshot_list_release(l);
	return rc;
}

void mig_snapshot_list_release(struct mig_snapshot_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		free(l->v[i].subject);
		free(l->v[i].database);
	}
	free(l->v);
	l->v = NULL;
	l->nr = 0;
}

static void human_size(char *out, size_t n, uint64_t b)
{
	if (b < 1024)
		snprintf(out, n, "%llu B", (unsigned long long)b);
	else if (b < 1024 * 1024)
		snprintf(out, n, "%.1f KiB", b / 1024.0);
	else if (b < 1024ull * 1024 * 1024)
		snprintf(out, n, "%.1f MiB", b / 1048576.0);
	else
		snprintf(out, n, "%.2f GiB", b / 1073741824.0);
}

void mig_snapshot_show(struct mig_buf *o, const struct mig_snapshot_list *l, enum mig_format fmt)
{
	size_t i;

	if (fmt == MIG_FMT_JSON)
		mig_buf_adds(o, "{\"snapshots\":[");
	for (i = 0; i < l->nr; i++) {
		const struct mig_snapshot_info *in = &l->v[i];
		char when[32], size[32], stored[32];

		/* the subject is what -m said: escaped for a terminal, and so that no tab or newline splits a record */
		if (fmt == MIG_FMT_HUMAN) {
			mig_time_format(when, sizeof(when), "%Y-%m-%d %H:%M:%S", in->time, 0);
			human_size(size, sizeof(size), in->size);
			human_size(stored, sizeof(stored), in->stored);
			mig_buf_addf(o, "%.12s  %s  %4zu revision%s  %10s  %10s new  ", in->id, when,
				     in->revisions, in->revisions == 1 ? " " : "s", size, stored);
			mig_buf_add_tty(o, in->subject, strlen(in->subject));
			mig_buf_addc(o, '\n');
			continue;
		}
		mig_time_format(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", in->time, 1);
		if (fmt == MIG_FMT_PORCELAIN) {
			mig_buf_addf(o, "snapshot\t%s\t%s\t%zu\t%llu\t%llu\t", in->id, when, in->revisions,
				     (unsigned long long)in->size, (unsigned long long)in->stored);
			mig_buf_add_esc(o, in->subject, strlen(in->subject));
			mig_buf_addc(o, '\n');
			continue;
		}
		mig_buf_addf(o, "%s{\"id\":\"%s\",\"time\":\"%s\",\"revisions\":%zu,\"size\":%llu,\"stored\":%llu,"
			     "\"page_size\":%u,\"database\":", i ? "," : "", in->id, when, in->revisions,
			     (unsigned long long)in->size, (unsigned long long)in->stored, in->page_size);
		mig_buf_add_json(o, in->database);
		mig_buf_adds(o, ",\"message\":");
		mig_buf_add_json(o, in->subject);
		mig_buf_addc(o, '}');
	}
	if (fmt == MIG_FMT_JSON)
		mig_buf_adds(o, "]}\n");
}

int mig_snapshot_resolve(struct mig_store *s, const char *spec, char id[41], struct mig_err *err)
{
	struct mig_snapshot_list l;
	struct mig_buf cand = MIG_BUF_INIT;
	size_t i, hits = 0, n = spec ? strlen(spec) : 0;
	int rc;

	if (spec && (n < 4 || n > GIT_OID_HEXSZ || strspn(spec, "0123456789abcdef") != n))
		return mig_err_set(err, MIG_EUSAGE, "'%s' is no snapshot id: give 4 to 40 hex digits", spec);
	if ((rc = mig_snapshot_list(s, &l, err)) < 0)
		return rc;
	/* nothing to restore is the store's state, not a bad request */
	if (!l.nr) {
		rc = mig_err_set(err, MIG_EENV, "no snapshot in store '%s'", s->path);
		mig_err_hint(err, "take one with 'mig backup'");
	}
	for (i = 0; i < l.nr && rc == 0; i++) {
		if (spec && strncmp(l.v[i].id, spec, n))
			continue;
		if (!hits++)
			memcpy(id, l.v[i].id, 41);
		mig_buf_addf(&cand, "%s%.12s", hits > 1 ? ", " : "", l.v[i].id);
		if (!spec)
			break;
	}
	if (rc == 0 && !hits)
		rc = mig_err_set(err, MIG_EUSAGE, "no snapshot '%s'", spec);
	else if (rc == 0 && hits > 1)
		rc = mig_err_set(err, MIG_EUSAGE, "snapshot '%s' is ambiguous: %s", spec, cand.buf);
	if (rc == MIG_EUSAGE && !hits && l.nr)
		mig_err_hint(err, "'mig backup --list' shows them");
	mig_buf_release(&cand);
	mig_snapshot_list_release(&l);
	return rc;
}

