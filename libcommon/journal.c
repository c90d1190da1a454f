#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"

void mig_journal_add_rev(struct mig_buf *m, const char *id, const char *name, const long long *ms)
{
	mig_buf_addf(m, "revision %s ", id);
	mig_buf_add_esc(m, name, strlen(name));
	if (ms)
		mig_buf_addf(m, " %lldms", *ms);
	mig_buf_addc(m, '\n');
}

void mig_journal_begin(struct mig_buf *m, const char *op, const char *const *names,
		       const char *const *ids, const long long *ms, size_t n)
{
	size_t i;

	/* the subject is only ever shown: escaped for a terminal, as git log shows it */
	mig_buf_adds(m, op);
	if (n) {
		mig_buf_addc(m, ' ');
		mig_buf_add_tty(m, names[0], strlen(names[0]));
	}
	if (n > 1) {
		mig_buf_adds(m, "..");
		mig_buf_add_tty(m, names[n - 1], strlen(names[n - 1]));
		mig_buf_addf(m, " (%zu revisions)", n);
	}
	mig_buf_addf(m, "\n\noperation %s\n", op);
	for (i = 0; i < n; i++) {
		long long t = ms ? ms[i] : 0;

		mig_journal_add_rev(m, ids[i], names[i], &t);
	}
}

void mig_journal_head(struct mig_buf *m, const char *subject, const char *op)
{
	mig_buf_add_tty(m, subject, strlen(subject));
	mig_buf_addf(m, "\n\noperation %s\n", op);
}

static void add_fact(struct mig_buf *m, const char *key, const char *value)
{
	if (value && *value)
		mig_buf_addf(m, "%s %s\n", key, value);
}

void mig_journal_end(struct mig_buf *m, const struct mig_journal_facts *f)
{
	add_fact(m, "schema", f->schema);
	add_fact(m, "snapshot", f->snapshot);
	add_fact(m, "before", f->before);
	add_fact(m, "run", f->run);
	if (f->drift) {
		mig_buf_adds(m, "drift ");
		mig_buf_add_esc(m, f->drift, strlen(f->drift));
		mig_buf_addc(m, '\n');
	}
	add_fact(m, "result", f->result);
}

/* The rest of the line after "key ", or NULL. */
static const char *fact(const char *line, const char *eol, const char *key, size_t *len)
{
	size_t k = strlen(key);

	if ((size_t)(eol - line) <= k || memcmp(line, key, k) || line[k] != ' ')
		return NULL;
	*len = eol - line - k - 1;
	return line + k + 1;
}

/* Is [p, end) a time, "12ms"? */
static int is_ms(const char *p, const char *end)
{
	const char *d = p;

	while (d < end && *d >= '0' && *d <= '9')
		d++;
	return d > p && end - d == 2 && d[0] == 'm' && d[1] == 's';
}

/* A fact said twice counts once, the last time, as it always did. */
static void set(char **dst, const char *v, size_t len)
{
	free(*dst);
	*dst = mig_xstrndup(v, len);
}

