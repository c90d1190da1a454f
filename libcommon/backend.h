#ifndef MIG_BACKEND_H
#define MIG_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include "db.h"
#include "graph.h"
#include "image.h"

/*
 * The database seam: everything mig asks of a database, as a table of
 * functions (libgit2's git_odb_backend is the model). db.c picks the
 * backend by the database's address and then calls through db->ops, one
 * indirect call per mig_db_* call, never one per row. A backend is one
 * set of files (sqlite-*.c for SQLite) that fills a struct mig_backend,
 * and one line in db.c's list of backends; only those files include the
 * database's client library. Nothing above db.h includes this header.
 *
 * Errors. An op that takes err returns 0, or a negative MIG_E* with err
 * set: one line, naming the database by db->name (never with a password
 * in it), and a hint where there is a next step to name.
 *   MIG_ESQL   the revision's fault: its SQL failed or was refused, a
 *              constraint failed. Only exec, fk_check and foreign
 *              return it; the run rolls the revision back and exits 4.
 *   MIG_EENV   the environment's fault: cannot open, locked past the
 *              timeout, I/O error, disk full, out of memory, a lost
 *              connection, a corrupt database, bookkeeping this mig
 *              cannot read. Exit 6.
 * A backend never prints and never exits.
 */

/*
 * What every backend's handle begins with: a backend's own struct
 * embeds it first, and is what its ops cast db back to. db.c reads
 * nothing else of a handle.
 */
struct mig_db {
	const struct mig_backend *ops;
	char *name;	/* the database in messages: a path, or a URL without its password */
	int readonly;	/* opened with MIG_DB_READONLY */
	int dry;	/* opened with MIG_DB_DRYRUN */
};

struct mig_backend {
	const char *name;		/* "sqlite" */
	/*
	 * The URL schemes it serves ("postgres", ...), NULL-terminated; NULL
	 * for the one backend that takes every address that is not a URL
	 * (a file path).
	 */
	const char *const *schemes;
	/*
	 * mig's own bookkeeping revisions in the backend's dialect (for
	 * SQLite, those in migrations/, built in): mig_db_bookkeeping
	 * applies the ones a database lacks, through exec and record, each
	 * in a transaction.
	 */
	const struct mig_memfile *bookkeeping;
	const unsigned long *bookkeeping_nr;
	/*
	 * Optional: a bookkeeping revision's SQL as it runs, appended to out
	 * (PostgreSQL's name their schema mig, and run in mig.schema's); NULL:
	 * as written. Lines stay where they are.
	 */
	void (*bookkeeping_sql)(struct mig_buf *out, const char *sql, size_t len);

	/* --- the address, before anything is opened --- */

	/*
	 * Could addr be opened, as far as can be told without opening it?
	 * Refuse what would hang or harm (a FIFO, a device) with MIG_EENV
	 * before any command creates a store beside it. A missing database
	 * is no error here.
	 */
	int (*check)(const char *addr, struct mig_err *err);
	/* Is there a database at addr (no error: 0 when that cannot be told)? */
	int (*exists)(const char *addr);
	/*
	 * Is there anything at addr a snapshot would keep (no error: 1 when
	 * that cannot be told)? A run takes no snapshot of nothing. db, when
	 * not NULL, is a connection to it open already, to ask on.
	 */
	int (*has_content)(const char *addr, struct mig_db *db);

	/* --- a connection --- */

	/*
	 * Open addr with MIG_DB_* flags, waiting up to busy_ms for other
	 * connections, and allocate the handle (*out, NULL on failure).
	 * READONLY never writes nor creates; CREATE creates a missing
	 * database; DRYRUN wraps everything in one transaction that close
	 * rolls back (begin and commit then nest in it). Not a database,
	 * locked, unreadable, read-only when asked to write: MIG_EENV.
	 */
	int (*open)(struct mig_db **out, const char *addr, int flags, int busy_ms, struct mig_err *err);
	/*
	 * A scratch database to replay revisions on, for sqlshow's schema
	 * hash and --schema: with src's schema (a handle of this backend),
	 * or, with src NULL, empty, made where addr says (NULL: anywhere);
	 * close removes it.
	 */
	int (*open_replay)(struct mig_db **out, struct mig_db *src, const char *addr, struct mig_err *err);
	/* Roll back what a dry run did, free everything; db is never NULL. */
	void (*close)(struct mig_db *db);
	/*
	 * Optional: a lock the database itself keeps, so that runs on other
	 * hosts (which do not share the store's lock file) wait for each
	 * other. mig_db_open takes it for every connection that may write,
	 * waiting up to busy_ms (MIG_EENV on timeout, naming the holder);
	 * close releases it. NULL when the database needs none (SQLite: the
	 * store's lock and BEGIN IMMEDIATE serialise writers).
	 */
	int (*lock)(struct mig_db *db, int busy_ms, struct mig_err *err);
	/*
	 * Optional: how long, in ms, a revision's statement may wait for a
	 * lock another transaction holds (mig.statementLockTimeout) before
	 * it fails with MIG_EENV; 0 waits as long as it takes. NULL where
	 * statements never queue behind other transactions' locks (SQLite:
	 * the run's BEGIN IMMEDIATE waits, once, up to busy_ms).
	 */
	int (*statement_lock_timeout)(struct mig_db *db, int ms, struct mig_err *err);

