/*
 * ctl_trackfix.c: hazgate-ctl track's writer of the decoded fixes
 * (ctl_slices.h): byte for byte what ctl_track_write (ctl_trackfmt.c)
 * writes for ctl_fixes_track_result() of the same fixes, without the way
 * round: no PGresult of text, no text read back with strtod, no jansson
 * tree of a day's points. A vehicle-day (8,640 fixes) took 30 ms that way
 * on the 2-core machine of the figures, and about 2 ms here.
 *
 * Numbers: ctl_track_write reads each float's PostgreSQL text back
 * (strtod) and jansson writes the double with JSON_REAL_PRECISION(15):
 * "%.15g", then ".0" after an integral value and the exponent without
 * '+' or leading zeros; a CSV cell is "%.15g" itself. PostgreSQL's text
 * has the shortest digits that read back (ctl_float8_digits). When they
 * are at most 15 and the value is normal, "%.15g" gives those same
 * digits (a normal double is within half an ulp of its shortest decimal,
 * and half an ulp is less than half a unit of the 15th digit: DBL_DIG),
 * so they are laid out here as %g lays them out (ctl_float_notation);
 * otherwise snprintf does it, as in jansson. NaN and the infinities:
 * jansson's json_real refuses
 * them, so an array there leaves the element out and an object the key,
 * and so does this writer.
 *
 * Strings (the vehicle, un, hazard_class) are escaped by jansson itself
 * (ctl_json_line of a json_string), once per distinct value; a string
 * jansson refuses (not UTF-8) is left out as there. GPX is written by
 * ctl_track_write from ctl_fixes_track_result().
 *
 * tests/unit/test_ctl_trackfix compares the two writers over varied fixes
 * (NULLs, signs, extreme and special floats, non-ASCII text, no fix).
 */
#include "ctl/ctl.h"
#include "ctl/ctl_slices.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- output buffer -------------------------------------------------------- */

struct obuf {
	FILE *fp;
	size_t n;
	char b[1 << 16];
};

static void
ob_flush(struct obuf *o)
{
	if (o->n)
		fwrite(o->b, 1, o->n, o->fp);
	o->n = 0;
}

static void
ob_put(struct obuf *o, const char *s, size_t n)
{
	if (n > sizeof o->b - o->n) {
		ob_flush(o);
		if (n > sizeof o->b) {
			fwrite(s, 1, n, o->fp);
			return;
		}
	}
	memcpy(o->b + o->n, s, n);
	o->n += n;
}

static void
ob_str(struct obuf *o, const char *s)
{
	ob_put(o, s, strlen(s));
}

static void
ob_ch(struct obuf *o, char c)
{
	if (o->n == sizeof o->b)
		ob_flush(o);
	o->b[o->n++] = c;
}

/* ---- values ----------------------------------------------------------------- */

/* Room for num_text(): "%.15g" needs at most 22 bytes and the NUL. */
#define NUM_MAX 32

/* What jansson's jsonp_dtostr makes of "%.15g" text s (n bytes, room for
 * two more): ".0" after an integral value, the exponent without '+' and
 * leading zeros. Returns the new length. */
static int
jansson_real(char *s, int n)
{
	char *e = strchr(s, 'e');
	if (!e && !strchr(s, '.')) {
		memcpy(s + n, ".0", 3);
		return n + 2;
	}
	if (e) {
		char *start = e + 1, *end = start + 1;
		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, (size_t)(s + n - end) + 1);
			n -= (int)(end - start);
		}
	}
	return n;
}

/*
 * The text ctl_track_write gives a float: x a float8, or a real when f4,
 * finite; "%.15g" of what strtod reads from its PostgreSQL text, as
 * jansson writes it for JSON. Returns the length.
 */
