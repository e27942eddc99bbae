/*
 * ctl_retention.c: hazgate-ctl retention run --config FILE [--dry-run] [--no-compact]
 *                  hazgate-ctl retention verify [--archive DIR | --config FILE] ...
 *
 * First compacts every closed day (UTC, before today) that still has fixes
 * in rows into slices (ctl_compact_days, schema/012), but the days it is
 * about to drop: so a daily run (hazgate-retention.timer) keeps the
 * positions at about 15 bytes a fix instead of 170, and archives read the
 * slices. --no-compact leaves the rows alone. Then it drops the positions of every whole UTC day past the horizon of the
 * gateway's [retention] positions_days (a day goes when every fix in it is
 * more than positions_days days old: day + positions_days < today, UTC).
 * With [retention] archive_dir set, each day is first written to a CSV
 * archive there, gzip'd or, with archive_compression = zstd, zstd'd
 * (ctl_archive.h), and dropped only once the file is on
 * disk and recorded in the archives table. Retention touches positions
 * only; alerts and the other tables are kept.
 *
 * It sees the positions through the contract of schema/013_retention.sql:
 * hazgate_positions_days(), hazgate_drop_positions_day(d, expected), and
 * `SELECT ... FROM positions WHERE ts in the day` (018's
 * hazgate_positions_all where it exists); and, to write an archive, the
 * tables of 012-018's layout themselves (ctl_slicesdb.c), decoded as
 * hazgate_positions_all decodes them.
 *
 * One day, with an archive (part P: 1, or one more than the parts already
 * recorded for the day, see 013):
 *   1. a file of that name (in either codec: the configuration may have
 *      changed since) left by a run that died before step 4 is read
 *      through: complete, valid, holding exactly the rows the database
 *      holds for the day (rows of a day only ever grow, so the same count
 *      is the same rows), and with its index -> used as it is; otherwise
 *      removed with its index (the database still holds every row of it);
 *   2. else the day's rows ordered by (vehicle, ts) are written through
 *      ctl_arch_writer to .NAME.tmp, a gzip member (zstd frame) per vehicle, its
 *      per-vehicle index to .INDEX.tmp; both fsynced, closed. The records
 *      are those of COPY (SELECT ... ORDER BY vehicle, ts) TO STDOUT CSV:
 *      made here from the slices and rows read in binary and decoded in C
 *      (ctl_slices_each_vehicle, ctl_archfix.h: byte for byte COPY's,
 *      without the SQL decoder, the sort and the text output in the
 *      server), or, on a layout before 018, for a value ctl_archfix cannot
 *      write as COPY would, and with HAZGATE_DAYREAD=sql, that COPY;
 *   3. read back through the index (every member where the index says,
 *      complete, every record valid and of its member's vehicle, the row
 *      count COPY gave), the index renamed to INDEX, the archive to NAME
 *      (so an archive under its name has its index), the folder fsynced,
 *      the archive hashed (SHA-256);
 *   4. in one transaction: INSERT INTO archives, then
 *      hazgate_drop_positions_day(day, rows), which locks the day against
 *      new rows and refuses (HG409) if a late fix came in since step 2:
 *      then the file is removed and the day done again (3 tries a run).
 *      Dropping a partition locks positions for a moment, and the
 *      gateway's inserts queue behind a DROP that waits: lock_timeout 5 s
 *      bounds that wait, and a timed-out (or deadlocked) transaction is
 *      tried again 5 s later, 3 times.
 * A crash anywhere leaves either the day in the database (with at most an
 * unrecorded file, handled by step 1, or a temporary file, removed at the
 * start of the next run), or the day recorded and dropped: nothing lost,
 * nothing written twice. HAZGATE_RETENTION_CRASH=write|rename|commit
 * SIGKILLs the process after step 2, 3 or 4 of the first day (tests).
 *
 * Blocking libpq on purpose: this is a command a systemd timer runs
 * (gateway/hazgate-retention.timer), never the gateway's event loop. A
 * pg_try_advisory_lock keeps two runs apart.
 */
#include "ctl/ctl_archfix.h"
#include "ctl/ctl_archive.h"
#include "ctl/ctl_engine.h"
#include "ctl/ctl_slices.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char usage_text[] =
	"retention run --config FILE [--dry-run] [--no-compact]\n"
	"       hazgate-ctl retention verify [--archive DIR | --config FILE] [--from DAY]"
	" [--to DAY] [--deep]";

static const char help_text[] =
	"usage: hazgate-ctl retention run --config FILE [--dry-run] [--no-compact]\n"
	"\n"
	"First compacts every day before today (UTC) that still has positions in rows\n"
	"into slices (as 'hazgate-ctl compact' does), but the days it drops. Then drops\n"
	"the positions of every whole UTC day past [retention] positions_days of the\n"
	"gateway's configuration FILE (a day goes when all of it is more than\n"
	"positions_days days old). With [retention] archive_dir, each day is first\n"
	"written there as positions-YYYY-MM-DD.csv.gz (.csv.zst with archive_compression\n"
	"= zstd; fsynced, recorded in the table archives) and dropped only then. Alerts and other tables are never touched.\n"
	"Needs a login in hazgate_admin (-d CONNINFO or the PG* variables).\n"
	"  --dry-run     say what would be compacted, archived and dropped, change nothing\n"
	"  --no-compact  leave the rows of closed days as they are\n"
	"Exit 0 when every due day is done, 1 when one failed (it is kept).\n"
	"\n"
	"usage: hazgate-ctl retention verify [--archive DIR | --config FILE] [--from DAY]\n"
	"                                    [--to DAY] [--deep]\n"
	"\n"
	"Checks every archive the table archives records (days DAY..DAY, YYYY-MM-DD,\n"
	"UTC) against its record: the file is there, of the recorded size and SHA-256.\n"
	"--archive DIR looks for the files in DIR (archives moved elsewhere), --config\n"
	"in its [retention] archive_dir; without either, at the recorded paths. With a\n"
	"folder, archive files there that archives does not record are listed too (a\n"
	"run that died before recording its file leaves one; the next run uses or\n"
	"removes it). --deep also reads every record of each archive, through its\n"
	"per-vehicle index where it has one, and counts them against the recorded\n"
	"rows. Needs SELECT on archives (hazgate_dispatcher or hazgate_admin).\n"
	"Exit 0 when every archive checked is as recorded, 1 when one is not.\n";

