/*
 * net_pg.c - non-blocking libpq driven from a libevent loop (the gateway's,
 * hazgate-web's, hazgate-jt808's).
 *
 * Connects with PQconnectStartParams + PQconnectPoll (each poll waits for
 * the readiness libpq asks for), then PQsetnonblocking. Work comes as jobs:
 * a list of steps (a statement with text parameters, or a COPY ... FROM
 * STDIN with its data as a list of pieces, each put as it lies: the writer
 * passes the sections of its spool records without gathering them) run one
 * after the other on the one connection;
 * sends are flushed with PQflush until 0 (write readiness while it says 1),
 * results read with PQconsumeInput/PQisBusy/PQgetResult. Notifications
 * (LISTEN) are passed on whenever input is consumed, and again after the
 * results it held are collected (libpq parses what follows a statement's
 * ReadyForQuery only then).
 *
 * On every new connection a setup job runs first: the user's setup SQL
 * (the gateway's: its temporary staging tables and LISTEN hazgate_zones;
 * hazgate-web's: its LISTENs). A step the server refuses ends
 * the job with NET_PG_ESQL after a ROLLBACK; a lost link ends the running
 * and every queued job with NET_PG_ELINK, and reconnects with backoff.
 *
 * The server's notices (a WARNING such as "terminating connection due to
 * immediate shutdown command", a NOTICE of a statement) are log lines
 * (event=pg_notice), never libpq's raw text on stderr.
 *
 * Prepared statements (a step with a name, net_pg.h): the names prepared on
 * this connection are kept (pointers to the callers' strings, compared by
 * content); the first use sends Prepare alone, and once it succeeded the
 * step itself as Bind/Execute of that name. A Prepare is not undone by a
 * ROLLBACK (the server's prepared statements are not transactional), so
 * a failed batch keeps its statements; a new connection starts with none.
 * Should the server say a name does not exist (sqlstate 26000: a pooler
 * or DISCARD ALL took it), every name is forgotten and prepared again at
 * its next use.
 *
 * A plain step that expects nothing back (no parameters, no data, no
 * on_result: a BEGIN) is sent in one message with the plain step after it
 * when that one has no on_result either ("BEGIN;COPY ..."): the server
 * runs both, one round trip.
 *
 * A job marked pipeline sends each run of two or more steps that can go
 * in pipeline mode (send_pipeline: no COPY) at once, ended by a Sync: the
 * gateway's batch ends with its upserts, NOTIFYs and COMMIT in one round
 * trip. Their results are read in order (pipe_result) and handled as if
 * the steps had gone one by one.
 *
 * Limits: outside a pipeline, one statement in flight at a time; COPY never
 * goes in a pipeline (libpq does not allow it), so the batch transaction
 * is three round trips: BEGIN;COPY (two), the rest (one).
 */
#include "net/net_pg.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "net/net_dns.h"
#include "common/hz_backoff.h"
#include "common/hz_log.h"


enum pg_state { PG_DOWN, PG_CONNECTING, PG_SETUP, PG_READY };

struct net_pg {
	struct event_base *base;
	struct net_pg_conf conf;     /* strings borrowed */
	struct net_pg_cbs cbs;
	PGconn *conn;
	struct event *ev_poll;          /* connect phase: one-shot */
	struct event *ev_read, *ev_write, *ev_retry;
	enum pg_state state;
	struct hz_backoff backoff;   /* milliseconds */
	int reconnect_max_ms;
	struct net_pg_job *head, *tail;
	bool running;                   /* head's current step is on the wire */
	bool step_failed, rolling_back;
	char errmsg[512];
	char sqlstate[8];
	struct net_pg_job setup;
	char *joined;                   /* two simple statements sent as one */
	size_t joined_cap;
	const char *prepared[NET_PG_PREPARED_MAX];   /* names prepared on conn */
	size_t nprepared;
	bool preparing;                 /* the current step's Prepare is on the wire */
	/* Pipeline mode (a run of steps sent at once, see send_pipeline): what
	 * was sent, in order (a step's Prepare, or the step), the one whose
	 * results are being read, and whether that one failed. */
	struct pipe_item { size_t step; bool prepare; } pipe[2 * NET_PG_STEPS_MAX];
	size_t pipe_n, pipe_i;
	bool pipe_item_failed;
	struct net_dns *dns;             /* resolves the conninfo's host names */
	bool resolving;
	/* The conninfo's hosts that net_pg tries itself, one after the other
	 * (net_pg_hosts; nhosts 0: libpq alone), the one being tried, and the
	 * bound on each step of a connect (the conninfo's connect_timeout, else
	 * 10 s). */
	struct net_pg_host hosts[NET_PG_HOSTS_MAX];
	int nhosts, cur;
	int connect_timeout_s;
};


