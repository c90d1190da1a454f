/*
 * PostgreSQL's lexical rules (postgres-lex.c) on any bytes: every
 * statement ends past where it starts and within the input, the
 * statements cover the input in order, a blanked word keeps every
 * position, renaming mig's schema to mig changes nothing, the guards
 * read no byte outside what they are given (ASan: the input is copied
 * to a buffer of its exact size), and a script read in two pieces
 * stands where it stands read whole; and the same bytes imported as a
 * script for 'restore -i' (postgres-image.c) are taken or refused, with
 * the same image or message, whether read whole or a few bytes at a
 * time, a NUL always refused.
 */
#include <stdint.h>
#include "fuzz.h"
#include "postgres-image.h"
#include "postgres-lex.h"

/* The input as a stream, step bytes a read (all of it when 0). */
struct mem_in {
	const uint8_t *p;
	size_t left, step;
};

static ssize_t mem_read(void *data, void *buf, size_t len, struct mig_err *err)
{
	struct mem_in *m = data;
	size_t n = m->step && m->step < len ? m->step : len;

	(void)err;
	n = n < m->left ? n : m->left;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (ssize_t)n;
}

/* What the image's chunks hold, in order: an XXH-free running sum. */
struct mem_sink {
	uint64_t sum, bytes;
};

static int mem_chunk(void *data, uint64_t index, const unsigned char *buf, size_t len)
{
	struct mem_sink *s = data;
	size_t i;

	for (i = 0; i < len; i++)
		s->sum = s->sum * 31 + buf[i] + index;
	s->bytes += len;
	return 0;
}

static int import(const uint8_t *data, size_t size, size_t step, struct mem_sink *out, struct mig_err *err)
{
	struct mem_in m = { data, size, step };
	struct mig_image_stream in = { mem_read, &m, "x.sql.gz" };
	struct mig_image_sink sink = { .chunk_size = 64 * 1024, .chunk = mem_chunk, .data = out };
	uint32_t page;
	uint64_t total;

	return mig_pg_image_import(&in, &sink, &page, &total, err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sql = malloc(size ? size : 1), *text;
	struct mig_buf same = MIG_BUF_INIT;
	struct mig_pg_scan whole, halves;
	const char *p, *end, *start, *stop;
	char w[16];
	size_t n;

	if (!sql)
		return 0;
	memcpy(sql, data, size);
	p = sql;
	end = sql + size;
	while ((start = mig_pg_skip_space(p, end)) < end) {
		if (start < p)
			abort();
		stop = mig_pg_statement_end(start, end);
		if (stop <= start || stop > end)
			abort();
		mig_pg_transaction_control(start, stop);
		mig_pg_writes_schema(start, stop, "mig");
		mig_pg_writes_schema(start, stop, "a\"b; DROP");
		n = mig_pg_word(start, stop, w, sizeof(w));
		if (n >= sizeof(w) || w[n] != '\0')
			abort();
		/* the backend blanks words in a NUL-terminated copy of one statement */
		text = mig_xstrndup(start, (size_t)(stop - start));
		n = strlen(text);
		mig_pg_blank_word(text, "concurrently");
		if (strlen(text) != n)
			abort();
		free(text);
		p = stop;
	}
	/* mig.schema's default renames mig's own revisions to themselves, byte for byte */
	mig_pg_rename_schema(&same, sql, end, "mig");
	if (same.len != size || (size && memcmp(same.buf, sql, size)))
		abort();
	mig_buf_release(&same);
	mig_pg_scan_init(&whole);
	mig_pg_scan_init(&halves);
	mig_pg_scan(&whole, sql, size);
	mig_pg_scan(&halves, sql, size / 2);
	mig_pg_scan(&halves, sql + size / 2, size - size / 2);
	if (whole.state != halves.state || mig_pg_scan_between(&whole) != mig_pg_scan_between(&halves))
		abort();
	mig_pg_scan_release(&whole);
	mig_pg_scan_release(&halves);
	free(sql);
	{
		struct mem_sink a = { 0, 0 }, b = { 0, 0 };
		struct mig_err ea = MIG_ERR_INIT, eb = MIG_ERR_INIT;
		int ra = import(data, size, 0, &a, &ea), rb = import(data, size, 1 + size % 13, &b, &eb);

		if (ra != rb || (ra < 0 && (ra != MIG_EENV || strcmp(ea.msg, eb.msg))) ||
		    (ra == 0 && (a.sum != b.sum || a.bytes != b.bytes || a.bytes < size)) ||
		    (ra == 0 && memchr(data, '\0', size)))
			abort();
	}
	return 0;
}
