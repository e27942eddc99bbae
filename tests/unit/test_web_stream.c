/*
 * test_web_stream: the pure parts of the live feed. A position goes from
 * the gateway's COPY row (gw_batch_add_position) through its NOTIFY payload
 * (gw_batch_pos_notify: fields, RFC 3339 time, payloads under the 8000
 * byte limit) to the stream's `position` JSON (web_pos_parse,
 * web_pos_json); lines that are not the gateway's are refused; an alert
 * notification becomes the `alert` event's data (web_alert_from_notify).
 * Table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <jansson.h>

#include "gateway/gw_batch.h"
#include "ingest/ingest.h"
#include "web/web_stream.h"

/* The position event JSON of a fix, through the gateway and the stream. */
static void
fix_to_json(const struct ing_fix *f, const int64_t *zones, size_t nz, char *out, size_t cap)
{
	struct gw_batch b = { 0 };
	struct gw_buf n = { 0 };
	size_t payload = 0;
	struct web_pos p;

	assert_int_equal(gw_batch_add_position(&b, f, zones, nz, 1565424000000000LL), 0);
	assert_int_equal(gw_batch_pos_notify(&n, &payload, b.pos.p, b.pos.len), 0);
	assert_non_null(n.p);
	assert_null(memchr(n.p, '\n', n.len));
	assert_int_equal(web_pos_parse(n.p, n.len, &p), 0);
	assert_true(web_pos_json(&p, out, cap) > 0);
	gw_buf_free(&n);
	gw_batch_free(&b);
}

static void
test_position_round_trip(void **state)
{
	static const int64_t z2[] = { 7, 123456 };
	static const struct {
		const char *vehicle;
		unsigned present;
		double speed, heading;
		const int64_t *zones;
		size_t nz;
		const char *want;
	} cases[] = {
		{ "晋A12345", ING_HAS_SPEED | ING_HAS_HEADING, 42.5, 90, z2, 2,
		  "{\"vehicle\":\"晋A12345\",\"ts\":\"2019-08-10T08:00:00.123Z\",\"lat\":37.76,"
		  "\"lon\":112.5,\"speed_kmh\":42.5,\"heading\":90,\"zone_ids\":[7,123456]}" },
		{ "no-speed", 0, 0, 0, NULL, 0,
		  "{\"vehicle\":\"no-speed\",\"ts\":\"2019-08-10T08:00:00.123Z\",\"lat\":37.76,"
		  "\"lon\":112.5,\"speed_kmh\":null,\"heading\":null,\"zone_ids\":[]}" },
		/* COPY escapes undone, JSON escapes made */
		{ "a\\b\t\"q\"", ING_HAS_SPEED, 0, 0, NULL, 0,
		  "{\"vehicle\":\"a\\\\b\\t\\\"q\\\"\",\"ts\":\"2019-08-10T08:00:00.123Z\","
		  "\"lat\":37.76,\"lon\":112.5,\"speed_kmh\":0,\"heading\":null,\"zone_ids\":[]}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ing_fix f = { 0 };
		char json[512];

		snprintf(f.vehicle, sizeof(f.vehicle), "%s", cases[i].vehicle);
		f.time_us = 1565424000123456LL;
		f.lat = 37.76;
		f.lon = 112.5;
		f.speed_kmh = cases[i].speed;
		f.heading = cases[i].heading;
		f.present = cases[i].present;
		fix_to_json(&f, cases[i].zones, cases[i].nz, json, sizeof(json));
		assert_string_equal(json, cases[i].want);
	}
}

/* Many rows: payloads of at most 7999 bytes, separated by an empty line,
 * every row once, in order. */
static void
test_payload_split(void **state)
{
	struct gw_batch b = { 0 };
	struct gw_buf n = { 0 };
	size_t payload = 0, rows = 0, npayloads = 0;
	int64_t zones[40];
	const char *p, *end;

	(void)state;
	for (int i = 0; i < 40; i++)
		zones[i] = 1000000 + i;
	for (int i = 0; i < 500; i++) {
		struct ing_fix f = { .lat = 37.5, .lon = 112.25, .present = ING_HAS_SPEED };

		snprintf(f.vehicle, sizeof(f.vehicle), "V%04d", i);
		f.time_us = 1565424000000000LL + i;
		assert_int_equal(gw_batch_add_position(&b, &f, zones, (size_t)(i % 40), 0), 0);
	}
	/* two sections, as two spool records of one group */
	assert_int_equal(gw_batch_pos_notify(&n, &payload, b.pos.p, b.pos.len / 2 +
					     (size_t)(strchr(b.pos.p + b.pos.len / 2, '\n') -
						      (b.pos.p + b.pos.len / 2)) + 1), 0);
	{
		const char *second = strchr(b.pos.p + b.pos.len / 2, '\n') + 1;

		assert_int_equal(gw_batch_pos_notify(&n, &payload, second,
						     (size_t)(b.pos.p + b.pos.len - second)), 0);
	}
	p = n.p;
	end = n.p + n.len;
	while (p < end) {
		const char *sep = memmem(p, (size_t)(end - p), "\n\n", 2), *q;
		size_t len = (size_t)((sep ? sep : end) - p);

		assert_true(len <= GW_POS_NOTIFY_MAX);
		assert_true(len > 0);
		npayloads++;
		for (q = p; q < p + len;) {
			const char *eol = memchr(q, '\n', (size_t)(p + len - q));
			size_t l = (size_t)((eol ? eol : p + len) - q);
			struct web_pos wp;
			char want[8];

			assert_int_equal(web_pos_parse(q, l, &wp), 0);
			snprintf(want, sizeof(want), "V%04zu", rows);
			assert_string_equal(wp.vehicle, want);
			rows++;
			q += l + 1;
		}
		p += len + (sep ? 2 : 0);
	}
	assert_int_equal(rows, 500);
	assert_true(npayloads > 5);
	gw_buf_free(&n);
	gw_batch_free(&b);
}

static void
test_position_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4",               /* six fields */
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t5\t6",         /* eight */
		"\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t",              /* no vehicle */
		"123456789012345678901234567890123\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t",
		"V\\x\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t",          /* bad escape */
		"V\xff\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t",         /* not UTF-8 */
		"V\xe6\x99\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t",     /* cut UTF-8 */
		"V\t2019-08-10 08:00:00.000+00\t1\t2\t3\t4\t",
		"V\t2019-02-30T08:00:00.000Z\t1\t2\t3\t4\t",
		"V\t2019-08-10T08:00:00.000Z\t91\t2\t3\t4\t",            /* lat */
		"V\t2019-08-10T08:00:00.000Z\t1\t-181\t3\t4\t",          /* lon */
		"V\t2019-08-10T08:00:00.000Z\t1e1\t2\t3\t4\t",           /* not fixed-point */
		"V\t2019-08-10T08:00:00.000Z\tnan\t2\t3\t4\t",
		"V\t2019-08-10T08:00:00.000Z\t\\N\t2\t3\t4\t",           /* lat null */
		"V\t2019-08-10T08:00:00.000Z\t1.\t2\t3\t4\t",
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t00\t4\t",          /* not JSON (fuzzing found it) */
		"V\t2019-08-10T08:00:00.000Z\t-01.5\t2\t3\t4\t",
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t3}\t4\t",            /* JSON in a number */
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t1,,2",
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t1,",
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t,1",
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t1]",
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t12345678901",
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t7,00",    /* fuzzing found it */
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t--2",     /* and this */
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t1-2",
		"V\t2019-08-10T08:00:00.000Z\t1\t2\t3\t4\t-",
	};
	struct web_pos p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (web_pos_parse(bad[i], strlen(bad[i]), &p) != -1)
			fail_msg("accepted: case %zu", i);
	assert_int_equal(web_pos_parse("V\t2019-08-10T08:00:00.000Z\t-1.5\t2\t\\N\t\\N\t-3,4", 44,
				       &p), 0);
}

