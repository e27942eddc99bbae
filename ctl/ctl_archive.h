/*
 * ctl_archive.h: hazgate's positions archives (prefix ctl_arch_), written by
 * `hazgate-ctl retention run` and read back by `track --archive DIR` and
 * `audit --archive DIR`.
 *
 * An archive holds the positions of one UTC day (one part of it: see
 * schema/013_retention.sql) as CSV in PostgreSQL's own COPY CSV dialect,
 * gzip-compressed: a header line naming the columns, then one position a
 * line ordered by vehicle (byte order) and time. Values are PostgreSQL's
 * text for the stored value (floats as the shortest text that reads back
 * exactly), an empty unquoted field is NULL, "" an empty string; `ts` and
 * `received_at` are RFC 3339 UTC with microseconds, `zone_ids` an array
 * literal ({1,4}). So `\copy positions (COLUMNS) FROM PROGRAM 'zcat FILE'
 * CSV HEADER` loads a day back, and zcat shows it. Files are named
 * positions-YYYY-MM-DD.csv.gz (part 1) and positions-YYYY-MM-DD.pN.csv.gz
 * (part N >= 2).
 *
 * The reader checks everything it hands on (the file comes from disk and
 * may be damaged or edited): a complete gzip stream (zlib's CRC and length
 * trailer), the header, the number of fields of every record, each value's
 * form (numbers, integers, times, booleans, zone lists; no NUL byte, a
 * vehicle of 1-32 bytes), and the order (vehicle, ts) strictly rising, so
 * that no key is there twice. Columns it does not know are skipped (a
 * later layout may add some); vehicle, ts, lat and lon are required.
 *
 * Since issue 15's per-vehicle index, retention writes the archive as gzip
 * members, the header line alone and then one member per vehicle, and
 * beside it an index, positions-YYYY-MM-DD[.pN].idx.gz (ctl_arch_index_name):
 * gzip'd CSV in the same dialect,
 *
 *     vehicle,offset,bytes,rows
 *     ,0,41,0                       the header's member (vehicle NULL)
 *     "晋A10001",41,101357,8640      each vehicle's member, vehicles rising
 *
 * the members tiling the archive, the last ending at its size. A file of
 * several gzip members is one gzip file (RFC 1952) to zcat, gzip -t, zlib
 * and COPY FROM PROGRAM 'zcat', so what is written reads as before; a
 * track reads the header's member and its vehicle's alone. Archives
 * without an index (written before) are read whole.
 *
 * With [retention] archive_compression = zstd, the same CSV records (byte
 * for byte) are written as zstd frames instead (libzstd, checksums on: a
 * damaged frame is found out as gzip's CRC finds a member), the header's
 * frame then one frame per vehicle, to positions-YYYY-MM-DD[.pN].csv.zst,
 * and the index, in the same form with the frames' offsets and bytes, is
 * zstd'd too: positions-YYYY-MM-DD[.pN].idx.zst. Concatenated frames are
 * one zstd stream to zstdcat and COPY FROM PROGRAM 'zstdcat FILE'. Every
 * reader takes either, chosen by the file's name (ctl_arch_codec_of) and
 * checked by its magic number; a day's parts may differ (part 1 gzip,
 * part 2 zstd after a configuration change).
 *
 * Limits: a record of at most CTL_ARCH_RECORD_MAX bytes. The collected
 * rows of a range (ctl_arch_collect) are held in memory: for one vehicle
 * that is small; an all-vehicle audit holds one day's worth (about 100
 * bytes a fix plus its text).
 */
#ifndef HAZGATE_CTL_ARCHIVE_H
#define HAZGATE_CTL_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The columns an archive may hold, in the order retention writes them. */
enum ctl_arch_col {
	CTL_ARCH_VEHICLE,
	CTL_ARCH_TS,
	CTL_ARCH_LAT,
	CTL_ARCH_LON,
	CTL_ARCH_SPEED,
	CTL_ARCH_HEADING,
	CTL_ARCH_ALT,
	CTL_ARCH_HDOP,
	CTL_ARCH_FIX,
	CTL_ARCH_SATS,
	CTL_ARCH_UN,
	CTL_ARCH_CLASS,
	CTL_ARCH_SEQ,
	CTL_ARCH_IGNITION,
	CTL_ARCH_ZONES,
	CTL_ARCH_RECEIVED,
	CTL_ARCH_ALARMS, /* migration 011's positions.alarms, when there */
	CTL_ARCH_NCOLS
};

