/*
 * jt808.h - the JT/T 808 codec (prefix jt_): frames, headers, subpackage
 * reassembly, the terminal messages hazgate reads, the platform replies it
 * sends, and the native JSON of one location report. JT/T 808-2013 and
 * -2019 (2011 terminals speak 2013's layout for these messages).
 *
 * Pure, like ingest/: no I/O, no clock ("now" is an argument), no statics,
 * no allocation. Every structure here is owned by the caller (a session
 * embeds a struct jt_deframer and a struct jt_reasm and gives them their
 * buffers); decoded fields that are byte strings point into the frame the
 * caller passed in (borrowed: valid as long as those bytes are).
 *
 * The path of a terminal's bytes (see jt808/README.md):
 *   jt_deframe()        chunk of TCP bytes -> one unescaped, checked frame
 *   jt_header_decode()  frame -> struct jt_msg (header + body)
 *   jt_reasm_add()      a subpackage part -> the whole body, once complete
 *   jt_<message>_decode()  body -> struct jt_register, jt_auth, jt_location ...
 *   jt_json_location()  a location -> native JSON for tankers/<v>/telemetry
 * and back: jt_reply_general() / jt_reply_register() -> escaped frame.
 *
 * Every function returns 0 (JT_OK) or a value of enum jt_err; the names
 * (jt_strerror) are stable: the server counts rejects by them.
 */
#ifndef HAZGATE_JT808_H
#define HAZGATE_JT808_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- limits ---------------------------------------------------------- */

#define JT_BODY_MAX        1023     /* 10 bits of body length */
#define JT_HEADER_2013     12       /* id 2, attributes 2, phone 6, serial 2 */
#define JT_HEADER_2019     17       /* id 2, attributes 2, version 1, phone 10, serial 2 */
#define JT_HEADER_PACKET   4        /* packet count 2, index 2, when bit 13 is set */
/* The longest unescaped frame content: 2019 header with packet fields,
 * the longest body and the check code (delimiters not counted). */
#define JT_FRAME_MAX       (JT_HEADER_2019 + JT_HEADER_PACKET + JT_BODY_MAX + 1)
/* The longest escaped frame on the wire for a body of n bytes. */
#define JT_WIRE_MAX(n)     (2 + 2 * (JT_HEADER_2019 + JT_HEADER_PACKET + (n) + 1))
#define JT_PHONE_DIGITS_MAX 20      /* 10 BCD bytes (2019) */
#define JT_VERSION_MAX     1        /* 2019's protocol version byte: 1 is the
                                       standard's first; others are unknown */
#define JT_ALARM_BITS      32

/* ---- errors ---------------------------------------------------------- */

/*
 * Results. JT_OK and JT_NEED_MORE are not errors. The names
 * (jt_strerror) are stable: append before JT_ERR_COUNT, never renumber.
 */
enum jt_err {
	JT_OK = 0,              /* "ok" */
	JT_NEED_MORE,           /* "need_more": input used up, no frame yet;
	                           a subpackage part kept, message incomplete */
	JT_E_GARBAGE,           /* "garbage": more bytes than the bound without
	                           a 0x7e delimiter (the server closes) */
	JT_E_OVERSIZE,          /* "oversize": frame longer than the buffer */
	JT_E_ESCAPE,            /* "bad_escape": 0x7d not followed by 0x01/0x02 */
	JT_E_CHECK,             /* "bad_check": XOR check code differs */
	JT_E_TRUNCATED,         /* "truncated": frame shorter than its header */
	JT_E_LENGTH,            /* "length_mismatch": body length field differs
	                           from the frame's */
	JT_E_VERSION,           /* "unknown_version": 2019 version byte not
	                           1..JT_VERSION_MAX */
	JT_E_PHONE,             /* "bad_phone": a phone BCD nibble over 9 */
	JT_E_PACKET,            /* "bad_packet": packet count 0, index 0 or over
	                           the count, or parts disagreeing */
	JT_E_ENCRYPTED,         /* "encrypted": body encryption bits set (RSA):
	                           not decoded */
	JT_E_BODY_SHORT,        /* "body_short": body shorter than its layout */
	JT_E_ITEM,              /* "bad_item": a 0x0200 additional item runs past
	                           the body */
	JT_E_BATCH,             /* "bad_batch": 0x0704 items disagree with the
	                           count or do not fill the body */
	JT_E_REASM_FULL,        /* "reasm_full": subpackage parts exceed the
	                           reassembly storage (message dropped) */
	JT_E_NO_SPACE,          /* "no_space": the output buffer is too small */
	JT_E_TIME,              /* "bad_time": no valid report time (JSON) */
	JT_E_ARG,               /* "bad_argument": a caller's value out of range */
	JT_ERR_COUNT
};

