/*
 * faultfs: fail the Nth I/O call of a process, for tests/fault/run.sh.
 *
 * Preloaded (LD_PRELOAD=build/faultfs.so), it sits in front of the libc
 * calls that mig, SQLite and libgit2 make to read, write, sync, rename
 * and create files, counts the ones of the kinds asked for, and makes
 * the Nth fail with an errno. SQLite and libgit2 are shared libraries
 * and reach libc through the PLT, so they are caught too. With
 * FAULT_LAYER=vfs it counts SQLite's own calls instead, through a VFS
 * that wraps the default one (registered at the first sqlite3_open_v2),
 * and fails them with SQLite's codes (SQLITE_FULL for ENOSPC).
 *
 * Environment:
 *   FAULT_N      the call to fail, from 1; 0 or unset: fail nothing, count
 *   FAULT_OPS    kinds to count: read,write,fsync,rename,open (default all)
 *   FAULT_ERRNO  EIO (default), ENOSPC, or a number
 *   FAULT_STICKY 1: every counted call from the Nth on fails (a disk that
 *                stays full), not only the Nth
 *   FAULT_PATH   count only calls on paths containing this string
 *   FAULT_CALL   count only these functions (comma-separated: ftruncate64,rename)
 *   FAULT_LAYER  sys (default) or vfs
 *   FAULT_COUNT  at exit, write "TOTAL read write fsync rename open" here
 *   FAULT_LOG    append a line per failed call: N, kind, call, path
 *   FAULT_TRACE  the same for every counted call, failed or not
 *
 * What counts: reads and writes of regular files (not of pipes, terminals
 * or /dev/urandom), each entry read from a directory, syncs of files and
 * directories, renames and links,
 * and opens that create or write (open with O_CREAT, O_WRONLY or O_RDWR,
 * mkostemp, mkdir). Threads share one counter, so in a process that does
 * I/O on several threads the Nth call is not always the same one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#include <sqlite3.h>

enum kind { K_READ, K_WRITE, K_FSYNC, K_RENAME, K_OPEN, K_NR };
static const char *const kind_name[K_NR] = { "read", "write", "fsync", "rename", "open" };

static struct {
	int ready, layer_vfs, sticky, err;
	unsigned mask;
	long n;
	const char *path, *call, *count, *log, *trace;
} cfg;

static long total, per_kind[K_NR];

/* Is word one of the comma-separated words of list? */
static int in_list(const char *list, const char *word)
{
	size_t l = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)); p += l)
		if ((p == list || p[-1] == ',') && (p[l] == ',' || !p[l]))
			return 1;
	return 0;
}

static void setup(void)
{
	const char *s;

	if (__atomic_load_n(&cfg.ready, __ATOMIC_ACQUIRE))
		return;
	cfg.n = (s = getenv("FAULT_N")) ? atol(s) : 0;
	cfg.sticky = (s = getenv("FAULT_STICKY")) && *s == '1';
	cfg.layer_vfs = (s = getenv("FAULT_LAYER")) && !strcmp(s, "vfs");
	cfg.path = (s = getenv("FAULT_PATH")) && *s ? s : NULL;
	cfg.call = (s = getenv("FAULT_CALL")) && *s ? s : NULL;
	cfg.count = getenv("FAULT_COUNT");
	cfg.log = getenv("FAULT_LOG");
	cfg.trace = getenv("FAULT_TRACE");
	s = getenv("FAULT_ERRNO");
	cfg.err = !s || !strcmp(s, "EIO") ? EIO : !strcmp(s, "ENOSPC") ? ENOSPC : atoi(s) > 0 ? atoi(s) : EIO;
	if ((s = getenv("FAULT_OPS")) && *s) {
		for (int k = 0; k < K_NR; k++)
			if (in_list(s, kind_name[k]))
				cfg.mask |= 1u << k;
	} else {
		cfg.mask = (1u << K_NR) - 1;
	}
	__atomic_store_n(&cfg.ready, 1, __ATOMIC_RELEASE);
}

__attribute__((destructor)) static void report(void)
{
	FILE *f;

	setup();
	if (!cfg.count || !(f = fopen(cfg.count, "w")))
		return;
	fprintf(f, "%ld %ld %ld %ld %ld %ld\n", total, per_kind[K_READ], per_kind[K_WRITE], per_kind[K_FSYNC],
		per_kind[K_RENAME], per_kind[K_OPEN]);
	fclose(f);
}

