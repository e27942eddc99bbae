/*
 * test_web_parse: hazgate-web's request parsing (web/web_parse.c) and role
 * rules (web/web_call.c). Tables of named cases: cookies, bearer headers,
 * paths, query strings, JSON bodies, static paths, who may do what, the
 * failed-login throttle; and the fuzz corpus replayed under the fuzz
 * target's checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/corpus_walk.h"
#include "web/web-internal.h"
#include "web/web_parse.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_cookie(void **state)
{
	static const struct {
		const char *name, *header;
		bool ok;
	} cases[] = {
		{ "alone", "hazgate_session=" HEX64, true },
		{ "among others", "a=b; hazgate_session=" HEX64 "; c=d", true },
		{ "quoted", "hazgate_session=\"" HEX64 "\"", true },
		{ "trailing space", "x=1;  hazgate_session=" HEX64 " ", true },
		{ "upper-case hex", "hazgate_session=" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", false },
		{ "short", "hazgate_session=0123", false },
		{ "long", "hazgate_session=" HEX64 "0", false },
		{ "other name", "hazgate_sessionx=" HEX64, false },
		{ "prefix of a name", "xhazgate_session=" HEX64, false },
		{ "empty", "", false },
		{ "no value", "hazgate_session=", false },
		{ "only semicolons", ";;;;", false },
	};
	char out[WEB_SECRET_HEX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = web_parse_cookie(cases[i].header, out);

		if (ok != cases[i].ok)
			fail_msg("cookie case '%s': got %d", cases[i].name, ok);
		if (ok)
			assert_string_equal(out, HEX64);
	}
}

static void
test_bearer(void **state)
{
	char out[WEB_SECRET_HEX + 1];

	(void)state;
	assert_true(web_parse_bearer("Bearer " HEX64, out));
	assert_string_equal(out, HEX64);
	assert_true(web_parse_bearer("bearer  " HEX64 " ", out));
	assert_false(web_parse_bearer("Basic " HEX64, out));
	assert_false(web_parse_bearer("Bearer", out));
	assert_false(web_parse_bearer("Bearer xyz", out));
	assert_false(web_parse_bearer(NULL, out));
	assert_true(web_secret_equal(HEX64, HEX64));
	assert_false(web_secret_equal(HEX64, "0123"));
	assert_false(web_secret_equal("", HEX64));
}

static void
test_path(void **state)
{
	static const struct {
		const char *name, *path;
		int rc;
		enum web_route route;
		int64_t id;
		const char *vehicle;
	} cases[] = {
		{ "root", "/", 0, WEB_R_NONE, 0, "" },
		{ "a file", "/app.js", 0, WEB_R_NONE, 0, "" },
		{ "session", "/api/v1/session", 0, WEB_R_SESSION, 0, "" },
		{ "config", "/api/v1/config", 0, WEB_R_CONFIG, 0, "" },
		{ "alerts", "/api/v1/alerts", 0, WEB_R_ALERTS, 0, "" },
		{ "ack", "/api/v1/alerts/42/ack", 0, WEB_R_ALERT_ACK, 42, "" },
		{ "events", "/api/v1/alerts/7/events", 0, WEB_R_ALERT_EVENTS, 7, "" },
		{ "ack of id 0", "/api/v1/alerts/0/ack", -1, WEB_R_NONE, 0, "" },
		{ "ack of a word", "/api/v1/alerts/x/ack", -1, WEB_R_NONE, 0, "" },
		{ "ack of -1", "/api/v1/alerts/-1/ack", -1, WEB_R_NONE, 0, "" },
		{ "ack of a huge id", "/api/v1/alerts/99999999999999999999/ack", -1, WEB_R_NONE, 0, "" },
		{ "alert alone", "/api/v1/alerts/3", 0, WEB_R_UNKNOWN_API, 0, "" },
		{ "vehicles", "/api/v1/vehicles", 0, WEB_R_VEHICLES, 0, "" },
		{ "vehicle", "/api/v1/vehicles/%E6%99%8BA12345", 0, WEB_R_VEHICLE, 0, "晋A12345" },
		{ "track", "/api/v1/vehicles/T1/track", 0, WEB_R_TRACK, 0, "T1" },
		{ "vehicle with NUL", "/api/v1/vehicles/a%00b", -1, WEB_R_NONE, 0, "" },
		{ "vehicle with LF", "/api/v1/vehicles/a%0Ab", -1, WEB_R_NONE, 0, "" },
		{ "vehicle bad UTF-8", "/api/v1/vehicles/%C3%28", -1, WEB_R_NONE, 0, "" },
		{ "vehicle too long", "/api/v1/vehicles/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", -1, WEB_R_NONE, 0, "" },
		{ "vehicle empty", "/api/v1/vehicles//track", -1, WEB_R_NONE, 0, "" },
		{ "vehicle other tail", "/api/v1/vehicles/T1/x", 0, WEB_R_UNKNOWN_API, 0, "" },
		{ "zones", "/api/v1/zones", 0, WEB_R_ZONES, 0, "" },
		{ "stream", "/api/v1/stream", 0, WEB_R_STREAM, 0, "" },
		{ "unknown api", "/api/v1/nothing", 0, WEB_R_UNKNOWN_API, 0, "" },
		{ "api v2", "/api/v2/alerts", 0, WEB_R_UNKNOWN_API, 0, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct web_path p;
		struct web_bad bad;
		int rc = web_parse_path(cases[i].path, &p, &bad);

		if (rc != cases[i].rc)
			fail_msg("path case '%s': rc %d", cases[i].name, rc);
		if (rc != 0)
			continue;
		if (p.route != cases[i].route || p.id != cases[i].id ||
		    strcmp(p.vehicle, cases[i].vehicle))
			fail_msg("path case '%s': route %d id %lld vehicle '%s'", cases[i].name,
				 p.route, (long long)p.id, p.vehicle);
	}
}

static void
test_alerts_query(void **state)
{
	static const struct {
		const char *name, *query, *bad_param;
	} cases[] = {
		{ "none", NULL, NULL },
		{ "empty", "", NULL },
		{ "all", "open=1&kind=prohibited_entry,overspeed&severity=critical&vehicle=T1&zone=7"
			 "&since_id=10&from=2019-08-10T00:00:00Z&to=2019-08-11T00:00:00Z&limit=10000",
		  NULL },
		{ "limit 0", "limit=0", "limit" },
		{ "limit too big", "limit=10001", "limit" },
		{ "limit word", "limit=ten", "limit" },
		{ "limit empty", "limit=", "limit" },
		{ "limit with junk", "limit=5x", "limit" },
		{ "open 2", "open=2", "open" },
		{ "severity", "severity=high", "severity" },
		{ "kind with quote", "kind=a'b", "kind" },
		{ "kind empty item", "kind=a,,b", "kind" },
		{ "kind braces", "kind=%7Ba%7D", "kind" },
		{ "zone", "zone=x", "zone" },
		{ "since_id negative", "since_id=-1", "since_id" },
		{ "from", "from=yesterday", "from" },
		{ "to before from", "from=2019-08-11T00:00:00Z&to=2019-08-10T00:00:00Z", "to" },
		{ "unknown", "colour=red", "colour" },
		{ "twice", "limit=1&limit=2", "limit" },
		{ "vehicle too long", "vehicle=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "vehicle" },
		{ "not a query", "a", "query" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct web_alerts_q q;
		struct web_bad bad = { "", "" };
		int rc = web_parse_alerts_query(cases[i].query, &q, &bad);

		if (!cases[i].bad_param) {
			if (rc != 0)
				fail_msg("alerts case '%s': refused %s: %s", cases[i].name, bad.param,
					 bad.why);
			continue;
		}
		if (rc == 0 || strcmp(bad.param, cases[i].bad_param))
			fail_msg("alerts case '%s': rc %d param '%s'", cases[i].name, rc, bad.param);
	}
}

static void
test_alerts_values(void **state)
{
	struct web_alerts_q q;
	struct web_bad bad;

	(void)state;
	assert_int_equal(web_parse_alerts_query(NULL, &q, &bad), 0);
	assert_int_equal(q.limit, WEB_LIMIT_DEFAULT);
	assert_false(q.open);
	assert_int_equal(web_parse_alerts_query("open=1&vehicle=%E6%99%8BA1&limit=5&since_id=9",
						&q, &bad), 0);
	assert_true(q.open);
	assert_string_equal(q.vehicle, "晋A1");
	assert_int_equal(q.limit, 5);
	assert_true(q.has_since_id);
	assert_int_equal(q.since_id, 9);
}

static void
test_track_query(void **state)
{
	struct web_track_q q;
	struct web_bad bad;

	(void)state;
	assert_int_equal(web_parse_track_query("from=2019-08-10T00:00:00Z&to=2019-08-10T01:00:00Z",
					       &q, &bad), 0);
	assert_int_equal(q.format, WEB_TRACK_GEOJSON);
	assert_int_equal(web_parse_track_query("from=2019-08-10T00:00:00Z&to=2019-08-10T01:00:00Z"
					       "&format=gpx", &q, &bad), 0);
	assert_int_equal(q.format, WEB_TRACK_GPX);
	assert_int_equal(web_parse_track_query("from=2019-08-10T00:00:00Z", &q, &bad), -1);
	assert_string_equal(bad.param, "to");
	assert_int_equal(web_parse_track_query("to=2019-08-10T00:00:00Z", &q, &bad), -1);
	assert_string_equal(bad.param, "from");
	assert_int_equal(web_parse_track_query("from=2019-08-10T00:00:00Z&to=2019-08-10T01:00:00Z"
					       "&format=kml", &q, &bad), -1);
	assert_string_equal(bad.param, "format");
	assert_int_equal(web_parse_zones_query("at=2019-08-10T00:00:00Z", &(bool){ false },
					       &(int64_t){ 0 }, &bad), 0);
	assert_int_equal(web_parse_zones_query("at=noon", &(bool){ false }, &(int64_t){ 0 }, &bad),
			 -1);
	assert_string_equal(bad.param, "at");
	assert_int_equal(web_parse_no_query("x=1", &bad), -1);
	assert_int_equal(web_parse_no_query(NULL, &bad), 0);
}

static void
test_bodies(void **state)
{
	static const struct {
		const char *name, *body;
		int rc;
		const char *bad_param;
	} login[] = {
		{ "good", "{\"user\":\"alice\",\"password\":\"pw\"}", 0, NULL },
		{ "not JSON", "{user:alice}", -1, "body" },
		{ "array", "[1]", -1, "body" },
		{ "no user", "{\"password\":\"pw\"}", -1, "user" },
		{ "user a number", "{\"user\":1,\"password\":\"pw\"}", -1, "user" },
		{ "empty password", "{\"user\":\"a\",\"password\":\"\"}", -1, "password" },
		{ "NUL in user", "{\"user\":\"a\\u0000b\",\"password\":\"pw\"}", -1, "body" },
		{ "extra member", "{\"user\":\"a\",\"password\":\"p\",\"x\":1}", -1, "body" },
		{ "duplicate", "{\"user\":\"a\",\"user\":\"b\",\"password\":\"p\"}", -1, "body" },
		{ "empty", "", -1, "body" },
	};
	char user[WEB_NAME_MAX + 1], pw[WEB_PASSWORD_MAX + 1];
	struct web_bad bad;
	char *note;

	(void)state;
	for (size_t i = 0; i < sizeof(login) / sizeof(login[0]); i++) {
		int rc = web_parse_login(login[i].body, strlen(login[i].body), user, pw, &bad);

		if (rc != login[i].rc || (rc && strcmp(bad.param, login[i].bad_param)))
			fail_msg("login case '%s': rc %d param '%s'", login[i].name, rc,
				 rc ? bad.param : "");
	}
	assert_true(web_parse_json_type("application/json"));
	assert_true(web_parse_json_type("Application/JSON; charset=utf-8"));
	assert_false(web_parse_json_type("text/plain"));
	assert_false(web_parse_json_type("application/jsonx"));
	assert_false(web_parse_json_type("application/x-www-form-urlencoded"));
	assert_false(web_parse_json_type(NULL));
	assert_int_equal(web_parse_ack("", 0, &note, &bad), 0);
	assert_null(note);
	assert_int_equal(web_parse_ack("{}", 2, &note, &bad), 0);
	assert_null(note);
	assert_int_equal(web_parse_ack("{\"note\":\"on my way\"}", 20, &note, &bad), 0);
	assert_string_equal(note, "on my way");
	free(note);
	assert_int_equal(web_parse_ack("{\"note\":5}", 10, &note, &bad), -1);
	assert_string_equal(bad.param, "note");
	assert_int_equal(web_parse_ack("{\"by\":\"x\"}", 10, &note, &bad), -1);
	assert_string_equal(bad.param, "body");
	assert_int_equal(web_parse_ack("{\"note\":", 8, &note, &bad), -1);
	assert_string_equal(bad.param, "body");
}

static void
test_static_path(void **state)
{
	static const struct {
		const char *path, *out;
	} cases[] = {
		{ "/", "index.html" },
		{ "/app.js", "app.js" },
		{ "/i18n/zh.json", "i18n/zh.json" },
		{ "/%61pp.js", "app.js" },
		{ "/../etc/passwd", NULL },
		{ "/%2e%2e/etc/passwd", NULL },
		{ "/a/../../x", NULL },
		{ "/a/%2e%2e/%2e%2e/x", NULL },
		{ "/.hidden", NULL },
		{ "/a//b", NULL },
		{ "/a/", NULL },
		{ "/a%00b", NULL },
		{ "/a%5Cb", NULL },
		{ "/a\\b", NULL },
		{ "//etc/passwd", NULL },
		{ "noslash", NULL },
		{ "/%zz", "%zz" },      /* not an escape: kept as written */
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = web_parse_static_path(cases[i].path, out, sizeof(out));

		if (cases[i].out ? rc != 0 || strcmp(out, cases[i].out) : rc == 0)
			fail_msg("static case '%s': rc %d out '%s'", cases[i].path, rc,
				 rc ? "" : out);
	}
	assert_string_equal(web_content_type("a.js"), "text/javascript; charset=utf-8");
	assert_string_equal(web_content_type("x"), "application/octet-stream");
}

