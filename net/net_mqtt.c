/*
 * net_mqtt.c - libmosquitto driven from the daemon's libevent loop.
 *
 * No library thread: the socket's read readiness calls mosquitto_loop_read,
 * write readiness (asked for only while mosquitto_want_write says so) calls
 * mosquitto_loop_write, and a one-second timer calls mosquitto_loop_misc
 * (keepalive). Persistent session: fixed client id, clean session off,
 * QoS 1 subscriptions re-sent on every connect; a retained
 * STATUS_TOPIC/<client_id> says "online", the last will says "offline".
 * Lost links are retried with exponential backoff and jitter (hz_backoff).
 *
 * Read coalescing (conf.coalesce_us, issue 15): at a low rate each
 * message would be a wake-up of its own (epoll, a read burst that finds
 * one packet, a read that finds none), which costs several times the
 * message. After a read event that brought fewer than
 * NET_MQTT_COALESCE_FEW messages, read readiness is dropped and a timer
 * reads again coalesce_us later, taking whatever came meanwhile; when that
 * read finds nothing the link waits for readiness again. At a high rate
 * bursts are large and nothing waits.
 *
 * Pausing (the spool is full) stops reading the socket and the keepalive:
 * the broker keeps the session's messages and may drop the link, which is
 * retried once reading resumes.
 *
 * The broker's host name is resolved first with evdns (net_dns.c) and
 * libmosquitto gets the numeric address, so its getaddrinfo never blocks;
 * reconnects reuse that address.
 *
 * MQTT 5: the session-expiry property (UINT32_MAX: the session outlives
 * any link) can only be given to mosquitto_connect_bind_v5, whose TCP
 * connect blocks. So until that call has once connected, each attempt
 * first makes a non-blocking TCP connect of its own to the same address
 * and port from the loop (the probe, NET_MQTT_PROBE_MS at most); only when
 * the broker has answered it is the probe closed and
 * mosquitto_connect_bind_v5 called. libmosquitto keeps those properties
 * and sends them again with every mosquitto_reconnect_async (since 2.0.0,
 * its issue #1846; configure asks for >= 2.0), so reconnects are
 * asynchronous and the session stays persistent across them
 * (tests/integration/18-gateway-mqtt5.bats checks it).
 * MQTT 3.1.1 has no properties: connect and reconnects are asynchronous.
 *
 * A list of brokers ([mqtt] host = a:1883, b:1883, ...): the adapter is on
 * one at a time; a link lost, refused or not made moves it to the next one
 * (a fresh connect there: resolve, probe over MQTT 5, connect; the same
 * client id, so a broker that shares the session, as a NATS cluster's
 * nodes do through JetStream, resumes it; libmosquitto keeps the
 * unacknowledged publishes and sends them again there). The first turn
 * round the list waits reconnect_min_ms between brokers; the backoff grows
 * only when it comes back to the first.
 *
 * Limits: with TLS the name itself goes to libmosquitto (it checks the
 * broker's certificate against the host it connects to, and has no
 * separate server-name option), so there its blocking getaddrinfo
 * remains (use an IP address, or /etc/hosts); over MQTT 5 the probe goes
 * to the address evdns found for that name. The MQTT 5 connect still
 * blocks in connect(2) once a probe succeeded: normally one round trip to
 * a broker that has just answered (logged as mqtt_connect_slow above
 * NET_MQTT_SLOW_MS), but if the broker stops answering SYNs in the moment
 * between the probe and that connect, as long as the kernel retries a SYN
 * (net.ipv4.tcp_syn_retries, 6 by default: about 127 s).
 */
#include "net/net_mqtt.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/event.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "common/hz_backoff.h"
#include "common/hz_clock.h"
#include "common/hz_log.h"
#include "net/net_dns.h"

/* Packets read per readiness event at most. */
#define NET_MQTT_READ_BURST 256
/* conf.hold_acks: per held burst, all the socket holds up to this many.
 * The broker has pushed up to its max_ack_pending (NATS) messages; read
 * 256 per commit, the last of them waited several commits for their
 * PUBACK, beyond a 1 s ack_wait under load: NATS sent them again to the
 * connected session, and its MQTT layer, whose per-session pending count
 * then held those copies too, silently skipped newer messages (mqtt.go
 * trackPending, sess.maxp) and sent them ack_wait later, after newer ones:
 * fixes out of order. One burst takes what the broker pushed, one commit
 * acknowledges it. */
