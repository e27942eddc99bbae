/*
 * ctl_replay.c: hazgate-ctl replay --zones ZONES.geojson [--config FILE] [INPUT]
 *
 * Offline, no services: reads telemetry lines (a payload per line, or
 * topic<TAB>payload; '#' lines and empty lines are skipped), runs each
 * through the daemon's decide step (decide_message: the format chosen by
 * the configuration's subscriptions, "auto" without a topic; the ingest
 * decoders; the geofence engine, one fix at a time) and prints every alert
 * at once, as the JSON of gf_alert_format() with "id":null, so stdout is in
 * input order. The summary (lines, fixes, late and duplicate fixes, rejects by
 * reason, alerts by kind) goes to stderr. "now" for the decoders' future
 * check (and the engine's receive time, which only its tick reads) is the
 * wall clock at start.
 */
#include "ctl/ctl_engine.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"replay --zones ZONES.geojson [--config FILE] [--vehicles FILE] [--positions OUT.csv] [INPUT]";

static const char help_text[] =
	"usage: hazgate-ctl replay --zones ZONES.geojson [--config FILE]\n"
	"                          [--vehicles FILE] [--positions OUT.csv] [INPUT]\n"
	"\n"
	"Runs telemetry through the same decoders and geofence engine as the daemon,\n"
	"with no services at all, and writes one alert per line (the JSON the daemon\n"
	"publishes, with \"id\":null) to stdout in input order; a summary to stderr.\n"
	"  INPUT          a file of lines (default: stdin, or -): each line a payload,\n"
	"                 or TOPIC<TAB>PAYLOAD; lines starting with # are comments\n"
	"  --zones FILE   the GeoJSON zones (required)\n"
	"  --config FILE  the daemon's configuration: [geofence] timezone,\n"
	"                 overspeed_kmh, exit_fixes, exit_margin_m, silent_after_s, and\n"
	"                 [mqtt] subscribe for the formats of topics\n"
	"  --vehicles F   the fleet registry, as a vehicles import file (CSV or JSON):\n"
	"                 cargo for fixes without one, routes, OwnTracks devices\n"
	"  --positions F  also write every fix the daemon stores, as CSV for\n"
	"                 COPY positions (vehicle, ts, ..., zone_ids, alarms) FROM ... CSV HEADER\n"
	"Exit 0 on success, 2 on bad zones, configuration or options, 1 on a read error.\n";

enum { OPT_ZONES = CTL_OPT_FIRST_COMMAND, OPT_CONFIG, OPT_POSITIONS, OPT_VEHICLES };

static const struct option longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "zones", required_argument, NULL, OPT_ZONES },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "positions", required_argument, NULL, OPT_POSITIONS },
	{ "vehicles", required_argument, NULL, OPT_VEHICLES },
	{ NULL, 0, NULL, 0 },
};

struct replay {
	FILE *out;
	size_t kinds[GF_ALERT_KIND_COUNT];
	size_t alerts;
	bool write_failed;
};

static void
on_alert(const struct gf_alert *a, void *arg)
{
	struct replay *r = arg;
	char *line = ctl_engine_alert_json(a, -1);
	if (!line || fputs(line, r->out) == EOF || fputc('\n', r->out) == EOF)
		r->write_failed = true;
	free(line);
	if ((unsigned)a->kind < sizeof r->kinds / sizeof r->kinds[0])
		r->kinds[a->kind]++;
	r->alerts++;
}

/* The CSV header of --positions: the columns of the positions table. */
static const char positions_header[] =
	"vehicle,ts,lat,lon,speed_kmh,heading,alt_m,hdop,fix,sats,un,hazard_class,seq,"
	"ignition,zone_ids,alarms\n";

