/*
 * trk_main.c - hazgate-tracker: gpsd -> reporting policy -> on-disk queue
 * -> MQTT, in one libevent loop.
 *
 * Every fix the policy keeps is turned into a payload whose seq is the
 * queue's next record id (so seq survives restarts and a gap means a
 * record was dropped or damaged on disk), appended to the queue, and only
 * then published.  Publishing takes records from the queue in order, up to
 * max_inflight at a time; a PUBACK (on_publish with the mid) acknowledges
 * the record in the queue.  When the link drops the queue rewinds and the
 * unacknowledged records go again after the reconnect, before newer ones.
 *
 * Signals: SIGTERM/SIGINT stop reading gpsd, give the backlog up to
 * drain_s to go out, publish the retained "offline", sync the queue and
 * exit 0.
 */
#include "config.h"

#include "tracker/tracker.h"
#include "common/hz_queue.h"
#include "net/net_base.h"

#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mid_map {
	int mid;
	uint64_t id;
};

struct app {
	struct trk_config cfg;
	struct event_base *base;
	hz_queue *q;
	trk_policy *policy;
	trk_gpsd *gpsd;
	trk_mqtt *mqtt;
	struct mid_map *mids;
	int nmids;
	bool stopping;
	struct event *ev_sig_term, *ev_sig_int, *ev_fsync, *ev_drain, *ev_stats;
	uint64_t fixes, reported, published, acked;
	uint64_t max_sent;       /* highest seq published by this process */
};

static void
queue_log(void *arg, enum hz_queue_level level, const char *event, const char *detail)
{
	(void)arg;
	hz_log(level == HZ_QUEUE_LOG_INFO ? HZ_LOG_INFO :
	        level == HZ_QUEUE_LOG_WARN ? HZ_LOG_WARN : HZ_LOG_ERROR,
	        event, "%s", detail);
}

static void begin_stop(struct app *a);

/* Send queued records while the link is up and the window has room. */
static void
pump(struct app *a)
{
	while (trk_mqtt_connected(a->mqtt) && a->nmids < a->cfg.max_inflight) {
		const void *data;
		size_t len;
		uint64_t id;
		int mid, rc = hz_queue_next(a->q, &id, &data, &len);

		if (rc == HZ_QUEUE_EMPTY)
			break;
		if (rc != HZ_QUEUE_OK) {
			hz_log(HZ_LOG_ERROR, "queue_read_failed", "error=\"%s\"",
			        hz_queue_strerror(rc));
			break;
		}
		if (trk_mqtt_publish_telemetry(a->mqtt, data, len, &mid) != TRK_OK)
			break;  /* the link went down: the queue was rewound */
		a->mids[a->nmids].mid = mid;
		a->mids[a->nmids].id = id;
		a->nmids++;
		a->published++;
		/* A record at or below the highest one sent before goes again
		 * because its PUBACK was lost with the link (or the process). */
		hz_log(HZ_LOG_DEBUG, "published", "seq=%" PRIu64 " mid=%d resend=%d", id, mid,
		        id <= a->max_sent);
		if (id > a->max_sent)
			a->max_sent = id;
	}
}

static void
on_connected(void *arg)
{
	pump(arg);
}

static void
on_disconnected(void *arg)
{
	struct app *a = arg;

	a->nmids = 0;
	hz_queue_rewind(a->q);
}

static void
maybe_done_draining(struct app *a)
{
	struct hz_queue_stats st;

	if (!a->stopping || !a->ev_drain)
		return;
	hz_queue_get_stats(a->q, &st);
	if (st.pending == 0 || (a->nmids == 0 && !trk_mqtt_connected(a->mqtt))) {
		evtimer_del(a->ev_drain);
		begin_stop(a);
	}
}

static void
on_published(void *arg, int mid)
{
	struct app *a = arg;

	for (int i = 0; i < a->nmids; i++) {
		if (a->mids[i].mid != mid)
			continue;
		if (hz_queue_ack(a->q, a->mids[i].id) != HZ_QUEUE_OK)
			hz_log(HZ_LOG_ERROR, "queue_ack_failed", "id=%" PRIu64, a->mids[i].id);
		a->acked++;
		a->mids[i] = a->mids[--a->nmids];
		break;
	}
	pump(a);
	maybe_done_draining(a);
}

