#include <stdlib.h>
#include <string.h>

#include "drift.h"

/* One object of a schema: its "TYPE NAME" and its whole line. */
struct object {
	const char *key, *line;
	size_t klen, len;
};

static int cmp_key(const void *a, const void *b)
{
	const struct object *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);

	return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

/* The objects of a schema text, in key order. */
static struct object *objects(const char *s, size_t len, size_t *n)
{
	const char *end = s + len, *p = s;
	struct object *v = NULL;
	size_t alloc = 0;

	*n = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p), *colon;

		if (!eol)
			eol = end;
		if (eol > p) {
			MIG_GROW(v, *n + 1, alloc);
			colon = memmem(p, eol - p, ": ", 2);
			v[*n] = (struct object){ p, p, (size_t)((colon ? colon : eol) - p), (size_t)(eol - p) };
			(*n)++;
		}
		p = eol + 1;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_key);
	return v;
}

enum { SHOWN = 5 };

static void name(struct mig_buf *out, size_t *said, const struct object *o, const char *how)
{
	if ((*said)++ >= SHOWN)
		return;
	if (*said > 1)
		mig_buf_adds(out, ", ");
	mig_buf_add(out, o->key, o->klen);
	mig_buf_addf(out, " %s", how);
}

void mig_drift_summary(struct mig_buf *out, const char *recorded, size_t rlen, const char *live, size_t llen)
{
	size_t na, nb, i = 0, j = 0, said = 0;
	struct object *a = objects(recorded, rlen, &na), *b = objects(live, llen, &nb);

	while (i < na || j < nb) {
		int c = i >= na ? 1 : j >= nb ? -1 : cmp_key(&a[i], &b[j]);

		if (c < 0) {
			name(out, &said, &a[i++], "removed");
		} else if (c > 0) {
			name(out, &said, &b[j++], "added");
		} else {
			if (a[i].len != b[j].len || memcmp(a[i].line, b[j].line, a[i].len))
				name(out, &said, &b[j], "changed");
			i++;
			j++;
		}
	}
	if (said > SHOWN)
		mig_buf_addf(out, " and %zu more", said - SHOWN);
	free(a);
	free(b);
}
