/*
 * test_jt808_term: the terminal's side of the JT/T 808 codec
 * (jt808/jt_term.c), which hazgate-load's terminal simulator speaks.
 * Tables of named cases: each message the encoders build is framed with
 * jt_encode and compared byte for byte with a frame written in hex from
 * the standard's layout (0x7e, header, body, check code, 0x7e), and read
 * back by the platform's decoders (round trip).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jt808/jt808.h"
#include "tests/unit/unhex.h"

#define PHONE "14450376202"
#define T_2019_08_10_08 (1565424000LL * 1000000LL)  /* 2019-08-10T08:00:00Z */

/* Frame body as message id/serial from PHONE (2013 or 2019) and compare
 * the wire bytes with want (hex). */
static void
assert_frame(const char *name, bool v2019, uint16_t id, uint16_t serial,
             const uint8_t *body, size_t len, const char *want)
{
	struct jt_header h;
	uint8_t got[JT_WIRE_MAX(JT_BODY_MAX)], exp[JT_WIRE_MAX(JT_BODY_MAX)];
	size_t n, k = unhex(want, exp, sizeof(exp));

	assert_int_equal(jt_term_header(PHONE, v2019, &h), JT_OK);
	assert_int_equal(jt_encode(&h, id, serial, body, len, got, sizeof(got), &n),
	                 JT_OK);
	if (n != k || memcmp(got, exp, k) != 0) {
		char hex[2 * sizeof(got) + 1];

		for (size_t i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", got[i]);
		fail_msg("%s: got %s", name, hex);
	}
}

/* Deframe and read the header of one wire frame (hex) into w. */
static void
read_frame(const char *hex, uint8_t *wire, uint8_t *buf, struct jt_msg *m)
{
	struct jt_deframer d;
	size_t n = unhex(hex, wire, JT_WIRE_MAX(JT_BODY_MAX)), used, flen;
	const uint8_t *frame;

	jt_deframer_init(&d, buf, JT_FRAME_MAX, 64);
	assert_int_equal(jt_deframe(&d, wire, n, &used, &frame, &flen), JT_OK);
	assert_int_equal(jt_header_decode(frame, flen, m), JT_OK);
}

/* ---- header ------------------------------------------------------------ */

static const struct {
	const char *name;
	const char *phone;
	bool v2019;
	enum jt_err want;
	const char *digits;
} header_cases[] = {
	{ "eleven_digits_2013", PHONE, false, JT_OK, "014450376202" },
	{ "twelve_digits_2013", "014450376202", false, JT_OK, "014450376202" },
	{ "eleven_digits_2019", PHONE, true, JT_OK, "00000000014450376202" },
	{ "twenty_digits_2019", "12345678901234567890", true, JT_OK,
	  "12345678901234567890" },
	{ "thirteen_digits_2013", "1234567890123", false, JT_E_PHONE, NULL },
	{ "not_digits", "1445037620x", false, JT_E_PHONE, NULL },
	{ "empty", "", true, JT_E_PHONE, NULL },
	{ "null", NULL, false, JT_E_PHONE, NULL },
};

static void
test_header(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
		struct jt_header h;
		enum jt_err e = jt_term_header(header_cases[i].phone,
		                               header_cases[i].v2019, &h);

		if (e != header_cases[i].want)
			fail_msg("%s: got %s", header_cases[i].name, jt_strerror(e));
		if (e != JT_OK)
			continue;
		assert_string_equal(h.phone, header_cases[i].digits);
		assert_int_equal(h.v2019, header_cases[i].v2019);
		assert_int_equal(h.version, header_cases[i].v2019 ? 1 : 0);
		assert_int_equal(h.phone_bytes, header_cases[i].v2019 ? 10 : 6);
	}
}

/* ---- 0x0200 ------------------------------------------------------------ */

struct loc_case {
	const char *name;
	struct jt_location loc;
	enum jt_err want;
	const char *wire;       /* 2013 frame, serial 1 */
};

