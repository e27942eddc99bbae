/*
 * ctl_migrate.c: hazgate-ctl migrate [-d CONNINFO] [--check]
 *
 * Applies the pending compiled-in migrations and says which; with --check,
 * only says whether the schema is current (exit 1 when it is not).
 */
#include "ctl/ctl.h"
#include "schema/schema.h"

#include <stdio.h>
#include <string.h>

static void
report(const char *name, void *arg)
{
	int *count = arg;
	(*count)++;
	printf("applied %s\n", name);
}

int
ctl_migrate_main(int argc, char **argv)
{
	const char *conninfo = NULL;
	int check_only = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			conninfo = argv[++i];
		} else if (strcmp(argv[i], "--check") == 0) {
			check_only = 1;
		} else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: hazgate-ctl migrate [-d CONNINFO] [--check]\n");
			return CTL_OK;
		} else {
			fprintf(stderr, "hazgate-ctl migrate: unknown argument %s\n", argv[i]);
			return CTL_EUSAGE;
		}
	}
	PGconn *conn = ctl_connect(conninfo);
	if (!conn)
		return CTL_EFAIL;
	char msg[1024];
	int count = 0, rc;
	if (check_only) {
		rc = sch_check(conn, msg, sizeof msg);
	} else {
		PQclear(PQexec(conn, "SET client_min_messages = warning"));
		rc = sch_migrate(conn, report, &count, msg, sizeof msg);
	}
	PQfinish(conn);
	if (rc != SCH_OK) {
		fprintf(stderr, "hazgate-ctl migrate: %s\n", msg);
		return CTL_EFAIL;
	}
	if (check_only)
		printf("%s (version %d)\n", msg, sch_latest_version());
	else if (count == 0)
		printf("schema is up to date (version %d)\n", sch_latest_version());
	else
		printf("schema is now at version %d\n", sch_latest_version());
	return CTL_OK;
}
