/*
 * test_ctl_compact.c - ctl/ctl_compact_enc.c, the C slice encoder of
 * hazgate-ctl compact, its pure parts: the exponent of a real (as schema/012's
 * hazgate_enc_e), the trailing decimal zeros (hazgate_tz10), the widths, the
 * hour of a time, PostgreSQL's binary array format byte for byte, a fix read
 * from binary fields (and what is refused), and whole slices: which columns
 * each choice fills (units, widths, constants, seq forms, zones) and what
 * no slice can hold. That the slices decode to what went in, and are the SQL
 * encoder's byte for byte, is tests/integration/49-positions-compact.
 *
 * One named test point per table row (rows.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_compact_enc.h"
#include "tests/unit/rows.h"

/* ---- the parts ----------------------------------------------------------- */

struct e_case {
	const char *name;
	float v;
	int e;
};

static const struct e_case e_cases[] = {
	{ "e: whole", 10.0f, 0 },
	{ "e: zero", 0.0f, 0 },
	{ "e: minus zero has none", -0.0f, 99 },
	{ "e: one decimal", 12.5f, 1 },
	{ "e: a tenth as a float", 0.1f, 1 },
	{ "e: two decimals", 0.01f, 2 },
	{ "e: three decimals", 1.234f, 3 },
	{ "e: negative", -400.25f, 2 },
	{ "e: four decimals have none", 1.2345f, 99 },
	{ "e: just under 2e6", 1999999.0f, 0 },
	{ "e: 2e6 has none", 2e6f, 99 },
	{ "e: NaN has none", NAN, 99 },
	{ "e: infinity has none", INFINITY, 99 },
	{ "e: a float with more digits", 1048577.125f, 1 },
};

static void
test_e(void **state)
{
	const struct e_case *c = *state;
	assert_int_equal(ctl_cenc_real_e(c->v), c->e);
}

struct tz_case {
	const char *name;
	int64_t x;
	int z;
};

static const struct tz_case tz_cases[] = {
	{ "tz10: zero is 9", 0, 9 },
	{ "tz10: 7", 7, 0 },
	{ "tz10: 100", 100, 2 },
	{ "tz10: negative", -3000, 3 },
	{ "tz10: 1e-7 degree data", 37123456700, 2 },
	{ "tz10: at most 9", INT64_C(123000000000), 9 },
};

static void
test_tz(void **state)
{
	const struct tz_case *c = *state;
	assert_int_equal(ctl_cenc_tz10(c->x), c->z);
}

struct width_case {
	const char *name;
	int64_t max, unit;
	int w;
};

static const struct width_case width_cases[] = {
	{ "width: int2 edge", 32767, 1, 2 },
	{ "width: past int2", 32768, 1, 4 },
	{ "width: int4 edge", INT32_MAX, 1, 4 },
	{ "width: past int4", INT64_C(2147483648), 1, 8 },
	{ "width: in units", 3276700, 100, 2 },
	{ "width: seconds", INT64_C(3599000000), 1000000, 2 },
};

static void
test_width(void **state)
{
	const struct width_case *c = *state;
	assert_int_equal(ctl_cenc_width(c->max, c->unit), c->w);
}

#define H INT64_C(3600000000)

static void
test_hour(void **state)
{
	(void)state;
	assert_true(ctl_cenc_hour(0) == 0);
	assert_true(ctl_cenc_hour(H - 1) == 0);
	assert_true(ctl_cenc_hour(H) == H);
	assert_true(ctl_cenc_hour(-1) == -H);   /* before 2000: floor, as date_trunc */
	assert_true(ctl_cenc_hour(-H) == -H);
}

/* int2[] {1, NULL, -2}: length, one dimension, has NULLs, int2's oid, size 3
 * from 1, each element its length and bytes (NULL: -1). */