static const struct loc_case loc_cases[] = {
	{ "north_east_sos", { .alarm = 1, .lat_e6 = 37870000, .lon_e6 = 112550000,
	  .alt_m = 100, .speed_dkmh = 500, .direction = 90, .time_ok = true,
	  .time_us = T_2019_08_10_08, .positioned = true, .ignition = true },
	  JT_OK, "7e 0200 001c 014450376202 0001"
	  " 00000001 00000003 0241d9b0 06b56070 0064 01f4 005a 190810160000 0a 7e" },
	{ "south_west_sign_bits", { .lat_e6 = -33868800, .lon_e6 = -151209300,
	  .alt_m = 5, .direction = 180, .time_ok = true,
	  .time_us = T_2019_08_10_08 + 999999, .positioned = true }, JT_OK,
	  "7e 0200 001c 014450376202 0001 00000000 0000000e 0204cc00 09034554"
	  " 0005 0000 00b4 190810160000 24 7e" },
	{ "every_item_in_table_order", { .alarm = 1, .lat_e6 = 37870000,
	  .lon_e6 = 112550000, .alt_m = 100, .speed_dkmh = 500, .direction = 90,
	  .time_ok = true, .time_us = T_2019_08_10_08, .positioned = true,
	  .ignition = true, .present = JT_HAS_MILEAGE | JT_HAS_FUEL |
	  JT_HAS_RECORDER_SPEED | JT_HAS_EXT_SIGNALS | JT_HAS_IO | JT_HAS_RSSI |
	  JT_HAS_SATS, .mileage_dkm = 3456, .fuel_dl = 100,
	  .recorder_speed_dkmh = 501, .ext_signals = 3, .io = 1, .rssi = 31,
	  .sats = 12 }, JT_OK,
	  "7e 0200 003a 014450376202 0001 00000001 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 190810160000 01 04 00000d80 02 02 0064 03 02 01f5"
	  " 25 04 00000003 2a 02 0001 30 01 1f 31 01 0c 2c 7e" },
	{ "not_positioned_sos_other_status_bits_kept", { .alarm = 1,
	  .status = 0x0000000e | 0x10, .time_ok = true,
	  .time_us = T_2019_08_10_08, .ignition = true }, JT_OK,
	  "7e 0200 001c 014450376202 0001 00000001 00000011 00000000 00000000"
	  " 0000 0000 0000 190810160000 5a 7e" },
	{ "time_not_ok_passed_through", { .lat_e6 = 37870000, .lon_e6 = 112550000,
	  .alt_m = 100, .speed_dkmh = 500, .direction = 90,
	  .time_bcd = { 0x19, 0x13, 0x10, 0x16, 0x00, 0x00 }, .positioned = true,
	  .ignition = true }, JT_OK,
	  "7e 0200 001c 014450376202 0001 00000000 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 191310160000 10 7e" },
	{ "below_sea_level", { .lat_e6 = 42900000, .lon_e6 = 89200000,
	  .alt_m = -154, .time_ok = true, .time_us = T_2019_08_10_08,
	  .positioned = true, .ignition = true }, JT_OK,
	  "7e 0200 001c 014450376202 0001 00000000 00000003 028e9a20 05511580"
	  " ff66 0000 0000 190810160000 27 7e" },
	{ "year_1999_in_gmt8", { .time_ok = true,
	  .time_us = 946655999LL * 1000000 }, JT_E_TIME, NULL },
	{ "year_2100_in_gmt8", { .time_ok = true,
	  .time_us = 4102415999LL * 1000000 + 8 * 3600000000LL }, JT_E_TIME, NULL },
};

