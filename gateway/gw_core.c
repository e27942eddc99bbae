/*
 * gw_core.c - the daemon's pipeline: MQTT message -> ingest -> geofence ->
 * batch -> spool -> PostgreSQL -> (after COMMIT) alerts on MQTT.
 *
 * How it works. Every message is decoded (ing_decode), run through the
 * engine (gf_engine_fix) and becomes rows of the current batch: a position
 * with the zones it was in, the alerts it raised, or a reject with its raw
 * bytes. A batch is sealed at batch_rows rows or flush_ms after its first
 * row, together with the vehicle_state of every vehicle it changed, and is
 * appended to the on-disk spool (the tracker's queue, tracker/trk_queue.h)
 * at once: the spool is the write-ahead log of the pipeline, so the window
 * between libmosquitto's PUBACK and a durable copy is at most flush_ms.
 * The writer takes spool records in order and writes each in one
 * transaction (positions by COPY straight into the table; a batch holding a
 * row that is already there fails with unique_violation and is written
 * again by COPY into a temporary staging table and INSERT ... SELECT ...
 * ON CONFLICT DO NOTHING), acknowledges the record after COMMIT and
 * only then publishes the batch's new alerts. While PostgreSQL is away
 * records pile up in the spool; when it returns they are written in order.
 * A record written twice (crash after COMMIT, before the acknowledgement)
 * adds nothing: positions and alerts have unique keys.
 *
 * Startup: schema check, partitions, replay of the spool, then zones and
 * vehicle_state, and only then MQTT (the broker holds the session's
 * messages meanwhile), so a restart resumes exactly where the spool ends.
 */
#include "gateway/gateway-internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "schema/schema.h"
#include "tracker/trk_queue.h"

enum phase { PH_START, PH_REPLAY, PH_LOAD, PH_RUN };

static const double batch_bounds[GW_HIST_N] = { 1, 5, 10, 50, 100, 250, 500, 1000, 2500,
						5000, 10000, 50000 };
static const double commit_bounds[GW_HIST_N] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
						 0.1, 0.25, 0.5, 1, 2.5, 10 };

/* Group commit: the writer takes the sealed batches waiting in the spool,
 * up to this many records and GW_GROUP_BATCHES * batch_rows positions, into
 * one transaction. One batch per transaction made the database round trip
 * the bottleneck under load (bench_gateway: 1,000-row transactions of
 * 28-56 ms with every process below half a core). */
#define GW_GROUP_RECORDS 64
#define GW_GROUP_BATCHES 8

struct gw {
	struct event_base *base;
	struct gw_config cfg;
	char cfg_path[GW_PATH_MAX];
	struct gw_mqtt *mqtt;
	struct gw_pg *pg;
	struct gw_http *http;
	trk_queue *spool;
	uint64_t seg_bytes, seal_cap;
	gf_engine *engine;
	gf_zoneset *zones;
	gf_tz *tz;
	struct gw_vtab *vt;
	struct gw_batch cur;
	struct gw_buf ser;
	bool held;               /* ser holds a sealed batch the spool had no room for */
	bool spool_full;         /* reading paused because of the spool */
	struct event *ev_flush, *ev_tick, *ev_lag, *ev_hourly, *ev_retry, *ev_drain, *ev_kick;
	struct event *ev_drainpoll;
	struct gw_metrics m;
	enum phase phase;
	/* writer */
	struct gw_pg_job wjob;
	bool writing;
	uint64_t wid;            /* the group's first spool record */
	uint64_t wids[GW_GROUP_RECORDS];
	size_t nwids;            /* records in the transaction under way */
	struct gw_buf wrec, wcopy;
	struct gw_buf wpos, walerts, wrejects, wstates; /* the group's sections */
	struct gw_batch_view wv; /* the whole group, pointing into the above */
	int64_t wstart_us;
	int wfails;
	bool wstaging;           /* this record goes through the staging table */
	uint64_t staged_id;
	int64_t *alert_ids;
	size_t alert_ids_cap;
	const char *wparams[1];
	/* other jobs */
	struct gw_pg_job sjob, pjob, zjob, ljob;
	bool schema_ok, sjob_busy, pjob_busy, zjob_busy, zones_dirty, ljob_busy;
	char schema_msg[512];
	char part_days[16];
	/* shutdown */
	bool draining;
	int exit_code;
	int64_t lag_expected_us;
	int64_t mono_us;         /* the loop's cached time at the last message */
	uint8_t *sbuf;
	size_t sbuf_cap;
};

int64_t
gw_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
gw_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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

static void writer_kick(struct gw *gw);
static void check_drained(struct gw *gw);
static void on_drainpoll(evutil_socket_t fd, short what, void *arg);
static void start_load(struct gw *gw);
static void zones_reload(struct gw *gw);

/* ---- SQL ---------------------------------------------------------------- */

static const char sql_copy_pos[] =
	"COPY hg_pos (vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un,"
	" hazard_class, seq, ignition, zone_ids, received_at) FROM STDIN";
/* The fast path: straight into the table. A batch with a row already there
 * (a replay, a redelivery) fails with unique_violation and is written again
 * through the staging table. */
static const char sql_copy_pos_direct[] =
	"COPY positions (vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un,"
	" hazard_class, seq, ignition, zone_ids, received_at) FROM STDIN";
static const char sql_insert_pos[] =
	"INSERT INTO positions (vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats,"
	" un, hazard_class, seq, ignition, zone_ids, received_at)"
	" SELECT vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un,"
	" hazard_class, seq, ignition, zone_ids, received_at FROM hg_pos ON CONFLICT DO NOTHING";
static const char sql_copy_alert[] = "COPY hg_alert (ord, tail) FROM STDIN";
/* The alert's columns come from its own JSON, so the table holds exactly
 * what is published; the NOTIFY payload is that JSON with the new id. */
static const char sql_insert_alert[] =
	"WITH a AS (SELECT ord, tail, ('{\"id\":null' || tail)::jsonb AS j FROM hg_alert),"
	" ins AS (INSERT INTO alerts (kind, severity, vehicle, zone_id, zone_name, ts, lat, lon,"
	"  speed_kmh, detail)"
	"  SELECT j->>'kind', j->>'severity', j->>'vehicle', (j->>'zone_id')::integer, j->>'zone',"
	"   (j->>'ts')::timestamptz, (j->>'lat')::float8, (j->>'lon')::float8,"
	"   (j->>'speed_kmh')::real, coalesce(j->'detail', '{}')"
	"  FROM a ORDER BY ord ON CONFLICT DO NOTHING"
	"  RETURNING id, kind, vehicle, zone_id, ts)"
	" SELECT a.ord, ins.id, pg_notify('hazgate_alerts', '{\"id\":' || ins.id || a.tail)"
	" FROM ins JOIN a ON a.j->>'kind' = ins.kind AND a.j->>'vehicle' = ins.vehicle"
	"  AND (a.j->>'ts')::timestamptz = ins.ts"
	"  AND (a.j->>'zone_id')::integer IS NOT DISTINCT FROM ins.zone_id";
