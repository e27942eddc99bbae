/*
 * fuzz_ctl_slices.c - libFuzzer target for hazgate-ctl's decoder of stored
 * positions (ctl/ctl_slices.c): PostgreSQL's binary array format, a
 * slice of positions_slices and a row of positions_recent, as the server
 * sends them in binary; a damaged or hostile database must give an error,
 * never a crash.
 *
 * Input layout: byte 0 picks the decoder (even: a slice, odd: a row);
 * then each column in turn as a 2-byte big-endian length (0xffff: NULL)
 * and that many bytes, until the input ends (the columns left are NULL).
 * The time range comes from bytes 1 and 2. Besides the sanitizers, the
 * target aborts when a result breaks the contract: an error has a
 * message; the fixes' zone arrays are readable and print as JSON; every
 * float the decoder gives has a text that reads back as itself, bit for
 * bit; the fixes sort into ts order.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_slices.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_float_texts(const struct ctl_fix *x)
{
	char b[CTL_FLOAT_TEXT_MAX];
	const double d[] = { x->lat, x->lon };
	for (int k = 0; k < 2; k++) {
		int n = ctl_float8_text(d[k], b);
		if (n <= 0 || n >= CTL_FLOAT_TEXT_MAX || (int)strlen(b) != n)
			abort();
		double back = strtod(b, NULL);
		if (!(isnan(d[k]) ? isnan(back) : memcmp(&back, &d[k], sizeof back) == 0))
			abort();
	}
	const float f[] = { x->speed, x->heading, x->alt, x->hdop };
	for (int k = 0; k < 4; k++) {
		int n = ctl_float4_text(f[k], b);
		if (n <= 0 || n >= CTL_FLOAT_TEXT_MAX)
			abort();
		float back = strtof(b, NULL);
		if (!(isnan(f[k]) ? isnan(back) : memcmp(&back, &f[k], sizeof back) == 0))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	bool row = data[0] & 1;
	/* a range of whole hours around 2026-03-28, cut from the input */
	int64_t base = INT64_C(1774656000000000), hour = INT64_C(3600000000);
	int64_t from = base + (int64_t)(int8_t)data[1] * hour / 4;
	int64_t to = from + (int64_t)data[2] * hour / 8;
	size_t pos = 3;
	int ncols = row ? CTL_RC_NCOLS : CTL_SC_NCOLS;
	struct ctl_pgval col[CTL_SC_NCOLS];
	memset(col, 0, sizeof col);
	/* each column's bytes copied, so that a read past them is seen */
	uint8_t *copies[CTL_SC_NCOLS] = { 0 };
	for (int k = 0; k < ncols && pos + 2 <= size; k++) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (len == 0xffff)
			continue;
		if (len > size - pos)
			len = size - pos;
		copies[k] = malloc(len ? len : 1);
		memcpy(copies[k], data + pos, len);
		col[k] = (struct ctl_pgval){ copies[k], len };
		pos += len;
	}
	struct ctl_fixes f = { 0 };
	char err[600] = "";
	int rc = row ? ctl_row_decode(col, &f, err, sizeof err)
		     : ctl_slice_decode(col, from, to, &f, err, sizeof err);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1 && err[0] == '\0')
		abort();
	for (size_t i = 0; i < f.n; i++) {
		const struct ctl_fix *x = &f.v[i];
		char z[1 << 16];
		if (x->nzones < 0 || (x->nzones > 0 && !x->zones))
			abort();
		if (x->nzones < 4000 && ctl_zones_json(x, z, sizeof z) < 2)
			abort();
		check_float_texts(x);
	}
	ctl_fixes_sort(&f);
	for (size_t i = 1; i < f.n; i++)
		if (f.v[i].ts_us < f.v[i - 1].ts_us)
			abort();
	ctl_fixes_clear(&f);
	for (int k = 0; k < ncols; k++)
		free(copies[k]);
	return 0;
}
