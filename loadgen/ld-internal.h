/*
 * ld-internal.h: what the files of loadgen/ share and nobody else needs:
 * the libmosquitto plumbing (ld_mqtt.c) used by the publisher pump and the
 * counting subscriber.
 */
#ifndef HG_LOADGEN_LD_INTERNAL_H
#define HG_LOADGEN_LD_INTERNAL_H

#include <mosquitto.h>

#include "loadgen/ld.h"

/* Create a client (protocol version, TCP_NODELAY) with obj as its callback
 * argument. Returns 0 or LD_ERR_MQTT; *out is the caller's, freed with
 * mosquitto_destroy. */
int ld_mqtt_open(const struct ld_mqtt_opts *mo, bool clean, void *obj, struct mosquitto **out);

/* Connect (blocking TCP connect) and turn the loop until the connect callback
 * has set *connected or *connack (initially -1), at most 10 s. progress: see
 * ld_mqtt_turn. Returns 0 or LD_ERR_MQTT (and says why on stderr). */
int ld_mqtt_connect(struct mosquitto *mosq, const struct ld_mqtt_opts *mo,
                    const bool *connected, const int *connack, const uint64_t *progress);

/* One turn of the loop: wait up to timeout_us for the socket, then read,
 * write and do the housekeeping. libmosquitto reads one packet per
 * mosquitto_loop_read call when it has nothing in flight, so reading goes on
 * while *progress (a counter the callbacks bump) keeps moving, up to a bound,
 * instead of paying a poll() per packet. Returns 0 or LD_ERR_MQTT. */
int ld_mqtt_turn(struct mosquitto *mosq, int64_t timeout_us, const uint64_t *progress);

#endif
