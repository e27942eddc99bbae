/*
 * ld_pub.c: the publisher pump of hazgate-load.
 *
 * One thread drives libmosquitto from its own poll() loop (no loop_start).
 * QoS 1 at speed needs many messages in flight: the pump keeps up to
 * `inflight` messages unacknowledged (and tells libmosquitto the same limit,
 * MOSQ_OPT_SEND_MAXIMUM, so that it never queues behind our back), counts
 * PUBACKs in on_publish and times each one by message id. Pacing (--rate, or
 * a source's due times) is a schedule on the monotonic clock, so a slow
 * moment is caught up rather than lost.
 * Limits: a lost connection ends the run with LD_ERR_MQTT (a tool, not the
 * daemon); message ids wrap at 65535, so the window is capped below that.
 */
#include "loadgen/ld.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

#include "common/hz_clock.h"
#include "loadgen/ld-internal.h"

#define LD_MAX_WINDOW 60000

struct pub {
	struct mosquitto *mosq;
	bool connected;
	int connack;
	bool lost;
	uint64_t sent, acked;
	int64_t sent_at[65536];   /* monotonic µs of each message id in flight */
	struct ld_samples *rtt;
	int64_t last_ack_mono;
};

static void
on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct pub *p = obj;

	(void)mosq;
	p->connack = rc;
	p->connected = rc == 0;
}

static void
on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct pub *p = obj;

	(void)mosq;
	(void)rc;
	p->connected = false;
	p->lost = true;
}

static void
on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	struct pub *p = obj;
	int64_t now = hz_mono_us();

	(void)mosq;
	p->acked++;
	p->last_ack_mono = now;
	ld_samples_add(p->rtt, now - p->sent_at[mid & 0xffff]);
}

static int
dry_run(const struct ld_pub_opts *po, struct ld_source *src, FILE *out)
{
	struct ld_msg m;
	uint64_t n = 0;
	int rc;

	(void)po;
	src->start(src->ctx, hz_now_us());
	while ((rc = src->next(src->ctx, &m)) == 1) {
		fputs(m.topic, stdout);
		putchar('\t');
		fwrite(m.payload, 1, m.payload_len, stdout);
		putchar('\n');
		n++;
	}
	if (fflush(stdout) != 0)
		return LD_ERR_IO;
	fprintf(out, "messages=%" PRIu64 "\n", n);
	return rc < 0 ? -rc : LD_OK;
}

int
ld_pub_run(const struct ld_mqtt_opts *mo, const struct ld_pub_opts *po,
           struct ld_source *src, FILE *out)
{
	struct pub *p = NULL;
	FILE *log = NULL;
	struct ld_msg m;
	int rc = LD_OK, src_rc, window = po->inflight;
	bool have = false, more = true;
	int64_t t0, wall0, first_pub = -1, last_pub = 0, end, inflight_max = 0, now;
	uint64_t inflight_sum = 0, inflight_n = 0, full_waits = 0;
	double secs;

