/*
 * gateway-internal.h - struct gw and what the files of the daemon's core
 * share. Nothing outside gateway/ includes it; the adapters do not either
 * (each has its own header: gw_batch.h, gw_vtab.h, net_mqtt.h,
 * net_pg.h, net_dns.h, net_http.h, gw_metrics.h), and gw_main.c sees gateway.h.
 *
 * The core, by job. Calls go down this list only, never up (a file lower
 * down that needs the pipeline's next step returns a result or activates
 * ev_kick, as the writer does after a commit):
 *
 *   gw_core.c     struct gw's life cycle (new/free/start/reload), the
 *                 timers, the start of the SIGTERM drain
 *   gw_startup.c  schema check, partitions, the replay phase, zones and
 *                 vehicle_state load, zone reloads; gw_kick
 *   gw_in.c       message in: decode, engine, the current batch, seal
 *   gw_writer.c   the spool and its writer: append, room, group commit,
 *                 set-aside records; the end of the drain
 *   gw_outbox.c   the alert outbox: alerts published after COMMIT, their
 *                 PUBACKs, the replay at start and on every reconnect
 *   gw_metrics.c  counters, histograms, /metrics text, /healthz
 *   gw_cluster.c  [cluster] partitions: claims, the partitions' MQTT
 *                 sessions, hand-overs, the fence (the core files call it;
 *                 it calls them back only through struct gw_cluster_cbs)
 */
#ifndef HAZGATE_GATEWAY_INTERNAL_H
#define HAZGATE_GATEWAY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/gw_batch.h"
#include "gateway/gw_config.h"
#include "gateway/gw_copyarr.h"
#include "gateway/gw_metrics.h"
#include "gateway/gw_registry.h"
#include "net/net_pg.h"
#include "decide/decide.h"
#include "geofence/geofence.h"
#include "common/hz_queue.h"

struct event;
struct event_base;
struct net_http;
struct net_mqtt;
struct gw_vtab;
struct gw_inbox;
struct gw_cluster;

/* Start: schema check; replay: the spool written out; load: zones and
 * vehicle_state; run: MQTT connected, messages taken. */
enum gw_phase { GW_PHASE_START, GW_PHASE_REPLAY, GW_PHASE_LOAD, GW_PHASE_RUN };

/* Group commit: the writer takes the sealed batches waiting in the spool,
 * up to this many records and GW_GROUP_BATCHES * batch_rows positions, into
 * one transaction. One batch per transaction made the database round trip
 * the bottleneck under load (bench_gateway: 1,000-row transactions of
 * 28-56 ms with every process below half a core). */
#define GW_GROUP_RECORDS 64
#define GW_GROUP_BATCHES 8

/* The alert outbox (gw_outbox.c, schema/006_alert_outbox.sql): an alert
 * handed to libmosquitto (sent, with its mid) or acknowledged by the broker
 * (acked; clearing once its outbox row's DELETE is under way), until that
 * DELETE commits. In the order handed over. */
enum gw_ob_state { GW_OB_SENT, GW_OB_ACKED, GW_OB_CLEARING };
struct gw_ob_ent {
	int64_t id;
	int mid;
	enum gw_ob_state state;
};
struct gw_outbox {
	struct gw_ob_ent *e;
	size_t n, cap;
	size_t hint;             /* where the next PUBACK's search starts */
	size_t nacked;           /* entries acked or clearing */
	int64_t rows;            /* outbox rows: counted at load, then kept;
	                            rows - nacked are unpublished (the gauge) */
	bool replay_due;         /* publish from the table before anything new */
	bool replay_busy;
	bool stalled;            /* a publish failed: no replay before the next connect */
	bool clear_busy;         /* a DELETE under way (its own or the writer's) */
	unsigned gen, page_gen;  /* MQTT connections; the page's */
	int64_t after;           /* the replay's last id */
	char after_s[24];
	const char *page_param[3], *clear_param[1];
	char parts_s[16];        /* [cluster] partitions, the partitioned page's $3 */
	struct gw_buf ids;       /* "{id,...}": the DELETE's parameter */
	struct net_pg_job rjob, cjob;
};

