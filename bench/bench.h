/*
 * bench.h - what the benchmark programs share: a seeded random stream,
 * clocks, and reading a data file. Header-only (static inline): each
 * benchmark is one program of one file, and these are a few lines each.
 */
#ifndef HAZGATE_BENCH_H
#define HAZGATE_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Uniform in [0, 1) from a xorshift64 state (seeded non-zero by the
 * caller), so that every run draws the same figures. */
static inline double
bench_urand(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (double)(*state >> 11) / 9007199254740992.0;
}

/* Seconds on clock `clk`: CLOCK_MONOTONIC for wall time,
 * CLOCK_PROCESS_CPUTIME_ID for this process's CPU time. */
static inline double
bench_seconds(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


#endif /* HAZGATE_BENCH_H */
