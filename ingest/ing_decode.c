/*
 * ing_decode.c - ing_decode(): check the text, parse with cJSON, pick the
 * format, read the members through a field table, validate (ing_fix_check).
 *
 * Why cJSON: decoding was a third of the gateway's CPU per message with
 * jansson (3.0 us for a 200-byte native payload here; cJSON 0.93 us, json-c
 * 2.2 us: bench/bench_ingest and issue 4's rule to reopen the choice). cJSON
 * is more lenient than jansson, so what jansson refused is refused here
 * before or after the parse, with the same reason (not_json):
 *   - the text (json_text_check): valid UTF-8 throughout (RFC 8259 JSON is
 *     UTF-8), no control character but tab, CR and LF, no NUL byte and no
 *     \u0000 escape (cJSON keeps C strings: "A\u0000B" would read "A");
 *   - after the value only whitespace (cJSON stops at the value's end);
 *   - a member of the format's table sent twice (ing_fields_read): a key
 *     sent twice is ambiguous, and libgps would read the last one. Other
 *     members are ignored, and so are their duplicates.
 * Numbers are doubles (cJSON keeps no integer type): an "integer" member
 * takes any integral value ("fix":3.0 reads as 3), a too large literal is
 * infinite and fails its range check, and digits beyond a double's 53 bits
 * are rounded (seq above 2^53). cJSON's number syntax also lets through a
 * leading zero or a bare trailing dot ("01", "1."), read as their value.
 *
 * How: one cJSON_ParseWithLengthOpts() per message, one pass over the
 * members per table, cJSON_Delete() before returning. No other allocation.
 * Limits: the payload is capped at 64 KiB before parsing, so cJSON's tree is
 * bounded, and its nesting depth at CJSON_NESTING_LIMIT (1000). cJSON keeps
 * its last parse error in a static of its own (never read here): ingest is
 * reentrant, cJSON's bookkeeping is not, which single-threaded callers (all
 * of ours) need not mind. JSON null in an optional member reads as absent,
 * in a required member as missing.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
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

/* An integral number -> *out, saturating at the int64 range; false when
 * the member is not a number with an integral value. */
static bool
integral(const cJSON *v, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!isfinite(d)) {
		if (isnan(d))
			return false;
		*out = d > 0 ? INT64_MAX : INT64_MIN;
		return true;
	}
	if (d != floor(d))
		return false;
	if (d >= 9223372036854775807.0)
		*out = INT64_MAX;
	else if (d <= -9223372036854775808.0)
		*out = INT64_MIN;
	else
		*out = (int64_t)d;
	return true;
}

/* Epoch count in `unit` microseconds -> fix->time_us, saturating so that
 * out-of-range values read as too old / too far ahead, never overflow. */
static void
set_epoch(struct ing_fix *fix, int64_t v, int64_t unit)
{
	if (v > INT64_MAX / unit)
		fix->time_us = INT64_MAX;
	else if (v < INT64_MIN / unit)
		fix->time_us = INT64_MIN;
	else
		fix->time_us = v * unit;
}

enum ing_reason
ing_fields_read(const cJSON *obj, const struct ing_field *tab, size_t n,
                struct ing_fix *fix, struct ing_walk *walk,
                struct ing_error *err)
{
	char *base = (char *)fix;
	const cJSON *vals[ING_FIELDS_MAX] = { NULL };
	const cJSON *v;
	size_t i;

	/* One pass over the members, matching names by length then bytes;
	 * unknown members cost a few compares. */
	for (v = obj->child; v; v = v->next) {
		size_t kl = strlen(v->string);
		for (i = 0; i < n; i++) {
			if (tab[i].name_len != kl ||
			    memcmp(tab[i].name, v->string, kl) != 0)
				continue;
			if (vals[i])
				return ing_err_set(err, ING_REASON_NOT_JSON,
				                   tab[i].name,
				                   "not JSON: member %s twice",
				                   tab[i].name);
			vals[i] = v;
			break;
		}
	}