static void
test_array_bytes(void **state)
{
	(void)state;
	static const uint8_t want[] = {
		0, 0, 0, 36,  0, 0, 0, 1,  0, 0, 0, 1,  0, 0, 0, 21,  0, 0, 0, 3,  0, 0, 0, 1,
		0, 0, 0, 2,  0, 1,  0xff, 0xff, 0xff, 0xff,  0, 0, 0, 2,  0xff, 0xfe,
	};
	struct ctl_buf b = { 0 };
	size_t at = ctl_cenc_array_open(&b, CTL_OID_INT2, 3, true);
	ctl_cenc_put_i16(&b, 1);
	ctl_cenc_put_null(&b);
	ctl_cenc_put_i16(&b, -2);
	ctl_cenc_array_close(&b, at);
	/* the field's length counts what follows it */
	assert_int_equal(b.len, sizeof want);
	assert_memory_equal(b.p, want, sizeof want);
	ctl_buf_free(&b);

	/* scalars: length then big-endian bytes */
	ctl_cenc_put_i64(&b, -2);
	ctl_cenc_put_f32(&b, 1.0f);
	ctl_cenc_put_bool(&b, true);
	ctl_cenc_put_text(&b, "晋", 3);
	static const uint8_t scal[] = {
		0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		0, 0, 0, 4, 0x3f, 0x80, 0, 0,
		0, 0, 0, 1, 1,
		0, 0, 0, 3, 0xe6, 0x99, 0x8b,
	};
	assert_int_equal(b.len, sizeof scal);
	assert_memory_equal(b.p, scal, sizeof scal);
	ctl_buf_free(&b);

	/* binary COPY's header and trailer */
	ctl_cenc_copy_header(&b);
	ctl_cenc_copy_trailer(&b);
	assert_int_equal(b.len, 19 + 2);
	assert_memory_equal(b.p, "PGCOPY\n\377\r\n\0", 11);
	assert_int_equal(b.p[19], 0xff);
	assert_int_equal(b.p[20], 0xff);
	ctl_buf_free(&b);
}

/* ---- fixes from binary fields ------------------------------------------ */

/* A fix's fields in binary, as PostgreSQL sends them. */
struct raw {
	uint8_t buf[CTL_FIX_COLS][64];
	const char *val[CTL_FIX_COLS];
	int len[CTL_FIX_COLS];
};

static void
be(uint8_t *o, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		o[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void
raw_set(struct raw *r, int col, uint64_t v, int n)
{
	be(r->buf[col], v, n);
	r->val[col] = (const char *)r->buf[col];
	r->len[col] = n;
}

static uint64_t
dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}

static uint32_t
fbits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

/* zone ids as a one-dimensional int4 array (null: the index of a NULL
 * element, or -1) */
static void
raw_zones(struct raw *r, const int32_t *z, int n, int null)
{
	uint8_t *o = r->buf[CTL_FIX_ZONES];
	size_t at = 0;
	be(o, n ? 1 : 0, 4);
	be(o + 4, null >= 0, 4);
	be(o + 8, CTL_OID_INT4, 4);
	at = 12;
	if (n) {
		be(o + 12, (uint32_t)n, 4);
		be(o + 16, 1, 4);
		at = 20;
	}
	for (int i = 0; i < n; i++) {
		if (i == null) {
			be(o + at, UINT32_MAX, 4);
			at += 4;
			continue;
		}
		be(o + at, 4, 4);
		be(o + at + 4, (uint32_t)z[i], 4);
		at += 8;
	}
	r->val[CTL_FIX_ZONES] = (const char *)o;
	r->len[CTL_FIX_ZONES] = (int)at;
}

/* A plain fix: vehicle V1 at ts, 37.5 / 112.5, speed 60.5, the rest NULL
 * but for seq and zones. */
static void
raw_fix(struct raw *r, int64_t ts, int64_t seq)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < CTL_FIX_COLS; i++)
		r->len[i] = -1;
	r->val[CTL_FIX_VEHICLE] = "V1";
	r->len[CTL_FIX_VEHICLE] = 2;
	raw_set(r, CTL_FIX_TS, (uint64_t)ts, 8);
	raw_set(r, CTL_FIX_RECEIVED, (uint64_t)(ts + 1500000), 8);
	raw_set(r, CTL_FIX_LAT, dbits(37.5), 8);
	raw_set(r, CTL_FIX_LON, dbits(112.5), 8);
	raw_set(r, CTL_FIX_SPEED, fbits(60.5f), 4);
	raw_set(r, CTL_FIX_SEQ, (uint64_t)seq, 8);
	raw_zones(r, NULL, 0, -1);
}

