/*
 * trk_config.c - hazgate-tracker's options: one table (section, name, type,
 * bounds, default, help) on the common INI engine (common/hz_ini.h), read
 * from an INI file and from the command line through the same setter.
 *
 * Every option has a default (the table's string, parsed by the same code
 * as the file), so an empty file is a valid configuration apart from the
 * vehicle.  An unknown section or key or a value out of bounds is an error
 * that names the file and the line, in the tracker's own words ("unknown
 * key "K" in section [S]", "bad value "V" for [S] K (MIN..MAX)").  A key
 * given again overrides the earlier one.  Sizes accept a K, M, G or T
 * suffix (powers of 1024).  Durations carry their unit in the key (`_s`).
 */
#include "tracker/tracker.h"

#include <stdio.h>
#include <string.h>

#include "common/hz_ini.h"
#include "net/net_mqtt.h"

#define OFF(f) offsetof(struct trk_config, f)

/* Rows of the table, by type.  Strings are malloc'd (trk_config_free). */
#define STR(s, k, f, d, h) { .section = s, .key = k, .type = HZ_INI_STR, .offset = OFF(f), \
	.def = d, .help = h }
#define NUM(s, k, t, f, lo, hi, d, h) { .section = s, .key = k, .type = t, .offset = OFF(f), \
	.min = lo, .max = hi, .def = d, .help = h }
#define ENUM(s, k, f, n, d, h) { .section = s, .key = k, .type = HZ_INI_ENUM, .offset = OFF(f), \
	.names = n, .def = d, .help = h }

static const char *const fsync_names[] = { "always", "interval", "never", NULL };

static const struct hz_ini_opt opts[] = {
	STR("tracker", "vehicle", vehicle, "", "plate or id, 1-32 bytes UTF-8 (required; --vehicle)"),
	STR("tracker", "un", un, "", "cargo UN number, e.g. 1203"),
	STR("tracker", "hazard_class", hazard_class, "", "cargo hazard class, e.g. 3"),
	STR("gpsd", "host", gpsd_host, "127.0.0.1", "gpsd host (--gpsd)"),
	NUM("gpsd", "port", HZ_INI_INT, gpsd_port, 1, 65535, "2947", "gpsd port"),
	NUM("gpsd", "reconnect_s", HZ_INI_DBL, gpsd_reconnect_s, 0.1, 3600, "2",
	    "retry interval while gpsd is away"),
	STR("mqtt", "host", mqtt_host, "127.0.0.1",
	    "broker host, or a list HOST[:PORT], ... tried in turn (--broker)"),
	NUM("mqtt", "port", HZ_INI_INT, mqtt_port, 1, 65535, "1883",
	    "broker port, of a broker listed without one (8883 for TLS)"),
	STR("mqtt", "client_id", client_id, "", "MQTT client id; empty: hazgate-tracker-<vehicle>"),
	STR("mqtt", "topic_prefix", topic_prefix, "tankers",
	    "topics are <prefix>/<vehicle>/telemetry and /status"),
	NUM("mqtt", "keepalive_s", HZ_INI_INT, keepalive_s, 5, 3600, "30", "MQTT keepalive"),
	NUM("mqtt", "max_inflight", HZ_INI_INT, max_inflight, 1, 1000, "20",
	    "QoS 1 messages sent and not yet acknowledged"),
	STR("mqtt", "username", username, "", "MQTT user name"),
	STR("mqtt", "password_file", password_file, "", "file whose first line is the password"),
	STR("mqtt", "tls_ca", tls_ca, "", "CA certificate file (PEM); set to use TLS"),
	STR("mqtt", "tls_cert", tls_cert, "", "client certificate (PEM)"),
	STR("mqtt", "tls_key", tls_key, "", "client key (PEM)"),
	NUM("mqtt", "reconnect_min_s", HZ_INI_DBL, reconnect_min_s, 0.1, 3600, "1",
	    "first reconnect delay (doubles up to reconnect_max_s)"),
	NUM("mqtt", "reconnect_max_s", HZ_INI_DBL, reconnect_max_s, 0.1, 3600, "60",
	    "longest reconnect delay"),
	NUM("mqtt", "drain_s", HZ_INI_DBL, drain_s, 0, 600, "5",
	    "on SIGTERM, time allowed to send the backlog"),
	NUM("report", "min_interval_s", HZ_INI_DBL, report.min_interval_s, 0, 86400, "10",
	    "never report more often than this"),
	NUM("report", "max_interval_s", HZ_INI_DBL, report.max_interval_s, 1, 86400, "60",
	    "report at least this often, moving or stopped"),
	NUM("report", "heading_change_deg", HZ_INI_DBL, report.heading_change_deg, 1, 180, "30",
	    "report at once on a turn this large"),
	NUM("report", "min_distance_m", HZ_INI_DBL, report.min_distance_m, 0, 100000, "100",
	    "report at once after moving this far"),
	NUM("report", "heading_min_speed_kmh", HZ_INI_DBL, report.heading_min_speed_kmh, 0, 500, "5",
	    "below this speed the heading is noise and ignored"),
	STR("queue", "dir", queue_dir, "/var/lib/hazgate-tracker/queue",
	    "store-and-forward directory (--queue)"),
	NUM("queue", "max_bytes", HZ_INI_SIZE, queue_max_bytes, 65536, 1e12, "64M",
	    "bound of the queue; the oldest records are dropped (and counted) beyond"),
	NUM("queue", "segment_bytes", HZ_INI_SIZE, queue_segment_bytes, 4096, 1e12, "1M",
	    "segment file size (at most max_bytes/4)"),
	ENUM("queue", "fsync", fsync, fsync_names, "interval", "always | interval | never"),
	NUM("queue", "fsync_interval_s", HZ_INI_DBL, fsync_interval_s, 0.01, 3600, "1",
	    "with fsync = interval: how often"),
	ENUM("log", "level", log_level, hz_log_level_names, "info", "debug | info | warn | error"),
};

