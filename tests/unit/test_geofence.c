/*
 * test_geofence.c - unit cases for geofence/: geometry (edges, vertices,
 * holes, concave, MultiPolygon, circles, corridors), time windows and
 * DST, time zones, datum, zone errors, listing/export, every alert kind
 * with its re-arm rule, hysteresis, late/duplicate fixes, zone swap, the
 * state blob, the alert JSON, and a property test against a reference
 * point-in-polygon written here in exact integer arithmetic.
 * Each table row is a named case; failures print the row's name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geofence/geofence.h"
#include "geofence/geofence-internal.h" /* datum helpers */
#include "tests/unit/rows.h"

#define R_EARTH 6371008.8
#define DEG (3.14159265358979323846 / 180.0)

static int64_t
T(const char *s)
{
	int64_t us;
	if (gf_time_parse(s, &us) != GF_OK)
		fail_msg("bad time %s", s);
	return us;
}

/* One-feature FeatureCollection from a geometry and extra properties. */
static gf_zoneset *
one_zone(const char *geom, const char *props)
{
	char buf[8192], err[256];
	snprintf(buf, sizeof buf,
		 "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
		 "\"geometry\":%s,\"properties\":{\"id\":1,\"name\":\"z\","
		 "\"kind\":\"restricted\"%s}}]}", geom, props ? props : "");
	gf_zoneset *zs = NULL;
	int rc = gf_zoneset_parse(buf, strlen(buf), &zs, err, sizeof err);
	if (rc != GF_OK)
		fail_msg("zone refused: %s", err);
	return zs;
}

/* Point at distance d (m) and bearing b (deg) from (lat, lon), sphere. */
static void
dest(double lat, double lon, double b, double d, double *olat, double *olon)
{
	double p1 = lat * DEG, l1 = lon * DEG, br = b * DEG, a = d / R_EARTH;
	double p2 = asin(sin(p1) * cos(a) + cos(p1) * sin(a) * cos(br));
	double l2 = l1 + atan2(sin(br) * sin(a) * cos(p1), cos(a) - sin(p1) * sin(p2));
	*olat = p2 / DEG;
	*olon = l2 / DEG;
}

/* ---- polygon containment ---------------------------------------------- */

#define SQUARE "{\"type\":\"Polygon\",\"coordinates\":[[[112.5,37.8],[112.51,37.8],[112.51,37.81],[112.5,37.81],[112.5,37.8]]]}"
#define HOLED "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}"
#define UCONC "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[6,0],[6,6],[4,6],[4,2],[2,2],[2,6],[0,6],[0,0]]]}"
#define MULTI "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[3,0],[4,0],[4,1],[3,1],[3,0]]]]}"
#define DIAMOND "{\"type\":\"Polygon\",\"coordinates\":[[[0,-2],[2,0],[0,2],[-2,0],[0,-2]]]}"
#define TRI "{\"type\":\"Polygon\",\"coordinates\":[[[0.125,0.125],[0.875,0.375],[0.25,0.875],[0.125,0.125]]]}"

struct pip_case {
	const char *name;
	const char *geom;
	double lat, lon;
	bool inside;
};

static const struct pip_case pip_cases[] = {
	{"square_interior", SQUARE, 37.805, 112.505, true},
	{"square_exterior", SQUARE, 37.805, 112.515, false},
	{"square_on_bottom_edge", SQUARE, 37.8, 112.505, true},
	{"square_on_right_edge", SQUARE, 37.805, 112.51, true},
	{"square_on_top_edge", SQUARE, 37.81, 112.505, true},
	{"square_on_left_edge", SQUARE, 37.805, 112.5, true},
	{"square_on_vertex_sw", SQUARE, 37.8, 112.5, true},
	{"square_on_vertex_ne", SQUARE, 37.81, 112.51, true},
	{"square_on_vertex_se", SQUARE, 37.8, 112.51, true},
	{"square_just_below_edge", SQUARE, 37.79999999999999, 112.505, false},
	{"square_beyond_vertex_on_edge_line", SQUARE, 37.8, 112.52, false},
	{"square_before_vertex_on_edge_line", SQUARE, 37.8, 112.49, false},
	{"hole_inside_hole", HOLED, 5, 5, false},
	{"hole_on_hole_edge", HOLED, 5, 4, true},
	{"hole_on_hole_vertex", HOLED, 6, 6, true},
	{"hole_between_rings", HOLED, 2, 2, true},
	{"hole_on_outer_edge", HOLED, 10, 5, true},
	{"concave_in_notch", UCONC, 4, 3, false},
	{"concave_in_left_arm", UCONC, 4, 1, true},
	{"concave_in_right_arm", UCONC, 4, 5, true},
	{"concave_on_notch_bottom", UCONC, 2, 3, true},
	{"concave_on_inner_vertex", UCONC, 2, 4, true},
	{"concave_ray_through_arm_tops", UCONC, 6, 3, false},
	{"concave_on_arm_top", UCONC, 6, 5, true},
	{"multi_in_first", MULTI, 0.5, 0.5, true},
	{"multi_in_second", MULTI, 0.5, 3.5, true},
	{"multi_between", MULTI, 0.5, 2, false},
	{"multi_on_second_edge", MULTI, 1, 3.2, true},
	{"diamond_ray_through_vertex_in", DIAMOND, 0, 1, true},
	{"diamond_ray_through_vertex_out", DIAMOND, 0, -3, false},
	{"diamond_on_vertex_right", DIAMOND, 0, 2, true},
	{"diamond_right_of_vertex", DIAMOND, 0, 2.0000001, false},
	{"diamond_level_with_top", DIAMOND, 2, -1, false},
	{"tri_on_slanted_edge", TRI, 0.25, 0.5, true},
	{"tri_one_ulp_right_of_slanted_edge", TRI, 0.25, 0.5000000000000001, false},
	{"tri_one_ulp_left_of_slanted_edge", TRI, 0.25, 0.49999999999999994, true},
	{"tri_on_far_vertex", TRI, 0.875, 0.25, true},
};

static void
test_point_in_polygon_table(void **state)
{
	const struct pip_case *c = *state;
	gf_zoneset *zs = one_zone(c->geom, NULL);
	bool got = gf_zoneset_covers(zs, 0, c->lat, c->lon);
	size_t idx[4];
	size_t n = gf_zoneset_query(zs, c->lat, c->lon, idx, 4, false);
	if (got != c->inside || (n == 1) != c->inside)
		fail_msg("case %s: got %d (index %zu), want %d", c->name, got,
			 n, c->inside);
	gf_zoneset_free(zs);
}

/* ---- circles and corridors -------------------------------------------- */

struct dist_case {
	const char *name;
	int shape;       /* 0 circle r=500 at (37.8,112.5); 1 corridor */
	double blat, blon; /* base point */
	double bearing, d; /* offset from the base */
	bool inside;
};

/* Corridor: meridian 112.5 from 37.80 to 37.82, then along the great
 * circle to (37.82, 112.52); width 200 m -> 100 m either side. */
#define CORR "{\"type\":\"LineString\",\"coordinates\":[[112.5,37.8],[112.5,37.82],[112.52,37.82]]}"

static const struct dist_case dist_cases[] = {
	{"circle_inside_radius", 0, 37.8, 112.5, 90, 499.99, true},
	{"circle_at_radius_minus_1mm", 0, 37.8, 112.5, 0, 499.999, true},
	{"circle_beyond_radius_1mm", 0, 37.8, 112.5, 0, 500.001, false},
	{"circle_beyond_radius_east", 0, 37.8, 112.5, 90, 500.01, false},
	{"circle_centre", 0, 37.8, 112.5, 0, 0, true},
	{"corridor_side_inside", 1, 37.81, 112.5, 90, 99.99, true},
	{"corridor_side_outside", 1, 37.81, 112.5, 90, 100.01, false},
	{"corridor_other_side_inside", 1, 37.81, 112.5, 270, 99.99, true},
	{"corridor_start_cap_inside", 1, 37.8, 112.5, 180, 99.99, true},
	{"corridor_start_cap_outside", 1, 37.8, 112.5, 180, 100.01, false},
	{"corridor_start_cap_diagonal_in", 1, 37.8, 112.5, 225, 99.99, true},
	{"corridor_start_cap_diagonal_out", 1, 37.8, 112.5, 225, 100.01, false},
	{"corridor_bend_outer_corner_in", 1, 37.82, 112.5, 315, 99.99, true},
	{"corridor_bend_outer_corner_out", 1, 37.82, 112.5, 315, 100.01, false},
	{"corridor_bend_inner_corner", 1, 37.82, 112.5, 135, 130, true},
	{"corridor_end_cap_in", 1, 37.82, 112.52, 80, 99.9, true},
	{"corridor_end_cap_out", 1, 37.82, 112.52, 80, 100.1, false},
	{"corridor_far", 1, 37.81, 112.51, 0, 0, false},
};

static void
test_circle_and_corridor_table(void **state)
{
	gf_zoneset *circle = one_zone(
		"{\"type\":\"Point\",\"coordinates\":[112.5,37.8]}", ",\"radius_m\":500");
	gf_zoneset *corr = one_zone(CORR, ",\"width_m\":200");
	const struct dist_case *c = *state;
	double lat, lon;
	dest(c->blat, c->blon, c->bearing, c->d, &lat, &lon);
	gf_zoneset *zs = c->shape ? corr : circle;
	bool got = gf_zoneset_covers(zs, 0, lat, lon);
	size_t idx[2];
	size_t n = gf_zoneset_query(zs, lat, lon, idx, 2, false);
	if (got != c->inside || (n == 1) != c->inside)
		fail_msg("case %s: got %d, want %d", c->name, got, c->inside);
	double out = gf_zoneset_distance_outside(zs, 0, lat, lon);
	if (!c->inside && !(out > 0 && out < 1))
		if (strcmp(c->name, "corridor_far") != 0)
			fail_msg("case %s: distance outside %g", c->name, out);
	gf_zoneset_free(circle);
	gf_zoneset_free(corr);
}

