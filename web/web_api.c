/*
 * web_api.c - hazgate-web's /api/v1 endpoints, once the caller is known
 * (web_auth.c): the role each needs, its parameters, its statement, its
 * answer. The JSON of lists is made by PostgreSQL (json_agg over
 * schema/004_web.sql's hazgate_web_alert and hazgate_web_time) and passed
 * on as is; the track is read and written as hazgate-ctl track does it
 * (ctl_slices_fetch, ctl_track_write_fixes) on the exporter thread, on
 * that thread's own blocking connection (web_export.c).
 *
 *   viewer      GET alerts, alerts/{id}/events, vehicles, vehicles/{plate},
 *               vehicles/{plate}/track, zones, stream, config
 *   dispatcher  POST alerts/{id}/ack
 *   session     DELETE session (log out)
 */
#include "web/web-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "common/hz_clock.h"
#include "common/hz_log.h"
#include "common/hz_time.h"
#include "ctl/ctl.h"
#include "ctl/ctl_slices.h"
#include "geofence/geofence.h"
#include "web/web_stream.h"

/* ---- helpers ---------------------------------------------------------------- */

static void
time_param(struct web_call *c, int i, int64_t us)
{
	hz_time_format(us, HZ_TIME_US, c->pbuf[i]);
	c->params[i] = c->pbuf[i];
}

/* The one text value of a statement (a JSON document made by PostgreSQL)
 * into c->out. */
static void
on_text(void *arg, const PGresult *res)
{
	struct web_call *c = arg;

	if (!web_result_ok(c, res) || PQntuples(res) < 1 || PQnfields(res) < 1)
		return;
	c->found = !PQgetisnull(res, 0, 0);
	if (c->found) {
		evbuffer_add(c->out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
		evbuffer_add(c->out, "\n", 1);
	}
}

static bool
db_failed(struct web_call *c, int err, const char *msg)
{
	if (!err && !c->sqlstate[0])
		return false;
	hz_log(HZ_LOG_ERROR, "api_failed", "path=\"%s\" sqlstate=%s why=\"%s\"",
	       evhttp_request_get_uri(c->req), c->sqlstate[0] ? c->sqlstate : "-",
	       c->sqlstate[0] ? c->errmsg : msg ? msg : "");
	web_reply_error(c, 503, "the database is not available");
	return true;
}

/* Answer the document in c->out (of type c->doc_type; NULL: JSON), or,
 * when none was made, 404 (a statement that found nothing) or 500 (a
 * writer out of memory: c->doc_made). */
static void
doc_done(struct web_call *c, int err, const char *msg)
{
	if (db_failed(c, err, msg))
		return;
	if (!c->found) {
		if (c->doc_made)
			web_reply_error(c, 500, "out of memory");
		else
			web_reply_error(c, 404, "not found");
		return;
	}
	web_reply(c, 200, c->doc_type);
}

/* An endpoint without query parameters whose statement makes the JSON
 * document (c->params set by the caller). */
static void
run_doc(struct web_call *c, const char *sql, int nparams)
{
	struct web_bad bad;

	if (web_parse_no_query(c->query, &bad) != 0) {
		web_reply_bad(c, &bad);
		return;
	}
	web_job_set(c, 0, sql, nparams, on_text);
	web_db_run(c, doc_done);
}

/* ---- GET /api/v1/config ------------------------------------------------------------ */

static void
get_config(struct web_call *c)
{
	const struct web_config *cfg = &c->w->cfg;
	bool in = c->who.role != WEB_ROLE_NONE;
	json_t *j = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s, s:i, s:i}",
			      "tiles_url", cfg->web.tiles_url, "timezone", cfg->web.timezone,
			      "user", in ? c->who.user : NULL,
			      "role", in ? web_role_name(c->who.role) : NULL,
			      "csrf", in && !c->who.by_token ? c->who.csrf : NULL,
			      "stream", "/api/v1/stream", "vendor", "/vendor/leaflet/",
			      "session_idle_s", cfg->web.session_idle_s,
			      "session_max_s", cfg->web.session_max_s);

	web_json_reply(c, 200, j);
}

