/*
 * jt_term.c - the terminal's side of JT/T 808, for hazgate-load's
 * terminal simulator and the tests: a terminal's header, the bodies of
 * 0x0100 registration, 0x0102 authentication, 0x0200 location and 0x0704
 * batch upload (the inverses of jt_body.c's decoders, from the same
 * layouts and the same items table), and reading the platform's 0x8100.
 * Pure: no I/O, no clock, no allocation; the caller owns every buffer.
 * Limits: never subpackages, never encrypts (nor does any terminal
 * hazgate has met).
 */
#include <string.h>

#include "common/hz_time.h"
#include "jt808/jt808-internal.h"

#define LOCATION_FIXED 28
#define GMT8_S (8 * 3600)

enum jt_err
jt_term_header(const char *phone, bool v2019, struct jt_header *out)
{
	char digits[JT_PHONE_DIGITS_MAX + 1];
	size_t want = v2019 ? 20 : 12, n = phone ? strlen(phone) : 0;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n > want)
		return JT_E_PHONE;
	memset(digits, '0', want - n);
	for (size_t i = 0; i < n; i++) {
		if (phone[i] < '0' || phone[i] > '9')
			return JT_E_PHONE;
		digits[want - n + i] = phone[i];
	}
	digits[want] = '\0';
	out->v2019 = v2019;
	out->version = v2019 ? 1 : 0;
	out->phone_bytes = (uint8_t)(want / 2);
	for (size_t i = 0; i < want / 2; i++)
		out->phone_bcd[i] = (uint8_t)((digits[2 * i] - '0') << 4 |
		                              (digits[2 * i + 1] - '0'));
	memcpy(out->phone, digits, want + 1);
	return JT_OK;
}

/* Copy n bytes of s into out and pad with 0x00 to width; false when n is
 * over the width or s is NULL with n > 0. */
static bool
put_padded(uint8_t *out, const uint8_t *s, size_t n, size_t width)
{
	if (n > width || (n > 0 && !s))
		return false;
	if (n > 0)
		memcpy(out, s, n);
	memset(out + n, 0, width - n);
	return true;
}

enum jt_err
jt_register_encode(const struct jt_register *r, bool v2019, uint8_t *out,
                   size_t cap, size_t *out_len)
{
	const size_t w[2][3] = { { 5, 20, 7 }, { 11, 30, 30 } };
	const size_t *wd = w[v2019];
	size_t fixed = 4 + wd[0] + wd[1] + wd[2] + 1, n = fixed + r->plate_len;
	uint8_t *p = out;

	if (r->plate_len > 0 && !r->plate)
		return JT_E_ARG;
	if (r->maker_len > wd[0] || r->model_len > wd[1] ||
	    r->terminal_id_len > wd[2])
		return JT_E_ARG;
	if (n > cap || n > JT_BODY_MAX)
		return JT_E_NO_SPACE;
	jt_put16(p, r->province);
	jt_put16(p + 2, r->city);
	p += 4;
	if (!put_padded(p, r->maker, r->maker_len, wd[0]) ||
	    !put_padded(p + wd[0], r->model, r->model_len, wd[1]) ||
	    !put_padded(p + wd[0] + wd[1], r->terminal_id, r->terminal_id_len,
	                wd[2]))
		return JT_E_ARG;
	p += wd[0] + wd[1] + wd[2];
	*p++ = r->plate_color;
	if (r->plate_len > 0)
		memcpy(p, r->plate, r->plate_len);
	*out_len = n;
	return JT_OK;
}

enum jt_err
jt_auth_encode(const struct jt_auth *a, bool v2019, uint8_t *out, size_t cap,
               size_t *out_len)
{
	size_t n = v2019 ? 1 + a->code_len + 15 + 20 : a->code_len;

	if (a->code_len > 0 && !a->code)
		return JT_E_ARG;
	if (v2019 && (a->code_len > 255 || a->imei_len > 15 ||
	              a->sw_version_len > 20))
		return JT_E_ARG;
	if (n > cap || n > JT_BODY_MAX)
		return JT_E_NO_SPACE;
	if (!v2019) {
		if (n > 0)
			memcpy(out, a->code, n);
		*out_len = n;
		return JT_OK;
	}
	out[0] = (uint8_t)a->code_len;
	if (a->code_len > 0)
		memcpy(out + 1, a->code, a->code_len);
	if (!put_padded(out + 1 + a->code_len, a->imei, a->imei_len, 15) ||
	    !put_padded(out + 1 + a->code_len + 15, a->sw_version,
	                a->sw_version_len, 20))
		return JT_E_ARG;
	*out_len = n;
	return JT_OK;
}

