/*
 * PostgreSQL's lexical rules, as much of them as it takes to cut a
 * script into statements and to read a statement's first words: the
 * ways a ';' or a word can hide (strings, E'' strings, quoted
 * identifiers, dollar quotes, nested comments, BEGIN ATOMIC bodies).
 * psql's lexer (psqlscan.l) is the model; like it, nothing here parses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "postgres-lex.h"
#include "util.h"

static int ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (unsigned char)c >= 0x80;
}

static int ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* The end of the dollar-quote tag at p ("$tag$" or "$$"), or NULL when p starts none. */
static const char *dollar_tag(const char *p, const char *end)
{
	const char *q = p + 1;

	if (q < end && *q == '$')
		return q + 1;
	if (q >= end || !ident_start(*q))
		return NULL;
	while (q < end && ident_char(*q) && *q != '$')
		q++;
	return q < end && *q == '$' ? q + 1 : NULL;
}

/* Past the comment, string or quoted name that starts at p; p itself when none does. */
static const char *skip_quoted(const char *p, const char *end, const char *stmt)
{
	const char *tag, *q;
	int depth;

	if (p + 1 < end && p[0] == '-' && p[1] == '-') {
		q = memchr(p, '\n', (size_t)(end - p));
		return q ? q + 1 : end;
	}
	if (p + 1 < end && p[0] == '/' && p[1] == '*') {
		/* comments nest */
		for (q = p + 2, depth = 1; q < end && depth; q++)
			if (q + 1 < end && q[0] == '/' && q[1] == '*')
				depth++, q++;
			else if (q + 1 < end && q[0] == '*' && q[1] == '/')
				depth--, q++;
		return q;
	}
	if (*p == '\'' || *p == '"') {
		/* E'...' takes backslash escapes; '' and "" are the quote itself */
		int esc = *p == '\'' && p > stmt && (p[-1] == 'e' || p[-1] == 'E') &&
			  (p - 1 == stmt || !ident_char(p[-2]));

		for (q = p + 1; q < end; q++) {
			if (esc && *q == '\\' && q + 1 < end)
				q++;
			else if (*q == *p && q + 1 < end && q[1] == *p)
				q++;
			else if (*q == *p)
				return q + 1;
		}
		return end;
	}
	if (*p == '$' && (p == stmt || !ident_char(p[-1])) && (tag = dollar_tag(p, end))) {
		size_t n = (size_t)(tag - p);

		for (q = tag; q + n <= end; q++)
			if (*q == '$' && !memcmp(q, p, n))
				return q + n;
		return end;
	}
	return p;
}

