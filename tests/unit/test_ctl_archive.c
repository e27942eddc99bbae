/*
 * test_ctl_archive.c - ctl/ctl_archive.c, the positions archives: file
 * names (both ways, and what is not a name), UTC days and the retention
 * horizon, zone lists, and the reader over good and bad files (plain and
 * gzip'd; cut, reordered, mistyped), then the collector over a folder
 * with two parts of a day and a range that cuts days; the writer of the
 * per-vehicle index (a member per vehicle, what it refuses) and tracks
 * through the index, with a damaged index (read whole, a note) and a
 * damaged member of another vehicle (not read); the index's fuzz seeds;
 * the same for zstd archives (a frame per vehicle: round trip against the
 * gzip archive's text, every cut, every flipped byte, frames against the
 * index, a gzip part 1 beside a zstd part 2).
 *
 * One named test point per table row (rows.h). Files are written to a
 * private folder under $TMPDIR and removed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "ctl/ctl_archive.h"
#include "tests/fuzz/fuzz_ctl_archive_index.h"
#include "tests/unit/corpus_walk.h"
#include "tests/unit/rows.h"

/* 2019-08-10 is day 18118 since 1970-01-01. */
#define D0810   18118
#define US(day) ((int64_t)(day)*INT64_C(86400000000))

/* ---- names ---------------------------------------------------------------- */

struct name_case {
	const char *name;
	const char *file;
	int ok;
	int64_t day;
	int part;
};

static const struct name_case name_cases[] = {
	{ "part 1", "positions-2019-08-10.csv.gz", 0, D0810, 1 },
	{ "part 2", "positions-2019-08-10.p2.csv.gz", 0, D0810, 2 },
	{ "part 12", "positions-2019-08-10.p12.csv.gz", 0, D0810, 12 },
	{ "epoch", "positions-1970-01-01.csv.gz", 0, 0, 1 },
	{ "leap day", "positions-2024-02-29.csv.gz", 0, 19782, 1 },
	{ "no leap day in 2023", "positions-2023-02-29.csv.gz", -1, 0, 0 },
	{ "month 13", "positions-2019-13-01.csv.gz", -1, 0, 0 },
	{ "day 0", "positions-2019-08-00.csv.gz", -1, 0, 0 },
	{ "part 1 is written without .p1", "positions-2019-08-10.p1.csv.gz", -1, 0, 0 },
	{ "part 0", "positions-2019-08-10.p0.csv.gz", -1, 0, 0 },
	{ "leading zero", "positions-2019-08-10.p02.csv.gz", -1, 0, 0 },
	{ "part beyond an int", "positions-2019-08-10.p2147483648.csv.gz", -1, 0, 0 },
	{ "not a number", "positions-2019-08-10.px.csv.gz", -1, 0, 0 },
	{ "temporary file", ".positions-2019-08-10.csv.gz.tmp", -1, 0, 0 },
	{ "zstd part 1", "positions-2019-08-10.csv.zst", 0, D0810, 1 },
	{ "zstd part 2", "positions-2019-08-10.p2.csv.zst", 0, D0810, 2 },
	{ "zstd leading zero", "positions-2019-08-10.p02.csv.zst", -1, 0, 0 },
	{ "zstd index", "positions-2019-08-10.idx.zst", -1, 0, 0 },
	{ "other suffix", "positions-2019-08-10.csv", -1, 0, 0 },
	{ "other prefix", "alerts-2019-08-10.csv.gz", -1, 0, 0 },
	{ "short date", "positions-2019-8-10.csv.gz", -1, 0, 0 },
	{ "empty", "", -1, 0, 0 },
};

static void
test_name(void **state)
{
	const struct name_case *c = *state;
	int64_t day = -1;
	int part = -1;
	char back[CTL_ARCH_NAME_MAX];
	assert_int_equal(ctl_arch_name_parse(c->file, &day, &part), c->ok);
	if (c->ok != 0)
		return;
	assert_int_equal(day, c->day);
	assert_int_equal(part, c->part);
	assert_int_equal(ctl_arch_name_codec(day, part, ctl_arch_codec_of(c->file), back), 0);
	assert_string_equal(back, c->file);
}

static void
test_name_limits(void **state)
{
	char buf[CTL_ARCH_NAME_MAX];
	(void)state;
	assert_int_equal(ctl_arch_name(D0810, 0, buf), -1);
	assert_int_equal(ctl_arch_name(-719529, 1, buf), -1); /* year -1 */
	assert_int_equal(ctl_arch_name(2932897, 1, buf), -1); /* year 10000 */
	assert_int_equal(ctl_arch_name(2932896, 2147483647, buf), 0);
	assert_string_equal(buf, "positions-9999-12-31.p2147483647.csv.gz");
	assert_int_equal(ctl_arch_name_codec(2932896, 2147483647, CTL_ARCH_ZSTD, buf), 0);
	assert_string_equal(buf, "positions-9999-12-31.p2147483647.csv.zst");
}

/* ---- days ------------------------------------------------------------------ */

struct day_case {
	const char *name;
	int64_t us;
	int64_t day;
	const char *text;
};

static const struct day_case day_cases[] = {
	{ "epoch", 0, 0, "1970-01-01" },
	{ "a microsecond before the epoch", -1, -1, "1969-12-31" },
	{ "the sample's start", US(D0810), D0810, "2019-08-10" },
	{ "the sample's last microsecond", US(D0810 + 1) - 1, D0810, "2019-08-10" },
	{ "16:00 in Taiyuan is 08:00 UTC, the same day", US(D0810) + INT64_C(28800000000), D0810,
	  "2019-08-10" },
};

static void
test_day(void **state)
{
	const struct day_case *c = *state;
	char buf[11];
	int64_t back;
	assert_int_equal(ctl_day_of_us(c->us), c->day);
	ctl_day_format(c->day, buf);
	assert_string_equal(buf, c->text);
	assert_int_equal(ctl_day_parse(c->text, &back), 0);
	assert_int_equal(back, c->day);
	assert_true(ctl_day_start_us(c->day) <= c->us && c->us < ctl_day_start_us(c->day + 1));
}

