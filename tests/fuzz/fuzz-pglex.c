/*
 * PostgreSQL's lexical rules (postgres-lex.c) on any bytes: every
 * statement ends past where it starts and within the input, the
 * statements cover the input in order, a blanked word keeps every
 * position, renaming mig's schema to mig changes nothing, the guards
 * read no byte outside what they are given (ASan: the input is copied
 * to a buffer of its exact size), and a script read in two pieces
 * stands where it stands read whole.
 */
#include "fuzz.h"
#include "postgres-lex.h"

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
	return 0;
}
