/*
 * test_geofence_rules.c - unit tests of the rules beyond geometry
 * (DESIGN.md "Rules beyond geometry", geofence/README.md "Rules"):
 * fatigue_driving, daily_driving_exceeded, night_driving,
 * unauthorized_stop, terminal_alarm(_cleared), at their boundaries; the
 * state blob carrying them across a restart; the per-class lists.
 *
 * Each case is a row: options, time zone, a start time and a script of
 * steps, each step one or more fixes of vehicle "V" at t seconds after the
 * start:
 *   'D' t      drive until t: a moving fix every 60 s, each 1 km north of
 *              the one before
 *   'M' t      one moving fix at t, 1 km north
 *   'm' t      one moving fix at t where the vehicle is
 *   'S' t      one stopped fix at t, 1 km north (arriving somewhere new)
 *   'P' t      parked until t: a stopped fix every 60 s where it is
 *   's' t      one stopped fix at t where it is
 *   'J' t      one moving fix at t, 100 km north (a gap on the road)
 *   'Z' t z    one stopped fix at t in zone z (1 depot, 2 parking,
 *              3 restricted with night_ban 19:00-06:00)
 *   'A' t bits one stopped fix at t carrying "alarms" = bits
 *              (ALARMS_NONE: the member absent)
 * The rules' alerts are collected as "kind@t" ("kind:zone@t" with a
 * zone; "kind/alarm/severity@t" for terminal alarms); the geometry's and
 * the silence alerts are left out (test_geofence covers them).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hz_alarm.h"
#include "geofence/geofence.h"

#define LAT0 37.0
#define LON0 112.0
#define KM_LAT (1.0 / 111.195)  /* degrees of latitude in 1 km */
#define ALARMS_NONE 0xffffffffffLL
#define SOS 1LL
#define COLLISION (1LL << 29)
#define OVERSPEED_BIT (1LL << 1)

static const char zones[] =
	"{\"type\":\"FeatureCollection\",\"features\":["
	"{\"type\":\"Feature\",\"properties\":{\"id\":1,\"name\":\"depot\","
	"\"kind\":\"depot\",\"radius_m\":200},\"geometry\":{\"type\":\"Point\","
	"\"coordinates\":[113.0,38.0]}},"
	"{\"type\":\"Feature\",\"properties\":{\"id\":2,\"name\":\"lot\","
	"\"kind\":\"parking\",\"radius_m\":200},\"geometry\":{\"type\":\"Point\","
	"\"coordinates\":[113.0,38.1]}},"
	"{\"type\":\"Feature\",\"properties\":{\"id\":3,\"name\":\"expressway\","
	"\"kind\":\"restricted\",\"night_ban\":\"19:00-06:00\",\"radius_m\":5000},"
	"\"geometry\":{\"type\":\"Point\",\"coordinates\":[113.0,38.2]}}]}";

static const double zone_at[4][2] = {
	{ 0, 0 }, { 38.0, 113.0 }, { 38.1, 113.0 }, { 38.2, 113.0 } };

struct step {
	char op;
	int64_t t;
	long long arg;
};

/* Rule parameters a case changes; 0 / NULL = the default. */
struct tweak {
	int64_t max_continuous_s, max_daily_s, max_stop_s;  /* -1 = off */
	const char *night_ban;
	const char *stop_by_class, *night_by_class;
};

struct rcase {
	const char *name;
	const char *tz;        /* POSIX rule; NULL = CST-8 (Asia/Shanghai) */
	const char *t0;
	const char *cls;       /* the fixes' hazard class, or NULL */
	struct tweak tw;
	struct step steps[12];
	const char *want;
};

#define END { 0, 0, 0 }
#define NOFAT { .max_continuous_s = -1, .max_daily_s = -1, .max_stop_s = -1 }

