/*
 * jt_body.c - the bodies of the terminal messages hazgate reads: 0x0001
 * terminal general reply, 0x0100 registration, 0x0102 authentication,
 * 0x0200 location report and 0x0704 batch upload (0x0002 heartbeat and
 * 0x0003 logout have no body to read). Byte strings are borrowed from the
 * body; numbers are big-endian.
 *
 * 0x0200: 28 fixed bytes (alarm 4, status 4, lat 4, lon 4, altitude 2,
 * speed 2, direction 2, BCD time 6), then additional items (id 1, length
 * 1, data). The known items are one table (id, length, bit, where); an
 * unknown item is skipped by its length, a known one of the wrong length
 * is skipped and counted, an item running past the body is an error.
 */
#include <stddef.h>
#include <string.h>

#include "common/hz_time.h"
#include "jt808/jt808-internal.h"

#define LOCATION_FIXED 28
#define GMT8_S (8 * 3600)

/* Length of p[0..n) without trailing 0x00 padding. */
static size_t
unpadded(const uint8_t *p, size_t n)
{
	while (n > 0 && p[n - 1] == 0)
		n--;
	return n;
}

enum jt_err
jt_terminal_reply_decode(const struct jt_msg *m, struct jt_terminal_reply *out)
{
	memset(out, 0, sizeof(*out));
	if (m->h.encryption)
		return JT_E_ENCRYPTED;
	if (m->body_len < 5)
		return JT_E_BODY_SHORT;
	out->reply_serial = jt_get16(m->body);
	out->reply_id = jt_get16(m->body + 2);
	out->result = m->body[4];
	return JT_OK;
}

enum jt_err
jt_register_decode(const struct jt_msg *m, struct jt_register *out)
{
	/* maker, model, terminal id: 2013 and 2019 widths */
	const size_t w[2][3] = { { 5, 20, 7 }, { 11, 30, 30 } };
	const size_t *wd = w[m->h.v2019];
	const uint8_t *p = m->body;
	size_t fixed = 4 + wd[0] + wd[1] + wd[2] + 1;

	memset(out, 0, sizeof(*out));
	if (m->h.encryption)
		return JT_E_ENCRYPTED;
	if (m->body_len < fixed)
		return JT_E_BODY_SHORT;
	out->province = jt_get16(p);
	out->city = jt_get16(p + 2);
	p += 4;
	out->maker = p;
	out->maker_len = unpadded(p, wd[0]);
	p += wd[0];
	out->model = p;
	out->model_len = unpadded(p, wd[1]);
	p += wd[1];
	out->terminal_id = p;
	out->terminal_id_len = unpadded(p, wd[2]);
	p += wd[2];
	out->plate_color = *p++;
	out->plate = p;
	out->plate_len = m->body_len - fixed;
	return JT_OK;
}

enum jt_err
jt_auth_decode(const struct jt_msg *m, struct jt_auth *out)
{
	const uint8_t *p = m->body;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (m->h.encryption)
		return JT_E_ENCRYPTED;
	if (!m->h.v2019) {
		out->code = p;
		out->code_len = m->body_len;
		return JT_OK;
	}
	if (m->body_len < 1)
		return JT_E_BODY_SHORT;
	n = p[0];
	if (m->body_len < 1 + n + 15 + 20)
		return JT_E_BODY_SHORT;
	out->code = p + 1;
	out->code_len = n;
	out->imei = p + 1 + n;
	out->imei_len = unpadded(out->imei, 15);
	out->sw_version = out->imei + 15;
	out->sw_version_len = unpadded(out->sw_version, 20);
	return JT_OK;
}

/* ---- 0x0200 ------------------------------------------------------------ */

/* Two BCD digits; false when a nibble is over 9. */
static bool
bcd2(uint8_t b, unsigned *v)
{
	unsigned hi = b >> 4, lo = b & 0x0f;

	*v = hi * 10 + lo;
	return hi <= 9 && lo <= 9;
}

/* YYMMDDhhmmss in GMT+8 -> UTC microseconds; false if not a time. */
static bool
bcd_time(const uint8_t t[6], int64_t *us)
{
	unsigned v[6];
	bool ok = true;

	for (int i = 0; i < 6; i++)
		ok &= bcd2(t[i], &v[i]);
	if (!ok || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
	    v[2] > hz_days_in_month(2000 + v[0], v[1]) || v[3] > 23 ||
	    v[4] > 59 || v[5] > 59)
		return false;
	*us = (hz_days_from_civil(2000 + v[0], v[1], v[2]) * 86400 +
	       v[3] * 3600 + v[4] * 60 + v[5] - GMT8_S) * 1000000LL;
	return true;
}

/* The additional items read (others are skipped by their length); the
 * terminal side (jt_term.c) writes them from the same table. */