/* Stable snake_case name of e (above); "unknown" outside the enum. */
const char *jt_strerror(enum jt_err e);

/* ---- framing --------------------------------------------------------- */

/*
 * A streaming deframer over a caller-owned buffer. Bytes before the first
 * 0x7e, or after an error until the next 0x7e, are skipped; a 0x7e ends
 * a frame and may also open the next one, so "7e A 7e 7e B 7e" and
 * "7e A 7e B 7e" both give A and B. Treat the fields as private.
 */
struct jt_deframer {
	uint8_t *buf;           /* the caller's, cap bytes: one unescaped frame */
	size_t cap;
	size_t len;             /* bytes of the frame being collected */
	size_t skipped;         /* bytes skipped since the last 0x7e */
	size_t skip_max;        /* more than this: JT_E_GARBAGE */
	bool in_frame;          /* a 0x7e has been seen */
	bool escape;            /* the previous byte was 0x7d */
};

/*
 * Start a deframer on buf (cap bytes, at least 2; JT_FRAME_MAX holds any
 * valid frame). skip_max bounds the bytes skipped without a delimiter.
 * The deframer keeps buf until the caller drops it.
 */
void jt_deframer_init(struct jt_deframer *d, uint8_t *buf, size_t cap,
                      size_t skip_max);

/*
 * Read bytes from in[0..len) until one frame ends, an error, or the end of
 * the input; *used says how many were consumed (call again with the rest).
 * Returns:
 *   JT_OK          *frame / *frame_len: the unescaped header + body, check
 *                  code verified and removed; points into the deframer's
 *                  buffer, valid until the next call.
 *   JT_NEED_MORE   all len bytes consumed, no frame yet (*used == len).
 *   JT_E_CHECK     the check code differs: *frame / *frame_len hold the
 *                  frame as for JT_OK (its header may be read to answer
 *                  result 2; its bytes kept as evidence), not to be trusted.
 *   JT_E_ESCAPE, JT_E_OVERSIZE, JT_E_TRUNCATED (a frame of one byte: no
 *                  room for a check code): that frame is dropped; the
 *                  deframer resynchronises on the next 0x7e.
 *   JT_E_GARBAGE   more than skip_max bytes skipped without a 0x7e:
 *                  returned once per bound crossed; the server closes.
 */
enum jt_err jt_deframe(struct jt_deframer *d, const uint8_t *in, size_t len,
                       size_t *used, const uint8_t **frame, size_t *frame_len);

/* XOR of n bytes (the check code of header + body). */
uint8_t jt_xor(const uint8_t *p, size_t n);

/*
 * Frame msg[0..len) for the wire: 0x7e, msg escaped, its check code
 * (escaped), 0x7e, into out (cap bytes; JT_WIRE_MAX bounds it). Returns
 * JT_OK and *out_len, or JT_E_NO_SPACE (out then holds nothing useful).
 */
enum jt_err jt_frame_encode(const uint8_t *msg, size_t len, uint8_t *out,
                            size_t cap, size_t *out_len);

/* ---- header ---------------------------------------------------------- */

/* Body attribute bits. */
#define JT_ATTR_LEN_MASK    0x03ffu
#define JT_ATTR_ENC_SHIFT   10
#define JT_ATTR_ENC_MASK    0x1c00u
#define JT_ATTR_SUBPACKAGE  0x2000u
#define JT_ATTR_V2019       0x4000u

struct jt_header {
	uint16_t msg_id;
	uint16_t attr;          /* the raw body attributes */
	uint16_t body_len;      /* attribute bits 0-9 */
	uint8_t encryption;     /* bits 10-12: 0 none, 1 RSA */
	bool subpackage;        /* bit 13: packet count and index follow */
	bool v2019;             /* bit 14: 2019 header (version byte, 10-byte phone) */
	uint8_t version;        /* 2019 protocol version; 0 for 2013 */
	uint8_t phone_bcd[10];  /* as sent: 6 bytes (2013) or 10 (2019) */
	uint8_t phone_bytes;    /* 6 or 10 */
	char phone[JT_PHONE_DIGITS_MAX + 1]; /* the BCD digits, leading zeros
	                                        kept: 12 or 20 of them */
	uint16_t serial;
	uint16_t pkt_count;     /* when subpackage: 1.. */
	uint16_t pkt_index;     /* when subpackage: 1..pkt_count */
};

