/*
 * web_hook.c - webhooks (web_hook.h).
 *
 * Each hook keeps a cursor: the id of the last alert its receiver answered
 * 2xx to, in webhook_cursors (schema/005_web_live.sql; a hook's row is
 * made at the newest alert when it first starts). A hook reads the
 * matching alerts above its cursor (kinds, min_severity) by pages of
 * PAGE, ascending, and POSTs them one at a time: the next only after the
 * previous one's 2xx, so a receiver sees them in order. A failure (no
 * connection, a timeout, an answer that is not 2xx) is retried after
 * hz_backoff's delay (RETRY_MIN_MS doubling to RETRY_MAX_MS, with jitter)
 * until it succeeds. After each 2xx the cursor is saved (UPDATE, in the
 * background and in order on the hooks' connection). At least once: an
 * alert delivered but not yet saved when the process dies is delivered
 * again after the restart. NOTIFY hazgate_alerts wakes an idle hook.
 *
 * The body is the alert JSON (web_stream.h WEB_ALERT_JSON_SQL: the
 * gateway's members plus acked_at, acked_by, ack_note, as they are when it
 * is read), signed X-Hazgate-Signature: sha256=HEX, HMAC-SHA256 of the
 * body with the secret (libsodium). libevent's evhttp client; https:// over
 * an OpenSSL bufferevent, the receiver's certificate verified against the
 * system's CAs (OpenSSL's default paths: SSL_CERT_FILE, SSL_CERT_DIR) and
 * its name (or IP address) checked, a fresh TLS connection per request
 * (evhttp cannot reconnect a TLS bufferevent). The host name is resolved
 * with net_dns before each new connection, never by a blocking lookup.
 */
#include "web/web_hook.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "geofence/geofence.h"
#include "common/hz_backoff.h"
#include "common/hz_file.h"
#include "common/hz_log.h"
#include "net/net_dns.h"
#include "net/net_pg.h"
#include "web/web_stream.h"

#define PAGE 100
#define RETRY_MIN_MS 250
#define RETRY_MAX_MS 60000
#define HTTP_TIMEOUT_S 10
#define SECRET_MAX 1024
#define BACKLOG_CAP 100000

struct item {
	int64_t id;
	char *body;
	size_t len;
};

struct hook {
	struct web_hooks *hs;
	struct web_hook_conf conf;
	unsigned char secret[SECRET_MAX];
	size_t secret_len;
	char host[256], hostport[300], path[512];
	int port;
	bool tls;                    /* https:// */
	char sev[2];                 /* minimum severity rank, "1".."3" */
	char kinds[256];             /* conf.kinds without blanks */
	/* database */
	bool known;                  /* its cursor has been read */
	int64_t cursor;              /* the last alert id delivered (2xx) */
	int64_t saved;               /* ... and saved */
	int64_t backlog;             /* matching alerts above the cursor, at the last read */
	struct net_pg_job fjob, sjob;
	char fparam[24], sparam[24];
	const char *fparams[4], *sparams[2];
	bool fetching, saving, dirty, more;
	/* what is to be delivered, in order */
	struct item *q;
	size_t nq, qhead;
	/* HTTP */
	struct net_dns *dns;
	struct evhttp_connection *conn;
	char addr[64];
	bool resolving, posting, conn_bad;
	struct event *ev_retry;
	struct hz_backoff backoff;
	/* counters */
	uint64_t delivered, failed;
};

struct web_hooks {
	struct event_base *base;
	SSL_CTX *ssl_ctx;            /* when a hook is https:// */
	struct net_pg *pg;
	char *setup_sql;
	struct hook *h;
	size_t n;
};

static const char hooks_setup_sql[] = "LISTEN hazgate_alerts";

static const char sql_init[] =
	"INSERT INTO webhook_cursors (hook, last_id) SELECT $1, coalesce(max(id), 0) FROM alerts"
	" ON CONFLICT (hook) DO NOTHING";
static const char sql_cursor[] = "SELECT last_id FROM webhook_cursors WHERE hook = $1";
#define HOOK_FILTER \
	" a.id > $1::bigint AND ($2 = '' OR a.kind = ANY (string_to_array($2, ',')))" \
	" AND CASE a.severity WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 ELSE 1 END >= $3::int"
static const char sql_fetch[] =
	"SELECT a.id, " WEB_ALERT_JSON_SQL " FROM alerts a WHERE" HOOK_FILTER
	" ORDER BY a.id LIMIT 100";
