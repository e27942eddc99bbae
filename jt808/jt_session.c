/*
 * jt_session.c - one terminal's session, the protocol side: frames in,
 * reassembly, the decision on each message, replies and publishes out
 * through the owner's callbacks. See jt_session.h.
 */
#include "jt808/jt_session.h"

#include <stdlib.h>
#include <string.h>

#include "common/hz_time.h"

/* A reassembly in progress: the parts and the whole body (allocated on
 * the first part, freed when the message completes or is dropped). */
struct jt_session_reasm {
	struct jt_reasm r;
	uint8_t parts[JT_REASM_CAP];
	uint8_t whole[JT_REASM_CAP];
};

static const char *const kind_names[JT_KIND_COUNT] = {
	"0x0001", "0x0002", "0x0003", "0x0100", "0x0102", "0x0200", "0x0704", "other",
};

const char *
jt_session_kind_name(enum jt_kind k)
{
	return (unsigned)k < JT_KIND_COUNT ? kind_names[k] : "other";
}

const char *
jt_session_reason_name(unsigned reason)
{
	if (reason == JT_REASON_NOT_POSITIONED)
		return "not_positioned";
	return jt_strerror((enum jt_err)reason);
}

static enum jt_kind
kind_of(uint16_t id)
{
	switch (id) {
	case JT_MSG_TERMINAL_REPLY: return JT_KIND_TERMINAL_REPLY;
	case JT_MSG_HEARTBEAT: return JT_KIND_HEARTBEAT;
	case JT_MSG_LOGOUT: return JT_KIND_LOGOUT;
	case JT_MSG_REGISTER: return JT_KIND_REGISTER;
	case JT_MSG_AUTH: return JT_KIND_AUTH;
	case JT_MSG_LOCATION: return JT_KIND_LOCATION;
	case JT_MSG_BATCH: return JT_KIND_BATCH;
	default: return JT_KIND_OTHER;
	}
}

void
jt_session_init(struct jt_session *s, struct jt_session_env *env, void *owner)
{
	memset(s, 0, sizeof(*s) - sizeof(s->buf));
	s->env = env;
	s->owner = owner;
	jt_deframer_init(&s->d, s->buf, sizeof(s->buf), env->garbage_max);
}

/* Drop the reassembly (its counters go to the server's). */
static void
reasm_release(struct jt_session *s)
{
	struct jt_session_env *env = s->env;

	if (!s->reasm)
		return;
	env->stats->reasm_completed += s->reasm->r.completed;
	env->stats->reasm_timeouts += s->reasm->r.dropped_timeout;
	env->stats->reasm_dropped += s->reasm->r.dropped_replaced + s->reasm->r.dropped_full;
	free(s->reasm);
	s->reasm = NULL;
	env->reasm_active--;
}

void
jt_session_free(struct jt_session *s)
{
	reasm_release(s);
}

void
jt_session_expire(struct jt_session *s, int64_t now_us)
{
	if (s->reasm && jt_reasm_expire(&s->reasm->r, now_us))
		reasm_release(s);
}

bool
jt_session_authenticated(const struct jt_session *s)
{
	return s->phone[0] != '\0';
}

/* Send the framed message out[0..n). */
static void
send_bytes(struct jt_session *s, const uint8_t *p, size_t n)
{
	s->env->ops->send(s->owner, p, n);
}

void
jt_session_reply(struct jt_session *s, const struct jt_header *to, uint8_t result)
{
	uint8_t out[JT_WIRE_MAX(5)];
	size_t n;

	if (jt_reply_general(to, s->serial++, result, out, sizeof(out), &n) != JT_OK)
		return;
	send_bytes(s, out, n);
	if (result < 4)
		s->env->stats->replies[result]++;
}

/* The known terminal of phone, or NULL: the one a reject is kept for. */
static const struct jt_term *
known_term(const struct jt_session *s, const char *phone)
{
	const struct jt_term *t = jt_registry_find(s->env->reg, phone);

	return t && t->known ? t : NULL;
}

/* Count a reject; hand its bytes to the owner when the terminal is known. */
static void
reject(struct jt_session *s, const char *phone, unsigned reason, const uint8_t *p, size_t n)
{
	const struct jt_term *t = phone && phone[0] ? known_term(s, phone) : NULL;

	s->env->stats->rejects[reason]++;
	if (t && s->env->ops->reject)
		s->env->ops->reject(s->owner, jt_term_vehicle(t), reason, p, n);
}

