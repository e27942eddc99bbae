/*
 * gw_copyarr.c - COPY text rows to one array literal per column (see
 * gw_copyarr.h). The decoding follows PostgreSQL's own (copyfromparse.c,
 * CopyReadLineText and CopyReadAttributesText, FORMAT text): a field is
 * NULL only when its raw text is exactly \N; a backslash escapes the byte
 * after it, even a newline; what PostgreSQL refuses in COPY data is
 * refused here too, so that a record fails the same way whichever path
 * writes it.
 */
#include "gateway/gw_copyarr.h"

#include <stdbool.h>
#include <string.h>

void
gw_arrays_reset(struct gw_arrays *a, size_t ncols)
{
	if (ncols > GW_ARR_COLS)
		ncols = GW_ARR_COLS;
	a->ncols = ncols;
	a->nrows = 0;
	for (size_t i = 0; i < GW_ARR_COLS; i++) {
		a->col[i].len = 0;
		a->param[i] = NULL;
	}
}

void
gw_arrays_free(struct gw_arrays *a)
{
	for (size_t i = 0; i < GW_ARR_COLS; i++) {
		gw_buf_free(&a->col[i]);
		a->param[i] = NULL;
	}
	a->ncols = 0;
	a->nrows = 0;
}

const char *
gw_arrays_strerror(int rc)
{
	switch (rc) {
	case GW_ARR_OK:
		return "ok";
	case GW_ARR_EFORMAT:
		return "not COPY text of the expected columns";
	case GW_ARR_ENOMEM:
		return "out of memory";
	default:
		return "unknown error";
	}
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
gw_copy_next_byte(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	unsigned c = *p++;

	if (c == '\r' || c == 0)
		return -1;   /* PostgreSQL: literal carriage return; no NUL in text */
	if (c == '\\') {
		if (p == end)
			return -1;
		c = *p++;
		switch (c) {
		case '0': case '1': case '2': case '3':
		case '4': case '5': case '6': case '7':
			c -= '0';
			for (int k = 0; k < 2 && p < end && *p >= '0' && *p <= '7'; k++)
				c = (c << 3) + (unsigned)(*p++ - '0');
			c &= 0377;
			break;
		case 'x':
			if (p < end && hexval(*p) >= 0) {
				c = (unsigned)hexval(*p++);
				if (p < end && hexval(*p) >= 0)
					c = (c << 4) + (unsigned)hexval(*p++);
			}
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'v': c = '\v'; break;
		case '.': return -1;   /* the end-of-data marker */
		default: break;        /* the byte itself */
		}
		if (c == 0)
			return -1;
	}
	*pp = p;
	return (int)c;
}

int
gw_copy_walk(const char *s, size_t len, size_t ncols, gw_copy_field_fn *fn, void *arg,
	     uint64_t *rows)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	if (ncols == 0)
		return len ? GW_ARR_EFORMAT : GW_ARR_OK;
	while (p < end) {
		size_t col = 0;

		for (;;) {
			const unsigned char *f = p;
			int rc;

			/* The field's end: an unescaped tab or newline. */
			while (p < end && *p != '\t' && *p != '\n') {
				if (*p == '\\' && ++p == end)
					return GW_ARR_EFORMAT;   /* a backslash ends the data */
				p++;
			}
			if (p == end || col == ncols)
				return GW_ARR_EFORMAT;   /* no newline, or too many columns */
			rc = fn(arg, col, f, (size_t)(p - f));
			if (rc != GW_ARR_OK)
				return rc;
			col++;
			if (*p++ == '\n')
				break;
		}
		if (col != ncols)
			return GW_ARR_EFORMAT;   /* too few columns */
		(*rows)++;
	}
	return GW_ARR_OK;
}

/*
 * One field's raw text p[0 .. n) (no unescaped tab or newline in it) as
 * an element of its column's literal, after a comma unless it is the
 * first.
 */
static int
put_field(void *arg, size_t col, const unsigned char *p, size_t n)
{
	struct gw_arrays *a = arg;
	struct gw_buf *out = &a->col[col];
	const unsigned char *end = p + n;
	char *o;

	if (out->len == 0 && gw_buf_add(out, "{", 1) != 0)
		return GW_ARR_ENOMEM;
	if (gw_buf_reserve(out, 2 * n + 8) != 0)
		return GW_ARR_ENOMEM;
	o = out->p + out->len;
	if (a->nrows != 0)
		*o++ = ',';
	if (n == 2 && p[0] == '\\' && p[1] == 'N') {
		memcpy(o, "NULL", 4);
		out->len = (size_t)(o + 4 - out->p);
		return GW_ARR_OK;
	}
	*o++ = '"';
	while (p < end) {
		int c = gw_copy_next_byte(&p, end);

		if (c < 0)
			return GW_ARR_EFORMAT;
		if (c == '"' || c == '\\')
			*o++ = '\\';
		*o++ = (char)c;
	}
	*o++ = '"';
	out->len = (size_t)(o - out->p);
	return GW_ARR_OK;
}

int
gw_arrays_add_copy(struct gw_arrays *a, const char *s, size_t len)
{
	return gw_copy_walk(s, len, a->ncols, put_field, a, &a->nrows);
}

int
gw_arrays_finish(struct gw_arrays *a)
{
	for (size_t i = 0; i < a->ncols; i++) {
		if (a->col[i].len == 0 && gw_buf_add(&a->col[i], "{", 1) != 0)
			return GW_ARR_ENOMEM;
		if (gw_buf_add(&a->col[i], "}", 2) != 0)   /* with the NUL */
			return GW_ARR_ENOMEM;
		a->col[i].len--;
		a->param[i] = a->col[i].p;
	}
	return GW_ARR_OK;
}
