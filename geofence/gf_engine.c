/*
 * gf_engine.c - per-vehicle state and the alert rules of DESIGN.md
 * "When each alert fires", plus the state blob.
 *
 * State per vehicle is small: the name (inline), the time and place of
 * its latest fix, four flags, and one 24-byte entry per zone it is inside
 * (or leaving under hysteresis), keyed by zone id so it survives a zone
 * swap. Vehicles live in one array, found through an open-addressing hash
 * table of 32-bit indices (FNV-1a).
 *
 * One fix: (1) late or duplicate -> report covering zones, change nothing;
 * (2) gap -> tracker_silent (unless the wall-clock tick already said so)
 * and tracker_resumed; (3) zones in force covering the point, through the
 * zone set's grid; (4) merge with the entries: new -> entry alerts, gone
 * -> exit after exit_fixes fixes outside or at once beyond exit_margin_m
 * (or at once when the zone went out of force / out of the set);
 * (5) route_deviation, overspeed, then zone_speeding and dwell_exceeded
 * per zone. Alerts of one fix are collected in a scratch array and
 * delivered in DESIGN order.
 *
 * Choices documented in geofence/README.md: the gap test is >= (a gap of
 * exactly silent_after_s is silence); speeds compare strictly (> limit);
 * dwell is strictly longer than max_dwell_s.
 */
#include "geofence/geofence-internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/hz_alarm.h"
#include "common/hz_crc32.h"
#include "common/hz_hash.h"

enum { ENT_SPEEDING = 1, ENT_DWELLED = 2, ENT_KNOWN = 3, ENT_FRESH = 0x80 };
enum { V_HAVE_FIX = 1, V_SILENT = 2, V_DEVIATING = 4, V_OVERSPEED = 8,
       V_KNOWN = 15 };

struct gf_ventry {
	int64_t zone_id;
	int64_t enter_us;
	uint16_t outside; /* consecutive fixes outside (hysteresis) */
	uint8_t flags;
	uint32_t hint;    /* zone index last seen (checked before use) */
};

/* Rules beyond geometry: R_MOVING the latest fix was moving; R_STOPPED a
 * stop is going on (since stop_us); R_*_SAID the episode's alert was
 * given (fatigue: this stint; daily: this day; night: this episode of
 * moving in a window; stop: this stop). */
enum { R_MOVING = 1, R_STOPPED = 2, R_FATIGUE_SAID = 4, R_DAILY_SAID = 8,
       R_NIGHT_SAID = 16, R_STOP_SAID = 32, R_KNOWN = 63 };

struct gf_vehicle {
	char key[GF_VEHICLE_MAX + 1];
	uint8_t flags;
	uint8_t rflags;
	uint16_t nent, cap;
	uint32_t hash;
	uint32_t alarms;     /* terminal alarms raised at the latest fix saying */
	int32_t day;         /* local day of day_drive_us */
	int64_t last_us;
	int64_t rx_us;  /* wall-clock receive time of the latest fix; 0 unknown */
	double lat, lon;
	int64_t drive_us;     /* driving in this stint (since the last full rest) */
	int64_t stop_us;      /* R_STOPPED: when the stop began */
	int64_t day_drive_us; /* driving within local day `day` */
	struct gf_ventry *ent;
};

struct gf_engine {
	struct gf_options opt;
	const gf_zoneset *zs;
	const gf_tz *tz;
	struct gf_vehicle *v;
	size_t nv, capv;
	uint32_t *tab; /* index + 1; 0 = empty */
	size_t tabsz;
	/* per-fix scratch, reused */
	size_t *hits;
	size_t caphits;
	int64_t *ids;
	size_t capids;
	struct gf_ventry *ne;
	size_t capne;
	struct gf_alert *al;
	size_t nal, capal;
	bool lost;
	bool timed;    /* a rule other than the terminal alarms is on */
	/* the local day last seen, when the offset is the same all day:
	 * [day_lo_us, day_hi_us) is local day `day_no` */
	int64_t day_lo_us, day_hi_us;
	int32_t day_no;
	/* the rule values of the class last seen (class_rules) */
	struct {
		bool valid;
		char cls[GF_CLASS_MAX + 1];
		int32_t night_start_s, night_end_s;
		int64_t max_stop_s, max_continuous_s;
		int64_t max_stop_us, max_continuous_us;  /* INT64_MAX: off */
	} cr;
	int64_t max_daily_us, min_rest_us;  /* max_daily_us INT64_MAX: off */
};

void
gf_options_default(struct gf_options *opt)
{
	memset(opt, 0, sizeof *opt);
	strcpy(opt->timezone, "Asia/Shanghai");
	opt->overspeed_kmh = 80;
	opt->exit_fixes = 1;
	opt->exit_margin_m = 0;
	opt->silent_after_s = 300;
	gf_rules_default(&opt->rules);
}

int
gf_options_check(const struct gf_options *opt)
{
	if (opt == NULL || memchr(opt->timezone, '\0', GF_TZ_NAME_MAX) == NULL ||
	    !(opt->overspeed_kmh >= 0) || !isfinite(opt->overspeed_kmh) ||
	    opt->exit_fixes < 1 || opt->exit_fixes > 65535 ||
	    !(opt->exit_margin_m >= 0) || !isfinite(opt->exit_margin_m) ||
	    opt->silent_after_s < 1 || opt->silent_after_s > 100LL * 365 * 86400 ||
	    !gf_rules_ok(&opt->rules))
		return GF_EINVAL;
	return GF_OK;
}

/* Is any rule but the terminal alarms on (e->timed)? When none is, a fix
 * skips their clocks: turned on later, they start from that fix's
 * interval. */
