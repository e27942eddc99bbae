/*
 * ctl_compact_enc.c: the slice encoder of `hazgate-ctl compact`, in C
 * (ctl_compact_enc.h says what it does and where it differs from the SQL
 * encoder of schema/012). Pure: fields in, binary COPY rows out.
 *
 * Each choice is written as schema/012's hazgate_slices_build makes it, with
 * the same arithmetic (IEEE doubles, rint for PostgreSQL's round() and its
 * float-to-integer casts), so that the SQL decoder gives back what the SQL
 * encoder would have stored, bit for bit.
 */
#include "ctl/ctl_compact_enc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char ctl_cenc_select[] = "vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, "
			       "sats, un, hazard_class, seq, ignition, zone_ids, received_at, "
			       "alarms";

const char ctl_cenc_slice_columns[] =
	"vehicle, hour, n, t_first, t_last, tsu, dt2, dt4, t8, llu, lat0, lon0, "
	"dla2, dla4, la8, dlo2, dlo4, lo8, "
	"sp_e, sp2, sp4, sp_r, sp_c, hd_e, hd2, hd4, hd_r, hd_c, "
	"al_e, al2, al4, al_r, al_c, hp_e, hp2, hp4, hp_r, hp_c, "
	"fix_c, fixa, sats_c, satsa, un_c, una, hc_c, hca, seq0, sqd, sq8, ign_c, igna, "
	"zc, zn, zf, rc4, rc8, am_c, ama";
#define SLICE_COLS 58

#define US_PER_HOUR INT64_C(3600000000)

const char *
ctl_cenc_strerror(int rc)
{
	switch (rc) {
	case CTL_CENC_OK:
		return "ok";
	case CTL_CENC_EVALUE:
		return "a value no slice can hold";
	case CTL_CENC_ENOMEM:
		return "out of memory";
	}
	return "unknown error";
}

/* ---- reading PostgreSQL's binary forms ------------------------------- */

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

/* zone_ids: an int4 array as array_send writes it (ndim, flags, element
 * type, ndim times (size, lower bound), the elements: length -1 or 4 and
 * the value). Sets the counts. */
static bool
zones_parse(struct ctl_fix *f, const uint8_t *p, size_t n)
{
	if (n < 12)
		return false;
	uint32_t ndim = rd32(p), flags = rd32(p + 4);
	if (ndim > 6 || flags > 1 || rd32(p + 8) != CTL_OID_INT4 || n < 12 + 8 * (size_t)ndim)
		return false;
	uint64_t items = ndim ? 1 : 0;
	for (uint32_t d = 0; d < ndim; d++) {
		uint32_t size = rd32(p + 12 + 8 * d);
		if (size > INT32_MAX)
			return false;
		items *= size;
		if (items > INT32_MAX)
			return false;
	}
	size_t at = 12 + 8 * (size_t)ndim;
	uint32_t set = 0;
	for (uint64_t i = 0; i < items; i++) {
		if (n - at < 4)
			return false;
		uint32_t len = rd32(p + at);
		at += 4;
		if (len == UINT32_MAX)
			continue;
		if (len != 4 || n - at < 4)
			return false;
		at += 4;
		set++;
	}
	if (at != n)
		return false;
	f->zones = p;
	f->zones_len = n;
	f->nzones = (uint32_t)items;
	f->nzones_set = set;
	return true;
}

/* The non-NULL zone ids of f, in order, appended as int4 array elements. */
static void
zones_put(struct ctl_buf *b, const struct ctl_fix *f)
{
	const uint8_t *p = f->zones + 12 + 8 * (size_t)rd32(f->zones);
	for (uint32_t i = 0; i < f->nzones; i++) {
		uint32_t len = rd32(p);
		p += 4;
		if (len == UINT32_MAX)
			continue;
		ctl_cenc_put_i32(b, (int32_t)rd32(p));
		p += 4;
	}
}

/* Array equality as PostgreSQL's = on int4[]: dimensions, lower bounds and
 * elements (NULL equal to NULL); the has-NULL flag is not compared. */
static bool
zones_same(const struct ctl_fix *a, const struct ctl_fix *b)
{
	return a->zones_len == b->zones_len && !memcmp(a->zones, b->zones, 4) &&
	       !memcmp(a->zones + 8, b->zones + 8, a->zones_len - 8);
}

