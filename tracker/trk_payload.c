/*
 * trk_payload.c - the native JSON telemetry payload (DESIGN.md, "Telemetry
 * in") built with jansson, and RFC 3339 times.  Pure: no I/O, no clock.
 *
 * Members in this order: vehicle, ts, lat, lon, speed_kmh, heading, alt_m,
 * hdop, eph, fix, sats, un, hazard_class, seq.  Unknown values (NAN, -1) are
 * left out.  Numbers are rounded to what the receiver can tell (lat/lon
 * 1e-7 degree ~ 1 cm, speed 0.01 km/h, heading and altitude 0.1) so that
 * the text is short and stable.  `eph` (gpsd's horizontal error estimate in
 * metres) is an extra member: the gateway ignores members it does not know.
 */
#include "tracker/tracker.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/hz_time.h"

const char *
trk_strerror(int err)
{
	switch (err) {
	case TRK_OK: return "ok";
	case TRK_ERR_NOMEM: return "out of memory";
	case TRK_ERR_INVAL: return "invalid argument";
	case TRK_ERR_IO: return "i/o error";
	case TRK_ERR_CONFIG: return "configuration error";
	case TRK_ERR_MQTT: return "mqtt error";
	default: return "unknown error";
	}
}

int
trk_format_time(int64_t ms, char *buf, size_t cap)
{
	if (cap < 25 || ms < HZ_TIME_MIN_US / 1000 || ms > HZ_TIME_MAX_US / 1000)
		return TRK_ERR_INVAL;
	hz_time_format(ms * 1000, HZ_TIME_MS, buf);
	return TRK_OK;
}

static double
round_to(double v, double step)
{
	return round(v / step) * step;
}

/* Add NAME = V rounded to STEP, unless unknown.  Returns -1 on failure. */
static int
add_real(json_t *o, const char *name, double v, double step)
{
	if (!isfinite(v))
		return 0;
	return json_object_set_new(o, name, json_real(round_to(v, step)));
}

int
trk_payload_build(const struct trk_fix *f, const struct trk_ident *id,
                  uint64_t seq, char **out, size_t *len)
{
	json_t *o = NULL;
	char ts[32];
	int rc = TRK_ERR_INVAL, bad = 0;

	*out = NULL;
	*len = 0;
	if (!id || !id->vehicle || !*id->vehicle || !isfinite(f->lat) || !isfinite(f->lon) ||
	    trk_format_time(f->time_ms, ts, sizeof ts) != TRK_OK)
		goto done;
	rc = TRK_ERR_NOMEM;
	o = json_object();
	if (!o)
		goto done;
	bad |= json_object_set_new(o, "vehicle", json_string(id->vehicle));
	bad |= json_object_set_new(o, "ts", json_string(ts));
	bad |= add_real(o, "lat", f->lat, 1e-7);
	bad |= add_real(o, "lon", f->lon, 1e-7);
	bad |= add_real(o, "speed_kmh", f->speed_kmh, 0.01);
	bad |= add_real(o, "heading", f->heading, 0.1);
	bad |= add_real(o, "alt_m", f->alt_m, 0.1);
	bad |= add_real(o, "hdop", f->hdop, 0.01);
	bad |= add_real(o, "eph", f->eph, 0.1);
	if (f->mode >= 0)
		bad |= json_object_set_new(o, "fix", json_integer(f->mode));
	if (f->sats >= 0)
		bad |= json_object_set_new(o, "sats", json_integer(f->sats));
	if (id->un && *id->un)
		bad |= json_object_set_new(o, "un", json_string(id->un));
	if (id->hazard_class && *id->hazard_class)
		bad |= json_object_set_new(o, "hazard_class", json_string(id->hazard_class));
	bad |= json_object_set_new(o, "seq", json_integer((json_int_t)seq));
	if (bad)
		goto done;
	/* 12 significant digits print the rounded values exactly. */
	*out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	if (!*out)
		goto done;
	*len = strlen(*out);
	rc = TRK_OK;
done:
	json_decref(o);
	return rc;
}