static const struct rcase cases[] = {
	/* fatigue_driving: 4 h exactly is not over; one second more is */
	{ "fatigue_exactly_4h_then_one_second", NULL, "2019-08-10T00:00:00Z",
	  NULL, { .max_daily_s = -1 },
	  { { 'D', 14400, 0 }, { 'M', 14401, 0 }, { 'D', 20000, 0 }, END },
	  "fatigue_driving@14401" },
	/* a rest of 19 min 59 s does not end the stint: 13,860 s before it,
	 * 540 s after it is 4 h, 541 s is over */
	{ "rest_19m59s_keeps_the_stint", NULL, "2019-08-10T00:00:00Z", NULL,
	  { .max_daily_s = -1, .max_stop_s = -1 },
	  { { 'D', 13800, 0 }, { 'S', 13860, 0 }, { 'P', 15000, 0 },
	    { 'm', 15059, 0 }, { 'M', 15599, 0 }, { 'M', 15600, 0 }, END },
	  "fatigue_driving@15600" },
	{ "rest_20m_ends_the_stint", NULL, "2019-08-10T00:00:00Z", NULL,
	  { .max_daily_s = -1, .max_stop_s = -1 },
	  { { 'D', 13800, 0 }, { 'S', 13860, 0 }, { 'P', 15000, 0 },
	    { 'm', 15060, 0 }, { 'M', 15600, 0 }, { 'D', 29460, 0 },
	    { 'M', 29461, 0 }, END },
	  "fatigue_driving@29461" },
	/* once per stint: a new stint after a full rest alerts again */
	{ "fatigue_once_per_stint", NULL, "2019-08-10T00:00:00Z", NULL,
	  { .max_daily_s = -1, .max_stop_s = -1 },
	  { { 'D', 14460, 0 }, { 'S', 14520, 0 }, { 'P', 15720, 0 },
	    { 'D', 30180, 0 }, END },
	  "fatigue_driving@14460 fatigue_driving@30180" },
	/* a gap on the road (the fixes either side 100 km apart) is driving */
	{ "gap_on_the_road_counts_as_driving", NULL, "2019-08-10T00:00:00Z",
	  NULL, { .max_daily_s = -1 },
	  { { 'D', 3600, 0 }, { 'J', 10800, 0 }, { 'D', 14400, 0 },
	    { 'M', 14401, 0 }, END },
	  "fatigue_driving@14401" },
	/* a gap at one place is rest (and a stop straddling it) */
	{ "gap_at_one_place_is_rest_and_a_stop", NULL, "2019-08-10T00:00:00Z",
	  NULL, { .max_daily_s = -1 },
	  { { 'D', 12000, 0 }, { 'S', 12060, 0 }, { 's', 13861, 0 },
	    { 's', 19260, 0 }, { 'D', 33600, 0 }, END },
	  "unauthorized_stop@13861" },
	{ "stop_straddling_a_gap", NULL, "2019-08-10T00:00:00Z", NULL,
	  { .max_continuous_s = -1, .max_daily_s = -1 },
	  { { 'D', 600, 0 }, { 'S', 660, 0 }, { 'P', 1200, 0 },
	    { 's', 2460, 0 }, { 's', 2461, 0 }, { 'P', 4000, 0 }, END },
	  "unauthorized_stop@2461" },
	/* unauthorized_stop: 1800 s is not over, 1801 s is; once per stop */
	{ "stop_boundary", NULL, "2019-08-10T00:00:00Z", NULL,
	  { .max_continuous_s = -1, .max_daily_s = -1 },
	  { { 'D', 600, 0 }, { 'S', 660, 0 }, { 's', 2460, 0 },
	    { 's', 2461, 0 }, { 'P', 5000, 0 }, { 'D', 6000, 0 },
	    { 'S', 6060, 0 }, { 'P', 7920, 0 }, END },
	  "unauthorized_stop@2461 unauthorized_stop@7920" },
	{ "stop_in_depot_or_parking_is_authorised", NULL,
	  "2019-08-10T00:00:00Z", NULL,
	  { .max_continuous_s = -1, .max_daily_s = -1 },
	  { { 'D', 600, 0 }, { 'Z', 700, 1 }, { 'P', 5000, 0 },
	    { 'D', 6000, 0 }, { 'Z', 6100, 2 }, { 'P', 9000, 0 },
	    { 'D', 9600, 0 }, { 'Z', 9700, 3 }, { 'P', 11600, 0 }, END },
	  "unauthorized_stop:3@11560" },
	/* per class: 1=600 covers 1.1 */
	{ "stop_by_class_main_class", NULL, "2019-08-10T00:00:00Z", "1.1",
	  { .max_continuous_s = -1, .max_daily_s = -1,
	    .stop_by_class = "1=600, 2.1=900" },
	  { { 'D', 600, 0 }, { 'S', 660, 0 }, { 's', 1260, 0 },
	    { 's', 1261, 0 }, END },
	  "unauthorized_stop@1261" },
	{ "stop_by_class_other_class", NULL, "2019-08-10T00:00:00Z", "3",
	  { .max_continuous_s = -1, .max_daily_s = -1,
	    .stop_by_class = "1=600, 2.1=900" },
	  { { 'D', 600, 0 }, { 'S', 660, 0 }, { 's', 1261, 0 },
	    { 's', 2461, 0 }, END },
	  "unauthorized_stop@2461" },
	/* daily: local day (UTC+8); 3600 s in a day at most; a drive across
	 * midnight counts from midnight in the new day */
	{ "daily_driving_by_local_day", NULL, "2019-08-10T14:00:00Z", NULL,
	  { .max_continuous_s = -1, .max_stop_s = -1, .max_daily_s = 3600 },
	  { { 'D', 3600, 0 }, { 'M', 3601, 0 }, { 'D', 14400, 0 },
	    { 'M', 14401, 0 }, END },
	  /* midnight is t 7200: the fix at 7201 brings 1 s of the 60 s
	   * since 7141 into the new day, so it is over at 10801, not 10741 */
	  "daily_driving_exceeded@3601 daily_driving_exceeded@10801" },
	/* night: 22:00-06:00 local, start inclusive, end exclusive, across
	 * midnight; once per episode (a stop ends it) */
	{ "night_window_across_midnight", NULL, "2019-08-10T13:59:59Z", NULL,
	  { .max_continuous_s = -1, .max_daily_s = -1, .max_stop_s = -1,
	    .night_ban = "22:00-06:00" },
	  { { 'M', 0, 0 }, { 'M', 1, 0 }, { 'D', 3600, 0 }, { 's', 3700, 0 },
	    { 'M', 3800, 0 }, { 'D', 28740, 0 }, { 's', 28798, 0 },
	    { 'M', 28799, 0 }, { 's', 28800, 0 }, { 'M', 28801, 0 }, END },
	  /* 28799 is 05:59:58, 28801 06:00:00 */
	  "night_driving@1 night_driving@3800 night_driving@28799" },
	/* Berlin, 2019-03-31: 02:00 CET becomes 03:00 CEST (01:00 UTC).
	 * 03:59:59 UTC is 05:59:59 CEST (in), 04:00 UTC 06:00 CEST (out),
	 * though it would be 05:00 in winter time */
	{ "night_window_dst_spring_berlin_in", "CET-1CEST,M3.5.0,M10.5.0/3",
	  "2019-03-31T03:59:59Z", NULL,
	  { .night_ban = "22:00-06:00" }, { { 'M', 0, 0 }, END },
	  "night_driving@0" },
	{ "night_window_dst_spring_berlin_out", "CET-1CEST,M3.5.0,M10.5.0/3",
	  "2019-03-31T04:00:00Z", NULL,
	  { .night_ban = "22:00-06:00" }, { { 'M', 0, 0 }, END }, "" },
	{ "night_window_day_before_dst_in", "CET-1CEST,M3.5.0,M10.5.0/3",
	  "2019-03-30T04:00:00Z", NULL,
	  { .night_ban = "22:00-06:00" }, { { 'M', 0, 0 }, END },
	  "night_driving@0" },
	/* 2019-10-27: 03:00 CEST becomes 02:00 CET (01:00 UTC): 04:59:59 UTC
	 * is 05:59:59 CET (in), 05:00 UTC 06:00 (out); a drive from 21:59
	 * UTC the day before (23:59 CEST) is in from its start */
	{ "night_window_dst_autumn_berlin", "CET-1CEST,M3.5.0,M10.5.0/3",
	  "2019-10-26T19:59:00Z", NULL,
	  { .max_continuous_s = -1, .max_daily_s = -1, .max_stop_s = -1,
	    .night_ban = "22:00-06:00" },
	  { { 'M', 0, 0 }, { 'M', 7200, 0 }, { 's', 7260, 0 },
	    { 'M', 32459, 0 }, { 's', 32460, 0 }, { 'M', 32461, 0 }, END },
	  "night_driving@7200 night_driving@32459" },
	/* a zone's night_ban (19:00-06:00) inside it; none outside */
	{ "night_ban_of_a_zone", NULL, "2019-08-10T11:30:00Z", NULL,
	  { .max_continuous_s = -1, .max_daily_s = -1, .max_stop_s = -1 },
	  { { 'M', 0, 0 }, { 'Z', 60, 3 }, { 'm', 120, 0 }, { 'm', 180, 0 },
	    END },
	  "night_driving:3@120" },
	/* 19:30 and 20:00 local: class 2.1 takes 2's window, 3 the general */
	{ "night_ban_by_class", NULL, "2019-08-10T11:30:00Z", "2.1",
	  { .max_continuous_s = -1, .max_daily_s = -1, .max_stop_s = -1,
	    .night_ban = "22:00-06:00", .night_by_class = "2=20:00-05:00" },
	  { { 'M', 0, 0 }, { 'M', 1799, 0 }, { 'M', 1800, 0 }, END },
	  "night_driving@1800" },
	{ "night_ban_by_class_other_class", NULL, "2019-08-10T11:30:00Z", "3",
	  { .max_continuous_s = -1, .max_daily_s = -1, .max_stop_s = -1,
	    .night_ban = "22:00-06:00", .night_by_class = "2=20:00-05:00" },
	  { { 'M', 0, 0 }, { 'M', 1800, 0 }, { 'M', 9000, 0 }, END },
	  "night_driving@9000" },
	/* terminal alarms: raised in two fixes in a row (one alert), cleared,
	 * raised again; a fix without the member changes nothing */
	{ "alarm_raised_twice_cleared_raised", NULL, "2019-08-10T00:00:00Z",
	  NULL, NOFAT,
	  { { 'A', 0, SOS }, { 'A', 10, SOS }, { 'A', 20, ALARMS_NONE },
	    { 'A', 30, 0 }, { 'A', 40, ALARMS_NONE }, { 'A', 50, SOS }, END },
	  "terminal_alarm/sos/critical@0 terminal_alarm_cleared/sos/info@30 "
	  "terminal_alarm/sos/critical@50" },
	{ "alarms_several_at_once", NULL, "2019-08-10T00:00:00Z", NULL, NOFAT,
	  { { 'A', 0, SOS | COLLISION | OVERSPEED_BIT }, { 'A', 10, OVERSPEED_BIT },
	    END },
	  "terminal_alarm/sos/critical@0 terminal_alarm/overspeed/warning@0 "
	  "terminal_alarm/collision/critical@0 "
	  "terminal_alarm_cleared/sos/info@10 "
	  "terminal_alarm_cleared/collision/info@10" },
};

