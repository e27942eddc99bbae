/*
 * ctl_alerts.c: hazgate-ctl alerts [filters] [--follow] and hazgate-ctl ack.
 *
 * alerts lists the alerts that match, in time order. --follow then keeps
 * the connection open with LISTEN hazgate_alerts and, on every notification
 * (whatever its payload: an id or the alert's JSON) and every 30 s in any
 * case, asks again for the matching alerts above a horizon a little below
 * the highest id seen so far, printing those it has not printed yet. The
 * look-back (1000 ids) catches alerts whose transaction took an id early but
 * committed late; a lost connection is re-established every 5 s.
 *
 * alerts --events ID prints one alert's trail instead (alert_events: its
 * acknowledgement and notes, oldest first).
 *
 * ack calls hazgate_ack() (schema/003_ack_trail.sql) for each alert, each
 * under a savepoint of one transaction: the function records the login
 * (session_user) as acked_by with the time, once; a second acknowledgement
 * is its error HG409 and an unknown id HG404, reported per alert while the
 * others go on. --by NAME is only a display note: it goes into the note as
 * "[by NAME]", never into acked_by. It needs only the hazgate_dispatcher
 * role.
 */
#include "ctl/ctl.h"
#include "geofence/geofence.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>


#define FOLLOW_LOOKBACK 1000
#define FOLLOW_POLL_S   30

static const char alerts_usage[] =
	"alerts [--open] [--since T] [--until T] [--vehicle V] [--kind K] [--zone Z] "
	"[--limit N] [--follow] [--format table|json|csv]  |  alerts --events ID";

static const char alerts_help[] =
	"usage: hazgate-ctl alerts [--open] [--since T] [--until T] [--vehicle V]\n"
	"                          [--kind K[,K...]] [--zone ID|NAME] [--limit N] [--follow]\n"
	"                          [--format table|json|csv]\n"
	"       hazgate-ctl alerts --events ID [--format table|json|csv]\n"
	"\n"
	"Lists alerts in time order.\n"
	"  --open          only alerts nobody has acknowledged\n"
	"  --since T       alerts at or after T;  --until T  alerts before T\n"
	"  --vehicle V     one vehicle (plate)\n"
	"  --kind K        zone_enter, zone_exit, prohibited_entry, zone_speeding,\n"
	"                  overspeed, dwell_exceeded, route_deviation, tracker_silent,\n"
	"                  tracker_resumed, fatigue_driving, daily_driving_exceeded,\n"
	"                  night_driving, unauthorized_stop, terminal_alarm,\n"
	"                  terminal_alarm_cleared; repeat or separate with commas\n"
	"  --zone Z        a zone id, or a zone name\n"
	"  --limit N       only the latest N of those (still printed in time order)\n"
	"  --follow        after the list, keep printing new alerts as they are\n"
	"                  committed (LISTEN hazgate_alerts); stop with Ctrl-C\n"
	"  --events ID     instead, alert ID's trail: its acknowledgement and notes,\n"
	"                  oldest first (time, kind, user, login, note)\n"
	"T is RFC 3339 (2019-08-10T08:00:00Z) or local 'YYYY-MM-DD HH:MM' in the\n"
	"configured time zone (--tz, $HAZGATE_TZ, default Asia/Shanghai).\n"
	"The table shows local times; json and csv give RFC 3339 UTC.\n";

enum {
	OPT_OPEN = CTL_OPT_FIRST_COMMAND,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_VEHICLE,
	OPT_KIND,
	OPT_ZONE,
	OPT_FOLLOW,
	OPT_BY,
	OPT_NOTE,
	OPT_LIMIT,
	OPT_EVENTS,
};

static const struct option alerts_longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "open", no_argument, NULL, OPT_OPEN },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "vehicle", required_argument, NULL, OPT_VEHICLE },
	{ "kind", required_argument, NULL, OPT_KIND },
	{ "zone", required_argument, NULL, OPT_ZONE },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ NULL, 0, NULL, 0 },
};

