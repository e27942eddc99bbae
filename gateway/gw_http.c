/*
 * gw_http.c - evhttp on [http] listen: GET /metrics (Prometheus text
 * format 0.0.4) and GET /healthz (200 "ok..." when MQTT and PostgreSQL are
 * connected or the spool is absorbing an outage, else 503 with the cause).
 * Served from the daemon's own loop; a scrape costs one render of the
 * counters, nothing on the message path. The answers come from the owner's
 * callbacks (struct gw_http_cbs): this file knows HTTP, not the daemon.
 */
#include "gateway/gw_http.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "gateway/gw_batch.h"
#include "gateway/gw_config.h"
#include "common/hz_log.h"

struct gw_http {
	struct evhttp *http;
	struct gw_http_cbs cbs;
	struct gw_buf out;
};

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct gw_http *h = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *body = evbuffer_new();
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);

	if (!body) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	if (!strcmp(uri, "/metrics")) {
		h->out.len = 0;
		h->cbs.metrics(h->cbs.arg, &h->out);
		evbuffer_add(body, h->out.p, h->out.len);
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

struct gw_http *
gw_http_new(struct event_base *base, const char *listen, const struct gw_http_cbs *cbs)
{
	struct gw_http *h = calloc(1, sizeof(*h));
	char host[GW_STR_MAX];
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
		gw_http_free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(h->http, on_request, h);
	hz_log(HZ_LOG_INFO, "http_listening", "listen=%s", listen);
	return h;
}

void
gw_http_free(struct gw_http *h)
{
	if (!h)
		return;
	if (h->http)
		evhttp_free(h->http);
	gw_buf_free(&h->out);
	free(h);
}
