/*
 * jt_http.h - hazgate-jt808's /metrics (Prometheus text 0.0.4) and
 * /healthz on [http] listen (jt_http.c, on net/net_http), served from the
 * server's loop.
 */
#ifndef HAZGATE_JT_HTTP_H
#define HAZGATE_JT_HTTP_H

struct event_base;
struct net_http;
struct jt_server;

/* Listen on ADDRESS:PORT for srv's metrics and health; NULL (logged) when
 * it cannot be bound. Freed with net_http_free (net/net_http.h). */
struct net_http *jt_http_new(struct event_base *base, const char *listen,
                             const struct jt_server *srv);

#endif
