/*
 * test_common.c - common/: the calendar, THE RFC 3339 parser (and its
 * looser forms for people), the timestamp forms, and the CRC-32.
 *
 * One named test point per table row. The parser's edges: leap days and
 * seconds, fractions of any length, offsets, and text that is not a time.
 * The calendar: every day of +-8,000 years against a day-by-day walk. The
 * CRC: the published check values, and the bitwise CRC that geofence had
 * before issue 10 over random data (state blobs stay readable; the blob
 * test of test_geofence holds one saved by that code).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/hz_crc32.h"
#include "common/hz_hash.h"
#include "common/hz_file.h"
#include "common/hz_time.h"
#include "tests/unit/rows.h"

#define S(x) ((int64_t)(x) * 1000000)

/* 2019-08-10T08:00:00Z */
#define T8 S(1565424000)

/* ---- hz_time_parse ---------------------------------------------------- */

struct parse_case {
	const char *name;
	const char *text;
	int rc;                 /* 0 or -1 */
	int64_t us;
};

static const struct parse_case parse_cases[] = {
	{ "utc", "2019-08-10T08:00:00Z", 0, T8 },
	{ "lower_t_z", "2019-08-10t08:00:00z", 0, T8 },
	{ "space", "2019-08-10 08:00:00Z", 0, T8 },
	{ "offset_plus8", "2019-08-10T16:00:00+08:00", 0, T8 },
	{ "offset_minus0530", "2019-08-10T02:30:00-05:30", 0, T8 },
	{ "offset_minus0", "2019-08-10T08:00:00-00:00", 0, T8 },
	{ "offset_max", "2019-08-11T07:59:00+23:59", 0, T8 },
	{ "offset_min", "2019-08-09T08:01:00-23:59", 0, T8 },
	{ "offset_crosses_year", "2019-12-31T23:30:00-05:00", 0, S(1577853000) },
	{ "fraction_1", "2019-08-10T08:00:00.1Z", 0, T8 + 100000 },
	{ "fraction_3", "2019-08-10T08:00:00.123Z", 0, T8 + 123000 },
	{ "fraction_6", "2019-08-10T08:00:00.123456Z", 0, T8 + 123456 },
	{ "fraction_7_truncated", "2019-08-10T08:00:00.1234569Z", 0, T8 + 123456 },
	{ "fraction_9_nanos", "2019-08-10T08:00:00.123456789Z", 0, T8 + 123456 },
	{ "fraction_20", "2019-08-10T08:00:00.99999999999999999999Z", 0, T8 + 999999 },
	{ "fraction_zeros", "2019-08-10T08:00:00.000000000Z", 0, T8 },
	{ "fraction_offset", "2019-08-10T16:00:00.5+08:00", 0, T8 + 500000 },
	{ "leap_second", "2016-12-31T23:59:60Z", 0, S(1483228800) },
	{ "leap_second_fraction", "2016-12-31T23:59:60.999Z", 0, S(1483228800) + 999000 },
	{ "leap_second_offset", "2017-01-01T07:59:60+08:00", 0, S(1483228800) },
	{ "leap_second_any_minute", "2019-08-10T07:59:60Z", 0, T8 },
	{ "epoch", "1970-01-01T00:00:00Z", 0, 0 },
	{ "before_epoch", "1969-12-31T23:59:59Z", 0, S(-1) },
	{ "before_epoch_fraction", "1969-12-31T23:59:59.5Z", 0, -500000 },
	{ "year_0000", "0000-01-01T00:00:00Z", 0, HZ_TIME_MIN_US },
	{ "year_0000_leap_day", "0000-02-29T00:00:00Z", 0, S(-62167219200LL + 59 * 86400) },
	{ "year_9999", "9999-12-31T23:59:59.999999Z", 0, HZ_TIME_MAX_US },
	{ "leap_day_2000", "2000-02-29T00:00:00Z", 0, S(951782400) },
	{ "leap_day_2020", "2020-02-29T12:00:00Z", 0, S(1582977600) },
	{ "not_leap_1900", "1900-02-29T00:00:00Z", -1, 0 },
	{ "not_leap_2100", "2100-02-29T00:00:00Z", -1, 0 },
	{ "not_leap_2019", "2019-02-29T00:00:00Z", -1, 0 },
	{ "april_31", "2019-04-31T00:00:00Z", -1, 0 },
	{ "month_00", "2019-00-10T00:00:00Z", -1, 0 },
	{ "month_13", "2019-13-10T00:00:00Z", -1, 0 },
	{ "day_00", "2019-08-00T00:00:00Z", -1, 0 },
	{ "day_32", "2019-08-32T00:00:00Z", -1, 0 },
	{ "hour_24", "2019-08-10T24:00:00Z", -1, 0 },
	{ "minute_60", "2019-08-10T08:60:00Z", -1, 0 },
	{ "second_61", "2019-08-10T08:00:61Z", -1, 0 },
	{ "offset_hour_24", "2019-08-10T08:00:00+24:00", -1, 0 },
	{ "offset_minute_60", "2019-08-10T08:00:00+08:60", -1, 0 },
	{ "offset_no_colon", "2019-08-10T08:00:00+0800", -1, 0 },
	{ "offset_hours_only", "2019-08-10T08:00:00+08", -1, 0 },
	{ "offset_sign_only", "2019-08-10T08:00:00+", -1, 0 },
	{ "zone_twice", "2019-08-10T08:00:00Z+08:00", -1, 0 },
	{ "no_zone", "2019-08-10T08:00:00", -1, 0 },
	{ "date_only", "2019-08-10", -1, 0 },
	{ "no_seconds", "2019-08-10T08:00Z", -1, 0 },
	{ "comma_fraction", "2019-08-10T08:00:00,5Z", -1, 0 },
	{ "empty_fraction", "2019-08-10T08:00:00.Z", -1, 0 },
	{ "one_digit_month", "2019-8-10T08:00:00Z", -1, 0 },
	{ "two_digit_year", "19-08-10T08:00:00Z", -1, 0 },
	{ "five_digit_year", "20190-08-10T08:00:00Z", -1, 0 },
	{ "signed_year", "+2019-08-10T08:00:00Z", -1, 0 },
	{ "bad_separator", "2019-08-10X08:00:00Z", -1, 0 },
	{ "leading_space", " 2019-08-10T08:00:00Z", -1, 0 },
	{ "trailing_space", "2019-08-10T08:00:00Z ", -1, 0 },
	{ "trailing_junk", "2019-08-10T08:00:00Zx", -1, 0 },
	{ "digit_letter", "2019-08-1OT08:00:00Z", -1, 0 },
	{ "empty", "", -1, 0 },
};

