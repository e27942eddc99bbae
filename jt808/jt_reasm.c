/*
 * jt_reasm.c - subpackage reassembly: the parts of one message (header
 * bit 13, packet count and index) collected in the caller's buffer in
 * arrival order, with a small index of where each part is, and copied out
 * in index order once all have come. One message at a time per terminal
 * (a terminal sends its long message before the next); a part of another
 * message drops the incomplete one. Time is the caller's "now".
 */
#include <string.h>

#include "jt808/jt808.h"

void
jt_reasm_init(struct jt_reasm *r, uint8_t *buf, size_t cap, int64_t timeout_us)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->cap = cap;
	r->timeout_us = timeout_us;
}

static void
reset(struct jt_reasm *r)
{
	r->active = false;
	r->used = 0;
	r->have = 0;
	r->part_seen = 0;
}

bool
jt_reasm_expire(struct jt_reasm *r, int64_t now_us)
{
	if (!r->active || now_us - r->started_us < r->timeout_us)
		return false;
	r->dropped_timeout++;
	reset(r);
	return true;
}

/* Is part one of the message being collected? */
static bool
same_message(const struct jt_reasm *r, const struct jt_header *h)
{
	return h->msg_id == r->first.msg_id && h->pkt_count == r->first.pkt_count &&
	       (uint16_t)(h->serial - (h->pkt_index - 1)) == r->base_serial &&
	       strcmp(h->phone, r->first.phone) == 0;
}

enum jt_err
jt_reasm_add(struct jt_reasm *r, const struct jt_msg *part, int64_t now_us,
             uint8_t *out, size_t out_cap, struct jt_msg *whole)
{
	const struct jt_header *h = &part->h;
	unsigned i = h->pkt_index;
	size_t total = 0;

	if (!h->subpackage || h->pkt_count == 0 || i == 0 || i > h->pkt_count)
		return JT_E_PACKET;
	if (h->pkt_count > JT_REASM_PARTS_MAX) {
		r->dropped_full++;
		return JT_E_PACKET;
	}
	jt_reasm_expire(r, now_us);
	if (r->active && !same_message(r, h)) {
		r->dropped_replaced++;
		reset(r);
	}
	if (!r->active) {
		r->active = true;
		r->started_us = now_us;
		r->first = *h;
		r->base_serial = (uint16_t)(h->serial - (i - 1));
	}
	if (r->part_seen & (1ull << (i - 1))) {
		r->duplicates++;
		return JT_NEED_MORE;
	}
	if (part->body_len > JT_BODY_MAX || part->body_len > r->cap - r->used) {
		r->dropped_full++;
		reset(r);
		return JT_E_REASM_FULL;
	}
	memcpy(r->buf + r->used, part->body, part->body_len);
	r->off[i - 1] = (uint32_t)r->used;
	r->len[i - 1] = (uint32_t)part->body_len;
	r->used += part->body_len;
	r->part_seen |= 1ull << (i - 1);
	if (++r->have < h->pkt_count)
		return JT_NEED_MORE;

	if (r->used > out_cap) {
		r->dropped_full++;
		reset(r);
		return JT_E_NO_SPACE;
	}
	for (unsigned k = 0; k < h->pkt_count; k++) {
		memcpy(out + total, r->buf + r->off[k], r->len[k]);
		total += r->len[k];
	}
	memset(whole, 0, sizeof(*whole));
	whole->h = r->first;
	whole->h.subpackage = false;
	whole->h.attr &= (uint16_t)~JT_ATTR_SUBPACKAGE;
	whole->h.pkt_count = 0;
	whole->h.pkt_index = 0;
	whole->h.serial = h->serial;
	whole->h.body_len = (uint16_t)(total > 0xffff ? 0xffff : total);
	whole->body = out;
	whole->body_len = total;
	r->completed++;
	reset(r);
	return JT_OK;
}