/* Their names in the header (positions' column names). */
extern const char *const ctl_arch_col_names[CTL_ARCH_NCOLS];

enum ctl_arch_err {
	CTL_ARCH_OK = 0,
	CTL_ARCH_EIO = -1,     /* cannot open or read, or not a complete gzip/zstd stream */
	CTL_ARCH_EFORMAT = -2, /* a bad header, record or value, or out of order */
	CTL_ARCH_ENOMEM = -3,
	CTL_ARCH_ENOINDEX = -4, /* no index beside the archive (one written before 018's session) */
	CTL_ARCH_EINDEX = -5,   /* the index is damaged, or another archive's */
	CTL_ARCH_STOPPED = 1,   /* the row callback asked to stop */
};

#define CTL_ARCH_RECORD_MAX  65536
#define CTL_ARCH_NAME_MAX    48 /* "positions-YYYY-MM-DD.pNNNNNNNNNN.csv.zst" + NUL: 41 */
#define CTL_ARCH_VEHICLE_MAX 32

/* An archive's compression ([retention] archive_compression's values). */
enum ctl_arch_codec {
	CTL_ARCH_GZIP = 0, /* .csv.gz, .idx.gz: gzip members */
	CTL_ARCH_ZSTD = 1, /* .csv.zst, .idx.zst: zstd frames */
};

/* The codec a file's name says: CTL_ARCH_ZSTD for a name ending in ".zst"
 * (or ".zst.tmp": retention's temporary of it), else CTL_ARCH_GZIP (which
 * reads plain CSV too). */
enum ctl_arch_codec ctl_arch_codec_of(const char *name);

/* One position as read: each column's text as PostgreSQL wrote it, NULL
 * for SQL NULL or a column the file lacks. Borrowed for the callback. */
struct ctl_arch_row {
	const char *v[CTL_ARCH_NCOLS];
	int64_t ts_us;   /* v[CTL_ARCH_TS] read */
	uint64_t record; /* 1 = the first after the header */
};

/* Called for each row; returns 0 to go on, non-zero to stop (the reader
 * then returns CTL_ARCH_STOPPED). */
typedef int (*ctl_arch_row_cb)(const struct ctl_arch_row *row, void *arg);

/*
 * Reads the archive on fd (borrowed; read from its current offset; plain
 * CSV is read as well as gzip), calling cb for each row in file order.
 * NAME stands for the file in messages, and says its codec
 * (ctl_arch_codec_of: a ".zst" name must hold zstd frames, checked by
 * their magic number; a file cut within a frame is an error). *nrows (may be NULL) gets the rows
 * handed on. On an error, err (errlen bytes) says "NAME: what, where".
 * Returns CTL_ARCH_OK, CTL_ARCH_STOPPED, or an error code.
 */
int ctl_arch_read_fd(int fd, const char *name, ctl_arch_row_cb cb, void *arg, uint64_t *nrows,
		     char *err, size_t errlen);

/* As ctl_arch_read_fd, on the file PATH. */
int ctl_arch_read(const char *path, ctl_arch_row_cb cb, void *arg, uint64_t *nrows, char *err,
		  size_t errlen);

/* ---- the per-vehicle index ---------------------------------------------- */

/* The index's path for the archive's (".csv.gz" made ".idx.gz", ".csv.zst"
 * ".idx.zst": an index is in its archive's codec) into buf
 * (len bytes). Returns 0, or -1 when archive is not so named or buf is
 * too short. */
int ctl_arch_index_name(const char *archive, char *buf, size_t len);

/* Writes an archive and its index. */
typedef struct ctl_arch_writer ctl_arch_writer;

/* The zstd level of archives and indexes (bench/bench_archive measured 1
 * to 3: ctl/README.md). */
