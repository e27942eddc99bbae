/*
 * ing_time.c - RFC 3339 date-times to microseconds since the epoch.
 *
 * Pure arithmetic: no timegm(), mktime(), strptime() or TZ, so the result
 * does not depend on the process's locale or time zone. Days are counted
 * with the days-from-civil algorithm (H. Hinnant, "chrono-compatible
 * low-level date algorithms"), exact for the proleptic Gregorian calendar.
 * Limits: years 0000..9999 (four digits, as RFC 3339 says); fractions
 * beyond microseconds are truncated; a leap second (:60) is read as the
 * following minute's :00, as POSIX time has no leap seconds.
 */
#include <stdbool.h>

#include "ingest/ingest.h"

int64_t
ing_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;                                     /* [0, 399] */
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;             /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

/* Read exactly `n` decimal digits at s[*i]. */
static bool
digits(const char *s, size_t len, size_t *i, unsigned n, int *out)
{
	int v = 0;

	if (len - *i < n)
		return false;
	while (n--) {
		char c = s[*i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
		(*i)++;
	}
	*out = v;
	return true;
}

static bool
expect(const char *s, size_t len, size_t *i, char c)
{
	if (*i >= len || s[*i] != c)
		return false;
	(*i)++;
	return true;
}

static unsigned
days_in_month(int y, int m)
{
	static const unsigned char dim[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dim[m - 1] + (m == 2 && leap);
}

int
ing_time_parse(const char *s, size_t len, int64_t *out_us)
{
	size_t i = 0;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, secs;
	unsigned nfrac = 0;

	if (!s)
		return -1;
	if (!digits(s, len, &i, 4, &y) || !expect(s, len, &i, '-') ||
	    !digits(s, len, &i, 2, &mo) || !expect(s, len, &i, '-') ||
	    !digits(s, len, &i, 2, &d))
		return -1;
	if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
		return -1;
	i++;
	if (!digits(s, len, &i, 2, &h) || !expect(s, len, &i, ':') ||
	    !digits(s, len, &i, 2, &mi) || !expect(s, len, &i, ':') ||
	    !digits(s, len, &i, 2, &sec))
		return -1;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (nfrac < 6)
				frac = frac * 10 + (s[i] - '0');
			nfrac++;
			i++;
		}
		if (nfrac == 0)
			return -1;
		for (; nfrac < 6; nfrac++)
			frac *= 10;
	}
	if (i >= len)
		return -1;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '+' ? 1 : -1;
		i++;
		if (!digits(s, len, &i, 2, &oh) || !expect(s, len, &i, ':') ||
		    !digits(s, len, &i, 2, &om))
			return -1;
	} else {
		return -1;
	}
	if (i != len)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
		return -1;

	secs = ing_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	       h * 3600 + mi * 60 + sec;
	/* Local time = UTC + offset, so UTC = local - offset. */
	secs -= sign * (oh * 3600 + om * 60);
	if (out_us)
		*out_us = secs * 1000000 + frac;
	return 0;
}
