/*
 * gw_writer.c - the spool and its writer.
 *
 * A sealed batch is appended to the on-disk spool (the common queue,
 * common/hz_queue.h: the pipeline's write-ahead log) when there is room;
 * without room MQTT reading pauses (the broker keeps the messages) until a
 * commit frees some. The writer takes spool records in order, as many as
 * wait (group commit, GW_GROUP_*), and writes them in one transaction:
 * positions by COPY straight into the table, in PostgreSQL's binary COPY
 * format (gw_copybin.c converts the spool's COPY text as the group is
 * taken: the server runs no text input function per fix; a group it
 * cannot convert goes as text); a group holding a row that is
 * already there fails with unique_violation and is written again by COPY
 * into a temporary staging table and INSERT ... SELECT ... ON CONFLICT DO
 * NOTHING. After COMMIT the records are acknowledged, and only then are the
 * new alerts published (gw_outbox.c: their outbox rows are written by the
 * same transaction, and deleted by a later one once the broker has
 * acknowledged them). A record the batch parser refuses is set aside as
 * a file and skipped; one the server refuses retry_limit times, skipped.
 * A record written twice (crash after COMMIT, before the acknowledgement)
 * adds nothing: positions and alerts have unique keys.
 *
 * Alerts go as the alerts table's columns with the tail of their JSON, one
 * array parameter a column (gw_copyarr.c turns the COPY section into them):
 * one prepared INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING
 * writes them, writes their outbox rows and returns the new ones' JSON with
 * their id, which pg_notify sent and MQTT publishes as is after COMMIT.
 * Vehicle states the same way (one prepared upsert); rejects by COPY
 * straight into their table. No temporary table is touched on this path,
 * so COMMIT has none to empty (PostgreSQL empties every ON COMMIT DELETE
 * ROWS table of a transaction that used any temporary table: issue 15
 * measured it at 13-21 % of the database's CPU). Every statement with
 * parameters is prepared once per connection (net_pg: a step's name). A
 * record of the previous format ("HGB1", alerts as JSON) has its alerts
 * converted as it is read (gw_batch_v1_alerts).
 *
 * Copies: a batch's COPY text goes to the spool file from the batch's own
 * buffers (hz_queue_appendv: header and sections in one writev), comes
 * back by pread into a buffer per record (hz_queue_next_keep), and its
 * sections go to libpq as they lie there, record by record (a COPY step's
 * list of pieces); libpq's output buffer is the one copy made in memory,
 * but for the positions, which are converted once into binary (wconv).
 *
 * The committed positions are announced to hazgate-web in the same
 * transaction (delivered at COMMIT, never for a rolled-back one): NOTIFY
 * hazgate_positions with a few fields per row, built from the COPY
 * sections (gw_batch_pos_notify), up to 7999 bytes a payload, all sent by
 * one statement. A board never reads the positions table for them.
 *
 * The SIGTERM drain ends here (gw_drain_check) once the spool is written.
 */
#include "gateway/gateway-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/hz_clock.h"
#include "common/hz_file.h"
#include "gateway/gw_batch.h"
#include "gateway/gw_copybin.h"
#include "gateway/gw_inbox.h"
#include "common/hz_log.h"
#include "gateway/gw_metrics.h"
#include "net/net_mqtt.h"
#include "net/net_pg.h"
#include "ingest/ingest.h"
#include "common/hz_queue.h"

/* ---- SQL ---------------------------------------------------------------- */

/* The positions go in PostgreSQL's binary COPY format (gw_copybin.c: no
 * text input functions in the server, issue 15); a group the converter
 * refuses goes as the spool holds it, COPY text (the *_text forms). */
#define GW_POS_COLS "(vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un," \
	" hazard_class, seq, ignition, zone_ids, received_at, alarms)"
#define GW_COPY_BINARY " FROM STDIN WITH (FORMAT binary)"
static const char sql_copy_pos[] = "COPY hg_pos " GW_POS_COLS GW_COPY_BINARY;
static const char sql_copy_pos_text[] = "COPY hg_pos " GW_POS_COLS " FROM STDIN";
/* The fast path: straight into the row tier of positions (schema/012:
 * positions_recent; closed days are compacted into slices). A batch with a
 * row already there (a replay, a redelivery) fails with unique_violation
 * and is written again through the staging table. A fix of a day already
 * compacted lands in the default partition, whose trigger
 * (hazgate_positions_late) drops it if a slice holds the same fix and
 * keeps it in rejects (duplicate_ts) if the slice's differs. */
static const char sql_copy_pos_direct[] = "COPY positions_recent " GW_POS_COLS GW_COPY_BINARY;
static const char sql_copy_pos_direct_text[] = "COPY positions_recent " GW_POS_COLS " FROM STDIN";
static const char sql_insert_pos[] =
	"INSERT INTO positions_recent (vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix,"
	" sats,"
	" un, hazard_class, seq, ignition, zone_ids, received_at, alarms)"
	" SELECT vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un,"
	" hazard_class, seq, ignition, zone_ids, received_at, alarms FROM hg_pos"
	" ON CONFLICT DO NOTHING";
/* Before the staging table's INSERT (a batch with a key already there, or
 * twice in it): each such fix is compared with the stored one (with the
 * first of the batch for a later copy), on every value of the fix (not the
 * zones it was found in, nor when it was received). The same values: a
 * duplicate (a redelivery), counted. Other values: a rejects row, reason
 * duplicate_ts, with the fix as JSON; the first stored stays. Returns
 * (duplicates, rejects). The stored rows come through
 * hazgate_positions_stored() (migration 008): the role has no SELECT on
 * positions. */
