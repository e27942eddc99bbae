/*
 * gw_in.c - message in: every MQTT message is decoded (ing_decode), run
 * through the engine (gf_engine_fix) and becomes rows of the current batch:
 * a position with the zones it was in, the alerts it raised, or a reject
 * with its raw bytes. The engine's tick adds its alerts (tracker_silent)
 * the same way.
 *
 * A batch is sealed at batch_rows rows, at half the spool's record bound,
 * flush_ms after its first alert or positions_flush_ms after its first row
 * (gw_core.c's flush timer; arm_flush), together with the vehicle_state of
 * every vehicle it changed, and handed to the spool (gw_spool_append,
 * which writes its buffers as they are) at once. Every message is in the
 * inbox journal before its PUBACK, so the wait loses nothing in a crash.
 * No allocation per message: the batch's buffers are reused; out of memory
 * drops the row and counts it.
 */
#include "gateway/gateway-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/hz_clock.h"
#include "common/hz_log.h"
#include "decide/decide.h"
#include "gateway/gw_batch.h"
#include "gateway/gw_inbox.h"
#include "gateway/gw_metrics.h"
#include "gateway/gw_vtab.h"
#include "geofence/geofence.h"
#include "ingest/ingest.h"

/* ---- the current batch ------------------------------------------------------ */

/* Whether the current batch reached its bound: batch_rows rows or half
 * the seal cap in bytes (a row is far smaller than the other half, so a
 * sealed batch always fits a spool record: never HZ_QUEUE_ERR_TOO_BIG). */
static bool
batch_full(const struct gw *gw)
{
	return (int)(gw->cur.npos + gw->cur.nrejects) >= gw->cfg.postgres.batch_rows ||
	       gw_batch_bytes(&gw->cur) >= gw->seal_cap / 2;
}

/* A dirty vehicle's vehicle_state row into the current batch; false (the
 * vehicle stays dirty) when the batch is full: the rest go with the next. */
static bool
add_state_row(struct gw_vehicle *v, void *arg)
{
	struct gw *gw = arg;
	size_t len = 0;
	int rc;

	if (!v->has_fix)
		return true;
	if (gw_batch_bytes(&gw->cur) >= gw->seal_cap / 2)
		return false;
	rc = gf_engine_state_save(gw->engine, v->name, gw->sbuf, gw->sbuf_cap, &len);
	if (rc == GF_ERANGE) {
		uint8_t *n = realloc(gw->sbuf, len * 2);

		if (!n)
			return true;
		gw->sbuf = n;
		gw->sbuf_cap = len * 2;
		rc = gf_engine_state_save(gw->engine, v->name, gw->sbuf, gw->sbuf_cap, &len);
	}
	if (rc != GF_OK)
		return true;
	if (gw_batch_add_state(&gw->cur, v->name, v->last_us, v->lat, v->lon, gw->sbuf, len,
			       v->has_seq, v->seq) != 0) {
		gw->m.oom_dropped++;
		return true;
	}
	v->unsaved = false;
	v->must_save = false;
	v->saved_mono_us = gw->mono_us;
	gw->m.states_saved++;
	return true;
}

static void
touch_unsaved(struct gw_vehicle *v, void *arg)
{
	struct gw *gw = arg;

	if (v->unsaved)
		gw_vtab_touch(gw->vt, v);
}

static void
rearm_flush(struct gw *gw)
{
	struct timeval tv = { gw->cfg.postgres.flush_ms / 1000,
			      (gw->cfg.postgres.flush_ms % 1000) * 1000 };

	event_add(gw->ev_flush, &tv);
}

/*
 * Seal the current batch with the state rows of the dirty vehicles, as many
 * batches as they need (a large fleet's states at shutdown, a tick's
 * tracker_silent for thousands of vehicles): each is bounded
 * (batch_full) and appended before the next is made. When the spool holds
 * one back, the rest waits (gw->seal_more) and the flush timer tries again.
 */