static void fd_path(int fd, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	buf[n < 0 ? 0 : n] = '\0';
}

static void log_call(const char *file, long n, enum kind k, const char *call, const char *path)
{
	FILE *f;

	if (file && (f = fopen(file, "a"))) {
		fprintf(f, "%ld %s %s %s\n", n, kind_name[k], call, path ? path : "");
		fclose(f);
	}
}

/* Count one call of kind k on path (or fd); 1 when it is to fail. */
static int hit(enum kind k, int vfs, const char *call, const char *path, int fd)
{
	char buf[4096];
	long n;

	setup();
	if (vfs != cfg.layer_vfs || !(cfg.mask & (1u << k)) || (cfg.call && !in_list(cfg.call, call)))
		return 0;
	if (!path && (cfg.path || cfg.log || cfg.trace)) {
		fd_path(fd, buf, sizeof(buf));
		path = buf;
	}
	if (cfg.path && (!path || !strstr(path, cfg.path)))
		return 0;
	n = __atomic_add_fetch(&total, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&per_kind[k], 1, __ATOMIC_RELAXED);
	log_call(cfg.trace, n, k, call, path);
	if (!cfg.n || n < cfg.n || (n > cfg.n && !cfg.sticky))
		return 0;
	log_call(cfg.log, n, k, call, path);
	return 1;
}

/* Reads and writes count on regular files only; syncs and readdir on directories. */
static int counted_fd(int fd, enum kind k)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return 0;
	return S_ISREG(st.st_mode) || ((k == K_FSYNC || k == K_READ) && S_ISDIR(st.st_mode));
}

static int fd_fault(int fd, enum kind k, const char *call)
{
	setup();
	if (cfg.layer_vfs)
		return 0;
	if (!counted_fd(fd, k) || !hit(k, 0, call, NULL, fd))
		return 0;
	errno = cfg.err;
	return 1;
}

static int path_fault(const char *path, enum kind k, const char *call)
{
	if (!hit(k, 0, call, path, -1))
		return 0;
	errno = cfg.err;
	return 1;
}

#define REAL(name) \
	static __typeof__(name) *real; \
	if (!real) \
		real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

