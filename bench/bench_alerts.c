/*
 * bench_alerts.c - the gateway's own CPU per alert on its way to
 * PostgreSQL and MQTT, before and after issue 10 (alerts as columns), and
 * the bytes each way moves through libpq.
 *
 * now:    on_alert renders the JSON and adds a row of the alerts table's
 *         columns and the JSON's tail (gw_batch_add_alert); the record goes
 *         to the spool from the batch's buffers and to libpq from the
 *         record's (no copy here); after COMMIT the JSON the statement
 *         returned is kept and published (copied once, from the result).
 * before: on_alert rendered the JSON and added (vehicle, JSON); the batch
 *         was serialised, copied again into the queue's write buffer and
 *         into the group's sections; the writer built COPY rows (ord, tail)
 *         and after COMMIT spliced the id into the JSON with snprintf. The
 *         "before" steps are written out here as they were (gw_batch.c,
 *         gw_writer.c and hz_queue.c at 4c11320), as plain copies.
 *
 * Not here: libpq and the kernel (they carry the bytes printed below) and
 * PostgreSQL, whose side bench_gateway.sh measures with an alert-heavy
 * load (HG_BENCH_ALERT_GRID=1). Prints key=value lines: ns per alert each
 * way (the median of 9 runs of the process CPU clock), their ratio, and
 * the COPY and result bytes per alert.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/gw_batch.h"
#include "geofence/geofence.h"

#define NALERTS 1000    /* a batch's worth */
#define REPEAT 200      /* batches per run */
#define RUNS 9

static struct gf_alert alerts[NALERTS];
static char zone_names[NALERTS][32];

/* Zone crossings of a fleet: exits and entries of named zones. */
static void
make_alerts(void)
{
	for (int i = 0; i < NALERTS; i++) {
		struct gf_alert *a = &alerts[i];

		snprintf(zone_names[i], sizeof(zone_names[i]), "cell %d,%d", i % 100, i / 10);
		memset(a, 0, sizeof(*a));
		a->kind = i % 2 ? GF_ALERT_ZONE_ENTER : GF_ALERT_ZONE_EXIT;
		a->severity = GF_SEV_INFO;
		snprintf(a->vehicle, sizeof(a->vehicle), "晋A%05d", 10001 + i % 500);
		a->has_zone = true;
		a->zone_id = 200001 + i;
		a->zone_name = zone_names[i];
		a->zone_kind = GF_KIND_RESTRICTED;
		a->ts_us = 1565424000000000LL + i * 10000000LL + 123000;
		a->lat = 37.735 + i * 0.000271828;
		a->lon = 112.40 + i * 0.000314159;
		a->has_speed = true;
		a->speed_kmh = 40 + (i % 50) * 0.77;
		a->dwell_s = 30 + i % 90;
	}
}

static double
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static size_t copy_bytes, result_bytes;
static volatile size_t sink;

/* ---- now ------------------------------------------------------------------ */

static void
now_run(struct gw_batch *b, struct gw_buf *pub, char (*payloads)[2048])
{
	char json[2048];

	gw_batch_reset(b);
	for (int i = 0; i < NALERTS; i++) {
		const struct gf_alert *a = &alerts[i];
		struct gw_alert_row row = {
			.kind = gf_alert_kind_name(a->kind), .severity = gf_severity_name(a->severity),
			.vehicle = a->vehicle, .zone_name = a->zone_name,
			.json = json, .json_len = gf_alert_format(a, -1, json, sizeof(json)),
		};

		if (gw_batch_add_alert(b, &row) != 0)
			abort();
	}
	/* spool and COPY: the batch's buffers as they are. After COMMIT: the
	 * result's (vehicle, JSON) kept, then published. */
	pub->len = 0;
	for (int i = 0; i < NALERTS; i++) {
		size_t n = strlen(payloads[i]);

		if (gw_buf_add(pub, alerts[i].vehicle, strlen(alerts[i].vehicle) + 1) != 0 ||
		    gw_buf_add(pub, payloads[i], n + 1) != 0)
			abort();
	}
	for (const char *p = pub->p; p < pub->p + pub->len;) {
		const char *payload = p + strlen(p) + 1;
		size_t n = strlen(payload);

		sink += n;
		p = payload + n + 1;
	}
	copy_bytes = b->alerts.len;
}

/* ---- before ---------------------------------------------------------------- */

/* gw_copy_escape as it was (gw_batch.c at 4c11320): byte by byte. */
static int
before_copy_escape(struct gw_buf *b, const char *s, size_t len)
{
	if (gw_buf_reserve(b, 2 * len) != 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		char *o = b->p + b->len;

		switch (c) {
		case '\\': o[0] = '\\'; o[1] = '\\'; b->len += 2; break;
		case '\t': o[0] = '\\'; o[1] = 't'; b->len += 2; break;
		case '\n': o[0] = '\\'; o[1] = 'n'; b->len += 2; break;
		case '\r': o[0] = '\\'; o[1] = 'r'; b->len += 2; break;
		default: o[0] = c; b->len += 1; break;
		}
	}
	return 0;
}