#define NET_MQTT_HOLD_BURST 2048
/* The MQTT 5 connect's probe: a broker that has not completed the TCP
 * handshake within this long counts as a failed attempt. */
#define NET_MQTT_PROBE_MS 5000
/* A blocking MQTT 5 connect that took longer than this is logged. */
#define NET_MQTT_SLOW_MS 50

struct net_mqtt {
	struct event_base *base;
	struct net_mqtt_conf conf;   /* strings borrowed */
	struct net_mqtt_cbs cbs;
	struct mosquitto *mosq;
	struct event *ev_read, *ev_write, *ev_misc, *ev_retry;
	struct event *ev_coalesce;   /* read coalescing: the next read */
	bool read_armed;             /* ev_read added (not paused, not coalescing) */
	int fd;
	bool started, connected, paused, stopping, first_done;
	/* conf.hold_acks: a burst brought messages; neither reading nor
	 * writing until net_mqtt_release (their PUBACKs wait in the queue) */
	bool held;
	struct hz_backoff backoff;
	int unacked;
	uint64_t nmsg; /* messages handed over: progress of a read burst */
	size_t subacks_due;      /* SUBACKs still awaited since the CONNACK */
	struct net_dns *dns;      /* resolves the broker's host name */
	bool resolving;
	char addr[NET_MQTT_STR_MAX];   /* the broker's numeric address, once resolved */
	struct net_mqtt_broker brokers[NET_MQTT_BROKERS_MAX];
	int nbrokers, cur;         /* the list ([mqtt] host), the one in use */
	evutil_socket_t probe_fd; /* MQTT 5: TCP connect in progress, or -1 */
	struct event *ev_probe;  /* its write readiness or its time limit */
	int64_t probe_t0_us;     /* when it began */
	char status_topic[NET_MQTT_TOPIC_MAX + NET_MQTT_STR_MAX + 2];
};

static void schedule_retry(struct net_mqtt *m, const char *why);

/* The broker in use. */
#define BHOST(m) ((m)->brokers[(m)->cur].host)
#define BPORT(m) ((m)->brokers[(m)->cur].port)

static void
drop_events(struct net_mqtt *m)
{
	if (m->ev_coalesce)
		event_del(m->ev_coalesce);
	if (m->ev_read) {
		event_free(m->ev_read);
		m->ev_read = NULL;
	}
	if (m->ev_write) {
		event_free(m->ev_write);
		m->ev_write = NULL;
	}
	m->fd = -1;
}

/* Ask for write readiness only while libmosquitto has bytes to send (and
 * no burst's PUBACKs are held). */
static void
update_write(struct net_mqtt *m)
{
	if (!m->ev_write)
		return;
	if (!m->held && mosquitto_want_write(m->mosq))
		event_add(m->ev_write, NULL);
	else
		event_del(m->ev_write);
}

/* Write what libmosquitto has queued, now, corked: libmosquitto writes
 * each packet by a send of its own, and on a link to a broker that sleeps
 * between messages (any rate below full speed) each of those segments
 * woke it: a burst's PUBACKs cost the gateway one wake-up of the broker
 * each (the kernel's delivery and, in a VM, an inter-processor kick), a
 * fifth of its CPU at 2,000 msg/s (issue 15). Under TCP_CORK they leave
 * as one segment when the cork is pulled. A socket that is not TCP
 * refuses the option, and its packets go as before. */
static int
write_corked(struct net_mqtt *m)
{
	int on = 1, off = 0, rc;
	bool corked = m->fd >= 0
		&& setsockopt(m->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)) == 0;

	rc = mosquitto_loop_write(m->mosq, 1);
	if (corked)
		setsockopt(m->fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
	return rc;
}

