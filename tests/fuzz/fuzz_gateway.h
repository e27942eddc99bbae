/*
 * fuzz_gateway.h - the invariants of the gateway's spool record reader,
 * shared by the libFuzzer target (tests/fuzz/fuzz_gateway_batch.c) and the
 * corpus replay (tests/unit/test_gateway_corpus.c), and the helpers that
 * build records for them.
 */
#ifndef HAZGATE_FUZZ_GATEWAY_H
#define HAZGATE_FUZZ_GATEWAY_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_batch.h"

static inline size_t
fuzz_gw_count(const char *s, size_t len, char c)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

/* The record whose header says magic, the counts and sections of v:
 * a version 1 record as its writer made it, or one with other sections. */
static inline void
fuzz_gw_record(struct gw_buf *out, const char magic[4], const struct gw_batch_view *v)
{
	const uint32_t h[8] = { v->npos, v->nalerts, v->nrejects, v->nstates,
				(uint32_t)v->pos_len, (uint32_t)v->alerts_len,
				(uint32_t)v->rejects_len, (uint32_t)v->states_len };

	out->len = 0;
	if (gw_buf_add(out, magic, 4) != 0 || gw_buf_add(out, h, sizeof(h)) != 0 ||
	    gw_buf_add(out, v->pos, v->pos_len) != 0 ||
	    gw_buf_add(out, v->alerts, v->alerts_len) != 0 ||
	    gw_buf_add(out, v->rejects, v->rejects_len) != 0 ||
	    gw_buf_add(out, v->states, v->states_len) != 0)
		abort();   /* out of memory in the harness */
}

/* Version 2 alert rows as the parser promises them: nalerts rows of
 * GW_BATCH_ALERT_FIELDS fields, no NUL, a vehicle, a tail ',' ... '}'. */
static inline int
fuzz_gw_alert_rows(const struct gw_batch_view *v)
{
	const char *row = v->alerts, *end = v->alerts + v->alerts_len;

	if (fuzz_gw_count(v->alerts, v->alerts_len, '\n') != v->nalerts ||
	    fuzz_gw_count(v->alerts, v->alerts_len, '\t') !=
		    (size_t)v->nalerts * (GW_BATCH_ALERT_FIELDS - 1) ||
	    memchr(v->alerts, '\0', v->alerts_len))
		return -1;
	while (row < end) {
		const char *nl = memchr(row, '\n', (size_t)(end - row)), *f = row, *t;

		if (!nl)
			return -1;
		for (int k = 0; k < 2; k++)
			f = (const char *)memchr(f, '\t', (size_t)(nl - f)) + 1;
		if (*f == '\t' || (f[0] == '\\' && f[1] == 'N' && f[2] == '\t'))
			return -1;
		for (t = nl; t[-1] != '\t'; t--)
			;
		if (t[0] != ',' || nl[-1] != '}' || nl - t < 2)
			return -1;
		row = nl + 1;
	}
	return 0;
}

/* A version 1 or 2 view's positions completed: every row and "\t\\N",
 * nothing else, which parse as a version 3 record's. 0, or -1. */
static inline int
fuzz_gw_old_positions(const struct gw_batch_view *v)
{
	struct gw_buf conv = { 0 }, rec = { 0 };
	struct gw_batch_view v3 = { .npos = v->npos };
	const char *p = v->pos, *q;
	int ok = 0;

	if (gw_batch_old_positions(v, &conv) != GW_BATCH_OK)
		abort();   /* out of memory in the harness */
	if (conv.len != v->pos_len + 3 * (size_t)v->npos)
		ok = -1;
	for (q = conv.p; ok == 0 && p < v->pos + v->pos_len;) {
		size_t l = (size_t)((const char *)memchr(p, '\n', (size_t)(v->pos + v->pos_len - p)) - p);

		if (memcmp(q, p, l) != 0 || memcmp(q + l, "\t\\N\n", 4) != 0)
			ok = -1;
		p += l + 1;
		q += l + 4;
	}
	v3.pos = conv.p;
	v3.pos_len = conv.len;
	fuzz_gw_record(&rec, "HGB3", &v3);
	if (ok == 0 && (gw_batch_parse(rec.p, rec.len, &v3) != GW_BATCH_OK || v3.version != 3 ||
			v3.npos != v->npos))
		ok = -1;
	gw_buf_free(&conv);
	gw_buf_free(&rec);
	return ok;
}

/*
 * Parse data as a spool record and check the contract. Returns 1 when the
 * record was accepted, 0 when it was refused with a named reason, -1 when
 * an invariant broke (the caller aborts or fails). A version 1 record's
 * alerts are converted too (gw_batch_v1_alerts): into rows a version 2
 * record holds, or refused as EALERT with nothing written. A version 1 or
 * 2 record's positions are completed (gw_batch_old_positions): each row
 * and "\t\\N", which a version 3 record holds.
 */
