/*
 * gf_alert.c - alert names, severities, error texts, and THE renderer of
 * the DESIGN.md alert JSON (daemon and replay both call it, so their
 * output is byte-identical apart from "id").
 *
 * Key order is fixed: id, kind, severity, vehicle, zone_id, zone, ts,
 * lat, lon, speed_kmh, detail. ts is UTC with milliseconds. lat/lon carry
 * up to 7 decimals (1 cm), speeds and limits up to 2, trailing zeros
 * trimmed but one decimal kept ("42.0"). Strings are escaped per RFC 8259
 * (UTF-8 passed through, controls as \uXXXX).
 */
#include "geofence/geofence-internal.h"

#include "common/hz_alarm.h"
#include "common/hz_time.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const alert_names[] = {
	"zone_enter", "zone_exit", "prohibited_entry", "zone_speeding",
	"overspeed", "dwell_exceeded", "route_deviation", "tracker_silent",
	"tracker_resumed", "fatigue_driving", "daily_driving_exceeded",
	"night_driving", "unauthorized_stop", "terminal_alarm",
	"terminal_alarm_cleared",
};

static const enum gf_severity alert_sev[] = {
	GF_SEV_INFO, GF_SEV_INFO, GF_SEV_CRITICAL, GF_SEV_WARNING,
	GF_SEV_WARNING, GF_SEV_WARNING, GF_SEV_CRITICAL, GF_SEV_WARNING,
	GF_SEV_INFO, GF_SEV_WARNING, GF_SEV_WARNING,
	GF_SEV_CRITICAL, GF_SEV_WARNING, GF_SEV_WARNING,
	GF_SEV_INFO,
};
_Static_assert(sizeof alert_names / sizeof alert_names[0] == GF_ALERT_KIND_COUNT &&
		       sizeof alert_sev / sizeof alert_sev[0] == GF_ALERT_KIND_COUNT,
	       "a name and a severity per kind");

const char *
gf_alert_kind_name(enum gf_alert_kind kind)
{
	if ((unsigned)kind < sizeof alert_names / sizeof alert_names[0])
		return alert_names[kind];
	return "unknown";
}

enum gf_severity
gf_alert_kind_severity(enum gf_alert_kind kind)
{
	if ((unsigned)kind < sizeof alert_sev / sizeof alert_sev[0])
		return alert_sev[kind];
	return GF_SEV_INFO;
}

const char *
gf_severity_name(enum gf_severity sev)
{
	switch (sev) {
	case GF_SEV_INFO: return "info";
	case GF_SEV_WARNING: return "warning";
	case GF_SEV_CRITICAL: return "critical";
	}
	return "info";
}

const char *
gf_strerror(int err)
{
	switch (err) {
	case GF_OK: return "success";
	case GF_ENOMEM: return "out of memory";
	case GF_EINVAL: return "invalid argument";
	case GF_EZONES: return "invalid zones";
	case GF_ETZ: return "invalid time zone data";
	case GF_EIO: return "time zone file not readable";
	case GF_EBLOB: return "vehicle state blob corrupt or of another version";
	case GF_ERANGE: return "buffer too small";
	}
	return "unknown error";
}

/* snprintf-style writer: counts everything, stores what fits. */
struct out {
	char *buf;
	size_t size, len;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->size) {
		size_t room = o->size - o->len;
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_str(struct out *o, const char *s)
{
	put(o, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(o, esc, 2);
		} else if (*p < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			put(o, esc, 6);
		} else {
			put(o, (const char *)p, 1);
		}
	}
	put(o, "\"", 1);
}

static void
put_num(struct out *o, double v, int decimals)
{
	char b[64];
	if (!isfinite(v)) {
		puts_(o, "null");
		return;
	}
	int n = snprintf(b, sizeof b, "%.*f", decimals, v);
	if (n <= 0 || (size_t)n >= sizeof b) {
		puts_(o, "null");
		return;
	}
	char *dotp = strchr(b, '.');
	if (dotp != NULL) {
		while (n > 0 && b[n - 1] == '0' && &b[n - 2] != dotp)
			b[--n] = '\0';
	}
	if (strcmp(b, "-0.0") == 0)
		memmove(b, b + 1, (size_t)n--);
	put(o, b, (size_t)n);
}

static void
put_int(struct out *o, int64_t v)
{
	char b[32];
	int n = snprintf(b, sizeof b, "%" PRId64, v);
	put(o, b, (size_t)n);
}

static void
put_ts(struct out *o, int64_t us)
{
	char b[25];
	gf_time_format(us, b);
	put(o, "\"", 1);
	put(o, b, 24);
	put(o, "\"", 1);
}

static void
put_hhmmss(struct out *o, int32_t s)
{
	char b[16];
	int n = snprintf(b, sizeof b, "\"%02d:%02d:%02d\"", (int)(s / 3600) % 100,
			 (int)(s / 60 % 60), (int)(s % 60));
	put(o, b, (size_t)n);
}

