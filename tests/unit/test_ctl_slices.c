/*
 * test_ctl_slices.c - ctl/ctl_slices.c, hazgate-ctl's decoder of stored
 * positions: PostgreSQL's binary arrays (good ones, and each thing the
 * parser refuses), slices built here byte by byte in every variant of
 * schema/012's encoding (dt2/dt4/t8 and tsu, dla/dlo 2/4/8 and llu, reals
 * as k/10^e in 2 or 4 bytes, raw and constant, seq0/sqd/sq8, zc/zn/zf,
 * rc4/rc8, constants and NULLs) checked against the values
 * hazgate_slice_fixes gives for them, the time range's filter, a row of
 * the row tier, and PostgreSQL's text of floats (float8out, float4out).
 * What the server itself gives for random slices and floats is compared
 * in tests/integration/49-positions-compact.bats.
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

#include "ctl/ctl_slices.h"

/* ---- building binary values ------------------------------------------------ */

struct buf {
	uint8_t b[4096];
	size_t n;
};

static void
put(struct buf *o, uint64_t v, int size)
{
	for (int k = size - 1; k >= 0; k--)
		o->b[o->n++] = (uint8_t)(v >> (8 * k));
}

/* A one-dimensional array of n integers of `size` bytes (null[i]: NULL). */
static struct buf
arr(uint32_t elem, int size, int n, const int64_t *v, const bool *null)
{
	struct buf o = { .n = 0 };
	bool hasnull = false;
	for (int i = 0; null && i < n; i++)
		hasnull |= null[i];
	put(&o, 1, 4);
	put(&o, hasnull, 4);
	put(&o, elem, 4);
	put(&o, (uint64_t)n, 4);
	put(&o, 1, 4);
	for (int i = 0; i < n; i++) {
		if (null && null[i]) {
			put(&o, UINT32_MAX, 4);
			continue;
		}
		put(&o, (uint64_t)size, 4);
		put(&o, (uint64_t)v[i], size);
	}
	return o;
}

static struct buf
farr(int n, const float *v)
{
	int64_t bits[64];
	for (int i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &v[i], 4);
		bits[i] = u;
	}
	return arr(CTL_PG_FLOAT4, 4, n, bits, NULL);
}

static struct buf
tarr(int n, const char *const *s)
{
	struct buf o = { .n = 0 };
	bool hasnull = false;
	for (int i = 0; i < n; i++)
		hasnull |= s[i] == NULL;
	put(&o, 1, 4);
	put(&o, hasnull, 4);
	put(&o, CTL_PG_TEXT, 4);
	put(&o, (uint64_t)n, 4);
	put(&o, 1, 4);
	for (int i = 0; i < n; i++) {
		if (!s[i]) {
			put(&o, UINT32_MAX, 4);
			continue;
		}
		put(&o, strlen(s[i]), 4);
		memcpy(o.b + o.n, s[i], strlen(s[i]));
		o.n += strlen(s[i]);
	}
	return o;
}

static struct buf
scalar(uint64_t v, int size)
{
	struct buf o = { .n = 0 };
	put(&o, v, size);
	return o;
}

static struct buf
fscalar(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return scalar(u, 4);
}

static struct buf
text(const char *s)
{
	struct buf o = { .n = strlen(s) };
	memcpy(o.b, s, o.n);
	return o;
}

/* 2026-03-28T10:00:00Z in PostgreSQL's microseconds (since 2000-01-01)
 * and Unix ones. */
#define HOUR_PG   INT64_C(828007200000000)
#define HOUR_UNIX (HOUR_PG + INT64_C(946684800000000))
#define SEC       INT64_C(1000000)

/* A slice's columns, kept in bufs that outlive the pgvals. */
struct slice {
	struct buf b[CTL_SC_NCOLS];
	struct ctl_pgval v[CTL_SC_NCOLS];
};

static void
set(struct slice *s, int col, struct buf b)
{
	s->b[col] = b;
	s->v[col] = (struct ctl_pgval){ s->b[col].b, s->b[col].n };
}

