/*
 * decide_registry.c - the fleet registry's lookup tables (see
 * decide_registry.h): plate -> cargo and routes, device -> plate.
 *
 * Layout: one byte arena of records, one int64 array of routes, and two
 * open-addressing tables (linear probing, power-of-two sizes, at most half
 * full) of arena offsets + 1 (0 = empty slot).
 *   vehicle record: u8 len, plate, NUL, u8 len, un, NUL, u8 len, class,
 *                   NUL, u32 first route (index), u8 routes
 *   device record:  u8 len, device, NUL, u8 len, plate, NUL
 * The u32 is copied with memcpy (records are not aligned).
 */
#include "decide/decide_registry.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"

struct table {
	uint32_t *slot;
	size_t cap, n;
};

struct decide_registry {
	unsigned char *arena;
	size_t alen, acap;
	int64_t *routes;
	size_t nroutes, croutes;
	struct table veh, dev;
};

static int
fail(char *why, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;

	if (why && cap) {
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static uint32_t
hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

struct decide_registry *
decide_registry_new(void)
{
	return calloc(1, sizeof(struct decide_registry));
}

void
decide_registry_free(struct decide_registry *r)
{
	if (!r)
		return;
	free(r->arena);
	free(r->routes);
	free(r->veh.slot);
	free(r->dev.slot);
	free(r);
}

/* The slot for key (its own, or the empty one where it would go). */
static size_t
probe(const struct decide_registry *r, const struct table *t, const char *key, size_t n)
{
	size_t mask = t->cap - 1, i = hash(key, n) & mask;

	for (;; i = (i + 1) & mask) {
		uint32_t o = t->slot[i];
		if (o == 0)
			return i;
		const unsigned char *rec = r->arena + o - 1;
		if (rec[0] == n && memcmp(rec + 1, key, n) == 0)
			return i;
	}
}

static const unsigned char *
find(const struct decide_registry *r, const struct table *t, const char *key)
{
	size_t n;

	if (!r || !key || t->cap == 0)
		return NULL;
	n = strlen(key);
	if (n > ING_VEHICLE_MAX)
		return NULL;
	uint32_t o = t->slot[probe(r, t, key, n)];
	return o ? r->arena + o - 1 : NULL;
}

/* Room for one more key in t (grown and rehashed at half full). */
static int
table_room(struct decide_registry *r, struct table *t)
{
	if ((t->n + 1) * 2 <= t->cap)
		return DECIDE_REG_OK;
	size_t ncap = t->cap ? t->cap * 2 : 64;
	uint32_t *ns = calloc(ncap, sizeof *ns);
	if (!ns)
		return DECIDE_REG_ENOMEM;
	struct table nt = { ns, ncap, t->n };
	for (size_t i = 0; i < t->cap; i++) {
		uint32_t o = t->slot[i];
		if (!o)
			continue;
		const unsigned char *rec = r->arena + o - 1;
		ns[probe(r, &nt, (const char *)rec + 1, rec[0])] = o;
	}
	free(t->slot);
	*t = nt;
	return DECIDE_REG_OK;
}

static int
arena_room(struct decide_registry *r, size_t n)
{
	if (r->alen + n <= r->acap)
		return DECIDE_REG_OK;
	if (r->alen + n >= UINT32_MAX - 1)
		return DECIDE_REG_ENOMEM;
	size_t ncap = r->acap ? r->acap * 2 : 4096;
	while (ncap < r->alen + n)
		ncap *= 2;
	unsigned char *na = realloc(r->arena, ncap);
	if (!na)
		return DECIDE_REG_ENOMEM;
	r->arena = na;
	r->acap = ncap;
	return DECIDE_REG_OK;
}

static void
put_str(struct decide_registry *r, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	r->arena[r->alen++] = (unsigned char)n;
	if (n)
		memcpy(r->arena + r->alen, s, n);
	r->alen += n;
	r->arena[r->alen++] = 0;
}

static int
name_ok(const char *what, const char *s, char *why, size_t cap)
{
	struct ing_error err;

	if (!s)
		return fail(why, cap, DECIDE_REG_EINVAL, "%s is missing", what);
	if (ing_vehicle_check(s, strlen(s), &err) != ING_REASON_NONE)
		return fail(why, cap, DECIDE_REG_EINVAL, "%s '%s': %s", what, s, err.message);
	return DECIDE_REG_OK;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
decide_registry_add(struct decide_registry *r, const char *plate, const char *un,
		    const char *hazard_class, const int64_t *routes, size_t nroutes, char *why,
		    size_t cap)
{
	struct ing_error err;
	int64_t sorted[DECIDE_REG_ROUTES_MAX];
	size_t ns = 0;
	int rc;

	if (!r)
		return DECIDE_REG_EINVAL;
	if ((rc = name_ok("vehicle", plate, why, cap)))
		return rc;
	if (un && !*un)
		un = NULL;
	if (hazard_class && !*hazard_class)
		hazard_class = NULL;
	if (un && ing_cargo_check(un, "un", &err) != ING_REASON_NONE)
		return fail(why, cap, DECIDE_REG_EINVAL, "%s", err.message);
	if (hazard_class && ing_cargo_check(hazard_class, "hazard_class", &err) != ING_REASON_NONE)
		return fail(why, cap, DECIDE_REG_EINVAL, "%s", err.message);
	if (nroutes > DECIDE_REG_ROUTES_MAX)
		return fail(why, cap, DECIDE_REG_EINVAL, "%zu routes, at most %d", nroutes,
			    DECIDE_REG_ROUTES_MAX);
	if (nroutes && !routes)
		return DECIDE_REG_EINVAL;
	for (size_t i = 0; i < nroutes; i++) {
		if (routes[i] < 1 || routes[i] > INT32_MAX)
			return fail(why, cap, DECIDE_REG_EINVAL,
				    "route %lld is not a zone id (1..2147483647)",
				    (long long)routes[i]);
		sorted[i] = routes[i];
	}
	qsort(sorted, nroutes, sizeof *sorted, cmp_i64);
	for (size_t i = 0; i < nroutes; i++)
		if (ns == 0 || sorted[ns - 1] != sorted[i])
			sorted[ns++] = sorted[i];
	if (find(r, &r->veh, plate))
		return fail(why, cap, DECIDE_REG_EEXIST, "vehicle '%s' is registered twice", plate);
	if ((rc = table_room(r, &r->veh)) ||
	    (rc = arena_room(r, 3 * 2 + ING_VEHICLE_MAX + 2 * ING_CARGO_MAX + 5)))
		return rc;
	if (r->nroutes + ns > r->croutes) {
		size_t nc = r->croutes ? r->croutes * 2 : 256;
		while (nc < r->nroutes + ns)
			nc *= 2;
		if (nc > UINT32_MAX)
			return DECIDE_REG_ENOMEM;
		int64_t *nr = realloc(r->routes, nc * sizeof *nr);
		if (!nr)
			return DECIDE_REG_ENOMEM;
		r->routes = nr;
		r->croutes = nc;
	}
	uint32_t off = (uint32_t)r->alen + 1, first = (uint32_t)r->nroutes;
	put_str(r, plate);
	put_str(r, un);
	put_str(r, hazard_class);
	memcpy(r->arena + r->alen, &first, 4);
	r->arena[r->alen + 4] = (unsigned char)ns;
	r->alen += 5;
	if (ns)
		memcpy(r->routes + r->nroutes, sorted, ns * sizeof *sorted);
	r->nroutes += ns;
	r->veh.slot[probe(r, &r->veh, plate, strlen(plate))] = off;
	r->veh.n++;
	return DECIDE_REG_OK;
}

int
decide_registry_add_device(struct decide_registry *r, const char *device, const char *plate,
			   char *why, size_t cap)
{
	int rc;

	if (!r)
		return DECIDE_REG_EINVAL;
	if ((rc = name_ok("device", device, why, cap)) ||
	    (rc = name_ok("vehicle", plate, why, cap)))
		return rc;
	if (find(r, &r->dev, device))
		return fail(why, cap, DECIDE_REG_EEXIST, "device '%s' is mapped twice", device);
	if ((rc = table_room(r, &r->dev)) || (rc = arena_room(r, 4 + 2 * ING_VEHICLE_MAX)))
		return rc;
	uint32_t off = (uint32_t)r->alen + 1;
	put_str(r, device);
	put_str(r, plate);
	r->dev.slot[probe(r, &r->dev, device, strlen(device))] = off;
	r->dev.n++;
	return DECIDE_REG_OK;
}

int
decide_registry_add_row(struct decide_registry *r, const char *vehicle, const char *device,
			const char *un, const char *hazard_class, const char *routes, char *why,
			size_t cap)
{
	int64_t ids[DECIDE_REG_ROUTES_MAX];
	size_t n = 0;
	const char *p = routes;

	if (device)
		return decide_registry_add_device(r, device, vehicle, why, cap);
	while (p && *p) {
		char *end;
		long long v;

		if (*p < '0' || *p > '9')
			return fail(why, cap, DECIDE_REG_EINVAL, "routes '%s' is not a list of ids",
				    routes);
		errno = 0;
		v = strtoll(p, &end, 10);
		if (errno || (*end && *end != ','))
			return fail(why, cap, DECIDE_REG_EINVAL, "routes '%s' is not a list of ids",
				    routes);
		if (n == DECIDE_REG_ROUTES_MAX)
			return fail(why, cap, DECIDE_REG_EINVAL, "routes '%s': more than %d",
				    routes, DECIDE_REG_ROUTES_MAX);
		ids[n++] = v;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return fail(why, cap, DECIDE_REG_EINVAL, "routes '%s' is not a list of ids",
				    routes);
	}
	return decide_registry_add(r, vehicle, un, hazard_class, ids, n, why, cap);
}

int
decide_registry_load_text(struct decide_registry *r, const char *text, size_t len,
                          size_t *skipped, char *why, size_t cap)
{
	const char *p = text, *end = text + len;
	char line[5 * 160];

	*skipped = 0;
	if (why && cap)
		why[0] = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *f[5];
		size_t nf = 0;
		int rc = DECIDE_REG_EINVAL;

		if (n < sizeof line) {
			memcpy(line, p, n);
			line[n] = 0;
			f[nf++] = line;
			for (char *q = line; *q; q++)
				if (*q == '\t') {
					*q = 0;
					if (nf == 5) {
						nf = 6;
						break;
					}
					f[nf++] = q + 1;
				}
		}
		if (nf == 5) {
			char tmp[160];
			rc = decide_registry_add_row(r, f[0], *f[1] ? f[1] : NULL, *f[2] ? f[2] : NULL,
			                             *f[3] ? f[3] : NULL, f[4], tmp, sizeof tmp);
			if (rc == DECIDE_REG_ENOMEM)
				return rc;
			if (rc != DECIDE_REG_OK && *skipped == 0)
				fail(why, cap, rc, "%s", tmp);
		} else if (*skipped == 0) {
			fail(why, cap, rc, "a line of %zu bytes is not 5 fields", n);
		}
		if (rc != DECIDE_REG_OK)
			++*skipped;
		p += n + 1;
	}
	decide_registry_trim(r);
	return DECIDE_REG_OK;
}

void
decide_registry_trim(struct decide_registry *r)
{
	if (!r)
		return;
	if (r->alen && r->alen < r->acap) {
		unsigned char *na = realloc(r->arena, r->alen);
		if (na) {
			r->arena = na;
			r->acap = r->alen;
		}
	}
	if (r->nroutes && r->nroutes < r->croutes) {
		int64_t *nr = realloc(r->routes, r->nroutes * sizeof *nr);
		if (nr) {
			r->routes = nr;
			r->croutes = r->nroutes;
		}
	}
}

bool
decide_registry_vehicle(const struct decide_registry *r, const char *plate,
			struct decide_vehicle *out)
{
	const unsigned char *rec = r ? find(r, &r->veh, plate) : NULL;
	uint32_t first;

	if (!rec)
		return false;
	rec += rec[0] + 2; /* un */
	out->un = rec[0] ? (const char *)rec + 1 : NULL;
	rec += rec[0] + 2; /* class */
	out->hazard_class = rec[0] ? (const char *)rec + 1 : NULL;
	rec += rec[0] + 2; /* routes */
	memcpy(&first, rec, 4);
	out->nroutes = rec[4];
	out->routes = out->nroutes ? r->routes + first : NULL;
	return true;
}

const char *
decide_registry_device(const struct decide_registry *r, const char *device)
{
	const unsigned char *rec = r ? find(r, &r->dev, device) : NULL;

	if (!rec)
		return NULL;
	rec += rec[0] + 2;
	return (const char *)rec + 1;
}

size_t
decide_registry_vehicles(const struct decide_registry *r)
{
	return r ? r->veh.n : 0;
}

size_t
decide_registry_devices(const struct decide_registry *r)
{
	return r ? r->dev.n : 0;
}

size_t
decide_registry_memory(const struct decide_registry *r)
{
	if (!r)
		return 0;
	return sizeof *r + r->acap + r->croutes * sizeof(int64_t) +
	       (r->veh.cap + r->dev.cap) * sizeof(uint32_t);
}
