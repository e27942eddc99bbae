/*
 * gw_inbox.c - the inbox journal (gw_inbox.h): each MQTT message copied into
 * a MAP_SHARED segment as it arrives, segments removed once the batches
 * holding their messages are in the spool, what a crash left replayed at
 * the next start.
 *
 * Why a mapping: a write(2) per message is a system call per message (the
 * gateway already pays six in libmosquitto); a store into a shared mapping
 * is a memcpy, and the kernel keeps the page when the process dies. Why
 * reuse: a new file's pages fault in on the first store into each (about
 * one fault per 15 messages) and each segment costs a handful of system
 * calls; a trimmed segment taken again is already in memory and mapped
 * (bench/bench_inbox: 1.3 us per message with a new file per batch, 0.46
 * with reuse). Segments are allocated with posix_fallocate when made, so a
 * full disk shows as an error then, not as a SIGBUS on a store.
 *
 * Limits: the journal is never synced (see gw_inbox.h, "Durability"); up
 * to IB_FREE_KEEP free segments stay on disk and mapped.
 */
#include "gateway/gw_inbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hz_crc32.h"

#define IB_MAGIC "HGINBOX2"
#define IB_SEG_HDR 16u           /* magic, u64 generation (0: free) */
#define IB_REC_HDR 28u           /* u32 body length, u32 CRC, u64 gen, i64 recv_us, u32 topic length */
#define IB_SUFFIX ".jnl"
#define IB_MIN_SEG (64u << 10)
#define IB_FREE_KEEP 4           /* free segments kept mapped for reuse */

struct ib_seg {
	uint64_t gen;            /* 0: free (its old records are stale) */
	uint64_t slot;           /* the file's number */
	int fd;
	uint8_t *map;
	size_t len;
};

struct gw_inbox {
	char dir[PATH_MAX];
	size_t seg_bytes;
	struct ib_seg *segs;     /* every segment file, mapped */
	size_t nseg, capseg;
	struct ib_seg *cur;      /* the one being written, or NULL */
	size_t off;
	uint64_t gen;            /* the current segment's, or the next one's */
	uint64_t next_slot;
	uint64_t *left;          /* generations found in use at open, oldest first */
	size_t nleft;
	bool replaying;          /* no reuse meanwhile: the old segments are read */
	char *topic;             /* replay: the record's topic, NUL-terminated */
	size_t topic_cap;
};

static void
seg_path(const struct gw_inbox *ib, uint64_t slot, char *out, size_t len)
{
	snprintf(out, len, "%s/%020" PRIu64 IB_SUFFIX, ib->dir, slot);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
seg_hdr_gen(const struct ib_seg *g)
{
	uint64_t gen;

	if (g->len < IB_SEG_HDR || memcmp(g->map, IB_MAGIC, 8) != 0)
		return 0;
	memcpy(&gen, g->map + 8, 8);
	return gen;
}

static void
seg_set_gen(struct ib_seg *g, uint64_t gen)
{
	g->gen = gen;
	__atomic_store_n((uint64_t *)(g->map + 8), gen, __ATOMIC_RELEASE);
}

static struct ib_seg *
seg_add(struct gw_inbox *ib)
{
	if (ib->nseg == ib->capseg) {
		size_t cap = ib->capseg ? ib->capseg * 2 : 8;
		struct ib_seg *n;
		ptrdiff_t cur = ib->cur ? ib->cur - ib->segs : -1;

		n = realloc(ib->segs, cap * sizeof(*n));
		if (!n)
			return NULL;
		ib->segs = n;
		ib->capseg = cap;
		if (cur >= 0)
			ib->cur = ib->segs + cur;
	}
	return &ib->segs[ib->nseg++];
}

/* Unmap, close and (unlink true) remove segment i; the array closes up. */
static void
seg_drop(struct gw_inbox *ib, size_t i, bool unlink_it)
{
	struct ib_seg *g = &ib->segs[i];
	char path[PATH_MAX + 32];
	ptrdiff_t cur = ib->cur ? ib->cur - ib->segs : -1;

	if (g->map)
		munmap(g->map, g->len);
	if (g->fd >= 0)
		close(g->fd);
	if (unlink_it) {
		seg_path(ib, g->slot, path, sizeof(path));
		(void)unlink(path);
	}
	memmove(g, g + 1, (ib->nseg - i - 1) * sizeof(*g));
	ib->nseg--;
	if (cur > (ptrdiff_t)i)
		ib->cur = ib->segs + cur - 1;
}

/* The segment files in the folder, mapped; those in use noted for replay. */
static int
list_segments(struct gw_inbox *ib)
{
	DIR *d = opendir(ib->dir);
	struct dirent *e;
	int rc = GW_INBOX_OK;

	if (!d)
		return GW_INBOX_ERR_IO;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		char *end, path[PATH_MAX + 32];
		struct stat st;
		struct ib_seg *g;
		uint64_t slot;
		int fd;

		if (strlen(n) != 20 + strlen(IB_SUFFIX) || strcmp(n + 20, IB_SUFFIX) != 0 ||
		    n[0] < '0' || n[0] > '9')
			continue;
		errno = 0;
		slot = strtoull(n, &end, 10);
		if (errno || end != n + 20)
			continue;
		if (slot >= ib->next_slot)
			ib->next_slot = slot + 1;
		seg_path(ib, slot, path, sizeof(path));
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) != 0 || st.st_size < (off_t)IB_SEG_HDR) {
			close(fd);
			(void)unlink(path);   /* cut short while it was made */
			continue;
		}
		g = seg_add(ib);
		if (!g) {
			close(fd);
			rc = GW_INBOX_ERR_NOMEM;
			break;
		}
		g->fd = fd;
		g->slot = slot;
		g->len = (size_t)st.st_size;
		g->map = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (g->map == MAP_FAILED) {
			g->map = NULL;
			seg_drop(ib, ib->nseg - 1, false);
			continue;
		}
		g->gen = seg_hdr_gen(g);
		if (g->gen >= ib->gen)
			ib->gen = g->gen + 1;
		if (g->gen) {
			uint64_t *l = realloc(ib->left, (ib->nleft + 1) * sizeof(*l));

			if (!l) {
				rc = GW_INBOX_ERR_NOMEM;
				break;
			}
			ib->left = l;
			ib->left[ib->nleft++] = g->gen;
		}
	}
	closedir(d);
	if (ib->nleft)
		qsort(ib->left, ib->nleft, sizeof(*ib->left), cmp_u64);
	return rc;
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
	ib->gen = 1;
	ib->next_slot = 1;
	rc = list_segments(ib);
	if (rc != GW_INBOX_OK) {
		gw_inbox_free(ib);
		return rc;
	}
	*out = ib;
	return GW_INBOX_OK;
}