struct run {
	gf_engine *e;
	int64_t t0;
	double lat, lon;
	int64_t t;
	const char *cls;
	char buf[2048];
	int64_t at;
};

static bool
rule_kind(enum gf_alert_kind k)
{
	return k >= GF_ALERT_FATIGUE_DRIVING;
}

static void
collect(const struct gf_alert *a, void *arg)
{
	struct run *r = arg;
	char item[128];
	if (!rule_kind(a->kind))
		return;
	if (a->kind == GF_ALERT_TERMINAL_ALARM ||
	    a->kind == GF_ALERT_TERMINAL_ALARM_CLEARED)
		snprintf(item, sizeof item, "%s%s/%s/%s@%lld", r->buf[0] ? " " : "",
			 gf_alert_kind_name(a->kind), hz_alarm_name(a->alarm),
			 gf_severity_name(a->severity), (long long)r->at);
	else if (a->has_zone)
		snprintf(item, sizeof item, "%s%s:%lld@%lld", r->buf[0] ? " " : "",
			 gf_alert_kind_name(a->kind), (long long)a->zone_id,
			 (long long)r->at);
	else
		snprintf(item, sizeof item, "%s%s@%lld", r->buf[0] ? " " : "",
			 gf_alert_kind_name(a->kind), (long long)r->at);
	strncat(r->buf, item, sizeof r->buf - strlen(r->buf) - 1);
}

