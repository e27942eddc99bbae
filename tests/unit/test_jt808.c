/*
 * test_jt808: the JT/T 808 codec (jt808/). Tables of named cases, one per
 * concern and one per message id. Every frame is written out in hex from
 * the standard's layout, field by field, delimiters and check code
 * included (0x7e, header, body, check code, 0x7e; escapes visible as
 * 7d02 / 7d01): the tests never build a frame with the code under test.
 *
 * Header fields as written below:
 *   2013: id(2) attributes(2) phone BCD(6) serial(2) [count(2) index(2)]
 *   2019: id(2) attributes(2) version(1) phone BCD(10) serial(2) [...]
 * Attributes: length bits 0-9, encryption 10-12, subpackage 13 (0x2000),
 * 2019 flag 14 (0x4000). 0x0200 body: alarm(4) status(4) lat(4) lon(4)
 * altitude(2) speed(2) direction(2) time BCD(6), then items id(1) len(1).
 *
 * The native JSON of each location is compared byte for byte and read
 * back by ingest's ing_decode() (ING_FORMAT_NATIVE).
 *
 * With HG_JT808_SEEDS=DIR in the environment, the cases' frames are also
 * written to DIR as fuzz seeds named "<first result>--<table>-<case>"
 * (tests/fuzz/corpus/jt808/ was made so).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/ingest.h"
#include "jt808/jt808.h"
#include "tests/fuzz/fuzz_jt808.h"
#include "tests/unit/unhex.h"

#define VEHICLE "\xe6\x99\x8b" "A12345"         /* 晋A12345 in UTF-8 */
#define NOW_US (1893456000LL * 1000000LL)       /* 2030-01-01T00:00:00Z */
#define WIRE_MAX 4096

/* ---- helpers ----------------------------------------------------------- */

/* The first frame of a hex wire text, deframed into its own buffer, and
 * its header: what every message table starts from. */
struct wire {
	uint8_t bytes[WIRE_MAX];
	size_t len;
	uint8_t buf[JT_FRAME_MAX];
	struct jt_deframer d;
	struct jt_msg m;
};

