/*
 * gw_outbox.c - the alert outbox: every committed alert is published on
 * MQTT until the broker acknowledges it (PUBACK), across broker outages,
 * restarts and crashes (schema/006_alert_outbox.sql).
 *
 * The writer's alert statement inserts each new alert's outbox row (its
 * id, vehicle and published JSON) in the same transaction as the alert.
 * After COMMIT the alerts are published at once when the broker is there
 * and no replay is due; each publish is remembered with its mid (struct
 * gw_ob_ent). A PUBACK marks its alert acknowledged (counted in
 * hazgate_alerts_published_total); the rows of the acknowledged alerts
 * are deleted by a step of the writer's next transaction, or by a DELETE
 * of their own when the writer is idle (or at the end of the drain).
 *
 * At start, on every (re)connect to the broker and on every reconnect to
 * PostgreSQL (a COMMIT whose answer was lost with the connection leaves
 * committed alerts that the batch, written again, no longer returns as
 * new) a replay is due: the table is read in pages in ascending id (so in
 * order per vehicle) and every row not already handed to libmosquitto is
 * published. While a replay is due, new alerts
 * are not published after their commit but left to it: their rows come
 * after the older ones in the replay's pages, so no vehicle's alert
 * overtakes an older one. libmosquitto keeps what it was handed across a
 * reconnect (same session) and sends it again itself, with the same mid.
 * Alerts committed while the broker is away are not handed to libmosquitto
 * (whose queue would grow with the outage) but wait in the table.
 *
 * SIGTERM does not wait for PUBACKs (the drain no longer reads the socket:
 * its messages would be acknowledged and lost): what is not acknowledged
 * stays in the table and is published again at the next start. A crash
 * between COMMIT and PUBACK does the same. So feeds get every alert at
 * least once, and dedupe by id.
 *
 * One gateway replays the whole table; partitioned gateways ([cluster],
 * gw_cluster.c) each replay the rows of the vehicles of the partitions they
 * hold, again whenever that set changes. An alert the library
 * refuses for its size (NET_MQTT_ETOOBIG: above the MQTT limit or the
 * broker's maximum packet size) is logged, counted as failed and its row
 * deleted; other publish failures (out of memory) leave it, and those
 * after it, for the replay at the next connect.
 */
#include "gateway/gateway-internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/hz_log.h"
#include "gateway/gw_metrics.h"
#include "ingest/ingest.h"
#include "net/net_mqtt.h"
#include "net/net_pg.h"

/* Rows per replay page; the next page is read once fewer than this many
 * publishes wait for their PUBACK. */
#define GW_OB_PAGE 500
#define GW_OB_STR_(x) #x
#define GW_OB_STR(x) GW_OB_STR_(x)

const char gw_outbox_count_sql[] = "SELECT count(*) FROM alert_outbox";
static const char sql_page[] =
	"SELECT alert_id, vehicle, payload FROM alert_outbox WHERE alert_id > $1::int8"
	" ORDER BY alert_id LIMIT " GW_OB_STR(GW_OB_PAGE);
/* Partitioned ([cluster]): only the rows of the vehicles of the
 * partitions held here ($2 "{k,...}", $3 P; hazgate_partition, schema/015),
 * so each alert is replayed by its partition's owner, also after the
 * gateway that committed it died. */
static const char sql_page_part[] =
	"SELECT alert_id, vehicle, payload FROM alert_outbox WHERE alert_id > $1::int8"
	" AND hazgate_partition(vehicle, $3::int) = ANY ($2::int[])"
	" ORDER BY alert_id LIMIT " GW_OB_STR(GW_OB_PAGE);
static const char sql_clear[] = "DELETE FROM alert_outbox WHERE alert_id = ANY ($1::int8[])";