/* hour, t_first, t_last, tsu, llu, lat0, lon0 */
static void
slice_base(struct slice *s, int64_t first_off, int64_t last_off, int64_t tsu, int64_t llu,
	   int64_t lat0, int64_t lon0)
{
	memset(s, 0, sizeof *s);
	set(s, CTL_SC_HOUR, scalar((uint64_t)HOUR_PG, 8));
	set(s, CTL_SC_T_FIRST, scalar((uint64_t)(HOUR_PG + first_off), 8));
	set(s, CTL_SC_T_LAST, scalar((uint64_t)(HOUR_PG + last_off), 8));
	set(s, CTL_SC_TSU, scalar((uint64_t)tsu, 4));
	set(s, CTL_SC_LLU, scalar((uint64_t)llu, 8));
	set(s, CTL_SC_LAT0, scalar((uint64_t)lat0, 8));
	set(s, CTL_SC_LON0, scalar((uint64_t)lon0, 8));
}

static int
decode(struct slice *s, int64_t from, int64_t to, struct ctl_fixes *f, char *err)
{
	return ctl_slice_decode(s->v, from, to, f, err, 400);
}

/* ---- the array parser ---------------------------------------------------------- */

static void
test_array_good(void **state)
{
	(void)state;
	int64_t v[] = { 1, -2, 32767 };
	bool nl[] = { false, true, false };
	struct buf b = arr(CTL_PG_INT2, 2, 3, v, nl);
	struct ctl_pgarr a;
	char err[200];
	assert_int_equal(ctl_pgarr_parse(b.b, b.n, CTL_PG_INT2, &a, err, sizeof err), 0);
	assert_int_equal(a.n, 3);
	assert_true(a.hasnull);
	assert_int_equal(a.len[0], 2);
	assert_int_equal(a.len[1], -1);
	assert_int_equal(a.data[a.off[2]], 0x7f);
	ctl_pgarr_free(&a);
	/* '{}': no dimension */
	struct buf e = { .n = 0 };
	put(&e, 0, 4);
	put(&e, 0, 4);
	put(&e, CTL_PG_INT4, 4);
	assert_int_equal(ctl_pgarr_parse(e.b, e.n, CTL_PG_INT4, &a, err, sizeof err), 0);
	assert_int_equal(a.n, 0);
	ctl_pgarr_free(&a);
}

struct bad_array {
	const char *name;
	int cut;        /* bytes cut from the end (< 0: added) */
	int patch_at;   /* byte to overwrite, or -1 */
	uint8_t patch;
	uint32_t elem;  /* the type asked for */
	const char *msg;
};

static void
test_array_bad(void **state)
{
	(void)state;
	static const struct bad_array cases[] = {
		{ "header cut", 1000, -1, 0, CTL_PG_INT4, "shorter than its header" },
		{ "element cut", 1, -1, 0, CTL_PG_INT4, "array element 2 of 4 bytes" },
		{ "length cut", 5, -1, 0, CTL_PG_INT4, "array element 2 past the end" },
		{ "trailing bytes", -3, -1, 0, CTL_PG_INT4, "followed by 3 bytes" },
		{ "two dimensions", 0, 3, 2, CTL_PG_INT4, "2 dimensions" },
		{ "flags 2", 0, 7, 2, CTL_PG_INT4, "array flags 2" },
		{ "another type", 0, -1, 0, CTL_PG_INT2, "of type 23 (21 expected)" },
		{ "lower bound 0", 0, 19, 0, CTL_PG_INT4, "lower bound 0" },
		{ "negative size", 0, 12, 0xff, CTL_PG_INT4, "elements" },
		{ "size beyond the bytes", 0, 13, 0x7f, CTL_PG_INT4, "elements in" },
		{ "element of 3 bytes", 0, 23, 3, CTL_PG_INT4, "array element 1 of 3 bytes" },
		{ "NULL without the flag", 0, 20, 0xff, CTL_PG_INT4, "NULL in an array without NULLs" },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		const struct bad_array *c = &cases[k];
		int64_t v[] = { 7, 8 };
		struct buf b = arr(CTL_PG_INT4, 4, 2, v, NULL);
		if (c->cut > (int)b.n)
			b.n = 11;
		else if (c->cut >= 0)
			b.n -= (size_t)c->cut;
		else
			b.n += (size_t)-c->cut;
		if (c->patch_at == 20) {        /* the whole length: -1 */
			memset(b.b + 20, 0xff, 4);
		} else if (c->patch_at >= 0) {
			b.b[c->patch_at] = c->patch;
		}
		struct ctl_pgarr a;
		char err[200] = "";
		print_message("%s\n", c->name);
		assert_int_equal(ctl_pgarr_parse(b.b, b.n, c->elem, &a, err, sizeof err), -1);
		assert_non_null(strstr(err, c->msg));
		assert_null(a.off);
	}
}

