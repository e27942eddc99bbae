/*
 * ld_jt808.c: hazgate-load jt808, many JT/T 808 terminals over TCP from
 * one libevent loop (non-blocking sockets, bufferevents), fed with the
 * fixes of a hazgate-load source (ld_sim's fleet or a file through
 * ld_replay), one terminal per vehicle.
 *
 * A terminal: connect, register (0x0100 -> 0x8100 code) unless it has a
 * code, authenticate (0x0102 -> 0x8001), then report. One request is in
 * flight per terminal (a terminal waits for the reply to a report before
 * the next, so its fixes reach the platform in order): a report (0x0200),
 * a batch (0x0704: type 1 for fixes made while the link was down or in a
 * simulated blind spell, type 0 for a live backlog with --batch), or a
 * heartbeat (0x0002, after --heartbeat s without sending). A request
 * without its reply is sent again, byte for byte (same serial), after
 * JT/T 808's T(n+1) = T(n) * (n+1); after --retries re-sends, or when the
 * connection closes, the terminal reconnects (backoff with jitter) and
 * sends what it still holds. Replies: 0x8001 result 0 acknowledges the
 * fixes (written to --acked / --acked-json), 1 is "not now" (kept, sent
 * again), 2 and 3 refuse them (counted as failed). --bad-frames sends
 * broken frames (bad check code, length mismatch, bad escape, an
 * unsupported message id) and counts the answers.
 *
 * Pacing: a source with due times (--realtime, --shift-to-now) is fed at
 * those times; one without is fed as fast as the terminals are answered,
 * up to --queue-max fixes waiting per terminal.
 * Limits: a tool, not a terminal: one source address (hazgate-jt808's
 * max_connections_per_address must allow --terminals), no subpackages,
 * no encryption; the auth codes live in memory unless --codes keeps them.
 */
#include "loadgen/ld_jt808.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/hz_backoff.h"
#include "common/hz_clock.h"
#include "common/hz_time.h"

#define CONNECT_TIMEOUT_US (10 * 1000000LL)
#define RECONNECT_MIN_US (100 * 1000LL)
#define BATCH_ITEMS_MAX 24      /* 24 reports with our items fit one body */
#define FEED_SLICE 512          /* fixes fed per turn before yielding */
#define BAD_PENDING_MAX 8

enum tstate { T_DOWN, T_CONNECTING, T_REGISTERING, T_AUTHENTICATING, T_ONLINE };
enum req { R_NONE, R_REGISTER, R_AUTH, R_HEARTBEAT, R_REPORT, R_BATCH };
enum bad { BAD_CHECK, BAD_LENGTH, BAD_ESCAPE, BAD_UNKNOWN_ID, BAD_KINDS };

static const char *const bad_names[BAD_KINDS] = {
	"bad_check", "bad_length", "bad_escape", "bad_unknown_id",
};

struct qfix {
	struct jt_location loc;
	bool blind;             /* made while the link was lost: 0x0704 type 1 */
	bool sent;              /* sent at least once */
};

struct ld_jt808;

struct term {
	struct ld_jt808 *run;
	uint32_t index;
	char vehicle[64];
	uint8_t plate[32];
	size_t plate_len;
	struct jt_header hdr;
	struct bufferevent *bev;
	struct event *timer;
	enum tstate state;
	bool ever_online;
	struct jt_deframer d;
	uint8_t dbuf[JT_FRAME_MAX];
	uint8_t code[64];
	size_t code_len;
	bool have_code;
	uint16_t serial;
	/* fixes not yet acknowledged: a ring, power-of-two capacity */
	struct qfix *q;
	size_t qhead, qlen, qcap;
	/* the request in flight */
	enum req req;
	uint16_t req_serial, req_id;
	size_t req_nfix;
	bool req_blind;
	int req_sends;
	int64_t req_first_us, req_deadline_us;
	uint8_t *wire;
	size_t wire_len;
	int64_t last_tx_us, connect_deadline_us, reconnect_at_us;
	struct hz_backoff backoff;
	/* simulated blind spells */
	uint32_t live_run, blind_left;
	uint64_t nfix;
	uint32_t mileage_dkm;
	bool have_last;
	int32_t last_lat, last_lon;
	uint32_t bad_left, bad_next;
	uint16_t bad_serial[BAD_PENDING_MAX];
	unsigned nbad;
	uint16_t logout_serial;
	bool logout_sent;
};

struct code {
	char phone[JT_PHONE_DIGITS_MAX + 1];
	size_t line;
	uint8_t code[64];
	size_t len;
};

struct counters {
	uint64_t connects, connect_errors, disconnects, link_timeouts;
	uint64_t registered, register_refused, authenticated, auth_refused;
	uint64_t fixes, skipped, sent, resent, acked, failed;
	uint64_t reports, batches, blind_batches, blind_fixes;
	uint64_t heartbeats, heartbeats_acked, nack_failure, stray_replies, logouts_acked;
	uint64_t bad_sent[BAD_KINDS], bad_result[4], unreadable, platform_msgs;
	uint64_t queue_max_seen;
};

struct ld_jt808 {
	const struct ld_jt808_opts *o;
	struct ld_source *src;
	struct event_base *base;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct term **terms;
	size_t nterms, capterms;
	struct term **map;      /* vehicle -> terminal, open addressing */
	size_t mapcap;
	struct code *codes;
	size_t ncodes;
	FILE *codes_out, *acked, *acked_json, *ack_log;
	iconv_t gbk;
	struct event *feeder, *tick;
	bool src_done, have_pending, finishing;
	struct term *pend_t;
	struct jt_location pend_loc;
	int64_t pend_due_us;
	struct term *stalled_on;
	int64_t stalled_since_us;
	int64_t start_us, start_wall_us, drain_deadline_us;
	size_t queued, inflight_fixes, online;
	int64_t next_progress_us;
	struct ld_samples *lat;
	struct counters c;
	int rc;
};

static void term_arm(struct term *t);
static void term_pump(struct term *t);
static void term_drop(struct term *t, bool link_timeout);
static void feed_cb(evutil_socket_t fd, short what, void *arg);
static void check_done(struct ld_jt808 *r);

