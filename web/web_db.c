/*
 * web_db.c - hazgate-web's pool of PostgreSQL connections for the API:
 * [postgres] connections net_pg adapters, each running its jobs in order;
 * a call goes to the ready connection with the fewest calls in flight, so
 * one slow track export holds up only the calls queued behind it on its
 * own connection. The stream and the hooks have their own connections
 * (web_stream.c, web_hook.c).
 */
#include "web/web-internal.h"

#include <stdio.h>
#include <string.h>

#include "common/hz_log.h"

static void
job_done(void *arg, int err, const char *msg)
{
	struct web_call *c = arg;

	if (c->pg >= 0)
		c->w->db.inflight[c->pg]--;
	c->pg = -1;
	if (err && err != NET_PG_ELINK)
		c->w->n.db_errors++;
	c->then(c, err, msg);
}

bool
web_db_ready(const struct web_db *db)
{
	for (int i = 0; i < db->n; i++)
		if (net_pg_ready(db->pg[i]))
			return true;
	return false;
}

void
web_db_run(struct web_call *c, void (*then)(struct web_call *c, int err, const char *msg))
{
	struct web_db *db = &c->w->db;
	int best = -1;

	for (int i = 0; i < db->n; i++)
		if (net_pg_ready(db->pg[i]) && (best < 0 || db->inflight[i] < db->inflight[best]))
			best = i;
	c->then = then;
	c->sqlstate[0] = '\0';
	c->job.done = job_done;
	c->job.arg = c;
	c->pg = best;
	if (best < 0) {
		then(c, NET_PG_ELINK, "no database connection");
		return;
	}
	db->inflight[best]++;
	net_pg_submit(db->pg[best], &c->job);
}

bool
web_result_ok(struct web_call *c, const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	const char *code, *msg;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return true;
	code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", code ? code : "XX000");
	snprintf(c->errmsg, sizeof(c->errmsg), "%s", msg ? msg : "statement failed");
	return false;
}

static void
check_only(void *arg, const PGresult *res)
{
	(void)web_result_ok(arg, res);
}

void
web_job_set(struct web_call *c, size_t i, const char *sql, int nparams,
            void (*on_result)(void *arg, const PGresult *res))
{
	struct net_pg_step *s = &c->job.steps[i];

	if (i == 0)
		memset(&c->job, 0, sizeof(c->job));
	*s = (struct net_pg_step){ .sql = sql, .nparams = nparams, .params = c->params,
				   .on_result = on_result ? on_result : check_only,
				   .all_results = true };
	c->job.nsteps = i + 1;
}