/* ---- slices ------------------------------------------------------------------- */

/* The first form: whole seconds in smallints, 1e-7 degrees (llu 100),
 * reals as k / 10^e in smallints and integers, raw and constant, seq with
 * gaps (sqd), ignition with a NULL, zone sets of varying size, receive
 * times in integers, a constant alarm mask. Four fixes. */
static void
slice_one(struct slice *s)
{
	slice_base(s, 5 * SEC, 35 * SEC, SEC, 100, INT64_C(37700000000), INT64_C(112500000000));
	int64_t dt[] = { 5, 10, 10, 10 }, dla[] = { 0, 3, -2, 32767 }, dlo[] = { 0, -1, 1, 0 };
	set(s, CTL_SC_DT2, arr(CTL_PG_INT2, 2, 4, dt, NULL));
	set(s, CTL_SC_DLA2, arr(CTL_PG_INT2, 2, 4, dla, NULL));
	set(s, CTL_SC_DLO2, arr(CTL_PG_INT2, 2, 4, dlo, NULL));
	int64_t sp[] = { 723, 0, -5, 1200 };
	bool spn[] = { false, false, false, true };
	set(s, CTL_SC_SP_E, scalar(1, 2));
	set(s, CTL_SC_SP2, arr(CTL_PG_INT2, 2, 4, sp, spn));
	set(s, CTL_SC_HD_C, fscalar(90.5f));
	float al[] = { NAN, -0.0f, 1.0e7f, 3.25f };
	set(s, CTL_SC_AL_R, farr(4, al));
	int64_t hp[] = { 100001, 1, 250, 99 };
	set(s, CTL_SC_HP_E, scalar(3, 2));
	set(s, CTL_SC_HP4, arr(CTL_PG_INT4, 4, 4, hp, NULL));
	set(s, CTL_SC_FIX_C, scalar(3, 2));
	int64_t sats[] = { 7, 8, 9, 10 };
	set(s, CTL_SC_SATSA, arr(CTL_PG_INT2, 2, 4, sats, NULL));
	set(s, CTL_SC_UN_C, text("1203"));
	const char *hc[] = { "3", NULL, "2.1", "" };
	set(s, CTL_SC_HCA, tarr(4, hc));
	set(s, CTL_SC_SEQ0, scalar(100, 8));
	int64_t sqd[] = { 0, 0, 5, 5 };
	set(s, CTL_SC_SQD, arr(CTL_PG_INT4, 4, 4, sqd, NULL));
	int64_t ign[] = { 1, 0, 0, 1 };
	bool ignn[] = { false, false, true, false };
	set(s, CTL_SC_IGNA, arr(CTL_PG_BOOL, 1, 4, ign, ignn));
	int64_t zn[] = { 0, 1, 3, 0 }, zf[] = { 7, 1, -3, 1000000000 };
	set(s, CTL_SC_ZN, arr(CTL_PG_INT2, 2, 4, zn, NULL));
	set(s, CTL_SC_ZF, arr(CTL_PG_INT4, 4, 4, zf, NULL));
	int64_t rc[] = { 1, 2000000, -7, 2147483647 };
	set(s, CTL_SC_RC4, arr(CTL_PG_INT4, 4, 4, rc, NULL));
	set(s, CTL_SC_AM_C, scalar(0x80000001u, 4));
}