/* ---- GET /api/v1/alerts ------------------------------------------------------------ */

#define ALERTS_WHERE \
	"SELECT * FROM alerts WHERE ($1::bool IS NOT TRUE OR acked_at IS NULL)" \
	" AND ($2::text[] IS NULL OR kind = ANY ($2::text[]))" \
	" AND ($3::text IS NULL OR severity = $3::text)" \
	" AND ($4::text IS NULL OR vehicle = $4::text)" \
	" AND ($5::int IS NULL OR zone_id = $5::int)" \
	" AND ($6::int8 IS NULL OR id > $6::int8)" \
	" AND ($7::timestamptz IS NULL OR ts >= $7::timestamptz)" \
	" AND ($8::timestamptz IS NULL OR ts < $8::timestamptz)"

static const char alerts_newest_sql[] =
	"SELECT coalesce(json_agg(hazgate_web_alert(a) ORDER BY a.ts DESC, a.id DESC), '[]')::text"
	" FROM (" ALERTS_WHERE " ORDER BY ts DESC, id DESC LIMIT $9::int) a";
static const char alerts_since_sql[] =
	"SELECT coalesce(json_agg(hazgate_web_alert(a) ORDER BY a.id), '[]')::text"
	" FROM (" ALERTS_WHERE " ORDER BY id LIMIT $9::int) a";

static void
get_alerts(struct web_call *c)
{
	struct web_alerts_q q;
	struct web_bad bad;

	if (web_parse_alerts_query(c->query, &q, &bad) != 0) {
		web_reply_bad(c, &bad);
		return;
	}
	memset(c->params, 0, sizeof(c->params));
	c->params[0] = q.open ? "true" : NULL;
	if (q.kinds[0]) {
		snprintf(c->kinds, sizeof(c->kinds), "{%s}", q.kinds);
		c->params[1] = c->kinds;
	}
	c->params[2] = q.severity[0] ? q.severity : NULL;
	if (q.vehicle[0]) {
		snprintf(c->pbuf[3], sizeof(c->pbuf[3]), "%s", q.vehicle);
		c->params[3] = c->pbuf[3];
	}
	if (q.has_zone) {
		snprintf(c->pbuf[4], sizeof(c->pbuf[4]), "%lld", (long long)q.zone);
		c->params[4] = c->pbuf[4];
	}
	if (q.has_since_id) {
		snprintf(c->pbuf[5], sizeof(c->pbuf[5]), "%lld", (long long)q.since_id);
		c->params[5] = c->pbuf[5];
	}
	if (q.has_from)
		time_param(c, 6, q.from_us);
	if (q.has_to)
		time_param(c, 7, q.to_us);
	snprintf(c->pbuf[8], sizeof(c->pbuf[8]), "%d", q.limit);
	c->params[8] = c->pbuf[8];
	web_job_set(c, 0, q.has_since_id ? alerts_since_sql : alerts_newest_sql, 9, on_text);
	web_db_run(c, doc_done);
}

/* ---- POST /api/v1/alerts/{id}/ack -------------------------------------------------- */

static void
ack_done(struct web_call *c, int err, const char *msg)
{
	if (!err && !strcmp(c->sqlstate, "HG404")) {
		web_reply_error(c, 404, "there is no alert %lld", (long long)c->path.id);
		return;
	}
	if (!err && !strcmp(c->sqlstate, "HG409")) {
		web_reply_error(c, 409, "%s", c->errmsg);
		return;
	}
	if (!err && !strcmp(c->sqlstate, "22023")) {
		web_reply_error(c, 400, "note: %s", c->errmsg);
		return;
	}
	if (db_failed(c, err, msg))
		return;
	c->w->n.acks++;
	hz_log(HZ_LOG_INFO, "ack", "alert=%lld user=\"%s\" address=%s note=%s",
	       (long long)c->path.id, c->who.user, c->addr, c->note ? "yes" : "no");
	web_reply(c, 200, NULL);
}