static int writes(int flags)
{
	return (flags & O_CREAT) || (flags & O_ACCMODE) != O_RDONLY;
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;
	REAL(open);

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (writes(flags) && path_fault(path, K_OPEN, "open"))
		return -1;
	return real(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;
	REAL(open64);

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (writes(flags) && path_fault(path, K_OPEN, "open64"))
		return -1;
	return real(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;
	REAL(openat);

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (writes(flags) && path_fault(path, K_OPEN, "openat"))
		return -1;
	return real(dirfd, path, flags, mode);
}

int mkostemp(char *tmpl, int flags)
{
	REAL(mkostemp);

	if (path_fault(tmpl, K_OPEN, "mkostemp"))
		return -1;
	return real(tmpl, flags);
}

int mkdir(const char *path, mode_t mode)
{
	REAL(mkdir);

	if (path_fault(path, K_OPEN, "mkdir"))
		return -1;
	return real(path, mode);
}

ssize_t read(int fd, void *buf, size_t n)
{
	REAL(read);

	if (fd_fault(fd, K_READ, "read"))
		return -1;
	return real(fd, buf, n);
}

ssize_t __read_chk(int fd, void *buf, size_t n, size_t size)
{
	REAL(__read_chk);

	if (fd_fault(fd, K_READ, "read"))
		return -1;
	return real(fd, buf, n, size);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	REAL(pread);

	if (fd_fault(fd, K_READ, "pread"))
		return -1;
	return real(fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	REAL(pread64);

	if (fd_fault(fd, K_READ, "pread64"))
		return -1;
	return real(fd, buf, n, off);
}

struct dirent *readdir(DIR *d)
{
	REAL(readdir);

	if (fd_fault(dirfd(d), K_READ, "readdir"))
		return NULL;
	return real(d);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write);

	if (fd_fault(fd, K_WRITE, "write"))
		return -1;
	return real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite);

	if (fd_fault(fd, K_WRITE, "pwrite"))
		return -1;
	return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	REAL(pwrite64);

	if (fd_fault(fd, K_WRITE, "pwrite64"))
		return -1;
	return real(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	REAL(writev);

	if (fd_fault(fd, K_WRITE, "writev"))
		return -1;
	return real(fd, iov, n);
}

int ftruncate(int fd, off_t len)
{
	REAL(ftruncate);

	if (fd_fault(fd, K_WRITE, "ftruncate"))
		return -1;
	return real(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
	REAL(ftruncate64);

	if (fd_fault(fd, K_WRITE, "ftruncate64"))
		return -1;
	return real(fd, len);
}

int fsync(int fd)
{
	REAL(fsync);

	if (fd_fault(fd, K_FSYNC, "fsync"))
		return -1;
	return real(fd);
}

int fdatasync(int fd)
{
	REAL(fdatasync);

	if (fd_fault(fd, K_FSYNC, "fdatasync"))
		return -1;
	return real(fd);
}

int syncfs(int fd)
{
	REAL(syncfs);

	if (fd_fault(fd, K_FSYNC, "syncfs"))
		return -1;
	return real(fd);
}

int rename(const char *from, const char *to)
{
	REAL(rename);

	if (path_fault(to, K_RENAME, "rename"))
		return -1;
	return real(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	REAL(renameat);

	if (path_fault(to, K_RENAME, "renameat"))
		return -1;
	return real(fromfd, from, tofd, to);
}

int link(const char *from, const char *to)
{
	REAL(link);

	if (path_fault(to, K_RENAME, "link"))
		return -1;
	return real(from, to);
}

/*
 * The VFS layer: a file of the wrapping VFS is our header followed by
 * the wrapped VFS's own file, and each method counts, then passes on.
 */
struct vfile {
	sqlite3_file base;
	sqlite3_file *real;
	char *name;
};

static sqlite3_vfs *wrapped;

#define VREAL(f) (((struct vfile *)(f))->real)

static int vfs_fault(sqlite3_file *f, enum kind k, const char *call, int code)
{
	if (!hit(k, 1, call, ((struct vfile *)f)->name ? ((struct vfile *)f)->name : "", -1))
		return SQLITE_OK;
	if (cfg.err == ENOSPC && (k == K_WRITE || k == K_FSYNC))
		return SQLITE_FULL;
	return code;
}

static int v_close(sqlite3_file *f)
{
	int rc = VREAL(f)->pMethods ? VREAL(f)->pMethods->xClose(VREAL(f)) : SQLITE_OK;

	sqlite3_free(((struct vfile *)f)->name);
	return rc;
}

static int v_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	int rc = vfs_fault(f, K_READ, "xRead", SQLITE_IOERR_READ);

	return rc ? rc : VREAL(f)->pMethods->xRead(VREAL(f), buf, n, off);
}

static int v_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	int rc = vfs_fault(f, K_WRITE, "xWrite", SQLITE_IOERR_WRITE);

	return rc ? rc : VREAL(f)->pMethods->xWrite(VREAL(f), buf, n, off);
}

static int v_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = vfs_fault(f, K_WRITE, "xTruncate", SQLITE_IOERR_TRUNCATE);

	return rc ? rc : VREAL(f)->pMethods->xTruncate(VREAL(f), size);
}

static int v_sync(sqlite3_file *f, int flags)
{
	int rc = vfs_fault(f, K_FSYNC, "xSync", SQLITE_IOERR_FSYNC);

	return rc ? rc : VREAL(f)->pMethods->xSync(VREAL(f), flags);
}

static int v_size(sqlite3_file *f, sqlite3_int64 *out)
{
	return VREAL(f)->pMethods->xFileSize(VREAL(f), out);
}

static int v_lock(sqlite3_file *f, int l)
{
	return VREAL(f)->pMethods->xLock(VREAL(f), l);
}

static int v_unlock(sqlite3_file *f, int l)
{
	return VREAL(f)->pMethods->xUnlock(VREAL(f), l);
}

static int v_check_lock(sqlite3_file *f, int *out)
{
	return VREAL(f)->pMethods->xCheckReservedLock(VREAL(f), out);
}

static int v_control(sqlite3_file *f, int op, void *arg)
{
	return VREAL(f)->pMethods->xFileControl(VREAL(f), op, arg);
}

static int v_sector(sqlite3_file *f)
{
	return VREAL(f)->pMethods->xSectorSize(VREAL(f));
}

static int v_caps(sqlite3_file *f)
{
	return VREAL(f)->pMethods->xDeviceCharacteristics(VREAL(f));
}

static int v_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return VREAL(f)->pMethods->xShmMap(VREAL(f), pg, sz, ext, pp);
}

