/*
 * gw_config.c - the options table and the INI reader behind gw_config.h.
 *
 * How it works: gw_opts[] lists every option once (section, key, type,
 * where it lives in struct gw_config, bounds, default text, reload rule).
 * gw_config_default() feeds each default text through the same setter as a
 * file value, so a default can never be out of its own bounds. libinih
 * calls the handler per key; libinih does not pass line numbers in the
 * Debian build (INI_HANDLER_LINENO 0), so the file is read through a
 * reader callback that counts lines: the handler runs right after the
 * reader returned the key's line.
 *
 * Limits: a value that continues on the next line (inih multi-line) is
 * reported at the continuation line; only the first error is reported.
 */
#include "gateway/gw_config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum gw_opt_type { OPT_STR, OPT_INT, OPT_UINT, OPT_I64, OPT_DBL, OPT_SIZE, OPT_ENUM, OPT_SUBS };

struct gw_opt {
	const char *section;
	const char *key;
	enum gw_opt_type type;
	size_t offset;
	size_t size;              /* OPT_STR: buffer size */
	double min, max;          /* numeric bounds (inclusive) */
	const char *const *names; /* OPT_ENUM: NULL-terminated; value = index */
	const int *values;        /* OPT_ENUM: value per name (NULL: the index) */
	const char *def;
	bool reload;              /* SIGHUP applies it */
	const char *help;
};

#define OFF(f) offsetof(struct gw_config, f)
#define SZ(f) sizeof(((struct gw_config *)0)->f)

static const char *const level_names[] = { "debug", "info", "warn", "error", NULL };
static const char *const proto_names[] = { "3.1.1", "5", "311", "v5", NULL };
static const int proto_values[] = { 3, 5, 3, 5 };
static const char *const fsync_names[] = { "always", "never", NULL };

#define MIB (1024.0 * 1024.0)

