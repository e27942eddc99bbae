/*
 * ctl_track.c: hazgate-ctl track VEHICLE --from T --to T [--format ...]
 *
 * The stored positions of one vehicle with from <= ts < to, in time order,
 * as GeoJSON, GPX, CSV or JSON lines: the writers are ctl_trackfmt.c's,
 * shared with hazgate-web's GET /api/v1/vehicles/{plate}/track.
 */
#include "ctl/ctl.h"

#include <getopt.h>
#include <string.h>

static const char usage_text[] = "track VEHICLE --from T --to T [--format geojson|gpx|csv|json]";

static const char help_text[] =
	"usage: hazgate-ctl track VEHICLE --from T --to T [--format geojson|gpx|csv|json]\n"
	"\n"
	"The stored track of VEHICLE from T (inclusive) to T (exclusive), in time order:\n"
	"  geojson  (default) a Feature with a LineString; properties.coordTimes holds\n"
	"           each point's time (RFC 3339 UTC), properties.speed_kmh its speed\n"
	"  gpx      GPX 1.1 (trk/trkseg/trkpt with ele, time, fix, sat, hdop)\n"
	"  csv      one fix per line with a header\n"
	"  json     one fix per line as a JSON object\n"
	"T is RFC 3339 or local 'YYYY-MM-DD HH:MM' in the configured time zone.\n";

enum { OPT_FROM = CTL_OPT_FIRST_COMMAND, OPT_TO };

static const struct option longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ NULL, 0, NULL, 0 },
};

int
ctl_track_main(int argc, char **argv)
{
	struct ctl_common co = { .cmd = "track",
				 .usage = usage_text,
				 .help = help_text,
				 .formats = CTL_FMT_GEOJSON | CTL_FMT_GPX | CTL_FMT_CSV |
					    CTL_FMT_JSON,
				 .format = CTL_FMT_GEOJSON };
	const char *from = NULL, *to = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, CTL_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (c == OPT_FROM)
			from = optarg;
		else if (c == OPT_TO)
			to = optarg;
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

	PGconn *conn = ctl_connect(co.conninfo);
	if (!conn)
		return CTL_EFAIL;
	const char *params[] = { vehicle, from_s, to_s };
	PGresult *res = ctl_query(conn, co.cmd, ctl_track_sql, 3, params);
	PQfinish(conn);
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
