/*
 * ctl_regload.c: registry files read and checked (see ctl_regload.h). CSV
 * through libcsv (strict mode: a stray quote is an error), JSON through
 * jansson; the checks reuse ingest's own (ing_vehicle_check,
 * ing_cargo_check), so the registry holds nothing the daemon would
 * refuse in a fix.
 */
#include "ctl/ctl_regload.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ctl_reg_field_names[CTL_REG_NFIELDS] = {
	"vehicle", "un", "hazard_class", "carrier", "driver", "terminal_phone", "routes", "devices",
};

static int
say(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return -1;
}

void
ctl_regrow_clear(struct ctl_regrow *row)
{
	for (int i = 0; i < CTL_REG_NFIELDS; i++) {
		free(row->text[i]);
		row->text[i] = NULL;
	}
	for (size_t i = 0; i < row->ndevices; i++)
		free(row->devices[i]);
	row->ndevices = 0;
}

void
ctl_regfile_free(struct ctl_regfile *f)
{
	for (size_t i = 0; f && i < f->n; i++)
		ctl_regrow_clear(&f->rows[i]);
	if (f) {
		free(f->rows);
		f->rows = NULL;
		f->n = 0;
	}
}

int
ctl_reg_route_parse(const char *s, int64_t *id)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 1 || v > INT32_MAX)
		return -1;
	*id = v;
	return 0;
}

/* Valid UTF-8 (jansson's own check) without control characters. */
static bool
text_ok(const char *s)
{
	json_t *j = json_string(s);

	if (!j)
		return false;
	json_decref(j);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

int
ctl_regrow_check(const struct ctl_regrow *row, int *field, char *err, size_t cap)
{
	struct ing_error ie;

	*field = CTL_REG_VEHICLE;
	if (ing_vehicle_check(row->vehicle, strlen(row->vehicle), &ie) != ING_REASON_NONE)
		return say(err, cap, "%s", ie.message);
	for (int f = CTL_REG_UN; f <= CTL_REG_CLASS; f++) {
		*field = f;
		if (row->text[f] &&
		    ing_cargo_check(row->text[f], ctl_reg_field_names[f], &ie) != ING_REASON_NONE)
			return say(err, cap, "'%s': %s", row->text[f], ie.message);
	}
	for (int f = CTL_REG_CARRIER; f <= CTL_REG_DRIVER; f++) {
		*field = f;
		if (row->text[f] && strlen(row->text[f]) > CTL_REG_TEXT_MAX)
			return say(err, cap, "%zu bytes, at most %d", strlen(row->text[f]),
				   CTL_REG_TEXT_MAX);
		if (row->text[f] && !text_ok(row->text[f]))
			return say(err, cap, "not valid UTF-8, or a control character");
	}
	*field = CTL_REG_PHONE;
	if (row->text[CTL_REG_PHONE]) {
		const char *p = row->text[CTL_REG_PHONE];
		size_t n = strspn(p, "0123456789");
		if (n == 0 || p[n] || n > CTL_REG_PHONE_MAX)
			return say(err, cap,
				   "'%s' is not a terminal phone: 1..%d digits (the BCD digits "
				   "of the JT/T 808 header, leading zeros kept)",
				   p, CTL_REG_PHONE_MAX);
	}
	*field = CTL_REG_ROUTES;
	if (row->nroutes > DECIDE_REG_ROUTES_MAX)
		return say(err, cap, "at most %d routes", DECIDE_REG_ROUTES_MAX);
	for (size_t i = 0; i < row->nroutes; i++)
		if (row->routes[i] < 1 || row->routes[i] > INT32_MAX)
			return say(err, cap, "route %lld is not a zone id (1..2147483647)",
				   (long long)row->routes[i]);
	*field = CTL_REG_DEVICES;
	if (row->ndevices > CTL_REG_DEVICES_MAX)
		return say(err, cap, "at most %d devices", CTL_REG_DEVICES_MAX);
	for (size_t i = 0; i < row->ndevices; i++) {
		const char *d = row->devices[i];
		if (ing_vehicle_check(d, strlen(d), &ie) != ING_REASON_NONE)
			return say(err, cap, "device '%s': %s", d, ie.message);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(row->devices[k], d))
				return say(err, cap, "device '%s' is given twice", d);
	}
	return 0;
}

/* ---- building a row from text fields ---------------------------------- */

/* Split a ';' list (spaces around items ignored, empty items skipped)
 * into the row's routes or devices. */
