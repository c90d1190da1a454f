/*
 * The caches status keeps (cache.h), which anything may have written:
 * the first byte picks the file, the rest is what follows its first
 * line(s), which the target writes so that the keys match:
 *
 *   0  revisions.cache after "mig revision cache 1 VERSION" and the
 *      directory's line: entries looked up, one added, written back and
 *      read again, the added one as it was put;
 *   1  the same file whole, as found;
 *   2  schema.cache after its first line;
 *   3  a mig.conf's cache after its first lines (magic, stat data,
 *      path): values read, remembered again and read back the same.
 *
 * cache.c is included for its file formats and paths.
 */
#include "../../libcommon/cache.c"
#include "fuzz.h"

static char *dir, *revcache, *schemacache, *conf, *confcache;
static int dirfd_;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *top = fuzz_scratch_dir();
	char *xdg = mig_path_join(top, "xdg-cache");

	(void)argc, (void)argv;
	mig_prog = "fuzz-cache";
	setenv("XDG_CACHE_HOME", xdg, 1);
	mkdir(xdg, 0700);
	free(xdg);
	dir = mig_path_join(top, "migrations");
	mkdir(dir, 0700);
	if ((dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		abort();
	revcache = mig_path_join(top, "revisions.cache");
	schemacache = mig_path_join(top, "schema.cache");
	conf = mig_path_join(top, "mig.conf");
	fuzz_write(conf, "[mig]\n", 6);
	confcache = conf_cache_path(conf);
	if (!confcache)
		abort();
	/* where mig_confcache_put writes */
	xdg = mig_xstrdup(confcache);
	*strrchr(xdg, '/') = '\0';
	mkdir(xdg, 0700);
	free(xdg);
	return 0;
}

/* Write head, then the input, to path. */
static void write_file(const char *path, const char *head, const uint8_t *data, size_t size)
{
	struct mig_buf b = MIG_BUF_INIT;

	mig_buf_adds(&b, head);
	mig_buf_add(&b, data, size);
	fuzz_write(path, b.buf, b.len);
	mig_buf_release(&b);
}

static void check_rev(const struct mig_rev *r, const struct mig_rev *want)
{
	size_t i;

	if (strlen(r->id) != 40 || r->style < MIG_STYLE_MIG || r->style >= MIG_STYLE_NR ||
	    !r->up.present || r->data)
		abort();
	for (i = 0; i < r->nparents; i++)
		if (strchr(r->parents[i], ' '))
			abort();
	if (!want)
		return;
	if (strcmp(r->id, want->id) || r->style != want->style || r->no_transaction != want->no_transaction ||
	    r->parents_line != want->parents_line || r->nparents != want->nparents)
		abort();
	for (i = 0; i < r->nparents; i++)
		if (strcmp(r->parents[i], want->parents[i]))
			abort();
}

/* Look file up with stat data st; check what comes back against want, unless NULL. */
static int lookup(struct mig_revcache *c, const char *file, const struct stat *st, const struct mig_rev *want)
{
	char *name = mig_xstrndup(file, strlen(file) - 4), *path = mig_path_join(dir, file);
	struct mig_rev *r = mig_revcache_get(c, file, st, name, path);

	if (!r) {
		free(name);
		free(path);
		return 0;
	}
	check_rev(r, want);
	mig_rev_free(r);
	return 1;
}

static void revisions(void)
{
	static const char *const files[] = { "0001_a.sql", "0002_b.sql", "0003_c.sql", "0004 d.sql", "a\tb.sql" };
	struct timespec now = { 2000000000, 0 };
	char *parents[] = { "0001_a", "0002_b" };
	struct mig_rev put;
	struct mig_revcache *c;
	struct stat st;
	size_t i;

	/* entries keyed by stat data of zeros, as the seeds have them */
	memset(&st, 0, sizeof(st));
	c = mig_revcache_open(revcache, dirfd_, &now);
	for (i = 0; i < sizeof(files) / sizeof(*files); i++)
		lookup(c, files[i], &st, NULL);
	memset(&put, 0, sizeof(put));
	memcpy(put.id, "0123456789abcdef0123456789abcdef01234567", 41);
	put.style = MIG_STYLE_GOOSE;
	put.no_transaction = 1;
	put.parents = parents;
	put.nparents = 2;
	put.parents_line = 3;
	put.data = "x";
	put.up.present = 1;
	st.st_size = 1;
	mig_revcache_put(c, "0009_z.sql", &st, &put);
	mig_revcache_close(c, 1);
	c = mig_revcache_open(revcache, dirfd_, &now);
	if (!lookup(c, "0009_z.sql", &st, &put))
		abort();
	mig_revcache_close(c, 0);
}

static void schema(void)
{
	char hash[41];

	if (mig_schemacache_get(schemacache, "0123456789abcdef0123456789abcdef", hash) == 0 &&
	    (strlen(hash) != 40 || strspn(hash, "0123456789abcdef") != 40))
		abort();
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void conf_cache(const uint8_t *data, size_t size)
{
	struct mig_confvals v, again;
	struct timespec later;
	struct stat st;
	char *head;

	if (stat(conf, &st) < 0)
		abort();
	head = mig_xasprintf("%s%llu %llu %llu %llu %llu %llu %llu\n%s\n", CONF_MAGIC,
			     (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			     (unsigned long long)st.st_size, (unsigned long long)st.st_mtim.tv_sec,
			     (unsigned long long)st.st_mtim.tv_nsec, (unsigned long long)st.st_ctim.tv_sec,
			     (unsigned long long)st.st_ctim.tv_nsec, conf);
	write_file(confcache, head, data, size);
	free(head);
	if (mig_confcache_get(conf, &st, &v) < 0) {
		if (v.database || v.migrations || v.store || v.schema_file || v.schema || v.lock_timeout != -1 ||
		    v.backup != -1 || v.backup_keep != -1 || v.statement_lock_timeout != -1)
			abort();
		return;
	}
	if (v.lock_timeout < -1 || v.backup < -1 || v.backup > 1)
		abort();
	/* remembered again, well after the file changed, it reads back the same */
	later = st.st_ctim;
	later.tv_sec += 60;
	unlink(confcache);
	mig_confcache_put(conf, &st, &later, &v);
	if (!unsafe(v.database) && !unsafe(v.migrations) && !unsafe(v.store) && !unsafe(v.schema_file) &&
	    !unsafe(v.schema)) {
		if (mig_confcache_get(conf, &st, &again) < 0 || !same(v.database, again.database) ||
		    !same(v.migrations, again.migrations) || !same(v.store, again.store) ||
		    !same(v.schema_file, again.schema_file) || !same(v.schema, again.schema) ||
		    v.lock_timeout != again.lock_timeout ||
		    v.backup != again.backup || v.backup_keep != again.backup_keep ||
		    v.statement_lock_timeout != again.statement_lock_timeout)
			abort();
		mig_confvals_release(&again);
	}
	mig_confvals_release(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stat st;
	char *head;

	if (!size)
		return 0;
	switch (data[0] % 4) {
	case 0:
		if (fstat(dirfd_, &st) < 0)
			abort();
		head = mig_xasprintf("%sdir %llu %llu\n", REV_MAGIC, (unsigned long long)st.st_dev,
				     (unsigned long long)st.st_ino);
		write_file(revcache, head, data + 1, size - 1);
		free(head);
		revisions();
		break;
	case 1:
		write_file(revcache, "", data + 1, size - 1);
		revisions();
		break;
	case 2:
		write_file(schemacache, SCHEMA_MAGIC, data + 1, size - 1);
		schema();
		break;
	default:
		conf_cache(data + 1, size - 1);
		break;
	}
	return 0;
}
