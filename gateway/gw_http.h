/*
 * gw_http.h - evhttp on [http] listen (gw_http.c): GET /metrics and
 * GET /healthz, answered by the callbacks its owner gives it.
 */
#ifndef HAZGATE_GW_HTTP_H
#define HAZGATE_GW_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct gw_buf;
struct gw_http;

struct gw_http_cbs {
	/* Append the Prometheus text of the metrics to out (emptied before). */
	void (*metrics)(void *arg, struct gw_buf *out);
	/* true when healthy; why (len bytes) gets the one-line reason. */
	bool (*health)(void *arg, char *why, size_t len);
	void *arg;
};

/* Returns NULL (logged) when the address cannot be bound. cbs is copied. */
struct gw_http *gw_http_new(struct event_base *base, const char *listen,
                            const struct gw_http_cbs *cbs);
void gw_http_free(struct gw_http *h);

#endif
