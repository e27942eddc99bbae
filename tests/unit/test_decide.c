/*
 * test_decide: the decide step (decide/). Two tables of named cases: MQTT
 * filter matching, and messages decided against four subscriptions and two
 * zones (format by subscription, rejects, ignored, alerts with zone ids).
 * Then the engine step alone, and a cross-check of the matcher against
 * libmosquitto's mosquitto_topic_matches_sub() on random valid filters and
 * topics, since the daemon relied on that before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mosquitto.h>

#include "decide/decide.h"

/* "now": 2019-08-10T08:00:00Z; fixes are at 03:00Z, five hours before. */
#define NOW_US (1565424000LL * 1000000LL)

/* ---- filter matching ------------------------------------------------------- */

struct match_case {
	const char *name;
	const char *filter;
	const char *topic;
	bool match;
};

static const struct match_case match_cases[] = {
	{ "literal_equal", "a/b", "a/b", true },
	{ "literal_differs", "a/b", "a/c", false },
	{ "literal_case_sensitive", "A/b", "a/b", false },
	{ "topic_longer", "a/b", "a/b/c", false },
	{ "topic_shorter", "a/b/c", "a/b", false },
	{ "prefix_is_not_a_level", "a/b", "a/bc", false },
	{ "plus_one_level", "tankers/+/telemetry", "tankers/V1/telemetry", true },
	{ "plus_utf8_level", "tankers/+/telemetry",
	  "tankers/\xe6\x99\x8b" "A30001/telemetry", true },
	{ "plus_not_two_levels", "tankers/+/telemetry", "tankers/a/b/telemetry",
	  false },
	{ "plus_empty_level", "a/+/b", "a//b", true },
	{ "plus_trailing_empty_level", "a/+", "a/", true },
	{ "plus_is_not_the_parent", "a/+", "a", false },
	{ "plus_alone_one_level", "+", "a", true },
	{ "plus_alone_not_two_levels", "+", "/", false },
	{ "plus_plus", "owntracks/+/+", "owntracks/alice/phone", true },
	{ "hash_everything", "#", "a/b/c", true },
	{ "hash_children", "a/#", "a/b/c", true },
	{ "hash_parent", "a/#", "a", true },
	{ "hash_not_a_sibling", "a/#", "ab", false },
	{ "hash_not_another_root", "a/#", "b/a", false },
	{ "plus_then_hash_parent", "a/+/#", "a/b", true },
	{ "plus_then_hash_not_grandparent", "a/+/#", "a", false },
	{ "dollar_not_by_hash", "#", "$SYS/broker", false },
	{ "dollar_not_by_plus", "+/broker", "$SYS/broker", false },
	{ "dollar_literal", "$SYS/#", "$SYS/broker/uptime", true },
	{ "dollar_parent", "$SYS/#", "$SYS", true },
	{ "invalid_hash_not_last", "a/#/b", "a/x/b", false },
	{ "invalid_hash_glued", "a#", "a#", false },
	{ "invalid_plus_glued_after", "a/b+", "a/b+", false },
	{ "invalid_plus_glued_before", "a/+b", "a/xb", false },
	{ "topic_with_plus", "a/+", "a/+", false },
	{ "topic_with_hash", "#", "a/#", false },
	{ "empty_filter", "", "a", false },
	{ "empty_topic", "a", "", false },
	{ "null_filter", NULL, "a", false },
	{ "null_topic", "a", NULL, false },
};

static void
run_match_case(void **state)
{
	const struct match_case *c = *state;

	assert_int_equal(decide_topic_matches(c->filter, c->topic), c->match);
}

/* ---- messages -------------------------------------------------------------- */

static const struct decide_sub subs[] = {
	{ "tankers/+/telemetry", ING_FORMAT_AUTO },
	{ "gps/+/fix", ING_FORMAT_TPV },
	{ "owntracks/+/+", ING_FORMAT_OWNTRACKS },
	{ "fleet/#", ING_FORMAT_NATIVE },
};

/* Zone 5: prohibited, 2 km around the airport; zone 9: restricted, 500 m
 * around the same point. Always active. */
