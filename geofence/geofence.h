/*
 * geofence.h - hazgate's pure geofence and rules engine (prefix gf_).
 *
 * Zones come in as GeoJSON text and become an immutable gf_zoneset; an
 * engine (gf_engine) keeps compact per-vehicle state and turns a stream of
 * fixes, one at a time, into the alerts of DESIGN.md "When each alert
 * fires". Everything here is pure: no I/O, no clock reads, no statics. The
 * one exception is gf_tz_load() (geofence/gf_tzload.c), which reads a TZif
 * file for callers that want that done for them.
 *
 * Ownership in short: every *_new/_parse/_load has exactly one *_free;
 * the engine BORROWS its zone set and time zone (they must outlive every
 * call that uses them); alerts passed to a callback are borrowed for the
 * duration of the call. See geofence/README.md for the design.
 */
#ifndef HG_GEOFENCE_H
#define HG_GEOFENCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors -------------------------------------------------------- */

enum gf_err {
	GF_OK = 0,
	GF_ENOMEM = -1,      /* allocation failed; nothing changed */
	GF_EINVAL = -2,      /* bad argument (NULL, oversize vehicle, NaN ...) */
	GF_EZONES = -3,      /* zone GeoJSON refused; see the error text */
	GF_ETZ = -4,         /* TZif data or POSIX TZ rule refused */
	GF_EIO = -5,         /* gf_tz_load only: file missing or unreadable */
	GF_EBLOB = -6,       /* state blob corrupt, truncated or wrong version */
	GF_ERANGE = -7,      /* output buffer too small */
};

/* Static English text for a gf_err value (never NULL). */
const char *gf_strerror(int err);

/* ---- options ([geofence] and [rules] in the config) ---------------- */

#define GF_TZ_NAME_MAX 64
#define GF_CLASS_MAX 7          /* bytes of a hazard class ("2.1", "1.1D") */
#define GF_BY_CLASS_MAX 16      /* per-class values of one rule parameter */

/* A rule parameter's values for some hazard classes: "1=600, 2.1=900"
 * (seconds) or "1=19:00-06:00" (a daily window: a = start, b = end, in
 * seconds of the local day). A fix's class takes the entry naming it
 * exactly, else the one naming its main class (the part before the first
 * '.': "1" for "1.1D"), else the general value. */
struct gf_by_class {
	uint32_t n;
	struct gf_class_value {
		char cls[GF_CLASS_MAX + 1];
		int64_t a, b;
	} e[GF_BY_CLASS_MAX];
};

/* The rules beyond geometry (DESIGN.md "Rules beyond geometry"). Times
 * come from the fixes; "moving" is a fix with a speed above moving_kmh. */
struct gf_rules {
	double moving_kmh;          /* default 5 */
	double stop_radius_m;       /* two fixes this close are one place; 100 */
	int64_t max_continuous_s;   /* fatigue_driving; 14400; 0 = off */
	int64_t min_rest_s;         /* a rest this long ends a stint; 1200 */
	int64_t max_daily_s;        /* daily_driving_exceeded; 28800; 0 = off */
	int64_t max_stop_s;         /* unauthorized_stop; 1800; 0 = off */
	int32_t night_start_s;      /* global night ban, seconds of the local */
	int32_t night_end_s;        /* day; start < 0 = off (the default) */
	struct gf_by_class max_stop_by_class;        /* seconds; 0 = off */
	struct gf_by_class max_continuous_by_class;  /* seconds; 0 = off */
	struct gf_by_class night_ban_by_class;       /* windows */
};

struct gf_options {
	char timezone[GF_TZ_NAME_MAX]; /* IANA name, default "Asia/Shanghai" */
	double overspeed_kmh;          /* hazmat limit, default 80 */
	unsigned exit_fixes;           /* fixes outside before an exit, default 1 (>= 1) */
	double exit_margin_m;          /* beyond this distance outside: exit at once; 0 = off */
	int64_t silent_after_s;        /* tracker_silent after this gap, default 300 */
	struct gf_rules rules;         /* [rules] */
};

/* Fill *opt with the documented defaults. */
void gf_options_default(struct gf_options *opt);

/* Check ranges (exit_fixes 1..65535, margins/limits finite and >= 0,
 * silent_after_s >= 1; rules: durations 0..1 year, min_rest_s >= 1,
 * windows inside the day with start != end, classes NUL-terminated).
 * Returns GF_OK or GF_EINVAL. */
