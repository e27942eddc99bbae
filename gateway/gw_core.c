/*
 * gw_core.c - hazgate's pipeline as one object: MQTT message -> ingest ->
 * geofence -> batch -> spool -> PostgreSQL -> (after COMMIT) alerts on MQTT.
 *
 * This file holds struct gw's life cycle (gw_new opens the spool and makes
 * the adapters, gw_free undoes it, gw_start, gw_reload on SIGHUP), every
 * timer of the loop, and the start of the SIGTERM drain. Each timer and
 * adapter callback hands over to the file of its job (gateway-internal.h):
 * gw_in.c (message in, the current batch, seal), gw_writer.c (the spool
 * and its writer, the end of the drain), gw_startup.c (schema, partitions,
 * replay, zones and vehicle_state), gw_metrics.c (/metrics, /healthz).
 *
 * Startup: schema check, partitions, replay of the spool, then zones and
 * vehicle_state, and only then MQTT (the broker holds the session's
 * messages meanwhile), so a restart resumes exactly where the spool ends.
 */
#include "gateway/gateway-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/hz_clock.h"
#include "gateway/gateway.h"
#include "gateway/gw_batch.h"
#include "gateway/gw_config.h"
#include "net/net_http.h"
#include "gateway/gw_inbox.h"
#include "common/hz_log.h"
#include "gateway/gw_metrics.h"
#include "net/net_mqtt.h"
#include "net/net_pg.h"
#include "gateway/gw_vtab.h"
#include "geofence/geofence.h"
#include "common/hz_queue.h"

/* ---- spool and timers ---------------------------------------------------------- */

/* The spool's own lines (hz_queue) in the daemon's log. */
static void
spool_log(void *arg, enum hz_queue_level level, const char *event, const char *detail)
{
	(void)arg;
	hz_log(level == HZ_QUEUE_LOG_ERROR ? HZ_LOG_ERROR :
	       level == HZ_QUEUE_LOG_WARN ? HZ_LOG_WARN : HZ_LOG_INFO,
	       "spool", "what=%s %s", event, detail);
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gw_in_seal(arg);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;

	(void)fd;
	(void)what;
	/* Silence while the gateway itself is cut off from the broker is not
	 * the trackers': no tracker_silent then (the clock restarts at the
	 * reconnect, on_mqtt_state). */
	if (gw->mqtt && !net_mqtt_connected(gw->mqtt))
		return;
	gw_in_tick(gw);
}

static void
on_lag(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;
	int64_t now = hz_mono_us();

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
	if (net_pg_ready(gw->pg) && gw->phase != GW_PHASE_START)
		gw_partitions_ensure(gw);
}

/* A failed write's retry, or the load's after it failed (the phase is back
 * to the replay: the writer finds the spool empty and the load starts). */
static void
on_retry_or_load(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gw_kick(arg);
}

/* The writer committed (or set a record aside): PUBACKs of what is
 * committed (partitioned), then the pipeline's next step. */
static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gw_cluster_committed(arg);
	gw_kick(arg);
}

/* ---- drain ------------------------------------------------------------------- */

static void
on_drainpoll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gw_drain_check(arg);
}

static void
on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;

	(void)fd;
	(void)what;
	hz_log(HZ_LOG_WARN, "drain_timeout", "ms=%d action=\"exit; the rest stays in the spool\"",
	       gw->cfg.daemon.drain_timeout_ms);
	gw_drain_finish(gw);
}

void
gw_drain(struct gw *gw)
{
	struct timeval tv = { gw->cfg.daemon.drain_timeout_ms / 1000,
			      (gw->cfg.daemon.drain_timeout_ms % 1000) * 1000 };

	if (gw->draining)
		return;
	gw->draining = true;
	hz_log(HZ_LOG_INFO, "draining", "timeout_ms=%d", gw->cfg.daemon.drain_timeout_ms);
	if (gw->mqtt)
		net_mqtt_pause(gw->mqtt, true);
	gw_cluster_drain(gw);
	event_add(gw->ev_drain, &tv);
	/* Every vehicle's latest state goes with the last batch. */
	gw_in_seal_all(gw);
	if (gw->spool)
		hz_queue_sync(gw->spool);
	gw_drain_check(gw);
}

/* ---- the broker's connection ---------------------------------------------------- */

/* Counted (gw_in.c); the trackers' silence clock restarts (on_tick); the
 * outbox replays what waits (gw_outbox.c). */
static void
on_mqtt_state(void *arg, bool connected)
{
	struct gw *gw = arg;

	gw_in_mqtt_state(arg, connected);
	if (connected && gw->engine)
		gf_engine_silence_restart(gw->engine, hz_now_us());
	gw_outbox_mqtt_state(arg, connected);
}