int
ctl_cenc_fix_parse(struct ctl_fix *f, const char *const val[CTL_FIX_COLS],
		   const int len[CTL_FIX_COLS])
{
	/* the binary width of each column (0: variable) */
	static const int width[CTL_FIX_COLS] = {
		[CTL_FIX_TS] = 8,      [CTL_FIX_LAT] = 8,	[CTL_FIX_LON] = 8,
		[CTL_FIX_SPEED] = 4,   [CTL_FIX_HEADING] = 4,   [CTL_FIX_ALT] = 4,
		[CTL_FIX_HDOP] = 4,    [CTL_FIX_FIX] = 2,	[CTL_FIX_SATS] = 2,
		[CTL_FIX_SEQ] = 8,     [CTL_FIX_IGNITION] = 1,	[CTL_FIX_RECEIVED] = 8,
		[CTL_FIX_ALARMS] = 4,
	};
	const unsigned not_null = 1u << CTL_FIX_VEHICLE | 1u << CTL_FIX_TS | 1u << CTL_FIX_LAT |
				  1u << CTL_FIX_LON | 1u << CTL_FIX_ZONES | 1u << CTL_FIX_RECEIVED;
	const uint8_t *u[CTL_FIX_COLS];

	memset(f, 0, sizeof *f);
	for (int i = 0; i < CTL_FIX_COLS; i++) {
		u[i] = (const uint8_t *)val[i];
		if (len[i] < 0) {
			if (not_null & 1u << i)
				return CTL_CENC_EVALUE;
			f->nulls |= 1u << i;
			continue;
		}
		if (width[i] && len[i] != width[i])
			return CTL_CENC_EVALUE;
	}
	f->vehicle = val[CTL_FIX_VEHICLE];
	f->vehicle_len = (size_t)len[CTL_FIX_VEHICLE];
	f->ts = (int64_t)rd64(u[CTL_FIX_TS]);
	f->received = (int64_t)rd64(u[CTL_FIX_RECEIVED]);
	uint64_t bits = rd64(u[CTL_FIX_LAT]);
	memcpy(&f->lat, &bits, 8);
	bits = rd64(u[CTL_FIX_LON]);
	memcpy(&f->lon, &bits, 8);
	for (int r = 0; r < CTL_REALS; r++) {
		if (f->nulls & 1u << (CTL_FIX_SPEED + r))
			continue;
		uint32_t b = rd32(u[CTL_FIX_SPEED + r]);
		memcpy(&f->real[r], &b, 4);
	}
	if (!(f->nulls & 1u << CTL_FIX_FIX))
		f->fix = (int16_t)(u[CTL_FIX_FIX][0] << 8 | u[CTL_FIX_FIX][1]);
	if (!(f->nulls & 1u << CTL_FIX_SATS))
		f->sats = (int16_t)(u[CTL_FIX_SATS][0] << 8 | u[CTL_FIX_SATS][1]);
	if (!(f->nulls & 1u << CTL_FIX_UN)) {
		f->un = val[CTL_FIX_UN];
		f->un_len = (size_t)len[CTL_FIX_UN];
	}
	if (!(f->nulls & 1u << CTL_FIX_HC)) {
		f->hc = val[CTL_FIX_HC];
		f->hc_len = (size_t)len[CTL_FIX_HC];
	}
	if (!(f->nulls & 1u << CTL_FIX_SEQ))
		f->seq = (int64_t)rd64(u[CTL_FIX_SEQ]);
	if (!(f->nulls & 1u << CTL_FIX_IGNITION)) {
		if (u[CTL_FIX_IGNITION][0] > 1)
			return CTL_CENC_EVALUE;
		f->ignition = u[CTL_FIX_IGNITION][0];
	}
	if (!(f->nulls & 1u << CTL_FIX_ALARMS))
		f->alarms = (int32_t)rd32(u[CTL_FIX_ALARMS]);
	if (!zones_parse(f, u[CTL_FIX_ZONES], (size_t)len[CTL_FIX_ZONES]))
		return CTL_CENC_EVALUE;
	return CTL_CENC_OK;
}

int64_t
ctl_cenc_hour(int64_t ts)
{
	int64_t h = ts / US_PER_HOUR;
	if (ts % US_PER_HOUR < 0)
		h--;
	return h * US_PER_HOUR;
}