static void
feed(struct run *r, int64_t t, bool moving, long long alarms)
{
	struct gf_fix fx = { "V", r->t0 + t * 1000000, r->lat, r->lon, true,
			     moving ? 60.0 : 0.0, r->cls, 0, false, 0, false, NULL, 0 };
	if (alarms != ALARMS_NONE) {
		fx.has_alarms = true;
		fx.alarms = (uint32_t)alarms;
	}
	r->at = t;
	r->t = t;
	assert_int_equal(gf_engine_fix(r->e, &fx, collect, r, NULL), GF_OK);
}

static void
play(struct run *r, const struct step *s)
{
	switch (s->op) {
	case 'D':
		for (int64_t t = r->t + 60; t <= s->t; t += 60) {
			r->lat += KM_LAT;
			feed(r, t, true, ALARMS_NONE);
		}
		break;
	case 'P':
		for (int64_t t = r->t + 60; t <= s->t; t += 60)
			feed(r, t, false, ALARMS_NONE);
		break;
	case 'M': r->lat += KM_LAT; feed(r, s->t, true, ALARMS_NONE); break;
	case 'm': feed(r, s->t, true, ALARMS_NONE); break;
	case 'S': r->lat += KM_LAT; feed(r, s->t, false, ALARMS_NONE); break;
	case 's': feed(r, s->t, false, ALARMS_NONE); break;
	case 'J': r->lat += 100 * KM_LAT; feed(r, s->t, true, ALARMS_NONE); break;
	case 'Z':
		r->lat = zone_at[s->arg][0];
		r->lon = zone_at[s->arg][1];
		feed(r, s->t, false, ALARMS_NONE);
		break;
	case 'A': feed(r, s->t, false, s->arg); break;
	default: fail_msg("bad step %c", s->op);
	}
}

