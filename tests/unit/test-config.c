/*
 * mig_settings_load: the global options over the environment over the
 * nearest mig.conf over the defaults (DESIGN.md), each setting on its
 * own; paths in mig.conf relative to its directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "util.h"

static char top[] = "/tmp/mig-test-config-XXXXXX";
static char start[4096];

/* A fresh directory of its own for each test, the working directory, with no MIG_ variables. */
static int setup(void **state)
{
	(void)state;
	if (!getcwd(start, sizeof(start)) || !mkdtemp(top) || chdir(top) < 0)
		return -1;
	unsetenv("MIG_DATABASE");
	unsetenv("MIG_MIGRATIONS");
	unsetenv("MIG_STORE");
	/* what a mig.conf says is remembered there, not in the user's cache */
	setenv("XDG_CACHE_HOME", top, 1);
	return 0;
}

static int teardown(void **state)
{
	char *cmd = mig_xasprintf("rm -rf '%s'", top);
	int rc;

	(void)state;
	rc = chdir(start) < 0 || system(cmd) != 0 ? -1 : 0;
	free(cmd);
	strcpy(top + strlen(top) - 6, "XXXXXX");
	return rc;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static const struct mig_globals none = { NULL, NULL, NULL, 0, 0, -1 };

static void load_ok(struct mig_settings *s, const struct mig_globals *g)
{
	struct mig_err err = MIG_ERR_INIT;

	if (mig_settings_load(s, g, &err) < 0)
		fail_msg("%s", err.msg);
}

static const char full_conf[] = "[mig]\n\tdatabase = conf.db\n\tmigrations = conf-migrations\n"
				"\tstore = conf.store\n\tlockTimeout = 7\n\tbackup = false\n";

static void test_defaults_without_anything(void **state)
{
	struct mig_settings s;

	(void)state;
	load_ok(&s, &none);
	assert_null(s.database);
	assert_string_equal(s.migrations, "migrations");
	assert_null(s.store);
	assert_null(s.conf);
	assert_int_equal(s.lock_timeout, 5000);
	assert_int_equal(s.backup, 1);
	assert_int_equal(s.backup_keep, 20);
	mig_settings_release(&s);
}

static void test_mig_conf_over_the_defaults(void **state)
{
	struct mig_settings s;
	char *conf = mig_path_join(top, "mig.conf");

	(void)state;
	write_file("mig.conf", full_conf);
	load_ok(&s, &none);
	assert_string_equal(s.database, "conf.db");
	assert_string_equal(s.migrations, "conf-migrations");
	assert_string_equal(s.store, "conf.store");
	assert_string_equal(s.conf, conf);
	assert_int_equal(s.lock_timeout, 7);
	assert_int_equal(s.backup, 0);
	mig_settings_release(&s);
	/* from below it, its paths are relative to its directory; absolute ones stay */
	write_file("mig.conf", "[mig]\n\tdatabase = sub/../app.db\n\tstore = /srv/app.store\n");
	assert_int_equal(mkdir("a", 0777), 0);
	assert_int_equal(mkdir("a/b", 0777), 0);
	assert_int_equal(chdir("a/b"), 0);
	load_ok(&s, &none);
	assert_string_equal(s.database, "../../sub/../app.db");
	assert_string_equal(s.migrations, "../../migrations");
	assert_string_equal(s.store, "/srv/app.store");
	assert_string_equal(s.conf, conf);
	mig_settings_release(&s);
	free(conf);
}

static void test_environment_over_mig_conf(void **state)
{
	struct mig_settings s;

	(void)state;
	write_file("mig.conf", full_conf);
	setenv("MIG_DATABASE", "env.db", 1);
	load_ok(&s, &none);
	assert_string_equal(s.database, "env.db");
	/* each setting on its own: the others still come from mig.conf */
	assert_string_equal(s.migrations, "conf-migrations");
	assert_string_equal(s.store, "conf.store");
	mig_settings_release(&s);
	setenv("MIG_MIGRATIONS", "env-migrations", 1);
	setenv("MIG_STORE", "env.store", 1);
	load_ok(&s, &none);
	assert_string_equal(s.migrations, "env-migrations");
	assert_string_equal(s.store, "env.store");
	assert_int_equal(s.lock_timeout, 7);
	mig_settings_release(&s);
	/* an empty variable says nothing */
	setenv("MIG_DATABASE", "", 1);
	load_ok(&s, &none);
	assert_string_equal(s.database, "conf.db");
	mig_settings_release(&s);
	unsetenv("MIG_DATABASE");
	unsetenv("MIG_MIGRATIONS");
	unsetenv("MIG_STORE");
}

static void test_options_over_the_environment(void **state)
{
	const struct mig_globals g = { "opt.db", "opt-migrations", "opt.store", 0, 0, 9 };
	const struct mig_globals only_db = { "opt.db", NULL, NULL, 0, 0, -1 };
	struct mig_settings s;

	(void)state;
	write_file("mig.conf", full_conf);
	setenv("MIG_DATABASE", "env.db", 1);
	setenv("MIG_MIGRATIONS", "env-migrations", 1);
	setenv("MIG_STORE", "env.store", 1);
	load_ok(&s, &g);
	assert_string_equal(s.database, "opt.db");
	assert_string_equal(s.migrations, "opt-migrations");
	assert_string_equal(s.store, "opt.store");
	assert_int_equal(s.lock_timeout, 9);
	mig_settings_release(&s);
	load_ok(&s, &only_db);
	assert_string_equal(s.database, "opt.db");
	assert_string_equal(s.migrations, "env-migrations");
	assert_string_equal(s.store, "env.store");
	assert_int_equal(s.lock_timeout, 7);
	mig_settings_release(&s);
	unsetenv("MIG_DATABASE");
	unsetenv("MIG_MIGRATIONS");
	unsetenv("MIG_STORE");
}

static void test_the_store_defaults_to_beside_the_database(void **state)
{
	const struct mig_globals g = { "opt.db", NULL, NULL, 0, 0, -1 };
	struct mig_settings s;

	(void)state;
	load_ok(&s, &g);
	assert_string_equal(s.store, "opt.db.mig");
	mig_settings_release(&s);
	setenv("MIG_DATABASE", "env.db", 1);
	load_ok(&s, &none);
	assert_string_equal(s.store, "env.db.mig");
	mig_settings_release(&s);
	unsetenv("MIG_DATABASE");
	write_file("mig.conf", "[mig]\n\tdatabase = conf.db\n");
	load_ok(&s, &g);
	assert_string_equal(s.store, "opt.db.mig");
	mig_settings_release(&s);
}

static void test_a_mig_conf_as_git_reads_it(void **state)
{
	struct mig_settings s;

	(void)state;
	/* CRLF line ends, keys in any case */
	write_file("mig.conf", "[mig]\r\n\tDatabase = crlf.db\r\n\r\n\tLOCKTIMEOUT = 12\r\n");
	load_ok(&s, &none);
	assert_string_equal(s.database, "crlf.db");
	assert_int_equal(s.lock_timeout, 12);
	mig_settings_release(&s);
	/* what an included file says counts, and is read again each time (it may change alone) */
	write_file("mig.conf", "[include]\n\tpath = more.conf\n");
	write_file("more.conf", "[mig]\n\tdatabase = included.db\n");
	load_ok(&s, &none);
	assert_string_equal(s.database, "included.db");
	mig_settings_release(&s);
	write_file("more.conf", "[mig]\n\tdatabase = changed.db\n");
	load_ok(&s, &none);
	assert_string_equal(s.database, "changed.db");
	mig_settings_release(&s);
	/* an empty value names nothing */
	assert_int_equal(unlink("mig.conf"), 0);
	write_file("mig.conf", "[mig]\n\tdatabase =\n\tbackup = yes\n");
	load_ok(&s, &none);
	assert_null(s.database);
	assert_int_equal(s.backup, 1);
	mig_settings_release(&s);
}

static void test_a_mig_conf_it_cannot_use_is_an_error(void **state)
{
	struct mig_err err = MIG_ERR_INIT;
	struct mig_settings s;
	char *msg;

	(void)state;
	write_file("mig.conf", "[mig]\n\tlockTimeout = -1\n");
	assert_int_equal(mig_settings_load(&s, &none, &err), MIG_EENV);
	msg = mig_xasprintf("%s/mig.conf: mig.lockTimeout must not be negative", top);
	assert_string_equal(err.msg, msg);
	free(msg);
	mig_settings_release(&s);
	mig_err_clear(&err);
	assert_int_equal(unlink("mig.conf"), 0);
	write_file("mig.conf", "[mig]\n\tdatabase = a\001.db\n");
	assert_int_equal(mig_settings_load(&s, &none, &err), MIG_EENV);
	msg = mig_xasprintf("%s/mig.conf:2: not a text file (byte 0x01)", top);
	assert_string_equal(err.msg, msg);
	free(msg);
	mig_settings_release(&s);
	mig_err_clear(&err);
	assert_int_equal(unlink("mig.conf"), 0);
	write_file("mig.conf", "[mig]\n\n\tdatabase = a.db\n\177\n");
	assert_int_equal(mig_settings_load(&s, &none, &err), MIG_EENV);
	msg = mig_xasprintf("%s/mig.conf:4: not a text file (byte 0x7f)", top);
	assert_string_equal(err.msg, msg);
	free(msg);
	mig_settings_release(&s);
	mig_err_clear(&err);
	assert_int_equal(unlink("mig.conf"), 0);
	write_file("mig.conf", "[mig]\n\tbackup = maybe\n");
	assert_int_equal(mig_settings_load(&s, &none, &err), MIG_EENV);
	msg = mig_xasprintf("%s/mig.conf: mig.backup: failed to parse 'maybe' as a boolean value", top);
	assert_string_equal(err.msg, msg);
	free(msg);
	mig_settings_release(&s);
	mig_err_clear(&err);
	assert_int_equal(unlink("mig.conf"), 0);
	write_file("mig.conf", "[mig]\n\tlockTimeout = soon\n");
	assert_int_equal(mig_settings_load(&s, &none, &err), MIG_EENV);
	msg = mig_xasprintf("%s/mig.conf: mig.lockTimeout: failed to parse 'soon' as a 32-bit integer", top);
	assert_string_equal(err.msg, msg);
	free(msg);
	mig_settings_release(&s);
	mig_err_clear(&err);
	assert_int_equal(unlink("mig.conf"), 0);
	assert_int_equal(mkdir("mig.conf", 0777), 0);
	assert_int_equal(mig_settings_load(&s, &none, &err), MIG_EENV);
	msg = mig_xasprintf("'%s/mig.conf' is a directory, not a regular file", top);
	assert_string_equal(err.msg, msg);
	free(msg);
	mig_settings_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_without_anything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mig_conf_over_the_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment_over_mig_conf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options_over_the_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_store_defaults_to_beside_the_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_mig_conf_as_git_reads_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_mig_conf_it_cannot_use_is_an_error, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	mig_shutdown();
	return rc;
}
