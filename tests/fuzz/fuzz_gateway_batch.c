/*
 * fuzz_gateway_batch.c - libFuzzer target for the gateway's spool record
 * reader, gw_batch_parse() (gateway/gw_batch.c): what the daemon reads back
 * from disk after a restart or a database outage.
 *
 * Each input is one spool record. Besides crashes and sanitizer reports,
 * the target aborts when an accepted record breaks the parser's contract
 * (fuzz_gateway_batch_check(), shared with tests/unit/test_gateway_corpus.c):
 * the sections lie inside the input, each COPY section holds exactly its
 * count of rows, gw_batch_next_alert yields exactly nalerts pairs, and the
 * record re-serialised from the view is the input byte for byte. A refusal
 * must carry a named reason.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz_gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_gateway_batch_check(data, size) < 0)
		abort();
	return 0;
}
