/*
 * ing_decode.c - ing_decode(): check the text, parse it with cJSON, pick
 * the format and hand the object to its decoder (ing_native.c,
 * ing_owntracks.c, ing_tpv.c), then validate the fix (ing_fix_check) and
 * round what the engine reads to what the database keeps (as_stored).
 * Nothing format-specific lives here.
 *
 * Why cJSON: decoding was a third of the gateway's CPU per message with
 * jansson (3.0 us for a 200-byte native payload here; cJSON 0.93 us, json-c
 * 2.2 us: bench/bench_ingest and issue 4's rule to reopen the choice). cJSON
 * is more lenient than jansson, so what jansson refused is refused here
 * before or after the parse, with the same reason (not_json):
 *   - the text (json_text_check): valid UTF-8 throughout (RFC 8259 JSON is
 *     UTF-8), no control character but tab, CR and LF, no NUL byte and no
 *     \u0000 escape (cJSON keeps C strings: "A\u0000B" would read "A");
 *   - after the value only whitespace (cJSON stops at the value's end);
 *   - a member of the format's table sent twice (ing_fields_read in
 *     ing_fields.c, with how numbers and null read).
 * cJSON's number syntax also lets through a leading zero or a bare
 * trailing dot ("01", "1."), read as their value.
 *
 * How: one cJSON_ParseWithLengthOpts() per message, one pass over the
 * members per table, the tree released before returning. No other
 * allocation. The tree lives in an arena (issue 15: malloc and free were a
 * tenth of the gateway's CPU per message): cJSON's allocator hooks point
 * at it only from the parse to the release, inside ing_decode(), and are
 * set back to cJSON's defaults (malloc/free) before it returns; a node
 * that does not fit in what is left of the arena spills to malloc (or the
 * allocator ing_decode_allocator() names), and only then is the tree
 * walked by cJSON_Delete() (whose free skips the arena's nodes); else the
 * arena is simply emptied. So nothing of cJSON outlives a call, and a
 * cJSON user elsewhere in the process (there is none today) gets the
 * default hooks as long as it does not set its own.
 * Limits: the payload is capped at 64 KiB before parsing, so cJSON's tree is
 * bounded, and its nesting depth at CJSON_NESTING_LIMIT (1000). cJSON keeps
 * its last parse error in a static of its own (never read here), and the
 * arena is one per process: ing_decode() is not reentrant across threads,
 * which single-threaded callers (all of ours) need not mind.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest-internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define ING_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ING_ASAN 1
#endif
#endif
#ifdef ING_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* ---- the tree's arena ------------------------------------------------------ */

/* 32 KiB: a 200-byte native message's tree takes about 1.5 KiB; only a
 * large payload (up to ING_PAYLOAD_MAX) spills. */
#define ARENA_BYTES 32768
#define ARENA_ALIGN 16          /* a cJSON node holds pointers and a double */

static struct {
	_Alignas(ARENA_ALIGN) unsigned char buf[ARENA_BYTES];
	size_t used, cap;       /* cap <= ARENA_BYTES (ing_decode_allocator) */
	size_t spilled;         /* nodes taken from spill_alloc since reset */
	void *(*spill_alloc)(size_t);
	void (*spill_free)(void *);
} arena = { .cap = ARENA_BYTES, .spill_alloc = malloc, .spill_free = free };

static bool
in_arena(const void *p)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)arena.buf;

	return a >= b && a < b + ARENA_BYTES;
}

static void *
arena_alloc(size_t n)
{
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (n != 0 && need >= n && need <= arena.cap - arena.used) {
		p = arena.buf + arena.used;
		arena.used += need;
#ifdef ING_ASAN
		ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
		return p;
	}
	p = arena.spill_alloc(n);
	if (p)
		arena.spilled++;
	return p;
}

static void
arena_free(void *p)
{
	if (p && !in_arena(p))
		arena.spill_free(p);
}

/* From here to release(), cJSON allocates in the arena. */
static void
hooks_on(void)
{
	cJSON_Hooks h = { arena_alloc, arena_free };

	cJSON_InitHooks(&h);
}

/* The tree gone: walked only when some node spilled; the arena emptied,
 * cJSON's default hooks back. */
