/*
 * ctl_audit.c: hazgate-ctl audit --from T --to T [--vehicle V] [--zones FILE]
 *
 * The route audit. Replays the stored positions (ts order) through the same
 * geofence engine as the daemon, with the zones in force at each fix's time
 * (rebuilt from zones_history at every change within the period; the engine
 * carries vehicle state across by zone id, as the daemon does on a reload)
 * or with the zones of a file, and reports every violation: prohibited
 * entries, route deviations, zone speeding, overspeed, dwell, and the
 * rules beyond geometry (fatigue_driving, daily_driving_exceeded,
 * night_driving, unauthorized_stop, and terminal_alarm /
 * terminal_alarm_cleared from the alarms stored with each position,
 * schema/011). For each it looks up the live alert (same vehicle, time,
 * kind, zone and alarm: the alerts table's unique key) and says whether it
 * exists and who acknowledged it.
 *
 * Limits: the engine starts empty at --from minus --warmup, so a vehicle
 * already inside a prohibited zone then gets its entry at its first fix,
 * and driving clocks start there (a --warmup of a day covers a stint);
 * fixes that reached the daemon late are replayed in time order here; a
 * report that was no position (a terminal without a fix: "positioned"
 * false) is stored nowhere, so its alarms are not re-decided, and the
 * next stored fix may raise the alarm the live one raised before.
 *
 * Every vehicle's positions (no --vehicle) are read from the tables and
 * decoded here a UTC day and a vehicle at a time (ctl_slices_each_vehicle),
 * each vehicle's fed in ts order, merged with its archived ones; the
 * violations are then put in the order a feed in (ts, vehicle) order
 * gives, so the report is that of the SQL path (HAZGATE_DAYREAD=sql:
 * hazgate_positions_all() in single-row mode, for comparison).
 *
 * --archive DIR replays the days archived there by `retention run`
 * (ctl_archive.h) too, merged with the database's rows in (ts, vehicle)
 * order; a fix in both is fed once. One archived day is held in memory
 * at a time.
 */
#include "ctl/ctl_engine.h"
#include "ctl/ctl_archive.h"
#include "ctl/ctl_slices.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"audit --from T --to T [--vehicle V] [--zones FILE] [--config FILE] [--warmup D]"
	" [--archive DIR]";

static const char help_text[] =
	"usage: hazgate-ctl audit --from T --to T [--vehicle V] [--zones FILE]\n"
	"                         [--config FILE] [--warmup D] [--format table|json|csv]\n"
	"\n"
	"Replays the stored positions from T to T through the geofence engine and lists\n"
	"every violation (prohibited_entry, route_deviation, zone_speeding, overspeed,\n"
	"dwell_exceeded, fatigue_driving, daily_driving_exceeded, night_driving,\n"
	"unauthorized_stop, terminal_alarm, terminal_alarm_cleared) with its time and\n"
	"place, and what became of the live alert:\n"
	"LIVE is 'acknowledged', 'open', or 'missing' (the daemon's alert is not in\n"
	"the alerts table).\n"
	"  --zones FILE    audit against these zones instead of the zones in force at\n"
	"                  the time (zones_history)\n"
	"  --config FILE   the daemon's configuration ([geofence] and [rules] options)\n"
	"  --vehicle V     one vehicle\n"
	"  --warmup D      feed the positions of D before --from too (state only),\n"
	"                  e.g. 1h, so that entries before the period are not reported\n"
	"  --archive DIR   also replay the days archived in DIR by 'retention run'\n"
	"A summary goes to stderr, including live alerts the audit did not reproduce.\n";

enum {
	OPT_FROM = CTL_OPT_FIRST_COMMAND,
	OPT_TO,
	OPT_VEHICLE,
	OPT_ZONES,
	OPT_CONFIG,
	OPT_WARMUP,
	OPT_ARCHIVE
};

static const struct option longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "vehicle", required_argument, NULL, OPT_VEHICLE },
	{ "zones", required_argument, NULL, OPT_ZONES },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "archive", required_argument, NULL, OPT_ARCHIVE },
	{ NULL, 0, NULL, 0 },
};

static const struct ctl_column cols[] = {
	{ "ts", "TIME", CTL_COL_LOCALTIME, 0 },
	{ "vehicle", NULL, 0, 0 },
	{ "kind", NULL, 0, 0 },
	{ "severity", NULL, CTL_COL_NOTABLE, 0 },
	{ "zone_id", "ZONE", CTL_COL_RIGHT, 0 },
	{ "zone", "ZONE_NAME", 0, 0 },
	{ "lat", NULL, 0, 0 },
	{ "lon", NULL, 0, 0 },
	{ "speed_kmh", "KM/H", CTL_COL_RIGHT, 0 },
	{ "detail", NULL, CTL_COL_NOTABLE, 0 },
	{ "live", NULL, 0, 0 },
	{ "alert_id", "ALERT", CTL_COL_RIGHT, 0 },
	{ "acked_at", "ACKED", CTL_COL_LOCALTIME, 0 },
	{ "acked_by", "BY", 0, 0 },
};

