/*
 * ingest.h - decode and validate tracker telemetry (pure: no I/O, no clock).
 *
 * One call, ing_decode(), turns an MQTT message (topic + raw payload bytes)
 * into a struct ing_fix or says why it cannot be used. Three wire formats
 * (DESIGN.md "Telemetry in"): hazgate native JSON, OwnTracks location JSON,
 * and gpsd TPV JSON (decoded with libgps's own gps_unpack()). "now" is an
 * argument, so the daemon and `hazgate-ctl replay` decide identically.
 *
 * Memory: no allocation beyond cJSON's own parse tree, which is released
 * before ing_decode() returns. The decoded fix and the error are plain
 * values the caller owns (fixed-size, inline strings). The structs below are
 * public on purpose: they are values that cross every module boundary
 * (like gpsd's struct gps_fix_t), not objects with hidden state.
 *
 * Thread safety: reentrant; no statics of ours. cJSON records its last
 * parse error in a static of its own (never read by ingest), so threads
 * decoding at once would race on that bookkeeping only.
 */
#ifndef HAZGATE_INGEST_H
#define HAZGATE_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits (DESIGN.md). */
#define ING_VEHICLE_MAX   32            /* bytes of UTF-8, without the NUL */
#define ING_CARGO_MAX     7             /* bytes of `un` / `hazard_class` */
#define ING_PAYLOAD_MAX   65536         /* larger payloads: too_large */
#define ING_TPV_MAX       8192          /* libgps's own response buffer size */
#define ING_FUTURE_SLACK_US (300LL * 1000000LL) /* 5 min ahead of now is ok */
#define ING_EPOCH_2000_US (946684800LL * 1000000LL) /* earlier: time_before_2000 */
#define ING_SPEED_MAX_KMH 300.0
/* What the positions table keeps, and so what ing_decode() rounds to (see
 * struct ing_fix): lat/lon to 1e-9 degree, speed to 0.001 km/h. */
#define ING_LATLON_DECIMALS 9
#define ING_SPEED_DECIMALS  3
#define ING_MESSAGE_MAX   160           /* bytes of ing_error.message, with NUL */

/* Wire format of a subscription. */
enum ing_format {
	ING_FORMAT_NATIVE = 0,  /* hazgate native JSON */
	ING_FORMAT_TPV,         /* gpsd TPV JSON ("class":"TPV") */
	ING_FORMAT_OWNTRACKS,   /* OwnTracks JSON on owntracks/<user>/<device> */
	ING_FORMAT_AUTO         /* tankers topic: TPV if "class":"TPV", else native */
};

/* Outcome of ing_decode(). */
enum ing_result {
	ING_OK = 0,             /* *fix holds a valid fix */
	ING_IGNORED,            /* well-formed, not a position (OwnTracks non-location
	                           _type, gpsd's SKY, GST, VERSION ... on a tpv or
	                           auto subscription): count it, do not store it
	                           as a reject */
	ING_REJECTED            /* unusable: store topic, raw bytes and the reason */
};

/*
 * Why a message was rejected. The names (ing_reason_name()) are stored in
 * the `rejects` table and counted by the daemon: they are stable, append new
 * codes before ING_REASON_COUNT, never renumber or rename.
 */
enum ing_reason {
	ING_REASON_NONE = 0,        /* "none": not rejected */
	ING_REASON_TOO_LARGE,       /* "too_large": payload over ING_PAYLOAD_MAX
	                               (TPV: over ING_TPV_MAX) */
	ING_REASON_NOT_JSON,        /* "not_json": not UTF-8 JSON, a member
	                               the format reads sent twice, or a bare
	                               scalar */
	ING_REASON_NOT_OBJECT,      /* "not_object": JSON, but not an object */
	ING_REASON_MISSING_FIELD,   /* "missing_field": a required member is absent */
	ING_REASON_BAD_TYPE,        /* "bad_type": a member has the wrong JSON type */
	ING_REASON_LAT_RANGE,       /* "lat_range": outside -90..90, NaN or infinite */
	ING_REASON_LON_RANGE,       /* "lon_range": outside -180..180, NaN or inf */
	ING_REASON_SPEED_RANGE,     /* "speed_range": below 0 or above 300 km/h */
	ING_REASON_HEADING_RANGE,   /* "heading_range": outside 0..360 */
	ING_REASON_VALUE_RANGE,     /* "value_range": another number out of range
	                               (fix not 0..3, sats, hdop, eph, alt, seq) */
	ING_REASON_TIME_FORMAT,     /* "time_format": not RFC 3339 / not a time */
	ING_REASON_TIME_OLD,        /* "time_before_2000" */
	ING_REASON_TIME_FUTURE,     /* "time_future": more than 5 min after now */
	ING_REASON_VEHICLE_EMPTY,   /* "vehicle_empty" */
	ING_REASON_VEHICLE_LONG,    /* "vehicle_too_long": over 32 bytes */
	ING_REASON_VEHICLE_UTF8,    /* "vehicle_utf8": not valid UTF-8 */
	ING_REASON_VEHICLE_CONTROL, /* "vehicle_control": C0/C1 control or DEL */
	ING_REASON_VEHICLE_WILDCARD,/* "vehicle_wildcard": '+', '#' or '/' */
	ING_REASON_NO_FIX,          /* "no_fix": fix/mode 0 or 1 (gpsd: no fix) */
	ING_REASON_CARGO_FORMAT,    /* "cargo_format": un/hazard_class over 7 bytes
	                               or not printable ASCII */
	ING_REASON_NOT_TPV,         /* "not_tpv": format tpv but class is not "TPV" */
	ING_REASON_TPV_UNREADABLE,  /* "tpv_unreadable": libgps's gps_unpack() did
	                               not read what the JSON says (gpsd's parser is
	                               stricter: no space in "class":"TPV", no nested
	                               values, ISO 8601 'Z' times) */
	ING_REASON_COUNT            /* number of codes, for counter arrays */
};