static void
test_polygon_distance_outside(void **state)
{
	(void)state;
	gf_zoneset *zs = one_zone(SQUARE, NULL);
	double lat, lon;
	dest(37.805, 112.51, 90, 50, &lat, &lon);
	double d = gf_zoneset_distance_outside(zs, 0, lat, lon);
	assert_true(fabs(d - 50) < 0.5);
	assert_true(gf_zoneset_distance_outside(zs, 0, 37.805, 112.505) == 0);
	gf_zoneset_free(zs);
}

/* ---- datum -------------------------------------------------------------- */

static void
test_datum_gcj02_zone_is_shifted(void **state)
{
	(void)state;
	/* A square drawn in GCJ-02 must land ~300-600 m from the same numbers
	 * read as WGS-84, and the inverse must be tight: the GCJ-02 corner,
	 * pushed forward again, reproduces the drawn numbers. */
	const char *g = "{\"type\":\"Polygon\",\"coordinates\":[[[112.5,37.8],"
			"[112.51,37.8],[112.51,37.81],[112.5,37.81],[112.5,37.8]]]}";
	gf_zoneset *wgs = one_zone(g, NULL);
	gf_zoneset *gcj = one_zone(g, ",\"datum\":\"gcj02\"");
	gf_zoneset *bd = one_zone(g, ",\"datum\":\"bd09\"");
	/* The drawn SW corner, converted, is the loaded zone's SW corner:
	 * a few metres north-east of it is inside, south-west outside; and
	 * converting back reproduces the drawn numbers to < 1 cm. */
	double wlat, wlon, glat, glon, blat, blon;
	gf_wgs84_from_gcj02(37.8, 112.5, &wlat, &wlon);
	assert_true(gf_zoneset_covers(gcj, 0, wlat, wlon));
	assert_true(gf_zoneset_covers(gcj, 0, wlat + 5e-5, wlon + 5e-5));
	assert_false(gf_zoneset_covers(gcj, 0, wlat - 5e-5, wlon - 5e-5));
	assert_false(gf_zoneset_covers(wgs, 0, wlat - 5e-5, wlon - 5e-5));
	double d = gf_zoneset_distance_outside(gcj, 0, 37.8095, 112.5095);
	assert_true(d == 0 || (d > 0 && d < 1000));
	/* BD-09 sits further still from the drawn numbers than GCJ-02. */
	double bw, bl;
	gf_gcj02_from_bd09(37.8, 112.5, &glat, &glon);
	gf_wgs84_from_gcj02(glat, glon, &bw, &bl);
	assert_true(gf_zoneset_covers(bd, 0, bw + 5e-5, bl + 5e-5));
	assert_false(gf_zoneset_covers(bd, 0, bw - 5e-5, bl - 5e-5));
	gf_gcj02_from_wgs84(wlat, wlon, &glat, &glon);
	assert_true(fabs(glat - 37.8) < 1e-7 && fabs(glon - 112.5) < 1e-7);
	double shift = sqrt(pow((wlat - 37.8) * 111195, 2) +
			    pow((wlon - 112.5) * 111195 * cos(37.8 * DEG), 2));
	assert_true(shift > 300 && shift < 700);
	gf_gcj02_from_bd09(37.8, 112.5, &glat, &glon);
	gf_bd09_from_gcj02(glat, glon, &blat, &blon);
	assert_true(fabs(blat - 37.8) < 1e-9 && fabs(blon - 112.5) < 1e-9);
	/* The published test vectors (eviltransform): WGS-84 (39.915, 116.404)
	 * is GCJ-02 (39.91640428150164, 116.41024449916938); GCJ-02 (39.915,
	 * 116.404) is BD-09 (39.92133699351021, 116.41036949371029). */
	gf_gcj02_from_wgs84(39.915, 116.404, &glat, &glon);
	assert_true(fabs(glat - 39.91640428150164) < 1e-12 &&
		    fabs(glon - 116.41024449916938) < 1e-12);
	gf_wgs84_from_gcj02(39.91640428150164, 116.41024449916938, &wlat, &wlon);
	assert_true(fabs(wlat - 39.915) < 1e-9 && fabs(wlon - 116.404) < 1e-9);
	gf_bd09_from_gcj02(39.915, 116.404, &blat, &blon);
	assert_true(fabs(blat - 39.92133699351021) < 1e-12 &&
		    fabs(blon - 116.41036949371029) < 1e-12);
	gf_gcj02_from_bd09(39.92133699351021, 116.41036949371029, &glat, &glon);
	assert_true(fabs(glat - 39.915) < 1e-9 && fabs(glon - 116.404) < 1e-9);
	/* Outside China the transform is the identity. */
	gf_wgs84_from_gcj02(52.5, 13.4, &wlat, &wlon);
	assert_true(wlat == 52.5 && wlon == 13.4);
	for (int i = 0; i < 1000; i++) {
		double la = 18 + i * 0.035, lo = 75 + i * 0.06;
		gf_gcj02_from_wgs84(la, lo, &glat, &glon);
		gf_wgs84_from_gcj02(glat, glon, &wlat, &wlon);
		assert_true(fabs(wlat - la) < 1e-9 && fabs(wlon - lo) < 1e-9);
	}
	gf_zoneset_free(wgs);
	gf_zoneset_free(gcj);
	gf_zoneset_free(bd);
}

/* ---- time ------------------------------------------------------------- */

struct time_case {
	const char *name;
	const char *in;
	int rc;
	const char *utc; /* formatted back */
};

static const struct time_case time_cases[] = {
	{"utc_millis", "2019-08-10T08:00:00.123Z", GF_OK, "2019-08-10T08:00:00.123Z"},
	{"offset_plus8", "2019-08-10T08:00:00+08:00", GF_OK, "2019-08-10T00:00:00.000Z"},
	{"offset_minus5", "2019-12-31T23:30:00-05:00", GF_OK, "2020-01-01T04:30:00.000Z"},
	{"micro_truncated_to_ms", "2019-08-10T08:00:00.123999Z", GF_OK, "2019-08-10T08:00:00.123Z"},
	{"leap_day", "2020-02-29T00:00:00Z", GF_OK, "2020-02-29T00:00:00.000Z"},
	{"before_epoch", "1969-12-31T23:59:59.500Z", GF_OK, "1969-12-31T23:59:59.500Z"},
	{"no_zone", "2019-08-10T08:00:00", GF_EINVAL, NULL},
	{"bad_day", "2019-02-29T00:00:00Z", GF_EINVAL, NULL},
	{"bad_hour", "2019-08-10T24:00:00Z", GF_EINVAL, NULL},
	{"trailing", "2019-08-10T08:00:00Zx", GF_EINVAL, NULL},
	/* One rule with ingest since issue 10 (common/hz_time.h): nanoseconds
	 * are truncated (this case was GF_EINVAL before) and second 60 is the
	 * next minute's :00. */
	{"nanos_truncated", "2019-08-10T08:00:00.1234567Z", GF_OK, "2019-08-10T08:00:00.123Z"},
	{"leap_second", "2016-12-31T23:59:60Z", GF_OK, "2017-01-01T00:00:00.000Z"},
	{"leap_second_offset", "2017-01-01T07:59:60.5+08:00", GF_OK, "2017-01-01T00:00:00.500Z"},
	{"second_61", "2016-12-31T23:59:61Z", GF_EINVAL, NULL},
};

static void
test_time_parse_format_table(void **state)
{
	const struct time_case *c = *state;
	int64_t us = 0;
	int rc = gf_time_parse(c->in, &us);
	if (rc != c->rc)
		fail_msg("case %s: rc %d", c->name, rc);
	if (c->utc) {
		char b[25];
		gf_time_format(us, b);
		if (strcmp(b, c->utc))
			fail_msg("case %s: %s", c->name, b);
	}
}

struct tz_case {
	const char *name;
	const char *zone; /* IANA name, or "posix:RULE" */
	const char *at;
	int32_t off;
	bool dst;
};

static const struct tz_case tz_cases[] = {
	{"shanghai_2019", "Asia/Shanghai", "2019-08-10T00:00:00Z", 28800, false},
	{"shanghai_1988_dst", "Asia/Shanghai", "1988-07-01T00:00:00Z", 32400, true},
	{"shanghai_1988_winter", "Asia/Shanghai", "1988-01-01T00:00:00Z", 28800, false},
	{"shanghai_2080_footer", "Asia/Shanghai", "2080-07-01T00:00:00Z", 28800, false},
	{"berlin_before_spring", "Europe/Berlin", "2019-03-31T00:59:59Z", 3600, false},
	{"berlin_spring_edge", "Europe/Berlin", "2019-03-31T01:00:00Z", 7200, true},
	{"berlin_before_autumn", "Europe/Berlin", "2019-10-27T00:59:59Z", 7200, true},
	{"berlin_autumn_edge", "Europe/Berlin", "2019-10-27T01:00:00Z", 3600, false},
	{"berlin_2100_summer_footer", "Europe/Berlin", "2100-07-01T00:00:00Z", 7200, true},
	{"berlin_2100_spring_edge", "Europe/Berlin", "2100-03-28T01:00:00Z", 7200, true},
	{"berlin_2100_before_spring", "Europe/Berlin", "2100-03-28T00:59:59Z", 3600, false},
	{"berlin_2100_winter", "Europe/Berlin", "2100-01-15T00:00:00Z", 3600, false},
	{"newyork_before_spring", "America/New_York", "2019-03-10T06:59:59Z", -18000, false},
	{"newyork_spring_edge", "America/New_York", "2019-03-10T07:00:00Z", -14400, true},
	{"newyork_autumn_edge", "America/New_York", "2019-11-03T06:00:00Z", -18000, false},
	{"newyork_before_autumn", "America/New_York", "2019-11-03T05:59:59Z", -14400, true},
	{"newyork_2090_summer", "America/New_York", "2090-07-04T12:00:00Z", -14400, true},
	{"posix_cet_summer", "posix:CET-1CEST,M3.5.0,M10.5.0/3", "2019-03-31T01:00:00Z", 7200, true},
	{"posix_cet_winter", "posix:CET-1CEST,M3.5.0,M10.5.0/3", "2019-10-27T01:00:00Z", 3600, false},
	{"posix_sydney_jan", "posix:AEST-10AEDT,M10.1.0,M4.1.0/3", "2019-01-15T00:00:00Z", 39600, true},
	{"posix_sydney_jul", "posix:AEST-10AEDT,M10.1.0,M4.1.0/3", "2019-07-01T00:00:00Z", 36000, false},
	{"posix_quoted_name", "posix:<+08>-8", "2019-07-01T00:00:00Z", 28800, false},
	{"posix_julian", "posix:XST5XDT,J60/2,J300/2", "2019-06-01T00:00:00Z", -14400, true},
};

