#ifndef MIG_REPORT_H
#define MIG_REPORT_H
#include <stdarg.h>
#include <stdint.h>

/*
 * What the library has to say that is not its result: progress lines,
 * notes, warnings and progress meters. The library never writes to a
 * terminal or a stream itself; it says things here, and the reporter
 * the main installed (cli.c's, from -q and -v) decides what is shown
 * and how. Without one, nothing is shown.
 */
enum mig_say_level {
	MIG_SAY_WARNING,	/* "PROG: warning: MSG": shown even with -q */
	MIG_SAY_NOTE,		/* "PROG: MSG": hidden by -q */
	MIG_SAY_PROGRESS,	/* "MSG", a step of a run: hidden by -q */
	MIG_SAY_VERBOSE,	/* "MSG": only with -v */
};

struct mig_reporter {
	/* one line, without a newline; names in it are the reporter's to escape */
	void (*say)(enum mig_say_level level, const char *msg, void *data);
	/*
	 * done of total bytes of what ("snapshot", "restore"); called at
	 * most ten times a second, and once with done == total at the end
	 */
	void (*meter)(const char *what, uint64_t done, uint64_t total, void *data);
	void *data;
	unsigned levels;	/* the levels it shows: 1 << MIG_SAY_... */
};

/* Install r (copied), or NULL for silence. */
void mig_reporter_set(const struct mig_reporter *r);

void mig_say(enum mig_say_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mig_vsay(enum mig_say_level level, const char *fmt, va_list ap);

/* Does the reporter show level at all? Spare the work of saying what is not shown. */
int mig_saying(enum mig_say_level level);

/*
 * A progress meter of one operation. Call mig_meter_update as work is
 * done; it passes an update to the reporter at most ten times a second,
 * none before the work has taken wait_ms (1000: work under a second
 * shows nothing), none for a total of 0, and the last (done == total)
 * once, only when something was shown before it, so a meter is one line
 * redrawn and ended by one newline.
 */
struct mig_meter {
	const char *what;
	long long start, last;	/* ms */
	int wait_ms;		/* set by mig_meter_start; a test may lower it */
	int on, drawn, ended;
};
void mig_meter_start(struct mig_meter *m, const char *what);
void mig_meter_update(struct mig_meter *m, uint64_t done, uint64_t total);

#endif