static void
test_location(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(loc_cases) / sizeof(loc_cases[0]); i++) {
		const struct loc_case *c = &loc_cases[i];
		uint8_t body[JT_BODY_MAX];
		struct jt_location back;
		size_t n;
		enum jt_err e = jt_location_encode(&c->loc, body, sizeof(body), &n);

		if (e != c->want)
			fail_msg("%s: got %s", c->name, jt_strerror(e));
		if (e != JT_OK)
			continue;
		assert_frame(c->name, false, JT_MSG_LOCATION, 1, body, n, c->wire);
		/* read back: the same figures */
		assert_int_equal(jt_location_body_decode(body, n, &back), JT_OK);
		assert_int_equal(back.alarm, c->loc.alarm);
		assert_int_equal(back.lat_e6, c->loc.lat_e6);
		assert_int_equal(back.lon_e6, c->loc.lon_e6);
		assert_int_equal(back.alt_m, c->loc.alt_m);
		assert_int_equal(back.speed_dkmh, c->loc.speed_dkmh);
		assert_int_equal(back.direction, c->loc.direction);
		assert_int_equal(back.positioned, c->loc.positioned);
		assert_int_equal(back.ignition, c->loc.ignition);
		assert_int_equal(back.present, c->loc.present);
		assert_int_equal(back.mileage_dkm, c->loc.mileage_dkm);
		assert_int_equal(back.sats, c->loc.sats);
		assert_int_equal(back.rssi, c->loc.rssi);
		assert_int_equal(back.time_ok, c->loc.time_ok);
		if (c->loc.time_ok)
			assert_int_equal(back.time_us,
			                 c->loc.time_us / 1000000 * 1000000);
	}
}

static void
test_location_no_space(void **state)
{
	struct jt_location loc = { .time_ok = true, .time_us = T_2019_08_10_08,
	                           .present = JT_HAS_MILEAGE };
	uint8_t body[64];
	size_t n;

	(void)state;
	assert_int_equal(jt_location_encode(&loc, body, 33, &n), JT_E_NO_SPACE);
	assert_int_equal(jt_location_encode(&loc, body, 34, &n), JT_OK);
	assert_int_equal(n, 34);
}

/* ---- 0x0100 / 0x0102 ---------------------------------------------------- */

/* 晋A12345 in GBK: 晋 is bd fa. */
static const uint8_t plate_gbk[] = { 0xbd, 0xfa, 'A', '1', '2', '3', '4', '5' };

static void
test_register(void **state)
{
	struct jt_register r = { .province = 14, .city = 100,
		.maker = (const uint8_t *)"HZGT1", .maker_len = 5,
		.model = (const uint8_t *)"HG-808-T", .model_len = 8,
		.terminal_id = (const uint8_t *)"T000001", .terminal_id_len = 7,
		.plate_color = 1, .plate = plate_gbk, .plate_len = sizeof(plate_gbk) };
	uint8_t body[JT_BODY_MAX], wire[JT_WIRE_MAX(JT_BODY_MAX)], buf[JT_FRAME_MAX];
	struct jt_register back;
	struct jt_msg m;
	size_t n;

	(void)state;
	assert_int_equal(jt_register_encode(&r, false, body, sizeof(body), &n), JT_OK);
	assert_frame("register_2013", false, JT_MSG_REGISTER, 1, body, n,
	             "7e 0100 002d 014450376202 0001 000e 0064 485a475431"
	             " 48472d3830382d54 000000000000000000000000 54303030303031"
	             " 01 bdfa413132333435 3d 7e");
	assert_int_equal(jt_register_encode(&r, true, body, sizeof(body), &n), JT_OK);
	assert_frame("register_2019", true, JT_MSG_REGISTER, 2, body, n,
	             "7e 0100 4054 01 00000000014450376202 0002 000e 0064"
	             " 485a475431000000000000"
	             " 48472d3830382d54 00000000000000000000000000000000000000000000"
	             " 54303030303031 0000000000000000000000000000000000000000000000"
	             " 01 bdfa413132333435 06 7e");
	/* read back by the platform's decoder */
	read_frame("7e 0100 4054 01 00000000014450376202 0002 000e 0064"
	           " 485a475431000000000000"
	           " 48472d3830382d54 00000000000000000000000000000000000000000000"
	           " 54303030303031 0000000000000000000000000000000000000000000000"
	           " 01 bdfa413132333435 06 7e", wire, buf, &m);
	assert_int_equal(jt_register_decode(&m, &back), JT_OK);
	assert_int_equal(back.model_len, 8);
	assert_int_equal(back.plate_len, sizeof(plate_gbk));
	assert_memory_equal(back.plate, plate_gbk, sizeof(plate_gbk));

	/* a field over its width, a too small buffer */
	r.maker_len = 6;
	r.maker = (const uint8_t *)"HZGT12";
	assert_int_equal(jt_register_encode(&r, false, body, sizeof(body), &n), JT_E_ARG);
	assert_int_equal(jt_register_encode(&r, true, body, sizeof(body), &n), JT_OK);
	assert_int_equal(jt_register_encode(&r, true, body, n - 1, &n), JT_E_NO_SPACE);
	r.plate = NULL;
	assert_int_equal(jt_register_encode(&r, true, body, sizeof(body), &n), JT_E_ARG);
}

