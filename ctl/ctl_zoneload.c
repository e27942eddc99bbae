/*
 * ctl_zoneload.c: validation of a zone file before zones import writes it.
 *
 * The file goes through the geofence loader (gf_zoneset_parse), exactly as
 * the gateway will load it from the table, so a file that imports is one the
 * gateway accepts; the loader's error names the feature and the fault. The
 * zones' ids must also fit the table's 32-bit integer column.
 */
#include "ctl/ctl_zoneload.h"
#include "geofence/geofence.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int
ctl_zones_load(const char *text, size_t len, json_t **out, char *err, size_t errlen)
{
	gf_zoneset *zs = NULL;
	json_t *arr = NULL;
	*out = NULL;
	int r = gf_zoneset_parse(text, len, &zs, err, errlen);
	if (r != GF_OK) {
		if (r != GF_EZONES)
			snprintf(err, errlen, "%s", gf_strerror(r));
		return -1;
	}
	arr = json_array();
	if (!arr)
		goto nomem;
	for (size_t i = 0; i < gf_zoneset_count(zs); i++) {
		struct gf_zone_info zi;
		if (gf_zoneset_zone(zs, i, &zi) != GF_OK)
			goto nomem;
		if (zi.id < INT32_MIN || zi.id > INT32_MAX) {
			snprintf(err, errlen,
				 "zone id %lld does not fit the zones table (32-bit ids)",
				 (long long)zi.id);
			goto fail;
		}
		json_error_t jerr;
		json_t *feature = json_loads(zi.feature_json, 0, &jerr);
		json_t *z = json_pack("{s:I, s:s, s:s, s:o*}", "id", (json_int_t)zi.id, "name",
				      zi.name ? zi.name : "", "kind", gf_kind_name(zi.kind),
				      "feature", feature);
		if (!feature || !z || json_array_append_new(arr, z) != 0)
			goto nomem;
	}
	gf_zoneset_free(zs);
	*out = arr;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	json_decref(arr);
	gf_zoneset_free(zs);
	return -1;
}