#define GW_FIX_COLS(t) "(" t ".lat, " t ".lon, " t ".speed_kmh, " t ".heading, " t ".alt_m, " \
	t ".hdop, " t ".fix, " t ".sats, " t ".un, " t ".hazard_class, " t ".seq, " t ".ignition, " \
	t ".alarms)"
static const char sql_dup_pos[] =
	"WITH h AS (SELECT *, row_number() OVER (PARTITION BY vehicle, ts ORDER BY ctid) AS rn"
	"  FROM hg_pos),"
	" k AS (SELECT array_agg(vehicle) AS v, array_agg(ts) AS t FROM h WHERE rn = 1),"
	" s AS (SELECT p.* FROM k, hazgate_positions_stored(k.v, k.t) p),"
	" d AS (SELECT h.*, " GW_FIX_COLS("f") " IS NOT DISTINCT FROM " GW_FIX_COLS("h") " AS same,"
	"   f.lat AS slat, f.lon AS slon"
	"   FROM h JOIN h f ON f.vehicle = h.vehicle AND f.ts = h.ts AND f.rn = 1 WHERE h.rn > 1"
	"  UNION ALL"
	"  SELECT h.*, " GW_FIX_COLS("s") " IS NOT DISTINCT FROM " GW_FIX_COLS("h") ","
	"   s.lat, s.lon FROM h JOIN s ON s.vehicle = h.vehicle AND s.ts = h.ts WHERE h.rn = 1),"
	" r AS (INSERT INTO rejects (topic, payload, reason, message, received_at)"
	"  SELECT '', convert_to(json_build_object('vehicle', vehicle, 'ts', ts, 'lat', lat,"
	"   'lon', lon, 'speed_kmh', speed_kmh, 'heading', heading, 'alt_m', alt_m, 'hdop', hdop,"
	"   'fix', fix, 'sats', sats, 'un', un, 'hazard_class', hazard_class, 'seq', seq,"
	"   'ignition', ignition, 'alarms', alarms)::text, 'UTF8'), 'duplicate_ts',"
	"   format('a fix of %s at %s is already stored with other values (stored lat %s lon %s,"
	" this one lat %s lon %s)', vehicle, ts, slat, slon, lat, lon), received_at"
	"  FROM d WHERE NOT same RETURNING 1)"
	" SELECT count(*) FILTER (WHERE same), (SELECT count(*) FROM r) FROM d";
/* The alerts arrive as the table's columns, one array a column (their
 * position in the arrays, ord, is batch order), with the tail of their
 * JSON; the JSON with the new id is made here once: written into the alert
 * outbox with the alert (gw_outbox.c: published until the broker's
 * PUBACK), sent by pg_notify (delivered at COMMIT) and returned, in batch
 * order, for MQTT. Only new alerts come back. An alert is known by the
 * table's unique key (schema/009_rules.sql: vehicle, ts, kind, zone and,
 * for terminal alarms, the alarm's name). A NOTIFY payload must be
 * shorter than 8000 bytes: a longer alert is announced as {"id":N}
 * (listeners read the row). */
#define GW_ALERT_COLS 11
static const char sql_insert_alert[] =
	"WITH a AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[],"
	"  $5::text[], $6::timestamptz[], $7::float8[], $8::float8[], $9::real[], $10::jsonb[],"
	"  $11::text[]) WITH ORDINALITY AS a(kind, severity, vehicle, zone_id, zone_name, ts, lat,"
	"  lon, speed_kmh, detail, tail, ord)),"
	" ins AS (INSERT INTO alerts (kind, severity, vehicle, zone_id, zone_name, ts, lat,"
	"  lon, speed_kmh, detail)"
	"  SELECT kind, severity, vehicle, zone_id, zone_name, ts, lat, lon, speed_kmh, detail"
	"  FROM a ORDER BY ord ON CONFLICT DO NOTHING"
	"  RETURNING id, kind, vehicle, zone_id, ts, detail->>'alarm' AS alarm),"
	" n AS (SELECT ins.id, a.vehicle, a.ord, '{\"id\":' || ins.id || a.tail AS payload"
	"  FROM ins JOIN a ON a.kind = ins.kind AND a.vehicle = ins.vehicle"
	"   AND a.ts = ins.ts AND a.zone_id IS NOT DISTINCT FROM ins.zone_id"
	"   AND a.detail->>'alarm' IS NOT DISTINCT FROM ins.alarm),"
	" ob AS (INSERT INTO alert_outbox (alert_id, vehicle, payload)"
	"  SELECT id, vehicle, payload FROM n)"
	" SELECT vehicle, payload, pg_notify('hazgate_alerts', CASE WHEN octet_length(payload) < 8000"
	"  THEN payload ELSE '{\"id\":' || id || '}' END)"
	" FROM (SELECT id, vehicle, payload FROM n ORDER BY ord) s";
/* $1: the payloads, separated by empty lines (gw_batch_pos_notify). */
static const char sql_notify_pos[] =
	"SELECT pg_notify('hazgate_positions', p) FROM unnest(string_to_array($1, E'\\n\\n')) p";
static const char sql_copy_rejects[] =
	"COPY rejects (topic, payload, reason, message, received_at) FROM STDIN";
