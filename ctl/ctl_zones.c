/*
 * ctl_zones.c: hazgate-ctl zones import FILE [--replace] | list | export
 *
 * import: the file is validated whole first (ctl_zones_load: the geofence
 * loader when built in), then written in one transaction and one statement
 * (an upsert of every feature as a jsonb array; with --replace the zones
 * absent from the file are deleted too), so a bad file changes nothing and a
 * good one makes the gateway reload once (the zones trigger NOTIFYs
 * hazgate_zones per statement). Zones whose feature is unchanged are left
 * alone, so they keep their history row.
 * import --valid-from T [--valid-to T]: the file's zones as in force over a
 * past period, through hazgate_zones_import_period() (schema/011: the
 * later import wins over its period, the same import twice changes
 * nothing); without --valid-to the period runs on to now and beyond, and
 * the live zones are updated too. The bounds are checked here first, with
 * the same rules as the function's.
 * list/export: the zones in force now, or with --at T those in force at T
 * (from zones_history). export prints a FeatureCollection of the features as
 * imported, one per line, in id order: importing it again changes nothing.
 */
#include "ctl/ctl.h"
#include "common/hz_file.h"
#include "ctl/ctl_zoneload.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] = "zones import FILE.geojson [--replace] [--valid-from T "
				 "[--valid-to T]] | zones list [--at T]"
				 " | zones export [--at T]";

static const char help_text[] =
	"usage: hazgate-ctl zones import FILE.geojson [--replace] [--valid-from T [--valid-to T]]\n"
	"       hazgate-ctl zones list [--at T] [--format table|json|csv]\n"
	"       hazgate-ctl zones export [--at T] > FILE.geojson\n"
	"\n"
	"import   validates the whole file with the geofence loader (a bad file\n"
	"         changes nothing and the error names the feature), then adds or\n"
	"         updates every zone in one transaction. --replace also deletes the\n"
	"         zones that are not in the file. A running gateway reloads.\n"
	"         FILE may be - for stdin. Needs the hazgate_admin role.\n"
	"         --valid-from T --valid-to T: record the file's zones as in force\n"
	"         over that past period (zones_history: what list/export --at and\n"
	"         audit read), the live zones untouched. Over the period the file\n"
	"         wins: the zones' other versions are cut away from it, and the\n"
	"         same import again changes nothing. --replace: the zones not in\n"
	"         the file were in force nowhere in the period. Without --valid-to\n"
	"         the period runs on from T: the live zones are updated too.\n"
	"list     the zones in force, or those in force at time T (--at).\n"
	"export   the same as a GeoJSON FeatureCollection that imports unchanged.\n"
	"\n"
	"Common options: -d CONNINFO, --tz ZONE, --format (list only).\n";

enum { OPT_REPLACE = CTL_OPT_FIRST_COMMAND, OPT_AT, OPT_VALID_FROM, OPT_VALID_TO };

static const struct option longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "replace", no_argument, NULL, OPT_REPLACE },
	{ "at", required_argument, NULL, OPT_AT },
	{ "valid-from", required_argument, NULL, OPT_VALID_FROM },
	{ "valid-to", required_argument, NULL, OPT_VALID_TO },
	{ NULL, 0, NULL, 0 },
};

/* The zones query: in force now, or at $1 (from the history). */
static const char zones_now_sql[] =
	"SELECT id, name, kind, feature::text, "
	"  floor(extract(epoch FROM updated_at) * 1000000)::int8, updated_by "
	"FROM zones ORDER BY id";
static const char zones_at_sql[] =
	"SELECT zone_id, name, kind, feature::text, "
	"  floor(extract(epoch FROM valid_from) * 1000000)::int8, changed_by "
	"FROM zones_history "
	"WHERE valid_from <= $1::timestamptz AND (valid_to IS NULL OR valid_to > $1::timestamptz) "
	"ORDER BY zone_id";

