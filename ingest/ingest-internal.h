/*
 * ingest-internal.h - what the files of ingest/ share; not for other modules.
 *
 * Decoders are field tables (gpsd's json_attr_t habit): each row names a
 * JSON member, how to read it and where it goes in struct ing_fix. One
 * walker (ing_fields_read, ing_fields.c) applies a table to a cJSON object.
 * Who calls whom, without a circle: ing_decode.c dispatches to the format
 * files (ing_native.c, ing_owntracks.c, ing_tpv.c); they read through
 * ing_fields.c; everything ends in ing_check.c, ing_time.c and ing_names.c.
 */
#ifndef HAZGATE_INGEST_INTERNAL_H
#define HAZGATE_INGEST_INTERNAL_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "ingest/ingest.h"

/* How a table row reads its member. */
enum ing_kind {
	ING_K_REAL,         /* number -> double at offset */
	ING_K_SMALLINT,     /* integer (or integral real) -> int at offset */
	ING_K_INT64,        /* integer -> int64_t at offset */
	ING_K_BOOL,         /* true/false -> bool at offset */
	ING_K_CARGO,        /* string, "" = absent, <= ING_CARGO_MAX -> char[] */
	ING_K_VEHICLE,      /* string -> fix->vehicle, validated */
	ING_K_TIME_RFC3339, /* string -> fix->time_us (first time row wins) */
	ING_K_TIME_MS,      /* integer epoch ms -> fix->time_us */
	ING_K_TIME_S,       /* integer epoch s -> fix->time_us */
	ING_K_CHECK_NUMBER, /* type check only (value comes from elsewhere) */
	ING_K_CHECK_STRING, /* type check only */
	ING_K_ALARMS        /* array of alarm names -> uint32_t bit mask
	                       (common/hz_alarm.h); unknown names ignored */
};

#define ING_F_REQUIRED 0x1u

/* Internal "seen" bits, never in ing_fix.present. */
#define ING_SEEN_TIME     (1u << 0)
#define ING_SEEN_VEHICLE  (1u << 1)
#define ING_SEEN_SPEED    (1u << 2)
#define ING_SEEN_TRACK    (1u << 3)
#define ING_SEEN_ALT      (1u << 4)
#define ING_SEEN_EPH      (1u << 5)
#define ING_SEEN_LATLON   (1u << 6)

struct ing_field {
	const char *name;       /* JSON member name */
	unsigned char name_len; /* strlen(name): never 0 (ing_fields_read
	                         * reads name[1]; the macros refuse "") */
	unsigned char kind;     /* enum ing_kind */
	unsigned char flags;    /* ING_F_ */
	unsigned short offset;  /* offsetof(struct ing_fix, ...) where it goes */
	unsigned present;       /* ING_HAS_ bit set in fix->present */
	unsigned seen;          /* ING_SEEN_ bit set in *seen */
};

/* A table row: ROW("lat", ING_K_REAL, ING_F_REQUIRED, lat, 0, 0) stores
 * member "lat" into fix->lat; CHECK() rows only check the type. */
#define ING_NAME_LEN(name) \
	(sizeof(name) - 1 + 0 * sizeof(char[sizeof(name) > 1 ? 1 : -1]))
#define ING_ROW(name, kind, flags, member, present, seen)                 \
	{ name, ING_NAME_LEN(name), kind, flags,                           \
	  (unsigned short)offsetof(struct ing_fix, member), present, seen }
#define ING_CHECK(name, kind, seen) \
	{ name, ING_NAME_LEN(name), kind, 0, 0, 0, seen }

/* Rows per table at most (ing_fields_read keeps one slot per row). */
#define ING_FIELDS_MAX 24

/* Result of a table walk. */
struct ing_walk {
	unsigned seen;              /* ING_SEEN_ bits */
	const char *first_missing;  /* first required row absent, or NULL */
};