static const char sql_copy_rejects[] =
	"COPY rejects (topic, payload, reason, message, received_at) FROM STDIN";
static const char sql_copy_state[] =
	"COPY hg_state (vehicle, last_ts, lat, lon, state, last_seq) FROM STDIN";
static const char sql_upsert_state[] =
	"INSERT INTO vehicle_state AS v (vehicle, last_ts, lat, lon, state, last_seq, updated_at)"
	" SELECT DISTINCT ON (vehicle) vehicle, last_ts, lat, lon, state, last_seq, now()"
	" FROM hg_state ORDER BY vehicle, last_ts DESC"
	" ON CONFLICT (vehicle) DO UPDATE SET last_ts = EXCLUDED.last_ts, lat = EXCLUDED.lat,"
	"  lon = EXCLUDED.lon, state = EXCLUDED.state,"
	"  last_seq = coalesce(EXCLUDED.last_seq, v.last_seq), updated_at = EXCLUDED.updated_at"
	" WHERE v.last_ts <= EXCLUDED.last_ts";
static const char sql_partitions[] =
	"SELECT hazgate_ensure_partitions(((now() AT TIME ZONE 'UTC')::date - 1), $1::integer)";
static const char sql_zones[] =
	"SELECT '{\"type\":\"FeatureCollection\",\"features\":[' ||"
	" coalesce(string_agg(feature::text, ',' ORDER BY id), '') || ']}', count(*) FROM zones";
/* vehicle_state with the last seq completed from the positions stored since
 * the row was saved (schema/002: a SECURITY DEFINER function). */
static const char sql_states[] =
	"SELECT vehicle, last_us, lat, lon, state, last_seq FROM hazgate_vehicle_resume()";

/* ---- spool ---------------------------------------------------------------- */

static void
spool_log(void *arg, enum trk_queue_level level, const char *event, const char *detail)
{
	(void)arg;
	gw_log(level == TRK_QUEUE_LOG_ERROR ? GW_LOG_ERROR :
	       level == TRK_QUEUE_LOG_WARN ? GW_LOG_WARN : GW_LOG_INFO,
	       "spool", "what=%s %s", event, detail);
}

static uint64_t
spool_bytes(const struct gw *gw)
{
	struct trk_queue_stats st;

	trk_queue_get_stats(gw->spool, &st);
	return st.bytes;
}

static void
set_spool_full(struct gw *gw, bool full)
{
	if (gw->spool_full == full)
		return;
	gw->spool_full = full;
	if (full) {
		gw->m.spool_full_events++;
		gw_log(GW_LOG_WARN, "spool_full", "bytes=%" PRIu64 " max_bytes=%" PRIu64
		       " action=\"MQTT reading paused; the broker keeps the messages\"",
		       spool_bytes(gw), gw->cfg.spool.max_bytes);
	} else {
		gw_log(GW_LOG_INFO, "spool_room", "bytes=%" PRIu64 " action=\"MQTT reading resumed\"",
		       spool_bytes(gw));
	}
	if (gw->mqtt)
		gw_mqtt_pause(gw->mqtt, full || gw->draining);
}

/* Append the sealed batch in gw->ser to the spool, if there is room. */
static void
try_append(struct gw *gw)
{
	uint64_t bytes = spool_bytes(gw), need = gw->ser.len + 64;
	int rc;

	if (!gw->held)
		return;
	if (bytes + need > gw->cfg.spool.max_bytes) {
		set_spool_full(gw, true);
		return;
	}
	rc = trk_queue_append(gw->spool, gw->ser.p, gw->ser.len, NULL);
	if (rc != TRK_QUEUE_OK) {
		gw_log(GW_LOG_ERROR, "spool_append_failed", "why=\"%s\" errno=\"%s\"",
		       trk_queue_strerror(rc), strerror(errno));
		set_spool_full(gw, true);
		return;
	}
	gw->held = false;
	gw->m.spool_appends++;
	set_spool_full(gw, bytes + need + 2 * gw->seal_cap > gw->cfg.spool.max_bytes);
	writer_kick(gw);
}

static void
add_state_row(struct gw_vehicle *v, void *arg)
{
	struct gw *gw = arg;
	size_t len = 0;
	int rc;

	if (!v->has_fix)
		return;
	rc = gf_engine_state_save(gw->engine, v->name, gw->sbuf, gw->sbuf_cap, &len);
	if (rc == GF_ERANGE) {
		uint8_t *n = realloc(gw->sbuf, len * 2);

		if (!n)
			return;
		gw->sbuf = n;
		gw->sbuf_cap = len * 2;
		rc = gf_engine_state_save(gw->engine, v->name, gw->sbuf, gw->sbuf_cap, &len);
	}
	if (rc != GF_OK)
		return;
	if (gw_batch_add_state(&gw->cur, v->name, v->last_us, v->lat, v->lon, gw->sbuf, len,
			       v->has_seq, v->seq) != 0) {
		gw->m.oom_dropped++;
		return;
	}
	v->unsaved = false;
	v->must_save = false;
	v->saved_mono_us = gw->mono_us;
	gw->m.states_saved++;
}

static void
touch_unsaved(struct gw_vehicle *v, void *arg)
{
	struct gw *gw = arg;

	if (v->unsaved)
		gw_vtab_touch(gw->vt, v);
}

/* Close the current batch and hand it to the spool. */
static void
seal(struct gw *gw)
{
	event_del(gw->ev_flush);
	if (gw->held) {
		try_append(gw);
		if (gw->held)
			return;   /* the current batch keeps growing; reading is paused */
	}
	if (gw->engine)
		gw_vtab_drain_dirty(gw->vt, add_state_row, gw);
	if (gw_batch_empty(&gw->cur))
		return;
	gw_hist_observe(&gw->m.batch_rows, gw->cur.npos + gw->cur.nalerts + gw->cur.nrejects);
	if (gw_batch_serialize(&gw->cur, &gw->ser) != 0) {
		gw_log(GW_LOG_ERROR, "batch_oom", "rows=%u", gw->cur.npos);
		return;
	}
	gw_batch_reset(&gw->cur);
	gw->held = true;
	try_append(gw);
}

static void
row_added(struct gw *gw)
{
	if (gw->cur.first_us == 0) {
		struct timeval tv = { gw->cfg.postgres.flush_ms / 1000,
				      (gw->cfg.postgres.flush_ms % 1000) * 1000 };

		gw->cur.first_us = 1;
		event_add(gw->ev_flush, &tv);
	}
	if ((int)(gw->cur.npos + gw->cur.nrejects) >= gw->cfg.postgres.batch_rows ||
	    gw_batch_bytes(&gw->cur) >= gw->seal_cap / 2)
		seal(gw);
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	seal(arg);
}

/* ---- the hot path ---------------------------------------------------------- */

