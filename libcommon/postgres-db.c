/*
 * The PostgreSQL backend: a server's database, named by a postgres://
 * or postgresql:// URL, through libpq. libpq reads the URL and its own
 * environment (PGHOST, PGPASSWORD, PGSERVICE, ~/.pgpass) as it does for
 * psql. mig's bookkeeping lives in the schema "mig" (mig.revisions,
 * mig.journal), or the one mig.schema names, made by the revisions in
 * migrations/postgres/ (which call it mig, renamed as they run). The ops
 * table at the end is all that db.c sees of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <xxhash.h>


#include "backend.h"
#include "postgres-diagnose.h"
#include "postgres-image.h"
#include "postgres-lex.h"
#include "util.h"

extern const struct mig_memfile mig_pg_bookkeeping_files[];
extern const unsigned long mig_pg_bookkeeping_nr;

/*
 * The bookkeeping schema (mig.schema, "mig" by default) and the advisory
 * lock runs take on it, hashtext of its name, as the SQL below writes
 * them: bk() writes the schema in, quoted (postgres-lex.h).
 */
#define SCHEMA "{S}"
#define LOCK_KEY "7170407, hashtext({N})"

struct pg_db {
	struct mig_db base;
	PGconn *h;
	char *addr;	/* as given, password and all: for a second connection */
	char *scratch;	/* a scratch database of mig's own, dropped at close, or NULL */
	/*
	 * A revision's BEGIN not sent yet: it goes in one round trip with
	 * the revision's first statement (one of the six a revision costs),
	 * or on its own before anything else is sent.
	 */
	int begin_pending;
	/*
	 * Bookkeeping rows of a revision's transaction not sent yet (its
	 * revisions row, the run's journal row): they go in one round trip
	 * with the COMMIT that follows them, or before anything else is
	 * sent. NULL when there are none.
	 */
	char *pending;
	/*
	 * mig.guard, on while a revision's own SQL runs: the triggers of
	 * bookkeeping revision 0003_guard then refuse every write to the
	 * bookkeeping tables, whatever the text hides (a DO block's
	 * EXECUTE). GUARD_LOCAL: SET LOCAL, gone when its transaction
	 * ends; GUARD_SESSION: a no-transaction revision's, turned off
	 * when its statements are done. mig's own rows go in with it off.
	 */
	enum { GUARD_OFF, GUARD_LOCAL, GUARD_SESSION } guard;
};

#define H(db) (((struct pg_db *)(db))->h)

/* tmpl with the bookkeeping schema written in; the caller frees it */
static char *bk(const char *tmpl)
{
	return mig_pg_bk_sql(tmpl, mig_db_schema_name());
}

static void pg_close(struct mig_db *db);

/* libpq's messages run over lines ("connection to server ... failed: FATAL: ..."): one line */
static const char *one_line(const char *s, char *buf, size_t size)
{
	size_t n = 0;
	int space = 0;

	for (; s && *s && n + 1 < size; s++) {
		if (*s == '\n' || *s == '\r' || *s == '\t' || *s == ' ') {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < size)
			buf[n++] = ' ';
		space = 0;
		buf[n++] = *s;
	}
	buf[n] = '\0';
	return buf;
}

static int conn_error(struct mig_db *db, const char *what, struct mig_err *err)
{
	char line[MIG_ERR_MSG];

	return mig_err_set(err, MIG_EENV, "%s '%s': %s", what, db->name,
			   one_line(PQerrorMessage(H(db)), line, sizeof(line)));
}

/*
 * A server's database is not made by connecting to it, as a SQLite file
 * is by opening it: when the server says there is none, say how to make
 * it (the server's words, in English; in another language no hint).
 */
static void no_such_database(struct mig_db *db, struct mig_err *err)
{
	const char *name = PQdb(H(db));
	char *says;

	if (!name || !*name)
		return;
	says = mig_xasprintf("database \"%s\" does not exist", name);
	if (strstr(PQerrorMessage(H(db)), says))
		mig_err_hint(err, "make it first (createdb %s, or CREATE DATABASE in psql), or name one that exists",
			     name);
	free(says);
}

/* The failure a result reports, as "what 'db': message"; the result is the caller's to clear. */
static int result_error(struct mig_db *db, PGresult *r, const char *what, struct mig_err *err)
{
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char line[MIG_ERR_MSG];

	if (!m)
		return conn_error(db, what, err);
	return mig_err_set(err, MIG_EENV, "%s '%s': %s", what, db->name, one_line(m, line, sizeof(line)));
}

static int ok(PGresult *r)
{
	ExecStatusType s = PQresultStatus(r);

	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;
}

/*
 * What turns the guard off before mig writes its own rows, to send first
 * or ahead of them in one query; NULL when it is off. The state becomes
 * off: a caller sends it.
 */
static const char *guard_off(struct pg_db *s)
{
	int was = s->guard;

	s->guard = GUARD_OFF;
	if (was == GUARD_LOCAL && PQtransactionStatus(s->h) != PQTRANS_IDLE)
		return "SET LOCAL mig.guard = off";
	return was == GUARD_SESSION ? "SET mig.guard = off" : NULL;
}

/*
 * Turn the guard off now (a failure shows in what follows, which the
 * guard would have refused); rows waiting to be sent carry it instead.
 */
static void unguard(struct mig_db *db)
{
	struct pg_db *s = (struct pg_db *)db;
	const char *off;

	if (s->pending && !s->begin_pending)
		return;
	if ((off = guard_off(s)))
		PQclear(PQexec(H(db), off));
}

/* Send what waits to ride with something else (BEGIN, bookkeeping rows) when what comes next cannot carry it. */
static PGresult *flush_begin(struct mig_db *db)
{
	struct pg_db *s = (struct pg_db *)db;
	char *sql = s->pending;
	const char *off;
	PGresult *r;

	if (!s->begin_pending && !sql)
		return NULL;
	s->pending = NULL;
	if (sql && !s->begin_pending && (off = guard_off(s))) {
		char *all = mig_xasprintf("%s; %s", off, sql);

		free(sql);
		sql = all;
	}
	r = PQexec(s->h, s->begin_pending ? "BEGIN" : sql);
	s->begin_pending = 0;
	free(sql);
	if (ok(r)) {
		PQclear(r);
		return NULL;
	}
	return r;
}

/*
 * Can a bookkeeping row wait for the COMMIT? In a revision's transaction
 * begun on the server, not in a dry run (whose rows are read back).
 */
static int can_defer(struct mig_db *db)
{
	return !db->dry && !((struct pg_db *)db)->begin_pending && PQtransactionStatus(H(db)) == PQTRANS_INTRANS;
}

/* sql (one statement, no ';') to send with what comes next; taken over */
static void defer(struct mig_db *db, char *sql)
{
	struct pg_db *s = (struct pg_db *)db;
	char *all;

	if (!s->pending) {
		s->pending = sql;
		return;
	}
	all = mig_xasprintf("%s; %s", s->pending, sql);
	free(s->pending);
	free(sql);
	s->pending = all;
}

static PGresult *exec_sql(struct mig_db *db, const char *sql)
{
	PGresult *r = flush_begin(db);

	return r ? r : PQexec(H(db), sql);
}

static PGresult *exec_params(struct mig_db *db, const char *sql, int n, const char *const *values)
{
	PGresult *r = flush_begin(db);

	return r ? r : PQexecParams(H(db), sql, n, NULL, values, NULL, NULL, 0);
}

static int simple(struct mig_db *db, const char *sql, struct mig_err *err)
{
	PGresult *r = exec_sql(db, sql);
	int rc = ok(r) ? 0 : result_error(db, r, sql, err);

	PQclear(r);
	return rc;
}

