/*
 * ctl_util.c: what every hazgate-ctl command shares: messages, the common
 * options, times and durations from the command line, blocking
 * parameterised queries, JSON values from query results, file reading.
 *
 * Local times use the C library's zone database (TZ set to ":NAME"), which
 * reads the same /usr/share/zoneinfo files as the geofence engine's TZif
 * reader; a time in a DST gap is moved forward as mktime() does.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hz_clock.h"
#include "common/hz_time.h"

/* -d CONNINFO of the command line (ctl_main.c sets it). */
const char *ctl_conninfo;

PGconn *
ctl_connect(const char *conninfo)
{
	if (!conninfo)
		conninfo = ctl_conninfo ? ctl_conninfo : "";
	/* The conninfo may be a URI or key=value text: expand it as dbname. */
	const char *keys[] = { "dbname", "fallback_application_name", NULL };
	const char *vals[] = { conninfo, "hazgate-ctl", NULL };
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "hazgate-ctl: cannot connect to PostgreSQL: %s",
			PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
	PQclear(PQexec(conn, "SET TimeZone = 'UTC'"));
	return conn;
}

void
ctl_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hazgate-ctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
ctl_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hazgate-ctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: hazgate-ctl %s\n(hazgate-ctl %s --help for details)\n", usage,
		cmd);
	return CTL_EUSAGE;
}

/* ---- options -------------------------------------------------------- */

static const struct {
	const char *name;
	enum ctl_format fmt;
} format_names[] = {
	{ "table", CTL_FMT_TABLE },     { "json", CTL_FMT_JSON }, { "csv", CTL_FMT_CSV },
	{ "geojson", CTL_FMT_GEOJSON }, { "gpx", CTL_FMT_GPX },
};

static int
allowed_list(unsigned formats, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
		if (!(formats & format_names[i].fmt))
			continue;
		int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
				 format_names[i].name);
		if (n < 0 || (size_t)n >= size - used)
			return -1;
		used += (size_t)n;
	}
	return 0;
}

int
ctl_common_option(struct ctl_common *co, int c, char **argv)
{
	switch (c) {
	case 'd':
		co->conninfo = optarg;
		return -1;
	case CTL_OPT_FORMAT:
		for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
			if (strcmp(optarg, format_names[i].name) == 0 &&
			    (co->formats & format_names[i].fmt)) {
				co->format = format_names[i].fmt;
				return -1;
			}
		}
		{
			char list[80];
			allowed_list(co->formats, list, sizeof list);
			return ctl_usage_error(co->cmd, co->usage,
					       "unknown --format '%s' (one of: %s)", optarg, list);
		}
	case CTL_OPT_TZ:
		if (ctl_tz_set(optarg) != 0)
			return ctl_usage_error(co->cmd, co->usage,
					       "--tz: no time zone '%s' is installed "
					       "(an IANA name such as Asia/Shanghai or UTC)",
					       optarg);
		return -1;
	case 'h':
	case CTL_OPT_HELP:
		fputs(co->help, stdout);
		return CTL_OK;
	case ':':
		return ctl_usage_error(co->cmd, co->usage, "option %s needs a value",
				       argv[optind - 1]);
	case '?':
	default:
		if (optopt)
			return ctl_usage_error(co->cmd, co->usage, "unknown option -%c", optopt);
		return ctl_usage_error(co->cmd, co->usage, "unknown option %s", argv[optind - 1]);
	}
}

int
ctl_parse_options(struct ctl_common *co, int argc, char **argv, const struct option *longopts,
		  const struct ctl_optval *opts, bool operands)
{
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, CTL_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		const struct ctl_optval *o = opts;
		while (o->code && o->code != c)
			o++;
		if (!o->code) {
			int r = ctl_common_option(co, c, argv);
			if (r >= 0)
				return r;
			continue;
		}
		if (o->flag)
			*o->flag = true;
		if (o->empty && optarg && !*optarg)
			return ctl_usage_error(co->cmd, co->usage, "%s", o->empty);
		if (o->parse) {
			int r = o->parse(co, optarg, o->arg);
			if (r >= 0)
				return r;
		}
		if (o->value)
			*o->value = optarg;
	}
	if (!operands && optind < argc)
		return ctl_usage_error(co->cmd, co->usage, "unexpected argument '%s'",
				       argv[optind]);
	return -1;
}

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

int
ctl_time_error(const struct ctl_common *co, const char *option, const char *value)
{
	return ctl_usage_error(co->cmd, co->usage,
			       "%s: '%s' is not a time; give RFC 3339 (2019-08-10T08:00:00Z, "
			       "2019-08-10T16:00:00+08:00) or local time in %s "
			       "('2019-08-10 16:00')",
			       option, value, ctl_tz_name());
}

int
ctl_range_parse(const struct ctl_common *co, const char *from, const char *to, int64_t *from_us,
		int64_t *to_us)
{
	if (!from || !to)
		return ctl_usage_error(co->cmd, co->usage, "--from and --to are both required");
	if (ctl_time_parse(from, from_us) != 0)
		return ctl_time_error(co, "--from", from);
	if (ctl_time_parse(to, to_us) != 0)
		return ctl_time_error(co, "--to", to);
	if (*to_us <= *from_us)
		return ctl_usage_error(co->cmd, co->usage, "--to (%s) must be after --from (%s)",
				       to, from);
	return -1;
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

int
ctl_duration_parse(const char *s, int64_t *seconds)
{
	int64_t total = 0;
	const char *p = s;
	if (!s || !*s)
		return -1;
	while (*p) {
		if (*p < '0' || *p > '9')
			return -1;
		int64_t v = 0;
		for (; *p >= '0' && *p <= '9'; p++) {
			v = v * 10 + (*p - '0');
			if (v > 100000000000LL)
				return -1;
		}
		int64_t unit = 1;
		switch (*p) {
		case 's':
			unit = 1;
			p++;
			break;
		case 'm':
			unit = 60;
			p++;
			break;
		case 'h':
			unit = 3600;
			p++;
			break;
		case 'd':
			unit = 86400;
			p++;
			break;
		case '\0':
			if (p != s && total == 0)
				break;
			return -1;
		default:
			return -1;
		}
		total += v * unit;
	}
	*seconds = total;
	return 0;
}

/* ---- queries ---------------------------------------------------------- */

PGresult *
ctl_query(PGconn *conn, const char *cmd, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	const char *msg = PQresultErrorMessage(res);
	if (!msg || !*msg)
		msg = PQerrorMessage(conn);
	fprintf(stderr, "hazgate-ctl %s: the database refused: %s", cmd, msg);
	PQclear(res);
	return NULL;
}

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

