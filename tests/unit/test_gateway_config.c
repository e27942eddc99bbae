/*
 * test_gateway_config: the gateway's configuration table and INI reader
 * (gateway/gw_config.c). Table-driven: good files with the value they must
 * set, bad files with the "FILE:LINE: ..." message they must give, and the
 * reload rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/gw_config.h"

static void
test_defaults(void **state)
{
	struct gw_config c;
	char err[512] = "";

	(void)state;
	gw_config_default(&c);
	assert_string_equal(c.mqtt.host, "127.0.0.1");
	assert_int_equal(c.mqtt.port, 1883);
	assert_string_equal(c.mqtt.client_id, "hazgate");
	assert_int_equal(c.mqtt.protocol, 3);
	assert_int_equal(c.mqtt.keepalive_s, 30);
	assert_int_equal(c.mqtt.nsubs, 2);
	assert_string_equal(c.mqtt.subs[0].filter, "tankers/+/telemetry");
	assert_int_equal(c.mqtt.subs[0].format, ING_FORMAT_AUTO);
	assert_string_equal(c.mqtt.subs[1].filter, "owntracks/+/+");
	assert_int_equal(c.mqtt.subs[1].format, ING_FORMAT_OWNTRACKS);
	assert_string_equal(c.mqtt.alerts_topic, "hazgate/alerts");
	assert_int_equal(c.postgres.batch_rows, 1000);
	assert_int_equal(c.postgres.flush_ms, 50);
	assert_int_equal(c.postgres.positions_flush_ms, 250);
	assert_int_equal(c.mqtt.coalesce_ms, 7);
	assert_int_equal(c.postgres.state_interval_ms, 5000);
	assert_true(c.spool.max_bytes == 1024ull * 1024 * 1024);
	assert_int_equal(c.spool.fsync, GW_FSYNC_ALWAYS);
	assert_string_equal(c.geofence.timezone, "Asia/Shanghai");
	assert_true(c.geofence.overspeed_kmh == 80.0);
	assert_int_equal(c.geofence.exit_fixes, 1);
	assert_true(c.geofence.exit_margin_m == 0.0);
	assert_int_equal(c.geofence.silent_after_s, 300);
	assert_string_equal(c.http.listen, "127.0.0.1:9750");
	assert_int_equal(c.log.level, HZ_LOG_INFO);
	/* An empty file is the defaults. */
	assert_int_equal(gw_config_load_string("empty.conf", "", &c, err, sizeof(err)),
			 GW_CONFIG_OK);
	assert_int_equal(c.postgres.batch_rows, 1000);
}

struct good_case {
	const char *name;
	const char *text;
	void (*check)(const struct gw_config *c);
};

static void chk_mqtt(const struct gw_config *c)
{
	assert_string_equal(c->mqtt.host, "10.0.0.5");
	assert_int_equal(c->mqtt.port, 8883);
	assert_int_equal(c->mqtt.protocol, 5);
	assert_string_equal(c->mqtt.client_id, "gw-1");
	assert_string_equal(c->mqtt.tls_ca, "/etc/ca.pem");
}

static void chk_subs(const struct gw_config *c)
{
	assert_int_equal(c->mqtt.nsubs, 3);
	assert_string_equal(c->mqtt.subs[0].filter, "tankers/+/telemetry");
	assert_int_equal(c->mqtt.subs[0].format, ING_FORMAT_AUTO);
	assert_int_equal(c->mqtt.subs[1].format, ING_FORMAT_TPV);
	assert_string_equal(c->mqtt.subs[2].filter, "owntracks/#");
	assert_int_equal(c->mqtt.subs[2].format, ING_FORMAT_OWNTRACKS);
}

/* Every format name ingest knows, and the two older spellings of auto. */
static void chk_format_names(const struct gw_config *c)
{
	static const enum ing_format want[] = { ING_FORMAT_NATIVE, ING_FORMAT_TPV,
						ING_FORMAT_OWNTRACKS, ING_FORMAT_AUTO,
						ING_FORMAT_AUTO, ING_FORMAT_AUTO };

	assert_int_equal(c->mqtt.nsubs, 6);
	for (size_t i = 0; i < c->mqtt.nsubs; i++)
		assert_int_equal(c->mqtt.subs[i].format, want[i]);
}