static void
test_auth(void **state)
{
	struct jt_auth a = { .code = (const uint8_t *)"abc", .code_len = 3,
		.imei = (const uint8_t *)"861234567890123", .imei_len = 15,
		.sw_version = (const uint8_t *)"v1.0", .sw_version_len = 4 };
	uint8_t body[JT_BODY_MAX], wire[JT_WIRE_MAX(JT_BODY_MAX)], buf[JT_FRAME_MAX];
	struct jt_auth back;
	struct jt_msg m;
	size_t n;

	(void)state;
	assert_int_equal(jt_auth_encode(&a, false, body, sizeof(body), &n), JT_OK);
	assert_frame("auth_2013", false, JT_MSG_AUTH, 3, body, n,
	             "7e 0102 0003 014450376202 0003 616263 21 7e");
	assert_int_equal(jt_auth_encode(&a, true, body, sizeof(body), &n), JT_OK);
	assert_frame("auth_2019", true, JT_MSG_AUTH, 3, body, n,
	             "7e 0102 4027 01 00000000014450376202 0003 03 616263"
	             " 383631323334353637383930313233"
	             " 76312e3000000000000000000000000000000000 21 7e");
	read_frame("7e 0102 4027 01 00000000014450376202 0003 03 616263"
	           " 383631323334353637383930313233"
	           " 76312e3000000000000000000000000000000000 21 7e", wire, buf, &m);
	assert_int_equal(jt_auth_decode(&m, &back), JT_OK);
	assert_int_equal(back.code_len, 3);
	assert_memory_equal(back.code, "abc", 3);
	assert_int_equal(back.sw_version_len, 4);

	a.imei_len = 16;
	assert_int_equal(jt_auth_encode(&a, true, body, sizeof(body), &n), JT_E_ARG);
	assert_int_equal(jt_auth_encode(&a, false, body, 2, &n), JT_E_NO_SPACE);
}

/* ---- 0x0704 ------------------------------------------------------------ */