static void
link_lost(struct net_mqtt *m, int rc)
{
	bool was = m->connected;

	drop_events(m);
	m->connected = false;
	/* What was held goes with the link: libmosquitto's reconnect empties
	 * its packet queue, and the broker sends the unacknowledged again. */
	m->held = false;
	if (was && m->cbs.on_state)
		m->cbs.on_state(m->cbs.arg, false);
	if (m->stopping)
		return;
	schedule_retry(m, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
}

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct net_mqtt *m = arg;
	int rc;

	(void)fd;
	(void)what;
	/* libmosquitto reads one packet per call: keep reading while packets
	 * keep coming (bounded, so timers and the database get their turn),
	 * instead of one trip through the event loop per message. */
	uint64_t first = m->nmsg;
	int burst = m->conf.hold_acks ? NET_MQTT_HOLD_BURST : NET_MQTT_READ_BURST;

	for (int i = 0; i < burst && !m->paused && !m->held; i++) {
		uint64_t before = m->nmsg;

		rc = mosquitto_loop_read(m->mosq, 1);
		if (rc != MOSQ_ERR_SUCCESS) {
			link_lost(m, rc);
			return;
		}
		if (m->nmsg == before)
			break;
	}
	if (m->conf.hold_acks && m->nmsg != first) {
		/* The burst's PUBACKs wait for the owner's commit. */
		m->held = true;
		event_del(m->ev_coalesce);
		if (m->read_armed) {
			event_del(m->ev_read);
			m->read_armed = false;
		}
		update_write(m);
		if (m->cbs.on_held)
			m->cbs.on_held(m->cbs.arg);
		return;
	}
	/* The burst's PUBACKs go at once, in one segment, not after another
	 * trip through epoll for write readiness; what the socket does not
	 * take waits for it. */
	if (m->nmsg != first && mosquitto_want_write(m->mosq)) {
		rc = write_corked(m);
		if (rc != MOSQ_ERR_SUCCESS) {
			link_lost(m, rc);
			return;
		}
	}
	update_write(m);
	if (m->conf.coalesce_us <= 0 || m->paused || !m->ev_read)
		return;
	if (m->nmsg - first > 0 && m->nmsg - first < NET_MQTT_COALESCE_FEW) {
		/* A low rate: let the socket fill before the next read. */
		struct timeval tv = { 0, m->conf.coalesce_us };

		if (m->read_armed) {
			event_del(m->ev_read);
			m->read_armed = false;
		}
		event_add(m->ev_coalesce, &tv);
	} else if (!m->read_armed) {
		event_add(m->ev_read, NULL);
		m->read_armed = true;
	}
}

/* The coalescing timer: read what came meanwhile (on_readable decides
 * whether to wait again or go back to readiness). */
static void
on_coalesce(evutil_socket_t fd, short what, void *arg)
{
	struct net_mqtt *m = arg;

	if (m->paused || m->held || !m->ev_read)
		return;
	on_readable(fd, what, arg);
}

static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct net_mqtt *m = arg;
	int rc;

	(void)fd;
	(void)what;
	rc = write_corked(m);
	if (rc != MOSQ_ERR_SUCCESS) {
		link_lost(m, rc);
		return;
	}
	update_write(m);
}

static void
attach_socket(struct net_mqtt *m)
{
	int fd = mosquitto_socket(m->mosq);

	drop_events(m);
	if (fd < 0)
		return;
	m->fd = fd;
	m->ev_read = event_new(m->base, fd, EV_READ | EV_PERSIST, on_readable, m);
	m->ev_write = event_new(m->base, fd, EV_WRITE, on_writable, m);
	m->read_armed = false;
	m->held = false;
	if (!m->paused) {
		event_add(m->ev_read, NULL);
		m->read_armed = true;
	}
	/* A connect in progress reports itself by write readiness. */
	event_add(m->ev_write, NULL);
}

static void do_connect(evutil_socket_t fd, short what, void *arg);

static void
on_resolved(void *arg, int err, const char *addr)
{
	struct net_mqtt *m = arg;

	m->resolving = false;
	if (err != NET_DNS_OK) {
		char why[NET_MQTT_STR_MAX + 64];

		snprintf(why, sizeof(why), "%s: %s", BHOST(m), net_dns_strerror(err));
		schedule_retry(m, why);
		return;
	}
	snprintf(m->addr, sizeof(m->addr), "%s", addr);
	hz_log(HZ_LOG_DEBUG, "mqtt_resolved", "host=%s addr=%s", BHOST(m), m->addr);
	do_connect(-1, 0, m);
}

