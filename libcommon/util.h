#ifndef MIG_UTIL_H
#define MIG_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>
#include "err.h"

/*
 * Allocation that cannot fail: like git's xmalloc, running out of memory
 * aborts, so every other function keeps one error path for real errors.
 */
void *mig_xmalloc(size_t n);
void *mig_xcalloc(size_t nmemb, size_t size);
void *mig_xrealloc(void *p, size_t n);
char *mig_xstrdup(const char *s);
char *mig_xstrndup(const char *s, size_t n);
char *mig_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *mig_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Grow the array *p of *alloc elements of size sz so it holds need. */
#define MIG_GROW(p, need, alloc) \
	do { \
		if ((need) > (alloc)) { \
			(alloc) = (alloc) ? (alloc) * 2 : 16; \
			if ((alloc) < (need)) \
				(alloc) = (need); \
			(p) = mig_xrealloc((p), (alloc) * sizeof(*(p))); \
		} \
	} while (0)

/*
 * The git blob id (40 hex digits and a NUL) of the bytes: what 'git
 * hash-object' prints for a file of them (blobid.c: nettle, not libgit2).
 */
void mig_blob_id(char out[41], const void *data, size_t len);

/* A growable, always NUL-terminated byte buffer (git's strbuf, smaller). */
struct mig_buf {
	char *buf;
	size_t len, alloc;
};

#define MIG_BUF_INIT { NULL, 0, 0 }

/* Make room for extra more bytes (and a NUL) without adding any. */
void mig_buf_grow(struct mig_buf *b, size_t extra);
void mig_buf_add(struct mig_buf *b, const void *data, size_t len);
void mig_buf_adds(struct mig_buf *b, const char *s);
void mig_buf_addc(struct mig_buf *b, char c);
void mig_buf_addf(struct mig_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included. */
void mig_buf_add_json(struct mig_buf *b, const char *s);
/*
 * A name is any bytes but NUL and '/'. Where one is written into a line,
 * these keep it from ending the line, a field or an SQL comment, and
 * from driving a terminal.
 *
 * mig_buf_add_esc appends [s, s+len) with C escapes, reversibly: \\, \t,
 * \n, \r, and \xHH for every other control byte, DEL and (UTF-8 encoded)
 * C1 control; other bytes, UTF-8 or not, stay as they are (for porcelain
 * fields, the journal, comments in SQL). mig_buf_add_tty is for human
 * eyes, where text is shown and never read back: backslashes stay as
 * they are, and bytes that are not UTF-8 are \xHH too.
 */
void mig_buf_add_esc(struct mig_buf *b, const char *s, size_t len);
void mig_buf_add_tty(struct mig_buf *b, const char *s, size_t len);
/*
 * Undo mig_buf_add_esc on [s, s+len); a backslash that starts no escape
 * it writes (nor \x00) is kept as it is. Caller frees.
 */
char *mig_unesc(const char *s, size_t len);
/*
 * A candidate for shell completion, described: "NAME<TAB>DESC\n", both
 * with mig_buf_add_esc's escapes, so that any name is one line and one
 * field; desc may be NULL or empty (nothing after the tab).
 */
void mig_buf_add_candidate(struct mig_buf *b, const char *name, const char *desc);
void mig_buf_reset(struct mig_buf *b);
/* Give up ownership of the bytes; the buffer is empty afterwards. */
char *mig_buf_detach(struct mig_buf *b);
void mig_buf_release(struct mig_buf *b);

/*
 * Read a whole file into b (appending). MIG_EINVALID names the file; a
 * FIFO, a device or a directory is refused without blocking or reading.
 */
int mig_read_file(struct mig_buf *b, const char *path, struct mig_err *err);
/* The same for name under the directory dirfd; path names it in messages. */
int mig_read_fileat(struct mig_buf *b, int dirfd, const char *name, const char *path,
		    struct mig_err *err);

/* Write all n bytes of buf to fd, again after EINTR; -1 with errno set. */
int mig_write_all(int fd, const void *buf, size_t n);

/*
 * fsync the directory path is in, so that a rename or link of path
 * reaches the disk; -1 with errno set. A file system that cannot sync a
 * directory (EINVAL) is no error.
 */
int mig_fsync_parent(const char *path);

/* The process's umask, left as it is. */
mode_t mig_umask(void);

/* Join a directory and a name with one slash. Caller frees. */
char *mig_path_join(const char *dir, const char *name);

/*
 * Skip blanks and SQL comments (-- to the end of the line, slash-star
 * blocks) in [p, end); returns where SQL starts, or end.
 */
const char *mig_sql_skip_space(const char *p, const char *end);

/*
 * Append sql with white space outside quotes reduced to what separates
 * two words: a schema object's text as it is, however it was indented.
 */
void mig_sql_normalize(struct mig_buf *b, const char *sql, size_t len);

/* Append s as an SQL string literal, 'quoted' with its quotes doubled (SQLite's and PostgreSQL's alike). */
void mig_sql_add_literal(struct mig_buf *b, const char *s);

/* Does s start with prefix? */
int mig_starts_with(const char *s, const char *prefix);

/* Count the newlines in [p, end). */
int mig_count_lines(const char *p, const char *end);

/*
 * Edit distance between a and b, for did-you-mean hints: insertions,
 * deletions, substitutions and swaps of two adjacent bytes cost one each
 * (optimal string alignment).
 */
size_t mig_edit_distance(const char *a, const char *b);

/* "a directory", "a FIFO", ... for a st_mode, in messages. */
const char *mig_file_kind(unsigned mode);

/*
 * Format the time t (seconds since the epoch) with strftime's fmt, in
 * UTC or local time, into out; a time no struct tm can hold (a commit
 * can say any) is "@SECONDS", as git writes a raw time. Returns out.
 */
char *mig_time_format(char *out, size_t n, const char *fmt, long long t, int utc);

/*
 * A time as SQL databases write one, "YYYY-MM-DD HH:MM:SS[.FFF…]" (or
 * with a 'T'), then "Z", "+HH", "+HH:MM", "-HHMM" or nothing (UTC), as
 * mig records applied times: "YYYY-MM-DDTHH:MM:SS.mmmZ" in UTC, into
 * out (25 bytes). Returns 0, or -1 when s is no such time.
 */
int mig_time_utc(char out[25], const char *s);

/*
 * Temporary files and directories, made whole beside where they go and
 * then renamed or linked into place. Their writer holds an flock(2) on
 * them while it lives (the kernel drops it when the writer dies, even by
 * SIGKILL), so what a killed writer left can be told from what a live
 * one is writing. templ ends in "XXXXXX", as for mkstemp, and gets the
 * name made; the descriptor returned holds the lock until it is closed.
 * -1 with errno set on failure.
 */
int mig_tmp_file(char *templ);
int mig_tmp_dir(char *templ);
/*
 * Remove the temporary files and directories in dir whose names match
 * pattern (fnmatch(3)) that no live writer holds: what killed writers
 * left. Errors are ignored; what cannot be removed stays.
 */
void mig_tmp_sweep(const char *dir, const char *pattern);
/* s with fnmatch's special characters quoted, for a pattern. Caller frees. */
char *mig_glob_quote(const char *s);

/* Does the file exist (any type)? */
int mig_path_exists(const char *path);

#endif
