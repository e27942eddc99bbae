/*
 * ld_jt808_fix.c: the pure parts of hazgate-load jt808: a native-JSON
 * fix (what ld_sim and ld_replay hand out) as a 0x0200 report, the
 * terminals' phone numbers, JT/T 808's retransmission timeout, the plate
 * in GBK, the mileage step. No I/O, no clock (the unit test calls them).
 * Limits: the report's time has whole seconds (the fraction is dropped);
 * lat/lon are rounded to 1e-6 degree, speed to 0.1 km/h, heading to a
 * whole degree, as a terminal does.
 */
#include "loadgen/ld_jt808.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "common/hz_time.h"

/* A number member in [lo, hi]; absent: *v stays as it was. */
static bool
num_member(json_t *o, const char *key, bool need, double lo, double hi, double *v)
{
	json_t *j = json_object_get(o, key);

	if (j == NULL || json_is_null(j))
		return !need;
	if (!json_is_number(j))
		return false;
	*v = json_number_value(j);
	return isfinite(*v) && *v >= lo && *v <= hi;
}

int
ld_jt_fix_parse(const char *payload, size_t len, char *vehicle, size_t vcap,
                struct jt_location *loc)
{
	json_t *o = json_loadb(payload, len, 0, NULL), *j;
	double lat, lon, speed = 0, heading = 0, alt = 0, sats = 10;
	const char *ts, *v;
	int64_t us;
	int rc = LD_ERR_DATA;

	memset(loc, 0, sizeof(*loc));
	if (!json_is_object(o))
		goto done;
	v = json_string_value(json_object_get(o, "vehicle"));
	ts = json_string_value(json_object_get(o, "ts"));
	if (v == NULL || *v == '\0' || strlen(v) >= vcap || ts == NULL ||
	    hz_time_parse(ts, strlen(ts), &us) != 0)
		goto done;
	if (!num_member(o, "lat", true, -90, 90, &lat) ||
	    !num_member(o, "lon", true, -180, 180, &lon) ||
	    !num_member(o, "speed_kmh", false, 0, 6553.5, &speed) ||
	    !num_member(o, "heading", false, 0, 360, &heading) ||
	    !num_member(o, "alt_m", false, -32768, 32767, &alt) ||
	    !num_member(o, "sats", false, 0, 255, &sats))
		goto done;
	strcpy(vehicle, v);
	loc->lat_e6 = (int32_t)llround(lat * 1e6);
	loc->lon_e6 = (int32_t)llround(lon * 1e6);
	loc->speed_dkmh = (uint16_t)llround(speed * 10);
	loc->direction = (uint16_t)(llround(heading) % 360);
	loc->alt_m = (int16_t)llround(alt);
	loc->time_us = hz_floor_div(us, 1000000) * 1000000;
	loc->time_ok = true;
	loc->positioned = true;
	j = json_object_get(o, "ignition");
	loc->ignition = !json_is_false(j);
	loc->present = JT_HAS_SATS;
	loc->sats = (uint8_t)sats;
	rc = LD_OK;
done:
	json_decref(o);
	return rc;
}

bool
ld_jt_phone(uint64_t base, uint64_t index, char *out, size_t cap)
{
	uint64_t n = base + index;

	if (n < base || cap < 21)
		return false;
	snprintf(out, cap, "%llu", (unsigned long long)n);
	return strlen(out) <= 20;
}

int64_t
ld_jt_reply_wait_us(int64_t t_us, int n)
{
	int64_t w = t_us;

	for (int k = 2; k <= n && w < INT64_MAX / (k + 1); k++)
		w *= k;
	return w;
}

int
ld_jt_plate_gbk(iconv_t cd, const char *utf8, uint8_t *out, size_t cap,
                size_t *out_len)
{
	char *in = (char *)utf8, *o = (char *)out;
	size_t inleft = strlen(utf8), oleft = cap;

	iconv(cd, NULL, NULL, NULL, NULL);
	if (iconv(cd, &in, &inleft, &o, &oleft) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &o, &oleft) == (size_t)-1)
		return LD_ERR_DATA;
	*out_len = cap - oleft;
	return LD_OK;
}

uint32_t
ld_jt_step_dkm(int32_t lat1, int32_t lon1, int32_t lat2, int32_t lon2)
{
	const double r = 6371.0088, rad = M_PI / 180e6;
	double p1 = lat1 * rad, p2 = lat2 * rad, dp = p2 - p1,
	       dl = (lon2 - (double)lon1) * rad;
	double a = sin(dp / 2) * sin(dp / 2) +
	           cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);

	return (uint32_t)llround(2 * r * asin(sqrt(a)) * 10);
}

int
ld_jt_e6(int32_t v, char *buf, size_t cap)
{
	int64_t a = v < 0 ? -(int64_t)v : v;

	return snprintf(buf, cap, "%s%lld.%06lld", v < 0 ? "-" : "",
	                (long long)(a / 1000000), (long long)(a % 1000000));
}