static int64_t
T(const char *s)
{
	int64_t us;
	if (gf_time_parse(s, &us) != GF_OK)
		fail_msg("bad time %s", s);
	return us;
}

static void
apply(struct gf_rules *ru, const struct tweak *tw)
{
	if (tw->max_continuous_s)
		ru->max_continuous_s = tw->max_continuous_s < 0 ? 0 : tw->max_continuous_s;
	if (tw->max_daily_s)
		ru->max_daily_s = tw->max_daily_s < 0 ? 0 : tw->max_daily_s;
	if (tw->max_stop_s)
		ru->max_stop_s = tw->max_stop_s < 0 ? 0 : tw->max_stop_s;
	if (tw->night_ban)
		assert_int_equal(gf_window_parse(tw->night_ban, &ru->night_start_s,
						 &ru->night_end_s), GF_OK);
	if (tw->stop_by_class)
		assert_null(gf_by_class_parse(tw->stop_by_class, false,
					      &ru->max_stop_by_class));
	if (tw->night_by_class)
		assert_null(gf_by_class_parse(tw->night_by_class, true,
					      &ru->night_ban_by_class));
}

static void
run_case(void **state)
{
	const struct rcase *c = *state;
	gf_zoneset *zs = NULL;
	gf_tz *tz = NULL;
	char err[256];
	struct gf_options opt;
	static struct run r;

	assert_int_equal(gf_zoneset_parse(zones, strlen(zones), &zs, err, sizeof err),
			 GF_OK);
	assert_int_equal(gf_tz_from_posix(c->tz ? c->tz : "CST-8", &tz), GF_OK);
	gf_options_default(&opt);
	apply(&opt.rules, &c->tw);
	assert_int_equal(gf_options_check(&opt), GF_OK);
	memset(&r, 0, sizeof r);
	assert_int_equal(gf_engine_new(&opt, zs, tz, &r.e), GF_OK);
	r.t0 = T(c->t0);
	r.lat = LAT0;
	r.lon = LON0;
	r.t = -60;
	r.cls = c->cls;
	for (size_t i = 0; i < sizeof c->steps / sizeof c->steps[0] && c->steps[i].op; i++)
		play(&r, &c->steps[i]);
	if (strcmp(r.buf, c->want))
		fail_msg("case %s:\n got  \"%s\"\n want \"%s\"", c->name, r.buf, c->want);
	gf_engine_free(r.e);
	gf_tz_free(tz);
	gf_zoneset_free(zs);
}