void mig_journal_parse(struct mig_journal_op *op, const char *message)
{
	struct mig_buf subject = MIG_BUF_INIT;
	const char *p = message, *eol;
	size_t alloc = 0, len;

	memset(op, 0, sizeof(*op));
	/* the subject is the first paragraph, as for git: facts start after it */
	for (; *p && *p != '\n'; p = *eol ? eol + 1 : eol) {
		eol = strchrnul(p, '\n');
		if (subject.len)
			mig_buf_addc(&subject, ' ');
		mig_buf_add(&subject, p, eol - p);
	}
	op->subject = mig_buf_detach(&subject);
	for (; *p; p = *eol ? eol + 1 : eol) {
		const char *v;

		eol = strchrnul(p, '\n');
		if ((v = fact(p, eol, "operation", &len)))
			set(&op->operation, v, len);
		else if ((v = fact(p, eol, "result", &len)))
			set(&op->result, v, len);
		else if ((v = fact(p, eol, "schema", &len)))
			set(&op->schema, v, len);
		else if ((v = fact(p, eol, "snapshot", &len)))
			set(&op->snapshot, v, len);
		else if ((v = fact(p, eol, "before", &len)))
			set(&op->before, v, len);
		else if ((v = fact(p, eol, "run", &len)))
			set(&op->run, v, len);
		else if ((v = fact(p, eol, "drift", &len))) {
			free(op->drift);
			op->drift = mig_unesc(v, len);
		}
		else if ((v = fact(p, eol, "revision", &len))) {
			const char *sp1 = memchr(v, ' ', len), *sp2;
			struct mig_journal_rev *r;

			if (!sp1 || sp1 + 1 == eol)
				continue;
			/* "ID NAME 12ms", or "ID NAME" as a snapshot lists what is applied */
			if (!(sp2 = memrchr(sp1 + 1, ' ', eol - sp1 - 1)) || !is_ms(sp2 + 1, eol))
				sp2 = eol;
			MIG_GROW(op->revs, op->nrevs + 1, alloc);
			r = &op->revs[op->nrevs++];
			r->id = mig_xstrndup(v, sp1 - v);
			/* escaped since names could hold newlines; older names read the same */
			r->name = mig_unesc(sp1 + 1, sp2 - sp1 - 1);
			r->ms = sp2 < eol ? strtoll(sp2 + 1, NULL, 10) : 0;
		}
	}
	if (!op->operation)
		op->operation = mig_xstrdup("?");
	if (!op->result)
		op->result = mig_xstrdup("?");
}

void mig_journal_op_release(struct mig_journal_op *op)
{
	size_t i;

	for (i = 0; i < op->nrevs; i++) {
		free(op->revs[i].id);
		free(op->revs[i].name);
	}
	free(op->revs);
	free(op->subject);
	free(op->operation);
	free(op->result);
	free(op->schema);
	free(op->snapshot);
	free(op->before);
	free(op->run);
	free(op->drift);
	memset(op, 0, sizeof(*op));
}

struct show {
	struct mig_buf *out;
	enum mig_format fmt;
	int verbose;
	size_t n;
};

/* ,"key":"value", or null when there is none */
static void json_field(struct mig_buf *o, const char *key, const char *value)
{
	mig_buf_addf(o, ",\"%s\":", key);
	if (value)
		mig_buf_add_json(o, value);
	else
		mig_buf_adds(o, "null");
}

/* Text from a message for a terminal, at most max bytes (-1: all). */
static void text(struct mig_buf *o, const char *s, int max)
{
	size_t len = strlen(s);

	mig_buf_add_tty(o, s, max >= 0 && (size_t)max < len ? (size_t)max : len);
}

/* "    key VALUE" with the value cut to an abbreviated id, when there is one */
static void fact_line(struct mig_buf *o, const char *key, const char *value)
{
	if (!value)
		return;
	mig_buf_addf(o, "    %s ", key);
	text(o, value, 12);
	mig_buf_addc(o, '\n');
}

/* A tab and a porcelain field, escaped so no tab or newline in it splits a record. */
static void field(struct mig_buf *o, const char *s)
{
	mig_buf_addc(o, '\t');
	mig_buf_add_esc(o, s, strlen(s));
}

