#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "cache.h"
#include "util.h"

/*
 * Both files are text. revisions.cache:
 *
 *   mig revision cache 1 VERSION
 *   dir DEV INO
 *   DEV INO SIZE MSEC MNSEC CSEC CNSEC ID STYLE NOTX PLINE<TAB>FILE<TAB>PARENTS
 *   ...
 *
 * one line a file, sorted by FILE; PARENTS are the names of '-- mig:parents'
 * separated by spaces (names never hold blanks), PLINE its line or 0.
 * schema.cache:
 *
 *   mig schema cache 1 VERSION
 *   KEY ID
 *
 * conf-HASH, HASH the XXH3-64 of the mig.conf's path:
 *
 *   mig conf cache 3 VERSION
 *   DEV INO SIZE MSEC MNSEC CSEC CNSEC
 *   PATH
 *   KEY<TAB>VALUE
 *   ...
 *   end
 *
 * a line for each setting the file sets (database, migrations, store,
 * schemafile, locktimeout, backup, backupkeep, statementlocktimeout,
 * schema), its value as written there; "end", so that a file
 * cut short, which would say less, says nothing.
 */
#define REV_MAGIC "mig revision cache 1 " MIG_VERSION "\n"
#define SCHEMA_MAGIC "mig schema cache 1 " MIG_VERSION "\n"
#define CONF_MAGIC "mig conf cache 3 " MIG_VERSION "\n"
#define NKEY 7

static void key_of(unsigned long long key[NKEY], const struct stat *st)
{
	key[0] = st->st_dev;
	key[1] = st->st_ino;
	key[2] = st->st_size;
	key[3] = st->st_mtim.tv_sec;
	key[4] = st->st_mtim.tv_nsec;
	key[5] = st->st_ctim.tv_sec;
	key[6] = st->st_ctim.tv_nsec;
}

/* Changed less than the slack before now: its stat data may not show a later change. */
static int racy(const struct timespec *now, const struct timespec *t)
{
	return t->tv_sec + MIG_CACHE_SLACK > now->tv_sec ||
	       (t->tv_sec + MIG_CACHE_SLACK == now->tv_sec && t->tv_nsec >= now->tv_nsec);
}

static int racy_stat(const struct timespec *now, const struct stat *st)
{
	return racy(now, &st->st_mtim) || racy(now, &st->st_ctim);
}

/* A decimal number ending in sep at *p; moves *p past sep. */
static int num(char **p, char sep, unsigned long long *v)
{
	char *s = *p;

	*v = 0;
	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9')
		*v = *v * 10 + (unsigned)(*s++ - '0');
	if (*s != sep)
		return -1;
	*p = s + 1;
	return 0;
}

static int key_parse(char **p, unsigned long long key[NKEY])
{
	int i;

	for (i = 0; i < NKEY; i++)
		if (num(p, ' ', &key[i]) < 0)
			return -1;
	return 0;
}

static int id_parse(char **p, char id[41], char sep)
{
	if (strspn(*p, "0123456789abcdef") != 40 || (*p)[40] != sep)
		return -1;
	memcpy(id, *p, 40);
	id[40] = '\0';
	*p += 41;
	return 0;
}