/* One message: its header and its body (borrowed from the frame). */
struct jt_msg {
	struct jt_header h;
	const uint8_t *body;
	size_t body_len;
};

/*
 * Read the header of a frame (jt_deframe's output: header + body, no
 * check code). out->body points into frame. Returns JT_OK, or
 * JT_E_TRUNCATED (shorter than its header), JT_E_LENGTH (the length bits
 * disagree with the bytes after the header), JT_E_VERSION, JT_E_PHONE,
 * JT_E_PACKET (count 0, index 0 or index over count). On JT_E_LENGTH,
 * JT_E_VERSION, JT_E_PHONE and JT_E_PACKET out->h is filled as far as
 * it was read (msg_id and serial always: enough for a result-2 reply).
 */
enum jt_err jt_header_decode(const uint8_t *frame, size_t len,
                             struct jt_msg *out);

/* ---- subpackage reassembly ------------------------------------------- */

#define JT_REASM_PARTS_MAX 64   /* parts of one message */

/*
 * One message being reassembled from its parts (one at a time per
 * terminal: a part of another message drops the incomplete one, counted).
 * The parts are stored in the caller's buffer in arrival order. Treat the
 * fields as private except the counters.
 */
struct jt_reasm {
	uint8_t *buf;
	size_t cap;
	size_t used;
	int64_t timeout_us;
	int64_t started_us;             /* "now" of the first part */
	struct jt_header first;         /* header of the part first received */
	uint16_t base_serial;           /* serial of part 1 */
	uint16_t have;                  /* parts received */
	bool active;
	uint32_t off[JT_REASM_PARTS_MAX];
	uint32_t len[JT_REASM_PARTS_MAX];
	uint64_t part_seen;             /* bit i-1: part i received */
	/* counters, for the server's metrics */
	uint64_t completed;
	uint64_t dropped_timeout;       /* incomplete after timeout_us */
	uint64_t dropped_replaced;      /* a part of another message came */
	uint64_t dropped_full;          /* parts beyond buf or JT_REASM_PARTS_MAX */
	uint64_t duplicates;            /* a part received twice (kept the first) */
};

/* Start r on buf (cap bytes: the largest whole body accepted); an
 * incomplete message older than timeout_us is dropped. */
void jt_reasm_init(struct jt_reasm *r, uint8_t *buf, size_t cap,
                   int64_t timeout_us);

/*
 * Add part (a message whose header has subpackage set) at time now_us.
 * A part with pkt_count 1 completes at once. Parts of one message share
 * msg_id, pkt_count and consecutive serials (part i: serial of part 1 +
 * i - 1, modulo 2^16); they may come in any order.
 * Returns:
 *   JT_OK          the message is complete: *whole gets the first part's
 *                  header (subpackage cleared, serial of the last part
 *                  received, body_len the total) and the body, copied into
 *                  out (out_cap bytes); the reassembly is then empty.
 *   JT_NEED_MORE   part kept (or a duplicate, counted, ignored).
 *   JT_E_PACKET    not a subpackage, or pkt_count over JT_REASM_PARTS_MAX
 *                  (counted in dropped_full), or index out of range.
 *   JT_E_REASM_FULL  the parts exceed buf (or a part is over JT_BODY_MAX):
 *                  the message is dropped, counted.
 *   JT_E_NO_SPACE  out is too small for the whole body: dropped.
 * A stale incomplete message (now_us - first part >= timeout_us) is
 * dropped first and counted in dropped_timeout.
 */
enum jt_err jt_reasm_add(struct jt_reasm *r, const struct jt_msg *part,
                         int64_t now_us, uint8_t *out, size_t out_cap,
                         struct jt_msg *whole);

/* Drop an incomplete message older than the timeout at now_us (counted in
 * dropped_timeout). Returns true if one was dropped. For the server's
 * periodic sweep of idle sessions. */
bool jt_reasm_expire(struct jt_reasm *r, int64_t now_us);

/* ---- message bodies -------------------------------------------------- */

/* Message ids. */
enum {
	JT_MSG_TERMINAL_REPLY = 0x0001,
	JT_MSG_HEARTBEAT = 0x0002,
	JT_MSG_LOGOUT = 0x0003,
	JT_MSG_REGISTER = 0x0100,
	JT_MSG_AUTH = 0x0102,
	JT_MSG_LOCATION = 0x0200,
	JT_MSG_BATCH = 0x0704,
	JT_MSG_PLATFORM_REPLY = 0x8001,
	JT_MSG_REGISTER_REPLY = 0x8100,
};

