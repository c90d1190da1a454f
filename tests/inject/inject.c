/*
 * inject: fail the Nth call mig makes to one libgit2 or SQLite function,
 * for tests/cli/inject.bats.
 *
 * Preloaded (LD_PRELOAD=build/inject/libgit2.so), it is two things:
 *
 * - libgit2. Its soname is libgit2's, so the dlopen in libcommon/store-gitlib.c
 *   finds it, already loaded, instead of the real library. Every function
 *   of libcommon/store-gitfns.h is defined here and passes the call on to the
 *   real libgit2 (opened by its full path); the Nth call to the function
 *   named fails instead, with -1 and the libgit2 error "injected fault",
 *   as when the store's disk fails or is full. Only functions that
 *   report errors that way can be named.
 *
 * - a front of libpq's connect and query functions: the Nth call loses
 *   its connection, as when the server goes away or kills the session
 *   (the query becomes pg_terminate_backend of its own backend, the
 *   connect goes to a socket that is not there), with libpq's own
 *   results and messages.
 *
 * - a front of a few SQLite functions mig calls (open, prepare, step,
 *   exec, the backup API). SQLite's allocator is wrapped (before mig sets
 *   SQLite up), and while the Nth call to the function named runs every
 *   allocation SQLite makes fails: the call fails as it would out of
 *   memory, with SQLite's own codes and messages, if it allocates at all.
 *
 * Environment:
 *   INJECT_FN     the function (git_odb_read, sqlite3_step, ...); unset: none
 *   INJECT_N      which call of it fails, from 1 (default 1)
 *   INJECT_COUNT  at exit, append "NAME N" to this file for each place in
 *                 mig that calls a function that can be named: N is the
 *                 first call of NAME from there (so failing it reaches
 *                 that place's error path)
 *   INJECT_LOG    append "fired NAME N" here when the fault is injected
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include <git2/sys/mempack.h>
#include <sqlite3.h>
#include <libpq-fe.h>

#ifndef REAL_LIBGIT2
#error "REAL_LIBGIT2 is the full path of the real libgit2 (the Makefile sets it)"
#endif

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const char *fn_name, *count_file, *log_file;
static long fn_n = 1;
static const void *self_base, *sqlite_base, *git_base, *pq_base;

/*
 * A call site: the first two return addresses on the stack outside this
 * library (the second tells apart the callers of store-gitlib.c's trampolines).
 * Calls that SQLite or libgit2 make to their own functions (through
 * their PLT, so they land here too) are not counted.
 */
static struct site {
	const char *name;
	void *at[2];
	long first;
} sites[1024];
static size_t nsites;

static struct {
	const char *name;
	long calls;
} seen[128];
static size_t nseen;

static const void *base_of(const void *addr)
{
	Dl_info info;

	return addr && dladdr(addr, &info) ? info.dli_fbase : NULL;
}

/* Where this call comes from; 0 when from inside SQLite or libgit2. */
static int caller(void *at[2])
{
	void *bt[16];
	int n = backtrace(bt, 16), i, k = 0;

	at[0] = at[1] = NULL;
	for (i = 0; i < n && k < 2; i++) {
		const void *b = base_of(bt[i]);

		if (b == self_base)
			continue;
		if (!k && b && (b == sqlite_base || b == git_base || b == pq_base))
			return 0;
		at[k++] = bt[i];
	}
	return 1;
}

/* Count a call to name; is it the one to fail? */
static int hit(const char *name)
{
	void *at[2];
	long n = 0;
	size_t i;
	int fire;

	if (!caller(at))
		return 0;
	pthread_mutex_lock(&mu);
	for (i = 0; i < nseen && strcmp(seen[i].name, name); i++)
		;
	if (i == nseen && nseen < sizeof(seen) / sizeof(seen[0]))
		seen[nseen++].name = name;
	if (i < nseen)
		n = ++seen[i].calls;
	for (i = 0; i < nsites; i++)
		if (sites[i].name == name && sites[i].at[0] == at[0] && sites[i].at[1] == at[1])
			break;
	if (i == nsites && nsites < sizeof(sites) / sizeof(sites[0])) {
		sites[nsites].name = name;
		sites[nsites].at[0] = at[0];
		sites[nsites].at[1] = at[1];
		sites[nsites++].first = n;
	}
	fire = fn_name && !strcmp(fn_name, name) && n == fn_n;
	pthread_mutex_unlock(&mu);
	if (fire && log_file) {
		FILE *f = fopen(log_file, "a");

		if (f) {
			fprintf(f, "fired %s %ld\n", name, n);
			fclose(f);
		}
	}
	return fire;
}

