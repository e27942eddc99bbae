/*
 * fuzz_gateway_copybin.c - libFuzzer target for gw_copybin_rows
 * (gateway/gw_copybin.c): a spool record's positions section (outside
 * text, escaped by the batch writer, or damaged on disk) turned into
 * binary COPY tuples for PostgreSQL. The first byte chooses the columns
 * (1 .. GW_BATCH_POS_FIELDS), the next one byte each its type (modulo the
 * types), the rest is the COPY text. Besides crashes and sanitizer
 * reports, the target aborts when an input breaks the contract
 * (fuzz_copybin_check, shared with tests/unit/test_gateway_copybin.c): a
 * refusal leaves the output as it was; an accepted input gives one tuple a
 * row, NULL where the text says \N, each value the one PostgreSQL's text
 * input gives.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz_copybin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum gw_bin_type types[GW_BATCH_POS_FIELDS];
	size_t ncols;

	if (size < 1)
		return 0;
	ncols = (size_t)data[0] % GW_BATCH_POS_FIELDS + 1;
	if (size < 1 + ncols)
		return 0;
	for (size_t c = 0; c < ncols; c++)
		types[c] = (enum gw_bin_type)(data[1 + c] % (GW_BIN_INT4_ARRAY + 1));
	if (fuzz_copybin_check(types, ncols, (const char *)data + 1 + ncols, size - 1 - ncols) != 0)
		abort();
	return 0;
}