/* What libmosquitto connects to: with TLS the name (see the header). */
static const char *
target(const struct net_mqtt *m)
{
	return m->conf.tls_ca[0] ? BHOST(m) : m->addr;
}

/* A connect call returned rc: watch the socket, or try again later. */
static void
connect_called(struct net_mqtt *m, int rc)
{
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_CONN_PENDING) {
		schedule_retry(m, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		return;
	}
	m->first_done = true;
	attach_socket(m);
	hz_log(HZ_LOG_DEBUG, "mqtt_connecting", "host=%s port=%d", BHOST(m), BPORT(m));
}

static void
probe_end(struct net_mqtt *m)
{
	if (m->ev_probe) {
		event_free(m->ev_probe);
		m->ev_probe = NULL;
	}
	if (m->probe_fd >= 0) {
		evutil_closesocket(m->probe_fd);
		m->probe_fd = -1;
	}
}

/* The broker answered the probe: the one connect that carries CONNECT
 * properties, blocking for about a round trip. */
static void
connect_v5(struct net_mqtt *m)
{
	const struct net_mqtt_conf *c = &m->conf;
	mosquitto_property *props = NULL;
	int64_t t0 = hz_mono_us(), ms;
	int rc, e;

	rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, UINT32_MAX);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_connect_bind_v5(m->mosq, target(m), BPORT(m), c->keepalive_s,
					       NULL, props);
	e = errno;
	mosquitto_property_free_all(&props);
	ms = (hz_mono_us() - t0) / 1000;
	if (ms > NET_MQTT_SLOW_MS)
		hz_log(HZ_LOG_WARN, "mqtt_connect_slow", "host=%s port=%d blocked_ms=%" PRId64,
		       BHOST(m), BPORT(m), ms);
	errno = e;
	connect_called(m, rc);
}