struct gw {
	struct event_base *base;
	struct gw_config cfg;
	char cfg_path[GW_PATH_MAX];
	struct net_mqtt *mqtt;
	struct net_pg *pg;
	struct net_http *http;
	hz_queue *spool;
	uint64_t seg_bytes, seal_cap;
	struct decide_sub subs[GW_SUB_MAX];   /* [mqtt] subscribe (not reloaded) */
	gf_engine *engine;
	gf_zoneset *zones;
	gf_tz *tz;
	struct gw_vtab *vt;
	struct gw_batch cur;     /* the batch rows go into */
	struct gw_batch sealed;  /* the last batch sealed (swapped with cur, not copied) */
	bool held;               /* sealed waits: the spool had no room for it */
	bool spool_full;         /* reading paused because of the spool */
	struct event *ev_flush, *ev_tick, *ev_lag, *ev_hourly, *ev_retry, *ev_drain, *ev_kick;
	struct event *ev_drainpoll;
	struct gw_metrics m;
	enum gw_phase phase;
	/* writer */
	struct net_pg_job wjob;
	bool writing;
	uint64_t wid;            /* the group's first spool record */
	uint64_t wids[GW_GROUP_RECORDS];
	size_t nwids;            /* records in the transaction under way */
	/* Its records, as hz_queue_next_keep left them (released when the next
	 * group is taken), and their sections as COPY data, record by record:
	 * nothing is gathered. A version 1 record's alerts are converted into
	 * wconv (wconv_off/_len), which the alerts' pieces then point into;
	 * so are a version 1 or 2 record's positions (wpconv_off/_len). */
	struct gw_batch_view wrecs[GW_GROUP_RECORDS];
	size_t wconv_off[GW_GROUP_RECORDS], wconv_len[GW_GROUP_RECORDS];
	size_t wpconv_off[GW_GROUP_RECORDS], wpconv_len[GW_GROUP_RECORDS];
	struct gw_buf wconv;
	/* The group's positions in binary COPY format (gw_copybin.h), in wconv
	 * after the converted records; wpos_binary false: sent as COPY text. */
	struct net_pg_chunk wposbin;
	bool wpos_binary;
	struct net_pg_chunk wchunks[4][GW_GROUP_RECORDS];   /* pos, alerts, rejects, states */
	size_t nwchunks[4];
	uint32_t wnpos, wnalerts, wnrejects, wnstates;     /* the group's rows */
	int64_t wstart_us;
	int wfails;
	size_t wsingle;          /* records still to take one by one after a group failed */
	bool wstaging;           /* this record goes through the staging table */
	uint64_t wdup_same, wdup_differ;   /* its fixes already stored: identical, other values */
	uint64_t staged_id;
	struct gw_buf wpub;      /* new alerts: (vehicle, JSON) pairs, NUL terminated */
	size_t npub;             /* ... how many, published after COMMIT */
	struct gw_outbox ob;     /* gw_outbox.c */
	const char *wparams[1];
	struct gw_buf wposn;     /* the group's NOTIFY hazgate_positions payloads */
	/* The group's alerts and vehicle states as array parameters of one
	 * prepared statement each (gw_copyarr.h), made from their COPY
	 * sections; wbad: a section that is not COPY text (the step then
	 * fails as the server's COPY would have). */
	struct gw_arrays walerts, wstates;
	bool wbad_alerts, wbad_states;
	/* other jobs */
	struct gw_registry reg;  /* the fleet registry (gw_registry.c) */
	struct net_pg_job sjob, pjob, zjob, ljob;
	bool schema_ok, sjob_busy, pjob_busy, zjob_busy, zones_dirty, ljob_busy;
	char schema_msg[512];
	char part_days[16];
	/* shutdown */
	bool draining;
	int exit_code;
	int64_t lag_expected_us;
	int64_t mono_us;         /* hz_mono_us() at the last message or seal */
	uint8_t *sbuf;
	size_t sbuf_cap;
	/* The inbox journal (gw_inbox.h): every message as it arrives; the
	 * segments below inbox_sealed go once the sealed batch is in the spool. */
	struct gw_inbox *inbox;
	uint64_t inbox_sealed;
	/* gw_in_seal stopped with state rows left (the spool held a batch
	 * back): the flush timer seals the rest; the drain waits for them. */
	bool seal_more;
	/* The current batch's flush timer was brought forward to flush_ms
	 * after its first alert (it starts at positions_flush_ms after the
	 * first row: gw_in.c, arm_flush). */
	bool flush_hastened;
	int64_t flush_at_us;     /* the flush timer's deadline, hz_mono_us() */
	/* [cluster] partitions > 0: the claims and the partitions' sessions
	 * (gw_cluster.c); NULL for one gateway. */
	struct gw_cluster *cl;
};

/* ---- startup (gw_startup.c) ------------------------------------------- */

