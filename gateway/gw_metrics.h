/*
 * gw_metrics.h - the daemon's counters and histograms (gw_metrics.c, which
 * also renders them for /metrics and answers /healthz).
 */
#ifndef HAZGATE_GW_METRICS_H
#define HAZGATE_GW_METRICS_H

#include <stdint.h>

#include "geofence/geofence.h"
#include "ingest/ingest.h"

#define GW_HIST_N 12
#define GW_ALERT_KINDS GF_ALERT_KIND_COUNT   /* geofence/geofence.h */

struct gw_hist {
	const double *bounds;     /* GW_HIST_N upper bounds */
	uint64_t counts[GW_HIST_N + 1];
	double sum;
	uint64_t n;
};

/* Count v in the first bucket whose bound is >= v (else +Inf). */
void gw_hist_observe(struct gw_hist *h, double v);

struct gw_metrics {
	uint64_t received, decoded, ignored, rejected[ING_REASON_COUNT];
	uint64_t positions, positions_written, rejects_written, alerts_written;
	uint64_t alerts[GW_ALERT_KINDS], alerts_published, alerts_publish_failed;
	uint64_t batches_committed, batches_failed, batches_set_aside, oom_dropped;
	uint64_t transactions_committed; /* a transaction carries one or more batches */
	uint64_t batches_deduplicated, states_saved, records_unreadable;
	uint64_t lost_seq;
	uint64_t spool_appends, spool_full_events;
	uint64_t zone_reloads, zone_reload_failures;
	uint64_t mqtt_connects, pg_connects;
	/* the inbox journal and the batch bounds (issue 11 items 2, 4, 5, 9) */
	uint64_t inbox_failed, inbox_replayed, batches_split, positions_duplicate;
	uint64_t positions_duplicate_ts;
	uint64_t not_positioned;   /* "positioned": false: alarms only, no row */
	struct gw_hist batch_rows, commit_seconds;
	double loop_lag_s, loop_lag_max_s;
};

/* Give the histograms of m their bounds (m zeroed before). */
void gw_metrics_init(struct gw_metrics *m);

#endif
