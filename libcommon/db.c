/*
 * The database layer's public face: each mig_db_* call finds the
 * backend (backend.h) and calls it, once per call. What is the same for
 * every database lives here too: which backend an address names, how a
 * URL is shown without its password, how mig's own bookkeeping is kept
 * up to date, which other tools' bookkeeping there is to adopt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <pwd.h>
#include <sys/stat.h>

#include "backend.h"
#include "util.h"

/*
 * The backends built in. An address "SCHEME://..." goes to the one that
 * lists SCHEME; any other address to the one that takes file paths.
 */
static const struct mig_backend *const backends[] = {
	&mig_sqlite_backend,
	&mig_postgres_backend,
};

/* Databases mig knows by their URL schemes, built in or not: for saying which is missing. */
static const struct {
	const char *scheme, *what;
} known_schemes[] = {
	{ "postgres", "PostgreSQL" },
	{ "postgresql", "PostgreSQL" },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof(*(a)))

/* The length of addr's URL scheme ("postgres" in postgres://...), or 0 when it has none. */
static size_t scheme_len(const char *addr)
{
	size_t n = 0;

	if (!((addr[0] >= 'a' && addr[0] <= 'z') || (addr[0] >= 'A' && addr[0] <= 'Z')))
		return 0;
	while ((addr[n] >= 'a' && addr[n] <= 'z') || (addr[n] >= 'A' && addr[n] <= 'Z') ||
	       (addr[n] >= '0' && addr[n] <= '9') || addr[n] == '+' || addr[n] == '-' || addr[n] == '.')
		n++;
	return strncmp(addr + n, "://", 3) ? 0 : n;
}

static int serves(const struct mig_backend *b, const char *scheme, size_t n)
{
	const char *const *s;

	for (s = b->schemes; s && *s; s++)
		if (strlen(*s) == n && !strncasecmp(*s, scheme, n))
			return 1;
	return 0;
}

static const struct mig_backend *file_backend(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(backends) && backends[i]->schemes; i++)
		;
	return i < ARRAY_SIZE(backends) ? backends[i] : NULL;
}

/*
 * The backend for addr. A URL of a database mig knows but was built
 * without is MIG_EENV; one of a scheme nobody knows is a file name, as
 * it always was.
 */
static int find(const char *addr, const struct mig_backend **out, struct mig_err *err)
{
	size_t n = scheme_len(addr), i;
	char *shown;

	for (i = 0; n && i < ARRAY_SIZE(backends); i++)
		if (serves(backends[i], addr, n)) {
			*out = backends[i];
			return 0;
		}
	for (i = 0; n && i < ARRAY_SIZE(known_schemes); i++)
		if (strlen(known_schemes[i].scheme) == n && !strncasecmp(known_schemes[i].scheme, addr, n)) {
			shown = mig_db_display_name(addr);
			mig_err_set(err, MIG_EENV, "database '%s': %s support is not built in", shown,
				    known_schemes[i].what);
			free(shown);
			return MIG_EENV;
		}
	if (!(*out = file_backend()))
		return mig_err_set(err, MIG_EENV, "database '%s': no backend for database files is built in", addr);
	return 0;
}

/* Append s[0..n) percent-decoded, which is how libpq reads a URL's parameters. */
static void add_decoded(struct mig_buf *b, const char *s, size_t n)
{
	const char *end = s + n;
	unsigned hi, lo;

	for (; s < end; s++)
		if (*s == '%' && end - s > 2 && sscanf(s + 1, "%1x%1x", &hi, &lo) == 2) {
			mig_buf_addc(b, (char)(hi << 4 | lo));
			s += 2;
		} else {
			mig_buf_addc(b, *s);
		}
}

/* Where a URL holds a password: offset and length. */
struct span {
	size_t off, len;
};

/*
 * Whether the parameter s[0..n) ("key=value") mentions a password
 * anywhere: the key may be "password", and libpq reads a whole
 * connection string from dbname's value.
 */
