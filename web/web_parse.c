/*
 * web_parse.c - the request parsing of hazgate-web (web_parse.h).
 *
 * Query strings are split and percent-decoded by libevent
 * (evhttp_parse_query_str), JSON bodies parsed by jansson; this file only
 * checks what they give: each parameter known, given once, of the right
 * form and within bounds. Every refusal names the parameter. Limits: a
 * query has at most 16 parameters; a plate is at most 32 bytes.
 */
#include "web/web_parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <sodium.h>

#include "common/hz_time.h"

#define QUERY_PARAMS_MAX 16

static int
bad_set(struct web_bad *bad, const char *param, const char *why)
{
	snprintf(bad->param, sizeof(bad->param), "%s", param);
	snprintf(bad->why, sizeof(bad->why), "%s", why);
	return -1;
}

static bool
is_hex_secret(const char *s, size_t n)
{
	if (n != WEB_SECRET_HEX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool
web_parse_cookie(const char *cookie, char *out)
{
	const char *p = cookie;
	const size_t nl = sizeof(WEB_COOKIE_NAME) - 1;

	while (p && *p) {
		const char *end;

		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) > nl && !strncmp(p, WEB_COOKIE_NAME, nl) && p[nl] == '=') {
			const char *v = p + nl + 1;
			size_t n = (size_t)(end - v);

			while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
				v++;
				n -= 2;
			}
			if (is_hex_secret(v, n)) {
				memcpy(out, v, n);
				out[n] = '\0';
				return true;
			}
		}
		p = end;
	}
	return false;
}

bool
web_parse_bearer(const char *authorization, char *out)
{
	const char *v;
	size_t n;

	if (!authorization || strncasecmp(authorization, "Bearer ", 7))
		return false;
	v = authorization + 7;
	while (*v == ' ')
		v++;
	n = strlen(v);
	while (n > 0 && v[n - 1] == ' ')
		n--;
	if (!is_hex_secret(v, n))
		return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

bool
web_secret_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

/* ---- paths ---------------------------------------------------------------- */

/* UTF-8 well formed (no overlongs, no surrogates), no control characters. */
static bool
utf8_text(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t k;
		unsigned cp;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + k >= n)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += k + 1;
	}
	return true;
}

/* Percent-decode one path segment (LEN bytes) into out (cap bytes).
 * Returns its length, or -1 (bad escape, NUL, too long). */
static long
decode_segment(const char *seg, size_t len, char *out, size_t cap)
{
	char tmp[256];
	char *dec;
	size_t n;

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, seg, len);
	tmp[len] = '\0';
	dec = evhttp_uridecode(tmp, 0, &n);
	if (!dec)
		return -1;
	if (n >= cap || strlen(dec) != n) {
		free(dec);
		return -1;
	}
	memcpy(out, dec, n + 1);
	free(dec);
	return (long)n;
}

static bool
parse_id(const char *s, size_t n, int64_t *id)
{
	int64_t v = 0;

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*id = v;
	return v > 0;
}

int
web_parse_path(const char *path, struct web_path *out, struct web_bad *bad)
{
	static const char api[] = "/api/v1/";
	const char *p, *slash;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0)
		return 0;
	out->route = WEB_R_UNKNOWN_API;
	if (strncmp(path, api, sizeof(api) - 1) != 0)
		return 0;
	p = path + sizeof(api) - 1;
	if (!strcmp(p, "session"))
		out->route = WEB_R_SESSION;
	else if (!strcmp(p, "config"))
		out->route = WEB_R_CONFIG;
	else if (!strcmp(p, "alerts"))
		out->route = WEB_R_ALERTS;
	else if (!strcmp(p, "vehicles"))
		out->route = WEB_R_VEHICLES;
	else if (!strcmp(p, "zones"))
		out->route = WEB_R_ZONES;
	else if (!strcmp(p, "stream"))
		out->route = WEB_R_STREAM;
	else if (!strncmp(p, "alerts/", 7)) {
		p += 7;
		slash = strchr(p, '/');
		if (!slash)
			return 0;       /* /alerts/{id} alone: not an endpoint */
		if (strcmp(slash, "/ack") && strcmp(slash, "/events"))
			return 0;
		if (!parse_id(p, (size_t)(slash - p), &out->id))
			return bad_set(bad, "id", "the alert id is a positive integer");
		out->route = strcmp(slash, "/ack") ? WEB_R_ALERT_EVENTS : WEB_R_ALERT_ACK;
	} else if (!strncmp(p, "vehicles/", 9)) {
		long len;

		p += 9;
		slash = strchr(p, '/');
		if (slash && strcmp(slash, "/track"))
			return 0;
		n = slash ? (size_t)(slash - p) : strlen(p);
		len = decode_segment(p, n, out->vehicle, sizeof(out->vehicle));
		if (len <= 0 || !utf8_text((const unsigned char *)out->vehicle, (size_t)len))
			return bad_set(bad, "vehicle",
				       "a plate is 1..32 bytes of UTF-8 without control characters");
		out->route = slash ? WEB_R_TRACK : WEB_R_VEHICLE;
	}
	return 0;
}

