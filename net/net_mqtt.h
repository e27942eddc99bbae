/*
 * net_mqtt.h - libmosquitto driven from a libevent loop (net_mqtt.c): a
 * persistent QoS 1 session (subscriptions optional), reading paused on
 * demand (the gateway's spool is full), QoS 1 publishes with their PUBACK
 * reported. Used by the gateway and hazgate-jt808.
 */
#ifndef HAZGATE_NET_MQTT_H
#define HAZGATE_NET_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>


struct event_base;
struct net_mqtt;

#define NET_MQTT_SUB_MAX 16
#define NET_MQTT_STR_MAX 128
#define NET_MQTT_TOPIC_MAX 200
/* [mqtt] host: one broker, or a list of them (NET_MQTT_BROKERS_MAX at most). */
#define NET_MQTT_BROKERS_MAX 8
#define NET_MQTT_HOSTS_MAX 512

/* One broker of a list. */
struct net_mqtt_broker {
	char host[NET_MQTT_STR_MAX];
	int port;
};

/*
 * Split a broker list, "HOST[:PORT][, HOST[:PORT]...]" (an IPv6 address
 * with a port in brackets, "[::1]:1883"; a bare one takes the default),
 * into out (cap entries); a broker without a port gets default_port.
 * Returns the count (>= 1), or -1 with a static reason in *why ("[mqtt]
 * host: ..."): an empty
 * item, a port out of 1..65535, a name too long, more than cap brokers.
 * Pure (no I/O): the configuration's check and the adapter both use it.
 */
static inline int
net_mqtt_brokers(const char *list, int default_port, struct net_mqtt_broker *out, int cap,
		 const char **why)
{
	int n = 0;
	const char *p = list;

	for (;;) {
		const char *end, *colon = NULL, *h;
		size_t hlen;
		long port = default_port;

		while (*p == ' ' || *p == '\t')
			p++;
		end = p;
		while (*end && *end != ',')
			end++;
		h = p;
		hlen = (size_t)(end - p);
		while (hlen > 0 && (h[hlen - 1] == ' ' || h[hlen - 1] == '\t'))
			hlen--;
		if (hlen == 0) {
			*why = "[mqtt] host: an empty broker in the list";
			return -1;
		}
		if (h[0] == '[') {
			const char *rb = memchr(h, ']', hlen);

			if (!rb) {
				*why = "[mqtt] host: an IPv6 address without its closing bracket";
				return -1;
			}
			if (rb + 1 < h + hlen) {
				if (rb[1] != ':') {
					*why = "[mqtt] host: text after an IPv6 address's bracket";
					return -1;
				}
				colon = rb + 1;
			}
			h++;
			hlen = (size_t)(rb - h);
		} else {
			const char *c1 = memchr(h, ':', hlen);

			/* one colon: host:port; more: a bare IPv6 address */
			if (c1 && !memchr(c1 + 1, ':', hlen - (size_t)(c1 + 1 - h))) {
				colon = c1;
				hlen = (size_t)(c1 - h);
			}
		}
		if (colon) {
			const char *q = colon + 1;
			const char *qend = p + (end - p);

			while (qend > q && (qend[-1] == ' ' || qend[-1] == '\t'))
				qend--;
			port = 0;
			if (q == qend) {
				*why = "[mqtt] host: a broker's port is empty";
				return -1;
			}
			for (; q < qend; q++) {
				if (*q < '0' || *q > '9' || port > 65535) {
					*why = "[mqtt] host: a broker's port is not a number in "
					       "1..65535";
					return -1;
				}
				port = port * 10 + (*q - '0');
			}
		}
		if (port < 1 || port > 65535) {
			*why = "[mqtt] host: a broker's port is not a number in 1..65535";
			return -1;
		}
		if (hlen == 0 || hlen >= sizeof(out[0].host)) {
			*why = hlen ? "[mqtt] host: a broker's name is too long"
				    : "[mqtt] host: a broker without a host";
			return -1;
		}
		if (n == cap) {
			*why = "[mqtt] host: too many brokers in the list";
			return -1;
		}
		memcpy(out[n].host, h, hlen);
		out[n].host[hlen] = '\0';
		out[n].port = (int)port;
		n++;
		if (!*end)
			return n;
		p = end + 1;
	}
}

/* A broker connection's settings; strings are borrowed (never NULL: ""
 * means unset) and must outlive the adapter. */
