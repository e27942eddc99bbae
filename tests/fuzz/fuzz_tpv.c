/*
 * fuzz_tpv.c - libFuzzer target: ing_decode() on gpsd TPV through cJSON and libgps's gps_unpack() (and auto).
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined;
 * see tests/fuzz/README.md. Aborts if a decode breaks fuzz_invariant().
 */
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_decode_two(data, size, FUZZ_TANKERS_TOPIC, ING_FORMAT_TPV, ING_FORMAT_AUTO);
	return 0;
}