/* exec_sql, exec_params and simple of SQL that names the bookkeeping schema (bk) */
static PGresult *exec_bk(struct mig_db *db, const char *tmpl)
{
	char *sql = bk(tmpl);
	PGresult *r;

	unguard(db);
	r = exec_sql(db, sql);

	free(sql);
	return r;
}

static PGresult *exec_params_bk(struct mig_db *db, const char *tmpl, int n, const char *const *values)
{
	char *sql = bk(tmpl);
	PGresult *r;

	unguard(db);
	r = exec_params(db, sql, n, values);

	free(sql);
	return r;
}

static int simple_bk(struct mig_db *db, const char *tmpl, struct mig_err *err)
{
	char *sql = bk(tmpl);
	int rc;

	unguard(db);
	rc = simple(db, sql, err);

	free(sql);
	return rc;
}

/* What a SQLSTATE says of the fault: the environment's (MIG_EENV) or the SQL's (MIG_ESQL). */
static int classify(PGconn *h, const char *state)
{
	static const char *const env[] = {
		"08",	/* connection exception */
		"40",	/* serialization failure, deadlock */
		"53",	/* insufficient resources: disk full, out of memory */
		"57",	/* operator intervention: shutdown, cancel, statement timeout */
		"58",	/* system error: I/O */
		"XX",	/* internal error, data corrupted */
		"F0",	/* configuration file error */
		"55P03",	/* lock not available: lock_timeout */
		"25006",	/* read-only transaction */
	};
	size_t i;

	if (PQstatus(h) != CONNECTION_OK || !state)
		return MIG_EENV;
	for (i = 0; i < sizeof(env) / sizeof(*env); i++)
		if (!strncmp(state, env[i], strlen(env[i])))
			return MIG_EENV;
	return MIG_ESQL;
}

/* addr as libpq reads it: libpq knows its schemes in lower case only */
static char *libpq_url(const char *addr)
{
	char *url = mig_xstrdup(addr), *p;

	for (p = url; *p && *p != ':'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return url;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * A server notices a client gone (killed, interrupted) only when it
 * next talks to it: until then a long statement of a dead run goes on,
 * holding its locks and the run lock. PostgreSQL 14 can look while a
 * statement runs.
 */
static void watch_client(struct mig_db *db)
{
	/* a server that cannot look (it has no way to on some platforms) refuses the setting: it goes without */
	if (PQserverVersion(H(db)) >= 140000)
		PQclear(exec_sql(db, "SET client_connection_check_interval = 1000"));
}

static int pg_open(struct mig_db **out, const char *addr, int flags, int busy_ms, struct mig_err *err)
{
	static const char *const keys[] = { "dbname", "fallback_application_name", NULL };
	char *url = libpq_url(addr);
	const char *values[] = { url, "mig", NULL };
	struct pg_db *s = mig_xcalloc(1, sizeof(*s));
	struct mig_db *db = &s->base;
	int rc = 0;

	(void)busy_ms;
	db->ops = &mig_postgres_backend;
	db->name = mig_db_display_name(addr);
	s->addr = mig_xstrdup(addr);
	db->readonly = !!(flags & MIG_DB_READONLY);
	db->dry = !!(flags & MIG_DB_DRYRUN);
	/* libpq reads the URL as psql does, and fills in what it lacks from PG* and ~/.pgpass */
	s->h = PQconnectdbParams(keys, values, 1);
	free(url);
	if (!s->h) {
		rc = mig_err_set(err, MIG_EENV, "cannot connect to database '%s': out of memory", db->name);
		goto out;
	}
	if (PQstatus(s->h) != CONNECTION_OK) {
		rc = conn_error(db, "cannot connect to database", err);
		no_such_database(db, err);
		goto out;
	}
	PQsetNoticeProcessor(s->h, quiet, NULL);
	/*
	 * The default search_path starts with "$user": for a role named as
	 * the bookkeeping schema, that would put the project's tables into
	 * mig's schema once it exists. mig's schema never changes where a
	 * revision's objects go.
	 */
	if ((rc = simple_bk(db, "SELECT set_config('search_path', regexp_replace(current_setting('search_path'),"
			    " '\"\\$user\"\\s*,?\\s*', ''), false) WHERE current_user = {N}", err)) < 0)
		goto out;
	watch_client(db);
	if (db->readonly && (rc = simple(db, "SET default_transaction_read_only = on", err)) < 0)
		goto out;
	if (db->dry)
		rc = simple(db, "BEGIN", err);
out:
	if (rc < 0) {
		pg_close(db);
		db = NULL;
	}
	*out = db;
	return rc;
}

static void pg_close(struct mig_db *db)
{
	struct pg_db *s = (struct pg_db *)db;

	/* a dry run's transaction is rolled back with the connection; the session's lock goes with it */
	if (H(db))
		PQfinish(H(db));
	if (s->scratch) {
		struct mig_db *admin = NULL;
		struct mig_err ignored = MIG_ERR_INIT;
		char sql[128];

		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", s->scratch);
		if (pg_open(&admin, s->addr, 0, 0, &ignored) == 0)
			simple(admin, sql, &ignored);
		if (admin)
			pg_close(admin);
		free(s->scratch);
	}
	free(s->addr);
	free(s->pending);
	free(db->name);
	free((struct pg_db *)db);
}

/* Who holds the run lock, for the message that says we gave up waiting. */
static void lock_holder(struct mig_db *db, struct mig_err *err)
{
	PGresult *r = exec_bk(db, "SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'),"
			     " coalesce(host(a.client_addr), 'local'),"
			     " to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
			     " left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 60)"
			     " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
			     " WHERE l.locktype = 'advisory' AND l.granted AND l.database ="
			     " (SELECT oid FROM pg_database WHERE datname = current_database())"
			     " AND (l.classid, l.objid, l.objsubid) = (7170407::oid, hashtext({N})::oid, 2)");

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		mig_err_hint(err, "held by pid %s (%s, from %s, since %s; last query: %s)", PQgetvalue(r, 0, 0),
			     PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 4));
	PQclear(r);
	mig_err_hint_add(err, "wait for it to finish, or raise --lock-timeout or mig.lockTimeout");
}

/*
 * Runs serialise on a session-level advisory lock keyed on the
 * bookkeeping schema, so that runs from every host wait for each other.
 * Waiting obeys lock_timeout; 0 means not to wait at all.
 */
static int pg_lock(struct mig_db *db, int busy_ms, struct mig_err *err)
{
	char sql[160];
	PGresult *r;
	int rc = 0, got;

	if (busy_ms <= 0) {
		r = exec_bk(db, "SELECT pg_try_advisory_lock(" LOCK_KEY ")");
	} else {
		snprintf(sql, sizeof(sql), "SET lock_timeout = %d", busy_ms);
		if ((rc = simple(db, sql, err)) < 0)
			return rc;
		r = exec_bk(db, "SELECT pg_advisory_lock(" LOCK_KEY ") IS NOT NULL");
	}
	got = PQresultStatus(r) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(r, 0, 0), "t");
	if (!got && (PQresultStatus(r) == PGRES_TUPLES_OK ||
		     !strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : "",
			     "55P03"))) {
		PQclear(r);
		if (db->dry)
			PQclear(exec_sql(db, "ROLLBACK; BEGIN"));
		rc = mig_err_set(err, MIG_EENV, "database '%s' is locked by another mig run: it stayed locked for %d ms",
				 db->name, busy_ms);
		lock_holder(db, err);
		return rc;
	}
	if (!got)
		rc = result_error(db, r, "cannot lock", err);
	PQclear(r);
	if (rc == 0 && busy_ms > 0)
		rc = simple(db, "SET lock_timeout = 0", err);
	return rc;
}

static int pg_statement_lock_timeout(struct mig_db *db, int ms, struct mig_err *err)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "SET lock_timeout = %d", ms);
	return simple(db, sql, err);
}

