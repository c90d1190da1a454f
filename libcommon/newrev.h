#ifndef MIG_NEWREV_H
#define MIG_NEWREV_H

#include "err.h"
#include "config.h"
#include "graph.h"

/*
 * Write a new revision file NNNN_NAME.sql into the graph's directory, NNNN
 * being one more than the largest number any name starts with, with the
 * given parents and empty up and down sections. Never overwrites.
 * *path gets the new file's path (caller frees). In another tool's
 * layout the revision is written that tool's way (a timestamp version
 * where it uses them), and for golang-migrate and diesel *path is the
 * up and the down file, one per line.
 */
int mig_newrev_write(char **path, const struct mig_graph *g, const char *name,
		     const char *const *parents, size_t nparents, struct mig_err *err);

/* mig new: a revision NAME after the heads of set's migrations. */
int mig_new(char **path, const struct mig_settings *set, const char *name, struct mig_err *err);

/*
 * mig merge: a revision NAME whose parents are the heads specs name
 * (none: every head), each once; fewer than two is MIG_EUSAGE.
 */
int mig_merge(char **path, const struct mig_settings *set, const char *name, char *const *specs, size_t nspecs,
	      struct mig_err *err);

#endif