/* A zone set in force from `from_us` (until the next one's). */
struct period {
	int64_t from_us;
	gf_zoneset *zs;
};

/* An alert found while the fixes are fed a vehicle at a time: the fix
 * that raised it, to put the alerts back in the order a feed in (ts,
 * vehicle) order gives them. */
struct akey {
	int64_t ts_us;
	char *vehicle;
	size_t idx; /* its place in found */
};

struct audit {
	int64_t report_from_us;
	json_t *found; /* the violations, as alert JSON objects (id null) */
	/* a feed a vehicle at a time: the fix being fed, and each alert's */
	bool keyed, oom;
	int64_t fix_ts_us;
	const char *fix_vehicle;
	struct akey *keys;
	size_t nkeys, capkeys;
};

static bool
is_violation(enum gf_alert_kind k)
{
	return k == GF_ALERT_PROHIBITED_ENTRY || k == GF_ALERT_ROUTE_DEVIATION ||
	       k == GF_ALERT_ZONE_SPEEDING || k == GF_ALERT_OVERSPEED ||
	       k == GF_ALERT_DWELL_EXCEEDED || k == GF_ALERT_FATIGUE_DRIVING ||
	       k == GF_ALERT_DAILY_DRIVING_EXCEEDED || k == GF_ALERT_NIGHT_DRIVING ||
	       k == GF_ALERT_UNAUTHORIZED_STOP || k == GF_ALERT_TERMINAL_ALARM ||
	       k == GF_ALERT_TERMINAL_ALARM_CLEARED;
}

static void
on_alert(const struct gf_alert *a, void *arg)
{
	struct audit *au = arg;
	if (!is_violation(a->kind) || a->ts_us < au->report_from_us)
		return;
	char *line = ctl_engine_alert_json(a, -1);
	json_t *v = line ? json_loads(line, 0, NULL) : NULL;
	free(line);
	if (!v)
		return;
	json_array_append_new(au->found, v);
	if (!au->keyed)
		return;
	if (au->nkeys == au->capkeys) {
		size_t cap = au->capkeys ? 2 * au->capkeys : 256;
		struct akey *k = realloc(au->keys, cap * sizeof *k);
		if (!k) {
			au->oom = true;
			return;
		}
		au->keys = k;
		au->capkeys = cap;
	}
	struct akey *k = &au->keys[au->nkeys];
	k->ts_us = au->fix_ts_us;
	k->idx = json_array_size(au->found) - 1;
	if (!(k->vehicle = strdup(au->fix_vehicle)))
		au->oom = true;
	else
		au->nkeys++;
}