static void
test_day_parse_bad(void **state)
{
	int64_t d;
	(void)state;
	static const char *const bad[] = { "2019-08-1",  "2019-08-100", "2019/08/10",
					   "2019-02-30", "20x9-08-10",  "",
					   "2019-08-10 " };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ctl_day_parse(bad[i], &d), -1);
}

struct due_case {
	const char *name;
	int64_t day, today;
	int keep;
	bool due;
};

/* today 2026-12-07 = 20794 */
static const struct due_case due_cases[] = {
	{ "keep 0: never", 0, 20794, 0, false },
	{ "keep 1: the day before yesterday goes", 20792, 20794, 1, true },
	{ "keep 1: yesterday stays (part of it is under a day old)", 20793, 20794, 1, false },
	{ "keep 1: today stays", 20794, 20794, 1, false },
	{ "keep 183: 184 days ago goes", 20794 - 184, 20794, 183, true },
	{ "keep 183: 183 days ago stays", 20794 - 183, 20794, 183, false },
	{ "a future day stays", 20800, 20794, 1, false },
	{ "negative keep: never", 0, 20794, -1, false },
};

static void
test_due(void **state)
{
	const struct due_case *c = *state;
	assert_int_equal(ctl_arch_due(c->day, c->today, c->keep), c->due);
}

/* ---- zone lists ------------------------------------------------------------- */

struct zones_case {
	const char *name;
	const char *lit;
	const char *json; /* NULL: refused */
};

static const struct zones_case zones_cases[] = {
	{ "empty", "{}", "[]" },
	{ "one", "{8}", "[8]" },
	{ "several", "{1,4,10}", "[1,4,10]" },
	{ "negative", "{-3,2}", "[-3,2]" },
	{ "int32 edge", "{-2147483648,2147483647}", "[-2147483648,2147483647]" },
	{ "spaces", "{1, 4}", NULL },
	{ "NULL element", "{NULL}", NULL },
	{ "unclosed", "{1,4", NULL },
	{ "trailing comma", "{1,}", NULL },
	{ "JSON", "[1]", NULL },
	{ "after the brace", "{1}x", NULL },
	{ "too many digits", "{123456789012}", NULL },
};

