/*
 * test_gateway_batch: the gateway's batch (gateway/gw_batch.c: COPY text
 * rows, alerts as the table's columns with the values of their JSON,
 * timestamps, escaping, the spool record; gateway/gw_batch_read.c: a record
 * of the previous format, its alerts converted to the same values) and its
 * vehicle table (gateway/gw_vtab.c: seq/dirty bookkeeping, growth).
 * Table-driven.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/hz_time.h"
#include "gateway/gw_batch.h"
#include "gateway/gw_vtab.h"
#include "geofence/geofence.h"
#include "ingest/ingest.h"
#include "tests/fuzz/fuzz_gateway.h"

/* Nothing here logs, so gw_batch.c links alone (with geofence's renderer,
 * whose JSON the alert rows are made of). */

static void
test_format_ts(void **state)
{
	static const struct { int64_t us; const char *want; } cases[] = {
		{ 0, "1970-01-01 00:00:00.000000+00" },
		{ 1565424000123456LL, "2019-08-10 08:00:00.123456+00" },
		{ 951782400000000LL, "2000-02-29 00:00:00.000000+00" },     /* leap day */
		{ 4102444799999999LL, "2099-12-31 23:59:59.999999+00" },
		{ -1, "1969-12-31 23:59:59.999999+00" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];

		gw_format_ts(cases[i].us, buf);
		assert_string_equal(buf, cases[i].want);
	}
}

/* gw_format_ts (its date cached per day) writes what hz_time_format
 * does: random times near each other and far apart, day edges, extremes. */
static void
test_format_ts_cache(void **state)
{
	static const int64_t edges[] = {
		INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, -1, 0, 1,
		86399999999LL, 86400000000LL, -86400000000LL, -86400000001LL,
		253402300799999999LL, 253402300800000000LL, -62167219200000001LL,
	};
	uint64_t x = 0x2545f4914f6cdd1dULL;
	int64_t us = 1565424000123456LL;

	(void)state;
	for (int i = 0; i < 2000000; i++) {
		char want[32], got[32];
		int64_t t;

		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		switch (i % 4) {
		case 0:         /* a step of up to ~2.3 h, either way */
			us += (int64_t)(x % 16777216000ULL) - 8388608000LL;
			t = us;
			break;
		case 1:
			t = edges[x % (sizeof(edges) / sizeof(edges[0]))];
			break;
		case 2:         /* anywhere in an int64 */
			t = (int64_t)(x * 2685821657736338717ULL);
			break;
		default:        /* the same day as the last */
			t = us + (int64_t)(x % 1000000);
			break;
		}
		hz_time_format(t, HZ_TIME_PG, want);
		memset(got, 'x', sizeof(got));
		gw_format_ts(t, got);
		assert_string_equal(got, want);
	}
}

/* gw_format_i64 writes what snprintf's %" PRId64 does: the edges, every
 * power of ten and its neighbours, and a million random values of every
 * magnitude. */
static void
check_i64(int64_t v)
{
	char want[32], got[21];
	size_t n;

	snprintf(want, sizeof(want), "%" PRId64, v);
	memset(got, 'x', sizeof(got));
	n = gw_format_i64(v, got);
	assert_true(n <= 20);
	assert_int_equal(got[n], 'x');          /* nothing written after it */
	got[n] = '\0';
	assert_string_equal(got, want);
}

static void
test_format_i64(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int64_t p = 1;

	(void)state;
	check_i64(0);
	check_i64(INT64_MIN);
	check_i64(INT64_MIN + 1);
	check_i64(INT64_MAX);
	check_i64(INT32_MIN);
	check_i64(INT32_MAX);
	for (int i = 0; i < 19; i++) {
		for (int64_t d = -1; d <= 1; d++) {
			check_i64(p + d);
			check_i64(-(p + d));
		}
		if (i < 18)
			p *= 10;        /* 10^18 is the last that fits */
	}
	for (int i = 0; i < 1000000; i++) {
		/* xorshift64*; a random shift spreads the magnitudes */
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		check_i64((int64_t)(x * 2685821657736338717ULL) >> (x % 64));
	}
}

/* The fix of the position row tests: an escaped vehicle, a speed, a seq. */
static void
sample_fix(struct ing_fix *f)
{
	memset(f, 0, sizeof(*f));
	strcpy(f->vehicle, "晋A1\\2");
	f->time_us = 1565424000123000LL;
	f->lat = 37.604999;
	f->lon = -112.3600398;
	f->speed_kmh = 30.9;
	f->seq = 42;
}