static const struct ctl_column alert_cols[] = {
	{ "id", NULL, CTL_COL_RIGHT, 6 },
	{ "kind", NULL, 0, 16 },
	{ "severity", NULL, 0, 8 },
	{ "vehicle", NULL, 0, 9 },
	{ "zone_id", "ZONE", CTL_COL_RIGHT, 4 },
	{ "zone", "ZONE_NAME", 0, 24 },
	{ "ts", "TIME", CTL_COL_LOCALTIME, 19 },
	{ "lat", NULL, 0, 10 },
	{ "lon", NULL, 0, 11 },
	{ "speed_kmh", "KM/H", CTL_COL_RIGHT, 5 },
	{ "detail", NULL, CTL_COL_NOTABLE, 0 },
	{ "acked_at", "ACKED", CTL_COL_LOCALTIME, 19 },
	{ "acked_by", "BY", 0, 0 },
	{ "ack_note", "NOTE", CTL_COL_NOTABLE, 0 },
};

/* $1 open, $2 since, $3 until, $4 vehicle, $5 kinds (text[]), $6 zone id,
 * $7 zone name, $8 above id. */
static const char alerts_sql[] =
	"SELECT id, kind, severity, vehicle, zone_id, zone_name,"
	"  floor(extract(epoch FROM ts) * 1000000)::int8, lat, lon, speed_kmh, detail::text,"
	"  floor(extract(epoch FROM acked_at) * 1000000)::int8, acked_by, ack_note "
	"FROM alerts "
	"WHERE ($1::bool IS NOT TRUE OR acked_at IS NULL)"
	"  AND ($2::timestamptz IS NULL OR ts >= $2::timestamptz)"
	"  AND ($3::timestamptz IS NULL OR ts < $3::timestamptz)"
	"  AND ($4::text IS NULL OR vehicle = $4::text)"
	"  AND ($5::text[] IS NULL OR kind = ANY ($5::text[]))"
	"  AND ($6::int IS NULL OR zone_id = $6::int)"
	"  AND ($7::text IS NULL OR zone_name = $7::text)"
	"  AND ($8::int8 IS NULL OR id > $8::int8) ";

/* An alert row as the DESIGN alert JSON plus its acknowledgement. */
static json_t *
alert_row(const PGresult *res, int i)
{
	json_t *row = json_object();
	json_object_set_new(row, "id", ctl_json_int(res, i, 0));
	json_object_set_new(row, "kind", ctl_json_text(res, i, 1));
	json_object_set_new(row, "severity", ctl_json_text(res, i, 2));
	json_object_set_new(row, "vehicle", ctl_json_text(res, i, 3));
	json_object_set_new(row, "zone_id", ctl_json_int(res, i, 4));
	json_object_set_new(row, "zone", ctl_json_text(res, i, 5));
	json_object_set_new(row, "ts", ctl_json_time(res, i, 6));
	json_object_set_new(row, "lat", ctl_json_real(res, i, 7));
	json_object_set_new(row, "lon", ctl_json_real(res, i, 8));
	json_object_set_new(row, "speed_kmh", ctl_json_real(res, i, 9));
	json_object_set_new(row, "detail", ctl_json_parse(res, i, 10));
	json_object_set_new(row, "acked_at", ctl_json_time(res, i, 11));
	json_object_set_new(row, "acked_by", ctl_json_text(res, i, 12));
	json_object_set_new(row, "ack_note", ctl_json_text(res, i, 13));
	return row;
}

struct follow {
	int64_t horizon_max; /* highest alert id seen (any alert) */
	int64_t *printed;    /* ids printed above horizon_max - FOLLOW_LOOKBACK */
	size_t nprinted, cap;
};

static bool
was_printed(const struct follow *f, int64_t id)
{
	for (size_t i = 0; i < f->nprinted; i++)
		if (f->printed[i] == id)
			return true;
	return false;
}

static void
remember(struct follow *f, int64_t id)
{
	/* Forget what fell below the look-back window. */
	size_t k = 0;
	for (size_t i = 0; i < f->nprinted; i++)
		if (f->printed[i] > f->horizon_max - FOLLOW_LOOKBACK)
			f->printed[k++] = f->printed[i];
	f->nprinted = k;
	if (id <= f->horizon_max - FOLLOW_LOOKBACK)
		return;
	if (f->nprinted == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 64;
		int64_t *n = realloc(f->printed, ncap * sizeof *n);
		if (!n)
			return; /* at worst an alert is printed twice */
		f->printed = n;
		f->cap = ncap;
	}
	f->printed[f->nprinted++] = id;
}