/* Optional seed writing (HG_JT808_SEEDS). */
static void
write_seed(const char *table, const char *name, const uint8_t *p, size_t n)
{
	const char *dir = getenv("HG_JT808_SEEDS");
	char path[512];
	enum jt_err first;
	FILE *f;

	if (!dir)
		return;
	assert_null(fuzz_jt808_run(p, n, &first));
	snprintf(path, sizeof(path), "%s/%s--%s-%s", dir, jt_strerror(first),
	         table, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static enum jt_err
wire_msg(struct wire *w, const char *table, const char *name, const char *hex)
{
	const uint8_t *frame;
	size_t used, flen;
	enum jt_err e;

	w->len = unhex(hex, w->bytes, sizeof(w->bytes));
	write_seed(table, name, w->bytes, w->len);
	jt_deframer_init(&w->d, w->buf, sizeof(w->buf), 256);
	e = jt_deframe(&w->d, w->bytes, w->len, &used, &frame, &flen);
	if (e != JT_OK)
		return e;
	assert_int_equal(used, w->len);
	return jt_header_decode(frame, flen, &w->m);
}

static void
assert_bytes(const uint8_t *p, size_t n, const char *want)
{
	size_t k = strlen(want);

	assert_int_equal(n, k);
	assert_memory_equal(p, want, k);
}

/* ---- framing ----------------------------------------------------------- */

/* Frames used in several tables. */
#define HB_2013 "7e 0002 0000 014450376202 0001 41 7e"
#define LOC_2013 \
	"7e 0200 001c 014450376202 0001" \
	" 00000001 00000003 0241d9b0 06b56070 0064 01f4 005a 190810160000 0a 7e"
#define LOC_ESC_BODY \
	"7e 0200 001c 014450376202 0001" \
	" 00000000 00000003 02417d027d01 06b57d017d02 0064 01f4 005a 190810160000 72 7e"

struct frame_case {
	const char *name;
	const char *head;       /* hex */
	size_t fill;            /* then this many 0x11 bytes */
	const char *tail;       /* then this hex */
	size_t chunk;           /* feed in chunks of this many bytes; 0: whole */
	size_t cap;             /* buffer; 0: JT_FRAME_MAX */
	const char *want;       /* results in order, "ok:<msg id>" for frames */
};

static const struct frame_case frame_cases[] = {
	{ "one_frame", HB_2013, 0, "", 0, 0, "ok:0002" },
	{ "two_frames_one_chunk", HB_2013 LOC_2013, 0, "", 0, 0,
	  "ok:0002 ok:0200" },
	{ "shared_delimiter", "7e 0002 0000 014450376202 0001 41", 0, LOC_2013,
	  0, 0, "ok:0002 ok:0200" },
	{ "across_chunks_of_7", LOC_2013, 0, "", 7, 0, "ok:0200" },
	{ "byte_by_byte_escaped_body", LOC_ESC_BODY, 0, "", 1, 0, "ok:0200" },
	{ "escapes_split_by_chunks_of_2", LOC_ESC_BODY LOC_ESC_BODY, 0, "", 2,
	  0, "ok:0200 ok:0200" },
	{ "escaped_check_code_7e",
	  "7e 0200 001c 014450376202 0074 00000000 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 190810160000 7d02 7e", 0, "", 0, 0, "ok:0200" },
	{ "escaped_check_code_7d",
	  "7e 0200 001c 014450376202 0077 00000000 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 190810160000 7d01 7e", 0, "", 1, 0, "ok:0200" },
	{ "bad_check_then_good", "7e 0002 0000 014450376202 0001 42 7e", 0,
	  HB_2013, 0, 0, "bad_check:0002 ok:0002" },
	{ "bad_escape_then_good", "7e 0002 0000 7d03 4450376202 0001 41 7e", 0,
	  HB_2013, 0, 0, "bad_escape ok:0002" },
	{ "escape_before_delimiter", "7e 0002 7d 7e", 0, HB_2013, 0, 0,
	  "bad_escape ok:0002" },
	{ "one_byte_frame", "7e 05 7e", 0, "", 0, 0, "truncated" },
	{ "empty_frames", "7e 7e 7e 7e", 0, "", 0, 0, "" },
	{ "leading_garbage", "00 11 22", 0, HB_2013, 0, 0, "ok:0002" },
	{ "garbage_under_bound", "", 256, HB_2013, 0, 0, "ok:0002" },
	{ "garbage_over_bound", "", 257, "", 0, 0, "garbage" },
	{ "garbage_twice_the_bound", "", 514, "", 3, 0, "garbage garbage" },
	{ "oversize_then_good", "7e", 1100, "7e" HB_2013, 0, 0,
	  "oversize ok:0002" },
	{ "oversize_then_garbage", "7e", 1400, "", 0, 0, "oversize garbage" },
	{ "oversize_small_buffer", LOC_2013, 0, HB_2013, 0, 16,
	  "oversize ok:0002" },
	{ "at_most_the_buffer", HB_2013, 0, "", 0, 13, "ok:0002" },
};

static void
run_frame_case(const struct frame_case *c)
{
	static uint8_t in[4096], buf[JT_FRAME_MAX];
	char got[256] = "";
	size_t n = unhex(c->head, in, sizeof(in)), pos = 0;
	struct jt_deframer d;

	memset(in + n, 0x11, c->fill);
	n += c->fill;
	n += unhex(c->tail, in + n, sizeof(in) - n);
	write_seed("frame", c->name, in, n);
	jt_deframer_init(&d, buf, c->cap ? c->cap : sizeof(buf), 256);
	while (pos < n) {
		size_t end = c->chunk && n - pos > c->chunk ? pos + c->chunk : n;

		while (pos < end) {
			const uint8_t *frame;
			size_t used, flen;
			enum jt_err e = jt_deframe(&d, in + pos, end - pos, &used,
			                           &frame, &flen);
			char one[32];

			assert_true(used > 0 && used <= end - pos);
			pos += used;
			if (e == JT_NEED_MORE)
				break;
			if (e == JT_OK || e == JT_E_CHECK)
				snprintf(one, sizeof(one), "%s%s:%02x%02x",
				         *got ? " " : "", e == JT_OK ? "ok" :
				         "bad_check", frame[0], frame[1]);
			else
				snprintf(one, sizeof(one), "%s%s", *got ? " " : "",
				         jt_strerror(e));
			strncat(got, one, sizeof(got) - strlen(got) - 1);
		}
	}
	if (strcmp(got, c->want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", c->name, got, c->want);
}

static void
test_frames(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++)
		run_frame_case(&frame_cases[i]);
}

static void
test_frame_encode(void **state)
{
	/* 7e and 7d in the message and in the check code are escaped. */
	const uint8_t msg[] = { 0x01, 0x7e, 0x02, 0x7d, 0x00 };  /* xor 0x7e^0x7d^3 */
	uint8_t out[32];
	size_t n;

	(void)state;
	assert_int_equal(jt_frame_encode(msg, sizeof(msg), out, sizeof(out), &n),
	                 JT_OK);
	{
		uint8_t want[32];
		size_t k = unhex("7e 01 7d02 02 7d01 00 00 7e", want, sizeof(want));

		/* xor: 01^7e^02^7d^00 = 00 */
		assert_int_equal(n, k);
		assert_memory_equal(out, want, k);
	}
	assert_int_equal(jt_frame_encode(msg, sizeof(msg), out, 9, &n),
	                 JT_E_NO_SPACE);
	assert_int_equal(jt_xor(msg, sizeof(msg)), 0x00);
}

/* ---- header ------------------------------------------------------------ */

struct header_case {
	const char *name;
	const char *hex;
	enum jt_err want;
	uint16_t msg_id;
	bool v2019;
	uint8_t version;
	const char *phone;
	uint16_t serial;
	uint16_t count, index;
	size_t body_len;
	uint8_t encryption;
};

static const struct header_case header_cases[] = {
	{ "h2013", HB_2013, JT_OK, 0x0002, false, 0, "014450376202", 1, 0, 0,
	  0, 0 },
	{ "h2019", "7e 0002 4000 01 00000000014450376202 0001 00 7e", JT_OK,
	  0x0002, true, 1, "00000000014450376202", 1, 0, 0, 0, 0 },
	{ "subpackage_2013",
	  "7e 0704 2017 014450376202 000b 0002 0002"
	  " 0000030241da1406b560d4006501fe005b190810160005 27 7e",
	  JT_OK, 0x0704, false, 0, "014450376202", 11, 2, 2, 23, 0 },
	{ "subpackage_2019",
	  "7e 0704 6028 01 00000000014450376202 000a 0002 0001"
	  " 000200001c00000001000000030241d9b006b56070006401f4005a19081016"
	  "0000001c0000000000 54 7e",
	  JT_OK, 0x0704, true, 1, "00000000014450376202", 10, 2, 1, 40, 0 },
	{ "encrypted_rsa",
	  "7e 0200 041c 014450376202 0001 00000001 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 190810160000 0e 7e",
	  JT_OK, 0x0200, false, 0, "014450376202", 1, 0, 0, 28, 1 },
	{ "length_mismatch",
	  "7e 0200 001b 014450376202 0001 00000001 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 190810160000 0d 7e",
	  JT_E_LENGTH, 0x0200, false, 0, "014450376202", 1, 0, 0, 0, 0 },
	{ "truncated_header", "7e 0002 0000 0144503762 42 7e", JT_E_TRUNCATED,
	  0x0002, false, 0, "", 0, 0, 0, 0, 0 },
	{ "truncated_2019_header", "7e 0002 4000 01 0000000001445037 61 7e",
	  JT_E_TRUNCATED, 0x0002, true, 0, "", 0, 0, 0, 0, 0 },
	{ "version_0", "7e 0002 4000 00 00000000014450376202 0001 01 7e",
	  JT_E_VERSION, 0x0002, true, 0, "00000000014450376202", 1, 0, 0, 0, 0 },
	{ "version_2", "7e 0002 4000 02 00000000014450376202 0001 03 7e",
	  JT_E_VERSION, 0x0002, true, 2, "00000000014450376202", 1, 0, 0, 0, 0 },
	{ "phone_not_bcd", "7e 0002 0000 0a4450376202 0001 4a 7e", JT_E_PHONE,
	  0x0002, false, 0, "004450376202", 1, 0, 0, 0, 0 },
	{ "packet_index_0",
	  "7e 0704 2028 014450376202 000a 0002 0000 000200001c00000001000000030241"
	  "d9b006b56070006401f4005a190810160000001c0000000000 14 7e",
	  JT_E_PACKET, 0x0704, false, 0, "014450376202", 10, 2, 0, 40, 0 },
	{ "packet_index_over_count",
	  "7e 0704 2028 014450376202 000a 0002 0003 000200001c00000001000000030241"
	  "d9b006b56070006401f4005a190810160000001c0000000000 17 7e",
	  JT_E_PACKET, 0x0704, false, 0, "014450376202", 10, 2, 3, 40, 0 },
	{ "packet_count_0",
	  "7e 0704 2028 014450376202 000a 0000 0000 000200001c00000001000000030241"
	  "d9b006b56070006401f4005a190810160000001c0000000000 16 7e",
	  JT_E_PACKET, 0x0704, false, 0, "014450376202", 10, 0, 0, 40, 0 },
};

static void
test_headers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
		const struct header_case *c = &header_cases[i];
		struct wire w;
		enum jt_err e = wire_msg(&w, "header", c->name, c->hex);
		const struct jt_header *h = &w.m.h;

		if (e != c->want)
			fail_msg("%s: got %s, want %s", c->name, jt_strerror(e),
			         jt_strerror(c->want));
		assert_int_equal(h->msg_id, c->msg_id);
		assert_int_equal(h->v2019, c->v2019);
		if (e == JT_E_TRUNCATED)
			continue;
		assert_int_equal(h->version, c->version);
		assert_string_equal(h->phone, c->phone);
		assert_int_equal(h->serial, c->serial);
		assert_int_equal(h->pkt_count, c->count);
		assert_int_equal(h->pkt_index, c->index);
		assert_int_equal(h->encryption, c->encryption);
		if (e == JT_OK)
			assert_int_equal(w.m.body_len, c->body_len);
	}
}

/* ---- 0x0200 location --------------------------------------------------- */

struct location_case {
	const char *name;
	const char *hex;
	enum jt_err want;
	const char *json;       /* expected JSON (vehicle VEHICLE); NULL: none */
	unsigned present;
	uint32_t mileage_dkm;
	uint16_t fuel_dl, recorder_speed_dkmh, io;
	uint32_t ext_signals;
	uint8_t rssi, sats;
	unsigned unknown, malformed;
	bool positioned;
};

#define J_HEAD(ts, rest) "{\"vehicle\":\"" VEHICLE "\",\"ts\":\"" ts "\"," rest
#define J_T13 ",\"source\":\"jt808\",\"terminal\":\"014450376202\""

static const struct location_case location_cases[] = {
	{ "north_east_2013", LOC_2013, JT_OK,
	  J_HEAD("2019-08-10T08:00:00.000Z", "\"lat\":37.87,\"lon\":112.55,"
	  "\"speed_kmh\":50,\"heading\":90,\"alt_m\":100,\"ignition\":true"
	  J_T13 ",\"alarms\":[\"sos\"],\"status\":3}"), 0, 0, 0, 0, 0, 0, 0, 0,
	  0, 0, true },
	{ "header_2019",
	  "7e 0200 401c 01 00000000014450376202 0001 00000001 00000003 0241d9b0"
	  " 06b56070 0064 01f4 005a 190810160000 4b 7e", JT_OK,
	  J_HEAD("2019-08-10T08:00:00.000Z", "\"lat\":37.87,\"lon\":112.55,"
	  "\"speed_kmh\":50,\"heading\":90,\"alt_m\":100,\"ignition\":true,"
	  "\"source\":\"jt808\",\"terminal\":\"00000000014450376202\","
	  "\"alarms\":[\"sos\"],\"status\":3}"), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  true },
	{ "south_west",
	  "7e 0200 001c 014450376202 0001 00000000 0000000e 0204cc00 09034554"
	  " 0005 0000 00b4 190810160000 24 7e", JT_OK,
	  J_HEAD("2019-08-10T08:00:00.000Z", "\"lat\":-33.8688,"
	  "\"lon\":-151.2093,\"speed_kmh\":0,\"heading\":180,\"alt_m\":5,"
	  "\"ignition\":false" J_T13 ",\"alarms\":[],\"status\":14}"),
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, true },
	{ "every_item",
	  "7e 0200 003a 014450376202 0001 00000001 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 190810160000 01 04 00000d80 02 02 0064 03 02 01f5"
	  " 25 04 00000003 2a 02 0001 30 01 1f 31 01 0c 2c 7e", JT_OK,
	  J_HEAD("2019-08-10T08:00:00.000Z", "\"lat\":37.87,\"lon\":112.55,"
	  "\"speed_kmh\":50,\"heading\":90,\"alt_m\":100,\"sats\":12,"
	  "\"ignition\":true" J_T13 ",\"alarms\":[\"sos\"],\"status\":3,"
	  "\"mileage_km\":345.6}"),
	  JT_HAS_MILEAGE | JT_HAS_FUEL | JT_HAS_RECORDER_SPEED |
	  JT_HAS_EXT_SIGNALS | JT_HAS_IO | JT_HAS_RSSI | JT_HAS_SATS,
	  3456, 100, 501, 1, 3, 31, 12, 0, 0, true },
	{ "unknown_items_skipped",
	  "7e 0200 0029 014450376202 0001 00000001 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 190810160000 e1 03 aabbcc 01 04 0000000a ff 00 f0 7e",
	  JT_OK,
	  J_HEAD("2019-08-10T08:00:00.000Z", "\"lat\":37.87,\"lon\":112.55,"
	  "\"speed_kmh\":50,\"heading\":90,\"alt_m\":100,\"ignition\":true"
	  J_T13 ",\"alarms\":[\"sos\"],\"status\":3,\"mileage_km\":1}"),
	  JT_HAS_MILEAGE, 10, 0, 0, 0, 0, 0, 0, 2, 0, true },
	{ "known_item_wrong_length",
	  "7e 0200 0020 014450376202 0001 00000001 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 190810160000 31 02 000c 09 7e", JT_OK, NULL,
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 1, true },
	{ "item_past_body",
	  "7e 0200 0020 014450376202 0001 00000001 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 190810160000 01 04 0000 33 7e", JT_E_ITEM, NULL,
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, true },
	{ "item_header_cut",
	  "7e 0200 001d 014450376202 0001 00000001 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 190810160000 31 3a 7e", JT_E_ITEM, NULL,
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, true },
	{ "body_short",
	  "7e 0200 001b 014450376202 0001 00000001 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 1908101600 0d 7e", JT_E_BODY_SHORT, NULL,
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false },
	{ "not_positioned_sos",
	  "7e 0200 001c 014450376202 0001 00000001 00000001 00000000 00000000"
	  " 0000 0000 0000 190810160000 4a 7e", JT_OK,
	  J_HEAD("2019-08-10T08:00:00.000Z", "\"lat\":0,\"lon\":0,"
	  "\"speed_kmh\":0,\"heading\":0,\"alt_m\":0,\"ignition\":true"
	  J_T13 ",\"alarms\":[\"sos\"],\"status\":1}"),
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false },
	{ "time_month_13",
	  "7e 0200 001c 014450376202 0001 00000000 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 191310160000 10 7e", JT_OK, NULL,
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, true },
	{ "time_not_bcd",
	  "7e 0200 001c 014450376202 0001 00000000 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 1a0810160000 08 7e", JT_OK, NULL,
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, true },
	{ "alarm_bits_reserved_unnamed",
	  "7e 0200 001c 014450376202 0001 80038003 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 190810160000 0b 7e", JT_OK,
	  J_HEAD("2019-08-10T08:00:00.000Z", "\"lat\":37.87,\"lon\":112.55,"
	  "\"speed_kmh\":50,\"heading\":90,\"alt_m\":100,\"ignition\":true"
	  J_T13 ",\"alarms\":[\"sos\",\"overspeed\",\"illegal_door_open\"],"
	  "\"status\":3}"), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, true },
	{ "below_sea_level",
	  "7e 0200 001c 014450376202 0001 00000000 00000003 028e9a20 05511580"
	  " ff66 0000 0000 190810160000 27 7e", JT_OK,
	  J_HEAD("2019-08-10T08:00:00.000Z", "\"lat\":42.9,\"lon\":89.2,"
	  "\"speed_kmh\":0,\"heading\":0,\"alt_m\":-154,\"ignition\":true"
	  J_T13 ",\"alarms\":[],\"status\":3}"), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  true },
	{ "escaped_in_body", LOC_ESC_BODY, JT_OK,
	  J_HEAD("2019-08-10T08:00:00.000Z", "\"lat\":37.846653,"
	  "\"lon\":112.557438,\"speed_kmh\":50,\"heading\":90,\"alt_m\":100,"
	  "\"ignition\":true" J_T13 ",\"alarms\":[],\"status\":3}"),
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, true },
	{ "leap_day_tenths",
	  "7e 0200 001c 014450376202 0001 00000000 00000003 0241d9b0 06b56070"
	  " 0064 007b 0167 200229235959 86 7e", JT_OK,
	  J_HEAD("2020-02-29T15:59:59.000Z", "\"lat\":37.87,\"lon\":112.55,"
	  "\"speed_kmh\":12.3,\"heading\":359,\"alt_m\":100,\"ignition\":true"
	  J_T13 ",\"alarms\":[],\"status\":3}"), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  true },
	{ "new_year_gmt8_to_utc",
	  "7e 0200 001c 014450376202 0001 00000000 00000002 0241d9b0 06b56070"
	  " 0064 007b 0167 200101050000 8a 7e", JT_OK,
	  J_HEAD("2019-12-31T21:00:00.000Z", "\"lat\":37.87,\"lon\":112.55,"
	  "\"speed_kmh\":12.3,\"heading\":359,\"alt_m\":100,\"ignition\":false"
	  J_T13 ",\"alarms\":[],\"status\":2}"), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  true },
	{ "encrypted",
	  "7e 0200 041c 014450376202 0001 00000001 00000003 0241d9b0 06b56070"
	  " 0064 01f4 005a 190810160000 0e 7e", JT_E_ENCRYPTED, NULL,
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false },
};

/* The JSON of loc, compared and read back by ingest. */
static void
check_json(const char *name, const struct jt_location *loc, const char *phone,
           bool backfill, const char *want)
{
	char json[JT_JSON_MAX];
	size_t n;
	struct ing_fix fix;
	struct ing_error err;

	assert_int_equal(jt_json_location(loc, VEHICLE, strlen(VEHICLE), phone,
	                                  backfill, json, sizeof(json), &n), JT_OK);
	if (want && (n != strlen(want) || memcmp(json, want, n) != 0))
		fail_msg("%s: got %.*s\nwant %s", name, (int)n, json, want);
	if (ing_decode(NULL, json, n, ING_FORMAT_NATIVE, NOW_US, &fix, &err) !=
	    ING_OK)
		fail_msg("%s: ingest: %s: %.*s", name, err.message, (int)n, json);
	assert_string_equal(fix.vehicle, VEHICLE);
	assert_true(fix.time_us == loc->time_us);
	assert_true(fix.lat == loc->lat_e6 / 1e6);
	assert_true(fix.lon == loc->lon_e6 / 1e6);
	assert_true(fix.speed_kmh == loc->speed_dkmh / 10.0);
	assert_true(fix.heading == loc->direction);
	assert_true(fix.alt_m == loc->alt_m);
	assert_int_equal(fix.ignition, loc->ignition);
	assert_true(fix.present & ING_HAS_IGNITION);
	if (loc->present & JT_HAS_SATS)
		assert_int_equal(fix.sats, loc->sats);
	/* every byte count short of the whole is no_space, never a cut text */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(jt_json_location(loc, VEHICLE, strlen(VEHICLE),
		                                  phone, backfill, json, k, &n),
		                 JT_E_NO_SPACE);
}

static void
test_location(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(location_cases) / sizeof(location_cases[0]);
	     i++) {
		const struct location_case *c = &location_cases[i];
		struct wire w;
		struct jt_location loc;
		enum jt_err e = wire_msg(&w, "location", c->name, c->hex);

		assert_int_equal(e, JT_OK);
		assert_int_equal(w.m.h.msg_id, JT_MSG_LOCATION);
		e = jt_location_decode(&w.m, &loc);
		if (e != c->want)
			fail_msg("%s: got %s, want %s", c->name, jt_strerror(e),
			         jt_strerror(c->want));
		if (e != JT_OK)
			continue;
		assert_int_equal(loc.positioned, c->positioned);
		assert_int_equal(loc.ignition, (loc.status & 1) != 0);
		assert_int_equal(loc.present, c->present);
		assert_int_equal(loc.mileage_dkm, c->mileage_dkm);
		assert_int_equal(loc.fuel_dl, c->fuel_dl);
		assert_int_equal(loc.recorder_speed_dkmh, c->recorder_speed_dkmh);
		assert_int_equal(loc.ext_signals, c->ext_signals);
		assert_int_equal(loc.io, c->io);
		assert_int_equal(loc.rssi, c->rssi);
		assert_int_equal(loc.sats, c->sats);
		assert_int_equal(loc.items_unknown, c->unknown);
		assert_int_equal(loc.items_malformed, c->malformed);
		if (!loc.time_ok) {
			char json[JT_JSON_MAX];
			size_t n;

			assert_int_equal(jt_json_location(&loc, VEHICLE, 3, "1",
			                                  false, json, sizeof(json),
			                                  &n), JT_E_TIME);
			continue;
		}
		check_json(c->name, &loc, w.m.h.phone, false, c->json);
	}
}

