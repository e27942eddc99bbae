/*
 * ctl_archive.c: the positions archives' reader, names, days and folder
 * listing (ctl_archive.h says what an archive is).
 *
 * zlib's gzread undoes the gzip (and checks its CRC and length trailer:
 * a cut file is an error, never a short day); libcsv splits the CSV in
 * strict mode with an empty unquoted field as NULL, which is PostgreSQL's
 * COPY CSV dialect. Each record is copied into one scratch buffer, checked
 * field by field and handed on; nothing is kept between records but the
 * previous key (the order check).
 */
#include "ctl/ctl_archive.h"

#include <csv.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/hz_time.h"

const char *const ctl_arch_col_names[CTL_ARCH_NCOLS] = {
	[CTL_ARCH_VEHICLE] = "vehicle", [CTL_ARCH_TS] = "ts",
	[CTL_ARCH_LAT] = "lat",         [CTL_ARCH_LON] = "lon",
	[CTL_ARCH_SPEED] = "speed_kmh", [CTL_ARCH_HEADING] = "heading",
	[CTL_ARCH_ALT] = "alt_m",       [CTL_ARCH_HDOP] = "hdop",
	[CTL_ARCH_FIX] = "fix",         [CTL_ARCH_SATS] = "sats",
	[CTL_ARCH_UN] = "un",           [CTL_ARCH_CLASS] = "hazard_class",
	[CTL_ARCH_SEQ] = "seq",         [CTL_ARCH_IGNITION] = "ignition",
	[CTL_ARCH_ZONES] = "zone_ids",  [CTL_ARCH_RECEIVED] = "received_at",
	[CTL_ARCH_ALARMS] = "alarms",
};

/* How each column's text is checked. */
enum kind { K_VEHICLE, K_TIME, K_REAL, K_INT, K_TEXT, K_BOOL, K_ZONES };
static const enum kind col_kind[CTL_ARCH_NCOLS] = {
	[CTL_ARCH_VEHICLE] = K_VEHICLE, [CTL_ARCH_TS] = K_TIME,       [CTL_ARCH_LAT] = K_REAL,
	[CTL_ARCH_LON] = K_REAL,        [CTL_ARCH_SPEED] = K_REAL,    [CTL_ARCH_HEADING] = K_REAL,
	[CTL_ARCH_ALT] = K_REAL,        [CTL_ARCH_HDOP] = K_REAL,     [CTL_ARCH_FIX] = K_INT,
	[CTL_ARCH_SATS] = K_INT,        [CTL_ARCH_UN] = K_TEXT,       [CTL_ARCH_CLASS] = K_TEXT,
	[CTL_ARCH_SEQ] = K_INT,         [CTL_ARCH_IGNITION] = K_BOOL, [CTL_ARCH_ZONES] = K_ZONES,
	[CTL_ARCH_RECEIVED] = K_TIME,   [CTL_ARCH_ALARMS] = K_INT,
};
/* Columns that may not be NULL (nor absent from the header). */
static const bool col_required[CTL_ARCH_NCOLS] = {
	[CTL_ARCH_VEHICLE] = true,
	[CTL_ARCH_TS] = true,
	[CTL_ARCH_LAT] = true,
	[CTL_ARCH_LON] = true,
};

#define MAX_FIELDS 64
#define NO_COL     (-1)

struct reader {
	const char *name;
	ctl_arch_row_cb cb;
	void *arg;
	int rc; /* first error or STOPPED; then callbacks idle */
	char *err;
	size_t errlen;
	uint64_t record; /* records seen, the header being 0 */
	uint64_t rows;
	/* the record being gathered */
	char *buf; /* fields, each NUL-terminated */
	size_t used, cap;
	size_t off[MAX_FIELDS];
	bool null[MAX_FIELDS];
	int nfields;
	bool too_many;
	/* from the header */
	int ncols;           /* fields per record */
	int map[MAX_FIELDS]; /* field -> enum ctl_arch_col, or NO_COL */
	/* the previous row's key */
	char prev_vehicle[CTL_ARCH_VEHICLE_MAX + 1];
	int64_t prev_ts;
};