static void
set_timed(gf_engine *e)
{
	const struct gf_rules *r = &e->opt.rules;
	e->cr.valid = false;
	e->max_daily_us = r->max_daily_s > 0 ? r->max_daily_s * 1000000 : INT64_MAX;
	e->min_rest_us = r->min_rest_s * 1000000;
	e->timed = r->max_continuous_s || r->max_daily_s || r->max_stop_s ||
		   r->night_start_s >= 0 || r->max_stop_by_class.n ||
		   r->max_continuous_by_class.n || r->night_ban_by_class.n ||
		   (e->zs && e->zs->night_bans);
}

int
gf_engine_set_rules(gf_engine *e, const struct gf_rules *rules)
{
	if (e == NULL || rules == NULL || !gf_rules_ok(rules))
		return GF_EINVAL;
	e->opt.rules = *rules;
	set_timed(e);
	return GF_OK;
}

int
gf_engine_new(const struct gf_options *opt, const gf_zoneset *zs,
	      const gf_tz *tz, gf_engine **out)
{
	if (out == NULL)
		return GF_EINVAL;
	*out = NULL;
	if (gf_options_check(opt) != GF_OK)
		return GF_EINVAL;
	gf_engine *e = calloc(1, sizeof *e);
	if (e == NULL)
		return GF_ENOMEM;
	e->opt = *opt;
	e->zs = zs;
	e->tz = tz;
	set_timed(e);
	e->tabsz = 1024;
	e->tab = calloc(e->tabsz, sizeof *e->tab);
	if (e->tab == NULL) {
		free(e);
		return GF_ENOMEM;
	}
	*out = e;
	return GF_OK;
}

void
gf_engine_free(gf_engine *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->nv; i++)
		free(e->v[i].ent);
	free(e->v);
	free(e->tab);
	free(e->hits);
	free(e->ids);
	free(e->ne);
	free(e->al);
	free(e);
}

void
gf_engine_set_zones(gf_engine *e, const gf_zoneset *zs)
{
	e->zs = zs;
	set_timed(e);
}

size_t
gf_engine_vehicle_count(const gf_engine *e)
{
	return e ? e->nv : 0;
}

void
gf_engine_foreach(const gf_engine *e, void (*fn)(const char *, void *), void *arg)
{
	for (size_t i = 0; e && i < e->nv; i++)
		fn(e->v[i].key, arg);
}

size_t
gf_engine_memory(const gf_engine *e)
{
	if (e == NULL)
		return 0;
	size_t m = sizeof *e + e->capv * sizeof *e->v + e->tabsz * sizeof *e->tab +
		   e->caphits * sizeof *e->hits + e->capids * sizeof *e->ids +
		   e->capne * sizeof *e->ne + e->capal * sizeof *e->al;
	for (size_t i = 0; i < e->nv; i++)
		m += e->v[i].cap * sizeof(struct gf_ventry);
	return m;
}

static struct gf_vehicle *
lookup(const gf_engine *e, const char *key, size_t n, uint32_t h)
{
	size_t mask = e->tabsz - 1;
	for (size_t s = h & mask;; s = (s + 1) & mask) {
		uint32_t k = e->tab[s];
		if (k == 0)
			return NULL;
		struct gf_vehicle *v = &e->v[k - 1];
		if (v->hash == h && strncmp(v->key, key, n + 1) == 0)
			return v;
	}
}

static int
grow_table(gf_engine *e)
{
	size_t nsz = e->tabsz * 2;
	uint32_t *nt = calloc(nsz, sizeof *nt);
	if (nt == NULL)
		return GF_ENOMEM;
	for (size_t i = 0; i < e->nv; i++) {
		size_t s = e->v[i].hash & (nsz - 1);
		while (nt[s])
			s = (s + 1) & (nsz - 1);
		nt[s] = (uint32_t)(i + 1);
	}
	free(e->tab);
	e->tab = nt;
	e->tabsz = nsz;
	return GF_OK;
}

static int
insert(gf_engine *e, const char *key, size_t n, uint32_t h,
       struct gf_vehicle **out)
{
	if ((e->nv + 1) * 2 > e->tabsz && grow_table(e) != GF_OK)
		return GF_ENOMEM;
	if (e->nv == e->capv) {
		size_t nc = e->capv ? e->capv * 2 : 64;
		struct gf_vehicle *nvp = realloc(e->v, nc * sizeof *nvp);
		if (nvp == NULL)
			return GF_ENOMEM;
		e->v = nvp;
		e->capv = nc;
	}
	struct gf_vehicle *v = &e->v[e->nv];
	memset(v, 0, sizeof *v);
	memcpy(v->key, key, n);
	v->hash = h;
	size_t s = h & (e->tabsz - 1);
	while (e->tab[s])
		s = (s + 1) & (e->tabsz - 1);
	e->tab[s] = (uint32_t)(++e->nv);
	*out = v;
	return GF_OK;
}

static int
vehicle_key(const char *vehicle, size_t *n)
{
	if (vehicle == NULL)
		return GF_EINVAL;
	size_t k = strnlen(vehicle, GF_VEHICLE_MAX + 1);
	if (k == 0 || k > GF_VEHICLE_MAX)
		return GF_EINVAL;
	*n = k;
	return GF_OK;
}

/* Push an alert to the scratch; on allocation failure it is lost and
 * counted (the state update goes on regardless). */
