/*
 * fuzz_ctl_archive_index.h - one input of the archive index's fuzz target
 * (fuzz_ctl_archive_index.c), shared with tests/unit/test_ctl_archive,
 * which replays the seeds through it.
 *
 * A small archive of four vehicles (one with a comma and a quote in its
 * name) is written once with ctl_arch_writer into memfds, the archive and
 * its index, in gzip and in zstd. An input's first byte chooses:
 *   bit 5:       the zstd archive (set) or the gzip one (clear);
 *   bit 0 clear: the rest of the input is the index (plain CSV or gzip;
 *                zstd for the zstd archive),
 *                read against the archive;
 *   bit 0 set:   the archive with the rest of the input written over it
 *                at the offset its next two bytes give (big-endian, modulo
 *                the archive's size; bit 1 set: cut there instead), read
 *                through the true index;
 *   bits 2-4:    the vehicle asked for (modulo 6: every vehicle, one of the
 *                four, or one the archive does not hold).
 * The rows handed on must keep the reader's contract (vehicle, ts, lat and
 * lon present, rows rising in (vehicle, ts), all of the vehicle asked for,
 * as many as counted), an error must name the archive, and a good index
 * against the true archive can only give the true rows: any other outcome
 * abort()s. Returns the reader's code.
 */
#ifndef HAZGATE_FUZZ_CTL_ARCHIVE_INDEX_H
#define HAZGATE_FUZZ_CTL_ARCHIVE_INDEX_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/ctl_archive.h"

static const char *const fz_idx_vehicles[6] = { NULL, "A1", "B2", "C,\"3\"", "D4", "Z9" };
static const unsigned fz_idx_rows[6] = { 10, 3, 2, 4, 1, 0 };

struct fz_idx_seen {
	const char *want;
	uint64_t n;
	char prev[CTL_ARCH_VEHICLE_MAX + 1];
	int64_t prev_ts;
	uint64_t lat_sum; /* of the rows' lat text lengths: the true rows' sum is fixed */
};

static int
fz_idx_row(const struct ctl_arch_row *row, void *arg)
{
	struct fz_idx_seen *s = arg;
	const char *v = row->v[CTL_ARCH_VEHICLE];
	if (!v || !row->v[CTL_ARCH_TS] || !row->v[CTL_ARCH_LAT] || !row->v[CTL_ARCH_LON])
		abort();
	if (s->want && strcmp(v, s->want) != 0)
		abort();
	if (s->n > 0) {
		int cmp = strcmp(v, s->prev);
		if (cmp < 0 || (cmp == 0 && row->ts_us <= s->prev_ts))
			abort();
	}
	snprintf(s->prev, sizeof s->prev, "%s", v);
	s->prev_ts = row->ts_us;
	s->lat_sum += strlen(row->v[CTL_ARCH_LAT]);
	s->n++;
	return 0;
}

/* The archive and its index, written once in each codec. */
static int fz_idx_arch[2] = { -1, -1 }, fz_idx_index[2] = { -1, -1 };
static uint64_t fz_idx_lat[2][6];
static const char *const fz_idx_name[2] = { "fuzz.csv.gz", "fuzz.csv.zst" };