static int
akey_cmp(const void *a, const void *b)
{
	const struct akey *x = a, *y = b;
	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	int c = strcmp(x->vehicle, y->vehicle);
	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* The alerts found by a feed a vehicle at a time, put in the order of a
 * feed in (ts, vehicle) order: by the time of the fix that raised each,
 * its vehicle (byte order), then the order the engine gave them. Returns
 * 0, or -1 when out of memory (said). */
static int
audit_reorder(struct audit *au)
{
	json_t *sorted = au->oom ? NULL : json_array();
	if (sorted && au->nkeys == json_array_size(au->found)) {
		if (au->nkeys > 1)
			qsort(au->keys, au->nkeys, sizeof *au->keys, akey_cmp);
		for (size_t i = 0; i < au->nkeys; i++)
			json_array_append(sorted, json_array_get(au->found, au->keys[i].idx));
		json_decref(au->found);
		au->found = sorted;
		return 0;
	}
	json_decref(sorted);
	ctl_error("audit", "out of memory");
	return -1;
}

static int
int64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The zone sets in force over [from, to) from zones_history: one period per
 * change. Returns the number of periods (>= 1) or -1 after a message. */
static int
history_periods(PGconn *conn, int64_t from_us, int64_t to_us, struct period **out)
{
	char f[40], t[40];
	ctl_time_format(from_us, f);
	ctl_time_format(to_us, t);
	const char *params[] = { f, t };
	PGresult *res = ctl_query(conn, "audit",
				  "SELECT zone_id, feature::text,"
				  "  floor(extract(epoch FROM valid_from) * 1000000)::int8,"
				  "  floor(extract(epoch FROM valid_to) * 1000000)::int8 "
				  "FROM zones_history "
				  "WHERE valid_from < $2::timestamptz AND (valid_to IS NULL OR "
				  "valid_to > $1::timestamptz) "
				  "ORDER BY zone_id, valid_from",
				  2, params);
	if (!res)
		return -1;
	int n = PQntuples(res);
	int64_t *instants = malloc(sizeof *instants * (size_t)(2 * n + 1));
	struct period *p = NULL;
	int ni = 0, np = 0;
	if (!instants)
		goto fail;
	instants[ni++] = from_us;
	for (int i = 0; i < n; i++) {
		for (int col = 2; col <= 3; col++) {
			if (!ctl_field(res, i, col))
				continue;
			int64_t v = ctl_field_i64(res, i, col);
			if (v > from_us && v < to_us)
				instants[ni++] = v;
		}
	}
	qsort(instants, (size_t)ni, sizeof *instants, int64_cmp);
	p = calloc((size_t)ni, sizeof *p);
	if (!p)
		goto fail;
	for (int k = 0; k < ni; k++) {
		if (k > 0 && instants[k] == instants[k - 1])
			continue;
		int64_t at = instants[k];
		/* The FeatureCollection of the zones in force at `at`. */
		json_t *fc = json_pack("{s:s, s:[]}", "type", "FeatureCollection", "features");
		json_t *features = json_object_get(fc, "features");
		for (int i = 0; i < n; i++) {
			int64_t vf = ctl_field_i64(res, i, 2);
			bool open_end = ctl_field(res, i, 3) == NULL;
			int64_t vt = ctl_field_i64(res, i, 3);
			if (vf <= at && (open_end || vt > at)) {
				json_t *feat = json_loads(PQgetvalue(res, i, 1), 0, NULL);
				if (feat)
					json_array_append_new(features, feat);
			}
		}
		char *text = json_dumps(fc, JSON_COMPACT);
		size_t nz = json_array_size(features);
		json_decref(fc);
		char err[512], when[40];
		ctl_time_format(at, when);
		if (!text) {
			ctl_error("audit", "out of memory");
			goto fail;
		}
		int r = gf_zoneset_parse(text, strlen(text), &p[np].zs, err, sizeof err);
		free(text);
		if (r != GF_OK) {
			ctl_error("audit", "the zones in force at %s do not load: %s", when,
				  r == GF_EZONES ? err : gf_strerror(r));
			goto fail;
		}
		if (nz == 0)
			fprintf(stderr,
				"hazgate-ctl audit: no zones were in force at %s "
				"(zones_history); --zones FILE audits against a file\n",
				when);
		p[np++].from_us = at;
	}
	free(instants);
	PQclear(res);
	*out = p;
	return np;
fail:
	for (int k = 0; p && k < np; k++)
		gf_zoneset_free(p[k].zs);
	free(p);
	free(instants);
	PQclear(res);
	return -1;
}

/* A stored position as text, from the database or an archive; or, decoded
 * here (one vehicle: ctl_slices.h), as the values a reader of that text
 * gets (`decoded`: lat, lon, speed and alarms in the fields *_v). */
struct stored {
	const char *vehicle;
	int64_t ts_us;
	const char *lat, *lon, *speed, *hazard_class; /* speed, class: NULL for NULL */
	const char *alarms;                           /* the mask as text; NULL for NULL */
	bool decoded, has_speed, has_alarms;
	double lat_v, lon_v, speed_v;
	int32_t alarms_v;
};

/* A stored position as the fix the daemon decoded, with what the engine
 * reads. False when the row cannot have come from ingest (vehicle over 32
 * bytes, which the engine refuses anyway, or hazard class over 7): it is
 * not fed. */
static bool
position_fix(const struct stored *p, struct ing_fix *f)
{
	size_t vlen = strlen(p->vehicle), hlen = p->hazard_class ? strlen(p->hazard_class) : 0;
	memset(f, 0, sizeof *f);
	if (vlen > ING_VEHICLE_MAX || hlen > ING_CARGO_MAX)
		return false;
	memcpy(f->vehicle, p->vehicle, vlen + 1);
	f->time_us = p->ts_us;
	if (p->decoded) {
		f->lat = p->lat_v;
		f->lon = p->lon_v;
		if (p->has_speed) {
			f->present |= ING_HAS_SPEED;
			f->speed_kmh = p->speed_v;
		}
		if (p->has_alarms) {
			f->present |= ING_HAS_ALARMS;
			f->alarms = (uint32_t)p->alarms_v;
		}
		if (p->hazard_class) {
			f->present |= ING_HAS_HAZARD_CLASS;
			memcpy(f->hazard_class, p->hazard_class, hlen + 1);
		}
		return true;
	}
	f->lat = strtod(p->lat, NULL);
	f->lon = strtod(p->lon, NULL);
	if (p->speed) {
		f->present |= ING_HAS_SPEED;
		f->speed_kmh = strtod(p->speed, NULL);
	}
	if (p->hazard_class) {
		f->present |= ING_HAS_HAZARD_CLASS;
		memcpy(f->hazard_class, p->hazard_class, hlen + 1);
	}
	if (p->alarms) {
		/* The mask as stored: bit 31 made it negative. */
		f->present |= ING_HAS_ALARMS;
		f->alarms = (uint32_t)strtol(p->alarms, NULL, 10);
	}
	return true;
}

/* The database's next row (single-row mode), or NULL at the end; a
 * refusal is said once and sets *rc. */
static PGresult *
db_next(PGconn *conn, int *rc)
{
	PGresult *res;
	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_SINGLE_TUPLE)
			return res;
		if (st != PGRES_TUPLES_OK && *rc == 0) {
			fprintf(stderr, "hazgate-ctl audit: the database refused: %s",
				PQresultErrorMessage(res));
			*rc = -1;
		}
		PQclear(res);
	}
	return NULL;
}

