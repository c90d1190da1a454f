/*
 * libgit2, loaded when first called. Debian's libgit2 brings OpenSSL,
 * mbedTLS, Kerberos and libssh2 with it, and mapping and relocating them
 * costs a command about 2.5 ms before main; most runs of mig status need
 * none of it (its caches stand in for reading mig.conf, and revision ids
 * are hashed without it). So no binary links libgit2: each function mig
 * calls (store-gitfns.h) is defined here as a call through a pointer,
 * all of them looked up in one dlopen by mig_git_need.
 *
 * A libgit2 that cannot be loaded is the same failure as a missing
 * shared library at exec, found later: MIG_EENV from mig_git_need, which
 * everything that calls into libgit2 (the store, mig.conf) calls first.
 * Commands that write call it before they change anything (mig_ctx_open).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include <git2/sys/mempack.h>

#include "cli.h"
#include "err.h"
#include "store-internal.h"

#ifndef MIG_LIBGIT2
#error "MIG_LIBGIT2 names libgit2's shared library (its soname); the Makefile sets it"
#endif

#define MIG_GIT_FN(ret, name, params, args) static ret (*p_##name) params;
#define MIG_GIT_VOID(name, params, args) static void (*p_##name) params;
#include "store-gitfns.h"
#undef MIG_GIT_FN
#undef MIG_GIT_VOID

static int (*p_git_libgit2_opts)(int option, ...);	/* variadic: not in the table */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char why[512];		/* why loading failed; "" when it did not */

static void *sym(void *lib, const char *name)
{
	void *p = dlsym(lib, name);

	if (!p && !why[0])
		snprintf(why, sizeof(why), "%s has no %s: %s", MIG_LIBGIT2, name, dlerror());
	return p;
}

static void load(void)
{
	void *lib = dlopen(MIG_LIBGIT2, RTLD_LAZY | RTLD_LOCAL);

	if (!lib) {
		snprintf(why, sizeof(why), "cannot load libgit2: %s", dlerror());
		return;
	}
#define MIG_GIT_FN(ret, name, params, args) p_##name = (ret (*) params)sym(lib, #name);
#define MIG_GIT_VOID(name, params, args) p_##name = (void (*) params)sym(lib, #name);
#include "store-gitfns.h"
#undef MIG_GIT_FN
#undef MIG_GIT_VOID
	p_git_libgit2_opts = (int (*)(int, ...))sym(lib, "git_libgit2_opts");
}

/*
 * A call into libgit2 before mig_git_need said it is there is mig's bug,
 * not the environment's: stop at once rather than jump to NULL.
 */
static void loaded(void)
{
	pthread_once(&once, load);
	if (why[0])
		abort();
}

#define MIG_GIT_FN(ret, name, params, args) \
	ret name params \
	{ \
		loaded(); \
		return p_##name args; \
	}
#define MIG_GIT_VOID(name, params, args) \
	void name params \
	{ \
		/* a free or a clear: before libgit2 is loaded there is nothing to do */ \
		pthread_once(&once, load); \
		if (!why[0]) \
			p_##name args; \
	}
#include "store-gitfns.h"
#undef MIG_GIT_FN
#undef MIG_GIT_VOID

static int ready;

int mig_git_need(struct mig_err *err)
{
	pthread_once(&once, load);
	if (why[0])
		return mig_err_set(err, MIG_EENV, "%s", why);
	if (!ready)
		ready = git_libgit2_init() > 0;
	return 0;
}

int store_git_fsync(struct mig_err *err)
{
	loaded();
	if (p_git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1) < 0)
		return mig_err_git(err, MIG_EENV, "cannot set up libgit2");
	return 0;
}

void store_git_strict(int on)
{
	loaded();
	p_git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, on);
}

void mig_shutdown(void)
{
	if (ready)
		git_libgit2_shutdown();
	ready = 0;
}

int mig_err_git(struct mig_err *err, int code, const char *what)
{
	const git_error *e = git_error_last();

	return mig_err_set(err, code, "%s: %s", what,
			   e && e->message ? e->message : "unknown libgit2 error");
}