static void
on_ack(void *arg, const PGresult *res)
{
	(void)web_result_ok(arg, res);
}

static void
on_acked_alert(void *arg, const PGresult *res)
{
	struct web_call *c = arg;

	if (c->sqlstate[0])     /* the ack was refused: keep its reason */
		return;
	on_text(arg, res);
}

static void
post_ack(struct web_call *c)
{
	static const char ack_sql[] = "SELECT hazgate_ack($1::int8, $2::text, $3::text)";
	static const char alert_sql[] =
		"SELECT hazgate_web_alert(a)::text FROM alerts a WHERE id = $1::int8";
	struct web_bad bad;
	char *body = NULL;
	size_t len = 0;
	int rc;

	if (web_parse_no_query(c->query, &bad) != 0) {
		web_reply_bad(c, &bad);
		return;
	}
	if (web_body(c, &body, &len) != 0) {
		web_reply_error(c, 500, "out of memory");
		return;
	}
	rc = web_parse_ack(body, len, &c->note, &bad);
	free(body);
	if (rc != 0) {
		web_reply_bad(c, &bad);
		return;
	}
	snprintf(c->pbuf[0], sizeof(c->pbuf[0]), "%lld", (long long)c->path.id);
	c->params[0] = c->pbuf[0];
	c->params[1] = c->note;
	c->params[2] = c->who.user;
	web_job_set(c, 0, ack_sql, 3, on_ack);
	web_job_set(c, 1, alert_sql, 1, on_acked_alert);
	web_db_run(c, ack_done);
}

/* ---- GET /api/v1/alerts/{id}/events -------------------------------------------------- */

static void
get_events(struct web_call *c)
{
	static const char sql[] =
		"SELECT CASE WHEN EXISTS (SELECT 1 FROM alerts WHERE id = $1::int8) THEN"
		" coalesce((SELECT json_agg(json_build_object('id', e.id,"
		"  'ts', hazgate_web_time(e.ts), 'kind', e.kind,"
		"  'user', coalesce(e.board_user, e.login), 'note', e.note) ORDER BY e.id)"
		"  FROM alert_events e WHERE e.alert_id = $1::int8), '[]')::text END";

	snprintf(c->pbuf[0], sizeof(c->pbuf[0]), "%lld", (long long)c->path.id);
	c->params[0] = c->pbuf[0];
	run_doc(c, sql, 1);
}

/* ---- GET /api/v1/vehicles[/{plate}] ------------------------------------------------- */

/* Each vehicle the fleet registry or the gateway's state knows; its last
 * fix is its latest stored position (hazgate_positions_last, schema/012:
 * the newest row, else the newest slice). */
#define VEHICLES_SELECT \
	"SELECT k.vehicle, coalesce(p.un, r.un) AS un," \
	"  coalesce(p.hazard_class, r.hazard_class) AS hazard_class, r.carrier," \
	"  CASE WHEN p.ts IS NULL THEN NULL ELSE json_build_object('ts', hazgate_web_time(p.ts)," \
	"   'lat', p.lat, 'lon', p.lon, 'speed_kmh', p.speed_kmh, 'heading', p.heading) END" \
	"   AS last_fix," \
	"  coalesce(to_json(p.zone_ids), '[]') AS zone_ids," \
	"  (SELECT count(*) FROM alerts a WHERE a.vehicle = k.vehicle AND a.acked_at IS NULL)" \
	"   AS open_alerts" \
	" FROM (SELECT vehicle FROM vehicles UNION SELECT vehicle FROM vehicle_state) k" \
	" LEFT JOIN vehicles r ON r.vehicle = k.vehicle" \
	" LEFT JOIN vehicle_state s ON s.vehicle = k.vehicle" \
	" LEFT JOIN LATERAL hazgate_positions_last(k.vehicle) p ON true"

