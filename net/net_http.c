/*
 * net_http.c - evhttp on a daemon's [http] listen: GET /metrics (Prometheus
 * text format 0.0.4) and GET /healthz (200 "ok..." or 503 with the cause).
 * Served from the daemon's own loop; a scrape costs one render of the
 * counters, nothing on the message path. The answers come from the
 * owner's callbacks (struct net_http_cbs): this file knows HTTP, not the
 * daemon.
 */
#include "net/net_http.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/hz_log.h"

#define NET_HTTP_HOST_MAX 128

struct net_http {
	struct evhttp *http;
	struct net_http_cbs cbs;
};

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct net_http *h = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *body = evbuffer_new();
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);

	if (!body) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	if (!strcmp(uri, "/metrics")) {
		h->cbs.metrics(h->cbs.arg, body);
		evhttp_add_header(hdr, "Content-Type", "text/plain; version=0.0.4");
		evhttp_send_reply(req, 200, "OK", body);
	} else if (!strcmp(uri, "/healthz")) {
		char why[128];
		bool ok = h->cbs.health(h->cbs.arg, why, sizeof(why));

		evbuffer_add_printf(body, "%s\n", why);
		evhttp_add_header(hdr, "Content-Type", "text/plain");
		evhttp_send_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", body);
	} else {
		evbuffer_add_printf(body, "not found: try /metrics or /healthz\n");
		evhttp_send_reply(req, 404, "Not Found", body);
	}
	evbuffer_free(body);
}

struct net_http *
net_http_new(struct event_base *base, const char *listen, const struct net_http_cbs *cbs)
{
	struct net_http *h = calloc(1, sizeof(*h));
	char host[NET_HTTP_HOST_MAX];
	const char *colon = strrchr(listen, ':');
	long port;

	if (!h)
		return NULL;
	if (!colon || (size_t)(colon - listen) >= sizeof(host) ||
	    (port = strtol(colon + 1, NULL, 10)) < 0 || port > 65535) {
		hz_log(HZ_LOG_ERROR, "http_failed", "listen=%s why=\"want ADDRESS:PORT\"", listen);
		free(h);
		return NULL;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	h->cbs = *cbs;
	h->http = evhttp_new(base);
	if (!h->http || evhttp_bind_socket(h->http, host, (uint16_t)port) != 0) {
		hz_log(HZ_LOG_ERROR, "http_failed", "listen=%s why=\"cannot bind\"", listen);
		net_http_free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(h->http, on_request, h);
	hz_log(HZ_LOG_INFO, "http_listening", "listen=%s", listen);
	return h;
}

void
net_http_free(struct net_http *h)
{
	if (!h)
		return;
	if (h->http)
		evhttp_free(h->http);
	free(h);
}