static void
on_alert(const struct gf_alert *a, void *arg)
{
	struct gw *gw = arg;
	char buf[2048];
	size_t n = gf_alert_format(a, -1, buf, sizeof(buf));
	struct gw_vehicle *v;

	if ((unsigned)a->kind < GW_ALERT_KINDS)
		gw->m.alerts[a->kind]++;
	if (n >= sizeof(buf)) {
		char *big = malloc(n + 1);

		if (!big) {
			gw->m.oom_dropped++;
			return;
		}
		gf_alert_format(a, -1, big, n + 1);
		if (gw_batch_add_alert(&gw->cur, a->vehicle, big, n) != 0)
			gw->m.oom_dropped++;
		free(big);
	} else if (gw_batch_add_alert(&gw->cur, a->vehicle, buf, n) != 0) {
		gw->m.oom_dropped++;
	}
	v = gw_vtab_get(gw->vt, a->vehicle);
	if (v) {
		v->must_save = true;
		gw_vtab_touch(gw->vt, v);
	}
}

static enum ing_format
ing_fmt(enum ing_format f)
{
	switch (f) {
	case ING_FORMAT_NATIVE: return ING_FORMAT_NATIVE;
	case ING_FORMAT_TPV: return ING_FORMAT_TPV;
	case ING_FORMAT_OWNTRACKS: return ING_FORMAT_OWNTRACKS;
	case ING_FORMAT_AUTO: return ING_FORMAT_AUTO;
	}
	return ING_FORMAT_AUTO;
}

static void
on_message(void *arg, const char *topic, const void *payload, size_t len, enum ing_format fmt)
{
	struct gw *gw = arg;
	struct ing_fix fix;
	struct ing_error err;
	struct timeval tv;
	int64_t now_us;
	enum ing_result r;

	gw->m.received++;
	event_base_gettimeofday_cached(gw->base, &tv);
	now_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	gw->mono_us = now_us;   /* cached loop time: no clock read per message */
	r = ing_decode(topic, payload, len, ing_fmt(fmt), now_us, &fix, &err);
	if (r == ING_REJECTED) {
		if ((unsigned)err.reason < ING_REASON_COUNT)
			gw->m.rejected[err.reason]++;
		if (gw_batch_add_reject(&gw->cur, topic, payload, len, ing_reason_name(err.reason),
					err.message, now_us) != 0)
			gw->m.oom_dropped++;
		gw_log(GW_LOG_DEBUG, "reject", "topic=%s reason=%s", topic,
		       ing_reason_name(err.reason));
	} else if (r == ING_IGNORED) {
		gw->m.ignored++;
		return;
	} else {
		struct gf_fix gf = {
			.vehicle = fix.vehicle, .ts_us = fix.time_us, .lat = fix.lat, .lon = fix.lon,
			.has_speed = (fix.present & ING_HAS_SPEED) != 0, .speed_kmh = fix.speed_kmh,
			.hazard_class = (fix.present & ING_HAS_HAZARD_CLASS) ? fix.hazard_class : NULL,
			.rx_us = now_us,
		};
		struct gf_fix_result res = { 0 };
		struct gw_vehicle *v;
		int rc;

		gw->m.decoded++;
		rc = gf_engine_fix(gw->engine, &gf, on_alert, gw, &res);
		if (rc != GF_OK) {
			res.nzone_ids = 0;
			if (rc == GF_ENOMEM)
				gw->m.oom_dropped++;
		}
		if (gw_batch_add_position(&gw->cur, &fix, res.zone_ids, res.nzone_ids, now_us) != 0)
			gw->m.oom_dropped++;
		else
			gw->m.positions++;
		v = gw_vtab_get(gw->vt, fix.vehicle);
		if (v) {
			bool changed = false;

			if (fix.present & ING_HAS_SEQ) {
				if (v->has_seq && fix.seq > v->seq + 1) {
					gw->m.lost_seq += (uint64_t)(fix.seq - v->seq - 1);
					gw_log(GW_LOG_WARN, "seq_gap", "vehicle=%s after=%" PRId64
					       " got=%" PRId64 " missing=%" PRId64, fix.vehicle, v->seq,
					       fix.seq, fix.seq - v->seq - 1);
				}
				if (!v->has_seq || fix.seq > v->seq) {
					v->seq = fix.seq;
					v->has_seq = true;
					changed = true;
				}
			}
			if (rc == GF_OK && res.disposition == GF_FIX_APPLIED) {
				v->last_us = fix.time_us;
				v->lat = fix.lat;
				v->lon = fix.lon;
				changed = true;
				/* Zones, episodes, a first fix: saved with this batch.
				 * Only time and place moved: saved at most every
				 * state_interval_ms (and at shutdown). */
				if (res.state_changed || !v->has_fix)
					v->must_save = true;
				v->has_fix = true;
			}
			if (changed && v->has_fix) {
				v->unsaved = true;
				if (v->must_save || gw->mono_us - v->saved_mono_us >=
						   (int64_t)gw->cfg.postgres.state_interval_ms * 1000)
					gw_vtab_touch(gw->vt, v);
			}
		}
	}
	row_added(gw);
}

static void
on_mqtt_state(void *arg, bool connected)
{
	struct gw *gw = arg;

	if (connected)
		gw->m.mqtt_connects++;
}

/* ---- the writer ------------------------------------------------------------ */

static void
w_pos_result(void *arg, const PGresult *res)
{
	struct gw *gw = arg;

	gw->m.positions_written += strtoull(PQcmdTuples((PGresult *)res), NULL, 10);
}

static void
w_alert_result(void *arg, const PGresult *res)
{
	struct gw *gw = arg;

	for (int i = 0; i < PQntuples(res); i++) {
		long ord = strtol(PQgetvalue(res, i, 0), NULL, 10);

		if (ord >= 0 && (size_t)ord < gw->wv.nalerts)
			gw->alert_ids[ord] = strtoll(PQgetvalue(res, i, 1), NULL, 10);
	}
}

static void
publish_alerts(struct gw *gw)
{
	size_t off = 0, ord = 0;
	const char *vehicle, *json;
	char topic[GW_TOPIC_MAX + ING_VEHICLE_MAX + 2];
	char payload[4096];

	if (!gw->mqtt)
		return;
	while (gw_batch_next_alert(&gw->wv, &off, &vehicle, &json) == 0) {
		int64_t id = gw->alert_ids[ord++];
		const char *tail = json + 10;   /* after {"id":null */
		int n;

		if (id < 0)
			continue;   /* already in the table: published when it was new */
		gw->m.alerts_written++;
		n = snprintf(payload, sizeof(payload), "{\"id\":%" PRId64 "%s", id, tail);
		snprintf(topic, sizeof(topic), "%s/%s", gw->cfg.mqtt.alerts_topic, vehicle);
		if (n < 0 || (size_t)n >= sizeof(payload) ||
		    gw_mqtt_publish(gw->mqtt, topic, payload, (size_t)n, false) != 0) {
			gw->m.alerts_publish_failed++;
			gw_log(GW_LOG_ERROR, "alert_publish_failed", "id=%" PRId64 " topic=%s", id, topic);
		} else {
			gw->m.alerts_published++;
		}
	}
}

