/*
 * gw_metrics.c - the daemon's counters and histograms, their Prometheus
 * text for GET /metrics, and the answer of GET /healthz.
 *
 * The counters are plain fields of struct gw_metrics, bumped where things
 * happen (gw_in.c, gw_writer.c, gw_startup.c); a scrape renders them with
 * the gauges read from the spool and the adapters. Nothing here runs on the
 * message path but gw_hist_observe.
 */
#include "gateway/gateway-internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "gateway/gw_batch.h"
#include "gateway/gw_metrics.h"
#include "net/net_mqtt.h"
#include "net/net_pg.h"
#include "gateway/gw_vtab.h"
#include "geofence/geofence.h"
#include "ingest/ingest.h"
#include "common/hz_queue.h"

static const double batch_bounds[GW_HIST_N] = { 1, 5, 10, 50, 100, 250, 500, 1000, 2500,
						5000, 10000, 50000 };
static const double commit_bounds[GW_HIST_N] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
						 0.1, 0.25, 0.5, 1, 2.5, 10 };

void
gw_metrics_init(struct gw_metrics *m)
{
	m->batch_rows.bounds = batch_bounds;
	m->commit_seconds.bounds = commit_bounds;
}

void
gw_hist_observe(struct gw_hist *h, double v)
{
	size_t i = 0;

	while (i < GW_HIST_N && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->sum += v;
	h->n++;
}

bool
gw_healthy(const struct gw *gw, char *why, size_t len)
{
	bool mq = net_mqtt_connected(gw->mqtt), pg = net_pg_ready(gw->pg);

	if (gw->phase != GW_PHASE_RUN) {
		snprintf(why, len, "starting");
		return false;
	}
	if (!mq) {
		snprintf(why, len, "mqtt down");
		return false;
	}
	if (pg) {
		snprintf(why, len, "ok");
		return true;
	}
	if (!gw->spool_full) {
		snprintf(why, len, "ok: postgres down, spool absorbing");
		return true;
	}
	snprintf(why, len, "postgres down and spool full");
	return false;
}

static void
outf(struct gw_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
outf(struct gw_buf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (gw_buf_reserve(o, 512) != 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < o->cap - o->len)
		o->len += (size_t)n;
}

static void
counter(struct gw_buf *o, const char *name, const char *help, uint64_t v)
{
	outf(o, "# HELP hazgate_%s %s\n# TYPE hazgate_%s counter\nhazgate_%s %" PRIu64 "\n",
	     name, help, name, name, v);
}

static void
gauge(struct gw_buf *o, const char *name, const char *help, double v)
{
	outf(o, "# HELP hazgate_%s %s\n# TYPE hazgate_%s gauge\nhazgate_%s %.17g\n", name, help,
	     name, name, v);
}

static void
hist(struct gw_buf *o, const char *name, const char *help, const struct gw_hist *h)
{
	uint64_t cum = 0;

	outf(o, "# HELP hazgate_%s %s\n# TYPE hazgate_%s histogram\n", name, help, name);
	for (size_t i = 0; i < GW_HIST_N; i++) {
		cum += h->counts[i];
		outf(o, "hazgate_%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, h->bounds[i], cum);
	}
	cum += h->counts[GW_HIST_N];
	outf(o, "hazgate_%s_bucket{le=\"+Inf\"} %" PRIu64 "\nhazgate_%s_sum %.17g\n"
	     "hazgate_%s_count %" PRIu64 "\n", name, cum, name, h->sum, name, h->n);
}

void
gw_metrics_render(const struct gw *gw, struct gw_buf *o)
{
	const struct gw_metrics *m = &gw->m;
	struct hz_queue_stats st;

	hz_queue_get_stats(gw->spool, &st);
	counter(o, "messages_received_total", "MQTT messages handed over by the broker", m->received);
	counter(o, "messages_decoded_total", "messages decoded into a fix", m->decoded);
	counter(o, "messages_ignored_total", "well-formed messages that are not positions",
		m->ignored);
	outf(o, "# HELP hazgate_messages_rejected_total rejected messages by reason\n"
	     "# TYPE hazgate_messages_rejected_total counter\n");
	for (int r = 1; r < ING_REASON_COUNT; r++)
		outf(o, "hazgate_messages_rejected_total{reason=\"%s\"} %" PRIu64 "\n",
		     ing_reason_name((enum ing_reason)r), m->rejected[r]);
	counter(o, "positions_total", "positions put into batches", m->positions);
	counter(o, "positions_written_total", "positions inserted (duplicates not counted)",
		m->positions_written);
	counter(o, "rejects_written_total", "rejects stored", m->rejects_written);
	outf(o, "# HELP hazgate_alerts_total alerts raised by kind\n"
	     "# TYPE hazgate_alerts_total counter\n");
	for (int k = 0; k < GW_ALERT_KINDS; k++)
		outf(o, "hazgate_alerts_total{kind=\"%s\"} %" PRIu64 "\n",
		     gf_alert_kind_name((enum gf_alert_kind)k), m->alerts[k]);
	counter(o, "alerts_written_total", "alerts inserted (new rows)", m->alerts_written);
	counter(o, "alerts_published_total", "alerts acknowledged by the broker (PUBACK)",
		m->alerts_published);
	counter(o, "alerts_publish_failed_total",
		"alert publishes refused by the MQTT library (out of memory, too large)",
		m->alerts_publish_failed);
	gauge(o, "alerts_unpublished", "alerts committed and not yet acknowledged by the broker"
	      " (the alert outbox)", gw->ob.rows > (int64_t)gw->ob.nacked ?
	      (double)(gw->ob.rows - (int64_t)gw->ob.nacked) : 0);
	counter(o, "batches_committed_total", "batches committed", m->batches_committed);
	counter(o, "transactions_committed_total", "write transactions committed (a group of batches each)",
		m->transactions_committed);
	counter(o, "batches_deduplicated_total",
		"batches with rows already stored, written again through the staging table",
		m->batches_deduplicated);
	counter(o, "batches_failed_total", "batch attempts refused by the server",
		m->batches_failed);
	counter(o, "batches_set_aside_total", "batches skipped after retry_limit refusals",
		m->batches_set_aside);
	counter(o, "spool_records_unreadable_total",
		"spool records refused by the batch parser and set aside", m->records_unreadable);
	counter(o, "vehicle_states_saved_total", "vehicle_state rows written", m->states_saved);
	counter(o, "rows_dropped_oom_total", "rows lost to out of memory", m->oom_dropped);
	counter(o, "vehicle_table_oom_total",
		"vehicle lookups/listings refused for lack of memory (seq or state deferred)",
		gw_vtab_oom(gw->vt));
	counter(o, "lost_seq_total", "messages missing by the trackers' seq gaps", m->lost_seq);
	hist(o, "batch_rows", "rows per sealed batch", &m->batch_rows);
	hist(o, "commit_seconds", "time to write and commit one batch", &m->commit_seconds);
	gauge(o, "spool_bytes", "bytes in the spool's segments", (double)st.bytes);
	gauge(o, "spool_pending_batches", "batches in the spool not yet committed",
	      (double)st.pending);
	gauge(o, "spool_full", "1 while MQTT reading is paused for lack of spool room",
	      gw->spool_full ? 1 : 0);
	counter(o, "spool_full_total", "times the spool filled up", m->spool_full_events);
	counter(o, "spool_corrupt_total", "damaged spool regions skipped", st.corrupt);
	gauge(o, "mqtt_connected", "1 when connected to the broker",
	      net_mqtt_connected(gw->mqtt) ? 1 : 0);
	gauge(o, "postgres_connected", "1 when the database connection is ready",
	      net_pg_ready(gw->pg) ? 1 : 0);
	counter(o, "mqtt_connects_total", "successful broker connections", m->mqtt_connects);
	counter(o, "postgres_connects_total", "successful database connections", m->pg_connects);
	counter(o, "zone_reloads_total", "zone sets loaded", m->zone_reloads);
	counter(o, "zone_reload_failures_total", "zone sets refused", m->zone_reload_failures);
	gauge(o, "zones", "zones in force", gw->zones ? (double)gf_zoneset_count(gw->zones) : 0);
	gauge(o, "vehicles", "vehicles known to the engine",
	      gw->engine ? (double)gf_engine_vehicle_count(gw->engine) : 0);
	gauge(o, "registry_vehicles", "fleet registry: vehicles with cargo or routes",
	      (double)decide_registry_vehicles(gw_registry_current(gw)));
	gauge(o, "registry_devices", "fleet registry: OwnTracks devices mapped to plates",
	      (double)decide_registry_devices(gw_registry_current(gw)));
	gauge(o, "loop_lag_seconds", "lateness of the last 250 ms timer", m->loop_lag_s);
	gauge(o, "loop_lag_max_seconds", "largest lateness seen", m->loop_lag_max_s);
	/* The inbox journal and the batch bounds (issue 11 items 2, 4, 9). */
	counter(o, "inbox_failed_total", "messages taken without an inbox journal record",
		m->inbox_failed);
	counter(o, "inbox_replayed_total", "messages taken again from the inbox journal at start",
		m->inbox_replayed);
	counter(o, "batches_split_total", "seals that needed more than one batch (bounded size)",
		m->batches_split);
	counter(o, "positions_duplicate_total",
		"fixes already stored identically (a redelivery), not stored again",
		m->positions_duplicate);
	counter(o, "not_positioned_total",
		"Reports that were no position (\"positioned\": false): alarms decided, nothing stored",
		m->not_positioned);
	counter(o, "positions_duplicate_ts_total",
		"fixes with a stored (vehicle, ts) but other values: rejects, reason duplicate_ts",
		m->positions_duplicate_ts);
	if (gw->cl) {
		/* Partitioned gateways (gw_cluster.c, issue 16). */
		struct gw_cluster_stats c;

		gw_cluster_get_stats(gw, &c);
		gauge(o, "cluster_partitions", "[cluster] partitions", c.partitions);
		gauge(o, "cluster_members", "live gateways at the last poll (this one included)",
		      c.members);
		gauge(o, "cluster_partitions_owned", "partitions taken here now", c.owned);
		counter(o, "cluster_claims_total", "partition locks won", c.claims);
		counter(o, "cluster_releases_total", "partitions given up cleanly (written, unlocked)",
			c.releases);
		counter(o, "cluster_takeovers_total",
			"claims of a partition its last owner never released (died, lost its database)",
			c.takeovers);
		counter(o, "cluster_lost_total", "partitions stopped because their lock was gone",
			c.lost);
		counter(o, "cluster_fenced_total",
			"batch transactions refused by the fence (a lock gone), written again",
			c.fenced);
		counter(o, "cluster_parked_total",
			"partition sessions disconnected because a burst waited longer than"
			" handoff_wait_ms / 2 for its commit (before NATS's ack_wait resends it)",
			c.parked);
	}
}
