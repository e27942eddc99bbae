/*
 * fuzz_jt808_session.c - libFuzzer target: one JT/T 808 terminal's bytes
 * through a hazgate-jt808 session (jt808/jt_session.c: registration with
 * its GBK plate, authentication, reports, batches, alarm-only reports,
 * subpackages, bad frames) with the server's callbacks replaced by the
 * checks of fuzz_jt808_session.h. Built by `make fuzz`; see
 * tests/fuzz/README.md. Aborts when an invariant breaks.
 */
#include <stdlib.h>

#include <sodium.h>

#include "tests/fuzz/fuzz_jt808_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *broken;

	if (sodium_init() < 0)
		abort();
	broken = fuzz_jt808_session_run(data, size);
	if (broken) {
		fprintf(stderr, "invariant broken: %s\n", broken);
		abort();
	}
	return 0;
}
