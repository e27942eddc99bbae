/*
 * hz_time.h - calendar dates and RFC 3339 times (prefix hz_): the one
 * days-from-civil, the one RFC 3339 parser and the timestamp forms that
 * hazgate writes. The pure modules (geofence/, ingest/) link it, so it is
 * pure too: no statics, no I/O, no clock, locale or TZ reads (no timegm,
 * mktime, strptime). Dates are proleptic Gregorian (Howard Hinnant,
 * "chrono-compatible low-level date algorithms"); times are microseconds
 * since 1970-01-01T00:00:00Z without leap seconds, as POSIX time.
 *
 * The rule for RFC 3339 text (hz_time_parse):
 *   - "YYYY-MM-DD" 'T'|'t'|' ' "hh:mm:ss" [fraction] zone, nothing after
 *     it; years 0000..9999, exactly two digits for every other field.
 *   - The fraction is '.' and one digit or more, any number of them:
 *     digits beyond the microsecond are dropped (truncated, never rounded),
 *     as trackers do send nanoseconds.
 *   - The zone is 'Z', 'z' or +hh:mm / -hh:mm (hh 00..23, mm 00..59).
 *   - Second 60 (a leap second, RFC 3339 section 5.7) is accepted at any
 *     minute and with any offset, and read as the next minute's :00
 *     (POSIX time has no leap seconds).
 *   - Month 01..12, the day must exist in that month, hour 00..23,
 *     minute 00..59; anything else is refused.
 * hz_time_scan is the same parser with the looser forms a person types
 * (hazgate-ctl's "2019-08-10 08:00" in a time zone) behind flags.
 */
#ifndef HAZGATE_HZ_TIME_H
#define HAZGATE_HZ_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The instants RFC 3339 can write: 0000-01-01T00:00:00Z and
 * 9999-12-31T23:59:59.999999Z. */
#define HZ_TIME_MIN_US (-62167219200LL * 1000000)
#define HZ_TIME_MAX_US (253402300799LL * 1000000 + 999999)

/* ---- calendar -------------------------------------------------------- */

/* a / b rounded toward minus infinity (b > 0): the day of a second, the
 * second of a microsecond, before 1970 too. */
int64_t hz_floor_div(int64_t a, int64_t b);

/* Is y a leap year (proleptic Gregorian; y may be zero or negative)? */
bool hz_leap_year(int64_t y);

/* Days in month m (1..12) of year y. */
unsigned hz_days_in_month(int64_t y, unsigned m);

/* Days from 1970-01-01 to the date y-m-d (m 1..12, d 1..31; not checked:
 * 2019-02-30 is 2019-03-02). Exact for any y whose result fits. */
int64_t hz_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The date of day number z (days from 1970-01-01): the inverse of
 * hz_days_from_civil. */
void hz_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* ---- parsing --------------------------------------------------------- */

/* A date-time as written, before any zone is applied. */
struct hz_civil {
	int64_t year;
	unsigned month, day;            /* 1..12, 1..31 */
	unsigned hour, min, sec;        /* 0..23, 0..59, 0..60 */
	uint32_t usec;                  /* fraction, 0..999999 */
	bool zoned;                     /* 'Z' or an offset was given */
	int32_t offset_s;               /* local time - UTC, when zoned */
};

/* Looser forms for hz_time_scan, each off in RFC 3339. */
enum hz_time_flags {
	HZ_TIME_DATE_ONLY = 1u << 0,    /* "YYYY-MM-DD" alone: 00:00:00, no zone */
	HZ_TIME_NO_SECONDS = 1u << 1,   /* "hh:mm" without ":ss" (and so no fraction) */
	HZ_TIME_COMMA = 1u << 2,        /* ',' before the fraction as well (ISO 8601) */
	HZ_TIME_NO_ZONE = 1u << 3,      /* no zone: a local time, zoned false */
};

/*
 * Read the `len` bytes at s (no NUL needed; s may be NULL when len is 0)
 * as a date-time under the rule above, loosened by `flags` (a set of
 * enum hz_time_flags; 0 is RFC 3339). All fields are checked (see the
 * header comment). Returns 0 and *out, or -1 when the text is not such a
 * time (*out is then unspecified).
 */
int hz_time_scan(const char *s, size_t len, unsigned flags, struct hz_civil *out);

/* Microseconds since the epoch of c read as UTC minus c->offset_s (0 when
 * not zoned: the caller applies a local zone itself); second 60 is the
 * next minute's :00. */
int64_t hz_civil_to_us(const struct hz_civil *c);

/*
 * THE RFC 3339 parser: the `len` bytes at s, e.g. "2019-08-10T08:00:00Z",
 * "2019-08-10T16:00:00.123456789+08:00", into microseconds since the epoch
 * (the rule in the header comment). out_us may be NULL (a check only).
 * Returns 0 and *out_us, or -1 (s NULL, or not such a time).
 */
int hz_time_parse(const char *s, size_t len, int64_t *out_us);

/* ---- formatting ------------------------------------------------------ */

/* The timestamp forms hazgate writes, all UTC. */
enum hz_time_style {
	HZ_TIME_MS,     /* "2019-08-10T08:00:00.123Z": alerts, payloads (24 bytes) */
	HZ_TIME_US,     /* "2019-08-10T08:00:00.123456Z" (27 bytes) */
	HZ_TIME_PG,     /* "2019-08-10 08:00:00.123456+00": PostgreSQL
			 * timestamptz text, COPY rows (29 bytes) */
};

/* Room for the longest form and its NUL. */
#define HZ_TIME_FORMAT_SIZE 30

/*
 * Write us (microseconds since the epoch) in `style` and a NUL into buf,
 * which needs the form's length + 1 bytes (25, 28, 30). Fractions are
 * truncated toward the past (-1 us is 1969-12-31T23:59:59.999Z). A year
 * outside 0000..9999 is clamped to it, the rest of the time kept: callers
 * that must not write such a time check HZ_TIME_MIN_US/HZ_TIME_MAX_US
 * first. Returns the length written (24, 27 or 29).
 */
size_t hz_time_format(int64_t us, enum hz_time_style style, char *buf);

#endif
