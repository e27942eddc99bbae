/*
 * gw_cluster.c - partitioned gateways ([cluster] partitions = P > 0; issue
 * 16, DESIGN.md "More than one machine", gateway/README.md "Partitioned
 * gateways").
 *
 * The broker maps tankers/<vehicle>/telemetry to hz/part/<k>/tankers/...
 * (k = FNV-1a of the vehicle mod P, gw_part.c). Each gateway claims a share
 * of the P partitions with PostgreSQL session advisory locks held on a
 * connection of its own (the claim connection, a second net_pg): a shared
 * "member" lock says it is alive, partition k's lock that it owns k; both
 * go with the connection, so a gateway that dies or loses its database
 * loses them at once, and pg_locks shows every gateway who is alive and who
 * holds what. A poll every takeover_s / 5 reads that, and plans one step
 * (gw_part_plan): give up one partition when it holds more than
 * ceil(P / live gateways), else claim free ones up to that share. A free
 * partition is claimed only once it has been free for 2/5 of takeover_s
 * (the gateway that held it before a database failover takes it back
 * first, at once), so an orphan is claimed within 4/5 of takeover_s; its
 * session starts handoff_wait_ms after it was seen free (the broker's
 * redelivery time: what it had sent the last session and not had
 * acknowledged comes first, in order).
 *
 * A partition's life here:
 *   FREE -> LOCKED: its lock won (and the cluster_partitions row written);
 *     the current batch is sealed with every unsaved vehicle_state, and the
 *     spool written up to there (the barrier), so that what this gateway
 *     held of it before is in PostgreSQL;
 *   -> LOADING: its vehicles' vehicle_state read (hazgate_vehicle_resume
 *     with the partition) into the engine;
 *   -> RUN: its own persistent MQTT session, client id <client_id>-p<k>,
 *     clean session off, QoS 1 on hz/part/<k>/<each [mqtt] subscribe
 *     filter>; the broker replays its backlog in order. The alert outbox
 *     replays the partition's alerts (gw_outbox.c).
 *   -> DRAINING (given up): still read while the batches so far are
 *     written (barrier); -> PAUSED: reading stopped, the batch sealed with
 *     every unsaved state, written (barrier); -> WAIT: the session
 *     disconnected cleanly (the broker keeps what it had not delivered or
 *     had not had acknowledged, for the next owner);
 *   -> UNLOCKING: handoff_wait_ms later, released_at written, unlocked.
 * The rest of the core is called back through struct gw_cluster_cbs only
 * (gw_core.c fills it: message in, seal, state rows, the outbox's replay),
 * so calls between the files stay one way.
 *
 * A lock found lost (poll, or the batch transaction's fence) stops the
 * partition at once: its session is disconnected, nothing more of it is
 * taken.
 *
 * The fence: every batch transaction begins with
 * hazgate_cluster_fence(claim pid, partitions held) (schema/015), which
 * fails when the claim connection no longer holds one of them: nothing is
 * committed as their owner, the partitions are checked and stopped, and the
 * batch is written again (gw_writer.c asks gw_cluster_fence_failed).
 *
 * Acknowledged after COMMIT: a partition's session holds after each read
 * burst (net_mqtt_conf.hold_acks): its PUBACKs wait until the spool is
 * committed up to the seal that took the burst (acks_step, after every
 * commit), so the broker keeps whatever this gateway has not committed,
 * for the next owner if it dies. Hence a partitioned gateway drops at
 * start what a partitioned run left in its spool and inbox journal
 * (gw_cluster_spool_open).
 */
#include "gateway/gateway-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/hz_clock.h"
#include "common/hz_log.h"
#include "gateway/gw_inbox.h"
#include "gateway/gw_part.h"
#include "net/net_mqtt.h"
#include "net/net_pg.h"
#include "common/hz_queue.h"

/* Advisory lock keys (two int4 keys: pg_locks classid, objid, objsubid 2). */
#define CL_KEY_PART "1752854577"    /* 'hzp1', k */
#define CL_KEY_MEMBER "1752853809"  /* 'hzm1', 0, shared */
/* How often a transition's barrier is checked. */
#define CL_STEP_MS 20
/* A claim list "{k,...}" at most. */
#define CL_LIST_MAX (GW_PART_MAX * 6 + 4)

enum cl_state { CL_FREE, CL_LOCKED, CL_LOADING, CL_RUN, CL_DRAINING, CL_PAUSED, CL_WAIT,
		CL_UNLOCKING };

struct cl_part {
	struct gw_cluster *cl;
	int k;
	enum cl_state st;
	struct net_mqtt *mq;
	char client_id[NET_MQTT_STR_MAX + 16];
	char subs[GW_SUB_MAX][GW_TOPIC_MAX];
	uint64_t barrier;         /* spool id to reach; 0 = not set yet */
	bool barrier_set;
	bool prior;               /* held before the claim connection dropped */
	bool planned;             /* in the poll's claim list */
	int64_t free_since_ms;    /* seen free since (monotonic), 0 = not free */
	int64_t since_ms;         /* entered its current state */
	int64_t start_ms;         /* its session starts then (handoff_wait_ms) */
	int64_t release_ms;       /* when giving it up began */
	/* Acknowledged after COMMIT: the session holds a read burst's
	 * PUBACKs (ack_due) until the spool is written up to ack_barrier
	 * (set at the first seal after the burst: ack_set). */
	bool ack_due, ack_set;
	uint64_t ack_barrier;
	int64_t held_ms;          /* the burst held since (monotonic) */
	bool parked;              /* disconnected: held past hold_ms */
};