static const char sql_backlog[] =
	"SELECT count(*) FROM (SELECT 1 FROM alerts a WHERE" HOOK_FILTER " LIMIT 100000) b";
static const char sql_save[] =
	"UPDATE webhook_cursors SET last_id = greatest(last_id, $2::bigint), updated_at = now()"
	" WHERE hook = $1";

static void hook_fetch(struct hook *h);
static void hook_post(struct hook *h);
static void hook_save(struct hook *h);

/* ---- configuration ------------------------------------------------------------ */

static int
severity_rank(const char *s)
{
	if (!*s || strcmp(s, "info") == 0)
		return 1;
	if (strcmp(s, "warning") == 0)
		return 2;
	if (strcmp(s, "critical") == 0)
		return 3;
	return 0;
}

static bool
kinds_valid(const char *kinds)
{
	const char *p = kinds;

	if (!*p)
		return true;
	for (;;) {
		size_t l = strcspn(p, ",");
		bool ok = false;

		/* the engine's kinds, by its own names (the rules' kinds too) */
		for (int i = 0; i < GF_ALERT_KIND_COUNT; i++) {
			const char *k = gf_alert_kind_name((enum gf_alert_kind)i);

			if (strlen(k) == l && memcmp(k, p, l) == 0)
				ok = true;
		}
		if (!ok)
			return false;
		if (!p[l])
			return true;
		p += l + 1;
	}
}

static bool
name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= WEB_HOOK_NAME_MAX)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* The hook's url, secret and filters into h; false (logged) when unusable. */
static bool
hook_setup(struct hook *h)
{
	const struct web_hook_conf *c = &h->conf;
	struct evhttp_uri *u = evhttp_uri_parse(c->url);
	const char *scheme, *host, *path, *query;
	char *secret = NULL;
	size_t len = 0;
	int rank = severity_rank(c->min_severity);
	bool ok = false;

	if (!u || !(scheme = evhttp_uri_get_scheme(u)) || !(host = evhttp_uri_get_host(u)) ||
	    !*host) {
		hz_log(HZ_LOG_ERROR, "webhook_bad_url", "hook=%s url=\"%s\" why=\"not an http:// url"
		       " with a host\"", c->name, c->url);
		goto done;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		hz_log(HZ_LOG_ERROR, "webhook_bad_url", "hook=%s url=\"%s\" why=\"http:// or https://"
		       " only\"", c->name, c->url);
		goto done;
	}
	h->tls = strcmp(scheme, "https") == 0;
	h->port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : h->tls ? 443 : 80;
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	if (snprintf(h->host, sizeof(h->host), "%s", host) >= (int)sizeof(h->host) ||
	    snprintf(h->path, sizeof(h->path), "%s%s%s", path && *path ? path : "/",
		     query ? "?" : "", query ? query : "") >= (int)sizeof(h->path)) {
		hz_log(HZ_LOG_ERROR, "webhook_bad_url", "hook=%s why=\"too long\"", c->name);
		goto done;
	}
	if (h->port == (h->tls ? 443 : 80))
		snprintf(h->hostport, sizeof(h->hostport), "%s", host);
	else
		snprintf(h->hostport, sizeof(h->hostport), "%s:%d", host, h->port);
	for (const char *k = c->kinds; *k; k++)
		if (*k != ' ' && *k != '\t' && strlen(h->kinds) + 1 < sizeof(h->kinds))
			h->kinds[strlen(h->kinds)] = *k;
	if (!kinds_valid(h->kinds)) {
		hz_log(HZ_LOG_ERROR, "webhook_bad_kinds", "hook=%s kinds=\"%s\" why=\"not a list of"
		       " alert kinds\"", c->name, c->kinds);
		goto done;
	}
	if (!rank) {
		hz_log(HZ_LOG_ERROR, "webhook_bad_severity", "hook=%s min_severity=\"%s\" why=\"info,"
		       " warning or critical\"", c->name, c->min_severity);
		goto done;
	}
	h->sev[0] = (char)('0' + rank);
	if (!(secret = hz_file_read(c->secret_file, &len))) {
		hz_log(HZ_LOG_ERROR, "webhook_secret_unreadable", "hook=%s file=\"%s\" why=\"%s\"",
		       c->name, c->secret_file, strerror(errno));
		goto done;
	}
	len = strcspn(secret, "\n");
	if (len && secret[len - 1] == '\r')
		len--;
	if (len == 0 || len > SECRET_MAX) {
		hz_log(HZ_LOG_ERROR, "webhook_secret_bad", "hook=%s file=\"%s\" why=\"its first line"
		       " must hold the secret (1..%d bytes)\"", c->name, c->secret_file, SECRET_MAX);
		goto done;
	}
	memcpy(h->secret, secret, len);
	h->secret_len = len;
	ok = true;
done:
	if (secret) {
		sodium_memzero(secret, strlen(secret));
		free(secret);
	}
	if (u)
		evhttp_uri_free(u);
	return ok;
}

