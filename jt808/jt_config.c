/*
 * jt_config.c - hazgate-jt808's options: one table on the common INI
 * engine (common/hz_ini.h) and the checks across options. The [mqtt]
 * connection rows are the gateway's (net/net_mqtt_opts.h).
 */
#include "jt808/jt_config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/hz_ini.h"

#define OFF(f) offsetof(struct jt_config, f)
#define SZ(f) sizeof(((struct jt_config *)0)->f)
#define STR(s, k, f, d, h) { .section = s, .key = k, .type = HZ_INI_STR, .offset = OFF(f), \
	.size = SZ(f), .def = d, .help = h }
#define INT(s, k, f, lo, hi, d, h) { .section = s, .key = k, .type = HZ_INI_INT, \
	.offset = OFF(f), .min = lo, .max = hi, .def = d, .help = h }
#define ENUM(s, k, f, n, d, h) { .section = s, .key = k, .type = HZ_INI_ENUM, \
	.offset = OFF(f), .names = n, .def = d, .help = h }

static const char *const unknown_names[] = { "refuse", "register", NULL };
static const char *const auth_names[] = { "required", "optional", NULL };

static const struct hz_ini_opt jt_opts[] = {
	STR("jt808", "listen", jt808.listen, "127.0.0.1:6808",
	    "ADDRESS:PORT the terminals connect to (TCP)"),
	ENUM("jt808", "unknown_terminals", jt808.unknown_terminals, unknown_names, "refuse",
	     "a terminal not in the registry: register (0x0100 adds it) or refuse"),
	ENUM("jt808", "auth", jt808.auth, auth_names, "required",
	     "required: reports only after 0x0102 with the code of 0x8100; optional: trust the phone number"),
	INT("jt808", "idle_s", jt808.idle_s, 10, 86400, "600",
	    "a connection silent this long is closed"),
	INT("jt808", "max_connections", jt808.max_connections, 1, 1000000, "50000",
	    "connections at once; more are closed at accept"),
	INT("jt808", "max_connections_per_address", jt808.max_connections_per_address, 1, 1000000,
	    "64", "connections at once from one IP address"),
	INT("jt808", "reassembly_timeout_s", jt808.reassembly_timeout_s, 1, 3600, "60",
	    "a message in subpackages still incomplete this long is dropped (counted)"),
	INT("jt808", "max_pending", jt808.max_pending, 1, 65535, "256",
	    "a session's fixes awaiting the broker's PUBACK; above it its input is not read"),
	INT("jt808", "garbage_max_bytes", jt808.garbage_max_bytes, 64, 1048576, "4096",
	    "bytes without a 0x7e delimiter before the connection is closed"),
	INT("jt808", "output_max_bytes", jt808.output_max_bytes, 1024, 16777216, "16384",
	    "replies the peer has not read; above it its input is not read"),

	NET_MQTT_INI_CONN_ROWS(struct jt_config, mqtt, "hazgate-jt808"),
	NET_MQTT_INI_RECONNECT_ROWS(struct jt_config, mqtt),

	STR("postgres", "conninfo", postgres.conninfo, "",
	    "libpq connection string of hazgate-jt808's login (empty: the PG* variables)"),
	INT("postgres", "reconnect_max_ms", postgres.reconnect_max_ms, 10, 600000, "5000",
	    "largest reconnect delay"),
	INT("postgres", "seen_interval_s", postgres.seen_interval_s, 1, 3600, "30",
	    "terminals.last_seen is written this often"),

	STR("http", "listen", http.listen, "127.0.0.1:9751",
	    "ADDRESS:PORT of /metrics and /healthz (empty: off)"),

	{ .section = "log", .key = "level", .type = HZ_INI_ENUM, .offset = OFF(log.level),
	  .names = hz_log_level_names, .def = "info", .help = "debug, info, warn, error" },
};

static const struct hz_ini_table jt_table = {
	.opts = jt_opts,
	.nopts = sizeof(jt_opts) / sizeof(jt_opts[0]),
};

/* NULL when ADDR is ADDRESS:PORT with a port in 1..65535 (or empty and
 * EMPTY_OK), else what is wrong. */
static const char *
check_listen(const char *addr, bool empty_ok)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	long port;

	if (!addr[0])
		return empty_ok ? NULL : "is empty";
	if (!colon || colon == addr)
		return "wants ADDRESS:PORT";
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535)
		return "wants a port 1..65535 after the last ':'";
	return NULL;
}

/* Cross-option checks after the whole file; NULL or the fault (in buf). */
static const char *
check_all(const struct jt_config *cfg, char *buf, size_t len)
{
	struct net_mqtt_conf mc = NET_MQTT_CONF_FROM(cfg->mqtt);
	const char *why = net_mqtt_opts_check(&mc);

	if (why)
		return why;
	if ((why = check_listen(cfg->jt808.listen, false))) {
		snprintf(buf, len, "[jt808] listen = '%s' %s", cfg->jt808.listen, why);
		return buf;
	}
	if ((why = check_listen(cfg->http.listen, true))) {
		snprintf(buf, len, "[http] listen = '%s' %s", cfg->http.listen, why);
		return buf;
	}
	if (cfg->jt808.max_connections_per_address > cfg->jt808.max_connections)
		return "[jt808] max_connections_per_address is above max_connections";
	return NULL;
}

void
jt_config_default(struct jt_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	(void)hz_ini_defaults(&jt_table, cfg);  /* the unit test proves every default parses */
}

static int
load(const char *path, const char *text, struct jt_config *cfg, char *err, size_t errlen)
{
	char buf[256];
	const char *why;
	int rc;

	jt_config_default(cfg);
	rc = text ? hz_ini_load_string(&jt_table, cfg, path, text, err, errlen)
		  : hz_ini_load(&jt_table, cfg, path, err, errlen);
	if (rc != HZ_INI_OK)
		return rc;
	why = check_all(cfg, buf, sizeof(buf));
	if (why) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, why);
		return HZ_INI_EPARSE;
	}
	return HZ_INI_OK;
}

int
jt_config_load(const char *path, struct jt_config *cfg, char *err, size_t errlen)
{
	return load(path, NULL, cfg, err, errlen);
}

int
jt_config_load_string(const char *name, const char *text, struct jt_config *cfg, char *err,
                      size_t errlen)
{
	return load(name, text, cfg, err, errlen);
}

void
jt_config_print_help(FILE *out)
{
	hz_ini_print_help(&jt_table, out);
}
