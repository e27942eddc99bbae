/*
 * jt_server.c - hazgate-jt808's connections and reports: the listener
 * (with max_connections and max_connections_per_address), one bufferevent
 * and one jt_session per terminal, the broker (a report's 0x8001 goes out
 * when the last PUBACK of its fixes comes in), the once-a-second sweep
 * (idle connections, stale subpackages) and the drain on SIGTERM.
 *
 * Memory per connection: the session (its deframer's one-frame buffer),
 * the bufferevent, and buffers only while bytes wait in them. A peer that
 * does not read its replies stops being read once its output passes
 * [jt808] output_max_bytes; a session with max_pending fixes awaiting
 * PUBACK stops being read until they come in (its terminal keeps the
 * rest, TCP holds it); while the broker is away, reports are not
 * published and not answered: the terminals keep them and send them again
 * (the standard's retransmission; jt808/README.md "Broker away").
 */
#include "jt808/jt_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/hz_clock.h"
#include "common/hz_hash.h"
#include "common/hz_log.h"
#include "jt808/jt_db.h"
#include "net/net_mqtt.h"

/* libmosquitto's message ids are 16 bits: the fixes awaiting PUBACK, all
 * sessions together, stay under this so that no id is in use twice. */
#define PENDING_MAX 60000
#define ADDR_SLOTS 4096
#define DRAIN_MAX_S 5

/* A report (0x0200 or 0x0704) waiting for the PUBACKs of its fixes. */
struct jt_report {
	TAILQ_ENTRY(jt_report) link;    /* in its connection's list */
	struct jt_conn *conn;           /* NULL once the connection is gone */
	struct jt_header h;             /* the message answered */
	unsigned issued, acked;
	bool closed;                    /* every fix handed to publish */
	bool failed;                    /* one was refused: not answered */
};
TAILQ_HEAD(jt_report_list, jt_report);

/* Connections from one address. */
struct addr_count {
	struct addr_count *next;
	uint8_t key[16];
	unsigned n;
};

struct jt_conn {
	LIST_ENTRY(jt_conn) link;
	struct jt_server *srv;
	struct bufferevent *bev;
	struct addr_count *addr;
	struct jt_report_list reports;
	int64_t last_rx_us;             /* monotonic */
	bool reading;
	struct jt_session s;
};

struct jt_server {
	struct event_base *base;
	struct jt_config cfg;
	struct evconnlistener *listener;
	LIST_HEAD(, jt_conn) conns;
	unsigned nconns;
	struct addr_count *addrs[ADDR_SLOTS];
	struct jt_report *mids[65536];
	unsigned pending;
	struct net_mqtt *mqtt;
	struct jt_db *db;
	struct event *ev_tick, *ev_drain;
	int64_t drain_deadline_us;
	bool draining;
	bool listener_paused;           /* after an accept error, until the tick */
	struct jt_registry reg;
	struct jt_stats stats;
	struct jt_server_stats sst;
	struct jt_session_env env;
};

/* ---- addresses --------------------------------------------------------- */

