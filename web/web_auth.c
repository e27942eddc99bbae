/*
 * web_auth.c - who is calling hazgate-web: logins, sessions, bearer
 * tokens, roles, CSRF, and failed logins slowed down.
 *
 * Login (POST /api/v1/session): the account is read from web_users, its
 * Argon2id string checked with crypto_pwhash_str_verify on the password
 * worker (web_worker.c, a thread: one check takes 0.1-0.5 s and 64 MiB
 * with libsodium's interactive limits, which hazgate-ctl uses; on the loop
 * it would stall every client), then a session is stored: SHA-256 of a 256-bit random id
 * (the cookie), a CSRF token, the address. An unknown or disabled account
 * is checked against a dummy hash, so that its answer takes as long.
 *
 * Each API call then costs one statement: the session (not idle for
 * session_idle_s, younger than session_max_s, account not disabled; its
 * last_seen refreshed at most once a second) or the token (not revoked).
 * The role comes from the account at each call, so a change applies at
 * once. A state-changing call with a cookie must carry X-CSRF-Token equal
 * to the session's (compared in constant time); bearer calls need none.
 *
 * Failed logins are counted per user and per address, in memory (a fixed
 * table of WEB_THROTTLE_SLOTS, the least recently used slot reused): from
 * the 5th failure in a row, each further try waits 2^(n-5) s, at most 15
 * minutes (429 with Retry-After). A success clears both counts.
 */
#include "web/web-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <sodium.h>

#include "common/hz_clock.h"
#include "common/hz_log.h"

/* ---- failed logins ------------------------------------------------------------ */

#define WEB_THROTTLE_SLOTS 4096
#define THROTTLE_FREE 5                 /* failures in a row before any wait */
#define THROTTLE_MAX_S 900
#define THROTTLE_FORGET_US (3600LL * 1000000)

struct throttle_slot {
	char key[WEB_NAME_MAX + 8];     /* "u:NAME" or "a:ADDRESS"; "" = free */
	unsigned failures;
	int64_t last_us;
	int64_t until_us;
};

struct web_throttle {
	struct throttle_slot slot[WEB_THROTTLE_SLOTS];
};

struct web_throttle *
web_throttle_new(void)
{
	return calloc(1, sizeof(struct web_throttle));
}

void
web_throttle_free(struct web_throttle *t)
{
	free(t);
}

static struct throttle_slot *
slot_find(struct web_throttle *t, const char *kind, const char *what, bool make, int64_t now)
{
	char key[WEB_NAME_MAX + 8];
	struct throttle_slot *old = NULL;

	snprintf(key, sizeof(key), "%s:%s", kind, what);
	for (size_t i = 0; i < WEB_THROTTLE_SLOTS; i++) {
		struct throttle_slot *s = &t->slot[i];

		if (s->key[0] && now - s->last_us > THROTTLE_FORGET_US)
			s->key[0] = '\0';
		if (s->key[0] && !strcmp(s->key, key))
			return s;
		if (!old || !s->key[0] || (old->key[0] && s->last_us < old->last_us))
			old = s;
	}
	if (!make)
		return NULL;
	memset(old, 0, sizeof(*old));
	memcpy(old->key, key, strlen(key) + 1);
	old->last_us = now;
	return old;
}

int64_t
web_throttle_wait(struct web_throttle *t, const char *user, const char *addr, int64_t now_us)
{
	struct throttle_slot *s[2] = { slot_find(t, "u", user, false, now_us),
				       slot_find(t, "a", addr, false, now_us) };
	int64_t wait = 0;

	for (int i = 0; i < 2; i++)
		if (s[i] && s[i]->until_us > now_us && (s[i]->until_us - now_us) > wait)
			wait = s[i]->until_us - now_us;
	return (wait + 999999) / 1000000;
}

void
web_throttle_note(struct web_throttle *t, const char *user, const char *addr, bool ok,
                  int64_t now_us)
{
	struct throttle_slot *s[2] = { slot_find(t, "u", user, !ok, now_us),
				       slot_find(t, "a", addr, !ok, now_us) };

	for (int i = 0; i < 2; i++) {
		if (!s[i])
			continue;
		if (ok) {
			s[i]->key[0] = '\0';
			continue;
		}
		s[i]->failures++;
		s[i]->last_us = now_us;
		if (s[i]->failures >= THROTTLE_FREE) {
			unsigned e = s[i]->failures - THROTTLE_FREE;
			int64_t d = e >= 10 ? THROTTLE_MAX_S : (int64_t)1 << e;

			if (d > THROTTLE_MAX_S)
				d = THROTTLE_MAX_S;
			s[i]->until_us = now_us + d * 1000000;
		}
	}
}