/* The NOTIFY hazgate_positions lines of position rows: the fields each
 * found from the one before (issue 15), the same text as before. */
static void
test_pos_notify(void **state)
{
	struct gw_batch b = { 0 };
	struct ing_fix f = { 0 };
	const int64_t zones[] = { 3, 7 };
	struct gw_buf out = { 0 };
	size_t payload = 0;
	char *s;

	(void)state;
	sample_fix(&f);
	f.time_us = 1565424000123456LL;
	f.heading = 271.5;
	f.present = ING_HAS_SPEED | ING_HAS_HEADING | ING_HAS_SEQ;
	assert_int_equal(gw_batch_add_position(&b, &f, zones, 2, 0), 0);
	f.present = 0;
	assert_int_equal(gw_batch_add_position(&b, &f, NULL, 0, 0), 0);
	assert_int_equal(gw_batch_pos_notify(&out, &payload, b.pos.p, b.pos.len), 0);
	s = strndup(out.p, out.len);
	assert_string_equal(s,
		"晋A1\\\\2\t2019-08-10T08:00:00.123Z\t37.604999\t-112.3600398\t30.9\t271.5\t3,7\n"
		"晋A1\\\\2\t2019-08-10T08:00:00.123Z\t37.604999\t-112.3600398\t\\N\t\\N\t");
	free(s);
	gw_buf_free(&out);
	gw_batch_free(&b);
}