static void fail(struct reader *r, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
fail(struct reader *r, int rc, const char *fmt, ...)
{
	if (r->rc != CTL_ARCH_OK)
		return;
	r->rc = rc;
	if (!r->err || !r->errlen)
		return;
	int n = snprintf(r->err, r->errlen, "%s: ", r->name);
	if (n < 0 || (size_t)n >= r->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
on_field(void *s, size_t len, void *data)
{
	struct reader *r = data;
	if (r->rc != CTL_ARCH_OK)
		return;
	if (r->nfields == MAX_FIELDS) {
		r->too_many = true;
		return;
	}
	if (r->used + len + 1 > CTL_ARCH_RECORD_MAX) {
		fail(r, CTL_ARCH_EFORMAT, "record %" PRIu64 " is over %d bytes", r->record,
		     CTL_ARCH_RECORD_MAX);
		return;
	}
	if (r->used + len + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 1024;
		while (cap < r->used + len + 1)
			cap *= 2;
		char *b = realloc(r->buf, cap);
		if (!b) {
			fail(r, CTL_ARCH_ENOMEM, "out of memory");
			return;
		}
		r->buf = b;
		r->cap = cap;
	}
	if (s && memchr(s, '\0', len)) {
		fail(r, CTL_ARCH_EFORMAT, "record %" PRIu64 ": a NUL byte in field %d", r->record,
		     r->nfields + 1);
		return;
	}
	r->off[r->nfields] = r->used;
	r->null[r->nfields] = s == NULL;
	if (len)
		memcpy(r->buf + r->used, s, len);
	r->buf[r->used + len] = '\0';
	r->used += len + 1;
	r->nfields++;
}

static bool
is_real(const char *s)
{
	char *end;
	if (!*s || *s == ' ')
		return false;
	errno = 0;
	(void)strtod(s, &end);
	return *end == '\0';
}

static bool
is_int(const char *s)
{
	char *end;
	if (!*s || *s == ' ' || *s == '+')
		return false;
	errno = 0;
	(void)strtoll(s, &end, 10);
	return *end == '\0' && errno == 0;
}

static bool
is_time(const char *s, int64_t *us)
{
	return hz_time_parse(s, strlen(s), us) == 0;
}

int
ctl_arch_zones_json(const char *lit, char *buf, size_t len)
{
	size_t o = 0;
	if (*lit++ != '{' || len < 3)
		return -1;
	buf[o++] = '[';
	if (*lit == '}') {
		lit++;
	} else {
		for (;;) {
			const char *start = lit;
			if (*lit == '-')
				lit++;
			if (*lit < '0' || *lit > '9')
				return -1;
			while (*lit >= '0' && *lit <= '9')
				lit++;
			size_t n = (size_t)(lit - start);
			if (n > 11 || o + n + 2 > len)
				return -1;
			memcpy(buf + o, start, n);
			o += n;
			if (*lit == '}') {
				lit++;
				break;
			}
			if (*lit++ != ',')
				return -1;
			buf[o++] = ',';
		}
	}
	if (*lit != '\0' || o + 2 > len)
		return -1;
	buf[o++] = ']';
	buf[o] = '\0';
	return 0;
}

static bool
value_ok(enum kind k, const char *s, int64_t *us)
{
	char zones[4096];
	switch (k) {
	case K_VEHICLE:
		return *s && strlen(s) <= CTL_ARCH_VEHICLE_MAX;
	case K_TIME:
		return is_time(s, us);
	case K_REAL:
		return is_real(s);
	case K_INT:
		return is_int(s);
	case K_TEXT:
		return true;
	case K_BOOL:
		return !strcmp(s, "t") || !strcmp(s, "f");
	case K_ZONES:
		return ctl_arch_zones_json(s, zones, sizeof zones) == 0;
	}
	return false;
}

static void
header(struct reader *r)
{
	bool seen[CTL_ARCH_NCOLS] = { false };
	r->ncols = r->nfields;
	for (int f = 0; f < r->nfields; f++) {
		const char *name = r->null[f] ? "" : r->buf + r->off[f];
		r->map[f] = NO_COL;
		for (int c = 0; c < CTL_ARCH_NCOLS; c++) {
			if (strcmp(name, ctl_arch_col_names[c]) != 0)
				continue;
			if (seen[c]) {
				fail(r, CTL_ARCH_EFORMAT, "the header names column '%s' twice",
				     name);
				return;
			}
			seen[c] = true;
			r->map[f] = c;
		}
	}
	for (int c = 0; c < CTL_ARCH_NCOLS; c++)
		if (col_required[c] && !seen[c]) {
			fail(r, CTL_ARCH_EFORMAT, "the header has no column '%s' (not an archive?)",
			     ctl_arch_col_names[c]);
			return;
		}
}

static void
row(struct reader *r)
{
	struct ctl_arch_row row = { .record = r->record };
	if (r->nfields != r->ncols) {
		fail(r, CTL_ARCH_EFORMAT, "record %" PRIu64 " has %d fields, the header %d",
		     r->record, r->nfields, r->ncols);
		return;
	}
	for (int f = 0; f < r->nfields; f++) {
		int c = r->map[f];
		if (c == NO_COL)
			continue;
		if (r->null[f]) {
			if (col_required[c]) {
				fail(r, CTL_ARCH_EFORMAT, "record %" PRIu64 ": %s is empty",
				     r->record, ctl_arch_col_names[c]);
				return;
			}
			continue;
		}
		const char *s = r->buf + r->off[f];
		int64_t us = 0;
		if (!value_ok(col_kind[c], s, &us)) {
			fail(r, CTL_ARCH_EFORMAT, "record %" PRIu64 ": %s '%.40s' is not valid",
			     r->record, ctl_arch_col_names[c], s);
			return;
		}
		if (c == CTL_ARCH_TS)
			row.ts_us = us;
		row.v[c] = s;
	}
	const char *veh = row.v[CTL_ARCH_VEHICLE];
	int order = r->rows ? strcmp(veh, r->prev_vehicle) : 1;
	if (order < 0 || (order == 0 && row.ts_us <= r->prev_ts)) {
		fail(r, CTL_ARCH_EFORMAT,
		     "record %" PRIu64 " is out of order (the file is sorted by vehicle and time)",
		     r->record);
		return;
	}
	strcpy(r->prev_vehicle, veh);
	r->prev_ts = row.ts_us;
	r->rows++;
	if (r->cb && r->cb(&row, r->arg) != 0)
		r->rc = CTL_ARCH_STOPPED;
}

static void
on_record(int c, void *data)
{
	struct reader *r = data;
	(void)c;
	if (r->rc == CTL_ARCH_OK) {
		if (r->too_many)
			fail(r, CTL_ARCH_EFORMAT, "record %" PRIu64 " has over %d fields",
			     r->record, MAX_FIELDS);
		else if (r->record == 0)
			header(r);
		else
			row(r);
	}
	r->record++;
	r->nfields = 0;
	r->used = 0;
	r->too_many = false;
}

int
ctl_arch_read_fd(int fd, const char *name, ctl_arch_row_cb cb, void *arg, uint64_t *nrows,
		 char *err, size_t errlen)
{
	struct reader r = { .name = name, .cb = cb, .arg = arg, .err = err, .errlen = errlen };
	struct csv_parser p;
	char chunk[65536];
	gzFile gz = NULL;
	int fd2 = dup(fd);

	if (nrows)
		*nrows = 0;
	if (err && errlen)
		err[0] = '\0';
	if (fd2 < 0 || !(gz = gzdopen(fd2, "rb"))) {
		if (fd2 >= 0)
			close(fd2);
		fail(&r, CTL_ARCH_EIO, "cannot read: %s", strerror(errno ? errno : ENOMEM));
		return r.rc;
	}
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0) {
		gzclose(gz);
		fail(&r, CTL_ARCH_ENOMEM, "out of memory");
		return r.rc;
	}
	for (;;) {
		int n = gzread(gz, chunk, sizeof chunk);
		if (n < 0) {
			int zerr;
			const char *msg = gzerror(gz, &zerr);
			fail(&r, CTL_ARCH_EIO, "not a complete gzip file (%s)",
			     zerr == Z_ERRNO ? strerror(errno) : msg);
			break;
		}
		if (n == 0) {
			int zerr;
			const char *msg = gzerror(gz, &zerr);
			if (zerr != Z_OK)
				fail(&r, CTL_ARCH_EIO, "not a complete gzip file (%s)", msg);
			else if (csv_fini(&p, on_field, on_record, &r) != 0)
				fail(&r, CTL_ARCH_EFORMAT, "CSV: %s at its end",
				     csv_strerror(csv_error(&p)));
			break;
		}
		if (csv_parse(&p, chunk, (size_t)n, on_field, on_record, &r) != (size_t)n)
			fail(&r, CTL_ARCH_EFORMAT, "CSV: %s in record %" PRIu64,
			     csv_strerror(csv_error(&p)), r.record);
		if (r.rc == CTL_ARCH_OK && csv_get_buffer_size(&p) > CTL_ARCH_RECORD_MAX)
			fail(&r, CTL_ARCH_EFORMAT, "record %" PRIu64 " is over %d bytes", r.record,
			     CTL_ARCH_RECORD_MAX);
		if (r.rc != CTL_ARCH_OK)
			break;
	}
	if (r.rc == CTL_ARCH_OK && r.record == 0)
		fail(&r, CTL_ARCH_EFORMAT, "empty: no header");
	csv_free(&p);
	gzclose(gz);
	free(r.buf);
	if (nrows)
		*nrows = r.rows;
	return r.rc;
}

int
ctl_arch_read(const char *path, ctl_arch_row_cb cb, void *arg, uint64_t *nrows, char *err,
	      size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		if (nrows)
			*nrows = 0;
		return CTL_ARCH_EIO;
	}
	int rc = ctl_arch_read_fd(fd, path, cb, arg, nrows, err, errlen);
	close(fd);
	return rc;
}

const char *
ctl_arch_strerror(int err)
{
	switch (err) {
	case CTL_ARCH_OK:
		return "ok";
	case CTL_ARCH_EIO:
		return "cannot read the archive";
	case CTL_ARCH_EFORMAT:
		return "not a valid archive";
	case CTL_ARCH_ENOMEM:
		return "out of memory";
	case CTL_ARCH_STOPPED:
		return "stopped";
	}
	return "unknown error";
}

/* ---- days ------------------------------------------------------------- */

#define DAY_US INT64_C(86400000000)

int64_t
ctl_day_of_us(int64_t us)
{
	return hz_floor_div(us, DAY_US);
}

int64_t
ctl_day_start_us(int64_t day)
{
	return day * DAY_US;
}

void
ctl_day_format(int64_t day, char *buf)
{
	int64_t y;
	unsigned m, d;
	hz_civil_from_days(day, &y, &m, &d);
	snprintf(buf, 11, "%04d-%02u-%02u", (int)(y < 0 ? 0 : y > 9999 ? 9999 : y), m, d);
}

static int
digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM-DD" at s (10 bytes, not necessarily terminated). */
static int
day_scan(const char *s, int64_t *day)
{
	int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1 || s[4] != '-' || s[7] != '-' ||
	    (unsigned)d > hz_days_in_month(y, (unsigned)m))
		return -1;
	*day = hz_days_from_civil(y, (unsigned)m, (unsigned)d);
	return 0;
}

