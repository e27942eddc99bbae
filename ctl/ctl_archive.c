/*
 * ctl_archive.c: the positions archives' reader, names, days and folder
 * listing (ctl_archive.h says what an archive is).
 *
 * zlib's gzread undoes the gzip (and checks its CRC and length trailer:
 * a cut file is an error, never a short day), libzstd's streaming
 * decompressor a zstd file (each frame's checksum; a file that ends
 * within a frame is an error the same way); libcsv splits the CSV in
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
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

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

/* Feeds n bytes of the archive's text to the CSV parser. */
static void
feed(struct reader *r, struct csv_parser *p, const char *chunk, size_t n)
{
	if (csv_parse(p, chunk, n, on_field, on_record, r) != n)
		fail(r, CTL_ARCH_EFORMAT, "CSV: %s in record %" PRIu64, csv_strerror(csv_error(p)),
		     r->record);
	if (r->rc == CTL_ARCH_OK && csv_get_buffer_size(p) > CTL_ARCH_RECORD_MAX)
		fail(r, CTL_ARCH_EFORMAT, "record %" PRIu64 " is over %d bytes", r->record,
		     CTL_ARCH_RECORD_MAX);
}

/* The end of the archive's text. */
static void
feed_end(struct reader *r, struct csv_parser *p)
{
	if (r->rc == CTL_ARCH_OK && csv_fini(p, on_field, on_record, r) != 0)
		fail(r, CTL_ARCH_EFORMAT, "CSV: %s at its end", csv_strerror(csv_error(p)));
	if (r->rc == CTL_ARCH_OK && r->record == 0)
		fail(r, CTL_ARCH_EFORMAT, "empty: no header");
}

/* A reader and its parser for the archive NAME. Returns 0, or -1 after
 * failing it (out of memory). */
static int
reader_init(struct reader *r, struct csv_parser *p, const char *name, ctl_arch_row_cb cb, void *arg,
	    char *err, size_t errlen)
{
	*r = (struct reader){ .name = name, .cb = cb, .arg = arg, .err = err, .errlen = errlen };
	if (err && errlen)
		err[0] = '\0';
	if (csv_init(p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0) {
		fail(r, CTL_ARCH_ENOMEM, "out of memory");
		return -1;
	}
	return 0;
}

static void
reader_done(struct reader *r, struct csv_parser *p)
{
	csv_free(p);
	free(r->buf);
	r->buf = NULL;
}

/* ---- compressed input: gzip (or plain) and zstd -------------------------- */

#define ZCHUNK 65536
static const unsigned char zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

enum ctl_arch_codec
ctl_arch_codec_of(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n >= 4 && strcmp(name + n - 4, ".tmp") == 0) /* retention's .NAME.tmp */
		n -= 4;
	return n >= 4 && strncmp(name + n - 4, ".zst", 4) == 0 ? CTL_ARCH_ZSTD : CTL_ARCH_GZIP;
}

/* A whole compressed file read from fd's offset: gzip through gzread,
 * zstd through ZSTD_decompressStream (frames one after the other). */
struct zin {
	enum ctl_arch_codec codec;
	gzFile gz;
	int fd; /* zstd: borrowed */
	ZSTD_DCtx *dctx;
	ZSTD_inBuffer ib;
	size_t last; /* ZSTD_decompressStream's last hint: 0 = at a frame's end */
	bool eof, any;
	char msg[160]; /* why zin_read failed */
	unsigned char in[ZCHUNK];
};

/* Opens z on fd (borrowed). Returns 0, or -1 with errno. */
static int
zin_open(struct zin *z, int fd, enum ctl_arch_codec codec)
{
	z->codec = codec;
	z->gz = NULL;
	z->dctx = NULL;
	z->fd = fd;
	z->ib = (ZSTD_inBuffer){ z->in, 0, 0 };
	z->last = 0;
	z->eof = z->any = false;
	z->msg[0] = '\0';
	if (codec == CTL_ARCH_ZSTD) {
		if (!(z->dctx = ZSTD_createDCtx())) {
			errno = ENOMEM;
			return -1;
		}
		return 0;
	}
	int fd2 = dup(fd);
	if (fd2 < 0 || !(z->gz = gzdopen(fd2, "rb"))) {
		int saved = fd2 < 0 ? errno : ENOMEM;
		if (fd2 >= 0)
			close(fd2);
		errno = saved;
		return -1;
	}
	return 0;
}

static void
zin_close(struct zin *z)
{
	if (z->gz)
		gzclose(z->gz);
	ZSTD_freeDCtx(z->dctx);
	z->gz = NULL;
	z->dctx = NULL;
}

/* Up to len bytes of the text into buf. Returns their number, 0 at the
 * end of a complete stream, or -1 with z->msg ("not a complete ... file
 * (why)"). */