static void start_connect(struct net_pg *pg);
static void try_host(struct net_pg *pg);
static void run_next(struct net_pg *pg);
static void step_complete(struct net_pg *pg);
static void handle_result(struct net_pg *pg, PGresult *res);

/* A server's message inside why="...": its double quotes become single
 * ones (hz_log turns its newlines and tabs into spaces). */
static void
unquote(char *s)
{
	for (; *s; s++)
		if (*s == '"')
			*s = '\'';
}

/* libpq's notice receiver: a notice or warning of the server as a log line
 * (libpq's default prints its raw text on stderr). */
static void
on_notice(void *arg, const PGresult *res)
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *text = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char why[512];

	(void)arg;
	snprintf(why, sizeof(why), "%s", text ? text : PQresultErrorMessage(res));
	unquote(why);
	hz_log(sev && strcmp(sev, "WARNING") == 0 ? HZ_LOG_WARN :
	       sev && (strcmp(sev, "DEBUG") == 0 || strcmp(sev, "LOG") == 0) ? HZ_LOG_DEBUG :
	       HZ_LOG_INFO, "pg_notice", "severity=%s sqlstate=%s why=\"%s\"",
	       sev ? sev : "?", state ? state : "?", why);
}

static void
close_conn(struct net_pg *pg)
{
	if (pg->ev_poll) {
		event_free(pg->ev_poll);
		pg->ev_poll = NULL;
	}
	if (pg->ev_read) {
		event_free(pg->ev_read);
		pg->ev_read = NULL;
	}
	if (pg->ev_write) {
		event_free(pg->ev_write);
		pg->ev_write = NULL;
	}
	if (pg->conn) {
		PQfinish(pg->conn);
		pg->conn = NULL;
	}
	pg->nprepared = 0;
	pg->preparing = false;
	pg->pipe_n = 0;
}

/* Is name prepared on this connection? */
static bool
is_prepared(const struct net_pg *pg, const char *name)
{
	for (size_t i = 0; i < pg->nprepared; i++)
		if (pg->prepared[i] == name || strcmp(pg->prepared[i], name) == 0)
			return true;
	return false;
}

static void
schedule_retry(struct net_pg *pg)
{
	int max = pg->reconnect_max_ms, min = max < 100 ? max : 100;
	int delay = (int)hz_backoff_jitter(hz_backoff_next(&pg->backoff, min, max),
					   (uint32_t)random());
	struct timeval tv = { delay / 1000, (delay % 1000) * 1000 };

	event_add(pg->ev_retry, &tv);
}

/* Fail every job with err; the queue is emptied before any done() runs, so
 * a done() that submits again sees a clean state. */
static void
fail_all(struct net_pg *pg, int err, const char *msg)
{
	struct net_pg_job *j = pg->head;

	pg->head = pg->tail = NULL;
	pg->running = false;
	while (j) {
		struct net_pg_job *next = j->next;

		j->next = NULL;
		if (j != &pg->setup && j->done)
			j->done(j->arg, err, msg);
		j = next;
	}
}

