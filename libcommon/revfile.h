#ifndef MIG_REVFILE_H
#define MIG_REVFILE_H

#include <stddef.h>
#include "err.h"
#include "util.h"

/*
 * One revision file, parsed. The file's bytes are kept whole in data (the
 * store keeps exactly these bytes and the id is their git blob id); the
 * sections point into them.
 */
struct mig_section {
	const char *sql;	/* into rev->data; not NUL-terminated */
	size_t len;
	int line;		/* file line on which sql begins, 1-based */
	int present;		/* the file has this section */
};

/*
 * The layout a revision was written in: mig's own, or another tool's,
 * read in place (see layout.c).
 */
enum mig_style {
	MIG_STYLE_MIG,
	MIG_STYLE_DBMATE,	/* -- migrate:up / -- migrate:down */
	MIG_STYLE_GOOSE,	/* -- +goose Up / -- +goose Down */
	MIG_STYLE_GOLANG,	/* golang-migrate: N_name.up.sql + N_name.down.sql */
	MIG_STYLE_DIESEL,	/* NAME/up.sql + NAME/down.sql */
	MIG_STYLE_NR
};

/*
 * The section markers of a tool whose revisions are one file (dbmate's
 * '-- migrate:up'). The entries are layout.c's table of tools; this
 * module only reads them, so that a body read back from the store is
 * parsed whatever tool wrote it.
 */
struct mig_markers {
	enum mig_style style;
	const char *prefix;		/* "-- migrate:", then "up" or "down", case-blind */
	int lax;			/* other words after the prefix are comments, not errors */
	const char *notx_line;		/* a marker line that runs the revision outside a transaction */
	const char *notx_option;	/* an option on a section marker that does */
};

/* The i-th tool's markers, or NULL past the last; layout.c, with the table. */
const struct mig_markers *mig_markers_at(size_t i);

struct mig_rev {
	char *name;		/* file name without .sql */
	char *path;		/* as opened, for messages */
	char *down_path;	/* where the down section is, when not in path */
	enum mig_style style;
	char *data;		/* the file's bytes, NUL-terminated */
	size_t len;
	char id[41];		/* hex git blob id of data */

	char **parents;		/* names from -- mig:parents, in order */
	size_t nparents;
	int parents_line;	/* line of the directive, 0 when absent */
	int no_transaction;
	int unrunnable;		/* code of another tool's (goose's Go): never run, never reverted */
	struct mig_section up, down;

	/* filled by the graph */
	size_t *pidx;		/* parent indexes into the graph */
	size_t npidx;
	size_t nchildren;
};

/*
 * Parse the bytes of a revision file named name (path is for messages).
 * mig's directives, or dbmate's or goose's markers when the file has
 * them (and no '-- mig:' directive): a body read back from the store is
 * understood whatever tool wrote it.
 * On success *out owns a copy of data; free it with mig_rev_free().
 * Errors are MIG_EINVALID with "PATH:LINE: ..." messages.
 */
int mig_rev_parse(struct mig_rev **out, const char *name, const char *path,
		  const char *data, size_t len, struct mig_err *err);

/*
 * Read and parse file under the directory dirfd (AT_FDCWD: the current
 * one); name is derived by the caller, path is file as messages name it.
 */
int mig_rev_loadat(struct mig_rev **out, int dirfd, const char *file, const char *name,
		   const char *path, struct mig_err *err);

/* Does name make a good revision name for a new file? */
int mig_rev_name_ok(const char *name);

void mig_rev_free(struct mig_rev *rev);

#endif