static void
test_copy_escape(void **state)
{
	static const struct { const char *in; const char *want; } cases[] = {
		{ "plain", "plain" },
		{ "晋A12345", "晋A12345" },
		{ "a\\b", "a\\\\b" },
		{ "tab\there", "tab\\there" },
		{ "line\nbreak\r", "line\\nbreak\\r" },
		{ "", "" },
		{ "\\\t\n\r", "\\\\\\t\\n\\r" },          /* escapes only, back to back */
		{ "{\"a\":\"\\u0009\\\"\"}x\t", "{\"a\":\"\\\\u0009\\\\\"\"}x\\t" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gw_buf b = { 0 };

		assert_int_equal(gw_copy_escape(&b, cases[i].in, strlen(cases[i].in)), 0);
		assert_int_equal(b.len, strlen(cases[i].want));
		assert_memory_equal(b.p, cases[i].want, b.len);
		gw_buf_free(&b);
	}
}

static void
test_position_row(void **state)
{
	struct gw_batch b = { 0 };
	struct ing_fix f = { 0 };
	const int64_t zones[] = { 3, 7 };
	char *row;

	(void)state;
	sample_fix(&f);
	f.fix = 3;
	strcpy(f.hazard_class, "2.1");
	f.present = ING_HAS_SPEED | ING_HAS_SEQ | ING_HAS_FIX | ING_HAS_HAZARD_CLASS;
	assert_int_equal(gw_batch_add_position(&b, &f, zones, 2, 0), 0);
	assert_int_equal(b.npos, 1);
	row = strndup(b.pos.p, b.pos.len);
	assert_string_equal(row,
		"晋A1\\\\2\t2019-08-10 08:00:00.123000+00\t37.604999\t-112.3600398\t30.9\t\\N\t\\N\t"
		"\\N\t3\t\\N\t\\N\t2.1\t42\t\\N\t{3,7}\t1970-01-01 00:00:00.000000+00\t\\N\n");
	free(row);
	/* No zones: an empty array, not NULL. */
	b.pos.len = 0;
	f.present = 0;
	assert_int_equal(gw_batch_add_position(&b, &f, NULL, 0, 0), 0);
	assert_non_null(strstr(b.pos.p, "\t{}\t"));
	/* alarms (schema/011), last: none said is NULL, [] is 0, and the mask
	 * as a signed 32-bit integer (sos is bit 0, bit 31 makes it negative) */
	static const struct { uint32_t alarms; bool has; const char *end; } al[] = {
		{ 0, false, "+00\t\\N\n" },
		{ 0, true, "+00\t0\n" },
		{ 1u << 0, true, "+00\t1\n" },
		{ (1u << 31) | (1u << 29) | 1u, true, "+00\t-1610612735\n" },
		{ 0xffffffffu, true, "+00\t-1\n" },
	};
	for (size_t i = 0; i < sizeof(al) / sizeof(al[0]); i++) {
		size_t n = strlen(al[i].end);

		b.pos.len = 0;
		f.present = al[i].has ? ING_HAS_ALARMS : 0;
		f.alarms = al[i].alarms;
		assert_int_equal(gw_batch_add_position(&b, &f, NULL, 0, 0), 0);
		assert_true(b.pos.len > n);
		assert_memory_equal(b.pos.p + b.pos.len - n, al[i].end, n);
	}
	gw_batch_free(&b);
}

static void
test_reject_row(void **state)
{
	struct gw_batch b = { 0 };
	const unsigned char raw[] = { 'x', 0x00, 0xff, '\t' };
	char *row;

	(void)state;
	assert_int_equal(gw_batch_add_reject(&b, "tankers/T1/telemetry", raw, sizeof(raw),
					     "not_json", "bad \"json\"", 0), 0);
	row = strndup(b.rejects.p, b.rejects.len);
	assert_string_equal(row, "tankers/T1/telemetry\t\\\\x7800ff09\tnot_json\tbad \"json\"\t"
				 "1970-01-01 00:00:00.000000+00\n");
	free(row);
	gw_batch_free(&b);
}

/* Alerts as the engine hands them over, and the columns of their row
 * (the JSON's tail, the eleventh field, is checked against the JSON). */
static const struct alert_case {
	const char *name;
	struct gf_alert a;
	const char *cols;
} alert_cases[] = {
	{ "zone_enter, names to escape",
	  { .kind = GF_ALERT_ZONE_ENTER, .severity = GF_SEV_INFO, .vehicle = "晋A1\\2",
	    .has_zone = true, .zone_id = 3, .zone_name = "Depot \"A\"\tx", .zone_kind = GF_KIND_DEPOT,
	    .ts_us = 1565424000123456LL, .lat = 37.60499987, .lon = -112.36, .has_speed = true,
	    .speed_kmh = 30.955 },
	  "zone_enter\tinfo\t晋A1\\\\2\t3\tDepot \"A\"\\tx\t2019-08-10T08:00:00.123Z\t37.6049999\t"
	  "-112.36\t30.95\t{\"zone_kind\":\"depot\"}" },
	{ "tracker_silent: no zone, no speed",
	  { .kind = GF_ALERT_TRACKER_SILENT, .severity = GF_SEV_WARNING, .vehicle = "T2",
	    .ts_us = 1565424300000000LL, .lat = 37.5, .lon = 112.5, .gap_s = 300,
	    .last_fix_us = 1565424000000000LL },
	  "tracker_silent\twarning\tT2\t\\N\t\\N\t2019-08-10T08:05:00.000Z\t37.5\t112.5\t\\N\t"
	  "{\"silent_after_s\":300,\"last_fix\":\"2019-08-10T08:00:00.000Z\"}" },
	{ "overspeed: -0 latitude written 0.0",
	  { .kind = GF_ALERT_OVERSPEED, .severity = GF_SEV_WARNING, .vehicle = "T3",
	    .ts_us = -1, .lat = -0.00000001, .lon = 0.123456789, .has_speed = true,
	    .speed_kmh = 95.5, .limit_kmh = 80 },
	  "overspeed\twarning\tT3\t\\N\t\\N\t1969-12-31T23:59:59.999Z\t0.0\t0.1234568\t95.5\t"
	  "{\"limit_kmh\":80.0}" },
	{ "zone_exit of a zone without a name",
	  { .kind = GF_ALERT_ZONE_EXIT, .severity = GF_SEV_INFO, .vehicle = "T4", .has_zone = true,
	    .zone_id = 7, .zone_kind = GF_KIND_RESTRICTED, .ts_us = 1565424000000000LL,
	    .lat = 1, .lon = 2, .dwell_s = 125 },
	  "zone_exit\tinfo\tT4\t7\t\\N\t2019-08-10T08:00:00.000Z\t1.0\t2.0\t\\N\t"
	  "{\"zone_kind\":\"restricted\",\"dwell_s\":125}" },
	{ "prohibited_entry: an empty zone name stays empty",
	  { .kind = GF_ALERT_PROHIBITED_ENTRY, .severity = GF_SEV_CRITICAL, .vehicle = "T5",
	    .has_zone = true, .zone_id = 9, .zone_name = "", .zone_kind = GF_KIND_PROHIBITED,
	    .ts_us = 1565424000000000LL, .lat = 37.1, .lon = 112.1 },
	  "prohibited_entry\tcritical\tT5\t9\t\t2019-08-10T08:00:00.000Z\t37.1\t112.1\t\\N\t"
	  "{\"zone_kind\":\"prohibited\"}" },
};

/* The JSON of an alert ("id":null) into buf; its length. */
static size_t
alert_json(const struct gf_alert *a, char *buf, size_t cap)
{
	size_t n = gf_alert_format(a, -1, buf, cap);

	assert_true(n < cap);
	return n;
}

/* Add an alert the way gw_in.c's on_alert does. */
static void
add_alert(struct gw_batch *b, const struct gf_alert *a)
{
	char json[1024];
	struct gw_alert_row row = {
		.kind = gf_alert_kind_name(a->kind), .severity = gf_severity_name(a->severity),
		.vehicle = a->vehicle, .zone_name = a->has_zone ? a->zone_name : NULL, .json = json,
	};

	row.json_len = alert_json(a, json, sizeof(json));
	assert_int_equal(gw_batch_add_alert(b, &row), 0);
}

/* The fields of the COPY row starting at *p (raw COPY text, each a
 * malloc'd string); *p moves to the next row. */
static void
split_row(const char **p, char *f[GW_BATCH_ALERT_FIELDS])
{
	for (int i = 0; i < GW_BATCH_ALERT_FIELDS; i++) {
		size_t n = strcspn(*p, "\t\n");

		assert_int_equal((*p)[n], i + 1 < GW_BATCH_ALERT_FIELDS ? '\t' : '\n');
		f[i] = strndup(*p, n);
		*p += n + 1;
	}
}

static void
free_row(char *f[GW_BATCH_ALERT_FIELDS])
{
	for (int i = 0; i < GW_BATCH_ALERT_FIELDS; i++)
		free(f[i]);
}

/* s escaped for COPY, as a string. */
static char *
copy_escaped(const char *s)
{
	struct gw_buf b = { 0 };
	char *r;

	assert_int_equal(gw_copy_escape(&b, s, strlen(s)), 0);
	r = strndup(b.p ? b.p : "", b.len);
	gw_buf_free(&b);
	return r;
}

static void
test_alert_rows(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(alert_cases) / sizeof(alert_cases[0]); c++) {
		const struct alert_case *k = &alert_cases[c];
		struct gw_batch b = { 0 };
		char json[1024], *f[GW_BATCH_ALERT_FIELDS], *tail, *cols;
		const char *p;
		json_t *j;

		print_message("# %s\n", k->name);
		add_alert(&b, &k->a);
		assert_int_equal(b.nalerts, 1);
		assert_non_null(memchr(b.alerts.p, '\n', b.alerts.len));
		p = b.alerts.p;
		split_row(&p, f);
		assert_ptr_equal(p, b.alerts.p + b.alerts.len);
		{
			size_t n = 0;

			for (int i = 0; i < GW_BATCH_ALERT_FIELDS - 1; i++)
				n += strlen(f[i]) + 1;
			cols = strndup(b.alerts.p, n - 1);
		}
		assert_string_equal(cols, k->cols);
		free(cols);
		/* The tail: the JSON after "id":null, as it is. */
		alert_json(&k->a, json, sizeof(json));
		tail = copy_escaped(json + 10);
		assert_string_equal(f[10], tail);
		free(tail);
		/* Each number has the value the JSON gives it. */
		j = json_loads(json, 0, NULL);
		assert_non_null(j);
		if (k->a.has_speed)
			assert_true(strtof(f[8], NULL) ==
				    (float)json_number_value(json_object_get(j, "speed_kmh")));
		assert_true(strtod(f[6], NULL) == json_number_value(json_object_get(j, "lat")));
		assert_true(strtod(f[7], NULL) == json_number_value(json_object_get(j, "lon")));
		json_decref(j);
		free_row(f);
		gw_batch_free(&b);
	}
}