/* The JSON of each new kind: detail names the figures. */
static void
alert_json(void **state)
{
	(void)state;
	struct gf_alert a;
	char buf[512];
	memset(&a, 0, sizeof a);
	strcpy(a.vehicle, "V");
	a.ts_us = T("2019-08-10T08:00:00Z");
	a.lat = 37.5;
	a.lon = 112.25;
	a.kind = GF_ALERT_UNAUTHORIZED_STOP;
	a.severity = gf_alert_kind_severity(a.kind);
	a.limit_s = 1800;
	a.duration_s = 2700;
	a.since_us = T("2019-08-10T07:15:00Z");
	gf_alert_format(&a, 5, buf, sizeof buf);
	assert_string_equal(buf, "{\"id\":5,\"kind\":\"unauthorized_stop\",\"severity\":"
		"\"warning\",\"vehicle\":\"V\",\"zone_id\":null,\"zone\":null,\"ts\":"
		"\"2019-08-10T08:00:00.000Z\",\"lat\":37.5,\"lon\":112.25,\"speed_kmh\":"
		"null,\"detail\":{\"max_stop_s\":1800,\"stopped_s\":2700,\"since\":"
		"\"2019-08-10T07:15:00.000Z\"}}");
	a.kind = GF_ALERT_FATIGUE_DRIVING;
	a.limit_s = 14400;
	a.duration_s = 14401;
	gf_alert_format(&a, -1, buf, sizeof buf);
	assert_non_null(strstr(buf, "\"kind\":\"fatigue_driving\",\"severity\":\"warning\""));
	assert_non_null(strstr(buf, "\"detail\":{\"max_continuous_s\":14400,\"driving_s\":14401}}"));
	a.kind = GF_ALERT_DAILY_DRIVING_EXCEEDED;
	a.limit_s = 28800;
	a.duration_s = 28801;
	a.day = 18118; /* 2019-08-10 */
	gf_alert_format(&a, -1, buf, sizeof buf);
	assert_non_null(strstr(buf, "\"detail\":{\"max_daily_s\":28800,\"driving_s\":28801,"
			       "\"day\":\"2019-08-10\"}}"));
	a.kind = GF_ALERT_NIGHT_DRIVING;
	a.severity = gf_alert_kind_severity(a.kind);
	a.window_start_s = 19 * 3600;
	a.window_end_s = 6 * 3600;
	a.local_s = 23 * 3600 + 15 * 60 + 7;
	gf_alert_format(&a, -1, buf, sizeof buf);
	assert_non_null(strstr(buf, "\"severity\":\"critical\""));
	assert_non_null(strstr(buf, "\"detail\":{\"window\":\"19:00-06:00\","
			       "\"local_time\":\"23:15:07\"}}"));
	a.kind = GF_ALERT_TERMINAL_ALARM;
	a.severity = GF_SEV_CRITICAL;
	a.alarm = 0;
	gf_alert_format(&a, -1, buf, sizeof buf);
	assert_non_null(strstr(buf, "\"kind\":\"terminal_alarm\",\"severity\":\"critical\""));
	assert_non_null(strstr(buf, "\"detail\":{\"alarm\":\"sos\"}}"));
	a.kind = GF_ALERT_TERMINAL_ALARM_CLEARED;
	a.severity = gf_alert_kind_severity(a.kind);
	a.alarm = 30;
	gf_alert_format(&a, -1, buf, sizeof buf);
	assert_non_null(strstr(buf, "\"severity\":\"info\""));
	assert_non_null(strstr(buf, "\"detail\":{\"alarm\":\"rollover\"}}"));
}

/* The daemon saves each vehicle's blob and loads it at start: a restart
 * in the middle of a stint keeps the driving clock, of a stop its start,
 * and the alarms raised (no second terminal_alarm for the same SOS). */