/* The states, one array a column (vehicle, last_ts, lat, lon, state,
 * last_seq); a vehicle's latest wins, an older one than stored changes
 * nothing. */
#define GW_STATE_COLS 6
static const char sql_upsert_state[] =
	"INSERT INTO vehicle_state AS v (vehicle, last_ts, lat, lon, state, last_seq, updated_at)"
	" SELECT DISTINCT ON (vehicle) vehicle, last_ts, lat, lon, state, last_seq, now()"
	" FROM unnest($1::text[], $2::timestamptz[], $3::float8[], $4::float8[], $5::bytea[],"
	"  $6::bigint[]) AS s(vehicle, last_ts, lat, lon, state, last_seq)"
	" ORDER BY vehicle, last_ts DESC"
	" ON CONFLICT (vehicle) DO UPDATE SET last_ts = EXCLUDED.last_ts, lat = EXCLUDED.lat,"
	"  lon = EXCLUDED.lon, state = EXCLUDED.state,"
	"  last_seq = coalesce(EXCLUDED.last_seq, v.last_seq), updated_at = EXCLUDED.updated_at"
	" WHERE v.last_ts <= EXCLUDED.last_ts";
/* A section gw_arrays refuses (not COPY text: a record damaged past its
 * CRC, a buggy writer) fails its step as the server's COPY would have
 * (bad_copy_file_format), so that the record goes the way of any record
 * the server refuses: retried alone, then set aside. */
static const char sql_bad_section[] =
	"DO $$BEGIN RAISE EXCEPTION USING ERRCODE = '22P04', MESSAGE = 'a section of the"
	" batch (alerts or vehicle states) is not COPY text of its columns'; END$$";

/* ---- spool ---------------------------------------------------------------- */

static int keep_record(struct gw *gw, const char *what, uint64_t id, const struct iovec *iov,
		       int n);

static uint64_t
spool_bytes(const struct gw *gw)
{
	struct hz_queue_stats st;

	hz_queue_get_stats(gw->spool, &st);
	return st.bytes;
}

static void
set_spool_full(struct gw *gw, bool full)
{
	if (gw->spool_full == full)
		return;
	gw->spool_full = full;
	if (full) {
		gw->m.spool_full_events++;
		hz_log(HZ_LOG_WARN, "spool_full", "bytes=%" PRIu64 " max_bytes=%" PRIu64
		       " action=\"MQTT reading paused; the broker keeps the messages\"",
		       spool_bytes(gw), gw->cfg.spool.max_bytes);
	} else {
		hz_log(HZ_LOG_INFO, "spool_room", "bytes=%" PRIu64 " action=\"MQTT reading resumed\"",
		       spool_bytes(gw));
	}
	if (gw->mqtt)
		net_mqtt_pause(gw->mqtt, full || gw->draining);
}

void
gw_spool_append(struct gw *gw)
{
	uint64_t bytes = spool_bytes(gw), need = gw_batch_bytes(&gw->sealed) + 64;
	uint8_t hdr[GW_BATCH_HDR_LEN];
	struct iovec iov[GW_BATCH_PIECES];
	int rc;

	if (!gw->held)
		return;
	if (bytes + need > gw->cfg.spool.max_bytes) {
		set_spool_full(gw, true);
		return;
	}
	/* One record, written from the batch's own buffers. */
	gw_batch_pieces(&gw->sealed, hdr, iov);
	rc = hz_queue_appendv(gw->spool, iov, GW_BATCH_PIECES, NULL);
	if (rc == HZ_QUEUE_ERR_TOO_BIG) {
		/* Batches are bounded below max_record (gw_in.c, batch_full):
		 * should one pass it all the same, keep it as a file rather
		 * than hold it (and pause reading) for good. */
		uint64_t id = hz_queue_next_id(gw->spool);

		if (keep_record(gw, "set-aside-big", id, iov, GW_BATCH_PIECES) == 0) {
			hz_log(HZ_LOG_ERROR, "batch_too_big", "bytes=%" PRIu64 " kept=\"%s/set-aside-big-%"
			       PRIu64 ".hgb\"", need, gw->cfg.spool.dir, id);
			gw->m.batches_set_aside++;
			gw->held = false;
			if (gw->inbox)
				gw_inbox_trim(gw->inbox, gw->inbox_sealed);
			return;
		}
	}
	if (rc != HZ_QUEUE_OK) {
		hz_log(HZ_LOG_ERROR, "spool_append_failed", "why=\"%s\" errno=\"%s\"",
		       hz_queue_strerror(rc), strerror(errno));
		set_spool_full(gw, true);
		return;
	}
	gw->held = false;
	gw->m.spool_appends++;
	if (gw->inbox)   /* its messages are in the spool now */
		gw_inbox_trim(gw->inbox, gw->inbox_sealed);
	set_spool_full(gw, bytes + need + 2 * gw->seal_cap > gw->cfg.spool.max_bytes);
	/* Batches are sealed in the running phase only: no replay to end here. */
	if (gw_writer_kick(gw))
		gw_drain_check(gw);
}

/* ---- records kept as files ----------------------------------------------- */

/*
 * Keep a spool record's bytes as <spool dir>/<what>-<id>.hgb (written
 * whole, synced, then renamed into place), so that a record the gateway
 * gives up on is not lost: an operator replays it by renaming it
 * replay-<id>.hgb (gw_spool_replay_files at the next start). Returns 0, or
 * -1 with errno set (the caller keeps the record in the spool).
 */
