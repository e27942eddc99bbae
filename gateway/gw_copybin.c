/*
 * gw_copybin.c - COPY text rows to PostgreSQL's binary COPY format (see
 * gw_copybin.h). The layout is the "Binary Format" section of
 * PostgreSQL's COPY page: an 11-byte signature, a flags word and a header
 * extension length; per tuple a 16-bit field count, then per field a
 * 32-bit length (-1: NULL) and the type's send form (network byte order):
 * timestamptz an int8 of microseconds since 2000-01-01 UTC, float8 and
 * float4 their IEEE bits, integer[] as array_send writes it; a 16-bit -1
 * ends the data.
 *
 * Exactness: the floats are read by the C library's strtod and strtof,
 * the functions PostgreSQL's float8in and float4in call on the same text
 * (the gateway never changes LC_NUMERIC: "." is the decimal point); a
 * value they report out of range (ERANGE) is not converted. The other
 * forms are read whole and range-checked here; what the server's text
 * input would take but is not a form the batch writer makes (a '+' sign,
 * spaces, 24:00:00, NaN ...) is refused, and the caller sends the text.
 */
#include "gateway/gw_copybin.h"

#include <errno.h>
#include <float.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_copyarr.h"

const enum gw_bin_type gw_copybin_pos_types[GW_BATCH_POS_FIELDS] = {
	GW_BIN_TEXT,         /* vehicle */
	GW_BIN_TSTZ,         /* ts */
	GW_BIN_FLOAT8,       /* lat */
	GW_BIN_FLOAT8,       /* lon */
	GW_BIN_FLOAT4,       /* speed_kmh */
	GW_BIN_FLOAT4,       /* heading */
	GW_BIN_FLOAT4,       /* alt_m */
	GW_BIN_FLOAT4,       /* hdop */
	GW_BIN_INT2,         /* fix */
	GW_BIN_INT2,         /* sats */
	GW_BIN_TEXT,         /* un */
	GW_BIN_TEXT,         /* hazard_class */
	GW_BIN_INT8,         /* seq */
	GW_BIN_BOOL,         /* ignition */
	GW_BIN_INT4_ARRAY,   /* zone_ids */
	GW_BIN_TSTZ,         /* received_at */
	GW_BIN_INT4,         /* alarms */
};

/* int4's type OID (pg_type.dat): array_recv checks the element type. */
#define GW_INT4OID 23

static const char copybin_sig[11] = "PGCOPY\n\377\r\n";   /* with its NUL */

const char *
gw_copybin_strerror(int rc)
{
	switch (rc) {
	case GW_BIN_OK:
		return "ok";
	case GW_BIN_EVALUE:
		return "a value not in a form converted to binary COPY";
	case GW_BIN_ENOMEM:
		return "out of memory";
	default:
		return "unknown error";
	}
}

static char *
be16(char *o, uint16_t v)
{
	o[0] = (char)(v >> 8);
	o[1] = (char)v;
	return o + 2;
}

static char *
be32(char *o, uint32_t v)
{
	o[0] = (char)(v >> 24);
	o[1] = (char)(v >> 16);
	o[2] = (char)(v >> 8);
	o[3] = (char)v;
	return o + 4;
}

static char *
be64(char *o, uint64_t v)
{
	o = be32(o, (uint32_t)(v >> 32));
	return be32(o, (uint32_t)v);
}

int
gw_copybin_header(struct gw_buf *out)
{
	char h[19], *o = h + sizeof(copybin_sig);

	memcpy(h, copybin_sig, sizeof(copybin_sig));
	o = be32(o, 0);   /* flags: no OIDs */
	be32(o, 0);       /* header extension: none */
	return gw_buf_add(out, h, sizeof(h)) == 0 ? GW_BIN_OK : GW_BIN_ENOMEM;
}

int
gw_copybin_trailer(struct gw_buf *out)
{
	return gw_buf_add(out, "\377\377", 2) == 0 ? GW_BIN_OK : GW_BIN_ENOMEM;
}

/* Digits p[0 .. n) as a number (no sign), false when empty, not all digits
 * or above max. */