static int show_one(const struct mig_journal_entry *e, void *data)
{
	struct show *sh = data;
	struct mig_buf *o = sh->out;
	struct mig_journal_op op;
	char when[64];
	size_t i;

	mig_journal_parse(&op, e->message);
	if (sh->fmt == MIG_FMT_HUMAN) {
		mig_time_format(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", e->time, 0);
		mig_buf_addf(o, "%.12s %s ", e->commit, when);
		text(o, op.result, -1);
		mig_buf_adds(o, ": ");
		text(o, op.subject, -1);
		mig_buf_adds(o, " (");
		text(o, e->email, -1);
		mig_buf_adds(o, ")\n");
		if (sh->verbose) {
			for (i = 0; i < op.nrevs; i++) {
				mig_buf_adds(o, "    ");
				text(o, op.revs[i].name, -1);
				mig_buf_adds(o, "  ");
				text(o, op.revs[i].id, 12);
				mig_buf_addf(o, "  %lldms\n", op.revs[i].ms);
			}
			fact_line(o, "schema", op.schema);
			fact_line(o, "snapshot", op.snapshot);
			fact_line(o, "before", op.before);
			if (op.drift) {
				mig_buf_adds(o, "    drift accepted: ");
				text(o, op.drift, -1);
				mig_buf_addc(o, '\n');
			}
		}
		goto out;
	}
	mig_time_format(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", e->time, 1);
	if (sh->fmt == MIG_FMT_PORCELAIN) {
		mig_buf_addf(o, "entry\t%s\t%s", e->commit, when);
		field(o, op.operation);
		field(o, op.result);
		field(o, e->email);
		mig_buf_addf(o, "\t%zu\n", op.nrevs);
		for (i = 0; i < op.nrevs; i++) {
			mig_buf_addf(o, "revision\t%s", e->commit);
			field(o, op.revs[i].name);
			field(o, op.revs[i].id);
			mig_buf_addf(o, "\t%lld\n", op.revs[i].ms);
		}
		if (op.snapshot) {
			mig_buf_addf(o, "snapshot\t%s", e->commit);
			field(o, op.snapshot);
			field(o, op.before ? op.before : "");
			mig_buf_addc(o, '\n');
		}
		goto out;
	}
	mig_buf_addf(o, "%s{\"commit\":\"%s\",\"time\":\"%s\",\"operation\":", sh->n ? "," : "", e->commit, when);
	mig_buf_add_json(o, op.operation);
	mig_buf_adds(o, ",\"result\":");
	mig_buf_add_json(o, op.result);
	mig_buf_adds(o, ",\"user\":");
	mig_buf_add_json(o, e->email);
	json_field(o, "schema", op.schema);
	json_field(o, "snapshot", op.snapshot);
	json_field(o, "before", op.before);
	json_field(o, "drift", op.drift);
	mig_buf_adds(o, ",\"revisions\":[");
	for (i = 0; i < op.nrevs; i++) {
		mig_buf_adds(o, i ? ",{\"name\":" : "{\"name\":");
		mig_buf_add_json(o, op.revs[i].name);
		mig_buf_adds(o, ",\"id\":");
		mig_buf_add_json(o, op.revs[i].id);
		mig_buf_addf(o, ",\"ms\":%lld}", op.revs[i].ms);
	}
	mig_buf_adds(o, "]}");
out:
	sh->n++;
	mig_journal_op_release(&op);
	return 0;
}

int mig_journal_show(struct mig_buf *out, struct mig_store *s, size_t max, enum mig_format fmt,
		     int verbose, struct mig_err *err)
{
	struct show sh = { out, fmt, verbose, 0 };
	int rc = 0;

	if (fmt == MIG_FMT_JSON)
		mig_buf_adds(out, "[");
	if (s)
		rc = mig_store_log(s, max, show_one, &sh, err);
	if (fmt == MIG_FMT_JSON)
		mig_buf_adds(out, "]\n");
	return rc;
}

int mig_log(struct mig_buf *out, const struct mig_settings *set, size_t max, enum mig_format fmt, int verbose,
	    struct mig_err *err)
{
	struct mig_store *store = NULL;
	const char *dbpath;
	int rc;

	if ((rc = mig_settings_database(set, &dbpath, err)) < 0)
		return rc;
	/* no store yet: nothing has happened, which is no error */
	if (mig_path_exists(set->store) && (rc = mig_store_open(&store, set->store, 0, err)) < 0)
		return rc;
	rc = mig_journal_show(out, store, max, fmt, verbose, err);
	mig_store_close(store);
	return rc;
}