/* 0x8001 results. */
enum jt_result {
	JT_RESULT_OK = 0,
	JT_RESULT_FAILURE = 1,
	JT_RESULT_MSG_ERROR = 2,
	JT_RESULT_UNSUPPORTED = 3,
};

/* 0x0001 terminal general reply. */
struct jt_terminal_reply {
	uint16_t reply_serial;
	uint16_t reply_id;
	uint8_t result;
};

/*
 * 0x0100 registration. Byte strings point into the body (borrowed);
 * maker, model and terminal_id lose their trailing 0x00 padding. The
 * plate is the rest of the body as sent (GBK in practice; the server
 * converts it): plate_len 0 when the terminal sent none.
 * 2013: maker 5, model 20, terminal id 7; 2019: 11, 30, 30.
 */
struct jt_register {
	uint16_t province;
	uint16_t city;
	const uint8_t *maker;
	size_t maker_len;
	const uint8_t *model;
	size_t model_len;
	const uint8_t *terminal_id;
	size_t terminal_id_len;
	uint8_t plate_color;
	const uint8_t *plate;
	size_t plate_len;
};

/*
 * 0x0102 authentication. 2013: the code is the whole body. 2019: code
 * length, code, IMEI (15 bytes), software version (20 bytes, trailing
 * 0x00 dropped). Borrowed from the body; imei NULL for 2013.
 */
struct jt_auth {
	const uint8_t *code;
	size_t code_len;
	const uint8_t *imei;
	size_t imei_len;
	const uint8_t *sw_version;
	size_t sw_version_len;
};

/* Status word bits of 0x0200. */
#define JT_STATUS_ACC        (1u << 0)
#define JT_STATUS_POSITIONED (1u << 1)
#define JT_STATUS_SOUTH      (1u << 2)
#define JT_STATUS_WEST       (1u << 3)

/* Additional items of 0x0200 that were present (jt_location.present). */
enum jt_item_bit {
	JT_HAS_MILEAGE = 1u << 0,       /* 0x01 */
	JT_HAS_FUEL = 1u << 1,          /* 0x02 */
	JT_HAS_RECORDER_SPEED = 1u << 2,/* 0x03 */
	JT_HAS_EXT_SIGNALS = 1u << 3,   /* 0x25 */
	JT_HAS_IO = 1u << 4,            /* 0x2A */
	JT_HAS_RSSI = 1u << 5,          /* 0x30 */
	JT_HAS_SATS = 1u << 6,          /* 0x31 */
};

/*
 * 0x0200 location report (also each item of 0x0704). lat_e6/lon_e6 are
 * signed by the status word's south/west bits. time_ok is false when the
 * BCD time is not a date and time (not an error: an SOS with a broken
 * clock still counts); time_us is then 0.
 */
struct jt_location {
	uint32_t alarm;
	uint32_t status;
	int32_t lat_e6;         /* 1e-6 degrees, south negative */
	int32_t lon_e6;         /* 1e-6 degrees, west negative */
	int16_t alt_m;          /* metres (signed: below sea level) */
	uint16_t speed_dkmh;    /* 0.1 km/h */
	uint16_t direction;     /* degrees from north, 0..359 */
	uint8_t time_bcd[6];    /* as sent: YYMMDDhhmmss, GMT+8 */
	bool time_ok;
	int64_t time_us;        /* UTC, microseconds since the epoch */
	bool positioned;        /* status bit 1 */
	bool ignition;          /* status bit 0 (ACC) */
	unsigned present;       /* enum jt_item_bit */
	uint32_t mileage_dkm;   /* 0x01: 0.1 km */
	uint16_t fuel_dl;       /* 0x02: 0.1 L */
	uint16_t recorder_speed_dkmh; /* 0x03: 0.1 km/h */
	uint32_t ext_signals;   /* 0x25 */
	uint16_t io;            /* 0x2A */
	uint8_t rssi;           /* 0x30 */
	uint8_t sats;           /* 0x31 */
	unsigned items_unknown; /* items skipped by their length */
	unsigned items_malformed; /* known items of the wrong length, skipped */
};

/*
 * Decoders: the body of m (whole: reassembled if it came in parts). They
 * read m->body only, plus m->h.v2019 where the layouts differ. Each returns
 * JT_OK, JT_E_ENCRYPTED (encryption bits set) or JT_E_BODY_SHORT; bytes
 * after a fixed layout are ignored. The location decoder also returns
 * JT_E_ITEM (an additional item runs past the body).
 */
