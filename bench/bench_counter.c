/*
 * bench_counter.c - the baseline of bench/bench_gateway.sh (issue 15): a
 * bare libmosquitto subscriber that only counts. A persistent QoS 1
 * session like the gateway's (fixed client id, clean session off), driven
 * by libmosquitto's own mosquitto_loop_forever, with a message callback
 * that adds one. Whatever a subscriber must spend to take a QoS 1 message
 * (its reads, the PUBACK, the wake-up) is in its figure; anything the
 * gateway spends beyond it is the gateway's own work.
 *
 *   bench_counter HOST PORT CLIENT_ID TOPIC_FILTER COUNT
 *
 * Prints "subscribed=1" on stderr once the broker has granted the
 * subscription, then, after COUNT messages, on stdout:
 *   messages=N
 *   cpu_ns=T        this process's CPU time (user + system) from the
 *                   subscription's grant to the COUNT-th message
 *   cpu_ns_per_msg=T/N
 * and exits 0; 1 on a broker error.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <mosquitto.h>

struct counter {
	const char *filter;
	uint64_t want, n;
	int64_t cpu0;
	bool failed;
};

static int64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct counter *c = obj;

	if (rc != 0 || mosquitto_subscribe(mosq, NULL, c->filter, 1) != MOSQ_ERR_SUCCESS) {
		c->failed = true;
		mosquitto_disconnect(mosq);
	}
}

static void
on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
	struct counter *c = obj;

	(void)mosq;
	(void)mid;
	(void)n;
	(void)granted;
	c->cpu0 = cpu_ns();
	fprintf(stderr, "subscribed=1\n");
}

static void
on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	struct counter *c = obj;

	(void)msg;
	if (++c->n == c->want)
		mosquitto_disconnect(mosq);
}

int
main(int argc, char **argv)
{
	struct counter c = { 0 };
	struct mosquitto *mosq;
	int64_t cpu;
	int rc;

	if (argc != 6) {
		fprintf(stderr, "usage: bench_counter HOST PORT CLIENT_ID TOPIC_FILTER COUNT\n");
		return 2;
	}
	c.filter = argv[4];
	c.want = strtoull(argv[5], NULL, 10);
	mosquitto_lib_init();
	mosq = mosquitto_new(argv[3], false, &c);
	if (!mosq) {
		fprintf(stderr, "bench_counter: mosquitto_new failed\n");
		return 1;
	}
	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_subscribe_callback_set(mosq, on_subscribe);
	mosquitto_message_callback_set(mosq, on_message);
	rc = mosquitto_connect(mosq, argv[1], atoi(argv[2]), 60);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_loop_forever(mosq, 1000, 1);
	cpu = cpu_ns() - c.cpu0;
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
	if (c.failed || c.n < c.want) {
		fprintf(stderr, "bench_counter: %" PRIu64 " of %" PRIu64 " messages (%s)\n", c.n,
			c.want, mosquitto_strerror(rc));
		return 1;
	}
	printf("messages=%" PRIu64 "\ncpu_ns=%" PRId64 "\ncpu_ns_per_msg=%.0f\n", c.n, cpu,
	       (double)cpu / (double)c.n);
	return 0;
}
