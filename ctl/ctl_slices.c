/*
 * ctl_slices.c: the pure half of ctl_slices.h: PostgreSQL's binary array
 * format parsed and checked, a slice of positions_slices decoded exactly
 * as schema/012's hazgate_slice_fixes decodes it, a row of
 * positions_recent, and PostgreSQL's text of a float.
 *
 * The SQL decoder, step by step, and what stands for it here:
 *   - unnest(...) WITH ORDINALITY of the arrays: as many fixes as the
 *     longest array (shorter ones padded with NULL; a NULL array has none);
 *   - sum(...) OVER (ORDER BY i) of dt, dla, dlo, zn: running sums in
 *     int64 that skip NULL elements and are NULL until the first value;
 *   - ts = hour + coalesce(t * tsu, t8) microseconds; lat = coalesce(lat0
 *     + la * llu, la8)::float8 / 1e9 (an IEEE division, as float8div);
 *   - a real = coalesce((k::float8 / 10::float8 ^ e)::real, r, c): pow()
 *     as float8 ^ (dpow), the division, the narrowing to float (the
 *     server refuses a result that overflows or underflows to 0, and so
 *     does this);
 *   - seq = coalesce(sq8, seq0 + (i - 1) + (sqd array NULL ? 0 : sqd));
 *   - zone_ids = coalesce(zc, zf[zs - zn + 1 : zs], '{}') with the
 *     server's slice bounds clamped to the array;
 *   - received_at = ts + coalesce(rc4, rc8) microseconds.
 * bigint arithmetic that would overflow is refused, as the server does.
 * A slice whose arrays give a fix no time (only a damaged one) is refused
 * too: SQL would return a NULL ts.
 *
 * Floats as text: float8out and float4out print the shortest digits that
 * read back exactly and do not lie halfway to a neighbouring value (Ryu,
 * as PostgreSQL builds it), the closest to the value among those. Found
 * here with the C library: a normal double whose 15-digit rounding reads
 * back (and is not halfway) has that as its shortest form (DBL_DIG: no
 * two decimals of <= 15 digits read as the same double), else the
 * 16-digit rounding or the other 16-digit neighbour of the value, else
 * 17 digits; FLT_DIG (6), 7, 8 and 9 for a real. Subnormals try every
 * length. The values the slices hold (nanodegrees / 1e9, k / 10^e) take
 * a shortcut: their digits are those of the integer (such a decimal is
 * never halfway: it would be a binary fraction the type holds exactly).
 */
#include "ctl/ctl_slices.h"

#include <fenv.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2000-01-01 (PostgreSQL's epoch) in Unix microseconds. */
#define PG_EPOCH_US INT64_C(946684800000000)

/* A block of memory a ctl_fixes owns. */
struct ctl_blob {
	struct ctl_blob *next;
	size_t size, used;
	_Alignas(max_align_t) unsigned char mem[];
};

