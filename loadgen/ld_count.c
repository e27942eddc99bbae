/*
 * ld_count.c: the counting subscriber of hazgate-load.
 *
 * Subscribes (QoS 1 unless --qos says otherwise) with a persistent session
 * (fixed client id, clean session off) and does nothing but count, so that
 * "load -> count" is the ceiling of
 * the harness: what broker and load generator can move on this machine when
 * the consumer costs nothing. Optional extras, off by default: dump payloads
 * to a file (exact-delivery tests), sleep per message (a slow subscriber),
 * subscribe-only (leave a persistent session behind for the broker to fill),
 * and publish-to-receive latency of alerts matched by (vehicle, ts) against
 * the load's publish log.
 * Limits: messages are counted, not de-duplicated (QoS 1 may redeliver).
 */
#include "loadgen/ld-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/hz_clock.h"

struct cnt {
	const struct ld_count_opts *co;
	int qos;
	bool connected, subscribed, lost;
	int connack;
	uint64_t n, bytes;
	int64_t first_wall, last_wall, last_mono;
	FILE *dump;
	/* latency: (fix key, receive wall µs) of each alert received */
	uint64_t *keys;
	int64_t *recv;
	size_t nkeys, capkeys;
	uint64_t unparsed;
	int sub_mid;
};

static void
on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct cnt *c = obj;

	c->connack = rc;
	c->connected = rc == 0;
	if (rc == 0)
		mosquitto_subscribe(mosq, &c->sub_mid, c->co->topic, c->qos);
}

static void
on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct cnt *c = obj;

	(void)mosq;
	(void)rc;
	c->connected = false;
	c->lost = true;
}

static void
on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
	struct cnt *c = obj;

	(void)mosq;
	(void)mid;
	if (n >= 1 && granted[0] <= 2)
		c->subscribed = true;
	else
		fprintf(stderr, "hazgate-load: subscription to %s refused\n", c->co->topic);
}

/* Remember the (vehicle, ts) of an alert for the latency join. */
static void
note_latency(struct cnt *c, const struct mosquitto_message *m, int64_t now)
{
	json_t *root;
	json_error_t e;
	const char *veh, *ts;
	int64_t ms;

	root = json_loadb(m->payload, (size_t)m->payloadlen, 0, &e);
	veh = json_string_value(json_object_get(root, "vehicle"));
	ts = json_string_value(json_object_get(root, "ts"));
	if (veh == NULL || ts == NULL || ld_time_parse(ts, strlen(ts), &ms) != LD_OK) {
		c->unparsed++;
		goto done;
	}
	if (c->nkeys == c->capkeys) {
		size_t cap = c->capkeys ? c->capkeys * 2 : 1024;
		uint64_t *k = realloc(c->keys, cap * sizeof(*k));
		if (k == NULL)
			goto done;
		c->keys = k;
		int64_t *r = realloc(c->recv, cap * sizeof(*r));
		if (r == NULL)
			goto done;
		c->recv = r;
		c->capkeys = cap;
	}
	c->keys[c->nkeys] = ld_fix_key(veh, strlen(veh), ms);
	c->recv[c->nkeys++] = now;
done:
	json_decref(root);
}

static void
on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
	struct cnt *c = obj;
	int64_t now = hz_now_us();

	(void)mosq;
	if (c->n == 0)
		c->first_wall = now;
	c->last_wall = now;
	c->last_mono = hz_mono_us();
	c->n++;
	c->bytes += (uint64_t)m->payloadlen;
	if (c->dump != NULL) {
		fwrite(m->payload, 1, (size_t)m->payloadlen, c->dump);
		fputc('\n', c->dump);
	}
	if (c->co->latency != NULL)
		note_latency(c, m, now);
	if (c->co->delay_us > 0)
		usleep((useconds_t)c->co->delay_us);
}

/* An open-addressing map from fix key to the first publish time. */
struct pubmap {
	uint64_t *k;
	int64_t *v;
	size_t mask;
};