static int
keep_record(struct gw *gw, const char *what, uint64_t id, const struct iovec *iov, int n)
{
	char path[GW_PATH_MAX + 64], tmp[GW_PATH_MAX + 72];
	size_t total = 0;
	int fd, e;
	bool ok = true;

	snprintf(path, sizeof(path), "%s/%s-%" PRIu64 ".hgb", gw->cfg.spool.dir, what, id);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	/* One writev for a record; a short write is an error (no retry loop
	 * for this rare path). */
	if (writev(fd, iov, n) != (ssize_t)total || fdatasync(fd) != 0)
		ok = false;
	e = errno;
	if (close(fd) != 0 && ok) {
		ok = false;
		e = errno;
	}
	if (ok && rename(tmp, path) == 0)
		return 0;
	e = ok ? errno : e;
	(void)remove(tmp);
	errno = e;
	return -1;
}

void
gw_spool_replay_files(struct gw *gw)
{
	DIR *d = opendir(gw->cfg.spool.dir);
	struct dirent *e;
	char path[GW_PATH_MAX + 300];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		char *data;
		size_t len = 0;
		int rc = -1;

		if (strncmp(e->d_name, "replay-", 7) != 0 || l < 12 ||
		    strcmp(e->d_name + l - 4, ".hgb") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", gw->cfg.spool.dir, e->d_name);
		data = hz_file_read(path, &len);
		if (data)
			rc = hz_queue_append(gw->spool, data, len, NULL);
		if (rc == 0 && gw->cfg.spool.fsync == GW_FSYNC_ALWAYS)
			rc = hz_queue_sync(gw->spool);
		if (rc == 0 && remove(path) == 0)
			hz_log(HZ_LOG_INFO, "record_replayed", "file=%s bytes=%zu", path, len);
		else
			hz_log(HZ_LOG_ERROR, "record_replay_failed", "file=%s why=\"%s\"", path,
			       strerror(errno));
		free(data);
	}
	closedir(d);
}

/* ---- the writer ------------------------------------------------------------ */

static void
w_dup_result(void *arg, const PGresult *res)
{
	struct gw *gw = arg;
	uint64_t same, differ;

	if (PQntuples(res) != 1)
		return;
	same = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	differ = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	gw->wdup_same = same;
	gw->wdup_differ = differ;
	if (same || differ)
		hz_log(differ ? HZ_LOG_INFO : HZ_LOG_DEBUG, "duplicate_fixes", "record=%" PRIu64
		       " identical=%" PRIu64 " different=%" PRIu64 "%s", gw->wid, same, differ,
		       differ ? " action=\"stored in rejects, reason duplicate_ts\"" : "");
}

static void
w_pos_result(void *arg, const PGresult *res)
{
	struct gw *gw = arg;

	gw->m.positions_written += strtoull(PQcmdTuples((PGresult *)res), NULL, 10);
}

/* The new alerts' (vehicle, JSON) in batch order, kept in wpub (room was
 * made for them before the transaction) until COMMIT. */
static void
w_alert_result(void *arg, const PGresult *res)
{
	struct gw *gw = arg;

	for (int i = 0; i < PQntuples(res); i++) {
		size_t len = gw->wpub.len;

		if (gw_buf_add(&gw->wpub, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0) + 1) ||
		    gw_buf_add(&gw->wpub, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1) + 1)) {
			gw->wpub.len = len;
			gw->m.alerts_publish_failed++;
			hz_log(HZ_LOG_ERROR, "alert_publish_failed", "why=\"out of memory\""
			       " action=\"kept in the outbox for the replay\"");
			gw->ob.replay_due = true;   /* this alert, and those after it */
			continue;
		}
		gw->npub++;
	}
}