static void
on_fix(void *arg, const struct trk_fix *f)
{
	struct app *a = arg;
	struct trk_ident ident = { a->cfg.vehicle, a->cfg.un, a->cfg.hazard_class };
	enum trk_report why;
	char *payload = NULL;
	size_t len;
	uint64_t id;
	int rc;

	a->fixes++;
	why = trk_policy_decide(a->policy, f);
	if (why == TRK_REPORT_NONE)
		return;
	rc = trk_payload_build(f, &ident, hz_queue_next_id(a->q), &payload, &len);
	if (rc != TRK_OK) {
		hz_log(HZ_LOG_ERROR, "payload_failed", "error=\"%s\"", trk_strerror(rc));
		return;
	}
	rc = hz_queue_append(a->q, payload, len, &id);
	if (rc != HZ_QUEUE_OK)
		hz_log(HZ_LOG_ERROR, "queue_append_failed", "error=\"%s\" errno=\"%s\"",
		        hz_queue_strerror(rc), strerror(errno));
	else
		hz_log(HZ_LOG_DEBUG, "fix_queued", "seq=%" PRIu64 " reason=%s", id,
		        trk_report_name(why));
	free(payload);
	a->reported++;
	pump(a);
}

static void
stopped(void *arg)
{
	struct app *a = arg;

	event_base_loopbreak(a->base);
}

static void
begin_stop(struct app *a)
{
	if (a->ev_drain) {
		event_free(a->ev_drain);
		a->ev_drain = NULL;
	}
	trk_mqtt_shutdown(a->mqtt, stopped);
}

static void
on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct app *a = arg;
	struct hz_queue_stats st;

	(void)fd;
	(void)what;
	hz_queue_get_stats(a->q, &st);
	hz_log(HZ_LOG_WARN, "drain_timeout", "pending=%" PRIu64 " note=\"kept in the queue\"",
	        st.pending);
	begin_stop(a);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct app *a = arg;
	struct timeval tv;

	(void)what;
	if (a->stopping)
		return;
	a->stopping = true;
	hz_log(HZ_LOG_INFO, "stopping", "signal=%d", (int)sig);
	trk_gpsd_flush(a->gpsd);        /* the last fix read goes in the queue too */
	trk_gpsd_free(a->gpsd);
	a->gpsd = NULL;
	(void)hz_queue_sync(a->q);
	a->ev_drain = evtimer_new(a->base, on_drain_timeout, a);
	if (!a->ev_drain) {
		begin_stop(a);
		return;
	}
	tv.tv_sec = (time_t)a->cfg.drain_s;
	tv.tv_usec = (suseconds_t)((a->cfg.drain_s - (double)tv.tv_sec) * 1e6);
	evtimer_add(a->ev_drain, &tv);
	maybe_done_draining(a);
}

static void
on_fsync(evutil_socket_t fd, short what, void *arg)
{
	struct app *a = arg;

	(void)fd;
	(void)what;
	if (hz_queue_sync(a->q) != HZ_QUEUE_OK)
		hz_log(HZ_LOG_ERROR, "queue_sync_failed", "error=\"%s\"", strerror(errno));
}

static void
log_stats(struct app *a, const char *event)
{
	struct hz_queue_stats st;

	hz_queue_get_stats(a->q, &st);
	hz_log(HZ_LOG_INFO, event,
	        "fixes=%" PRIu64 " reported=%" PRIu64 " published=%" PRIu64 " acked=%" PRIu64
	        " pending=%" PRIu64 " queue_bytes=%" PRIu64 " dropped=%" PRIu64
	        " corrupt=%" PRIu64 " torn=%" PRIu64 " next_seq=%" PRIu64,
	        a->fixes, a->reported, a->published, a->acked, st.pending, st.bytes,
	        st.dropped, st.corrupt, st.torn, st.next_id);
}

static void
on_stats(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	log_stats(arg, "stats");
}

