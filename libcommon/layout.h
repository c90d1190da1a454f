#ifndef MIG_LAYOUT_H
#define MIG_LAYOUT_H

#include <stddef.h>
#include "db.h"
#include "err.h"
#include "revfile.h"

/*
 * Other tools' migration directories, read in place without
 * configuration: one table entry per tool says everything mig knows of
 * it, so another tool's layout is one more entry (and its enum
 * mig_style). dbmate's and goose's files are one file per revision,
 * parsed by revfile.c with the markers the entry names; golang-migrate's
 * N_name.up.sql and N_name.down.sql, and diesel's NAME/up.sql and
 * NAME/down.sql, are two files, made into one revision here: its body,
 * stored and hashed, is the mig revision "-- mig:up\n" UP "-- mig:down\n"
 * DOWN, so its id is that body's git blob id. A directory of such
 * revisions only is a linear chain in the tool's own version order.
 */

struct mig_layout_scan;
struct mig_layout_unit;

struct mig_layout {
	const char *name;		/* for messages: "golang-migrate" */
	enum mig_style style;

	/* one file per revision: its section markers (revfile.c); no prefix: files of plain SQL */
	struct mig_markers markers;

	/* the directory entries that make revisions, and how they become them */
	int (*offer)(struct mig_layout_scan *sc, const struct mig_layout *l, int dirfd, const char *entry,
		     int maybe_dir);
	int (*load)(struct mig_rev **out, int dirfd, const char *dir, const struct mig_layout_unit *u,
		    struct mig_err *err);
	const char *file_suffix[2];	/* up, down: appended to NAME ("/up.sql"); NULL: in one file */

	/* versions: taken from a name, compared, and the order they make */
	char *(*version)(const char *name);
	int (*version_cmp)(const char *a, const char *b);
	int order_by_file;		/* the chain is in file name order, not version order */
	int unique_versions;		/* two revisions of one version are an error */

	/* mig new: VERSION_NAME plus each file_suffix, holding these bodies */
	int new_stamp;			/* new versions are UTC timestamps */
	int new_dir;			/* VERSION_NAME is a directory, made first */
	char *(*new_version)(const char *digits);	/* the version as the tool writes it, or NULL */
	const char *new_body[2];

	/* fake --adopt: what the tool's bookkeeping says is applied */
	struct mig_foreign_query adopt;
};

/*
 * Tools whose revisions are code (Alembic's Python, Django's): a user
 * moving to mig rewrites them as revision files in mig's own layout,
 * named so that fake --adopt can tell which row of the tool's
 * bookkeeping each stands for (mig-fake(1), mig(7)).
 */
struct mig_adopter {
	const char *name;		/* for messages: "Alembic" */
	struct mig_foreign_query q;	/* a row a line; Django's applied time second */
	int heads;			/* the rows are heads: their ancestors are applied too */
	int (*matches)(const char *name, const char *row);	/* does revision name stand for row? */
	char *(*file)(const char *row);	/* a name of the file for row, for a hint; the caller frees it */
};

/* The i-th of them, or NULL past the last. */
const struct mig_adopter *mig_adopter_at(size_t i);

/* The entry of a style; NULL for mig's own. */
const struct mig_layout *mig_layout_of(enum mig_style s);

/* What a directory scan took: revisions of two files, or of code. */
struct mig_layout_unit {
	const struct mig_layout *layout;
	char *key;		/* what its files pair by: golang-migrate's version, else the entry */
	char *name;		/* the revision's name */
	char *up, *down;	/* file names under the directory, or NULL */
	char *dup;		/* a second file of that version and direction */
};

struct mig_layout_scan {
	struct mig_layout_unit *v;
	size_t nr, alloc;
};

/*
 * Offer a directory entry (maybe_dir: readdir could not say it is a
 * plain file): 1 when it is part of another tool's layout, or a
 * directory (taken), 0 when it is not.
 */
int mig_layout_offer(struct mig_layout_scan *sc, int dirfd, const char *entry, int maybe_dir);

/* Make the revisions of what was taken, appended to *revs. */
int mig_layout_load(struct mig_layout_scan *sc, int dirfd, const char *dir, struct mig_rev ***revs,
		    size_t *n, size_t *alloc, struct mig_err *err);

void mig_layout_scan_release(struct mig_layout_scan *sc);

/*
 * When every revision is another tool's, of one style, chain them in
 * that tool's order (explicit parents) and set *style; else set
 * MIG_STYLE_MIG and leave them to mig's rules. Two revisions of one
 * version where the tool refuses that, and a goose Go migration among
 * revisions that are not goose's, are errors.
 */
int mig_layout_chain(enum mig_style *style, struct mig_rev **revs, size_t n, struct mig_err *err);

/* A revision's version as its tool reads it from the name. */
char *mig_layout_version(const struct mig_rev *r);

/* Compare two versions as the tool of style does (mig's own: as numbers). */
int mig_layout_version_cmp(enum mig_style style, const char *a, const char *b);

/* The name of a style, for messages ("golang-migrate"). */
const char *mig_layout_name(enum mig_style s);

/*
 * A body read back from the store (or parsed again from the file) with
 * the places its file has: a two-file revision's lines and down file,
 * so that messages name down.sql and its own line. file is the revision
 * in the directory, or NULL; dir_style the directory's layout.
 */
void mig_layout_body_places(struct mig_rev *body, const struct mig_rev *file, const char *dir,
			    enum mig_style dir_style);

/*
 * MIG_EUNSAFE, naming the file, when body cannot be reverted: no down
 * part, or one of only blanks and comments, or code mig cannot run.
 */
int mig_layout_reversible(const struct mig_rev *body, struct mig_err *err);

/*
 * MIG_EUNSAFE when r is a revision mig cannot run (a goose Go
 * migration), else 0.
 */
int mig_layout_runnable(const struct mig_rev *r, struct mig_err *err);

/*
 * A plan of revisions (indexes into revs) stops before the first that
 * mig cannot run: *n is cut there and *stop says why (MIG_EUNSAFE);
 * else *stop is cleared. What comes before it can run.
 */
void mig_layout_plan_stop(struct mig_rev *const *revs, const size_t *plan, size_t *n, struct mig_err *stop);

#endif
