/*
 * ing_decode.c - ing_decode(): parse with jansson, pick the format, read the
 * members through a field table, validate (ing_fix_check).
 *
 * How: one json_loadb() per message with JSON_REJECT_DUPLICATES (a key sent
 * twice is ambiguous, and libgps would read the last one), one lookup per
 * table row, json_decref() before returning. No other allocation. Limits:
 * the payload is capped at 64 KiB before parsing, so jansson's tree is
 * bounded (and its nesting depth is capped at 2048 by jansson itself).
 * Unknown members are ignored; JSON null in an optional member reads as
 * absent, in a required member as missing.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "ingest/ingest-internal.h"

#define ROW ING_ROW

/* Native JSON (DESIGN.md "Telemetry in"). "ts" wins over "ts_ms". */
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
};

/* OwnTracks location: vel km/h, cog degrees, acc metres (-> eph_m). */
static const struct ing_field owntracks_fields[] = {
	ROW("tst", ING_K_TIME_S, 0, time_us, 0, ING_SEEN_TIME),
	ROW("lat", ING_K_REAL, ING_F_REQUIRED, lat, 0, 0),
	ROW("lon", ING_K_REAL, ING_F_REQUIRED, lon, 0, 0),
	ROW("vel", ING_K_REAL, 0, speed_kmh, ING_HAS_SPEED, 0),
	ROW("cog", ING_K_REAL, 0, heading, ING_HAS_HEADING, 0),
	ROW("alt", ING_K_REAL, 0, alt_m, ING_HAS_ALT, 0),
	ROW("acc", ING_K_REAL, 0, eph_m, ING_HAS_EPH, 0),
};

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))
_Static_assert(NROWS(native_fields) <= ING_FIELDS_MAX, "native table");
_Static_assert(NROWS(owntracks_fields) <= ING_FIELDS_MAX, "owntracks table");

static enum ing_reason
bad_type(struct ing_error *err, const struct ing_field *f, const char *want)
{
	return ing_err_set(err, ING_REASON_BAD_TYPE, f->name,
	                   "%s must be %s", f->name, want);
}

/* Epoch count in `unit` microseconds -> fix->time_us, saturating so that
 * out-of-range values read as too old / too far ahead, never overflow. */
static void
set_epoch(struct ing_fix *fix, json_int_t v, int64_t unit)
{
	if (v > INT64_MAX / unit)
		fix->time_us = INT64_MAX;
	else if (v < INT64_MIN / unit)
		fix->time_us = INT64_MIN;
	else
		fix->time_us = (int64_t)v * unit;
}

enum ing_reason
ing_fields_read(json_t *obj, const struct ing_field *tab, size_t n,
                struct ing_fix *fix, struct ing_walk *walk,
                struct ing_error *err)
{
	char *base = (char *)fix;
	json_t *vals[ING_FIELDS_MAX] = { NULL };
	const char *key;
	json_t *v;
	size_t i;

	/* One pass over the members, matching names by length then bytes:
	 * cheaper than a hash lookup per row (a tenth of the decode time
	 * on native messages), and unknown members cost a few compares. */
	json_object_foreach(obj, key, v) {
		size_t kl = strlen(key);
		for (i = 0; i < n; i++) {
			if (tab[i].name_len == kl &&
			    memcmp(tab[i].name, key, kl) == 0) {
				vals[i] = v;
				break;
			}
		}
	}

