/*
 * Revision specs, resolved against small fixed states: the first byte
 * picks the state, the rest (to a NUL) is the spec. A spec resolves to
 * a revision that exists, base or heads, or is a usage error.
 */
#include "fuzz.h"
#include "graph.h"
#include "revspec.h"
#include "state.h"

struct applied {
	const char *name, *id;
};

#define NSTATES 5
static struct mig_state states[NSTATES];

static void make_state(struct mig_state *st, const struct mig_memfile *files, size_t nfiles,
		       const struct applied *applied, size_t napplied)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_applied_list l = { mig_xcalloc(napplied + 1, sizeof(*l.v)), napplied };
	struct mig_graph *g = NULL;
	size_t i;

	if (mig_graph_load_mem(&g, files, nfiles, &err) < 0) {
		fprintf(stderr, "fuzz-revspec: %s\n", err.msg);
		abort();
	}
	for (i = 0; i < napplied; i++) {
		long k = mig_graph_find(g, applied[i].name);

		l.v[i].name = mig_xstrdup(applied[i].name);
		snprintf(l.v[i].id, sizeof(l.v[i].id), "%s", applied[i].id ? applied[i].id : g->revs[k]->id);
		l.v[i].applied_at = mig_xstrdup("2024-01-01 00:00:00");
		l.v[i].seq = (long long)i + 1;
	}
	mig_state_init(st, g, &l, 1);
}

static void release(void)
{
	size_t i;

	for (i = 0; i < NSTATES; i++)
		mig_state_release(&states[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* a chain, three of five applied */
	static const struct mig_memfile linear[] = {
		{ "0001_init", "CREATE TABLE a(x);\n" }, { "0002_users", "CREATE TABLE users(id);\n" },
		{ "0003_email", "ALTER TABLE users ADD email;\n" }, { "0004_index", "CREATE INDEX i ON users(email);\n" },
		{ "0005_drop", "DROP TABLE a;\n" },
	};
	static const struct applied linear_applied[] = { { "0001_init", NULL }, { "0002_users", NULL },
							 { "0003_email", NULL } };
	/* branches: two applied heads, an edited revision, a record whose file is gone */
	static const struct mig_memfile branches[] = {
		{ "0001_a", "-- mig:parents\nSELECT 1;\n" }, { "0002_b", "-- mig:parents 0001_a\nSELECT 2;\n" },
		{ "0003_c", "-- mig:parents 0001_a\nSELECT 3;\n" }, { "0010_d", "-- mig:parents 0002_b\nSELECT 4;\n" },
	};
	static const struct applied branches_applied[] = {
		{ "0000_gone", "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef" }, { "0001_a", NULL },
		{ "0002_b", "0123456789abcdef0123456789abcdef01234567" }, { "0003_c", NULL },
	};
	/* records only, no files */
	static const struct applied gone_applied[] = {
		{ "0001_old", "abcdef0123456789abcdef0123456789abcdef01" },
		{ "0002_older", "abcd000000000000000000000000000000000000" },
	};
	/* names that look like specs, ids and each other's prefixes */
	static const struct mig_memfile tricky[] = {
		{ "abcd", "" }, { "abcdef_x", "" }, { "heads", "" }, { "-1", "" }, { "+2", "" },
		{ "0001", "" }, { "00010", "" }, { "current", "" }, { "base", "" }, { "head", "" },
	};
	static const struct applied tricky_applied[] = { { "+2", NULL }, { "-1", NULL }, { "0001", NULL } };

	(void)argc, (void)argv;
	mig_prog = "fuzz-revspec";
	fuzz_git_need();
	make_state(&states[0], linear, 5, linear_applied, 3);
	make_state(&states[1], branches, 4, branches_applied, 4);
	make_state(&states[2], NULL, 0, NULL, 0);
	make_state(&states[3], NULL, 0, gone_applied, 2);
	make_state(&states[4], tricky, 10, tricky_applied, 3);
	atexit(release);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mig_state *st;
	struct mig_err err = MIG_ERR_INIT;
	struct mig_target t;
	char *spec;
	int rc;

	if (!size)
		return 0;
	st = &states[data[0] % NSTATES];
	spec = mig_xstrndup((const char *)data + 1, size - 1);
	rc = mig_revspec(&t, st, spec, &err);
	if (rc < 0) {
		if (rc != MIG_EUSAGE || err.code != MIG_EUSAGE || !err.msg[0])
			abort();
	} else if (t.kind == MIG_TARGET_REV) {
		if (!t.name || t.rev < -1 || t.rev >= (long)st->g->nr || t.rec < -1 ||
		    t.rec >= (long)st->applied.nr)
			abort();
		if (t.rev >= 0 && (t.name != st->g->revs[t.rev]->name || t.rec != st->rec[t.rev]))
			abort();
		if (t.rev < 0 && (t.rec < 0 || t.name != st->applied.v[t.rec].name))
			abort();
	} else if (t.kind != MIG_TARGET_BASE && t.kind != MIG_TARGET_HEADS) {
		abort();
	}
	free(spec);
	return 0;
}
