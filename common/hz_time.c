/*
 * hz_time.c - calendar arithmetic, the RFC 3339 parser and the timestamp
 * forms (see hz_time.h for the rule). Pure integer arithmetic: the result
 * does not depend on the process's locale or time zone.
 */
#include "common/hz_time.h"

int64_t
hz_floor_div(int64_t a, int64_t b)
{
	/* -(a + 1) cannot overflow, where -a would for INT64_MIN. */
	return a >= 0 ? a / b : -(-(a + 1) / b) - 1;
}

bool
hz_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned
hz_days_in_month(int64_t y, unsigned m)
{
	if (m == 2)
		return hz_leap_year(y) ? 29 : 28;
	/* 31 for 1 3 5 7 8 10 12: odd months up to July, even ones after. */
	return 30 + ((m + m / 8) & 1);
}

int64_t
hz_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;                                     /* [0, 399] */
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;             /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

void
hz_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;                                  /* [0, 146096] */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);           /* [0, 365] */
	mp = (5 * doy + 2) / 153;                                /* [0, 11] */
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* ---- parsing --------------------------------------------------------- */

/* The text being read: bytes, length, position. */
struct scan {
	const char *s;
	size_t len, i;
};

/* Read exactly n decimal digits. */
static bool
digits(struct scan *sc, unsigned n, unsigned *out)
{
	unsigned v = 0;

	if (sc->len - sc->i < n)
		return false;
	while (n--) {
		char c = sc->s[sc->i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
		sc->i++;
	}
	*out = v;
	return true;
}

static bool
at(const struct scan *sc, char c)
{
	return sc->i < sc->len && sc->s[sc->i] == c;
}

static bool
expect(struct scan *sc, char c)
{
	if (!at(sc, c))
		return false;
	sc->i++;
	return true;
}

/* The fraction after its separator: one digit or more, kept to the
 * microsecond, the rest dropped. */
static bool
fraction(struct scan *sc, uint32_t *usec)
{
	uint32_t v = 0;
	unsigned n = 0;

	while (sc->i < sc->len && sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9') {
		if (n < 6)
			v = v * 10 + (uint32_t)(sc->s[sc->i] - '0');
		n++;
		sc->i++;
	}
	if (n == 0)
		return false;
	for (; n < 6; n++)
		v *= 10;
	*usec = v;
	return true;
}

/* 'Z', 'z' or +hh:mm / -hh:mm. */
static bool
zone(struct scan *sc, int32_t *offset_s)
{
	unsigned oh, om;
	int sign;

	if (expect(sc, 'Z') || expect(sc, 'z')) {
		*offset_s = 0;
		return true;
	}
	if (!at(sc, '+') && !at(sc, '-'))
		return false;
	sign = sc->s[sc->i++] == '-' ? -1 : 1;
	if (!digits(sc, 2, &oh) || !expect(sc, ':') || !digits(sc, 2, &om) ||
	    oh > 23 || om > 59)
		return false;
	*offset_s = sign * (int32_t)(oh * 3600 + om * 60);
	return true;
}

int
hz_time_scan(const char *s, size_t len, unsigned flags, struct hz_civil *out)
{
	struct scan sc = { s, len, 0 };
	unsigned y;
	struct hz_civil c = { 0 };

	if (s == NULL && len > 0)
		return -1;
	if (!digits(&sc, 4, &y) || !expect(&sc, '-') ||
	    !digits(&sc, 2, &c.month) || !expect(&sc, '-') ||
	    !digits(&sc, 2, &c.day))
		return -1;
	c.year = y;
	if (c.month < 1 || c.month > 12 || c.day < 1 ||
	    c.day > hz_days_in_month(c.year, c.month))
		return -1;
	if (sc.i == len && (flags & HZ_TIME_DATE_ONLY)) {
		*out = c;
		return 0;
	}
	if (!expect(&sc, 'T') && !expect(&sc, 't') && !expect(&sc, ' '))
		return -1;
	if (!digits(&sc, 2, &c.hour) || !expect(&sc, ':') ||
	    !digits(&sc, 2, &c.min))
		return -1;
	if (expect(&sc, ':')) {
		if (!digits(&sc, 2, &c.sec))
			return -1;
		if ((expect(&sc, '.') ||
		     ((flags & HZ_TIME_COMMA) && expect(&sc, ','))) &&
		    !fraction(&sc, &c.usec))
			return -1;
	} else if (!(flags & HZ_TIME_NO_SECONDS)) {
		return -1;
	}
	if (c.hour > 23 || c.min > 59 || c.sec > 60)
		return -1;
	/* Whatever follows must be a zone, all of it. */
	if (sc.i < len) {
		if (!zone(&sc, &c.offset_s) || sc.i != len)
			return -1;
		c.zoned = true;
	} else if (!(flags & HZ_TIME_NO_ZONE)) {
		return -1;
	}
	*out = c;
	return 0;
}

int64_t
hz_civil_to_us(const struct hz_civil *c)
{
	int64_t secs = hz_days_from_civil(c->year, c->month, c->day) * 86400 +
	               c->hour * 3600 + c->min * 60 + c->sec;

	/* Local time = UTC + offset, so UTC = local - offset. */
	if (c->zoned)
		secs -= c->offset_s;
	return secs * 1000000 + c->usec;
}

int
hz_time_parse(const char *s, size_t len, int64_t *out_us)
{
	struct hz_civil c;

	if (s == NULL || hz_time_scan(s, len, 0, &c) != 0)
		return -1;
	if (out_us)
		*out_us = hz_civil_to_us(&c);
	return 0;
}

/* ---- formatting ------------------------------------------------------ */

size_t
hz_time_format(int64_t us, enum hz_time_style style, char *buf)
{
	int64_t secs = hz_floor_div(us, 1000000), days = hz_floor_div(secs, 86400);
	/* The remainders in [0, 1000000) and [0, 86400); secs * 1000000 would
	 * overflow for the lowest us. */
	int64_t usec = (us % 1000000 + 1000000) % 1000000;
	int64_t sod = secs - days * 86400, y;
	unsigned m, d;
	bool ms = style == HZ_TIME_MS, pg = style == HZ_TIME_PG;
	char *p = buf;

	hz_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999;   /* outside RFC 3339: clamp the year only */
	/* Each field in its width, then the character after it. */
	const struct { uint32_t v; int width; char after; } f[] = {
		{ (uint32_t)y, 4, '-' }, { m, 2, '-' }, { d, 2, pg ? ' ' : 'T' },
		{ (uint32_t)sod / 3600, 2, ':' }, { (uint32_t)sod / 60 % 60, 2, ':' },
		{ (uint32_t)sod % 60, 2, '.' },
		{ (uint32_t)(ms ? usec / 1000 : usec), ms ? 3 : 6, pg ? '+' : 'Z' },
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		uint32_t v = f[i].v;

		for (int k = f[i].width - 1; k >= 0; k--, v /= 10)
			p[k] = (char)('0' + v % 10);
		p += f[i].width;
		*p++ = f[i].after;
	}
	if (pg) {
		*p++ = '0';     /* "+00" */
		*p++ = '0';
	}
	*p = '\0';
	return (size_t)(p - buf);
}