/* Bits of ing_fix.present: which optional members were in the message. */
enum ing_present {
	ING_HAS_SPEED        = 1u << 0,
	ING_HAS_HEADING      = 1u << 1,
	ING_HAS_ALT          = 1u << 2,
	ING_HAS_HDOP         = 1u << 3,
	ING_HAS_EPH          = 1u << 4,
	ING_HAS_FIX          = 1u << 5,
	ING_HAS_SATS         = 1u << 6,
	ING_HAS_UN           = 1u << 7,
	ING_HAS_HAZARD_CLASS = 1u << 8,
	ING_HAS_SEQ          = 1u << 9,
	ING_HAS_IGNITION     = 1u << 10,
	ING_HAS_ALARMS       = 1u << 11,  /* "alarms" sent (maybe empty: none raised) */
	ING_HAS_POSITIONED   = 1u << 12,  /* "positioned" sent (see ing_fix_positioned) */
	ING_VEHICLE_FROM_TOPIC = 1u << 15   /* not a member: vehicle came from topic */
};

/*
 * A decoded, validated fix. Members without their ING_HAS_ bit set are 0.
 * Units: time in microseconds since 1970-01-01T00:00:00Z (UTC), degrees
 * WGS-84, km/h, degrees clockwise from north, metres.
 *
 * What the engine reads is kept as the positions table keeps it, so that
 * an audit of the stored rows decides as the daemon did: ing_decode()
 * rounds lat and lon to ING_LATLON_DECIMALS places and speed_kmh to
 * ING_SPEED_DECIMALS, after the range checks, to the nearest double of
 * that decimal (what strtod() of the stored text gives; never -0). Time
 * is whole microseconds, as stored. The other members are as decoded.
 */
struct ing_fix {
	char vehicle[ING_VEHICLE_MAX + 1];  /* NUL-terminated UTF-8, 1..32 bytes */
	int64_t time_us;
	double lat;                         /* to 1e-9 degree */
	double lon;                         /* to 1e-9 degree */
	double speed_kmh;                   /* to 0.001 km/h; TPV: m/s * 3.6 */
	double heading;                     /* 0..360; TPV: track; OwnTracks: cog */
	double alt_m;                       /* TPV: altMSL, else alt, else altHAE */
	double hdop;                        /* dimensionless DOP (native only) */
	double eph_m;                       /* horizontal error, metres: TPV eph,
	                                       OwnTracks acc (not a DOP) */
	int fix;                            /* 2 = 2D, 3 = 3D (gpsd's mode) */
	int sats;
	char un[ING_CARGO_MAX + 1];         /* UN number, e.g. "1203" */
	char hazard_class[ING_CARGO_MAX + 1]; /* e.g. "2.1" */
	int64_t seq;
	bool ignition;
	bool positioned;                    /* with ING_HAS_POSITIONED: false = not a
	                                       position, only its alarms count */
	uint32_t alarms;                    /* terminal alarms raised: bit b is the
	                                       JT/T 808 alarm word's bit b, named
	                                       by hz_alarm_name(b) (native only) */
	unsigned present;                   /* enum ing_present bits */
	enum ing_format format;             /* decoder used: never ING_FORMAT_AUTO */
};

/* Is the fix a position? Not when its publisher said "positioned": false
 * (hazgate-jt808: a report without a satellite fix, or without a valid
 * time, that carries alarms; lat/lon are the last known position). Such a
 * fix is stored nowhere as a position and moves no vehicle: only its
 * alarms are decided. */
static inline bool
ing_fix_positioned(const struct ing_fix *fix)
{
	return !(fix->present & ING_HAS_POSITIONED) || fix->positioned;
}

/*
 * Why a message was not a fix. `field` names the member at fault (a string
 * literal, NULL when none); `message` is for humans (log lines, the
 * `rejects` table's detail), NUL-terminated, truncated if long.
 */
struct ing_error {
	enum ing_reason reason;
	const char *field;
	char message[ING_MESSAGE_MAX];
};

