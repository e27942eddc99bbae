/*
 * fuzz_jt808.h - what the JT/T 808 libFuzzer target (fuzz_jt808.c) and
 * the corpus replay (tests/unit/test_jt808_corpus.c) share: the whole
 * codec path over one input and the invariants it must keep.
 *
 * An input is the bytes a terminal sends (any number of frames, any
 * garbage). fuzz_jt808_run() deframes it whole and again in chunks of
 * 1..8 bytes (the two must see the same frames and errors), decodes the
 * header of every frame, reassembles subpackages, decodes the body by
 * message id and also with every body decoder in both header versions,
 * writes each location as native JSON and reads it back with ingest's
 * ing_decode(), and answers each frame with jt_reply_general(), which
 * must deframe and decode to what was sent.
 */
#ifndef HAZGATE_FUZZ_JT808_H
#define HAZGATE_FUZZ_JT808_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ingest/ingest.h"
#include "jt808/jt808.h"

#define FUZZ_JT_SKIP_MAX 256
#define FUZZ_JT_VEHICLE "\xe6\x99\x8b" "A12345"

/* What a run keeps across frames. */
struct fuzz_jt {
	struct jt_reasm reasm;
	uint8_t reasm_buf[4096];
	uint8_t whole[4096];
	enum jt_err first;      /* the full path's result for the first frame */
	int frames;             /* frames and errors seen by the deframer */
};

/* A location as native JSON, read back by ingest. */
static inline const char *
fuzz_jt_json(const struct jt_location *loc, const char *phone, bool backfill)
{
	char json[JT_JSON_MAX];
	size_t n;
	enum jt_err e;
	struct ing_fix fix;
	struct ing_error err;
	enum ing_result res;

	e = jt_json_location(loc, FUZZ_JT_VEHICLE, strlen(FUZZ_JT_VEHICLE),
	                     phone, backfill, json, sizeof(json), &n);
	if (!loc->time_ok)
		return e == JT_E_TIME ? NULL : "json without a time";
	if (e != JT_OK)
		return "json failed";
	res = ing_decode(NULL, json, n, ING_FORMAT_NATIVE, loc->time_us, &fix,
	                 &err);
	if (res == ING_REJECTED) {
		switch (err.reason) {
		case ING_REASON_LAT_RANGE:
		case ING_REASON_LON_RANGE:
		case ING_REASON_SPEED_RANGE:
		case ING_REASON_HEADING_RANGE:
		case ING_REASON_VALUE_RANGE:
		case ING_REASON_TIME_OLD:       /* 2000-01-01 08:00 GMT+8 and
		                                   before: 1999 in UTC */
			return NULL;
		default:
			fprintf(stderr, "ingest: %s: %.*s\n", err.message,
			        (int)n, json);
			return "ingest rejected the JSON for a reason not a range";
		}
	}
	if (res != ING_OK)
		return "ingest ignored the JSON";
	if (fix.time_us != loc->time_us ||
	    fabs(fix.lat - loc->lat_e6 / 1e6) > 1e-9 ||
	    fabs(fix.lon - loc->lon_e6 / 1e6) > 1e-9 ||
	    fabs(fix.speed_kmh - loc->speed_dkmh / 10.0) > 1e-9 ||
	    fix.heading != loc->direction || fix.alt_m != loc->alt_m ||
	    fix.ignition != loc->ignition)
		return "ingest read other values";
	return NULL;
}

/* The reply to m deframes and decodes to what we meant. */
static inline const char *
fuzz_jt_reply(const struct jt_header *h)
{
	uint8_t wire[JT_WIRE_MAX(5)], buf[JT_FRAME_MAX];
	size_t n, used, flen;
	const uint8_t *frame;
	struct jt_deframer d;
	struct jt_msg m;

	if (jt_reply_general(h, 7, 0, wire, sizeof(wire), &n) != JT_OK)
		return "reply failed";
	jt_deframer_init(&d, buf, sizeof(buf), 0);
	if (jt_deframe(&d, wire, n, &used, &frame, &flen) != JT_OK || used != n)
		return "reply does not deframe";
	if (jt_header_decode(frame, flen, &m) != JT_OK)
		return "reply header does not decode";
	if (m.h.msg_id != JT_MSG_PLATFORM_REPLY || m.h.v2019 != h->v2019 ||
	    strcmp(m.h.phone, h->phone) != 0 || m.body_len != 5 ||
	    m.body[0] != (uint8_t)(h->serial >> 8) ||
	    m.body[1] != (uint8_t)h->serial ||
	    m.body[2] != (uint8_t)(h->msg_id >> 8) ||
	    m.body[3] != (uint8_t)h->msg_id)
		return "reply decodes to something else";
	return NULL;
}

/* The terminal side's encoder (jt_term.c) writes a decoded location back
 * to a body that decodes to the same report. */