/* The line of the error's position (characters from 1) in stmt, counted from line. */
static int error_line(PGresult *r, const char *stmt, size_t len, int line)
{
	const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
	long chars = pos ? atol(pos) : 0;
	size_t i;

	for (i = 0; i < len && chars > 1; i++) {
		if (((unsigned char)stmt[i] & 0xc0) != 0x80)
			chars--;
		if (stmt[i] == '\n')
			line++;
	}
	return line;
}

/* The failure of a revision's statement: "WHERE:LINE: message", the detail and hint as hints. */
static int statement_error(struct mig_db *db, PGresult *r, const char *where, const char *stmt, size_t len,
			   int line, struct mig_err *err)
{
	const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
	char buf[MIG_ERR_MSG];
	int code = classify(H(db), PQresultErrorField(r, PG_DIAG_SQLSTATE));

	if (!m)
		m = PQerrorMessage(H(db));
	mig_err_set(err, code, "%s:%d: %s", where, error_line(r, stmt, len, line), one_line(m, buf, sizeof(buf)));
	if (detail)
		mig_err_hint(err, "%s", one_line(detail, buf, sizeof(buf)));
	if (hint)
		mig_err_hint_add(err, "%s", one_line(hint, buf, sizeof(buf)));
	if (PQresultErrorField(r, PG_DIAG_SQLSTATE) && !strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "55P03"))
		mig_err_hint(err, "another transaction holds a lock the statement needs: see pg_stat_activity;"
			     " mig.statementLockTimeout says how long a statement waits");
	if (code == MIG_ESQL) {
		char *url = libpq_url(((struct pg_db *)db)->addr);

		mig_pg_diagnose(url, r, stmt, len, err);
		free(url);
	}
	return code;
}

static int refused(struct mig_err *err, const char *where, int line, const char *what)
{
	if (!what) {
		char *schema = bk(SCHEMA);

		mig_err_set(err, MIG_ESQL, "%s:%d: schema %s is mig's bookkeeping: a revision may read it, "
			    "not change it", where, line, schema);
		free(schema);
		mig_err_hint(err, "to change what is recorded as applied, use 'mig fake'");
	} else {
		mig_err_set(err, MIG_ESQL, "%s:%d: %s: a revision may not end or begin a transaction: "
			    "mig runs each in its own", where, line, what);
		mig_err_hint(err, "to manage transactions yourself, mark the revision '-- mig:no-transaction'");
	}
	return MIG_ESQL;
}

/*
 * A no-transaction revision's statement in a dry run (and in sqlshow's
 * replay), where everything is one transaction: what refuses to run in
 * one (CREATE INDEX CONCURRENTLY, VACUUM) runs as its plain kin, which
 * leaves the same schema. A savepoint keeps the failed try from
 * aborting the run's transaction.
 */
static PGresult *dry_exec(struct mig_db *db, char *text)
{
	PGresult *r;
	const char *state;
	char w[16];

	PQclear(exec_sql(db, "SAVEPOINT mig_statement"));
	r = exec_sql(db, text);
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (!ok(r) && state && !strcmp(state, "25001")) {
		PQclear(r);
		PQclear(exec_sql(db, "ROLLBACK TO SAVEPOINT mig_statement"));
		mig_pg_word(text, text + strlen(text), w, sizeof(w));
		if (!strcmp(w, "vacuum")) {
			r = exec_sql(db, "SELECT 'vacuum: nothing to do in a dry run'");
		} else {
			mig_pg_blank_word(text, "concurrently");
			r = exec_sql(db, text);
		}
	}
	PQclear(exec_sql(db, ok(r) ? "RELEASE SAVEPOINT mig_statement" :
				       "ROLLBACK TO SAVEPOINT mig_statement; RELEASE SAVEPOINT mig_statement"));
	return r;
}

/*
 * Turn the guard on for a revision's own SQL: *ride is what goes ahead
 * of its first statement, in the one query that sends it (and the
 * revision's BEGIN, or in a dry run follows its SAVEPOINT); otherwise it
 * is sent now: for the session when there is no transaction (a
 * no-transaction revision's), or when a dry run's statement goes
 * through dry_exec, which reads its first word.
 */
static int guard_on(struct mig_db *db, unsigned flags, const char **ride, struct mig_err *err)
{
	struct pg_db *s = (struct pg_db *)db;
	int begun = PQtransactionStatus(H(db)) != PQTRANS_IDLE, in_tx = s->begin_pending || begun;

	*ride = "";
	/* a scratch database of mig's has no bookkeeping to guard: no round trips for it */
	if (s->scratch || s->guard == GUARD_SESSION || (s->guard == GUARD_LOCAL && begun))
		return 0;
	if (in_tx && !(db->dry && (flags & MIG_EXEC_OWN_TX))) {
		*ride = "SET LOCAL mig.guard = on;";
		return 0;
	}
	s->guard = in_tx ? GUARD_LOCAL : GUARD_SESSION;
	return simple(db, s->guard == GUARD_LOCAL ? "SET LOCAL mig.guard = on" : "SET mig.guard = on", err);
}

/* The INVALID indexes there are, by oid, space-separated: what a failed concurrent build would add to. */
static char *invalid_indexes(struct mig_db *db)
{
	PGresult *r = exec_sql(db, "SELECT string_agg(indexrelid::text, ' ') FROM pg_index WHERE NOT indisvalid");
	char *oids = ok(r) && PQntuples(r) == 1 ? mig_xstrdup(PQgetvalue(r, 0, 0)) : NULL;

	PQclear(r);
	return oids;
}

/*
 * A concurrent index build failed (r): name the INVALID index it left,
 * which is not among before, and the one an earlier failed build left
 * that the message says is in the way ("relation "x" already exists").
 */
static void invalid_index_hint(struct mig_db *db, PGresult *r, const char *before, struct mig_err *err)
{
	const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	const char *values[] = { before ? before : "", m ? m : "" };
	PGresult *q = exec_params(db, "SELECT c.oid::regclass::text, c.oid::text <> ALL (string_to_array($1, ' '))"
				      " FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid"
				      " WHERE NOT i.indisvalid AND (c.oid::text <> ALL (string_to_array($1, ' '))"
				      " OR strpos($2, '\"' || c.relname || '\"') > 0) ORDER BY 1", 2, values);
	int i;

	for (i = 0; ok(q) && i < PQntuples(q); i++) {
		const char *name = PQgetvalue(q, i, 0);

		if (!strcmp(PQgetvalue(q, i, 1), "t"))
			mig_err_hint_add(err, "the failed build left index %s INVALID: drop it (DROP INDEX CONCURRENTLY"
					 " %s) before the revision runs again", name, name);
		else
			mig_err_hint_add(err, "index %s is INVALID, left by a build that failed before: drop it"
					 " (DROP INDEX CONCURRENTLY %s), then run again", name, name);
	}
	PQclear(q);
}