static void
link_lost(struct net_pg *pg, const char *why)
{
	bool was_up = pg->state == PG_READY || pg->state == PG_SETUP;
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", why && *why ? why : "connection lost");
	unquote(msg);
	close_conn(pg);
	pg->state = PG_DOWN;
	if (pg->nhosts > 1)
		hz_log(was_up ? HZ_LOG_ERROR : HZ_LOG_WARN,
		       was_up ? "pg_lost" : "pg_connect_failed", "host=%s port=%s why=\"%s\"",
		       pg->hosts[pg->cur].host,
		       pg->hosts[pg->cur].port[0] ? pg->hosts[pg->cur].port : "default", msg);
	else
		hz_log(was_up ? HZ_LOG_ERROR : HZ_LOG_WARN,
		       was_up ? "pg_lost" : "pg_connect_failed", "why=\"%s\"", msg);
	fail_all(pg, NET_PG_ELINK, msg);
	if (was_up && pg->cbs.on_down)
		pg->cbs.on_down(pg->cbs.arg);
	/* A host of the list that failed to connect (refused, timed out, not
	 * the read-write one target_session_attrs asks for): the next one at
	 * once; after the last, the backoff. */
	if (!was_up && pg->cur + 1 < pg->nhosts) {
		pg->cur++;
		try_host(pg);
		return;
	}
	schedule_retry(pg);
}

static void
want_flush(struct net_pg *pg)
{
	int r = PQflush(pg->conn);

	if (r < 0) {
		link_lost(pg, PQerrorMessage(pg->conn));
		return;
	}
	if (r == 1)
		event_add(pg->ev_write, NULL);
	else
		event_del(pg->ev_write);
}

static void
job_finished(struct net_pg *pg, int err, const char *msg)
{
	struct net_pg_job *j = pg->head;

	pg->head = j->next;
	if (!pg->head)
		pg->tail = NULL;
	j->next = NULL;
	pg->running = false;
	if (j == &pg->setup) {
		if (err) {
			hz_log(HZ_LOG_ERROR, "pg_setup_failed", "why=\"%s\"", msg);
			link_lost(pg, msg);
			return;
		}
		pg->state = PG_READY;
		hz_backoff_reset(&pg->backoff);
		hz_log(HZ_LOG_INFO, "pg_connected", "server_version=%d", PQserverVersion(pg->conn));
		if (pg->cbs.on_ready)
			pg->cbs.on_ready(pg->cbs.arg);
	} else if (j->done) {
		j->done(j->arg, err, msg);
	}
	if (pg->conn && pg->state == PG_READY)
		run_next(pg);
}

/* A step sent as plain text with the simple protocol. */
static bool
plain(const struct net_pg_step *s)
{
	return !s->name && s->nparams == 0;
}

/* The job's next step after cur that is not skipped, or nsteps. */
static size_t
next_step(const struct net_pg_job *j, size_t cur)
{
	do
		cur++;
	while (cur < j->nsteps && j->steps[cur].skip);
	return cur;
}

/* A plain step that expects nothing back (a BEGIN) goes out in one message
 * with the plain step after it ("BEGIN;COPY ..."): one round trip less.
 * Returns the text to send and moves j->cur to the second step, or NULL
 * (nothing joined; also out of memory). */
static const char *
join_plain(struct net_pg *pg, struct net_pg_job *j)
{
	const struct net_pg_step *s = &j->steps[j->cur], *t;
	size_t n = next_step(j, j->cur), a, b;

	if (n == j->nsteps || !plain(s) || s->chunks || s->on_result || s->all_results)
		return NULL;
	t = &j->steps[n];
	if (!plain(t) || t->on_result || t->all_results)
		return NULL;   /* its on_result would get the first one's result too */
	a = strlen(s->sql);
	b = strlen(t->sql);
	if (a + b + 2 > pg->joined_cap) {
		char *p = realloc(pg->joined, a + b + 2);

		if (!p)
			return NULL;
		pg->joined = p;
		pg->joined_cap = a + b + 2;
	}
	memcpy(pg->joined, s->sql, a);
	pg->joined[a] = ';';
	memcpy(pg->joined + a + 1, t->sql, b + 1);
	j->cur = n;
	return pg->joined;
}

/* A step that can go in a pipeline: no COPY, no error results wanted,
 * and one statement (the extended protocol takes no more): prepared, with
 * parameters, or plain text without a semicolon (a COMMIT). */
static bool
pipelinable(const struct net_pg_step *s)
{
	return !s->chunks && !s->all_results && strncasecmp(s->sql, "COPY", 4) != 0 &&
	       (s->name || s->nparams > 0 || !strchr(s->sql, ';'));
}