static void
get_vehicles(struct web_call *c)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(v ORDER BY v.vehicle), '[]')::text FROM ("
		VEHICLES_SELECT ") v";

	run_doc(c, sql, 0);
}

static void
get_vehicle(struct web_call *c)
{
	/* One vehicle, with its open alerts (newest first) as "alerts". */
	static const char sql[] =
		"SELECT (to_jsonb(v) || jsonb_build_object('alerts', coalesce((SELECT"
		"  jsonb_agg(hazgate_web_alert(a) ORDER BY a.ts DESC, a.id DESC) FROM alerts a"
		"  WHERE a.vehicle = v.vehicle AND a.acked_at IS NULL), '[]')))::text FROM ("
		VEHICLES_SELECT " WHERE k.vehicle = $1) v";

	c->params[0] = c->path.vehicle;
	run_doc(c, sql, 1);
}

/* ---- GET /api/v1/vehicles/{plate}/track ---------------------------------------------- */

static const char *const track_types[] = {
	"application/geo+json", "application/gpx+xml; charset=utf-8", "text/csv; charset=utf-8",
};

/* On the exporter's thread: the fixes read as hazgate-ctl track reads them
 * (web_export.c: the tables in binary, the slices decoded in C, on the
 * thread's own connection), then written by its writer
 * (ctl_track_write_fixes) into c->text: the bytes of hazgate-ctl track.
 * A failed read sets c->read_failed; c->text stays NULL out of memory. */
static void
track_work(struct web_call *c)
{
	static const enum ctl_format fmts[] = { CTL_FMT_GEOJSON, CTL_FMT_GPX, CTL_FMT_CSV };
	enum ctl_format fmt = fmts[c->track.format];
	struct ctl_fixes f = { 0 };
	FILE *fp;
	int rc;

	if (web_export_fetch(c->w->export, c->path.vehicle, c->track.from_us, c->track.to_us,
			     ctl_track_want(fmt), &f, &c->export_connected, c->errmsg,
			     sizeof(c->errmsg)) != 0) {
		c->read_failed = true;
		return;
	}
	fp = open_memstream(&c->text, &c->textlen);
	if (fp) {
		rc = ctl_track_write_fixes(fp, fmt, c->path.vehicle, c->pbuf[1], c->pbuf[2], &f);
		if (fclose(fp) != 0 || rc != 0) {
			free(c->text);
			c->text = NULL;
		}
	}
	ctl_fixes_clear(&f);
}

static void
track_written(struct web_call *c)
{
	if (c->w->stopping) {
		web_call_free(c);
		return;
	}
	if (c->export_connected)
		hz_log(c->read_failed ? HZ_LOG_WARN : HZ_LOG_INFO, "export_connected",
		       "ok=%s", c->read_failed ? "no" : "yes");
	if (c->read_failed) {
		c->w->n.db_errors++;
		db_failed(c, NET_PG_ELINK, c->errmsg);
		return;
	}
	if (!c->text) {
		web_reply_error(c, 500, "out of memory");
		return;
	}
	evbuffer_add(c->out, c->text, c->textlen);
	web_reply(c, 200, track_types[c->track.format]);
}

static void
get_track(struct web_call *c)
{
	struct web_bad bad;

	if (web_parse_track_query(c->query, &c->track, &bad) != 0) {
		web_reply_bad(c, &bad);
		return;
	}
	/* The range as hazgate-ctl track writes it (ctl_time_format). */
	ctl_time_format(c->track.from_us, c->pbuf[1]);
	ctl_time_format(c->track.to_us, c->pbuf[2]);
	if (!web_worker_run(c->w->exporter, c, track_work, track_written))
		web_reply_error(c, 503, "too many exports at once; try again");
}

