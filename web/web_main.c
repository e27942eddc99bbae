/*
 * web_main.c - hazgate-web, the dispatchers' board and the HTTP API:
 * arguments, the one event loop, signals.
 *
 *   hazgate-web -c FILE            run in the foreground, log to stderr
 *   hazgate-web -c FILE --check-config
 *   hazgate-web --version | --help
 *
 * SIGTERM/SIGINT end the streams and exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "common/hz_cli.h"
#include "common/hz_log.h"
#include "web/web.h"
#include "web/web_config.h"
#include "net/net_base.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: hazgate-web -c FILE [--check-config]\n"
		"       hazgate-web --version | --help\n\n"
		"hazgate's board and HTTP API: a live map, alerts and acknowledgement in the\n"
		"browser, /api/v1 for other systems, Server-Sent Events, webhooks.\n"
		"Runs in the foreground and logs key=value lines to stderr.\n"
		"SIGTERM ends the streams and exits 0.\n\n"
		"  -c, --config FILE   configuration file (INI)\n"
		"      --check-config  read the file, report the first error, exit\n"
		"  -V, --version       print the version\n"
		"  -h, --help          this text\n\n"
		"Configuration options (section, key = default):\n");
	web_config_print_help(out);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	hz_log(HZ_LOG_INFO, "signal", "sig=%d action=stop", (int)sig);
	web_stop(arg);
}

int
main(int argc, char **argv)
{
	static struct web_config cfg;
	const char *path = NULL;
	bool check = false;
	char err[512];
	struct event_base *base = NULL;
	struct event *sigs[2] = { NULL };
	const int signums[2] = { SIGTERM, SIGINT };
	struct web *w = NULL;
	int c, rc = 1;

	c = hz_cli_parse(argc, argv, "hazgate-web", PACKAGE_VERSION, usage, &path, &check);
	if (c >= 0)
		return c;
	if (web_config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "hazgate-web: %s\n", err);
		return 2;
	}
	if (check) {
		printf("%s: ok\n", path);
		return 0;
	}
	hz_log_set_level(cfg.log.level);
	if (sodium_init() < 0) {
		hz_log(HZ_LOG_ERROR, "sodium_failed", "why=\"libsodium cannot start\"");
		return 1;
	}
	srandom((unsigned)(time(NULL) ^ getpid()));
	signal(SIGPIPE, SIG_IGN);
	json_object_seed(0);
	/* Two priorities: 0 for the connection limit's check of a new
	 * connection (web_core.c), 1 (the default) for everything else.
	 * Timers on CLOCK_MONOTONIC (net_base.h). */
	base = net_base_new(2);
	if (!base)
		goto done;
	w = web_new(base, &cfg);
	if (!w)
		goto done;
	for (int i = 0; i < 2; i++) {
		sigs[i] = evsignal_new(base, signums[i], on_signal, w);
		if (!sigs[i] || event_add(sigs[i], NULL) != 0)
			goto done;
	}
	hz_log(HZ_LOG_INFO, "starting", "version=%s config=%s pid=%d", PACKAGE_VERSION, path,
	       (int)getpid());
	event_base_dispatch(base);
	rc = web_exit_code(w);
done:
	for (int i = 0; i < 2; i++)
		if (sigs[i])
			event_free(sigs[i]);
	web_free(w);
	if (base)
		event_base_free(base);
	if (rc)
		hz_log(HZ_LOG_ERROR, "exit", "code=%d", rc);
	else
		hz_log(HZ_LOG_INFO, "exit", "code=0");
	return rc;
}