static int
num_text(double x, bool f4, bool json, char out[NUM_MAX])
{
	char dig[24];
	int e10, nd, n;

	if (x == 0) {
		n = sprintf(out, "%s", signbit(x) ? "-0" : "0");
	} else {
		nd = f4 ? ctl_float4_digits((float)x, dig, &e10) : ctl_float8_digits(x, dig, &e10);
		if (nd > 15 || (!f4 && !isnormal(x)))
			n = snprintf(out, NUM_MAX - 2, "%.15g",
				     f4 ? ctl_float4_text_value((float)x) : x);
		else if (e10 >= -4 && e10 < 15 && nd > e10 + 1)
			return ctl_float_notation(x < 0, dig, nd, e10, 15, out); /* has a '.' */
		else
			n = ctl_float_notation(x < 0, dig, nd, e10, 15, out);
	}
	return json ? jansson_real(out, n) : n;
}

/* Writes a float field: "null" (JSON) or nothing (CSV) when NULL. Returns
 * false, writing nothing, when jansson would refuse it (NaN, infinite). */
static bool
put_num(struct obuf *o, double x, bool f4, bool null, bool json)
{
	char t[NUM_MAX];
	if (null) {
		if (json)
			ob_put(o, "null", 4);
		return true;
	}
	if (!isfinite(x))
		return false;
	ob_put(o, t, (size_t)num_text(x, f4, json, t));
	return true;
}

static void
put_int(struct obuf *o, long v)
{
	char t[24];
	ob_put(o, t, (size_t)snprintf(t, sizeof t, "%ld", v));
}

static void
put_time(struct obuf *o, int64_t us)
{
	char t[40];
	ctl_time_format(us, t);
	ob_ch(o, '"');
	ob_str(o, t);
	ob_ch(o, '"');
}

/* A string as jansson writes it, for the last value asked (fixes of a
 * vehicle mostly carry the same un and class). */
struct jstr {
	char *raw, *json; /* json NULL: jansson refuses raw */
};

static void
jstr_clear(struct jstr *j)
{
	free(j->raw);
	free(j->json);
	j->raw = j->json = NULL;
}

/* The JSON text of s, or NULL when jansson refuses it; *oom on failure. */
static const char *
jstr_of(struct jstr *j, const char *s, bool *oom)
{
	if (j->raw && strcmp(j->raw, s) == 0)
		return j->json;
	jstr_clear(j);
	j->raw = strdup(s);
	json_t *v = json_string(s);
	j->json = v ? ctl_json_line(v) : NULL;
	json_decref(v);
	if (!j->raw || (v && !j->json))
		*oom = true;
	return j->json;
}

/* CSV cell text, quoted as ctl_out.c's csv_field quotes it. */
static void
csv_cell(struct obuf *o, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		ob_str(o, s);
		return;
	}
	ob_ch(o, '"');
	for (; *s; s++) {
		if (*s == '"')
			ob_ch(o, '"');
		ob_ch(o, *s);
	}
	ob_ch(o, '"');
}

/* ---- formats ---------------------------------------------------------------- */

/* [lon,lat], each "null" when NULL, left out when jansson refuses it. */
static void
point(struct obuf *o, const struct ctl_fix *x)
{
	const double v[2] = { x->lon, x->lat };
	const uint32_t nullbit[2] = { CTL_FIX_NULL_LON, CTL_FIX_NULL_LAT };
	bool any = false;
	ob_ch(o, '[');
	for (int k = 0; k < 2; k++) {
		bool null = x->nulls & nullbit[k];
		if (!null && !isfinite(v[k]))
			continue;
		if (any)
			ob_ch(o, ',');
		put_num(o, v[k], false, null, true);
		any = true;
	}
	ob_ch(o, ']');
}

