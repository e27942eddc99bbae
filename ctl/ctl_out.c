/*
 * ctl_out.c: rows out in the three formats of hazgate-ctl.
 *
 * A command builds each row as a JSON object (keys in column order) and
 * hands it over; the writer prints it as one JSON object per line, as CSV
 * (RFC 4180 quoting, LF line ends, a header line of the keys), or as a human table whose columns
 * are as wide as their widest cell. Table widths count East Asian wide
 * characters (plates like 晋A12345) as two columns. In a table, NULL is "-",
 * arrays are joined with commas, objects are compact JSON, and columns
 * flagged CTL_COL_LOCALTIME show their RFC 3339 time in the configured zone.
 */
#include "ctl/ctl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct ctl_out {
	enum ctl_format fmt;
	const struct ctl_column *cols;
	size_t ncols;
	FILE *fp;
	bool stream;
	bool header_done;
	size_t nrows;
	json_t *rows; /* buffered table rows (arrays of cell strings) */
	size_t *width;
};

ctl_out *
ctl_out_new(enum ctl_format fmt, const struct ctl_column *cols, size_t ncols, FILE *fp, bool stream)
{
	ctl_out *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	o->fmt = fmt;
	o->cols = cols;
	o->ncols = ncols;
	o->fp = fp;
	o->stream = stream;
	o->rows = json_array();
	o->width = calloc(ncols ? ncols : 1, sizeof *o->width);
	if (!o->rows || !o->width) {
		ctl_out_free(o);
		return NULL;
	}
	return o;
}

void
ctl_out_free(ctl_out *o)
{
	if (!o)
		return;
	json_decref(o->rows);
	free(o->width);
	free(o);
}

/* Display columns of a UTF-8 string (wide CJK forms count two). */
static size_t
display_width(const char *s)
{
	size_t w = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned cp;
		int n;
		if (*p < 0x80) {
			cp = *p;
			n = 1;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			n = 2;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			n = 3;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			n = 4;
		} else {
			p++;
			w++;
			continue;
		}
		int i = 1;
		for (; i < n && (p[i] & 0xc0) == 0x80; i++)
			cp = (cp << 6) | (p[i] & 0x3f);
		p += i;
		if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
		    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
		    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
		    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd))
			w += 2;
		else
			w += 1;
	}
	return w;
}

/* Text of one value for a table or CSV cell; malloc'd. */
static char *
cell_text(const json_t *v, unsigned flags, bool table)
{
	char buf[64];
	switch (json_typeof(v)) {
	case JSON_NULL:
		return strdup(table ? "-" : "");
	case JSON_STRING:
		if ((flags & CTL_COL_LOCALTIME) && table) {
			int64_t us;
			if (ctl_time_parse(json_string_value(v), &us) == 0) {
				ctl_time_format_local(us, buf);
				return strdup(buf);
			}
		}
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		if ((flags & CTL_COL_DURATION) && table) {
			json_int_t s = json_integer_value(v);
			const char *sign = s < 0 ? "-" : "";
			if (s < 0)
				s = -s;
			if (s >= 86400)
				snprintf(buf, sizeof buf, "%s%lldd %02lldh", sign,
					 (long long)(s / 86400), (long long)(s % 86400 / 3600));
			else if (s >= 3600)
				snprintf(buf, sizeof buf, "%s%lldh %02lldm", sign,
					 (long long)(s / 3600), (long long)(s % 3600 / 60));
			else if (s >= 60)
				snprintf(buf, sizeof buf, "%s%lldm %02llds", sign,
					 (long long)(s / 60), (long long)(s % 60));
			else
				snprintf(buf, sizeof buf, "%s%llds", sign, (long long)s);
			return strdup(buf);
		}
		snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return strdup(buf);
	case JSON_REAL:
		snprintf(buf, sizeof buf, "%.15g", json_real_value(v));
		return strdup(buf);
	case JSON_TRUE:
		return strdup(table ? "yes" : "true");
	case JSON_FALSE:
		return strdup(table ? "no" : "false");
	case JSON_ARRAY: {
		size_t cap = 1, used = 0;
		char *out = malloc(cap);
		if (!out)
			return NULL;
		out[0] = '\0';
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
		{
			char *t = cell_text(e, 0, table);
			if (!t)
				continue;
			size_t need = used + strlen(t) + 2;
			if (need > cap) {
				char *n = realloc(out, need);
				if (!n) {
					free(t);
					break;
				}
				out = n;
				cap = need;
			}
			used += (size_t)sprintf(out + used, "%s%s", i ? "," : "", t);
			free(t);
		}
		if (table && used == 0) {
			free(out);
			return strdup("-");
		}
		return out;
	}
	case JSON_OBJECT:
	default:
		return ctl_json_line(v);
	}
}