/*
 * Two or more steps in a row that can go in a pipeline are sent at once
 * in pipeline mode (each prepared statement's Prepare first when this
 * connection has not prepared it yet), then a Sync: one round trip for
 * the lot. Their results are read in order (pipe_result); a step the
 * server refuses fails the job as alone (the ones after it come back
 * aborted), followed by the ROLLBACK. Returns false when there is no such
 * run (nothing sent), true when it was sent (or sending lost the link).
 */
static bool
send_pipeline(struct net_pg *pg, struct net_pg_job *j)
{
	size_t k = j->cur, n = 0, named = 0;

	while (k < j->nsteps && pipelinable(&j->steps[k])) {
		n++;
		k = next_step(j, k);
	}
	if (n < 2)
		return false;
	if (!PQenterPipelineMode(pg->conn))
		return false;
	pg->pipe_n = pg->pipe_i = 0;
	pg->pipe_item_failed = false;
	for (k = j->cur; n > 0; n--, k = next_step(j, k)) {
		const struct net_pg_step *s = &j->steps[k];
		bool prep = s->name && !is_prepared(pg, s->name) &&
			    pg->nprepared + named < NET_PG_PREPARED_MAX;
		int ok = 1;

		if (prep) {
			ok = PQsendPrepare(pg->conn, s->name, s->sql, s->nparams, NULL);
			pg->pipe[pg->pipe_n++] = (struct pipe_item){ k, true };
			named++;
		}
		if (ok && s->name && (prep || is_prepared(pg, s->name)))
			ok = PQsendQueryPrepared(pg->conn, s->name, s->nparams, s->params, NULL,
						 NULL, 0);
		else if (ok)
			ok = PQsendQueryParams(pg->conn, s->sql, s->nparams, NULL, s->params, NULL,
					       NULL, 0);
		pg->pipe[pg->pipe_n++] = (struct pipe_item){ k, false };
		if (!ok) {
			link_lost(pg, PQerrorMessage(pg->conn));
			return true;
		}
	}
	if (!PQpipelineSync(pg->conn)) {
		link_lost(pg, PQerrorMessage(pg->conn));
		return true;
	}
	pg->step_failed = false;
	pg->preparing = pg->pipe[0].prepare;
	j->cur = pg->pipe[0].step;
	pg->running = true;
	want_flush(pg);
	return true;
}

/* A result read in pipeline mode: res of the item being read, NULL at its
 * end, PGRES_PIPELINE_SYNC at the end of them all (then the pipeline is
 * left and the job goes on as after its last step, or fails as after a
 * step that failed). */
static void
pipe_result(struct net_pg *pg, PGresult *res)
{
	struct net_pg_job *j = pg->head;

	if (!res) {
		if (pg->pipe_i < pg->pipe_n && pg->pipe[pg->pipe_i].prepare && !pg->pipe_item_failed)
			pg->prepared[pg->nprepared++] = j->steps[pg->pipe[pg->pipe_i].step].name;
		pg->pipe_i++;
		pg->pipe_item_failed = false;
		if (pg->pipe_i < pg->pipe_n) {
			j->cur = pg->pipe[pg->pipe_i].step;
			pg->preparing = pg->pipe[pg->pipe_i].prepare;
		}
		return;
	}
	switch (PQresultStatus(res)) {
	case PGRES_PIPELINE_SYNC:
		PQclear(res);
		j->cur = pg->pipe[pg->pipe_n - 1].step;
		pg->pipe_n = 0;
		pg->preparing = false;
		if (!PQexitPipelineMode(pg->conn)) {
			link_lost(pg, PQerrorMessage(pg->conn));
			return;
		}
		step_complete(pg);
		return;
	case PGRES_PIPELINE_ABORTED:
		if (!pg->step_failed) {
			snprintf(pg->errmsg, sizeof(pg->errmsg), "pipeline aborted");
			pg->sqlstate[0] = '\0';
		}
		pg->step_failed = pg->pipe_item_failed = true;
		break;
	default:
		handle_result(pg, res);
		break;
	}
	PQclear(res);
}

