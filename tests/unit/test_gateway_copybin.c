/*
 * test_gateway_copybin: COPY text rows to PostgreSQL's binary COPY format
 * (gateway/gw_copybin.c), the form the writer sends positions in (issue
 * 15). Table-driven: each type's forms, their bytes or their refusal; the
 * header and trailer; then properties: every positions row the batch
 * writes (random fixes through gw_batch_add_position) converts, each value
 * the one PostgreSQL's text input makes of it (fuzz_copybin_check: strtod,
 * strtof, strtoll, timegm); random decimals, on both sides of the float
 * fast path's limits, give strtod's and strtof's bits. Last, the fuzz
 * target's corpus (tests/fuzz/corpus/gateway_copybin: seeds named
 * <outcome>--<what>, ok or EVALUE) under the same contract. The server's
 * side (the same rows stored by text and binary COPY, compared byte for
 * byte) is tests/integration/49-positions-compact.bats.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/gw_batch.h"
#include "gateway/gw_copybin.h"
#include "ingest/ingest.h"
#include "tests/fuzz/fuzz_copybin.h"
#include "tests/unit/corpus_walk.h"

struct bin_case {
	const char *what;
	enum gw_bin_type type;
	const char *in;          /* one row of one column, without its newline */
	int rc;
	const char *want;        /* the field's bytes (length word first), hex */
	size_t want_len;
};

#define HX(s) s, sizeof(s) - 1

