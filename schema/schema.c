/*
 * schema.c: apply and check hazgate's compiled-in migrations.
 *
 * Blocking libpq on purpose: hazgate-ctl migrate runs these at the operator's
 * command; the gateway only needs sch_applied_query and sch_check_result,
 * which it can drive asynchronously from its own loop.
 */
#include "schema/schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char sch_applied_query[] = "SELECT version FROM schema_migrations ORDER BY version";

const char sch_registry_query[] =
	"SELECT count(*) FILTER (WHERE bad),"
	" coalesce(string_agg(line, E'\\n') FILTER (WHERE NOT bad), '')"
	" FROM (SELECT concat_ws(E'\\t', vehicle, coalesce(device, ''), coalesce(un, ''),"
	"              coalesce(hazard_class, ''), coalesce(routes, '')) AS line,"
	"              concat(vehicle, device, un, hazard_class) ~ '[[:cntrl:]]' AS bad"
	"         FROM registry_feed) r";

/* Any fixed number: serialises concurrent hazgate-ctl migrate runs. */
#define SCH_LOCK_KEY 0x68617a67 /* "hazg" */

static const char create_table_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
				       " version integer PRIMARY KEY,"
				       " name text NOT NULL,"
				       " applied_at timestamptz NOT NULL DEFAULT now())";

int
sch_latest_version(void)
{
	return sch_migration_count ? sch_migrations[sch_migration_count - 1].version : 0;
}

static void set_msg(char *msg, size_t msgsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_msg(char *msg, size_t msgsize, const char *fmt, ...)
{
	if (!msg || !msgsize)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, msgsize, fmt, ap);
	va_end(ap);
}

/* Trims the newline libpq ends its messages with. */
static const char *
pq_message(const PGconn *conn, char *buf, size_t size)
{
	snprintf(buf, size, "%s", PQerrorMessage(conn));
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

int
sch_check_result(const PGresult *res, char *msg, size_t msgsize)
{
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state && strcmp(state, "42P01") == 0) { /* undefined_table */
			set_msg(msg, msgsize,
				"database has no hazgate schema: migration %s is missing "
				"(run hazgate-ctl migrate)",
				sch_migrations[0].name);
			return SCH_EMISSING;
		}
		set_msg(msg, msgsize, "cannot read schema_migrations: %s",
			PQresultErrorMessage(res));
		return SCH_EDB;
	}
	int rows = PQntuples(res);
	for (size_t i = 0; i < sch_migration_count; i++) {
		int found = 0;
		for (int r = 0; r < rows && !found; r++)
			found = atoi(PQgetvalue(res, r, 0)) == sch_migrations[i].version;
		if (!found) {
			set_msg(msg, msgsize,
				"database schema is older than this build: "
				"migration %s is missing (run hazgate-ctl migrate)",
				sch_migrations[i].name);
			return SCH_EMISSING;
		}
	}
	if (rows > 0 && atoi(PQgetvalue(res, rows - 1, 0)) > sch_latest_version())
		set_msg(msg, msgsize, "database schema is newer than this build");
	else
		set_msg(msg, msgsize, "schema is current");
	return SCH_OK;
}

int
sch_check(PGconn *conn, char *msg, size_t msgsize)
{
	PGresult *res = PQexec(conn, sch_applied_query);
	int rc = sch_check_result(res, msg, msgsize);
	PQclear(res);
	return rc;
}

/* Runs sql; SCH_OK if it succeeded, else SCH_EDB with the message. */
static int
exec_ok(PGconn *conn, const char *what, const char *sql, char *msg, size_t msgsize)
{
	char buf[1024];
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	PQclear(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return SCH_OK;
	set_msg(msg, msgsize, "%s: %s", what, pq_message(conn, buf, sizeof buf));
	return SCH_EDB;
}

/* Applies one migration in its own transaction unless it is recorded.
 * *applied is set when it ran. */
static int
apply_one(PGconn *conn, const struct sch_migration *m, int *applied, char *msg, size_t msgsize)
{
	char buf[1024], ver[16], lock[64];
	int rc;
	*applied = 0;
	if ((rc = exec_ok(conn, "BEGIN", "BEGIN", msg, msgsize)) != SCH_OK)
		return rc;
	snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%d)", SCH_LOCK_KEY);
	if ((rc = exec_ok(conn, "lock", lock, msg, msgsize)) != SCH_OK)
		goto rollback;

	snprintf(ver, sizeof ver, "%d", m->version);
	const char *params[2] = { ver, m->name };
	PGresult *res = PQexecParams(conn,
				     "SELECT 1 FROM schema_migrations WHERE version = $1::integer",
				     1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		PQclear(res);
		set_msg(msg, msgsize, "%s: %s", m->name, pq_message(conn, buf, sizeof buf));
		rc = SCH_EDB;
		goto rollback;
	}
	int done = PQntuples(res) > 0;
	PQclear(res);
	if (done)
		return exec_ok(conn, "COMMIT", "COMMIT", msg, msgsize);

	if ((rc = exec_ok(conn, m->name, m->sql, msg, msgsize)) != SCH_OK)
		goto rollback;
	res = PQexecParams(conn,
			   "INSERT INTO schema_migrations (version, name) VALUES ($1::integer, $2)",
			   2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		set_msg(msg, msgsize, "%s: %s", m->name, pq_message(conn, buf, sizeof buf));
		rc = SCH_EDB;
		goto rollback;
	}
	PQclear(res);
	if ((rc = exec_ok(conn, "COMMIT", "COMMIT", msg, msgsize)) != SCH_OK)
		return rc;
	*applied = 1;
	return SCH_OK;

rollback:
	PQclear(PQexec(conn, "ROLLBACK"));
	return rc;
}

int
sch_migrate(PGconn *conn, void (*report)(const char *name, void *arg), void *arg, char *msg,
	    size_t msgsize)
{
	int rc = exec_ok(conn, "schema_migrations", create_table_sql, msg, msgsize);
	if (rc != SCH_OK)
		return rc;
	for (size_t i = 0; i < sch_migration_count; i++) {
		int applied;
		if ((rc = apply_one(conn, &sch_migrations[i], &applied, msg, msgsize)) != SCH_OK)
			return rc;
		if (applied && report)
			report(sch_migrations[i].name, arg);
	}
	set_msg(msg, msgsize, "schema is current");
	return SCH_OK;
}
