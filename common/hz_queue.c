/*
 * hz_queue.c - durable bounded FIFO of records in segment files.
 *
 * See hz_queue.h for the on-disk format and the guarantees.  How it works:
 * the segments are kept in an array sorted by first id; only the newest one
 * is written (O_APPEND), a record with one writev(2) of its header and the
 * caller's pieces (no copy).  Reading is a cursor (segment, offset) that moves
 * forward with pread; records it hands out are remembered in a small FIFO
 * (the in-flight list) with their position, so that a rewind can go back to
 * the oldest one that is not acknowledged.  The ack floor (every id below it
 * is done) is the only thing written on ack: one 40-byte slot of the cursor
 * file, alternating between two slots so that a torn write leaves the other.
 * hz_queue_next reads each record into one buffer, reused; hz_queue_next_keep
 * into a buffer per record, kept until hz_queue_release.
 *
 * Only the newest segment is scanned at open (to find the next id and cut a
 * torn tail); older ones are checked as they are read.
 */
#include "common/hz_queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hz_crc32.h"

#define REC_MAGIC 0x31525154u      /* "TQR1" little-endian */
#define CUR_MAGIC 0x31435154u      /* "TQC1" */
#define HDR_SIZE 20u
#define CUR_SLOT 40u
#define SEG_SUFFIX ".seg"

struct seg {
	uint64_t first_id;
	uint64_t size;
};

/* A read buffer that grows. */
struct rbuf {
	unsigned char *p;
	size_t cap;
};

struct inflight {
	uint64_t id;
	uint64_t seg;           /* first id of its segment */
	uint64_t off;
	bool acked;
};

struct hz_queue {
	char *dir;
	struct hz_queue_options opt;

	struct seg *segs;
	size_t nseg, capseg;
	int wfd;                /* newest segment, or -1 */
	bool tail_uncut;             /* wfd's file has a torn tail we could not cut off */

	uint64_t next_id;
	uint64_t floor;         /* every id below is acknowledged or gone */
	uint64_t cur_gen;
	int cfd;                /* cursor file */

	uint64_t rseg, roff;    /* read cursor */
	int rfd;
	uint64_t rfd_seg;
	struct rbuf rbuf;       /* hz_queue_next's record, resync's scratch */
	struct rbuf *kept;      /* hz_queue_next_keep's records, one buffer each */
	size_t nkept, capkept;  /* handed out since the last release; slots */

	struct inflight *infl;
	size_t ninfl, capinfl;
	uint64_t *skip;         /* acked ids beyond the floor, after a rewind */
	size_t nskip, capskip;

