/*
 * The reporter (report.h): what the library says reaches the reporter
 * the main installed, only at the levels it shows; a meter passes at
 * most ten updates a second and always the last; -q and -v choose the
 * levels of the command line's reporter (cli.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <pty.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"
#include "report.h"
#include "util.h"

struct heard {
	struct mig_buf said;
	int meters;
	uint64_t done, total;
};

static void say(enum mig_say_level level, const char *msg, void *data)
{
	struct heard *h = data;

	mig_buf_addf(&h->said, "%d %s\n", (int)level, msg);
}

static void meter(const char *what, uint64_t done, uint64_t total, void *data)
{
	struct heard *h = data;

	assert_string_equal(what, "snapshot");
	h->meters++;
	h->done = done;
	h->total = total;
}

static void test_only_the_levels_shown_are_said(void **state)
{
	struct heard h = { MIG_BUF_INIT, 0, 0, 0 };
	struct mig_reporter r = { say, NULL, &h, 1u << MIG_SAY_WARNING | 1u << MIG_SAY_VERBOSE };

	(void)state;
	mig_reporter_set(&r);
	assert_true(mig_saying(MIG_SAY_WARNING));
	assert_false(mig_saying(MIG_SAY_NOTE));
	assert_false(mig_saying(MIG_SAY_PROGRESS));
	assert_true(mig_saying(MIG_SAY_VERBOSE));
	mig_say(MIG_SAY_WARNING, "kept %d", 1);
	mig_say(MIG_SAY_NOTE, "dropped");
	mig_say(MIG_SAY_PROGRESS, "dropped");
	mig_say(MIG_SAY_VERBOSE, "%s took %d ms", "0001_a", 12);
	assert_string_equal(h.said.buf, "0 kept 1\n3 0001_a took 12 ms\n");
	/* silence: nothing is said, and nothing asks */
	mig_reporter_set(NULL);
	assert_false(mig_saying(MIG_SAY_WARNING));
	mig_say(MIG_SAY_WARNING, "unheard");
	assert_string_equal(h.said.buf, "0 kept 1\n3 0001_a took 12 ms\n");
	mig_buf_release(&h.said);
}

static void test_a_meter_passes_ten_a_second_and_the_last(void **state)
{
	struct heard h = { MIG_BUF_INIT, 0, 0, 0 };
	struct mig_reporter r = { say, meter, &h, 0 };
	struct timespec pause = { 0, 120 * 1000000 };
	struct mig_meter m;

	(void)state;
	mig_reporter_set(&r);
	/* work that ends within the wait shows nothing, not even its end */
	mig_meter_start(&m, "snapshot");
	mig_meter_update(&m, 1, 10);
	mig_meter_update(&m, 10, 10);
	assert_int_equal(h.meters, 0);
	/* nor does a total of nothing: no "0 of 0 MiB" */
	mig_meter_start(&m, "snapshot");
	m.wait_ms = 0;
	mig_meter_update(&m, 0, 0);
	assert_int_equal(h.meters, 0);
	mig_meter_start(&m, "snapshot");
	m.wait_ms = 0;
	mig_meter_update(&m, 1, 10);
	assert_int_equal(h.meters, 1);
	/* at once again: held back */
	mig_meter_update(&m, 2, 10);
	assert_int_equal(h.meters, 1);
	nanosleep(&pause, NULL);
	mig_meter_update(&m, 3, 10);
	assert_int_equal(h.meters, 2);
	assert_int_equal(h.done, 3);
	/* the last always passes, once */
	mig_meter_update(&m, 10, 10);
	assert_int_equal(h.meters, 3);
	assert_int_equal(h.done, 10);
	assert_int_equal(h.total, 10);
	mig_meter_update(&m, 10, 10);
	assert_int_equal(h.meters, 3);
	/* a reporter with no meter: none started, none shown */
	r.meter = NULL;
	mig_reporter_set(&r);
	mig_meter_start(&m, "snapshot");
	mig_meter_update(&m, 10, 10);
	/* a meter started with none, then one installed: still off */
	r.meter = meter;
	mig_reporter_set(&r);
	mig_meter_update(&m, 10, 10);
	assert_int_equal(h.meters, 3);
	/* started with one, which is then taken away */
	mig_meter_start(&m, "snapshot");
	mig_reporter_set(NULL);
	mig_meter_update(&m, 10, 10);
	assert_int_equal(h.meters, 3);
	mig_buf_release(&h.said);
}

