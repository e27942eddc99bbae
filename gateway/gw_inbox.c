/*
 * gw_inbox.c - the inbox journal (gw_inbox.h): each MQTT message copied into
 * a MAP_SHARED segment as it arrives, segments removed once the batches
 * holding their messages are in the spool, what a crash left replayed at
 * the next start.
 *
 * Why a mapping: a write(2) per message is a system call per message (the
 * gateway already pays six in libmosquitto); a store into a shared mapping
 * is a memcpy, and the kernel keeps the page when the process dies. The
 * first store into each page faults it in (one fault per 4 KiB, about 15
 * messages). Segments are allocated with posix_fallocate when made, so a
 * full disk shows as an error then, not as a SIGBUS on a store.
 *
 * Limits: the journal is never synced (see gw_inbox.h, "Durability"); a
 * segment made and mapped per sealed batch (every flush_ms at most), which
 * is a handful of system calls per batch, not per message.
 */
#include "gateway/gw_inbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hz_crc32.h"

#define IB_MAGIC "HGINBOX1"
#define IB_SEG_HDR 16u           /* magic, 8 bytes reserved */
#define IB_REC_HDR 16u           /* u32 body length, u32 CRC, i64 recv_us */
#define IB_SUFFIX ".jnl"
#define IB_MIN_SEG (64u << 10)

struct gw_inbox {
	char dir[PATH_MAX];
	size_t seg_bytes;
	uint64_t first_gen;      /* oldest generation that may be on disk */
	uint64_t gen;            /* the current segment's (or the next one's) */
	int fd;                  /* the current segment, -1 none */
	uint8_t *map;
	size_t map_len, off;
	uint64_t *left;          /* the segments found at open, oldest first */
	size_t nleft;
	char *topic;             /* replay: the record's topic, NUL-terminated */
	size_t topic_cap;
};

static void
seg_path(const struct gw_inbox *ib, uint64_t gen, char *out, size_t len)
{
	snprintf(out, len, "%s/%020" PRIu64 IB_SUFFIX, ib->dir, gen);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The segments in the folder, sorted. */
static int
list_segments(struct gw_inbox *ib)
{
	DIR *d = opendir(ib->dir);
	struct dirent *e;
	size_t cap = 0;

	if (!d)
		return GW_INBOX_ERR_IO;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		char *end;
		uint64_t g;

		if (strlen(n) != 20 + strlen(IB_SUFFIX) || strcmp(n + 20, IB_SUFFIX) != 0 ||
		    n[0] < '0' || n[0] > '9')
			continue;
		errno = 0;
		g = strtoull(n, &end, 10);
		if (errno || end != n + 20 || g == 0)
			continue;
		if (ib->nleft == cap) {
			uint64_t *p = realloc(ib->left, (cap ? cap * 2 : 16) * sizeof(*p));

			if (!p) {
				closedir(d);
				return GW_INBOX_ERR_NOMEM;
			}
			ib->left = p;
			cap = cap ? cap * 2 : 16;
		}
		ib->left[ib->nleft++] = g;
	}
	closedir(d);
	if (ib->nleft)
		qsort(ib->left, ib->nleft, sizeof(*ib->left), cmp_u64);
	return GW_INBOX_OK;
}

int
gw_inbox_open(struct gw_inbox **out, const char *dir, size_t seg_bytes)
{
	struct gw_inbox *ib;
	int rc;

	*out = NULL;
	if (strlen(dir) + 32 >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return GW_INBOX_ERR_IO;
	}
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return GW_INBOX_ERR_IO;
	ib = calloc(1, sizeof(*ib));
	if (!ib)
		return GW_INBOX_ERR_NOMEM;
	snprintf(ib->dir, sizeof(ib->dir), "%s", dir);
	ib->seg_bytes = seg_bytes < IB_MIN_SEG ? IB_MIN_SEG : (seg_bytes + 4095) & ~(size_t)4095;
	ib->fd = -1;
	rc = list_segments(ib);
	if (rc != GW_INBOX_OK) {
		gw_inbox_free(ib);
		return rc;
	}
	ib->first_gen = ib->nleft ? ib->left[0] : 1;
	ib->gen = ib->nleft ? ib->left[ib->nleft - 1] + 1 : 1;
	*out = ib;
	return GW_INBOX_OK;
}

static void
seg_close(struct gw_inbox *ib)
{
	if (ib->map)
		munmap(ib->map, ib->map_len);
	if (ib->fd >= 0)
		close(ib->fd);
	ib->map = NULL;
	ib->fd = -1;
	ib->map_len = ib->off = 0;
}

/* The current segment, made for at least NEED bytes of records. */
static int
seg_open(struct gw_inbox *ib, size_t need)
{
	char path[PATH_MAX + 32];
	size_t len = ib->seg_bytes;
	int err;

	if (need + IB_SEG_HDR > len)
		len = (need + IB_SEG_HDR + 4095) & ~(size_t)4095;
	seg_path(ib, ib->gen, path, sizeof(path));
	ib->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (ib->fd < 0)
		return GW_INBOX_ERR_IO;
	err = posix_fallocate(ib->fd, 0, (off_t)len);
	if (err == 0) {
		ib->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ib->fd, 0);
		if (ib->map == MAP_FAILED) {
			ib->map = NULL;
			err = errno;
		}
	}
	if (err) {
		close(ib->fd);
		ib->fd = -1;
		(void)unlink(path);
		errno = err;
		return GW_INBOX_ERR_IO;
	}
	ib->map_len = len;
	memcpy(ib->map, IB_MAGIC, 8);
	ib->off = IB_SEG_HDR;
	return GW_INBOX_OK;
}

