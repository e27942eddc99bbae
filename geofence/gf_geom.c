/*
 * gf_geom.c - point-in-zone tests and distances.
 *
 * Polygons are judged in the lon/lat plane with a crossing-number test
 * whose only arithmetic is the orientation of (a, b, p). That orientation
 * is computed in double with Shewchuk's error bound and, when the sign is
 * in doubt, again in 113-bit __float128. The quad differences of the
 * inputs are exact, and their products too when the coordinates of one
 * edge and the point share a binade or nearly (true of any zone: the
 * differences then need <= 56 bits), and a correctly rounded subtraction
 * keeps the sign: so a point exactly on an edge or a vertex is found to be
 * on it, with no epsilon.
 *
 * Large rings (>= GF_STRIPE_MIN edges) get a y-stripe index (the idea of
 * tidwall/tg's "ystripes"): the ring's y-range is cut into stripes and
 * each stripe lists the edges whose y-range meets it. Both the edges and
 * the query use the same monotone stripe function, so every edge that can
 * matter for a point's y is in the point's stripe.
 *
 * Circles and corridors use great-circle distance on a sphere of radius
 * 6371008.8 m: haversine for points, and for a corridor segment the
 * distance to the great-circle arc (perpendicular when the foot falls on
 * the arc, else the nearer end: round ends).
 */
#include "geofence/geofence-internal.h"

#include <math.h>
#include <stdlib.h>

#define GF_STRIPE_MIN 32

#if defined(__SIZEOF_FLOAT128__)
typedef __float128 gf_wide;
#else
typedef long double gf_wide;
#endif

/* > 0: p left of a->b, < 0 right, 0 collinear. Exact sign. */
static double
orient(double ax, double ay, double bx, double by, double px, double py)
{
	double l = (bx - ax) * (py - ay);
	double r = (by - ay) * (px - ax);
	double det = l - r;
	double bound = 3.3306690738754716e-16 * (fabs(l) + fabs(r));
	if (det > bound || -det > bound)
		return det;
	/* Near zero: redo it exactly. The subtractions in double above may
	 * have rounded, so start again from the inputs. */
	gf_wide w = ((gf_wide)bx - ax) * ((gf_wide)py - ay) -
		    ((gf_wide)by - ay) * ((gf_wide)px - ax);
	return w > 0 ? 1.0 : w < 0 ? -1.0 : 0.0;
}

/* Contribution of edge a->b: 2 if p lies on it, 1 if it crosses the ray
 * going +x from p (half-open in y), else 0. */
static inline int
edge_test(double ax, double ay, double bx, double by, double px, double py)
{
	double ylo = ay < by ? ay : by, yhi = ay < by ? by : ay;
	if (py < ylo || py > yhi)
		return 0;
	double xlo = ax < bx ? ax : bx, xhi = ax < bx ? bx : ax;
	if (px > xhi)
		return 0; /* wholly left of p: cannot hold p nor cross the ray */
	if (px < xlo) {
		/* p is left of the edge's x-range: not on it; crosses when
		 * the edge straddles py (half-open). */
		return (ay > py) != (by > py);
	}
	double o = orient(ax, ay, bx, by, px, py);
	if (o == 0)
		return 2;
	if ((ay > py) == (by > py))
		return 0;
	/* Upward edge: crossing to the right when p is left of it. */
	return by > ay ? o > 0 : o < 0;
}

int
gf_ring_locate(const struct gf_ring *r, double x, double y)
{
	if (x < r->bb.minx || x > r->bb.maxx || y < r->bb.miny || y > r->bb.maxy)
		return 0;
	int in = 0;
	const double *p = r->xy;
	if (r->nstripes) {
		long s = (long)((y - r->sy0) * r->sscale);
		if (s < 0)
			s = 0;
		if (s >= (long)r->nstripes)
			s = (long)r->nstripes - 1;
		for (uint32_t k = r->sstart[s]; k < r->sstart[s + 1]; k++) {
			const double *e = p + 2 * (size_t)r->sedge[k];
			int t = edge_test(e[0], e[1], e[2], e[3], x, y);
			if (t == 2)
				return 2;
			in ^= t;
		}
		return in;
	}
	for (uint32_t i = 0; i + 1 < r->n; i++, p += 2) {
		int t = edge_test(p[0], p[1], p[2], p[3], x, y);
		if (t == 2)
			return 2;
		in ^= t;
	}
	return in;
}