static void
test_tz_table(void **state)
{
	const struct tz_case *c = *state;
	gf_tz *tz = NULL;
	int rc = strncmp(c->zone, "posix:", 6) == 0
			 ? gf_tz_from_posix(c->zone + 6, &tz)
			 : gf_tz_load(c->zone, &tz);
	if (rc != GF_OK)
		fail_msg("case %s: load %s", c->name, gf_strerror(rc));
	bool dst;
	int32_t off = gf_tz_offset(tz, T(c->at) / 1000000, &dst);
	if (off != c->off || dst != c->dst)
		fail_msg("case %s: offset %d dst %d", c->name, off, dst);
	gf_tz_free(tz);
}

static void
test_tz_bad_input(void **state)
{
	(void)state;
	gf_tz *tz = NULL;
	const uint8_t junk[] = "TZif2 this is not a zone file at all, no no no no";
	assert_int_equal(gf_tz_parse(junk, sizeof junk, &tz), GF_ETZ);
	assert_null(tz);
	assert_int_equal(gf_tz_parse((const uint8_t *)"xx", 2, &tz), GF_ETZ);
	assert_int_equal(gf_tz_load("../etc/passwd", &tz), GF_EINVAL);
	assert_int_equal(gf_tz_load("No/Such_Zone", &tz), GF_EIO);
	assert_int_equal(gf_tz_from_posix("X", &tz), GF_ETZ);
	assert_int_equal(gf_tz_from_posix("CET-1CEST,M13.5.0,M10.5.0", &tz), GF_ETZ);
	/* A real file cut short is refused, not misread. */
	FILE *f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
	assert_non_null(f);
	uint8_t buf[8192];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	assert_true(n > 200);
	assert_int_equal(gf_tz_parse(buf, n / 2, &tz), GF_ETZ);
	assert_int_equal(gf_tz_parse(buf, n, &tz), GF_OK);
	gf_tz_free(tz);
}

/* ---- zone errors ------------------------------------------------------- */

#define FC(feats) "{\"type\":\"FeatureCollection\",\"features\":[" feats "]}"
#define OKF(id) "{\"type\":\"Feature\",\"geometry\":" SQUARE ",\"properties\":{\"id\":" #id ",\"kind\":\"depot\"}}"
#define F(geom, props) "{\"type\":\"Feature\",\"geometry\":" geom ",\"properties\":{\"id\":7" props "}}"

struct zerr_case {
	const char *name;
	const char *text;
	const char *want; /* substring of the error */
};

static const struct zerr_case zerr_cases[] = {
	{"not_json", "{\"type\":", "not JSON"},
	{"not_collection", "{\"type\":\"Feature\",\"features\":[]}", "not a FeatureCollection"},
	{"no_features", "{\"type\":\"FeatureCollection\"}", "not a FeatureCollection"},
	{"not_a_feature", FC(OKF(1) ",{\"type\":\"Point\"}"), "feature 1 (no id): not a Feature"},
	{"missing_id", FC("{\"type\":\"Feature\",\"geometry\":" SQUARE ",\"properties\":{\"kind\":\"depot\"}}"), "feature 0 (no id): missing or non-integer id"},
	{"unknown_geometry", FC(OKF(1) "," F("{\"type\":\"Triangle\",\"coordinates\":[]}", ",\"kind\":\"depot\"")), "feature 1 (id 7): unknown geometry type \"Triangle\""},
	{"unknown_kind", FC(F(SQUARE, ",\"kind\":\"school\"")), "feature 0 (id 7): unknown kind \"school\""},
	{"missing_kind", FC(F(SQUARE, "")), "feature 0 (id 7): missing kind"},
	{"unclosed_ring", FC(F("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0.5]]]}", ",\"kind\":\"depot\"")), "feature 0 (id 7): polygon 0 ring 0 is not closed"},
	{"ring_under_4", FC(F("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,0]]]}", ",\"kind\":\"depot\"")), "feature 0 (id 7): polygon 0 ring 0 has 3 points, under 4"},
	{"hole_unclosed", FC(F("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[9,0],[9,9],[0,0]],[[1,1],[2,1],[2,2],[1,1.5]]]}", ",\"kind\":\"depot\"")), "polygon 0 ring 1 is not closed"},
	{"latitude_range", FC(F("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,91],[0,0]]]}", ",\"kind\":\"depot\"")), "feature 0 (id 7): polygon 0 ring 0: latitude 91 out of range"},
	{"longitude_range", FC(F("{\"type\":\"Point\",\"coordinates\":[181,0]}", ",\"kind\":\"depot\",\"radius_m\":5")), "longitude 181 out of range"},
	{"missing_radius", FC(F("{\"type\":\"Point\",\"coordinates\":[1,0]}", ",\"kind\":\"prohibited\"")), "feature 0 (id 7): Point without a positive radius_m"},
	{"missing_width", FC(F("{\"type\":\"LineString\",\"coordinates\":[[1,0],[2,0]]}", ",\"kind\":\"corridor\"")), "feature 0 (id 7): LineString without a positive width_m"},
	{"duplicate_id", FC(OKF(3) "," OKF(4) "," OKF(3)), "feature 2 (id 3): duplicate id (also feature 0)"},
	{"bad_from", FC(F(SQUARE, ",\"kind\":\"depot\",\"active\":[{\"from\":\"yesterday\"}]")), "feature 0 (id 7): active[0].from: unparsable time"},
	{"bad_to", FC(F(SQUARE, ",\"kind\":\"depot\",\"active\":[{\"to\":\"2019-13-01T00:00:00Z\"}]")), "active[0].to: unparsable time"},
	{"bad_daily", FC(F(SQUARE, ",\"kind\":\"depot\",\"active\":[{\"daily\":\"7-20\"}]")), "feature 0 (id 7): active[0].daily: unparsable window"},
	{"bad_daily_hour", FC(F(SQUARE, ",\"kind\":\"depot\",\"active\":[{\"daily\":\"07:00-25:00\"}]")), "active[0].daily: unparsable window"},
	{"unknown_datum", FC(F(SQUARE, ",\"kind\":\"depot\",\"datum\":\"osgb36\"")), "feature 0 (id 7): unknown datum \"osgb36\""},
	{"classes_not_strings", FC(F(SQUARE, ",\"kind\":\"depot\",\"hazard_classes\":[3]")), "hazard_classes[0] is not a string"},
};

static void
test_zone_errors_table(void **state)
{
	const struct zerr_case *c = *state;
	char err[256];
	gf_zoneset *zs = (gf_zoneset *)1;
	int rc = gf_zoneset_parse(c->text, strlen(c->text), &zs, err, sizeof err);
	if (rc != GF_EZONES || zs != NULL || strstr(err, c->want) == NULL)
		fail_msg("case %s: rc %d err \"%s\"", c->name, rc, err);
}

static void
test_zone_list_and_export_round_trip(void **state)
{
	(void)state;
	const char *t = FC(OKF(5) "," F(CORR, ",\"kind\":\"corridor\",\"name\":\"r\",\"width_m\":50,\"vehicles\":[\"b\",\"a\"]") "," OKF(2));
	gf_zoneset *zs = NULL, *zs2 = NULL;
	assert_int_equal(gf_zoneset_parse(t, strlen(t), &zs, NULL, 0), GF_OK);
	assert_int_equal(gf_zoneset_count(zs), 3);
	struct gf_zone_info a, b;
	assert_int_equal(gf_zoneset_zone(zs, 0, &a), GF_OK);
	assert_int_equal(a.id, 2);
	assert_int_equal(a.kind, GF_KIND_DEPOT);
	assert_null(a.name);
	assert_int_equal(gf_zoneset_zone(zs, 2, &a), GF_OK);
	assert_int_equal(a.id, 7);
	assert_string_equal(a.name, "r");
	assert_string_equal(gf_kind_name(a.kind), "corridor");
	assert_int_equal(gf_zoneset_zone(zs, 3, &a), GF_EINVAL);
	assert_int_equal(gf_zoneset_find(zs, 5), 1);
	assert_int_equal(gf_zoneset_find(zs, 6), -1);
	char *ex = gf_zoneset_export(zs);
	assert_non_null(ex);
	assert_int_equal(gf_zoneset_parse(ex, strlen(ex), &zs2, NULL, 0), GF_OK);
	for (size_t i = 0; i < 3; i++) {
		gf_zoneset_zone(zs, i, &a);
		gf_zoneset_zone(zs2, i, &b);
		assert_string_equal(a.feature_json, b.feature_json);
	}
	assert_non_null(strstr(a.feature_json, "\"vehicles\":[\"b\",\"a\"]"));
	assert_true(gf_zoneset_memory(zs) > 0);
	free(ex);
	gf_zoneset_free(zs);
	gf_zoneset_free(zs2);
}

/* ---- engine scenarios ------------------------------------------------- */

/* Zones for scenarios:
 *  1 depot      A  [112.50,112.51]x[37.80,37.81], speed 40, dwell 60 s
 *  2 prohibited B  [112.52,112.53]x[37.80,37.81]
 *  3 corridor      meridian 112.55, 37.80..37.90, 200 m wide, V1 only
 *  4 event_venue C [112.60,112.61]x[37.80,37.81], daily 08:00-09:00 local
 *  5 restricted D  [112.62,112.63]x[37.80,37.81], classes ["3"]
 *  6 restricted E  [112.505,112.515]x[37.80,37.81] (overlaps A)
 *  7 event_venue F [112.64,112.65]x[37.80,37.81], 22:00-06:00 local,
 *                  and only 2019-08-10T00:00+08:00 .. 2019-08-12T00:00+08:00
 */
