/*
 * gw_config.c - hazgate's options: one table on the common INI engine
 * (common/hz_ini.h), the subscriptions' own parser, and the checks across
 * options.
 *
 * gw_opts[] lists every option once (section, key, type, where it lives in
 * struct gw_config, bounds, default text, reload rule, help). The engine
 * feeds each default through the same parser as a file value, reads the
 * file with libinih counting lines, and words errors as
 * "FILE:LINE: [section] key = 'value': why". A key given twice is an
 * error. Durations carry their unit in the key (`_ms`, `_s`, `_days`);
 * `[mqtt] keepalive` is read as the old spelling of `keepalive_s`.
 */
#include "gateway/gw_config.h"

#include <stddef.h>
#include <string.h>

#include "common/hz_ini.h"
#include "gateway/gw_part.h"

#define OFF(f) offsetof(struct gw_config, f)
#define SZ(f) sizeof(((struct gw_config *)0)->f)

/* Rows of the table, by type. RL: a reload (SIGHUP) applies the option. */
#define STR(s, k, f, d, rl, h) { .section = s, .key = k, .type = HZ_INI_STR, .offset = OFF(f), \
	.size = SZ(f), .def = d, .reload = rl, .help = h }
#define NUM(s, k, t, f, lo, hi, d, rl, h) { .section = s, .key = k, .type = t, \
	.offset = OFF(f), .min = lo, .max = hi, .def = d, .reload = rl, .help = h }
#define ENUM(s, k, f, n, v, d, rl, h) { .section = s, .key = k, .type = HZ_INI_ENUM, \
	.offset = OFF(f), .names = n, .values = v, .def = d, .reload = rl, .help = h }

static const char *const fsync_names[] = { "always", "never", NULL };
/* [retention] archive_compression: the index is enum ctl_arch_codec's value. */
static const char *const compression_names[] = { "gzip", "zstd", NULL };

#define MIB (1024.0 * 1024.0)

static const char *subs_parse(void *conf, const char *value);
static bool subs_equal(const void *a, const void *b);
static const char *night_ban_parse(void *conf, const char *value);
static bool night_ban_equal(const void *a, const void *b);
static const char *stop_by_class_parse(void *conf, const char *value);
static bool stop_by_class_equal(const void *a, const void *b);
static const char *cont_by_class_parse(void *conf, const char *value);
static bool cont_by_class_equal(const void *a, const void *b);
static const char *night_by_class_parse(void *conf, const char *value);
static bool night_by_class_equal(const void *a, const void *b);
static const char *archive_dir_parse(void *conf, const char *value);
static bool archive_dir_equal(const void *a, const void *b);

/* A [rules] option with its own parser whose value is plain bytes in the
 * struct, so that SIGHUP applies it by copying (hz_ini_apply_reload). */
#define RULE_CUSTOM(k, f, d, p, e, h) { .section = "rules", .key = k, .type = HZ_INI_CUSTOM, \
	.offset = OFF(f), .size = SZ(f), .def = d, .reload = true, .parse = p, .equal = e, \
	.help = h }
#define DAY_S 86400
#define YEAR_S 31622400

