/*
 * ld.h: hazgate-load, the project's load generator, fleet simulator and
 * counting subscriber (used by the demo, the integration tests and the
 * gateway benchmark).
 *
 * The tool has three parts:
 *  - sources (ld_replay.c, ld_sim.c) that produce (topic, payload) messages
 *    with an optional due time, and the (vehicle, fix time) they describe;
 *  - the publisher pump (ld_pub.c) that sends them QoS 1 with a window of
 *    messages in flight, paced or as fast as the broker acknowledges, and
 *    counts PUBACKs;
 *  - the counting subscriber (ld_count.c).
 * Small helpers (time parsing, histograms) are in ld_util.c; clocks and dates
 * come from common/.
 * It is a tool, not the daemon: it drives libmosquitto from its own poll()
 * loop in one thread and exits on the first connection error.
 */
#ifndef HG_LOADGEN_LD_H
#define HG_LOADGEN_LD_H

#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>

/* ---- errors ------------------------------------------------------------- */

enum ld_err {
	LD_OK = 0,
	LD_ERR_USAGE,      /* bad command line */
	LD_ERR_IO,         /* a file could not be read or written */
	LD_ERR_NOMEM,      /* out of memory */
	LD_ERR_MQTT,       /* broker connection failed or was lost */
	LD_ERR_TIMEOUT,    /* the expected count or the acknowledgements did not arrive in time */
	LD_ERR_DATA,       /* an input file is not what it should be */
};

/* A static string describing err. */
const char *ld_strerror(int err);

/* ---- util ---------------------------------------------------------------- */

/* Clocks: hz_now_us and hz_mono_us (common/hz_clock.h). */

/* Parse an RFC 3339 time ("2019-08-10T08:00:00.123Z", "...+08:00") into epoch
 * milliseconds (toward the past), by the one parser, hz_time_parse
 * (common/hz_time.h: the day must exist, any fraction digits, second 60 the
 * next minute's :00). Returns 0, or LD_ERR_DATA when s (len bytes) is not
 * one. */
int ld_time_parse(const char *s, size_t len, int64_t *ms);

/* Format epoch milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (at least
 * 25 bytes; a year outside 0000..9999 is clamped). Returns the length
 * written (24). */
int ld_time_format(int64_t ms, char *buf, size_t size);

/* The topic of a vehicle's message: tmpl (NULL: "tankers/{vehicle}/telemetry")
 * with every "{vehicle}" replaced, into buf (truncated to size). */
void ld_topic_format(const char *tmpl, const char *vehicle, char *buf, size_t size);

/* 64-bit FNV-1a of len bytes, and a key for (vehicle, fix time). */
uint64_t ld_hash(const void *p, size_t len);
uint64_t ld_fix_key(const char *vehicle, size_t len, int64_t ts_ms);

/* A latency/duration recorder: keeps every sample (int64 microseconds) and
 * reports percentiles. */
struct ld_samples;
struct ld_samples *ld_samples_new(void);
void ld_samples_free(struct ld_samples *s);
/* Returns 0 or LD_ERR_NOMEM (the sample is then dropped). */
int ld_samples_add(struct ld_samples *s, int64_t v);
size_t ld_samples_count(const struct ld_samples *s);
/* p in [0,100]; sorts in place on first call after an add. 0 when empty. */
int64_t ld_samples_pct(struct ld_samples *s, double p);

/* splitmix64 step: a small, seedable, portable PRNG. */
uint64_t ld_rand_next(uint64_t *state);
/* Uniform double in [0,1). */
double ld_rand_unit(uint64_t *state);

/* ---- sources ------------------------------------------------------------- */

/* One message to publish. Fields are borrowed from the source and valid until
 * its next call. due_us: when to publish it, microseconds after the start of
 * the run, or -1 for as soon as possible. vehicle/ts_ms: the fix it carries
 * (vehicle NULL when unknown), for the publish log. */
struct ld_msg {
	const char *topic;
	const char *payload;
	size_t payload_len;
	int64_t due_us;
	const char *vehicle;
	int64_t ts_ms;
};

/* A source: next() fills m and returns 1, or returns 0 at the end, or a
 * negative ld_err (negated) on error. start() is called once, just before the
 * first message, with the wall clock of the start of the run. */