/* ---- writing --------------------------------------------------------- */

void
ctl_buf_free(struct ctl_buf *b)
{
	free(b->p);
	*b = (struct ctl_buf){ 0 };
}

static uint8_t *
grow(struct ctl_buf *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2) {
				b->oom = true;
				return NULL;
			}
			cap *= 2;
		}
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	uint8_t *at = b->p + b->len;
	b->len += n;
	return at;
}

static void
wr32(uint8_t *o, uint32_t v)
{
	o[0] = (uint8_t)(v >> 24);
	o[1] = (uint8_t)(v >> 16);
	o[2] = (uint8_t)(v >> 8);
	o[3] = (uint8_t)v;
}

static void
put_be(struct ctl_buf *b, uint64_t v, int bytes)
{
	uint8_t *o = grow(b, (size_t)bytes);
	if (!o)
		return;
	for (int i = 0; i < bytes; i++)
		o[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

/* A value is its length (int32) and its bytes, in a row as in an array. */
void
ctl_cenc_put_null(struct ctl_buf *b)
{
	put_be(b, UINT32_MAX, 4);
}

void
ctl_cenc_put_i16(struct ctl_buf *b, int16_t v)
{
	put_be(b, 2, 4);
	put_be(b, (uint16_t)v, 2);
}

void
ctl_cenc_put_i32(struct ctl_buf *b, int32_t v)
{
	put_be(b, 4, 4);
	put_be(b, (uint32_t)v, 4);
}

void
ctl_cenc_put_i64(struct ctl_buf *b, int64_t v)
{
	put_be(b, 8, 4);
	put_be(b, (uint64_t)v, 8);
}

void
ctl_cenc_put_f32(struct ctl_buf *b, float v)
{
	uint32_t bits;
	memcpy(&bits, &v, 4);
	put_be(b, 4, 4);
	put_be(b, bits, 4);
}

void
ctl_cenc_put_bool(struct ctl_buf *b, bool v)
{
	put_be(b, 1, 4);
	put_be(b, v, 1);
}

void
ctl_cenc_put_text(struct ctl_buf *b, const char *p, size_t n)
{
	put_be(b, n, 4);
	uint8_t *o = grow(b, n);
	if (o && n)
		memcpy(o, p, n);
}

size_t
ctl_cenc_array_open(struct ctl_buf *b, uint32_t oid, uint32_t n, bool hasnull)
{
	size_t at = b->len;
	put_be(b, 0, 4);      /* the field's length, written by close */
	put_be(b, 1, 4);      /* one dimension */
	put_be(b, hasnull, 4);
	put_be(b, oid, 4);
	put_be(b, n, 4);
	put_be(b, 1, 4);      /* lower bound */
	return at;
}

void
ctl_cenc_array_close(struct ctl_buf *b, size_t at)
{
	if (!b->oom)
		wr32(b->p + at, (uint32_t)(b->len - at - 4));
}

void
ctl_cenc_copy_header(struct ctl_buf *b)
{
	static const char sig[11] = "PGCOPY\n\377\r\n";   /* with its NUL */
	uint8_t *o = grow(b, 11);
	if (o)
		memcpy(o, sig, 11);
	put_be(b, 0, 4);   /* flags */
	put_be(b, 0, 4);   /* no header extension */
}

void
ctl_cenc_copy_trailer(struct ctl_buf *b)
{
	put_be(b, 0xffff, 2);
}

/* ---- the choices ----------------------------------------------------- */

static const double pow10d[4] = { 1, 10, 100, 1000 };

static bool
float_same(float a, float b)
{
	return !memcmp(&a, &b, sizeof a);
}

int
ctl_cenc_real_e(float v)
{
	if (!(fabsf(v) < 2e6f) || (v == 0 && signbit(v)))
		return 99;
	for (int e = 0; e < 4; e++)
		if (float_same((float)(rint((double)v * pow10d[e]) / pow10d[e]), v))
			return e;
	return 99;
}

int
ctl_cenc_tz10(int64_t x)
{
	int z = 0;
	while (z < 9 && x % 10 == 0) {
		x /= 10;
		z++;
	}
	return z;
}

int
ctl_cenc_width(int64_t max, int64_t unit)
{
	int64_t q = max / unit;
	return q <= INT16_MAX ? 2 : q <= INT32_MAX ? 4 : 8;
}

/* round(x * 1e9)::bigint, as PostgreSQL: false where it fails (NaN, out of
 * range). */
static bool
nano(double x, int64_t *out)
{
	double r = rint(x * 1e9);
	if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0))
		return false;
	*out = (int64_t)r;
	return true;
}