static void
test_parse_table(void **state)
{
	const struct parse_case *c = *state;
	int64_t us = -42;
	int rc = hz_time_parse(c->text, strlen(c->text), &us);

	if (rc != c->rc || (rc == 0 && us != c->us))
		fail_msg("%s: rc %d us %lld, want rc %d us %lld", c->text, rc,
			 (long long)us, c->rc, (long long)c->us);
	/* The same answer without a place to put it. */
	assert_int_equal(hz_time_parse(c->text, strlen(c->text), NULL), c->rc);
}

static void
test_parse_bounds(void **state)
{
	int64_t us = 0;

	(void)state;
	/* The length, not a NUL, ends the text. */
	assert_int_equal(hz_time_parse("2019-08-10T08:00:00Zjunk", 20, &us), 0);
	assert_true(us == T8);
	assert_int_equal(hz_time_parse("2019-08-10T08:00:00Z", 19, &us), -1);
	assert_int_equal(hz_time_parse("2019-08-10T08:00:00.5Z", 21, &us), -1);
	assert_int_equal(hz_time_parse(NULL, 0, &us), -1);
	assert_int_equal(hz_time_parse(NULL, 20, &us), -1);
	/* A NUL inside the text is not a digit. */
	assert_int_equal(hz_time_parse("2019-08-10T08:00:00\0Z", 21, &us), -1);
}

/* ---- hz_time_scan: the looser forms people type (hazgate-ctl) ---------- */

#define HUMAN (HZ_TIME_DATE_ONLY | HZ_TIME_NO_SECONDS | HZ_TIME_COMMA | HZ_TIME_NO_ZONE)

struct scan_case {
	const char *name;
	const char *text;
	unsigned flags;
	int rc;
	/* when rc is 0: */
	const char *fields;     /* "Y-M-D h:m:s.usec" as read */
	int zoned;
	int32_t offset_s;
};