static void
test_slice_forms(void **state)
{
	(void)state;
	struct slice s;
	struct ctl_fixes f = { 0 };
	char err[400] = "";
	slice_one(&s);
	assert_int_equal(decode(&s, 0, INT64_MAX, &f, err), 0);
	assert_int_equal(f.n, 4);
	const int64_t ts[] = { 5, 15, 25, 35 };
	const double lat[] = { 37.7, 37.7000003, 37.7000001, 37.7032768 };
	const double lon[] = { 112.5, 112.4999999, 112.5, 112.5 };
	for (int i = 0; i < 4; i++) {
		const struct ctl_fix *x = &f.v[i];
		assert_int_equal(x->ts_us, HOUR_UNIX + ts[i] * SEC);
		/* (lat0 + la * llu)::float8 / 1e9 */
		int64_t la = INT64_C(37700000000) + 100 * (int64_t[]){ 0, 3, 1, 32768 }[i];
		assert_true(x->lat == (double)la / 1e9);
		assert_true(fabs(x->lat - lat[i]) < 1e-12);
		assert_true(fabs(x->lon - lon[i]) < 1e-12);
		assert_int_equal(x->fix, 3);
		assert_int_equal(x->sats, 7 + i);
		assert_string_equal(x->un, "1203");
		assert_true(x->heading == 90.5f);
		assert_int_equal(x->alarms, (int32_t)0x80000001u);
		assert_false(x->nulls & (CTL_FIX_NULL_HEADING | CTL_FIX_NULL_ALT | CTL_FIX_NULL_FIX |
					 CTL_FIX_NULL_SEQ | CTL_FIX_NULL_ALARMS | CTL_FIX_NULL_RECEIVED));
	}
	/* reals: (k::float8 / 10::float8 ^ e)::real, NULL, raw */
	assert_true(f.v[0].speed == (float)(723.0 / 10.0));
	assert_true(f.v[1].speed == 0.0f && !signbit(f.v[1].speed));
	assert_true(f.v[2].speed == (float)(-5.0 / 10.0));
	assert_true(f.v[3].nulls & CTL_FIX_NULL_SPEED);
	assert_true(isnan(f.v[0].alt));
	assert_true(f.v[1].alt == 0.0f && signbit(f.v[1].alt));
	assert_true(f.v[2].alt == 1.0e7f);
	assert_true(f.v[0].hdop == (float)(100001.0 / 1000.0));
	assert_true(f.v[1].hdop == (float)(1.0 / 1000.0));
	/* hazard_class per fix, a NULL and an empty one */
	assert_string_equal(f.v[0].hc, "3");
	assert_null(f.v[1].hc);
	assert_string_equal(f.v[3].hc, "");
	/* seq0 + (i - 1) + sqd */
	const int64_t seq[] = { 100, 101, 107, 108 };
	for (int i = 0; i < 4; i++)
		assert_int_equal(f.v[i].seq, seq[i]);
	assert_true(f.v[0].ignition);
	assert_false(f.v[1].ignition);
	assert_true(f.v[2].nulls & CTL_FIX_NULL_IGNITION);
	/* zf[zs - zn + 1 : zs] */
	char z[64];
	const char *zones[] = { "[]", "[7]", "[1,-3,1000000000]", "[]" };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ctl_zones_json(&f.v[i], z, sizeof z), (int)strlen(zones[i]));
		assert_string_equal(z, zones[i]);
	}
	assert_int_equal(ctl_zones_json(&f.v[2], z, 8), -1);
	/* ts + rc4 us */
	assert_int_equal(f.v[1].received_us, f.v[1].ts_us + 2000000);
	assert_int_equal(f.v[2].received_us, f.v[2].ts_us - 7);
	ctl_fixes_clear(&f);

	/* the wide forms: t8 (microseconds), la8/lo8 (nanodegrees), sq8, rc8,
	 * zc; a constant real; reals NULL where the arrays say so */
	slice_base(&s, 1, 3599999999, 1, 1, 0, 0);
	int64_t t8[] = { 1, 1800000000, 3599999999 };
	int64_t la8[] = { 90000000000, -89999999999, 1 }, lo8[] = { -180000000000, 179999999999, -1 };
	set(&s, CTL_SC_T8, arr(CTL_PG_INT8, 8, 3, t8, NULL));
	set(&s, CTL_SC_LA8, arr(CTL_PG_INT8, 8, 3, la8, NULL));
	set(&s, CTL_SC_LO8, arr(CTL_PG_INT8, 8, 3, lo8, NULL));
	set(&s, CTL_SC_SP_C, fscalar(12.5f));
	int64_t sq8[] = { INT64_MAX, -1, 0 };
	bool sqn[] = { false, true, false };
	set(&s, CTL_SC_SQ8, arr(CTL_PG_INT8, 8, 3, sq8, sqn));
	int64_t zc[] = { 5, 6 };
	set(&s, CTL_SC_ZC, arr(CTL_PG_INT4, 4, 2, zc, NULL));
	int64_t rc8[] = { INT64_C(3456000000000), 0, -1 };
	set(&s, CTL_SC_RC8, arr(CTL_PG_INT8, 8, 3, rc8, NULL));
	int64_t am[] = { 1, 2, 3 };
	bool amn[] = { true, false, false };
	set(&s, CTL_SC_AMA, arr(CTL_PG_INT4, 4, 3, am, amn));
	assert_int_equal(decode(&s, 0, INT64_MAX, &f, err), 0);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.v[0].ts_us, HOUR_UNIX + 1);
	assert_int_equal(f.v[2].ts_us, HOUR_UNIX + 3599999999);
	assert_true(f.v[0].lat == 90.0 && f.v[0].lon == -180.0);
	assert_true(f.v[1].lat == -89999999999.0 / 1e9);
	assert_true(f.v[2].lat == 1e-9 && f.v[2].lon == -1e-9);
	assert_true(f.v[1].speed == 12.5f);
	assert_true(f.v[0].nulls & CTL_FIX_NULL_HEADING);
	assert_int_equal(f.v[0].seq, INT64_MAX);
	assert_true(f.v[1].nulls & CTL_FIX_NULL_SEQ);
	assert_true(f.v[2].nulls & CTL_FIX_NULL_FIX);
	assert_null(f.v[0].un);
	assert_int_equal(ctl_zones_json(&f.v[1], z, sizeof z), 5);
	assert_string_equal(z, "[5,6]");
	assert_int_equal(f.v[0].received_us, f.v[0].ts_us + INT64_C(3456000000000));
	assert_true(f.v[0].nulls & CTL_FIX_NULL_ALARMS);
	assert_int_equal(f.v[2].alarms, 3);
	ctl_fixes_clear(&f);

	/* integers: dt4 in milliseconds (tsu 1000), dla4/dlo4 at llu 1, sp4
	 * e=0; the x4 array is not read when x2 is there (coalesce) */
	slice_base(&s, 0, 100000 * 1000 + 1000, 1000, 1, 1000, -1000);
	int64_t dt4[] = { 0, 100000, 1 }, dl4[] = { 0, 2000000000, -2000000000 };
	set(&s, CTL_SC_DT4, arr(CTL_PG_INT4, 4, 3, dt4, NULL));
	set(&s, CTL_SC_DLA4, arr(CTL_PG_INT4, 4, 3, dl4, NULL));
	set(&s, CTL_SC_DLO4, arr(CTL_PG_INT4, 4, 3, dl4, NULL));
	int64_t sp4[] = { 2000000, -2000000, 40000 };
	set(&s, CTL_SC_SP_E, scalar(0, 2));
	set(&s, CTL_SC_SP4, arr(CTL_PG_INT4, 4, 3, sp4, NULL));
	assert_int_equal(decode(&s, 0, INT64_MAX, &f, err), 0);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.v[1].ts_us, HOUR_UNIX + 100000 * 1000);
	assert_int_equal(f.v[2].ts_us, HOUR_UNIX + 100001 * 1000);
	assert_true(f.v[1].lat == 2000001000.0 / 1e9);
	assert_true(f.v[2].lat == 1000.0 / 1e9);
	assert_true(f.v[0].speed == 2e6f && f.v[1].speed == -2e6f);
	ctl_fixes_clear(&f);

	/* unnest pads the shorter arrays with NULL; the running sums go on
	 * over a NULL (sum() OVER w): a fifth fix at the fourth's time and
	 * place, its speed NULL */
	slice_one(&s);
	int64_t sats5[] = { 1, 2, 3, 4, 5 };
	set(&s, CTL_SC_SATSA, arr(CTL_PG_INT2, 2, 5, sats5, NULL));
	assert_int_equal(decode(&s, 0, INT64_MAX, &f, err), 0);
	assert_int_equal(f.n, 5);
	assert_int_equal(f.v[4].ts_us, f.v[3].ts_us);
	assert_true(f.v[4].lat == f.v[3].lat);
	assert_int_equal(f.v[4].sats, 5);
	assert_true(f.v[4].nulls & CTL_FIX_NULL_SPEED);
	assert_true(f.v[4].nulls & CTL_FIX_NULL_SEQ); /* sqd has no fifth: NULL */
	ctl_fixes_clear(&f);
	/* with no time at all, SQL would give a NULL ts: refused */
	slice_one(&s);
	s.v[CTL_SC_DT2] = (struct ctl_pgval){ NULL, 0 };
	assert_int_equal(decode(&s, 0, INT64_MAX, &f, err), -1);
	assert_string_equal(err, "fix 1 of the slice has no time");
	ctl_fixes_clear(&f);
}

