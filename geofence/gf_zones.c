/*
 * gf_zones.c - GeoJSON FeatureCollection -> immutable gf_zoneset, the
 * grid index across zones, and the activity / cargo / vehicle filters.
 *
 * Loading validates everything first and builds a complete new set, so a
 * bad file yields an error naming the feature and no set at all: the
 * zones in force stay in force. Coordinates in datum gcj02/bd09 are
 * converted to WGS-84 here; the original feature text is kept verbatim
 * (compact) for export.
 *
 * The index is a uniform grid over the union of the zones' bounding boxes
 * (about 4 cells per zone, CSR arrays). A zone whose box spans more than
 * an eighth of the grid goes to a short "big" list checked for every
 * query instead. Boxes of circles and corridors are spherical-cap bounds,
 * so they never cut off a covered point. Limit: zones crossing the
 * antimeridian are not supported (their box would span the globe).
 */
#include "geofence/geofence-internal.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"event_venue", "prohibited",
					 "restricted", "corridor", "depot",
					 "parking"};

const char *
gf_kind_name(enum gf_kind kind)
{
	if ((unsigned)kind < sizeof kind_names / sizeof kind_names[0])
		return kind_names[kind];
	return "unknown";
}

enum datum { DATUM_WGS84, DATUM_GCJ02, DATUM_BD09 };

struct ld {
	char *errbuf;
	size_t errlen;
	size_t fi;      /* feature index */
	bool has_id;
	int64_t id;
	size_t mem;
	enum datum datum;
};