static int
zin_read(struct zin *z, char *buf, size_t len)
{
	if (z->codec == CTL_ARCH_GZIP) {
		int n = gzread(z->gz, buf, (unsigned)len), zerr;
		if (n > 0)
			return n;
		const char *msg = gzerror(z->gz, &zerr);
		if (n == 0 && zerr == Z_OK)
			return 0;
		snprintf(z->msg, sizeof z->msg, "not a complete gzip file (%s)",
			 n < 0 && zerr == Z_ERRNO ? strerror(errno) : msg);
		return -1;
	}
	for (;;) {
		if (z->ib.pos == z->ib.size && !z->eof) {
			ssize_t n = read(z->fd, z->in, sizeof z->in);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				snprintf(z->msg, sizeof z->msg, "not a complete zstd file (%s)",
					 strerror(errno));
				return -1;
			}
			if (n == 0) {
				z->eof = true;
			} else {
				if (!z->any && ((size_t)n < sizeof zstd_magic ||
						memcmp(z->in, zstd_magic, sizeof zstd_magic) != 0)) {
					snprintf(z->msg, sizeof z->msg,
						 "not a zstd file (no zstd magic number)");
					return -1;
				}
				z->any = true;
				z->ib = (ZSTD_inBuffer){ z->in, (size_t)n, 0 };
			}
		}
		if (z->eof && z->ib.pos == z->ib.size && z->last == 0) {
			if (z->any)
				return 0;
			snprintf(z->msg, sizeof z->msg, "not a complete zstd file (empty)");
			return -1;
		}
		ZSTD_outBuffer ob = { buf, len, 0 };
		size_t r = ZSTD_decompressStream(z->dctx, &ob, &z->ib);
		if (ZSTD_isError(r)) {
			snprintf(z->msg, sizeof z->msg, "not a complete zstd file (%s)",
				 ZSTD_getErrorName(r));
			return -1;
		}
		z->last = r;
		if (ob.pos)
			return (int)ob.pos;
		if (z->eof && z->ib.pos == z->ib.size && r != 0) {
			snprintf(z->msg, sizeof z->msg,
				 "not a complete zstd file (it ends within a frame)");
			return -1;
		}
	}
}