static int secret_param(const char *s, size_t n)
{
	struct mig_buf plain = MIG_BUF_INIT;
	int secret;

	add_decoded(&plain, s, n);
	secret = memchr(s, '=', n) && plain.buf && strcasestr(plain.buf, "password");
	mig_buf_release(&plain);
	return secret;
}

/*
 * The passwords in addr, in order: the user info's after its ':', the
 * value of each parameter that mentions one. *n: how many.
 */
static struct span *passwords(const char *addr, size_t *n)
{
	size_t len = scheme_len(addr), alloc = 0;
	const char *auth, *end, *at, *colon, *p;
	struct span *sp = NULL;

	*n = 0;
	if (!len)
		return NULL;
	auth = addr + len + 3;
	end = auth + strcspn(auth, "/?#");
	/* the last '@' of the authority ends the user info, "user:password" */
	for (at = NULL, p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon) {
		MIG_GROW(sp, *n + 1, alloc);
		sp[(*n)++] = (struct span){ (size_t)(colon + 1 - addr), (size_t)(at - colon - 1) };
	}
	p = end + strcspn(end, "?#");
	while (*p == '?' || *p == '&') {
		size_t plen = strcspn(p + 1, "&#");
		const char *eq = memchr(p + 1, '=', plen);

		if (secret_param(p + 1, plen)) {
			MIG_GROW(sp, *n + 1, alloc);
			sp[(*n)++] = (struct span){ (size_t)(eq + 1 - addr), (size_t)(p + 1 + plen - eq - 1) };
		}
		p += 1 + plen;
	}
	return sp;
}

char *mig_db_display_name(const char *addr)
{
	struct mig_buf b = MIG_BUF_INIT;
	size_t n, i, done = 0;
	struct span *sp = passwords(addr, &n);

	for (i = 0; i < n; i++) {
		mig_buf_add(&b, addr + done, sp[i].off - done);
		mig_buf_adds(&b, "***");
		done = sp[i].off + sp[i].len;
	}
	mig_buf_adds(&b, addr + done);
	free(sp);
	return mig_buf_detach(&b);
}

char *mig_db_hide_password(const char *addr, const char *text)
{
	size_t n, i;
	struct span *sp = passwords(addr, &n);
	char *out = mig_xstrdup(text);

	for (i = 0; i < n; i++) {
		struct mig_buf b = MIG_BUF_INIT;
		const char *p = out, *hit;
		char *secret = mig_xstrndup(addr + sp[i].off, sp[i].len);

		/* as a token ("SECRET") or in the URL (:SECRET@, =SECRET&): not a short one inside a word */
		for (hit = out; *secret && (hit = strstr(hit, secret));) {
			if (hit > out && strchr(":=\"", hit[-1]) && strchr("@&#\"", hit[sp[i].len])) {
				mig_buf_add(&b, p, (size_t)(hit - p));
				mig_buf_adds(&b, "***");
				hit = p = hit + sp[i].len;
			} else {
				hit++;
			}
		}
		mig_buf_adds(&b, p);
		free(secret);
		free(out);
		out = mig_buf_detach(&b);
	}
	free(sp);
	return out;
}

int mig_db_has_password(const char *addr)
{
	char *shown = mig_db_display_name(addr);
	int has = strcmp(shown, addr) != 0;

	free(shown);
	return has;
}

char *mig_db_store_name(const char *addr)
{
	size_t n = scheme_len(addr);
	const char *auth, *end, *at = NULL, *p, *name = NULL;
	struct mig_buf raw = MIG_BUF_INIT, b = MIG_BUF_INIT;
	struct passwd *pw;
	size_t i;

	if (!n)
		return mig_xasprintf("%s.mig", addr);
	auth = addr + n + 3;
	end = auth + strcspn(auth, "/?#");
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	/* libpq's order: the URL's database, PGDATABASE, the URL's user, PGUSER, the login name */
	if (*end == '/' && end[1 + strcspn(end + 1, "?#")] != end[1])
		add_decoded(&raw, end + 1, strcspn(end + 1, "?#"));
	else if ((name = getenv("PGDATABASE")) && *name)
		mig_buf_adds(&raw, name);
	else if (at && at > auth)
		add_decoded(&raw, auth, strcspn(auth, ":@"));
	else if ((name = getenv("PGUSER")) && *name)
		mig_buf_adds(&raw, name);
	else if ((pw = getpwuid(getuid())))
		mig_buf_adds(&raw, pw->pw_name);
	/* a name of the file system's safe letters: no '/', no leading '.', no control characters */
	for (i = 0; i < raw.len; i++) {
		char c = raw.buf[i];
		int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   c == '_' || c == '-' || (c == '.' && i > 0);

		mig_buf_addc(&b, safe ? c : '_');
	}
	if (!b.len)
		mig_buf_adds(&b, "postgres");
	mig_buf_adds(&b, ".mig");
	mig_buf_release(&raw);
	return mig_buf_detach(&b);
}