static void
blob_keeps_the_rules(void **state)
{
	(void)state;
	gf_tz *tz = NULL;
	struct gf_options opt;
	static struct run a, b;
	uint8_t blob[512];
	size_t len = 0;

	assert_int_equal(gf_tz_from_posix("CST-8", &tz), GF_OK);
	gf_options_default(&opt);
	opt.rules.max_daily_s = 0;
	memset(&a, 0, sizeof a);
	assert_int_equal(gf_engine_new(&opt, NULL, tz, &a.e), GF_OK);
	a.t0 = T("2019-08-10T00:00:00Z");
	a.lat = LAT0;
	a.lon = LON0;
	a.t = -60;
	struct step s1 = { 'D', 10800, 0 }, sos = { 'A', 10801, SOS };
	play(&a, &s1);
	a.lat += KM_LAT;
	play(&a, &sos);   /* stopped, new place: a stop begins */
	assert_string_equal(a.buf, "terminal_alarm/sos/critical@10801");
	assert_int_equal(gf_engine_state_save(a.e, "V", blob, sizeof blob, &len), GF_OK);

	/* restart: a new engine with the blob */
	b = a;
	b.buf[0] = '\0';
	assert_int_equal(gf_engine_new(&opt, NULL, tz, &b.e), GF_OK);
	assert_int_equal(gf_engine_state_load(b.e, "V", blob, len), GF_OK);
	struct step park = { 'P', 12540, 0 }, sos2 = { 'A', 12602, SOS },
		    drive = { 'D', 16262, 0 }, one = { 'M', 16263, 0 };
	play(&b, &park);  /* the stop began before the restart, at 10801 */
	play(&b, &sos2);  /* 1801 s: unauthorized_stop; the SOS is still the one
			     raised before: no second terminal_alarm */
	/* the stop was a full rest: the stint ended, and 3661 s of driving
	 * since (10801 + 3661 would be over 4 h) raise nothing */
	play(&b, &drive);
	play(&b, &one);
	assert_string_equal(b.buf, "unauthorized_stop@12602");
	gf_engine_free(b.e);

	/* restored again: driving on at once keeps the 10,801 s of the stint
	 * (a new engine without the blob would count from 0) */
	struct run c = a;
	c.buf[0] = '\0';
	assert_int_equal(gf_engine_new(&opt, NULL, tz, &c.e), GF_OK);
	struct step d2 = { 'D', 14401, 0 };
	assert_int_equal(gf_engine_state_load(c.e, "V", blob, len), GF_OK);
	c.t = 10801;
	play(&c, &d2);    /* 10,801 s + 3,600 > 14,400: fatigue */
	assert_string_equal(c.buf, "fatigue_driving@14401");
	gf_engine_free(c.e);
	gf_engine_free(a.e);
	gf_tz_free(tz);
}

/* A fix that is no position ("positioned": false: alarms_only): its alarms
 * are decided at its place and time, and nothing else of the vehicle
 * moves: a later position is not late after it, no stop or zone begins. */
static void
alarms_only_fix_decides_alarms_only(void **state)
{
	(void)state;
	gf_tz *tz = NULL;
	struct gf_options opt;
	static struct run r;
	struct gf_fix_result res;

	assert_int_equal(gf_tz_from_posix("CST-8", &tz), GF_OK);
	gf_options_default(&opt);
	memset(&r, 0, sizeof r);
	assert_int_equal(gf_engine_new(&opt, NULL, tz, &r.e), GF_OK);
	r.t0 = T("2019-08-10T00:00:00Z");
	r.lat = LAT0;
	r.lon = LON0;
	r.t = -60;
	struct step d = { 'D', 600, 0 };
	play(&r, &d);
	assert_string_equal(r.buf, "");

	/* an SOS without a fix, an hour on, far away (the last known place) */
	struct gf_fix fx = { "V", r.t0 + 3600 * 1000000LL, r.lat + 1, r.lon, false, 0,
			     NULL, 0, true, SOS, true, NULL, 0 };
	r.at = 3600;
	assert_int_equal(gf_engine_fix(r.e, &fx, collect, &r, &res), GF_OK);
	assert_int_equal(res.disposition, GF_FIX_ALARMS_ONLY);
	assert_int_equal(res.nalerts, 1);
	assert_true(res.state_changed);
	assert_string_equal(r.buf, "terminal_alarm/sos/critical@3600");

	/* the positions go on from where they were: applied, not late; the
	 * hour was no rest, no stop; the alarm clears with a fix saying none */
	r.buf[0] = '\0';
	r.lat += KM_LAT;
	feed(&r, 660, true, 0);
	assert_string_equal(r.buf, "terminal_alarm_cleared/sos/info@660");
	r.buf[0] = '\0';
	struct step d2 = { 'D', 1200, 0 };
	play(&r, &d2);
	assert_string_equal(r.buf, "");
	gf_engine_free(r.e);
	gf_tz_free(tz);
}

/* "CLASS=VALUE, ..." lists: values, lookup by class then main class,
 * and the faults. */