static void
send_current(struct net_pg *pg)
{
	struct net_pg_job *j = pg->head;
	const struct net_pg_step *s;
	const char *joined;
	int ok;

	while (j->cur < j->nsteps && j->steps[j->cur].skip)
		j->cur++;
	if (j->cur == j->nsteps) {
		job_finished(pg, NET_PG_OK, NULL);
		return;
	}
	if (j->pipeline && pg->state == PG_READY && send_pipeline(pg, j))
		return;
	joined = join_plain(pg, j);
	s = &j->steps[j->cur];
	pg->step_failed = false;
	pg->preparing = false;
	if (s->name && !is_prepared(pg, s->name) && pg->nprepared < NET_PG_PREPARED_MAX) {
		pg->preparing = true;
		ok = PQsendPrepare(pg->conn, s->name, s->sql, s->nparams, NULL);
	} else if (s->name && is_prepared(pg, s->name)) {
		ok = PQsendQueryPrepared(pg->conn, s->name, s->nparams, s->params, NULL, NULL, 0);
	} else if (plain(s)) {
		ok = PQsendQuery(pg->conn, joined ? joined : s->sql);
	} else {
		ok = PQsendQueryParams(pg->conn, s->sql, s->nparams, NULL, s->params, NULL, NULL, 0);
	}
	if (!ok) {
		link_lost(pg, PQerrorMessage(pg->conn));
		return;
	}
	pg->running = true;
	want_flush(pg);
}

static void
run_next(struct net_pg *pg)
{
	if (pg->running || !pg->head || !pg->conn)
		return;
	if (pg->state != PG_READY && pg->head != &pg->setup)
		return;
	send_current(pg);
}

/* All results of the current statement are in (PQgetResult gave NULL). */
static void
step_complete(struct net_pg *pg)
{
	struct net_pg_job *j = pg->head;
	PGTransactionStatusType ts;

	pg->running = false;
	if (pg->rolling_back) {
		pg->rolling_back = false;
		job_finished(pg, strcmp(pg->sqlstate, "23505") ? NET_PG_ESQL : NET_PG_EDUP,
			     pg->errmsg);
		return;
	}
	if (!pg->step_failed && pg->preparing) {
		/* Prepared: now the step itself. */
		pg->prepared[pg->nprepared++] = j->steps[j->cur].name;
		send_current(pg);
		return;
	}
	if (!pg->step_failed) {
		j->cur++;
		send_current(pg);
		return;
	}
	if (strcmp(pg->sqlstate, "26000") == 0)
		pg->nprepared = 0;   /* a name the server does not know: forget them all */
	pg->preparing = false;
	if (PQstatus(pg->conn) == CONNECTION_BAD) {
		link_lost(pg, pg->errmsg);
		return;
	}
	ts = PQtransactionStatus(pg->conn);
	if (ts == PQTRANS_INERROR || ts == PQTRANS_INTRANS) {
		pg->rolling_back = true;
		if (!PQsendQuery(pg->conn, "ROLLBACK")) {
			link_lost(pg, PQerrorMessage(pg->conn));
			return;
		}
		pg->running = true;
		want_flush(pg);
		return;
	}
	job_finished(pg, strcmp(pg->sqlstate, "23505") ? NET_PG_ESQL : NET_PG_EDUP, pg->errmsg);
}

/* A COPY step's data, piece by piece (libpq copies each into its output
 * buffer and sends what the socket takes). Returns 0, or -1 when libpq
 * could not take a piece (out of memory: a non-blocking connection never
 * refuses for a full buffer, libpq grows it). A piece over INT_MAX bytes
 * goes in parts. */
static int
put_chunks(struct net_pg *pg, const struct net_pg_step *s)
{
	for (size_t i = 0; i < s->nchunks; i++) {
		const char *p = s->chunks[i].p;
		size_t left = s->chunks[i].len;

		while (left > 0) {
			int n = left > INT_MAX ? INT_MAX : (int)left;

			if (PQputCopyData(pg->conn, p, n) != 1)
				return -1;
			p += n;
			left -= (size_t)n;
		}
	}
	return 0;
}