int gf_options_check(const struct gf_options *opt);

/* Parse a daily window "HH:MM-HH:MM" (00:00..24:00; 24:00 only as an end)
 * into seconds of the day. Start == end is returned as is (the caller
 * decides: all day for `active.daily`, refused for a night ban).
 * Returns GF_OK or GF_EINVAL. */
int gf_window_parse(const char *s, int32_t *start_s, int32_t *end_s);

/* Parse a per-class list "CLASS=VALUE, CLASS=VALUE" into *out (replacing
 * it): VALUE is whole seconds 0..31536000 (window false) or a window
 * "HH:MM-HH:MM" with start != end (window true). "" is the empty list.
 * A class is 1..GF_CLASS_MAX printable ASCII bytes without ',', '=' or
 * space, named once. Returns NULL, or a static text saying what is wrong
 * (*out is then unspecified). */
const char *gf_by_class_parse(const char *value, bool window,
			      struct gf_by_class *out);

/* The entry of *bc for hazard class cls (exact, else the main class), or
 * NULL. cls NULL or "" matches nothing. */
const struct gf_class_value *gf_by_class_find(const struct gf_by_class *bc,
					      const char *cls);

/* ---- time ---------------------------------------------------------- */

/* Parse an RFC 3339 date-time ("2019-08-10T08:00:00.123Z", "...+08:00",
 * 'T'/'t'/' ' separator) into microseconds since the epoch, by the one rule
 * of common/hz_time.h: any number of fraction digits, truncated to the
 * microsecond; second 60 (leap) read as the next minute's :00.
 * Returns GF_OK or GF_EINVAL. */
int gf_time_parse(const char *s, int64_t *out_us);

/* Format microseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ"
 * (milliseconds truncated toward the past; a year outside 0000..9999
 * clamped). buf needs 25 bytes. */
void gf_time_format(int64_t us, char buf[25]);

/* ---- time zones ---------------------------------------------------- */

typedef struct gf_tz gf_tz;

/* Parse TZif (RFC 8536, v1 falls back to 32-bit data; v2+ use the 64-bit
 * block and the POSIX TZ footer for times after the last transition).
 * Bytes are borrowed; *out is new, free with gf_tz_free.
 * Returns GF_OK, GF_ETZ, GF_ENOMEM. */
int gf_tz_parse(const uint8_t *data, size_t len, gf_tz **out);

/* A zone from a POSIX TZ rule alone, e.g. "CST-8" or
 * "CET-1CEST,M3.5.0,M10.5.0/3". Returns GF_OK, GF_ETZ, GF_ENOMEM. */
int gf_tz_from_posix(const char *rule, gf_tz **out);

/* THE I/O EXCEPTION (geofence/gf_tzload.c): read
 * $TZDIR/<name> or /usr/share/zoneinfo/<name> and gf_tz_parse it. Names
 * with "..", a leading '/' or odd characters are refused (GF_EINVAL).
 * "UTC" always works, even without zoneinfo files.
 * Returns GF_OK, GF_EINVAL, GF_EIO, GF_ETZ, GF_ENOMEM. */
int gf_tz_load(const char *name, gf_tz **out);

void gf_tz_free(gf_tz *tz);

/* Offset of local time from UTC, in seconds, at the instant t (seconds
 * since the epoch); *is_dst (may be NULL) says whether DST is in force. */
int32_t gf_tz_offset(const gf_tz *tz, int64_t t, bool *is_dst);

/* ---- zones --------------------------------------------------------- */

enum gf_kind {
	GF_KIND_EVENT_VENUE,
	GF_KIND_PROHIBITED,
	GF_KIND_RESTRICTED,
	GF_KIND_CORRIDOR,
	GF_KIND_DEPOT,
	GF_KIND_PARKING,     /* where a stop is authorised (as a depot) */
};

/* "event_venue", "prohibited", ... */
const char *gf_kind_name(enum gf_kind kind);

typedef struct gf_zoneset gf_zoneset;

/* Build an immutable zone set from a GeoJSON FeatureCollection (text of
 * len bytes, need not be NUL-terminated). On failure *out stays NULL and,
 * when errbuf is given, errbuf holds one line naming the feature (index
 * and id) and the fault, e.g. "feature 3 (id 4): ring 0 is not closed".
 * Returns GF_OK, GF_EZONES, GF_ENOMEM. */