static const struct gw_opt gw_opts[] = {
	{ "mqtt", "host", OPT_STR, OFF(mqtt.host), SZ(mqtt.host), 0, 0, NULL, NULL,
	  "127.0.0.1", false, "broker address (an IP address avoids a blocking DNS lookup)" },
	{ "mqtt", "port", OPT_INT, OFF(mqtt.port), 0, 1, 65535, NULL, NULL,
	  "1883", false, "broker port" },
	{ "mqtt", "client_id", OPT_STR, OFF(mqtt.client_id), SZ(mqtt.client_id), 0, 0, NULL, NULL,
	  "hazgate", false, "fixed client id of the persistent session" },
	{ "mqtt", "protocol", OPT_ENUM, OFF(mqtt.protocol), 0, 0, 0, proto_names, proto_values,
	  "3.1.1", false, "MQTT version: 3.1.1 or 5" },
	{ "mqtt", "keepalive", OPT_INT, OFF(mqtt.keepalive_s), 0, 5, 3600, NULL, NULL,
	  "30", false, "keepalive in seconds" },
	{ "mqtt", "username", OPT_STR, OFF(mqtt.username), SZ(mqtt.username), 0, 0, NULL, NULL,
	  "", false, "user name (empty: anonymous)" },
	{ "mqtt", "password_file", OPT_STR, OFF(mqtt.password_file), SZ(mqtt.password_file), 0, 0,
	  NULL, NULL, "", false, "file whose first line is the password" },
	{ "mqtt", "tls_ca", OPT_STR, OFF(mqtt.tls_ca), SZ(mqtt.tls_ca), 0, 0, NULL, NULL,
	  "", false, "CA file: TLS on when set" },
	{ "mqtt", "tls_cert", OPT_STR, OFF(mqtt.tls_cert), SZ(mqtt.tls_cert), 0, 0, NULL, NULL,
	  "", false, "client certificate (PEM)" },
	{ "mqtt", "tls_key", OPT_STR, OFF(mqtt.tls_key), SZ(mqtt.tls_key), 0, 0, NULL, NULL,
	  "", false, "client key (PEM)" },
	{ "mqtt", "subscribe", OPT_SUBS, OFF(mqtt.subs), 0, 0, 0, NULL, NULL,
	  "tankers/+/telemetry auto, owntracks/+/+ owntracks", false,
	  "comma-separated 'FILTER FORMAT' (native, tpv, owntracks, auto = native|tpv), QoS 1" },
	{ "mqtt", "alerts_topic", OPT_STR, OFF(mqtt.alerts_topic), SZ(mqtt.alerts_topic), 0, 0,
	  NULL, NULL, "hazgate/alerts", false, "alerts go to ALERTS_TOPIC/<vehicle>" },
	{ "mqtt", "status_topic", OPT_STR, OFF(mqtt.status_topic), SZ(mqtt.status_topic), 0, 0,
	  NULL, NULL, "hazgate/status", false, "retained online/offline on STATUS_TOPIC/<client_id>" },
	{ "mqtt", "reconnect_min_ms", OPT_INT, OFF(mqtt.reconnect_min_ms), 0, 10, 600000, NULL, NULL,
	  "250", false, "first reconnect delay (doubles, with jitter)" },
	{ "mqtt", "reconnect_max_ms", OPT_INT, OFF(mqtt.reconnect_max_ms), 0, 10, 600000, NULL, NULL,
	  "10000", false, "largest reconnect delay" },

	{ "postgres", "conninfo", OPT_STR, OFF(postgres.conninfo), SZ(postgres.conninfo), 0, 0,
	  NULL, NULL, "", false, "libpq connection string (empty: the PG* variables)" },
	{ "postgres", "batch_rows", OPT_INT, OFF(postgres.batch_rows), 0, 1, 100000, NULL, NULL,
	  "1000", true, "a batch is written at this many rows..." },
	{ "postgres", "flush_ms", OPT_INT, OFF(postgres.flush_ms), 0, 1, 60000, NULL, NULL,
	  "50", true, "...or this many milliseconds after its first row" },
	{ "postgres", "partition_days", OPT_INT, OFF(postgres.partition_days), 0, 1, 366, NULL, NULL,
	  "3", false, "daily partitions of positions created ahead, at start and daily" },
	{ "postgres", "reconnect_max_ms", OPT_INT, OFF(postgres.reconnect_max_ms), 0, 10, 600000,
	  NULL, NULL, "5000", true, "largest reconnect delay" },
	{ "postgres", "state_interval_ms", OPT_INT, OFF(postgres.state_interval_ms), 0, 0, 3600000,
	  NULL, NULL, "5000", true,
	  "vehicle_state of a vehicle whose zones and episodes did not change: saved at most this often" },
	{ "postgres", "retry_limit", OPT_INT, OFF(postgres.retry_limit), 0, 1, 1000000, NULL, NULL,
	  "10", true, "a batch the server refuses this often (not a lost link) is set aside in the log" },

	{ "spool", "dir", OPT_STR, OFF(spool.dir), SZ(spool.dir), 0, 0, NULL, NULL,
	  "/var/lib/hazgate/spool", false, "on-disk spool (created if missing)" },
	{ "spool", "max_bytes", OPT_SIZE, OFF(spool.max_bytes), 0, 4 * MIB, 1099511627776.0, NULL,
	  NULL, "1G", false, "bound of the spool; when full, MQTT is no longer read (k, M, G suffixes)" },
	{ "spool", "fsync", OPT_ENUM, OFF(spool.fsync), 0, 0, 0, fsync_names, NULL,
	  "always", false, "always: fdatasync every batch and acknowledgement; never: the kernel's" },

	{ "geofence", "timezone", OPT_STR, OFF(geofence.timezone), SZ(geofence.timezone), 0, 0,
	  NULL, NULL, "Asia/Shanghai", false, "IANA zone of the zones' daily windows" },
	{ "geofence", "overspeed_kmh", OPT_DBL, OFF(geofence.overspeed_kmh), 0, 0, 300, NULL, NULL,
	  "80", false, "hazmat speed limit" },
	{ "geofence", "exit_fixes", OPT_UINT, OFF(geofence.exit_fixes), 0, 1, 65535, NULL, NULL,
	  "1", false, "consecutive fixes outside before a zone_exit" },
	{ "geofence", "exit_margin_m", OPT_DBL, OFF(geofence.exit_margin_m), 0, 0, 100000, NULL,
	  NULL, "0", false, "this far outside exits at once (0 = off)" },
	{ "geofence", "silent_after_s", OPT_I64, OFF(geofence.silent_after_s), 0, 1, 31536000, NULL,
	  NULL, "300", false, "tracker_silent after this long without a fix" },

	{ "http", "listen", OPT_STR, OFF(http.listen), SZ(http.listen), 0, 0, NULL, NULL,
	  "127.0.0.1:9750", false, "ADDRESS:PORT of /metrics and /healthz (empty: off)" },

	{ "log", "level", OPT_ENUM, OFF(log.level), 0, 0, 0, level_names, NULL,
	  "info", true, "debug, info, warn, error" },

	{ "daemon", "drain_timeout_ms", OPT_INT, OFF(daemon.drain_timeout_ms), 0, 100, 600000, NULL,
	  NULL, "10000", true, "SIGTERM: time to flush before exiting anyway" },
	{ "daemon", "tick_ms", OPT_INT, OFF(daemon.tick_ms), 0, 10, 60000, NULL, NULL,
	  "1000", false, "wall-clock timer for tracker_silent" },
};