	/* --- running a revision --- */

	/*
	 * mig_db_exec's contract (db.h): the statements one at a time, an
	 * error "WHERE:LINE: message" with the line of the failing statement
	 * counted from first_line; transaction control and writes to mig's
	 * bookkeeping refused before they run unless flags allow them. On a
	 * NOT NULL, UNIQUE or CHECK failure, the hint names the rows to blame
	 * (table, count, a sample of keys): the constraint diagnosis, which
	 * runs inside the failing transaction.
	 */
	int (*exec)(struct mig_db *db, const char *where, const char *sql, size_t len, int first_line,
		    unsigned flags, struct mig_err *err);
	/* A revision's transaction; in a dry run, a savepoint in the run's own. */
	int (*begin)(struct mig_db *db, struct mig_err *err);
	int (*commit)(struct mig_db *db, struct mig_err *err);
	/* Undo the revision's transaction, if one is open; never fails the caller. */
	void (*rollback)(struct mig_db *db);
	/* Is a transaction open, other than a dry run's own? */
	int (*in_transaction)(struct mig_db *db);
	/* Check foreign keys at commit only, so that a table can be rebuilt. */
	int (*defer_fks)(struct mig_db *db, struct mig_err *err);
	/*
	 * Every foreign key, before the revision commits: violations are
	 * MIG_ESQL "WHERE: FOREIGN KEY constraint failed: N rows violate it"
	 * with the child table, the parent, a sample and a count in the hint.
	 */
	int (*fk_check)(struct mig_db *db, const char *where, struct mig_err *err);

	/* --- mig's bookkeeping --- */

	/*
	 * The rows of scope ("app": the project's, "mig": mig's own) in
	 * apply order; none when the database has no bookkeeping yet. A
	 * table of mig's name that is not mig's is MIG_EENV.
	 */
	int (*applied)(struct mig_db *db, const char *scope, struct mig_applied_list *out,
		       struct mig_err *err);
	int (*record)(struct mig_db *db, const char *scope, const char *name, const char *id,
		      long long duration_ms, int dirty, struct mig_err *err);
	int (*update)(struct mig_db *db, const char *scope, const char *name, const char *id, int dirty,
		      struct mig_err *err);
	int (*unrecord)(struct mig_db *db, const char *scope, const char *name, struct mig_err *err);
	int (*set_applied_at)(struct mig_db *db, const char *scope, const char *name, const char *at,
			      struct mig_err *err);
	int (*set_schema_hash)(struct mig_db *db, const char *hash, struct mig_err *err);
	/* The journal rows of db.h: add, read, count (reading none) and clear. */
	int (*journal_add)(struct mig_db *db, const char *run, const char *op, const char *name,
			   const char *id, long long ms, const char *snapshot, struct mig_err *err);
	int (*journal_pending)(struct mig_db *db, struct mig_journal_rows *out, struct mig_err *err);
	int (*journal_count)(struct mig_db *db, size_t *n, struct mig_err *err);
	int (*journal_clear)(struct mig_db *db, struct mig_err *err);
	/*
	 * Another tool's bookkeeping: run query (layout.c has one per tool)
	 * and append each row's first column, as text, to out->v; and when
	 * the query has a second column, its text (NULL for null) to
	 * out->second, which db.c reads.
	 * A query the database cannot run (no such table, not that tool's
	 * shape) is MIG_ESQL with the database's message alone, which db.c
	 * words; the environment failing is MIG_EENV.
	 */
	int (*foreign)(struct mig_db *db, const char *query, struct mig_foreign *out, struct mig_err *err);

	/* --- the schema --- */

	/* mig_db_schema, mig_db_schema_key and mig_db_dump_schema of db.h. */
	int (*schema)(struct mig_db *db, struct mig_buf *out, struct mig_err *err);
	int (*schema_key)(struct mig_db *db, char out[33], struct mig_err *err);
	int (*dump_schema)(struct mig_db *db, struct mig_buf *out, struct mig_err *err);
	/* mig_db_schema_sql of db.h */
	int (*schema_sql)(struct mig_db *db, struct mig_buf *out, struct mig_err *err);

	/* --- the dialect, as sqlshow prints it --- */

	int (*sql_complete)(const char *sql, size_t len);
	/* a step of a run as the SQL text the backend runs for it, v written in, ending ";\n" */
	void (*step_sql)(struct mig_buf *b, enum mig_db_step step, const struct mig_db_row *v);

	/*
	 * --- images, for snapshots: mig_image_read and mig_image_write of
	 * image.h; NULL in a backend that cannot take snapshots yet ---
	 */

	int (*image_read)(const char *addr, int timeout_ms, const struct mig_image_sink *sink,
			  uint32_t *page_size, uint64_t *size, struct mig_err *err);
	int (*image_write)(const char *addr, int timeout_ms, const struct mig_image_source *src,
			   struct mig_err *err);
	/* mig_image_import; NULL where the image is the file's own bytes, the store's to read */
	int (*image_import)(const struct mig_image_stream *in, const struct mig_image_sink *sink,
			    uint32_t *page_size, uint64_t *size, struct mig_err *err);
};

/* The backends built in, each listed once in db.c. */
extern const struct mig_backend mig_sqlite_backend;
extern const struct mig_backend mig_postgres_backend;

#endif
