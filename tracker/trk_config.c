/*
 * trk_config.c - hazgate-tracker's options: one table (section, name, type,
 * bounds, default, help), read from an INI file with libinih and from the
 * command line through the same setter.
 *
 * Every option has a default (the table's string, parsed by the same code
 * as the file), so an empty file is a valid configuration apart from the
 * vehicle.  An unknown section or key or a value out of bounds is an error
 * that names the file and the line.  Sizes accept a K, M or G suffix
 * (powers of 1024).
 */
#include "tracker/tracker.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum opt_type { OPT_STR, OPT_INT, OPT_DBL, OPT_SIZE, OPT_FSYNC, OPT_LEVEL };

struct opt {
	const char *section, *name;
	enum opt_type type;
	size_t off;
	double min, max;
	const char *def;
	const char *help;
};

#define OFF(f) offsetof(struct trk_config, f)

static const struct opt opts[] = {
	{ "tracker", "vehicle", OPT_STR, OFF(vehicle), 0, 0, "",
	  "plate or id, 1-32 bytes UTF-8 (required; --vehicle)" },
	{ "tracker", "un", OPT_STR, OFF(un), 0, 0, "", "cargo UN number, e.g. 1203" },
	{ "tracker", "hazard_class", OPT_STR, OFF(hazard_class), 0, 0, "",
	  "cargo hazard class, e.g. 3" },
	{ "gpsd", "host", OPT_STR, OFF(gpsd_host), 0, 0, "127.0.0.1", "gpsd host (--gpsd)" },
	{ "gpsd", "port", OPT_INT, OFF(gpsd_port), 1, 65535, "2947", "gpsd port" },
	{ "gpsd", "reconnect_s", OPT_DBL, OFF(gpsd_reconnect_s), 0.1, 3600, "2",
	  "retry interval while gpsd is away" },
	{ "mqtt", "host", OPT_STR, OFF(mqtt_host), 0, 0, "127.0.0.1", "broker host (--broker)" },
	{ "mqtt", "port", OPT_INT, OFF(mqtt_port), 1, 65535, "1883", "broker port (8883 for TLS)" },
	{ "mqtt", "client_id", OPT_STR, OFF(client_id), 0, 0, "",
	  "MQTT client id; empty: hazgate-tracker-<vehicle>" },
	{ "mqtt", "topic_prefix", OPT_STR, OFF(topic_prefix), 0, 0, "tankers",
	  "topics are <prefix>/<vehicle>/telemetry and /status" },
	{ "mqtt", "keepalive_s", OPT_INT, OFF(keepalive_s), 5, 3600, "30", "MQTT keepalive" },
	{ "mqtt", "max_inflight", OPT_INT, OFF(max_inflight), 1, 1000, "20",
	  "QoS 1 messages sent and not yet acknowledged" },
	{ "mqtt", "username", OPT_STR, OFF(username), 0, 0, "", "MQTT user name" },
	{ "mqtt", "password_file", OPT_STR, OFF(password_file), 0, 0, "",
	  "file whose first line is the password" },
	{ "mqtt", "tls_ca", OPT_STR, OFF(tls_ca), 0, 0, "",
	  "CA certificate file (PEM); set to use TLS" },
	{ "mqtt", "tls_cert", OPT_STR, OFF(tls_cert), 0, 0, "", "client certificate (PEM)" },
	{ "mqtt", "tls_key", OPT_STR, OFF(tls_key), 0, 0, "", "client key (PEM)" },
	{ "mqtt", "reconnect_min_s", OPT_DBL, OFF(reconnect_min_s), 0.1, 3600, "1",
	  "first reconnect delay (doubles up to reconnect_max_s)" },
	{ "mqtt", "reconnect_max_s", OPT_DBL, OFF(reconnect_max_s), 0.1, 3600, "60",
	  "longest reconnect delay" },
	{ "mqtt", "drain_s", OPT_DBL, OFF(drain_s), 0, 600, "5",
	  "on SIGTERM, time allowed to send the backlog" },
	{ "report", "min_interval_s", OPT_DBL, OFF(report.min_interval_s), 0, 86400, "10",
	  "never report more often than this" },
	{ "report", "max_interval_s", OPT_DBL, OFF(report.max_interval_s), 1, 86400, "60",
	  "report at least this often, moving or stopped" },
	{ "report", "heading_change_deg", OPT_DBL, OFF(report.heading_change_deg), 1, 180, "30",
	  "report at once on a turn this large" },
	{ "report", "min_distance_m", OPT_DBL, OFF(report.min_distance_m), 0, 100000, "100",
	  "report at once after moving this far" },
	{ "report", "heading_min_speed_kmh", OPT_DBL, OFF(report.heading_min_speed_kmh), 0, 500, "5",
	  "below this speed the heading is noise and ignored" },
	{ "queue", "dir", OPT_STR, OFF(queue_dir), 0, 0, "/var/lib/hazgate-tracker/queue",
	  "store-and-forward directory (--queue)" },
	{ "queue", "max_bytes", OPT_SIZE, OFF(queue_max_bytes), 65536, 1e12, "64M",
	  "bound of the queue; the oldest records are dropped (and counted) beyond" },
	{ "queue", "segment_bytes", OPT_SIZE, OFF(queue_segment_bytes), 4096, 1e12, "1M",
	  "segment file size (at most max_bytes/4)" },
	{ "queue", "fsync", OPT_FSYNC, OFF(fsync), 0, 0, "interval",
	  "always | interval | never" },
	{ "queue", "fsync_interval_s", OPT_DBL, OFF(fsync_interval_s), 0.01, 3600, "1",
	  "with fsync = interval: how often" },
	{ "log", "level", OPT_LEVEL, OFF(log_level), 0, 0, "info", "debug | info | warn | error" },
};

