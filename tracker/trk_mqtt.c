/*
 * trk_mqtt.c - MQTT adapter: libmosquitto driven by the libevent loop.
 *
 * No mosquitto_loop_start and no threads: the socket from mosquitto_socket
 * gets a persistent read event, a write event that is added only while
 * mosquitto_want_write says so, and a 1 s timer calls mosquitto_loop_misc
 * (keepalive).  After every loop call the events are brought in line with
 * the socket (it changes on reconnect).
 *
 * On connection loss the mosquitto handle is destroyed and a fresh one is
 * made for the next attempt: libmosquitto would otherwise resend its own
 * copies of the messages that were in flight, and the caller's queue
 * (hz_queue) resends them too, in order.  The queue is the one source of
 * truth, so the caller is told (disconnected) and rewinds.
 *
 * Reconnects wait reconnect_min_s, doubling up to reconnect_max_s, reset
 * by a successful CONNACK (hz_backoff, counted in microseconds; without
 * jitter, as before it was shared).  The connect itself is asynchronous
 * (mosquitto_connect_async); name resolution is not, so give an address or
 * a name in /etc/hosts on a vehicle whose DNS may be unreachable.
 *
 * [mqtt] host may list brokers (a NATS cluster's nodes: HOST[:PORT], ...;
 * net_mqtt_brokers splits it): an attempt that fails, or a link that is
 * lost, moves to the next one; the backoff grows when the list comes round
 * to the first again, else the next broker is tried after reconnect_min_s.
 */
#include "tracker/tracker.h"

#include <event2/event.h>
#include <math.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hz_backoff.h"
#include "net/net_mqtt.h"

struct trk_mqtt {
	struct event_base *base;
	const struct trk_config *c;
	struct trk_mqtt_callbacks cb;
	void *arg;
	struct mosquitto *mosq;
	char *client_id, *telemetry_topic, *status_topic, *password;
	struct event *ev_read, *ev_write, *ev_misc, *ev_retry, *ev_stop;
	struct event *ev_conn_to;      /* no CONNACK in time: give up this attempt */
	int fd;
	bool write_on;
	bool connected;         /* CONNACK accepted */
	bool link_lost;         /* set by callbacks, handled after the loop call */
	bool refused;           /* a CONNACK refusal, already logged */
	int lost_rc;            /* why libmosquitto dropped the link, if it said */
	bool in_loop;           /* inside a mosquitto_loop_* call */
	struct hz_backoff backoff;
	int stopping;           /* 0 no, 1 "offline" sent, 2 ready to disconnect */
	int offline_mid;
	void (*done)(void *arg);
	struct net_mqtt_broker brokers[NET_MQTT_BROKERS_MAX];
	int nbrokers, cur;      /* [mqtt] host's list, the broker in use */
};

/* The broker in use. */
#define BHOST(m) ((m)->brokers[(m)->cur].host)
#define BPORT(m) ((m)->brokers[(m)->cur].port)

static void after_call(trk_mqtt *m, int rc);

static void
timer_in(struct event *ev, double s)
{
	struct timeval tv;

	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	evtimer_add(ev, &tv);
}

static void
drop_events(trk_mqtt *m)
{
	if (m->ev_read)
		event_free(m->ev_read);
	if (m->ev_write)
		event_free(m->ev_write);
	m->ev_read = m->ev_write = NULL;
	m->fd = -1;
	m->write_on = false;
}

static void
on_io(evutil_socket_t fd, short what, void *arg)
{
	trk_mqtt *m = arg;
	int rc;

	(void)fd;
	if (!m->mosq)
		return;
	m->in_loop = true;
	rc = (what & EV_READ) ? mosquitto_loop_read(m->mosq, 1)
	                      : mosquitto_loop_write(m->mosq, 1);
	m->in_loop = false;
	after_call(m, rc);
}

/* Make the events follow mosquitto's socket and its wish to write. */
static void
sync_events(trk_mqtt *m)
{
	int fd = m->mosq ? mosquitto_socket(m->mosq) : -1;
	bool ww;

	if (fd != m->fd) {
		drop_events(m);
		if (fd < 0)
			return;
		m->ev_read = event_new(m->base, fd, EV_READ | EV_PERSIST, on_io, m);
		m->ev_write = event_new(m->base, fd, EV_WRITE | EV_PERSIST, on_io, m);
		if (!m->ev_read || !m->ev_write) {
			drop_events(m);
			m->link_lost = true;
			return;
		}
		event_add(m->ev_read, NULL);
		m->fd = fd;
	}
	ww = mosquitto_want_write(m->mosq);
	if (ww && !m->write_on)
		event_add(m->ev_write, NULL);
	else if (!ww && m->write_on)
		event_del(m->ev_write);
	m->write_on = ww;
}

