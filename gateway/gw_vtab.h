/*
 * gw_vtab.h - the daemon's per-vehicle table (gw_vtab.c): the last seq
 * seen, the last applied fix, and the vehicles whose vehicle_state goes
 * into the next batch. Pure: no I/O, no clock (times are the caller's).
 */
#ifndef HAZGATE_GW_VTAB_H
#define HAZGATE_GW_VTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/ingest.h"

struct gw_vehicle {
	char name[ING_VEHICLE_MAX + 1];
	bool has_seq;
	bool has_fix;
	bool dirty;              /* listed for the next batch's vehicle_state */
	bool unsaved;            /* changed since its state was last saved */
	bool must_save;          /* more than time and place changed */
	int64_t saved_mono_us;
	int64_t seq;
	int64_t last_us;
	double lat, lon;
};

struct gw_vtab;

/* An empty table, or NULL out of memory. Free with gw_vtab_free. */
struct gw_vtab *gw_vtab_new(void);
void gw_vtab_free(struct gw_vtab *t);
/* Find or add. Returns NULL for a name that is empty or longer than
 * ING_VEHICLE_MAX, or out of memory (counted in gw_vtab_oom(); the vehicle
 * is then not added). The pointer stays valid until
 * the next gw_vtab_get (the table may grow). */
struct gw_vehicle *gw_vtab_get(struct gw_vtab *t, const char *name);
size_t gw_vtab_count(const struct gw_vtab *t);
/* Mark v dirty (listed for the next batch's vehicle_state rows). Returns 0,
 * or -1 out of memory: v is not listed (nor marked), counted in
 * gw_vtab_oom(); the table stays consistent. */
int gw_vtab_touch(struct gw_vtab *t, struct gw_vehicle *v);
/* gw_vtab_get and gw_vtab_touch calls refused for lack of memory so far. */
uint64_t gw_vtab_oom(const struct gw_vtab *t);
/* As gw_vtab_drain_dirty, but fn may stop it by returning false: that
 * vehicle and the ones after it stay dirty, in order. Returns true when
 * every dirty vehicle was handed over. */
bool gw_vtab_drain_dirty_while(struct gw_vtab *t, bool (*fn)(struct gw_vehicle *v, void *arg),
                               void *arg);
/* Whether v's vehicle_state is due again at now_us (the caller's monotonic
 * clock): interval_us or more since it was last saved. A clock that went
 * back (now_us before the last save) counts as due: periodic saves never
 * stop on a clock step. */
bool gw_vtab_state_due(const struct gw_vehicle *v, int64_t now_us, int64_t interval_us);
/* Call fn for every vehicle. */
void gw_vtab_foreach(struct gw_vtab *t, void (*fn)(struct gw_vehicle *v, void *arg), void *arg);
/* Call fn for every dirty vehicle and clear the marks. */
void gw_vtab_drain_dirty(struct gw_vtab *t, void (*fn)(struct gw_vehicle *v, void *arg),
                         void *arg);

#endif
