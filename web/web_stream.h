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

struct event_base;
struct evbuffer;
struct evhttp_request;
struct net_pg_conf;
struct web_stream;

/* A stream hub on base, connecting with pgc (copied; its strings are
 * borrowed and must outlive the hub), or NULL out of memory. */
struct web_stream *web_stream_new(struct event_base *base, const struct net_pg_conf *pgc);
void web_stream_free(struct web_stream *s);
/* Take over an authenticated GET /api/v1/stream (the caller has checked
 * the login and its role): the hub answers 200 text/event-stream and owns
 * the request until the client goes away or web_stream_close_all. */
void web_stream_attach(struct web_stream *s, struct evhttp_request *req);
/* Append the hub's Prometheus lines (hazgate_web_stream_*) to out. */
void web_stream_metrics(const struct web_stream *s, struct evbuffer *out);
/* End every client's stream (the server is stopping). */
void web_stream_close_all(struct web_stream *s);

#endif