int mig_db_has_content(const char *addr, struct mig_db *db)
{
	const struct mig_backend *b;
	struct mig_err ignored = MIG_ERR_INIT;

	return find(addr, &b, &ignored) < 0 || b->has_content(addr, db);
}

int mig_db_is_url(const char *addr)
{
	return scheme_len(addr) > 0;
}

int mig_db_check(const char *addr, struct mig_err *err)
{
	const struct mig_backend *b;
	int rc;

	if ((rc = find(addr, &b, err)) < 0)
		return rc;
	return b->check ? b->check(addr, err) : 0;
}

int mig_db_exists(const char *addr)
{
	const struct mig_backend *b;
	struct mig_err ignored = MIG_ERR_INIT;

	return find(addr, &b, &ignored) == 0 && b->exists(addr);
}

int mig_db_open(struct mig_db **out, const char *path, int flags, int busy_ms,
		struct mig_err *err)
{
	const struct mig_backend *b;
	int rc;

	*out = NULL;
	if ((rc = find(path, &b, err)) < 0 || (rc = b->open(out, path, flags, busy_ms, err)) < 0)
		return rc;
	if (b->lock && !(flags & MIG_DB_READONLY) && (rc = b->lock(*out, busy_ms, err)) < 0) {
		mig_db_close(*out);
		*out = NULL;
	}
	return rc;
}

int mig_db_statement_lock_timeout(struct mig_db *db, int ms, struct mig_err *err)
{
	return db->ops->statement_lock_timeout ? db->ops->statement_lock_timeout(db, ms, err) : 0;
}

void mig_db_close(struct mig_db *db)
{
	if (db)
		db->ops->close(db);
}

int mig_db_open_replay(struct mig_db **out, struct mig_db *src, struct mig_err *err)
{
	const struct mig_backend *b = src ? src->ops : file_backend();

	*out = NULL;
	if (!b)
		return mig_err_set(err, MIG_EENV, "no backend for a scratch database is built in");
	return b->open_replay(out, src, NULL, err);
}

int mig_db_open_scratch(struct mig_db **out, const char *addr, struct mig_err *err)
{
	const struct mig_backend *b = NULL;
	int rc;

	*out = NULL;
	if (addr && (rc = find(addr, &b, err)) < 0)
		return rc;
	if (!b && !(b = file_backend()))
		return mig_err_set(err, MIG_EENV, "no backend for a scratch database is built in");
	return b->open_replay(out, NULL, addr, err);
}

int mig_db_exec(struct mig_db *db, const char *where, const char *sql, size_t len,
		int first_line, unsigned flags, struct mig_err *err)
{
	return db->ops->exec(db, where, sql, len, first_line, flags, err);
}

int mig_db_begin(struct mig_db *db, struct mig_err *err)
{
	return db->ops->begin(db, err);
}

int mig_db_commit(struct mig_db *db, struct mig_err *err)
{
	return db->ops->commit(db, err);
}

void mig_db_rollback(struct mig_db *db)
{
	db->ops->rollback(db);
}

int mig_db_in_transaction(struct mig_db *db)
{
	return db->ops->in_transaction(db);
}

int mig_db_defer_fks(struct mig_db *db, struct mig_err *err)
{
	return db->ops->defer_fks(db, err);
}