#define SQ(x0, x1) "{\"type\":\"Polygon\",\"coordinates\":[[[" x0 ",37.8],[" x1 ",37.8],[" x1 ",37.81],[" x0 ",37.81],[" x0 ",37.8]]]}"
#define FEAT(geom, props) "{\"type\":\"Feature\",\"geometry\":" geom ",\"properties\":{" props "}}"
static const char *scen_zones = FC(
	FEAT(SQ("112.5", "112.51"), "\"id\":1,\"name\":\"A\",\"kind\":\"depot\",\"speed_limit_kmh\":40,\"max_dwell_s\":60") ","
	FEAT(SQ("112.52", "112.53"), "\"id\":2,\"name\":\"B\",\"kind\":\"prohibited\"") ","
	FEAT("{\"type\":\"LineString\",\"coordinates\":[[112.55,37.8],[112.55,37.9]]}", "\"id\":3,\"name\":\"R\",\"kind\":\"corridor\",\"width_m\":200,\"vehicles\":[\"V1\"]") ","
	FEAT(SQ("112.6", "112.61"), "\"id\":4,\"name\":\"C\",\"kind\":\"event_venue\",\"active\":[{\"daily\":\"08:00-09:00\"}]") ","
	FEAT(SQ("112.62", "112.63"), "\"id\":5,\"name\":\"D\",\"kind\":\"restricted\",\"hazard_classes\":[\"3\"]") ","
	FEAT(SQ("112.505", "112.515"), "\"id\":6,\"name\":\"E\",\"kind\":\"restricted\"") ","
	FEAT(SQ("112.64", "112.65"), "\"id\":7,\"name\":\"F\",\"kind\":\"event_venue\",\"active\":[{\"from\":\"2019-08-10T00:00:00+08:00\",\"to\":\"2019-08-12T00:00:00+08:00\",\"daily\":\"22:00-06:00\"}]"));

/* Named places (lat, lon). */
#define P_OUT 37.85, 112.7
#define P_A 37.805, 112.502
#define P_AE 37.805, 112.507     /* in A and E */
#define P_A_NEAR 37.805, 112.5100569 /* ~5 m east of A (inside E!) */
#define P_B 37.805, 112.525
#define P_B_NEAR 37.805, 112.5300569 /* ~5 m east of B */
#define P_B_FAR 37.805, 112.531      /* ~88 m east of B */
#define P_R 37.85, 112.55
#define P_C 37.805, 112.605
#define P_D 37.805, 112.625
#define P_F 37.805, 112.645

struct sfix {
	const char *veh;
	double t;      /* seconds after t0 */
	double lat, lon;
	double speed;  /* < 0: none */
	const char *cls;
	char disp;     /* expected: 'a' applied, 'l' late, 'd' duplicate */
};

struct scenario {
	const char *name;
	const char *t0;
	unsigned exit_fixes;
	double exit_margin_m;
	int64_t silent_s; /* 0: default */
	struct sfix fixes[16];
	const char *want; /* "kind:zone@fix ..." (zone '-' for none) */
	const char *tz;   /* NULL: Asia/Shanghai */
};

#define FX(v, t, p, s) {v, t, p, s, NULL, 'a'}
#define FXC(v, t, p, s, c) {v, t, p, s, c, 'a'}
#define T0 "2019-08-10T00:00:00Z"

static const struct scenario scenarios[] = {
	{"enter_then_exit", T0, 1, 0, 0,
	 {FX("V9", 0, P_OUT, -1), FX("V9", 5, P_A, -1), FX("V9", 10, P_A, -1),
	  FX("V9", 15, P_OUT, -1)},
	 "zone_enter:1@1 zone_exit:1@3", NULL},
	{"first_fix_inside_counts", T0, 1, 0, 0, {FX("V9", 0, P_A, -1)}, "zone_enter:1@0", NULL},
	{"prohibited_entry_and_exit", T0, 1, 0, 0,
	 {FX("V9", 0, P_B, -1), FX("V9", 5, P_OUT, -1), FX("V9", 10, P_B, -1)},
	 "prohibited_entry:2@0 zone_exit:2@1 prohibited_entry:2@2", NULL},
	{"order_exits_then_entries", T0, 1, 0, 0,
	 {FX("V9", 0, P_AE, -1), FX("V9", 5, P_B, -1)},
	 "zone_enter:1@0 zone_enter:6@0 zone_exit:1@1 zone_exit:6@1 prohibited_entry:2@1", NULL},
	{"neutral_hysteresis_exits_at_once", T0, 1, 0, 0,
	 {FX("V9", 0, P_B, -1), FX("V9", 5, P_B_NEAR, -1)},
	 "prohibited_entry:2@0 zone_exit:2@1", NULL},
	{"exit_fixes_3", T0, 3, 0, 0,
	 {FX("V9", 0, P_B, -1), FX("V9", 5, P_B_NEAR, -1), FX("V9", 10, P_B_NEAR, -1),
	  FX("V9", 15, P_B, -1), FX("V9", 20, P_B_NEAR, -1), FX("V9", 25, P_B_NEAR, -1),
	  FX("V9", 30, P_B_NEAR, -1), FX("V9", 35, P_B, -1)},
	 "prohibited_entry:2@0 zone_exit:2@6 prohibited_entry:2@7", NULL},
	{"exit_margin_exits_at_once", T0, 3, 50, 0,
	 {FX("V9", 0, P_B, -1), FX("V9", 5, P_B_NEAR, -1), FX("V9", 10, P_B_FAR, -1)},
	 "prohibited_entry:2@0 zone_exit:2@2", NULL},
	{"exit_margin_within_counts", T0, 3, 50, 0,
	 {FX("V9", 0, P_B, -1), FX("V9", 5, P_B_NEAR, -1), FX("V9", 10, P_B_NEAR, -1),
	  FX("V9", 15, P_B_NEAR, -1)},
	 "prohibited_entry:2@0 zone_exit:2@3", NULL},
	{"late_and_duplicate_fixes", T0, 1, 0, 0,
	 {FX("V9", 10, P_A, -1), {"V9", 5, P_OUT, -1, NULL, 'l'},
	  {"V9", 10, P_OUT, -1, NULL, 'd'}, {"V9", 9.999999, P_OUT, 99, NULL, 'l'},
	  FX("V9", 11, P_OUT, -1)},
	 "zone_enter:1@0 zone_exit:1@4", NULL},
	{"route_deviation_once_per_excursion", T0, 1, 0, 0,
	 {FX("V1", 0, P_R, -1), FX("V1", 5, P_OUT, -1), FX("V1", 10, P_OUT, -1),
	  FX("V1", 15, P_R, -1), FX("V1", 20, P_OUT, -1), FX("V2", 20, P_OUT, -1)},
	 "route_deviation:-@1 route_deviation:-@4", NULL},
	{"route_deviation_with_exit_fixes_3", T0, 3, 0, 0,
	 {FX("V1", 0, P_R, -1), FX("V1", 5, P_OUT, -1), FX("V1", 10, P_OUT, -1),
	  FX("V1", 15, P_R, -1), FX("V1", 20, P_OUT, -1), FX("V1", 25, P_OUT, -1),
	  FX("V1", 30, P_OUT, -1)},
	 "route_deviation:-@6", NULL},
	{"route_deviation_first_fix_outside", T0, 1, 0, 0,
	 {FX("V1", 0, P_OUT, -1), FX("V1", 5, P_A, -1)},
	 "route_deviation:-@0 zone_enter:1@1", NULL},
	{"zone_speeding_rearm", T0, 1, 0, 0,
	 {FX("V9", 0, P_A, 30), FX("V9", 5, P_A, 50), FX("V9", 10, P_A, 60),
	  FX("V9", 15, P_A, 40), FX("V9", 20, P_A, 41), FX("V9", 25, P_A, -1),
	  FX("V9", 30, P_OUT, 50), FX("V9", 35, P_A, 50)},
	 "zone_enter:1@0 zone_speeding:1@1 zone_speeding:1@4 zone_exit:1@6 "
	 "zone_enter:1@7 zone_speeding:1@7", NULL},
	{"overspeed_rearm", T0, 1, 0, 0,
	 {FX("V9", 0, P_OUT, 70), FX("V9", 5, P_OUT, 81), FX("V9", 10, P_OUT, 90),
	  FX("V9", 15, P_OUT, -1), FX("V9", 20, P_OUT, 80), FX("V9", 25, P_OUT, 85)},
	 "overspeed:-@1 overspeed:-@5", NULL},
	{"overspeed_and_zone_speeding_order", T0, 1, 0, 0,
	 {FX("V9", 0, P_A, 90)},
	 "zone_enter:1@0 overspeed:-@0 zone_speeding:1@0", NULL},
	{"dwell_once_per_stay", T0, 1, 0, 0,
	 {FX("V9", 0, P_A, -1), FX("V9", 30, P_A, -1), FX("V9", 60, P_A, -1),
	  FX("V9", 61, P_A, -1), FX("V9", 120, P_A, -1), FX("V9", 130, P_OUT, -1),
	  FX("V9", 140, P_A, -1), FX("V9", 201, P_A, -1)},
	 "zone_enter:1@0 dwell_exceeded:1@3 zone_exit:1@5 zone_enter:1@6 "
	 "dwell_exceeded:1@7", NULL},
	{"silent_by_gap_at_threshold", T0, 1, 0, 0,
	 {FX("V9", 0, P_OUT, -1), FX("V9", 299, P_OUT, -1), FX("V9", 599, P_OUT, -1),
	  FX("V9", 600, P_A, -1)},
	 "tracker_silent:-@2 tracker_resumed:-@2 zone_enter:1@3", NULL},
	{"silent_then_entry_order", T0, 1, 0, 0,
	 {FX("V9", 0, P_OUT, -1), FX("V9", 1000, P_A, -1)},
	 "tracker_silent:-@1 zone_enter:1@1 tracker_resumed:-@1", NULL},
	{"window_daily_edges", "2019-08-09T23:59:59Z", 1, 0, 1000000,
	 {FX("V9", 0, P_C, -1), FX("V9", 1, P_C, -1), FX("V9", 3600, P_C, -1),
	  FX("V9", 3601, P_C, -1)},
	 "zone_enter:4@1 zone_exit:4@3", NULL},
	{"window_wraps_midnight", "2019-08-10T13:59:59Z", 1, 0, 1000000,
	 /* 21:59:59 local out, 22:00 in, 05:59:59 in, 06:00 out */
	 {FX("V9", 0, P_F, -1), FX("V9", 1, P_F, -1), FX("V9", 28800, P_F, -1),
	  FX("V9", 28801, P_F, -1)},
	 "zone_enter:7@1 zone_exit:7@3", NULL},
	{"window_from_to_inclusive", "2019-08-09T15:59:59Z", 1, 0, 1000000,
	 /* 2019-08-09T23:59:59+08 out; 2019-08-10T00:00:00+08 in (and in the
	  * daily window); 2019-08-12T00:00:00+08 in; one second later out. */
	 {FX("V9", 0, P_F, -1), FX("V9", 1, P_F, -1), FX("V9", 172801, P_F, -1),
	  FX("V9", 172802, P_F, -1)},
	 "zone_enter:7@1 zone_exit:7@3", NULL},
	{"window_daily_across_dst_spring_berlin", "2019-03-30T07:30:00Z", 1, 0, 1000000,
	 /* zone C 08:00-09:00 local: 07:30Z is 08:30 CET (in); next day
	  * 06:30Z is 08:30 CEST (in), 07:30Z is 09:30 CEST (out) */
	 {FX("V9", 0, P_C, -1), FX("V9", 82800, P_C, -1), FX("V9", 86400, P_C, -1)},
	 "zone_enter:4@0 zone_exit:4@2", "Europe/Berlin"},
	{"window_daily_across_dst_autumn_berlin", "2019-10-26T06:30:00Z", 1, 0, 1000000,
	 /* 06:30Z is 08:30 CEST (in); next day 06:30Z is 07:30 CET (out),
	  * 07:30Z is 08:30 CET (in) */
	 {FX("V9", 0, P_C, -1), FX("V9", 86400, P_C, -1), FX("V9", 90000, P_C, -1)},
	 "zone_enter:4@0 zone_exit:4@1 zone_enter:4@2", "Europe/Berlin"},
	{"window_daily_new_york_dst", "2019-03-09T13:30:00Z", 1, 0, 1000000,
	 /* 13:30Z is 08:30 EST (in); next day 13:30Z is 09:30 EDT (out) */
	 {FX("V9", 0, P_C, -1), FX("V9", 86400, P_C, -1), FX("V9", 86400 + 82800, P_C, -1)},
	 "zone_enter:4@0 zone_exit:4@1 zone_enter:4@2", "America/New_York"},
	{"hazard_class_filter", T0, 1, 0, 0,
	 {FXC("V9", 0, P_D, -1, "2.1"), FXC("V9", 5, P_D, -1, "3"),
	  FXC("V9", 10, P_D, -1, "2.1"), FXC("V8", 0, P_D, -1, NULL)},
	 "zone_enter:5@1 zone_exit:5@2 zone_enter:5@3", NULL},
	{"corridor_no_enter_exit", T0, 1, 0, 0,
	 {FX("V2", 0, P_R, -1), FX("V2", 5, P_OUT, -1)}, "", NULL},
};

