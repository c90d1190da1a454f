#ifndef MIG_JOURNAL_H
#define MIG_JOURNAL_H

#include "store.h"
#include "status.h"
#include "util.h"

/*
 * The journal as 'mig log' shows it. Each journal commit's message holds
 * one fact per line after its subject ("operation up", "revision ID NAME
 * 12ms", "result ok", "schema HASH"); these read them back.
 */
struct mig_journal_rev {
	char *id, *name;
	long long ms;
};

struct mig_journal_op {
	char *subject, *operation, *result, *schema;
	char *snapshot;		/* taken before the operation, or made by it */
	char *before;		/* restore: the snapshot of what was replaced */
	struct mig_journal_rev *revs;
	size_t nrevs;
};

void mig_journal_parse(struct mig_journal_op *op, const char *message);
void mig_journal_op_release(struct mig_journal_op *op);

/* Format the newest max (0: all) entries of the store's journal into out. */
int mig_journal_show(struct mig_buf *out, struct mig_store *s, size_t max, enum mig_format fmt,
		     int verbose, struct mig_err *err);

#endif
