#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static void oom(void)
{
	fputs("mig: fatal: out of memory\n", stderr);
	abort();
}

void *mig_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *mig_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *mig_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *mig_xstrdup(const char *s)
{
	return mig_xstrndup(s, strlen(s));
}

char *mig_xstrndup(const char *s, size_t n)
{
	char *p = mig_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *mig_xvasprintf(const char *fmt, va_list ap)
{
	va_list again;
	char *s;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (n < 0)
		n = 0;
	s = mig_xmalloc((size_t)n + 1);
	if (vsnprintf(s, (size_t)n + 1, fmt, ap) < 0)
		*s = '\0';
	return s;
}

char *mig_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = mig_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

static void grow(struct mig_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->alloc)
		return;
	b->alloc = b->alloc ? b->alloc * 2 : 64;
	while (b->alloc < b->len + extra + 1)
		b->alloc *= 2;
	b->buf = mig_xrealloc(b->buf, b->alloc);
	/* a buffer made here holds "" even before anything is added */
	b->buf[b->len] = '\0';
}

void mig_buf_grow(struct mig_buf *b, size_t extra)
{
	grow(b, extra);
}

void mig_buf_add(struct mig_buf *b, const void *data, size_t len)
{
	grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void mig_buf_adds(struct mig_buf *b, const char *s)
{
	mig_buf_add(b, s, strlen(s));
}

void mig_buf_addc(struct mig_buf *b, char c)
{
	mig_buf_add(b, &c, 1);
}

void mig_buf_addf(struct mig_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	grow(b, n);
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

/* Length of the valid UTF-8 sequence at s, no further than end; 0 if none. */
static size_t utf8_len_in(const unsigned char *s, const unsigned char *end)
{
	size_t n = 0, i;

	if (s[0] < 0x80)
		return 1;
	else if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	if (!n || (size_t)(end - s) < n)
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void mig_buf_add_json(struct mig_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);

	mig_buf_addc(b, '"');
	while (*p) {
		size_t n;

		if (*p == '"' || *p == '\\') {
			mig_buf_addc(b, '\\');
			mig_buf_addc(b, *p++);
		} else if (*p == '\n') {
			mig_buf_adds(b, "\\n"), p++;
		} else if (*p == '\t') {
			mig_buf_adds(b, "\\t"), p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			mig_buf_addf(b, "\\u%04x", *p++);
		} else if ((n = utf8_len_in(p, end)) == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
			/* a C1 control: legal in JSON, but a terminal may obey it */
			mig_buf_addf(b, "\\u%04x", p[1]);
			p += 2;
		} else if (n) {
			mig_buf_add(b, p, n);
			p += n;
		} else {
			/* not UTF-8: keep the byte's value as a Latin-1 code point */
			mig_buf_addf(b, "\\u%04x", *p++);
		}
	}
	mig_buf_addc(b, '"');
}

enum { ESC_BACKSLASH = 1, ESC_NOT_UTF8 = 2 };

static void escape(struct mig_buf *b, const char *s, size_t len, int flags)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	mig_buf_grow(b, len);
	while (p < end) {
		size_t n;

		if (*p == '\\' && (flags & ESC_BACKSLASH))
			mig_buf_adds(b, "\\\\"), p++;
		else if (*p == '\n')
			mig_buf_adds(b, "\\n"), p++;
		else if (*p == '\t')
			mig_buf_adds(b, "\\t"), p++;
		else if (*p == '\r')
			mig_buf_adds(b, "\\r"), p++;
		else if (*p < 0x20 || *p == 0x7f)
			mig_buf_addf(b, "\\x%02x", *p++);
		else if (!(n = utf8_len_in(p, end)) && (flags & ESC_NOT_UTF8))
			mig_buf_addf(b, "\\x%02x", *p++);
		else if (!n)
			mig_buf_addc(b, (char)*p++);
		else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			/* U+0080..U+009F: C1 controls, which some terminals obey */
			mig_buf_addf(b, "\\x%02x\\x%02x", p[0], p[1]), p += 2;
		else
			mig_buf_add(b, p, n), p += n;
	}
}

void mig_buf_add_esc(struct mig_buf *b, const char *s, size_t len)
{
	escape(b, s, len, ESC_BACKSLASH);
}

void mig_buf_add_tty(struct mig_buf *b, const char *s, size_t len)
{
	escape(b, s, len, ESC_NOT_UTF8);
}

void mig_buf_add_candidate(struct mig_buf *b, const char *name, const char *desc)
{
	mig_buf_add_esc(b, name, strlen(name));
	mig_buf_addc(b, '\t');
	if (desc)
		mig_buf_add_esc(b, desc, strlen(desc));
	mig_buf_addc(b, '\n');
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *mig_unesc(const char *s, size_t len)
{
	struct mig_buf b = MIG_BUF_INIT;
	const char *end = s + len;
	int hi, lo;

	mig_buf_grow(&b, len);
	while (s < end) {
		if (*s != '\\' || s + 1 == end) {
			mig_buf_addc(&b, *s++);
			continue;
		}
		switch (s[1]) {
		case '\\':
			mig_buf_addc(&b, '\\');
			break;
		case 'n':
			mig_buf_addc(&b, '\n');
			break;
		case 't':
			mig_buf_addc(&b, '\t');
			break;
		case 'r':
			mig_buf_addc(&b, '\r');
			break;
		case 'x':
			if (end - s >= 4 && (hi = hexval(s[2])) >= 0 && (lo = hexval(s[3])) >= 0 && (hi || lo)) {
				mig_buf_addc(&b, (char)(hi << 4 | lo));
				s += 4;
				continue;
			}
			/* fall through */
		default:
			mig_buf_addc(&b, *s++);
			continue;
		}
		s += 2;
	}
	return mig_buf_detach(&b);
}

void mig_buf_reset(struct mig_buf *b)
{
	b->len = 0;
	if (b->buf)
		b->buf[0] = '\0';
}

char *mig_buf_detach(struct mig_buf *b)
{
	char *p = b->buf ? b->buf : mig_xstrdup("");

	b->buf = NULL;
	b->len = b->alloc = 0;
	return p;
}

void mig_buf_release(struct mig_buf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->alloc = 0;
}

/* A file that cannot be read is invalid, unless the machine is to blame. */
static int read_error(const char *path, struct mig_err *err)
{
	return mig_err_errno(err, mig_errno_code(errno, MIG_EINVALID), "cannot read '%s'", path);
}

int mig_read_fileat(struct mig_buf *b, int dirfd, const char *name, const char *path,
		    struct mig_err *err)
{
	struct stat st;
	ssize_t n;
	int fd, rc;

	/*
	 * O_NONBLOCK, so a FIFO does not wait for a writer; the fstat refuses
	 * it, and a device that would read forever (a symlink to /dev/zero).
	 * A regular file ignores O_NONBLOCK, so it can stay set.
	 */
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return read_error(path, err);
	if (fstat(fd, &st) < 0) {
		rc = read_error(path, err);
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		mig_err_set(err, MIG_EINVALID, "'%s' is %s, not a regular file", path, mig_file_kind(st.st_mode));
		close(fd);
		return MIG_EINVALID;
	}
	for (;;) {
		if (b->alloc - b->len < 4096 + 1)
			grow(b, b->len > 16384 ? b->len : 16384);
		n = read(fd, b->buf + b->len, b->alloc - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = read_error(path, err);
			close(fd);
			return rc;
		}
		if (n == 0)
			break;
		b->len += n;
	}
	b->buf[b->len] = '\0';
	close(fd);
	return 0;
}

int mig_read_file(struct mig_buf *b, const char *path, struct mig_err *err)
{
	return mig_read_fileat(b, AT_FDCWD, path, path, err);
}

int mig_fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? mig_xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : mig_xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0, saved;

	if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL))
		rc = -1;
	saved = errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	errno = saved;
	return rc;
}

