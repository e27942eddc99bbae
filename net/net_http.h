/*
 * net_http.h - a daemon's /metrics and /healthz (net_http.c): evhttp on
 * its loop, answered by the callbacks its owner gives it. Used by the
 * gateway ([http] listen) and hazgate-jt808.
 */
#ifndef HAZGATE_NET_HTTP_H
#define HAZGATE_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct evbuffer;
struct net_http;

struct net_http_cbs {
	/* Append the Prometheus text of the metrics to out. */
	void (*metrics)(void *arg, struct evbuffer *out);
	/* true when healthy; why (len bytes) gets the one-line reason. */
	bool (*health)(void *arg, char *why, size_t len);
	void *arg;
};

/* Serve GET /metrics (text format 0.0.4) and GET /healthz (200 or 503
 * with the reason) on listen, ADDRESS:PORT. Returns NULL (logged) when
 * the address is not ADDRESS:PORT or cannot be bound. cbs is copied. */
struct net_http *net_http_new(struct event_base *base, const char *listen,
                              const struct net_http_cbs *cbs);
void net_http_free(struct net_http *h);

#endif
