/*
 * Revision files, in every layout mig reads. The first byte picks how
 * the rest is read:
 *
 *   0  one file, as mig_rev_parse sees it (mig's directives, dbmate's
 *      and goose's markers);
 *   1  files split at NUL bytes, named 0001_a, 0002_b, ..., as a graph
 *      from memory;
 *   2  a migrations directory: records split at NUL bytes, each a file
 *      name (one '/' allowed, for diesel's NAME/up.sql), a newline and
 *      the file's bytes, written out and loaded as a graph, so
 *      golang-migrate pairs, diesel directories and metadata.toml, and
 *      mixed or broken layouts go through layout.c.
 *
 * A graph that loads must be one: names in order, every parent before
 * its children in topo[], heads without children.
 */
#include <errno.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "graph.h"
#include "revfile.h"
#include "state.h"

#define MAX_FILES 16

static char *dir;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	mig_prog = "fuzz-revfile";
	fuzz_git_need();
	dir = mig_path_join(fuzz_scratch_dir(), "migrations");
	return 0;
}

static void check_section(const struct mig_rev *r, const struct mig_section *s)
{
	if (!s->present)
		return;
	if (s->sql < r->data || s->sql + s->len > r->data + r->len || s->line < 1)
		abort();
}

static void check_rev(const struct mig_rev *r)
{
	size_t i;

	if (!r->name || !r->path || strlen(r->id) != 40)
		abort();
	if (r->data) {
		if (!r->up.present || r->data[r->len])
			abort();
		check_section(r, &r->up);
		check_section(r, &r->down);
	}
	/* from '-- mig:parents' (another tool's chain is made of names, which may hold blanks) */
	for (i = 0; i < r->nparents && r->style == MIG_STYLE_MIG; i++)
		if (!r->parents[i][0] || strpbrk(r->parents[i], " \t"))
			abort();
}

static void check_graph(const struct mig_graph *g)
{
	unsigned char *placed = mig_xcalloc(g->nr + 1, 1);
	size_t i, j;

	for (i = 0; i < g->nr; i++) {
		check_rev(g->revs[i]);
		if (i && strcmp(g->revs[i - 1]->name, g->revs[i]->name) >= 0)
			abort();
		if (mig_graph_find(g, g->revs[i]->name) != (long)i)
			abort();
	}
	for (i = 0; i < g->nr; i++) {
		const struct mig_rev *r = g->revs[g->topo[i]];

		if (g->topo[i] >= g->nr || placed[g->topo[i]])
			abort();
		for (j = 0; j < r->npidx; j++)
			if (!placed[r->pidx[j]])
				abort();
		placed[g->topo[i]] = 1;
	}
	for (i = 0; i < g->nheads; i++)
		if (g->revs[g->heads[i]]->nchildren)
			abort();
	free(placed);
}

/* What status does with a graph and nothing applied. */
static void use_graph(struct mig_graph *g)
{
	struct mig_applied_list none = { NULL, 0 };
	struct mig_problems p;
	struct mig_state st;
	size_t *cur;

	check_graph(g);
	mig_state_init(&st, g, &none, 0);
	mig_state_problems(&st, &p);
	mig_problems_release(&p);
	mig_state_current(&st, &cur);
	free(cur);
	mig_state_release(&st);
}

static void one_file(const char *data, size_t len)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_rev *r = NULL;

	if (mig_rev_parse(&r, "0001_x", "migrations/0001_x.sql", data, len, &err) == 0)
		check_rev(r);
	else if (r || err.code != MIG_EINVALID || !err.msg[0])
		abort();
	mig_rev_free(r);
}

static void from_memory(const char *data, size_t len)
{
	static const char *const names[MAX_FILES] = {
		"0001_a", "0002_b", "0003_c", "0004_d", "0005_e", "0006_f", "0007_g", "0008_h",
		"0009_i", "0010_j", "0011_k", "0012_l", "0013_m", "0014_n", "0015_o", "0016_p",
	};
	struct mig_memfile files[MAX_FILES];
	struct mig_err err = MIG_ERR_INIT;
	struct mig_graph *g = NULL;
	char *copy = mig_xstrndup(data, len), *p = copy, *end = copy + len;
	size_t n = 0;

	/* the files are in reverse name order, so the graph has to sort them */
	while (n < MAX_FILES) {
		files[n].name = names[MAX_FILES - 1 - n];
		files[n++].data = p;
		p += strlen(p);
		if (p == end)
			break;
		p++;
	}
	if (mig_graph_load_mem(&g, files, n, &err) == 0)
		use_graph(g);
	else if (g || err.code != MIG_EINVALID || !err.msg[0])
		abort();
	free(copy);
}

/* A file name from the input, or NULL when it cannot be one. */
static char *file_name(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);

	if (!n || n > 100 || *s == '/' || memmem(s, n, "..", 2) || (slash && memchr(slash + 1, '/', n - (slash + 1 - s))))
		return NULL;
	if (slash && (slash + 1 == s + n || (slash - s == 1 && *s == '.')))
		return NULL;
	if (n == 1 && *s == '.')
		return NULL;
	return mig_xstrndup(s, n);
}

static void directory(const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	struct mig_err err = MIG_ERR_INIT;
	struct mig_graph *g = NULL;
	size_t files = 0;

	fuzz_rm_rf(dir);
	if (mkdir(dir, 0700) < 0)
		abort();
	while (p < end && files < MAX_FILES) {
		const char *rec_end = memchr(p, '\0', end - p), *nl;
		char *name, *path, *slash;
		int fd;

		if (!rec_end)
			rec_end = end;
		nl = memchr(p, '\n', rec_end - p);
		if (nl && (name = file_name(p, nl - p))) {
			path = mig_path_join(dir, name);
			if ((slash = strrchr(path, '/')) > path + strlen(dir)) {
				*slash = '\0';
				mkdir(path, 0700);
				*slash = '/';
			}
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (fd >= 0) {
				mig_write_all(fd, nl + 1, rec_end - nl - 1);
				close(fd);
				files++;
			}
			free(path);
			free(name);
		}
		p = rec_end + (rec_end < end);
	}
	if (mig_graph_load_cached(&g, dir, NULL, &err) == 0)
		use_graph(g);
	else if (g || err.code != MIG_EINVALID || !err.msg[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;

	if (!size)
		return 0;
	switch (data[0] % 3) {
	case 0:
		one_file(text, size - 1);
		break;
	case 1:
		from_memory(text, size - 1);
		break;
	default:
		directory(text, size - 1);
		break;
	}
	return 0;
}
