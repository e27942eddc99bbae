/*
 * gw_inbox.h - the gateway's inbox journal (gw_inbox.c): every MQTT message
 * is copied into a MAP_SHARED mapping of a journal segment the moment it
 * arrives, before it is decoded, so that a process crash (SIGKILL, a
 * segfault) loses nothing that libmosquitto has already acknowledged: the
 * kernel keeps the mapped pages of a dead process and writes them out.
 *
 * Segments: <dir>/NNNNNNNNNNNNNNNNNNNN.jnl (20 decimal digits, a slot
 * number), each made with posix_fallocate (a full disk is an error here,
 * never a SIGBUS later) and mapped whole. Its 16-byte header holds a
 * generation (0: free); segments are reused once trimmed (a few are kept),
 * so the usual put is a memcpy into pages already in memory and mapped.
 * A record is a 28-byte header (body length, CRC-32, the segment's
 * generation, the time it was received, topic length) and the body
 * (topic, payload), padded to 8 bytes; its length is stored last. A zero
 * length, a record of another generation (left by an earlier use) or a
 * bad CRC ends a segment's reading.
 *
 * Life of a message: gw_inbox_put at arrival; when the batch its rows went
 * into is sealed, gw_inbox_cut starts a new segment and returns its
 * generation; once that batch is in the spool, gw_inbox_trim(gen) removes
 * every older segment. What a crash leaves is replayed at the next start
 * (gw_inbox_replay: the segments found at open, oldest first); a message
 * both in the spool and in the journal is processed twice, which the
 * database's keys absorb.
 *
 * Durability: the journal is never synced. A process crash keeps every
 * record put; a machine crash keeps what the spool synced (the spool's
 * fsync policy) and may lose the journal's pages not yet written back.
 *
 * Not thread-safe; one inbox per directory (the caller holds the spool's
 * lock). No libevent, libpq or logging: errors are returned.
 */
#ifndef HAZGATE_GW_INBOX_H
#define HAZGATE_GW_INBOX_H

#include <stddef.h>
#include <stdint.h>

struct gw_inbox;

/* Return codes. */
enum gw_inbox_err {
	GW_INBOX_OK = 0,
	GW_INBOX_ERR_IO = -1,      /* a system call failed: errno says which */
	GW_INBOX_ERR_NOMEM = -2,
	GW_INBOX_ERR_TOO_BIG = -3  /* a message larger than GW_INBOX_MSG_MAX */
};

/* The largest topic + payload a record takes (larger ones are not journaled). */
#define GW_INBOX_MSG_MAX (256u << 20)

/* Open (creating it) the journal in DIR with segments of SEG_BYTES (at
 * least 64 KiB; a larger message gets a segment of its own size). The
 * segments found there are kept for gw_inbox_replay; the new ones follow
 * them. Returns GW_INBOX_OK (*out owns the inbox: gw_inbox_free),
 * _ERR_IO or _ERR_NOMEM. */
int gw_inbox_open(struct gw_inbox **out, const char *dir, size_t seg_bytes);

/* Unmap and close; the current segment is removed when it holds nothing. */
void gw_inbox_free(struct gw_inbox *ib);

/* Copy one message into the journal (a new segment when the current one is
 * full). The bytes are borrowed. Returns GW_INBOX_OK, _ERR_IO (no segment
 * could be made: the message is not journaled), _ERR_NOMEM or _ERR_TOO_BIG. */
int gw_inbox_put(struct gw_inbox *ib, const char *topic, const void *payload, size_t len,
                 int64_t recv_us);

/* Every message put so far belongs to batches sealed now: start a new
 * segment (unless the current one is empty) and return its generation, the
 * bound to pass to gw_inbox_trim once those batches are safe. */
uint64_t gw_inbox_cut(struct gw_inbox *ib);

/* Remove the segments older than generation BELOW (best effort). */
void gw_inbox_trim(struct gw_inbox *ib, uint64_t below);

/* Called for each record replayed: its topic (NUL-terminated copy),
 * payload and receive time, borrowed for the call. */
typedef void (*gw_inbox_fn)(void *arg, const char *topic, const void *payload, size_t len,
                            int64_t recv_us);

/* Hand every record of the segments found at open to FN, oldest first (FN
 * may put them again and trim: the segments read stay readable until the
 * call returns). Returns the records handed over; *torn (may be NULL) gets
 * the segments whose reading ended on a damaged record. Done once: a
 * second call hands over nothing. */
size_t gw_inbox_replay(struct gw_inbox *ib, gw_inbox_fn fn, void *arg, size_t *torn);

/* Segments on disk now (the current one included). */
size_t gw_inbox_segments(const struct gw_inbox *ib);

const char *gw_inbox_strerror(int err);

#endif