static void
fz_idx_setup(void)
{
	static const char *const recs[] = {
		"vehicle,ts,lat,lon,speed_kmh,zone_ids\n",
		"A1,2019-08-10T00:00:00Z,37.1,112.1,10.5,{}\n",
		"A1,2019-08-10T00:00:10Z,37.12,112.1,11,{3}\n",
		"A1,2019-08-10T00:00:20Z,37.123,112.1,,\"{3,8}\"\n",
		"B2,2019-08-10T01:00:00Z,37.2,112.2,0,{}\n",
		"B2,2019-08-10T01:00:10.5Z,37.2,112.2,0,{}\n",
		"\"C,\"\"3\"\"\",2019-08-10T02:00:00Z,37.3,112.3,1,{}\n",
		"\"C,\"\"3\"\"\",2019-08-10T02:00:01Z,37.31,112.3,1,{}\n",
		"\"C,\"\"3\"\"\",2019-08-10T02:00:02Z,37.312,112.3,1,{}\n",
		"\"C,\"\"3\"\"\",2019-08-10T02:00:03Z,37.3123,112.3,1,{}\n",
		"D4,2019-08-10T23:59:59.999999Z,-0.5,-0.25,1e-05,{}\n",
	};
	ctl_arch_writer *w;
	if (fz_idx_arch[0] >= 0)
		return;
	for (int z = 0; z < 2; z++) {
		fz_idx_arch[z] = memfd_create("archive", MFD_CLOEXEC);
		fz_idx_index[z] = memfd_create("index", MFD_CLOEXEC);
		if (fz_idx_arch[z] < 0 || fz_idx_index[z] < 0 ||
		    ctl_arch_writer_new(fz_idx_arch[z], fz_idx_index[z],
					z ? CTL_ARCH_ZSTD : CTL_ARCH_GZIP, &w) != CTL_ARCH_OK)
			abort();
		for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++)
			if (ctl_arch_writer_record(w, recs[i], strlen(recs[i])) != CTL_ARCH_OK)
				abort();
		if (ctl_arch_writer_finish(w, NULL) != CTL_ARCH_OK)
			abort();
		ctl_arch_writer_free(w);
		for (int k = 0; k < 6; k++) {
			struct fz_idx_seen s = { .want = fz_idx_vehicles[k] };
			uint64_t rows;
			char err[512];
			if (ctl_arch_read_indexed_fd(fz_idx_arch[z], fz_idx_index[z],
						     fz_idx_name[z], fz_idx_vehicles[k], fz_idx_row,
						     &s, &rows, err, sizeof err) != CTL_ARCH_OK ||
			    s.n != fz_idx_rows[k] || rows != s.n)
				abort();
			fz_idx_lat[z][k] = s.lat_sum;
		}
	}
}

/* A memfd holding len bytes of data. */
static int
fz_idx_memfd(const void *data, size_t len)
{
	int fd = memfd_create("input", MFD_CLOEXEC);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len) || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

/* A copy of fd's bytes into a new memfd, with patch written at off (or cut
 * there). */
static int
fz_idx_patched(int fd, uint64_t off, const uint8_t *patch, size_t len, int cut)
{
	struct stat sb;
	if (fstat(fd, &sb) != 0)
		abort();
	size_t size = (size_t)sb.st_size;
	uint8_t *buf = malloc(size + len + 1);
	if (!buf || pread(fd, buf, size, 0) != (ssize_t)size)
		abort();
	off %= size;
	size_t n = size;
	if (cut) {
		n = (size_t)off;
	} else {
		memcpy(buf + off, patch, len);
		if (off + len > n)
			n = (size_t)off + len;
	}
	int out = fz_idx_memfd(buf, n);
	free(buf);
	return out;
}

static int
fz_idx_case(const uint8_t *data, size_t size)
{
	struct fz_idx_seen s = { 0 };
	uint64_t rows = 0;
	char err[512] = "";
	int arch, index, k, z;
	bool true_arch;
	fz_idx_setup();
	if (size < 1)
		return CTL_ARCH_OK;
	k = ((data[0] >> 2) & 7) % 6;
	z = (data[0] >> 5) & 1;
	s.want = fz_idx_vehicles[k];
	if (!(data[0] & 1)) {
		arch = fz_idx_arch[z];
		index = fz_idx_memfd(data + 1, size - 1);
		true_arch = true;
	} else {
		uint64_t off = size >= 3 ? ((uint64_t)data[1] << 8 | data[2]) : 0;
		size_t skip = size >= 3 ? 3 : size;
		arch = fz_idx_patched(fz_idx_arch[z], off, data + skip, size - skip, data[0] & 2);
		index = fz_idx_index[z];
		true_arch = false;
	}
	int rc = ctl_arch_read_indexed_fd(arch, index, fz_idx_name[z], s.want, fz_idx_row, &s,
					  &rows, err, sizeof err);
	if (rows > s.n)
		abort();
	if (rc != CTL_ARCH_OK && (strncmp(err, fz_idx_name[z], strlen(fz_idx_name[z])) != 0 ||
				  strncmp(err + strlen(fz_idx_name[z]), ": ", 2) != 0))
		abort();
	if (rc != CTL_ARCH_OK && rc != CTL_ARCH_EIO && rc != CTL_ARCH_EFORMAT &&
	    rc != CTL_ARCH_ENOMEM && rc != CTL_ARCH_EINDEX)
		abort();
	/* a good index of the true archive is the true index: the true rows */
	if (rc == CTL_ARCH_OK && true_arch &&
	    (s.n != fz_idx_rows[k] || s.lat_sum != fz_idx_lat[z][k]))
		abort();
	if (arch != fz_idx_arch[z])
		close(arch);
	if (index != fz_idx_index[z])
		close(index);
	return rc;
}

#endif