static inline const char *
fuzz_jt_reencode(const struct jt_location *loc)
{
	uint8_t body[JT_BODY_MAX];
	struct jt_location back;
	uint32_t want_status;
	size_t n;
	enum jt_err e = jt_location_encode(loc, body, sizeof(body), &n);

	if (e == JT_E_TIME && loc->time_ok && loc->time_us < 946656000LL * 1000000)
		return NULL;            /* 2000-01-01 00:00 GMT+8 and before */
	if (e != JT_OK)
		return "a decoded location does not encode";
	if (jt_location_body_decode(body, n, &back) != JT_OK)
		return "an encoded location does not decode";
	/* a south or west bit on a zero coordinate has no sign to keep */
	want_status = loc->status;
	if (loc->lat_e6 == 0)
		want_status &= ~(uint32_t)JT_STATUS_SOUTH;
	if (loc->lon_e6 == 0)
		want_status &= ~(uint32_t)JT_STATUS_WEST;
	if (back.alarm != loc->alarm || back.status != want_status ||
	    back.lat_e6 != loc->lat_e6 || back.lon_e6 != loc->lon_e6 ||
	    back.alt_m != loc->alt_m || back.speed_dkmh != loc->speed_dkmh ||
	    back.direction != loc->direction || back.time_ok != loc->time_ok ||
	    back.time_us != loc->time_us || back.present != loc->present ||
	    back.mileage_dkm != loc->mileage_dkm || back.fuel_dl != loc->fuel_dl ||
	    back.recorder_speed_dkmh != loc->recorder_speed_dkmh ||
	    back.ext_signals != loc->ext_signals || back.io != loc->io ||
	    back.rssi != loc->rssi || back.sats != loc->sats ||
	    memcmp(back.time_bcd, loc->time_bcd, 6) != 0)
		return "an encoded location decodes to another report";
	return NULL;
}

/* Every body decoder on m, in both header versions; borrowed pointers
 * stay inside the body. */
static inline const char *
fuzz_jt_all_bodies(const struct jt_msg *m0)
{
	struct jt_msg m = *m0;
	const uint8_t *end = m.body + m.body_len;

	for (int v = 0; v < 2; v++) {
		struct jt_terminal_reply tr;
		struct jt_register reg;
		struct jt_auth au;
		struct jt_location loc;
		struct jt_register_reply rr;
		struct jt_batch b;
		const char *broken;

		m.h.v2019 = v;
		m.h.encryption = 0;
		(void)jt_terminal_reply_decode(&m, &tr);
		if (jt_register_decode(&m, &reg) == JT_OK &&
		    (reg.plate + reg.plate_len != end || reg.maker < m.body))
			return "registration outside the body";
		if (jt_auth_decode(&m, &au) == JT_OK &&
		    (au.code + au.code_len > end ||
		     (au.sw_version && au.sw_version + au.sw_version_len > end)))
			return "authentication outside the body";
		if (jt_location_decode(&m, &loc) == JT_OK &&
		    (broken = fuzz_jt_reencode(&loc)) != NULL)
			return broken;
		if (jt_register_reply_decode(&m, &rr) == JT_OK &&
		    rr.auth && rr.auth + rr.auth_len != end)
			return "registration reply outside the body";
		if (jt_batch_decode(&m, &b) == JT_OK) {
			const uint8_t *item;
			size_t n;
			unsigned k = 0;
			enum jt_err e;

			while ((e = jt_batch_next(&b, &item, &n, &loc)) !=
			       JT_NEED_MORE) {
				if (item + n > end || ++k > b.count)
					return "batch item outside the body";
			}
			if (k != b.count)
				return "batch gave fewer items than its count";
		}
	}
	return NULL;
}

/* The path of one whole message (reassembled or not), by id. */
static inline const char *
fuzz_jt_message(const struct jt_msg *m, enum jt_err *res)
{
	const char *broken = NULL;

	switch (m->h.msg_id) {
	case JT_MSG_TERMINAL_REPLY: {
		struct jt_terminal_reply tr;
		*res = jt_terminal_reply_decode(m, &tr);
		break;
	}
	case JT_MSG_REGISTER: {
		struct jt_register reg;
		*res = jt_register_decode(m, &reg);
		break;
	}
	case JT_MSG_AUTH: {
		struct jt_auth au;
		*res = jt_auth_decode(m, &au);
		break;
	}
	case JT_MSG_LOCATION: {
		struct jt_location loc;
		*res = jt_location_decode(m, &loc);
		if (*res == JT_OK)
			broken = fuzz_jt_json(&loc, m->h.phone, false);
		break;
	}
	case JT_MSG_BATCH: {
		struct jt_batch b;
		*res = jt_batch_decode(m, &b);
		if (*res == JT_OK) {
			const uint8_t *item;
			size_t n;
			struct jt_location loc;
			enum jt_err e;

			while (!broken && (e = jt_batch_next(&b, &item, &n,
			                                     &loc)) != JT_NEED_MORE)
				if (e == JT_OK)
					broken = fuzz_jt_json(&loc, m->h.phone,
					                      b.type == 1);
		}
		break;
	}
	default:
		*res = JT_OK;   /* heartbeat, logout, others: header only */
		break;
	}
	return broken ? broken : fuzz_jt_all_bodies(m);
}