static void
test_batch(void **state)
{
	struct jt_location locs[40] = {
		{ .lat_e6 = 37870000, .lon_e6 = 112550000, .alt_m = 100,
		  .speed_dkmh = 500, .direction = 90, .time_ok = true,
		  .time_us = T_2019_08_10_08, .positioned = true, .ignition = true },
		{ .lat_e6 = 37871000, .lon_e6 = 112550000, .alt_m = 100,
		  .speed_dkmh = 500, .direction = 90, .time_ok = true,
		  .time_us = T_2019_08_10_08 + 10000000, .positioned = true,
		  .ignition = true },
	};
	uint8_t body[JT_BODY_MAX + 100], wire[JT_WIRE_MAX(JT_BODY_MAX)], buf[JT_FRAME_MAX];
	struct jt_location back;
	struct jt_batch b;
	struct jt_msg m;
	const uint8_t *item;
	size_t n, k;

	(void)state;
	assert_int_equal(jt_batch_encode(1, locs, 2, body, sizeof(body), &n), JT_OK);
	assert_frame("batch_blind_2013", false, JT_MSG_BATCH, 4, body, n,
	             "7e 0704 003f 014450376202 0004 0002 01"
	             " 001c 00000000 00000003 0241d9b0 06b56070 0064 01f4 005a 190810160000"
	             " 001c 00000000 00000003 0241dd98 06b56070 0064 01f4 005a 190810160010"
	             " 45 7e");
	read_frame("7e 0704 003f 014450376202 0004 0002 01"
	           " 001c 00000000 00000003 0241d9b0 06b56070 0064 01f4 005a 190810160000"
	           " 001c 00000000 00000003 0241dd98 06b56070 0064 01f4 005a 190810160010"
	           " 45 7e", wire, buf, &m);
	assert_int_equal(jt_batch_decode(&m, &b), JT_OK);
	assert_int_equal(b.count, 2);
	assert_int_equal(b.type, 1);
	assert_int_equal(jt_batch_next(&b, &item, &k, &back), JT_OK);
	assert_int_equal(jt_batch_next(&b, &item, &k, &back), JT_OK);
	assert_int_equal(back.lat_e6, 37871000);
	assert_int_equal(jt_batch_next(&b, &item, &k, &back), JT_NEED_MORE);

	/* 34 items of 30 bytes fill the 1023 bytes of one body; 35 do not */
	for (size_t i = 2; i < 40; i++)
		locs[i] = locs[0];
	assert_int_equal(jt_batch_encode(0, locs, 34, body, sizeof(body), &n), JT_OK);
	assert_int_equal(n, 3 + 34 * 30);
	assert_int_equal(jt_batch_encode(0, locs, 35, body, sizeof(body), &n),
	                 JT_E_NO_SPACE);
	assert_int_equal(jt_batch_encode(0, locs, 0, body, sizeof(body), &n), JT_E_ARG);
	locs[1].time_us = 946655999LL * 1000000;
	assert_int_equal(jt_batch_encode(0, locs, 2, body, sizeof(body), &n), JT_E_TIME);
}

/* ---- 0x8100 and 0x8001 as the terminal reads them ------------------------ */

static void
test_replies(void **state)
{
	uint8_t wire[JT_WIRE_MAX(JT_BODY_MAX)], buf[JT_FRAME_MAX];
	struct jt_register_reply rr;
	struct jt_terminal_reply gr;
	struct jt_msg m;

	(void)state;
	read_frame("7e 8100 0006 014450376202 0009 0001 00 616263 ad 7e", wire, buf, &m);
	assert_int_equal(jt_register_reply_decode(&m, &rr), JT_OK);
	assert_int_equal(rr.reply_serial, 1);
	assert_int_equal(rr.result, 0);
	assert_int_equal(rr.auth_len, 3);
	assert_memory_equal(rr.auth, "abc", 3);
	read_frame("7e 8100 0003 014450376202 0009 0001 03 cb 7e", wire, buf, &m);
	assert_int_equal(jt_register_reply_decode(&m, &rr), JT_OK);
	assert_int_equal(rr.result, 3);
	assert_int_equal(rr.auth_len, 0);
	assert_null(rr.auth);
	/* 0x8001 has 0x0001's layout: reply serial, reply id, result */
	read_frame("7e 8001 0005 014450376202 000a 0007 0200 00 c9 7e", wire, buf, &m);
	assert_int_equal(jt_terminal_reply_decode(&m, &gr), JT_OK);
	assert_int_equal(gr.reply_serial, 7);
	assert_int_equal(gr.reply_id, 0x0200);
	assert_int_equal(gr.result, 0);
	m.body_len = 2;
	assert_int_equal(jt_register_reply_decode(&m, &rr), JT_E_BODY_SHORT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_location),
		cmocka_unit_test(test_location_no_space),
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