static void
test_alarm_names(void **state)
{
	static const char *const names[32] = {
		"sos", "overspeed", "fatigue", "danger_warning", "gnss_fault",
		"gnss_antenna_open", "gnss_antenna_short", "power_low",
		"power_off", "lcd_fault", "tts_fault", "camera_fault",
		"ic_card_fault", "overspeed_warning", "fatigue_warning", NULL,
		NULL, NULL, "driving_time_exceeded", "parking_timeout",
		"area_in_out", "route_in_out", "section_time",
		"route_deviation", "vss_fault", "fuel_abnormal", "stolen",
		"illegal_ignition", "illegal_displacement", "collision",
		"rollover", "illegal_door_open",
	};
	struct jt_location loc;
	char json[JT_JSON_MAX];
	size_t n;

	(void)state;
	for (unsigned b = 0; b < 32; b++) {
		if (names[b])
			assert_string_equal(jt_alarm_name(b), names[b]);
		else
			assert_null(jt_alarm_name(b));
	}
	assert_null(jt_alarm_name(32));
	/* every bit set fits JT_JSON_MAX with a long escaped vehicle */
	memset(&loc, 0, sizeof(loc));
	loc.alarm = 0xffffffffu;
	loc.status = 0xffffffffu;
	loc.time_ok = true;
	loc.lat_e6 = loc.lon_e6 = INT32_MIN + 1;
	loc.present = JT_HAS_SATS | JT_HAS_MILEAGE;
	loc.mileage_dkm = 0xffffffffu;
	assert_int_equal(jt_json_location(&loc, "\x01\x01\x01\x01\x01\x01\x01\x01"
	                                  "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
	                                  "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
	                                  "\x01\x01\x01\x01", 32,
	                                  "00000000000000000000", true, json,
	                                  JT_JSON_MAX, &n), JT_OK);
}