static bool
isnull(const struct ctl_fix *f, int col)
{
	return f->nulls & 1u << col;
}

static bool
text_same(const char *a, size_t an, bool anull, const char *b, size_t bn, bool bnull)
{
	if (anull || bnull)
		return anull == bnull;
	return an == bn && !memcmp(a, b, an);
}

/* One real field: its slice columns *_e, *2, *4, *_r, *_c. */
static void
put_real(struct ctl_buf *b, const struct ctl_fix *f, size_t n, int r)
{
	int col = CTL_FIX_SPEED + r;
	bool same = true, anynull = false;
	int e = 0;
	float m = 0;
	bool mset = false;

	for (size_t i = 0; i < n; i++) {
		bool nul = isnull(&f[i], col);
		anynull |= nul;
		if (i && (nul != isnull(&f[0], col) ||
			  (!nul && !float_same(f[i].real[r], f[0].real[r]))))
			same = false;
		if (nul)
			continue;
		float v = f[i].real[r];
		int ve = ctl_cenc_real_e(v);
		if (ve > e)
			e = ve;
		/* max(abs(v)): PostgreSQL orders NaN above every number */
		float a = fabsf(v);
		if (!mset || isnan(a) || (!isnan(m) && a > m))
			m = a;
		mset = true;
	}
	if (same) {
		ctl_cenc_put_null(b);
		ctl_cenc_put_null(b);
		ctl_cenc_put_null(b);
		ctl_cenc_put_null(b);
		if (isnull(&f[0], col))
			ctl_cenc_put_null(b);
		else
			ctl_cenc_put_f32(b, f[0].real[r]);
		return;
	}
	int width = 0;   /* 2, 4; 0: the reals as they are */
	if (e <= 3) {
		width = (double)m * pow10d[e] <= 32767 ? 2 : 4;
		/* what the decoder, (k::float8 / 10^e)::real, gives back */
		for (size_t i = 0; i < n && width; i++) {
			if (isnull(&f[i], col))
				continue;
			double k = rint((double)f[i].real[r] * pow10d[e]);
			if (!float_same((float)(k / pow10d[e]), f[i].real[r]))
				width = 0;
		}
	}
	if (!width) {
		ctl_cenc_put_null(b);
		ctl_cenc_put_null(b);
		ctl_cenc_put_null(b);
		size_t at = ctl_cenc_array_open(b, CTL_OID_FLOAT4, (uint32_t)n, anynull);
		for (size_t i = 0; i < n; i++)
			if (isnull(&f[i], col))
				ctl_cenc_put_null(b);
			else
				ctl_cenc_put_f32(b, f[i].real[r]);
		ctl_cenc_array_close(b, at);
		ctl_cenc_put_null(b);
		return;
	}
	ctl_cenc_put_i16(b, (int16_t)e);
	if (width == 4)
		ctl_cenc_put_null(b);
	size_t at = ctl_cenc_array_open(b, width == 2 ? CTL_OID_INT2 : CTL_OID_INT4, (uint32_t)n,
					anynull);
	for (size_t i = 0; i < n; i++) {
		if (isnull(&f[i], col)) {
			ctl_cenc_put_null(b);
			continue;
		}
		double k = rint((double)f[i].real[r] * pow10d[e]);
		if (width == 2)
			ctl_cenc_put_i16(b, (int16_t)k);
		else
			ctl_cenc_put_i32(b, (int32_t)k);
	}
	ctl_cenc_array_close(b, at);
	if (width == 2)
		ctl_cenc_put_null(b);
	ctl_cenc_put_null(b);   /* _r */
	ctl_cenc_put_null(b);   /* _c */
}

/* A small field: a constant when every fix has the same, else an array. */
enum small { SMALL_FIX, SMALL_SATS, SMALL_UN, SMALL_HC, SMALL_IGN, SMALL_ALARMS };