static void
addr_key(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

static size_t
addr_slot(const uint8_t key[16])
{
	return hz_fnv1a64(key, 16) & (ADDR_SLOTS - 1);
}

/* The count of key's address, made if absent (NULL out of memory). */
static struct addr_count *
addr_get(struct jt_server *srv, const uint8_t key[16])
{
	size_t k = addr_slot(key);
	struct addr_count *a = srv->addrs[k];

	while (a && memcmp(a->key, key, 16) != 0)
		a = a->next;
	if (a)
		return a;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	memcpy(a->key, key, 16);
	a->next = srv->addrs[k];
	srv->addrs[k] = a;
	return a;
}

static void
addr_put(struct jt_server *srv, struct addr_count *a)
{
	struct addr_count **pp;

	if (!a || --a->n > 0)
		return;
	for (pp = &srv->addrs[addr_slot(a->key)]; *pp; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			free(a);
			return;
		}
}

/* ---- connections ------------------------------------------------------- */

static void conn_process(struct jt_conn *c);

/* Read from c only while it may add work: not draining, fixes below
 * max_pending (and the server's bound), replies read by the peer. */
static void
conn_update_read(struct jt_conn *c)
{
	struct jt_server *srv = c->srv;
	size_t out = evbuffer_get_length(bufferevent_get_output(c->bev));
	bool want = !srv->draining && !c->s.closing &&
		    c->s.pending < (unsigned)srv->cfg.jt808.max_pending &&
		    srv->pending < PENDING_MAX && out <= (size_t)srv->cfg.jt808.output_max_bytes;

	if (want == c->reading)
		return;
	c->reading = want;
	if (want) {
		bufferevent_enable(c->bev, EV_READ);
		/* Bytes already in the input buffer get no new read event. */
		if (evbuffer_get_length(bufferevent_get_input(c->bev)))
			bufferevent_trigger(c->bev, EV_READ,
					    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
	} else {
		bufferevent_disable(c->bev, EV_READ);
	}
}

static void
conn_close(struct jt_conn *c, const char *why)
{
	struct jt_server *srv = c->srv;
	struct jt_report *r;

	hz_log(HZ_LOG_DEBUG, "conn_closed", "phone=%s why=%s", c->s.phone, why);
	/* Reports still waiting for PUBACKs stay (the ids point at them) but
	 * no longer answer anyone. */
	while ((r = TAILQ_FIRST(&c->reports)) != NULL) {
		TAILQ_REMOVE(&c->reports, r, link);
		r->conn = NULL;
		if (r->closed && r->acked == r->issued)
			free(r);
	}
	LIST_REMOVE(c, link);
	srv->nconns--;
	addr_put(srv, c->addr);
	jt_session_free(&c->s);
	bufferevent_free(c->bev);
	free(c);
}

/* Feed c's buffered input to its session, as far as it takes it. */
static void
conn_process(struct jt_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	int64_t now = hz_now_us();

	while (evbuffer_get_length(in) > 0 && c->reading) {
		struct evbuffer_iovec v;
		size_t used;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		used = jt_session_input(&c->s, v.iov_base, v.iov_len, now,
					(unsigned)c->srv->cfg.jt808.max_pending);
		evbuffer_drain(in, used);
		if (c->s.closing) {
			c->srv->sst.closed_garbage++;
			conn_close(c, "garbage");
			return;
		}
		conn_update_read(c);
		if (used < v.iov_len)
			break;
	}
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct jt_conn *c = arg;

	(void)bev;
	c->last_rx_us = hz_mono_us();
	conn_process(c);
}

/* The output drained below the low mark: reading may resume. */
static void
on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_update_read(arg);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct jt_conn *c = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		c->srv->sst.closed_peer++;
		conn_close(c, (what & BEV_EVENT_EOF) ? "eof" : "error");
	}
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
          void *arg)
{
	struct jt_server *srv = arg;
	struct jt_conn *c;
	struct addr_count *a;
	uint8_t key[16];

	(void)l;
	(void)salen;
	if (srv->draining || srv->nconns >= (unsigned)srv->cfg.jt808.max_connections) {
		srv->sst.refused_max++;
		evutil_closesocket(fd);
		return;
	}
	addr_key(sa, key);
	a = addr_get(srv, key);
	if (!a || a->n >= (unsigned)srv->cfg.jt808.max_connections_per_address) {
		srv->sst.refused_per_address++;
		evutil_closesocket(fd);
		return;
	}
	a->n++;
	c = calloc(1, sizeof(*c));
	if (c)
		c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c || !c->bev) {
		evutil_closesocket(fd);
		free(c);
		addr_put(srv, a);
		return;
	}
	c->addr = a;
	c->srv = srv;
	TAILQ_INIT(&c->reports);
	jt_session_init(&c->s, &srv->env, c);
	c->last_rx_us = hz_mono_us();
	LIST_INSERT_HEAD(&srv->conns, c, link);
	srv->nconns++;
	srv->sst.accepted++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, (size_t)srv->cfg.jt808.output_max_bytes / 2, 0);
	c->reading = true;
	bufferevent_enable(c->bev, EV_READ);
}