static void
on_probe(evutil_socket_t fd, short what, void *arg)
{
	struct net_mqtt *m = arg;
	int err = 0;
	socklen_t len = sizeof(err);
	char why[NET_MQTT_STR_MAX + 64];

	if (what & EV_TIMEOUT) {
		snprintf(why, sizeof(why), "TCP connect to %s: no answer in %d ms", m->addr,
			 NET_MQTT_PROBE_MS);
		probe_end(m);
		schedule_retry(m, why);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	hz_log(HZ_LOG_DEBUG, "mqtt_probe", "addr=%s port=%d ms=%" PRId64 " err=%d", m->addr,
	       BPORT(m), (hz_mono_us() - m->probe_t0_us) / 1000, err);
	probe_end(m);
	if (err != 0) {
		schedule_retry(m, strerror(err));
		return;
	}
	connect_v5(m);
}

/* Start the non-blocking TCP connect that must succeed before connect_v5. */
static void
probe_start(struct net_mqtt *m)
{
	struct timeval tv = { NET_MQTT_PROBE_MS / 1000, (NET_MQTT_PROBE_MS % 1000) * 1000 };
	struct addrinfo hints, *ai = NULL;
	char port[16];
	const char *why = NULL;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;   /* never a lookup */
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", BPORT(m));
	rc = getaddrinfo(m->addr, port, &hints, &ai);
	if (rc != 0) {
		why = gai_strerror(rc);
		goto err;
	}
	m->probe_fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->probe_fd < 0 ||
	    (connect(m->probe_fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)) {
		why = strerror(errno);
		goto err;
	}
	m->ev_probe = event_new(m->base, m->probe_fd, EV_WRITE, on_probe, m);
	if (!m->ev_probe || event_add(m->ev_probe, &tv) != 0) {
		why = "out of memory";
		goto err;
	}
	m->probe_t0_us = hz_mono_us();
	freeaddrinfo(ai);
	return;
err:
	if (ai)
		freeaddrinfo(ai);
	probe_end(m);
	schedule_retry(m, why);
}

/* Starts a connection attempt; also the retry timer's callback. */
static void
do_connect(evutil_socket_t fd, short what, void *arg)
{
	struct net_mqtt *m = arg;
	const struct net_mqtt_conf *c = &m->conf;
	bool tls = c->tls_ca[0] != '\0', v5 = c->protocol == 5;
	int rc;

	(void)fd;
	(void)what;
	if (m->stopping || m->resolving || m->probe_fd >= 0)
		return;
	if (m->first_done) {
		connect_called(m, mosquitto_reconnect_async(m->mosq));
		return;
	}
	/* The address: for libmosquitto (without TLS) and for the probe. */
	if (!m->addr[0] && (!tls || v5)) {
		m->resolving = true;
		rc = net_dns_resolve(m->dns, BHOST(m), on_resolved, m);
		if (rc != NET_DNS_OK) {
			m->resolving = false;
			schedule_retry(m, net_dns_strerror(rc));
		}
		return;   /* on_resolved connects */
	}
	if (v5)
		probe_start(m);   /* on_probe connects */
	else
		connect_called(m, mosquitto_connect_async(m->mosq, target(m), BPORT(m),
							  c->keepalive_s));
}

static void
schedule_retry(struct net_mqtt *m, const char *why)
{
	int delay;
	struct timeval tv;

	if (m->stopping)
		return;
	if (m->nbrokers > 1) {
		/* The next broker, from scratch: resolve it, connect (not
		 * reconnect: libmosquitto's reconnect goes to the old host). */
		hz_log(HZ_LOG_WARN, "mqtt_next_broker", "from_host=%s from_port=%d why=\"%s\"",
		       BHOST(m), BPORT(m), why);
		m->cur = (m->cur + 1) % m->nbrokers;
		m->addr[0] = '\0';
		m->first_done = false;
	}
	if (m->nbrokers > 1 && m->cur != 0)
		delay = (int)hz_backoff_jitter(m->conf.reconnect_min_ms, (uint32_t)random());
	else
		delay = (int)hz_backoff_jitter(hz_backoff_next(&m->backoff,
							       m->conf.reconnect_min_ms,
							       m->conf.reconnect_max_ms),
					       (uint32_t)random());
	hz_log(HZ_LOG_WARN, "mqtt_retry", "host=%s port=%d in_ms=%d why=\"%s\"",
	       BHOST(m), BPORT(m), delay, why);
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	event_add(m->ev_retry, &tv);
}

static void
on_misc(evutil_socket_t fd, short what, void *arg)
{
	struct net_mqtt *m = arg;
	int rc;

	(void)fd;
	(void)what;
	if (m->fd < 0 || m->paused || m->held)
		return;
	rc = mosquitto_loop_misc(m->mosq);
	if (rc != MOSQ_ERR_SUCCESS) {
		link_lost(m, rc);
		return;
	}
	update_write(m);
}

static void
cb_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct net_mqtt *m = obj;
	const struct net_mqtt_conf *c = &m->conf;

	if (rc != 0) {
		hz_log(HZ_LOG_ERROR, "mqtt_refused", "host=%s port=%d why=\"%s\"", BHOST(m),
		       BPORT(m), mosquitto_connack_string(rc));
		return;  /* the broker closes; link_lost retries */
	}
	m->connected = true;
	hz_backoff_reset(&m->backoff);
	m->subacks_due = 0;
	for (size_t i = 0; i < c->nsubs; i++) {
		int r = mosquitto_subscribe(mosq, NULL, c->subs[i], 1);

		if (r != MOSQ_ERR_SUCCESS)
			hz_log(HZ_LOG_ERROR, "mqtt_subscribe_failed", "filter=%s why=\"%s\"",
			       c->subs[i], mosquitto_strerror(r));
		else
			m->subacks_due++;
	}
	net_mqtt_publish(m, m->status_topic, "online", 6, true);
	hz_log(HZ_LOG_INFO, "mqtt_connected", "host=%s port=%d client_id=%s subscriptions=%zu",
	       BHOST(m), BPORT(m), c->client_id, c->nsubs);
	if (m->cbs.on_state)
		m->cbs.on_state(m->cbs.arg, true);
	update_write(m);
}

