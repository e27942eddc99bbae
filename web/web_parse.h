/*
 * web_parse.h - what hazgate-web reads from a request besides what
 * libevent's evhttp parses (web_parse.c): the session cookie, a bearer
 * token, the API's paths and query strings, the JSON bodies, the static
 * files' paths. No I/O, no state: each function takes text and fills a
 * struct, or says which parameter is wrong and why, for a 400 that names
 * it. Fuzzed by tests/fuzz/fuzz_web_request.c, unit-tested by
 * tests/unit/test_web_parse.c.
 */
#ifndef HAZGATE_WEB_PARSE_H
#define HAZGATE_WEB_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A session id, a CSRF token, an API token: 32 random bytes as 64 hex
 * digits. */
#define WEB_SECRET_HEX 64
#define WEB_COOKIE_NAME "hazgate_session"
#define WEB_LIMIT_DEFAULT 100
#define WEB_LIMIT_MAX 10000
#define WEB_VEHICLE_MAX 32      /* bytes of a plate (DESIGN: 1..32 UTF-8) */
#define WEB_NAME_MAX 64         /* a user's or a token's name */
#define WEB_PASSWORD_MAX 1024
#define WEB_NOTE_MAX 2000       /* characters, as hazgate_ack() */

/* Why a request is refused: the parameter (or "body", "path") and the
 * reason, worded into the 400's {"error"}. */
struct web_bad {
	char param[48];
	char why[160];
};

/* The session id in a Cookie header (hazgate_session=HEX among others), or
 * false when there is none or it is not 64 lower-case hex digits. out has
 * WEB_SECRET_HEX + 1 bytes. */
bool web_parse_cookie(const char *cookie, char *out);

/* The token of "Authorization: Bearer HEX" (the scheme in any case), or
 * false. out has WEB_SECRET_HEX + 1 bytes. */
bool web_parse_bearer(const char *authorization, char *out);

/* Whether two strings are equal, in time that depends on their lengths
 * only (libsodium's sodium_memcmp for equal lengths). */
bool web_secret_equal(const char *a, const char *b);

enum web_route {
	WEB_R_NONE = 0,         /* not an API path: a static file, or 404 */
	WEB_R_SESSION,          /* /api/v1/session */
	WEB_R_CONFIG,           /* /api/v1/config */
	WEB_R_ALERTS,           /* /api/v1/alerts */
	WEB_R_ALERT_ACK,        /* /api/v1/alerts/{id}/ack */
	WEB_R_ALERT_EVENTS,     /* /api/v1/alerts/{id}/events */
	WEB_R_VEHICLES,         /* /api/v1/vehicles */
	WEB_R_VEHICLE,          /* /api/v1/vehicles/{plate} */
	WEB_R_TRACK,            /* /api/v1/vehicles/{plate}/track */
	WEB_R_ZONES,            /* /api/v1/zones */
	WEB_R_STREAM,           /* /api/v1/stream */
	WEB_R_UNKNOWN_API,      /* under /api/ but none of the above: 404 */
};

struct web_path {
	enum web_route route;
	int64_t id;                             /* WEB_R_ALERT_* */
	char vehicle[WEB_VEHICLE_MAX + 1];      /* WEB_R_VEHICLE, WEB_R_TRACK: decoded */
};

/* The route of PATH (the URI's path, still percent-encoded). Returns 0, or
 * -1 with *bad set (an alert id that is not a positive integer, a plate
 * that is not 1..32 bytes of UTF-8 without control characters). */
int web_parse_path(const char *path, struct web_path *out, struct web_bad *bad);

/* GET /api/v1/alerts's filters. */
struct web_alerts_q {
	bool open;                      /* open=1: unacknowledged only */
	char kinds[256];                /* "" or comma-separated kinds (text[] literal-safe) */
	char severity[16];              /* "" or info|warning|critical */
	char vehicle[WEB_VEHICLE_MAX + 1];
	bool has_zone;
	int64_t zone;                   /* zone id */
	bool has_since_id;
	int64_t since_id;
	bool has_from, has_to;
	int64_t from_us, to_us;
	int limit;
};

/* Parse QUERY (the text after '?', or NULL) into *q. Unknown parameters,
 * a parameter given twice and bad values are errors naming the parameter.
 * Returns 0, or -1 with *bad set. */
int web_parse_alerts_query(const char *query, struct web_alerts_q *q, struct web_bad *bad);

enum web_track_format { WEB_TRACK_GEOJSON = 0, WEB_TRACK_GPX, WEB_TRACK_CSV };

struct web_track_q {
	int64_t from_us, to_us;         /* required, from < to */
	enum web_track_format format;   /* default geojson */
};

int web_parse_track_query(const char *query, struct web_track_q *q, struct web_bad *bad);

/* GET /api/v1/zones?at=T: *has_at and *at_us. */
int web_parse_zones_query(const char *query, bool *has_at, int64_t *at_us, struct web_bad *bad);

/* Endpoints without parameters: any parameter is an error. */
int web_parse_no_query(const char *query, struct web_bad *bad);

/* Whether a Content-Type header says JSON: "application/json", any case,
 * parameters after ';' allowed. */
bool web_parse_json_type(const char *content_type);

/* POST /api/v1/session's body {"user","password"} (LEN bytes, not
 * NUL-terminated). user has WEB_NAME_MAX + 1 bytes, password
 * WEB_PASSWORD_MAX + 1. */
int web_parse_login(const char *body, size_t len, char *user, char *password,
                    struct web_bad *bad);

/* POST .../ack's body: {} or {"note": TEXT} (or empty). *note is NULL or
 * malloc'd (the caller frees). */
int web_parse_ack(const char *body, size_t len, char **note, struct web_bad *bad);

/* A static file's path (percent-encoded URI path) as a relative path under
 * the assets folder: "/" is "index.html"; "..", ".", empty segments after
 * the first, a NUL, a backslash, control characters and a leading '.' in a
 * segment (hidden files) are refused. out has cap bytes. Returns 0 or -1. */
int web_parse_static_path(const char *path, char *out, size_t cap);

/* The Content-Type of a file by its name's extension. */
const char *web_content_type(const char *name);

#endif
