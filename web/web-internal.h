/*
 * web-internal.h - what the files of hazgate-web's server share (web_core.c,
 * web_auth.c, web_api.c, web_static.c, web_db.c, web_call.c): the server,
 * one call (a request being answered), the database pool, the password
 * worker, the failed-login throttle.
 *
 * A request's life: web_core routes it; an API call authenticates (cookie
 * or bearer token, one statement), is checked for its role and CSRF token,
 * then runs its statement(s) on the pool and answers. Nothing blocks the
 * loop: statements go through net_pg, Argon2id runs on the worker thread.
 */
#ifndef HAZGATE_WEB_INTERNAL_H
#define HAZGATE_WEB_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "net/net_pg.h"
#include "web/web_config.h"
#include "web/web_parse.h"

struct event;
struct event_base;
struct evbuffer;
struct evhttp;
struct evhttp_connection;
struct evhttp_request;
struct web_stream;
struct web_hooks;

/* Roles (web_call.c): viewer < dispatcher < admin. */
enum web_role { WEB_ROLE_NONE = 0, WEB_ROLE_VIEWER, WEB_ROLE_DISPATCHER, WEB_ROLE_ADMIN };

/* "viewer", "dispatcher", "admin"; WEB_ROLE_NONE for anything else. */
enum web_role web_role_parse(const char *s);
const char *web_role_name(enum web_role r);
/* Whether role may do what needs at least `need` (viewer < dispatcher <
 * admin). */
bool web_role_allows(enum web_role role, enum web_role need);

/* Who is calling, once authenticated. */
struct web_who {
	enum web_role role;
	bool by_token;                  /* Authorization: Bearer */
	char user[WEB_NAME_MAX + 8];    /* the user, or "token:NAME" */
	char csrf[WEB_SECRET_HEX + 1];  /* the session's CSRF token */
};

/* ---- the database pool (web_db.c) ------------------------------------------ */

#define WEB_DB_MAX 64

struct web_db {
	struct net_pg *pg[WEB_DB_MAX];
	int inflight[WEB_DB_MAX];
	int n;
	bool schema_ok;                 /* the schema check passed (on the first connection) */
	bool schema_busy;               /* the check is queued or running on a connection */
	char schema_msg[256];
};

struct web_call;

/* Submit c->job (its steps set by the caller) on the least busy ready
 * connection; then(c, err, msg) runs when it is done (err: enum
 * net_pg_err; c->sqlstate holds the SQLSTATE of a refusal). Never blocks;
 * then may run before this returns (no connection ready: NET_PG_ELINK). */
void web_db_run(struct web_call *c, void (*then)(struct web_call *c, int err, const char *msg));
bool web_db_ready(const struct web_db *db);
/* For a step with all_results: whether res is a success; a refusal's
 * SQLSTATE and message go to c->sqlstate and c->errmsg. */
bool web_result_ok(struct web_call *c, const PGresult *res);
/* Reset c->job to n steps of sql (each with all_results and on_result),
 * the parameters being c->params. */
void web_job_set(struct web_call *c, size_t i, const char *sql, int nparams,
                 void (*on_result)(void *arg, const PGresult *res));

/* ---- the workers (web_worker.c) ------------------------------------------- */

struct web_worker;

/* A thread for work that must not stall the loop (a password check, a
 * track export), its results handed back on the loop through a pipe.
 * NULL when it cannot start. */
struct web_worker *web_worker_new(struct event_base *base);
/* Stops the thread; calls still queued are freed unanswered. */
void web_worker_free(struct web_worker *wk);
/* Queue c: work(c) on the thread, then after(c) on the loop. Returns
 * false when WORKER_QUEUE_MAX calls wait already (the caller answers 503). */
bool web_worker_run(struct web_worker *wk, struct web_call *c, void (*work)(struct web_call *c),
                    void (*after)(struct web_call *c));

/* ---- the track exporter's connection (web_export.c) ---------------------------- */

struct web_export;
struct ctl_fixes;

/* The exporter's connection, not yet open: conninfo and setup_sql (run on
 * each new connection; NULL or "": none) are borrowed. NULL when out of
 * memory. Free it after the exporter thread has stopped. */
struct web_export *web_export_new(const char *conninfo, const char *setup_sql);
void web_export_free(struct web_export *ex);
/* On the exporter thread only (blocking): appends the stored fixes of
 * vehicle with from <= ts < to, in ts order, the fields of want
 * (CTL_WANT_*), as ctl_slices_fetch reads them, connecting first when
 * there is no connection, and reading once more on a new connection when
 * an older one is found lost. *connected: a connection was opened.
 * Returns 0, or -1 with why in err (out emptied). */
int web_export_fetch(struct web_export *ex, const char *vehicle, int64_t from_us, int64_t to_us,
                     unsigned want, struct ctl_fixes *out, bool *connected, char *err,
                     size_t errlen);

/* ---- failed logins (web_auth.c) ------------------------------------------- */

struct web_throttle;

struct web_throttle *web_throttle_new(void);
void web_throttle_free(struct web_throttle *t);
/* Seconds the caller must still wait before a login for USER from ADDR is
 * tried (0: go on). now in microseconds. */
