/*
 * jt_http.c - evhttp on [http] listen: GET /metrics renders the server's
 * counters (hazgate_jt808_*), GET /healthz answers 200 "ok" when the
 * broker is connected and the registry loaded, else 503 with the cause.
 * A scrape costs one walk of the connections (sessions by state).
 */
#include "jt808/jt_http.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/hz_log.h"
#include "jt808/jt_server.h"

struct jt_http {
	struct evhttp *http;
	const struct jt_server *srv;
};

static void
counter(struct evbuffer *b, const char *name, const char *help, uint64_t v)
{
	evbuffer_add_printf(b, "# HELP hazgate_jt808_%s %s\n# TYPE hazgate_jt808_%s counter\n"
			    "hazgate_jt808_%s %" PRIu64 "\n", name, help, name, name, v);
}

static void
gauge(struct evbuffer *b, const char *name, const char *help, uint64_t v)
{
	evbuffer_add_printf(b, "# HELP hazgate_jt808_%s %s\n# TYPE hazgate_jt808_%s gauge\n"
			    "hazgate_jt808_%s %" PRIu64 "\n", name, help, name, name, v);
}

/* The head of a labelled family. */
static void
family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP hazgate_jt808_%s %s\n# TYPE hazgate_jt808_%s %s\n",
			    name, help, name, type);
}