static void
on_connect(struct mosquitto *mosq, void *arg, int rc)
{
	trk_mqtt *m = arg;
	int mid;

	(void)mosq;
	if (rc != 0) {
		hz_log(HZ_LOG_WARN, "mqtt_refused", "host=%s port=%d reason=\"%s\"",
		        BHOST(m), BPORT(m), mosquitto_connack_string(rc));
		m->link_lost = true;
		m->refused = true;
		return;
	}
	m->connected = true;
	hz_backoff_reset(&m->backoff);
	evtimer_del(m->ev_conn_to);
	hz_log(HZ_LOG_INFO, "mqtt_connected", "host=%s port=%d client_id=%s",
	        BHOST(m), BPORT(m), m->client_id);
	mosquitto_publish(m->mosq, &mid, m->status_topic, 6, "online", 1, true);
	if (m->cb.connected)
		m->cb.connected(m->arg);
}

static void
on_disconnect(struct mosquitto *mosq, void *arg, int rc)
{
	trk_mqtt *m = arg;

	(void)mosq;
	m->link_lost = true;
	m->lost_rc = rc;
}

static void
on_publish(struct mosquitto *mosq, void *arg, int mid)
{
	trk_mqtt *m = arg;

	(void)mosq;
	if (m->stopping == 1 && mid == m->offline_mid) {
		m->stopping = 2;
		return;
	}
	if (m->cb.published)
		m->cb.published(m->arg, mid);
}

static void
on_mosq_log(struct mosquitto *mosq, void *arg, int level, const char *str)
{
	(void)mosq;
	(void)arg;
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		hz_log(HZ_LOG_WARN, "mqtt_lib", "msg=\"%s\"", str);
	else
		hz_log(HZ_LOG_DEBUG, "mqtt_lib", "msg=\"%s\"", str);
}

static int
make_client(trk_mqtt *m)
{
	const struct trk_config *c = m->c;
	int rc;

	m->mosq = mosquitto_new(m->client_id, true, m);
	if (!m->mosq)
		return TRK_ERR_NOMEM;
	mosquitto_connect_callback_set(m->mosq, on_connect);
	mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
	mosquitto_publish_callback_set(m->mosq, on_publish);
	mosquitto_log_callback_set(m->mosq, on_mosq_log);
	mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_max_inflight_messages_set(m->mosq, (unsigned)c->max_inflight + 1);
	rc = mosquitto_will_set(m->mosq, m->status_topic, 7, "offline", 1, true);
	if (rc == MOSQ_ERR_SUCCESS && *c->username)
		rc = mosquitto_username_pw_set(m->mosq, c->username, m->password);
	if (rc == MOSQ_ERR_SUCCESS && *c->tls_ca)
		rc = mosquitto_tls_set(m->mosq, c->tls_ca, NULL,
		                       *c->tls_cert ? c->tls_cert : NULL,
		                       *c->tls_key ? c->tls_key : NULL, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		hz_log(HZ_LOG_ERROR, "mqtt_setup_failed", "error=\"%s\"", mosquitto_strerror(rc));
		mosquitto_destroy(m->mosq);
		m->mosq = NULL;
		return TRK_ERR_MQTT;
	}
	return TRK_OK;
}

static void
schedule_retry(trk_mqtt *m)
{
	double s;

	if (m->nbrokers > 1)
		m->cur = (m->cur + 1) % m->nbrokers;
	if (m->cur != 0)
		s = m->c->reconnect_min_s;
	else
		s = (double)hz_backoff_next(&m->backoff, llround(m->c->reconnect_min_s * 1e6),
		                            llround(m->c->reconnect_max_s * 1e6)) / 1e6;
	hz_log(HZ_LOG_INFO, "mqtt_retry", "host=%s port=%d in_s=%g", BHOST(m), BPORT(m), s);
	timer_in(m->ev_retry, s);
}