int mig_db_fk_check(struct mig_db *db, const char *where, struct mig_err *err)
{
	return db->ops->fk_check(db, where, err);
}

int mig_db_applied(struct mig_db *db, struct mig_applied_list *out, struct mig_err *err)
{
	return db->ops->applied(db, "app", out, err);
}

void mig_applied_list_release(struct mig_applied_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		free(l->v[i].name);
		free(l->v[i].applied_at);
		free(l->v[i].schema_hash);
	}
	free(l->v);
	l->v = NULL;
	l->nr = 0;
}

int mig_db_record(struct mig_db *db, const char *scope, const char *name,
		  const char *id, long long duration_ms, int dirty, struct mig_err *err)
{
	return db->ops->record(db, scope, name, id, duration_ms, dirty, err);
}

int mig_db_update(struct mig_db *db, const char *scope, const char *name, const char *id,
		  int dirty, struct mig_err *err)
{
	return db->ops->update(db, scope, name, id, dirty, err);
}

/* one setting for the whole process, as its other settings are: every connection it opens uses it */
static char *schema_setting;

void mig_db_set_schema(const char *name)
{
	free(schema_setting);
	schema_setting = name ? mig_xstrdup(name) : NULL;
}

const char *mig_db_schema_name(void)
{
	return schema_setting ? schema_setting : "mig";
}

const char *mig_db_name(const struct mig_db *db)
{
	return db->name;
}

int mig_db_set_applied_at(struct mig_db *db, const char *scope, const char *name, const char *at,
			  struct mig_err *err)
{
	return db->ops->set_applied_at(db, scope, name, at, err);
}

int mig_db_unrecord(struct mig_db *db, const char *scope, const char *name, struct mig_err *err)
{
	return db->ops->unrecord(db, scope, name, err);
}

int mig_db_set_schema_hash(struct mig_db *db, const char *hash, struct mig_err *err)
{
	return db->ops->set_schema_hash(db, hash, err);
}

int mig_db_schema(struct mig_db *db, struct mig_buf *out, struct mig_err *err)
{
	return db->ops->schema(db, out, err);
}

int mig_db_schema_key(struct mig_db *db, char out[33], struct mig_err *err)
{
	return db->ops->schema_key(db, out, err);
}

int mig_db_dump_schema(struct mig_db *db, struct mig_buf *out, struct mig_err *err)
{
	return db->ops->dump_schema(db, out, err);
}

int mig_db_schema_sql(struct mig_db *db, struct mig_buf *out, struct mig_err *err)
{
	return db->ops->schema_sql(db, out, err);
}

/*
 * The dialect helpers: db's, and without one (sqlshow prints for a
 * database that may not exist yet) that of database files.
 */
static const struct mig_backend *dialect(struct mig_db *db)
{
	return db ? db->ops : file_backend();
}

int mig_sql_complete(struct mig_db *db, const char *sql, size_t len)
{
	return dialect(db)->sql_complete(sql, len);
}

void mig_db_step_sql(struct mig_db *db, struct mig_buf *b, enum mig_db_step step, const struct mig_db_row *v)
{
	dialect(db)->step_sql(b, step, v);
}

/* A bookkeeping revision's SQL as the backend runs it. */
static void bookkeeping_text(const struct mig_backend *b, struct mig_buf *out, const struct mig_rev *rev)
{
	if (b->bookkeeping_sql)
		b->bookkeeping_sql(out, rev->up.sql, rev->up.len);
	else
		mig_buf_add(out, rev->up.sql, rev->up.len);
}

