/*
 * test_ctl_trackfix.c - ctl/ctl_trackfix.c, hazgate-ctl track's writer of
 * decoded fixes, against the writer it stands for: for each set of fixes
 * and each format (GeoJSON, CSV, JSON lines, GPX), ctl_track_write_fixes()
 * must write byte for byte what ctl_track_write() writes for
 * ctl_fixes_track_result() of the same fixes (the text PostgreSQL gives,
 * read back through jansson: the output of hazgate-ctl track before the
 * writer, and of hazgate-web's export). Named cases (no fix, one, NULL in
 * every field, signs and zeros, NaN and the infinities, floats at their
 * extremes, non-ASCII and hostile text, zone lists with NULL ids) and
 * random fixes (random bit patterns of every float besides the values the
 * gateway stores).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/ctl_slices.h"

static const enum ctl_format formats[] = { CTL_FMT_GEOJSON, CTL_FMT_CSV, CTL_FMT_JSON,
					   CTL_FMT_GPX };
static const char *const format_names[] = { "geojson", "csv", "json", "gpx" };

/* Both writers' output of f in every format must be the same bytes. */
static void
check_same(const char *name, const char *vehicle, const struct ctl_fixes *f)
{
	for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
		char *old = NULL, *new = NULL;
		size_t nold = 0, nnew = 0;
		FILE *a = open_memstream(&old, &nold), *b = open_memstream(&new, &nnew);
		assert_non_null(a);
		assert_non_null(b);
		PGresult *res = ctl_fixes_track_result(f);
		assert_non_null(res);
		ctl_track_write(a, formats[k], vehicle, "2026-11-02T00:00:00.000Z",
				"2026-11-03T00:00:00.000Z", res);
		PQclear(res);
		assert_int_equal(ctl_track_write_fixes(b, formats[k], vehicle,
						       "2026-11-02T00:00:00.000Z",
						       "2026-11-03T00:00:00.000Z", f),
				 0);
		fclose(a);
		fclose(b);
		if (nold != nnew || memcmp(old, new, nold) != 0) {
			size_t i = 0;
			while (i < nold && i < nnew && old[i] == new[i])
				i++;
			size_t from = i > 80 ? i - 80 : 0;
			fail_msg("%s, %s (%zu fixes): differ at byte %zu of %zu/%zu\n"
				 "  old: ...%.*s\n  new: ...%.*s",
				 name, format_names[k], f->n, i, nold, nnew,
				 (int)(nold - from < 200 ? nold - from : 200), old + from,
				 (int)(nnew - from < 200 ? nnew - from : 200), new + from);
		}
		free(old);
		free(new);
	}
}

/* A fix as the gateway mostly stores it. */
static struct ctl_fix
plain_fix(int64_t ts)
{
	static const int32_t zones[] = { 3, 8 };
	return (struct ctl_fix){ .ts_us = ts, .lat = 37.7418593, .lon = 112.5564811,
				 .speed = 26.8f, .heading = 242.2f, .alt = 812.5f, .hdop = 1.2f,
				 .fix = 3, .sats = 9, .un = "1203", .hc = "3", .zones = zones,
				 .nzones = 2 };
}

static struct ctl_fixes
fixes_of(const struct ctl_fix *v, size_t n)
{
	struct ctl_fixes f = { 0 };
	f.v = calloc(n ? n : 1, sizeof *f.v);
	assert_non_null(f.v);
	memcpy(f.v, v, n * sizeof *v);
	f.n = f.cap = n;
	return f;
}

static void
test_none_and_one(void **state)
{
	(void)state;
	struct ctl_fix x = plain_fix(INT64_C(1793577600000000));
	struct ctl_fixes f = fixes_of(&x, 0);
	check_same("no fix", "B00001", &f);
	ctl_fixes_clear(&f);
	f = fixes_of(&x, 1);
	check_same("one fix", "B00001", &f);
	ctl_fixes_clear(&f);
	struct ctl_fix two[2] = { plain_fix(INT64_C(1793577600000000)),
				  plain_fix(INT64_C(1793577610000000)) };
	f = fixes_of(two, 2);
	check_same("two fixes", "晋A10004", &f);
	ctl_fixes_clear(&f);
}

