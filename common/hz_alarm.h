/*
 * hz_alarm.h - the names of a terminal's alarms (prefix hz_alarm_): the
 * bits of JT/T 808's 0x0200 alarm word and the names DESIGN.md
 * "hazgate-jt808" gives them, which telemetry carries as "alarms":[names].
 * ingest/ reads the names into a bit mask (struct ing_fix.alarms), the
 * geofence engine compares masks between fixes and names the bit in its
 * terminal_alarm alerts. One table, so the three agree. Pure: const data.
 *
 * Bits 15-17 are reserved in JT/T 808-2013 and -2019 and have no name.
 */
#ifndef HAZGATE_HZ_ALARM_H
#define HAZGATE_HZ_ALARM_H

#include <stddef.h>
#include <stdint.h>

#define HZ_ALARM_BITS 32

/* Bits whose alarm is a danger to life (DESIGN.md "Rules beyond
 * geometry": sos, collision, rollover): terminal_alarm is critical. */
#define HZ_ALARM_CRITICAL ((1u << 0) | (1u << 29) | (1u << 30))

/* The name of alarm bit `bit` ("sos" for 0), or NULL for a reserved bit
 * or one beyond 31. */
const char *hz_alarm_name(unsigned bit);

/* The bit named by the `len` bytes at `name` (exact, lower case), or -1
 * when no alarm has that name. */
int hz_alarm_bit(const char *name, size_t len);

#endif
