#ifndef MIG_SQLITE_DB_H
#define MIG_SQLITE_DB_H

#include <stddef.h>
#include <stdint.h>
#include "backend.h"

/*
 * What the SQLite backend's files share among themselves (sqlite-db.c,
 * sqlite-image.c, sqlite-diagnose.c); nothing above the seam includes
 * this.
 */

/* Configure SQLite for mig, once, before anything opens a database. */
void mig_sqlite_setup(void);

/* The image ops (sqlite-image.c): SQLite's backup API through VFSes of mig's own. */
int mig_sqlite_image_read(const char *path, int timeout_ms, const struct mig_image_sink *sink,
			  uint32_t *page_size, uint64_t *size, struct mig_err *err);
int mig_sqlite_image_write(const char *path, int timeout_ms, const struct mig_image_source *src,
			   struct mig_err *err);

#endif
