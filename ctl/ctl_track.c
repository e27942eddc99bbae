/*
 * ctl_track.c: hazgate-ctl track VEHICLE --from T --to T [--format ...]
 *
 * The stored positions of one vehicle with from <= ts < to, in time order,
 * as GeoJSON, GPX, CSV or JSON lines: the writers are ctl_trackfmt.c's,
 * shared with hazgate-web's GET /api/v1/vehicles/{plate}/track.
 *
 * --archive DIR adds the days archived there by `retention run`
 * (ctl_archive.h): the archived rows become rows of ctl_track_sql's result
 * (the same text PostgreSQL would give), merged with the database's in
 * time order, so the writers print them byte for byte as before the drop;
 * a fix both in the database and in an archive is printed once. Each
 * archived day's file is read through its per-vehicle index (only the
 * vehicle's gzip member or zstd frame), or whole when it has none.
 *
 * The database's rows are read and decoded by ctl_slices_fetch()
 * (ctl_slices.h), without the server's SQL decoder of slices. With
 * nothing archived to merge, ctl_track_write_fixes() writes the decoded
 * fixes straight; else slices_track() gives what ctl_track_sql would,
 * byte for byte, for the merge and ctl_track_write. Both write the same
 * bytes (tests/unit/test_ctl_trackfix).
 */
#include "ctl/ctl.h"
#include "ctl/ctl_archive.h"
#include "ctl/ctl_slices.h"

#include <getopt.h>
#include <string.h>

static const char usage_text[] =
	"track VEHICLE --from T --to T [--format geojson|gpx|csv|json] [--archive DIR]";

static const char help_text[] =
	"usage: hazgate-ctl track VEHICLE --from T --to T [--format geojson|gpx|csv|json]\n"
	"\n"
	"The stored track of VEHICLE from T (inclusive) to T (exclusive), in time order:\n"
	"  geojson  (default) a Feature with a LineString; properties.coordTimes holds\n"
	"           each point's time (RFC 3339 UTC), properties.speed_kmh its speed\n"
	"  gpx      GPX 1.1 (trk/trkseg/trkpt with ele, time, fix, sat, hdop)\n"
	"  csv      one fix per line with a header\n"
	"  json     one fix per line as a JSON object\n"
	"--archive DIR also reads the days archived in DIR by 'retention run'.\n"
	"T is RFC 3339 or local 'YYYY-MM-DD HH:MM' in the configured time zone.\n";

enum { OPT_FROM = CTL_OPT_FIRST_COMMAND, OPT_TO, OPT_ARCHIVE };

static const struct option longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "archive", required_argument, NULL, OPT_ARCHIVE },
	{ NULL, 0, NULL, 0 },
};

/* ctl_track_sql's columns, in its order, and where an archived row's
 * come from (TS: the parsed time; ZONES: the literal made JSON). */
static const int track_from_arch[] = {
	CTL_ARCH_TS,   CTL_ARCH_LAT, CTL_ARCH_LON,  CTL_ARCH_SPEED, CTL_ARCH_HEADING, CTL_ARCH_ALT,
	CTL_ARCH_HDOP, CTL_ARCH_FIX, CTL_ARCH_SATS, CTL_ARCH_UN,    CTL_ARCH_CLASS,   CTL_ARCH_ZONES,
};
#define TRACK_NCOLS ((int)(sizeof track_from_arch / sizeof track_from_arch[0]))

/* Appends archived row rec as row `row` of res. Returns 0, or -1 when
 * libpq is out of memory. */
static int
add_arch_row(PGresult *res, int row, const struct ctl_arch_rec *rec)
{
	char ts[24], zones[4096];
	for (int c = 0; c < TRACK_NCOLS; c++) {
		int a = track_from_arch[c];
		const char *v = rec->v[a];
		if (a == CTL_ARCH_TS) {
			snprintf(ts, sizeof ts, "%lld", (long long)rec->ts_us);
			v = ts;
		} else if (a == CTL_ARCH_ZONES) {
			/* the reader checked the literal; a file without the
			 * column has none: [] as the table's default */
			if (!v || ctl_arch_zones_json(v, zones, sizeof zones) != 0)
				snprintf(zones, sizeof zones, "[]");
			v = zones;
		}
		if (!PQsetvalue(res, row, c, (char *)(v ? v : ""), v ? (int)strlen(v) : -1))
			return -1;
	}
	return 0;
}

/* The fixes of vehicle from the tables (ctl_slices_fetch) as the result of
 * ctl_track_sql would be (ctl_fixes_track_result), for the merge with
 * archived rows. Returns a PGresult to PQclear, or NULL after
 * ctl_error(cmd, ...). */
static PGresult *
slices_track(PGconn *conn, const char *cmd, const char *vehicle, int64_t from_us, int64_t to_us)
{
	struct ctl_fixes f = { 0 };
	char err[600];
	if (ctl_slices_fetch(conn, vehicle, from_us, to_us, CTL_WANT_TRACK, &f, err, sizeof err) !=
	    0) {
		ctl_error(cmd, "%s", err);
		ctl_fixes_clear(&f);
		return NULL;
	}
	PGresult *res = ctl_fixes_track_result(&f);
	if (!res)
		ctl_error(cmd, "out of memory");
	ctl_fixes_clear(&f);
	return res;
}

/* The database's rows (ctl_track_sql's result, time order) and the
 * archived ones (time order) merged into a new result of the same columns;
 * a time in both is the database's row. NULL when out of memory. */
