/*
 * jt808-internal.h - what the files of jt808/ share and callers do not:
 * big-endian access and the header writer the replies use.
 */
#ifndef HAZGATE_JT808_INTERNAL_H
#define HAZGATE_JT808_INTERNAL_H

#include "jt808/jt808.h"

static inline uint16_t
jt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
jt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void
jt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
jt_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The 0x0200 additional items hazgate reads, one table for the decoder
 * (jt_body.c) and the terminal side's encoder (jt_term.c): id, length,
 * width of the value, its jt_location.present bit and where it lives in
 * struct jt_location. */
enum jt_item_kind { JT_U8, JT_U16, JT_U32 };
struct jt_item {
	uint8_t id;
	uint8_t len;
	enum jt_item_kind kind;
	unsigned bit;
	size_t offset;
};
#define JT_NITEMS 7
extern const struct jt_item jt_items[JT_NITEMS];

/*
 * Write the header of a platform message for the terminal of `to` (2013
 * or 2019 form and version echoed, its phone BCD) with msg_id, serial and
 * body_len (<= JT_BODY_MAX) into out, which needs JT_HEADER_2019 bytes.
 * Returns the header's length (12 or 17).
 */
size_t jt_header_encode(const struct jt_header *to, uint16_t msg_id,
                        uint16_t serial, size_t body_len, uint8_t *out);

#endif
