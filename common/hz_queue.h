/*
 * hz_queue.h - a durable, bounded, append-only FIFO of opaque records on disk.
 *
 * Store-and-forward for hazgate-tracker (and anything else that must not lose
 * what it has accepted while its peer is away): every record is appended to a
 * segment file in a directory before it is sent, and leaves the queue only
 * when the caller acknowledges it.  Self-contained: no dependency on the rest
 * of the tracker, on libevent or on a logging library (a callback receives
 * the log lines).
 *
 * Layout of DIR:
 *   NNNNNNNNNNNNNNNNNNNN.seg  segments, named by the id of their first record
 *                              (20 decimal digits, so names sort by id)
 *   cursor                     two 40-byte slots, written alternately, each
 *                              with a generation and a CRC: "every id below
 *                              FLOOR is acknowledged", and the next id
 * A record is a 20-byte header (magic "TQR1", payload length, 64-bit id,
 * CRC-32 of length, id and payload; little-endian) and the payload.  Ids
 * start at 1, grow by one per append and are never reused, also across
 * restarts, so callers may use them as message sequence numbers.
 *
 * Recovery on open: a record cut short at the end of the newest segment (a
 * power cut during append) is cut off the file and counted as torn; it is
 * never returned.  A damaged record elsewhere (bad CRC, bad header) is
 * skipped when reading reaches it: the reader looks for the next valid
 * header, logs the skipped bytes and counts the record as corrupt.
 *
 * Bound: the segments together stay under max_bytes.  When an append would
 * pass it, whole segments are removed oldest first; records not yet
 * acknowledged in them are counted as dropped (by id range).
 *
 * Sending: hz_queue_next() hands out records in id order and marks them in
 * flight; hz_queue_ack() retires one (acks may come out of order);
 * hz_queue_rewind() (after the link dropped) starts again at the oldest
 * record not yet acknowledged.  After a crash, records sent but whose ack
 * had not been written to the cursor are sent again: at-least-once.
 *
 * Limits: one queue per directory at a time (enforced with flock on the
 * cursor file: a second hz_queue_open fails with HZ_QUEUE_ERR_BUSY);
 * records up to max_record bytes; not thread-safe.
 */
#ifndef HAZGATE_HZ_QUEUE_H
#define HAZGATE_HZ_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

typedef struct hz_queue hz_queue;

/* Return codes.  Negative values are errors; errno is left as the failing
 * system call set it for HZ_QUEUE_ERR_IO. */
enum hz_queue_err {
	HZ_QUEUE_OK = 0,
	HZ_QUEUE_EMPTY = 1,            /* hz_queue_next: nothing left to send */
	HZ_QUEUE_ERR_IO = -1,          /* a system call failed */
	HZ_QUEUE_ERR_NOMEM = -2,       /* out of memory */
	HZ_QUEUE_ERR_TOO_BIG = -3,     /* record larger than max_record */
	HZ_QUEUE_ERR_INVAL = -4,       /* bad argument or option */
	HZ_QUEUE_ERR_BUSY = -5         /* another process has the directory open */
};

enum hz_queue_fsync {
	HZ_QUEUE_FSYNC_ALWAYS = 0,     /* fdatasync after every append and ack */
	HZ_QUEUE_FSYNC_MANUAL = 1,     /* only when the caller calls hz_queue_sync */
	HZ_QUEUE_FSYNC_NEVER = 2       /* leave it to the kernel */
};

enum hz_queue_level {
	HZ_QUEUE_LOG_INFO = 0,
	HZ_QUEUE_LOG_WARN = 1,
	HZ_QUEUE_LOG_ERROR = 2
};

/* Log callback: event is a short token ("corrupt_record"), detail a string
 * of key=value pairs.  Both are borrowed for the duration of the call. */
typedef void (*hz_queue_log_fn)(void *arg, enum hz_queue_level level,
                                 const char *event, const char *detail);

struct hz_queue_options {
	uint64_t max_bytes;             /* bound of all segments; default 64 MiB */
	uint64_t segment_bytes;         /* roll over at this size; default 1 MiB,
	                                   at most max_bytes / 4 */
	uint32_t max_record;            /* largest payload; default 65536 */
	enum hz_queue_fsync fsync;     /* default HZ_QUEUE_FSYNC_MANUAL */
	hz_queue_log_fn log;           /* may be NULL */
	void *log_arg;
};

