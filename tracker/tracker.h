/*
 * tracker.h - hazgate-tracker's module header: the fix, the reporting
 * policy, the payload builder, the configuration and the two event-loop
 * adapters (gpsd through libgps, MQTT through libmosquitto). The tracker
 * logs with common/hz_log.h.
 *
 * The on-disk queue has its own self-contained header, hz_queue.h.
 * The policy and the payload builder are pure (no I/O, no clock): they are
 * what the unit tests exercise directly.
 */
#ifndef HAZGATE_TRACKER_H
#define HAZGATE_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hz_log.h"

/* Return codes of the tracker's functions (0 or negative). */
enum trk_err {
	TRK_OK = 0,
	TRK_ERR_NOMEM = -1,     /* out of memory */
	TRK_ERR_INVAL = -2,     /* bad argument or value */
	TRK_ERR_IO = -3,        /* a file or socket operation failed */
	TRK_ERR_CONFIG = -4,    /* configuration error (message in the err buffer) */
	TRK_ERR_MQTT = -5       /* libmosquitto refused */
};

const char *trk_strerror(int err);

/* ---- a fix, as read from gpsd ---------------------------------------- */

struct trk_fix {
	int64_t time_ms;        /* fix time from the receiver, epoch ms UTC */
	double lat, lon;        /* WGS-84 degrees */
	double speed_kmh;       /* NAN when unknown */
	double heading;         /* degrees clockwise from true north; NAN unknown */
	double alt_m;           /* metres above mean sea level; NAN unknown */
	double hdop;            /* NAN unknown */
	double eph;             /* horizontal error estimate, metres; NAN unknown */
	int mode;               /* 2 = 2D, 3 = 3D */
	int sats;               /* satellites used, -1 unknown */
};

/* Great-circle distance in metres (haversine, mean earth radius). */
double trk_distance_m(double lat1, double lon1, double lat2, double lon2);

/* ---- reporting policy ------------------------------------------------- */

struct trk_policy_params {
	double min_interval_s;          /* never two reports closer than this */
	double max_interval_s;          /* report at least this often */
	double heading_change_deg;      /* report on a turn of at least this */
	double min_distance_m;          /* report after moving this far */
	double heading_min_speed_kmh;   /* ignore heading below this speed */
};

enum trk_report {
	TRK_REPORT_NONE = 0,
	TRK_REPORT_FIRST,               /* first fix since start */
	TRK_REPORT_INTERVAL,            /* max_interval_s elapsed */
	TRK_REPORT_DISTANCE,            /* moved min_distance_m */
	TRK_REPORT_HEADING              /* turned heading_change_deg */
};

typedef struct trk_policy trk_policy;

/* A policy with these parameters (copied).  NULL when out of memory. */
trk_policy *trk_policy_new(const struct trk_policy_params *p);
void trk_policy_free(trk_policy *p);

/* Should FIX be reported?  Judged by fix times, not the clock: a fix not
 * newer than the last reported one is never reported.  When the answer is
 * not TRK_REPORT_NONE the fix becomes the last reported one. */
enum trk_report trk_policy_decide(trk_policy *p, const struct trk_fix *fix);

const char *trk_report_name(enum trk_report r);

/* ---- payload ------------------------------------------------------------ */

/* Cargo and identity that go in every payload (borrowed strings; un and
 * hazard_class may be NULL or empty and are then left out). */
struct trk_ident {
	const char *vehicle;
	const char *un;
	const char *hazard_class;
};

/* Format epoch milliseconds as RFC 3339 UTC with milliseconds,
 * "2019-08-10T00:00:02.000Z" (hz_time_format, common/hz_time.h).  CAP must
 * be at least 25 and the year within 0000..9999.
 * Returns TRK_OK or TRK_ERR_INVAL. */
int trk_format_time(int64_t ms, char *buf, size_t cap);

/* Build the native JSON payload (DESIGN.md "Telemetry in") for FIX with
 * sequence number SEQ.  *out is malloc'd, NUL-terminated, owned by the
 * caller (free()); *len its length.  Unknown values are left out.
 * Returns TRK_OK, TRK_ERR_NOMEM or TRK_ERR_INVAL. */
int trk_payload_build(const struct trk_fix *fix, const struct trk_ident *id,
                      uint64_t seq, char **out, size_t *len);

/* ---- configuration -------------------------------------------------------- */

enum trk_fsync_mode { TRK_FSYNC_ALWAYS = 0, TRK_FSYNC_INTERVAL = 1, TRK_FSYNC_NEVER = 2 };