/* The archived positions of --archive, a day at a time, in (ts, vehicle)
 * order: one day's rows in memory. */
struct archive_feed {
	const char *dir, *vehicle;
	int64_t from_us, to_us;
	int64_t day;                    /* the next day to load */
	struct ctl_arch_rows rows;
	size_t next;
};

/* The next archived row, or NULL at the end (or after an error, said, with
 * *rc set). */
static const struct ctl_arch_rec *
archive_next(struct archive_feed *af, int *rc)
{
	while (af->next == af->rows.n) {
		ctl_arch_rows_clear(&af->rows);
		af->next = 0;
		int64_t lo = ctl_day_start_us(af->day), hi = ctl_day_start_us(af->day + 1);
		if (!af->dir || lo >= af->to_us || *rc != 0)
			return NULL;
		char err[512];
		struct ctl_arch_stats st;
		int cr = ctl_arch_collect(af->dir, lo > af->from_us ? lo : af->from_us,
					  hi < af->to_us ? hi : af->to_us, af->vehicle, 0,
					  &af->rows, &st, err, sizeof err);
		if (st.note[0])
			fprintf(stderr, "hazgate-ctl audit: note: %s\n", st.note);
		if (cr != CTL_ARCH_OK) {
			ctl_error("audit", "%s", err);
			*rc = -1;
			return NULL;
		}
		af->day++;
	}
	return &af->rows.r[af->next];
}

/* The database's positions: every vehicle's from the server's
 * hazgate_positions_all() in single-row mode; one vehicle's read from
 * the tables and decoded here (ctl_slices_fetch: no SQL decoding of
 * slices, the same values). */
struct db_feed {
	PGconn *conn;
	PGresult *row;          /* every vehicle: the current row, or NULL */
	const char *vehicle;    /* one vehicle: its name, and */
	struct ctl_fixes fixes; /* its fixes of [lo, hi), ts order */
	size_t next;
	int64_t lo, hi, to_us;  /* the window read, and the end of all */
};

/* One vehicle's fixes are read a window of this many days at a time (at a
 * fix every 10 s, 60,480 fixes, about 8 MB), so that a long audit holds
 * one window, not every fix of the period. */
#define AUDIT_WINDOW_US (INT64_C(7) * 86400 * 1000000)

/* One vehicle: reads the next window when the one read is used up; false
 * at the end of the period, or after an error (said, *rc set). */
static bool
db_window(struct db_feed *df, int *rc)
{
	while (df->next >= df->fixes.n) {
		if (df->hi >= df->to_us || *rc != 0)
			return false;
		ctl_fixes_clear(&df->fixes);
		df->next = 0;
		df->lo = df->hi;
		df->hi = df->to_us - df->lo > AUDIT_WINDOW_US ? df->lo + AUDIT_WINDOW_US : df->to_us;
		char err[600];
		if (ctl_slices_fetch(df->conn, df->vehicle, df->lo, df->hi, CTL_WANT_AUDIT, &df->fixes,
				     err, sizeof err) != 0) {
			ctl_error("audit", "%s", err);
			*rc = -1;
			return false;
		}
	}
	return true;
}

/* A fix decoded here (ctl_slices.h) as the stored position the engine
 * reads: the values a reader of the server's text gets. */
static struct stored
stored_decoded(const char *vehicle, const struct ctl_fix *x)
{
	return (struct stored){ .vehicle = vehicle,
				.ts_us = x->ts_us,
				.hazard_class = x->hc,
				.decoded = true,
				.has_speed = !(x->nulls & CTL_FIX_NULL_SPEED),
				.has_alarms = !(x->nulls & CTL_FIX_NULL_ALARMS),
				.lat_v = x->lat,
				.lon_v = x->lon,
				/* the double the server's text of the real reads as */
				.speed_v = x->nulls & CTL_FIX_NULL_SPEED
						   ? 0
						   : ctl_float4_text_value(x->speed),
				.alarms_v = x->alarms };
}

/* The feed's current position in *p; false at the end. */
static bool
db_current(struct db_feed *df, struct stored *p, int *rc)
{
	if (df->vehicle) {
		if (!db_window(df, rc))
			return false;
		*p = stored_decoded(df->vehicle, &df->fixes.v[df->next]);
		return true;
	}
	if (!df->row)
		return false;
	*p = (struct stored){ .vehicle = PQgetvalue(df->row, 0, 0),
			      .ts_us = ctl_field_i64(df->row, 0, 1),
			      .lat = PQgetvalue(df->row, 0, 2),
			      .lon = PQgetvalue(df->row, 0, 3),
			      .speed = ctl_field(df->row, 0, 4),
			      .hazard_class = ctl_field(df->row, 0, 5),
			      .alarms = ctl_field(df->row, 0, 6) };
	return true;
}

static void
db_advance(struct db_feed *df, int *rc)
{
	if (df->vehicle) {
		df->next++;
		return;
	}
	PQclear(df->row);
	df->row = db_next(df->conn, rc);
}