/* Runs the alerts query (with params[7] set by the caller; params[8] the
 * limit, or NULL) and the highest id in one snapshot; prints the rows not
 * printed yet. Returns 0 or -1. */
static int
fetch(PGconn *conn, const char *const *params, bool by_id, struct follow *f, ctl_out *o)
{
	char sql[sizeof alerts_sql + 160];
	PGresult *res = ctl_query(conn, "alerts", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
				  0, NULL);
	if (!res)
		return -1;
	PQclear(res);
	bool limited = !by_id && params[8];
	if (limited) /* the latest N, in time order: columns 7 (ts) and 1 (id) */
		snprintf(sql, sizeof sql,
			 "SELECT * FROM (%sORDER BY ts DESC, id DESC LIMIT $9::int8) "
			 "AS latest ORDER BY 7, 1",
			 alerts_sql);
	else
		snprintf(sql, sizeof sql, "%s%s", alerts_sql,
			 by_id ? "ORDER BY id" : "ORDER BY ts, id");
	res = ctl_query(conn, "alerts", sql, limited ? 9 : 8, params);
	if (!res)
		goto err;
	PGresult *mx = ctl_query(conn, "alerts", "SELECT coalesce(max(id), 0) FROM alerts", 0,
				 NULL);
	if (!mx) {
		PQclear(res);
		goto err;
	}
	int64_t max = ctl_field_i64(mx, 0, 0);
	PQclear(mx);
	PQclear(PQexec(conn, "COMMIT"));
	if (f && max > f->horizon_max)
		f->horizon_max = max;
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t id = ctl_field_i64(res, i, 0);
		if (f && was_printed(f, id))
			continue;
		ctl_out_row(o, alert_row(res, i));
		if (f)
			remember(f, id);
	}
	PQclear(res);
	return 0;
err:
	PQclear(PQexec(conn, "ROLLBACK"));
	return -1;
}

static PGconn *
follow_connect(const char *conninfo)
{
	PGconn *conn = ctl_connect(conninfo);
	if (!conn)
		return NULL;
	PGresult *res = ctl_query(conn, "alerts", "LISTEN hazgate_alerts", 0, NULL);
	if (!res) {
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);
	return conn;
}

static int
follow_loop(PGconn *conn, const char *conninfo, const char **params, struct follow *f, ctl_out *o)
{
	char above[32];
	for (;;) {
		bool refresh = false;
		if (!conn) {
			sleep(5);
			conn = follow_connect(conninfo);
			if (!conn)
				continue;
			fprintf(stderr, "hazgate-ctl alerts: connected again\n");
			refresh = true;
		} else {
			int sock = PQsocket(conn);
			fd_set rd;
			FD_ZERO(&rd);
			FD_SET(sock, &rd);
			struct timeval tv = { .tv_sec = FOLLOW_POLL_S, .tv_usec = 0 };
			int n = select(sock + 1, &rd, NULL, NULL, &tv);
			if (n < 0 && errno != EINTR) {
				ctl_error("alerts", "select: %s", strerror(errno));
				PQfinish(conn);
				return CTL_EFAIL;
			}
			if (n == 0)
				refresh = true;
			if (n > 0) {
				if (!PQconsumeInput(conn)) {
					fprintf(stderr, "hazgate-ctl alerts: connection lost: %s",
						PQerrorMessage(conn));
					PQfinish(conn);
					conn = NULL;
					continue;
				}
				PGnotify *nt;
				while ((nt = PQnotifies(conn)) != NULL) {
					refresh = true;
					PQfreemem(nt);
				}
			}
		}
		if (!refresh)
			continue;
		snprintf(above, sizeof above, "%" PRId64, f->horizon_max - FOLLOW_LOOKBACK);
		params[7] = above;
		if (fetch(conn, params, true, f, o) != 0 && PQstatus(conn) != CONNECTION_OK) {
			PQfinish(conn);
			conn = NULL;
		}
	}
}

/* alerts --events ID: the alert's trail. user is the board's user, else
 * the login; login is NULL only for acknowledgements made before the trail
 * existed (migration 003). Exit 1 when there is no such alert. */
