#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache.h"
#include "graph.h"
#include "layout.h"
#include "util.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_rev(const void *a, const void *b)
{
	return strcmp((*(struct mig_rev *const *)a)->name, (*(struct mig_rev *const *)b)->name);
}

long mig_graph_find(const struct mig_graph *g, const char *name)
{
	size_t lo = 0, hi = g->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(g->revs[mid]->name, name);

		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* A binary min-heap of indexes: the smallest index is the smallest name. */
struct heap {
	size_t *v, n;
};

static void heap_push(struct heap *h, size_t x)
{
	size_t i = h->n++;

	while (i && h->v[(i - 1) / 2] > x) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = x;
}

static size_t heap_pop(struct heap *h)
{
	size_t top = h->v[0], x = h->v[--h->n], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1] < h->v[c])
			c++;
		if (x <= h->v[c])
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = x;
	return top;
}

/* Name one cycle among the revisions left over by the topological sort. */
static int report_cycle(struct mig_graph *g, const unsigned char *done, struct mig_err *err)
{
	unsigned char *seen = mig_xcalloc(g->nr, 1);
	struct mig_buf b = MIG_BUF_INIT;
	size_t start = 0, cur, i;

	while (done[start])
		start++;
	/* walk parents that are not done until one repeats: it is on a cycle */
	cur = start;
	while (!seen[cur]) {
		struct mig_rev *r = g->revs[cur];

		seen[cur] = 1;
		for (i = 0; i < r->npidx; i++)
			if (!done[r->pidx[i]])
				break;
		cur = r->pidx[i];
	}
	start = cur;
	do {
		struct mig_rev *r = g->revs[cur];

		mig_buf_addf(&b, "%s (%s) -> ", r->name, r->path);
		for (i = 0; i < r->npidx; i++)
			if (!done[r->pidx[i]])
				break;
		cur = r->pidx[i];
	} while (cur != start);
	mig_buf_adds(&b, g->revs[start]->name);
	mig_err_set(err, MIG_EINVALID, "cycle in the revision graph: %s names its parents in a loop: %s",
		    g->revs[start]->path, b.buf);
	mig_buf_release(&b);
	free(seen);
	return MIG_EINVALID;
}

/*
 * The revision name a slip of the pen away from name (one in three
 * letters, as for options), or NULL. Quadratic in nothing: it runs once,
 * on the way to an error.
 */
static const char *nearest_name(const struct mig_graph *g, const char *name)
{
	const char *best = NULL;
	size_t i, d, bestd = (size_t)-1;

	for (i = 0; i < g->nr; i++)
		if ((d = mig_edit_distance(name, g->revs[i]->name)) < bestd) {
			bestd = d;
			best = g->revs[i]->name;
		}
	return best && bestd * 3 <= strlen(name) ? best : NULL;
}