static void
render(const struct jt_server *srv, struct evbuffer *b)
{
	const struct jt_stats *st = jt_server_session_stats(srv);
	const struct jt_server_stats *ss = jt_server_stats(srv);
	const struct jt_registry *reg = jt_server_registry(srv);
	struct jt_server_view v;

	jt_server_view(srv, &v);
	gauge(b, "connections", "open terminal connections", v.connections);
	family(b, "sessions", "gauge", "sessions by state");
	evbuffer_add_printf(b, "hazgate_jt808_sessions{state=\"new\"} %u\n"
			    "hazgate_jt808_sessions{state=\"authenticated\"} %u\n",
			    v.connections - v.authenticated, v.authenticated);
	counter(b, "connections_accepted_total", "connections accepted", ss->accepted);
	family(b, "connections_refused_total", "counter", "connections closed at accept");
	evbuffer_add_printf(b, "hazgate_jt808_connections_refused_total{reason=\"max_connections\"} %"
			    PRIu64 "\nhazgate_jt808_connections_refused_total{reason=\"per_address\"} %"
			    PRIu64 "\n", ss->refused_max, ss->refused_per_address);
	family(b, "connections_closed_total", "counter", "connections closed, by cause");
	evbuffer_add_printf(b, "hazgate_jt808_connections_closed_total{reason=\"idle\"} %" PRIu64
			    "\nhazgate_jt808_connections_closed_total{reason=\"garbage\"} %" PRIu64
			    "\nhazgate_jt808_connections_closed_total{reason=\"peer\"} %" PRIu64 "\n",
			    ss->closed_idle, ss->closed_garbage, ss->closed_peer);
	family(b, "frames_total", "counter", "whole messages received, by message id");
	for (int k = 0; k < JT_KIND_COUNT; k++)
		evbuffer_add_printf(b, "hazgate_jt808_frames_total{msg_id=\"%s\"} %" PRIu64 "\n",
				    jt_session_kind_name((enum jt_kind)k), st->frames[k]);
	counter(b, "subpackages_total", "subpackage parts received", st->parts);
	family(b, "rejects_total", "counter", "frames, messages and items refused, by reason");
	for (unsigned r = JT_E_GARBAGE; r < JT_REASON_COUNT; r++)
		if (r != JT_E_NO_SPACE && r != JT_E_ARG)
			evbuffer_add_printf(b, "hazgate_jt808_rejects_total{reason=\"%s\"} %" PRIu64
					    "\n", jt_session_reason_name(r), st->rejects[r]);
	counter(b, "rejects_stored_total", "rejects written to the rejects table",
		ss->rejects_stored);
	counter(b, "rejects_dropped_total", "rejects not stored (queue full)", ss->rejects_dropped);
	family(b, "replies_total", "counter", "0x8001 replies sent, by result");
	for (int r = 0; r < 4; r++)
		evbuffer_add_printf(b, "hazgate_jt808_replies_total{result=\"%d\"} %" PRIu64 "\n", r,
				    st->replies[r]);
	family(b, "registrations_total", "counter", "0x0100 answered, by outcome");
	evbuffer_add_printf(b, "hazgate_jt808_registrations_total{result=\"ok\"} %" PRIu64
			    "\nhazgate_jt808_registrations_total{result=\"refused\"} %" PRIu64 "\n",
			    st->register_ok, st->register_refused);
	family(b, "authentications_total", "counter", "0x0102 answered, by outcome");
	evbuffer_add_printf(b, "hazgate_jt808_authentications_total{result=\"ok\"} %" PRIu64
			    "\nhazgate_jt808_authentications_total{result=\"failed\"} %" PRIu64 "\n",
			    st->auth_ok, st->auth_failed);
	counter(b, "reports_unauthenticated_total", "reports answered 1 (not authenticated)",
		st->unauthenticated);
	counter(b, "publishes_total", "fixes published (QoS 1)", st->fixes_published);
	counter(b, "publishes_acked_total", "publishes acknowledged by the broker (PUBACK)",
		ss->publishes_acked);
	gauge(b, "publishes_pending", "publishes awaiting PUBACK", v.pending);
	counter(b, "publishes_refused_total",
		"fixes not published (broker away, bounds): their report is not answered",
		st->fixes_not_published);
	counter(b, "alarm_only_total", "reports without a position published for their alarms",
		st->alarm_only);
	counter(b, "reassembly_completed_total", "messages reassembled from subpackages",
		st->reasm_completed);
	counter(b, "reassembly_timeouts_total", "incomplete subpackaged messages dropped after the timeout",
		st->reasm_timeouts);
	counter(b, "reassembly_dropped_total", "subpackaged messages dropped (replaced, too large)",
		st->reasm_dropped);
	counter(b, "reassembly_busy_total", "parts refused: too many reassemblies at once",
		st->reasm_busy);
	gauge(b, "registry_terminals", "terminals in the registry", reg->known);
	gauge(b, "mqtt_connected", "1 when connected to the broker", v.mqtt_up);
	gauge(b, "postgres_connected", "1 when the database connection is ready", v.pg_up);
	counter(b, "mqtt_connects_total", "successful broker connections", ss->mqtt_connects);
	counter(b, "db_writes_failed_total", "registry writes the database refused",
		ss->db_writes_failed);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct jt_http *h = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *body = evbuffer_new();
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);

	if (!body) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	if (!strcmp(uri, "/metrics")) {
		render(h->srv, body);
		evhttp_add_header(hdr, "Content-Type", "text/plain; version=0.0.4");
		evhttp_send_reply(req, 200, "OK", body);
	} else if (!strcmp(uri, "/healthz")) {
		struct jt_server_view v;
		const char *why = "ok";

		jt_server_view(h->srv, &v);
		if (!v.mqtt_up)
			why = "mqtt down";
		else if (!v.registry_loaded)
			why = "registry not loaded";
		else if (!v.pg_up)
			why = "ok: postgres down, registry in memory";
		evbuffer_add_printf(body, "%s\n", why);
		evhttp_add_header(hdr, "Content-Type", "text/plain");
		if (!strncmp(why, "ok", 2))
			evhttp_send_reply(req, 200, "OK", body);
		else
			evhttp_send_reply(req, 503, "Service Unavailable", body);
	} else {
		evbuffer_add_printf(body, "not found: try /metrics or /healthz\n");
		evhttp_send_reply(req, 404, "Not Found", body);
	}
	evbuffer_free(body);
}

struct jt_http *
jt_http_new(struct event_base *base, const char *listen, const struct jt_server *srv)
{
	struct jt_http *h = calloc(1, sizeof(*h));
	const char *colon = strrchr(listen, ':');
	char host[128];

	if (!h)
		return NULL;
	/* jt_config checked the form ADDRESS:PORT. */
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	h->srv = srv;
	h->http = evhttp_new(base);
	if (!h->http || evhttp_bind_socket(h->http, host, (uint16_t)atoi(colon + 1)) != 0) {
		hz_log(HZ_LOG_ERROR, "http_failed", "listen=%s why=\"cannot bind\"", listen);
		jt_http_free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(h->http, on_request, h);
	hz_log(HZ_LOG_INFO, "http_listening", "listen=%s", listen);
	return h;
}

void
jt_http_free(struct jt_http *h)
{
	if (!h)
		return;
	if (h->http)
		evhttp_free(h->http);
	free(h);
}
