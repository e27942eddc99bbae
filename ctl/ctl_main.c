/*
 * ctl_main.c: hazgate-ctl's command table and global options.
 *
 *   hazgate-ctl [-d CONNINFO] [--tz ZONE] COMMAND [ARGS...]
 */
#include "config.h"
#include "ctl/ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct ctl_command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

static const struct ctl_command commands[] = {
	{ "migrate", ctl_migrate_main, "apply pending schema migrations" },
	{ "zones", ctl_zones_main, "zones import FILE [--replace] | zones list | zones export" },
	{ "alerts", ctl_alerts_main,
	  "list alerts (--open, --since, --until, --vehicle, --kind, --zone, --follow)" },
	{ "ack", ctl_ack_main, "acknowledge alerts: ack ID... [--by NAME] [--note TEXT]" },
	{ "vehicles", ctl_vehicles_main,
	  "each vehicle's last fix, zones, cargo, open alerts [--stale S]" },
	{ "track", ctl_track_main,
	  "a vehicle's track: track VEHICLE --from T --to T [--format geojson|gpx|csv]" },
	{ "audit", ctl_audit_main,
	  "route audit: stored positions through the engine, violations and their live alerts" },
	{ "compact", ctl_compact_main,
	  "closed days of positions into compact slices [--before DATE] [--sql]" },
	{ "replay", ctl_replay_main,
	  "offline: telemetry lines through ingest and geofence, alerts out" },
	{ "users", ctl_users_main, "hazgate-web accounts: users add|passwd|disable|enable|list" },
	{ "tokens", ctl_tokens_main, "hazgate-web API tokens: tokens add|list|revoke" },
	{ "retention", ctl_retention_main,
	  "retention run --config FILE: archive and drop the days past [retention] positions_days;"
	  " retention verify: the archives against their SHA-256" },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: hazgate-ctl [-d CONNINFO] [--tz ZONE] COMMAND [ARGS...]\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nWithout -d, the connection comes from libpq's PG* variables.\n"
		     "Times: RFC 3339 (2019-08-10T08:00:00Z) or local 'YYYY-MM-DD HH:MM' in the\n"
		     "time zone of --tz, else $HAZGATE_TZ, else Asia/Shanghai.\n"
		     "Output: a table, or --format json (one object per line) or csv.\n"
		     "Exit codes: 0 success, 1 failure at run time, 2 bad arguments.\n"
		     "hazgate-ctl COMMAND --help describes a command.\n");
}

int
main(int argc, char **argv)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			ctl_conninfo = argv[++i];
		} else if ((strcmp(argv[i], "--tz") == 0 || strcmp(argv[i], "-z") == 0) &&
			   i + 1 < argc) {
			if (ctl_tz_set(argv[++i]) != 0) {
				fprintf(stderr,
					"hazgate-ctl: --tz: no time zone '%s' is installed "
					"(an IANA name such as Asia/Shanghai or UTC)\n",
					argv[i]);
				return CTL_EUSAGE;
			}
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return CTL_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("hazgate-ctl %s\n", PACKAGE_VERSION);
			return CTL_OK;
		} else {
			fprintf(stderr, "hazgate-ctl: unknown option %s\n", argv[i]);
			usage(stderr);
			return CTL_EUSAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return CTL_EUSAGE;
	}
	for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].main(argc - i, argv + i);
	fprintf(stderr, "hazgate-ctl: unknown command '%s' (try hazgate-ctl --help)\n", argv[i]);
	return CTL_EUSAGE;
}