/* ---- 0x0100 registration ----------------------------------------------- */

struct register_case {
	const char *name;
	const char *hex;
	enum jt_err want;
	uint16_t province, city;
	const char *maker, *model, *terminal_id;
	uint8_t color;
	const char *plate;      /* bytes as sent (GBK) */
};

static const struct register_case register_cases[] = {
	{ "r2013",
	  "7e 0100 002d 014450376202 0001 000e 0065 485a473031"
	  " 485a2d5438303800000000000000000000000000 54303030303031 01"
	  " bdfa413132333435 68 7e",
	  JT_OK, 14, 101, "HZG01", "HZ-T808", "T000001", 1,
	  "\xbd\xfa" "A12345" },
	{ "r2013_no_plate",
	  "7e 0100 0025 014450376202 0001 000e 0065 485a473031"
	  " 485a2d5438303800000000000000000000000000 54303030303031 01 57 7e",
	  JT_OK, 14, 101, "HZG01", "HZ-T808", "T000001", 1, "" },
	{ "r2013_short",
	  "7e 0100 0024 014450376202 0001 000e 0065 485a473031"
	  " 485a2d5438303800000000000000000000000000 54303030303031 57 7e",
	  JT_E_BODY_SHORT, 0, 0, "", "", "", 0, "" },
	{ "r2019",
	  "7e 0100 4054 01 00000000014450376202 0001 000e 0065"
	  " 48415a4741544500000000"
	  " 485a2d543830382d32303139000000000000000000000000000000000000"
	  " 543030303030303030303100000000000000000000000000000000000000 02"
	  " bdfa413132333435 64 7e",
	  JT_OK, 14, 101, "HAZGATE", "HZ-T808-2019", "T0000000001", 2,
	  "\xbd\xfa" "A12345" },
	{ "r2019_short",
	  "7e 0100 404a 01 00000000014450376202 0001 000e 0065"
	  " 48415a4741544500000000"
	  " 485a2d543830382d32303139000000000000000000000000000000000000"
	  " 5430303030303030303031000000000000000000000000000000000000 4f 7e",
	  JT_E_BODY_SHORT, 0, 0, "", "", "", 0, "" },
};