static int build(struct mig_graph *g, struct mig_err *err)
{
	struct heap h = { NULL, 0 };
	size_t *pending = NULL, i, j, k, n = 0;
	size_t **children = NULL, *nchild = NULL;
	unsigned char *done = NULL;
	int rc = 0;

	/* the files come in name order: sort only when they did not */
	for (i = 1; i < g->nr && strcmp(g->revs[i - 1]->name, g->revs[i]->name) < 0; i++)
		;
	if (i < g->nr)
		qsort(g->revs, g->nr, sizeof(*g->revs), cmp_rev);
	for (i = 1; i < g->nr; i++)
		if (!strcmp(g->revs[i]->name, g->revs[i - 1]->name))
			return mig_err_set(err, MIG_EINVALID, "duplicate revision name '%s': %s and %s",
					   g->revs[i]->name, g->revs[i - 1]->path, g->revs[i]->path);

	for (i = 0; i < g->nr; i++) {
		struct mig_rev *r = g->revs[i];

		if (r->parents_line) {
			r->pidx = mig_xcalloc(r->nparents, sizeof(size_t));
			for (j = 0; j < r->nparents; j++) {
				long p = mig_graph_find(g, r->parents[j]);

				if (p < 0) {
					const char *near = nearest_name(g, r->parents[j]);

					mig_err_set(err, MIG_EINVALID, "%s:%d: unknown parent '%s'",
						    r->path, r->parents_line, r->parents[j]);
					if (near)
						mig_err_hint(err, "did you mean '%s'?", near);
					return MIG_EINVALID;
				}
				if ((size_t)p == i)
					return mig_err_set(err, MIG_EINVALID,
							   "%s:%d: '%s' names itself as a parent",
							   r->path, r->parents_line, r->name);
				r->pidx[r->npidx++] = p;
			}
		} else if (i > 0) {
			r->pidx = mig_xmalloc(sizeof(size_t));
			r->pidx[r->npidx++] = i - 1;
		}
		for (j = 0; j < r->npidx; j++)
			g->revs[r->pidx[j]]->nchildren++;
	}

	/* children lists in one allocation, for Kahn's algorithm */
	nchild = mig_xcalloc(g->nr + 1, sizeof(size_t));
	children = mig_xcalloc(g->nr + 1, sizeof(size_t *));
	for (i = 0, k = 0; i < g->nr; i++)
		k += g->revs[i]->nchildren;
	pending = mig_xcalloc(k + 1, sizeof(size_t));
	for (i = 0, k = 0; i < g->nr; i++) {
		children[i] = pending + k;
		k += g->revs[i]->nchildren;
	}
	for (i = 0; i < g->nr; i++)
		for (j = 0; j < g->revs[i]->npidx; j++) {
			size_t p = g->revs[i]->pidx[j];

			children[p][nchild[p]++] = i;
		}

	g->heads = mig_xcalloc(g->nr + 1, sizeof(size_t));
	for (i = 0; i < g->nr; i++)
		if (!g->revs[i]->nchildren)
			g->heads[g->nheads++] = i;

	g->topo = mig_xcalloc(g->nr + 1, sizeof(size_t));
	h.v = mig_xcalloc(g->nr + 1, sizeof(size_t));
	free(nchild);
	nchild = mig_xcalloc(g->nr + 1, sizeof(size_t));	/* parents not yet placed */
	for (i = 0; i < g->nr; i++)
		if (!(nchild[i] = g->revs[i]->npidx))
			heap_push(&h, i);
	done = mig_xcalloc(g->nr + 1, 1);
	while (h.n) {
		size_t x = heap_pop(&h);

		g->topo[n++] = x;
		done[x] = 1;
		for (j = 0; j < g->revs[x]->nchildren; j++) {
			size_t c = children[x][j];

			if (!--nchild[c])
				heap_push(&h, c);
		}
	}
	if (n < g->nr)
		rc = report_cycle(g, done, err);

	free(done);
	free(h.v);
	free(pending);
	free(children);
	free(nchild);
	return rc;
}

static int is_revision_file(const char *dir, const char *name)
{
	size_t n = strlen(name);

	(void)dir;
	return name[0] != '.' && n > 4 && !strcmp(name + n - 4, ".sql");
}

/* Read one revision file, or take it from the cache when it has not changed. */
static int load_one(struct mig_rev **rev, int dirfd, const char *dir, const char *file,
		    struct mig_revcache *cache, struct mig_err *err)
{
	char *path = mig_path_join(dir, file);
	char *name = mig_xstrndup(file, strlen(file) - 4);
	struct stat st;
	int rc, known = cache && fstatat(dirfd, file, &st, 0) == 0;

	if (known && (*rev = mig_revcache_get(cache, file, &st, name, path)))
		return 0;
	rc = mig_rev_loadat(rev, dirfd, file, name, path, err);
	if (rc == 0 && known)
		mig_revcache_put(cache, file, &st, *rev);
	free(name);
	free(path);
	return rc;
}

int mig_graph_load_cached(struct mig_graph **out, const char *dir, const char *cache_path,
			  struct mig_err *err)
{
	struct mig_graph *g = mig_xcalloc(1, sizeof(*g));
	struct mig_layout_scan sc = { 0 };
	struct mig_revcache *cache = NULL;
	size_t alloc = 0, nfiles = 0, falloc = 0, i;
	char **files = NULL;
	struct dirent *de;
	DIR *d = NULL;
	int rc = 0;

