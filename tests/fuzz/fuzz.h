/*
 * What the fuzz targets share: a scratch directory for the targets that
 * must go through files, on tmpfs when there is one (nothing there is
 * worth a disk write, and the gzip target's snapshots sync the store's
 * file system), removed at exit.
 */
#ifndef MIG_FUZZ_H
#define MIG_FUZZ_H

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libgit2, loaded and set up: a fuzzer without it has nothing to run. */
static inline void fuzz_git_need(void)
{
	struct mig_err err = MIG_ERR_INIT;

	if (mig_git_need(&err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
}

static char fuzz_scratch[256];

static int fuzz_remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	remove(path);
	return 0;
}

/* Remove path and everything under it. */
static inline void fuzz_rm_rf(const char *path)
{
	nftw(path, fuzz_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void fuzz_scratch_remove(void)
{
	if (fuzz_scratch[0])
		fuzz_rm_rf(fuzz_scratch);
}

/* A fresh directory for this process; its path. */
static inline const char *fuzz_scratch_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (fuzz_scratch[0])
		return fuzz_scratch;
	if (access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	else if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(fuzz_scratch, sizeof(fuzz_scratch), "%s/mig-fuzz-XXXXXX", tmp);
	if (!mkdtemp(fuzz_scratch)) {
		perror(fuzz_scratch);
		abort();
	}
	atexit(fuzz_scratch_remove);
	return fuzz_scratch;
}

/* Write [data, data+len) to path, replacing it; abort when that fails. */
static inline void fuzz_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || mig_write_all(fd, data, len) < 0 || close(fd) < 0) {
		perror(path);
		abort();
	}
}

#endif