	for (i = 0; i < n; i++) {
		const struct ing_field *f = &tab[i];
		void *dst = base + f->offset;
		const char *s;
		size_t len;
		double d;

		v = vals[i];
		if (!v || cJSON_IsNull(v)) {
			if ((f->flags & ING_F_REQUIRED) && !walk->first_missing)
				walk->first_missing = f->name;
			continue;
		}
		switch ((enum ing_kind)f->kind) {
		case ING_K_REAL:
			if (!cJSON_IsNumber(v))
				return bad_type(err, f, "a number");
			d = v->valuedouble;
			memcpy(dst, &d, sizeof(d));
			break;
		case ING_K_SMALLINT: {
			int64_t x;
			int iv;
			if (!integral(v, &x))
				return bad_type(err, f, "an integer");
			/* Out-of-int values become -1: value_range. */
			iv = (x < -1000000 || x > 1000000) ? -1 : (int)x;
			memcpy(dst, &iv, sizeof(iv));
			break;
		}
		case ING_K_INT64: {
			int64_t x;
			if (!integral(v, &x))
				return bad_type(err, f, "an integer");
			memcpy(dst, &x, sizeof(x));
			break;
		}
		case ING_K_BOOL: {
			bool b;
			if (!cJSON_IsBool(v))
				return bad_type(err, f, "true or false");
			b = cJSON_IsTrue(v);
			memcpy(dst, &b, sizeof(b));
			break;
		}
		case ING_K_CARGO:
			if (!cJSON_IsString(v))
				return bad_type(err, f, "a string");
			len = strlen(v->valuestring);
			if (len == 0)
				continue;       /* "" = no cargo declared */
			if (len > ING_CARGO_MAX)
				return ing_err_set(err, ING_REASON_CARGO_FORMAT,
				                   f->name,
				                   "%s is %zu bytes, over %d",
				                   f->name, len, ING_CARGO_MAX);
			memcpy(dst, v->valuestring, len);
			((char *)dst)[len] = '\0';
			break;
		case ING_K_VEHICLE: {
			enum ing_reason r;
			if (!cJSON_IsString(v))
				return bad_type(err, f, "a string");
			r = ing_fix_set_vehicle(fix, v->valuestring,
			                        strlen(v->valuestring), err);
			if (r != ING_REASON_NONE)
				return r;
			break;
		}
		case ING_K_TIME_RFC3339:
			if (walk->seen & ING_SEEN_TIME)
				continue;
			if (!cJSON_IsString(v))
				return bad_type(err, f, "an RFC 3339 string");
			s = v->valuestring;
			len = strlen(s);
			if (ing_time_parse(s, len, &fix->time_us) != 0)
				return ing_err_set(err, ING_REASON_TIME_FORMAT,
				                   f->name,
				                   "%s is not an RFC 3339 time",
				                   f->name);
			break;
		case ING_K_TIME_MS:
		case ING_K_TIME_S: {
			int64_t x;
			if (walk->seen & ING_SEEN_TIME)
				continue;
			if (!integral(v, &x))
				return bad_type(err, f, "an integer");
			set_epoch(fix, x, f->kind == ING_K_TIME_MS ? 1000 : 1000000);
			break;
		}
		case ING_K_CHECK_NUMBER:
			if (!cJSON_IsNumber(v))
				return bad_type(err, f, "a number");
			break;
		case ING_K_CHECK_STRING:
			if (!cJSON_IsString(v))
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
ing_native_read(const cJSON *obj, const char *topic, struct ing_fix *fix,
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

static enum ing_result
owntracks_read(const cJSON *obj, const char *topic, struct ing_fix *fix,
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
is_tpv(const cJSON *obj)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, "class");

	return cJSON_IsString(c) && strcmp(c->valuestring, "TPV") == 0;
}

/*
 * What cJSON would let through but JSON (and jansson) does not, checked on
 * the raw text: invalid UTF-8, a control character other than tab, LF and
 * CR (NUL included), and the \u0000 escape. One pass; outside strings a
 * backslash is a syntax error cJSON reports anyway, so skipping the byte
 * after every backslash reads escapes exactly. Returns ING_REASON_NONE or
 * not_json with the byte offset.
 */
static enum ing_reason
json_text_check(const unsigned char *s, size_t n, struct ing_error *err)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], cp;
		size_t k;

		if (c >= 0x20 && c < 0x80 && c != '\\') {
			i++;
			continue;
		}
		if (c == '\\') {
			if (i + 5 < n && s[i + 1] == 'u' && s[i + 2] == '0' &&
			    s[i + 3] == '0' && s[i + 4] == '0' && s[i + 5] == '0')
				return ing_err_set(err, ING_REASON_NOT_JSON, NULL,
				                   "not JSON: \\u0000 in a string "
				                   "(byte %zu)", i);
			i += 2;
			continue;
		}
		if (c < 0x20) {
			if (c == '\t' || c == '\n' || c == '\r') {
				i++;
				continue;
			}
			return ing_err_set(err, ING_REASON_NOT_JSON, NULL,
			                   "not JSON: control character 0x%02x "
			                   "(byte %zu)", c, i);
		}
		k = ing_utf8_seq(s + i, n - i, &cp);
		if (k == 0)
			return ing_err_set(err, ING_REASON_NOT_JSON, NULL,
			                   "not JSON: invalid UTF-8 (byte %zu)", i);
		i += k;
	}
	return ING_REASON_NONE;
}

/* Parse the whole of payload[0..len) as one JSON value; NULL (err set) if
 * it is not one, or is followed by anything but whitespace. */
static cJSON *
parse(const char *payload, size_t len, struct ing_error *err)
{
	const char *end = NULL;
	cJSON *root;

	if (json_text_check((const unsigned char *)payload, len, err) !=
	    ING_REASON_NONE)
		return NULL;
	root = cJSON_ParseWithLengthOpts(payload, len, &end, false);
	if (!root) {
		size_t at = end && end >= payload ? (size_t)(end - payload) : 0;

		if (len == 0)
			ing_err_set(err, ING_REASON_NOT_JSON, NULL,
			            "not JSON: empty payload");
		else
			ing_err_set(err, ING_REASON_NOT_JSON, NULL,
			            "not JSON: syntax error (or out of memory) "
			            "near byte %zu", at);
		return NULL;
	}
	for (; end < payload + len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
			ing_err_set(err, ING_REASON_NOT_JSON, NULL,
			            "not JSON: text after the value (byte %zu)",
			            (size_t)(end - payload));
			cJSON_Delete(root);
			return NULL;
		}
	}
	return root;
}

enum ing_result
ing_decode(const char *topic, const void *payload, size_t len,
           enum ing_format format, int64_t now_us, struct ing_fix *fix,
           struct ing_error *err)
{
	struct ing_error scratch;
	cJSON *root = NULL;
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
	root = parse(payload, len, err);
	if (!root)
		goto done;
	if (!cJSON_IsObject(root) && !cJSON_IsArray(root)) {
		ing_err_set(err, ING_REASON_NOT_JSON, NULL,
		            "not JSON: a bare scalar, not an object");
		goto done;
	}
	if (!cJSON_IsObject(root)) {
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
	cJSON_Delete(root);
	return res;
}