static int v_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return VREAL(f)->pMethods->xShmLock(VREAL(f), off, n, flags);
}

static void v_shm_barrier(sqlite3_file *f)
{
	VREAL(f)->pMethods->xShmBarrier(VREAL(f));
}

static int v_shm_unmap(sqlite3_file *f, int del)
{
	return VREAL(f)->pMethods->xShmUnmap(VREAL(f), del);
}

/* No memory-mapped I/O: every page goes through xRead and xWrite, where it is counted. */
static int v_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	(void)f, (void)off, (void)n;
	*pp = NULL;
	return SQLITE_OK;
}

static int v_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	(void)f, (void)off, (void)p;
	return SQLITE_OK;
}

static const sqlite3_io_methods v_methods = {
	3, v_close, v_read, v_write, v_truncate, v_sync, v_size, v_lock, v_unlock, v_check_lock,
	v_control, v_sector, v_caps, v_shm_map, v_shm_lock, v_shm_barrier, v_shm_unmap, v_fetch, v_unfetch,
};

static int v_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *outflags)
{
	struct vfile *vf = (struct vfile *)f;
	int rc;

	(void)v;
	vf->real = (sqlite3_file *)(vf + 1);
	vf->name = NULL;
	vf->base.pMethods = NULL;
	vf->real->pMethods = NULL;
	if ((flags & SQLITE_OPEN_CREATE) && hit(K_OPEN, 1, "xOpen", name ? name : "", -1))
		return cfg.err == ENOSPC ? SQLITE_FULL : SQLITE_CANTOPEN;
	rc = wrapped->xOpen(wrapped, name, vf->real, flags, outflags);
	if (vf->real->pMethods) {
		vf->name = sqlite3_mprintf("%s", name ? name : "");
		vf->base.pMethods = &v_methods;
	}
	return rc;
}

static int v_delete(sqlite3_vfs *v, const char *name, int sync)
{
	(void)v;
	return wrapped->xDelete(wrapped, name, sync);
}

static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return wrapped->xAccess(wrapped, name, flags, out);
}

static int v_full(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return wrapped->xFullPathname(wrapped, name, n, out);
}

static void *v_dlopen(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return wrapped->xDlOpen(wrapped, name);
}

static void v_dlerror(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	wrapped->xDlError(wrapped, n, out);
}

static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *name))(void)
{
	(void)v;
	return wrapped->xDlSym(wrapped, h, name);
}

static void v_dlclose(sqlite3_vfs *v, void *h)
{
	(void)v;
	wrapped->xDlClose(wrapped, h);
}

static int v_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return wrapped->xRandomness(wrapped, n, out);
}

static int v_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return wrapped->xSleep(wrapped, us);
}

static int v_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return wrapped->xCurrentTime(wrapped, out);
}

static int v_last_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return wrapped->xGetLastError(wrapped, n, out);
}

static int v_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return wrapped->xCurrentTimeInt64(wrapped, out);
}

static sqlite3_vfs vfs = {
	2, 0, 0, NULL, "faultfs", NULL, v_open, v_delete, v_access, v_full, v_dlopen, v_dlerror, v_dlsym,
	v_dlclose, v_random, v_sleep, v_time, v_last_error, v_time64, NULL, NULL, NULL,
};

/* The first open registers the wrapping VFS as the default (after the program's sqlite3_config). */
int sqlite3_open_v2(const char *name, sqlite3 **db, int flags, const char *zvfs)
{
	static __typeof__(sqlite3_vfs_find) *find;
	static __typeof__(sqlite3_vfs_register) *reg;
	REAL(sqlite3_open_v2);

	setup();
	if (cfg.layer_vfs && !wrapped) {
		find = (__typeof__(find))dlsym(RTLD_NEXT, "sqlite3_vfs_find");
		reg = (__typeof__(reg))dlsym(RTLD_NEXT, "sqlite3_vfs_register");
		if (find && reg && (wrapped = find(NULL))) {
			vfs.szOsFile = (int)sizeof(struct vfile) + wrapped->szOsFile;
			vfs.mxPathname = wrapped->mxPathname;
			reg(&vfs, 1);
		}
	}
	return real(name, db, flags, zvfs);
}