static void chk_pg(const struct gw_config *c)
{
	assert_string_equal(c->postgres.conninfo, "host=/tmp dbname=hazgate");
	assert_int_equal(c->postgres.batch_rows, 500);
	assert_int_equal(c->postgres.flush_ms, 20);
}

static void chk_spool(const struct gw_config *c)
{
	assert_string_equal(c->spool.dir, "/tmp/spool");
	assert_true(c->spool.max_bytes == 64ull * 1024 * 1024);
	assert_int_equal(c->spool.fsync, GW_FSYNC_NEVER);
}

static void chk_geofence(const struct gw_config *c)
{
	assert_string_equal(c->geofence.timezone, "UTC");
	assert_true(c->geofence.overspeed_kmh == 60.5);
	assert_int_equal(c->geofence.exit_fixes, 3);
	assert_true(c->geofence.exit_margin_m == 25.0);
	assert_int_equal(c->geofence.silent_after_s, 2);
}

static void chk_rules(const struct gw_config *c)
{
	const struct gf_rules *r = &c->geofence.rules;

	assert_true(r->moving_kmh == 3.5 && r->stop_radius_m == 50);
	assert_true(r->max_continuous_s == 10800 && r->min_rest_s == 900);
	assert_true(r->max_daily_s == 0 && r->max_stop_s == 1200);
	assert_int_equal(r->night_start_s, 19 * 3600);
	assert_int_equal(r->night_end_s, 6 * 3600);
	assert_int_equal(r->max_stop_by_class.n, 2);
	assert_string_equal(r->max_stop_by_class.e[1].cls, "2.1");
	assert_true(r->max_stop_by_class.e[1].a == 900);
	assert_int_equal(r->max_continuous_by_class.n, 1);
	assert_true(r->max_continuous_by_class.e[0].a == 7200);
	assert_int_equal(r->night_ban_by_class.n, 1);
	assert_true(r->night_ban_by_class.e[0].a == 18 * 3600);
}

static void chk_rules_default(const struct gw_config *c)
{
	const struct gf_rules *r = &c->geofence.rules;

	/* DESIGN.md "Rules beyond geometry" */
	assert_true(r->moving_kmh == 5 && r->stop_radius_m == 100);
	assert_true(r->max_continuous_s == 14400 && r->min_rest_s == 1200);
	assert_true(r->max_daily_s == 28800 && r->max_stop_s == 1800);
	assert_int_equal(r->night_start_s, -1);
	assert_int_equal(r->max_stop_by_class.n, 0);
	assert_int_equal(r->night_ban_by_class.n, 0);
}

static void chk_keepalive(const struct gw_config *c)
{
	assert_int_equal(c->mqtt.keepalive_s, 45);
}

/* A broker list (NATS cluster: one MQTT listener per node), split the way
 * net_mqtt walks it: ports given or the [mqtt] port, IPv6 in brackets. */
static void chk_brokers(const struct gw_config *c)
{
	struct net_mqtt_broker b[NET_MQTT_BROKERS_MAX];
	const char *why = NULL;

	assert_string_equal(c->mqtt.host, "127.0.0.1:21883, nats-2 , [::1]:21885,fe80::1");
	assert_int_equal(
		net_mqtt_brokers(c->mqtt.host, c->mqtt.port, b, NET_MQTT_BROKERS_MAX, &why), 4);
	assert_string_equal(b[0].host, "127.0.0.1");
	assert_int_equal(b[0].port, 21883);
	assert_string_equal(b[1].host, "nats-2");
	assert_int_equal(b[1].port, 1884);
	assert_string_equal(b[2].host, "::1");
	assert_int_equal(b[2].port, 21885);
	assert_string_equal(b[3].host, "fe80::1");   /* a bare IPv6 address: the default port */
	assert_int_equal(b[3].port, 1884);
	/* the single-broker configuration is a list of one */
	assert_int_equal(net_mqtt_brokers("10.0.0.5", 8883, b, NET_MQTT_BROKERS_MAX, &why), 1);
	assert_string_equal(b[0].host, "10.0.0.5");
	assert_int_equal(b[0].port, 8883);
}