static void
on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	writer_kick(arg);
}

static void
w_done(void *arg, int err, const char *msg)
{
	struct gw *gw = arg;

	gw->writing = false;
	if (err == GW_PG_EDUP && !gw->wstaging) {
		/* Some rows are already stored: write it again, de-duplicated. */
		trk_queue_rewind(gw->spool);
		gw->staged_id = gw->wid;
		gw->m.batches_deduplicated++;
		event_active(gw->ev_kick, EV_TIMEOUT, 0);
		return;
	}
	if (err == GW_PG_OK) {
		if (!gw->wstaging)   /* else counted by w_pos_result */
			gw->m.positions_written += gw->wv.npos;
		double secs = (double)(gw_mono_us() - gw->wstart_us) / 1e6;

		gw_hist_observe(&gw->m.commit_seconds, secs);
		gw->m.batches_committed += gw->nwids;
		gw->m.transactions_committed++;
		gw->m.rejects_written += gw->wv.nrejects;
		gw->wfails = 0;
		for (size_t i = 0; i < gw->nwids; i++)
			trk_queue_ack(gw->spool, gw->wids[i]);
		publish_alerts(gw);
		if (gw->spool_full)
			try_append(gw);
		if (gw->spool_full && !gw->held &&
		    spool_bytes(gw) + 2 * gw->seal_cap <= gw->cfg.spool.max_bytes)
			set_spool_full(gw, false);
		event_active(gw->ev_kick, EV_TIMEOUT, 0);
		return;
	}
	trk_queue_rewind(gw->spool);
	if (err == GW_PG_ELINK) {
		gw_log(GW_LOG_WARN, "batch_deferred", "record=%" PRIu64 " why=\"%s\"", gw->wid, msg);
		check_drained(gw);
		return;   /* on_pg_ready kicks the writer again */
	}
	gw->m.batches_failed++;
	if (++gw->wfails >= gw->cfg.postgres.retry_limit) {
		gw_log(GW_LOG_ERROR, "batch_set_aside", "record=%" PRIu64 " positions=%u alerts=%u"
		       " rejects=%u why=\"%s\"", gw->wid, gw->wv.npos, gw->wv.nalerts,
		       gw->wv.nrejects, msg);
		gw->m.batches_set_aside++;
		/* Skip it: take it again, acknowledge it. */
		{
			uint64_t id;
			const void *data;
			size_t len;

			if (trk_queue_next(gw->spool, &id, &data, &len) == TRK_QUEUE_OK)
				trk_queue_ack(gw->spool, id);
		}
		gw->wfails = 0;
		event_active(gw->ev_kick, EV_TIMEOUT, 0);
		return;
	}
	gw_log(GW_LOG_ERROR, "batch_failed", "record=%" PRIu64 " attempt=%d why=\"%s\"", gw->wid,
	       gw->wfails, msg);
	{
		struct timeval tv = { 1, 0 };

		event_add(gw->ev_retry, &tv);
	}
}

/* The alerts of the record in wv as COPY rows "ord\ttail". Returns 0, or
 * -1 out of memory (wv was checked by gw_batch_parse: every alert is there
 * and starts {"id":null). */
static int
build_alert_copy(struct gw *gw)
{
	size_t off = 0, ord = 0;
	const char *vehicle, *json;

	gw->wcopy.len = 0;
	if (gw->alert_ids_cap < gw->wv.nalerts) {
		int64_t *n = realloc(gw->alert_ids, gw->wv.nalerts * sizeof(*n));

		if (!n)
			return -1;
		gw->alert_ids = n;
		gw->alert_ids_cap = gw->wv.nalerts;
	}
	while (ord < gw->wv.nalerts && gw_batch_next_alert(&gw->wv, &off, &vehicle, &json) == 0) {
		char num[24];
		int n = snprintf(num, sizeof(num), "%zu\t", ord);

		gw->alert_ids[ord++] = -1;
		if (gw_buf_add(&gw->wcopy, num, (size_t)n) != 0 ||
		    gw_copy_escape(&gw->wcopy, json + 10, strlen(json + 10)) != 0 ||
		    gw_buf_add(&gw->wcopy, "\n", 1) != 0)
			return -1;
	}
	return 0;
}

/* Set-aside records kept at most: a failing disk or a buggy build can make
 * every record unreadable, and copies without a bound would fill the disk
 * the spool needs. The first ones tell the story. */
#define GW_UNREADABLE_KEEP 64
#define GW_STR_(x) #x
#define GW_STR(x) GW_STR_(x)

/* How many unreadable-*.hgb files the spool folder holds (this rare path
 * only; the folder holds a few segment files besides). */