static int apply_bookkeeping(struct mig_db *db, struct mig_rev *rev, struct mig_err *err)
{
	struct mig_buf sql = MIG_BUF_INIT;
	int rc;

	if ((rc = mig_db_begin(db, err)) < 0)
		return rc;
	bookkeeping_text(db->ops, &sql, rev);
	if ((rc = mig_db_exec(db, rev->path, sql.buf ? sql.buf : "", sql.len, rev->up.line, MIG_EXEC_BOOKKEEPING,
			       err)) < 0 ||
	    (rc = mig_db_record(db, "mig", rev->name, rev->id, 0, 0, err)) < 0 ||
	    (rc = mig_db_commit(db, err)) < 0) {
		mig_db_rollback(db);
		mig_buf_release(&sql);
		/* mig's own SQL does not fail: what the database lets it do does */
		if (rc == MIG_ESQL) {
			err->code = rc = MIG_EENV;
			if (!err->hint[0])
				mig_err_hint(err, "mig keeps its own records in the database: the role must be allowed to make them there");
		}
		return rc;
	}
	mig_buf_release(&sql);
	return 0;
}

int mig_db_bookkeeping(struct mig_db *db, struct mig_err *err)
{
	const struct mig_memfile *files = db->ops->bookkeeping;
	const size_t nr = *db->ops->bookkeeping_nr;
	struct mig_applied_list done = { NULL, 0 };
	struct mig_graph *g = NULL;
	size_t i, j;
	int rc;

	if ((rc = db->ops->applied(db, "mig", &done, err)) < 0)
		goto out;
	/* names suffice to know the bookkeeping is ours: no graph, no hashing, no libgit2 */
	for (i = 0; i < done.nr; i++) {
		for (j = 0; j < nr && strcmp(done.v[i].name, files[j].name); j++)
			;
		if (j == nr) {
			rc = mig_err_set(err, MIG_EENV,
					 "database '%s' has bookkeeping from a newer mig (revision '%s')",
					 db->name, done.v[i].name);
			mig_err_hint(err, "upgrade mig to work with this database");
			goto out;
		}
	}
	if (db->readonly || done.nr == nr)
		goto out;
	if ((rc = mig_graph_load_mem(&g, files, nr, err)) < 0)
		goto out;
	for (i = 0; i < g->nr; i++) {
		struct mig_rev *rev = g->revs[g->topo[i]];

		for (j = 0; j < done.nr && strcmp(done.v[j].name, rev->name); j++)
			;
		if (j == done.nr && (rc = apply_bookkeeping(db, rev, err)) < 0)
			goto out;
	}
out:
	mig_applied_list_release(&done);
	mig_graph_free(g);
	return rc;
}

int mig_db_bookkeeping_sql(struct mig_db *db, struct mig_buf *out, struct mig_err *err)
{
	const struct mig_backend *b = db ? db->ops : file_backend();
	struct mig_applied_list done = { NULL, 0 };
	struct mig_graph *g = NULL;
	size_t i, j;
	int rc;

	if ((rc = mig_graph_load_mem(&g, b->bookkeeping, *b->bookkeeping_nr, err)) < 0 ||
	    (db && (rc = b->applied(db, "mig", &done, err)) < 0))
		goto out;
	for (i = 0; i < g->nr; i++) {
		struct mig_rev *rev = g->revs[g->topo[i]];

		for (j = 0; j < done.nr && strcmp(done.v[j].name, rev->name); j++)
			;
		if (j < done.nr)
			continue;
		struct mig_db_row v = { "mig", rev->name, rev->id, 0, 0, NULL, NULL };

		mig_buf_addf(out, "-- mig's bookkeeping: %s\n", rev->name);
		b->step_sql(out, MIG_STEP_BEGIN, &v);
		bookkeeping_text(b, out, rev);
		b->step_sql(out, MIG_STEP_RECORD, &v);
		b->step_sql(out, MIG_STEP_COMMIT, &v);
		mig_buf_addc(out, '\n');
	}
out:
	mig_applied_list_release(&done);
	mig_graph_free(g);
	return rc;
}

int mig_db_journal_add(struct mig_db *db, const char *run, const char *op, const char *name, const char *id,
		       long long ms, const char *snapshot, struct mig_err *err)
{
	return db->ops->journal_add(db, run, op, name, id, ms, snapshot, err);
}

int mig_db_journal_pending(struct mig_db *db, struct mig_journal_rows *out, struct mig_err *err)
{
	memset(out, 0, sizeof(*out));
	return db->ops->journal_pending(db, out, err);
}