static void chk_misc(const struct gw_config *c)
{
	assert_string_equal(c->http.listen, "");
	assert_int_equal(c->log.level, HZ_LOG_DEBUG);
	assert_int_equal(c->daemon.drain_timeout_ms, 3000);
}

static void chk_retention(const struct gw_config *c)
{
	assert_int_equal(c->retention.positions_days, 183);
	assert_string_equal(c->retention.archive_dir, "/var/lib/hazgate/archive");
	assert_int_equal(c->retention.archive_compression, 1); /* zstd */
}

static void chk_retention_default(const struct gw_config *c)
{
	assert_int_equal(c->retention.positions_days, 0);   /* keep for ever */
	assert_string_equal(c->retention.archive_dir, "");
	assert_int_equal(c->retention.archive_compression, 0); /* gzip */
}

static const struct good_case good_cases[] = {
	{ "mqtt section",
	  "[mqtt]\nhost = 10.0.0.5\nport=8883\nprotocol = 5\nclient_id = gw-1\ntls_ca = /etc/ca.pem\n",
	  chk_mqtt },
	{ "subscriptions with formats",
	  "; comment\n[mqtt]\nsubscribe = tankers/+/telemetry native|tpv, gpsd/+/tpv tpv,"
	  "  owntracks/# owntracks\n", chk_subs },
	{ "subscription format names",
	  "[mqtt]\nsubscribe = a native, b tpv, c owntracks, d auto, e native|tpv, f tpv|native\n",
	  chk_format_names },
	{ "postgres section",
	  "[postgres]\nconninfo = host=/tmp dbname=hazgate\nbatch_rows = 500\nflush_ms = 20\n",
	  chk_pg },
	{ "spool with size suffix",
	  "[spool]\ndir = /tmp/spool\nmax_bytes = 64M\nfsync = never\n", chk_spool },
	{ "geofence section",
	  "[geofence]\ntimezone = UTC\noverspeed_kmh = 60.5\nexit_fixes = 3\n"
	  "exit_margin_m = 25\nsilent_after_s = 2\n", chk_geofence },
	{ "rules section",
	  "[rules]\nmoving_kmh = 3.5\nstop_radius_m = 50\nmax_continuous_s = 10800\n"
	  "min_rest_s = 900\nmax_daily_s = 0\nmax_stop_s = 1200\nnight_ban = 19:00-06:00\n"
	  "max_stop_s_by_class = 1=600, 2.1=900\nmax_continuous_s_by_class = 1=7200\n"
	  "night_ban_by_class = 1=18:00-07:00\n", chk_rules },
	{ "rules defaults", "", chk_rules_default },
	{ "keepalive_s", "[mqtt]\nkeepalive_s = 45\n", chk_keepalive },
	{ "a list of brokers",
	  "[mqtt]\nhost = 127.0.0.1:21883, nats-2 , [::1]:21885,fe80::1\nport = 1884\n",
	  chk_brokers },
	{ "keepalive, the old spelling of keepalive_s", "[mqtt]\nkeepalive = 45\n", chk_keepalive },
	{ "retention", "[retention]\npositions_days = 183\narchive_dir = /var/lib/hazgate/archive\n"
	  "archive_compression = zstd\n",
	  chk_retention },
	{ "retention defaults: kept for ever, no archive", "", chk_retention_default },
	{ "http off, log debug, daemon",
	  "[http]\nlisten =\n[log]\nlevel = debug\n[daemon]\ndrain_timeout_ms = 3000\n", chk_misc },
};

static void
test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		struct gw_config c;
		char err[512] = "";
		int rc = gw_config_load_string("good.conf", good_cases[i].text, &c, err, sizeof(err));

		if (rc != GW_CONFIG_OK)
			fail_msg("%s: %s", good_cases[i].name, err);
		good_cases[i].check(&c);
	}
}

struct bad_case {
	const char *name;
	const char *text;
	const char *message;     /* the whole error line */
};