static int
set_list(struct ctl_regrow *row, int f, const char *s, char *err, size_t cap)
{
	const char *p = s;

	while (*p) {
		const char *e = strchr(p, ';');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n) {
			char item[64];
			if (f == CTL_REG_ROUTES) {
				int64_t id;
				if (n >= sizeof item)
					return say(err, cap, "'%.*s...' is not a zone id", 16, p);
				memcpy(item, p, n);
				item[n] = 0;
				if (row->nroutes == DECIDE_REG_ROUTES_MAX)
					return say(err, cap, "at most %d routes",
						   DECIDE_REG_ROUTES_MAX);
				if (ctl_reg_route_parse(item, &id))
					return say(err, cap,
						   "'%s' is not a zone id (1..2147483647)", item);
				row->routes[row->nroutes++] = id;
			} else {
				if (row->ndevices == CTL_REG_DEVICES_MAX)
					return say(err, cap, "at most %d devices",
						   CTL_REG_DEVICES_MAX);
				if (!(row->devices[row->ndevices] = strndup(p, n)))
					return say(err, cap, "out of memory");
				row->ndevices++;
			}
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* Field f of a row from text (NULL or "": no value). */
static int
set_field(struct ctl_regrow *row, int f, const char *s, char *err, size_t cap)
{
	row->has |= 1u << f;
	if (f == CTL_REG_VEHICLE) {
		if (!s || strlen(s) > ING_VEHICLE_MAX)
			return say(err, cap, "%s",
				   !s || !*s ? "the vehicle is missing"
					     : "vehicle is over 32 bytes");
		snprintf(row->vehicle, sizeof row->vehicle, "%s", s);
		return 0;
	}
	if (!s || !*s)
		return 0;
	if (f == CTL_REG_ROUTES || f == CTL_REG_DEVICES)
		return set_list(row, f, s, err, cap);
	if (!(row->text[f] = strdup(s)))
		return say(err, cap, "out of memory");
	return 0;
}

/* ---- the file --------------------------------------------------------- */

struct rd {
	const char *name;
	struct ctl_regfile *f;
	size_t cap;
	char *err;
	size_t errcap;
	bool failed;
	/* CSV */
	int map[32];      /* column -> field, -1 unknown */
	size_t ncols;     /* header's columns (0: header not read yet) */
	char *fields[32]; /* the record being read */
	size_t nfields;
	bool overflow;
	unsigned line, rec_line;
};

static struct ctl_regrow *
new_row(struct rd *r, unsigned line)
{
	if (r->f->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		struct ctl_regrow *nr = realloc(r->f->rows, nc * sizeof *nr);
		if (!nr)
			return NULL;
		r->f->rows = nr;
		r->cap = nc;
	}
	struct ctl_regrow *row = &r->f->rows[r->f->n++];
	memset(row, 0, sizeof *row);
	row->line = line;
	return row;
}

/* Where a row's fault is, for messages. */
static void
where(const struct rd *r, const struct ctl_regrow *row, int f, char *buf, size_t cap)
{
	if (r->f->array)
		snprintf(buf, cap, "%s: item %u: %s", r->name, row->line, ctl_reg_field_names[f]);
	else if (row->col[f])
		snprintf(buf, cap, "%s:%u: column %u (%s)", r->name, row->line, row->col[f],
			 ctl_reg_field_names[f]);
	else
		snprintf(buf, cap, "%s:%u: %s", r->name, row->line, ctl_reg_field_names[f]);
}

static int
row_fail(struct rd *r, const struct ctl_regrow *row, int f, const char *what)
{
	char w[256];

	where(r, row, f, w, sizeof w);
	r->failed = true;
	return say(r->err, r->errcap, "%s: %s", w, what);
}

static void
csv_field(void *s, size_t len, void *arg)
{
	struct rd *r = arg;

	if (r->nfields == 0)
		r->rec_line = r->line;
	if (r->nfields >= sizeof r->fields / sizeof r->fields[0]) {
		r->overflow = true;
		return;
	}
	r->fields[r->nfields++] = strndup(s ? s : "", s ? len : 0);
}

static void
csv_record_clear(struct rd *r)
{
	for (size_t i = 0; i < r->nfields; i++)
		free(r->fields[i]);
	r->nfields = 0;
	r->overflow = false;
}

static void
csv_header(struct rd *r)
{
	bool seen[CTL_REG_NFIELDS] = { false };

	if (r->overflow) {
		say(r->err, r->errcap, "%s:%u: more than 32 columns", r->name, r->rec_line);
		r->failed = true;
		return;
	}
	for (size_t i = 0; i < r->nfields; i++) {
		int f = -1;
		for (int k = 0; k < CTL_REG_NFIELDS; k++)
			if (r->fields[i] && !strcmp(r->fields[i], ctl_reg_field_names[k]))
				f = k;
		if (f < 0 || seen[f]) {
			say(r->err, r->errcap,
			    "%s:%u: column %zu: %s '%s' (the columns: vehicle, un, hazard_class, "
			    "carrier, driver, terminal_phone, routes, devices)",
			    r->name, r->rec_line, i + 1,
			    f < 0 ? "unknown column" : "repeated column",
			    r->fields[i] ? r->fields[i] : "");
			r->failed = true;
			return;
		}
		seen[f] = true;
		r->map[i] = f;
	}
	if (!seen[CTL_REG_VEHICLE]) {
		say(r->err, r->errcap, "%s:%u: the header has no column 'vehicle'", r->name,
		    r->rec_line);
		r->failed = true;
		return;
	}
	r->ncols = r->nfields;
}

static void
csv_record(int c, void *arg)
{
	struct rd *r = arg;
	char why[256];

	(void)c;
	if (r->failed)
		goto out;
	if (r->ncols == 0) {
		csv_header(r);
		goto out;
	}
	if (r->nfields == 1 && r->fields[0] && !*r->fields[0] && r->ncols > 1)
		goto out; /* a line of spaces */
	if (r->overflow || r->nfields != r->ncols) {
		say(r->err, r->errcap, "%s:%u: %s%zu fields, the header has %zu", r->name,
		    r->rec_line, r->overflow ? "over " : "", r->nfields, r->ncols);
		r->failed = true;
		goto out;
	}
	struct ctl_regrow *row = new_row(r, r->rec_line);
	if (!row) {
		say(r->err, r->errcap, "out of memory");
		r->failed = true;
		goto out;
	}
	for (size_t i = 0; i < r->nfields; i++) {
		if (!r->fields[i]) {
			say(r->err, r->errcap, "out of memory");
			r->failed = true;
			goto out;
		}
		row->col[r->map[i]] = (unsigned)i + 1;
	}
	for (size_t i = 0; i < r->nfields; i++)
		if (set_field(row, r->map[i], r->fields[i], why, sizeof why)) {
			row_fail(r, row, r->map[i], why);
			goto out;
		}
out:
	csv_record_clear(r);
}

static int
parse_csv(struct rd *r, const char *text, size_t len)
{
	struct csv_parser p;
	size_t off = 0;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		return say(r->err, r->errcap, "out of memory");
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		off = 3; /* a spreadsheet's byte order mark */
	r->line = 1;
	while (off < len && !r->failed) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) + 1 : len - off;
		if (csv_parse(&p, text + off, n, csv_field, csv_record, r) != n) {
			say(r->err, r->errcap, "%s:%u: %s", r->name, r->line,
			    csv_strerror(csv_error(&p)));
			r->failed = true;
			break;
		}
		off += n;
		if (nl)
			r->line++;
	}
	if (!r->failed && csv_fini(&p, csv_field, csv_record, r) != 0) {
		say(r->err, r->errcap, "%s:%u: %s", r->name, r->line, csv_strerror(csv_error(&p)));
		r->failed = true;
	}
	csv_record_clear(r);
	csv_free(&p);
	if (!r->failed && r->ncols == 0)
		return say(r->err, r->errcap, "%s: empty: a header line is needed", r->name);
	return r->failed ? -1 : 0;
}

