#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"

/* The rest of the line after "key ", or NULL. */
static const char *fact(const char *line, const char *eol, const char *key, size_t *len)
{
	size_t k = strlen(key);

	if ((size_t)(eol - line) <= k || memcmp(line, key, k) || line[k] != ' ')
		return NULL;
	*len = eol - line - k - 1;
	return line + k + 1;
}

void mig_journal_parse(struct mig_journal_op *op, const char *message)
{
	const char *p = message, *eol;
	size_t alloc = 0, len;

	memset(op, 0, sizeof(*op));
	eol = strchrnul(p, '\n');
	op->subject = mig_xstrndup(p, eol - p);
	for (p = *eol ? eol + 1 : eol; *p; p = *eol ? eol + 1 : eol) {
		const char *v;

		eol = strchrnul(p, '\n');
		if ((v = fact(p, eol, "operation", &len)))
			op->operation = mig_xstrndup(v, len);
		else if ((v = fact(p, eol, "result", &len)))
			op->result = mig_xstrndup(v, len);
		else if ((v = fact(p, eol, "schema", &len)))
			op->schema = mig_xstrndup(v, len);
		else if ((v = fact(p, eol, "snapshot", &len)))
			op->snapshot = mig_xstrndup(v, len);
		else if ((v = fact(p, eol, "before", &len)))
			op->before = mig_xstrndup(v, len);
		else if ((v = fact(p, eol, "revision", &len))) {
			const char *sp1 = memchr(v, ' ', len), *sp2;
			struct mig_journal_rev *r;

			if (!sp1 || !(sp2 = memrchr(sp1 + 1, ' ', eol - sp1 - 1)))
				continue;
			MIG_GROW(op->revs, op->nrevs + 1, alloc);
			r = &op->revs[op->nrevs++];
			r->id = mig_xstrndup(v, sp1 - v);
			r->name = mig_xstrndup(sp1 + 1, sp2 - sp1 - 1);
			r->ms = strtoll(sp2 + 1, NULL, 10);
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

static int show_one(const struct mig_journal_entry *e, void *data)
{
	struct show *sh = data;
	struct mig_buf *o = sh->out;
	struct mig_journal_op op;
	time_t t = (time_t)e->time;
	char when[64];
	struct tm tm;
	size_t i;

	mig_journal_parse(&op, e->message);
	if (sh->fmt == MIG_FMT_HUMAN) {
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime_r(&t, &tm));
		mig_buf_addf(o, "%.12s %s %s: %s (%s)\n", e->commit, when, op.result, op.subject, e->email);
		if (sh->verbose) {
			for (i = 0; i < op.nrevs; i++)
				mig_buf_addf(o, "    %s  %.12s  %lldms\n", op.revs[i].name, op.revs[i].id,
					     op.revs[i].ms);
			if (op.schema)
				mig_buf_addf(o, "    schema %.12s\n", op.schema);
			if (op.snapshot)
				mig_buf_addf(o, "    snapshot %.12s\n", op.snapshot);
			if (op.before)
				mig_buf_addf(o, "    before %.12s\n", op.before);
		}
		goto out;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	if (sh->fmt == MIG_FMT_PORCELAIN) {
		mig_buf_addf(o, "entry\t%s\t%s\t%s\t%s\t%s\t%zu\n", e->commit, when, op.operation, op.result,
			     e->email, op.nrevs);
		for (i = 0; i < op.nrevs; i++)
			mig_buf_addf(o, "revision\t%s\t%s\t%s\t%lld\n", e->commit, op.revs[i].name,
				     op.revs[i].id, op.revs[i].ms);
		if (op.snapshot)
			mig_buf_addf(o, "snapshot\t%s\t%s\t%s\n", e->commit, op.snapshot, op.before ? op.before : "");
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
	mig_buf_adds(o, ",\"revisions\":[");
	for (i = 0; i < op.nrevs; i++) {
		mig_buf_adds(o, i ? ",{\"name\":" : "{\"name\":");
		mig_buf_add_json(o, op.revs[i].name);
		mig_buf_addf(o, ",\"id\":\"%s\",\"ms\":%lld}", op.revs[i].id, op.revs[i].ms);
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
