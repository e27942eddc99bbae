/*
 * gw_copybin.h - rows of COPY text turned into PostgreSQL's binary COPY
 * format (gw_copybin.c), so that the server stores a batch's positions
 * without parsing text: no timestamp, float or array input functions per
 * fix (issue 15: text input was about a third of the COPY's backend CPU
 * once the key was paid). The spool keeps COPY text; the writer converts
 * a group's positions when it sends them. Pure: no libpq.
 *
 * A value is converted only when its binary form is exactly what
 * PostgreSQL's text input would have stored (the forms the batch writer
 * makes, gw_batch_add_position); anything else makes the conversion fail,
 * and the caller sends the text as it is, so the server decides as before.
 */
#ifndef HAZGATE_GW_COPYBIN_H
#define HAZGATE_GW_COPYBIN_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/gw_batch.h"

/* A column's type, as the table declares it. */
enum gw_bin_type {
	GW_BIN_TEXT,        /* text: the decoded bytes */
	GW_BIN_TSTZ,        /* timestamptz from "YYYY-MM-DD HH:MM:SS[.f{1,6}]+00" */
	GW_BIN_FLOAT8,      /* double precision: -?digits[.digits][e[+-]digits] */
	GW_BIN_FLOAT4,      /* real: the same text, read as a float */
	GW_BIN_INT2,        /* smallint: -?digits in range */
	GW_BIN_INT4,        /* integer */
	GW_BIN_INT8,        /* bigint */
	GW_BIN_BOOL,        /* boolean: t or f */
	GW_BIN_INT4_ARRAY,  /* integer[]: {} or {n,n,...}, one dimension, no NULL */
};

/* The columns of a positions row, in gw_batch_add_position's order
 * (GW_BATCH_POS_FIELDS of them). */
extern const enum gw_bin_type gw_copybin_pos_types[GW_BATCH_POS_FIELDS];

enum gw_bin_err {
	GW_BIN_OK = 0,
	GW_BIN_EVALUE = -1,   /* not rows of ncols columns, or a value not in a form above
	                         (NULL, \N, is always one) */
	GW_BIN_ENOMEM = -2,
};

/* Append the binary COPY header (signature, flags, no extension). Returns
 * GW_BIN_OK or GW_BIN_ENOMEM. */
int gw_copybin_header(struct gw_buf *out);

/*
 * Append the rows of p[0 .. len) (COPY text, as gw_arrays_add_copy reads
 * it, of ncols columns of types[]) as binary COPY tuples; *rows counts
 * them. Returns GW_BIN_OK, GW_BIN_EVALUE (out is then back at its length
 * before the call, *rows as it was) or GW_BIN_ENOMEM (the same).
 */
int gw_copybin_rows(struct gw_buf *out, const enum gw_bin_type *types, size_t ncols,
		    const char *p, size_t len, uint64_t *rows);

/* Append the trailer (the end of the data). Returns GW_BIN_OK or
 * GW_BIN_ENOMEM. */
int gw_copybin_trailer(struct gw_buf *out);

const char *gw_copybin_strerror(int rc);

#endif