#define IN_LAT "37.7469"
#define IN_LON "112.6283"
static const char zones_json[] =
	"{\"type\":\"FeatureCollection\",\"features\":["
	"{\"type\":\"Feature\",\"properties\":{\"id\":5,\"name\":\"airport\","
	"\"kind\":\"prohibited\",\"radius_m\":2000},\"geometry\":{\"type\":"
	"\"Point\",\"coordinates\":[" IN_LON "," IN_LAT "]}},"
	"{\"type\":\"Feature\",\"properties\":{\"id\":9,\"name\":\"gate\","
	"\"kind\":\"restricted\",\"radius_m\":500},\"geometry\":{\"type\":"
	"\"Point\",\"coordinates\":[" IN_LON "," IN_LAT "]}}]}";

#define NATIVE_OUT(veh) \
	"{\"vehicle\":\"" veh "\",\"ts\":\"2019-08-10T03:00:00Z\"," \
	"\"lat\":37.60,\"lon\":112.40,\"speed_kmh\":30}"
#define TPV_OUT \
	"{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T03:00:00.000Z\"," \
	"\"lat\":37.60,\"lon\":112.40,\"speed\":8.5}"

struct alert_want {
	enum gf_alert_kind kind;
	int64_t zone_id;
};

struct msg_case {
	const char *name;
	const char *topic;
	const char *payload;
	enum ing_result result;
	enum ing_reason reason;     /* ING_REJECTED */
	enum ing_format sub_format; /* out->format */
	enum ing_format decoder;    /* ING_OK: fix.format */
	const char *vehicle;        /* ING_OK */
	size_t nzones;
	int64_t zones[2];
	size_t nalerts;
	struct alert_want alerts[2];
};

static const struct msg_case msg_cases[] = {
	{ "native_by_subscription", "fleet/depot/7", NATIVE_OUT("V1"),
	  ING_OK, 0, ING_FORMAT_NATIVE, ING_FORMAT_NATIVE, "V1", 0, { 0 }, 0,
	  { { 0 } } },
	{ "auto_on_tankers_picks_native", "tankers/V2/telemetry",
	  "{\"ts\":\"2019-08-10T03:00:00Z\",\"lat\":37.60,\"lon\":112.40}",
	  ING_OK, 0, ING_FORMAT_AUTO, ING_FORMAT_NATIVE, "V2", 0, { 0 }, 0,
	  { { 0 } } },
	{ "auto_on_tankers_picks_tpv", "tankers/V3/telemetry", TPV_OUT,
	  ING_OK, 0, ING_FORMAT_AUTO, ING_FORMAT_TPV, "V3", 0, { 0 }, 0,
	  { { 0 } } },
	{ "tpv_by_subscription", "gps/V4/fix", TPV_OUT,
	  ING_OK, 0, ING_FORMAT_TPV, ING_FORMAT_TPV, "V4", 0, { 0 }, 0,
	  { { 0 } } },
	{ "owntracks_by_subscription", "owntracks/alice/V5",
	  "{\"_type\":\"location\",\"lat\":37.60,\"lon\":112.40,"
	  "\"tst\":1565406000,\"vel\":40}",
	  ING_OK, 0, ING_FORMAT_OWNTRACKS, ING_FORMAT_OWNTRACKS, "alice:V5", 0, { 0 },
	  0, { { 0 } } },
	{ "no_match_is_auto", "elsewhere/V6", NATIVE_OUT("V6"),
	  ING_OK, 0, ING_FORMAT_AUTO, ING_FORMAT_NATIVE, "V6", 0, { 0 }, 0,
	  { { 0 } } },
	{ "no_topic_is_auto", NULL, NATIVE_OUT("V11"),
	  ING_OK, 0, ING_FORMAT_AUTO, ING_FORMAT_NATIVE, "V11", 0, { 0 }, 0,
	  { { 0 } } },
	{ "no_topic_auto_picks_tpv", NULL,
	  "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T03:00:00Z\","
	  "\"lat\":37.60,\"lon\":112.40,\"vehicle\":\"V12\"}",
	  ING_OK, 0, ING_FORMAT_AUTO, ING_FORMAT_TPV, "V12", 0, { 0 }, 0,
	  { { 0 } } },
	{ "reject_not_json", "tankers/V13/telemetry", "not json at all",
	  ING_REJECTED, ING_REASON_NOT_JSON, ING_FORMAT_AUTO, 0, NULL, 0, { 0 },
	  0, { { 0 } } },
	{ "tpv_subscription_rejects_native", "gps/V7/fix", NATIVE_OUT("V7"),
	  ING_REJECTED, ING_REASON_MISSING_FIELD, ING_FORMAT_TPV, 0, NULL, 0,
	  { 0 }, 0, { { 0 } } },
	{ "reject_lat_range", "tankers/V8/telemetry",
	  "{\"ts\":\"2019-08-10T03:00:00Z\",\"lat\":137.0,\"lon\":112.6}",
	  ING_REJECTED, ING_REASON_LAT_RANGE, ING_FORMAT_AUTO, 0, NULL, 0, { 0 },
	  0, { { 0 } } },
	{ "ignored_owntracks_transition", "owntracks/alice/V9",
	  "{\"_type\":\"transition\",\"event\":\"enter\",\"tst\":1565406001}",
	  ING_IGNORED, ING_REASON_NONE, ING_FORMAT_OWNTRACKS, 0, NULL, 0, { 0 },
	  0, { { 0 } } },
	{ "fix_raises_alerts_with_zone_ids", "tankers/V10/telemetry",
	  "{\"ts\":\"2019-08-10T03:00:00Z\",\"lat\":" IN_LAT ",\"lon\":" IN_LON
	  ",\"speed_kmh\":30,\"hazard_class\":\"3\"}",
	  ING_OK, 0, ING_FORMAT_AUTO, ING_FORMAT_NATIVE, "V10", 2, { 5, 9 }, 2,
	  { { GF_ALERT_PROHIBITED_ENTRY, 5 }, { GF_ALERT_ZONE_ENTER, 9 } } },
};

