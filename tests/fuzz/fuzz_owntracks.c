/*
 * fuzz_owntracks.c - libFuzzer target: ing_decode() on OwnTracks JSON
 * (and the same bytes as native).
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined;
 * see tests/fuzz/README.md. Aborts if a decode breaks fuzz_invariant().
 */
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_decode_two(data, size, FUZZ_OWNTRACKS_TOPIC, ING_FORMAT_OWNTRACKS, ING_FORMAT_NATIVE);
	return 0;
}
