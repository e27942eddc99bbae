/*
 * jt_header.c - the JT/T 808 message header, read (jt_header_decode) and
 * written (jt_header_encode, for the replies in jt_reply.c).
 *
 * 2013: id 2, attributes 2, phone BCD 6, serial 2 (12 bytes).
 * 2019 (attribute bit 14): id 2, attributes 2, version 1, phone BCD 10,
 * serial 2 (17 bytes). Both: packet count 2 and index 2 when bit 13 is
 * set. Words are big-endian. The body length (bits 0-9) must be exactly
 * what follows the header in the frame.
 */
#include <string.h>

#include "jt808/jt808-internal.h"

/* The phone's BCD bytes as digits; false on a nibble over 9. */
static bool
phone_digits(const uint8_t *bcd, unsigned n, char *out)
{
	bool ok = true;

	for (unsigned i = 0; i < n; i++) {
		unsigned hi = bcd[i] >> 4, lo = bcd[i] & 0x0f;

		ok &= hi <= 9 && lo <= 9;
		out[2 * i] = (char)('0' + (hi <= 9 ? hi : 0));
		out[2 * i + 1] = (char)('0' + (lo <= 9 ? lo : 0));
	}
	out[2 * n] = '\0';
	return ok;
}

enum jt_err
jt_header_decode(const uint8_t *frame, size_t len, struct jt_msg *out)
{
	struct jt_header *h = &out->h;
	size_t hlen, p;
	enum jt_err e = JT_OK;

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return JT_E_TRUNCATED;
	h->msg_id = jt_get16(frame);
	h->attr = jt_get16(frame + 2);
	h->body_len = h->attr & JT_ATTR_LEN_MASK;
	h->encryption = (uint8_t)((h->attr & JT_ATTR_ENC_MASK) >> JT_ATTR_ENC_SHIFT);
	h->subpackage = (h->attr & JT_ATTR_SUBPACKAGE) != 0;
	h->v2019 = (h->attr & JT_ATTR_V2019) != 0;
	h->phone_bytes = h->v2019 ? 10 : 6;
	hlen = (h->v2019 ? JT_HEADER_2019 : JT_HEADER_2013) +
	       (h->subpackage ? JT_HEADER_PACKET : 0);
	if (len < hlen)
		return JT_E_TRUNCATED;
	p = 4;
	if (h->v2019) {
		h->version = frame[p++];
		if (h->version == 0 || h->version > JT_VERSION_MAX)
			e = JT_E_VERSION;
	}
	memcpy(h->phone_bcd, frame + p, h->phone_bytes);
	if (!phone_digits(frame + p, h->phone_bytes, h->phone) && e == JT_OK)
		e = JT_E_PHONE;
	p += h->phone_bytes;
	h->serial = jt_get16(frame + p);
	p += 2;
	if (h->subpackage) {
		h->pkt_count = jt_get16(frame + p);
		h->pkt_index = jt_get16(frame + p + 2);
		p += 4;
		if ((h->pkt_count == 0 || h->pkt_index == 0 ||
		     h->pkt_index > h->pkt_count) && e == JT_OK)
			e = JT_E_PACKET;
	}
	if (len - p != h->body_len)
		return JT_E_LENGTH;
	out->body = frame + p;
	out->body_len = h->body_len;
	return e;
}

size_t
jt_header_encode(const struct jt_header *to, uint16_t msg_id,
                 uint16_t serial, size_t body_len, uint8_t *out)
{
	size_t p = 0;
	uint16_t attr = (uint16_t)(body_len & JT_ATTR_LEN_MASK);

	if (to->v2019)
		attr |= JT_ATTR_V2019;
	jt_put16(out, msg_id);
	jt_put16(out + 2, attr);
	p = 4;
	if (to->v2019)
		out[p++] = to->version;
	memcpy(out + p, to->phone_bcd, to->v2019 ? 10 : 6);
	p += to->v2019 ? 10 : 6;
	jt_put16(out + p, serial);
	return p + 2;
}