	for (i = 0; i < n; i++) {
		const struct ing_field *f = &tab[i];
		void *dst = base + f->offset;
		const char *s;
		size_t len;
		double d;

		v = vals[i];
		if (!v || json_is_null(v)) {
			if ((f->flags & ING_F_REQUIRED) && !walk->first_missing)
				walk->first_missing = f->name;
			continue;
		}
		switch ((enum ing_kind)f->kind) {
		case ING_K_REAL:
			if (!json_is_number(v))
				return bad_type(err, f, "a number");
			d = json_number_value(v);
			memcpy(dst, &d, sizeof(d));
			break;
		case ING_K_SMALLINT: {
			int iv;
			if (json_is_integer(v)) {
				json_int_t x = json_integer_value(v);
				/* Out-of-int values become -1: value_range. */
				iv = (x < -1000000 || x > 1000000) ? -1 : (int)x;
			} else if (json_is_real(v)) {
				d = json_real_value(v);
				if (d != floor(d))
					return bad_type(err, f, "an integer");
				iv = (d < -1e6 || d > 1e6) ? -1 : (int)d;
			} else {
				return bad_type(err, f, "an integer");
			}
			memcpy(dst, &iv, sizeof(iv));
			break;
		}
		case ING_K_INT64: {
			int64_t x;
			if (!json_is_integer(v))
				return bad_type(err, f, "an integer");
			x = json_integer_value(v);
			memcpy(dst, &x, sizeof(x));
			break;
		}
		case ING_K_BOOL: {
			bool b;
			if (!json_is_boolean(v))
				return bad_type(err, f, "true or false");
			b = json_is_true(v);
			memcpy(dst, &b, sizeof(b));
			break;
		}
		case ING_K_CARGO:
			if (!json_is_string(v))
				return bad_type(err, f, "a string");
			len = json_string_length(v);
			if (len == 0)
				continue;       /* "" = no cargo declared */
			if (len > ING_CARGO_MAX)
				return ing_err_set(err, ING_REASON_CARGO_FORMAT,
				                   f->name,
				                   "%s is %zu bytes, over %d",
				                   f->name, len, ING_CARGO_MAX);
			memcpy(dst, json_string_value(v), len);
			((char *)dst)[len] = '\0';
			break;
		case ING_K_VEHICLE: {
			enum ing_reason r;
			if (!json_is_string(v))
				return bad_type(err, f, "a string");
			r = ing_fix_set_vehicle(fix, json_string_value(v),
			                        json_string_length(v), err);
			if (r != ING_REASON_NONE)
				return r;
			break;
		}
		case ING_K_TIME_RFC3339:
			if (walk->seen & ING_SEEN_TIME)
				continue;
			if (!json_is_string(v))
				return bad_type(err, f, "an RFC 3339 string");
			s = json_string_value(v);
			len = json_string_length(v);
			if (ing_time_parse(s, len, &fix->time_us) != 0)
				return ing_err_set(err, ING_REASON_TIME_FORMAT,
				                   f->name,
				                   "%s is not an RFC 3339 time",
				                   f->name);
			break;
		case ING_K_TIME_MS:
		case ING_K_TIME_S:
			if (walk->seen & ING_SEEN_TIME)
				continue;
			if (!json_is_integer(v))
				return bad_type(err, f, "an integer");
			set_epoch(fix, json_integer_value(v),
			          f->kind == ING_K_TIME_MS ? 1000 : 1000000);
			break;
		case ING_K_CHECK_NUMBER:
			if (!json_is_number(v))
				return bad_type(err, f, "a number");
			break;
		case ING_K_CHECK_STRING:
			if (!json_is_string(v))
				return bad_type(err, f, "a string");
			break;
		}
		fix->present |= f->present;
		walk->seen |= f->seen;
	}
	return ING_REASON_NONE;
}

/* After a walk: no_fix first (a tracker without a fix often sends no
 * position at all), then the first missing required member, then time. */
static enum ing_reason
walk_finish(const struct ing_fix *fix, const struct ing_walk *walk,
            const char *time_name, struct ing_error *err)
{
	if ((fix->present & ING_HAS_FIX) && (fix->fix == 0 || fix->fix == 1))
		return ing_fix_check(fix, 0, err);      /* reports no_fix */
	if (walk->first_missing)
		return ing_err_set(err, ING_REASON_MISSING_FIELD,
		                   walk->first_missing, "%s is missing",
		                   walk->first_missing);
	if (!(walk->seen & ING_SEEN_TIME))
		return ing_err_set(err, ING_REASON_MISSING_FIELD, time_name,
		                   "%s is missing", time_name);
	return ING_REASON_NONE;
}

enum ing_reason
ing_native_read(json_t *obj, const char *topic, struct ing_fix *fix,
                struct ing_error *err)
{
	struct ing_walk walk = { 0, NULL };
	enum ing_reason r;

