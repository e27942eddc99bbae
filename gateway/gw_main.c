/*
 * gw_main.c - hazgate, the gateway daemon: arguments, the one event loop,
 * signals.
 *
 *   hazgate -c FILE            run in the foreground, log to stderr
 *   hazgate -c FILE --check-config
 *   hazgate --version | --help
 *
 * SIGTERM/SIGINT drain (stop reading MQTT, write everything to PostgreSQL
 * or the spool, disconnect) and exit 0 within [daemon] drain_timeout_ms;
 * SIGHUP reloads the reloadable options and the zones.
 */
#include "gateway/gateway.h"
#include "net/net_base.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <mosquitto.h>

#include "config.h"
#include "gateway/gw_config.h"
#include "common/hz_cli.h"
#include "common/hz_log.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: hazgate -c FILE [--check-config]\n"
		"       hazgate --version | --help\n\n"
		"The hazgate gateway: MQTT telemetry in, PostgreSQL and alerts out.\n"
		"Runs in the foreground and logs key=value lines to stderr.\n"
		"SIGTERM drains and exits 0; SIGHUP reloads zones and reloadable options.\n\n"
		"  -c, --config FILE   configuration file (INI)\n"
		"      --check-config  read the file, report the first error, exit\n"
		"  -V, --version       print the version\n"
		"  -h, --help          this text\n\n"
		"Configuration options (section, key = default):\n");
	gw_config_print_help(out);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct gw *gw = arg;

	(void)what;
	if (sig == SIGHUP) {
		hz_log(HZ_LOG_INFO, "sighup", "action=reload");
		gw_reload(gw);
	} else {
		hz_log(HZ_LOG_INFO, "signal", "sig=%d action=drain", (int)sig);
		gw_drain(gw);
	}
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	bool check = false;
	struct gw_config cfg;
	char err[512];
	struct event_base *base = NULL;
	struct event *sigs[4] = { NULL };
	const int signums[4] = { SIGTERM, SIGINT, SIGHUP, 0 };
	struct gw *gw = NULL;
	int c, rc = 1;

	c = hz_cli_parse(argc, argv, "hazgate", PACKAGE_VERSION, usage, &path, &check);
	if (c >= 0)
		return c;
	if (gw_config_load(path, &cfg, err, sizeof(err)) != GW_CONFIG_OK) {
		fprintf(stderr, "hazgate: %s\n", err);
		return 2;
	}
	if (check) {
		printf("%s: ok\n", path);
		return 0;
	}
	hz_log_set_level(cfg.log.level);
	srandom((unsigned)(time(NULL) ^ getpid()));
	signal(SIGPIPE, SIG_IGN);
	mosquitto_lib_init();
	/* jansson seeds its hash function from /dev/urandom on first use: do
	 * it now, not in the middle of the first message. */
	json_object_seed(0);
	/* Timers on CLOCK_MONOTONIC (net_base.h: the coarse clock doubled the
	 * MQTT read coalescing's wake-ups, issue 15). */
	base = net_base_new(1);
	if (!base)
		goto done;
	gw = gw_new(base, &cfg, path);
	if (!gw)
		goto done;
	for (int i = 0; signums[i]; i++) {
		sigs[i] = evsignal_new(base, signums[i], on_signal, gw);
		if (!sigs[i] || event_add(sigs[i], NULL) != 0)
			goto done;
	}
	hz_log(HZ_LOG_INFO, "starting", "version=%s config=%s pid=%d", PACKAGE_VERSION, path,
	       (int)getpid());
	gw_start(gw);
	event_base_dispatch(base);
	rc = gw_exit_code(gw);
done:
	for (int i = 0; i < 3; i++)
		if (sigs[i])
			event_free(sigs[i]);
	gw_free(gw);
	if (base)
		event_base_free(base);
	mosquitto_lib_cleanup();
	if (rc)
		hz_log(HZ_LOG_ERROR, "exit", "code=%d", rc);
	return rc;
}