static long
stripe_of(const struct gf_ring *r, double y)
{
	long s = (long)((y - r->sy0) * r->sscale);
	if (s < 0)
		s = 0;
	if (s >= (long)r->nstripes)
		s = (long)r->nstripes - 1;
	return s;
}

int
gf_ring_index(struct gf_ring *r, size_t *mem)
{
	uint32_t ne = r->n - 1;
	if (ne < GF_STRIPE_MIN || r->bb.maxy <= r->bb.miny)
		return GF_OK;
	/* About two edges per stripe; fewer stripes when edges are long in y
	 * (spiky shapes), so the index stays within ~8 entries per edge. */
	const double *p = r->xy;
	uint32_t ns = ne / 2;
	size_t total;
	r->sy0 = r->bb.miny;
	for (;;) {
		r->nstripes = ns;
		r->sscale = ns / (r->bb.maxy - r->bb.miny);
		total = 0;
		for (uint32_t i = 0; i < ne; i++) {
			double a = p[2 * i + 1], b = p[2 * i + 3];
			total += (size_t)(stripe_of(r, a < b ? b : a) -
					  stripe_of(r, a < b ? a : b) + 1);
		}
		if (total <= 8 * (size_t)ne || ns <= 16)
			break;
		ns /= 4;
	}
	if (total > UINT32_MAX)
		goto err;
	r->sstart = calloc((size_t)ns + 1, sizeof *r->sstart);
	if (r->sstart == NULL)
		goto err;
	for (uint32_t i = 0; i < ne; i++) {
		double a = p[2 * i + 1], b = p[2 * i + 3];
		long s0 = stripe_of(r, a < b ? a : b), s1 = stripe_of(r, a < b ? b : a);
		for (long s = s0; s <= s1; s++)
			r->sstart[s + 1]++;
	}
	for (uint32_t s = 0; s < ns; s++)
		r->sstart[s + 1] += r->sstart[s];
	r->sedge = malloc((total ? total : 1) * sizeof *r->sedge);
	uint32_t *fill = malloc((size_t)ns * sizeof *fill);
	if (r->sedge == NULL || fill == NULL) {
		free(fill);
		goto err;
	}
	for (uint32_t s = 0; s < ns; s++)
		fill[s] = r->sstart[s];
	for (uint32_t i = 0; i < ne; i++) {
		double a = p[2 * i + 1], b = p[2 * i + 3];
		long s0 = stripe_of(r, a < b ? a : b), s1 = stripe_of(r, a < b ? b : a);
		for (long s = s0; s <= s1; s++)
			r->sedge[fill[s]++] = i;
	}
	free(fill);
	*mem += ((size_t)ns + 1 + total) * sizeof(uint32_t);
	return GF_OK;
err:
	free(r->sstart);
	r->sstart = NULL;
	r->nstripes = 0;
	return GF_ENOMEM;
}

double
gf_haversine_m(double lat1, double lon1, double lat2, double lon2)
{
	double p1 = lat1 * GF_DEG, p2 = lat2 * GF_DEG;
	double dp = p2 - p1, dl = (lon2 - lon1) * GF_DEG;
	double s1 = sin(dp / 2), s2 = sin(dl / 2);
	double h = s1 * s1 + cos(p1) * cos(p2) * s2 * s2;
	if (h > 1)
		h = 1;
	return 2 * GF_EARTH_R * asin(sqrt(h));
}

static void
unit(double lat, double lon, double v[3])
{
	double p = lat * GF_DEG, l = lon * GF_DEG;
	v[0] = cos(p) * cos(l);
	v[1] = cos(p) * sin(l);
	v[2] = sin(p);
}

static void
cross(const double a[3], const double b[3], double c[3])
{
	c[0] = a[1] * b[2] - a[2] * b[1];
	c[1] = a[2] * b[0] - a[0] * b[2];
	c[2] = a[0] * b[1] - a[1] * b[0];
}

static double
dot(const double a[3], const double b[3])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