static const struct bin_case cases[] = {
	{ "NULL", GW_BIN_FLOAT8, "\\N", GW_BIN_OK, HX("\xff\xff\xff\xff") },
	{ "text", GW_BIN_TEXT, "晋A1", GW_BIN_OK, HX("\x00\x00\x00\x05\xe6\x99\x8b" "A1") },
	{ "text escapes", GW_BIN_TEXT, "a\\tb\\\\\\n", GW_BIN_OK, HX("\x00\x00\x00\x05" "a\tb\\\n") },
	{ "empty text", GW_BIN_TEXT, "", GW_BIN_OK, HX("\x00\x00\x00\x00") },
	{ "text with an escaped NUL", GW_BIN_TEXT, "a\\000", GW_BIN_EVALUE, NULL, 0 },
	{ "timestamp", GW_BIN_TSTZ, "2000-01-01 00:00:00.000001+00", GW_BIN_OK,
	  HX("\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x01") },
	{ "timestamp before 2000", GW_BIN_TSTZ, "1999-12-31 23:59:59+00", GW_BIN_OK,
	  HX("\x00\x00\x00\x08\xff\xff\xff\xff\xff\xf0\xbd\xc0") },
	{ "timestamp, 3 decimals", GW_BIN_TSTZ, "2000-01-01 00:00:00.5+00", GW_BIN_OK,
	  HX("\x00\x00\x00\x08\x00\x00\x00\x00\x00\x07\xa1\x20") },
	{ "February 29 of a leap year", GW_BIN_TSTZ, "2024-02-29 00:00:00+00", GW_BIN_OK, NULL, 0 },
	{ "February 29 otherwise", GW_BIN_TSTZ, "2100-02-29 00:00:00+00", GW_BIN_EVALUE, NULL, 0 },
	{ "24:00", GW_BIN_TSTZ, "2026-01-01 24:00:00+00", GW_BIN_EVALUE, NULL, 0 },
	{ "leap second", GW_BIN_TSTZ, "2026-01-01 23:59:60+00", GW_BIN_EVALUE, NULL, 0 },
	{ "year 0", GW_BIN_TSTZ, "0000-01-01 00:00:00+00", GW_BIN_EVALUE, NULL, 0 },
	{ "other zone", GW_BIN_TSTZ, "2026-01-01 00:00:00+08", GW_BIN_EVALUE, NULL, 0 },
	{ "seven decimals", GW_BIN_TSTZ, "2026-01-01 00:00:00.1234567+00", GW_BIN_EVALUE, NULL, 0 },
	{ "a dot without decimals", GW_BIN_TSTZ, "2026-01-01 00:00:00.+00", GW_BIN_EVALUE, NULL, 0 },
	{ "float8", GW_BIN_FLOAT8, "-1.5", GW_BIN_OK,
	  HX("\x00\x00\x00\x08\xbf\xf8\x00\x00\x00\x00\x00\x00") },
	{ "float8 minus zero", GW_BIN_FLOAT8, "-0", GW_BIN_OK,
	  HX("\x00\x00\x00\x08\x80\x00\x00\x00\x00\x00\x00\x00") },
	{ "float8 exponent", GW_BIN_FLOAT8, "1e+300", GW_BIN_OK, NULL, 0 },
	{ "float8 overflow", GW_BIN_FLOAT8, "1e999", GW_BIN_EVALUE, NULL, 0 },
	{ "float8 NaN", GW_BIN_FLOAT8, "nan", GW_BIN_EVALUE, NULL, 0 },
	{ "float8 plus sign", GW_BIN_FLOAT8, "+1", GW_BIN_EVALUE, NULL, 0 },
	{ "float8 space", GW_BIN_FLOAT8, " 1", GW_BIN_EVALUE, NULL, 0 },
	{ "float8 hex", GW_BIN_FLOAT8, "0x10", GW_BIN_EVALUE, NULL, 0 },
	{ "float8 trailing dot", GW_BIN_FLOAT8, "1.", GW_BIN_EVALUE, NULL, 0 },
	{ "float4", GW_BIN_FLOAT4, "0.1", GW_BIN_OK, HX("\x00\x00\x00\x04\x3d\xcc\xcc\xcd") },
	{ "float4 overflow", GW_BIN_FLOAT4, "1e39", GW_BIN_EVALUE, NULL, 0 },
	{ "float4 underflow", GW_BIN_FLOAT4, "1e-50", GW_BIN_EVALUE, NULL, 0 },
	{ "int2", GW_BIN_INT2, "-32768", GW_BIN_OK, HX("\x00\x00\x00\x02\x80\x00") },
	{ "int2 out of range", GW_BIN_INT2, "32768", GW_BIN_EVALUE, NULL, 0 },
	{ "int4", GW_BIN_INT4, "-1", GW_BIN_OK, HX("\x00\x00\x00\x04\xff\xff\xff\xff") },
	{ "int8", GW_BIN_INT8, "9223372036854775807", GW_BIN_OK,
	  HX("\x00\x00\x00\x08\x7f\xff\xff\xff\xff\xff\xff\xff") },
	{ "int8 out of range", GW_BIN_INT8, "9223372036854775808", GW_BIN_EVALUE, NULL, 0 },
	{ "int8 minimum", GW_BIN_INT8, "-9223372036854775808", GW_BIN_OK,
	  HX("\x00\x00\x00\x08\x80\x00\x00\x00\x00\x00\x00\x00") },
	{ "int empty", GW_BIN_INT4, "", GW_BIN_EVALUE, NULL, 0 },
	{ "int minus alone", GW_BIN_INT4, "-", GW_BIN_EVALUE, NULL, 0 },
	{ "bool t", GW_BIN_BOOL, "t", GW_BIN_OK, HX("\x00\x00\x00\x01\x01") },
	{ "bool f", GW_BIN_BOOL, "f", GW_BIN_OK, HX("\x00\x00\x00\x01\x00") },
	{ "bool true", GW_BIN_BOOL, "true", GW_BIN_EVALUE, NULL, 0 },
	{ "empty array", GW_BIN_INT4_ARRAY, "{}", GW_BIN_OK,
	  HX("\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17") },
	{ "array", GW_BIN_INT4_ARRAY, "{7,-1}", GW_BIN_OK,
	  HX("\x00\x00\x00\x24\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x17"
	     "\x00\x00\x00\x02\x00\x00\x00\x01"
	     "\x00\x00\x00\x04\x00\x00\x00\x07\x00\x00\x00\x04\xff\xff\xff\xff") },
	{ "array with a space", GW_BIN_INT4_ARRAY, "{1, 2}", GW_BIN_EVALUE, NULL, 0 },
	{ "array with NULL", GW_BIN_INT4_ARRAY, "{NULL}", GW_BIN_EVALUE, NULL, 0 },
	{ "array, empty element", GW_BIN_INT4_ARRAY, "{1,}", GW_BIN_EVALUE, NULL, 0 },
	{ "array, brace inside", GW_BIN_INT4_ARRAY, "{1}2}", GW_BIN_EVALUE, NULL, 0 },
	{ "array, over int4", GW_BIN_INT4_ARRAY, "{2147483648}", GW_BIN_EVALUE, NULL, 0 },
	{ "two dimensions", GW_BIN_INT4_ARRAY, "{{1}}", GW_BIN_EVALUE, NULL, 0 },
};