static void
by_class_lists(void **state)
{
	(void)state;
	struct gf_by_class bc;
	assert_null(gf_by_class_parse("", false, &bc));
	assert_int_equal(bc.n, 0);
	assert_null(gf_by_class_parse(" 1=600 , 2.1 = 900,6.1=0", false, &bc));
	assert_int_equal(bc.n, 3);
	assert_string_equal(bc.e[1].cls, "2.1");
	assert_true(bc.e[1].a == 900);
	assert_true(gf_by_class_find(&bc, "1.4S")->a == 600);
	assert_true(gf_by_class_find(&bc, "1")->a == 600);
	assert_true(gf_by_class_find(&bc, "2.1")->a == 900);
	assert_null(gf_by_class_find(&bc, "2.2"));
	assert_null(gf_by_class_find(&bc, "2"));
	assert_null(gf_by_class_find(&bc, NULL));
	assert_null(gf_by_class_find(&bc, ""));
	assert_true(gf_by_class_find(&bc, "6.1")->a == 0);
	assert_null(gf_by_class_parse("3=19:00-06:00", true, &bc));
	assert_true(bc.e[0].a == 19 * 3600 && bc.e[0].b == 6 * 3600);
	static const char *const bad_s[] = { "1", "1=", "=600", "1=ten", "1=-5",
		"1=31622401", "1=600,", "1=600,1=700", "12345678=1", "1 2=3",
		"1=600;2=700", "\xe5\x8d\xb1=1" };
	for (size_t i = 0; i < sizeof bad_s / sizeof bad_s[0]; i++)
		if (gf_by_class_parse(bad_s[i], false, &bc) == NULL)
			fail_msg("accepted \"%s\"", bad_s[i]);
	static const char *const bad_w[] = { "1=19:00", "1=06:00-06:00",
		"1=25:00-06:00", "1=600" };
	for (size_t i = 0; i < sizeof bad_w / sizeof bad_w[0]; i++)
		if (gf_by_class_parse(bad_w[i], true, &bc) == NULL)
			fail_msg("accepted window \"%s\"", bad_w[i]);
	/* out-of-range options are refused by the check and by set_rules */
	struct gf_options opt;
	gf_options_default(&opt);
	assert_int_equal(gf_options_check(&opt), GF_OK);
	opt.rules.min_rest_s = 0;
	assert_int_equal(gf_options_check(&opt), GF_EINVAL);
	gf_options_default(&opt);
	opt.rules.night_start_s = 3600;
	opt.rules.night_end_s = 3600;
	assert_int_equal(gf_options_check(&opt), GF_EINVAL);
	gf_engine *e = NULL;
	gf_options_default(&opt);
	assert_int_equal(gf_engine_new(&opt, NULL, NULL, &e), GF_OK);
	opt.rules.max_daily_s = 86401;
	assert_int_equal(gf_engine_set_rules(e, &opt.rules), GF_EINVAL);
	opt.rules.max_daily_s = 0;
	assert_int_equal(gf_engine_set_rules(e, &opt.rules), GF_OK);
	gf_engine_free(e);
	/* a zone's night_ban: parsed, and refused when unparsable */
	gf_zoneset *zs = NULL;
	char err[256];
	const char *z = "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
		"\"Feature\",\"properties\":{\"id\":4,\"kind\":\"parking\","
		"\"night_ban\":\"07:00-07:00\",\"radius_m\":5},\"geometry\":{\"type\":"
		"\"Point\",\"coordinates\":[1,1]}}]}";
	assert_int_equal(gf_zoneset_parse(z, strlen(z), &zs, err, sizeof err), GF_EZONES);
	assert_non_null(strstr(err, "feature 0 (id 4): night_ban: unparsable window"));
	const char *ok = "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
		"\"Feature\",\"properties\":{\"id\":4,\"kind\":\"parking\",\"radius_m\":5},"
		"\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,1]}}]}";
	assert_int_equal(gf_zoneset_parse(ok, strlen(ok), &zs, err, sizeof err), GF_OK);
	struct gf_zone_info info;
	assert_int_equal(gf_zoneset_zone(zs, 0, &info), GF_OK);
	assert_string_equal(gf_kind_name(info.kind), "parking");
	gf_zoneset_free(zs);
}

int
main(void)
{
	struct CMUnitTest tests[sizeof cases / sizeof cases[0] + 4];
	size_t n = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		tests[n++] = (struct CMUnitTest){ cases[i].name, run_case, NULL, NULL,
						  (void *)&cases[i] };
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(alert_json);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(blob_keeps_the_rules);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(by_class_lists);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(alarms_only_fix_decides_alarms_only);
	return _cmocka_run_group_tests("geofence_rules", tests, n, NULL, NULL);
}
