/*
 * ld_mqtt.c: libmosquitto driven from a poll() loop in one thread, for the
 * publisher pump and the counting subscriber of hazgate-load. Blocking TCP
 * connect (this is a tool); everything after it goes through ld_mqtt_turn.
 */
#include "loadgen/ld-internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "common/hz_clock.h"

int
ld_mqtt_open(const struct ld_mqtt_opts *mo, bool clean, void *obj, struct mosquitto **out)
{
	struct mosquitto *mosq;

	mosq = mosquitto_new(mo->client_id, clean, obj);
	if (mosq == NULL) {
		fprintf(stderr, "hazgate-load: mosquitto_new: %s\n", strerror(errno));
		return LD_ERR_MQTT;
	}
	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION,
	                     mo->protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
	*out = mosq;
	return LD_OK;
}

int
ld_mqtt_turn(struct mosquitto *mosq, int64_t timeout_us, const uint64_t *progress)
{
	struct pollfd pfd;
	struct timespec ts;
	int rc = MOSQ_ERR_SUCCESS, n;

	pfd.fd = mosquitto_socket(mosq);
	if (pfd.fd < 0)
		return LD_ERR_MQTT;
	pfd.events = POLLIN;
	if (mosquitto_want_write(mosq))
		pfd.events |= POLLOUT;
	pfd.revents = 0;
	if (timeout_us < 0)
		timeout_us = 0;
	ts.tv_sec = timeout_us / 1000000;
	ts.tv_nsec = (timeout_us % 1000000) * 1000;
	n = ppoll(&pfd, 1, &ts, NULL);
	if (n < 0 && errno != EINTR)
		return LD_ERR_MQTT;
	if (n > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP))) {
		for (int i = 0; i < 256; i++) {
			uint64_t before = *progress;
			rc = mosquitto_loop_read(mosq, 1);
			if (rc != MOSQ_ERR_SUCCESS || *progress == before)
				break;
		}
		if (rc != MOSQ_ERR_SUCCESS)
			return LD_ERR_MQTT;
	}
	if (mosquitto_want_write(mosq)) {
		rc = mosquitto_loop_write(mosq, 1);
		if (rc != MOSQ_ERR_SUCCESS)
			return LD_ERR_MQTT;
	}
	rc = mosquitto_loop_misc(mosq);
	if (rc != MOSQ_ERR_SUCCESS)
		return LD_ERR_MQTT;
	return LD_OK;
}

int
ld_mqtt_connect(struct mosquitto *mosq, const struct ld_mqtt_opts *mo,
                const bool *connected, const int *connack, const uint64_t *progress)
{
	int rc;
	int64_t deadline = hz_mono_us() + 10 * 1000000;

	rc = mosquitto_connect(mosq, mo->host, mo->port, mo->keepalive);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "hazgate-load: cannot connect to %s:%d: %s\n", mo->host, mo->port,
		        rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		return LD_ERR_MQTT;
	}
	while (!*connected && *connack == -1 && hz_mono_us() < deadline && !ld_stop) {
		if (ld_mqtt_turn(mosq, 100000, progress) != LD_OK)
			break;
	}
	if (!*connected) {
		fprintf(stderr, "hazgate-load: broker %s:%d refused or did not answer: %s\n",
		        mo->host, mo->port,
		        *connack > 0 ? mosquitto_connack_string(*connack) : "no CONNACK");
		return LD_ERR_MQTT;
	}
	return LD_OK;
}