/* "NAME N" for the first call from each call site */
static void report(void)
{
	FILE *f;
	size_t i;

	if (!count_file || !(f = fopen(count_file, "a")))
		return;
	for (i = 0; i < nsites; i++)
		fprintf(f, "%s %ld\n", sites[i].name, sites[i].first);
	fclose(f);
}

/* ---- SQLite: allocations fail while the chosen call runs ---- */

static sqlite3_mem_methods base;
static __thread int starving;

static void *mem_malloc(int n)
{
	return starving ? NULL : base.xMalloc(n);
}

static void *mem_realloc(void *p, int n)
{
	return starving ? NULL : base.xRealloc(p, n);
}

static void *next_fn(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		fprintf(stderr, "inject: no %s\n", name);
		abort();
	}
	return p;
}

#define STARVE(name, call) \
	do { \
		int fire_ = hit(name), rc_; \
		starving += fire_; \
		rc_ = call; \
		starving -= fire_; \
		return rc_; \
	} while (0)

int sqlite3_open_v2(const char *path, sqlite3 **db, int flags, const char *vfs)
{
	static int (*f)(const char *, sqlite3 **, int, const char *);

	if (!f)
		f = next_fn("sqlite3_open_v2");
	STARVE("sqlite3_open_v2", f(path, db, flags, vfs));
}

int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n, sqlite3_stmt **st, const char **tail)
{
	static int (*f)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);

	if (!f)
		f = next_fn("sqlite3_prepare_v2");
	STARVE("sqlite3_prepare_v2", f(db, sql, n, st, tail));
}

int sqlite3_step(sqlite3_stmt *st)
{
	static int (*f)(sqlite3_stmt *);

	if (!f)
		f = next_fn("sqlite3_step");
	STARVE("sqlite3_step", f(st));
}

int sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **), void *arg,
		 char **errmsg)
{
	static int (*f)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **);

	if (!f)
		f = next_fn("sqlite3_exec");
	STARVE("sqlite3_exec", f(db, sql, cb, arg, errmsg));
}

int sqlite3_backup_step(sqlite3_backup *b, int pages)
{
	static int (*f)(sqlite3_backup *, int);

	if (!f)
		f = next_fn("sqlite3_backup_step");
	STARVE("sqlite3_backup_step", f(b, pages));
}

sqlite3_backup *sqlite3_backup_init(sqlite3 *dst, const char *dname, sqlite3 *src, const char *sname)
{
	static sqlite3_backup *(*f)(sqlite3 *, const char *, sqlite3 *, const char *);
	sqlite3_backup *b;
	int fire;

	if (!f)
		f = next_fn("sqlite3_backup_init");
	fire = hit("sqlite3_backup_init");
	starving += fire;
	b = f(dst, dname, src, sname);
	starving -= fire;
	return b;
}

/* ---- libgit2: every function mig calls, passed on to the real one ---- */

static void *real_git;

static void *git_fn(const char *name)
{
	void *p;

	if (!real_git && !(real_git = dlopen(REAL_LIBGIT2, RTLD_NOW | RTLD_LOCAL))) {
		fprintf(stderr, "inject: cannot load %s: %s\n", REAL_LIBGIT2, dlerror());
		abort();
	}
	if (!(p = dlsym(real_git, name))) {
		fprintf(stderr, "inject: %s has no %s\n", REAL_LIBGIT2, name);
		abort();
	}
	if (!git_base)
		git_base = base_of(p);
	return p;
}

/*
 * Never failed: functions whose int result is not 0 or an error code,
 * and git_odb_hash, a computation that cannot fail but for a bad type.
 */
static int can_fail(const char *name)
{
	static const char *const never[] = {
		"git_libgit2_init", "git_libgit2_shutdown", "git_odb_exists", "git_odb_exists_ext", "git_oid_cmp",
		"git_oid_fromstr", "git_revwalk_sorting", "git_odb_hash",
		/* enums, which _Generic takes for int */
		"git_odb_object_type", "git_tree_entry_type",
	};
	size_t i;

	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (!strcmp(name, never[i]))
			return 0;
	return 1;
}

