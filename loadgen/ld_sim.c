/*
 * ld_sim.c: hazgate-load's synthetic fleet.
 *
 * N tankers drive around a city (default Taiyuan, 37.87,112.55, 15 km):
 * each goes from waypoint to waypoint at its own cruise speed, stops for a
 * while at some waypoints (up to 10 minutes, ignition off on long stops),
 * and reports a native JSON fix every --interval simulated seconds, with
 * ~3 m of GPS noise. Within a tick the vehicles' fixes are spread evenly, so
 * the stream is in time order. Some vehicles are speeders (episodes above
 * 80 km/h); with --zones, some vehicles pick zones as waypoints (entries,
 * exits, prohibited entries, zone speeding) and the vehicles a corridor lists
 * drive along it, leaving it now and then (route deviations). --bad-ratio
 * inserts bad payloads (each reason the gateway rejects) between fixes
 * without taking a seq number, so they cause no seq gap.
 *
 * Deterministic: every vehicle has its own PRNG seeded from (--seed, index),
 * the bad payloads another; with the same options and --start, the output is
 * the same bytes. Without --start the run starts now (--realtime) or ends
 * now (so that the gateway, which refuses fixes from the future, takes all).
 * Limits: flat-earth steps (fine at city scale); zone waypoints are the
 * average of a polygon's outer ring, not a true interior point.
 */
#include "loadgen/ld.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define KM_PER_DEG 111.32
#define OVERSIZE_PAD 70000

struct zpoint {
	double lat, lon;
};

struct corridor {
	struct zpoint *pts;
	size_t n;
	char **vehicles;
	size_t nveh;
};

struct vehicle {
	char name[40];
	uint64_t rng;
	double lat, lon, speed, heading;
	double wlat, wlon;        /* waypoint */
	double cruise;
	bool speeder, zone_visitor;
	int fast_left;            /* fixes left in a speeding episode */
	int stop_left, stop_len;
	uint32_t seq;
	int cargo;
	int corridor;             /* -1 none */
	bool detour;              /* off the corridor, heading back to it */
	size_t cidx;              /* corridor vertex heading to */
	int cdir;
};

struct ld_sim {
	struct ld_sim_opts o;
	struct vehicle *v;
	struct zpoint *zpts;
	size_t nz;
	struct corridor *cors;
	size_t ncors;
	uint64_t bad_rng;
	uint64_t emitted, bad, tick;
	uint32_t vi;              /* next vehicle in this tick */
	int64_t start_ms, interval_ms;
	char topic[256];
	char *buf;
	size_t bufcap;
};

static const struct {
	const char *un, *cls;
} cargos[] = {
	{ "1203", "3" }, { "1075", "2.1" }, { "1202", "3" }, { "1830", "8" },
	{ "1005", "2.3" }, { "2810", "6.1" }, { "1789", "8" }, { "1978", "2.1" },
	{ "1230", "3" }, { "1017", "2.3" },
};

static double
gauss(uint64_t *rng)
{
	/* sum of four uniforms: mean 0, sd 1, deterministic and cheap */
	double s = 0;

	for (int i = 0; i < 4; i++)
		s += ld_rand_unit(rng);
	return (s - 2.0) * 1.7320508075688772;
}

static void
disc_point(struct ld_sim *s, uint64_t *rng, double *lat, double *lon)
{
	double r = s->o.radius_km * sqrt(ld_rand_unit(rng));
	double th = 2 * M_PI * ld_rand_unit(rng);

	*lat = s->o.center_lat + r * cos(th) / KM_PER_DEG;
	*lon = s->o.center_lon + r * sin(th) / (KM_PER_DEG * cos(s->o.center_lat * M_PI / 180));
}