/* ---- query strings -------------------------------------------------------- */

struct qparam {
	const char *key, *value;
};

/* Split QUERY into at most QUERY_PARAMS_MAX pairs, each key one of
 * KNOWN (NULL-terminated) and given once. kv is the caller's, cleared with
 * evhttp_clear_headers. Returns 0 or -1 (*bad set). */
static int
query_split(const char *query, const char *const *known, struct evkeyvalq *kv,
            struct web_bad *bad)
{
	struct evkeyval *e;
	size_t count = 0;

	TAILQ_INIT(kv);
	if (!query || !*query)
		return 0;
	if (evhttp_parse_query_str(query, kv) != 0)
		return bad_set(bad, "query", "not a query string (want key=value&...)");
	TAILQ_FOREACH(e, kv, next) {
		bool ok = false;
		struct evkeyval *f;

		if (++count > QUERY_PARAMS_MAX)
			return bad_set(bad, "query", "too many parameters");
		for (size_t i = 0; known[i]; i++)
			ok = ok || !strcmp(known[i], e->key);
		if (!ok) {
			snprintf(bad->param, sizeof(bad->param), "%.40s", e->key);
			snprintf(bad->why, sizeof(bad->why), "unknown parameter");
			return -1;
		}
		for (f = TAILQ_FIRST(kv); f != e; f = TAILQ_NEXT(f, next))
			if (!strcmp(f->key, e->key))
				return bad_set(bad, e->key, "given twice");
	}
	return 0;
}

/* An RFC 3339 time parameter; false with *bad naming KEY. */
static bool
time_param(const char *key, const char *v, int64_t *us, struct web_bad *bad)
{
	if (hz_time_parse(v, strlen(v), us) == 0)
		return true;
	bad_set(bad, key, "want an RFC 3339 time (2019-08-10T08:00:00Z)");
	return false;
}

static bool
parse_int(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long x;

	if (!*v || !(isdigit((unsigned char)*v) || *v == '-'))
		return false;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return false;
	*out = x;
	return true;
}