/* Reads and validates FILE; CTL_OK and *arr, or CTL_EUSAGE after saying why. */
static int
load(const char *path, json_t **arr)
{
	size_t len = 0;
	char err[512];
	char *text = hz_file_read(path, &len);
	if (!text) {
		ctl_error("zones", "cannot read %s: %s", path, strerror(errno));
		return CTL_EUSAGE;
	}
	int r = ctl_zones_load(text, len, arr, err, sizeof err);
	free(text);
	if (r != 0) {
		ctl_error("zones", "%s: %s; nothing was changed", path, err);
		return CTL_EUSAGE;
	}
	return CTL_OK;
}

/* Writes the zones of arr (borrowed) in one transaction. */
static int
import(PGconn *conn, const char *path, json_t *arr, bool replace)
{
	int rc = CTL_EFAIL;
	char *arrtext = NULL;
	PGresult *res = NULL;
	bool in_tx = false;

	arrtext = json_dumps(arr, JSON_COMPACT);
	if (!arrtext) {
		ctl_error("zones", "out of memory");
		goto done;
	}

	res = ctl_query(conn, "zones", "BEGIN", 0, NULL);
	if (!res)
		goto done;
	PQclear(res);
	in_tx = true;
	/* One import at a time; the gateway's reads go on. */
	res = ctl_query(conn, "zones", "LOCK TABLE zones IN SHARE ROW EXCLUSIVE MODE", 0, NULL);
	if (!res)
		goto done;
	PQclear(res);

	const char *p1[] = { arrtext };
	res = ctl_query(
		conn, "zones",
		"WITH src AS ("
		"  SELECT (e->>'id')::int AS id, e->>'name' AS name, e->>'kind' AS kind,"
		"         e->'feature' AS feature"
		"  FROM jsonb_array_elements($1::jsonb) AS e) "
		"INSERT INTO zones AS z (id, name, kind, feature) "
		"SELECT id, name, kind, feature FROM src "
		"ON CONFLICT (id) DO UPDATE "
		"  SET name = EXCLUDED.name, kind = EXCLUDED.kind, feature = EXCLUDED.feature,"
		"      updated_at = now(), updated_by = current_user "
		"  WHERE (z.name, z.kind, z.feature) IS DISTINCT FROM"
		"        (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.feature) "
		"RETURNING id, (xmax = 0)",
		1, p1);
	if (!res)
		goto done;
	int added = 0, updated = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		if (strcmp(PQgetvalue(res, i, 1), "t") == 0)
			added++;
		else
			updated++;
	}
	PQclear(res);
	res = NULL;

	int deleted = 0;
	if (replace) {
		res = ctl_query(conn, "zones",
				"DELETE FROM zones WHERE id <> ALL (ARRAY(SELECT (e->>'id')::int "
				"FROM jsonb_array_elements($1::jsonb) AS e)) RETURNING id",
				1, p1);
		if (!res)
			goto done;
		deleted = PQntuples(res);
		PQclear(res);
		res = NULL;
	}
	res = ctl_query(conn, "zones", "COMMIT", 0, NULL);
	if (!res)
		goto done;
	in_tx = false;
	size_t total = json_array_size(arr);
	printf("%zu zones in %s: %d added, %d updated, %zu unchanged", total, path, added, updated,
	       total - (size_t)added - (size_t)updated);
	if (replace)
		printf(", %d deleted", deleted);
	printf("\n");
	rc = CTL_OK;
done:
	if (in_tx) {
		bool denied = strstr(PQerrorMessage(conn), "permission denied") != NULL;
		PQclear(PQexec(conn, "ROLLBACK"));
		fprintf(stderr, "hazgate-ctl zones: nothing was changed%s\n",
			denied ? " (zones import needs the hazgate_admin role)" : "");
	}
	PQclear(res);
	free(arrtext);
	return rc;
}