static void
test_zones(void **state)
{
	const struct zones_case *c = *state;
	char buf[64];
	int rc = ctl_arch_zones_json(c->lit, buf, sizeof buf);
	if (!c->json) {
		assert_int_equal(rc, -1);
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(buf, c->json);
}

/* ---- the reader --------------------------------------------------------------- */

#define HEADER                                                                                   \
	"vehicle,ts,lat,lon,speed_kmh,heading,alt_m,hdop,fix,sats,un,hazard_class,seq,ignition," \
	"zone_ids,received_at\n"
#define ROW_A                                                                                       \
	"晋A1,2019-08-10T00:00:04.000000Z,37.7418593,112.5564811,26.8,242.2,,1.2,3,,1547,6.1,7,t," \
	"{8},2019-08-10T00:00:05.123456Z\n"
#define ROW_B "晋A1,2019-08-10T00:00:09.000000Z,37.74,112.55,,,,,,,\"\",,,,{},\n"
#define ROW_C \
	"晋A2,2019-08-10T00:00:01.000000Z,-5e-05,1e-09,0,,,,,,\"a,\"\"b\"\"\",3,,f,\"{1,4}\",\n"

struct read_case {
	const char *name;
	const char *text;
	bool gzip;
	int rc;
	uint64_t rows;   /* handed on before the end or the error */
	const char *err; /* a part of the message */
};

static const struct read_case read_cases[] = {
	{ "three rows, gzip", HEADER ROW_A ROW_B ROW_C, true, CTL_ARCH_OK, 3, NULL },
	{ "three rows, plain", HEADER ROW_A ROW_B ROW_C, false, CTL_ARCH_OK, 3, NULL },
	{ "header only: an empty day", HEADER, true, CTL_ARCH_OK, 0, NULL },
	{ "CRLF line ends", "vehicle,ts,lat,lon\r\nV,2019-08-10T00:00:00Z,1,2\r\n", false,
	  CTL_ARCH_OK, 1, NULL },
	{ "columns in another order, one unknown",
	  "lat,extra,lon,ts,vehicle\n1,x,2,2019-08-10T00:00:00Z,V\n", false, CTL_ARCH_OK, 1, NULL },
	{ "empty file", "", false, CTL_ARCH_EFORMAT, 0, "empty: no header" },
	{ "no ts column", "vehicle,lat,lon\nV,1,2\n", false, CTL_ARCH_EFORMAT, 0,
	  "the header has no column 'ts'" },
	{ "a column twice", "vehicle,ts,lat,lon,lat\n", false, CTL_ARCH_EFORMAT, 0,
	  "names column 'lat' twice" },
	{ "a field short", HEADER ROW_A "V,2019-08-10T00:00:00Z,1,2\n", false, CTL_ARCH_EFORMAT, 1,
	  "record 2 has 4 fields, the header 16" },
	{ "bad time", "vehicle,ts,lat,lon\nV,2019-08-10 00:00,1,2\n", false, CTL_ARCH_EFORMAT, 0,
	  "record 1: ts '2019-08-10 00:00' is not valid" },
	{ "bad latitude", "vehicle,ts,lat,lon\nV,2019-08-10T00:00:00Z,1x,2\n", false,
	  CTL_ARCH_EFORMAT, 0, "lat '1x' is not valid" },
	{ "NULL longitude", "vehicle,ts,lat,lon\nV,2019-08-10T00:00:00Z,1,\n", false,
	  CTL_ARCH_EFORMAT, 0, "record 1: lon is empty" },
	{ "empty vehicle", "vehicle,ts,lat,lon\n\"\",2019-08-10T00:00:00Z,1,2\n", false,
	  CTL_ARCH_EFORMAT, 0, "vehicle '' is not valid" },
	{ "vehicle over 32 bytes",
	  "vehicle,ts,lat,lon\nABCDEFGHIJKLMNOPQRSTUVWXYZ0123456,2019-08-10T00:00:00Z,1,2\n", false,
	  CTL_ARCH_EFORMAT, 0, "vehicle" },
	{ "bad fix", "vehicle,ts,lat,lon,fix\nV,2019-08-10T00:00:00Z,1,2,3.5\n", false,
	  CTL_ARCH_EFORMAT, 0, "fix '3.5' is not valid" },
	{ "bad ignition", "vehicle,ts,lat,lon,ignition\nV,2019-08-10T00:00:00Z,1,2,yes\n", false,
	  CTL_ARCH_EFORMAT, 0, "ignition 'yes'" },
	{ "bad zone list", "vehicle,ts,lat,lon,zone_ids\nV,2019-08-10T00:00:00Z,1,2,\"[1]\"\n",
	  false, CTL_ARCH_EFORMAT, 0, "zone_ids '[1]'" },
	{ "same key twice", HEADER ROW_A ROW_A, false, CTL_ARCH_EFORMAT, 1,
	  "record 2 is out of order" },
	{ "time going back", HEADER ROW_B ROW_A, false, CTL_ARCH_EFORMAT, 1, "out of order" },
	{ "vehicles going back", HEADER ROW_C ROW_A, false, CTL_ARCH_EFORMAT, 1, "out of order" },
	{ "unclosed quote", "vehicle,ts,lat,lon\nV,2019-08-10T00:00:00Z,1,\"2\n", false,
	  CTL_ARCH_EFORMAT, 0, "CSV" },
	{ "a quote inside a bare field", "vehicle,ts,lat,lon\nV,2019-08-10T00:00:00Z,1,2\"3\n",
	  false, CTL_ARCH_EFORMAT, 0, "CSV" },
};

static char tmpdir[256];

static void
write_file(const char *path, const char *text, size_t len, bool gzip)
{
	if (gzip) {
		gzFile gz = gzopen(path, "wb");
		assert_non_null(gz);
		if (len)
			assert_int_equal(gzwrite(gz, text, (unsigned)len), (int)len);
		assert_int_equal(gzclose(gz), Z_OK);
	} else {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(text, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
	}
}

struct seen {
	uint64_t n;
	char first[128];
};

static int
note_row(const struct ctl_arch_row *row, void *arg)
{
	struct seen *s = arg;
	if (s->n++ == 0)
		snprintf(s->first, sizeof s->first, "%s|%lld|%s|%s", row->v[CTL_ARCH_VEHICLE],
			 (long long)row->ts_us, row->v[CTL_ARCH_LAT],
			 row->v[CTL_ARCH_SPEED] ? row->v[CTL_ARCH_SPEED] : "NULL");
	return 0;
}

static void
test_read(void **state)
{
	const struct read_case *c = *state;
	char path[300], err[512];
	struct seen s = { 0 };
	uint64_t rows = 99;
	snprintf(path, sizeof path, "%s/case", tmpdir);
	write_file(path, c->text, strlen(c->text), c->gzip);
	int rc = ctl_arch_read(path, note_row, &s, &rows, err, sizeof err);
	if (rc != c->rc)
		fail_msg("rc %d, want %d: %s", rc, c->rc, err);
	assert_int_equal(rows, c->rows);
	assert_int_equal(s.n, c->rows);
	if (c->err) {
		if (!strstr(err, c->err))
			fail_msg("message \"%s\" lacks \"%s\"", err, c->err);
		assert_non_null(strstr(err, path)); /* names the file */
	}
}

/* What the reader hands on: NULL and "" told apart, quotes undone, the time
 * read. */
static int
check_rows(const struct ctl_arch_row *row, void *arg)
{
	int *k = arg;
	switch ((*k)++) {
	case 0:
		assert_string_equal(row->v[CTL_ARCH_VEHICLE], "晋A1");
		assert_int_equal(row->ts_us, US(D0810) + 4000000);
		assert_string_equal(row->v[CTL_ARCH_SPEED], "26.8");
		assert_null(row->v[CTL_ARCH_ALT]);
		assert_string_equal(row->v[CTL_ARCH_ZONES], "{8}");
		assert_string_equal(row->v[CTL_ARCH_IGNITION], "t");
		assert_string_equal(row->v[CTL_ARCH_RECEIVED], "2019-08-10T00:00:05.123456Z");
		break;
	case 1:
		assert_string_equal(row->v[CTL_ARCH_UN], "");
		assert_null(row->v[CTL_ARCH_CLASS]);
		assert_null(row->v[CTL_ARCH_SPEED]);
		break;
	case 2:
		assert_string_equal(row->v[CTL_ARCH_LAT], "-5e-05");
		assert_string_equal(row->v[CTL_ARCH_UN], "a,\"b\"");
		assert_string_equal(row->v[CTL_ARCH_ZONES], "{1,4}");
		break;
	}
	return 0;
}

static void
test_read_values(void **state)
{
	char path[300], err[512];
	int k = 0;
	(void)state;
	snprintf(path, sizeof path, "%s/values.csv.gz", tmpdir);
	write_file(path, HEADER ROW_A ROW_B ROW_C, strlen(HEADER ROW_A ROW_B ROW_C), true);
	assert_int_equal(ctl_arch_read(path, check_rows, &k, NULL, err, sizeof err), CTL_ARCH_OK);
	assert_int_equal(k, 3);
}

/* A gzip file cut anywhere is an error, never a shorter day. */
static void
test_read_cut(void **state)
{
	char path[300], cut[300], err[512];
	(void)state;
	snprintf(path, sizeof path, "%s/whole.csv.gz", tmpdir);
	snprintf(cut, sizeof cut, "%s/cut.csv.gz", tmpdir);
	write_file(path, HEADER ROW_A ROW_B ROW_C, strlen(HEADER ROW_A ROW_B ROW_C), true);
	FILE *f = fopen(path, "rb");
	unsigned char buf[4096];
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	for (size_t keep = 1; keep < len; keep++) {
		FILE *o = fopen(cut, "wb");
		fwrite(buf, 1, keep, o);
		fclose(o);
		int rc = ctl_arch_read(cut, NULL, NULL, NULL, err, sizeof err);
		if (rc == CTL_ARCH_OK)
			fail_msg("cut at %zu of %zu bytes: read as complete", keep, len);
	}
}

static int
stop_at_two(const struct ctl_arch_row *row, void *arg)
{
	(void)row;
	return ++*(int *)arg == 2;
}

static void
test_read_stop(void **state)
{
	char path[300], err[512];
	int k = 0;
	uint64_t rows;
	(void)state;
	snprintf(path, sizeof path, "%s/stop.csv", tmpdir);
	write_file(path, HEADER ROW_A ROW_B ROW_C, strlen(HEADER ROW_A ROW_B ROW_C), false);
	assert_int_equal(ctl_arch_read(path, stop_at_two, &k, &rows, err, sizeof err),
			 CTL_ARCH_STOPPED);
	assert_int_equal(k, 2);
	assert_int_equal(ctl_arch_read(path, NULL, NULL, &rows, err, sizeof err), CTL_ARCH_OK);
	snprintf(path, sizeof path, "%s/missing", tmpdir);
	assert_int_equal(ctl_arch_read(path, NULL, NULL, &rows, err, sizeof err), CTL_ARCH_EIO);
	assert_non_null(strstr(err, "cannot open"));
}

/* Two parts of 2019-08-10 (the second with a fix the first has too, with
 * other values: the first read is kept) and 2019-08-11, a range cutting
 * both days, one vehicle or all. */
static void
test_collect(void **state)
{
	char dir[300], path[400], err[512];
	(void)state;
	snprintf(dir, sizeof dir, "%s/arch", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	const char *p1 = "vehicle,ts,lat,lon\n"
			 "A,2019-08-10T01:00:00Z,1,1\nA,2019-08-10T03:00:00Z,1,3\n"
			 "B,2019-08-10T02:00:00Z,2,2\nB,2019-08-10T23:00:00Z,2,23\n";
	const char *p2 = "vehicle,ts,lat,lon\n"
			 "A,2019-08-10T02:00:00Z,1,2\nB,2019-08-10T02:00:00Z,9,9\n";
	const char *d2 = "vehicle,ts,lat,lon\nA,2019-08-11T00:30:00Z,1,24.5\n"
			 "A,2019-08-11T05:00:00Z,1,29\n";
	snprintf(path, sizeof path, "%s/positions-2019-08-10.csv.gz", dir);
	write_file(path, p1, strlen(p1), true);
	snprintf(path, sizeof path, "%s/positions-2019-08-10.p2.csv.gz", dir);
	write_file(path, p2, strlen(p2), true);
	snprintf(path, sizeof path, "%s/positions-2019-08-11.csv.gz", dir);
	write_file(path, d2, strlen(d2), true);
	snprintf(path, sizeof path, "%s/.positions-2019-08-11.csv.gz.tmp", dir);
	write_file(path, "garbage", 7, false); /* not an archive's name: ignored */

	struct ctl_arch_rows rows = { 0 };
	int64_t from = US(D0810) + INT64_C(3600000000) * 2; /* 02:00 */
	int64_t to = US(D0810 + 1) + INT64_C(3600000000);   /* next day 01:00 */
	assert_int_equal(ctl_arch_collect(dir, from, to, NULL, 0, &rows, NULL, err, sizeof err),
			 CTL_ARCH_OK);
	char got[256] = "";
	for (size_t i = 0; i < rows.n; i++) {
		char one[32];
		snprintf(one, sizeof one, "%s:%s ", rows.r[i].v[CTL_ARCH_VEHICLE],
			 rows.r[i].v[CTL_ARCH_LON]);
		strcat(got, one);
	}
	/* by time then vehicle; B at 02:00 from part 1 (2), not part 2's (9) */
	assert_string_equal(got, "A:2 B:2 A:3 B:23 A:24.5 ");
	ctl_arch_rows_clear(&rows);
	assert_int_equal(rows.n, 0);

	assert_int_equal(ctl_arch_collect(dir, US(D0810), US(D0810 + 2), "A", 0, &rows, NULL, err,
					  sizeof err),
			 CTL_ARCH_OK);
	assert_int_equal(rows.n, 5);
	for (size_t i = 1; i < rows.n; i++)
		assert_true(rows.r[i - 1].ts_us < rows.r[i].ts_us);
	ctl_arch_rows_clear(&rows);

	/* a damaged part is an error naming it */
	snprintf(path, sizeof path, "%s/positions-2019-08-10.p3.csv.gz", dir);
	write_file(path, "vehicle,ts\n", 11, true);
	assert_int_equal(ctl_arch_collect(dir, US(D0810), US(D0810 + 1), NULL, 0, &rows, NULL, err,
					  sizeof err),
			 CTL_ARCH_EFORMAT);
	assert_non_null(strstr(err, "positions-2019-08-10.p3.csv.gz"));
	ctl_arch_rows_clear(&rows);
	/* days outside the range are not opened */
	assert_int_equal(ctl_arch_collect(dir, US(D0810 + 1), US(D0810 + 2), NULL, 0, &rows, NULL,
					  err, sizeof err),
			 CTL_ARCH_OK);
	assert_int_equal(rows.n, 2);
	ctl_arch_rows_clear(&rows);
}

/* A seed's verdict by its name: ok--* must read (rc CTL_ARCH_OK), bad--*
 * must be refused. Returns whether the name gave one. */
static bool
seed_verdict(const char *name, int rc, const char *err)
{
	if (strncmp(name, "ok--", 4) == 0) {
		if (rc != CTL_ARCH_OK)
			fail_msg("%s: %d %s", name, rc, err);
		return true;
	}
	if (strncmp(name, "bad--", 5) == 0) {
		if (rc == CTL_ARCH_OK)
			fail_msg("%s: read as valid", name);
		return true;
	}
	return false;
}

/* The fuzz target's seeds and findings (tests/fuzz/corpus/ctl_archive):
 * ok--* read through, bad--* refused, each from a memfd as the target
 * reads them. */
static bool
replay_seed(const char *name, const uint8_t *data, size_t size, const void *arg)
{
	char path[300], err[512];
	(void)arg;
	/* named as the target names it: zstd by its magic number */
	snprintf(path, sizeof path, "%s/seed%s", tmpdir,
		 size >= 4 && !memcmp(data, "\x28\xb5\x2f\xfd", 4) ? ".csv.zst" : "");
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
	int rc = ctl_arch_read(path, NULL, NULL, NULL, err, sizeof err);
	return seed_verdict(name, rc, err);
}

static void
test_corpus(void **state)
{
	(void)state;
	struct corpus_count c = corpus_walk("corpus/ctl_archive", "", replay_seed, NULL);
	assert_true(c.files >= 4);
	assert_true(c.checked >= 4);
}

/* ---- the per-vehicle index ------------------------------------------------- */

/* Writes an archive of recs (NULL-terminated) with ctl_arch_writer at
 * path, its index beside it. Returns the writer's code. */
static int
write_indexed(const char *path, const char *const *recs, char *err, size_t errlen)
{
	char ipath[400];
	ctl_arch_writer *w;
	assert_int_equal(ctl_arch_index_name(path, ipath, sizeof ipath), 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ifd = open(ipath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && ifd >= 0);
	assert_int_equal(ctl_arch_writer_new(fd, ifd, ctl_arch_codec_of(path), &w), CTL_ARCH_OK);
	int rc = CTL_ARCH_OK;
	for (size_t i = 0; recs[i] && rc == CTL_ARCH_OK; i++)
		rc = ctl_arch_writer_record(w, recs[i], strlen(recs[i]));
	if (rc == CTL_ARCH_OK)
		rc = ctl_arch_writer_finish(w, NULL);
	snprintf(err, errlen, "%s", ctl_arch_writer_error(w));
	ctl_arch_writer_free(w);
	close(fd);
	close(ifd);
	return rc;
}

struct writer_case {
	const char *name;
	const char *recs[6];
	int rc;
	const char *err;
};

static const struct writer_case writer_cases[] = {
	{ "header and rows",
	  { "vehicle,ts,lat,lon\n", "A,2019-08-10T00:00:00Z,1,2\n", "B,2019-08-10T00:00:00Z,1,2\n",
	    NULL },
	  CTL_ARCH_OK,
	  "" },
	{ "header alone", { "vehicle,ts,lat,lon\n", NULL }, CTL_ARCH_OK, "" },
	{ "vehicles out of order",
	  { "vehicle,ts,lat,lon\n", "B,2019-08-10T00:00:00Z,1,2\n", "A,2019-08-10T00:00:00Z,1,2\n",
	    NULL },
	  CTL_ARCH_EFORMAT,
	  "vehicle 'A' after 'B'" },
	{ "a vehicle again after another",
	  { "vehicle,ts,lat,lon\n", "A,2019-08-10T00:00:00Z,1,2\n", "B,2019-08-10T00:00:00Z,1,2\n",
	    "A,2019-08-10T00:00:01Z,1,2\n", NULL },
	  CTL_ARCH_EFORMAT,
	  "after 'B'" },
	{ "no line end",
	  { "vehicle,ts,lat,lon\n", "A,2019-08-10T00:00:00Z,1,2", NULL },
	  CTL_ARCH_EFORMAT,
	  "not one CSV record" },
	{ "two records at once",
	  { "vehicle,ts,lat,lon\nA,2019-08-10T00:00:00Z,1,2\n", NULL },
	  CTL_ARCH_EFORMAT,
	  "not one CSV record" },
	{ "no vehicle",
	  { "vehicle,ts,lat,lon\n", ",2019-08-10T00:00:00Z,1,2\n", NULL },
	  CTL_ARCH_EFORMAT,
	  "no valid vehicle" },
	{ "a vehicle over 32 bytes",
	  { "vehicle,ts,lat,lon\n", "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABC,2019-08-10T00:00:00Z,1,2\n",
	    NULL },
	  CTL_ARCH_EFORMAT,
	  "no valid vehicle" },
	{ "nothing", { NULL }, CTL_ARCH_EFORMAT, "no header" },
};

static void
test_writer(void **state)
{
	const struct writer_case *c = *state;
	char path[400], err[300];
	uint64_t rows = 0;
	for (int zst = 0; zst < 2; zst++) {
		snprintf(path, sizeof path, "%s/w-%d.csv.%s", tmpdir, (int)(c - writer_cases),
			 zst ? "zst" : "gz");
		assert_int_equal(write_indexed(path, c->recs, err, sizeof err), c->rc);
		if (c->rc != CTL_ARCH_OK) {
			assert_non_null(strstr(err, c->err));
			continue;
		}
		/* read whole (zlib and libzstd read the members or frames as one
		 * stream) and through the index */
		assert_int_equal(ctl_arch_read(path, NULL, NULL, &rows, err, sizeof err),
				 CTL_ARCH_OK);
		uint64_t irows = 99;
		assert_int_equal(
			ctl_arch_read_indexed(path, NULL, NULL, NULL, &irows, err, sizeof err),
			CTL_ARCH_OK);
		assert_int_equal(irows, rows);
	}
}

/* A day of three vehicles with an index, and copies of it made wrong. */
static const char *const day_recs[] = {
	"vehicle,ts,lat,lon,zone_ids\n",    "A,2019-08-10T01:00:00Z,1,1,{}\n",
	"A,2019-08-10T02:00:00Z,1,2,{}\n",  "B,2019-08-10T01:00:00Z,2,1,{}\n",
	"C,2019-08-10T01:00:00Z,3,1,{4}\n", "C,2019-08-10T03:00:00Z,3,3,{4}\n",
	"C,2019-08-10T04:00:00Z,3,4,{4}\n", NULL,
};

/* The vehicles and longitudes collect gives, "A:1 A:2 ". */
static void
collect_text(const char *dir, const char *vehicle, unsigned flags, char *got, size_t len,
	     struct ctl_arch_stats *st, int want_rc)
{
	struct ctl_arch_rows rows = { 0 };
	char err[512];
	got[0] = '\0';
	int rc = ctl_arch_collect(dir, US(D0810), US(D0810 + 1), vehicle, flags, &rows, st, err,
				  sizeof err);
	if (rc != want_rc)
		fail_msg("collect %s: %d (%s)", vehicle ? vehicle : "all", rc, err);
	for (size_t i = 0; i < rows.n; i++) {
		size_t n = strlen(got);
		snprintf(got + n, len - n, "%s:%s ", rows.r[i].v[CTL_ARCH_VEHICLE],
			 rows.r[i].v[CTL_ARCH_LON]);
	}
	ctl_arch_rows_clear(&rows);
}

static void
test_index_collect(void **state)
{
	char dir[300], path[400], ipath[400], err[300], got[256];
	struct ctl_arch_stats st;
	struct stat sb;
	(void)state;
	snprintf(dir, sizeof dir, "%s/indexed", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof path, "%s/positions-2019-08-10.csv.gz", dir);
	snprintf(ipath, sizeof ipath, "%s/positions-2019-08-10.idx.gz", dir);
	assert_int_equal(write_indexed(path, day_recs, err, sizeof err), CTL_ARCH_OK);

	/* through the index: one file, its vehicle's rows */
	collect_text(dir, "C", 0, got, sizeof got, &st, CTL_ARCH_OK);
	assert_string_equal(got, "C:1 C:3 C:4 ");
	assert_int_equal(st.files, 1);
	assert_int_equal(st.indexed, 1);
	assert_string_equal(st.note, "");
	collect_text(dir, "B", 0, got, sizeof got, &st, CTL_ARCH_OK);
	assert_string_equal(got, "B:1 ");
	collect_text(dir, "AB", 0, got, sizeof got, &st,
		     CTL_ARCH_OK); /* none: its neighbours checked */
	assert_string_equal(got, "");
	assert_int_equal(st.indexed, 1);
	collect_text(dir, NULL, 0, got, sizeof got, &st, CTL_ARCH_OK); /* every vehicle: whole */
	assert_string_equal(got, "A:1 B:1 C:1 A:2 C:3 C:4 ");
	assert_int_equal(st.indexed, 0);

	/* a byte of A's member spoilt: B and C are still read (their members
	 * alone), A's track and the whole file are errors */
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	unsigned char orig[4096], bad;
	assert_true(sb.st_size < (off_t)sizeof orig);
	assert_int_equal(pread(fd, orig, (size_t)sb.st_size, 0), sb.st_size);
	off_t a_mid = 0;
	{
		/* the middle of A's member, where the index says it is */
		gzFile gz = gzopen(ipath, "rb");
		char idx[512];
		int n = gzread(gz, idx, sizeof idx - 1);
		gzclose(gz);
		assert_true(n > 0);
		idx[n] = '\0';
		unsigned long long off, bytes;
		char *a = strstr(idx, "\"A\",");
		assert_non_null(a);
		assert_int_equal(sscanf(a + 4, "%llu,%llu", &off, &bytes), 2);
		a_mid = (off_t)(off + bytes / 2);
	}
	bad = orig[a_mid] ^ 0x55;
	assert_int_equal(pwrite(fd, &bad, 1, a_mid), 1);
	collect_text(dir, "C", 0, got, sizeof got, &st, CTL_ARCH_OK);
	assert_string_equal(got, "C:1 C:3 C:4 ");
	assert_int_equal(st.indexed, 1);
	collect_text(dir, "C", CTL_ARCH_NO_INDEX, got, sizeof got, &st, CTL_ARCH_EIO);
	collect_text(dir, "A", 0, got, sizeof got, &st, CTL_ARCH_EIO);
	assert_non_null(strstr(st.note, "read the whole file"));
	assert_int_equal(pwrite(fd, orig, (size_t)sb.st_size, 0), sb.st_size);
	close(fd);

	/* an index that is not the archive's (another day's): noted, the
	 * file read whole, the same rows */
	char other[400];
	snprintf(other, sizeof other, "%s/positions-2019-08-11.csv.gz", tmpdir);
	const char *const other_recs[] = { "vehicle,ts,lat,lon\n", "A,2019-08-11T00:00:00Z,1,2\n",
					   NULL };
	assert_int_equal(write_indexed(other, other_recs, err, sizeof err), CTL_ARCH_OK);
	char oidx[400];
	assert_int_equal(ctl_arch_index_name(other, oidx, sizeof oidx), 0);
	assert_int_equal(rename(oidx, ipath), 0);
	collect_text(dir, "C", 0, got, sizeof got, &st, CTL_ARCH_OK);
	assert_string_equal(got, "C:1 C:3 C:4 ");
	assert_int_equal(st.indexed, 0);
	assert_non_null(strstr(st.note, "positions-2019-08-10.csv.gz: index"));
	assert_non_null(strstr(st.note, "read the whole file"));
	/* no index (an archive written before it): read whole, no note */
	assert_int_equal(unlink(ipath), 0);
	collect_text(dir, "C", 0, got, sizeof got, &st, CTL_ARCH_OK);
	assert_string_equal(got, "C:1 C:3 C:4 ");
	assert_int_equal(st.indexed, 0);
	assert_string_equal(st.note, "");
	uint64_t rows;
	assert_int_equal(ctl_arch_read_indexed(path, "C", NULL, NULL, &rows, err, sizeof err),
			 CTL_ARCH_ENOINDEX);
}

struct index_name_case {
	const char *name;
	const char *archive;
	const char *index;
};

static const struct index_name_case index_name_cases[] = {
	{ "part 1", "positions-2019-08-10.csv.gz", "positions-2019-08-10.idx.gz" },
	{ "part 2 in a folder", "/a/b/positions-2019-08-10.p2.csv.gz",
	  "/a/b/positions-2019-08-10.p2.idx.gz" },
	{ "zstd", "/a/positions-2019-08-10.p2.csv.zst", "/a/positions-2019-08-10.p2.idx.zst" },
	{ "not an archive", "positions-2019-08-10.csv", NULL },
};

static void
test_index_name(void **state)
{
	const struct index_name_case *c = *state;
	char buf[100];
	int rc = ctl_arch_index_name(c->archive, buf, sizeof buf);
	if (!c->index) {
		assert_int_equal(rc, -1);
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(buf, c->index);
	assert_int_equal(ctl_arch_index_name(c->archive, buf, strlen(c->index)), -1);
}

/* ---- zstd archives ------------------------------------------------------ */

/* The whole of a file into a malloc'd buffer (*len bytes). */
static unsigned char *
slurp(const char *path, size_t *len)
{
	struct stat sb;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	unsigned char *b = malloc((size_t)sb.st_size + 1);
	assert_non_null(b);
	assert_int_equal(pread(fd, b, (size_t)sb.st_size, 0), sb.st_size);
	close(fd);
	*len = (size_t)sb.st_size;
	return b;
}

static void
spill(const char *path, const unsigned char *b, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The text of a gzip (gzread) or zstd (one-shot, every frame) file. */
static char *
text_of(const char *path, size_t *len)
{
	size_t n;
	if (ctl_arch_codec_of(path) == CTL_ARCH_GZIP) {
		char *out = malloc(1 << 16);
		gzFile gz = gzopen(path, "rb");
		assert_non_null(gz);
		int k = gzread(gz, out, 1 << 16);
		assert_true(k >= 0);
		gzclose(gz);
		*len = (size_t)k;
		return out;
	}
	unsigned char *in = slurp(path, &n);
	char *out = malloc(1 << 16);
	size_t k = ZSTD_decompress(out, 1 << 16, in, n);
	assert_false(ZSTD_isError(k));
	free(in);
	*len = k;
	return out;
}

/* The zstd archive holds the gzip archive's text byte for byte, a
 * checksummed frame per member, the index's entries on the frames. */
static void
test_zstd_round_trip(void **state)
{
	char gz[400], zs[400], izs[400], igz[400], err[300];
	size_t glen, zlen, iglen, izlen, alen;
	(void)state;
	snprintf(gz, sizeof gz, "%s/positions-2019-08-10.csv.gz", tmpdir);
	snprintf(zs, sizeof zs, "%s/positions-2019-08-10.csv.zst", tmpdir);
	assert_int_equal(write_indexed(gz, day_recs, err, sizeof err), CTL_ARCH_OK);
	assert_int_equal(write_indexed(zs, day_recs, err, sizeof err), CTL_ARCH_OK);
	char *gt = text_of(gz, &glen), *zt = text_of(zs, &zlen);
	assert_int_equal(glen, zlen);
	assert_memory_equal(gt, zt, glen);
	free(gt);
	free(zt);
	/* the indexes: the same vehicles and rows (offsets differ) */
	assert_int_equal(ctl_arch_index_name(gz, igz, sizeof igz), 0);
	assert_int_equal(ctl_arch_index_name(zs, izs, sizeof izs), 0);
	char *it = text_of(izs, &izlen), *gi = text_of(igz, &iglen);
	it[izlen] = '\0';
	gi[iglen] = '\0';
	assert_int_equal(strncmp(it, "vehicle,offset,bytes,rows\n,0,", 29), 0);
	/* each entry: one whole checksummed frame, where the index says */
	unsigned char *arch = slurp(zs, &alen);
	int entries = 0;
	unsigned long long total = 0;
	for (char *line = strchr(it, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		unsigned long long off, bytes, rows;
		char *comma = strchr(line, ',');
		assert_int_equal(sscanf(comma + 1, "%llu,%llu,%llu", &off, &bytes, &rows), 3);
		assert_true(off + bytes <= alen);
		assert_int_equal(ZSTD_findFrameCompressedSize(arch + off, alen - off), bytes);
		/* Frame_Header_Descriptor (RFC 8878 3.1.1.1.1): Content_Checksum_flag */
		assert_true(arch[off + 4] & 0x04);
		entries++;
		total += rows;
	}
	assert_int_equal(entries, 4); /* the header's and A, B, C */
	assert_int_equal(total, 6);
	assert_non_null(strstr(gi, "\n\"C\","));
	assert_non_null(strstr(it, "\n\"C\","));
	free(arch);
	free(it);
	free(gi);
	/* a gzip file under a zstd name is refused by its magic number */
	char wrong[400];
	snprintf(wrong, sizeof wrong, "%s/wrong.csv.zst", tmpdir);
	unsigned char *g = slurp(gz, &glen);
	spill(wrong, g, glen);
	free(g);
	assert_int_equal(ctl_arch_read(wrong, NULL, NULL, NULL, err, sizeof err), CTL_ARCH_EIO);
	assert_non_null(strstr(err, "wrong.csv.zst: not a zstd file"));
}

/* A zstd archive cut anywhere, or with any byte flipped, is an error naming
 * the file, read whole; through its index, a flipped byte is found in the
 * frame it spoils, and the other vehicles' frames still read. */
static void
test_zstd_damage(void **state)
{
	char dir[300], path[400], cut[400], err[512], got[256];
	size_t len;
	struct ctl_arch_stats st;
	(void)state;
	snprintf(dir, sizeof dir, "%s/zdamage", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof path, "%s/positions-2019-08-10.csv.zst", dir);
	snprintf(cut, sizeof cut, "%s/cut.csv.zst", tmpdir);
	assert_int_equal(write_indexed(path, day_recs, err, sizeof err), CTL_ARCH_OK);
	unsigned char *orig = slurp(path, &len);
	char ipath[400];
	assert_int_equal(ctl_arch_index_name(path, ipath, sizeof ipath), 0);
	int ifd = open(ipath, O_RDONLY);
	assert_true(ifd >= 0);
	int boundaries = 0;
	for (size_t keep = 0; keep < len; keep++) {
		spill(cut, orig, keep);
		uint64_t rows = 0;
		int rc = ctl_arch_read(cut, NULL, NULL, &rows, err, sizeof err);
		if (rc == CTL_ARCH_OK) {
			/* a cut between two frames is a complete zstd stream of
			 * fewer vehicles (as between gzip members): the index,
			 * whose frames tile the whole file, finds it out */
			assert_true(rows < 6);
			int cfd = open(cut, O_RDONLY);
			rc = ctl_arch_read_indexed_fd(cfd, ifd, cut, NULL, NULL, NULL, &rows, err,
						      sizeof err);
			close(cfd);
			assert_int_equal(rc, CTL_ARCH_EINDEX);
			boundaries++;
		}
		assert_non_null(strstr(err, "cut.csv.zst: "));
	}
	assert_int_equal(boundaries, 3); /* after the header's, A's and B's frames */
	close(ifd);
	/* a flipped byte is an error, or one in a frame's header that does not
	 * touch the text (its window size: as gzip's mtime) */
	unsigned char *bad = malloc(len);
	size_t tlen, blen;
	char *text = text_of(path, &tlen);
	int harmless = 0;
	for (size_t at = 0; at < len; at++) {
		memcpy(bad, orig, len);
		bad[at] ^= 0x55;
		spill(cut, bad, len);
		if (ctl_arch_read(cut, NULL, NULL, NULL, err, sizeof err) == CTL_ARCH_OK) {
			char *same = text_of(cut, &blen);
			if (blen != tlen || memcmp(same, text, tlen) != 0)
				fail_msg("byte %zu flipped: read as good, another text", at);
			free(same);
			harmless++;
		}
	}
	assert_true(harmless <= 4); /* a window descriptor a frame */
	free(text);
	free(bad);
	/* B's frame spoilt: A and C through the index, B is an error */
	size_t ilen;
	char *idx = text_of(ipath, &ilen);
	idx[ilen] = '\0';
	unsigned long long off, bytes;
	char *b = strstr(idx, "\n\"B\",");
	assert_non_null(b);
	assert_int_equal(sscanf(b + 5, "%llu,%llu", &off, &bytes), 2);
	free(idx);
	unsigned char flip = orig[off + bytes - 2] ^ 0x55; /* in its checksum */
	int fd = open(path, O_RDWR);
	assert_int_equal(pwrite(fd, &flip, 1, (off_t)(off + bytes - 2)), 1);
	collect_text(dir, "C", 0, got, sizeof got, &st, CTL_ARCH_OK);
	assert_string_equal(got, "C:1 C:3 C:4 ");
	assert_int_equal(st.indexed, 1);
	collect_text(dir, "A", 0, got, sizeof got, &st, CTL_ARCH_OK);
	assert_string_equal(got, "A:1 A:2 ");
	collect_text(dir, "B", 0, got, sizeof got, &st, CTL_ARCH_EIO);
	assert_non_null(strstr(st.note, "not a complete zstd frame where the index says"));
	assert_int_equal(pwrite(fd, orig, len, 0), (ssize_t)len);
	close(fd);
	/* a damaged index: noted, the file read whole */
	spill(ipath, (const unsigned char *)"garbage", 7);
	collect_text(dir, "B", 0, got, sizeof got, &st, CTL_ARCH_OK);
	assert_string_equal(got, "B:1 ");
	assert_int_equal(st.indexed, 0);
	assert_non_null(strstr(st.note, "index: not a zstd file"));
	free(orig);
}

/* Part 1 gzip, part 2 zstd (the configuration changed): merged as two
 * gzip parts are, part 1's copy of a key kept. */
static void
test_zstd_mixed_parts(void **state)
{
	char dir[300], path[400], err[300], got[256];
	struct ctl_arch_stats st;
	(void)state;
	snprintf(dir, sizeof dir, "%s/mixed", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	const char *const p1[] = { "vehicle,ts,lat,lon\n", "A,2019-08-10T01:00:00Z,1,1\n",
				   "B,2019-08-10T02:00:00Z,2,2\n", NULL };
	const char *const p2[] = { "vehicle,ts,lat,lon\n", "A,2019-08-10T02:00:00Z,1,2\n",
				   "B,2019-08-10T02:00:00Z,9,9\n", NULL };
	snprintf(path, sizeof path, "%s/positions-2019-08-10.csv.gz", dir);
	assert_int_equal(write_indexed(path, p1, err, sizeof err), CTL_ARCH_OK);
	snprintf(path, sizeof path, "%s/positions-2019-08-10.p2.csv.zst", dir);
	assert_int_equal(write_indexed(path, p2, err, sizeof err), CTL_ARCH_OK);
	collect_text(dir, NULL, 0, got, sizeof got, &st, CTL_ARCH_OK);
	assert_string_equal(got, "A:1 A:2 B:2 ");
	assert_int_equal(st.files, 2);
	collect_text(dir, "A", 0, got, sizeof got, &st, CTL_ARCH_OK);
	assert_string_equal(got, "A:1 A:2 ");
	assert_int_equal(st.indexed, 2);
	struct ctl_arch_file *files;
	size_t n;
	assert_int_equal(ctl_arch_list(dir, D0810, D0810, &files, &n, err, sizeof err),
			 CTL_ARCH_OK);
	assert_int_equal(n, 2);
	assert_int_equal(files[0].codec, CTL_ARCH_GZIP);
	assert_int_equal(files[1].codec, CTL_ARCH_ZSTD);
	assert_int_equal(files[1].part, 2);
	free(files);
}

/* The index fuzz target's seeds (tests/fuzz/corpus/ctl_archive_index):
 * ok--* read, bad--* refused, through the target's own case. */
static bool
replay_index_seed(const char *name, const uint8_t *data, size_t size, const void *arg)
{
	(void)arg;
	return seed_verdict(name, fz_idx_case(data, size), "");
}

static void
test_index_corpus(void **state)
{
	(void)state;
	struct corpus_count c = corpus_walk("corpus/ctl_archive_index", "", replay_index_seed,
					    NULL);
	assert_true(c.files >= 15);
	assert_true(c.checked >= 15);
}

int
main(void)
{
	struct CMUnitTest tests[128];
	size_t n = 0;
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(tmpdir, sizeof tmpdir, "%s/test_ctl_archive.XXXXXX", base);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}

	ROWS(name_cases, test_name);
	ONE(test_name_limits);
	ROWS(day_cases, test_day);
	ONE(test_day_parse_bad);
	ROWS(due_cases, test_due);
	ROWS(zones_cases, test_zones);
	ROWS(read_cases, test_read);
	ONE(test_read_values);
	ONE(test_read_cut);
	ONE(test_read_stop);
	ONE(test_collect);
	ONE(test_corpus);
	ROWS(writer_cases, test_writer);
	ROWS(index_name_cases, test_index_name);
	ONE(test_index_collect);
	ONE(test_zstd_round_trip);
	ONE(test_zstd_damage);
	ONE(test_zstd_mixed_parts);
	ONE(test_index_corpus);
	int rc = _cmocka_run_group_tests("test_ctl_archive", tests, n, NULL, NULL);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", tmpdir);
	if (system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
