/*
 * ld_util.c: RFC 3339 times, hashes, a PRNG and a sample recorder for
 * hazgate-load. Times are common/hz_time.c, pure arithmetic (no timegm, no
 * locale), so that the simulator's output is the same on every machine;
 * the clocks are common/hz_clock.h.
 */
#include "loadgen/ld.h"

#include <stdlib.h>
#include <string.h>

#include "common/hz_hash.h"
#include "common/hz_time.h"

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

int
ld_time_parse(const char *s, size_t len, int64_t *ms)
{
	int64_t us;

	if (hz_time_parse(s, len, &us) != 0)
		return LD_ERR_DATA;
	/* Milliseconds toward the past, as the fraction is truncated. */
	*ms = hz_floor_div(us, 1000);
	return LD_OK;
}

int
ld_time_format(int64_t ms, char *buf, size_t size)
{
	char ts[HZ_TIME_FORMAT_SIZE];

	hz_time_format(ms * 1000, HZ_TIME_MS, ts);
	return snprintf(buf, size, "%s", ts);
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
	return hz_fnv1a64(p, len);
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
