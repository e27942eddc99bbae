/*
 * mqtt-die.c - test tool: a net_mqtt client (the adapter every daemon
 * uses) that SIGKILLs itself inside its first message callback, so that
 * integration tests can see whether the broker was told the message was
 * taken (PUBACK) before the program had it: the gateway's inbox journal is
 * the first thing its callback does, so a PUBACK written before the
 * callback loses a message to a SIGKILL in between.
 *
 *   mqtt-die HOST PORT CLIENT_ID FILTER
 *
 * Connects with a persistent session (CLIENT_ID, clean session off),
 * subscribes FILTER at QoS 1 and runs the loop; at the first message it
 * raises SIGKILL. Exits 1 after 10 s without a message. Afterwards the
 * same session (another client with CLIENT_ID) must get that message again.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>
#include <mosquitto.h>

#include "net/net_mqtt.h"

static void
on_message(void *arg, const char *topic, const void *payload, size_t len)
{
	(void)arg;
	(void)payload;
	fprintf(stderr, "mqtt-die: %s, %zu bytes: SIGKILL\n", topic, len);
	raise(SIGKILL);
}

int
main(int argc, char **argv)
{
	struct event_base *base;
	struct net_mqtt *m;
	struct net_mqtt_conf c = { 0 };
	struct net_mqtt_cbs cbs = { .on_message = on_message };
	struct timeval ten = { 10, 0 };

	if (argc != 5) {
		fprintf(stderr, "usage: mqtt-die HOST PORT CLIENT_ID FILTER\n");
		return 2;
	}
	c.host = argv[1];
	c.port = atoi(argv[2]);
	c.client_id = argv[3];
	c.protocol = 3;
	c.keepalive_s = 30;
	c.username = c.password_file = c.tls_ca = c.tls_cert = c.tls_key = "";
	c.subs[0] = argv[4];
	c.nsubs = 1;
	c.status_topic = "mqtt-die/status";
	c.reconnect_min_ms = 100;
	c.reconnect_max_ms = 1000;
	mosquitto_lib_init();
	base = event_base_new();
	if (!base || !(m = net_mqtt_new(base, &c, &cbs)))
		return 1;
	net_mqtt_start(m);
	event_base_loopexit(base, &ten);
	event_base_dispatch(base);
	fprintf(stderr, "mqtt-die: no message in 10 s\n");
	net_mqtt_free(m);
	event_base_free(base);
	return 1;
}
