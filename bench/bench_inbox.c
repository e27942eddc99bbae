/*
 * bench_inbox.c - the inbox journal's cost per message (issue 11 item 2,
 * target: at most 1 us): gw_inbox_put of the sample fleet's payloads on
 * their telemetry topics, a cut and a trim every 500 messages (a batch,
 * as the gateway seals them: each cut makes, allocates and maps a new
 * segment, each trim removes the old one), in a temporary folder.
 *
 * Prints key=value lines: ns per message (the median of 9 runs of 100,000
 * messages, wall and process CPU clock, so that page faults and the
 * segment system calls are in), the bytes per message, and the same with
 * the memcpy of the payload alone (the floor a copy of the message costs).
 * The daemon's figure, journal on against the build before it, comes from
 * `make bench-compare AGAINST=...` (bench/bench_gateway.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/hz_file.h"
#include "gateway/gw_inbox.h"

#define NMSG 100000
#define BATCH 500
#define RUNS 9
#define MAXLINES 20000

static char *lines[MAXLINES];
static size_t lens[MAXLINES];
static char topics[MAXLINES][96];
static size_t nlines;

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The fleet's lines, each on tankers/<vehicle>/telemetry. */
static int
load_fleet(const char *path)
{
	size_t len;
	char *data = hz_file_read(path, &len), *p, *nl;

	if (!data)
		return -1;
	for (p = data; nlines < MAXLINES && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		const char *v = strstr(p, "\"vehicle\":\"");
		const char *e = v ? strchr(v + 11, '"') : NULL;

		*nl = '\0';
		lines[nlines] = p;
		lens[nlines] = (size_t)(nl - p);
		snprintf(topics[nlines], sizeof(topics[nlines]), "tankers/%.*s/telemetry",
			 e ? (int)(e - v - 11) : 1, e ? v + 11 : "x");
		nlines++;
	}
	return nlines ? 0 : -1;
}

int
main(void)
{
	char tmpl[] = "/tmp/bench_inbox.XXXXXX", cmd[128], fleet[1024];
	const char *shared = getenv("HG_SHARED");
	const char *dir = mkdtemp(tmpl);
	double wall[RUNS], cpu[RUNS], copy[RUNS];
	size_t bytes = 0;
	static char sink[70000];

	snprintf(fleet, sizeof(fleet), "%s/data/fleet-sample.ndjson",
		 shared ? shared : HG_SRCDIR "/../shared");
	if (!dir || load_fleet(fleet) != 0) {
		fprintf(stderr, "bench_inbox: cannot read %s (set HG_SHARED) or make a folder\n", fleet);
		return 1;
	}
	for (int r = 0; r < RUNS; r++) {
		struct gw_inbox *ib;
		uint64_t cut = 0;
		double w0, c0;

		if (gw_inbox_open(&ib, dir, 512 << 10) != GW_INBOX_OK)
			return 1;
		w0 = bench_seconds(CLOCK_MONOTONIC);
		c0 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
		for (size_t i = 0; i < NMSG; i++) {
			size_t k = i % nlines;

			if (gw_inbox_put(ib, topics[k], lines[k], lens[k], (int64_t)i) != GW_INBOX_OK)
				return 1;
			if (r == 0)
				bytes += lens[k] + strlen(topics[k]);
			if (i % BATCH == BATCH - 1) {
				/* the batch before is in the spool: trim it */
				gw_inbox_trim(ib, cut);
				cut = gw_inbox_cut(ib);
			}
		}
		gw_inbox_trim(ib, gw_inbox_cut(ib));
		wall[r] = (bench_seconds(CLOCK_MONOTONIC) - w0) / NMSG * 1e9;
		cpu[r] = (bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / NMSG * 1e9;
		gw_inbox_free(ib);
		w0 = bench_seconds(CLOCK_MONOTONIC);
		for (size_t i = 0; i < NMSG; i++) {
			size_t k = i % nlines;

			memcpy(sink + (i % 8) * 8192, lines[k], lens[k] < 8192 ? lens[k] : 8192);
			__asm__ volatile("" : : "r"(sink) : "memory");
		}
		copy[r] = (bench_seconds(CLOCK_MONOTONIC) - w0) / NMSG * 1e9;
	}
	qsort(wall, RUNS, sizeof(double), cmp_double);
	qsort(cpu, RUNS, sizeof(double), cmp_double);
	qsort(copy, RUNS, sizeof(double), cmp_double);
	printf("inbox_messages=%d batch=%d runs=%d\n", NMSG, BATCH, RUNS);
	printf("inbox_bytes_per_message=%.0f\n", (double)bytes / NMSG);
	printf("inbox_put_ns_per_message=%.0f (wall, median; min %.0f max %.0f)\n", wall[RUNS / 2],
	       wall[0], wall[RUNS - 1]);
	printf("inbox_put_cpu_ns_per_message=%.0f\n", cpu[RUNS / 2]);
	printf("memcpy_ns_per_message=%.0f\n", copy[RUNS / 2]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
