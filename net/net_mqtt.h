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


struct event_base;
struct net_mqtt;

#define NET_MQTT_SUB_MAX 16
#define NET_MQTT_STR_MAX 128
#define NET_MQTT_TOPIC_MAX 200

/* A broker connection's settings; strings are borrowed (never NULL: ""
 * means unset) and must outlive the adapter. */
struct net_mqtt_conf {
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
	 * bursts, nothing. */
	int coalesce_us;
};

#define NET_MQTT_COALESCE_FEW 8
#define NET_MQTT_COALESCE_MAX_US 5000

struct net_mqtt_cbs {
	/* A message; topic and payload are borrowed for the call (the
	 * decide step finds its format from the topic). */
	void (*on_message)(void *arg, const char *topic, const void *payload, size_t len);
	void (*on_state)(void *arg, bool connected);
	/* The broker acknowledged (PUBACK) the publish that returned mid. May
	 * be NULL. */
	void (*on_published)(void *arg, int mid);
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