/* A comma-separated list of kinds: lower-case letters, digits and '_'. */
static bool
kinds_ok(const char *v)
{
	bool item = false;

	if (!*v || strlen(v) >= sizeof(((struct web_alerts_q *)0)->kinds))
		return false;
	for (; *v; v++) {
		if (*v == ',') {
			if (!item)
				return false;
			item = false;
		} else if ((*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') || *v == '_') {
			item = true;
		} else {
			return false;
		}
	}
	return item;
}

int
web_parse_alerts_query(const char *query, struct web_alerts_q *q, struct web_bad *bad)
{
	static const char *const known[] = { "open", "kind", "severity", "vehicle", "zone",
					     "since_id", "from", "to", "limit", NULL };
	struct evkeyvalq kv;
	struct evkeyval *e;
	int rc = -1;
	int64_t v;

	memset(q, 0, sizeof(*q));
	q->limit = WEB_LIMIT_DEFAULT;
	if (query_split(query, known, &kv, bad) != 0)
		goto done;
	TAILQ_FOREACH(e, &kv, next) {
		const char *k = e->key, *val = e->value;

		if (!strcmp(k, "open")) {
			if (strcmp(val, "1") && strcmp(val, "0") && strcmp(val, "true") &&
			    strcmp(val, "false")) {
				bad_set(bad, k, "want 1 or 0");
				goto done;
			}
			q->open = !strcmp(val, "1") || !strcmp(val, "true");
		} else if (!strcmp(k, "kind")) {
			if (!kinds_ok(val)) {
				bad_set(bad, k, "want alert kinds, comma-separated (e.g. prohibited_entry)");
				goto done;
			}
			strcpy(q->kinds, val);
		} else if (!strcmp(k, "severity")) {
			if (strcmp(val, "info") && strcmp(val, "warning") && strcmp(val, "critical")) {
				bad_set(bad, k, "want info, warning or critical");
				goto done;
			}
			strcpy(q->severity, val);
		} else if (!strcmp(k, "vehicle")) {
			size_t n = strlen(val);

			if (n == 0 || n > WEB_VEHICLE_MAX ||
			    !utf8_text((const unsigned char *)val, n)) {
				bad_set(bad, k, "a plate is 1..32 bytes of UTF-8");
				goto done;
			}
			memcpy(q->vehicle, val, n + 1);
		} else if (!strcmp(k, "zone")) {
			if (!parse_int(val, 0, INT32_MAX, &q->zone)) {
				bad_set(bad, k, "want a zone id (an integer)");
				goto done;
			}
			q->has_zone = true;
		} else if (!strcmp(k, "since_id")) {
			if (!parse_int(val, 0, INT64_MAX, &q->since_id)) {
				bad_set(bad, k, "want an alert id (an integer >= 0)");
				goto done;
			}
			q->has_since_id = true;
		} else if (!strcmp(k, "from") || !strcmp(k, "to")) {
			bool from = k[0] == 'f';

			if (!time_param(k, val, from ? &q->from_us : &q->to_us, bad))
				goto done;
			*(from ? &q->has_from : &q->has_to) = true;
		} else if (!strcmp(k, "limit")) {
			if (!parse_int(val, 1, WEB_LIMIT_MAX, &v)) {
				bad_set(bad, k, "want an integer 1..10000");
				goto done;
			}
			q->limit = (int)v;
		}
	}
	if (q->has_from && q->has_to && q->to_us <= q->from_us) {
		bad_set(bad, "to", "must be after from");
		goto done;
	}
	rc = 0;
done:
	evhttp_clear_headers(&kv);
	return rc;
}

int
web_parse_track_query(const char *query, struct web_track_q *q, struct web_bad *bad)
{
	static const char *const known[] = { "from", "to", "format", NULL };
	struct evkeyvalq kv;
	struct evkeyval *e;
	bool has_from = false, has_to = false;
	int rc = -1;

	memset(q, 0, sizeof(*q));
	if (query_split(query, known, &kv, bad) != 0)
		goto done;
	TAILQ_FOREACH(e, &kv, next) {
		if (!strcmp(e->key, "format")) {
			if (!strcmp(e->value, "geojson"))
				q->format = WEB_TRACK_GEOJSON;
			else if (!strcmp(e->value, "gpx"))
				q->format = WEB_TRACK_GPX;
			else if (!strcmp(e->value, "csv"))
				q->format = WEB_TRACK_CSV;
			else {
				bad_set(bad, "format", "want geojson, gpx or csv");
				goto done;
			}
		} else {
			bool from = e->key[0] == 'f';

			if (!time_param(e->key, e->value, from ? &q->from_us : &q->to_us, bad))
				goto done;
			*(from ? &has_from : &has_to) = true;
		}
	}
	if (!has_from || !has_to) {
		bad_set(bad, has_from ? "to" : "from", "required");
		goto done;
	}
	if (q->to_us <= q->from_us) {
		bad_set(bad, "to", "must be after from");
		goto done;
	}
	rc = 0;
done:
	evhttp_clear_headers(&kv);
	return rc;
}

int
web_parse_zones_query(const char *query, bool *has_at, int64_t *at_us, struct web_bad *bad)
{
	static const char *const known[] = { "at", NULL };
	struct evkeyvalq kv;
	struct evkeyval *e;
	int rc = -1;

	*has_at = false;
	if (query_split(query, known, &kv, bad) != 0)
		goto done;
	e = TAILQ_FIRST(&kv);
	if (e) {
		if (!time_param("at", e->value, at_us, bad))
			goto done;
		*has_at = true;
	}
	rc = 0;
done:
	evhttp_clear_headers(&kv);
	return rc;
}

int
web_parse_no_query(const char *query, struct web_bad *bad)
{
	static const char *const known[] = { NULL };
	struct evkeyvalq kv;
	int rc = query_split(query, known, &kv, bad);

	evhttp_clear_headers(&kv);
	return rc;
}

bool
web_parse_json_type(const char *ct)
{
	size_t n = sizeof("application/json") - 1;

	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "application/json", n))
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* ---- bodies --------------------------------------------------------------- */

