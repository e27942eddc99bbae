/*
 * web_stream.c - the live stream (web_stream.h). Placeholder until the
 * stream lands: every client is told 503.
 */
#include "web/web_stream.h"

#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/http.h>

struct web_stream {
	struct event_base *base;
};

struct web_stream *
web_stream_new(struct event_base *base, const struct net_pg_conf *pgc)
{
	struct web_stream *s = calloc(1, sizeof(*s));

	(void)pgc;
	if (s)
		s->base = base;
	return s;
}

void
web_stream_free(struct web_stream *s)
{
	free(s);
}

void
web_stream_attach(struct web_stream *s, struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();

	(void)s;
	if (b)
		evbuffer_add_printf(b, "{\"error\":\"the stream is not available\"}\n");
	evhttp_send_reply(req, 503, "Service Unavailable", b);
	if (b)
		evbuffer_free(b);
}

void
web_stream_metrics(const struct web_stream *s, struct evbuffer *out)
{
	(void)s;
	(void)out;
}

void
web_stream_close_all(struct web_stream *s)
{
	(void)s;
}