static int fail(struct ld *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
fail(struct ld *l, const char *fmt, ...)
{
	if (l->errbuf && l->errlen) {
		int n;
		if (l->has_id)
			n = snprintf(l->errbuf, l->errlen, "feature %zu (id %lld): ",
				     l->fi, (long long)l->id);
		else
			n = snprintf(l->errbuf, l->errlen, "feature %zu (no id): ",
				     l->fi);
		if (n >= 0 && (size_t)n < l->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(l->errbuf + n, l->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return GF_EZONES;
}

static void *
zalloc(struct ld *l, size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (p)
		l->mem += n * sz;
	return p;
}

static char *
sdup(struct ld *l, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p) {
		memcpy(p, s, n);
		l->mem += n;
	}
	return p;
}

static void
bb_empty(struct gf_bbox *b)
{
	b->minx = b->miny = INFINITY;
	b->maxx = b->maxy = -INFINITY;
}

static void
bb_add(struct gf_bbox *b, double x, double y)
{
	if (x < b->minx) b->minx = x;
	if (x > b->maxx) b->maxx = x;
	if (y < b->miny) b->miny = y;
	if (y > b->maxy) b->maxy = y;
}

static void
bb_union(struct gf_bbox *b, const struct gf_bbox *o)
{
	bb_add(b, o->minx, o->miny);
	bb_add(b, o->maxx, o->maxy);
}

/* Read one [lon, lat] position and convert it to WGS-84. */
static int
position(struct ld *l, json_t *pos, double *lon, double *lat, const char *where)
{
	if (!json_is_array(pos) || json_array_size(pos) < 2 ||
	    !json_is_number(json_array_get(pos, 0)) ||
	    !json_is_number(json_array_get(pos, 1)))
		return fail(l, "%s: position is not [lon, lat]", where);
	double x = json_number_value(json_array_get(pos, 0));
	double y = json_number_value(json_array_get(pos, 1));
	if (!(x >= -180 && x <= 180))
		return fail(l, "%s: longitude %g out of range", where, x);
	if (!(y >= -90 && y <= 90))
		return fail(l, "%s: latitude %g out of range", where, y);
	if (l->datum == DATUM_BD09) {
		double gy, gx;
		gf_gcj02_from_bd09(y, x, &gy, &gx);
		gf_wgs84_from_gcj02(gy, gx, &y, &x);
	} else if (l->datum == DATUM_GCJ02) {
		gf_wgs84_from_gcj02(y, x, &y, &x);
	}
	*lon = x;
	*lat = y;
	return GF_OK;
}

static int
ring(struct ld *l, json_t *arr, struct gf_ring *r, size_t pi, size_t ri)
{
	char where[64];
	snprintf(where, sizeof where, "polygon %zu ring %zu", pi, ri);
	if (!json_is_array(arr))
		return fail(l, "%s is not an array", where);
	size_t n = json_array_size(arr);
	if (n < 4)
		return fail(l, "%s has %zu points, under 4", where, n);
	if (n > UINT32_MAX / 4)
		return fail(l, "%s is too large", where);
	/* Closure is judged on the numbers as written, before any datum
	 * shift (which maps equal inputs to equal outputs anyway). */
	json_t *f = json_array_get(arr, 0), *e = json_array_get(arr, n - 1);
	r->xy = zalloc(l, 2 * n, sizeof(double));
	if (r->xy == NULL)
		return GF_ENOMEM;
	r->n = (uint32_t)n;
	bb_empty(&r->bb);
	for (size_t i = 0; i < n; i++) {
		int rc = position(l, json_array_get(arr, i), &r->xy[2 * i],
				  &r->xy[2 * i + 1], where);
		if (rc)
			return rc;
		bb_add(&r->bb, r->xy[2 * i], r->xy[2 * i + 1]);
	}
	if (json_number_value(json_array_get(f, 0)) !=
		    json_number_value(json_array_get(e, 0)) ||
	    json_number_value(json_array_get(f, 1)) !=
		    json_number_value(json_array_get(e, 1)))
		return fail(l, "%s is not closed (first point != last)", where);
	return gf_ring_index(r, &l->mem);
}

static int
polygon(struct ld *l, json_t *rings, struct gf_poly *pg, size_t pi)
{
	if (!json_is_array(rings) || json_array_size(rings) == 0)
		return fail(l, "polygon %zu has no rings", pi);
	size_t n = json_array_size(rings);
	pg->rings = zalloc(l, n, sizeof *pg->rings);
	if (pg->rings == NULL)
		return GF_ENOMEM;
	pg->nrings = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		int rc = ring(l, json_array_get(rings, i), &pg->rings[i], pi, i);
		if (rc)
			return rc;
	}
	pg->bb = pg->rings[0].bb;
	return GF_OK;
}

/* Box of a spherical cap of angular radius rho around (lat, lon). */
static void
cap_box(struct gf_bbox *b, double lat, double lon, double rho)
{
	double dlat = rho / GF_DEG * (1 + 1e-9) + 1e-9;
	bb_add(b, lon, lat - dlat < -90 ? -90 : lat - dlat);
	bb_add(b, lon, lat + dlat > 90 ? 90 : lat + dlat);
	if (fabs(lat) + dlat >= 89.999) {
		bb_add(b, -180, lat);
		bb_add(b, 180, lat);
		return;
	}
	double s = sin(rho) / cos(lat * GF_DEG);
	double dlon = (s >= 1 ? 180 : asin(s) / GF_DEG) * (1 + 1e-9) + 1e-9;
	bb_add(b, lon - dlon < -180 ? -180 : lon - dlon, lat);
	bb_add(b, lon + dlon > 180 ? 180 : lon + dlon, lat);
}

/* Latitudes the great-circle arc a->b reaches beyond its ends. */
static void
arc_lat_extremes(struct gf_bbox *b, const double *a, const double *c, double rho)
{
	double pa = a[1] * GF_DEG, la = a[0] * GF_DEG;
	double pc = c[1] * GF_DEG, lc = c[0] * GF_DEG;
	double u[3] = {cos(pa) * cos(la), cos(pa) * sin(la), sin(pa)};
	double v[3] = {cos(pc) * cos(lc), cos(pc) * sin(lc), sin(pc)};
	double n[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2],
		       u[0] * v[1] - u[1] * v[0]};
	double nn = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
	if (nn < 1e-15)
		return;
	for (int k = 0; k < 3; k++)
		n[k] /= nn;
	/* Highest point of the great circle: z minus its normal component. */
	double w[3] = {-n[2] * n[0], -n[2] * n[1], 1 - n[2] * n[2]};
	double wn = sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
	if (wn < 1e-15)
		return;
	for (int sgn = -1; sgn <= 1; sgn += 2) {
		double q[3] = {sgn * w[0] / wn, sgn * w[1] / wn, sgn * w[2] / wn};
		/* on the arc iff (u x q).n >= 0 and (q x v).n >= 0 */
		double t1[3] = {u[1] * q[2] - u[2] * q[1], u[2] * q[0] - u[0] * q[2],
				u[0] * q[1] - u[1] * q[0]};
		double t2[3] = {q[1] * v[2] - q[2] * v[1], q[2] * v[0] - q[0] * v[2],
				q[0] * v[1] - q[1] * v[0]};
		if (t1[0] * n[0] + t1[1] * n[1] + t1[2] * n[2] >= 0 &&
		    t2[0] * n[0] + t2[1] * n[1] + t2[2] * n[2] >= 0) {
			double qlat = asin(q[2] > 1 ? 1 : q[2] < -1 ? -1 : q[2]) / GF_DEG;
			double qlon = atan2(q[1], q[0]) / GF_DEG;
			cap_box(b, qlat, qlon, rho);
		}
	}
}

static int
number_prop(struct ld *l, json_t *props, const char *key, bool *has,
	    double *out)
{
	json_t *v = json_object_get(props, key);
	*has = false;
	if (v == NULL || json_is_null(v))
		return GF_OK;
	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return fail(l, "%s is not a number", key);
	*has = true;
	*out = json_number_value(v);
	return GF_OK;
}

static int
string_list(struct ld *l, json_t *props, const char *key, uint32_t *n,
	    char ***out)
{
	json_t *v = json_object_get(props, key);
	*n = 0;
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return GF_OK;
	if (!json_is_array(v))
		return fail(l, "%s is not a list of strings", key);
	size_t k = json_array_size(v);
	*out = zalloc(l, k, sizeof(char *));
	if (*out == NULL)
		return GF_ENOMEM;
	*n = (uint32_t)k;
	for (size_t i = 0; i < k; i++) {
		json_t *s = json_array_get(v, i);
		if (!json_is_string(s))
			return fail(l, "%s[%zu] is not a string", key, i);
		if (((*out)[i] = sdup(l, json_string_value(s))) == NULL)
			return GF_ENOMEM;
	}
	return GF_OK;
}

static int
hhmm(const char *p, int32_t *out)
{
	if (!(p[0] >= '0' && p[0] <= '2' && p[1] >= '0' && p[1] <= '9' &&
	      p[2] == ':' && p[3] >= '0' && p[3] <= '5' && p[4] >= '0' &&
	      p[4] <= '9'))
		return -1;
	int h = (p[0] - '0') * 10 + p[1] - '0', m = (p[3] - '0') * 10 + p[4] - '0';
	if (h > 24 || (h == 24 && m != 0))
		return -1;
	*out = h * 3600 + m * 60;
	return 0;
}

int
gf_window_parse(const char *s, int32_t *start_s, int32_t *end_s)
{
	if (s == NULL || strlen(s) != 11 || s[5] != '-' || hhmm(s, start_s) ||
	    hhmm(s + 6, end_s) || *start_s >= 86400)
		return GF_EINVAL;
	return GF_OK;
}

/* The zone's night_ban property: "HH:MM-HH:MM", start != end. */
static int
night_ban(struct ld *l, json_t *props, struct gf_zone *z)
{
	json_t *v = json_object_get(props, "night_ban");
	z->night_start_s = z->night_end_s = -1;
	if (v == NULL || json_is_null(v))
		return GF_OK;
	if (!json_is_string(v) ||
	    gf_window_parse(json_string_value(v), &z->night_start_s,
			    &z->night_end_s) ||
	    z->night_start_s == z->night_end_s) {
		z->night_start_s = z->night_end_s = -1;
		return fail(l, "night_ban: unparsable window (want \"HH:MM-HH:MM\", "
			    "start and end apart)");
	}
	return GF_OK;
}

static int
windows(struct ld *l, json_t *props, struct gf_zone *z)
{
	json_t *v = json_object_get(props, "active");
	z->always = true;
	if (v == NULL || json_is_null(v))
		return GF_OK;
	if (!json_is_array(v))
		return fail(l, "active is not a list of windows");
	z->always = false;
	size_t n = json_array_size(v);
	z->windows = zalloc(l, n, sizeof *z->windows);
	if (z->windows == NULL)
		return GF_ENOMEM;
	z->nwindows = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		json_t *w = json_array_get(v, i), *t;
		struct gf_window *win = &z->windows[i];
		if (!json_is_object(w))
			return fail(l, "active[%zu] is not an object", i);
		const char *key;
		json_object_foreach(w, key, t) {
			if (strcmp(key, "from") && strcmp(key, "to") &&
			    strcmp(key, "daily"))
				return fail(l, "active[%zu]: unknown key \"%s\"", i, key);
		}
		if ((t = json_object_get(w, "from")) != NULL) {
			if (!json_is_string(t) ||
			    gf_time_parse(json_string_value(t), &win->from_us))
				return fail(l, "active[%zu].from: unparsable time", i);
			win->has_from = true;
		}
		if ((t = json_object_get(w, "to")) != NULL) {
			if (!json_is_string(t) ||
			    gf_time_parse(json_string_value(t), &win->to_us))
				return fail(l, "active[%zu].to: unparsable time", i);
			win->has_to = true;
		}
		if (win->has_from && win->has_to && win->to_us < win->from_us)
			return fail(l, "active[%zu]: to is before from", i);
		if ((t = json_object_get(w, "daily")) != NULL) {
			const char *s = json_is_string(t) ? json_string_value(t) : "";
			if (gf_window_parse(s, &win->dstart_s, &win->dend_s))
				return fail(l, "active[%zu].daily: unparsable window "
					    "(want \"HH:MM-HH:MM\")", i);
			win->has_daily = true;
			z->any_daily = true;
		}
	}
	return GF_OK;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
feature(struct ld *l, json_t *f, struct gf_zone *z)
{
	int rc;
	if (!json_is_object(f) || !json_is_string(json_object_get(f, "type")) ||
	    strcmp(json_string_value(json_object_get(f, "type")), "Feature"))
		return fail(l, "not a Feature");
	json_t *props = json_object_get(f, "properties");
	if (!json_is_object(props))
		return fail(l, "no properties object");
	json_t *id = json_object_get(props, "id");
	if (!json_is_integer(id))
		return fail(l, "missing or non-integer id");
	z->id = json_integer_value(id);
	l->has_id = true;
	l->id = z->id;
	json_t *name = json_object_get(props, "name");
	if (name != NULL && !json_is_null(name)) {
		if (!json_is_string(name))
			return fail(l, "name is not a string");
		if ((z->name = sdup(l, json_string_value(name))) == NULL)
			return GF_ENOMEM;
	}
	json_t *kind = json_object_get(props, "kind");
	if (!json_is_string(kind))
		return fail(l, "missing kind");
	size_t k;
	for (k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++)
		if (strcmp(json_string_value(kind), kind_names[k]) == 0)
			break;
	if (k == sizeof kind_names / sizeof kind_names[0])
		return fail(l, "unknown kind \"%s\"", json_string_value(kind));
	z->kind = (enum gf_kind)k;
	json_t *datum = json_object_get(props, "datum");
	l->datum = DATUM_WGS84;
	if (datum != NULL && !json_is_null(datum)) {
		const char *d = json_is_string(datum) ? json_string_value(datum) : "?";
		if (strcmp(d, "wgs84") == 0)
			l->datum = DATUM_WGS84;
		else if (strcmp(d, "gcj02") == 0)
			l->datum = DATUM_GCJ02;
		else if (strcmp(d, "bd09") == 0)
			l->datum = DATUM_BD09;
		else
			return fail(l, "unknown datum \"%s\"", d);
	}
	bool has;
	double num;
	z->speed_limit_kmh = -1;
	if ((rc = number_prop(l, props, "speed_limit_kmh", &has, &num)))
		return rc;
	if (has) {
		if (num <= 0)
			return fail(l, "speed_limit_kmh must be > 0");
		z->speed_limit_kmh = num;
	}
	z->max_dwell_s = -1;
	if ((rc = number_prop(l, props, "max_dwell_s", &has, &num)))
		return rc;
	if (has) {
		if (num < 0 || num > 1e12 || num != floor(num))
			return fail(l, "max_dwell_s must be a whole number >= 0");
		z->max_dwell_s = (int64_t)num;
	}
	if ((rc = windows(l, props, z)))
		return rc;
	if ((rc = night_ban(l, props, z)))
		return rc;
	if ((rc = string_list(l, props, "hazard_classes", &z->nclasses, &z->classes)))
		return rc;
	if ((rc = string_list(l, props, "vehicles", &z->nvehicles, &z->vehicles)))
		return rc;
	if (z->nvehicles)
		qsort(z->vehicles, z->nvehicles, sizeof(char *), cmp_str);

	json_t *g = json_object_get(f, "geometry");
	if (!json_is_object(g) || !json_is_string(json_object_get(g, "type")))
		return fail(l, "missing geometry");
	const char *gt = json_string_value(json_object_get(g, "type"));
	json_t *co = json_object_get(g, "coordinates");
	bb_empty(&z->bb);
	if (strcmp(gt, "Polygon") == 0 || strcmp(gt, "MultiPolygon") == 0) {
		bool multi = gt[0] == 'M';
		if (!json_is_array(co) || json_array_size(co) == 0)
			return fail(l, "%s has no coordinates", gt);
		size_t np = multi ? json_array_size(co) : 1;
		z->geom = GF_GEOM_POLY;
		z->polys = zalloc(l, np, sizeof *z->polys);
		if (z->polys == NULL)
			return GF_ENOMEM;
		z->npolys = (uint32_t)np;
		for (size_t i = 0; i < np; i++) {
			rc = polygon(l, multi ? json_array_get(co, i) : co,
				     &z->polys[i], i);
			if (rc)
				return rc;
			bb_union(&z->bb, &z->polys[i].bb);
		}
	} else if (strcmp(gt, "Point") == 0) {
		z->geom = GF_GEOM_CIRCLE;
		if ((rc = number_prop(l, props, "radius_m", &has, &num)))
			return rc;
		if (!has || !(num > 0))
			return fail(l, "Point without a positive radius_m");
		z->radius_m = num;
		if ((rc = position(l, co, &z->clon, &z->clat, "point")))
			return rc;
		cap_box(&z->bb, z->clat, z->clon, num / GF_EARTH_R);
	} else if (strcmp(gt, "LineString") == 0) {
		z->geom = GF_GEOM_CORRIDOR;
		if ((rc = number_prop(l, props, "width_m", &has, &num)))
			return rc;
		if (!has || !(num > 0))
			return fail(l, "LineString without a positive width_m");
		z->radius_m = num / 2;
		if (!json_is_array(co) || json_array_size(co) < 2)
			return fail(l, "LineString has under 2 points");
		size_t n = json_array_size(co);
		z->line = zalloc(l, 2 * n, sizeof(double));
		if (z->line == NULL)
			return GF_ENOMEM;
		z->nline = (uint32_t)n;
		double rho = z->radius_m / GF_EARTH_R;
		for (size_t i = 0; i < n; i++) {
			if ((rc = position(l, json_array_get(co, i), &z->line[2 * i],
					   &z->line[2 * i + 1], "line")))
				return rc;
			cap_box(&z->bb, z->line[2 * i + 1], z->line[2 * i], rho);
			if (i > 0)
				arc_lat_extremes(&z->bb, &z->line[2 * i - 2],
						 &z->line[2 * i], rho);
		}
	} else {
		return fail(l, "unknown geometry type \"%s\"", gt);
	}
	z->feature_json = json_dumps(f, JSON_COMPACT);
	if (z->feature_json == NULL)
		return GF_ENOMEM;
	l->mem += strlen(z->feature_json) + 1;
	return GF_OK;
}

static void
zone_clear(struct gf_zone *z)
{
	free(z->name);
	for (uint32_t i = 0; i < z->npolys; i++) {
		for (uint32_t r = 0; r < z->polys[i].nrings; r++) {
			free(z->polys[i].rings[r].xy);
			free(z->polys[i].rings[r].sstart);
			free(z->polys[i].rings[r].sedge);
		}
		free(z->polys[i].rings);
	}
	free(z->polys);
	free(z->line);
	free(z->windows);
	for (uint32_t i = 0; i < z->nclasses; i++)
		free(z->classes[i]);
	free(z->classes);
	for (uint32_t i = 0; i < z->nvehicles; i++)
		free(z->vehicles[i]);
	free(z->vehicles);
	free(z->feature_json);
}

void
gf_zoneset_free(gf_zoneset *zs)
{
	if (zs == NULL)
		return;
	for (size_t i = 0; i < zs->n; i++)
		zone_clear(&zs->z[i]);
	free(zs->z);
	free(zs->corr);
	free(zs->cstart);
	free(zs->czone);
	free(zs->big);
	free(zs->zbb);
	free(zs);
}

struct order {
	int64_t id;
	size_t fi;
};

static int
cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->fi < y->fi ? -1 : x->fi > y->fi;
}

