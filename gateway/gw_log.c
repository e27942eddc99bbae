/*
 * gw_log.c - the daemon's log: key=value lines on stderr, with a level.
 *
 * "ts=2026-01-01T00:00:00.000Z level=info event=mqtt_connected host=..."
 * Each line is formatted into a stack buffer and written with one write(2),
 * so lines from one process never interleave. Values with spaces are
 * quoted by the caller ("why=\"...\""). Lines longer than 2 KiB are cut.
 */
#include "gateway/gw_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum gw_log_level gw_log_level_cur = GW_LOG_INFO;

void
gw_log_set_level(enum gw_log_level level)
{
	gw_log_level_cur = level;
}

bool
gw_log_enabled(enum gw_log_level level)
{
	return level >= gw_log_level_cur;
}

void
gw_log(enum gw_log_level level, const char *event, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;
	va_list ap;

	if (!gw_log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ level=%s event=%s%s",
		     ts.tv_nsec / 1000000, gw_log_level_name(level), event, *fmt ? " " : "");
	if (r > 0)
		n += (size_t)r;
	if (n < sizeof(line) - 1) {
		va_start(ap, fmt);
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to say it */
	}
}