enum {
	OPT_CONFIG = CTL_OPT_FIRST_COMMAND,
	OPT_DRY_RUN,
	OPT_NO_COMPACT,
	OPT_ARCHIVE,
	OPT_FROM,
	OPT_TO,
	OPT_DEEP
};

static const struct option longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "no-compact", no_argument, NULL, OPT_NO_COMPACT },
	{ "archive", required_argument, NULL, OPT_ARCHIVE },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "deep", no_argument, NULL, OPT_DEEP },
	{ NULL, 0, NULL, 0 },
};

/* pg_try_advisory_lock key of retention runs ("hgrt"). */
#define RETENTION_LOCK_KEY "1751609972"
#define TRIES              3

/* The archive's columns as PostgreSQL's text: times in RFC 3339 UTC with
 * microseconds, the rest as stored. The names are ctl_arch_col_names;
 * `alarms` (migration 011) when positions has it. The day's rows come from
 * the first of day_sources the layout has (018's every-vehicle function,
 * 012's hazgate_positions(NULL, ...): they read only the day's slices,
 * where the view positions decodes them all), else from positions. */
#define TS_TEXT(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define DAY_FROM     "%s::date::timestamp AT TIME ZONE 'UTC'"
#define DAY_TO       "(%s::date + 1)::timestamp AT TIME ZONE 'UTC'"
/* Each source takes the day twice: a quoted literal in COPY, $1 in a
 * parameterised count. */
static const char archive_cols[] = "vehicle, " TS_TEXT(
	"ts") " AS ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats,"
	      " un, hazard_class, seq, ignition, zone_ids, " TS_TEXT(
		      "received_at") " AS received_at";
enum day_source { SRC_ALL, SRC_DISPATCH, SRC_TABLE };
/* The functions of SRC_ALL and SRC_DISPATCH, for to_regprocedure. */
static const char *const day_procs[] = {
	[SRC_ALL] = "hazgate_positions_all(timestamptz, timestamptz)",
	[SRC_DISPATCH] = "hazgate_positions(text, timestamptz, timestamptz)",
};

/* The FROM of day's rows (day: SQL text, a literal or $1) into buf. */
static void
day_from(enum day_source src, const char *day, char *buf, size_t len)
{
	switch (src) {
	case SRC_ALL:
		snprintf(buf, len, "hazgate_positions_all(" DAY_FROM ", " DAY_TO ")", day, day);
		break;
	case SRC_DISPATCH:
		snprintf(buf, len, "hazgate_positions(NULL, " DAY_FROM ", " DAY_TO ")", day, day);
		break;
	case SRC_TABLE:
		snprintf(buf, len, "positions WHERE ts >= " DAY_FROM " AND ts < " DAY_TO, day, day);
		break;
	}
}

struct run {
	PGconn *conn;
	enum day_source src; /* where a day's rows are read */
	bool has_alarms;     /* positions.alarms */
	bool c_read;         /* a day's records made here from the decoded slices */
	const char *dir;     /* archive_dir, or NULL */
	enum ctl_arch_codec codec; /* archive_compression */
	const char *crash;   /* HAZGATE_RETENTION_CRASH */
	uint64_t dropped_rows;
	int dropped_days, failed_days;
};

static void
crash_point(const struct run *r, const char *step)
{
	if (r->crash && strcmp(r->crash, step) == 0) {
		fprintf(stderr, "hazgate-ctl retention: HAZGATE_RETENTION_CRASH=%s: killed\n",
			step);
		fflush(NULL);
		raise(SIGKILL);
	}
}

/* fsync of a folder, so that a rename or unlink in it is on disk. */
static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Temporary files of a run that died (.positions-*.tmp). */
static void
remove_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int removed = 0;
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (strncmp(e->d_name, ".positions-", 11) != 0 || n < 4 ||
		    strcmp(e->d_name + n - 4, ".tmp") != 0)
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (unlink(path) == 0) {
			printf("removed %s, left by a run that did not finish\n", path);
			removed++;
		}
	}
	closedir(d);
	if (removed)
		sync_dir(dir);
}

/* SHA-256 (hex) and size of the file at path. Returns 0, or -1 with errno. */
static int
hash_file(const char *path, char hex[65], uint64_t *bytes)
{
	crypto_hash_sha256_state st;
	unsigned char buf[65536], out[crypto_hash_sha256_BYTES];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return -1;
	crypto_hash_sha256_init(&st);
	*bytes = 0;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
		*bytes += (uint64_t)n;
	}
	int saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	crypto_hash_sha256_final(&st, out);
	sodium_bin2hex(hex, 65, out, sizeof out);
	return 0;
}

