/*
 * test_loadgen_jt808: the pure parts of hazgate-load jt808
 * (loadgen/ld_jt808_fix.c): a native-JSON fix as a 0x0200 report (read
 * back through the codec), the phone numbers, JT/T 808's retransmission
 * timeouts, the plate in GBK, the mileage step, the coordinates' text.
 * Tables of named cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "loadgen/ld_jt808.h"

#define T0 (1565395200LL * 1000000LL)   /* 2019-08-10T00:00:00Z */

static const struct fix_case {
	const char *name;
	const char *json;
	int want;
	const char *vehicle;
	int32_t lat_e6, lon_e6;
	uint16_t speed_dkmh, direction;
	int16_t alt_m;
	int64_t time_us;
	bool ignition;
	uint8_t sats;
} fix_cases[] = {
	{ "sample_line",
	  "{\"vehicle\":\"\xe6\x99\x8b" "A10001\",\"ts\":\"2019-08-10T00:00:00.000Z\","
	  "\"lat\":37.604999,\"lon\":112.3600398,\"speed_kmh\":30.9,\"heading\":41.4,"
	  "\"hdop\":1.4,\"fix\":3,\"un\":\"1203\",\"seq\":0}",
	  LD_OK, "\xe6\x99\x8b" "A10001", 37604999, 112360040, 309, 41, 0, T0, true, 10 },
	{ "south_west_fraction_dropped_heading_360",
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00.999+08:00\",\"lat\":-33.8688,"
	  "\"lon\":-151.2093,\"heading\":359.6,\"alt_m\":-154,\"sats\":7,\"ignition\":false}",
	  LD_OK, "V", -33868800, -151209300, 0, 0, -154, T0, false, 7 },
	{ "no_speed_no_heading", "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T00:00:01Z\","
	  "\"lat\":0,\"lon\":0}", LD_OK, "V", 0, 0, 0, 0, 0, T0 + 1000000, true, 10 },
	{ "not_json", "{\"vehicle\":", LD_ERR_DATA, NULL, 0, 0, 0, 0, 0, 0, false, 0 },
	{ "no_lat", "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T00:00:01Z\",\"lon\":1}",
	  LD_ERR_DATA, NULL, 0, 0, 0, 0, 0, 0, false, 0 },
	{ "lat_range", "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T00:00:01Z\",\"lat\":97.5,"
	  "\"lon\":1}", LD_ERR_DATA, NULL, 0, 0, 0, 0, 0, 0, false, 0 },
	{ "lat_string", "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T00:00:01Z\",\"lat\":\"1\","
	  "\"lon\":1}", LD_ERR_DATA, NULL, 0, 0, 0, 0, 0, 0, false, 0 },
	{ "bad_time", "{\"vehicle\":\"V\",\"ts\":\"yesterday\",\"lat\":1,\"lon\":1}",
	  LD_ERR_DATA, NULL, 0, 0, 0, 0, 0, 0, false, 0 },
	{ "no_vehicle", "{\"ts\":\"2019-08-10T00:00:01Z\",\"lat\":1,\"lon\":1}",
	  LD_ERR_DATA, NULL, 0, 0, 0, 0, 0, 0, false, 0 },
	{ "speed_over_a_word", "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T00:00:01Z\","
	  "\"lat\":1,\"lon\":1,\"speed_kmh\":7000}", LD_ERR_DATA, NULL, 0, 0, 0, 0, 0, 0,
	  false, 0 },
};

static void
test_fix_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fix_cases) / sizeof(fix_cases[0]); i++) {
		const struct fix_case *c = &fix_cases[i];
		char vehicle[64];
		struct jt_location loc, back;
		uint8_t body[JT_BODY_MAX];
		size_t n;
		int rc = ld_jt_fix_parse(c->json, strlen(c->json), vehicle, sizeof(vehicle),
		                         &loc);

		if (rc != c->want)
			fail_msg("%s: got %d, want %d", c->name, rc, c->want);
		if (rc != LD_OK)
			continue;
		/* through the wire form and back, as the platform reads it */
		assert_int_equal(jt_location_encode(&loc, body, sizeof(body), &n), JT_OK);
		assert_int_equal(jt_location_body_decode(body, n, &back), JT_OK);
		assert_string_equal(vehicle, c->vehicle);
		assert_int_equal(back.lat_e6, c->lat_e6);
		assert_int_equal(back.lon_e6, c->lon_e6);
		assert_int_equal(back.speed_dkmh, c->speed_dkmh);
		assert_int_equal(back.direction, c->direction);
		assert_int_equal(back.alt_m, c->alt_m);
		assert_int_equal(back.time_us, c->time_us);
		assert_int_equal(back.ignition, c->ignition);
		assert_true(back.positioned);
		assert_int_equal(back.sats, c->sats);
		assert_int_equal(back.present, JT_HAS_SATS);
	}
}

