/*
 * fuzz_jt808_session.h - what the hazgate-jt808 session libFuzzer target
 * (fuzz_jt808_session.c) and its corpus replay (tests/unit/
 * test_jt808_server.c) share: one terminal's bytes through a session
 * (jt808/jt_session.c) with the server's callbacks replaced by checks.
 *
 * Input: byte 0 chooses the policy (bit 0 unknown_terminals = register,
 * bit 1 auth = optional) and the chunk size the rest is fed in (bits 2-7,
 * plus 1: 1..64 bytes, as TCP may cut it); the rest is what the terminal
 * sends. The phone 013800138000 is known, mapped to a plate. Invariants:
 * every reply is one frame that deframes and decodes as 0x8001 or 0x8100
 * (with the phone and version bytes the terminal sent, valid or not);
 * every publish is under a valid vehicle name, JSON that ingest's native
 * decoder reads with that vehicle (or refuses only for a range); every
 * reject has a reason with a name; the pending count is the publishes; a
 * reassembly in progress is freed; and the input (all of it) as a GBK
 * plate converts to a valid vehicle name or is refused.
 */
#ifndef HAZGATE_FUZZ_JT808_SESSION_H
#define HAZGATE_FUZZ_JT808_SESSION_H

#include <stdio.h>
#include <string.h>

#include "ingest/ingest.h"
#include "jt808/jt808.h"
#include "jt808/jt_registry.h"
#include "jt808/jt_session.h"

#define FUZZ_JS_NOW (1767240000LL * 1000000LL)         /* 2026-01-01T04:00Z */

struct fuzz_js {
	const char *broken;
	unsigned publishes;
};

static struct fuzz_js fuzz_js;

static void
fuzz_js_send(void *owner, const uint8_t *p, size_t n)
{
	struct jt_deframer d;
	uint8_t buf[JT_FRAME_MAX];
	const uint8_t *f;
	size_t used, flen;
	struct jt_msg m;
	enum jt_err e;

	(void)owner;
	jt_deframer_init(&d, buf, sizeof(buf), 64);
	if (n < 2 || jt_deframe(&d, p, n - 1, &used, &f, &flen) != JT_NEED_MORE ||
	    jt_deframe(&d, p + n - 1, 1, &used, &f, &flen) != JT_OK)
		fuzz_js.broken = "a reply is not one frame";
	/* An answer echoes the phone and version bytes as the terminal sent
	 * them (its own), valid or not: the rest of its header must read. */
	else if (((e = jt_header_decode(f, flen, &m)) != JT_OK && e != JT_E_VERSION &&
		  e != JT_E_PHONE) ||
		 (m.h.msg_id != JT_MSG_PLATFORM_REPLY && m.h.msg_id != JT_MSG_REGISTER_REPLY))
		fuzz_js.broken = "a reply does not decode as 0x8001 or 0x8100";
}

static int fuzz_js_token;

static void *
fuzz_js_open(void *owner, const struct jt_header *h)
{
	(void)owner;
	(void)h;
	return &fuzz_js_token;
}

static bool
fuzz_js_publish(void *owner, void *rep, const char *vehicle, const char *json, size_t len)
{
	struct jt_session *s = owner;
	struct ing_fix fix;
	struct ing_error err;
	enum ing_result res;

	if (rep != &fuzz_js_token)
		fuzz_js.broken = "publish outside a report";
	if (ing_vehicle_check(vehicle, strlen(vehicle), NULL) != ING_REASON_NONE)
		fuzz_js.broken = "published under an invalid vehicle name";
	/* "now" far ahead: the report's own time is never in the future. */
	res = ing_decode(NULL, json, len, ING_FORMAT_NATIVE, 4102444800LL * 1000000LL, &fix,
			 &err);
	if (res == ING_OK) {
		if (strcmp(fix.vehicle, vehicle) != 0)
			fuzz_js.broken = "JSON vehicle differs from the topic's";
	} else if (res != ING_REJECTED ||
		   (err.reason != ING_REASON_LAT_RANGE && err.reason != ING_REASON_LON_RANGE &&
		    err.reason != ING_REASON_SPEED_RANGE && err.reason != ING_REASON_HEADING_RANGE &&
		    err.reason != ING_REASON_VALUE_RANGE && err.reason != ING_REASON_TIME_OLD)) {
		fprintf(stderr, "ingest: %.*s\n", (int)len, json);
		fuzz_js.broken = "published JSON that ingest refuses for a reason not a range";
	}
	s->pending++;
	fuzz_js.publishes++;
	return true;
}