static void test_quiet_and_verbose_choose_the_command_line_levels(void **state)
{
	(void)state;
	mig_reporter_stderr(0, 0);
	assert_true(mig_saying(MIG_SAY_WARNING));
	assert_true(mig_saying(MIG_SAY_NOTE));
	assert_true(mig_saying(MIG_SAY_PROGRESS));
	assert_false(mig_saying(MIG_SAY_VERBOSE));
	mig_reporter_stderr(0, 1);
	assert_true(mig_saying(MIG_SAY_VERBOSE));
	/* -q keeps warnings only, and wins over -v */
	mig_reporter_stderr(1, 1);
	assert_true(mig_saying(MIG_SAY_WARNING));
	assert_false(mig_saying(MIG_SAY_NOTE));
	assert_false(mig_saying(MIG_SAY_PROGRESS));
	assert_false(mig_saying(MIG_SAY_VERBOSE));
	mig_reporter_set(NULL);
}

/* Run fn with stderr on fd; what came out on the other end, read from back. */
static char *on_stderr(int fd, int back, void (*fn)(void))
{
	struct mig_buf b = MIG_BUF_INIT;
	int saved = dup(2);
	char buf[512];
	ssize_t n;

	assert_true(saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	fn();
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	close(fd);
	while ((n = read(back, buf, sizeof(buf))) > 0)
		mig_buf_add(&b, buf, (size_t)n);
	close(back);
	return b.len ? mig_buf_detach(&b) : mig_xstrdup("");
}

static void say_each_level(void)
{
	mig_prog = "mig-test";
	mig_reporter_stderr(0, 1);
	mig_say(MIG_SAY_WARNING, "the journal is %s", "late");
	mig_say(MIG_SAY_NOTE, "restored \033[31mred");
	mig_say(MIG_SAY_PROGRESS, "applying 0001_a");
	mig_say(MIG_SAY_VERBOSE, "  0001_a took 3 ms");
	mig_reporter_set(NULL);
}

static void test_the_command_line_reporter_prefixes_and_escapes(void **state)
{
	int p[2];
	char *got;

	(void)state;
	assert_int_equal(pipe(p), 0);
	got = on_stderr(p[1], p[0], say_each_level);
	/* a name's control characters never reach the terminal raw */
	assert_string_equal(got, "mig-test: warning: the journal is late\n"
			    "mig-test: restored \\x1b[31mred\n"
			    "applying 0001_a\n"
			    "  0001_a took 3 ms\n");
	free(got);
}

static void meter_to_the_end(void)
{
	struct mig_meter m;

	mig_prog = "mig-test";
	/* stderr is a terminal: the meter is on */
	mig_reporter_stderr(0, 0);
	mig_meter_start(&m, "snapshot");
	m.wait_ms = 0;
	mig_meter_update(&m, 1 << 20, 4 << 20);
	mig_meter_update(&m, 4 << 20, 4 << 20);
	/* nothing for nothing, nor for work under a second */
	mig_meter_start(&m, "restore");
	m.wait_ms = 0;
	mig_meter_update(&m, 0, 0);
	mig_meter_start(&m, "verify");
	mig_meter_update(&m, 1 << 20, 4 << 20);
	mig_meter_update(&m, 4 << 20, 4 << 20);
	/* not on a terminal, or quiet: none */
	mig_reporter_stderr(1, 0);
	mig_meter_start(&m, "snapshot");
	mig_meter_update(&m, 4 << 20, 4 << 20);
	mig_reporter_set(NULL);
}

static void test_the_command_line_meter_on_a_terminal(void **state)
{
	struct termios raw;
	int master, slave;
	char *got;

	(void)state;
	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	/* the bytes as written, no newline turned into CR LF */
	assert_int_equal(tcgetattr(slave, &raw), 0);
	cfmakeraw(&raw);
	assert_int_equal(tcsetattr(slave, TCSANOW, &raw), 0);
	got = on_stderr(slave, master, meter_to_the_end);
	assert_string_equal(got, "\rmig-test: snapshot: 1 of 4 MiB (25%)"
			    "\rmig-test: snapshot: 4 of 4 MiB (100%)\n");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_the_levels_shown_are_said),
		cmocka_unit_test(test_a_meter_passes_ten_a_second_and_the_last),
		cmocka_unit_test(test_quiet_and_verbose_choose_the_command_line_levels),
		cmocka_unit_test(test_the_command_line_reporter_prefixes_and_escapes),
		cmocka_unit_test(test_the_command_line_meter_on_a_terminal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