static void
test_fix_parse(void **state)
{
	(void)state;
	struct raw r;
	struct ctl_fix f;
	static const int32_t z[] = { 7, 9 };

	raw_fix(&r, 5 * H + 10, 42);
	raw_set(&r, CTL_FIX_FIX, 3, 2);
	raw_set(&r, CTL_FIX_SATS, (uint16_t)-1, 2);
	raw_set(&r, CTL_FIX_IGNITION, 1, 1);
	raw_set(&r, CTL_FIX_ALARMS, 0x80000000u, 4);
	r.val[CTL_FIX_UN] = "1203";
	r.len[CTL_FIX_UN] = 4;
	raw_zones(&r, z, 2, -1);
	assert_int_equal(ctl_cenc_fix_parse(&f, r.val, r.len), CTL_CENC_OK);
	assert_true(f.ts == 5 * H + 10 && f.received == 5 * H + 1500010);
	assert_true(f.lat == 37.5 && f.lon == 112.5 && f.real[CTL_REAL_SPEED] == 60.5f);
	assert_true(f.fix == 3 && f.sats == -1 && f.ignition && f.alarms == INT32_MIN);
	assert_true(f.seq == 42 && f.un_len == 4 && !memcmp(f.un, "1203", 4));
	assert_true(f.nulls & 1u << CTL_FIX_HEADING);
	assert_true(f.nulls & 1u << CTL_FIX_HC);
	assert_false(f.nulls & 1u << CTL_FIX_SPEED);
	assert_int_equal(f.nzones, 2);
	assert_int_equal(f.nzones_set, 2);

	/* a NULL element of zone_ids: counted apart */
	raw_zones(&r, z, 2, 0);
	assert_int_equal(ctl_cenc_fix_parse(&f, r.val, r.len), CTL_CENC_OK);
	assert_int_equal(f.nzones, 2);
	assert_int_equal(f.nzones_set, 1);
}

struct bad_case {
	const char *name;
	int col;  /* the field changed */
	int len;  /* its new length (-1: NULL) */
	int zone; /* 1: break the zone array's header (oid), 2: its element length */
};

static const struct bad_case bad_cases[] = {
	{ "refused: NULL vehicle", CTL_FIX_VEHICLE, -1, 0 },
	{ "refused: NULL ts", CTL_FIX_TS, -1, 0 },
	{ "refused: NULL lat", CTL_FIX_LAT, -1, 0 },
	{ "refused: NULL zone_ids", CTL_FIX_ZONES, -1, 0 },
	{ "refused: NULL received_at", CTL_FIX_RECEIVED, -1, 0 },
	{ "refused: a short ts", CTL_FIX_TS, 7, 0 },
	{ "refused: a long real", CTL_FIX_SPEED, 8, 0 },
	{ "refused: a short smallint", CTL_FIX_FIX, 1, 0 },
	{ "refused: zone_ids cut", CTL_FIX_ZONES, 11, 0 },
	{ "refused: zone_ids of bigint", CTL_FIX_ZONES, 0, 1 },
	{ "refused: a zone element of 8 bytes", CTL_FIX_ZONES, 0, 2 },
	{ "refused: zone_ids with bytes after", CTL_FIX_ZONES, 29, 0 },
};

static void
test_fix_bad(void **state)
{
	const struct bad_case *c = *state;
	static const int32_t z[] = { 7 };
	struct raw r;
	struct ctl_fix f;

	raw_fix(&r, H, 1);
	raw_set(&r, CTL_FIX_FIX, 2, 2);
	raw_zones(&r, z, 1, -1);
	assert_int_equal(ctl_cenc_fix_parse(&f, r.val, r.len), CTL_CENC_OK);
	if (c->zone == 1)
		be(r.buf[CTL_FIX_ZONES] + 8, CTL_OID_INT8, 4);
	else if (c->zone == 2)
		be(r.buf[CTL_FIX_ZONES] + 20, 8, 4);
	else
		r.len[c->col] = c->len;
	assert_int_equal(ctl_cenc_fix_parse(&f, r.val, r.len), CTL_CENC_EVALUE);
}