/* Every vehicle's positions fed a vehicle at a time (ctl_slices_each_vehicle). */
/* An archived position as the stored position the engine reads. */
static struct stored
stored_archived(const struct ctl_arch_rec *ar)
{
	return (struct stored){ .vehicle = ar->v[CTL_ARCH_VEHICLE],
				.ts_us = ar->ts_us,
				.lat = ar->v[CTL_ARCH_LAT],
				.lon = ar->v[CTL_ARCH_LON],
				.speed = ar->v[CTL_ARCH_SPEED],
				.hazard_class = ar->v[CTL_ARCH_CLASS],
				.alarms = ar->v[CTL_ARCH_ALARMS] };
}

/* Every vehicle's positions fed a vehicle at a time (ctl_slices_each_vehicle),
 * with the archived ones of the day (--archive) merged in. */
struct each_feed {
	const struct decide_ctx *dc;
	const struct period *periods;
	int nperiods, cur; /* the period whose zones the engine has */
	struct audit *au;
	size_t *nfixes;
	struct ctl_arch_rows arch; /* the window's archived rows, by (vehicle, ts) */
	size_t anext;
};

/* Feeds one position with the zones in force at its time: those of the
 * last period begun at or before it, as the feed in time order has them
 * when it reaches the fix. Returns 0, or 1 when out of memory (said). */
static int
each_feed_one(struct each_feed *e, const struct stored *p)
{
	struct ing_fix fx;
	bool fits = position_fix(p, &fx);
	int k = e->nperiods - 1;
	while (k > 0 && e->periods[k].from_us > p->ts_us)
		k--;
	if (k != e->cur) {
		gf_engine_set_zones(e->dc->engine, e->periods[k].zs);
		e->cur = k;
	}
	e->au->fix_vehicle = p->vehicle;
	e->au->fix_ts_us = p->ts_us;
	/* rx_us 0: silence is the tick's, which an audit never runs. */
	if (fits && decide_fix(e->dc, &fx, 0, NULL) == GF_ENOMEM) {
		ctl_error("audit", "out of memory");
		return 1;
	}
	(*e->nfixes)++;
	return e->au->oom;
}

/* Feeds the archived rows of vehicles before `vehicle` (NULL: all left). */
static int
each_feed_archived(struct each_feed *e, const char *vehicle)
{
	for (; e->anext < e->arch.n; e->anext++) {
		const struct ctl_arch_rec *ar = &e->arch.r[e->anext];
		if (vehicle && strcmp(ar->v[CTL_ARCH_VEHICLE], vehicle) >= 0)
			break;
		struct stored p = stored_archived(ar);
		if (each_feed_one(e, &p) != 0)
			return 1;
	}
	return 0;
}

/* Feeds one vehicle's fixes (ts order) merged with its archived ones (a
 * key in both is fed once, the database's), after the archived vehicles
 * before it. */
static int
each_vehicle_fixes(const char *vehicle, const struct ctl_fixes *f, void *arg)
{
	struct each_feed *e = arg;
	if (each_feed_archived(e, vehicle) != 0)
		return 1;
	for (size_t i = 0;;) {
		/* this vehicle's next archived row, if any */
		const struct ctl_arch_rec *ar =
			e->anext < e->arch.n &&
					strcmp(e->arch.r[e->anext].v[CTL_ARCH_VEHICLE], vehicle) == 0
				? &e->arch.r[e->anext]
				: NULL;
		if (i == f->n && !ar)
			break;
		int cmp = i == f->n ? 1 : !ar ? -1 : f->v[i].ts_us < ar->ts_us ? -1 : f->v[i].ts_us > ar->ts_us;
		struct stored p = cmp > 0 ? stored_archived(ar) : stored_decoded(vehicle, &f->v[i]);
		if (each_feed_one(e, &p) != 0)
			return 1;
		if (cmp >= 0)
			e->anext++;
		if (cmp <= 0)
			i++;
	}
	return 0;
}

static int
arch_vehicle_cmp(const void *a, const void *b)
{
	const struct ctl_arch_rec *x = a, *y = b;
	int c = strcmp(x->v[CTL_ARCH_VEHICLE], y->v[CTL_ARCH_VEHICLE]);
	return c ? c : (x->ts_us > y->ts_us) - (x->ts_us < y->ts_us);
}

/* Every vehicle's positions of [from, to) read from the tables and decoded
 * here (ctl_slices_each_vehicle: no SQL decoder, no sort of the range in
 * the server), a UTC day at a time (memory: one vehicle's day, and the
 * day's archived rows with --archive), each vehicle's fed through the
 * engine in ts order; the alerts then put in the order of a feed in (ts,
 * vehicle) order, so the report is the same. Vehicles' states are apart
 * in the engine, and a zone set is the one in force at each fix's time
 * either way. */
