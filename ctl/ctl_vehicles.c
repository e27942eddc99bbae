/*
 * ctl_vehicles.c: hazgate-ctl vehicles [--stale S]
 *
 * One row per vehicle the database knows (from positions' two tiers, by a
 * loose index scan over each one's primary key, plus the vehicles and
 * vehicle_state tables; schema/012):
 * its latest stored fix, how long ago that was, the zones it was in then,
 * its cargo (from the fix, else from the vehicles table) and how many of its
 * alerts are open. --stale S keeps only those silent for longer than S (and
 * those with no fix at all). --never-seen lists the registered vehicles
 * that have no stored fix, with their registry entries; `vehicles import`,
 * `set` and `show` are the fleet registry's (ctl_registry.c).
 */
#include "ctl/ctl.h"
#include "ctl/ctl_registry.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

static const char usage_text[] =
	"vehicles [--stale S | --never-seen] [--format table|json|csv]\n"
	"       hazgate-ctl vehicles import FILE | set PLATE [OPTIONS] | show PLATE";

static const char help_text[] =
	"usage: hazgate-ctl vehicles [--stale S | --never-seen] [--format table|json|csv]\n"
	"       hazgate-ctl vehicles import FILE.csv|FILE.json\n"
	"       hazgate-ctl vehicles set PLATE [--un X] [--class X] [--carrier X] [--driver X]\n"
	"                [--terminal-phone X] [--route ID]... [--device ID]...\n"
	"       hazgate-ctl vehicles show PLATE\n"
	"\n"
	"Each vehicle's last fix and its age, the zones it is in, its cargo and its\n"
	"open alerts. --stale S lists only the vehicles silent for longer than S:\n"
	"seconds, or a duration such as 90s, 5m, 2h, 1d, 1h30m. --never-seen lists\n"
	"the registered vehicles with no stored fix. import, set and show keep the\n"
	"fleet registry (see hazgate-ctl vehicles import --help).\n";

enum { OPT_STALE = CTL_OPT_FIRST_COMMAND, OPT_NEVER_SEEN };

static const struct option longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "stale", required_argument, NULL, OPT_STALE },
	{ "never-seen", no_argument, NULL, OPT_NEVER_SEEN },
	{ NULL, 0, NULL, 0 },
};

static const char vehicles_sql[] =
	"WITH RECURSIVE pv(vehicle) AS ("
	"  (SELECT vehicle FROM positions_recent ORDER BY vehicle LIMIT 1)"
	"  UNION ALL"
	"  SELECT (SELECT p.vehicle FROM positions_recent p WHERE p.vehicle > pv.vehicle"
	"          ORDER BY p.vehicle LIMIT 1)"
	"  FROM pv WHERE pv.vehicle IS NOT NULL"
	"), sv(vehicle) AS ("
	"  (SELECT vehicle FROM positions_slices ORDER BY vehicle LIMIT 1)"
	"  UNION ALL"
	"  SELECT (SELECT p.vehicle FROM positions_slices p WHERE p.vehicle > sv.vehicle"
	"          ORDER BY p.vehicle LIMIT 1)"
	"  FROM sv WHERE sv.vehicle IS NOT NULL"
	"), known AS ("
	"  SELECT vehicle FROM pv WHERE vehicle IS NOT NULL"
	"  UNION SELECT vehicle FROM sv WHERE vehicle IS NOT NULL"
	"  UNION SELECT vehicle FROM vehicles"
	"  UNION SELECT vehicle FROM vehicle_state"
	") "
	"SELECT k.vehicle,"
	"  floor(extract(epoch FROM coalesce(p.ts, s.last_ts)) * 1000000)::int8,"
	"  floor(extract(epoch FROM now() - coalesce(p.ts, s.last_ts)))::int8,"
	"  coalesce(p.lat, s.lat), coalesce(p.lon, s.lon), p.speed_kmh,"
	"  (SELECT json_agg(z.id ORDER BY z.id) FROM zones z WHERE z.id = ANY (p.zone_ids)),"
	"  (SELECT json_agg(z.name ORDER BY z.id) FROM zones z WHERE z.id = ANY (p.zone_ids)),"
	"  coalesce(p.un, v.un), coalesce(p.hazard_class, v.hazard_class), v.carrier,"
	"  (SELECT count(*) FROM alerts a WHERE a.vehicle = k.vehicle AND a.acked_at IS NULL) "
	"FROM known k "
	"LEFT JOIN LATERAL hazgate_positions_last(k.vehicle) p ON true "
	"LEFT JOIN vehicles v ON v.vehicle = k.vehicle "
	"LEFT JOIN vehicle_state s ON s.vehicle = k.vehicle "
	"WHERE $1::int8 IS NULL OR coalesce(p.ts, s.last_ts) IS NULL"
	"   OR coalesce(p.ts, s.last_ts) < now() - make_interval(secs => $1::int8) "
	"ORDER BY k.vehicle";