/* ---- the fix queue ------------------------------------------------------ */

static struct qfix *
qat(struct term *t, size_t i)
{
	return &t->q[(t->qhead + i) & (t->qcap - 1)];
}

static int
qpush(struct term *t, const struct qfix *f)
{
	if (t->qlen == t->qcap) {
		size_t cap = t->qcap ? t->qcap * 2 : 8;
		struct qfix *nq = malloc(cap * sizeof(*nq));

		if (nq == NULL)
			return LD_ERR_NOMEM;
		for (size_t i = 0; i < t->qlen; i++)
			nq[i] = *qat(t, i);
		free(t->q);
		t->q = nq;
		t->qcap = cap;
		t->qhead = 0;
	}
	*qat(t, t->qlen) = *f;
	t->qlen++;
	t->run->queued++;
	if (t->qlen > t->run->c.queue_max_seen)
		t->run->c.queue_max_seen = t->qlen;
	return LD_OK;
}

static void
qpop(struct term *t)
{
	t->qhead = (t->qhead + 1) & (t->qcap - 1);
	t->qlen--;
	t->run->queued--;
}

/* ---- auth codes kept across runs (--codes) ------------------------------ */

static int
code_cmp(const void *a, const void *b)
{
	const struct code *x = a, *y = b;
	int c = strcmp(x->phone, y->phone);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* bsearch's comparison: the phone alone. */
static int
code_phone_cmp(const void *a, const void *b)
{
	return strcmp(((const struct code *)a)->phone, ((const struct code *)b)->phone);
}

/* Read "phone\thex" lines; a later line for a phone wins. */
static int
codes_load(struct ld_jt808 *r, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t cap = 0, k = 0;

	if (f == NULL)
		return errno == ENOENT ? LD_OK : LD_ERR_IO;
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t'), *hex;
		struct code c = { .line = r->ncodes };

		if (tab == NULL || (size_t)(tab - line) > JT_PHONE_DIGITS_MAX)
			continue;
		memcpy(c.phone, line, (size_t)(tab - line));
		hex = tab + 1;
		while (c.len < sizeof(c.code) && hex[0] && hex[1] && hex[0] != '\n') {
			unsigned v;
			if (sscanf(hex, "%2x", &v) != 1)
				break;
			c.code[c.len++] = (uint8_t)v;
			hex += 2;
		}
		if (r->ncodes == cap) {
			struct code *n = realloc(r->codes, (cap = cap ? cap * 2 : 64) * sizeof(*n));
			if (n == NULL) {
				fclose(f);
				return LD_ERR_NOMEM;
			}
			r->codes = n;
		}
		r->codes[r->ncodes++] = c;
	}
	fclose(f);
	/* by phone, in file order within a phone; the last line of each wins */
	qsort(r->codes, r->ncodes, sizeof(*r->codes), code_cmp);
	for (size_t i = 0; i < r->ncodes; i++) {
		if (k > 0 && strcmp(r->codes[k - 1].phone, r->codes[i].phone) == 0)
			k--;
		r->codes[k++] = r->codes[i];
	}
	r->ncodes = k;
	return LD_OK;
}

static void
codes_lookup(struct ld_jt808 *r, struct term *t)
{
	struct code key, *c;

	if (r->ncodes == 0)
		return;
	snprintf(key.phone, sizeof(key.phone), "%s", t->hdr.phone);
	c = bsearch(&key, r->codes, r->ncodes, sizeof(*r->codes), code_phone_cmp);
	if (c != NULL && c->len > 0) {
		memcpy(t->code, c->code, c->len);
		t->code_len = c->len;
		t->have_code = true;
	}
}

static void
codes_save(struct ld_jt808 *r, const struct term *t)
{
	if (r->codes_out == NULL)
		return;
	fprintf(r->codes_out, "%s\t", t->hdr.phone);
	for (size_t i = 0; i < t->code_len; i++)
		fprintf(r->codes_out, "%02x", t->code[i]);
	fputc('\n', r->codes_out);
	fflush(r->codes_out);
}

/* ---- terminals ----------------------------------------------------------- */

static void
timer_cb(evutil_socket_t fd, short what, void *arg);

static struct term *
term_new(struct ld_jt808 *r, const char *vehicle)
{
	const struct ld_jt808_opts *o = r->o;
	uint32_t i = (uint32_t)r->nterms;
	char phone[32];
	struct term *t;

	if (!ld_jt_phone(o->phone_base, (uint64_t)o->first + i, phone, sizeof(phone)))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->run = r;
	t->index = i;
	snprintf(t->vehicle, sizeof(t->vehicle), "%s", vehicle);
	if (jt_term_header(phone, o->version == 2019 || (o->version == 0 && i % 2 == 1),
	                   &t->hdr) != JT_OK ||
	    ld_jt_plate_gbk(r->gbk, vehicle, t->plate, sizeof(t->plate),
	                    &t->plate_len) != LD_OK) {
		fprintf(stderr, "hazgate-load: jt808: cannot make terminal %s (%s)\n", phone,
		        vehicle);
		free(t);
		return NULL;
	}
	jt_deframer_init(&t->d, t->dbuf, sizeof(t->dbuf), 4096);
	t->timer = evtimer_new(r->base, timer_cb, t);
	if (t->timer == NULL) {
		free(t);
		return NULL;
	}
	t->bad_left = o->bad_frames;
	codes_lookup(r, t);
	if (r->nterms == r->capterms) {
		size_t cap = r->capterms ? r->capterms * 2 : 64;
		struct term **n = realloc(r->terms, cap * sizeof(*n));
		if (n == NULL) {
			event_free(t->timer);
			free(t);
			return NULL;
		}
		r->terms = n;
		r->capterms = cap;
	}
	r->terms[r->nterms++] = t;
	return t;
}

static void
term_free(struct term *t)
{
	if (t->bev)
		bufferevent_free(t->bev);
	event_free(t->timer);
	free(t->wire);
	free(t->q);
	free(t);
}

/* The terminal of vehicle v, made on first sight; NULL past --terminals
 * (file source) or on failure. */
