/*
 * gw_batch.c - a batch of rows for one PostgreSQL transaction, and its
 * serialised form (one spool record).
 *
 * Rows are appended as COPY text straight away (no per-row allocation: the
 * four section buffers grow and are reused across batches), so writing a
 * batch is one COPY per table, of the sections as they lie in the spool
 * record. An alert row holds the alerts table's columns and the tail of
 * its JSON (gf_alert_format's text after "id":null), which the writer's
 * INSERT turns into the published payload with the new id: the JSON is
 * rendered once, in gw_in.c, and never parsed on the way.
 *
 * Record layout (host byte order: a spool is not moved between machines):
 *   "HGB3", u32 npos, nalerts, nrejects, nstates, u32 four section lengths,
 *   then the four sections. "HGB2", the record of the builds before
 *   positions.alarms (schema/011), is the same with positions rows one field
 *   shorter (no alarms); "HGB1", older still, also has its alerts section as
 *   (vehicle, JSON) pairs, NUL terminated. gw_batch_read.c reads all three
 *   back.
 */
#include "gateway/gw_batch.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hz_time.h"
#include "ingest/ingest.h"

#define HDR_LEN GW_BATCH_HDR_LEN

int
gw_buf_reserve(struct gw_buf *b, size_t extra)
{
	size_t cap;
	char *n;

	if (b->len + extra <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra)
		cap *= 2;
	n = realloc(b->p, cap);
	if (!n)
		return -1;
	b->p = n;
	b->cap = cap;
	return 0;
}