static const struct hz_ini_opt gw_opts[] = {
	NET_MQTT_INI_CONN_ROWS(struct gw_config, mqtt, "hazgate"),
	{ .section = "mqtt", .key = "subscribe", .type = HZ_INI_CUSTOM,
	  .def = "tankers/+/telemetry auto, owntracks/+/+ owntracks",
	  .help = "comma-separated 'FILTER FORMAT' (native, tpv, owntracks, auto = native|tpv), QoS 1",
	  .parse = subs_parse, .equal = subs_equal },
	STR("mqtt", "alerts_topic", mqtt.alerts_topic, "hazgate/alerts", false,
	    "alerts go to ALERTS_TOPIC/<vehicle>"),
	NUM("mqtt", "coalesce_ms", HZ_INI_INT, mqtt.coalesce_ms, 0, 10, "7", false,
	    "after a read of fewer than 16 messages, let the socket fill this long (0: off;"
	    " below 16 messages in flight at the broker, lower it)"),
	NET_MQTT_INI_RECONNECT_ROWS(struct gw_config, mqtt),

	STR("postgres", "conninfo", postgres.conninfo, "", false,
	    "libpq connection string (empty: the PG* variables)"),
	NUM("postgres", "batch_rows", HZ_INI_INT, postgres.batch_rows, 1, 100000, "1000", true,
	    "a batch is written at this many rows..."),
	NUM("postgres", "flush_ms", HZ_INI_INT, postgres.flush_ms, 1, 60000, "50", true,
	    "...or this many milliseconds after its first alert..."),
	NUM("postgres", "positions_flush_ms", HZ_INI_INT, postgres.positions_flush_ms, 1, 60000,
	    "250", true, "...or this many after its first row (never sooner than flush_ms)"),
	NUM("postgres", "partition_days", HZ_INI_INT, postgres.partition_days, 1, 366, "3", false,
	    "daily partitions of positions created ahead, at start and daily"),
	NUM("postgres", "reconnect_max_ms", HZ_INI_INT, postgres.reconnect_max_ms, 10, 600000,
	    "5000", true, "largest reconnect delay"),
	NUM("postgres", "state_interval_ms", HZ_INI_INT, postgres.state_interval_ms, 0, 3600000,
	    "5000", true,
	    "vehicle_state of a vehicle whose zones and episodes did not change: saved at most this often"),
	NUM("postgres", "retry_limit", HZ_INI_INT, postgres.retry_limit, 1, 1000000, "10", true,
	    "a batch the server refuses this often (not a lost link) is set aside in the log"),

	STR("spool", "dir", spool.dir, "/var/lib/hazgate/spool", false,
	    "on-disk spool (created if missing)"),
	NUM("spool", "max_bytes", HZ_INI_SIZE, spool.max_bytes, 4 * MIB, 1099511627776.0, "1G",
	    false, "bound of the spool; when full, MQTT is no longer read (k, M, G suffixes)"),
	ENUM("spool", "fsync", spool.fsync, fsync_names, NULL, "always", false,
	     "always: fdatasync every batch and acknowledgement; never: the kernel's"),

	STR("geofence", "timezone", geofence.timezone, "Asia/Shanghai", false,
	    "IANA zone of the zones' daily windows"),
	NUM("geofence", "overspeed_kmh", HZ_INI_DBL, geofence.overspeed_kmh, 0, 300, "80", false,
	    "hazmat speed limit"),
	NUM("geofence", "exit_fixes", HZ_INI_UINT, geofence.exit_fixes, 1, 65535, "1", false,
	    "consecutive fixes outside before a zone_exit"),
	NUM("geofence", "exit_margin_m", HZ_INI_DBL, geofence.exit_margin_m, 0, 100000, "0", false,
	    "this far outside exits at once (0 = off)"),
	NUM("geofence", "silent_after_s", HZ_INI_I64, geofence.silent_after_s, 1, 31536000, "300",
	    false, "tracker_silent after this long without a fix"),

	NUM("rules", "moving_kmh", HZ_INI_DBL, geofence.rules.moving_kmh, 0, 300, "5", true,
	    "moving: a speed above this; stopped: not moving"),
	NUM("rules", "stop_radius_m", HZ_INI_DBL, geofence.rules.stop_radius_m, 0, 100000, "100",
	    true, "two fixes this close are one place (a gap between them can be rest)"),
	NUM("rules", "max_continuous_s", HZ_INI_I64, geofence.rules.max_continuous_s, 0, YEAR_S,
	    "14400", true, "fatigue_driving after this much driving without a rest (0 = off)"),
	NUM("rules", "min_rest_s", HZ_INI_I64, geofence.rules.min_rest_s, 1, YEAR_S, "1200", true,
	    "a stop this long ends a stint of continuous driving"),
	NUM("rules", "max_daily_s", HZ_INI_I64, geofence.rules.max_daily_s, 0, DAY_S, "28800", true,
	    "daily_driving_exceeded above this much driving in a local day (0 = off)"),
	NUM("rules", "max_stop_s", HZ_INI_I64, geofence.rules.max_stop_s, 0, YEAR_S, "1800", true,
	    "unauthorized_stop: stopped longer than this outside depot and parking zones (0 = off)"),
	{ .section = "rules", .key = "night_ban", .type = HZ_INI_CUSTOM,
	  .offset = OFF(geofence.rules.night_start_s), .size = 2 * sizeof(int32_t), .def = "",
	  .reload = true, .parse = night_ban_parse, .equal = night_ban_equal,
	  .help = "HH:MM-HH:MM local: night_driving when moving inside (empty = off)" },
	RULE_CUSTOM("max_stop_s_by_class", geofence.rules.max_stop_by_class, "",
		    stop_by_class_parse, stop_by_class_equal,
		    "CLASS=SECONDS, ...: max_stop_s for these hazard classes (\"1\" covers 1.1-1.6)"),
	RULE_CUSTOM("max_continuous_s_by_class", geofence.rules.max_continuous_by_class, "",
		    cont_by_class_parse, cont_by_class_equal,
		    "CLASS=SECONDS, ...: max_continuous_s for these hazard classes"),
	RULE_CUSTOM("night_ban_by_class", geofence.rules.night_ban_by_class, "",
		    night_by_class_parse, night_by_class_equal,
		    "CLASS=HH:MM-HH:MM, ...: night_ban for these hazard classes"),

	STR("http", "listen", http.listen, "127.0.0.1:9750", false,
	    "ADDRESS:PORT of /metrics and /healthz (empty: off)"),

	ENUM("log", "level", log.level, hz_log_level_names, NULL, "info", true,
	     "debug, info, warn, error"),

	NUM("daemon", "drain_timeout_ms", HZ_INI_INT, daemon.drain_timeout_ms, 100, 600000, "10000",
	    true, "SIGTERM: time to flush before exiting anyway"),
	NUM("daemon", "tick_ms", HZ_INI_INT, daemon.tick_ms, 10, 60000, "1000", false,
	    "wall-clock timer for tracker_silent"),

	/* hazgate-ctl retention run reads these at each run: a reload has
	 * nothing to apply in the daemon, hence reload true. */
	NUM("retention", "positions_days", HZ_INI_INT, retention.positions_days, 0, 36600, "0",
	    true, "keep positions this many whole UTC days before today, then archive and drop "
	    "the day (0 = keep for ever)"),
	{ .section = "retention", .key = "archive_dir", .type = HZ_INI_CUSTOM,
	  .offset = OFF(retention.archive_dir), .size = SZ(retention.archive_dir), .def = "",
	  .reload = true, .parse = archive_dir_parse, .equal = archive_dir_equal,
	  .help = "absolute folder: each day is written there (positions-YYYY-MM-DD.csv.gz) "
		  "before it is dropped (empty: dropped without an archive)" },
	ENUM("retention", "archive_compression", retention.archive_compression, compression_names,
	     NULL, "gzip", true,
	     "gzip (positions-YYYY-MM-DD.csv.gz) or zstd (.csv.zst: about 9x less CPU, as small)"),
	NUM("cluster", "partitions", HZ_INI_INT, cluster.partitions, 0, GW_PART_MAX, "0", false,
	    "P partitions of the broker's mapping hz/part/<k>/...: claim a share of them (0 = one gateway, plain subscriptions)"),
	NUM("cluster", "takeover_s", HZ_INI_INT, cluster.takeover_s, 1, 3600, "10", false,
	    "a partition whose gateway died is claimed by another within this long"),
	NUM("cluster", "handoff_wait_ms", HZ_INI_INT, cluster.handoff_wait_ms, 0, 600000, "0", false,
	    "a partition's next session starts this long after the last one stopped: the broker's redelivery time (NATS: mqtt ack_wait; 0 for mosquitto)"),
	STR("cluster", "name", cluster.name, "", false,
	    "this gateway's name, unique in the cluster (empty: the host name)"),
};

