/*
 * gf_datum.c - GCJ-02 and BD-09 ("Mars" coordinates of Chinese web maps)
 * to WGS-84.
 *
 * The forward GCJ-02 transform is the widely published one (Krasovsky
 * ellipsoid, a = 6378245, ee = 0.00669342162296594323; identity outside
 * mainland China's rough box). It has no closed-form inverse, so
 * gf_wgs84_from_gcj02 iterates w <- w - (gcj(w) - g); the map is a small
 * smooth perturbation, so this converges to ~1e-12 degrees in a handful of
 * steps (far below the 0.1 m the issue asks). BD-09 is GCJ-02 rotated and
 * scaled; its published inverse is approximate, so it is inverted by the
 * same fixed-point iteration of the exact forward form.
 */
#include "geofence/geofence-internal.h"

#include <math.h>
#include <string.h>

#define GCJ_A 6378245.0
#define GCJ_EE 0.00669342162296594323
#define BD_XPI (GF_PI * 3000.0 / 180.0)

static bool
out_of_china(double lat, double lon)
{
	return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

static double
tlat(double x, double y)
{
	double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y +
		   0.2 * sqrt(fabs(x));
	r += (20.0 * sin(6.0 * x * GF_PI) + 20.0 * sin(2.0 * x * GF_PI)) * 2.0 / 3.0;
	r += (20.0 * sin(y * GF_PI) + 40.0 * sin(y / 3.0 * GF_PI)) * 2.0 / 3.0;
	r += (160.0 * sin(y / 12.0 * GF_PI) + 320 * sin(y * GF_PI / 30.0)) * 2.0 / 3.0;
	return r;
}

static double
tlon(double x, double y)
{
	double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y +
		   0.1 * sqrt(fabs(x));
	r += (20.0 * sin(6.0 * x * GF_PI) + 20.0 * sin(2.0 * x * GF_PI)) * 2.0 / 3.0;
	r += (20.0 * sin(x * GF_PI) + 40.0 * sin(x / 3.0 * GF_PI)) * 2.0 / 3.0;
	r += (150.0 * sin(x / 12.0 * GF_PI) + 300.0 * sin(x / 30.0 * GF_PI)) * 2.0 / 3.0;
	return r;
}

void
gf_gcj02_from_wgs84(double lat, double lon, double *glat, double *glon)
{
	if (out_of_china(lat, lon)) {
		*glat = lat;
		*glon = lon;
		return;
	}
	double dlat = tlat(lon - 105.0, lat - 35.0);
	double dlon = tlon(lon - 105.0, lat - 35.0);
	double rl = lat / 180.0 * GF_PI;
	double magic = sin(rl);
	magic = 1 - GCJ_EE * magic * magic;
	double sm = sqrt(magic);
	dlat = (dlat * 180.0) / ((GCJ_A * (1 - GCJ_EE)) / (magic * sm) * GF_PI);
	dlon = (dlon * 180.0) / (GCJ_A / sm * cos(rl) * GF_PI);
	*glat = lat + dlat;
	*glon = lon + dlon;
}

void
gf_wgs84_from_gcj02(double glat, double glon, double *lat, double *lon)
{
	double wlat = glat, wlon = glon;
	for (int i = 0; i < 30; i++) {
		double clat, clon;
		gf_gcj02_from_wgs84(wlat, wlon, &clat, &clon);
		double elat = clat - glat, elon = clon - glon;
		wlat -= elat;
		wlon -= elon;
		if (fabs(elat) < 1e-12 && fabs(elon) < 1e-12)
			break;
	}
	*lat = wlat;
	*lon = wlon;
}

void
gf_bd09_from_gcj02(double glat, double glon, double *blat, double *blon)
{
	double x = glon, y = glat;
	double z = sqrt(x * x + y * y) + 0.00002 * sin(y * BD_XPI);
	double th = atan2(y, x) + 0.000003 * cos(x * BD_XPI);
	*blon = z * cos(th) + 0.0065;
	*blat = z * sin(th) + 0.006;
}

void
gf_gcj02_from_bd09(double blat, double blon, double *glat, double *glon)
{
	/* Start from the published approximate inverse, then polish. */
	double x = blon - 0.0065, y = blat - 0.006;
	double z = sqrt(x * x + y * y) - 0.00002 * sin(y * BD_XPI);
	double th = atan2(y, x) - 0.000003 * cos(x * BD_XPI);
	double gl = z * sin(th), go = z * cos(th);
	for (int i = 0; i < 30; i++) {
		double cl, co;
		gf_bd09_from_gcj02(gl, go, &cl, &co);
		double el = cl - blat, eo = co - blon;
		gl -= el;
		go -= eo;
		if (fabs(el) < 1e-12 && fabs(eo) < 1e-12)
			break;
	}
	*glat = gl;
	*glon = go;
}

bool
gf_datum_to_wgs84(const char *datum, double *lat, double *lon)
{
	double glat, glon;

	if (datum == NULL || strcmp(datum, "wgs84") == 0)
		return true;
	if (strcmp(datum, "gcj02") == 0) {
		gf_wgs84_from_gcj02(*lat, *lon, lat, lon);
		return true;
	}
	if (strcmp(datum, "bd09") == 0) {
		gf_gcj02_from_bd09(*lat, *lon, &glat, &glon);
		gf_wgs84_from_gcj02(glat, glon, lat, lon);
		return true;
	}
	return false;
}