/*
 * Apply `n` (<= ING_FIELDS_MAX) rows of `tab` to object `obj`, writing
 * into `fix`. Rows are applied in table order, whatever the order of the
 * members in the message, so the first problem reported is stable. A
 * member of the table sent twice is not_json (ambiguous: libgps, for one,
 * would read the last). Type errors
 * (bad_type, time_format, cargo_format, vehicle_*) stop the walk and are
 * returned; absent required rows are only noted in walk->first_missing so
 * that the caller can prefer no_fix over missing_field.
 */
enum ing_reason ing_fields_read(const cJSON *obj, const struct ing_field *tab,
                                size_t n, struct ing_fix *fix,
                                struct ing_walk *walk, struct ing_error *err);

/*
 * After a walk (ing_fields.c): no_fix first (a tracker without a fix often
 * sends no position at all, so this wins over missing_field), then the
 * first missing required member, then a missing time (`time_name`, the
 * format's member, for the message). Returns ING_REASON_NONE or the reason
 * (err set).
 */
enum ing_reason ing_walk_finish(const struct ing_fix *fix,
                                const struct ing_walk *walk,
                                const char *time_name, struct ing_error *err);

/*
 * The format decoders, one file each, on an object ing_decode() has
 * parsed; each sets fix->format. ing_decode() runs ing_fix_check() after
 * a success. Native and TPV return ING_REASON_NONE, or the reason (err
 * set); TPV also needs the raw text (`payload`, `len`, no NUL byte in it)
 * for libgps. OwnTracks returns ING_OK, ING_IGNORED (a _type other than
 * location: err->message says which) or ING_REJECTED (err set).
 */
enum ing_reason ing_native_read(const cJSON *obj, const char *topic,
                                struct ing_fix *fix, struct ing_error *err);
enum ing_result ing_owntracks_read(const cJSON *obj, const char *topic,
                                   struct ing_fix *fix, struct ing_error *err);
enum ing_reason ing_tpv_read(const cJSON *obj, const char *payload, size_t len,
                             const char *topic, struct ing_fix *fix,
                             struct ing_error *err);

/*
 * Is `obj` one of gpsd's other reports (SKY, GST, ATT, VERSION, DEVICES,
 * WATCH, PPS, TOFF ...: "class" is one of gpsd's names, exactly, and not
 * "TPV")? Then fix->format is ING_FORMAT_TPV, err->message says which
 * (reason ING_REASON_NONE) and
 * ing_decode() returns ING_IGNORED for the tpv and auto formats. No
 * class, "TPV" or a name gpsd does not send: false, err untouched.
 * In ing_tpv.c.
 */
bool ing_tpv_other_report(const cJSON *obj, struct ing_fix *fix,
                          struct ing_error *err);

/* Length of the well-formed UTF-8 sequence at s[0..n) (1-4), or 0 if
 * invalid (overlong, surrogate, above U+10FFFF, truncated); sets *cp. */
size_t ing_utf8_seq(const unsigned char *s, size_t n, unsigned *cp);

/* Joins topic levels into one vehicle name (OwnTracks' user:device). */
#define ING_VEHICLE_JOIN ':'

/*
 * Set the vehicle from `nlevels` (>= 1) topic levels from `level` on
 * (0-based; '/'-separated), joined by ING_VEHICLE_JOIN: level 2 alone of
 * owntracks/jane/phone is "phone", levels 1 and 2 are "jane:phone". The
 * joined name is checked as any vehicle name (1..32 bytes in all).
 * Returns ING_REASON_NONE; vehicle_empty when one of the levels is empty;
 * another vehicle_* reason; or missing_field when the topic is NULL or too
 * short (`what` names the source for the message).
 */
enum ing_reason ing_vehicle_from_topic(struct ing_fix *fix, const char *topic,
                                       unsigned level, unsigned nlevels,
                                       const char *what,
                                       struct ing_error *err);

/* Record a rejection: reason, field (string literal or NULL) and a printf
 * message, made printable ASCII. Returns `reason`; err may be NULL. */
enum ing_reason ing_err_set(struct ing_error *err, enum ing_reason reason,
                            const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* HAZGATE_INGEST_INTERNAL_H */
