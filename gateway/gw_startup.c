/*
 * gw_startup.c - the start of the pipeline and what PostgreSQL tells it.
 *
 * On every new connection (gw_on_pg_ready): the first time, the schema
 * check (refused: exit 1, the log names the missing migration); then the
 * partitions ahead (again hourly), the replay of the spool (the writer
 * writes what it holds), and only once it is written the zones and
 * vehicle_state are loaded and MQTT is connected (the broker holds the
 * session's messages meanwhile), so a restart resumes exactly where the
 * spool ends (the load also counts the alert outbox's rows, which the
 * connect replays; the load also reads the fleet registry, gw_registry.c).
 * Zones are loaded again on NOTIFY hazgate_zones, on
 * SIGHUP and after a reconnect: parsed off to the side and swapped in, or
 * refused with the old set kept.
 */
#include "gateway/gateway-internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/hz_log.h"
#include "net/net_mqtt.h"
#include "net/net_pg.h"
#include "gateway/gw_vtab.h"
#include "geofence/geofence.h"
#include "schema/schema.h"
#include "common/hz_queue.h"

static const char sql_partitions[] =
	"SELECT hazgate_ensure_partitions(((now() AT TIME ZONE 'UTC')::date - 1), $1::integer)";
static const char sql_zones[] =
	"SELECT '{\"type\":\"FeatureCollection\",\"features\":[' ||"
	" coalesce(string_agg(feature::text, ',' ORDER BY id), '') || ']}', count(*) FROM zones";
/* vehicle_state with the last seq completed from the positions stored since
 * the row was saved (schema/002: a SECURITY DEFINER function). */
static const char sql_states[] =
	"SELECT vehicle, last_us, lat, lon, state, last_seq FROM hazgate_vehicle_resume()";

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
	if (err == NET_PG_OK)
		hz_log(HZ_LOG_DEBUG, "partitions_ensured", "days=%s", gw->part_days);
	else if (err == NET_PG_ESQL)
		hz_log(HZ_LOG_ERROR, "partitions_failed", "why=\"%s\"", msg);
}

void
gw_partitions_ensure(struct gw *gw)
{
	struct net_pg_job *j = &gw->pjob;

	if (gw->pjob_busy)
		return;
	memset(j, 0, sizeof(*j));
	snprintf(gw->part_days, sizeof(gw->part_days), "%d", gw->cfg.postgres.partition_days + 1);
	gw->wparams[0] = gw->part_days;
	j->steps[0] = (struct net_pg_step){ .sql = sql_partitions, .nparams = 1,
					   .params = gw->wparams };
	j->nsteps = 1;
	j->done = part_done;
	j->arg = gw;
	gw->pjob_busy = true;
	net_pg_submit(gw->pg, j);
}

static void
schema_done(void *arg, int err, const char *msg)
{
	struct gw *gw = arg;

	(void)msg;
	gw->sjob_busy = false;
	if (err != NET_PG_OK)
		return;   /* the link went: gw_on_pg_ready starts over */
	if (!gw->schema_ok) {
		for (char *p = gw->schema_msg; *p; p++)
			if (*p == '\n' || *p == '"')
				*p = ' ';
		hz_log(HZ_LOG_ERROR, "schema_refused", "why=\"%s\"", gw->schema_msg);
		gw->exit_code = 1;
		event_base_loopbreak(gw->base);
		return;
	}
	hz_log(HZ_LOG_INFO, "schema_ok", "latest=%d", sch_latest_version());
	gw_partitions_ensure(gw);
	gw->phase = GW_PHASE_REPLAY;
	{
		struct hz_queue_stats st;

		hz_queue_get_stats(gw->spool, &st);
		hz_log(HZ_LOG_INFO, "spool_replay", "pending=%" PRIu64 " bytes=%" PRIu64, st.pending,
		       st.bytes);
	}
	gw_kick(gw);
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
		hz_log(HZ_LOG_ERROR, "zones_refused", "zones=%s why=\"%s\" kept=%zu",
		       PQgetvalue(res, 0, 1), rc == GF_ENOMEM ? "out of memory" : why,
		       gw->zones ? gf_zoneset_count(gw->zones) : 0);
		return;
	}
	if (!gw->engine) {
		if (gf_engine_new(&gw->cfg.geofence, zs, gw->tz, &gw->engine) != GF_OK) {
			gf_zoneset_free(zs);
			hz_log(HZ_LOG_ERROR, "engine_failed", "why=\"%s\"", "gf_engine_new");
			return;
		}
	} else {
		gf_engine_set_zones(gw->engine, zs);
	}
	gf_zoneset_free(gw->zones);
	gw->zones = zs;
	gw->m.zone_reloads++;
	hz_log(HZ_LOG_INFO, "zones_loaded", "zones=%zu bytes=%zu", gf_zoneset_count(zs),
	       gf_zoneset_memory(zs));
}

void
gw_states_result(void *arg, const PGresult *res)
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
	hz_log(refused ? HZ_LOG_WARN : HZ_LOG_INFO, "vehicle_state_loaded",
	       "vehicles=%d refused=%d", loaded, refused);
}