void
gw_in_seal(struct gw *gw)
{
	bool done;

	event_del(gw->ev_flush);
	gw->mono_us = hz_mono_us();
	gw->seal_more = false;
	if (gw->held) {
		gw_spool_append(gw);
		if (gw->held) {
			/* Reading is paused; try again in flush_ms. */
			gw->seal_more = true;
			rearm_flush(gw);
			return;
		}
	}
	for (;;) {
		done = !gw->engine || gw_vtab_drain_dirty_while(gw->vt, add_state_row, gw);
		if (gw_batch_empty(&gw->cur)) {
			/* Nothing waits: what the journal holds is in the
			 * spool or made no row. */
			gw->cur.first_us = 0;
			if (gw->inbox)
				gw_inbox_trim(gw->inbox, gw_inbox_cut(gw->inbox));
			return;
		}
		gw_hist_observe(&gw->m.batch_rows, gw->cur.npos + gw->cur.nalerts +
				gw->cur.nrejects);
		{
			/* The batch is its record: the spool writes its buffers
			 * as they are, and the emptied buffers of the last one
			 * take the rows. */
			struct gw_batch t = gw->sealed;

			gw->sealed = gw->cur;
			gw->cur = t;
		}
		gw_batch_reset(&gw->cur);
		if (gw->inbox)
			gw->inbox_sealed = gw_inbox_cut(gw->inbox);
		gw->held = true;
		gw_spool_append(gw);
		if (done)
			return;
		gw->m.batches_split++;
		if (gw->held) {
			gw->seal_more = true;
			rearm_flush(gw);
			return;
		}
	}
}

/* The flush timer of the current batch (issue 15): a batch of positions
 * waits positions_flush_ms (at least flush_ms) after its first row, so
 * that a low rate makes fewer and larger transactions (at 2,000 msg/s
 * batches of 300-500 rows, not 105: the database's CPU a fix, a fixed
 * cost per transaction spread over them, is 9-12 us where it was 14-16,
 * against 7-9 at full speed). A batch's first alert brings the timer forward to
 * flush_ms after it, so alerts are as prompt as before: the positions'
 * wait delays only the board's map and the positions' rows. */
static void
arm_flush(struct gw *gw)
{
	if (gw->cur.first_us == 0) {
		int ms = gw->cfg.postgres.positions_flush_ms;
		struct timeval tv;

		if (ms < gw->cfg.postgres.flush_ms)
			ms = gw->cfg.postgres.flush_ms;
		tv = (struct timeval){ ms / 1000, (ms % 1000) * 1000 };
		gw->cur.first_us = 1;
		gw->flush_at_us = hz_mono_us() + (int64_t)ms * 1000;
		gw->flush_hastened = false;
		event_add(gw->ev_flush, &tv);
	}
}

static void
row_added(struct gw *gw)
{
	arm_flush(gw);
	if (gw->cur.nalerts > 0 && !gw->flush_hastened) {
		int64_t at = hz_mono_us() + (int64_t)gw->cfg.postgres.flush_ms * 1000;

		gw->flush_hastened = true;
		/* Only ever sooner than the first row's deadline. */
		if (at < gw->flush_at_us) {
			struct timeval tv = { gw->cfg.postgres.flush_ms / 1000,
					      (gw->cfg.postgres.flush_ms % 1000) * 1000 };

			gw->flush_at_us = at;
			event_add(gw->ev_flush, &tv);
		}
	}
	if (batch_full(gw))
		gw_in_seal(gw);
}

/* ---- the hot path ---------------------------------------------------------- */

/* An alert: its JSON rendered once (gf_alert_format, "id":null), stored
 * in the batch with the alerts table's columns; the writer's INSERT makes
 * the published JSON from it with the id. */
static void
on_alert(const struct gf_alert *a, void *arg)
{
	struct gw *gw = arg;
	char buf[2048];
	struct gw_alert_row row = {
		.kind = gf_alert_kind_name(a->kind), .severity = gf_severity_name(a->severity),
		.vehicle = a->vehicle, .zone_name = a->has_zone ? a->zone_name : NULL,
		.json = buf, .json_len = gf_alert_format(a, -1, buf, sizeof(buf)),
	};
	char *big = NULL;
	struct gw_vehicle *v;

	if ((unsigned)a->kind < GW_ALERT_KINDS)
		gw->m.alerts[a->kind]++;
	if (row.json_len >= sizeof(buf)) {
		big = malloc(row.json_len + 1);
		if (big)
			gf_alert_format(a, -1, big, row.json_len + 1);
		row.json = big;
	}
	if (!row.json || gw_batch_add_alert(&gw->cur, &row) != 0)
		gw->m.oom_dropped++;
	free(big);
	v = gw_vtab_get(gw->vt, a->vehicle);
	if (v) {
		v->must_save = true;
		gw_vtab_touch(gw->vt, v);
	}
}

