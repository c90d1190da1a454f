#ifndef MIG_ERR_H
#define MIG_ERR_H

/*
 * Errors are values. A libcommon function returns 0 on success or one of
 * the negative codes below, and fills the caller's struct mig_err with a
 * one-line message (and optionally a hint). Only cmd/ prints them.
 *
 * The codes are the negated exit codes of DESIGN.md, so mapping an error
 * to an exit status is a negation.
 */
enum {
	MIG_OK = 0,
	MIG_ECHECK = -1,	/* --check found something */
	MIG_EUSAGE = -2,	/* bad option, unknown or ambiguous revision */
	MIG_EINVALID = -3,	/* migration files are invalid */
	MIG_ESQL = -4,		/* a revision's SQL failed */
	MIG_EUNSAFE = -5,	/* refused for safety */
	MIG_EENV = -6,		/* database, store, lock, I/O */
};

#define MIG_ERR_MSG 1024

struct mig_err {
	int code;
	char msg[MIG_ERR_MSG];
	char hint[MIG_ERR_MSG];
};

#define MIG_ERR_INIT { 0, "", "" }

/* Record an error; returns code so callers can `return mig_err_set(...)`. */
int mig_err_set(struct mig_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Attach a hint to the error already recorded. */
void mig_err_hint(struct mig_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Add a line to the hint. */
void mig_err_hint_add(struct mig_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record an error whose message ends with strerror(errno). */
int mig_err_errno(struct mig_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record an error from libgit2's last error, prefixed by what we tried. */
int mig_err_git(struct mig_err *err, int code, const char *what);

/*
 * The code for a system call that failed with errno e on a file the user
 * named: code, unless e is the machine's fault (an I/O error, no memory,
 * no file descriptors), which is MIG_EENV whatever the file.
 */
int mig_errno_code(int e, int code);

/* Forget a recorded error. */
void mig_err_clear(struct mig_err *err);

#endif