/* The whole file, NUL-terminated, sized once; NULL when it cannot be read. */
static char *slurp(const char *path)
{
	struct stat st;
	char *buf = NULL;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < (64 << 20)) {
		size_t n = (size_t)st.st_size, got = 0;
		ssize_t r;

		buf = mig_xmalloc(n + 1);
		while (got < n && ((r = read(fd, buf + got, n - got)) > 0 || (r < 0 && errno == EINTR)))
			got += r > 0 ? (size_t)r : 0;
		if (got < n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	close(fd);
	return buf;
}

/* Replace path with the bytes of b: a temporary file beside it, renamed. */
static void replace_file(const char *path, const struct mig_buf *b)
{
	char *tmp = mig_xasprintf("%s.XXXXXX", path);
	int fd;

	if ((fd = mkostemp(tmp, O_CLOEXEC)) >= 0) {
		int ok = mig_write_all(fd, b->buf, b->len) == 0;

		if (close(fd) < 0 || !ok || rename(tmp, path) < 0)
			unlink(tmp);
	}
	free(tmp);
}

/* ---- revision files ---- */

struct entry {
	unsigned long long key[NKEY];
	char id[41];
	int style, no_transaction, parents_line;
	char *file, *parents;	/* into buf, or owned when added */
	int used;
};

struct mig_revcache {
	char *path;
	char *buf;		/* the file read, cut into strings in place */
	struct entry *old, *add;
	size_t nold, nadd, aalloc;
	size_t next;		/* the entry after the one found last */
	unsigned long long dir[2];
	struct timespec now;
	int dirty;		/* 1: write it back; -1: neither read nor write */
};

static int parse_entry(char **p, struct entry *e)
{
	unsigned long long v;
	char *s = *p, *end;

	memset(e, 0, sizeof(*e));
	if (key_parse(&s, e->key) < 0 || id_parse(&s, e->id, ' ') < 0)
		return -1;
	if (num(&s, ' ', &v) < 0 || v >= MIG_STYLE_NR)
		return -1;
	e->style = (int)v;
	if (num(&s, ' ', &v) < 0 || v > 1)
		return -1;
	e->no_transaction = (int)v;
	if (num(&s, '\t', &v) < 0 || v > 1000000000)
		return -1;
	e->parents_line = (int)v;
	e->file = s;
	if (!(s = strchr(s, '\t')))
		return -1;
	*s++ = '\0';
	e->parents = s;
	if (!(end = strchr(s, '\n')))
		return -1;
	*end = '\0';
	*p = end + 1;
	return *e->file ? 0 : -1;
}

static void load(struct mig_revcache *c)
{
	unsigned long long dir[2];
	size_t i, lines = 0;
	char *p;

	if (!(c->buf = slurp(c->path)) || strncmp(c->buf, REV_MAGIC, strlen(REV_MAGIC)))
		goto bad;
	p = c->buf + strlen(REV_MAGIC);
	if (strncmp(p, "dir ", 4))
		goto bad;
	p += 4;
	if (num(&p, ' ', &dir[0]) < 0 || num(&p, '\n', &dir[1]) < 0 ||
	    dir[0] != c->dir[0] || dir[1] != c->dir[1])
		goto bad;
	for (i = 0; p[i]; i++)
		lines += p[i] == '\n';
	c->old = mig_xmalloc((lines + 1) * sizeof(*c->old));
	while (*p) {
		if (parse_entry(&p, &c->old[c->nold]) < 0 ||
		    (c->nold && strcmp(c->old[c->nold - 1].file, c->old[c->nold].file) >= 0))
			goto bad;
		c->nold++;
	}
	return;
bad:
	/* start again empty, and write what this load learns */
	c->nold = 0;
	c->dirty = 1;
}

struct mig_revcache *mig_revcache_open(const char *path, int dirfd, const struct timespec *now)
{
	struct mig_revcache *c = mig_xcalloc(1, sizeof(*c));
	struct stat st;

	c->path = mig_xstrdup(path);
	c->now = *now;
	if (fstat(dirfd, &st) < 0) {
		c->dirty = -1;
		return c;
	}
	c->dir[0] = st.st_dev;
	c->dir[1] = st.st_ino;
	load(c);
	return c;
}

static struct entry *find(struct mig_revcache *c, const char *file)
{
	size_t lo = 0, hi = c->nold;

	/* files are looked up in name order: the next entry is the likely one */
	if (c->next < c->nold && !strcmp(c->old[c->next].file, file))
		return &c->old[c->next++];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(c->old[mid].file, file);

		if (!cmp) {
			c->next = mid + 1;
			return &c->old[mid];
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct mig_rev *mig_revcache_get(struct mig_revcache *c, const char *file, const struct stat *st,
				 char *name, char *path)
{
	unsigned long long key[NKEY];
	struct mig_rev *rev;
	struct entry *e;
	size_t n;
	char *p;

	if (c->dirty < 0 || !(e = find(c, file)))
		return NULL;
	key_of(key, st);
	if (memcmp(key, e->key, sizeof(key)))
		return NULL;
	e->used = 1;
	rev = mig_xcalloc(1, sizeof(*rev));
	rev->name = name;
	rev->path = path;
	rev->len = (size_t)st->st_size;
	memcpy(rev->id, e->id, sizeof(rev->id));
	rev->style = e->style;
	rev->no_transaction = e->no_transaction;
	rev->parents_line = e->parents_line;
	if (*e->parents) {
		for (n = 1, p = e->parents; *p; p++)
			n += *p == ' ';
		rev->parents = mig_xmalloc(n * sizeof(char *));
		for (p = e->parents; *p;) {
			n = strcspn(p, " ");
			rev->parents[rev->nparents++] = mig_xstrndup(p, n);
			p += n;
			p += *p == ' ';
		}
	}
	rev->up.present = 1;
	return rev;
}

void mig_revcache_put(struct mig_revcache *c, const char *file, const struct stat *st,
		      const struct mig_rev *rev)
{
	struct mig_buf parents = MIG_BUF_INIT;
	struct entry *e;
	size_t i;

	if (c->dirty < 0)
		return;
	/* a stale entry for this file goes, whether or not a new one replaces it */
	if (find(c, file))
		c->dirty = 1;
	if (racy_stat(&c->now, st) || strpbrk(file, "\t\n") || !rev->data)
		return;
	for (i = 0; i < rev->nparents; i++)
		mig_buf_addf(&parents, "%s%s", i ? " " : "", rev->parents[i]);
	MIG_GROW(c->add, c->nadd + 1, c->aalloc);
	e = &c->add[c->nadd++];
	memset(e, 0, sizeof(*e));
	key_of(e->key, st);
	memcpy(e->id, rev->id, sizeof(e->id));
	e->style = rev->style;
	e->no_transaction = rev->no_transaction;
	e->parents_line = rev->parents_line;
	e->file = mig_xstrdup(file);
	e->parents = parents.buf ? mig_buf_detach(&parents) : mig_xstrdup("");
	e->used = 1;
	c->dirty = 1;
}

static int by_file(const void *a, const void *b)
{
	return strcmp((*(const struct entry *const *)a)->file, (*(const struct entry *const *)b)->file);
}

static void write_back(struct mig_revcache *c)
{
	struct entry **v = mig_xmalloc((c->nold + c->nadd + 1) * sizeof(*v));
	struct mig_buf b = MIG_BUF_INIT;
	size_t i, n = 0;

	for (i = 0; i < c->nold; i++)
		if (c->old[i].used)
			v[n++] = &c->old[i];
	for (i = 0; i < c->nadd; i++)
		v[n++] = &c->add[i];
	qsort(v, n, sizeof(*v), by_file);
	mig_buf_addf(&b, "%sdir %llu %llu\n", REV_MAGIC, c->dir[0], c->dir[1]);
	for (i = 0; i < n; i++) {
		const struct entry *e = v[i];

		mig_buf_addf(&b, "%llu %llu %llu %llu %llu %llu %llu %s %d %d %d\t%s\t%s\n",
			     e->key[0], e->key[1], e->key[2], e->key[3], e->key[4], e->key[5], e->key[6],
			     e->id, e->style, e->no_transaction, e->parents_line, e->file, e->parents);
	}
	replace_file(c->path, &b);
	mig_buf_release(&b);
	free(v);
}

void mig_revcache_close(struct mig_revcache *c, int save)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nold && !c->dirty; i++)
		if (!c->old[i].used)
			c->dirty = 1;	/* a file gone, or changed and read again */
	if (save && c->dirty > 0)
		write_back(c);
	for (i = 0; i < c->nadd; i++) {
		free(c->add[i].file);
		free(c->add[i].parents);
	}
	free(c->add);
	free(c->old);
	free(c->buf);
	free(c->path);
	free(c);
}

/* ---- the live schema's hash ---- */

int mig_schemacache_get(const char *path, const char *key, char hash[41])
{
	char *buf = slurp(path), *p;
	size_t n = strlen(key);
	int rc = -1;

	if (!buf || strncmp(buf, SCHEMA_MAGIC, strlen(SCHEMA_MAGIC)))
		goto out;
	p = buf + strlen(SCHEMA_MAGIC);
	if (strncmp(p, key, n) || p[n] != ' ')
		goto out;
	p += n + 1;
	rc = id_parse(&p, hash, '\n');
out:
	free(buf);
	return rc;
}

void mig_schemacache_put(const char *path, const char *key, const char *hash)
{
	struct mig_buf b = MIG_BUF_INIT;

	mig_buf_addf(&b, "%s%s %s\n", SCHEMA_MAGIC, key, hash);
	replace_file(path, &b);
	mig_buf_release(&b);
}

/* ---- what a mig.conf says ---- */

static char *conf_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	/* as the XDG base directory spec says, a relative one is ignored */
	if (xdg && xdg[0] == '/')
		return mig_path_join(xdg, "mig");
	if (home && home[0] == '/')
		return mig_xasprintf("%s/.cache/mig", home);
	return NULL;
}