const struct ctl_col_desc ctl_slice_cols[CTL_SC_NCOLS] = {
	[CTL_SC_HOUR] = { "hour", CTL_PG_TIMESTAMPTZ, false, 0 },
	[CTL_SC_T_FIRST] = { "t_first", CTL_PG_TIMESTAMPTZ, false, 0 },
	[CTL_SC_T_LAST] = { "t_last", CTL_PG_TIMESTAMPTZ, false, 0 },
	[CTL_SC_TSU] = { "tsu", CTL_PG_INT4, false, 0 },
	[CTL_SC_DT2] = { "dt2", CTL_PG_INT2, true, 0 },
	[CTL_SC_DT4] = { "dt4", CTL_PG_INT4, true, 0 },
	[CTL_SC_T8] = { "t8", CTL_PG_INT8, true, 0 },
	[CTL_SC_LLU] = { "llu", CTL_PG_INT8, false, 0 },
	[CTL_SC_LAT0] = { "lat0", CTL_PG_INT8, false, 0 },
	[CTL_SC_LON0] = { "lon0", CTL_PG_INT8, false, 0 },
	[CTL_SC_DLA2] = { "dla2", CTL_PG_INT2, true, 0 },
	[CTL_SC_DLA4] = { "dla4", CTL_PG_INT4, true, 0 },
	[CTL_SC_LA8] = { "la8", CTL_PG_INT8, true, 0 },
	[CTL_SC_DLO2] = { "dlo2", CTL_PG_INT2, true, 0 },
	[CTL_SC_DLO4] = { "dlo4", CTL_PG_INT4, true, 0 },
	[CTL_SC_LO8] = { "lo8", CTL_PG_INT8, true, 0 },
#define REAL_COLS(P, W)                                                        \
	[CTL_SC_##P##_E] = { #W "_e", CTL_PG_INT2, false, WANT_##P },          \
	[CTL_SC_##P##2] = { #W "2", CTL_PG_INT2, true, WANT_##P },             \
	[CTL_SC_##P##4] = { #W "4", CTL_PG_INT4, true, WANT_##P },             \
	[CTL_SC_##P##_R] = { #W "_r", CTL_PG_FLOAT4, true, WANT_##P },         \
	[CTL_SC_##P##_C] = { #W "_c", CTL_PG_FLOAT4, false, WANT_##P }
#define WANT_SP (CTL_WANT_TRACK | CTL_WANT_AUDIT | CTL_WANT_ALL | CTL_WANT_SPEED)
#define WANT_HD (CTL_WANT_TRACK | CTL_WANT_ALL)
#define WANT_AL (CTL_WANT_TRACK | CTL_WANT_ALL)
#define WANT_HP (CTL_WANT_TRACK | CTL_WANT_ALL)
	REAL_COLS(SP, sp),
	REAL_COLS(HD, hd),
	REAL_COLS(AL, al),
	REAL_COLS(HP, hp),
	[CTL_SC_FIX_C] = { "fix_c", CTL_PG_INT2, false, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_SC_FIXA] = { "fixa", CTL_PG_INT2, true, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_SC_SATS_C] = { "sats_c", CTL_PG_INT2, false, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_SC_SATSA] = { "satsa", CTL_PG_INT2, true, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_SC_UN_C] = { "un_c", CTL_PG_TEXT, false, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_SC_UNA] = { "una", CTL_PG_TEXT, true, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_SC_HC_C] = { "hc_c", CTL_PG_TEXT, false, CTL_WANT_TRACK | CTL_WANT_AUDIT | CTL_WANT_ALL },
	[CTL_SC_HCA] = { "hca", CTL_PG_TEXT, true, CTL_WANT_TRACK | CTL_WANT_AUDIT | CTL_WANT_ALL },
	[CTL_SC_SEQ0] = { "seq0", CTL_PG_INT8, false, CTL_WANT_ALL },
	[CTL_SC_SQD] = { "sqd", CTL_PG_INT4, true, CTL_WANT_ALL },
	[CTL_SC_SQ8] = { "sq8", CTL_PG_INT8, true, CTL_WANT_ALL },
	[CTL_SC_IGN_C] = { "ign_c", CTL_PG_BOOL, false, CTL_WANT_ALL },
	[CTL_SC_IGNA] = { "igna", CTL_PG_BOOL, true, CTL_WANT_ALL },
	[CTL_SC_ZC] = { "zc", CTL_PG_INT4, true, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_SC_ZN] = { "zn", CTL_PG_INT2, true, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_SC_ZF] = { "zf", CTL_PG_INT4, true, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_SC_RC4] = { "rc4", CTL_PG_INT4, true, CTL_WANT_ALL },
	[CTL_SC_RC8] = { "rc8", CTL_PG_INT8, true, CTL_WANT_ALL },
	[CTL_SC_AM_C] = { "am_c", CTL_PG_INT4, false, CTL_WANT_AUDIT | CTL_WANT_ALL },
	[CTL_SC_AMA] = { "ama", CTL_PG_INT4, true, CTL_WANT_AUDIT | CTL_WANT_ALL },
};

const struct ctl_col_desc ctl_row_cols[CTL_RC_NCOLS] = {
	[CTL_RC_TS] = { "ts", CTL_PG_TIMESTAMPTZ, false, 0 },
	[CTL_RC_LAT] = { "lat", CTL_PG_FLOAT8, false, 0 },
	[CTL_RC_LON] = { "lon", CTL_PG_FLOAT8, false, 0 },
	[CTL_RC_SPEED] = { "speed_kmh", CTL_PG_FLOAT4, false, WANT_SP },
	[CTL_RC_HEADING] = { "heading", CTL_PG_FLOAT4, false, WANT_HD },
	[CTL_RC_ALT] = { "alt_m", CTL_PG_FLOAT4, false, WANT_AL },
	[CTL_RC_HDOP] = { "hdop", CTL_PG_FLOAT4, false, WANT_HP },
	[CTL_RC_FIX] = { "fix", CTL_PG_INT2, false, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_RC_SATS] = { "sats", CTL_PG_INT2, false, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_RC_UN] = { "un", CTL_PG_TEXT, false, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_RC_HC] = { "hazard_class", CTL_PG_TEXT, false,
			CTL_WANT_TRACK | CTL_WANT_AUDIT | CTL_WANT_ALL },
	[CTL_RC_SEQ] = { "seq", CTL_PG_INT8, false, CTL_WANT_ALL },
	[CTL_RC_IGNITION] = { "ignition", CTL_PG_BOOL, false, CTL_WANT_ALL },
	[CTL_RC_ZONES] = { "zone_ids", CTL_PG_INT4, true, CTL_WANT_TRACK | CTL_WANT_ALL },
	[CTL_RC_RECEIVED] = { "received_at", CTL_PG_TIMESTAMPTZ, false, CTL_WANT_ALL },
	[CTL_RC_ALARMS] = { "alarms", CTL_PG_INT4, false, CTL_WANT_AUDIT | CTL_WANT_ALL },
};

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- memory ------------------------------------------------------------- */

void
ctl_fixes_clear(struct ctl_fixes *f)
{
	free(f->v);
	while (f->blobs) {
		struct ctl_blob *b = f->blobs;
		f->blobs = b->next;
		free(b);
	}
	memset(f, 0, sizeof *f);
}

/* n bytes (aligned) that live as long as f's fixes, or NULL. */
static void *
fixes_alloc(struct ctl_fixes *f, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct ctl_blob *b = f->blobs;
	if (!b || b->size - b->used < n) {
		size_t size = n > 65536 ? n : 65536;
		b = malloc(sizeof *b + size);
		if (!b)
			return NULL;
		b->size = size;
		b->used = 0;
		b->next = f->blobs;
		f->blobs = b;
	}
	void *p = b->mem + b->used;
	b->used += n;
	return p;
}

/* Appends a copy of fix x to f (its order: its place). Returns 0, or -1
 * with a message in err. */
static int
fixes_append(struct ctl_fixes *f, const struct ctl_fix *x, char *err, size_t errlen)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		struct ctl_fix *v = realloc(f->v, cap * sizeof *v);
		if (!v)
			return fail(err, errlen, "out of memory");
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n] = *x;
	f->v[f->n].order = (uint32_t)f->n;
	f->n++;
	return 0;
}

static int
fix_cmp(const void *a, const void *b)
{
	const struct ctl_fix *x = a, *y = b;
	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void
ctl_fixes_sort(struct ctl_fixes *f)
{
	for (size_t i = 1; i < f->n; i++) {
		if (f->v[i].ts_us < f->v[i - 1].ts_us) {
			qsort(f->v, f->n, sizeof *f->v, fix_cmp);
			return;
		}
	}
}

/* ---- binary values -------------------------------------------------------- */

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* The value of a fixed-size integer element or column of `size` bytes. */
static int64_t
be_int(const uint8_t *p, int size)
{
	switch (size) {
	case 2:
		return (int16_t)(uint16_t)(p[0] << 8 | p[1]);
	case 4:
		return (int32_t)be32(p);
	default:
		return (int64_t)be64(p);
	}
}

static float
be_float4(const uint8_t *p)
{
	uint32_t u = be32(p);
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static double
be_float8(const uint8_t *p)
{
	uint64_t u = be64(p);
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* The binary size of a fixed-size type, or -1 (text). */
static int
type_size(uint32_t t)
{
	switch (t) {
	case CTL_PG_BOOL:
		return 1;
	case CTL_PG_INT2:
		return 2;
	case CTL_PG_INT4:
	case CTL_PG_FLOAT4:
		return 4;
	case CTL_PG_INT8:
	case CTL_PG_FLOAT8:
	case CTL_PG_TIMESTAMPTZ:
		return 8;
	default:
		return -1;
	}
}

int
ctl_pgarr_parse(const uint8_t *buf, size_t len, uint32_t elem, struct ctl_pgarr *a, char *err,
		size_t errlen)
{
	memset(a, 0, sizeof *a);
	if (len < 12)
		return fail(err, errlen, "array of %zu bytes: shorter than its header", len);
	int32_t ndim = (int32_t)be32(buf);
	uint32_t flags = be32(buf + 4), type = be32(buf + 8);
	if (ndim != 0 && ndim != 1)
		return fail(err, errlen, "array of %" PRId32 " dimensions (one expected)", ndim);
	if (flags > 1)
		return fail(err, errlen, "array flags %" PRIu32 " (0 or 1 expected)", flags);
	if (type != elem)
		return fail(err, errlen, "array of type %" PRIu32 " (%" PRIu32 " expected)", type,
			    elem);
	a->elem = elem;
	a->hasnull = flags == 1;
	if (ndim == 0) {
		if (len != 12)
			return fail(err, errlen, "empty array followed by %zu bytes", len - 12);
		return 0;
	}
	if (len < 20)
		return fail(err, errlen, "array of %zu bytes: shorter than its dimension", len);
	int32_t n = (int32_t)be32(buf + 12), lb = (int32_t)be32(buf + 16);
	if (n < 0)
		return fail(err, errlen, "array of %" PRId32 " elements", n);
	if (lb != 1)
		return fail(err, errlen, "array with lower bound %" PRId32 " (1 expected)", lb);
	size_t pos = 20;
	if ((size_t)n > (len - pos) / 4)
		return fail(err, errlen, "array of %" PRId32 " elements in %zu bytes", n, len);
	int size = type_size(elem);
	a->off = malloc(((size_t)n ? (size_t)n : 1) * sizeof *a->off);
	a->len = malloc(((size_t)n ? (size_t)n : 1) * sizeof *a->len);
	if (!a->off || !a->len) {
		ctl_pgarr_free(a);
		return fail(err, errlen, "out of memory");
	}
	for (int32_t i = 0; i < n; i++) {
		if (len - pos < 4) {
			ctl_pgarr_free(a);
			return fail(err, errlen, "array element %" PRId32 " past the end", i + 1);
		}
		int32_t el = (int32_t)be32(buf + pos);
		pos += 4;
		if (el == -1) {
			if (!a->hasnull) {
				ctl_pgarr_free(a);
				return fail(err, errlen,
					    "array element %" PRId32 " is NULL in an array without NULLs",
					    i + 1);
			}
		} else if (el < 0 || (size_t)el > len - pos || (size >= 0 && el != size)) {
			ctl_pgarr_free(a);
			return fail(err, errlen, "array element %" PRId32 " of %" PRId32 " bytes",
				    i + 1, el);
		}
		a->off[i] = (uint32_t)pos;
		a->len[i] = el;
		if (el > 0)
			pos += (size_t)el;
	}
	if (pos != len) {
		ctl_pgarr_free(a);
		return fail(err, errlen, "array followed by %zu bytes", len - pos);
	}
	a->n = n;
	a->data = buf;
	return 0;
}

void
ctl_pgarr_free(struct ctl_pgarr *a)
{
	free(a->off);
	free(a->len);
	a->off = NULL;
	a->len = NULL;
	a->n = 0;
}

/* ---- columns ----------------------------------------------------------------- */

/* A column decoded: an array (n values, or absent) or a scalar (n 1). */
struct col {
	bool present;   /* not NULL */
	int32_t n;      /* elements (a scalar: 1) */
	struct ctl_pgarr a;
	const uint8_t *p;       /* a scalar's bytes */
	size_t len;
};

/* Checks column v against its description d (name for messages). */
static int
col_open(const struct ctl_pgval *v, const struct ctl_col_desc *d, struct col *c, char *err,
	 size_t errlen)
{
	memset(c, 0, sizeof *c);
	if (!v->p)
		return 0;
	c->present = true;
	if (d->array) {
		char why[200];
		if (ctl_pgarr_parse(v->p, v->len, d->type, &c->a, why, sizeof why) != 0)
			return fail(err, errlen, "column %s: %s", d->name, why);
		c->n = c->a.n;
		return 0;
	}
	int size = type_size(d->type);
	if (size >= 0 && v->len != (size_t)size)
		return fail(err, errlen, "column %s: %zu bytes (%d expected)", d->name, v->len,
			    size);
	c->n = 1;
	c->p = v->p;
	c->len = v->len;
	return 0;
}

/* Element i of array column c: its bytes, or NULL (absent, past its end,
 * or a NULL element). */
static const uint8_t *
col_el(const struct col *c, int32_t i, size_t *len)
{
	if (!c->present || i >= c->a.n || c->a.len[i] < 0)
		return NULL;
	if (len)
		*len = (size_t)c->a.len[i];
	return c->a.data + c->a.off[i];
}

/* A scalar column's bytes, or NULL. */
static const uint8_t *
col_val(const struct col *c)
{
	return c->present ? c->p : NULL;
}

/* Integer element i of an int2/int4/int8 array column; false for NULL. */
static bool
col_int(const struct col *c, const struct ctl_col_desc *d, int32_t i, int64_t *out)
{
	const uint8_t *p = col_el(c, i, NULL);
	if (!p)
		return false;
	*out = be_int(p, type_size(d->type));
	return true;
}

/* The elements of int4 array column z as values (*v) and NULL flags (*nl,
 * NULL when the array has none), owned by f. Returns 0, or -1 with a
 * message in err. */
static int
col_int4s(struct ctl_fixes *f, const struct col *z, const struct ctl_col_desc *d, int32_t **v,
	  uint8_t **nl, char *err, size_t errlen)
{
	*v = fixes_alloc(f, (size_t)z->a.n * sizeof **v + 1);
	*nl = z->a.hasnull ? fixes_alloc(f, (size_t)z->a.n + 1) : NULL;
	if (!*v || (z->a.hasnull && !*nl))
		return fail(err, errlen, "out of memory");
	for (int32_t i = 0; i < z->a.n; i++) {
		int64_t x = 0;
		bool has = col_int(z, d, i, &x);
		(*v)[i] = (int32_t)x;
		if (*nl)
			(*nl)[i] = !has;
	}
	return 0;
}

/* A NUL-terminated copy of len bytes at p, owned by f, or NULL. */
static const char *
fixes_strdup(struct ctl_fixes *f, const uint8_t *p, size_t len)
{
	char *s = fixes_alloc(f, len + 1);
	if (s) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

static int
ts_from_pg(const uint8_t *p, int64_t *us, const char *what, char *err, size_t errlen)
{
	int64_t v = (int64_t)be64(p);
	if (v == INT64_MAX || v == INT64_MIN || v > INT64_MAX - PG_EPOCH_US)
		return fail(err, errlen, "%s is infinite", what);
	*us = v + PG_EPOCH_US;
	return 0;
}

/* The four real fields of a fix (speed, heading, alt, hdop): where each
 * goes, its NULL bit, its first slice column (*_E) and its row column. */
static const struct {
	size_t off;
	uint32_t null;
	int slice_base, row_col;
} real_fields[4] = {
	{ offsetof(struct ctl_fix, speed), CTL_FIX_NULL_SPEED, CTL_SC_SP_E, CTL_RC_SPEED },
	{ offsetof(struct ctl_fix, heading), CTL_FIX_NULL_HEADING, CTL_SC_HD_E, CTL_RC_HEADING },
	{ offsetof(struct ctl_fix, alt), CTL_FIX_NULL_ALT, CTL_SC_AL_E, CTL_RC_ALT },
	{ offsetof(struct ctl_fix, hdop), CTL_FIX_NULL_HDOP, CTL_SC_HP_E, CTL_RC_HDOP },
};

/* Sets real field r of x to *v, or NULL when v is NULL. */
static void
fix_set_real(struct ctl_fix *x, int r, const float *v)
{
	if (v)
		memcpy((char *)x + real_fields[r].off, v, sizeof *v);
	else
		x->nulls |= real_fields[r].null;
}

/* The server's float8 ^ for 10 ^ e (dpow's range errors) then k / that,
 * narrowed to real (float8_numeric's... float84's checks). */
static int
dec_real(int64_t e, int64_t k, float *out, char *err, size_t errlen)
{
	/* 10^0..10^22 are doubles exactly, so pow() gives them exactly (its
	 * error is below an ulp); a lookup costs less than the call */
	static const double p10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	double p = e >= 0 && e < (int64_t)(sizeof p10 / sizeof p10[0]) ? p10[e]
									: pow(10.0, (double)e);
	if (isinf(p))
		return fail(err, errlen, "10 ^ %" PRId64 ": value out of range: overflow", e);
	if (p == 0.0)
		return fail(err, errlen, "10 ^ %" PRId64 ": value out of range: underflow", e);
	double q = (double)k / p;
	float f = (float)q;
	if (isinf(f) && !isinf(q))
		return fail(err, errlen, "%" PRId64 " / 10 ^ %" PRId64 ": real out of range", k, e);
	if (f == 0.0f && q != 0.0)
		return fail(err, errlen, "%" PRId64 " / 10 ^ %" PRId64 ": real underflow", k, e);
	*out = f;
	return 0;
}

/* One real field of a slice (columns base.._C in the order _E, 2, 4, _R,
 * _C) for fix i: coalesce(dec_real(e, k), r, c). */
static int
slice_real(const struct col *c, int base, int32_t i, float *out, bool *null, char *err,
	   size_t errlen)
{
	const struct col *ce = &c[base], *c2 = &c[base + 1], *c4 = &c[base + 2],
			 *cr = &c[base + 3], *cc = &c[base + 4];
	const struct col *ck = c2->present ? c2 : c4;
	const uint8_t *pe = col_val(ce);
	int64_t k;
	*null = false;
	if (pe && col_int(ck, &ctl_slice_cols[ck == c2 ? base + 1 : base + 2], i, &k)) {
		char why[160];
		if (dec_real(be_int(pe, 2), k, out, why, sizeof why) != 0)
			return fail(err, errlen, "column %s: %s", ctl_slice_cols[base].name, why);
		return 0;
	}
	const uint8_t *p = col_el(cr, i, NULL);
	if (!p)
		p = col_val(cc);
	if (!p) {
		*null = true;
		return 0;
	}
	*out = be_float4(p);
	return 0;
}

/* Running sum of an int array column (the server's sum() OVER w: NULL
 * until a value, NULL elements skipped). */
struct rsum {
	bool some;
	int64_t v;
};

static int
rsum_add(struct rsum *s, const struct col *c, const struct ctl_col_desc *d, int32_t i,
	 char *err, size_t errlen)
{
	int64_t x;
	if (!col_int(c, d, i, &x))
		return 0;
	if (__builtin_add_overflow(s->v, x, &s->v))
		return fail(err, errlen, "column %s: bigint out of range", d->name);
	s->some = true;
	return 0;
}

/* coalesce(base + sum * unit, raw[i]) for lat and lon; false for NULL. */
static int
slice_ll(const struct col *c, int base_col, const struct rsum *s, int raw_col, int64_t unit,
	 int32_t i, int64_t *out, bool *ok, char *err, size_t errlen)
{
	const uint8_t *pb = col_val(&c[base_col]);
	*ok = false;
	if (pb && s->some) {
		int64_t m;
		if (__builtin_mul_overflow(s->v, unit, &m) ||
		    __builtin_add_overflow(be_int(pb, 8), m, out))
			return fail(err, errlen, "column %s: bigint out of range",
				    ctl_slice_cols[base_col].name);
		*ok = true;
		return 0;
	}
	int64_t r;
	if (col_int(&c[raw_col], &ctl_slice_cols[raw_col], i, &r)) {
		*out = r;
		*ok = true;
	}
	return 0;
}

/* The server's (microseconds)::float8 * interval '1 microsecond', added to
 * a time: exact below 2^53; refused beyond (never in a slice). */
static int
add_us(int64_t t, int64_t us, int64_t *out, const char *what, char *err, size_t errlen)
{
	if (us > (INT64_C(1) << 53) || us < -(INT64_C(1) << 53) ||
	    __builtin_add_overflow(t, us, out))
		return fail(err, errlen, "%s: %" PRId64 " microseconds out of range", what, us);
	return 0;
}

/* Whether column k is the integer[] of a coalesce(x2::integer[], x4)
 * pair (dt, dla, dlo and the four reals). */
static bool
is_wide_of_pair(int k)
{
	return k == CTL_SC_DT4 || k == CTL_SC_DLA4 || k == CTL_SC_DLO4 || k == CTL_SC_SP4 ||
	       k == CTL_SC_HD4 || k == CTL_SC_AL4 || k == CTL_SC_HP4;
}

int
ctl_slice_decode(const struct ctl_pgval col[CTL_SC_NCOLS], int64_t from_us, int64_t to_us,
		 struct ctl_fixes *f, char *err, size_t errlen)
{
	struct col c[CTL_SC_NCOLS];
	int rc = -1, opened = 0;
	const struct ctl_col_desc *D = ctl_slice_cols;

	for (; opened < CTL_SC_NCOLS; opened++)
		if (col_open(&col[opened], &D[opened], &c[opened], err, errlen) != 0)
			goto done;
	static const int notnull[] = { CTL_SC_HOUR, CTL_SC_T_FIRST, CTL_SC_T_LAST, CTL_SC_TSU,
				       CTL_SC_LLU, CTL_SC_LAT0, CTL_SC_LON0 };
	for (size_t k = 0; k < sizeof notnull / sizeof notnull[0]; k++)
		if (!c[notnull[k]].present) {
			fail(err, errlen, "column %s is NULL", D[notnull[k]].name);
			goto done;
		}
	int64_t hour, t_first, t_last;
	if (ts_from_pg(c[CTL_SC_HOUR].p, &hour, "hour", err, errlen) != 0 ||
	    ts_from_pg(c[CTL_SC_T_FIRST].p, &t_first, "t_first", err, errlen) != 0 ||
	    ts_from_pg(c[CTL_SC_T_LAST].p, &t_last, "t_last", err, errlen) != 0)
		goto done;
	/* hazgate_positions_vehicle's conditions on the slice */
	if (t_last < from_us || t_first >= to_us) {
		rc = 0;
		goto done;
	}
	bool all_in = t_first >= from_us && t_last < to_us;
	int64_t tsu = be_int(c[CTL_SC_TSU].p, 4), llu = be_int(c[CTL_SC_LLU].p, 8);

	/* coalesce(x2::integer[], x4): the first array when it is not NULL */
	const struct col *dt = c[CTL_SC_DT2].present ? &c[CTL_SC_DT2] : &c[CTL_SC_DT4];
	const struct col *dla = c[CTL_SC_DLA2].present ? &c[CTL_SC_DLA2] : &c[CTL_SC_DLA4];
	const struct col *dlo = c[CTL_SC_DLO2].present ? &c[CTL_SC_DLO2] : &c[CTL_SC_DLO4];
	const struct ctl_col_desc *ddt = &D[dt == &c[CTL_SC_DT2] ? CTL_SC_DT2 : CTL_SC_DT4];
	const struct ctl_col_desc *ddla = &D[dla == &c[CTL_SC_DLA2] ? CTL_SC_DLA2 : CTL_SC_DLA4];
	const struct ctl_col_desc *ddlo = &D[dlo == &c[CTL_SC_DLO2] ? CTL_SC_DLO2 : CTL_SC_DLO4];

	/* unnest's rows: the longest array */
	int32_t n = 0;
	for (int k = 0; k < CTL_SC_NCOLS; k++) {
		if (!D[k].array || k == CTL_SC_ZC || k == CTL_SC_ZF || !c[k].present)
			continue;
		if (is_wide_of_pair(k) && c[k - 1].present)
			continue;       /* coalesce(x2::integer[], x4): x2 it is */
		if (c[k].a.n > n)
			n = c[k].a.n;
	}

	/* zc (every fix's set) and zf (all sets, one after another), decoded once */
	int32_t *zcv = NULL, *zfv = NULL;
	uint8_t *zcn = NULL, *zfn = NULL;
	if ((c[CTL_SC_ZC].present &&
	     col_int4s(f, &c[CTL_SC_ZC], &D[CTL_SC_ZC], &zcv, &zcn, err, errlen) != 0) ||
	    (c[CTL_SC_ZF].present &&
	     col_int4s(f, &c[CTL_SC_ZF], &D[CTL_SC_ZF], &zfv, &zfn, err, errlen) != 0))
		goto done;
	/* constant strings, once */
	const char *un_c = NULL, *hc_c = NULL;
	if (c[CTL_SC_UN_C].present &&
	    !(un_c = fixes_strdup(f, c[CTL_SC_UN_C].p, c[CTL_SC_UN_C].len))) {
		fail(err, errlen, "out of memory");
		goto done;
	}
	if (c[CTL_SC_HC_C].present &&
	    !(hc_c = fixes_strdup(f, c[CTL_SC_HC_C].p, c[CTL_SC_HC_C].len))) {
		fail(err, errlen, "out of memory");
		goto done;
	}

	struct rsum st = { 0 }, sla = { 0 }, slo = { 0 }, szs = { 0 };
	for (int32_t i = 0; i < n; i++) {
		if (rsum_add(&st, dt, ddt, i, err, errlen) != 0 ||
		    rsum_add(&sla, dla, ddla, i, err, errlen) != 0 ||
		    rsum_add(&slo, dlo, ddlo, i, err, errlen) != 0 ||
		    rsum_add(&szs, &c[CTL_SC_ZN], &D[CTL_SC_ZN], i, err, errlen) != 0)
			goto done;
		int64_t off = 0, ts = 0;
		if (st.some) {
			if (__builtin_mul_overflow(st.v, tsu, &off)) {
				fail(err, errlen, "column dt: bigint out of range");
				goto done;
			}
		} else if (!col_int(&c[CTL_SC_T8], &D[CTL_SC_T8], i, &off)) {
			fail(err, errlen, "fix %" PRId32 " of the slice has no time", i + 1);
			goto done;
		}
		if (add_us(hour, off, &ts, "ts", err, errlen) != 0)
			goto done;
		if (!all_in && (ts < from_us || ts >= to_us))
			continue;

		struct ctl_fix x = { .ts_us = ts };
		int64_t v;
		bool ok;
		if (slice_ll(c, CTL_SC_LAT0, &sla, CTL_SC_LA8, llu, i, &v, &ok, err, errlen) != 0)
			goto done;
		if (ok)
			x.lat = (double)v / 1e9;
		else
			x.nulls |= CTL_FIX_NULL_LAT;
		if (slice_ll(c, CTL_SC_LON0, &slo, CTL_SC_LO8, llu, i, &v, &ok, err, errlen) != 0)
			goto done;
		if (ok)
			x.lon = (double)v / 1e9;
		else
			x.nulls |= CTL_FIX_NULL_LON;

		for (int r = 0; r < 4; r++) {
			bool null;
			float val = 0;
			if (slice_real(c, real_fields[r].slice_base, i, &val, &null, err, errlen) != 0)
				goto done;
			fix_set_real(&x, r, null ? NULL : &val);
		}

		const uint8_t *p;
		size_t len;
		if ((p = col_el(&c[CTL_SC_FIXA], i, NULL)) || (p = col_val(&c[CTL_SC_FIX_C])))
			x.fix = (int16_t)be_int(p, 2);
		else
			x.nulls |= CTL_FIX_NULL_FIX;
		if ((p = col_el(&c[CTL_SC_SATSA], i, NULL)) || (p = col_val(&c[CTL_SC_SATS_C])))
			x.sats = (int16_t)be_int(p, 2);
		else
			x.nulls |= CTL_FIX_NULL_SATS;
		if ((p = col_el(&c[CTL_SC_UNA], i, &len))) {
			if (!(x.un = fixes_strdup(f, p, len))) {
				fail(err, errlen, "out of memory");
				goto done;
			}
		} else {
			x.un = un_c;
		}
		if ((p = col_el(&c[CTL_SC_HCA], i, &len))) {
			if (!(x.hc = fixes_strdup(f, p, len))) {
				fail(err, errlen, "out of memory");
				goto done;
			}
		} else {
			x.hc = hc_c;
		}
		/* seq */
		if (col_int(&c[CTL_SC_SQ8], &D[CTL_SC_SQ8], i, &v)) {
			x.seq = v;
		} else {
			int64_t d = 0;
			bool has = col_val(&c[CTL_SC_SEQ0]) != NULL &&
				   (!c[CTL_SC_SQD].present || col_int(&c[CTL_SC_SQD], &D[CTL_SC_SQD], i, &d));
			if (has) {
				if (__builtin_add_overflow(be_int(c[CTL_SC_SEQ0].p, 8), (int64_t)i, &v) ||
				    __builtin_add_overflow(v, d, &x.seq)) {
					fail(err, errlen, "column seq0: bigint out of range");
					goto done;
				}
			} else {
				x.nulls |= CTL_FIX_NULL_SEQ;
			}
		}
		if ((p = col_el(&c[CTL_SC_IGNA], i, NULL)) || (p = col_val(&c[CTL_SC_IGN_C])))
			x.ignition = p[0] != 0;
		else
			x.nulls |= CTL_FIX_NULL_IGNITION;
		/* zone_ids: coalesce(zc, zf[zs - zn + 1 : zs], '{}') */
		int64_t zn;
		if (c[CTL_SC_ZC].present) {
			x.zones = zcv;
			x.znull = zcn;
			x.nzones = c[CTL_SC_ZC].a.n;
		} else if (c[CTL_SC_ZF].present && szs.some &&
			   col_int(&c[CTL_SC_ZN], &D[CTL_SC_ZN], i, &zn)) {
			int64_t lo = szs.v - zn + 1, hi = szs.v;
			if (lo < INT32_MIN || lo > INT32_MAX || hi < INT32_MIN || hi > INT32_MAX) {
				fail(err, errlen, "column zn: integer out of range");
				goto done;
			}
			if (lo < 1)
				lo = 1;
			if (hi > c[CTL_SC_ZF].a.n)
				hi = c[CTL_SC_ZF].a.n;
			if (lo <= hi) {
				x.zones = zfv + (lo - 1);
				x.znull = zfn ? zfn + (lo - 1) : NULL;
				x.nzones = (int32_t)(hi - lo + 1);
			}
		}
		/* received_at = ts + coalesce(rc4, rc8) us */
		if (col_int(&c[CTL_SC_RC4], &D[CTL_SC_RC4], i, &v) ||
		    col_int(&c[CTL_SC_RC8], &D[CTL_SC_RC8], i, &v)) {
			if (add_us(ts, v, &x.received_us, "received_at", err, errlen) != 0)
				goto done;
		} else {
			x.nulls |= CTL_FIX_NULL_RECEIVED;
		}
		if ((p = col_el(&c[CTL_SC_AMA], i, NULL)) || (p = col_val(&c[CTL_SC_AM_C])))
			x.alarms = (int32_t)be_int(p, 4);
		else
			x.nulls |= CTL_FIX_NULL_ALARMS;

		if (fixes_append(f, &x, err, errlen) != 0)
			goto done;
	}
	rc = 0;
done:
	for (int k = 0; k < opened; k++)
		ctl_pgarr_free(&c[k].a);
	return rc;
}

int
ctl_row_decode(const struct ctl_pgval col[CTL_RC_NCOLS], struct ctl_fixes *f, char *err,
	       size_t errlen)
{
	struct col c[CTL_RC_NCOLS];
	int rc = -1, opened = 0;
	const struct ctl_col_desc *D = ctl_row_cols;
	struct ctl_fix x = { 0 };

	for (; opened < CTL_RC_NCOLS; opened++)
		if (col_open(&col[opened], &D[opened], &c[opened], err, errlen) != 0)
			goto done;
	if (!c[CTL_RC_TS].present) {
		fail(err, errlen, "column ts is NULL");
		goto done;
	}
	if (ts_from_pg(c[CTL_RC_TS].p, &x.ts_us, "ts", err, errlen) != 0)
		goto done;
	if (c[CTL_RC_LAT].present)
		x.lat = be_float8(c[CTL_RC_LAT].p);
	else
		x.nulls |= CTL_FIX_NULL_LAT;
	if (c[CTL_RC_LON].present)
		x.lon = be_float8(c[CTL_RC_LON].p);
	else
		x.nulls |= CTL_FIX_NULL_LON;
	for (int r = 0; r < 4; r++) {
		float v = 0;
		if (c[real_fields[r].row_col].present)
			v = be_float4(c[real_fields[r].row_col].p);
		fix_set_real(&x, r, c[real_fields[r].row_col].present ? &v : NULL);
	}
	if (c[CTL_RC_FIX].present)
		x.fix = (int16_t)be_int(c[CTL_RC_FIX].p, 2);
	else
		x.nulls |= CTL_FIX_NULL_FIX;
	if (c[CTL_RC_SATS].present)
		x.sats = (int16_t)be_int(c[CTL_RC_SATS].p, 2);
	else
		x.nulls |= CTL_FIX_NULL_SATS;
	if (c[CTL_RC_UN].present && !(x.un = fixes_strdup(f, c[CTL_RC_UN].p, c[CTL_RC_UN].len))) {
		fail(err, errlen, "out of memory");
		goto done;
	}
	if (c[CTL_RC_HC].present && !(x.hc = fixes_strdup(f, c[CTL_RC_HC].p, c[CTL_RC_HC].len))) {
		fail(err, errlen, "out of memory");
		goto done;
	}
	if (c[CTL_RC_SEQ].present)
		x.seq = be_int(c[CTL_RC_SEQ].p, 8);
	else
		x.nulls |= CTL_FIX_NULL_SEQ;
	if (c[CTL_RC_IGNITION].present)
		x.ignition = c[CTL_RC_IGNITION].p[0] != 0;
	else
		x.nulls |= CTL_FIX_NULL_IGNITION;
	if (c[CTL_RC_ZONES].present) {
		int32_t *v;
		uint8_t *nl;
		if (col_int4s(f, &c[CTL_RC_ZONES], &D[CTL_RC_ZONES], &v, &nl, err, errlen) != 0)
			goto done;
		x.zones = v;
		x.znull = nl;
		x.nzones = c[CTL_RC_ZONES].a.n;
	} else {
		x.nulls |= CTL_FIX_NULL_ZONES;
	}
	if (c[CTL_RC_RECEIVED].present) {
		if (ts_from_pg(c[CTL_RC_RECEIVED].p, &x.received_us, "received_at", err, errlen) != 0)
			goto done;
	} else {
		x.nulls |= CTL_FIX_NULL_RECEIVED;
	}
	if (c[CTL_RC_ALARMS].present)
		x.alarms = (int32_t)be_int(c[CTL_RC_ALARMS].p, 4);
	else
		x.nulls |= CTL_FIX_NULL_ALARMS;
	if (fixes_append(f, &x, err, errlen) != 0)
		goto done;
	rc = 0;
done:
	for (int k = 0; k < opened; k++)
		ctl_pgarr_free(&c[k].a);
	return rc;
}

/* ---- floats as PostgreSQL writes them ------------------------------------------ */

int
ctl_float_notation(bool neg, const char *dig, int nd, int e10, int plain_max, char *out)
{
	char *o = out;
	if (neg)
		*o++ = '-';
	if (e10 >= -4 && e10 < plain_max) {
		if (e10 < 0) {
			*o++ = '0';
			*o++ = '.';
			for (int k = -1; k > e10; k--)
				*o++ = '0';
			memcpy(o, dig, (size_t)nd);
			o += nd;
		} else if (nd <= e10 + 1) {
			memcpy(o, dig, (size_t)nd);
			o += nd;
			for (int k = nd; k <= e10; k++)
				*o++ = '0';
		} else {
			memcpy(o, dig, (size_t)e10 + 1);
			o += e10 + 1;
			*o++ = '.';
			memcpy(o, dig + e10 + 1, (size_t)(nd - e10 - 1));
			o += nd - e10 - 1;
		}
	} else {
		*o++ = dig[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, dig + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		o += sprintf(o, "e%c%02d", e10 < 0 ? '-' : '+', e10 < 0 ? -e10 : e10);
	}
	*o = '\0';
	return (int)(o - out);
}

/* The digits of |v| (v != 0) times 10^-scale: dig, nd, and the exponent of
 * the first digit. */
static int
int_digits(int64_t v, int scale, char dig[24], int *e10)
{
	char tmp[24];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int n = 0;
	while (u) {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	}
	*e10 = n - 1 - scale;
	int nd = 0;
	for (int k = n - 1; k >= 0; k--)
		dig[nd++] = tmp[k];
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	return nd;
}

/* Whether decimal text s is exactly v (a long double that holds it, if
 * it is): it reads as v rounded down and rounded up. */
static bool
exactly(const char *s, long double v)
{
	int mode = fegetround();
	fesetround(FE_DOWNWARD);
	long double a = strtold(s, NULL);
	fesetround(FE_UPWARD);
	long double b = strtold(s, NULL);
	fesetround(mode);
	return a == v && b == v;
}

/*
 * Whether text s reads back as x (a double, or a float when f4) without
 * lying exactly halfway to a neighbour of x: PostgreSQL's Ryu never
 * prints a halfway value, although a reader rounding ties to even would
 * read some of them back (its STRICTLY_SHORTEST is 0: "1.7326784708165402e+17",
 * not the halfway "1.73267847081654e+17"). The halfway points are exact
 * in a long double (a double's 53 bits and one more).
 */
static bool
reads_back(const char *s, double x, bool f4)
{
	long double lo, hi;
	if (f4) {
		float fx = (float)x;
		if (strtof(s, NULL) != fx)
			return false;
		lo = ((long double)fx + nextafterf(fx, -INFINITY)) / 2;
		hi = ((long double)fx + nextafterf(fx, INFINITY)) / 2;
	} else {
		if (strtod(s, NULL) != x)
			return false;
		lo = ((long double)x + nextafter(x, -INFINITY)) / 2;
		hi = ((long double)x + nextafter(x, INFINITY)) / 2;
	}
	long double v = strtold(s, NULL);
	if (v != lo && v != hi)
		return true;
	return !exactly(s, v);
}

/* Parses "%.*e" output (positive) into digits (trailing zeros dropped) and
 * the exponent. */
static int
sci_digits(const char *s, char dig[24], int *e10)
{
	int nd = 0;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			dig[nd++] = *s;
	*e10 = *s == 'e' ? atoi(s + 1) : 0;
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	return nd;
}

/*
 * The shortest digits of x > 0 (finite) that read back as x (as a float
 * when f4), the closest to x of those: dig, nd, *e10.
 */
static int
shortest_digits(double x, bool f4, char dig[24], int *e10)
{
	char buf[48];
	int safe = f4 ? FLT_DIG : DBL_DIG, max = f4 ? 9 : 17;
	bool normal = f4 ? (float)x >= FLT_MIN : x >= DBL_MIN;
	for (int p = normal ? safe : 1; p <= max; p++) {
		snprintf(buf, sizeof buf, "%.*e", p - 1, x);
		if (reads_back(buf, x, f4))
			return sci_digits(buf, dig, e10);
		if (p == max || (normal && p == safe))
			continue;
		/* the p-digit neighbour on x's other side of the rounded one */
		char d[24];
		int e, nd = 0;
		for (const char *s = buf; *s && *s != 'e'; s++)
			if (*s >= '0' && *s <= '9')
				d[nd++] = *s;
		e = atoi(strchr(buf, 'e') + 1);
		bool up = strtod(buf, NULL) < x;
		int k = nd - 1;
		if (up) {
			while (k >= 0 && d[k] == '9')
				d[k--] = '0';
			if (k < 0) {
				d[0] = '1';
				e++;
			} else {
				d[k]++;
			}
		} else {
			while (k >= 0 && d[k] == '0')
				d[k--] = '9';
			if (k < 0)
				continue;
			d[k]--;
			if (d[0] == '0')
				continue;       /* fewer digits: tried before */
		}
		char cand[48];
		int n = snprintf(cand, sizeof cand, "%c.%.*se%d", d[0], nd - 1, d + 1, e);
		if (nd == 1)
			n = snprintf(cand, sizeof cand, "%ce%d", d[0], e);
		(void)n;
		if (reads_back(cand, x, f4))
			return sci_digits(cand, dig, e10);
	}
	return 0; /* not reached: max digits always read back */
}

/* Specials and zero: the text, or 0 when x is an ordinary number. */
static int
special_text(double x, char *buf)
{
	if (isnan(x))
		return sprintf(buf, "NaN");
	if (isinf(x))
		return sprintf(buf, x < 0 ? "-Infinity" : "Infinity");
	if (x == 0)
		return sprintf(buf, signbit(x) ? "-0" : "0");
	return 0;
}

int
ctl_float8_digits(double x, char dig[24], int *e10)
{
	double a = fabs(x);
	/* nanodegrees / 1e9 and the like: the integer's digits (<= 15 of them,
	 * so by DBL_DIG the shortest that read back as x) */
	double s = a * 1e9;
	if (s < 1e15) {
		int64_t v = (int64_t)llround(s);
		if (v != 0 && (double)v / 1e9 == a)
			return int_digits(v, 9, dig, e10);
	}
	return shortest_digits(a, false, dig, e10);
}

/* ctl_float8_text, or ctl_float4_text when f4. */
static int
float_text(double x, bool f4, char buf[CTL_FLOAT_TEXT_MAX])
{
	int n = special_text(x, buf);
	if (n)
		return n;
	char dig[24];
	int e10, nd = f4 ? ctl_float4_digits((float)x, dig, &e10) : ctl_float8_digits(x, dig, &e10);
	return ctl_float_notation(x < 0, dig, nd, e10, f4 ? 6 : 15, buf);
}

int
ctl_float8_text(double x, char buf[CTL_FLOAT_TEXT_MAX])
{
	return float_text(x, false, buf);
}

/* The shortcut for a real: k / 10^e (e 0..3, |k| < 10^6: FLT_DIG digits)
 * that gives x back: its digits. 0 when none does. */
static int
f4_short(float a, char dig[24], int *e10)
{
	static const double p10[] = { 1, 10, 100, 1000 };
	if (!(a >= 0.001f && a < 1e6f))
		return 0;
	for (int e = 0; e < 4; e++) {
		double k = nearbyint((double)a * p10[e]);
		if (k < 1e6 && (float)(k / p10[e]) == a)
			return int_digits((int64_t)k, e, dig, e10);
	}
	return 0;
}

int
ctl_float4_digits(float x, char dig[24], int *e10)
{
	float a = fabsf(x);
	int nd = f4_short(a, dig, e10);
	return nd ? nd : shortest_digits(a, true, dig, e10);
}

int
ctl_float4_text(float x, char buf[CTL_FLOAT_TEXT_MAX])
{
	return float_text(x, true, buf);
}

double
ctl_float4_text_value(float x)
{
	static const double p10[] = { 1, 10, 100, 1000 };
	float a = fabsf(x);
	/* k / 10^e with |k| < 10^6 reads back as the correctly rounded double
	 * of the decimal, which the IEEE division is */
	if (a >= 0.001f && a < 1e6f) {
		for (int e = 0; e < 4; e++) {
			double k = nearbyint((double)a * p10[e]);
			if (k < 1e6 && (float)(k / p10[e]) == a)
				return x < 0 ? -(k / p10[e]) : k / p10[e];
		}
	}
	char buf[CTL_FLOAT_TEXT_MAX];
	ctl_float4_text(x, buf);
	return strtod(buf, NULL);
}

int
ctl_zones_json(const struct ctl_fix *f, char *buf, size_t len)
{
	size_t o = 0;
	if (len < 3)
		return -1;
	buf[o++] = '[';
	for (int32_t i = 0; i < f->nzones; i++) {
		char el[16];
		int n = f->znull && f->znull[i] ? snprintf(el, sizeof el, "%snull", i ? "," : "")
						: snprintf(el, sizeof el, "%s%" PRId32, i ? "," : "",
							   f->zones[i]);
		if (o + (size_t)n + 2 > len)
			return -1;
		memcpy(buf + o, el, (size_t)n);
		o += (size_t)n;
	}
	buf[o++] = ']';
	buf[o] = '\0';
	return (int)o;
}
