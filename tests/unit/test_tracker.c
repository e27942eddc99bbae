/*
 * test_tracker.c - cmocka tests of the tracker's pure parts: the reporting
 * policy (tables of fix sequences and the decisions expected), the payload
 * builder and RFC 3339 times, and the configuration table (defaults, bounds,
 * unknown keys, file and line in errors).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracker/tracker.h"

/* ---- policy ---------------------------------------------------------------- */

static const struct trk_policy_params defaults = { 10, 60, 30, 100, 5 };

/* One metre of latitude in degrees (mean earth radius). */
#define M_LAT (1.0 / 111195.08)

struct step {
	double t_s;             /* fix time, seconds */
	double north_m;         /* position, metres north of the origin */
	double speed_kmh, heading;
	enum trk_report want;
};

struct policy_case {
	const char *name;
	struct trk_policy_params p;
	struct step steps[12];
	int n;
};

static const struct policy_case policy_cases[] = {
	{ "first fix is reported", { 10, 60, 30, 100, 5 },
	  { { 0, 0, 40, 90, TRK_REPORT_FIRST } }, 1 },
	{ "min interval holds back a far move", { 10, 60, 30, 100, 5 },
	  { { 0, 0, 40, 0, TRK_REPORT_FIRST }, { 5, 500, 40, 0, TRK_REPORT_NONE },
	    { 10, 600, 40, 0, TRK_REPORT_DISTANCE } }, 3 },
	{ "distance below threshold waits for max interval", { 10, 60, 30, 100, 5 },
	  { { 0, 0, 5, 0, TRK_REPORT_FIRST }, { 10, 20, 5, 0, TRK_REPORT_NONE },
	    { 30, 60, 5, 0, TRK_REPORT_NONE }, { 59.999, 99, 5, 0, TRK_REPORT_NONE },
	    { 60, 99.5, 5, 0, TRK_REPORT_INTERVAL } }, 5 },
	{ "distance exactly at threshold reports", { 10, 60, 30, 100, 5 },
	  { { 0, 0, 36, 0, TRK_REPORT_FIRST }, { 10, 100.001, 36, 0, TRK_REPORT_DISTANCE },
	    { 20, 199, 36, 0, TRK_REPORT_NONE } }, 3 },
	{ "stopped vehicle heartbeats every max interval", { 10, 60, 30, 100, 5 },
	  { { 0, 0, 0, 0, TRK_REPORT_FIRST }, { 30, 0, 0, 0, TRK_REPORT_NONE },
	    { 60, 0, 0, 0, TRK_REPORT_INTERVAL }, { 119, 0, 0, 0, TRK_REPORT_NONE },
	    { 120, 0, 0, 0, TRK_REPORT_INTERVAL } }, 5 },
	{ "heading change reports at once", { 10, 60, 30, 100, 5 },
	  { { 0, 0, 30, 10, TRK_REPORT_FIRST }, { 10, 10, 30, 35, TRK_REPORT_NONE },
	    { 20, 20, 30, 40, TRK_REPORT_HEADING } }, 3 },
	{ "heading wraps through north", { 10, 60, 30, 100, 5 },
	  { { 0, 0, 30, 350, TRK_REPORT_FIRST }, { 10, 10, 30, 10, TRK_REPORT_NONE },
	    { 20, 20, 30, 21, TRK_REPORT_HEADING } }, 3 },
	{ "heading ignored when slow", { 10, 60, 30, 100, 5 },
	  { { 0, 0, 3, 0, TRK_REPORT_FIRST }, { 10, 1, 3, 180, TRK_REPORT_NONE },
	    { 20, 2, 4.9, 90, TRK_REPORT_NONE } }, 3 },
	{ "repeated and older fix times are not reported", { 0, 60, 30, 100, 5 },
	  { { 10, 0, 40, 0, TRK_REPORT_FIRST }, { 10, 500, 40, 0, TRK_REPORT_NONE },
	    { 5, 900, 40, 0, TRK_REPORT_NONE }, { 11, 900, 40, 0, TRK_REPORT_DISTANCE } }, 4 },
	{ "every fix with min 0 and max 1", { 0, 1, 30, 100, 5 },
	  { { 0, 0, 0, 0, TRK_REPORT_FIRST }, { 1, 0, 0, 0, TRK_REPORT_INTERVAL },
	    { 2, 0, 0, 0, TRK_REPORT_INTERVAL } }, 3 },
};

