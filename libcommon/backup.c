#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "db.h"
#include "journal.h"
#include "snapshot.h"
#include "util.h"

/* The applied revisions as "revision ID NAME" lines; none when unreadable. */
static size_t applied_lines(const char *path, int timeout_ms, struct mig_buf *out)
{
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_applied_list l = { NULL, 0 };
	struct mig_db *db = NULL;
	size_t i, n = 0;

	if (mig_db_open(&db, path, MIG_DB_READONLY, timeout_ms, &ignored) == 0 &&
	    mig_db_applied(db, &l, &ignored) == 0)
		for (i = 0; i < l.nr; i++, n++)
			mig_journal_add_rev(out, l.v[i].id, l.v[i].name, NULL);
	mig_applied_list_release(&l);
	mig_db_close(db);
	return n;
}

int mig_backup_take(struct mig_store *s, const char *path, const char *subject, int timeout_ms, int progress,
		    char id[41], struct mig_err *err)
{
	struct mig_snapshot_opts o = { subject, NULL, 0, timeout_ms, progress };
	struct mig_buf revs = MIG_BUF_INIT;
	struct stat st;
	int rc;

	id[0] = '\0';
	if (stat(path, &st) < 0 || st.st_size == 0)
		return 0;
	o.nrevisions = applied_lines(path, timeout_ms, &revs);
	o.revisions = revs.buf;
	rc = mig_snapshot_take(s, path, &o, id, err);
	mig_buf_release(&revs);
	return rc;
}

int mig_backup_journal(struct mig_store *s, const char *subject, const char *op, const char *snapshot,
		       const char *before, const char *result, struct mig_err *err)
{
	struct mig_buf m = MIG_BUF_INIT;
	int rc;

	mig_buf_addf(&m, "%s\n\noperation %s\n", subject, op);
	if (snapshot && *snapshot)
		mig_buf_addf(&m, "snapshot %s\n", snapshot);
	if (before && *before)
		mig_buf_addf(&m, "before %s\n", before);
	mig_buf_addf(&m, "result %s\n", result);
	rc = mig_store_journal(s, m.buf, NULL, NULL, 0, err);
	mig_buf_release(&m);
	return rc;
}

int mig_backup_progress(int quiet)
{
	return !quiet && isatty(2);
}
