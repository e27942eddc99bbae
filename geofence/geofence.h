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

/* ---- options ([geofence] in the config) ---------------------------- */

#define GF_TZ_NAME_MAX 64

struct gf_options {
	char timezone[GF_TZ_NAME_MAX]; /* IANA name, default "Asia/Shanghai" */
	double overspeed_kmh;          /* hazmat limit, default 80 */
	unsigned exit_fixes;           /* fixes outside before an exit, default 1 (>= 1) */
	double exit_margin_m;          /* beyond this distance outside: exit at once; 0 = off */
	int64_t silent_after_s;        /* tracker_silent after this gap, default 300 */
};

/* Fill *opt with the documented defaults. */
void gf_options_default(struct gf_options *opt);

/* Check ranges (exit_fixes 1..65535, margins/limits finite and >= 0,
 * silent_after_s >= 1). Returns GF_OK or GF_EINVAL. */
int gf_options_check(const struct gf_options *opt);

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
};

enum gf_severity { GF_SEV_INFO, GF_SEV_WARNING, GF_SEV_CRITICAL };

const char *gf_alert_kind_name(enum gf_alert_kind kind); /* "zone_enter" ... */
const char *gf_severity_name(enum gf_severity sev);      /* "info" ... */
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
};

enum gf_disposition {
	GF_FIX_APPLIED,   /* state advanced, alerts (if any) delivered */
	GF_FIX_LATE,      /* older than the vehicle's latest: store only */
	GF_FIX_DUPLICATE, /* same time as the vehicle's latest: store only */
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

void gf_engine_free(gf_engine *e);

/* Swap the zone set (a pointer swap; the old set may be freed after this
 * returns). Vehicle state carries over by zone id; state for zones that
 * are gone is dropped silently at the vehicle's next fix. */
void gf_engine_set_zones(gf_engine *e, const gf_zoneset *zs);

/* Feed one fix. Alerts go to cb (may be NULL) in DESIGN order: a
 * gap-detected tracker_silent first, then exits, entries, then the rest
 * (tracker_resumed, route_deviation, overspeed, then per zone in
 * ascending id zone_speeding and dwell_exceeded). res (may be NULL) tells
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

/* Serialise one vehicle's state (magic "HGVS", version, CRC-32) into buf.
 * Sets *len to the bytes needed; returns GF_OK, GF_EINVAL (unknown
 * vehicle), GF_ERANGE (buf too small; *len says how big). */
int gf_engine_state_save(const gf_engine *e, const char *vehicle,
			 uint8_t *buf, size_t size, size_t *len);

/* Restore one vehicle's state from a blob, replacing what the engine
 * knows about it. A blob from another version, truncated or corrupt is
 * refused with GF_EBLOB and nothing changes. Returns GF_OK, GF_EINVAL,
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