struct gw_cluster {
	struct gw *gw;
	struct gw_cluster_cbs cbs;
	int P;
	int poll_ms, grace_ms, handoff_ms;
	int hold_ms;              /* a session held longer is parked; 0 = never */
	char name[GW_STR_MAX];
	char main_id[NET_MQTT_STR_MAX + GW_STR_MAX + 2];
	struct net_pg *pg;
	struct net_pg_job job;
	bool busy, poll_due, started, draining, mark_done;
	int pid, members;
	struct cl_part *parts;
	enum gw_part_owner *owner;
	bool *claimable, *prior;
	int *plan;
	struct event *ev_poll, *ev_step;
	struct event *ev_ack;     /* sessions hold bursts: seal, release what is written */
	/* the job's parameters */
	char list[CL_LIST_MAX], p_s[16], k_s[16];
	const char *params[3];
	int unlock_k;
	/* the fence: "BEGIN; SELECT hazgate_cluster_fence(pid, '{...}')" */
	char begin[CL_LIST_MAX + 96];
	char held[CL_LIST_MAX];     /* "{k,...}" of the partitions locked */
	uint64_t claims, releases, takeovers, lost, fenced, parked;
};

static void cl_kick(struct gw_cluster *cl);
static bool barrier_reached(struct cl_part *p);

static int64_t
now_ms(void)
{
	return hz_mono_us() / 1000;
}

static bool
holds(const struct cl_part *p)
{
	return p->st != CL_FREE;
}

/* A list "{k,...}" of the partitions for which pick(cl, k) is true, into
 * out (CL_LIST_MAX bytes: room for every partition). Returns how many. */
static int
part_list(struct gw_cluster *cl, bool (*pick)(struct cl_part *p), char *out)
{
	size_t n = 0;
	int count = 0;

	out[n++] = '{';
	for (int k = 0; k < cl->P; k++)
		if (pick(&cl->parts[k]))
			n += (size_t)snprintf(out + n, CL_LIST_MAX - n, "%s%d", count++ ? "," : "", k);
	snprintf(out + n, CL_LIST_MAX - n, "}");
	return count;
}

static bool
pick_held(struct cl_part *p)
{
	return holds(p) && p->st != CL_UNLOCKING;
}

static bool
pick_planned(struct cl_part *p)
{
	return p->planned;
}

/* Claimed, and what this gateway held of them before is written: loaded
 * next (marked so). */
static bool
pick_loadable(struct cl_part *p)
{
	if (p->st != CL_LOCKED || !barrier_reached(p))
		return false;
	p->st = CL_LOADING;
	return true;
}

/* The fence's statement and the outbox's list, after the set held changed. */
static void
rebuild_held(struct gw_cluster *cl)
{
	int count = part_list(cl, pick_held, cl->held);

	if (count == 0 || cl->pid == 0)
		snprintf(cl->begin, sizeof(cl->begin), "BEGIN");
	else
		snprintf(cl->begin, sizeof(cl->begin),
			 "BEGIN; SELECT hazgate_cluster_fence(%d, '%s')", cl->pid, cl->held);
}

/* ---- the partition's MQTT session ------------------------------------------ */

static void
p_message(void *arg, const char *topic, const void *payload, size_t len)
{
	struct cl_part *p = arg;
	const char *rest;
	int k;

	/* The decide step sees the topic as the tracker published it. */
	if (gw_part_topic(topic, p->cl->P, &k, &rest) && k == p->k)
		topic = rest;
	p->cl->cbs.message(p->cl->gw, topic, payload, len);
}

static void
p_state(void *arg, bool connected)
{
	struct cl_part *p = arg;
	struct gw *gw = p->cl->gw;

	if (connected) {
		hz_log(HZ_LOG_INFO, "partition_connected", "partition=%d client_id=%s", p->k,
		       p->client_id);
		if (gw->engine)
			gf_engine_silence_restart(gw->engine, hz_now_us());
		return;
	}
	/* Taken over by another connection with this client id (the broker
	 * lets one in at a time), or a lost link: is it still ours? */
	p->cl->poll_due = true;
	cl_kick(p->cl);
}

/* The session holds a burst's PUBACKs: the bursts of this turn of the
 * loop are sealed together (ev_ack), then released once written. */
static void
p_held(void *arg)
{
	struct cl_part *p = arg;

	p->ack_due = true;
	p->ack_set = false;
	p->held_ms = now_ms();
	event_active(p->cl->ev_ack, EV_TIMEOUT, 0);
}

/* Held bursts: seal what is not yet in the spool (a barrier is set only
 * right after a seal that took them), and let the PUBACKs of what is
 * committed go (the spool written up to its barrier). */
