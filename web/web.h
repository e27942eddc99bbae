/*
 * web.h - hazgate-web's server (web_core.c and the files of
 * web-internal.h): the board's files, the /api/v1 endpoints, the live
 * stream and the webhooks, on the caller's libevent loop.
 */
#ifndef HAZGATE_WEB_H
#define HAZGATE_WEB_H

struct event_base;
struct web;
struct web_config;

/* A server on base with cfg (copied): binds [web] listen (and
 * metrics_listen), loads the TLS certificate, starts the database pool,
 * the stream hub, the hooks and the password worker. NULL (logged) when
 * any of it fails. base must have been made with two priorities
 * (event_base_priority_init(base, 2)). */
struct web *web_new(struct event_base *base, const struct web_config *cfg);
/* Stop answering, end the streams and leave the loop. */
void web_stop(struct web *w);
/* 0, or 1 when the server stopped on an error (the schema is too old). */
int web_exit_code(const struct web *w);
void web_free(struct web *w);

#endif
