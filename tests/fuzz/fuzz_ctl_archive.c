/*
 * fuzz_ctl_archive.c - libFuzzer target for the positions archives' reader
 * (ctl/ctl_archive.c, ctl_arch_read_fd): what `hazgate-ctl track --archive`
 * and `audit --archive` read from disk, where a file may be damaged or
 * edited.
 *
 * Each input is the bytes of one archive file (gzip, or plain CSV, which
 * zlib reads through as it is: so the CSV reader is reached without the
 * fuzzer having to make valid gzip), or of a zstd file when it starts
 * with zstd's magic number (then read as NAME.csv.zst, as readers choose
 * by the name: the same reader through libzstd), put in a memfd and read. Besides
 * crashes and sanitizer reports, the target aborts when a row handed on
 * breaks the reader's contract: vehicle, ts, lat and lon present, the
 * vehicle 1-32 bytes, ts_us the text's time, a zone list that converts,
 * rows in strictly rising (vehicle, ts) order, an error with a message
 * naming the file, and as many rows handed on as counted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/hz_time.h"
#include "ctl/ctl_archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	uint64_t n;
	char prev[CTL_ARCH_VEHICLE_MAX + 1];
	int64_t prev_ts;
};

static int
check(const struct ctl_arch_row *row, void *arg)
{
	struct ctx *c = arg;
	char zones[4096];
	int64_t us;
	const char *v = row->v[CTL_ARCH_VEHICLE];
	if (!v || !row->v[CTL_ARCH_TS] || !row->v[CTL_ARCH_LAT] || !row->v[CTL_ARCH_LON])
		abort();
	if (!*v || strlen(v) > CTL_ARCH_VEHICLE_MAX)
		abort();
	if (hz_time_parse(row->v[CTL_ARCH_TS], strlen(row->v[CTL_ARCH_TS]), &us) != 0 ||
	    us != row->ts_us)
		abort();
	if (row->v[CTL_ARCH_ZONES] &&
	    ctl_arch_zones_json(row->v[CTL_ARCH_ZONES], zones, sizeof zones) != 0)
		abort();
	if (c->n > 0) {
		int cmp = strcmp(v, c->prev);
		if (cmp < 0 || (cmp == 0 && row->ts_us <= c->prev_ts))
			abort();
	}
	memcpy(c->prev, v, strlen(v) + 1);
	c->prev_ts = row->ts_us;
	c->n++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = { 0 };
	char err[512];
	uint64_t rows = 0;
	int fd = memfd_create("archive", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	static const uint8_t zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	const char *name = size >= 4 && memcmp(data, zstd_magic, 4) == 0 ? "fuzz.csv.zst"
									  : "fuzz.csv.gz";
	int rc = ctl_arch_read_fd(fd, name, check, &c, &rows, err, sizeof err);
	close(fd);
	if (rows != c.n)
		abort();
	if (rc != CTL_ARCH_OK &&
	    (strncmp(err, name, strlen(name)) != 0 || strncmp(err + strlen(name), ": ", 2) != 0))
		abort();
	if (rc != CTL_ARCH_OK && rc != CTL_ARCH_EIO && rc != CTL_ARCH_EFORMAT &&
	    rc != CTL_ARCH_ENOMEM)
		abort();
	return 0;
}