/* One accepted fix as a positions row (CSV; empty fields are NULL). */
static void
write_position(FILE *fp, const struct ing_fix *f, const struct gf_fix_result *fr)
{
	char ts[40];
	ctl_time_format(f->time_us, ts);
	fputc('"', fp);
	for (const char *p = f->vehicle; *p; p++) {
		if (*p == '"')
			fputc('"', fp);
		fputc(*p, fp);
	}
	fprintf(fp, "\",%s,%.15g,%.15g,", ts, f->lat, f->lon);
	if (f->present & ING_HAS_SPEED)
		fprintf(fp, "%.15g", f->speed_kmh);
	fputc(',', fp);
	if (f->present & ING_HAS_HEADING)
		fprintf(fp, "%.15g", f->heading);
	fputc(',', fp);
	if (f->present & ING_HAS_ALT)
		fprintf(fp, "%.15g", f->alt_m);
	fputc(',', fp);
	if (f->present & ING_HAS_HDOP)
		fprintf(fp, "%.15g", f->hdop);
	fputc(',', fp);
	if (f->present & ING_HAS_FIX)
		fprintf(fp, "%d", f->fix);
	fputc(',', fp);
	if (f->present & ING_HAS_SATS)
		fprintf(fp, "%d", f->sats);
	/* un and hazard_class are printable ASCII without quotes (ingest checks). */
	fprintf(fp, ",%s,%s,", (f->present & ING_HAS_UN) ? f->un : "",
		(f->present & ING_HAS_HAZARD_CLASS) ? f->hazard_class : "");
	if (f->present & ING_HAS_SEQ)
		fprintf(fp, "%lld", (long long)f->seq);
	fputc(',', fp);
	if (f->present & ING_HAS_IGNITION)
		fputs(f->ignition ? "true" : "false", fp);
	fputs(",\"{", fp);
	for (size_t i = 0; i < fr->nzone_ids; i++)
		fprintf(fp, "%s%lld", i ? "," : "", (long long)fr->zone_ids[i]);
	fputs("}\",", fp);
	/* As the positions column keeps it: an integer, bit 31 negative. */
	if (f->present & ING_HAS_ALARMS)
		fprintf(fp, "%d", (int)(int32_t)f->alarms);
	fputc('\n', fp);
}