static void
test_policy_table(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof policy_cases / sizeof policy_cases[0]; c++) {
		const struct policy_case *pc = &policy_cases[c];
		trk_policy *p = trk_policy_new(&pc->p);

		assert_non_null(p);
		for (int i = 0; i < pc->n; i++) {
			const struct step *s = &pc->steps[i];
			struct trk_fix f = {
				.time_ms = (int64_t)llround(s->t_s * 1000), .lat = 37.0 + s->north_m * M_LAT,
				.lon = 112.0, .speed_kmh = s->speed_kmh, .heading = s->heading,
				.alt_m = NAN, .hdop = NAN, .eph = NAN, .mode = 3, .sats = -1
			};
			enum trk_report got = trk_policy_decide(p, &f);

			if (got != s->want)
				fail_msg("case \"%s\" step %d: got %s, want %s", pc->name, i,
				         trk_report_name(got), trk_report_name(s->want));
		}
		trk_policy_free(p);
	}
}

static void
test_distance(void **state)
{
	(void)state;
	/* One degree of latitude on the mean sphere. */
	assert_true(fabs(trk_distance_m(37, 112, 38, 112) - 111195.08) < 0.5);
	assert_true(trk_distance_m(37, 112, 37, 112) == 0);
	/* Taiyuan to Beijing, roughly 400 km. */
	assert_true(fabs(trk_distance_m(37.87, 112.55, 39.90, 116.40) / 1000 - 400) < 20);
	(void)defaults;
}

/* ---- payload ---------------------------------------------------------------- */

struct time_case {
	int64_t ms;
	const char *want;
};

static const struct time_case time_cases[] = {
	{ 0, "1970-01-01T00:00:00.000Z" },
	{ 1565395202000, "2019-08-10T00:00:02.000Z" },
	{ 1565395202123, "2019-08-10T00:00:02.123Z" },
	{ 1565395199999, "2019-08-09T23:59:59.999Z" },
	{ 951782400000, "2000-02-29T00:00:00.000Z" },
	{ -1, "1969-12-31T23:59:59.999Z" },
};

static void
test_format_time(void **state)
{
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof time_cases / sizeof time_cases[0]; i++) {
		assert_int_equal(trk_format_time(time_cases[i].ms, buf, sizeof buf), TRK_OK);
		assert_string_equal(buf, time_cases[i].want);
	}
	assert_int_equal(trk_format_time(0, buf, 10), TRK_ERR_INVAL);
}

static void
test_payload_full(void **state)
{
	struct trk_fix f = {
		.time_ms = 1565395202000, .lat = 37.779621667, .lon = 112.604685,
		.speed_kmh = 12.964 * 3.6, .heading = 227.9, .alt_m = 780.0, .hdop = 0.7,
		.eph = 13.3, .mode = 3, .sats = 9
	};
	struct trk_ident id = { "晋A10005", "1203", "3" };
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(trk_payload_build(&f, &id, 42, &out, &len), TRK_OK);
	assert_int_equal(len, strlen(out));
	assert_string_equal(out,
	        "{\"vehicle\":\"晋A10005\",\"ts\":\"2019-08-10T00:00:02.000Z\","
	        "\"lat\":37.7796217,\"lon\":112.604685,\"speed_kmh\":46.67,\"heading\":227.9,"
	        "\"alt_m\":780.0,\"hdop\":0.7,\"eph\":13.3,\"fix\":3,\"sats\":9,\"un\":\"1203\","
	        "\"hazard_class\":\"3\",\"seq\":42}");
	free(out);
}

static void
test_payload_unknowns_left_out(void **state)
{
	struct trk_fix f = {
		.time_ms = 1565395202500, .lat = -33.5, .lon = -70.25, .speed_kmh = NAN,
		.heading = NAN, .alt_m = NAN, .hdop = NAN, .eph = NAN, .mode = 2, .sats = -1
	};
	struct trk_ident id = { "TRUCK-7", NULL, "" };
	char *out;
	size_t len;
	json_t *j;
	json_error_t e;

	(void)state;
	assert_int_equal(trk_payload_build(&f, &id, 18446744073709551ull, &out, &len), TRK_OK);
	j = json_loads(out, 0, &e);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 6);       /* vehicle ts lat lon fix seq */
	assert_string_equal(json_string_value(json_object_get(j, "ts")), "2019-08-10T00:00:02.500Z");
	assert_true(json_real_value(json_object_get(j, "lat")) == -33.5);
	assert_int_equal(json_integer_value(json_object_get(j, "fix")), 2);
	assert_null(json_object_get(j, "un"));
	assert_null(json_object_get(j, "hazard_class"));
	assert_null(json_object_get(j, "speed_kmh"));
	json_decref(j);
	free(out);
}

