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
#include <string.h>

#include "decide/decide.h"

int
decide_fix(const struct decide_ctx *d, const struct ing_fix *fix,
           int64_t rx_us, struct gf_fix_result *fr)
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
	};
	int rc = gf_engine_fix(d->engine, &gf, d->on_alert, d->arg, fr);

	/* The engine may have named zones before failing; a fix it did not
	 * take is stored without them. */
	if (rc != GF_OK && fr)
		fr->nzone_ids = 0;
	return rc;
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
	out->engine_rc = decide_fix(d, &out->fix, now_us, &out->fr);
	return out->result;
}
