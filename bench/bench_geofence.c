/*
 * bench_geofence.c - figures for geofence/ (run by `make bench`; prints,
 * asserts nothing). One core, one run:
 *   (a) the 10 sample zones of $HG_SHARED/data/zones-taiyuan.geojson
 *   (b) 10,000 random star-shaped polygons of 8-64 vertices (30-300 m)
 *       over a 50 km x 50 km city
 *   (c) one 100,000-vertex polygon covering the city
 * For each: fixes/s through the full engine (containment + state +
 * alerts) for 10,000 vehicles doing random walks, the same fixes through
 * a linear scan of all zones (containment only) and the ratio; for (c)
 * also raw point tests/s. Then bytes per zone and per vehicle, and the
 * engine's memory for 400,000 vehicles over the 10,000 zones.
 *   (d) over (b)'s zones, the rules beyond geometry all on against all off
 *       (issue 14), alternating passes, best of 5.
 * (a)-(c) run with the default options, so with the default rules on.
 * Targets (issue 3): (b) >= 2,000,000 fixes/s and >= 50x the scan;
 * (c) >= 5,000,000 point tests/s; (issue 14) (d) on/off >= 0.9.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "common/hz_file.h"
#include "geofence/geofence.h"

#define CITY_LAT 37.75
#define CITY_LON 112.5
#define CITY_DLAT (50000.0 / 111195.0)
#define CITY_DLON (50000.0 / (111195.0 * 0.7910)) /* cos(37.75) */

static uint64_t rs = 0x2545f4914f6cdd1dull;

static double
urand(void)
{
	return bench_urand(&rs);
}

static double
now_s(void)
{
	return bench_seconds(CLOCK_MONOTONIC);
}

struct buf {
	char *p;
	size_t len, cap;
};

static void
bput(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void
bput(struct buf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)n;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
}

/* Star-shaped ring of n vertices, radius in [rmin, rmax]: smooth
 * (a few lobes plus 1% noise) when smooth, else random per vertex. */
static void
star(struct buf *b, double clat, double clon, double rmin, double rmax, int n,
     int smooth)
{
	double kx = 1.0 / (111195.0 * cos(clat * 3.141592653589793 / 180));
	double ky = 1.0 / 111195.0;
	double x0 = 0, y0 = 0;
	bput(b, "[[");
	for (int i = 0; i < n; i++) {
		double a = 2 * 3.141592653589793 * i / n;
		double r = smooth ? rmin + (rmax - rmin) *
				 (0.5 + 0.45 * sin(7 * a) * cos(3 * a) + 0.0005 * urand())
			   : rmin + (rmax - rmin) * urand();
		double x = clon + r * cos(a) * kx, y = clat + r * sin(a) * ky;
		if (i == 0) {
			x0 = x;
			y0 = y;
		}
		bput(b, "[%.7f,%.7f],", x, y);
	}
	bput(b, "[%.7f,%.7f]]]", x0, y0);
}

static gf_zoneset *
load(struct buf *b)
{
	gf_zoneset *zs = NULL;
	char err[256];
	if (gf_zoneset_parse(b->p, b->len, &zs, err, sizeof err) != GF_OK) {
		fprintf(stderr, "zones: %s\n", err);
		exit(1);
	}
	return zs;
}

struct fixes {
	size_t n;
	struct gf_fix *f;
	char (*names)[24];
};

/* nveh vehicles, random walk (~30 m steps) over the box, 5 s apart. */
static void
make_fixes(struct fixes *fx, size_t n, size_t nveh, double lat0, double lon0,
	   double dlat, double dlon)
{
	fx->n = n;
	fx->f = calloc(n, sizeof *fx->f);
	fx->names = calloc(nveh, sizeof *fx->names);
	double *la = malloc(nveh * sizeof *la), *lo = malloc(nveh * sizeof *lo);
	if (!fx->f || !fx->names || !la || !lo)
		abort();
	for (size_t v = 0; v < nveh; v++) {
		snprintf(fx->names[v], sizeof fx->names[v], "\xe6\x99\x8b" "A%06zu", v);
		la[v] = lat0 + dlat * urand();
		lo[v] = lon0 + dlon * urand();
	}
	int64_t t0 = 1565395200LL * 1000000; /* 2019-08-10T00:00:00Z */
	for (size_t i = 0; i < n; i++) {
		size_t v = i % nveh;
		la[v] += (urand() - 0.5) * 0.0005;
		lo[v] += (urand() - 0.5) * 0.0006;
		if (la[v] < lat0 || la[v] > lat0 + dlat)
			la[v] = lat0 + dlat * urand();
		if (lo[v] < lon0 || lo[v] > lon0 + dlon)
			lo[v] = lon0 + dlon * urand();
		fx->f[i] = (struct gf_fix){fx->names[v], t0 + (int64_t)(i / nveh) * 5000000,
					   la[v], lo[v], true, 20 + 80 * urand(), "3", 0,
					   false, 0, false};
	}
	free(la);
	free(lo);
}