static struct term *
term_for(struct ld_jt808 *r, const char *v)
{
	size_t h, len = strlen(v);

	if (r->nterms * 2 >= r->mapcap) {
		size_t cap = r->mapcap ? r->mapcap * 2 : 1024;
		struct term **m = calloc(cap, sizeof(*m));

		if (m == NULL)
			return NULL;
		for (size_t i = 0; i < r->mapcap; i++) {
			if (r->map[i] == NULL)
				continue;
			h = ld_hash(r->map[i]->vehicle, strlen(r->map[i]->vehicle)) & (cap - 1);
			while (m[h])
				h = (h + 1) & (cap - 1);
			m[h] = r->map[i];
		}
		free(r->map);
		r->map = m;
		r->mapcap = cap;
	}
	h = ld_hash(v, len) & (r->mapcap - 1);
	while (r->map[h]) {
		if (strcmp(r->map[h]->vehicle, v) == 0)
			return r->map[h];
		h = (h + 1) & (r->mapcap - 1);
	}
	if (r->o->terminals > 0 && r->nterms >= r->o->terminals)
		return NULL;
	return r->map[h] = term_new(r, v);
}

/* Send what is in t->wire (the request in flight), arm its reply wait. */
static void
transmit(struct term *t)
{
	struct ld_jt808 *r = t->run;
	int64_t now = hz_mono_us();

	bufferevent_write(t->bev, t->wire, t->wire_len);
	if (t->req_sends++ == 0)
		t->req_first_us = now;
	t->last_tx_us = now;
	t->req_deadline_us = now + ld_jt_reply_wait_us(
		(int64_t)(r->o->ack_timeout_s * 1e6), t->req_sends);
	if (t->req == R_REPORT || t->req == R_BATCH) {
		for (size_t i = 0; i < t->req_nfix; i++) {
			struct qfix *f = qat(t, i);

			if (f->sent) {
				r->c.resent++;
			} else {
				f->sent = true;
				r->c.sent++;
			}
		}
	} else if (t->req == R_HEARTBEAT && t->req_sends == 1) {
		r->c.heartbeats++;
	}
	term_arm(t);
}

/* Make body into the request in flight (id, a new serial) and send it. */
static int
request(struct term *t, enum req kind, uint16_t id, const uint8_t *body, size_t len)
{
	size_t cap = JT_WIRE_MAX(len);

	free(t->wire);
	t->wire = malloc(cap);
	if (t->wire == NULL)
		return LD_ERR_NOMEM;
	t->req = kind;
	t->req_id = id;
	t->req_serial = ++t->serial;
	t->req_sends = 0;
	if (jt_encode(&t->hdr, id, t->req_serial, body, len, t->wire, cap,
	              &t->wire_len) != JT_OK) {
		free(t->wire);
		t->wire = NULL;
		t->req = R_NONE;
		return LD_ERR_DATA;
	}
	transmit(t);
	return LD_OK;
}

static void
req_done(struct term *t)
{
	if (t->req == R_REPORT || t->req == R_BATCH)
		t->run->inflight_fixes -= t->req_nfix;
	t->req = R_NONE;
	t->req_nfix = 0;
	free(t->wire);
	t->wire = NULL;
}

static void
send_register(struct term *t)
{
	char tid[32];
	struct jt_register reg = {
		.province = 14, .city = 100,
		.maker = (const uint8_t *)"HZGLD", .maker_len = 5,
		.model = (const uint8_t *)"hazgate-load", .model_len = 12,
		.plate_color = 2, .plate = t->plate, .plate_len = t->plate_len,
	};
	uint8_t body[JT_BODY_MAX];
	size_t n;

	snprintf(tid, sizeof(tid), "T%06u", (unsigned)(t->index % 1000000));
	reg.terminal_id = (const uint8_t *)tid;
	reg.terminal_id_len = strlen(tid);
	t->state = T_REGISTERING;
	if (jt_register_encode(&reg, t->hdr.v2019, body, sizeof(body), &n) == JT_OK)
		request(t, R_REGISTER, JT_MSG_REGISTER, body, n);
}

static void
send_auth(struct term *t)
{
	char imei[16];
	struct jt_auth a = { .code = t->code, .code_len = t->code_len,
		.sw_version = (const uint8_t *)"hazgate-load", .sw_version_len = 12 };
	uint8_t body[JT_BODY_MAX];
	size_t n;

	snprintf(imei, sizeof(imei), "86%013u", t->index);
	a.imei = (const uint8_t *)imei;
	a.imei_len = 15;
	t->state = T_AUTHENTICATING;
	if (jt_auth_encode(&a, t->hdr.v2019, body, sizeof(body), &n) == JT_OK)
		request(t, R_AUTH, JT_MSG_AUTH, body, n);
}

/* A frame of the wire with byte pos (unescaped region: the id and the
 * attributes, never escaped for our ids) and the check code rewritten,
 * or other damage by kind. Returns the wire length or 0. */