static void
w_done(void *arg, int err, const char *msg)
{
	struct gw *gw = arg;

	gw->writing = false;
	gw_outbox_clear_end(gw, err == NET_PG_OK);
	if (err == NET_PG_EDUP && !gw->wstaging) {
		/* Some rows are already stored: write it again, de-duplicated. */
		hz_queue_rewind(gw->spool);
		gw->staged_id = gw->wid;
		gw->m.batches_deduplicated++;
		event_active(gw->ev_kick, EV_TIMEOUT, 0);
		return;
	}
	if (err == NET_PG_OK) {
		if (!gw->wstaging)   /* else counted by w_pos_result */
			gw->m.positions_written += gw->wnpos;
		double secs = (double)(hz_mono_us() - gw->wstart_us) / 1e6;

		gw_hist_observe(&gw->m.commit_seconds, secs);
		gw->m.batches_committed += gw->nwids;
		gw->m.transactions_committed++;
		gw->m.rejects_written += gw->wnrejects + gw->wdup_differ;
		gw->m.positions_duplicate += gw->wdup_same;
		gw->m.positions_duplicate_ts += gw->wdup_differ;
		gw->wfails = 0;
		if (gw->wsingle)
			gw->wsingle--;
		for (size_t i = 0; i < gw->nwids; i++)
			hz_queue_ack(gw->spool, gw->wids[i]);
		gw_outbox_committed(gw, gw->wpub.p, gw->npub);
		if (gw->spool_full)
			gw_spool_append(gw);
		if (gw->spool_full && !gw->held &&
		    spool_bytes(gw) + 2 * gw->seal_cap <= gw->cfg.spool.max_bytes)
			set_spool_full(gw, false);
		event_active(gw->ev_kick, EV_TIMEOUT, 0);
		return;
	}
	hz_queue_rewind(gw->spool);
	if (err == NET_PG_ESQL && gw_cluster_fence_failed(gw, msg)) {
		/* A partition's lock is gone: written again once the claims
		 * are checked (not a failure of the record). */
		struct timeval tv = { 0, 200000 };

		event_add(gw->ev_retry, &tv);
		return;
	}
	if (err == NET_PG_ELINK) {
		hz_log(HZ_LOG_WARN, "batch_deferred", "record=%" PRIu64 " why=\"%s\"", gw->wid, msg);
		gw_drain_check(gw);
		return;   /* gw_on_pg_ready kicks the writer again */
	}
	gw->m.batches_failed++;
	if (gw->nwids > 1) {
		/* Which record is bad is not known: take the group's records
		 * again one by one (each its own transaction), right away;
		 * only a single record's failures count toward retry_limit. */
		hz_log(HZ_LOG_WARN, "group_failed", "record=%" PRIu64 " records=%zu why=\"%s\""
		       " action=\"retry one by one\"", gw->wid, gw->nwids, msg);
		gw->wsingle = gw->nwids;
		event_active(gw->ev_kick, EV_TIMEOUT, 0);
		return;
	}
	if (++gw->wfails >= gw->cfg.postgres.retry_limit) {
		/* The one record of this transaction: kept as a file, then
		 * skipped (the next record is the one that failed). */
		uint64_t id;
		const void *data;
		size_t len;

		if (hz_queue_next(gw->spool, &id, &data, &len) != HZ_QUEUE_OK || id != gw->wid ||
		    keep_record(gw, "set-aside", id,
				&(struct iovec){ (void *)data, len }, 1) != 0) {
			/* Not kept: it stays in the spool, tried again later. */
			hz_queue_rewind(gw->spool);
			hz_log(HZ_LOG_ERROR, "batch_failed", "record=%" PRIu64 " attempt=%d why=\"%s\""
			       " action=\"kept in the spool: no copy could be made\"", gw->wid,
			       gw->wfails, msg);
		} else {
			hz_log(HZ_LOG_ERROR, "batch_set_aside", "record=%" PRIu64 " positions=%u"
			       " alerts=%u rejects=%u why=\"%s\" kept=\"%s/set-aside-%" PRIu64 ".hgb\"",
			       gw->wid, gw->wnpos, gw->wnalerts, gw->wnrejects, msg,
			       gw->cfg.spool.dir, id);
			gw->m.batches_set_aside++;
			hz_queue_ack(gw->spool, id);
			if (gw->wsingle)
				gw->wsingle--;
			gw->wfails = 0;
			event_active(gw->ev_kick, EV_TIMEOUT, 0);
			return;
		}
	} else {
		hz_log(HZ_LOG_ERROR, "batch_failed", "record=%" PRIu64 " attempt=%d why=\"%s\"",
		       gw->wid, gw->wfails, msg);
	}
	{
		struct timeval tv = { 1, 0 };

		event_add(gw->ev_retry, &tv);
	}
}

/* Set-aside records kept at most: a failing disk or a buggy build can make
 * every record unreadable, and copies without a bound would fill the disk
 * the spool needs. The first ones tell the story. */
#define GW_UNREADABLE_KEEP 64
#define GW_STR_(x) #x
#define GW_STR(x) GW_STR_(x)

/* How many unreadable-*.hgb files the spool folder holds (this rare path
 * only; the folder holds a few segment files besides). */
