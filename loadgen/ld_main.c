/*
 * ld_main.c: command line of hazgate-load (replay, simulate, count, jt808).
 * Figures go to stdout as key=value lines at the end of a run (to stderr
 * with --dry-run, whose stdout is the messages). Exit status: 0, 1 when the
 * run failed or fell short (missing PUBACKs, fewer messages than expected),
 * 2 on bad usage.
 */
#include "loadgen/ld.h"
#include "loadgen/ld_jt808.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>

static const char usage[] =
"usage: hazgate-load replay FILE [--rate N] [--shift-to-now|--end-at-now] [--speedup K]\n"
"       hazgate-load simulate --vehicles N --messages M [--rate R] [--realtime]\n"
"                    [--seed S] [--start TIME] [--interval SEC] [--zones FILE]\n"
"                    [--center LAT,LON] [--radius-km K] [--speeders F] [--bad-ratio F]\n"
"       hazgate-load count --topic T [--expect N] [--timeout S] [--idle S]\n"
"                    [--subscribe-only] [--clean] [--delay-us U] [--dump FILE]\n"
"                    [--latency PUBLOG]\n"
"       hazgate-load jt808 [--host H] [--port P] [--terminals N] [--version 2013|2019|mixed]\n"
"                    [--fleet FILE [--shift-to-now] [--speedup K] | simulate options]\n"
"                    [--rate R] [--duration S] [--blind-every K] [--acked FILE] ...\n"
"\n"
"Publishes telemetry to tankers/<vehicle>/telemetry (QoS 1, many messages in\n"
"flight, PUBACKs counted), or counts what a subscriber receives. Prints\n"
"key=value figures at the end (messages, seconds, msg_per_s, PUBACK and\n"
"in-flight statistics).\n"
"\n"
"common options:\n"
"  --host H          broker host ($HG_MQTT_HOST, else localhost)\n"
"  --port P          broker port ($HG_MQTT_PORT, else 1883)\n"
"  --qos Q           0, 1 or 2 (default 1)\n"
"  --client-id ID    (default hazgate-load-<pid>; count: hazgate-load-count)\n"
"  --mqtt5           speak MQTT 5 (default 3.1.1)\n"
"  -h, --help        this text\n"
"publishing (replay, simulate):\n"
"  --rate N          messages per second (default: as fast as acknowledged)\n"
"  --inflight W      unacknowledged messages in flight (default 1000)\n"
"  --publog FILE     write vehicle<TAB>ts_ms<TAB>publish_wall_us per fix\n"
"  --ack-timeout S   give up S seconds after the last PUBACK (default 30)\n"
"  --dry-run         print topic<TAB>payload lines, connect to nothing\n"
"  --topic T         topic template, {vehicle} replaced\n"
"                    (default tankers/{vehicle}/telemetry)\n"
"replay:\n"
"  FILE              payload per line, or topic<TAB>payload; - for stdin\n"
"  --shift-to-now    rewrite ts so the first fix is now, publish each at its time\n"
"  --end-at-now      rewrite ts so the last fix is now, publish at once\n"
"  --speedup K       divide the spacing of fixes by K (with a shift)\n"
"simulate:\n"
"  --vehicles N      fleet size (default 100)\n"
"  --first-vehicle K plates start at 晋A10001 + K (default 0): distinct fleets\n"
"  --messages M      total messages (default 10000; 0: until interrupted)\n"
"  --seed S          (default 1); same seed and --start, same payloads\n"
"  --start TIME      first fix time, RFC 3339 (default: now with --realtime,\n"
"                    else so that the last fix is now)\n"
"  --interval SEC    simulated seconds between a vehicle's fixes (default 10)\n"
"  --realtime        publish each fix at its own time (a live fleet)\n"
"  --zones FILE      GeoJSON zones: some vehicles drive through them\n"
"  --center LAT,LON  (default 37.87,112.55, Taiyuan)\n"
"  --radius-km K     (default 15)\n"
"  --speeders F      fraction of vehicles that speed at times (default 0.1)\n"
"  --bad-ratio F     fraction of bad payloads (default 0)\n"
"count:\n"
"  --topic T         topic filter (default tankers/+/telemetry)\n"
"  --expect N        stop after N messages; exit 1 if they do not come\n"
"  --timeout S       give up after S seconds (default 60 with --expect)\n"
"  --idle S          stop S seconds after the last message\n"
"  --subscribe-only  subscribe (persistent session) and disconnect at once\n"
"  --clean           clean session (default: persistent)\n"
"  --delay-us U      sleep U microseconds per message (a slow subscriber)\n"
"  --dump FILE       append each payload as a line to FILE\n"
"  --latency PUBLOG  match received alerts (vehicle, ts) to the publish log\n"
"                    and print latency_p50_ms/p99/max\n"
"jt808 (JT/T 808 terminals to hazgate-jt808, one per vehicle; see README):\n"
"  --host H --port P hazgate-jt808 (default 127.0.0.1:6808)\n"
"  --terminals N     simulated fleet size (default 100); with --fleet, at most\n"
"                    N of its vehicles (default all)\n"
"  --fleet FILE      the fixes of a native-JSON file (e.g. the shared sample)\n"
"                    instead of the simulated fleet (simulate's options apply)\n"
"  --version V       2013, 2019 or mixed (default 2013)\n"
"  --phone-base N    terminal i is phone N + i (default 13800000000)\n"
"  --rate R          fixes per second in all (default: the source's times, or\n"
"                    as fast as answered)\n"
"  --duration S      stop taking fixes after S seconds\n"
"  --drain S         then wait at most S seconds for replies (default 30)\n"
"  --reply-timeout S first wait for a reply; the n-th re-send waits S*n!\n"
"                    (default 5)\n"
"  --retries N       re-sends (same serial) before reconnecting (default 3)\n"
"  --heartbeat S     0x0002 after S seconds without sending (default 30; 0 off)\n"
"  --blind-every K   every K live fixes a terminal is out of coverage for\n"
"  --blind-len L     L fixes (default 5), uploaded as one 0x0704 type 1\n"
"  --batch N         a backlog of live fixes goes as 0x0704 type 0 of <= N\n"
"  --sos-every K     every K-th fix of a terminal carries the SOS alarm\n"
"  --sos-unpositioned  ... and is not positioned (lat/lon 0)\n"
"  --bad-frames N    each terminal sends N broken frames once online\n"
"  --queue-max N     fixes a terminal holds before the source waits (default 64)\n"
"  --reconnect-max S reconnect backoff ceiling (default 2)\n"
"  --acked FILE      terminal<TAB>vehicle<TAB>ts<TAB>lat<TAB>lon<TAB>positioned\n"
"                    <TAB>alarm per acknowledged fix\n"
"  --acked-json FILE each acknowledged fix as hazgate-jt808 publishes it\n"
"  --codes FILE      keep the auth codes across runs (phone<TAB>hex)\n"
"  --progress S      a progress line (online, acked, ...) on stderr every S s\n"
"  --ack-log FILE    t_us<TAB>latency_us per answered report (t since the start)\n";