int64_t web_throttle_wait(struct web_throttle *t, const char *user, const char *addr,
                          int64_t now_us);
/* A failed (ok false) or successful login for USER from ADDR. */
void web_throttle_note(struct web_throttle *t, const char *user, const char *addr, bool ok,
                       int64_t now_us);

/* ---- the server ------------------------------------------------------------ */

struct web_counters {
	uint64_t requests;
	uint64_t status[6];             /* by class: 1xx..5xx (index 1..5) */
	uint64_t logins_ok, logins_failed, logins_throttled;
	uint64_t acks;
	uint64_t conns_open, conns_total, conns_refused;
	uint64_t db_errors;
};

struct web {
	struct event_base *base;
	struct web_config cfg;
	char assets[WEB_PATH_MAX + 64];
	char vendor_dir[WEB_PATH_MAX];
	char csp[WEB_PATH_MAX + 400];   /* the Content-Security-Policy of every answer */
	struct evhttp *http;
	struct evhttp *mhttp;           /* /metrics, /healthz */
	void *ssl_ctx;                  /* SSL_CTX *, or NULL: plain HTTP */
	struct web_db db;
	struct net_pg_conf pgc;
	struct web_stream *stream;
	struct web_hooks *hooks;
	struct web_worker *worker;      /* password checks */
	struct web_worker *exporter;    /* track exports */
	struct web_export *export;      /* the exporter thread's connection */
	struct web_throttle *throttle;
	struct web_counters n;
	bool stopping;
	int exit_code;
};

/* One request being answered. */
struct web_call {
	struct web *w;
	struct evhttp_request *req;
	struct web_path path;
	char *query;                    /* decoded later per endpoint; malloc'd or NULL */
	char addr[64];                  /* the peer's address */
	struct web_who who;
	int method;                     /* enum evhttp_cmd_type */
	/* the database */
	struct net_pg_job job;
	int pg;                         /* the connection it runs on, or -1 */
	void (*then)(struct web_call *c, int err, const char *msg);
	char sqlstate[8];               /* of a refused statement (steps with all_results) */
	/* parameters of the statements (text), and their storage */
	const char *params[10];
	char pbuf[10][80];
	char kinds[260];                /* GET alerts: the kinds as a text[] literal */
	char *note;                     /* ack note (malloc'd) */
	char password[WEB_PASSWORD_MAX + 1];
	char pwhash[256];
	bool found;                     /* a row came back (a document was made) */
	bool doc_made;                  /* the document is made here: none is a 500, not a 404 */
	const char *doc_type;           /* its Content-Type (NULL: JSON) */
	bool verified;                  /* the worker's answer */
	char secret[WEB_SECRET_HEX + 1];/* a new session id */
	struct evbuffer *out;           /* the answer's body */
	struct web_track_q track;
	struct web_call *next_done;     /* the worker's queue */
	void (*work)(struct web_call *c);       /* on a worker's thread */
	void (*after)(struct web_call *c);      /* then on the loop */
	char *text;                     /* what the worker wrote (malloc'd) */
	size_t textlen;
	bool read_failed;               /* the exporter's read failed (errmsg says why) */
	bool export_connected;          /* the exporter opened a connection for it */
	void (*authed)(struct web_call *c);     /* after web_auth_begin */
	char errmsg[256];               /* a refused statement's message */
};

/* ---- answers (web_call.c) ------------------------------------------------------ */

/* Answer c and free it: status with the body c->out (JSON unless type
 * says otherwise). */
void web_reply(struct web_call *c, int status, const char *type);
/* Answer {"error": MSG} with status, and free c. */
void web_reply_error(struct web_call *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Answer the JSON value j (taken; NULL: out of memory, 500) and free c. */
struct json_t;
void web_json_reply(struct web_call *c, int status, struct json_t *j);
/* 400 naming the parameter. */
void web_reply_bad(struct web_call *c, const struct web_bad *bad);
/* Free c without answering (the server is stopping; the stream took the
 * request). */
void web_call_free(struct web_call *c);

/* ---- endpoints -------------------------------------------------------------- */

/* web_auth.c: authenticate an API call (cookie or bearer; c->who), check
 * the CSRF token of a state-changing cookie call, then then(c); answers
 * 401, 403 or 503 itself. */
void web_auth_begin(struct web_call *c, void (*then)(struct web_call *c));
/* web_api.c: the API endpoints once c->who is known. */
void web_api_dispatch(struct web_call *c);
/* web_static.c: GET of a file of the board, or of Leaflet under
 * /vendor/leaflet/. */
void web_static_serve(struct web_call *c, const char *path);
/* web_auth.c: POST and DELETE /api/v1/session. */
void web_auth_login(struct web_call *c);
void web_auth_logout(struct web_call *c);

/* Security headers every answer carries. */
void web_security_headers(struct evhttp_request *req);

/* The request body as text (NUL-terminated copy in *out, malloc'd) and its
 * length. Returns 0 or -1 out of memory. */
int web_body(struct web_call *c, char **out, size_t *len);

#endif
