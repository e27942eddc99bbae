/*
 * fuzz_tpv.c - libFuzzer target: ing_decode() on gpsd TPV through jansson and libgps's gps_unpack() (and auto).
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined;
 * see tests/fuzz/README.md. Aborts if a decode breaks fuzz_invariant().
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ing_format formats[2] = { ING_FORMAT_TPV, ING_FORMAT_AUTO };
	char topic[FUZZ_TOPIC_MAX + 1];
	const uint8_t *payload;
	size_t len, i;

	fuzz_split(data, size, FUZZ_TANKERS_TOPIC, topic, &payload, &len);
	for (i = 0; i < 2; i++) {
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
	return 0;
}