_Static_assert((int)GW_CONFIG_OK == (int)HZ_INI_OK && (int)GW_CONFIG_EIO == (int)HZ_INI_EIO &&
	       (int)GW_CONFIG_EPARSE == (int)HZ_INI_EPARSE &&
	       (int)GW_CONFIG_ENOMEM == (int)HZ_INI_ENOMEM,
	       "gw_config_err has the values of hz_ini_err");

static const struct hz_ini_table gw_table = {
	.opts = gw_opts,
	.nopts = sizeof(gw_opts) / sizeof(gw_opts[0]),
	.show_reload = true,
};

/* The decoder named in a subscription. Returns 0, or -1 for an unknown
 * name. */
/* ingest names the formats (ing_format_parse); "native|tpv" and
 * "tpv|native" are this file's older spellings of auto. */
static int
sub_format(const char *name, enum ing_format *format)
{
	if (!strcmp(name, "native|tpv") || !strcmp(name, "tpv|native"))
		name = "auto";
	return ing_format_parse(name, format);
}

/* Parse "FILTER FORMAT, FILTER FORMAT" into cfg->mqtt.subs. Returns NULL or
 * a static description of the fault. */
static const char *
subs_parse(void *conf, const char *value)
{
	struct gw_config *cfg = conf;
	const char *p = value;

	cfg->mqtt.nsubs = 0;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char item[GW_TOPIC_MAX + 32];
		char *filter, *fmt, *save = NULL;
		struct gw_sub *s;

		if (n >= sizeof(item))
			return "subscription too long";
		memcpy(item, p, n);
		item[n] = '\0';
		filter = strtok_r(item, " \t", &save);
		fmt = filter ? strtok_r(NULL, " \t", &save) : NULL;
		if (!filter)
			return "empty subscription (want 'FILTER FORMAT')";
		if (!fmt)
			return "subscription without a format (want 'FILTER FORMAT')";
		if (strtok_r(NULL, " \t", &save))
			return "subscription has more than 'FILTER FORMAT'";
		if (cfg->mqtt.nsubs == GW_SUB_MAX)
			return "too many subscriptions";
		/* A shared subscription hands each message to one of the
		 * group's clients: a vehicle's fixes would be split across
		 * gateways, each with half its state (false seq gaps, enter and
		 * exit decided twice), and the broker never shows the prefix
		 * in a topic, so no format lookup would match. */
		if (strncmp(filter, "$share/", 7) == 0 || strncmp(filter, "$queue/", 7) == 0)
			return "shared subscription ($share/, $queue/): each vehicle's fixes would be "
			       "split across gateways (its state and seq broken); subscribe to the "
			       "plain filter on one gateway";
		s = &cfg->mqtt.subs[cfg->mqtt.nsubs];
		if (strlen(filter) >= sizeof(s->filter))
			return "topic filter too long";
		strcpy(s->filter, filter);
		if (sub_format(fmt, &s->format) != 0)
			return "unknown format (native, tpv, owntracks, auto)";
		cfg->mqtt.nsubs++;
		p = end ? end + 1 : p + n;
	}
	if (cfg->mqtt.nsubs == 0)
		return "no subscription";
	return NULL;
}

