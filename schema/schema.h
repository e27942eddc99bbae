/*
 * schema: hazgate's PostgreSQL migrations, compiled in.
 *
 * The SQL files schema/NNN_name.sql are embedded at build time
 * (schema/embed-sql.sh), so hazgate-ctl applies them and the gateway checks
 * for them without any file beside the binaries. Each migration runs in its
 * own transaction, under an advisory lock, and is recorded in the table
 * schema_migrations(version, name, applied_at); applying twice is a no-op.
 */
#ifndef HAZGATE_SCHEMA_H
#define HAZGATE_SCHEMA_H

#include <stddef.h>
#include <libpq-fe.h>

struct sch_migration {
	int version;      /* NNN of the file name */
	const char *name; /* "NNN_name" */
	const char *sql;
};

extern const struct sch_migration sch_migrations[];
extern const size_t sch_migration_count;

enum sch_error {
	SCH_OK = 0,
	SCH_EDB,      /* a statement failed; the message says which */
	SCH_EMISSING, /* the database lacks a migration this build needs */
	SCH_ENEWER,   /* the database has a migration this build does not know */
};

/* Lists the versions the database has applied: the query to run, and a
 * check of its result. sch_check_result() returns SCH_OK when every compiled
 * migration is there, SCH_EMISSING naming the first one absent (a database
 * with no schema_migrations table at all counts as missing 001), or SCH_EDB.
 * A database newer than this build is SCH_OK with a note in msg (it is
 * backward compatible by policy: migrations only add). res is borrowed. */
extern const char sch_applied_query[];
int sch_check_result(const PGresult *res, char *msg, size_t msgsize);

/* The fleet registry as the gateway and hazgate-ctl audit load it (schema
 * 010's view registry_feed): one row, two columns: the number of rows
 * left out because a value holds a control character (nothing the
 * registry accepts does), and every other row as a line of five
 * tab-separated fields (vehicle, device, un, hazard_class, routes; '' for
 * none), lines joined by '\n': decide_registry_load_text() reads it. One
 * text value instead of a row per vehicle keeps libpq's result small (a
 * 400,000-vehicle registry is about 10 MB of text, not 40 MB of fields). */
extern const char sch_registry_query[];

/* Blocking: applies every pending migration on conn (used by hazgate-ctl
 * migrate). Calls report(name, arg) for each one it applied. Returns SCH_OK
 * or SCH_EDB with the server's message in msg; a failed migration is rolled
 * back whole and those before it stay applied. */
int sch_migrate(PGconn *conn, void (*report)(const char *name, void *arg), void *arg, char *msg,
		size_t msgsize);

/* Blocking: SCH_OK when the schema is current, else as sch_check_result. */
int sch_check(PGconn *conn, char *msg, size_t msgsize);

/* The latest version this build knows. */
int sch_latest_version(void);

#endif
