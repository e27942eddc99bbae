/*
 * bench_archive.c - the positions archives (ctl/ctl_archive.h): what a day
 * of a fleet costs on disk as retention writes it (COPY CSV through zlib
 * level 6, or zstd at CTL_ARCH_ZSTD_LEVEL with archive_compression = zstd,
 * as ctl_retention.c does), and what reading it back costs, each codec
 * beside the other: the
 * whole day (an all-vehicle audit) and one vehicle's track (track
 * --archive, which stops after its vehicle in the file sorted by vehicle:
 * the first vehicle is the cheapest, the last costs a read of the day).
 *
 * The day is made up, in PostgreSQL's text for the stored values: each
 * vehicle a random walk from Taiyuan, a fix every 10 s, speed, heading,
 * hdop, satellites, cargo, a sequence number, receive time, now and then a
 * zone. BENCH_ARCHIVE_VEHICLES (400) and BENCH_ARCHIVE_STEP_S (10) size it:
 * 400 vehicles at 10 s are issue 15's 3.46 million fixes a day.
 * Figures, for gzip and zstd: bytes a fix on disk (and what a member per
 * vehicle adds to one gzip stream), write and read CPU per fix, one
 * vehicle's track from the file (first, middle, last vehicle) without and
 * with the index.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "bench/bench.h"
#include "ctl/ctl_archive.h"

#define DAY_S 86400
#define D0810 18118     /* 2019-08-10 */

static int
env_int(const char *name, int def)
{
	const char *v = getenv(name);
	return v && atoi(v) > 0 ? atoi(v) : def;
}

