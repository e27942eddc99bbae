/*
 * trk_policy.c - when to report a fix (pure: no I/O, no clock).
 *
 * The rules of the common trackers (OwnTracks' move mode, Traccar Client):
 * a fix is reported when
 *   - it is the first one, or
 *   - at least min_interval_s have passed since the last report, and one of
 *       - max_interval_s have passed (a heartbeat, moving or stopped),
 *       - the vehicle is min_distance_m or more from the last report,
 *       - the heading turned by heading_change_deg or more while the speed
 *         is at least heading_min_speed_kmh (a parked GPS's course is noise).
 * Times are the fixes' own, so a replayed log decides as the live drive did.
 * A fix not newer than the last report (gpsd repeats a cycle's time when a
 * later sentence completes it) is never reported.
 */
#include "tracker/tracker.h"

#include <math.h>
#include <stdlib.h>

struct trk_policy {
	struct trk_policy_params p;
	bool have_last;
	struct trk_fix last;
};

double
trk_distance_m(double lat1, double lon1, double lat2, double lon2)
{
	const double r = 6371008.8, rad = M_PI / 180.0;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double a = sin(dlat / 2) * sin(dlat / 2) +
	           cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

	return 2 * r * asin(sqrt(a < 1 ? a : 1));
}

trk_policy *
trk_policy_new(const struct trk_policy_params *p)
{
	trk_policy *t = calloc(1, sizeof *t);

	if (t)
		t->p = *p;
	return t;
}

void
trk_policy_free(trk_policy *p)
{
	free(p);
}

const char *
trk_report_name(enum trk_report r)
{
	switch (r) {
	case TRK_REPORT_NONE: return "none";
	case TRK_REPORT_FIRST: return "first";
	case TRK_REPORT_INTERVAL: return "interval";
	case TRK_REPORT_DISTANCE: return "distance";
	case TRK_REPORT_HEADING: return "heading";
	}
	return "unknown";
}

static double
angle_diff(double a, double b)
{
	double d = fmod(fabs(a - b), 360.0);

	return d > 180.0 ? 360.0 - d : d;
}

enum trk_report
trk_policy_decide(trk_policy *t, const struct trk_fix *f)
{
	enum trk_report r = TRK_REPORT_NONE;
	double dt;

	if (!isfinite(f->lat) || !isfinite(f->lon))
		return TRK_REPORT_NONE;
	if (!t->have_last) {
		r = TRK_REPORT_FIRST;
		goto report;
	}
	if (f->time_ms <= t->last.time_ms)
		return TRK_REPORT_NONE;
	dt = (double)(f->time_ms - t->last.time_ms) / 1000.0;
	if (dt < t->p.min_interval_s)
		return TRK_REPORT_NONE;
	if (dt >= t->p.max_interval_s)
		r = TRK_REPORT_INTERVAL;
	else if (trk_distance_m(t->last.lat, t->last.lon, f->lat, f->lon) >= t->p.min_distance_m)
		r = TRK_REPORT_DISTANCE;
	else if (isfinite(f->heading) && isfinite(t->last.heading) &&
	         isfinite(f->speed_kmh) && f->speed_kmh >= t->p.heading_min_speed_kmh &&
	         angle_diff(f->heading, t->last.heading) >= t->p.heading_change_deg)
		r = TRK_REPORT_HEADING;
	if (r == TRK_REPORT_NONE)
		return r;
report:
	t->have_last = true;
	t->last = *f;
	return r;
}
