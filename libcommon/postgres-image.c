/*
 * Snapshots of a PostgreSQL database, and the schema as SQL: what
 * PostgreSQL's own tools do best, run as children. An image is the
 * plain-SQL dump pg_dump writes (one repeatable-read snapshot of the
 * whole database, mig's schema included, owners and grants left out),
 * so that what 'mig backup -o' exports is a gzip that psql replays by
 * itself.
 *
 * The store cuts an image into chunks of a fixed size, chunk i at i
 * times chunk_size, and keeps a chunk once however often it comes. So
 * that a row inserted, deleted or grown in the middle of a table leaves
 * the chunks after it as they were, the image has boundaries its
 * content sets, and is padded to a chunk boundary at each: one line of
 * spaces, which psql reads as nothing. Inside a table's data, a row
 * whose hash says so (see CUT_MIN) ends the COPY; the same COPY line
 * begins again on the next chunk. Around it: the first table's data
 * starts a chunk, a table's data that fills one starts and ends one,
 * and small tables' data share theirs. Which lines are COPY statements
 * is told by reading the SQL as psql does (postgres-lex.c), so that a
 * comment or a function body holding one is left as it is.
 *
 * On bench/pg-snapshot.sh's database (README.md) the padding makes the
 * image 18% longer, which costs nothing worth counting in the store (a
 * chunk of spaces compresses to a few bytes) and about 0.3 s of a 16.6 s
 * restore (psql reads spaces at some 160 MB/s); a migration that
 * changes 0.2% of the rows stores 0.6% of the first snapshot's bytes
 * again.
 *
 * A restore is one transaction of psql's that drops the project's
 * schemas and mig's, then replays the image: psql ends at the first
 * error, and a psql that sees its input end before the COMMIT rolls it
 * all back, so a failed, refused or killed restore leaves the database
 * as it was.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "db.h"
#include "postgres-image.h"
#include "postgres-lex.h"
#include "util.h"

extern char **environ;

#define MAX_ENV 4096
#define PAGE 512	/* what the manifest counts an image in */

void mig_pg_child_init(struct mig_pg_child *c)
{
	c->pid = -1;
	c->in = c->out = -1;
	c->errf = NULL;
}

/*
 * Start argv[0] (from PATH) with the connection's settings in its
 * environment, never on its command line (ps shows that to every
 * user): opts are libpq's, each with its PG* variable. The child's
 * stdin and stdout are pipes when asked for; its stderr a temporary
 * file, read after it ends, so that no amount of NOTICEs can fill a
 * pipe nobody reads. Everything is made before fork: the parent may
 * have threads, and a child of such a process must not allocate.
 */
int mig_pg_spawn(PQconninfoOption *opts, const char *const *argv, int want_in, int want_out,
		 struct mig_pg_child *c, struct mig_err *err)
{
	char *envp[MAX_ENV], *vars[96];
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errfd, rc = 0;
	size_t i, nenv = 0, nvars = 0;
	PQconninfoOption *o;