static PGresult *
merge_archive(const PGresult *db, const struct ctl_arch_rows *ar)
{
	PGresAttDesc att[TRACK_NCOLS];
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	int ndb = PQntuples(db), i = 0, out = 0;
	size_t j = 0;

	memset(att, 0, sizeof att);
	for (int c = 0; c < TRACK_NCOLS; c++)
		att[c].name = (char *)ctl_arch_col_names[track_from_arch[c]];
	if (!res || !PQsetResultAttrs(res, TRACK_NCOLS, att))
		goto fail;
	while (i < ndb || j < ar->n) {
		int64_t t = i < ndb ? ctl_field_i64(db, i, 0) : INT64_MAX;
		if (j < ar->n && (i >= ndb || ar->r[j].ts_us < t)) {
			if (add_arch_row(res, out++, &ar->r[j++]) != 0)
				goto fail;
			continue;
		}
		if (j < ar->n && ar->r[j].ts_us == t)
			j++;    /* also in the database */
		for (int c = 0; c < TRACK_NCOLS; c++) {
			bool null = PQgetisnull(db, i, c);
			if (!PQsetvalue(res, out, c, null ? (char *)"" : PQgetvalue(db, i, c),
					null ? -1 : PQgetlength(db, i, c)))
				goto fail;
		}
		out++;
		i++;
	}
	return res;
fail:
	PQclear(res);
	return NULL;
}

/* The track with nothing archived to merge: the fixes decoded here
 * written straight (ctl_track_write_fixes). Closes conn. */
static int
write_db_fixes(const struct ctl_common *co, PGconn *conn, const char *vehicle, int64_t from_us,
	       int64_t to_us, const char *from_s, const char *to_s)
{
	struct ctl_fixes f = { 0 };
	char err[600];
	int rc = ctl_slices_fetch(conn, vehicle, from_us, to_us, ctl_track_want(co->format), &f,
				  err, sizeof err);
	PQfinish(conn);
	if (rc != 0) {
		ctl_error(co->cmd, "%s", err);
		ctl_fixes_clear(&f);
		return CTL_EFAIL;
	}
	if (f.n == 0)
		fprintf(stderr, "hazgate-ctl track: no positions of %s from %s to %s\n", vehicle,
			from_s, to_s);
	rc = ctl_track_write_fixes(stdout, co->format, vehicle, from_s, to_s, &f);
	ctl_fixes_clear(&f);
	if (rc != 0) {
		ctl_error(co->cmd, "out of memory");
		return CTL_EFAIL;
	}
	return CTL_OK;
}

int
ctl_track_main(int argc, char **argv)
{
	struct ctl_common co = { .cmd = "track",
				 .usage = usage_text,
				 .help = help_text,
				 .formats = CTL_FMT_GEOJSON | CTL_FMT_GPX | CTL_FMT_CSV |
					    CTL_FMT_JSON,
				 .format = CTL_FMT_GEOJSON };
	const char *from = NULL, *to = NULL, *archive = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, CTL_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (c == OPT_FROM)
			from = optarg;
		else if (c == OPT_TO)
			to = optarg;
		else if (c == OPT_ARCHIVE)
			archive = optarg;
		else {
			int r = ctl_common_option(&co, c, argv);
			if (r >= 0)
				return r;
		}
	}
	if (optind >= argc)
		return ctl_usage_error(co.cmd, co.usage, "which vehicle?");
	if (argc - optind > 1)
		return ctl_usage_error(co.cmd, co.usage, "one vehicle at a time ('%s' is extra)",
				       argv[optind + 1]);
	const char *vehicle = argv[optind];
	if (!*vehicle)
		return ctl_usage_error(co.cmd, co.usage, "the vehicle is empty");
	int64_t from_us, to_us;
	int bad = ctl_range_parse(&co, from, to, &from_us, &to_us);
	if (bad >= 0)
		return bad;
	char from_s[40], to_s[40];
	ctl_time_format(from_us, from_s);
	ctl_time_format(to_us, to_s);

	if (archive && !*archive)
		return ctl_usage_error(co.cmd, co.usage, "--archive needs a folder");
	struct ctl_arch_rows ar = { 0 };
	char err[512];
	if (archive) {
		struct ctl_arch_stats st;
		int cr = ctl_arch_collect(archive, from_us, to_us, vehicle, 0, &ar, &st, err,
					  sizeof err);
		if (st.note[0])
			fprintf(stderr, "hazgate-ctl track: note: %s\n", st.note);
		if (cr != CTL_ARCH_OK) {
			ctl_error(co.cmd, "%s", err);
			ctl_arch_rows_clear(&ar);
			return CTL_EFAIL;
		}
	}

	PGconn *conn = ctl_connect(co.conninfo);
	if (!conn) {
		ctl_arch_rows_clear(&ar);
		return CTL_EFAIL;
	}
	if (ar.n == 0)
		return write_db_fixes(&co, conn, vehicle, from_us, to_us, from_s, to_s);
	/* ctl_track_sql's result, from the tables decoded here (ctl_slices.h) */
	PGresult *res = slices_track(conn, co.cmd, vehicle, from_us, to_us);
	PQfinish(conn);
	if (res && ar.n) {
		PGresult *merged = merge_archive(res, &ar);
		PQclear(res);
		res = merged;
		if (!merged)
			ctl_error(co.cmd, "out of memory");
	}
	ctl_arch_rows_clear(&ar);
	if (!res)
		return CTL_EFAIL;
	if (PQntuples(res) == 0)
		fprintf(stderr, "hazgate-ctl track: no positions of %s from %s to %s\n", vehicle,
			from_s, to_s);
	ctl_track_write(stdout, co.format, vehicle, from_s, to_s, res);
	PQclear(res);
	fflush(stdout);
	return CTL_OK;
}