static const struct bad_case bad_cases[] = {
	{ "unknown key", "[mqtt]\nhost = a\nhots = b\n", "t.conf:3: unknown key 'hots' in [mqtt]" },
	{ "unknown section", "\n[mqqt]\nhost = a\n", "t.conf:3: unknown section [mqqt] (key 'host')" },
	{ "key outside a section", "host = a\n", "t.conf:1: key 'host' outside any [section]" },
	{ "port not a number", "[mqtt]\nport = 18x3\n",
	  "t.conf:2: [mqtt] port = '18x3': not an integer" },
	{ "port out of range", "[mqtt]\nport = 70000\n",
	  "t.conf:2: [mqtt] port = '70000': out of range" },
	{ "batch_rows zero", "[postgres]\n\n\nbatch_rows = 0\n",
	  "t.conf:4: [postgres] batch_rows = '0': out of range" },
	{ "bad protocol", "[mqtt]\nprotocol = 4\n",
	  "t.conf:2: [mqtt] protocol = '4': not one of the allowed values" },
	{ "bad level", "[log]\nlevel = loud\n",
	  "t.conf:2: [log] level = 'loud': not one of the allowed values" },
	{ "bad size", "[spool]\nmax_bytes = 12Q\n",
	  "t.conf:2: [spool] max_bytes = '12Q': not a size (digits and an optional k, M, G or T)" },
	{ "spool too small", "[spool]\nmax_bytes = 1k\n",
	  "t.conf:2: [spool] max_bytes = '1k': out of range" },
	{ "nan speed", "[geofence]\noverspeed_kmh = nan\n",
	  "t.conf:2: [geofence] overspeed_kmh = 'nan': not a number" },
	{ "exit_fixes zero", "[geofence]\nexit_fixes = 0\n",
	  "t.conf:2: [geofence] exit_fixes = '0': out of range" },
	{ "subscription without format", "[mqtt]\nsubscribe = tankers/+/telemetry\n",
	  "t.conf:2: [mqtt] subscribe = 'tankers/+/telemetry': subscription without a format "
	  "(want 'FILTER FORMAT')" },
	{ "subscription with bad format", "[mqtt]\nsubscribe = a/b json\n",
	  "t.conf:2: [mqtt] subscribe = 'a/b json': unknown format (native, tpv, owntracks, auto)" },
	{ "subscription format names are lower case", "[mqtt]\nsubscribe = a/b Auto\n",
	  "t.conf:2: [mqtt] subscribe = 'a/b Auto': unknown format (native, tpv, owntracks, auto)" },
	/* issue 11 item 10: a shared subscription splits each vehicle's fixes
	 * across gateways (state, seq gaps), and no format lookup matches it */
	{ "shared subscription refused", "[mqtt]\nsubscribe = $share/hz/tankers/+/telemetry auto\n",
	  "t.conf:2: [mqtt] subscribe = '$share/hz/tankers/+/telemetry auto': shared subscription "
	  "($share/, $queue/): each vehicle's fixes would be split across gateways (its state "
	  "and seq broken); subscribe to the plain filter on one gateway" },
	{ "shared subscription refused after a good one",
	  "[mqtt]\n\nsubscribe = owntracks/+/+ owntracks, $share/g/owntracks/+/+ owntracks\n",
	  "t.conf:3: [mqtt] subscribe = 'owntracks/+/+ owntracks, $share/g/owntracks/+/+ "
	  "owntracks': shared subscription ($share/, $queue/): each vehicle's fixes would be "
	  "split across gateways (its state and seq broken); subscribe to the plain filter on "
	  "one gateway" },
	{ "queue subscription refused", "[mqtt]\nsubscribe = $queue/tankers/+/telemetry auto\n",
	  "t.conf:2: [mqtt] subscribe = '$queue/tankers/+/telemetry auto': shared subscription "
	  "($share/, $queue/): each vehicle's fixes would be split across gateways (its state "
	  "and seq broken); subscribe to the plain filter on one gateway" },
	{ "night_ban not a window", "[rules]\nnight_ban = 19-06\n",
	  "t.conf:2: [rules] night_ban = '19-06': want HH:MM-HH:MM (start and end apart), "
	  "or nothing for off" },
	{ "night_ban all day", "[rules]\nnight_ban = 06:00-06:00\n",
	  "t.conf:2: [rules] night_ban = '06:00-06:00': want HH:MM-HH:MM (start and end apart), "
	  "or nothing for off" },
	{ "max_daily_s over a day", "[rules]\nmax_daily_s = 86401\n",
	  "t.conf:2: [rules] max_daily_s = '86401': out of range" },
	{ "min_rest_s zero", "[rules]\nmin_rest_s = 0\n",
	  "t.conf:2: [rules] min_rest_s = '0': out of range" },
	{ "class list without values", "[rules]\n\nmax_stop_s_by_class = 1, 2\n",
	  "t.conf:3: [rules] max_stop_s_by_class = '1, 2': want CLASS=VALUE, comma-separated" },
	{ "class window list with seconds", "[rules]\nnight_ban_by_class = 1=600\n",
	  "t.conf:2: [rules] night_ban_by_class = '1=600': want CLASS=HH:MM-HH:MM "
	  "(start and end apart)" },
	{ "key twice", "[log]\nlevel = info\nlevel = warn\n", "t.conf:3: [log] level given twice" },
	{ "keepalive under both its names", "[mqtt]\nkeepalive_s = 20\nkeepalive = 30\n",
	  "t.conf:3: [mqtt] keepalive given twice" },
	{ "keepalive out of range by its old name", "[mqtt]\nkeepalive = 1\n",
	  "t.conf:2: [mqtt] keepalive = '1': out of range" },
	{ "retention days negative", "[retention]\n\npositions_days = -1\n",
	  "t.conf:3: [retention] positions_days = '-1': out of range" },
	{ "retention days not a number", "[retention]\npositions_days = 6 months\n",
	  "t.conf:2: [retention] positions_days = '6 months': not an integer" },
	{ "archive_dir relative", "[log]\nlevel = info\n[retention]\narchive_dir = archive\n",
	  "t.conf:4: [retention] archive_dir = 'archive': want an absolute path (or nothing: no archive)" },
	{ "archive_compression unknown", "[retention]\narchive_compression = xz\n",
	  "t.conf:2: [retention] archive_compression = 'xz': not one of the allowed values" },
	{ "retention unknown key", "[retention]\nkeep_days = 3\n",
	  "t.conf:2: unknown key 'keep_days' in [retention]" },
	{ "syntax error", "[mqtt]\nhost a\n", "t.conf:2: syntax error (want [section] or key = value)" },
	{ "cert without key", "[mqtt]\ntls_ca = ca\ntls_cert = c\n",
	  "t.conf: [mqtt] tls_cert and tls_key go together" },
	{ "broker list with an empty item", "[mqtt]\nhost = 127.0.0.1:1,,127.0.0.1:2\n",
	  "t.conf: [mqtt] host: an empty broker in the list" },
	{ "broker list ending in a comma", "[mqtt]\nhost = 127.0.0.1:1,\n",
	  "t.conf: [mqtt] host: an empty broker in the list" },
	{ "broker port not a number", "[mqtt]\nhost = a:1, b:x\n",
	  "t.conf: [mqtt] host: a broker's port is not a number in 1..65535" },
	{ "broker port out of range", "[mqtt]\nhost = a:65536\n",
	  "t.conf: [mqtt] host: a broker's port is not a number in 1..65535" },
	{ "broker port empty", "[mqtt]\nhost = a:\n", "t.conf: [mqtt] host: a broker's port is empty" },
	{ "broker IPv6 unclosed", "[mqtt]\nhost = [::1:1883\n",
	  "t.conf: [mqtt] host: an IPv6 address without its closing bracket" },
	{ "too many brokers", "[mqtt]\nhost = a,b,c,d,e,f,g,h,i\n",
	  "t.conf: [mqtt] host: too many brokers in the list" },
	{ "reconnect bounds crossed", "[mqtt]\nreconnect_min_ms = 5000\nreconnect_max_ms = 100\n",
	  "t.conf: [mqtt] reconnect_min_ms is above reconnect_max_ms" },
};