static int pg_exec(struct mig_db *db, const char *where, const char *sql, size_t len, int first_line,
		   unsigned flags, struct mig_err *err)
{
	struct pg_db *s = (struct pg_db *)db;
	const char *p = sql, *end = sql + len, *ride = "";
	int line = first_line, ret = 0, in_tx = s->begin_pending || PQtransactionStatus(H(db)) != PQTRANS_IDLE;
	PGresult *f;

	/* rows waiting for a COMMIT go before a statement of SQL's own */
	if (s->pending && (f = flush_begin(db))) {
		ret = result_error(db, f, "cannot record in", err);
		PQclear(f);
		return ret;
	}
	if (flags & MIG_EXEC_BOOKKEEPING)
		unguard(db);
	else if ((ret = guard_on(db, flags, &ride, err)) < 0)
		return ret;

	while (p < end && !ret) {
		const char *start = mig_pg_skip_space(p, end), *stop, *tx;
		char *text, *invalid;
		PGresult *r;

		line += mig_count_lines(p, start);
		if (start == end)
			break;
		stop = mig_pg_statement_end(start, end);
		/* the guards work on the text: PostgreSQL has no authorizer to ask */
		if (!(flags & MIG_EXEC_OWN_TX) && (tx = mig_pg_transaction_control(start, stop))) {
			ret = refused(err, where, line, tx);
			break;
		}
		/* what it refused is ended below as a failed statement's is: a no-transaction one's BEGIN */
		if (!(flags & MIG_EXEC_BOOKKEEPING) && mig_pg_writes_schema(start, stop, mig_db_schema_name())) {
			ret = refused(err, where, line, NULL);
			break;
		}
		/* the revision's BEGIN rides with its first statement: a line of its own it is not */
		text = mig_xasprintf("%s%s%.*s", s->begin_pending ? "BEGIN;" : "", ride, (int)(stop - start), start);
		s->begin_pending = 0;
		if (*ride) {
			s->guard = GUARD_LOCAL;
			ride = "";
		}
		/* a concurrent index build that fails leaves an INVALID index: which is said */
		invalid = (flags & MIG_EXEC_OWN_TX) && !db->dry && mig_pg_concurrently(start, stop) ?
				  invalid_indexes(db) : NULL;
		r = db->dry && (flags & MIG_EXEC_OWN_TX) ? dry_exec(db, text) : PQexec(H(db), text);
		switch (PQresultStatus(r)) {
		case PGRES_COMMAND_OK: case PGRES_TUPLES_OK: case PGRES_EMPTY_QUERY:
			break;
		case PGRES_COPY_IN:
			PQputCopyEnd(H(db), "COPY FROM STDIN has no data in a revision");
			PQclear(r);
			while ((r = PQgetResult(H(db))))
				PQclear(r);
			ret = mig_err_set(err, MIG_ESQL, "%s:%d: COPY ... FROM STDIN: a revision has no input to copy",
					  where, line);
			break;
		case PGRES_COPY_OUT: {
			char *row;

			while (PQgetCopyData(H(db), &row, 0) > 0)
				PQfreemem(row);
			PQclear(r);
			while ((r = PQgetResult(H(db))))
				PQclear(r);
			break;
		}
		default:
			ret = statement_error(db, r, where, text, strlen(text), line, err);
			if (invalid)
				invalid_index_hint(db, r, invalid, err);
		}
		free(invalid);
		PQclear(r);
		free(text);
		/* the guard stops every way out of the transaction it knows; this is the proof */
		if (!ret && in_tx && !(flags & MIG_EXEC_OWN_TX) && PQtransactionStatus(H(db)) == PQTRANS_IDLE)
			ret = mig_err_set(err, MIG_EENV, "%s:%d: the statement ended mig's transaction", where, line);
		line += mig_count_lines(start, stop);
		p = stop;
	}
	/*
	 * a revision that runs its own transactions ends them: mig's bookkeeping
	 * must not commit one, nor go into one a failed statement aborted
	 */
	if ((flags & MIG_EXEC_OWN_TX) && !in_tx && PQtransactionStatus(H(db)) != PQTRANS_IDLE) {
		PQclear(exec_sql(db, "ROLLBACK"));
		if (!ret) {
			ret = mig_err_set(err, MIG_ESQL, "%s: the revision left a transaction open; it was rolled back",
					  where);
			mig_err_hint(err, "end what the revision begins with COMMIT");
		}
	}
	/* a no-transaction revision's guard ends with its statements (or with the rollback of what they left) */
	if (s->guard == GUARD_SESSION && PQtransactionStatus(H(db)) == PQTRANS_IDLE)
		unguard(db);
	return ret;
}

/*
 * mig's bookkeeping statements, written once: run with the values
 * bound, in the order params names them (1 scope, 2 name, 3 id, 4
 * duration, 5 dirty, 6 schema hash, 7 applied time), and shown by sqlshow with the
 * values written in, so that 'mig sqlshow | psql' records what mig does.
 */
#define NOW "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
static const struct {
	const char *sql, *params;
} step_sql[] = {
	[MIG_STEP_BEGIN] = { "BEGIN", "" },
	/*
	 * None: PostgreSQL checks a foreign key when the statement ends (at
	 * commit, one declared DEFERRABLE INITIALLY DEFERRED), and no table
	 * is rebuilt under its keys the way SQLite's ALTER TABLE needs. A
	 * failure at commit is the revision's, exit 4. A round trip each
	 * saved, two of the eight a revision cost.
	 */
	[MIG_STEP_DEFER_FKS] = { "", "" },
	[MIG_STEP_FK_CHECK] = { "", "" },
	/* a revision recorded again goes to the end, as SQLite's INSERT OR REPLACE puts it */
	[MIG_STEP_RECORD] = { "INSERT INTO " SCHEMA ".revisions (scope, name, id, applied_at, duration_ms, dirty)"
			      " VALUES ($1, $2, $3, " NOW ", $4, $5) ON CONFLICT (scope, name) DO UPDATE SET"
			      " seq = nextval({SEQ}), id = EXCLUDED.id,"
			      " applied_at = EXCLUDED.applied_at, duration_ms = EXCLUDED.duration_ms,"
			      " schema_hash = NULL, dirty = EXCLUDED.dirty", "12345" },
	[MIG_STEP_UPDATE] = { "UPDATE " SCHEMA ".revisions SET id = coalesce($3, id), dirty = $4"
			      " WHERE scope = $1 AND name = $2", "1235" },
	[MIG_STEP_UNRECORD] = { "DELETE FROM " SCHEMA ".revisions WHERE scope = $1 AND name = $2", "12" },
	[MIG_STEP_SCHEMA_HASH] = { "UPDATE " SCHEMA ".revisions SET schema_hash = $1 WHERE seq ="
				   " (SELECT max(seq) FROM " SCHEMA ".revisions WHERE scope = 'app')", "6" },
	[MIG_STEP_COMMIT] = { "COMMIT", "" },
	[MIG_STEP_APPLIED_AT] = { "UPDATE " SCHEMA ".revisions SET applied_at = $1 WHERE scope = $2 AND name = $3",
				  "712" },
};

/* Field k ('1'..'7') of v as text, or NULL; num is room for a number. */
static const char *field(const struct mig_db_row *v, char k, char num[24])
{
	switch (k) {
	case '1': return v->scope;
	case '2': return v->name;
	case '3': return v->id;
	case '4': snprintf(num, 24, "%lld", v->ms); return num;
	case '5': snprintf(num, 24, "%d", v->dirty); return num;
	case '6': return v->hash;
	case '7': return v->at;
	}
	return NULL;
}

static int run_step(struct mig_db *db, enum mig_db_step step, const struct mig_db_row *v, struct mig_err *err)
{
	const char *params = step_sql[step].params, *values[7];
	char nums[7][24];
	int n = (int)strlen(params), i, rc;
	PGresult *r;

	for (i = 0; i < n; i++)
		values[i] = field(v, params[i], nums[i]);
	r = exec_params_bk(db, step_sql[step].sql, n, values);
	rc = ok(r) ? 0 : result_error(db, r, "cannot record in", err);
	PQclear(r);
	return rc;
}

static void pg_step_sql(struct mig_buf *b, enum mig_db_step step, const struct mig_db_row *v)
{
	const char *params = step_sql[step].params, *s;
	char num[24], *sql, *p;

	if (!*step_sql[step].sql)
		return;
	for (p = sql = bk(step_sql[step].sql); *p; p++) {
		if (*p != '$' || p[1] < '1' || p[1] > '6') {
			mig_buf_addc(b, *p);
			continue;
		}
		s = field(v, params[*++p - '1'], num);
		if (!s)
			mig_buf_adds(b, "NULL");
		else if (s == num)
			mig_buf_adds(b, num);
		else
			mig_sql_add_literal(b, s);
	}
	free(sql);
	mig_buf_adds(b, ";\n");
}