/* A JSON that is not gf_alert_format's adds nothing. */
static void
test_alert_row_refused(void **state)
{
	struct gw_batch b = { 0 };
	struct gw_alert_row row = { .kind = "zone_enter", .severity = "info", .vehicle = "T1",
				    .json = "{\"id\":7,\"kind\":\"zone_enter\"}", .json_len = 27 };

	(void)state;
	assert_int_equal(gw_batch_add_alert(&b, &row), -1);
	row.json = "{\"id\":null";
	row.json_len = 10;
	assert_int_equal(gw_batch_add_alert(&b, &row), -1);
	assert_int_equal(b.nalerts, 0);
	assert_int_equal(b.alerts.len, 0);
	gw_batch_free(&b);
}

static void
test_record_round_trip(void **state)
{
	struct gw_batch b = { 0 };
	struct gw_buf rec = { 0 }, pieces = { 0 };
	struct gw_batch_view v;
	struct ing_fix f = { 0 };
	const uint8_t blob[] = { 'H', 'G', 'V', 'S', 1, 2, 3 };
	const char *veh, *json;
	uint8_t hdr[GW_BATCH_HDR_LEN];
	struct iovec iov[GW_BATCH_PIECES];
	size_t off = 0;

	(void)state;
	strcpy(f.vehicle, "T1");
	f.time_us = 1;
	assert_true(gw_batch_empty(&b));
	assert_int_equal(gw_batch_add_position(&b, &f, NULL, 0, 0), 0);
	add_alert(&b, &alert_cases[0].a);
	add_alert(&b, &alert_cases[1].a);
	assert_int_equal(gw_batch_add_state(&b, "T1", 1, 1.5, 2.5, blob, sizeof(blob), true, 9), 0);
	assert_false(gw_batch_empty(&b));
	assert_int_equal(gw_batch_serialize(&b, &rec), 0);
	assert_int_equal(rec.len, gw_batch_bytes(&b));
	/* The pieces are the record, the sections borrowed from the batch. */
	gw_batch_pieces(&b, hdr, iov);
	assert_ptr_equal(iov[0].iov_base, hdr);
	assert_ptr_equal(iov[1].iov_base, b.pos.p);
	assert_ptr_equal(iov[2].iov_base, b.alerts.p);
	for (int i = 0; i < GW_BATCH_PIECES; i++)
		assert_int_equal(gw_buf_add(&pieces, iov[i].iov_base, iov[i].iov_len), 0);
	assert_int_equal(pieces.len, rec.len);
	assert_memory_equal(pieces.p, rec.p, rec.len);
	assert_memory_equal(rec.p, "HGB3", 4);
	assert_int_equal(gw_batch_parse(rec.p, rec.len, &v), 0);
	assert_int_equal(v.version, 3);
	assert_int_equal(v.npos, 1);
	assert_int_equal(v.nalerts, 2);
	assert_int_equal(v.nstates, 1);
	assert_int_equal(v.nrejects, 0);
	assert_memory_equal(v.pos, b.pos.p, b.pos.len);
	assert_memory_equal(v.alerts, b.alerts.p, b.alerts.len);
	assert_non_null(strstr(v.states, "\\\\x4847565301020"));
	/* Version 2 alerts are rows, not pairs. */
	assert_int_equal(gw_batch_next_alert(&v, &off, &veh, &json), -1);
	/* A damaged record is refused, not misread. */
	assert_int_equal(gw_batch_parse(rec.p, rec.len - 1, &v), GW_BATCH_ELENGTH);
	rec.p[0] = 'X';
	assert_int_equal(gw_batch_parse(rec.p, rec.len, &v), GW_BATCH_EMAGIC);
	/* Reset keeps nothing. */
	gw_batch_reset(&b);
	assert_true(gw_batch_empty(&b));
	assert_int_equal(gw_batch_bytes(&b), 36);
	gw_buf_free(&rec);
	gw_buf_free(&pieces);
	gw_batch_free(&b);
}