struct collect {
	char buf[1024];
	int fix;
};

static void
collect_cb(const struct gf_alert *a, void *arg)
{
	struct collect *c = arg;
	char item[64];
	if (a->has_zone)
		snprintf(item, sizeof item, "%s%s:%lld@%d", c->buf[0] ? " " : "",
			 gf_alert_kind_name(a->kind), (long long)a->zone_id, c->fix);
	else
		snprintf(item, sizeof item, "%s%s:-@%d", c->buf[0] ? " " : "",
			 gf_alert_kind_name(a->kind), c->fix);
	strncat(c->buf, item, sizeof c->buf - strlen(c->buf) - 1);
}

static gf_zoneset *
scen_set(void)
{
	gf_zoneset *zs = NULL;
	char err[256];
	if (gf_zoneset_parse(scen_zones, strlen(scen_zones), &zs, err, sizeof err))
		fail_msg("scenario zones: %s", err);
	return zs;
}

static void
test_engine_scenarios(void **state)
{
	gf_zoneset *zs = scen_set();
	gf_tz *tz = NULL;
	const struct scenario *s = *state;
	assert_int_equal(gf_tz_load(s->tz ? s->tz : "Asia/Shanghai", &tz), GF_OK);
	struct gf_options opt;
	gf_options_default(&opt);
	/* the geometry's scenarios: the rules beyond it have their own table */
	opt.rules.max_stop_s = opt.rules.max_continuous_s = opt.rules.max_daily_s = 0;
	opt.exit_fixes = s->exit_fixes;
	opt.exit_margin_m = s->exit_margin_m;
	if (s->silent_s)
		opt.silent_after_s = s->silent_s;
	gf_engine *e = NULL;
	assert_int_equal(gf_engine_new(&opt, zs, tz, &e), GF_OK);
	struct collect c = {.buf = ""};
	int64_t t0 = T(s->t0);
	for (int k = 0; k < 16 && s->fixes[k].veh; k++) {
		const struct sfix *f = &s->fixes[k];
		struct gf_fix fx = {f->veh, t0 + (int64_t)llround(f->t * 1e6),
				    f->lat, f->lon, f->speed >= 0, f->speed,
				    f->cls, 0, false, 0, false, NULL, 0};
		struct gf_fix_result res;
		c.fix = k;
		int rc = gf_engine_fix(e, &fx, collect_cb, &c, &res);
		char d = res.disposition == GF_FIX_APPLIED ? 'a'
			 : res.disposition == GF_FIX_LATE ? 'l' : 'd';
		if (rc != GF_OK || d != f->disp)
			fail_msg("case %s fix %d: rc %d disposition %c", s->name,
				 k, rc, d);
	}
	if (strcmp(c.buf, s->want))
		fail_msg("case %s:\n got  \"%s\"\n want \"%s\"", s->name,
			 c.buf, s->want);
	gf_engine_free(e);
	gf_tz_free(tz);
	gf_zoneset_free(zs);
}

static void
test_engine_zone_ids_and_late_fix(void **state)
{
	(void)state;
	gf_zoneset *zs = scen_set();
	struct gf_options opt;
	gf_options_default(&opt);
	gf_engine *e = NULL;
	assert_int_equal(gf_engine_new(&opt, zs, NULL, &e), GF_OK);
	struct gf_fix fx = {"V9", T(T0), P_AE, false, 0, NULL, 0, false, 0, false, NULL, 0};
	struct gf_fix_result res;
	assert_int_equal(gf_engine_fix(e, &fx, NULL, NULL, &res), GF_OK);
	assert_int_equal(res.nzone_ids, 2);
	assert_int_equal(res.zone_ids[0], 1);
	assert_int_equal(res.zone_ids[1], 6);
	assert_int_equal(res.nalerts, 2);
	assert_true(res.state_changed);
	fx.ts_us += 1000000; /* same place: a stop begins (a rule's episode) */
	assert_int_equal(gf_engine_fix(e, &fx, NULL, NULL, &res), GF_OK);
	assert_true(res.state_changed);
	fx.ts_us += 1000000; /* same place, nothing new: the stop goes on */
	assert_int_equal(gf_engine_fix(e, &fx, NULL, NULL, &res), GF_OK);
	assert_false(res.state_changed);
	fx.speed_kmh = 99; /* overspeed episode starts: flags change */
	fx.has_speed = true;
	fx.ts_us += 1000000;
	assert_int_equal(gf_engine_fix(e, &fx, NULL, NULL, &res), GF_OK);
	assert_true(res.state_changed);
	/* A late fix still reports its zones, for storage. */
	struct gf_fix late = {"V9", T(T0) - 1, P_B, false, 0, NULL, 0, false, 0, false, NULL, 0};
	assert_int_equal(gf_engine_fix(e, &late, NULL, NULL, &res), GF_OK);
	assert_int_equal(res.disposition, GF_FIX_LATE);
	assert_int_equal(res.nzone_ids, 1);
	assert_int_equal(res.zone_ids[0], 2);
	assert_int_equal(res.nalerts, 0);
	/* bad input changes nothing */
	struct gf_fix bad = {"", T(T0) + 5, P_B, false, 0, NULL, 0, false, 0, false, NULL, 0};
	assert_int_equal(gf_engine_fix(e, &bad, NULL, NULL, &res), GF_EINVAL);
	bad.vehicle = "123456789012345678901234567890123"; /* 33 bytes */
	assert_int_equal(gf_engine_fix(e, &bad, NULL, NULL, &res), GF_EINVAL);
	bad.vehicle = "V9";
	bad.lat = NAN;
	assert_int_equal(gf_engine_fix(e, &bad, NULL, NULL, &res), GF_EINVAL);
	assert_int_equal(gf_engine_vehicle_count(e), 1);
	gf_engine_free(e);
	gf_zoneset_free(zs);
}

