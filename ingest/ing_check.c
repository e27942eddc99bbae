/*
 * ing_check.c - validation shared by every format: vehicle names (UTF-8,
 * control characters, MQTT wildcards), topic levels, and the range checks
 * of a decoded fix (ing_fix_check).
 *
 * A vehicle name ends up in MQTT topics (hazgate/alerts/<vehicle>), SQL
 * text columns and log lines, hence the strict rules: valid UTF-8 (no
 * overlong forms, no surrogates, nothing above U+10FFFF), no C0/C1 control
 * characters or DEL, no '+', '#' (wildcards) or '/' (level separator).
 */
#include <math.h>
#include <string.h>

#include "ingest/ingest-internal.h"

/*
 * Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid; sets *cp.
 * Follows the Unicode table of well-formed byte sequences (Table 3-7).
 */
size_t
ing_utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	size_t len, k;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;       /* no overlong */
		else if (c == 0xed)
			hi = 0x9f;       /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;       /* <= U+10FFFF */
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		unsigned b = s[k];
		if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf))
			return 0;
		*cp = (*cp << 6) | (b & 0x3f);
	}
	return len;
}

enum ing_reason
ing_vehicle_check(const char *name, size_t len, struct ing_error *err)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i = 0;

	if (!name || len == 0)
		return ing_err_set(err, ING_REASON_VEHICLE_EMPTY, "vehicle",
		                   "vehicle is empty");
	if (len > ING_VEHICLE_MAX)
		return ing_err_set(err, ING_REASON_VEHICLE_LONG, "vehicle",
		                   "vehicle is %zu bytes, over %d", len,
		                   ING_VEHICLE_MAX);
	while (i < len) {
		unsigned cp;
		size_t k = ing_utf8_seq(s + i, len - i, &cp);

		if (k == 0)
			return ing_err_set(err, ING_REASON_VEHICLE_UTF8, "vehicle",
			                   "vehicle is not valid UTF-8 (byte %zu)",
			                   i);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			return ing_err_set(err, ING_REASON_VEHICLE_CONTROL,
			                   "vehicle",
			                   "vehicle has control character U+%04X "
			                   "at byte %zu", cp, i);
		if (cp == '+' || cp == '#' || cp == '/')
			return ing_err_set(err, ING_REASON_VEHICLE_WILDCARD,
			                   "vehicle",
			                   "vehicle has '%c' (MQTT wildcard or "
			                   "level separator) at byte %zu",
			                   (char)cp, i);
		i += k;
	}
	return ING_REASON_NONE;
}

enum ing_reason
ing_fix_set_vehicle(struct ing_fix *fix, const char *name, size_t len,
                    struct ing_error *err)
{
	enum ing_reason r = ing_vehicle_check(name, len, err);

	if (r != ING_REASON_NONE)
		return r;
	memcpy(fix->vehicle, name, len);
	fix->vehicle[len] = '\0';
	return ING_REASON_NONE;
}

enum ing_reason
ing_vehicle_from_topic(struct ing_fix *fix, const char *topic, unsigned level,
                       unsigned nlevels, const char *what,
                       struct ing_error *err)
{
	char name[ING_VEHICLE_MAX + 1];
	const char *p = topic, *end;
	size_t len = 0, n;
	unsigned l;
	enum ing_reason r;

	if (!topic)
		return ing_err_set(err, ING_REASON_MISSING_FIELD, "vehicle",
		                   "no %s: no topic", what);
	for (l = 0; l < level + nlevels; l++) {
		if (l > 0) {
			p = strchr(p, '/');
			if (!p)
				return ing_err_set(err, ING_REASON_MISSING_FIELD,
				                   "vehicle",
				                   "no %s: topic has no level %u",
				                   what, l + 1);
			p++;
		}
		if (l < level)
			continue;
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		/* An empty level would leave a name with a bare separator. */
		if (n == 0)
			return ing_err_set(err, ING_REASON_VEHICLE_EMPTY, "vehicle",
			                   "vehicle is empty (topic level %u)",
			                   l + 1);
		if (l > level) {
			if (len < ING_VEHICLE_MAX)
				name[len] = ING_VEHICLE_JOIN;
			len++;
		}
		if (len + n <= ING_VEHICLE_MAX)
			memcpy(name + len, p, n);
		len += n;   /* past ING_VEHICLE_MAX, only counted */
	}
	if (len > ING_VEHICLE_MAX)
		return ing_err_set(err, ING_REASON_VEHICLE_LONG, "vehicle",
		                   "vehicle is %zu bytes, over %d", len,
		                   ING_VEHICLE_MAX);
	r = ing_fix_set_vehicle(fix, name, len, err);
	if (r != ING_REASON_NONE)
		return r;
	fix->present |= ING_VEHICLE_FROM_TOPIC;
	return ING_REASON_NONE;
}

enum ing_reason
ing_cargo_check(const char *s, const char *field, struct ing_error *err)
{
	size_t i, n = strnlen(s, ING_CARGO_MAX + 1);

	if (n == 0 || n > ING_CARGO_MAX)
		return ing_err_set(err, ING_REASON_CARGO_FORMAT, field,
		                   "%s must be 1..%d bytes", field,
		                   ING_CARGO_MAX);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f)
			return ing_err_set(err, ING_REASON_CARGO_FORMAT, field,
			                   "%s must be printable ASCII without "
			                   "spaces", field);
	}
	return ING_REASON_NONE;
}

/* Member names per format, so that a message names what the sender sent. */
struct names {
	const char *time, *speed, *heading, *fix, *alt, *eph;
};