static void
test_slice_range(void **state)
{
	(void)state;
	struct slice s;
	struct ctl_fixes f = { 0 };
	char err[400];
	slice_one(&s);
	/* [15 s, 35 s): the fixes at 15 and 25 */
	assert_int_equal(decode(&s, HOUR_UNIX + 15 * SEC, HOUR_UNIX + 35 * SEC, &f, err), 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.v[0].ts_us, HOUR_UNIX + 15 * SEC);
	assert_int_equal(f.v[0].seq, 101);
	ctl_fixes_clear(&f);
	/* wholly outside: nothing */
	assert_int_equal(decode(&s, HOUR_UNIX + 36 * SEC, HOUR_UNIX + 99 * SEC, &f, err), 0);
	assert_int_equal(f.n, 0);
	/* t_first..t_last inside: every fix, as the SQL's condition says */
	assert_int_equal(decode(&s, HOUR_UNIX, HOUR_UNIX + 36 * SEC, &f, err), 0);
	assert_int_equal(f.n, 4);
	ctl_fixes_clear(&f);
}

static void
test_slice_bad(void **state)
{
	(void)state;
	struct slice s;
	struct ctl_fixes f = { 0 };
	char err[400];
	slice_one(&s);
	s.v[CTL_SC_LLU] = (struct ctl_pgval){ NULL, 0 };
	assert_int_equal(decode(&s, 0, INT64_MAX, &f, err), -1);
	assert_string_equal(err, "column llu is NULL");
	slice_one(&s);
	s.v[CTL_SC_TSU].len = 3;
	assert_int_equal(decode(&s, 0, INT64_MAX, &f, err), -1);
	assert_string_equal(err, "column tsu: 3 bytes (4 expected)");
	slice_one(&s);
	s.v[CTL_SC_SP2].len -= 1;
	assert_int_equal(decode(&s, 0, INT64_MAX, &f, err), -1);
	assert_non_null(strstr(err, "column sp2: array element 4"));
	/* an exponent the server's ^ overflows with */
	slice_one(&s);
	set(&s, CTL_SC_SP_E, scalar(400, 2));
	assert_int_equal(decode(&s, 0, INT64_MAX, &f, err), -1);
	assert_non_null(strstr(err, "overflow"));
	/* bigint overflow of lat0 + la * llu */
	slice_one(&s);
	set(&s, CTL_SC_LLU, scalar((uint64_t)INT64_MAX / 2, 8));
	assert_int_equal(decode(&s, 0, INT64_MAX, &f, err), -1);
	assert_non_null(strstr(err, "bigint out of range"));
	/* infinite hour */
	ctl_fixes_clear(&f);
	slice_one(&s);
	set(&s, CTL_SC_HOUR, scalar((uint64_t)INT64_MAX, 8));
	assert_int_equal(decode(&s, 0, INT64_MAX, &f, err), -1);
	assert_string_equal(err, "hour is infinite");
	assert_int_equal(f.n, 0);
	ctl_fixes_clear(&f);
}