struct hz_queue_stats {
	uint64_t pending;       /* appended, not yet acknowledged (by id range) */
	uint64_t inflight;      /* handed out by hz_queue_next, not acked */
	uint64_t bytes;         /* size of all segment files */
	uint64_t segments;
	uint64_t next_id;       /* id the next append gets */
	uint64_t dropped;       /* unacked records removed by the bound */
	uint64_t corrupt;       /* damaged regions skipped while reading */
	uint64_t torn;          /* torn tails cut off at open */
};

/* Fill *o with the defaults above. */
void hz_queue_options_init(struct hz_queue_options *o);

/* Open (creating DIR and its parents if needed) the queue in DIR; recovers
 * as described above.  On success *out owns the queue; free it with
 * hz_queue_free.  Returns HZ_QUEUE_OK, HZ_QUEUE_ERR_IO, _NOMEM, _INVAL
 * or _BUSY. */
int hz_queue_open(hz_queue **out, const char *dir,
                   const struct hz_queue_options *o);

/* Close the files (after a final sync unless fsync is NEVER) and free. */
void hz_queue_free(hz_queue *q);

/* The id that the next hz_queue_append will assign. */
uint64_t hz_queue_next_id(const hz_queue *q);

/* Append LEN bytes as one record; *id (may be NULL) gets its id.
 * May drop the oldest segments to respect max_bytes.
 * Returns HZ_QUEUE_OK, _ERR_TOO_BIG, _ERR_IO or _ERR_NOMEM. */
int hz_queue_append(hz_queue *q, const void *data, size_t len, uint64_t *id);

/* Pieces hz_queue_appendv takes at most. */
#define HZ_QUEUE_IOV_MAX 16

/* As hz_queue_append, the record being the IOVCNT pieces of IOV one after
 * the other (borrowed: nothing is copied; the CRC runs over the pieces and
 * the header and pieces go to the file in one writev(2), so a crash still
 * tears at most the tail).  Returns HZ_QUEUE_OK, _ERR_TOO_BIG, _ERR_IO,
 * _ERR_NOMEM, or _ERR_INVAL when IOVCNT is outside 0..HZ_QUEUE_IOV_MAX. */
int hz_queue_appendv(hz_queue *q, const struct iovec *iov, int iovcnt, uint64_t *id);

/* The next record to send, in id order; it becomes in flight.  *data is
 * borrowed: valid until the next call on Q.
 * Returns HZ_QUEUE_OK, HZ_QUEUE_EMPTY, _ERR_IO or _ERR_NOMEM. */
int hz_queue_next(hz_queue *q, uint64_t *id, const void **data, size_t *len);

/* As hz_queue_next, but the record is read into a buffer of its own, which
 * stays valid and in place until hz_queue_release() or hz_queue_free(): a
 * caller can gather several records and send them without copying them.
 * Rewind and ack do not release.  The buffers are kept for reuse.
 * Returns HZ_QUEUE_OK, HZ_QUEUE_EMPTY, _ERR_IO or _ERR_NOMEM (nothing
 * handed out then). */
int hz_queue_next_keep(hz_queue *q, uint64_t *id, const void **data, size_t *len);

/* Let go of every record hz_queue_next_keep handed out (the pointers die). */
void hz_queue_release(hz_queue *q);

/* The peer acknowledged record ID.  Unknown ids (dropped, or never handed
 * out) are ignored.  Returns HZ_QUEUE_OK or _ERR_IO (cursor write). */
int hz_queue_ack(hz_queue *q, uint64_t id);

/* Forget what is in flight: the next hz_queue_next starts again at the
 * oldest record not acknowledged (acked ones are not repeated). */
void hz_queue_rewind(hz_queue *q);

/* fdatasync the newest segment and the cursor.  Returns _OK or _ERR_IO. */
int hz_queue_sync(hz_queue *q);

void hz_queue_get_stats(const hz_queue *q, struct hz_queue_stats *s);

/* Static English text for a return code. */
const char *hz_queue_strerror(int err);

#endif