/* Version 2 alert rows the parser refuses: a row must be as the writer
 * makes it. */
static void
test_alert_rows_refused(void **state)
{
	static const struct { const char *name, *rows; int err; } cases[] = {
		{ "ten fields", "k\ts\tT1\t\\N\t\\N\tts\t1\t2\t\\N\t,\"a\":1}\n", GW_BATCH_EFIELDS },
		{ "no vehicle", "k\ts\t\\N\t\\N\t\\N\tts\t1\t2\t\\N\t{}\t,\"a\":1}\n", GW_BATCH_EALERT },
		{ "empty vehicle", "k\ts\t\t\\N\t\\N\tts\t1\t2\t\\N\t{}\t,\"a\":1}\n", GW_BATCH_EALERT },
		{ "tail not ,...}", "k\ts\tT1\t\\N\t\\N\tts\t1\t2\t\\N\t{}\t\"a\":1}\n", GW_BATCH_EALERT },
		{ "tail cut", "k\ts\tT1\t\\N\t\\N\tts\t1\t2\t\\N\t{}\t,\"a\":1\n", GW_BATCH_EALERT },
		{ "empty tail", "k\ts\tT1\t\\N\t\\N\tts\t1\t2\t\\N\t{}\t\n", GW_BATCH_EALERT },
		{ "ok", "k\ts\tT1\t\\N\t\\N\tts\t1\t2\t\\N\t{}\t,}\n", GW_BATCH_OK },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct gw_batch_view v = { .nalerts = 1, .alerts = cases[c].rows,
					   .alerts_len = strlen(cases[c].rows) };
		struct gw_buf rec = { 0 };

		fuzz_gw_record(&rec, "HGB2", &v);
		if (gw_batch_parse(rec.p, rec.len, &v) != cases[c].err)
			fail_msg("%s: not %s", cases[c].name, gw_batch_strerror(cases[c].err));
		gw_buf_free(&rec);
	}
}

