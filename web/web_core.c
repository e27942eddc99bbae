/*
 * web_core.c - hazgate-web's HTTP server: evhttp on [web] listen (TLS
 * through libevent's OpenSSL bufferevents when tls_cert is set), the
 * routing of a request, the answers and their security headers, the
 * connection limit, /metrics and /healthz on metrics_listen, and the
 * start and stop of everything the server owns.
 *
 * Bounds against slow or greedy clients: evhttp's header and body limits
 * (max_header_bytes; 4 x max_body_bytes, its 413 being an HTML page, so
 * that a body above max_body_bytes gets this server's JSON 413), timeout_s on every read and
 * write, and at most max_connections connections. evhttp (libevent 2.1)
 * has no connection limit and no hook at accept: each new connection's
 * bufferevent is made here (evhttp_set_bevcb) and, before any of its I/O
 * runs (an event of the higher priority), its evhttp_connection is found
 * through the bufferevent's callback argument, given a close callback
 * that counts it out, and closed at once when the limit is reached.
 */
#include "web/web.h"
#include "web/web-internal.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "common/hz_log.h"
#include "schema/schema.h"
#include "web/web_hook.h"
#include "web/web_stream.h"

/* ---- routing ------------------------------------------------------------------ */

static const char *
method_name(int m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_HEAD: return "HEAD";
	default: return "OTHER";
	}
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct web *w = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct web_call *c;
	struct web_bad bad;
	char *peer = NULL;
	uint16_t port = 0;

	w->n.requests++;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->out = evbuffer_new())) {
		if (c)
			free(c);
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	c->w = w;
	c->req = req;
	c->pg = -1;
	c->method = evhttp_request_get_command(req);
	if (evcon)
		evhttp_connection_get_peer(evcon, &peer, &port);
	snprintf(c->addr, sizeof(c->addr), "%s", peer ? peer : "-");
	if (w->stopping) {
		web_reply_error(c, 503, "stopping");
		return;
	}
	/* evhttp's own limit is 4 x max_body_bytes (its 413 is an HTML page):
	 * this one answers in JSON. */
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > w->cfg.web.max_body_bytes) {
		web_reply_error(c, 413, "the body is larger than %llu bytes",
				(unsigned long long)w->cfg.web.max_body_bytes);
		return;
	}
	if (!path || !*path)
		path = "/";
	if (query && !(c->query = strdup(query))) {
		web_reply_error(c, 500, "out of memory");
		return;
	}
	hz_log(HZ_LOG_DEBUG, "request", "method=%s path=\"%.200s\" address=%s",
	       method_name(c->method), path, c->addr);
	if (web_parse_path(path, &c->path, &bad) != 0) {
		web_reply_bad(c, &bad);
		return;
	}
	switch (c->path.route) {
	case WEB_R_NONE:
		web_static_serve(c, path);
		return;
	case WEB_R_UNKNOWN_API:
		web_reply_error(c, 404, "no such endpoint");
		return;
	case WEB_R_SESSION:
		if (c->method == EVHTTP_REQ_POST) {
			web_auth_login(c);
			return;
		}
		if (c->method == EVHTTP_REQ_DELETE)
			break;
		web_reply_error(c, 405, "POST (log in) or DELETE (log out)");
		return;
	default:
		break;
	}
	web_auth_begin(c, web_api_dispatch);
}

/* ---- /metrics and /healthz ------------------------------------------------------- */