static size_t
bad_frame(struct term *t, enum bad kind, uint8_t *out, size_t cap, uint16_t *serial)
{
	uint8_t dbuf[JT_FRAME_MAX], msg[JT_FRAME_MAX + 1], wire[JT_WIRE_MAX(16)];
	const uint8_t body[2] = { 'h', 'i' };
	struct jt_deframer d;
	const uint8_t *frame;
	size_t n, used, flen;

	*serial = ++t->serial;
	if (kind == BAD_UNKNOWN_ID) {
		/* 0x0900 data uplink pass-through: real, and not hazgate's */
		return jt_encode(&t->hdr, 0x0900, *serial, body, sizeof(body), out, cap,
		                 &n) == JT_OK ? n : 0;
	}
	if (jt_encode(&t->hdr, JT_MSG_HEARTBEAT, *serial, NULL, 0, wire, sizeof(wire),
	              &n) != JT_OK)
		return 0;
	if (kind == BAD_ESCAPE) {
		/* 7d 03 before the check code: no such escape */
		if (n + 2 > cap)
			return 0;
		memcpy(out, wire, n - 2);
		out[n - 2] = 0x7d;
		out[n - 1] = 0x03;
		memcpy(out + n, wire + n - 2, 2);
		return n + 2;
	}
	/* the message unescaped, from our own valid frame */
	jt_deframer_init(&d, dbuf, sizeof(dbuf), 0);
	if (jt_deframe(&d, wire, n, &used, &frame, &flen) != JT_OK)
		return 0;
	memcpy(msg, frame, flen);
	if (kind == BAD_LENGTH) {
		/* one byte more than the header's length: a valid check code */
		msg[flen++] = 0x00;
		return jt_frame_encode(msg, flen, out, cap, &n) == JT_OK ? n : 0;
	}
	/* BAD_CHECK: the frame with another check code */
	{
		uint8_t good = jt_xor(msg, flen), bad = good ^ 0x01;
		size_t tail = good == 0x7d || good == 0x7e ? 3 : 2;

		if (bad == 0x7d || bad == 0x7e)
			bad = good ^ 0x10;
		if (jt_frame_encode(msg, flen, out, cap, &n) != JT_OK || n - tail + 2 > cap)
			return 0;
		out[n - tail] = bad;
		out[n - tail + 1] = 0x7e;
		return n - tail + 2;
	}
}

static void
send_bad(struct term *t)
{
	struct ld_jt808 *r = t->run;
	enum bad kind = (enum bad)(t->bad_next++ % BAD_KINDS);
	uint8_t out[JT_WIRE_MAX(16)];
	uint16_t serial;
	size_t n = bad_frame(t, kind, out, sizeof(out), &serial);

	t->bad_left--;
	if (n == 0)
		return;
	bufferevent_write(t->bev, out, n);
	r->c.bad_sent[kind]++;
	if (kind != BAD_ESCAPE && t->nbad < BAD_PENDING_MAX)
		t->bad_serial[t->nbad++] = serial;
}

/* Up to max fixes from the head that share the head's blind flag. */
static size_t
run_of(struct term *t, size_t max)
{
	bool blind = qat(t, 0)->blind;
	size_t n = 1;

	while (n < t->qlen && n < max && qat(t, n)->blind == blind)
		n++;
	return n;
}

static void
send_fixes(struct term *t, size_t n, bool batch, uint8_t type)
{
	struct ld_jt808 *r = t->run;
	struct jt_location locs[BATCH_ITEMS_MAX];
	uint8_t body[JT_BODY_MAX];
	size_t len;
	enum jt_err e;

	for (size_t i = 0; i < n; i++)
		locs[i] = qat(t, i)->loc;
	if (!batch) {
		e = jt_location_encode(&locs[0], body, sizeof(body), &len);
	} else {
		while ((e = jt_batch_encode(type, locs, n, body, sizeof(body), &len)) ==
		       JT_E_NO_SPACE && n > 1)
			n--;
	}
	if (e != JT_OK) {
		/* cannot be sent (a time outside 2000-2099): refused by us */
		fprintf(stderr, "hazgate-load: jt808: %s: report not encodable (%s)\n",
		        t->vehicle, jt_strerror(e));
		r->c.failed++;
		qpop(t);
		return;
	}
	t->req_nfix = n;
	t->req_blind = batch && type == 1;
	r->inflight_fixes += n;
	if (batch) {
		r->c.batches++;
		if (type == 1) {
			r->c.blind_batches++;
			r->c.blind_fixes += n;
		}
	} else {
		r->c.reports++;
	}
	if (request(t, batch ? R_BATCH : R_REPORT, batch ? JT_MSG_BATCH : JT_MSG_LOCATION,
	            body, len) != LD_OK) {
		r->inflight_fixes -= n;
		t->req_nfix = 0;
	}
}

/* Send the next request if the terminal is online and idle. */
static void
term_pump(struct term *t)
{
	struct ld_jt808 *r = t->run;
	struct qfix *h;

	if (t->state != T_ONLINE || t->req != R_NONE)
		return;
	while (t->bad_left > 0)
		send_bad(t);
	if (t->qlen == 0) {
		term_arm(t);
		return;
	}
	h = qat(t, 0);
	if (h->blind) {
		/* still in the tunnel: the spell's fixes wait for its end */
		if (t->blind_left > 0 && !r->src_done) {
			term_arm(t);
			return;
		}
		send_fixes(t, run_of(t, BATCH_ITEMS_MAX), true, 1);
	} else if (r->o->batch > 1 && t->qlen > 1) {
		size_t max = r->o->batch < BATCH_ITEMS_MAX ? r->o->batch : BATCH_ITEMS_MAX;
		send_fixes(t, run_of(t, max), true, 0);
	} else {
		send_fixes(t, 1, false, 0);
	}
}

static void
online(struct term *t)
{
	struct ld_jt808 *r = t->run;

	t->state = T_ONLINE;
	t->ever_online = true;
	r->online++;
	hz_backoff_reset(&t->backoff);
	r->c.authenticated++;
	if (r->stalled_on == t)
		event_active(r->feeder, EV_TIMEOUT, 0);
	term_pump(t);
}

/* Write the acknowledged head fixes to the files, drop them. */
static void
acked(struct term *t, size_t n, bool backfill)
{
	struct ld_jt808 *r = t->run;

	for (size_t i = 0; i < n; i++) {
		const struct jt_location *l = &qat(t, 0)->loc;

		if (r->acked) {
			char ts[HZ_TIME_FORMAT_SIZE], la[24], lo[24];

			hz_time_format(l->time_us, HZ_TIME_MS, ts);
			ld_jt_e6(l->lat_e6, la, sizeof(la));
			ld_jt_e6(l->lon_e6, lo, sizeof(lo));
			fprintf(r->acked, "%s\t%s\t%s\t%s\t%s\t%d\t%" PRIu32 "\n", t->hdr.phone,
			        t->vehicle, ts, la, lo, l->positioned ? 1 : 0, l->alarm);
		}
		if (r->acked_json) {
			char json[JT_JSON_MAX];
			size_t len;

			if (jt_json_location(l, t->vehicle, strlen(t->vehicle), t->hdr.phone,
			                     backfill, json, sizeof(json), &len) == JT_OK)
				fprintf(r->acked_json, "%.*s\n", (int)len, json);
		}
		qpop(t);
		r->c.acked++;
	}
}

