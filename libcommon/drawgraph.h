#ifndef MIG_DRAWGRAPH_H
#define MIG_DRAWGRAPH_H

#include <stddef.h>
#include "config.h"
#include "err.h"
#include "state.h"
#include "util.h"

/*
 * The revision graph of st drawn into out as 'git log --graph' draws
 * commits: newest first (children before parents, each branch kept
 * together), a '*' per revision on its own line, '|' '/' '\' for the
 * lines between them, a blank line between parts that share nothing.
 * Each revision is followed by its state: applied, pending, dirty,
 * edited (its file changed since it was applied), and "(head)" for a
 * head; revisions applied whose files are gone come last, "applied,
 * file missing". Names are escaped for a terminal (mig_buf_add_tty).
 */
void mig_drawgraph_text(struct mig_buf *out, const struct mig_state *st);

/*
 * The same as a Graphviz digraph: a node per revision labelled with its
 * name and state, an edge from each revision to each of its parents.
 * Names are written with mig_buf_add_esc's escapes, so no control
 * character is ever written raw.
 */
void mig_drawgraph_dot(struct mig_buf *out, const struct mig_state *st);

/*
 * mig log --graph, mig status --graph: the graph of set's revisions
 * against its database (all pending when there is none), as text or
 * with dot as Graphviz. *findings gets what status --check counts
 * (pending revisions and problems).
 */
int mig_drawgraph_show(struct mig_buf *out, const struct mig_settings *set, int dot, size_t *findings,
		       struct mig_err *err);

#endif
