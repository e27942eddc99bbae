/*
 * jt_main.c - hazgate-jt808, the JT/T 808 access server: arguments, the
 * one event loop, signals.
 *
 *   hazgate-jt808 -c FILE            run in the foreground, log to stderr
 *   hazgate-jt808 -c FILE --check-config
 *   hazgate-jt808 --version | --help
 *
 * SIGTERM/SIGINT: stop accepting and reading, let the broker acknowledge
 * what was published (so those reports are answered), exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <mosquitto.h>
#include <sodium.h>

#include "config.h"
#include "common/hz_cli.h"
#include "common/hz_log.h"
#include "jt808/jt_config.h"
#include "jt808/jt_http.h"
#include "jt808/jt_server.h"
#include "net/net_base.h"
#include "net/net_http.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: hazgate-jt808 -c FILE [--check-config]\n"
		"       hazgate-jt808 --version | --help\n\n"
		"JT/T 808 terminals in (TCP), native telemetry out (MQTT QoS 1 on\n"
		"tankers/<vehicle>/telemetry); a report is answered once the broker has it.\n"
		"Runs in the foreground and logs key=value lines to stderr; SIGTERM drains.\n\n"
		"  -c, --config FILE   configuration file (INI)\n"
		"      --check-config  read the file, report the first error, exit\n"
		"  -V, --version       print the version\n"
		"  -h, --help          this text\n\n"
		"Configuration options (section, key = default):\n");
	jt_config_print_help(out);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	hz_log(HZ_LOG_INFO, "signal", "sig=%d action=drain", (int)sig);
	jt_server_drain(arg);
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	bool check = false;
	struct jt_config cfg;
	char err[512];
	struct event_base *base = NULL;
	struct event *sigs[2] = { NULL, NULL };
	const int signums[2] = { SIGTERM, SIGINT };
	struct jt_server *srv = NULL;
	struct net_http *http = NULL;
	int c, rc = 1;

	c = hz_cli_parse(argc, argv, "hazgate-jt808", PACKAGE_VERSION, usage, &path, &check);
	if (c >= 0)
		return c;
	if (jt_config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "hazgate-jt808: %s\n", err);
		return 2;
	}
	if (check) {
		/* Not the values: [postgres] conninfo may hold a password, and
		 * the unit runs this before every start (into the journal). */
		printf("%s: ok\n", path);
		return 0;
	}
	hz_log_set_level(cfg.log.level);
	if (sodium_init() < 0) {
		fprintf(stderr, "hazgate-jt808: libsodium cannot start\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	mosquitto_lib_init();
	base = net_base_new(1); /* timers on CLOCK_MONOTONIC (net_base.h) */
	if (!base)
		goto done;
	srv = jt_server_new(base, &cfg);
	if (!srv)
		goto done;
	for (int i = 0; i < 2; i++) {
		sigs[i] = evsignal_new(base, signums[i], on_signal, srv);
		if (!sigs[i] || event_add(sigs[i], NULL) != 0)
			goto done;
	}
	hz_log(HZ_LOG_INFO, "starting", "version=%s config=%s pid=%d", PACKAGE_VERSION, path,
	       (int)getpid());
	if (!jt_server_start(srv))
		goto done;
	if (cfg.http.listen[0] && !(http = jt_http_new(base, cfg.http.listen, srv)))
		goto done;
	event_base_dispatch(base);
	rc = 0;
done:
	for (int i = 0; i < 2; i++)
		if (sigs[i])
			event_free(sigs[i]);
	net_http_free(http);
	jt_server_free(srv);
	if (base)
		event_base_free(base);
	mosquitto_lib_cleanup();
	if (rc)
		hz_log(HZ_LOG_ERROR, "exit", "code=%d", rc);
	return rc;
}