struct seen {
	size_t n;
	struct gf_alert a[4];
};

static void
collect(const struct gf_alert *a, void *arg)
{
	struct seen *s = arg;

	if (s->n < sizeof(s->a) / sizeof(s->a[0]))
		s->a[s->n] = *a;
	s->n++;
}

struct world {
	gf_zoneset *zs;
	gf_engine *engine;
	struct seen seen;
	struct decide_ctx ctx;
};

static void
world_open(struct world *w)
{
	struct gf_options opt;
	char err[256];

	memset(w, 0, sizeof(*w));
	gf_options_default(&opt);
	assert_int_equal(gf_zoneset_parse(zones_json, strlen(zones_json), &w->zs,
	                                  err, sizeof(err)), GF_OK);
	assert_int_equal(gf_engine_new(&opt, w->zs, NULL, &w->engine), GF_OK);
	w->ctx = (struct decide_ctx){ subs, sizeof(subs) / sizeof(subs[0]),
	                              w->engine, collect, &w->seen, NULL };
}

static void
world_close(struct world *w)
{
	gf_engine_free(w->engine);
	gf_zoneset_free(w->zs);
}

static void
run_msg_case(void **state)
{
	const struct msg_case *c = *state;
	struct world w;
	struct decide_result r;
	size_t i;

	world_open(&w);
	assert_int_equal(decide_message(&w.ctx, c->topic, c->payload,
	                                strlen(c->payload), NOW_US, &r),
	                 c->result);
	if (r.result != c->result || r.err.reason != c->reason)
		print_message("# %s: got %s/%s (%s)\n", c->name,
		              ing_result_name(r.result),
		              ing_reason_name(r.err.reason), r.err.message);
	assert_int_equal(r.result, c->result);
	assert_int_equal(r.format, c->sub_format);
	assert_int_equal(r.err.reason, c->reason);
	if (c->result == ING_REJECTED)
		assert_true(r.err.message[0] != '\0');
	if (c->result != ING_OK) {
		/* Nothing reached the engine. */
		assert_int_equal(r.engine_rc, GF_OK);
		assert_int_equal(r.fr.nzone_ids, 0);
		assert_int_equal(r.fr.nalerts, 0);
		assert_int_equal(gf_engine_vehicle_count(w.engine), 0);
		assert_int_equal(w.seen.n, 0);
		if (c->result == ING_IGNORED)
			assert_non_null(strstr(r.err.message, "transition"));
		world_close(&w);
		return;
	}
	assert_int_equal(r.fix.format, c->decoder);
	assert_string_equal(r.fix.vehicle, c->vehicle);
	assert_int_equal(r.engine_rc, GF_OK);
	assert_int_equal(r.fr.disposition, GF_FIX_APPLIED);
	assert_true(r.fr.state_changed);        /* a first fix */
	assert_int_equal(gf_engine_vehicle_count(w.engine), 1);
	assert_int_equal(r.fr.nzone_ids, c->nzones);
	for (i = 0; i < c->nzones; i++)
		assert_int_equal(r.fr.zone_ids[i], c->zones[i]);
	assert_int_equal(r.fr.nalerts, c->nalerts);
	assert_int_equal(w.seen.n, c->nalerts);
	for (i = 0; i < c->nalerts; i++) {
		assert_int_equal(w.seen.a[i].kind, c->alerts[i].kind);
		assert_true(w.seen.a[i].has_zone);
		assert_int_equal(w.seen.a[i].zone_id, c->alerts[i].zone_id);
		assert_string_equal(w.seen.a[i].vehicle, c->vehicle);
		assert_true(w.seen.a[i].ts_us == r.fix.time_us);
	}
	world_close(&w);
}