static void
test_row(void **state)
{
	(void)state;
	struct buf b[CTL_RC_NCOLS];
	struct ctl_pgval v[CTL_RC_NCOLS];
	memset(v, 0, sizeof v);
	double lat = 37.76, lon = -122.4;
	uint64_t u;
	b[CTL_RC_TS] = scalar((uint64_t)HOUR_PG + 7, 8);
	memcpy(&u, &lat, 8);
	b[CTL_RC_LAT] = scalar(u, 8);
	memcpy(&u, &lon, 8);
	b[CTL_RC_LON] = scalar(u, 8);
	b[CTL_RC_SPEED] = fscalar(72.3f);
	b[CTL_RC_HC] = text("2.1");
	int64_t z[] = { 3, 0 };
	bool zn[] = { false, true };
	b[CTL_RC_ZONES] = arr(CTL_PG_INT4, 4, 2, z, zn);
	b[CTL_RC_ALARMS] = scalar(5, 4);
	const int have[] = { CTL_RC_TS, CTL_RC_LAT, CTL_RC_LON, CTL_RC_SPEED, CTL_RC_HC,
			     CTL_RC_ZONES, CTL_RC_ALARMS };
	for (size_t k = 0; k < sizeof have / sizeof have[0]; k++)
		v[have[k]] = (struct ctl_pgval){ b[have[k]].b, b[have[k]].n };
	struct ctl_fixes f = { 0 };
	char err[400];
	assert_int_equal(ctl_row_decode(v, &f, err, sizeof err), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].ts_us, HOUR_UNIX + 7);
	assert_true(f.v[0].lat == 37.76 && f.v[0].lon == -122.4);
	assert_true(f.v[0].speed == 72.3f);
	assert_string_equal(f.v[0].hc, "2.1");
	assert_true(f.v[0].nulls & CTL_FIX_NULL_HEADING);
	assert_true(f.v[0].nulls & CTL_FIX_NULL_RECEIVED);
	char zs[32];
	ctl_zones_json(&f.v[0], zs, sizeof zs);
	assert_string_equal(zs, "[3,null]");
	/* zone_ids NULL (the table forbids it; the decoder says NULL) */
	v[CTL_RC_ZONES] = (struct ctl_pgval){ NULL, 0 };
	assert_int_equal(ctl_row_decode(v, &f, err, sizeof err), 0);
	assert_true(f.v[1].nulls & CTL_FIX_NULL_ZONES);
	/* a time, sorted in; equal times keep their order */
	b[CTL_RC_TS] = scalar((uint64_t)HOUR_PG, 8);
	v[CTL_RC_TS] = (struct ctl_pgval){ b[CTL_RC_TS].b, b[CTL_RC_TS].n };
	assert_int_equal(ctl_row_decode(v, &f, err, sizeof err), 0);
	ctl_fixes_sort(&f);
	assert_int_equal(f.v[0].ts_us, HOUR_UNIX);
	assert_int_equal(f.v[1].order, 0);
	assert_int_equal(f.v[2].order, 1);
	/* lat of 4 bytes */
	v[CTL_RC_LAT].len = 4;
	assert_int_equal(ctl_row_decode(v, &f, err, sizeof err), -1);
	assert_string_equal(err, "column lat: 4 bytes (8 expected)");
	ctl_fixes_clear(&f);
}