static void
handle_result(struct net_pg *pg, PGresult *res)
{
	struct net_pg_job *j = pg->head;
	const struct net_pg_step *s = j && !pg->rolling_back ? &j->steps[j->cur] : NULL;

	switch (PQresultStatus(res)) {
	case PGRES_COPY_IN:
		if (!s || !s->chunks) {
			PQputCopyEnd(pg->conn, "no data");
			break;
		}
		if (put_chunks(pg, s) != 0) {
			PQputCopyEnd(pg->conn, "out of memory");
			break;
		}
		if (PQputCopyEnd(pg->conn, NULL) != 1) {
			link_lost(pg, PQerrorMessage(pg->conn));
			return;
		}
		want_flush(pg);
		break;
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	ok:
		if (s && s->on_result && !pg->step_failed && !pg->preparing)
			s->on_result(j->arg, res);
		break;
	default:
		if (s && s->all_results && !pg->preparing)
			goto ok;
		if (!pg->step_failed) {
			const char *e = PQresultErrorMessage(res);
			const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			snprintf(pg->sqlstate, sizeof(pg->sqlstate), "%s", st ? st : "");

			snprintf(pg->errmsg, sizeof(pg->errmsg), "%s", e && *e ? e : "statement failed");
			unquote(pg->errmsg);
		}
		pg->step_failed = true;
		pg->pipe_item_failed = true;
		break;
	}
}

/* The notifications libpq has parsed, to on_notify. */
static void
deliver_notifies(struct net_pg *pg)
{
	PGnotify *n;

	while (pg->conn && (n = PQnotifies(pg->conn)) != NULL) {
		if (pg->cbs.on_notify)
			pg->cbs.on_notify(pg->cbs.arg, n->relname, n->extra);
		PQfreemem(n);
	}
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct net_pg *pg = arg;

	(void)fd;
	(void)what;
	if (!PQconsumeInput(pg->conn)) {
		link_lost(pg, PQerrorMessage(pg->conn));
		return;
	}
	deliver_notifies(pg);
	while (pg->conn && pg->running && !PQisBusy(pg->conn)) {
		PGresult *res = PQgetResult(pg->conn);

		if (pg->pipe_n) {
			pipe_result(pg, res);
			continue;
		}
		if (!res) {
			step_complete(pg);
			continue;
		}
		handle_result(pg, res);
		PQclear(res);
		if (!pg->conn)
			return;
	}
	/* libpq parses the messages after a statement's results only while
	 * they are read (a NOTIFY committed meanwhile, one to this session
	 * itself, sent before its ReadyForQuery): those came in with this
	 * read, and no other read may follow for a long time. */
	deliver_notifies(pg);
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	struct net_pg *pg = arg;

	(void)fd;
	(void)what;
	want_flush(pg);
}

static void
connected(struct net_pg *pg)
{
	int fd = PQsocket(pg->conn);

	if (PQsetnonblocking(pg->conn, 1) != 0) {
		link_lost(pg, PQerrorMessage(pg->conn));
		return;
	}
	pg->ev_read = event_new(pg->base, fd, EV_READ | EV_PERSIST, on_read, pg);
	pg->ev_write = event_new(pg->base, fd, EV_WRITE, on_write, pg);
	event_add(pg->ev_read, NULL);
	pg->state = PG_SETUP;
	memset(&pg->setup, 0, sizeof(pg->setup));
	pg->setup.steps[0].sql = pg->conf.setup_sql;
	pg->setup.nsteps = 1;
	pg->setup.next = pg->head;   /* runs before anything queued */
	pg->head = &pg->setup;
	if (!pg->tail)
		pg->tail = &pg->setup;
	run_next(pg);
}