static int
pubmap_load(struct pubmap *pm, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, n = 0, size = 1024;
	ssize_t len;
	int rc = LD_OK;

	if (f == NULL) {
		fprintf(stderr, "hazgate-load: %s: %s\n", path, strerror(errno));
		return LD_ERR_IO;
	}
	while (getline(&line, &cap, f) > 0)
		n++;
	while (size < n * 2 + 16)
		size *= 2;
	pm->mask = size - 1;
	pm->k = calloc(size, sizeof(*pm->k));
	pm->v = calloc(size, sizeof(*pm->v));
	if (pm->k == NULL || pm->v == NULL) {
		rc = LD_ERR_NOMEM;
		goto done;
	}
	rewind(f);
	while ((len = getline(&line, &cap, f)) > 0) {
		char *t1 = memchr(line, '\t', (size_t)len), *t2;
		int64_t ts, pub;
		uint64_t key;
		size_t i;

		if (t1 == NULL || (t2 = strchr(t1 + 1, '\t')) == NULL)
			continue;
		ts = strtoll(t1 + 1, NULL, 10);
		pub = strtoll(t2 + 1, NULL, 10);
		key = ld_fix_key(line, (size_t)(t1 - line), ts);
		if (key == 0)
			key = 1;
		for (i = key & pm->mask; pm->k[i] != 0 && pm->k[i] != key; i = (i + 1) & pm->mask)
			;
		if (pm->k[i] == 0) {
			pm->k[i] = key;
			pm->v[i] = pub;
		}
	}
done:
	free(line);
	fclose(f);
	return rc;
}

static bool
pubmap_get(const struct pubmap *pm, uint64_t key, int64_t *v)
{
	if (key == 0)
		key = 1;
	for (size_t i = key & pm->mask; pm->k[i] != 0; i = (i + 1) & pm->mask) {
		if (pm->k[i] == key) {
			*v = pm->v[i];
			return true;
		}
	}
	return false;
}

static int
report_latency(struct cnt *c, FILE *out)
{
	struct pubmap pm = {0};
	struct ld_samples *s = ld_samples_new();
	uint64_t unmatched = 0;
	int rc;

	if (s == NULL)
		return LD_ERR_NOMEM;
	if ((rc = pubmap_load(&pm, c->co->latency)) != LD_OK)
		goto done;
	for (size_t i = 0; i < c->nkeys; i++) {
		int64_t pub;
		if (pubmap_get(&pm, c->keys[i], &pub))
			ld_samples_add(s, c->recv[i] - pub);
		else
			unmatched++;
	}
	fprintf(out, "latency_matched=%zu\n", ld_samples_count(s));
	fprintf(out, "latency_unmatched=%" PRIu64 "\n", unmatched + c->unparsed);
	fprintf(out, "latency_p50_ms=%.1f\n", (double)ld_samples_pct(s, 50) / 1000.0);
	fprintf(out, "latency_p99_ms=%.1f\n", (double)ld_samples_pct(s, 99) / 1000.0);
	fprintf(out, "latency_max_ms=%.1f\n", (double)ld_samples_pct(s, 100) / 1000.0);
done:
	free(pm.k);
	free(pm.v);
	ld_samples_free(s);
	return rc;
}