/* ---- registration and authentication ------------------------------- */

static void
on_register(struct jt_session *s, const struct jt_msg *m)
{
	struct jt_register reg;
	struct jt_term *t;
	char code[JT_AUTH_CODE_LEN + 1], plate[JT_VEHICLE_MAX * 2 + 1];
	uint8_t out[JT_WIRE_MAX(3 + JT_AUTH_CODE_LEN)];
	size_t n;
	enum jt_err e = jt_register_decode(m, &reg);

	if (e != JT_OK) {
		reject(s, m->h.phone, e, m->body, m->body_len);
		jt_session_reply(s, &m->h, JT_RESULT_MSG_ERROR);
		return;
	}
	t = jt_registry_find(s->env->reg, m->h.phone);
	if (!(t && t->known) && !s->env->register_unknown) {
		s->env->stats->register_refused++;
		if (jt_reply_register(&m->h, s->serial++, 4, NULL, 0, out, sizeof(out), &n) == JT_OK)
			send_bytes(s, out, n);
		return;
	}
	t = jt_registry_add(s->env->reg, m->h.phone);
	if (!t)
		return;         /* out of memory: no answer, the terminal asks again */
	if (!jt_plate_utf8(reg.plate, reg.plate_len, plate, sizeof(plate)))
		plate[0] = '\0';
	/* What the database will decide (hazgate_jt808_register), at once: a
	 * terminal with no vehicle gets its plate unless another terminal has
	 * it. Its NOTIFY then confirms. */
	if (plate[0] && !t->vehicle[0] && !jt_registry_vehicle_taken(s->env->reg, plate))
		strcpy(t->vehicle, plate);
	jt_auth_new_code(code);
	jt_auth_hash((const uint8_t *)code, JT_AUTH_CODE_LEN, t->auth_hash);
	t->has_auth = true;
	if (!t->known)
		s->env->reg->known++;
	t->known = true;
	s->env->stats->register_ok++;
	if (s->env->ops->registered)
		s->env->ops->registered(s->owner, t->phone, plate, t->auth_hash);
	if (jt_reply_register(&m->h, s->serial++, 0, (const uint8_t *)code, JT_AUTH_CODE_LEN, out,
			      sizeof(out), &n) == JT_OK)
		send_bytes(s, out, n);
}

static void
on_auth(struct jt_session *s, const struct jt_msg *m)
{
	struct jt_auth a;
	struct jt_term *t;
	enum jt_err e = jt_auth_decode(m, &a);
	bool ok;

	if (e != JT_OK) {
		reject(s, m->h.phone, e, m->body, m->body_len);
		jt_session_reply(s, &m->h, JT_RESULT_MSG_ERROR);
		return;
	}
	t = jt_registry_find(s->env->reg, m->h.phone);
	ok = jt_auth_check(t, a.code, a.code_len);
	/* auth = optional: a terminal with no code on file passes too. */
	if (!ok && s->env->auth_optional && !(t && t->has_auth))
		ok = true;
	if (ok) {
		strcpy(s->phone, m->h.phone);
		if (t)
			t->seen = true;
		s->env->stats->auth_ok++;
	} else {
		s->phone[0] = '\0';
		s->env->stats->auth_failed++;
	}
	jt_session_reply(s, &m->h, ok ? JT_RESULT_OK : JT_RESULT_FAILURE);
}

/* ---- reports ------------------------------------------------------- */

/* The terminal a report of phone is taken from, or NULL (answered 1). */
static struct jt_term *
reporter(struct jt_session *s, const char *phone)
{
	struct jt_term *t;

	if (!s->env->auth_optional) {
		if (strcmp(s->phone, phone) != 0)
			return NULL;
		return jt_registry_add(s->env->reg, phone);
	}
	t = jt_registry_find(s->env->reg, phone);
	if (t && t->known)
		return t;
	return s->env->register_unknown ? jt_registry_add(s->env->reg, phone) : NULL;
}