	fix->format = ING_FORMAT_NATIVE;
	r = ing_fields_read(obj, native_fields, NROWS(native_fields), fix,
	                    &walk, err);
	if (r == ING_REASON_NONE)
		r = walk_finish(fix, &walk, "ts", err);
	if (r == ING_REASON_NONE && !(walk.seen & ING_SEEN_VEHICLE))
		r = ing_vehicle_from_topic(fix, topic, 1,
		                           "vehicle member and no vehicle in the "
		                           "topic", err);
	return r;
}

static enum ing_result
owntracks_read(json_t *obj, const char *topic, struct ing_fix *fix,
               struct ing_error *err)
{
	struct ing_walk walk = { 0, NULL };
	json_t *type = json_object_get(obj, "_type");
	enum ing_reason r;

	fix->format = ING_FORMAT_OWNTRACKS;
	if (!type || json_is_null(type)) {
		ing_err_set(err, ING_REASON_MISSING_FIELD, "_type",
		            "_type is missing");
		return ING_REJECTED;
	}
	if (!json_is_string(type)) {
		ing_err_set(err, ING_REASON_BAD_TYPE, "_type",
		            "_type must be a string");
		return ING_REJECTED;
	}
	if (strcmp(json_string_value(type), "location") != 0) {
		/* Waypoints, transitions, lwt, cards ...: not positions. */
		ing_err_set(err, ING_REASON_NONE, "_type",
		            "OwnTracks _type \"%.40s\" is not a location",
		            json_string_value(type));
		return ING_IGNORED;
	}
	r = ing_fields_read(obj, owntracks_fields, NROWS(owntracks_fields), fix,
	                    &walk, err);
	if (r == ING_REASON_NONE)
		r = walk_finish(fix, &walk, "tst", err);
	if (r == ING_REASON_NONE)
		r = ing_vehicle_from_topic(fix, topic, 2,
		                           "device (owntracks/<user>/<device>)",
		                           err);
	return r == ING_REASON_NONE ? ING_OK : ING_REJECTED;
}

/* AUTO: gpsd's TPV is told apart by its class member. */
static bool
is_tpv(json_t *obj)
{
	json_t *c = json_object_get(obj, "class");

	return json_is_string(c) && strcmp(json_string_value(c), "TPV") == 0;
}

enum ing_result
ing_decode(const char *topic, const void *payload, size_t len,
           enum ing_format format, int64_t now_us, struct ing_fix *fix,
           struct ing_error *err)
{
	struct ing_error scratch;
	json_error_t jerr;
	json_t *root = NULL;
	enum ing_result res = ING_REJECTED;
	enum ing_reason r;

	if (!err)
		err = &scratch;
	memset(fix, 0, sizeof(*fix));
	err->reason = ING_REASON_NONE;
	err->field = NULL;
	err->message[0] = '\0';

	if (len > ING_PAYLOAD_MAX) {
		ing_err_set(err, ING_REASON_TOO_LARGE, NULL,
		            "payload is %zu bytes, over %d", len,
		            ING_PAYLOAD_MAX);
		goto done;
	}
	if (!payload)
		payload = "";
	root = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		ing_err_set(err, ING_REASON_NOT_JSON, NULL,
		            "not JSON: %s (byte %d)", jerr.text, jerr.position);
		goto done;
	}
	if (!json_is_object(root)) {
		ing_err_set(err, ING_REASON_NOT_OBJECT, NULL,
		            "JSON is not an object");
		goto done;
	}

	if (format == ING_FORMAT_AUTO)
		format = is_tpv(root) ? ING_FORMAT_TPV : ING_FORMAT_NATIVE;
	switch (format) {
	case ING_FORMAT_OWNTRACKS:
		res = owntracks_read(root, topic, fix, err);
		if (res != ING_OK)
			goto done;
		r = ING_REASON_NONE;
		break;
	case ING_FORMAT_TPV:
		r = ing_tpv_read(root, payload, len, topic, fix, err);
		break;
	case ING_FORMAT_NATIVE:
	case ING_FORMAT_AUTO:
	default:
		r = ing_native_read(root, topic, fix, err);
		break;
	}
	if (r == ING_REASON_NONE)
		r = ing_fix_check(fix, now_us, err);
	res = r == ING_REASON_NONE ? ING_OK : ING_REJECTED;

done:
	json_decref(root);
	return res;
}