	uint64_t dropped, corrupt, torn;
};

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
qlog(hz_queue *q, enum hz_queue_level level, const char *event,
     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
qlog(hz_queue *q, enum hz_queue_level level, const char *event,
     const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	if (!q->opt.log)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	q->opt.log(q->opt.log_arg, level, event, detail);
}

const char *
hz_queue_strerror(int err)
{
	switch (err) {
	case HZ_QUEUE_OK: return "ok";
	case HZ_QUEUE_EMPTY: return "queue empty";
	case HZ_QUEUE_ERR_IO: return "i/o error";
	case HZ_QUEUE_ERR_NOMEM: return "out of memory";
	case HZ_QUEUE_ERR_TOO_BIG: return "record too big";
	case HZ_QUEUE_ERR_INVAL: return "invalid argument";
	case HZ_QUEUE_ERR_BUSY: return "queue directory in use by another process";
	default: return "unknown error";
	}
}

void
hz_queue_options_init(struct hz_queue_options *o)
{
	memset(o, 0, sizeof *o);
	o->max_bytes = 64u << 20;
	o->segment_bytes = 1u << 20;
	o->max_record = 65536;
	o->fsync = HZ_QUEUE_FSYNC_MANUAL;
}

static int
seg_path(const hz_queue *q, uint64_t first_id, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/%020" PRIu64 SEG_SUFFIX, q->dir, first_id);

	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static void
fsync_dir(hz_queue *q)
{
	int fd;

	if (q->opt.fsync == HZ_QUEUE_FSYNC_NEVER)
		return;
	fd = open(q->dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

static ptrdiff_t
seg_index(const hz_queue *q, uint64_t first_id)
{
	for (size_t i = 0; i < q->nseg; i++)
		if (q->segs[i].first_id == first_id)
			return (ptrdiff_t)i;
	return -1;
}

static uint64_t
total_bytes(const hz_queue *q)
{
	uint64_t t = 0;

	for (size_t i = 0; i < q->nseg; i++)
		t += q->segs[i].size;
	return t;
}

static int
cursor_write(hz_queue *q)
{
	unsigned char slot[CUR_SLOT];
	uint64_t gen = q->cur_gen + 1;

	memset(slot, 0, sizeof slot);
	put32(slot, CUR_MAGIC);
	put64(slot + 8, gen);
	put64(slot + 16, q->floor);
	put64(slot + 24, q->next_id);
	put32(slot + 4, hz_crc32(0, slot + 8, CUR_SLOT - 8));
	if (pwrite(q->cfd, slot, sizeof slot, (off_t)((gen % 2) * CUR_SLOT)) != (ssize_t)sizeof slot)
		return HZ_QUEUE_ERR_IO;
	q->cur_gen = gen;
	if (q->opt.fsync == HZ_QUEUE_FSYNC_ALWAYS && fdatasync(q->cfd) != 0)
		return HZ_QUEUE_ERR_IO;
	return HZ_QUEUE_OK;
}

static void
cursor_read(hz_queue *q, uint64_t *next_hint)
{
	unsigned char buf[2 * CUR_SLOT];
	ssize_t n = pread(q->cfd, buf, sizeof buf, 0);

	*next_hint = 0;
	for (int s = 0; s < 2; s++) {
		const unsigned char *p = buf + s * CUR_SLOT;

		if (n < (ssize_t)((s + 1) * CUR_SLOT) || get32(p) != CUR_MAGIC ||
		    get32(p + 4) != hz_crc32(0, p + 8, CUR_SLOT - 8))
			continue;
		if (get64(p + 8) >= q->cur_gen) {
			q->cur_gen = get64(p + 8);
			q->floor = get64(p + 16);
			*next_hint = get64(p + 24);
		}
	}
}

/* Is there a valid record at OFF of BUF (LEN bytes, the segment from 0)?
 * Returns its total size, or 0. */
static size_t
rec_valid(const hz_queue *q, const unsigned char *buf, size_t len, size_t off,
          uint64_t seg_first)
{
	uint32_t plen, crc;
	uint64_t id;

	if (len - off < HDR_SIZE || get32(buf + off) != REC_MAGIC)
		return 0;
	plen = get32(buf + off + 4);
	id = get64(buf + off + 8);
	if (plen > q->opt.max_record || len - off - HDR_SIZE < plen || id < seg_first)
		return 0;
	crc = hz_crc32(0, buf + off + 4, 12);
	crc = hz_crc32(crc, buf + off + HDR_SIZE, plen);
	if (crc != get32(buf + off + 16))
		return 0;
	return HDR_SIZE + plen;
}

static int
read_file(const char *path, unsigned char **buf, size_t *len)
{
	struct stat st;
	unsigned char *b = NULL;
	int fd = open(path, O_RDONLY), rc = HZ_QUEUE_ERR_IO;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) != 0)
		goto done;
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		rc = HZ_QUEUE_ERR_NOMEM;
		goto done;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, b + got, (size_t)st.st_size - got, (off_t)got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*buf = b;
	*len = got;
	b = NULL;
	rc = HZ_QUEUE_OK;
done:
	free(b);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Scan the newest segment: find its last valid id and cut a torn tail. */
static int
scan_last(hz_queue *q, uint64_t *last_id)
{
	struct seg *s = &q->segs[q->nseg - 1];
	char path[4096];
	unsigned char *buf = NULL;
	size_t len = 0, off = 0, end = 0, n;
	int rc;

	*last_id = 0;
	if (seg_path(q, s->first_id, path, sizeof path) != 0)
		return HZ_QUEUE_ERR_INVAL;
	rc = read_file(path, &buf, &len);
	if (rc != HZ_QUEUE_OK)
		return rc;
	while (off < len) {
		n = rec_valid(q, buf, len, off, s->first_id);
		if (n) {
			*last_id = get64(buf + off + 8);
			off += n;
			end = off;
		} else {
			off++;  /* damaged: look for a later valid header */
		}
	}
	if (end < len) {
		/* Whatever follows the last valid record is a record cut short
		 * (or garbage written in its place): never send it. */
		q->torn++;
		qlog(q, HZ_QUEUE_LOG_WARN, "queue_torn_tail",
		     "segment=%s offset=%zu bytes=%zu", path, end, len - end);
		if (truncate(path, (off_t)end) != 0)
			rc = HZ_QUEUE_ERR_IO;
	}
	s->size = end;
	free(buf);
	return rc;
}

static int
cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->first_id < y->first_id ? -1 : x->first_id > y->first_id;
}

static int
list_segments(hz_queue *q)
{
	DIR *d = opendir(q->dir);
	struct dirent *e;
	int rc = HZ_QUEUE_OK;

	if (!d)
		return HZ_QUEUE_ERR_IO;
	while ((e = readdir(d)) != NULL) {
		char *endp;
		unsigned long long id;
		struct stat st;
		char path[4096];

		if (strlen(e->d_name) != 20 + strlen(SEG_SUFFIX) ||
		    strcmp(e->d_name + 20, SEG_SUFFIX) != 0)
			continue;
		id = strtoull(e->d_name, &endp, 10);
		if (endp != e->d_name + 20)
			continue;
		if (seg_path(q, id, path, sizeof path) != 0 || stat(path, &st) != 0)
			continue;
		if (q->nseg == q->capseg) {
			size_t cap = q->capseg ? 2 * q->capseg : 16;
			struct seg *n = realloc(q->segs, cap * sizeof *n);

			if (!n) {
				rc = HZ_QUEUE_ERR_NOMEM;
				break;
			}
			q->segs = n;
			q->capseg = cap;
		}
		q->segs[q->nseg].first_id = id;
		q->segs[q->nseg].size = (uint64_t)st.st_size;
		q->nseg++;
	}
	closedir(d);
	if (q->nseg > 1)
		qsort(q->segs, q->nseg, sizeof *q->segs, cmp_seg);
	return rc;
}

static void
remove_first_segment(hz_queue *q)
{
	char path[4096];
	uint64_t first = q->segs[0].first_id;

	if (q->rfd >= 0 && q->rfd_seg == first) {
		close(q->rfd);
		q->rfd = -1;
	}
	if (seg_path(q, first, path, sizeof path) == 0)
		(void)unlink(path);
	memmove(q->segs, q->segs + 1, (q->nseg - 1) * sizeof *q->segs);
	q->nseg--;
	if (q->rseg == first) {
		q->rseg = q->segs[0].first_id;
		q->roff = 0;
	}
}

/* Remove old segments whose records are all below the floor. */
static void
retire_segments(hz_queue *q)
{
	bool any = false;

	while (q->nseg > 1 && q->segs[1].first_id <= q->floor) {
		remove_first_segment(q);
		any = true;
	}
	if (any)
		fsync_dir(q);
}

/* mkdir -p: each missing component with mode 0750. */
static int
mkdir_p(const char *dir)
{
	char buf[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return (mkdir(buf, 0750) != 0 && errno != EEXIST) ? -1 : 0;
}

int
hz_queue_open(hz_queue **out, const char *dir, const struct hz_queue_options *o)
{
	hz_queue *q;
	struct hz_queue_options def;
	char path[4096];
	uint64_t hint = 0, last = 0;
	int rc = HZ_QUEUE_ERR_NOMEM;

	*out = NULL;
	if (!o) {
		hz_queue_options_init(&def);
		o = &def;
	}
	if (!dir || !*dir || o->max_bytes < 4096 || o->max_record == 0)
		return HZ_QUEUE_ERR_INVAL;
	q = calloc(1, sizeof *q);
	if (!q)
		return HZ_QUEUE_ERR_NOMEM;
	q->opt = *o;
	if (q->opt.segment_bytes > q->opt.max_bytes / 4 || q->opt.segment_bytes == 0)
		q->opt.segment_bytes = q->opt.max_bytes / 4;
	if (q->opt.max_record > q->opt.segment_bytes - HDR_SIZE)
		q->opt.max_record = (uint32_t)(q->opt.segment_bytes - HDR_SIZE);
	q->wfd = q->cfd = q->rfd = -1;
	q->dir = strdup(dir);
	if (!q->dir)
		goto err;
	rc = HZ_QUEUE_ERR_IO;
	if (mkdir_p(dir) != 0)
		goto err;
	snprintf(path, sizeof path, "%s/cursor", dir);
	q->cfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (q->cfd < 0)
		goto err;
	if (flock(q->cfd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? HZ_QUEUE_ERR_BUSY : HZ_QUEUE_ERR_IO;
		goto err;
	}
	cursor_read(q, &hint);
	rc = list_segments(q);
	if (rc != HZ_QUEUE_OK)
		goto err;
	if (q->nseg > 0) {
		rc = scan_last(q, &last);
		if (rc != HZ_QUEUE_OK)
			goto err;
	}
	q->next_id = 1;
	if (last + 1 > q->next_id)
		q->next_id = last + 1;
	if (q->nseg > 0 && q->segs[q->nseg - 1].first_id > q->next_id)
		q->next_id = q->segs[q->nseg - 1].first_id;
	if (hint > q->next_id)
		q->next_id = hint;
	if (q->floor > q->next_id)
		q->floor = q->next_id;
	if (q->floor < 1)
		q->floor = 1;
	if (q->nseg > 0) {
		q->rseg = q->segs[0].first_id;
		retire_segments(q);
		rc = HZ_QUEUE_ERR_IO;
		if (seg_path(q, q->segs[q->nseg - 1].first_id, path, sizeof path) != 0)
			goto err;
		q->wfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (q->wfd < 0)
			goto err;
	}
	qlog(q, HZ_QUEUE_LOG_INFO, "queue_open",
	     "dir=%s segments=%zu bytes=%" PRIu64 " next_id=%" PRIu64 " floor=%" PRIu64,
	     dir, q->nseg, total_bytes(q), q->next_id, q->floor);
	*out = q;
	return HZ_QUEUE_OK;
err:
	hz_queue_free(q);
	return rc;
}

void
hz_queue_free(hz_queue *q)
{
	if (!q)
		return;
	if (q->opt.fsync != HZ_QUEUE_FSYNC_NEVER)
		(void)hz_queue_sync(q);
	if (q->wfd >= 0)
		close(q->wfd);
	if (q->cfd >= 0)
		close(q->cfd);
	if (q->rfd >= 0)
		close(q->rfd);
	free(q->segs);
	free(q->rbuf.p);
	for (size_t i = 0; i < q->capkept; i++)
		free(q->kept[i].p);
	free(q->kept);
	free(q->infl);
	free(q->skip);
	free(q->dir);
	free(q);
}

uint64_t
hz_queue_next_id(const hz_queue *q)
{
	return q->next_id;
}

static int
new_segment(hz_queue *q)
{
	char path[4096];
	int fd;

	if (q->nseg == q->capseg) {
		size_t cap = q->capseg ? 2 * q->capseg : 16;
		struct seg *n = realloc(q->segs, cap * sizeof *n);

		if (!n)
			return HZ_QUEUE_ERR_NOMEM;
		q->segs = n;
		q->capseg = cap;
	}
	if (seg_path(q, q->next_id, path, sizeof path) != 0)
		return HZ_QUEUE_ERR_INVAL;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return HZ_QUEUE_ERR_IO;
	if (q->wfd >= 0) {
		if (q->opt.fsync != HZ_QUEUE_FSYNC_NEVER)
			(void)fdatasync(q->wfd);
		close(q->wfd);
	}
	q->wfd = fd;
	q->tail_uncut = false;
	q->segs[q->nseg].first_id = q->next_id;
	q->segs[q->nseg].size = 0;
	if (q->nseg == 0) {
		q->rseg = q->next_id;
		q->roff = 0;
	}
	q->nseg++;
	fsync_dir(q);
	return HZ_QUEUE_OK;
}

/* Drop the oldest segment to make room; count its unacked records. */
static void
drop_oldest(hz_queue *q)
{
	uint64_t first = q->segs[0].first_id, end = q->segs[1].first_id;
	uint64_t from = first > q->floor ? first : q->floor;
	size_t i, j;

	if (end > from) {
		q->dropped += end - from;
		qlog(q, HZ_QUEUE_LOG_WARN, "queue_full_dropped",
		     "first_id=%" PRIu64 " last_id=%" PRIu64 " records=%" PRIu64
		     " max_bytes=%" PRIu64, from, end - 1, end - from, q->opt.max_bytes);
	}
	for (i = j = 0; i < q->ninfl; i++)
		if (q->infl[i].seg != first)
			q->infl[j++] = q->infl[i];
	q->ninfl = j;
	for (i = j = 0; i < q->nskip; i++)
		if (q->skip[i] >= end)
			q->skip[j++] = q->skip[i];
	q->nskip = j;
	remove_first_segment(q);
	if (q->floor < end)
		q->floor = end;
	fsync_dir(q);
	(void)cursor_write(q);
}

int
hz_queue_appendv(hz_queue *q, const struct iovec *iov, int iovcnt, uint64_t *id)
{
	struct iovec v[HZ_QUEUE_IOV_MAX + 1];
	unsigned char hdr[HDR_SIZE];
	uint64_t len = 0, need;
	uint32_t crc;
	ssize_t w;
	int rc;

	if (iovcnt < 0 || iovcnt > HZ_QUEUE_IOV_MAX)
		return HZ_QUEUE_ERR_INVAL;
	for (int i = 0; i < iovcnt; i++) {
		len += iov[i].iov_len;
		if (len > q->opt.max_record)
			return HZ_QUEUE_ERR_TOO_BIG;
	}
	need = HDR_SIZE + len;
	if (q->nseg == 0 || q->tail_uncut || (q->segs[q->nseg - 1].size > 0 &&
	                     q->segs[q->nseg - 1].size + need > q->opt.segment_bytes)) {
		rc = new_segment(q);
		if (rc != HZ_QUEUE_OK)
			return rc;
	}
	while (q->nseg > 1 && total_bytes(q) + need > q->opt.max_bytes)
		drop_oldest(q);

	put32(hdr, REC_MAGIC);
	put32(hdr + 4, (uint32_t)len);
	put64(hdr + 8, q->next_id);
	crc = hz_crc32(0, hdr + 4, 12);
	v[0].iov_base = hdr;
	v[0].iov_len = HDR_SIZE;
	for (int i = 0; i < iovcnt; i++) {
		crc = hz_crc32(crc, iov[i].iov_base, iov[i].iov_len);
		v[i + 1] = iov[i];
	}
	put32(hdr + 16, crc);
	/* One write per record, so that a crash leaves at most the tail torn. */
	w = writev(q->wfd, v, iovcnt + 1);
	if (w != (ssize_t)need) {
		/* Cut a partial write off so that the next append starts clean;
		 * where that fails too, the next append starts a new segment
		 * (readers stop at the size we keep, before the torn bytes). */
		if (w > 0 && ftruncate(q->wfd, (off_t)q->segs[q->nseg - 1].size) != 0)
			q->tail_uncut = true;
		return HZ_QUEUE_ERR_IO;
	}
	q->segs[q->nseg - 1].size += need;
	if (id)
		*id = q->next_id;
	q->next_id++;
	if (q->opt.fsync == HZ_QUEUE_FSYNC_ALWAYS && fdatasync(q->wfd) != 0)
		return HZ_QUEUE_ERR_IO;
	return HZ_QUEUE_OK;
}

int
hz_queue_append(hz_queue *q, const void *data, size_t len, uint64_t *id)
{
	/* writev only reads the piece: the const goes through uintptr_t. */
	struct iovec v = { .iov_base = (void *)(uintptr_t)data, .iov_len = len };

	return hz_queue_appendv(q, &v, len ? 1 : 0, id);
}

static bool
skip_take(hz_queue *q, uint64_t id)
{
	for (size_t i = 0; i < q->nskip; i++) {
		if (q->skip[i] == id) {
			q->skip[i] = q->skip[--q->nskip];
			return true;
		}
	}
	return false;
}

/* Read LEN bytes of segment SEG at OFF into B (grown as needed). */
static int
read_at(hz_queue *q, struct rbuf *b, uint64_t seg, uint64_t off, size_t len)
{
	char path[4096];

	if (q->rfd < 0 || q->rfd_seg != seg) {
		if (q->rfd >= 0)
			close(q->rfd);
		q->rfd = -1;
		if (seg_path(q, seg, path, sizeof path) != 0)
			return HZ_QUEUE_ERR_INVAL;
		q->rfd = open(path, O_RDONLY | O_CLOEXEC);
		if (q->rfd < 0)
			return HZ_QUEUE_ERR_IO;
		q->rfd_seg = seg;
	}
	if (len > b->cap) {
		unsigned char *n = realloc(b->p, len);

		if (!n)
			return HZ_QUEUE_ERR_NOMEM;
		b->p = n;
		b->cap = len;
	}
	for (size_t got = 0; got < len;) {
		ssize_t n = pread(q->rfd, b->p + got, len - got, (off_t)(off + got));

		if (n <= 0)
			return HZ_QUEUE_ERR_IO;
		got += (size_t)n;
	}
	return HZ_QUEUE_OK;
}

/* The record at the read cursor is damaged: find the next valid one in the
 * same segment (or its end) and log what was skipped. */
static int
resync(hz_queue *q, const struct seg *s)
{
	size_t len = (size_t)(s->size - q->roff), off = 1, n = 0;
	uint64_t hint = 0;
	char path[4096];
	int rc = read_at(q, &q->rbuf, s->first_id, q->roff, len);

	if (rc != HZ_QUEUE_OK)
		return rc;
	for (; off < len; off++) {
		n = rec_valid(q, q->rbuf.p, len, off, s->first_id);
		if (n)
			break;
	}
	q->corrupt++;
	/* The damaged record's own header may still say which id it was. */
	if (len >= HDR_SIZE && get32(q->rbuf.p) == REC_MAGIC)
		hint = get64(q->rbuf.p + 8);
	seg_path(q, s->first_id, path, sizeof path);
	qlog(q, HZ_QUEUE_LOG_WARN, "queue_corrupt_record",
	     "segment=%s offset=%" PRIu64 " skipped_bytes=%zu id_hint=%" PRIu64,
	     path, q->roff, off, hint);
	q->roff += off;
	return HZ_QUEUE_OK;
}

/* The next record, read into B: hz_queue_next and hz_queue_next_keep. */
static int
next_into(hz_queue *q, struct rbuf *b, uint64_t *id, const void **data, size_t *len)
{
	for (;;) {
		ptrdiff_t si;
		const struct seg *s;
		uint32_t plen;
		uint64_t rid;
		size_t n;
		int rc;

		if (q->nseg == 0)
			return HZ_QUEUE_EMPTY;
		si = seg_index(q, q->rseg);
		if (si < 0) {   /* its segment was dropped */
			q->rseg = q->segs[0].first_id;
			q->roff = 0;
			continue;
		}
		s = &q->segs[si];
		if (q->roff >= s->size) {
			if ((size_t)si + 1 >= q->nseg)
				return HZ_QUEUE_EMPTY;
			q->rseg = q->segs[si + 1].first_id;
			q->roff = 0;
			continue;
		}
		if (s->size - q->roff < HDR_SIZE) {
			rc = resync(q, s);
			if (rc != HZ_QUEUE_OK)
				return rc;
			continue;
		}
		rc = read_at(q, b, s->first_id, q->roff, HDR_SIZE);
		if (rc != HZ_QUEUE_OK)
			return rc;
		plen = get32(b->p + 4);
		if (get32(b->p) != REC_MAGIC || plen > q->opt.max_record ||
		    s->size - q->roff - HDR_SIZE < plen) {
			rc = resync(q, s);
			if (rc != HZ_QUEUE_OK)
				return rc;
			continue;
		}
		rc = read_at(q, b, s->first_id, q->roff, HDR_SIZE + plen);
		if (rc != HZ_QUEUE_OK)
			return rc;
		n = rec_valid(q, b->p, HDR_SIZE + plen, 0, s->first_id);
		if (!n) {
			rc = resync(q, s);
			if (rc != HZ_QUEUE_OK)
				return rc;
			continue;
		}
		rid = get64(b->p + 8);
		if (rid < q->floor || skip_take(q, rid)) {
			q->roff += n;
			continue;
		}
		if (q->ninfl == q->capinfl) {
			size_t cap = q->capinfl ? 2 * q->capinfl : 32;
			struct inflight *ni = realloc(q->infl, cap * sizeof *ni);

			if (!ni)
				return HZ_QUEUE_ERR_NOMEM;
			q->infl = ni;
			q->capinfl = cap;
		}
		q->infl[q->ninfl].id = rid;
		q->infl[q->ninfl].seg = s->first_id;
		q->infl[q->ninfl].off = q->roff;
		q->infl[q->ninfl].acked = false;
		q->ninfl++;
		q->roff += n;
		*id = rid;
		*data = b->p + HDR_SIZE;
		*len = plen;
		return HZ_QUEUE_OK;
	}
}

int
hz_queue_next(hz_queue *q, uint64_t *id, const void **data, size_t *len)
{
	return next_into(q, &q->rbuf, id, data, len);
}

int
hz_queue_next_keep(hz_queue *q, uint64_t *id, const void **data, size_t *len)
{
	int rc;

	if (q->nkept == q->capkept) {
		size_t cap = q->capkept ? 2 * q->capkept : 16;
		struct rbuf *n = realloc(q->kept, cap * sizeof *n);

		if (!n)
			return HZ_QUEUE_ERR_NOMEM;
		memset(n + q->capkept, 0, (cap - q->capkept) * sizeof *n);
		q->kept = n;
		q->capkept = cap;
	}
	rc = next_into(q, &q->kept[q->nkept], id, data, len);
	if (rc == HZ_QUEUE_OK)
		q->nkept++;
	return rc;
}

void
hz_queue_release(hz_queue *q)
{
	q->nkept = 0;
}

int
hz_queue_ack(hz_queue *q, uint64_t id)
{
	size_t i, k = 0;

	for (i = 0; i < q->ninfl; i++)
		if (q->infl[i].id == id)
			break;
	if (i == q->ninfl)
		return HZ_QUEUE_OK;
	q->infl[i].acked = true;
	while (k < q->ninfl && q->infl[k].acked)
		k++;
	if (k == 0)
		return HZ_QUEUE_OK;
	if (q->infl[k - 1].id + 1 > q->floor)
		q->floor = q->infl[k - 1].id + 1;
	memmove(q->infl, q->infl + k, (q->ninfl - k) * sizeof *q->infl);
	q->ninfl -= k;
	retire_segments(q);
	return cursor_write(q);
}

void
hz_queue_rewind(hz_queue *q)
{
	if (q->ninfl == 0)
		return;
	q->rseg = q->infl[0].seg;
	q->roff = q->infl[0].off;
	for (size_t i = 0; i < q->ninfl; i++) {
		if (!q->infl[i].acked)
			continue;
		if (q->nskip == q->capskip) {
			size_t cap = q->capskip ? 2 * q->capskip : 16;
			uint64_t *n = realloc(q->skip, cap * sizeof *n);

			if (!n)
				break;  /* the acked record is sent again: harmless */
			q->skip = n;
			q->capskip = cap;
		}
		q->skip[q->nskip++] = q->infl[i].id;
	}
	q->ninfl = 0;
}

int
hz_queue_sync(hz_queue *q)
{
	int rc = HZ_QUEUE_OK;

	if (q->wfd >= 0 && fdatasync(q->wfd) != 0)
		rc = HZ_QUEUE_ERR_IO;
	if (q->cfd >= 0 && fdatasync(q->cfd) != 0)
		rc = HZ_QUEUE_ERR_IO;
	return rc;
}

void
hz_queue_get_stats(const hz_queue *q, struct hz_queue_stats *s)
{
	memset(s, 0, sizeof *s);
	s->pending = q->next_id > q->floor ? q->next_id - q->floor : 0;
	s->inflight = q->ninfl;
	s->bytes = total_bytes(q);
	s->segments = q->nseg;
	s->next_id = q->next_id;
	s->dropped = q->dropped;
	s->corrupt = q->corrupt;
	s->torn = q->torn;
}