/* ---- the cursor ------------------------------------------------------------------ */

static void
save_done(void *arg, int err, const char *msg)
{
	struct hook *h = arg;

	h->saving = false;
	if (err != NET_PG_OK) {
		hz_log(HZ_LOG_WARN, "webhook_cursor_not_saved", "hook=%s cursor=%" PRId64 " why=\"%s\"",
		       h->conf.name, h->cursor, msg ? msg : "");
		return;   /* saved with the next one (or redelivered after a restart) */
	}
	h->saved = strtoll(h->sparam, NULL, 10);
	hook_save(h);   /* a newer one came meanwhile */
}

static void
hook_save(struct hook *h)
{
	if (h->saving || h->cursor <= h->saved || !net_pg_ready(h->hs->pg))
		return;
	snprintf(h->sparam, sizeof(h->sparam), "%" PRId64, h->cursor);
	h->sparams[0] = h->conf.name;
	h->sparams[1] = h->sparam;
	memset(&h->sjob, 0, sizeof(h->sjob));
	h->sjob.steps[0] = (struct net_pg_step){ .sql = sql_save, .nparams = 2, .params = h->sparams };
	h->sjob.nsteps = 1;
	h->sjob.done = save_done;
	h->sjob.arg = h;
	h->saving = true;
	net_pg_submit(h->hs->pg, &h->sjob);
}

/* ---- reading what is to be delivered ------------------------------------------------ */

static void
queue_clear(struct hook *h)
{
	for (size_t i = h->qhead; i < h->nq; i++)
		free(h->q[i].body);
	free(h->q);
	h->q = NULL;
	h->nq = h->qhead = 0;
}

static void
cursor_result(void *arg, const PGresult *res)
{
	struct hook *h = arg;

	if (PQntuples(res) == 1) {
		h->cursor = h->saved = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		h->known = true;
	}
}

static void
fetch_result(void *arg, const PGresult *res)
{
	struct hook *h = arg;
	int rows = PQntuples(res);

	queue_clear(h);
	h->more = rows >= PAGE;
	if (rows == 0 || !(h->q = calloc((size_t)rows, sizeof(*h->q))))
		return;
	for (int i = 0; i < rows; i++) {
		struct item *it = &h->q[h->nq];

		it->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		it->len = (size_t)PQgetlength(res, i, 1);
		if (!(it->body = malloc(it->len + 1)))
			break;
		memcpy(it->body, PQgetvalue(res, i, 1), it->len + 1);
		h->nq++;
	}
}