static void
metrics(struct web *w, struct evbuffer *b)
{
	static const char *const classes[] = { "", "1xx", "2xx", "3xx", "4xx", "5xx" };
	int ready = 0;

	for (int i = 0; i < w->db.n; i++)
		ready += net_pg_ready(w->db.pg[i]);
	evbuffer_add_printf(b,
		"# HELP hazgate_web_requests_total HTTP requests received\n"
		"# TYPE hazgate_web_requests_total counter\n"
		"hazgate_web_requests_total %llu\n"
		"# HELP hazgate_web_responses_total answers by status class\n"
		"# TYPE hazgate_web_responses_total counter\n",
		(unsigned long long)w->n.requests);
	for (int i = 1; i <= 5; i++)
		evbuffer_add_printf(b, "hazgate_web_responses_total{code=\"%s\"} %llu\n",
				    classes[i], (unsigned long long)w->n.status[i]);
	evbuffer_add_printf(b,
		"# HELP hazgate_web_logins_total logins by result\n"
		"# TYPE hazgate_web_logins_total counter\n"
		"hazgate_web_logins_total{result=\"ok\"} %llu\n"
		"hazgate_web_logins_total{result=\"failed\"} %llu\n"
		"hazgate_web_logins_total{result=\"throttled\"} %llu\n"
		"# HELP hazgate_web_acks_total alerts acknowledged through the API\n"
		"# TYPE hazgate_web_acks_total counter\n"
		"hazgate_web_acks_total %llu\n"
		"# HELP hazgate_web_connections open HTTP connections\n"
		"# TYPE hazgate_web_connections gauge\n"
		"hazgate_web_connections %llu\n"
		"# HELP hazgate_web_connections_total connections accepted\n"
		"# TYPE hazgate_web_connections_total counter\n"
		"hazgate_web_connections_total %llu\n"
		"# HELP hazgate_web_connections_refused_total connections closed at max_connections\n"
		"# TYPE hazgate_web_connections_refused_total counter\n"
		"hazgate_web_connections_refused_total %llu\n"
		"# HELP hazgate_web_db_errors_total statements the database refused\n"
		"# TYPE hazgate_web_db_errors_total counter\n"
		"hazgate_web_db_errors_total %llu\n"
		"# HELP hazgate_web_db_connections_ready the API's database connections up\n"
		"# TYPE hazgate_web_db_connections_ready gauge\n"
		"hazgate_web_db_connections_ready %d\n",
		(unsigned long long)w->n.logins_ok, (unsigned long long)w->n.logins_failed,
		(unsigned long long)w->n.logins_throttled, (unsigned long long)w->n.acks,
		(unsigned long long)w->n.conns_open, (unsigned long long)w->n.conns_total,
		(unsigned long long)w->n.conns_refused, (unsigned long long)w->n.db_errors, ready);
	web_stream_metrics(w->stream, b);
	web_hooks_metrics(w->hooks, b);
}

static void
on_metrics_request(struct evhttp_request *req, void *arg)
{
	struct web *w = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *body = evbuffer_new();
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);

	if (!body) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	web_security_headers(req);
	if (!strcmp(uri, "/metrics")) {
		metrics(w, body);
		evhttp_add_header(hdr, "Content-Type", "text/plain; version=0.0.4");
		evhttp_send_reply(req, 200, "OK", body);
	} else if (!strcmp(uri, "/healthz")) {
		bool ok = web_db_ready(&w->db) && w->db.schema_ok;

		evbuffer_add_printf(body, "%s\n", ok ? "ok" : !web_db_ready(&w->db)
				    ? "PostgreSQL is not connected" : w->db.schema_msg);
		evhttp_add_header(hdr, "Content-Type", "text/plain");
		evhttp_send_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", body);
	} else {
		evbuffer_add_printf(body, "not found: try /metrics or /healthz\n");
		evhttp_send_reply(req, 404, "Not Found", body);
	}
	evbuffer_free(body);
}

/* ---- connections ------------------------------------------------------------------ */

struct newconn {
	struct web *w;
	struct bufferevent *bev;
	struct event *ev;
};

static void
on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	struct web *w = arg;

	(void)evcon;
	if (w->n.conns_open > 0)
		w->n.conns_open--;
}

