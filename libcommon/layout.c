#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "util.h"

const char *mig_layout_name(enum mig_style s)
{
	switch (s) {
	case MIG_STYLE_DBMATE:
		return "dbmate";
	case MIG_STYLE_GOOSE:
		return "goose";
	case MIG_STYLE_GOLANG:
		return "golang-migrate";
	case MIG_STYLE_DIESEL:
		return "diesel";
	default:
		return "mig";
	}
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcmp(s + n - k, suffix);
}

static struct pair *pair_for(struct mig_layout_scan *sc, const char *name)
{
	size_t i;

	for (i = 0; i < sc->npairs; i++)
		if (!strcmp(sc->pairs[i].name, name))
			return &sc->pairs[i];
	MIG_GROW(sc->pairs, sc->npairs + 1, sc->alloc);
	memset(&sc->pairs[sc->npairs], 0, sizeof(sc->pairs[0]));
	sc->pairs[sc->npairs].name = mig_xstrdup(name);
	return &sc->pairs[sc->npairs++];
}

int mig_layout_offer(struct mig_layout_scan *sc, int dirfd, const char *entry, int maybe_dir)
{
	struct stat st;
	char *up;
	int is_dir;

	if (entry[0] >= '0' && entry[0] <= '9' && (ends_with(entry, ".up.sql") || ends_with(entry, ".down.sql"))) {
		int isup = ends_with(entry, ".up.sql");
		char *name = mig_xstrndup(entry, strlen(entry) - (isup ? 7 : 9));
		struct pair *p = pair_for(sc, name);

		free(name);
		if (isup) {
			free(p->up);
			p->up = mig_xstrdup(entry);
		} else {
			free(p->down);
			p->down = mig_xstrdup(entry);
		}
		return 1;
	}
	if (!maybe_dir || fstatat(dirfd, entry, &st, 0) < 0 || !(is_dir = S_ISDIR(st.st_mode)))
		return 0;
	up = mig_path_join(entry, "up.sql");
	if (fstatat(dirfd, up, &st, 0) == 0) {
		MIG_GROW(sc->diesel, sc->ndiesel + 1, sc->dalloc);
		sc->diesel[sc->ndiesel++] = mig_xstrdup(entry);
	}
	free(up);
	return 1;	/* a directory is never a revision file of mig's */
}

/*
 * A '-- mig:' line of a golang-migrate or diesel file that the body made
 * of both files cannot hold (up, down, or what mig does not know), or a
 * NUL byte: named where it is, in the file and line the user sees, not
 * at the body's line. '-- mig:parents' (which the chain replaces) and a
 * bare '-- mig:no-transaction' are read as they always were.
 */
static int plain_sql(const struct mig_buf *b, const char *path, const char *name, enum mig_style style,
		     struct mig_err *err)
{
	const char *p = b->buf, *end = b->buf + b->len;
	int line = 1;

	for (; p < end; line++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *stop = eol ? eol : end;

		if (memchr(p, '\0', (size_t)(stop - p))) {
			mig_err_set(err, MIG_EINVALID, "%s:%d: NUL byte in a revision file", path, line);
			return MIG_EINVALID;
		}
		if (stop - p >= 7 && !memcmp(p, "-- mig:", 7)) {
			size_t w = strcspn(p + 7, " \t\r\n"), rest = (size_t)(stop - p) - 7 - w;
			const char *r = p + 7 + w;

			if ((w == 7 && !memcmp(p + 7, "parents", 7)) ||
			    (w == 14 && !memcmp(p + 7, "no-transaction", 14) && strspn(r, " \t\r") >= rest)) {
				p = eol ? eol + 1 : end;
				continue;
			}
			mig_err_set(err, MIG_EINVALID, "%s:%d: '%.*s' in a %s file", path, line,
				    (int)(7 + w), p, mig_layout_name(style));
			mig_err_hint(err, "%s is a %s revision: its files hold plain SQL", name,
				     mig_layout_name(style));
			return MIG_EINVALID;
		}
		p = eol ? eol + 1 : end;
	}
	return 0;
}

/*
 * One revision of two files: the body is mig's own format, so the store
 * and the parser need nothing else; messages name the real files.
 */
static int load_two(struct mig_rev **out, int dirfd, const char *dir, const char *name, const char *upfile,
		    const char *downfile, enum mig_style style, int no_transaction, struct mig_err *err)
{
	struct mig_buf up = MIG_BUF_INIT, down = MIG_BUF_INIT, body = MIG_BUF_INIT;
	char *uppath = upfile ? mig_path_join(dir, upfile) : NULL;
	char *downpath = downfile ? mig_path_join(dir, downfile) : NULL;
	int rc = 0;

	*out = NULL;
	if (!upfile) {
		rc = mig_err_set(err, MIG_EINVALID, "%s: no up file beside it", downpath);
		goto out;
	}
	if ((rc = mig_read_fileat(&up, dirfd, upfile, uppath, err)) < 0 ||
	    (downfile && (rc = mig_read_fileat(&down, dirfd, downfile, downpath, err)) < 0) ||
	    (rc = plain_sql(&up, uppath, name, style, err)) < 0 ||
	    (downfile && (rc = plain_sql(&down, downpath, name, style, err)) < 0))
		goto out;
	if (no_transaction)
		mig_buf_adds(&body, "-- mig:no-transaction\n");
	mig_buf_adds(&body, "-- mig:up\n");
	if (up.len)
		mig_buf_add(&body, up.buf, up.len);
	if (up.len && up.buf[up.len - 1] != '\n')
		mig_buf_addc(&body, '\n');
	if (downfile) {
		mig_buf_adds(&body, "-- mig:down\n");
		if (down.len)
			mig_buf_add(&body, down.buf, down.len);
	}
	/* what plain_sql let through parses */
	if ((rc = mig_rev_parse(out, name, uppath, body.buf, body.len, err)) < 0)
		goto out;
	(*out)->style = style;
	(*out)->up.line = 1;
	if (downfile) {
		(*out)->down.line = 1;
		(*out)->down_path = downpath;
		downpath = NULL;
	}
out:
	free(uppath);
	free(downpath);
	mig_buf_release(&up);
	mig_buf_release(&down);
	mig_buf_release(&body);
	return rc;
}