mode_t mig_umask(void)
{
	mode_t m = umask(022);

	umask(m);
	return m;
}

int mig_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

char *mig_path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir), m = strlen(name), slash;
	char *p;

	if (!n || !strcmp(dir, "."))
		return mig_xstrdup(name);
	slash = dir[n - 1] != '/';
	p = mig_xmalloc(n + slash + m + 1);
	memcpy(p, dir, n);
	p[n] = '/';
	memcpy(p + n + slash, name, m + 1);
	return p;
}

const char *mig_file_kind(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	default:
		return "a special file";
	}
}

char *mig_time_format(char *out, size_t n, const char *fmt, long long t, int utc)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!(utc ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) || !strftime(out, n, fmt, &tm))
		snprintf(out, n, "@%lld", t);
	return out;
}

int mig_time_utc(char out[25], const char *s)
{
	int y, mo, d, h, mi, sec, n = 0, ms = 0, k, sign, oh, om = 0;
	struct tm tm = { 0 };
	char buf[96];
	time_t t;

	if (sscanf(s, "%4d-%2d-%2d%*1[ T]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || !n)
		return -1;
	s += n;
	/* milliseconds, the rest cut off, as mig writes its own */
	if (*s == '.') {
		for (s++, k = 0; *s >= '0' && *s <= '9'; s++, k++)
			if (k < 3)
				ms = ms * 10 + (*s - '0');
		for (; k < 3; k++)
			ms *= 10;
	}
	sign = *s == '-' ? -1 : 1;
	if (*s == 'Z') {
		s++;
		oh = 0;
	} else if (*s == '+' || *s == '-') {
		if (sscanf(s + 1, "%2d%n", &oh, &n) != 1 || n != 2)
			return -1;
		s += 3;
		if (*s == ':')
			s++;
		if (*s >= '0' && *s <= '9') {
			if (sscanf(s, "%2d%n", &om, &n) != 1 || n != 2)
				return -1;
			s += 2;
		}
	} else {
		oh = 0;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm) - sign * (oh * 3600 + om * 60);
	if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return -1;
	/* 24 characters, the year checked above; the compiler cannot see that */
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	memcpy(out, buf, 25);
	return 0;
}

/*
 * Make a temporary file or directory from templ and lock it. A sweep
 * may remove it between its making and its locking (it takes the lock
 * of what nobody holds): then it is gone, or has no links once the
 * lock is had, and another is made.
 */
static int tmp_make(char *templ, int dir)
{
	size_t len = strlen(templ);
	struct stat st;
	int tries, fd = -1, e;

	if (len < 6) {
		errno = EINVAL;
		return -1;
	}
	for (tries = 0; tries < 100; tries++) {
		memcpy(templ + len - 6, "XXXXXX", 6);
		if (dir ? !mkdtemp(templ) : (fd = mkostemp(templ, O_CLOEXEC)) < 0)
			return -1;
		if (dir && (fd = open(templ, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
			e = errno;
			close(fd);
			if (dir)
				rmdir(templ);
			else
				unlink(templ);
			errno = e;
			return -1;
		}
		if (st.st_nlink > 0)
			return fd;
		close(fd);
	}
	errno = EEXIST;
	return -1;
}

int mig_tmp_file(char *templ)
{
	return tmp_make(templ, 0);
}

int mig_tmp_dir(char *templ)
{
	return tmp_make(templ, 1);
}

/* nftw's callback: remove what it is handed, depth first. */
static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

char *mig_glob_quote(const char *s)
{
	struct mig_buf b = MIG_BUF_INIT;

	for (; *s; s++) {
		if (strchr("*?[\\", *s))
			mig_buf_addc(&b, '\\');
		mig_buf_addc(&b, *s);
	}
	return b.buf ? mig_buf_detach(&b) : mig_xstrdup("");
}

void mig_tmp_sweep(const char *dir, const char *pattern)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		struct stat held, named;
		char *path;
		int fd;

		if (fnmatch(pattern, e->d_name, 0))
			continue;
		if ((fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
			continue;
		/* nobody holds it, and the name still is what was locked */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &held) == 0 &&
		    fstatat(dirfd(d), e->d_name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
		    held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
			path = mig_path_join(dir, e->d_name);
			if (S_ISDIR(held.st_mode))
				nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
			else if (S_ISREG(held.st_mode))
				unlink(path);
			free(path);
		}
		close(fd);
	}
	if (d)
		closedir(d);
}

int mig_path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

const char *mig_sql_skip_space(const char *p, const char *end)
{
	while (p < end) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f') {
			p++;
		} else if (p + 1 < end && p[0] == '-' && p[1] == '-') {
			while (p < end && *p != '\n')
				p++;
		} else if (p + 1 < end && p[0] == '/' && p[1] == '*') {
			p += 2;
			while (p + 1 < end && !(p[0] == '*' && p[1] == '/'))
				p++;
			p = p + 2 < end ? p + 2 : end;
		} else {
			break;
		}
	}
	return p;
}

static int wordish(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c == '\'' || c == '"' || c == '`' || c == '[' || c == ']' ||
	       (unsigned char)c >= 0x80;
}

/*
 * Append sql with white space outside quotes reduced to what separates
 * two words, so re-indenting a CREATE statement is not drift but any
 * real change is.
 */
void mig_sql_add_literal(struct mig_buf *b, const char *s)
{
	mig_buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			mig_buf_addc(b, '\'');
		mig_buf_addc(b, *s);
	}
	mig_buf_addc(b, '\'');
}

