/*
 * ing_tpv.c - gpsd TPV reports, read by libgps's own gps_unpack().
 *
 * Why both cJSON and libgps: the gateway must read TPV exactly as gpsd's
 * library does (gps_unpack() is what every gpsd client runs), but
 * gps_unpack() (libgps 3.22) is not safe on hostile bytes:
 *   - it needs a writable NUL-terminated string (reads past any length);
 *   - it NEVER RETURNS when its parse fails on a member before "class"
 *     ({"x":{},"class":"TPV"}, {"ept":"x","class":"TPV"}: see
 *     gpsd_layout() and tests/fuzz/crashes/);
 *   - it routes on the first `"class":` substring, so a nested object's
 *     class sends the buffer to the SKY, AIS or RTCM readers;
 *   - it stops silently, leaving the rest NaN, at a nested object or
 *     array, a member name over 31 bytes, a value over 512 bytes, or a
 *     space in `"class": "TPV"`; and it returns 0 whatever happened;
 *   - it parses numbers with its own safe_atof() (last-bit differences
 *     from strtod) and ignores a time's UTC offset.
 * So ing_decode() parses first: the payload must be one well-formed JSON
 * object (with no NUL byte: ing_decode() rejects them, so the copy below is
 * the whole payload), flat (no object or array members), without a member
 * of the table below twice (ing_fields_read; libgps would read the last), with
 * "class":"TPV" and members of the right types; and the text must have
 * gpsd's own layout, "class":"TPV" first and only once (gpsd_layout()).
 * Only then is gps_unpack()
 * called, on a NUL-terminated copy of at most ING_TPV_MAX bytes (gpsd
 * clients never hand it more: libgps reads reports into a buffer of that
 * size). Afterwards every member the table read must have been read by libgps,
 * with the same value for lat, lon (to 1e-12 relative: see same()), mode
 * and time; if not, the message is rejected as tpv_unreadable rather than
 * half-read. The values kept are libgps's (time: see below).
 *
 * Values: speed m/s * 3.6 -> km/h; track -> heading; mode 2/3 -> fix
 * (0/1 = no fix); eph (metres) -> eph_m, not hdop (TPV carries no DOP);
 * altitude: altMSL, else the deprecated alt, else altHAE. gpsd's time
 * parser ignores offsets and anything after the seconds' fraction, so the
 * "time" text is also read by ing_time_parse() and must agree with libgps
 * to the microsecond (libgps stores nanoseconds through a double, hence a
 * 1 µs tolerance); the exact decimal value is kept. hazgate extensions that
 * libgps ignores (vehicle, un, hazard_class, seq, ignition) are read from
 * the cJSON tree. gps_unpack() needs no gpsd connection: it only parses, and with
 * privdata NULL (the memset below) it calls no client hook. Stack use: one
 * struct gps_data_t (~24 KiB) and the copy (8 KiB).
 */
#include <gps.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "ingest/ingest-internal.h"

#define ROW ING_ROW
#define CHECK ING_CHECK

/* The JSON view: types, required members, and the values we compare. */
static const struct ing_field tpv_fields[] = {
	ROW("mode", ING_K_SMALLINT, ING_F_REQUIRED, fix, ING_HAS_FIX, 0),
	ROW("time", ING_K_TIME_RFC3339, 0, time_us, 0, ING_SEEN_TIME),
	ROW("lat", ING_K_REAL, ING_F_REQUIRED, lat, 0, 0),
	ROW("lon", ING_K_REAL, ING_F_REQUIRED, lon, 0, 0),
	CHECK("device", ING_K_CHECK_STRING, 0),
	CHECK("speed", ING_K_CHECK_NUMBER, ING_SEEN_SPEED),
	CHECK("track", ING_K_CHECK_NUMBER, ING_SEEN_TRACK),
	CHECK("alt", ING_K_CHECK_NUMBER, ING_SEEN_ALT),
	CHECK("altHAE", ING_K_CHECK_NUMBER, ING_SEEN_ALT),
	CHECK("altMSL", ING_K_CHECK_NUMBER, ING_SEEN_ALT),
	CHECK("eph", ING_K_CHECK_NUMBER, ING_SEEN_EPH),
	/* hazgate extensions, ignored by libgps */
	ROW("vehicle", ING_K_VEHICLE, 0, vehicle, 0, ING_SEEN_VEHICLE),
	ROW("un", ING_K_CARGO, 0, un, ING_HAS_UN, 0),
	ROW("hazard_class", ING_K_CARGO, 0, hazard_class, ING_HAS_HAZARD_CLASS,
	    0),
	ROW("seq", ING_K_INT64, 0, seq, ING_HAS_SEQ, 0),
	ROW("ignition", ING_K_BOOL, 0, ignition, ING_HAS_IGNITION, 0),
};