static int
print_events(const struct ctl_common *co, const char *id)
{
	static const struct ctl_column cols[] = {
		{ "ts", "TIME", CTL_COL_LOCALTIME, 0 },
		{ "kind", NULL, 0, 0 },
		{ "user", NULL, 0, 0 },
		{ "login", NULL, 0, 0 },
		{ "note", NULL, 0, 0 },
	};
	PGconn *conn = ctl_connect(co->conninfo);
	if (!conn)
		return CTL_EFAIL;
	const char *params[] = { id };
	/* One row with a NULL kind: the alert exists and has no events. */
	PGresult *res = ctl_query(conn, co->cmd,
				  "SELECT floor(extract(epoch FROM e.ts) * 1000000)::int8, e.kind,"
				  "  coalesce(e.board_user, e.login), e.login, e.note "
				  "FROM alerts a LEFT JOIN alert_events e ON e.alert_id = a.id "
				  "WHERE a.id = $1::int8 ORDER BY e.id",
				  1, params);
	PQfinish(conn);
	if (!res)
		return CTL_EFAIL;
	if (PQntuples(res) == 0) {
		PQclear(res);
		ctl_error(co->cmd, "there is no alert %s", id);
		return CTL_EFAIL;
	}
	ctl_out *o = ctl_out_new(co->format, cols, sizeof cols / sizeof cols[0], stdout, false);
	if (!o) {
		PQclear(res);
		return CTL_EFAIL;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		if (!ctl_field(res, i, 1))
			continue;
		json_t *row = json_object();
		json_object_set_new(row, "ts", ctl_json_time(res, i, 0));
		json_object_set_new(row, "kind", ctl_json_text(res, i, 1));
		json_object_set_new(row, "user", ctl_json_text(res, i, 2));
		json_object_set_new(row, "login", ctl_json_text(res, i, 3));
		json_object_set_new(row, "note", ctl_json_text(res, i, 4));
		ctl_out_row(o, row);
	}
	PQclear(res);
	ctl_out_finish(o);
	ctl_out_free(o);
	return CTL_OK;
}

/* --limit N, --events ID: a positive number; arg is the option's name. */
static int
check_positive(const struct ctl_common *co, const char *value, void *arg)
{
	const char *option = arg;
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (!*value || *end || errno || v < 1)
		return ctl_usage_error(co->cmd, co->usage, "%s: '%s' is not a positive number",
				       option, value);
	return -1;
}

#define KINDS_LEN 512

/* --kind K[,K...], repeatable: each kind is known; they are gathered in arg
 * (KINDS_LEN bytes) as a PostgreSQL array literal without its closing
 * brace ("{zone_enter,overspeed"). */
static int
add_kinds(const struct ctl_common *co, const char *value, void *arg)
{
	char *kinds = arg;
	char *copy = strdup(value), *save = NULL;
	for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		bool known = false;
		char names[512] = "";
		/* the engine's kinds, by its own names */
		for (int i = 0; i < GF_ALERT_KIND_COUNT; i++) {
			const char *n = gf_alert_kind_name((enum gf_alert_kind)i);
			known |= strcmp(k, n) == 0;
			snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
				 i ? ", " : "", n);
		}
		if (!known) {
			ctl_usage_error(co->cmd, co->usage,
					"--kind: unknown alert kind '%s' (%s)", k, names);
			free(copy);
			return CTL_EUSAGE;
		}
		if (strlen(kinds) + strlen(k) + 3 < KINDS_LEN) {
			strcat(kinds, kinds[0] ? "," : "{");
			strcat(kinds, k);
		}
	}
	free(copy);
	return -1;
}

