/*
 * hz_clock.h - the clocks every program of hazgate reads (prefix hz_):
 * the wall clock for timestamps and the monotonic clock for intervals.
 * The pure modules (geofence/, ingest/) never call these: time comes in
 * with the fix.
 */
#ifndef HAZGATE_HZ_CLOCK_H
#define HAZGATE_HZ_CLOCK_H

#include <stdint.h>

/* Microseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t hz_now_us(void);

/* Microseconds on CLOCK_MONOTONIC: for intervals and deadlines; never
 * steps with the wall clock. */
int64_t hz_mono_us(void);

#endif