/* ---- the engine step alone ------------------------------------------------- */

/* A second, older fix of the same vehicle is late: stored, not applied. */
static void
late_fix_is_stored_not_applied(void **state)
{
	struct world w;
	struct decide_result r;
	const char *first = "{\"ts\":\"2019-08-10T03:00:05Z\",\"lat\":" IN_LAT
	                    ",\"lon\":" IN_LON "}";
	const char *older = "{\"ts\":\"2019-08-10T03:00:00Z\",\"lat\":" IN_LAT
	                    ",\"lon\":" IN_LON "}";

	(void)state;
	world_open(&w);
	assert_int_equal(decide_message(&w.ctx, "tankers/V1/telemetry", first,
	                                strlen(first), NOW_US, &r), ING_OK);
	assert_int_equal(r.fr.disposition, GF_FIX_APPLIED);
	w.seen.n = 0;
	assert_int_equal(decide_message(&w.ctx, "tankers/V1/telemetry", older,
	                                strlen(older), NOW_US, &r), ING_OK);
	assert_int_equal(r.engine_rc, GF_OK);
	assert_int_equal(r.fr.disposition, GF_FIX_LATE);
	assert_int_equal(r.fr.nzone_ids, 2);    /* the row keeps its zones */
	assert_false(r.fr.state_changed);
	assert_int_equal(w.seen.n, 0);
	world_close(&w);
}

/* No engine yet (the daemon before its zones load): the fix is decoded,
 * the engine refuses it, and the row has no zones. */
static void
no_engine_refuses_the_fix(void **state)
{
	struct decide_ctx ctx = { subs, sizeof(subs) / sizeof(subs[0]), NULL,
	                          NULL, NULL, NULL };
	struct decide_result r;
	const char *p = NATIVE_OUT("V1");

	(void)state;
	assert_int_equal(decide_message(&ctx, "fleet/x", p, strlen(p), NOW_US,
	                                &r), ING_OK);
	assert_string_equal(r.fix.vehicle, "V1");
	assert_int_equal(r.engine_rc, GF_EINVAL);
	assert_int_equal(r.fr.nzone_ids, 0);
}

/* decide_fix() on a fix made elsewhere (the audit's stored positions):
 * speed and hazard class reach the engine only when present. */