static void
acks_step(struct gw_cluster *cl)
{
	struct gw *gw = cl->gw;
	struct hz_queue_stats st;
	bool unset = false;

	for (int k = 0; k < cl->P; k++)
		unset |= cl->parts[k].ack_due && !cl->parts[k].ack_set;
	if (unset)
		cl->cbs.seal(gw);
	hz_queue_get_stats(gw->spool, &st);
	for (int k = 0; k < cl->P; k++) {
		struct cl_part *p = &cl->parts[k];

		if (!p->ack_due)
			continue;
		if (!p->ack_set) {
			if (gw->held || gw->seal_more)
				continue;   /* the spool had no room: after the next commit */
			p->ack_barrier = st.next_id;
			p->ack_set = true;
		}
		if (st.next_id - st.pending < p->ack_barrier)
			continue;
		p->ack_due = false;
		if (p->mq)
			net_mqtt_release(p->mq);
	}
}

static void
on_ack(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	acks_step(arg);
}

/* The session closed (a held burst's ack_due stays: see session_park). */
static void
session_close(struct cl_part *p)
{
	if (!p->mq)
		return;
	/* Held PUBACKs of what is committed go out before the disconnect;
	 * those of what is not are never sent (the broker keeps them). */
	acks_step(p->cl);
	net_mqtt_disconnect(p->mq);
	net_mqtt_free(p->mq);
	p->mq = NULL;
}

static void
session_stop(struct cl_part *p)
{
	session_close(p);
	p->ack_due = false;
	p->parked = false;
}

/*
 * A session held past hold_ms (its burst not committed: the database is
 * away or blocked) is disconnected before the broker's ack_wait. NATS 2.9
 * sends a connected session's unacknowledged messages again every
 * ack_wait, refreshing their delivery times, and later sends them again in
 * the order of those times, wave by wave (consumer.go checkPending sorts
 * each wave only): after two rounds the waves are out of order, and a
 * next session, here or on another gateway, gets a vehicle's fixes out of
 * order (seq gaps; the late fixes decide nothing). A disconnected session's
 * messages are sent again once each, in the order of their one delivery:
 * in order. It starts again handoff_wait_ms after the disconnect (they
 * are due for redelivery then, before newer ones), once what it had read
 * is committed and the writer's connection is up.
 */
static void
session_park(struct cl_part *p)
{
	struct gw_cluster *cl = p->cl;

	hz_log(HZ_LOG_WARN, "partition_parked", "partition=%d held_ms=%" PRId64 " hold_ms=%d"
	       " action=\"disconnected before the broker's ack_wait; again in %d ms, once"
	       " committed\"", p->k, now_ms() - p->held_ms, cl->hold_ms, cl->handoff_ms);
	session_close(p);
	cl->parked++;
	p->parked = true;
	p->start_ms = now_ms() + cl->handoff_ms;
}

static void
session_start(struct cl_part *p)
{
	struct gw *gw = p->cl->gw;
	struct net_mqtt_conf c = NET_MQTT_CONF_FROM(gw->cfg.mqtt);
	struct net_mqtt_cbs cbs = { .on_message = p_message, .on_state = p_state,
				    .on_held = p_held, .arg = p };

	c.client_id = p->client_id;
	/* Acknowledged only once committed: a gateway that dies leaves the
	 * broker everything it had not committed, for the next owner. */
	c.hold_acks = true;
	c.nsubs = gw->cfg.mqtt.nsubs;
	for (size_t i = 0; i < c.nsubs && i < NET_MQTT_SUB_MAX; i++) {
		snprintf(p->subs[i], sizeof(p->subs[i]), "hz/part/%d/%s", p->k,
			 gw->cfg.mqtt.subs[i].filter);
		c.subs[i] = p->subs[i];
	}
	p->mq = net_mqtt_new(gw->base, &c, &cbs);
	if (!p->mq)
		return;
	if (gw->draining)
		net_mqtt_pause(p->mq, true);
	net_mqtt_start(p->mq);
}

static void
set_state(struct cl_part *p, enum cl_state st)
{
	p->st = st;
	p->since_ms = now_ms();
	p->barrier_set = false;
	rebuild_held(p->cl);
}

/* A lock found lost: nothing more of the partition is taken. */
static void
part_lost(struct cl_part *p, const char *why)
{
	struct gw_cluster *cl = p->cl;

	session_stop(p);
	if (p->st != CL_UNLOCKING) {
		cl->lost++;
		hz_log(HZ_LOG_WARN, "partition_lost", "partition=%d state=%d why=\"%s\"", p->k,
		       (int)p->st, why);
	}
	set_state(p, CL_FREE);
}

/* ---- jobs on the claim connection ------------------------------------------ */

static const char sql_poll[] =
	"SELECT pg_backend_pid(),"
	" (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = "
	CL_KEY_MEMBER "::oid AND objid = 0::oid AND objsubid = 2 AND granted AND database = d.oid),"
	" coalesce((SELECT string_agg(objid::text || ':' || pid::text, ',') FROM pg_locks"
	"  WHERE locktype = 'advisory' AND classid = " CL_KEY_PART "::oid AND objsubid = 2"
	"  AND granted AND database = d.oid), '')"
	" FROM pg_database d WHERE d.datname = current_database()";
