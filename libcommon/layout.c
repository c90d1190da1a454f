#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "util.h"

/* Versions: the tool's own rule, each checked against its source (mig(7), LAYOUTS). */

/* dbmate (^(\d+).*\.sql$), golang-migrate (^([0-9]+)_), goose (digits before the first '_') */
static char *leading_digits(const char *name)
{
	return mig_xstrndup(name, strspn(name, "0123456789"));
}

/* diesel's version_from_string: the name before the first '_', without its '-' */
static char *diesel_version(const char *name)
{
	struct mig_buf b = MIG_BUF_INIT;
	const char *p;

	for (p = name; *p && *p != '_'; p++)
		if (*p != '-')
			mig_buf_addc(&b, *p);
	mig_buf_adds(&b, "");
	return mig_buf_detach(&b);
}

/* As numbers of any length: goose's int64, golang-migrate's uint, mig's own. */
static int number_cmp(const char *a, const char *b)
{
	size_t la, lb;

	a += strspn(a, "0");
	b += strspn(b, "0");
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

/* As strings: dbmate's and diesel's versions are compared byte by byte. */
static int string_cmp(const char *a, const char *b)
{
	return strcmp(a, b);
}

/* diesel's folders are named 2024-01-31-120000_name */
static char *diesel_new_version(const char *v)
{
	if (strlen(v) != 14)
		return mig_xstrdup(v);
	return mig_xasprintf("%.4s-%.2s-%.2s-%s", v, v + 4, v + 6, v + 8);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcmp(s + n - k, suffix);
}

static struct mig_layout_unit *unit_add(struct mig_layout_scan *sc, const struct mig_layout *l, const char *key)
{
	struct mig_layout_unit *u;

	MIG_GROW(sc->v, sc->nr + 1, sc->alloc);
	u = &sc->v[sc->nr++];
	memset(u, 0, sizeof(*u));
	u->layout = l;
	u->key = mig_xstrdup(key);
	return u;
}

static struct mig_layout_unit *unit_for(struct mig_layout_scan *sc, const struct mig_layout *l, const char *key)
{
	size_t i;

	for (i = 0; i < sc->nr; i++)
		if (sc->v[i].layout == l && !strcmp(sc->v[i].key, key))
			return &sc->v[i];
	return unit_add(sc, l, key);
}

/*
 * golang-migrate: ^([0-9]+)_(.*)\.(up|down)\.sql$, paired by the
 * version as a number (source/parse.go, source/migration.go: 01_a.up.sql
 * and 1_b.down.sql are one migration); a second file of one version and
 * direction is an error there ("duplicate migration file"), and here.
 */
static int golang_offer(struct mig_layout_scan *sc, const struct mig_layout *l, int dirfd, const char *entry,
			int maybe_dir)
{
	size_t digits = strspn(entry, "0123456789"), zeros;
	int isup = ends_with(entry, ".up.sql");
	struct mig_layout_unit *u;
	char *key, **slot;

	(void)dirfd;
	(void)maybe_dir;
	if (!digits || entry[digits] != '_' || (!isup && !ends_with(entry, ".down.sql")))
		return 0;
	key = mig_xstrndup(entry, digits);
	zeros = strspn(key, "0");
	u = unit_for(sc, l, key + (zeros == digits ? digits - 1 : zeros));
	free(key);
	slot = isup ? &u->up : &u->down;
	if (*slot) {
		if (!u->dup)
			u->dup = mig_xstrdup(entry);
		return 1;
	}
	*slot = mig_xstrdup(entry);
	if (isup || !u->name) {
		free(u->name);
		u->name = mig_xstrndup(entry, strlen(entry) - (isup ? 7 : 9));
	}
	return 1;
}

/* diesel: a directory holding up.sql (migrations_internals' valid_sql_migration_directory) */
static int diesel_offer(struct mig_layout_scan *sc, const struct mig_layout *l, int dirfd, const char *entry,
			int maybe_dir)
{
	struct stat st;
	char *up;
	int taken = 0;

	if (!maybe_dir || fstatat(dirfd, entry, &st, 0) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	up = mig_path_join(entry, "up.sql");
	if (fstatat(dirfd, up, &st, 0) == 0) {
		struct mig_layout_unit *u = unit_add(sc, l, entry);

		u->name = mig_xstrdup(entry);
		u->up = up;
		u->down = mig_path_join(entry, "down.sql");
		taken = 1;
	}
	if (!taken)
		free(up);
	return 1;	/* a directory is never a revision file of mig's */
}

/*
 * goose: a Go migration is VERSION_name.go, not *_test.go
 * (collect_migration.go's collectMigrations); mig cannot run one, but
 * must not pass over it either.
 */
static int goose_offer(struct mig_layout_scan *sc, const struct mig_layout *l, int dirfd, const char *entry,
		       int maybe_dir)
{
	size_t digits = strspn(entry, "0123456789");
	struct mig_layout_unit *u;

	(void)dirfd;
	(void)maybe_dir;
	if (!digits || entry[digits] != '_' || !ends_with(entry, ".go") || ends_with(entry, "_test.go"))
		return 0;
	u = unit_add(sc, l, entry);
	u->name = mig_xstrndup(entry, strlen(entry) - 3);
	u->up = mig_xstrdup(entry);
	return 1;
}

/*
 * A '-- mig:' line of a golang-migrate or diesel file that the body made
 * of both files cannot hold (up, down, or what mig does not know), or a
 * NUL byte: named where it is, in the file and line the user sees, not
 * at the body's line. '-- mig:parents' (which the chain replaces) and a
 * bare '-- mig:no-transaction' are read as they always were.
 */
static int plain_sql(const struct mig_buf *b, const char *path, const char *name, const struct mig_layout *l,
		     struct mig_err *err)
{
	const char *p = b->buf, *end = b->buf + b->len;
	int line = 1;

	for (; p < end; line++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *stop = eol ? eol : end;

		if (memchr(p, '\0', (size_t)(stop - p))) {
			mig_err_set(err, MIG_EINVALID, "%s:%d: NUL byte in a revision file", path, line);
			return MIG_EINVALID;
		}
		if (stop - p >= 7 && !memcmp(p, "-- mig:", 7)) {
			size_t w = strcspn(p + 7, " \t\r\n"), rest = (size_t)(stop - p) - 7 - w;
			const char *r = p + 7 + w;

			if ((w == 7 && !memcmp(p + 7, "parents", 7)) ||
			    (w == 14 && !memcmp(p + 7, "no-transaction", 14) && strspn(r, " \t\r") >= rest)) {
				p = eol ? eol + 1 : end;
				continue;
			}
			mig_err_set(err, MIG_EINVALID, "%s:%d: '%.*s' in a %s file", path, line,
				    (int)(7 + w), p, l->name);
			mig_err_hint(err, "%s is a %s revision: its files hold plain SQL", name, l->name);
			return MIG_EINVALID;
		}
		p = eol ? eol + 1 : end;
	}
	return 0;
}

/* Does the file exist (as anything: reading it says what is wrong with it)? */
static int exists_at(int dirfd, const char *file)
{
	struct stat st;

	return fstatat(dirfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * One revision of two files: the body is mig's own format, so the store
 * and the parser need nothing else; messages name the real files, and
 * each section's lines are its own file's.
 */
static int load_two(struct mig_rev **out, int dirfd, const char *dir, const struct mig_layout_unit *u,
		    int no_transaction, struct mig_err *err)
{
	const struct mig_layout *l = u->layout;
	struct mig_buf up = MIG_BUF_INIT, down = MIG_BUF_INIT, body = MIG_BUF_INIT;
	const char *downfile = u->down && exists_at(dirfd, u->down) ? u->down : NULL;
	char *uppath = u->up ? mig_path_join(dir, u->up) : NULL;
	char *downpath = downfile ? mig_path_join(dir, downfile) : NULL;
	int rc = 0;

	*out = NULL;
	if (u->dup) {
		const char *a = u->up && ends_with(u->dup, l->file_suffix[0]) ? u->up : u->down;
		char *first = mig_path_join(dir, strcmp(a, u->dup) < 0 ? a : u->dup);
		char *second = mig_path_join(dir, strcmp(a, u->dup) < 0 ? u->dup : a);

		rc = mig_err_set(err, MIG_EINVALID, "%s: duplicate migration file: version %s is also %s", second,
				 u->key, first);
		mig_err_hint(err, "%s pairs files by their version number: give one of them another", l->name);
		free(first);
		free(second);
		goto out;
	}
	if (!u->up) {
		char *lone = mig_path_join(dir, u->down);

		rc = mig_err_set(err, MIG_EINVALID, "%s: no up file beside it", lone);
		free(lone);
		goto out;
	}
	if ((rc = mig_read_fileat(&up, dirfd, u->up, uppath, err)) < 0 ||
	    (downfile && (rc = mig_read_fileat(&down, dirfd, downfile, downpath, err)) < 0) ||
	    (rc = plain_sql(&up, uppath, u->name, l, err)) < 0 ||
	    (downfile && (rc = plain_sql(&down, downpath, u->name, l, err)) < 0))
		goto out;
	if (no_transaction)
		mig_buf_adds(&body, "-- mig:no-transaction\n");
	mig_buf_adds(&body, "-- mig:up\n");
	if (up.len)
		mig_buf_add(&body, up.buf, up.len);
	if (up.len && up.buf[up.len - 1] != '\n')
		mig_buf_addc(&body, '\n');
	if (downfile) {
		mig_buf_adds(&body, "-- mig:down\n");
		if (down.len)
			mig_buf_add(&body, down.buf, down.len);
	}
	/* what plain_sql let through parses */
	if ((rc = mig_rev_parse(out, u->name, uppath, body.buf, body.len, err)) < 0)
		goto out;
	(*out)->style = l->style;
	(*out)->up.line = 1;
	if (downfile)
		(*out)->down.line = 1;
	/* a missing down file is named too: diesel's, where it would be */
	(*out)->down_path = downpath ? downpath : u->down ? mig_path_join(dir, u->down) : NULL;
	downpath = NULL;
out:
	free(uppath);
	free(downpath);
	mig_buf_release(&up);
	mig_buf_release(&down);
	mig_buf_release(&body);
	return rc;
}

static int golang_load(struct mig_rev **out, int dirfd, const char *dir, const struct mig_layout_unit *u,
		       struct mig_err *err)
{
	return load_two(out, dirfd, dir, u, 0, err);
}

/* diesel's metadata.toml can say run_in_transaction = false. */
static int diesel_no_transaction(int dirfd, const char *dir, const char *name)
{
	char *file = mig_path_join(name, "metadata.toml"), *path = mig_path_join(dir, file);
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_buf b = MIG_BUF_INIT;
	int r = 0;

	if (mig_read_fileat(&b, dirfd, file, path, &ignored) == 0 && b.buf) {
		const char *p = strstr(b.buf, "run_in_transaction");

		if (p) {
			p += strlen("run_in_transaction");
			p += strspn(p, " \t");
			if (*p == '=') {
				p++;
				p += strspn(p, " \t");
				r = !strncmp(p, "false", 5);
			}
		}
	}
	mig_buf_release(&b);
	free(file);
	free(path);
	return r;
}

static int diesel_load(struct mig_rev **out, int dirfd, const char *dir, const struct mig_layout_unit *u,
		       struct mig_err *err)
{
	return load_two(out, dirfd, dir, u, diesel_no_transaction(dirfd, dir, u->name), err);
}

/*
 * A goose Go migration: its bytes are kept and hashed like any file's,
 * so an edit after it was applied shows, but it has no SQL to run.
 */
static int goose_load(struct mig_rev **out, int dirfd, const char *dir, const struct mig_layout_unit *u,
		      struct mig_err *err)
{
	struct mig_buf b = MIG_BUF_INIT;
	char *path = mig_path_join(dir, u->up);
	struct mig_rev *r;
	int rc;

	*out = NULL;
	if ((rc = mig_read_fileat(&b, dirfd, u->up, path, err)) < 0) {
		free(path);
		return rc;
	}
	r = mig_xcalloc(1, sizeof(*r));
	r->name = mig_xstrdup(u->name);
	r->path = path;
	r->len = b.len;
	r->data = mig_xstrndup(b.buf ? b.buf : "", b.len);
	mig_blob_id(r->id, r->data, r->len);
	r->style = u->layout->style;
	r->unrunnable = 1;
	r->up.sql = r->data + r->len;
	r->up.line = 1;
	r->up.present = 1;
	mig_buf_release(&b);
	*out = r;
	return 0;
}

/*
 * The tools, one entry each. Every rule here is the tool's own, read in
 * its source (the file or function is named beside it); mig(7) says
 * them for users.
 */
static const struct mig_layout layouts[MIG_STYLE_NR] = {
	[MIG_STYLE_DBMATE] = {
		.name = "dbmate",
		.style = MIG_STYLE_DBMATE,
		.markers = { MIG_STYLE_DBMATE, "-- migrate:", 0, NULL, "transaction:false" },
		.file_suffix = { ".sql", NULL },
		/* FindMigrations (pkg/dbmate/db.go): sorted by file name, applied by version string */
		.version = leading_digits,
		.version_cmp = string_cmp,
		.order_by_file = 1,
		.new_stamp = 1,
		.new_body = { "-- migrate:up\n\n\n-- migrate:down\n\n", NULL },
		.adopt = { "schema_migrations", "SELECT version FROM schema_migrations", 0 },
	},

	[MIG_STYLE_GOOSE] = {
		.name = "goose",
		.style = MIG_STYLE_GOOSE,
		.markers = { MIG_STYLE_GOOSE, "-- +goose ", 1, "NO TRANSACTION", NULL },
		.offer = goose_offer,
		.load = goose_load,
		.file_suffix = { ".sql", NULL },
		/* collectMigrations: int64 versions, sorted as numbers, each once */
		.version = leading_digits,
		.version_cmp = number_cmp,
		.unique_versions = 1,
		.new_body = { "-- +goose Up\n\n\n-- +goose Down\n\n", NULL },
		/* the latest row of each version says whether it is applied */
		.adopt = { "goose_db_version",
			   "SELECT version_id FROM goose_db_version AS g WHERE version_id > 0 AND is_applied "
			   "AND id = (SELECT max(id) FROM goose_db_version WHERE version_id = g.version_id)", 0 },
	},

	[MIG_STYLE_GOLANG] = {
		.name = "golang-migrate",
		.style = MIG_STYLE_GOLANG,
		.offer = golang_offer,
		.load = golang_load,
		.file_suffix = { ".up.sql", ".down.sql" },
		/* source.Migrations: uint versions, sorted as numbers */
		.version = leading_digits,
		.version_cmp = number_cmp,
		.unique_versions = 1,
		.new_body = { "", "" },
		/* one row: the current version, and whether it finished */
		.adopt = { "schema_migrations", "SELECT version, dirty FROM schema_migrations", 1 },
	},

	[MIG_STYLE_DIESEL] = {
		.name = "diesel",
		.style = MIG_STYLE_DIESEL,
		.offer = diesel_offer,
		.load = diesel_load,
		.file_suffix = { "/up.sql", "/down.sql" },
		/* MigrationHarness: sorted by MigrationVersion, a string */
		.version = diesel_version,
		.version_cmp = string_cmp,
		.new_stamp = 1,
		.new_dir = 1,
		.new_version = diesel_new_version,
		.new_body = { "-- Your SQL goes here\n", "-- This file should undo anything in `up.sql`\n" },
		.adopt = { "__diesel_schema_migrations", "SELECT version FROM __diesel_schema_migrations", 0 },
	},
};

/*
 * Alembic names a revision's file REV_SLUG.py, or with a file_template
 * such as its documented DATE-REV_SLUG: the id stands after the start
 * or a '-', and before the end or a '_'.
 */
static int alembic_matches(const char *name, const char *rev)
{
	size_t k = strlen(rev);
	const char *p;

	if (!k)
		return 0;
	for (p = name; (p = strstr(p, rev)); p++)
		if ((p == name || p[-1] == '-') && (p[k] == '\0' || p[k] == '_'))
			return 1;
	return 0;
}

/* name is APP_NAME for row APP.NAME */
static int django_key(const char *name, const char *row)
{
	size_t a = strcspn(row, ".");

	return row[a] == '.' && !strncmp(name, row, a) && name[a] == '_' && !strcmp(name + a + 1, row + a + 1);
}

/*
 * Django's row (app, name) as APP.NAME: the revision APP_NAME, or
 * NNNN_APP_NAME in mig's numbered order (an app label is an
 * identifier, so never starts with a digit).
 */
static int django_matches(const char *name, const char *row)
{
	size_t d = strspn(name, "0123456789");

	return django_key(name, row) || (d && name[d] == '_' && django_key(name + d + 1, row));
}

static char *alembic_file(const char *rev)
{
	return mig_xasprintf("%s_SLUG.sql", rev);
}

static char *django_file(const char *row)
{
	size_t a = strcspn(row, ".");

	return mig_xasprintf("%.*s_%s.sql", (int)a, row, row[a] ? row + a + 1 : "");
}

static const struct mig_adopter adopters[] = {
	/* one row per head (alembic/runtime/migration.py, HeadMaintainer) */
	{ "Alembic", { "alembic_version", "SELECT version_num FROM alembic_version ORDER BY 1", 0 }, 1,
	  alembic_matches, alembic_file },
	/* a row per migration applied (django/db/migrations/recorder.py) */
	{ "Django", { "django_migrations", "SELECT app || '.' || name, CAST(applied AS TEXT) FROM django_migrations"
		      " ORDER BY id", 0 }, 0, django_matches, django_file },
};

const struct mig_adopter *mig_adopter_at(size_t i)
{
	return i < sizeof(adopters) / sizeof(*adopters) ? &adopters[i] : NULL;
}

const struct mig_layout *mig_layout_of(enum mig_style s)
{
	return (unsigned)s < MIG_STYLE_NR && layouts[s].name ? &layouts[s] : NULL;
}

const struct mig_markers *mig_markers_at(size_t i)
{
	size_t s;

	for (s = 0; s < MIG_STYLE_NR; s++)
		if (layouts[s].name && layouts[s].markers.prefix && !i--)
			return &layouts[s].markers;
	return NULL;
}

const char *mig_layout_name(enum mig_style s)
{
	const struct mig_layout *l = mig_layout_of(s);

	return l ? l->name : "mig";
}

int mig_layout_offer(struct mig_layout_scan *sc, int dirfd, const char *entry, int maybe_dir)
{
	struct stat st;
	size_t s;

	for (s = 0; s < MIG_STYLE_NR; s++)
		if (layouts[s].offer && layouts[s].offer(sc, &layouts[s], dirfd, entry, maybe_dir))
			return 1;
	/* a directory is never a revision file of mig's */
	return maybe_dir && fstatat(dirfd, entry, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* In a stable order: readdir's says nothing. */
static int by_unit_name(const void *x, const void *y)
{
	const struct mig_layout_unit *a = x, *b = y;

	return strcmp(a->name, b->name);
}

int mig_layout_load(struct mig_layout_scan *sc, int dirfd, const char *dir, struct mig_rev ***revs,
		    size_t *n, size_t *alloc, struct mig_err *err)
{
	size_t i;
	int rc = 0;

	if (sc->nr)
		qsort(sc->v, sc->nr, sizeof(*sc->v), by_unit_name);
	for (i = 0; i < sc->nr && rc == 0; i++) {
		struct mig_rev *r;

		if ((rc = sc->v[i].layout->load(&r, dirfd, dir, &sc->v[i], err)) == 0) {
			MIG_GROW(*revs, *n + 1, *alloc);
			(*revs)[(*n)++] = r;
		}
	}
	return rc;
}

void mig_layout_scan_release(struct mig_layout_scan *sc)
{
	size_t i;

	for (i = 0; i < sc->nr; i++) {
		free(sc->v[i].key);
		free(sc->v[i].name);
		free(sc->v[i].up);
		free(sc->v[i].down);
		free(sc->v[i].dup);
	}
	free(sc->v);
	memset(sc, 0, sizeof(*sc));
}

char *mig_layout_version(const struct mig_rev *r)
{
	const struct mig_layout *l = mig_layout_of(r->style);

	return l ? l->version(r->name) : leading_digits(r->name);
}

int mig_layout_version_cmp(enum mig_style style, const char *a, const char *b)
{
	const struct mig_layout *l = mig_layout_of(style);

	return l ? l->version_cmp(a, b) : number_cmp(a, b);
}

struct versioned {
	struct mig_rev *r;
	char *v;
	const struct mig_layout *l;
};

/* dbmate's: the file names, as strings ("10_b.sql" before "2_a.sql") */
static int by_file(const struct versioned *a, const struct versioned *b)
{
	char *fa = mig_xasprintf("%s.sql", a->r->name), *fb = mig_xasprintf("%s.sql", b->r->name);
	int c = strcmp(fa, fb);

	free(fa);
	free(fb);
	return c;
}

static int by_version(const void *x, const void *y)
{
	const struct versioned *a = x, *b = y;
	int c;

	if (a->l->order_by_file)
		return by_file(a, b);
	c = a->l->version_cmp(a->v, b->v);
	return c ? c : strcmp(a->r->name, b->r->name);
}

/* The chain is the order: a '-- mig:parents' line in a file says nothing (nor leaks). */
static void chain_after(struct mig_rev *r, const struct mig_rev *before)
{
	size_t j;

	for (j = 0; j < r->nparents; j++)
		free(r->parents[j]);
	free(r->parents);
	r->parents = NULL;
	r->nparents = 0;
	/* parents_line set with no parents makes the first a root */
	r->parents_line = 1;
	if (before) {
		r->parents = mig_xcalloc(1, sizeof(char *));
		r->parents[0] = mig_xstrdup(before->name);
		r->nparents = 1;
	}
}

/* The style of a directory: the one all revisions share, or mig's. */
static enum mig_style common_style(struct mig_rev **revs, size_t n, struct mig_err *err)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (revs[i]->style != revs[0]->style)
			break;
	if (n && i == n)
		return revs[0]->style;
	for (i = 0; i < n; i++)
		if (revs[i]->unrunnable) {
			mig_err_set(err, MIG_EINVALID, "%s: a %s migration among revisions that are not %s's",
				    revs[i]->path, mig_layout_name(revs[i]->style), mig_layout_name(revs[i]->style));
			return MIG_STYLE_NR;
		}
	return MIG_STYLE_MIG;
}

int mig_layout_chain(enum mig_style *style, struct mig_rev **revs, size_t n, struct mig_err *err)
{
	const struct mig_layout *l;
	struct versioned *v;
	size_t i;
	int rc = 0;

	*style = common_style(revs, n, err);
	if (*style == MIG_STYLE_NR)
		return MIG_EINVALID;
	if (!(l = mig_layout_of(*style)))
		return 0;
	v = mig_xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++) {
		v[i].r = revs[i];
		v[i].v = l->version(revs[i]->name);
		v[i].l = l;
	}
	qsort(v, n, sizeof(*v), by_version);
	for (i = 0; i < n; i++) {
		if (i && l->unique_versions && !l->version_cmp(v[i - 1].v, v[i].v) && rc == 0)
			rc = mig_err_set(err, MIG_EINVALID, "%s: duplicate migration version %s (also %s)",
					 v[i].r->path, v[i].v, v[i - 1].r->path);
		chain_after(v[i].r, i ? v[i - 1].r : NULL);
	}
	for (i = 0; i < n; i++)
		free(v[i].v);
	free(v);
	return rc;
}

/* A two-file body as load_two makes it: "[-- mig:no-transaction\n]-- mig:up\n" first. */
static int two_file_body(const struct mig_rev *body)
{
	const char *p = body->data;

	if (!strncmp(p, "-- mig:no-transaction\n", 22))
		p += 22;
	return !strncmp(p, "-- mig:up\n", 10);
}

/* NAME plus the tool's suffix, under dir, as read back from the store. */
static char *stored_file(const char *dir, const struct mig_rev *body, const char *suffix)
{
	char *file = mig_xasprintf("%s%s", body->name, suffix), *path = mig_path_join(dir, file);
	char *r = mig_xasprintf("%s (%.12s, from the store)", path, body->id);

	free(file);
	free(path);
	return r;
}

void mig_layout_body_places(struct mig_rev *body, const struct mig_rev *file, const char *dir,
			    enum mig_style dir_style)
{
	const struct mig_layout *l = mig_layout_of(dir_style);

	if (file && !strcmp(file->id, body->id)) {
		/* the same bytes: the file's own places */
		body->style = file->style;
		body->unrunnable = file->unrunnable;
		body->up.line = file->up.line;
		body->down.line = file->down.line;
		free(body->down_path);
		body->down_path = file->down_path ? mig_xstrdup(file->down_path) : NULL;
		return;
	}
	if (!l || !l->file_suffix[1] || body->style != MIG_STYLE_MIG || !two_file_body(body))
		return;
	/* an older body of the directory's two files: each section starts its file */
	body->style = dir_style;
	body->up.line = 1;
	body->down.line = 1;
	free(body->path);
	body->path = stored_file(dir, body, l->file_suffix[0]);
	free(body->down_path);
	body->down_path = stored_file(dir, body, l->file_suffix[1]);
}

/* Where a two-file revision's down file is (or would be). */
static char *down_file(const struct mig_rev *r, const struct mig_layout *l)
{
	size_t n = strlen(r->path), k = strlen(l->file_suffix[0]);

	if (r->down_path)
		return mig_xstrdup(r->down_path);
	if (n > k && !strcmp(r->path + n - k, l->file_suffix[0]))
		return mig_xasprintf("%.*s%s", (int)(n - k), r->path, l->file_suffix[1]);
	return mig_xasprintf("%s%s", r->name, l->file_suffix[1]);
}

int mig_layout_reversible(const struct mig_rev *r, struct mig_err *err)
{
	const struct mig_layout *l = mig_layout_of(r->style);
	int empty = r->down.present && mig_sql_skip_space(r->down.sql, r->down.sql + r->down.len) ==
					       r->down.sql + r->down.len;
	char *down;

	if (r->unrunnable) {
		mig_err_set(err, MIG_EUNSAFE, "%s is a %s Go migration (%s): mig cannot revert it", r->name,
			    mig_layout_name(r->style), r->path);
		mig_err_hint(err, "revert it with %s, then record that with 'mig fake --unapply %s'",
			     mig_layout_name(r->style), r->name);
		return MIG_EUNSAFE;
	}
	if (r->down.present && !empty)
		return 0;
	if (l && l->file_suffix[1]) {
		down = down_file(r, l);
		mig_err_set(err, MIG_EUNSAFE, "%s is irreversible: %s %s", r->name, down,
			    empty ? "holds no SQL" : "is missing");
		free(down);
	} else if (l) {
		mig_err_set(err, MIG_EUNSAFE, "%s is irreversible: %s %s '%sdown' section", r->name, r->path,
			    empty ? "has an empty" : "has no", l->markers.prefix);
	} else {
		mig_err_set(err, MIG_EUNSAFE, "%s is irreversible: it has %s '-- mig:down' section", r->name,
			    empty ? "an empty" : "no");
	}
	return MIG_EUNSAFE;
}

int mig_layout_runnable(const struct mig_rev *r, struct mig_err *err)
{
	if (!r->unrunnable)
		return 0;
	mig_err_set(err, MIG_EUNSAFE, "%s is a %s Go migration (%s): mig cannot run it", r->name,
		    mig_layout_name(r->style), r->path);
	mig_err_hint(err, "apply it with the %s binary that registers it, record that with 'mig fake %s', "
		     "then run 'mig up' again", mig_layout_name(r->style), r->name);
	return MIG_EUNSAFE;
}

void mig_layout_plan_stop(struct mig_rev *const *revs, const size_t *plan, size_t *n, struct mig_err *stop)
{
	size_t i;

	mig_err_clear(stop);
	for (i = 0; i < *n; i++)
		if (mig_layout_runnable(revs[plan[i]], stop) < 0) {
			*n = i;
			return;
		}
}