enum jt_err jt_terminal_reply_decode(const struct jt_msg *m,
                                     struct jt_terminal_reply *out);
enum jt_err jt_register_decode(const struct jt_msg *m, struct jt_register *out);
enum jt_err jt_auth_decode(const struct jt_msg *m, struct jt_auth *out);
enum jt_err jt_location_decode(const struct jt_msg *m, struct jt_location *out);

/* The same for a bare 0x0200 body (0x0704 items). */
enum jt_err jt_location_body_decode(const uint8_t *body, size_t len,
                                    struct jt_location *out);

/* 0x0704 batch: the count and type, then the items one by one. */
struct jt_batch {
	uint16_t count;
	uint8_t type;           /* 0 normal, 1 blind-area backfill */
	const uint8_t *items;   /* borrowed: the item list */
	size_t items_len;
	size_t pos;             /* jt_batch_next's position */
	uint16_t index;         /* items returned so far */
};

/*
 * Read a 0x0704 body and check its shape: exactly `count` items, each a
 * 2-byte length and that many bytes, filling the body. Returns JT_OK,
 * JT_E_ENCRYPTED, JT_E_BODY_SHORT (under 3 bytes) or JT_E_BATCH.
 */
enum jt_err jt_batch_decode(const struct jt_msg *m, struct jt_batch *out);

/*
 * The next item of a batch read by jt_batch_decode: its raw body in
 * *item / *item_len (for rejects) and its decoding in *loc. Returns JT_OK,
 * JT_NEED_MORE when all items have been returned, or the item's own
 * location error (that item only: call again for the next).
 */
enum jt_err jt_batch_next(struct jt_batch *b, const uint8_t **item,
                          size_t *item_len, struct jt_location *loc);

/* The name of alarm bit `bit` (DESIGN "hazgate-jt808"), NULL for the
 * reserved bits 15-17 and bits outside 0..31. */
const char *jt_alarm_name(unsigned bit);

/* ---- replies (platform to terminal) ---------------------------------- */

/*
 * Encode a platform message to the terminal of `to` (its header: the
 * phone and the 2013/2019 form, with its version byte, are echoed): msg_id,
 * our serial, body[0..body_len) (body_len <= JT_BODY_MAX, else JT_E_ARG),
 * escaped and framed with the check code into out (cap bytes;
 * JT_WIRE_MAX(body_len) is always enough). Never subpackaged, never
 * encrypted. Returns JT_OK and *out_len, JT_E_ARG or JT_E_NO_SPACE.
 */
enum jt_err jt_encode(const struct jt_header *to, uint16_t msg_id,
                      uint16_t serial, const uint8_t *body, size_t body_len,
                      uint8_t *out, size_t cap, size_t *out_len);

/* 0x8001 platform general reply to the terminal message `to` (its serial
 * and id are replied to): result (enum jt_result, 0..255). As jt_encode. */
enum jt_err jt_reply_general(const struct jt_header *to, uint16_t serial,
                             uint8_t result, uint8_t *out, size_t cap,
                             size_t *out_len);

/* 0x8100 registration reply to `to`: result (0 ok, 1 vehicle already
 * registered, 2 no such vehicle, 3 terminal already registered, 4 no such
 * terminal); the auth code (auth_len bytes, up to JT_BODY_MAX - 3) only
 * with result 0. As jt_encode. */
enum jt_err jt_reply_register(const struct jt_header *to, uint16_t serial,
                              uint8_t result, const uint8_t *auth,
                              size_t auth_len, uint8_t *out, size_t cap,
                              size_t *out_len);

/* ---- native JSON ----------------------------------------------------- */

/* Room for any jt_json_location() output with a vehicle of up to 32
 * bytes (escaped up to 6 bytes each) and every alarm bit set. */
#define JT_JSON_MAX 1536

/*
 * One location as native JSON (DESIGN "Telemetry in" and "hazgate-jt808"):
 *   {"vehicle":V,"ts":"...Z","lat":..,"lon":..,"speed_kmh":..,"heading":..,
 *    "alt_m":..,["sats":N,]"ignition":B,"source":"jt808","terminal":P,
 *    "alarms":[names],"status":N[,"mileage_km":X][,"backfill":true]}
 * vehicle (vehicle_len bytes of UTF-8: the plate, or the phone) and phone
 * are JSON-escaped; lat/lon as reported, whether positioned or not (the
 * raw status word says which). No NUL is written. Returns JT_OK and
 * *out_len, JT_E_TIME (loc->time_ok false) or JT_E_NO_SPACE.
 */