/* ---- the sessions' callbacks ------------------------------------------- */

static void
op_send(void *owner, const uint8_t *p, size_t n)
{
	struct jt_conn *c = owner;

	bufferevent_write(c->bev, p, n);
}

static void *
op_report_open(void *owner, const struct jt_header *h)
{
	struct jt_conn *c = owner;
	struct jt_report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->conn = c;
	r->h = *h;
	TAILQ_INSERT_TAIL(&c->reports, r, link);
	return r;
}

static bool
op_publish(void *owner, void *rep, const char *vehicle, const char *json, size_t len)
{
	struct jt_conn *c = owner;
	struct jt_server *srv = c->srv;
	struct jt_report *r = rep;
	char topic[NET_MQTT_TOPIC_MAX];
	int mid;

	if (r->failed || !net_mqtt_connected(srv->mqtt) || srv->pending >= PENDING_MAX)
		goto refuse;
	snprintf(topic, sizeof(topic), "tankers/%s/telemetry", vehicle);
	mid = net_mqtt_publish(srv->mqtt, topic, json, len, false);
	if (mid <= 0 || mid > 65535 || srv->mids[mid])
		goto refuse;
	srv->mids[mid] = r;
	r->issued++;
	srv->pending++;
	c->s.pending++;
	return true;
refuse:
	r->failed = true;
	return false;
}

/* Answer r if it is complete, and free it once nothing points at it. */
static void
report_finish(struct jt_server *srv, struct jt_report *r)
{
	(void)srv;
	if (!r->closed || r->acked < r->issued)
		return;
	if (r->conn) {
		if (!r->failed)
			jt_session_reply(&r->conn->s, &r->h, JT_RESULT_OK);
		TAILQ_REMOVE(&r->conn->reports, r, link);
	}
	free(r);
}

static void
op_report_close(void *owner, void *rep)
{
	struct jt_conn *c = owner;
	struct jt_report *r = rep;

	r->closed = true;
	report_finish(c->srv, r);
}

static void
op_reject(void *owner, const char *vehicle, unsigned reason, const uint8_t *p, size_t n)
{
	struct jt_conn *c = owner;

	jt_db_reject(c->srv->db, vehicle, jt_session_reason_name(reason), p, n);
}

static void
op_registered(void *owner, const char *phone, const char *plate,
              const uint8_t hash[JT_AUTH_HASH_BYTES])
{
	struct jt_conn *c = owner;

	hz_log(HZ_LOG_INFO, "terminal_registered", "phone=%s plate=\"%s\"", phone, plate);
	jt_db_registered(c->srv->db, phone, plate, hash);
}

static const struct jt_session_ops session_ops = {
	.send = op_send,
	.report_open = op_report_open,
	.publish = op_publish,
	.report_close = op_report_close,
	.reject = op_reject,
	.registered = op_registered,
};

/* ---- the broker --------------------------------------------------------- */

static void
on_published(void *arg, int mid)
{
	struct jt_server *srv = arg;
	struct jt_report *r;
	struct jt_conn *c;

	if (mid <= 0 || mid > 65535 || !(r = srv->mids[mid]))
		return;         /* not a fix (the status message) */
	srv->mids[mid] = NULL;
	srv->pending--;
	srv->sst.publishes_acked++;
	r->acked++;
	c = r->conn;
	if (c)
		c->s.pending--;
	report_finish(srv, r);
	if (c)
		conn_update_read(c);
}

static void
on_mqtt_state(void *arg, bool up)
{
	struct jt_server *srv = arg;

	if (up)
		srv->sst.mqtt_connects++;
}