int
gw_inbox_put(struct gw_inbox *ib, const char *topic, const void *payload, size_t len,
	     int64_t recv_us)
{
	size_t tlen = strlen(topic), body = 4 + tlen + len, need;
	uint8_t *r;
	uint32_t t32 = (uint32_t)tlen, crc;

	if (tlen + len > GW_INBOX_MSG_MAX)
		return GW_INBOX_ERR_TOO_BIG;
	need = (IB_REC_HDR + body + 7) & ~(size_t)7;
	if (ib->map && ib->off + need > ib->map_len) {
		seg_close(ib);
		ib->gen++;
	}
	if (!ib->map) {
		int rc = seg_open(ib, need);

		if (rc != GW_INBOX_OK)
			return rc;
	}
	r = ib->map + ib->off;
	/* Body, time and CRC first; the length, stored last, makes the record
	 * visible to the reader (a crash before it leaves a zero: the end). */
	memcpy(r + 8, &recv_us, 8);
	memcpy(r + IB_REC_HDR, &t32, 4);
	memcpy(r + IB_REC_HDR + 4, topic, tlen);
	if (len)
		memcpy(r + IB_REC_HDR + 4 + tlen, payload, len);
	crc = hz_crc32(0, r + 8, 8 + body);
	memcpy(r + 4, &crc, 4);
	__atomic_store_n((uint32_t *)r, (uint32_t)body, __ATOMIC_RELEASE);
	ib->off += need;
	return GW_INBOX_OK;
}

uint64_t
gw_inbox_cut(struct gw_inbox *ib)
{
	if (ib->map && ib->off > IB_SEG_HDR) {
		seg_close(ib);
		ib->gen++;
	}
	return ib->gen;
}

void
gw_inbox_trim(struct gw_inbox *ib, uint64_t below)
{
	char path[PATH_MAX + 32];

	if (below > ib->gen)
		below = ib->gen;
	for (; ib->first_gen < below; ib->first_gen++) {
		seg_path(ib, ib->first_gen, path, sizeof(path));
		(void)unlink(path);
	}
}

/* One segment found at open, record by record; returns the records handed
 * over, *torn set when a damaged record ended it. */
static size_t
replay_segment(struct gw_inbox *ib, uint64_t gen, gw_inbox_fn fn, void *arg, bool *torn)
{
	char path[PATH_MAX + 32];
	struct stat st;
	uint8_t *m;
	size_t n = 0, off = IB_SEG_HDR, size;
	int fd;

	*torn = false;
	seg_path(ib, gen, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)IB_SEG_HDR) {
		close(fd);
		return 0;
	}
	size = (size_t)st.st_size;
	m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return 0;
	if (memcmp(m, IB_MAGIC, 8) != 0) {
		*torn = true;
		goto done;
	}
	while (off + IB_REC_HDR <= size) {
		uint32_t body, crc, tlen;
		int64_t recv_us;
		const uint8_t *r = m + off;

		memcpy(&body, r, 4);
		if (body == 0)
			break;   /* the end */
		if (body < 4 || body > size - off - IB_REC_HDR) {
			*torn = true;
			break;
		}
		memcpy(&crc, r + 4, 4);
		memcpy(&recv_us, r + 8, 8);
		memcpy(&tlen, r + IB_REC_HDR, 4);
		if (hz_crc32(0, r + 8, 8 + (size_t)body) != crc || tlen > body - 4) {
			*torn = true;
			break;
		}
		if (tlen + 1 > ib->topic_cap) {
			char *t = realloc(ib->topic, tlen + 1);

			if (!t)
				break;   /* kept on disk for the next start */
			ib->topic = t;
			ib->topic_cap = tlen + 1;
		}
		memcpy(ib->topic, r + IB_REC_HDR + 4, tlen);
		ib->topic[tlen] = '\0';
		fn(arg, ib->topic, r + IB_REC_HDR + 4 + tlen, body - 4 - tlen, recv_us);
		n++;
		off += (IB_REC_HDR + body + 7) & ~(size_t)7;
	}
done:
	munmap(m, size);
	return n;
}

size_t
gw_inbox_replay(struct gw_inbox *ib, gw_inbox_fn fn, void *arg, size_t *torn)
{
	size_t n = 0, t = 0;

	for (size_t i = 0; i < ib->nleft; i++) {
		bool bad;

		n += replay_segment(ib, ib->left[i], fn, arg, &bad);
		t += bad;
	}
	ib->nleft = 0;
	if (torn)
		*torn = t;
	return n;
}

size_t
gw_inbox_segments(const struct gw_inbox *ib)
{
	char path[PATH_MAX + 32];
	size_t n = 0;

	for (uint64_t g = ib->first_gen; g <= ib->gen; g++) {
		seg_path(ib, g, path, sizeof(path));
		n += access(path, F_OK) == 0;
	}
	return n;
}

void
gw_inbox_free(struct gw_inbox *ib)
{
	if (!ib)
		return;
	if (ib->map && ib->off == IB_SEG_HDR) {
		char path[PATH_MAX + 32];

		seg_path(ib, ib->gen, path, sizeof(path));
		(void)unlink(path);
	}
	seg_close(ib);
	free(ib->left);
	free(ib->topic);
	free(ib);
}

const char *
gw_inbox_strerror(int err)
{
	switch (err) {
	case GW_INBOX_OK: return "ok";
	case GW_INBOX_ERR_IO: return "I/O error";
	case GW_INBOX_ERR_NOMEM: return "out of memory";
	case GW_INBOX_ERR_TOO_BIG: return "message too large";
	default: return "unknown error";
	}
}