static void
decide_fix_uses_present_bits(void **state)
{
	struct world w;
	struct ing_fix f;
	struct gf_fix_result fr;

	(void)state;
	world_open(&w);
	memset(&f, 0, sizeof(f));
	strcpy(f.vehicle, "V1");
	f.time_us = NOW_US - 3600000000LL;
	f.lat = 37.7469;
	f.lon = 112.6283;
	f.speed_kmh = 500;      /* not present: no overspeed */
	assert_int_equal(decide_fix(&w.ctx, &f, 0, &fr), GF_OK);
	assert_int_equal(fr.nzone_ids, 2);
	assert_int_equal(w.seen.n, 2);
	for (size_t i = 0; i < w.seen.n; i++)
		assert_false(w.seen.a[i].has_speed);
	w.seen.n = 0;
	f.time_us += 5000000;
	f.present = ING_HAS_SPEED;
	f.speed_kmh = 100;
	assert_int_equal(decide_fix(&w.ctx, &f, 0, NULL), GF_OK);
	assert_int_equal(w.seen.n, 1);
	assert_int_equal(w.seen.a[0].kind, GF_ALERT_OVERSPEED);
	world_close(&w);
}

/*
 * What `hazgate-ctl audit` reads back of a stored number: the daemon's COPY
 * text with `decimals` places (gateway/gw_batch.c), into a `real` column
 * (float4) or a double precision one, printed by PostgreSQL 15 with its
 * default extra_float_digits (the shortest text that reads back as the
 * same float4 or double), read by strtod().
 */
static double
read_back(double v, int decimals, bool real)
{
	char text[64];
	int prec;

	snprintf(text, sizeof(text), "%.*f", decimals, v);
	if (!real)
		return strtod(text, NULL);
	float f = strtof(text, NULL);
	for (prec = 1; prec < 9; prec++) {
		snprintf(text, sizeof(text), "%.*g", prec, (double)f);
		if (strtof(text, NULL) == f)
			break;
	}
	snprintf(text, sizeof(text), "%.*g", prec, (double)f);
	return strtod(text, NULL);
}

/*
 * Issue 11 item 8: a TPV speed of 22.2223 m/s (80.00028 km/h) was
 * overspeed live and nothing in the audit, which decides on the stored
 * 80.000. The decision on the decoded fix equals the decision on the row
 * as the audit reads it back: for that fix, and for speeds around the
 * limit in every format.
 */
static void
live_decision_equals_stored(void **state)
{
	static const char *const msgs[] = {
		"{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T03:00:00.000Z\","
		"\"lat\":37.60,\"lon\":112.40,\"speed\":22.2223}",
		"{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T03:00:00.000Z\","
		"\"lat\":37.60,\"lon\":112.40,\"speed\":22.22222225}",
		"{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T03:00:00.000Z\","
		"\"lat\":37.60,\"lon\":112.40,\"speed\":22.2225}",
		"{\"ts\":\"2019-08-10T03:00:00Z\",\"lat\":37.60,\"lon\":112.40,"
		"\"speed_kmh\":80.0004}",
		"{\"ts\":\"2019-08-10T03:00:00Z\",\"lat\":37.60,\"lon\":112.40,"
		"\"speed_kmh\":80.0005}",
		"{\"ts\":\"2019-08-10T03:00:00Z\",\"lat\":37.60,\"lon\":112.40,"
		"\"speed_kmh\":80.00000001}",
	};
	static const bool overspeed[] = { false, false, true, false, true,
	                                  false };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct world live, audit;
		struct decide_result r;
		struct ing_fix stored;

		world_open(&live);
		world_open(&audit);
		assert_int_equal(decide_message(&live.ctx, "tankers/V1/telemetry",
		                                msgs[i], strlen(msgs[i]), NOW_US,
		                                &r), ING_OK);
		stored = r.fix;
		stored.lat = read_back(r.fix.lat, 9, false);
		stored.lon = read_back(r.fix.lon, 9, false);
		stored.speed_kmh = read_back(r.fix.speed_kmh, 3, true);
		assert_int_equal(decide_fix(&audit.ctx, &stored, 0, NULL), GF_OK);
		if (live.seen.n != audit.seen.n || live.seen.n != overspeed[i])
			print_message("# %s: %g km/h, stored %g: live %zu, "
			              "audit %zu alerts\n", msgs[i],
			              r.fix.speed_kmh, stored.speed_kmh,
			              live.seen.n, audit.seen.n);
		assert_int_equal(live.seen.n, audit.seen.n);
		assert_int_equal(live.seen.n, overspeed[i]);
		if (overspeed[i])
			assert_int_equal(live.seen.a[0].kind, GF_ALERT_OVERSPEED);
		/* the engine saw exactly what is stored */
		assert_true(stored.lat == r.fix.lat && stored.lon == r.fix.lon);
		assert_true(stored.speed_kmh == r.fix.speed_kmh);
		world_close(&live);
		world_close(&audit);
	}
}

