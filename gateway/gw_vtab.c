/*
 * gw_vtab.c - the daemon's per-vehicle table: the last seq seen (to count
 * gaps as lost messages), the last applied fix (for vehicle_state) and the
 * "dirty" mark of vehicles whose state goes into the next batch.
 *
 * Open addressing with linear probing on an FNV-1a hash of the name, grown
 * at 70% load; entries are never removed (vehicles come back). The dirty
 * list holds names, not slots, so growing the table never invalidates it.
 */
#include "gateway/gw_vtab.h"

#include "common/hz_hash.h"

#include <stdlib.h>
#include <string.h>

struct gw_vtab {
	struct gw_vehicle *slots;
	size_t cap, count;
	char (*dirty)[ING_VEHICLE_MAX + 1];
	size_t ndirty, capdirty;
	uint64_t oom;            /* gets and touches refused for lack of memory */
};

struct gw_vtab *
gw_vtab_new(void)
{
	struct gw_vtab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = 1024;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void
gw_vtab_free(struct gw_vtab *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->dirty);
	free(t);
}

static struct gw_vehicle *
probe(struct gw_vehicle *slots, size_t cap, const char *name)
{
	size_t i = (size_t)hz_fnv1a64_str(name) & (cap - 1);

	while (slots[i].name[0] && strcmp(slots[i].name, name))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int
grow(struct gw_vtab *t)
{
	size_t ncap = t->cap * 2;
	struct gw_vehicle *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].name[0])
			*probe(n, ncap, t->slots[i].name) = t->slots[i];
	free(t->slots);
	t->slots = n;
	t->cap = ncap;
	return 0;
}

struct gw_vehicle *
gw_vtab_get(struct gw_vtab *t, const char *name)
{
	struct gw_vehicle *v;
	size_t len = strlen(name);

	if (len == 0 || len > ING_VEHICLE_MAX)
		return NULL;
	v = probe(t->slots, t->cap, name);
	if (v->name[0])
		return v;
	if ((t->count + 1) * 10 > t->cap * 7) {
		if (grow(t) != 0) {
			t->oom++;
			return NULL;
		}
		v = probe(t->slots, t->cap, name);
	}
	memcpy(v->name, name, len + 1);
	t->count++;
	return v;
}

size_t
gw_vtab_count(const struct gw_vtab *t)
{
	return t->count;
}

int
gw_vtab_touch(struct gw_vtab *t, struct gw_vehicle *v)
{
	if (v->dirty)
		return 0;
	if (t->ndirty == t->capdirty) {
		size_t cap = t->capdirty ? t->capdirty * 2 : 256;
		void *n = realloc(t->dirty, cap * sizeof(*t->dirty));

		if (!n) {
			/* Not listed: the caller's unsaved mark keeps it for a
			 * later batch (and the shutdown's full save). */
			t->oom++;
			return -1;
		}
		t->dirty = n;
		t->capdirty = cap;
	}
	memcpy(t->dirty[t->ndirty++], v->name, sizeof(v->name));
	v->dirty = true;
	return 0;
}

uint64_t
gw_vtab_oom(const struct gw_vtab *t)
{
	return t->oom;
}

void
gw_vtab_foreach(struct gw_vtab *t, void (*fn)(struct gw_vehicle *v, void *arg), void *arg)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].name[0])
			fn(&t->slots[i], arg);
}

void
gw_vtab_drain_dirty(struct gw_vtab *t, void (*fn)(struct gw_vehicle *v, void *arg), void *arg)
{
	for (size_t i = 0; i < t->ndirty; i++) {
		struct gw_vehicle *v = probe(t->slots, t->cap, t->dirty[i]);

		if (!v->name[0])
			continue;
		v->dirty = false;
		fn(v, arg);
	}
	t->ndirty = 0;
}

bool
gw_vtab_drain_dirty_while(struct gw_vtab *t, bool (*fn)(struct gw_vehicle *v, void *arg),
			  void *arg)
{
	size_t i;

	for (i = 0; i < t->ndirty; i++) {
		struct gw_vehicle *v = probe(t->slots, t->cap, t->dirty[i]);

		if (!v->name[0])
			continue;
		if (!fn(v, arg))
			break;
		v->dirty = false;
	}
	if (i < t->ndirty)
		memmove(t->dirty, t->dirty + i, (t->ndirty - i) * sizeof(*t->dirty));
	t->ndirty -= i;
	return t->ndirty == 0;
}

bool
gw_vtab_state_due(const struct gw_vehicle *v, int64_t now_us, int64_t interval_us)
{
	return now_us < v->saved_mono_us || now_us - v->saved_mono_us >= interval_us;
}