const struct jt_item jt_items[JT_NITEMS] = {
	{ 0x01, 4, JT_U32, JT_HAS_MILEAGE, offsetof(struct jt_location, mileage_dkm) },
	{ 0x02, 2, JT_U16, JT_HAS_FUEL, offsetof(struct jt_location, fuel_dl) },
	{ 0x03, 2, JT_U16, JT_HAS_RECORDER_SPEED,
	  offsetof(struct jt_location, recorder_speed_dkmh) },
	{ 0x25, 4, JT_U32, JT_HAS_EXT_SIGNALS, offsetof(struct jt_location, ext_signals) },
	{ 0x2a, 2, JT_U16, JT_HAS_IO, offsetof(struct jt_location, io) },
	{ 0x30, 1, JT_U8, JT_HAS_RSSI, offsetof(struct jt_location, rssi) },
	{ 0x31, 1, JT_U8, JT_HAS_SATS, offsetof(struct jt_location, sats) },
};

static void
read_item(struct jt_location *loc, uint8_t id, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < JT_NITEMS; i++) {
		const struct jt_item *it = &jt_items[i];
		unsigned char *dst = (unsigned char *)loc + it->offset;

		if (it->id != id)
			continue;
		if (n != it->len) {
			loc->items_malformed++;
			return;
		}
		switch (it->kind) {
		case JT_U8:
			*(uint8_t *)dst = p[0];
			break;
		case JT_U16:
			*(uint16_t *)(void *)dst = jt_get16(p);
			break;
		case JT_U32:
			*(uint32_t *)(void *)dst = jt_get32(p);
			break;
		}
		loc->present |= it->bit;
		return;
	}
	loc->items_unknown++;
}

enum jt_err
jt_location_body_decode(const uint8_t *p, size_t len, struct jt_location *out)
{
	uint32_t lat, lon;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (len < LOCATION_FIXED)
		return JT_E_BODY_SHORT;
	out->alarm = jt_get32(p);
	out->status = jt_get32(p + 4);
	lat = jt_get32(p + 8);
	lon = jt_get32(p + 12);
	/* Over 2^31 cannot be a latitude or longitude: clamp so that the
	 * sign stays right and ingest's range check refuses it. */
	out->lat_e6 = lat > INT32_MAX ? INT32_MAX : (int32_t)lat;
	out->lon_e6 = lon > INT32_MAX ? INT32_MAX : (int32_t)lon;
	if (out->status & JT_STATUS_SOUTH)
		out->lat_e6 = -out->lat_e6;
	if (out->status & JT_STATUS_WEST)
		out->lon_e6 = -out->lon_e6;
	out->alt_m = (int16_t)jt_get16(p + 16);
	out->speed_dkmh = jt_get16(p + 18);
	out->direction = jt_get16(p + 20);
	memcpy(out->time_bcd, p + 22, 6);
	out->time_ok = bcd_time(out->time_bcd, &out->time_us);
	if (!out->time_ok)
		out->time_us = 0;
	out->positioned = (out->status & JT_STATUS_POSITIONED) != 0;
	out->ignition = (out->status & JT_STATUS_ACC) != 0;

	for (i = LOCATION_FIXED; i < len;) {
		uint8_t id, n;

		if (len - i < 2)
			return JT_E_ITEM;
		id = p[i];
		n = p[i + 1];
		i += 2;
		if (len - i < n)
			return JT_E_ITEM;
		read_item(out, id, p + i, n);
		i += n;
	}
	return JT_OK;
}

enum jt_err
jt_location_decode(const struct jt_msg *m, struct jt_location *out)
{
	if (m->h.encryption) {
		memset(out, 0, sizeof(*out));
		return JT_E_ENCRYPTED;
	}
	return jt_location_body_decode(m->body, m->body_len, out);
}

/* ---- 0x0704 ------------------------------------------------------------ */

enum jt_err
jt_batch_decode(const struct jt_msg *m, struct jt_batch *out)
{
	size_t pos = 0;
	unsigned n = 0;

	memset(out, 0, sizeof(*out));
	if (m->h.encryption)
		return JT_E_ENCRYPTED;
	if (m->body_len < 3)
		return JT_E_BODY_SHORT;
	out->count = jt_get16(m->body);
	out->type = m->body[2];
	out->items = m->body + 3;
	out->items_len = m->body_len - 3;
	while (pos < out->items_len) {
		size_t k;

		if (out->items_len - pos < 2)
			return JT_E_BATCH;
		k = jt_get16(out->items + pos);
		pos += 2;
		if (out->items_len - pos < k)
			return JT_E_BATCH;
		pos += k;
		n++;
	}
	if (n != out->count)
		return JT_E_BATCH;
	return JT_OK;
}

enum jt_err
jt_batch_next(struct jt_batch *b, const uint8_t **item, size_t *item_len,
              struct jt_location *loc)
{
	size_t k;

	if (b->index >= b->count || b->items_len - b->pos < 2)
		return JT_NEED_MORE;
	k = jt_get16(b->items + b->pos);
	if (b->items_len - b->pos - 2 < k)
		return JT_NEED_MORE;    /* not a jt_batch_decode'd batch */
	*item = b->items + b->pos + 2;
	*item_len = k;
	b->pos += 2 + k;
	b->index++;
	return jt_location_body_decode(*item, k, loc);
}