#ifndef CTL_ARCH_ZSTD_LEVEL
#define CTL_ARCH_ZSTD_LEVEL 1
#endif

/* A writer of the archive to fd (a new, empty file) and its index to
 * idx_fd (the same), both compressed with codec (gzip -6, or zstd at
 * CTL_ARCH_ZSTD_LEVEL with checksums); both borrowed, left open, not
 * synced (the caller fsyncs). Returns CTL_ARCH_OK with *w
 * (ctl_arch_writer_free it), or CTL_ARCH_ENOMEM or CTL_ARCH_EIO. */
int ctl_arch_writer_new(int fd, int idx_fd, enum ctl_arch_codec codec, ctl_arch_writer **w);

/* Adds one complete CSV record with its line end (as COPY gives them):
 * the header first, then the rows sorted by vehicle (byte order), the
 * vehicle their first field. Returns CTL_ARCH_OK, CTL_ARCH_EFORMAT (not
 * one record, no vehicle, out of order), CTL_ARCH_EIO (a write failed);
 * after an error every call returns it (ctl_arch_writer_error says it). */
int ctl_arch_writer_record(ctl_arch_writer *w, const char *rec, size_t len);

/* Ends the last member (frame) and writes the index out. *rows (may be NULL): the
 * rows written. Returns CTL_ARCH_OK or the first error. */
int ctl_arch_writer_finish(ctl_arch_writer *w, uint64_t *rows);

/* The first error's text ("" when none). */
const char *ctl_arch_writer_error(const ctl_arch_writer *w);

void ctl_arch_writer_free(ctl_arch_writer *w);

/*
 * Reads the rows of vehicle (NULL: every vehicle, member after member)
 * from the archive on fd through its index on idx_fd (both borrowed, read
 * from their start), calling cb for each in file order, as
 * ctl_arch_read_fd (NAME says the codec of both). Besides what that checks:
 * the index (a complete gzip or zstd stream; its header; each entry's form; the header's member first, then
 * vehicles strictly rising; the members tiling the archive to its size),
 * and each member read: whole gzip members (zstd frames), exactly where the index says,
 * holding the index's number of rows, all of its vehicle. A vehicle the
 * index does not name has no rows: the members either side of where it
 * would be are read and checked instead (an index that renamed its member
 * lies about one of them). An index and archive forged together are not
 * found out (nor is an archive forged alone: the archives table holds its
 * SHA-256). Returns CTL_ARCH_OK, CTL_ARCH_STOPPED,
 * CTL_ARCH_ENOMEM, or another error (CTL_ARCH_EINDEX, CTL_ARCH_EIO,
 * CTL_ARCH_EFORMAT) when the archive or its index is damaged or they do
 * not belong together: rows may have been handed on before; reading the
 * archive whole (ctl_arch_read_fd) then says whether the archive is good.
 */
int ctl_arch_read_indexed_fd(int fd, int idx_fd, const char *name, const char *vehicle,
			     ctl_arch_row_cb cb, void *arg, uint64_t *nrows, char *err,
			     size_t errlen);

/* As ctl_arch_read_indexed_fd on the archive PATH and its index beside it;
 * CTL_ARCH_ENOINDEX when there is none. */
int ctl_arch_read_indexed(const char *path, const char *vehicle, ctl_arch_row_cb cb, void *arg,
			  uint64_t *nrows, char *err, size_t errlen);

/* Static text for an enum ctl_arch_err. */
const char *ctl_arch_strerror(int err);

/* ---- days (UTC), numbered from 1970-01-01 = 0 --------------------------- */

/* The UTC day holding instant us (microseconds since the epoch). */
int64_t ctl_day_of_us(int64_t us);

/* The first microsecond of day. */
int64_t ctl_day_start_us(int64_t day);

/* "YYYY-MM-DD" of day into buf (at least 11 bytes; years 0-9999). */
void ctl_day_format(int64_t day, char *buf);

/* Parses exactly "YYYY-MM-DD" (a real date). Returns 0 and *day, or -1. */
int ctl_day_parse(const char *s, int64_t *day);