/* The reply to the request in flight. */
static void
reply(struct term *t, uint8_t result)
{
	struct ld_jt808 *r = t->run;
	size_t n = t->req_nfix;

	switch (t->req) {
	case R_AUTH:
		req_done(t);
		if (result == JT_RESULT_OK) {
			online(t);
			return;
		}
		r->c.auth_refused++;
		t->have_code = false;
		send_register(t);
		return;
	case R_HEARTBEAT:
		r->c.heartbeats_acked++;
		req_done(t);
		break;
	case R_REPORT:
	case R_BATCH:
		if (result == JT_RESULT_FAILURE) {
			/* not taken now: kept, sent again at the deadline */
			r->c.nack_failure++;
			return;
		}
		/* from the first sending: what the terminal waited */
		{
			int64_t now = hz_mono_us();

			ld_samples_add(r->lat, now - t->req_first_us);
			if (r->ack_log)
				fprintf(r->ack_log, "%" PRId64 "\t%" PRId64 "\n",
				        now - r->start_us, now - t->req_first_us);
		}
		if (result == JT_RESULT_OK) {
			bool backfill = t->req_blind;

			req_done(t);
			acked(t, n, backfill);
		} else {
			req_done(t);
			r->c.failed += n;
			for (size_t i = 0; i < n; i++)
				qpop(t);
		}
		if (r->stalled_on == t)
			event_active(r->feeder, EV_TIMEOUT, 0);
		break;
	default:
		return;
	}
	term_pump(t);
	check_done(r);
}

static void
on_frame(struct term *t, const struct jt_msg *m)
{
	struct ld_jt808 *r = t->run;

	if (m->h.msg_id == JT_MSG_REGISTER_REPLY) {
		struct jt_register_reply rr;

		if (jt_register_reply_decode(m, &rr) != JT_OK || t->req != R_REGISTER ||
		    rr.reply_serial != t->req_serial) {
			r->c.stray_replies++;
			return;
		}
		req_done(t);
		if (rr.result == 0 && rr.auth_len > 0 && rr.auth_len <= sizeof(t->code)) {
			memcpy(t->code, rr.auth, rr.auth_len);
			t->code_len = rr.auth_len;
			t->have_code = true;
			r->c.registered++;
			codes_save(r, t);
			send_auth(t);
		} else {
			r->c.register_refused++;
			term_drop(t, false);
		}
		return;
	}
	if (m->h.msg_id == JT_MSG_PLATFORM_REPLY) {
		struct jt_terminal_reply pr;

		if (jt_terminal_reply_decode(m, &pr) != JT_OK) {
			r->c.unreadable++;
			return;
		}
		if (t->req != R_NONE && pr.reply_serial == t->req_serial &&
		    pr.reply_id == t->req_id) {
			reply(t, pr.result);
			return;
		}
		if (t->logout_sent && pr.reply_serial == t->logout_serial &&
		    pr.reply_id == JT_MSG_LOGOUT) {
			r->c.logouts_acked++;
			return;
		}
		for (unsigned i = 0; i < t->nbad; i++) {
			if (t->bad_serial[i] != pr.reply_serial)
				continue;
			r->c.bad_result[pr.result < 4 ? pr.result : 3]++;
			t->bad_serial[i] = t->bad_serial[--t->nbad];
			return;
		}
		r->c.stray_replies++;
		return;
	}
	/* a platform request we do not implement: 0x0001 result 3 */
	{
		uint8_t body[5], out[JT_WIRE_MAX(5)];
		size_t n;

		r->c.platform_msgs++;
		body[0] = (uint8_t)(m->h.serial >> 8);
		body[1] = (uint8_t)m->h.serial;
		body[2] = (uint8_t)(m->h.msg_id >> 8);
		body[3] = (uint8_t)m->h.msg_id;
		body[4] = JT_RESULT_UNSUPPORTED;
		if (jt_encode(&t->hdr, JT_MSG_TERMINAL_REPLY, ++t->serial, body, 5, out,
		              sizeof(out), &n) == JT_OK)
			bufferevent_write(t->bev, out, n);
	}
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct term *t = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t chunk[4096];
	int got;

	while (t->bev == bev && (got = evbuffer_remove(in, chunk, sizeof(chunk))) > 0) {
		size_t pos = 0;

		while (pos < (size_t)got && t->bev == bev) {
			const uint8_t *frame;
			size_t used, flen;
			enum jt_err e = jt_deframe(&t->d, chunk + pos, (size_t)got - pos, &used,
			                           &frame, &flen);
			struct jt_msg m;

			pos += used;
			if (e == JT_NEED_MORE)
				break;
			if (e == JT_E_GARBAGE) {
				t->run->c.unreadable++;
				term_drop(t, false);
				return;
			}
			if (e != JT_OK || jt_header_decode(frame, flen, &m) != JT_OK) {
				t->run->c.unreadable++;
				continue;
			}
			on_frame(t, &m);
		}
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct term *t = arg;
	int one = 1;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		t->run->c.connects++;
		setsockopt(bufferevent_getfd(t->bev), IPPROTO_TCP, TCP_NODELAY, &one,
		           sizeof(one));
		jt_deframer_init(&t->d, t->dbuf, sizeof(t->dbuf), 4096);
		t->nbad = 0;
		if (t->have_code)
			send_auth(t);
		else
			send_register(t);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (t->state == T_CONNECTING)
			t->run->c.connect_errors++;
		term_drop(t, false);
	}
}

