/*
 * bench_decide.c - how fast the decide step (decide/) takes messages to
 * the engine, and what it adds to decoding and the engine themselves.
 * Prints figures; not a test.
 *
 * 200,000 native messages (about 200 bytes, the fleet sample's shape) of
 * 2,000 vehicles on random walks over the 10 sample zones
 * ($HG_SHARED/data/zones-taiyuan.geojson), 5 s apart, on
 * tankers/<vehicle>/telemetry with the daemon's default subscriptions.
 * Four passes, each the best of five runs of process CPU time with a
 * fresh engine: ing_decode() alone; gf_engine_fix() alone over the decoded
 * fixes; the glue the daemon and hazgate-ctl wrote out by hand before
 * decide/ (ing_decode, the ing_fix -> gf_fix copy, gf_engine_fix, with no
 * topic lookup); and decide_message(). The last two run alternately, so
 * that a busy machine slows both alike; their difference is what decide/
 * costs over the hand-written glue (the topic match and the result): it
 * should be a few ns. Decoding and the engine cost more interleaved than
 * alone (caches), so the first two do not add up to the last two.
 *
 * Usage: bench_decide [decode|engine|glue|decide]
 * With a pass named, runs that pass once (the engine pass decodes first),
 * for counting instructions, which a shared machine does not disturb:
 *   valgrind --tool=callgrind --toggle-collect=run bench/bench_decide glue
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "common/hz_file.h"
#include "decide/decide.h"

#define NVEH 2000
#define NMSG 200000
#define MSG_MAX 320
#define RUNS 5
#define T0_US (1565395200LL * 1000000LL)   /* 2019-08-10T00:00:00Z */

struct msgs {
	char (*topic)[64];
	char (*payload)[MSG_MAX];
	size_t *len;
	struct ing_fix *fix;    /* decoded once, for the engine-only pass */
};

static uint64_t rs = 0x2545f4914f6cdd1dull;

static gf_zoneset *
load_zones(void)
{
	const char *shared = getenv("HG_SHARED");
	char path[1024], err[256];
	size_t len = 0;
	char *text;
	gf_zoneset *zs = NULL;

	snprintf(path, sizeof(path), "%s/data/zones-taiyuan.geojson",
	         shared ? shared : HG_SRCDIR "/../shared");
	text = hz_file_read(path, &len);
	if (!text) {
		fprintf(stderr, "bench_decide: cannot read %s (set HG_SHARED)\n",
		        path);
		exit(1);
	}
	if (gf_zoneset_parse(text, len, &zs, err, sizeof(err)) != GF_OK) {
		fprintf(stderr, "bench_decide: %s: %s\n", path, err);
		exit(1);
	}
	free(text);
	return zs;
}

static void
make_msgs(struct msgs *m)
{
	double lat[NVEH], lon[NVEH];
	size_t i;

	m->topic = calloc(NMSG, sizeof(*m->topic));
	m->payload = calloc(NMSG, sizeof(*m->payload));
	m->len = calloc(NMSG, sizeof(*m->len));
	m->fix = calloc(NMSG, sizeof(*m->fix));
	if (!m->topic || !m->payload || !m->len || !m->fix)
		abort();
	for (i = 0; i < NVEH; i++) {
		lat[i] = 37.55 + 0.45 * bench_urand(&rs);
		lon[i] = 112.35 + 0.40 * bench_urand(&rs);
	}
	for (i = 0; i < NMSG; i++) {
		size_t v = i % NVEH;
		int64_t t = T0_US / 1000000 + (int64_t)(i / NVEH) * 5;
		int n;

		lat[v] += (bench_urand(&rs) - 0.5) * 0.0005;
		lon[v] += (bench_urand(&rs) - 0.5) * 0.0006;
		snprintf(m->topic[i], sizeof(m->topic[i]),
		         "tankers/\xe6\x99\x8b" "A%05zu/telemetry", v);
		n = snprintf(m->payload[i], sizeof(m->payload[i]),
		             "{\"vehicle\":\"\xe6\x99\x8b" "A%05zu\",\"ts\":"
		             "\"2019-08-10T%02d:%02d:%02dZ\",\"lat\":%.7f,"
		             "\"lon\":%.7f,\"speed_kmh\":%.1f,\"heading\":%.1f,"
		             "\"alt_m\":%.1f,\"hdop\":1.2,\"fix\":3,\"un\":\"1203\","
		             "\"hazard_class\":\"3\",\"seq\":%zu}",
		             v, (int)(t / 3600 % 24), (int)(t / 60 % 60),
		             (int)(t % 60), lat[v], lon[v], 20 + 80 * bench_urand(&rs),
		             360 * bench_urand(&rs), 780 + 20 * bench_urand(&rs), i / NVEH);
		if (n <= 0 || n >= MSG_MAX)
			abort();
		m->len[i] = (size_t)n;
	}
}

static void
count_alert(const struct gf_alert *a, void *arg)
{
	(void)a;
	(*(size_t *)arg)++;
}

static const struct decide_sub subs[] = {
	{ "tankers/+/telemetry", ING_FORMAT_AUTO },
	{ "owntracks/+/+", ING_FORMAT_OWNTRACKS },
};

enum pass { PASS_DECODE, PASS_ENGINE, PASS_GLUE, PASS_DECIDE, PASS_COUNT };

