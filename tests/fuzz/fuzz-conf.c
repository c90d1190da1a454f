/*
 * mig.conf, as every command reads it: the input is written to
 * mig.conf in a scratch directory, the working directory, and the
 * settings loaded (mig's own check that it is text, then libgit2's
 * config parser, then mig's keys). Settings load or the file is named
 * in an environment error; relative paths stay relative.
 */
#include <sys/stat.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch_dir();
	char *cache = mig_path_join(dir, "xdg-cache");

	(void)argc, (void)argv;
	mig_prog = "fuzz-conf";
	unsetenv("MIG_DATABASE");
	unsetenv("MIG_MIGRATIONS");
	unsetenv("MIG_STORE");
	/* a mig.conf written this second is never remembered, but keep any cache out of ~ */
	setenv("XDG_CACHE_HOME", cache, 1);
	free(cache);
	if (chdir(dir) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_globals g = { NULL, NULL, NULL, 0, 0, -1 };
	struct mig_err err = MIG_ERR_INIT;
	struct mig_settings s;
	const char *db;
	int rc;

	fuzz_write("mig.conf", data, size);
	rc = mig_settings_load(&s, &g, &err);
	if (rc < 0) {
		if (rc != MIG_EENV || !err.msg[0])
			abort();
	} else {
		if (!s.conf || !s.migrations || s.lock_timeout < 0 || (s.backup != 0 && s.backup != 1) ||
		    (s.database && !s.store))
			abort();
		/* the only other look at what it names */
		mig_err_clear(&err);
		if (mig_settings_database(&s, &db, &err) < 0 && err.code != MIG_EUSAGE && err.code != MIG_EENV)
			abort();
	}
	mig_settings_release(&s);
	return 0;
}