static unsigned
count_set_aside(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);

		if (strncmp(e->d_name, "unreadable-", 11) == 0 && l > 15 &&
		    strcmp(e->d_name + l - 4, ".hgb") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/*
 * A spool record gw_batch_parse refuses (damaged on disk past the CRC, or
 * written by a buggy build): never sent to PostgreSQL. Its bytes are kept
 * as <spool dir>/unreadable-<id>.hgb for a post-mortem (best effort: the
 * spool's own files end in .seg; at most GW_UNREADABLE_KEEP of them), it
 * is counted and logged, and the spool moves on.
 */
static void
set_aside_record(struct gw *gw, uint64_t id, const void *data, size_t len, int why)
{
	char path[GW_PATH_MAX + 48];
	const char *kept = "no";
	FILE *fp;

	snprintf(path, sizeof(path), "%s/unreadable-%" PRIu64 ".hgb", gw->cfg.spool.dir, id);
	if (count_set_aside(gw->cfg.spool.dir) >= GW_UNREADABLE_KEEP) {
		kept = "no (" GW_STR(GW_UNREADABLE_KEEP) " kept already)";
	} else if ((fp = fopen(path, "wbx")) != NULL) {
		bool ok = fwrite(data, 1, len, fp) == len;

		if (fclose(fp) == 0 && ok)
			kept = path;
		else
			(void)remove(path);
	}
	gw->m.records_unreadable++;
	gw_log(GW_LOG_ERROR, "spool_record_unreadable", "record=%" PRIu64 " bytes=%zu why=\"%s\""
	       " kept=\"%s\"", id, len, gw_batch_strerror(why), kept);
	trk_queue_ack(gw->spool, id);
}

/* Appends one record's sections to the group. Returns GW_BATCH_OK; a
 * gw_batch_parse error (< 0) when the record is not a batch;
 * GROUP_ENOMEM out of memory (the group is unchanged then). */
#define GROUP_ENOMEM 1

static int
group_add(struct gw *gw, const void *data, size_t len)
{
	struct gw_batch_view v;
	size_t lens[4] = { gw->wpos.len, gw->walerts.len, gw->wrejects.len, gw->wstates.len };
	int rc = gw_batch_parse(data, len, &v);

	if (rc != GW_BATCH_OK)
		return rc;
	if (gw_buf_add(&gw->wpos, v.pos, v.pos_len) != 0 ||
	    gw_buf_add(&gw->walerts, v.alerts, v.alerts_len) != 0 ||
	    gw_buf_add(&gw->wrejects, v.rejects, v.rejects_len) != 0 ||
	    gw_buf_add(&gw->wstates, v.states, v.states_len) != 0) {
		gw->wpos.len = lens[0];
		gw->walerts.len = lens[1];
		gw->wrejects.len = lens[2];
		gw->wstates.len = lens[3];
		return GROUP_ENOMEM;
	}
	gw->wv.npos += v.npos;
	gw->wv.nalerts += v.nalerts;
	gw->wv.nrejects += v.nrejects;
	gw->wv.nstates += v.nstates;
	return 0;
}

/* Takes the next records of the spool into one group (gw->wids, gw->wv):
 * as many as wait, within the group's bounds; a single one after a failed
 * transaction, so that a bad record is found and set aside alone. A record
 * that is not a batch is set aside (set_aside_record). Returns TRK_QUEUE_OK
 * with at least one record, TRK_QUEUE_EMPTY, TRK_QUEUE_ERR_NOMEM (nothing
 * taken: the spool is rewound), or an error of trk_queue_next() with the
 * group empty. */
static int
take_group(struct gw *gw)
{
	size_t max_records = gw->wfails ? 1 : GW_GROUP_RECORDS;
	uint64_t max_rows = (uint64_t)GW_GROUP_BATCHES * gw->cfg.postgres.batch_rows;
	int rc = TRK_QUEUE_EMPTY;

	gw->nwids = 0;
	gw->wpos.len = gw->walerts.len = gw->wrejects.len = gw->wstates.len = 0;
	memset(&gw->wv, 0, sizeof(gw->wv));
	while (gw->nwids < max_records &&
	       (uint64_t)gw->wv.npos + gw->wv.nrejects < max_rows) {
		uint64_t id;
		const void *data;
		size_t len;

		int bad;

		rc = trk_queue_next(gw->spool, &id, &data, &len);
		if (rc != TRK_QUEUE_OK)
			break;
		bad = group_add(gw, data, len);
		if (bad == GROUP_ENOMEM) {
			/* The records are durable: keep them all for the retry. */
			gw_log(GW_LOG_ERROR, "batch_oom", "record=%" PRIu64 " bytes=%zu", id, len);
			trk_queue_rewind(gw->spool);
			gw->nwids = 0;
			return TRK_QUEUE_ERR_NOMEM;
		}
		if (bad != GW_BATCH_OK) {
			set_aside_record(gw, id, data, len, bad);
			continue;
		}
		gw->wids[gw->nwids++] = id;
	}
	if (gw->nwids == 0)
		return rc == TRK_QUEUE_OK ? TRK_QUEUE_EMPTY : rc;
	gw->wid = gw->wids[0];
	gw->wv.pos = gw->wpos.p;
	gw->wv.pos_len = gw->wpos.len;
	gw->wv.alerts = gw->walerts.p;
	gw->wv.alerts_len = gw->walerts.len;
	gw->wv.rejects = gw->wrejects.p;
	gw->wv.rejects_len = gw->wrejects.len;
	gw->wv.states = gw->wstates.p;
	gw->wv.states_len = gw->wstates.len;
	return TRK_QUEUE_OK;
}

static void
writer_kick(struct gw *gw)
{
	struct gw_pg_job *j = &gw->wjob;
	int rc;

	if (gw->writing || !gw_pg_ready(gw->pg) || event_pending(gw->ev_retry, EV_TIMEOUT, NULL))
		return;
	if (gw->phase == PH_START)
		return;
	rc = take_group(gw);
	if (rc == TRK_QUEUE_EMPTY) {
		if (gw->phase == PH_REPLAY)
			start_load(gw);
		check_drained(gw);
		return;
	}
	if (rc != TRK_QUEUE_OK) {
		struct timeval tv = { 1, 0 };

		gw_log(GW_LOG_ERROR, "spool_read_failed", "why=\"%s\"", trk_queue_strerror(rc));
		event_add(gw->ev_retry, &tv);
		return;
	}
	if (build_alert_copy(gw) != 0)
		goto oom;
	gw->wstaging = gw->staged_id == gw->wid;
	memset(j, 0, sizeof(*j));
	j->arg = gw;
	j->done = w_done;
	j->steps[0].sql = "BEGIN";
	j->steps[1] = (struct gw_pg_step){ .sql = gw->wstaging ? sql_copy_pos : sql_copy_pos_direct,
					   .copy = gw->wv.pos, .copylen = gw->wv.pos_len,
					   .skip = !gw->wv.npos };
	j->steps[2] = (struct gw_pg_step){ .sql = sql_insert_pos, .on_result = w_pos_result,
					   .skip = !gw->wv.npos || !gw->wstaging };
	j->steps[3] = (struct gw_pg_step){ .sql = sql_copy_alert, .copy = gw->wcopy.p,
					   .copylen = gw->wcopy.len, .skip = !gw->wv.nalerts };
	j->steps[4] = (struct gw_pg_step){ .sql = sql_insert_alert, .on_result = w_alert_result,
					   .skip = !gw->wv.nalerts };
	j->steps[5] = (struct gw_pg_step){ .sql = sql_copy_rejects, .copy = gw->wv.rejects,
					   .copylen = gw->wv.rejects_len, .skip = !gw->wv.nrejects };
	j->steps[6] = (struct gw_pg_step){ .sql = sql_copy_state, .copy = gw->wv.states,
					   .copylen = gw->wv.states_len, .skip = !gw->wv.nstates };
	j->steps[7] = (struct gw_pg_step){ .sql = sql_upsert_state, .skip = !gw->wv.nstates };
	j->steps[8].sql = "COMMIT";
	j->nsteps = 9;
	gw->writing = true;
	gw->wstart_us = gw_mono_us();
	gw_pg_submit(gw->pg, j);
	return;
oom:
	/* The records are durable: keep them and try again in a second. */
	gw_log(GW_LOG_ERROR, "batch_oom", "record=%" PRIu64 " records=%zu", gw->wid, gw->nwids);
	trk_queue_rewind(gw->spool);
	{
		struct timeval tv = { 1, 0 };

		event_add(gw->ev_retry, &tv);
	}
}

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	writer_kick(arg);
}

/* ---- startup, zones, state ------------------------------------------------- */

static void
schema_result(void *arg, const PGresult *res)
{
	struct gw *gw = arg;

	gw->schema_ok = sch_check_result(res, gw->schema_msg, sizeof(gw->schema_msg)) == SCH_OK;
}