/*
 * Publish one fix of report rep. A report that is not a position (not
 * positioned, or no valid time) is kept as a reject; if it carries alarms
 * it is still published, with the last known position, flagged
 * "positioned":false (DESIGN "hazgate-jt808"). Returns false when the
 * owner refused the publish.
 */
static bool
publish_fix(struct jt_session *s, struct jt_term *t, void *rep, const struct jt_location *loc,
            bool backfill, int64_t now_us, const uint8_t *raw, size_t raw_len)
{
	struct jt_location l = *loc;
	char json[JT_JSON_MAX + 96];
	const char *vehicle = jt_term_vehicle(t);
	size_t n;
	bool position = loc->positioned && loc->time_ok;

	if (!position) {
		reject(s, t->phone, loc->time_ok ? JT_REASON_NOT_POSITIONED : JT_E_TIME, raw,
		       raw_len);
		if (loc->alarm == 0)
			return true;
		if (t->has_fix) {
			l.lat_e6 = t->lat_e6;
			l.lon_e6 = t->lon_e6;
		}
		if (!l.time_ok) {
			l.time_ok = true;
			l.time_us = now_us;
		}
	}
	if (jt_json_location(&l, vehicle, strlen(vehicle), t->phone, backfill, json,
			     JT_JSON_MAX, &n) != JT_OK)
		return true;    /* cannot happen: JT_JSON_MAX holds any */
	if (!position) {
		char ts[HZ_TIME_FORMAT_SIZE];
		size_t k;

		n--;            /* the closing brace */
		memcpy(json + n, ",\"positioned\":false", 19);
		n += 19;
		if (!loc->time_ok) {
			memcpy(json + n, ",\"server_time\":true", 19);
			n += 19;
		}
		if (t->has_fix) {
			memcpy(json + n, ",\"last_fix_ts\":\"", 16);
			n += 16;
			k = hz_time_format(t->fix_us, HZ_TIME_MS, ts);
			memcpy(json + n, ts, k);
			n += k;
			json[n++] = '"';
		}
		json[n++] = '}';
		s->env->stats->alarm_only++;
	} else if (!t->has_fix || loc->time_us >= t->fix_us) {
		t->has_fix = true;
		t->lat_e6 = loc->lat_e6;
		t->lon_e6 = loc->lon_e6;
		t->fix_us = loc->time_us;
	}
	if (!s->env->ops->publish(s->owner, rep, vehicle, json, n)) {
		s->env->stats->fixes_not_published++;
		return false;
	}
	s->env->stats->fixes_published++;
	return true;
}

static void
on_report(struct jt_session *s, const struct jt_msg *m, int64_t now_us)
{
	struct jt_term *t = reporter(s, m->h.phone);
	struct jt_location loc;
	struct jt_batch b;
	enum jt_err e;
	void *rep;

	if (!t) {
		s->env->stats->unauthenticated++;
		jt_session_reply(s, &m->h, JT_RESULT_FAILURE);
		return;
	}
	e = m->h.msg_id == JT_MSG_LOCATION ? jt_location_decode(m, &loc)
					    : jt_batch_decode(m, &b);
	if (e != JT_OK) {
		reject(s, m->h.phone, e, m->body, m->body_len);
		jt_session_reply(s, &m->h, JT_RESULT_MSG_ERROR);
		return;
	}
	rep = s->env->ops->report_open(s->owner, &m->h);
	if (!rep)
		return;
	if (m->h.msg_id == JT_MSG_LOCATION) {
		if (!publish_fix(s, t, rep, &loc, false, now_us, m->body, m->body_len))
			goto done;
	} else {
		const uint8_t *item;
		size_t item_len;

		while ((e = jt_batch_next(&b, &item, &item_len, &loc)) != JT_NEED_MORE) {
			if (e != JT_OK) {
				reject(s, m->h.phone, e, item, item_len);
				continue;
			}
			if (!publish_fix(s, t, rep, &loc, b.type == 1, now_us, item, item_len))
				break;
		}
	}
done:
	s->env->ops->report_close(s->owner, rep);
}

/* ---- frames -------------------------------------------------------- */