static bool
subs_equal(const void *a, const void *b)
{
	const struct gw_config *x = a, *y = b;

	if (x->mqtt.nsubs != y->mqtt.nsubs)
		return false;
	for (size_t i = 0; i < x->mqtt.nsubs; i++)
		if (strcmp(x->mqtt.subs[i].filter, y->mqtt.subs[i].filter) ||
		    x->mqtt.subs[i].format != y->mqtt.subs[i].format)
			return false;
	return true;
}

/* [rules] night_ban: "" (off) or "HH:MM-HH:MM", start and end apart. Its
 * bytes in the struct are night_start_s and night_end_s, adjacent. */
_Static_assert(offsetof(struct gf_rules, night_end_s) ==
	       offsetof(struct gf_rules, night_start_s) + sizeof(int32_t),
	       "night_ban is two adjacent int32_t");
static const char *
night_ban_parse(void *conf, const char *value)
{
	struct gf_rules *r = &((struct gw_config *)conf)->geofence.rules;
	int32_t s, e;

	if (value[0] == '\0') {
		r->night_start_s = r->night_end_s = -1;
		return NULL;
	}
	if (gf_window_parse(value, &s, &e) != GF_OK || s == e)
		return "want HH:MM-HH:MM (start and end apart), or nothing for off";
	r->night_start_s = s;
	r->night_end_s = e;
	return NULL;
}

static bool
night_ban_equal(const void *a, const void *b)
{
	const struct gf_rules *x = &((const struct gw_config *)a)->geofence.rules;
	const struct gf_rules *y = &((const struct gw_config *)b)->geofence.rules;

	return x->night_start_s == y->night_start_s && x->night_end_s == y->night_end_s;
}