/* One JSON object into a new row. */
static int
json_row(struct rd *r, json_t *o, unsigned line)
{
	struct ctl_regrow *row = new_row(r, line);
	const char *key;
	json_t *v;
	char why[256];

	if (!row)
		return say(r->err, r->errcap, "out of memory");
	if (!json_is_object(o)) {
		row->has = 0;
		return row_fail(r, row, CTL_REG_VEHICLE, "not a JSON object");
	}
	if (!json_object_get(o, "vehicle"))
		return row_fail(r, row, CTL_REG_VEHICLE, "the member 'vehicle' is missing");
	json_object_foreach(o, key, v)
	{
		int f = -1;
		for (int k = 0; k < CTL_REG_NFIELDS; k++)
			if (!strcmp(key, ctl_reg_field_names[k]))
				f = k;
		if (f < 0) {
			snprintf(why, sizeof why, "unknown member '%s'", key);
			return row_fail(r, row, CTL_REG_VEHICLE, why);
		}
		row->has |= 1u << f;
		if (json_is_null(v) && f != CTL_REG_VEHICLE)
			continue;
		if (f == CTL_REG_ROUTES || f == CTL_REG_DEVICES) {
			size_t i;
			json_t *e;
			if (!json_is_array(v))
				return row_fail(r, row, f, "not an array (or null)");
			json_array_foreach(v, i, e)
			{
				if (f == CTL_REG_ROUTES) {
					if (!json_is_integer(e) || json_integer_value(e) < 1 ||
					    json_integer_value(e) > INT32_MAX)
						return row_fail(r, row, f,
								"a route is a zone id: an integer "
								"1..2147483647");
					if (row->nroutes == DECIDE_REG_ROUTES_MAX)
						return row_fail(r, row, f, "too many routes");
					row->routes[row->nroutes++] = json_integer_value(e);
				} else {
					if (!json_is_string(e))
						return row_fail(r, row, f, "a device is a string");
					if (row->ndevices == CTL_REG_DEVICES_MAX)
						return row_fail(r, row, f, "too many devices");
					if (!(row->devices[row->ndevices] = strdup(
						      json_string_value(e))))
						return say(r->err, r->errcap, "out of memory");
					row->ndevices++;
				}
			}
			continue;
		}
		if (!json_is_string(v))
			return row_fail(r, row, f, "not a string");
		if (set_field(row, f, json_string_value(v), why, sizeof why))
			return row_fail(r, row, f, why);
	}
	return 0;
}