/* A new segment file of len bytes, allocated and mapped. */
static struct ib_seg *
seg_create(struct gw_inbox *ib, size_t len)
{
	char path[PATH_MAX + 32];
	struct ib_seg *g;
	int fd, err;
	void *map = MAP_FAILED;

	seg_path(ib, ib->next_slot, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return NULL;
	err = posix_fallocate(fd, 0, (off_t)len);
	if (err == 0) {
		map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			err = errno;
	}
	g = err ? NULL : seg_add(ib);
	if (!g) {
		if (map != MAP_FAILED)
			munmap(map, len);
		close(fd);
		(void)unlink(path);
		errno = err ? err : ENOMEM;
		return NULL;
	}
	*g = (struct ib_seg){ .gen = 0, .slot = ib->next_slot++, .fd = fd, .map = map, .len = len };
	memcpy(g->map, IB_MAGIC, 8);
	return g;
}

/* The current segment, for at least NEED bytes of records: a free one of
 * the usual size when there is one (its pages are in memory and mapped
 * already: no fault, no system call), else a new file. */
static int
seg_take(struct gw_inbox *ib, size_t need)
{
	struct ib_seg *g = NULL;

	if (need + IB_SEG_HDR <= ib->seg_bytes && !ib->replaying)
		for (size_t i = 0; i < ib->nseg; i++)
			if (ib->segs[i].gen == 0 && ib->segs[i].len == ib->seg_bytes) {
				g = &ib->segs[i];
				break;
			}
	if (!g) {
		size_t len = ib->seg_bytes;

		if (need + IB_SEG_HDR > len)
			len = (need + IB_SEG_HDR + 4095) & ~(size_t)4095;
		g = seg_create(ib, len);
		if (!g)
			return errno == ENOMEM ? GW_INBOX_ERR_NOMEM : GW_INBOX_ERR_IO;
	}
	/* The new generation first: the stale records after it no longer
	 * match it, so a reader stops at the first of them. */
	seg_set_gen(g, ib->gen);
	ib->cur = g;
	ib->off = IB_SEG_HDR;
	return GW_INBOX_OK;
}

int
gw_inbox_put(struct gw_inbox *ib, const char *topic, const void *payload, size_t len,
	     int64_t recv_us)
{
	size_t tlen = strlen(topic), body = tlen + len, need;
	uint8_t *r;
	uint32_t t32 = (uint32_t)tlen, crc;

	if (tlen + len > GW_INBOX_MSG_MAX)
		return GW_INBOX_ERR_TOO_BIG;
	need = (IB_REC_HDR + body + 7) & ~(size_t)7;
	if (ib->cur && ib->off + need > ib->cur->len) {
		ib->cur = NULL;   /* full: stays in use, the next one follows */
		ib->gen++;
	}
	if (!ib->cur) {
		int rc = seg_take(ib, need);

		if (rc != GW_INBOX_OK)
			return rc;
	}
	r = ib->cur->map + ib->off;
	/* Generation, time, body and CRC first; the length, stored last,
	 * makes the record whole (a crash before it: a stale or zero length,
	 * or a CRC that does not match: the end). */
	memcpy(r + 8, &ib->gen, 8);
	memcpy(r + 16, &recv_us, 8);
	memcpy(r + 24, &t32, 4);
	memcpy(r + IB_REC_HDR, topic, tlen);
	if (len)
		memcpy(r + IB_REC_HDR + tlen, payload, len);
	crc = hz_crc32(0, r + 8, IB_REC_HDR - 8 + body);
	memcpy(r + 4, &crc, 4);
	__atomic_store_n((uint32_t *)r, (uint32_t)body, __ATOMIC_RELEASE);
	ib->off += need;
	/* A zero after it ends a reused segment's records for certain. */
	if (ib->off + 4 <= ib->cur->len)
		memset(ib->cur->map + ib->off, 0, 4);
	return GW_INBOX_OK;
}

uint64_t
gw_inbox_cut(struct gw_inbox *ib)
{
	if (ib->cur && ib->off > IB_SEG_HDR) {
		ib->cur = NULL;
		ib->gen++;
	}
	return ib->gen;
}

void
gw_inbox_trim(struct gw_inbox *ib, uint64_t below)
{
	size_t nfree = 0;

	/* While replaying, the old segments are being read: they go with the
	 * first trim after (what was replayed is in the new ones). */
	if (ib->replaying)
		return;
	for (size_t i = 0; i < ib->nseg; i++)
		if (ib->segs[i].gen == 0)
			nfree++;
	for (size_t i = 0; i < ib->nseg;) {
		struct ib_seg *g = &ib->segs[i];

		if (g->gen == 0 || g->gen >= below || g == ib->cur) {
			i++;
			continue;
		}
		if (nfree >= IB_FREE_KEEP || g->len != ib->seg_bytes) {
			seg_drop(ib, i, true);
			continue;
		}
		seg_set_gen(g, 0);
		nfree++;
		i++;
	}
}

/* The segment of generation GEN found at open, record by record; returns
 * the records handed over, *torn set when a damaged record ended it. */
static size_t
replay_segment(struct gw_inbox *ib, uint64_t gen, gw_inbox_fn fn, void *arg, bool *torn)
{
	struct ib_seg *g = NULL;
	size_t n = 0, off = IB_SEG_HDR, size;
	const uint8_t *m;

	*torn = false;
	for (size_t i = 0; i < ib->nseg; i++)
		if (ib->segs[i].gen == gen)
			g = &ib->segs[i];
	if (!g)
		return 0;
	/* Read through the mapping itself: the callback may put records
	 * (into new segments: none is reused while replaying, and trim waits
	 * until the replay ends), which may move the array, not the mapping. */
	m = g->map;
	size = g->len;
	while (off + IB_REC_HDR <= size) {
		uint32_t body, crc, tlen;
		uint64_t rgen;
		int64_t recv_us;
		const uint8_t *r = m + off;

		memcpy(&body, r, 4);
		memcpy(&rgen, r + 8, 8);
		if (body == 0 || rgen != gen)
			break;   /* the end (or a stale record of an older use) */
		if (body > size - off - IB_REC_HDR) {
			*torn = true;
			break;
		}
		memcpy(&crc, r + 4, 4);
		memcpy(&recv_us, r + 16, 8);
		memcpy(&tlen, r + 24, 4);
		if (hz_crc32(0, r + 8, IB_REC_HDR - 8 + (size_t)body) != crc || tlen > body) {
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
		memcpy(ib->topic, r + IB_REC_HDR, tlen);
		ib->topic[tlen] = '\0';
		fn(arg, ib->topic, r + IB_REC_HDR + tlen, body - tlen, recv_us);
		n++;
		off += (IB_REC_HDR + body + 7) & ~(size_t)7;
	}
	return n;
}

size_t
gw_inbox_replay(struct gw_inbox *ib, gw_inbox_fn fn, void *arg, size_t *torn)
{
	size_t n = 0, t = 0;

	ib->replaying = true;
	for (size_t i = 0; i < ib->nleft; i++) {
		bool bad;

		n += replay_segment(ib, ib->left[i], fn, arg, &bad);
		t += bad;
	}
	ib->replaying = false;
	ib->nleft = 0;
	if (torn)
		*torn = t;
	return n;
}

size_t
gw_inbox_segments(const struct gw_inbox *ib)
{
	size_t n = 0;

	for (size_t i = 0; i < ib->nseg; i++)
		n += ib->segs[i].gen != 0;
	return n;
}

void
gw_inbox_free(struct gw_inbox *ib)
{
	if (!ib)
		return;
	/* An empty current segment holds nothing; the free ones neither:
	 * removed. Those in use stay for the next start. */
	if (ib->cur && ib->off == IB_SEG_HDR)
		ib->cur->gen = 0;
	while (ib->nseg)
		seg_drop(ib, ib->nseg - 1, ib->segs[ib->nseg - 1].gen == 0);
	free(ib->segs);
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