int mig_db_journal_count(struct mig_db *db, size_t *n, struct mig_err *err)
{
	*n = 0;
	return db->ops->journal_count(db, n, err);
}

int mig_db_journal_clear(struct mig_db *db, struct mig_err *err)
{
	return db->ops->journal_clear(db, err);
}

void mig_journal_rows_release(struct mig_journal_rows *rows)
{
	size_t i;

	for (i = 0; i < rows->nr; i++) {
		free(rows->v[i].run);
		free(rows->v[i].op);
		free(rows->v[i].name);
		free(rows->v[i].id);
		free(rows->v[i].snapshot);
	}
	free(rows->v);
	memset(rows, 0, sizeof(*rows));
}

/* What another tool's bookkeeping says is applied, read as q says (layout.c's table). */
int mig_db_foreign(struct mig_db *db, const char *tool, const struct mig_foreign_query *q, struct mig_foreign *out,
		   struct mig_err *err)
{
	char why[MIG_ERR_MSG];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = db->ops->foreign(db, q->sql, out, err);
	/* a query the database cannot run: no such table, or not of that tool's shape */
	if (rc == MIG_ESQL) {
		memcpy(why, err->msg, sizeof(why));
		rc = mig_err_set(err, MIG_EUSAGE, "database '%s' has no %s bookkeeping (table %s): %s", db->name,
				 tool, q->table, why);
	}
	if (rc < 0) {
		mig_foreign_release(out);
		return rc;
	}
	out->upto = q->upto && out->nr;
	/* golang-migrate's dirty: a boolean on PostgreSQL, 0 or 1 in SQLite */
	if (out->upto && out->second && out->second[0])
		out->dirty = !strcmp(out->second[0], "1") || !strcmp(out->second[0], "t") ||
			     !strcmp(out->second[0], "true");
	return 0;
}

void mig_foreign_release(struct mig_foreign *f)
{
	size_t i;

	for (i = 0; i < f->nr; i++) {
		free(f->v[i]);
		if (f->second)
			free(f->second[i]);
	}
	free(f->v);
	free(f->second);
	memset(f, 0, sizeof(*f));
}

/* The backend of path, when it can take and restore snapshots. */
static int find_imaging(const char *path, const struct mig_backend **b, struct mig_err *err)
{
	char *shown;
	int rc;

	if ((rc = find(path, b, err)) < 0 || ((*b)->image_read && (*b)->image_write))
		return rc;
	shown = mig_db_display_name(path);
	mig_err_set(err, MIG_EENV, "database '%s': snapshots of %s databases are not built yet", shown,
		    !strcmp((*b)->name, "postgres") ? "PostgreSQL" : (*b)->name);
	mig_err_hint(err, "use the database's own tools (pg_dump); run with --no-backup, or set mig.backup = false");
	free(shown);
	return MIG_EENV;
}

int mig_image_check(const char *path, struct mig_err *err)
{
	const struct mig_backend *b;

	return find_imaging(path, &b, err);
}

int mig_image_read(const char *path, int timeout_ms, const struct mig_image_sink *sink,
		   uint32_t *page_size, uint64_t *size, struct mig_err *err)
{
	const struct mig_backend *b;
	int rc;

	if ((rc = find_imaging(path, &b, err)) < 0)
		return rc;
	return b->image_read(path, timeout_ms, sink, page_size, size, err);
}

int mig_image_import(const char *path, const struct mig_image_stream *in, const struct mig_image_sink *sink,
		     uint32_t *page_size, uint64_t *size, struct mig_err *err)
{
	const struct mig_backend *b;
	int rc;

	if ((rc = find_imaging(path, &b, err)) < 0)
		return rc;
	return b->image_import ? b->image_import(in, sink, page_size, size, err) : 1;
}

int mig_image_write(const char *path, int timeout_ms, const struct mig_image_source *src,
		    struct mig_err *err)
{
	const struct mig_backend *b;
	int rc;

	if ((rc = find_imaging(path, &b, err)) < 0)
		return rc;
	return b->image_write(path, timeout_ms, src, err);
}