static void
load_done(void *arg, int err, const char *msg)
{
	struct gw *gw = arg;
	struct timeval tick = { gw->cfg.daemon.tick_ms / 1000,
				(gw->cfg.daemon.tick_ms % 1000) * 1000 };

	gw->ljob_busy = false;
	if (err == NET_PG_ELINK)
		return;
	if (err != NET_PG_OK || !gw->engine) {
		struct timeval tv = { 5, 0 };

		hz_log(HZ_LOG_ERROR, "startup_load_failed", "why=\"%s\" retry_s=5",
		       err ? msg : "no usable zone set");
		gw->phase = GW_PHASE_REPLAY;
		event_add(gw->ev_retry, &tv);
		return;
	}
	gw->phase = GW_PHASE_RUN;
	event_add(gw->ev_tick, &tick);
	hz_log(HZ_LOG_INFO, "running", "vehicles=%zu", gf_engine_vehicle_count(gw->engine));
	gw_in_recover(gw);   /* what a crash left in the inbox journal, before MQTT */
	gw_cluster_spool_marked(gw);
	net_mqtt_start(gw->mqtt);
	if (gw->cl)
		gw_cluster_start(gw);   /* the partitions' sessions, once claimed */
	if (gw->draining)
		gw_drain_check(gw);
}

static void
start_load(struct gw *gw)
{
	struct net_pg_job *j = &gw->ljob;

	if (gw->ljob_busy || gw->phase != GW_PHASE_REPLAY)
		return;
	gw->phase = GW_PHASE_LOAD;
	if (gw->draining) {
		gw_drain_check(gw);
		return;
	}
	memset(j, 0, sizeof(*j));
	j->steps[j->nsteps++] = (struct net_pg_step){ .sql = sql_zones, .on_result = zones_result };
	/* Partitioned, a gateway loads the state of its partitions' vehicles
	 * as it takes them (gw_cluster.c), not the whole fleet's. */
	if (!gw->cl)
		j->steps[j->nsteps++] = (struct net_pg_step){ .sql = sql_states,
							      .on_result = gw_states_result };
	j->steps[j->nsteps++] = (struct net_pg_step){ .sql = gw_outbox_count_sql,
						      .on_result = gw_outbox_count_result };
	j->steps[j->nsteps++] = gw_registry_load_step();
	j->done = load_done;
	j->arg = gw;
	gw->ljob_busy = true;
	net_pg_submit(gw->pg, j);
}

void
gw_kick(struct gw *gw)
{
	if (!gw_writer_kick(gw))
		return;
	if (gw->phase == GW_PHASE_REPLAY)
		start_load(gw);
	gw_drain_check(gw);
}

static void
zones_done(void *arg, int err, const char *msg)
{
	struct gw *gw = arg;

	gw->zjob_busy = false;
	if (err == NET_PG_ESQL)
		hz_log(HZ_LOG_ERROR, "zones_query_failed", "why=\"%s\"", msg);
	if (gw->zones_dirty && err == NET_PG_OK) {
		gw->zones_dirty = false;
		gw_zones_reload(gw);
	}
}

void
gw_zones_reload(struct gw *gw)
{
	struct net_pg_job *j = &gw->zjob;

	if (gw->phase != GW_PHASE_RUN)
		return;
	if (gw->zjob_busy) {
		gw->zones_dirty = true;
		return;
	}
	memset(j, 0, sizeof(*j));
	j->steps[0] = (struct net_pg_step){ .sql = sql_zones, .on_result = zones_result };
	j->nsteps = 1;
	j->done = zones_done;
	j->arg = gw;
	gw->zjob_busy = true;
	net_pg_submit(gw->pg, j);
}

void
gw_on_pg_ready(void *arg)
{
	struct gw *gw = arg;

	gw->m.pg_connects++;
	if (gw->phase == GW_PHASE_START) {
		struct net_pg_job *j = &gw->sjob;

		if (gw->sjob_busy)
			return;
		memset(j, 0, sizeof(*j));
		j->steps[0] = (struct net_pg_step){ .sql = sch_applied_query,
						   .on_result = schema_result, .all_results = true };
		j->nsteps = 1;
		j->done = schema_done;
		j->arg = gw;
		gw->schema_ok = false;
		gw->sjob_busy = true;
		net_pg_submit(gw->pg, j);
		return;
	}
	gw_partitions_ensure(gw);
	if (gw->phase == GW_PHASE_LOAD)
		gw->phase = GW_PHASE_REPLAY;   /* the load was cut off: do it again */
	if (gw->phase == GW_PHASE_RUN) {
		gw_zones_reload(gw);   /* they may have changed while we were away */
		gw_registry_reload(gw);
		gw_outbox_pg_ready(gw);
	}
	gw_kick(gw);
}

void
gw_on_pg_down(void *arg)
{
	struct gw *gw = arg;

	(void)gw;
}

void
gw_on_pg_notify(void *arg, const char *channel, const char *payload)
{
	struct gw *gw = arg;

	hz_log(HZ_LOG_INFO, "notify", "channel=%s payload=%s", channel, payload);
	if (!strcmp(channel, "hazgate_zones"))
		gw_zones_reload(gw);
	else if (!strcmp(channel, "hazgate_registry"))
		gw_registry_reload(gw);
}
