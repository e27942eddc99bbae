/*
 * gw_pg.h - non-blocking libpq driven from the daemon's libevent loop
 * (gw_pg.c): one connection, jobs of statements and COPYs run in order,
 * notifications passed on, reconnects with backoff.
 */
#ifndef HAZGATE_GW_PG_H
#define HAZGATE_GW_PG_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

struct event_base;
struct gw_config;

enum gw_pg_err {
	GW_PG_OK = 0,
	GW_PG_ELINK = -1,   /* the connection is down or went down: retry later */
	GW_PG_ESQL = -2,    /* the server refused a statement (rolled back) */
	GW_PG_ENOMEM = -3,
	GW_PG_EDUP = -4,    /* as ESQL, the refusal was a unique violation (23505) */
};

/* A piece of COPY data: the pieces of a step are sent one after the other
 * (one CopyData message each), as if they were one buffer. */
struct gw_pg_chunk {
	const char *p;
	size_t len;
};

struct gw_pg_step {
	const char *sql;
	int nparams;
	const char *const *params;   /* text parameters, borrowed */
	/* COPY ... FROM STDIN data, borrowed (the array and the bytes) until
	 * the job is done: nchunks pieces, sent in order without being
	 * gathered. NULL: the COPY is ended with an error ("no data"). */
	const struct gw_pg_chunk *chunks;
	size_t nchunks;
	/* Result of a statement that returned rows or a command tag; res is
	 * borrowed. May be NULL. */
	void (*on_result)(void *arg, const PGresult *res);
	bool skip;                   /* not sent */
	bool all_results;            /* on_result gets error results too, and
	                                they do not fail the step */
};

#define GW_PG_STEPS_MAX 12

struct gw_pg_job {
	struct gw_pg_step steps[GW_PG_STEPS_MAX];
	size_t nsteps;
	void (*done)(void *arg, int err, const char *msg);
	void *arg;
	/* private to gw_pg.c */
	size_t cur;
	struct gw_pg_job *next;
};

struct gw_pg;

struct gw_pg_cbs {
	void (*on_ready)(void *arg);                /* connected and set up */
	void (*on_down)(void *arg);                 /* connection lost */
	void (*on_notify)(void *arg, const char *channel, const char *payload);
	void *arg;
};

/* An adapter on base, not yet connecting (gw_pg_start), or NULL out of
 * memory. cfg is borrowed and must outlive it; cbs is copied. */
struct gw_pg *gw_pg_new(struct event_base *base, const struct gw_config *cfg,
                        const struct gw_pg_cbs *cbs);
void gw_pg_free(struct gw_pg *pg);
void gw_pg_start(struct gw_pg *pg);
bool gw_pg_ready(const struct gw_pg *pg);
/* Queue a job (borrowed until done() is called; done is always called,
 * possibly from inside this call with GW_PG_ELINK when not ready). */
void gw_pg_submit(struct gw_pg *pg, struct gw_pg_job *job);
bool gw_pg_busy(const struct gw_pg *pg);
void gw_pg_set_reconnect_max(struct gw_pg *pg, int ms);
/* The host name in conninfo that libpq would resolve itself (a blocking
 * getaddrinfo in PQconnectPoll), so that gw_pg resolves it first and passes
 * hostaddr: one host, not numeric, not a socket directory, no hostaddr.
 * Copies it into out (cap bytes) and returns true; false when there is
 * none (or conninfo is not a connection string: libpq says why later). */
bool gw_pg_host_to_resolve(const char *conninfo, char *out, size_t cap);

#endif
