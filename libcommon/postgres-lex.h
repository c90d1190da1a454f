#ifndef MIG_POSTGRES_LEX_H
#define MIG_POSTGRES_LEX_H

#include <stddef.h>
#include "util.h"

#include "util.h"

/*
 * PostgreSQL's lexical rules for the backend (postgres-db.c): no
 * parsing, no libpq, so the fuzzer and the unit tests reach them alone.
 */

/* Past blanks and comments (which nest) at p. */
const char *mig_pg_skip_space(const char *p, const char *end);

/* Where the statement that starts at p ends: past its ';', or end. */
const char *mig_pg_statement_end(const char *p, const char *end);

/*
 * The first word at p, after blanks and comments, lowercased (a quoted
 * name as it is), into out; its length, 0 when there is none.
 */
size_t mig_pg_word(const char *p, const char *end, char *out, size_t size);

/*
 * The transaction control the statement at p is ("begin", "commit",
 * "savepoint", "prepare transaction", ...), or NULL.
 */
const char *mig_pg_transaction_control(const char *p, const char *end);

/*
 * Is the statement at p an index built concurrently (CREATE [UNIQUE]
 * INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY), which leaves an
 * INVALID index behind when it fails?
 */
int mig_pg_concurrently(const char *p, const char *end);

/*
 * Does the statement [p, end) write to, make, change or drop something
 * in schema (its name, as mig.schema says it: quoted in the statement,
 * or bare when it is all lower case), or the schema itself, as far as its words tell
 * outside strings and comments? Reading it (SELECT ... FROM schema.t,
 * CREATE TABLE x AS SELECT ...) is no write.
 */
int mig_pg_writes_schema(const char *p, const char *end, const char *schema);

/*
 * Blank out (with spaces, so positions stay) the first word of the
 * statement p that is word (lowercase), outside strings and comments;
 * was there one?
 */
int mig_pg_blank_word(char *p, const char *word);

/*
 * name (mig.schema) as an SQL identifier: mig's default "mig" as it is,
 * any other in double quotes with each '"' doubled, so that whatever it
 * holds is one name, its case kept. The caller frees it.
 */
char *mig_pg_quote_ident(const char *name);

/*
 * tmpl with the bookkeeping schema written in: "{S}" as the identifier
 * of name, "{N}" as a string literal of name itself, "{SEQ}" as one of
 * the identifier's revisions_seq_seq (for nextval). The caller frees it.
 */
char *mig_pg_bk_sql(const char *tmpl, const char *name);

/*
 * Append [p, end) to out with each bare word mig outside strings,
 * comments and quoted names written as the identifier of name: mig's
 * own bookkeeping revisions call their schema so, and name nothing
 * else mig.
 */
void mig_pg_rename_schema(struct mig_buf *out, const char *p, const char *end, const char *name);

/*
 * Where a script read a piece at a time stands, as psql's lexer would
 * see it: in a statement, or between two (past a ';' outside strings,
 * E'' strings, quoted names, dollar quotes and nested comments, or past
 * the line of a psql meta-command). For pg_dump's output, whose COPY
 * lines are only COPY statements where this says between: a statement
 * in a BEGIN ATOMIC body, past one of its ';', is deparsed indented.
 */
struct mig_pg_scan {
	int state, depth, esc;
	int between, between_before;	/* no token since the last ';'; before the last byte */
	/*
	 * psql's own heuristic for a function body in standard SQL: in a
	 * statement that starts CREATE [OR REPLACE] FUNCTION or PROCEDURE,
	 * outside parentheses, BEGIN opens, CASE opens inside, END closes;
	 * a ';' ends the statement only outside both.
	 */
	int parens, begins, words;
	/*
	 * A BEGIN that counted and is no BEGIN ATOMIC (a function named
	 * begin, a column): psql joins what follows, up to an END, into one
	 * query, whatever statements the server finds in it. after_begin: the
	 * next word is due; stray_begins: how many there were.
	 */
	int after_begin, stray_begins;
	char firsts[4];			/* the first letters of its first words, of those that count */
	char word[12];			/* the word being read, lowercased, its first bytes */
	size_t wlen;			/* its length; 0 outside one */
	int bol;			/* at a line's start */
	char prev, prev2, quote;
	struct mig_buf tag;		/* of the dollar quote open */
	size_t match;			/* of its closing tag, so far */
};

void mig_pg_scan_init(struct mig_pg_scan *s);
void mig_pg_scan_release(struct mig_pg_scan *s);
/* Read n more bytes of the script. */
void mig_pg_scan(struct mig_pg_scan *s, const char *p, size_t n);
/* At a line's start, between statements? */
int mig_pg_scan_between(const struct mig_pg_scan *s);
/* In the line of a psql meta-command, from its backslash to before its newline? */
int mig_pg_scan_meta(const struct mig_pg_scan *s);
/* In code (a dollar quote's opening tag too): outside strings, quoted names, dollar quotes, comments and meta-commands? */
int mig_pg_scan_code(const struct mig_pg_scan *s);
/* In a comment? */
int mig_pg_scan_comment(const struct mig_pg_scan *s);
/* In a string, quoted name, dollar quote or block comment, which a newline does not end? */
int mig_pg_scan_open(const struct mig_pg_scan *s);
/*
 * In a '...' string: 1 when it takes no backslash escapes while
 * standard_conforming_strings is on, 2 for an E'...' string; else 0.
 */
int mig_pg_scan_string(const struct mig_pg_scan *s);

/*
 * Is [p, end) one line "COPY name [(columns)] FROM stdin;" as pg_dump
 * writes it, a statement of its own: its first FROM outside quotes and
 * parentheses followed by stdin, ';' and blanks only? (COPY t FROM
 * 'file' WHERE a IS DISTINCT FROM stdin; ends so too, and reads no data.)
 */
int mig_pg_copy_from_stdin(const char *p, const char *end);

#endif