void
gw_outbox_count_result(void *arg, const PGresult *res)
{
	struct gw *gw = arg;

	if (PQntuples(res) == 1)
		gw->ob.rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

static struct gw_ob_ent *
find_id(struct gw_outbox *ob, int64_t id)
{
	for (size_t i = 0; i < ob->n; i++)
		if (ob->e[i].id == id)
			return &ob->e[i];
	return NULL;
}

/* Room for one more entry. Returns 0 or -1 (out of memory). */
static int
reserve_ent(struct gw_outbox *ob)
{
	size_t cap = ob->cap ? ob->cap * 2 : 256;
	struct gw_ob_ent *e;

	if (ob->n < ob->cap)
		return 0;
	e = realloc(ob->e, cap * sizeof(*e));
	if (!e)
		return -1;
	ob->e = e;
	ob->cap = cap;
	return 0;
}

/* Remember an alert handed over (room reserved). */
static void
add_ent(struct gw_outbox *ob, int64_t id, int mid, enum gw_ob_state state)
{
	ob->e[ob->n++] = (struct gw_ob_ent){ id, mid, state };
	if (state != GW_OB_SENT)
		ob->nacked++;
}

/* Publish one alert and remember it. Returns false when it could not be
 * handed over for a reason that may pass (out of memory): it stays in the
 * table for the next replay. */
static bool
publish(struct gw *gw, int64_t id, const char *vehicle, const char *payload, size_t len)
{
	char topic[GW_TOPIC_MAX + ING_VEHICLE_MAX + 2];
	int mid;

	if (reserve_ent(&gw->ob) != 0) {   /* room first: a publish is never forgotten */
		gw->m.alerts_publish_failed++;
		hz_log(HZ_LOG_ERROR, "alert_publish_failed", "id=%" PRId64 " why=\"out of memory\""
		       " action=\"kept in the outbox for the next replay\"", id);
		return false;
	}
	snprintf(topic, sizeof(topic), "%s/%s", gw->cfg.mqtt.alerts_topic, vehicle);
	mid = net_mqtt_publish(gw->mqtt, topic, payload, len, false);
	if (mid == NET_MQTT_ETOOBIG) {
		/* Never publishable: stored and announced, not on MQTT. */
		gw->m.alerts_publish_failed++;
		hz_log(HZ_LOG_ERROR, "alert_publish_failed", "id=%" PRId64 " topic=%s bytes=%zu"
		       " why=\"too large for MQTT or the broker\" action=\"dropped from the outbox\"",
		       id, topic, len);
		add_ent(&gw->ob, id, 0, GW_OB_ACKED);
		return true;
	}
	if (mid < 0) {
		gw->m.alerts_publish_failed++;
		hz_log(HZ_LOG_ERROR, "alert_publish_failed", "id=%" PRId64 " topic=%s"
		       " action=\"kept in the outbox for the next replay\"", id, topic);
		return false;
	}
	add_ent(&gw->ob, id, mid, GW_OB_SENT);
	return true;
}

void
gw_outbox_committed(struct gw *gw, const char *pub, size_t npub)
{
	struct gw_outbox *ob = &gw->ob;
	const char *p = pub;

	ob->rows += (int64_t)npub;
	gw->m.alerts_written += npub;
	if (ob->replay_due || !gw->mqtt || !net_mqtt_connected(gw->mqtt))
		return;   /* the replay takes them, in order */
	for (size_t i = 0; i < npub; i++) {
		const char *vehicle = p, *payload = p + strlen(p) + 1;
		size_t n = strlen(payload);

		p = payload + n + 1;
		/* The JSON starts with {"id":N (the statement made it). */
		if (!publish(gw, strtoll(payload + 6, NULL, 10), vehicle, payload, n)) {
			ob->replay_due = true;   /* this one and the rest, in order */
			return;
		}
	}
}

/* ---- PUBACKs and the DELETE of their rows ---------------------------------- */

void
gw_outbox_on_published(void *arg, int mid)
{
	struct gw *gw = arg;
	struct gw_outbox *ob = &gw->ob;

	/* PUBACKs come in the order of the publishes: the search starts after
	 * the last one found and wraps. */
	for (size_t k = 0; k < ob->n; k++) {
		size_t i = (ob->hint + k) % ob->n;

		if (ob->e[i].mid == mid && ob->e[i].state == GW_OB_SENT) {
			ob->hint = i + 1;
			ob->e[i].state = GW_OB_ACKED;
			ob->nacked++;
			gw->m.alerts_published++;
			event_active(gw->ev_kick, EV_TIMEOUT, 0);   /* DELETE, next page */
			return;
		}
	}
	/* Not an alert (the status topic's "online"). */
}

static void
clear_result(void *arg, const PGresult *res)
{
	struct gw *gw = arg;

	gw->ob.rows -= strtoll(PQcmdTuples((PGresult *)res), NULL, 10);
	if (gw->ob.rows < 0)
		gw->ob.rows = 0;
}

struct net_pg_step
gw_outbox_clear_step(struct gw *gw)
{
	struct gw_outbox *ob = &gw->ob;
	struct net_pg_step s = { .sql = sql_clear, .name = "hg_outbox_clear", .nparams = 1,
				 .params = ob->clear_param, .on_result = clear_result, .skip = true };
	size_t n = 0;

	if (ob->clear_busy)
		return s;   /* one DELETE at a time: ids is its parameter */
	ob->ids.len = 0;
	for (size_t i = 0; i < ob->n; i++) {
		char num[24];
		int k;

		if (ob->e[i].state != GW_OB_ACKED)
			continue;
		k = snprintf(num, sizeof(num), "%s%" PRId64, n ? "," : "{", ob->e[i].id);
		if (gw_buf_reserve(&ob->ids, (size_t)k + 2) != 0)
			break;   /* the rest goes with the next one */
		memcpy(ob->ids.p + ob->ids.len, num, (size_t)k);
		ob->ids.len += (size_t)k;
		ob->e[i].state = GW_OB_CLEARING;
		n++;
	}
	if (n == 0)
		return s;
	memcpy(ob->ids.p + ob->ids.len, "}", 2);
	ob->clear_param[0] = ob->ids.p;
	ob->clear_busy = true;
	s.skip = false;
	return s;
}

void
gw_outbox_clear_end(struct gw *gw, bool ok)
{
	struct gw_outbox *ob = &gw->ob;
	size_t k = 0;

	if (!ob->clear_busy)
		return;
	ob->clear_busy = false;
	for (size_t i = 0; i < ob->n; i++) {
		if (ob->e[i].state != GW_OB_CLEARING) {
			ob->e[k++] = ob->e[i];
		} else if (!ok) {
			ob->e[i].state = GW_OB_ACKED;
			ob->e[k++] = ob->e[i];
		} else {
			ob->nacked--;
		}
	}
	ob->n = k;
	ob->hint = 0;
}

static void
clear_done(void *arg, int err, const char *msg)
{
	struct gw *gw = arg;

	gw_outbox_clear_end(gw, err == NET_PG_OK);
	if (err == NET_PG_ELINK)
		return;   /* gw_on_pg_ready kicks again (and the loop may be ending) */
	if (err != NET_PG_OK)
		hz_log(HZ_LOG_ERROR, "outbox_clear_failed", "why=\"%s\"", msg);
	/* The drain's end or the next step (calls go one way: the loop's
	 * events call gw_drain_check and gw_kick). */
	if (gw->draining)
		event_active(gw->ev_drainpoll, EV_TIMEOUT, 0);
	else if (err == NET_PG_OK)
		event_active(gw->ev_kick, EV_TIMEOUT, 0);
}

static void
start_clear(struct gw *gw)
{
	struct net_pg_job *j = &gw->ob.cjob;

	memset(j, 0, sizeof(*j));
	j->steps[0] = gw_outbox_clear_step(gw);
	if (j->steps[0].skip)
		return;
	j->nsteps = 1;
	j->arg = gw;
	j->done = clear_done;
	net_pg_submit(gw->pg, j);
}

static bool
has_acked(const struct gw_outbox *ob)
{
	for (size_t i = 0; i < ob->n; i++)
		if (ob->e[i].state == GW_OB_ACKED)
			return true;
	return false;
}

/* ---- the replay ------------------------------------------------------------------ */

static void
page_result(void *arg, const PGresult *res)
{
	struct gw *gw = arg;
	struct gw_outbox *ob = &gw->ob;
	int n = PQntuples(res);

	/* A page read for a connection that has gone since: the next one
	 * starts over. */
	if (ob->page_gen != ob->gen || !net_mqtt_connected(gw->mqtt))
		return;
	for (int i = 0; i < n; i++) {
		int64_t id = strtoll(PQgetvalue(res, i, 0), NULL, 10);

		/* Skipped: handed over already (libmosquitto resends it). */
		if (!find_id(ob, id) && !publish(gw, id, PQgetvalue(res, i, 1),
						 PQgetvalue(res, i, 2),
						 (size_t)PQgetlength(res, i, 2))) {
			/* From here again at the next connect, not at once. */
			ob->stalled = true;
			return;
		}
		ob->after = id;
	}
	if (n < GW_OB_PAGE) {
		ob->replay_due = false;
		hz_log(HZ_LOG_INFO, "alerts_replayed", "outbox=%" PRId64 " in_flight=%zu",
		       ob->rows, ob->n - ob->nacked);
	}
}

static void
page_done(void *arg, int err, const char *msg)
{
	struct gw *gw = arg;

	gw->ob.replay_busy = false;
	if (err == NET_PG_ELINK)
		return;   /* gw_on_pg_ready kicks again */
	if (err != NET_PG_OK) {
		hz_log(HZ_LOG_ERROR, "outbox_replay_failed", "why=\"%s\"", msg);
		return;   /* due again at the next connect */
	}
	event_active(gw->ev_kick, EV_TIMEOUT, 0);
}

static void
start_page(struct gw *gw)
{
	struct gw_outbox *ob = &gw->ob;
	struct net_pg_job *j = &ob->rjob;

	snprintf(ob->after_s, sizeof(ob->after_s), "%" PRId64, ob->after);
	ob->page_param[0] = ob->after_s;
	memset(j, 0, sizeof(*j));
	j->steps[0] = (struct net_pg_step){ .sql = sql_page, .nparams = 1,
					   .params = ob->page_param, .on_result = page_result };
	if (gw->cl) {
		snprintf(ob->parts_s, sizeof(ob->parts_s), "%d", gw_cluster_partitions(gw));
		ob->page_param[1] = gw_cluster_held_list(gw);
		ob->page_param[2] = ob->parts_s;
		j->steps[0].sql = sql_page_part;
		j->steps[0].nparams = 3;
	}
	j->nsteps = 1;
	j->arg = gw;
	j->done = page_done;
	ob->page_gen = ob->gen;
	ob->replay_busy = true;
	net_pg_submit(gw->pg, j);
}

void
gw_outbox_kick(struct gw *gw)
{
	struct gw_outbox *ob = &gw->ob;

	if (gw->phase != GW_PHASE_RUN || !net_pg_ready(gw->pg))
		return;
	if (ob->replay_due && !ob->replay_busy && !ob->stalled && net_mqtt_connected(gw->mqtt) &&
	    ob->n - ob->nacked < GW_OB_PAGE)
		start_page(gw);
	if (!gw->writing && !ob->clear_busy && has_acked(ob))
		start_clear(gw);
}

void
gw_outbox_mqtt_state(void *arg, bool connected)
{
	struct gw *gw = arg;
	struct gw_outbox *ob = &gw->ob;

	ob->replay_due = true;
	if (!connected)
		return;
	ob->gen++;
	ob->after = 0;
	ob->stalled = false;
	gw_outbox_kick(gw);
}

void
gw_outbox_pg_ready(struct gw *gw)
{
	struct gw_outbox *ob = &gw->ob;

	/* From the first row, as at a connect: those handed over already
	 * (libmosquitto holds them) are skipped, the rest published. */
	ob->replay_due = true;
	ob->gen++;
	ob->after = 0;
	ob->stalled = false;
}

void
gw_outbox_partitions_changed(struct gw *gw)
{
	struct gw_outbox *ob = &gw->ob;

	/* As at a reconnect: a page under way is for the old set. */
	ob->replay_due = true;
	ob->gen++;
	ob->after = 0;
	ob->stalled = false;
	gw_outbox_kick(gw);
}

bool
gw_outbox_drained(struct gw *gw)
{
	if (gw->ob.clear_busy)
		return false;
	if (gw->phase != GW_PHASE_RUN || !net_pg_ready(gw->pg) || gw->writing ||
	    !has_acked(&gw->ob))
		return true;
	start_clear(gw);
	return !gw->ob.clear_busy;
}

void
gw_outbox_free(struct gw_outbox *ob)
{
	free(ob->e);
	gw_buf_free(&ob->ids);
	memset(ob, 0, sizeof(*ob));
}