int
ctl_arch_read_fd(int fd, const char *name, ctl_arch_row_cb cb, void *arg, uint64_t *nrows,
		 char *err, size_t errlen)
{
	struct reader r;
	struct csv_parser p;
	char chunk[ZCHUNK];
	struct zin *z = malloc(sizeof *z);

	if (nrows)
		*nrows = 0;
	if (reader_init(&r, &p, name, cb, arg, err, errlen) != 0) {
		free(z);
		return r.rc;
	}
	if (!z || zin_open(z, fd, ctl_arch_codec_of(name)) != 0) {
		fail(&r, CTL_ARCH_EIO, "cannot read: %s", z ? strerror(errno) : "out of memory");
		free(z);
		reader_done(&r, &p);
		return r.rc;
	}
	for (;;) {
		int n = zin_read(z, chunk, sizeof chunk);
		if (n < 0) {
			fail(&r, CTL_ARCH_EIO, "%s", z->msg);
			break;
		}
		if (n == 0) {
			feed_end(&r, &p);
			break;
		}
		feed(&r, &p, chunk, (size_t)n);
		if (r.rc != CTL_ARCH_OK)
			break;
	}
	reader_done(&r, &p);
	zin_close(z);
	free(z);
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
	case CTL_ARCH_ENOINDEX:
		return "the archive has no index";
	case CTL_ARCH_EINDEX:
		return "the archive's index is damaged or not its own";
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
#define ZST_SUFFIX  ".csv.zst"
/* The first and last day whose names have four-digit years. */
#define DAY_FIRST (-719528) /* 0000-01-01 */
#define DAY_LAST  2932896   /* 9999-12-31 */

static const char *
name_suffix(enum ctl_arch_codec codec)
{
	return codec == CTL_ARCH_ZSTD ? ZST_SUFFIX : NAME_SUFFIX;
}

int
ctl_arch_name_codec(int64_t day, int part, enum ctl_arch_codec codec, char buf[CTL_ARCH_NAME_MAX])
{
	char d[11];
	if (part < 1 || day < DAY_FIRST || day > DAY_LAST)
		return -1;
	ctl_day_format(day, d);
	if (part == 1)
		snprintf(buf, CTL_ARCH_NAME_MAX, NAME_PREFIX "%s%s", d, name_suffix(codec));
	else
		snprintf(buf, CTL_ARCH_NAME_MAX, NAME_PREFIX "%s.p%d%s", d, part,
			 name_suffix(codec));
	return 0;
}

int
ctl_arch_name(int64_t day, int part, char buf[CTL_ARCH_NAME_MAX])
{
	return ctl_arch_name_codec(day, part, CTL_ARCH_GZIP, buf);
}

int
ctl_arch_name_parse(const char *name, int64_t *day, int *part)
{
	size_t plen = strlen(NAME_PREFIX), n = strlen(name);
	size_t slen = strlen(name_suffix(ctl_arch_codec_of(name)));
	int64_t d;
	int pt = 1;

	if (n < plen + 10 + slen || strncmp(name, NAME_PREFIX, plen) != 0 ||
	    strcmp(name + n - slen, name_suffix(ctl_arch_codec_of(name))) != 0 ||
	    day_scan(name + plen, &d) != 0)
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
	if (x->part != y->part)
		return x->part < y->part ? -1 : 1;
	return strcmp(x->name, y->name); /* the same part in both codecs: .gz first */
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
		v[cnt].codec = ctl_arch_codec_of(e->d_name);
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

/* Drops the rows from the n-th on. */
static void
rows_truncate(struct ctl_arch_rows *rows, size_t n)
{
	while (rows->n > n)
		rec_free(&rows->r[--rows->n]);
}

int
ctl_arch_collect(const char *dir, int64_t from_us, int64_t to_us, const char *vehicle,
		 unsigned flags, struct ctl_arch_rows *rows, struct ctl_arch_stats *stats,
		 char *err, size_t errlen)
{
	struct ctl_arch_file *files = NULL;
	size_t nfiles = 0, start = rows->n;
	if (stats)
		*stats = (struct ctl_arch_stats){ 0 };
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
		size_t before = rows->n;
		snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
		rc = CTL_ARCH_ENOINDEX;
		if (vehicle && !(flags & CTL_ARCH_NO_INDEX))
			rc = ctl_arch_read_indexed(path, vehicle, collect_row, &c, NULL, err,
						   errlen);
		if (stats) {
			stats->files++;
			stats->indexed += rc == CTL_ARCH_OK || rc == CTL_ARCH_STOPPED;
		}
		if (rc != CTL_ARCH_OK && rc != CTL_ARCH_STOPPED && c.rc == CTL_ARCH_OK) {
			/* no index, or one that does not serve: the whole file */
			if (rc != CTL_ARCH_ENOINDEX && stats && err)
				snprintf(stats->note, sizeof stats->note,
					 "%.500s; read the whole file", err);
			rows_truncate(rows, before);
			rc = ctl_arch_read(path, collect_row, &c, NULL, err, errlen);
		}
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

/* ---- the per-vehicle index ---------------------------------------------- */

#define IDX_SUFFIX     ".idx.gz"
#define IDX_ZST_SUFFIX ".idx.zst"
#define IDX_HEADER     "vehicle,offset,bytes,rows"
#define MEMBER_MIN     18 /* the smallest gzip member: 10-byte header, 8-byte trailer */
#define FRAME_MIN      9  /* the smallest zstd frame: magic, 2-byte header, a block's header */
#define IDX_FIELD_MAX  40

int
ctl_arch_index_name(const char *archive, char *buf, size_t len)
{
	enum ctl_arch_codec codec = ctl_arch_codec_of(archive);
	const char *suffix = name_suffix(codec);
	const char *isuffix = codec == CTL_ARCH_ZSTD ? IDX_ZST_SUFFIX : IDX_SUFFIX;
	size_t n = strlen(archive), s = strlen(suffix);
	if (n < s || strcmp(archive + n - s, suffix) != 0 || n - s + strlen(isuffix) + 1 > len)
		return -1;
	memcpy(buf, archive, n - s);
	strcpy(buf + n - s, isuffix);
	return 0;
}

/* -- writing -- */

/* A compressed output to fd: gzip members (deflate -6) or zstd frames
 * (CTL_ARCH_ZSTD_LEVEL, checksummed), each ended by zo_put(..., end). */
struct zout {
	enum ctl_arch_codec codec;
	int fd;
	const char *what; /* "the archive", "the index": for messages */
	z_stream zs;
	bool zinit;
	ZSTD_CCtx *cctx;
	size_t pos;       /* bytes of out filled */
	uint64_t written; /* bytes on fd */
	unsigned char out[ZCHUNK];
};

struct ctl_arch_writer {
	struct zout arch, idx;
	bool csvinit;
	struct csv_parser csv;
	uint64_t member_start; /* where the current member starts */
	uint64_t member_rows, rows, records;
	char cur[CTL_ARCH_VEHICLE_MAX + 1]; /* the current member's vehicle ("": the header's) */
	/* the record being given: its first field, its end */
	char f0[CTL_ARCH_VEHICLE_MAX + 1];
	bool f0_null, f0_bad;
	int nfields, ended;
	int rc;
	char err[300];
};

static void wfail(ctl_arch_writer *w, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
wfail(ctl_arch_writer *w, int rc, const char *fmt, ...)
{
	if (w->rc != CTL_ARCH_OK)
		return;
	w->rc = rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof w->err, fmt, ap);
	va_end(ap);
}

static void
w_field(void *s, size_t len, void *data)
{
	ctl_arch_writer *w = data;
	if (w->nfields++ != 0)
		return;
	w->f0_null = s == NULL;
	w->f0_bad = len > CTL_ARCH_VEHICLE_MAX || (s && memchr(s, '\0', len));
	if (w->f0_bad)
		return;
	if (len)
		memcpy(w->f0, s, len);
	w->f0[len] = '\0';
}

static void
w_record(int c, void *data)
{
	(void)c;
	((ctl_arch_writer *)data)->ended++;
}

/* Starts z on fd. Returns 0, or -1 (out of memory). */
static int
zo_init(struct zout *z, int fd, enum ctl_arch_codec codec, const char *what)
{
	z->codec = codec;
	z->fd = fd;
	z->what = what;
	z->pos = 0;
	z->written = 0;
	if (codec == CTL_ARCH_ZSTD) {
		z->cctx = ZSTD_createCCtx();
		return z->cctx &&
				       !ZSTD_isError(ZSTD_CCtx_setParameter(
					       z->cctx, ZSTD_c_compressionLevel, CTL_ARCH_ZSTD_LEVEL)) &&
				       !ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx,
									    ZSTD_c_checksumFlag, 1))
			       ? 0
			       : -1;
	}
	if (deflateInit2(&z->zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z->zinit = true;
	return 0;
}

static void
zo_free(struct zout *z)
{
	if (z->zinit)
		deflateEnd(&z->zs);
	z->zinit = false;
	ZSTD_freeCCtx(z->cctx);
	z->cctx = NULL;
}

/* Writes out's pos bytes to fd. */
static int
zo_flush(ctl_arch_writer *w, struct zout *z)
{
	size_t done = 0;
	while (done < z->pos) {
		ssize_t k = write(z->fd, z->out + done, z->pos - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			wfail(w, CTL_ARCH_EIO, "cannot write %s: %s", z->what,
			      k < 0 ? strerror(errno) : "no progress");
			return -1;
		}
		done += (size_t)k;
	}
	z->written += z->pos;
	z->pos = 0;
	return 0;
}

/* Compresses len bytes; with end, ends the member or frame (its bytes
 * then all on fd). Returns 0 or -1 (w failed). */
static int
zo_put(ctl_arch_writer *w, struct zout *z, const char *in, size_t len, bool end)
{
	if (z->codec == CTL_ARCH_ZSTD) {
		ZSTD_inBuffer ib = { in, len, 0 };
		for (;;) {
			ZSTD_outBuffer ob = { z->out, sizeof z->out, z->pos };
			size_t r = ZSTD_compressStream2(z->cctx, &ob, &ib,
							end ? ZSTD_e_end : ZSTD_e_continue);
			z->pos = ob.pos;
			if (ZSTD_isError(r)) {
				wfail(w, CTL_ARCH_EIO, "zstd: %s", ZSTD_getErrorName(r));
				return -1;
			}
			if (z->pos == sizeof z->out && zo_flush(w, z) != 0)
				return -1;
			if (end ? r == 0 : ib.pos == ib.size)
				break;
		}
		return end ? zo_flush(w, z) : 0;
	}
	int zr, flush = end ? Z_FINISH : Z_NO_FLUSH;
	z->zs.next_in = (Bytef *)(uintptr_t)in;
	z->zs.avail_in = (uInt)len;
	do {
		if (z->pos == sizeof z->out && zo_flush(w, z) != 0)
			return -1;
		z->zs.next_out = z->out + z->pos;
		z->zs.avail_out = (uInt)(sizeof z->out - z->pos);
		zr = deflate(&z->zs, flush);
		z->pos = sizeof z->out - z->zs.avail_out;
		if (zr == Z_STREAM_ERROR) {
			wfail(w, CTL_ARCH_EIO, "zlib: deflate failed");
			return -1;
		}
	} while (z->zs.avail_out == 0 || (end && zr != Z_STREAM_END));
	if (!end)
		return 0;
	if (deflateReset(&z->zs) != Z_OK) {
		wfail(w, CTL_ARCH_EIO, "zlib: deflateReset failed");
		return -1;
	}
	return zo_flush(w, z);
}

/* Ends the current member and writes its index line. */
static int
w_member_end(ctl_arch_writer *w)
{
	char q[2 * CTL_ARCH_VEHICLE_MAX + 3], line[2 * CTL_ARCH_VEHICLE_MAX + 80];
	size_t ql = 0;
	if (zo_put(w, &w->arch, NULL, 0, true) != 0)
		return -1;
	if (w->cur[0]) /* else the header's member: no vehicle (NULL) */
		ql = csv_write(q, sizeof q, w->cur, strlen(w->cur));
	int n = snprintf(line, sizeof line, "%.*s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", (int)ql,
			 q, w->member_start, w->arch.written - w->member_start, w->member_rows);
	if (zo_put(w, &w->idx, line, (size_t)n, false) != 0)
		return -1;
	w->member_start = w->arch.written;
	w->member_rows = 0;
	return 0;
}

int
ctl_arch_writer_new(int fd, int idx_fd, enum ctl_arch_codec codec, ctl_arch_writer **out)
{
	ctl_arch_writer *w = calloc(1, sizeof *w);
	*out = NULL;
	if (!w)
		return CTL_ARCH_ENOMEM;
	if (zo_init(&w->arch, fd, codec, "the archive") != 0 ||
	    zo_init(&w->idx, idx_fd, codec, "the index") != 0 ||
	    csv_init(&w->csv, CSV_STRICT | CSV_EMPTY_IS_NULL) != 0) {
		ctl_arch_writer_free(w);
		return CTL_ARCH_ENOMEM;
	}
	w->csvinit = true;
	if (zo_put(w, &w->idx, IDX_HEADER "\n", strlen(IDX_HEADER "\n"), false) != 0) {
		ctl_arch_writer_free(w);
		return CTL_ARCH_EIO;
	}
	*out = w;
	return CTL_ARCH_OK;
}

int
ctl_arch_writer_record(ctl_arch_writer *w, const char *rec, size_t len)
{
	if (w->rc != CTL_ARCH_OK)
		return w->rc;
	if (len > CTL_ARCH_RECORD_MAX) {
		wfail(w, CTL_ARCH_EFORMAT, "record %" PRIu64 " is over %d bytes", w->records,
		      CTL_ARCH_RECORD_MAX);
		return w->rc;
	}
	w->nfields = 0;
	w->ended = 0;
	if (csv_parse(&w->csv, rec, len, w_field, w_record, w) != len || w->ended != 1) {
		wfail(w, CTL_ARCH_EFORMAT,
		      "record %" PRIu64 " is not one CSV record with its line end", w->records);
		return w->rc;
	}
	if (w->records > 0) {
		if (w->f0_null || w->f0_bad || !w->f0[0]) {
			wfail(w, CTL_ARCH_EFORMAT, "record %" PRIu64 ": no valid vehicle first",
			      w->records);
			return w->rc;
		}
		int cmp = strcmp(w->f0, w->cur);
		if (cmp < 0) {
			wfail(w, CTL_ARCH_EFORMAT,
			      "record %" PRIu64 ": vehicle '%s' after '%s' (sort by vehicle)",
			      w->records, w->f0, w->cur);
			return w->rc;
		}
		if (cmp > 0) { /* a new vehicle (the first after the header's "") */
			if (w_member_end(w) != 0)
				return w->rc;
			memcpy(w->cur, w->f0, strlen(w->f0) + 1);
		}
		w->member_rows++;
		w->rows++;
	}
	w->records++;
	zo_put(w, &w->arch, rec, len, false);
	return w->rc;
}

int
ctl_arch_writer_finish(ctl_arch_writer *w, uint64_t *rows)
{
	if (w->rc == CTL_ARCH_OK && w->records == 0)
		wfail(w, CTL_ARCH_EFORMAT, "no header");
	if (w->rc == CTL_ARCH_OK && w_member_end(w) == 0)
		zo_put(w, &w->idx, NULL, 0, true);
	if (rows)
		*rows = w->rows;
	return w->rc;
}

const char *
ctl_arch_writer_error(const ctl_arch_writer *w)
{
	return w->rc == CTL_ARCH_OK ? "" : w->err;
}

void
ctl_arch_writer_free(ctl_arch_writer *w)
{
	if (!w)
		return;
	zo_free(&w->arch);
	zo_free(&w->idx);
	if (w->csvinit)
		csv_free(&w->csv);
	free(w);
}

/* -- reading the index -- */

struct ientry {
	uint64_t off, bytes, rows;
	char vehicle[CTL_ARCH_VEHICLE_MAX + 1]; /* "" for the header's member */
};

struct iread {
	struct reader *r;                     /* fail() goes through the archive's reader */
	enum ctl_arch_codec codec;            /* of the archive and its index */
	const char *want;                     /* the vehicle wanted, NULL: all */
	uint64_t size;                        /* the archive's */
	struct ientry hdr, found, pred, succ; /* want's entry, or its neighbours */
	bool have_found, have_pred, have_succ;
	struct ientry *all; /* want NULL: every vehicle's member */
	size_t n, cap;
	uint64_t end;                        /* where the last member ends */
	uint64_t record;                     /* index records, its header being 0 */
	char prev[CTL_ARCH_VEHICLE_MAX + 1]; /* the last vehicle */
	char f[4][IDX_FIELD_MAX + 1];
	bool fnull[4];
	int nf;
	bool flong;
};

static void
i_field(void *s, size_t len, void *data)
{
	struct iread *ix = data;
	if (ix->nf < 4) {
		if (len > IDX_FIELD_MAX || (s && memchr(s, '\0', len))) {
			ix->flong = true;
		} else {
			if (len)
				memcpy(ix->f[ix->nf], s, len);
			ix->f[ix->nf][len] = '\0';
			ix->fnull[ix->nf] = s == NULL;
		}
	}
	ix->nf++;
}

/* A decimal count without sign or leading zero, below 2^62. */
static int
count_parse(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_C(1) << 62) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return 0;
}

/* Checks one index record: the header, then the header's member (no
 * vehicle, no rows), then each vehicle's, rising, tiling the archive. */
static void
i_check(struct iread *ix, uint64_t rec)
{
	struct reader *r = ix->r;
	struct ientry e;
	if (ix->nf != 4 || ix->flong) {
		fail(r, CTL_ARCH_EINDEX, "index record %" PRIu64 ": not 4 fields", rec);
		return;
	}
	if (rec == 0) {
		char h[4 * (IDX_FIELD_MAX + 1) + 4];
		snprintf(h, sizeof h, "%s,%s,%s,%s", ix->f[0], ix->f[1], ix->f[2], ix->f[3]);
		if (strcmp(h, IDX_HEADER) != 0)
			fail(r, CTL_ARCH_EINDEX, "index: no header '" IDX_HEADER "'");
		return;
	}
	if (ix->fnull[1] || ix->fnull[2] || ix->fnull[3] || count_parse(ix->f[1], &e.off) ||
	    count_parse(ix->f[2], &e.bytes) || count_parse(ix->f[3], &e.rows)) {
		fail(r, CTL_ARCH_EINDEX, "index record %" PRIu64 ": a bad number", rec);
		return;
	}
	bool header = rec == 1;
	if (header != ix->fnull[0] ||
	    (!header && (!ix->f[0][0] || strlen(ix->f[0]) > CTL_ARCH_VEHICLE_MAX ||
			 strcmp(ix->f[0], ix->prev) <= 0))) {
		fail(r, CTL_ARCH_EINDEX,
		     "index record %" PRIu64
		     ": not the header's member first, then vehicles in rising order",
		     rec);
		return;
	}
	uint64_t min = ix->codec == CTL_ARCH_ZSTD ? FRAME_MIN : MEMBER_MIN;
	if (e.off != ix->end || e.bytes < min || e.bytes > ix->size - e.off ||
	    (header ? e.rows != 0 : e.rows == 0)) {
		fail(r, CTL_ARCH_EINDEX,
		     "index record %" PRIu64 ": its members do not tile the archive's %" PRIu64
		     " bytes",
		     rec, ix->size);
		return;
	}
	strcpy(e.vehicle, header ? "" : ix->f[0]);
	strcpy(ix->prev, e.vehicle);
	ix->end = e.off + e.bytes;
	if (header) {
		ix->hdr = e;
	} else if (ix->want) {
		int cmp = strcmp(e.vehicle, ix->want);
		if (cmp == 0) {
			ix->found = e;
			ix->have_found = true;
		} else if (cmp < 0) {
			ix->pred = e;
			ix->have_pred = true;
		} else if (!ix->have_succ) {
			ix->succ = e;
			ix->have_succ = true;
		}
	} else {
		if (ix->n == ix->cap) {
			size_t nc = ix->cap ? ix->cap * 2 : 64;
			struct ientry *na = realloc(ix->all, nc * sizeof *na);
			if (!na) {
				fail(r, CTL_ARCH_ENOMEM, "out of memory");
				return;
			}
			ix->all = na;
			ix->cap = nc;
		}
		ix->all[ix->n++] = e;
	}
}

static void
i_record(int c, void *data)
{
	struct iread *ix = data;
	(void)c;
	if (ix->r->rc == CTL_ARCH_OK)
		i_check(ix, ix->record);
	ix->record++;
	ix->nf = 0;
	ix->flong = false;
}

/* Reads and checks the index on idx_fd (from its start) against an archive
 * of ix->size bytes. */
static void
i_read(struct iread *ix, int idx_fd)
{
	struct reader *r = ix->r;
	struct csv_parser p;
	char chunk[16384];
	struct zin *z = malloc(sizeof *z);
	if (!z || lseek(idx_fd, 0, SEEK_SET) != 0 || zin_open(z, idx_fd, ix->codec) != 0) {
		fail(r, CTL_ARCH_EIO, "cannot read the index: %s",
		     z ? strerror(errno) : "out of memory");
		free(z);
		return;
	}
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0) {
		zin_close(z);
		free(z);
		fail(r, CTL_ARCH_ENOMEM, "out of memory");
		return;
	}
	for (;;) {
		int n = zin_read(z, chunk, sizeof chunk);
		if (n < 0) {
			fail(r, CTL_ARCH_EINDEX, "index: %s", z->msg);
			break;
		}
		if (n == 0) {
			if (csv_fini(&p, i_field, i_record, ix) != 0)
				fail(r, CTL_ARCH_EINDEX, "index: CSV: %s at its end",
				     csv_strerror(csv_error(&p)));
			break;
		}
		if (csv_parse(&p, chunk, (size_t)n, i_field, i_record, ix) != (size_t)n)
			fail(r, CTL_ARCH_EINDEX, "index: CSV: %s", csv_strerror(csv_error(&p)));
		if (r->rc == CTL_ARCH_OK && csv_get_buffer_size(&p) > IDX_FIELD_MAX * 8)
			fail(r, CTL_ARCH_EINDEX, "index: a field is too long");
		if (r->rc != CTL_ARCH_OK)
			break;
	}
	csv_free(&p);
	zin_close(z);
	free(z);
	if (r->rc == CTL_ARCH_OK && (ix->record < 2 || ix->end != ix->size))
		fail(r, CTL_ARCH_EINDEX,
		     "index: its members end at %" PRIu64 ", the archive at %" PRIu64, ix->end,
		     ix->size);
}

/* -- reading members -- */

/* Rows of one member go through here: all of its vehicle, counted, and
 * handed on unless the member is only checked. */
struct member {
	ctl_arch_row_cb cb;
	void *arg;
	const char *vehicle; /* NULL: the header's member (no row) */
	bool hand;           /* hand the rows on */
	uint64_t rows;       /* of this member */
	uint64_t handed;
	bool other;   /* a row of another vehicle */
	bool stopped; /* cb asked to stop */
};

static int
member_row(const struct ctl_arch_row *row, void *arg)
{
	struct member *m = arg;
	if (!m->vehicle || strcmp(row->v[CTL_ARCH_VEHICLE], m->vehicle) != 0) {
		m->other = true;
		return 1;
	}
	m->rows++;
	if (!m->hand)
		return 0;
	m->handed++;
	if (m->cb && m->cb(row, m->arg) != 0) {
		m->stopped = true;
		return 1;
	}
	return 0;
}

/* The next chunk of [off, off + len) of fd into in (size bytes). Returns
 * its bytes (> 0), or -1 after failing r. */
static ssize_t
read_at(struct reader *r, int fd, unsigned char *in, size_t size, uint64_t off, uint64_t len)
{
	ssize_t n = pread(fd, in, len < size ? (size_t)len : size, (off_t)off);
	if (n <= 0) {
		fail(r, CTL_ARCH_EIO, "cannot read at byte %" PRIu64 ": %s", off,
		     n < 0 ? strerror(errno) : "the file ends there");
		return -1;
	}
	return n;
}

/* Inflates the bytes [off, off + len) of fd, one or more whole gzip
 * members, into the reader. */
static void
read_member(struct reader *r, struct csv_parser *p, z_stream *zs, int fd, uint64_t off,
	    uint64_t len)
{
	static const char what[] = "not a complete gzip member where the index says";
	unsigned char in[ZCHUNK];
	char out[ZCHUNK];
	bool ended = false;
	if (inflateReset(zs) != Z_OK) {
		fail(r, CTL_ARCH_EIO, "zlib: inflateReset failed");
		return;
	}
	while (len > 0 && r->rc == CTL_ARCH_OK) {
		ssize_t n = read_at(r, fd, in, sizeof in, off, len);
		if (n < 0)
			return;
		off += (uint64_t)n;
		len -= (uint64_t)n;
		zs->next_in = in;
		zs->avail_in = (uInt)n;
		for (;;) {
			if (ended) {
				if (zs->avail_in == 0)
					break;
				if (inflateReset(zs) != Z_OK) {
					fail(r, CTL_ARCH_EIO, "zlib: inflateReset failed");
					return;
				}
				ended = false;
			}
			zs->next_out = (Bytef *)out;
			zs->avail_out = sizeof out;
			int zr = inflate(zs, Z_NO_FLUSH);
			size_t got = sizeof out - zs->avail_out;
			if (got)
				feed(r, p, out, got);
			if (r->rc != CTL_ARCH_OK)
				return;
			if (zr == Z_STREAM_END) {
				ended = true;
				continue;
			}
			if (zr == Z_BUF_ERROR && zs->avail_in == 0)
				break;
			if (zr != Z_OK) {
				fail(r, CTL_ARCH_EIO, "%s (byte %" PRIu64 ": %s)", what, off,
				     zs->msg ? zs->msg : "zlib error");
				return;
			}
			if (zs->avail_in == 0 && zs->avail_out != 0)
				break;
		}
	}
	if (r->rc == CTL_ARCH_OK && !ended)
		fail(r, CTL_ARCH_EIO, "%s (it ends at byte %" PRIu64 " within one)", what, off);
}

/* Decompresses the bytes [off, off + len) of fd, one or more whole zstd
 * frames, into the reader. */
static void
read_frame(struct reader *r, struct csv_parser *p, ZSTD_DCtx *dctx, int fd, uint64_t off,
	   uint64_t len)
{
	static const char what[] = "not a complete zstd frame where the index says";
	unsigned char in[ZCHUNK];
	char out[ZCHUNK];
	size_t last = 1; /* 0: at a frame's end */
	bool first = true;
	ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
	while (len > 0 && r->rc == CTL_ARCH_OK) {
		ssize_t n = read_at(r, fd, in, sizeof in, off, len);
		if (n < 0)
			return;
		if (first && ((size_t)n < sizeof zstd_magic ||
			      memcmp(in, zstd_magic, sizeof zstd_magic) != 0)) {
			fail(r, CTL_ARCH_EIO, "%s (byte %" PRIu64 ": no zstd magic number)", what,
			     off);
			return;
		}
		first = false;
		off += (uint64_t)n;
		len -= (uint64_t)n;
		ZSTD_inBuffer ib = { in, (size_t)n, 0 };
		while (ib.pos < ib.size || (len == 0 && last != 0)) {
			ZSTD_outBuffer ob = { out, sizeof out, 0 };
			size_t zr = ZSTD_decompressStream(dctx, &ob, &ib);
			if (ZSTD_isError(zr)) {
				fail(r, CTL_ARCH_EIO, "%s (byte %" PRIu64 ": %s)", what, off,
				     ZSTD_getErrorName(zr));
				return;
			}
			last = zr;
			if (ob.pos)
				feed(r, p, out, ob.pos);
			if (r->rc != CTL_ARCH_OK)
				return;
			if (ob.pos == 0 && ib.pos == ib.size)
				break; /* nothing more from what was given */
		}
	}
	if (r->rc == CTL_ARCH_OK && last != 0)
		fail(r, CTL_ARCH_EIO, "%s (it ends at byte %" PRIu64 " within one)", what, off);
}

/* One member (gzip, dctx NULL) or frame (zstd) where the index says. */
static void
read_part(struct reader *r, struct csv_parser *p, z_stream *zs, ZSTD_DCtx *dctx, int fd,
	  uint64_t off, uint64_t len)
{
	if (dctx)
		read_frame(r, p, dctx, fd, off, len);
	else
		read_member(r, p, zs, fd, off, len);
}

int
ctl_arch_read_indexed_fd(int fd, int idx_fd, const char *name, const char *vehicle,
			 ctl_arch_row_cb cb, void *arg, uint64_t *nrows, char *err, size_t errlen)
{
	struct reader r;
	struct csv_parser p;
	struct member m = { .cb = cb, .arg = arg };
	enum ctl_arch_codec codec = ctl_arch_codec_of(name);
	struct iread ix = { .r = &r, .codec = codec, .want = vehicle };
	z_stream zs = { 0 };
	bool zinit = false;
	ZSTD_DCtx *dctx = NULL;
	struct stat sb;

	if (nrows)
		*nrows = 0;
	if (reader_init(&r, &p, name, member_row, &m, err, errlen) != 0)
		return r.rc;
	if (fstat(fd, &sb) != 0) {
		fail(&r, CTL_ARCH_EIO, "cannot read: %s", strerror(errno));
		goto done;
	}
	ix.size = (uint64_t)sb.st_size;
	i_read(&ix, idx_fd);
	if (r.rc != CTL_ARCH_OK)
		goto done;
	if (codec == CTL_ARCH_ZSTD) {
		if (!(dctx = ZSTD_createDCtx())) {
			fail(&r, CTL_ARCH_ENOMEM, "out of memory");
			goto done;
		}
	} else {
		if (inflateInit2(&zs, 15 + 16) != Z_OK) {
			fail(&r, CTL_ARCH_ENOMEM, "out of memory");
			goto done;
		}
		zinit = true;
	}
	read_part(&r, &p, &zs, dctx, fd, ix.hdr.off, ix.hdr.bytes);
	if (r.rc == CTL_ARCH_OK && r.record != 1 && !m.other)
		fail(&r, CTL_ARCH_EINDEX, "the header's member is not the header alone");
	/* One vehicle: its member; when the index does not name it, the
	 * members either side of where it would be are checked instead (an
	 * index that renamed its member lies about one of them). */
	const struct ientry *sel[2];
	bool hand[2] = { true, true };
	size_t count = 0;
	if (vehicle && ix.have_found) {
		sel[count++] = &ix.found;
	} else if (vehicle) {
		if (ix.have_pred) {
			hand[count] = false;
			sel[count++] = &ix.pred;
		}
		if (ix.have_succ) {
			hand[count] = false;
			sel[count++] = &ix.succ;
		}
	} else {
		count = ix.n;
	}
	for (size_t i = 0; i < count && r.rc == CTL_ARCH_OK; i++) {
		const struct ientry *e = vehicle ? sel[i] : &ix.all[i];
		m.vehicle = e->vehicle;
		m.hand = vehicle ? hand[i] : true;
		m.rows = 0;
		read_part(&r, &p, &zs, dctx, fd, e->off, e->bytes);
		if (i + 1 == count && r.rc == CTL_ARCH_OK)
			feed_end(&r, &p);
		if (r.rc == CTL_ARCH_OK && m.rows != e->rows)
			fail(&r, CTL_ARCH_EINDEX,
			     "the member of %s holds %" PRIu64 " rows, the index says %" PRIu64,
			     e->vehicle, m.rows, e->rows);
	}
	if (count == 0 && r.rc == CTL_ARCH_OK)
		feed_end(&r, &p);
	if (m.other) {
		r.rc = CTL_ARCH_OK;
		fail(&r, CTL_ARCH_EINDEX,
		     "a member holds rows of another vehicle than its index entry");
	} else if (m.stopped) {
		r.rc = CTL_ARCH_STOPPED;
	}
done:
	if (zinit)
		inflateEnd(&zs);
	ZSTD_freeDCtx(dctx);
	free(ix.all);
	reader_done(&r, &p);
	if (nrows)
		*nrows = m.handed;
	return r.rc;
}

int
ctl_arch_read_indexed(const char *path, const char *vehicle, ctl_arch_row_cb cb, void *arg,
		      uint64_t *nrows, char *err, size_t errlen)
{
	char ipath[4096];
	int fd = -1, ifd = -1, rc;
	if (nrows)
		*nrows = 0;
	if (ctl_arch_index_name(path, ipath, sizeof ipath) != 0) {
		rc = CTL_ARCH_ENOINDEX;
		if (err && errlen)
			snprintf(err, errlen, "%s: no index (not an archive's name)", path);
		return rc;
	}
	ifd = open(ipath, O_RDONLY | O_CLOEXEC);
	if (ifd < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", ipath, strerror(errno));
		return errno == ENOENT ? CTL_ARCH_ENOINDEX : CTL_ARCH_EIO;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		close(ifd);
		return CTL_ARCH_EIO;
	}
	rc = ctl_arch_read_indexed_fd(fd, ifd, path, vehicle, cb, arg, nrows, err, errlen);
	close(fd);
	close(ifd);
	return rc;
}