static bool
digits(const unsigned char *p, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)p[i] - '0';

		if (d > 9 || x > (max - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

/* -?digits in [-(max + 1), max] (two's complement range). */
static bool
integer(const unsigned char *p, size_t n, uint64_t max, int64_t *v)
{
	bool neg = n > 0 && p[0] == '-';
	uint64_t u;

	if (!digits(p + neg, n - neg, max + neg, &u))
		return false;
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return true;
}

/* -?digits[.digits][(e|E)[+-]?digits]: what fmt_num and %.17g write. */
static bool
float_form(const unsigned char *p, size_t n)
{
	size_t i = 0, d;

	if (i < n && p[i] == '-')
		i++;
	for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
		;
	if (i == d)
		return false;
	if (i < n && p[i] == '.') {
		for (d = ++i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == d)
			return false;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		if (++i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == d)
			return false;
	}
	return i == n;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian, as PostgreSQL's
 * dates), for 1 <= y <= 9999. */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD HH:MM:SS[.f{1,6}]+00" as microseconds since 2000-01-01 UTC. */
static bool
timestamp(const unsigned char *p, size_t n, int64_t *us)
{
	static const uint8_t mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	uint64_t y, mo, d, h, mi, s, f = 0;
	size_t fn = 0;

	if (n < 22 || p[4] != '-' || p[7] != '-' || p[10] != ' ' || p[13] != ':' ||
	    p[16] != ':' || memcmp(p + n - 3, "+00", 3) != 0)
		return false;
	if (!digits(p, 4, 9999, &y) || !digits(p + 5, 2, 12, &mo) || !digits(p + 8, 2, 31, &d) ||
	    !digits(p + 11, 2, 23, &h) || !digits(p + 14, 2, 59, &mi) ||
	    !digits(p + 17, 2, 59, &s))
		return false;
	if (n > 22) {
		fn = n - 23;
		if (p[19] != '.' || fn < 1 || fn > 6 || !digits(p + 20, fn, 999999, &f))
			return false;
		for (size_t i = fn; i < 6; i++)
			f *= 10;
	}
	if (y == 0 || mo == 0 || d == 0 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
		return false;
	*us = ((days_from_civil((int64_t)y, (int64_t)mo, (int64_t)d) - 10957) * 86400 +
	       (int64_t)(h * 3600 + mi * 60 + s)) * 1000000 + (int64_t)f;
	return true;
}

/*
 * The common case without the C library: "-?digits[.digits]" with at most
 * 15 significant digits and 22 decimals is m / 10^k with m and 10^k exact
 * doubles, and one IEEE division rounds correctly: the value strtod gives
 * (Clinger's fast path). For a float, m < 2^24 and k <= 10, divided in
 * float arithmetic (FLT_EVAL_METHOD 0: no wider intermediate, no double
 * rounding), is strtof's. Returns false when the text is not such a
 * number (the caller asks strtod or strtof).
 */
static bool
fast_decimal(const unsigned char *p, size_t n, bool single, double *d, float *f)
{
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
				      1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
				      1e20, 1e21, 1e22 };
	static const float p10f[] = { 1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f,
				      1e9f, 1e10f };
	bool neg = n > 0 && p[0] == '-', dot = false;
	uint64_t m = 0;
	unsigned k = 0, nd = 0;

	for (size_t i = neg; i < n; i++) {
		if (p[i] == '.' && !dot && i > (size_t)neg && i + 1 < n) {
			dot = true;
			continue;
		}
		if (p[i] < '0' || p[i] > '9' || ++nd > 15)
			return false;
		m = m * 10 + (uint64_t)(p[i] - '0');
		k += dot;
	}
	if (nd == 0)
		return false;
	if (single) {
#if FLT_EVAL_METHOD == 0
		if (m >= (1u << 24) || k > 10)
			return false;
		*f = (float)m / p10f[k];
		if (neg)
			*f = -*f;
		return true;
#else
		return false;
#endif
	}
	if (k > 22)
		return false;
	*d = (double)m / p10[k];
	if (neg)
		*d = -*d;
	return true;
}

struct conv {
	struct gw_buf *out;
	const enum gw_bin_type *types;
	size_t ncols;
};

/* One field (raw COPY text) in its column's send form. Room reserved by
 * the caller: 4 * n + 32 bytes. */
static int
put_value(struct conv *c, enum gw_bin_type t, const unsigned char *p, size_t n)
{
	char *o = c->out->p + c->out->len, num[64];
	int64_t v;

	if (n == 2 && p[0] == '\\' && p[1] == 'N') {
		be32(o, UINT32_MAX);   /* -1: NULL */
		c->out->len += 4;
		return GW_BIN_OK;
	}
	switch (t) {
	case GW_BIN_TEXT: {
		const unsigned char *end = p + n;
		char *s = o + 4;

		while (p < end) {
			int b = gw_copy_next_byte(&p, end);

			if (b < 0)
				return GW_BIN_EVALUE;
			*s++ = (char)b;
		}
		be32(o, (uint32_t)(s - o - 4));
		o = s;
		break;
	}
	case GW_BIN_TSTZ:
		if (!timestamp(p, n, &v))
			return GW_BIN_EVALUE;
		o = be64(be32(o, 8), (uint64_t)v);
		break;
	case GW_BIN_FLOAT8:
	case GW_BIN_FLOAT4: {
		char *end;

		double x = 0;
		float y = 0;
		uint64_t bits;
		uint32_t bits4;

		if (!fast_decimal(p, n, t == GW_BIN_FLOAT4, &x, &y)) {
			if (n >= sizeof(num) || !float_form(p, n))
				return GW_BIN_EVALUE;
			memcpy(num, p, n);
			num[n] = '\0';
			errno = 0;
			if (t == GW_BIN_FLOAT8)
				x = strtod(num, &end);
			else
				y = strtof(num, &end);
			if (errno != 0 || end != num + n)
				return GW_BIN_EVALUE;
		}
		if (t == GW_BIN_FLOAT8) {
			memcpy(&bits, &x, 8);
			o = be64(be32(o, 8), bits);
		} else {
			memcpy(&bits4, &y, 4);
			o = be32(be32(o, 4), bits4);
		}
		break;
	}
	case GW_BIN_INT2:
		if (!integer(p, n, INT16_MAX, &v))
			return GW_BIN_EVALUE;
		o = be16(be32(o, 2), (uint16_t)v);
		break;
	case GW_BIN_INT4:
		if (!integer(p, n, INT32_MAX, &v))
			return GW_BIN_EVALUE;
		o = be32(be32(o, 4), (uint32_t)v);
		break;
	case GW_BIN_INT8:
		if (!integer(p, n, INT64_MAX, &v))
			return GW_BIN_EVALUE;
		o = be64(be32(o, 8), (uint64_t)v);
		break;
	case GW_BIN_BOOL:
		if (n != 1 || (p[0] != 't' && p[0] != 'f'))
			return GW_BIN_EVALUE;
		o = be32(o, 1);
		*o++ = p[0] == 't';
		break;
	case GW_BIN_INT4_ARRAY: {
		char *len = o, *dim;
		uint32_t k = 0;
		size_t i = 1;

		if (n < 2 || p[0] != '{' || p[n - 1] != '}')
			return GW_BIN_EVALUE;
		o = be32(o + 4, n > 2);   /* dimensions */
		o = be32(o, 0);           /* no NULL */
		o = be32(o, GW_INT4OID);
		dim = o;
		if (n > 2)
			o += 8;           /* size and lower bound, below */
		while (n > 2 && i < n) {
			size_t j = i;

			while (p[j] != ',' && p[j] != '}')
				j++;
			if ((p[j] == '}' && j != n - 1) || !integer(p + i, j - i, INT32_MAX, &v))
				return GW_BIN_EVALUE;
			o = be32(be32(o, 4), (uint32_t)v);
			k++;
			i = j + 1;
		}
		if (n > 2)
			be32(be32(dim, k), 1);
		be32(len, (uint32_t)(o - len - 4));
		break;
	}
	default:
		return GW_BIN_EVALUE;
	}
	c->out->len = (size_t)(o - c->out->p);
	return GW_BIN_OK;
}

static int
conv_field(void *arg, size_t col, const unsigned char *raw, size_t n)
{
	struct conv *c = arg;

	if (gw_buf_reserve(c->out, 4 * n + 32 + (col == 0 ? 2 : 0)) != 0)
		return GW_BIN_ENOMEM;
	if (col == 0) {
		be16(c->out->p + c->out->len, (uint16_t)c->ncols);
		c->out->len += 2;
	}
	return put_value(c, c->types[col], raw, n);
}

int
gw_copybin_rows(struct gw_buf *out, const enum gw_bin_type *types, size_t ncols,
		const char *p, size_t len, uint64_t *rows)
{
	struct conv c = { out, types, ncols };
	size_t was = out->len;
	uint64_t n = 0;
	int rc;

	if (ncols == 0 || ncols > INT16_MAX)
		return GW_BIN_EVALUE;
	/* The walk returns conv_field's codes (GW_BIN_*) or its own (GW_ARR_*). */
	rc = gw_copy_walk(p, len, ncols, conv_field, &c, &n);
	if (rc != GW_ARR_OK) {
		out->len = was;
		return rc == GW_ARR_ENOMEM || rc == GW_BIN_ENOMEM ? GW_BIN_ENOMEM : GW_BIN_EVALUE;
	}
	*rows += n;
	return GW_BIN_OK;
}
