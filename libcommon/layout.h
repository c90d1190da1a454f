#ifndef MIG_LAYOUT_H
#define MIG_LAYOUT_H

#include <stddef.h>
#include "err.h"
#include "revfile.h"

/*
 * Other tools' migration directories, read in place without
 * configuration. dbmate's and goose's files are one file per revision
 * (revfile.c parses their markers); golang-migrate's N_name.up.sql and
 * N_name.down.sql, and diesel's NAME/up.sql and NAME/down.sql, are two
 * files, made into one revision here: its body, stored and hashed, is
 * the mig revision "-- mig:up\n" UP "-- mig:down\n" DOWN, so its id is
 * that body's git blob id. A directory of such revisions only is a
 * linear chain in version order.
 */

struct mig_layout_scan {
	struct pair {
		char *name;	/* N_name */
		char *up, *down;	/* file names, or NULL */
	} *pairs;
	size_t npairs, alloc;
	char **diesel;		/* directory names */
	size_t ndiesel, dalloc;
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
 * version order (explicit parents) and return that style; else return
 * MIG_STYLE_MIG and leave them to mig's rules.
 */
enum mig_style mig_layout_chain(struct mig_rev **revs, size_t n);

/* A revision's version: its leading digits (diesel: its date digits). */
char *mig_layout_version(const struct mig_rev *r);

/* Compare two versions as numbers. */
int mig_layout_version_cmp(const char *a, const char *b);

/* The name of a style, for messages ("golang-migrate"). */
const char *mig_layout_name(enum mig_style s);

#endif