static void
on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct net_pg *pg = arg;
	PostgresPollingStatusType st;

	(void)fd;
	if (pg->ev_poll) {
		event_free(pg->ev_poll);
		pg->ev_poll = NULL;
	}
	if (what & EV_TIMEOUT) {
		link_lost(pg, "connect timed out");
		return;
	}
	st = PQconnectPoll(pg->conn);
	switch (st) {
	case PGRES_POLLING_OK:
		connected(pg);
		return;
	case PGRES_POLLING_FAILED:
		link_lost(pg, PQerrorMessage(pg->conn));
		return;
	default:
		pg->ev_poll = event_new(pg->base, PQsocket(pg->conn),
					st == PGRES_POLLING_READING ? EV_READ : EV_WRITE, on_poll, pg);
		{
			/* bound a silent server */
			struct timeval tmo = { pg->connect_timeout_s, 0 };

			event_add(pg->ev_poll, &tmo);
		}
		return;
	}
}

/* Start libpq's connect: the conninfo, and when net_pg walks the host list
 * itself, the host being tried (host, port) and its address (hostaddr; NULL
 * for a socket directory), which override the conninfo's lists. */
static void
connect_to(struct net_pg *pg, const char *hostaddr)
{
	const char *keys[6], *vals[6];
	int n = 0;

	keys[n] = "fallback_application_name";
	vals[n++] = pg->conf.app_name;
	if (pg->conf.conninfo[0]) {
		keys[n] = "dbname";
		vals[n++] = pg->conf.conninfo;
	}
	if (pg->nhosts > 0) {
		const struct net_pg_host *h = &pg->hosts[pg->cur];

		keys[n] = "host";
		vals[n++] = h->host;
		if (h->port[0]) {
			keys[n] = "port";
			vals[n++] = h->port;
		}
	}
	if (hostaddr && hostaddr[0] != '/') {
		keys[n] = "hostaddr";
		vals[n++] = hostaddr;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	pg->conn = PQconnectStartParams(keys, vals, 1);
	if (!pg->conn || PQstatus(pg->conn) == CONNECTION_BAD) {
		link_lost(pg, pg->conn ? PQerrorMessage(pg->conn) : "out of memory");
		return;
	}
	PQsetNoticeReceiver(pg->conn, on_notice, pg);
	pg->state = PG_CONNECTING;
	pg->ev_poll = event_new(pg->base, PQsocket(pg->conn), EV_WRITE, on_poll, pg);
	event_add(pg->ev_poll, NULL);
}

static void
on_resolved(void *arg, int err, const char *addr)
{
	struct net_pg *pg = arg;

	pg->resolving = false;
	if (err != NET_DNS_OK) {
		char why[NET_PG_HOST_MAX + 64];

		snprintf(why, sizeof(why), "%s: %s", pg->hosts[pg->cur].host,
			 net_dns_strerror(err));
		link_lost(pg, why);
		return;
	}
	hz_log(HZ_LOG_DEBUG, "pg_resolved", "host=%s addr=%s", pg->hosts[pg->cur].host, addr);
	connect_to(pg, addr);
}

/* Copy the item of a comma-separated list that starts at *p into out (cap
 * bytes), advance *p past it and its comma. False when it does not fit. */
static bool
list_item(const char **p, char *out, size_t cap)
{
	size_t n = strcspn(*p, ",");

	if (n >= cap)
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n + ((*p)[n] == ',');
	return true;
}

int
net_pg_hosts(const char *conninfo, struct net_pg_host *out, int cap, int *connect_timeout_s)
{
	PQconninfoOption *opts, *o;
	const char *host = NULL, *hostaddr = NULL, *port = NULL, *tmo = NULL;
	int nhosts = 0, nports = 0;

	if (connect_timeout_s)
		*connect_timeout_s = 10;
	opts = PQconninfoParse(conninfo, NULL);
	if (!opts)
		return 0;
	for (o = opts; o->keyword; o++) {
		if (!o->val || !o->val[0])
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "connect_timeout") == 0)
			tmo = o->val;
	}
	if (tmo && connect_timeout_s) {
		/* libpq's rule: a value under 2 counts as 2; 0 is "no limit",
		 * which here keeps the 10 s bound. */
		int t = atoi(tmo);

		if (t > 0)
			*connect_timeout_s = t < 2 ? 2 : t;
	}
	if (host && !hostaddr) {
		const char *h = host, *p = port;

		for (; *h && nhosts < cap; nhosts++) {
			if (!list_item(&h, out[nhosts].host, sizeof(out[nhosts].host)) ||
			    !out[nhosts].host[0])
				goto libpq;
			out[nhosts].port[0] = '\0';
		}
		if (*h || host[strlen(host) - 1] == ',')
			goto libpq; /* more hosts than cap, or an empty last one */
		for (; p && *p && nports < nhosts; nports++)
			if (!list_item(&p, out[nports].port, sizeof(out[nports].port)))
				goto libpq;
		if (p && *p)
			goto libpq; /* more ports than hosts */
		if (nports == 1)
			for (int i = 1; i < nhosts; i++)
				strcpy(out[i].port, out[0].port);
		else if (nports != 0 && nports != nhosts)
			goto libpq; /* libpq says why */
		/* One numeric host or socket directory: nothing to resolve, nothing
		 * to walk; libpq as it is. */
		if (nhosts == 1 && net_dns_numeric(out[0].host))
			goto libpq;
		PQconninfoFree(opts);
		return nhosts;
	}
