/*
 * ing_native.c - hazgate's native JSON (DESIGN.md "Telemetry in"): one
 * field table, read by the walker, then the vehicle from the topic when
 * the payload names none (tankers/<vehicle>/telemetry).
 *
 * "ts" (RFC 3339) wins over "ts_ms" (integer milliseconds); "hdop" is the
 * dimensionless DOP; cargo strings "" mean none declared. "alarms" is a
 * list of the terminal's alarm names (DESIGN.md "hazgate-jt808"), read
 * into a bit mask; a name hazgate does not know is ignored, so a newer
 * publisher's alarm costs no position (and no SOS beside it).
 * "positioned": false says the fix is no position, only alarms at the last
 * known place (ing_fix_positioned). Range checks
 * are ing_fix_check()'s, run by ing_decode() after this.
 */
#include <stddef.h>

#include "ingest/ingest-internal.h"

#define ROW ING_ROW

static const struct ing_field native_fields[] = {
	ROW("vehicle", ING_K_VEHICLE, 0, vehicle, 0, ING_SEEN_VEHICLE),
	ROW("ts", ING_K_TIME_RFC3339, 0, time_us, 0, ING_SEEN_TIME),
	ROW("ts_ms", ING_K_TIME_MS, 0, time_us, 0, ING_SEEN_TIME),
	ROW("lat", ING_K_REAL, ING_F_REQUIRED, lat, 0, 0),
	ROW("lon", ING_K_REAL, ING_F_REQUIRED, lon, 0, 0),
	ROW("speed_kmh", ING_K_REAL, 0, speed_kmh, ING_HAS_SPEED, 0),
	ROW("heading", ING_K_REAL, 0, heading, ING_HAS_HEADING, 0),
	ROW("alt_m", ING_K_REAL, 0, alt_m, ING_HAS_ALT, 0),
	ROW("hdop", ING_K_REAL, 0, hdop, ING_HAS_HDOP, 0),
	ROW("fix", ING_K_SMALLINT, 0, fix, ING_HAS_FIX, 0),
	ROW("sats", ING_K_SMALLINT, 0, sats, ING_HAS_SATS, 0),
	ROW("un", ING_K_CARGO, 0, un, ING_HAS_UN, 0),
	ROW("hazard_class", ING_K_CARGO, 0, hazard_class, ING_HAS_HAZARD_CLASS,
	    0),
	ROW("seq", ING_K_INT64, 0, seq, ING_HAS_SEQ, 0),
	ROW("ignition", ING_K_BOOL, 0, ignition, ING_HAS_IGNITION, 0),
	ROW("alarms", ING_K_ALARMS, 0, alarms, ING_HAS_ALARMS, 0),
	ROW("positioned", ING_K_BOOL, 0, positioned, ING_HAS_POSITIONED, 0),
};

#define NROWS (sizeof(native_fields) / sizeof(native_fields[0]))
_Static_assert(NROWS <= ING_FIELDS_MAX, "native table");

enum ing_reason
ing_native_read(const cJSON *obj, const char *topic, struct ing_fix *fix,
                struct ing_error *err)
{
	struct ing_walk walk = { 0, NULL };
	enum ing_reason r;

	fix->format = ING_FORMAT_NATIVE;
	r = ing_fields_read(obj, native_fields, NROWS, fix, &walk, err);
	if (r == ING_REASON_NONE)
		r = ing_walk_finish(fix, &walk, "ts", err);
	if (r == ING_REASON_NONE && !(walk.seen & ING_SEEN_VEHICLE))
		r = ing_vehicle_from_topic(fix, topic, 1, 1,
		                           "vehicle member and no vehicle in the "
		                           "topic", err);
	return r;
}
