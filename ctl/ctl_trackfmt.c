/*
 * ctl_trackfmt.c: a vehicle's stored track written as hazgate-ctl track
 * writes it, for hazgate-ctl and hazgate-web alike (libctlfmt.a), so that
 * `hazgate-ctl track` and GET /api/v1/vehicles/{plate}/track are byte for
 * byte the same.
 *
 * One GeoJSON Feature (a LineString, a Point for a single fix, a null
 * geometry for none) whose properties carry the per-point times
 * ("coordTimes", as togeojson and Mapbox write them) and speeds; GPX 1.1
 * (one trk, one trkseg; ele, time, fix, sat, hdop per point, in the order
 * the GPX schema requires); CSV; or JSON, one fix per line.
 *
 * GPX types lat, lon, ele and hdop as xsd:decimal, which has no exponent,
 * while PostgreSQL writes a float near 0 as "-5e-05": the GPX writer moves
 * the point in PostgreSQL's own digits (plain_decimal), so the value is
 * exactly the stored one. GeoJSON, CSV and JSON keep PostgreSQL's text.
 */
#include "ctl/ctl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

enum {
	F_TS,
	F_LAT,
	F_LON,
	F_SPEED,
	F_HEADING,
	F_ALT,
	F_HDOP,
	F_FIX,
	F_SATS,
	F_UN,
	F_CLASS,
	F_ZONES
};

const char ctl_track_sql[] =
	"SELECT floor(extract(epoch FROM ts) * 1000000)::int8, lat, lon, speed_kmh, heading,"
	"  alt_m, hdop, fix, sats, un, hazard_class, array_to_json(zone_ids) "
	"FROM hazgate_positions_vehicle($1, $2::timestamptz, $3::timestamptz) "
	"ORDER BY ts";

static void
xml_text(FILE *fp, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '&':
			fputs("&amp;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		default:
			fputc(*s, fp);
		}
	}
}

/* Longest plain_decimal() text: a sign, "0.", 360 zeros (the point moves
 * at most 360 places: a double's exponent is within 10^+-324), 32 digits
 * and the NUL. */
#define PLAIN_DECIMAL_MAX 400

/*
 * The number `s` (PostgreSQL's float text: "37.76", "-5e-05", "1e+16")
 * written in plain decimal notation, as xsd:decimal wants it: the same
 * digits with the decimal point moved by the exponent, no exponent, no
 * leading zeros but the one before the point, no trailing zeros after it,
 * "0" for zero of either sign ("-5e-05" -> "-0.00005", "1.5e+16" ->
 * "15000000000000000"). Returns 0, or -1 (out untouched) for anything
 * else: NaN, Infinity, not a number, or longer than PLAIN_DECIMAL_MAX.
 */
static int
plain_decimal(const char *s, char out[PLAIN_DECIMAL_MAX])
{
	char digits[32];
	int ndig = 0, point = 0, exp = 0, seen_point = 0;
	bool neg = false;
	const char *p = s;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
		return -1;
	for (; isdigit((unsigned char)*p) || (*p == '.' && !seen_point); p++) {
		if (*p == '.') {
			seen_point = 1;
			continue;
		}
		if (ndig == 0 && *p == '0') {   /* leading zero: not a digit */
			if (seen_point)
				point--;
			continue;
		}
		if (ndig == (int)sizeof(digits))
			return -1;
		digits[ndig++] = *p;
		if (!seen_point)
			point++;
	}
	if (*p == 'e' || *p == 'E') {
		char *end;
		long e = strtol(p + 1, &end, 10);

		if (end == p + 1 || e < -350 || e > 350)
			return -1;
		exp = (int)e;
		p = end;
	}
	if (*p != '\0')
		return -1;
	while (ndig > 0 && digits[ndig - 1] == '0')
		ndig--;
	if (ndig == 0) {
		strcpy(out, "0");
		return 0;
	}
	point += exp;   /* digits[0..point) before the decimal point */
	if (point < -360 || point > 360)        /* beyond any double */
		return -1;

	char *o = out;
	if (neg)
		*o++ = '-';
	if (point <= 0) {
		*o++ = '0';
		*o++ = '.';
		for (int i = point; i < 0; i++)
			*o++ = '0';
		memcpy(o, digits, (size_t)ndig);
		o += ndig;
	} else if (point >= ndig) {
		memcpy(o, digits, (size_t)ndig);
		o += ndig;
		for (int i = ndig; i < point; i++)
			*o++ = '0';
	} else {
		memcpy(o, digits, (size_t)point);
		o += point;
		*o++ = '.';
		memcpy(o, digits + point, (size_t)(ndig - point));
		o += ndig - point;
	}
	*o = '\0';
	return 0;
}

