/*
 * fuzz_gateway.h - the invariants of the gateway's spool record reader,
 * shared by the libFuzzer target (tests/fuzz/fuzz_gateway_batch.c) and the
 * corpus replay (tests/unit/test_gateway_corpus.c).
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

/*
 * Parse data as a spool record and check the contract. Returns 1 when the
 * record was accepted, 0 when it was refused with a named reason, -1 when
 * an invariant broke (the caller aborts or fails).
 */
static inline int
fuzz_gateway_batch_check(const uint8_t *data, size_t size)
{
	struct gw_batch_view v;
	struct gw_batch b = { 0 };
	struct gw_buf out = { 0 };
	const char *veh, *json, *lo = (const char *)data, *hi = lo + size;
	size_t off = 0, n = 0;
	int rc = gw_batch_parse(data, size, &v), ok = 1;

	if (rc != GW_BATCH_OK) {
		const char *why = gw_batch_strerror(rc);

		return rc < 0 && why && strcmp(why, "unknown batch error") != 0 ? 0 : -1;
	}
	/* Sections inside the record, in order, with their row counts. */
	if (v.pos < lo || v.states + v.states_len != hi ||
	    v.alerts != v.pos + v.pos_len || v.rejects != v.alerts + v.alerts_len ||
	    v.states != v.rejects + v.rejects_len)
		return -1;
	if (fuzz_gw_count(v.pos, v.pos_len, '\n') != v.npos ||
	    fuzz_gw_count(v.rejects, v.rejects_len, '\n') != v.nrejects ||
	    fuzz_gw_count(v.states, v.states_len, '\n') != v.nstates ||
	    fuzz_gw_count(v.pos, v.pos_len, '\t') != (size_t)v.npos * (GW_BATCH_POS_FIELDS - 1) ||
	    memchr(v.pos, '\0', v.pos_len) || memchr(v.rejects, '\0', v.rejects_len) ||
	    memchr(v.states, '\0', v.states_len))
		return -1;
	while (gw_batch_next_alert(&v, &off, &veh, &json) == 0) {
		if (veh < v.alerts || json + strlen(json) >= v.alerts + v.alerts_len ||
		    strncmp(json, "{\"id\":null", 10) != 0)
			return -1;
		n++;
	}
	if (n != v.nalerts)
		return -1;
	/* Re-serialised, the view gives back the record. */
	if (gw_buf_add(&b.pos, v.pos, v.pos_len) != 0 ||
	    gw_buf_add(&b.alerts, v.alerts, v.alerts_len) != 0 ||
	    gw_buf_add(&b.rejects, v.rejects, v.rejects_len) != 0 ||
	    gw_buf_add(&b.states, v.states, v.states_len) != 0)
		abort();   /* out of memory in the harness */
	b.npos = v.npos;
	b.nalerts = v.nalerts;
	b.nrejects = v.nrejects;
	b.nstates = v.nstates;
	if (gw_batch_serialize(&b, &out) != 0)
		abort();
	if (out.len != size || memcmp(out.p, data, size) != 0)
		ok = -1;
	gw_buf_free(&out);
	gw_batch_free(&b);
	return ok;
}

#endif
