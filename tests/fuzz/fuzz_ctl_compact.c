/*
 * fuzz_ctl_compact.c - libFuzzer target for hazgate-ctl compact's reader
 * and encoder (ctl/ctl_compact_enc.c): the fields of a day's fixes as
 * PostgreSQL would send them in binary, then the fixes that parse made one
 * slice, and the slice written.
 *
 * Input: fields one after another, each a 2-byte big-endian length (0xffff:
 * NULL) and that many bytes (fewer when the input ends), CTL_FIX_COLS to a
 * fix, at most 64 fixes. Each fix goes through ctl_cenc_fix_parse; the
 * parsed ones are moved into one hour in ts order (their times modulo an
 * hour, sorted) and encoded by ctl_cenc_slice. Besides crashes and
 * sanitizer reports, the target aborts when a result breaks the contract:
 * a slice written is one binary COPY row of 58 fields whose lengths add up
 * (arrays: one dimension, as many elements as fixes or zone ids); a refused
 * slice names a fix and leaves the buffer as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_compact_enc.h"

#define MAX_FIXES 64
#define H         INT64_C(3600000000)

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
by_ts(const void *a, const void *b)
{
	const struct ctl_fix *x = a, *y = b;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* The row at b->p[from ..): 58 fields whose lengths add up to the end. */
static void
check_row(const struct ctl_buf *b, size_t from)
{
	const uint8_t *p = b->p + from;
	size_t n = b->len - from, at = 2;
	if (n < 2 || (p[0] << 8 | p[1]) != 58)
		abort();
	for (int i = 0; i < 58; i++) {
		if (n - at < 4)
			abort();
		int32_t len = (int32_t)rd32(p + at);
		at += 4;
		if (len < -1 || (len >= 0 && n - at < (size_t)len))
			abort();
		/* an array field (past the scalars): one dimension, elements that fit */
		if (len >= 20 && i >= 6 && rd32(p + at) == 1) {
			uint32_t k = rd32(p + at + 12);
			size_t e = at + 20;
			for (uint32_t j = 0; j < k; j++) {
				if (e + 4 > at + (size_t)len)
					abort();
				int32_t l = (int32_t)rd32(p + e);
				e += 4 + (l > 0 ? (size_t)l : 0);
			}
			if (e != at + (size_t)len)
				abort();
		}
		if (len > 0)
			at += (size_t)len;
	}
	if (at != n)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_fix fixes[MAX_FIXES];
	size_t nf = 0, at = 0;

	while (at < size && nf < MAX_FIXES) {
		const char *val[CTL_FIX_COLS];
		int len[CTL_FIX_COLS];
		for (int c = 0; c < CTL_FIX_COLS; c++) {
			size_t l = 0xffff;
			if (size - at >= 2) {
				l = (size_t)data[at] << 8 | data[at + 1];
				at += 2;
			} else {
				at = size;
			}
			if (l == 0xffff) {
				val[c] = "";
				len[c] = -1;
				continue;
			}
			if (l > size - at)
				l = size - at;
			val[c] = (const char *)data + at;
			len[c] = (int)l;
			at += l;
		}
		struct ctl_fix f;
		if (ctl_cenc_fix_parse(&f, val, len) == CTL_CENC_OK) {
			if (!f.vehicle || (f.nulls & 1u << CTL_FIX_TS))
				abort();
			fixes[nf++] = f;
		}
	}
	if (!nf)
		return 0;
	for (size_t i = 0; i < nf; i++) {
		int64_t o = fixes[i].ts % H;
		fixes[i].ts = 5 * H + (o < 0 ? o + H : o);
	}
	qsort(fixes, nf, sizeof fixes[0], by_ts);

	struct ctl_buf b = { 0 };
	ctl_cenc_copy_header(&b);
	size_t from = b.len, bad = 0;
	int rc = ctl_cenc_slice(&b, fixes, nf, &bad);
	if (rc == CTL_CENC_OK)
		check_row(&b, from);
	else if (rc != CTL_CENC_EVALUE || bad >= nf || b.len != from)
		abort();
	ctl_buf_free(&b);
	return 0;
}