/* One run of a pass over every message; returns CPU seconds. */
static double
run(enum pass p, struct msgs *m, const gf_zoneset *zs, int64_t now_us,
    size_t *alerts, size_t *bad)
{
	struct gf_options opt;
	gf_engine *e = NULL;
	struct decide_ctx ctx;
	double t;
	size_t i;

	gf_options_default(&opt);
	if (gf_engine_new(&opt, zs, NULL, &e) != GF_OK)
		abort();
	ctx = (struct decide_ctx){ subs, sizeof(subs) / sizeof(subs[0]), e,
	                           count_alert, alerts, NULL };
	*alerts = *bad = 0;
	t = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
	switch (p) {
	case PASS_DECIDE:
		for (i = 0; i < NMSG; i++) {
			struct decide_result r;

			if (decide_message(&ctx, m->topic[i], m->payload[i],
			                   m->len[i], now_us, &r) != ING_OK ||
			    r.engine_rc != GF_OK)
				(*bad)++;
		}
		break;
	case PASS_DECODE:
		for (i = 0; i < NMSG; i++)
			if (ing_decode(m->topic[i], m->payload[i], m->len[i],
			               ING_FORMAT_AUTO, now_us, &m->fix[i],
			               NULL) != ING_OK)
				(*bad)++;
		break;
	case PASS_GLUE:
		for (i = 0; i < NMSG; i++) {
			struct ing_fix f;
			struct gf_fix_result fr;

			if (ing_decode(m->topic[i], m->payload[i], m->len[i],
			               ING_FORMAT_AUTO, now_us, &f, NULL) != ING_OK) {
				(*bad)++;
				continue;
			}
			struct gf_fix g = {
				.vehicle = f.vehicle, .ts_us = f.time_us,
				.lat = f.lat, .lon = f.lon,
				.has_speed = (f.present & ING_HAS_SPEED) != 0,
				.speed_kmh = f.speed_kmh,
				.hazard_class = (f.present & ING_HAS_HAZARD_CLASS) ?
				                f.hazard_class : NULL,
				.rx_us = now_us,
			};
			if (gf_engine_fix(e, &g, count_alert, alerts, &fr) != GF_OK)
				(*bad)++;
		}
		break;
	case PASS_ENGINE:
		for (i = 0; i < NMSG; i++) {
			const struct ing_fix *f = &m->fix[i];
			struct gf_fix g = { .vehicle = f->vehicle, .ts_us = f->time_us,
			                    .lat = f->lat, .lon = f->lon, .has_speed = true,
			                    .speed_kmh = f->speed_kmh,
			                    .hazard_class = f->hazard_class, .rx_us = now_us };
			struct gf_fix_result fr;

			if (gf_engine_fix(e, &g, count_alert, alerts, &fr) != GF_OK)
				(*bad)++;
		}
		break;
	case PASS_COUNT:
		break;
	}
	t = bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - t;
	gf_engine_free(e);
	return t;
}

/* One run of pass p, kept in best[p] if faster; returns the failures. */
static size_t
keep_best(enum pass p, struct msgs *m, const gf_zoneset *zs, int64_t now_us,
          double *best, size_t *alerts)
{
	size_t bad = 0;
	double t = run(p, m, zs, now_us, &alerts[p], &bad);

	if (t < best[p])
		best[p] = t;
	return bad;
}

int
main(int argc, char **argv)
{
	static const char *const names[PASS_COUNT] = {
		"ing_decode alone", "gf_engine_fix alone",
		"hand-written glue", "decide_message" };
	/* Decode first: it fills the fixes the engine pass reads. Then the
	 * glue and decide alternately. */
	static const enum pass order[] = {
		PASS_DECODE, PASS_ENGINE, PASS_GLUE, PASS_DECIDE };
	struct msgs m;
	gf_zoneset *zs = load_zones();
	int64_t now_us = T0_US + (int64_t)(NMSG / NVEH) * 5000000;
	double best[PASS_COUNT];
	size_t alerts[PASS_COUNT] = { 0 }, bad = 0, o;
	int k, p;

	make_msgs(&m);
	if (argc == 2) {
		static const char *const short_names[PASS_COUNT] = {
			"decode", "engine", "glue", "decide" };

		for (p = 0; p < PASS_COUNT && strcmp(argv[1], short_names[p]); p++)
			;
		if (p == PASS_COUNT) {
			fprintf(stderr, "usage: bench_decide [decode|engine|glue|decide]\n");
			return 2;
		}
		if (p == PASS_ENGINE)
			run(PASS_DECODE, &m, zs, now_us, &alerts[0], &bad);
		best[p] = run((enum pass)p, &m, zs, now_us, &alerts[p], &bad);
		printf("%-20s %8.0f ns/msg  alerts %zu\n", names[p],
		       best[p] / NMSG * 1e9, alerts[p]);
		return bad ? 1 : 0;
	}
	printf("decide: %d native messages, %d vehicles, %zu zones, best of %d "
	       "runs, CPU time, one thread\n", NMSG, NVEH, gf_zoneset_count(zs),
	       RUNS);
	for (p = 0; p < PASS_COUNT; p++)
		best[p] = 1e9;
	for (o = 0; o < 2; o++)
		for (k = 0; k < RUNS; k++)
			bad += keep_best(order[o], &m, zs, now_us, best, alerts);
	for (k = 0; k < RUNS; k++)
		for (o = 2; o < 4; o++)
			bad += keep_best(order[o], &m, zs, now_us, best, alerts);
	for (p = 0; p < PASS_COUNT; p++)
		printf("%-20s %10.0f msgs/s %8.0f ns/msg  alerts %zu\n", names[p],
		       NMSG / best[p], best[p] / NMSG * 1e9, alerts[p]);
	printf("decide over the glue %+8.1f ns/msg%s\n",
	       (best[PASS_DECIDE] - best[PASS_GLUE]) / NMSG * 1e9,
	       bad ? "  SOME MESSAGES FAILED" : "");
	free(m.topic);
	free(m.payload);
	free(m.len);
	free(m.fix);
	gf_zoneset_free(zs);
	return bad ? 1 : 0;
}
