/*
 * fuzz_copyarr.h - the contract of gw_arrays_add_copy (gateway/gw_copyarr.c),
 * shared by its libFuzzer target (tests/fuzz/fuzz_gateway_copyarr.c) and
 * its unit test (tests/unit/test_gateway_copyarr.c): an independent reader
 * of the array literals it makes, as PostgreSQL's array_in reads them.
 */
#ifndef HAZGATE_FUZZ_COPYARR_H
#define HAZGATE_FUZZ_COPYARR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gateway/gw_copyarr.h"

/* Element i (0-based) of the array literal lit, which fuzz_arr_count
 * found well formed: its bytes into out (cap bytes, NUL-terminated), *null
 * for NULL. Returns the element's length (0 for NULL), -1 when there is no
 * element i, -3 when out is too small. */
static inline long
fuzz_arr_elem(const char *lit, size_t i, char *out, size_t cap, bool *null)
{
	const char *p = lit + 1;

	if (*p == '}')
		return -1;
	for (size_t k = 0;; k++) {
		size_t n = 0;

		*null = strncmp(p, "NULL", 4) == 0;
		if (*null) {
			p += 4;
		} else {
			for (p++; *p != '"'; p++) {
				if (*p == '\\')
					p++;
				if (k == i) {
					if (n + 1 >= cap)
						return -3;
					out[n] = *p;
				}
				n++;
			}
			p++;
		}
		if (k == i) {
			if (!*null)
				out[n] = '\0';
			return (long)n;
		}
		if (*p++ == '}')
			return -1;
	}
}

/* How many elements lit has, -2 when it is not well formed. */
static inline long
fuzz_arr_count(const char *lit)
{
	const char *p = lit;
	long n = 0;

	if (*p++ != '{')
		return -2;
	if (*p == '}')
		return p[1] ? -2 : 0;
	for (;;) {
		if (strncmp(p, "NULL", 4) == 0) {
			p += 4;
		} else if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					return -2;
				if (*p == '\\') {
					p++;
					if (*p != '\\' && *p != '"')
						return -2;
				}
			}
			p++;
		} else {
			return -2;
		}
		n++;
		if (*p == '}')
			return p[1] ? -2 : n;
		if (*p++ != ',')
			return -2;
	}
}

/* The contract on one input: data as COPY text of ncols columns. Returns
 * 0 when it holds, -1 when it is broken. Accepted: every literal is well
 * formed and holds nrows elements, and no element holds a NUL byte. */
static inline int
fuzz_copyarr_check(struct gw_arrays *a, size_t ncols, const char *data, size_t len)
{
	int rc;

	gw_arrays_reset(a, ncols);
	rc = gw_arrays_add_copy(a, data, len);
	if (rc == GW_ARR_ENOMEM || rc == GW_ARR_EFORMAT)
		return 0;
	if (rc != GW_ARR_OK || gw_arrays_finish(a) != GW_ARR_OK)
		return -1;
	for (size_t c = 0; c < ncols; c++) {
		if (!a->param[c] || strlen(a->param[c]) != a->col[c].len)
			return -1;   /* a NUL inside the literal */
		if (fuzz_arr_count(a->param[c]) != (long)a->nrows)
			return -1;
	}
	return 0;
}

#endif
