/*
 * The schema file (dbmate's schema.sql habit): the live schema in a file
 * kept beside the code, so that a review sees what a revision did to it.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "db.h"
#include "schemafile.h"
#include "util.h"

int mig_schema_file_write(const struct mig_settings *set, struct mig_err *err)
{
	struct mig_buf sql = MIG_BUF_INIT;
	struct mig_outfile of = { -1, NULL, NULL, NULL };
	struct mig_db *db = NULL;
	struct stat st;
	mode_t mask;
	int rc, fresh;

	if (!set->schema_file || !set->database)
		return 0;
	if ((rc = mig_db_open(&db, set->database, MIG_DB_READONLY, set->lock_timeout, err)) < 0 ||
	    (rc = mig_db_schema_sql(db, &sql, err)) < 0)
		goto out;
	fresh = stat(set->schema_file, &st) < 0;
	if ((rc = mig_outfile_open(&of, set->schema_file, err)) < 0)
		goto out;
	/* mig_outfile makes a new file private, as an image must be; a schema is for sharing */
	mask = umask(0);
	umask(mask);
	if (fresh && of.tmp && fchmod(of.fd, 0666 & ~mask) < 0) {
		rc = mig_err_errno(err, MIG_EENV, "cannot write schema file '%s'", set->schema_file);
		goto out;
	}
	if (mig_write_all(of.fd, sql.buf ? sql.buf : "", sql.len) < 0) {
		rc = mig_err_errno(err, MIG_EENV, "cannot write schema file '%s'", set->schema_file);
		goto out;
	}
	rc = mig_outfile_commit(&of, err);
out:
	mig_outfile_release(&of);
	mig_db_close(db);
	mig_buf_release(&sql);
	return rc;
}
