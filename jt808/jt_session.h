/*
 * jt_session.h - one JT/T 808 terminal's session, the protocol side
 * (prefix jt_session_): bytes in, replies and publishes out, through the
 * owner's callbacks. Pure: no I/O, no event loop, no clock ("now" is an
 * argument), so the unit test drives it with frames and reads back what
 * it sent; jt_server.c gives it a TCP connection, the broker and the
 * database.
 *
 * What it does with each message (jt808/README.md "Messages"):
 *   0x0100 registration   0x8100: result 0 and a new auth code (the code's
 *                         hash goes to the owner's `registered`), or 4 (no
 *                         such terminal) for an unknown terminal when
 *                         unknown_terminals = refuse
 *   0x0102 authentication 0x8001: 0 when the code matches, else 1
 *   0x0002 heartbeat      0x8001 result 0
 *   0x0003 logout         0x8001 result 0; the session is no longer
 *                         authenticated
 *   0x0001 general reply  nothing
 *   0x0200, 0x0704        each fix published; the 0x8001 waits for every
 *                         publish's PUBACK (the owner's report_close);
 *                         result 1 before authentication (auth = required)
 *   other                 0x8001 result 3, counted
 * A frame with a bad check code or a header error is answered with result
 * 2 where its header could be read, counted by reason and, when its
 * terminal is known, handed to the owner's `reject`.
 */
#ifndef HAZGATE_JT_SESSION_H
#define HAZGATE_JT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jt808/jt808.h"
#include "jt808/jt_registry.h"

/* Message kinds counted in jt_stats.frames. */
enum jt_kind {
	JT_KIND_TERMINAL_REPLY, JT_KIND_HEARTBEAT, JT_KIND_LOGOUT, JT_KIND_REGISTER,
	JT_KIND_AUTH, JT_KIND_LOCATION, JT_KIND_BATCH, JT_KIND_OTHER, JT_KIND_COUNT
};

/* Reject reasons: the codec's (enum jt_err, by jt_strerror) and these. */
enum {
	JT_REASON_NOT_POSITIONED = JT_ERR_COUNT,        /* "not_positioned" */
	JT_REASON_COUNT
};

/* The counters every session bumps (one struct for the server). */
struct jt_stats {
	uint64_t frames[JT_KIND_COUNT];         /* whole messages, by kind */
	uint64_t parts;                         /* subpackage parts received */
	uint64_t rejects[JT_REASON_COUNT];      /* by reason */
	uint64_t replies[4];                    /* 0x8001 sent, by result */
	uint64_t register_ok, register_refused;
	uint64_t auth_ok, auth_failed;
	uint64_t unauthenticated;               /* reports answered 1 before auth */
	uint64_t fixes_published;               /* publishes handed to the broker */
	uint64_t fixes_not_published;           /* refused by the owner (broker away) */
	uint64_t alarm_only;                    /* not positioned, published for alarms */
	uint64_t reasm_completed, reasm_timeouts, reasm_dropped, reasm_busy;
	uint64_t garbage;                       /* connections closed for garbage */
	uint64_t not_ready;                     /* messages left unanswered before
	                                           the registry was loaded */
};

/* The owner's side; `owner` is the session's (jt_session_init). */
struct jt_session_ops {
	/* Bytes for the terminal (a reply, already framed). */
	void (*send)(void *owner, const uint8_t *p, size_t n);
	/* A report (0x0200, 0x0704) whose reply to header h waits for its
	 * publishes: a handle, or NULL (the report is then not answered). */
	void *(*report_open)(void *owner, const struct jt_header *h);
	/* Publish one fix of report rep on tankers/<vehicle>/telemetry.
	 * false: not published (the report is then not answered). */
	bool (*publish)(void *owner, void *rep, const char *vehicle, const char *json,
	                size_t len);
	/* Every fix of rep was handed to publish: the owner answers result 0
	 * once every publish is acknowledged (at once when there was none),
	 * or never if one was refused. */
	void (*report_close)(void *owner, void *rep);
	/* A message (or one 0x0704 item) of a known terminal kept out:
	 * reason (jt_session_reason_name), the bytes (unescaped frame, or
	 * the item's body). May be NULL. */
	void (*reject)(void *owner, const char *vehicle, unsigned reason, const uint8_t *p,
	               size_t n);
	/* A terminal registered: its plate (UTF-8, "" = none or unusable) and
	 * the hash of the code it was given, for the database. May be NULL. */
	void (*registered)(void *owner, const char *phone, const char *plate,
	                   const uint8_t hash[JT_AUTH_HASH_BYTES]);
};

/* What the sessions share: policy, registry, counters, callbacks. */
struct jt_session_env {
	bool register_unknown;          /* [jt808] unknown_terminals = register */
	bool auth_optional;             /* [jt808] auth = optional */
	int64_t reasm_timeout_us;
	size_t garbage_max;             /* bytes without a 0x7e before closing */
	unsigned reasm_max;             /* reassemblies in progress at once */
	bool ready;                     /* the registry was loaded: until then
	                                   registrations, authentications and
	                                   reports get no answer (the terminal
	                                   sends them again) */
	unsigned reasm_active;          /* (kept by the sessions) */
	struct jt_registry *reg;
	struct jt_stats *stats;
	const struct jt_session_ops *ops;
};

#define JT_REASM_CAP 16384      /* largest reassembled body */

struct jt_session_reasm;

struct jt_session {
	struct jt_session_env *env;
	void *owner;
	struct jt_deframer d;
	struct jt_session_reasm *reasm;  /* allocated while parts come in */
	char phone[JT_PHONE_DIGITS_MAX + 1]; /* authenticated as ("" = not) */
	uint16_t serial;                /* our next message serial */
	unsigned pending;               /* fixes published, not yet acknowledged
	                                   (kept by the owner) */
	bool closing;                   /* garbage: the owner closes */
	uint8_t buf[JT_FRAME_MAX];      /* the deframer's */
};

/* Start s for owner on env. */
void jt_session_init(struct jt_session *s, struct jt_session_env *env, void *owner);

/* Release what s holds (a reassembly in progress). */
void jt_session_free(struct jt_session *s);

/*
 * Feed n bytes received at now_us. Returns how many were used: all of
 * them, or fewer when s->pending reached `max_pending` (the owner feeds
 * the rest once acknowledgements came back). s->closing set: the peer
 * sent more than garbage_max bytes without a delimiter; close it.
 */
size_t jt_session_input(struct jt_session *s, const uint8_t *p, size_t n, int64_t now_us,
                        unsigned max_pending);

/* Send 0x8001 with result to the message of header `to`. */
void jt_session_reply(struct jt_session *s, const struct jt_header *to, uint8_t result);

/* Drop a reassembly older than the timeout at now_us (counted). */
void jt_session_expire(struct jt_session *s, int64_t now_us);

/* Whether s is authenticated. */
bool jt_session_authenticated(const struct jt_session *s);

/* Stable snake_case name of a reject reason (the codec's and
 * "not_positioned"). */
const char *jt_session_reason_name(unsigned reason);

/* "0x0200" ... the message ids of enum jt_kind; "other". */
const char *jt_session_kind_name(enum jt_kind k);

#endif