int
ctl_day_parse(const char *s, int64_t *day)
{
	if (strlen(s) != 10)
		return -1;
	return day_scan(s, day);
}

bool
ctl_arch_due(int64_t day, int64_t today, int keep_days)
{
	return keep_days > 0 && day + keep_days < today;
}

/* ---- names ------------------------------------------------------------- */

#define NAME_PREFIX "positions-"
#define NAME_SUFFIX ".csv.gz"
/* The first and last day whose names have four-digit years. */
#define DAY_FIRST (-719528) /* 0000-01-01 */
#define DAY_LAST  2932896   /* 9999-12-31 */

int
ctl_arch_name(int64_t day, int part, char buf[CTL_ARCH_NAME_MAX])
{
	char d[11];
	if (part < 1 || day < DAY_FIRST || day > DAY_LAST)
		return -1;
	ctl_day_format(day, d);
	if (part == 1)
		snprintf(buf, CTL_ARCH_NAME_MAX, NAME_PREFIX "%s" NAME_SUFFIX, d);
	else
		snprintf(buf, CTL_ARCH_NAME_MAX, NAME_PREFIX "%s.p%d" NAME_SUFFIX, d, part);
	return 0;
}

int
ctl_arch_name_parse(const char *name, int64_t *day, int *part)
{
	size_t plen = strlen(NAME_PREFIX), slen = strlen(NAME_SUFFIX), n = strlen(name);
	int64_t d;
	int pt = 1;

	if (n < plen + 10 + slen || strncmp(name, NAME_PREFIX, plen) != 0 ||
	    strcmp(name + n - slen, NAME_SUFFIX) != 0 || day_scan(name + plen, &d) != 0)
		return -1;
	const char *rest = name + plen + 10, *end = name + n - slen;
	if (rest != end) {
		/* ".pN": N from 2, no leading zero, fits an int */
		if (end - rest < 3 || rest[0] != '.' || rest[1] != 'p' || rest[2] == '0' ||
		    end - rest > 11)
			return -1;
		long long v = 0;
		for (const char *q = rest + 2; q < end; q++) {
			if (*q < '0' || *q > '9')
				return -1;
			v = v * 10 + (*q - '0');
		}
		if (v < 2 || v > INT32_MAX)
			return -1;
		pt = (int)v;
	}
	*day = d;
	*part = pt;
	return 0;
}