/* ---- life cycle -------------------------------------------------------------- */

static void
http_metrics(void *arg, struct evbuffer *out)
{
	struct gw_buf b = { NULL, 0, 0 };

	gw_metrics_render(arg, &b);
	evbuffer_add(out, b.p, b.len);
	gw_buf_free(&b);
}

static bool
http_health(void *arg, char *why, size_t len)
{
	return gw_healthy(arg, why, len);
}

/* The session setup of the gateway's database connection: the positions'
 * staging table (the de-duplicating path only, gw_writer.c), and the
 * zones' reload channel. Alerts and vehicle states need no staging table:
 * they go as array parameters (issue 15). */
static const char gw_pg_setup_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS hg_pos (vehicle text, ts timestamptz, lat float8,"
	" lon float8, speed_kmh real, heading real, alt_m real, hdop real, fix smallint,"
	" sats smallint, un text, hazard_class text, seq bigint, ignition boolean,"
	" zone_ids integer[], received_at timestamptz, alarms integer) ON COMMIT DELETE ROWS;"
	"LISTEN hazgate_zones; LISTEN hazgate_registry";

/* The broker and database adapters' settings, borrowed from cfg (which
 * outlives them: it is the gateway's own copy). */
static void
gw_net_confs(const struct gw *gw, struct net_mqtt_conf *m, struct net_pg_conf *p)
{
	const struct gw_config *cfg = &gw->cfg;

	*m = (struct net_mqtt_conf)NET_MQTT_CONF_FROM(cfg->mqtt);
	m->coalesce_us = cfg->mqtt.coalesce_ms * 1000;
	m->nsubs = cfg->mqtt.nsubs;
	for (size_t i = 0; i < cfg->mqtt.nsubs && i < NET_MQTT_SUB_MAX; i++)
		m->subs[i] = cfg->mqtt.subs[i].filter;
	if (gw->cl) {
		/* Partitioned: this session publishes; the partitions' own
		 * sessions subscribe (gw_cluster.c). */
		m->nsubs = 0;
		m->client_id = gw_cluster_main_client_id(gw->cl);
	}
	*p = (struct net_pg_conf){
		.conninfo = cfg->postgres.conninfo, .app_name = "hazgate",
		.setup_sql = gw_pg_setup_sql, .reconnect_max_ms = cfg->postgres.reconnect_max_ms,
	};
}

struct gw *
gw_new(struct event_base *base, const struct gw_config *cfg, const char *cfg_path)
{
	struct gw *gw = calloc(1, sizeof(*gw));
	struct hz_queue_options qo;
	struct net_mqtt_conf nmc;
	struct net_pg_conf npc;
	struct net_mqtt_cbs mc = { .on_message = gw_in_message, .on_state = on_mqtt_state,
				   .on_published = gw_outbox_on_published };
	struct net_pg_cbs pc = { .on_ready = gw_on_pg_ready, .on_down = gw_on_pg_down,
				.on_notify = gw_on_pg_notify };
	int rc;

	if (!gw)
		return NULL;
	gw->base = base;
	gw->cfg = *cfg;
	/* The decide step's view of [mqtt] subscribe (not reloaded by SIGHUP:
	 * the filters stay where they are). */
	for (size_t i = 0; i < gw->cfg.mqtt.nsubs; i++)
		gw->subs[i] = (struct decide_sub){ gw->cfg.mqtt.subs[i].filter,
						   gw->cfg.mqtt.subs[i].format };
	snprintf(gw->cfg_path, sizeof(gw->cfg_path), "%s", cfg_path ? cfg_path : "");
	gw_metrics_init(&gw->m);
	mc.arg = pc.arg = gw;

	rc = gf_tz_load(cfg->geofence.timezone, &gw->tz);
	if (rc != GF_OK) {
		hz_log(HZ_LOG_ERROR, "timezone_failed", "timezone=%s why=\"%s\"",
		       cfg->geofence.timezone, gf_strerror(rc));
		goto err;
	}
	if (mkdir(cfg->spool.dir, 0750) != 0 && errno != EEXIST) {
		hz_log(HZ_LOG_ERROR, "spool_failed", "dir=%s why=\"%s\"", cfg->spool.dir,
		       strerror(errno));
		goto err;
	}
	hz_queue_options_init(&qo);
	qo.max_bytes = cfg->spool.max_bytes;
	gw->seg_bytes = cfg->spool.max_bytes / 8;
	if (gw->seg_bytes < (1u << 20))
		gw->seg_bytes = 1u << 20;
	if (gw->seg_bytes > (64u << 20))
		gw->seg_bytes = 64u << 20;
	gw->seal_cap = gw->seg_bytes / 2 > (8u << 20) ? (8u << 20) : gw->seg_bytes / 2;
	qo.segment_bytes = gw->seg_bytes;
	qo.max_record = (uint32_t)(gw->seg_bytes - 64);
	qo.fsync = cfg->spool.fsync == GW_FSYNC_ALWAYS ? HZ_QUEUE_FSYNC_ALWAYS
						       : HZ_QUEUE_FSYNC_NEVER;
	qo.log = spool_log;
	qo.log_arg = gw;
	rc = hz_queue_open(&gw->spool, cfg->spool.dir, &qo);
	if (rc != HZ_QUEUE_OK) {
		hz_log(HZ_LOG_ERROR, "spool_failed", "dir=%s why=\"%s\" errno=\"%s\"",
		       cfg->spool.dir, hz_queue_strerror(rc), strerror(errno));
		goto err;
	}
	{
		/* The inbox journal, beside the spool's segments (issue 11 item 2). */
		char idir[GW_PATH_MAX + 8];

		snprintf(idir, sizeof(idir), "%s/inbox", cfg->spool.dir);
		rc = gw_inbox_open(&gw->inbox, idir, gw->seal_cap);
		if (rc != GW_INBOX_OK) {
			hz_log(HZ_LOG_ERROR, "inbox_failed", "dir=%s why=\"%s\" errno=\"%s\"", idir,
			       gw_inbox_strerror(rc), strerror(errno));
			goto err;
		}
	}
	gw->vt = gw_vtab_new();
	if (cfg->cluster.partitions > 0) {
		struct gw_cluster_cbs cc = { .message = gw_in_message, .seal_all = gw_in_seal_all,
					     .seal = gw_in_seal, .states = gw_states_result,
					     .held_changed = gw_outbox_partitions_changed };

		gw->cl = gw_cluster_new(gw, &cc);
		if (!gw->cl)
			goto err;
	}
	gw_cluster_spool_open(gw);   /* partitioned: the broker has what was not committed */
	gw_spool_replay_files(gw);
	gw_net_confs(gw, &nmc, &npc);
	gw->mqtt = net_mqtt_new(base, &nmc, &mc);
	gw->pg = net_pg_new(base, &npc, &pc);
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
		struct net_http_cbs hc = { .metrics = http_metrics, .health = http_health,
					   .arg = gw };

		gw->http = net_http_new(base, cfg->http.listen, &hc);
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
	gw_cluster_free(gw->cl);
	net_http_free(gw->http);
	net_mqtt_free(gw->mqtt);
	net_pg_free(gw->pg);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (*evs[i])
			event_free(*evs[i]);
	gw_inbox_free(gw->inbox);
	if (gw->spool)
		hz_queue_free(gw->spool);
	gf_engine_free(gw->engine);
	gf_zoneset_free(gw->zones);
	gw_registry_clear(gw);
	gf_tz_free(gw->tz);
	gw_vtab_free(gw->vt);
	gw_batch_free(&gw->cur);
	gw_batch_free(&gw->sealed);
	gw_buf_free(&gw->wpub);
	gw_buf_free(&gw->wconv);
	gw_outbox_free(&gw->ob);
	gw_buf_free(&gw->wposn);
	gw_arrays_free(&gw->walerts);
	gw_arrays_free(&gw->wstates);
	free(gw->sbuf);
	free(gw);
}

int
gw_start(struct gw *gw)
{
	struct timeval q = { 0, 250000 }, hour = { 3600, 0 };

	event_add(gw->ev_lag, &q);
	event_add(gw->ev_hourly, &hour);
	net_pg_start(gw->pg);
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
			hz_log(HZ_LOG_ERROR, "reload_refused", "why=\"%s\"", err);
		} else {
			n = gw_config_apply_reload(&gw->cfg, &next, names, sizeof(names));
			hz_log_set_level(gw->cfg.log.level);
			net_pg_set_reconnect_max(gw->pg, gw->cfg.postgres.reconnect_max_ms);
			if (gw->engine)  /* [rules]: checked by the table's bounds */
				(void)gf_engine_set_rules(gw->engine, &gw->cfg.geofence.rules);
			hz_log(HZ_LOG_INFO, "config_reloaded", "needs_restart=%d%s%s", n,
			       n ? " options=" : "", n ? names : "");
		}
	}
	gw_zones_reload(gw);
	gw_registry_reload(gw);
}

int
gw_exit_code(const struct gw *gw)
{
	return gw->exit_code;
}
