/*
 * net_pg.h - non-blocking libpq driven from a libevent loop (net_pg.c):
 * one connection, jobs of statements and COPYs run in order,
 * notifications passed on, reconnects with backoff. Used by the gateway,
 * hazgate-web and hazgate-jt808 (each with its own login).
 */
#ifndef HAZGATE_NET_PG_H
#define HAZGATE_NET_PG_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

struct event_base;

enum net_pg_err {
	NET_PG_OK = 0,
	NET_PG_ELINK = -1,   /* the connection is down or went down: retry later */
	NET_PG_ESQL = -2,    /* the server refused a statement (rolled back) */
	NET_PG_ENOMEM = -3,
	NET_PG_EDUP = -4,    /* as ESQL, the refusal was a unique violation (23505) */
};

/* A piece of COPY data: the pieces of a step are sent one after the other
 * (one CopyData message each), as if they were one buffer. */
struct net_pg_chunk {
	const char *p;
	size_t len;
};

struct net_pg_step {
	const char *sql;
	/* Set: a prepared statement. The first time a connection runs a step
	 * of this name, sql is prepared under it (PQsendPrepare, its own
	 * round trip, before the step); from then on only the name and the
	 * parameters are sent (PQsendQueryPrepared): no parse, no plan on the
	 * server. After a reconnect it is prepared again. The name must
	 * always come with the same sql (a string literal, typically), be
	 * unique in the program, and not start with "pg_"; at most
	 * NET_PG_PREPARED_MAX names an adapter. Not for COPY (a utility
	 * statement cannot be prepared). NULL: sent as text every time
	 * (PQsendQuery, or PQsendQueryParams with parameters). */
	const char *name;
	int nparams;
	const char *const *params;   /* text parameters, borrowed */
	/* COPY ... FROM STDIN data, borrowed (the array and the bytes) until
	 * the job is done: nchunks pieces, sent in order without being
	 * gathered. NULL: the COPY is ended with an error ("no data"). */
	const struct net_pg_chunk *chunks;
	size_t nchunks;
	/* Result of a statement that returned rows or a command tag; res is
	 * borrowed. May be NULL. */
	void (*on_result)(void *arg, const PGresult *res);
	bool skip;                   /* not sent */
	bool all_results;            /* on_result gets error results too, and
	                                they do not fail the step */
};

#define NET_PG_STEPS_MAX 12
/* Prepared statements an adapter keeps per connection, at most; a step
 * naming one more runs unprepared (PQsendQueryParams). */
#define NET_PG_PREPARED_MAX 16

struct net_pg_job {
	struct net_pg_step steps[NET_PG_STEPS_MAX];
	size_t nsteps;
	/* Steps may go in pipeline mode: two or more in a row that are no
	 * COPY, want no error results (all_results) and are one statement
	 * each (prepared, with parameters, or plain text without ';') are
	 * sent at once with a Sync, one round trip for them all; results and
	 * failures are as if sent one by one (a refused step fails the job,
	 * the ones after it are not run). */
	bool pipeline;
	void (*done)(void *arg, int err, const char *msg);
	void *arg;
	/* private to net_pg.c */
	size_t cur;
	struct net_pg_job *next;
};

struct net_pg;

/* What a connection needs; the strings are borrowed and must outlive the
 * adapter (they usually point into the program's configuration). */
struct net_pg_conf {
	const char *conninfo;       /* libpq connection string ("" = libpq's defaults) */
	const char *app_name;       /* fallback_application_name */
	const char *setup_sql;      /* run on every new connection before any job;
	                               NULL or "" = none */
	int reconnect_max_ms;       /* backoff ceiling */
};

struct net_pg_cbs {
	void (*on_ready)(void *arg);                /* connected and set up */
	void (*on_down)(void *arg);                 /* connection lost */
	void (*on_notify)(void *arg, const char *channel, const char *payload);
	void *arg;
};

/* An adapter on base, not yet connecting (net_pg_start), or NULL out of
 * memory. cfg and cbs are copied (cfg's strings are borrowed). */
struct net_pg *net_pg_new(struct event_base *base, const struct net_pg_conf *cfg,
                          const struct net_pg_cbs *cbs);
void net_pg_free(struct net_pg *pg);
void net_pg_start(struct net_pg *pg);
bool net_pg_ready(const struct net_pg *pg);
/* Queue a job (borrowed until done() is called; done is always called,
 * possibly from inside this call with NET_PG_ELINK when not ready). */
void net_pg_submit(struct net_pg *pg, struct net_pg_job *job);
bool net_pg_busy(const struct net_pg *pg);
void net_pg_set_reconnect_max(struct net_pg *pg, int ms);
#define NET_PG_HOSTS_MAX 8
#define NET_PG_HOST_MAX 256

/* One host of a conninfo's host list, with its port ("" = the default). */
struct net_pg_host {
	char host[NET_PG_HOST_MAX];
	char port[16];
};

/* The hosts net_pg tries itself, in order, for conninfo. libpq resolves a
 * host name with a blocking getaddrinfo inside PQconnectPoll, and walks a
 * host list inside one connect whose silent host no timeout of ours could
 * skip; so net_pg takes the list (host=a,b,... with port=p or p1,p2,...),
 * resolves each name with net_dns, and hands libpq one host at a time (host,
 * port, hostaddr overriding the lists; the rest of the conninfo, such as
 * target_session_attrs=read-write, applies to each). A host that fails or
 * stays silent past the connect timeout gives way to the next; after the
 * last, the backoff.
 *
 * Copies up to cap hosts into out and returns their count, or 0 when
 * libpq is left the conninfo as it is: no host, hostaddr given, one
 * numeric host or socket directory (nothing to resolve or walk), an empty
 * item, more than cap hosts, port counts that do not match (libpq says
 * why), not a connection string. *connect_timeout_s (may be NULL) gets the
 * conninfo's connect_timeout (libpq's minimum of 2), else 10: the bound on
 * each step of a connect. */
int net_pg_hosts(const char *conninfo, struct net_pg_host *out, int cap, int *connect_timeout_s);

#endif