static const char *const fsync_names[] = { "always", "interval", "never" };
static const char *const level_names[] = { "debug", "info", "warn", "error" };

static int
parse_enum(const char *v, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcasecmp(v, names[i]) == 0)
			return i;
	return -1;
}

static int
set_opt(struct trk_config *c, const struct opt *o, const char *v, char *err, size_t cap)
{
	char *end, *dup;
	void *p = (char *)c + o->off;
	double d;
	long long ll;
	int e;

	switch (o->type) {
	case OPT_STR:
		dup = strdup(v);
		if (!dup)
			return TRK_ERR_NOMEM;
		free(*(char **)p);
		*(char **)p = dup;
		return TRK_OK;
	case OPT_INT:
		errno = 0;
		ll = strtoll(v, &end, 10);
		if (errno || end == v || *end || ll < o->min || ll > o->max)
			goto bad;
		*(int *)p = (int)ll;
		return TRK_OK;
	case OPT_DBL:
		errno = 0;
		d = strtod(v, &end);
		if (errno || end == v || *end || !isfinite(d) || d < o->min || d > o->max)
			goto bad;
		*(double *)p = d;
		return TRK_OK;
	case OPT_SIZE:
		errno = 0;
		ll = strtoll(v, &end, 10);
		if (errno || end == v || ll < 0)
			goto bad;
		switch (*end) {
		case 'k': case 'K': ll <<= 10; end++; break;
		case 'm': case 'M': ll <<= 20; end++; break;
		case 'g': case 'G': ll <<= 30; end++; break;
		default: break;
		}
		if (*end || ll < o->min || ll > o->max)
			goto bad;
		*(int64_t *)p = ll;
		return TRK_OK;
	case OPT_FSYNC:
		e = parse_enum(v, fsync_names, 3);
		if (e < 0)
			goto bad;
		*(int *)p = e;
		return TRK_OK;
	case OPT_LEVEL:
		e = parse_enum(v, level_names, 4);
		if (e < 0)
			goto bad;
		*(int *)p = e;
		return TRK_OK;
	}
bad:
	if (o->type == OPT_INT || o->type == OPT_DBL || o->type == OPT_SIZE)
		snprintf(err, cap, "bad value \"%s\" for [%s] %s (%g..%g)", v, o->section,
		         o->name, o->min, o->max);
	else
		snprintf(err, cap, "bad value \"%s\" for [%s] %s (%s)", v, o->section,
		         o->name, o->help);
	return TRK_ERR_CONFIG;
}

