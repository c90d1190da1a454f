#ifndef MIG_DB_H
#define MIG_DB_H

#include <stddef.h>
#include "err.h"
#include "revfile.h"
#include "util.h"

/*
 * The database layer. Everything above it sees a database that can run
 * scripts statement by statement, hold transactions, keep mig's
 * bookkeeping and fingerprint its schema; which database it is (SQLite,
 * by a file path) is the business of the backend behind it (backend.h),
 * chosen by the address at open.
 */
struct mig_db;

enum {
	MIG_DB_READONLY = 1,	/* never write, never create */
	MIG_DB_CREATE = 2,	/* create the file when missing */
	MIG_DB_DRYRUN = 4,	/* one transaction around everything, rolled back at close */
};

/* A row of bookkeeping: one applied revision. */
struct mig_applied {
	char *name;
	char id[41];
	char *applied_at;
	long long duration_ms;
	char *schema_hash;	/* NULL when not recorded */
	int dirty;
	long long seq;
};

struct mig_applied_list {
	struct mig_applied *v;
	size_t nr;
};

/*
 * Could the database at addr (a path, or a URL such as postgres://...)
 * be opened, as far as can be told without opening it? A URL whose
 * backend is not built in, and a path that is not a regular file, are
 * MIG_EENV: refused before any command creates anything beside them.
 */
int mig_db_check(const char *addr, struct mig_err *err);

/* Is there a database at addr? */
int mig_db_exists(const char *addr);

/*
 * Is there a database at addr with something in it to snapshot? A
 * file's is when it is not empty; a server's when anything is there
 * outside its own schemas, asked on db when that is a connection to it
 * open already (else on one of its own), and when that cannot be told.
 */
int mig_db_has_content(const char *addr, struct mig_db *db);

/* Does addr name its database by URL (SCHEME://...), not by a path? */
int mig_db_is_url(const char *addr);

/*
 * The store's default name for the database at addr: "PATH.mig" for a
 * file; for a server's database "NAME.mig", NAME its database name as
 * libpq finds it (the URL's, PGDATABASE, the URL's user, PGUSER, the
 * login name) with what a file name should not hold made '_'.
 */
char *mig_db_store_name(const char *addr);

/*
 * addr as it may be shown: a URL without its password (user:***@,
 * password=***); a path unchanged. The caller frees it.
 */
char *mig_db_display_name(const char *addr);

/* Whether addr is a URL that holds a password, which is never shown. */
int mig_db_has_password(const char *addr);

/*
 * text, a message about addr, with every password addr holds, as
 * written there, shown as ***: libpq quotes a token it cannot read
 * ("SECRET"), or the whole URL (:SECRET@, =SECRET&). The caller frees it.
 */
char *mig_db_hide_password(const char *addr, const char *text);

/*
 * mig.schema: the schema of mig's bookkeeping in a server's database,
 * for every database this process opens (NULL: the default, "mig").
 * SQLite has no schemas, and ignores it. The getter never returns NULL.
 */
void mig_db_set_schema(const char *name);
const char *mig_db_schema_name(void);

/*
 * Open the database at addr with the backend its address names, waiting
 * up to busy_ms for other connections (and, where the database keeps a
 * lock of its own, for other runs: unless READONLY).
 */
int mig_db_open(struct mig_db **out, const char *path, int flags, int busy_ms,
		struct mig_err *err);
void mig_db_close(struct mig_db *db);

/*
 * Let each statement of a revision wait at most ms for a lock that
 * another transaction holds (mig.statementLockTimeout): a migration
 * never queues behind a long transaction and all that queues behind it.
 * A no-op for a database without such waits.
 */
int mig_db_statement_lock_timeout(struct mig_db *db, int ms, struct mig_err *err);

/*
 * Check mig's own bookkeeping: a database written by a newer mig (it has
 * bookkeeping revisions this mig does not know) is MIG_EENV. Unless the
 * database was opened read-only, apply the bookkeeping revisions it lacks.
 */
int mig_db_bookkeeping(struct mig_db *db, struct mig_err *err);

/* The project's applied revisions in apply order; empty without bookkeeping. */
int mig_db_applied(struct mig_db *db, struct mig_applied_list *out, struct mig_err *err);
void mig_applied_list_release(struct mig_applied_list *l);

