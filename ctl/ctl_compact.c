/*
 * ctl_compact.c: hazgate-ctl compact [--before DATE], and the compaction
 * that `retention run` does first (ctl_compact_days).
 *
 * Moves each closed day of positions from the row tier into slices
 * (schema/012: hazgate_positions_compact), one transaction a day, oldest
 * first, and says what it moved. `retention run` (its daily timer) does it
 * for every day before today (UTC); this command is for a run by hand, and
 * once after migrating to 012 to convert the rows stored before.
 *
 * A compaction ends by dropping the day's row partition, which needs an
 * ACCESS EXCLUSIVE lock on positions_recent for a moment: behind a waiting
 * DROP the gateway's inserts queue, so the wait is bounded (lock_timeout)
 * and the day tried again a little later, as retention's drop does.
 */
#include "ctl/ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] = "compact [--before YYYY-MM-DD]";

static const char help_text[] =
	"usage: hazgate-ctl compact [--before YYYY-MM-DD]\n"
	"\n"
	"Compacts every day (UTC) before --before that still has positions in rows\n"
	"(default: yesterday, so today and yesterday stay rows for late fixes):\n"
	"its fixes go into one slice per vehicle and hour, about 15 bytes a fix\n"
	"instead of about 170 (schema/README.md). Reads are unchanged. Each day is\n"
	"its own transaction; inserts into that day wait for it. 'retention run'\n"
	"(hazgate-retention.timer, daily) compacts every day before today itself.\n";

enum { OPT_BEFORE = CTL_OPT_FIRST_COMMAND };

static const struct option longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "before", required_argument, NULL, OPT_BEFORE },
	{ NULL, 0, NULL, 0 },
};

/* A day's compaction waits at most this long for a lock, and is tried this
 * many times, this far apart. */
#define COMPACT_LOCK_TIMEOUT "5s"
#define COMPACT_TRIES        3
#define COMPACT_PAUSE_S      5

/* Compacts one day in its own transaction. Returns the fixes moved, or -1
 * after saying why (the day is left as it was). */
static long long
compact_day(PGconn *conn, const char *cmd, const char *day)
{
	for (int attempt = 1;; attempt++) {
		PGresult *res = PQexec(conn,
				       "BEGIN; SET LOCAL lock_timeout = '" COMPACT_LOCK_TIMEOUT
				       "'");
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			ctl_error(cmd, "%s", PQresultErrorMessage(res));
			PQclear(res);
			return -1;
		}
		PQclear(res);
		const char *params[] = { day };
		res = PQexecParams(conn, "SELECT hazgate_positions_compact($1::date)", 1, NULL,
				   params, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			long long moved = ctl_field_i64(res, 0, 0);
			PQclear(res);
			res = PQexec(conn, "COMMIT");
			bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
			if (!ok)
				ctl_error(cmd, "compacting %s: %s", day, PQresultErrorMessage(res));
			PQclear(res);
			return ok ? moved : -1;
		}
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		bool busy = state && (!strcmp(state, "55P03") || !strcmp(state, "40P01"));
		ctl_error(cmd, "compacting %s: %s", day,
			  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
		PQclear(res);
		PQclear(PQexec(conn, "ROLLBACK"));
		if (!busy || attempt == COMPACT_TRIES)
			return -1;
		printf("compacting %s: the database is busy: again in %d s\n", day,
		       COMPACT_PAUSE_S);
		fflush(stdout);
		sleep(COMPACT_PAUSE_S);
	}
}

int
ctl_compact_days(PGconn *conn, const char *cmd, const char *from, const char *before, bool dry_run,
		 struct ctl_compact_sum *sum)
{
	const char *params[] = { from, before };
	PGresult *due =
		ctl_query(conn, cmd,
			  "SELECT d::text FROM hazgate_positions_compact_due(coalesce($2::date,"
			  " (now() AT TIME ZONE 'UTC')::date - 1)) d"
			  " WHERE $1::date IS NULL OR d >= $1::date ORDER BY d",
			  2, params);
	*sum = (struct ctl_compact_sum){ 0 };
	if (!due)
		return -1;
	for (int i = 0; i < PQntuples(due); i++) {
		const char *day = PQgetvalue(due, i, 0);
		if (dry_run) {
			printf("%s: would be compacted (rows into slices)\n", day);
			sum->days++;
			continue;
		}
		long long moved = compact_day(conn, cmd, day);
		if (moved < 0) {
			sum->failed++;
			continue;
		}
		printf("compacted %s: %lld fixes\n", day, moved);
		fflush(stdout);
		sum->days++;
		sum->fixes += moved;
	}
	PQclear(due);
	return sum->failed;
}

int
ctl_compact_main(int argc, char **argv)
{
	struct ctl_common co = { .cmd = "compact", .usage = usage_text, .help = help_text };
	const char *before = NULL;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, CTL_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (c == OPT_BEFORE) {
			before = optarg;
			continue;
		}
		int r = ctl_common_option(&co, c, argv);
		if (r >= 0)
			return r;
	}
	if (optind < argc)
		return ctl_usage_error(co.cmd, co.usage, "unexpected argument '%s'", argv[optind]);
	if (before) {
		int y, m, d;
		char tail;

		if (strlen(before) != 10 || sscanf(before, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
			return ctl_usage_error(co.cmd, co.usage, "--before: '%s' is not YYYY-MM-DD",
					       before);
	}
	PGconn *conn = ctl_connect(co.conninfo);
	if (!conn)
		return CTL_EFAIL;
	struct ctl_compact_sum sum;
	int failed = ctl_compact_days(conn, co.cmd, NULL, before, false, &sum);
	PQfinish(conn);
	return failed == 0 ? CTL_OK : CTL_EFAIL;
}