struct trk_config {
	/* [tracker] */
	char *vehicle, *un, *hazard_class;
	/* [gpsd] */
	char *gpsd_host;
	int gpsd_port;
	double gpsd_reconnect_s;
	/* [mqtt] */
	char *mqtt_host;
	int mqtt_port;
	char *client_id, *topic_prefix;
	int keepalive_s, max_inflight;
	char *username, *password_file, *tls_ca, *tls_cert, *tls_key;
	double reconnect_min_s, reconnect_max_s, drain_s;
	/* [report] */
	struct trk_policy_params report;
	/* [queue] */
	char *queue_dir;
	uint64_t queue_max_bytes, queue_segment_bytes;
	int fsync;                      /* enum trk_fsync_mode */
	double fsync_interval_s;
	/* [log] */
	int log_level;                  /* enum hz_log_level */
};

/* Set every option to its default.  Returns TRK_OK or TRK_ERR_NOMEM. */
int trk_config_init(struct trk_config *c);

/* Free the strings (the struct itself is the caller's). */
void trk_config_free(struct trk_config *c);

/* Set [SECTION] NAME = VALUE through the option table.  On error writes
 * "unknown key ..." or "bad value ..." into ERR and returns TRK_ERR_CONFIG
 * (TRK_ERR_NOMEM when a string cannot be copied). */
int trk_config_set(struct trk_config *c, const char *section, const char *name,
                   const char *value, char *err, size_t errcap);

/* Read an INI file over C (a key given again overrides the earlier one).
 * Errors name the file and line: "FILE:LINE: ..." ("FILE: ..." when it
 * cannot be read).  Returns TRK_OK, TRK_ERR_CONFIG, TRK_ERR_IO or
 * TRK_ERR_NOMEM. */
int trk_config_load(struct trk_config *c, const char *path, char *err, size_t errcap);

/* Checks across options (vehicle set, min <= max, TLS cert with key...).
 * Returns TRK_OK or TRK_ERR_CONFIG with ERR filled. */
int trk_config_check(const struct trk_config *c, char *err, size_t errcap);

/* Print the effective configuration as INI to F (a FILE *). */
void trk_config_print(const struct trk_config *c, void *f);

/* Print the option table (name, type, bounds, default) to F. */
void trk_config_print_help(void *f);

/* ---- adapters (need a libevent base) ----------------------------------------- */

struct event_base;

typedef struct trk_gpsd trk_gpsd;
typedef void (*trk_gpsd_fix_fn)(void *arg, const struct trk_fix *fix);

/* Reads TPV reports from gpsd at HOST:PORT on socket readiness and calls
 * FN for each with a 2D or 3D fix; reconnects (every retry_s) when gpsd
 * goes away.  Strings are copied. */
trk_gpsd *trk_gpsd_new(struct event_base *base, const char *host, int port,
                       double retry_s, trk_gpsd_fix_fn fn, void *arg);
/* Connect now (or schedule a retry).  Returns TRK_OK. */
int trk_gpsd_start(trk_gpsd *g);
/* Pass on the fix held for its cycle, if any (call before stopping). */
void trk_gpsd_flush(trk_gpsd *g);
void trk_gpsd_free(trk_gpsd *g);

typedef struct trk_mqtt trk_mqtt;

struct trk_mqtt_callbacks {
	void (*connected)(void *arg);           /* CONNACK ok, "online" sent */
	void (*disconnected)(void *arg);        /* link lost; in-flight mids are void */
	void (*published)(void *arg, int mid);  /* PUBACK for MID */
};

/* An MQTT client driven by the libevent loop: connects to the configured
 * broker with TLS/credentials as configured, retained last will "offline"
 * and "online" on <prefix>/<vehicle>/status, reconnects with backoff.
 * C and CB are borrowed and must outlive the client. */
int trk_mqtt_new(trk_mqtt **out, struct event_base *base, const struct trk_config *c,
                 const struct trk_mqtt_callbacks *cb, void *arg, char *err, size_t errcap);
int trk_mqtt_start(trk_mqtt *m);
bool trk_mqtt_connected(const trk_mqtt *m);
/* Publish QoS 1 on the telemetry topic; *mid identifies the PUBACK.
 * Returns TRK_OK or TRK_ERR_MQTT (not connected, or refused). */
int trk_mqtt_publish_telemetry(trk_mqtt *m, const void *data, size_t len, int *mid);
/* Publish the retained "offline" status and disconnect once it is
 * acknowledged (or at once if not connected); DONE is called then. */
void trk_mqtt_shutdown(trk_mqtt *m, void (*done)(void *arg));
void trk_mqtt_free(trk_mqtt *m);

#endif
