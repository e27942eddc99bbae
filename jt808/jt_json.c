/*
 * jt_json.c - one 0x0200 location as hazgate's native JSON, the payload
 * hazgate-jt808 publishes on tankers/<vehicle>/telemetry (DESIGN.md
 * "Telemetry in" plus the "hazgate-jt808" members). Written straight into
 * the caller's buffer: no allocation, no printf. Every number is the
 * report's own fixed-point integer printed in decimal (1e-6 degrees,
 * 0.1 km/h, 0.1 km), so the text is exact and trailing zeros are dropped.
 */
#include <string.h>

#include "common/hz_time.h"
#include "jt808/jt808.h"

/* An output cursor; ok turns false once anything did not fit. */
struct out {
	char *p;
	char *end;
	bool ok;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (!o->ok || (size_t)(o->end - o->p) < n) {
		o->ok = false;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

#define PUT_LIT(o, s) put((o), (s), sizeof(s) - 1)

/* v / 10^decimals in decimal, trailing fraction zeros dropped. */
static void
put_fixed(struct out *o, int64_t v, unsigned decimals)
{
	char tmp[32], *e = tmp + sizeof(tmp), *q = e;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	unsigned i;
	bool frac = false;

	for (i = 0; i < decimals; i++, u /= 10) {
		unsigned d = (unsigned)(u % 10);

		if (d || frac) {
			*--q = (char)('0' + d);
			frac = true;
		}
	}
	if (frac)
		*--q = '.';
	do {
		*--q = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--q = '-';
	put(o, q, (size_t)(e - q));
}

/* A JSON string: quotes, '"' '\\' and control characters escaped; other
 * bytes as they are (the caller gives UTF-8). */
static void
put_string(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	PUT_LIT(o, "\"");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(o, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(o, esc, 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			put(o, esc, 6);
		}
	}
	put(o, s + run, n - run);
	PUT_LIT(o, "\"");
}

static void
put_alarms(struct out *o, uint32_t alarm)
{
	bool first = true;

	PUT_LIT(o, ",\"alarms\":[");
	for (unsigned b = 0; alarm && b < JT_ALARM_BITS; b++) {
		const char *name;

		if (!(alarm & (1u << b)) || !(name = jt_alarm_name(b)))
			continue;
		if (!first)
			PUT_LIT(o, ",");
		first = false;
		PUT_LIT(o, "\"");
		put(o, name, strlen(name));
		PUT_LIT(o, "\"");
	}
	PUT_LIT(o, "]");
}

enum jt_err
jt_json_location(const struct jt_location *loc, const char *vehicle,
                 size_t vehicle_len, const char *phone, bool backfill,
                 char *buf, size_t cap, size_t *out_len)
{
	struct out o = { buf, buf + cap, true };
	char ts[HZ_TIME_FORMAT_SIZE];
	size_t n;

	if (!loc->time_ok)
		return JT_E_TIME;
	PUT_LIT(&o, "{\"vehicle\":");
	put_string(&o, vehicle, vehicle_len);
	PUT_LIT(&o, ",\"ts\":\"");
	n = hz_time_format(loc->time_us, HZ_TIME_MS, ts);
	put(&o, ts, n);
	PUT_LIT(&o, "\",\"lat\":");
	put_fixed(&o, loc->lat_e6, 6);
	PUT_LIT(&o, ",\"lon\":");
	put_fixed(&o, loc->lon_e6, 6);
	PUT_LIT(&o, ",\"speed_kmh\":");
	put_fixed(&o, loc->speed_dkmh, 1);
	PUT_LIT(&o, ",\"heading\":");
	put_fixed(&o, loc->direction, 0);
	PUT_LIT(&o, ",\"alt_m\":");
	put_fixed(&o, loc->alt_m, 0);
	if (loc->present & JT_HAS_SATS) {
		PUT_LIT(&o, ",\"sats\":");
		put_fixed(&o, loc->sats, 0);
	}
	if (loc->ignition)
		PUT_LIT(&o, ",\"ignition\":true");
	else
		PUT_LIT(&o, ",\"ignition\":false");
	PUT_LIT(&o, ",\"source\":\"jt808\",\"terminal\":");
	put_string(&o, phone, strlen(phone));
	put_alarms(&o, loc->alarm);
	PUT_LIT(&o, ",\"status\":");
	put_fixed(&o, loc->status, 0);
	if (loc->present & JT_HAS_MILEAGE) {
		PUT_LIT(&o, ",\"mileage_km\":");
		put_fixed(&o, loc->mileage_dkm, 1);
	}
	if (backfill)
		PUT_LIT(&o, ",\"backfill\":true");
	PUT_LIT(&o, "}");
	if (!o.ok)
		return JT_E_NO_SPACE;
	*out_len = (size_t)(o.p - buf);
	return JT_OK;
}