/* $1 the partitions to try, $2 the name: those won, whether each is a
 * takeover (its last owner, another gateway, never released it), and that
 * owner. */
static const char sql_claim[] =
	"WITH w AS MATERIALIZED (SELECT k FROM unnest($1::int[]) k"
	"  WHERE pg_try_advisory_lock(" CL_KEY_PART ", k)),"
	" old AS MATERIALIZED (SELECT partition, owner, released_at FROM cluster_partitions"
	"  WHERE partition IN (SELECT k FROM w)),"
	" up AS (INSERT INTO cluster_partitions (partition, owner, claimed_at)"
	"  SELECT k, $2, now() FROM w ON CONFLICT (partition) DO UPDATE SET owner = EXCLUDED.owner,"
	"  claimed_at = EXCLUDED.claimed_at, released_at = NULL)"
	" SELECT w.k, old.owner IS NOT NULL AND old.released_at IS NULL AND old.owner <> $2,"
	"  coalesce(old.owner, '') FROM w LEFT JOIN old ON old.partition = w.k ORDER BY w.k";
static const char sql_mark[] =
	"UPDATE cluster_partitions SET released_at = now() WHERE partition = $1::int AND owner = $2";
static const char sql_unlock[] = "SELECT pg_advisory_unlock(" CL_KEY_PART ", $1::int)";
static const char sql_mark_all[] =
	"UPDATE cluster_partitions SET released_at = now() WHERE owner = $1 AND released_at IS NULL";
static const char sql_states[] =
	"SELECT vehicle, last_us, lat, lon, state, last_seq"
	" FROM hazgate_vehicle_resume($1::int[], $2::int)";

static void
submit(struct gw_cluster *cl, void (*done)(void *, int, const char *))
{
	cl->job.arg = cl;
	cl->job.done = done;
	cl->busy = true;
	net_pg_submit(cl->pg, &cl->job);
}

static void
poll_result(void *arg, const PGresult *res)
{
	struct gw_cluster *cl = arg;
	const char *s;
	int64_t t = now_ms();

	if (PQntuples(res) != 1)
		return;
	cl->pid = atoi(PQgetvalue(res, 0, 0));
	cl->members = atoi(PQgetvalue(res, 0, 1));
	if (cl->members < 1)
		cl->members = 1;
	for (int k = 0; k < cl->P; k++)
		cl->owner[k] = GW_PART_FREE;
	/* "k:pid,k:pid,..." */
	for (s = PQgetvalue(res, 0, 2); *s;) {
		char *end;
		long k = strtol(s, &end, 10), pid = -1;

		if (*end == ':')
			pid = strtol(end + 1, &end, 10);
		if (k >= 0 && k < cl->P && pid >= 0)
			cl->owner[k] = pid == cl->pid ? GW_PART_MINE : GW_PART_OTHER;
		if (*end != ',')
			break;
		s = end + 1;
	}
	for (int k = 0; k < cl->P; k++) {
		struct cl_part *p = &cl->parts[k];

		if (holds(p) && p->st != CL_UNLOCKING && cl->owner[k] != GW_PART_MINE)
			part_lost(p, "its lock is gone");
		else if (p->st == CL_FREE && cl->owner[k] == GW_PART_MINE && !cl->draining) {
			/* A lock this connection holds without knowing (a claim whose
			 * answer was lost): it is ours, taken like any claim. */
			cl->claims++;
			hz_log(HZ_LOG_INFO, "partition_claimed", "partition=%d takeover=0 found=1", k);
			p->start_ms = t + cl->handoff_ms;
			set_state(p, CL_LOCKED);
		}
		if (cl->owner[k] == GW_PART_FREE) {
			if (!p->free_since_ms)
				p->free_since_ms = t;
		} else {
			p->free_since_ms = 0;
		}
		if (cl->owner[k] == GW_PART_OTHER)
			p->prior = false;   /* someone else has it now */
		cl->claimable[k] = cl->owner[k] == GW_PART_FREE &&
				   (p->prior || t - p->free_since_ms >= cl->grace_ms);
		cl->prior[k] = p->prior;
	}
	rebuild_held(cl);
}

static void claim_done(void *arg, int err, const char *msg);
static void claim_result(void *arg, const PGresult *res);