	if (po->dry_run)
		return dry_run(po, src, out);
	if (window < 1)
		window = 1;
	if (window > LD_MAX_WINDOW)
		window = LD_MAX_WINDOW;
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->rtt = ld_samples_new()) == NULL) {
		rc = LD_ERR_NOMEM;
		goto done;
	}
	p->connack = -1;
	if (po->publog != NULL && (log = fopen(po->publog, "w")) == NULL) {
		fprintf(stderr, "hazgate-load: %s: %s\n", po->publog, strerror(errno));
		rc = LD_ERR_IO;
		goto done;
	}
	if ((rc = ld_mqtt_open(mo, true, p, &p->mosq)) != LD_OK)
		goto done;
	mosquitto_connect_callback_set(p->mosq, on_connect);
	mosquitto_disconnect_callback_set(p->mosq, on_disconnect);
	mosquitto_publish_callback_set(p->mosq, on_publish);
	/* Tell libmosquitto the window, so it sends at once instead of queueing. */
	mosquitto_int_option(p->mosq, MOSQ_OPT_SEND_MAXIMUM, window);
	if ((rc = ld_mqtt_connect(p->mosq, mo, &p->connected, &p->connack, &p->acked)) != LD_OK)
		goto done;

	t0 = hz_mono_us();
	wall0 = hz_now_us();
	src->start(src->ctx, wall0);
	for (;;) {
		int64_t wait = 50000;

		/* A signal stops publishing; what is in flight is still awaited. */
		if (ld_stop)
			more = false;

		now = hz_mono_us();
		/* Send what is due while the window has room. */
		while (more && (int64_t)(p->sent - p->acked) < window) {
			int64_t due;
			int mid, prc;

			if (!have) {
				src_rc = src->next(src->ctx, &m);
				if (src_rc < 0) {
					rc = -src_rc;
					goto done;
				}
				if (src_rc == 0) {
					more = false;
					break;
				}
				have = true;
			}
			due = m.due_us >= 0 ? t0 + m.due_us : t0;
			if (po->rate > 0) {
				int64_t paced = t0 + (int64_t)((double)p->sent * 1e6 / po->rate);
				if (paced > due)
					due = paced;
			}
			if (due > now) {
				now = hz_mono_us();
				if (due > now) {
					wait = due - now;
					break;
				}
			}
			prc = mosquitto_publish(p->mosq, &mid, m.topic, (int)m.payload_len, m.payload,
			                        mo->qos, false);
			if (prc != MOSQ_ERR_SUCCESS) {
				fprintf(stderr, "hazgate-load: publish: %s\n", mosquitto_strerror(prc));
				rc = LD_ERR_MQTT;
				goto done;
			}
			now = hz_mono_us();
			p->sent_at[mid & 0xffff] = now;
			if (first_pub < 0)
				first_pub = now;
			last_pub = now;
			p->sent++;
			have = false;
			if (log != NULL && m.vehicle != NULL)
				fprintf(log, "%s\t%" PRId64 "\t%" PRId64 "\n", m.vehicle, m.ts_ms,
				        wall0 + (now - t0));
		}
		if ((int64_t)(p->sent - p->acked) > inflight_max)
			inflight_max = (int64_t)(p->sent - p->acked);
		if ((int64_t)(p->sent - p->acked) >= window)
			full_waits++;
		inflight_sum += p->sent - p->acked;
		inflight_n++;
		if (!more && p->acked >= p->sent)
			break;
		if (!more) {
			int64_t quiet = hz_mono_us() - (p->last_ack_mono > last_pub ? p->last_ack_mono : last_pub);
			if (po->ack_timeout_s > 0 && quiet > (int64_t)(po->ack_timeout_s * 1e6)) {
				fprintf(stderr, "hazgate-load: %" PRIu64 " messages not acknowledged\n",
				        p->sent - p->acked);
				rc = LD_ERR_TIMEOUT;
				break;
			}
		}
		if ((int64_t)(p->sent - p->acked) >= window || !more)
			wait = 50000;
		if ((rc = ld_mqtt_turn(p->mosq, wait, &p->acked)) != LD_OK || p->lost) {
			fprintf(stderr, "hazgate-load: connection to the broker lost after %" PRIu64
			        " messages (%" PRIu64 " acknowledged)\n", p->sent, p->acked);
			rc = LD_ERR_MQTT;
			break;
		}
	}
	end = p->last_ack_mono > last_pub ? p->last_ack_mono : last_pub;
	if (first_pub < 0)
		first_pub = end = t0;
	secs = (double)(end - first_pub) / 1e6;
	fprintf(out, "messages=%" PRIu64 "\n", p->sent);
	fprintf(out, "acked=%" PRIu64 "\n", p->acked);
	fprintf(out, "seconds=%.3f\n", secs);
	fprintf(out, "msg_per_s=%.0f\n", secs > 0 ? (double)p->acked / secs : 0.0);
	fprintf(out, "start_us=%" PRId64 "\n", wall0 + (first_pub - t0));
	fprintf(out, "end_us=%" PRId64 "\n", wall0 + (end - t0));
	fprintf(out, "inflight_window=%d\n", window);
	fprintf(out, "inflight_max=%" PRId64 "\n", inflight_max);
	fprintf(out, "inflight_mean=%.1f\n", inflight_n ? (double)inflight_sum / (double)inflight_n : 0.0);
	fprintf(out, "window_full_waits=%" PRIu64 "\n", full_waits);
	fprintf(out, "puback_p50_us=%" PRId64 "\n", ld_samples_pct(p->rtt, 50));
	fprintf(out, "puback_p99_us=%" PRId64 "\n", ld_samples_pct(p->rtt, 99));
	fprintf(out, "puback_max_us=%" PRId64 "\n", ld_samples_pct(p->rtt, 100));
	if (rc == LD_OK && p->acked < p->sent)
		rc = LD_ERR_TIMEOUT;
	if (p->connected)
		mosquitto_disconnect(p->mosq);
done:
	if (log != NULL && fclose(log) != 0 && rc == LD_OK)
		rc = LD_ERR_IO;
	if (p != NULL) {
		if (p->mosq != NULL)
			mosquitto_destroy(p->mosq);
		ld_samples_free(p->rtt);
		free(p);
	}
	return rc;
}