_Static_assert(sizeof(tpv_fields) / sizeof(tpv_fields[0]) <= ING_FIELDS_MAX,
               "tpv table");

static enum ing_reason
unreadable(struct ing_error *err, const char *field)
{
	return ing_err_set(err, ING_REASON_TPV_UNREADABLE, field,
	                   "libgps did not read %s as the JSON says (gpsd "
	                   "wants \"class\":\"TPV\" unspaced, no nested values)",
	                   field);
}

/*
 * Do libgps and the JSON parse (strtod) agree on a number? gpsd parses with its own
 * safe_atof(), which can differ from strtod() in the last bits of a long
 * decimal (about 1 in 70 random 15-digit values); 1e-12 relative is far
 * below GPS resolution and far above that rounding.
 */
static bool
same(double gpsd, double json)
{
	return gpsd == json ||
	       fabs(gpsd - json) <= 1e-12 * fmax(fabs(gpsd), fabs(json));
}

/*
 * The one layout on which gps_unpack() is known to terminate. Its loop
 * (libgps 3.22 libgps_core.c) resumes parsing where a failed parse
 * stopped, and routes each attempt by strstr(buf, "\"class\":"); when a
 * parse fails before the class member, the resumed text still holds
 * "class":"TPV", the parser fails again at the same place, and the loop
 * never ends ({"lat":"x","class":"TPV"}, a member name over 31 bytes or a
 * value over 512 bytes before "class" ...: tests/fuzz/crashes/). With
 * "class":"TPV" first and no other `"class":` substring anywhere (a key
 * such as "\"class" would make one), every failure happens after the tag,
 * the resumed text has no tag, and the loop stops. gpsd and
 * hazgate-tracker always print class first.
 */
static bool
gpsd_layout(const char *buf)
{
	static const char tag[] = "\"class\":\"TPV\"";
	const char *p = buf;

	if (*p++ != '{')        /* gps_unpack() itself wants buf[0] == '{' */
		return false;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (strncmp(p, tag, sizeof(tag) - 1) != 0)
		return false;
	return strstr(p + sizeof(tag) - 1, "\"class\":") == NULL;
}

/*
 * gpsd's report classes other than TPV (gpsd_json(5), libgps 3.22's
 * readers): what `gpspipe -w` prints besides TPV. A bridge such as
 * `gpspipe -w | mosquitto_pub -l` puts them all on the telemetry topic.
 */
static const char *const gpsd_other_classes[] = {
	"AIS", "ATT", "DEVICE", "DEVICES", "ERROR", "GST", "IMU", "OSC",
	"POLL", "PPS", "RAW", "RTCM2", "RTCM3", "SKY", "SUBFRAME", "TOFF",
	"VERSION", "WATCH",
};

bool
ing_tpv_other_report(const cJSON *obj, struct ing_fix *fix,
                     struct ing_error *err)
{
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(obj, "class");
	size_t i;

	if (!cJSON_IsString(cls))
		return false;
	for (i = 0; i < sizeof(gpsd_other_classes) /
	                sizeof(gpsd_other_classes[0]); i++) {
		if (strcmp(cls->valuestring, gpsd_other_classes[i]) == 0) {
			fix->format = ING_FORMAT_TPV;
			ing_err_set(err, ING_REASON_NONE, "class",
			            "gpsd class \"%s\" is not a position",
			            gpsd_other_classes[i]);
			return true;
		}
	}
	return false;
}

/* libgps's timespec -> µs, rounded to the nearest (see the header). */
static int64_t
timespec_us(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000 + (ts->tv_nsec + 500) / 1000;
}

enum ing_reason
ing_tpv_read(const cJSON *obj, const char *payload, size_t len, const char *topic,
             struct ing_fix *fix, struct ing_error *err)
{
	struct gps_data_t gd;
	char buf[ING_TPV_MAX + 1];
	struct ing_walk walk = { 0, NULL };
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(obj, "class");
	enum ing_reason r;
	const cJSON *val;
	int64_t t;