int
ctl_alerts_main(int argc, char **argv)
{
	struct ctl_common co = { .cmd = "alerts",
				 .usage = alerts_usage,
				 .help = alerts_help,
				 .formats = CTL_FMT_TABLE | CTL_FMT_JSON | CTL_FMT_CSV,
				 .format = CTL_FMT_TABLE };
	bool open = false, follow = false;
	const char *since = NULL, *until = NULL, *vehicle = NULL, *zone = NULL, *limit = NULL;
	const char *events = NULL;
	char kinds[KINDS_LEN] = "";
	const struct ctl_optval opts[] = {
		{ .code = OPT_OPEN, .flag = &open },
		{ .code = OPT_SINCE, .value = &since },
		{ .code = OPT_UNTIL, .value = &until },
		{ .code = OPT_VEHICLE, .value = &vehicle, .empty = "--vehicle needs a plate" },
		{ .code = OPT_ZONE, .value = &zone, .empty = "--zone needs an id or a name" },
		{ .code = OPT_FOLLOW, .flag = &follow },
		{ .code = OPT_LIMIT,
		  .value = &limit,
		  .parse = check_positive,
		  .arg = (void *)"--limit" },
		{ .code = OPT_KIND, .parse = add_kinds, .arg = kinds },
		{ .code = OPT_EVENTS,
		  .value = &events,
		  .parse = check_positive,
		  .arg = (void *)"--events" },
		{ 0 },
	};
	int parsed = ctl_parse_options(&co, argc, argv, alerts_longopts, opts, false);
	if (parsed >= 0)
		return parsed;
	if (events) {
		if (open || follow || since || until || vehicle || zone || limit || kinds[0])
			return ctl_usage_error(co.cmd, co.usage,
					       "--events ID takes no filter and no --follow");
		return print_events(&co, events);
	}
	if (kinds[0])
		strcat(kinds, "}");
	char since_s[40], until_s[40], zone_id[24];
	int64_t since_us = 0, until_us = 0;
	if (since) {
		if (ctl_time_parse(since, &since_us) != 0)
			return ctl_time_error(&co, "--since", since);
		ctl_time_format(since_us, since_s);
	}
	if (until) {
		if (ctl_time_parse(until, &until_us) != 0)
			return ctl_time_error(&co, "--until", until);
		ctl_time_format(until_us, until_s);
	}
	if (since && until && until_us <= since_us)
		return ctl_usage_error(co.cmd, co.usage, "--until (%s) must be after --since (%s)",
				       until, since);
	const char *zone_name = NULL;
	const char *zone_idp = NULL;
	if (zone) {
		char *end;
		errno = 0;
		long v = strtol(zone, &end, 10);
		if (*end == '\0' && errno == 0 && v >= INT32_MIN && v <= INT32_MAX) {
			snprintf(zone_id, sizeof zone_id, "%ld", v);
			zone_idp = zone_id;
		} else {
			zone_name = zone;
		}
	}
	const char *params[9] = {
		open ? "true" : NULL,
		since ? since_s : NULL,
		until ? until_s : NULL,
		vehicle,
		kinds[0] ? kinds : NULL,
		zone_idp,
		zone_name,
		NULL,
		limit,
	};

	PGconn *conn = follow ? follow_connect(co.conninfo) : ctl_connect(co.conninfo);
	if (!conn)
		return CTL_EFAIL;
	ctl_out *o = ctl_out_new(co.format, alert_cols, sizeof alert_cols / sizeof alert_cols[0],
				 stdout, follow);
	struct follow f = { 0 };
	int rc = CTL_OK;
	if (!o || fetch(conn, params, false, follow ? &f : NULL, o) != 0) {
		rc = CTL_EFAIL;
		goto done;
	}
	if (follow) {
		rc = follow_loop(conn, co.conninfo, params, &f, o);
		conn = NULL; /* follow_loop owns it */
		goto done;
	}
	ctl_out_finish(o);
done:
	ctl_out_free(o);
	free(f.printed);
	if (conn)
		PQfinish(conn);
	return rc;
}

/* ---- ack -------------------------------------------------------------- */

static const char ack_usage[] = "ack ALERT_ID... [--by NAME] [--note TEXT]";

static const char ack_help[] =
	"usage: hazgate-ctl ack ALERT_ID... [--by NAME] [--note TEXT] [--format table|json|csv]\n"
	"\n"
	"Acknowledges open alerts. The database records the time and your login\n"
	"(acked_by), once: that is who acknowledged, whatever --by says.\n"
	"  --note TEXT     a note kept with the acknowledgement\n"
	"  --by NAME       a display name (a shared terminal's duty officer): kept in\n"
	"                  the note as \"[by NAME]\", beside the recorded login\n"
	"An alert acknowledged before is left as it was, and the output says by whom.\n"
	"The acknowledgement is in the alert's trail: hazgate-ctl alerts --events ID.\n"
	"Needs only the hazgate_dispatcher role.\n"
	"Exit 0 when every alert is now acknowledged, 1 when an id does not exist.\n";

