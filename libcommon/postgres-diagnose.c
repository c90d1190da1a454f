/*
 * Which rows a failed constraint is about, on PostgreSQL: the error's
 * fields name the table, the column and the constraint; the rows to
 * blame are asked of the database as it was before the revision, on a
 * second connection (the failing transaction can no longer answer),
 * read-only and for a few seconds at most. Rows the revision itself
 * made are not there to find: then the server's DETAIL stays the hint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "postgres-diagnose.h"
#include "postgres-lex.h"
#include "util.h"

#define SAMPLE 5

/* The first value of the query's result, or NULL; the caller frees it. */
static char *value(PGconn *h, const char *sql)
{
	PGresult *r = PQexec(h, sql);
	char *v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ?
			  mig_xstrdup(PQgetvalue(r, 0, 0)) : NULL;

	PQclear(r);
	return v;
}

/* "a, b" of the sample's first column, and the count of all of the query's rows */
static long long sample(PGconn *h, const char *from_where, const char *what, struct mig_buf *out)
{
	char *sql = mig_xasprintf("SELECT %s, count(*) OVER () FROM %s LIMIT %d", what, from_where, SAMPLE);
	PGresult *r = PQexec(h, sql);
	long long n = 0;
	int i;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
		n = atoll(PQgetvalue(r, 0, 1));
		for (i = 0; i < PQntuples(r); i++)
			mig_buf_addf(out, "%s%s", i ? ", " : "", PQgetvalue(r, i, 0));
	}
	PQclear(r);
	free(sql);
	return n;
}

/*
 * The expression of the CHECK constraint name: from the catalog when it
 * was there before, else from the statement that adds it ("CHECK (...)").
 */