/* Records the zones of arr (borrowed) as in force over [from, to) (to
 * NULL: from `from` on, the live zones too) by hazgate_zones_import_period
 * (one statement: all or nothing). */
static int
import_period(PGconn *conn, const char *path, json_t *arr, bool replace, const char *from,
	      const char *to)
{
	char *arrtext = json_dumps(arr, JSON_COMPACT);
	if (!arrtext) {
		ctl_error("zones", "out of memory");
		return CTL_EFAIL;
	}
	const char *params[] = { arrtext, from, to, replace ? "true" : "false" };
	PGresult *res = ctl_query(conn, "zones",
				  "SELECT result, count(*) FROM hazgate_zones_import_period("
				  "$1::jsonb, $2::timestamptz, $3::timestamptz, $4::boolean) "
				  "GROUP BY result",
				  4, params);
	free(arrtext);
	if (!res) {
		bool denied = strstr(PQerrorMessage(conn), "permission denied") != NULL;
		fprintf(stderr, "hazgate-ctl zones: nothing was changed%s\n",
			denied ? " (zones import needs the hazgate_admin role)" : "");
		return CTL_EFAIL;
	}
	long n[4] = { 0 };
	static const char *const results[] = { "added", "replaced", "unchanged", "withdrawn" };
	for (int i = 0; i < PQntuples(res); i++)
		for (int k = 0; k < 4; k++)
			if (strcmp(PQgetvalue(res, i, 0), results[k]) == 0)
				n[k] = strtol(PQgetvalue(res, i, 1), NULL, 10);
	PQclear(res);
	printf("%zu zones in %s, in force %s .. %s: %ld added, %ld replaced, %ld unchanged",
	       json_array_size(arr), path, from, to ? to : "now and on (the live zones too)", n[0],
	       n[1], n[2]);
	if (replace)
		printf(", %ld withdrawn", n[3]);
	printf("\n");
	return CTL_OK;
}

/* Checks --valid-from and --valid-to as hazgate_zones_import_period does,
 * into RFC 3339 UTC text; to[0] is '\0' without --valid-to. Returns -1, or
 * the exit code of the usage error it printed. */
static int
period_parse(const struct ctl_common *co, const char *from_text, const char *to_text, char from[40],
	     char to[40])
{
	int64_t from_us, to_us = 0, now_us = ctl_now_us();
	to[0] = '\0';
	if (ctl_time_parse(from_text, &from_us) != 0)
		return ctl_time_error(co, "--valid-from", from_text);
	if (to_text && ctl_time_parse(to_text, &to_us) != 0)
		return ctl_time_error(co, "--valid-to", to_text);
	ctl_time_format(from_us, from);
	if (from_us < INT64_C(946684800) * 1000000)
		return ctl_usage_error(co->cmd, co->usage, "--valid-from (%s) is before 2000",
				       from);
	if (from_us > now_us)
		return ctl_usage_error(co->cmd, co->usage,
				       "--valid-from (%s) is in the future: zones in force from "
				       "now on are a plain import",
				       from);
	if (!to_text)
		return -1;
	ctl_time_format(to_us, to);
	if (to_us <= from_us)
		return ctl_usage_error(co->cmd, co->usage,
				       "--valid-to (%s) must be after --valid-from (%s)", to, from);
	if (to_us > now_us)
		return ctl_usage_error(
			co->cmd, co->usage,
			"--valid-to (%s) is in the future; leave it out for zones in "
			"force from --valid-from on, now included",
			to);
	return -1;
}

