/*
 * The run sequence (run.c), with a fake kind and a fake store: the
 * order in which a run plans, locks, journals what cut-short runs left,
 * refuses, snapshots, executes and journals, and what it skips when a
 * step fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "report.h"
#include "run.h"
#include "util.h"

/* What a test asks of the fakes, and what they saw. */
static struct {
	int plan_rc, plan_n, plan_n_locked;	/* the second plan, under the lock */
	int prepare_rc, execute_rc, journal_rc, snapshot_rc, prune_rc, pending;
	size_t execute_done;			/* steps done before execute_rc */
	int name_failed;			/* execute names the step that fails */
	int nplans;
	struct mig_buf log;
	struct mig_buf said;
	char result[32];
	size_t journaled;
} t;

static void event(const char *what)
{
	if (t.log.len)
		mig_buf_addc(&t.log, ',');
	mig_buf_adds(&t.log, what);
}

static int fake_plan(struct mig_run *run, struct mig_err *err)
{
	event("plan");
	run->n = t.nplans++ ? (size_t)t.plan_n_locked : (size_t)t.plan_n;
	return t.plan_rc ? mig_err_set(err, t.plan_rc, "plan refused") : 0;
}

static int fake_prepare(struct mig_run *run, struct mig_err *err)
{
	(void)run;
	event("prepare");
	return t.prepare_rc ? mig_err_set(err, t.prepare_rc, "prepare refused") : 0;
}

static int fake_execute(struct mig_run *run, struct mig_err *err)
{
	static const char *const names[] = { "0001_a", "0002_b", "0003_c" };
	size_t i;

	event("execute");
	for (i = 0; i < t.execute_done; i++) {
		run->names[run->done] = names[i];
		run->ids[run->done] = "id";
		run->done++;
	}
	if (!t.execute_rc)
		return 0;
	if (t.name_failed) {
		run->names[run->done] = names[i];
		run->ids[run->done] = "id";
	}
	return mig_err_set(err, t.execute_rc, "execute failed");
}

static const struct mig_run_kind kind = {
	"up", 0, 1, fake_plan, fake_prepare, fake_execute, NULL, 0, 0,
};

static char fake_store;

static int env_lock(struct mig_run *run, struct mig_err *err)
{
	(void)err;
	event("lock");
	run->store = (struct mig_store *)&fake_store;
	return 0;
}

static int env_flush(struct mig_run *run, int pending_only, struct mig_err *err)
{
	(void)run;
	(void)err;
	event(pending_only ? "pending?" : "flush");
	return pending_only ? t.pending : 0;
}

static int env_snapshot(struct mig_run *run, const char *subject, struct mig_err *err)
{
	event("snapshot");
	assert_string_equal(subject, "before up");
	if (t.snapshot_rc)
		return mig_err_set(err, t.snapshot_rc, "snapshot failed");
	snprintf(run->snapshot, sizeof(run->snapshot), "%s", "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a");
	return 0;
}

static int env_journal(struct mig_run *run, const char *result, struct mig_err *err)
{
	event("journal");
	snprintf(t.result, sizeof(t.result), "%s", result);
	t.journaled = run->done;
	return t.journal_rc ? mig_err_set(err, t.journal_rc, "journal refused") : 0;
}

static void env_unlock(struct mig_run *run)
{
	event("unlock");
	run->store = NULL;
}

static int env_prune(struct mig_run *run, struct mig_err *err)
{
	(void)run;
	event("prune");
	return t.prune_rc ? mig_err_set(err, t.prune_rc, "prune refused") : 0;
}

static const struct mig_run_env env = { env_lock, env_flush, env_snapshot, env_journal, env_unlock, env_prune };

static void say(enum mig_say_level level, const char *msg, void *data)
{
	(void)data;
	mig_buf_addf(&t.said, "%d %s\n", (int)level, msg);
}

static char dbpath[64];