static void
release(cJSON *root)
{
	if (arena.spilled)
		cJSON_Delete(root);
	arena.spilled = 0;
#ifdef ING_ASAN
	ASAN_POISON_MEMORY_REGION(arena.buf, arena.used);
#endif
	arena.used = 0;
	cJSON_InitHooks(NULL);
}

void
ing_decode_allocator(void *(*alloc)(size_t), void (*release_fn)(void *),
                     size_t arena_bytes)
{
	arena.spill_alloc = alloc && release_fn ? alloc : malloc;
	arena.spill_free = alloc && release_fn ? release_fn : free;
	arena.cap = arena_bytes < ARENA_BYTES ? arena_bytes : ARENA_BYTES;
}

/*
 * `v` (in range: |v| <= 300) rounded to `decimals` (<= 9) places: the
 * nearest double to the decimal the positions table keeps. |v| * 10^d
 * stays far below 2^53, so the rounded count k is exact, and k / 10^d, one
 * correctly rounded division, is the double nearest to k * 10^-d: what
 * strtod() makes of the stored text (gateway/gw_batch.c writes these
 * decimals). Rounding twice changes nothing; -0 becomes 0.
 */
static double
as_stored(double v, int decimals)
{
	static const double pow10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	                                1e8, 1e9 };
	double q = round(v * pow10[decimals]) / pow10[decimals];

	return q == 0.0 ? 0.0 : q;
}

/* AUTO: gpsd's TPV is told apart by its class member. */
static bool
is_tpv(const cJSON *obj)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, "class");

	return cJSON_IsString(c) && strcmp(c->valuestring, "TPV") == 0;
}

/*
 * What cJSON would let through but JSON (and jansson) does not, checked on
 * the raw text: invalid UTF-8, a control character other than tab, LF and
 * CR (NUL included), and the \u0000 escape. One pass; outside strings a
 * backslash is a syntax error cJSON reports anyway, so skipping the byte
 * after every backslash reads escapes exactly. Returns ING_REASON_NONE or
 * not_json with the byte offset.
 */
/* Whether any of the 8 bytes of w is below 0x20, at or above 0x80, or a
 * backslash (the bytes json_text_check looks at one by one): the word
 * tests of "Bit Twiddling Hacks" (haszero, hasless), exact for "any". */
static bool
word_special(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t bs = w ^ (ones * '\\');

	return ((w | ((w - ones * 0x20) & ~w) | ((bs - ones) & ~bs)) & high) != 0;
}

static enum ing_reason
json_text_check(const unsigned char *s, size_t n, struct ing_error *err)
{
	size_t i = 0;

	while (i < n) {
		unsigned c, cp;
		size_t k;
		uint64_t w;

		/* Eight plain bytes at a time (issue 15), one by one from the
		 * first word that holds anything else. */
		if (n - i >= 8) {
			memcpy(&w, s + i, 8);
			if (!word_special(w)) {
				i += 8;
				continue;
			}
		}
		c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '\\') {
			i++;
			continue;
		}
		if (c == '\\') {
			if (i + 5 < n && s[i + 1] == 'u' && s[i + 2] == '0' &&
			    s[i + 3] == '0' && s[i + 4] == '0' && s[i + 5] == '0')
				return ing_err_set(err, ING_REASON_NOT_JSON, NULL,
				                   "not JSON: \\u0000 in a string "
				                   "(byte %zu)", i);
			i += 2;
			continue;
		}
		if (c < 0x20) {
			if (c == '\t' || c == '\n' || c == '\r') {
				i++;
				continue;
			}
			return ing_err_set(err, ING_REASON_NOT_JSON, NULL,
			                   "not JSON: control character 0x%02x "
			                   "(byte %zu)", c, i);
		}
		k = ing_utf8_seq(s + i, n - i, &cp);
		if (k == 0)
			return ing_err_set(err, ING_REASON_NOT_JSON, NULL,
			                   "not JSON: invalid UTF-8 (byte %zu)", i);
		i += k;
	}
	return ING_REASON_NONE;
}

/* Parse the whole of payload[0..len) as one JSON value; NULL (err set) if
 * it is not one, or is followed by anything but whitespace. A tree returned
 * is in the arena, the hooks still on: release() it. */