static const struct scan_case scan_cases[] = {
	{ "rfc3339_flags_0", "2019-08-10T16:00:00.25+08:00", 0, 0,
	  "2019-8-10 16:0:0.250000", 1, 28800 },
	{ "date_only", "2019-08-10", HUMAN, 0, "2019-8-10 0:0:0.000000", 0, 0 },
	{ "date_only_needs_flag", "2019-08-10", HUMAN & ~HZ_TIME_DATE_ONLY, -1, NULL, 0, 0 },
	{ "date_only_no_zone", "2019-08-10Z", HUMAN, -1, NULL, 0, 0 },
	{ "no_seconds_local", "2019-08-10 16:00", HUMAN, 0, "2019-8-10 16:0:0.000000", 0, 0 },
	{ "no_seconds_utc", "2019-08-10T08:00Z", HUMAN, 0, "2019-8-10 8:0:0.000000", 1, 0 },
	{ "no_seconds_needs_flag", "2019-08-10 16:00", HZ_TIME_NO_ZONE, -1, NULL, 0, 0 },
	{ "seconds_local", "2019-08-10 16:00:30", HUMAN, 0, "2019-8-10 16:0:30.000000", 0, 0 },
	{ "leap_second_local", "2016-12-31 23:59:60", HUMAN, 0, "2016-12-31 23:59:60.000000", 0, 0 },
	{ "comma_fraction", "2019-08-10 16:00:30,5", HUMAN, 0, "2019-8-10 16:0:30.500000", 0, 0 },
	{ "comma_needs_flag", "2019-08-10 16:00:30,5", HZ_TIME_NO_ZONE, -1, NULL, 0, 0 },
	{ "fraction_needs_seconds", "2019-08-10 16:00.5", HUMAN, -1, NULL, 0, 0 },
	{ "no_zone_needs_flag", "2019-08-10 16:00:30", HZ_TIME_NO_SECONDS, -1, NULL, 0, 0 },
	{ "offset_minus", "2019-08-10 03:00-05:00", HUMAN, 0, "2019-8-10 3:0:0.000000", 1, -18000 },
	{ "space_before_offset", "2019-08-10 08:00 +08:00", HUMAN, -1, NULL, 0, 0 },
	{ "sign_only", "2019-08-10 08:00+", HUMAN, -1, NULL, 0, 0 },
	{ "hour_only", "2019-08-10T08", HUMAN, -1, NULL, 0, 0 },
	{ "hour_24", "2019-08-10 24:00", HUMAN, -1, NULL, 0, 0 },
	{ "minute_60", "2019-08-10 08:60", HUMAN, -1, NULL, 0, 0 },
	{ "month_13", "2019-13-01 08:00", HUMAN, -1, NULL, 0, 0 },
	{ "not_leap", "2019-02-29 08:00", HUMAN, -1, NULL, 0, 0 },
	{ "us_order", "10/08/2019", HUMAN, -1, NULL, 0, 0 },
	{ "word", "tomorrow", HUMAN, -1, NULL, 0, 0 },
	{ "empty", "", HUMAN, -1, NULL, 0, 0 },
};

static void
test_scan_table(void **state)
{
	const struct scan_case *c = *state;
	struct hz_civil cv;
	char got[64];
	int rc = hz_time_scan(c->text, strlen(c->text), c->flags, &cv);

	if (rc != c->rc)
		fail_msg("%s: rc %d, want %d", c->text, rc, c->rc);
	if (rc != 0)
		return;
	snprintf(got, sizeof got, "%lld-%u-%u %u:%u:%u.%06u", (long long)cv.year,
		 cv.month, cv.day, cv.hour, cv.min, cv.sec, (unsigned)cv.usec);
	assert_string_equal(got, c->fields);
	assert_int_equal(cv.zoned, c->zoned);
	if (c->zoned)
		assert_int_equal(cv.offset_s, c->offset_s);
}

static void
test_civil_to_us(void **state)
{
	struct hz_civil c = { .year = 2019, .month = 8, .day = 10, .hour = 16,
			      .zoned = true, .offset_s = 8 * 3600 };

	(void)state;
	assert_true(hz_civil_to_us(&c) == T8);
	/* Not zoned: the fields as UTC, the offset ignored. */
	c.zoned = false;
	assert_true(hz_civil_to_us(&c) == T8 + S(8 * 3600));
	/* Second 60 is the next minute's :00. */
	c = (struct hz_civil){ .year = 2016, .month = 12, .day = 31, .hour = 23,
			       .min = 59, .sec = 60, .usec = 7, .zoned = true };
	assert_true(hz_civil_to_us(&c) == S(1483228800) + 7);
}

/* ---- calendar ----------------------------------------------------------- */

