/*
 * ld_util.c: clocks, RFC 3339 times, hashes, a PRNG and a sample recorder for
 * hazgate-load. Times are parsed by hand (no timegm, no locale) so that the
 * simulator's output is the same on every machine.
 */
#include "loadgen/ld.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile int ld_stop;

const char *
ld_strerror(int err)
{
	switch (err) {
	case LD_OK: return "success";
	case LD_ERR_USAGE: return "bad usage";
	case LD_ERR_IO: return "input/output error";
	case LD_ERR_NOMEM: return "out of memory";
	case LD_ERR_MQTT: return "MQTT connection failed or lost";
	case LD_ERR_TIMEOUT: return "timed out";
	case LD_ERR_DATA: return "bad input data";
	}
	return "unknown error";
}

int64_t
ld_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
ld_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Read n digits at s[*i]; -1 when they are not there. */
static int
digits(const char *s, size_t len, size_t *i, int n)
{
	int v = 0;

	for (int k = 0; k < n; k++, (*i)++) {
		if (*i >= len || s[*i] < '0' || s[*i] > '9')
			return -1;
		v = v * 10 + (s[*i] - '0');
	}
	return v;
}

int
ld_time_parse(const char *s, size_t len, int64_t *ms)
{
	size_t i = 0;
	int y, mo, d, h, mi, se, frac = 0, off = 0;

	if ((y = digits(s, len, &i, 4)) < 0 || i >= len || s[i++] != '-' ||
	    (mo = digits(s, len, &i, 2)) < 1 || mo > 12 || i >= len || s[i++] != '-' ||
	    (d = digits(s, len, &i, 2)) < 1 || d > 31 || i >= len ||
	    (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
		return LD_ERR_DATA;
	i++;
	if ((h = digits(s, len, &i, 2)) < 0 || h > 23 || i >= len || s[i++] != ':' ||
	    (mi = digits(s, len, &i, 2)) < 0 || mi > 59 || i >= len || s[i++] != ':' ||
	    (se = digits(s, len, &i, 2)) < 0 || se > 60)
		return LD_ERR_DATA;
	if (i < len && s[i] == '.') {
		int scale = 100, n = 0;
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			frac += (s[i] - '0') * scale;
			scale /= 10;
			i++;
			n++;
		}
		if (n == 0)
			return LD_ERR_DATA;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		int sign = s[i++] == '-' ? -1 : 1, oh, om;
		if ((oh = digits(s, len, &i, 2)) < 0 || oh > 23 || i >= len || s[i++] != ':' ||
		    (om = digits(s, len, &i, 2)) < 0 || om > 59)
			return LD_ERR_DATA;
		off = sign * (oh * 60 + om);
	} else {
		return LD_ERR_DATA;
	}
	if (i != len)
		return LD_ERR_DATA;
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) - off * 60) * 1000
	      + frac;
	return LD_OK;
}

int
ld_time_format(int64_t ms, char *buf, size_t size)
{
	int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int msec = (int)(ms - sec * 1000);
	int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
	int64_t rem = sec - days * 86400;
	int y, m, d;

	civil_from_days(days, &y, &m, &d);
	return snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d,
	                (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), msec);
}

void
ld_topic_format(const char *tmpl, const char *vehicle, char *buf, size_t size)
{
	static const char key[] = "{vehicle}";
	size_t n = 0;

	if (tmpl == NULL)
		tmpl = "tankers/{vehicle}/telemetry";
	if (size == 0)
		return;
	while (*tmpl && n + 1 < size) {
		if (strncmp(tmpl, key, sizeof(key) - 1) == 0) {
			for (const char *v = vehicle; *v && n + 1 < size; v++)
				buf[n++] = *v;
			tmpl += sizeof(key) - 1;
		} else {
			buf[n++] = *tmpl++;
		}
	}
	buf[n] = '\0';
}

uint64_t
ld_hash(const void *p, size_t len)
{
	const unsigned char *c = p;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= c[i];
		h *= 1099511628211ULL;
	}
	return h;
}

uint64_t
ld_fix_key(const char *vehicle, size_t len, int64_t ts_ms)
{
	uint64_t h = ld_hash(vehicle, len);

	h ^= (uint64_t)ts_ms * 0x9E3779B97F4A7C15ULL;
	h ^= h >> 29;
	return h;
}

uint64_t
ld_rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

double
ld_rand_unit(uint64_t *state)
{
	return (double)(ld_rand_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

struct ld_samples {
	int64_t *v;
	size_t n, cap;
	bool sorted;
};

struct ld_samples *
ld_samples_new(void)
{
	return calloc(1, sizeof(struct ld_samples));
}

void
ld_samples_free(struct ld_samples *s)
{
	if (s == NULL)
		return;
	free(s->v);
	free(s);
}

int
ld_samples_add(struct ld_samples *s, int64_t v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		int64_t *nv = realloc(s->v, cap * sizeof(*nv));
		if (nv == NULL)
			return LD_ERR_NOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	s->sorted = false;
	return LD_OK;
}

size_t
ld_samples_count(const struct ld_samples *s)
{
	return s->n;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t
ld_samples_pct(struct ld_samples *s, double p)
{
	size_t i;

	if (s->n == 0)
		return 0;
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof(*s->v), cmp_i64);
		s->sorted = true;
	}
	/* nearest rank */
	i = (size_t)(p / 100.0 * (double)s->n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > s->n)
		i = s->n;
	return s->v[i - 1];
}