static void
test_fix_vehicle_too_long(void **state)
{
	const char *j = "{\"vehicle\":\"ABCDEFGH\",\"ts\":\"2019-08-10T00:00:01Z\","
	                "\"lat\":1,\"lon\":1}";
	char v[9];
	struct jt_location loc;

	(void)state;
	/* 8 bytes of name need 9 with the NUL: a capacity of 8 is refused
	 * (the test once passed 9 for an 8-byte buffer: ASan caught it) */
	assert_int_equal(ld_jt_fix_parse(j, strlen(j), v, sizeof(v) - 1, &loc), LD_ERR_DATA);
	assert_int_equal(ld_jt_fix_parse(j, strlen(j), v, sizeof(v), &loc), LD_OK);
	assert_string_equal(v, "ABCDEFGH");
}

static void
test_phone(void **state)
{
	char p[32];

	(void)state;
	assert_true(ld_jt_phone(13800000000ULL, 0, p, sizeof(p)));
	assert_string_equal(p, "13800000000");
	assert_true(ld_jt_phone(13800000000ULL, 12345, p, sizeof(p)));
	assert_string_equal(p, "13800012345");
	assert_true(ld_jt_phone(1, 0, p, sizeof(p)));
	assert_string_equal(p, "1");
	/* 18446744073709551615 has 20 digits: fits a 2019 phone */
	assert_true(ld_jt_phone(UINT64_MAX - 5, 5, p, sizeof(p)));
	assert_false(ld_jt_phone(UINT64_MAX - 5, 6, p, sizeof(p)));   /* wraps */
	assert_false(ld_jt_phone(1, 0, p, 20));                       /* buffer */
}

static void
test_reply_wait(void **state)
{
	/* JT/T 808: T(n+1) = T(n) * (n+1): T, 2T, 6T, 24T */
	static const struct { int n; int64_t want; } c[] = {
		{ 1, 5000000 }, { 2, 10000000 }, { 3, 30000000 }, { 4, 120000000 },
		{ 5, 600000000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		assert_int_equal(ld_jt_reply_wait_us(5000000, c[i].n), c[i].want);
	assert_true(ld_jt_reply_wait_us(INT64_MAX / 2, 30) > 0);
}

static void
test_plate_gbk(void **state)
{
	iconv_t cd = iconv_open("GBK", "UTF-8");
	uint8_t out[16];
	size_t n;

	(void)state;
	assert_true(cd != (iconv_t)-1);
	/* 晋A10001: 晋 is bd fa in GBK */
	assert_int_equal(ld_jt_plate_gbk(cd, "\xe6\x99\x8b" "A10001", out, sizeof(out), &n),
	                 LD_OK);
	assert_int_equal(n, 8);
	assert_memory_equal(out, "\xbd\xfa" "A10001", 8);
	/* 京 (e4 ba ac) is be a9 */
	assert_int_equal(ld_jt_plate_gbk(cd, "\xe4\xba\xac", out, sizeof(out), &n), LD_OK);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\xbe\xa9", 2);
	/* not UTF-8; too long for the buffer; no GBK form (an emoji) */
	assert_int_equal(ld_jt_plate_gbk(cd, "\xff\xfe", out, sizeof(out), &n), LD_ERR_DATA);
	assert_int_equal(ld_jt_plate_gbk(cd, "\xe6\x99\x8b" "A10001", out, 4, &n), LD_ERR_DATA);
	assert_int_equal(ld_jt_plate_gbk(cd, "\xf0\x9f\x9a\x9a", out, sizeof(out), &n),
	                 LD_ERR_DATA);
	iconv_close(cd);
}

static void
test_step_and_text(void **state)
{
	char b[24];

	(void)state;
	/* 0.01 degree of latitude is 1.11 km: 11 tenths */
	assert_int_equal(ld_jt_step_dkm(37870000, 112550000, 37880000, 112550000), 11);
	assert_int_equal(ld_jt_step_dkm(37870000, 112550000, 37870000, 112550000), 0);
	/* Taiyuan to Beijing, about 404 km */
	assert_in_range(ld_jt_step_dkm(37870000, 112550000, 39904200, 116407400), 4000, 4100);
	ld_jt_e6(-33868800, b, sizeof(b));
	assert_string_equal(b, "-33.868800");
	ld_jt_e6(112360040, b, sizeof(b));
	assert_string_equal(b, "112.360040");
	ld_jt_e6(-5, b, sizeof(b));
	assert_string_equal(b, "-0.000005");
	ld_jt_e6(0, b, sizeof(b));
	assert_string_equal(b, "0.000000");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fix_parse),
		cmocka_unit_test(test_fix_vehicle_too_long),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_reply_wait),
		cmocka_unit_test(test_plate_gbk),
		cmocka_unit_test(test_step_and_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