static void
poll_done(void *arg, int err, const char *msg)
{
	struct gw_cluster *cl = arg;
	int n, release;
	bool moving = false;

	cl->busy = false;
	if (err != NET_PG_OK) {
		if (err != NET_PG_ELINK)
			hz_log(HZ_LOG_ERROR, "cluster_poll_failed", "why=\"%s\"", msg);
		return;
	}
	if (cl->draining)
		return;
	for (int k = 0; k < cl->P; k++) {
		enum cl_state st = cl->parts[k].st;

		if (st != CL_FREE && st != CL_RUN)
			moving = true;
		cl->owner[k] = holds(&cl->parts[k]) ? GW_PART_MINE :
			       cl->owner[k] == GW_PART_MINE ? GW_PART_FREE : cl->owner[k];
	}
	if (moving)
		return;   /* one step at a time */
	{
		struct gw_part_view v = { .partitions = cl->P, .members = cl->members,
					  .owner = cl->owner, .claimable = cl->claimable,
					  .offset = gw_part_hash(cl->name, strlen(cl->name)) %
						    (unsigned)cl->P };

		n = gw_part_plan(&v, cl->prior, cl->plan, cl->P, &release);
	}
	if (release >= 0) {
		struct cl_part *p = &cl->parts[release];

		hz_log(HZ_LOG_INFO, "partition_releasing", "partition=%d members=%d quota=%d",
		       release, cl->members, gw_part_quota(cl->P, cl->members));
		/* Still read: what the broker has sent is taken, while the
		 * batches written so far go to the database (the barrier). */
		cl->cbs.seal_all(cl->gw);
		set_state(p, CL_DRAINING);
		p->release_ms = p->since_ms;
		return;
	}
	if (n == 0)
		return;
	for (int k = 0; k < cl->P; k++)
		cl->parts[k].planned = false;
	for (int i = 0; i < n; i++)
		cl->parts[cl->plan[i]].planned = true;
	(void)part_list(cl, pick_planned, cl->list);
	cl->params[0] = cl->list;
	cl->params[1] = cl->name;
	memset(&cl->job, 0, sizeof(cl->job));
	cl->job.steps[0] = (struct net_pg_step){ .sql = sql_claim, .nparams = 2,
						.params = cl->params, .on_result = claim_result };
	cl->job.nsteps = 1;
	submit(cl, claim_done);
}

static void
claim_result(void *arg, const PGresult *res)
{
	struct gw_cluster *cl = arg;
	int64_t t = now_ms();

	for (int i = 0; i < PQntuples(res); i++) {
		int k = atoi(PQgetvalue(res, i, 0));
		bool takeover = PQgetvalue(res, i, 1)[0] == 't';
		struct cl_part *p;

		if (k < 0 || k >= cl->P)
			continue;
		p = &cl->parts[k];
		cl->claims++;
		if (takeover)
			cl->takeovers++;
		hz_log(HZ_LOG_INFO, "partition_claimed", "partition=%d takeover=%d previous=\"%s\""
		       " free_ms=%" PRId64 " members=%d", k, takeover ? 1 : 0,
		       PQgetvalue(res, i, 2), p->free_since_ms ? t - p->free_since_ms : 0,
		       cl->members);
		/* Its last session stopped before it was seen free. */
		p->start_ms = (p->free_since_ms ? p->free_since_ms : t) + cl->handoff_ms;
		p->free_since_ms = 0;
		p->prior = false;
		set_state(p, CL_LOCKED);
	}
	if (PQntuples(res) > 0)
		cl->cbs.seal_all(cl->gw);   /* what it holds of them goes to the database first */
}

static void
claim_done(void *arg, int err, const char *msg)
{
	struct gw_cluster *cl = arg;

	cl->busy = false;
	if (err != NET_PG_OK && err != NET_PG_ELINK)
		hz_log(HZ_LOG_ERROR, "partition_claim_failed", "partitions=%s why=\"%s\"", cl->list,
		       msg);
	cl_kick(cl);
}

/* arg: the gw (cbs.states's, the same job's). */
static void
states_done(void *arg, int err, const char *msg)
{
	struct gw_cluster *cl = ((struct gw *)arg)->cl;

	cl->busy = false;
	for (int k = 0; k < cl->P; k++) {
		struct cl_part *p = &cl->parts[k];

		if (p->st != CL_LOADING)
			continue;
		if (err != NET_PG_OK) {
			if (err != NET_PG_ELINK)
				hz_log(HZ_LOG_ERROR, "partition_load_failed", "partition=%d why=\"%s\"",
				       k, msg);
			set_state(p, CL_LOCKED);   /* loaded again at the next step */
			continue;
		}
		set_state(p, CL_RUN);   /* its session starts at start_ms (cl_kick) */
	}
	cl->cbs.held_changed(cl->gw);
	cl_kick(cl);
}

static void
unlock_done(void *arg, int err, const char *msg)
{
	struct gw_cluster *cl = arg;
	struct cl_part *p = &cl->parts[cl->unlock_k];

	cl->busy = false;
	if (p->st == CL_UNLOCKING) {
		if (err == NET_PG_OK) {
			cl->releases++;
			hz_log(HZ_LOG_INFO, "partition_released", "partition=%d ms=%" PRId64, p->k,
			       now_ms() - p->release_ms);
		} else if (err != NET_PG_ELINK) {
			hz_log(HZ_LOG_ERROR, "partition_unlock_failed", "partition=%d why=\"%s\"",
			       p->k, msg);
		}
		/* Lost link: the lock went with the connection. */
		set_state(p, CL_FREE);
		cl->cbs.held_changed(cl->gw);
	}
	cl_kick(cl);
}

static void
mark_done(void *arg, int err, const char *msg)
{
	struct gw_cluster *cl = arg;

	(void)err;
	(void)msg;
	cl->busy = false;
	cl->mark_done = true;
}

/* ---- the steps ----------------------------------------------------------------- */