static void
pick_waypoint(struct ld_sim *s, struct vehicle *v)
{
	if (v->corridor >= 0) {
		struct corridor *c = &s->cors[v->corridor];
		if (c->n < 2) {
			v->wlat = c->pts[0].lat;
			v->wlon = c->pts[0].lon;
			return;
		}
		if ((v->cidx == c->n - 1 && v->cdir > 0) || (v->cidx == 0 && v->cdir < 0))
			v->cdir = -v->cdir;
		size_t next = (size_t)((long)v->cidx + v->cdir);
		if (!v->detour && ld_rand_unit(&v->rng) < 0.15) {
			/* leave the route: ~1.1 km to the side of the next leg */
			v->detour = true;
			v->wlat = (c->pts[v->cidx].lat + c->pts[next].lat) / 2 + 0.01;
			v->wlon = (c->pts[v->cidx].lon + c->pts[next].lon) / 2;
			return;
		}
		v->detour = false;
		v->cidx = next;
		v->wlat = c->pts[v->cidx].lat;
		v->wlon = c->pts[v->cidx].lon;
		return;
	}
	if (v->zone_visitor && s->nz > 0 && ld_rand_unit(&v->rng) < 0.6) {
		struct zpoint *z = &s->zpts[ld_rand_next(&v->rng) % s->nz];
		v->wlat = z->lat + gauss(&v->rng) * 0.0005;
		v->wlon = z->lon + gauss(&v->rng) * 0.0005;
		return;
	}
	disc_point(s, &v->rng, &v->wlat, &v->wlon);
}

static void
vehicle_init(struct ld_sim *s, struct vehicle *v, uint32_t i)
{
	uint32_t num = 10001 + s->o.first_vehicle + i;

	/* 晋A10001, 晋A10002, ... then 晋B00000 ...: Shanxi plates */
	snprintf(v->name, sizeof(v->name), "\xe6\x99\x8b%c%05u", 'A' + (int)(num / 100000),
	         num % 100000);
	v->rng = s->o.seed * 0x9E3779B97F4A7C15ULL + s->o.first_vehicle + i + 1;
	ld_rand_next(&v->rng);
	v->cargo = (int)(ld_rand_next(&v->rng) % (sizeof(cargos) / sizeof(cargos[0])));
	v->speeder = ld_rand_unit(&v->rng) < s->o.speeders;
	v->zone_visitor = ld_rand_unit(&v->rng) < 0.5;
	v->cruise = 35 + 35 * ld_rand_unit(&v->rng);
	v->corridor = -1;
	for (size_t c = 0; c < s->ncors && v->corridor < 0; c++)
		for (size_t k = 0; k < s->cors[c].nveh; k++)
			if (strcmp(s->cors[c].vehicles[k], v->name) == 0 && s->cors[c].n > 0)
				v->corridor = (int)c;
	if (v->corridor >= 0) {
		struct corridor *c = &s->cors[v->corridor];
		v->cidx = (size_t)(ld_rand_next(&v->rng) % c->n);
		v->cdir = 1;
		v->lat = c->pts[v->cidx].lat;
		v->lon = c->pts[v->cidx].lon;
	} else {
		disc_point(s, &v->rng, &v->lat, &v->lon);
	}
	v->speed = v->cruise * 0.8;
	pick_waypoint(s, v);
	v->heading = fmod(atan2((v->wlon - v->lon) * cos(v->lat * M_PI / 180), v->wlat - v->lat)
	                  * 180 / M_PI + 360, 360);
}

/* Advance v by one interval. */
static void
vehicle_step(struct ld_sim *s, struct vehicle *v)
{
	double coslat = cos(v->lat * M_PI / 180), dx, dy, dist, step, target;

	if (v->stop_left > 0) {
		v->stop_left--;
		v->speed = 0;
		return;
	}
	if (v->speeder && v->fast_left == 0 && ld_rand_unit(&v->rng) < 0.04)
		v->fast_left = 5 + (int)(ld_rand_next(&v->rng) % 16);
	if (v->fast_left > 0) {
		v->fast_left--;
		target = 86 + 12 * ld_rand_unit(&v->rng);
	} else {
		target = v->cruise * (0.85 + 0.3 * ld_rand_unit(&v->rng));
		if (target > 78)
			target = 78;
	}
	v->speed += (target - v->speed) * 0.6;
	step = v->speed * s->o.interval_s / 3600.0;
	for (int guard = 0; guard < 8 && step > 0; guard++) {
		dy = (v->wlat - v->lat) * KM_PER_DEG;
		dx = (v->wlon - v->lon) * KM_PER_DEG * coslat;
		dist = sqrt(dx * dx + dy * dy);
		if (dist > 1e-9)
			v->heading = fmod(atan2(dx, dy) * 180 / M_PI + 360, 360);
		if (dist > step) {
			v->lat += dy / dist * step / KM_PER_DEG;
			v->lon += dx / dist * step / (KM_PER_DEG * coslat);
			return;
		}
		/* Arrived: maybe stop, then on to the next waypoint. */
		v->lat = v->wlat;
		v->lon = v->wlon;
		step -= dist;
		pick_waypoint(s, v);
		if (v->corridor < 0 && ld_rand_unit(&v->rng) < 0.3) {
			v->stop_len = v->stop_left = 3 + (int)(ld_rand_next(&v->rng) % 58);
			return;
		}
	}
}