static void
csv_field(FILE *fp, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static const char *
header_of(const struct ctl_column *c, char *buf, size_t size)
{
	if (c->header)
		return c->header;
	size_t i = 0;
	for (; c->key[i] && i + 1 < size; i++)
		buf[i] = (char)toupper((unsigned char)c->key[i]);
	buf[i] = '\0';
	return buf;
}

static void
table_line(ctl_out *o, json_t *cells)
{
	size_t last = 0;
	for (size_t c = 0; c < o->ncols; c++)
		if (!(o->cols[c].flags & CTL_COL_NOTABLE))
			last = c;
	for (size_t c = 0; c < o->ncols; c++) {
		if (o->cols[c].flags & CTL_COL_NOTABLE)
			continue;
		const char *s = json_string_value(json_array_get(cells, c));
		if (!s)
			s = "";
		size_t w = display_width(s);
		size_t pad = o->width[c] > w ? o->width[c] - w : 0;
		if (o->cols[c].flags & CTL_COL_RIGHT)
			fprintf(o->fp, "%*s%s", (int)pad, "", s);
		else if (c == last)
			fputs(s, o->fp);
		else
			fprintf(o->fp, "%s%*s", s, (int)pad, "");
		if (c != last)
			fputs("  ", o->fp);
	}
	fputc('\n', o->fp);
}

static json_t *
header_cells(ctl_out *o)
{
	json_t *cells = json_array();
	char buf[64];
	for (size_t c = 0; c < o->ncols; c++)
		json_array_append_new(cells, json_string(header_of(&o->cols[c], buf, sizeof buf)));
	return cells;
}

/* The CSV header line, once per output. */
static void
csv_header(struct ctl_out *o)
{
	if (o->header_done)
		return;
	for (size_t c = 0; c < o->ncols; c++) {
		if (c)
			fputc(',', o->fp);
		csv_field(o->fp, o->cols[c].key);
	}
	fputs("\n", o->fp);
	o->header_done = true;
}

void
ctl_out_row(ctl_out *o, json_t *row)
{
	if (!row)
		return;
	o->nrows++;
	if (o->fmt == CTL_FMT_JSON) {
		char *line = ctl_json_line(row);
		if (line) {
			fputs(line, o->fp);
			fputc('\n', o->fp);
			free(line);
		}
		json_decref(row);
		if (o->stream)
			fflush(o->fp);
		return;
	}
	if (o->fmt == CTL_FMT_CSV) {
		csv_header(o);
		for (size_t c = 0; c < o->ncols; c++) {
			char *t = cell_text(json_object_get(row, o->cols[c].key)
						    ? json_object_get(row, o->cols[c].key)
						    : json_null(),
					    o->cols[c].flags, false);
			if (c)
				fputc(',', o->fp);
			csv_field(o->fp, t ? t : "");
			free(t);
		}
		fputs("\n", o->fp);
		json_decref(row);
		if (o->stream)
			fflush(o->fp);
		return;
	}
	/* table */
	json_t *cells = json_array();
	for (size_t c = 0; c < o->ncols; c++) {
		json_t *v = json_object_get(row, o->cols[c].key);
		char *t = cell_text(v ? v : json_null(), o->cols[c].flags, true);
		json_array_append_new(cells, json_string(t ? t : "?"));
		size_t w = display_width(t ? t : "?");
		if (w > o->width[c] && !o->stream)
			o->width[c] = w;
		free(t);
	}
	json_decref(row);
	if (o->stream) {
		if (!o->header_done) {
			json_t *h = header_cells(o);
			for (size_t c = 0; c < o->ncols; c++) {
				size_t w = display_width(json_string_value(json_array_get(h, c)));
				size_t min = (o->cols[c].flags & CTL_COL_LOCALTIME)
						     ? 19
						     : o->cols[c].width;
				o->width[c] = w > min ? w : min;
			}
			table_line(o, h);
			json_decref(h);
			o->header_done = true;
		}
		table_line(o, cells);
		json_decref(cells);
		fflush(o->fp);
		return;
	}
	json_array_append_new(o->rows, cells);
}

size_t
ctl_out_finish(ctl_out *o)
{
	if (o->fmt == CTL_FMT_TABLE && !o->stream && json_array_size(o->rows) > 0) {
		json_t *h = header_cells(o);
		for (size_t c = 0; c < o->ncols; c++) {
			size_t w = display_width(json_string_value(json_array_get(h, c)));
			if (w > o->width[c])
				o->width[c] = w;
		}
		table_line(o, h);
		json_decref(h);
		size_t i;
		json_t *cells;
		json_array_foreach(o->rows, i, cells) table_line(o, cells);
		json_array_clear(o->rows);
	}
	if (o->fmt == CTL_FMT_CSV)
		csv_header(o);
	fflush(o->fp);
	return o->nrows;
}
