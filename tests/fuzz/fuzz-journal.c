/*
 * Journal messages. The first byte picks what the rest is:
 *
 *   even  a journal commit as 'mig log' meets it: 8 bytes of commit
 *         time (little-endian), the author's email to a NUL, then the
 *         message; parsed and shown in every format, as in the store a
 *         damaged or hand-made commit can say anything;
 *   odd   revision names split at NUL bytes: the message mig writes
 *         for them must read back as the same names.
 *
 * journal.c is included for its static show_one(), what mig log runs
 * on each commit.
 */
#include "../../libcommon/journal.c"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	mig_prog = "fuzz-journal";
	/* times shown in a fixed zone, whatever the machine's */
	setenv("TZ", "UTC", 1);
	return 0;
}

/*
 * Porcelain is one record a line: no field may end one. Human output
 * goes to a terminal: no control character but the newlines.
 */
static void check(enum mig_format fmt, const char *out)
{
	const char *p;

	if (fmt == MIG_FMT_PORCELAIN) {
		for (p = out; *p; p = strchr(p, '\n') + 1)
			if (strncmp(p, "entry\t", 6) && strncmp(p, "revision\t", 9) && strncmp(p, "snapshot\t", 9))
				abort();
	} else if (fmt == MIG_FMT_HUMAN) {
		for (p = out; *p; p++)
			if (((unsigned char)*p < 0x20 && *p != '\n') || *p == 0x7f)
				abort();
	}
}

static void show(const char *data, size_t len)
{
	static const enum mig_format fmts[] = { MIG_FMT_HUMAN, MIG_FMT_PORCELAIN, MIG_FMT_JSON };
	struct mig_journal_entry e;
	struct mig_buf out = MIG_BUF_INIT;
	uint64_t t = 0;
	char *text;
	size_t i;

	if (len < 8)
		return;
	for (i = 0; i < 8; i++)
		t |= (uint64_t)(unsigned char)data[i] << (8 * i);
	text = mig_xstrndup(data + 8, len - 8);
	memset(&e, 0, sizeof(e));
	memcpy(e.commit, "0123456789abcdef0123456789abcdef01234567", 41);
	e.time = (long long)t;
	e.email = text;
	e.message = text + strlen(text);
	if (e.message < text + len - 8)
		e.message++;
	for (i = 0; i < 6; i++) {
		struct show sh = { &out, fmts[i % 3], (int)(i / 3), 0 };

		show_one(&e, &sh);
		if (strlen(out.buf) != out.len)
			abort();
		check(fmts[i % 3], out.buf);
		mig_buf_reset(&out);
	}
	mig_buf_release(&out);
	free(text);
}

#define MAX_NAMES 32

static void round_trip(const char *data, size_t len)
{
	const char *names[MAX_NAMES], *ids[MAX_NAMES];
	long long ms[MAX_NAMES];
	char *copy = mig_xstrndup(data, len), *p = copy, *end = copy + len;
	struct mig_buf m = MIG_BUF_INIT;
	struct mig_journal_op op;
	size_t n = 0, i;

	while (n < MAX_NAMES && p < end) {
		/* a name is a file's: not empty, no '/' */
		if (*p && !strchr(p, '/')) {
			names[n] = p;
			ids[n] = "0123456789abcdef0123456789abcdef01234567";
			ms[n] = (long long)n * 7;
			n++;
		}
		p += strlen(p) + 1;
	}
	mig_journal_begin(&m, "up", names, ids, ms, n);
	mig_buf_adds(&m, "result ok\n");
	mig_journal_parse(&op, m.buf);
	if (op.nrevs != n || strcmp(op.operation, "up") || strcmp(op.result, "ok") || strchr(op.subject, '\n'))
		abort();
	for (i = 0; i < n; i++)
		if (strcmp(op.revs[i].name, names[i]) || strcmp(op.revs[i].id, ids[i]) || op.revs[i].ms != ms[i])
			abort();
	mig_journal_op_release(&op);
	mig_buf_release(&m);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		round_trip((const char *)data + 1, size - 1);
	else
		show((const char *)data + 1, size - 1);
	return 0;
}