/* The vehicle table after a fix: seq gaps (lost messages) and whether its
 * state goes with this batch. */
static void
note_vehicle(struct gw *gw, const struct decide_result *d)
{
	const struct ing_fix *fix = &d->fix;
	struct gw_vehicle *v = gw_vtab_get(gw->vt, fix->vehicle);
	bool changed = false;

	if (!v)
		return;
	if (fix->present & ING_HAS_SEQ) {
		if (v->has_seq && fix->seq > v->seq + 1) {
			gw->m.lost_seq += (uint64_t)(fix->seq - v->seq - 1);
			hz_log(HZ_LOG_WARN, "seq_gap", "vehicle=%s after=%" PRId64
			       " got=%" PRId64 " missing=%" PRId64, fix->vehicle, v->seq,
			       fix->seq, fix->seq - v->seq - 1);
		}
		if (!v->has_seq || fix->seq > v->seq) {
			v->seq = fix->seq;
			v->has_seq = true;
			changed = true;
		}
	}
	if (d->engine_rc == GF_OK && d->fr.disposition == GF_FIX_APPLIED) {
		v->last_us = fix->time_us;
		v->lat = fix->lat;
		v->lon = fix->lon;
		changed = true;
		/* Zones, episodes, a first fix: saved with this batch. Only time
		 * and place moved: saved at most every state_interval_ms (and at
		 * shutdown). */
		if (d->fr.state_changed || !v->has_fix)
			v->must_save = true;
		v->has_fix = true;
	}
	if (changed && v->has_fix) {
		v->unsaved = true;
		if (v->must_save || gw_vtab_state_due(v, gw->mono_us,
					(int64_t)gw->cfg.postgres.state_interval_ms * 1000))
			gw_vtab_touch(gw->vt, v);
	}
}

/* One message through the pipeline, received at now_us (wall clock). */
static void
in_message(struct gw *gw, const char *topic, const void *payload, size_t len, int64_t now_us)
{
	/* Built per message: the engine exists only once the zones loaded. */
	const struct decide_ctx dc = { gw->subs, gw->cfg.mqtt.nsubs, gw->engine, on_alert, gw,
				       gw_registry_current(gw) };
	struct decide_result d;

	gw->m.received++;
	gw->mono_us = hz_mono_us();   /* intervals: a wall clock step must not stop them */
	switch (decide_message(&dc, topic, payload, len, now_us, &d)) {
	case ING_IGNORED:
		gw->m.ignored++;
		/* No row, but a journal record: the flush timer trims it. */
		arm_flush(gw);
		return;
	case ING_REJECTED: {
		/* The raw bytes are kept, up to an eighth of the seal cap (hex
		 * doubles them): a row always fits a batch, and a batch a spool
		 * record. A longer payload is cut, and the message says so. */
		size_t keep = len, cap = gw->seal_cap / 8;
		char why[sizeof(d.err.message) + 96];
		const char *msg = d.err.message;

		if (len > cap) {
			keep = cap;
			snprintf(why, sizeof(why), "%s (payload cut to %zu of %zu bytes)",
				 d.err.message, keep, len);
			msg = why;
		}
		if ((unsigned)d.err.reason < ING_REASON_COUNT)
			gw->m.rejected[d.err.reason]++;
		if (gw_batch_add_reject(&gw->cur, topic, payload, keep, ing_reason_name(d.err.reason),
					msg, now_us) != 0)
			gw->m.oom_dropped++;
		hz_log(HZ_LOG_DEBUG, "reject", "topic=%s reason=%s", topic,
		       ing_reason_name(d.err.reason));
		break;
	}
	case ING_OK:
		gw->m.decoded++;
		if (d.engine_rc == GF_ENOMEM)
			gw->m.oom_dropped++;
		if (!ing_fix_positioned(&d.fix)) {
			/* Alarms only (hazgate-jt808 kept the report in rejects):
			 * its alerts are in the batch; no position, no state. */
			gw->m.not_positioned++;
			hz_log(HZ_LOG_INFO, "not_positioned", "vehicle=%s alerts=%zu",
			       d.fix.vehicle, d.fr.nalerts);
			break;
		}
		if (gw_batch_add_position(&gw->cur, &d.fix, d.fr.zone_ids, d.fr.nzone_ids,
					  now_us) != 0)
			gw->m.oom_dropped++;
		else
			gw->m.positions++;
		note_vehicle(gw, &d);
		break;
	}
	row_added(gw);
}