static const struct option ack_longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "by", required_argument, NULL, OPT_BY },
	{ "note", required_argument, NULL, OPT_NOTE },
	{ NULL, 0, NULL, 0 },
};

enum ack_result { ACK_DONE, ACK_BEFORE, ACK_NO_SUCH };

/* Acknowledges one alert under a savepoint of the open transaction.
 * Returns 0 and *result, or -1 when the database refused otherwise (the
 * message is printed; the caller rolls back). */
static int
ack_one(PGconn *conn, const char *id, const char *note, enum ack_result *result)
{
	PGresult *r = ctl_query(conn, "ack", "SAVEPOINT ack_one", 0, NULL);
	if (!r)
		return -1;
	PQclear(r);
	const char *params[] = { id, note };
	r = PQexecParams(conn, "SELECT hazgate_ack($1::int8, $2)", 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		PQclear(r);
		*result = ACK_DONE;
		return 0;
	}
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	state = state ? state : "";
	if (strcmp(state, "HG409") == 0 || strcmp(state, "HG404") == 0) {
		*result = strcmp(state, "HG409") == 0 ? ACK_BEFORE : ACK_NO_SUCH;
		PQclear(r);
		r = ctl_query(conn, "ack", "ROLLBACK TO SAVEPOINT ack_one", 0, NULL);
		if (!r)
			return -1;
		PQclear(r);
		return 0;
	}
	const char *msg = PQresultErrorMessage(r);
	fprintf(stderr, "hazgate-ctl ack: the database refused: %s",
		msg && *msg ? msg : PQerrorMessage(conn));
	if (strcmp(state, "42501") == 0)
		fprintf(stderr,
			"hazgate-ctl ack: acknowledging needs the hazgate_dispatcher role\n");
	else if (strcmp(state, "42883") == 0) /* undefined_function */
		fprintf(stderr, "hazgate-ctl ack: the database lacks migration 003_ack_trail "
				"(run hazgate-ctl migrate)\n");
	PQclear(r);
	return -1;
}

