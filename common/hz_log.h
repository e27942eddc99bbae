/*
 * hz_log.h - the one logger of hazgate's programs (prefix hz_log_):
 * key=value lines on stderr, with a level.
 *
 *   ts=2026-01-01T00:00:00.000Z level=info event=mqtt_connected host=...
 *
 * The caller names the event and continues the line with its own
 * key=value pairs; values with spaces are quoted by the caller
 * (why="..."). The level below which lines are dropped is process-wide
 * (set once from the configuration's [log] level, and again on a reload).
 */
#ifndef HAZGATE_HZ_LOG_H
#define HAZGATE_HZ_LOG_H

#include <stdbool.h>

enum hz_log_level { HZ_LOG_DEBUG = 0, HZ_LOG_INFO, HZ_LOG_WARN, HZ_LOG_ERROR };

/* "debug", "info", "warn", "error", then NULL: the names a configuration
 * file gives [log] level, indexed by enum hz_log_level. */
extern const char *const hz_log_level_names[];

/* The name of a level ("unknown" for a value outside the enum). */
const char *hz_log_level_name(enum hz_log_level level);

/* Lines below LEVEL are dropped from now on (the default is HZ_LOG_INFO). */
void hz_log_set_level(enum hz_log_level level);

/* Whether a line at LEVEL would be written: for a caller that would
 * otherwise format costly values for nothing. */
bool hz_log_enabled(enum hz_log_level level);

/*
 * One line "ts=... level=... event=EVENT <fmt...>" on stderr, written with
 * one write(2) so that lines never interleave. FMT continues the line with
 * key=value pairs (an empty result adds nothing, not even the space).
 * Control characters in it (tabs, newlines, DEL) are written as spaces.
 * A line longer than 2 KiB is cut. Never fails: when stderr cannot be
 * written there is nowhere left to say so.
 */
void hz_log(enum hz_log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