/*
 * Decode and validate one message.
 *   topic    NUL-terminated MQTT topic, or NULL (replay lines without one);
 *            the vehicle falls back to its second level (native, TPV) and
 *            OwnTracks takes its user and device levels joined by ':'
 *            (owntracks/jane/iphone -> "jane:iphone").
 *   payload  the raw bytes, `len` of them; need not be NUL-terminated; any
 *            bytes are safe. Borrowed: not kept after the call.
 *   format   the subscription's format; ING_FORMAT_AUTO picks TPV when the
 *            object's "class" member is "TPV", else native. A value
 *            outside the enum is read as native. With ING_FORMAT_TPV and
 *            ING_FORMAT_AUTO, another of gpsd's classes (SKY, GST ...) is
 *            ING_IGNORED.
 *   now_us   the caller's clock (µs since the epoch), for the future check.
 *   fix      out; meaningful only on ING_OK (may be partly written otherwise);
 *            lat, lon and speed rounded as stored (see struct ing_fix).
 *   err      out, may be NULL; reason ING_REASON_NONE unless ING_REJECTED
 *            (for ING_IGNORED, message says what was ignored).
 * Returns ING_OK, ING_IGNORED or ING_REJECTED. Allocates only inside
 * cJSON, freed before returning; out of memory there reads as not_json.
 *
 * OwnTracks device-to-vehicle mapping is left to the caller: after ING_OK,
 * call ing_fix_set_vehicle() with the mapped name (it is validated). The
 * joined "user:device" must itself be a valid vehicle name to decode.
 */
enum ing_result ing_decode(const char *topic, const void *payload, size_t len,
                           enum ing_format format, int64_t now_us,
                           struct ing_fix *fix, struct ing_error *err);

/*
 * Validate a fix built or changed outside ing_decode() (ing_decode() applies
 * exactly this): vehicle, time (>= 2000, <= now + 5 min), lat, lon, speed,
 * heading, other ranges, cargo strings, then fix/no_fix, in that order.
 * Returns ING_REASON_NONE or the first problem (also written to err if
 * non-NULL).
 */
enum ing_reason ing_fix_check(const struct ing_fix *fix, int64_t now_us,
                              struct ing_error *err);

/*
 * Check a vehicle name of `len` bytes (not necessarily NUL-terminated):
 * 1..32 bytes of valid UTF-8, no control characters, no '+', '#', '/'.
 * Returns ING_REASON_NONE or one of the vehicle_* reasons.
 */
enum ing_reason ing_vehicle_check(const char *name, size_t len,
                                  struct ing_error *err);

/*
 * Check a cargo string (`un` or `hazard_class`, NUL-terminated; `field`
 * names it in the message): 1..ING_CARGO_MAX bytes of printable ASCII
 * without spaces ("1203", "2.1", "1.4S"). The rule ing_decode() applies;
 * the fleet registry's checks call it too. Returns ING_REASON_NONE or
 * ING_REASON_CARGO_FORMAT (also written to err if non-NULL).
 */
enum ing_reason ing_cargo_check(const char *s, const char *field,
                                struct ing_error *err);

/*
 * Replace fix->vehicle with `name` (`len` bytes) after ing_vehicle_check();
 * on failure fix is unchanged. For the caller's OwnTracks device mapping.
 */
enum ing_reason ing_fix_set_vehicle(struct ing_fix *fix, const char *name,
                                    size_t len, struct ing_error *err);

/*
 * Parse an RFC 3339 date-time of `len` bytes, e.g. "2019-08-10T08:00:00Z",
 * "2019-08-10T16:00:00.123456789+08:00": 'T', 't' or ' ' between date and
 * time, any number of fraction digits (truncated to µs), 'Z'/'z' or
 * +hh:mm/-hh:mm, second 60 (leap) read as the next minute's :00. Years
 * 0000..9999. This is hz_time_parse (common/hz_time.h), the one parser.
 * Returns 0 and *out_us, or -1 if the text is not such a time.
 */
int ing_time_parse(const char *s, size_t len, int64_t *out_us);

/*
 * Format name from configuration text: "native", "tpv", "owntracks", "auto"
 * (exact, lower case). Returns 0 and *out, or -1 for anything else.
 */
int ing_format_parse(const char *name, enum ing_format *out);

/* "native", "tpv", "owntracks", "auto"; "unknown" for other values. */
const char *ing_format_name(enum ing_format format);

/* Stable snake_case name of a reason (the `rejects` table's reason);
 * "unknown" for values outside the enum. */
const char *ing_reason_name(enum ing_reason reason);

/* "ok", "ignored", "rejected"; "unknown" for other values. */
const char *ing_result_name(enum ing_result result);

/*
 * For tests and benchmarks that count or fail allocations: ing_decode()
 * keeps a message's cJSON tree in an arena of its own (at most 32 KiB) and
 * takes what does not fit from `alloc`, given back with `release` (NULL,
 * NULL: malloc and free, the default). `arena_bytes` caps the arena (0:
 * every node comes from `alloc`; 32768 or more: the whole arena). Either
 * way a tree never outlives its ing_decode() call. Not for a call in
 * progress (nothing else calls ing_decode meanwhile: single thread).
 */
void ing_decode_allocator(void *(*alloc)(size_t), void (*release)(void *),
                          size_t arena_bytes);

#ifdef __cplusplus
}
#endif

#endif /* HAZGATE_INGEST_H */