static struct gf_alert *
push(gf_engine *e, const struct gf_vehicle *v, enum gf_alert_kind kind,
     const struct gf_fix *fix)
{
	if (e->nal == e->capal) {
		size_t nc = e->capal ? e->capal * 2 : 16;
		struct gf_alert *na = realloc(e->al, nc * sizeof *na);
		if (na == NULL) {
			e->lost = true;
			return NULL;
		}
		e->al = na;
		e->capal = nc;
	}
	struct gf_alert *a = &e->al[e->nal++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->severity = gf_alert_kind_severity(kind);
	memcpy(a->vehicle, v->key, sizeof a->vehicle);
	if (fix) {
		a->ts_us = fix->ts_us;
		a->lat = fix->lat;
		a->lon = fix->lon;
		a->has_speed = fix->has_speed;
		a->speed_kmh = fix->speed_kmh;
	}
	return a;
}

static void
set_zone(struct gf_alert *a, const struct gf_zone *z)
{
	if (a == NULL)
		return;
	a->has_zone = true;
	a->zone_id = z->id;
	a->zone_name = z->name;
	a->zone_kind = z->kind;
}

static int
ensure(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return GF_OK;
	size_t nc = *cap ? *cap : 16;
	while (nc < need)
		nc *= 2;
	void *np = realloc(*p, nc * elem);
	if (np == NULL)
		return GF_ENOMEM;
	*p = np;
	*cap = nc;
	return GF_OK;
}

/* Zones in force that cover the fix, as zone-set indices (e->hits) and
 * ids (e->ids); returns the count or -1 on allocation failure. */
static long
covering(gf_engine *e, const struct gf_fix *fix, int32_t *sod)
{
	const gf_zoneset *zs = e->zs;
	size_t n;
	if (zs == NULL)
		return 0;
	for (;;) {
		n = gf_zoneset_query(zs, fix->lat, fix->lon, e->hits, e->caphits,
				     false);
		if (n <= e->caphits)
			break;
		if (ensure((void **)&e->hits, &e->caphits, n, sizeof *e->hits) ||
		    ensure((void **)&e->ids, &e->capids, n, sizeof *e->ids))
			return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct gf_zone *z = &zs->z[e->hits[i]];
		if (!gf_zone_class_ok(z, fix->hazard_class) ||
		    !gf_zone_active(z, fix->ts_us, e->tz, sod))
			continue;
		e->hits[k] = e->hits[i];
		e->ids[k++] = z->id;
	}
	return (long)k;
}

static bool
entry_alerts_for(enum gf_kind k)
{
	return k != GF_KIND_CORRIDOR;
}

/* Zone of an entry: the remembered index when it still holds that id
 * (always, until the set is swapped), else a binary search. */
static const struct gf_zone *
entry_zone(const gf_zoneset *zs, struct gf_ventry *en)
{
	if (zs == NULL)
		return NULL;
	if (en->hint < zs->n && zs->z[en->hint].id == en->zone_id)
		return &zs->z[en->hint];
	long zi = gf_zoneset_find(zs, en->zone_id);
	if (zi < 0)
		return NULL;
	en->hint = (uint32_t)zi;
	return &zs->z[zi];
}

static bool
same_entries(const struct gf_ventry *a, const struct gf_ventry *b, size_t n)
{
	/* hint is a cache, not state: not compared */
	for (size_t i = 0; i < n; i++)
		if (a[i].zone_id != b[i].zone_id || a[i].enter_us != b[i].enter_us ||
		    a[i].outside != b[i].outside || a[i].flags != b[i].flags)
			return false;
	return true;
}

static bool
in_stop_zone(gf_engine *e, size_t nn)
{
	for (size_t i = 0; i < nn; i++) {
		const struct gf_zone *z = entry_zone(e->zs, &e->ne[i]);
		if (z && (z->kind == GF_KIND_DEPOT || z->kind == GF_KIND_PARKING))
			return true;
	}
	return false;
}

/* Are two fixes within radius_m of each other (great circle)? The same
 * point, and points further apart in latitude alone, are decided without
 * trigonometry (a stopped vehicle reports the same place again and
 * again). */
static bool
same_place(double lat1, double lon1, double lat2, double lon2, double radius_m)
{
	if (lat1 == lat2 && lon1 == lon2)
		return true;
	if (fabs(lat1 - lat2) * GF_DEG * GF_EARTH_R > radius_m)
		return false;
	return gf_haversine_m(lat1, lon1, lat2, lon2) <= radius_m;
}

/* Local second of the day and day number at ts_us, through the engine's
 * one-day cache: fixes come in close in time, and a day whose offset is
 * the same at its start and its end is cached (a DST day is not: each of
 * its fixes asks the time zone). */
static int32_t
local_time(gf_engine *e, int64_t ts_us, int32_t *day)
{
	if (ts_us >= e->day_lo_us && ts_us < e->day_hi_us) {
		*day = e->day_no;
		return (int32_t)((ts_us - e->day_lo_us) / 1000000);
	}
	int32_t sod = gf_local_sod(ts_us, e->tz, day);
	int64_t t = ts_us >= 0 ? ts_us / 1000000 : -((-ts_us + 999999) / 1000000);
	int64_t lo = t - sod, hi = lo + 86400;
	int32_t off = gf_tz_offset(e->tz, t, NULL);
	if (gf_tz_offset(e->tz, lo, NULL) == off &&
	    gf_tz_offset(e->tz, hi - 1, NULL) == off) {
		e->day_lo_us = lo * 1000000;
		e->day_hi_us = hi * 1000000;
		e->day_no = *day;
	}
	return sod;
}

/* The night ban, max_stop_s and max_continuous_s for hazard class cls
 * (NULL or "": the general ones), resolved once per class change: fixes
 * of one class in a row (or no class lists at all) cost a compare. */
static void
class_rules(gf_engine *e, const char *cls)
{
	const struct gf_rules *r = &e->opt.rules;
	size_t n = 0;
	if (cls == NULL)
		cls = "";
	if (e->cr.valid) {
		while (n <= GF_CLASS_MAX && cls[n] && cls[n] == e->cr.cls[n])
			n++;
		if (n <= GF_CLASS_MAX && cls[n] == '\0' && e->cr.cls[n] == '\0')
			return;
	}
	while (n <= GF_CLASS_MAX && cls[n])
		n++;
	const struct gf_class_value *st = gf_by_class_find(&r->max_stop_by_class, cls),
		*ct = gf_by_class_find(&r->max_continuous_by_class, cls),
		*nb = gf_by_class_find(&r->night_ban_by_class, cls);
	e->cr.max_stop_s = st ? st->a : r->max_stop_s;
	e->cr.max_continuous_s = ct ? ct->a : r->max_continuous_s;
	e->cr.night_start_s = nb ? (int32_t)nb->a : r->night_start_s;
	e->cr.night_end_s = nb ? (int32_t)nb->b : r->night_end_s;
	e->cr.max_stop_us = e->cr.max_stop_s > 0 ? e->cr.max_stop_s * 1000000 : INT64_MAX;
	e->cr.max_continuous_us = e->cr.max_continuous_s > 0
					  ? e->cr.max_continuous_s * 1000000 : INT64_MAX;
	e->cr.valid = n <= GF_CLASS_MAX;
	if (e->cr.valid)
		memcpy(e->cr.cls, cls, n + 1);
}

/* The rules beyond geometry (DESIGN.md "Rules beyond geometry") for an
 * applied fix, before the vehicle's latest fix is replaced by it: v->lat,
 * v->lon, v->last_us and R_MOVING are still the previous fix's. nc zones
 * in force cover the fix (e->hits); nn entries are the stays (e->ne).
 *
 * Between two fixes the vehicle rested when they are within stop_radius_m
 * of each other and not both moving; otherwise it drove for the whole
 * interval. So a gap in fixes is rest only at one place, and a tracker
 * that goes quiet on the road keeps its clock running. A stop is a run of
 * rest intervals, from the fix that began it; a stop of min_rest_s or
 * more ends the stint (the continuous driving clock goes back to 0);
 * shorter stops neither count as driving nor reset it. */
static void
alarms_step(gf_engine *e, struct gf_vehicle *v, const struct gf_fix *fix)
{
	struct gf_alert *a;
	uint32_t up, down;

	if (!fix->has_alarms)
		return;
	up = fix->alarms & ~v->alarms;
	down = v->alarms & ~fix->alarms;
	for (unsigned b = 0; up && b < HZ_ALARM_BITS; b++) {
		if (!(up >> b & 1))
			continue;
		if ((a = push(e, v, GF_ALERT_TERMINAL_ALARM, fix)) != NULL) {
			a->alarm = b;
			if (HZ_ALARM_CRITICAL >> b & 1)
				a->severity = GF_SEV_CRITICAL;
		}
	}
	for (unsigned b = 0; down && b < HZ_ALARM_BITS; b++) {
		if ((down >> b & 1) &&
		    (a = push(e, v, GF_ALERT_TERMINAL_ALARM_CLEARED, fix)) != NULL)
			a->alarm = b;
	}
	v->alarms = fix->alarms;
}

static void deliver(gf_engine *e, gf_alert_cb cb, void *arg);

/* Route deviation's step for one corridor z the vehicle is assigned to
 * (its `vehicles` list or the fix's routes): in force and matching the
 * cargo, it makes the vehicle assigned, and inside when z is among the
 * fix's nn zones (e->ne). Counting a corridor twice changes nothing. */
static void
corridor_assigned(const gf_engine *e, const struct gf_zone *z, const struct gf_fix *fix,
		  size_t nn, int32_t *sod, bool *assigned, bool *inside)
{
	if (!gf_zone_class_ok(z, fix->hazard_class) || !gf_zone_active(z, fix->ts_us, e->tz, sod))
		return;
	*assigned = true;
	for (size_t i = 0; i < nn && !*inside; i++)
		*inside = e->ne[i].zone_id == z->id;
}

/* A fix that is no position (fix->alarms_only): a terminal's alarms raised
 * or cleared at the place and time it gives (its last known position), and
 * nothing else: no zone, clock, silence or last fix of the vehicle moves,
 * and a report older than the vehicle's latest fix still counts (an SOS
 * pressed in a tunnel is news whatever its time). */
static int
alarms_only_fix(gf_engine *e, const struct gf_fix *fix, size_t klen, uint32_t h,
		struct gf_vehicle *v, gf_alert_cb cb, void *arg, struct gf_fix_result *res)
{
	uint32_t before;

	if (v == NULL && insert(e, fix->vehicle, klen, h, &v) != GF_OK)
		return GF_ENOMEM;
	before = v->alarms;
	alarms_step(e, v, fix);
	res->state_changed = v->alarms != before;
	res->disposition = GF_FIX_ALARMS_ONLY;
	res->nalerts = e->nal;
	deliver(e, cb, arg);
	return e->lost ? GF_ENOMEM : GF_OK;
}

static void
rules_step(gf_engine *e, struct gf_vehicle *v, const struct gf_fix *fix,
	   size_t nc, size_t nn, bool first)
{
	const struct gf_rules *r = &e->opt.rules;
	const char *cls = fix->hazard_class;
	bool moving = fix->has_speed && fix->speed_kmh > r->moving_kmh;
	int32_t day, sod;
	struct gf_alert *a;

	alarms_step(e, v, fix);
	if (!e->timed) {
		v->rflags = moving ? R_MOVING : 0;
		return;
	}
	sod = local_time(e, fix->ts_us, &day);
	class_rules(e, cls);

	/* night_driving: a zone's ban (lowest id) first, else the class's
	 * or the general one */
	const struct gf_zone *wz = NULL;
	int32_t ws = -1, we = -1;
	if (moving) {
		for (size_t i = 0; e->zs && e->zs->night_bans && i < nc; i++) {
			const struct gf_zone *z = &e->zs->z[e->hits[i]];
			if (z->night_start_s >= 0 &&
			    gf_window_holds(z->night_start_s, z->night_end_s, sod)) {
				wz = z;
				ws = z->night_start_s;
				we = z->night_end_s;
				break;
			}
		}
		if (wz == NULL) {
			ws = e->cr.night_start_s;
			we = e->cr.night_end_s;
			if (ws >= 0 && !gf_window_holds(ws, we, sod))
				ws = -1;
		}
	}
	if (ws >= 0) {
		if (!(v->rflags & R_NIGHT_SAID) &&
		    (a = push(e, v, GF_ALERT_NIGHT_DRIVING, fix)) != NULL) {
			if (wz)
				set_zone(a, wz);
			a->window_start_s = ws;
			a->window_end_s = we;
			a->local_s = sod;
		}
		v->rflags |= R_NIGHT_SAID;
	} else {
		v->rflags &= (uint8_t)~R_NIGHT_SAID;
	}

	/* the interval since the previous fix: rest or driving */
	if (first) {
		v->day = day;
		v->day_drive_us = 0;
	} else {
		int64_t dt = fix->ts_us - v->last_us;
		bool rest = !((v->rflags & R_MOVING) && moving) &&
			    same_place(v->lat, v->lon, fix->lat, fix->lon,
				       r->stop_radius_m);
		if (rest) {
			if (!(v->rflags & R_STOPPED)) {
				v->stop_us = v->last_us;
				v->rflags |= R_STOPPED;
				v->rflags &= (uint8_t)~R_STOP_SAID;
			}
			if (fix->ts_us - v->stop_us >= e->min_rest_us) {
				v->drive_us = 0;
				v->rflags &= (uint8_t)~R_FATIGUE_SAID;
			}
		} else {
			v->rflags &= (uint8_t)~(R_STOPPED | R_STOP_SAID);
			v->drive_us += dt;
		}
		if (day != v->day) {
			/* driving since local midnight belongs to the new day */
			int64_t frac = fix->ts_us % 1000000;
			int64_t since = (int64_t)sod * 1000000 + (frac < 0 ? frac + 1000000 : frac);
			v->day = day;
			v->day_drive_us = rest ? 0 : dt < since ? dt : since;
			v->rflags &= (uint8_t)~R_DAILY_SAID;
		} else if (!rest) {
			v->day_drive_us += dt;
		}
	}

	if ((v->rflags & (R_STOPPED | R_STOP_SAID)) == R_STOPPED) {
		int64_t len = fix->ts_us - v->stop_us;
		if (len > e->cr.max_stop_us && !in_stop_zone(e, nn)) {
			if ((a = push(e, v, GF_ALERT_UNAUTHORIZED_STOP, fix)) != NULL) {
				/* where: the zone it stands in (lowest id), if any */
				const struct gf_zone *z = nn ? entry_zone(e->zs, &e->ne[0]) : NULL;
				if (z)
					set_zone(a, z);
				a->limit_s = e->cr.max_stop_s;
				a->duration_s = len / 1000000;
				a->since_us = v->stop_us;
			}
			v->rflags |= R_STOP_SAID;
		}
	}
	if (v->drive_us > e->cr.max_continuous_us && !(v->rflags & R_FATIGUE_SAID)) {
		if ((a = push(e, v, GF_ALERT_FATIGUE_DRIVING, fix)) != NULL) {
			a->limit_s = e->cr.max_continuous_s;
			a->duration_s = v->drive_us / 1000000;
		}
		v->rflags |= R_FATIGUE_SAID;
	}
	if (v->day_drive_us > e->max_daily_us && !(v->rflags & R_DAILY_SAID)) {
		if ((a = push(e, v, GF_ALERT_DAILY_DRIVING_EXCEEDED, fix)) != NULL) {
			a->limit_s = r->max_daily_s;
			a->duration_s = v->day_drive_us / 1000000;
			a->day = v->day;
		}
		v->rflags |= R_DAILY_SAID;
	}
	v->rflags = (uint8_t)((v->rflags & ~R_MOVING) | (moving ? R_MOVING : 0));
}

static void
deliver(gf_engine *e, gf_alert_cb cb, void *arg)
{
	for (size_t i = 0; cb && i < e->nal; i++)
		cb(&e->al[i], arg);
}

int
gf_engine_fix(gf_engine *e, const struct gf_fix *fix, gf_alert_cb cb,
	      void *arg, struct gf_fix_result *res)
{
	struct gf_fix_result tmpres;
	size_t klen;
	int rc = GF_OK;
	int32_t sod = -1;
	if (res == NULL)
		res = &tmpres;
	memset(res, 0, sizeof *res);
	if (e == NULL || fix == NULL || vehicle_key(fix->vehicle, &klen) ||
	    !(fix->lat >= -90 && fix->lat <= 90) ||
	    !(fix->lon >= -180 && fix->lon <= 180) ||
	    (fix->has_speed && !isfinite(fix->speed_kmh)) ||
	    (fix->nroutes && fix->routes == NULL))
		return GF_EINVAL;
	e->nal = 0;
	e->lost = false;
	const gf_zoneset *zs = e->zs;
	uint32_t h = hz_fnv1a32(fix->vehicle, klen);
	struct gf_vehicle *v = lookup(e, fix->vehicle, klen, h);

	if (fix->alarms_only)
		return alarms_only_fix(e, fix, klen, h, v, cb, arg, res);
	long nc = covering(e, fix, &sod);
	if (nc < 0)
		return GF_ENOMEM;
	res->zone_ids = e->ids;
	res->nzone_ids = (size_t)nc;
	if (v != NULL && (v->flags & V_HAVE_FIX) && fix->ts_us <= v->last_us) {
		res->disposition = fix->ts_us < v->last_us ? GF_FIX_LATE
							   : GF_FIX_DUPLICATE;
		return GF_OK;
	}
	if (v == NULL && insert(e, fix->vehicle, klen, h, &v) != GF_OK)
		return GF_ENOMEM;
	/* Room for the merged entries before anything changes. */
	size_t maxent = (size_t)v->nent + (size_t)nc;
	if (maxent > UINT16_MAX ||
	    ensure((void **)&e->ne, &e->capne, maxent, sizeof *e->ne))
		return GF_ENOMEM;
	if (maxent > v->cap) {
		struct gf_ventry *ne = realloc(v->ent, maxent * sizeof *ne);
		if (ne == NULL)
			return GF_ENOMEM;
		v->ent = ne;
		v->cap = (uint16_t)maxent;
	}

	uint8_t flags_before = v->flags, rflags_before = v->rflags;
	uint32_t alarms_before = v->alarms;
	int32_t day_before = v->day;

	/* (2) silence by gap */
	bool resumed = false;
	int64_t silent_us = e->opt.silent_after_s * 1000000;
	if (v->flags & V_HAVE_FIX) {
		int64_t gap = fix->ts_us - v->last_us;
		if (gap >= silent_us && !(v->flags & V_SILENT)) {
			struct gf_alert *a = push(e, v, GF_ALERT_TRACKER_SILENT, NULL);
			if (a) {
				a->ts_us = v->last_us + silent_us;
				a->lat = v->lat;
				a->lon = v->lon;
				a->gap_s = e->opt.silent_after_s;
				a->last_fix_us = v->last_us;
			}
			v->flags |= V_SILENT;
		}
		/* tracker_resumed goes after exits and entries. */
		resumed = v->flags & V_SILENT;
	}
	v->flags &= (uint8_t)~V_SILENT;
	int64_t prev_us = v->last_us;

	/* (4) merge entries (ascending id) with covering zones (ascending) */
	size_t ia = 0, ib = 0, nn = 0;
	while (ia < v->nent || ib < (size_t)nc) {
		if (ib >= (size_t)nc ||
		    (ia < v->nent && v->ent[ia].zone_id < e->ids[ib])) {
			/* Was inside, not covered by a zone in force now. */
			struct gf_ventry en = v->ent[ia++];
			const struct gf_zone *z = entry_zone(zs, &en);
			if (z == NULL)
				continue; /* zone gone from the set: drop quietly */
			bool exit_now = true;
			if (gf_zone_class_ok(z, fix->hazard_class) &&
			    gf_zone_active(z, fix->ts_us, e->tz, &sod)) {
				/* Geometrically outside: hysteresis. */
				if (en.outside < UINT16_MAX)
					en.outside++;
				exit_now = en.outside >= e->opt.exit_fixes ||
					   (e->opt.exit_margin_m > 0 &&
					    gf_zone_outside_m(z, fix->lat, fix->lon) >
						    e->opt.exit_margin_m);
			}
			if (!exit_now) {
				e->ne[nn++] = en;
				continue;
			}
			if (entry_alerts_for(z->kind)) {
				struct gf_alert *a = push(e, v, GF_ALERT_ZONE_EXIT, fix);
				set_zone(a, z);
				if (a)
					a->dwell_s = (fix->ts_us - en.enter_us) / 1000000;
			}
		} else if (ia >= v->nent || e->ids[ib] < v->ent[ia].zone_id) {
			struct gf_ventry en = {e->ids[ib], fix->ts_us, 0, ENT_FRESH,
					       (uint32_t)e->hits[ib]};
			e->ne[nn++] = en;
			ib++;
		} else {
			struct gf_ventry en = v->ent[ia++];
			en.outside = 0;
			en.hint = (uint32_t)e->hits[ib];
			e->ne[nn++] = en;
			ib++;
		}
	}
	/* entries, ascending id: walk covering zones, which are sorted */
	for (size_t i = 0, k = 0; i < nn; i++) {
		if (!(e->ne[i].flags & ENT_FRESH))
			continue;
		while (e->ids[k] != e->ne[i].zone_id)
			k++;
		const struct gf_zone *z = &zs->z[e->hits[k]];
		e->ne[i].flags &= (uint8_t)~ENT_FRESH;
		if (!entry_alerts_for(z->kind))
			continue;
		struct gf_alert *a = push(e, v, z->kind == GF_KIND_PROHIBITED
						     ? GF_ALERT_PROHIBITED_ENTRY
						     : GF_ALERT_ZONE_ENTER, fix);
		set_zone(a, z);
	}

	/* (5) the rest */
	if (resumed) {
		struct gf_alert *a = push(e, v, GF_ALERT_TRACKER_RESUMED, fix);
		if (a) {
			a->gap_s = (fix->ts_us - prev_us) / 1000000;
			a->last_fix_us = prev_us;
		}
	}
	bool assigned = false, inside = false;
	for (size_t c = 0; zs && c < zs->ncorr; c++) {
		const struct gf_zone *z = &zs->z[zs->corr[c]];
		if (gf_zone_has_vehicle(z, v->key))
			corridor_assigned(e, z, fix, nn, &sod, &assigned, &inside);
	}
	for (size_t r = 0; zs && r < fix->nroutes; r++) {
		long zi = gf_zoneset_find(zs, fix->routes[r]);
		if (zi >= 0 && zs->z[zi].kind == GF_KIND_CORRIDOR)
			corridor_assigned(e, &zs->z[zi], fix, nn, &sod, &assigned,
					  &inside);
	}
	if (assigned && !inside) {
		if (!(v->flags & V_DEVIATING))
			push(e, v, GF_ALERT_ROUTE_DEVIATION, fix);
		v->flags |= V_DEVIATING;
	} else {
		v->flags &= (uint8_t)~V_DEVIATING;
	}
	if (fix->has_speed) {
		if (fix->speed_kmh > e->opt.overspeed_kmh) {
			if (!(v->flags & V_OVERSPEED)) {
				struct gf_alert *a = push(e, v, GF_ALERT_OVERSPEED, fix);
				if (a)
					a->limit_kmh = e->opt.overspeed_kmh;
			}
			v->flags |= V_OVERSPEED;
		} else {
			v->flags &= (uint8_t)~V_OVERSPEED;
		}
	}
	for (size_t i = 0; i < nn; i++) {
		struct gf_ventry *en = &e->ne[i];
		const struct gf_zone *z = entry_zone(zs, en);
		if (z == NULL)
			continue;
		if (z->speed_limit_kmh > 0 && en->outside == 0 && fix->has_speed) {
			if (fix->speed_kmh > z->speed_limit_kmh) {
				if (!(en->flags & ENT_SPEEDING)) {
					struct gf_alert *a =
						push(e, v, GF_ALERT_ZONE_SPEEDING, fix);
					set_zone(a, z);
					if (a)
						a->limit_kmh = z->speed_limit_kmh;
				}
				en->flags |= ENT_SPEEDING;
			} else {
				en->flags &= (uint8_t)~ENT_SPEEDING;
			}
		}
		if (z->max_dwell_s >= 0 && !(en->flags & ENT_DWELLED) &&
		    fix->ts_us - en->enter_us > z->max_dwell_s * 1000000) {
			struct gf_alert *a = push(e, v, GF_ALERT_DWELL_EXCEEDED, fix);
			set_zone(a, z);
			if (a) {
				a->max_dwell_s = z->max_dwell_s;
				a->dwell_s = (fix->ts_us - en->enter_us) / 1000000;
			}
			en->flags |= ENT_DWELLED;
		}
	}

	rules_step(e, v, fix, (size_t)nc, nn, !(flags_before & V_HAVE_FIX));

	/* commit (v->ent has room: reserved above). The rules' clocks move at
	 * every fix; only their episodes, stops and days count as a change
	 * (the daemon saves the rest every state_interval_ms). */
	res->state_changed = nn != v->nent || v->rflags != rflags_before ||
			     v->alarms != alarms_before || v->day != day_before ||
			     !same_entries(v->ent, e->ne, nn) ||
			     (uint8_t)(flags_before | V_HAVE_FIX) !=
				     (uint8_t)(v->flags | V_HAVE_FIX) ||
			     !(flags_before & V_HAVE_FIX);
	if (nn)
		memcpy(v->ent, e->ne, nn * sizeof *v->ent);
	v->nent = (uint16_t)nn;
	v->last_us = fix->ts_us;
	v->rx_us = fix->rx_us ? fix->rx_us : fix->ts_us;
	v->lat = fix->lat;
	v->lon = fix->lon;
	v->flags |= V_HAVE_FIX;
	res->disposition = GF_FIX_APPLIED;
	res->nalerts = e->nal;
	deliver(e, cb, arg);
	if (e->lost)
		rc = GF_ENOMEM;
	return rc;
}

size_t
gf_engine_tick(gf_engine *e, int64_t now_us, gf_alert_cb cb, void *arg)
{
	size_t n = 0;
	if (e == NULL)
		return 0;
	int64_t silent_us = e->opt.silent_after_s * 1000000;
	for (size_t i = 0; i < e->nv; i++) {
		struct gf_vehicle *v = &e->v[i];
		if ((v->flags & (V_HAVE_FIX | V_SILENT)) != V_HAVE_FIX)
			continue;
		if (v->rx_us == 0)
			v->rx_us = now_us; /* restored: the clock starts now */
		if (now_us - v->rx_us < silent_us)
			continue;
		struct gf_alert a;
		memset(&a, 0, sizeof a);
		a.kind = GF_ALERT_TRACKER_SILENT;
		a.severity = gf_alert_kind_severity(a.kind);
		memcpy(a.vehicle, v->key, sizeof a.vehicle);
		a.ts_us = v->rx_us + silent_us;
		a.lat = v->lat;
		a.lon = v->lon;
		a.gap_s = e->opt.silent_after_s;
		a.last_fix_us = v->last_us;
		v->flags |= V_SILENT;
		if (cb)
			cb(&a, arg);
		n++;
	}
	return n;
}

void
gf_engine_silence_restart(gf_engine *e, int64_t now_us)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->nv; i++) {
		struct gf_vehicle *v = &e->v[i];
		if ((v->flags & (V_HAVE_FIX | V_SILENT)) == V_HAVE_FIX && v->rx_us < now_us)
			v->rx_us = now_us;
	}
}

