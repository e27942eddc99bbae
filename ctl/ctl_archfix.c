/*
 * ctl_archfix.c: a decoded fix as the CSV record COPY writes for it in a
 * positions archive (ctl_archfix.h says which rules of COPY and of the
 * output functions are followed, and their limits).
 */
#include "ctl/ctl_archfix.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hz_time.h"

/* 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z, Unix microseconds: the
 * times to_char's YYYY writes as four digits (hz_time_format's too). */
#define FIRST_US (INT64_C(-62135596800) * 1000000)
#define END_US	 (INT64_C(253402300800) * 1000000)

const char *
ctl_archfix_header(bool alarms)
{
	return alarms ? "vehicle,ts,lat,lon,speed_kmh,heading,alt_m,hdop,fix,sats,un,hazard_class,"
			"seq,ignition,zone_ids,received_at,alarms\n"
		      : "vehicle,ts,lat,lon,speed_kmh,heading,alt_m,hdop,fix,sats,un,hazard_class,"
			"seq,ignition,zone_ids,received_at\n";
}

/* Appends text s (NULL: NULL) as COPY CSV writes it; p has room. */
static char *
put_text(char *p, const char *s)
{
	if (!s)
		return p;
	bool quote = *s == '\0' || strpbrk(s, ",\"\n\r") != NULL;
	if (!quote) {
		size_t n = strlen(s);
		memcpy(p, s, n);
		return p + n;
	}
	*p++ = '"';
	for (; *s; s++) {
		if (*s == '"')
			*p++ = '"';
		*p++ = *s;
	}
	*p++ = '"';
	return p;
}

/* A time as to_char's text, or NULL when outside years 1-9999. */
static char *
put_time(char *p, int64_t us)
{
	if (us < FIRST_US || us >= END_US)
		return NULL;
	return p + hz_time_format(us, HZ_TIME_US, p);
}

long
ctl_archfix_record(const char *vehicle, const struct ctl_fix *x, bool alarms, char **buf,
		   size_t *cap)
{
	/* At most: each text doubled and quoted, 12 bytes an element of
	 * zone_ids, 32 a number or time, and the commas. */
	size_t need = 2 * (strlen(vehicle) + (x->un ? strlen(x->un) : 0) +
			   (x->hc ? strlen(x->hc) : 0)) +
		      (size_t)(x->nzones > 0 ? x->nzones : 0) * 12 + 16 * CTL_FLOAT_TEXT_MAX + 64;
	if (need > *cap) {
		char *nb = realloc(*buf, need);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = need;
	}
	char *p = put_text(*buf, vehicle);
	*p++ = ',';
	if (!(p = put_time(p, x->ts_us)))
		return 0;
	*p++ = ',';
	if (!(x->nulls & CTL_FIX_NULL_LAT))
		p += ctl_float8_text(x->lat, p);
	*p++ = ',';
	if (!(x->nulls & CTL_FIX_NULL_LON))
		p += ctl_float8_text(x->lon, p);
	const float reals[] = { x->speed, x->heading, x->alt, x->hdop };
	const uint32_t rnull[] = { CTL_FIX_NULL_SPEED, CTL_FIX_NULL_HEADING, CTL_FIX_NULL_ALT,
				   CTL_FIX_NULL_HDOP };
	for (int r = 0; r < 4; r++) {
		*p++ = ',';
		if (!(x->nulls & rnull[r]))
			p += ctl_float4_text(reals[r], p);
	}
	*p++ = ',';
	if (!(x->nulls & CTL_FIX_NULL_FIX))
		p += sprintf(p, "%d", x->fix);
	*p++ = ',';
	if (!(x->nulls & CTL_FIX_NULL_SATS))
		p += sprintf(p, "%d", x->sats);
	*p++ = ',';
	p = put_text(p, x->un);
	*p++ = ',';
	p = put_text(p, x->hc);
	*p++ = ',';
	if (!(x->nulls & CTL_FIX_NULL_SEQ))
		p += sprintf(p, "%" PRId64, x->seq);
	*p++ = ',';
	if (!(x->nulls & CTL_FIX_NULL_IGNITION))
		*p++ = x->ignition ? 't' : 'f';
	*p++ = ',';
	if (!(x->nulls & CTL_FIX_NULL_ZONES)) {
		/* array_out: {1,4}; a NULL element NULL; CSV quotes the comma */
		bool quote = x->nzones > 1;
		if (quote)
			*p++ = '"';
		*p++ = '{';
		for (int32_t i = 0; i < x->nzones; i++) {
			if (i)
				*p++ = ',';
			if (x->znull && x->znull[i]) {
				memcpy(p, "NULL", 4);
				p += 4;
			} else {
				p += sprintf(p, "%" PRId32, x->zones[i]);
			}
		}
		*p++ = '}';
		if (quote)
			*p++ = '"';
	}
	*p++ = ',';
	if (!(x->nulls & CTL_FIX_NULL_RECEIVED) && !(p = put_time(p, x->received_us)))
		return 0;
	if (alarms) {
		*p++ = ',';
		if (!(x->nulls & CTL_FIX_NULL_ALARMS))
			p += sprintf(p, "%" PRId32, x->alarms);
	}
	*p++ = '\n';
	return (long)(p - *buf);
}
