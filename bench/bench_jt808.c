/*
 * bench_jt808.c - how fast the JT/T 808 codec turns a terminal's bytes
 * into native JSON: 0x0200 location reports per second on one core.
 * Prints figures; not a test.
 *
 * A stream of 64 distinct 0x0200 frames (2013 and 2019 headers, mileage,
 * fuel, signal and satellite items, a third with escaped bytes) is fed to
 * jt_deframe() in 1460-byte chunks (one TCP segment), and every frame goes
 * through jt_header_decode(), jt_location_decode() and jt_json_location(),
 * for about a second, five times; the best run is reported (frames/s of
 * process CPU time, ns per frame, wall-clock rate). The codec allocates
 * nothing, so there is no allocation column. Target (issue 13): at least
 * 1,000,000 frames/s.
 *
 * Usage: bench_jt808 [seconds-per-run]   (default 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "jt808/jt808.h"

#define NFRAMES 64
#define RUNS 5
#define CHUNK 1460
#define TARGET 1000000.0

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One 0x0200 frame, escaped, at out; returns its length. */
static size_t
make_frame(unsigned i, uint64_t *rng, uint8_t *out, size_t cap)
{
	uint8_t msg[128], *b;
	size_t n, hl, bl;
	bool v2019 = i % 2;
	uint32_t lat = 30000000 + (uint32_t)(bench_urand(rng) * 10000000);
	uint32_t lon = 110000000 + (uint32_t)(bench_urand(rng) * 10000000);
	static const uint8_t phone13[6] = { 0x01, 0x44, 0x50, 0x37, 0x62, 0x02 };

	if (i % 3 == 0)         /* bytes that must be escaped */
		lat = (lat & 0xffff0000u) | 0x7e7d;
	memset(msg, 0, sizeof(msg));
	msg[0] = 0x02;
	msg[1] = 0x00;
	hl = v2019 ? 17 : 12;
	if (v2019) {
		msg[4] = 1;
		memcpy(msg + 5 + 4, phone13, 6);
	} else {
		memcpy(msg + 4, phone13, 6);
	}
	msg[hl - 2] = (uint8_t)(i >> 8);
	msg[hl - 1] = (uint8_t)i;
	b = msg + hl;
	put32(b, i % 7 == 0 ? 1 : 0);           /* alarm: sos now and then */
	put32(b + 4, 3);                        /* ACC, positioned */
	put32(b + 8, lat);
	put32(b + 12, lon);
	b[17] = 80;                             /* altitude */
	b[19] = (uint8_t)(bench_urand(rng) * 250);      /* speed 0.1 km/h */
	b[21] = (uint8_t)(bench_urand(rng) * 200);      /* direction */
	memcpy(b + 22, "\x19\x08\x10\x16\x00\x00", 6);
	b[27] = (uint8_t)(i % 60 / 10 * 16 + i % 10);   /* seconds, BCD */
	bl = 28;
	memcpy(b + bl, "\x01\x04\x00\x01\x00\x00", 6);  /* mileage */
	bl += 6;
	memcpy(b + bl, "\x02\x02\x01\x00", 4);          /* fuel */
	bl += 4;
	memcpy(b + bl, "\x30\x01\x1f\x31\x01\x0c", 6);  /* rssi, satellites */
	bl += 6;
	msg[2] = (uint8_t)(v2019 ? 0x40 : 0);
	msg[3] = (uint8_t)bl;
	if (jt_frame_encode(msg, hl + bl, out, cap, &n) != JT_OK) {
		fprintf(stderr, "bench_jt808: cannot encode a frame\n");
		exit(1);
	}
	return n;
}

/* One pass over the stream; returns frames decoded to JSON. */
static size_t
pass(const uint8_t *stream, size_t len, struct jt_deframer *d, size_t *bytes)
{
	size_t pos = 0, frames = 0;
	char json[JT_JSON_MAX];

	while (pos < len) {
		size_t end = len - pos > CHUNK ? pos + CHUNK : len;

		while (pos < end) {
			const uint8_t *frame;
			size_t used, flen, jn;
			struct jt_msg m;
			struct jt_location loc;
			enum jt_err e = jt_deframe(d, stream + pos, end - pos, &used,
			                           &frame, &flen);

			pos += used;
			if (e == JT_NEED_MORE)
				break;
			if (e != JT_OK || jt_header_decode(frame, flen, &m) != JT_OK ||
			    jt_location_decode(&m, &loc) != JT_OK ||
			    jt_json_location(&loc, m.h.phone, strlen(m.h.phone),
			                     m.h.phone, false, json, sizeof(json),
			                     &jn) != JT_OK) {
				fprintf(stderr, "bench_jt808: a frame failed\n");
				exit(1);
			}
			*bytes += jn;
			frames++;
		}
	}
	return frames;
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	uint8_t stream[NFRAMES * JT_WIRE_MAX(64)], buf[JT_FRAME_MAX];
	size_t len = 0, json_bytes = 0;
	uint64_t rng = 0x808;
	double best = 0, best_wall = 0;
	struct jt_deframer d;

	for (unsigned i = 0; i < NFRAMES; i++)
		len += make_frame(i, &rng, stream + len, sizeof(stream) - len);
	jt_deframer_init(&d, buf, sizeof(buf), 4096);
	for (int r = 0; r < RUNS; r++) {
		double c0 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
		double w0 = bench_seconds(CLOCK_MONOTONIC), c1, w1;
		size_t frames = 0;

		json_bytes = 0;
		do {
			for (int k = 0; k < 100; k++)
				frames += pass(stream, len, &d, &json_bytes);
			c1 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
		} while (c1 - c0 < secs);
		w1 = bench_seconds(CLOCK_MONOTONIC);
		if ((double)frames / (c1 - c0) > best) {
			best = (double)frames / (c1 - c0);
			best_wall = (double)frames / (w1 - w0);
		}
		json_bytes /= frames ? frames : 1;
	}
	printf("jt808 0x0200: %zu-byte frames on the wire (mean), %zu-byte JSON\n",
	       len / NFRAMES, json_bytes);
	printf("  %.0f frames/s (CPU, best of %d), %.0f ns/frame, %.0f frames/s "
	       "wall; target %.0f: %s\n", best, RUNS, 1e9 / best, best_wall,
	       TARGET, best >= TARGET ? "met" : "NOT met");
	return 0;
}
