/*
 * ctl_compact.c: hazgate-ctl compact [--before DATE]
 *
 * Moves each closed day of positions from the row tier into slices
 * (schema/012: hazgate_positions_compact), one transaction a day, oldest
 * first, and says what it moved. Run it daily (a systemd timer, cron) as a
 * login in hazgate_admin; once after migrating to 012 it converts the rows
 * stored before.
 */
#include "ctl/ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] = "compact [--before YYYY-MM-DD]";

static const char help_text[] =
	"usage: hazgate-ctl compact [--before YYYY-MM-DD]\n"
	"\n"
	"Compacts every day (UTC) before --before that still has positions in rows\n"
	"(default: yesterday, so today and yesterday stay rows for late fixes):\n"
	"its fixes go into one slice per vehicle and hour, about 20 bytes a fix\n"
	"instead of about 200 (schema/README.md). Reads are unchanged. Each day is\n"
	"its own transaction; inserts into that day wait for it.\n";

enum { OPT_BEFORE = CTL_OPT_FIRST_COMMAND };

static const struct option longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "before", required_argument, NULL, OPT_BEFORE },
	{ NULL, 0, NULL, 0 },
};

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
	const char *params[] = { before };
	PGresult *due =
		ctl_query(conn, co.cmd,
			  "SELECT d::text FROM hazgate_positions_compact_due(coalesce($1::date,"
			  " (now() AT TIME ZONE 'UTC')::date - 1)) d",
			  1, params);
	int rc = due ? 0 : CTL_EFAIL;

	for (int i = 0; due && i < PQntuples(due); i++) {
		const char *day[] = { PQgetvalue(due, i, 0) };
		PGresult *res = ctl_query(conn, co.cmd,
					  "SELECT hazgate_positions_compact($1::date)", 1, day);

		if (!res) {
			rc = CTL_EFAIL;
			break;
		}
		printf("compacted %s: %s fixes\n", day[0], PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	PQclear(due);
	PQfinish(conn);
	return rc;
}