static char *conf_cache_path(const char *conf)
{
	char *dir = conf_cache_dir(), *path;

	if (!dir)
		return NULL;
	path = mig_xasprintf("%s/conf-%016llx", dir, (unsigned long long)XXH3_64bits(conf, strlen(conf)));
	free(dir);
	return path;
}

static int conf_value(struct mig_confvals *v, const char *key, const char *val)
{
	char **slot = NULL;
	unsigned long long n;
	char *p = (char *)val;

	if (!strcmp(key, "database"))
		slot = &v->database;
	else if (!strcmp(key, "migrations"))
		slot = &v->migrations;
	else if (!strcmp(key, "store"))
		slot = &v->store;
	else if (!strcmp(key, "schemafile"))
		slot = &v->schema_file;
	else if (!strcmp(key, "schema"))
		slot = &v->schema;
	if (slot) {
		if (*slot || !*val)
			return -1;
		*slot = mig_xstrdup(val);
		return 0;
	}
	if (num(&p, '\0', &n) < 0 || n > 0x7fffffff)
		return -1;
	if (!strcmp(key, "locktimeout") && v->lock_timeout < 0)
		v->lock_timeout = (int)n;
	else if (!strcmp(key, "backup") && v->backup < 0 && n <= 1)
		v->backup = (int)n;
	else if (!strcmp(key, "backupkeep") && v->backup_keep < 0)
		v->backup_keep = (int)n;
	else if (!strcmp(key, "statementlocktimeout") && v->statement_lock_timeout < 0)
		v->statement_lock_timeout = (int)n;
	else
		return -1;
	return 0;
}