enum jt_err jt_json_location(const struct jt_location *loc,
                             const char *vehicle, size_t vehicle_len,
                             const char *phone, bool backfill, char *out,
                             size_t cap, size_t *out_len);

/* ---- the terminal side (jt_term.c: simulators and tests) ------------- */

/*
 * What a terminal sends, and reading what the platform answers: the
 * inverse of the decoders above, for hazgate-load's terminal simulator.
 * Pure, like the rest. A message goes out as jt_encode(&header, id,
 * serial, body, ...) with the header of jt_term_header (jt_encode echoes
 * any header's phone and form, so it frames a terminal's message too).
 * The platform's 0x8001 body has the layout of 0x0001: read it with
 * jt_terminal_reply_decode.
 */

/*
 * The header of the terminal `phone` (ASCII digits, at most 12 for 2013,
 * 20 for 2019; left-padded with '0' to that many), 2013 or 2019 (version
 * byte 1). msg_id, serial and lengths are jt_encode's. Returns JT_OK or
 * JT_E_PHONE (a non-digit, too many digits or none).
 */
enum jt_err jt_term_header(const char *phone, bool v2019, struct jt_header *out);

/*
 * 0x0100 body from r: maker, model and terminal id padded with 0x00 to
 * the version's widths (2013 5/20/7, 2019 11/30/30), the plate bytes as
 * given (GBK: the caller converts). Into out (cap bytes). Returns JT_OK
 * and *out_len, JT_E_ARG (a field longer than its width, a NULL string
 * with a length) or JT_E_NO_SPACE (out, or JT_BODY_MAX).
 */
enum jt_err jt_register_encode(const struct jt_register *r, bool v2019,
                               uint8_t *out, size_t cap, size_t *out_len);

/*
 * 0x0102 body from a: 2013 the code alone; 2019 its length byte, the
 * code, the IMEI (padded to 15 bytes) and software version (to 20).
 * Returns JT_OK and *out_len, JT_E_ARG (code over 255 bytes in 2019, a
 * field over its width) or JT_E_NO_SPACE.
 */
enum jt_err jt_auth_encode(const struct jt_auth *a, bool v2019, uint8_t *out,
                           size_t cap, size_t *out_len);

/*
 * 0x0200 body from loc, the inverse of jt_location_body_decode: the
 * status word is loc->status with its ACC, positioned, south and west
 * bits taken from loc->ignition, loc->positioned and the signs of
 * lat_e6/lon_e6 (absolute values written); the time from loc->time_us
 * (UTC, to GMT+8 BCD, seconds truncated) when time_ok, else time_bcd as
 * given; then the additional items flagged in loc->present, in the
 * order 0x01, 0x02, 0x03, 0x25, 0x2A, 0x30, 0x31. Returns JT_OK and
 * *out_len, JT_E_TIME (time_ok and a year outside 2000-2099 in GMT+8) or
 * JT_E_NO_SPACE.
 */
enum jt_err jt_location_encode(const struct jt_location *loc, uint8_t *out,
                               size_t cap, size_t *out_len);

/*
 * 0x0704 body: count n, type (0 normal, 1 blind-area backfill), then each
 * of locs[0..n) as a 2-byte length and its 0x0200 body. Returns JT_OK and
 * *out_len, JT_E_ARG (n 0 or over 65535), jt_location_encode's errors,
 * or JT_E_NO_SPACE (cap, or over JT_BODY_MAX: a caller that does not
 * subpackage sends fewer items).
 */
enum jt_err jt_batch_encode(uint8_t type, const struct jt_location *locs,
                            size_t n, uint8_t *out, size_t cap,
                            size_t *out_len);

/* 0x8100 registration reply, as the terminal reads it. auth borrowed
 * from the body; auth_len 0 unless result is 0. */
struct jt_register_reply {
	uint16_t reply_serial;
	uint8_t result;
	const uint8_t *auth;
	size_t auth_len;
};

/* Read a 0x8100 body. Returns JT_OK, JT_E_ENCRYPTED or JT_E_BODY_SHORT
 * (under 3 bytes). */
enum jt_err jt_register_reply_decode(const struct jt_msg *m,
                                     struct jt_register_reply *out);

#ifdef __cplusplus
}
#endif

#endif /* HAZGATE_JT808_H */
