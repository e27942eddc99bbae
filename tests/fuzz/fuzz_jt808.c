/*
 * fuzz_jt808.c - libFuzzer target: the JT/T 808 codec (jt808/) on the
 * bytes a terminal could send: the deframer whole and in chunks, headers,
 * subpackage reassembly, every body decoder, the replies, and the native
 * JSON of every location read back by ingest. Built by `make fuzz` with
 * clang -fsanitize=fuzzer,address,undefined; see tests/fuzz/README.md.
 * Aborts when fuzz_jt808_run() reports a broken invariant.
 */
#include <stdlib.h>

#include "tests/fuzz/fuzz_jt808.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum jt_err first;
	const char *broken = fuzz_jt808_run(data, size, &first);

	if (broken) {
		fprintf(stderr, "invariant broken: %s\n", broken);
		abort();
	}
	return 0;
}