static void
backlog_result(void *arg, const PGresult *res)
{
	struct hook *h = arg;

	if (PQntuples(res) == 1)
		h->backlog = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

static void
fetch_done(void *arg, int err, const char *msg)
{
	struct hook *h = arg;

	h->fetching = false;
	if (err != NET_PG_OK) {
		if (err != NET_PG_ELINK)
			hz_log(HZ_LOG_ERROR, "webhook_read_failed", "hook=%s why=\"%s\"", h->conf.name,
			       msg ? msg : "");
		return;   /* on_ready reads again */
	}
	if (h->qhead < h->nq)
		hook_post(h);
	else if (h->dirty || h->more)
		hook_fetch(h);
}

/* Read the next page (the cursor first, the first time). */
static void
hook_fetch(struct hook *h)
{
	struct net_pg_job *j = &h->fjob;

	if (h->fetching || h->posting || h->qhead < h->nq || !net_pg_ready(h->hs->pg) ||
	    event_pending(h->ev_retry, EV_TIMEOUT, NULL))
		return;
	h->dirty = false;
	snprintf(h->fparam, sizeof(h->fparam), "%" PRId64, h->cursor);
	h->fparams[0] = h->fparam;
	h->fparams[1] = h->kinds;
	h->fparams[2] = h->sev;
	h->fparams[3] = h->conf.name;
	memset(j, 0, sizeof(*j));
	if (!h->known) {
		j->steps[0] = (struct net_pg_step){ .sql = sql_init, .nparams = 1,
						    .params = h->fparams + 3 };
		j->steps[1] = (struct net_pg_step){ .sql = sql_cursor, .nparams = 1,
						    .params = h->fparams + 3,
						    .on_result = cursor_result };
		j->nsteps = 2;
	} else {
		j->steps[0] = (struct net_pg_step){ .sql = sql_fetch, .nparams = 3,
						    .params = h->fparams, .on_result = fetch_result };
		j->steps[1] = (struct net_pg_step){ .sql = sql_backlog, .nparams = 3,
						    .params = h->fparams,
						    .on_result = backlog_result };
		j->nsteps = 2;
	}
	if (!h->known)
		h->dirty = true;   /* then the first page */
	j->done = fetch_done;
	j->arg = h;
	h->fetching = true;
	net_pg_submit(h->hs->pg, j);
}

/* ---- HTTP ------------------------------------------------------------------------ */

static void
retry_later(struct hook *h)
{
	int64_t ms = hz_backoff_jitter(hz_backoff_next(&h->backoff, RETRY_MIN_MS, RETRY_MAX_MS),
				       randombytes_random());
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	event_add(h->ev_retry, &tv);
}

static void
on_response(struct evhttp_request *req, void *arg)
{
	struct hook *h = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	struct item *it = &h->q[h->qhead];

	h->posting = false;
	if (code >= 200 && code < 300) {
		h->delivered++;
		if (h->backlog > 0)
			h->backlog--;
		hz_backoff_reset(&h->backoff);
		h->cursor = it->id;
		free(it->body);
		it->body = NULL;
		h->qhead++;
		hook_save(h);
		if (h->tls) {
			/* A fresh connection for the next one, made from the
			 * timer: never free evhttp's inside its callback. */
			h->conn_bad = true;
			event_active(h->ev_retry, EV_TIMEOUT, 1);
		} else if (h->qhead < h->nq) {
			hook_post(h);
		} else {
			hook_fetch(h);
		}
		return;
	}
	h->failed++;
	/* No answer: a new connection next time (evhttp's own is freed from
	 * the retry timer, never inside its callback). */
	if (code == 0 || h->tls)
		h->conn_bad = true;
	hz_log(HZ_LOG_WARN, "webhook_failed", "hook=%s alert=%" PRId64 " status=%d attempt=%" PRIu64
	       " why=\"%s\"", h->conf.name, it->id, code, h->failed,
	       code ? "the receiver did not answer 2xx" : "no answer (connection or timeout)");
	retry_later(h);
}

/* An evhttp connection over TLS to h->addr, the certificate checked for
 * h->host (SNI too), or NULL. */
static struct evhttp_connection *
tls_connection(struct hook *h)
{
	SSL *ssl = SSL_new(h->hs->ssl_ctx);
	struct bufferevent *bev;
	struct evhttp_connection *conn;

	if (!ssl)
		return NULL;
	if (net_dns_numeric(h->host)) {
		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), h->host))
			goto err;
	} else if (!SSL_set_tlsext_host_name(ssl, h->host) || !SSL_set1_host(ssl, h->host)) {
		goto err;
	}
	bev = bufferevent_openssl_socket_new(h->hs->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev)
		goto err;   /* ssl is freed with bev only once bev exists */
	conn = evhttp_connection_base_bufferevent_new(h->hs->base, NULL, bev, h->addr,
						      (unsigned short)h->port);
	if (!conn)
		bufferevent_free(bev);   /* and ssl with it */
	return conn;
err:
	SSL_free(ssl);
	return NULL;
}

static void
on_resolved(void *arg, int err, const char *addr)
{
	struct hook *h = arg;

	h->resolving = false;
	if (err != NET_DNS_OK) {
		h->failed++;
		hz_log(HZ_LOG_WARN, "webhook_failed", "hook=%s host=%s why=\"%s\"", h->conf.name,
		       h->host, net_dns_strerror(err));
		retry_later(h);
		return;
	}
	snprintf(h->addr, sizeof(h->addr), "%s", addr);
	if (h->tls)
		h->conn = tls_connection(h);
	else
		h->conn = evhttp_connection_base_new(h->hs->base, NULL, h->addr,
						     (unsigned short)h->port);
	if (!h->conn) {
		h->failed++;
		retry_later(h);
		return;
	}
	evhttp_connection_set_timeout(h->conn, HTTP_TIMEOUT_S);
	evhttp_connection_set_retries(h->conn, 0);
	hook_post(h);
}