static char *check_expr(PGconn *h, const char *table_lit, const char *name, const char *stmt, size_t len)
{
	char *lit = name ? PQescapeLiteral(h, name, strlen(name)) : NULL, *sql, *v = NULL;
	const char *p, *end = stmt + len, *open;
	char w[16];
	int depth;

	if (lit) {
		sql = mig_xasprintf("SELECT substring(pg_get_constraintdef(oid) FROM '^CHECK \\((.*)\\)')"
				    " FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass", lit, table_lit);
		v = value(h, sql);
		free(sql);
		PQfreemem(lit);
	}
	if (v)
		return v;
	/* the statement's own words: the parenthesis after CHECK, balanced */
	for (p = stmt; p < end; p++) {
		if (mig_pg_word(p, end, w, sizeof(w)) != 5 || strcmp(w, "check") ||
		    (p > stmt && (p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z'))))
			continue;
		open = mig_pg_skip_space(p + 5, end);
		if (open >= end || *open != '(')
			continue;
		for (p = open, depth = 0; p < end; p++)
			if (*p == '(')
				depth++;
			else if (*p == ')' && !--depth)
				return mig_xstrndup(open + 1, (size_t)(p - open - 1));
		break;
	}
	return NULL;
}

void mig_pg_diagnose(const char *url, PGresult *res, const char *stmt, size_t len, struct mig_err *err)
{
	static const char *const keys[] = { "dbname", "fallback_application_name", NULL };
	const char *values[] = { url, "mig diagnosis", NULL };
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *schema = PQresultErrorField(res, PG_DIAG_SCHEMA_NAME);
	const char *table = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
	const char *column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
	const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	struct mig_buf found = MIG_BUF_INIT, q = MIG_BUF_INIT;
	char *s_id = NULL, *t_id = NULL, *c_id = NULL, *t_lit = NULL, *c_lit = NULL, *key = NULL, *sql;
	char *expr = NULL, *shown = NULL, *has = NULL;
	PGconn *h;
	long long n = 0;

	if (!state || !table || !schema || strncmp(state, "23", 2))
		return;
	h = PQconnectdbParams(keys, values, 1);
	if (!h || PQstatus(h) != CONNECTION_OK ||
	    PQresultStatus(res = PQexec(h, "SET default_transaction_read_only = on; SET statement_timeout = 5000;"
					   " SET lock_timeout = 1000")) != PGRES_COMMAND_OK) {
		if (h)
			PQclear(res);
		goto out;
	}
	PQclear(res);
	s_id = PQescapeIdentifier(h, schema, strlen(schema));
	t_id = PQescapeIdentifier(h, table, strlen(table));
	sql = mig_xasprintf("%s.%s", s_id, t_id);
	t_lit = PQescapeLiteral(h, sql, strlen(sql));
	free(sql);
	/* the table was there before the revision, or there is nothing to ask */
	sql = mig_xasprintf("SELECT to_regclass(%s)", t_lit);
	has = value(h, sql);
	free(sql);
	if (!has)
		goto out;
	/* rows by primary key, (a, b) for one of several columns; ctid without one */
	sql = mig_xasprintf("SELECT CASE WHEN count(*) > 1 THEN '''('' || concat_ws('', '', ' ||"
			    " string_agg(quote_ident(a.attname) || '::text', ', ' ORDER BY k.i) || ') || '')'''"
			    " ELSE min(quote_ident(a.attname)) || '::text' END, string_agg(a.attname, ', '"
			    " ORDER BY k.i) FROM pg_index x CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(n, i)"
			    " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n"
			    " WHERE x.indrelid = %s::regclass AND x.indisprimary", t_lit);
	res = PQexec(h, sql);
	free(sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		key = mig_xstrdup(PQgetvalue(res, 0, 0));
		shown = mig_xstrdup(PQgetvalue(res, 0, 1));
	} else {
		key = mig_xstrdup("ctid::text");
		shown = mig_xstrdup("ctid");
	}
	PQclear(res);

	if (!strcmp(state, "23502") && column) {
		c_id = PQescapeIdentifier(h, column, strlen(column));
		c_lit = PQescapeLiteral(h, column, strlen(column));
		/* ADD COLUMN ... NOT NULL without a DEFAULT: every row there is */
		sql = mig_xasprintf("SELECT 1 FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s"
				    " AND NOT attisdropped", t_lit, c_lit);
		free(has);
		has = value(h, sql);
		free(sql);
		mig_buf_addf(&q, "%s.%s WHERE %s%s", s_id, t_id, has ? c_id : "true", has ? " IS NULL" : "");
		if ((n = sample(h, q.buf, key, &found)) > 0)
			mig_err_hint(err, "%lld row%s of %s would leave %s NULL: %s %s%s; fix or delete %s%s, then run again",
				     n, n == 1 ? "" : "s", table, column, shown, found.buf, n > SAMPLE ? ", ..." : "",
				     n == 1 ? "it" : "them", has ? "" : ", or give the column a DEFAULT");
	} else if (!strcmp(state, "23505") && detail && !strncmp(detail, "Key (", 5) && strstr(detail, ")=(")) {
		/* the key's columns as the server wrote them: "Key (a, b)=(1, 2) ..." */
		char *cols = mig_xstrndup(detail + 5, (size_t)(strstr(detail, ")=(") - detail - 5)), *pre, *pre_lit;

		mig_buf_addf(&q, "(SELECT (%s)::text AS v, string_agg(%s, ', ') AS k FROM %s.%s WHERE (%s) IS NOT NULL"
			     " GROUP BY %s HAVING count(*) > 1 ORDER BY 1) d", cols, key, s_id, t_id, cols, cols);
		pre = mig_xasprintf(" (%s ", shown);
		pre_lit = PQescapeLiteral(h, pre, strlen(pre));
		sql = mig_xasprintf("quote_literal(v) || %s || k || ')'", pre_lit ? pre_lit : "' ('");
		n = sample(h, q.buf, sql, &found);
		free(sql);
		free(pre);
		PQfreemem(pre_lit);
		if (n > 0)
			mig_err_hint(err, "%lld value%s of %s (%s) %s duplicated: %s%s; fix or delete them, then run again",
				     n, n == 1 ? "" : "s", table, cols, n == 1 ? "is" : "are", found.buf,
				     n > SAMPLE ? ", ..." : "");
		free(cols);
	} else if (!strcmp(state, "23514") && (expr = check_expr(h, t_lit, constraint, stmt, len))) {
		mig_buf_addf(&q, "%s.%s WHERE NOT (%s)", s_id, t_id, expr);
		if ((n = sample(h, q.buf, key, &found)) > 0)
			mig_err_hint(err, "%lld row%s of %s fail%s CHECK (%s): %s %s%s; fix or delete %s, then run again",
				     n, n == 1 ? "" : "s", table, n == 1 ? "s" : "", expr, shown, found.buf,
				     n > SAMPLE ? ", ..." : "", n == 1 ? "it" : "them");
	}
	/* the server's own detail, when it says more than the rows */
	if (n > 0 && detail)
		mig_err_hint_add(err, "%s", detail);
out:
	PQfreemem(s_id);
	PQfreemem(t_id);
	PQfreemem(c_id);
	PQfreemem(t_lit);
	PQfreemem(c_lit);
	free(key);
	free(shown);
	free(expr);
	free(has);
	mig_buf_release(&found);
	mig_buf_release(&q);
	if (h)
		PQfinish(h);
}