/*
 * Whether retention drops day when it is `today` (UTC) and keep_days whole
 * days are kept: a day goes once every fix in it is more than keep_days
 * days old, that is when day + keep_days < today (keep_days 1 on
 * 2026-12-07 drops 2026-12-05 and keeps 2026-12-06). keep_days <= 0 keeps
 * every day.
 */
bool ctl_arch_due(int64_t day, int64_t today, int keep_days);

/* ---- file names --------------------------------------------------------- */

/* The name of day's part (>= 1) into buf, gzip's (.csv.gz). Returns 0, or
 * -1 for a part < 1 or a day outside years 0-9999. */
int ctl_arch_name(int64_t day, int part, char buf[CTL_ARCH_NAME_MAX]);

/* As ctl_arch_name, for codec (zstd: .csv.zst). */
int ctl_arch_name_codec(int64_t day, int part, enum ctl_arch_codec codec,
			char buf[CTL_ARCH_NAME_MAX]);

/* Reads an archive's file name (no folder): positions-YYYY-MM-DD.csv.gz is
 * part 1, positions-YYYY-MM-DD.pN.csv.gz part N (2 and up, no leading
 * zero); the same with .csv.zst (ctl_arch_codec_of says which). Returns 0 with *day and *part, or -1 for any other name. */
int ctl_arch_name_parse(const char *name, int64_t *day, int *part);

/* ---- a folder's archives ------------------------------------------------ */

struct ctl_arch_file {
	int64_t day;
	int part;
	enum ctl_arch_codec codec;
	char name[CTL_ARCH_NAME_MAX];
};

/* The archives in DIR of days first..last (gzip and zstd), sorted by day,
 * part and name, into a
 * malloc'd *files (*n of them; free() it). Other files are ignored.
 * Returns CTL_ARCH_OK, CTL_ARCH_EIO (DIR unreadable; err says why) or
 * CTL_ARCH_ENOMEM. */
int ctl_arch_list(const char *dir, int64_t first, int64_t last, struct ctl_arch_file **files,
		  size_t *n, char *err, size_t errlen);

/* ---- rows of a range ----------------------------------------------------- */

/* A position kept in memory: its columns' text (NULL = NULL), one block. */
struct ctl_arch_rec {
	int64_t ts_us;
	uint64_t order; /* read order, for the tie of two parts' copies */
	char *v[CTL_ARCH_NCOLS];
};

struct ctl_arch_rows {
	struct ctl_arch_rec *r;
	size_t n, cap;
};

/* What ctl_arch_collect read. */
struct ctl_arch_stats {
	unsigned files;   /* archive files read */
	unsigned indexed; /* of which through their index (one vehicle's member) */
	char note[600];   /* the last index not used, and why ("": none) */
};

#define CTL_ARCH_NO_INDEX 1u /* read whole files (bench: with and without) */

/*
 * Adds to *rows the archived positions in DIR with from_us <= ts < to_us
 * (and of VEHICLE, unless NULL), every part of every day in the range,
 * then sorts *rows by (ts, vehicle in byte order) and keeps one row of
 * each (vehicle, ts) (the first read). One vehicle's rows are read through
 * each file's index (unless flags has CTL_ARCH_NO_INDEX); a file without
 * one, or whose index does not serve (stats->note says why), is read
 * whole. *stats (may be NULL) is filled. Returns CTL_ARCH_OK or an error
 * code with err (a damaged file is an error, not skipped).
 */
int ctl_arch_collect(const char *dir, int64_t from_us, int64_t to_us, const char *vehicle,
		     unsigned flags, struct ctl_arch_rows *rows, struct ctl_arch_stats *stats,
		     char *err, size_t errlen);

/* Frees what *rows holds and empties it. */
void ctl_arch_rows_clear(struct ctl_arch_rows *rows);

/* Writes "[1,4]" for the array literal "{1,4}" ("[]" for "{}") into buf
 * (len bytes). Returns 0, or -1 when it is not such a literal or does not
 * fit. */
int ctl_arch_zones_json(const char *literal, char *buf, size_t len);

#endif