static void
count_cb(const struct gf_alert *a, void *arg)
{
	(void)a;
	(*(size_t *)arg)++;
}

struct result {
	double engine_fps, scan_fps;
	size_t alerts, inside;
};

static struct result
run(const char *label, gf_zoneset *zs, const struct fixes *fx, size_t scan_n)
{
	struct result r = {0};
	struct gf_options opt;
	gf_options_default(&opt);
	gf_engine *e = NULL;
	if (gf_engine_new(&opt, zs, NULL, &e) != GF_OK)
		abort();
	double t = now_s();
	for (size_t i = 0; i < fx->n; i++) {
		struct gf_fix_result res;
		gf_engine_fix(e, &fx->f[i], count_cb, &r.alerts, &res);
		r.inside += res.nzone_ids;
	}
	double el = now_s() - t;
	r.engine_fps = fx->n / el;
	size_t idx[64], sink = 0;
	t = now_s();
	for (size_t i = 0; i < scan_n; i++)
		sink += gf_zoneset_query(zs, fx->f[i].lat, fx->f[i].lon, idx, 64, true);
	double sel = now_s() - t;
	r.scan_fps = scan_n / sel;
	printf("%-34s %9zu fixes  engine %11.0f fixes/s (%6.1f ns/fix)  "
	       "linear scan %10.0f fixes/s  ratio %7.1fx  alerts %zu\n",
	       label, fx->n, r.engine_fps, 1e9 / r.engine_fps, r.scan_fps,
	       r.engine_fps / r.scan_fps, r.alerts);
	printf("%-34s bytes/zone %.0f  bytes/vehicle %.0f (%zu vehicles)  "
	       "(scan hits %zu)\n", "", (double)gf_zoneset_memory(zs) /
	       (double)gf_zoneset_count(zs), (double)gf_engine_memory(e) /
	       (double)gf_engine_vehicle_count(e), gf_engine_vehicle_count(e), sink);
	gf_engine_free(e);
	return r;
}