/* A record of the builds before positions.alarms ("HGB2": positions one
 * field shorter) is read, and its positions completed to this build's rows
 * with alarms NULL, which a version 3 record holds. */
static void
test_v2_record_positions(void **state)
{
	struct gw_batch b = { 0 };
	struct gw_buf rows = { 0 }, rec = { 0 }, conv = { 0 };
	struct gw_batch_view v = { 0 };
	struct ing_fix f = { 0 };
	const int64_t zones[] = { 3, 7 };

	(void)state;
	strcpy(f.vehicle, "T1");
	assert_int_equal(gw_batch_add_position(&b, &f, zones, 2, 0), 0);
	strcpy(f.vehicle, "T2\tx");
	assert_int_equal(gw_batch_add_position(&b, &f, NULL, 0, 0), 0);
	/* the same rows without their last field, as HGB2 had them */
	for (size_t i = 0; i < b.pos.len; i++) {
		if (b.pos.p[i] == '\n')
			rows.len -= 3;
		assert_int_equal(gw_buf_add(&rows, b.pos.p + i, 1), 0);
	}
	v.npos = 2;
	v.pos = rows.p;
	v.pos_len = rows.len;
	fuzz_gw_record(&rec, "HGB3", &v);
	assert_int_equal(gw_batch_parse(rec.p, rec.len, &v), GW_BATCH_EFIELDS);
	v = (struct gw_batch_view){ .npos = 2, .pos = rows.p, .pos_len = rows.len };
	fuzz_gw_record(&rec, "HGB2", &v);
	assert_int_equal(gw_batch_parse(rec.p, rec.len, &v), GW_BATCH_OK);
	assert_int_equal(v.version, 2);
	assert_int_equal(fuzz_gateway_batch_check((const uint8_t *)rec.p, rec.len), 1);
	assert_int_equal(gw_batch_old_positions(&v, &conv), GW_BATCH_OK);
	assert_int_equal(conv.len, b.pos.len);
	assert_memory_equal(conv.p, b.pos.p, b.pos.len);
	gw_buf_free(&conv);
	gw_buf_free(&rec);
	gw_buf_free(&rows);
	gw_batch_free(&b);
}

/* A record of the previous format ("HGB1": alerts as (vehicle, JSON)
 * pairs) is read, and its alerts converted to the rows this build writes
 * for the same alerts, with the same values. */
