/*
 * ctl_zoneload.h: zone files for hazgate-ctl zones import.
 */
#ifndef HAZGATE_CTL_ZONELOAD_H
#define HAZGATE_CTL_ZONELOAD_H

#include <stddef.h>
#include <jansson.h>

/* Validates a GeoJSON FeatureCollection of zones (text of len bytes) and
 * returns in *out a new array of {"id","name","kind","feature"} objects, one
 * per feature in file order, "feature" being the Feature as given. On
 * failure returns -1 with one line in err naming the feature (index and id)
 * and the fault, and *out stays NULL. */
int ctl_zones_load(const char *text, size_t len, json_t **out, char *err, size_t errlen);

#endif