static bool
small_same(const struct ctl_fix *a, const struct ctl_fix *b, enum small s, int col)
{
	bool an = isnull(a, col), bn = isnull(b, col);
	switch (s) {
	case SMALL_FIX:
		return an || bn ? an == bn : a->fix == b->fix;
	case SMALL_SATS:
		return an || bn ? an == bn : a->sats == b->sats;
	case SMALL_UN:
		return text_same(a->un, a->un_len, an, b->un, b->un_len, bn);
	case SMALL_HC:
		return text_same(a->hc, a->hc_len, an, b->hc, b->hc_len, bn);
	case SMALL_IGN:
		return an || bn ? an == bn : a->ignition == b->ignition;
	case SMALL_ALARMS:
		return an || bn ? an == bn : a->alarms == b->alarms;
	}
	return false;
}

static void
small_put(struct ctl_buf *b, const struct ctl_fix *f, enum small s, int col)
{
	if (isnull(f, col)) {
		ctl_cenc_put_null(b);
		return;
	}
	switch (s) {
	case SMALL_FIX:
		ctl_cenc_put_i16(b, f->fix);
		break;
	case SMALL_SATS:
		ctl_cenc_put_i16(b, f->sats);
		break;
	case SMALL_UN:
		ctl_cenc_put_text(b, f->un, f->un_len);
		break;
	case SMALL_HC:
		ctl_cenc_put_text(b, f->hc, f->hc_len);
		break;
	case SMALL_IGN:
		ctl_cenc_put_bool(b, f->ignition);
		break;
	case SMALL_ALARMS:
		ctl_cenc_put_i32(b, f->alarms);
		break;
	}
}

static void
put_small(struct ctl_buf *b, const struct ctl_fix *f, size_t n, enum small s)
{
	static const struct {
		int col;
		uint32_t oid;
	} t[] = {
		[SMALL_FIX] = { CTL_FIX_FIX, CTL_OID_INT2 },
		[SMALL_SATS] = { CTL_FIX_SATS, CTL_OID_INT2 },
		[SMALL_UN] = { CTL_FIX_UN, CTL_OID_TEXT },
		[SMALL_HC] = { CTL_FIX_HC, CTL_OID_TEXT },
		[SMALL_IGN] = { CTL_FIX_IGNITION, CTL_OID_BOOL },
		[SMALL_ALARMS] = { CTL_FIX_ALARMS, CTL_OID_INT4 },
	};
	int col = t[s].col;
	bool same = true, anynull = false;
	for (size_t i = 0; i < n; i++) {
		anynull |= isnull(&f[i], col);
		if (same && i && !small_same(&f[0], &f[i], s, col))
			same = false;
	}
	if (same) {
		small_put(b, &f[0], s, col);
		ctl_cenc_put_null(b);
		return;
	}
	ctl_cenc_put_null(b);
	size_t at = ctl_cenc_array_open(b, t[s].oid, (uint32_t)n, anynull);
	for (size_t i = 0; i < n; i++)
		small_put(b, &f[i], s, col);
	ctl_cenc_array_close(b, at);
}

/* seq: seq0, sqd, sq8. */
static void
put_seq(struct ctl_buf *b, const struct ctl_fix *f, size_t n)
{
	bool none = true, dev = true, lin = true, anynull = false;
	for (size_t i = 0; i < n; i++) {
		if (isnull(&f[i], CTL_FIX_SEQ)) {
			anynull = true;
			dev = false;
			continue;
		}
		none = false;
		if (!dev)
			continue;
		int64_t d, at;
		/* seq - seq0 - i within int4, and seq0 + i (the decoder's first
		 * step) within a bigint */
		if (__builtin_sub_overflow(f[i].seq, f[0].seq, &d) ||
		    __builtin_sub_overflow(d, (int64_t)i, &d) || d > INT32_MAX || d < -INT32_MAX ||
		    __builtin_add_overflow(f[0].seq, (int64_t)i, &at))
			dev = false;
		else if (d)
			lin = false;
	}
	if (dev) {
		ctl_cenc_put_i64(b, f[0].seq);
		if (lin) {
			ctl_cenc_put_null(b);
		} else {
			size_t at = ctl_cenc_array_open(b, CTL_OID_INT4, (uint32_t)n, false);
			for (size_t i = 0; i < n; i++)
				ctl_cenc_put_i32(b, (int32_t)(f[i].seq - f[0].seq - (int64_t)i));
			ctl_cenc_array_close(b, at);
		}
		ctl_cenc_put_null(b);
		return;
	}
	ctl_cenc_put_null(b);
	ctl_cenc_put_null(b);
	if (none) {
		ctl_cenc_put_null(b);
		return;
	}
	size_t at = ctl_cenc_array_open(b, CTL_OID_INT8, (uint32_t)n, anynull);
	for (size_t i = 0; i < n; i++)
		if (isnull(&f[i], CTL_FIX_SEQ))
			ctl_cenc_put_null(b);
		else
			ctl_cenc_put_i64(b, f[i].seq);
	ctl_cenc_array_close(b, at);
}