enum {
	MIG_EXEC_OWN_TX = 1,	/* a no-transaction revision: it may begin and end its own */
	MIG_EXEC_BOOKKEEPING = 2,	/* mig's own revisions: they may change mig_revisions */
};

/*
 * Run the statements of sql one by one. On failure the message is
 * "WHERE:LINE: sqlite's message", LINE counted from first_line, and the
 * code MIG_ESQL, or MIG_EENV when the fault is the environment's (disk
 * full, I/O error, out of memory, locked). Unless flags allow it, a
 * statement that would begin, commit or end a transaction or savepoint,
 * or change mig's bookkeeping, is refused before it runs (MIG_ESQL): a
 * revision can never commit mig's transaction, nor forge its record.
 */
int mig_db_exec(struct mig_db *db, const char *where, const char *sql, size_t len,
		int first_line, unsigned flags, struct mig_err *err);

/*
 * PRAGMA foreign_key_check: violations are MIG_ESQL listing the child
 * rows (table, rowid) and the parent table they miss, a sample and a count.
 */
int mig_db_fk_check(struct mig_db *db, const char *where, struct mig_err *err);

/* Defer foreign key checks to commit, so a table rebuild can run. */
int mig_db_defer_fks(struct mig_db *db, struct mig_err *err);

/* Delete the bookkeeping row of scope/name. */
int mig_db_unrecord(struct mig_db *db, const char *scope, const char *name, struct mig_err *err);

int mig_db_begin(struct mig_db *db, struct mig_err *err);
/* Is a transaction open (one that is not a dry run's own)? */
int mig_db_in_transaction(struct mig_db *db);
int mig_db_commit(struct mig_db *db, struct mig_err *err);
void mig_db_rollback(struct mig_db *db);

/* Insert (or replace) the bookkeeping row of scope ("app" or "mig"). */
int mig_db_record(struct mig_db *db, const char *scope, const char *name,
		  const char *id, long long duration_ms, int dirty, struct mig_err *err);

/* The database as messages name it: a path, or a URL without its password. */
const char *mig_db_name(const struct mig_db *db);

/*
 * Set the applied time of scope/name (UTC, ISO 8601 as mig writes it):
 * the time another tool recorded, for a revision fake --adopt records.
 */
int mig_db_set_applied_at(struct mig_db *db, const char *scope, const char *name, const char *at,
			  struct mig_err *err);

/* Set the id (unless NULL) and the dirty flag of scope/name, keeping its place. */
int mig_db_update(struct mig_db *db, const char *scope, const char *name, const char *id,
		  int dirty, struct mig_err *err);

/*
 * The project's schema, normalized: one line per object ("TYPE NAME: SQL",
 * white space collapsed outside quotes) in type and name order, without
 * mig's and SQLite's own objects. Its blob id is the schema hash.
 */
int mig_db_schema(struct mig_db *db, struct mig_buf *out, struct mig_err *err);

/*
 * A cheap fingerprint of the whole schema as stored (32 hex digits): the
 * XXH3-128 of every row of sqlite_schema, unnormalized, in storage order.
 * Equal keys mean an equal schema hash; a different key may not mean a
 * different hash.
 */
int mig_db_schema_key(struct mig_db *db, char out[33], struct mig_err *err);

/* Record hash as the schema after the last applied revision. */
int mig_db_set_schema_hash(struct mig_db *db, const char *hash, struct mig_err *err);

/*
 * A scratch database to replay revisions on, of src's backend: empty,
 * or with src's schema (no rows) when src is given; without src, a
 * SQLite database in memory.
 */
int mig_db_open_replay(struct mig_db **out, struct mig_db *src, struct mig_err *err);

/* An empty scratch database of the backend addr names (NULL: SQLite's), to replay revisions on. */
int mig_db_open_scratch(struct mig_db **out, const char *addr, struct mig_err *err);

/* The schema as SQL, "STATEMENT;" per line, in creation order. */
int mig_db_dump_schema(struct mig_db *db, struct mig_buf *out, struct mig_err *err);