enum {
	O_HOST = 256, O_PORT, O_QOS, O_CLIENT, O_MQTT5, O_RATE, O_INFLIGHT, O_PUBLOG,
	O_ACKTO, O_DRY, O_SHIFT, O_ENDNOW, O_SPEEDUP, O_VEH, O_MSGS, O_SEED, O_START,
	O_INTERVAL, O_REALTIME, O_FIRSTVEH, O_ZONES, O_CENTER, O_RADIUS, O_SPEEDERS, O_BAD, O_TOPIC,
	O_EXPECT, O_TIMEOUT, O_IDLE, O_SUBONLY, O_CLEAN, O_DELAY, O_DUMP, O_LATENCY,
	O_TERMS, O_FLEET, O_VERSION, O_PHONE, O_DURATION, O_DRAIN, O_REPLYTO, O_RETRIES,
	O_HB, O_BLIND, O_BLINDLEN, O_BATCH, O_SOS, O_SOSUNPOS, O_BADFRAMES, O_QMAX,
	O_RECMAX, O_ACKED, O_ACKEDJSON, O_CODES, O_PROGRESS, O_ACKLOG,
};

static const struct option longopts[] = {
	{ "host", required_argument, NULL, O_HOST },
	{ "port", required_argument, NULL, O_PORT },
	{ "qos", required_argument, NULL, O_QOS },
	{ "client-id", required_argument, NULL, O_CLIENT },
	{ "mqtt5", no_argument, NULL, O_MQTT5 },
	{ "rate", required_argument, NULL, O_RATE },
	{ "inflight", required_argument, NULL, O_INFLIGHT },
	{ "publog", required_argument, NULL, O_PUBLOG },
	{ "ack-timeout", required_argument, NULL, O_ACKTO },
	{ "dry-run", no_argument, NULL, O_DRY },
	{ "shift-to-now", no_argument, NULL, O_SHIFT },
	{ "end-at-now", no_argument, NULL, O_ENDNOW },
	{ "speedup", required_argument, NULL, O_SPEEDUP },
	{ "vehicles", required_argument, NULL, O_VEH },
	{ "messages", required_argument, NULL, O_MSGS },
	{ "seed", required_argument, NULL, O_SEED },
	{ "start", required_argument, NULL, O_START },
	{ "interval", required_argument, NULL, O_INTERVAL },
	{ "realtime", no_argument, NULL, O_REALTIME },
	{ "first-vehicle", required_argument, NULL, O_FIRSTVEH },
	{ "zones", required_argument, NULL, O_ZONES },
	{ "center", required_argument, NULL, O_CENTER },
	{ "radius-km", required_argument, NULL, O_RADIUS },
	{ "speeders", required_argument, NULL, O_SPEEDERS },
	{ "bad-ratio", required_argument, NULL, O_BAD },
	{ "topic", required_argument, NULL, O_TOPIC },
	{ "expect", required_argument, NULL, O_EXPECT },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "idle", required_argument, NULL, O_IDLE },
	{ "subscribe-only", no_argument, NULL, O_SUBONLY },
	{ "clean", no_argument, NULL, O_CLEAN },
	{ "delay-us", required_argument, NULL, O_DELAY },
	{ "dump", required_argument, NULL, O_DUMP },
	{ "latency", required_argument, NULL, O_LATENCY },
	{ "terminals", required_argument, NULL, O_TERMS },
	{ "fleet", required_argument, NULL, O_FLEET },
	{ "version", required_argument, NULL, O_VERSION },
	{ "phone-base", required_argument, NULL, O_PHONE },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "drain", required_argument, NULL, O_DRAIN },
	{ "reply-timeout", required_argument, NULL, O_REPLYTO },
	{ "retries", required_argument, NULL, O_RETRIES },
	{ "heartbeat", required_argument, NULL, O_HB },
	{ "blind-every", required_argument, NULL, O_BLIND },
	{ "blind-len", required_argument, NULL, O_BLINDLEN },
	{ "batch", required_argument, NULL, O_BATCH },
	{ "sos-every", required_argument, NULL, O_SOS },
	{ "sos-unpositioned", no_argument, NULL, O_SOSUNPOS },
	{ "bad-frames", required_argument, NULL, O_BADFRAMES },
	{ "queue-max", required_argument, NULL, O_QMAX },
	{ "reconnect-max", required_argument, NULL, O_RECMAX },
	{ "acked", required_argument, NULL, O_ACKED },
	{ "acked-json", required_argument, NULL, O_ACKEDJSON },
	{ "codes", required_argument, NULL, O_CODES },
	{ "progress", required_argument, NULL, O_PROGRESS },
	{ "ack-log", required_argument, NULL, O_ACKLOG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
on_signal(int sig)
{
	(void)sig;
	ld_stop = 1;
}

/* Parse a number in [lo, hi]; false (and a message) when it is not one. */
static bool
num(const char *opt, const char *s, double lo, double hi, double *v)
{
	char *end;

	*v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(*v) || *v < lo || *v > hi) {
		fprintf(stderr, "hazgate-load: --%s: %s is not a number in [%g, %g]\n", opt, s, lo, hi);
		return false;
	}
	return true;
}

