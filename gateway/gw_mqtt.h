/*
 * gw_mqtt.h - libmosquitto driven from the daemon's libevent loop
 * (gw_mqtt.c): a persistent QoS 1 session, reading paused while the spool
 * is full, publishes of the alerts.
 */
#ifndef HAZGATE_GW_MQTT_H
#define HAZGATE_GW_MQTT_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/gw_config.h"

struct event_base;
struct gw_mqtt;

struct gw_mqtt_cbs {
	/* A message; topic and payload are borrowed for the call (the
	 * decide step finds its format from the topic). */
	void (*on_message)(void *arg, const char *topic, const void *payload, size_t len);
	void (*on_state)(void *arg, bool connected);
	void *arg;
};

/* Returns NULL (logged) when the library refuses the options. cfg is
 * borrowed and must outlive the gw_mqtt; cbs is copied. */
struct gw_mqtt *gw_mqtt_new(struct event_base *base, const struct gw_config *cfg,
                            const struct gw_mqtt_cbs *cbs);
void gw_mqtt_free(struct gw_mqtt *m);
/* Connect (asynchronously) and keep connected until gw_mqtt_disconnect. */
void gw_mqtt_start(struct gw_mqtt *m);
/* Stop/resume reading: while paused, messages stay with the broker. */
void gw_mqtt_pause(struct gw_mqtt *m, bool paused);
bool gw_mqtt_connected(const struct gw_mqtt *m);
/* QoS 1 publish; returns 0 or -1 (not queued). */
int gw_mqtt_publish(struct gw_mqtt *m, const char *topic, const void *payload, size_t len,
                    bool retain);
/* Publishes not yet acknowledged by the broker. */
int gw_mqtt_unacked(const struct gw_mqtt *m);
/* Publish offline (retained) and disconnect cleanly. */
void gw_mqtt_disconnect(struct gw_mqtt *m);
bool gw_mqtt_paused(const struct gw_mqtt *m);

#endif