/* One whole message (reassembled if it came in parts). */
static void
on_message(struct jt_session *s, const struct jt_msg *m, int64_t now_us)
{
	enum jt_kind k = kind_of(m->h.msg_id);

	s->env->stats->frames[k]++;
	if (!s->env->ready && (k == JT_KIND_REGISTER || k == JT_KIND_AUTH ||
			       k == JT_KIND_LOCATION || k == JT_KIND_BATCH)) {
		/* Without the registry no answer would be right (an unknown
		 * terminal, a code not yet loaded, the phone for the plate). */
		s->env->stats->not_ready++;
		return;
	}
	switch (k) {
	case JT_KIND_TERMINAL_REPLY:
		break;
	case JT_KIND_HEARTBEAT:
		jt_session_reply(s, &m->h, JT_RESULT_OK);
		break;
	case JT_KIND_LOGOUT:
		s->phone[0] = '\0';
		jt_session_reply(s, &m->h, JT_RESULT_OK);
		break;
	case JT_KIND_REGISTER:
		on_register(s, m);
		break;
	case JT_KIND_AUTH:
		on_auth(s, m);
		break;
	case JT_KIND_LOCATION:
	case JT_KIND_BATCH:
		on_report(s, m, now_us);
		break;
	default:
		jt_session_reply(s, &m->h, JT_RESULT_UNSUPPORTED);
		break;
	}
}

/* A subpackage part: kept, or the message it completes handled. */
static void
on_part(struct jt_session *s, const struct jt_msg *m, const uint8_t *frame, size_t flen,
        int64_t now_us)
{
	struct jt_session_env *env = s->env;
	struct jt_msg whole;
	enum jt_err e;

	env->stats->parts++;
	if (!s->reasm) {
		if (env->reasm_active >= env->reasm_max) {
			env->stats->reasm_busy++;
			return;         /* no answer: the terminal sends it again */
		}
		s->reasm = malloc(sizeof(*s->reasm));
		if (!s->reasm)
			return;
		env->reasm_active++;
		jt_reasm_init(&s->reasm->r, s->reasm->parts, sizeof(s->reasm->parts),
			      env->reasm_timeout_us);
	}
	e = jt_reasm_add(&s->reasm->r, m, now_us, s->reasm->whole, sizeof(s->reasm->whole),
			 &whole);
	if (e == JT_NEED_MORE)
		return;
	if (e != JT_OK) {
		reject(s, m->h.phone, e, frame, flen);
		jt_session_reply(s, &m->h, JT_RESULT_MSG_ERROR);
		reasm_release(s);
		return;
	}
	on_message(s, &whole, now_us);
	reasm_release(s);
}

/* One frame from the deframer (e: JT_OK or JT_E_CHECK). */
static void
on_frame(struct jt_session *s, enum jt_err e, const uint8_t *frame, size_t flen, int64_t now_us)
{
	struct jt_msg m;
	enum jt_err he;

	memset(&m, 0, sizeof(m));
	he = jt_header_decode(frame, flen, &m);

	if (e == JT_OK)
		e = he;
	if (e != JT_OK) {
		/* The header's id and serial are there unless it was too short;
		 * the answer echoes the phone and version bytes as sent, even
		 * when they are not valid: they are the terminal's own. */
		reject(s, he == JT_E_TRUNCATED ? NULL : m.h.phone, e, frame, flen);
		if (he != JT_E_TRUNCATED)
			jt_session_reply(s, &m.h, JT_RESULT_MSG_ERROR);
		return;
	}
	if (m.h.subpackage)
		on_part(s, &m, frame, flen, now_us);
	else
		on_message(s, &m, now_us);
}

size_t
jt_session_input(struct jt_session *s, const uint8_t *p, size_t n, int64_t now_us,
                 unsigned max_pending)
{
	size_t off = 0;

	while (off < n && !s->closing && s->pending < max_pending) {
		const uint8_t *frame;
		size_t used, flen;
		enum jt_err e = jt_deframe(&s->d, p + off, n - off, &used, &frame, &flen);

		off += used;
		switch (e) {
		case JT_NEED_MORE:
			break;
		case JT_E_GARBAGE:
			s->env->stats->rejects[e]++;
			s->env->stats->garbage++;
			s->closing = true;
			break;
		case JT_OK:
		case JT_E_CHECK:
			on_frame(s, e, frame, flen, now_us);
			break;
		default:
			s->env->stats->rejects[e]++;
			break;
		}
	}
	return off;
}
