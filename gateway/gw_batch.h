/*
 * gw_batch.h - a batch of rows for one PostgreSQL transaction, its spool
 * record and the record read back (gw_batch.c), with the growable buffer
 * and the COPY text helpers they are built on.
 *
 * Pure: no libpq, no libevent, no log, no clock (the times come in as
 * arguments). The unit tests, the corpus replay and the fuzz target link it
 * alone.
 */
#ifndef HAZGATE_GW_BATCH_H
#define HAZGATE_GW_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ing_fix;

/* ---- growable buffer --------------------------------------------------- */

struct gw_buf {
	char *p;
	size_t len, cap;
};

/* Make room for extra more bytes. Returns 0 or -1 (out of memory). */
int gw_buf_reserve(struct gw_buf *b, size_t extra);
/* Append len bytes. Returns 0 or -1 (out of memory: b is unchanged). */
int gw_buf_add(struct gw_buf *b, const void *data, size_t len);
/* Free the bytes and leave b empty (reusable). */
void gw_buf_free(struct gw_buf *b);

/* ---- batch ------------------------------------------------------------- */

/*
 * One batch: every row that goes to PostgreSQL in one transaction. Rows
 * are kept as COPY text (positions, rejects, vehicle states) or as
 * (vehicle, JSON without its "id") pairs (alerts). The serialised form is
 * what the spool stores and what the writer sends.
 */
struct gw_batch {
	struct gw_buf pos, alerts, rejects, states;
	uint32_t npos, nalerts, nrejects, nstates;
	int64_t first_us;        /* monotonic time of the first row, 0 = empty */
};

void gw_batch_reset(struct gw_batch *b);
void gw_batch_free(struct gw_batch *b);
size_t gw_batch_bytes(const struct gw_batch *b);
bool gw_batch_empty(const struct gw_batch *b);

/* Append a row. Return 0 or -1 (out of memory: the row is not added). */
int gw_batch_add_position(struct gw_batch *b, const struct ing_fix *fix,
                          const int64_t *zone_ids, size_t nzones, int64_t received_us);
int gw_batch_add_reject(struct gw_batch *b, const char *topic, const void *payload,
                        size_t len, const char *reason, const char *message,
                        int64_t received_us);
/* json: gf_alert_format output with "id":null. */
int gw_batch_add_alert(struct gw_batch *b, const char *vehicle, const char *json, size_t len);
int gw_batch_add_state(struct gw_batch *b, const char *vehicle, int64_t last_us, double lat,
                       double lon, const uint8_t *blob, size_t bloblen, bool has_seq,
                       int64_t seq);

/* Serialise into out (replacing its contents). Returns 0 or -1. */
int gw_batch_serialize(const struct gw_batch *b, struct gw_buf *out);

/* A serialised batch read back: sections point into the record. */
struct gw_batch_view {
	uint32_t npos, nalerts, nrejects, nstates;
	const char *pos, *alerts, *rejects, *states;
	size_t pos_len, alerts_len, rejects_len, states_len;
};

/* What gw_batch_parse refuses (gw_batch_strerror names each). */
enum gw_batch_err {
	GW_BATCH_OK = 0,
	GW_BATCH_ESHORT = -1,    /* shorter than the header */
	GW_BATCH_EMAGIC = -2,    /* not "HGB1" */
	GW_BATCH_ELENGTH = -3,   /* section lengths do not sum to the record */
	GW_BATCH_EROWS = -4,     /* a count does not match its section's rows */
	GW_BATCH_EFIELDS = -5,   /* a COPY row with the wrong number of fields */
	GW_BATCH_EBYTE = -6,     /* NUL, raw CR or an escape the writer never makes */
	GW_BATCH_EALERT = -7,    /* an alert that is not (vehicle, {"id":null...) */
};

/* Fields per COPY row in each section (tabs + 1). */
#define GW_BATCH_POS_FIELDS 16
#define GW_BATCH_REJECT_FIELDS 5
#define GW_BATCH_STATE_FIELDS 6

/* Read a record back (from the spool: it may be damaged or from a buggy
 * writer). Checks the whole shape: header, lengths, every count against its
 * section, fields per row, bytes and escapes, the alert pairs; so a record
 * it accepts sends PostgreSQL exactly the rows the counts say and
 * gw_batch_next_alert yields exactly nalerts pairs. Returns GW_BATCH_OK, or
 * a negative enum gw_batch_err (v is then zeroed). Never reads outside
 * rec[0..len). */
int gw_batch_parse(const void *rec, size_t len, struct gw_batch_view *v);
const char *gw_batch_strerror(int err);

/* Walk the alerts of a view: *vehicle, *json (NUL-terminated, "id":null
 * form). off starts at 0. Returns 0 while there is one, -1 at the end. */
int gw_batch_next_alert(const struct gw_batch_view *v, size_t *off, const char **vehicle,
                        const char **json);

/* Write "YYYY-MM-DD HH:MM:SS.uuuuuu+00" (NUL-terminated, 30 bytes). */
void gw_format_ts(int64_t us, char out[32]);

/* Append s escaped for COPY text format. Returns 0 or -1 (out of memory). */
int gw_copy_escape(struct gw_buf *b, const char *s, size_t len);

#endif