/* The tracker's wording of a fault (its users and tests know it). */
static void
explain(const struct hz_ini_fault *f, char *buf, size_t len)
{
	const struct hz_ini_opt *o = f->opt;

	if (f->kind != HZ_INI_BAD_VALUE)
		snprintf(buf, len, "unknown key \"%s\" in section [%s]", f->key, f->section);
	else if (o->type == HZ_INI_INT || o->type == HZ_INI_DBL || o->type == HZ_INI_SIZE)
		snprintf(buf, len, "bad value \"%s\" for [%s] %s (%g..%g)", f->value, o->section,
		         o->key, o->min, o->max);
	else
		snprintf(buf, len, "bad value \"%s\" for [%s] %s (%s)", f->value, o->section, o->key,
		         o->help);
}

static const struct hz_ini_table table = {
	.opts = opts,
	.nopts = sizeof opts / sizeof opts[0],
	.last_wins = true,
	.explain = explain,
};

/* A tracker error code for an enum hz_ini_err. */
static int
trk_err(int rc)
{
	switch (rc) {
	case HZ_INI_OK: return TRK_OK;
	case HZ_INI_EIO: return TRK_ERR_IO;
	case HZ_INI_ENOMEM: return TRK_ERR_NOMEM;
	default: return TRK_ERR_CONFIG;
	}
}

int
trk_config_set(struct trk_config *c, const char *section, const char *name,
               const char *value, char *err, size_t errcap)
{
	return trk_err(hz_ini_set(&table, c, section, name, value, err, errcap));
}

int
trk_config_init(struct trk_config *c)
{
	memset(c, 0, sizeof *c);
	/* Only out of memory can fail: the unit test proves the defaults. */
	return trk_err(hz_ini_defaults(&table, c));
}

void
trk_config_free(struct trk_config *c)
{
	hz_ini_free(&table, c);
}

int
trk_config_load(struct trk_config *c, const char *path, char *err, size_t errcap)
{
	return trk_err(hz_ini_load(&table, c, path, err, errcap));
}

/* UTF-8 well-formedness (no overlongs, no surrogates). */
static bool
utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p, n, cp;

		if (c < 0x80) { p++; continue; }
		if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
		else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
		else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
		else return false;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		p += n + 1;
	}
	return true;
}

int
trk_config_check(const struct trk_config *c, char *err, size_t errcap)
{
	size_t vl = c->vehicle ? strlen(c->vehicle) : 0;

	if (vl == 0 || vl > 32 || !utf8_ok(c->vehicle) || strpbrk(c->vehicle, "/+#")) {
		snprintf(err, errcap, "[tracker] vehicle must be 1-32 bytes of UTF-8 without / + # (--vehicle)");
		return TRK_ERR_CONFIG;
	}
	if (!utf8_ok(c->un) || !utf8_ok(c->hazard_class)) {
		snprintf(err, errcap, "[tracker] un and hazard_class must be UTF-8");
		return TRK_ERR_CONFIG;
	}
	if (c->report.min_interval_s > c->report.max_interval_s) {
		snprintf(err, errcap, "[report] min_interval_s (%g) is above max_interval_s (%g)",
		         c->report.min_interval_s, c->report.max_interval_s);
		return TRK_ERR_CONFIG;
	}
	{
		struct net_mqtt_broker b[NET_MQTT_BROKERS_MAX];
		const char *why = NULL;

		if (net_mqtt_brokers(c->mqtt_host ? c->mqtt_host : "", c->mqtt_port, b,
				     NET_MQTT_BROKERS_MAX, &why) < 0) {
			snprintf(err, errcap, "%s", why);
			return TRK_ERR_CONFIG;
		}
	}
	if (c->reconnect_min_s > c->reconnect_max_s) {
		snprintf(err, errcap, "[mqtt] reconnect_min_s is above reconnect_max_s");
		return TRK_ERR_CONFIG;
	}
	if ((*c->tls_cert != '\0') != (*c->tls_key != '\0')) {
		snprintf(err, errcap, "[mqtt] tls_cert and tls_key go together");
		return TRK_ERR_CONFIG;
	}
	if (*c->tls_cert && !*c->tls_ca) {
		snprintf(err, errcap, "[mqtt] tls_cert needs tls_ca");
		return TRK_ERR_CONFIG;
	}
	if (*c->password_file && !*c->username) {
		snprintf(err, errcap, "[mqtt] password_file needs username");
		return TRK_ERR_CONFIG;
	}
	if (!*c->queue_dir) {
		snprintf(err, errcap, "[queue] dir is empty");
		return TRK_ERR_CONFIG;
	}
	if (c->queue_segment_bytes > c->queue_max_bytes / 4) {
		snprintf(err, errcap, "[queue] segment_bytes must be at most max_bytes/4");
		return TRK_ERR_CONFIG;
	}
	return TRK_OK;
}

void
trk_config_print(const struct trk_config *c, void *fp)
{
	hz_ini_print(&table, c, fp);
}

void
trk_config_print_help(void *fp)
{
	hz_ini_print_help(&table, fp);
}