static void
test_register(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(register_cases) / sizeof(register_cases[0]);
	     i++) {
		const struct register_case *c = &register_cases[i];
		struct wire w;
		struct jt_register r;
		enum jt_err e;

		assert_int_equal(wire_msg(&w, "register", c->name, c->hex), JT_OK);
		assert_int_equal(w.m.h.msg_id, JT_MSG_REGISTER);
		e = jt_register_decode(&w.m, &r);
		if (e != c->want)
			fail_msg("%s: got %s", c->name, jt_strerror(e));
		if (e != JT_OK)
			continue;
		assert_int_equal(r.province, c->province);
		assert_int_equal(r.city, c->city);
		assert_bytes(r.maker, r.maker_len, c->maker);
		assert_bytes(r.model, r.model_len, c->model);
		assert_bytes(r.terminal_id, r.terminal_id_len, c->terminal_id);
		assert_int_equal(r.plate_color, c->color);
		assert_bytes(r.plate, r.plate_len, c->plate);
	}
}

/* ---- 0x0102 authentication --------------------------------------------- */

struct auth_case {
	const char *name;
	const char *hex;
	enum jt_err want;
	const char *code, *imei, *sw;   /* imei NULL: none (2013) */
};

static const struct auth_case auth_cases[] = {
	{ "a2013", "7e 0102 0008 014450376202 0001 4155544831323334 44 7e",
	  JT_OK, "AUTH1234", NULL, NULL },
	{ "a2013_empty", "7e 0102 0000 014450376202 0001 40 7e", JT_OK, "",
	  NULL, NULL },
	{ "a2019",
	  "7e 0102 402c 01 00000000014450376202 0001 08 4155544831323334"
	  " 383634303030303030303030303031"
	  " 56312e322e330000000000000000000000000000 74 7e",
	  JT_OK, "AUTH1234", "864000000000001", "V1.2.3" },
	{ "a2019_short",
	  "7e 0102 402b 01 00000000014450376202 0001 08 4155544831323334"
	  " 383634303030303030303030303031"
	  " 56312e322e3300000000000000000000000000 73 7e",
	  JT_E_BODY_SHORT, NULL, NULL, NULL },
	{ "a2019_length_over_body",
	  "7e 0102 4009 01 00000000014450376202 0001 ff 4155544831323334 fb 7e",
	  JT_E_BODY_SHORT, NULL, NULL, NULL },
	{ "a2019_empty", "7e 0102 4000 01 00000000014450376202 0001 01 7e",
	  JT_E_BODY_SHORT, NULL, NULL, NULL },
};