static void
gpx(FILE *fp, const char *vehicle, const PGresult *res)
{
	char ts[40], lat[PLAIN_DECIMAL_MAX], lon[PLAIN_DECIMAL_MAX], num[PLAIN_DECIMAL_MAX];
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<gpx version=\"1.1\" creator=\"hazgate-ctl\" "
	      "xmlns=\"http://www.topografix.com/GPX/1/1\" "
	      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	      "xsi:schemaLocation=\"http://www.topografix.com/GPX/1/1 "
	      "http://www.topografix.com/GPX/1/1/gpx.xsd\">\n",
	      fp);
	fputs("  <trk>\n    <name>", fp);
	xml_text(fp, vehicle);
	fputs("</name>\n    <trkseg>\n", fp);
	for (int i = 0; i < PQntuples(res); i++) {
		ctl_time_format(ctl_field_i64(res, i, F_TS), ts);
		/* NaN or Infinity cannot be written in GPX: such a point (never
		 * stored by the gateway) is left out, such an ele or hdop too. */
		if (plain_decimal(PQgetvalue(res, i, F_LAT), lat) != 0 ||
		    plain_decimal(PQgetvalue(res, i, F_LON), lon) != 0) {
			fprintf(stderr, "hazgate-ctl track: the fix at %s is left out of the GPX: "
				"lat %s, lon %s\n", ts, PQgetvalue(res, i, F_LAT),
				PQgetvalue(res, i, F_LON));
			continue;
		}
		fprintf(fp, "      <trkpt lat=\"%s\" lon=\"%s\">", lat, lon);
		if (ctl_field(res, i, F_ALT) && plain_decimal(PQgetvalue(res, i, F_ALT), num) == 0)
			fprintf(fp, "<ele>%s</ele>", num);
		fprintf(fp, "<time>%s</time>", ts);
		const char *fix = ctl_field(res, i, F_FIX);
		if (fix && (strcmp(fix, "2") == 0 || strcmp(fix, "3") == 0))
			fprintf(fp, "<fix>%sd</fix>", fix);
		if (ctl_field(res, i, F_SATS))
			fprintf(fp, "<sat>%s</sat>", PQgetvalue(res, i, F_SATS));
		if (ctl_field(res, i, F_HDOP) && plain_decimal(PQgetvalue(res, i, F_HDOP), num) == 0)
			fprintf(fp, "<hdop>%s</hdop>", num);
		fputs("</trkpt>\n", fp);
	}
	fputs("    </trkseg>\n  </trk>\n</gpx>\n", fp);
}

static void
geojson(FILE *fp, const char *vehicle, const char *from, const char *to, const PGresult *res)
{
	int n = PQntuples(res);
	json_t *coords = json_array(), *times = json_array(), *speeds = json_array();
	for (int i = 0; i < n; i++) {
		json_t *pt = json_array();
		json_array_append_new(pt, ctl_json_real(res, i, F_LON));
		json_array_append_new(pt, ctl_json_real(res, i, F_LAT));
		json_array_append_new(coords, pt);
		json_array_append_new(times, ctl_json_time(res, i, F_TS));
		json_array_append_new(speeds, ctl_json_real(res, i, F_SPEED));
	}
	json_t *geom;
	if (n >= 2)
		geom = json_pack("{s:s, s:o}", "type", "LineString", "coordinates", coords);
	else if (n == 1) {
		geom = json_pack("{s:s, s:O}", "type", "Point", "coordinates",
				 json_array_get(coords, 0));
		json_decref(coords);
	} else {
		geom = json_null();
		json_decref(coords);
	}
	json_t *props = json_pack("{s:s, s:s, s:s, s:i, s:o, s:o}", "vehicle", vehicle, "from",
				  from, "to", to, "points", n, "coordTimes", times, "speed_kmh",
				  speeds);
	json_t *f = json_pack("{s:s, s:o, s:o}", "type", "Feature", "geometry", geom, "properties",
			      props);
	char *text = ctl_json_line(f);
	if (text) {
		fputs(text, fp);
		fputc('\n', fp);
	}
	free(text);
	json_decref(f);
}

void
ctl_track_write(FILE *fp, enum ctl_format fmt, const char *vehicle, const char *from,
		const char *to, const PGresult *res)
{
	static const struct ctl_column cols[] = {
		{ "vehicle", NULL, 0, 0 },   { "ts", NULL, CTL_COL_LOCALTIME, 0 },
		{ "lat", NULL, 0, 0 },       { "lon", NULL, 0, 0 },
		{ "speed_kmh", NULL, 0, 0 }, { "heading", NULL, 0, 0 },
		{ "alt_m", NULL, 0, 0 },     { "hdop", NULL, 0, 0 },
		{ "fix", NULL, 0, 0 },       { "sats", NULL, 0, 0 },
		{ "un", NULL, 0, 0 },        { "hazard_class", NULL, 0, 0 },
		{ "zone_ids", NULL, 0, 0 },
	};
	if (fmt == CTL_FMT_GEOJSON) {
		geojson(fp, vehicle, from, to, res);
	} else if (fmt == CTL_FMT_GPX) {
		gpx(fp, vehicle, res);
	} else {
		ctl_out *o = ctl_out_new(fmt, cols, sizeof cols / sizeof cols[0], fp,
					 false);
		for (int i = 0; o && i < PQntuples(res); i++) {
			json_t *row = json_object();
			json_object_set_new(row, "vehicle", json_string(vehicle));
			json_object_set_new(row, "ts", ctl_json_time(res, i, F_TS));
			json_object_set_new(row, "lat", ctl_json_real(res, i, F_LAT));
			json_object_set_new(row, "lon", ctl_json_real(res, i, F_LON));
			json_object_set_new(row, "speed_kmh", ctl_json_real(res, i, F_SPEED));
			json_object_set_new(row, "heading", ctl_json_real(res, i, F_HEADING));
			json_object_set_new(row, "alt_m", ctl_json_real(res, i, F_ALT));
			json_object_set_new(row, "hdop", ctl_json_real(res, i, F_HDOP));
			json_object_set_new(row, "fix", ctl_json_int(res, i, F_FIX));
			json_object_set_new(row, "sats", ctl_json_int(res, i, F_SATS));
			json_object_set_new(row, "un", ctl_json_text(res, i, F_UN));
			json_object_set_new(row, "hazard_class", ctl_json_text(res, i, F_CLASS));
			json_object_set_new(row, "zone_ids", ctl_json_parse(res, i, F_ZONES));
			ctl_out_row(o, row);
		}
		if (o)
			ctl_out_finish(o);
		ctl_out_free(o);
	}
}