int mig_starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

void mig_sql_normalize(struct mig_buf *b, const char *sql, size_t len)
{
	char quote = 0, *o;
	int space = 0;
	size_t i;

	/* at most len bytes come out: write them straight into the buffer */
	mig_buf_grow(b, len);
	o = b->buf + b->len;
	for (i = 0; i < len; i++) {
		char c = sql[i];

		if (!quote && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')) {
			space = 1;
			continue;
		}
		if (space && o > b->buf && wordish(o[-1]) && wordish(c))
			*o++ = ' ';
		space = 0;
		if (quote && c == quote)
			quote = 0;
		else if (!quote && (c == '\'' || c == '"' || c == '`' || c == '['))
			quote = c == '[' ? ']' : c;
		*o++ = c;
	}
	b->len = o - b->buf;
	b->buf[b->len] = '\0';
}

int mig_count_lines(const char *p, const char *end)
{
	int n = 0;

	while (p < end && (p = memchr(p, '\n', end - p))) {
		n++;
		p++;
	}
	return n;
}

size_t mig_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d;
	/* three rows: two letters swapped cost one, as a typist makes them */
	size_t *prev2 = mig_xmalloc((lb + 1) * sizeof(size_t));
	size_t *prev = mig_xmalloc((lb + 1) * sizeof(size_t));
	size_t *row = mig_xmalloc((lb + 1) * sizeof(size_t)), *t;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		t = prev2, prev2 = prev, prev = row, row = t;
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			d = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (row[j - 1] + 1 < d)
				d = row[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			row[j] = d;
		}
	}
	d = row[lb];
	free(prev2);
	free(prev);
	free(row);
	return d;
}