static void
hook_post(struct hook *h)
{
	struct item *it;
	struct evhttp_request *req;
	struct evkeyvalq *hd;
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char sig[8 + 2 * sizeof(mac) + 1], idtext[24];

	if (h->posting || h->resolving || h->qhead >= h->nq ||
	    event_pending(h->ev_retry, EV_TIMEOUT, NULL))
		return;
	if (!h->conn) {
		h->resolving = true;
		if (net_dns_resolve(h->dns, h->host, on_resolved, h) != NET_DNS_OK) {
			h->resolving = false;
			retry_later(h);
		}
		return;
	}
	it = &h->q[h->qhead];
	if (!(req = evhttp_request_new(on_response, h))) {
		retry_later(h);
		return;
	}
	crypto_auth_hmacsha256_init(&st, h->secret, h->secret_len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)it->body, it->len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(sig, "sha256=", 7);
	sodium_bin2hex(sig + 7, sizeof(sig) - 7, mac, sizeof(mac));
	snprintf(idtext, sizeof(idtext), "%" PRId64, it->id);
	hd = evhttp_request_get_output_headers(req);
	evhttp_add_header(hd, "Host", h->hostport);
	evhttp_add_header(hd, "Content-Type", "application/json");
	evhttp_add_header(hd, "User-Agent", "hazgate-web");
	evhttp_add_header(hd, "X-Hazgate-Signature", sig);
	evhttp_add_header(hd, "X-Hazgate-Alert-Id", idtext);
	evbuffer_add(evhttp_request_get_output_buffer(req), it->body, it->len);
	h->posting = true;
	if (evhttp_make_request(h->conn, req, EVHTTP_REQ_POST, h->path) != 0) {
		/* libevent has freed req */
		h->posting = false;
		h->failed++;
		h->conn_bad = true;
		retry_later(h);
	}
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;

	(void)fd;
	(void)what;
	if (h->conn_bad && h->conn) {
		evhttp_connection_free(h->conn);
		h->conn = NULL;
	}
	h->conn_bad = false;
	if (h->qhead < h->nq)
		hook_post(h);
	else
		hook_fetch(h);
}

/* ---- the hooks' connection ----------------------------------------------------------- */

static void
on_ready(void *arg)
{
	struct web_hooks *hs = arg;

	for (size_t i = 0; i < hs->n; i++) {
		hs->h[i].dirty = true;
		hook_save(&hs->h[i]);
		hook_fetch(&hs->h[i]);
	}
}

static void
on_notify(void *arg, const char *channel, const char *payload)
{
	struct web_hooks *hs = arg;

	(void)payload;
	if (strcmp(channel, "hazgate_alerts") != 0)
		return;
	for (size_t i = 0; i < hs->n; i++) {
		hs->h[i].dirty = true;
		hook_fetch(&hs->h[i]);
	}
}