static const struct names format_members[] = {
	[ING_FORMAT_NATIVE] = { "ts", "speed_kmh", "heading", "fix", "alt_m",
	                        "eph" },
	[ING_FORMAT_TPV] = { "time", "speed", "track", "mode", "altMSL", "eph" },
	[ING_FORMAT_OWNTRACKS] = { "tst", "vel", "cog", "fix", "alt", "acc" },
	[ING_FORMAT_AUTO] = { "ts", "speed_kmh", "heading", "fix", "alt_m",
	                      "eph" },
};

enum ing_reason
ing_fix_check(const struct ing_fix *fix, int64_t now_us, struct ing_error *err)
{
	enum ing_reason r;
	unsigned has = fix->present;
	const struct names *nm = &format_members[
		(unsigned)fix->format <= ING_FORMAT_AUTO ? fix->format
		                                         : ING_FORMAT_NATIVE];

	if ((has & ING_HAS_FIX) && (fix->fix == 0 || fix->fix == 1))
		return ing_err_set(err, ING_REASON_NO_FIX, nm->fix,
		                   "no fix (%s %d)", nm->fix, fix->fix);

	r = ing_vehicle_check(fix->vehicle,
	                      strnlen(fix->vehicle, sizeof(fix->vehicle)), err);
	if (r != ING_REASON_NONE)
		return r;

	if (fix->time_us < ING_EPOCH_2000_US)
		return ing_err_set(err, ING_REASON_TIME_OLD, nm->time,
		                   "%s %lld us is before 2000-01-01", nm->time,
		                   (long long)fix->time_us);
	/* now_us + slack, without overflow for any now_us. */
	if (now_us <= INT64_MAX - ING_FUTURE_SLACK_US &&
	    fix->time_us > now_us + ING_FUTURE_SLACK_US)
		return ing_err_set(err, ING_REASON_TIME_FUTURE, nm->time,
		                   "%s is %llu s ahead of now (max 300)", nm->time,
		                   /* time_us > now_us: the difference fits in
		                    * uint64_t even when int64_t would overflow */
		                   (unsigned long long)(((uint64_t)fix->time_us -
		                                         (uint64_t)now_us) /
		                                        1000000u));

	if (!isfinite(fix->lat) || fix->lat < -90.0 || fix->lat > 90.0)
		return ing_err_set(err, ING_REASON_LAT_RANGE, "lat",
		                   "lat %g outside -90..90", fix->lat);
	if (!isfinite(fix->lon) || fix->lon < -180.0 || fix->lon > 180.0)
		return ing_err_set(err, ING_REASON_LON_RANGE, "lon",
		                   "lon %g outside -180..180", fix->lon);
	if ((has & ING_HAS_SPEED) &&
	    (!isfinite(fix->speed_kmh) || fix->speed_kmh < 0.0 ||
	     fix->speed_kmh > ING_SPEED_MAX_KMH))
		return ing_err_set(err, ING_REASON_SPEED_RANGE, nm->speed,
		                   "%s %g km/h outside 0..300", nm->speed,
		                   fix->speed_kmh);
	if ((has & ING_HAS_HEADING) &&
	    (!isfinite(fix->heading) || fix->heading < 0.0 ||
	     fix->heading > 360.0))
		return ing_err_set(err, ING_REASON_HEADING_RANGE, nm->heading,
		                   "%s %g outside 0..360", nm->heading,
		                   fix->heading);

	if ((has & ING_HAS_FIX) && (fix->fix < 0 || fix->fix > 3))
		return ing_err_set(err, ING_REASON_VALUE_RANGE, nm->fix,
		                   "%s %d outside 0..3", nm->fix, fix->fix);
	if ((has & ING_HAS_ALT) && (!isfinite(fix->alt_m) ||
	                            fix->alt_m < -20000.0 ||
	                            fix->alt_m > 100000.0))
		return ing_err_set(err, ING_REASON_VALUE_RANGE, nm->alt,
		                   "%s %g m outside -20000..100000", nm->alt,
		                   fix->alt_m);
	if ((has & ING_HAS_HDOP) && (!isfinite(fix->hdop) || fix->hdop < 0.0))
		return ing_err_set(err, ING_REASON_VALUE_RANGE, "hdop",
		                   "hdop %g is negative or not finite",
		                   fix->hdop);
	if ((has & ING_HAS_EPH) && (!isfinite(fix->eph_m) || fix->eph_m < 0.0))
		return ing_err_set(err, ING_REASON_VALUE_RANGE, nm->eph,
		                   "%s %g m is negative or not finite", nm->eph,
		                   fix->eph_m);
	if ((has & ING_HAS_SATS) && (fix->sats < 0 || fix->sats > 255))
		return ing_err_set(err, ING_REASON_VALUE_RANGE, "sats",
		                   "sats %d outside 0..255", fix->sats);
	if ((has & ING_HAS_SEQ) && fix->seq < 0)
		return ing_err_set(err, ING_REASON_VALUE_RANGE, "seq",
		                   "seq %lld is negative", (long long)fix->seq);

	if (has & ING_HAS_UN) {
		r = ing_cargo_check(fix->un, "un", err);
		if (r != ING_REASON_NONE)
			return r;
	}
	if (has & ING_HAS_HAZARD_CLASS) {
		r = ing_cargo_check(fix->hazard_class, "hazard_class", err);
		if (r != ING_REASON_NONE)
			return r;
	}
	return ING_REASON_NONE;
}