/* The reference on libgit2 taken below, given back at exit, so nothing it set up stays. */
static void git_release(void)
{
	((int (*)(void))git_fn("git_libgit2_shutdown"))();
}

static int git_fault(const char *name)
{
	static int (*set)(int, const char *);

	if (!can_fail(name) || !hit(name))
		return 0;
	if (!set) {
		/* libgit2 keeps its errors in state set up by git_libgit2_init */
		set = (int (*)(int, const char *))git_fn("git_error_set_str");
		((int (*)(void))git_fn("git_libgit2_init"))();
		atexit(git_release);
	}
	set(GIT_ERROR_OS, "injected fault");
	return 1;
}

#define MIG_GIT_FN(ret, name, params, args) \
	ret name params \
	{ \
		static ret (*f) params; \
		if (!f) \
			f = (ret (*) params)git_fn(#name); \
		if (_Generic((ret)0, int: git_fault(#name), default: 0)) \
			return (ret)(intptr_t)-1; \
		return f args; \
	}
#define MIG_GIT_VOID(name, params, args) \
	void name params \
	{ \
		static void (*f) params; \
		if (!f) \
			f = (void (*) params)git_fn(#name); \
		f args; \
	}
#include "store-gitfns.h"
#undef MIG_GIT_FN
#undef MIG_GIT_VOID

/*
 * Variadic, so not in the table: passed on, never failed, for the one
 * option mig sets (an int).
 */
int git_libgit2_opts(int option, ...)
{
	static int (*f)(int, ...);
	va_list ap;
	int v;

	if (!f)
		f = (int (*)(int, ...))git_fn("git_libgit2_opts");
	if (option != GIT_OPT_ENABLE_FSYNC_GITDIR)
		return -1;
	va_start(ap, option);
	v = va_arg(ap, int);
	va_end(ap);
	return f(option, v);
}

/* ---- libpq: the chosen call loses its connection ---- */

#define LOSE "SELECT pg_terminate_backend(pg_backend_pid())"

PGconn *PQconnectdbParams(const char *const *keys, const char *const *values, int expand)
{
	static PGconn *(*f)(const char *const *, const char *const *, int);
	static const char *const nokeys[] = { "host", "dbname", NULL };
	static const char *const novalues[] = { "/nonexistent-injected", "injected", NULL };

	if (!f)
		f = next_fn("PQconnectdbParams");
	return hit("PQconnectdbParams") ? f(nokeys, novalues, 0) : f(keys, values, expand);
}

PGresult *PQexec(PGconn *conn, const char *sql)
{
	static PGresult *(*f)(PGconn *, const char *);

	if (!f)
		f = next_fn("PQexec");
	return f(conn, hit("PQexec") ? LOSE : sql);
}

PGresult *PQexecParams(PGconn *conn, const char *sql, int n, const Oid *types, const char *const *values,
		       const int *lengths, const int *formats, int result_format)
{
	static PGresult *(*f)(PGconn *, const char *, int, const Oid *, const char *const *, const int *,
			      const int *, int);

	if (!f)
		f = next_fn("PQexecParams");
	if (hit("PQexecParams"))
		return f(conn, LOSE, 0, NULL, NULL, NULL, NULL, result_format);
	return f(conn, sql, n, types, values, lengths, formats, result_format);
}

__attribute__((constructor)) static void init(void)
{
	const char *n = getenv("INJECT_N");
	void *bt[1];

	self_base = base_of((const void *)hit);
	sqlite_base = base_of(dlsym(RTLD_NEXT, "sqlite3_libversion"));
	pq_base = base_of(dlsym(RTLD_NEXT, "PQlibVersion"));
	backtrace(bt, 1);	/* loads the unwinder now, not inside a fault */

	/* the programs mig runs (pg_dump, psql) inherit the preload: faults are mig's alone */
	if (strncmp(program_invocation_short_name, "mig", 3))
		return;
	fn_name = getenv("INJECT_FN");
	if (fn_name && !*fn_name)
		fn_name = NULL;
	if (n && *n)
		fn_n = strtol(n, NULL, 10);
	count_file = getenv("INJECT_COUNT");
	log_file = getenv("INJECT_LOG");
	if (count_file && *count_file)
		atexit(report);
	/* before mig's own set-up, while SQLite may still be configured */
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &base) == SQLITE_OK) {
		sqlite3_mem_methods m = base;

		m.xMalloc = mem_malloc;
		m.xRealloc = mem_realloc;
		sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
	}
}