struct before {
	struct gw_buf pairs, ser, qbuf, group, copy;
};

static void
before_run(struct before *w)
{
	char json[2048], payload[4096];
	size_t off = 0;

	w->pairs.len = 0;
	for (int i = 0; i < NALERTS; i++) {
		size_t n = gf_alert_format(&alerts[i], -1, json, sizeof(json));
		size_t vlen = strlen(alerts[i].vehicle);

		if (gw_buf_add(&w->pairs, alerts[i].vehicle, vlen + 1) != 0 ||
		    gw_buf_add(&w->pairs, json, n) != 0 || gw_buf_add(&w->pairs, "", 1) != 0)
			abort();
	}
	/* gw_batch_serialize, hz_queue_append's write buffer, group_add */
	w->ser.len = w->qbuf.len = w->group.len = 0;
	if (gw_buf_add(&w->ser, w->pairs.p, w->pairs.len) != 0 ||
	    gw_buf_add(&w->qbuf, w->ser.p, w->ser.len) != 0 ||
	    gw_buf_add(&w->group, w->qbuf.p, w->qbuf.len) != 0)
		abort();
	/* build_alert_copy: "ord\ttail" rows */
	w->copy.len = 0;
	for (size_t ord = 0; off < w->group.len; ord++) {
		const char *veh = w->group.p + off, *j = veh + strlen(veh) + 1;
		char num[24];
		int n = snprintf(num, sizeof(num), "%zu\t", ord);

		if (gw_buf_add(&w->copy, num, (size_t)n) != 0 ||
		    before_copy_escape(&w->copy, j + 10, strlen(j + 10)) != 0 ||
		    gw_buf_add(&w->copy, "\n", 1) != 0)
			abort();
		off = (size_t)(j + strlen(j) + 1 - w->group.p);
	}
	/* publish_alerts: the id spliced in with snprintf */
	off = 0;
	for (int64_t id = 1; off < w->group.len; id++) {
		const char *veh = w->group.p + off, *j = veh + strlen(veh) + 1;
		int n = snprintf(payload, sizeof(payload), "{\"id\":%" PRId64 "%s", id, j + 10);

		sink += (size_t)n;
		off = (size_t)(j + strlen(j) + 1 - w->group.p);
	}
	copy_bytes = w->copy.len;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(void)
{
	static char payloads[NALERTS][2048];
	struct gw_batch b = { 0 };
	struct gw_buf pub = { 0 };
	struct before w = { { 0 }, { 0 }, { 0 }, { 0 }, { 0 } };
	double t_now[RUNS], t_before[RUNS];
	size_t now_copy, before_copy, json_bytes = 0;

	make_alerts();
	for (int i = 0; i < NALERTS; i++) {
		size_t n = gf_alert_format(&alerts[i], 100000 + i, payloads[i], sizeof(payloads[i]));

		json_bytes += n;
	}
	for (int r = 0; r < RUNS; r++) {
		double t0 = cpu_ns();

		for (int k = 0; k < REPEAT; k++)
			now_run(&b, &pub, payloads);
		t_now[r] = (cpu_ns() - t0) / ((double)REPEAT * NALERTS);
		t0 = cpu_ns();
		for (int k = 0; k < REPEAT; k++)
			before_run(&w);
		t_before[r] = (cpu_ns() - t0) / ((double)REPEAT * NALERTS);
	}
	now_run(&b, &pub, payloads);
	now_copy = copy_bytes;
	before_run(&w);
	before_copy = copy_bytes;
	qsort(t_now, RUNS, sizeof(double), cmp_double);
	qsort(t_before, RUNS, sizeof(double), cmp_double);
	/* The statement's result per new alert: now vehicle and JSON (pg_notify's
	 * void column adds nothing), before ord and id. */
	result_bytes = json_bytes / NALERTS + strlen(alerts[0].vehicle);
	printf("alerts=%d runs=%d\n", NALERTS * REPEAT, RUNS);
	printf("now_ns_per_alert=%.0f\n", t_now[RUNS / 2]);
	printf("before_ns_per_alert=%.0f\n", t_before[RUNS / 2]);
	printf("ratio_now_to_before=%.2f\n", t_now[RUNS / 2] / t_before[RUNS / 2]);
	printf("now_copy_bytes_per_alert=%zu\n", now_copy / NALERTS);
	printf("before_copy_bytes_per_alert=%zu\n", before_copy / NALERTS);
	printf("now_result_bytes_per_alert=%zu\n", result_bytes);
	printf("before_result_bytes_per_alert=%d\n", 12);
	printf("spool_bytes_per_alert=now:%zu before:%zu\n", b.alerts.len / NALERTS,
	       w.pairs.len / NALERTS);
	gw_batch_free(&b);
	gw_buf_free(&pub);
	gw_buf_free(&w.pairs);
	gw_buf_free(&w.ser);
	gw_buf_free(&w.qbuf);
	gw_buf_free(&w.group);
	gw_buf_free(&w.copy);
	return 0;
}