static int
replay_each(PGconn *conn, const struct decide_ctx *dc, const struct period *periods,
	    int nperiods, struct archive_feed *af, struct audit *au, size_t *nfixes)
{
	struct each_feed e = { .dc = dc, .periods = periods, .nperiods = nperiods, .au = au,
			       .nfixes = nfixes };
	char err[600];
	int rc = 0;
	au->keyed = true;
	for (int64_t lo = af->from_us; lo < af->to_us && rc == 0;) {
		int64_t hi = ctl_day_start_us(ctl_day_of_us(lo) + 1);
		if (hi > af->to_us)
			hi = af->to_us;
		if (af->dir) {
			struct ctl_arch_stats st;
			int cr = ctl_arch_collect(af->dir, lo, hi, NULL, 0, &e.arch, &st, err,
						  sizeof err);
			if (st.note[0])
				fprintf(stderr, "hazgate-ctl audit: note: %s\n", st.note);
			if (cr != CTL_ARCH_OK) {
				ctl_error("audit", "%s", err);
				rc = -1;
				break;
			}
			if (e.arch.n > 1)
				qsort(e.arch.r, e.arch.n, sizeof *e.arch.r, arch_vehicle_cmp);
			e.anext = 0;
		}
		rc = ctl_slices_each_vehicle(conn, lo, hi, CTL_WANT_AUDIT, each_vehicle_fixes, &e,
					     err, sizeof err);
		if (rc == 0)
			rc = each_feed_archived(&e, NULL);
		if (rc < 0)
			ctl_error("audit", "%s", err);
		else if (rc > 0 && au->oom)
			ctl_error("audit", "out of memory");
		ctl_arch_rows_clear(&e.arch);
		lo = hi;
	}
	ctl_arch_rows_clear(&e.arch);
	return rc == 0 ? audit_reorder(au) : -1;
}

/* Feeds the positions through the decide step's engine half (decide_fix)
 * in (ts, vehicle) order: the database's (struct db_feed) merged with the
 * archived ones of af (a key in both is fed once, the database's). */
static int
replay_positions(PGconn *conn, const struct decide_ctx *dc, const struct period *periods,
		 int nperiods, const char *from, const char *to, const char *vehicle,
		 struct archive_feed *af, struct audit *au, size_t *nfixes)
{
	const char *params[] = { from, to };
	/* Every vehicle: decoded here, a vehicle at a time, the archive's
	 * merged in (HAZGATE_DAYREAD=sql: the SQL decoder, for comparison). */
	const char *dayread = getenv("HAZGATE_DAYREAD");
	if (!vehicle && !(dayread && strcmp(dayread, "sql") == 0))
		return replay_each(conn, dc, periods, nperiods, af, au, nfixes);
	struct db_feed df = { .conn = conn, .vehicle = vehicle, .lo = af->from_us,
			      .hi = af->from_us, .to_us = af->to_us };
	int rc = 0, next = 1;
	/* Vehicles in byte order (COLLATE "C"), the archives' and strcmp's,
	 * so that fixes of one time come in one order from either source
	 * whatever the database's collation. One vehicle: its fixes read by
	 * their keys and decoded here (ctl_slices.h); every vehicle: schema/
	 * 018's function. */
#define AUDIT_SQL(from_fn)                                                         \
	"SELECT vehicle, floor(extract(epoch FROM ts) * 1000000)::int8, lat, lon," \
	"  speed_kmh, hazard_class, alarms FROM " from_fn " ORDER BY ts, vehicle COLLATE \"C\""
	if (!vehicle) {
		if (!PQsendQueryParams(conn,
				       AUDIT_SQL("hazgate_positions_all($1::timestamptz,"
						 " $2::timestamptz)"),
				       2, NULL, params, NULL, NULL, 0) ||
		    !PQsetSingleRowMode(conn)) {
			ctl_error("audit", "the database refused: %s", PQerrorMessage(conn));
			return -1;
		}
		df.row = db_next(conn, &rc);
	}
	struct stored p, dp;
	bool db = db_current(&df, &dp, &rc);
	const struct ctl_arch_rec *ar = archive_next(af, &rc);
	while ((db || ar) && rc == 0) {
		int cmp;
		if (db) {
			p = dp;
			cmp = !ar ? -1
				  : p.ts_us != ar->ts_us ? (p.ts_us < ar->ts_us ? -1 : 1)
							  : strcmp(p.vehicle, ar->v[CTL_ARCH_VEHICLE]);
		} else {
			cmp = 1;
		}
		if (cmp > 0)
			p = stored_archived(ar);
		struct ing_fix fx;
		bool fits = position_fix(&p, &fx);
		while (next < nperiods && p.ts_us >= periods[next].from_us)
			gf_engine_set_zones(dc->engine, periods[next++].zs);
		/* rx_us 0: silence is the tick's, which an audit never runs. */
		if (fits && decide_fix(dc, &fx, 0, NULL) == GF_ENOMEM && rc == 0) {
			ctl_error("audit", "out of memory");
			rc = -1;
		}
		(*nfixes)++;
		if (cmp >= 0) {         /* the archived row was fed, or is the database's too */
			af->next++;
			ar = archive_next(af, &rc);
		}
		if (cmp <= 0) {
			db_advance(&df, &rc);
			db = db_current(&df, &dp, &rc);
		}
	}
	/* After an error: the rest of the database's rows, unread. */
	while (df.row) {
		PQclear(df.row);
		df.row = db_next(conn, &rc);
	}
	ctl_fixes_clear(&df.fixes);
	return rc;
}