static void
test_leap_years_and_month_lengths(void **state)
{
	static const struct { int64_t y; bool leap; } years[] = {
		{ 2019, false }, { 2020, true }, { 1900, false }, { 2000, true },
		{ 2100, false }, { 2400, true }, { 0, true }, { -1, false },
		{ -4, true }, { -100, false }, { -400, true }, { 9999, false },
	};
	static const unsigned lengths[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	(void)state;
	for (size_t i = 0; i < NROWS(years); i++) {
		if (hz_leap_year(years[i].y) != years[i].leap)
			fail_msg("year %lld", (long long)years[i].y);
		for (unsigned m = 1; m <= 12; m++)
			assert_int_equal(hz_days_in_month(years[i].y, m),
					 lengths[m - 1] + (m == 2 && years[i].leap));
	}
}

static void
test_days_known(void **state)
{
	static const struct { int64_t y; unsigned m, d; int64_t days; } dates[] = {
		{ 1970, 1, 1, 0 }, { 1969, 12, 31, -1 }, { 2000, 3, 1, 11017 },
		{ 2019, 8, 10, 18118 }, { 0, 3, 1, -719468 }, { 0, 1, 1, -719528 },
		{ -1, 12, 31, -719529 }, { 9999, 12, 31, 2932896 },
		{ 1600, 2, 29, -135081 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(dates); i++) {
		int64_t y;
		unsigned m, d;

		if (hz_days_from_civil(dates[i].y, dates[i].m, dates[i].d) != dates[i].days)
			fail_msg("%lld-%u-%u: %lld", (long long)dates[i].y, dates[i].m,
				 dates[i].d, (long long)hz_days_from_civil(dates[i].y,
				 dates[i].m, dates[i].d));
		hz_civil_from_days(dates[i].days, &y, &m, &d);
		assert_true(y == dates[i].y);
		assert_int_equal(m, dates[i].m);
		assert_int_equal(d, dates[i].d);
	}
}

/* Every day from about 6000 BC to 10000 AD, walked one day at a time from
 * 1970-01-01 in both directions with hz_days_in_month: both directions of
 * the conversion agree with the walk. */
static void
test_days_round_trip_walk(void **state)
{
	const int64_t span = 2960000;   /* days each way, ~8100 years */

	(void)state;
	for (int dir = 1; dir >= -1; dir -= 2) {
		int64_t y = 1970;
		unsigned m = 1, d = 1;

		for (int64_t z = 0; z != dir * span; z += dir) {
			int64_t gy;
			unsigned gm, gd;

			if (hz_days_from_civil(y, m, d) != z)
				fail_msg("%lld-%u-%u is not day %lld", (long long)y, m, d,
					 (long long)z);
			hz_civil_from_days(z, &gy, &gm, &gd);
			if (gy != y || gm != m || gd != d)
				fail_msg("day %lld: %lld-%u-%u, want %lld-%u-%u", (long long)z,
					 (long long)gy, gm, gd, (long long)y, m, d);
			if (dir > 0 && ++d > hz_days_in_month(y, m)) {
				d = 1;
				if (++m > 12) {
					m = 1;
					y++;
				}
			} else if (dir < 0 && --d == 0) {
				if (--m == 0) {
					m = 12;
					y--;
				}
				d = hz_days_in_month(y, m);
			}
		}
	}
}

static void
test_floor_div(void **state)
{
	(void)state;
	assert_true(hz_floor_div(0, 1000) == 0);
	assert_true(hz_floor_div(999, 1000) == 0);
	assert_true(hz_floor_div(1000, 1000) == 1);
	assert_true(hz_floor_div(-1, 1000) == -1);
	assert_true(hz_floor_div(-1000, 1000) == -1);
	assert_true(hz_floor_div(-1001, 1000) == -2);
	assert_true(hz_floor_div(INT64_MIN, 1) == INT64_MIN);
	assert_true(hz_floor_div(INT64_MIN, 1000000) == -9223372036855LL);
	assert_true(hz_floor_div(INT64_MAX, 1000000) == 9223372036854LL);
}

/* ---- hz_time_format ------------------------------------------------------ */

struct format_case {
	const char *name;
	int64_t us;
	enum hz_time_style style;
	const char *text;
};

static const struct format_case format_cases[] = {
	{ "epoch_ms", 0, HZ_TIME_MS, "1970-01-01T00:00:00.000Z" },
	{ "epoch_us", 0, HZ_TIME_US, "1970-01-01T00:00:00.000000Z" },
	{ "epoch_pg", 0, HZ_TIME_PG, "1970-01-01 00:00:00.000000+00" },
	{ "ms_truncated", T8 + 123999, HZ_TIME_MS, "2019-08-10T08:00:00.123Z" },
	{ "us", T8 + 123456, HZ_TIME_US, "2019-08-10T08:00:00.123456Z" },
	{ "pg", T8 + 123456, HZ_TIME_PG, "2019-08-10 08:00:00.123456+00" },
	{ "minus_1us_ms", -1, HZ_TIME_MS, "1969-12-31T23:59:59.999Z" },
	{ "minus_1us_us", -1, HZ_TIME_US, "1969-12-31T23:59:59.999999Z" },
	{ "minus_1us_pg", -1, HZ_TIME_PG, "1969-12-31 23:59:59.999999+00" },
	{ "minus_1s", S(-1), HZ_TIME_MS, "1969-12-31T23:59:59.000Z" },
	{ "leap_day", S(951782400), HZ_TIME_PG, "2000-02-29 00:00:00.000000+00" },
	{ "end_of_day", S(951868799) + 999999, HZ_TIME_US, "2000-02-29T23:59:59.999999Z" },
	{ "min", HZ_TIME_MIN_US, HZ_TIME_MS, "0000-01-01T00:00:00.000Z" },
	{ "max", HZ_TIME_MAX_US, HZ_TIME_US, "9999-12-31T23:59:59.999999Z" },
	{ "after_max_year_clamped", HZ_TIME_MAX_US + 1, HZ_TIME_MS, "9999-01-01T00:00:00.000Z" },
	{ "before_min_year_clamped", HZ_TIME_MIN_US - 1, HZ_TIME_MS, "0000-12-31T23:59:59.999Z" },
};

static void
test_format_table(void **state)
{
	const struct format_case *c = *state;
	char buf[HZ_TIME_FORMAT_SIZE + 8];
	size_t n;

	memset(buf, '#', sizeof buf);
	n = hz_time_format(c->us, c->style, buf);
	assert_string_equal(buf, c->text);
	assert_int_equal(n, strlen(c->text));
	assert_int_equal(n + 1, c->style == HZ_TIME_MS ? 25 : c->style == HZ_TIME_US ? 28 : 30);
	assert_true(buf[n + 1] == '#');         /* nothing written after the NUL */
}

/* The extremes of int64 are written without overflow, year clamped. */
static void
test_format_extremes(void **state)
{
	char buf[HZ_TIME_FORMAT_SIZE];

	(void)state;
	assert_int_equal(hz_time_format(INT64_MIN, HZ_TIME_PG, buf), 29);
	assert_true(strncmp(buf, "0000-", 5) == 0);
	assert_int_equal(hz_time_format(INT64_MAX, HZ_TIME_US, buf), 27);
	assert_true(strncmp(buf, "9999-", 5) == 0);
}

/* Format then parse gives the time back, over the whole range. */
static void
test_format_parse_round_trip(void **state)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	const uint64_t range = (uint64_t)(HZ_TIME_MAX_US - HZ_TIME_MIN_US) + 1;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		char buf[HZ_TIME_FORMAT_SIZE];
		int64_t us, back;
		size_t n;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		us = HZ_TIME_MIN_US + (int64_t)(x % range);
		n = hz_time_format(us, i % 2 ? HZ_TIME_US : HZ_TIME_MS, buf);
		assert_int_equal(hz_time_parse(buf, n, &back), 0);
		if (back != (i % 2 ? us : hz_floor_div(us, 1000) * 1000))
			fail_msg("%lld -> %s -> %lld", (long long)us, buf, (long long)back);
	}
}