static void
test_payload_rejects_bad_input(void **state)
{
	struct trk_fix f = { .time_ms = 0, .lat = NAN, .lon = 1, .mode = 2, .sats = -1 };
	struct trk_ident id = { "X", NULL, NULL }, noid = { "", NULL, NULL };
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(trk_payload_build(&f, &id, 1, &out, &len), TRK_ERR_INVAL);
	assert_null(out);
	f.lat = 1;
	assert_int_equal(trk_payload_build(&f, &noid, 1, &out, &len), TRK_ERR_INVAL);
	assert_int_equal(trk_payload_build(&f, &id, 1, &out, &len), TRK_OK);
	free(out);
}

/* ---- configuration ------------------------------------------------------------ */

static void
test_config_defaults(void **state)
{
	struct trk_config c;
	char err[256];

	(void)state;
	assert_int_equal(trk_config_init(&c), TRK_OK);
	assert_true(c.report.min_interval_s == 10);
	assert_true(c.report.max_interval_s == 60);
	assert_true(c.report.heading_change_deg == 30);
	assert_true(c.report.min_distance_m == 100);
	assert_int_equal(c.gpsd_port, 2947);
	assert_int_equal(c.mqtt_port, 1883);
	assert_int_equal(c.queue_max_bytes, 64 << 20);
	assert_int_equal(c.fsync, TRK_FSYNC_INTERVAL);
	/* No vehicle: the only thing a default configuration lacks. */
	assert_int_equal(trk_config_check(&c, err, sizeof err), TRK_ERR_CONFIG);
	assert_non_null(strstr(err, "vehicle"));
	assert_int_equal(trk_config_set(&c, "tracker", "vehicle", "晋A10005", err, sizeof err), TRK_OK);
	assert_int_equal(trk_config_check(&c, err, sizeof err), TRK_OK);
	trk_config_free(&c);
}

struct set_case {
	const char *section, *name, *value;
	int want;
	const char *err_has;
};

static const struct set_case set_cases[] = {
	{ "report", "min_interval_s", "2.5", TRK_OK, NULL },
	{ "report", "min_interval_s", "-1", TRK_ERR_CONFIG, "bad value \"-1\" for [report] min_interval_s" },
	{ "report", "min_interval_s", "abc", TRK_ERR_CONFIG, "bad value" },
	{ "report", "heading_change_deg", "181", TRK_ERR_CONFIG, "1..180" },
	{ "gpsd", "port", "65536", TRK_ERR_CONFIG, "[gpsd] port" },
	{ "gpsd", "port", "12x", TRK_ERR_CONFIG, "bad value" },
	{ "queue", "max_bytes", "16M", TRK_OK, NULL },
	{ "queue", "max_bytes", "1K", TRK_ERR_CONFIG, "max_bytes" },
	{ "queue", "fsync", "ALWAYS", TRK_OK, NULL },
	{ "queue", "fsync", "sometimes", TRK_ERR_CONFIG, "always | interval | never" },
	{ "log", "level", "debug", TRK_OK, NULL },
	{ "mqtt", "hostname", "x", TRK_ERR_CONFIG, "unknown key \"hostname\" in section [mqtt]" },
	{ "nosuch", "host", "x", TRK_ERR_CONFIG, "unknown key" },
};

static void
test_config_set_table(void **state)
{
	struct trk_config c;
	char err[256];

	(void)state;
	assert_int_equal(trk_config_init(&c), TRK_OK);
	for (size_t i = 0; i < sizeof set_cases / sizeof set_cases[0]; i++) {
		const struct set_case *s = &set_cases[i];

		err[0] = '\0';
		if (trk_config_set(&c, s->section, s->name, s->value, err, sizeof err) != s->want)
			fail_msg("[%s] %s = %s: unexpected result (%s)", s->section, s->name,
			         s->value, err);
		if (s->err_has && !strstr(err, s->err_has))
			fail_msg("[%s] %s = %s: error \"%s\" lacks \"%s\"", s->section, s->name,
			         s->value, err, s->err_has);
	}
	assert_true(c.report.min_interval_s == 2.5);
	assert_int_equal(c.queue_max_bytes, 16 << 20);
	assert_int_equal(c.fsync, TRK_FSYNC_ALWAYS);
	trk_config_free(&c);
}