/* The subscriptions are only in force once the broker has answered them:
 * with a new session, what is published before that is not ours. So the
 * line that says the gateway is receiving comes with the last SUBACK. */
static void
cb_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
	struct net_mqtt *m = obj;

	(void)mosq;
	for (int i = 0; i < n; i++)
		hz_log(granted[i] == 1 ? HZ_LOG_DEBUG : HZ_LOG_WARN, "mqtt_subscribed",
		       "mid=%d granted_qos=%d", mid, granted[i]);
	if (m->subacks_due > 0 && --m->subacks_due == 0)
		hz_log(HZ_LOG_INFO, "mqtt_receiving", "subscriptions=%zu",
		       m->conf.nsubs);
}

static void
cb_publish(struct mosquitto *mosq, void *obj, int mid)
{
	struct net_mqtt *m = obj;

	(void)mosq;
	if (m->unacked > 0)
		m->unacked--;
	if (m->cbs.on_published)
		m->cbs.on_published(m->cbs.arg, mid);
}

static void
cb_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	struct net_mqtt *m = obj;

	(void)mosq;
	m->nmsg++;
	m->cbs.on_message(m->cbs.arg, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

static int
read_password(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	if (!fgets(out, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	n = strlen(out);
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return 0;
}

struct net_mqtt *
net_mqtt_new(struct event_base *base, const struct net_mqtt_conf *cfg, const struct net_mqtt_cbs *cbs)
{
	struct net_mqtt *m = calloc(1, sizeof(*m));
	const char *why = NULL;
	int rc;

	if (!m)
		return NULL;
	m->base = base;
	m->conf = *cfg;
	m->cbs = *cbs;
	m->fd = -1;
	m->probe_fd = -1;
	m->nbrokers = net_mqtt_brokers(cfg->host, cfg->port, m->brokers, NET_MQTT_BROKERS_MAX,
				       &why);
	if (m->nbrokers < 1) {
		m->nbrokers = 0;
		goto err;
	}
	snprintf(m->status_topic, sizeof(m->status_topic), "%s/%s", cfg->status_topic,
		 cfg->client_id);
	m->mosq = mosquitto_new(cfg->client_id, false, m);
	if (!m->mosq) {
		why = "mosquitto_new failed";
		goto err;
	}
	mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION,
			     cfg->protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	mosquitto_connect_callback_set(m->mosq, cb_connect);
	mosquitto_message_callback_set(m->mosq, cb_message);
	mosquitto_publish_callback_set(m->mosq, cb_publish);
	mosquitto_subscribe_callback_set(m->mosq, cb_subscribe);
	/* Packets are only queued, never written from inside the library's
	 * calls: libmosquitto 2.0 would write a QoS 1 message's PUBACK
	 * before it calls on_message, so a crash in between lost a message
	 * the broker counts as delivered. Queued, the PUBACK goes out with
	 * the next mosquitto_loop_write (update_write, after the read burst),
	 * once the callback has run (the gateway's inbox journal). */
	mosquitto_threaded_set(m->mosq, true);
	/* Messages acknowledged to the broker only as the library reads them:
	 * no client-side inflight cap on what it may send us. */
	mosquitto_int_option(m->mosq, MOSQ_OPT_RECEIVE_MAXIMUM, 65535);
	rc = mosquitto_will_set(m->mosq, m->status_topic, 7, "offline", 1, true);
	if (rc != MOSQ_ERR_SUCCESS) {
		why = mosquitto_strerror(rc);
		goto err;
	}
	if (cfg->username[0]) {
		char pw[256] = "";

		if (cfg->password_file[0] && read_password(cfg->password_file, pw,
								sizeof(pw)) != 0) {
			why = "cannot read password_file";
			goto err;
		}
		rc = mosquitto_username_pw_set(m->mosq, cfg->username, pw[0] ? pw : NULL);
		memset(pw, 0, sizeof(pw));
		if (rc != MOSQ_ERR_SUCCESS) {
			why = mosquitto_strerror(rc);
			goto err;
		}
	}
	if (cfg->tls_ca[0]) {
		rc = mosquitto_tls_set(m->mosq, cfg->tls_ca, NULL,
				       cfg->tls_cert[0] ? cfg->tls_cert : NULL,
				       cfg->tls_key[0] ? cfg->tls_key : NULL, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			why = mosquitto_strerror(rc);
			goto err;
		}
	}
	m->ev_misc = event_new(base, -1, EV_PERSIST, on_misc, m);
	m->ev_retry = evtimer_new(base, do_connect, m);
	m->ev_coalesce = evtimer_new(base, on_coalesce, m);
	m->dns = net_dns_new(base);
	if (m->conf.coalesce_us > NET_MQTT_COALESCE_MAX_US)
		m->conf.coalesce_us = NET_MQTT_COALESCE_MAX_US;
	if (!m->ev_misc || !m->ev_retry || !m->ev_coalesce || !m->dns) {
		why = "out of memory";
		goto err;
	}
	return m;
err:
	hz_log(HZ_LOG_ERROR, "mqtt_setup_failed", "why=\"%s\"", why);
	net_mqtt_free(m);
	return NULL;
}

void
net_mqtt_free(struct net_mqtt *m)
{
	if (!m)
		return;
	net_dns_free(m->dns);
	probe_end(m);
	drop_events(m);
	if (m->ev_misc)
		event_free(m->ev_misc);
	if (m->ev_retry)
		event_free(m->ev_retry);
	if (m->ev_coalesce)
		event_free(m->ev_coalesce);
	if (m->mosq)
		mosquitto_destroy(m->mosq);
	free(m);
}

void
net_mqtt_start(struct net_mqtt *m)
{
	struct timeval one = { 1, 0 };

	if (m->started)
		return;
	m->started = true;
	event_add(m->ev_misc, &one);
	do_connect(-1, 0, m);
}

void
net_mqtt_pause(struct net_mqtt *m, bool paused)
{
	if (m->paused == paused)
		return;
	m->paused = paused;
	if (!m->ev_read)
		return;
	event_del(m->ev_coalesce);
	if (paused || m->held)
		event_del(m->ev_read);
	else
		event_add(m->ev_read, NULL);
	m->read_armed = !paused && !m->held;
}

bool
net_mqtt_held(const struct net_mqtt *m)
{
	return m->held;
}

void
net_mqtt_release(struct net_mqtt *m)
{
	if (!m->held)
		return;
	m->held = false;
	if (m->ev_read && !m->paused && !m->read_armed) {
		event_add(m->ev_read, NULL);
		m->read_armed = true;
	}
	update_write(m);
}

bool
net_mqtt_paused(const struct net_mqtt *m)
{
	return m->paused;
}

bool
net_mqtt_connected(const struct net_mqtt *m)
{
	return m->connected;
}

int
net_mqtt_publish(struct net_mqtt *m, const char *topic, const void *payload, size_t len,
                bool retain)
{
	int mid = 0;
	int rc;

	if (len > MQTT_MAX_PAYLOAD)
		return NET_MQTT_ETOOBIG;
	rc = mosquitto_publish(m->mosq, &mid, topic, (int)len, payload, 1, retain);
	if (rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_OVERSIZE_PACKET)
		return NET_MQTT_ETOOBIG;
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
		return -1;
	m->unacked++;
	update_write(m);
	return mid;
}

int
net_mqtt_unacked(const struct net_mqtt *m)
{
	return m->connected ? m->unacked : 0;
}

void
net_mqtt_disconnect(struct net_mqtt *m)
{
	m->stopping = true;
	event_del(m->ev_retry);
	probe_end(m);
	event_del(m->ev_misc);
	/* Held PUBACKs must not go out: the socket just closes (no DISCONNECT,
	 * which would queue behind them), and the broker keeps the session's
	 * unacknowledged messages for the next one. */
	if (m->connected && !m->held) {
		mosquitto_publish(m->mosq, NULL, m->status_topic, 7, "offline", 1, true);
		mosquitto_disconnect(m->mosq);
		/* Push what is queued (the DISCONNECT) out now. */
		for (int i = 0; i < 10 && mosquitto_want_write(m->mosq); i++)
			if (mosquitto_loop_write(m->mosq, 1) != MOSQ_ERR_SUCCESS)
				break;
	}
	drop_events(m);
	m->connected = false;
}