/* ---- GET /api/v1/zones[?at=T] ---------------------------------------------------------- */

/* A GeoJSON coordinates value ([lon, lat] positions, nested in arrays to
 * any depth) converted from datum to WGS-84 in place. */
static void
coords_to_wgs84(json_t *v, const char *datum)
{
	if (!json_is_array(v))
		return;
	if (json_array_size(v) >= 2 && json_is_number(json_array_get(v, 0)) &&
	    json_is_number(json_array_get(v, 1))) {
		double lon = json_number_value(json_array_get(v, 0));
		double lat = json_number_value(json_array_get(v, 1));

		if (gf_datum_to_wgs84(datum, &lat, &lon)) {
			json_array_set_new(v, 0, json_real(lon));
			json_array_set_new(v, 1, json_real(lat));
		}
		return;
	}
	for (size_t i = 0; i < json_array_size(v); i++)
		coords_to_wgs84(json_array_get(v, i), datum);
}

/* A zone stored in GCJ-02 or BD-09 (its `datum` property) is answered in
 * WGS-84, as the engine sees it, so a map draws it where it is; its
 * properties keep the stored datum as `datum_stored`. */
static void
feature_to_wgs84(json_t *f, json_t *props)
{
	json_t *d = json_object_get(props, "datum");
	json_t *g = json_object_get(f, "geometry");
	const char *datum = json_string_value(d);

	if (!datum || strcmp(datum, "wgs84") == 0)
		return;
	if (strcmp(datum, "gcj02") && strcmp(datum, "bd09"))
		return;
	coords_to_wgs84(json_object_get(g, "coordinates"), datum);
	json_object_set(props, "datum_stored", d);
	json_object_set_new(props, "datum", json_string("wgs84"));
}

/* Each feature gets properties.in_force_now (its `active` windows judged
 * now, in [web] timezone), and with ?at=T also in_force_at; coordinates
 * are WGS-84 whatever the stored datum. */