static int
list(PGconn *conn, const struct ctl_common *co, const char *at)
{
	static const struct ctl_column cols[] = {
		{ "id", NULL, CTL_COL_RIGHT, 0 },
		{ "name", NULL, 0, 0 },
		{ "kind", NULL, 0, 0 },
		{ "geometry", NULL, 0, 0 },
		{ "radius_m", NULL, CTL_COL_NOTABLE, 0 },
		{ "width_m", NULL, CTL_COL_NOTABLE, 0 },
		{ "active", NULL, 0, 0 },
		{ "hazard_classes", "CLASSES", 0, 0 },
		{ "speed_limit_kmh", "LIMIT_KMH", 0, 0 },
		{ "max_dwell_s", "DWELL_S", 0, 0 },
		{ "datum", NULL, CTL_COL_NOTABLE, 0 },
		{ "vehicles", NULL, CTL_COL_NOTABLE, 0 },
		{ "updated_at", "UPDATED", CTL_COL_LOCALTIME, 0 },
		{ "updated_by", "BY", 0, 0 },
	};
	const char *params[] = { at };
	PGresult *res = ctl_query(conn, "zones", at ? zones_at_sql : zones_now_sql, at ? 1 : 0,
				  params);
	if (!res)
		return CTL_EFAIL;
	ctl_out *o = ctl_out_new(co->format, cols, sizeof cols / sizeof cols[0], stdout, false);
	if (!o) {
		PQclear(res);
		return CTL_EFAIL;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *f = json_loads(PQgetvalue(res, i, 3), 0, NULL);
		json_t *props = json_object_get(f, "properties");
		json_t *geom = json_object_get(f, "geometry");
		json_t *row = json_object();
		json_object_set_new(row, "id", ctl_json_int(res, i, 0));
		json_object_set_new(row, "name", ctl_json_text(res, i, 1));
		json_object_set_new(row, "kind", ctl_json_text(res, i, 2));
		json_t *gt = json_object_get(geom, "type");
		json_object_set_new(row, "geometry", gt ? json_incref(gt) : json_null());
		static const char *const copy[] = { "radius_m",        "width_m",
						    "active",          "hazard_classes",
						    "speed_limit_kmh", "max_dwell_s",
						    "datum",           "vehicles" };
		for (size_t k = 0; k < sizeof copy / sizeof copy[0]; k++) {
			json_t *v = json_object_get(props, copy[k]);
			if (v && !json_is_null(v))
				v = json_incref(v);
			else if (strcmp(copy[k], "active") == 0)
				v = json_string("always");
			else
				v = json_null();
			json_object_set_new(row, copy[k], v);
		}
		json_object_set_new(row, "updated_at", ctl_json_time(res, i, 4));
		json_object_set_new(row, "updated_by", ctl_json_text(res, i, 5));
		json_decref(f);
		if (co->format == CTL_FMT_TABLE) {
			/* The active windows in short for the table. */
			json_t *act = json_object_get(row, "active");
			if (json_is_array(act)) {
				json_t *w = json_array_get(act, 0);
				char buf[160];
				const char *from = json_string_value(json_object_get(w, "from"));
				const char *to = json_string_value(json_object_get(w, "to"));
				const char *daily = json_string_value(json_object_get(w, "daily"));
				snprintf(buf, sizeof buf, "%s%.10s%s%.10s%s%s%s", from ? "" : "",
					 from ? from : "", (from || to) ? ".." : "", to ? to : "",
					 daily ? (from || to ? " " : "") : "",
					 daily ? "daily " : "", daily ? daily : "");
				if (json_array_size(act) > 1)
					strncat(buf, " +more", sizeof buf - strlen(buf) - 1);
				json_object_set_new(row, "active", json_string(buf));
			}
		}
		ctl_out_row(o, row);
	}
	PQclear(res);
	ctl_out_finish(o);
	ctl_out_free(o);
	return CTL_OK;
}

static int export(PGconn *conn, const char *at)
{
	const char *params[] = { at };
	PGresult *res = ctl_query(conn, "zones", at ? zones_at_sql : zones_now_sql, at ? 1 : 0,
				  params);
	if (!res)
		return CTL_EFAIL;
	printf("{\"type\":\"FeatureCollection\",\"features\":[");
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *f = json_loads(PQgetvalue(res, i, 3), 0, NULL);
		char *line = f ? ctl_json_line(f) : NULL;
		printf("%s\n%s", i ? "," : "", line ? line : PQgetvalue(res, i, 3));
		free(line);
		json_decref(f);
	}
	printf("\n]}\n");
	PQclear(res);
	if (fflush(stdout) != 0) {
		ctl_error("zones", "cannot write the export: %s", strerror(errno));
		return CTL_EFAIL;
	}
	return CTL_OK;
}