static long
cell_x(const gf_zoneset *zs, double x)
{
	long c = (long)((x - zs->bb.minx) * zs->gsx);
	return c < 0 ? 0 : c >= (long)zs->gx ? (long)zs->gx - 1 : c;
}

static long
cell_y(const gf_zoneset *zs, double y)
{
	long c = (long)((y - zs->bb.miny) * zs->gsy);
	return c < 0 ? 0 : c >= (long)zs->gy ? (long)zs->gy - 1 : c;
}

static int
build_grid(gf_zoneset *zs)
{
	size_t n = zs->n;
	bb_empty(&zs->bb);
	for (size_t i = 0; i < n; i++)
		bb_union(&zs->bb, &zs->z[i].bb);
	if (n == 0) {
		zs->bb = (struct gf_bbox){0, 0, 0, 0};
	}
	double w = zs->bb.maxx - zs->bb.minx, h = zs->bb.maxy - zs->bb.miny;
	if (w < 1e-9)
		w = 1e-9;
	if (h < 1e-9)
		h = 1e-9;
	double target = 4.0 * (double)(n ? n : 1);
	if (target > (double)(1 << 22))
		target = (double)(1 << 22);
	double gx = ceil(sqrt(target * w / h)), gy;
	if (gx < 1)
		gx = 1;
	if (gx > target)
		gx = target;
	gy = ceil(target / gx);
	zs->gx = (uint32_t)gx;
	zs->gy = (uint32_t)gy;
	zs->gsx = gx / w;
	zs->gsy = gy / h;
	size_t ncells = (size_t)zs->gx * zs->gy;
	size_t bigcells = ncells / 8 > 64 ? ncells / 8 : 64;
	zs->cstart = calloc(ncells + 1, sizeof *zs->cstart);
	zs->big = calloc(n ? n : 1, sizeof *zs->big);
	zs->zbb = calloc(n ? n : 1, sizeof *zs->zbb);
	if (zs->cstart == NULL || zs->big == NULL || zs->zbb == NULL)
		return GF_ENOMEM;
	for (size_t i = 0; i < n; i++)
		zs->zbb[i] = zs->z[i].bb;
	zs->mem += n * sizeof *zs->zbb;
	size_t total = 0;
	for (int pass = 0; pass < 2; pass++) {
		zs->nbig = 0;
		for (size_t i = 0; i < n; i++) {
			const struct gf_bbox *b = &zs->z[i].bb;
			long x0 = cell_x(zs, b->minx), x1 = cell_x(zs, b->maxx);
			long y0 = cell_y(zs, b->miny), y1 = cell_y(zs, b->maxy);
			size_t cells = (size_t)(x1 - x0 + 1) * (size_t)(y1 - y0 + 1);
			if (cells > bigcells) {
				zs->big[zs->nbig++] = (uint32_t)i;
				continue;
			}
			for (long y = y0; y <= y1; y++)
				for (long x = x0; x <= x1; x++) {
					size_t c = (size_t)y * zs->gx + (size_t)x;
					if (pass == 0)
						zs->cstart[c + 1]++;
					else
						zs->czone[zs->cstart[c]++] = (uint32_t)i;
				}
			if (pass == 0)
				total += cells;
		}
		if (pass == 0) {
			if (total > UINT32_MAX)
				return GF_ENOMEM;
			for (size_t c = 0; c < ncells; c++)
				zs->cstart[c + 1] += zs->cstart[c];
			zs->czone = malloc((total ? total : 1) * sizeof *zs->czone);
			if (zs->czone == NULL)
				return GF_ENOMEM;
		}
	}
	/* Pass 2 advanced each cstart[c] to the end of cell c: shift back. */
	for (size_t c = ncells; c > 0; c--)
		zs->cstart[c] = zs->cstart[c - 1];
	zs->cstart[0] = 0;
	zs->mem += (ncells + 1 + total + n) * sizeof(uint32_t);
	return GF_OK;
}

