/*
 * gf_time.c - calendar arithmetic, RFC 3339 parsing and the UTC
 * millisecond timestamp form used in alerts.
 *
 * Civil date <-> day number uses Howard Hinnant's proleptic Gregorian
 * algorithms (exact for any int64 year range we meet). Parsing accepts
 * RFC 3339 date-times only (no leap second 60, no week dates); fractions
 * beyond microseconds are refused rather than silently rounded.
 */
#include "geofence/geofence-internal.h"

#include <string.h>

int64_t
gf_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void
gf_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
gf_time_parse(const char *s, int64_t *out_us)
{
	int Y, M, D, h, mi, sec, oh, om;
	static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31,
					      30, 31, 30, 31};
	if (s == NULL || out_us == NULL || strlen(s) < 20)
		return GF_EINVAL;
	if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) ||
	    s[7] != '-' || digits(s + 8, 2, &D) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return GF_EINVAL;
	if (M < 1 || M > 12 || D < 1 || h > 23 || mi > 59 || sec > 59)
		return GF_EINVAL;
	if (D > mdays[M - 1] + (M == 2 && leap(Y)))
		return GF_EINVAL;
	const char *p = s + 19;
	int64_t frac = 0;
	if (*p == '.') {
		int nd = 0;
		p++;
		while (*p >= '0' && *p <= '9') {
			if (++nd > 9)
				return GF_EINVAL;
			if (nd <= 6)
				frac = frac * 10 + (*p - '0');
			else if (*p != '0')
				return GF_EINVAL; /* sub-microsecond precision */
			p++;
		}
		if (nd == 0)
			return GF_EINVAL;
		for (int i = nd; i < 6; i++)
			frac *= 10;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return GF_EINVAL;
		off = sign * (oh * 3600 + om * 60);
		p += 6;
	} else {
		return GF_EINVAL;
	}
	if (*p != '\0')
		return GF_EINVAL;
	int64_t days = gf_days_from_civil(Y, (unsigned)M, (unsigned)D);
	int64_t t = days * 86400 + h * 3600 + mi * 60 + sec - off;
	*out_us = t * 1000000 + frac;
	return GF_OK;
}

void
gf_time_format(int64_t us, char buf[25])
{
	int64_t ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
	int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int msr = (int)(ms - secs * 1000);
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int sod = (int)(secs - days * 86400);
	int64_t y;
	unsigned m, d;
	gf_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999; /* outside RFC 3339; clamp the year only */
	/* Hand-rolled: snprintf with %04lld would trip -Wformat-truncation. */
	char *p = buf;
	int vals[7] = {(int)y, (int)m, (int)d, sod / 3600, sod / 60 % 60,
		       sod % 60, msr};
	static const char wid[7] = {4, 2, 2, 2, 2, 2, 3};
	static const char sep[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
	for (int i = 0; i < 7; i++) {
		for (int k = wid[i] - 1, v = vals[i]; k >= 0; k--, v /= 10)
			p[k] = (char)('0' + v % 10);
		p += wid[i];
		*p++ = sep[i];
	}
	*p = '\0';
}