#define NOPTS (sizeof(gw_opts) / sizeof(gw_opts[0]))

struct parse_ctx {
	struct gw_config *cfg;
	const char *name;       /* file name for messages */
	int line;               /* line the reader returned last */
	const char *text;       /* string source (gw_config_load_string) */
	FILE *fp;               /* file source */
	bool seen[NOPTS];
	bool failed;
	char *err;
	size_t errlen;
};

static int
set_error(struct parse_ctx *c, const char *msg)
{
	if (!c->failed) {
		if (c->err && c->errlen)
			snprintf(c->err, c->errlen, "%s:%d: %s", c->name, c->line, msg);
		c->failed = true;
	}
	return 0;
}

/* Parse "FILTER FORMAT, FILTER FORMAT" into cfg->mqtt.subs. Returns NULL or
 * a static description of the fault. */
static const char *
parse_subs(struct gw_config *cfg, const char *value)
{
	const char *p = value;

	cfg->mqtt.nsubs = 0;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char item[GW_TOPIC_MAX + 32];
		char *filter, *fmt, *save = NULL;
		const char *name;
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
		s = &cfg->mqtt.subs[cfg->mqtt.nsubs];
		if (strlen(filter) >= sizeof(s->filter))
			return "topic filter too long";
		strcpy(s->filter, filter);
		/* ingest names the formats; "native|tpv" and "tpv|native" are
		 * this file's older spellings of auto. */
		name = fmt;
		if (!strcmp(name, "native|tpv") || !strcmp(name, "tpv|native"))
			name = "auto";
		if (ing_format_parse(name, &s->format) != 0)
			return "unknown format (native, tpv, owntracks, auto)";
		cfg->mqtt.nsubs++;
		p = end ? end + 1 : p + n;
	}
	if (cfg->mqtt.nsubs == 0)
		return "no subscription";
	return NULL;
}

/* Store VALUE into the option. Returns NULL or a description of the fault. */
static const char *
opt_set(const struct gw_opt *o, struct gw_config *cfg, const char *value)
{
	char *base = (char *)cfg + o->offset;
	char *end;
	double d;
	long long ll;

	switch (o->type) {
	case OPT_STR:
		if (strlen(value) >= o->size)
			return "value too long";
		strcpy(base, value);
		return NULL;
	case OPT_INT:
	case OPT_UINT:
	case OPT_I64:
		errno = 0;
		ll = strtoll(value, &end, 10);
		if (errno || end == value || *end)
			return "not an integer";
		if ((double)ll < o->min || (double)ll > o->max)
			return "out of range";
		if (o->type == OPT_INT)
			*(int *)base = (int)ll;
		else if (o->type == OPT_UINT)
			*(unsigned *)base = (unsigned)ll;
		else
			*(int64_t *)base = (int64_t)ll;
		return NULL;
	case OPT_DBL:
		errno = 0;
		d = strtod(value, &end);
		if (errno || end == value || *end || !isfinite(d))
			return "not a number";
		if (d < o->min || d > o->max)
			return "out of range";
		*(double *)base = d;
		return NULL;
	case OPT_SIZE: {
		unsigned long long u;
		double mult = 1;

		if (*value == '-')
			return "not a size";
		errno = 0;
		u = strtoull(value, &end, 10);
		if (errno || end == value)
			return "not a size";
		if (*end == 'k' || *end == 'K')
			mult = 1024.0, end++;
		else if (*end == 'M')
			mult = MIB, end++;
		else if (*end == 'G')
			mult = MIB * 1024.0, end++;
		else if (*end == 'T')
			mult = MIB * MIB, end++;
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
		if (*end)
			return "not a size (digits and an optional k, M, G or T)";
		d = (double)u * mult;
		if (d < o->min || d > o->max)
			return "out of range";
		*(uint64_t *)base = (uint64_t)d;
		return NULL;
	}
	case OPT_ENUM:
		for (size_t i = 0; o->names[i]; i++) {
			if (!strcmp(o->names[i], value)) {
				*(int *)base = o->values ? o->values[i] : (int)i;
				return NULL;
			}
		}
		return "not one of the allowed values";
	case OPT_SUBS:
		return parse_subs(cfg, value);
	}
	return "bad option type";
}