static void
part_done(void *arg, int err, const char *msg)
{
	struct gw *gw = arg;

	gw->pjob_busy = false;
	if (err == GW_PG_OK)
		gw_log(GW_LOG_DEBUG, "partitions_ensured", "days=%s", gw->part_days);
	else if (err == GW_PG_ESQL)
		gw_log(GW_LOG_ERROR, "partitions_failed", "why=\"%s\"", msg);
}

static void
ensure_partitions(struct gw *gw)
{
	struct gw_pg_job *j = &gw->pjob;

	if (gw->pjob_busy)
		return;
	memset(j, 0, sizeof(*j));
	snprintf(gw->part_days, sizeof(gw->part_days), "%d", gw->cfg.postgres.partition_days + 1);
	gw->wparams[0] = gw->part_days;
	j->steps[0] = (struct gw_pg_step){ .sql = sql_partitions, .nparams = 1,
					   .params = gw->wparams };
	j->nsteps = 1;
	j->done = part_done;
	j->arg = gw;
	gw->pjob_busy = true;
	gw_pg_submit(gw->pg, j);
}

static void
schema_done(void *arg, int err, const char *msg)
{
	struct gw *gw = arg;

	(void)msg;
	gw->sjob_busy = false;
	if (err != GW_PG_OK)
		return;   /* the link went: on_pg_ready starts over */
	if (!gw->schema_ok) {
		for (char *p = gw->schema_msg; *p; p++)
			if (*p == '\n' || *p == '"')
				*p = ' ';
		gw_log(GW_LOG_ERROR, "schema_refused", "why=\"%s\"", gw->schema_msg);
		gw->exit_code = 1;
		event_base_loopbreak(gw->base);
		return;
	}
	gw_log(GW_LOG_INFO, "schema_ok", "latest=%d", sch_latest_version());
	ensure_partitions(gw);
	gw->phase = PH_REPLAY;
	{
		struct trk_queue_stats st;

		trk_queue_get_stats(gw->spool, &st);
		gw_log(GW_LOG_INFO, "spool_replay", "pending=%" PRIu64 " bytes=%" PRIu64, st.pending,
		       st.bytes);
	}
	writer_kick(gw);
}

/* Parse the zone set and swap it in (or refuse it and keep the old one). */
static void
zones_result(void *arg, const PGresult *res)
{
	struct gw *gw = arg;
	gf_zoneset *zs = NULL;
	char why[256] = "";
	const char *text = PQgetvalue(res, 0, 0);
	int rc;

	if (PQntuples(res) != 1)
		return;
	rc = gf_zoneset_parse(text, strlen(text), &zs, why, sizeof(why));
	if (rc != GF_OK) {
		gw->m.zone_reload_failures++;
		gw_log(GW_LOG_ERROR, "zones_refused", "zones=%s why=\"%s\" kept=%zu",
		       PQgetvalue(res, 0, 1), rc == GF_ENOMEM ? "out of memory" : why,
		       gw->zones ? gf_zoneset_count(gw->zones) : 0);
		return;
	}
	if (!gw->engine) {
		if (gf_engine_new(&gw->cfg.geofence, zs, gw->tz, &gw->engine) != GF_OK) {
			gf_zoneset_free(zs);
			gw_log(GW_LOG_ERROR, "engine_failed", "why=\"%s\"", "gf_engine_new");
			return;
		}
	} else {
		gf_engine_set_zones(gw->engine, zs);
	}
	gf_zoneset_free(gw->zones);
	gw->zones = zs;
	gw->m.zone_reloads++;
	gw_log(GW_LOG_INFO, "zones_loaded", "zones=%zu bytes=%zu", gf_zoneset_count(zs),
	       gf_zoneset_memory(zs));
}

static void
states_result(void *arg, const PGresult *res)
{
	struct gw *gw = arg;
	int n = PQntuples(res), loaded = 0, refused = 0;

	if (!gw->engine)
		return;
	for (int i = 0; i < n; i++) {
		const char *name = PQgetvalue(res, i, 0);
		size_t blen = 0;
		unsigned char *blob = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 4),
						      &blen);
		struct gw_vehicle *v;

		if (!blob || gf_engine_state_load(gw->engine, name, blob, blen) != GF_OK) {
			refused++;
			PQfreemem(blob);
			continue;
		}
		PQfreemem(blob);
		v = gw_vtab_get(gw->vt, name);
		if (!v)
			continue;
		v->has_fix = true;
		v->last_us = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		v->lat = strtod(PQgetvalue(res, i, 2), NULL);
		v->lon = strtod(PQgetvalue(res, i, 3), NULL);
		if (!PQgetisnull(res, i, 5)) {
			v->has_seq = true;
			v->seq = strtoll(PQgetvalue(res, i, 5), NULL, 10);
		}
		loaded++;
	}
	gw_log(refused ? GW_LOG_WARN : GW_LOG_INFO, "vehicle_state_loaded",
	       "vehicles=%d refused=%d", loaded, refused);
}

static void
load_done(void *arg, int err, const char *msg)
{
	struct gw *gw = arg;
	struct timeval tick = { gw->cfg.daemon.tick_ms / 1000,
				(gw->cfg.daemon.tick_ms % 1000) * 1000 };

	gw->ljob_busy = false;
	if (err == GW_PG_ELINK)
		return;
	if (err != GW_PG_OK || !gw->engine) {
		struct timeval tv = { 5, 0 };

		gw_log(GW_LOG_ERROR, "startup_load_failed", "why=\"%s\" retry_s=5",
		       err ? msg : "no usable zone set");
		gw->phase = PH_REPLAY;
		event_add(gw->ev_retry, &tv);
		return;
	}
	gw->phase = PH_RUN;
	event_add(gw->ev_tick, &tick);
	gw_log(GW_LOG_INFO, "running", "vehicles=%zu", gf_engine_vehicle_count(gw->engine));
	gw_mqtt_start(gw->mqtt);
	if (gw->draining)
		check_drained(gw);
}

static void
start_load(struct gw *gw)
{
	struct gw_pg_job *j = &gw->ljob;

	if (gw->ljob_busy || gw->phase != PH_REPLAY)
		return;
	gw->phase = PH_LOAD;
	if (gw->draining) {
		check_drained(gw);
		return;
	}
	memset(j, 0, sizeof(*j));
	j->steps[0] = (struct gw_pg_step){ .sql = sql_zones, .on_result = zones_result };
	j->steps[1] = (struct gw_pg_step){ .sql = sql_states, .on_result = states_result };
	j->nsteps = 2;
	j->done = load_done;
	j->arg = gw;
	gw->ljob_busy = true;
	gw_pg_submit(gw->pg, j);
}

static void
zones_done(void *arg, int err, const char *msg)
{
	struct gw *gw = arg;

	gw->zjob_busy = false;
	if (err == GW_PG_ESQL)
		gw_log(GW_LOG_ERROR, "zones_query_failed", "why=\"%s\"", msg);
	if (gw->zones_dirty && err == GW_PG_OK) {
		gw->zones_dirty = false;
		zones_reload(gw);
	}
}