static void
test_auth(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(auth_cases) / sizeof(auth_cases[0]); i++) {
		const struct auth_case *c = &auth_cases[i];
		struct wire w;
		struct jt_auth a;
		enum jt_err e;

		assert_int_equal(wire_msg(&w, "auth", c->name, c->hex), JT_OK);
		e = jt_auth_decode(&w.m, &a);
		if (e != c->want)
			fail_msg("%s: got %s", c->name, jt_strerror(e));
		if (e != JT_OK)
			continue;
		assert_bytes(a.code, a.code_len, c->code);
		if (!c->imei) {
			assert_null(a.imei);
			continue;
		}
		assert_bytes(a.imei, a.imei_len, c->imei);
		assert_bytes(a.sw_version, a.sw_version_len, c->sw);
	}
}

/* ---- 0x0001, 0x0002, 0x0003 -------------------------------------------- */

struct simple_case {
	const char *name;
	const char *hex;
	uint16_t msg_id;
	enum jt_err want;       /* 0x0001's decoder; header only for the others */
	uint16_t reply_serial, reply_id;
	uint8_t result;
};

static const struct simple_case simple_cases[] = {
	{ "terminal_reply", "7e 0001 0005 014450376202 0001 0005 8100 00 c3 7e",
	  0x0001, JT_OK, 5, 0x8100, 0 },
	{ "terminal_reply_short", "7e 0001 0003 014450376202 0001 0005 81 c5 7e",
	  0x0001, JT_E_BODY_SHORT, 0, 0, 0 },
	{ "heartbeat_2013", HB_2013, 0x0002, JT_OK, 0, 0, 0 },
	{ "heartbeat_2019", "7e 0002 4000 01 00000000014450376202 0001 00 7e",
	  0x0002, JT_OK, 0, 0, 0 },
	{ "logout_2013", "7e 0003 0000 014450376202 0001 40 7e", 0x0003, JT_OK,
	  0, 0, 0 },
};

static void
test_simple(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(simple_cases) / sizeof(simple_cases[0]); i++) {
		const struct simple_case *c = &simple_cases[i];
		struct wire w;
		struct jt_terminal_reply r;

		assert_int_equal(wire_msg(&w, "simple", c->name, c->hex), JT_OK);
		assert_int_equal(w.m.h.msg_id, c->msg_id);
		if (c->msg_id != JT_MSG_TERMINAL_REPLY) {
			assert_int_equal(w.m.body_len, 0);
			continue;
		}
		assert_int_equal(jt_terminal_reply_decode(&w.m, &r), c->want);
		assert_int_equal(r.reply_serial, c->reply_serial);
		assert_int_equal(r.reply_id, c->reply_id);
		assert_int_equal(r.result, c->result);
	}
}

/* ---- 0x0704 batch ------------------------------------------------------ */

#define ITEM1 "00000001000000030241d9b006b56070006401f4005a190810160000"
#define ITEM2 "00000000000000030241da1406b560d4006501fe005b190810160005"

struct batch_case {
	const char *name;
	const char *hex;
	enum jt_err want;
	uint16_t count;
	uint8_t type;
	const char *items;      /* each item's result, "ok ok" */
	const char *json_ts;    /* ts of the first item's JSON */
};

static const struct batch_case batch_cases[] = {
	{ "normal_two",
	  "7e 0704 003f 014450376202 0001 0002 00 001c " ITEM1 " 001c " ITEM2
	  " 70 7e", JT_OK, 2, 0, "ok ok", "2019-08-10T08:00:00.000Z" },
	{ "backfill_2019",
	  "7e 0704 4021 01 00000000014450376202 0001 0001 01 001c " ITEM1
	  " 6b 7e", JT_OK, 1, 1, "ok", "2019-08-10T08:00:00.000Z" },
	{ "count_over_items",
	  "7e 0704 003f 014450376202 0001 0003 00 001c " ITEM1 " 001c " ITEM2
	  " 71 7e", JT_E_BATCH, 3, 0, "", NULL },
	{ "item_past_body",
	  "7e 0704 0021 014450376202 0001 0001 00 0030 " ITEM1 " 07 7e",
	  JT_E_BATCH, 1, 0, "", NULL },
	{ "item_not_a_location",
	  "7e 0704 000f 014450376202 0001 0001 00 000a 00000001000000030241 05 7e",
	  JT_OK, 1, 0, "body_short", NULL },
	{ "body_short", "7e 0704 0002 014450376202 0001 00 02 40 7e",
	  JT_E_BODY_SHORT, 0, 0, "", NULL },
};