static int
geojson(struct obuf *o, const char *vehicle, const char *from, const char *to,
	const struct ctl_fixes *f)
{
	struct jstr jv = { 0 }, jf = { 0 }, jt = { 0 };
	bool oom = false;
	const char *v = jstr_of(&jv, vehicle, &oom), *fr = jstr_of(&jf, from, &oom),
		   *t = jstr_of(&jt, to, &oom);
	if (oom || !v || !fr || !t)
		goto done;      /* json_pack fails there too: nothing is written */
	ob_str(o, "{\"type\":\"Feature\",\"geometry\":");
	if (f->n >= 2) {
		ob_str(o, "{\"type\":\"LineString\",\"coordinates\":[");
		for (size_t i = 0; i < f->n; i++) {
			if (i)
				ob_ch(o, ',');
			point(o, &f->v[i]);
		}
		ob_str(o, "]}");
	} else if (f->n == 1) {
		ob_str(o, "{\"type\":\"Point\",\"coordinates\":");
		point(o, &f->v[0]);
		ob_ch(o, '}');
	} else {
		ob_str(o, "null");
	}
	ob_str(o, ",\"properties\":{\"vehicle\":");
	ob_str(o, v);
	ob_str(o, ",\"from\":");
	ob_str(o, fr);
	ob_str(o, ",\"to\":");
	ob_str(o, t);
	ob_str(o, ",\"points\":");
	put_int(o, (long)f->n);
	ob_str(o, ",\"coordTimes\":[");
	for (size_t i = 0; i < f->n; i++) {
		if (i)
			ob_ch(o, ',');
		put_time(o, f->v[i].ts_us);
	}
	ob_str(o, "],\"speed_kmh\":[");
	bool first = true;
	for (size_t i = 0; i < f->n; i++) {
		const struct ctl_fix *x = &f->v[i];
		if (!(x->nulls & CTL_FIX_NULL_SPEED) && !isfinite(x->speed))
			continue;
		if (!first)
			ob_ch(o, ',');
		first = false;
		put_num(o, x->speed, true, x->nulls & CTL_FIX_NULL_SPEED, true);
	}
	ob_str(o, "]}}\n");
done:
	jstr_clear(&jv);
	jstr_clear(&jf);
	jstr_clear(&jt);
	return oom ? -1 : 0;
}

/* The reals of a fix in the column order of the JSON and CSV rows. */
struct real_field {
	const char *key;
	size_t off;     /* in struct ctl_fix */
	bool f4;
	uint32_t null;
};
static const struct real_field reals[] = {
	{ "lat", offsetof(struct ctl_fix, lat), false, CTL_FIX_NULL_LAT },
	{ "lon", offsetof(struct ctl_fix, lon), false, CTL_FIX_NULL_LON },
	{ "speed_kmh", offsetof(struct ctl_fix, speed), true, CTL_FIX_NULL_SPEED },
	{ "heading", offsetof(struct ctl_fix, heading), true, CTL_FIX_NULL_HEADING },
	{ "alt_m", offsetof(struct ctl_fix, alt), true, CTL_FIX_NULL_ALT },
	{ "hdop", offsetof(struct ctl_fix, hdop), true, CTL_FIX_NULL_HDOP },
};