static void
test_alert_from_notify(void **state)
{
	static const struct { const char *in; long long id; const char *want; } cases[] = {
		{ "{\"id\":12,\"kind\":\"overspeed\",\"detail\":{}}", 12,
		  "{\"id\":12,\"kind\":\"overspeed\",\"detail\":{},\"acked_at\":null,"
		  "\"acked_by\":null,\"ack_note\":null}" },
		/* not one line: re-serialised, so it cannot break the event */
		{ "{\"id\":3,\n\"x\":\"a\"}", 3,
		  "{\"id\":3,\"x\":\"a\",\"acked_at\":null,\"acked_by\":null,\"ack_note\":null}" },
		{ "{\"id\":\"3\"}", -1, NULL },
		{ "{\"id\":0}", -1, NULL },
		{ "[1]", -1, NULL },
		{ "{\"id\":1", -1, NULL },
		{ "", -1, NULL },
		{ "{\"id\":1,\"id\":2}", -1, NULL },
	};
	struct evbuffer *out = evbuffer_new();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t id = 0;
		int rc = web_alert_from_notify(cases[i].in, strlen(cases[i].in), out, &id);

		if (cases[i].id < 0) {
			assert_int_equal(rc, -1);
			assert_int_equal(evbuffer_get_length(out), 0);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(id, cases[i].id);
		evbuffer_add(out, "", 1);
		assert_string_equal((const char *)evbuffer_pullup(out, -1), cases[i].want);
	}
	evbuffer_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_position_round_trip),
		cmocka_unit_test(test_payload_split),
		cmocka_unit_test(test_position_refused),
		cmocka_unit_test(test_alert_from_notify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