/* ---- authentication of a call --------------------------------------------------- */

static const char session_sql[] =
	"WITH s AS (SELECT s.id_hash, u.name, u.role, s.csrf, s.last_seen"
	"  FROM web_sessions s JOIN web_users u ON u.name = s.user_name"
	"  WHERE s.id_hash = hazgate_web_secret_hash($1) AND NOT u.disabled"
	"   AND s.last_seen > now() - make_interval(secs => $2::int)"
	"   AND s.created_at > now() - make_interval(secs => $3::int)),"
	" t AS (UPDATE web_sessions w SET last_seen = now() FROM s"
	"  WHERE w.id_hash = s.id_hash AND s.last_seen < now() - interval '1 second')"
	" SELECT name, role, csrf FROM s";

static const char token_sql[] =
	"WITH t AS (SELECT name, role FROM web_tokens"
	"  WHERE token_hash = hazgate_web_secret_hash($1) AND revoked_at IS NULL),"
	" u AS (UPDATE web_tokens w SET last_used = now() FROM t WHERE w.name = t.name"
	"  AND (w.last_used IS NULL OR w.last_used < now() - interval '60 seconds'))"
	" SELECT name, role, '' FROM t";

static void
on_who(void *arg, const PGresult *res)
{
	struct web_call *c = arg;

	if (!web_result_ok(c, res) || PQntuples(res) != 1)
		return;
	c->who.role = web_role_parse(PQgetvalue(res, 0, 1));
	snprintf(c->who.user, sizeof(c->who.user), "%s%s", c->who.by_token ? "token:" : "",
		 PQgetvalue(res, 0, 0));
	snprintf(c->who.csrf, sizeof(c->who.csrf), "%s", PQgetvalue(res, 0, 2));
}

static bool
state_changing(int method)
{
	return method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD &&
	       method != EVHTTP_REQ_OPTIONS;
}

static void
who_done(struct web_call *c, int err, const char *msg)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(c->req);
	const char *csrf;

	if (err || c->sqlstate[0]) {
		hz_log(HZ_LOG_WARN, "auth_failed", "why=\"%s\"", c->sqlstate[0] ? c->errmsg : msg);
		web_reply_error(c, 503, "the database is not available");
		return;
	}
	if (c->who.role == WEB_ROLE_NONE && c->path.route != WEB_R_CONFIG) {
		web_reply_error(c, 401, "not logged in (or the session is over)");
		return;
	}
	if (c->who.role != WEB_ROLE_NONE && !c->who.by_token && state_changing(c->method)) {
		csrf = evhttp_find_header(in, "X-CSRF-Token");
		if (!csrf || !web_secret_equal(csrf, c->who.csrf)) {
			web_reply_error(c, 403, "missing or wrong X-CSRF-Token");
			return;
		}
	}
	c->authed(c);
}

void
web_auth_begin(struct web_call *c, void (*then)(struct web_call *c))
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(c->req);
	const char *authz = evhttp_find_header(in, "Authorization");
	const char *cookie = evhttp_find_header(in, "Cookie");

	memset(&c->who, 0, sizeof(c->who));
	c->authed = then;
	if (authz) {
		if (!web_parse_bearer(authz, c->secret)) {
			web_reply_error(c, 401, "Authorization: want Bearer and a token");
			return;
		}
		c->who.by_token = true;
		c->params[0] = c->secret;
		web_job_set(c, 0, token_sql, 1, on_who);
	} else if (cookie && web_parse_cookie(cookie, c->secret)) {
		snprintf(c->pbuf[1], sizeof(c->pbuf[1]), "%d", c->w->cfg.web.session_idle_s);
		snprintf(c->pbuf[2], sizeof(c->pbuf[2]), "%d", c->w->cfg.web.session_max_s);
		c->params[0] = c->secret;
		c->params[1] = c->pbuf[1];
		c->params[2] = c->pbuf[2];
		web_job_set(c, 0, session_sql, 3, on_who);
	} else {
		who_done(c, 0, NULL);   /* nobody */
		return;
	}
	web_db_run(c, who_done);
}