static int
parse_json(struct rd *r, const char *text, size_t len)
{
	json_error_t je;
	size_t i = 0;

	while (i < len && strchr(" \t\r\n", text[i]))
		i++;
	if (i < len && text[i] == '[') {
		json_t *a = json_loadb(text, len, 0, &je), *o;
		size_t k;
		if (!a)
			return say(r->err, r->errcap, "%s:%d: column %d: %s", r->name, je.line,
				   je.column, je.text);
		r->f->array = 1;
		json_array_foreach(a, k, o) if (json_row(r, o, (unsigned)k + 1))
		{
			json_decref(a);
			return -1;
		}
		json_decref(a);
		return 0;
	}
	unsigned line = 1;
	for (size_t off = 0; off < len; line++) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		size_t s = 0;
		while (s < n && strchr(" \t\r", text[off + s]))
			s++;
		if (s < n) {
			json_t *o = json_loadb(text + off, n, 0, &je);
			if (!o)
				return say(r->err, r->errcap, "%s:%u: column %d: %s", r->name, line,
					   je.column, je.text);
			int rc = json_row(r, o, line);
			json_decref(o);
			if (rc)
				return -1;
		}
		off += n + (nl ? 1 : 0);
	}
	return 0;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int
ctl_regfile_parse(const char *name, const char *text, size_t len, struct ctl_regfile *out,
		  char *err, size_t cap)
{
	struct rd r = { .name = name, .f = out, .err = err, .errcap = cap };
	bool json;
	int rc;

	memset(out, 0, sizeof *out);
	if (ends_with(name, ".csv"))
		json = false;
	else if (ends_with(name, ".json") || ends_with(name, ".ndjson"))
		json = true;
	else {
		size_t i = 0;
		while (i < len && strchr(" \t\r\n", text[i]))
			i++;
		json = i < len && (text[i] == '{' || text[i] == '[');
	}
	rc = json ? parse_json(&r, text, len) : parse_csv(&r, text, len);
	/* Each row's values, then repeats across rows (a registry as the
	 * index: it says when a vehicle or a device is there already). */
	struct decide_registry *seen = rc == 0 ? decide_registry_new() : NULL;
	if (rc == 0 && !seen)
		rc = say(err, cap, "out of memory");
	for (size_t i = 0; rc == 0 && i < out->n; i++) {
		struct ctl_regrow *row = &out->rows[i];
		int f, e;
		char why[256];
		if (ctl_regrow_check(row, &f, why, sizeof why)) {
			rc = row_fail(&r, row, f, why);
			break;
		}
		f = CTL_REG_VEHICLE;
		e = decide_registry_add(seen, row->vehicle, NULL, NULL, NULL, 0, why, sizeof why);
		for (size_t a = 0; e == DECIDE_REG_OK && a < row->ndevices; a++)
			if ((e = decide_registry_add_device(seen, row->devices[a], row->vehicle,
							    why, sizeof why)) != DECIDE_REG_OK)
				f = CTL_REG_DEVICES;
		if (e == DECIDE_REG_ENOMEM)
			rc = say(err, cap, "out of memory");
		else if (e != DECIDE_REG_OK)
			rc = row_fail(&r, row, f == CTL_REG_DEVICES ? f : CTL_REG_VEHICLE, why);
	}
	decide_registry_free(seen);
	if (rc == 0 && out->n == 0) {
		say(err, cap, "%s: no vehicles in the file", name);
		rc = -1;
	}
	if (rc)
		ctl_regfile_free(out);
	return rc;
}