/* PostgreSQL-like shortest text of a value kept to `dec` decimals. */
static int
num(char *buf, size_t len, double v, int dec)
{
	int n = snprintf(buf, len, "%.*f", dec, v);
	if (strchr(buf, '.')) {
		while (n > 0 && buf[n - 1] == '0')
			buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	return n;
}

static void
ts_text(char *buf, int64_t s, int us)
{
	int64_t day = s / DAY_S, sod = s % DAY_S;
	(void)day;
	snprintf(buf, 40, "2019-08-10T%02d:%02d:%02d.%06dZ", (int)(sod / 3600),
		 (int)(sod / 60 % 60), (int)(sod % 60), us);
}

static int
count_row(const struct ctl_arch_row *row, void *arg)
{
	(void)row;
	++*(uint64_t *)arg;
	return 0;
}

/* Where the made-up day's records go: one plain gzip stream (the archives
 * written before the index), ctl_arch_writer (a member per vehicle and
 * the index), or nowhere (neither: what making them costs). */
struct sink {
	gzFile gz;
	ctl_arch_writer *w;
};

static int
put(struct sink *k, const char *rec, size_t len)
{
	if (!k->gz && !k->w) /* the rows alone: their making's cost */
		return 0;
	if (k->gz)
		return gzwrite(k->gz, rec, (unsigned)len) == (int)len ? 0 : -1;
	return ctl_arch_writer_record(k->w, rec, len) == CTL_ARCH_OK ? 0 : -1;
}

/* Writes the day (the same for the same seed) into k. Returns the rows,
 * their text's bytes in *text_bytes, or 0 on a write error. */
static uint64_t
make_day(struct sink *k, int nveh, int step, uint64_t seed, uint64_t *text_bytes)
{
	static const char header[] = "vehicle,ts,lat,lon,speed_kmh,heading,alt_m,hdop,fix,sats,"
				     "un,hazard_class,seq,ignition,zone_ids,received_at\n";
	uint64_t rows = 0;
	char line[512], lat[32], lon[32], spd[32], hdg[32], alt[32], recv[40], ts[40];
	if (put(k, header, strlen(header)) != 0)
		return 0;
	*text_bytes = 0;
	for (int v = 0; v < nveh; v++) {
		double la = 37.6 + 0.3 * bench_urand(&seed), lo = 112.4 + 0.3 * bench_urand(&seed);
		double sp = 40, hd = 360 * bench_urand(&seed), al = 780 + 40 * bench_urand(&seed);
		for (int64_t s = 0; s < DAY_S; s += step) {
			sp += 6 * (bench_urand(&seed) - 0.5);
			sp = sp < 0 ? 0 : sp > 90 ? 90 : sp;
			hd += 20 * (bench_urand(&seed) - 0.5);
			hd = hd < 0 ? hd + 360 : hd >= 360 ? hd - 360 : hd;
			la += sp / 3600.0 * step / 111.0 * (bench_urand(&seed) - 0.5);
			lo += sp / 3600.0 * step / 88.0 * (bench_urand(&seed) - 0.5);
			al += bench_urand(&seed) - 0.5;
			num(lat, sizeof lat, la, 7);
			num(lon, sizeof lon, lo, 7);
			num(spd, sizeof spd, sp, 1);
			num(hdg, sizeof hdg, hd, 1);
			num(alt, sizeof alt, al, 1);
			ts_text(ts, s, 0);
			ts_text(recv, s, 150000 + (int)(100000 * bench_urand(&seed)));
			bool zone = (s / 600 + v) % 7 == 0;
			int n = snprintf(line, sizeof line,
					 "晋A%05d,%s,%s,%s,%s,%s,%s,1.2,3,9,1203,3,%lld,t,%s,%s\n",
					 10000 + v, ts, lat, lon, spd, hdg, alt,
					 (long long)(s / step + 1), zone ? "{3}" : "{}", recv);
			if (put(k, line, (size_t)n) != 0)
				return 0;
			rows++;
			*text_bytes += (uint64_t)n;
		}
	}
	return rows;
}

/* One vehicle's track as track --archive collects it, CPU and wall (ms);
 * returns the fixes, or -1. */
static long
track(const char *dir, const char *veh, unsigned flags, double *cpu_ms, double *wall_ms)
{
	struct ctl_arch_rows ar = { 0 };
	struct ctl_arch_stats st;
	char err[512];
	double w0 = bench_seconds(CLOCK_MONOTONIC), c0 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
	if (ctl_arch_collect(dir, (int64_t)D0810 * DAY_S * 1000000,
			     (int64_t)(D0810 + 1) * DAY_S * 1000000, veh, flags, &ar, &st, err,
			     sizeof err) != CTL_ARCH_OK) {
		fprintf(stderr, "collect: %s\n", err);
		return -1;
	}
	*cpu_ms = (bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e3;
	*wall_ms = (bench_seconds(CLOCK_MONOTONIC) - w0) * 1e3;
	long n = (long)ar.n;
	ctl_arch_rows_clear(&ar);
	if (st.indexed != (flags & CTL_ARCH_NO_INDEX ? 0u : 1u)) {
		fprintf(stderr, "collect: the index was %sused: %s\n",
			flags & CTL_ARCH_NO_INDEX ? "" : "not ", st.note);
		return -1;
	}
	return n;
}

static double make_us; /* CPU a fix of making the rows alone */

/* The day as retention writes it in codec (a member or frame per
 * vehicle, the index), then read back: prints the codec's figures.
 * Returns 0, or 1 after saying why. */
static int
one_codec(const char *dir, enum ctl_arch_codec codec, int nveh, int step, uint64_t seed,
	  uint64_t rows, uint64_t text_bytes, off_t one_stream)
{
	char name[CTL_ARCH_NAME_MAX], path[256], ipath[256], err[512];
	const char *cname = codec == CTL_ARCH_ZSTD ? "zstd" : "gzip";
	ctl_arch_name_codec(D0810, 1, codec, name);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	ctl_arch_index_name(path, ipath, sizeof ipath);
	double c0 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID), w0 = bench_seconds(CLOCK_MONOTONIC);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ifd = open(ipath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct sink mem = { 0 };
	if (fd < 0 || ifd < 0 || ctl_arch_writer_new(fd, ifd, codec, &mem.w) != CTL_ARCH_OK ||
	    make_day(&mem, nveh, step, seed, &text_bytes) != rows ||
	    ctl_arch_writer_finish(mem.w, NULL) != CTL_ARCH_OK) {
		fprintf(stderr, "%s: cannot write: %s\n", path,
			mem.w ? ctl_arch_writer_error(mem.w) : "");
		return 1;
	}
	ctl_arch_writer_free(mem.w);
	close(fd);
	close(ifd);
	double wcpu = bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	double wwall = bench_seconds(CLOCK_MONOTONIC) - w0;
	struct stat sb, si;
	stat(path, &sb);
	stat(ipath, &si);
	if (codec == CTL_ARCH_ZSTD)
		printf("%s (level %d, a frame per vehicle):\n", cname, CTL_ARCH_ZSTD_LEVEL);
	else
		printf("%s (-6, a member per vehicle):\n", cname);
	printf("  on disk        %.1f MB, %.1f bytes a fix (CSV text %.1f bytes a fix, %.2fx)\n",
	       sb.st_size / 1e6, (double)sb.st_size / (double)rows, (double)text_bytes / (double)rows,
	       (double)text_bytes / (double)sb.st_size);
	if (codec == CTL_ARCH_GZIP)
		printf("  per-vehicle index: a gzip member per vehicle %+.2f bytes a fix against one"
		       " stream (%.1f), the index %.1f kB\n",
		       (double)(sb.st_size - one_stream) / (double)rows,
		       (double)one_stream / (double)rows, si.st_size / 1e3);
	else
		printf("  per-vehicle index %.1f kB\n", si.st_size / 1e3);
	printf("  write          %.2f us CPU a fix, %.1f s wall (made-up rows and %s: %s alone "
	       "%.2f; retention adds PostgreSQL's COPY)\n",
	       wcpu * 1e6 / (double)rows, wwall, cname, cname, wcpu * 1e6 / (double)rows - make_us);

	/* Read the whole day through. */
	uint64_t got = 0;
	c0 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
	w0 = bench_seconds(CLOCK_MONOTONIC);
	if (ctl_arch_read(path, count_row, &got, NULL, err, sizeof err) != CTL_ARCH_OK ||
	    got != rows) {
		fprintf(stderr, "read: %s (%llu rows)\n", err, (unsigned long long)got);
		return 1;
	}
	double rcpu = bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	printf("  read the day   %.2f us CPU a fix (%.0f fixes/s), %.2f s wall\n",
	       rcpu * 1e6 / (double)rows, (double)rows / rcpu, bench_seconds(CLOCK_MONOTONIC) - w0);
	printf("archive_%s_bytes_per_fix=%.2f write_us=%.2f (%s alone %.2f) read_us=%.2f\n", cname,
	       (double)sb.st_size / (double)rows, wcpu * 1e6 / (double)rows, cname,
	       wcpu * 1e6 / (double)rows - make_us, rcpu * 1e6 / (double)rows);

	/* One vehicle's track, as track --archive collects it: the file read
	 * up to the vehicle (no index, as before), then through the index. */
	int pick[3] = { 0, nveh / 2, nveh - 1 };
	const char *which[3] = { "first", "middle", "last" };
	printf("  one vehicle's track (ms CPU / wall):  without the index   with it\n");
	for (int k = 0; k < 3; k++) {
		char veh[40];
		double c1, w1, c2, w2;
		snprintf(veh, sizeof veh, "晋A%05d", 10000 + pick[k]);
		long n1 = track(dir, veh, CTL_ARCH_NO_INDEX, &c1, &w1);
		long n2 = track(dir, veh, 0, &c2, &w2);
		if (n1 < 0 || n1 != n2 || n1 != DAY_S / step) {
			fprintf(stderr, "track of %s: %ld and %ld fixes\n", veh, n1, n2);
			return 1;
		}
		printf("    the %-6s vehicle (%ld fixes)      %6.0f / %6.0f   %5.1f / %5.1f\n",
		       which[k], n1, c1, w1, c2, w2);
		if (k == 2 && codec == CTL_ARCH_GZIP)
			printf("track_last_vehicle_ms=%.1f (without the index %.0f)\n", w2, w1);
	}
	unlink(path);
	unlink(ipath);
	return 0;
}

int
main(void)
{
	int nveh = env_int("BENCH_ARCHIVE_VEHICLES", 400), step = env_int("BENCH_ARCHIVE_STEP_S", 10);
	char dir[] = "/tmp/bench_archive.XXXXXX", plain[128];
	const uint64_t seed = 0x9e3779b97f4a7c15ULL;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(plain, sizeof plain, "%s/one-stream.csv.gz", dir);

	/* The day as one gzip stream, as archives were written before the
	 * index (for its size). */
	uint64_t text_bytes = 0, rows;
	struct sink one = { .gz = gzopen(plain, "wb6") };
	if (!one.gz || !(rows = make_day(&one, nveh, step, seed, &text_bytes)) ||
	    gzclose(one.gz) != Z_OK) {
		fprintf(stderr, "%s: cannot write\n", plain);
		return 1;
	}
	struct stat sp;
	stat(plain, &sp);
	printf("archive of one day: %d vehicles, a fix every %d s: %llu fixes\n", nveh, step,
	       (unsigned long long)rows);
	struct sink none = { 0 };
	double c0 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
	make_day(&none, nveh, step, seed, &text_bytes);
	make_us = (bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e6 / (double)rows;
	printf("making the rows alone: %.2f us CPU a fix (in each write below)\n", make_us);
	/* Each codec alone in the folder: track() reads every archive of the day. */
	if (one_codec(dir, CTL_ARCH_GZIP, nveh, step, seed, rows, text_bytes, sp.st_size) != 0 ||
	    one_codec(dir, CTL_ARCH_ZSTD, nveh, step, seed, rows, text_bytes, sp.st_size) != 0)
		return 1;
	unlink(plain);
	rmdir(dir);
	return 0;
}