static inline int
fuzz_gateway_batch_check(const uint8_t *data, size_t size)
{
	struct gw_batch_view v, v2;
	struct gw_batch b = { 0 };
	struct gw_buf out = { 0 }, conv = { 0 };
	const char *veh, *json, *lo = (const char *)data, *hi = lo + size;
	size_t off = 0, n = 0;
	int rc = gw_batch_parse(data, size, &v), ok = 1;

	if (rc != GW_BATCH_OK) {
		const char *why = gw_batch_strerror(rc);

		return rc < 0 && rc != GW_BATCH_ENOMEM && why &&
		       strcmp(why, "unknown batch error") != 0 ? 0 : -1;
	}
	if (v.version < 1 || v.version > 3)
		return -1;
	/* Sections inside the record, in order, with their row counts. */
	if (v.pos < lo || v.states + v.states_len != hi ||
	    v.alerts != v.pos + v.pos_len || v.rejects != v.alerts + v.alerts_len ||
	    v.states != v.rejects + v.rejects_len)
		return -1;
	if (fuzz_gw_count(v.pos, v.pos_len, '\n') != v.npos ||
	    fuzz_gw_count(v.rejects, v.rejects_len, '\n') != v.nrejects ||
	    fuzz_gw_count(v.states, v.states_len, '\n') != v.nstates ||
	    fuzz_gw_count(v.pos, v.pos_len, '\t') !=
		    (size_t)v.npos * ((v.version == 3 ? GW_BATCH_POS_FIELDS
						      : GW_BATCH_POS_FIELDS_V2) - 1) ||
	    memchr(v.pos, '\0', v.pos_len) || memchr(v.rejects, '\0', v.rejects_len) ||
	    memchr(v.states, '\0', v.states_len))
		return -1;
	while (gw_batch_next_alert(&v, &off, &veh, &json) == 0) {
		if (veh < v.alerts || json + strlen(json) >= v.alerts + v.alerts_len ||
		    strncmp(json, "{\"id\":null", 10) != 0)
			return -1;
		n++;
	}
	if (v.version < 3 && fuzz_gw_old_positions(&v) != 0)
		return -1;
	if (v.version == 2) {
		if (n != 0 || fuzz_gw_alert_rows(&v) != 0)
			return -1;
		fuzz_gw_record(&out, "HGB2", &v);
		if (out.len != size || memcmp(out.p, data, size) != 0)
			ok = -1;
		gw_buf_free(&out);
		return ok;
	}
	if (v.version == 3) {
		if (n != 0 || fuzz_gw_alert_rows(&v) != 0)
			return -1;
		/* Re-serialised, the view gives back the record. */
		if (gw_buf_add(&b.pos, v.pos, v.pos_len) != 0 ||
		    gw_buf_add(&b.alerts, v.alerts, v.alerts_len) != 0 ||
		    gw_buf_add(&b.rejects, v.rejects, v.rejects_len) != 0 ||
		    gw_buf_add(&b.states, v.states, v.states_len) != 0)
			abort();
		b.npos = v.npos;
		b.nalerts = v.nalerts;
		b.nrejects = v.nrejects;
		b.nstates = v.nstates;
		if (gw_batch_serialize(&b, &out) != 0)
			abort();
		if (out.len != size || memcmp(out.p, data, size) != 0)
			ok = -1;
		gw_batch_free(&b);
		gw_buf_free(&out);
		return ok;
	}
	if (n != v.nalerts)
		return -1;
	fuzz_gw_record(&out, "HGB1", &v);
	if (out.len != size || memcmp(out.p, data, size) != 0)
		ok = -1;
	/* Converted, its alerts make a version 2 record with the same rows. */
	rc = gw_batch_v1_alerts(&v, &conv);
	if (rc == GW_BATCH_ENOMEM)
		abort();
	if (rc == GW_BATCH_OK) {
		v2 = v;
		v2.alerts = conv.p;
		v2.alerts_len = conv.len;
		fuzz_gw_record(&out, "HGB2", &v2);
		if (gw_batch_parse(out.p, out.len, &v2) != GW_BATCH_OK || v2.version != 2 ||
		    v2.nalerts != v.nalerts || fuzz_gw_alert_rows(&v2) != 0)
			ok = -1;
	} else if (rc != GW_BATCH_EALERT || conv.len != 0) {
		ok = -1;
	}
	gw_buf_free(&conv);
	gw_buf_free(&out);
	return ok;
}

#endif
