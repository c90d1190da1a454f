#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "report.h"
#include "util.h"

static struct mig_reporter reporter;

void mig_reporter_set(const struct mig_reporter *r)
{
	if (r)
		reporter = *r;
	else
		reporter = (struct mig_reporter){ NULL, NULL, NULL, 0 };
}

int mig_saying(enum mig_say_level level)
{
	return reporter.say && (reporter.levels & (1u << level));
}

void mig_vsay(enum mig_say_level level, const char *fmt, va_list ap)
{
	char *msg;

	if (!mig_saying(level))
		return;
	msg = mig_xvasprintf(fmt, ap);
	reporter.say(level, msg, reporter.data);
	free(msg);
}

void mig_say(enum mig_say_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mig_vsay(level, fmt, ap);
	va_end(ap);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mig_meter_start(struct mig_meter *m, const char *what)
{
	m->what = what;
	m->start = now_ms();
	m->last = 0;
	m->wait_ms = 1000;
	m->on = reporter.meter != NULL;
	m->drawn = m->ended = 0;
}

void mig_meter_update(struct mig_meter *m, uint64_t done, uint64_t total)
{
	long long now;

	if (!m->on || !reporter.meter || m->ended || !total)
		return;
	if (done >= total) {
		m->ended = 1;
		if (m->drawn)
			reporter.meter(m->what, total, total, reporter.data);
		return;
	}
	now = now_ms();
	if (now - m->start < m->wait_ms || now - m->last < 100)
		return;
	m->last = now;
	m->drawn = 1;
	reporter.meter(m->what, done, total, reporter.data);
}