/* ---- hz_crc32 ------------------------------------------------------------ */

struct crc_case {
	const char *name;
	const char *data;
	uint32_t crc;
};

static const struct crc_case crc_cases[] = {
	{ "empty", "", 0x00000000u },
	{ "a", "a", 0xe8b7be43u },
	{ "check_123456789", "123456789", 0xcbf43926u },
	{ "quick_brown_fox", "The quick brown fox jumps over the lazy dog", 0x414fa339u },
	{ "hgvs", "HGVS", 0x14b2ce17u },
};

static void
test_crc_table(void **state)
{
	const struct crc_case *c = *state;
	size_t n = strlen(c->data);
	uint32_t got = hz_crc32(0, c->data, n);

	if (got != c->crc)
		fail_msg("%s: %08x, want %08x", c->name, got, c->crc);
	/* In two pieces, at every cut. */
	for (size_t cut = 0; cut <= n; cut++)
		assert_int_equal(hz_crc32(hz_crc32(0, c->data, cut), c->data + cut, n - cut),
				 c->crc);
}

/* geofence's CRC before issue 10, bit by bit: the reference. */
static uint32_t
crc32_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void
test_crc_matches_bitwise(void **state)
{
	static uint8_t data[4099];
	uint64_t x = 42;

	(void)state;
	for (size_t i = 0; i < sizeof data; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		data[i] = (uint8_t)(x >> 56);
	}
	/* Every length up to 300, then longer ones, at unaligned starts. */
	for (size_t n = 0; n < sizeof data - 3; n += n < 300 ? 1 : 97)
		for (size_t off = 0; off < 4; off++)
			assert_int_equal(hz_crc32(0, data + off, n), crc32_bitwise(data + off, n));
	assert_int_equal(hz_crc32(0x12345678u, NULL, 0), 0x12345678u);
}