int
ctl_zones_main(int argc, char **argv)
{
	struct ctl_common co = { .cmd = "zones",
				 .usage = usage_text,
				 .help = help_text,
				 .formats = CTL_FMT_TABLE | CTL_FMT_JSON | CTL_FMT_CSV,
				 .format = CTL_FMT_TABLE };
	bool replace = false;
	const char *at_text = NULL, *valid_from = NULL, *valid_to = NULL;
	int c;

	if (argc < 2)
		return ctl_usage_error("zones", usage_text, "which? import, list or export");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(help_text, stdout);
		return CTL_OK;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "import") && strcmp(sub, "list") && strcmp(sub, "export"))
		return ctl_usage_error("zones", usage_text,
				       "unknown zones command '%s' (import, list or export)", sub);
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, CTL_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_REPLACE:
			replace = true;
			break;
		case OPT_AT:
			at_text = optarg;
			break;
		case OPT_VALID_FROM:
			valid_from = optarg;
			break;
		case OPT_VALID_TO:
			valid_to = optarg;
			break;
		default: {
			int r = ctl_common_option(&co, c, argv);
			if (r >= 0)
				return r;
		}
		}
	}
	int npos = argc - optind;
	if (strcmp(sub, "import") == 0) {
		if (npos != 1)
			return ctl_usage_error("zones", usage_text,
					       npos ? "import takes one file"
						    : "import needs a FILE");
		if (at_text)
			return ctl_usage_error("zones", usage_text,
					       "--at is for list and export (import takes "
					       "--valid-from and --valid-to)");
		if (valid_to && !valid_from)
			return ctl_usage_error("zones", usage_text,
					       "--valid-to needs --valid-from");
	} else {
		if (valid_from || valid_to)
			return ctl_usage_error("zones", usage_text,
					       "--valid-from and --valid-to are for import");
		if (npos != 0)
			return ctl_usage_error("zones", usage_text, "unexpected argument '%s'",
					       argv[optind]);
		if (replace)
			return ctl_usage_error("zones", usage_text, "--replace is for import");
	}
	if (strcmp(sub, "export") == 0 && co.format != CTL_FMT_TABLE)
		return ctl_usage_error("zones", usage_text, "export always writes GeoJSON");
	char at[40];
	if (at_text) {
		int64_t us;
		if (ctl_time_parse(at_text, &us) != 0)
			return ctl_time_error(&co, "--at", at_text);
		ctl_time_format(us, at);
	}

	char period_from[40], period_to[40];
	if (valid_from) {
		int r = period_parse(&co, valid_from, valid_to, period_from, period_to);
		if (r >= 0)
			return r;
	}

	json_t *arr = NULL;
	if (strcmp(sub, "import") == 0) {
		int r = load(argv[optind], &arr);
		if (r != CTL_OK)
			return r;
	}
	PGconn *conn = ctl_connect(co.conninfo);
	if (!conn) {
		json_decref(arr);
		return CTL_EFAIL;
	}
	int rc;
	if (strcmp(sub, "import") == 0 && valid_from)
		rc = import_period(conn, argv[optind], arr, replace, period_from,
				   period_to[0] ? period_to : NULL);
	else if (strcmp(sub, "import") == 0)
		rc = import(conn, argv[optind], arr, replace);
	else if (strcmp(sub, "list") == 0)
		rc = list(conn, &co, at_text ? at : NULL);
	else
		rc = export(conn, at_text ? at : NULL);
	PQfinish(conn);
	json_decref(arr);
	return rc;
}