static cJSON *
parse(const char *payload, size_t len, struct ing_error *err)
{
	const char *end = NULL;
	cJSON *root;

	if (json_text_check((const unsigned char *)payload, len, err) !=
	    ING_REASON_NONE)
		return NULL;
	hooks_on();
	root = cJSON_ParseWithLengthOpts(payload, len, &end, false);
	if (!root) {
		release(NULL);
		size_t at = end && end >= payload ? (size_t)(end - payload) : 0;

		if (len == 0)
			ing_err_set(err, ING_REASON_NOT_JSON, NULL,
			            "not JSON: empty payload");
		else
			ing_err_set(err, ING_REASON_NOT_JSON, NULL,
			            "not JSON: syntax error (or out of memory) "
			            "near byte %zu", at);
		return NULL;
	}
	for (; end < payload + len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
			ing_err_set(err, ING_REASON_NOT_JSON, NULL,
			            "not JSON: text after the value (byte %zu)",
			            (size_t)(end - payload));
			release(root);
			return NULL;
		}
	}
	return root;
}

enum ing_result
ing_decode(const char *topic, const void *payload, size_t len,
           enum ing_format format, int64_t now_us, struct ing_fix *fix,
           struct ing_error *err)
{
	struct ing_error scratch;
	cJSON *root = NULL;
	enum ing_result res = ING_REJECTED;
	enum ing_reason r;

	if (!err)
		err = &scratch;
	memset(fix, 0, sizeof(*fix));
	err->reason = ING_REASON_NONE;
	err->field = NULL;
	err->message[0] = '\0';

	if (len > ING_PAYLOAD_MAX) {
		ing_err_set(err, ING_REASON_TOO_LARGE, NULL,
		            "payload is %zu bytes, over %d", len,
		            ING_PAYLOAD_MAX);
		goto done;
	}
	if (!payload)
		payload = "";
	root = parse(payload, len, err);
	if (!root)
		goto done;
	if (!cJSON_IsObject(root) && !cJSON_IsArray(root)) {
		ing_err_set(err, ING_REASON_NOT_JSON, NULL,
		            "not JSON: a bare scalar, not an object");
		goto done;
	}
	if (!cJSON_IsObject(root)) {
		ing_err_set(err, ING_REASON_NOT_OBJECT, NULL,
		            "JSON is not an object");
		goto done;
	}

	/* gpsd's SKY, GST, VERSION ... beside its TPVs (a gpspipe bridge):
	 * counted as ignored, like OwnTracks' non-locations. */
	if ((format == ING_FORMAT_AUTO || format == ING_FORMAT_TPV) &&
	    ing_tpv_other_report(root, fix, err)) {
		res = ING_IGNORED;
		goto done;
	}
	if (format == ING_FORMAT_AUTO)
		format = is_tpv(root) ? ING_FORMAT_TPV : ING_FORMAT_NATIVE;
	switch (format) {
	case ING_FORMAT_OWNTRACKS:
		res = ing_owntracks_read(root, topic, fix, err);
		if (res != ING_OK)
			goto done;
		r = ING_REASON_NONE;
		break;
	case ING_FORMAT_TPV:
		r = ing_tpv_read(root, payload, len, topic, fix, err);
		break;
	case ING_FORMAT_NATIVE:
	case ING_FORMAT_AUTO:
	default:
		r = ing_native_read(root, topic, fix, err);
		break;
	}
	if (r == ING_REASON_NONE)
		r = ing_fix_check(fix, now_us, err);
	if (r == ING_REASON_NONE) {
		/* Issue 11 item 8: the engine, replay and the audit decide on
		 * the stored number. After the checks, on the value sent: the
		 * ranges' ends are whole, so rounding keeps a fix in range. */
		fix->lat = as_stored(fix->lat, ING_LATLON_DECIMALS);
		fix->lon = as_stored(fix->lon, ING_LATLON_DECIMALS);
		if (fix->present & ING_HAS_SPEED)
			fix->speed_kmh = as_stored(fix->speed_kmh,
			                           ING_SPEED_DECIMALS);
	}
	res = r == ING_REASON_NONE ? ING_OK : ING_REJECTED;

done:
	if (root)
		release(root);
	return res;
}