/* ---- hz_hash: the FNV-1a reference vectors (draft-eastlake-fnv), and a
 * plate in UTF-8 as the other programs hash vehicle names. ----------------- */
static void
test_fnv1a_vectors(void **state)
{
	static const struct {
		const char *s;
		uint32_t h32;
		uint64_t h64;
	} v[] = {
		{ "", 0x811c9dc5u, 0xcbf29ce484222325ull },
		{ "a", 0xe40c292cu, 0xaf63dc4c8601ec8cull },
		{ "foobar", 0xbf9cf968u, 0x85944171f73967e8ull },
		{ "\xe6\x99\x8b" "A10001", 0x56210b70u, 0xb248ff2210c80650ull },
	};

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t n = strlen(v[i].s);

		if (hz_fnv1a32(v[i].s, n) != v[i].h32)
			fail_msg("fnv1a32(\"%s\") = %08x, want %08x", v[i].s,
				 hz_fnv1a32(v[i].s, n), v[i].h32);
		assert_true(hz_fnv1a64(v[i].s, n) == v[i].h64);
		assert_true(hz_fnv1a64_str(v[i].s) == v[i].h64);
	}
	assert_true(hz_fnv1a32(NULL, 0) == HZ_FNV32_OFFSET);
	assert_true(hz_fnv1a64(NULL, 0) == HZ_FNV64_OFFSET);
}

/* hz_file_read: bytes as they are (a NUL inside too), a NUL after the
 * end, an empty file, a file larger than the first buffer, a missing one. */
static void
test_file_read(void **state)
{
	char path[] = "/tmp/hazgate-hzfile-XXXXXX";
	static const char small[] = { 'a', 0, 'b', '\n' };
	size_t big = 200000, len = 1;
	char *p, *buf = malloc(big);
	int fd = mkstemp(path);
	FILE *fp;

	(void)state;
	assert_non_null(buf);
	assert_true(fd >= 0);
	close(fd);
	p = hz_file_read(path, &len);
	assert_non_null(p);
	assert_int_equal(len, 0);
	assert_int_equal(p[0], '\0');
	free(p);

	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(small, 1, sizeof small, fp), sizeof small);
	fclose(fp);
	p = hz_file_read(path, &len);
	assert_non_null(p);
	assert_int_equal(len, sizeof small);
	assert_memory_equal(p, small, sizeof small);
	assert_int_equal(p[len], '\0');
	free(p);

	for (size_t i = 0; i < big; i++)
		buf[i] = (char)('a' + i % 26);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, big, fp), big);
	fclose(fp);
	p = hz_file_read(path, &len);
	assert_non_null(p);
	assert_int_equal(len, big);
	assert_memory_equal(p, buf, big);
	free(p);

	unlink(path);
	errno = 0;
	assert_null(hz_file_read(path, &len));
	assert_int_equal(errno, ENOENT);
	free(buf);
}

int
main(void)
{
	/* One named test point per table row. */
	static struct CMUnitTest tests[256];
	size_t n = 0;

	ROWS(parse_cases, test_parse_table);
	ONE(test_parse_bounds);
	ROWS(scan_cases, test_scan_table);
	ONE(test_civil_to_us);
	ONE(test_leap_years_and_month_lengths);
	ONE(test_days_known);
	ONE(test_days_round_trip_walk);
	ONE(test_floor_div);
	ROWS(format_cases, test_format_table);
	ONE(test_format_extremes);
	ONE(test_format_parse_round_trip);
	ROWS(crc_cases, test_crc_table);
	ONE(test_crc_matches_bitwise);
	ONE(test_fnv1a_vectors);
	ONE(test_file_read);
	assert(n <= NROWS(tests));
	return _cmocka_run_group_tests("common", tests, n, NULL, NULL);
}
