/*
 * test_geofence_sample.c - THE INDEPENDENT CHECK for geofence/.
 *
 * Loads $HG_SHARED/data/zones-taiyuan.geojson, feeds every line of
 * $HG_SHARED/data/fleet-sample.ndjson (native JSON, parsed here with
 * jansson, not with ingest/) through the engine with neutral hysteresis,
 * and compares the zone_enter / zone_exit / prohibited_entry /
 * route_deviation alerts, as a multiset of (vehicle, ts, kind, zone_id),
 * with $HG_SHARED/data/expected-sample.ndjson, which PostGIS computed.
 * Zone 9 is drawn in GCJ-02, so the datum conversion is checked too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geofence/geofence.h"

struct rec {
	char line[160];
};

struct sink {
	struct rec *r;
	size_t n, cap;
	size_t counts[16];
};

static char *
slurp(const char *rel, size_t *len)
{
	/* $HG_SHARED/data first; the project's copy in $HG_SRCDIR/data when
	 * ../shared is not there (a checkout elsewhere). */
	const char *shared = getenv("HG_SHARED"), *src = getenv("HG_SRCDIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", shared ? shared : "../shared", rel);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(path, sizeof path, "%s/%s", src ? src : ".", rel);
		f = fopen(path, "rb");
	}
	if (f == NULL) {
		fail_msg("cannot open %s (set HG_SHARED or HG_SRCDIR)", rel);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
add(struct sink *s, const char *veh, int64_t ts, const char *kind, bool hz,
    int64_t zid)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->r = realloc(s->r, s->cap * sizeof *s->r);
		assert_non_null(s->r);
	}
	char t[25];
	gf_time_format(ts, t);
	if (hz)
		snprintf(s->r[s->n].line, sizeof s->r[s->n].line, "%s|%s|%s|%lld",
			 veh, t, kind, (long long)zid);
	else
		snprintf(s->r[s->n].line, sizeof s->r[s->n].line, "%s|%s|%s|-",
			 veh, t, kind);
	s->n++;
}

static void
on_alert(const struct gf_alert *a, void *arg)
{
	struct sink *s = arg;
	s->counts[a->kind]++;
	switch (a->kind) {
	case GF_ALERT_ZONE_ENTER:
	case GF_ALERT_ZONE_EXIT:
	case GF_ALERT_PROHIBITED_ENTRY:
	case GF_ALERT_ROUTE_DEVIATION:
		add(s, a->vehicle, a->ts_us, gf_alert_kind_name(a->kind),
		    a->has_zone, a->zone_id);
		break;
	default:
		break;
	}
}

static int
cmp_rec(const void *a, const void *b)
{
	return strcmp(((const struct rec *)a)->line, ((const struct rec *)b)->line);
}

static void
test_sample_matches_postgis(void **state)
{
	(void)state;
	size_t zlen, flen, elen;
	char *ztext = slurp("data/zones-taiyuan.geojson", &zlen);
	char *fleet = slurp("data/fleet-sample.ndjson", &flen);
	char *exp = slurp("data/expected-sample.ndjson", &elen);
	char err[256];
	gf_zoneset *zs = NULL;
	assert_int_equal(gf_zoneset_parse(ztext, zlen, &zs, err, sizeof err), GF_OK);
	assert_int_equal(gf_zoneset_count(zs), 10);

	struct gf_options opt;
	gf_options_default(&opt);
	opt.exit_fixes = 1;
	opt.exit_margin_m = 0;
	gf_tz *tz = NULL;
	assert_int_equal(gf_tz_load(opt.timezone, &tz), GF_OK);
	gf_engine *e = NULL;
	assert_int_equal(gf_engine_new(&opt, zs, tz, &e), GF_OK);

	struct sink got = {0}, want = {0};
	size_t lines = 0;
	for (char *line = strtok(fleet, "\n"); line; line = strtok(NULL, "\n")) {
		json_error_t je;
		json_t *o = json_loads(line, 0, &je);
		assert_non_null(o);
		struct gf_fix fx = {0};
		fx.vehicle = json_string_value(json_object_get(o, "vehicle"));
		assert_int_equal(gf_time_parse(json_string_value(
						  json_object_get(o, "ts")),
					  &fx.ts_us), GF_OK);
		fx.lat = json_number_value(json_object_get(o, "lat"));
		fx.lon = json_number_value(json_object_get(o, "lon"));
		json_t *sp = json_object_get(o, "speed_kmh");
		fx.has_speed = json_is_number(sp);
		fx.speed_kmh = json_number_value(sp);
		fx.hazard_class = json_string_value(json_object_get(o, "hazard_class"));
		struct gf_fix_result res;
		assert_int_equal(gf_engine_fix(e, &fx, on_alert, &got, &res), GF_OK);
		assert_int_equal(res.disposition, GF_FIX_APPLIED);
		json_decref(o);
		lines++;
	}
	assert_int_equal(lines, 17280);

	for (char *line = strtok(exp, "\n"); line; line = strtok(NULL, "\n")) {
		json_error_t je;
		json_t *o = json_loads(line, 0, &je);
		assert_non_null(o);
		int64_t ts;
		assert_int_equal(gf_time_parse(json_string_value(
						  json_object_get(o, "ts")), &ts),
				 GF_OK);
		json_t *zid = json_object_get(o, "zone_id");
		add(&want, json_string_value(json_object_get(o, "vehicle")), ts,
		    json_string_value(json_object_get(o, "kind")),
		    json_is_integer(zid), json_integer_value(zid));
		json_decref(o);
	}
	qsort(got.r, got.n, sizeof *got.r, cmp_rec);
	qsort(want.r, want.n, sizeof *want.r, cmp_rec);
	size_t i = 0, j = 0, diffs = 0;
	while (i < got.n || j < want.n) {
		int c = i >= got.n ? 1 : j >= want.n ? -1
			: strcmp(got.r[i].line, want.r[j].line);
		if (c == 0) {
			i++;
			j++;
			continue;
		}
		if (c < 0)
			print_message("# unexpected: %s\n", got.r[i++].line);
		else
			print_message("# missing:    %s\n", want.r[j++].line);
		diffs++;
	}
	print_message("# %zu alerts expected, %zu produced (all kinds: enter %zu "
		      "exit %zu prohibited %zu speeding %zu overspeed %zu dwell %zu "
		      "deviation %zu)\n", want.n, got.n,
		      got.counts[GF_ALERT_ZONE_ENTER], got.counts[GF_ALERT_ZONE_EXIT],
		      got.counts[GF_ALERT_PROHIBITED_ENTRY],
		      got.counts[GF_ALERT_ZONE_SPEEDING],
		      got.counts[GF_ALERT_OVERSPEED],
		      got.counts[GF_ALERT_DWELL_EXCEEDED],
		      got.counts[GF_ALERT_ROUTE_DEVIATION]);
	assert_int_equal(diffs, 0);
	assert_int_equal(got.n, 66);

	gf_engine_free(e);
	gf_tz_free(tz);
	gf_zoneset_free(zs);
	free(got.r);
	free(want.r);
	free(ztext);
	free(fleet);
	free(exp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_matches_postgis),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