static void
test_engine_tick_silent_once(void **state)
{
	(void)state;
	gf_zoneset *zs = scen_set();
	struct gf_options opt;
	gf_options_default(&opt);
	gf_engine *e = NULL;
	assert_int_equal(gf_engine_new(&opt, zs, NULL, &e), GF_OK);
	int64_t t0 = T(T0);
	struct gf_fix fx = {"V9", t0, P_OUT, false, 0, NULL, 0, false, 0, false, NULL, 0};
	assert_int_equal(gf_engine_fix(e, &fx, NULL, NULL, NULL), GF_OK);
	struct collect c = {.buf = ""};
	assert_int_equal(gf_engine_tick(e, t0 + 299999999, collect_cb, &c), 0);
	assert_int_equal(gf_engine_tick(e, t0 + 300000000, collect_cb, &c), 1);
	assert_int_equal(gf_engine_tick(e, t0 + 900000000, collect_cb, &c), 0);
	c.fix = 1;
	fx.ts_us = t0 + 1000000000;
	assert_int_equal(gf_engine_fix(e, &fx, collect_cb, &c, NULL), GF_OK);
	assert_string_equal(c.buf, "tracker_silent:-@0 tracker_resumed:-@1");
	gf_engine_free(e);
	gf_zoneset_free(zs);
}

/* The daemon measures silence from when fixes arrive, not from their time:
 * a backlog of old fixes received just now is not silence, and a vehicle
 * restored from its blob starts the clock at the first tick. */
static void
test_engine_tick_by_receive_time(void **state)
{
	(void)state;
	gf_zoneset *zs = scen_set();
	struct gf_options opt;
	gf_options_default(&opt);
	gf_engine *e = NULL;
	assert_int_equal(gf_engine_new(&opt, zs, NULL, &e), GF_OK);
	int64_t t0 = T(T0), now = t0 + 86400000000LL; /* fixes a day old */
	struct gf_fix fx = {"V9", t0, P_OUT, false, 0, NULL, now, false, 0, false, NULL, 0};
	assert_int_equal(gf_engine_fix(e, &fx, NULL, NULL, NULL), GF_OK);
	struct collect c = {.buf = ""};
	assert_int_equal(gf_engine_tick(e, now + 299999999, collect_cb, &c), 0);
	assert_int_equal(gf_engine_tick(e, now + 300000000, collect_cb, &c), 1);
	assert_string_equal(c.buf, "tracker_silent:-@0");

	/* Restored from a blob: no receive time, silence counts from the first tick. */
	fx.ts_us = t0 + 1000000;
	fx.rx_us = now + 1000000;
	assert_int_equal(gf_engine_fix(e, &fx, NULL, NULL, NULL), GF_OK);
	uint8_t blob[512];
	size_t n = 0;
	assert_int_equal(gf_engine_state_save(e, "V9", blob, sizeof blob, &n), GF_OK);
	gf_engine *e2 = NULL;
	assert_int_equal(gf_engine_new(&opt, zs, NULL, &e2), GF_OK);
	fx.vehicle = "V8";
	assert_int_equal(gf_engine_fix(e2, &fx, NULL, NULL, NULL), GF_OK);
	assert_int_equal(gf_engine_state_load(e2, "V8", blob, n), GF_OK);
	struct collect c2 = {.buf = ""};
	int64_t later = now + 3600000000LL;
	assert_int_equal(gf_engine_tick(e2, later, collect_cb, &c2), 0);
	assert_int_equal(gf_engine_tick(e2, later + 299999999, collect_cb, &c2), 0);
	assert_int_equal(gf_engine_tick(e2, later + 300000000, collect_cb, &c2), 1);
	gf_engine_free(e2);
	gf_engine_free(e);
	gf_zoneset_free(zs);
}

/* The daemon's link to the trackers came back: silence counts from then
 * for those not yet reported; one already reported is not reported again. */
static void
test_engine_silence_restart(void **state)
{
	(void)state;
	gf_zoneset *zs = scen_set();
	struct gf_options opt;
	gf_options_default(&opt);
	gf_engine *e = NULL;
	assert_int_equal(gf_engine_new(&opt, zs, NULL, &e), GF_OK);
	int64_t t0 = T(T0), s = 1000000;
	struct gf_fix fx = {"V9", t0, P_OUT, false, 0, NULL, t0, false, 0, false, NULL, 0};
	assert_int_equal(gf_engine_fix(e, &fx, NULL, NULL, NULL), GF_OK);
	fx.vehicle = "V8";
	assert_int_equal(gf_engine_fix(e, &fx, NULL, NULL, NULL), GF_OK);
	struct collect c = {.buf = ""};
	assert_int_equal(gf_engine_tick(e, t0 + 300 * s, collect_cb, &c), 2);
	/* V9 talks again (received at t0 + 400 s); the link is lost after
	 * and back at t0 + 1000 s. */
	fx.vehicle = "V9";
	fx.ts_us = t0 + s;
	fx.rx_us = t0 + 400 * s;
	assert_int_equal(gf_engine_fix(e, &fx, NULL, NULL, NULL), GF_OK);
	gf_engine_silence_restart(NULL, t0);
	gf_engine_silence_restart(e, t0 + 100 * s);   /* never backwards */
	gf_engine_silence_restart(e, t0 + 1000 * s);
	assert_int_equal(gf_engine_tick(e, t0 + 1300 * s - 1, collect_cb, &c), 0);
	assert_int_equal(gf_engine_tick(e, t0 + 1300 * s, collect_cb, &c), 1);
	assert_string_equal(c.buf, "tracker_silent:-@0 tracker_silent:-@0 tracker_silent:-@0");
	gf_engine_free(e);
	gf_zoneset_free(zs);
}

static void
test_engine_zone_swap_carries_state(void **state)
{
	(void)state;
	gf_zoneset *zs1 = scen_set(), *zs2 = NULL, *zs3 = NULL;
	/* Set 2: zone 1 redrawn bigger (same id), zone 9 new over P_A. */
	const char *t2 = FC(
		FEAT(SQ("112.49", "112.511"), "\"id\":1,\"name\":\"A2\",\"kind\":\"depot\"") ","
		FEAT(SQ("112.501", "112.503"), "\"id\":9,\"name\":\"N\",\"kind\":\"restricted\""));
	const char *t3 = FC(FEAT(SQ("112.52", "112.53"), "\"id\":2,\"name\":\"B\",\"kind\":\"prohibited\""));
	assert_int_equal(gf_zoneset_parse(t2, strlen(t2), &zs2, NULL, 0), GF_OK);
	assert_int_equal(gf_zoneset_parse(t3, strlen(t3), &zs3, NULL, 0), GF_OK);
	struct gf_options opt;
	gf_options_default(&opt);
	gf_engine *e = NULL;
	assert_int_equal(gf_engine_new(&opt, zs1, NULL, &e), GF_OK);
	struct collect c = {.buf = ""};
	int64_t t0 = T(T0);
	struct gf_fix fx = {"V9", t0, P_A, false, 0, NULL, 0, false, 0, false, NULL, 0};
	gf_engine_fix(e, &fx, collect_cb, &c, NULL);
	gf_engine_set_zones(e, zs2);
	gf_zoneset_free(zs1);
	c.fix = 1;
	fx.ts_us += 5000000;
	gf_engine_fix(e, &fx, collect_cb, &c, NULL);
	/* zone 1 gone from set 3: dropped quietly, no exit */
	gf_engine_set_zones(e, zs3);
	c.fix = 2;
	fx.ts_us += 5000000;
	gf_engine_fix(e, &fx, collect_cb, &c, NULL);
	assert_string_equal(c.buf, "zone_enter:1@0 zone_enter:9@1");
	gf_engine_free(e);
	gf_zoneset_free(zs2);
	gf_zoneset_free(zs3);
}