/* The pipeline's next step: start the writer on what the spool holds
 * (gw_writer_kick); once the replay has written it all, load the zones and
 * vehicle_state; end the drain when it is done. */
void gw_kick(struct gw *gw);
/* Create the partitions ahead (hazgate_ensure_partitions) unless a call is
 * under way. */
void gw_partitions_ensure(struct gw *gw);
/* Load the zones from the table again (running phase only; one query at a
 * time, a request meanwhile runs once it ends). */
void gw_zones_reload(struct gw *gw);
/* net_pg's callbacks (struct net_pg_cbs), arg = the gw. */
void gw_on_pg_ready(void *arg);
void gw_on_pg_down(void *arg);
void gw_on_pg_notify(void *arg, const char *channel, const char *payload);
/* The rows of hazgate_vehicle_resume() into the engine and the vehicle
 * table (a step's on_result, arg = the gw): at start, and when partitions
 * are claimed. */
void gw_states_result(void *arg, const PGresult *res);

/* ---- message in (gw_in.c) -------------------------------------------- */

/* net_mqtt's callbacks (struct net_mqtt_cbs), arg = the gw: a message into
 * the current batch; a connection counted. */
void gw_in_message(void *arg, const char *topic, const void *payload, size_t len);
void gw_in_mqtt_state(void *arg, bool connected);
/* The engine's clock (tracker_silent): its alerts into the current batch
 * (running phase only). */
void gw_in_tick(struct gw *gw);
/* Close the current batch with its vehicle_state rows and hand it to the
 * spool (gw_spool_append); a batch the spool has no room for is held. */
void gw_in_seal(struct gw *gw);
/* As gw_in_seal, with every vehicle's unsaved state (the drain's last batch). */
void gw_in_seal_all(struct gw *gw);
/* At start, before MQTT: the messages the inbox journal holds from before
 * (a crash) go through the pipeline again, then into the spool. */
void gw_in_recover(struct gw *gw);

/* ---- the spool and its writer (gw_writer.c) ---------------------------- */

/* Append the sealed batch held in gw->ser to the spool if there is room
 * (else pause MQTT reading), then kick the writer. */
void gw_spool_append(struct gw *gw);
/* At start: append the files <spool dir>/replay-*.hgb (set-aside records an
 * operator gives back) to the spool, removing each once it is in. */
void gw_spool_replay_files(struct gw *gw);
/* Start a transaction on the next spool records when the writer is idle,
 * PostgreSQL ready and no retry pending. Returns true when the spool had
 * nothing left to write (the caller ends the replay, checks the drain). */
bool gw_writer_kick(struct gw *gw);
/* While draining: stop (gw_drain_finish) once everything is in the spool
 * and the spool is written, or cannot be (PostgreSQL away, not running),
 * and the outbox rows of the alerts acknowledged are deleted
 * (gw_outbox_drained; no wait for PUBACKs). */
void gw_drain_check(struct gw *gw);
/* Disconnect MQTT, log what the spool keeps, leave the loop. */
void gw_drain_finish(struct gw *gw);

/* ---- the alert outbox (gw_outbox.c) ------------------------------------- */

/* The outbox rows' count (the load's step: sql, then its result). */
extern const char gw_outbox_count_sql[];
void gw_outbox_count_result(void *arg, const PGresult *res);
/* A transaction committed npub new alerts, (vehicle, JSON) pairs in batch
 * order at pub: published now (connected, no replay due), else left to the
 * replay. Their outbox rows were written by the same transaction. */
void gw_outbox_committed(struct gw *gw, const char *pub, size_t npub);
/* A step of the writer's transaction that deletes the rows of the alerts
 * acknowledged so far (marked clearing), or a skipped step when there are
 * none; then the transaction's end: ok (deleted) or not (acked again). */
struct net_pg_step gw_outbox_clear_step(struct gw *gw);
void gw_outbox_clear_end(struct gw *gw, bool ok);
/* Start what is due and can start: a replay page (connected, PostgreSQL
 * ready, few publishes in flight), a DELETE of its own when the writer is
 * idle. Running phase only. */
void gw_outbox_kick(struct gw *gw);
/* net_mqtt's callbacks, arg = the gw: a connection (a replay is due) or its
 * loss; a PUBACK. */
void gw_outbox_mqtt_state(void *arg, bool connected);
void gw_outbox_on_published(void *arg, int mid);
/* PostgreSQL is back (running phase): a replay is due, for the alerts a
 * transaction committed while its answer was lost with the connection
 * (written again, they are no longer new, so not published after it). */