int
trk_config_set(struct trk_config *c, const char *section, const char *name,
               const char *value, char *err, size_t errcap)
{
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if (strcmp(opts[i].section, section) == 0 && strcmp(opts[i].name, name) == 0)
			return set_opt(c, &opts[i], value, err, errcap);
	snprintf(err, errcap, "unknown key \"%s\" in section [%s]", name, section);
	return TRK_ERR_CONFIG;
}

int
trk_config_init(struct trk_config *c)
{
	char err[256];

	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		int rc = set_opt(c, &opts[i], opts[i].def, err, sizeof err);

		if (rc != TRK_OK)
			return rc;      /* only out of memory: the defaults are valid */
	}
	return TRK_OK;
}

void
trk_config_free(struct trk_config *c)
{
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		if (opts[i].type == OPT_STR) {
			char **p = (char **)((char *)c + opts[i].off);

			free(*p);
			*p = NULL;
		}
	}
}

struct load_ctx {
	struct trk_config *c;
	char err[256];
	int rc;
};

static int
ini_cb(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *l = user;
	char err[256];
	int rc;

	if (!name)      /* a section header alone (inih with INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	rc = trk_config_set(l->c, section, name, value, err, sizeof err);
	if (rc == TRK_OK)
		return 1;
	if (l->rc == TRK_OK) {
		l->rc = rc;
		snprintf(l->err, sizeof l->err, "%s", err);
	}
	return 0;
}

int
trk_config_load(struct trk_config *c, const char *path, char *err, size_t errcap)
{
	struct load_ctx l = { .c = c, .rc = TRK_OK };
	int line = ini_parse(path, ini_cb, &l);

	if (line == -1) {
		snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
		return TRK_ERR_IO;
	}
	if (line == -2) {
		snprintf(err, errcap, "%s: out of memory", path);
		return TRK_ERR_NOMEM;
	}
	if (line > 0) {
		snprintf(err, errcap, "%s:%d: %s", path, line,
		         l.rc != TRK_OK ? l.err : "syntax error");
		return l.rc == TRK_ERR_NOMEM ? TRK_ERR_NOMEM : TRK_ERR_CONFIG;
	}
	return TRK_OK;
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

static void
print_value(const struct trk_config *c, const struct opt *o, FILE *f)
{
	const void *p = (const char *)c + o->off;

	switch (o->type) {
	case OPT_STR: fprintf(f, "%s", *(char *const *)p); break;
	case OPT_INT: fprintf(f, "%d", *(const int *)p); break;
	case OPT_DBL: fprintf(f, "%g", *(const double *)p); break;
	case OPT_SIZE: fprintf(f, "%lld", (long long)*(const int64_t *)p); break;
	case OPT_FSYNC: fprintf(f, "%s", fsync_names[*(const int *)p]); break;
	case OPT_LEVEL: fprintf(f, "%s", level_names[*(const int *)p]); break;
	}
}

void
trk_config_print(const struct trk_config *c, void *fp)
{
	FILE *f = fp;
	const char *sec = "";

	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		if (strcmp(sec, opts[i].section) != 0) {
			sec = opts[i].section;
			fprintf(f, "%s[%s]\n", i ? "\n" : "", sec);
		}
		fprintf(f, "%s = ", opts[i].name);
		print_value(c, &opts[i], f);
		fputc('\n', f);
	}
}

void
trk_config_print_help(void *fp)
{
	FILE *f = fp;
	static const char *const tn[] = { "string", "int", "number", "size", "enum", "enum" };

	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		const struct opt *o = &opts[i];
		char b[64] = "";

		if (o->type == OPT_INT || o->type == OPT_DBL || o->type == OPT_SIZE)
			snprintf(b, sizeof b, " %g..%g", o->min, o->max);
		fprintf(f, "  [%s] %s (%s%s, default \"%s\"): %s\n", o->section, o->name,
		        tn[o->type], b, o->def, o->help);
	}
}
