/*
 * gw_copyarr.h - rows of COPY text turned into one PostgreSQL array literal
 * per column (gw_copyarr.c), so that a batch's section can be written by
 * one prepared INSERT ... SELECT FROM unnest($1::text[], $2::...[], ...)
 * instead of a COPY into a temporary staging table that every COMMIT must
 * empty (issue 15). Pure: no libpq.
 */
#ifndef HAZGATE_GW_COPYARR_H
#define HAZGATE_GW_COPYARR_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/gw_batch.h"

/* Columns at most. */
#define GW_ARR_COLS 16

enum gw_arr_err {
	GW_ARR_OK = 0,
	GW_ARR_EFORMAT = -1,   /* not COPY text of ncols columns, or a value PostgreSQL
	                          would refuse in any column (a NUL byte, a bare
	                          carriage return, the end-of-data marker) */
	GW_ARR_ENOMEM = -2,
};

struct gw_arrays {
	struct gw_buf col[GW_ARR_COLS];   /* "{...": one array literal per column */
	/* After gw_arrays_finish: col[i].p, NUL-terminated, as libpq text
	 * parameters ($1 .. $ncols). */
	const char *param[GW_ARR_COLS];
	size_t ncols;
	uint64_t nrows;
};

/* Start empty arrays of ncols columns (1 .. GW_ARR_COLS), keeping the
 * buffers of an earlier use. a must be zeroed before its first use. */
void gw_arrays_reset(struct gw_arrays *a, size_t ncols);

/*
 * Append the rows of p[0 .. len): COPY text as PostgreSQL reads it
 * (FORMAT text, the default delimiter and NULL: columns separated by tabs,
 * each row ended by a newline, \N alone for NULL, the backslash escapes
 * \b \f \n \r \t \v \\, \ddd octal, \xhh hex, and a backslash before any
 * other byte standing for that byte). Each value goes to its column as an
 * array element: NULL, or the decoded bytes in double quotes with " and \
 * escaped by a backslash. Returns GW_ARR_OK, GW_ARR_EFORMAT (a row with
 * another number of columns, a last row without its newline, a NUL byte,
 * raw or decoded, a bare carriage return, a backslash-dot) or
 * GW_ARR_ENOMEM;
 * after an error the arrays hold part of p and only gw_arrays_reset makes
 * them usable again. Bytes are not checked as UTF-8: PostgreSQL checks the
 * parameters as it would have checked the COPY data.
 */
int gw_arrays_add_copy(struct gw_arrays *a, const char *p, size_t len);

/*
 * The walk under gw_arrays_add_copy, for other readers of COPY text
 * (gw_copybin.c): fn(arg, col, raw, n) for each field of p[0 .. len), in
 * order, with its raw text (escapes not decoded, no unescaped tab or
 * newline); *rows counts each complete row. Stops at the first return of
 * fn that is not GW_ARR_OK and returns it; else GW_ARR_OK, or
 * GW_ARR_EFORMAT for text that is not rows of ncols columns (as
 * gw_arrays_add_copy says).
 */
typedef int gw_copy_field_fn(void *arg, size_t col, const unsigned char *raw, size_t n);
int gw_copy_walk(const char *p, size_t len, size_t ncols, gw_copy_field_fn *fn, void *arg,
		 uint64_t *rows);

/* The next byte of a field's raw text at *p (before end), its escape
 * decoded as PostgreSQL's COPY does; *p moves past it. Returns the byte,
 * or -1 for what PostgreSQL refuses there (a NUL, raw or decoded, a bare
 * carriage return, a backslash-dot, a backslash at the end). */
int gw_copy_next_byte(const unsigned char **p, const unsigned char *end);

/* Close the literals ("}") and set param[]. Returns GW_ARR_OK or
 * GW_ARR_ENOMEM. */
int gw_arrays_finish(struct gw_arrays *a);

void gw_arrays_free(struct gw_arrays *a);
const char *gw_arrays_strerror(int rc);

#endif