static void
test_state_blob_round_trip(void **state)
{
	(void)state;
	gf_zoneset *zs = scen_set();
	struct gf_options opt;
	gf_options_default(&opt);
	gf_engine *e1 = NULL, *e2 = NULL;
	assert_int_equal(gf_engine_new(&opt, zs, NULL, &e1), GF_OK);
	assert_int_equal(gf_engine_new(&opt, zs, NULL, &e2), GF_OK);
	int64_t t0 = T(T0);
	struct collect c1 = {.buf = ""}, c2 = {.buf = ""};
	struct gf_fix fx = {"V1", t0, P_AE, true, 90, NULL, 0, false, 0, false, NULL, 0};
	gf_engine_fix(e1, &fx, collect_cb, &c1, NULL); /* enter 1,6; dev; speeds */
	assert_string_equal(c1.buf, "zone_enter:1@0 zone_enter:6@0 "
		"route_deviation:-@0 overspeed:-@0 zone_speeding:1@0");
	uint8_t blob[256];
	size_t len = 0;
	assert_int_equal(gf_engine_state_save(e1, "V1", NULL, 0, &len), GF_ERANGE);
	assert_int_equal(gf_engine_state_save(e1, "V1", blob, sizeof blob, &len), GF_OK);
	assert_int_equal(len, 32 + 33 + 2 * 19 + 4);
	assert_int_equal(blob[4], 2);
	/* The same state saved as version 1 (before the rules beyond
	 * geometry; its CRC from geofence's own bitwise CRC-32 before issue
	 * 10, which the common CRC matches): it still loads, and saves as
	 * version 2 with the same head and stays, the rules' clocks at 0. */
	static const uint8_t blob_v1[] = {
		0x48, 0x47, 0x56, 0x53, 0x01, 0x0d, 0x02, 0x00, 0x00, 0x40, 0xd4, 0xf8,
		0xb7, 0x8f, 0x05, 0x00, 0xd7, 0xa3, 0x70, 0x3d, 0x0a, 0xe7, 0x42, 0x40,
		0x9c, 0xc4, 0x20, 0xb0, 0x72, 0x20, 0x5c, 0x40, 0x01, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0xd4, 0xf8, 0xb7, 0x8f, 0x05, 0x00,
		0x00, 0x00, 0x01, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x40, 0xd4, 0xf8, 0xb7, 0x8f, 0x05, 0x00, 0x00, 0x00, 0x00, 0x60, 0x75,
		0x45, 0x21,
	};
	{
		gf_engine *e3 = NULL;
		uint8_t b3[256];
		size_t l3 = 0;
		assert_int_equal(gf_engine_new(&opt, zs, NULL, &e3), GF_OK);
		assert_int_equal(gf_engine_state_load(e3, "V1", blob_v1,
						      sizeof blob_v1), GF_OK);
		assert_int_equal(gf_engine_state_save(e3, "V1", b3, sizeof b3, &l3),
				 GF_OK);
		assert_int_equal(l3, sizeof blob_v1 + 33);
		assert_int_equal(b3[4], 2);
		assert_memory_equal(b3 + 5, blob_v1 + 5, 32 - 5);
		static const uint8_t zero_rules[33];
		assert_memory_equal(b3 + 32, zero_rules, 33);
		assert_memory_equal(b3 + 65, blob_v1 + 32, 2 * 19);
		/* and e1's state is v1's plus the rules block */
		assert_memory_equal(blob + 5, blob_v1 + 5, 32 - 5);
		assert_memory_equal(blob + 65, blob_v1 + 32, 2 * 19);
		gf_engine_free(e3);
	}
	assert_int_equal(gf_engine_state_save(e1, "nobody", blob, sizeof blob, &len),
			 GF_EINVAL);
	/* corrupt forms are refused and change nothing */
	uint8_t bad[256];
	memcpy(bad, blob, len);
	bad[20] ^= 1;
	assert_int_equal(gf_engine_state_load(e2, "V1", bad, len), GF_EBLOB);
	memcpy(bad, blob, len);
	bad[4] = 0; /* older version */
	assert_int_equal(gf_engine_state_load(e2, "V1", bad, len), GF_EBLOB);
	assert_int_equal(gf_engine_state_load(e2, "V1", blob, len - 1), GF_EBLOB);
	assert_int_equal(gf_engine_state_load(e2, "V1", blob, 3), GF_EBLOB);
	memcpy(bad, blob, len);
	bad[0] = 'X';
	assert_int_equal(gf_engine_state_load(e2, "V1", bad, len), GF_EBLOB);
	assert_int_equal(gf_engine_vehicle_count(e2), 0);
	/* the good one: no second enter / deviation / speeding after "restart" */
	assert_int_equal(gf_engine_state_load(e2, "V1", blob, len), GF_OK);
	uint8_t again[256];
	size_t len2;
	assert_int_equal(gf_engine_state_save(e2, "V1", again, sizeof again, &len2), GF_OK);
	assert_int_equal(len2, len);
	assert_memory_equal(again, blob, len);
	fx.ts_us += 5000000;
	c2.fix = 1;
	gf_engine_fix(e2, &fx, collect_cb, &c2, NULL);
	assert_string_equal(c2.buf, "");
	fx.ts_us += 5000000;
	fx.lat = 37.85;
	fx.lon = 112.7;
	c2.fix = 2;
	gf_engine_fix(e2, &fx, collect_cb, &c2, NULL);
	assert_string_equal(c2.buf, "zone_exit:1@2 zone_exit:6@2");
	/* a duplicate of the restored latest fix is recognised too */
	struct gf_fix_result res;
	fx.ts_us = t0;
	gf_engine_fix(e2, &fx, NULL, NULL, &res);
	assert_int_equal(res.disposition, GF_FIX_LATE);
	gf_engine_free(e1);
	gf_engine_free(e2);
	gf_zoneset_free(zs);
}

/* ---- alert JSON ------------------------------------------------------ */

static void
test_alert_json_exact(void **state)
{
	(void)state;
	struct gf_alert a;
	memset(&a, 0, sizeof a);
	a.kind = GF_ALERT_PROHIBITED_ENTRY;
	a.severity = gf_alert_kind_severity(a.kind);
	strcpy(a.vehicle, "\xe6\x99\x8b" "A12345");
	a.has_zone = true;
	a.zone_id = 7;
	a.zone_name = "Village \"north\"\n";
	a.zone_kind = GF_KIND_PROHIBITED;
	a.ts_us = T("2019-08-10T08:03:12Z");
	a.lat = 37.76;
	a.lon = 112.5;
	a.has_speed = true;
	a.speed_kmh = 42;
	char buf[512];
	size_t n = gf_alert_format(&a, 123, buf, sizeof buf);
	const char *want =
		"{\"id\":123,\"kind\":\"prohibited_entry\",\"severity\":\"critical\","
		"\"vehicle\":\"\xe6\x99\x8b" "A12345\",\"zone_id\":7,\"zone\":"
		"\"Village \\\"north\\\"\\u000a\",\"ts\":\"2019-08-10T08:03:12.000Z\","
		"\"lat\":37.76,\"lon\":112.5,\"speed_kmh\":42.0,\"detail\":"
		"{\"zone_kind\":\"prohibited\"}}";
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
	/* snprintf contract: truncated output, full length returned */
	char small[10];
	assert_int_equal(gf_alert_format(&a, 123, small, sizeof small), n);
	assert_int_equal(strlen(small), 9);
	/* id null, no zone, no speed, detail per kind */
	memset(&a, 0, sizeof a);
	a.kind = GF_ALERT_TRACKER_SILENT;
	a.severity = gf_alert_kind_severity(a.kind);
	strcpy(a.vehicle, "V9");
	a.ts_us = T("2019-08-10T00:05:00.0009Z");
	a.lat = -0.00000001;
	a.lon = 112.123456789;
	a.gap_s = 300;
	a.last_fix_us = T("2019-08-10T00:00:00Z");
	gf_alert_format(&a, -1, buf, sizeof buf);
	assert_string_equal(buf,
		"{\"id\":null,\"kind\":\"tracker_silent\",\"severity\":\"warning\","
		"\"vehicle\":\"V9\",\"zone_id\":null,\"zone\":null,"
		"\"ts\":\"2019-08-10T00:05:00.000Z\",\"lat\":0.0,\"lon\":112.1234568,"
		"\"speed_kmh\":null,\"detail\":{\"silent_after_s\":300,"
		"\"last_fix\":\"2019-08-10T00:00:00.000Z\"}}");
	assert_string_equal(gf_severity_name(gf_alert_kind_severity(GF_ALERT_ROUTE_DEVIATION)), "critical");
	assert_string_equal(gf_severity_name(gf_alert_kind_severity(GF_ALERT_DWELL_EXCEEDED)), "warning");
	assert_string_equal(gf_severity_name(gf_alert_kind_severity(GF_ALERT_ZONE_EXIT)), "info");
}

static void
test_options(void **state)
{
	(void)state;
	struct gf_options o;
	gf_options_default(&o);
	assert_string_equal(o.timezone, "Asia/Shanghai");
	assert_true(o.overspeed_kmh == 80);
	assert_int_equal(o.exit_fixes, 1);
	assert_true(o.exit_margin_m == 0);
	assert_int_equal(o.silent_after_s, 300);
	assert_int_equal(gf_options_check(&o), GF_OK);
	o.exit_fixes = 0;
	assert_int_equal(gf_options_check(&o), GF_EINVAL);
	gf_options_default(&o);
	o.exit_margin_m = -1;
	assert_int_equal(gf_options_check(&o), GF_EINVAL);
	gf_engine *e = NULL;
	assert_int_equal(gf_engine_new(&o, NULL, NULL, &e), GF_EINVAL);
	assert_null(e);
}

/* ---- property test ----------------------------------------------------- */

/* Reference: exact point-in-polygon on an integer grid (units of 2^-12
 * degree, exactly representable), with "on boundary" = inside. */