/* ---- the fleet registry ----------------------------------------------------- */

/* Zone 20 prohibited for class 3, zone 21 restricted for class 8, both
 * around IN; corridor 30 elsewhere (no `vehicles` list: only the
 * registry's routes assign it). */
static const char reg_zones_json[] =
	"{\"type\":\"FeatureCollection\",\"features\":["
	"{\"type\":\"Feature\",\"properties\":{\"id\":20,\"name\":\"c3\","
	"\"kind\":\"prohibited\",\"radius_m\":2000,\"hazard_classes\":[\"3\"]},"
	"\"geometry\":{\"type\":\"Point\",\"coordinates\":[" IN_LON "," IN_LAT "]}},"
	"{\"type\":\"Feature\",\"properties\":{\"id\":21,\"name\":\"c8\","
	"\"kind\":\"restricted\",\"radius_m\":2000,\"hazard_classes\":[\"8\"]},"
	"\"geometry\":{\"type\":\"Point\",\"coordinates\":[" IN_LON "," IN_LAT "]}},"
	"{\"type\":\"Feature\",\"properties\":{\"id\":30,\"name\":\"route\","
	"\"kind\":\"corridor\",\"width_m\":200},\"geometry\":{\"type\":"
	"\"LineString\",\"coordinates\":[[112.0,37.0],[112.1,37.0]]}}]}";

struct reg_world {
	struct world w;
	struct decide_registry *reg;
};

static void
reg_open(struct reg_world *rw, bool with_registry)
{
	struct gf_options opt;
	char err[256];
	int64_t route = 30;

	memset(rw, 0, sizeof(*rw));
	gf_options_default(&opt);
	assert_int_equal(gf_zoneset_parse(reg_zones_json, strlen(reg_zones_json),
	                                  &rw->w.zs, err, sizeof(err)), GF_OK);
	assert_int_equal(gf_engine_new(&opt, rw->w.zs, NULL, &rw->w.engine), GF_OK);
	rw->reg = decide_registry_new();
	assert_non_null(rw->reg);
	assert_int_equal(decide_registry_add(rw->reg, "V1", "1203", "3", NULL, 0,
	                                     err, sizeof(err)), DECIDE_REG_OK);
	assert_int_equal(decide_registry_add(rw->reg, "V2", NULL, NULL, &route, 1,
	                                     err, sizeof(err)), DECIDE_REG_OK);
	assert_int_equal(decide_registry_add_device(rw->reg, "alice:p1", "V1",
	                                            err, sizeof(err)), DECIDE_REG_OK);
	rw->w.ctx = (struct decide_ctx){ subs, sizeof(subs) / sizeof(subs[0]),
	                                 rw->w.engine, collect, &rw->w.seen,
	                                 with_registry ? rw->reg : NULL };
}

static void
reg_close(struct reg_world *rw)
{
	world_close(&rw->w);
	decide_registry_free(rw->reg);
}

#define TPV_IN \
	"{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T03:00:00.000Z\"," \
	"\"lat\":" IN_LAT ",\"lon\":" IN_LON ",\"speed\":8.5}"

/* A TPV fix (no cargo) of a vehicle registered as class 3: the class-3
 * zone applies, the class-8 one does not; the stored row has the cargo.
 * Without the registry both apply (unknown class matches every zone). */