static void
usage(FILE *f)
{
	fprintf(f,
	        "Usage: hazgate-tracker [OPTIONS]\n"
	        "Reads fixes from gpsd and publishes hazgate telemetry over MQTT (QoS 1),\n"
	        "keeping every report in an on-disk queue until the broker acknowledges it.\n\n"
	        "  -c, --config FILE       INI configuration file\n"
	        "      --vehicle ID        vehicle id ([tracker] vehicle)\n"
	        "      --gpsd HOST:PORT    gpsd address ([gpsd] host, port)\n"
	        "      --broker HOST:PORT  MQTT broker ([mqtt] host, port)\n"
	        "      --queue DIR         queue directory ([queue] dir)\n"
	        "      --check-config      validate the configuration, print it, exit\n"
	        "      --version           print the version and exit\n"
	        "  -h, --help              this help and the configuration options\n\n"
	        "Configuration options (command-line options override the file):\n");
	trk_config_print_help(f);
}

/* HOST:PORT (or [v6]:PORT, or HOST alone) into two options. */
static int
set_hostport(struct trk_config *c, const char *sec, const char *arg, char *err, size_t cap)
{
	char buf[512];
	char *host = buf, *port = NULL, *colon;
	int rc;

	snprintf(buf, sizeof buf, "%s", arg);
	if (buf[0] == '[' && (colon = strchr(buf, ']')) != NULL) {
		host = buf + 1;
		*colon = '\0';
		if (colon[1] == ':')
			port = colon + 2;
	} else if ((colon = strrchr(buf, ':')) != NULL && strchr(buf, ':') == colon) {
		*colon = '\0';
		port = colon + 1;
	}
	rc = trk_config_set(c, sec, "host", host, err, cap);
	if (rc == TRK_OK && port)
		rc = trk_config_set(c, sec, "port", port, err, cap);
	return rc;
}

