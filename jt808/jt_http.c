/*
 * jt_http.c - hazgate-jt808's answers to GET /metrics (the counters,
 * hazgate_jt808_*) and GET /healthz (200 "ok" when the broker is connected
 * and the registry loaded, else 503 with the cause), served by net_http on
 * [http] listen. A scrape costs one walk of the connections (sessions by
 * state).
 */
#include "jt808/jt_http.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include <event2/buffer.h>

#include "jt808/jt_server.h"
#include "net/net_http.h"

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
render(void *arg, struct evbuffer *b)
{
	const struct jt_server *srv = arg;
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
	counter(b, "not_ready_total",
		"registrations, authentications and reports left unanswered before the registry loaded",
		st->not_ready);
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
http_metrics(void *arg, struct evbuffer *out)
{
	render(arg, out);
}

static bool
http_health(void *arg, char *why, size_t len)
{
	struct jt_server_view v;
	const char *w = "ok";

	jt_server_view(arg, &v);
	if (!v.mqtt_up)
		w = "mqtt down";
	else if (!v.registry_loaded)
		w = "registry not loaded";
	else if (!v.pg_up)
		w = "ok: postgres down, registry in memory";
	snprintf(why, len, "%s", w);
	return !strncmp(w, "ok", 2);
}

struct net_http *
jt_http_new(struct event_base *base, const char *listen, const struct jt_server *srv)
{
	struct net_http_cbs cbs = { .metrics = http_metrics, .health = http_health,
				    .arg = (void *)srv };

	return net_http_new(base, listen, &cbs);
}
