/*
 * gf_rules.c - the parameters of the rules beyond geometry ([rules] in
 * the configuration): defaults, range checks, per-class lists
 * ("1=600, 2.1=900"; "1=19:00-06:00") and their lookup by a fix's class.
 * The rules themselves run in gf_engine.c with the rest of a fix.
 *
 * A class list is parsed here, not in each program, so that the daemon
 * and `hazgate-ctl replay --config` read it alike. Lookup: the entry
 * naming the class exactly, else the one naming its main class (the part
 * before the first '.'), so "1=600" covers 1.1 to 1.6.
 */
#include "geofence/geofence-internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define YEAR_S (366LL * 86400)

void
gf_rules_default(struct gf_rules *r)
{
	memset(r, 0, sizeof *r);
	r->moving_kmh = 5;
	r->stop_radius_m = 100;
	r->max_continuous_s = 14400;
	r->min_rest_s = 1200;
	r->max_daily_s = 28800;
	r->max_stop_s = 1800;
	r->night_start_s = r->night_end_s = -1;
}

static bool
window_ok(int64_t s, int64_t e)
{
	return s >= 0 && s < 86400 && e >= 0 && e <= 86400 && s != e;
}

static bool
by_class_ok(const struct gf_by_class *bc, bool window)
{
	if (bc->n > GF_BY_CLASS_MAX)
		return false;
	for (uint32_t i = 0; i < bc->n; i++) {
		const struct gf_class_value *v = &bc->e[i];
		if (memchr(v->cls, '\0', sizeof v->cls) == NULL || v->cls[0] == '\0')
			return false;
		if (window ? !window_ok(v->a, v->b) : (v->a < 0 || v->a > YEAR_S))
			return false;
	}
	return true;
}

bool
gf_rules_ok(const struct gf_rules *r)
{
	return r->moving_kmh >= 0 && isfinite(r->moving_kmh) &&
	       r->stop_radius_m >= 0 && isfinite(r->stop_radius_m) &&
	       r->max_continuous_s >= 0 && r->max_continuous_s <= YEAR_S &&
	       r->min_rest_s >= 1 && r->min_rest_s <= YEAR_S &&
	       r->max_daily_s >= 0 && r->max_daily_s <= 86400 &&
	       r->max_stop_s >= 0 && r->max_stop_s <= YEAR_S &&
	       (r->night_start_s < 0 ? r->night_end_s < 0
				     : window_ok(r->night_start_s, r->night_end_s)) &&
	       by_class_ok(&r->max_stop_by_class, false) &&
	       by_class_ok(&r->max_continuous_by_class, false) &&
	       by_class_ok(&r->night_ban_by_class, true);
}

const char *
gf_by_class_parse(const char *value, bool window, struct gf_by_class *out)
{
	const char *p = value;
	memset(out, 0, sizeof *out);
	if (value == NULL)
		return "no value";
	while (*p == ' ' || *p == '\t')
		p++;
	while (*p) {
		const char *c = p, *eq, *end;
		char val[32];
		size_t cn, vn;
		while (*p && *p != '=' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		cn = (size_t)(p - c);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			return "want CLASS=VALUE, comma-separated";
		if (cn == 0 || cn > GF_CLASS_MAX)
			return "a class is 1 to 7 bytes";
		for (size_t i = 0; i < cn; i++)
			if (c[i] <= ' ' || c[i] > '~')
				return "a class is printable ASCII";
		eq = p++;
		(void)eq;
		while (*p == ' ' || *p == '\t')
			p++;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		vn = (size_t)(end - p);
		while (vn && (p[vn - 1] == ' ' || p[vn - 1] == '\t'))
			vn--;
		if (vn == 0 || vn >= sizeof val)
			return "want CLASS=VALUE, comma-separated";
		memcpy(val, p, vn);
		val[vn] = '\0';
		if (out->n == GF_BY_CLASS_MAX)
			return "more than 16 classes";
		struct gf_class_value *v = &out->e[out->n];
		memcpy(v->cls, c, cn);
		v->cls[cn] = '\0';
		for (uint32_t i = 0; i < out->n; i++)
			if (strcmp(out->e[i].cls, v->cls) == 0)
				return "a class named twice";
		if (window) {
			int32_t s, e;
			if (gf_window_parse(val, &s, &e) != GF_OK || s == e)
				return "want CLASS=HH:MM-HH:MM (start and end apart)";
			v->a = s;
			v->b = e;
		} else {
			char *q;
			long long n = strtoll(val, &q, 10);
			if (*q != '\0' || val[0] < '0' || val[0] > '9' || n < 0 ||
			    n > YEAR_S)
				return "want CLASS=SECONDS (0 to 31622400; 0 = off)";
			v->a = n;
		}
		out->n++;
		p = *end ? end + 1 : end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*end && *p == '\0')
			return "a trailing comma";
	}
	return NULL;
}

const struct gf_class_value *
gf_by_class_find(const struct gf_by_class *bc, const char *cls)
{
	const struct gf_class_value *main = NULL;
	size_t n = 0, mn;
	if (bc->n == 0 || cls == NULL)
		return NULL;
	/* on the hot path (a moving fix with per-class night bans): no libc
	 * calls, classes are at most GF_CLASS_MAX bytes */
	while (n <= GF_CLASS_MAX && cls[n] != '\0' && cls[n] != '.')
		n++;
	mn = n;
	while (n <= GF_CLASS_MAX && cls[n] != '\0')
		n++;
	if (n == 0 || n > GF_CLASS_MAX)
		return NULL;
	for (uint32_t i = 0; i < bc->n; i++) {
		const char *c = bc->e[i].cls;
		size_t k = 0;
		while (k < n && c[k] == cls[k])
			k++;
		if (k == n && c[n] == '\0')
			return &bc->e[i];
		if (k >= mn && c[mn] == '\0')
			main = &bc->e[i];
	}
	return main;
}