int
main(int argc, char **argv)
{
	enum { O_VEHICLE = 256, O_GPSD, O_BROKER, O_QUEUE, O_CHECK, O_VERSION };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "vehicle", required_argument, NULL, O_VEHICLE },
		{ "gpsd", required_argument, NULL, O_GPSD },
		{ "broker", required_argument, NULL, O_BROKER },
		{ "queue", required_argument, NULL, O_QUEUE },
		{ "check-config", no_argument, NULL, O_CHECK },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct app a;
	const char *config = NULL, *vehicle = NULL, *gpsd = NULL, *broker = NULL, *queue = NULL;
	bool check = false;
	char err[512];
	int opt, rc, status = 1;
	struct hz_queue_options qo;
	struct trk_mqtt_callbacks cb = { on_connected, on_disconnected, on_published };

	memset(&a, 0, sizeof a);
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case O_VEHICLE: vehicle = optarg; break;
		case O_GPSD: gpsd = optarg; break;
		case O_BROKER: broker = optarg; break;
		case O_QUEUE: queue = optarg; break;
		case O_CHECK: check = true; break;
		case O_VERSION: printf("hazgate-tracker %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hazgate-tracker: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (trk_config_init(&a.cfg) != TRK_OK) {
		fprintf(stderr, "hazgate-tracker: out of memory\n");
		return 1;
	}
	rc = config ? trk_config_load(&a.cfg, config, err, sizeof err) : TRK_OK;
	if (rc == TRK_OK && vehicle)
		rc = trk_config_set(&a.cfg, "tracker", "vehicle", vehicle, err, sizeof err);
	if (rc == TRK_OK && gpsd)
		rc = set_hostport(&a.cfg, "gpsd", gpsd, err, sizeof err);
	if (rc == TRK_OK && broker)
		rc = set_hostport(&a.cfg, "mqtt", broker, err, sizeof err);
	if (rc == TRK_OK && queue)
		rc = trk_config_set(&a.cfg, "queue", "dir", queue, err, sizeof err);
	if (rc == TRK_OK)
		rc = trk_config_check(&a.cfg, err, sizeof err);
	if (rc != TRK_OK) {
		fprintf(stderr, "hazgate-tracker: %s\n", err);
		trk_config_free(&a.cfg);
		return check ? 1 : 2;
	}
	if (check) {
		trk_config_print(&a.cfg, stdout);
		trk_config_free(&a.cfg);
		return 0;
	}
	hz_log_set_level((enum hz_log_level)a.cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	mosquitto_lib_init();

	hz_queue_options_init(&qo);
	qo.max_bytes = (uint64_t)a.cfg.queue_max_bytes;
	qo.segment_bytes = (uint64_t)a.cfg.queue_segment_bytes;
	qo.fsync = a.cfg.fsync == TRK_FSYNC_ALWAYS ? HZ_QUEUE_FSYNC_ALWAYS :
	           a.cfg.fsync == TRK_FSYNC_NEVER ? HZ_QUEUE_FSYNC_NEVER :
	           HZ_QUEUE_FSYNC_MANUAL;
	qo.log = queue_log;
	rc = hz_queue_open(&a.q, a.cfg.queue_dir, &qo);
	if (rc != HZ_QUEUE_OK) {
		hz_log(HZ_LOG_ERROR, "queue_open_failed", "dir=%s error=\"%s\" errno=\"%s\"",
		        a.cfg.queue_dir, hz_queue_strerror(rc), strerror(errno));
		goto done;
	}
	a.base = net_base_new(1); /* timers on CLOCK_MONOTONIC (net_base.h) */
	a.policy = trk_policy_new(&a.cfg.report);
	a.mids = calloc((size_t)a.cfg.max_inflight, sizeof *a.mids);
	if (!a.base || !a.policy || !a.mids)
		goto nomem;
	rc = trk_mqtt_new(&a.mqtt, a.base, &a.cfg, &cb, &a, err, sizeof err);
	if (rc != TRK_OK) {
		hz_log(HZ_LOG_ERROR, "mqtt_setup_failed", "error=\"%s\"",
		        rc == TRK_ERR_CONFIG ? err : trk_strerror(rc));
		goto done;
	}
	a.gpsd = trk_gpsd_new(a.base, a.cfg.gpsd_host, a.cfg.gpsd_port, a.cfg.gpsd_reconnect_s,
	                      on_fix, &a);
	a.ev_sig_term = evsignal_new(a.base, SIGTERM, on_signal, &a);
	a.ev_sig_int = evsignal_new(a.base, SIGINT, on_signal, &a);
	a.ev_stats = event_new(a.base, -1, EV_PERSIST, on_stats, &a);
	if (!a.gpsd || !a.ev_sig_term || !a.ev_sig_int || !a.ev_stats)
		goto nomem;
	evsignal_add(a.ev_sig_term, NULL);
	evsignal_add(a.ev_sig_int, NULL);
	{
		struct timeval min = { 60, 0 };

		event_add(a.ev_stats, &min);
	}
	if (a.cfg.fsync == TRK_FSYNC_INTERVAL) {
		struct timeval tv;

		tv.tv_sec = (time_t)a.cfg.fsync_interval_s;
		tv.tv_usec = (suseconds_t)((a.cfg.fsync_interval_s - (double)tv.tv_sec) * 1e6);
		a.ev_fsync = event_new(a.base, -1, EV_PERSIST, on_fsync, &a);
		if (!a.ev_fsync)
			goto nomem;
		event_add(a.ev_fsync, &tv);
	}
	hz_log(HZ_LOG_INFO, "start", "version=%s vehicle=%s gpsd=%s:%d broker=\"%s\" port=%d queue=%s",
	        PACKAGE_VERSION, a.cfg.vehicle, a.cfg.gpsd_host, a.cfg.gpsd_port,
	        a.cfg.mqtt_host, a.cfg.mqtt_port, a.cfg.queue_dir);
	trk_mqtt_start(a.mqtt);
	trk_gpsd_start(a.gpsd);
	event_base_dispatch(a.base);
	log_stats(&a, "exit");
	status = 0;
	goto done;
nomem:
	hz_log(HZ_LOG_ERROR, "out_of_memory", "%s", "");
done:
	if (a.ev_sig_term)
		event_free(a.ev_sig_term);
	if (a.ev_sig_int)
		event_free(a.ev_sig_int);
	if (a.ev_fsync)
		event_free(a.ev_fsync);
	if (a.ev_drain)
		event_free(a.ev_drain);
	if (a.ev_stats)
		event_free(a.ev_stats);
	trk_gpsd_free(a.gpsd);
	trk_mqtt_free(a.mqtt);
	hz_queue_free(a.q);    /* syncs */
	trk_policy_free(a.policy);
	free(a.mids);
	if (a.base)
		event_base_free(a.base);
	mosquitto_lib_cleanup();
	trk_config_free(&a.cfg);
	return status;
}