static json_t *
body_object(const char *body, size_t len, struct web_bad *bad)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

	if (!j) {
		bad_set(bad, "body", "not JSON");
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		bad_set(bad, "body", "want a JSON object");
		return NULL;
	}
	return j;
}

int
web_parse_login(const char *body, size_t len, char *user, char *password, struct web_bad *bad)
{
	json_t *j = body_object(body, len, bad);
	json_t *u, *p;
	const char *key;
	json_t *v;
	int rc = -1;

	if (!j)
		return -1;
	json_object_foreach(j, key, v) {
		if (strcmp(key, "user") && strcmp(key, "password")) {
			bad_set(bad, "body", "unknown member (want user and password)");
			goto done;
		}
	}
	u = json_object_get(j, "user");
	p = json_object_get(j, "password");
	if (!json_is_string(u) || json_string_length(u) == 0 ||
	    json_string_length(u) > WEB_NAME_MAX || strlen(json_string_value(u)) !=
	    json_string_length(u)) {
		bad_set(bad, "user", "want a user name (a string of 1..64 bytes)");
		goto done;
	}
	if (!json_is_string(p) || json_string_length(p) == 0 ||
	    json_string_length(p) > WEB_PASSWORD_MAX ||
	    strlen(json_string_value(p)) != json_string_length(p)) {
		bad_set(bad, "password", "want a password (a string of 1..1024 bytes)");
		goto done;
	}
	memcpy(user, json_string_value(u), json_string_length(u) + 1);
	memcpy(password, json_string_value(p), json_string_length(p) + 1);
	rc = 0;
done:
	json_decref(j);
	return rc;
}

/* Characters (code points) of UTF-8 text. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int
web_parse_ack(const char *body, size_t len, char **note, struct web_bad *bad)
{
	json_t *j, *n;
	const char *key;
	json_t *v;
	int rc = -1;

	*note = NULL;
	while (len > 0 && isspace((unsigned char)body[len - 1]))
		len--;
	if (len == 0)
		return 0;
	j = body_object(body, len, bad);
	if (!j)
		return -1;
	json_object_foreach(j, key, v) {
		if (strcmp(key, "note")) {
			bad_set(bad, "body", "unknown member (want note)");
			goto done;
		}
	}
	n = json_object_get(j, "note");
	if (n && !json_is_null(n)) {
		if (!json_is_string(n) || strlen(json_string_value(n)) != json_string_length(n) ||
		    utf8_chars(json_string_value(n)) > WEB_NOTE_MAX) {
			bad_set(bad, "note", "want text of at most 2000 characters");
			goto done;
		}
		if (json_string_length(n) > 0) {
			*note = strdup(json_string_value(n));
			if (!*note) {
				bad_set(bad, "body", "out of memory");
				goto done;
			}
		}
	}
	rc = 0;
done:
	json_decref(j);
	return rc;
}

/* ---- static files --------------------------------------------------------- */

int
web_parse_static_path(const char *path, char *out, size_t cap)
{
	char *dec;
	size_t n;
	const char *seg;

	if (path[0] != '/')
		return -1;
	if (!strcmp(path, "/")) {
		if (cap < sizeof("index.html"))
			return -1;
		strcpy(out, "index.html");
		return 0;
	}
	dec = evhttp_uridecode(path + 1, 0, &n);
	if (!dec)
		return -1;
	if (strlen(dec) != n || n == 0 || n >= cap) {
		free(dec);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)dec[i];

		if (c < 0x20 || c == 0x7f || c == '\\') {
			free(dec);
			return -1;
		}
	}
	/* Every segment non-empty and not starting with '.' (no "..", no
	 * ".", no hidden file). */
	seg = dec;
	for (;;) {
		const char *end = strchr(seg, '/');

		if (end == seg || seg[0] == '.' || (!end && !*seg)) {
			free(dec);
			return -1;
		}
		if (!end)
			break;
		seg = end + 1;
	}
	memcpy(out, dec, n + 1);
	free(dec);
	return 0;
}

const char *
web_content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".geojson", "application/geo+json" },
		{ ".png", "image/png" },
		{ ".svg", "image/svg+xml" },
		{ ".ico", "image/vnd.microsoft.icon" },
		{ ".jpg", "image/jpeg" },
		{ ".webp", "image/webp" },
		{ ".wav", "audio/wav" },
		{ ".mp3", "audio/mpeg" },
		{ ".ogg", "audio/ogg" },
		{ ".map", "application/json" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".woff2", "font/woff2" },
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}