static void
test_v1_record(void **state)
{
	const size_t nc = sizeof(alert_cases) / sizeof(alert_cases[0]);
	struct gw_batch b = { 0 };
	struct gw_buf pairs = { 0 }, rec = { 0 }, conv = { 0 };
	struct gw_batch_view v = { 0 };
	struct ing_fix f = { 0 };
	const char *veh, *json, *pc, *pn;
	size_t off = 0, n = 0;

	(void)state;
	strcpy(f.vehicle, "T1");
	assert_int_equal(gw_batch_add_position(&b, &f, NULL, 0, 0), 0);
	/* HGB1's positions had no alarms: the row ends "\t\\N\n" here. */
	assert_memory_equal(b.pos.p + b.pos.len - 4, "\t\\N\n", 4);
	b.pos.p[b.pos.len - 4] = '\n';
	b.pos.len -= 3;
	for (size_t c = 0; c < nc; c++) {
		char j[1024];
		size_t len = alert_json(&alert_cases[c].a, j, sizeof(j));

		assert_int_equal(gw_buf_add(&pairs, alert_cases[c].a.vehicle,
					    strlen(alert_cases[c].a.vehicle) + 1), 0);
		assert_int_equal(gw_buf_add(&pairs, j, len + 1), 0);
		add_alert(&b, &alert_cases[c].a);
	}
	v.npos = 1;
	v.pos = b.pos.p;
	v.pos_len = b.pos.len;
	v.nalerts = (uint32_t)nc;
	v.alerts = pairs.p;
	v.alerts_len = pairs.len;
	fuzz_gw_record(&rec, "HGB1", &v);
	assert_int_equal(gw_batch_parse(rec.p, rec.len, &v), GW_BATCH_OK);
	assert_int_equal(v.version, 1);
	assert_int_equal(v.nalerts, nc);
	while (gw_batch_next_alert(&v, &off, &veh, &json) == 0)
		assert_string_equal(veh, alert_cases[n++].a.vehicle);
	assert_int_equal(n, nc);
	assert_int_equal(fuzz_gateway_batch_check((const uint8_t *)rec.p, rec.len), 1);

	assert_int_equal(gw_batch_v1_alerts(&v, &conv), GW_BATCH_OK);
	pc = conv.p;
	pn = b.alerts.p;
	for (size_t c = 0; c < nc; c++) {
		char *fc[GW_BATCH_ALERT_FIELDS], *fn[GW_BATCH_ALERT_FIELDS];
		json_t *dc, *dn;

		print_message("# %s\n", alert_cases[c].name);
		split_row(&pc, fc);
		split_row(&pn, fn);
		/* kind, severity, vehicle, zone_id, zone_name, ts: the text */
		for (int i = 0; i < 6; i++)
			assert_string_equal(fc[i], fn[i]);
		/* lat, lon (float8), speed_kmh (real): the value */
		for (int i = 6; i < 9; i++) {
			if (strcmp(fn[i], "\\N") == 0)
				assert_string_equal(fc[i], "\\N");
			else if (i < 8)
				assert_true(strtod(fc[i], NULL) == strtod(fn[i], NULL));
			else
				assert_true(strtof(fc[i], NULL) == strtof(fn[i], NULL));
		}
		/* detail (jsonb): the same JSON value; the tail as it was */
		dc = json_loads(fc[9], 0, NULL);
		dn = json_loads(fn[9], 0, NULL);
		assert_true(dc && dn && json_equal(dc, dn));
		json_decref(dc);
		json_decref(dn);
		assert_string_equal(fc[10], fn[10]);
		free_row(fc);
		free_row(fn);
	}
	assert_ptr_equal(pc, conv.p + conv.len);
	gw_buf_free(&pairs);
	gw_buf_free(&rec);
	gw_buf_free(&conv);
	gw_batch_free(&b);
}

/* One HGB1 alert's JSON converted: what the previous build's statement read
 * from it (j->>'m' of an absent member is null, detail then {}), or
 * refused with nothing written. */
static void
test_v1_alert_cases(void **state)
{
	static const struct { const char *name, *json, *row; int rc; } cases[] = {
		{ "members absent", "{\"id\":null,\"vehicle\":\"T1\",\"kind\":\"zone_enter\"}",
		  "zone_enter\t\\N\tT1\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t{}\t"
		  ",\"vehicle\":\"T1\",\"kind\":\"zone_enter\"}\n", GW_BATCH_OK },
		{ "integers, nested detail, escapes",
		  "{\"id\":null,\"kind\":\"k\\t\",\"vehicle\":\"\\u664bA\",\"zone_id\":12,\"lat\":37,"
		  "\"detail\":{\"a\":[1,2.5],\"b\":\"x\\\\y\"}}",
		  "k\\t\t\\N\t晋A\t12\t\\N\t\\N\t37\t\\N\t\\N\t{\"a\":[1,2.5],\"b\":\"x\\\\\\\\y\"}\t"
		  ",\"kind\":\"k\\\\t\",\"vehicle\":\"\\\\u664bA\",\"zone_id\":12,\"lat\":37,"
		  "\"detail\":{\"a\":[1,2.5],\"b\":\"x\\\\\\\\y\"}}\n", GW_BATCH_OK },
		{ "not JSON", "{\"id\":null,\"vehicle\":\"T1\",", NULL, GW_BATCH_EALERT },
		{ "no vehicle", "{\"id\":null,\"kind\":\"zone_enter\"}", NULL, GW_BATCH_EALERT },
		{ "empty vehicle", "{\"id\":null,\"vehicle\":\"\"}", NULL, GW_BATCH_EALERT },
		{ "id alone", "{\"id\":null}", NULL, GW_BATCH_EALERT },
		{ "space after", "{\"id\":null,\"vehicle\":\"T1\"} ", NULL, GW_BATCH_EALERT },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct gw_buf pairs = { 0 }, conv = { 0 };
		struct gw_batch_view v = { .version = 1, .nalerts = 1 };
		int rc;

		assert_int_equal(gw_buf_add(&pairs, "T1", 3), 0);
		assert_int_equal(gw_buf_add(&pairs, cases[c].json, strlen(cases[c].json) + 1), 0);
		v.alerts = pairs.p;
		v.alerts_len = pairs.len;
		assert_int_equal(gw_buf_add(&conv, "before", 6), 0);
		rc = gw_batch_v1_alerts(&v, &conv);
		if (rc != cases[c].rc)
			fail_msg("%s: %s", cases[c].name, gw_batch_strerror(rc));
		if (cases[c].row) {
			char *got = strndup(conv.p + 6, conv.len - 6);

			if (strcmp(got, cases[c].row) != 0)
				fail_msg("%s: got %s", cases[c].name, got);
			free(got);
		} else {
			assert_int_equal(conv.len, 6);   /* nothing written */
		}
		gw_buf_free(&pairs);
		gw_buf_free(&conv);
	}
}