int
gf_zoneset_parse(const char *text, size_t len, gf_zoneset **out, char *errbuf,
		 size_t errlen)
{
	int rc = GF_OK;
	json_error_t jerr;
	json_t *root = NULL;
	struct order *ord = NULL;
	struct gf_zone *tmp = NULL;
	gf_zoneset *zs = NULL;
	struct ld l = {.errbuf = errbuf, .errlen = errlen};
	size_t n = 0;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (out == NULL || text == NULL)
		return GF_EINVAL;
	*out = NULL;
	root = json_loadb(text, len, 0, &jerr);
	if (root == NULL) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "not JSON: line %d column %d: %s",
				 jerr.line, jerr.column, jerr.text);
		rc = GF_EZONES;
		goto done;
	}
	json_t *type = json_object_get(root, "type"), *feats;
	feats = json_object_get(root, "features");
	if (!json_is_string(type) ||
	    strcmp(json_string_value(type), "FeatureCollection") ||
	    !json_is_array(feats)) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "not a FeatureCollection");
		rc = GF_EZONES;
		goto done;
	}
	n = json_array_size(feats);
	tmp = calloc(n ? n : 1, sizeof *tmp);
	ord = calloc(n ? n : 1, sizeof *ord);
	zs = calloc(1, sizeof *zs);
	if (tmp == NULL || ord == NULL || zs == NULL) {
		rc = GF_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		l.fi = i;
		l.has_id = false;
		rc = feature(&l, json_array_get(feats, i), &tmp[i]);
		if (rc) {
			if (rc == GF_ENOMEM && errbuf && errlen)
				snprintf(errbuf, errlen, "out of memory");
			goto done;
		}
		ord[i].id = tmp[i].id;
		ord[i].fi = i;
	}
	qsort(ord, n, sizeof *ord, cmp_order);
	for (size_t i = 1; i < n; i++) {
		if (ord[i].id == ord[i - 1].id) {
			l.fi = ord[i].fi;
			l.has_id = true;
			l.id = ord[i].id;
			rc = fail(&l, "duplicate id (also feature %zu)", ord[i - 1].fi);
			goto done;
		}
	}
	zs->z = calloc(n ? n : 1, sizeof *zs->z);
	if (zs->z == NULL) {
		rc = GF_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		zs->z[i] = tmp[ord[i].fi];
	zs->n = n;
	free(tmp);
	tmp = NULL;
	zs->mem = l.mem + sizeof *zs + n * sizeof *zs->z;
	for (size_t i = 0; i < n; i++) {
		if (zs->z[i].kind == GF_KIND_CORRIDOR && zs->z[i].nvehicles)
			zs->ncorr++;
		if (zs->z[i].night_start_s >= 0)
			zs->night_bans = true;
	}
	zs->corr = calloc(zs->ncorr ? zs->ncorr : 1, sizeof *zs->corr);
	if (zs->corr == NULL) {
		rc = GF_ENOMEM;
		goto done;
	}
	for (size_t i = 0, k = 0; i < n; i++)
		if (zs->z[i].kind == GF_KIND_CORRIDOR && zs->z[i].nvehicles)
			zs->corr[k++] = (uint32_t)i;
	if ((rc = build_grid(zs)) != GF_OK)
		goto done;
	*out = zs;
	zs = NULL;
done:
	if (tmp) {
		for (size_t i = 0; i < n; i++)
			zone_clear(&tmp[i]);
		free(tmp);
	}
	gf_zoneset_free(zs);
	free(ord);
	json_decref(root);
	return rc;
}

