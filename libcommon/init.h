#ifndef MIG_INIT_H
#define MIG_INIT_H

#include "cli.h"
#include "err.h"

/*
 * mig init: make the working directory a mig project. The database and
 * the migrations directory are what g names (-d, -m), else what
 * MIG_DATABASE and MIG_MIGRATIONS name; without them, app.db and
 * migrations.
 *
 * Without ./mig.conf it is written, whole or not at all, naming both.
 * With one, nothing in it is ever changed: a value named that it sets
 * differently is MIG_EUNSAFE naming the file and the key; a value named
 * that it does not set is added to it; what it sets and nobody named
 * stays. Then the migrations directory is made, parents too, if it is
 * missing. Running it again with the same settings changes nothing.
 * What it did is said with mig_say (MIG_SAY_NOTE).
 */
int mig_init(const struct mig_globals *g, struct mig_err *err);

#endif
