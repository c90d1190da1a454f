/*
 * An LD_PRELOAD shim for the crash trials: SIGKILL the process at the
 * Nth call that writes, syncs or renames, before the call is made, so
 * that every such point of a command can be reached in turn.
 *
 *   MIG_CRASH_AT=N       kill at the Nth counted call (unset or 0: never)
 *   MIG_CRASH_ON=CLASSES what counts, a comma list of write (write,
 *                        pwrite, writev), sync (fsync, fdatasync, syncfs)
 *                        and name (rename, link, unlink, ftruncate);
 *                        default all three
 *   MIG_CRASH_COUNT=FILE at exit, append "COUNT" (calls counted) to FILE
 *
 * Calls made inside the C library (stdio's own writes) are not seen:
 * only those of mig, SQLite, libgit2 and the other libraries it loads.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum { C_WRITE = 1, C_SYNC = 2, C_NAME = 4 };

static long at;
static int classes = C_WRITE | C_SYNC | C_NAME;
static atomic_long count;

__attribute__((constructor)) static void start(void)
{
	const char *s = getenv("MIG_CRASH_AT"), *on = getenv("MIG_CRASH_ON");

	at = s ? atol(s) : 0;
	if (on && *on)
		classes = (strstr(on, "write") ? C_WRITE : 0) | (strstr(on, "sync") ? C_SYNC : 0) |
			  (strstr(on, "name") ? C_NAME : 0);
}

__attribute__((destructor)) static void stop(void)
{
	const char *path = getenv("MIG_CRASH_COUNT");
	char line[32];
	int fd, n;

	if (!path || (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return;
	n = snprintf(line, sizeof(line), "%ld\n", (long)atomic_load(&count));
	if (n > 0 && write(fd, line, (size_t)n) < 0)
		n = 0;
	close(fd);
}

static void point(int class)
{
	if ((classes & class) && atomic_fetch_add(&count, 1) + 1 == at && at > 0)
		kill(getpid(), SIGKILL);
}

/* the real function, looked up once */
#define NEXT(name) ({ \
	static __typeof__(&name) real; \
	if (!real) \
		real = (__typeof__(&name))dlsym(RTLD_NEXT, #name); \
	real; })

ssize_t write(int fd, const void *buf, size_t n)
{
	point(C_WRITE);
	return NEXT(write)(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	point(C_WRITE);
	return NEXT(pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	point(C_WRITE);
	return NEXT(pwrite64)(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	point(C_WRITE);
	return NEXT(writev)(fd, iov, n);
}

int fsync(int fd)
{
	point(C_SYNC);
	return NEXT(fsync)(fd);
}

int fdatasync(int fd)
{
	point(C_SYNC);
	return NEXT(fdatasync)(fd);
}

int syncfs(int fd)
{
	point(C_SYNC);
	return NEXT(syncfs)(fd);
}

int rename(const char *from, const char *to)
{
	point(C_NAME);
	return NEXT(rename)(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	point(C_NAME);
	return NEXT(renameat)(fromfd, from, tofd, to);
}

int link(const char *from, const char *to)
{
	point(C_NAME);
	return NEXT(link)(from, to);
}

int unlink(const char *path)
{
	point(C_NAME);
	return NEXT(unlink)(path);
}

int ftruncate(int fd, off_t len)
{
	point(C_NAME);
	return NEXT(ftruncate)(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
	point(C_NAME);
	return NEXT(ftruncate64)(fd, len);
}
