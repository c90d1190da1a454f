/*
 * Which rows are to blame when a revision fails on a NOT NULL, UNIQUE or
 * CHECK constraint. Part of the database module: it speaks SQLite, and
 * runs inside the failing revision's transaction, so it sees the tables
 * the revision made before the failing statement.
 *
 * The case that matters most is the table rebuild,
 *	CREATE TABLE users_new (...email TEXT NOT NULL...);
 *	INSERT INTO users_new (id, email) SELECT id, email FROM users;
 * where SQLite names users_new, which is empty, while the rows to fix are
 * in users. There the INSERT's own SELECT is asked for the rows, with
 * the target's column names put on its result columns and the source's
 * rowid in front: WITH mig_src(mig_rowid, id, email) AS (SELECT rowid,
 * id, email FROM users) SELECT mig_rowid FROM mig_src WHERE email IS NULL.
 * Any other statement (CREATE UNIQUE INDEX, UPDATE) is about the rows of
 * the table SQLite names.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sqlite3.h>

#include "sqlite-diagnose.h"
#include "util.h"

#define SAMPLE 5

struct tok {
	const char *p;
	size_t len;
};

/* The next token at *pp: an identifier (maybe quoted), a word or one character. */
static int next(const char **pp, const char *end, struct tok *t)
{
	const char *p = mig_sql_skip_space(*pp, end);

	if (p >= end)
		return 0;
	t->p = p;
	if (*p == '"' || *p == '`' || *p == '[') {
		char close = *p == '[' ? ']' : *p;

		for (p++; p < end && *p != close; p++)
			;
		p = p < end ? p + 1 : end;
	} else if (isalnum((unsigned char)*p) || *p == '_' || *p == '$') {
		while (p < end && (isalnum((unsigned char)*p) || *p == '_' || *p == '$'))
			p++;
	} else {
		p++;
	}
	t->len = p - t->p;
	*pp = p;
	return 1;
}

static int is(const struct tok *t, const char *word)
{
	return t->len == strlen(word) && !strncasecmp(t->p, word, t->len);
}

/* An identifier without its quotes, for comparing with SQLite's names. */
static char *unquote(const struct tok *t)
{
	if (t->len >= 2 && (t->p[0] == '"' || t->p[0] == '`' || t->p[0] == '['))
		return mig_xstrndup(t->p + 1, t->len - 2);
	return mig_xstrndup(t->p, t->len);
}

static void add_ident(struct mig_buf *b, const char *name)
{
	mig_buf_addc(b, '"');
	for (; *name; name++) {
		if (*name == '"')
			mig_buf_addc(b, '"');
		mig_buf_addc(b, *name);
	}
	mig_buf_addc(b, '"');
}

struct insert {
	char *target;		/* INSERT INTO target */
	struct mig_buf cols;	/* "c1", "c2" ... as the CTE's column names */
	const char *select;	/* the SELECT keyword, or NULL */
	const char *end;
	char *source;		/* the first table after FROM, for messages */
};

/* Read "INSERT [OR x] INTO t [(cols)] SELECT ... FROM source ..." */
static int parse_insert(sqlite3 *h, const char *sql, const char *end, struct insert *in)
{
	const char *p = sql;
	struct tok t;

	memset(in, 0, sizeof(*in));
	in->end = end;
	if (!next(&p, end, &t) || !(is(&t, "INSERT") || is(&t, "REPLACE")))
		return -1;
	if (!next(&p, end, &t))
		return -1;
	if (is(&t, "OR") && (!next(&p, end, &t) || !next(&p, end, &t)))
		return -1;
	if (!is(&t, "INTO") || !next(&p, end, &t))
		return -1;
	in->target = unquote(&t);
	if (!next(&p, end, &t))
		return -1;
	if (t.len == 1 && *t.p == '.') {	/* schema.table */
		free(in->target);
		in->target = NULL;
		if (!next(&p, end, &t))
			return -1;
		in->target = unquote(&t);
		if (!next(&p, end, &t))
			return -1;
	}
	if (t.len == 1 && *t.p == '(') {
		while (next(&p, end, &t) && !(t.len == 1 && *t.p == ')')) {
			char *c;

			if (t.len == 1 && *t.p == ',')
				continue;
			c = unquote(&t);
			if (in->cols.len)
				mig_buf_adds(&in->cols, ", ");
			add_ident(&in->cols, c);
			free(c);
		}
		if (!next(&p, end, &t))
			return -1;
	} else {
		/* no column list: the target's columns in order */
		char *q = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q)", in->target);
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK)
			while (sqlite3_step(st) == SQLITE_ROW) {
				if (in->cols.len)
					mig_buf_adds(&in->cols, ", ");
				add_ident(&in->cols, (const char *)sqlite3_column_text(st, 0));
			}
		sqlite3_finalize(st);
		sqlite3_free(q);
	}
	if (!is(&t, "SELECT") || !in->cols.len)
		return -1;
	in->select = t.p;
	while (next(&p, end, &t))
		if (is(&t, "FROM")) {
			if (next(&p, end, &t) && t.len && !(t.len == 1 && *t.p == '('))
				in->source = unquote(&t);
			break;
		}
	return 0;
}