void gw_outbox_pg_ready(struct gw *gw);
/* The drain's last step: true when no DELETE is under way or due (else it
 * starts one, and activates ev_drainpoll when it ends). Unacknowledged alerts
 * stay in the outbox for the next start. */
bool gw_outbox_drained(struct gw *gw);
void gw_outbox_free(struct gw_outbox *ob);
/* The partitions held changed ([cluster]): replay the outbox again from
 * the start, for the partitions held now. */
void gw_outbox_partitions_changed(struct gw *gw);

/* ---- partitioned gateways (gw_cluster.c) --------------------------------- */

/* What gw_cluster.c calls in the rest of the core (given by gw_core.c, so
 * that calls between the files go one way): a partition's message in
 * (gw_in_message), seal with every unsaved state (gw_in_seal_all), seal
 * (gw_in_seal: the partitions' held bursts), the
 * rows of a state query (gw_states_result, arg = the gw), the partitions
 * held changed (gw_outbox_partitions_changed). */
struct gw_cluster_cbs {
	void (*message)(void *arg, const char *topic, const void *payload, size_t len);
	void (*seal_all)(struct gw *gw);
	void (*seal)(struct gw *gw);
	void (*states)(void *arg, const PGresult *res);
	void (*held_changed)(struct gw *gw);
};
/* The claims' state for gw (gw->cfg.cluster.partitions > 0): the claim
 * connection and the timers made, nothing started; NULL out of memory. */
struct gw_cluster *gw_cluster_new(struct gw *gw, const struct gw_cluster_cbs *cbs);
void gw_cluster_free(struct gw_cluster *cl);
/* The main session's client id: <client_id>-<name> (it publishes alerts
 * and subscribes to nothing; <client_id>-p<k> are the partitions'). */
const char *gw_cluster_main_client_id(const struct gw_cluster *cl);
/* Running phase: connect the claim connection, poll, claim. */
void gw_cluster_start(struct gw *gw);
/* Whether the vehicle's partition is taken here now (its tick alerts are
 * this gateway's). gw->cl must be set. */
bool gw_cluster_owns_vehicle(const struct gw *gw, const char *vehicle);
/* The statement that opens a batch transaction: "BEGIN", with the fence
 * when partitions are held (valid until the next call into gw_cluster). */
const char *gw_cluster_begin_sql(const struct gw *gw);
/* A batch transaction failed with msg: true when it was the fence (the
 * caller writes the batch again later; the partitions are checked). */
bool gw_cluster_fence_failed(struct gw *gw, const char *msg);
/* "{k,...}" of the partitions held, and P (the outbox's replay filter). */
const char *gw_cluster_held_list(const struct gw *gw);
int gw_cluster_partitions(const struct gw *gw);
/* SIGTERM: stop taking from every partition (their locks go when the
 * process ends, after the drain wrote the spool); the end of the drain:
 * disconnect their sessions. No-ops for one gateway. */
void gw_cluster_drain(struct gw *gw);
void gw_cluster_stop(struct gw *gw);
/* A transaction committed (the spool is written further): the
 * partitions' sessions release the PUBACKs of the bursts now committed.
 * A no-op for one gateway. */
void gw_cluster_committed(struct gw *gw);
/* At start, before the spool is read (partitioned only): what a previous
 * partitioned run left uncommitted in the spool and the inbox journal is
 * dropped, since its sessions acknowledged nothing uncommitted and the
 * broker sends it again to the partitions' owners. Records an earlier
 * single-gateway run left are kept and written. */
void gw_cluster_spool_open(struct gw *gw);
/* The replay phase is over: mark the spool as a partitioned run's. */
void gw_cluster_spool_marked(struct gw *gw);
/* The figures of the hazgate_cluster_* metrics (gw->cl must be set). */
struct gw_cluster_stats {
	int partitions, members, owned;
	uint64_t claims, releases, takeovers, lost, fenced, parked;
};
void gw_cluster_get_stats(const struct gw *gw, struct gw_cluster_stats *st);

/* ---- metrics (gw_metrics.c) --------------------------------------------- */

/* Prometheus text of the metrics into out. */
void gw_metrics_render(const struct gw *gw, struct gw_buf *out);
/* Healthy: MQTT and PostgreSQL up, or the spool absorbing. why gets the
 * reason (len bytes). */
bool gw_healthy(const struct gw *gw, char *why, size_t len);

#endif