int
ld_count_run(const struct ld_mqtt_opts *mo, const struct ld_count_opts *co, FILE *out)
{
	struct cnt c = {0};
	struct mosquitto *mosq = NULL;
	int rc;
	int64_t start, connected_wall;
	double secs;
	bool timed_out = false;

	c.co = co;
	c.qos = mo->qos;
	c.connack = -1;
	if (co->dump != NULL && (c.dump = fopen(co->dump, "a")) == NULL) {
		fprintf(stderr, "hazgate-load: %s: %s\n", co->dump, strerror(errno));
		return LD_ERR_IO;
	}
	if ((rc = ld_mqtt_open(mo, co->clean, &c, &mosq)) != LD_OK)
		goto done;
	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_disconnect_callback_set(mosq, on_disconnect);
	mosquitto_subscribe_callback_set(mosq, on_subscribe);
	mosquitto_message_callback_set(mosq, on_message);
	start = hz_mono_us();
	if ((rc = ld_mqtt_connect(mosq, mo, &c.connected, &c.connack, &c.n)) != LD_OK)
		goto done;
	connected_wall = hz_now_us();
	/* Wait for SUBACK (queued messages may arrive before it: they count). */
	while (!c.subscribed && !ld_stop && hz_mono_us() - start < 10000000) {
		if ((rc = ld_mqtt_turn(mosq, 100000, &c.n)) != LD_OK || c.lost) {
			rc = LD_ERR_MQTT;
			goto done;
		}
	}
	if (!c.subscribed) {
		fprintf(stderr, "hazgate-load: no SUBACK for %s\n", co->topic);
		rc = LD_ERR_MQTT;
		goto done;
	}
	/* Ready: tests and the bench wait for this line (stderr, unbuffered). */
	fprintf(stderr, "hazgate-load: subscribed to %s\n", co->topic);
	if (co->subscribe_only) {
		fprintf(out, "subscribed=1\nmessages=%" PRIu64 "\n", c.n);
		mosquitto_disconnect(mosq);
		ld_mqtt_turn(mosq, 0, &c.n);
		goto done;
	}
	while (!ld_stop && (co->expect == 0 || c.n < co->expect)) {
		int64_t now = hz_mono_us();
		if (co->timeout_s > 0 && now - start > (int64_t)(co->timeout_s * 1e6)) {
			timed_out = true;
			break;
		}
		if (co->idle_s > 0 && c.n > 0 && now - c.last_mono > (int64_t)(co->idle_s * 1e6))
			break;
		if ((rc = ld_mqtt_turn(mosq, 50000, &c.n)) != LD_OK || c.lost) {
			fprintf(stderr, "hazgate-load: connection to the broker lost after %" PRIu64
			        " messages\n", c.n);
			rc = LD_ERR_MQTT;
			goto figures;
		}
	}
	rc = LD_OK;
	if (co->expect > 0 && c.n < co->expect) {
		fprintf(stderr, "hazgate-load: %s: got %" PRIu64 " of %" PRIu64 " messages\n",
		        timed_out ? "timeout" : "stopped", c.n, co->expect);
		rc = LD_ERR_TIMEOUT;
	}
figures:
	secs = c.n > 1 ? (double)(c.last_wall - c.first_wall) / 1e6 : 0.0;
	fprintf(out, "messages=%" PRIu64 "\n", c.n);
	fprintf(out, "bytes=%" PRIu64 "\n", c.bytes);
	fprintf(out, "seconds=%.3f\n", secs);
	fprintf(out, "msg_per_s=%.0f\n", secs > 0 ? (double)(c.n - 1) / secs : 0.0);
	fprintf(out, "connected_us=%" PRId64 "\n", connected_wall);
	fprintf(out, "first_us=%" PRId64 "\n", c.first_wall);
	fprintf(out, "last_us=%" PRId64 "\n", c.last_wall);
	if (co->latency != NULL) {
		int lrc = report_latency(&c, out);
		if (rc == LD_OK)
			rc = lrc;
	}
	if (c.connected) {
		/* Turn until the DISCONNECT is out (on_disconnect): the PUBACKs
		 * queued before it must reach the broker, or it sends those
		 * messages to this persistent session again. */
		uint64_t n = c.n;

		mosquitto_disconnect(mosq);
		for (int i = 0; i < 40 && c.connected; i++)
			ld_mqtt_turn(mosq, 50000, &n);
	}
done:
	if (c.dump != NULL && fclose(c.dump) != 0 && rc == LD_OK)
		rc = LD_ERR_IO;
	if (mosq != NULL)
		mosquitto_destroy(mosq);
	free(c.keys);
	free(c.recv);
	return rc;
}