static void
fuzz_js_close(void *owner, void *rep)
{
	(void)owner;
	if (rep != &fuzz_js_token)
		fuzz_js.broken = "close outside a report";
}

static void
fuzz_js_reject(void *owner, const char *vehicle, unsigned reason, const uint8_t *p, size_t n)
{
	(void)owner;
	(void)p;
	(void)n;
	if (reason >= JT_REASON_COUNT || !strcmp(jt_session_reason_name(reason), "unknown"))
		fuzz_js.broken = "a reject without a reason name";
	if (!vehicle || !vehicle[0])
		fuzz_js.broken = "a reject without a vehicle";
}

static void
fuzz_js_registered(void *owner, const char *phone, const char *plate,
                   const uint8_t hash[JT_AUTH_HASH_BYTES])
{
	(void)owner;
	(void)hash;
	if (plate[0] && ing_vehicle_check(plate, strlen(plate), NULL) != ING_REASON_NONE)
		fuzz_js.broken = "registered with an invalid plate";
	if (strlen(phone) != 12 && strlen(phone) != 20)
		fuzz_js.broken = "registered phone of a bad length";
}

static const struct jt_session_ops fuzz_js_ops = {
	.send = fuzz_js_send, .report_open = fuzz_js_open, .publish = fuzz_js_publish,
	.report_close = fuzz_js_close, .reject = fuzz_js_reject,
	.registered = fuzz_js_registered,
};

/* One input through a fresh session; NULL or the broken invariant. */
static inline const char *
fuzz_jt808_session_run(const uint8_t *data, size_t size)
{
	struct jt_registry reg;
	struct jt_stats stats;
	struct jt_session_env env;
	static struct jt_session s;
	uint8_t h[JT_AUTH_HASH_BYTES];
	char plate[64];
	size_t chunk, off = 1;
	int64_t now = FUZZ_JS_NOW;

	memset(&fuzz_js, 0, sizeof(fuzz_js));
	memset(&stats, 0, sizeof(stats));
	if (size == 0)
		return NULL;
	if (jt_plate_utf8(data, size, plate, sizeof(plate)) &&
	    (strlen(plate) > JT_VEHICLE_MAX ||
	     ing_vehicle_check(plate, strlen(plate), NULL) != ING_REASON_NONE))
		return "a plate converted to an invalid vehicle name";
	if (!jt_registry_init(&reg))
		return NULL;
	jt_auth_hash((const uint8_t *)"CODE", 4, h);
	jt_registry_set(&reg, "013800138000", "\xe6\x99\x8b" "A12345", h);
	env = (struct jt_session_env){ .register_unknown = data[0] & 1,
		.auth_optional = (data[0] >> 1) & 1, .reasm_timeout_us = 1000000,
		.garbage_max = 256, .reasm_max = 4, .ready = true, .reg = &reg, .stats = &stats,
		.ops = &fuzz_js_ops };
	chunk = (size_t)(data[0] >> 2) + 1;
	jt_session_init(&s, &env, &s);
	while (off < size && !s.closing && !fuzz_js.broken) {
		size_t n = size - off < chunk ? size - off : chunk;
		size_t used = jt_session_input(&s, data + off, n, now, 1000000);

		if (used != n && !s.closing)
			fuzz_js.broken = "input not all used below max_pending";
		off += n;
		now += 100000;
		jt_session_expire(&s, now);
	}
	if (!fuzz_js.broken && s.pending != fuzz_js.publishes)
		fuzz_js.broken = "pending differs from the publishes";
	jt_session_free(&s);
	if (!fuzz_js.broken && env.reasm_active != 0)
		fuzz_js.broken = "a reassembly left after the session";
	jt_registry_free(&reg);
	return fuzz_js.broken;
}

#endif