static void
on_zones(void *arg, const PGresult *res)
{
	struct web_call *c = arg;
	const char *text;
	gf_zoneset *zs = NULL;
	gf_tz *tz = NULL;
	json_t *fc, *features;
	int64_t now = hz_now_us();
	int64_t at = 0;
	bool has_at = c->params[0] != NULL;
	char *out;

	if (!web_result_ok(c, res) || PQntuples(res) != 1)
		return;
	text = PQgetvalue(res, 0, 0);
	if (has_at)
		(void)hz_time_parse(c->pbuf[0], strlen(c->pbuf[0]), &at);
	fc = json_loads(text, 0, NULL);
	features = json_object_get(fc, "features");
	if (gf_tz_load(c->w->cfg.web.timezone, &tz) != GF_OK)
		tz = NULL;
	if (gf_zoneset_parse(text, strlen(text), &zs, NULL, 0) != GF_OK)
		zs = NULL;
	for (size_t i = 0; i < json_array_size(features); i++) {
		json_t *f = json_array_get(features, i);
		json_t *props = json_object_get(f, "properties");
		json_t *id = json_object_get(props, "id");
		long k = zs && json_is_integer(id) ? gf_zoneset_find(zs, json_integer_value(id)) : -1;

		if (!json_is_object(props))
			continue;
		feature_to_wgs84(f, props);
		json_object_set_new(props, "in_force_now",
				    k >= 0 && tz ? json_boolean(gf_zoneset_active(zs, (size_t)k, now, tz))
						 : json_null());
		if (has_at)
			json_object_set_new(props, "in_force_at",
					    k >= 0 && tz ? json_boolean(gf_zoneset_active(zs, (size_t)k,
											  at, tz))
							 : json_null());
	}
	out = fc ? json_dumps(fc, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
	if (out) {
		evbuffer_add(c->out, out, strlen(out));
		evbuffer_add(c->out, "\n", 1);
		c->found = true;
	}
	free(out);
	json_decref(fc);
	gf_zoneset_free(zs);
	gf_tz_free(tz);
}

static void
get_zones(struct web_call *c)
{
	static const char now_sql[] =
		"SELECT json_build_object('type', 'FeatureCollection', 'features',"
		" coalesce(json_agg(feature ORDER BY id), '[]'))::text FROM zones";
	static const char at_sql[] =
		"SELECT json_build_object('type', 'FeatureCollection', 'features',"
		" coalesce(json_agg(feature ORDER BY zone_id), '[]'))::text FROM zones_history"
		" WHERE valid_from <= $1::timestamptz"
		"  AND (valid_to IS NULL OR valid_to > $1::timestamptz)";
	struct web_bad bad;
	bool has_at;
	int64_t at;

	if (web_parse_zones_query(c->query, &has_at, &at, &bad) != 0) {
		web_reply_bad(c, &bad);
		return;
	}
	c->params[0] = NULL;
	if (has_at)
		time_param(c, 0, at);
	c->doc_type = "application/geo+json";
	c->doc_made = true;
	web_job_set(c, 0, has_at ? at_sql : now_sql, has_at ? 1 : 0, on_zones);
	web_db_run(c, doc_done);
}

/* ---- dispatch ---------------------------------------------------------------------- */

struct endpoint {
	enum web_route route;
	int method;
	enum web_role need;     /* WEB_ROLE_NONE: anyone (config) */
	void (*fn)(struct web_call *c);
};

static void
get_stream(struct web_call *c)
{
	/* Last-Event-ID comes as a header; a query is left to the stream. */
	web_security_headers(c->req);
	web_stream_attach(c->w->stream, c->req);
	web_call_free(c);
}

static const struct endpoint endpoints[] = {
	{ WEB_R_CONFIG, EVHTTP_REQ_GET, WEB_ROLE_NONE, get_config },
	{ WEB_R_SESSION, EVHTTP_REQ_DELETE, WEB_ROLE_VIEWER, web_auth_logout },
	{ WEB_R_ALERTS, EVHTTP_REQ_GET, WEB_ROLE_VIEWER, get_alerts },
	{ WEB_R_ALERT_ACK, EVHTTP_REQ_POST, WEB_ROLE_DISPATCHER, post_ack },
	{ WEB_R_ALERT_EVENTS, EVHTTP_REQ_GET, WEB_ROLE_VIEWER, get_events },
	{ WEB_R_VEHICLES, EVHTTP_REQ_GET, WEB_ROLE_VIEWER, get_vehicles },
	{ WEB_R_VEHICLE, EVHTTP_REQ_GET, WEB_ROLE_VIEWER, get_vehicle },
	{ WEB_R_TRACK, EVHTTP_REQ_GET, WEB_ROLE_VIEWER, get_track },
	{ WEB_R_ZONES, EVHTTP_REQ_GET, WEB_ROLE_VIEWER, get_zones },
	{ WEB_R_STREAM, EVHTTP_REQ_GET, WEB_ROLE_VIEWER, get_stream },
};

void
web_api_dispatch(struct web_call *c)
{
	int method = c->method == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET : c->method;

	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		const struct endpoint *e = &endpoints[i];

		if (e->route != c->path.route)
			continue;
		if (e->method != method) {
			web_reply_error(c, 405, "method not allowed here");
			return;
		}
		if (e->need != WEB_ROLE_NONE && !web_role_allows(c->who.role, e->need)) {
			hz_log(HZ_LOG_WARN, "forbidden", "user=\"%s\" role=%s path=\"%s\"",
			       c->who.user, web_role_name(c->who.role),
			       evhttp_request_get_uri(c->req));
			web_reply_error(c, 403, "the role %s may not do this (%s or above needed)",
					web_role_name(c->who.role), web_role_name(e->need));
			return;
		}
		e->fn(c);
		return;
	}
	web_reply_error(c, 404, "no such endpoint");
}