/* ---- a folder ------------------------------------------------------------ */

static int
file_cmp(const void *a, const void *b)
{
	const struct ctl_arch_file *x = a, *y = b;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	return (x->part > y->part) - (x->part < y->part);
}

int
ctl_arch_list(const char *dir, int64_t first, int64_t last, struct ctl_arch_file **files, size_t *n,
	      char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct ctl_arch_file *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *e;

	*files = NULL;
	*n = 0;
	if (!d) {
		if (err && errlen)
			snprintf(err, errlen, "archive folder %s: %s", dir, strerror(errno));
		return CTL_ARCH_EIO;
	}
	while ((e = readdir(d)) != NULL) {
		int64_t day;
		int part;
		size_t len = strlen(e->d_name);
		if (len >= CTL_ARCH_NAME_MAX || ctl_arch_name_parse(e->d_name, &day, &part) != 0 ||
		    day < first || day > last)
			continue;
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct ctl_arch_file *nv = realloc(v, nc * sizeof *nv);
			if (!nv) {
				free(v);
				closedir(d);
				if (err && errlen)
					snprintf(err, errlen, "out of memory");
				return CTL_ARCH_ENOMEM;
			}
			v = nv;
			cap = nc;
		}
		v[cnt].day = day;
		v[cnt].part = part;
		memcpy(v[cnt].name, e->d_name, len + 1);
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof *v, file_cmp);
	*files = v;
	*n = cnt;
	return CTL_ARCH_OK;
}