/* zone_ids: zc, zn, zf. */
static int
put_zones(struct ctl_buf *b, const struct ctl_fix *f, size_t n)
{
	bool same = true;
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (f[i].nzones_set > INT16_MAX)
			return CTL_CENC_EVALUE;
		total += f[i].nzones_set;
		if (same && i && !zones_same(&f[0], &f[i]))
			same = false;
	}
	if (same) {
		ctl_cenc_put_text(b, (const char *)f[0].zones, f[0].zones_len);
		ctl_cenc_put_null(b);
		ctl_cenc_put_null(b);
		return CTL_CENC_OK;
	}
	if (total > INT32_MAX)
		return CTL_CENC_EVALUE;
	ctl_cenc_put_null(b);
	size_t at = ctl_cenc_array_open(b, CTL_OID_INT2, (uint32_t)n, false);
	for (size_t i = 0; i < n; i++)
		ctl_cenc_put_i16(b, (int16_t)f[i].nzones_set);
	ctl_cenc_array_close(b, at);
	if (!total) {
		ctl_cenc_put_null(b);
		return CTL_CENC_OK;
	}
	at = ctl_cenc_array_open(b, CTL_OID_INT4, (uint32_t)total, false);
	for (size_t i = 0; i < n; i++)
		zones_put(b, &f[i]);
	ctl_cenc_array_close(b, at);
	return CTL_CENC_OK;
}

/* An array of n 2-, 4- or 8-byte integers v(i) / unit (8: v(i) itself). */
static void
put_ints(struct ctl_buf *b, int width, size_t n, const int64_t *v, int64_t unit)
{
	for (int w = 2; w <= 8; w *= 2) {
		if (w != width) {
			ctl_cenc_put_null(b);
			continue;
		}
		size_t at = ctl_cenc_array_open(
			b, w == 2 ? CTL_OID_INT2 : w == 4 ? CTL_OID_INT4 : CTL_OID_INT8, (uint32_t)n,
			false);
		for (size_t i = 0; i < n; i++)
			if (w == 2)
				ctl_cenc_put_i16(b, (int16_t)(v[i] / unit));
			else if (w == 4)
				ctl_cenc_put_i32(b, (int32_t)(v[i] / unit));
			else
				ctl_cenc_put_i64(b, v[i]);
		ctl_cenc_array_close(b, at);
	}
}

/* Scratch of one slice: offsets, steps, nanodegrees and their steps. */
struct scratch {
	int64_t *o, *dt, *la, *dla, *lo, *dlo, *rc;
};

