/*
 * jt_frame.c - JT/T 808 framing: the streaming deframer (0x7e delimiters,
 * 0x7d escapes undone, XOR check code verified) and the framer for our
 * own messages. No allocation: the deframer fills the caller's buffer.
 *
 * A 0x7e ends the frame being collected and opens the next, so shared
 * delimiters ("7e A 7e B 7e") work as well as doubled ones; an empty frame
 * ("7e 7e") is no frame. After an error the rest of that frame is skipped
 * up to the next 0x7e, and skipped bytes count towards the garbage bound.
 */
#include <string.h>

#include "jt808/jt808.h"

#define FLAG 0x7e
#define ESC 0x7d

void
jt_deframer_init(struct jt_deframer *d, uint8_t *buf, size_t cap,
                 size_t skip_max)
{
	memset(d, 0, sizeof(*d));
	d->buf = buf;
	d->cap = cap;
	d->skip_max = skip_max;
}

uint8_t
jt_xor(const uint8_t *p, size_t n)
{
	uint8_t x = 0;

	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	return x;
}

/* Lose the frame being collected: skip to the next 0x7e. */
static enum jt_err
drop(struct jt_deframer *d, enum jt_err e)
{
	d->in_frame = false;
	d->escape = false;
	d->len = 0;
	return e;
}

/* The frame in buf is complete (its closing 0x7e was read). */
static enum jt_err
finish(struct jt_deframer *d, const uint8_t **frame, size_t *frame_len)
{
	size_t n = d->len;

	d->len = 0;
	if (d->escape) {        /* 0x7d right before the 0x7e */
		d->escape = false;
		return JT_E_ESCAPE;
	}
	if (n < 2)
		return JT_E_TRUNCATED;
	/* The bytes go out with a bad check code too: the server may read
	 * the header to answer result 2 and keep the raw bytes. */
	*frame = d->buf;
	*frame_len = n - 1;
	return jt_xor(d->buf, n - 1) == d->buf[n - 1] ? JT_OK : JT_E_CHECK;
}

enum jt_err
jt_deframe(struct jt_deframer *d, const uint8_t *in, size_t len,
           size_t *used, const uint8_t **frame, size_t *frame_len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = in[i++];

		if (!d->in_frame) {
			if (c == FLAG) {
				d->in_frame = true;
				d->skipped = 0;
				continue;
			}
			/* Count to one past the bound, report once, then
			 * count again from zero. */
			if (++d->skipped > d->skip_max) {
				d->skipped = 0;
				*used = i;
				return JT_E_GARBAGE;
			}
			continue;
		}
		if (c == FLAG) {
			enum jt_err e;

			if (d->len == 0 && !d->escape)
				continue;       /* an opening or doubled 0x7e */
			e = finish(d, frame, frame_len);
			*used = i;
			return e;
		}
		if (d->escape) {
			d->escape = false;
			if (c == 0x02)
				c = FLAG;
			else if (c == 0x01)
				c = ESC;
			else {
				*used = i;
				return drop(d, JT_E_ESCAPE);
			}
		} else if (c == ESC) {
			d->escape = true;
			continue;
		}
		if (d->len >= d->cap) {
			*used = i;
			return drop(d, JT_E_OVERSIZE);
		}
		d->buf[d->len++] = c;
	}
	*used = i;
	return JT_NEED_MORE;
}

/* Append byte c escaped at out[*n] (cap bytes); false when full. */
static bool
put_escaped(uint8_t *out, size_t cap, size_t *n, uint8_t c)
{
	if (c == FLAG || c == ESC) {
		if (cap - *n < 2)
			return false;
		out[(*n)++] = ESC;
		out[(*n)++] = c == FLAG ? 0x02 : 0x01;
		return true;
	}
	if (cap - *n < 1)
		return false;
	out[(*n)++] = c;
	return true;
}

enum jt_err
jt_frame_encode(const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
                size_t *out_len)
{
	size_t n = 0;
	uint8_t x = 0;

	if (cap < 2)
		return JT_E_NO_SPACE;
	out[n++] = FLAG;
	for (size_t i = 0; i < len; i++) {
		x ^= msg[i];
		if (!put_escaped(out, cap, &n, msg[i]))
			return JT_E_NO_SPACE;
	}
	if (!put_escaped(out, cap, &n, x) || cap - n < 1)
		return JT_E_NO_SPACE;
	out[n++] = FLAG;
	*out_len = n;
	return JT_OK;
}