static unsigned
count_set_aside(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);

		if (strncmp(e->d_name, "unreadable-", 11) == 0 && l > 15 &&
		    strcmp(e->d_name + l - 4, ".hgb") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/*
 * A spool record gw_batch_parse refuses (damaged on disk past the CRC, or
 * written by a buggy build): never sent to PostgreSQL. Its bytes are kept
 * as <spool dir>/unreadable-<id>.hgb for a post-mortem (best effort: the
 * spool's own files end in .seg; at most GW_UNREADABLE_KEEP of them), it
 * is counted and logged, and the spool moves on.
 */
static void
set_aside_record(struct gw *gw, uint64_t id, const void *data, size_t len, int why)
{
	char path[GW_PATH_MAX + 48];
	const char *kept = "no";
	FILE *fp;

	snprintf(path, sizeof(path), "%s/unreadable-%" PRIu64 ".hgb", gw->cfg.spool.dir, id);
	if (count_set_aside(gw->cfg.spool.dir) >= GW_UNREADABLE_KEEP) {
		kept = "no (" GW_STR(GW_UNREADABLE_KEEP) " kept already)";
	} else if ((fp = fopen(path, "wbx")) != NULL) {
		bool ok = fwrite(data, 1, len, fp) == len;

		if (fclose(fp) == 0 && ok)
			kept = path;
		else
			(void)remove(path);
	}
	gw->m.records_unreadable++;
	hz_log(HZ_LOG_ERROR, "spool_record_unreadable", "record=%" PRIu64 " bytes=%zu why=\"%s\""
	       " kept=\"%s\"", id, len, gw_batch_strerror(why), kept);
	hz_queue_ack(gw->spool, id);
}

/* The group's sections as COPY pieces, record by record (a version 1
 * record's alerts and a version 1 or 2 record's positions from wconv,
 * which no longer moves). */
static void
group_chunks(struct gw *gw)
{
	memset(gw->nwchunks, 0, sizeof(gw->nwchunks));
	for (size_t i = 0; i < gw->nwids; i++) {
		const struct gw_batch_view *v = &gw->wrecs[i];
		const struct net_pg_chunk c[4] = {
			{ v->version < 3 ? gw->wconv.p + gw->wpconv_off[i] : v->pos,
			  v->version < 3 ? gw->wpconv_len[i] : v->pos_len },
			{ v->version == 1 ? gw->wconv.p + gw->wconv_off[i] : v->alerts,
			  v->version == 1 ? gw->wconv_len[i] : v->alerts_len },
			{ v->rejects, v->rejects_len },
			{ v->states, v->states_len },
		};

		for (int k = 0; k < 4; k++)
			if (c[k].len)
				gw->wchunks[k][gw->nwchunks[k]++] = c[k];
	}
}

/* The group's NOTIFY hazgate_positions payloads into wposn, NUL-terminated
 * (len not counting it); empty out of memory: the positions are then
 * written, not announced. */
static void
build_pos_notify(struct gw *gw)
{
	size_t payload = 0;

	gw->wposn.len = 0;
	for (size_t i = 0; i < gw->nwchunks[0]; i++)
		if (gw_batch_pos_notify(&gw->wposn, &payload, gw->wchunks[0][i].p,
					gw->wchunks[0][i].len) != 0)
			goto fail;
	if (gw->wposn.len == 0 || gw_buf_add(&gw->wposn, "", 1) != 0)
		goto fail;
	gw->wposn.len--;
	return;
fail:
	gw->wposn.len = 0;
}

/*
 * The group's positions (its COPY text pieces, wchunks[0]) in binary COPY
 * format, appended to wconv as one piece (wposbin), room for it reserved
 * first so that the pieces already pointing into wconv (converted older
 * records) do not move while it is read. A group the converter refuses
 * (a value not in the batch writer's forms: a record from a buggy build,
 * damaged past its CRC) keeps its text pieces, which the server reads as
 * before (wpos_binary false). Returns GW_BIN_OK or GW_BIN_ENOMEM.
 */
static int
group_pos_binary(struct gw *gw)
{
	size_t bound = 64, start;
	uint64_t rows = 0;
	int rc;

	gw->wpos_binary = false;
	if (gw->wnpos == 0)
		return GW_BIN_OK;
	/* gw_copybin_rows needs at most 4 bytes per byte of text and 32 per
	 * field besides (gw_copybin.c, conv_field). */
	for (size_t i = 0; i < gw->nwchunks[0]; i++)
		bound += 4 * gw->wchunks[0][i].len;
	bound += (size_t)gw->wnpos * (2 + 32 * GW_BATCH_POS_FIELDS);
	start = gw->wconv.len;
	if (gw_buf_reserve(&gw->wconv, bound) != 0)
		return GW_BIN_ENOMEM;
	group_chunks(gw);   /* wconv may have moved: point the pieces again */
	rc = gw_copybin_header(&gw->wconv);
	for (size_t i = 0; i < gw->nwchunks[0] && rc == GW_BIN_OK; i++)
		rc = gw_copybin_rows(&gw->wconv, gw_copybin_pos_types, GW_BATCH_POS_FIELDS,
				     gw->wchunks[0][i].p, gw->wchunks[0][i].len, &rows);
	if (rc == GW_BIN_OK)
		rc = gw_copybin_trailer(&gw->wconv);
	if (rc == GW_BIN_OK && rows == gw->wnpos) {
		gw->wposbin = (struct net_pg_chunk){ gw->wconv.p + start, gw->wconv.len - start };
		gw->wpos_binary = true;
		return GW_BIN_OK;
	}
	gw->wconv.len = start;
	if (rc == GW_BIN_ENOMEM)
		return rc;
	hz_log(HZ_LOG_WARN, "positions_as_text", "record=%" PRIu64 " records=%zu why=\"%s\""
	       " action=\"COPY text: the server reads it\"", gw->wid, gw->nwids,
	       gw_copybin_strerror(rc == GW_BIN_OK ? GW_BIN_EVALUE : rc));
	return GW_BIN_OK;
}

/* A COPY section's pieces (rows rows of ncols columns) as array literals
 * in a. Returns GW_ARR_OK (*bad set when the section is not COPY text of
 * those columns: logged, the step then fails in the server) or
 * GW_ARR_ENOMEM. */
static int
section_arrays(struct gw *gw, const char *what, struct gw_arrays *a, size_t ncols,
	       const struct net_pg_chunk *c, size_t n, uint32_t rows, bool *bad)
{
	int rc = GW_ARR_OK;

	*bad = false;
	gw_arrays_reset(a, ncols);
	if (rows == 0)
		return GW_ARR_OK;
	for (size_t i = 0; i < n && rc == GW_ARR_OK; i++)
		rc = gw_arrays_add_copy(a, c[i].p, c[i].len);
	if (rc == GW_ARR_OK)
		rc = gw_arrays_finish(a);
	if (rc == GW_ARR_OK && a->nrows != rows)
		rc = GW_ARR_EFORMAT;
	if (rc == GW_ARR_EFORMAT) {
		hz_log(HZ_LOG_ERROR, "batch_section_bad", "record=%" PRIu64 " records=%zu"
		       " section=%s rows=%" PRIu32 " why=\"%s\"", gw->wid, gw->nwids, what, rows,
		       gw_arrays_strerror(rc));
		*bad = true;
		rc = GW_ARR_OK;
	}
	return rc;
}

/* Takes the next records of the spool into one group (gw->wids, wrecs,
 * the counts): as many as wait, within the group's bounds; a single one
 * after a failed transaction, so that a bad record is found and set aside
 * alone. The records stay where hz_queue_next_keep read them (the previous
 * group's are released here). A record that is not a batch is set aside
 * (set_aside_record). Returns HZ_QUEUE_OK with at least one record,
 * HZ_QUEUE_EMPTY, HZ_QUEUE_ERR_NOMEM (nothing taken: the spool is
 * rewound), or an error of hz_queue_next_keep() with the group empty. */
static int
take_group(struct gw *gw)
{
	size_t max_records = gw->wfails || gw->wsingle ? 1 : GW_GROUP_RECORDS, alert_bytes = 0;
	uint64_t max_rows = (uint64_t)GW_GROUP_BATCHES * gw->cfg.postgres.batch_rows;
	int rc = HZ_QUEUE_EMPTY;

	hz_queue_release(gw->spool);
	gw->nwids = 0;
	gw->wconv.len = 0;
	gw->wnpos = gw->wnalerts = gw->wnrejects = gw->wnstates = 0;
	while (gw->nwids < max_records && (uint64_t)gw->wnpos + gw->wnrejects < max_rows) {
		struct gw_batch_view *v = &gw->wrecs[gw->nwids];
		uint64_t id;
		const void *data;
		size_t len;
		int bad;

		rc = hz_queue_next_keep(gw->spool, &id, &data, &len);
		if (rc != HZ_QUEUE_OK)
			break;
		bad = gw_batch_parse(data, len, v);
		if (bad == GW_BATCH_OK && v->version == 1) {
			gw->wconv_off[gw->nwids] = gw->wconv.len;
			bad = gw_batch_v1_alerts(v, &gw->wconv);
			gw->wconv_len[gw->nwids] = gw->wconv.len - gw->wconv_off[gw->nwids];
		}
		if (bad == GW_BATCH_OK && v->version < 3) {
			gw->wpconv_off[gw->nwids] = gw->wconv.len;
			bad = gw_batch_old_positions(v, &gw->wconv);
			gw->wpconv_len[gw->nwids] = gw->wconv.len - gw->wpconv_off[gw->nwids];
		}
		if (bad == GW_BATCH_ENOMEM) {
			/* The records are durable: keep them all for the retry. */
			hz_log(HZ_LOG_ERROR, "batch_oom", "record=%" PRIu64 " bytes=%zu", id, len);
			hz_queue_rewind(gw->spool);
			gw->nwids = 0;
			return HZ_QUEUE_ERR_NOMEM;
		}
		if (bad != GW_BATCH_OK) {
			set_aside_record(gw, id, data, len, bad);
			continue;
		}
		gw->wnpos += v->npos;
		gw->wnalerts += v->nalerts;
		gw->wnrejects += v->nrejects;
		gw->wnstates += v->nstates;
		alert_bytes += v->version == 1 ? gw->wconv_len[gw->nwids] : v->alerts_len;
		gw->wids[gw->nwids++] = id;
	}
	if (gw->nwids == 0)
		return rc == HZ_QUEUE_OK ? HZ_QUEUE_EMPTY : rc;
	gw->wid = gw->wids[0];
	group_chunks(gw);
	if (group_pos_binary(gw) != GW_BIN_OK) {
		hz_log(HZ_LOG_ERROR, "batch_oom", "record=%" PRIu64 " records=%zu", gw->wid,
		       gw->nwids);
		hz_queue_rewind(gw->spool);
		gw->nwids = 0;
		return HZ_QUEUE_ERR_NOMEM;
	}
	build_pos_notify(gw);
	gw->npub = 0;
	gw->wpub.len = 0;
	/* Room for the new alerts' (vehicle, JSON): each is at most its row
	 * (the vehicle and the tail, COPY-escaped) and the id. The alerts and
	 * states as array parameters. */
	if (gw_buf_reserve(&gw->wpub, alert_bytes + 32 * (size_t)gw->wnalerts) != 0 ||
	    section_arrays(gw, "alerts", &gw->walerts, GW_ALERT_COLS, gw->wchunks[1],
			   gw->nwchunks[1], gw->wnalerts, &gw->wbad_alerts) != GW_ARR_OK ||
	    section_arrays(gw, "states", &gw->wstates, GW_STATE_COLS, gw->wchunks[3],
			   gw->nwchunks[3], gw->wnstates, &gw->wbad_states) != GW_ARR_OK) {
		hz_log(HZ_LOG_ERROR, "batch_oom", "record=%" PRIu64 " records=%zu", gw->wid,
		       gw->nwids);
		hz_queue_rewind(gw->spool);
		gw->nwids = 0;
		return HZ_QUEUE_ERR_NOMEM;
	}
	return HZ_QUEUE_OK;
}

/* A prepared statement on a section's arrays, or, for a section that is
 * not COPY text, the statement that fails as its COPY would have. */
static struct net_pg_step
array_step(const char *sql, const char *name, const struct gw_arrays *a, bool bad, bool skip)
{
	if (bad)
		return (struct net_pg_step){ .sql = sql_bad_section, .skip = skip };
	return (struct net_pg_step){ .sql = sql, .name = name, .nparams = (int)a->ncols,
				     .params = a->param, .skip = skip };
}

static bool
writer_kick(struct gw *gw)
{
	struct net_pg_job *j = &gw->wjob;
	int rc;

	if (gw->writing || !net_pg_ready(gw->pg) || event_pending(gw->ev_retry, EV_TIMEOUT, NULL))
		return false;
	if (gw->phase == GW_PHASE_START)
		return false;
	rc = take_group(gw);
	if (rc == HZ_QUEUE_EMPTY)
		return true;
	if (rc != HZ_QUEUE_OK) {
		struct timeval tv = { 1, 0 };

		hz_log(HZ_LOG_ERROR, "spool_read_failed", "why=\"%s\"", hz_queue_strerror(rc));
		event_add(gw->ev_retry, &tv);
		return false;
	}
	gw->wstaging = gw->staged_id == gw->wid;
	memset(j, 0, sizeof(*j));
	j->arg = gw;
	j->done = w_done;
	j->pipeline = true;   /* the statements after the COPYs, COMMIT: one round trip */
	j->steps[0].sql = gw_cluster_begin_sql(gw);   /* with the fence when partitioned */
	if (gw->wpos_binary)
		j->steps[1] = (struct net_pg_step){
			.sql = gw->wstaging ? sql_copy_pos : sql_copy_pos_direct,
			.chunks = &gw->wposbin, .nchunks = 1, .skip = !gw->wnpos };
	else
		j->steps[1] = (struct net_pg_step){
			.sql = gw->wstaging ? sql_copy_pos_text : sql_copy_pos_direct_text,
			.chunks = gw->wchunks[0], .nchunks = gw->nwchunks[0], .skip = !gw->wnpos };
	j->steps[2] = (struct net_pg_step){ .sql = sql_dup_pos, .on_result = w_dup_result,
					   .skip = !gw->wnpos || !gw->wstaging };
	j->steps[3] = (struct net_pg_step){ .sql = sql_insert_pos, .on_result = w_pos_result,
					   .skip = !gw->wnpos || !gw->wstaging };
	/* The rejects' COPY (a round trip: the server waits for its rows)
	 * before the alerts: inserting alerts takes the lock that keeps their
	 * ids in commit order (schema/020), held to the COMMIT, and what
	 * follows it here goes to the server in one round trip. */
	j->steps[4] = (struct net_pg_step){ .sql = sql_copy_rejects, .chunks = gw->wchunks[2],
					   .nchunks = gw->nwchunks[2], .skip = !gw->wnrejects };
	j->steps[5] = array_step(sql_insert_alert, "hg_insert_alert", &gw->walerts,
				 gw->wbad_alerts, !gw->wnalerts);
	j->steps[5].on_result = w_alert_result;
	j->steps[6] = array_step(sql_upsert_state, "hg_upsert_state", &gw->wstates,
				 gw->wbad_states, !gw->wnstates);
	/* The acknowledged alerts' outbox rows; not in a retry, so that a
	 * failing DELETE can never be what sets a batch aside. */
	j->steps[7] = (struct net_pg_step){ .skip = true };
	if (!gw->wfails && !gw->wstaging)
		j->steps[7] = gw_outbox_clear_step(gw);
	j->steps[8] = (struct net_pg_step){ .sql = sql_notify_pos, .name = "hg_notify_pos",
					   .nparams = 1, .params = (const char *const *)&gw->wposn.p,
					   .skip = gw->wposn.len == 0 };
	j->steps[9].sql = "COMMIT";
	j->nsteps = 10;
	gw->wdup_same = gw->wdup_differ = 0;
	gw->writing = true;
	gw->wstart_us = hz_mono_us();
	net_pg_submit(gw->pg, j);
	return false;
}

bool
gw_writer_kick(struct gw *gw)
{
	bool empty = writer_kick(gw);

	gw_outbox_kick(gw);   /* after: a transaction just started takes its DELETE */
	return empty;
}

/* ---- drain ------------------------------------------------------------------- */

void
gw_drain_finish(struct gw *gw)
{
	struct hz_queue_stats st;

	hz_queue_get_stats(gw->spool, &st);
	gw_cluster_stop(gw);
	if (gw->mqtt)
		net_mqtt_disconnect(gw->mqtt);
	hz_log(HZ_LOG_INFO, "stopped", "spool_pending=%" PRIu64 " held=%d", st.pending,
	       gw->held ? 1 : 0);
	event_base_loopexit(gw->base, NULL);
}

void
gw_drain_check(struct gw *gw)
{
	struct hz_queue_stats st;

	if (!gw->draining)
		return;
	hz_queue_get_stats(gw->spool, &st);
	if (gw->held || gw->seal_more)
		return;
	/* Everything is in the spool; done when it is written, or right away
	 * when the database is not there to take it. */
	if ((st.pending == 0 && !gw->writing) || !net_pg_ready(gw->pg) ||
	    gw->phase != GW_PHASE_RUN) {
		/* No wait for PUBACKs (the socket is no longer read): what the
		 * broker has not acknowledged stays in the alert outbox for the
		 * next start. Only the rows of those it has are deleted. */
		if (!gw_outbox_drained(gw))
			return;
		gw_drain_finish(gw);
	}
}