static void
term_connect(struct term *t)
{
	struct ld_jt808 *r = t->run;

	t->bev = bufferevent_socket_new(r->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (t->bev == NULL) {
		r->c.connect_errors++;
		term_drop(t, false);
		return;
	}
	bufferevent_setcb(t->bev, read_cb, NULL, event_cb, t);
	bufferevent_enable(t->bev, EV_READ | EV_WRITE);
	t->state = T_CONNECTING;
	t->connect_deadline_us = hz_mono_us() + CONNECT_TIMEOUT_US;
	if (bufferevent_socket_connect(t->bev, (struct sockaddr *)&r->sa, (int)r->salen) < 0) {
		r->c.connect_errors++;
		term_drop(t, false);
		return;
	}
	term_arm(t);
}

/* The link is gone (closed, or no reply after the re-sends): what was in
 * flight stays queued; reconnect after the backoff. */
static void
term_drop(struct term *t, bool link_timeout)
{
	struct ld_jt808 *r = t->run;
	int64_t d;

	if (t->bev) {
		bufferevent_free(t->bev);
		t->bev = NULL;
	}
	if (t->state == T_ONLINE || t->state == T_AUTHENTICATING || t->state == T_REGISTERING)
		r->c.disconnects++;
	if (t->state == T_ONLINE)
		r->online--;
	if (link_timeout)
		r->c.link_timeouts++;
	req_done(t);
	t->state = T_DOWN;
	d = hz_backoff_next(&t->backoff, RECONNECT_MIN_US,
	                    (int64_t)(r->o->reconnect_max_s * 1e6));
	t->reconnect_at_us = hz_mono_us() + hz_backoff_jitter(d, (uint32_t)random());
	term_arm(t);
}

/* Arm the terminal's one timer at its next deadline. */
static void
term_arm(struct term *t)
{
	struct ld_jt808 *r = t->run;
	int64_t now = hz_mono_us(), at = -1;
	struct timeval tv;

	if (r->finishing)
		return;
	switch (t->state) {
	case T_DOWN:
		at = t->reconnect_at_us;
		break;
	case T_CONNECTING:
		at = t->connect_deadline_us;
		break;
	default:
		if (t->req != R_NONE)
			at = t->req_deadline_us;
		else if (t->state == T_ONLINE && r->o->heartbeat_s > 0)
			at = t->last_tx_us + (int64_t)(r->o->heartbeat_s * 1e6);
		break;
	}
	if (at < 0) {
		evtimer_del(t->timer);
		return;
	}
	if (at < now)
		at = now;
	tv.tv_sec = (time_t)((at - now) / 1000000);
	tv.tv_usec = (suseconds_t)((at - now) % 1000000);
	evtimer_add(t->timer, &tv);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct term *t = arg;
	struct ld_jt808 *r = t->run;
	int64_t now = hz_mono_us();

	(void)fd;
	(void)what;
	if (r->finishing)
		return;
	switch (t->state) {
	case T_DOWN:
		if (now >= t->reconnect_at_us)
			term_connect(t);
		else
			term_arm(t);
		return;
	case T_CONNECTING:
		if (now >= t->connect_deadline_us) {
			r->c.connect_errors++;
			term_drop(t, false);
		} else {
			term_arm(t);
		}
		return;
	default:
		break;
	}
	if (t->req != R_NONE && now >= t->req_deadline_us) {
		if (t->req_sends > r->o->retries) {
			term_drop(t, true);
			return;
		}
		transmit(t);    /* the same bytes, the same serial */
		return;
	}
	if (t->state == T_ONLINE && t->req == R_NONE && r->o->heartbeat_s > 0 &&
	    now - t->last_tx_us >= (int64_t)(r->o->heartbeat_s * 1e6)) {
		request(t, R_HEARTBEAT, JT_MSG_HEARTBEAT, NULL, 0);
		return;
	}
	term_arm(t);
}

/* ---- feeding the fixes -------------------------------------------------- */

/* Give fix f to t (with the simulated extras) and maybe send it. */
static int
enqueue(struct term *t, const struct jt_location *loc)
{
	const struct ld_jt808_opts *o = t->run->o;
	struct qfix f = { .loc = *loc };
	int rc;

	t->nfix++;
	t->run->c.fixes++;
	if (t->have_last)
		t->mileage_dkm += ld_jt_step_dkm(t->last_lat, t->last_lon, loc->lat_e6,
		                                 loc->lon_e6);
	t->have_last = true;
	t->last_lat = loc->lat_e6;
	t->last_lon = loc->lon_e6;
	f.loc.present |= JT_HAS_MILEAGE | JT_HAS_RSSI;
	f.loc.mileage_dkm = t->mileage_dkm;
	f.loc.rssi = (uint8_t)(18 + t->nfix % 13);
	if (o->sos_every > 0 && t->nfix % o->sos_every == 0) {
		f.loc.alarm |= 1u;      /* bit 0: SOS */
		if (o->sos_unpositioned) {
			f.loc.positioned = false;
			f.loc.lat_e6 = f.loc.lon_e6 = 0;
			f.loc.speed_dkmh = 0;
		}
	}
	if (o->blind_every > 0) {
		if (t->blind_left > 0) {
			f.blind = true;
			t->blind_left--;
		} else if (++t->live_run >= o->blind_every) {
			t->live_run = 0;
			t->blind_left = o->blind_len;
		}
	}
	if (!f.blind && t->ever_online && t->state != T_ONLINE)
		f.blind = true;
	/* keep the report as the platform will read it (status word, rounding) */
	{
		uint8_t body[JT_BODY_MAX];
		size_t n;

		if (jt_location_encode(&f.loc, body, sizeof(body), &n) == JT_OK)
			(void)jt_location_body_decode(body, n, &f.loc);
	}
	if ((rc = qpush(t, &f)) != LD_OK)
		return rc;
	if (t->state == T_DOWN && t->bev == NULL && !t->ever_online && t->nfix == 1)
		term_connect(t);
	term_pump(t);
	return LD_OK;
}

/* The source ended (or --duration): blind spells end, queues drain. */
static void
source_done(struct ld_jt808 *r)
{
	if (r->src_done)
		return;
	r->src_done = true;
	r->drain_deadline_us = hz_mono_us() + (int64_t)(r->o->drain_s * 1e6);
	for (size_t i = 0; i < r->nterms; i++) {
		r->terms[i]->blind_left = 0;
		term_pump(r->terms[i]);
	}
	check_done(r);
}

/* The feeder waits for t (online, or room in its queue). */
static void
stall(struct ld_jt808 *r, struct term *t)
{
	if (r->stalled_on != t)
		r->stalled_since_us = hz_mono_us();
	r->stalled_on = t;
}

static void
feed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ld_jt808 *r = arg;
	int64_t now = hz_mono_us();
	int slice = 0;

	(void)fd;
	(void)what;
	if (r->stalled_on && r->stalled_on->state == T_ONLINE &&
	    r->stalled_on->qlen < r->o->queue_max)
		r->stalled_on = NULL;
	while (!r->src_done && !r->finishing) {
		if (r->o->duration_s > 0 && now - r->start_us >= (int64_t)(r->o->duration_s * 1e6)) {
			source_done(r);
			break;
		}
		if (!r->have_pending) {
			struct ld_msg m;
			char veh[64];
			int rc = r->src->next(r->src->ctx, &m);

			if (rc <= 0) {
				if (rc < 0)
					r->rc = -rc;
				source_done(r);
				break;
			}
			if (ld_jt_fix_parse(m.payload, m.payload_len, veh, sizeof(veh),
			                    &r->pend_loc) != LD_OK ||
			    (r->pend_t = term_for(r, veh)) == NULL) {
				r->c.skipped++;
				continue;
			}
			r->pend_due_us = r->o->rate > 0 ?
				(int64_t)((double)r->c.fixes / r->o->rate * 1e6) : m.due_us;
			r->have_pending = true;
		}
		if (r->pend_due_us >= 0 && r->start_us + r->pend_due_us > now) {
			int64_t d = r->start_us + r->pend_due_us - now;
			struct timeval tv = { (time_t)(d / 1000000), (suseconds_t)(d % 1000000) };

			evtimer_add(r->feeder, &tv);
			return;
		}
		if (r->pend_due_us < 0 && r->pend_t->ever_online &&
		    (r->pend_t->state != T_ONLINE || r->pend_t->qlen >= r->o->queue_max)) {
			stall(r, r->pend_t);    /* resumed by its reply */
			return;
		}
		if (enqueue(r->pend_t, &r->pend_loc) != LD_OK) {
			r->rc = LD_ERR_NOMEM;
			source_done(r);
			break;
		}
		r->have_pending = false;
		if (r->pend_due_us < 0 && !r->pend_t->ever_online) {
			/* as fast as answered: a new terminal connects first */
			stall(r, r->pend_t);
			return;
		}
		if (++slice >= FEED_SLICE) {
			event_active(r->feeder, EV_TIMEOUT, 0);
			return;
		}
	}
}

