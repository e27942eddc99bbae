/*
 * gateway-internal.h - what the files of the daemon (gateway/, prefix gw_)
 * share. Nothing outside gateway/ includes it.
 *
 *   gw_main.c    arguments, the event loop, signals, startup and drain
 *   gw_core.c    message -> ingest -> geofence -> batch; the batch writer
 *   gw_batch.c   the batch: rows as COPY text, serialised for the spool
 *   gw_vtab.c    per-vehicle table: seq gaps, what changed in the batch
 *   gw_mqtt.c    libmosquitto adapter driven by libevent
 *   gw_pg.c      non-blocking libpq adapter running jobs of steps
 *   gw_http.c    evhttp: /metrics, /healthz
 *   gw_log.c     key=value lines on stderr
 */
#ifndef HAZGATE_GATEWAY_INTERNAL_H
#define HAZGATE_GATEWAY_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "gateway/gw_config.h"
#include "geofence/geofence.h"
#include "ingest/ingest.h"

/* ---- log (gw_log.c) ------------------------------------------------- */

/* Messages below this level are dropped; set from [log] level. */
void gw_log_set_level(enum gw_log_level level);
bool gw_log_enabled(enum gw_log_level level);

/* One line "ts=... level=... event=EVENT <fmt...>" on stderr, written with
 * one write(2). fmt continues the line with key=value pairs. */