size_t
gf_zoneset_count(const gf_zoneset *zs)
{
	return zs ? zs->n : 0;
}

int
gf_zoneset_zone(const gf_zoneset *zs, size_t i, struct gf_zone_info *info)
{
	if (zs == NULL || info == NULL || i >= zs->n)
		return GF_EINVAL;
	info->id = zs->z[i].id;
	info->name = zs->z[i].name;
	info->kind = zs->z[i].kind;
	info->feature_json = zs->z[i].feature_json;
	return GF_OK;
}

bool
gf_zoneset_active(const gf_zoneset *zs, size_t i, int64_t t_us, const gf_tz *tz)
{
	int32_t sod = -1;

	return zs && i < zs->n && gf_zone_active(&zs->z[i], t_us, tz, &sod);
}

long
gf_zoneset_find(const gf_zoneset *zs, int64_t id)
{
	if (zs == NULL)
		return -1;
	size_t lo = 0, hi = zs->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (zs->z[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < zs->n && zs->z[lo].id == id ? (long)lo : -1;
}

char *
gf_zoneset_export(const gf_zoneset *zs)
{
	static const char head[] = "{\"type\":\"FeatureCollection\",\"features\":[";
	size_t len = sizeof head + 3;
	for (size_t i = 0; zs && i < zs->n; i++)
		len += strlen(zs->z[i].feature_json) + 1;
	char *s = malloc(len), *p = s;
	if (s == NULL)
		return NULL;
	memcpy(p, head, sizeof head - 1);
	p += sizeof head - 1;
	for (size_t i = 0; zs && i < zs->n; i++) {
		size_t k = strlen(zs->z[i].feature_json);
		if (i)
			*p++ = ',';
		memcpy(p, zs->z[i].feature_json, k);
		p += k;
	}
	memcpy(p, "]}", 3);
	return s;
}

size_t
gf_zoneset_memory(const gf_zoneset *zs)
{
	return zs ? zs->mem : 0;
}

bool
gf_zoneset_covers(const gf_zoneset *zs, size_t i, double lat, double lon)
{
	return zs && i < zs->n && gf_zone_covers(&zs->z[i], lat, lon);
}

double
gf_zoneset_distance_outside(const gf_zoneset *zs, size_t i, double lat,
			    double lon)
{
	if (zs == NULL || i >= zs->n)
		return INFINITY;
	return gf_zone_outside_m(&zs->z[i], lat, lon);
}

size_t
gf_zoneset_query(const gf_zoneset *zs, double lat, double lon, size_t *idx,
		 size_t cap, bool lin)
{
	size_t found = 0;
	if (zs == NULL || zs->n == 0)
		return 0;
	if (lin) {
		for (size_t i = 0; i < zs->n; i++)
			if (gf_zone_covers(&zs->z[i], lat, lon)) {
				if (found < cap)
					idx[found] = i;
				found++;
			}
		return found;
	}
	if (lon < zs->bb.minx || lon > zs->bb.maxx || lat < zs->bb.miny ||
	    lat > zs->bb.maxy)
		return 0;
	size_t c = (size_t)cell_y(zs, lat) * zs->gx + (size_t)cell_x(zs, lon);
	const uint32_t *a = zs->czone + zs->cstart[c];
	size_t na = zs->cstart[c + 1] - zs->cstart[c], ia = 0, ib = 0;
	while (ia < na || ib < zs->nbig) {
		uint32_t k;
		if (ib >= zs->nbig || (ia < na && a[ia] < zs->big[ib]))
			k = a[ia++];
		else
			k = zs->big[ib++];
		const struct gf_bbox *bb = &zs->zbb[k];
		if (lon < bb->minx || lon > bb->maxx || lat < bb->miny ||
		    lat > bb->maxy)
			continue;
		if (gf_zone_covers(&zs->z[k], lat, lon)) {
			if (found < cap)
				idx[found] = k;
			found++;
		}
	}
	return found;
}

int32_t
gf_local_sod(int64_t ts_us, const gf_tz *tz, int32_t *day)
{
	int64_t t = ts_us >= 0 ? ts_us / 1000000 : -((-ts_us + 999999) / 1000000);
	int64_t lt = t + gf_tz_offset(tz, t, NULL);
	int64_t r = lt % 86400;
	if (r < 0)
		r += 86400;
	if (day)
		*day = (int32_t)((lt - r) / 86400);
	return (int32_t)r;
}

bool
gf_zone_active(const struct gf_zone *z, int64_t ts_us, const gf_tz *tz,
	       int32_t *sod)
{
	if (z->always)
		return true;
	for (uint32_t i = 0; i < z->nwindows; i++) {
		const struct gf_window *w = &z->windows[i];
		if (w->has_from && ts_us < w->from_us)
			continue;
		if (w->has_to && ts_us > w->to_us)
			continue;
		if (w->has_daily) {
			if (*sod < 0)
				*sod = gf_local_sod(ts_us, tz, NULL);
			if (!gf_window_holds(w->dstart_s, w->dend_s, *sod))
				continue;
		}
		return true;
	}
	return false;
}

bool
gf_zone_class_ok(const struct gf_zone *z, const char *cls)
{
	if (z->nclasses == 0 || cls == NULL || *cls == '\0')
		return true;
	for (uint32_t i = 0; i < z->nclasses; i++)
		if (strcmp(z->classes[i], cls) == 0)
			return true;
	return false;
}

bool
gf_zone_has_vehicle(const struct gf_zone *z, const char *vehicle)
{
	return z->nvehicles &&
	       bsearch(&vehicle, z->vehicles, z->nvehicles, sizeof(char *),
		       cmp_str) != NULL;
}