/* ---- rows of a range ------------------------------------------------------ */

struct collect {
	struct ctl_arch_rows *rows;
	int64_t from_us, to_us;
	const char *vehicle;
	int rc;
};

static int
collect_row(const struct ctl_arch_row *row, void *arg)
{
	struct collect *c = arg;
	if (row->ts_us < c->from_us || row->ts_us >= c->to_us)
		return 0;
	if (c->vehicle) {
		int cmp = strcmp(row->v[CTL_ARCH_VEHICLE], c->vehicle);
		if (cmp < 0)
			return 0;
		if (cmp > 0)
			return 1; /* sorted by vehicle: none of it after this */
	}
	struct ctl_arch_rows *rs = c->rows;
	if (rs->n == rs->cap) {
		size_t nc = rs->cap ? rs->cap * 2 : 256;
		struct ctl_arch_rec *nr = realloc(rs->r, nc * sizeof *nr);
		if (!nr)
			goto nomem;
		rs->r = nr;
		rs->cap = nc;
	}
	size_t len[CTL_ARCH_NCOLS], total = 0;
	for (int k = 0; k < CTL_ARCH_NCOLS; k++) {
		len[k] = row->v[k] ? strlen(row->v[k]) + 1 : 0;
		total += len[k];
	}
	char *block = malloc(total);
	if (!block)
		goto nomem;
	struct ctl_arch_rec *rec = &rs->r[rs->n];
	rec->ts_us = row->ts_us;
	rec->order = rs->n++;
	for (int k = 0; k < CTL_ARCH_NCOLS; k++) {
		rec->v[k] = row->v[k] ? memcpy(block, row->v[k], len[k]) : NULL;
		block += len[k];
	}
	return 0;
nomem:
	c->rc = CTL_ARCH_ENOMEM;
	return 1;
}