	g->dir = mig_xstrdup(dir);
	if (!(d = opendir(dir))) {
		rc = mig_err_errno(err, mig_errno_code(errno, MIG_EINVALID), "cannot open migrations directory '%s'",
				   dir);
		if (errno == ENOENT)
			mig_err_hint(err, "create it, or write the first revision with 'mig new NAME'");
		goto out;
	}
	if (cache_path) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		cache = mig_revcache_open(cache_path, dirfd(d), &now);
	}
	/* a directory that cannot be read to its end must not pass for a shorter one */
	for (errno = 0; (de = readdir(d)); errno = 0) {
		if (de->d_name[0] == '.' ||
		    mig_layout_offer(&sc, dirfd(d), de->d_name, de->d_type != DT_REG) ||
		    !is_revision_file(dir, de->d_name))
			continue;
		MIG_GROW(files, nfiles + 1, falloc);
		files[nfiles++] = mig_xstrdup(de->d_name);
	}
	if (errno) {
		rc = mig_err_errno(err, MIG_EENV, "cannot read migrations directory '%s'", dir);
		goto out;
	}
	/* in name order, as the cache and the graph keep them */
	if (nfiles)
		qsort(files, nfiles, sizeof(*files), cmp_str);
	g->revs = mig_xmalloc((nfiles + 1) * sizeof(*g->revs));
	alloc = nfiles + 1;
	for (i = 0; i < nfiles; i++) {
		if ((rc = load_one(&g->revs[g->nr], dirfd(d), dir, files[i], cache, err)) < 0)
			goto out;
		g->nr++;
	}
	if ((rc = mig_layout_load(&sc, dirfd(d), dir, &g->revs, &g->nr, &alloc, err)) < 0)
		goto out;
	if ((rc = mig_layout_chain(&g->style, g->revs, g->nr, err)) < 0)
		goto out;
	rc = build(g, err);
out:
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	mig_revcache_close(cache, rc == 0);
	mig_layout_scan_release(&sc);
	if (d)
		closedir(d);
	if (rc < 0) {
		mig_graph_free(g);
		g = NULL;
	}
	*out = g;
	return rc;
}


int mig_graph_load_mem(struct mig_graph **out, const struct mig_memfile *files,
		       size_t n, struct mig_err *err)
{
	struct mig_graph *g = mig_xcalloc(1, sizeof(*g));
	size_t i;
	int rc = 0;

	g->dir = mig_xstrdup("(built in)");
	g->revs = mig_xcalloc(n + 1, sizeof(*g->revs));
	for (i = 0; i < n; i++) {
		char *path = mig_xasprintf("(built in)/%s.sql", files[i].name);

		rc = mig_rev_parse(&g->revs[g->nr], files[i].name, path,
				   files[i].data, strlen(files[i].data), err);
		free(path);
		if (rc < 0)
			goto out;
		g->nr++;
	}
	rc = build(g, err);
out:
	if (rc < 0) {
		mig_graph_free(g);
		g = NULL;
	}
	*out = g;
	return rc;
}

void mig_graph_ancestors(const struct mig_graph *g, size_t idx, unsigned char *mark)
{
	size_t *stack, n = 0, i;

	if (mark[idx])
		return;
	stack = mig_xmalloc((g->nr + 1) * sizeof(size_t));
	mark[idx] = 1;
	stack[n++] = idx;
	while (n) {
		struct mig_rev *r = g->revs[stack[--n]];

		for (i = 0; i < r->npidx; i++)
			if (!mark[r->pidx[i]]) {
				mark[r->pidx[i]] = 1;
				stack[n++] = r->pidx[i];
			}
	}
	free(stack);
}

void mig_graph_free(struct mig_graph *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->nr; i++)
		mig_rev_free(g->revs[i]);
	free(g->revs);
	free(g->topo);
	free(g->heads);
	free(g->dir);
	free(g);
}