static void
do_connect(trk_mqtt *m)
{
	int rc;

	if (m->stopping)
		return;
	if (!m->mosq && make_client(m) != TRK_OK) {
		schedule_retry(m);
		return;
	}
	rc = mosquitto_connect_async(m->mosq, BHOST(m), BPORT(m),
	                             m->c->keepalive_s);
	if (rc != MOSQ_ERR_SUCCESS) {
		hz_log(HZ_LOG_WARN, "mqtt_connect_failed", "host=%s port=%d error=\"%s\"",
		        BHOST(m), BPORT(m),
		        rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		mosquitto_destroy(m->mosq);
		m->mosq = NULL;
		schedule_retry(m);
		return;
	}
	/* A broker that accepts TCP but never answers (or a SYN lost in a
	 * dead zone) must not hold the link forever. */
	timer_in(m->ev_conn_to, m->c->keepalive_s);
	sync_events(m);
}

static void
finish_stop(trk_mqtt *m)
{
	void (*done)(void *) = m->done;

	if (m->mosq && m->fd >= 0) {
		mosquitto_disconnect(m->mosq);
		(void)mosquitto_loop_write(m->mosq, 1);
	}
	drop_events(m);
	evtimer_del(m->ev_stop);
	evtimer_del(m->ev_conn_to);
	m->done = NULL;
	if (done)
		done(m->arg);
}

/* An attempt that ends before the CONNACK says why, whichever path noticed
 * it first: libmosquitto's own keepalive check (mosquitto_loop_misc closes
 * a link that has been silent for keepalive_s, the same moment as our
 * ev_conn_to timer), a reset, or a refusal (already logged). */
static void
log_failed_attempt(trk_mqtt *m, int rc)
{
	if (m->connected || m->refused)
		return;
	if (rc == MOSQ_ERR_SUCCESS)
		rc = m->lost_rc;
	if (rc == MOSQ_ERR_KEEPALIVE)
		hz_log(HZ_LOG_WARN, "mqtt_connect_timeout", "host=%s port=%d after_s=%d",
		        BHOST(m), BPORT(m), m->c->keepalive_s);
	else
		hz_log(HZ_LOG_WARN, "mqtt_connect_failed", "host=%s port=%d error=\"%s\"",
		        BHOST(m), BPORT(m),
		        rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
}

static void
link_down(trk_mqtt *m)
{
	bool was = m->connected;

	drop_events(m);
	if (m->mosq) {
		mosquitto_destroy(m->mosq);
		m->mosq = NULL;
	}
	m->connected = false;
	m->link_lost = false;
	m->refused = false;
	m->lost_rc = MOSQ_ERR_SUCCESS;
	evtimer_del(m->ev_conn_to);
	if (was) {
		hz_log(HZ_LOG_WARN, "mqtt_lost", "host=%s port=%d", BHOST(m),
		        BPORT(m));
		if (m->cb.disconnected)
			m->cb.disconnected(m->arg);
	}
	if (m->stopping) {
		finish_stop(m);
		return;
	}
	schedule_retry(m);
}

/* After a mosquitto call made outside any mosquitto callback. */
static void
after_call(trk_mqtt *m, int rc)
{
	if (!m->mosq)
		return;
	if (m->stopping == 2) {
		finish_stop(m);
		return;
	}
	if (rc != MOSQ_ERR_SUCCESS || m->link_lost || mosquitto_socket(m->mosq) < 0) {
		if (!m->stopping)
			log_failed_attempt(m, rc);
		link_down(m);
		return;
	}
	sync_events(m);
}

static void
on_misc(evutil_socket_t fd, short what, void *arg)
{
	trk_mqtt *m = arg;
	int rc;

	(void)fd;
	(void)what;
	if (!m->mosq || m->fd < 0)
		return;
	m->in_loop = true;
	rc = mosquitto_loop_misc(m->mosq);
	m->in_loop = false;
	after_call(m, rc);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	do_connect(arg);
}

static void
on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	trk_mqtt *m = arg;

	(void)fd;
	(void)what;
	if (m->connected || !m->mosq)
		return;
	hz_log(HZ_LOG_WARN, "mqtt_connect_timeout", "host=%s port=%d after_s=%d",
	        BHOST(m), BPORT(m), m->c->keepalive_s);
	link_down(m);
}

static void
on_stop_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hz_log(HZ_LOG_WARN, "mqtt_offline_unacked", "note=\"disconnecting anyway\"");
	finish_stop(arg);
}

static char *
read_password(const char *path, char *err, size_t cap)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t n;

	if (!f) {
		snprintf(err, cap, "%s: cannot open password file: %s", path, strerror(errno));
		return NULL;
	}
	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	fclose(f);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return strdup(line);
}