/* Whether the spool holds nothing sealed before this partition's barrier. */
static bool
barrier_reached(struct cl_part *p)
{
	struct gw *gw = p->cl->gw;
	struct hz_queue_stats st;

	if (gw->held || gw->seal_more)
		return false;
	hz_queue_get_stats(gw->spool, &st);
	if (!p->barrier_set) {
		p->barrier = st.next_id;
		p->barrier_set = true;
	}
	return st.next_id - st.pending >= p->barrier;
}

static void
start_poll(struct gw_cluster *cl)
{
	cl->poll_due = false;
	memset(&cl->job, 0, sizeof(cl->job));
	cl->job.steps[0] = (struct net_pg_step){ .sql = sql_poll, .on_result = poll_result };
	cl->job.nsteps = 1;
	submit(cl, poll_done);
}

/* The next job on the claim connection, if any is due and none runs. */
static void
cl_kick(struct gw_cluster *cl)
{
	struct gw *gw = cl->gw;

	if (!cl->draining) {
		/* Sessions due. Partitions given up, a step further: once
		 * what was taken while still reading is written, reading
		 * stops and the batch is sealed again; once that is written,
		 * the session is disconnected (what the broker sent and was
		 * not read stays with it); handoff_wait_ms later, unlocked. */
		for (int k = 0; k < cl->P; k++) {
			struct cl_part *p = &cl->parts[k];

			if (p->mq && p->ack_due && cl->hold_ms > 0 &&
			    now_ms() - p->held_ms > cl->hold_ms)
				session_park(p);
			if (p->parked && p->ack_due)
				acks_step(cl);   /* committed meanwhile? (no PUBACK to send) */
			/* Started (or again, parked) once what it read is
			 * committed and the writer can commit what it reads. */
			if (p->st == CL_RUN && !p->mq && now_ms() >= p->start_ms && !p->ack_due &&
			    net_pg_ready(gw->pg)) {
				if (p->parked)
					hz_log(HZ_LOG_INFO, "partition_unparked", "partition=%d", p->k);
				p->parked = false;
				session_start(p);
				if (!p->mq)   /* not made (logged by net_mqtt): given up again */
					set_state(p, CL_DRAINING);
			}
			if (p->st == CL_DRAINING && barrier_reached(p)) {
				if (p->mq)
					net_mqtt_pause(p->mq, true);
				cl->cbs.seal_all(gw);
				set_state(p, CL_PAUSED);
			}
			if (p->st == CL_PAUSED && barrier_reached(p)) {
				session_stop(p);
				set_state(p, CL_WAIT);
			}
		}
	}
	if (cl->busy || !net_pg_ready(cl->pg))
		return;
	if (cl->draining) {
		if (cl->mark_done)
			return;
		cl->params[0] = cl->name;
		memset(&cl->job, 0, sizeof(cl->job));
		cl->job.steps[0] = (struct net_pg_step){ .sql = sql_mark_all, .nparams = 1,
							.params = cl->params };
		cl->job.nsteps = 1;
		submit(cl, mark_done);
		return;
	}
	for (int k = 0; k < cl->P; k++) {
		struct cl_part *p = &cl->parts[k];

		if (p->st != CL_WAIT || now_ms() - p->since_ms < cl->handoff_ms)
			continue;
		set_state(p, CL_UNLOCKING);
		cl->unlock_k = k;
		snprintf(cl->k_s, sizeof(cl->k_s), "%d", k);
		cl->params[0] = cl->k_s;
		cl->params[1] = cl->name;
		memset(&cl->job, 0, sizeof(cl->job));
		cl->job.steps[0] = (struct net_pg_step){ .sql = sql_mark, .nparams = 2,
							.params = cl->params };
		cl->job.steps[1] = (struct net_pg_step){ .sql = sql_unlock, .nparams = 1,
							.params = cl->params };
		cl->job.nsteps = 2;
		submit(cl, unlock_done);
		return;
	}
	/* Partitions claimed whose earlier batches are written: load their
	 * vehicles' state, all of them in one query. */
	if (gw->engine && gw->phase == GW_PHASE_RUN) {
		if (part_list(cl, pick_loadable, cl->list) > 0) {
			snprintf(cl->p_s, sizeof(cl->p_s), "%d", cl->P);
			cl->params[0] = cl->list;
			cl->params[1] = cl->p_s;
			memset(&cl->job, 0, sizeof(cl->job));
			cl->job.steps[0] = (struct net_pg_step){ .sql = sql_states, .nparams = 2,
								.params = cl->params,
								.on_result = cl->cbs.states };
			cl->job.nsteps = 1;
			/* cbs.states's argument is the gw */
			cl->job.arg = gw;
			cl->job.done = states_done;
			cl->busy = true;
			net_pg_submit(cl->pg, &cl->job);
			return;
		}
	}
	if (cl->poll_due)
		start_poll(cl);
}

static void
on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct gw_cluster *cl = arg;

	(void)fd;
	(void)what;
	cl->poll_due = true;
	cl_kick(cl);
}

static void
on_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	cl_kick(arg);
}

/* The claim connection is up (its setup took the member lock): poll. */
static void
on_claim_ready(void *arg)
{
	struct gw_cluster *cl = arg;

	hz_log(HZ_LOG_INFO, "cluster_connected", "name=%s partitions=%d", cl->name, cl->P);
	cl->busy = false;
	cl->poll_due = true;
	cl_kick(cl);
}