/* ---- login and logout -------------------------------------------------------------- */

/* A hash of a random password: what an unknown account is checked
 * against, so that it answers as slowly as a known one. */
static char dummy_hash[crypto_pwhash_STRBYTES];

static const char user_sql[] =
	"SELECT role, pwhash, disabled FROM web_users WHERE name = $1";
static const char new_session_sql[] =
	"INSERT INTO web_sessions (id_hash, user_name, csrf, address)"
	" VALUES (hazgate_web_secret_hash($1), $2, $3, $4)";
static const char sweep_sql[] =
	"DELETE FROM web_sessions WHERE last_seen < now() - make_interval(secs => $1::int)"
	" OR created_at < now() - make_interval(secs => $2::int)";

static void
secret_hex(char out[WEB_SECRET_HEX + 1])
{
	unsigned char b[WEB_SECRET_HEX / 2];

	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(out, WEB_SECRET_HEX + 1, b, sizeof(b));
}

static void
login_failed(struct web_call *c, const char *why)
{
	c->w->n.logins_failed++;
	web_throttle_note(c->w->throttle, c->pbuf[0], c->addr, false, hz_now_us());
	hz_log(HZ_LOG_WARN, "login_failed", "user=\"%s\" address=%s why=\"%s\"", c->pbuf[0],
	       c->addr, why);
	web_reply_error(c, 401, "wrong user or password");
}

static void
session_stored(struct web_call *c, int err, const char *msg)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(c->req);
	char cookie[256];

	if (err || c->sqlstate[0]) {
		hz_log(HZ_LOG_ERROR, "login_failed", "user=\"%s\" why=\"%s\"", c->pbuf[0],
		       c->sqlstate[0] ? c->errmsg : msg);
		web_reply_error(c, 503, "the database is not available");
		return;
	}
	c->w->n.logins_ok++;
	web_throttle_note(c->w->throttle, c->pbuf[0], c->addr, true, hz_now_us());
	hz_log(HZ_LOG_INFO, "login", "user=\"%s\" role=%s address=%s", c->pbuf[0],
	       web_role_name(c->who.role), c->addr);
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
		 WEB_COOKIE_NAME, c->secret, c->w->ssl_ctx ? "; Secure" : "");
	evhttp_add_header(out, "Set-Cookie", cookie);
	web_json_reply(c, 200, json_pack("{s:s, s:s, s:s}", "user", c->pbuf[0], "role",
					 web_role_name(c->who.role), "csrf", c->who.csrf));
}

/* On the worker thread. */
static void
verify_work(struct web_call *c)
{
	c->verified = crypto_pwhash_str_verify(c->pwhash, c->password, strlen(c->password)) == 0;
	sodium_memzero(c->password, sizeof(c->password));
}

static void
verified(struct web_call *c)
{
	if (c->w->stopping) {
		web_call_free(c);
		return;
	}
	if (!c->verified || !c->found) {
		login_failed(c, c->found ? "wrong password" : "no such user, or disabled");
		return;
	}
	secret_hex(c->secret);
	secret_hex(c->who.csrf);
	c->params[0] = c->secret;
	c->params[1] = c->pbuf[0];
	c->params[2] = c->who.csrf;
	c->params[3] = c->addr;
	web_job_set(c, 0, new_session_sql, 4, NULL);
	/* The sessions over by now go, with each login. */
	snprintf(c->pbuf[4], sizeof(c->pbuf[4]), "%d", c->w->cfg.web.session_idle_s);
	snprintf(c->pbuf[5], sizeof(c->pbuf[5]), "%d", c->w->cfg.web.session_max_s);
	c->params[4] = c->pbuf[4];
	c->params[5] = c->pbuf[5];
	web_job_set(c, 1, sweep_sql, 2, NULL);
	c->job.steps[1].params = &c->params[4];
	web_db_run(c, session_stored);
}

