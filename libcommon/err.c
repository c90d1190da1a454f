#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int mig_err_set(struct mig_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->hint[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void mig_err_hint(struct mig_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
}

void mig_err_hint_add(struct mig_err *err, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	if (!err)
		return;
	len = strlen(err->hint);
	if (len && len + 1 < sizeof(err->hint))
		err->hint[len++] = '\n', err->hint[len] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->hint + len, sizeof(err->hint) - len, fmt, ap);
	va_end(ap);
}

int mig_err_errno(struct mig_err *err, int code, const char *fmt, ...)
{
	int saved = errno;
	size_t len;
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->hint[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(saved));
	return code;
}

int mig_errno_code(int e, int code)
{
	switch (e) {
	case EIO: case ENOMEM: case ENFILE: case EMFILE: case ENOBUFS: case ENOSPC: case EDQUOT:
	case ESTALE: case ETIMEDOUT:
		return MIG_EENV;
	}
	return code;
}

void mig_err_clear(struct mig_err *err)
{
	err->code = 0;
	err->msg[0] = '\0';
	err->hint[0] = '\0';
}
