/*
 * gw_registry.h - the daemon's copy of the fleet registry (schema 010's
 * view registry_feed): loaded with the zones at start, before MQTT, and
 * again on NOTIFY hazgate_registry and after a reconnect; each load is
 * built off to the side (decide_registry.h) and swapped in one step on the
 * loop, or refused with the old copy kept. The decide step reads it
 * through gw_registry_current().
 */
#ifndef HAZGATE_GW_REGISTRY_H
#define HAZGATE_GW_REGISTRY_H

#include <stdbool.h>

#include "decide/decide_registry.h"
#include "net/net_pg.h"

struct gw;

/* Held by value in struct gw (zeroed by gw_new's calloc). */
struct gw_registry {
	struct decide_registry *cur; /* NULL until the first load */
	struct net_pg_job job;       /* a reload */
	bool busy, dirty;            /* a reload under way; another asked */
};

/* The query step that loads the registry (for the start's load job; its
 * result is swapped in). */
struct net_pg_step gw_registry_load_step(void);

/* Load again: while running, or while the start's load is under way (a
 * change it may have missed); one query at a time, a request meanwhile
 * runs once it ends. Before that the start's load reads it anyway. */
void gw_registry_reload(struct gw *gw);

/* What the decide step uses: NULL before the first load. */
const struct decide_registry *gw_registry_current(const struct gw *gw);

/* Free the copy (gw_free). */
void gw_registry_clear(struct gw *gw);

#endif /* HAZGATE_GW_REGISTRY_H */
