/*
 * pg-notify-probe.c - test tool: a net_pg adapter (the one every daemon
 * uses) that LISTENs on a channel, runs a statement, and reads nothing
 * until its results and then another session's NOTIFY have come in: the
 * notification reaches the client in the same read as the results, after
 * them, and nothing else comes after it. The adapter must deliver it then,
 * not at some later read: libpq parses a message that follows a
 * statement's end only while the results are collected (a board's stream
 * kept such an alert until the next message of any kind came in).
 *
 *   pg-notify-probe CONNINFO
 *
 * Exits 0 when on_notify had the notification within 3 s of the
 * statement's end, 1 otherwise (saying which), 2 on other errors.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "net/net_pg.h"

struct probe {
	struct event_base *base;
	struct net_pg *pg;
	PGconn *other;
	struct net_pg_job job;
	bool done, notified;
	int rc;
};

static void
on_notify(void *arg, const char *channel, const char *payload)
{
	struct probe *p = arg;

	if (strcmp(channel, "hg_probe") == 0 && strcmp(payload, "other") == 0) {
		p->notified = true;
		if (p->done)
			event_base_loopbreak(p->base);
	}
}

static void
on_done(void *arg, int err, const char *msg)
{
	struct probe *p = arg;

	if (err != NET_PG_OK) {
		fprintf(stderr, "pg-notify-probe: the statement failed: %s\n", msg ? msg : "");
		p->rc = 2;
		event_base_loopbreak(p->base);
		return;
	}
	p->done = true;
	if (p->notified)
		event_base_loopbreak(p->base);
}

static void
on_ready(void *arg)
{
	struct probe *p = arg;

	PGresult *r;

	memset(&p->job, 0, sizeof(p->job));
	p->job.steps[0] = (struct net_pg_step){ .sql = "SELECT 1" };
	p->job.nsteps = 1;
	p->job.done = on_done;
	p->job.arg = p;
	net_pg_submit(p->pg, &p->job);
	/* Not back to the loop yet: the statement ends meanwhile (results and
	 * ReadyForQuery wait in the socket), then the NOTIFY of another
	 * session reaches this one, idle now, and waits behind them. */
	usleep(300 * 1000);
	r = PQexec(p->other, "NOTIFY hg_probe, 'other'");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "pg-notify-probe: NOTIFY failed: %s", PQerrorMessage(p->other));
		p->rc = 2;
		event_base_loopbreak(p->base);
	}
	PQclear(r);
	usleep(300 * 1000);
}

int
main(int argc, char **argv)
{
	struct probe p = { 0 };
	struct net_pg_conf c = { 0 };
	struct net_pg_cbs cbs = { .on_ready = on_ready, .on_notify = on_notify, .arg = &p };
	struct timeval ten = { 10, 0 };

	if (argc != 2) {
		fprintf(stderr, "usage: pg-notify-probe CONNINFO\n");
		return 2;
	}
	c.conninfo = argv[1];
	c.app_name = "pg-notify-probe";
	c.setup_sql = "LISTEN hg_probe";
	c.reconnect_max_ms = 1000;
	p.other = PQconnectdb(argv[1]);
	if (PQstatus(p.other) != CONNECTION_OK) {
		fprintf(stderr, "pg-notify-probe: %s", PQerrorMessage(p.other));
		return 2;
	}
	if (!(p.base = event_base_new()) || !(p.pg = net_pg_new(p.base, &c, &cbs))) {
		fprintf(stderr, "pg-notify-probe: out of memory\n");
		return 2;
	}
	net_pg_start(p.pg);
	event_base_loopexit(p.base, &ten);
	event_base_dispatch(p.base);
	if (!p.rc && p.done && !p.notified) {
		/* give any later read its chance: still nothing comes */
		struct timeval three = { 3, 0 };

		event_base_loopexit(p.base, &three);
		event_base_dispatch(p.base);
	}
	if (!p.rc)
		p.rc = p.done && p.notified ? 0 : 1;
	if (p.rc == 1)
		fprintf(stderr, "pg-notify-probe: %s\n",
			!p.done ? "the statement did not end within 10 s"
				: "the statement ended, the NOTIFY that came after it was not delivered within 3 s");
	else if (!p.rc)
		printf("notified\n");
	net_pg_free(p.pg);
	event_base_free(p.base);
	PQfinish(p.other);
	return p.rc;
}
