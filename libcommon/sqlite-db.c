/*
 * The SQLite backend: a database file (or ":memory:") through SQLite's
 * C API. The ops table at the end is all that db.c sees of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <xxhash.h>

#include "sqlite-db.h"
#include "sqlite-diagnose.h"
#include "util.h"

extern const struct mig_memfile mig_bookkeeping_files[];
extern const unsigned long mig_bookkeeping_nr;

/*
 * A connection: the seam's part first. In a dry run (base.dry),
 * everything is in one transaction that close rolls back.
 */
struct sqlite_db {
	struct mig_db base;
	sqlite3 *h;
};

/* The connection behind a handle of the seam (an lvalue: open assigns it). */
#define H(db) (((struct sqlite_db *)(db))->h)

static int simple(struct mig_db *db, const char *sql, struct mig_err *err);
static void sqlite_close(struct mig_db *db);

void mig_sqlite_setup(void)
{
	static int done;

	if (done++)
		return;
	/*
	 * mig never asks how much memory SQLite holds; without the count,
	 * every allocation skips a mutex and a size lookup, which is 8% of
	 * a status that parses a schema of a few thousand objects.
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int db_error(struct mig_db *db, int code, const char *what, struct mig_err *err)
{
	return mig_err_set(err, code, "%s '%s': %s", what, db->name, sqlite3_errmsg(H(db)));
}

/* Another connection held the database all the time we would wait. */
static int busy_error(struct mig_db *db, int busy_ms, struct mig_err *err)
{
	mig_err_set(err, MIG_EENV, "database '%s' is locked by another process: it stayed locked for %d ms",
		    db->name, busy_ms);
	mig_err_hint(err, "wait for it to finish, or raise --lock-timeout or mig.lockTimeout");
	return MIG_EENV;
}

/*
 * Open db->name and read its schema, so "not a database" is reported as
 * such. Returns SQLite's result code, with *what the step that failed;
 * the handle is in H(db) either way.
 */
static int open_touch(struct mig_db *db, int oflags, int busy_ms, const char **what)
{
	*what = "cannot open database";
	if (sqlite3_open_v2(db->name, &H(db), oflags, NULL) != SQLITE_OK)
		return sqlite3_extended_errcode(H(db));
	sqlite3_extended_result_codes(H(db), 1);
	sqlite3_busy_timeout(H(db), busy_ms);
	*what = "cannot read database";
	if (sqlite3_exec(H(db), "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK)
		return sqlite3_extended_errcode(H(db));
	return SQLITE_OK;
}

/*
 * A writer that died mid-transaction left a hot journal, which only a
 * read-write connection can roll back: open one (never creating the
 * file), let reading the schema roll it back, and close it.
 */
static int roll_back_hot_journal(struct mig_db *db, int busy_ms, struct mig_err *err)
{
	struct sqlite_db rw = { { NULL, db->name, 0, 0 }, NULL };
	const char *what;
	int rc = 0, r = open_touch(&rw.base, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, busy_ms, &what);

	if ((r & 0xff) == SQLITE_BUSY) {
		rc = busy_error(db, busy_ms, err);
	} else if (r != SQLITE_OK) {
		rc = mig_err_set(err, MIG_EENV, "database '%s' has a hot journal left by an interrupted write,"
				 " and it cannot be rolled back: %s", db->name, sqlite3_errmsg(rw.h));
		mig_err_hint(err, "run mig once as a user who can write '%s' and its directory", db->name);
	}
	sqlite3_close(rw.h);
	return rc;
}

static int sqlite_open(struct mig_db **out, const char *path, int flags, int busy_ms,
		       struct mig_err *err)
{
	struct sqlite_db *s = mig_xcalloc(1, sizeof(*s));
	struct mig_db *db = &s->base;
	int oflags = SQLITE_OPEN_NOMUTEX;
	const char *what;
	int rc = 0, r;

	mig_sqlite_setup();
	db->ops = &mig_sqlite_backend;
	db->name = mig_xstrdup(path);
	db->readonly = !!(flags & MIG_DB_READONLY);
	db->dry = !!(flags & MIG_DB_DRYRUN);
	if (db->readonly)
		oflags |= SQLITE_OPEN_READONLY;
	else
		oflags |= SQLITE_OPEN_READWRITE | ((flags & MIG_DB_CREATE) ? SQLITE_OPEN_CREATE : 0);
	r = open_touch(db, oflags, busy_ms, &what);
	/* only then: a database in good order costs no second open */
	if (r == SQLITE_READONLY_ROLLBACK) {
		sqlite3_close(H(db));
		H(db) = NULL;
		if ((rc = roll_back_hot_journal(db, busy_ms, err)) < 0)
			goto out;
		r = open_touch(db, oflags, busy_ms, &what);
	}
	if ((r & 0xff) == SQLITE_BUSY) {
		rc = busy_error(db, busy_ms, err);
		goto out;
	}
	if (r != SQLITE_OK) {
		rc = db_error(db, MIG_EENV, what, err);
		goto out;
	}
	/* SQLite quietly opens a file it cannot write read-only: say so now, not as a failing revision */
	if (!db->readonly && sqlite3_db_readonly(H(db), "main") == 1) {
		rc = mig_err_set(err, MIG_EENV, "database '%s' is read-only", path);
		goto out;
	}
	if (db->dry && sqlite3_exec(H(db), "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		rc = (sqlite3_extended_errcode(H(db)) & 0xff) == SQLITE_BUSY ? busy_error(db, busy_ms, err) :
		     mig_err_set(err, MIG_EENV, "BEGIN IMMEDIATE on '%s': %s", path, sqlite3_errmsg(H(db)));
out:
	if (rc < 0) {
		sqlite_close(db);
		db = NULL;
	}
	*out = db;
	return rc;
}

static void sqlite_close(struct mig_db *db)
{
	if (db->dry && !sqlite3_get_autocommit(H(db)))
		sqlite3_exec(H(db), "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(H(db));
	free(db->name);
	free((struct sqlite_db *)db);
}

static int has_bookkeeping(struct mig_db *db, int *out, struct mig_err *err)
{
	/* a lookup in the schema SQLite has parsed, not a scan of sqlite_schema */
	int rc = sqlite3_table_column_metadata(H(db), "main", "mig_revisions", NULL,
					       NULL, NULL, NULL, NULL, NULL);

	*out = rc == SQLITE_OK;
	if (rc != SQLITE_OK && rc != SQLITE_ERROR)
		return db_error(db, MIG_EENV, "cannot read database", err);
	/* a table of that name that someone else made: say so, not "no such column" */
	if (*out && sqlite3_table_column_metadata(H(db), "main", "mig_revisions", "scope", NULL, NULL, NULL,
						  NULL, NULL) != SQLITE_OK) {
		mig_err_set(err, MIG_EENV, "database '%s' has a table 'mig_revisions' that is not mig's bookkeeping",
			    db->name);
		mig_err_hint(err, "mig keeps its records in mig_revisions: rename that table, or use another database");
		return MIG_EENV;
	}
	return 0;
}

static int sqlite_applied(struct mig_db *db, const char *scope, struct mig_applied_list *out,
			struct mig_err *err)
{
	sqlite3_stmt *st = NULL;
	size_t alloc = 0;
	int present = 0, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = has_bookkeeping(db, &present, err)) < 0 || !present)
		return rc;
	/* 'app' is nearly every row, read in seq (rowid) order; 'mig' a few, found by the index */
	if (sqlite3_prepare_v2(H(db), strcmp(scope, "app") ?
			       "SELECT name, id, applied_at, duration_ms, schema_hash, dirty, seq"
			       " FROM mig_revisions WHERE scope = ? ORDER BY seq" :
			       "SELECT name, id, applied_at, duration_ms, schema_hash, dirty, seq"
			       " FROM mig_revisions WHERE +scope = ? ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return db_error(db, MIG_EENV, "cannot read bookkeeping of", err);
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mig_applied *a;
		const char *hash = (const char *)sqlite3_column_text(st, 4), *id;

		MIG_GROW(out->v, out->nr + 1, alloc);
		a = &out->v[out->nr++];
		memset(a, 0, sizeof(*a));
		a->name = mig_xstrdup((const char *)sqlite3_column_text(st, 0));
		if ((id = (const char *)sqlite3_column_text(st, 1)))
			memcpy(a->id, id, strnlen(id, sizeof(a->id) - 1));
		a->applied_at = mig_xstrdup((const char *)sqlite3_column_text(st, 2));
		a->duration_ms = sqlite3_column_int64(st, 3);
		a->schema_hash = hash ? mig_xstrdup(hash) : NULL;
		a->dirty = sqlite3_column_int(st, 5);
		a->seq = sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		mig_applied_list_release(out);
		return db_error(db, MIG_EENV, "cannot read bookkeeping of", err);
	}
	return 0;
}

/* What a revision's statements may not do, and why the last refusal was made. */
struct guard {
	unsigned flags;
	char why[160];
	char table[32];
};

/* mig's own table that name is, however cased, or NULL */
static const char *bookkeeping_table(const char *name)
{
	static const char *const tables[] = { "mig_revisions", "mig_journal" };
	size_t i;

	for (i = 0; name && i < sizeof(tables) / sizeof(*tables); i++)
		if (!sqlite3_stricmp(name, tables[i]))
			return tables[i];
	return NULL;
}

/*
 * The authorizer that runs while a revision's statements are prepared:
 * it sees every statement as SQLite parsed it (comments, case, quoting,
 * the body of every trigger it fires), so no spelling gets past it.
 */
static int guard_cb(void *arg, int action, const char *a1, const char *a2, const char *dbname,
		    const char *trigger)
{
	struct guard *g = arg;
	const char *table = NULL;

	(void)trigger;
	switch (action) {
	case SQLITE_TRANSACTION:
	case SQLITE_SAVEPOINT:
		if (g->flags & MIG_EXEC_OWN_TX)
			return SQLITE_OK;
		if (action == SQLITE_SAVEPOINT)
			a1 = !a1 ? "SAVEPOINT" : !strcmp(a1, "BEGIN") ? "SAVEPOINT" :
			     !strcmp(a1, "ROLLBACK") ? "ROLLBACK TO" : a1;
		snprintf(g->why, sizeof(g->why), "%s", a1 ? a1 : "transaction control");
		return SQLITE_DENY;
	case SQLITE_CREATE_TABLE: case SQLITE_CREATE_TEMP_TABLE:
	case SQLITE_CREATE_VIEW: case SQLITE_CREATE_TEMP_VIEW:
	case SQLITE_DROP_TABLE: case SQLITE_DROP_TEMP_TABLE:
	case SQLITE_DROP_VIEW: case SQLITE_DROP_TEMP_VIEW:
	case SQLITE_CREATE_VTABLE: case SQLITE_DROP_VTABLE:
	case SQLITE_INSERT: case SQLITE_UPDATE: case SQLITE_DELETE:
		table = a1;
		break;
	case SQLITE_CREATE_INDEX: case SQLITE_CREATE_TEMP_INDEX:
	case SQLITE_CREATE_TRIGGER: case SQLITE_CREATE_TEMP_TRIGGER:
	case SQLITE_DROP_INDEX: case SQLITE_DROP_TEMP_INDEX:
	case SQLITE_DROP_TRIGGER: case SQLITE_DROP_TEMP_TRIGGER:
	case SQLITE_ALTER_TABLE:
		table = a2;
		break;
	}
	/* VACUUM copies every table, the bookkeeping too, into "vacuum_db" */
	if (!(g->flags & MIG_EXEC_BOOKKEEPING) && (table = bookkeeping_table(table)) &&
	    (!dbname || !strcmp(dbname, "main") || !strcmp(dbname, "temp"))) {
		snprintf(g->why, sizeof(g->why), "bookkeeping");
		snprintf(g->table, sizeof(g->table), "%s", table);
		return SQLITE_DENY;
	}
	return SQLITE_OK;
}

/* Errors that say nothing about the revision's SQL, and everything about the machine. */
static int env_fault(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL: case SQLITE_IOERR: case SQLITE_NOMEM: case SQLITE_CANTOPEN:
	case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_BUSY: case SQLITE_LOCKED:
	case SQLITE_READONLY: case SQLITE_PROTOCOL: case SQLITE_NOLFS:
		return 1;
	}
	return 0;
}

static int refused(struct mig_err *err, const char *where, int line, const struct guard *g)
{
	if (!strcmp(g->why, "bookkeeping")) {
		mig_err_set(err, MIG_ESQL, "%s:%d: %s is mig's bookkeeping: a revision may read it, "
			    "not change it", where, line, g->table);
		mig_err_hint(err, "to change what is recorded as applied, use 'mig fake'");
	} else {
		mig_err_set(err, MIG_ESQL, "%s:%d: %s: a revision may not end or begin a transaction: "
			    "mig runs each in its own", where, line, g->why);
		mig_err_hint(err, "to manage transactions yourself, mark the revision '-- mig:no-transaction'");
	}
	return MIG_ESQL;
}

static int sqlite_exec(struct mig_db *db, const char *where, const char *sql, size_t len,
		int first_line, unsigned flags, struct mig_err *err)
{
	/*
	 * SQLite copies a statement's text unless it sees the terminating
	 * NUL within the length it is given: without one, preparing each
	 * statement would copy the rest of the script, and a revision of
	 * n statements would cost n^2. One copy, NUL-terminated, up front.
	 */
	char *text = mig_xstrndup(sql, len);
	const char *p = text, *end = text + len;
	struct guard g = { flags, "", "" };
	int line = first_line, ret = 0, in_tx = !sqlite3_get_autocommit(H(db));

	sqlite3_set_authorizer(H(db), guard_cb, &g);
	while (p < end) {
		const char *start = mig_sql_skip_space(p, end), *tail = NULL;
		sqlite3_stmt *st = NULL;
		int rc;

		line += mig_count_lines(p, start);
		if (start == end)
			break;
		g.why[0] = '\0';
		rc = sqlite3_prepare_v2(H(db), start, (int)(end - start) + 1, &st, &tail);
		if (rc == SQLITE_AUTH && g.why[0]) {
			ret = refused(err, where, line, &g);
			break;
		}
		if (rc == SQLITE_OK && st) {
			while ((rc = sqlite3_step(st)) == SQLITE_ROW)
				;
			if (rc == SQLITE_DONE)
				rc = SQLITE_OK;
		}
		if (rc != SQLITE_OK) {
			ret = env_fault(sqlite3_extended_errcode(H(db))) ? MIG_EENV : MIG_ESQL;
			mig_err_set(err, ret, "%s:%d: %s", where, line, sqlite3_errmsg(H(db)));
			if ((rc & 0xff) == SQLITE_CONSTRAINT) {
				sqlite3_set_authorizer(H(db), NULL, NULL);
				mig_diagnose(H(db), start, tail && tail > start ? (size_t)(tail - start) :
					     (size_t)(end - start), err);
			}
			sqlite3_finalize(st);
			break;
		}
		sqlite3_finalize(st);
		/* the guard stops every way out of the transaction; this is the proof */
		if (in_tx && !(flags & MIG_EXEC_OWN_TX) && sqlite3_get_autocommit(H(db))) {
			ret = mig_err_set(err, MIG_EENV, "%s:%d: the statement ended mig's transaction", where, line);
			break;
		}
		if (!tail || tail <= start)
			break;
		line += mig_count_lines(start, tail);
		p = tail;
	}
	sqlite3_set_authorizer(H(db), NULL, NULL);
	free(text);
	return ret;
}

static int simple(struct mig_db *db, const char *sql, struct mig_err *err)
{
	if (sqlite3_exec(H(db), sql, NULL, NULL, NULL) != SQLITE_OK)
		return mig_err_set(err, MIG_EENV, "%s on '%s': %s", sql, db->name,
				   sqlite3_errmsg(H(db)));
	return 0;
}

/*
 * mig's bookkeeping statements, written once: run with the values
 * bound (?1 scope, ?2 name, ?3 id, ?4 duration, ?5 dirty, ?6 schema
 * hash, ?7 applied time), and shown by sqlshow with the values written in, so that
 * 'mig sqlshow | sqlite3' records what mig records.
 */
static const char *const step_sql[] = {
	[MIG_STEP_BEGIN] = "BEGIN IMMEDIATE",
	[MIG_STEP_DEFER_FKS] = "PRAGMA defer_foreign_keys = ON",
	[MIG_STEP_FK_CHECK] = "PRAGMA foreign_key_check",
	[MIG_STEP_RECORD] = "INSERT OR REPLACE INTO mig_revisions (scope, name, id, applied_at, duration_ms, dirty)"
			    " VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?4, ?5)",
	[MIG_STEP_UPDATE] = "UPDATE mig_revisions SET id = coalesce(?3, id), dirty = ?5 WHERE scope = ?1 AND name = ?2",
	[MIG_STEP_UNRECORD] = "DELETE FROM mig_revisions WHERE scope = ?1 AND name = ?2",
	[MIG_STEP_SCHEMA_HASH] = "UPDATE mig_revisions SET schema_hash = ?6 WHERE seq ="
				 " (SELECT max(seq) FROM mig_revisions WHERE scope = 'app')",
	[MIG_STEP_COMMIT] = "COMMIT",
	[MIG_STEP_APPLIED_AT] = "UPDATE mig_revisions SET applied_at = ?7 WHERE scope = ?1 AND name = ?2",
};

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Run a bookkeeping step with v's values bound. */
static int run_step(struct mig_db *db, enum mig_db_step step, const struct mig_db_row *v, struct mig_err *err)
{
	sqlite3_stmt *st = NULL;
	int i, rc;

	if (sqlite3_prepare_v2(H(db), step_sql[step], -1, &st, NULL) != SQLITE_OK)
		return db_error(db, MIG_EENV, "cannot record in", err);
	for (i = 1; i <= sqlite3_bind_parameter_count(st); i++)
		switch (i) {
		case 1: bind_text(st, i, v->scope); break;
		case 2: bind_text(st, i, v->name); break;
		case 3: bind_text(st, i, v->id); break;
		case 4: sqlite3_bind_int64(st, i, v->ms); break;
		case 5: sqlite3_bind_int(st, i, v->dirty); break;
		case 6: bind_text(st, i, v->hash); break;
		case 7: bind_text(st, i, v->at); break;
		}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(db, MIG_EENV, "cannot record in", err);
	return 0;
}

static void quote_or_null(struct mig_buf *b, const char *s)
{
	if (s)
		mig_sql_add_literal(b, s);
	else
		mig_buf_adds(b, "NULL");
}

/* The step as SQL text, v's values written in where it binds them. */
static void sqlite_step_sql(struct mig_buf *b, enum mig_db_step step, const struct mig_db_row *v)
{
	const char *p = step_sql[step];

	for (; *p; p++) {
		if (*p != '?' || p[1] < '1' || p[1] > '7') {
			mig_buf_addc(b, *p);
			continue;
		}
		switch (*++p) {
		case '1': quote_or_null(b, v->scope); break;
		case '2': quote_or_null(b, v->name); break;
		case '3': quote_or_null(b, v->id); break;
		case '4': mig_buf_addf(b, "%lld", v->ms); break;
		case '5': mig_buf_addf(b, "%d", v->dirty); break;
		case '6': quote_or_null(b, v->hash); break;
		case '7': quote_or_null(b, v->at); break;
		}
	}
	mig_buf_adds(b, ";\n");
}

static int sqlite_begin(struct mig_db *db, struct mig_err *err)
{
	return simple(db, db->dry ? "SAVEPOINT mig_revision" : step_sql[MIG_STEP_BEGIN], err);
}

static int sqlite_commit(struct mig_db *db, struct mig_err *err)
{
	return simple(db, db->dry ? "RELEASE mig_revision" : step_sql[MIG_STEP_COMMIT], err);
}

static int sqlite_in_transaction(struct mig_db *db)
{
	return !db->dry && !sqlite3_get_autocommit(H(db));
}

static void sqlite_rollback(struct mig_db *db)
{
	if (db->dry)
		sqlite3_exec(H(db), "ROLLBACK TO mig_revision; RELEASE mig_revision", NULL, NULL, NULL);
	else if (!sqlite3_get_autocommit(H(db)))
		sqlite3_exec(H(db), "ROLLBACK", NULL, NULL, NULL);
}

static int sqlite_update(struct mig_db *db, const char *scope, const char *name, const char *id,
		  int dirty, struct mig_err *err)
{
	struct mig_db_row v = { scope, name, id, 0, dirty, NULL, NULL };

	return run_step(db, MIG_STEP_UPDATE, &v, err);
}

static int sqlite_schema(struct mig_db *db, struct mig_buf *out, struct mig_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* mig's own tables and SQLite's internal ones are not the project's schema */
	if (sqlite3_prepare_v2(H(db), "SELECT type, name, sql FROM sqlite_schema"
			       " WHERE sql IS NOT NULL AND name NOT LIKE 'mig\\_%' ESCAPE '\\'"
			       " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(db, MIG_EENV, "cannot read the schema of", err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mig_buf_addf(out, "%s %s: ", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
		mig_sql_normalize(out, (const char *)sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
		mig_buf_addc(out, '\n');
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(db, MIG_EENV, "cannot read the schema of", err);
	return 0;
}

static int sqlite_schema_key(struct mig_db *db, char out[33], struct mig_err *err)
{
	struct mig_buf b = MIG_BUF_INIT;
	XXH128_canonical_t c;
	sqlite3_stmt *st = NULL;
	int rc, i;

	if (sqlite3_prepare_v2(H(db), "SELECT type, name, sql FROM sqlite_schema", -1, &st, NULL) != SQLITE_OK)
		return db_error(db, MIG_EENV, "cannot read the schema of", err);
	/* each value with its NUL, so that no two rows run together alike; NULL as "\1" */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (i = 0; i < 3; i++) {
			const char *v = (const char *)sqlite3_column_text(st, i);

			mig_buf_add(&b, v ? v : "\1", (size_t)sqlite3_column_bytes(st, i) + 1);
		}
	sqlite3_finalize(st);
	XXH128_canonicalFromHash(&c, XXH3_128bits(b.buf ? b.buf : "", b.len));
	mig_buf_release(&b);
	for (i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", c.digest[i]);
	return rc == SQLITE_DONE ? 0 : db_error(db, MIG_EENV, "cannot read the schema of", err);
}

static int sqlite_set_schema_hash(struct mig_db *db, const char *hash, struct mig_err *err)
{
	struct mig_db_row v = { NULL, NULL, NULL, 0, 0, hash, NULL };

	return run_step(db, MIG_STEP_SCHEMA_HASH, &v, err);
}

static int sqlite_record(struct mig_db *db, const char *scope, const char *name,
		  const char *id, long long duration_ms, int dirty, struct mig_err *err)
{
	struct mig_db_row v = { scope, name, id, duration_ms, dirty, NULL, NULL };

	return run_step(db, MIG_STEP_RECORD, &v, err);
}

/* The columns of foreign key fkid of child, and the parent's columns they name. */
struct fk_cols {
	struct mig_buf from, to;	/* "a", "b": as SQL, "\"a\", \"b\"" and "a, b" for a message */
	size_t n;
};

static int fk_columns(struct mig_db *db, const char *child, const char *parent, long long fkid,
		      struct fk_cols *c)
{
	sqlite3_stmt *st = NULL;
	char *q = sqlite3_mprintf("SELECT \"from\", \"to\" FROM pragma_foreign_key_list(%Q) WHERE id = %lld"
				  " ORDER BY seq", child, fkid);
	int rc = SQLITE_ERROR, no_to = 0;

	if (q && sqlite3_prepare_v2(H(db), q, -1, &st, NULL) == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *from = (const char *)sqlite3_column_text(st, 0);
			const char *to = (const char *)sqlite3_column_text(st, 1);
			char *w = sqlite3_mprintf("%s\"%w\"", c->n ? ", " : "", from ? from : "");

			mig_buf_adds(&c->from, w ? w : "");
			sqlite3_free(w);
			if (to)
				mig_buf_addf(&c->to, "%s%s", c->n ? ", " : "", to);
			else
				no_to = 1;
			c->n++;
		}
	}
	sqlite3_finalize(st);
	sqlite3_free(q);
	/* REFERENCES parent without columns: the parent's primary key */
	if (rc == SQLITE_DONE && no_to) {
		mig_buf_release(&c->to);
		q = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q) WHERE pk > 0 ORDER BY pk", parent);
		if (q && sqlite3_prepare_v2(H(db), q, -1, &st, NULL) == SQLITE_OK)
			while (sqlite3_step(st) == SQLITE_ROW)
				mig_buf_addf(&c->to, "%s%s", c->to.len ? ", " : "", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		sqlite3_free(q);
	}
	return rc == SQLITE_DONE && c->n ? 0 : -1;
}

/* Column values as SQL writes them: text quoted, numbers as they are; "(a, b)" when several. */
static void add_values(struct mig_buf *out, sqlite3_stmt *st, int from, int n)
{
	int j;

	if (n > 1)
		mig_buf_addc(out, '(');
	for (j = from; j < from + n; j++) {
		char *v = sqlite3_column_type(st, j) == SQLITE_TEXT ? sqlite3_mprintf("%Q", sqlite3_column_text(st, j)) :
								      sqlite3_mprintf("%s", sqlite3_column_text(st, j));

		mig_buf_addf(out, "%s%s", j > from ? ", " : "", v ? v : "");
		sqlite3_free(v);
	}
	if (n > 1)
		mig_buf_addc(out, ')');
}

/* key into out, after a comma, unless seen holds it (framed by newlines) already */
static void add_key_once(struct mig_buf *out, struct mig_buf *seen, const char *key)
{
	char *framed = mig_xasprintf("\n%s\n", key);

	if (!seen->buf || !strstr(seen->buf, framed)) {
		mig_buf_adds(seen, framed + (seen->len ? 1 : 0));
		mig_buf_addf(out, "%s%s", out->len ? ", " : "", key);
	}
	free(framed);
}

/*
 * The missing parent keys the sample rows of child hold, each once:
 * "7, 9", or "(1, 'a'), (2, 'b')" for a key of several columns.
 */
static void fk_missing_keys(struct mig_db *db, const char *child, const struct fk_cols *c,
			    const long long *rowids, size_t n, struct mig_buf *out)
{
	char *q = sqlite3_mprintf("SELECT %s FROM \"%w\" WHERE rowid = ?", c->from.buf, child);
	sqlite3_stmt *st = NULL;
	struct mig_buf key = MIG_BUF_INIT, seen = MIG_BUF_INIT;
	size_t i;

	if (!q || sqlite3_prepare_v2(H(db), q, -1, &st, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, rowids[i]);
		if (sqlite3_step(st) != SQLITE_ROW)
			continue;
		mig_buf_release(&key);
		add_values(&key, st, 0, (int)c->n);
		add_key_once(out, &seen, key.buf);
	}
out:
	sqlite3_finalize(st);
	sqlite3_free(q);
	mig_buf_release(&key);
	mig_buf_release(&seen);
}

/*
 * A table without rowids (WITHOUT ROWID) names its rows by primary key:
 * "with k 'a', 'b'" into sample, found as SQLite's check finds them (every
 * column of the key set, no parent row with those values), and the
 * parent keys they lack, each once, into keys.
 */
static size_t fk_sample_by_key(struct mig_db *db, const char *child, const char *parent, long long fkid,
			       struct mig_buf *sample, struct mig_buf *keys)
{
	struct mig_buf pk = MIG_BUF_INIT, pkname = MIG_BUF_INIT, from = MIG_BUF_INIT, set = MIG_BUF_INIT;
	struct mig_buf match = MIG_BUF_INIT, seen = MIG_BUF_INIT, key = MIG_BUF_INIT;
	sqlite3_stmt *st = NULL;
	char *q;
	int npk = 0, nfrom = 0;
	size_t rows = 0;

	q = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q) WHERE pk > 0 ORDER BY pk", child);
	if (!q || sqlite3_prepare_v2(H(db), q, -1, &st, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char *w = sqlite3_mprintf("%s\"mig_c\".\"%w\"", npk ? ", " : "", sqlite3_column_text(st, 0));

		mig_buf_adds(&pk, w ? w : "");
		mig_buf_addf(&pkname, "%s%s", npk++ ? ", " : "", sqlite3_column_text(st, 0));
		sqlite3_free(w);
	}
	sqlite3_finalize(st);
	sqlite3_free(q);
	st = NULL;
	/* the key's columns, and the parent's they name (its primary key when none are) */
	q = sqlite3_mprintf("SELECT f.\"from\", coalesce(f.\"to\", (SELECT name FROM pragma_table_info(%Q) WHERE pk = f.seq + 1))"
			    " FROM pragma_foreign_key_list(%Q) AS f WHERE f.id = %lld ORDER BY f.seq", parent, child, fkid);
	if (!npk || !q || sqlite3_prepare_v2(H(db), q, -1, &st, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *f = (const char *)sqlite3_column_text(st, 0), *t = (const char *)sqlite3_column_text(st, 1);
		char *w = sqlite3_mprintf("%s\"mig_c\".\"%w\"", nfrom ? ", " : "", f ? f : "");
		char *n = sqlite3_mprintf("%s\"mig_c\".\"%w\" IS NOT NULL", nfrom ? " AND " : "", f ? f : "");
		char *m = sqlite3_mprintf("%s\"mig_p\".\"%w\" = \"mig_c\".\"%w\"", nfrom ? " AND " : "", t ? t : "",
					  f ? f : "");

		mig_buf_adds(&from, w ? w : "");
		mig_buf_adds(&set, n ? n : "");
		mig_buf_adds(&match, m ? m : "");
		sqlite3_free(w);
		sqlite3_free(n);
		sqlite3_free(m);
		nfrom++;
	}
	sqlite3_finalize(st);
	sqlite3_free(q);
	st = NULL;
	q = nfrom ? sqlite3_mprintf("SELECT %s, %s FROM \"%w\" AS \"mig_c\" WHERE %s AND NOT EXISTS"
				    " (SELECT 1 FROM \"%w\" AS \"mig_p\" WHERE %s) LIMIT 5",
				    pk.buf, from.buf, child, set.buf, parent, match.buf) : NULL;
	if (!q || sqlite3_prepare_v2(H(db), q, -1, &st, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!rows++)
			mig_buf_addf(sample, npk > 1 ? "with (%s) " : "with %s ", pkname.buf);
		else
			mig_buf_adds(sample, ", ");
		add_values(sample, st, 0, npk);
		mig_buf_release(&key);
		add_values(&key, st, npk, nfrom);
		add_key_once(keys, &seen, key.buf);
	}
out:
	sqlite3_finalize(st);
	sqlite3_free(q);
	mig_buf_release(&pk);
	mig_buf_release(&pkname);
	mig_buf_release(&from);
	mig_buf_release(&set);
	mig_buf_release(&match);
	mig_buf_release(&seen);
	mig_buf_release(&key);
	return rows;
}

static int sqlite_fk_check(struct mig_db *db, const char *where, struct mig_err *err)
{
	struct mig_buf sample = MIG_BUF_INIT, keys = MIG_BUF_INIT, hint = MIG_BUF_INIT;
	struct fk_cols cols = { MIG_BUF_INIT, MIG_BUF_INIT, 0 };
	sqlite3_stmt *st = NULL;
	char *first_table = NULL, *first_parent = NULL;
	long long count = 0, first = 0, same_table = 0, fkid = 0, rowids[5];
	size_t nrowids = 0;
	int rc;

	if (sqlite3_prepare_v2(H(db), "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
		return db_error(db, MIG_EENV, "cannot check foreign keys in", err);
	/* the sample: rows of the first child table that break the same foreign key as its first */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *table = (const char *)sqlite3_column_text(st, 0);
		const char *parent = (const char *)sqlite3_column_text(st, 2);

		if (!count) {
			first_table = mig_xstrdup(table);
			first_parent = mig_xstrdup(parent);
			fkid = sqlite3_column_int64(st, 3);
		}
		count++;
		if (strcmp(table, first_table))
			continue;
		same_table++;
		if (strcmp(parent, first_parent) || sqlite3_column_int64(st, 3) != fkid)
			continue;
		if (first++ < 5 && sqlite3_column_type(st, 1) != SQLITE_NULL) {
			rowids[nrowids++] = sqlite3_column_int64(st, 1);
			mig_buf_addf(&sample, "%s%lld", sample.len ? ", " : "", sqlite3_column_int64(st, 1));
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		rc = db_error(db, MIG_EENV, "cannot check foreign keys in", err);
	} else if (count) {
		rc = mig_err_set(err, MIG_ESQL, "%s: FOREIGN KEY constraint failed: %lld row%s violate%s it",
				 where, count, count == 1 ? "" : "s", count == 1 ? "s" : "");
		/* the children are named by rowid (or primary key, without one), the parents by the keys they lack */
		if (fk_columns(db, first_table, first_parent, fkid, &cols) == 0 && nrowids)
			fk_missing_keys(db, first_table, &cols, rowids, nrowids, &keys);
		else if (!nrowids)
			nrowids = fk_sample_by_key(db, first_table, first_parent, fkid, &sample, &keys);
		mig_buf_addf(&hint, "%s row%s%s%s%s refer%s to %s that do not exist", first_table,
			     first == 1 ? "" : "s", sample.len ? " " : "", sample.buf ? sample.buf : "",
			     first > 5 ? ", ..." : "", first == 1 ? "s" : "", first_parent);
		if (keys.len)
			mig_buf_addf(&hint, cols.n > 1 ? " (%s(%s) %s%s)" : " (%s.%s %s%s)", first_parent,
				     cols.to.buf ? cols.to.buf : "?", keys.buf, first > (long long)nrowids ? ", ..." : "");
		mig_err_hint(err, "%s", hint.buf);
		if (same_table > first)
			mig_err_hint_add(err, "and %lld row%s of %s through other foreign keys", same_table - first,
					 same_table - first == 1 ? "" : "s", first_table);
		if (count > same_table)
			mig_err_hint_add(err, "and %lld row%s in other tables", count - same_table,
					 count - same_table == 1 ? "" : "s");
	} else {
		rc = 0;
	}
	free(first_table);
	free(first_parent);
	mig_buf_release(&sample);
	mig_buf_release(&keys);
	mig_buf_release(&hint);
	mig_buf_release(&cols.from);
	mig_buf_release(&cols.to);
	return rc;
}

static int sqlite_defer_fks(struct mig_db *db, struct mig_err *err)
{
	return simple(db, step_sql[MIG_STEP_DEFER_FKS], err);
}

static int sqlite_set_applied_at(struct mig_db *db, const char *scope, const char *name, const char *at,
				 struct mig_err *err)
{
	struct mig_db_row v = { scope, name, NULL, 0, 0, NULL, at };

	return run_step(db, MIG_STEP_APPLIED_AT, &v, err);
}

static int sqlite_unrecord(struct mig_db *db, const char *scope, const char *name, struct mig_err *err)
{
	struct mig_db_row v = { scope, name, NULL, 0, 0, NULL, NULL };

	return run_step(db, MIG_STEP_UNRECORD, &v, err);
}

/* creation order, so tables come before their indexes and triggers */
static const char schema_in_creation_order[] =
	"SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL"
	" AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid";

static int sqlite_open_replay(struct mig_db **out, struct mig_db *src, const char *addr, struct mig_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	(void)addr;	/* in memory: nothing to make, nothing to remove */
	if ((rc = sqlite_open(out, ":memory:", MIG_DB_CREATE, 0, err)) < 0 || !src)
		return rc;
	if (sqlite3_prepare_v2(H(src), schema_in_creation_order,
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(src, MIG_EENV, "cannot read the schema of", err);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_exec(H(*out), (const char *)sqlite3_column_text(st, 0), NULL, NULL, NULL) != SQLITE_OK) {
			/* the copy failed, not the source: say what the copy said */
			rc = mig_err_set(err, MIG_EENV, "cannot copy the schema of '%s': %s", src->name,
					 sqlite3_errmsg(H(*out)));
			goto out;
		}
	rc = rc == SQLITE_DONE ? 0 : db_error(src, MIG_EENV, "cannot read the schema of", err);
out:
	sqlite3_finalize(st);
	if (rc < 0) {
		sqlite_close(*out);
		*out = NULL;
	}
	return rc;
}

/* mig.schemaFile's order: what the schema is, not how it came to be */
static const char schema_stable[] =
	"SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL"
	" AND name NOT LIKE 'mig\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
	" ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'view' THEN 1 ELSE 2 END,"
	" CASE type WHEN 'view' THEN rowid ELSE 0 END, name COLLATE BINARY, type";

static int dump(struct mig_db *db, const char *query, struct mig_buf *out, struct mig_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(H(db), query, -1, &st, NULL) != SQLITE_OK)
		return db_error(db, MIG_EENV, "cannot read the schema of", err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		mig_buf_addf(out, "%s;\n", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(db, MIG_EENV, "cannot read the schema of", err);
	return 0;
}

static int sqlite_dump_schema(struct mig_db *db, struct mig_buf *out, struct mig_err *err)
{
	return dump(db, schema_in_creation_order, out, err);
}

static int sqlite_schema_sql(struct mig_db *db, struct mig_buf *out, struct mig_err *err)
{
	return dump(db, schema_stable, out, err);
}

static int sqlite_sql_complete(const char *sql, size_t len)
{
	char *z = mig_xstrndup(sql, len);
	int r = sqlite3_complete(z);

	free(z);
	return r;
}



static int sqlite_journal_add(struct mig_db *db, const char *run, const char *op, const char *name, const char *id,
		       long long ms, const char *snapshot, struct mig_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(H(db), "INSERT INTO mig_journal (run, op, name, id, duration_ms, snapshot)"
			       " VALUES (?, ?, ?, ?, ?, nullif(?, ''))", -1, &st, NULL) != SQLITE_OK)
		return db_error(db, MIG_EENV, "cannot record in", err);
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, ms);
	sqlite3_bind_text(st, 6, snapshot ? snapshot : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(db, MIG_EENV, "cannot record in", err);
	return 0;
}

static char *column_dup(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? mig_xstrdup(s) : NULL;
}

static int sqlite_journal_pending(struct mig_db *db, struct mig_journal_rows *out, struct mig_err *err)
{
	sqlite3_stmt *st = NULL;
	size_t alloc = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (sqlite3_table_column_metadata(H(db), "main", "mig_journal", NULL, NULL, NULL, NULL, NULL,
					  NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_prepare_v2(H(db), "SELECT run, op, name, id, duration_ms, snapshot FROM mig_journal"
			       " ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return db_error(db, MIG_EENV, "cannot read the bookkeeping of", err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mig_journal_row *r;

		MIG_GROW(out->v, out->nr + 1, alloc);
		r = &out->v[out->nr++];
		r->run = column_dup(st, 0);
		r->op = column_dup(st, 1);
		r->name = column_dup(st, 2);
		r->id = column_dup(st, 3);
		r->ms = sqlite3_column_int64(st, 4);
		r->snapshot = column_dup(st, 5);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		mig_journal_rows_release(out);
		return db_error(db, MIG_EENV, "cannot read the bookkeeping of", err);
	}
	return 0;
}

static int sqlite_journal_count(struct mig_db *db, size_t *n, struct mig_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*n = 0;
	if (sqlite3_table_column_metadata(H(db), "main", "mig_journal", NULL, NULL, NULL, NULL, NULL,
					  NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_prepare_v2(H(db), "SELECT count(*) FROM mig_journal", -1, &st, NULL) != SQLITE_OK)
		return db_error(db, MIG_EENV, "cannot read the bookkeeping of", err);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_error(db, MIG_EENV, "cannot read the bookkeeping of", err);
	return 0;
}

static int sqlite_journal_clear(struct mig_db *db, struct mig_err *err)
{
	return simple(db, "DELETE FROM mig_journal", err);
}

static int sqlite_foreign(struct mig_db *db, const char *query, struct mig_foreign *out, struct mig_err *err)
{
	sqlite3_stmt *st = NULL;
	size_t alloc = 0, alloc2 = 0;
	int r, two;

	if ((r = sqlite3_prepare_v2(H(db), query, -1, &st, NULL)) != SQLITE_OK) {
		/* no such table (or not of that tool's shape) is the query's fault; the machine failing is not */
		if (env_fault(r))
			return db_error(db, MIG_EENV, "cannot read the other tool's bookkeeping in", err);
		return mig_err_set(err, MIG_ESQL, "%s", sqlite3_errmsg(H(db)));
	}
	two = sqlite3_column_count(st) > 1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		if (two) {
			const char *w = (const char *)sqlite3_column_text(st, 1);

			MIG_GROW(out->second, out->nr + 1, alloc2);
			out->second[out->nr] = w ? mig_xstrdup(w) : NULL;
		}
		MIG_GROW(out->v, out->nr + 1, alloc);
		out->v[out->nr++] = mig_xstrdup(v ? v : "");
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return db_error(db, MIG_EENV, "cannot read the other tool's bookkeeping in", err);
	return 0;
}

/*
 * SQLite would wait forever on a FIFO, write a journal beside a device
 * and call a directory an I/O error: refuse them before any command
 * creates a store or anything else.
 */
static int sqlite_check(const char *path, struct mig_err *err)
{
	struct stat st;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return mig_err_set(err, MIG_EENV, "database '%s' is %s, not a regular file", path,
				   mig_file_kind(st.st_mode));
	return 0;
}

static int sqlite_exists(const char *path)
{
	return mig_path_exists(path);
}

static int sqlite_has_content(const char *path, struct mig_db *db)
{
	struct stat st;

	(void)db;	/* the file says it */
	return stat(path, &st) == 0 && st.st_size > 0;
}

const struct mig_backend mig_sqlite_backend = {
	.name = "sqlite",
	.schemes = NULL,	/* file paths */
	.bookkeeping = mig_bookkeeping_files,
	.bookkeeping_nr = &mig_bookkeeping_nr,
	.check = sqlite_check,
	.exists = sqlite_exists,
	.has_content = sqlite_has_content,
	.open = sqlite_open,
	.open_replay = sqlite_open_replay,
	.close = sqlite_close,
	.lock = NULL,	/* the store's lock, and BEGIN IMMEDIATE, serialise writers */
	.exec = sqlite_exec,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.in_transaction = sqlite_in_transaction,
	.defer_fks = sqlite_defer_fks,
	.fk_check = sqlite_fk_check,
	.applied = sqlite_applied,
	.record = sqlite_record,
	.update = sqlite_update,
	.unrecord = sqlite_unrecord,
	.set_applied_at = sqlite_set_applied_at,
	.set_schema_hash = sqlite_set_schema_hash,
	.journal_add = sqlite_journal_add,
	.journal_pending = sqlite_journal_pending,
	.journal_count = sqlite_journal_count,
	.journal_clear = sqlite_journal_clear,
	.foreign = sqlite_foreign,
	.schema = sqlite_schema,
	.schema_key = sqlite_schema_key,
	.dump_schema = sqlite_dump_schema,
	.schema_sql = sqlite_schema_sql,
	.sql_complete = sqlite_sql_complete,
	.step_sql = sqlite_step_sql,
	.image_read = mig_sqlite_image_read,
	.image_write = mig_sqlite_image_write,
};