struct seen {
	int n;
	char last[64];
};

static void
count_dirty(struct gw_vehicle *v, void *arg)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", v->name);
}

static void
test_vtab(void **state)
{
	struct gw_vtab *t = gw_vtab_new();
	struct gw_vehicle *v;
	struct seen s = { 0 };
	char name[40];

	(void)state;
	assert_non_null(t);
	v = gw_vtab_get(t, "晋A10001");
	assert_non_null(v);
	v->seq = 5;
	v->has_seq = true;
	gw_vtab_touch(t, v);
	gw_vtab_touch(t, v);          /* once per batch */
	/* Growth keeps entries and the dirty list (by name). */
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "V%d", i);
		assert_non_null(gw_vtab_get(t, name));
	}
	assert_int_equal(gw_vtab_count(t), 5001);
	v = gw_vtab_get(t, "晋A10001");
	assert_int_equal(v->seq, 5);
	assert_true(v->dirty);
	gw_vtab_drain_dirty(t, count_dirty, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.last, "晋A10001");
	assert_false(gw_vtab_get(t, "晋A10001")->dirty);
	s.n = 0;
	gw_vtab_drain_dirty(t, count_dirty, &s);
	assert_int_equal(s.n, 0);
	/* Names out of range are refused. */
	assert_null(gw_vtab_get(t, ""));
	assert_null(gw_vtab_get(t, "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABC"));
	gw_vtab_free(t);
}

/* Periodic state saves on an injected clock (issue 11 item 7): due after
 * the interval, not before, and due at once when the clock went back (the
 * wall clock stepped an hour back used to stop saves for an hour). */
static void
test_state_due(void **state)
{
	struct gw_vehicle v = { .saved_mono_us = 5000000000 };
	const int64_t iv = 5000000;   /* state_interval_ms = 5000 */

	(void)state;
	assert_false(gw_vtab_state_due(&v, 5000000000 + iv - 1, iv));
	assert_true(gw_vtab_state_due(&v, 5000000000 + iv, iv));
	assert_true(gw_vtab_state_due(&v, 5000000000 - 3600000000, iv));
	assert_true(gw_vtab_state_due(&v, 5000000000 - 1, iv));
	assert_false(gw_vtab_state_due(&v, 5000000000, iv));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_ts),
		cmocka_unit_test(test_format_i64),
		cmocka_unit_test(test_format_ts_cache),
		cmocka_unit_test(test_pos_notify),
		cmocka_unit_test(test_copy_escape),
		cmocka_unit_test(test_position_row),
		cmocka_unit_test(test_reject_row),
		cmocka_unit_test(test_alert_rows),
		cmocka_unit_test(test_alert_row_refused),
		cmocka_unit_test(test_record_round_trip),
		cmocka_unit_test(test_alert_rows_refused),
		cmocka_unit_test(test_v1_record),
		cmocka_unit_test(test_v2_record_positions),
		cmocka_unit_test(test_v1_alert_cases),
		cmocka_unit_test(test_vtab),
		cmocka_unit_test(test_state_due),
	};

	return cmocka_run_group_tests_name("gateway_batch", tests, NULL, NULL);
}