	fix->format = ING_FORMAT_TPV;
	if (!cls || cJSON_IsNull(cls))
		return ing_err_set(err, ING_REASON_MISSING_FIELD, "class",
		                   "class is missing");
	if (!cJSON_IsString(cls))
		return ing_err_set(err, ING_REASON_BAD_TYPE, "class",
		                   "class must be a string");
	if (strcmp(cls->valuestring, "TPV") != 0)
		return ing_err_set(err, ING_REASON_NOT_TPV, "class",
		                   "class \"%.20s\" is not TPV",
		                   cls->valuestring);
	if (len > ING_TPV_MAX)
		return ing_err_set(err, ING_REASON_TOO_LARGE, NULL,
		                   "TPV is %zu bytes, over libgps's %d", len,
		                   ING_TPV_MAX);

	/* libgps stops reading at the first nested value: gpsd's TPV is
	 * flat, so anything else cannot be read as the JSON says. */
	for (val = obj->child; val; val = val->next) {
		if (cJSON_IsObject(val) || cJSON_IsArray(val))
			return ing_err_set(err, ING_REASON_TPV_UNREADABLE, NULL,
			                   "TPV member \"%.32s\" is an object or "
			                   "array (gpsd's TPV is flat)", val->string);
	}

	r = ing_fields_read(obj, tpv_fields,
	                    sizeof(tpv_fields) / sizeof(tpv_fields[0]), fix,
	                    &walk, err);
	if (r == ING_REASON_NONE)
		r = ing_walk_finish(fix, &walk, "time", err);
	if (r != ING_REASON_NONE)
		return r;

	/* Parsed: one object, no NUL bytes, len <= ING_TPV_MAX. */
	memcpy(buf, payload, len);
	buf[len] = '\0';
	if (!gpsd_layout(buf))
		return ing_err_set(err, ING_REASON_TPV_UNREADABLE, "class",
		                   "TPV must start {\"class\":\"TPV\" and have "
		                   "no other \"class\": text (gpsd's layout; "
		                   "libgps hangs otherwise)");
	memset(&gd, 0, sizeof(gd));     /* privdata NULL: no client hooks */
	(void)gps_unpack(buf, &gd);

	/* A mode outside 0..3 is left to ing_fix_check()'s value_range. */
	if (!(gd.set & MODE_SET) ||
	    (fix->fix >= 0 && fix->fix <= 3 && gd.fix.mode != fix->fix))
		return unreadable(err, "mode");
	if (!(gd.set & LATLON_SET) || !same(gd.fix.latitude, fix->lat) ||
	    !same(gd.fix.longitude, fix->lon))
		return unreadable(err, "lat/lon");
	fix->lat = gd.fix.latitude;
	fix->lon = gd.fix.longitude;
	t = timespec_us(&gd.fix.time);
	if (!(gd.set & TIME_SET) || t - fix->time_us > 1 ||
	    fix->time_us - t > 1)
		return unreadable(err, "time");

	if (walk.seen & ING_SEEN_SPEED) {
		if (!(gd.set & SPEED_SET))
			return unreadable(err, "speed");
		fix->speed_kmh = gd.fix.speed * 3.6;
		fix->present |= ING_HAS_SPEED;
	}
	if (walk.seen & ING_SEEN_TRACK) {
		if (!(gd.set & TRACK_SET))
			return unreadable(err, "track");
		fix->heading = gd.fix.track;
		fix->present |= ING_HAS_HEADING;
	}
	if (walk.seen & ING_SEEN_ALT) {
		if (isfinite(gd.fix.altMSL))
			fix->alt_m = gd.fix.altMSL;
		else if (isfinite(gd.fix.altitude))
			fix->alt_m = gd.fix.altitude;
		else if (isfinite(gd.fix.altHAE))
			fix->alt_m = gd.fix.altHAE;
		else
			return unreadable(err, "alt");
		fix->present |= ING_HAS_ALT;
	}
	if (walk.seen & ING_SEEN_EPH) {
		if (!isfinite(gd.fix.eph))
			return unreadable(err, "eph");
		fix->eph_m = gd.fix.eph;
		fix->present |= ING_HAS_EPH;
	}

	if (!(walk.seen & ING_SEEN_VEHICLE))
		return ing_vehicle_from_topic(fix, topic, 1, 1,
		                              "vehicle member and no vehicle in "
		                              "the topic", err);
	return ING_REASON_NONE;
}
