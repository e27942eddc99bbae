/*
 * fuzz_web_request.c - libFuzzer target for hazgate-web's request parsing
 * (web/web_parse.c): what the server reads from a request beyond what
 * evhttp parses. The first byte chooses the parser, the rest is its input:
 *
 *   0 Cookie header       3 GET alerts query     6 ack body
 *   1 Authorization       4 track query          7 static file path
 *   2 URI path (routes)   5 login body           8 zones query
 *
 * Besides crashes and sanitizer reports, the target aborts when a success
 * breaks the parser's contract: a session id is 64 lower-case hex digits;
 * a plate 1..32 bytes without control characters; a limit in 1..10000,
 * kinds only [a-z0-9_,]; a track range from < to; a static path relative,
 * without "..", "." or empty segments, NUL, backslash or hidden names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_hex(const char *s)
{
	if (strlen(s) != WEB_SECRET_HEX || strspn(s, "0123456789abcdef") != WEB_SECRET_HEX)
		abort();
}

static void
check_static(const char *p)
{
	const char *seg = p;

	if (!*p || *p == '/' || strchr(p, '\\'))
		abort();
	for (;;) {
		const char *end = strchr(seg, '/');

		if (end == seg || *seg == '.')
			abort();
		if (!end)
			break;
		seg = end + 1;
	}
	for (const unsigned char *c = (const unsigned char *)p; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	struct web_bad bad;

	if (size < 1 || size > 65536)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 9) {
	case 0: {
		char out[WEB_SECRET_HEX + 1];

		if (web_parse_cookie(s, out))
			check_hex(out);
		break;
	}
	case 1: {
		char out[WEB_SECRET_HEX + 1];

		if (web_parse_bearer(s, out))
			check_hex(out);
		break;
	}
	case 2: {
		struct web_path p;

		if (web_parse_path(s, &p, &bad) == 0 &&
		    (p.route == WEB_R_VEHICLE || p.route == WEB_R_TRACK)) {
			size_t n = strlen(p.vehicle);

			if (n == 0 || n > WEB_VEHICLE_MAX)
				abort();
			for (size_t i = 0; i < n; i++)
				if ((unsigned char)p.vehicle[i] < 0x20)
					abort();
		}
		if (web_parse_path(s, &p, &bad) == 0 &&
		    (p.route == WEB_R_ALERT_ACK || p.route == WEB_R_ALERT_EVENTS) && p.id <= 0)
			abort();
		break;
	}
	case 3: {
		struct web_alerts_q q;

		if (web_parse_alerts_query(s, &q, &bad) == 0) {
			if (q.limit < 1 || q.limit > WEB_LIMIT_MAX)
				abort();
			if (strspn(q.kinds, "abcdefghijklmnopqrstuvwxyz0123456789_,") != strlen(q.kinds))
				abort();
			if (q.has_from && q.has_to && q.to_us <= q.from_us)
				abort();
		}
		break;
	}
	case 4: {
		struct web_track_q q;

		if (web_parse_track_query(s, &q, &bad) == 0 && q.to_us <= q.from_us)
			abort();
		break;
	}
	case 5: {
		char user[WEB_NAME_MAX + 1], pw[WEB_PASSWORD_MAX + 1];

		if (web_parse_login(s, size - 1, user, pw, &bad) == 0 &&
		    (!*user || !*pw || strlen(user) > WEB_NAME_MAX))
			abort();
		break;
	}
	case 6: {
		char *note = NULL;

		if (web_parse_ack(s, size - 1, &note, &bad) == 0 && note && !*note)
			abort();
		free(note);
		break;
	}
	case 7: {
		char out[256];

		if (web_parse_static_path(s, out, sizeof(out)) == 0)
			check_static(out);
		break;
	}
	case 8: {
		bool has_at;
		int64_t at;

		(void)web_parse_zones_query(s, &has_at, &at, &bad);
		break;
	}
	}
	free(s);
	return 0;
}
