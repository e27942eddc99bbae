/*
 * ing_owntracks.c - OwnTracks location messages on owntracks/<user>/<device>.
 *
 * Only "_type":"location" is a position; every other _type (waypoints,
 * transitions, lwt, cards ...) is ING_IGNORED, counted by the caller and
 * not stored as a reject. The vehicle is the topic's user and device
 * levels joined by ':' (owntracks/jane/iphone -> "jane:iphone"): the
 * device alone would make every user's "iphone" (or every Android phone
 * of one model: its default device name is the hardware codename) one
 * vehicle. The `tid` member (two letters shown on the map) is not the
 * vehicle. A configured device-to-vehicle mapping is the caller's
 * (ing_fix_set_vehicle). Units: vel km/h, cog degrees (-> heading), acc
 * metres (-> eph_m, not a DOP), tst integer seconds. The apps send
 * "vel":-1 and "cog":-1 for unknown (OwnTracks' own code reads a negative
 * speed so): a finite negative vel or cog is absent, not a reject.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "ingest/ingest-internal.h"

#define ROW ING_ROW

static const struct ing_field owntracks_fields[] = {
	ROW("tst", ING_K_TIME_S, 0, time_us, 0, ING_SEEN_TIME),
	ROW("lat", ING_K_REAL, ING_F_REQUIRED, lat, 0, 0),
	ROW("lon", ING_K_REAL, ING_F_REQUIRED, lon, 0, 0),
	ROW("vel", ING_K_REAL, 0, speed_kmh, ING_HAS_SPEED, 0),
	ROW("cog", ING_K_REAL, 0, heading, ING_HAS_HEADING, 0),
	ROW("alt", ING_K_REAL, 0, alt_m, ING_HAS_ALT, 0),
	ROW("acc", ING_K_REAL, 0, eph_m, ING_HAS_EPH, 0),
};

#define NROWS (sizeof(owntracks_fields) / sizeof(owntracks_fields[0]))
_Static_assert(NROWS <= ING_FIELDS_MAX, "owntracks table");

/* The member `name`, or NULL; a name sent twice is not_json (err set). */
static const cJSON *
member_once(const cJSON *obj, const char *name, bool *twice,
            struct ing_error *err)
{
	const cJSON *v, *found = NULL;

	*twice = false;
	for (v = obj->child; v; v = v->next) {
		if (strcmp(v->string, name) != 0)
			continue;
		if (found) {
			*twice = true;
			ing_err_set(err, ING_REASON_NOT_JSON, name,
			            "not JSON: member %s twice", name);
			return NULL;
		}
		found = v;
	}
	return found;
}

enum ing_result
ing_owntracks_read(const cJSON *obj, const char *topic, struct ing_fix *fix,
                   struct ing_error *err)
{
	struct ing_walk walk = { 0, NULL };
	bool twice;
	const cJSON *type = member_once(obj, "_type", &twice, err);
	enum ing_reason r;

	fix->format = ING_FORMAT_OWNTRACKS;
	if (twice)
		return ING_REJECTED;
	if (!type || cJSON_IsNull(type)) {
		ing_err_set(err, ING_REASON_MISSING_FIELD, "_type",
		            "_type is missing");
		return ING_REJECTED;
	}
	if (!cJSON_IsString(type)) {
		ing_err_set(err, ING_REASON_BAD_TYPE, "_type",
		            "_type must be a string");
		return ING_REJECTED;
	}
	if (strcmp(type->valuestring, "location") != 0) {
		/* Waypoints, transitions, lwt, cards ...: not positions. */
		ing_err_set(err, ING_REASON_NONE, "_type",
		            "OwnTracks _type \"%.40s\" is not a location",
		            type->valuestring);
		return ING_IGNORED;
	}
	r = ing_fields_read(obj, owntracks_fields, NROWS, fix, &walk, err);
	if (r == ING_REASON_NONE)
		r = ing_walk_finish(fix, &walk, "tst", err);
	if (r == ING_REASON_NONE)
		r = ing_vehicle_from_topic(fix, topic, 1, 2,
		                           "user and device "
		                           "(owntracks/<user>/<device>)", err);
	if (r != ING_REASON_NONE)
		return ING_REJECTED;
	/* -1 is the apps' "unknown"; -inf (a literal beyond a double) is
	 * left to the range check. */
	if ((fix->present & ING_HAS_SPEED) && isfinite(fix->speed_kmh) &&
	    fix->speed_kmh < 0.0) {
		fix->present &= ~(unsigned)ING_HAS_SPEED;
		fix->speed_kmh = 0.0;
	}
	if ((fix->present & ING_HAS_HEADING) && isfinite(fix->heading) &&
	    fix->heading < 0.0) {
		fix->present &= ~(unsigned)ING_HAS_HEADING;
		fix->heading = 0.0;
	}
	return ING_OK;
}
