/*
 * gf_tz.c - time zones from TZif bytes (RFC 8536) and POSIX TZ rules.
 *
 * gf_tz_parse reads the version 1 header, skips the 32-bit block when a
 * version 2+ block follows, and keeps the 64-bit transitions plus the
 * footer rule, which decides every instant after the last transition (so
 * DST keeps working past the table, as in slim TZif files). Before the
 * first transition the first local time type applies (RFC 8536 3.2).
 * Limits: leap-second records ("right/" zones) are skipped, not applied;
 * a footer with the v3 "all year DST" trick works through the rule maths.
 * Pure: the caller supplies the bytes (see gf_tzload.c for reading them).
 */
#include "geofence/geofence-internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/hz_time.h"

struct gf_posix_date {
	char type; /* 'J' Jn, 'n' zero-based n, 'M' Mm.w.d */
	int a, b, c;
	int32_t time; /* seconds after local midnight, may be <0 or >24h */
};

struct gf_tz {
	size_t ntrans;
	int64_t *trans;
	uint8_t *tidx;
	size_t ntypes;
	int32_t *utoff;
	uint8_t *isdst;
	bool has_rule;
	int32_t std_off, dst_off; /* seconds east of UTC */
	bool has_dst;
	struct gf_posix_date start, end;
};

void
gf_tz_free(gf_tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->trans);
	free(tz->tidx);
	free(tz->utoff);
	free(tz->isdst);
	free(tz);
}

/* --- POSIX TZ rules ---------------------------------------------------- */

static const char *
rule_name(const char *p)
{
	if (*p == '<') {
		const char *q = strchr(p, '>');
		if (q == NULL || q - p < 4)
			return NULL;
		return q + 1;
	}
	const char *q = p;
	while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z'))
		q++;
	return q - p >= 3 ? q : NULL;
}

/* [+-]h[h[h]][:mm[:ss]] into seconds; maxh bounds the hours. */
static const char *
rule_hms(const char *p, int maxh, int32_t *out)
{
	int sign = 1, h = 0, m = 0, s = 0, n = 0;
	if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
	}
	while (*p >= '0' && *p <= '9' && n < 3) {
		h = h * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || h > maxh)
		return NULL;
	if (*p == ':') {
		p++;
		if (!(p[0] >= '0' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9'))
			return NULL;
		m = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
		if (*p == ':') {
			p++;
			if (!(p[0] >= '0' && p[0] <= '5' && p[1] >= '0' &&
			      p[1] <= '9'))
				return NULL;
			s = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
		}
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *
rule_num(const char *p, int lo, int hi, int *out)
{
	int v = 0, n = 0;
	while (*p >= '0' && *p <= '9' && n < 4) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || v < lo || v > hi)
		return NULL;
	*out = v;
	return p;
}

static const char *
rule_date(const char *p, struct gf_posix_date *d)
{
	if (*p == 'J') {
		d->type = 'J';
		p = rule_num(p + 1, 1, 365, &d->a);
	} else if (*p == 'M') {
		d->type = 'M';
		p = rule_num(p + 1, 1, 12, &d->a);
		if (p == NULL || *p++ != '.')
			return NULL;
		p = rule_num(p, 1, 5, &d->b);
		if (p == NULL || *p++ != '.')
			return NULL;
		p = rule_num(p, 0, 6, &d->c);
	} else {
		d->type = 'n';
		p = rule_num(p, 0, 365, &d->a);
	}
	if (p == NULL)
		return NULL;
	d->time = 7200;
	if (*p == '/')
		p = rule_hms(p + 1, 167, &d->time);
	return p;
}

static int
parse_rule(gf_tz *tz, const char *p)
{
	int32_t off;
	p = rule_name(p);
	if (p == NULL || (p = rule_hms(p, 24, &off)) == NULL)
		return GF_ETZ;
	tz->std_off = -off;
	tz->has_rule = true;
	tz->has_dst = false;
	if (*p == '\0')
		return GF_OK;
	if ((p = rule_name(p)) == NULL)
		return GF_ETZ;
	tz->has_dst = true;
	tz->dst_off = tz->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if ((p = rule_hms(p, 24, &off)) == NULL)
			return GF_ETZ;
		tz->dst_off = -off;
	}
	if (*p == '\0') {
		/* No rule given: POSIX leaves it to the implementation; use
		 * the US rules as glibc and tzcode do. */
		tz->start = (struct gf_posix_date){'M', 3, 2, 0, 7200};
		tz->end = (struct gf_posix_date){'M', 11, 1, 0, 7200};
		return GF_OK;
	}
	if (*p++ != ',' || (p = rule_date(p, &tz->start)) == NULL ||
	    *p++ != ',' || (p = rule_date(p, &tz->end)) == NULL || *p != '\0')
		return GF_ETZ;
	return GF_OK;
}

/* Day number (days since epoch) of a rule date in year y. */
static int64_t
rule_day(const struct gf_posix_date *d, int64_t y)
{
	int64_t jan1 = hz_days_from_civil(y, 1, 1);
	if (d->type == 'J')
		return jan1 + d->a - 1 + (hz_leap_year(y) && d->a >= 60);
	if (d->type == 'n')
		return jan1 + d->a;
	int64_t first = hz_days_from_civil(y, (unsigned)d->a, 1);
	int wd = (int)(((first % 7) + 7 + 4) % 7); /* 1970-01-01 was Thursday */
	int day = 1 + (d->c - wd + 7) % 7 + (d->b - 1) * 7;
	int dim = (int)hz_days_in_month(y, (unsigned)d->a);
	while (day > dim)
		day -= 7;
	return first + day - 1;
}

static int32_t
rule_offset(const gf_tz *tz, int64_t t, bool *is_dst)
{
	*is_dst = false;
	if (!tz->has_dst)
		return tz->std_off;
	int64_t lt = t + tz->std_off;
	int64_t days = hz_floor_div(lt, 86400);
	int64_t y;
	unsigned m, d;
	hz_civil_from_days(days, &y, &m, &d);
	int64_t s = rule_day(&tz->start, y) * 86400 + tz->start.time - tz->std_off;
	int64_t e = rule_day(&tz->end, y) * 86400 + tz->end.time - tz->dst_off;
	bool dst = s < e ? (t >= s && t < e) : !(t >= e && t < s);
	*is_dst = dst;
	return dst ? tz->dst_off : tz->std_off;
}

int
gf_tz_from_posix(const char *rule, gf_tz **out)
{
	if (rule == NULL || out == NULL)
		return GF_EINVAL;
	*out = NULL;
	gf_tz *tz = calloc(1, sizeof *tz);
	if (tz == NULL)
		return GF_ENOMEM;
	int rc = parse_rule(tz, rule);
	if (rc != GF_OK) {
		gf_tz_free(tz);
		return rc;
	}
	*out = tz;
	return GF_OK;
}

/* --- TZif ---------------------------------------------------------------- */

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	       p[3];
}

