/*
 * fuzz_gateway_copyarr.c - libFuzzer target for gw_arrays_add_copy
 * (gateway/gw_copyarr.c): a spool record's COPY section (outside text,
 * escaped by the batch writer, or damaged on disk) turned into array
 * literals for the writer's parameters. The first byte chooses the
 * columns (1 .. GW_ARR_COLS), the rest is the COPY text, given in two
 * pieces cut where the second byte says. Besides crashes and sanitizer
 * reports, the target aborts when an accepted input breaks the contract
 * (fuzz_copyarr_check, shared with tests/unit/test_gateway_copyarr.c):
 * each literal well formed, nrows elements, no NUL inside.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz_copyarr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_arrays a;
	size_t ncols, cut;
	const char *p;

	if (size < 2)
		return 0;
	ncols = (size_t)data[0] % GW_ARR_COLS + 1;
	p = (const char *)data + 2;
	size -= 2;
	cut = size ? (size_t)data[1] % (size + 1) : 0;
	if (fuzz_copyarr_check(&a, ncols, p, size) < 0)
		abort();
	/* the same text in two pieces: the same outcome, cut between rows or not */
	gw_arrays_reset(&a, ncols);
	if (gw_arrays_add_copy(&a, p, cut) == GW_ARR_OK)
		(void)gw_arrays_add_copy(&a, p + cut, size - cut);
	return 0;
}