static void
on_message(void *arg, const char *topic, const void *payload, size_t len)
{
	(void)arg;
	(void)topic;
	(void)payload;
	(void)len;
}

/* ---- timers ------------------------------------------------------------- */

/* Once a second: idle connections closed, stale subpackages dropped,
 * reading resumed where the server-wide bound held it. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct jt_server *srv = arg;
	int64_t mono = hz_mono_us(), now = hz_now_us();
	int64_t idle_us = (int64_t)srv->cfg.jt808.idle_s * 1000000;
	struct jt_conn *c, *next;

	(void)fd;
	(void)what;
	if (srv->listener_paused && !srv->draining) {
		srv->listener_paused = false;
		evconnlistener_enable(srv->listener);
	}
	for (c = LIST_FIRST(&srv->conns); c; c = next) {
		next = LIST_NEXT(c, link);
		if (mono - c->last_rx_us > idle_us && c->s.pending == 0) {
			srv->sst.closed_idle++;
			conn_close(c, "idle");
			continue;
		}
		jt_session_expire(&c->s, now);
		if (!c->reading)
			conn_update_read(c);
	}
}

static void
on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct jt_server *srv = arg;

	struct jt_conn *c;
	bool flushed = true;

	(void)fd;
	(void)what;
	/* The last replies (sent at the last PUBACKs) written out too. */
	LIST_FOREACH(c, &srv->conns, link)
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
			flushed = false;
	if ((srv->pending > 0 || !flushed) && hz_mono_us() < srv->drain_deadline_us)
		return;
	hz_log(HZ_LOG_INFO, "drained", "unacknowledged=%u flushed=%d", srv->pending, flushed);
	event_del(srv->ev_drain);
	net_mqtt_disconnect(srv->mqtt);
	event_base_loopexit(srv->base, NULL);
}

/* ---- life cycle --------------------------------------------------------- */

struct jt_server *
jt_server_new(struct event_base *base, const struct jt_config *cfg)
{
	struct jt_server *srv = calloc(1, sizeof(*srv));
	struct net_mqtt_conf mc;
	struct net_mqtt_cbs cbs = { .on_message = on_message, .on_state = on_mqtt_state,
				    .on_published = on_published };

	if (!srv)
		return NULL;
	srv->base = base;
	srv->cfg = *cfg;
	LIST_INIT(&srv->conns);
	if (!jt_registry_init(&srv->reg))
		goto err;
	srv->env = (struct jt_session_env){
		.register_unknown = cfg->jt808.unknown_terminals == JT_UNKNOWN_REGISTER,
		.auth_optional = cfg->jt808.auth == JT_AUTH_OPTIONAL,
		.reasm_timeout_us = (int64_t)cfg->jt808.reassembly_timeout_s * 1000000,
		.garbage_max = (size_t)cfg->jt808.garbage_max_bytes,
		.reasm_max = 4096,
		.reg = &srv->reg,
		.stats = &srv->stats,
		.ops = &session_ops,
	};
	mc = (struct net_mqtt_conf)NET_MQTT_CONF_FROM(srv->cfg.mqtt);
	cbs.arg = srv;
	srv->mqtt = net_mqtt_new(base, &mc, &cbs);
	srv->db = jt_db_new(base, &srv->cfg, &srv->reg, &srv->env.ready, &srv->sst);
	srv->ev_tick = event_new(base, -1, EV_PERSIST, on_tick, srv);
	srv->ev_drain = event_new(base, -1, EV_PERSIST, on_drain, srv);
	if (!srv->mqtt || !srv->db || !srv->ev_tick || !srv->ev_drain)
		goto err;
	return srv;
err:
	jt_server_free(srv);
	return NULL;
}

/* EMFILE and the like: accepting again at once would fail again in a
 * busy loop; the listener rests until the next tick. */