static int
ensure_buf(struct ld_sim *s, size_t need)
{
	if (need <= s->bufcap)
		return LD_OK;
	char *nb = realloc(s->buf, need);
	if (nb == NULL)
		return LD_ERR_NOMEM;
	s->buf = nb;
	s->bufcap = need;
	return LD_OK;
}

static int
fix_payload(struct ld_sim *s, struct vehicle *v, const char *ts)
{
	double nlat = v->lat + gauss(&v->rng) * 3.0 / 111320.0;
	double nlon = v->lon + gauss(&v->rng) * 3.0 / (111320.0 * cos(v->lat * M_PI / 180));
	double hdop = 0.8 + 0.1 * (double)(ld_rand_next(&v->rng) % 10);
	int sats = 7 + (int)(ld_rand_next(&v->rng) % 8);
	bool ign = !(v->stop_left > 0 && v->stop_len > 10);

	return snprintf(s->buf, s->bufcap,
	                "{\"vehicle\":\"%s\",\"ts\":\"%s\",\"lat\":%.7f,\"lon\":%.7f,"
	                "\"speed_kmh\":%.1f,\"heading\":%.1f,\"hdop\":%.1f,\"fix\":3,\"sats\":%d,"
	                "\"un\":\"%s\",\"hazard_class\":\"%s\",\"seq\":%u,\"ignition\":%s}",
	                v->name, ts, nlat, nlon, v->speed, v->heading, hdop, sats,
	                cargos[v->cargo].un, cargos[v->cargo].cls, v->seq, ign ? "true" : "false");
}

/* A payload the gateway must reject, one reason per kind. */
static int
bad_payload(struct ld_sim *s, struct vehicle *v, int64_t ts_ms, const char *ts)
{
	char fut[40];
	int kind = (int)(ld_rand_next(&s->bad_rng) % 8), n;

	switch (kind) {
	case 0: /* not JSON: cut short */
		return snprintf(s->buf, s->bufcap, "{\"vehicle\":\"%s\",\"ts\":\"%s\",\"lat\":37.8",
		                v->name, ts);
	case 1: /* no lat */
		return snprintf(s->buf, s->bufcap, "{\"vehicle\":\"%s\",\"ts\":\"%s\",\"lon\":%.7f}",
		                v->name, ts, v->lon);
	case 2: /* latitude out of range */
		return snprintf(s->buf, s->bufcap,
		                "{\"vehicle\":\"%s\",\"ts\":\"%s\",\"lat\":97.5,\"lon\":%.7f}",
		                v->name, ts, v->lon);
	case 3: /* wrong type */
		return snprintf(s->buf, s->bufcap,
		                "{\"vehicle\":\"%s\",\"ts\":\"%s\",\"lat\":\"%.7f\",\"lon\":%.7f}",
		                v->name, ts, v->lat, v->lon);
	case 4: /* a day in the future, under another name: where nothing judges
	         * "the future" (an offline replay) it must not move the real
	         * vehicle's clock a day ahead */
		ld_time_format(ts_ms + 86400000, fut, sizeof(fut));
		return snprintf(s->buf, s->bufcap,
		                "{\"vehicle\":\"%s-future\",\"ts\":\"%s\",\"lat\":%.7f,\"lon\":%.7f}",
		                v->name, fut, v->lat, v->lon);
	case 5: /* bad UTF-8 in the vehicle */
		return snprintf(s->buf, s->bufcap,
		                "{\"vehicle\":\"\xff\xfe%s\",\"ts\":\"%s\",\"lat\":%.7f,\"lon\":%.7f}",
		                v->name, ts, v->lat, v->lon);
	case 6: /* not a time */
		return snprintf(s->buf, s->bufcap,
		                "{\"vehicle\":\"%s\",\"ts\":\"yesterday\",\"lat\":%.7f,\"lon\":%.7f}",
		                v->name, v->lat, v->lon);
	default: /* over 64 KiB */
		n = snprintf(s->buf, s->bufcap,
		             "{\"vehicle\":\"%s\",\"ts\":\"%s\",\"lat\":%.7f,\"lon\":%.7f,\"pad\":\"",
		             v->name, ts, v->lat, v->lon);
		memset(s->buf + n, 'x', OVERSIZE_PAD);
		n += OVERSIZE_PAD;
		memcpy(s->buf + n, "\"}", 3);
		return n + 2;
	}
}

