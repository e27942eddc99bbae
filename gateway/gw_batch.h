/*
 * gw_batch.h - a batch of rows for one PostgreSQL transaction and its spool
 * record (gw_batch.c), the record read back and the previous format's
 * alerts converted (gw_batch_read.c), with the growable buffer and the
 * COPY text helpers they are built on.
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
#include <sys/uio.h>

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
 * One batch: every row that goes to PostgreSQL in one transaction, kept as
 * COPY text per table: positions, alerts (the alerts table's columns and
 * the alert's JSON for MQTT and NOTIFY), rejects, vehicle states. Its spool
 * record is a header and the four sections as they lie (gw_batch_pieces);
 * the writer COPYs each section straight from the record it reads back.
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

/* One alert as the batch stores it. Strings are borrowed for the call. */
struct gw_alert_row {
	const char *kind, *severity, *vehicle;
	const char *zone_name;   /* NULL: null (no zone, or a zone without a name) */
	/* gf_alert_format's text with "id":null. zone_id, ts, lat, lon,
	 * speed_kmh and detail are taken from it as it writes them (ts in
	 * milliseconds, 7 and 2 decimals), so the table holds exactly what is
	 * published; a member it lacks is stored as null (detail as {}).
	 * What follows "id":null is the JSON's tail, to which the writer's
	 * statement prefixes the id. */
	const char *json;
	size_t json_len;
};

/* Append a row. Return 0 or -1 (out of memory, or an alert's json does
 * not start {"id":null: the row is not added). */
int gw_batch_add_position(struct gw_batch *b, const struct ing_fix *fix,
                          const int64_t *zone_ids, size_t nzones, int64_t received_us);
int gw_batch_add_reject(struct gw_batch *b, const char *topic, const void *payload,
                        size_t len, const char *reason, const char *message,
                        int64_t received_us);
int gw_batch_add_alert(struct gw_batch *b, const struct gw_alert_row *a);
int gw_batch_add_state(struct gw_batch *b, const char *vehicle, int64_t last_us, double lat,
                       double lon, const uint8_t *blob, size_t bloblen, bool has_seq,
                       int64_t seq);

/* The spool record's header. */
#define GW_BATCH_HDR_LEN 36
/* Pieces of a record. */
#define GW_BATCH_PIECES 5

/* The batch as its spool record, without copying it: the header is written
 * into hdr, and iov[0..4] get the header and the four sections (borrowed
 * from b, valid until it changes), for hz_queue_appendv. */
void gw_batch_pieces(const struct gw_batch *b, uint8_t hdr[GW_BATCH_HDR_LEN],
                     struct iovec iov[GW_BATCH_PIECES]);
/* The record in one buffer (replacing out's contents): the pieces
 * gathered, for tests and tools. Returns 0 or -1 (out of memory). */
int gw_batch_serialize(const struct gw_batch *b, struct gw_buf *out);

/*
 * A serialised batch read back: sections point into the record. version 3
 * ("HGB3", this build's): every section is COPY text, the positions as rows
 * of GW_BATCH_POS_FIELDS columns, the alerts of GW_BATCH_ALERT_FIELDS.
 * version 2 ("HGB2", the builds before positions.alarms): positions rows
 * of GW_BATCH_POS_FIELDS_V2 columns (no alarms), which
 * gw_batch_old_positions() completes. version 1 ("HGB1", older still): as
 * version 2, and the alerts are (vehicle, JSON with "id":null) pairs, each
 * NUL terminated, which gw_batch_v1_alerts() turns into rows.
 */
struct gw_batch_view {
	int version;
	uint32_t npos, nalerts, nrejects, nstates;
	const char *pos, *alerts, *rejects, *states;
	size_t pos_len, alerts_len, rejects_len, states_len;
};

/* What gw_batch_parse refuses (gw_batch_strerror names each). */
enum gw_batch_err {
	GW_BATCH_OK = 0,
	GW_BATCH_ESHORT = -1,    /* shorter than the header */
	GW_BATCH_EMAGIC = -2,    /* not "HGB2" or "HGB1" */
	GW_BATCH_ELENGTH = -3,   /* section lengths do not sum to the record */
	GW_BATCH_EROWS = -4,     /* a count does not match its section's rows */
	GW_BATCH_EFIELDS = -5,   /* a COPY row with the wrong number of fields */
	GW_BATCH_EBYTE = -6,     /* NUL, raw CR or an escape the writer never makes */
	GW_BATCH_EALERT = -7,    /* an alert that is not as the writer makes it */
	GW_BATCH_ENOMEM = -8,    /* gw_batch_v1_alerts only: out of memory */
};