static void
zones_reload(struct gw *gw)
{
	struct gw_pg_job *j = &gw->zjob;

	if (gw->phase != PH_RUN)
		return;
	if (gw->zjob_busy) {
		gw->zones_dirty = true;
		return;
	}
	memset(j, 0, sizeof(*j));
	j->steps[0] = (struct gw_pg_step){ .sql = sql_zones, .on_result = zones_result };
	j->nsteps = 1;
	j->done = zones_done;
	j->arg = gw;
	gw->zjob_busy = true;
	gw_pg_submit(gw->pg, j);
}

static void
on_pg_ready(void *arg)
{
	struct gw *gw = arg;

	gw->m.pg_connects++;
	if (gw->phase == PH_START) {
		struct gw_pg_job *j = &gw->sjob;

		if (gw->sjob_busy)
			return;
		memset(j, 0, sizeof(*j));
		j->steps[0] = (struct gw_pg_step){ .sql = sch_applied_query,
						   .on_result = schema_result, .all_results = true };
		j->nsteps = 1;
		j->done = schema_done;
		j->arg = gw;
		gw->schema_ok = false;
		gw->sjob_busy = true;
		gw_pg_submit(gw->pg, j);
		return;
	}
	ensure_partitions(gw);
	if (gw->phase == PH_LOAD)
		gw->phase = PH_REPLAY;   /* the load was cut off: do it again */
	if (gw->phase == PH_RUN)
		zones_reload(gw);   /* they may have changed while we were away */
	writer_kick(gw);
}

static void
on_pg_down(void *arg)
{
	struct gw *gw = arg;

	(void)gw;
}

static void
on_pg_notify(void *arg, const char *channel, const char *payload)
{
	struct gw *gw = arg;

	gw_log(GW_LOG_INFO, "notify", "channel=%s payload=%s", channel, payload);
	if (!strcmp(channel, "hazgate_zones"))
		zones_reload(gw);
}

/* ---- timers ------------------------------------------------------------------ */

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;
	size_t n;

	(void)fd;
	(void)what;
	if (!gw->engine || gw->phase != PH_RUN)
		return;
	n = gf_engine_tick(gw->engine, gw_now_us(), on_alert, gw);
	if (n)
		row_added(gw);
}

static void
on_lag(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;
	int64_t now = gw_mono_us();

	(void)fd;
	(void)what;
	if (gw->lag_expected_us) {
		double lag = (double)(now - gw->lag_expected_us) / 1e6;

		if (lag < 0)
			lag = 0;
		gw->m.loop_lag_s = lag;
		if (lag > gw->m.loop_lag_max_s)
			gw->m.loop_lag_max_s = lag;
	}
	gw->lag_expected_us = now + 250000;
}

static void
on_hourly(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;

	(void)fd;
	(void)what;
	if (gw_pg_ready(gw->pg) && gw->phase != PH_START)
		ensure_partitions(gw);
}

static void
on_retry_or_load(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;

	if (gw->phase == PH_REPLAY && !gw->writing) {
		writer_kick(gw);
		return;
	}
	on_retry_timer(fd, what, arg);
}

/* ---- drain ------------------------------------------------------------------- */

static void
finish(struct gw *gw)
{
	struct trk_queue_stats st;

	trk_queue_get_stats(gw->spool, &st);
	if (gw->mqtt)
		gw_mqtt_disconnect(gw->mqtt);
	gw_log(GW_LOG_INFO, "stopped", "spool_pending=%" PRIu64 " held=%d", st.pending,
	       gw->held ? 1 : 0);
	event_base_loopexit(gw->base, NULL);
}

static void
check_drained(struct gw *gw)
{
	struct trk_queue_stats st;

	if (!gw->draining)
		return;
	trk_queue_get_stats(gw->spool, &st);
	if (gw->held)
		return;
	/* Everything is in the spool; done when it is written, or right away
	 * when the database is not there to take it. */
	if ((st.pending == 0 && !gw->writing) || !gw_pg_ready(gw->pg) || gw->phase != PH_RUN) {
		/* Let the broker acknowledge the alerts already published. */
		if (gw->mqtt && gw_mqtt_unacked(gw->mqtt) > 0) {
			struct timeval tv = { 0, 50000 };

			event_add(gw->ev_drainpoll, &tv);
			return;
		}
		finish(gw);
	}
}

static void
on_drainpoll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	check_drained(arg);
}

static void
on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;

	(void)fd;
	(void)what;
	gw_log(GW_LOG_WARN, "drain_timeout", "ms=%d action=\"exit; the rest stays in the spool\"",
	       gw->cfg.daemon.drain_timeout_ms);
	finish(gw);
}

void
gw_drain(struct gw *gw)
{
	struct timeval tv = { gw->cfg.daemon.drain_timeout_ms / 1000,
			      (gw->cfg.daemon.drain_timeout_ms % 1000) * 1000 };

	if (gw->draining)
		return;
	gw->draining = true;
	gw_log(GW_LOG_INFO, "draining", "timeout_ms=%d", gw->cfg.daemon.drain_timeout_ms);
	if (gw->mqtt)
		gw_mqtt_pause(gw->mqtt, true);
	event_add(gw->ev_drain, &tv);
	/* Every vehicle's latest state goes with the last batch. */
	gw_vtab_foreach(gw->vt, touch_unsaved, gw);
	seal(gw);
	if (gw->spool)
		trk_queue_sync(gw->spool);
	check_drained(gw);
}

/* ---- life cycle -------------------------------------------------------------- */