int gf_zoneset_parse(const char *text, size_t len, gf_zoneset **out,
		     char *errbuf, size_t errlen);

void gf_zoneset_free(gf_zoneset *zs);

/* Number of zones; zones are numbered 0..n-1 in ascending id order. */
size_t gf_zoneset_count(const gf_zoneset *zs);

struct gf_zone_info {
	int64_t id;
	const char *name;          /* NULL when the feature has none */
	enum gf_kind kind;
	const char *feature_json;  /* the original Feature, compact JSON */
};

/* Describe zone i (0 <= i < count). Strings are owned by the zone set.
 * Returns GF_OK or GF_EINVAL. */
int gf_zoneset_zone(const gf_zoneset *zs, size_t i, struct gf_zone_info *info);

/* Index of the zone with this id, or -1. */
long gf_zoneset_find(const gf_zoneset *zs, int64_t id);

/* The whole set as a FeatureCollection of the original features in id
 * order (malloc'd, NUL-terminated; caller frees with free()). NULL on
 * allocation failure. */
char *gf_zoneset_export(const gf_zoneset *zs);

/* Whether zone i is in force at t_us by its `active` windows (daily ones
 * judged in tz), as the engine judges it for a fix at that time. */
bool gf_zoneset_active(const gf_zoneset *zs, size_t i, int64_t t_us, const gf_tz *tz);

/* Bytes the zone set holds (geometry, index, strings). */
size_t gf_zoneset_memory(const gf_zoneset *zs);

/* Geometry alone, ignoring activity and cargo: is (lat, lon) covered by
 * zone i (boundary counts as inside)? */
bool gf_zoneset_covers(const gf_zoneset *zs, size_t i, double lat, double lon);

/* Metres from (lat, lon) to zone i when outside it, 0 when covered.
 * Circles and corridors: great-circle; polygons: local equirectangular
 * projection around the point (good to well under 1% within tens of km). */
double gf_zoneset_distance_outside(const gf_zoneset *zs, size_t i,
				   double lat, double lon);

/* All zones covering (lat, lon), geometry alone, through the spatial
 * index: writes up to cap zone indices (ascending) to idx and returns how
 * many cover the point (may exceed cap). lin = true skips the index and
 * scans every zone (for benchmarks and tests). */
size_t gf_zoneset_query(const gf_zoneset *zs, double lat, double lon,
			size_t *idx, size_t cap, bool lin);

/* ---- alerts -------------------------------------------------------- */

enum gf_alert_kind {
	GF_ALERT_ZONE_ENTER,
	GF_ALERT_ZONE_EXIT,
	GF_ALERT_PROHIBITED_ENTRY,
	GF_ALERT_ZONE_SPEEDING,
	GF_ALERT_OVERSPEED,
	GF_ALERT_DWELL_EXCEEDED,
	GF_ALERT_ROUTE_DEVIATION,
	GF_ALERT_TRACKER_SILENT,
	GF_ALERT_TRACKER_RESUMED,
	GF_ALERT_FATIGUE_DRIVING,
	GF_ALERT_DAILY_DRIVING_EXCEEDED,
	GF_ALERT_NIGHT_DRIVING,
	GF_ALERT_UNAUTHORIZED_STOP,
	GF_ALERT_TERMINAL_ALARM,          /* severity per alarm (see below) */
	GF_ALERT_TERMINAL_ALARM_CLEARED,
	GF_ALERT_KIND_COUNT     /* number of kinds, for counter arrays */
};

enum gf_severity { GF_SEV_INFO, GF_SEV_WARNING, GF_SEV_CRITICAL };

const char *gf_alert_kind_name(enum gf_alert_kind kind); /* "zone_enter" ... */
const char *gf_severity_name(enum gf_severity sev);      /* "info" ... */
/* The kind's severity; terminal_alarm is warning here and critical for the
 * alarms of HZ_ALARM_CRITICAL (sos, collision, rollover) in the alert. */
enum gf_severity gf_alert_kind_severity(enum gf_alert_kind kind);

#define GF_VEHICLE_MAX 32

