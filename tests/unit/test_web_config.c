/*
 * test_web_config: hazgate-web's configuration (web/web_config.c): the
 * defaults, good files, [webhook.NAME] sections into struct web_hook_conf,
 * and bad files with the "FILE:LINE: ..." message they must give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "web/web_config.h"

static void
test_defaults(void **state)
{
	struct web_config c;
	char err[512] = "";

	(void)state;
	assert_int_equal(web_config_load_string("empty.conf", "", &c, err, sizeof(err)), 0);
	assert_string_equal(c.web.listen, "127.0.0.1:9760");
	assert_int_equal(c.web.session_idle_s, 1800);
	assert_int_equal(c.web.session_max_s, 43200);
	assert_string_equal(c.web.timezone, "Asia/Shanghai");
	assert_string_equal(c.web.tiles_url, "");
	assert_string_equal(c.web.metrics_listen, "127.0.0.1:9761");
	assert_int_equal(c.web.allow_plain_http, 0);
	assert_int_equal(c.postgres.connections, 4);
	assert_true(c.web.max_body_bytes == 64 * 1024);
	assert_int_equal(c.nhooks, 0);
}

static void
test_hooks(void **state)
{
	struct web_config c;
	char err[512] = "";
	const char *text =
		"[web]\nlisten = 127.0.0.1:8080\n"
		"[webhook.city]\nurl = https://city.example/hook\nsecret_file = /etc/s\n"
		"kinds = prohibited_entry\nmin_severity = critical\n"
		"[webhook.feed]\nurl = http://127.0.0.1:9/x\n";

	(void)state;
	assert_int_equal(web_config_load_string("h.conf", text, &c, err, sizeof(err)), 0);
	assert_int_equal(c.nhooks, 2);
	assert_string_equal(c.hooks[0].name, "city");
	assert_string_equal(c.hooks[0].url, "https://city.example/hook");
	assert_string_equal(c.hooks[0].secret_file, "/etc/s");
	assert_string_equal(c.hooks[0].kinds, "prohibited_entry");
	assert_string_equal(c.hooks[0].min_severity, "critical");
	assert_string_equal(c.hooks[1].name, "feed");
	assert_string_equal(c.hooks[1].min_severity, "info");
	assert_string_equal(c.web.listen, "127.0.0.1:8080");
}

static void
test_bad(void **state)
{
	static const struct {
		const char *name, *text, *err;
	} cases[] = {
		{ "unknown key", "[web]\nlisten = 127.0.0.1:1\ncolour = red\n",
		  "b.conf:3: unknown key 'colour' in [web]" },
		{ "bad number", "[web]\nsession_idle_s = soon\n",
		  "b.conf:2: [web] session_idle_s = 'soon': not an integer" },
		{ "syntax", "[web]\nlisten\n", "b.conf:2: syntax error" },
		{ "plain http outside loopback", "[web]\nlisten = 0.0.0.0:80\n",
		  "b.conf: [web] listen = '0.0.0.0:80': plain HTTP only on a loopback address" },
		{ "tls half", "[web]\ntls_cert = /x\n", "b.conf: [web] tls_cert and tls_key go together" },
		{ "bad severity", "[webhook.a]\nurl = http://x/\nmin_severity = loud\n",
		  "b.conf:3: [webhook.a] min_severity = 'loud'" },
		{ "hook without url", "[webhook.a]\nkinds = x\n", "b.conf: [webhook.a] url = ''" },
		{ "hook unknown key", "[webhook.a]\nurl = http://x/\ncolour = red\n",
		  "b.conf:3: unknown key 'colour' in [webhook.a]" },
		{ "hook name empty", "[webhook.]\nurl = http://x/\n", "b.conf:2: [webhook.]: at most" },
		{ "unknown section", "[nope]\nx = 1\n", "b.conf:2: unknown section [nope]" },
		{ "bad timezone", "[web]\ntimezone = Mars/Olympus\n", "b.conf: [web] timezone" },
		{ "idle above max", "[web]\nsession_idle_s = 100\nsession_max_s = 50\n",
		  "b.conf: [web] session_idle_s is above session_max_s" },
	};
	struct web_config c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";
		int rc = web_config_load_string("b.conf", cases[i].text, &c, err, sizeof(err));

		if (rc == 0 || strncmp(err, cases[i].err, strlen(cases[i].err)))
			fail_msg("case '%s': rc %d err '%s'", cases[i].name, rc, err);
	}
}

static void
test_too_many_hooks(void **state)
{
	char text[8192] = "", err[512] = "";
	struct web_config c;
	size_t n = 0;

	(void)state;
	for (int i = 0; i <= WEB_HOOK_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[webhook.h%d]\nurl = http://x/\n", i);
	assert_int_not_equal(web_config_load_string("m.conf", text, &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "m.conf:34: [webhook.h16]: at most 16 webhook sections"));
}

static void
test_loopback(void **state)
{
	(void)state;
	assert_true(web_config_is_loopback("127.0.0.1:80"));
	assert_true(web_config_is_loopback("127.1.2.3:80"));
	assert_true(web_config_is_loopback("[::1]:80"));
	assert_true(web_config_is_loopback("localhost:80"));
	assert_false(web_config_is_loopback("0.0.0.0:80"));
	assert_false(web_config_is_loopback("10.0.0.1:80"));
	assert_false(web_config_is_loopback("[::]:80"));
	assert_false(web_config_is_loopback("nonsense"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_bad),      cmocka_unit_test(test_too_many_hooks),
		cmocka_unit_test(test_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
