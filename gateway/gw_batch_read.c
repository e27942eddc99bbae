/*
 * gw_batch_read.c - a spool record read back: the shape of the record
 * checked whole before anything goes to PostgreSQL (gw_batch_parse), in
 * this build's format ("HGB2", gw_batch.c) or the previous one's ("HGB1",
 * the builds before alerts went to PostgreSQL as columns), and an HGB1
 * record's alerts converted to HGB2 rows (gw_batch_v1_alerts), so that a
 * spool left by an upgrade is written without loss.
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
 * Pure (jansson only: the conversion is cold, an upgrade reads each old
 * record once).
 */
#include "gateway/gw_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ingest/ingest.h"

#define HDR_LEN GW_BATCH_HDR_LEN

static uint32_t
get_u32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static const char *const parse_errs[] = {
	[-GW_BATCH_OK] = "ok",
	[-GW_BATCH_ESHORT] = "shorter than its header",
	[-GW_BATCH_EMAGIC] = "not a batch record (magic)",
	[-GW_BATCH_ELENGTH] = "section lengths do not add up to the record",
	[-GW_BATCH_EROWS] = "row count does not match its section",
	[-GW_BATCH_EFIELDS] = "a row has the wrong number of fields",
	[-GW_BATCH_EBYTE] = "a byte COPY text cannot hold (NUL, CR, bad escape)",
	[-GW_BATCH_EALERT] = "an alert is not as the writer makes it",
	[-GW_BATCH_ENOMEM] = "out of memory",
};

const char *
gw_batch_strerror(int err)
{
	if (err > 0 || -err >= (int)(sizeof(parse_errs) / sizeof(parse_errs[0])))
		return "unknown batch error";
	return parse_errs[-err];
}

/*
 * Check one COPY text section as the writer made it: exactly nrows lines,
 * each ending in '\n' and holding nfields tab-separated fields; no NUL, no
 * raw CR, and a backslash only in the escapes gw_copy_escape and put_hex
 * write (so neither "\." nor anything else PostgreSQL reads as a command
 * can appear). What it cannot see: a changed byte that keeps the shape
 * (the spool's CRC is there for that).
 */
/* The bytes check_copy looks at; the others stand for themselves. */
static const bool copy_special[256] = {
	['\0'] = true, ['\r'] = true, ['\\'] = true, ['\t'] = true, ['\n'] = true,
};

static int
check_copy(const char *s, size_t len, uint32_t nrows, unsigned nfields)
{
	uint64_t rows = 0;
	unsigned fields = 1;

	if (len == 0)
		return nrows == 0 ? GW_BATCH_OK : GW_BATCH_EROWS;
	if (nrows == 0 || s[len - 1] != '\n')
		return GW_BATCH_EROWS;
	for (size_t i = 0; i < len; i++) {
		/* Runs of ordinary bytes in a tight loop (issue 15). */
		while (!copy_special[(unsigned char)s[i]] && ++i < len)
			;
		if (i == len)
			break;
		switch (s[i]) {
		case '\0':
		case '\r':
			return GW_BATCH_EBYTE;
		case '\\':
			if (++i == len)
				return GW_BATCH_EBYTE;
			switch (s[i]) {
			case '\\': case 't': case 'n': case 'r': case 'N':
				break;
			default:
				return GW_BATCH_EBYTE;
			}
			break;
		case '\t':
			fields++;
			break;
		case '\n':
			if (fields != nfields)
				return GW_BATCH_EFIELDS;
			rows++;
			fields = 1;
			break;
		default:
			break;
		}
	}
	return rows == nrows ? GW_BATCH_OK : GW_BATCH_EROWS;
}

/* Version 1 alerts: nalerts pairs of (vehicle, JSON starting {"id":null),
 * each NUL terminated, nothing after the last. */
static int
check_v1_alerts(const char *s, size_t len, uint32_t nalerts)
{
	uint64_t n = 0;
	size_t off = 0;

	while (off < len) {
		const char *veh = s + off, *json, *end;
		size_t vlen;

		end = memchr(veh, '\0', len - off);
		if (!end)
			return GW_BATCH_EALERT;
		vlen = (size_t)(end - veh);
		if (vlen == 0 || vlen > ING_VEHICLE_MAX)
			return GW_BATCH_EALERT;
		json = end + 1;
		if (json >= s + len)
			return GW_BATCH_EALERT;
		end = memchr(json, '\0', (size_t)(s + len - json));
		if (!end || (size_t)(end - json) < 11 || memcmp(json, "{\"id\":null", 10) != 0)
			return GW_BATCH_EALERT;
		off = (size_t)(end + 1 - s);
		n++;
	}
	return n == nalerts ? GW_BATCH_OK : GW_BATCH_EROWS;
}