static double
real_of(const struct ctl_fix *x, const struct real_field *r)
{
	const char *p = (const char *)x + r->off;
	if (r->f4) {
		float v;
		memcpy(&v, p, sizeof v);
		return v;
	}
	double v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* The members of one JSON row, or the cells of one CSV row. */
static int
row(struct obuf *o, bool json, const char *vehicle, const struct ctl_fix *x, struct jstr js[3],
    char **zones, size_t *zcap)
{
	bool oom = false;
	const char *jv = jstr_of(&js[0], vehicle, &oom);
	const char *strs[2] = { x->un, x->hc }, *jstrs[2];
	for (int k = 0; k < 2; k++)
		jstrs[k] = strs[k] ? jstr_of(&js[1 + k], strs[k], &oom) : NULL;
	size_t need = (size_t)x->nzones * 12 + 3;
	if (need > *zcap) {
		char *z = realloc(*zones, need);
		if (!z)
			return -1;
		*zones = z;
		*zcap = need;
	}
	if (oom || ctl_zones_json(x, *zones, *zcap) < 0)
		return -1;

	if (json) {
		ob_ch(o, '{');
		if (jv) {
			ob_str(o, "\"vehicle\":");
			ob_str(o, jv);
			ob_ch(o, ',');
		}
		ob_str(o, "\"ts\":");
		put_time(o, x->ts_us);
	} else {
		if (jv)
			csv_cell(o, vehicle);
		ob_ch(o, ',');
		char t[40];
		ctl_time_format(x->ts_us, t);
		ob_str(o, t);
	}
	for (size_t r = 0; r < sizeof reals / sizeof reals[0]; r++) {
		double v = real_of(x, &reals[r]);
		bool null = x->nulls & reals[r].null;
		if (json) {
			if (!null && !isfinite(v))
				continue;
			ob_str(o, ",\"");
			ob_str(o, reals[r].key);
			ob_str(o, "\":");
		} else {
			ob_ch(o, ',');
		}
		put_num(o, v, reals[r].f4, null, json);
	}
	const int16_t ints[2] = { x->fix, x->sats };
	const uint32_t inull[2] = { CTL_FIX_NULL_FIX, CTL_FIX_NULL_SATS };
	static const char *const ikeys[2] = { ",\"fix\":", ",\"sats\":" };
	for (int k = 0; k < 2; k++) {
		ob_str(o, json ? ikeys[k] : ",");
		if (!(x->nulls & inull[k]))
			put_int(o, ints[k]);
		else if (json)
			ob_str(o, "null");
	}
	static const char *const skeys[2] = { ",\"un\":", ",\"hazard_class\":" };
	for (int k = 0; k < 2; k++) {
		if (json) {
			if (strs[k] && !jstrs[k])
				continue;
			ob_str(o, skeys[k]);
			ob_str(o, strs[k] ? jstrs[k] : "null");
		} else {
			ob_ch(o, ',');
			if (strs[k] && jstrs[k])
				csv_cell(o, strs[k]);
		}
	}
	bool znull = x->nulls & CTL_FIX_NULL_ZONES;
	if (json) {
		ob_str(o, ",\"zone_ids\":");
		ob_str(o, znull ? "null" : *zones);
		ob_str(o, "}\n");
		return 0;
	}
	ob_ch(o, ',');
	if (!znull && x->nzones > 0) {
		/* the ids joined with commas, a NULL id empty: "[1,null]" -> "1," */
		char *z = *zones + 1;
		z[strlen(z) - 1] = '\0';
		for (char *p = z; (p = strstr(p, "null")) != NULL;)
			memmove(p, p + 4, strlen(p + 4) + 1);
		csv_cell(o, z);
	}
	ob_ch(o, '\n');
	return 0;
}

unsigned
ctl_track_want(enum ctl_format fmt)
{
	/* GeoJSON has times, places and speeds only: the other columns stay
	 * NULL, neither decompressed nor sent */
	return fmt == CTL_FMT_GEOJSON ? CTL_WANT_SPEED : CTL_WANT_TRACK;
}

int
ctl_track_write_fixes(FILE *fp, enum ctl_format fmt, const char *vehicle, const char *from,
		      const char *to, const struct ctl_fixes *f)
{
	if (fmt == CTL_FMT_GPX) {
		PGresult *res = ctl_fixes_track_result(f);
		if (!res)
			return -1;
		ctl_track_write(fp, fmt, vehicle, from, to, res);
		PQclear(res);
		return 0;
	}
	struct obuf *o = malloc(sizeof *o);
	if (!o)
		return -1;
	o->fp = fp;
	o->n = 0;
	int rc = 0;
	if (fmt == CTL_FMT_GEOJSON) {
		rc = geojson(o, vehicle, from, to, f);
	} else {
		bool json = fmt == CTL_FMT_JSON;
		struct jstr js[3] = { { 0 } };
		char *zones = NULL;
		size_t zcap = 0;
		if (!json)
			ob_str(o, "vehicle,ts,lat,lon,speed_kmh,heading,alt_m,hdop,fix,sats,un,"
				  "hazard_class,zone_ids\n");
		for (size_t i = 0; rc == 0 && i < f->n; i++)
			rc = row(o, json, vehicle, &f->v[i], js, &zones, &zcap);
		for (int k = 0; k < 3; k++)
			jstr_clear(&js[k]);
		free(zones);
	}
	ob_flush(o);
	free(o);
	fflush(fp);
	return rc;
}