	mig_pg_child_init(c);
	for (i = 0; environ[i] && nenv + 100 < MAX_ENV; i++)
		if (strncmp(environ[i], "PG", 2))
			envp[nenv++] = environ[i];
	for (o = opts; o && o->keyword && nvars < sizeof(vars) / sizeof(*vars); o++)
		if (o->envvar && o->val && *o->val)
			envp[nenv++] = vars[nvars++] = mig_xasprintf("%s=%s", o->envvar, o->val);
	envp[nenv] = NULL;
	if (!(c->errf = tmpfile()) || (want_in && pipe2(inp, O_CLOEXEC) < 0) ||
	    (want_out && pipe2(outp, O_CLOEXEC) < 0)) {
		rc = mig_err_errno(err, MIG_EENV, "cannot run %s", argv[0]);
		goto out;
	}
	errfd = fileno(c->errf);
	if ((c->pid = fork()) == 0) {
		static const char why[] = ": cannot run it (apt-get install postgresql-client)\n";

		if ((want_in && dup2(inp[0], 0) < 0) || (want_out && dup2(outp[1], 1) < 0) || dup2(errfd, 2) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvpe(argv[0], (char *const *)argv, envp);
		if (write(2, argv[0], strlen(argv[0])) < 0 || write(2, why, sizeof(why) - 1) < 0)
			_exit(127);
		_exit(127);
	}
	if (c->pid < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot run %s", argv[0]);
out:
	for (i = 0; i < nvars; i++)
		free(vars[i]);
	if (inp[0] >= 0)
		close(inp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	c->in = inp[1];
	c->out = outp[0];
	if (rc < 0)
		mig_pg_child_finish(c, 1, NULL, NULL);
	return rc;
}

int mig_pg_child_finish(struct mig_pg_child *c, int kill_it, const char *what, struct mig_err *err)
{
	char buf[MIG_ERR_MSG], line[MIG_ERR_MSG];
	int status = 0, rc = 0;
	size_t n = 0, i, o = 0;

	if (c->in >= 0)
		close(c->in);
	if (c->out >= 0)
		close(c->out);
	c->in = c->out = -1;
	if (c->pid > 0) {
		if (kill_it)
			kill(c->pid, SIGTERM);
		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!kill_it && (!WIFEXITED(status) || WEXITSTATUS(status))) {
			/* its first words of complaint, on one line */
			if (c->errf && fseek(c->errf, 0, SEEK_SET) == 0)
				n = fread(buf, 1, sizeof(buf) - 1, c->errf);
			buf[n] = '\0';
			for (i = 0; i < n && o + 1 < sizeof(line); i++) {
				/* psql's "psql:<stdin>:LINE: ERROR:  " counts lines of a stream nobody sees */
				if (!strncmp(buf + i, "psql:<stdin>:", 13)) {
					i += 13 + strspn(buf + i + 13, "0123456789");
					i += buf[i] == ':' ? strspn(buf + i + 1, " ") : 0;
					if (!strncmp(buf + i + 1, "ERROR:", 6))
						i += 6 + strspn(buf + i + 7, " ");
					continue;
				}
				if (buf[i] == '\n' || buf[i] == '\t' || buf[i] == ' ') {
					if (o && line[o - 1] != ' ')
						line[o++] = ' ';
					continue;
				}
				line[o++] = buf[i];
			}
			while (o && line[o - 1] == ' ')
				o--;
			line[o] = '\0';
			/* "pg_dump: error: ..." says its name already */
			i = strlen(what);
			rc = mig_err_set(err, MIG_EENV, "%s%s%s", !strncmp(line, what, i) && line[i] == ':' ? "" : what,
					 !strncmp(line, what, i) && line[i] == ':' ? "" : ": ",
					 o ? line : WIFEXITED(status) ? "it failed with no message" : "it was killed");
		}
	}
	c->pid = -1;
	if (c->errf)
		fclose(c->errf);
	c->errf = NULL;
	return rc;
}

/* The image as it is streamed out: chunk_size bytes a chunk, in order. */
struct chunker {
	const struct mig_image_sink *sink;
	unsigned char *buf;
	size_t fill;
	uint64_t index, total, since_pad;
	int failed;
};

/* n bytes of p, or n bytes c when p is NULL. */
static void put(struct chunker *k, const char *p, int c, size_t n)
{
	size_t take;

	while (n && !k->failed) {
		take = k->sink->chunk_size - k->fill < n ? k->sink->chunk_size - k->fill : n;
		if (p)
			memcpy(k->buf + k->fill, p, take);
		else
			memset(k->buf + k->fill, c, take);
		k->fill += take;
		k->total += take;
		k->since_pad += take;
		if (p)
			p += take;
		n -= take;
		if (k->fill == k->sink->chunk_size) {
			if (k->sink->chunk(k->sink->data, k->index++, k->buf, k->fill) < 0)
				k->failed = 1;
			k->fill = 0;
		}
	}
}

/*
 * To the next multiple of unit, one line of spaces: psql reads it as
 * nothing, at the speed of its lexer (a blank line a byte would cost it
 * 30 times as long).
 */
static void pad(struct chunker *k, uint64_t unit)
{
	size_t n = k->total % unit ? (size_t)(unit - k->total % unit) : 0;

	if (n) {
		put(k, NULL, ' ', n - 1);
		put(k, NULL, '\n', 1);
	}
	k->since_pad = 0;
}

/*
 * pg_dump's output a piece at a time: through the end of a line, or
 * as much of a longer line as the buffer holds, so that a line's first
 * piece holds its start whole and no line is ever whole in memory.
 */
struct lines {
	const struct mig_image_stream *in;
	char *buf;
	size_t start, end, scanned;
	int eof;
};

#define LINES_BUF (64 * 1024)

/*
 * The next piece at *p, its length, 0 at the end, < 0 on a failed read
 * (err set); *eol when it ends its line.
 */
static ssize_t next_piece(struct lines *l, const char **p, int *eol, struct mig_err *err)
{
	char *nl;
	size_t len;
	ssize_t n;

	while (!(nl = memchr(l->buf + l->scanned, '\n', l->end - l->scanned)) && !l->eof &&
	       l->end - l->start < LINES_BUF) {
		l->scanned = l->end;
		if (l->end == LINES_BUF) {
			memmove(l->buf, l->buf + l->start, l->end - l->start);
			l->scanned -= l->start;
			l->end -= l->start;
			l->start = 0;
		}
		if ((n = l->in->read(l->in->data, l->buf + l->end, LINES_BUF - l->end, err)) < 0)
			return -1;
		l->eof = n == 0;
		l->end += n > 0 ? (size_t)n : 0;
	}
	len = nl ? (size_t)(nl + 1 - (l->buf + l->start)) : l->end - l->start;
	*p = l->buf + l->start;
	*eol = nl != NULL;
	l->start += len;
	if (l->scanned < l->start)
		l->scanned = l->start;
	return (ssize_t)len;
}

/*
 * Where a table's data is cut, so that its chunks survive an insert, a
 * delete or a longer row before them: after a row whose 64-bit XXH3 of
 * its line's bytes, modulo CUT_SPAN chunks, is under the line's length,
 * once CUT_MIN chunks came since the last boundary. A row is a cut with
 * odds proportional to its length, so whatever the rows' length, a
 * piece holds CUT_MIN + CUT_SPAN chunks of rows on average (1.5 MiB with
 * 512 KiB chunks) and half a chunk of padding, and a change stores again
 * the piece it falls in (and the next, when it moves a cut): fewer
 * chunks a piece would store less again and pad more, the padding
 * read by psql at each restore.
 */
#define CUT_MIN 1
#define CUT_SPAN 2

#define HEAD_MAX 64

/* What an imported script says, checked as it is read (check_sql). */
struct sql_check {
	const char *name;	/* the file's, for messages */
	struct mig_pg_scan scan;
	char head[HEAD_MAX];	/* the first bytes of a statement (its code, blanks as one) or psql command */
	size_t len;
	int meta, done;		/* a psql command's; seen already */
	int args;		/* past the psql command's name */
	int copy_line;		/* the statement starts a line that starts "COPY " */
	uint64_t head_line;	/* where it starts */
	int failed;
	struct mig_err err;
};

/* A pg_dump, or a script to import, being read into chunks. */
struct dump {
	struct chunker k;
	struct mig_pg_scan scan;	/* where its SQL stands, outside a table's data */
	struct mig_buf copy;	/* the COPY line of the data being read */
	int in_copy, in_head;	/* in a table's data; in what may be its COPY line */
	int in_row, cut;	/* in one of its rows; a cut is due before the next */
	int ended;		/* the line is its end, \. */
	uint64_t copies;	/* tables whose data came so far */
	uint64_t data_len;	/* of the table's data so far, its COPY line and \. included */
	struct mig_buf held;	/* the start of a table's data that may yet be small */
	int holding;
	uint64_t len;		/* of the line being read, so far */
	XXH3_state_t *h;	/* its hash, when it comes in pieces */
	uint64_t line;		/* lines read whole */
	struct sql_check *check;	/* an import's, or NULL */
};

/* What is held, put after what came before. */
static void release(struct dump *d)
{
	put(&d->k, d->held.buf, 0, d->held.len);
	mig_buf_reset(&d->held);
	d->holding = 0;
}

/* Bytes of the image: put, or held until the table they start is known to be large or small. */
static void emit(struct dump *d, const char *p, size_t n)
{
	size_t cs = d->k.sink->chunk_size;

	if (!d->holding) {
		put(&d->k, p, 0, n);
		return;
	}
	mig_buf_add(&d->held, p, n);
	if (d->held.len >= cs) {
		pad(&d->k, cs);
		release(d);
	}
}

/*
 * The first piece of a line, before it is put. Chunk boundaries around
 * tables' data: before the first table's, so that a change to the
 * schema stays in the schema's chunks; before a table's that fills a
 * chunk (its first chunk held back until it is known), and after it,
 * so that a large table's chunks are its own and small tables share
 * theirs; before any table's once what came since the last boundary
 * fills a chunk.
 */
static void line_start(struct dump *d, const char *p, size_t n)
{
	size_t cs = d->k.sink->chunk_size;

	if (!d->in_copy && n >= 5 && !memcmp(p, "COPY ", 5) && mig_pg_scan_between(&d->scan)) {
		if (d->k.since_pad >= cs || (!d->copies && d->k.since_pad))
			pad(&d->k, cs);
		else if (d->k.since_pad)
			d->holding = 1;
		d->in_head = 1;
		d->data_len = 0;
		mig_buf_reset(&d->copy);
	} else if (d->in_copy && ((n == 3 && !memcmp(p, "\\.\n", 3)) || (n == 4 && !memcmp(p, "\\.\r\n", 4)))) {
		/* psql's end of the data, \r\n too */
		d->in_copy = d->cut = 0;
		d->ended = 1;
	} else if (d->in_copy) {
		if (d->cut) {
			put(&d->k, "\\.\n", 0, 3);
			pad(&d->k, cs);
			put(&d->k, d->copy.buf, 0, d->copy.len);
			d->cut = 0;
		}
		d->in_row = 1;
	}
}

static void copy_refused(struct sql_check *c);

/*
 * The end of a line: is a COPY line one of pg_dump's, whose data
 * follows? Is a row a cut? Was the table's data small, or large?
 */
static void line_end(struct dump *d, const char *p, size_t n)
{
	static const char tail[] = " FROM stdin;\n";
	size_t cs = d->k.sink->chunk_size, t = sizeof(tail) - 1;
	uint64_t h;

	if (d->in_head) {
		d->in_copy = d->copy.len >= t && !memcmp(d->copy.buf + d->copy.len - t, tail, t) &&
			     mig_pg_scan_between(&d->scan);
		/* an import's COPY ... FROM stdin; whose data psql would not read, or that is not pg_dump's */
		if (d->check && !d->check->failed &&
		    !(d->in_copy && mig_pg_copy_from_stdin(d->copy.buf, d->copy.buf + d->copy.len))) {
			d->in_copy = 0;
			d->check->head_line = d->line + 1;
			copy_refused(d->check);
		}
		d->copies += d->in_copy;
	}
	if (d->in_row && !d->holding) {
		h = d->len == n ? XXH3_64bits(p, n) : XXH3_64bits_digest(d->h);
		d->cut = d->k.since_pad >= CUT_MIN * cs && h % (CUT_SPAN * cs) < d->len;
	}
	if (d->holding && !d->in_copy)
		release(d);
	if (d->ended && d->data_len >= cs)
		pad(&d->k, cs);
	d->len = 0;
	d->in_head = d->in_row = d->ended = 0;
}

/*
 * A script to import is replayed by psql in the restore's transaction,
 * so it must hold SQL and nothing that leaves that transaction: no
 * transaction control (a COMMIT would make the drop of what the
 * database held final, whatever failed after it), and no psql command
 * but pg_dump's \restrict and \unrestrict (\connect would go on in
 * another session, outside it). What it says is seen as psql's lexer
 * sees it, outside tables' data.
 */
static int check_fail(struct sql_check *c, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->failed = 1;
	return mig_err_set(&c->err, MIG_EENV, "'%s' line %llu: %s", c->name, (unsigned long long)c->head_line, msg);
}

/*
 * psql reads the lines after a COPY FROM stdin as its data, up to a
 * line \. (or \.\r\n), whatever the statement looks like: only
 * pg_dump's form, whose data is seen as psql sees it, is replayed.
 */
static void copy_refused(struct sql_check *c)
{
	check_fail(c, "only pg_dump's COPY name (columns) FROM stdin; on a line of its own is replayed");
}

/* The statement or psql command that started at c->head_line, as far as its first bytes tell. */
static void check_head(struct sql_check *c)
{
	const char *what, *end = c->head + c->len;
	char word[8];

	if (c->meta) {
		size_t n = 0;

		while (1 + n < c->len && c->head[1 + n] != ' ' && c->head[1 + n] != '\t' && c->head[1 + n] != '\r')
			n++;
		if ((n == 8 && !memcmp(c->head + 1, "restrict", 8)) || (n == 10 && !memcmp(c->head + 1, "unrestrict", 10)))
			return;
		check_fail(c, "the psql command \\%.*s would run outside the restore's transaction; only SQL is replayed",
			   (int)(n < 32 ? n : 32), c->head + 1);
		return;
	}
	if (mig_pg_word(c->head, end, word, sizeof(word)) == 4 && !strcmp(word, "copy") && !c->copy_line) {
		copy_refused(c);
		return;
	}
	what = mig_pg_transaction_control(c->head, end);
	if (what && strcmp(what, "savepoint") && strcmp(what, "release")) {
		char upper[32];
		size_t i;

		for (i = 0; what[i] && i + 1 < sizeof(upper); i++)
			upper[i] = (char)toupper((unsigned char)what[i]);
		upper[i] = '\0';
		check_fail(c, "%s would end or nest the transaction the restore replays the file in", upper);
	}
}

/*
 * A byte of a psql command's line. Past its name, \restrict and
 * \unrestrict take pg_dump's key, letters and digits: psql would expand
 * a `command` (run by the shell) or a :variable there, and go on past
 * \\ with SQL of the line's.
 */
static void check_meta(struct sql_check *c, char ch)
{
	if (c->args) {
		if (!isalnum((unsigned char)ch) && ch != ' ' && ch != '\t' && ch != '\r')
			check_fail(c, "\\%s takes a key of letters and digits, as pg_dump writes it",
				   c->head[1] == 'u' ? "unrestrict" : "restrict");
	} else if ((ch == ' ' || ch == '\t' || ch == '\r') && c->len > 1) {
		check_head(c);
		c->args = c->done = 1;
	} else if (c->len < HEAD_MAX) {
		c->head[c->len++] = ch;
	}
}

/* A byte of a statement's head: its code, comments and runs of blanks as one blank. */
static void check_code(struct sql_check *c, struct dump *d, char ch, int was_comment)
{
	int blank = ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f';

	if (mig_pg_scan_comment(&c->scan)) {
		/* the comment's opening '/' or '-' came as code */
		if (!was_comment && c->len)
			c->head[c->len - 1] = ' ';
		return;
	}
	if (was_comment || blank) {
		/* a blank, or the end of a comment ('/' or a newline) */
		if (c->len && c->head[c->len - 1] != ' ' && c->len < HEAD_MAX)
			c->head[c->len++] = ' ';
		return;
	}
	if (c->len < HEAD_MAX) {
		if (!c->len && !c->done) {
			c->head_line = d->line + 1;
			c->copy_line = d->in_head;
		}
		c->head[c->len++] = ch;
	} else if (!c->done) {
		check_head(c);
		c->done = 1;
	}
}

static void check_sql(struct dump *d, const char *p, size_t n)
{
	struct sql_check *c = d->check;
	size_t i;

	for (i = 0; i < n && !c->failed; i++) {
		int string = mig_pg_scan_string(&c->scan), was_comment = mig_pg_scan_comment(&c->scan);
		unsigned char prev = (unsigned char)c->scan.prev;

		mig_pg_scan(&c->scan, p + i, 1);
		if (string == 1 && p[i] == '\'' && prev == '\\') {
			/* with standard_conforming_strings off (SET, set_config), psql's string goes on past it */
			c->head_line = d->line + 1;
			check_fail(c, "a quote after a backslash in a string ends it or not as standard_conforming_strings "
				      "says; write it E'...'");
		} else if ((string == 2 && p[i] == '\\' && prev >= 0x80) ||
			   ((unsigned char)p[i] >= 0x80 && mig_pg_scan_code(&c->scan))) {
			/*
			 * A client encoding a script can SET (SJIS, BIG5, GBK, UHC,
			 * GB18030) makes psql read the byte after one of these as
			 * part of its character: a backslash, or a letter that joins
			 * a name (pg_dump quotes every name that is not ASCII)
			 */
			c->head_line = d->line + 1;
			check_fail(c, "a byte that is not ASCII %s reads otherwise in client encodings such as SJIS",
				   string ? "before a backslash in an E'...' string" : "outside quotes");
		} else if (p[i] == '\\' && mig_pg_scan_code(&c->scan)) {
			/* not at a line's start between statements: psql runs it all the same (\gexec, \;, \!) */
			c->head_line = d->line + 1;
			check_fail(c, "a backslash outside quotes is a psql command, which would run outside the "
				      "restore's transaction; only SQL is replayed");
		} else if (p[i] == ';' && !c->len && !c->meta && c->scan.between && mig_pg_scan_code(&c->scan)) {
			/* psql (15) reads the lines after an empty query that follows a COPY as data, up to a \. */
			c->head_line = d->line + 1;
			check_fail(c, "an empty statement (a ';' with nothing before it) makes psql read the lines after "
				      "it as a COPY's data");
		} else if (c->scan.stray_begins) {
			c->head_line = d->line + 1;
			check_fail(c, "a word begin in CREATE FUNCTION or PROCEDURE that opens no BEGIN ATOMIC body makes psql "
				      "send the statements after it, up to an END, as one");
		} else if (mig_pg_scan_meta(&c->scan)) {
			/* a psql command's line, from its backslash */
			if (!c->meta) {
				c->meta = 1;
				c->len = c->done = c->args = 0;
				c->head_line = d->line + 1;
			}
			check_meta(c, p[i]);
		} else if (c->meta || c->scan.between) {
			/* a psql command's line or a statement ended, or what starts none (blanks, comments) */
			if (c->len && !c->done)
				check_head(c);
			c->len = c->done = c->meta = 0;
		} else {
			check_code(c, d, p[i], was_comment);
		}
	}
}

/* The end of the script: a statement or command not ended is seen as it is. */
static void check_end(struct sql_check *c)
{
	if (c->len && !c->done && !c->failed)
		check_head(c);
}

/* A piece of a line: put; scanned as SQL, or hashed as a row. */
static void line_piece(struct dump *d, const char *p, size_t n, int eol)
{
	if (!d->len)
		line_start(d, p, n);
	emit(d, p, n);
	if (d->in_head)
		mig_buf_add(&d->copy, p, n);
	if (d->in_head || d->in_copy || d->ended)
		d->data_len += n;
	if (!d->in_copy && !d->ended) {
		mig_pg_scan(&d->scan, p, n);
		if (d->check)
			check_sql(d, p, n);
	} else if (d->in_row && (d->len || !eol)) {
		if (!d->len)
			XXH3_64bits_reset(d->h);
		XXH3_64bits_update(d->h, p, n);
	}
	d->len += n;
	if (eol) {
		line_end(d, p, n);
		d->line++;
	}
}

/* Read the script in l into d's chunks: 0, or < 0 with err set (a consumer's failure "consumer failed"). */
static int dump_lines(struct dump *d, struct lines *l, struct mig_err *err)
{
	const struct mig_image_sink *sink = d->k.sink;
	const char *p;
	ssize_t n = 0;
	int eol;

	while (!d->k.failed && !(d->check && d->check->failed) && (n = next_piece(l, &p, &eol, err)) > 0) {
		line_piece(d, p, (size_t)n, eol);
		if (sink->progress)
			sink->progress(sink->data, d->k.total, 0);
	}
	if (d->k.failed)
		return mig_err_set(err, MIG_EENV, "consumer failed");
	if (d->check && d->check->failed) {
		*err = d->check->err;
		return err->code;
	}
	return n < 0 ? err->code : 0;
}

/* The end of the image: what a script cut short in a table's data held, whole pages, and the last chunk. */
static int dump_finish(struct dump *d, uint32_t *page_size, uint64_t *size, struct mig_err *err)
{
	if (d->holding)
		release(d);
	pad(&d->k, PAGE);
	if (d->k.fill && !d->k.failed && d->k.sink->chunk(d->k.sink->data, d->k.index++, d->k.buf, d->k.fill) < 0)
		d->k.failed = 1;
	if (d->k.failed)
		return mig_err_set(err, MIG_EENV, "consumer failed");
	*page_size = PAGE;
	*size = d->k.total;
	return 0;
}

static int dump_start(struct dump *d, const struct mig_image_sink *sink, struct lines *l, struct mig_err *err)
{
	*d = (struct dump){ .k = { .sink = sink }, .copy = MIG_BUF_INIT, .held = MIG_BUF_INIT };
	d->k.buf = mig_xmalloc(sink->chunk_size);
	l->buf = mig_xmalloc(LINES_BUF);
	mig_pg_scan_init(&d->scan);
	if (!(d->h = XXH3_createState()))
		return mig_err_set(err, MIG_EENV, "out of memory for a hash");
	return 0;
}

static void dump_release(struct dump *d, struct lines *l)
{
	XXH3_freeState(d->h);
	mig_pg_scan_release(&d->scan);
	mig_buf_release(&d->copy);
	mig_buf_release(&d->held);
	free(l->buf);
	free(d->k.buf);
}

/* pg_dump's standard output, read as a stream. */
static ssize_t fd_read(void *data, void *buf, size_t len, struct mig_err *err)
{
	ssize_t n;

	while ((n = read(*(int *)data, buf, len)) < 0 && errno == EINTR)
		;
	return n < 0 ? mig_err_errno(err, MIG_EENV, "cannot read pg_dump's output") : n;
}

int mig_pg_image_read(const char *url, int timeout_ms, const struct mig_image_sink *sink, uint32_t *page_size,
		      uint64_t *size, struct mig_err *err)
{
	char wait[64], *msg = NULL;
	const char *argv[] = { "pg_dump", "--format=plain", "--no-owner", "--no-privileges", wait, NULL };
	PQconninfoOption *opts = PQconninfoParse(url, &msg);
	struct mig_image_stream in = { fd_read, NULL, "pg_dump's output" };
	struct lines l = { .in = &in };
	struct dump d;
	struct mig_pg_child c;
	int rc;

	if (!opts) {
		rc = mig_err_set(err, MIG_EENV, "cannot read the address: %s", msg ? msg : "out of memory");
		PQfreemem(msg);
		return rc;
	}
	snprintf(wait, sizeof(wait), "--lock-wait-timeout=%d", timeout_ms > 0 ? timeout_ms : 1);
	rc = mig_pg_spawn(opts, argv, 0, 1, &c, err);
	PQconninfoFree(opts);
	if (rc < 0)
		return rc;
	in.data = &c.out;
	if ((rc = dump_start(&d, sink, &l, err)) < 0)
		goto out;
	rc = dump_lines(&d, &l, err);
	if (d.k.failed) {
		mig_pg_child_finish(&c, 1, NULL, NULL);
		goto out;
	}
	/* pg_dump's own complaint says more than a read cut short */
	if ((rc = mig_pg_child_finish(&c, rc < 0, "pg_dump", err)) < 0)
		goto out;
	rc = dump_finish(&d, page_size, size, err);
out:
	mig_pg_child_finish(&c, 1, NULL, NULL);
	dump_release(&d, &l);
	return rc;
}

/* An imported stream, its bytes checked for what is no SQL text as they come. */
struct text_in {
	const struct mig_image_stream *in;
	uint64_t off;
	uint64_t nul;		/* where a NUL is, from 1, once read; 0: none yet */
};

static ssize_t text_read(void *data, void *buf, size_t len, struct mig_err *err)
{
	struct text_in *t = data;
	const char *nul;
	ssize_t n;

	/* psql would end the line at it, and read on: what follows in that line is lost */
	if (t->nul)
		return mig_err_set(err, MIG_EENV, "'%s' is not an SQL script: byte %llu is NUL", t->in->name,
				   (unsigned long long)t->nul);
	if ((n = t->in->read(t->in->data, buf, len, err)) <= 0)
		return n;
	/* the file's first 16 bytes whole, to tell what it is, however it comes */
	while (!t->off && n < 16 && (size_t)n < len) {
		ssize_t more = t->in->read(t->in->data, (char *)buf + n, len - (size_t)n, err);

		if (more < 0)
			return more;
		if (!more)
			break;
		n += more;
	}
	if (!t->off && n >= 16 && !memcmp(buf, "SQLite format 3", 16))
		return mig_err_set(err, MIG_EENV, "'%s' holds an SQLite database, not SQL for PostgreSQL", t->in->name);
	if (!t->off && n >= 5 && !memcmp(buf, "PGDMP", 5)) {
		mig_err_set(err, MIG_EENV, "'%s' is in pg_dump's custom format, not a plain SQL script", t->in->name);
		mig_err_hint(err, "make it one with: pg_restore -f - FILE | gzip");
		return MIG_EENV;
	}
	/* the bytes before it are read first, so that what is wrong first is said whatever the reads' size */
	if ((nul = memchr(buf, '\0', (size_t)n))) {
		n = nul - (const char *)buf;
		t->nul = t->off + (uint64_t)n + 1;
		if (!n)
			return text_read(data, buf, len, err);
	}
	t->off += (uint64_t)n;
	return n;
}

int mig_pg_image_import(const struct mig_image_stream *in, const struct mig_image_sink *sink, uint32_t *page_size,
			uint64_t *size, struct mig_err *err)
{
	struct text_in t = { in, 0, 0 };
	struct mig_image_stream text = { text_read, &t, in->name };
	struct sql_check c = { .name = in->name };
	struct lines l = { .in = &text };
	struct dump d;
	int rc;

	mig_pg_scan_init(&c.scan);
	if ((rc = dump_start(&d, sink, &l, err)) < 0)
		goto out;
	d.check = &c;
	if ((rc = dump_lines(&d, &l, err)) < 0)
		goto out;
	check_end(&c);
	if (!c.failed && d.in_copy) {
		/* psql would read the restore's COMMIT as a row, and end without it */
		c.head_line = d.line + 1;
		check_fail(&c, "the script ends in a table's data, with no line \\. after it");
	} else if (!c.failed && (!c.scan.between || (c.len && !c.meta) || mig_pg_scan_open(&c.scan))) {
		/* ... or as part of a statement (SELECT 1 AS), and end without it, nothing restored */
		c.head_line = d.line + 1;
		check_fail(&c, "the script ends inside a statement (with no ';'), a string or a comment");
	}
	if (c.failed) {
		*err = c.err;
		rc = err->code;
	} else if (!t.off) {
		rc = mig_err_set(err, MIG_EENV, "'%s' holds no SQL: it is empty", in->name);
	} else {
		rc = dump_finish(&d, page_size, size, err);
	}
out:
	dump_release(&d, &l);
	mig_pg_scan_release(&c.scan);
	return rc;
}

static int write_all(int fd, const void *p, size_t n)
{
	return mig_write_all(fd, p, n);
}

/*
 * The SQL that empties the database for the image, in the restore's
 * transaction: every schema but PostgreSQL's own, mig's among them,
 * dropped with all it holds, and public made again as a new database
 * has it. Listed now, on a connection of its own.
 */
static int prelude(const char *url, int timeout_ms, struct mig_buf *out, struct mig_err *err)
{
	static const char *const keys[] = { "dbname", "fallback_application_name", NULL };
	const char *values[] = { url, "mig restore", NULL };
	PGconn *h = PQconnectdbParams(keys, values, 1);
	PGresult *r = NULL;
	int rc = 0, i;

	if (!h || PQstatus(h) != CONNECTION_OK) {
		rc = mig_err_set(err, MIG_EENV, "cannot connect: %s", h ? PQerrorMessage(h) : "out of memory");
		goto out;
	}
	r = PQexec(h, "SELECT quote_ident(nspname) FROM pg_namespace WHERE nspname NOT IN"
		   " ('pg_catalog', 'information_schema', 'pg_toast') AND nspname NOT LIKE 'pg\\_temp\\_%'"
		   " AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%' ORDER BY 1");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = mig_err_set(err, MIG_EENV, "cannot list the schemas: %s", PQerrorMessage(h));
		goto out;
	}
	/* a run on another host holds the run lock for its whole session: wait for it as runs do */
	mig_buf_addf(out, "BEGIN;\nSET LOCAL lock_timeout = %d;\nSET LOCAL client_min_messages = warning;\n"
		     "SELECT pg_advisory_xact_lock(7170407, hashtext(", timeout_ms > 0 ? timeout_ms : 1);
	mig_sql_add_literal(out, mig_db_schema_name());
	mig_buf_adds(out, "));\n");
	for (i = 0; i < PQntuples(r); i++)
		mig_buf_addf(out, "DROP SCHEMA %s CASCADE;\n", PQgetvalue(r, i, 0));
	mig_buf_adds(out, "CREATE SCHEMA public AUTHORIZATION pg_database_owner;\n"
		     "COMMENT ON SCHEMA public IS 'standard public schema';\n"
		     "GRANT USAGE ON SCHEMA public TO PUBLIC;\n");
out:
	PQclear(r);
	if (h)
		PQfinish(h);
	return rc;
}

int mig_pg_image_write(const char *url, int timeout_ms, const struct mig_image_source *src, struct mig_err *err)
{
	static const char *const argv[] = { "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", "-", NULL };
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &msg);
	struct mig_buf pre = MIG_BUF_INIT;
	struct mig_pg_child c;
	unsigned char *buf = NULL;
	uint64_t off;
	size_t len, step = 1024 * 1024;
	void (*old)(int);
	int rc;