/* (b)'s zones: 10,000 random star polygons over the city. */
static void
city_zones(struct buf *bp)
{
	struct buf b = *bp;
	bput(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
	for (int z = 0; z < 10000; z++) {
		double clat = CITY_LAT - CITY_DLAT / 2 + CITY_DLAT * urand();
		double clon = CITY_LON - CITY_DLON / 2 + CITY_DLON * urand();
		double r = 30 + 270 * urand();
		bput(&b, "%s{\"type\":\"Feature\",\"properties\":{\"id\":%d,\"kind\":"
		     "\"%s\",\"speed_limit_kmh\":60,\"max_dwell_s\":600},"
		     "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":",
		     z ? "," : "", z + 1, z % 4 == 0 ? "prohibited" : "event_venue");
		star(&b, clat, clon, r * 0.5, r, 8 + (int)(urand() * 57), 0);
		bput(&b, "}}");
	}
	bput(&b, "]}");
	*bp = b;
}

/* Engine fixes/s over zs with the given rules, one pass over fx. */
static double
pass(gf_zoneset *zs, const gf_tz *tz, const struct gf_rules *rules,
     const struct fixes *fx, size_t *alerts)
{
	struct gf_options opt;
	gf_options_default(&opt);
	opt.rules = *rules;
	gf_engine *e = NULL;
	if (gf_engine_new(&opt, zs, tz, &e) != GF_OK)
		abort();
	double t = now_s();
	for (size_t i = 0; i < fx->n; i++)
		gf_engine_fix(e, &fx->f[i], count_cb, alerts, NULL);
	double el = now_s() - t;
	gf_engine_free(e);
	return fx->n / el;
}

/* (d) the rules beyond geometry all on (the defaults, a global night ban
 * 22:00-06:00, per-class lists, a terminal alarm raised and cleared now
 * and then) against all off, on the same fixes over the 10,000 polygons
 * in Asia/Shanghai time; passes alternate, best of 5 each, as the machine
 * is shared. Returns on/off. */
static double
rules_on_off(gf_zoneset *zs, size_t nfix, int only)
{
	struct fixes fx;
	gf_tz *tz = NULL;
	struct gf_rules on, off;
	size_t aon = 0, aoff = 0;
	double bon = 0, boff = 0;

	if (gf_tz_from_posix("CST-8", &tz) != GF_OK)
		abort();
	make_fixes(&fx, nfix, 10000, CITY_LAT - CITY_DLAT / 2,
		   CITY_LON - CITY_DLON / 2, CITY_DLAT, CITY_DLON);
	/* 18 h of fixes per vehicle would be needed for fatigue; give the
	 * walk stops instead: a vehicle in ten stands still (speed 0) */
	for (size_t i = 0; i < fx.n; i++) {
		if ((i % 10000) % 10 == 0) {
			fx.f[i].speed_kmh = 0;
			if (i >= 10000) {
				fx.f[i].lat = fx.f[i - 10000].lat;
				fx.f[i].lon = fx.f[i - 10000].lon;
			}
		}
		if (i % 997 == 0) {
			fx.f[i].has_alarms = true;
			fx.f[i].alarms = (i / 997) % 2 ? 1u : 0u;
		}
	}
	struct gf_options d;
	gf_options_default(&d);
	on = d.rules;
	on.night_start_s = 22 * 3600;
	on.night_end_s = 6 * 3600;
	on.max_stop_s = 600;
	if (gf_by_class_parse("1=300, 2.1=900", false, &on.max_stop_by_class) ||
	    gf_by_class_parse("1=7200", false, &on.max_continuous_by_class) ||
	    gf_by_class_parse("1=19:00-06:00", true, &on.night_ban_by_class))
		abort();
	off = d.rules;
	off.max_continuous_s = off.max_daily_s = off.max_stop_s = 0;
	if (only) {  /* one pass, for valgrind --tool=callgrind */
		size_t a = 0;
		double f = pass(zs, tz, only > 0 ? &on : &off, &fx, &a);
		printf("(d) rules %s: %zu fixes, %.0f fixes/s, %zu alerts\n",
		       only > 0 ? "on" : "off", fx.n, f, a);
		free(fx.f);
		free(fx.names);
		gf_tz_free(tz);
		return 0;
	}
	for (int round = 0; round < 5; round++) {
		size_t a = 0;
		double f = pass(zs, tz, &off, &fx, &a);
		if (f > boff)
			boff = f;
		aoff = a;
		a = 0;
		f = pass(zs, tz, &on, &fx, &a);
		if (f > bon)
			bon = f;
		aon = a;
	}
	printf("%-34s rules off %11.0f fixes/s (%zu alerts)  all on %11.0f fixes/s "
	       "(%zu alerts)  on/off %.3f\n", "(d) 10,000 polygons, rules",
	       boff, aoff, bon, aon, bon / boff);
	free(fx.f);
	free(fx.names);
	gf_tz_free(tz);
	return bon / boff;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "rules-on") || !strcmp(argv[1], "rules-off"))) {
		/* (d) alone, one pass of 300,000 fixes: count instructions with
		 * valgrind --tool=callgrind bench/bench_geofence rules-on|off */
		struct buf b = {malloc(1 << 20), 0, 1 << 20};
		city_zones(&b);
		gf_zoneset *zs = load(&b);
		rules_on_off(zs, 300000, strcmp(argv[1], "rules-on") ? -1 : 1);
		gf_zoneset_free(zs);
		free(b.p);
		return 0;
	}
	printf("geofence benchmark (one core)\n");
	/* (a) sample zones */
	const char *shared = getenv("HG_SHARED");
	char path[1024];
	snprintf(path, sizeof path, "%s/data/zones-taiyuan.geojson",
		 shared ? shared : HG_SRCDIR "/../shared");
	size_t len = 0;
	char *text = hz_file_read(path, &len);
	if (text == NULL) {
		snprintf(path, sizeof path, "%s/data/zones-taiyuan.geojson", HG_SRCDIR);
		text = hz_file_read(path, &len);
	}
	struct fixes fx;
	if (text != NULL) {
		struct buf b = {text, len, len};
		gf_zoneset *zs = load(&b);
		make_fixes(&fx, 2000000, 10000, 37.55, 112.35, 0.45, 0.4);
		run("(a) 10 sample zones", zs, &fx, 2000000);
		free(fx.f);
		free(fx.names);
		gf_zoneset_free(zs);
		free(b.p);
	} else {
		printf("(a) skipped: %s not readable (set HG_SHARED)\n", path);
	}

	/* (b) 10,000 random polygons */
	struct buf b = {malloc(1 << 20), 0, 1 << 20};
	city_zones(&b);
	double t = now_s();
	gf_zoneset *zs = load(&b);
	printf("%-34s loaded 10,000 polygons in %.3f s\n", "(b)", now_s() - t);
	make_fixes(&fx, 4000000, 10000, CITY_LAT - CITY_DLAT / 2,
		   CITY_LON - CITY_DLON / 2, CITY_DLAT, CITY_DLON);
	struct result rb = run("(b) 10,000 polygons, 8-64 vertices", zs, &fx, 2000);
	free(fx.f);
	free(fx.names);

	/* memory: 400,000 vehicles over the 10,000 zones, 3 fixes each */
	make_fixes(&fx, 1200000, 400000, CITY_LAT - CITY_DLAT / 2,
		   CITY_LON - CITY_DLON / 2, CITY_DLAT, CITY_DLON);
	struct gf_options opt;
	gf_options_default(&opt);
	gf_engine *e = NULL;
	if (gf_engine_new(&opt, zs, NULL, &e) != GF_OK)
		abort();
	for (size_t i = 0; i < fx.n; i++)
		gf_engine_fix(e, &fx.f[i], NULL, NULL, NULL);
	size_t em = gf_engine_memory(e), zm = gf_zoneset_memory(zs);
	printf("%-34s engine %.1f MiB (%.0f bytes/vehicle) + zones %.1f MiB "
	       "(%.0f bytes/zone) = %.1f MiB\n", "400,000 vehicles x 10,000 zones",
	       em / 1048576.0, (double)em / 400000, zm / 1048576.0,
	       (double)zm / 10000, (em + zm) / 1048576.0);
	gf_engine_free(e);
	free(fx.f);
	free(fx.names);

	double rules_ratio = rules_on_off(zs, 2000000, 0);
	gf_zoneset_free(zs);

	/* (c) one 100,000-vertex polygon */
	b.len = 0;
	bput(&b, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
	     "\"Feature\",\"properties\":{\"id\":1,\"kind\":\"restricted\"},"
	     "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":");
	star(&b, CITY_LAT, CITY_LON, 10000, 24000, 100000, 1);
	bput(&b, "}}]}");
	zs = load(&b);
	size_t npt = 5000000, in = 0;
	double *pts = malloc(2 * npt * sizeof *pts);
	for (size_t i = 0; i < npt; i++) {
		pts[2 * i] = CITY_LAT - CITY_DLAT / 2 + CITY_DLAT * urand();
		pts[2 * i + 1] = CITY_LON - CITY_DLON / 2 + CITY_DLON * urand();
	}
	t = now_s();
	for (size_t i = 0; i < npt; i++)
		in += gf_zoneset_covers(zs, 0, pts[2 * i], pts[2 * i + 1]);
	double el = now_s() - t;
	double ptps = npt / el;
	printf("%-34s %9zu point tests  %11.0f tests/s (%6.1f ns/test), %zu inside\n",
	       "(c) one 100,000-vertex polygon", npt, ptps, 1e9 / ptps, in);
	free(pts);
	make_fixes(&fx, 2000000, 10000, CITY_LAT - CITY_DLAT / 2,
		   CITY_LON - CITY_DLON / 2, CITY_DLAT, CITY_DLON);
	run("(c) through the engine", zs, &fx, 2000);
	free(fx.f);
	free(fx.names);
	gf_zoneset_free(zs);
	free(b.p);

	printf("targets: (b) >= 2,000,000 fixes/s: %s (%.0f); >= 50x scan: %s "
	       "(%.0fx); (c) >= 5,000,000 tests/s: %s (%.0f); (d) rules on/off "
	       ">= 0.9: %s (%.3f)\n",
	       rb.engine_fps >= 2e6 ? "MET" : "MISSED", rb.engine_fps,
	       rb.engine_fps / rb.scan_fps >= 50 ? "MET" : "MISSED",
	       rb.engine_fps / rb.scan_fps, ptps >= 5e6 ? "MET" : "MISSED", ptps,
	       rules_ratio >= 0.9 ? "MET" : "MISSED", rules_ratio);
	return 0;
}