/* The block of a record is the first non-NULL column's (vehicle: never
 * NULL). */
static void
rec_free(struct ctl_arch_rec *rec)
{
	free(rec->v[CTL_ARCH_VEHICLE]);
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct ctl_arch_rec *x = a, *y = b;
	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	int c = strcmp(x->v[CTL_ARCH_VEHICLE], y->v[CTL_ARCH_VEHICLE]);
	if (c)
		return c;
	/* equal keys (two parts of a day): the order they were read in */
	return (x->order > y->order) - (x->order < y->order);
}

int
ctl_arch_collect(const char *dir, int64_t from_us, int64_t to_us, const char *vehicle,
		 struct ctl_arch_rows *rows, char *err, size_t errlen)
{
	struct ctl_arch_file *files = NULL;
	size_t nfiles = 0, start = rows->n;
	if (to_us <= from_us)
		return CTL_ARCH_OK;
	int rc = ctl_arch_list(dir, ctl_day_of_us(from_us), ctl_day_of_us(to_us - 1), &files,
			       &nfiles, err, errlen);
	if (rc != CTL_ARCH_OK)
		return rc;
	for (size_t i = 0; i < nfiles; i++) {
		char path[4096];
		struct collect c = {
			.rows = rows, .from_us = from_us, .to_us = to_us, .vehicle = vehicle
		};
		snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
		rc = ctl_arch_read(path, collect_row, &c, NULL, err, errlen);
		if (c.rc != CTL_ARCH_OK) {
			rc = c.rc;
			if (err && errlen)
				snprintf(err, errlen, "%s: out of memory", path);
		}
		if (rc == CTL_ARCH_STOPPED)
			rc = CTL_ARCH_OK;
		if (rc != CTL_ARCH_OK)
			break;
	}
	free(files);
	if (rc != CTL_ARCH_OK)
		return rc;
	/* Sort what this call added (rec_cmp breaks ties by read order: part 1
	 * before part 2, what the database held first), then keep the first of
	 * each key. */
	struct ctl_arch_rec *base = rows->r + start;
	size_t n = rows->n - start, out = 0;
	if (n > 1)
		qsort(base, n, sizeof *base, rec_cmp);
	for (size_t i = 0; i < n; i++) {
		if (out > 0 && base[out - 1].ts_us == base[i].ts_us &&
		    !strcmp(base[out - 1].v[CTL_ARCH_VEHICLE], base[i].v[CTL_ARCH_VEHICLE])) {
			rec_free(&base[i]);
			continue;
		}
		base[out++] = base[i];
	}
	rows->n = start + out;
	return CTL_ARCH_OK;
}

void
ctl_arch_rows_clear(struct ctl_arch_rows *rows)
{
	for (size_t i = 0; i < rows->n; i++)
		rec_free(&rows->r[i]);
	free(rows->r);
	rows->r = NULL;
	rows->n = rows->cap = 0;
}