void gw_log(enum gw_log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- growable buffer (gw_batch.c) ----------------------------------- */

struct gw_buf {
	char *p;
	size_t len, cap;
};

/* Make room for extra more bytes. Returns 0 or -1 (out of memory). */
int gw_buf_reserve(struct gw_buf *b, size_t extra);
int gw_buf_add(struct gw_buf *b, const void *data, size_t len);
void gw_buf_free(struct gw_buf *b);

/* ---- batch (gw_batch.c) --------------------------------------------- */

/*
 * One batch: every row that goes to PostgreSQL in one transaction. Rows
 * are kept as COPY text (positions, rejects, vehicle states) or as
 * (vehicle, JSON without its "id") pairs (alerts). The serialised form is
 * what the spool stores and what the writer sends.
 */
struct gw_batch {
	struct gw_buf pos, alerts, rejects, states;
	uint32_t npos, nalerts, nrejects, nstates;
	int64_t first_us;        /* monotonic time of the first row, 0 = empty */
};

void gw_batch_reset(struct gw_batch *b);
void gw_batch_free(struct gw_batch *b);
size_t gw_batch_bytes(const struct gw_batch *b);
bool gw_batch_empty(const struct gw_batch *b);

/* Append a row. Return 0 or -1 (out of memory: the row is not added). */
int gw_batch_add_position(struct gw_batch *b, const struct ing_fix *fix,
                          const int64_t *zone_ids, size_t nzones, int64_t received_us);
int gw_batch_add_reject(struct gw_batch *b, const char *topic, const void *payload,
                        size_t len, const char *reason, const char *message,
                        int64_t received_us);
/* json: gf_alert_format output with "id":null. */
int gw_batch_add_alert(struct gw_batch *b, const char *vehicle, const char *json, size_t len);
int gw_batch_add_state(struct gw_batch *b, const char *vehicle, int64_t last_us, double lat,
                       double lon, const uint8_t *blob, size_t bloblen, bool has_seq,
                       int64_t seq);

/* Serialise into out (replacing its contents). Returns 0 or -1. */
int gw_batch_serialize(const struct gw_batch *b, struct gw_buf *out);

/* A serialised batch read back: sections point into the record. */
struct gw_batch_view {
	uint32_t npos, nalerts, nrejects, nstates;
	const char *pos, *alerts, *rejects, *states;
	size_t pos_len, alerts_len, rejects_len, states_len;
};

/* What gw_batch_parse refuses (gw_batch_strerror names each). */
enum gw_batch_err {
	GW_BATCH_OK = 0,
	GW_BATCH_ESHORT = -1,    /* shorter than the header */
	GW_BATCH_EMAGIC = -2,    /* not "HGB1" */
	GW_BATCH_ELENGTH = -3,   /* section lengths do not sum to the record */
	GW_BATCH_EROWS = -4,     /* a count does not match its section's rows */
	GW_BATCH_EFIELDS = -5,   /* a COPY row with the wrong number of fields */
	GW_BATCH_EBYTE = -6,     /* NUL, raw CR or an escape the writer never makes */
	GW_BATCH_EALERT = -7,    /* an alert that is not (vehicle, {"id":null...) */
};

/* Fields per COPY row in each section (tabs + 1). */
#define GW_BATCH_POS_FIELDS 16
#define GW_BATCH_REJECT_FIELDS 5
#define GW_BATCH_STATE_FIELDS 6

/* Read a record back (from the spool: it may be damaged or from a buggy
 * writer). Checks the whole shape: header, lengths, every count against its
 * section, fields per row, bytes and escapes, the alert pairs; so a record
 * it accepts sends PostgreSQL exactly the rows the counts say and
 * gw_batch_next_alert yields exactly nalerts pairs. Returns GW_BATCH_OK, or
 * a negative enum gw_batch_err (v is then zeroed). Never reads outside
 * rec[0..len). */
int gw_batch_parse(const void *rec, size_t len, struct gw_batch_view *v);
const char *gw_batch_strerror(int err);

/* Walk the alerts of a view: *vehicle, *json (NUL-terminated, "id":null
 * form). off starts at 0. Returns 0 while there is one, -1 at the end. */
int gw_batch_next_alert(const struct gw_batch_view *v, size_t *off, const char **vehicle,
                        const char **json);

/* Write "YYYY-MM-DD HH:MM:SS.uuuuuu+00" (NUL-terminated, 30 bytes). */
void gw_format_ts(int64_t us, char out[32]);

/* Append s escaped for COPY text format. */
int gw_copy_escape(struct gw_buf *b, const char *s, size_t len);

/* ---- vehicle table (gw_vtab.c) --------------------------------------- */

struct gw_vehicle {
	char name[ING_VEHICLE_MAX + 1];
	bool has_seq;
	bool has_fix;
	bool dirty;              /* listed for the next batch's vehicle_state */
	bool unsaved;            /* changed since its state was last saved */
	bool must_save;          /* more than time and place changed */
	int64_t saved_mono_us;
	int64_t seq;
	int64_t last_us;
	double lat, lon;
};

struct gw_vtab;

struct gw_vtab *gw_vtab_new(void);
void gw_vtab_free(struct gw_vtab *t);
/* Find or add. Returns NULL for a name that is empty or longer than
 * ING_VEHICLE_MAX, or out of memory (counted in gw_vtab_oom(); the vehicle
 * is then not added). The pointer stays valid until
 * the next gw_vtab_get (the table may grow). */
struct gw_vehicle *gw_vtab_get(struct gw_vtab *t, const char *name);
size_t gw_vtab_count(const struct gw_vtab *t);
/* Mark v dirty (listed for the next batch's vehicle_state rows). Returns 0,
 * or -1 out of memory: v is not listed (nor marked), counted in
 * gw_vtab_oom(); the table stays consistent. */
int gw_vtab_touch(struct gw_vtab *t, struct gw_vehicle *v);
/* gw_vtab_get and gw_vtab_touch calls refused for lack of memory so far. */
uint64_t gw_vtab_oom(const struct gw_vtab *t);
/* Call fn for every vehicle. */
void gw_vtab_foreach(struct gw_vtab *t, void (*fn)(struct gw_vehicle *v, void *arg), void *arg);
/* Call fn for every dirty vehicle and clear the marks. */
void gw_vtab_drain_dirty(struct gw_vtab *t, void (*fn)(struct gw_vehicle *v, void *arg),
                         void *arg);

/* ---- asynchronous name resolution (gw_dns.c) --------------------------- */

enum gw_dns_err {
	GW_DNS_OK = 0,
	GW_DNS_ENOTFOUND = -1,   /* no address for the name (or no answer) */
	GW_DNS_ENOMEM = -2,
	GW_DNS_EBUSY = -3,       /* a lookup of this gw_dns is in flight */
};

struct gw_dns;

/* addr: the numeric address (borrowed for the call), NULL on error. */
typedef void (*gw_dns_cb)(void *arg, int err, const char *addr);

struct gw_dns *gw_dns_new(struct event_base *base);
/* Cancels a lookup in flight (its callback is not called). */
void gw_dns_free(struct gw_dns *d);
void gw_dns_cancel(struct gw_dns *d);
/* Resolve host without blocking: cb is called once, from the loop, or from
 * inside this call when host is numeric or a socket path (passed back as
 * it is), or when the answer is at hand (/etc/hosts). Returns GW_DNS_OK
 * (cb will be or was called) or a negative gw_dns_err (cb not called). */
int gw_dns_resolve(struct gw_dns *d, const char *host, gw_dns_cb cb, void *arg);
/* An IPv4/IPv6 address or a Unix socket path: nothing to resolve. */
bool gw_dns_numeric(const char *host);
const char *gw_dns_strerror(int err);

/* ---- metrics -------------------------------------------------------- */

#define GW_HIST_N 12
#define GW_ALERT_KINDS 9

struct gw_hist {
	const double *bounds;     /* GW_HIST_N upper bounds */
	uint64_t counts[GW_HIST_N + 1];
	double sum;
	uint64_t n;
};

void gw_hist_observe(struct gw_hist *h, double v);

struct gw_metrics {
	uint64_t received, decoded, ignored, rejected[ING_REASON_COUNT];
	uint64_t positions, positions_written, rejects_written, alerts_written;
	uint64_t alerts[GW_ALERT_KINDS], alerts_published, alerts_publish_failed;
	uint64_t batches_committed, batches_failed, batches_set_aside, oom_dropped;
	uint64_t transactions_committed; /* a transaction carries one or more batches */
	uint64_t batches_deduplicated, states_saved, records_unreadable;
	uint64_t lost_seq;
	uint64_t spool_appends, spool_full_events;
	uint64_t zone_reloads, zone_reload_failures;
	uint64_t mqtt_connects, pg_connects;
	struct gw_hist batch_rows, commit_seconds;
	double loop_lag_s, loop_lag_max_s;
};

/* ---- MQTT (gw_mqtt.c) ------------------------------------------------ */

struct gw_mqtt;

struct gw_mqtt_cbs {
	/* A message; topic and payload are borrowed for the call. */
	void (*on_message)(void *arg, const char *topic, const void *payload, size_t len,
	                   enum ing_format format);
	void (*on_state)(void *arg, bool connected);
	void *arg;
};

/* Returns NULL (logged) when the library refuses the options. */
struct gw_mqtt *gw_mqtt_new(struct event_base *base, const struct gw_config *cfg,
                            const struct gw_mqtt_cbs *cbs);
void gw_mqtt_free(struct gw_mqtt *m);
/* Connect (asynchronously) and keep connected until gw_mqtt_disconnect. */
void gw_mqtt_start(struct gw_mqtt *m);
/* Stop/resume reading: while paused, messages stay with the broker. */
void gw_mqtt_pause(struct gw_mqtt *m, bool paused);
bool gw_mqtt_connected(const struct gw_mqtt *m);
/* QoS 1 publish; returns 0 or -1 (not queued). */
int gw_mqtt_publish(struct gw_mqtt *m, const char *topic, const void *payload, size_t len,
                    bool retain);
/* Publishes not yet acknowledged by the broker. */
int gw_mqtt_unacked(const struct gw_mqtt *m);
/* Publish offline (retained) and disconnect cleanly. */
void gw_mqtt_disconnect(struct gw_mqtt *m);
bool gw_mqtt_paused(const struct gw_mqtt *m);

/* ---- PostgreSQL (gw_pg.c) -------------------------------------------- */

enum gw_pg_err {
	GW_PG_OK = 0,
	GW_PG_ELINK = -1,   /* the connection is down or went down: retry later */
	GW_PG_ESQL = -2,    /* the server refused a statement (rolled back) */
	GW_PG_ENOMEM = -3,
	GW_PG_EDUP = -4,    /* as ESQL, the refusal was a unique violation (23505) */
};

struct gw_pg_step {
	const char *sql;
	int nparams;
	const char *const *params;   /* text parameters, borrowed */
	const char *copy;            /* COPY ... FROM STDIN data, borrowed */
	size_t copylen;
	/* Result of a statement that returned rows or a command tag; res is
	 * borrowed. May be NULL. */
	void (*on_result)(void *arg, const PGresult *res);
	bool skip;                   /* not sent */
	bool all_results;            /* on_result gets error results too, and
	                                they do not fail the step */
};

#define GW_PG_STEPS_MAX 12

struct gw_pg_job {
	struct gw_pg_step steps[GW_PG_STEPS_MAX];
	size_t nsteps;
	void (*done)(void *arg, int err, const char *msg);
	void *arg;
	/* private to gw_pg.c */
	size_t cur;
	struct gw_pg_job *next;
};

struct gw_pg;

struct gw_pg_cbs {
	void (*on_ready)(void *arg);                /* connected and set up */
	void (*on_down)(void *arg);                 /* connection lost */
	void (*on_notify)(void *arg, const char *channel, const char *payload);
	void *arg;
};

struct gw_pg *gw_pg_new(struct event_base *base, const struct gw_config *cfg,
                        const struct gw_pg_cbs *cbs);
void gw_pg_free(struct gw_pg *pg);
void gw_pg_start(struct gw_pg *pg);
bool gw_pg_ready(const struct gw_pg *pg);
/* Queue a job (borrowed until done() is called; done is always called,
 * possibly from inside this call with GW_PG_ELINK when not ready). */
void gw_pg_submit(struct gw_pg *pg, struct gw_pg_job *job);
bool gw_pg_busy(const struct gw_pg *pg);
void gw_pg_set_reconnect_max(struct gw_pg *pg, int ms);
/* The host name in conninfo that libpq would resolve itself (a blocking
 * getaddrinfo in PQconnectPoll), so that gw_pg resolves it first and passes
 * hostaddr: one host, not numeric, not a socket directory, no hostaddr.
 * Copies it into out (cap bytes) and returns true; false when there is
 * none (or conninfo is not a connection string: libpq says why later). */
bool gw_pg_host_to_resolve(const char *conninfo, char *out, size_t cap);

/* ---- HTTP (gw_http.c) ------------------------------------------------ */

struct gw_http;
struct gw;

/* Returns NULL (logged) when the address cannot be bound. */
struct gw_http *gw_http_new(struct event_base *base, const char *listen, struct gw *gw);
void gw_http_free(struct gw_http *h);

/* ---- the daemon (gw_core.c) ------------------------------------------ */

struct gw *gw_new(struct event_base *base, const struct gw_config *cfg, const char *cfg_path);
void gw_free(struct gw *gw);
/* Start connecting; the pipeline starts once the database is ready. */
int gw_start(struct gw *gw);
void gw_reload(struct gw *gw);
/* Begin the SIGTERM drain; the loop exits when done or at the timeout. */
void gw_drain(struct gw *gw);
/* Exit status for main once the loop has ended. */
int gw_exit_code(const struct gw *gw);
/* Prometheus text of the metrics into out. */
void gw_metrics_render(struct gw *gw, struct gw_buf *out);
/* Healthy: MQTT and PostgreSQL up, or the spool absorbing. */
bool gw_healthy(const struct gw *gw, char *why, size_t len);

/* Microseconds, wall clock and monotonic. */
int64_t gw_now_us(void);
int64_t gw_mono_us(void);

#endif