struct gw *
gw_new(struct event_base *base, const struct gw_config *cfg, const char *cfg_path)
{
	struct gw *gw = calloc(1, sizeof(*gw));
	struct trk_queue_options qo;
	struct gw_mqtt_cbs mc = { .on_message = on_message, .on_state = on_mqtt_state };
	struct gw_pg_cbs pc = { .on_ready = on_pg_ready, .on_down = on_pg_down,
				.on_notify = on_pg_notify };
	int rc;

	if (!gw)
		return NULL;
	gw->base = base;
	gw->cfg = *cfg;
	snprintf(gw->cfg_path, sizeof(gw->cfg_path), "%s", cfg_path ? cfg_path : "");
	gw->m.batch_rows.bounds = batch_bounds;
	gw->m.commit_seconds.bounds = commit_bounds;
	mc.arg = pc.arg = gw;

	rc = gf_tz_load(cfg->geofence.timezone, &gw->tz);
	if (rc != GF_OK) {
		gw_log(GW_LOG_ERROR, "timezone_failed", "timezone=%s why=\"%s\"",
		       cfg->geofence.timezone, gf_strerror(rc));
		goto err;
	}
	if (mkdir(cfg->spool.dir, 0750) != 0 && errno != EEXIST) {
		gw_log(GW_LOG_ERROR, "spool_failed", "dir=%s why=\"%s\"", cfg->spool.dir,
		       strerror(errno));
		goto err;
	}
	trk_queue_options_init(&qo);
	qo.max_bytes = cfg->spool.max_bytes;
	gw->seg_bytes = cfg->spool.max_bytes / 8;
	if (gw->seg_bytes < (1u << 20))
		gw->seg_bytes = 1u << 20;
	if (gw->seg_bytes > (64u << 20))
		gw->seg_bytes = 64u << 20;
	gw->seal_cap = gw->seg_bytes / 2 > (8u << 20) ? (8u << 20) : gw->seg_bytes / 2;
	qo.segment_bytes = gw->seg_bytes;
	qo.max_record = (uint32_t)(gw->seg_bytes - 64);
	qo.fsync = cfg->spool.fsync == GW_FSYNC_ALWAYS ? TRK_QUEUE_FSYNC_ALWAYS
						       : TRK_QUEUE_FSYNC_NEVER;
	qo.log = spool_log;
	qo.log_arg = gw;
	rc = trk_queue_open(&gw->spool, cfg->spool.dir, &qo);
	if (rc != TRK_QUEUE_OK) {
		gw_log(GW_LOG_ERROR, "spool_failed", "dir=%s why=\"%s\" errno=\"%s\"",
		       cfg->spool.dir, trk_queue_strerror(rc), strerror(errno));
		goto err;
	}
	gw->vt = gw_vtab_new();
	gw->mqtt = gw_mqtt_new(base, &gw->cfg, &mc);
	gw->pg = gw_pg_new(base, &gw->cfg, &pc);
	gw->ev_flush = evtimer_new(base, on_flush, gw);
	gw->ev_tick = event_new(base, -1, EV_PERSIST, on_tick, gw);
	gw->ev_lag = event_new(base, -1, EV_PERSIST, on_lag, gw);
	gw->ev_hourly = event_new(base, -1, EV_PERSIST, on_hourly, gw);
	gw->ev_retry = evtimer_new(base, on_retry_or_load, gw);
	gw->ev_drain = evtimer_new(base, on_drain_timeout, gw);
	gw->ev_kick = event_new(base, -1, 0, on_kick, gw);
	gw->ev_drainpoll = evtimer_new(base, on_drainpoll, gw);
	if (!gw->vt || !gw->mqtt || !gw->pg || !gw->ev_flush || !gw->ev_tick || !gw->ev_lag ||
	    !gw->ev_hourly || !gw->ev_retry || !gw->ev_drain || !gw->ev_kick || !gw->ev_drainpoll)
		goto err;
	if (cfg->http.listen[0]) {
		gw->http = gw_http_new(base, cfg->http.listen, gw);
		if (!gw->http)
			goto err;
	}
	return gw;
err:
	gw_free(gw);
	return NULL;
}

void
gw_free(struct gw *gw)
{
	struct event **evs[] = { &gw->ev_flush, &gw->ev_tick, &gw->ev_lag, &gw->ev_hourly,
				 &gw->ev_retry, &gw->ev_drain, &gw->ev_kick, &gw->ev_drainpoll };

	if (!gw)
		return;
	gw_http_free(gw->http);
	gw_mqtt_free(gw->mqtt);
	gw_pg_free(gw->pg);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (*evs[i])
			event_free(*evs[i]);
	if (gw->spool)
		trk_queue_free(gw->spool);
	gf_engine_free(gw->engine);
	gf_zoneset_free(gw->zones);
	gf_tz_free(gw->tz);
	gw_vtab_free(gw->vt);
	gw_batch_free(&gw->cur);
	gw_buf_free(&gw->ser);
	gw_buf_free(&gw->wrec);
	gw_buf_free(&gw->wcopy);
	gw_buf_free(&gw->wpos);
	gw_buf_free(&gw->walerts);
	gw_buf_free(&gw->wrejects);
	gw_buf_free(&gw->wstates);
	free(gw->alert_ids);
	free(gw->sbuf);
	free(gw);
}

int
gw_start(struct gw *gw)
{
	struct timeval q = { 0, 250000 }, hour = { 3600, 0 };

	event_add(gw->ev_lag, &q);
	event_add(gw->ev_hourly, &hour);
	gw_pg_start(gw->pg);
	return 0;
}

void
gw_reload(struct gw *gw)
{
	struct gw_config next;
	char err[512], names[512];
	int n;

	if (gw->cfg_path[0]) {
		if (gw_config_load(gw->cfg_path, &next, err, sizeof(err)) != GW_CONFIG_OK) {
			gw_log(GW_LOG_ERROR, "reload_refused", "why=\"%s\"", err);
		} else {
			n = gw_config_apply_reload(&gw->cfg, &next, names, sizeof(names));
			gw_log_set_level(gw->cfg.log.level);
			gw_pg_set_reconnect_max(gw->pg, gw->cfg.postgres.reconnect_max_ms);
			gw_log(GW_LOG_INFO, "config_reloaded", "needs_restart=%d%s%s", n,
			       n ? " options=" : "", n ? names : "");
		}
	}
	zones_reload(gw);
}

int
gw_exit_code(const struct gw *gw)
{
	return gw->exit_code;
}

bool
gw_healthy(const struct gw *gw, char *why, size_t len)
{
	bool mq = gw_mqtt_connected(gw->mqtt), pg = gw_pg_ready(gw->pg);

	if (gw->phase != PH_RUN) {
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

/* ---- metrics ------------------------------------------------------------------ */

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
gw_metrics_render(struct gw *gw, struct gw_buf *o)
{
	const struct gw_metrics *m = &gw->m;
	struct trk_queue_stats st;

	trk_queue_get_stats(gw->spool, &st);
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
	counter(o, "alerts_published_total", "alerts published after commit", m->alerts_published);
	counter(o, "alerts_publish_failed_total", "alerts not queued for MQTT",
		m->alerts_publish_failed);
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
	      gw_mqtt_connected(gw->mqtt) ? 1 : 0);
	gauge(o, "postgres_connected", "1 when the database connection is ready",
	      gw_pg_ready(gw->pg) ? 1 : 0);
	counter(o, "mqtt_connects_total", "successful broker connections", m->mqtt_connects);
	counter(o, "postgres_connects_total", "successful database connections", m->pg_connects);
	counter(o, "zone_reloads_total", "zone sets loaded", m->zone_reloads);
	counter(o, "zone_reload_failures_total", "zone sets refused", m->zone_reload_failures);
	gauge(o, "zones", "zones in force", gw->zones ? (double)gf_zoneset_count(gw->zones) : 0);
	gauge(o, "vehicles", "vehicles known to the engine",
	      gw->engine ? (double)gf_engine_vehicle_count(gw->engine) : 0);
	gauge(o, "loop_lag_seconds", "lateness of the last 250 ms timer", m->loop_lag_s);
	gauge(o, "loop_lag_max_seconds", "largest lateness seen", m->loop_lag_max_s);
}