static void pg_bookkeeping_sql(struct mig_buf *out, const char *sql, size_t len)
{
	mig_pg_rename_schema(out, sql, sql + len, mig_db_schema_name());
}

static int pg_begin(struct mig_db *db, struct mig_err *err)
{
	if (db->dry)
		return simple(db, "SAVEPOINT mig_revision", err);
	/* sent with what comes next (step_sql's BEGIN, as sqlshow shows it) */
	((struct pg_db *)db)->begin_pending = 1;
	return 0;
}

static int pg_commit(struct mig_db *db, struct mig_err *err)
{
	PGresult *r;

	struct pg_db *s = (struct pg_db *)db;
	int rc = 0;

	/* a transaction nothing was sent in has nothing to commit */
	if (s->begin_pending) {
		s->begin_pending = 0;
		free(s->pending);
		s->pending = NULL;
		return 0;
	}
	if (s->pending && !db->dry) {
		/* the journal row and the COMMIT in one round trip; a failed row commits nothing */
		const char *off = guard_off(s);
		char *sql = mig_xasprintf("%s%s%s; COMMIT", off ? off : "", off ? "; " : "", s->pending);

		free(s->pending);
		s->pending = NULL;
		r = PQexec(H(db), sql);
		free(sql);
	} else {
		r = exec_sql(db, db->dry ? "RELEASE SAVEPOINT mig_revision" : "COMMIT");
	}
	/* SET LOCAL ends with the transaction (a dry run's goes on: its guard is turned off when next it matters) */
	if (!db->dry && s->guard == GUARD_LOCAL)
		s->guard = GUARD_OFF;

	/* deferred constraints are checked now: their failure is the revision's, said as its statements' are */
	if (!ok(r) && classify(H(db), PQresultErrorField(r, PG_DIAG_SQLSTATE)) == MIG_ESQL) {
		const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
		char buf[MIG_ERR_MSG];

		rc = mig_err_set(err, MIG_ESQL, "%s", one_line(m ? m : PQerrorMessage(H(db)), buf, sizeof(buf)));
		if (detail)
			mig_err_hint(err, "%s", one_line(detail, buf, sizeof(buf)));
	} else if (!ok(r)) {
		rc = result_error(db, r, "cannot commit to", err);
	} else if (!db->dry && !strcmp(PQcmdStatus(r), "ROLLBACK")) {
		rc = mig_err_set(err, MIG_EENV, "cannot commit to '%s': the transaction had failed", db->name);
	}
	PQclear(r);
	return rc;
}

static void pg_rollback(struct mig_db *db)
{
	((struct pg_db *)db)->begin_pending = 0;
	free(((struct pg_db *)db)->pending);
	((struct pg_db *)db)->pending = NULL;
	if (db->dry)
		PQclear(exec_sql(db, "ROLLBACK TO SAVEPOINT mig_revision; RELEASE SAVEPOINT mig_revision"));
	else if (PQtransactionStatus(H(db)) != PQTRANS_IDLE)
		PQclear(exec_sql(db, "ROLLBACK"));
	unguard(db);
}

static int pg_in_transaction(struct mig_db *db)
{
	return !db->dry && (((struct pg_db *)db)->begin_pending || PQtransactionStatus(H(db)) != PQTRANS_IDLE);
}

static int pg_defer_fks(struct mig_db *db, struct mig_err *err)
{
	(void)db;
	(void)err;
	return 0;
}

static int pg_fk_check(struct mig_db *db, const char *where, struct mig_err *err)
{
	(void)db;
	(void)where;
	(void)err;
	return 0;
}

/* Has the database mig's bookkeeping? A table of mig's name that is not mig's is an error. */
static int has_bookkeeping(struct mig_db *db, const char *table, const char *column, int *out,
			   struct mig_err *err)
{
	char *name = bk(table);
	const char *values[2] = { name, column };
	PGresult *r = exec_params(db, "SELECT c.oid IS NOT NULL, EXISTS (SELECT 1 FROM pg_attribute a"
				   " WHERE a.attrelid = c.oid AND a.attname = $2 AND NOT a.attisdropped)"
				   " FROM (SELECT to_regclass($1) AS oid) c", 2, values);
	int rc = 0;

	*out = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = result_error(db, r, "cannot read database", err);
	} else if (!strcmp(PQgetvalue(r, 0, 0), "t")) {
		*out = 1;
		if (strcmp(PQgetvalue(r, 0, 1), "t")) {
			rc = mig_err_set(err, MIG_EENV, "database '%s' has a table '%s' that is not mig's bookkeeping",
					 db->name, name);
			mig_err_hint(err, "mig keeps its records in schema %.*s: rename that schema, set mig.schema, "
				     "or use another database", (int)(strlen(name) - strlen(strrchr(name, '.'))), name);
		}
	}
	PQclear(r);
	free(name);
	return rc;
}

static int pg_applied(struct mig_db *db, const char *scope, struct mig_applied_list *out, struct mig_err *err)
{
	const char *values[1] = { scope };
	PGresult *r;
	int present = 0, rc, i;

	memset(out, 0, sizeof(*out));
	if ((rc = has_bookkeeping(db, SCHEMA ".revisions", "scope", &present, err)) < 0 || !present)
		return rc;
	r = exec_params_bk(db, "SELECT name, id, applied_at, duration_ms, schema_hash, dirty, seq"
			 " FROM " SCHEMA ".revisions WHERE scope = $1 ORDER BY seq", 1, values);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = result_error(db, r, "cannot read bookkeeping of", err);
		PQclear(r);
		return rc;
	}
	out->nr = (size_t)PQntuples(r);
	out->v = out->nr ? mig_xcalloc(out->nr, sizeof(*out->v)) : NULL;
	for (i = 0; i < PQntuples(r); i++) {
		struct mig_applied *a = &out->v[i];

		a->name = mig_xstrdup(PQgetvalue(r, i, 0));
		snprintf(a->id, sizeof(a->id), "%s", PQgetvalue(r, i, 1));
		a->applied_at = mig_xstrdup(PQgetvalue(r, i, 2));
		a->duration_ms = atoll(PQgetvalue(r, i, 3));
		a->schema_hash = PQgetisnull(r, i, 4) ? NULL : mig_xstrdup(PQgetvalue(r, i, 4));
		a->dirty = atoi(PQgetvalue(r, i, 5));
		a->seq = atoll(PQgetvalue(r, i, 6));
	}
	PQclear(r);
	return 0;
}

static int pg_record(struct mig_db *db, const char *scope, const char *name, const char *id,
		     long long duration_ms, int dirty, struct mig_err *err)
{
	struct mig_db_row v = { scope, name, id, duration_ms, dirty, NULL, NULL };
	struct mig_buf b = MIG_BUF_INIT;

	if (!can_defer(db))
		return run_step(db, MIG_STEP_RECORD, &v, err);
	/* with the COMMIT, as sqlshow prints it: one round trip fewer a revision */
	pg_step_sql(&b, MIG_STEP_RECORD, &v);
	while (b.len && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == ';'))
		b.buf[--b.len] = '\0';
	defer(db, mig_buf_detach(&b));
	return 0;
}

static int pg_update(struct mig_db *db, const char *scope, const char *name, const char *id, int dirty,
		     struct mig_err *err)
{
	struct mig_db_row v = { scope, name, id, 0, dirty, NULL, NULL };

	return run_step(db, MIG_STEP_UPDATE, &v, err);
}

static int pg_set_applied_at(struct mig_db *db, const char *scope, const char *name, const char *at,
			     struct mig_err *err)
{
	struct mig_db_row v = { scope, name, NULL, 0, 0, NULL, at };

