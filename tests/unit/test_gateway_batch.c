/*
 * test_gateway_batch: the gateway's batch (gateway/gw_batch.c: COPY text
 * rows, timestamps, escaping, the spool record) and its vehicle table
 * (gateway/gw_vtab.c: seq/dirty bookkeeping, growth). Table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/gw_batch.h"
#include "gateway/gw_vtab.h"
#include "ingest/ingest.h"

/* Nothing here logs, so gw_batch.c links alone. */

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

static void
test_copy_escape(void **state)
{
	static const struct { const char *in; const char *want; } cases[] = {
		{ "plain", "plain" },
		{ "晋A12345", "晋A12345" },
		{ "a\\b", "a\\\\b" },
		{ "tab\there", "tab\\there" },
		{ "line\nbreak\r", "line\\nbreak\\r" },
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
	strcpy(f.vehicle, "晋A1\\2");
	f.time_us = 1565424000123000LL;
	f.lat = 37.604999;
	f.lon = -112.3600398;
	f.speed_kmh = 30.9;
	f.seq = 42;
	f.fix = 3;
	strcpy(f.hazard_class, "2.1");
	f.present = ING_HAS_SPEED | ING_HAS_SEQ | ING_HAS_FIX | ING_HAS_HAZARD_CLASS;
	assert_int_equal(gw_batch_add_position(&b, &f, zones, 2, 0), 0);
	assert_int_equal(b.npos, 1);
	row = strndup(b.pos.p, b.pos.len);
	assert_string_equal(row,
		"晋A1\\\\2\t2019-08-10 08:00:00.123000+00\t37.604999\t-112.3600398\t30.9\t\\N\t\\N\t"
		"\\N\t3\t\\N\t\\N\t2.1\t42\t\\N\t{3,7}\t1970-01-01 00:00:00.000000+00\n");
	free(row);
	/* No zones: an empty array, not NULL. */
	b.pos.len = 0;
	f.present = 0;
	assert_int_equal(gw_batch_add_position(&b, &f, NULL, 0, 0), 0);
	assert_non_null(strstr(b.pos.p, "\t{}\t"));
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

static void
test_record_round_trip(void **state)
{
	struct gw_batch b = { 0 };
	struct gw_buf rec = { 0 };
	struct gw_batch_view v;
	struct ing_fix f = { 0 };
	const uint8_t blob[] = { 'H', 'G', 'V', 'S', 1, 2, 3 };
	const char *veh, *json;
	size_t off = 0;

	(void)state;
	strcpy(f.vehicle, "T1");
	f.time_us = 1;
	assert_true(gw_batch_empty(&b));
	assert_int_equal(gw_batch_add_position(&b, &f, NULL, 0, 0), 0);
	assert_int_equal(gw_batch_add_alert(&b, "T1", "{\"id\":null,\"kind\":\"zone_enter\"}", 31), 0);
	assert_int_equal(gw_batch_add_alert(&b, "T2", "{\"id\":null,\"kind\":\"zone_exit\"}", 30), 0);
	assert_int_equal(gw_batch_add_state(&b, "T1", 1, 1.5, 2.5, blob, sizeof(blob), true, 9), 0);
	assert_false(gw_batch_empty(&b));
	assert_int_equal(gw_batch_serialize(&b, &rec), 0);
	assert_int_equal(rec.len, gw_batch_bytes(&b));
	assert_int_equal(gw_batch_parse(rec.p, rec.len, &v), 0);
	assert_int_equal(v.npos, 1);
	assert_int_equal(v.nalerts, 2);
	assert_int_equal(v.nstates, 1);
	assert_int_equal(v.nrejects, 0);
	assert_memory_equal(v.pos, b.pos.p, b.pos.len);
	assert_non_null(strstr(v.states, "\\\\x4847565301020"));
	assert_int_equal(gw_batch_next_alert(&v, &off, &veh, &json), 0);
	assert_string_equal(veh, "T1");
	assert_string_equal(json, "{\"id\":null,\"kind\":\"zone_enter\"}");
	assert_int_equal(gw_batch_next_alert(&v, &off, &veh, &json), 0);
	assert_string_equal(veh, "T2");
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
	gw_batch_free(&b);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_ts),
		cmocka_unit_test(test_copy_escape),
		cmocka_unit_test(test_position_row),
		cmocka_unit_test(test_reject_row),
		cmocka_unit_test(test_record_round_trip),
		cmocka_unit_test(test_vtab),
	};

	return cmocka_run_group_tests_name("gateway_batch", tests, NULL, NULL);
}
