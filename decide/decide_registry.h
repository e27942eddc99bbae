/*
 * decide_registry.h - the fleet registry as the decide step reads it (pure:
 * no I/O, no clock, no statics).
 *
 * What a registered vehicle adds to its fixes (DESIGN.md "Rules beyond
 * geometry", issue 14): its cargo (un, hazard_class) for a fix that carries
 * none, the corridors it is assigned to (routes), and the OwnTracks
 * trackers whose fixes are its own (issue 11 item 15: `user:device` mapped
 * to a plate). The daemon builds one from the view registry_feed (schema
 * 010), `hazgate-ctl replay` from a registry file, `audit` from the
 * database; each hands it to decide_message()/decide_fix() in struct
 * decide_ctx, so all three decide alike.
 *
 * Memory: built once, then read only. Every string lives in one arena, the
 * routes in one array, and the two hash tables hold 32-bit offsets: about
 * 45 bytes a vehicle with cargo and a route, tables included (400,000
 * vehicles and 10,000 devices: 17.3 MiB). Only vehicles with cargo or
 * routes, and devices, need be added.
 *
 * Thread safety: none while building; a built registry may be read by any
 * number of threads.
 */
#ifndef HAZGATE_DECIDE_REGISTRY_H
#define HAZGATE_DECIDE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct decide_registry;

/* What the registry says of one vehicle; pointers into the registry,
 * valid while it lives. */
struct decide_vehicle {
	const char *un;           /* NULL: none registered */
	const char *hazard_class; /* NULL: none registered */
	const int64_t *routes;    /* corridor zone ids, ascending, no repeats */
	size_t nroutes;
};

enum {
	DECIDE_REG_OK = 0,
	DECIDE_REG_EINVAL, /* a bad name, cargo string or route (why says) */
	DECIDE_REG_EEXIST, /* the vehicle or device is there already */
	DECIDE_REG_ENOMEM
};

#define DECIDE_REG_ROUTES_MAX 64 /* routes per vehicle (vehicles' CHECK) */

/* An empty registry, or NULL out of memory. */
struct decide_registry *decide_registry_new(void);
void decide_registry_free(struct decide_registry *r);

/*
 * Add a vehicle: plate (a valid vehicle name, ingest's rule), un and
 * hazard_class (NULL or "" for none; else ingest's cargo rule), nroutes
 * corridor ids (copied; sorted and repeats dropped; at most
 * DECIDE_REG_ROUTES_MAX, each 1..INT32_MAX). A vehicle with none of them
 * is accepted and changes nothing. Returns DECIDE_REG_OK, _EINVAL (why,
 * `cap` bytes, says what), _EEXIST or _ENOMEM; on failure the registry is
 * unchanged. why may be NULL.
 */
int decide_registry_add(struct decide_registry *r, const char *plate, const char *un,
			const char *hazard_class, const int64_t *routes, size_t nroutes, char *why,
			size_t cap);

/*
 * Map a device (an OwnTracks vehicle name, `user:device`) to plate (both
 * valid vehicle names). Returns as decide_registry_add().
 */
int decide_registry_add_device(struct decide_registry *r, const char *device, const char *plate,
			       char *why, size_t cap);

/*
 * One row of the view registry_feed (schema 010) as text, NULL for SQL
 * NULL: device NULL adds the vehicle (routes "8,9" or "" or NULL), else
 * maps device to vehicle. Returns as decide_registry_add(); a routes text
 * that is not a comma-separated list of ids is _EINVAL.
 */
int decide_registry_add_row(struct decide_registry *r, const char *vehicle, const char *device,
			    const char *un, const char *hazard_class, const char *routes, char *why,
			    size_t cap);

/*
 * Add the rows of `text` (len bytes): lines separated by '\n', each five
 * fields separated by '\t' (vehicle, device, un, hazard_class, routes;
 * empty = NULL), as schema's sch_registry_query returns them; then
 * decide_registry_trim(). A line that is not five fields, or that
 * decide_registry_add_row() refuses, is skipped and counted in *skipped
 * (the first one's reason in why). Returns DECIDE_REG_OK, or
 * DECIDE_REG_ENOMEM (the registry then holds part of the text: free it).
 */
int decide_registry_load_text(struct decide_registry *r, const char *text, size_t len,
                              size_t *skipped, char *why, size_t cap);

/* Give back the slack of the growing arrays (after the last add). */
void decide_registry_trim(struct decide_registry *r);

/* The vehicle's entry: true and *out filled, or false (not registered, or
 * r NULL). */
bool decide_registry_vehicle(const struct decide_registry *r, const char *plate,
			     struct decide_vehicle *out);

/* The plate a device is mapped to, or NULL. */
const char *decide_registry_device(const struct decide_registry *r, const char *device);

/* Vehicles and devices held; bytes held (arena, routes, tables). */
size_t decide_registry_vehicles(const struct decide_registry *r);
size_t decide_registry_devices(const struct decide_registry *r);
size_t decide_registry_memory(const struct decide_registry *r);

#ifdef __cplusplus
}
#endif

#endif /* HAZGATE_DECIDE_REGISTRY_H */