static void
on_listen_error(struct evconnlistener *l, void *arg)
{
	struct jt_server *srv = arg;

	hz_log(HZ_LOG_WARN, "accept_failed", "why=\"%s\" action=pause_1s", strerror(errno));
	evconnlistener_disable(l);
	srv->listener_paused = true;
}

bool
jt_server_start(struct jt_server *srv)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	struct timeval one = { 1, 0 };

	if (evutil_parse_sockaddr_port(srv->cfg.jt808.listen, (struct sockaddr *)&ss,
				       &sslen) != 0) {
		hz_log(HZ_LOG_ERROR, "listen_failed", "listen=%s why=\"not ADDRESS:PORT\"",
		       srv->cfg.jt808.listen);
		return false;
	}
	srv->listener = evconnlistener_new_bind(srv->base, on_accept, srv,
						LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
						(struct sockaddr *)&ss, sslen);
	if (!srv->listener) {
		hz_log(HZ_LOG_ERROR, "listen_failed", "listen=%s why=\"%s\"",
		       srv->cfg.jt808.listen, strerror(errno));
		return false;
	}
	evconnlistener_set_error_cb(srv->listener, on_listen_error);
	hz_log(HZ_LOG_INFO, "listening", "listen=%s auth=%s unknown_terminals=%s",
	       srv->cfg.jt808.listen, srv->env.auth_optional ? "optional" : "required",
	       srv->env.register_unknown ? "register" : "refuse");
	event_add(srv->ev_tick, &one);
	net_mqtt_start(srv->mqtt);
	jt_db_start(srv->db);
	return true;
}

void
jt_server_drain(struct jt_server *srv)
{
	struct timeval tick = { 0, 50000 };
	struct jt_conn *c;

	if (srv->draining)
		return;
	srv->draining = true;
	if (srv->listener)
		evconnlistener_disable(srv->listener);
	LIST_FOREACH(c, &srv->conns, link)
		conn_update_read(c);
	srv->drain_deadline_us = hz_mono_us() + DRAIN_MAX_S * 1000000;
	event_add(srv->ev_drain, &tick);
}

void
jt_server_free(struct jt_server *srv)
{
	if (!srv)
		return;
	while (!LIST_EMPTY(&srv->conns))
		conn_close(LIST_FIRST(&srv->conns), "exit");
	for (size_t i = 0; i < 65536; i++)
		if (srv->mids[i]) {
			struct jt_report *r = srv->mids[i];

			srv->mids[i] = NULL;
			if (++r->acked == r->issued)
				free(r);        /* detached: no reply */
		}
	if (srv->listener)
		evconnlistener_free(srv->listener);
	jt_db_free(srv->db);
	net_mqtt_free(srv->mqtt);
	if (srv->ev_tick)
		event_free(srv->ev_tick);
	if (srv->ev_drain)
		event_free(srv->ev_drain);
	for (size_t i = 0; i < ADDR_SLOTS; i++)
		while (srv->addrs[i]) {
			struct addr_count *next = srv->addrs[i]->next;

			free(srv->addrs[i]);
			srv->addrs[i] = next;
		}
	jt_registry_free(&srv->reg);
	free(srv);
}

const struct jt_stats *
jt_server_session_stats(const struct jt_server *srv)
{
	return &srv->stats;
}

const struct jt_server_stats *
jt_server_stats(const struct jt_server *srv)
{
	return &srv->sst;
}

const struct jt_registry *
jt_server_registry(const struct jt_server *srv)
{
	return &srv->reg;
}

void
jt_server_view(const struct jt_server *srv, struct jt_server_view *v)
{
	const struct jt_conn *c;

	memset(v, 0, sizeof(*v));
	v->connections = srv->nconns;
	LIST_FOREACH(c, &srv->conns, link)
		if (jt_session_authenticated(&c->s))
			v->authenticated++;
	v->pending = srv->pending;
	v->mqtt_up = net_mqtt_connected(srv->mqtt);
	v->pg_up = jt_db_ready(srv->db);
	v->registry_loaded = jt_db_loaded(srv->db);
}