struct net_mqtt_conf {
	/* One broker, or a list that the adapter walks: a link that is lost
	 * or cannot be made moves to the next broker (the session follows when
	 * the brokers share it, as a NATS cluster's nodes do). port: the
	 * default for a broker given without one. */
	const char *host;
	int port;
	const char *client_id;          /* the persistent session's */
	int protocol;                   /* 3 = MQTT 3.1.1, 5 = MQTT 5 */
	int keepalive_s;
	const char *username;
	const char *password_file;
	const char *tls_ca;             /* TLS on when set */
	const char *tls_cert;
	const char *tls_key;
	const char *subs[NET_MQTT_SUB_MAX];   /* QoS 1 filters, re-sent on every connect */
	size_t nsubs;
	const char *status_topic;       /* STATUS_TOPIC/<client_id> online/offline */
	int reconnect_min_ms;
	int reconnect_max_ms;
	/* Read coalescing, microseconds (0 = off; at most
	 * NET_MQTT_COALESCE_MAX_US): after a read event that brought fewer
	 * than NET_MQTT_COALESCE_FEW messages, the socket is left to fill
	 * this long before it is read again, so that a low rate costs one
	 * wake-up for several messages rather than one each. A read that
	 * then finds nothing goes back to waiting for readiness (an idle
	 * link costs no timer). Adds at most this much to a message's
	 * delivery (and its PUBACK); at a high rate, where reads come in
	 * bursts, nothing. A broker that lets fewer than
	 * NET_MQTT_COALESCE_FEW messages be in flight to this client
	 * (mosquitto's max_inflight_messages, 20 by default) would cap the
	 * rate at that many per coalesce_us: lower it or turn it off there. */
	int coalesce_us;
	/* Acknowledge after the owner's commit (partitioned gateways): after
	 * a read burst that brought messages the adapter holds, neither
	 * reading nor writing, so that those messages' PUBACKs (queued by
	 * libmosquitto) wait; on_held reports it and net_mqtt_release lets
	 * them go once the owner has committed what it read. A link lost or
	 * a net_mqtt_disconnect while held sends none of them: the broker
	 * sends those messages again. The keepalive waits too. */
	bool hold_acks;
};

#define NET_MQTT_COALESCE_FEW 16
#define NET_MQTT_COALESCE_MAX_US 10000

struct net_mqtt_cbs {
	/* A message; topic and payload are borrowed for the call (the
	 * decide step finds its format from the topic). */
	void (*on_message)(void *arg, const char *topic, const void *payload, size_t len);
	void (*on_state)(void *arg, bool connected);
	/* The broker acknowledged (PUBACK) the publish that returned mid. May
	 * be NULL. */
	void (*on_published)(void *arg, int mid);
	/* conf.hold_acks: a read burst brought messages and the adapter now
	 * holds (see there) until net_mqtt_release. May be NULL. */
	void (*on_held)(void *arg);
	void *arg;
};

/* Returns NULL (logged) when the library refuses the options. cfg and
 * cbs are copied (cfg's strings are borrowed). */
struct net_mqtt *net_mqtt_new(struct event_base *base, const struct net_mqtt_conf *cfg,
                              const struct net_mqtt_cbs *cbs);
void net_mqtt_free(struct net_mqtt *m);
/* Connect (asynchronously) and keep connected until net_mqtt_disconnect. */
void net_mqtt_start(struct net_mqtt *m);
/* Stop/resume reading: while paused, messages stay with the broker. */
void net_mqtt_pause(struct net_mqtt *m, bool paused);
bool net_mqtt_connected(const struct net_mqtt *m);
/* conf.hold_acks: whether a burst's PUBACKs are held; release them (they
 * go out, reading resumes). A no-op when nothing is held. */
bool net_mqtt_held(const struct net_mqtt *m);
void net_mqtt_release(struct net_mqtt *m);
/* net_mqtt_publish's refusal of a payload too large for MQTT (256 MiB) or
 * for the broker's maximum packet size (MQTT 5): sending it again will not
 * help. */
#define NET_MQTT_ETOOBIG (-2)

/* QoS 1 publish; returns its message id (> 0: on_published gets it with
 * the PUBACK), NET_MQTT_ETOOBIG, or -1 (not queued: out of memory, bad
 * topic). While disconnected the message is queued by libmosquitto and
 * sent on reconnect (same session); libmosquitto also sends again, with the
 * same mid, what was not acknowledged when a link was lost. */
int net_mqtt_publish(struct net_mqtt *m, const char *topic, const void *payload, size_t len,
                    bool retain);
/* Publishes not yet acknowledged by the broker. */
int net_mqtt_unacked(const struct net_mqtt *m);
/* Publish offline (retained) and disconnect cleanly. */
void net_mqtt_disconnect(struct net_mqtt *m);
bool net_mqtt_paused(const struct net_mqtt *m);

#endif