static void
test_roles(void **state)
{
	static const struct {
		enum web_role role, need;
		bool ok;
	} cases[] = {
		{ WEB_ROLE_VIEWER, WEB_ROLE_VIEWER, true },
		{ WEB_ROLE_VIEWER, WEB_ROLE_DISPATCHER, false },
		{ WEB_ROLE_VIEWER, WEB_ROLE_ADMIN, false },
		{ WEB_ROLE_DISPATCHER, WEB_ROLE_VIEWER, true },
		{ WEB_ROLE_DISPATCHER, WEB_ROLE_DISPATCHER, true },
		{ WEB_ROLE_DISPATCHER, WEB_ROLE_ADMIN, false },
		{ WEB_ROLE_ADMIN, WEB_ROLE_DISPATCHER, true },
		{ WEB_ROLE_NONE, WEB_ROLE_VIEWER, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (web_role_allows(cases[i].role, cases[i].need) != cases[i].ok)
			fail_msg("role %d need %d", cases[i].role, cases[i].need);
	assert_int_equal(web_role_parse("dispatcher"), WEB_ROLE_DISPATCHER);
	assert_int_equal(web_role_parse("Dispatcher"), WEB_ROLE_NONE);
	assert_int_equal(web_role_parse(NULL), WEB_ROLE_NONE);
	assert_string_equal(web_role_name(WEB_ROLE_ADMIN), "admin");
}

static void
test_throttle(void **state)
{
	struct web_throttle *t = web_throttle_new();
	int64_t now = 1000000000000;

	(void)state;
	assert_non_null(t);
	for (int i = 0; i < 4; i++)
		web_throttle_note(t, "alice", "10.0.0.1", false, now);
	assert_int_equal(web_throttle_wait(t, "alice", "10.0.0.1", now), 0);
	web_throttle_note(t, "alice", "10.0.0.1", false, now);      /* the 5th */
	assert_int_equal(web_throttle_wait(t, "alice", "10.0.0.1", now), 1);
	/* Per user from another address, and per address for another user. */
	assert_int_equal(web_throttle_wait(t, "alice", "10.0.0.2", now), 1);
	assert_int_equal(web_throttle_wait(t, "bob", "10.0.0.1", now), 1);
	assert_int_equal(web_throttle_wait(t, "bob", "10.0.0.2", now), 0);
	web_throttle_note(t, "alice", "10.0.0.1", false, now);
	assert_int_equal(web_throttle_wait(t, "alice", "10.0.0.1", now), 2);
	assert_int_equal(web_throttle_wait(t, "alice", "10.0.0.1", now + 2000000), 0);
	for (int i = 0; i < 30; i++)
		web_throttle_note(t, "alice", "10.0.0.1", false, now);
	assert_int_equal(web_throttle_wait(t, "alice", "10.0.0.1", now), 900);
	web_throttle_note(t, "alice", "10.0.0.1", true, now);
	assert_int_equal(web_throttle_wait(t, "alice", "10.0.0.1", now), 0);
	web_throttle_free(t);
}

/* The fuzz target's checks (tests/fuzz/fuzz_web_request.c, linked in)
 * over its corpus: seeds and what the fuzzer kept. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
replay(const char *name, const uint8_t *data, size_t size, const void *arg)
{
	(void)name;
	(void)arg;
	LLVMFuzzerTestOneInput(data, size);
	return false;
}

static void
test_corpus(void **state)
{
	struct corpus_count n;

	(void)state;
	n = corpus_walk("corpus/web_request", "", replay, NULL);
	assert_true(n.files >= 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie),        cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_path),          cmocka_unit_test(test_alerts_query),
		cmocka_unit_test(test_alerts_values), cmocka_unit_test(test_track_query),
		cmocka_unit_test(test_bodies),        cmocka_unit_test(test_static_path),
		cmocka_unit_test(test_roles),         cmocka_unit_test(test_throttle),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