/* hazgate-load jt808: the fleet from a file (--fleet) or the simulator. */
static int
run_jt808(struct ld_jt808_opts *jo, struct ld_sim_opts *so, struct ld_replay_opts *ro,
          const char *fleet, bool msgs_set, FILE *out)
{
	struct ld_replay *rp = NULL;
	struct ld_sim *sim = NULL;
	struct ld_source src;
	int rc;

	if (fleet != NULL) {
		ro->file = fleet;
		if ((rc = ld_replay_new(ro, &rp)) != LD_OK)
			return rc;
		src = ld_replay_source(rp);
	} else {
		so->vehicles = jo->terminals ? jo->terminals : 100;
		so->first_vehicle = jo->first = so->first_vehicle;
		if (!msgs_set)
			so->messages = so->realtime ? 0 : 10000;
		if ((rc = ld_sim_new(so, &sim)) != LD_OK) {
			if (rc == LD_ERR_USAGE)
				fprintf(stderr, "hazgate-load: jt808: bad simulate options\n");
			return rc;
		}
		src = ld_sim_source(sim);
	}
	fprintf(out, "host=%s\nport=%d\n", jo->host, jo->port);
	rc = ld_jt808_run(jo, &src, out);
	if (rc == LD_ERR_USAGE)
		fprintf(stderr, "hazgate-load: jt808: bad options (--blind-len must be under --queue-max)\n");
	ld_replay_free(rp);
	ld_sim_free(sim);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ld_mqtt_opts mo = { .host = "localhost", .port = 1883, .qos = 1,
	                           .keepalive = 60, .protocol = 3 };
	struct ld_pub_opts po = { .inflight = 1000, .ack_timeout_s = 30 };
	struct ld_replay_opts ro = { .speedup = 1 };
	struct ld_sim_opts so = { .seed = 1, .vehicles = 100, .messages = 10000, .interval_s = 10,
	                          .center_lat = 37.87, .center_lon = 112.55, .radius_km = 15,
	                          .speeders = 0.1 };
	struct ld_count_opts co = { .topic = "tankers/+/telemetry" };
	struct ld_jt808_opts jo = { .host = "127.0.0.1", .port = 6808, .version = 2013,
	                            .phone_base = 13800000000ULL, .ack_timeout_s = 5,
	                            .retries = 3, .heartbeat_s = 30, .blind_len = 5,
	                            .drain_s = 30, .reconnect_max_s = 2, .queue_max = 64 };
	const char *fleet = NULL;
	bool msgs_set = false;
	struct ld_replay *rp = NULL;
	struct ld_sim *sim = NULL;
	struct ld_source src;
	struct sigaction sa;
	const char *mode, *env;
	char client[64];
	double v;
	bool timeout_set = false;
	int c, rc = LD_OK;
	FILE *out = stdout;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	mode = argv[1];
	if (strcmp(mode, "replay") != 0 && strcmp(mode, "simulate") != 0 &&
	    strcmp(mode, "count") != 0 && strcmp(mode, "jt808") != 0) {
		fprintf(stderr, "hazgate-load: unknown mode %s (replay, simulate, count, jt808)\n",
		        mode);
		return 2;
	}
	if ((env = getenv("HG_MQTT_HOST")) != NULL && *env)
		mo.host = env;
	if ((env = getenv("HG_MQTT_PORT")) != NULL && *env)
		mo.port = atoi(env);
	snprintf(client, sizeof(client), "hazgate-load-%ld", (long)getpid());
	mo.client_id = strcmp(mode, "count") == 0 ? "hazgate-load-count" : client;

	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(usage, stdout); return 0;
		case O_HOST: mo.host = jo.host = optarg; break;
		case O_PORT: if (!num("port", optarg, 1, 65535, &v)) return 2; mo.port = jo.port = (int)v; break;
		case O_QOS: if (!num("qos", optarg, 0, 2, &v)) return 2; mo.qos = (int)v; break;
		case O_CLIENT: mo.client_id = optarg; break;
		case O_MQTT5: mo.protocol = 5; break;
		case O_RATE: if (!num("rate", optarg, 0, 1e9, &v)) return 2; po.rate = jo.rate = v; break;
		case O_INFLIGHT: if (!num("inflight", optarg, 1, 60000, &v)) return 2; po.inflight = (int)v; break;
		case O_PUBLOG: po.publog = optarg; break;
		case O_ACKTO: if (!num("ack-timeout", optarg, 0, 1e6, &v)) return 2; po.ack_timeout_s = v; break;
		case O_DRY: po.dry_run = true; break;
		case O_SHIFT: ro.shift_to_now = true; break;
		case O_ENDNOW: ro.end_at_now = true; break;
		case O_SPEEDUP: if (!num("speedup", optarg, 1e-6, 1e9, &v)) return 2; ro.speedup = v; break;
		case O_VEH: if (!num("vehicles", optarg, 1, 4e6, &v)) return 2; so.vehicles = (uint32_t)v; break;
		case O_MSGS: if (!num("messages", optarg, 0, 1e12, &v)) return 2; so.messages = (uint64_t)v; msgs_set = true; break;
		case O_SEED: if (!num("seed", optarg, 0, 9007199254740992.0, &v)) return 2; so.seed = (uint64_t)v; break;
		case O_START:
			if (ld_time_parse(optarg, strlen(optarg), &so.start_ms) != LD_OK) {
				fprintf(stderr, "hazgate-load: --start: %s is not an RFC 3339 time\n", optarg);
				return 2;
			}
			so.start_set = true;
			break;
		case O_INTERVAL: if (!num("interval", optarg, 0.001, 86400, &v)) return 2; so.interval_s = v; break;
		case O_REALTIME: so.realtime = true; break;
		case O_FIRSTVEH: if (!num("first-vehicle", optarg, 0, 4e6, &v)) return 2; so.first_vehicle = (uint32_t)v; break;
		case O_ZONES: so.zones_file = optarg; break;
		case O_CENTER: {
			char *comma = strchr(optarg, ',');
			if (comma == NULL) {
				fprintf(stderr, "hazgate-load: --center wants LAT,LON\n");
				return 2;
			}
			*comma = '\0';
			if (!num("center", optarg, -85, 85, &so.center_lat) ||
			    !num("center", comma + 1, -180, 180, &so.center_lon))
				return 2;
			break;
		}
		case O_RADIUS: if (!num("radius-km", optarg, 0.01, 2000, &v)) return 2; so.radius_km = v; break;
		case O_SPEEDERS: if (!num("speeders", optarg, 0, 1, &v)) return 2; so.speeders = v; break;
		case O_BAD: if (!num("bad-ratio", optarg, 0, 1, &v)) return 2; so.bad_ratio = v; break;
		case O_TOPIC: co.topic = ro.topic = so.topic = optarg; break;
		case O_EXPECT: if (!num("expect", optarg, 0, 1e15, &v)) return 2; co.expect = (uint64_t)v; break;
		case O_TIMEOUT: if (!num("timeout", optarg, 0, 1e9, &v)) return 2; co.timeout_s = v; timeout_set = true; break;
		case O_IDLE: if (!num("idle", optarg, 0, 1e9, &v)) return 2; co.idle_s = v; break;
		case O_SUBONLY: co.subscribe_only = true; break;
		case O_CLEAN: co.clean = true; break;
		case O_DELAY: if (!num("delay-us", optarg, 0, 1e7, &v)) return 2; co.delay_us = (int)v; break;
		case O_DUMP: co.dump = optarg; break;
		case O_LATENCY: co.latency = optarg; break;
		case O_TERMS: if (!num("terminals", optarg, 0, 4e6, &v)) return 2; jo.terminals = (uint32_t)v; break;
		case O_FLEET: fleet = optarg; break;
		case O_VERSION:
			if (strcmp(optarg, "mixed") == 0) {
				jo.version = 0;
			} else if (strcmp(optarg, "2013") == 0 || strcmp(optarg, "2011") == 0) {
				jo.version = 2013;
			} else if (strcmp(optarg, "2019") == 0) {
				jo.version = 2019;
			} else {
				fprintf(stderr, "hazgate-load: --version: 2013, 2019 or mixed\n");
				return 2;
			}
			break;
		case O_PHONE: if (!num("phone-base", optarg, 1, 9e18, &v)) return 2; jo.phone_base = (uint64_t)v; break;
		case O_DURATION: if (!num("duration", optarg, 0, 1e9, &v)) return 2; jo.duration_s = v; break;
		case O_DRAIN: if (!num("drain", optarg, 0, 1e9, &v)) return 2; jo.drain_s = v; break;
		case O_REPLYTO: if (!num("reply-timeout", optarg, 0.001, 3600, &v)) return 2; jo.ack_timeout_s = v; break;
		case O_RETRIES: if (!num("retries", optarg, 0, 10, &v)) return 2; jo.retries = (int)v; break;
		case O_HB: if (!num("heartbeat", optarg, 0, 86400, &v)) return 2; jo.heartbeat_s = v; break;
		case O_BLIND: if (!num("blind-every", optarg, 0, 1e9, &v)) return 2; jo.blind_every = (uint32_t)v; break;
		case O_BLINDLEN: if (!num("blind-len", optarg, 1, 1e6, &v)) return 2; jo.blind_len = (uint32_t)v; break;
		case O_BATCH: if (!num("batch", optarg, 0, 1e6, &v)) return 2; jo.batch = (uint32_t)v; break;
		case O_SOS: if (!num("sos-every", optarg, 0, 1e9, &v)) return 2; jo.sos_every = (uint32_t)v; break;
		case O_SOSUNPOS: jo.sos_unpositioned = true; break;
		case O_BADFRAMES: if (!num("bad-frames", optarg, 0, 1e6, &v)) return 2; jo.bad_frames = (uint32_t)v; break;
		case O_QMAX: if (!num("queue-max", optarg, 1, 1e9, &v)) return 2; jo.queue_max = (uint32_t)v; break;
		case O_RECMAX: if (!num("reconnect-max", optarg, 0.1, 3600, &v)) return 2; jo.reconnect_max_s = v; break;
		case O_ACKED: jo.acked = optarg; break;
		case O_ACKEDJSON: jo.acked_json = optarg; break;
		case O_CODES: jo.codes = optarg; break;
		case O_ACKLOG: jo.ack_log = optarg; break;
		case O_PROGRESS: if (!num("progress", optarg, 0, 86400, &v)) return 2; jo.progress_s = v; break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (strcmp(mode, "replay") == 0) {
		if (optind != argc - 1) {
			fprintf(stderr, "hazgate-load: replay wants one FILE\n");
			return 2;
		}
		ro.file = argv[optind];
		if (ro.shift_to_now && ro.end_at_now) {
			fprintf(stderr, "hazgate-load: --shift-to-now or --end-at-now, not both\n");
			return 2;
		}
	} else if (optind != argc) {
		fprintf(stderr, "hazgate-load: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	if (strcmp(mode, "count") == 0 && co.expect > 0 && !timeout_set)
		co.timeout_s = 60;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mosquitto_lib_init();
	if (po.dry_run)
		out = stderr;

	fprintf(out, "mode=%s\n", mode);
	if (strcmp(mode, "jt808") == 0) {
		rc = run_jt808(&jo, &so, &ro, fleet, msgs_set, out);
		if (rc == LD_ERR_USAGE)
			goto done;
	} else if (strcmp(mode, "count") == 0) {
		rc = ld_count_run(&mo, &co, out);
	} else if (strcmp(mode, "replay") == 0) {
		if ((rc = ld_replay_new(&ro, &rp)) == LD_OK) {
			src = ld_replay_source(rp);
			fprintf(out, "lines=%zu\n", ld_replay_count(rp));
			rc = ld_pub_run(&mo, &po, &src, out);
		}
	} else {
		rc = ld_sim_new(&so, &sim);
		if (rc == LD_ERR_USAGE) {
			fprintf(stderr, "hazgate-load: simulate: bad options\n");
			goto done;
		}
		if (rc == LD_OK) {
			src = ld_sim_source(sim);
			fprintf(out, "vehicles=%u\nseed=%" PRIu64 "\n", so.vehicles, so.seed);
			rc = ld_pub_run(&mo, &po, &src, out);
			fprintf(out, "bad=%" PRIu64 "\n", ld_sim_bad(sim));
		}
	}
	fflush(out);
	if (rc != LD_OK)
		fprintf(stderr, "hazgate-load: %s: %s\n", mode, ld_strerror(rc));
done:
	ld_replay_free(rp);
	ld_sim_free(sim);
	mosquitto_lib_cleanup();
	return rc == LD_OK ? 0 : rc == LD_ERR_USAGE ? 2 : 1;
}
