/*
 * web_call.c - one call of hazgate-web (web-internal.h): its answers (JSON
 * with the security headers, errors as {"error"}), its body, its end; and
 * the roles' order. The leaf the other files of the server call back.
 */
#include "web/web-internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>
#include <sodium.h>

/* ---- roles ------------------------------------------------------------------ */

static const char *const role_names[] = { "", "viewer", "dispatcher", "admin" };

enum web_role
web_role_parse(const char *s)
{
	for (int r = WEB_ROLE_VIEWER; r <= WEB_ROLE_ADMIN; r++)
		if (s && !strcmp(s, role_names[r]))
			return (enum web_role)r;
	return WEB_ROLE_NONE;
}

const char *
web_role_name(enum web_role r)
{
	return r >= WEB_ROLE_VIEWER && r <= WEB_ROLE_ADMIN ? role_names[r] : "none";
}

bool
web_role_allows(enum web_role role, enum web_role need)
{
	return role != WEB_ROLE_NONE && need != WEB_ROLE_NONE && role >= need;
}

/* ---- answers ------------------------------------------------------------------ */

void
web_call_free(struct web_call *c)
{
	if (!c)
		return;
	if (c->out)
		evbuffer_free(c->out);
	free(c->query);
	free(c->note);
	free(c->text);
	sodium_memzero(c->password, sizeof(c->password));
	free(c);
}

void
web_security_headers(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

void
web_reply(struct web_call *c, int status, const char *type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);

	if (c->w->stopping) {
		web_call_free(c);
		return;
	}
	if (status >= 100 && status < 600)
		c->w->n.status[status / 100]++;
	web_security_headers(c->req);
	if (!evhttp_find_header(h, "Content-Type"))
		evhttp_add_header(h, "Content-Type", type ? type : "application/json");
	evhttp_add_header(h, "Content-Security-Policy", c->w->csp);
	if (!evhttp_find_header(h, "Cache-Control"))
		evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(c->req, status, reason(status), c->out);
	web_call_free(c);
}

void
web_json_reply(struct web_call *c, int status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))
		       : NULL;

	json_decref(j);
	if (!text) {
		web_reply_error(c, 500, "out of memory");
		return;
	}
	evbuffer_drain(c->out, evbuffer_get_length(c->out));
	evbuffer_add(c->out, text, strlen(text));
	evbuffer_add(c->out, "\n", 1);
	free(text);
	web_reply(c, status, NULL);
}

void
web_reply_error(struct web_call *c, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->w->stopping) {
		web_call_free(c);
		return;
	}
	web_json_reply(c, status, json_pack("{s:s}", "error", msg));
}

void
web_reply_bad(struct web_call *c, const struct web_bad *bad)
{
	web_reply_error(c, 400, "%s: %s", bad->param, bad->why);
}

int
web_body(struct web_call *c, char **out, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
	size_t n = evbuffer_get_length(in);
	char *p = malloc(n + 1);

	if (!p)
		return -1;
	evbuffer_copyout(in, p, n);
	p[n] = '\0';
	*out = p;
	*len = n;
	return 0;
}