static void insert_release(struct insert *in)
{
	free(in->target);
	free(in->source);
	mig_buf_release(&in->cols);
}

/*
 * The body of a CHECK constraint: by name from the table's CREATE
 * statement, or the text SQLite reported when it has no name.
 */
static char *check_expr(sqlite3 *h, const char *table, const char *what)
{
	sqlite3_stmt *st = NULL;
	char *expr = NULL;

	if (sqlite3_prepare_v2(h, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			const char *sql = (const char *)sqlite3_column_text(st, 0);
			const char *p = sql, *end = sql + strlen(sql);
			struct tok t;

			while (!expr && next(&p, end, &t)) {
				char *name;
				int found;

				if (!is(&t, "CONSTRAINT") || !next(&p, end, &t))
					continue;
				name = unquote(&t);
				found = !strcmp(name, what);
				free(name);
				if (found && next(&p, end, &t) && is(&t, "CHECK") && next(&p, end, &t) &&
				    *t.p == '(') {
					const char *start = p;
					int depth = 1;

					while (depth && next(&p, end, &t)) {
						if (*t.p == '(')
							depth++;
						else if (*t.p == ')')
							depth--;
						else if (*t.p == '\'') {	/* a string: to its end */
							while (p < end && *p != '\'')
								p++;
							p = p < end ? p + 1 : end;
						}
					}
					if (!depth)
						expr = mig_xstrndup(start, t.p - start);
				}
			}
		}
	}
	sqlite3_finalize(st);
	return expr ? expr : mig_xstrdup(what);
}

/*
 * Run q; one row per finding: (rowids, keys). Fill count and sample.
 * -1 when it fails, or when the rows have no rowid (a SELECT from a
 * subquery or a view gives NULL): then there are none to show.
 */