	return run_step(db, MIG_STEP_APPLIED_AT, &v, err);
}

static int pg_unrecord(struct mig_db *db, const char *scope, const char *name, struct mig_err *err)
{
	struct mig_db_row v = { scope, name, NULL, 0, 0, NULL, NULL };

	return run_step(db, MIG_STEP_UNRECORD, &v, err);
}

static int pg_set_schema_hash(struct mig_db *db, const char *hash, struct mig_err *err)
{
	struct mig_db_row v = { NULL, NULL, NULL, 0, 0, hash, NULL };

	return run_step(db, MIG_STEP_SCHEMA_HASH, &v, err);
}

static int pg_journal_add(struct mig_db *db, const char *run, const char *op, const char *name, const char *id,
			  long long ms, const char *snapshot, struct mig_err *err)
{
	char num[24];
	const char *values[6] = { run, op, name, id, num, snapshot && *snapshot ? snapshot : NULL };
	PGresult *r;
	int rc;

	snprintf(num, sizeof(num), "%lld", ms);
	/* in a revision's transaction, the row goes with its COMMIT: one round trip fewer */
	if (can_defer(db)) {
		struct mig_buf b = MIG_BUF_INIT;
		int i;

		char *insert = bk("INSERT INTO " SCHEMA ".journal (run, op, name, id, duration_ms, snapshot) VALUES (");

		mig_buf_adds(&b, insert);
		free(insert);
		for (i = 0; i < 6; i++) {
			if (i)
				mig_buf_adds(&b, ", ");
			if (!values[i])
				mig_buf_adds(&b, "NULL");
			else if (i == 4)
				mig_buf_adds(&b, num);
			else
				mig_sql_add_literal(&b, values[i]);
		}
		mig_buf_adds(&b, ")");
		defer(db, mig_buf_detach(&b));
		return 0;
	}
	r = exec_params_bk(db, "INSERT INTO " SCHEMA ".journal (run, op, name, id, duration_ms, snapshot)"
			 " VALUES ($1, $2, $3, $4, $5, $6)", 6, values);
	rc = ok(r) ? 0 : result_error(db, r, "cannot record in", err);
	PQclear(r);
	return rc;
}

static char *value_dup(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : mig_xstrdup(PQgetvalue(r, row, col));
}

static int pg_journal_pending(struct mig_db *db, struct mig_journal_rows *out, struct mig_err *err)
{
	PGresult *r;
	int present, rc, i;

	memset(out, 0, sizeof(*out));
	if ((rc = has_bookkeeping(db, SCHEMA ".journal", "run", &present, err)) < 0 || !present)
		return rc;
	r = exec_bk(db, "SELECT run, op, name, id, duration_ms, snapshot FROM " SCHEMA ".journal ORDER BY seq");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = result_error(db, r, "cannot read the bookkeeping of", err);
		PQclear(r);
		return rc;
	}
	out->nr = (size_t)PQntuples(r);
	out->v = out->nr ? mig_xcalloc(out->nr, sizeof(*out->v)) : NULL;
	for (i = 0; i < PQntuples(r); i++) {
		out->v[i].run = value_dup(r, i, 0);
		out->v[i].op = value_dup(r, i, 1);
		out->v[i].name = value_dup(r, i, 2);
		out->v[i].id = value_dup(r, i, 3);
		out->v[i].ms = atoll(PQgetvalue(r, i, 4));
		out->v[i].snapshot = value_dup(r, i, 5);
	}
	PQclear(r);
	return 0;
}

static int pg_journal_count(struct mig_db *db, size_t *n, struct mig_err *err)
{
	PGresult *r;
	int present, rc;

	*n = 0;
	if ((rc = has_bookkeeping(db, SCHEMA ".journal", "run", &present, err)) < 0 || !present)
		return rc;
	r = exec_bk(db, "SELECT count(*) FROM " SCHEMA ".journal");
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		*n = (size_t)atoll(PQgetvalue(r, 0, 0));
	else
		rc = result_error(db, r, "cannot read the bookkeeping of", err);
	PQclear(r);
	return rc;
}

static int pg_journal_clear(struct mig_db *db, struct mig_err *err)
{
	return simple_bk(db, "DELETE FROM " SCHEMA ".journal", err);
}

static int pg_foreign(struct mig_db *db, const char *query, struct mig_foreign *out, struct mig_err *err)
{
	PGresult *r = exec_sql(db, query);
	char buf[MIG_ERR_MSG];
	int i, rc = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

		/* no such table (or not of that tool's shape) is the query's fault; the machine failing is not */
		if (classify(H(db), PQresultErrorField(r, PG_DIAG_SQLSTATE)) == MIG_EENV)
			rc = result_error(db, r, "cannot read the other tool's bookkeeping in", err);
		else
			rc = mig_err_set(err, MIG_ESQL, "%s", one_line(m ? m : "", buf, sizeof(buf)));
		PQclear(r);
		/* a failed statement aborts a dry run's transaction: go on from where it was */
		if (db->dry)
			PQclear(exec_sql(db, "ROLLBACK; BEGIN"));
		return rc;
	}
	out->nr = (size_t)PQntuples(r);
	out->v = out->nr ? mig_xcalloc(out->nr, sizeof(*out->v)) : NULL;
	if (out->nr && PQnfields(r) > 1)
		out->second = mig_xcalloc(out->nr, sizeof(*out->second));
	for (i = 0; i < PQntuples(r); i++) {
		out->v[i] = mig_xstrdup(PQgetvalue(r, i, 0));
		if (out->second)
			out->second[i] = PQgetisnull(r, i, 1) ? NULL : mig_xstrdup(PQgetvalue(r, i, 1));
	}
	PQclear(r);
	return 0;
}

/*
 * The project's schema from the catalog, one line per object, "TYPE
 * NAME: DEFINITION", for every schema but PostgreSQL's own and mig's,
 * objects of extensions left out: the server's own words for each
 * definition (pg_get_*def), so equal schemas read alike however they
 * were written.
 */
static const char schema_query[] =
	"WITH ns AS (SELECT oid, quote_ident(nspname) AS n FROM pg_namespace"
	"  WHERE nspname NOT IN ('pg_catalog', 'information_schema', {N})"
	"  AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp\\_%'),"
	" ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')"
	" SELECT kind, name, def FROM ("
	" SELECT 'schema' AS kind, n AS name, '' AS def FROM ns WHERE n <> 'public'"
	" UNION ALL SELECT CASE c.relkind WHEN 'f' THEN 'foreign table' ELSE 'table' END,"
	"  ns.n || '.' || quote_ident(c.relname),"
	"  coalesce((SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)"
	"   || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END"
	"   || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''), ', ' ORDER BY a.attnum)"
	"   FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
	"   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')"
	"  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'f')"
	"  AND c.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_class'::regclass)"
	" UNION ALL SELECT 'constraint', ns.n || '.' || quote_ident(c.relname) || '.' || quote_ident(co.conname),"
	"  pg_get_constraintdef(co.oid)"
	"  FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN ns ON ns.oid = c.relnamespace"
	" UNION ALL SELECT 'index', ns.n || '.' || quote_ident(c.relname), pg_get_indexdef(i.indexrelid)"
	"  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN ns ON ns.oid = c.relnamespace"
	" UNION ALL SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END,"
	"  ns.n || '.' || quote_ident(c.relname), pg_get_viewdef(c.oid)"
	"  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')"
	"  AND c.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_class'::regclass)"
	" UNION ALL SELECT 'sequence', ns.n || '.' || quote_ident(c.relname),"
	"  format_type(s.seqtypid, NULL) || ' START ' || s.seqstart || ' INCREMENT ' || s.seqincrement"
	"  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN ns ON ns.oid = c.relnamespace"
	"  AND c.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_class'::regclass)"
	" UNION ALL SELECT 'trigger', ns.n || '.' || quote_ident(c.relname) || '.' || quote_ident(t.tgname),"
	"  pg_get_triggerdef(t.oid)"
	"  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace"
	"  WHERE NOT t.tgisinternal"
	" UNION ALL SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,"
	"  ns.n || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',"
	"  pg_get_functiondef(p.oid)"
	"  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace WHERE p.prokind IN ('f', 'p')"
	"  AND p.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_proc'::regclass)"
	" UNION ALL SELECT CASE t.typtype WHEN 'e' THEN 'enum' ELSE 'domain' END,"
	"  ns.n || '.' || quote_ident(t.typname),"
	"  CASE t.typtype WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', '"
	"   ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)"
	"  ELSE format_type(t.typbasetype, t.typtypmod) || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END"
	"   || coalesce(' DEFAULT ' || t.typdefault, '') END"
	"  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace WHERE t.typtype IN ('e', 'd')"
	"  AND t.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_type'::regclass)"
	" UNION ALL SELECT 'extension', quote_ident(extname), '' FROM pg_extension WHERE extname <> 'plpgsql'"
	" ) o ORDER BY kind COLLATE \"C\", name COLLATE \"C\"";