static void
registry_cargo_fills_a_fix_without_one(void **state)
{
	struct reg_world rw;
	struct decide_result r;

	(void)state;
	reg_open(&rw, true);
	assert_int_equal(decide_message(&rw.w.ctx, "tankers/V1/telemetry", TPV_IN,
	                                strlen(TPV_IN), NOW_US, &r), ING_OK);
	assert_true(r.fix.present & ING_HAS_HAZARD_CLASS);
	assert_true(r.fix.present & ING_HAS_UN);
	assert_string_equal(r.fix.hazard_class, "3");
	assert_string_equal(r.fix.un, "1203");
	assert_int_equal(rw.w.seen.n, 1);
	assert_int_equal(rw.w.seen.a[0].kind, GF_ALERT_PROHIBITED_ENTRY);
	assert_int_equal(rw.w.seen.a[0].zone_id, 20);
	assert_int_equal(r.fr.nzone_ids, 1);
	reg_close(&rw);

	reg_open(&rw, false);
	assert_int_equal(decide_message(&rw.w.ctx, "tankers/V1/telemetry", TPV_IN,
	                                strlen(TPV_IN), NOW_US, &r), ING_OK);
	assert_false(r.fix.present & ING_HAS_HAZARD_CLASS);
	assert_int_equal(rw.w.seen.n, 2);
	reg_close(&rw);
}

/* A fix's own cargo wins, as a pair: class 8 given, no un taken. */
static void
registry_own_cargo_wins(void **state)
{
	static const char msg[] =
		"{\"ts\":\"2019-08-10T03:00:00Z\",\"lat\":" IN_LAT ",\"lon\":" IN_LON
		",\"hazard_class\":\"8\"}";
	struct reg_world rw;
	struct decide_result r;

	(void)state;
	reg_open(&rw, true);
	assert_int_equal(decide_message(&rw.w.ctx, "tankers/V1/telemetry", msg,
	                                strlen(msg), NOW_US, &r), ING_OK);
	assert_string_equal(r.fix.hazard_class, "8");
	assert_false(r.fix.present & ING_HAS_UN);
	assert_int_equal(rw.w.seen.n, 1);
	assert_int_equal(rw.w.seen.a[0].kind, GF_ALERT_ZONE_ENTER);
	assert_int_equal(rw.w.seen.a[0].zone_id, 21);
	reg_close(&rw);
}

/* An OwnTracks tracker mapped to a plate is the plate (and its cargo);
 * one not mapped keeps user:device. */
static void
registry_device_becomes_plate(void **state)
{
	static const char msg[] =
		"{\"_type\":\"location\",\"lat\":" IN_LAT ",\"lon\":" IN_LON
		",\"tst\":1565406000}";
	struct reg_world rw;
	struct decide_result r;

	(void)state;
	reg_open(&rw, true);
	assert_int_equal(decide_message(&rw.w.ctx, "owntracks/alice/p1", msg,
	                                strlen(msg), NOW_US, &r), ING_OK);
	assert_string_equal(r.fix.vehicle, "V1");
	assert_string_equal(r.fix.hazard_class, "3");
	assert_int_equal(rw.w.seen.n, 1);
	assert_string_equal(rw.w.seen.a[0].vehicle, "V1");
	assert_int_equal(decide_message(&rw.w.ctx, "owntracks/bob/p1", msg,
	                                strlen(msg), NOW_US, &r), ING_OK);
	assert_string_equal(r.fix.vehicle, "bob:p1");
	/* a native vehicle named like a device is not mapped */
	static const char nat[] =
		"{\"vehicle\":\"alice:p1\",\"ts\":\"2019-08-10T03:00:00Z\",\"lat\":1,\"lon\":1}";
	assert_int_equal(decide_message(&rw.w.ctx, NULL, nat, strlen(nat), NOW_US, &r),
	                 ING_OK);
	assert_string_equal(r.fix.vehicle, "alice:p1");
	reg_close(&rw);
}

/* A registry route assigns the corridor: outside it, route_deviation,
 * live and for the stored row alike (decide_fix, the audit's path). */
