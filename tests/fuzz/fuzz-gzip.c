/*
 * 'mig restore -i': a gzip stream of a database image, imported into a
 * snapshot in a scratch store, as restore -i does before it writes
 * anything. An import that succeeds must make a snapshot that is whole
 * (check), reads back right (verify) and exports; one that fails is an
 * environment error. Chunks are 64 KiB, so small inputs make several.
 */
#include <sys/mman.h>

#include "fuzz.h"
#include "snapshot.h"
#include "store.h"

/* a fresh store after this many snapshots, so it does not grow without end */
#define RECYCLE 256

static char *store_path;
static struct mig_store *store;
static size_t taken;

static void store_close(void)
{
	mig_store_close(store);
	store = NULL;
	fuzz_rm_rf(store_path);
}

static void store_open(void)
{
	struct mig_err err = MIG_ERR_INIT;

	if (mig_store_open(&store, store_path, 1, &err) < 0) {
		fprintf(stderr, "fuzz-gzip: %s\n", err.msg);
		abort();
	}
	taken = 0;
}

static void release(void)
{
	store_close();
	free(store_path);
	mig_shutdown();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	mig_prog = "fuzz-gzip";
	setenv("MIG_CHUNK_SIZE", "64", 1);
	fuzz_git_need();
	store_path = mig_path_join(fuzz_scratch_dir(), "app.db.mig");
	store_open();
	atexit(release);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mig_snapshot_opts o = { "fuzz", NULL, 0, 0, 0 };
	struct mig_err err = MIG_ERR_INIT;
	char id[41] = "";
	int fd = memfd_create("image.gz", MFD_CLOEXEC), out;

	if (fd < 0 || mig_write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	if (mig_snapshot_import(store, fd, "image.gz", "app.db", &o, id, &err) < 0) {
		if (err.code != MIG_EENV || !err.msg[0])
			abort();
		close(fd);
		return 0;
	}
	close(fd);
	if ((out = memfd_create("export.gz", MFD_CLOEXEC)) < 0)
		abort();
	if (mig_snapshot_check(store, id, &err) < 0 || mig_snapshot_verify(store, id, 0, &err) < 0 ||
	    mig_snapshot_export(store, id, out, "export.gz", 0, &err) < 0) {
		fprintf(stderr, "fuzz-gzip: snapshot %s of an accepted image: %s\n", id, err.msg);
		abort();
	}
	close(out);
	if (++taken == RECYCLE) {
		store_close();
		store_open();
	}
	return 0;
}