/* The claim connection is gone, and every lock with it: stop taking at
 * once; those held are taken back first when it returns. */
static void
on_claim_down(void *arg)
{
	struct gw_cluster *cl = arg;

	for (int k = 0; k < cl->P; k++) {
		struct cl_part *p = &cl->parts[k];

		if (!holds(p))
			continue;
		p->prior = p->st != CL_UNLOCKING;
		part_lost(p, "claim connection lost");
	}
	cl->pid = 0;
	rebuild_held(cl);
	cl->cbs.held_changed(cl->gw);
}

/* ---- what the rest of the daemon calls ------------------------------------------- */

struct gw_cluster *
gw_cluster_new(struct gw *gw, const struct gw_cluster_cbs *cbs)
{
	const struct gw_config *cfg = &gw->cfg;
	struct gw_cluster *cl = calloc(1, sizeof(*cl));
	struct net_pg_conf pc = { .conninfo = cfg->postgres.conninfo, .app_name = "hazgate-claim",
				  .setup_sql = "SELECT pg_advisory_lock_shared(" CL_KEY_MEMBER ", 0)",
				  .reconnect_max_ms = cfg->postgres.reconnect_max_ms };
	struct net_pg_cbs pcb = { .on_ready = on_claim_ready, .on_down = on_claim_down };

	if (!cl)
		return NULL;
	cl->gw = gw;
	cl->cbs = *cbs;
	cl->P = cfg->cluster.partitions;
	/* An orphan is seen free at most a poll after its lock went, claimable
	 * a grace later, claimed at the next poll: 4/5 of takeover_s at most,
	 * the rest for its state load and its session's connect. */
	cl->poll_ms = cfg->cluster.takeover_s * 1000 / 5;
	cl->grace_ms = cfg->cluster.takeover_s * 2000 / 5;
	cl->handoff_ms = cfg->cluster.handoff_wait_ms;
	/* Under the broker's ack_wait, which handoff_wait_ms exceeds (by less
	 * than itself, see README.md); 0 (mosquitto: nothing is sent again
	 * within a connection): never. */
	cl->hold_ms = cl->handoff_ms / 2;
	if (cfg->cluster.name[0])
		snprintf(cl->name, sizeof(cl->name), "%s", cfg->cluster.name);
	else if (gethostname(cl->name, sizeof(cl->name) - 1) != 0)
		snprintf(cl->name, sizeof(cl->name), "hazgate");
	snprintf(cl->main_id, sizeof(cl->main_id), "%s-%s", cfg->mqtt.client_id, cl->name);
	cl->parts = calloc((size_t)cl->P, sizeof(*cl->parts));
	cl->owner = calloc((size_t)cl->P, sizeof(*cl->owner));
	cl->claimable = calloc((size_t)cl->P, sizeof(*cl->claimable));
	cl->prior = calloc((size_t)cl->P, sizeof(*cl->prior));
	cl->plan = calloc((size_t)cl->P, sizeof(*cl->plan));
	pcb.arg = cl;
	cl->pg = net_pg_new(gw->base, &pc, &pcb);
	cl->ev_poll = event_new(gw->base, -1, EV_PERSIST, on_poll, cl);
	cl->ev_step = event_new(gw->base, -1, EV_PERSIST, on_step, cl);
	cl->ev_ack = event_new(gw->base, -1, 0, on_ack, cl);
	if (!cl->parts || !cl->owner || !cl->claimable || !cl->prior || !cl->plan || !cl->pg ||
	    !cl->ev_poll || !cl->ev_step || !cl->ev_ack) {
		gw_cluster_free(cl);
		return NULL;
	}
	for (int k = 0; k < cl->P; k++) {
		cl->parts[k].cl = cl;
		cl->parts[k].k = k;
		snprintf(cl->parts[k].client_id, sizeof(cl->parts[k].client_id), "%s-p%d",
			 cfg->mqtt.client_id, k);
	}
	rebuild_held(cl);
	return cl;
}

void
gw_cluster_free(struct gw_cluster *cl)
{
	if (!cl)
		return;
	for (int k = 0; cl->parts && k < cl->P; k++)
		if (cl->parts[k].mq)
			net_mqtt_free(cl->parts[k].mq);
	net_pg_free(cl->pg);
	if (cl->ev_poll)
		event_free(cl->ev_poll);
	if (cl->ev_step)
		event_free(cl->ev_step);
	if (cl->ev_ack)
		event_free(cl->ev_ack);
	free(cl->parts);
	free(cl->owner);
	free(cl->claimable);
	free(cl->prior);
	free(cl->plan);
	free(cl);
}

const char *
gw_cluster_main_client_id(const struct gw_cluster *cl)
{
	return cl->main_id;
}