/* Into the inbox journal first: from here a crash of the process loses
 * nothing (the PUBACK waits in libmosquitto's queue until the loop writes
 * it, after this call: net_mqtt.c). */
static void
journal(struct gw *gw, const char *topic, const void *payload, size_t len, int64_t now_us)
{
	int rc;

	if (!gw->inbox)
		return;
	rc = gw_inbox_put(gw->inbox, topic, payload, len, now_us);
	if (rc != GW_INBOX_OK) {
		/* Taken all the same: only a crash before its batch is sealed
		 * would lose it. */
		if (gw->m.inbox_failed++ % 1000 == 0)
			hz_log(HZ_LOG_ERROR, "inbox_failed", "why=\"%s\" errno=\"%s\" failed=%" PRIu64,
			       gw_inbox_strerror(rc), strerror(errno), gw->m.inbox_failed);
	}
}

void
gw_in_message(void *arg, const char *topic, const void *payload, size_t len)
{
	struct gw *gw = arg;
	struct timeval tv;
	int64_t now_us;

	event_base_gettimeofday_cached(gw->base, &tv);
	now_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	journal(gw, topic, payload, len, now_us);
	in_message(gw, topic, payload, len, now_us);
}

/* A message the journal kept from before: journaled again (the old
 * segments go with the next trim) and taken as it was then. */
static void
recover_one(void *arg, const char *topic, const void *payload, size_t len, int64_t recv_us)
{
	struct gw *gw = arg;

	journal(gw, topic, payload, len, recv_us);
	in_message(gw, topic, payload, len, recv_us);
}

void
gw_in_recover(struct gw *gw)
{
	size_t n, torn = 0;

	if (!gw->inbox)
		return;
	n = gw_inbox_replay(gw->inbox, recover_one, gw, &torn);
	gw->m.inbox_replayed += n;
	if (n || torn)
		hz_log(torn ? HZ_LOG_WARN : HZ_LOG_INFO, "inbox_replayed",
		       "messages=%zu torn_segments=%zu", n, torn);
	gw_in_seal(gw);
}

void
gw_in_mqtt_state(void *arg, bool connected)
{
	struct gw *gw = arg;

	if (connected)
		gw->m.mqtt_connects++;
}

/* A tick's alert: sealed as soon as the batch is full, so that a fleet
 * gone silent at once makes several bounded batches, not one that no spool
 * record can hold (no message is half-way through the pipeline here). */
static void
on_tick_alert(const struct gf_alert *a, void *arg)
{
	struct gw *gw = arg;

	/* Partitioned: only the vehicles of the partitions taken here. */
	if (gw->cl && !gw_cluster_owns_vehicle(gw, a->vehicle))
		return;
	on_alert(a, arg);
	row_added(gw);
}

void
gw_in_tick(struct gw *gw)
{
	if (!gw->engine || gw->phase != GW_PHASE_RUN)
		return;
	/* A spool without room pauses reading: the silence is ours, and the
	 * batch waiting for room must not grow without bound meanwhile. */
	if (gw->held || gw->spool_full)
		return;
	gf_engine_tick(gw->engine, hz_now_us(), on_tick_alert, gw);
}

void
gw_in_seal_all(struct gw *gw)
{
	gw_vtab_foreach(gw->vt, touch_unsaved, gw);
	gw_in_seal(gw);
}