static const struct gw_opt *
opt_find(const char *section, const char *key, bool *section_known)
{
	*section_known = false;
	for (size_t i = 0; i < NOPTS; i++) {
		if (strcmp(gw_opts[i].section, section))
			continue;
		*section_known = true;
		if (!strcmp(gw_opts[i].key, key))
			return &gw_opts[i];
	}
	return NULL;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;
	bool known;
	const struct gw_opt *o;
	const char *why;
	char msg[512];
	size_t idx;

	if (c->failed)
		return 0;
	o = opt_find(section, name, &known);
	if (!*section) {
		snprintf(msg, sizeof(msg), "key '%s' outside any [section]", name);
		return set_error(c, msg);
	}
	if (!known) {
		snprintf(msg, sizeof(msg), "unknown section [%s] (key '%s')", section, name);
		return set_error(c, msg);
	}
	if (!o) {
		snprintf(msg, sizeof(msg), "unknown key '%s' in [%s]", name, section);
		return set_error(c, msg);
	}
	idx = (size_t)(o - gw_opts);
	if (c->seen[idx]) {
		snprintf(msg, sizeof(msg), "[%s] %s given twice", section, name);
		return set_error(c, msg);
	}
	c->seen[idx] = true;
	why = opt_set(o, c->cfg, value);
	if (why) {
		snprintf(msg, sizeof(msg), "[%s] %s = '%.200s': %s", section, name, value, why);
		return set_error(c, msg);
	}
	return 1;
}

static char *
reader(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	char *r;

	if (c->fp) {
		r = fgets(str, num, c->fp);
	} else {
		size_t n = 0;

		if (!*c->text)
			return NULL;
		while (c->text[n] && c->text[n] != '\n' && n + 1 < (size_t)num - 1)
			n++;
		if (c->text[n] == '\n')
			n++;
		memcpy(str, c->text, n);
		str[n] = '\0';
		c->text += n;
		r = str;
	}
	if (r)
		c->line++;
	return r;
}

/* Cross-option checks after the whole file is read. */
static const char *
check_all(const struct gw_config *cfg)
{
	if (cfg->mqtt.reconnect_min_ms > cfg->mqtt.reconnect_max_ms)
		return "[mqtt] reconnect_min_ms is above reconnect_max_ms";
	if ((cfg->mqtt.tls_cert[0] != '\0') != (cfg->mqtt.tls_key[0] != '\0'))
		return "[mqtt] tls_cert and tls_key go together";
	if (cfg->mqtt.tls_cert[0] && !cfg->mqtt.tls_ca[0])
		return "[mqtt] tls_cert needs tls_ca";
	if (cfg->mqtt.password_file[0] && !cfg->mqtt.username[0])
		return "[mqtt] password_file needs username";
	if (!cfg->mqtt.client_id[0])
		return "[mqtt] client_id must not be empty (the persistent session needs it)";
	if (!cfg->spool.dir[0])
		return "[spool] dir must not be empty";
	return NULL;
}

void
gw_config_default(struct gw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NOPTS; i++) {
		const char *why = opt_set(&gw_opts[i], cfg, gw_opts[i].def);

		(void)why; /* the unit test proves every default parses */
	}
}

static int
load(struct parse_ctx *c)
{
	int rc;
	const char *why;

	gw_config_default(c->cfg);
	rc = ini_parse_stream(reader, c, handler, c);
	if (c->failed)
		return GW_CONFIG_EPARSE;
	if (rc > 0) {
		if (c->err && c->errlen)
			snprintf(c->err, c->errlen, "%s:%d: syntax error (want [section] or key = value)",
				 c->name, rc);
		return GW_CONFIG_EPARSE;
	}
	if (rc < 0) {
		if (c->err && c->errlen)
			snprintf(c->err, c->errlen, "%s: cannot read", c->name);
		return GW_CONFIG_EIO;
	}
	why = check_all(c->cfg);
	if (why) {
		if (c->err && c->errlen)
			snprintf(c->err, c->errlen, "%s: %s", c->name, why);
		return GW_CONFIG_EPARSE;
	}
	return GW_CONFIG_OK;
}