/* ---- state blob ------------------------------------------------------
 * "HGVS" u8 version u8 flags u16 nent i64 last_us f64 lat f64 lon,
 * version 2 only: u32 alarms u8 rule flags i32 local day i64 drive_us
 * i64 stop_us i64 day_drive_us,
 * nent x (i64 zone_id, i64 enter_us, u16 outside, u8 flags), u32 CRC-32
 * (IEEE, common/hz_crc32.h) of everything before it. Little-endian
 * throughout. Version 1 (before the rules beyond geometry) still loads,
 * with the rules' state at zero; version 2 is written. */

#define BLOB_VERSION 2
#define BLOB_HEAD 32
#define BLOB_RULES 33
#define BLOB_ENT 19
#define BLOB_SPAN_US (1LL << 60) /* about 36,500 years */

static void
put_u(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_u(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t
dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static double
bitsd(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

int
gf_engine_state_save(const gf_engine *e, const char *vehicle, uint8_t *buf,
		     size_t size, size_t *len)
{
	size_t klen;
	if (e == NULL || len == NULL || vehicle_key(vehicle, &klen))
		return GF_EINVAL;
	const struct gf_vehicle *v =
		lookup(e, vehicle, klen, hz_fnv1a32(vehicle, klen));
	if (v == NULL)
		return GF_EINVAL;
	size_t need = BLOB_HEAD + BLOB_RULES + (size_t)v->nent * BLOB_ENT + 4;
	*len = need;
	if (buf == NULL || size < need)
		return GF_ERANGE;
	memcpy(buf, "HGVS", 4);
	buf[4] = BLOB_VERSION;
	buf[5] = v->flags;
	put_u(buf + 6, v->nent, 2);
	put_u(buf + 8, (uint64_t)v->last_us, 8);
	put_u(buf + 16, dbits(v->lat), 8);
	put_u(buf + 24, dbits(v->lon), 8);
	uint8_t *p = buf + BLOB_HEAD;
	put_u(p, v->alarms, 4);
	p[4] = v->rflags;
	put_u(p + 5, (uint32_t)v->day, 4);
	put_u(p + 9, (uint64_t)v->drive_us, 8);
	put_u(p + 17, (uint64_t)v->stop_us, 8);
	put_u(p + 25, (uint64_t)v->day_drive_us, 8);
	p += BLOB_RULES;
	for (uint16_t i = 0; i < v->nent; i++, p += BLOB_ENT) {
		put_u(p, (uint64_t)v->ent[i].zone_id, 8);
		put_u(p + 8, (uint64_t)v->ent[i].enter_us, 8);
		put_u(p + 16, v->ent[i].outside, 2);
		p[18] = v->ent[i].flags;
	}
	put_u(p, hz_crc32(0, buf, need - 4), 4);
	return GF_OK;
}

int
gf_engine_state_load(gf_engine *e, const char *vehicle, const uint8_t *blob,
		     size_t len)
{
	size_t klen;
	if (e == NULL || vehicle_key(vehicle, &klen) || (blob == NULL && len))
		return GF_EINVAL;
	if (len < BLOB_HEAD + 4 || memcmp(blob, "HGVS", 4) != 0 ||
	    (blob[4] != 1 && blob[4] != BLOB_VERSION) || (blob[5] & ~V_KNOWN))
		return GF_EBLOB;
	size_t nent = (size_t)get_u(blob + 6, 2);
	size_t rules = blob[4] >= 2 ? BLOB_RULES : 0;
	if (len != BLOB_HEAD + rules + nent * BLOB_ENT + 4 ||
	    get_u(blob + len - 4, 4) != hz_crc32(0, blob, len - 4))
		return GF_EBLOB;
	double lat = bitsd(get_u(blob + 16, 8)), lon = bitsd(get_u(blob + 24, 8));
	if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180))
		return GF_EBLOB;
	const uint8_t *rp = blob + BLOB_HEAD;
	uint32_t alarms = 0;
	uint8_t rflags = 0;
	int32_t day = 0;
	int64_t drive_us = 0, stop_us = 0, day_drive_us = 0;
	if (rules) {
		alarms = (uint32_t)get_u(rp, 4);
		rflags = rp[4];
		day = (int32_t)(uint32_t)get_u(rp + 5, 4);
		drive_us = (int64_t)get_u(rp + 9, 8);
		stop_us = (int64_t)get_u(rp + 17, 8);
		day_drive_us = (int64_t)get_u(rp + 25, 8);
		/* bounded so that no later difference or sum can overflow */
		if ((rflags & ~R_KNOWN) || drive_us < 0 || drive_us > BLOB_SPAN_US ||
		    day_drive_us < 0 || day_drive_us > BLOB_SPAN_US ||
		    stop_us < -BLOB_SPAN_US || stop_us > BLOB_SPAN_US)
			return GF_EBLOB;
	}
	const uint8_t *p = blob + BLOB_HEAD + rules;
	for (size_t i = 0; i < nent; i++, p += BLOB_ENT) {
		if ((p[18] & ~ENT_KNOWN) ||
		    (i > 0 && (int64_t)get_u(p, 8) <= (int64_t)get_u(p - BLOB_ENT, 8)))
			return GF_EBLOB;
	}
	struct gf_ventry *ent = NULL;
	if (nent) {
		ent = malloc(nent * sizeof *ent);
		if (ent == NULL)
			return GF_ENOMEM;
	}
	uint32_t h = hz_fnv1a32(vehicle, klen);
	struct gf_vehicle *v = lookup(e, vehicle, klen, h);
	if (v == NULL && insert(e, vehicle, klen, h, &v) != GF_OK) {
		free(ent);
		return GF_ENOMEM;
	}
	p = blob + BLOB_HEAD + rules;
	for (size_t i = 0; i < nent; i++, p += BLOB_ENT) {
		ent[i].zone_id = (int64_t)get_u(p, 8);
		ent[i].enter_us = (int64_t)get_u(p + 8, 8);
		ent[i].outside = (uint16_t)get_u(p + 16, 2);
		ent[i].flags = p[18];
		ent[i].hint = UINT32_MAX;
	}
	free(v->ent);
	v->ent = ent;
	v->nent = v->cap = (uint16_t)nent;
	v->flags = blob[5];
	v->last_us = (int64_t)get_u(blob + 8, 8);
	v->rx_us = 0;
	v->lat = lat;
	v->lon = lon;
	v->alarms = alarms;
	v->rflags = rflags;
	v->day = day;
	v->drive_us = drive_us;
	v->stop_us = stop_us;
	v->day_drive_us = day_drive_us;
	return GF_OK;
}