libpq:
	PQconninfoFree(opts);
	return 0;
}

/* Connect to the host the list is at: resolve its name first (net_dns),
 * so that libpq is given its address. */
static void
try_host(struct net_pg *pg)
{
	int rc;

	/* host stays in the conninfo (TLS server name, Kerberos, the error
	 * messages); hostaddr is what libpq connects to. */
	pg->resolving = true;
	rc = net_dns_resolve(pg->dns, pg->hosts[pg->cur].host, on_resolved, pg);
	if (rc != NET_DNS_OK) {
		char why[NET_PG_HOST_MAX + 64];

		pg->resolving = false;
		snprintf(why, sizeof(why), "%s: %s", pg->hosts[pg->cur].host, net_dns_strerror(rc));
		link_lost(pg, why);
	}
}

static void
start_connect(struct net_pg *pg)
{
	pg->cur = 0;
	if (pg->nhosts == 0)
		connect_to(pg, NULL);
	else
		try_host(pg);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_connect(arg);
}

struct net_pg *
net_pg_new(struct event_base *base, const struct net_pg_conf *cfg, const struct net_pg_cbs *cbs)
{
	struct net_pg *pg = calloc(1, sizeof(*pg));

	if (!pg)
		return NULL;
	pg->base = base;
	pg->conf = *cfg;
	pg->cbs = *cbs;
	pg->reconnect_max_ms = cfg->reconnect_max_ms;
	pg->ev_retry = evtimer_new(base, on_retry, pg);
	pg->dns = net_dns_new(base);
	pg->nhosts = net_pg_hosts(cfg->conninfo, pg->hosts, NET_PG_HOSTS_MAX,
				  &pg->connect_timeout_s);
	if (!pg->ev_retry || !pg->dns) {
		if (pg->ev_retry)
			event_free(pg->ev_retry);
		net_dns_free(pg->dns);
		free(pg);
		return NULL;
	}
	return pg;
}

void
net_pg_free(struct net_pg *pg)
{
	if (!pg)
		return;
	net_dns_free(pg->dns);
	close_conn(pg);
	fail_all(pg, NET_PG_ELINK, "shutting down");
	event_free(pg->ev_retry);
	free(pg->joined);
	free(pg);
}

void
net_pg_start(struct net_pg *pg)
{
	if (pg->state == PG_DOWN && !pg->conn && !pg->resolving &&
	    !event_pending(pg->ev_retry, EV_TIMEOUT, NULL))
		start_connect(pg);
}

bool
net_pg_ready(const struct net_pg *pg)
{
	return pg->state == PG_READY;
}

bool
net_pg_busy(const struct net_pg *pg)
{
	return pg->head != NULL;
}

void
net_pg_set_reconnect_max(struct net_pg *pg, int ms)
{
	pg->reconnect_max_ms = ms;
}

void
net_pg_submit(struct net_pg *pg, struct net_pg_job *job)
{
	job->cur = 0;
	job->next = NULL;
	if (pg->state != PG_READY) {
		if (job->done)
			job->done(job->arg, NET_PG_ELINK, "not connected");
		return;
	}
	if (pg->tail)
		pg->tail->next = job;
	else
		pg->head = job;
	pg->tail = job;
	run_next(pg);
}