static uint8_t
bcd(unsigned v)
{
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

/* UTC microseconds -> YYMMDDhhmmss in GMT+8; false outside 2000-2099. */
static bool
time_bcd(int64_t us, uint8_t t[6])
{
	int64_t s = hz_floor_div(us, 1000000) + GMT8_S;
	int64_t days = hz_floor_div(s, 86400), sod = s - days * 86400, y;
	unsigned m, d;

	hz_civil_from_days(days, &y, &m, &d);
	if (y < 2000 || y > 2099)
		return false;
	t[0] = bcd((unsigned)(y - 2000));
	t[1] = bcd(m);
	t[2] = bcd(d);
	t[3] = bcd((unsigned)(sod / 3600));
	t[4] = bcd((unsigned)(sod / 60 % 60));
	t[5] = bcd((unsigned)(sod % 60));
	return true;
}

/* |v| as an unsigned word (INT32_MIN too). */
static uint32_t
magnitude(int32_t v)
{
	return v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
}

enum jt_err
jt_location_encode(const struct jt_location *loc, uint8_t *out, size_t cap,
                   size_t *out_len)
{
	uint32_t status = loc->status & ~(uint32_t)(JT_STATUS_ACC |
	                  JT_STATUS_POSITIONED | JT_STATUS_SOUTH | JT_STATUS_WEST);
	size_t n = LOCATION_FIXED;
	uint8_t t[6];

	if (loc->ignition)
		status |= JT_STATUS_ACC;
	if (loc->positioned)
		status |= JT_STATUS_POSITIONED;
	if (loc->lat_e6 < 0)
		status |= JT_STATUS_SOUTH;
	if (loc->lon_e6 < 0)
		status |= JT_STATUS_WEST;
	if (loc->time_ok) {
		if (!time_bcd(loc->time_us, t))
			return JT_E_TIME;
	} else {
		memcpy(t, loc->time_bcd, 6);
	}
	for (size_t i = 0; i < JT_NITEMS; i++)
		if (loc->present & jt_items[i].bit)
			n += 2u + jt_items[i].len;
	if (n > cap)
		return JT_E_NO_SPACE;
	jt_put32(out, loc->alarm);
	jt_put32(out + 4, status);
	jt_put32(out + 8, magnitude(loc->lat_e6));
	jt_put32(out + 12, magnitude(loc->lon_e6));
	jt_put16(out + 16, (uint16_t)loc->alt_m);
	jt_put16(out + 18, loc->speed_dkmh);
	jt_put16(out + 20, loc->direction);
	memcpy(out + 22, t, 6);
	n = LOCATION_FIXED;
	for (size_t i = 0; i < JT_NITEMS; i++) {
		const struct jt_item *it = &jt_items[i];
		const unsigned char *src = (const unsigned char *)loc + it->offset;

		if (!(loc->present & it->bit))
			continue;
		out[n] = it->id;
		out[n + 1] = it->len;
		switch (it->kind) {
		case JT_U8:
			out[n + 2] = *src;
			break;
		case JT_U16:
			jt_put16(out + n + 2, *(const uint16_t *)(const void *)src);
			break;
		case JT_U32:
			jt_put32(out + n + 2, *(const uint32_t *)(const void *)src);
			break;
		}
		n += 2u + it->len;
	}
	*out_len = n;
	return JT_OK;
}

enum jt_err
jt_batch_encode(uint8_t type, const struct jt_location *locs, size_t n,
                uint8_t *out, size_t cap, size_t *out_len)
{
	size_t pos = 3;

	if (n == 0 || n > 0xffff)
		return JT_E_ARG;
	if (cap > JT_BODY_MAX)
		cap = JT_BODY_MAX;
	if (cap < pos)
		return JT_E_NO_SPACE;
	jt_put16(out, (uint16_t)n);
	out[2] = type;
	for (size_t i = 0; i < n; i++) {
		size_t k;
		enum jt_err e;

		if (cap - pos < 2)
			return JT_E_NO_SPACE;
		e = jt_location_encode(&locs[i], out + pos + 2, cap - pos - 2, &k);
		if (e != JT_OK)
			return e;
		jt_put16(out + pos, (uint16_t)k);
		pos += 2 + k;
	}
	*out_len = pos;
	return JT_OK;
}

enum jt_err
jt_register_reply_decode(const struct jt_msg *m, struct jt_register_reply *out)
{
	memset(out, 0, sizeof(*out));
	if (m->h.encryption)
		return JT_E_ENCRYPTED;
	if (m->body_len < 3)
		return JT_E_BODY_SHORT;
	out->reply_serial = jt_get16(m->body);
	out->result = m->body[2];
	if (out->result == 0) {
		out->auth = m->body + 3;
		out->auth_len = m->body_len - 3;
	}
	return JT_OK;
}
