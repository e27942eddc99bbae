/*
 * test_jt808_server: hazgate-jt808's pure parts - the configuration table
 * (jt808/jt_config.c), the registry, auth codes and plates
 * (jt_registry.c), and the sessions (jt_session.c): frames in, replies,
 * publishes and rejects out through recorded callbacks, as jt_server.c
 * sees them. Frames are built here field by field (header, body) and
 * framed with the codec's jt_frame_encode (tested in test_jt808); replies
 * are read back with the codec.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "jt808/jt808.h"
#include "jt808/jt_config.h"
#include "jt808/jt_registry.h"
#include "jt808/jt_session.h"
#include "tests/fuzz/fuzz_jt808_session.h"
#include "tests/unit/corpus_walk.h"

#define PHONE "013800138000"
#define PLATE_UTF8 "\xe6\x99\x8b" "A12345"      /* 晋A12345 */
#define PLATE_GBK "\xbd\xfa" "A12345"
#define NOW_US (1767240000LL * 1000000LL)      /* 2026-01-01T04:00:00Z */

/* ---- configuration ------------------------------------------------------ */

static void
test_config(void **state)
{
	struct jt_config c;
	char err[512] = "";

	(void)state;
	jt_config_default(&c);
	assert_string_equal(c.jt808.listen, "127.0.0.1:6808");
	assert_int_equal(c.jt808.unknown_terminals, JT_UNKNOWN_REFUSE);
	assert_int_equal(c.jt808.auth, JT_AUTH_REQUIRED);
	assert_int_equal(c.jt808.idle_s, 600);
	assert_int_equal(c.jt808.max_connections, 50000);
	assert_int_equal(c.jt808.max_connections_per_address, 64);
	assert_string_equal(c.mqtt.client_id, "hazgate-jt808");
	assert_int_equal(c.mqtt.port, 1883);
	assert_string_equal(c.http.listen, "127.0.0.1:9751");

	assert_int_equal(jt_config_load_string("t.conf",
		"[jt808]\nunknown_terminals = register\nauth = optional\n"
		"[mqtt]\nkeepalive = 7\nprotocol = 5\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.jt808.unknown_terminals, JT_UNKNOWN_REGISTER);
	assert_int_equal(c.jt808.auth, JT_AUTH_OPTIONAL);
	assert_int_equal(c.mqtt.keepalive_s, 7);        /* the gateway's old spelling */
	assert_int_equal(c.mqtt.protocol, 5);

	/* Errors name the file and line. */
	assert_int_not_equal(jt_config_load_string("t.conf", "[jt808]\nidle_s = 5\n", &c, err,
						   sizeof(err)), 0);
	assert_non_null(strstr(err, "t.conf:2: "));
	assert_int_not_equal(jt_config_load_string("t.conf", "[jt808]\n\nauth = maybe\n", &c, err,
						   sizeof(err)), 0);
	assert_non_null(strstr(err, "t.conf:3: "));
	assert_int_not_equal(jt_config_load_string("t.conf", "[mqtt]\nsubscribe = a native\n", &c,
						   err, sizeof(err)), 0);
	assert_non_null(strstr(err, "t.conf:2: unknown key"));
	/* Checks across options. */
	assert_int_not_equal(jt_config_load_string("t.conf", "[jt808]\nlisten = 6808\n", &c, err,
						   sizeof(err)), 0);
	assert_non_null(strstr(err, "[jt808] listen"));
	assert_int_not_equal(jt_config_load_string("t.conf",
		"[jt808]\nmax_connections = 10\nmax_connections_per_address = 11\n", &c, err,
		sizeof(err)), 0);
	assert_non_null(strstr(err, "max_connections_per_address"));
	assert_int_not_equal(jt_config_load_string("t.conf", "[mqtt]\ntls_cert = /c\n", &c, err,
						   sizeof(err)), 0);
	assert_non_null(strstr(err, "tls_cert and tls_key"));
}

/* ---- registry ----------------------------------------------------------- */

static void
test_registry(void **state)
{
	struct jt_registry r;
	uint8_t h[JT_AUTH_HASH_BYTES];
	char code[JT_AUTH_CODE_LEN + 1], other[JT_AUTH_CODE_LEN + 1], phone[16];
	struct jt_term *t;

	(void)state;
	assert_true(jt_registry_init(&r));
	assert_null(jt_registry_find(&r, PHONE));
	jt_auth_new_code(code);
	jt_auth_new_code(other);
	assert_int_equal(strlen(code), JT_AUTH_CODE_LEN);
	assert_string_not_equal(code, other);
	jt_auth_hash((const uint8_t *)code, strlen(code), h);
	t = jt_registry_set(&r, PHONE, PLATE_UTF8, h);
	assert_non_null(t);
	assert_true(t->known);
	assert_int_equal(r.known, 1);
	assert_string_equal(jt_term_vehicle(t), PLATE_UTF8);
	assert_true(jt_auth_check(t, (const uint8_t *)code, strlen(code)));
	assert_false(jt_auth_check(t, (const uint8_t *)other, strlen(other)));
	assert_false(jt_auth_check(t, (const uint8_t *)code, strlen(code) - 1));
	assert_true(jt_registry_vehicle_taken(&r, PLATE_UTF8));
	/* A vehicle that is not a vehicle name is not kept: the phone is. */
	t = jt_registry_set(&r, "013800138001", "a/b", NULL);
	assert_string_equal(jt_term_vehicle(t), "013800138001");
	assert_false(jt_auth_check(t, (const uint8_t *)"", 0));
	/* Many entries: the table grows and finds each. */
	for (int i = 0; i < 5000; i++) {
		snprintf(phone, sizeof(phone), "0139%08d", i);
		assert_non_null(jt_registry_add(&r, phone));
	}
	for (int i = 0; i < 5000; i += 7) {
		snprintf(phone, sizeof(phone), "0139%08d", i);
		assert_non_null(jt_registry_find(&r, phone));
	}
	assert_int_equal(r.count, 5002);
	assert_int_equal(r.known, 2);
	/* A full load clears what it did not give (the last fix stays). */
	t = jt_registry_find(&r, "013800138001");
	t->has_fix = true;
	jt_registry_load_begin(&r);
	jt_registry_set(&r, PHONE, PLATE_UTF8, h);
	jt_registry_load_end(&r);
	assert_false(t->known);
	assert_true(t->has_fix);
	assert_int_equal(r.known, 1);
	jt_registry_clear(&r, PHONE);
	assert_int_equal(r.known, 0);
	assert_false(jt_registry_find(&r, PHONE)->has_auth);
	/* The digest is SHA-256, as PostgreSQL's sha256() (provisioning). */
	jt_auth_hash((const uint8_t *)"abc", 3, h);
	assert_int_equal(h[0], 0xba);
	assert_int_equal(h[31], 0xad);
	jt_registry_free(&r);
}

static void
test_plate(void **state)
{
	char out[80];

	(void)state;
	assert_true(jt_plate_utf8((const uint8_t *)PLATE_GBK, 8, out, sizeof(out)));
	assert_string_equal(out, PLATE_UTF8);
	/* Trailing NULs and blanks are padding. */
	assert_true(jt_plate_utf8((const uint8_t *)PLATE_GBK "\0\0 ", 11, out, sizeof(out)));
	assert_string_equal(out, PLATE_UTF8);
	assert_false(jt_plate_utf8((const uint8_t *)"", 0, out, sizeof(out)));
	assert_false(jt_plate_utf8((const uint8_t *)"\0\0", 2, out, sizeof(out)));
	/* Not a topic level, not a vehicle name. */
	assert_false(jt_plate_utf8((const uint8_t *)"A/1", 3, out, sizeof(out)));
	assert_false(jt_plate_utf8((const uint8_t *)"A+1", 3, out, sizeof(out)));
	assert_false(jt_plate_utf8((const uint8_t *)"A\x01" "1", 3, out, sizeof(out)));
	/* Bytes GBK does not have, a lead byte cut off. */
	assert_false(jt_plate_utf8((const uint8_t *)"\xbd", 1, out, sizeof(out)));
	assert_false(jt_plate_utf8((const uint8_t *)"\xff\xff", 2, out, sizeof(out)));
	/* Over 32 bytes of UTF-8 (11 Chinese characters). */
	assert_false(jt_plate_utf8((const uint8_t *)"\xbd\xfa\xbd\xfa\xbd\xfa\xbd\xfa\xbd\xfa"
				   "\xbd\xfa\xbd\xfa\xbd\xfa\xbd\xfa\xbd\xfa\xbd\xfa", 22, out,
				   sizeof(out)));
	/* The output buffer bounds it. */
	assert_false(jt_plate_utf8((const uint8_t *)PLATE_GBK, 8, out, 4));
}

/* ---- sessions ----------------------------------------------------------- */

/* What the callbacks saw. */
struct rec {
	struct jt_msg replies[32];
	uint8_t reply_bytes[32][128];
	int nreplies;
	char json[16][JT_JSON_MAX + 96];
	char vehicle[16][40];
	int npub;
	int nopen, nclose;
	bool refuse_publish;
	unsigned rejects[16];
	int nrejects;
	char reg_plate[40];
	int nregistered;
};

static struct rec rec;

static void
op_send(void *owner, const uint8_t *p, size_t n)
{
	struct jt_deframer d;
	uint8_t buf[JT_FRAME_MAX];
	const uint8_t *f;
	size_t used, flen;

	(void)owner;
	assert_true(rec.nreplies < 32);
	jt_deframer_init(&d, buf, sizeof(buf), 64);
	/* One whole frame per send. */
	assert_int_equal(jt_deframe(&d, p, n - 1, &used, &f, &flen), JT_NEED_MORE);
	assert_int_equal(jt_deframe(&d, p + n - 1, 1, &used, &f, &flen), JT_OK);
	memcpy(rec.reply_bytes[rec.nreplies], f, flen);
	assert_int_equal(jt_header_decode(rec.reply_bytes[rec.nreplies], flen,
					  &rec.replies[rec.nreplies]), JT_OK);
	rec.nreplies++;
}

static int report_token;

static void *
op_report_open(void *owner, const struct jt_header *h)
{
	(void)owner;
	(void)h;
	rec.nopen++;
	return &report_token;
}

static bool
op_publish(void *owner, void *rep, const char *vehicle, const char *json, size_t len)
{
	struct jt_session *s = owner;

	assert_ptr_equal(rep, &report_token);
	if (rec.refuse_publish)
		return false;
	assert_true(rec.npub < 16);
	memcpy(rec.json[rec.npub], json, len);
	rec.json[rec.npub][len] = '\0';
	snprintf(rec.vehicle[rec.npub], sizeof(rec.vehicle[0]), "%s", vehicle);
	rec.npub++;
	s->pending++;
	return true;
}

static void
op_report_close(void *owner, void *rep)
{
	(void)owner;
	assert_ptr_equal(rep, &report_token);
	rec.nclose++;
}

static void
op_reject(void *owner, const char *vehicle, unsigned reason, const uint8_t *p, size_t n)
{
	(void)owner;
	(void)vehicle;
	(void)p;
	(void)n;
	if (rec.nrejects < 16)
		rec.rejects[rec.nrejects++] = reason;
}

static void
op_registered(void *owner, const char *phone, const char *plate,
              const uint8_t hash[JT_AUTH_HASH_BYTES])
{
	(void)owner;
	(void)hash;
	assert_string_equal(phone, PHONE);
	snprintf(rec.reg_plate, sizeof(rec.reg_plate), "%s", plate);
	rec.nregistered++;
}

static const struct jt_session_ops ops = {
	.send = op_send, .report_open = op_report_open, .publish = op_publish,
	.report_close = op_report_close, .reject = op_reject, .registered = op_registered,
};

/* A session on a fresh registry and counters. */
struct fixture {
	struct jt_registry reg;
	struct jt_stats stats;
	struct jt_session_env env;
	struct jt_session s;
	uint16_t serial;
};

static struct fixture *
fixture_new(bool register_unknown, bool auth_optional)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	memset(&rec, 0, sizeof(rec));
	assert_true(jt_registry_init(&f->reg));
	f->env = (struct jt_session_env){ .register_unknown = register_unknown,
		.auth_optional = auth_optional, .reasm_timeout_us = 30000000, .garbage_max = 256,
		.reasm_max = 4, .ready = true, .reg = &f->reg, .stats = &f->stats, .ops = &ops };
	jt_session_init(&f->s, &f->env, &f->s);
	return f;
}

static void
fixture_free(struct fixture *f)
{
	jt_session_free(&f->s);
	assert_int_equal(f->env.reasm_active, 0);
	jt_registry_free(&f->reg);
	free(f);
}

static uint8_t
bcd2(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* A 2013 message of PHONE framed for the wire into out; returns its
 * length. pkt: count<<16|index when a subpackage. bad_check flips the
 * check code. */
static size_t
frame(struct fixture *f, uint16_t id, const uint8_t *body, size_t len, uint32_t pkt,
      bool bad_check, uint8_t *out)
{
	static const uint8_t phone[6] = { 0x01, 0x38, 0x00, 0x13, 0x80, 0x00 };
	uint8_t m[JT_FRAME_MAX];
	size_t n = 0, wl;
	uint16_t attr = (uint16_t)len | (pkt ? JT_ATTR_SUBPACKAGE : 0);

	m[n++] = (uint8_t)(id >> 8);
	m[n++] = (uint8_t)id;
	m[n++] = (uint8_t)(attr >> 8);
	m[n++] = (uint8_t)attr;
	memcpy(m + n, phone, 6);
	n += 6;
	f->serial++;
	m[n++] = (uint8_t)(f->serial >> 8);
	m[n++] = (uint8_t)f->serial;
	if (pkt) {
		m[n++] = 0;
		m[n++] = (uint8_t)(pkt >> 16);
		m[n++] = 0;
		m[n++] = (uint8_t)pkt;
	}
	if (len)                            /* a heartbeat has no body (NULL) */
		memcpy(m + n, body, len);
	n += len;
	assert_int_equal(jt_frame_encode(m, n, out, 4096, &wl), JT_OK);
	if (bad_check)
		out[wl - 2] ^= 0x20;            /* the check code (never 7d/7e here) */
	return wl;
}

/* Send one message; returns the number of replies it brought. */
static int
send_msg(struct fixture *f, uint16_t id, const uint8_t *body, size_t len)
{
	uint8_t w[4096];
	size_t n = frame(f, id, body, len, 0, false, w);
	int before = rec.nreplies;

	assert_int_equal(jt_session_input(&f->s, w, n, NOW_US, 100), n);
	return rec.nreplies - before;
}

/* The result of the last 0x8001, checked to answer id. */
static int
last_result(uint16_t id)
{
	const struct jt_msg *m = &rec.replies[rec.nreplies - 1];

	assert_int_equal(m->h.msg_id, JT_MSG_PLATFORM_REPLY);
	assert_int_equal(m->body_len, 5);
	assert_int_equal((m->body[2] << 8) | m->body[3], id);
	return m->body[4];
}

/* A 0x0200 body: alarm, status, lat/lon in 1e-6, time 2026-01-01 12:MM:00
 * GMT+8, item 0x01 mileage. */
static size_t
loc_body(uint32_t alarm, uint32_t status, uint32_t lat, uint32_t lon, int minute, uint8_t *b)
{
	size_t n = 0;
	uint32_t words[4] = { alarm, status, lat, lon };

	for (int i = 0; i < 4; i++)
		for (int k = 3; k >= 0; k--)
			b[n++] = (uint8_t)(words[i] >> (8 * k));
	memcpy(b + n, "\x00\x64\x02\x58\x00\x5a", 6);   /* 100 m, 60 km/h, 90° */
	n += 6;
	b[n++] = 0x26; b[n++] = 0x01; b[n++] = 0x01; b[n++] = 0x12;
	b[n++] = bcd2(minute); b[n++] = 0x00;
	memcpy(b + n, "\x01\x04\x00\x00\x30\x39", 6);   /* 1234.5 km */
	n += 6;
	return n;
}

/* Register (0x0100 with the GBK plate) and authenticate with the code. */
static void
register_auth(struct fixture *f)
{
	uint8_t body[64], code[32];
	size_t n = 0;
	const struct jt_msg *m;
	size_t clen;

	memcpy(body, "\x00\x0e\x00\x64" "MAKER" "MODEL\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	       "T000001" "\x01", 4 + 5 + 20 + 7 + 1);
	n = 37;
	memcpy(body + n, PLATE_GBK, 8);
	n += 8;
	assert_int_equal(send_msg(f, JT_MSG_REGISTER, body, n), 1);
	m = &rec.replies[rec.nreplies - 1];
	assert_int_equal(m->h.msg_id, JT_MSG_REGISTER_REPLY);
	assert_int_equal(m->body[2], 0);
	clen = m->body_len - 3;
	assert_int_equal(clen, JT_AUTH_CODE_LEN);
	memcpy(code, m->body + 3, clen);
	assert_int_equal(send_msg(f, JT_MSG_AUTH, code, clen), 1);
	assert_int_equal(last_result(JT_MSG_AUTH), JT_RESULT_OK);
	assert_true(jt_session_authenticated(&f->s));
}

static void
test_session_register_auth(void **state)
{
	struct fixture *f = fixture_new(false, false);
	uint8_t body[64];
	size_t n;

	(void)state;
	/* refuse: an unknown terminal's registration gets 4 (no such terminal). */
	memcpy(body, "\x00\x0e\x00\x64" "MAKER" "MODEL\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	       "T000001" "\x01" PLATE_GBK, 45);
	assert_int_equal(send_msg(f, JT_MSG_REGISTER, body, 45), 1);
	assert_int_equal(rec.replies[0].h.msg_id, JT_MSG_REGISTER_REPLY);
	assert_int_equal(rec.replies[0].body_len, 3);
	assert_int_equal(rec.replies[0].body[2], 4);
	assert_int_equal(f->stats.register_refused, 1);
	assert_int_equal(rec.nregistered, 0);
	/* A report before authentication: result 1, nothing published. */
	n = loc_body(0, 3, 37800000, 112500000, 0, body);
	assert_int_equal(send_msg(f, JT_MSG_LOCATION, body, n), 1);
	assert_int_equal(last_result(JT_MSG_LOCATION), JT_RESULT_FAILURE);
	assert_int_equal(rec.npub, 0);
	assert_int_equal(f->stats.unauthenticated, 1);
	/* Provisioned (known, no code yet): it registers, gets a code, and its
	 * plate becomes its vehicle at once. */
	jt_registry_set(&f->reg, PHONE, NULL, NULL);
	register_auth(f);
	assert_int_equal(rec.nregistered, 1);
	assert_string_equal(rec.reg_plate, PLATE_UTF8);
	assert_string_equal(jt_registry_find(&f->reg, PHONE)->vehicle, PLATE_UTF8);
	assert_true(jt_registry_find(&f->reg, PHONE)->seen);
	/* A wrong code: result 1, and the session is no longer authenticated. */
	assert_int_equal(send_msg(f, JT_MSG_AUTH, (const uint8_t *)"WRONG", 5), 1);
	assert_int_equal(last_result(JT_MSG_AUTH), JT_RESULT_FAILURE);
	assert_false(jt_session_authenticated(&f->s));
	assert_int_equal(f->stats.auth_failed, 1);
	fixture_free(f);
}

static void
test_session_reports(void **state)
{
	struct fixture *f = fixture_new(true, false);
	uint8_t body[256];
	size_t n, k;

	(void)state;
	register_auth(f);
	/* 0x0200: published under the plate; the reply is the owner's (after
	 * PUBACK): none from the session. */
	n = loc_body(0, 3, 37800000, 112500000, 0, body);
	assert_int_equal(send_msg(f, JT_MSG_LOCATION, body, n), 0);
	assert_int_equal(rec.npub, 1);
	assert_int_equal(rec.nopen, 1);
	assert_int_equal(rec.nclose, 1);
	assert_string_equal(rec.vehicle[0], PLATE_UTF8);
	assert_string_equal(rec.json[0], "{\"vehicle\":\"" PLATE_UTF8 "\","
		"\"ts\":\"2026-01-01T04:00:00.000Z\",\"lat\":37.8,\"lon\":112.5,\"speed_kmh\":60,"
		"\"heading\":90,\"alt_m\":100,\"ignition\":true,\"source\":\"jt808\","
		"\"terminal\":\"" PHONE "\",\"alarms\":[],\"status\":3,\"mileage_km\":1234.5}");
	/* The owner answers with the session's serials. */
	jt_session_reply(&f->s, &rec.replies[0].h, 0);
	assert_int_equal(rec.replies[rec.nreplies - 1].h.msg_id, JT_MSG_PLATFORM_REPLY);

	/* 0x0704 type 1: each item, in order, flagged backfill. */
	n = 0;
	body[n++] = 0; body[n++] = 2; body[n++] = 1;
	for (int i = 0; i < 2; i++) {
		k = loc_body(0, 3, 37810000 + 10000 * (uint32_t)i, 112510000, 1 + i, body + n + 2);
		body[n] = 0;
		body[n + 1] = (uint8_t)k;
		n += 2 + k;
	}
	assert_int_equal(send_msg(f, JT_MSG_BATCH, body, n), 0);
	assert_int_equal(rec.npub, 3);
	assert_non_null(strstr(rec.json[1], "\"ts\":\"2026-01-01T04:01:00.000Z\",\"lat\":37.81,"));
	assert_non_null(strstr(rec.json[2], "\"ts\":\"2026-01-01T04:02:00.000Z\",\"lat\":37.82,"));
	assert_non_null(strstr(rec.json[2], ",\"backfill\":true}"));
	assert_int_equal(rec.nclose, 2);

	/* Not positioned, no alarm: a reject, nothing published, answered by
	 * the owner at once (report closed with no publish). */
	n = loc_body(0, 1, 0, 0, 3, body);
	assert_int_equal(send_msg(f, JT_MSG_LOCATION, body, n), 0);
	assert_int_equal(rec.npub, 3);
	assert_int_equal(rec.nclose, 3);
	assert_int_equal(f->stats.rejects[JT_REASON_NOT_POSITIONED], 1);
	assert_int_equal(rec.rejects[rec.nrejects - 1], JT_REASON_NOT_POSITIONED);
	/* Not positioned with SOS: published at the last known position (the
	 * latest fix, 04:02), flagged. */
	n = loc_body(1, 0, 0, 0, 4, body);
	assert_int_equal(send_msg(f, JT_MSG_LOCATION, body, n), 0);
	assert_int_equal(rec.npub, 4);
	assert_non_null(strstr(rec.json[3], "\"lat\":37.82,\"lon\":112.51,"));
	assert_non_null(strstr(rec.json[3], "\"alarms\":[\"sos\"]"));
	assert_non_null(strstr(rec.json[3], ",\"positioned\":false,"
			       "\"last_fix_ts\":\"2026-01-01T04:02:00.000Z\"}"));
	assert_int_equal(f->stats.alarm_only, 1);
	/* A report time that is not a date, with an alarm: the server's time. */
	n = loc_body(1, 3, 37800000, 112500000, 0, body);
	body[23] = 0x13;                /* month 13 */
	assert_int_equal(send_msg(f, JT_MSG_LOCATION, body, n), 0);
	assert_int_equal(rec.npub, 5);
	assert_non_null(strstr(rec.json[4], "\"ts\":\"2026-01-01T04:00:00.000Z\""));
	assert_non_null(strstr(rec.json[4], "\"positioned\":false,\"server_time\":true"));
	assert_int_equal(f->stats.rejects[JT_E_TIME], 1);

	/* A body too short: result 2, rejected, nothing published. */
	assert_int_equal(send_msg(f, JT_MSG_LOCATION, body, 10), 1);
	assert_int_equal(last_result(JT_MSG_LOCATION), JT_RESULT_MSG_ERROR);
	assert_int_equal(f->stats.rejects[JT_E_BODY_SHORT], 1);

	/* The owner refuses (broker away): the report is closed, not answered
	 * by the session. */
	rec.refuse_publish = true;
	n = loc_body(0, 3, 37800000, 112500000, 5, body);
	assert_int_equal(send_msg(f, JT_MSG_LOCATION, body, n), 0);
	assert_int_equal(f->stats.fixes_not_published, 1);
	assert_int_equal(rec.nclose, 6);
	fixture_free(f);
}

static void
test_session_others(void **state)
{
	struct fixture *f = fixture_new(false, true);
	uint8_t body[64], w[4096];
	size_t n;

	(void)state;
	/* Before the registry is loaded: no answer to reports (nor to
	 * registrations and authentications); heartbeats are answered. */
	f->env.ready = false;
	n = loc_body(0, 3, 37800000, 112500000, 0, body);
	assert_int_equal(send_msg(f, JT_MSG_LOCATION, body, n), 0);
	assert_int_equal(send_msg(f, JT_MSG_AUTH, (const uint8_t *)"CODE", 4), 0);
	assert_int_equal(send_msg(f, JT_MSG_HEARTBEAT, NULL, 0), 1);
	assert_int_equal(rec.nopen, 0);
	assert_int_equal(f->stats.not_ready, 2);
	f->env.ready = true;
	/* auth = optional, refuse: an unknown terminal's report gets 1; a
	 * known one's is published under its phone. */
	assert_int_equal(send_msg(f, JT_MSG_LOCATION, body, n), 1);
	assert_int_equal(last_result(JT_MSG_LOCATION), JT_RESULT_FAILURE);
	jt_registry_set(&f->reg, PHONE, NULL, NULL);
	assert_int_equal(send_msg(f, JT_MSG_LOCATION, body, n), 0);
	assert_int_equal(rec.npub, 1);
	assert_string_equal(rec.vehicle[0], PHONE);
	/* Heartbeat 0, logout 0, general reply nothing, unknown id 3. */
	assert_int_equal(send_msg(f, JT_MSG_HEARTBEAT, NULL, 0), 1);
	assert_int_equal(last_result(JT_MSG_HEARTBEAT), JT_RESULT_OK);
	assert_int_equal(send_msg(f, JT_MSG_TERMINAL_REPLY, (const uint8_t *)"\0\1\x80\x01\0", 5), 0);
	assert_int_equal(send_msg(f, 0x0900, (const uint8_t *)"\1\2", 2), 1);
	assert_int_equal(last_result(0x0900), JT_RESULT_UNSUPPORTED);
	assert_int_equal(f->stats.frames[JT_KIND_OTHER], 1);
	assert_int_equal(send_msg(f, JT_MSG_LOGOUT, NULL, 0), 1);
	assert_int_equal(last_result(JT_MSG_LOGOUT), JT_RESULT_OK);
	/* A bad check code: result 2, counted, kept (the terminal is known),
	 * the session goes on. */
	n = frame(f, JT_MSG_HEARTBEAT, NULL, 0, 0, true, w);
	assert_int_equal(jt_session_input(&f->s, w, n, NOW_US, 100), n);
	assert_int_equal(last_result(JT_MSG_HEARTBEAT), JT_RESULT_MSG_ERROR);
	assert_int_equal(f->stats.rejects[JT_E_CHECK], 1);
	assert_int_equal(rec.rejects[rec.nrejects - 1], JT_E_CHECK);
	/* A length field that disagrees: result 2. */
	n = frame(f, JT_MSG_HEARTBEAT, (const uint8_t *)"\0", 1, 0, false, w);
	w[4] = 0x05;                    /* attributes: length 5, body 1 */
	w[n - 2] ^= 0x04;               /* check code follows */
	assert_int_equal(jt_session_input(&f->s, w, n, NOW_US, 100), n);
	assert_int_equal(last_result(JT_MSG_HEARTBEAT), JT_RESULT_MSG_ERROR);
	assert_int_equal(f->stats.rejects[JT_E_LENGTH], 1);
	/* A bad escape: counted, no answer (no frame), the next frame works. */
	assert_int_equal(jt_session_input(&f->s, (const uint8_t *)"\x7e\x00\x02\x7d\x05\x7e", 6,
					  NOW_US, 100), 6);
	assert_int_equal(f->stats.rejects[JT_E_ESCAPE], 1);
	/* Byte by byte: the same heartbeat answered once. */
	n = frame(f, JT_MSG_HEARTBEAT, NULL, 0, 0, false, w);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(jt_session_input(&f->s, w + i, 1, NOW_US, 100), 1);
	assert_int_equal(last_result(JT_MSG_HEARTBEAT), JT_RESULT_OK);
	/* More than a frame's buffer and garbage_max bytes without a
	 * delimiter: closing. */
	memset(w, 'x', 1500);
	jt_session_input(&f->s, w, 1500, NOW_US, 100);
	assert_int_equal(f->stats.rejects[JT_E_OVERSIZE], 1);
	assert_true(f->s.closing);
	assert_int_equal(f->stats.garbage, 1);
	fixture_free(f);
}

static void
test_session_subpackages(void **state)
{
	struct fixture *f = fixture_new(true, true);
	uint8_t body[64], w[4096];
	size_t n, half, l1, l2;

	(void)state;
	/* A 0x0200 in two parts, the second first: one publish once both came. */
	n = loc_body(0, 3, 37800000, 112500000, 0, body);
	half = n / 2;
	f->serial = 10;                 /* part 1 gets serial 11, part 2 serial 12 */
	l1 = frame(f, JT_MSG_LOCATION, body, half, (2u << 16) | 1, false, w);
	l2 = frame(f, JT_MSG_LOCATION, body + half, n - half, (2u << 16) | 2, false, w + l1);
	assert_int_equal(jt_session_input(&f->s, w + l1, l2, NOW_US, 100), l2);
	assert_int_equal(rec.npub, 0);
	assert_int_equal(f->env.reasm_active, 1);
	assert_int_equal(jt_session_input(&f->s, w, l1, NOW_US, 100), l1);
	assert_int_equal(rec.npub, 1);
	assert_int_equal(f->env.reasm_active, 0);
	assert_int_equal(f->stats.reasm_completed, 1);
	assert_non_null(strstr(rec.json[0], "\"lat\":37.8,\"lon\":112.5,"));
	/* One part of another, never completed: dropped by the sweep after the
	 * timeout, counted. */
	l1 = frame(f, JT_MSG_LOCATION, body, half, (2u << 16) | 1, false, w);
	jt_session_input(&f->s, w, l1, NOW_US, 100);
	assert_int_equal(f->env.reasm_active, 1);
	jt_session_expire(&f->s, NOW_US + 1000000);
	assert_int_equal(f->env.reasm_active, 1);
	jt_session_expire(&f->s, NOW_US + 31000000);
	assert_int_equal(f->env.reasm_active, 0);
	assert_int_equal(f->stats.reasm_timeouts, 1);
	fixture_free(f);
}

static void
test_session_backpressure(void **state)
{
	struct fixture *f = fixture_new(true, true);
	uint8_t body[64], w[4096];
	size_t n, l, total = 0;

	(void)state;
	/* Three reports in one read, at most 2 pending: the third waits. */
	n = loc_body(0, 3, 37800000, 112500000, 0, body);
	for (int i = 0; i < 3; i++)
		total += frame(f, JT_MSG_LOCATION, body, n, 0, false, w + total);
	l = jt_session_input(&f->s, w, total, NOW_US, 2);
	assert_true(l < total);
	assert_int_equal(rec.npub, 2);
	f->s.pending = 0;               /* PUBACKs came */
	assert_int_equal(jt_session_input(&f->s, w + l, total - l, NOW_US, 2), total - l);
	assert_int_equal(rec.npub, 3);
	fixture_free(f);
}

/* ---- the fuzz corpus through a session --------------------------------- */

static bool
replay_file(const char *name, const uint8_t *data, size_t size, const void *arg)
{
	static const uint8_t policies[] = { 0x00, 0x03, 0xff, 0x1e };
	uint8_t *in = malloc(size + 1);
	const char *broken;

	(void)arg;
	assert_non_null(in);
	memcpy(in + 1, data, size);
	/* As it is (its first byte the policy), and after each policy byte. */
	broken = fuzz_jt808_session_run(data, size);
	for (size_t i = 0; !broken && i < sizeof(policies); i++) {
		in[0] = policies[i];
		broken = fuzz_jt808_session_run(in, size + 1);
	}
	free(in);
	if (broken)
		print_message("# %s: %s\n", name, broken);
	assert_null(broken);
	return false;
}

static void
test_session_corpus(void **state)
{
	struct corpus_count c;

	(void)state;
	c = corpus_walk("corpus/jt808", "", replay_file, NULL);
	assert_true(c.files >= 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_plate),
		cmocka_unit_test(test_session_register_auth),
		cmocka_unit_test(test_session_reports),
		cmocka_unit_test(test_session_others),
		cmocka_unit_test(test_session_subpackages),
		cmocka_unit_test(test_session_backpressure),
		cmocka_unit_test(test_session_corpus),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