void
gw_cluster_start(struct gw *gw)
{
	struct gw_cluster *cl = gw->cl;
	struct timeval poll = { cl->poll_ms / 1000, (cl->poll_ms % 1000) * 1000 };
	struct timeval step = { 0, CL_STEP_MS * 1000 };

	if (cl->started || gw->draining)
		return;
	cl->started = true;
	hz_log(HZ_LOG_INFO, "cluster_starting", "name=%s partitions=%d takeover_s=%d",
	       cl->name, cl->P, gw->cfg.cluster.takeover_s);
	event_add(cl->ev_poll, &poll);
	event_add(cl->ev_step, &step);
	net_pg_start(cl->pg);
}

bool
gw_cluster_owns_vehicle(const struct gw *gw, const char *vehicle)
{
	return gw->cl->parts[gw_part_of(vehicle, gw->cl->P)].st == CL_RUN;
}

const char *
gw_cluster_begin_sql(const struct gw *gw)
{
	return gw->cl ? gw->cl->begin : "BEGIN";
}

bool
gw_cluster_fence_failed(struct gw *gw, const char *msg)
{
	struct gw_cluster *cl = gw->cl;

	if (!cl || !msg || !strstr(msg, "hazgate_fence"))
		return false;
	cl->fenced++;
	hz_log(HZ_LOG_WARN, "partition_fenced", "why=\"%s\" action=\"check the locks, stop the"
	       " lost partitions, write the batch again\"", msg);
	/* Until the poll says which, the fence holds nothing back: the lost
	 * ones are stopped there, and the batch goes with those still held. */
	cl->poll_due = true;
	cl_kick(cl);
	return true;
}

const char *
gw_cluster_held_list(const struct gw *gw)
{
	return gw->cl->held;
}

int
gw_cluster_partitions(const struct gw *gw)
{
	return gw->cl ? gw->cl->P : 0;
}

void
gw_cluster_drain(struct gw *gw)
{
	struct gw_cluster *cl = gw->cl;

	if (!cl)
		return;
	event_del(cl->ev_poll);
	cl->draining = true;
	for (int k = 0; k < cl->P; k++)
		if (cl->parts[k].mq)
			net_mqtt_pause(cl->parts[k].mq, true);
	cl_kick(cl);   /* released_at: these are given up, not orphaned */
}

void
gw_cluster_stop(struct gw *gw)
{
	struct gw_cluster *cl = gw->cl;

	if (!cl)
		return;
	event_del(cl->ev_poll);
	event_del(cl->ev_step);
	event_del(cl->ev_ack);
	for (int k = 0; k < cl->P; k++)
		session_stop(&cl->parts[k]);
}

/* <spool dir>/partitioned: the spool is a partitioned run's. */
static void
marker_path(const struct gw *gw, char *out, size_t len)
{
	snprintf(out, len, "%s/partitioned", gw->cfg.spool.dir);
}

static void
drop_message(void *arg, const char *topic, const void *payload, size_t len, int64_t recv_us)
{
	(void)topic;
	(void)payload;
	(void)len;
	(void)recv_us;
	(*(size_t *)arg)++;
}

void
gw_cluster_spool_open(struct gw *gw)
{
	char path[GW_PATH_MAX + 16];
	size_t records = 0, messages = 0;
	uint64_t id;
	const void *data;
	size_t len;

	marker_path(gw, path, sizeof(path));
	if (!gw->cl) {
		(void)unlink(path);   /* a single gateway's spool from now on */
		return;
	}
	if (access(path, F_OK) != 0)
		return;   /* a single gateway's records: acknowledged, written */
	while (hz_queue_next(gw->spool, &id, &data, &len) == HZ_QUEUE_OK) {
		hz_queue_ack(gw->spool, id);
		records++;
	}
	if (gw->inbox) {
		(void)gw_inbox_replay(gw->inbox, drop_message, &messages, NULL);
		gw_inbox_trim(gw->inbox, gw_inbox_cut(gw->inbox));
	}
	if (records || messages)
		hz_log(HZ_LOG_INFO, "spool_dropped", "records=%zu inbox_messages=%zu why=\"partitioned:"
		       " acknowledged only once committed, the broker sends them again\"",
		       records, messages);
}

void
gw_cluster_spool_marked(struct gw *gw)
{
	char path[GW_PATH_MAX + 16];
	FILE *f;

	if (!gw->cl)
		return;
	marker_path(gw, path, sizeof(path));
	f = fopen(path, "w");
	if (!f || fclose(f) != 0)
		hz_log(HZ_LOG_WARN, "spool_mark_failed", "path=%s errno=\"%s\" action=\"a restart"
		       " writes this run's spool again (duplicates are dropped)\"", path,
		       strerror(errno));
}

void
gw_cluster_committed(struct gw *gw)
{
	if (gw->cl)
		acks_step(gw->cl);
}

void
gw_cluster_get_stats(const struct gw *gw, struct gw_cluster_stats *st)
{
	const struct gw_cluster *cl = gw->cl;

	*st = (struct gw_cluster_stats){ .partitions = cl->P, .members = cl->members,
					 .claims = cl->claims, .releases = cl->releases,
					 .takeovers = cl->takeovers, .lost = cl->lost,
					 .fenced = cl->fenced, .parked = cl->parked };
	for (int k = 0; k < cl->P; k++)
		st->owned += cl->parts[k].st == CL_RUN && cl->parts[k].mq;
}
