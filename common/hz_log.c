/*
 * hz_log.c - key=value lines on stderr (see hz_log.h).
 *
 * Each line is formatted into a stack buffer and written with one
 * write(2), so lines from one process never interleave and a line is never
 * half-written by a crash in the middle of it. The timestamp is the wall
 * clock in UTC with milliseconds. The level is the one process-wide state.
 * A control character in the caller's text (a tab or a newline in a value,
 * such as a server's multi-line message) becomes a space here, the one
 * place, so that a line is always one line of key=value pairs.
 */
#include "common/hz_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "common/hz_clock.h"

#define HZ_LOG_LINE_MAX 2048

const char *const hz_log_level_names[] = { "debug", "info", "warn", "error", NULL };

static enum hz_log_level hz_log_min = HZ_LOG_INFO;

const char *
hz_log_level_name(enum hz_log_level level)
{
	if ((unsigned)level <= HZ_LOG_ERROR)
		return hz_log_level_names[level];
	return "unknown";
}

void
hz_log_set_level(enum hz_log_level level)
{
	hz_log_min = level;
}

bool
hz_log_enabled(enum hz_log_level level)
{
	return level >= hz_log_min;
}

void
hz_log(enum hz_log_level level, const char *event, const char *fmt, ...)
{
	char line[HZ_LOG_LINE_MAX];
	int64_t now_ms = hz_now_us() / 1000;
	time_t sec = (time_t)(now_ms / 1000);
	struct tm tm;
	size_t n, head;
	int r;
	va_list ap;

	if (!hz_log_enabled(level))
		return;
	gmtime_r(&sec, &tm);
	n = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03dZ level=%s event=%s ", (int)(now_ms % 1000),
		     hz_log_level_name(level), event);
	if (r > 0)
		n += (size_t)r;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	head = n;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r;
	else
		n = head - 1;   /* nothing after the event: no trailing space */
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	for (size_t i = head; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = ' ';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to say it */
	}
}