struct gf_alert {
	enum gf_alert_kind kind;
	enum gf_severity severity;
	char vehicle[GF_VEHICLE_MAX + 1];
	bool has_zone;
	int64_t zone_id;
	const char *zone_name;   /* borrowed from the zone set; NULL = null */
	enum gf_kind zone_kind;  /* when has_zone */
	int64_t ts_us;
	double lat, lon;
	bool has_speed;
	double speed_kmh;
	/* detail, rendered per kind (see gf_alert_format) */
	double limit_kmh;        /* zone_speeding, overspeed */
	int64_t dwell_s;         /* zone_exit, dwell_exceeded: seconds inside */
	int64_t max_dwell_s;     /* dwell_exceeded */
	int64_t gap_s;           /* tracker_silent (limit), tracker_resumed (gap) */
	int64_t last_fix_us;     /* tracker_silent, tracker_resumed */
	int64_t limit_s;         /* fatigue (max_continuous_s), daily (max_daily_s),
				    unauthorized_stop (max_stop_s) */
	int64_t duration_s;      /* driving_s, stopped_s */
	int64_t since_us;        /* unauthorized_stop: when the stop began */
	int32_t day;             /* daily_driving_exceeded: local day (days
				    since 1970-01-01) */
	int32_t window_start_s;  /* night_driving: the ban window */
	int32_t window_end_s;
	int32_t local_s;         /* night_driving: local second of the day */
	unsigned alarm;          /* terminal_alarm(_cleared): the alarm's bit */
};

/* Render the alert as the DESIGN.md JSON, keys in fixed order, ts in UTC
 * with milliseconds; id < 0 renders "id":null. snprintf contract: writes
 * at most size bytes including the NUL, returns the length the full text
 * needs (without the NUL). The daemon and replay both use this. */
size_t gf_alert_format(const struct gf_alert *a, int64_t id, char *buf,
		       size_t size);

/* Borrowed alert: valid only during the call. */
typedef void (*gf_alert_cb)(const struct gf_alert *alert, void *arg);

/* ---- engine -------------------------------------------------------- */

typedef struct gf_engine gf_engine;

struct gf_fix {
	const char *vehicle;      /* UTF-8, 1..32 bytes, NUL-terminated */
	int64_t ts_us;            /* fix time, microseconds since the epoch */
	double lat, lon;          /* WGS-84 degrees */
	bool has_speed;
	double speed_kmh;
	const char *hazard_class; /* NULL or "" = unknown (matches every zone) */
	int64_t rx_us;            /* daemon: wall-clock time the fix was received,
				     which gf_engine_tick measures silence from;
				     0 = ts_us (replay) */
	bool has_alarms;          /* the fix says which terminal alarms are
				     raised (false: it says nothing; the
				     engine keeps what it knew) */
	uint32_t alarms;          /* bit b = JT/T 808 alarm bit b (hz_alarm.h) */
	bool alarms_only;         /* not a position (a terminal without a fix):
				     only its alarms are decided, at lat/lon
				     and ts; nothing else of the vehicle moves */
	const int64_t *routes;    /* corridor zone ids the vehicle is assigned
				     to besides the corridors whose `vehicles`
				     list names it (the fleet registry's
				     routes); borrowed for the call, any order,
				     NULL when nroutes is 0. An id that is no
				     corridor of the set is ignored. */
	size_t nroutes;
};

enum gf_disposition {
	GF_FIX_APPLIED,   /* state advanced, alerts (if any) delivered */
	GF_FIX_LATE,      /* older than the vehicle's latest: store only */
	GF_FIX_DUPLICATE, /* same time as the vehicle's latest: store only */
	GF_FIX_ALARMS_ONLY, /* alarms_only: its alarms decided, nothing else */
};

struct gf_fix_result {
	enum gf_disposition disposition;
	size_t nalerts;          /* alerts delivered for this fix */
	const int64_t *zone_ids; /* zones in force covering the fix, ascending;
				    owned by the engine, valid until its next call */
	size_t nzone_ids;
	bool state_changed;      /* applied and more than the latest fix's time
				    and place changed (first fix, zones, episode
				    flags): a hint for persisting the blob */
};

/* New engine. zs and tz are borrowed (tz may be NULL = UTC). opt is
 * copied. Returns GF_OK, GF_EINVAL (bad options), GF_ENOMEM. */
int gf_engine_new(const struct gf_options *opt, const gf_zoneset *zs,
		  const gf_tz *tz, gf_engine **out);