	if (!opts) {
		rc = mig_err_set(err, MIG_EENV, "cannot read the address: %s", msg ? msg : "out of memory");
		PQfreemem(msg);
		return rc;
	}
	mig_pg_child_init(&c);
	if ((rc = prelude(url, timeout_ms, &pre, err)) < 0 || (rc = mig_pg_spawn(opts, argv, 1, 0, &c, err)) < 0)
		goto out;
	/* psql ending early must be an error here, not a signal */
	old = signal(SIGPIPE, SIG_IGN);
	buf = mig_xmalloc(step);
	if (write_all(c.in, pre.buf, pre.len) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write to psql");
	for (off = 0; rc == 0 && off < src->size; off += len) {
		len = src->size - off < step ? (size_t)(src->size - off) : step;
		if ((rc = src->read(src->data, off, buf, len, err)) < 0)
			break;
		if (write_all(c.in, buf, len) < 0)
			rc = mig_err_errno(err, MIG_EENV, "cannot write to psql");
	}
	/* only a whole image commits: without this line, psql's transaction dies with it */
	/* after a newline: an image cut short in a line (a -- comment) would hide it, and psql end without it */
	if (rc == 0 && write_all(c.in, "\nCOMMIT;\n", 9) < 0)
		rc = mig_err_errno(err, MIG_EENV, "cannot write to psql");
	close(c.in);
	c.in = -1;
	if (rc < 0 && errno == EPIPE) {
		/* psql stopped reading: it ended at an error of the image's, which it says */
		struct mig_err perr = MIG_ERR_INIT;

		if (mig_pg_child_finish(&c, 0, "psql", &perr) < 0)
			*err = perr;
	} else if (rc < 0) {
		mig_pg_child_finish(&c, 1, NULL, NULL);
	} else {
		rc = mig_pg_child_finish(&c, 0, "psql", err);
	}
	signal(SIGPIPE, old);
out:
	mig_pg_child_finish(&c, 1, NULL, NULL);
	PQconninfoFree(opts);
	mig_buf_release(&pre);
	free(buf);
	return rc;
}