int
ctl_ack_main(int argc, char **argv)
{
	static const struct ctl_column cols[] = {
		{ "id", NULL, CTL_COL_RIGHT, 0 },
		{ "result", NULL, 0, 0 },
		{ "kind", NULL, 0, 0 },
		{ "vehicle", NULL, 0, 0 },
		{ "ts", "TIME", CTL_COL_LOCALTIME, 0 },
		{ "acked_at", "ACKED", CTL_COL_LOCALTIME, 0 },
		{ "acked_by", "BY", 0, 0 },
		{ "ack_note", "NOTE", 0, 0 },
	};
	struct ctl_common co = { .cmd = "ack",
				 .usage = ack_usage,
				 .help = ack_help,
				 .formats = CTL_FMT_TABLE | CTL_FMT_JSON | CTL_FMT_CSV,
				 .format = CTL_FMT_TABLE };
	const char *by = NULL, *note = NULL;
	const struct ctl_optval opts[] = {
		{ .code = OPT_BY, .value = &by, .empty = "--by needs a name (or leave it out)" },
		{ .code = OPT_NOTE, .value = &note },
		{ 0 },
	};
	int parsed = ctl_parse_options(&co, argc, argv, ack_longopts, opts, true);
	if (parsed >= 0)
		return parsed;
	if (optind >= argc)
		return ctl_usage_error(co.cmd, co.usage,
				       "which alerts? give one or more alert ids");
	if ((by && strlen(by) > 200) || (note && strlen(note) > 2000))
		return ctl_usage_error(co.cmd, co.usage, "--by or --note is too long");

	/* The note as stored: "[by NAME] TEXT", "[by NAME]", TEXT or none. */
	char *full_note = NULL;
	if (by) {
		size_t len = strlen(by) + (note ? strlen(note) : 0) + 8;
		full_note = malloc(len);
		if (!full_note)
			return CTL_EFAIL;
		snprintf(full_note, len, "[by %s]%s%s", by, note && *note ? " " : "",
			 note ? note : "");
		note = full_note;
		if (strlen(note) > 2000) {
			free(full_note);
			return ctl_usage_error(co.cmd, co.usage,
					       "--by and --note together are too long");
		}
	}

	/* The ids, each once in the order given, and as a PostgreSQL array. */
	size_t n = (size_t)(argc - optind), nids = 0;
	long long *idv = malloc(n * sizeof *idv);
	enum ack_result *result = malloc(n * sizeof *result);
	char *ids = malloc(n * 21 + 3);
	int rc = CTL_EFAIL;
	PGresult *sel = NULL;
	ctl_out *o = NULL;
	PGconn *conn = NULL;
	if (!idv || !result || !ids)
		goto done;
	size_t used = 0;
	ids[used++] = '{';
	for (int i = optind; i < argc; i++) {
		char *end;
		errno = 0;
		long long v = strtoll(argv[i], &end, 10);
		if (!*argv[i] || *end || errno || v <= 0) {
			rc = ctl_usage_error(co.cmd, co.usage,
					     "'%s' is not an alert id (a positive integer, as "
					     "hazgate-ctl alerts shows)",
					     argv[i]);
			goto done;
		}
		bool dup = false;
		for (size_t k = 0; k < nids; k++)
			dup |= idv[k] == v;
		if (dup)
			continue;
		used += (size_t)sprintf(ids + used, "%s%lld", nids ? "," : "", v);
		idv[nids++] = v;
	}
	ids[used++] = '}';
	ids[used] = '\0';

	conn = ctl_connect(co.conninfo);
	if (!conn)
		goto done;
	PGresult *r = ctl_query(conn, "ack", "BEGIN", 0, NULL);
	if (!r)
		goto done;
	PQclear(r);
	for (size_t k = 0; k < nids; k++) {
		char id[24];
		snprintf(id, sizeof id, "%lld", idv[k]);
		if (ack_one(conn, id, note, &result[k]) != 0)
			goto rollback;
	}
	const char *sp[] = { ids };
	sel = ctl_query(conn, "ack",
			"SELECT id, kind, vehicle, floor(extract(epoch FROM ts) * 1000000)::int8,"
			"  floor(extract(epoch FROM acked_at) * 1000000)::int8, acked_by, ack_note "
			"FROM alerts WHERE id = ANY ($1::int8[])",
			1, sp);
	if (!sel)
		goto rollback;
	r = ctl_query(conn, "ack", "COMMIT", 0, NULL);
	if (!r)
		goto done;
	PQclear(r);

	o = ctl_out_new(co.format, cols, sizeof cols / sizeof cols[0], stdout, false);
	if (!o)
		goto done;
	rc = CTL_OK;
	for (size_t k = 0; k < nids; k++) {
		json_t *row = json_object();
		json_object_set_new(row, "id", json_integer(idv[k]));
		int s = -1;
		for (int i = 0; i < PQntuples(sel); i++)
			if (ctl_field_i64(sel, i, 0) == idv[k])
				s = i;
		if (s < 0 || result[k] == ACK_NO_SUCH) {
			json_object_set_new(row, "result", json_string("no such alert"));
			ctl_error("ack", "there is no alert %lld", idv[k]);
			rc = CTL_EFAIL;
			ctl_out_row(o, row);
			continue;
		}
		json_object_set_new(row, "result",
				    json_string(result[k] == ACK_DONE ? "acknowledged"
								      : "already acknowledged"));
		json_object_set_new(row, "kind", ctl_json_text(sel, s, 1));
		json_object_set_new(row, "vehicle", ctl_json_text(sel, s, 2));
		json_object_set_new(row, "ts", ctl_json_time(sel, s, 3));
		json_object_set_new(row, "acked_at", ctl_json_time(sel, s, 4));
		json_object_set_new(row, "acked_by", ctl_json_text(sel, s, 5));
		json_object_set_new(row, "ack_note", ctl_json_text(sel, s, 6));
		ctl_out_row(o, row);
	}
	ctl_out_finish(o);
	goto done;
rollback:
	PQclear(PQexec(conn, "ROLLBACK"));
done:
	ctl_out_free(o);
	PQclear(sel);
	free(ids);
	free(idv);
	free(result);
	free(full_note);
	if (conn)
		PQfinish(conn);
	return rc;
}