int
ctl_vehicles_main(int argc, char **argv)
{
	static const struct ctl_column cols[] = {
		{ "vehicle", NULL, 0, 0 },
		{ "last_fix", NULL, CTL_COL_LOCALTIME, 0 },
		{ "age_s", "AGE", CTL_COL_DURATION | CTL_COL_RIGHT, 0 },
		{ "lat", NULL, 0, 0 },
		{ "lon", NULL, 0, 0 },
		{ "speed_kmh", "KM/H", CTL_COL_RIGHT, 0 },
		{ "zone_ids", NULL, CTL_COL_NOTABLE, 0 },
		{ "zones", NULL, 0, 0 },
		{ "un", "UN", 0, 0 },
		{ "hazard_class", "CLASS", 0, 0 },
		{ "carrier", NULL, CTL_COL_NOTABLE, 0 },
		{ "open_alerts", "OPEN", CTL_COL_RIGHT, 0 },
	};
	struct ctl_common co = { .cmd = "vehicles",
				 .usage = usage_text,
				 .help = help_text,
				 .formats = CTL_FMT_TABLE | CTL_FMT_JSON | CTL_FMT_CSV,
				 .format = CTL_FMT_TABLE };
	const char *stale = NULL;
	bool never_seen = false;
	int c;
	if (argc > 1 &&
	    (!strcmp(argv[1], "import") || !strcmp(argv[1], "set") || !strcmp(argv[1], "show")))
		return ctl_registry_main(argc - 1, argv + 1);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, CTL_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (c == OPT_STALE) {
			stale = optarg;
			continue;
		}
		if (c == OPT_NEVER_SEEN) {
			never_seen = true;
			continue;
		}
		int r = ctl_common_option(&co, c, argv);
		if (r >= 0)
			return r;
	}
	if (optind < argc)
		return ctl_usage_error(co.cmd, co.usage, "unexpected argument '%s'", argv[optind]);
	char stale_s[24];
	if (stale) {
		int64_t secs;
		if (ctl_duration_parse(stale, &secs) != 0)
			return ctl_usage_error(
				co.cmd, co.usage,
				"--stale: '%s' is not a duration (seconds, or 90s, 5m, "
				"2h, 1d, 1h30m)",
				stale);
		snprintf(stale_s, sizeof stale_s, "%" PRId64, secs);
	}
	if (stale && never_seen)
		return ctl_usage_error(co.cmd, co.usage,
				       "--stale and --never-seen exclude each other");
	PGconn *conn = ctl_connect(co.conninfo);
	if (!conn)
		return CTL_EFAIL;
	if (never_seen) {
		int r = ctl_registry_list(conn, &co, NULL);
		PQfinish(conn);
		return r;
	}
	const char *params[] = { stale ? stale_s : NULL };
	PGresult *res = ctl_query(conn, co.cmd, vehicles_sql, 1, params);
	int rc = CTL_EFAIL;
	ctl_out *o = NULL;
	if (!res)
		goto done;
	o = ctl_out_new(co.format, cols, sizeof cols / sizeof cols[0], stdout, false);
	if (!o)
		goto done;
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *row = json_object();
		json_object_set_new(row, "vehicle", ctl_json_text(res, i, 0));
		json_object_set_new(row, "last_fix", ctl_json_time(res, i, 1));
		json_object_set_new(row, "age_s", ctl_json_int(res, i, 2));
		json_object_set_new(row, "lat", ctl_json_real(res, i, 3));
		json_object_set_new(row, "lon", ctl_json_real(res, i, 4));
		json_object_set_new(row, "speed_kmh", ctl_json_real(res, i, 5));
		json_t *ids = ctl_json_parse(res, i, 6), *names = ctl_json_parse(res, i, 7);
		json_object_set_new(row, "zone_ids", json_is_null(ids) ? json_array() : ids);
		json_object_set_new(row, "zones", json_is_null(names) ? json_array() : names);
		if (json_is_null(ids))
			json_decref(ids);
		if (json_is_null(names))
			json_decref(names);
		json_object_set_new(row, "un", ctl_json_text(res, i, 8));
		json_object_set_new(row, "hazard_class", ctl_json_text(res, i, 9));
		json_object_set_new(row, "carrier", ctl_json_text(res, i, 10));
		json_object_set_new(row, "open_alerts", ctl_json_int(res, i, 11));
		ctl_out_row(o, row);
	}
	ctl_out_finish(o);
	rc = CTL_OK;
done:
	ctl_out_free(o);
	PQclear(res);
	PQfinish(conn);
	return rc;
}