static int64_t
be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

int
gf_tz_parse(const uint8_t *data, size_t len, gf_tz **out)
{
	int rc = GF_ETZ;
	gf_tz *tz = NULL;
	if (data == NULL || out == NULL)
		return GF_EINVAL;
	*out = NULL;
	if (len < 44 || memcmp(data, "TZif", 4) != 0)
		return GF_ETZ;
	int version = data[4] ? data[4] - '0' : 1;
	const uint8_t *h = data;
	size_t tsz = 4;
	size_t c[6];
	for (;;) {
		for (int i = 0; i < 6; i++)
			c[i] = be32(h + 20 + 4 * i);
		/* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
		size_t body = c[3] * tsz + c[3] + c[4] * 6 + c[5] +
			      c[2] * (tsz + 4) + c[1] + c[0];
		if (c[4] == 0 || c[3] > 1000000 || c[4] > 256 || c[5] > 65536 ||
		    c[2] > 100000 || (size_t)(h - data) + 44 + body > len)
			return GF_ETZ;
		if (version >= 2 && tsz == 4) {
			h += 44 + body;
			if ((size_t)(h - data) + 44 > len || memcmp(h, "TZif", 4))
				return GF_ETZ;
			tsz = 8;
			continue;
		}
		break;
	}
	tz = calloc(1, sizeof *tz);
	if (tz == NULL)
		return GF_ENOMEM;
	tz->ntrans = c[3];
	tz->ntypes = c[4];
	tz->trans = malloc((c[3] ? c[3] : 1) * sizeof *tz->trans);
	tz->tidx = malloc(c[3] ? c[3] : 1);
	tz->utoff = malloc(c[4] * sizeof *tz->utoff);
	tz->isdst = malloc(c[4]);
	if (!tz->trans || !tz->tidx || !tz->utoff || !tz->isdst) {
		rc = GF_ENOMEM;
		goto err;
	}
	const uint8_t *p = h + 44;
	for (size_t i = 0; i < c[3]; i++, p += tsz) {
		tz->trans[i] = tsz == 8 ? be64(p) : (int32_t)be32(p);
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
			goto err;
	}
	for (size_t i = 0; i < c[3]; i++, p++) {
		if (*p >= c[4])
			goto err;
		tz->tidx[i] = *p;
	}
	for (size_t i = 0; i < c[4]; i++, p += 6) {
		tz->utoff[i] = (int32_t)be32(p);
		tz->isdst[i] = p[4];
		if (tz->utoff[i] <= -89999 || tz->utoff[i] >= 93600 || p[4] > 1)
			goto err;
	}
	p += c[5] + c[2] * (tsz + 4) + c[1] + c[0];
	if (tsz == 8 && (size_t)(p - data) < len && *p == '\n') {
		const uint8_t *e = memchr(p + 1, '\n', len - (size_t)(p - data) - 1);
		if (e == NULL)
			goto err;
		size_t n = (size_t)(e - p - 1);
		if (n > 0) {
			char rule[256];
			if (n >= sizeof rule)
				goto err;
			memcpy(rule, p + 1, n);
			rule[n] = '\0';
			if (parse_rule(tz, rule) != GF_OK)
				goto err;
		}
	}
	*out = tz;
	return GF_OK;
err:
	gf_tz_free(tz);
	return rc;
}

int32_t
gf_tz_offset(const gf_tz *tz, int64_t t, bool *is_dst)
{
	bool dst = false;
	int32_t off = 0;
	if (tz == NULL)
		goto done;
	if (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1]) {
		if (tz->has_rule && (tz->ntrans == 0 ||
				     t >= tz->trans[tz->ntrans - 1])) {
			off = rule_offset(tz, t, &dst);
			goto done;
		}
		size_t k = tz->ntrans ? tz->tidx[tz->ntrans - 1] : 0;
		off = tz->utoff[k];
		dst = tz->isdst[k];
		goto done;
	}
	if (t < tz->trans[0]) {
		off = tz->utoff[0];
		dst = tz->isdst[0];
		goto done;
	}
	size_t lo = 0, hi = tz->ntrans - 1; /* trans[lo] <= t < trans[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	off = tz->utoff[tz->tidx[lo]];
	dst = tz->isdst[tz->tidx[lo]];
done:
	if (is_dst)
		*is_dst = dst;
	return off;
}