int
ctl_cenc_slice(struct ctl_buf *b, const struct ctl_fix *f, size_t n, size_t *bad)
{
	size_t start = b->len;
	int rc = CTL_CENC_OK;
	struct scratch s;
	int64_t *mem = NULL;

	*bad = 0;
	if (n == 0 || n > INT32_MAX)
		return CTL_CENC_EVALUE;
	mem = malloc(7 * n * sizeof *mem);
	if (!mem)
		return CTL_CENC_ENOMEM;
	s = (struct scratch){ mem, mem + n, mem + 2 * n, mem + 3 * n, mem + 4 * n, mem + 5 * n,
			      mem + 6 * n };

	int64_t hour = ctl_cenc_hour(f[0].ts);
	bool s1 = true, ms = true;
	int64_t dtmax = 0, dlmax = 0, rcmax = 0;
	int tz = 9;
	for (size_t i = 0; i < n; i++) {
		s.o[i] = f[i].ts - hour;
		s.dt[i] = s.o[i] - (i ? s.o[i - 1] : 0);
		if (s.o[i] < 0 || s.o[i] >= US_PER_HOUR || s.dt[i] < 0) {
			*bad = i;   /* not one hour in ts order: the caller's fault */
			rc = CTL_CENC_EVALUE;
			goto done;
		}
		s1 &= s.dt[i] % 1000000 == 0;
		ms &= s.dt[i] % 1000 == 0;
		if (s.dt[i] > dtmax)
			dtmax = s.dt[i];
		if (!nano(f[i].lat, &s.la[i]) || !nano(f[i].lon, &s.lo[i]) ||
		    __builtin_sub_overflow(s.la[i], i ? s.la[i - 1] : s.la[i], &s.dla[i]) ||
		    __builtin_sub_overflow(s.lo[i], i ? s.lo[i - 1] : s.lo[i], &s.dlo[i]) ||
		    s.dla[i] == INT64_MIN || s.dlo[i] == INT64_MIN ||
		    f[i].received == INT64_MIN || f[i].received == INT64_MAX ||
		    __builtin_sub_overflow(f[i].received, f[i].ts, &s.rc[i]) ||
		    s.rc[i] == INT64_MIN) {
			*bad = i;
			rc = CTL_CENC_EVALUE;
			goto done;
		}
		int64_t a = llabs(s.dla[i]) > llabs(s.dlo[i]) ? llabs(s.dla[i]) : llabs(s.dlo[i]);
		if (a > dlmax)
			dlmax = a;
		if (llabs(s.rc[i]) > rcmax)
			rcmax = llabs(s.rc[i]);
		int z = ctl_cenc_tz10(s.la[i]), zl = ctl_cenc_tz10(s.lo[i]);
		if (zl < z)
			z = zl;
		if (z < tz)
			tz = z;
	}
	int64_t tsu = s1 ? 1000000 : ms ? 1000 : 1, llu = 1;
	for (int i = 0; i < tz; i++)
		llu *= 10;

	put_be(b, SLICE_COLS, 2);
	ctl_cenc_put_text(b, f[0].vehicle, f[0].vehicle_len);
	ctl_cenc_put_i64(b, hour);
	ctl_cenc_put_i32(b, (int32_t)n);
	ctl_cenc_put_i64(b, f[0].ts);
	ctl_cenc_put_i64(b, f[n - 1].ts);
	ctl_cenc_put_i32(b, (int32_t)tsu);
	int w = ctl_cenc_width(dtmax, tsu);
	put_ints(b, w, n, w == 8 ? s.o : s.dt, tsu);
	ctl_cenc_put_i64(b, llu);
	ctl_cenc_put_i64(b, s.la[0]);
	ctl_cenc_put_i64(b, s.lo[0]);
	w = ctl_cenc_width(dlmax, llu);
	put_ints(b, w, n, w == 8 ? s.la : s.dla, llu);
	put_ints(b, w, n, w == 8 ? s.lo : s.dlo, llu);
	for (int r = 0; r < CTL_REALS; r++)
		put_real(b, f, n, r);
	put_small(b, f, n, SMALL_FIX);
	put_small(b, f, n, SMALL_SATS);
	put_small(b, f, n, SMALL_UN);
	put_small(b, f, n, SMALL_HC);
	put_seq(b, f, n);
	put_small(b, f, n, SMALL_IGN);
	rc = put_zones(b, f, n);
	if (rc != CTL_CENC_OK) {
		for (*bad = 0; *bad < n && f[*bad].nzones_set <= INT16_MAX; ++*bad)
			;
		if (*bad == n)
			*bad = 0;
		goto done;
	}
	if (rcmax <= INT32_MAX) {
		size_t at = ctl_cenc_array_open(b, CTL_OID_INT4, (uint32_t)n, false);
		for (size_t i = 0; i < n; i++)
			ctl_cenc_put_i32(b, (int32_t)s.rc[i]);
		ctl_cenc_array_close(b, at);
		ctl_cenc_put_null(b);
	} else {
		ctl_cenc_put_null(b);
		size_t at = ctl_cenc_array_open(b, CTL_OID_INT8, (uint32_t)n, false);
		for (size_t i = 0; i < n; i++)
			ctl_cenc_put_i64(b, s.rc[i]);
		ctl_cenc_array_close(b, at);
	}
	put_small(b, f, n, SMALL_ALARMS);
	if (b->oom)
		rc = CTL_CENC_ENOMEM;
done:
	free(mem);
	if (rc != CTL_CENC_OK && !b->oom)
		b->len = start;
	return rc;
}