int
gw_config_load(const char *path, struct gw_config *cfg, char *err, size_t errlen)
{
	struct parse_ctx c = { .cfg = cfg, .name = path, .err = err, .errlen = errlen };
	int rc;

	c.fp = fopen(path, "r");
	if (!c.fp) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return GW_CONFIG_EIO;
	}
	rc = load(&c);
	fclose(c.fp);
	return rc;
}

int
gw_config_load_string(const char *name, const char *text, struct gw_config *cfg, char *err,
                      size_t errlen)
{
	struct parse_ctx c = { .cfg = cfg, .name = name, .text = text, .err = err,
			       .errlen = errlen };

	return load(&c);
}

static bool
opt_equal(const struct gw_opt *o, const struct gw_config *a, const struct gw_config *b)
{
	const char *pa = (const char *)a + o->offset, *pb = (const char *)b + o->offset;

	switch (o->type) {
	case OPT_STR:
		return !strcmp(pa, pb);
	case OPT_INT:
	case OPT_ENUM:
		return *(const int *)pa == *(const int *)pb;
	case OPT_UINT:
		return *(const unsigned *)pa == *(const unsigned *)pb;
	case OPT_I64:
		return *(const int64_t *)pa == *(const int64_t *)pb;
	case OPT_DBL:
		return *(const double *)pa == *(const double *)pb;
	case OPT_SIZE:
		return *(const uint64_t *)pa == *(const uint64_t *)pb;
	case OPT_SUBS:
		if (a->mqtt.nsubs != b->mqtt.nsubs)
			return false;
		for (size_t i = 0; i < a->mqtt.nsubs; i++)
			if (strcmp(a->mqtt.subs[i].filter, b->mqtt.subs[i].filter) ||
			    a->mqtt.subs[i].format != b->mqtt.subs[i].format)
				return false;
		return true;
	}
	return false;
}

static size_t
opt_width(const struct gw_opt *o)
{
	switch (o->type) {
	case OPT_STR: return o->size;
	case OPT_INT: case OPT_ENUM: return sizeof(int);
	case OPT_UINT: return sizeof(unsigned);
	case OPT_I64: return sizeof(int64_t);
	case OPT_DBL: return sizeof(double);
	case OPT_SIZE: return sizeof(uint64_t);
	case OPT_SUBS: return 0;
	}
	return 0;
}

int
gw_config_apply_reload(struct gw_config *cur, const struct gw_config *next, char *buf,
                       size_t buflen)
{
	int n = 0;

	if (buf && buflen)
		buf[0] = '\0';
	for (size_t i = 0; i < NOPTS; i++) {
		const struct gw_opt *o = &gw_opts[i];

		if (opt_equal(o, cur, next))
			continue;
		if (o->reload) {
			memcpy((char *)cur + o->offset, (const char *)next + o->offset, opt_width(o));
			continue;
		}
		if (buf && buflen) {
			size_t len = strlen(buf);

			snprintf(buf + len, buflen - len, "%s%s.%s", n ? "," : "", o->section, o->key);
		}
		n++;
	}
	return n;
}

void
gw_config_print_help(FILE *out)
{
	const char *section = "";

	for (size_t i = 0; i < NOPTS; i++) {
		const struct gw_opt *o = &gw_opts[i];

		if (strcmp(section, o->section)) {
			section = o->section;
			fprintf(out, "  [%s]\n", section);
		}
		fprintf(out, "    %-18s = %-22s %s%s\n", o->key, o->def, o->help,
			o->reload ? " (SIGHUP reloads)" : "");
	}
}

const char *
gw_log_level_name(enum gw_log_level level)
{
	if ((unsigned)level < 4)
		return level_names[level];
	return "unknown";
}

const char *
gw_config_strerror(int err)
{
	switch (err) {
	case GW_CONFIG_OK: return "success";
	case GW_CONFIG_EIO: return "cannot read the configuration file";
	case GW_CONFIG_EPARSE: return "bad configuration";
	}
	return "unknown error";
}
