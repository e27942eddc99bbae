/*
 * web_export.c - the track exporter's own PostgreSQL connection: the
 * stored positions of GET /api/v1/vehicles/{plate}/track read as
 * hazgate-ctl track reads them (ctl_slices_fetch, ctl/ctl_slices.h: the
 * tables with binary results, the slices decoded in C, one pipeline in
 * one snapshot), not through the SQL decoder on the pool.
 *
 * ctl_slices_fetch is blocking libpq, so it runs on the exporter thread
 * (web_worker.c), which may block, on a connection only that thread
 * touches: opened on the first export with [postgres] conninfo (the
 * pool's login; fallback_application_name hazgate-web-export;
 * connect_timeout 10 s unless the conninfo sets one), set up with the
 * pool's setup SQL (TimeZone UTC), kept between exports. A read that
 * fails on a connection that is no longer OK (the server restarted, the
 * backend was terminated) drops it and, when it was an older connection,
 * reads once more on a new one: a connection lost between two exports
 * costs no answer. A refusal on a good connection is not retried.
 *
 * No logging here (the thread leaves that to the loop): the caller is
 * told whether a connection was opened.
 */
#include "web/web-internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "ctl/ctl_slices.h"

struct web_export {
	const char *conninfo;   /* borrowed */
	const char *setup_sql;  /* borrowed; NULL or "": none */
	PGconn *conn;           /* NULL: not connected */
};

struct web_export *
web_export_new(const char *conninfo, const char *setup_sql)
{
	struct web_export *ex = calloc(1, sizeof(*ex));

	if (!ex)
		return NULL;
	ex->conninfo = conninfo ? conninfo : "";
	ex->setup_sql = setup_sql;
	return ex;
}

void
web_export_free(struct web_export *ex)
{
	if (!ex)
		return;
	PQfinish(ex->conn);
	free(ex);
}

/* Opens ex->conn. Returns 0, or -1 with why in err. */
static int
export_connect(struct web_export *ex, char *err, size_t errlen)
{
	/* keywords before dbname are defaults the conninfo may override */
	const char *keys[] = { "connect_timeout", "dbname", "fallback_application_name", NULL };
	const char *vals[] = { "10", ex->conninfo, "hazgate-web-export", NULL };
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	PGresult *res = NULL;

	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect: %s", conn ? PQerrorMessage(conn) : "out of memory");
		goto fail;
	}
	if (ex->setup_sql && *ex->setup_sql) {
		res = PQexec(conn, ex->setup_sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "the connection's setup: %s", PQerrorMessage(conn));
			goto fail;
		}
		PQclear(res);
	}
	ex->conn = conn;
	return 0;
fail:
	PQclear(res);
	PQfinish(conn);
	return -1;
}

int
web_export_fetch(struct web_export *ex, const char *vehicle, int64_t from_us, int64_t to_us,
                 unsigned want, struct ctl_fixes *out, bool *connected, char *err, size_t errlen)
{
	bool fresh = false;

	*connected = false;
	for (;;) {
		if (!ex->conn) {
			if (export_connect(ex, err, errlen) != 0)
				return -1;
			*connected = fresh = true;
		}
		if (ctl_slices_fetch(ex->conn, vehicle, from_us, to_us, want, out, err, errlen) == 0)
			return 0;
		ctl_fixes_clear(out);
		if (PQstatus(ex->conn) == CONNECTION_OK)
			return -1;      /* the database refused: no retry */
		PQfinish(ex->conn);
		ex->conn = NULL;
		if (fresh)
			return -1;
	}
}