static void
put_hhmm_window(struct out *o, int32_t s, int32_t e)
{
	char b[24];
	int n = snprintf(b, sizeof b, "\"%02d:%02d-%02d:%02d\"",
			 (int)(s / 3600) % 100, (int)(s / 60 % 60),
			 (int)(e / 3600) % 100, (int)(e / 60 % 60));
	put(o, b, (size_t)n);
}

size_t
gf_alert_format(const struct gf_alert *a, int64_t id, char *buf, size_t size)
{
	struct out o = {buf, size, 0};
	puts_(&o, "{\"id\":");
	if (id < 0)
		puts_(&o, "null");
	else
		put_int(&o, id);
	puts_(&o, ",\"kind\":");
	put_str(&o, gf_alert_kind_name(a->kind));
	puts_(&o, ",\"severity\":");
	put_str(&o, gf_severity_name(a->severity));
	puts_(&o, ",\"vehicle\":");
	put_str(&o, a->vehicle);
	puts_(&o, ",\"zone_id\":");
	if (a->has_zone)
		put_int(&o, a->zone_id);
	else
		puts_(&o, "null");
	puts_(&o, ",\"zone\":");
	if (a->has_zone && a->zone_name != NULL)
		put_str(&o, a->zone_name);
	else
		puts_(&o, "null");
	puts_(&o, ",\"ts\":");
	put_ts(&o, a->ts_us);
	puts_(&o, ",\"lat\":");
	put_num(&o, a->lat, 7);
	puts_(&o, ",\"lon\":");
	put_num(&o, a->lon, 7);
	puts_(&o, ",\"speed_kmh\":");
	if (a->has_speed)
		put_num(&o, a->speed_kmh, 2);
	else
		puts_(&o, "null");
	puts_(&o, ",\"detail\":{");
	switch (a->kind) {
	case GF_ALERT_ZONE_ENTER:
	case GF_ALERT_PROHIBITED_ENTRY:
		puts_(&o, "\"zone_kind\":");
		put_str(&o, gf_kind_name(a->zone_kind));
		break;
	case GF_ALERT_ZONE_EXIT:
		puts_(&o, "\"zone_kind\":");
		put_str(&o, gf_kind_name(a->zone_kind));
		puts_(&o, ",\"dwell_s\":");
		put_int(&o, a->dwell_s);
		break;
	case GF_ALERT_ZONE_SPEEDING:
	case GF_ALERT_OVERSPEED:
		puts_(&o, "\"limit_kmh\":");
		put_num(&o, a->limit_kmh, 2);
		break;
	case GF_ALERT_DWELL_EXCEEDED:
		puts_(&o, "\"max_dwell_s\":");
		put_int(&o, a->max_dwell_s);
		puts_(&o, ",\"dwell_s\":");
		put_int(&o, a->dwell_s);
		break;
	case GF_ALERT_ROUTE_DEVIATION:
		break;
	case GF_ALERT_TRACKER_SILENT:
		puts_(&o, "\"silent_after_s\":");
		put_int(&o, a->gap_s);
		puts_(&o, ",\"last_fix\":");
		put_ts(&o, a->last_fix_us);
		break;
	case GF_ALERT_TRACKER_RESUMED:
		puts_(&o, "\"gap_s\":");
		put_int(&o, a->gap_s);
		puts_(&o, ",\"last_fix\":");
		put_ts(&o, a->last_fix_us);
		break;
	case GF_ALERT_FATIGUE_DRIVING:
		puts_(&o, "\"max_continuous_s\":");
		put_int(&o, a->limit_s);
		puts_(&o, ",\"driving_s\":");
		put_int(&o, a->duration_s);
		break;
	case GF_ALERT_DAILY_DRIVING_EXCEEDED: {
		int64_t y;
		unsigned m, d;
		char b[32];
		hz_civil_from_days(a->day, &y, &m, &d);
		snprintf(b, sizeof b, "%04lld-%02u-%02u", (long long)y, m, d);
		puts_(&o, "\"max_daily_s\":");
		put_int(&o, a->limit_s);
		puts_(&o, ",\"driving_s\":");
		put_int(&o, a->duration_s);
		puts_(&o, ",\"day\":");
		put_str(&o, b);
		break;
	}
	case GF_ALERT_NIGHT_DRIVING:
		puts_(&o, "\"window\":");
		put_hhmm_window(&o, a->window_start_s, a->window_end_s);
		puts_(&o, ",\"local_time\":");
		put_hhmmss(&o, a->local_s);
		break;
	case GF_ALERT_UNAUTHORIZED_STOP:
		puts_(&o, "\"max_stop_s\":");
		put_int(&o, a->limit_s);
		puts_(&o, ",\"stopped_s\":");
		put_int(&o, a->duration_s);
		puts_(&o, ",\"since\":");
		put_ts(&o, a->since_us);
		break;
	case GF_ALERT_TERMINAL_ALARM:
	case GF_ALERT_TERMINAL_ALARM_CLEARED: {
		const char *n = hz_alarm_name(a->alarm);
		puts_(&o, "\"alarm\":");
		put_str(&o, n ? n : "unknown");
		break;
	}
	case GF_ALERT_KIND_COUNT:
		break;
	}
	puts_(&o, "}}");
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}
