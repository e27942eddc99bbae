/*
 * fuzz_ctl_archive_index.c - libFuzzer target for the archives' per-vehicle
 * index (ctl/ctl_archive.c, ctl_arch_read_indexed_fd): the index file
 * beside an archive is outside input like the archive itself, and a track
 * trusts it to find its vehicle's gzip member. The input is a damaged or
 * made-up index against a good archive, or a damaged archive against its
 * good index (fuzz_ctl_archive_index.h says how, and what aborts).
 */
#include "tests/fuzz/fuzz_ctl_archive_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)fz_idx_case(data, size);
	return 0;
}
