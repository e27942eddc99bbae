/*
 * test_ctl_archfix.c - ctl/ctl_archfix.c: a decoded fix as the archive
 * record COPY CSV writes for it (retention's archive_cols). Named cases,
 * each with the record PostgreSQL 15 wrote for the same values (COPY
 * (SELECT ...) TO STDOUT WITH (FORMAT csv) at extra_float_digits 1):
 * every field NULL, text COPY quotes (comma, quote, CR, LF, empty) and
 * text it does not, floats at their extremes, -0, NaN and the infinities,
 * zone lists, the bounds of years 1-9999, and the times outside them that
 * are refused (0: the caller falls back to COPY). The byte-for-byte
 * comparison with the server over whole days is
 * tests/integration/46-ctl-retention's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_archfix.h"

/* 2019-08-09T01:00:00Z */
#define T0 (INT64_C(1565312400) * 1000000)

static const uint32_t all_null = CTL_FIX_NULL_SPEED | CTL_FIX_NULL_HEADING | CTL_FIX_NULL_ALT |
				 CTL_FIX_NULL_HDOP | CTL_FIX_NULL_FIX | CTL_FIX_NULL_SATS |
				 CTL_FIX_NULL_SEQ | CTL_FIX_NULL_IGNITION | CTL_FIX_NULL_ZONES |
				 CTL_FIX_NULL_RECEIVED | CTL_FIX_NULL_ALARMS | CTL_FIX_NULL_LAT |
				 CTL_FIX_NULL_LON;

static void
check(const char *vehicle, const struct ctl_fix *x, bool alarms, const char *want)
{
	char *buf = NULL;
	size_t cap = 0;
	long n = ctl_archfix_record(vehicle, x, alarms, &buf, &cap);
	if (!want) {
		assert_int_equal(n, 0);
	} else {
		assert_true(n > 0);
		char *got = strndup(buf, (size_t)n);
		assert_string_equal(got, want);
		free(got);
	}
	free(buf);
}

static void
test_header(void **state)
{
	(void)state;
	assert_string_equal(ctl_archfix_header(true),
			    "vehicle,ts,lat,lon,speed_kmh,heading,alt_m,hdop,fix,sats,un,"
			    "hazard_class,seq,ignition,zone_ids,received_at,alarms\n");
	assert_string_equal(ctl_archfix_header(false),
			    "vehicle,ts,lat,lon,speed_kmh,heading,alt_m,hdop,fix,sats,un,"
			    "hazard_class,seq,ignition,zone_ids,received_at\n");
}

static void
test_nulls(void **state)
{
	(void)state;
	struct ctl_fix x = { .ts_us = T0, .nulls = all_null };
	check("晋A10001", &x, true, "晋A10001,2019-08-09T01:00:00.000000Z,,,,,,,,,,,,,,,\n");
	check("晋A10001", &x, false, "晋A10001,2019-08-09T01:00:00.000000Z,,,,,,,,,,,,,,\n");
}

static void
test_values(void **state)
{
	(void)state;
	static const int32_t z3[] = { 1, 2, 3 }, z2[] = { 0, 3 };
	static const uint8_t zn[] = { 1, 0 };
	struct ctl_fix x = { .ts_us = T0 + 10000001, .lat = 12.345678901, .lon = 179.999999999,
			     .speed = -INFINITY, .heading = 3.4028235e38f, .alt = 1.17549435e-38f,
			     .hdop = 0.1f, .fix = 3, .sats = 12, .un = "", .hc = "line\nbreak",
			     .seq = INT64_C(9000000000000000000), .ignition = true, .zones = z3,
			     .nzones = 3, .received_us = T0 + 10500000, .alarms = 0 };
	check("X,\"odd", &x, true,
	      "\"X,\"\"odd\",2019-08-09T01:00:10.000001Z,12.345678901,179.999999999,-Infinity,"
	      "3.4028235e+38,1.1754944e-38,0.1,3,12,\"\",\"line\nbreak\",9000000000000000000,t,"
	      "\"{1,2,3}\",2019-08-09T01:00:10.500000Z,0\n");
	struct ctl_fix y = { .ts_us = T0, .lat = 1e-300, .lon = -0.0, .speed = 1e-40f,
			     .heading = -0.0f, .alt = NAN, .hdop = 3.4e38f, .fix = -1, .sats = -2,
			     .un = "a\r\"", .hc = ",", .seq = INT64_MIN, .ignition = false,
			     .zones = z2, .znull = zn, .nzones = 2, .received_us = T0 + 1,
			     .alarms = INT32_MIN };
	check("晋A10005", &y, true,
	      "晋A10005,2019-08-09T01:00:00.000000Z,1e-300,-0,1e-40,-0,NaN,3.4e+38,-1,-2,"
	      "\"a\r\"\"\",\",\",-9223372036854775808,f,\"{NULL,3}\","
	      "2019-08-09T01:00:00.000001Z,-2147483648\n");
	struct ctl_fix z = { .ts_us = T0, .lat = 37.5, .lon = 112.5, .speed = INFINITY,
			     .heading = 359.99f, .alt = -400.25f, .hdop = 99.9f, .un = "UN 1203",
			     .hc = "2.1", .zones = z3, .nzones = 1, .received_us = T0,
			     .nulls = CTL_FIX_NULL_FIX | CTL_FIX_NULL_SATS | CTL_FIX_NULL_SEQ |
				      CTL_FIX_NULL_IGNITION | CTL_FIX_NULL_ALARMS };
	check("a b", &z, true,
	      "a b,2019-08-09T01:00:00.000000Z,37.5,112.5,Infinity,359.99,-400.25,99.9,,,"
	      "UN 1203,2.1,,,{1},2019-08-09T01:00:00.000000Z,\n");
	z.nzones = 0;
	z.nulls = all_null & ~(CTL_FIX_NULL_ZONES | CTL_FIX_NULL_LAT | CTL_FIX_NULL_LON);
	check("a", &z, false, "a,2019-08-09T01:00:00.000000Z,37.5,112.5,,,,,,,UN 1203,2.1,,,{},\n");
}

static void
test_years(void **state)
{
	(void)state;
	struct ctl_fix x = { .nulls = all_null };
	x.ts_us = INT64_C(-62135596800) * 1000000; /* 0001-01-01 */
	check("v", &x, false, "v,0001-01-01T00:00:00.000000Z,,,,,,,,,,,,,,\n");
	x.ts_us = INT64_C(253402300800) * 1000000 - 1; /* the last of 9999 */
	check("v", &x, false, "v,9999-12-31T23:59:59.999999Z,,,,,,,,,,,,,,\n");
	x.ts_us = INT64_C(-62135596800) * 1000000 - 1;
	check("v", &x, false, NULL);
	x.ts_us = INT64_C(253402300800) * 1000000;
	check("v", &x, false, NULL);
	x.ts_us = T0;
	x.nulls &= ~(uint32_t)CTL_FIX_NULL_RECEIVED;
	x.received_us = INT64_C(253402300800) * 1000000;
	check("v", &x, false, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_nulls),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_years),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