static long long run_query(sqlite3 *h, const char *q, struct mig_buf *sample, int grouped, int rowids)
{
	sqlite3_stmt *st = NULL;
	long long n = 0;

	if (sqlite3_prepare_v2(h, q, -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (rowids && sqlite3_column_type(st, 0) == SQLITE_NULL) {
			n = -1;
			break;
		}
		if (n < SAMPLE) {
			if (sample->len)
				mig_buf_adds(sample, ", ");
			if (grouped)
				mig_buf_addf(sample, "%s (rowid %s)", sqlite3_column_text(st, 1),
					     sqlite3_column_text(st, 0));
			else
				mig_buf_addf(sample, "%s", sqlite3_column_text(st, 0));
		}
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

void mig_diagnose(sqlite3 *h, const char *stmt, size_t len, struct mig_err *err)
{
	int code = sqlite3_extended_errcode(h);
	const char *msg = sqlite3_errmsg(h), *what;
	struct mig_buf src = MIG_BUF_INIT, q = MIG_BUF_INIT, cond = MIG_BUF_INIT, sample = MIG_BUF_INIT;
	struct mig_buf keys = MIG_BUF_INIT, plain = MIG_BUF_INIT, notnull = MIG_BUF_INIT, shown = MIG_BUF_INIT;
	char *table = NULL, *errmsg = mig_xstrdup(msg), *from = NULL, *check = NULL, *p;
	const char *end = stmt + len;
	struct insert in;
	long long n;
	int kind, grouped = 0, rowids = 1, ncols = 0;

	memset(&in, 0, sizeof(in));
	if (code == SQLITE_CONSTRAINT_NOTNULL)
		kind = 'N';
	else if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
		kind = 'U';
	else if (code == SQLITE_CONSTRAINT_CHECK)
		kind = 'C';
	else
		goto out;
	if (!(what = strstr(errmsg, "constraint failed: ")))
		goto out;
	what += strlen("constraint failed: ");
	while (end > stmt && (end[-1] == ';' || isspace((unsigned char)end[-1])))
		end--;
	/* "T.C" or "T.C1, T.C2": the table, and the columns as a key */
	if (kind != 'C') {
		for (p = (char *)what; *p; ) {
			char *dot = strchr(p, '.'), *comma;

			if (!dot)
				goto out;
			if (!table)
				table = mig_xstrndup(p, dot - p);
			comma = strstr(dot, ", ");
			if (keys.len) {
				mig_buf_adds(&keys, ", ");
				mig_buf_adds(&plain, ", ");
				mig_buf_adds(&notnull, " AND ");
				mig_buf_adds(&shown, " || ', ' || ");
			}
			*(comma ? comma : dot + strlen(dot)) = '\0';
			add_ident(&keys, dot + 1);
			mig_buf_adds(&shown, "quote(");
			add_ident(&shown, dot + 1);
			mig_buf_adds(&shown, ")");
			mig_buf_adds(&plain, dot + 1);
			add_ident(&notnull, dot + 1);
			mig_buf_adds(&notnull, " IS NOT NULL");
			ncols++;
			p = comma ? comma + 2 : dot + strlen(dot);
		}
	}
	if (parse_insert(h, stmt, end, &in) == 0 && (!table || !strcmp(table, in.target))) {
		if (!table)
			table = mig_xstrdup(in.target);
		from = mig_xstrdup(in.source ? in.source : "the source");
		/* the source's rowid in front, when the SELECT has one plain table */
		mig_buf_addf(&src, "WITH mig_src(mig_rowid, %s) AS (SELECT rowid, %.*s) ", in.cols.buf,
			     (int)(end - in.select - 6), in.select + 6);
	} else {
		if (!table) {
			/* CHECK outside an INSERT: the statement's table */
			const char *s = stmt;
			struct tok t;

			if (!next(&s, end, &t) || !is(&t, "UPDATE") || !next(&s, end, &t))
				goto out;
			if (is(&t, "OR") && (!next(&s, end, &t) || !next(&s, end, &t)))
				goto out;
			table = unquote(&t);
		}
		from = mig_xstrdup(table);
		mig_buf_adds(&src, "WITH mig_src AS (SELECT rowid AS mig_rowid, * FROM ");
		add_ident(&src, table);
		mig_buf_adds(&src, ") ");
	}
	if (kind == 'N') {
		mig_buf_addf(&q, "%sSELECT mig_rowid FROM mig_src WHERE %s IS NULL", src.buf, keys.buf);
	} else if (kind == 'U') {
		/* NULLs are never equal to each other for UNIQUE; a composite key shows as (v1, v2) */
		mig_buf_addf(&q, "%sSELECT group_concat(mig_rowid, ', '), %s%s%s FROM mig_src"
			     " WHERE %s GROUP BY %s HAVING count(*) > 1", src.buf, ncols > 1 ? "'(' || " : "",
			     shown.buf, ncols > 1 ? " || ')'" : "", notnull.buf, keys.buf);
		grouped = 1;
	} else {
		check = check_expr(h, table, what);
		mig_buf_addf(&q, "%sSELECT mig_rowid FROM mig_src WHERE NOT (%s)", src.buf, check);
	}
	n = run_query(h, q.buf, &sample, grouped, 1);
	if (n < 0 && in.select) {
		/* no single table to take rowids from (a join, DISTINCT): count only */
		char *rest = strstr(q.buf, ") SELECT ");

		mig_buf_reset(&src);
		mig_buf_addf(&src, "WITH mig_src0(%s) AS (%.*s), mig_src AS (SELECT NULL AS mig_rowid, * FROM mig_src0)%s",
			     in.cols.buf, (int)(end - in.select), in.select, rest ? rest + 1 : "");
		mig_buf_reset(&sample);
		n = run_query(h, src.buf, &sample, grouped, 0);
		rowids = 0;
	}
	if (n <= 0)
		goto out;
	if (kind == 'N')
		mig_buf_addf(&cond, "%lld row%s of %s would leave %s.%s NULL", n, n == 1 ? "" : "s", from,
			     table, plain.buf);
	else if (kind == 'U')
		mig_buf_addf(&cond, "%lld value%s of %s (%s) %s duplicated in %s", n, n == 1 ? "" : "s", table,
			     plain.buf, n == 1 ? "is" : "are", from);
	else
		mig_buf_addf(&cond, "%lld row%s of %s fail%s CHECK (%s)", n, n == 1 ? "" : "s", from,
			     n == 1 ? "s" : "", check);
	if (!rowids)
		mig_err_hint(err, "%s (its SELECT reads no single table, so no rowids)", cond.buf);
	else
		mig_err_hint(err, "%s: %s%s%s; fix or delete %s, then run again", cond.buf, grouped ? "" : "rowid ",
			     sample.buf, n > SAMPLE ? ", ..." : "", n == 1 && !grouped ? "it" : "them");
out:
	free(table);
	free(errmsg);
	free(from);
	free(check);
	insert_release(&in);
	mig_buf_release(&src);
	mig_buf_release(&q);
	mig_buf_release(&cond);
	mig_buf_release(&sample);
	mig_buf_release(&keys);
	mig_buf_release(&plain);
	mig_buf_release(&notnull);
	mig_buf_release(&shown);
}