static void
test_cases(void **state)
{
	struct gw_buf out = { 0 }, in = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bin_case *c = &cases[i];
		uint64_t rows = 0;
		int rc;

		out.len = in.len = 0;
		assert_int_equal(gw_buf_add(&in, c->in, strlen(c->in)), 0);
		assert_int_equal(gw_buf_add(&in, "\n", 1), 0);
		rc = gw_copybin_rows(&out, &c->type, 1, in.p, in.len, &rows);
		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d", c->what, rc, c->rc);
		if (fuzz_copybin_check(&c->type, 1, in.p, in.len) != 0)
			fail_msg("%s: the contract is broken", c->what);
		if (rc != GW_BIN_OK) {
			assert_int_equal(out.len, 0);
			assert_int_equal(rows, 0);
			continue;
		}
		assert_int_equal(rows, 1);
		assert_memory_equal(out.p, "\x00\x01", 2);
		if (c->want && (out.len != 2 + c->want_len || memcmp(out.p + 2, c->want, c->want_len)))
			fail_msg("%s: other bytes", c->what);
	}
	gw_buf_free(&out);
	gw_buf_free(&in);
}

static void
test_header_trailer_rows(void **state)
{
	static const enum gw_bin_type two[2] = { GW_BIN_INT2, GW_BIN_BOOL };
	struct gw_buf out = { 0 };
	uint64_t rows = 0;

	(void)state;
	assert_int_equal(gw_copybin_header(&out), GW_BIN_OK);
	assert_int_equal(out.len, 19);
	assert_memory_equal(out.p, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
	assert_int_equal(gw_copybin_rows(&out, two, 2, "1\tt\n2\t\\N\n", 9, &rows), GW_BIN_OK);
	assert_int_equal(rows, 2);
	/* per row: the count (2), then length words and values: 2 + 6 + 5, 2 + 6 + 4 */
	assert_int_equal(out.len, 19 + 13 + 12);
	assert_memory_equal(out.p + 19, "\0\2\0\0\0\2\0\1\0\0\0\1\1", 13);
	assert_memory_equal(out.p + 32, "\0\2\0\0\0\2\0\2\377\377\377\377", 12);
	/* a refused row leaves what came before, the good rows too */
	assert_int_equal(gw_copybin_rows(&out, two, 2, "3\tf\nx\tt\n", 8, &rows),
			 GW_BIN_EVALUE);
	assert_int_equal(rows, 2);
	assert_int_equal(out.len, 44);
	/* not COPY text of two columns */
	assert_int_equal(gw_copybin_rows(&out, two, 2, "1\n", 2, &rows), GW_BIN_EVALUE);
	assert_int_equal(gw_copybin_rows(&out, two, 2, "1\tt", 3, &rows), GW_BIN_EVALUE);
	assert_int_equal(gw_copybin_trailer(&out), GW_BIN_OK);
	assert_int_equal(out.len, 46);
	assert_memory_equal(out.p + 44, "\377\377", 2);
	gw_buf_free(&out);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15u;

static uint64_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static double
rnd_unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* Every positions row the batch writer makes converts, to the values the
 * server's text input gives. */
static void
test_positions_property(void **state)
{
	struct gw_batch b = { 0 };

	(void)state;
	for (int rn = 0; rn < 200; rn++) {
		gw_batch_reset(&b);
		for (int r = 0; r < 50; r++) {
			struct ing_fix f = { 0 };
			int64_t zones[4];
			size_t nz = rnd() % 5;

			snprintf(f.vehicle, sizeof(f.vehicle), "%s%llu",
				 rnd() % 2 ? "晋A" : "v\\\t", (unsigned long long)(rnd() % 100000));
			/* 1900 .. 2100, microseconds */
			f.time_us = (int64_t)(rnd() % 6311390400000000ull) - 2208988800000000ll;
			f.lat = rnd_unit() * 180 - 90;
			f.lon = rnd_unit() * 360 - 180;
			if (rnd() % 3 == 0) {
				f.lat = round(f.lat * 1e7) / 1e7;
				f.lon = round(f.lon * 1e7) / 1e7;
			}
			f.speed_kmh = round(rnd_unit() * 300 * 1000) / 1000;
			f.heading = round(rnd_unit() * 3600) / 10;
			f.alt_m = rnd() % 2 ? rnd_unit() * 1e13 - 5e12 : round(rnd_unit() * 9e6) / 1e3;
			f.hdop = rnd_unit() * 100;
			f.fix = (int)(rnd() % 4);
			f.sats = (int)(rnd() % 40);
			snprintf(f.un, sizeof(f.un), "%u", (unsigned)(rnd() % 4000));
			snprintf(f.hazard_class, sizeof(f.hazard_class), "%u.%u",
				 (unsigned)(rnd() % 9), (unsigned)(rnd() % 4));
			f.seq = (int64_t)rnd();
			f.ignition = rnd() % 2;
			f.alarms = (uint32_t)rnd();
			f.present = (unsigned)rnd();
			for (size_t z = 0; z < nz; z++)
				zones[z] = (int64_t)(rnd() % 4294967296ull) - 2147483648ll;
			assert_int_equal(gw_batch_add_position(&b, &f, zones, nz,
							       f.time_us + (int64_t)(rnd() % 10000000)), 0);
		}
		{
			struct gw_buf out = { 0 };
			uint64_t rows = 0;

			assert_int_equal(gw_copybin_rows(&out, gw_copybin_pos_types,
							 GW_BATCH_POS_FIELDS, b.pos.p, b.pos.len, &rows),
					 GW_BIN_OK);
			assert_int_equal(rows, 50);
			gw_buf_free(&out);
		}
		if (fuzz_copybin_check(gw_copybin_pos_types, GW_BATCH_POS_FIELDS, b.pos.p,
				       b.pos.len) != 0)
			fail_msg("round %d: the contract is broken", rn);
	}
	gw_batch_free(&b);
}

/* Decimals of 1 to 19 digits, 0 to 24 of them after the point, with and
 * without an exponent: the library's bits, through the fast path or not. */
static void
test_float_property(void **state)
{
	static const enum gw_bin_type t8 = GW_BIN_FLOAT8, t4 = GW_BIN_FLOAT4;
	char row[64];

	(void)state;
	for (int i = 0; i < 200000; i++) {
		unsigned nd = 1 + (unsigned)(rnd() % 19), k = (unsigned)(rnd() % 25), n = 0;
		uint64_t m = rnd();
		char digits[24];

		if (rnd() % 2)
			row[n++] = '-';
		for (unsigned d = 0; d < nd; d++) {
			digits[d] = (char)('0' + m % 10);
			m /= 10;
		}
		for (unsigned d = 0; d < nd; d++) {
			if (k < nd && d == nd - k && d > 0)
				row[n++] = '.';
			row[n++] = digits[d];
		}
		if (rnd() % 8 == 0)
			n += (unsigned)snprintf(row + n, sizeof(row) - n, "e%d", (int)(rnd() % 80) - 40);
		row[n++] = '\n';
		if (fuzz_copybin_check(&t8, 1, row, n) != 0 || fuzz_copybin_check(&t4, 1, row, n) != 0)
			fail_msg("%.*s: other bits than the library's", (int)n - 1, row);
	}
}

/* A corpus file as the fuzz target reads it: the contract, and the
 * outcome its name says. */
static bool
replay_file(const char *name, const uint8_t *data, size_t size, const void *arg)
{
	enum gw_bin_type types[GW_BATCH_POS_FIELDS];
	size_t ncols;
	uint64_t rows = 0;
	struct gw_buf out = { 0 };
	int rc;

	(void)arg;
	if (size < 1)
		return false;
	ncols = (size_t)data[0] % GW_BATCH_POS_FIELDS + 1;
	if (size < 1 + ncols)
		return false;
	for (size_t c = 0; c < ncols; c++)
		types[c] = (enum gw_bin_type)(data[1 + c] % (GW_BIN_INT4_ARRAY + 1));
	data += 1 + ncols;
	size -= 1 + ncols;
	if (fuzz_copybin_check(types, ncols, (const char *)data, size) != 0)
		fail_msg("%s: the contract is broken", name);
	rc = gw_copybin_rows(&out, types, ncols, (const char *)data, size, &rows);
	gw_buf_free(&out);
	if (strncmp(name, "ok--", 4) == 0) {
		if (rc != GW_BIN_OK)
			fail_msg("%s: refused (%s)", name, gw_copybin_strerror(rc));
		return true;
	}
	if (strncmp(name, "EVALUE--", 8) == 0) {
		if (rc != GW_BIN_EVALUE)
			fail_msg("%s: rc %d, want EVALUE", name, rc);
		return true;
	}
	return false;
}

static void
test_corpus(void **state)
{
	struct corpus_count n;

	(void)state;
	n = corpus_walk("corpus/gateway_copybin", "", replay_file, NULL);
	assert_true(n.checked >= 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_header_trailer_rows),
		cmocka_unit_test(test_positions_property),
		cmocka_unit_test(test_float_property),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
