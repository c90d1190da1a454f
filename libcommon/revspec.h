#ifndef MIG_REVSPEC_H
#define MIG_REVSPEC_H

#include "err.h"
#include "state.h"

/*
 * A revision spec (DESIGN.md "Revision specs") resolved against the files
 * and the database: one revision, nothing (base), or every head.
 */
enum mig_target_kind { MIG_TARGET_REV, MIG_TARGET_BASE, MIG_TARGET_HEADS };

struct mig_target {
	enum mig_target_kind kind;
	long rev;		/* index into the graph, or -1 when the file is missing */
	long rec;		/* index into the applied records, or -1 */
	const char *name;	/* the revision's name; owned by the state */
};

/*
 * Resolve spec. Unknown or ambiguous specs are MIG_EUSAGE with the
 * candidates in the message or hint.
 */
int mig_revspec(struct mig_target *t, const struct mig_state *st, const char *spec,
		struct mig_err *err);

/* The words a spec may be besides a name, with what each means; ends with NULLs. */
struct mig_revspec_word {
	const char *word, *means;
};

extern const struct mig_revspec_word mig_revspec_words[];

#endif