/* ---- the end ------------------------------------------------------------- */

static void
finish(struct ld_jt808 *r, bool logout)
{
	struct timeval tv = { 0, 200000 };

	if (r->finishing)
		return;
	r->finishing = true;
	for (size_t i = 0; i < r->nterms; i++) {
		struct term *t = r->terms[i];
		uint8_t out[JT_WIRE_MAX(0)];
		size_t n;

		evtimer_del(t->timer);
		if (logout && t->state == T_ONLINE &&
		    jt_encode(&t->hdr, JT_MSG_LOGOUT, ++t->serial, NULL, 0, out, sizeof(out),
		              &n) == JT_OK) {
			bufferevent_write(t->bev, out, n);
			t->logout_serial = t->serial;
			t->logout_sent = true;
		}
	}
	event_base_loopexit(r->base, &tv);
}

static void
check_done(struct ld_jt808 *r)
{
	if (r->src_done && r->queued == 0 && r->inflight_fixes == 0)
		finish(r, true);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ld_jt808 *r = arg;
	int64_t now = hz_mono_us();

	(void)fd;
	(void)what;
	if (ld_stop) {
		source_done(r);
		finish(r, true);
		return;
	}
	if (r->o->duration_s > 0 && !r->src_done &&
	    now - r->start_us >= (int64_t)(r->o->duration_s * 1e6))
		source_done(r);
	if (r->o->progress_s > 0 && now >= r->next_progress_us) {
		r->next_progress_us += (int64_t)(r->o->progress_s * 1e6);
		fprintf(stderr, "progress t=%.1f terminals=%zu online=%zu fixes=%" PRIu64
		        " acked=%" PRIu64 " resent=%" PRIu64 " heartbeats=%" PRIu64
		        " pending=%zu\n", (double)(now - r->start_us) / 1e6, r->nterms,
		        r->online, r->c.fixes, r->c.acked, r->c.resent, r->c.heartbeats_acked,
		        r->queued);
	}
	/* a terminal the feeder waits for that never comes back (refused,
	 * no server): give up after --drain s, what it holds is pending */
	if (r->stalled_on && !r->src_done &&
	    now - r->stalled_since_us >= (int64_t)(r->o->drain_s * 1e6)) {
		fprintf(stderr, "hazgate-load: jt808: %s: no progress for %.0f s, giving up\n",
		        r->stalled_on->vehicle, r->o->drain_s);
		source_done(r);
	}
	if (r->src_done && now >= r->drain_deadline_us)
		finish(r, true);
}

static int
resolve(struct ld_jt808 *r)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	char port[16];
	int e;

	snprintf(port, sizeof(port), "%d", r->o->port);
	if ((e = getaddrinfo(r->o->host, port, &hints, &ai)) != 0) {
		fprintf(stderr, "hazgate-load: jt808: %s: %s\n", r->o->host, gai_strerror(e));
		return LD_ERR_USAGE;
	}
	memcpy(&r->sa, ai->ai_addr, ai->ai_addrlen);
	r->salen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return LD_OK;
}