#define BY_CLASS(name, field, window)                                              \
	static const char *name##_parse(void *conf, const char *value)            \
	{                                                                          \
		return gf_by_class_parse(value, window,                            \
		                         &((struct gw_config *)conf)->geofence.rules.field); \
	}                                                                          \
	static bool name##_equal(const void *a, const void *b)                    \
	{                                                                          \
		return !memcmp(&((const struct gw_config *)a)->geofence.rules.field, \
		               &((const struct gw_config *)b)->geofence.rules.field, \
		               sizeof(struct gf_by_class));                        \
	}
BY_CLASS(stop_by_class, max_stop_by_class, false)
BY_CLASS(cont_by_class, max_continuous_by_class, false)
BY_CLASS(night_by_class, night_ban_by_class, true)

/* [retention] archive_dir: empty, or an absolute path that fits (the
 * archives table records where each file went, so a path that depends on
 * the working folder would mislead). */
static const char *
archive_dir_parse(void *conf, const char *value)
{
	struct gw_config *cfg = conf;

	if (value[0] != '\0' && value[0] != '/')
		return "want an absolute path (or nothing: no archive)";
	if (strlen(value) >= sizeof(cfg->retention.archive_dir) - 64)
		return "path too long";
	strcpy(cfg->retention.archive_dir, value);
	return NULL;
}

static bool
archive_dir_equal(const void *a, const void *b)
{
	return !strcmp(((const struct gw_config *)a)->retention.archive_dir,
		       ((const struct gw_config *)b)->retention.archive_dir);
}

/* Cross-option checks after the whole file is read. */
static const char *
check_all(const struct gw_config *cfg)
{
	struct net_mqtt_conf mc = NET_MQTT_CONF_FROM(cfg->mqtt);
	const char *why = net_mqtt_opts_check(&mc);

	if (why)
		return why;
	if (!cfg->spool.dir[0])
		return "[spool] dir must not be empty";
	if (cfg->cluster.partitions > 0) {
		/* <client_id>-p<k> and hz/part/<k>/<filter> must fit. */
		if (strlen(cfg->mqtt.client_id) + 6 >= NET_MQTT_STR_MAX)
			return "[mqtt] client_id too long for [cluster] (<client_id>-p<k>)";
		if (strlen(cfg->mqtt.client_id) + strlen(cfg->cluster.name) + 2 > NET_MQTT_STR_MAX)
			return "[mqtt] client_id and [cluster] name too long together (<client_id>-<name>)";
		for (size_t i = 0; i < cfg->mqtt.nsubs; i++)
			if (strlen(cfg->mqtt.subs[i].filter) + 14 >= GW_TOPIC_MAX)
				return "[mqtt] subscribe: a filter too long for hz/part/<k>/<filter>";
	}
	return NULL;
}

void
gw_config_default(struct gw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	(void)hz_ini_defaults(&gw_table, cfg);  /* the unit test proves every default parses */
}

/* Over the defaults: the file's (PATH) or the string's (TEXT) options,
 * then the checks across options. */
static int
load(const char *path, const char *text, struct gw_config *cfg, char *err, size_t errlen)
{
	const char *why;
	int rc;

	gw_config_default(cfg);
	rc = text ? hz_ini_load_string(&gw_table, cfg, path, text, err, errlen)
		  : hz_ini_load(&gw_table, cfg, path, err, errlen);
	if (rc != HZ_INI_OK)
		return rc;
	why = check_all(cfg);
	if (why) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, why);
		return GW_CONFIG_EPARSE;
	}
	return GW_CONFIG_OK;
}

int
gw_config_load(const char *path, struct gw_config *cfg, char *err, size_t errlen)
{
	return load(path, NULL, cfg, err, errlen);
}

int
gw_config_load_string(const char *name, const char *text, struct gw_config *cfg, char *err,
                      size_t errlen)
{
	return load(name, text, cfg, err, errlen);
}

int
gw_config_apply_reload(struct gw_config *cur, const struct gw_config *next, char *buf,
                       size_t buflen)
{
	return hz_ini_apply_reload(&gw_table, cur, next, buf, buflen);
}

void
gw_config_print_help(FILE *out)
{
	hz_ini_print_help(&gw_table, out);
}

const char *
gw_config_strerror(int err)
{
	return hz_ini_strerror(err);
}