static void
on_user(void *arg, const PGresult *res)
{
	struct web_call *c = arg;

	if (!web_result_ok(c, res) || PQntuples(res) != 1)
		return;
	if (!strcmp(PQgetvalue(res, 0, 2), "t"))
		return;         /* disabled: as if unknown */
	c->who.role = web_role_parse(PQgetvalue(res, 0, 0));
	snprintf(c->pwhash, sizeof(c->pwhash), "%s", PQgetvalue(res, 0, 1));
	c->found = c->who.role != WEB_ROLE_NONE;
}

static void
user_read(struct web_call *c, int err, const char *msg)
{
	if (err || c->sqlstate[0]) {
		hz_log(HZ_LOG_ERROR, "login_failed", "user=\"%s\" why=\"%s\"", c->pbuf[0],
		       c->sqlstate[0] ? c->errmsg : msg);
		sodium_memzero(c->password, sizeof(c->password));
		web_reply_error(c, 503, "the database is not available");
		return;
	}
	if (!c->found)
		snprintf(c->pwhash, sizeof(c->pwhash), "%s", dummy_hash);
	if (!web_worker_run(c->w->worker, c, verify_work, verified)) {
		sodium_memzero(c->password, sizeof(c->password));
		web_reply_error(c, 503, "too many logins at once; try again");
	}
}

void
web_auth_login(struct web_call *c)
{
	char *body = NULL;
	size_t len = 0;
	struct web_bad bad;
	int64_t wait;

	/* JSON said so: a cross-site form can send a JSON-looking text/plain
	 * body, not this type (without CORS, which this server never allows). */
	if (!web_parse_json_type(evhttp_find_header(evhttp_request_get_input_headers(c->req),
						   "Content-Type"))) {
		web_reply_error(c, 400, "Content-Type: want application/json");
		return;
	}
	if (web_body(c, &body, &len) != 0) {
		web_reply_error(c, 500, "out of memory");
		return;
	}
	if (web_parse_login(body, len, c->pbuf[0], c->password, &bad) != 0) {
		free(body);
		web_reply_bad(c, &bad);
		return;
	}
	sodium_memzero(body, len);
	free(body);
	wait = web_throttle_wait(c->w->throttle, c->pbuf[0], c->addr, hz_now_us());
	if (wait > 0) {
		char s[24];

		c->w->n.logins_throttled++;
		sodium_memzero(c->password, sizeof(c->password));
		hz_log(HZ_LOG_WARN, "login_throttled", "user=\"%s\" address=%s wait_s=%lld",
		       c->pbuf[0], c->addr, (long long)wait);
		snprintf(s, sizeof(s), "%lld", (long long)wait);
		evhttp_add_header(evhttp_request_get_output_headers(c->req), "Retry-After", s);
		web_reply_error(c, 429, "too many failed logins; try again in %lld s",
				(long long)wait);
		return;
	}
	if (!dummy_hash[0] &&
	    crypto_pwhash_str(dummy_hash, "hazgate-web dummy", 17,
			      crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		web_reply_error(c, 500, "out of memory");
		return;
	}
	c->params[0] = c->pbuf[0];
	web_job_set(c, 0, user_sql, 1, on_user);
	web_db_run(c, user_read);
}

static void
logged_out(struct web_call *c, int err, const char *msg)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(c->req);
	char cookie[128];

	if (err || c->sqlstate[0]) {
		hz_log(HZ_LOG_ERROR, "logout_failed", "user=\"%s\" why=\"%s\"", c->who.user,
		       c->sqlstate[0] ? c->errmsg : msg);
		web_reply_error(c, 503, "the database is not available");
		return;
	}
	hz_log(HZ_LOG_INFO, "logout", "user=\"%s\" address=%s", c->who.user, c->addr);
	snprintf(cookie, sizeof(cookie), "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
		 WEB_COOKIE_NAME, c->w->ssl_ctx ? "; Secure" : "");
	evhttp_add_header(out, "Set-Cookie", cookie);
	evbuffer_add_printf(c->out, "{}\n");
	web_reply(c, 200, NULL);
}

void
web_auth_logout(struct web_call *c)
{
	static const char sql[] =
		"DELETE FROM web_sessions WHERE id_hash = hazgate_web_secret_hash($1)";

	if (c->who.by_token) {
		web_reply_error(c, 400, "a bearer token has no session to end");
		return;
	}
	c->params[0] = c->secret;
	web_job_set(c, 0, sql, 1, NULL);
	web_db_run(c, logged_out);
}
