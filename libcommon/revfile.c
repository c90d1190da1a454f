#include <fcntl.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "revfile.h"
#include "util.h"

#define DIRECTIVE "-- mig:"

/* Where the first SQL (not blanks, not comments) in [p, end) is, or NULL. */
static const char *first_sql(const char *p, const char *end)
{
	p = mig_sql_skip_space(p, end);
	return p < end ? p : NULL;
}

static int line_of(const char *data, const char *p)
{
	return 1 + mig_count_lines(data, p);
}

static int add_parents(struct mig_rev *rev, const char *p, const char *end,
		       int line, struct mig_err *err)
{
	size_t alloc = 0, i;

	if (rev->parents_line)
		return mig_err_set(err, MIG_EINVALID,
				   "%s:%d: second '-- mig:parents' (the first is on line %d)",
				   rev->path, line, rev->parents_line);
	rev->parents_line = line;
	for (;;) {
		const char *s;
		char *name;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		s = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		name = mig_xstrndup(s, p - s);
		for (i = 0; i < rev->nparents; i++)
			if (!strcmp(rev->parents[i], name)) {
				mig_err_set(err, MIG_EINVALID,
					    "%s:%d: parent '%s' is named twice",
					    rev->path, line, name);
				free(name);
				return MIG_EINVALID;
			}
		MIG_GROW(rev->parents, rev->nparents + 1, alloc);
		rev->parents[rev->nparents++] = name;
	}
	return 0;
}

/* Close the section that was open, ending at 'end'. */
static void close_section(struct mig_section *s, const char *end)
{
	if (s)
		s->len = end - s->sql;
}

/* Does a line of [p, end) start with prefix? */
static int has_line(const char *p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);

		if ((size_t)((eol ? eol : end) - p) >= n && !strncasecmp(p, prefix, n))
			return 1;
		p = eol ? eol + 1 : end;
	}
	return 0;
}

/*
 * dbmate's and goose's files: a marker line opens each section; options
 * on it, or a line of its own, say whether to run in a transaction.
 * Lax tools' other markers (goose's StatementBegin/End, ENVSUB) are
 * comments to SQLite.
 */
static int parse_markers(struct mig_rev *rev, const struct mig_markers *m, struct mig_err *err)
{
	const char *prefix = m->prefix;
	const size_t plen = strlen(prefix);
	struct mig_section *open = &rev->up;
	const char *p, *end = rev->data + rev->len, *sql;
	int line = 1;

	rev->up.sql = rev->data;
	rev->up.line = 1;
	for (p = rev->data; p < end; line++) {
		const char *eol = memchr(p, '\n', end - p), *next, *w, *wend;
		struct mig_section *s;

		next = eol ? eol + 1 : end;
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) < plen || strncasecmp(p, prefix, plen)) {
			p = next;
			continue;
		}
		w = p + plen;
		wend = w + strcspn(w, " \t\r\n");
		if (m->notx_line && (size_t)(eol - w) >= strlen(m->notx_line) &&
		    !strncasecmp(w, m->notx_line, strlen(m->notx_line))) {
			rev->no_transaction = 1;
			p = next;
			continue;
		}
		if (wend - w == 2 && !strncasecmp(w, "up", 2))
			s = &rev->up;
		else if (wend - w == 4 && !strncasecmp(w, "down", 4))
			s = &rev->down;
		else if (m->lax) {
			p = next;
			continue;
		} else {
			return mig_err_set(err, MIG_EINVALID, "%s:%d: unknown marker '%.*s'", rev->path, line,
					   (int)(wend - p), p);
		}
		if (s->present)
			return mig_err_set(err, MIG_EINVALID, "%s:%d: second '%.*s' (the first is on line %d)",
					   rev->path, line, (int)(wend - p), p, s->line - 1);
		if (m->notx_option && memmem(wend, eol - wend, m->notx_option, strlen(m->notx_option)))
			rev->no_transaction = 1;
		if (open)
			open->len = p - open->sql;
		if (s == &rev->up && rev->up.len && (sql = first_sql(rev->up.sql, rev->up.sql + rev->up.len)))
			return mig_err_set(err, MIG_EINVALID, "%s:%d: SQL before '%.*s' on line %d", rev->path,
					   line_of(rev->data, sql), (int)(wend - p), p, line);
		s->present = 1;
		s->sql = next;
		s->line = line + 1;
		open = s;
		p = next;
	}
	open->len = end - open->sql;
	if (!rev->up.present && rev->down.present && rev->up.sql == rev->data &&
	    !first_sql(rev->up.sql, rev->up.sql + rev->up.len))
		rev->up.len = 0;
	rev->up.present = 1;
	return 0;
}

/*
 * The tool whose up or down marker a file has, if any: a file of only a
 * down section is still that tool's, its up empty, not plain SQL whose
 * up would run the down part.
 */
static const struct mig_markers *markers_of(const char *data, size_t len)
{
	const struct mig_markers *m;
	size_t i;

	for (i = 0; (m = mig_markers_at(i)); i++) {
		char *up = mig_xasprintf("%sup", m->prefix), *down = mig_xasprintf("%sdown", m->prefix);
		int has = has_line(data, data + len, up) || has_line(data, data + len, down);

		free(up);
		free(down);
		if (has)
			return m;
	}
	return NULL;
}

/* The directive a slip of the pen away from the len bytes at d, or NULL. */
static const char *nearest_directive(const char *d, size_t len)
{
	static const char *const known[] = { "up", "down", "parents", "no-transaction" };
	char *typed = mig_xstrndup(d, len);
	const char *best = NULL;
	size_t i, dist, bestd = (size_t)-1;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if ((dist = mig_edit_distance(typed, known[i])) < bestd) {
			bestd = dist;
			best = known[i];
		}
	free(typed);
	/* one slip in every three letters, as for options */
	return best && bestd * 3 <= len ? best : NULL;
}