static void
sim_start(void *ctx, int64_t wall_us)
{
	struct ld_sim *s = ctx;
	uint64_t ticks = (s->o.messages + s->o.vehicles - 1) / s->o.vehicles;

	if (s->o.start_set)
		s->start_ms = s->o.start_ms;
	else if (s->o.realtime || s->o.messages == 0)
		s->start_ms = wall_us / 1000;
	else
		s->start_ms = wall_us / 1000 - (int64_t)ticks * s->interval_ms;
}

static int
sim_next(void *ctx, struct ld_msg *m)
{
	struct ld_sim *s = ctx;
	struct vehicle *v;
	int64_t ts_ms;
	char ts[40];
	int n;

	if (s->o.messages > 0 && s->emitted >= s->o.messages)
		return 0;
	v = &s->v[s->vi];
	ts_ms = s->start_ms + (int64_t)s->tick * s->interval_ms
	        + (int64_t)s->vi * s->interval_ms / s->o.vehicles;
	ld_time_format(ts_ms, ts, sizeof(ts));
	ld_topic_format(s->o.topic, v->name, s->topic, sizeof(s->topic));
	if (s->o.bad_ratio > 0 && ld_rand_unit(&s->bad_rng) < s->o.bad_ratio) {
		n = bad_payload(s, v, ts_ms, ts);
		s->bad++;
		m->vehicle = NULL;
	} else {
		if (s->tick > 0)
			vehicle_step(s, v);
		n = fix_payload(s, v, ts);
		v->seq++;
		m->vehicle = v->name;
		if (++s->vi == s->o.vehicles) {
			s->vi = 0;
			s->tick++;
		}
	}
	s->emitted++;
	m->topic = s->topic;
	m->payload = s->buf;
	m->payload_len = (size_t)n;
	m->ts_ms = ts_ms;
	m->due_us = s->o.realtime ? (ts_ms - s->start_ms) * 1000 : -1;
	return 1;
}