/* ---- floats as PostgreSQL writes them --------------------------------------------- */

static void
test_float_text(void **state)
{
	(void)state;
	/* float8out's text (PostgreSQL 15, extra_float_digits 1) */
	static const struct {
		double x;
		const char *want;
	} f8[] = {
		{ 37.76, "37.76" },
		{ -5e-05, "-5e-05" },
		{ 0.0001, "0.0001" },
		{ 1e16, "1e+16" },
		{ 1.5e16, "1.5e+16" },
		{ 1e15, "1e+15" },
		{ 123456789012345.0, "123456789012345" },
		{ 0.1, "0.1" },
		{ 1.0 / 3.0, "0.3333333333333333" },
		{ 2.0 / 3.0, "0.6666666666666666" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ 5e-324, "5e-324" },
		{ DBL_MAX, "1.7976931348623157e+308" },
		{ DBL_MIN, "2.2250738585072014e-308" },
		{ 1e-9, "1e-09" },
		{ 37.7000003, "37.7000003" },
		{ -179.999999999, "-179.999999999" },
		{ 100, "100" },
		{ 9007199254740993.0, "9.007199254740992e+15" },
		{ 999999999999999.0, "999999999999999" },
		/* "1.73267847081654e+17" reads back (ties to even) but lies
		 * halfway to the next double: PostgreSQL prints 17 digits */
		{ 173267847081654016.0, "1.7326784708165402e+17" },
		{ 34225860862476288.0, "3.4225860862476288e+16" },
		{ -0.0, "-0" },
		{ 0.0, "0" },
		{ INFINITY, "Infinity" },
		{ -INFINITY, "-Infinity" },
		{ NAN, "NaN" },
	};
	char b[CTL_FLOAT_TEXT_MAX];
	for (size_t k = 0; k < sizeof f8 / sizeof f8[0]; k++) {
		int n = ctl_float8_text(f8[k].x, b);
		print_message("%s\n", f8[k].want);
		assert_string_equal(b, f8[k].want);
		assert_int_equal(n, (int)strlen(b));
	}
	static const struct {
		float x;
		const char *want;
	} f4[] = {
		{ 72.3f, "72.3" },
		{ 123456.0f, "123456" },
		{ 1234567.0f, "1.234567e+06" },
		{ 1e-5f, "1e-05" },
		{ 0.1f, "0.1" },
		{ 1.0f / 3.0f, "0.33333334" },
		{ FLT_MAX, "3.4028235e+38" },
		{ 1e-45f, "1e-45" },
		{ 16777216.0f, "1.6777216e+07" },
		{ 100.001f, "100.001" },
		{ -0.5f, "-0.5" },
		{ -0.0f, "-0" },
		{ NAN, "NaN" },
	};
	for (size_t k = 0; k < sizeof f4 / sizeof f4[0]; k++) {
		ctl_float4_text(f4[k].x, b);
		print_message("%s\n", f4[k].want);
		assert_string_equal(b, f4[k].want);
	}
	/* what a reader of the text gets */
	assert_true(ctl_float4_text_value(72.3f) == 72.3);
	assert_true(ctl_float4_text_value(-0.001f) == -0.001);
	assert_true(ctl_float4_text_value(1.0f / 3.0f) == 0.33333334);
	assert_true(ctl_float4_text_value(1e7f) == 1e7);
	/* every float: the text reads back as itself (a sample) */
	for (uint32_t u = 0; u < 0xff800000u; u += 0x10001u * 7) {
		float x;
		memcpy(&x, &u, 4);
		if (isnan(x))
			continue;
		ctl_float4_text(x, b);
		float back = strtof(b, NULL);
		assert_memory_equal(&back, &x, 4);
	}
	uint64_t s = 0x9e3779b97f4a7c15u;
	for (int k = 0; k < 200000; k++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		double x;
		memcpy(&x, &s, 8);
		if (isnan(x))
			continue;
		ctl_float8_text(x, b);
		double back = strtod(b, NULL);
		assert_memory_equal(&back, &x, 8);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_array_good),  cmocka_unit_test(test_array_bad),
		cmocka_unit_test(test_slice_forms), cmocka_unit_test(test_slice_range),
		cmocka_unit_test(test_slice_bad),   cmocka_unit_test(test_row),
		cmocka_unit_test(test_float_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