/* One frame from the deframer. */
static inline const char *
fuzz_jt_frame(struct fuzz_jt *f, const uint8_t *frame, size_t len,
              int64_t now_us, enum jt_err *res)
{
	struct jt_msg m, whole;
	const char *broken;
	size_t hlen;

	*res = jt_header_decode(frame, len, &m);
	if (*res != JT_OK)
		return NULL;
	hlen = (m.h.v2019 ? JT_HEADER_2019 : JT_HEADER_2013) +
	       (m.h.subpackage ? JT_HEADER_PACKET : 0);
	if (m.body != frame + hlen || m.body_len != len - hlen ||
	    strlen(m.h.phone) != 2u * m.h.phone_bytes ||
	    strspn(m.h.phone, "0123456789") != strlen(m.h.phone))
		return "header fields inconsistent";
	if ((broken = fuzz_jt_reply(&m.h)) != NULL)
		return broken;
	if (!m.h.subpackage)
		return fuzz_jt_message(&m, res);
	*res = jt_reasm_add(&f->reasm, &m, now_us, f->whole, sizeof(f->whole),
	                    &whole);
	if (*res != JT_OK)
		return NULL;
	if (whole.h.subpackage || whole.body != f->whole)
		return "reassembled message still a part";
	return fuzz_jt_message(&whole, res);
}

/* A cheap running digest of what the deframer gave. */
static inline uint64_t
fuzz_jt_mix(uint64_t h, const uint8_t *p, size_t n, enum jt_err e)
{
	h = (h ^ (uint64_t)e) * 1099511628211ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/*
 * Run the whole path over data[0..size). Returns NULL when every
 * invariant held, else what broke. *first: the first frame's result
 * through header, reassembly and body (JT_NEED_MORE when the input has
 * no frame and no deframing error).
 */
static inline const char *
fuzz_jt808_run(const uint8_t *data, size_t size, enum jt_err *first)
{
	const int64_t now0 = 1565424000LL * 1000000LL;
	struct fuzz_jt f;
	uint8_t buf[JT_FRAME_MAX];
	struct jt_deframer d;
	uint64_t h1 = 14695981039346656037ull, h2 = h1;
	int n1 = 0, n2 = 0;
	size_t pos = 0, chunk = size ? 1 + data[0] % 8 : 1;

	memset(&f, 0, sizeof(f));
	jt_reasm_init(&f.reasm, f.reasm_buf, sizeof(f.reasm_buf),
	              30LL * 1000000);
	*first = JT_NEED_MORE;
	jt_deframer_init(&d, buf, sizeof(buf), FUZZ_JT_SKIP_MAX);
	while (pos < size) {
		const uint8_t *frame = NULL;
		size_t used = 0, flen = 0;
		enum jt_err e = jt_deframe(&d, data + pos, size - pos, &used,
		                           &frame, &flen);
		enum jt_err res = e;
		const char *broken;

		if (used == 0 || used > size - pos)
			return "deframer used no input or too much";
		pos += used;
		if (e == JT_NEED_MORE)
			break;
		n1++;
		h1 = fuzz_jt_mix(h1, frame, e == JT_OK || e == JT_E_CHECK ? flen : 0, e);
		if (e == JT_E_CHECK) {
			struct jt_msg m;

			if (flen + 1 > sizeof(buf) || frame != buf)
				return "bad-check frame outside the buffer";
			(void)jt_header_decode(frame, flen, &m);
		}
		if (e == JT_OK) {
			uint8_t wire[JT_WIRE_MAX(JT_BODY_MAX)], back[JT_FRAME_MAX];
			struct jt_deframer d2;
			const uint8_t *f2;
			size_t wn, u2, f2len;

			if (flen + 1 > sizeof(buf))
				return "frame longer than the buffer";
			if (jt_frame_encode(frame, flen, wire, sizeof(wire), &wn) !=
			    JT_OK)
				return "frame does not re-encode";
			jt_deframer_init(&d2, back, sizeof(back), 0);
			if (jt_deframe(&d2, wire, wn, &u2, &f2, &f2len) != JT_OK ||
			    f2len != flen || memcmp(f2, frame, flen) != 0)
				return "re-encoded frame reads back otherwise";
			broken = fuzz_jt_frame(&f, frame, flen,
			                       now0 + n1 * 1000000LL, &res);
			if (broken)
				return broken;
		}
		if (n1 == 1)
			*first = res;
	}
	/* The same bytes in small chunks. */
	jt_deframer_init(&d, buf, sizeof(buf), FUZZ_JT_SKIP_MAX);
	for (pos = 0; pos < size;) {
		size_t end = size - pos < chunk ? size : pos + chunk, at = pos;

		while (at < end) {
			const uint8_t *frame = NULL;
			size_t used = 0, flen = 0;
			enum jt_err e = jt_deframe(&d, data + at, end - at, &used,
			                           &frame, &flen);

			at += used;
			if (e == JT_NEED_MORE)
				break;
			n2++;
			h2 = fuzz_jt_mix(h2, frame, e == JT_OK || e == JT_E_CHECK ? flen : 0, e);
		}
		pos = end;
	}
	if (n1 != n2 || h1 != h2)
		return "chunked deframing differs from whole";
	return NULL;
}

#endif /* HAZGATE_FUZZ_JT808_H */