/* Runs before any I/O of the new connection (higher priority). */
static void
on_newconn(evutil_socket_t fd, short what, void *arg)
{
	struct newconn *nc = arg;
	struct web *w = nc->w;
	void *cbarg = NULL;

	(void)fd;
	(void)what;
	bufferevent_getcb(nc->bev, NULL, NULL, NULL, &cbarg);
	if (!cbarg) {                   /* already gone */
		w->n.conns_open--;
	} else {
		struct evhttp_connection *evcon = cbarg;
		evutil_socket_t sock = bufferevent_getfd(nc->bev);
		int one = 1;

		/* Answers are written whole: without this, the tail of one
		 * waits for the client's delayed ACK (Nagle), 40 ms on a
		 * kept-alive connection (bench/bench_web_api.sh). */
		if (sock >= 0)
			(void)setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		evhttp_connection_set_closecb(evcon, on_conn_close, w);
		if (w->n.conns_open > (uint64_t)w->cfg.web.max_connections) {
			w->n.conns_refused++;
			hz_log(HZ_LOG_WARN, "connection_refused", "open=%llu max=%d",
			       (unsigned long long)w->n.conns_open, w->cfg.web.max_connections);
			evhttp_connection_free(evcon);
		}
	}
	bufferevent_decref(nc->bev);
	event_free(nc->ev);
	free(nc);
}

static struct bufferevent *
on_bev(struct event_base *base, void *arg)
{
	struct web *w = arg;
	struct bufferevent *bev;
	struct newconn *nc;

	if (w->ssl_ctx) {
		SSL *ssl = SSL_new(w->ssl_ctx);

		if (!ssl)
			return NULL;
		bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
						     BEV_OPT_CLOSE_ON_FREE);
	} else {
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!bev)
		return NULL;
	w->n.conns_open++;
	w->n.conns_total++;
	nc = calloc(1, sizeof(*nc));
	if (nc)
		nc->ev = event_new(base, -1, 0, on_newconn, nc);
	if (!nc || !nc->ev || event_priority_set(nc->ev, 0) != 0) {
		/* Not counted: it is served, only not limited. */
		w->n.conns_open--;
		if (nc && nc->ev)
			event_free(nc->ev);
		free(nc);
		return bev;
	}
	nc->w = w;
	nc->bev = bev;
	bufferevent_incref(bev);
	event_active(nc->ev, EV_TIMEOUT, 0);
	return bev;
}

/* No inline script, ever; styles may be set inline (Leaflet positions its
 * panes with style attributes); images also from the tile server's origin
 * (its scheme alone when the host is a {s} template). */
static void
make_csp(struct web *w)
{
	char origin[WEB_PATH_MAX] = "";
	const char *t = w->cfg.web.tiles_url;
	const char *sep = strstr(t, "://");

	if (sep) {
		const char *end = strchr(sep + 3, '/');
		size_t n = end ? (size_t)(end - t) : strlen(t);

		if (memchr(t, '{', n) || memchr(t, ';', n) || memchr(t, ' ', n) ||
		    memchr(t, '\'', n))
			n = (size_t)(sep - t) + 1;      /* "https:" */
		snprintf(origin, sizeof(origin), " %.*s", (int)n, t);
	}
	snprintf(w->csp, sizeof(w->csp),
		 "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
		 "img-src 'self' data: blob:%s; connect-src 'self'; media-src 'self' data: blob:; "
		 "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
		 "form-action 'self'", origin);
}

/* ---- start and stop ------------------------------------------------------------------ */

static const char web_pg_setup_sql[] = "SET TimeZone = 'UTC'";

static void
on_schema(void *arg, const PGresult *res)
{
	struct web *w = arg;

	w->db.schema_ok = sch_check_result(res, w->db.schema_msg, sizeof(w->db.schema_msg)) ==
			  SCH_OK;
}

static struct net_pg_job schema_job;

