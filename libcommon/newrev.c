#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "newrev.h"
#include "util.h"

int mig_newrev_write(char **path, const struct mig_graph *g, const char *name,
		     const char *const *parents, size_t nparents, struct mig_err *err)
{
	struct mig_buf body = MIG_BUF_INIT;
	unsigned long long max = 0;
	int width = 4, fd = -1, rc = 0;
	char *file = NULL;
	size_t i;

	*path = NULL;
	if (!mig_rev_name_ok(name)) {
		mig_err_set(err, MIG_EUSAGE, "invalid revision name '%s'", name);
		mig_err_hint(err, "use letters, digits, '_', '-' and '.', not starting with '-' or '.'");
		return MIG_EUSAGE;
	}
	for (i = 0; i < g->nr; i++) {
		const char *n = g->revs[i]->name;
		size_t digits = strspn(n, "0123456789");
		unsigned long long v;

		if (!digits || digits > 18)
			continue;
		v = strtoull(n, NULL, 10);
		if (v > max)
			max = v;
		if ((int)digits > width)
			width = (int)digits;
	}
	file = mig_xasprintf("%0*llu_%s.sql", width, max + 1, name);
	*path = mig_path_join(g->dir, file);

	mig_buf_adds(&body, "-- mig:parents");
	for (i = 0; i < nparents; i++)
		mig_buf_addf(&body, " %s", parents[i]);
	mig_buf_adds(&body, "\n-- mig:up\n\n-- mig:down\n\n");

	if ((fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) < 0) {
		rc = mig_err_errno(err, MIG_EENV, "cannot create '%s'", *path);
		goto out;
	}
	if (write(fd, body.buf, body.len) != (ssize_t)body.len || fsync(fd) < 0) {
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", *path);
		unlink(*path);
	}
	if (close(fd) < 0 && !rc) {
		rc = mig_err_errno(err, MIG_EENV, "cannot write '%s'", *path);
		unlink(*path);
	}
out:
	if (rc < 0) {
		free(*path);
		*path = NULL;
	}
	free(file);
	mig_buf_release(&body);
	return rc;
}
