/*
 * geofence-internal.h - structures shared by the files of geofence/ only.
 * Nothing outside geofence/ (tests and bench excepted) may include this.
 */
#ifndef HG_GEOFENCE_INTERNAL_H
#define HG_GEOFENCE_INTERNAL_H

#include "geofence/geofence.h"

#define GF_EARTH_R 6371008.8
#define GF_PI 3.14159265358979323846
#define GF_DEG (GF_PI / 180.0)

struct gf_bbox {
	double minx, miny, maxx, maxy; /* lon, lat */
};

/* A ring: n points, closed (pt[n-1] == pt[0]), xy interleaved.
 * Large rings carry a y-stripe edge index: stripe s holds the edges whose
 * y-range meets the stripe (CSR: sstart[s]..sstart[s+1] into sedge). */
struct gf_ring {
	uint32_t n;
	double *xy;
	struct gf_bbox bb;
	uint32_t nstripes;
	double sy0, sscale; /* stripe = floor((y - sy0) * sscale) */
	uint32_t *sstart;
	uint32_t *sedge;
};

struct gf_poly {
	uint32_t nrings; /* ring 0 exterior, then holes */
	struct gf_ring *rings;
	struct gf_bbox bb;
};

enum gf_geom { GF_GEOM_POLY, GF_GEOM_CIRCLE, GF_GEOM_CORRIDOR };

struct gf_window {
	bool has_from, has_to, has_daily;
	int64_t from_us, to_us;
	int32_t dstart_s, dend_s; /* seconds of the local day */
};

struct gf_zone {
	int64_t id;
	char *name;
	enum gf_kind kind;
	enum gf_geom geom;
	struct gf_bbox bb;
	/* polygons */
	uint32_t npolys;
	struct gf_poly *polys;
	/* circle: centre lat/lon in c[0], c[1]; corridor: line in xy */
	double clat, clon, radius_m;
	uint32_t nline;
	double *line; /* corridor vertices, lon/lat interleaved */
	/* rules */
	uint32_t nwindows;
	struct gf_window *windows; /* NULL + nwindows 0 + always = true */
	bool always;
	bool any_daily;
	uint32_t nclasses;
	char **classes;
	double speed_limit_kmh; /* < 0: none */
	int64_t max_dwell_s;    /* < 0: none */
	int32_t night_start_s;  /* night_ban property; < 0: none */
	int32_t night_end_s;
	uint32_t nvehicles;
	char **vehicles;        /* sorted, for bsearch */
	char *feature_json;
};

struct gf_zoneset {
	size_t n;
	struct gf_zone *z; /* ascending id */
	size_t ncorr;
	uint32_t *corr;   /* indices of corridor zones with vehicles */
	bool night_bans;  /* some zone has a night_ban */
	/* grid index over zone bounding boxes */
	struct gf_bbox bb;
	uint32_t gx, gy;
	double gsx, gsy;  /* cells per degree */
	uint32_t *cstart; /* gx*gy + 1 */
	uint32_t *czone;
	size_t nbig;
	uint32_t *big;    /* zones spanning many cells, checked always */
	struct gf_bbox *zbb; /* zone boxes, packed: the query's first filter */
	size_t mem;
};

/* geometry (gf_geom.c) */
int gf_ring_index(struct gf_ring *r, size_t *mem);
int gf_ring_locate(const struct gf_ring *r, double x, double y); /* 0 out, 1 in, 2 on */
bool gf_zone_covers(const struct gf_zone *z, double lat, double lon);
double gf_zone_outside_m(const struct gf_zone *z, double lat, double lon);
double gf_haversine_m(double lat1, double lon1, double lat2, double lon2);
double gf_arc_dist_m(double lat, double lon, double lat1, double lon1,
		     double lat2, double lon2);

/* datum (gf_datum.c) */
void gf_gcj02_from_wgs84(double lat, double lon, double *glat, double *glon);
void gf_wgs84_from_gcj02(double glat, double glon, double *lat, double *lon);
void gf_gcj02_from_bd09(double blat, double blon, double *glat, double *glon);
void gf_bd09_from_gcj02(double glat, double glon, double *blat, double *blon);

/* zones (gf_zones.c) */
/* Is z in force at ts_us? *sod caches the local second of the day in tz
 * (-1 = not computed yet; filled on first need). */
bool gf_zone_active(const struct gf_zone *z, int64_t ts_us, const gf_tz *tz,
		    int32_t *sod);
bool gf_zone_class_ok(const struct gf_zone *z, const char *cls);
bool gf_zone_has_vehicle(const struct gf_zone *z, const char *vehicle);
/* rules (gf_rules.c) */
void gf_rules_default(struct gf_rules *r);
bool gf_rules_ok(const struct gf_rules *r);

/* Local second of the day in tz at ts_us. */
int32_t gf_local_sod(int64_t ts_us, const gf_tz *tz, int32_t *day);
/* Is second-of-day x inside [s, e) (wrapping midnight when s > e; all
 * day when s == e)? */
static inline bool
gf_window_holds(int32_t s, int32_t e, int32_t x)
{
	return s < e ? (x >= s && x < e) : s > e ? (x >= s || x < e) : true;
}

#endif /* HG_GEOFENCE_INTERNAL_H */