static int
ref_pip(const long (*v)[2], int n, long px, long py)
{
	int in = 0;
	for (int i = 0, j = n - 1; i < n; j = i++) {
		long ax = v[j][0], ay = v[j][1], bx = v[i][0], by = v[i][1];
		long cr = (bx - ax) * (py - ay) - (by - ay) * (px - ax);
		if (cr == 0 && px >= (ax < bx ? ax : bx) && px <= (ax < bx ? bx : ax) &&
		    py >= (ay < by ? ay : by) && py <= (ay < by ? by : ay))
			return 1;
		if ((ay > py) != (by > py)) {
			/* x of the crossing > px  <=>  sign test, exact */
			long num = (bx - ax) * (py - ay), den = by - ay;
			long lhs = num, rhs = (px - ax) * den;
			if (den > 0 ? lhs > rhs : lhs < rhs)
				in ^= 1;
		}
	}
	return in;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
test_property_random_polygons(void **state)
{
	(void)state;
	const double unit = 1.0 / 4096;
	long checked = 0, boundary = 0, inside = 0;
	for (int poly = 0; poly < 2000; poly++) {
		int n = 3 + (int)(rnd() % (poly % 10 == 0 ? 300 : 40));
		long v[320][2];
		long cx = 450000 + (long)(rnd() % 2000), cy = 150000 + (long)(rnd() % 2000);
		/* star-shaped around (cx, cy): sorted angles, random radii */
		double ang[320];
		for (int i = 0; i < n; i++)
			ang[i] = (double)(rnd() % 100000) / 100000.0 * 6.283185307179586;
		for (int i = 1; i < n; i++)
			for (int k = i; k > 0 && ang[k] < ang[k - 1]; k--) {
				double t = ang[k];
				ang[k] = ang[k - 1];
				ang[k - 1] = t;
			}
		for (int i = 0; i < n; i++) {
			double r = 5 + (double)(rnd() % 60);
			v[i][0] = cx + lround(r * cos(ang[i]));
			v[i][1] = cy + lround(r * sin(ang[i]));
		}
		char *text = malloc(64 * 1024);
		int len = snprintf(text, 256,
			"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
			"\"Feature\",\"properties\":{\"id\":1,\"kind\":\"depot\"},"
			"\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[");
		for (int i = 0; i <= n; i++)
			len += snprintf(text + len, 64, "%s[%.17g,%.17g]", i ? "," : "",
					v[i % n][0] * unit, v[i % n][1] * unit);
		snprintf(text + len, 64, "]]}}]}");
		gf_zoneset *zs = NULL;
		char err[256];
		if (gf_zoneset_parse(text, strlen(text), &zs, err, sizeof err))
			fail_msg("polygon %d: %s", poly, err);
		for (int q = 0; q < 60; q++) {
			long px, py;
			if (q < 10) { /* vertices and edge midpoints on the grid */
				int i = (int)(rnd() % (uint64_t)n), j = (i + 1) % n;
				px = v[i][0];
				py = v[i][1];
				if (q % 2 && (v[i][0] + v[j][0]) % 2 == 0 &&
				    (v[i][1] + v[j][1]) % 2 == 0) {
					px = (v[i][0] + v[j][0]) / 2;
					py = (v[i][1] + v[j][1]) / 2;
				}
			} else {
				px = cx - 70 + (long)(rnd() % 141);
				py = cy - 70 + (long)(rnd() % 141);
			}
			int want = ref_pip((const long (*)[2])v, n, px, py);
			bool got = gf_zoneset_covers(zs, 0, py * unit, px * unit);
			if (got != (want != 0))
				fail_msg("polygon %d (n=%d) point (%ld,%ld): got %d want %d",
					 poly, n, px, py, got, want);
			checked++;
			inside += want;
			if (q < 10)
				boundary++;
		}
		gf_zoneset_free(zs);
		free(text);
	}
	print_message("# property: %ld points (%ld on vertices/edges, %ld inside)\n",
		      checked, boundary, inside);
	assert_true(inside > checked / 5);
}

/* The grid index finds exactly what a linear scan finds. */
static void
test_property_index_equals_scan(void **state)
{
	(void)state;
	size_t cap = 1 << 20, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text, cap, "{\"type\":\"FeatureCollection\",\"features\":[");
	for (int z = 0; z < 500; z++) {
		double x = 112.3 + (double)(rnd() % 10000) / 20000.0;
		double y = 37.6 + (double)(rnd() % 10000) / 20000.0;
		double s = 0.001 + (double)(rnd() % 1000) / 50000.0;
		if (z % 50 == 7) /* a few big ones */
			s = 0.3;
		if (z % 3 == 0)
			len += (size_t)snprintf(text + len, cap - len,
				"%s{\"type\":\"Feature\",\"properties\":{\"id\":%d,\"kind\":"
				"\"depot\",\"radius_m\":%g},\"geometry\":{\"type\":\"Point\","
				"\"coordinates\":[%.7f,%.7f]}}", z ? "," : "", z, s * 50000, x, y);
		else if (z % 3 == 1)
			len += (size_t)snprintf(text + len, cap - len,
				"%s{\"type\":\"Feature\",\"properties\":{\"id\":%d,\"kind\":"
				"\"corridor\",\"width_m\":%g},\"geometry\":{\"type\":\"LineString\","
				"\"coordinates\":[[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f]]}}",
				z ? "," : "", z, s * 20000, x, y, x + s, y + s / 2, x + s, y + 2 * s);
		else
			len += (size_t)snprintf(text + len, cap - len,
				"%s{\"type\":\"Feature\",\"properties\":{\"id\":%d,\"kind\":"
				"\"depot\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
				"[[[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f]]]}}",
				z ? "," : "", z, x, y, x + s, y, x, y + s, x, y);
	}
	snprintf(text + len, cap - len, "]}");
	gf_zoneset *zs = NULL;
	char err[256];
	if (gf_zoneset_parse(text, strlen(text), &zs, err, sizeof err))
		fail_msg("%s", err);
	size_t a[600], b[600], hits = 0;
	for (int q = 0; q < 20000; q++) {
		double lat = 37.55 + (double)(rnd() % 100000) / 100000.0 * 0.9;
		double lon = 112.25 + (double)(rnd() % 100000) / 100000.0 * 0.9;
		size_t na = gf_zoneset_query(zs, lat, lon, a, 600, false);
		size_t nb = gf_zoneset_query(zs, lat, lon, b, 600, true);
		assert_int_equal(na, nb);
		assert_memory_equal(a, b, na * sizeof a[0]);
		hits += na;
	}
	assert_true(hits > 1000);
	gf_zoneset_free(zs);
	free(text);
}

/* With neutral hysteresis the engine's enter/exit alerts are exactly the
 * changes of the geometric covering set (linear scan), fix by fix. */
struct ev_sink {
	char (*ev)[48];
	size_t n, cap;
};

static void
ev_cb(const struct gf_alert *a, void *arg)
{
	struct ev_sink *s = arg;
	if (a->kind != GF_ALERT_ZONE_ENTER && a->kind != GF_ALERT_ZONE_EXIT &&
	    a->kind != GF_ALERT_PROHIBITED_ENTRY)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->ev = realloc(s->ev, s->cap * sizeof *s->ev);
	}
	snprintf(s->ev[s->n++], 48, "%s %lld %s", a->vehicle, (long long)a->zone_id,
		 a->kind == GF_ALERT_ZONE_EXIT ? "out" : "in");
}

static void
test_property_neutral_hysteresis_is_geometry(void **state)
{
	(void)state;
	size_t cap = 1 << 20, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text, cap, "{\"type\":\"FeatureCollection\",\"features\":[");
	for (int z = 0; z < 120; z++) {
		double x = 112.5 + (double)(rnd() % 10000) / 1e6;
		double y = 37.8 + (double)(rnd() % 10000) / 1e6;
		double s = 0.0005 + (double)(rnd() % 1000) / 1e6;
		const char *kind = z % 5 == 0 ? "prohibited" : "event_venue";
		if (z % 3 == 0)
			len += (size_t)snprintf(text + len, cap - len,
				"%s{\"type\":\"Feature\",\"properties\":{\"id\":%d,\"kind\":"
				"\"%s\",\"radius_m\":%g},\"geometry\":{\"type\":\"Point\","
				"\"coordinates\":[%.7f,%.7f]}}", z ? "," : "", z, kind, s * 1e5, x, y);
		else
			len += (size_t)snprintf(text + len, cap - len,
				"%s{\"type\":\"Feature\",\"properties\":{\"id\":%d,\"kind\":"
				"\"%s\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
				"[[[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f]]]}}",
				z ? "," : "", z, kind, x, y, x + s, y, x + s, y + s, x + s / 2,
				y + s / 3, x, y);
	}
	snprintf(text + len, cap - len, "]}");
	gf_zoneset *zs = NULL;
	char err[256];
	if (gf_zoneset_parse(text, strlen(text), &zs, err, sizeof err))
		fail_msg("%s", err);
	struct gf_options opt;
	gf_options_default(&opt);
	gf_engine *e = NULL;
	assert_int_equal(gf_engine_new(&opt, zs, NULL, &e), GF_OK);
	enum { NV = 40 };
	double la[NV], lo[NV];
	bool prev[NV][120];
	memset(prev, 0, sizeof prev);
	char names[NV][8];
	for (int v = 0; v < NV; v++) {
		snprintf(names[v], sizeof names[v], "T%d", v);
		la[v] = 37.8 + (double)(rnd() % 10000) / 1e6;
		lo[v] = 112.5 + (double)(rnd() % 10000) / 1e6;
	}
	struct ev_sink got = {0}, want = {0};
	int64_t t0 = T(T0);
	for (int i = 0; i < 20000; i++) {
		int v = i % NV;
		la[v] += ((double)(rnd() % 2001) - 1000) * 2e-7;
		lo[v] += ((double)(rnd() % 2001) - 1000) * 2e-7;
		struct gf_fix fx = {names[v], t0 + (int64_t)(i / NV) * 1000000, la[v],
				    lo[v], false, 0, NULL, 0, false, 0, false, NULL, 0};
		assert_int_equal(gf_engine_fix(e, &fx, ev_cb, &got, NULL), GF_OK);
		size_t idx[120];
		size_t n = gf_zoneset_query(zs, la[v], lo[v], idx, 120, true);
		bool now[120] = {false};
		for (size_t k = 0; k < n; k++)
			now[idx[k]] = true;
		struct gf_alert a;
		memset(&a, 0, sizeof a);
		strcpy(a.vehicle, names[v]);
		a.has_zone = true;
		for (int z = 0; z < 120; z++) /* exits first, then entries */
			if (prev[v][z] && !now[z]) {
				a.kind = GF_ALERT_ZONE_EXIT;
				a.zone_id = z;
				ev_cb(&a, &want);
			}
		for (int z = 0; z < 120; z++)
			if (!prev[v][z] && now[z]) {
				a.kind = GF_ALERT_ZONE_ENTER;
				a.zone_id = z;
				ev_cb(&a, &want);
			}
		memcpy(prev[v], now, sizeof now);
	}
	assert_int_equal(got.n, want.n);
	for (size_t k = 0; k < got.n; k++)
		if (strcmp(got.ev[k], want.ev[k]))
			fail_msg("event %zu: got \"%s\" want \"%s\"", k, got.ev[k],
				 want.ev[k]);
	print_message("# neutral hysteresis: %zu enter/exit events match geometry\n",
		      got.n);
	assert_true(got.n > 100);
	free(got.ev);
	free(want.ev);
	gf_engine_free(e);
	gf_zoneset_free(zs);
	free(text);
}

int
main(void)
{
	/* One named test point per table row. */
	static struct CMUnitTest tests[256];
	size_t n = 0;
	ROWS(pip_cases, test_point_in_polygon_table);
	ROWS(dist_cases, test_circle_and_corridor_table);
	ONE(test_polygon_distance_outside);
	ONE(test_datum_gcj02_zone_is_shifted);
	ROWS(time_cases, test_time_parse_format_table);
	ROWS(tz_cases, test_tz_table);
	ONE(test_tz_bad_input);
	ROWS(zerr_cases, test_zone_errors_table);
	ONE(test_zone_list_and_export_round_trip);
	ROWS(scenarios, test_engine_scenarios);
	ONE(test_engine_zone_ids_and_late_fix);
	ONE(test_engine_tick_silent_once);
	ONE(test_engine_tick_by_receive_time);
	ONE(test_engine_silence_restart);
	ONE(test_engine_zone_swap_carries_state);
	ONE(test_state_blob_round_trip);
	ONE(test_alert_json_exact);
	ONE(test_options);
	ONE(test_property_random_polygons);
	ONE(test_property_index_equals_scan);
	ONE(test_property_neutral_hysteresis_is_geometry);
	assert(n <= NROWS(tests));
	return _cmocka_run_group_tests("geofence", tests, n, NULL, NULL);
}