/* One SQL value as text, or -1 after saying why. */
static int64_t
query_i64(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = ctl_query(conn, "retention", sql, nparams, params);
	int64_t v = -1;
	if (res && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		v = ctl_field_i64(res, 0, 0);
	PQclear(res);
	return v;
}

/* What copy_day_c hands each vehicle's fixes to. */
struct day_c {
	ctl_arch_writer *w;
	const char *tmp;
	bool alarms;
	char *buf;
	size_t cap;
};

enum { DAY_C_WRITE = 1, DAY_C_INEXACT = 2 };

static int
day_c_vehicle(const char *vehicle, const struct ctl_fixes *f, void *arg)
{
	struct day_c *d = arg;
	for (size_t i = 0; i < f->n; i++) {
		long n = ctl_archfix_record(vehicle, &f->v[i], d->alarms, &d->buf, &d->cap);
		if (n == 0)
			return DAY_C_INEXACT;
		if (n < 0 || ctl_arch_writer_record(d->w, d->buf, (size_t)n) != CTL_ARCH_OK) {
			ctl_error("retention", "cannot write %s: %s", d->tmp,
				  n < 0 ? "out of memory" : ctl_arch_writer_error(d->w));
			return DAY_C_WRITE;
		}
	}
	return 0;
}

/* The day's records into w from the slices and rows decoded here: what
 * COPY would give, byte for byte (ctl_archfix.h). Returns 0; 1 when a
 * value is one ctl_archfix cannot write as COPY would, or a slice does
 * not decode (said: the caller writes the day by COPY instead); -1 after
 * saying why. */
static int
copy_day_c(struct run *r, const char *day, ctl_arch_writer *w, const char *tmp)
{
	int64_t dn;
	char err[600];
	if (ctl_day_parse(day, &dn) != 0) {
		ctl_error("retention", "%s: not a day", day);
		return -1;
	}
	struct day_c d = { .w = w, .tmp = tmp, .alarms = r->has_alarms };
	const char *head = ctl_archfix_header(d.alarms);
	if (ctl_arch_writer_record(w, head, strlen(head)) != CTL_ARCH_OK) {
		ctl_error("retention", "cannot write %s: %s", tmp, ctl_arch_writer_error(w));
		return -1;
	}
	int rc = ctl_slices_each_vehicle(r->conn, ctl_day_start_us(dn), ctl_day_start_us(dn + 1),
					 CTL_WANT_ALL, day_c_vehicle, &d, err, sizeof err);
	free(d.buf);
	if (rc == 0)
		return 0;
	if (rc == DAY_C_INEXACT || rc == CTL_EACH_EDECODE) {
		printf("%s: %s: written by COPY\n", day,
		       rc == DAY_C_INEXACT ? "a time outside years 1-9999" : err);
		return 1;
	}
	if (rc != DAY_C_WRITE)
		ctl_error("retention", "reading %s: %s", day, err);
	return -1;
}

/* The day's records into w by COPY (SELECT ... ORDER BY vehicle, ts) TO
 * STDOUT. Returns 0, or -1 after saying why. */
static int
copy_day_sql(struct run *r, const char *day, ctl_arch_writer *w, const char *tmp)
{
	char *lit = PQescapeLiteral(r->conn, day, strlen(day));
	char sql[1024];
	if (!lit) {
		ctl_error("retention", "%s", PQerrorMessage(r->conn));
		return -1;
	}
	/* COPY takes no parameters: the day is our own YYYY-MM-DD, escaped. */
	char from[300];
	day_from(r->src, lit, from, sizeof from);
	snprintf(sql, sizeof sql,
		 "COPY (SELECT %s%s FROM %s ORDER BY vehicle COLLATE \"C\", ts)"
		 " TO STDOUT WITH (FORMAT csv, HEADER)",
		 archive_cols, r->has_alarms ? ", alarms" : "", from);
	PQfreemem(lit);
	PGresult *res = PQexec(r->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		ctl_error("retention", "COPY of %s refused: %s", day, PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	bool wrote = true;
	char *buf;
	int n;
	while ((n = PQgetCopyData(r->conn, &buf, 0)) > 0) {
		/* one buffer per row (the header first) */
		if (wrote && ctl_arch_writer_record(w, buf, (size_t)n) != CTL_ARCH_OK) {
			ctl_error("retention", "cannot write %s: %s", tmp,
				  ctl_arch_writer_error(w));
			wrote = false;
		}
		PQfreemem(buf);
	}
	bool copied = n == -1;
	while ((res = PQgetResult(r->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			ctl_error("retention", "COPY of %s failed: %s", day,
				  PQresultErrorMessage(res));
			copied = false;
		}
		PQclear(res);
	}
	return copied && wrote ? 0 : -1;
}

/* Writes the day to tmp and its index to itmp (ctl_arch_writer: a gzip
 * member or zstd frame per vehicle, r->codec), fsync: from the slices decoded here when r->c_read
 * (copy_day_c), else, or when a value of the day needs it, by COPY.
 * Returns the rows written (the header not counted), or -1 after saying
 * why (both removed). */
static int64_t
write_day(struct run *r, const char *day, const char *tmp, const char *itmp)
{
	int64_t rows = -1;
	ctl_arch_writer *w = NULL;
	int fd = -1, ifd = -1;
	bool ok = false;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	ifd = fd < 0 ? -1 : open(itmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || ifd < 0) {
		ctl_error("retention", "cannot create %s: %s", fd < 0 ? tmp : itmp,
			  strerror(errno));
		goto done;
	}
	for (bool c_read = r->c_read;; c_read = false) {
		int wr = ctl_arch_writer_new(fd, ifd, r->codec, &w);
		if (wr != CTL_ARCH_OK) {
			ctl_error("retention", "%s: %s", tmp, ctl_arch_strerror(wr));
			goto done;
		}
		int cr = c_read ? copy_day_c(r, day, w, tmp) : copy_day_sql(r, day, w, tmp);
		if (cr < 0)
			goto done;
		if (cr == 0)
			break;
		/* Again by COPY, on empty files. */
		ctl_arch_writer_free(w);
		w = NULL;
		if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0 || ftruncate(ifd, 0) != 0 ||
		    lseek(ifd, 0, SEEK_SET) != 0) {
			ctl_error("retention", "cannot empty %s: %s", tmp, strerror(errno));
			goto done;
		}
	}
	uint64_t got;
	if (ctl_arch_writer_finish(w, &got) != CTL_ARCH_OK) {
		ctl_error("retention", "cannot write %s: %s", tmp, ctl_arch_writer_error(w));
		goto done;
	}
	if (fsync(fd) != 0 || fsync(ifd) != 0) {
		ctl_error("retention", "fsync %s: %s", tmp, strerror(errno));
		goto done;
	}
	rows = (int64_t)got;
	ok = true;
done:
	ctl_arch_writer_free(w);
	if (fd >= 0 && close(fd) != 0 && ok) {
		ctl_error("retention", "close %s: %s", tmp, strerror(errno));
		ok = false;
	}
	if (ifd >= 0 && close(ifd) != 0 && ok) {
		ctl_error("retention", "close %s: %s", itmp, strerror(errno));
		ok = false;
	}
	if (!ok) {
		unlink(tmp);
		unlink(itmp);
		return -1;
	}
	return rows;
}

/* Reads an archive through, for its rows. Returns CTL_ARCH_OK or the
 * reader's error, with why in err. */
static int
check_file(const char *path, uint64_t *rows, char *err, size_t errlen)
{
	return ctl_arch_read(path, NULL, NULL, rows, err, errlen);
}

/* Reads an archive through its index (every member, where the index
 * says), for its rows. Returns CTL_ARCH_OK or an error, with why in err. */
static int
check_indexed(const char *path, const char *ipath, uint64_t *rows, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ifd = open(ipath, O_RDONLY | O_CLOEXEC);
	int rc = CTL_ARCH_EIO;
	if (fd < 0 || ifd < 0)
		snprintf(err, errlen, "%s: %s", fd < 0 ? path : ipath, strerror(errno));
	else
		rc = ctl_arch_read_indexed_fd(fd, ifd, path, NULL, NULL, NULL, rows, err, errlen);
	if (fd >= 0)
		close(fd);
	if (ifd >= 0)
		close(ifd);
	return rc;
}

/* Removes an archive and its index (either may be missing). */
static int
remove_archive(const struct run *r, const char *path, const char *ipath)
{
	if ((unlink(path) != 0 && errno != ENOENT) || (unlink(ipath) != 0 && errno != ENOENT) ||
	    sync_dir(r->dir) != 0) {
		ctl_error("retention", "cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* What drop_day_tx ended with. */
enum drop_rc { DROP_OK = 0, DROP_OTHER_ROWS = 1, DROP_ERROR = -1 };

/*
 * One transaction: the archives row ins (day, part, path, rows, bytes,
 * sha256; NULL: none) and hazgate_drop_positions_day(day, expected)
 * (expected NULL: whatever the day holds), *gone the rows dropped. A lock
 * wait is bounded by LOCK_TIMEOUT (the row layout's DROP locks positions
 * for a moment, and the gateway's inserts queue behind a waiting DROP):
 * on a lock timeout or a deadlock the transaction is tried again, TRIES
 * times, LOCK_PAUSE_S apart. Returns DROP_OK, DROP_OTHER_ROWS (HG409: the
 * day holds other rows than expected; nothing changed) or DROP_ERROR
 * after saying why.
 */
#define LOCK_TIMEOUT "5s"
#define LOCK_PAUSE_S 5
static enum drop_rc
drop_day_tx(struct run *r, const char *day, const char *expected, const char *const ins[6],
	    int64_t *gone)
{
	for (int attempt = 1;; attempt++) {
		enum drop_rc rc = DROP_OK;
		const char *state = NULL;
		PGresult *res = PQexec(r->conn,
				       "BEGIN; SET LOCAL lock_timeout = '" LOCK_TIMEOUT "'");
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			ctl_error("retention", "%s", PQresultErrorMessage(res));
			PQclear(res);
			return DROP_ERROR;
		}
		PQclear(res);
		if (ins) {
			res = PQexecParams(
				r->conn,
				"INSERT INTO archives (day, part, path, rows, bytes, sha256)"
				" VALUES ($1::date, $2::int, $3, $4::int8, $5::int8, $6)",
				6, NULL, ins, NULL, NULL, 0);
			if (PQresultStatus(res) != PGRES_COMMAND_OK) {
				ctl_error("retention", "recording %s: %s", ins[2],
					  PQresultErrorMessage(res));
				rc = DROP_ERROR;
			}
			PQclear(res);
		}
		if (rc == DROP_OK) {
			const char *dp[] = { day, expected };
			res = PQexecParams(r->conn,
					   "SELECT hazgate_drop_positions_day($1::date, $2::int8)",
					   2, NULL, dp, NULL, NULL, 0);
			if (PQresultStatus(res) == PGRES_TUPLES_OK) {
				*gone = ctl_field_i64(res, 0, 0);
			} else {
				state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
				rc = state && !strcmp(state, "HG409") ? DROP_OTHER_ROWS
								      : DROP_ERROR;
				ctl_error("retention", "%s: %s", day,
					  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
			}
			bool busy = state && (!strcmp(state, "55P03") || !strcmp(state, "40P01"));
			PQclear(res);
			if (busy && attempt < TRIES) {
				PQclear(PQexec(r->conn, "ROLLBACK"));
				printf("%s: the database is busy: again in %d s\n", day,
				       LOCK_PAUSE_S);
				fflush(stdout);
				sleep(LOCK_PAUSE_S);
				continue;
			}
		}
		res = PQexec(r->conn, rc == DROP_OK ? "COMMIT" : "ROLLBACK");
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			ctl_error("retention", "%s", PQresultErrorMessage(res));
			rc = DROP_ERROR;
		}
		PQclear(res);
		return rc;
	}
}

/* Archives and drops one day. Returns 0 or -1 (the day is kept). */
static int
archive_day(struct run *r, const char *day, int64_t dayn)
{
	const char *p1[] = { day };
	int64_t last = query_i64(r->conn,
				 "SELECT coalesce(max(part), 0) FROM archives WHERE day = $1::date",
				 1, p1);
	if (last < 0)
		return -1;
	int part = (int)last + 1;
	char name[CTL_ARCH_NAME_MAX], iname[CTL_ARCH_NAME_MAX], path[4096], tmp[4096];
	char ipath[4096], itmp[4096], err[600], sha[65];
	/* The part's names in both codecs, the configured one first. */
	char cpath[2][4096], cipath[2][4096];
	for (int k = 0; k < 2; k++) {
		enum ctl_arch_codec c = k == 0 ? r->codec
					       : (r->codec == CTL_ARCH_ZSTD ? CTL_ARCH_GZIP
									    : CTL_ARCH_ZSTD);
		if (ctl_arch_name_codec(dayn, part, c, name) != 0 ||
		    ctl_arch_index_name(name, iname, sizeof iname) != 0) {
			ctl_error("retention", "%s: no archive name for part %d", day, part);
			return -1;
		}
		snprintf(cpath[k], sizeof cpath[k], "%s/%s", r->dir, name);
		snprintf(cipath[k], sizeof cipath[k], "%s/%s", r->dir, iname);
		if (k == 0) {
			snprintf(tmp, sizeof tmp, "%s/.%s.tmp", r->dir, name);
			snprintf(itmp, sizeof itmp, "%s/.%s.tmp", r->dir, iname);
		}
	}

	for (int attempt = 1; attempt <= TRIES; attempt++) {
		uint64_t rows = 0, bytes = 0;
		bool reused = false;
		struct stat sb;
		strcpy(path, cpath[0]);
		strcpy(ipath, cipath[0]);
		for (int k = 0; k < 2; k++) {
			if (stat(cpath[k], &sb) != 0)
				continue;
			if (reused) { /* both names: the part is the first one */
				printf("%s: removing %s, written before a restart: the part is "
				       "%s\n",
				       day, cpath[k], path);
				if (remove_archive(r, cpath[k], cipath[k]) != 0)
					return -1;
				continue;
			}
			/* Step 1: left by a run that died before recording it
			 * (under the other codec's name when the configuration
			 * changed since). */
			char from[300], count_sql[400];
			day_from(r->src, "$1", from, sizeof from);
			snprintf(count_sql, sizeof count_sql, "SELECT count(*) FROM %s", from);
			int64_t held = query_i64(r->conn, count_sql, 1, p1);
			if (held < 0)
				return -1;
			int vr = check_file(cpath[k], &rows, err, sizeof err);
			bool indexed = false;
			if (vr == CTL_ARCH_OK && (int64_t)rows == held) {
				char ierr[500];
				uint64_t irows = 0;
				indexed = check_indexed(cpath[k], cipath[k], &irows, ierr,
							sizeof ierr) == CTL_ARCH_OK &&
					  irows == rows;
				if (!indexed)
					snprintf(err, sizeof err, "its index: %s", ierr);
			}
			if (indexed) {
				reused = true;
				strcpy(path, cpath[k]);
				strcpy(ipath, cipath[k]);
				printf("%s: %s, written before a restart, is complete: used as it "
				       "is\n",
				       day, path);
			} else {
				printf("%s: removing %s, written before a restart: %s\n", day,
				       cpath[k],
				       vr == CTL_ARCH_OK && (int64_t)rows != held
					       ? "it does not hold the day's rows"
					       : err);
				if (remove_archive(r, cpath[k], cipath[k]) != 0)
					return -1;
			}
		}
		if (!reused) {
			/* Step 2. */
			int64_t n = write_day(r, day, tmp, itmp);
			if (n < 0)
				return -1;
			crash_point(r, "write");
			if (n == 0) {
				/* An empty day (an empty partition): nothing to keep. */
				unlink(tmp);
				unlink(itmp);
				int64_t gone;
				if (drop_day_tx(r, day, "0", NULL, &gone) != DROP_OK)
					return -1;
				printf("%s: held no positions: dropped, no archive\n", day);
				r->dropped_days++;
				return 0;
			}
			/* Step 3: what is on disk is what COPY gave, every member
			 * where the index says. The index is renamed first: an
			 * archive under its final name always has its own. */
			int vr = check_indexed(tmp, itmp, &rows, err, sizeof err);
			if (vr != CTL_ARCH_OK || rows != (uint64_t)n) {
				ctl_error("retention", "%s reads back wrong (%s); the day is kept",
					  tmp, vr != CTL_ARCH_OK ? err : "another row count");
				unlink(tmp);
				unlink(itmp);
				return -1;
			}
			if (rename(itmp, ipath) != 0 || rename(tmp, path) != 0 ||
			    sync_dir(r->dir) != 0) {
				ctl_error("retention", "cannot rename %s to %s: %s", tmp, path,
					  strerror(errno));
				unlink(tmp);
				unlink(itmp);
				return -1;
			}
			crash_point(r, "rename");
		}
		if (hash_file(path, sha, &bytes) != 0) {
			ctl_error("retention", "cannot read %s: %s", path, strerror(errno));
			return -1;
		}
		/* Step 4. */
		char part_s[16], rows_s[24], bytes_s[24];
		int64_t gone;
		snprintf(part_s, sizeof part_s, "%d", part);
		snprintf(rows_s, sizeof rows_s, "%" PRIu64, rows);
		snprintf(bytes_s, sizeof bytes_s, "%" PRIu64, bytes);
		const char *ins[] = { day, part_s, path, rows_s, bytes_s, sha };
		enum drop_rc rc = drop_day_tx(r, day, rows_s, ins, &gone);
		if (rc == DROP_OK) {
			printf("%s: archived %" PRIu64 " positions to %s (%" PRIu64
			       " bytes, sha256 %s), dropped\n",
			       day, rows, path, bytes, sha);
			r->dropped_days++;
			r->dropped_rows += rows;
			crash_point(r, "commit");
			return 0;
		}
		if (rc == DROP_ERROR)
			return -1;
		/* A late fix came in while the file was written: again. */
		printf("%s: a fix for the day came in while it was archived: once more\n", day);
		if (remove_archive(r, path, ipath) != 0)
			return -1;
	}
	ctl_error("retention", "%s: fixes for the day kept coming in; kept for the next run", day);
	return -1;
}

static int
drop_day(struct run *r, const char *day)
{
	int64_t gone;
	if (drop_day_tx(r, day, NULL, NULL, &gone) != DROP_OK)
		return -1;
	printf("%s: dropped %" PRId64 " positions (no archive_dir: not archived)\n", day, gone);
	r->dropped_days++;
	r->dropped_rows += (uint64_t)gone;
	return 0;
}

/* Compacts the closed days that this run keeps: from first_kept (NULL:
 * every day) to before today. Returns the days that failed, or 1 when
 * they could not be listed. */
static int
compact(struct run *r, const char *first_kept, const char *today, bool dry_run)
{
	struct ctl_compact_sum sum;
	if (query_i64(r->conn,
		      "SELECT (to_regprocedure('hazgate_positions_compact(date)')"
		      " IS NOT NULL)::int",
		      0, NULL) != 1) {
		printf("compact: positions has no compact layout (schema 012): nothing to "
		       "compact\n");
		return 0;
	}
	int failed = ctl_compact_days(r->conn, "retention", first_kept, today, dry_run, &sum);
	if (failed < 0)
		return 1;
	if (dry_run)
		printf("compact: %d days would be compacted\n", sum.days);
	else
		printf("compact: %d days compacted (%lld fixes), %d failed\n", sum.days, sum.fixes,
		       sum.failed);
	fflush(stdout);
	return failed;
}

static int
run(const struct ctl_common *co, const struct gw_config *cfg, bool dry_run, bool no_compact)
{
	struct run r = { .dir = cfg->retention.archive_dir[0] ? cfg->retention.archive_dir : NULL,
			 .codec = cfg->retention.archive_compression == CTL_ARCH_ZSTD ? CTL_ARCH_ZSTD
										   : CTL_ARCH_GZIP,
			 .crash = getenv("HAZGATE_RETENTION_CRASH") };
	int keep = cfg->retention.positions_days;
	int64_t today = ctl_day_of_us(ctl_now_us());
	char today_s[11], first_kept[11];
	ctl_day_format(today, today_s);
	ctl_day_format(today - keep, first_kept);

	if (keep > 0 && r.dir && !dry_run) {
		if (mkdir(r.dir, 0750) != 0 && errno != EEXIST) {
			ctl_error(co->cmd, "archive_dir %s: %s", r.dir, strerror(errno));
			return CTL_EFAIL;
		}
		if (access(r.dir, W_OK | X_OK) != 0) {
			ctl_error(co->cmd, "archive_dir %s: %s", r.dir, strerror(errno));
			return CTL_EFAIL;
		}
	}
	if (sodium_init() < 0) {
		ctl_error(co->cmd, "libsodium does not start");
		return CTL_EFAIL;
	}
	r.conn = ctl_connect(co->conninfo);
	if (!r.conn)
		return CTL_EFAIL;
	int rc = CTL_EFAIL;
	/* Floats as the shortest text that reads back exactly, whatever the
	 * role's or database's setting: the archive keeps the stored values. */
	PQclear(PQexec(r.conn, "SET extra_float_digits = 1"));
	if (!dry_run) {
		int64_t got = query_i64(r.conn,
					"SELECT pg_try_advisory_lock(" RETENTION_LOCK_KEY ")::int",
					0, NULL);
		if (got != 1) {
			if (got == 0)
				ctl_error(co->cmd, "another retention run is under way; try later");
			goto done;
		}
		if (r.dir && keep > 0)
			remove_temporaries(r.dir);
	}
	int compact_failed = no_compact
				     ? 0
				     : compact(&r, keep > 0 ? first_kept : NULL, today_s, dry_run);
	if (keep <= 0) {
		printf("retention: positions_days = 0: positions are kept for ever; nothing to "
		       "drop\n");
		rc = compact_failed ? CTL_EFAIL : CTL_OK;
		goto done;
	}
	r.src = SRC_TABLE;
	for (int k = SRC_DISPATCH; k >= SRC_ALL; k--) {
		const char *proc[] = { day_procs[k] };
		if (query_i64(r.conn, "SELECT (to_regprocedure($1) IS NOT NULL)::int", 1, proc) ==
		    1)
			r.src = (enum day_source)k;
	}
	r.has_alarms =
		query_i64(r.conn,
			  "SELECT count(*) FROM pg_attribute WHERE attrelid = 'positions'::regclass"
			  " AND attname = 'alarms' AND NOT attisdropped",
			  0, NULL) == 1;
	/* A day's archive is written from the slices and rows decoded here
	 * (ctl_slices_each_vehicle, ctl_archfix.h) where its records are
	 * COPY's byte for byte: 018's layout, floats at extra_float_digits > 0
	 * (set above), a client encoding whose characters never hold an ASCII
	 * byte (COPY scans those otherwise); else, and with
	 * HAZGATE_DAYREAD=sql (for comparison), COPY through the SQL decoder. */
	const char *dayread = getenv("HAZGATE_DAYREAD");
	r.c_read = r.src == SRC_ALL && r.has_alarms && !(dayread && strcmp(dayread, "sql") == 0) &&
		   query_i64(r.conn,
			     "SELECT (current_setting('extra_float_digits')::int > 0 AND"
			     " current_setting('client_encoding') NOT IN ('SJIS', 'SHIFT_JIS_2004',"
			     " 'BIG5', 'GBK', 'UHC', 'GB18030', 'JOHAB'))::int",
			     0, NULL) == 1;
	PGresult *days = ctl_query(r.conn, co->cmd,
				   "SELECT d::text FROM hazgate_positions_days() AS d ORDER BY d",
				   0, NULL);
	if (!days)
		goto done;
	int kept = 0;
	for (int i = 0; i < PQntuples(days); i++) {
		const char *day = PQgetvalue(days, i, 0);
		int64_t dn;
		if (ctl_day_parse(day, &dn) != 0)
			continue;
		if (!ctl_arch_due(dn, today, keep)) {
			kept++;
			continue;
		}
		if (dry_run) {
			printf("%s: due: would be %s\n", day,
			       r.dir ? "archived and dropped" : "dropped (no archive_dir)");
			continue;
		}
		int dr = r.dir ? archive_day(&r, day, dn) : drop_day(&r, day);
		if (dr != 0)
			r.failed_days++;
	}
	PQclear(days);
	printf("retention: %d days dropped (%" PRIu64 " positions), %d kept, %d failed;"
	       " kept: %s and later (positions_days = %d, today %s UTC)\n",
	       r.dropped_days, r.dropped_rows, kept, r.failed_days, first_kept, keep, today_s);
	rc = r.failed_days || compact_failed ? CTL_EFAIL : CTL_OK;
done:
	PQfinish(r.conn);
	return rc;
}

/* ---- retention verify --------------------------------------------------- */

struct verify {
	const char *dir; /* where the files are looked for; NULL: the recorded paths */
	bool deep;
	int ok, failed, unrecorded;
};

/* Checks one recorded archive (path as recorded; the file looked for in
 * v->dir when set) and prints its line. Returns 0 when it is as
 * recorded, -1 when not. */
static int
verify_part(struct verify *v, const char *day, const char *part, const char *recorded,
	    int64_t rows, int64_t bytes, const char *sha)
{
	char path[4096], ipath[4096], hex[65], err[600];
	uint64_t size = 0, read_rows = 0;
	const char *base = strrchr(recorded, '/');
	base = base ? base + 1 : recorded;
	if (v->dir)
		snprintf(path, sizeof path, "%s/%s", v->dir, base);
	else
		snprintf(path, sizeof path, "%s", recorded);
	printf("%s part %s: ", day, part);
	if (hash_file(path, hex, &size) != 0) {
		printf("FAILED: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((int64_t)size != bytes) {
		printf("FAILED: %s: %" PRIu64 " bytes where archives records %" PRId64 "\n", path,
		       size, bytes);
		return -1;
	}
	if (strcmp(hex, sha) != 0) {
		printf("FAILED: %s: SHA-256 %s where archives records %s: not the file"
		       " archived\n",
		       path, hex, sha);
		return -1;
	}
	bool indexed = ctl_arch_index_name(path, ipath, sizeof ipath) == 0 &&
		       access(ipath, F_OK) == 0;
	if (v->deep) {
		int rc = indexed ? check_indexed(path, ipath, &read_rows, err, sizeof err)
				 : check_file(path, &read_rows, err, sizeof err);
		if (rc != CTL_ARCH_OK) {
			/* The archive is as hashed; a read that fails through
			 * the index blames the index (readers then read the
			 * file whole). */
			printf("FAILED: %s: %s%s\n", indexed ? ipath : path, err,
			       indexed ? " (the archive matches its SHA-256; its index does not"
					 " serve)"
				       : "");
			return -1;
		}
		if ((int64_t)read_rows != rows) {
			printf("FAILED: %s: %" PRIu64 " rows where archives records %" PRId64 "\n",
			       path, read_rows, rows);
			return -1;
		}
	}
	printf("ok: %s, %" PRId64 " rows%s, %" PRIu64 " bytes, SHA-256 %s%s\n", path, rows,
	       v->deep ? " read" : "", size, hex, indexed ? "" : " (no index)");
	return 0;
}

/* Lists the archive files in v->dir of days first..last that no row of
 * recorded (day, part, path's file name) names. Returns 0, or -1 when the folder cannot be
 * read. */
static int
verify_unrecorded(struct verify *v, const PGresult *recorded, int64_t first, int64_t last)
{
	struct ctl_arch_file *files = NULL;
	size_t n = 0;
	char err[600];
	if (ctl_arch_list(v->dir, first, last, &files, &n, err, sizeof err) != CTL_ARCH_OK) {
		printf("FAILED: archive folder %s: %s\n", v->dir, err);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char day[11];
		bool known = false;
		ctl_day_format(files[i].day, day);
		for (int r = 0; r < PQntuples(recorded) && !known; r++) {
			/* the same day and part under the same name (a part's
			 * other codec's file is not the one recorded) */
			const char *path = PQgetvalue(recorded, r, 2), *base = strrchr(path, '/');
			known = strcmp(PQgetvalue(recorded, r, 0), day) == 0 &&
				atoi(PQgetvalue(recorded, r, 1)) == files[i].part &&
				strcmp(base ? base + 1 : path, files[i].name) == 0;
		}
		if (!known) {
			printf("%s part %d: not recorded: %s/%s (a run that died before recording"
			       " it leaves one; the next run uses or removes it)\n",
			       day, files[i].part, v->dir, files[i].name);
			v->unrecorded++;
		}
	}
	free(files);
	return 0;
}

static int
verify(const struct ctl_common *co, struct verify *v, const char *from, const char *to)
{
	int64_t first = -719162, last = 2932896; /* 0001-01-01 .. 9999-12-31 */
	if (from && ctl_day_parse(from, &first) != 0)
		return ctl_usage_error(co->cmd, co->usage, "--from %s: not a day (YYYY-MM-DD)", from);
	if (to && ctl_day_parse(to, &last) != 0)
		return ctl_usage_error(co->cmd, co->usage, "--to %s: not a day (YYYY-MM-DD)", to);
	if (first > last)
		return ctl_usage_error(co->cmd, co->usage, "--from is after --to");
	struct stat sb;
	if (v->dir && stat(v->dir, &sb) != 0) {
		ctl_error(co->cmd, "archive folder %s: %s", v->dir, strerror(errno));
		return CTL_EFAIL;
	}
	if (v->dir && !S_ISDIR(sb.st_mode)) {
		ctl_error(co->cmd, "archive folder %s: not a folder", v->dir);
		return CTL_EFAIL;
	}
	if (sodium_init() < 0) {
		ctl_error(co->cmd, "libsodium does not start");
		return CTL_EFAIL;
	}
	PGconn *conn = ctl_connect(co->conninfo);
	if (!conn)
		return CTL_EFAIL;
	const char *params[] = { from, to };
	PGresult *res = ctl_query(conn, co->cmd,
				  "SELECT to_char(day, 'YYYY-MM-DD'), part, path, rows, bytes, sha256"
				  " FROM archives WHERE ($1::date IS NULL OR day >= $1::date)"
				  " AND ($2::date IS NULL OR day <= $2::date) ORDER BY day, part",
				  2, params);
	PQfinish(conn);
	if (!res)
		return CTL_EFAIL;
	for (int i = 0; i < PQntuples(res); i++) {
		if (verify_part(v, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
				PQgetvalue(res, i, 2), ctl_field_i64(res, i, 3),
				ctl_field_i64(res, i, 4), PQgetvalue(res, i, 5)) == 0)
			v->ok++;
		else
			v->failed++;
		fflush(stdout);
	}
	if (v->dir && verify_unrecorded(v, res, first, last) != 0)
		v->failed++;
	printf("verify: %d archives %s, %d as recorded, %d not; %d files not recorded\n",
	       PQntuples(res), v->deep ? "read through" : "hashed", v->ok,
	       PQntuples(res) - v->ok, v->unrecorded);
	PQclear(res);
	return v->failed ? CTL_EFAIL : CTL_OK;
}

int
ctl_retention_main(int argc, char **argv)
{
	struct ctl_common co = { .cmd = "retention",
				 .usage = usage_text,
				 .help = help_text,
				 .formats = CTL_FMT_TABLE,
				 .format = CTL_FMT_TABLE };
	const char *config = NULL, *archive = NULL, *from = NULL, *to = NULL;
	bool dry_run = false, no_compact = false, deep = false;
	const struct ctl_optval opts[] = {
		{ .code = OPT_CONFIG, .value = &config, .empty = "--config needs a file" },
		{ .code = OPT_DRY_RUN, .flag = &dry_run },
		{ .code = OPT_NO_COMPACT, .flag = &no_compact },
		{ .code = OPT_ARCHIVE, .value = &archive, .empty = "--archive needs a folder" },
		{ .code = OPT_FROM, .value = &from, .empty = "--from needs a day" },
		{ .code = OPT_TO, .value = &to, .empty = "--to needs a day" },
		{ .code = OPT_DEEP, .flag = &deep },
		{ 0 },
	};
	int parsed = ctl_parse_options(&co, argc, argv, longopts, opts, true);
	if (parsed >= 0)
		return parsed;
	if (optind >= argc)
		return ctl_usage_error(co.cmd, co.usage, "what? (run or verify)");
	bool is_verify = strcmp(argv[optind], "verify") == 0;
	if (!is_verify && strcmp(argv[optind], "run") != 0)
		return ctl_usage_error(co.cmd, co.usage, "unknown subcommand '%s' (run or verify)",
				       argv[optind]);
	if (argc - optind > 1)
		return ctl_usage_error(co.cmd, co.usage, "'%s' is extra", argv[optind + 1]);
	if (is_verify && (dry_run || no_compact))
		return ctl_usage_error(co.cmd, co.usage, "--%s is for run, not verify",
				       dry_run ? "dry-run" : "no-compact");
	if (!is_verify && (archive || from || to || deep))
		return ctl_usage_error(co.cmd, co.usage, "--%s is for verify, not run",
				       archive ? "archive"
				       : from  ? "from"
				       : to    ? "to"
					       : "deep");
	if (is_verify && config && archive)
		return ctl_usage_error(co.cmd, co.usage, "--archive or --config, not both");
	if (!is_verify && !config)
		return ctl_usage_error(co.cmd, co.usage,
				       "--config FILE: the gateway's configuration ([retention])");
	struct gw_config cfg;
	char err[512];
	gw_config_default(&cfg);
	if (config && gw_config_load(config, &cfg, err, sizeof err) != GW_CONFIG_OK) {
		ctl_error(co.cmd, "--config: %s", err);
		return CTL_EUSAGE;
	}
	if (is_verify) {
		struct verify v = { .dir = archive, .deep = deep };
		if (config) {
			if (!cfg.retention.archive_dir[0])
				return ctl_usage_error(co.cmd, co.usage,
						       "--config %s: no [retention] archive_dir",
						       config);
			v.dir = cfg.retention.archive_dir;
		}
		return verify(&co, &v, from, to);
	}
	return run(&co, &cfg, dry_run, no_compact);
}