static void
check_batch(const char *name, const struct jt_msg *m, const struct batch_case *c)
{
	struct jt_batch b;
	struct jt_location loc;
	const uint8_t *item;
	size_t n;
	enum jt_err e = jt_batch_decode(m, &b);
	char got[128] = "";
	int k = 0;

	if (e != c->want)
		fail_msg("%s: got %s", name, jt_strerror(e));
	if (e != JT_OK)
		return;
	assert_int_equal(b.count, c->count);
	assert_int_equal(b.type, c->type);
	while ((e = jt_batch_next(&b, &item, &n, &loc)) != JT_NEED_MORE) {
		if (*got)
			strcat(got, " ");
		strcat(got, jt_strerror(e));
		if (e == JT_OK && k++ == 0) {
			char json[JT_JSON_MAX];
			size_t jn;
			const char *bf;

			assert_int_equal(jt_json_location(&loc, VEHICLE,
			                 strlen(VEHICLE), m->h.phone, b.type == 1,
			                 json, sizeof(json) - 1, &jn), JT_OK);
			json[jn] = '\0';
			bf = strstr(json, ",\"backfill\":true}");
			assert_non_null(strstr(json, c->json_ts));
			assert_int_equal(bf != NULL, b.type == 1);
			check_json(name, &loc, m->h.phone, b.type == 1, NULL);
		}
	}
	assert_string_equal(got, c->items);
}

static void
test_batch(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(batch_cases) / sizeof(batch_cases[0]); i++) {
		struct wire w;

		assert_int_equal(wire_msg(&w, "batch", batch_cases[i].name,
		                          batch_cases[i].hex), JT_OK);
		check_batch(batch_cases[i].name, &w.m, &batch_cases[i]);
	}
}

/* ---- subpackages ------------------------------------------------------- */

/* normal_two's body (63 bytes) in two parts: 40 bytes (serial 10) and 23
 * (serial 11); the same first part as another message (serial 20). */
#define SUB_P1 "7e 0704 2028 014450376202 000a 0002 0001 0002 00 001c " ITEM1 \
	" 001c 0000000000 15 7e"
#define SUB_P2 "7e 0704 2017 014450376202 000b 0002 0002 00000302 41da1406" \
	"b560d4006501fe005b190810160005 27 7e"
#define SUB_OTHER_P1 "7e 0704 2028 014450376202 0014 0002 0001 0002 00 001c " \
	ITEM1 " 001c 0000000000 0b 7e"
#define SUB_SINGLE "7e 0704 203f 014450376202 001e 0001 0001 0002 00 001c " \
	ITEM1 " 001c " ITEM2 " 4f 7e"

struct reasm_step {
	const char *hex;
	int64_t at_s;           /* "now", seconds */
	enum jt_err want;
};

struct reasm_case {
	const char *name;
	size_t cap;             /* reassembly storage */
	struct reasm_step steps[4];
	uint64_t completed, timeout, replaced, full, duplicates;
};

static const struct reasm_case reasm_cases[] = {
	{ "in_order", 4096, { { SUB_P1, 0, JT_NEED_MORE }, { SUB_P2, 1, JT_OK } },
	  1, 0, 0, 0, 0 },
	{ "out_of_order", 4096,
	  { { SUB_P2, 0, JT_NEED_MORE }, { SUB_P1, 1, JT_OK } }, 1, 0, 0, 0, 0 },
	{ "duplicate_part", 4096,
	  { { SUB_P1, 0, JT_NEED_MORE }, { SUB_P1, 1, JT_NEED_MORE },
	    { SUB_P2, 2, JT_OK } }, 1, 0, 0, 0, 1 },
	{ "timeout_drops", 4096,
	  { { SUB_P1, 0, JT_NEED_MORE }, { SUB_P2, 30, JT_NEED_MORE } },
	  0, 1, 0, 0, 0 },
	{ "just_before_timeout", 4096,
	  { { SUB_P1, 0, JT_NEED_MORE }, { SUB_P2, 29, JT_OK } }, 1, 0, 0, 0, 0 },
	{ "other_message_replaces", 4096,
	  { { SUB_P1, 0, JT_NEED_MORE }, { SUB_OTHER_P1, 1, JT_NEED_MORE },
	    { SUB_P2, 2, JT_NEED_MORE } }, 0, 0, 2, 0, 0 },
	{ "storage_full", 50,
	  { { SUB_P1, 0, JT_NEED_MORE }, { SUB_P2, 1, JT_E_REASM_FULL } },
	  0, 0, 0, 1, 0 },
	{ "single_part", 4096, { { SUB_SINGLE, 0, JT_OK } }, 1, 0, 0, 0, 0 },
};

static void
test_reasm(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reasm_cases) / sizeof(reasm_cases[0]); i++) {
		const struct reasm_case *c = &reasm_cases[i];
		uint8_t store[4096], whole_buf[4096];
		struct jt_reasm r;

		jt_reasm_init(&r, store, c->cap, 30LL * 1000000);
		for (int s = 0; s < 4 && c->steps[s].hex; s++) {
			struct wire w;
			struct jt_msg whole;
			enum jt_err e;
			char name[64];

			snprintf(name, sizeof(name), "%s-%d", c->name, s);
			assert_int_equal(wire_msg(&w, "reasm", name, c->steps[s].hex),
			                 JT_OK);
			e = jt_reasm_add(&r, &w.m, c->steps[s].at_s * 1000000LL,
			                 whole_buf, sizeof(whole_buf), &whole);
			if (e != c->steps[s].want)
				fail_msg("%s: got %s", name, jt_strerror(e));
			if (e == JT_OK) {
				static const struct batch_case two = {
					"whole", "", JT_OK, 2, 0, "ok ok",
					"2019-08-10T08:00:00.000Z"
				};
				assert_false(whole.h.subpackage);
				assert_int_equal(whole.h.msg_id, JT_MSG_BATCH);
				assert_int_equal(whole.body_len, 63);
				check_batch(c->name, &whole, &two);
			}
		}
		assert_int_equal(r.completed, c->completed);
		assert_int_equal(r.dropped_timeout, c->timeout);
		assert_int_equal(r.dropped_replaced, c->replaced);
		assert_int_equal(r.dropped_full, c->full);
		assert_int_equal(r.duplicates, c->duplicates);
	}
}