struct ld_source {
	void *ctx;
	void (*start)(void *ctx, int64_t wall_us);
	int (*next)(void *ctx, struct ld_msg *m);
};

struct ld_replay_opts {
	const char *file;      /* "-" for stdin */
	bool shift_to_now;     /* first fix is now; paced to the new times */
	bool end_at_now;       /* last fix is now; not paced */
	double speedup;        /* divide the spacing of fixes by this (>= 1 typical) */
	const char *topic;     /* template, see ld_topic_format; a line's own topic wins */
};

struct ld_replay;
/* Loads the file. Returns 0, LD_ERR_IO, LD_ERR_NOMEM or LD_ERR_DATA
 * (no line, or a time shift asked for and a line without a usable time). */
int ld_replay_new(const struct ld_replay_opts *o, struct ld_replay **out);
void ld_replay_free(struct ld_replay *r);
size_t ld_replay_count(const struct ld_replay *r);
struct ld_source ld_replay_source(struct ld_replay *r);

struct ld_sim_opts {
	uint64_t seed;
	uint32_t vehicles;
	uint32_t first_vehicle; /* index of the first vehicle: plates 晋A10001 + this */
	uint64_t messages;     /* 0: no end (until a signal) */
	double interval_s;     /* simulated seconds between two fixes of a vehicle */
	double center_lat, center_lon, radius_km;
	double speeders;       /* fraction of vehicles that drive above 80 km/h at times */
	double bad_ratio;      /* fraction of messages that are bad payloads */
	bool realtime;         /* fixes published at their own time */
	bool start_set;        /* start_ms given; else now (realtime) or now - span */
	int64_t start_ms;
	const char *zones_file; /* GeoJSON: some vehicles drive through these zones */
	const char *topic;     /* template, see ld_topic_format */
};

struct ld_sim;
/* Returns 0, LD_ERR_USAGE (bad options), LD_ERR_IO or LD_ERR_DATA (zones
 * file), LD_ERR_NOMEM. */
int ld_sim_new(const struct ld_sim_opts *o, struct ld_sim **out);
void ld_sim_free(struct ld_sim *s);
struct ld_source ld_sim_source(struct ld_sim *s);
/* How many bad payloads were produced so far. */
uint64_t ld_sim_bad(const struct ld_sim *s);

/* ---- MQTT ---------------------------------------------------------------- */

struct ld_mqtt_opts {
	const char *host;
	int port;
	int qos;
	const char *client_id;
	int keepalive;
	int protocol;          /* 3 (3.1.1) or 5 */
};

struct ld_pub_opts {
	double rate;           /* messages per second, 0 = as fast as possible */
	int inflight;          /* window of unacknowledged messages */
	const char *publog;    /* write "vehicle\tts_ms\tpub_wall_us" per message */
	double ack_timeout_s;  /* wait at most this for the last PUBACKs */
	bool dry_run;          /* print "topic\tpayload" lines instead */
};

/* Publish everything src gives; prints key=value figures to out. Returns 0,
 * LD_ERR_MQTT, LD_ERR_TIMEOUT, LD_ERR_IO or a source's error. */
int ld_pub_run(const struct ld_mqtt_opts *mo, const struct ld_pub_opts *po,
               struct ld_source *src, FILE *out);

struct ld_count_opts {
	const char *topic;
	uint64_t expect;       /* stop after this many, 0 = until timeout/idle/signal */
	double timeout_s;      /* give up after this long (0 = never) */
	double idle_s;         /* stop this long after the last message (0 = never) */
	bool clean;            /* clean session (default: persistent) */
	bool subscribe_only;   /* subscribe, then disconnect at once */
	int delay_us;          /* sleep this long per message (a slow subscriber) */
	const char *dump;      /* append payloads, one per line, to this file */
	const char *latency;   /* publish log of the load: match alerts to it */
};

/* Returns 0, LD_ERR_TIMEOUT (fewer than expected), LD_ERR_MQTT, LD_ERR_IO. */
int ld_count_run(const struct ld_mqtt_opts *mo, const struct ld_count_opts *co, FILE *out);

/* Set by SIGINT/SIGTERM: the loops stop and print what they have. */
extern volatile int ld_stop;

#endif