static int setup(void **state)
{
	struct mig_reporter r = { say, NULL, NULL, ~0u };
	FILE *f;

	(void)state;
	mig_buf_release(&t.log);
	mig_buf_release(&t.said);
	memset(&t, 0, sizeof(t));
	t.plan_n = t.plan_n_locked = 2;
	t.execute_done = 2;
	mig_reporter_set(&r);
	/* a database with content, so that the run snapshots it */
	snprintf(dbpath, sizeof(dbpath), "/tmp/mig-test-run-%ld.db", (long)getpid());
	assert_non_null(f = fopen(dbpath, "w"));
	fputs("content", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(dbpath);
	mig_buf_release(&t.log);
	mig_buf_release(&t.said);
	mig_reporter_set(NULL);
	return 0;
}

static int run(const struct mig_run_opts *o, struct mig_err *err)
{
	struct mig_settings set = { dbpath, "migrations", "store", NULL, 0, 1, 20, NULL, 0, NULL };

	return mig_run_do(&kind, NULL, &set, o, &env, err);
}

static void test_order(void **state)
{
	struct mig_run_opts o = { 0 };
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	assert_int_equal(run(&o, &err), 0);
	assert_string_equal(t.log.buf, "plan,lock,flush,plan,prepare,snapshot,execute,journal,prune,unlock");
	assert_string_equal(t.result, "ok");
	assert_int_equal(t.journaled, 2);
}

static void test_refused_plan_touches_nothing(void **state)
{
	struct mig_run_opts o = { 0 };
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	t.plan_rc = MIG_EUNSAFE;
	assert_int_equal(run(&o, &err), MIG_EUNSAFE);
	assert_string_equal(err.msg, "plan refused");
	assert_string_equal(t.log.buf, "plan");
}

static void test_nothing_to_do(void **state)
{
	struct mig_run_opts o = { 0 };
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	t.plan_n = 0;
	assert_int_equal(run(&o, &err), 0);
	assert_string_equal(t.log.buf, "plan,pending?");
	/* but what cut-short runs left is journaled all the same, under the lock */
	mig_buf_release(&t.log);
	t.nplans = 0;
	t.pending = 1;
	assert_int_equal(run(&o, &err), 0);
	assert_string_equal(t.log.buf, "plan,pending?,lock,flush,unlock");
}

static void test_done_by_another_run(void **state)
{
	struct mig_run_opts o = { 0 };
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	t.plan_n_locked = 0;
	assert_int_equal(run(&o, &err), 0);
	assert_string_equal(t.log.buf, "plan,lock,flush,plan,unlock");
}

static void test_refused_prepare_takes_no_snapshot(void **state)
{
	struct mig_run_opts o = { 0 };
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	t.prepare_rc = MIG_EUNSAFE;
	assert_int_equal(run(&o, &err), MIG_EUNSAFE);
	assert_string_equal(t.log.buf, "plan,lock,flush,plan,prepare,unlock");
}

static void test_failed_snapshot_changes_nothing(void **state)
{
	struct mig_run_opts o = { 0 };
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	t.snapshot_rc = MIG_EENV;
	assert_int_equal(run(&o, &err), MIG_EENV);
	assert_string_equal(t.log.buf, "plan,lock,flush,plan,prepare,snapshot,unlock");
}

static void test_no_backup(void **state)
{
	struct mig_run_opts o = { 0 };
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	o.no_backup = 1;
	assert_int_equal(run(&o, &err), 0);
	assert_string_equal(t.log.buf, "plan,lock,flush,plan,prepare,execute,journal,unlock");
}

static void test_failure_journals_the_failed_step_last(void **state)
{
	struct mig_run_opts o = { 0 };
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	t.execute_done = 1;
	t.execute_rc = MIG_ESQL;
	t.name_failed = 1;
	assert_int_equal(run(&o, &err), MIG_ESQL);
	assert_string_equal(t.log.buf, "plan,lock,flush,plan,prepare,snapshot,execute,journal,unlock");
	assert_string_equal(t.result, "failed");
	assert_int_equal(t.journaled, 2);
	assert_string_equal(err.msg, "execute failed");
	assert_non_null(strstr(err.hint, "mig restore 5a5a5a5a5a5a"));
}

static void test_failure_before_any_step_journals_nothing(void **state)
{
	struct mig_run_opts o = { 0 };
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	t.execute_done = 0;
	t.execute_rc = MIG_EENV;
	assert_int_equal(run(&o, &err), MIG_EENV);
	assert_string_equal(t.log.buf, "plan,lock,flush,plan,prepare,snapshot,execute,unlock");
}

static void test_dry_run_leaves_no_trace(void **state)
{
	struct mig_run_opts o = { 0 };
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	o.dry_run = 1;
	assert_int_equal(run(&o, &err), 0);
	/* the fake store flushes nothing in a dry run on its own: the run takes no snapshot and writes no entry */
	assert_string_equal(t.log.buf, "plan,lock,flush,plan,prepare,execute,unlock");
}

static void test_journal_refused_after_the_change_is_a_warning(void **state)
{
	struct mig_run_opts o = { 0 };
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	t.journal_rc = MIG_EENV;
	assert_int_equal(run(&o, &err), 0);
	assert_non_null(strstr(t.said.buf, "0 journal refused\n"));
	assert_non_null(strstr(t.said.buf, "0 the database keeps the entry; the next run writes it\n"));
	/* no entry, no prune: what is pruned is journaled after the run's own entry */
	assert_string_equal(t.log.buf, "plan,lock,flush,plan,prepare,snapshot,execute,journal,unlock");
}

static void test_failed_prune_after_the_run_is_a_warning(void **state)
{
	struct mig_run_opts o = { 0 };
	struct mig_err err = MIG_ERR_INIT;

	(void)state;
	t.prune_rc = MIG_EENV;
	assert_int_equal(run(&o, &err), 0);
	assert_string_equal(t.log.buf, "plan,lock,flush,plan,prepare,snapshot,execute,journal,prune,unlock");
	assert_non_null(strstr(t.said.buf, "0 cannot prune automatic snapshots: prune refused\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_plan_touches_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_to_do, setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_by_another_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_prepare_takes_no_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_snapshot_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_journals_the_failed_step_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_before_any_step_journals_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_leaves_no_trace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_refused_after_the_change_is_a_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_prune_after_the_run_is_a_warning, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