int
ctl_audit_main(int argc, char **argv)
{
	struct ctl_common co = { .cmd = "audit",
				 .usage = usage_text,
				 .help = help_text,
				 .formats = CTL_FMT_TABLE | CTL_FMT_JSON | CTL_FMT_CSV,
				 .format = CTL_FMT_TABLE };
	const char *from = NULL, *to = NULL, *vehicle = NULL, *zones_path = NULL,
		   *config_path = NULL, *warmup = NULL, *archive = NULL;
	const struct ctl_optval opts[] = {
		{ .code = OPT_FROM, .value = &from },
		{ .code = OPT_TO, .value = &to },
		{ .code = OPT_VEHICLE, .value = &vehicle, .empty = "--vehicle needs a plate" },
		{ .code = OPT_ZONES, .value = &zones_path },
		{ .code = OPT_CONFIG, .value = &config_path },
		{ .code = OPT_WARMUP, .value = &warmup },
		{ .code = OPT_ARCHIVE, .value = &archive, .empty = "--archive needs a folder" },
		{ 0 },
	};
	int parsed = ctl_parse_options(&co, argc, argv, longopts, opts, false);
	if (parsed >= 0)
		return parsed;
	int64_t from_us, to_us, warm_s = 0;
	int bad = ctl_range_parse(&co, from, to, &from_us, &to_us);
	if (bad >= 0)
		return bad;
	if (warmup && ctl_duration_parse(warmup, &warm_s) != 0)
		return ctl_usage_error(co.cmd, co.usage,
				       "--warmup: '%s' is not a duration (90s, 5m, 2h, 1d)",
				       warmup);

	int rc = CTL_EUSAGE;
	struct ctl_engine_conf conf;
	gf_zoneset *file_zs = NULL;
	struct period *periods = NULL;
	int nperiods = 0;
	gf_engine *e = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	ctl_out *o = NULL;
	struct audit au = { .report_from_us = from_us, .found = json_array() };
	char *keys = NULL;
	struct archive_feed af = { 0 };

	if (ctl_engine_conf_load(&co, config_path, &conf) != CTL_OK) {
		json_decref(au.found);
		return CTL_EUSAGE;
	}
	if (zones_path && ctl_engine_zones_file(&co, zones_path, &file_zs) != CTL_OK)
		goto done;
	rc = CTL_EFAIL;
	conn = ctl_connect(co.conninfo);
	if (!conn)
		goto done;
	/* Stored floats as the shortest text that reads back exactly (the
	 * server's default): speeds are kept to 0.001 km/h and lat/lon to
	 * 1e-9 degree, the values the daemon decided on (ingest rounds them
	 * so), and a role or database set below 0 would round them again. */
	PQclear(PQexec(conn, "SET extra_float_digits = 1"));
	/* The fleet registry's routes, as the daemon has them now (the stored
	 * positions carry the cargo the daemon decided with). */
	if (ctl_engine_registry_db(&co, conn, &conf) != CTL_OK)
		goto done;
	int64_t feed_from_us = from_us - warm_s * 1000000;
	if (file_zs) {
		periods = calloc(1, sizeof *periods);
		if (!periods)
			goto done;
		periods[0].from_us = feed_from_us;
		periods[0].zs = file_zs;
		nperiods = 1;
	} else {
		nperiods = history_periods(conn, feed_from_us, to_us, &periods);
		if (nperiods < 0)
			goto done;
	}
	int er = gf_engine_new(&conf.cfg.geofence, periods[0].zs, conf.tz, &e);
	if (er != GF_OK) {
		ctl_error(co.cmd, "engine: %s", gf_strerror(er));
		goto done;
	}
	char feed_from_s[40], from_s[40], to_s[40];
	ctl_time_format(feed_from_us, feed_from_s);
	ctl_time_format(from_us, from_s);
	ctl_time_format(to_us, to_s);
	size_t nfixes = 0;
	struct decide_ctx dc;
	ctl_engine_decide(&conf, e, on_alert, &au, &dc);
	af = (struct archive_feed){ .dir = archive, .vehicle = vehicle, .from_us = feed_from_us,
				    .to_us = to_us, .day = ctl_day_of_us(feed_from_us) };
	if (replay_positions(conn, &dc, periods, nperiods, feed_from_s, to_s, vehicle, &af, &au,
			     &nfixes) != 0)
		goto done;

	/* The live alerts: one lookup by the alerts table's unique key. */
	json_t *lookup = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(au.found, i, v)
	{
		/* The alert's own JSON time (milliseconds), as the gateway stores it. */
		json_t *alarm = json_object_get(json_object_get(v, "detail"), "alarm");
		json_array_append_new(lookup, json_pack("{s:I, s:O, s:O, s:O, s:O, s:O}", "i",
							(json_int_t)i, "vehicle",
							json_object_get(v, "vehicle"), "ts",
							json_object_get(v, "ts"), "kind",
							json_object_get(v, "kind"), "zone_id",
							json_object_get(v, "zone_id"), "alarm",
							alarm ? alarm : json_null()));
	}
	keys = json_dumps(lookup, JSON_COMPACT);
	json_decref(lookup);
	if (!keys)
		goto done;
	const char *lp[] = { keys, from_s, to_s, vehicle };
	res = ctl_query(
		conn, co.cmd,
		"WITH k AS (SELECT * FROM jsonb_to_recordset($1::jsonb)"
		"           AS k(i int, vehicle text, ts timestamptz, kind text, zone_id int,"
		"                alarm text)),"
		" m AS (SELECT k.i, a.id, a.acked_at, a.acked_by FROM k"
		"       JOIN alerts a ON a.vehicle = k.vehicle AND a.ts = k.ts AND a.kind = k.kind"
		"        AND a.zone_id IS NOT DISTINCT FROM k.zone_id"
		"        AND a.detail->>'alarm' IS NOT DISTINCT FROM k.alarm) "
		"SELECT i, id, floor(extract(epoch FROM acked_at) * 1000000)::int8, acked_by,"
		"  (SELECT count(*) FROM alerts a"
		"    WHERE a.ts >= $2::timestamptz AND a.ts < $3::timestamptz"
		"      AND ($4::text IS NULL OR a.vehicle = $4::text)"
		"      AND a.kind IN ('prohibited_entry', 'route_deviation', 'zone_speeding',"
		"                     'overspeed', 'dwell_exceeded', 'fatigue_driving',"
		"                     'daily_driving_exceeded', 'night_driving',"
		"                     'unauthorized_stop', 'terminal_alarm',"
		"                     'terminal_alarm_cleared')"
		"      AND a.id NOT IN (SELECT id FROM m)) "
		"FROM (SELECT * FROM m UNION ALL SELECT NULL, NULL, NULL, NULL) AS x "
		"ORDER BY i NULLS LAST",
		4, lp);
	if (!res)
		goto done;

	o = ctl_out_new(co.format, cols, sizeof cols / sizeof cols[0], stdout, false);
	if (!o)
		goto done;
	size_t acked = 0, open = 0, missing = 0;
	int nrows = PQntuples(res);
	int64_t extra = nrows ? ctl_field_i64(res, nrows - 1, 4) : 0;
	json_array_foreach(au.found, i, v)
	{
		int m = -1;
		for (int r = 0; r < nrows - 1; r++)
			if (ctl_field_i64(res, r, 0) == (int64_t)i)
				m = r;
		json_t *row = json_object();
		static const char *const copy[] = { "ts",        "vehicle", "kind", "severity",
						    "zone_id",   "zone",    "lat",  "lon",
						    "speed_kmh", "detail" };
		for (size_t k = 0; k < sizeof copy / sizeof copy[0]; k++) {
			json_t *x = json_object_get(v, copy[k]);
			json_object_set(row, copy[k], x ? x : json_null());
		}
		if (m < 0) {
			json_object_set_new(row, "live", json_string("missing"));
			json_object_set_new(row, "alert_id", json_null());
			json_object_set_new(row, "acked_at", json_null());
			json_object_set_new(row, "acked_by", json_null());
			missing++;
		} else {
			bool is_acked = ctl_field(res, m, 2) != NULL;
			json_object_set_new(row, "live",
					    json_string(is_acked ? "acknowledged" : "open"));
			json_object_set_new(row, "alert_id", ctl_json_int(res, m, 1));
			json_object_set_new(row, "acked_at", ctl_json_time(res, m, 2));
			json_object_set_new(row, "acked_by", ctl_json_text(res, m, 3));
			if (is_acked)
				acked++;
			else
				open++;
		}
		ctl_out_row(o, row);
	}
	ctl_out_finish(o);
	fprintf(stderr,
		"audit %s .. %s: %zu fixes, %zu zone sets, %zu violations: "
		"%zu acknowledged, %zu open, %zu missing a live alert; "
		"%" PRId64 " live alerts not reproduced\n",
		from_s, to_s, nfixes, (size_t)nperiods, json_array_size(au.found), acked, open,
		missing, extra);
	rc = CTL_OK;
done:
	ctl_arch_rows_clear(&af.rows);
	ctl_out_free(o);
	PQclear(res);
	free(keys);
	if (conn)
		PQfinish(conn);
	gf_engine_free(e);
	for (int k = 0; k < nperiods; k++)
		gf_zoneset_free(periods[k].zs);
	if (nperiods == 0)
		gf_zoneset_free(file_zs);
	free(periods);
	json_decref(au.found);
	for (size_t k = 0; k < au.nkeys; k++)
		free(au.keys[k].vehicle);
	free(au.keys);
	ctl_engine_conf_clear(&conf);
	return rc;
}
