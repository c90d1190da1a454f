#ifndef MIG_GRAPH_H
#define MIG_GRAPH_H

#include <stddef.h>
#include "err.h"
#include "revfile.h"

/*
 * The revisions of a migrations directory as a directed acyclic graph.
 * revs[] is sorted by name (byte order); topo[] lists indexes into revs
 * with parents before children, ties broken by name.
 */
struct mig_graph {
	char *dir;
	struct mig_rev **revs;
	size_t nr;
	size_t *topo;
	size_t *heads;		/* in name order */
	size_t nheads;
	enum mig_style style;	/* another tool's, when all revisions are in its layout */
};

/* An in-memory revision file, for the bookkeeping schema built into mig. */
struct mig_memfile {
	const char *name;
	const char *data;
};

/*
 * Read every NAME.sql in dir, and other tools' layouts (layout.h), and
 * build the graph. A missing directory,
 * an unreadable file, a parse error, an unknown parent or a cycle is
 * MIG_EINVALID naming the file (and line). The caller frees *out.
 * With cache_path (cache.h), a file not changed since it was cached is
 * not read again, and its revision has no data and no sections: for
 * commands that need only the graph, ids and parents, such as status.
 * With NULL, every file is read.
 */
int mig_graph_load_cached(struct mig_graph **out, const char *dir, const char *cache_path,
			  struct mig_err *err);

/* The same from memory; files need not be sorted. */
int mig_graph_load_mem(struct mig_graph **out, const struct mig_memfile *files,
		       size_t n, struct mig_err *err);

/* Index of the revision with this exact name, or -1. O(log n). */
long mig_graph_find(const struct mig_graph *g, const char *name);

/*
 * Mark in mark[] (nr bytes, set to 1) idx and every ancestor of it.
 * mark[] entries already 1 are not walked again.
 */
void mig_graph_ancestors(const struct mig_graph *g, size_t idx, unsigned char *mark);

void mig_graph_free(struct mig_graph *g);

#endif