int
gw_buf_add(struct gw_buf *b, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (gw_buf_reserve(b, len) != 0)
		return -1;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

void
gw_buf_free(struct gw_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
gw_batch_reset(struct gw_batch *b)
{
	b->pos.len = b->alerts.len = b->rejects.len = b->states.len = 0;
	b->npos = b->nalerts = b->nrejects = b->nstates = 0;
	b->first_us = 0;
}

void
gw_batch_free(struct gw_batch *b)
{
	gw_buf_free(&b->pos);
	gw_buf_free(&b->alerts);
	gw_buf_free(&b->rejects);
	gw_buf_free(&b->states);
}

size_t
gw_batch_bytes(const struct gw_batch *b)
{
	return HDR_LEN + b->pos.len + b->alerts.len + b->rejects.len + b->states.len;
}

bool
gw_batch_empty(const struct gw_batch *b)
{
	return !(b->npos || b->nalerts || b->nrejects || b->nstates);
}

static char *
put_digits(char *p, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

size_t
gw_format_i64(int64_t v, char out[20])
{
	/* The magnitude as unsigned: -INT64_MIN does not fit an int64_t. */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char tmp[20];
	size_t n = 0, k = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		out[k++] = '-';
	while (n)
		out[k++] = tmp[--n];
	return k;
}

/* A batch's times mostly fall on one day: its "YYYY-MM-DD " is made by
 * hz_time_format once a day (issue 15), the time of day here, in the same
 * widths. */
void
gw_format_ts(int64_t us, char out[32])
{
	static int64_t cached_day = INT64_MIN;
	static char date[11];
	int64_t secs = hz_floor_div(us, 1000000), day = hz_floor_div(secs, 86400);
	/* secs * 1000000 would overflow for the lowest us */
	uint32_t sod = (uint32_t)(secs - day * 86400),
		 usec = (uint32_t)((us % 1000000 + 1000000) % 1000000);
	char *p = out + 11;

	if (day != cached_day) {
		hz_time_format(us, HZ_TIME_PG, out);
		memcpy(date, out, 11);
		cached_day = day;
		return;
	}
	memcpy(out, date, 11);
	p = put_digits(p, sod / 3600, 2);
	*p++ = ':';
	p = put_digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, sod % 60, 2);
	*p++ = '.';
	p = put_digits(p, usec, 6);
	memcpy(p, "+00", 4);
}

/* Fixed-point text of v with up to `decimals` places, trailing zeros cut.
 * Writes at most 32 bytes; returns the length. Values beyond 1e12 use %g. */
static size_t
fmt_num(char *out, double v, int decimals)
{
	static const double pow10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	char *p = out;
	uint64_t ip, fp, scale;
	double a;

	if (!isfinite(v) || fabs(v) >= 1e12)
		return (size_t)snprintf(out, 32, "%.17g", v);
	a = fabs(v);
	scale = (uint64_t)pow10[decimals];
	ip = (uint64_t)a;
	fp = (uint64_t)llround((a - (double)ip) * (double)scale);
	if (fp >= scale) {
		ip++;
		fp -= scale;
	}
	if (v < 0 && (ip || fp))
		*p++ = '-';
	{
		char tmp[24];
		int n = 0;

		do {
			tmp[n++] = (char)('0' + ip % 10);
			ip /= 10;
		} while (ip);
		while (n)
			*p++ = tmp[--n];
	}
	if (fp) {
		int w = decimals;

		while (fp % 10 == 0) {
			fp /= 10;
			w--;
		}
		*p++ = '.';
		p = put_digits(p, fp, w);
	}
	return (size_t)(p - out);
}

/* The COPY escape of each byte, 0 for a byte that stands for itself. */
static const char copy_esc[256] = { ['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r' };

int
gw_copy_escape(struct gw_buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	char *o;

	if (len == 0)
		return 0;   /* b->p may still be NULL */
	if (gw_buf_reserve(b, 2 * len) != 0)
		return -1;
	o = b->p + b->len;
	/* Runs of plain bytes are copied whole: most text has no escape. */
	while (p < end) {
		const unsigned char *q = p;

		while (q < end && !copy_esc[*q])
			q++;
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		if (q == end)
			break;
		*o++ = '\\';
		*o++ = copy_esc[*q];
		p = q + 1;
	}
	b->len = (size_t)(o - b->p);
	return 0;
}

/* bytea in COPY text: \\x then hex (the backslash itself escaped). */
static void
put_hex(struct gw_buf *b, const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = data;
	char *o = b->p + b->len;

	*o++ = '\\';
	*o++ = '\\';
	*o++ = 'x';
	for (size_t i = 0; i < len; i++) {
		*o++ = hex[s[i] >> 4];
		*o++ = hex[s[i] & 15];
	}
	b->len = (size_t)(o - b->p);
}

#define PUT(b, lit) (memcpy((b)->p + (b)->len, lit, sizeof(lit) - 1), (b)->len += sizeof(lit) - 1)

static void
put_num(struct gw_buf *b, bool has, double v, int decimals)
{
	if (has)
		b->len += fmt_num(b->p + b->len, v, decimals);
	else
		PUT(b, "\\N");
	b->p[b->len++] = '\t';
}

static void
put_int(struct gw_buf *b, bool has, int64_t v)
{
	if (has)
		b->len += gw_format_i64(v, b->p + b->len);
	else
		PUT(b, "\\N");
	b->p[b->len++] = '\t';
}

static void
put_text(struct gw_buf *b, bool has, const char *s)
{
	if (has && *s)
		(void)gw_copy_escape(b, s, strlen(s));  /* room reserved by caller */
	else
		PUT(b, "\\N");
	b->p[b->len++] = '\t';
}

int
gw_batch_add_position(struct gw_batch *b, const struct ing_fix *f, const int64_t *zone_ids,
                      size_t nzones, int64_t received_us)
{
	struct gw_buf *o = &b->pos;
	unsigned h = f->present;
	char ts[32];

	if (gw_buf_reserve(o, 2 * ING_VEHICLE_MAX + 4 * ING_CARGO_MAX + 24 * nzones + 400) != 0)
		return -1;
	(void)gw_copy_escape(o, f->vehicle, strlen(f->vehicle));
	o->p[o->len++] = '\t';
	gw_format_ts(f->time_us, ts);
	memcpy(o->p + o->len, ts, 29);
	o->len += 29;
	o->p[o->len++] = '\t';
	put_num(o, true, f->lat, ING_LATLON_DECIMALS);
	put_num(o, true, f->lon, ING_LATLON_DECIMALS);
	put_num(o, h & ING_HAS_SPEED, f->speed_kmh, ING_SPEED_DECIMALS);
	put_num(o, h & ING_HAS_HEADING, f->heading, 3);
	put_num(o, h & ING_HAS_ALT, f->alt_m, 3);
	put_num(o, h & ING_HAS_HDOP, f->hdop, 3);
	put_int(o, h & ING_HAS_FIX, f->fix);
	put_int(o, h & ING_HAS_SATS, f->sats);
	put_text(o, h & ING_HAS_UN, f->un);
	put_text(o, h & ING_HAS_HAZARD_CLASS, f->hazard_class);
	put_int(o, h & ING_HAS_SEQ, f->seq);
	if (h & ING_HAS_IGNITION)
		o->p[o->len++] = f->ignition ? 't' : 'f';
	else
		PUT(o, "\\N");
	o->p[o->len++] = '\t';
	o->p[o->len++] = '{';
	for (size_t i = 0; i < nzones; i++) {
		if (i)
			o->p[o->len++] = ',';
		o->len += gw_format_i64(zone_ids[i], o->p + o->len);
	}
	o->p[o->len++] = '}';
	o->p[o->len++] = '\t';
	gw_format_ts(received_us, ts);
	memcpy(o->p + o->len, ts, 29);
	o->len += 29;
	/* alarms, last (schema/011): the mask as an integer, bit 31 negative */
	o->p[o->len++] = '\t';
	if (h & ING_HAS_ALARMS)
		o->len += gw_format_i64((int32_t)f->alarms, o->p + o->len);
	else
		PUT(o, "\\N");
	o->p[o->len++] = '\n';
	b->npos++;
	return 0;
}

int
gw_batch_add_reject(struct gw_batch *b, const char *topic, const void *payload, size_t len,
                    const char *reason, const char *message, int64_t received_us)
{
	struct gw_buf *o = &b->rejects;
	size_t tlen = strlen(topic), mlen = message ? strlen(message) : 0;
	char ts[32];

	if (gw_buf_reserve(o, 2 * tlen + 2 * len + 2 * strlen(reason) + 2 * mlen + 64) != 0)
		return -1;
	(void)gw_copy_escape(o, topic, tlen);
	o->p[o->len++] = '\t';
	put_hex(o, payload, len);
	o->p[o->len++] = '\t';
	(void)gw_copy_escape(o, reason, strlen(reason));
	o->p[o->len++] = '\t';
	if (mlen)
		(void)gw_copy_escape(o, message, mlen);
	else
		PUT(o, "\\N");
	o->p[o->len++] = '\t';
	gw_format_ts(received_us, ts);
	memcpy(o->p + o->len, ts, 29);
	o->len += 29;
	o->p[o->len++] = '\n';
	b->nrejects++;
	return 0;
}

/* The end of the JSON string whose opening quote is at p: after its
 * closing quote, or NULL when it runs past end. */
static const char *
json_string_end(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		const char *q = memchr(p, '"', (size_t)(end - p));
		size_t bs = 0;

		if (!q)
			return NULL;
		while (q - bs > p && q[-1 - (ptrdiff_t)bs] == '\\')
			bs++;
		if (bs % 2 == 0)
			return q + 1;
		p = q;
	}
	return NULL;
}

/* A JSON value's span: a string with its quotes, an object or array to
 * its bracket, else a scalar up to the ',' '}' or ']' after it. Returns its
 * end, or NULL when it runs past end. */
static const char *
json_value_end(const char *p, const char *end)
{
	int depth = 0;

	for (; p < end; p++) {
		switch (*p) {
		case '"':
			if (!(p = json_string_end(p, end)))
				return NULL;
			if (depth == 0)
				return p;
			p--;
			break;
		case '{': case '[':
			depth++;
			break;
		case '}': case ']':
			if (depth == 0)
				return p;
			if (--depth == 0)
				return p + 1;
			break;
		case ',':
			if (depth == 0)
				return p;
			break;
		default:
			break;
		}
	}
	return depth == 0 ? end : NULL;
}

/* The alert columns gw_batch_add_alert takes from the JSON. */
enum { JM_ZONE_ID, JM_TS, JM_LAT, JM_LON, JM_SPEED, JM_DETAIL, JM_COUNT };

struct span {
	const char *p;
	size_t len;   /* 0: absent */
};

/* The top-level members zone_id, ts, lat, lon, speed_kmh and detail of an
 * object as gf_alert_format writes it (one line, no spaces); what it
 * cannot walk to stays absent. */
static void
json_members(const char *json, size_t len, struct span m[JM_COUNT])
{
	static const struct { const char *name; size_t len; } names[JM_COUNT] = {
		{ "zone_id", 7 }, { "ts", 2 }, { "lat", 3 }, { "lon", 3 }, { "speed_kmh", 9 },
		{ "detail", 6 },
	};
	const char *p = json + 1, *end = json + len;

	memset(m, 0, JM_COUNT * sizeof(*m));
	while (p < end && *p == '"') {
		const char *key = p + 1, *v;
		size_t klen;

		if (!(p = json_string_end(p, end)) || p >= end || *p != ':')
			return;
		klen = (size_t)(p - 1 - key);
		v = p + 1;
		if (!(p = json_value_end(v, end)))
			return;
		for (int i = 0; i < JM_COUNT; i++)
			if (names[i].len == klen && memcmp(names[i].name, key, klen) == 0)
				m[i] = (struct span){ v, (size_t)(p - v) };
		if (p < end && *p == ',')
			p++;
	}
}

/* A string field of an alert row: "" stays an empty string. */
static void
put_field(struct gw_buf *b, const char *s, size_t len, char sep)
{
	(void)gw_copy_escape(b, s, len);   /* room reserved by caller */
	b->p[b->len++] = sep;
}

/* A number the JSON wrote (null or absent: \N; a string: its text). */
static void
put_json_scalar(struct gw_buf *b, struct span v)
{
	if (v.len == 0 || (v.len == 4 && memcmp(v.p, "null", 4) == 0))
		PUT(b, "\\N");
	else if (v.len >= 2 && v.p[0] == '"')
		(void)gw_copy_escape(b, v.p + 1, v.len - 2);
	else
		(void)gw_copy_escape(b, v.p, v.len);
	b->p[b->len++] = '\t';
}

int
gw_batch_add_alert(struct gw_batch *b, const struct gw_alert_row *a)
{
	struct gw_buf *o = &b->alerts;
	size_t klen = strlen(a->kind), slen = strlen(a->severity), vlen = strlen(a->vehicle);
	size_t zlen = a->zone_name ? strlen(a->zone_name) : 0;
	struct span m[JM_COUNT];

	if (a->json_len <= 10 || memcmp(a->json, "{\"id\":null", 10) != 0)
		return -1;
	if (gw_buf_reserve(o, 4 * a->json_len + 2 * (klen + slen + vlen + zlen) + 64) != 0)
		return -1;
	json_members(a->json, a->json_len, m);
	put_field(o, a->kind, klen, '\t');
	put_field(o, a->severity, slen, '\t');
	put_field(o, a->vehicle, vlen, '\t');
	put_json_scalar(o, m[JM_ZONE_ID]);
	if (a->zone_name)
		put_field(o, a->zone_name, zlen, '\t');
	else
		put_text(o, false, NULL);
	put_json_scalar(o, m[JM_TS]);
	put_json_scalar(o, m[JM_LAT]);
	put_json_scalar(o, m[JM_LON]);
	put_json_scalar(o, m[JM_SPEED]);
	if (m[JM_DETAIL].len)
		put_field(o, m[JM_DETAIL].p, m[JM_DETAIL].len, '\t');
	else
		put_field(o, "{}", 2, '\t');
	put_field(o, a->json + 10, a->json_len - 10, '\n');
	b->nalerts++;
	return 0;
}

int
gw_batch_add_state(struct gw_batch *b, const char *vehicle, int64_t last_us, double lat,
                   double lon, const uint8_t *blob, size_t bloblen, bool has_seq, int64_t seq)
{
	struct gw_buf *o = &b->states;
	char ts[32];

	if (gw_buf_reserve(o, 2 * strlen(vehicle) + 2 * bloblen + 160) != 0)
		return -1;
	(void)gw_copy_escape(o, vehicle, strlen(vehicle));
	o->p[o->len++] = '\t';
	gw_format_ts(last_us, ts);
	memcpy(o->p + o->len, ts, 29);
	o->len += 29;
	o->p[o->len++] = '\t';
	put_num(o, true, lat, 9);
	put_num(o, true, lon, 9);
	put_hex(o, blob, bloblen);
	o->p[o->len++] = '\t';
	if (has_seq)
		o->len += gw_format_i64(seq, o->p + o->len);
	else
		PUT(o, "\\N");
	o->p[o->len++] = '\n';
	b->nstates++;
	return 0;
}

static void
put_u32(char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

void
gw_batch_pieces(const struct gw_batch *b, uint8_t hdr[GW_BATCH_HDR_LEN],
                struct iovec iov[GW_BATCH_PIECES])
{
	char *h = (char *)hdr;

	memcpy(h, "HGB3", 4);
	put_u32(h + 4, b->npos);
	put_u32(h + 8, b->nalerts);
	put_u32(h + 12, b->nrejects);
	put_u32(h + 16, b->nstates);
	put_u32(h + 20, (uint32_t)b->pos.len);
	put_u32(h + 24, (uint32_t)b->alerts.len);
	put_u32(h + 28, (uint32_t)b->rejects.len);
	put_u32(h + 32, (uint32_t)b->states.len);
	iov[0] = (struct iovec){ hdr, HDR_LEN };
	iov[1] = (struct iovec){ b->pos.p, b->pos.len };
	iov[2] = (struct iovec){ b->alerts.p, b->alerts.len };
	iov[3] = (struct iovec){ b->rejects.p, b->rejects.len };
	iov[4] = (struct iovec){ b->states.p, b->states.len };
}

int
gw_batch_serialize(const struct gw_batch *b, struct gw_buf *out)
{
	uint8_t hdr[GW_BATCH_HDR_LEN];
	struct iovec iov[GW_BATCH_PIECES];

	out->len = 0;
	if (gw_buf_reserve(out, gw_batch_bytes(b)) != 0)
		return -1;
	gw_batch_pieces(b, hdr, iov);
	for (int i = 0; i < GW_BATCH_PIECES; i++)
		(void)gw_buf_add(out, iov[i].iov_base, iov[i].iov_len);
	return 0;
}

/* The start of the n-th tab-separated field of the line [p, end), or NULL
 * when it has fewer fields. */
static const char *
field_at(const char *p, const char *end, int n)
{
	while (n-- > 0) {
		p = memchr(p, '\t', (size_t)(end - p));
		if (!p)
			return NULL;
		p++;
	}
	return p;
}

static size_t
field_len(const char *p, const char *end)
{
	const char *t = memchr(p, '\t', (size_t)(end - p));

	return (size_t)((t ? t : end) - p);
}

int
gw_batch_pos_notify(struct gw_buf *out, size_t *payload, const char *pos, size_t len)
{
	const char *p = pos, *end = pos + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *f;
		size_t start = out->len, l;

		if (!eol)
			eol = end;
		/* The line is at most as long as the row, plus a separator. */
		if (gw_buf_reserve(out, (size_t)(eol - p) + 3) != 0)
			return -1;
		if (out->len > *payload)
			out->p[out->len++] = '\n';
		/* vehicle, ts as RFC 3339 (the row has the 29-byte PG form) */
		l = field_len(p, eol);
		memcpy(out->p + out->len, p, l);
		out->len += l;
		f = field_at(p, eol, 1);
		if (!f || field_len(f, eol) != 29)
			goto skip;
		out->p[out->len++] = '\t';
		memcpy(out->p + out->len, f, 23);
		out->p[out->len + 10] = 'T';
		out->len += 23;
		out->p[out->len++] = 'Z';
		/* lat, lon, speed_kmh, heading as written (each field found
		 * from the one before it) */
		for (int i = 2; i <= 5; i++) {
			if (!(f = field_at(f, eol, 1)))
				goto skip;
			out->p[out->len++] = '\t';
			l = field_len(f, eol);
			memcpy(out->p + out->len, f, l);
			out->len += l;
		}
		/* zone_ids (field 14) without their braces */
		if (!(f = field_at(f, eol, 14 - 5)) || (l = field_len(f, eol)) < 2)
			goto skip;
		out->p[out->len++] = '\t';
		memcpy(out->p + out->len, f + 1, l - 2);
		out->len += l - 2;
		if (out->len - *payload > GW_POS_NOTIFY_MAX) {
			/* A new payload, unless the line is alone and too long. */
			size_t line = out->len - start - (start > *payload);

			if (start == *payload || line > GW_POS_NOTIFY_MAX)
				goto skip;
			memmove(out->p + start + 2, out->p + start + 1, line);
			out->p[start] = '\n';
			out->p[start + 1] = '\n';
			out->len = start + 2 + line;
			*payload = start + 2;
		}
		p = eol + 1;
		continue;
skip:
		out->len = start;
		p = eol + 1;
	}
	return 0;
}