/* Fields per COPY row in each section (tabs + 1). The alerts' are kind,
 * severity, vehicle, zone_id, zone_name, ts, lat, lon, speed_kmh, detail,
 * and the JSON's tail (after "id":null, starting ',' and ending '}'). */
#define GW_BATCH_POS_FIELDS 17
#define GW_BATCH_POS_FIELDS_V2 16   /* versions 1 and 2: without alarms */
#define GW_BATCH_ALERT_FIELDS 11
#define GW_BATCH_REJECT_FIELDS 5
#define GW_BATCH_STATE_FIELDS 6

/* Read a record back (from the spool: it may be damaged or from a buggy
 * writer). Checks the whole shape: header, lengths, every count against its
 * section, fields per row, bytes and escapes, the alerts (a vehicle and
 * the JSON's tail; in version 1 the pairs); so a record it accepts sends
 * PostgreSQL exactly the rows the counts say. Returns GW_BATCH_OK, or a
 * negative enum gw_batch_err (v is then zeroed). Never reads outside
 * rec[0..len). */
int gw_batch_parse(const void *rec, size_t len, struct gw_batch_view *v);
const char *gw_batch_strerror(int err);

/* Walk the alerts of a version 1 view: *vehicle, *json (NUL-terminated,
 * "id":null form). off starts at 0. Returns 0 while there is one, -1 at
 * the end (at once for a version 2 view). */
int gw_batch_next_alert(const struct gw_batch_view *v, size_t *off, const char **vehicle,
                        const char **json);

/* A version 1 view's alerts as version 2 COPY rows, appended to out
 * (jansson reads each JSON): the columns the previous
 * build's statement read from it (j->>'kind', ..., coalesce(j->'detail',
 * '{}')), the same values, and its tail as it was. Returns GW_BATCH_OK,
 * GW_BATCH_EALERT (a JSON that is not an object of those members: out is
 * then as it was) or GW_BATCH_ENOMEM. */
int gw_batch_v1_alerts(const struct gw_batch_view *v, struct gw_buf *out);

/* A version 1 or 2 view's positions as version 3 rows (alarms \N, NULL),
 * appended to out. Returns GW_BATCH_OK or GW_BATCH_ENOMEM (out is then as
 * it was). */
int gw_batch_old_positions(const struct gw_batch_view *v, struct gw_buf *out);

/* Write "YYYY-MM-DD HH:MM:SS.uuuuuu+00" (NUL-terminated, 30 bytes): what
 * hz_time_format(us, HZ_TIME_PG, out) writes. Keeps the last day's date
 * (one thread). */
void gw_format_ts(int64_t us, char out[32]);

/* v in decimal, exactly as snprintf's "%" PRId64 writes it (no NUL);
 * returns its length, at most 20. */
size_t gw_format_i64(int64_t v, char out[20]);

/* Append s escaped for COPY text format. Returns 0 or -1 (out of memory). */
int gw_copy_escape(struct gw_buf *b, const char *s, size_t len);

/* The largest NOTIFY payload PostgreSQL takes is 7999 bytes. */
#define GW_POS_NOTIFY_MAX 7999

/*
 * The positions of a COPY section (pos, len: rows as
 * gw_batch_add_position writes them) as the payloads of NOTIFY
 * hazgate_positions (hazgate-web's live positions, web/README.md),
 * appended to out: one line per row, "vehicle\tts\tlat\tlon\tspeed_kmh
 * \theading\tzone_ids" (vehicle COPY-escaped as stored, ts RFC 3339 with
 * milliseconds, a missing number as \N, zone ids comma-separated), lines
 * joined by '\n', payloads of at most GW_POS_NOTIFY_MAX bytes separated by
 * an empty line ("\n\n"). *payload is the offset in out where the current
 * payload starts (0 when out is empty); call it again for the next
 * section. A row that alone exceeds the limit (thousands of zones) is left
 * out. Returns 0, or -1 out of memory (out is then partly written).
 */
int gw_batch_pos_notify(struct gw_buf *out, size_t *payload, const char *pos, size_t len);

#endif