static void
schema_done(void *arg, int err, const char *msg)
{
	struct web *w = arg;

	w->db.schema_busy = false;
	if (err) {
		hz_log(HZ_LOG_WARN, "schema_check_failed", "why=\"%s\"", msg ? msg : "");
		return;
	}
	if (!w->db.schema_ok) {
		hz_log(HZ_LOG_ERROR, "schema_too_old", "why=\"%s\" action=exit "
		       "hint=\"run hazgate-ctl migrate\"", w->db.schema_msg);
		w->exit_code = 1;
		web_stop(w);
	}
}

static void
on_pg_ready(void *arg)
{
	struct web *w = arg;

	/* One check at a time: the pool's connections come up one after
	 * another, and the job (one static struct) may still be queued or
	 * running on the first when the second is ready; submitting it again
	 * reset it under net_pg's feet (hazgate-web died at start, 1 time in 8). */
	if (w->db.schema_ok || w->db.schema_busy || w->stopping)
		return;
	memset(&schema_job, 0, sizeof(schema_job));
	schema_job.steps[0] = (struct net_pg_step){ .sql = sch_applied_query, .on_result = on_schema,
						    .all_results = true };
	schema_job.nsteps = 1;
	schema_job.done = schema_done;
	schema_job.arg = w;
	for (int i = 0; i < w->db.n; i++)
		if (net_pg_ready(w->db.pg[i])) {
			w->db.schema_busy = true;
			net_pg_submit(w->db.pg[i], &schema_job);
			return;
		}
}

static int
tls_setup(struct web *w)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return -1;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, w->cfg.web.tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, w->cfg.web.tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char e[256];

		ERR_error_string_n(ERR_get_error(), e, sizeof(e));
		hz_log(HZ_LOG_ERROR, "tls_failed", "cert=%s key=%s why=\"%s\"", w->cfg.web.tls_cert,
		       w->cfg.web.tls_key, e);
		SSL_CTX_free(ctx);
		return -1;
	}
	w->ssl_ctx = ctx;
	return 0;
}

static struct evhttp *
listen_on(struct web *w, const char *listen)
{
	struct evhttp *h = evhttp_new(w->base);
	char host[WEB_STR_MAX];
	uint16_t port;

	if (!h)
		return NULL;
	if (web_config_split_listen(listen, host, sizeof(host), &port) != 0 ||
	    evhttp_bind_socket(h, host, port) != 0) {
		hz_log(HZ_LOG_ERROR, "listen_failed", "listen=%s why=\"cannot bind\"", listen);
		evhttp_free(h);
		return NULL;
	}
	return h;
}

/* The board's files: [web] assets, else the source tree's web/board when
 * the program runs from its build tree, else the installed ones. */
static void
find_assets(struct web *w)
{
	char exe[WEB_PATH_MAX];
	ssize_t n;

	if (w->cfg.web.assets[0]) {
		snprintf(w->assets, sizeof(w->assets), "%s", w->cfg.web.assets);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		if (!strcmp(exe, WEB_BUILDDIR)) {
			snprintf(w->assets, sizeof(w->assets), "%s/web/board", WEB_SRCDIR);
			return;
		}
	}
	snprintf(w->assets, sizeof(w->assets), "%s", WEB_ASSETSDIR);
}