const char *mig_pg_skip_space(const char *p, const char *end)
{
	const char *q;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f'))
			p++;
		if (p + 1 >= end || !((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*')))
			return p;
		q = skip_quoted(p, end, p);
		p = q;
	}
}

/* The word at p (an identifier or keyword), case-insensitively word. */
static int word_is(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(end - p) >= n && !strncasecmp(p, word, n) && (p + n == end || !ident_char(p[n]));
}

const char *mig_pg_statement_end(const char *p, const char *end)
{
	const char *stmt = p, *q;
	int create = 0, atomic = 0, depth = 0, words = 0;

	while (p < end) {
		if ((q = skip_quoted(p, end, stmt)) != p) {
			p = q;
			continue;
		}
		if (*p == ';' && !depth)
			return p + 1;
		if (!ident_start(*p)) {
			p++;
			continue;
		}
		/*
		 * A function body in standard SQL (BEGIN ATOMIC ... END) holds
		 * ';'s of its own: inside one, CASE opens and END closes.
		 */
		if (!words++)
			create = word_is(p, end, "create");
		if (create && word_is(p, end, "begin")) {
			q = mig_pg_skip_space(p + 5, end);
			if (word_is(q, end, "atomic"))
				atomic = 1, depth++;
		} else if (atomic && word_is(p, end, "case")) {
			depth++;
		} else if (atomic && depth && word_is(p, end, "end")) {
			depth--;
		}
		for (q = p; q < end && ident_char(*q); q++)
			;
		p = q;
	}
	return end;
}

size_t mig_pg_word(const char *p, const char *end, char *out, size_t size)
{
	size_t n = 0;

	p = mig_pg_skip_space(p, end);
	if (p < end && *p == '"') {
		/* a quoted name is the name, its case kept */
		for (p++; p < end && n + 1 < size; p++) {
			if (*p == '"' && p + 1 < end && p[1] == '"')
				p++;
			else if (*p == '"')
				break;
			out[n++] = *p;
		}
	} else {
		for (; p < end && ident_char(*p) && n + 1 < size; p++)
			out[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
	}
	out[n] = '\0';
	return n;
}

/* Past the word at p (quoted or not), and the space after it. */
static const char *next_word(const char *p, const char *end)
{
	const char *q;

	p = mig_pg_skip_space(p, end);
	if (p < end && *p == '"')
		p = (q = skip_quoted(p, end, p)) != p ? q : p + 1;
	else
		while (p < end && ident_char(*p))
			p++;
	return mig_pg_skip_space(p, end);
}

int mig_pg_concurrently(const char *p, const char *end)
{
	/* the words that may come between the first and CONCURRENTLY */
	static const char *const create[] = { "unique", "index", NULL };
	static const char *const reindex[] = { "index", "table", "schema", "database", "system", NULL };
	const char *const *between;
	char w[16];
	size_t i;
	int n;

	mig_pg_word(p, end, w, sizeof(w));
	if (!strcmp(w, "create"))
		between = create;
	else if (!strcmp(w, "reindex"))
		between = reindex;
	else
		return 0;
	for (n = 0; n < 3; n++) {
		p = next_word(p, end);
		mig_pg_word(p, end, w, sizeof(w));
		if (!strcmp(w, "concurrently"))
			return 1;
		for (i = 0; between[i] && strcmp(w, between[i]); i++)
			;
		if (!between[i])
			return 0;
	}
	return 0;
}

const char *mig_pg_transaction_control(const char *p, const char *end)
{
	static const char *const words[] = { "begin", "start", "commit", "end", "rollback", "abort",
					     "savepoint", "release" };
	char w[16], w2[16];
	size_t i;

	/* a keyword is never quoted: "commit" is a name */
	if ((p = mig_pg_skip_space(p, end)) < end && *p == '"')
		return NULL;
	mig_pg_word(p, end, w, sizeof(w));
	for (i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (!strcmp(w, words[i]))
			return words[i];
	/* PREPARE name AS ... is a prepared statement; PREPARE TRANSACTION ends this one */
	mig_pg_word(next_word(p, end), end, w2, sizeof(w2));
	if (!strcmp(w, "prepare") && !strcmp(w2, "transaction"))
		return "prepare transaction";
	return NULL;
}

/* Is w one of the NULL-terminated words? */
static int among(const char *w, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(w, *words))
			return 1;
	return 0;
}

int mig_pg_writes_schema(const char *p, const char *end, const char *schema)
{
	/* statements that change whatever they name */
	static const char *const changers[] = { "drop", "truncate", "alter", "lock", "grant", "revoke", "comment",
						"reindex", "cluster", "vacuum", "copy", "security", "refresh", NULL };
	/* the words that name what a statement writes, creates or changes */
	static const char *const targets[] = { "into", "update", "truncate", "table", "exists", "schema", "view",
					       "sequence", "index", "function", "procedure", "type", "domain",
					       "trigger", "only", NULL };
	/* ... and ON, in statements that make or change something on a table */
	static const char *const on_makers[] = { "create", "alter", "drop", "grant", "revoke", "comment", NULL };
	const char *stmt = p, *q;
	size_t n = strlen(schema), k;
	char first[16] = "", w0[16] = "", w1[16] = "";
	struct mig_buf quoted = MIG_BUF_INIT;
	int bare = 0, rc = 0;

	/* the schema in double quotes, each '"' doubled; bare too, when folding to lower case leaves it so */
	mig_buf_addc(&quoted, '"');
	for (k = 0; k < n; k++) {
		if (schema[k] == '"')
			mig_buf_addc(&quoted, '"');
		mig_buf_addc(&quoted, schema[k]);
		if (!k)
			bare = ident_start(schema[k]) && !(schema[k] >= 'A' && schema[k] <= 'Z');
		else
			bare &= ident_char(schema[k]) && !(schema[k] >= 'A' && schema[k] <= 'Z');
	}
	mig_buf_addc(&quoted, '"');
	while (p < end) {
		int start = p == stmt || !ident_char(p[-1]);

		if (*p == '"' && (size_t)(end - p) >= quoted.len && !memcmp(p, quoted.buf, quoted.len)) {
			q = p + quoted.len;
		} else if (bare && ident_start(*p) && start && word_is(p, end, schema)) {
			q = p + n;
		} else if ((q = skip_quoted(p, end, stmt)) != p) {
			p = q;
			continue;
		} else {
			if (ident_start(*p) && start) {
				memcpy(w1, w0, sizeof(w1));
				mig_pg_word(p, end, w0, sizeof(w0));
				if (!*first)
					memcpy(first, w0, sizeof(first));
			}
			p++;
			continue;
		}
		/* schema.name, or the schema itself after SCHEMA (DROP SCHEMA [IF EXISTS] mig) */
		if (((q = mig_pg_skip_space(q, end)) < end && *q == '.') || !strcmp(w0, "schema") ||
		    !strcmp(w0, "exists")) {
			if (among(first, changers) || among(w0, targets) ||
			    (!strcmp(w0, "on") && among(first, on_makers)) ||
			    (!strcmp(w0, "from") && !strcmp(w1, "delete"))) {
				rc = 1;
				break;
			}
		}
		memcpy(w1, w0, sizeof(w1));
		snprintf(w0, sizeof(w0), "%s", schema);
		p = q;
	}
	mig_buf_release(&quoted);
	return rc;
}

int mig_pg_blank_word(char *p, const char *word)
{
	char *stmt = p, *end = p + strlen(p), *q;
	size_t n = strlen(word);

	while (p < end) {
		if ((q = (char *)skip_quoted(p, end, stmt)) != p) {
			p = q;
			continue;
		}
		if (ident_start(*p) && (p == stmt || !ident_char(p[-1])) && word_is(p, end, word)) {
			memset(p, ' ', n);
			return 1;
		}
		p++;
	}
	return 0;
}

char *mig_pg_quote_ident(const char *name)
{
	struct mig_buf b = MIG_BUF_INIT;

	if (!strcmp(name, "mig"))
		return mig_xstrdup(name);
	mig_buf_addc(&b, '"');
	for (; *name; name++) {
		if (*name == '"')
			mig_buf_addc(&b, '"');
		mig_buf_addc(&b, *name);
	}
	mig_buf_addc(&b, '"');
	return mig_buf_detach(&b);
}

char *mig_pg_bk_sql(const char *tmpl, const char *name)
{
	struct mig_buf b = MIG_BUF_INIT;
	char *ident = mig_pg_quote_ident(name), *seq;
	const char *p;

	/* the text between placeholders goes in whole: this runs for each revision's bookkeeping */
	for (p = tmpl; *p; p++) {
		const char *brace = p + strcspn(p, "{");

		mig_buf_add(&b, p, (size_t)(brace - p));
		p = brace;
		if (!*p)
			break;
		if (mig_starts_with(p, "{S}")) {
			mig_buf_adds(&b, ident);
			p += 2;
		} else if (mig_starts_with(p, "{N}")) {
			mig_sql_add_literal(&b, name);
			p += 2;
		} else if (mig_starts_with(p, "{SEQ}")) {
			seq = mig_xasprintf("%s.revisions_seq_seq", ident);
			mig_sql_add_literal(&b, seq);
			free(seq);
			p += 4;
		} else {
			mig_buf_addc(&b, *p);
		}
	}
	free(ident);
	mig_buf_adds(&b, "");
	return mig_buf_detach(&b);
}

void mig_pg_rename_schema(struct mig_buf *out, const char *p, const char *end, const char *name)
{
	const char *stmt = p, *q;
	char *ident;

	/* the default keeps the text as written, MIG. and all */
	if (!strcmp(name, "mig")) {
		mig_buf_add(out, p, (size_t)(end - p));
		return;
	}
	ident = mig_pg_quote_ident(name);
	while (p < end) {
		if ((q = skip_quoted(p, end, stmt)) != p) {
			mig_buf_add(out, p, (size_t)(q - p));
			p = q;
		} else if (ident_start(*p) && (p == stmt || !ident_char(p[-1])) && word_is(p, end, "mig")) {
			mig_buf_adds(out, ident);
			p += 3;
		} else {
			mig_buf_addc(out, *p++);
		}
	}
	free(ident);
}

/* ---- a script read a piece at a time ---- */

enum { SC_CODE, SC_LINE_COMMENT, SC_COMMENT, SC_QUOTED, SC_QUOTED_ESC, SC_QUOTE_END, SC_DOLLAR_OPEN, SC_DOLLAR,
       SC_META };

void mig_pg_scan_init(struct mig_pg_scan *s)
{
	memset(s, 0, sizeof(*s));
	s->between = s->bol = 1;
	s->tag = (struct mig_buf)MIG_BUF_INIT;
}

void mig_pg_scan_release(struct mig_pg_scan *s)
{
	mig_buf_release(&s->tag);
}

static int scan_word_is(const struct mig_pg_scan *s, const char *w)
{
	return s->wlen == strlen(w) && !memcmp(s->word, w, s->wlen);
}

/* A word of the statement ended: does it open or close a function body (psqlscan.l's identifier rule)? */
static void scan_word_end(struct mig_pg_scan *s)
{
	static const char *const firsts[] = { "create", "or", "replace", "function", "procedure", NULL };
	const char *const *f;

	if (!s->words)
		memset(s->firsts, 0, sizeof(s->firsts));
	for (f = firsts; *f; f++)
		if (scan_word_is(s, *f) && s->words < (int)sizeof(s->firsts))
			s->firsts[s->words] = **f;
	s->words++;
	if (s->after_begin && !scan_word_is(s, "atomic"))
		s->stray_begins++;
	s->after_begin = 0;
	if (s->firsts[0] == 'c' &&
	    (s->firsts[1] == 'f' || s->firsts[1] == 'p' ||
	     (s->firsts[1] == 'o' && s->firsts[2] == 'r' && (s->firsts[3] == 'f' || s->firsts[3] == 'p'))) &&
	    !s->parens) {
		if (scan_word_is(s, "begin")) {
			s->begins++;
			s->after_begin = 1;
		} else if (scan_word_is(s, "case") && s->begins) {
			s->begins++;
		} else if (scan_word_is(s, "end") && s->begins) {
			s->begins--;
		}
	}
	s->wlen = 0;
}

/* c in code; what prev becomes: 0 when c ends a pair (a comment's opening), which starts no other. */
static char scan_code(struct mig_pg_scan *s, char c)
{
	if (s->wlen && ident_char(c)) {
		if (s->wlen < sizeof(s->word))
			s->word[s->wlen] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		s->wlen++;
		s->between = 0;
		return c;
	}
	if (s->wlen)
		scan_word_end(s);
	if (c == '-' && s->prev == '-') {
		s->state = SC_LINE_COMMENT;
		s->between = s->between_before;
		return 0;
	}
	if (c == '*' && s->prev == '/') {
		s->state = SC_COMMENT;
		s->depth = 1;
		s->between = s->between_before;
		return 0;
	}
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f')
		return c;
	s->between_before = s->between;
	s->between = 0;
	if (c == ';' && !s->parens && !s->begins) {
		s->between = 1;
		s->words = 0;
	} else if (c == '(') {
		s->parens++;
	} else if (c == ')') {
		s->parens -= s->parens > 0;
	} else if (ident_start(c) && !ident_char(s->prev)) {
		s->word[0] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		s->wlen = 1;
	} else if (c == '\\' && s->bol && s->between_before) {
		/* a psql meta-command between statements (\connect, \restrict) takes its line */
		s->state = SC_META;
		s->between = 1;
	} else if (c == '\'' || c == '"') {
		s->state = SC_QUOTED;
		s->quote = c;
		/* E'...' takes backslash escapes: E a word of its own */
		s->esc = c == '\'' && (s->prev == 'e' || s->prev == 'E') && !ident_char(s->prev2);
	} else if (c == '$' && !ident_char(s->prev)) {
		s->state = SC_DOLLAR_OPEN;
		mig_buf_reset(&s->tag);
		mig_buf_addc(&s->tag, '$');
	}
	return c;
}

/* c anywhere; what prev becomes. */
static char scan_char(struct mig_pg_scan *s, char c)
{
	switch (s->state) {
	case SC_CODE:
		return scan_code(s, c);
	case SC_LINE_COMMENT:
	case SC_META:
		if (c == '\n')
			s->state = SC_CODE;
		return c;
	case SC_COMMENT:
		/* comments nest */
		if (c == '*' && s->prev == '/') {
			s->depth++;
			return 0;
		}
		if (c == '/' && s->prev == '*') {
			if (!--s->depth)
				s->state = SC_CODE;
			return 0;
		}
		return c;
	case SC_QUOTED:
		if (s->esc && c == '\\')
			s->state = SC_QUOTED_ESC;
		else if (c == s->quote)
			s->state = SC_QUOTE_END;
		return c;
	case SC_QUOTED_ESC:
		s->state = SC_QUOTED;
		return 0;
	case SC_QUOTE_END:
		/* '' and "" are the quote itself */
		if (c == s->quote) {
			s->state = SC_QUOTED;
			return 0;
		}
		s->state = SC_CODE;
		return scan_code(s, c);
	case SC_DOLLAR_OPEN:
		if (c == '$') {
			mig_buf_addc(&s->tag, '$');
			s->state = SC_DOLLAR;
			s->match = 0;
			return 0;
		}
		if (s->tag.len == 1 ? ident_start(c) : ident_char(c)) {
			mig_buf_addc(&s->tag, c);
			return c;
		}
		/* $1, or a $ in a name: no quote */
		s->state = SC_CODE;
		return scan_code(s, c);
	default:	/* SC_DOLLAR: until the tag again */
		if (c == s->tag.buf[s->match])
			s->match++;
		else
			s->match = c == '$';
		if (s->match == s->tag.len) {
			s->state = SC_CODE;
			return 0;
		}
		return c;
	}
}

void mig_pg_scan(struct mig_pg_scan *s, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char prev = scan_char(s, p[i]);

		s->prev2 = s->prev;
		s->prev = prev;
		s->bol = p[i] == '\n';
	}
}

int mig_pg_scan_between(const struct mig_pg_scan *s)
{
	return s->state == SC_CODE && s->between && s->bol;
}

int mig_pg_scan_meta(const struct mig_pg_scan *s)
{
	return s->state == SC_META;
}

int mig_pg_scan_code(const struct mig_pg_scan *s)
{
	return s->state == SC_CODE || s->state == SC_DOLLAR_OPEN;
}

int mig_pg_scan_comment(const struct mig_pg_scan *s)
{
	return s->state == SC_COMMENT || s->state == SC_LINE_COMMENT;
}

int mig_pg_scan_open(const struct mig_pg_scan *s)
{
	return s->state != SC_CODE && s->state != SC_LINE_COMMENT && s->state != SC_META &&
	       s->state != SC_DOLLAR_OPEN && s->state != SC_QUOTE_END;
}

int mig_pg_scan_string(const struct mig_pg_scan *s)
{
	if ((s->state != SC_QUOTED && s->state != SC_QUOTED_ESC) || s->quote != '\'')
		return 0;
	return s->esc ? 2 : 1;
}

int mig_pg_copy_from_stdin(const char *p, const char *end)
{
	const char *stmt = p, *q;
	int depth = 0;

	if (!word_is(p, end, "copy"))
		return 0;
	for (p += 4; p < end;) {
		if ((q = skip_quoted(p, end, stmt)) != p) {
			p = q;
		} else if (*p == '(') {
			depth++;
			p++;
		} else if (*p == ')') {
			depth -= depth > 0;
			p++;
		} else if (*p == ';') {
			return 0;
		} else if (!depth && ident_start(*p) && !ident_char(p[-1]) && word_is(p, end, "from")) {
			q = mig_pg_skip_space(p + 4, end);
			if (!word_is(q, end, "stdin"))
				return 0;
			q = mig_pg_skip_space(q + 5, end);
			if (q == end || *q != ';')
				return 0;
			for (q++; q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'); q++)
				;
			return q == end;
		} else {
			p++;
		}
	}
	return 0;
}
