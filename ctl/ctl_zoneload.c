/*
 * ctl_zoneload.c: validation of a zone file before zones import writes it.
 *
 * A structural check with jansson: a FeatureCollection of Features, each
 * with an integer properties.id (unique, 32-bit), a known kind and a
 * geometry of a supported type. The geometry itself is checked by the
 * geofence loader once it is linked in.
 */
#include "ctl/ctl_zoneload.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const kinds[] = { "event_venue", "prohibited", "restricted", "corridor",
                                     "depot" };
static const char *const geoms[] = { "Polygon", "MultiPolygon", "Point", "LineString" };

static int
one_of(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

int
ctl_zones_load(const char *text, size_t len, json_t **out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *arr = NULL;
    *out = NULL;
    if (!root) {
        snprintf(err, errlen, "not JSON: %s at line %d, column %d", jerr.text, jerr.line,
                 jerr.column);
        goto err;
    }
    json_t *features = json_object_get(root, "features");
    if (!json_is_object(root) ||
        strcmp(json_string_value(json_object_get(root, "type")) ?
               json_string_value(json_object_get(root, "type")) : "", "FeatureCollection") ||
        !json_is_array(features)) {
        snprintf(err, errlen, "not a GeoJSON FeatureCollection");
        goto err;
    }
    arr = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(features, i, f) {
        json_t *props = json_object_get(f, "properties");
        json_t *idv = json_object_get(props, "id");
        const char *ftype = json_string_value(json_object_get(f, "type"));
        if (!json_is_object(f) || !ftype || strcmp(ftype, "Feature")) {
            snprintf(err, errlen, "feature %zu: not a GeoJSON Feature", i);
            goto err;
        }
        if (!json_is_integer(idv) || json_integer_value(idv) < INT32_MIN ||
            json_integer_value(idv) > INT32_MAX) {
            snprintf(err, errlen, "feature %zu: properties.id must be a 32-bit integer", i);
            goto err;
        }
        json_int_t id = json_integer_value(idv);
        size_t k;
        json_t *prev;
        json_array_foreach(arr, k, prev) {
            if (json_integer_value(json_object_get(prev, "id")) == id) {
                snprintf(err, errlen, "feature %zu (id %" JSON_INTEGER_FORMAT "): duplicate id",
                         i, id);
                goto err;
            }
        }
        const char *kind = json_string_value(json_object_get(props, "kind"));
        if (!one_of(kind, kinds, sizeof kinds / sizeof kinds[0])) {
            snprintf(err, errlen, "feature %zu (id %" JSON_INTEGER_FORMAT "): unknown kind '%s'",
                     i, id, kind ? kind : "");
            goto err;
        }
        const char *gtype = json_string_value(json_object_get(json_object_get(f, "geometry"),
                                                              "type"));
        if (!one_of(gtype, geoms, sizeof geoms / sizeof geoms[0])) {
            snprintf(err, errlen,
                     "feature %zu (id %" JSON_INTEGER_FORMAT "): unknown geometry '%s'", i, id,
                     gtype ? gtype : "");
            goto err;
        }
        json_t *name = json_object_get(props, "name");
        json_t *z = json_object();
        json_object_set_new(z, "id", json_integer(id));
        json_object_set_new(z, "name", json_string(json_is_string(name) ?
                                                   json_string_value(name) : ""));
        json_object_set_new(z, "kind", json_string(kind));
        json_object_set(z, "feature", f);
        json_array_append_new(arr, z);
    }
    json_decref(root);
    *out = arr;
    return 0;
err:
    json_decref(arr);
    json_decref(root);
    return -1;
}
