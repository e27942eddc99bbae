/*
 * decide.c - decide_message() and decide_fix(): the one path from a
 * message to the engine (see decide.h).
 *
 * The ing_fix -> gf_fix rule lives here only: the engine reads vehicle,
 * time, position, speed (when sent), hazard class (when sent) borrowed
 * from the decoded fix, the terminal's alarms (when sent), and the
 * receive time. Nothing is copied but those
 * scalars and pointers, on the stack; nothing is allocated.
 */
#include <stdio.h>
#include <string.h>

#include "decide/decide.h"

/* The engine step with the vehicle's registry entry (veh may be NULL). */
static int
engine_step(const struct decide_ctx *d, const struct ing_fix *fix, int64_t rx_us,
            const struct decide_vehicle *veh, struct gf_fix_result *fr)
{
	const struct gf_fix gf = {
		.vehicle = fix->vehicle,
		.ts_us = fix->time_us,
		.lat = fix->lat,
		.lon = fix->lon,
		.has_speed = (fix->present & ING_HAS_SPEED) != 0,
		.speed_kmh = fix->speed_kmh,
		.hazard_class = (fix->present & ING_HAS_HAZARD_CLASS) ?
		                fix->hazard_class : NULL,
		.rx_us = rx_us,
		.has_alarms = (fix->present & ING_HAS_ALARMS) != 0,
		.alarms = fix->alarms,
		.alarms_only = !ing_fix_positioned(fix),
		.routes = veh ? veh->routes : NULL,
		.nroutes = veh ? veh->nroutes : 0,
	};
	int rc = gf_engine_fix(d->engine, &gf, d->on_alert, d->arg, fr);

	/* The engine may have named zones before failing; a fix it did not
	 * take is stored without them. */
	if (rc != GF_OK && fr)
		fr->nzone_ids = 0;
	return rc;
}

int
decide_fix(const struct decide_ctx *d, const struct ing_fix *fix,
           int64_t rx_us, struct gf_fix_result *fr)
{
	struct decide_vehicle veh;
	bool reg = decide_registry_vehicle(d->registry, fix->vehicle, &veh);

	return engine_step(d, fix, rx_us, reg ? &veh : NULL, fr);
}

/* The registry's part of a decoded fix: the device's plate, then the
 * vehicle's cargo when the fix has none. */
static bool
apply_registry(const struct decide_registry *r, struct ing_fix *fix,
               struct decide_vehicle *veh)
{
	if (fix->format == ING_FORMAT_OWNTRACKS) {
		const char *plate = decide_registry_device(r, fix->vehicle);
		if (plate)
			(void)ing_fix_set_vehicle(fix, plate, strlen(plate), NULL);
	}
	if (!decide_registry_vehicle(r, fix->vehicle, veh))
		return false;
	if (!(fix->present & (ING_HAS_UN | ING_HAS_HAZARD_CLASS))) {
		if (veh->un) {
			snprintf(fix->un, sizeof fix->un, "%s", veh->un);
			fix->present |= ING_HAS_UN;
		}
		if (veh->hazard_class) {
			snprintf(fix->hazard_class, sizeof fix->hazard_class, "%s",
			         veh->hazard_class);
			fix->present |= ING_HAS_HAZARD_CLASS;
		}
	}
	return true;
}

enum ing_result
decide_message(const struct decide_ctx *d, const char *topic,
               const void *payload, size_t len, int64_t now_us,
               struct decide_result *out)
{
	out->format = decide_format(d->subs, d->nsubs, topic);
	out->result = ing_decode(topic, payload, len, out->format, now_us,
	                         &out->fix, &out->err);
	if (out->result != ING_OK) {
		out->engine_rc = GF_OK;
		memset(&out->fr, 0, sizeof(out->fr));
		return out->result;
	}
	struct decide_vehicle veh;
	bool reg = d->registry && apply_registry(d->registry, &out->fix, &veh);

	out->engine_rc = engine_step(d, &out->fix, now_us, reg ? &veh : NULL, &out->fr);
	return out->result;
}