static void
registry_route_gives_deviation(void **state)
{
	struct reg_world rw, audit;
	struct decide_result r;

	(void)state;
	reg_open(&rw, true);
	reg_open(&audit, true);
	assert_int_equal(decide_message(&rw.w.ctx, "tankers/V2/telemetry", TPV_IN,
	                                strlen(TPV_IN), NOW_US, &r), ING_OK);
	assert_int_equal(rw.w.seen.n, 3);
	assert_int_equal(rw.w.seen.a[2].kind, GF_ALERT_ROUTE_DEVIATION);
	assert_int_equal(decide_fix(&audit.w.ctx, &r.fix, 0, NULL), GF_OK);
	assert_int_equal(audit.w.seen.n, 3);
	assert_int_equal(audit.w.seen.a[2].kind, GF_ALERT_ROUTE_DEVIATION);
	reg_close(&rw);
	reg_close(&audit);

	reg_open(&rw, false);
	assert_int_equal(decide_message(&rw.w.ctx, "tankers/V2/telemetry", TPV_IN,
	                                strlen(TPV_IN), NOW_US, &r), ING_OK);
	assert_int_equal(rw.w.seen.n, 2);   /* no route: no deviation */
	reg_close(&rw);
}

/* ---- the matcher against libmosquitto -------------------------------------- */

static uint64_t rs = 0x9e3779b97f4a7c15ull;

static unsigned
rnd(unsigned n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (unsigned)(rs % n);
}

static void
random_text(char *s, const char *alphabet)
{
	size_t n = 1 + rnd(7), k = strlen(alphabet), i;

	for (i = 0; i < n; i++)
		s[i] = alphabet[rnd((unsigned)k)];
	s[n] = '\0';
}

static void
agrees_with_mosquitto(void **state)
{
	char f[16], t[16];
	size_t i, matched = 0;

	(void)state;
	for (i = 0; i < 200000; i++) {
		bool want = false;

		random_text(f, "ab.\xe6/+#$");
		random_text(t, i % 8 ? "ab.\xe6/$" : "ab.\xe6/+#$");
		/* An invalid filter matches nothing here; mosquitto can say
		 * yes to some ("+/#/x" for "a"), but its subscribe refuses
		 * them, so the daemon never ran with one. */
		if (mosquitto_sub_topic_check(f) != MOSQ_ERR_SUCCESS ||
		    mosquitto_topic_matches_sub(f, t, &want) != MOSQ_ERR_SUCCESS)
			want = false;
		if (decide_topic_matches(f, t) != want)
			print_message("# filter '%s' topic '%s': mosquitto %d\n",
			              f, t, want);
		assert_int_equal(decide_topic_matches(f, t), want);
		matched += want;
	}
	assert_true(matched > 1000);     /* the draw does reach matches */
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(late_fix_is_stored_not_applied),
		cmocka_unit_test(no_engine_refuses_the_fix),
		cmocka_unit_test(decide_fix_uses_present_bits),
		cmocka_unit_test(live_decision_equals_stored),
		cmocka_unit_test(registry_cargo_fills_a_fix_without_one),
		cmocka_unit_test(registry_own_cargo_wins),
		cmocka_unit_test(registry_device_becomes_plate),
		cmocka_unit_test(registry_route_gives_deviation),
		cmocka_unit_test(agrees_with_mosquitto),
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	const size_t nmatch = sizeof(match_cases) / sizeof(match_cases[0]);
	const size_t nmsg = sizeof(msg_cases) / sizeof(msg_cases[0]);
	struct CMUnitTest *tests = calloc(nfixed + nmatch + nmsg, sizeof(*tests));
	size_t i, n = 0;
	int rc;

	if (!tests)
		return 1;
	for (i = 0; i < nmatch; i++, n++) {
		tests[n].name = match_cases[i].name;
		tests[n].test_func = run_match_case;
		tests[n].initial_state = (void *)&match_cases[i];
	}
	for (i = 0; i < nmsg; i++, n++) {
		tests[n].name = msg_cases[i].name;
		tests[n].test_func = run_msg_case;
		tests[n].initial_state = (void *)&msg_cases[i];
	}
	memcpy(tests + n, fixed, sizeof(fixed));
	n += nfixed;
	rc = _cmocka_run_group_tests("decide", tests, n, NULL, NULL);
	free(tests);
	return rc;
}