struct web_hooks *
web_hooks_new(struct event_base *base, const struct net_pg_conf *pgc,
              const struct web_hook_conf *hooks, size_t n)
{
	struct web_hooks *hs = calloc(1, sizeof(*hs));
	struct net_pg_conf c = *pgc;
	struct net_pg_cbs cbs = { .on_ready = on_ready, .on_notify = on_notify };
	size_t len;

	if (!hs)
		return NULL;
	hs->base = base;
	if (n == 0)
		return hs;
	if (n > WEB_HOOK_MAX || sodium_init() < 0 || !(hs->h = calloc(n, sizeof(*hs->h))))
		goto err;
	for (size_t i = 0; i < n; i++)
		if (strncmp(hooks[i].url, "https:", 6) == 0 && !hs->ssl_ctx) {
			/* The system's CAs; TLS 1.2 at least; the peer verified. */
			hs->ssl_ctx = SSL_CTX_new(TLS_client_method());
			if (!hs->ssl_ctx || !SSL_CTX_set_default_verify_paths(hs->ssl_ctx) ||
			    !SSL_CTX_set_min_proto_version(hs->ssl_ctx, TLS1_2_VERSION)) {
				hz_log(HZ_LOG_ERROR, "webhook_tls_failed", "why=\"no TLS context\"");
				goto err;
			}
			SSL_CTX_set_verify(hs->ssl_ctx, SSL_VERIFY_PEER, NULL);
		}
	for (size_t i = 0; i < n; i++) {
		struct hook *h = &hs->h[i];

		h->hs = hs;
		h->conf = hooks[i];
		hs->n = i + 1;
		if (!name_valid(h->conf.name)) {
			hz_log(HZ_LOG_ERROR, "webhook_bad_name", "why=\"a hook's NAME is 1..63 of"
			       " A-Z a-z 0-9 _ . -\"");
			goto err;
		}
		if (!hook_setup(h))
			goto err;
		if (!(h->dns = net_dns_new(base)) ||
		    !(h->ev_retry = evtimer_new(base, on_retry, h)))
			goto err;
	}
	len = (pgc->setup_sql ? strlen(pgc->setup_sql) : 0) + sizeof(hooks_setup_sql) + 2;
	if (!(hs->setup_sql = malloc(len)))
		goto err;
	snprintf(hs->setup_sql, len, "%s%s%s", pgc->setup_sql ? pgc->setup_sql : "",
		 pgc->setup_sql && *pgc->setup_sql ? ";" : "", hooks_setup_sql);
	c.setup_sql = hs->setup_sql;
	if (!c.app_name)
		c.app_name = "hazgate-web-hooks";
	cbs.arg = hs;
	if (!(hs->pg = net_pg_new(base, &c, &cbs)))
		goto err;
	net_pg_start(hs->pg);
	for (size_t i = 0; i < n; i++)
		hz_log(HZ_LOG_INFO, "webhook", "hook=%s url=\"%s\" kinds=\"%s\" min_severity=%s",
		       hs->h[i].conf.name, hs->h[i].conf.url,
		       hs->h[i].conf.kinds[0] ? hs->h[i].conf.kinds : "all",
		       hs->h[i].conf.min_severity[0] ? hs->h[i].conf.min_severity : "info");
	return hs;
err:
	web_hooks_free(hs);
	return NULL;
}

void
web_hooks_free(struct web_hooks *hs)
{
	if (!hs)
		return;
	/* The jobs in flight end here (their done sees an error). */
	if (hs->pg)
		net_pg_free(hs->pg);
	for (size_t i = 0; i < hs->n; i++) {
		struct hook *h = &hs->h[i];

		if (h->conn)
			evhttp_connection_free(h->conn);   /* a request in flight: no callback */
		if (h->dns)
			net_dns_free(h->dns);
		if (h->ev_retry)
			event_free(h->ev_retry);
		queue_clear(h);
		sodium_memzero(h->secret, sizeof(h->secret));
	}
	free(hs->h);
	free(hs->setup_sql);
	if (hs->ssl_ctx)
		SSL_CTX_free(hs->ssl_ctx);
	free(hs);
}

void
web_hooks_metrics(const struct web_hooks *hs, struct evbuffer *out)
{
	if (!hs || hs->n == 0)
		return;
	evbuffer_add_printf(out, "# TYPE hazgate_web_webhook_delivered_total counter\n");
	for (size_t i = 0; i < hs->n; i++)
		evbuffer_add_printf(out, "hazgate_web_webhook_delivered_total{hook=\"%s\"} %" PRIu64 "\n",
				    hs->h[i].conf.name, hs->h[i].delivered);
	evbuffer_add_printf(out, "# TYPE hazgate_web_webhook_failed_attempts_total counter\n");
	for (size_t i = 0; i < hs->n; i++)
		evbuffer_add_printf(out, "hazgate_web_webhook_failed_attempts_total{hook=\"%s\"} %"
				    PRIu64 "\n", hs->h[i].conf.name, hs->h[i].failed);
	evbuffer_add_printf(out, "# TYPE hazgate_web_webhook_backlog gauge\n");
	for (size_t i = 0; i < hs->n; i++)
		evbuffer_add_printf(out, "hazgate_web_webhook_backlog{hook=\"%s\"} %" PRId64 "\n",
				    hs->h[i].conf.name, hs->h[i].backlog);
	evbuffer_add_printf(out, "# TYPE hazgate_web_webhook_cursor gauge\n");
	for (size_t i = 0; i < hs->n; i++)
		evbuffer_add_printf(out, "hazgate_web_webhook_cursor{hook=\"%s\"} %" PRId64 "\n",
				    hs->h[i].conf.name, hs->h[i].cursor);
}