/* diesel's metadata.toml can say run_in_transaction = false. */
static int diesel_no_transaction(int dirfd, const char *dir, const char *name)
{
	char *file = mig_path_join(name, "metadata.toml"), *path = mig_path_join(dir, file);
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_buf b = MIG_BUF_INIT;
	int r = 0;

	if (mig_read_fileat(&b, dirfd, file, path, &ignored) == 0 && b.buf) {
		const char *p = strstr(b.buf, "run_in_transaction");

		if (p) {
			p += strlen("run_in_transaction");
			p += strspn(p, " \t");
			if (*p == '=') {
				p++;
				p += strspn(p, " \t");
				r = !strncmp(p, "false", 5);
			}
		}
	}
	mig_buf_release(&b);
	free(file);
	free(path);
	return r;
}

int mig_layout_load(struct mig_layout_scan *sc, int dirfd, const char *dir, struct mig_rev ***revs,
		    size_t *n, size_t *alloc, struct mig_err *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < sc->npairs && rc == 0; i++) {
		struct mig_rev *r;

		if ((rc = load_two(&r, dirfd, dir, sc->pairs[i].name, sc->pairs[i].up, sc->pairs[i].down,
				   MIG_STYLE_GOLANG, 0, err)) == 0) {
			MIG_GROW(*revs, *n + 1, *alloc);
			(*revs)[(*n)++] = r;
		}
	}
	for (i = 0; i < sc->ndiesel && rc == 0; i++) {
		char *up = mig_path_join(sc->diesel[i], "up.sql"), *down = mig_path_join(sc->diesel[i], "down.sql");
		struct stat st;
		struct mig_rev *r;

		if ((rc = load_two(&r, dirfd, dir, sc->diesel[i], up, fstatat(dirfd, down, &st, 0) == 0 ? down : NULL,
				   MIG_STYLE_DIESEL, diesel_no_transaction(dirfd, dir, sc->diesel[i]), err)) == 0) {
			MIG_GROW(*revs, *n + 1, *alloc);
			(*revs)[(*n)++] = r;
		}
		free(up);
		free(down);
	}
	return rc;
}

void mig_layout_scan_release(struct mig_layout_scan *sc)
{
	size_t i;

	for (i = 0; i < sc->npairs; i++) {
		free(sc->pairs[i].name);
		free(sc->pairs[i].up);
		free(sc->pairs[i].down);
	}
	for (i = 0; i < sc->ndiesel; i++)
		free(sc->diesel[i]);
	free(sc->pairs);
	free(sc->diesel);
	memset(sc, 0, sizeof(*sc));
}

char *mig_layout_version(const struct mig_rev *r)
{
	struct mig_buf b = MIG_BUF_INIT;
	const char *p;

	if (r->style == MIG_STYLE_DIESEL) {
		/* 2020-01-31-120000_name: the digits before the '_' */
		for (p = r->name; *p && *p != '_'; p++)
			if (*p >= '0' && *p <= '9')
				mig_buf_addc(&b, *p);
	} else {
		mig_buf_add(&b, r->name, strspn(r->name, "0123456789"));
	}
	if (!b.buf)
		mig_buf_adds(&b, "");
	return mig_buf_detach(&b);
}

int mig_layout_version_cmp(const char *a, const char *b)
{
	size_t la, lb;

	a += strspn(a, "0");
	b += strspn(b, "0");
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

struct versioned {
	struct mig_rev *r;
	char *v;
};

static int by_version(const void *x, const void *y)
{
	const struct versioned *a = x, *b = y;
	int c = mig_layout_version_cmp(a->v, b->v);

	return c ? c : strcmp(a->r->name, b->r->name);
}

enum mig_style mig_layout_chain(struct mig_rev **revs, size_t n)
{
	struct versioned *v;
	enum mig_style style;
	size_t i;

	if (!n || revs[0]->style == MIG_STYLE_MIG)
		return MIG_STYLE_MIG;
	style = revs[0]->style;
	for (i = 1; i < n; i++)
		if (revs[i]->style != style)
			return MIG_STYLE_MIG;
	v = mig_xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++) {
		v[i].r = revs[i];
		v[i].v = mig_layout_version(revs[i]);
	}
	qsort(v, n, sizeof(*v), by_version);
	for (i = 0; i < n; i++) {
		struct mig_rev *r = v[i].r;
		size_t j;

		/* the chain is the order: a '-- mig:parents' line in a file says nothing (nor leaks) */
		for (j = 0; j < r->nparents; j++)
			free(r->parents[j]);
		free(r->parents);
		r->parents = NULL;
		r->nparents = 0;
		/* parents_line set with no parents makes the first a root */
		r->parents_line = 1;
		if (i) {
			r->parents = mig_xcalloc(1, sizeof(char *));
			r->parents[0] = mig_xstrdup(v[i - 1].r->name);
			r->nparents = 1;
		}
	}
	for (i = 0; i < n; i++)
		free(v[i].v);
	free(v);
	return style;
}