int mig_confcache_get(const char *conf, const struct stat *st, struct mig_confvals *v)
{
	char *path = conf_cache_path(conf), *buf = NULL, *p, *eol, *tab;
	unsigned long long key[NKEY], want[NKEY];
	size_t n = strlen(conf);
	int i;

	memset(v, 0, sizeof(*v));
	v->lock_timeout = v->backup = v->backup_keep = v->statement_lock_timeout = -1;
	if (!path || !(buf = slurp(path)) || strncmp(buf, CONF_MAGIC, strlen(CONF_MAGIC)))
		goto miss;
	p = buf + strlen(CONF_MAGIC);
	for (i = 0; i < NKEY; i++)
		if (num(&p, i < NKEY - 1 ? ' ' : '\n', &key[i]) < 0)
			goto miss;
	key_of(want, st);
	if (memcmp(key, want, sizeof(key)) || strncmp(p, conf, n) || p[n] != '\n')
		goto miss;
	for (p += n + 1; strcmp(p, "end\n"); p = eol + 1) {
		if (!(eol = strchr(p, '\n')) || !(tab = memchr(p, '\t', (size_t)(eol - p))))
			goto miss;
		*tab = *eol = '\0';
		if (conf_value(v, p, tab + 1) < 0)
			goto miss;
	}
	free(buf);
	free(path);
	return 0;
miss:
	mig_confvals_release(v);
	free(buf);
	free(path);
	return -1;
}

/* A value that would break its line, or a path its first line. */
static int unsafe(const char *s)
{
	return s && strpbrk(s, "\t\n");
}

void mig_confcache_put(const char *conf, const struct stat *st, const struct timespec *now,
		       const struct mig_confvals *v)
{
	char *path, *dir, *slash;
	struct mig_buf b = MIG_BUF_INIT;
	unsigned long long key[NKEY];

	if (racy_stat(now, st) || unsafe(conf) || unsafe(v->database) || unsafe(v->migrations) ||
	    unsafe(v->store) || unsafe(v->schema_file) || unsafe(v->schema) || !(path = conf_cache_path(conf)))
		return;
	/* CACHE/mig, and CACHE first: ~/.cache may not be there yet */
	dir = mig_xstrdup(path);
	*strrchr(dir, '/') = '\0';
	if ((slash = strrchr(dir, '/'))) {
		*slash = '\0';
		mkdir(dir, 0700);
		*slash = '/';
	}
	mkdir(dir, 0700);
	free(dir);
	key_of(key, st);
	mig_buf_addf(&b, "%s%llu %llu %llu %llu %llu %llu %llu\n%s\n", CONF_MAGIC,
		     key[0], key[1], key[2], key[3], key[4], key[5], key[6], conf);
	if (v->database)
		mig_buf_addf(&b, "database\t%s\n", v->database);
	if (v->migrations)
		mig_buf_addf(&b, "migrations\t%s\n", v->migrations);
	if (v->store)
		mig_buf_addf(&b, "store\t%s\n", v->store);
	if (v->schema_file)
		mig_buf_addf(&b, "schemafile\t%s\n", v->schema_file);
	if (v->lock_timeout >= 0)
		mig_buf_addf(&b, "locktimeout\t%d\n", v->lock_timeout);
	if (v->backup >= 0)
		mig_buf_addf(&b, "backup\t%d\n", v->backup);
	if (v->backup_keep >= 0)
		mig_buf_addf(&b, "backupkeep\t%d\n", v->backup_keep);
	if (v->statement_lock_timeout >= 0)
		mig_buf_addf(&b, "statementlocktimeout\t%d\n", v->statement_lock_timeout);
	if (v->schema)
		mig_buf_addf(&b, "schema\t%s\n", v->schema);
	mig_buf_adds(&b, "end\n");
	replace_file(path, &b);
	mig_buf_release(&b);
	free(path);
}

void mig_confvals_release(struct mig_confvals *v)
{
	free(v->database);
	free(v->migrations);
	free(v->store);
	free(v->schema_file);
	free(v->schema);
	memset(v, 0, sizeof(*v));
	v->lock_timeout = v->backup = v->backup_keep = v->statement_lock_timeout = -1;
}