/* Read a zone file: one waypoint per zone, and the corridors' lines. */
static int
load_zones(struct ld_sim *s, const char *path)
{
	json_error_t e;
	json_t *root = json_load_file(path, 0, &e), *feats, *f;
	size_t i;
	int rc = LD_OK;

	if (root == NULL) {
		fprintf(stderr, "hazgate-load: %s:%d: %s\n", path, e.line, e.text);
		return LD_ERR_DATA;
	}
	feats = json_object_get(root, "features");
	if (!json_is_array(feats)) {
		fprintf(stderr, "hazgate-load: %s: not a FeatureCollection\n", path);
		rc = LD_ERR_DATA;
		goto done;
	}
	s->zpts = calloc(json_array_size(feats) + 1, sizeof(*s->zpts));
	s->cors = calloc(json_array_size(feats) + 1, sizeof(*s->cors));
	if (s->zpts == NULL || s->cors == NULL) {
		rc = LD_ERR_NOMEM;
		goto done;
	}
	json_array_foreach(feats, i, f) {
		json_t *g = json_object_get(f, "geometry"), *c = json_object_get(g, "coordinates");
		const char *type = json_string_value(json_object_get(g, "type"));
		json_t *ring = NULL, *pt;
		size_t k;
		double slat = 0, slon = 0;

		if (type == NULL || c == NULL)
			continue;
		if (strcmp(type, "Point") == 0) {
			s->zpts[s->nz].lon = json_number_value(json_array_get(c, 0));
			s->zpts[s->nz++].lat = json_number_value(json_array_get(c, 1));
			continue;
		}
		if (strcmp(type, "Polygon") == 0)
			ring = json_array_get(c, 0);
		else if (strcmp(type, "MultiPolygon") == 0)
			ring = json_array_get(json_array_get(c, 0), 0);
		else if (strcmp(type, "LineString") == 0)
			ring = c;
		if (json_array_size(ring) == 0)
			continue;
		json_array_foreach(ring, k, pt) {
			slon += json_number_value(json_array_get(pt, 0));
			slat += json_number_value(json_array_get(pt, 1));
		}
		s->zpts[s->nz].lat = slat / (double)json_array_size(ring);
		s->zpts[s->nz++].lon = slon / (double)json_array_size(ring);
		if (strcmp(type, "LineString") == 0) {
			json_t *vs = json_object_get(json_object_get(f, "properties"), "vehicles"), *vn;
			struct corridor *cor = &s->cors[s->ncors++];
			cor->n = json_array_size(ring);
			cor->pts = calloc(cor->n, sizeof(*cor->pts));
			cor->vehicles = calloc(json_array_size(vs) + 1, sizeof(char *));
			if (cor->pts == NULL || cor->vehicles == NULL) {
				rc = LD_ERR_NOMEM;
				goto done;
			}
			json_array_foreach(ring, k, pt) {
				cor->pts[k].lon = json_number_value(json_array_get(pt, 0));
				cor->pts[k].lat = json_number_value(json_array_get(pt, 1));
			}
			json_array_foreach(vs, k, vn) {
				if (json_is_string(vn) && (cor->vehicles[cor->nveh] =
				                           strdup(json_string_value(vn))) != NULL)
					cor->nveh++;
			}
		}
	}
done:
	json_decref(root);
	return rc;
}

int
ld_sim_new(const struct ld_sim_opts *o, struct ld_sim **out)
{
	struct ld_sim *s;
	int rc;

	if (o->vehicles < 1 || o->interval_s <= 0 || o->radius_km <= 0 ||
	    o->bad_ratio < 0 || o->bad_ratio > 1 || o->speeders < 0 || o->speeders > 1)
		return LD_ERR_USAGE;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return LD_ERR_NOMEM;
	s->o = *o;
	s->interval_ms = (int64_t)(o->interval_s * 1000);
	s->bad_rng = o->seed ^ 0xBADBADBADULL;
	if (o->zones_file != NULL && (rc = load_zones(s, o->zones_file)) != LD_OK)
		goto err;
	s->v = calloc(o->vehicles, sizeof(*s->v));
	if (s->v == NULL || ensure_buf(s, OVERSIZE_PAD + 1024) != LD_OK) {
		rc = LD_ERR_NOMEM;
		goto err;
	}
	for (uint32_t i = 0; i < o->vehicles; i++)
		vehicle_init(s, &s->v[i], i);
	*out = s;
	return LD_OK;
err:
	ld_sim_free(s);
	return rc;
}

void
ld_sim_free(struct ld_sim *s)
{
	if (s == NULL)
		return;
	for (size_t c = 0; c < s->ncors; c++) {
		for (size_t k = 0; k < s->cors[c].nveh; k++)
			free(s->cors[c].vehicles[k]);
		free(s->cors[c].vehicles);
		free(s->cors[c].pts);
	}
	free(s->cors);
	free(s->zpts);
	free(s->v);
	free(s->buf);
	free(s);
}

uint64_t
ld_sim_bad(const struct ld_sim *s)
{
	return s->bad;
}

struct ld_source
ld_sim_source(struct ld_sim *s)
{
	struct ld_source src = { s, sim_start, sim_next };

	return src;
}