int
ctl_replay_main(int argc, char **argv)
{
	struct ctl_common co = { .cmd = "replay",
				 .usage = usage_text,
				 .help = help_text,
				 .formats = CTL_FMT_JSON,
				 .format = CTL_FMT_JSON };
	const char *zones_path = NULL, *config_path = NULL, *positions_path = NULL;
	const char *vehicles_path = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, CTL_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (c == OPT_ZONES)
			zones_path = optarg;
		else if (c == OPT_CONFIG)
			config_path = optarg;
		else if (c == OPT_POSITIONS)
			positions_path = optarg;
		else if (c == OPT_VEHICLES)
			vehicles_path = optarg;
		else {
			int r = ctl_common_option(&co, c, argv);
			if (r >= 0)
				return r;
		}
	}
	if (!zones_path)
		return ctl_usage_error(co.cmd, co.usage, "--zones FILE is required");
	if (argc - optind > 1)
		return ctl_usage_error(co.cmd, co.usage, "one INPUT at most ('%s' is extra)",
				       argv[optind + 1]);
	const char *input = optind < argc ? argv[optind] : "-";

	int rc = CTL_EUSAGE;
	struct ctl_engine_conf conf;
	gf_zoneset *zs = NULL;
	gf_engine *e = NULL;
	FILE *in = NULL, *pos = NULL;
	char *line = NULL;
	size_t cap = 0;
	struct replay r = { .out = stdout };
	size_t lines = 0, fixes = 0, late = 0, dup = 0, rejects = 0, ignored = 0, invalid = 0;
	size_t reasons[ING_REASON_COUNT] = { 0 };

	if (ctl_engine_conf_load(&co, config_path, &conf) != CTL_OK)
		return CTL_EUSAGE;
	if (ctl_engine_zones_file(&co, zones_path, &zs) != CTL_OK)
		goto done;
	if (vehicles_path && (rc = ctl_engine_registry_file(&co, vehicles_path, zs, &conf)) != CTL_OK)
		goto done;
	rc = CTL_EUSAGE;
	in = strcmp(input, "-") == 0 ? stdin : fopen(input, "rb");
	if (!in) {
		ctl_error(co.cmd, "cannot read %s: %s", input, strerror(errno));
		goto done;
	}
	if (positions_path) {
		pos = fopen(positions_path, "w");
		if (!pos) {
			ctl_error(co.cmd, "cannot write %s: %s", positions_path, strerror(errno));
			goto done;
		}
		fputs(positions_header, pos);
	}
	int er = gf_engine_new(&conf.cfg.geofence, zs, conf.tz, &e);
	if (er != GF_OK) {
		ctl_error(co.cmd, "engine: %s", gf_strerror(er));
		rc = er == GF_EINVAL ? CTL_EUSAGE : CTL_EFAIL;
		goto done;
	}
	rc = CTL_EFAIL;
	struct decide_ctx dc;
	ctl_engine_decide(&conf, e, on_alert, &r, &dc);
	int64_t now_us = ctl_now_us();
	ssize_t n;
	errno = 0;
	while ((n = getline(&line, &cap, in)) != -1) {
		size_t len = (size_t)n;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		lines++;
		if (len == 0 || line[0] == '#')
			continue;
		const char *topic = NULL, *payload = line;
		char *tab = memchr(line, '\t', len);
		if (tab) {
			*tab = '\0';
			topic = line;
			payload = tab + 1;
			len -= (size_t)(payload - line);
		}
		struct decide_result d;
		enum ing_result res = decide_message(&dc, topic, payload, len, now_us, &d);
		if (res == ING_IGNORED) {
			ignored++;
			continue;
		}
		if (res != ING_OK) {
			rejects++;
			if ((unsigned)d.err.reason < ING_REASON_COUNT)
				reasons[d.err.reason]++;
			continue;
		}
		if (d.engine_rc == GF_ENOMEM) {
			ctl_error(co.cmd, "out of memory at line %zu", lines);
			goto done;
		}
		if (d.engine_rc != GF_OK) {
			invalid++;
			continue;
		}
		fixes++;
		if (pos && ing_fix_positioned(&d.fix)) /* the daemon stores no other */
			write_position(pos, &d.fix, &d.fr);
		if (d.fr.disposition == GF_FIX_LATE)
			late++;
		else if (d.fr.disposition == GF_FIX_DUPLICATE)
			dup++;
	}
	if (ferror(in)) {
		ctl_error(co.cmd, "reading %s: %s", input, strerror(errno ? errno : EIO));
		goto done;
	}
	if (pos) {
		int bad = ferror(pos);
		if (fclose(pos) != 0 || bad) {
			pos = NULL;
			ctl_error(co.cmd, "cannot write %s", positions_path);
			goto done;
		}
		pos = NULL;
	}
	if (fflush(stdout) != 0 || r.write_failed) {
		ctl_error(co.cmd, "cannot write the alerts: %s", strerror(errno));
		goto done;
	}
	rc = CTL_OK;
	fprintf(stderr,
		"replay: %zu lines, %zu fixes (%zu late, %zu duplicate), %zu rejected, "
		"%zu ignored, %zu alerts\n",
		lines, fixes, late, dup, rejects + invalid, ignored, r.alerts);
	for (int k = 0; k < ING_REASON_COUNT; k++)
		if (reasons[k])
			fprintf(stderr, "  rejected %-18s %zu\n",
				ing_reason_name((enum ing_reason)k), reasons[k]);
	if (invalid)
		fprintf(stderr, "  rejected %-18s %zu\n", "engine_refused", invalid);
	for (int k = GF_ALERT_ZONE_ENTER; k < GF_ALERT_KIND_COUNT; k++)
		if (r.kinds[k])
			fprintf(stderr, "  %-18s %zu\n", gf_alert_kind_name((enum gf_alert_kind)k),
				r.kinds[k]);
done:
	free(line);
	if (in && in != stdin)
		fclose(in);
	if (pos)
		fclose(pos);
	gf_engine_free(e);
	gf_zoneset_free(zs);
	ctl_engine_conf_clear(&conf);
	return rc;
}