int mig_rev_parse(struct mig_rev **out, const char *name, const char *path,
		  const char *data, size_t len, struct mig_err *err)
{
	struct mig_rev *rev = mig_xcalloc(1, sizeof(*rev));
	struct mig_section *open = NULL;
	const struct mig_markers *m;
	const char *p, *end, *nul, *sql, *near;
	int line = 1, rc = 0;

	rev->name = mig_xstrdup(name);
	rev->path = mig_xstrdup(path);
	rev->data = mig_xstrndup(data, len);
	rev->len = len;
	mig_blob_id(rev->id, data, len);

	if ((nul = memchr(rev->data, '\0', len))) {
		rc = mig_err_set(err, MIG_EINVALID, "%s:%d: NUL byte in a revision file",
				 path, line_of(rev->data, nul));
		goto out;
	}
	if (!has_line(rev->data, rev->data + len, DIRECTIVE) && (m = markers_of(rev->data, len))) {
		rev->style = m->style;
		rc = parse_markers(rev, m, err);
		goto out;
	}

	/* text before any section marker is up */
	rev->up.sql = rev->data;
	rev->up.line = 1;
	open = &rev->up;

	for (p = rev->data, end = rev->data + len; p < end; line++) {
		const char *eol = memchr(p, '\n', end - p), *d, *dend;
		const char *next = eol ? eol + 1 : end;

		if (!eol)
			eol = end;
		if (eol - p < (long)strlen(DIRECTIVE) || memcmp(p, DIRECTIVE, strlen(DIRECTIVE))) {
			p = next;
			continue;
		}
		d = p + strlen(DIRECTIVE);
		dend = eol;
		if (dend > d && dend[-1] == '\r')
			dend--;
		while (dend > d && (dend[-1] == ' ' || dend[-1] == '\t'))
			dend--;

#define IS(word) ((size_t)(dend - d) >= strlen(word) && !memcmp(d, word, strlen(word)) && \
		  (d + strlen(word) == dend || d[strlen(word)] == ' ' || d[strlen(word)] == '\t'))
		if (IS("up") || IS("down")) {
			int up = IS("up");
			struct mig_section *s = up ? &rev->up : &rev->down;
			const char *rest = d + (up ? 2 : 4);

			if (rest != dend) {
				rc = mig_err_set(err, MIG_EINVALID,
						 "%s:%d: unexpected text after '-- mig:%s'",
						 path, line, up ? "up" : "down");
				goto out;
			}
			if (s->present) {
				rc = mig_err_set(err, MIG_EINVALID,
						 "%s:%d: second '-- mig:%s' (the first is on line %d)",
						 path, line, up ? "up" : "down", s->line - 1);
				goto out;
			}
			close_section(open, p);
			if (up && rev->up.len && (sql = first_sql(rev->up.sql, rev->up.sql + rev->up.len))) {
				rc = mig_err_set(err, MIG_EINVALID,
						 "%s:%d: SQL before '-- mig:up' on line %d",
						 path, line_of(rev->data, sql), line);
				goto out;
			}
			s->present = 1;
			s->sql = next;
			s->line = line + 1;
			open = s;
		} else if (IS("parents")) {
			if ((rc = add_parents(rev, d + 7, dend, line, err)) < 0)
				goto out;
		} else if (IS("no-transaction")) {
			if (d + strlen("no-transaction") != dend) {
				rc = mig_err_set(err, MIG_EINVALID,
						 "%s:%d: unexpected text after '-- mig:no-transaction'",
						 path, line);
				goto out;
			}
			rev->no_transaction = 1;
		} else {
			const char *w = d;

			while (w < dend && *w != ' ' && *w != '\t')
				w++;
			rc = mig_err_set(err, MIG_EINVALID,
					 "%s:%d: unknown directive '-- mig:%.*s'",
					 path, line, (int)(w - d), d);
			if ((near = nearest_directive(d, (size_t)(w - d))))
				mig_err_hint(err, "did you mean '-- mig:%s'?", near);
			else
				mig_err_hint(err, "the directives are up, down, parents and no-transaction");
			goto out;
		}
#undef IS
		p = next;
	}
	close_section(open, rev->data + len);
	/* a file of nothing but a down section has an empty up */
	if (!rev->up.present && rev->down.present && rev->up.sql == rev->data) {
		sql = first_sql(rev->up.sql, rev->up.sql + rev->up.len);
		if (!sql)
			rev->up.len = 0;
	}
	rev->up.present = 1;
out:
	if (rc < 0) {
		mig_rev_free(rev);
		rev = NULL;
	}
	*out = rev;
	return rc;
}

int mig_rev_loadat(struct mig_rev **out, int dirfd, const char *file, const char *name,
		   const char *path, struct mig_err *err)
{
	struct mig_buf b = MIG_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = mig_read_fileat(&b, dirfd, file, path, err)) == 0)
		rc = mig_rev_parse(out, name, path, b.buf ? b.buf : "", b.len, err);
	mig_buf_release(&b);
	return rc;
}

int mig_rev_name_ok(const char *name)
{
	const char *p;

	if (!*name || *name == '-' || *name == '.')
		return 0;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return 0;
	return 1;
}

void mig_rev_free(struct mig_rev *rev)
{
	size_t i;

	if (!rev)
		return;
	for (i = 0; i < rev->nparents; i++)
		free(rev->parents[i]);
	free(rev->parents);
	free(rev->pidx);
	free(rev->name);
	free(rev->path);
	free(rev->down_path);
	free(rev->data);
	free(rev);
}