static char *
join3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s/%s/%s", a, b, c);
	return s;
}

int
trk_mqtt_new(trk_mqtt **out, struct event_base *base, const struct trk_config *c,
             const struct trk_mqtt_callbacks *cb, void *arg, char *err, size_t errcap)
{
	trk_mqtt *m = calloc(1, sizeof *m);
	struct timeval sec = { 1, 0 };

	*out = NULL;
	if (!m)
		return TRK_ERR_NOMEM;
	m->base = base;
	m->c = c;
	m->cb = *cb;
	m->arg = arg;
	m->fd = -1;
	{
		const char *why = NULL;

		m->nbrokers = net_mqtt_brokers(c->mqtt_host, c->mqtt_port, m->brokers,
					       NET_MQTT_BROKERS_MAX, &why);
		if (m->nbrokers < 1) {
			snprintf(err, errcap, "%s", why);
			trk_mqtt_free(m);
			return TRK_ERR_CONFIG;
		}
	}
	if (*c->password_file) {
		m->password = read_password(c->password_file, err, errcap);
		if (!m->password) {
			trk_mqtt_free(m);
			return TRK_ERR_CONFIG;
		}
	}
	if (*c->client_id) {
		m->client_id = strdup(c->client_id);
	} else {
		size_t n = strlen(c->vehicle) + 32;

		m->client_id = malloc(n);
		if (m->client_id)
			snprintf(m->client_id, n, "hazgate-tracker-%s", c->vehicle);
	}
	m->telemetry_topic = join3(c->topic_prefix, c->vehicle, "telemetry");
	m->status_topic = join3(c->topic_prefix, c->vehicle, "status");
	m->ev_misc = event_new(base, -1, EV_PERSIST, on_misc, m);
	m->ev_retry = evtimer_new(base, on_retry, m);
	m->ev_stop = evtimer_new(base, on_stop_timeout, m);
	m->ev_conn_to = evtimer_new(base, on_connect_timeout, m);
	if (!m->client_id || !m->telemetry_topic || !m->status_topic || !m->ev_misc ||
	    !m->ev_retry || !m->ev_stop || !m->ev_conn_to) {
		trk_mqtt_free(m);
		return TRK_ERR_NOMEM;
	}
	event_add(m->ev_misc, &sec);
	*out = m;
	return TRK_OK;
}

int
trk_mqtt_start(trk_mqtt *m)
{
	do_connect(m);
	return TRK_OK;
}

bool
trk_mqtt_connected(const trk_mqtt *m)
{
	return m->connected && m->mosq && !m->link_lost && !m->stopping;
}

int
trk_mqtt_publish_telemetry(trk_mqtt *m, const void *data, size_t len, int *mid)
{
	int rc;

	if (!trk_mqtt_connected(m))
		return TRK_ERR_MQTT;
	rc = mosquitto_publish(m->mosq, mid, m->telemetry_topic, (int)len, data, 1, false);
	if (rc != MOSQ_ERR_SUCCESS)
		m->link_lost = true;
	if (!m->in_loop)
		after_call(m, rc);
	return rc == MOSQ_ERR_SUCCESS ? TRK_OK : TRK_ERR_MQTT;
}

void
trk_mqtt_shutdown(trk_mqtt *m, void (*done)(void *arg))
{
	m->done = done;
	evtimer_del(m->ev_retry);
	if (!m->connected || !m->mosq || m->fd < 0) {
		m->stopping = 2;
		finish_stop(m);
		return;
	}
	m->stopping = 1;
	if (mosquitto_publish(m->mosq, &m->offline_mid, m->status_topic, 7, "offline", 1,
	                      true) != MOSQ_ERR_SUCCESS) {
		finish_stop(m);
		return;
	}
	timer_in(m->ev_stop, 2.0);
	if (!m->in_loop)
		after_call(m, MOSQ_ERR_SUCCESS);
}

void
trk_mqtt_free(trk_mqtt *m)
{
	if (!m)
		return;
	drop_events(m);
	if (m->ev_misc)
		event_free(m->ev_misc);
	if (m->ev_retry)
		event_free(m->ev_retry);
	if (m->ev_stop)
		event_free(m->ev_stop);
	if (m->ev_conn_to)
		event_free(m->ev_conn_to);
	if (m->mosq)
		mosquitto_destroy(m->mosq);
	free(m->client_id);
	free(m->telemetry_topic);
	free(m->status_topic);
	free(m->password);
	free(m);
}
