/*
 * fuzz_copybin.h - the contract of gw_copybin_rows (gateway/gw_copybin.c),
 * shared by its libFuzzer target (tests/fuzz/fuzz_gateway_copybin.c) and
 * its unit test (tests/unit/test_gateway_copybin.c): a reader of the
 * binary COPY tuples it writes, each value compared with what
 * PostgreSQL's text input makes of the field's text, computed another way
 * (the C library's strtod, strtof, strtoll and timegm).
 */
#ifndef HAZGATE_FUZZ_COPYBIN_H
#define HAZGATE_FUZZ_COPYBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/gw_copyarr.h"
#include "gateway/gw_copybin.h"

static inline uint64_t
fuzz_be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The fields of the text rows, decoded, for the comparison. */
struct fuzz_fields {
	char (*f)[256];   /* decoded bytes, NUL-terminated (shorter than 256 or skipped) */
	size_t *len;
	bool *null, *longf;
	size_t n, cap;
};

static inline int
fuzz_collect(void *arg, size_t col, const unsigned char *raw, size_t n)
{
	struct fuzz_fields *ff = arg;
	const unsigned char *end = raw + n;
	size_t k = ff->n, l = 0;

	(void)col;
	if (k == ff->cap)
		return GW_ARR_ENOMEM;
	ff->null[k] = n == 2 && raw[0] == '\\' && raw[1] == 'N';
	ff->longf[k] = false;
	while (!ff->null[k] && raw < end) {
		int b = gw_copy_next_byte(&raw, end);

		if (b < 0)
			return GW_ARR_EFORMAT;
		if (l < 255)
			ff->f[k][l++] = (char)b;
		else
			ff->longf[k] = true;
	}
	ff->f[k][l] = '\0';
	ff->len[k] = l;
	ff->n++;
	return GW_ARR_OK;
}

/* The value the server's text input gives field s (a form gw_copybin
 * converts), against the binary value v of length len. */
static inline bool
fuzz_bin_same(enum gw_bin_type t, const char *s, size_t slen, const unsigned char *v,
	      int64_t len)
{
	switch (t) {
	case GW_BIN_TEXT:
		return len == (int64_t)slen && memcmp(v, s, slen) == 0;
	case GW_BIN_FLOAT8: {
		double d = strtod(s, NULL);
		uint64_t bits;

		memcpy(&bits, &d, 8);
		return len == 8 && fuzz_be(v, 8) == bits;
	}
	case GW_BIN_FLOAT4: {
		float f = strtof(s, NULL);
		uint32_t bits;

		memcpy(&bits, &f, 4);
		return len == 4 && fuzz_be(v, 4) == bits;
	}
	case GW_BIN_INT2:
		return len == 2 && (int16_t)fuzz_be(v, 2) == strtoll(s, NULL, 10);
	case GW_BIN_INT4:
		return len == 4 && (int32_t)fuzz_be(v, 4) == strtoll(s, NULL, 10);
	case GW_BIN_INT8:
		return len == 8 && (int64_t)fuzz_be(v, 8) == strtoll(s, NULL, 10);
	case GW_BIN_BOOL:
		return len == 1 && v[0] == (s[0] == 't');
	case GW_BIN_TSTZ: {
		struct tm tm = { 0 };
		long us = 0;
		int pos = 0;
		char frac[8] = "000000";

		if (len != 8 || sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
				       &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &pos) != 6)
			return false;
		if (s[pos] == '.') {
			size_t k = strspn(s + pos + 1, "0123456789");

			memcpy(frac, s + pos + 1, k);
			us = strtol(frac, NULL, 10);
		}
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		return (int64_t)fuzz_be(v, 8) ==
		       ((int64_t)timegm(&tm) - 946684800) * 1000000 + us;
	}
	case GW_BIN_INT4_ARRAY: {
		const char *p = s + 1;
		uint64_t k = 0;

		if (len < 12 || fuzz_be(v + 8, 4) != 23 || fuzz_be(v + 4, 4) != 0)
			return false;
		if (slen == 2)
			return len == 12 && fuzz_be(v, 4) == 0;
		if (fuzz_be(v, 4) != 1 || fuzz_be(v + 16, 4) != 1)
			return false;
		for (;; k++) {
			char *e;
			long long x = strtoll(p, &e, 10);

			if ((int64_t)(20 + 8 * k + 8) > len || fuzz_be(v + 20 + 8 * k, 4) != 4 ||
			    (int32_t)fuzz_be(v + 24 + 8 * k, 4) != x)
				return false;
			if (*e == '}')
				break;
			p = e + 1;
		}
		return fuzz_be(v + 12, 4) == k + 1 && len == (int64_t)(20 + 8 * (k + 1));
	}
	default:
		return false;
	}
}

/*
 * The contract on one input: data as COPY text of ncols columns of types.
 * Returns 0 when it holds, -1 when it is broken. gw_copybin_rows appends
 * to a buffer that holds a few bytes already: refused (GW_BIN_EVALUE),
 * they are all it holds and rows is unchanged; accepted, it holds them and
 * the tuples, one per text row, each of ncols fields, each field NULL
 * exactly where the text says \N and else the value the server's text
 * input gives (fuzz_bin_same), and nothing after.
 */
static inline int
fuzz_copybin_check(const enum gw_bin_type *types, size_t ncols, const char *data, size_t len)
{
	enum { CAP = 4096 };
	static char f[CAP][256];
	static size_t flen[CAP];
	static bool fnull[CAP], flong[CAP];
	struct fuzz_fields ff = { f, flen, fnull, flong, 0, CAP };
	struct gw_buf out = { 0 };
	uint64_t rows = 7, trows = 0;
	const unsigned char *p, *end;
	size_t k = 0;
	int rc, ret = -1;

	if (gw_buf_add(&out, "pre", 3) != 0)
		return 0;
	rc = gw_copybin_rows(&out, types, ncols, data, len, &rows);
	if (rc == GW_BIN_ENOMEM) {
		ret = out.len == 3 && rows == 7 ? 0 : -1;
		goto done;
	}
	if (rc == GW_BIN_EVALUE) {
		ret = out.len == 3 && memcmp(out.p, "pre", 3) == 0 && rows == 7 ? 0 : -1;
		goto done;
	}
	if (rc != GW_BIN_OK || memcmp(out.p, "pre", 3) != 0)
		goto done;
	/* accepted: the text must be rows of ncols fields */
	if (gw_copy_walk(data, len, ncols, fuzz_collect, &ff, &trows) != GW_ARR_OK) {
		ret = ff.n == CAP ? 0 : -1;   /* too many fields to compare: not checked */
		goto done;
	}
	if (rows != 7 + trows)
		goto done;
	p = (const unsigned char *)out.p + 3;
	end = (const unsigned char *)out.p + out.len;
	for (uint64_t r = 0; r < trows; r++) {
		if (end - p < 2 || fuzz_be(p, 2) != ncols)
			goto done;
		p += 2;
		for (size_t c = 0; c < ncols; c++, k++) {
			int64_t l;

			if (end - p < 4)
				goto done;
			l = (int32_t)fuzz_be(p, 4);
			p += 4;
			if ((l == -1) != fnull[k] || (l != -1 && (l < 0 || end - p < l)))
				goto done;
			if (l == -1)
				continue;
			if (!flong[k] && !fuzz_bin_same(types[c], f[k], flen[k], p, l))
				goto done;
			p += l;
		}
	}
	ret = p == end ? 0 : -1;
done:
	gw_buf_free(&out);
	return ret;
}

#endif