static void
test_reasm_limits(void **state)
{
	uint8_t store[64], out[64];
	struct jt_reasm r;
	struct jt_msg m, whole;
	static const uint8_t body[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)state;
	jt_reasm_init(&r, store, sizeof(store), 1000);
	memset(&m, 0, sizeof(m));
	m.h.msg_id = 0x0704;
	m.h.subpackage = true;
	m.body = body;
	m.body_len = sizeof(body);
	m.h.pkt_count = JT_REASM_PARTS_MAX + 1;
	m.h.pkt_index = 1;
	assert_int_equal(jt_reasm_add(&r, &m, 0, out, sizeof(out), &whole),
	                 JT_E_PACKET);
	assert_int_equal(r.dropped_full, 1);
	m.h.pkt_count = 2;
	m.h.pkt_index = 3;
	assert_int_equal(jt_reasm_add(&r, &m, 0, out, sizeof(out), &whole),
	                 JT_E_PACKET);
	m.h.subpackage = false;
	m.h.pkt_index = 1;
	assert_int_equal(jt_reasm_add(&r, &m, 0, out, sizeof(out), &whole),
	                 JT_E_PACKET);
	/* expire: nothing, then the stale part */
	m.h.subpackage = true;
	assert_false(jt_reasm_expire(&r, 0));
	assert_int_equal(jt_reasm_add(&r, &m, 0, out, sizeof(out), &whole),
	                 JT_NEED_MORE);
	assert_false(jt_reasm_expire(&r, 999));
	assert_true(jt_reasm_expire(&r, 1000));
	assert_int_equal(r.dropped_timeout, 1);
	/* out too small for the whole body */
	m.h.pkt_count = 1;
	assert_int_equal(jt_reasm_add(&r, &m, 0, out, 4, &whole), JT_E_NO_SPACE);
}

/* ---- replies ----------------------------------------------------------- */

struct reply_case {
	const char *name;
	const char *to;         /* the terminal's message replied to */
	uint16_t msg_id;        /* 0x8001 or 0x8100 */
	uint16_t serial;        /* ours */
	uint8_t result;
	const char *auth;       /* 0x8100 */
	const char *want;       /* the bytes, hex */
};

static const struct reply_case reply_cases[] = {
	{ "general_2013", LOC_2013, 0x8001, 0, 0, NULL,
	  "7e 8001 0005 014450376202 0000 0001 0200 00 c5 7e" },
	{ "general_2019_unsupported",
	  "7e 0200 401c 01 00000000014450376202 0001 00000001 00000003 0241d9b0"
	  " 06b56070 0064 01f4 005a 190810160000 4b 7e", 0x8001, 0x0102, 3, NULL,
	  "7e 8001 4005 01 00000000014450376202 0102 0001 0200 03 84 7e" },
	{ "general_escaped_serial", LOC_2013, 0x8001, 0x7e7d, 2, NULL,
	  "7e 8001 0005 014450376202 7d027d01 0001 0200 02 c4 7e" },
	{ "register_ok_2013",
	  "7e 0100 002d 014450376202 0001 000e 0065 485a473031"
	  " 485a2d5438303800000000000000000000000000 54303030303031 01"
	  " bdfa413132333435 68 7e", 0x8100, 5, 0, "AUTH1234",
	  "7e 8100 000b 014450376202 0005 0001 00 4155544831323334 c0 7e" },
	{ "register_refused_2019",
	  "7e 0100 4054 01 00000000014450376202 0001 000e 0065"
	  " 48415a4741544500000000"
	  " 485a2d543830382d32303139000000000000000000000000000000000000"
	  " 543030303030303030303100000000000000000000000000000000000000 02"
	  " bdfa413132333435 64 7e", 0x8100, 6, 2, "AUTH1234",
	  "7e 8100 4003 01 00000000014450376202 0006 0001 02 84 7e" },
};

static void
test_replies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
		const struct reply_case *c = &reply_cases[i];
		struct wire w;
		uint8_t out[128], want[128];
		size_t n, k;
		enum jt_err e;

		assert_int_equal(wire_msg(&w, "reply", c->name, c->to), JT_OK);
		if (c->msg_id == 0x8001)
			e = jt_reply_general(&w.m.h, c->serial, c->result, out,
			                     sizeof(out), &n);
		else
			e = jt_reply_register(&w.m.h, c->serial, c->result,
			                      (const uint8_t *)c->auth,
			                      strlen(c->auth), out, sizeof(out), &n);
		assert_int_equal(e, JT_OK);
		k = unhex(c->want, want, sizeof(want));
		if (n != k || memcmp(out, want, k) != 0)
			fail_msg("%s: bytes differ", c->name);
		/* one byte short of room: no_space */
		if (c->msg_id == 0x8001)
			e = jt_reply_general(&w.m.h, c->serial, c->result, out,
			                     n - 1, &n);
		else
			e = jt_reply_register(&w.m.h, c->serial, c->result,
			                      (const uint8_t *)c->auth,
			                      strlen(c->auth), out, k - 1, &n);
		assert_int_equal(e, JT_E_NO_SPACE);
	}
}

static void
test_reply_limits(void **state)
{
	struct jt_header h;
	uint8_t auth[JT_BODY_MAX], out[JT_WIRE_MAX(JT_BODY_MAX)];
	size_t n;

	(void)state;
	memset(&h, 0, sizeof(h));
	memset(auth, 0x7e, sizeof(auth));
	/* the longest auth code, every byte escaped, fits JT_WIRE_MAX */
	assert_int_equal(jt_reply_register(&h, 1, 0, auth, JT_BODY_MAX - 3, out,
	                                   sizeof(out), &n), JT_OK);
	assert_true(n <= JT_WIRE_MAX(JT_BODY_MAX));
	assert_int_equal(jt_reply_register(&h, 1, 0, auth, JT_BODY_MAX - 2, out,
	                                   sizeof(out), &n), JT_E_ARG);
	assert_int_equal(jt_encode(&h, 0x8001, 1, auth, JT_BODY_MAX + 1, out,
	                           sizeof(out), &n), JT_E_ARG);
}

/* ---- names ------------------------------------------------------------- */

static void
test_strerror(void **state)
{
	(void)state;
	for (int e = 0; e < JT_ERR_COUNT; e++) {
		const char *name = jt_strerror((enum jt_err)e);

		assert_string_not_equal(name, "unknown");
		for (int f = 0; f < e; f++)
			assert_string_not_equal(name, jt_strerror((enum jt_err)f));
	}
	assert_string_equal(jt_strerror(JT_ERR_COUNT), "unknown");
	assert_string_equal(jt_strerror(JT_E_CHECK), "bad_check");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_frame_encode),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_location),
		cmocka_unit_test(test_alarm_names),
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_reasm),
		cmocka_unit_test(test_reasm_limits),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_reply_limits),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("jt808", tests, NULL, NULL);
}