static void
print_figures(struct ld_jt808 *r, FILE *out)
{
	const struct counters *c = &r->c;
	int64_t end_wall = hz_now_us();
	double secs = (double)(hz_mono_us() - r->start_us) / 1e6;

	fprintf(out, "terminals=%zu\n", r->nterms);
	fprintf(out, "connects=%" PRIu64 "\nconnect_errors=%" PRIu64 "\n", c->connects,
	        c->connect_errors);
	fprintf(out, "disconnects=%" PRIu64 "\nlink_timeouts=%" PRIu64 "\n", c->disconnects,
	        c->link_timeouts);
	fprintf(out, "registered=%" PRIu64 "\nregister_refused=%" PRIu64 "\n", c->registered,
	        c->register_refused);
	fprintf(out, "authenticated=%" PRIu64 "\nauth_refused=%" PRIu64 "\n", c->authenticated,
	        c->auth_refused);
	fprintf(out, "fixes=%" PRIu64 "\nskipped=%" PRIu64 "\n", c->fixes, c->skipped);
	fprintf(out, "sent=%" PRIu64 "\nresent=%" PRIu64 "\n", c->sent, c->resent);
	fprintf(out, "acked=%" PRIu64 "\nfailed=%" PRIu64 "\npending=%zu\n", c->acked,
	        c->failed, r->queued);
	fprintf(out, "reports=%" PRIu64 "\nbatches=%" PRIu64 "\n", c->reports, c->batches);
	fprintf(out, "blind_batches=%" PRIu64 "\nblind_fixes=%" PRIu64 "\n", c->blind_batches,
	        c->blind_fixes);
	fprintf(out, "heartbeats=%" PRIu64 "\nheartbeats_acked=%" PRIu64 "\n", c->heartbeats,
	        c->heartbeats_acked);
	fprintf(out, "nack_failure=%" PRIu64 "\nstray_replies=%" PRIu64 "\n", c->nack_failure,
	        c->stray_replies);
	fprintf(out, "unreadable=%" PRIu64 "\nplatform_msgs=%" PRIu64 "\n", c->unreadable,
	        c->platform_msgs);
	fprintf(out, "logouts_acked=%" PRIu64 "\n", c->logouts_acked);
	for (int k = 0; k < BAD_KINDS; k++)
		fprintf(out, "%s_sent=%" PRIu64 "\n", bad_names[k], c->bad_sent[k]);
	for (int k = 0; k < 4; k++)
		fprintf(out, "bad_result%d=%" PRIu64 "\n", k, c->bad_result[k]);
	fprintf(out, "queue_max=%" PRIu64 "\n", c->queue_max_seen);
	fprintf(out, "seconds=%.3f\nfix_per_s=%.1f\n", secs,
	        secs > 0 ? (double)c->acked / secs : 0.0);
	fprintf(out, "start_us=%" PRId64 "\nend_us=%" PRId64 "\n", r->start_wall_us, end_wall);
	fprintf(out, "ack_p50_us=%" PRId64 "\nack_p99_us=%" PRId64 "\nack_max_us=%" PRId64 "\n",
	        ld_samples_pct(r->lat, 50), ld_samples_pct(r->lat, 99),
	        ld_samples_pct(r->lat, 100));
}

int
ld_jt808_run(const struct ld_jt808_opts *o, struct ld_source *src, FILE *out)
{
	struct ld_jt808 r = { .o = o, .src = src, .gbk = (iconv_t)-1 };
	struct timeval tick = { 0, 100000 };
	int rc;

	if (o->queue_max < 1 || o->retries < 0 || o->ack_timeout_s <= 0 ||
	    (o->blind_every > 0 && o->blind_len >= o->queue_max))
		return LD_ERR_USAGE;
	if ((rc = resolve(&r)) != LD_OK)
		return rc;
	r.gbk = iconv_open("GBK", "UTF-8");
	r.base = event_base_new();
	r.lat = ld_samples_new();
	if (r.gbk == (iconv_t)-1 || r.base == NULL || r.lat == NULL) {
		rc = LD_ERR_NOMEM;
		goto done;
	}
	if (o->codes && ((rc = codes_load(&r, o->codes)) != LD_OK ||
	                 (r.codes_out = fopen(o->codes, "a")) == NULL)) {
		fprintf(stderr, "hazgate-load: jt808: %s: %s\n", o->codes, strerror(errno));
		rc = rc != LD_OK ? rc : LD_ERR_IO;
		goto done;
	}
	if ((o->acked && (r.acked = fopen(o->acked, "w")) == NULL) ||
	    (o->acked_json && (r.acked_json = fopen(o->acked_json, "w")) == NULL) ||
	    (o->ack_log && (r.ack_log = fopen(o->ack_log, "w")) == NULL)) {
		fprintf(stderr, "hazgate-load: jt808: cannot write %s: %s\n",
		        !r.acked && o->acked ? o->acked :
		        !r.acked_json && o->acked_json ? o->acked_json : o->ack_log,
		        strerror(errno));
		rc = LD_ERR_IO;
		goto done;
	}
	r.feeder = evtimer_new(r.base, feed_cb, &r);
	r.tick = event_new(r.base, -1, EV_PERSIST, tick_cb, &r);
	if (r.feeder == NULL || r.tick == NULL) {
		rc = LD_ERR_NOMEM;
		goto done;
	}
	r.start_us = hz_mono_us();
	r.start_wall_us = hz_now_us();
	r.next_progress_us = r.start_us + (int64_t)(o->progress_s * 1e6);
	if (src->start)
		src->start(src->ctx, r.start_wall_us);
	evtimer_add(r.tick, &tick);
	event_active(r.feeder, EV_TIMEOUT, 0);
	event_base_dispatch(r.base);

	print_figures(&r, out);
	rc = r.rc;
	if (rc == LD_OK && (r.queued > 0 || r.c.failed > 0))
		rc = LD_ERR_TIMEOUT;
done:
	if (r.acked && fclose(r.acked) != 0)
		rc = LD_ERR_IO;
	if (r.acked_json && fclose(r.acked_json) != 0)
		rc = LD_ERR_IO;
	if (r.ack_log && fclose(r.ack_log) != 0)
		rc = LD_ERR_IO;
	if (r.codes_out)
		fclose(r.codes_out);
	for (size_t i = 0; i < r.nterms; i++)
		term_free(r.terms[i]);
	free(r.terms);
	free(r.map);
	free(r.codes);
	if (r.feeder)
		event_free(r.feeder);
	if (r.tick)
		event_free(r.tick);
	if (r.base)
		event_base_free(r.base);
	if (r.gbk != (iconv_t)-1)
		iconv_close(r.gbk);
	ld_samples_free(r.lat);
	return rc;
}