static int pg_schema(struct mig_db *db, struct mig_buf *out, struct mig_err *err)
{
	PGresult *r = exec_bk(db, schema_query);
	int i;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = result_error(db, r, "cannot read the schema of", err);

		PQclear(r);
		return rc;
	}
	for (i = 0; i < PQntuples(r); i++) {
		mig_buf_addf(out, "%s %s: ", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
		mig_sql_normalize(out, PQgetvalue(r, i, 2), (size_t)PQgetlength(r, i, 2));
		mig_buf_addc(out, '\n');
	}
	PQclear(r);
	return 0;
}

/*
 * A cheap fingerprint of the catalogs the schema is read from: each
 * one's row count, and the sum and the largest of its rows' xmin. DDL
 * writes catalog rows, each a new version with the writing transaction's
 * id, and dropping removes some: whatever changes the schema changes the
 * count or a sum (freezing keeps xmin since PostgreSQL 9.4; statistics
 * are written in place). A different key may be the same schema (ANALYZE,
 * a change of an object outside it): the cache then reads it again.
 */
static const char key_query[] =
	"SELECT concat_ws(',', (SELECT count(*) || ':' || sum(xmin::text::bigint) || ':' || max(xmin::text::bigint)"
	" FROM pg_class), (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_attribute),"
	" (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_attrdef),"
	" (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_constraint),"
	" (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_index),"
	" (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_proc),"
	" (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_type),"
	" (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_enum),"
	" (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_trigger),"
	" (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_namespace),"
	" (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_rewrite),"
	" (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_sequence),"
	" (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_extension),"
	" current_database())";

static int pg_schema_key(struct mig_db *db, char out[33], struct mig_err *err)
{
	PGresult *r = exec_sql(db, key_query);
	XXH128_canonical_t c;
	int rc = 0, i;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		rc = result_error(db, r, "cannot read the schema of", err);
	} else {
		XXH128_canonicalFromHash(&c, XXH3_128bits(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0)));
		for (i = 0; i < 16; i++)
			sprintf(out + 2 * i, "%02x", c.digest[i]);
	}
	PQclear(r);
	return rc;
}

/*
 * The schema as runnable SQL is pg_dump's to write, as every PostgreSQL
 * user knows it: pg_dump --schema-only, mig's schema and owners and
 * grants left out, run with the connection's own settings in its
 * environment (PGHOST, PGPASSWORD, ...: never on a command line that ps
 * shows). What only says how the dump was made (comments, SET lines,
 * the search_path it clears) is left out, so that the same schema reads
 * the same whichever pg_dump and server wrote it.
 */
static int pg_dump(struct mig_db *db, struct mig_buf *out, struct mig_err *err)
{
	/* a pattern in double quotes matches one name, every character as it is, as an identifier does */
	char *exclude = bk("--exclude-schema=" SCHEMA);
	const char *const argv[] = { "pg_dump", "--schema-only", "--no-owner", "--no-privileges", exclude, NULL };
	PQconninfoOption *opts = PQconninfo(H(db));
	struct mig_buf raw = MIG_BUF_INIT;
	struct mig_pg_child c;
	char buf[65536], what[256];
	const char *p, *eol;
	ssize_t n;
	int rc;

	rc = mig_pg_spawn(opts, argv, 0, 1, &c, err);
	PQconninfoFree(opts);
	free(exclude);
	if (rc < 0)
		return rc;
	while ((n = read(c.out, buf, sizeof(buf))) != 0)
		if (n > 0)
			mig_buf_add(&raw, buf, (size_t)n);
		else if (errno != EINTR)
			break;
	snprintf(what, sizeof(what), "database '%s': pg_dump --schema-only", db->name);
	if ((rc = mig_pg_child_finish(&c, n < 0, what, err)) < 0 || n < 0) {
		if (rc == 0)
			rc = mig_err_errno(err, MIG_EENV, "%s", what);
		goto out;
	}
	for (p = raw.buf; p && *p; p = eol) {
		eol = strchr(p, '\n');
		eol = eol ? eol + 1 : p + strlen(p);
		if (*p == '\n' || mig_starts_with(p, "--") || mig_starts_with(p, "SET ") ||
		    mig_starts_with(p, "SELECT pg_catalog.set_config('search_path'") ||
		    /* psql's guard against a hostile dump, a new random key each time */
		    mig_starts_with(p, "\\restrict ") || mig_starts_with(p, "\\unrestrict "))
			continue;
		mig_buf_add(out, p, (size_t)(eol - p));
	}
out:
	mig_buf_release(&raw);
	return rc;
}

static int pg_dump_schema(struct mig_db *db, struct mig_buf *out, struct mig_err *err)
{
	return pg_dump(db, out, err);
}

static int pg_schema_sql(struct mig_db *db, struct mig_buf *out, struct mig_err *err)
{
	return pg_dump(db, out, err);
}

/*
 * Revisions replayed for sqlshow's schema hash: on a second connection
 * to the same database, in a transaction that is never committed (DDL
 * is transactional), waiting at most a little for locks so that a busy
 * table never queues behind it.
 */
static int replay_beside(struct mig_db **out, struct mig_db *src, struct mig_err *err)
{
	int rc;

	if ((rc = pg_open(out, ((struct pg_db *)src)->addr, MIG_DB_DRYRUN, 0, err)) == 0 &&
	    (rc = simple(*out, "SET lock_timeout = 2000", err)) < 0) {
		pg_close(*out);
		*out = NULL;
	}
	return rc;
}

/*
 * Drop what runs killed before they could drop left: scratch databases
 * no one is on, made more than a minute ago (as their names say), so
 * not one a run has just made and is about to connect to. One that
 * cannot be dropped (another role's, or someone just came) stays.
 */
static void sweep_scratch(struct mig_db *admin)
{
	PGresult *r = exec_sql(admin, "SELECT d.datname FROM pg_database AS d"
				      " WHERE d.datname ~ '^mig_scratch_[0-9]+_[0-9]+_[0-9a-f]{8}$'"
				      " AND split_part(d.datname, '_', 3)::numeric < extract(epoch FROM now()) - 60"
				      " AND NOT EXISTS (SELECT FROM pg_stat_activity AS a WHERE a.datid = d.oid)");
	char sql[128];
	int i;

	for (i = 0; ok(r) && i < PQntuples(r); i++) {
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", PQgetvalue(r, i, 0));
		PQclear(exec_sql(admin, sql));
	}
	PQclear(r);
}

/*
 * An empty database for sqlshow --schema: made on the server addr names
 * (CREATE DATABASE needs the CREATEDB privilege, and says so when it is
 * missing), from template0, under a name no one else uses; close drops
 * it, on a connection to addr's own database.
 */
