/*
 * web-feed-serve.c - the live feed (web/web_stream, web/web_hook) alone
 * behind a bare evhttp server, without hazgate-web's login: for the
 * feed's own tests and benchmark, which measure the feed and not the
 * server around it. Never installed.
 *
 *   web-feed-serve PORT CONNINFO [out_max heartbeat_ms]
 *                  [--hook NAME URL SECRET_FILE KINDS MIN_SEVERITY]...
 *
 * GET /api/v1/stream, GET /metrics; SIGTERM or SIGINT ends it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "net/net_pg.h"
#include "web/web_hook.h"
#include "web/web_stream.h"

struct app {
	struct web_stream *s;
	struct web_hooks *h;
};

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct app *a = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct evbuffer *b;

	if (path && strcmp(path, "/api/v1/stream") == 0) {
		web_stream_attach(a->s, req);
		return;
	}
	if (!path || strcmp(path, "/metrics") != 0 || !(b = evbuffer_new())) {
		evhttp_send_error(req, 404, NULL);
		return;
	}
	web_stream_metrics(a->s, b);
	web_hooks_metrics(a->h, b);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopexit(arg, NULL);
}

int
main(int argc, char **argv)
{
	struct web_hook_conf hooks[WEB_HOOK_MAX];
	size_t nhooks = 0;
	struct event_base *base;
	struct evhttp *http;
	struct event *sigterm, *sigint;
	struct net_pg_conf pgc = { 0 };
	struct app a;
	int i = 3;

	if (argc < 3) {
		fprintf(stderr, "usage: web-feed-serve PORT CONNINFO [OUT_MAX HEARTBEAT_MS]"
			" [--hook NAME URL SECRET_FILE KINDS MIN_SEVERITY]...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	pgc.conninfo = argv[2];
	pgc.reconnect_max_ms = 1000;
	base = event_base_new();
	http = evhttp_new(base);
	if (!base || !http || evhttp_bind_socket(http, "127.0.0.1", (unsigned short)atoi(argv[1]))) {
		fprintf(stderr, "web-feed-serve: cannot listen on port %s\n", argv[1]);
		return 1;
	}
	a.s = web_stream_new(base, &pgc);
	if (argc >= 5 && strcmp(argv[3], "--hook") != 0) {
		web_stream_set_limits(a.s, (size_t)atol(argv[3]), atoi(argv[4]));
		i = 5;
	}
	for (; i + 5 < argc + 0 && strcmp(argv[i], "--hook") == 0 && nhooks < WEB_HOOK_MAX; i += 6) {
		struct web_hook_conf *h = &hooks[nhooks++];

		memset(h, 0, sizeof(*h));
		snprintf(h->name, sizeof(h->name), "%s", argv[i + 1]);
		snprintf(h->url, sizeof(h->url), "%s", argv[i + 2]);
		snprintf(h->secret_file, sizeof(h->secret_file), "%s", argv[i + 3]);
		snprintf(h->kinds, sizeof(h->kinds), "%s", argv[i + 4]);
		snprintf(h->min_severity, sizeof(h->min_severity), "%s", argv[i + 5]);
	}
	a.h = web_hooks_new(base, &pgc, hooks, nhooks);
	if (!a.s || !a.h)
		return 1;
	evhttp_set_gencb(http, on_request, &a);
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	fprintf(stderr, "web-feed-serve: listening\n");
	event_base_dispatch(base);
	web_stream_free(a.s);
	web_hooks_free(a.h);
	evhttp_free(http);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(base);
	return 0;
}
