/*
 * web_stream.h - GET /api/v1/stream: Server-Sent Events to boards and
 * machines (web_stream.c). Events `alert` (id: the alert id; a client's
 * Last-Event-ID resumes: every alert with a higher id, ascending, once),
 * `ack` and `position` (DESIGN.md "hazgate-web"). The stream keeps its own
 * database connection (net_pg), so a slow API query never holds up a live
 * event.
 */
#ifndef HAZGATE_WEB_STREAM_H
#define HAZGATE_WEB_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evbuffer;
struct evhttp_request;
struct net_pg_conf;
struct web_stream;

/* A stream hub on base, connecting with pgc (copied; its strings are
 * borrowed and must outlive the hub; its setup_sql is run before the
 * hub's own LISTENs), or NULL out of memory. It connects at once. */
struct web_stream *web_stream_new(struct event_base *base, const struct net_pg_conf *pgc);
/* Ends every client's stream (as web_stream_close_all) and frees the hub. */
void web_stream_free(struct web_stream *s);
/* Take over an authenticated GET /api/v1/stream (the caller has checked
 * the login and its role): the hub answers 200 text/event-stream and owns
 * the request until the client goes away or web_stream_close_all.
 * Query parameters: last_event_id=N (as the Last-Event-ID header, which
 * wins; for a first connection, which EventSource cannot give a header),
 * positions=0 (no position events). A bad one is answered 400. */
void web_stream_attach(struct web_stream *s, struct evhttp_request *req);
/* Append the hub's Prometheus lines (hazgate_web_stream_*) to out. */
void web_stream_metrics(const struct web_stream *s, struct evbuffer *out);
/* End every client's stream (the server is stopping). */
void web_stream_close_all(struct web_stream *s);

/* Limits (defaults WEB_STREAM_OUT_MAX, WEB_STREAM_HEARTBEAT_MS): a client
 * with more than out_max bytes not yet taken by its socket at a check
 * (twice a second), or four times that at any moment, is dropped (it
 * reconnects and resumes with Last-Event-ID); a comment line is sent to
 * every client each heartbeat_ms. 0 keeps a value. */
#define WEB_STREAM_OUT_MAX (1024 * 1024)
#define WEB_STREAM_HEARTBEAT_MS 15000
void web_stream_set_limits(struct web_stream *s, size_t out_max, int heartbeat_ms);

/* How many clients are attached (for /healthz and the tests). */
size_t web_stream_clients(const struct web_stream *s);

/*
 * The alert JSON of a row of alerts (alias a): the members of the JSON the
 * gateway publishes, in its order, plus acked_at, acked_by, ack_note. One
 * expression, for SELECT lists (the stream's replay, the webhooks).
 */
#define WEB_ALERT_JSON_SQL \
	"'{\"id\":' || a.id || ',\"kind\":' || to_json(a.kind) || ',\"severity\":' ||" \
	" to_json(a.severity) || ',\"vehicle\":' || to_json(a.vehicle) || ',\"zone_id\":' ||" \
	" coalesce(a.zone_id::text, 'null') || ',\"zone\":' ||" \
	" coalesce(to_json(a.zone_name)::text, 'null') || ',\"ts\":\"' ||" \
	" to_char(a.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') || '\",\"lat\":' ||" \
	" coalesce(a.lat::text, 'null') || ',\"lon\":' || coalesce(a.lon::text, 'null') ||" \
	" ',\"speed_kmh\":' || coalesce(a.speed_kmh::text, 'null') || ',\"detail\":' ||" \
	" a.detail::text || ',\"acked_at\":' || coalesce('\"' || to_char(a.acked_at AT TIME" \
	" ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') || '\"', 'null') || ',\"acked_by\":' ||" \
	" coalesce(to_json(a.acked_by)::text, 'null') || ',\"ack_note\":' ||" \
	" coalesce(to_json(a.ack_note)::text, 'null') || '}'"

/* ---- the pure parts, for the tests and the fuzz target ---------------- */

/* One line of a NOTIFY hazgate_positions payload (the gateway's
 * gw_batch_pos_notify): "vehicle\tts\tlat\tlon\tspeed_kmh\theading\tzone_ids". */
struct web_pos {
	char vehicle[33];         /* COPY escapes undone, 1..32 bytes, UTF-8 */
	char ts[25];              /* RFC 3339, milliseconds, Z */
	char lat[24], lon[24];    /* numbers as written */
	char speed[24], heading[24];   /* "" = null */
	const char *zones;        /* "1,2,3" (borrowed from the line), zones_len bytes */
	size_t zones_len;
};

/* Read one line (len bytes, no newline) into *out. Refuses (-1) anything
 * but the gateway's form: a missing field, a vehicle that is empty, too
 * long or not UTF-8, a time that is not RFC 3339, a number that is not
 * fixed-point decimal or is out of range, zone ids that are not
 * comma-separated integers. Returns 0. out->zones points into line. */
int web_pos_parse(const char *line, size_t len, struct web_pos *out);

/* The `position` event's JSON of p into buf (size bytes, NUL-terminated).
 * Returns its length, or 0 when it does not fit. */
size_t web_pos_json(const struct web_pos *p, char *buf, size_t size);

/* An `alert` event's data from a NOTIFY hazgate_alerts payload (the
 * gateway's alert JSON): the same object with acked_at, acked_by and
 * ack_note null appended, on one line, into out (cleared first); *id its
 * id. Returns 0, or -1 when the payload is not a JSON object with a
 * positive integer id (or out of memory). */
int web_alert_from_notify(const char *payload, size_t len, struct evbuffer *out, int64_t *id);

#endif