/* Every field NULL in turn, then all of them. */
static void
test_nulls(void **state)
{
	(void)state;
	static const uint32_t bits[] = {
		CTL_FIX_NULL_SPEED, CTL_FIX_NULL_HEADING, CTL_FIX_NULL_ALT, CTL_FIX_NULL_HDOP,
		CTL_FIX_NULL_FIX,   CTL_FIX_NULL_SATS,    CTL_FIX_NULL_ZONES, CTL_FIX_NULL_LAT,
		CTL_FIX_NULL_LON,   UINT32_MAX,
	};
	enum { N = sizeof bits / sizeof bits[0] };
	struct ctl_fix v[N + 2];
	for (size_t i = 0; i < N; i++) {
		v[i] = plain_fix(INT64_C(1793577600000000) + (int64_t)i * 10000000);
		v[i].nulls = bits[i];
	}
	v[N] = plain_fix(INT64_C(1793577700000000));
	v[N].un = v[N].hc = NULL;
	v[N + 1] = v[N];
	v[N + 1].nzones = 0;
	struct ctl_fixes f = fixes_of(v, N + 2);
	check_same("NULL fields", "B00001", &f);
	ctl_fixes_clear(&f);
	/* a single fix with no place: a Point of nothing */
	f = fixes_of(&v[N - 1], 1);
	check_same("one fix, all NULL", "B00001", &f);
	ctl_fixes_clear(&f);
}

/* Numbers at the edges of each notation, zeros, specials, extremes. */
static void
test_numbers(void **state)
{
	(void)state;
	static const double d[] = {
		0.0, -0.0, 1.0, -1.0, 37.0, 180.0, -180.0, 90.0, 0.1, 0.0001, 0.00001,
		-0.00005, 1e-9, 123456789012345.0, 1e14, 1e15, 1e16, 1.5e16, 1e21,
		-1.7976931348623157e308, DBL_MAX, DBL_MIN, -DBL_MIN, 4.9406564584124654e-324,
		2.2250738585072009e-308, 0.1 + 0.2, 1.0 / 3, 2.0 / 3, 37.74185930000001,
		112.5564811, -33.8688197, 1e-300, 9.999999999999999e14, 999999999999999.9,
		NAN, -NAN, INFINITY, -INFINITY, 5e-324, 1.7326784708165402e+17,
		0.000123456789, 12345.6789012345678,
	};
	static const float r[] = {
		0.0f, -0.0f, 1.0f, -1.0f, 0.1f, 26.8f, 999999.0f, 1e6f, 1234567.0f, 1e-4f,
		1e-5f, 0.001f, 0.0009f, FLT_MAX, -FLT_MAX, FLT_MIN, 1e-45f, 3.4e38f, 359.9f,
		65.2f, 1.0f / 3, NAN, INFINITY, -INFINITY, 16777216.0f, 16777217.0f, 1e15f,
		1e16f, 123456.7f, 0.33333334f,
	};
	enum { ND = sizeof d / sizeof d[0], NR = sizeof r / sizeof r[0] };
	struct ctl_fix v[ND * 2 + NR];
	size_t n = 0;
	for (size_t i = 0; i < ND; i++) {
		v[n] = plain_fix(INT64_C(1793577600000000) + (int64_t)n);
		v[n++].lat = d[i];
		v[n] = plain_fix(INT64_C(1793577600000000) + (int64_t)n);
		v[n++].lon = d[i];
	}
	for (size_t i = 0; i < NR; i++) {
		v[n] = plain_fix(INT64_C(1793577600000000) + (int64_t)n * 1000);
		v[n].speed = r[i];
		v[n].heading = r[(i + 1) % NR];
		v[n].alt = r[(i + 2) % NR];
		v[n++].hdop = r[(i + 3) % NR];
	}
	struct ctl_fixes f = fixes_of(v, n);
	check_same("numbers", "B00001", &f);
	ctl_fixes_clear(&f);
	/* each special value as the only fix: a Point with what is left */
	for (size_t i = 0; i < n; i++) {
		f = fixes_of(&v[i], 1);
		check_same("numbers, one", "B00001", &f);
		ctl_fixes_clear(&f);
	}
}