/*
 * The project's schema (not mig's nor SQLite's own objects) as runnable
 * SQL for mig.schemaFile, "STATEMENT;" per line, in an order that
 * depends on the schema alone, not on the order it was built in: tables
 * by name, views in creation order (one may use another), then indexes
 * and triggers by name.
 */
int mig_db_schema_sql(struct mig_db *db, struct mig_buf *out, struct mig_err *err);

/*
 * The two below speak db's dialect, and with db NULL that of database
 * files (SQLite's): what sqlshow prints for a database that may not
 * exist yet.
 */

/* Does sql end with a complete statement (sqlite3_complete)? */
int mig_sql_complete(struct mig_db *db, const char *sql, size_t len);


/*
 * The steps of a run that are mig's, not the revision's: its
 * transaction and bookkeeping. mig_db_step_sql writes the very SQL the
 * database layer runs for each (what sqlshow prints), with the values
 * of v written in.
 */
enum mig_db_step {
	MIG_STEP_BEGIN,
	MIG_STEP_DEFER_FKS,
	MIG_STEP_FK_CHECK,
	MIG_STEP_RECORD,	/* insert or replace the row of scope/name: id, ms, dirty */
	MIG_STEP_UPDATE,	/* set the id (unless NULL) and dirty of scope/name */
	MIG_STEP_UNRECORD,	/* delete the row of scope/name */
	MIG_STEP_SCHEMA_HASH,	/* the schema hash on the last applied row */
	MIG_STEP_COMMIT,
	MIG_STEP_APPLIED_AT,	/* set the applied time of scope/name */
};
struct mig_db_row {
	const char *scope, *name, *id;
	long long ms;
	int dirty;
	const char *hash;
	const char *at;		/* an applied time, UTC, ISO 8601 */
};
void mig_db_step_sql(struct mig_db *db, struct mig_buf *b, enum mig_db_step step, const struct mig_db_row *v);

/*
 * The script that creates or upgrades mig's bookkeeping in db (NULL: a
 * database that does not exist yet), each revision in a transaction.
 */
int mig_db_bookkeeping_sql(struct mig_db *db, struct mig_buf *out, struct mig_err *err);

/*
 * The journal entry of the run in progress, kept in the database (table
 * mig_journal) in the transaction of each revision the run commits, so
 * that no committed change can miss its entry in the store's journal.
 */
struct mig_journal_row {
	char *run;		/* the run's token */
	char *op;
	char *name;
	char *id;
	long long ms;
	char *snapshot;		/* NULL when none was taken */
};

struct mig_journal_rows {
	struct mig_journal_row *v;
	size_t nr;
};

int mig_db_journal_add(struct mig_db *db, const char *run, const char *op, const char *name, const char *id,
		       long long ms, const char *snapshot, struct mig_err *err);
/* The rows of a run that ended before its entry reached the store; none for an old database. */
int mig_db_journal_pending(struct mig_db *db, struct mig_journal_rows *out, struct mig_err *err);
void mig_journal_rows_release(struct mig_journal_rows *rows);
/* How many such rows there are: a look that reads none of them. */
int mig_db_journal_count(struct mig_db *db, size_t *n, struct mig_err *err);
/* The entry is in the store: forget it. */
int mig_db_journal_clear(struct mig_db *db, struct mig_err *err);

/* Versions another tool's bookkeeping records as applied. */
struct mig_foreign {
	char **v;
	char **second;	/* each row's second column as text (NULL when null), when the query has one */
	size_t nr;
	int upto;	/* golang-migrate: v[0] and every version before it */
	int dirty;	/* golang-migrate: v[0] did not finish */
};

/*
 * How to read another tool's bookkeeping (layout.c's table holds one
 * per tool): sql's first column is a version applied; with upto, its
 * one row is the current version, every version up to it is applied,
 * and the second column says whether it is dirty. Otherwise a second
 * column is the tool's own (Django's applied time), left in second.
 */
struct mig_foreign_query {
	const char *table;	/* for messages */
	const char *sql;
	int upto;
};

int mig_db_foreign(struct mig_db *db, const char *tool, const struct mig_foreign_query *q, struct mig_foreign *out,
		   struct mig_err *err);
void mig_foreign_release(struct mig_foreign *f);

#endif
