/*
 * fuzz_common.h - what the libFuzzer targets and the corpus replay test
 * (tests/unit/test_ingest_corpus.c) share: how an input file becomes a
 * (topic, payload) pair, and the invariants every decode must keep.
 *
 * Input layout: if a NUL byte occurs in the first FUZZ_TOPIC_MAX bytes,
 * the bytes before it are the topic and the rest is the payload; otherwise
 * the whole input is the payload and the target's default topic is used.
 * (A JSON payload cannot contain a raw NUL, so plain seeds stay plain.)
 */
#ifndef HAZGATE_FUZZ_COMMON_H
#define HAZGATE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"

#define FUZZ_TOPIC_MAX 128
/* "now" for every fuzz and replay run: 2019-08-10T08:00:00Z, so that the
 * corpus decodes the same way every day. */
#define FUZZ_NOW_US (1565424000LL * 1000000LL)
#define FUZZ_TANKERS_TOPIC "tankers/\xe6\x99\x8b" "A12345/telemetry"
#define FUZZ_OWNTRACKS_TOPIC "owntracks/alice/\xe6\x99\x8b" "A54321"

static inline void
fuzz_split(const uint8_t *data, size_t size, const char *dflt,
           char topic[FUZZ_TOPIC_MAX + 1], const uint8_t **payload,
           size_t *len)
{
	const uint8_t *nul = memchr(data, 0,
	                            size < FUZZ_TOPIC_MAX ? size : FUZZ_TOPIC_MAX);

	if (nul) {
		memcpy(topic, data, (size_t)(nul - data));
		topic[nul - data] = '\0';
		*payload = nul + 1;
		*len = size - (size_t)(nul - data) - 1;
	} else {
		size_t n = strlen(dflt);
		memcpy(topic, dflt, n + 1);
		*payload = data;
		*len = size;
	}
}

/*
 * The contract of ing_decode(), checked after every call. Returns NULL if
 * kept, else a description of the broken invariant.
 */
static inline const char *
fuzz_invariant(enum ing_result res, const struct ing_fix *fix,
               const struct ing_error *err)
{
	size_t i, n = strnlen(err->message, sizeof(err->message));

	if (n == sizeof(err->message))
		return "message not NUL-terminated";
	for (i = 0; i < n; i++)
		if ((unsigned char)err->message[i] < 0x20 ||
		    (unsigned char)err->message[i] > 0x7e)
			return "message not printable ASCII";
	switch (res) {
	case ING_OK:
		if (err->reason != ING_REASON_NONE)
			return "ok with a reason";
		if (ing_fix_check(fix, FUZZ_NOW_US, NULL) != ING_REASON_NONE)
			return "ok but ing_fix_check fails";
		if (fix->format == ING_FORMAT_AUTO)
			return "ok with format auto";
		/* alarms: only named bits (15-17 are reserved), and only
		 * when the member was sent */
		if ((fix->alarms & 0x38000u) ||
		    (fix->alarms && !(fix->present & ING_HAS_ALARMS)))
			return "alarms with a reserved bit or without the member";
		if (strnlen(fix->vehicle, sizeof(fix->vehicle)) ==
		    sizeof(fix->vehicle))
			return "vehicle not NUL-terminated";
		return NULL;
	case ING_IGNORED:
		if (err->reason != ING_REASON_NONE)
			return "ignored with a reason";
		return NULL;
	case ING_REJECTED:
		if (err->reason <= ING_REASON_NONE ||
		    err->reason >= ING_REASON_COUNT)
			return "rejected without a valid reason";
		if (strcmp(ing_reason_name(err->reason), "unknown") == 0)
			return "reason without a name";
		if (n == 0)
			return "rejected without a message";
		return NULL;
	}
	return "result out of range";
}

/* The body of every ingest fuzz target: split the input into topic and
 * payload (default_topic when it names none), decode it in two formats,
 * abort with a message when a result breaks fuzz_invariant(). */
static inline void
fuzz_decode_two(const uint8_t *data, size_t size, const char *default_topic,
                enum ing_format f0, enum ing_format f1)
{
	const enum ing_format formats[2] = { f0, f1 };
	char topic[FUZZ_TOPIC_MAX + 1];
	const uint8_t *payload;
	size_t len;

	fuzz_split(data, size, default_topic, topic, &payload, &len);
	for (size_t i = 0; i < 2; i++) {
		struct ing_fix fix;
		struct ing_error err;
		enum ing_result res = ing_decode(topic, payload, len, formats[i],
		                                 FUZZ_NOW_US, &fix, &err);
		const char *broken = fuzz_invariant(res, &fix, &err);

		if (broken) {
			fprintf(stderr, "invariant broken (%s): %s [%s: %s]\n",
			        ing_format_name(formats[i]), broken,
			        ing_reason_name(err.reason), err.message);
			abort();
		}
	}
}

#endif /* HAZGATE_FUZZ_COMMON_H */