/* Text that must be escaped or quoted, non-ASCII, not UTF-8; times. */
static void
test_text(void **state)
{
	(void)state;
	static const char *const s[] = {
		"1203",  "2.1",	 "晋A10004", "a\"b", "a,b", "a\nb", "a\rb", "a\\b",
		"\x01\x1f", "tab\there", "/slash", "é",  "\xff\xfe", "\xe6\x99", "", "\xf0\x9f\x9a\x9a",
		"u+2028 \xe2\x80\xa8",
	};
	static const int32_t z[] = { 1, 0, -5, INT32_MAX, INT32_MIN };
	static const uint8_t zn[] = { 0, 1, 0, 0, 1 };
	static const int64_t ts[] = {
		INT64_C(1793577600000000), INT64_C(1793577600000001), INT64_C(1793577600123456),
		INT64_C(-1), INT64_C(0), INT64_C(-62135596800000000), INT64_C(253402300799999999),
		INT64_C(300000000000000000), INT64_C(-300000000000000000),
	};
	enum { NS = sizeof s / sizeof s[0], NT = sizeof ts / sizeof ts[0] };
	struct ctl_fix v[NS + NT + 4];
	size_t n = 0;
	for (size_t i = 0; i < NS; i++) {
		v[n] = plain_fix(INT64_C(1793577600000000) + (int64_t)n);
		v[n].un = s[i];
		v[n++].hc = s[(i + 3) % NS];
	}
	for (size_t i = 0; i < NT; i++)
		v[n++] = plain_fix(ts[i]);
	v[n] = plain_fix(INT64_C(1793577600000000));
	v[n].zones = z;
	v[n++].nzones = 5;
	v[n] = v[n - 1];
	v[n++].znull = zn;
	v[n] = v[n - 1];
	v[n++].nzones = 1;
	v[n] = v[n - 1];
	v[n++].zones = z + 1;
	v[n - 1].znull = zn + 1;
	struct ctl_fixes f = fixes_of(v, n);
	for (size_t i = 0; i < NS; i++)
		check_same("text", s[i], &f);
	check_same("text", "V,1", &f);
	ctl_fixes_clear(&f);
}

/* Random fixes: floats of random bits besides stored-looking values. */
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
rnd_double(void)
{
	uint64_t u = next();
	double d;
	switch (u % 4) {
	case 0:
		memcpy(&d, &(uint64_t){ next() }, sizeof d);
		return d;
	case 1:
		return (double)((int64_t)(next() % 360000000000) - 180000000000) / 1e9;
	case 2:
		return (double)((int64_t)(next() % 2000000001) - 1000000000) / 1e7;
	default:
		return ((double)(next() >> 11) / 9007199254740992.0 - 0.5) * 400;
	}
}

static float
rnd_float(void)
{
	uint64_t u = next();
	float f;
	switch (u % 4) {
	case 0:
		memcpy(&f, &(uint32_t){ (uint32_t)next() }, sizeof f);
		return f;
	case 1:
		return (float)((double)(int64_t)(next() % 20001) / 10.0);
	case 2:
		return (float)((double)((int64_t)(next() % 2000001) - 1000000) / 1000.0);
	default:
		return (float)((double)(next() >> 11) / 9007199254740992.0 * 1000);
	}
}

static void
test_random(void **state)
{
	(void)state;
	static const char *const s[] = { "1203", "3", "2.1", "6.1", "晋", "a,\"b\"", "" };
	static const int32_t z[] = { 7, 8, 9, 10 };
	static const uint8_t zn[] = { 0, 1, 0, 1 };
	enum { N = 3000 };
	for (int round = 0; round < 8; round++) {
		struct ctl_fix *v = calloc(N, sizeof *v);
		assert_non_null(v);
		int64_t t = INT64_C(1793577600000000);
		for (size_t i = 0; i < N; i++) {
			struct ctl_fix *x = &v[i];
			t += (int64_t)(next() % 20000000);
			x->ts_us = t;
			x->lat = rnd_double();
			x->lon = rnd_double();
			x->speed = rnd_float();
			x->heading = rnd_float();
			x->alt = rnd_float();
			x->hdop = rnd_float();
			x->fix = (int16_t)next();
			x->sats = (int16_t)next();
			x->un = next() % 5 ? s[next() % 7] : NULL;
			x->hc = next() % 5 ? s[next() % 7] : NULL;
			x->zones = z;
			x->nzones = (int32_t)(next() % 5);
			x->znull = next() % 2 ? zn : NULL;
			x->nulls = next() % 3 ? 0 : (uint32_t)next() & 0x1fff;
		}
		struct ctl_fixes f = { .v = v, .n = N, .cap = N };
		check_same("random", round % 2 ? "B00001" : "晋A10004", &f);
		ctl_fixes_clear(&f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_and_one), cmocka_unit_test(test_nulls),
		cmocka_unit_test(test_numbers),      cmocka_unit_test(test_text),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
