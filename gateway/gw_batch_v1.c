/*
 * gw_batch_v1.c - the alerts of a spool record of the previous format
 * ("HGB1", the builds before alerts went to PostgreSQL as columns) as rows
 * of this one, so that a spool left by an upgrade is written without loss.
 *
 * An HGB1 alert is (vehicle, gf_alert_format's JSON with "id":null); its
 * writer's statement read the columns out of the JSON as jsonb:
 * j->>'kind', j->>'severity', j->>'vehicle', (j->>'zone_id')::integer,
 * j->>'zone', (j->>'ts')::timestamptz, (j->>'lat')::float8,
 * (j->>'lon')::float8, (j->>'speed_kmh')::real, coalesce(j->'detail', '{}').
 * Here jansson reads the JSON and each member is written as the text
 * PostgreSQL then parsed: a string as it is, null or absent as null, an
 * integer in decimal, a real with 17 significant digits (float8 reads back
 * the very double that the JSON's text gave; for real and for the 7 and 2
 * decimals gf_alert_format writes, the same float), detail as compact JSON
 * with 15 significant digits (what jsonb keeps: the decimals as written).
 * The tail after "id":null is kept byte for byte: what is published is
 * what the previous build would have published.
 *
 * Pure (jansson only); cold: an upgrade reads each old record once.
 */
#include "gateway/gw_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Member m of o as the text ->> gives (NULL: null or absent), into buf
 * (cap bytes) unless it is a string or a dump, whose text *dump gets (free
 * it). Returns the text's length, or -1 out of memory. */
static long
member_text(const json_t *o, const char *m, const char **text, char *buf, size_t cap,
            char **dump)
{
	const json_t *v = json_object_get(o, m);

	*text = NULL;
	*dump = NULL;
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_NULL:
		return 0;
	case JSON_STRING:
		*text = json_string_value(v);
		return (long)json_string_length(v);
	case JSON_INTEGER:
		*text = buf;
		return snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		*text = buf;
		return snprintf(buf, cap, "%.17g", json_real_value(v));
	case JSON_TRUE:
	case JSON_FALSE:
		*text = json_is_true(v) ? "true" : "false";
		return (long)strlen(*text);
	default:
		*dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
		if (!*dump)
			return -1;
		*text = *dump;
		return (long)strlen(*dump);
	}
}

/* One alert's row. json is an object with a vehicle, '{"id":null' then a
 * tail that starts ',' and ends '}' (what a version 2 row must hold; the
 * previous build could not store an alert without a vehicle either).
 * Returns GW_BATCH_OK, _EALERT or _ENOMEM (out may then hold part of the
 * row: the caller cuts it). */
static int
convert(struct gw_buf *out, const char *json)
{
	static const char *const cols[] = { "kind", "severity", "vehicle", "zone_id", "zone",
					     "ts", "lat", "lon", "speed_kmh" };
	json_error_t jerr;
	json_t *o = json_loads(json, 0, &jerr);
	const json_t *detail;
	char *dump = NULL;
	int rc = GW_BATCH_ENOMEM;

	size_t len = strlen(json);

	if (!o || !json_is_object(o) || json[10] != ',' || json[len - 1] != '}') {
		/* jansson says which: a parse error, or (rarely) memory */
		rc = o || json_error_code(&jerr) != json_error_out_of_memory ? GW_BATCH_EALERT
									     : GW_BATCH_ENOMEM;
		json_decref(o);
		return rc;
	}
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		const char *text;
		char num[40];
		long n = member_text(o, cols[i], &text, num, sizeof(num), &dump);

		if (n < 0)
			goto done;
		if (i == 2 && (!text || n == 0)) {   /* no vehicle, no topic: */
			rc = GW_BATCH_EALERT;        /* the table refuses it too */
			goto done;
		}
		if (!text) {
			if (gw_buf_add(out, "\\N", 2) != 0)
				goto done;
		} else if (gw_copy_escape(out, text, (size_t)n) != 0) {
			goto done;
		}
		free(dump);
		dump = NULL;
		if (gw_buf_add(out, "\t", 1) != 0)
			goto done;
	}
	detail = json_object_get(o, "detail");
	if (detail) {
		dump = json_dumps(detail, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
		if (!dump || gw_copy_escape(out, dump, strlen(dump)) != 0)
			goto done;
	} else if (gw_buf_add(out, "{}", 2) != 0) {
		goto done;
	}
	if (gw_buf_add(out, "\t", 1) != 0 ||
	    gw_copy_escape(out, json + 10, strlen(json + 10)) != 0 ||
	    gw_buf_add(out, "\n", 1) != 0)
		goto done;
	rc = GW_BATCH_OK;
done:
	free(dump);
	json_decref(o);
	return rc;
}

int
gw_batch_v1_alerts(const struct gw_batch_view *v, struct gw_buf *out)
{
	size_t off = 0, start = out->len;
	const char *vehicle, *json;

	if (v->version != 1)
		return GW_BATCH_EALERT;
	while (gw_batch_next_alert(v, &off, &vehicle, &json) == 0) {
		int rc = convert(out, json);

		if (rc != GW_BATCH_OK) {
			out->len = start;
			return rc;
		}
	}
	return GW_BATCH_OK;
}