/* ---- whole slices --------------------------------------------------------- */

/* The columns of a slice row, in ctl_cenc_slice_columns' order. */
enum {
	S_VEHICLE, S_HOUR, S_N, S_TFIRST, S_TLAST, S_TSU, S_DT2, S_DT4, S_T8, S_LLU, S_LAT0,
	S_LON0, S_DLA2, S_DLA4, S_LA8, S_DLO2, S_DLO4, S_LO8,
	S_SP_E, S_SP2, S_SP4, S_SP_R, S_SP_C, S_HD_E, S_HD2, S_HD4, S_HD_R, S_HD_C,
	S_AL_E, S_AL2, S_AL4, S_AL_R, S_AL_C, S_HP_E, S_HP2, S_HP4, S_HP_R, S_HP_C,
	S_FIX_C, S_FIXA, S_SATS_C, S_SATSA, S_UN_C, S_UNA, S_HC_C, S_HCA, S_SEQ0, S_SQD, S_SQ8,
	S_IGN_C, S_IGNA, S_ZC, S_ZN, S_ZF, S_RC4, S_RC8, S_AM_C, S_AMA,
	S_COLS
};

struct row {
	const uint8_t *p[S_COLS];
	int len[S_COLS];
};

static uint64_t
rd(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Splits the one row in b into its fields. */
static void
split(const struct ctl_buf *b, struct row *r)
{
	assert_true(b->len >= 2);
	assert_int_equal(rd(b->p, 2), S_COLS);
	size_t at = 2;
	for (int i = 0; i < S_COLS; i++) {
		assert_true(b->len - at >= 4);
		r->len[i] = (int)(int32_t)rd(b->p + at, 4);
		at += 4;
		r->p[i] = b->p + at;
		if (r->len[i] > 0)
			at += (size_t)r->len[i];
	}
	assert_int_equal(at, b->len);
}

/* element i (4-byte length and value) of a one-dimensional array field;
 * -1 length: NULL */
static int64_t
elem(const struct row *r, int col, int i, int *len)
{
	assert_true(r->len[col] > 0);
	const uint8_t *p = r->p[col];
	assert_int_equal(rd(p, 4), 1);
	size_t at = 20;
	for (int k = 0;; k++) {
		int l = (int)(int32_t)rd(p + at, 4);
		at += 4;
		if (k == i) {
			*len = l;
			if (l < 0)
				return 0;
			uint64_t v = rd(p + at, l);
			return l == 2 ? (int16_t)v : l == 4 ? (int32_t)v : (int64_t)v;
		}
		if (l > 0)
			at += (size_t)l;
	}
}

static int
nelem(const struct row *r, int col)
{
	return (int)rd(r->p[col] + 12, 4);
}

static void
slice_of(struct raw *raw, int n, struct ctl_buf *b, struct row *r)
{
	struct ctl_fix f[8];
	size_t bad;
	assert_true(n <= 8);
	for (int i = 0; i < n; i++)
		assert_int_equal(ctl_cenc_fix_parse(&f[i], raw[i].val, raw[i].len), CTL_CENC_OK);
	assert_int_equal(ctl_cenc_slice(b, f, (size_t)n, &bad), CTL_CENC_OK);
	split(b, r);
}

/* Three fixes 10 s apart, seq 7, 8, 9, 1e-7 degree steps: seconds in
 * int2, llu 100, lat0, the constants. */
static void
test_slice_plain(void **state)
{
	(void)state;
	struct raw raw[3];
	struct ctl_buf b = { 0 };
	struct row r;
	int l;

	for (int i = 0; i < 3; i++) {
		raw_fix(&raw[i], 7 * H + 20000000 + i * 10000000, 7 + i);
		raw_set(&raw[i], CTL_FIX_LAT, dbits(37.5 + i * 1e-7), 8);
	}
	slice_of(raw, 3, &b, &r);
	assert_int_equal(r.len[S_VEHICLE], 2);
	assert_int_equal(rd(r.p[S_HOUR], 8), 7 * H);
	assert_int_equal(rd(r.p[S_N], 4), 3);
	assert_int_equal(rd(r.p[S_TSU], 4), 1000000);
	assert_int_equal(elem(&r, S_DT2, 0, &l), 20);
	assert_int_equal(elem(&r, S_DT2, 2, &l), 10);
	assert_int_equal(r.len[S_DT4], -1);
	assert_int_equal(r.len[S_T8], -1);
	assert_int_equal(rd(r.p[S_LLU], 8), 100);
	assert_int_equal(rd(r.p[S_LAT0], 8), 37500000000);
	assert_int_equal(elem(&r, S_DLA2, 1, &l), 1);
	assert_int_equal(elem(&r, S_DLO2, 2, &l), 0);
	/* speed the same everywhere: a constant; heading NULL everywhere: NULL */
	assert_int_equal(r.len[S_SP_E], -1);
	assert_int_equal(r.len[S_SP2], -1);
	assert_int_equal(rd(r.p[S_SP_C], 4), fbits(60.5f));
	assert_int_equal(r.len[S_HD_C], -1);
	assert_int_equal(r.len[S_HD_R], -1);
	/* a counter without gaps: seq0 alone */
	assert_int_equal(rd(r.p[S_SEQ0], 8), 7);
	assert_int_equal(r.len[S_SQD], -1);
	assert_int_equal(r.len[S_SQ8], -1);
	/* the zones: {} for all, as the first fix's array */
	assert_int_equal(r.len[S_ZC], 12);
	assert_int_equal(r.len[S_ZN], -1);
	/* received 1.5 s later: rc4 */
	assert_int_equal(elem(&r, S_RC4, 1, &l), 1500000);
	assert_int_equal(r.len[S_RC8], -1);
	ctl_buf_free(&b);
}

/* The reals' widths: int2 when max * 10^e fits it, else int4; the rest raw. */
static void
test_slice_reals(void **state)
{
	(void)state;
	struct raw raw[3];
	struct ctl_buf b = { 0 };
	struct row r;
	int l;

	for (int i = 0; i < 3; i++)
		raw_fix(&raw[i], H + i * 1000000, 1);
	raw_set(&raw[0], CTL_FIX_SPEED, fbits(12.5f), 4);
	raw_set(&raw[1], CTL_FIX_SPEED, fbits(1.234f), 4);
	raw[2].len[CTL_FIX_SPEED] = -1;
	raw_set(&raw[0], CTL_FIX_HEADING, fbits(1.2345f), 4);
	raw_set(&raw[1], CTL_FIX_HEADING, fbits(-0.0f), 4);
	raw_set(&raw[0], CTL_FIX_ALT, fbits(5000.5f), 4);
	raw_set(&raw[1], CTL_FIX_ALT, fbits(-400.0f), 4);
	raw_set(&raw[2], CTL_FIX_ALT, fbits(1.0f), 4);
	slice_of(raw, 3, &b, &r);
	/* speed: e 3 (1.234), 12.5 * 1000 = 12500 fits int2 */
	assert_int_equal(rd(r.p[S_SP_E], 2), 3);
	assert_int_equal(elem(&r, S_SP2, 0, &l), 12500);
	assert_int_equal(elem(&r, S_SP2, 1, &l), 1234);
	elem(&r, S_SP2, 2, &l);
	assert_int_equal(l, -1);
	assert_int_equal(r.len[S_SP4], -1);
	/* heading: no e (4 decimals, -0): the reals themselves, bit for bit */
	assert_int_equal(r.len[S_HD_E], -1);
	assert_int_equal(elem(&r, S_HD_R, 1, &l), (int32_t)fbits(-0.0f));
	elem(&r, S_HD_R, 2, &l);
	assert_int_equal(l, -1);
	/* alt: e 1, 5000.5 * 10 = 50005 past int2: int4 */
	assert_int_equal(rd(r.p[S_AL_E], 2), 1);
	assert_int_equal(r.len[S_AL2], -1);
	assert_int_equal(elem(&r, S_AL4, 0, &l), 50005);
	assert_int_equal(elem(&r, S_AL4, 1, &l), -4000);
	ctl_buf_free(&b);
}

/* seq in each of its forms, and zones that change (a NULL element left out). */
static void
test_slice_seq_zones(void **state)
{
	(void)state;
	struct raw raw[3];
	struct ctl_buf b = { 0 };
	struct row r;
	int l;
	static const int32_t z[] = { 7, 1000000000, -3 };

	for (int i = 0; i < 3; i++)
		raw_fix(&raw[i], H + i * 1000000, 100 + i);
	raw_set(&raw[2], CTL_FIX_SEQ, 200, 8);   /* a gap: sqd */
	raw_zones(&raw[1], z, 3, -1);
	raw_zones(&raw[2], z, 3, 1);             /* {7, NULL, -3} */
	slice_of(raw, 3, &b, &r);
	assert_int_equal(rd(r.p[S_SEQ0], 8), 100);
	assert_int_equal(elem(&r, S_SQD, 2, &l), 98);
	assert_int_equal(r.len[S_SQ8], -1);
	assert_int_equal(r.len[S_ZC], -1);
	assert_int_equal(elem(&r, S_ZN, 0, &l), 0);
	assert_int_equal(elem(&r, S_ZN, 1, &l), 3);
	assert_int_equal(elem(&r, S_ZN, 2, &l), 2);
	assert_int_equal(nelem(&r, S_ZF), 5);
	assert_int_equal(elem(&r, S_ZF, 3, &l), 7);
	assert_int_equal(elem(&r, S_ZF, 4, &l), -3);
	ctl_buf_free(&b);

	/* a NULL seq: sq8 with the NULL */
	raw[1].len[CTL_FIX_SEQ] = -1;
	slice_of(raw, 3, &b, &r);
	assert_int_equal(r.len[S_SEQ0], -1);
	assert_int_equal(r.len[S_SQD], -1);
	elem(&r, S_SQ8, 1, &l);
	assert_int_equal(l, -1);
	assert_int_equal(elem(&r, S_SQ8, 2, &l), 200);
	ctl_buf_free(&b);

	/* a deviation that overflows a bigint (the SQL fails there): sq8 */
	raw_set(&raw[1], CTL_FIX_SEQ, (uint64_t)INT64_MIN, 8);
	raw_set(&raw[0], CTL_FIX_SEQ, (uint64_t)INT64_MAX, 8);
	slice_of(raw, 3, &b, &r);
	assert_int_equal(r.len[S_SEQ0], -1);
	assert_true(elem(&r, S_SQ8, 1, &l) == INT64_MIN);
	ctl_buf_free(&b);

	/* seq0 + i would overflow in the decoder: sq8 */
	raw_set(&raw[0], CTL_FIX_SEQ, (uint64_t)INT64_MAX, 8);
	raw_set(&raw[1], CTL_FIX_SEQ, (uint64_t)INT64_MAX, 8);
	raw_set(&raw[2], CTL_FIX_SEQ, (uint64_t)INT64_MAX, 8);
	slice_of(raw, 3, &b, &r);
	assert_int_equal(r.len[S_SEQ0], -1);
	ctl_buf_free(&b);

	/* all NULL: nothing */
	for (int i = 0; i < 3; i++)
		raw[i].len[CTL_FIX_SEQ] = -1;
	slice_of(raw, 3, &b, &r);
	assert_int_equal(r.len[S_SEQ0], -1);
	assert_int_equal(r.len[S_SQD], -1);
	assert_int_equal(r.len[S_SQ8], -1);
	ctl_buf_free(&b);
}

/* Time and place past int4: t8 (offsets), la8/lo8 (nanodegrees); rc8. */
static void
test_slice_wide(void **state)
{
	(void)state;
	struct raw raw[2];
	struct ctl_buf b = { 0 };
	struct row r;
	int l;

	raw_fix(&raw[0], 2 * H + 1, 1);
	raw_fix(&raw[1], 2 * H + 3599999999, 2);
	raw_set(&raw[1], CTL_FIX_LAT, dbits(-37.123456789), 8);
	raw_set(&raw[1], CTL_FIX_RECEIVED, (uint64_t)(2 * H + 3599999999 + INT64_C(3456000000000)), 8);
	slice_of(raw, 2, &b, &r);
	assert_int_equal(rd(r.p[S_TSU], 4), 1);
	assert_int_equal(r.len[S_DT2], -1);
	assert_int_equal(r.len[S_DT4], -1);
	assert_int_equal(elem(&r, S_T8, 1, &l), 3599999999);
	assert_int_equal(r.len[S_DLA2], -1);
	assert_true(elem(&r, S_LA8, 1, &l) == -37123456789);
	assert_true(elem(&r, S_LO8, 1, &l) == 112500000000);
	assert_int_equal(r.len[S_RC4], -1);
	assert_true(elem(&r, S_RC8, 1, &l) == INT64_C(3456000000000));
	ctl_buf_free(&b);
}

/* What no slice holds: NaN or huge lat, infinite received_at; the buffer is
 * left as it was and the fix named. */
static void
test_slice_refused(void **state)
{
	(void)state;
	struct raw raw[3];
	struct ctl_fix f[3];
	struct ctl_buf b = { 0 };
	size_t bad;

	for (int i = 0; i < 3; i++)
		raw_fix(&raw[i], H + i * 1000000, 1);
	ctl_cenc_copy_header(&b);
	size_t len = b.len;
	raw_set(&raw[1], CTL_FIX_LAT, dbits(NAN), 8);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ctl_cenc_fix_parse(&f[i], raw[i].val, raw[i].len), CTL_CENC_OK);
	assert_int_equal(ctl_cenc_slice(&b, f, 3, &bad), CTL_CENC_EVALUE);
	assert_int_equal(bad, 1);
	assert_int_equal(b.len, len);

	raw_set(&raw[1], CTL_FIX_LAT, dbits(1), 8);
	raw_set(&raw[2], CTL_FIX_RECEIVED, (uint64_t)INT64_MAX, 8);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ctl_cenc_fix_parse(&f[i], raw[i].val, raw[i].len), CTL_CENC_OK);
	assert_int_equal(ctl_cenc_slice(&b, f, 3, &bad), CTL_CENC_EVALUE);
	assert_int_equal(bad, 2);
	raw_set(&raw[0], CTL_FIX_LON, dbits(1e10), 8);   /* nanodegrees past a bigint */
	assert_int_equal(ctl_cenc_fix_parse(&f[0], raw[0].val, raw[0].len), CTL_CENC_OK);
	assert_int_equal(ctl_cenc_slice(&b, f, 3, &bad), CTL_CENC_EVALUE);
	assert_int_equal(bad, 0);
	raw_set(&raw[0], CTL_FIX_LON, dbits(1), 8);
	assert_int_equal(ctl_cenc_fix_parse(&f[0], raw[0].val, raw[0].len), CTL_CENC_OK);

	/* not one hour, or not in order: the caller's error, refused */
	raw_set(&raw[2], CTL_FIX_RECEIVED, (uint64_t)(H + 5), 8);
	raw_set(&raw[2], CTL_FIX_TS, (uint64_t)(2 * H), 8);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ctl_cenc_fix_parse(&f[i], raw[i].val, raw[i].len), CTL_CENC_OK);
	assert_int_equal(ctl_cenc_slice(&b, f, 3, &bad), CTL_CENC_EVALUE);
	assert_int_equal(bad, 2);
	assert_int_equal(ctl_cenc_slice(&b, f, 0, &bad), CTL_CENC_EVALUE);
	assert_int_equal(b.len, len);
	ctl_buf_free(&b);
}

int
main(void)
{
	struct CMUnitTest tests[128];
	size_t n = 0;

	ROWS(e_cases, test_e);
	ROWS(tz_cases, test_tz);
	ROWS(width_cases, test_width);
	ONE(test_hour);
	ONE(test_array_bytes);
	ONE(test_fix_parse);
	ROWS(bad_cases, test_fix_bad);
	ONE(test_slice_plain);
	ONE(test_slice_reals);
	ONE(test_slice_seq_zones);
	ONE(test_slice_wide);
	ONE(test_slice_refused);
	return _cmocka_run_group_tests("test_ctl_compact", tests, n, NULL, NULL);
}
