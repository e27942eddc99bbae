/*
 * ctl_values.c: what hazgate-ctl's output and hazgate-web's track export
 * share (libctlfmt.a): the configured time zone, times parsed and written,
 * and JSON values made from query results.
 *
 * Local times use the C library's zone database (TZ set to ":NAME"), which
 * reads the same /usr/share/zoneinfo files as the geofence engine's TZif
 * reader; a time in a DST gap is moved forward as mktime() does.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/hz_clock.h"
#include "common/hz_time.h"

/* ---- time ------------------------------------------------------------ */

static char tz_current[128] = "";

const char *
ctl_tz_name(void)
{
	if (!tz_current[0]) {
		const char *env = getenv("HAZGATE_TZ");
		if (!env || !*env || ctl_tz_set(env) != 0)
			ctl_tz_set("Asia/Shanghai");
		if (!tz_current[0]) /* no zoneinfo at all: fall back to UTC */
			ctl_tz_set("UTC");
	}
	return tz_current;
}

int
ctl_tz_set(const char *name)
{
	if (!name || !*name || strlen(name) >= sizeof tz_current || name[0] == '/' ||
	    strstr(name, ".."))
		return -1;
	for (const char *p = name; *p; p++)
		if (!(*p == '/' || *p == '_' || *p == '-' || *p == '+' ||
		      (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= 'a' && *p <= 'z')))
			return -1;
	if (strcmp(name, "UTC") != 0) {
		const char *dir = getenv("TZDIR");
		char path[512];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo",
			 name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			return -1;
	}
	char tz[sizeof tz_current + 1];
	snprintf(tz, sizeof tz, ":%s", name);
	if (strcmp(name, "UTC") == 0)
		snprintf(tz, sizeof tz, "UTC0");
	setenv("TZ", tz, 1);
	tzset();
	snprintf(tz_current, sizeof tz_current, "%s", name);
	return 0;
}

/* The one RFC 3339 parser (common/hz_time.h), loosened for what people
 * type: the date alone, no seconds, a comma before the fraction, and no
 * zone, which makes it a local time in the configured zone. */
int
ctl_time_parse(const char *s, int64_t *us)
{
	struct hz_civil c;

	if (!s)
		return -1;
	if (strcmp(s, "now") == 0) {
		*us = hz_now_us();
		return 0;
	}
	if (hz_time_scan(s, strlen(s),
			 HZ_TIME_DATE_ONLY | HZ_TIME_NO_SECONDS | HZ_TIME_COMMA | HZ_TIME_NO_ZONE,
			 &c) != 0)
		return -1;
	if (c.zoned) {
		*us = hz_civil_to_us(&c);
		return 0;
	}
	ctl_tz_name();
	struct tm tm = { .tm_year = (int)c.year - 1900,
			 .tm_mon = (int)c.month - 1,
			 .tm_mday = (int)c.day,
			 .tm_hour = (int)c.hour,
			 .tm_min = (int)c.min,
			 .tm_sec = (int)c.sec,
			 .tm_isdst = -1 };
	errno = 0;
	time_t t = mktime(&tm);
	if (t == (time_t)-1 && errno)
		return -1;
	*us = (int64_t)t * 1000000 + c.usec;
	return 0;
}

void
ctl_time_format(int64_t us, char buf[40])
{
	hz_time_format(us, us % 1000 == 0 ? HZ_TIME_MS : HZ_TIME_US, buf);
}

void
ctl_time_format_local(int64_t us, char buf[40])
{
	int64_t s = us / 1000000;
	if (us % 1000000 < 0)
		s--;
	ctl_tz_name();
	time_t t = (time_t)s;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, 40, "%Y-%m-%d %H:%M:%S", &tm);
}

int64_t
ctl_now_us(void)
{
	return hz_now_us();
}

/* ---- values from results ---------------------------------------------- */

const char *
ctl_field(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

int64_t
ctl_field_i64(const PGresult *res, int row, int col)
{
	const char *v = ctl_field(res, row, col);
	return v ? strtoll(v, NULL, 10) : 0;
}

json_t *
ctl_json_text(const PGresult *res, int row, int col)
{
	const char *v = ctl_field(res, row, col);
	return v ? json_string(v) : json_null();
}

json_t *
ctl_json_int(const PGresult *res, int row, int col)
{
	const char *v = ctl_field(res, row, col);
	return v ? json_integer(strtoll(v, NULL, 10)) : json_null();
}

json_t *
ctl_json_real(const PGresult *res, int row, int col)
{
	const char *v = ctl_field(res, row, col);
	return v ? json_real(strtod(v, NULL)) : json_null();
}

json_t *
ctl_json_parse(const PGresult *res, int row, int col)
{
	const char *v = ctl_field(res, row, col);
	if (!v)
		return json_null();
	json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
	return j ? j : json_string(v);
}

json_t *
ctl_json_time_us(int64_t us)
{
	char buf[40];
	ctl_time_format(us, buf);
	return json_string(buf);
}

json_t *
ctl_json_time(const PGresult *res, int row, int col)
{
	const char *v = ctl_field(res, row, col);
	return v ? ctl_json_time_us(strtoll(v, NULL, 10)) : json_null();
}

char *
ctl_json_line(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
}