struct web *
web_new(struct event_base *base, const struct web_config *cfg)
{
	struct web *w = calloc(1, sizeof(*w));
	struct net_pg_cbs cbs;
	struct net_pg_conf ownc;

	if (!w)
		return NULL;
	w->base = base;
	w->cfg = *cfg;
	find_assets(w);
	make_csp(w);
	snprintf(w->vendor_dir, sizeof(w->vendor_dir), "%s", WEB_LEAFLETDIR);
	if (w->cfg.web.tls_cert[0] && tls_setup(w) != 0)
		goto err;
	w->pgc = (struct net_pg_conf){ .conninfo = w->cfg.postgres.conninfo,
				       .app_name = "hazgate-web",
				       .setup_sql = web_pg_setup_sql,
				       .reconnect_max_ms = w->cfg.postgres.reconnect_max_ms };
	cbs = (struct net_pg_cbs){ .on_ready = on_pg_ready, .arg = w };
	w->db.n = w->cfg.postgres.connections;
	for (int i = 0; i < w->db.n; i++) {
		w->db.pg[i] = net_pg_new(base, &w->pgc, &cbs);
		if (!w->db.pg[i])
			goto err;
	}
	w->throttle = web_throttle_new();
	w->worker = web_worker_new(base);
	w->exporter = web_worker_new(base);
	w->export = web_export_new(w->cfg.postgres.conninfo, web_pg_setup_sql);
	if (!w->throttle || !w->worker || !w->exporter || !w->export)
		goto err;
	/* The stream and the hooks: their own connections, same login,
	 * named by each (hazgate-web-stream, hazgate-web-hooks) in
	 * pg_stat_activity. */
	ownc = w->pgc;
	ownc.app_name = NULL;
	w->stream = web_stream_new(base, &ownc);
	w->hooks = web_hooks_new(base, &ownc, w->cfg.hooks, w->cfg.nhooks);
	if (!w->stream || !w->hooks)
		goto err;
	w->http = listen_on(w, w->cfg.web.listen);
	if (!w->http)
		goto err;
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
				   EVHTTP_REQ_DELETE);
	evhttp_set_max_headers_size(w->http, (ev_ssize_t)w->cfg.web.max_header_bytes);
	evhttp_set_max_body_size(w->http, (ev_ssize_t)(4 * w->cfg.web.max_body_bytes));
	evhttp_set_timeout(w->http, w->cfg.web.timeout_s);
	evhttp_set_bevcb(w->http, on_bev, w);
	evhttp_set_gencb(w->http, on_request, w);
	if (w->cfg.web.metrics_listen[0]) {
		w->mhttp = listen_on(w, w->cfg.web.metrics_listen);
		if (!w->mhttp)
			goto err;
		evhttp_set_allowed_methods(w->mhttp, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
		evhttp_set_timeout(w->mhttp, w->cfg.web.timeout_s);
		evhttp_set_gencb(w->mhttp, on_metrics_request, w);
	}
	for (int i = 0; i < w->db.n; i++)
		net_pg_start(w->db.pg[i]);
	hz_log(HZ_LOG_INFO, "listening", "listen=%s tls=%s metrics=%s assets=%s",
	       w->cfg.web.listen, w->ssl_ctx ? "yes" : "no",
	       w->cfg.web.metrics_listen[0] ? w->cfg.web.metrics_listen : "off", w->assets);
	return w;
err:
	web_free(w);
	return NULL;
}

void
web_stop(struct web *w)
{
	if (w->stopping)
		return;
	w->stopping = true;
	web_stream_close_all(w->stream);
	event_base_loopexit(w->base, NULL);
}

int
web_exit_code(const struct web *w)
{
	return w->exit_code;
}

void
web_free(struct web *w)
{
	if (!w)
		return;
	w->stopping = true;
	/* The workers first: the calls they hold are freed unanswered. Then
	 * the database (pending calls' then() sees stopping and frees them
	 * without touching their request), then the HTTP servers. */
	web_worker_free(w->worker);
	web_worker_free(w->exporter);
	w->worker = w->exporter = NULL;
	web_export_free(w->export);     /* its thread has stopped */
	w->export = NULL;
	for (int i = 0; i < w->db.n; i++)
		net_pg_free(w->db.pg[i]);
	w->db.n = 0;
	web_stream_free(w->stream);
	web_hooks_free(w->hooks);
	if (w->http)
		evhttp_free(w->http);
	if (w->mhttp)
		evhttp_free(w->mhttp);
	if (w->ssl_ctx)
		SSL_CTX_free(w->ssl_ctx);
	web_throttle_free(w->throttle);
	free(w);
}