double
gf_arc_dist_m(double lat, double lon, double lat1, double lon1, double lat2,
	      double lon2)
{
	double a[3], b[3], p[3], n[3], t[3];
	unit(lat1, lon1, a);
	unit(lat2, lon2, b);
	unit(lat, lon, p);
	cross(a, b, n);
	double nn = sqrt(dot(n, n));
	double da = gf_haversine_m(lat, lon, lat1, lon1);
	double db = gf_haversine_m(lat, lon, lat2, lon2);
	double dmin = da < db ? da : db;
	if (nn < 1e-15)
		return dmin; /* degenerate segment */
	n[0] /= nn;
	n[1] /= nn;
	n[2] /= nn;
	/* Foot of the perpendicular lies on the arc iff p is "after" a and
	 * "before" b as seen along the great circle. */
	cross(a, p, t);
	if (dot(t, n) < 0)
		return dmin;
	cross(p, b, t);
	if (dot(t, n) < 0)
		return dmin;
	double s = fabs(dot(p, n));
	if (s > 1)
		s = 1;
	double d = GF_EARTH_R * asin(s);
	return d < dmin ? d : dmin;
}

static double
corridor_dist(const struct gf_zone *z, double lat, double lon)
{
	double best = INFINITY;
	if (z->nline == 1)
		return gf_haversine_m(lat, lon, z->line[1], z->line[0]);
	for (uint32_t i = 0; i + 1 < z->nline; i++) {
		const double *q = z->line + 2 * i;
		double d = gf_arc_dist_m(lat, lon, q[1], q[0], q[3], q[2]);
		if (d < best)
			best = d;
	}
	return best;
}

static bool
poly_covers(const struct gf_poly *pg, double x, double y)
{
	if (x < pg->bb.minx || x > pg->bb.maxx || y < pg->bb.miny ||
	    y > pg->bb.maxy)
		return false;
	int e = gf_ring_locate(&pg->rings[0], x, y);
	if (e == 0)
		return false;
	if (e == 2)
		return true;
	for (uint32_t h = 1; h < pg->nrings; h++)
		if (gf_ring_locate(&pg->rings[h], x, y) == 1)
			return false; /* strictly inside a hole */
	return true;
}

bool
gf_zone_covers(const struct gf_zone *z, double lat, double lon)
{
	if (lon < z->bb.minx || lon > z->bb.maxx || lat < z->bb.miny ||
	    lat > z->bb.maxy)
		return false;
	switch (z->geom) {
	case GF_GEOM_POLY:
		for (uint32_t i = 0; i < z->npolys; i++)
			if (poly_covers(&z->polys[i], lon, lat))
				return true;
		return false;
	case GF_GEOM_CIRCLE:
		return gf_haversine_m(lat, lon, z->clat, z->clon) <= z->radius_m;
	case GF_GEOM_CORRIDOR:
		return corridor_dist(z, lat, lon) <= z->radius_m;
	}
	return false;
}

double
gf_zone_outside_m(const struct gf_zone *z, double lat, double lon)
{
	if (z->geom == GF_GEOM_CIRCLE) {
		double d = gf_haversine_m(lat, lon, z->clat, z->clon) - z->radius_m;
		return d > 0 ? d : 0;
	}
	if (z->geom == GF_GEOM_CORRIDOR) {
		double d = corridor_dist(z, lat, lon) - z->radius_m;
		return d > 0 ? d : 0;
	}
	for (uint32_t i = 0; i < z->npolys; i++)
		if (poly_covers(&z->polys[i], lon, lat))
			return 0;
	/* Outside every part: the nearest covered point is on some ring.
	 * Local equirectangular metres around the point. */
	double ky = GF_EARTH_R * GF_DEG, kx = ky * cos(lat * GF_DEG);
	double best = INFINITY;
	for (uint32_t i = 0; i < z->npolys; i++) {
		const struct gf_poly *pg = &z->polys[i];
		for (uint32_t r = 0; r < pg->nrings; r++) {
			const double *p = pg->rings[r].xy;
			for (uint32_t k = 0; k + 1 < pg->rings[r].n; k++, p += 2) {
				double ax = (p[0] - lon) * kx, ay = (p[1] - lat) * ky;
				double bx = (p[2] - lon) * kx, by = (p[3] - lat) * ky;
				double dx = bx - ax, dy = by - ay;
				double l2 = dx * dx + dy * dy, t = 0;
				if (l2 > 0) {
					t = -(ax * dx + ay * dy) / l2;
					t = t < 0 ? 0 : t > 1 ? 1 : t;
				}
				double cx = ax + t * dx, cy = ay + t * dy;
				double d = sqrt(cx * cx + cy * cy);
				if (d < best)
					best = d;
			}
		}
	}
	return best;
}