static void
test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct gw_config c;
		char err[512] = "";
		int rc = gw_config_load_string("t.conf", bad_cases[i].text, &c, err, sizeof(err));

		if (rc != GW_CONFIG_EPARSE)
			fail_msg("%s: accepted", bad_cases[i].name);
		if (strcmp(err, bad_cases[i].message))
			fail_msg("%s: got \"%s\", want \"%s\"", bad_cases[i].name, err,
				 bad_cases[i].message);
	}
}

static void
test_file(void **state)
{
	char path[] = "/tmp/test_gateway_config.XXXXXX";
	int fd = mkstemp(path);
	struct gw_config c;
	char err[512] = "";
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("[mqtt]\nport = 1884\n[postgres]\nflush_ms = -1\n", f);
	fclose(f);
	assert_int_equal(gw_config_load(path, &c, err, sizeof(err)), GW_CONFIG_EPARSE);
	{
		char want[600];

		snprintf(want, sizeof(want), "%s:4: [postgres] flush_ms = '-1': out of range", path);
		assert_string_equal(err, want);
	}
	unlink(path);
	assert_int_equal(gw_config_load(path, &c, err, sizeof(err)), GW_CONFIG_EIO);
	assert_non_null(strstr(err, "No such file"));
}

static void
test_reload(void **state)
{
	struct gw_config cur, next;
	char err[512] = "", names[256];
	int n;

	(void)state;
	gw_config_default(&cur);
	assert_int_equal(gw_config_load_string("r.conf",
		"[postgres]\nbatch_rows = 10\nflush_ms = 5\n[log]\nlevel = warn\n"
		"[mqtt]\nport = 1999\n[geofence]\nsilent_after_s = 9\n", &next, err, sizeof(err)),
		GW_CONFIG_OK);
	n = gw_config_apply_reload(&cur, &next, names, sizeof(names));
	assert_int_equal(n, 2);
	assert_string_equal(names, "mqtt.port,geofence.silent_after_s");
	assert_int_equal(cur.postgres.batch_rows, 10);
	assert_int_equal(cur.postgres.flush_ms, 5);
	assert_int_equal(cur.log.level, HZ_LOG_WARN);
	assert_int_equal(cur.mqtt.port, 1883);                 /* needs a restart */
	assert_int_equal(cur.geofence.silent_after_s, 300);
	/* Same file again: nothing left to report. */
	assert_int_equal(gw_config_apply_reload(&cur, &cur, names, sizeof(names)), 0);

	/* [rules] is reloaded whole, the class lists and night_ban too */
	assert_int_equal(gw_config_load_string("r.conf",
		"[rules]\nmax_stop_s = 600\nnight_ban = 22:00-05:00\n"
		"max_stop_s_by_class = 1=300\nnight_ban_by_class = 3=20:00-06:00\n",
		&next, err, sizeof(err)), GW_CONFIG_OK);
	n = gw_config_apply_reload(&cur, &next, names, sizeof(names));
	assert_int_equal(n, 0);  /* all of [rules] reloads: nothing needs a restart */
	assert_string_equal(names, "");
	assert_true(cur.geofence.rules.max_stop_s == 600);
	assert_int_equal(cur.geofence.rules.night_start_s, 22 * 3600);
	assert_int_equal(cur.geofence.rules.night_end_s, 5 * 3600);
	assert_int_equal(cur.geofence.rules.max_stop_by_class.n, 1);
	assert_true(cur.geofence.rules.max_stop_by_class.e[0].a == 300);
	assert_int_equal(cur.geofence.rules.night_ban_by_class.n, 1);
	assert_int_equal(gf_options_check(&cur.geofence), GF_OK);
	/* and back to off */
	assert_int_equal(gw_config_load_string("r.conf", "", &next, err, sizeof(err)),
			 GW_CONFIG_OK);
	(void)gw_config_apply_reload(&cur, &next, names, sizeof(names));
	assert_int_equal(cur.geofence.rules.night_start_s, -1);
	assert_int_equal(cur.geofence.rules.night_end_s, -1);
	assert_int_equal(cur.geofence.rules.max_stop_by_class.n, 0);
}

static void
test_help(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	gw_config_print_help(f);
	fclose(f);
	assert_non_null(strstr(buf, "[geofence]"));
	assert_non_null(strstr(buf, "silent_after_s"));
	assert_non_null(strstr(buf, "(SIGHUP reloads)"));
	assert_non_null(strstr(buf, "  [mqtt] keepalive_s (int 5..3600, default \"30\"): "));
	assert_non_null(strstr(buf, "(also read as keepalive)"));
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_help),
	};

	return cmocka_run_group_tests_name("gateway_config", tests, NULL, NULL);
}