/* Replace the rule parameters (SIGHUP): copied; applies from the next fix
 * on; every vehicle's clocks and episodes carry over. Returns GF_OK, or
 * GF_EINVAL (out of range: nothing changed). */
int gf_engine_set_rules(gf_engine *e, const struct gf_rules *rules);

void gf_engine_free(gf_engine *e);

/* Swap the zone set (a pointer swap; the old set may be freed after this
 * returns). Vehicle state carries over by zone id; state for zones that
 * are gone is dropped silently at the vehicle's next fix. */
void gf_engine_set_zones(gf_engine *e, const gf_zoneset *zs);

/* Feed one fix. Alerts go to cb (may be NULL) in DESIGN order: a
 * gap-detected tracker_silent first, then exits, entries, then the rest
 * (tracker_resumed, route_deviation, overspeed, then per zone in
 * ascending id zone_speeding and dwell_exceeded), then the rules beyond
 * geometry: terminal_alarm by ascending bit, terminal_alarm_cleared by
 * ascending bit, night_driving, unauthorized_stop, fatigue_driving,
 * daily_driving_exceeded. res (may be NULL) tells
 * whether the fix was applied, late or a duplicate and which zones cover
 * it. Returns GF_OK, GF_EINVAL (bad vehicle or coordinates: nothing
 * changed), GF_ENOMEM (new vehicle could not be stored, or alerts for
 * this fix were lost; state stays consistent). */
int gf_engine_fix(gf_engine *e, const struct gf_fix *fix, gf_alert_cb cb,
		  void *arg, struct gf_fix_result *res);

/* Wall-clock silence for the daemon: for every vehicle whose latest
 * applied fix was received (gf_fix.rx_us) at least silent_after_s before
 * now_us and is not yet reported, emit tracker_silent (ts = that receive
 * time + silent_after_s, position and detail of the latest fix). Measuring
 * from the receive time, not the fix time, keeps a backlog or a tracker
 * with a wrong clock from looking silent while it talks. A vehicle restored
 * from a state blob has no receive time: its silence is measured from the
 * first tick after the restore. Its next fix then emits tracker_resumed
 * only. Returns the number of alerts emitted. */
size_t gf_engine_tick(gf_engine *e, int64_t now_us, gf_alert_cb cb, void *arg);

/* The daemon was cut off from its trackers (its broker link) until now_us:
 * silence is measured again from now_us for every vehicle not yet reported
 * silent, as if its latest fix had been received then. A vehicle already
 * reported stays so until its next fix. */
void gf_engine_silence_restart(gf_engine *e, int64_t now_us);

/* Vehicles known to the engine. */
size_t gf_engine_vehicle_count(const gf_engine *e);

/* Call fn for every vehicle (borrowed name). */
void gf_engine_foreach(const gf_engine *e,
		       void (*fn)(const char *vehicle, void *arg), void *arg);

/* Bytes the engine holds (vehicles, hash table, scratch). */
size_t gf_engine_memory(const gf_engine *e);

/* ---- per-vehicle state blob ----------------------------------------- */

/* Serialise one vehicle's state (magic "HGVS", version 2, CRC-32) into buf.
 * Sets *len to the bytes needed; returns GF_OK, GF_EINVAL (unknown
 * vehicle), GF_ERANGE (buf too small; *len says how big). */
int gf_engine_state_save(const gf_engine *e, const char *vehicle,
			 uint8_t *buf, size_t size, size_t *len);

/* Restore one vehicle's state from a blob, replacing what the engine
 * knows about it. Version 1 blobs (before the rules beyond geometry) load
 * with the rules' clocks at zero. A blob from another version, truncated
 * or corrupt is refused with GF_EBLOB and nothing changes. Returns GF_OK, GF_EINVAL,
 * GF_EBLOB, GF_ENOMEM. */
int gf_engine_state_load(gf_engine *e, const char *vehicle,
			 const uint8_t *blob, size_t len);

/* ---- datums ------------------------------------------------------------ */

/* Convert a point given in datum ("wgs84", "gcj02", "bd09", or NULL for
 * wgs84: the names of a zone's `datum` property) to WGS-84 in place, with
 * the same conversion the zone loader applies. Returns false (point
 * unchanged) for an unknown datum. */
bool gf_datum_to_wgs84(const char *datum, double *lat, double *lon);

#ifdef __cplusplus
}
#endif

#endif /* HG_GEOFENCE_H */