/* Version 2 alerts, rows check_copy has passed: each with a vehicle (not
 * empty, not null) and a JSON tail that starts ',' and ends '}' (so that
 * '{"id":N' || tail is the alert's JSON). */
static int
check_alert_rows(const char *s, size_t len)
{
	const char *row = s, *end = s + len;

	while (row < end) {
		const char *nl = memchr(row, '\n', (size_t)(end - row)), *f = row, *t;

		for (int k = 0; k < 2; k++)
			f = (const char *)memchr(f, '\t', (size_t)(nl - f)) + 1;
		t = memchr(f, '\t', (size_t)(nl - f));
		if (t == f || (t - f == 2 && f[0] == '\\' && f[1] == 'N'))
			return GW_BATCH_EALERT;
		for (t = nl; t[-1] != '\t'; t--)
			;
		if (nl - t < 2 || t[0] != ',' || nl[-1] != '}')
			return GW_BATCH_EALERT;
		row = nl + 1;
	}
	return GW_BATCH_OK;
}

static int
check_alerts(const struct gw_batch_view *v)
{
	int rc;

	if (v->version == 1)
		return check_v1_alerts(v->alerts, v->alerts_len, v->nalerts);
	rc = check_copy(v->alerts, v->alerts_len, v->nalerts, GW_BATCH_ALERT_FIELDS);
	return rc != GW_BATCH_OK ? rc : check_alert_rows(v->alerts, v->alerts_len);
}

int
gw_batch_parse(const void *rec, size_t len, struct gw_batch_view *v)
{
	const char *p = rec;
	uint64_t total;
	int rc;

	memset(v, 0, sizeof(*v));
	if (len < HDR_LEN)
		return GW_BATCH_ESHORT;
	if (memcmp(p, "HGB3", 4) == 0)
		v->version = 3;
	else if (memcmp(p, "HGB2", 4) == 0)
		v->version = 2;
	else if (memcmp(p, "HGB1", 4) == 0)
		v->version = 1;
	else
		return GW_BATCH_EMAGIC;
	total = (uint64_t)HDR_LEN + get_u32(p + 20) + get_u32(p + 24) + get_u32(p + 28) +
		get_u32(p + 32);
	if (total != len) {
		v->version = 0;
		return GW_BATCH_ELENGTH;
	}
	v->npos = get_u32(p + 4);
	v->nalerts = get_u32(p + 8);
	v->nrejects = get_u32(p + 12);
	v->nstates = get_u32(p + 16);
	v->pos_len = get_u32(p + 20);
	v->alerts_len = get_u32(p + 24);
	v->rejects_len = get_u32(p + 28);
	v->states_len = get_u32(p + 32);
	v->pos = p + HDR_LEN;
	v->alerts = v->pos + v->pos_len;
	v->rejects = v->alerts + v->alerts_len;
	v->states = v->rejects + v->rejects_len;
	if ((rc = check_copy(v->pos, v->pos_len, v->npos,
			     v->version == 3 ? GW_BATCH_POS_FIELDS : GW_BATCH_POS_FIELDS_V2)) != 0 ||
	    (rc = check_alerts(v)) != 0 ||
	    (rc = check_copy(v->rejects, v->rejects_len, v->nrejects, GW_BATCH_REJECT_FIELDS)) != 0 ||
	    (rc = check_copy(v->states, v->states_len, v->nstates, GW_BATCH_STATE_FIELDS)) != 0) {
		memset(v, 0, sizeof(*v));
		return rc;
	}
	return GW_BATCH_OK;
}

int
gw_batch_old_positions(const struct gw_batch_view *v, struct gw_buf *out)
{
	const char *p = v->pos, *end = v->pos + v->pos_len;

	if (gw_buf_reserve(out, v->pos_len + 3 * (size_t)v->npos) != 0)
		return GW_BATCH_ENOMEM;
	while (p < end) {
		/* gw_batch_parse saw every row end in '\n'. */
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		memcpy(out->p + out->len, p, (size_t)(nl - p));
		out->len += (size_t)(nl - p);
		memcpy(out->p + out->len, "\t\\N\n", 4);
		out->len += 4;
		p = nl + 1;
	}
	return GW_BATCH_OK;
}

int
gw_batch_next_alert(const struct gw_batch_view *v, size_t *off, const char **vehicle,
                    const char **json)
{
	const char *p;

	if (v->version != 1 || *off >= v->alerts_len)
		return -1;
	p = v->alerts + *off;
	*vehicle = p;
	p += strlen(p) + 1;
	if (p >= v->alerts + v->alerts_len)
		return -1;
	*json = p;
	p += strlen(p) + 1;
	*off = (size_t)(p - v->alerts);
	return 0;
}

/* ---- HGB1 alerts as HGB2 rows ------------------------------------------- */

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
