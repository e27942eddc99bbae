/*
 * gw_log.h - the daemon's log (gw_log.c): "ts=... level=... event=...
 * key=value" lines on stderr, one write(2) each.
 */
#ifndef HAZGATE_GW_LOG_H
#define HAZGATE_GW_LOG_H

#include <stdbool.h>

#include "gateway/gw_config.h"

/* Messages below this level are dropped; set from [log] level. */
void gw_log_set_level(enum gw_log_level level);
bool gw_log_enabled(enum gw_log_level level);

/* One line "ts=... level=... event=EVENT <fmt...>" on stderr, written with
 * one write(2). fmt continues the line with key=value pairs. */
void gw_log(enum gw_log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
