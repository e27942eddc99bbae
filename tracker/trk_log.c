/*
 * trk_log.c - log lines on stderr as key=value pairs:
 *   ts=2026-11-28T14:00:00.123Z level=info event=mqtt_connected host=... port=...
 * The caller writes its own pairs; values with spaces are quoted by the
 * caller ("msg=\"...\"").  One fprintf per line so lines do not interleave.
 */
#include "tracker/tracker.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum trk_log_level log_level = TRK_LOG_INFO;

void
trk_log_set_level(enum trk_log_level level)
{
	log_level = level;
}

void
trk_log(enum trk_log_level level, const char *event, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	char ts[32], body[1024];
	struct timespec now;
	va_list ap;

	if (level < log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (trk_format_time((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, ts, sizeof ts) != TRK_OK)
		ts[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	fprintf(stderr, "ts=%s level=%s event=%s%s%s\n", ts, names[level], event,
	        body[0] ? " " : "", body);
}
