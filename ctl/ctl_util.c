/*
 * ctl_util.c: what every hazgate-ctl command shares: messages, the common
 * options, time ranges and durations from the command line, blocking
 * parameterised queries. Times and values from results: ctl_values.c.
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
	/* The session's TimeZone is UTC: libpq sends PGTZ in the startup
	 * packet, where it overrides the role's, the database's and an
	 * options='-c TimeZone=...' setting, as a SET after connecting did,
	 * without that round trip. */
	setenv("PGTZ", "UTC", 1);
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "hazgate-ctl: cannot connect to PostgreSQL: %s",
			PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
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