static char *
write_temp(const char *text)
{
	const char *tmp = getenv("TMPDIR");
	char *path = malloc(256);
	int fd;

	snprintf(path, 256, "%s/trkcfg.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

struct file_case {
	const char *name, *text;
	int want;
	const char *err_has;    /* after "FILE:" */
};

static const struct file_case file_cases[] = {
	{ "good file", "# comment\n[tracker]\nvehicle = 晋A10005\nun = 1203\nhazard_class = 3\n"
	  "[report]\nmin_interval_s = 5\n[mqtt]\nport = 8883\n", TRK_OK, NULL },
	{ "a key given again overrides", "[tracker]\nvehicle = V\nun = 1203\n[mqtt]\nport = 1\n"
	  "[report]\nmin_interval_s = 5\n[mqtt]\nport = 8883\n[tracker]\nvehicle = 晋A10005\n",
	  TRK_OK, NULL },
	{ "unknown key names line", "[tracker]\nvehicle = V\n\n[report]\nmin_interval = 5\n",
	  TRK_ERR_CONFIG, ":5: unknown key \"min_interval\" in section [report]" },
	{ "bad value names line", "[gpsd]\nport = 0\n", TRK_ERR_CONFIG, ":2: bad value \"0\"" },
	{ "syntax error names line", "[tracker]\nvehicle V\n", TRK_ERR_CONFIG, ":2: " },
};

static void
test_config_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof file_cases / sizeof file_cases[0]; i++) {
		const struct file_case *fc = &file_cases[i];
		struct trk_config c;
		char err[512] = "", *path = write_temp(fc->text);
		int rc;

		assert_int_equal(trk_config_init(&c), TRK_OK);
		rc = trk_config_load(&c, path, err, sizeof err);
		if (rc != fc->want)
			fail_msg("%s: rc %d (%s)", fc->name, rc, err);
		if (fc->err_has) {
			if (strncmp(err, path, strlen(path)) != 0 || !strstr(err, fc->err_has))
				fail_msg("%s: error \"%s\" lacks file and \"%s\"", fc->name, err, fc->err_has);
		} else {
			assert_string_equal(c.vehicle, "晋A10005");
			assert_string_equal(c.un, "1203");
			assert_true(c.report.min_interval_s == 5);
			assert_int_equal(c.mqtt_port, 8883);
		}
		trk_config_free(&c);
		unlink(path);
		free(path);
	}
}

struct check_case {
	const char *name, *section, *key, *value, *err_has;
};

static const struct check_case check_cases[] = {
	{ "vehicle too long", "tracker", "vehicle", "123456789012345678901234567890123", "vehicle" },
	{ "vehicle with slash", "tracker", "vehicle", "a/b", "vehicle" },
	{ "vehicle bad utf-8", "tracker", "vehicle", "\xc3\x28", "vehicle" },
	{ "min above max", "report", "min_interval_s", "61", "min_interval_s" },
	{ "cert without key", "mqtt", "tls_cert", "/x.pem", "tls_key" },
	{ "password without user", "mqtt", "password_file", "/pw", "username" },
};

static void
test_config_check_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof check_cases / sizeof check_cases[0]; i++) {
		const struct check_case *cc = &check_cases[i];
		struct trk_config c;
		char err[256] = "";

		assert_int_equal(trk_config_init(&c), TRK_OK);
		assert_int_equal(trk_config_set(&c, "tracker", "vehicle", "V1", err, sizeof err), TRK_OK);
		assert_int_equal(trk_config_set(&c, cc->section, cc->key, cc->value, err, sizeof err), TRK_OK);
		if (trk_config_check(&c, err, sizeof err) != TRK_ERR_CONFIG || !strstr(err, cc->err_has))
			fail_msg("%s: check gave \"%s\"", cc->name, err);
		trk_config_free(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_table),
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_payload_full),
		cmocka_unit_test(test_payload_unknowns_left_out),
		cmocka_unit_test(test_payload_rejects_bad_input),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_set_table),
		cmocka_unit_test(test_config_files),
		cmocka_unit_test(test_config_check_table),
	};

	return cmocka_run_group_tests_name("tracker", tests, NULL, NULL);
}