static int replay_empty(struct mig_db **out, const char *addr, struct mig_err *err)
{
	static const char *const keys[] = { "dbname", "dbname", "fallback_application_name", NULL };
	char name[64], sql[128], *url = libpq_url(addr);
	const char *values[] = { url, name, "mig", NULL };
	struct pg_db *s;
	struct mig_db *admin = NULL;
	unsigned r = 0;
	int rc;

	*out = NULL;
	if (getentropy(&r, sizeof(r)) < 0)
		r = (unsigned)time(NULL);
	snprintf(name, sizeof(name), "mig_scratch_%lld_%ld_%08x", (long long)time(NULL), (long)getpid(), r);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE template0", name);
	if ((rc = pg_open(&admin, addr, 0, 0, err)) == 0)
		sweep_scratch(admin);
	if (rc < 0 || (rc = simple(admin, sql, err)) < 0) {
		if (admin)
			pg_close(admin);
		free(url);
		return rc;
	}
	pg_close(admin);
	s = mig_xcalloc(1, sizeof(*s));
	s->base.ops = &mig_postgres_backend;
	s->base.name = mig_xasprintf("%s (scratch database %s)", "sqlshow --schema", name);
	s->addr = mig_xstrdup(addr);
	s->scratch = mig_xstrdup(name);
	s->h = PQconnectdbParams(keys, values, 1);
	free(url);
	*out = &s->base;
	if (!s->h || PQstatus(s->h) != CONNECTION_OK) {
		rc = conn_error(*out, "cannot connect to database", err);
		pg_close(*out);
		*out = NULL;
		return rc;
	}
	PQsetNoticeProcessor(s->h, quiet, NULL);
	watch_client(*out);
	return 0;
}

static int pg_open_replay(struct mig_db **out, struct mig_db *src, const char *addr, struct mig_err *err)
{
	*out = NULL;
	if (src)
		return replay_beside(out, src, err);
	if (!addr)
		return mig_err_set(err, MIG_EENV, "a scratch PostgreSQL database needs a server to make it on");
	return replay_empty(out, addr, err);
}

static int pg_sql_complete(const char *sql, size_t len)
{
	const char *p = sql, *end = sql + len, *last = NULL;

	/* complete when the last statement ends with its ';' and only blanks follow */
	while ((p = mig_pg_skip_space(p, end)) < end) {
		last = mig_pg_statement_end(p, end);
		if (last == end && end[-1] != ';')
			return 0;
		p = last;
	}
	return last != NULL;
}

/* A URL libpq cannot read is refused before anything is created for it. */
static int pg_check(const char *addr, struct mig_err *err)
{
	char *msg = NULL, line[MIG_ERR_MSG], *shown, *why, *url = libpq_url(addr);
	PQconninfoOption *o = PQconninfoParse(url, &msg);
	int rc = 0;

	free(url);
	if (!o) {
		shown = mig_db_display_name(addr);
		why = mig_db_hide_password(addr, msg ? one_line(msg, line, sizeof(line)) : "out of memory");
		rc = mig_err_set(err, MIG_EENV, "database '%s': %s", shown, why);
		free(shown);
		free(why);
	}
	PQfreemem(msg);
	PQconninfoFree(o);
	return rc;
}

/* A server's database is there to ask: whether it exists, connecting says. */
static int pg_exists(const char *addr)
{
	(void)addr;
	return 1;
}

/*
 * Anything outside PostgreSQL's own schemas: a relation, function or
 * type, a schema but public, an extension but plpgsql. A database
 * CREATE DATABASE just made from template0 or an untouched template1 has
 * none, and its first run takes no snapshot, as a SQLite file that is
 * not there yet. Any doubt (no connection) is content.
 */
static const char content_query[] =
	"WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema')"
	" AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp\\_%')"
	" SELECT EXISTS (SELECT 1 FROM pg_class WHERE relnamespace IN (SELECT oid FROM ns))"
	" OR EXISTS (SELECT 1 FROM pg_proc WHERE pronamespace IN (SELECT oid FROM ns))"
	" OR EXISTS (SELECT 1 FROM pg_type WHERE typnamespace IN (SELECT oid FROM ns))"
	" OR EXISTS (SELECT 1 FROM ns WHERE nspname <> 'public')"
	" OR EXISTS (SELECT 1 FROM pg_extension WHERE extname <> 'plpgsql')";

static int pg_has_content(const char *addr, struct mig_db *open)
{
	struct mig_db *db = open;
	struct mig_err ignored = MIG_ERR_INIT;
	PGresult *r;
	int content = 1;

	if (!db && pg_open(&db, addr, MIG_DB_READONLY, 0, &ignored) < 0)
		return 1;
	r = exec_sql(db, content_query);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		content = strcmp(PQgetvalue(r, 0, 0), "f") != 0;
	PQclear(r);
	if (!open)
		pg_close(db);
	return content;
}

/* "WHAT 'database': why", the database shown without its password, the hint kept */
static int image_error(const char *addr, const char *what, struct mig_err *err)
{
	char *shown = mig_db_display_name(addr), *why = mig_xstrdup(err->msg), *hint = mig_xstrdup(err->hint);
	int code = err->code;

	mig_err_set(err, code, "%s '%s': %s", what, shown, why);
	memcpy(err->hint, hint, strlen(hint) + 1);
	free(shown);
	free(why);
	free(hint);
	return code;
}

static int pg_image_read(const char *addr, int timeout_ms, const struct mig_image_sink *sink, uint32_t *page_size,
			 uint64_t *size, struct mig_err *err)
{
	char *url = libpq_url(addr);
	int rc = mig_pg_image_read(url, timeout_ms, sink, page_size, size, err);

	free(url);
	return rc < 0 && strcmp(err->msg, "consumer failed") ? image_error(addr, "cannot snapshot", err) : rc;
}

static int pg_image_write(const char *addr, int timeout_ms, const struct mig_image_source *src,
			  struct mig_err *err)
{
	char *url = libpq_url(addr);
	int rc = mig_pg_image_write(url, timeout_ms, src, err);

	free(url);
	return rc < 0 ? image_error(addr, "cannot restore into", err) : rc;
}

static const char *const schemes[] = { "postgres", "postgresql", NULL };

const struct mig_backend mig_postgres_backend = {
	.name = "postgres",
	.schemes = schemes,
	.bookkeeping = mig_pg_bookkeeping_files,
	.bookkeeping_nr = &mig_pg_bookkeeping_nr,
	.bookkeeping_sql = pg_bookkeeping_sql,
	.check = pg_check,
	.exists = pg_exists,
	.has_content = pg_has_content,
	.open = pg_open,
	.open_replay = pg_open_replay,
	.close = pg_close,
	.lock = pg_lock,
	.statement_lock_timeout = pg_statement_lock_timeout,
	.exec = pg_exec,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.in_transaction = pg_in_transaction,
	.defer_fks = pg_defer_fks,
	.fk_check = pg_fk_check,
	.applied = pg_applied,
	.record = pg_record,
	.update = pg_update,
	.unrecord = pg_unrecord,
	.set_applied_at = pg_set_applied_at,
	.set_schema_hash = pg_set_schema_hash,
	.journal_add = pg_journal_add,
	.journal_pending = pg_journal_pending,
	.journal_count = pg_journal_count,
	.journal_clear = pg_journal_clear,
	.foreign = pg_foreign,
	.schema = pg_schema,
	.schema_key = pg_schema_key,
	.dump_schema = pg_dump_schema,
	.schema_sql = pg_schema_sql,
	.sql_complete = pg_sql_complete,
	.step_sql = pg_step_sql,
	.image_read = pg_image_read,
	.image_write = pg_image_write,
	.image_import = mig_pg_image_import,
};
