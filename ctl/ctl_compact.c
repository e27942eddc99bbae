/*
 * ctl_compact.c: hazgate-ctl compact [--before DATE] [--sql], and the
 * compaction that `retention run` does first (ctl_compact_days).
 *
 * Moves each closed day of positions from the row tier into slices, one
 * transaction a day, oldest first, and says what it moved. `retention run`
 * (its daily timer) does it for every day before today (UTC); this command
 * is for a run by hand, and once after migrating to 012 to convert the rows
 * stored before.
 *
 * The slices are encoded here, in C (ctl_compact_enc.c), between schema
 * 019's hazgate_positions_compact_begin(day) (locks, the slices that late
 * fixes fall in decoded back into rows) and _finish(day) (the slices in,
 * the day's rows out): the day's fixes come from a cursor ordered by
 * (vehicle, ts) in binary, FETCH_ROWS at a time, and go out as binary COPY
 * into the temporary table begin made, OUT_FLUSH bytes at a time, so memory
 * stays bounded whatever the day's size. --sql (or HAZGATE_COMPACT=sql)
 * runs schema/012's SQL function instead (the same slices; several times
 * the database's CPU: schema/README.md). HAZGATE_COMPACT_STATS=1 prints,
 * per day, the CPU of the database backend (read from /proc: the database
 * on this machine) and of this process, for bench/bench_storage.sh.
 *
 * A compaction ends by dropping the day's row partition, which needs an
 * ACCESS EXCLUSIVE lock on positions_recent for a moment: behind a waiting
 * DROP the gateway's inserts queue, so the wait is bounded (lock_timeout)
 * and the day tried again a little later, as retention's drop does.
 */
#include "ctl/ctl.h"
#include "ctl/ctl_compact_enc.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] = "compact [--before YYYY-MM-DD] [--sql]";

static const char help_text[] =
	"usage: hazgate-ctl compact [--before YYYY-MM-DD] [--sql]\n"
	"\n"
	"Compacts every day (UTC) before --before that still has positions in rows\n"
	"(default: yesterday, so today and yesterday stay rows for late fixes):\n"
	"its fixes go into one slice per vehicle and hour, about 15 bytes a fix\n"
	"instead of about 170 (schema/README.md). Reads are unchanged. Each day is\n"
	"its own transaction; inserts into that day wait for it. 'retention run'\n"
	"(hazgate-retention.timer, daily) compacts every day before today itself.\n"
	"\n"
	"  --sql  encode the slices with the database's SQL function (schema/012)\n"
	"         instead of here, in C (the same slices, several times the\n"
	"         database's CPU); HAZGATE_COMPACT=sql does the same, also for\n"
	"         'retention run'.\n";

enum { OPT_BEFORE = CTL_OPT_FIRST_COMMAND, OPT_SQL };

static const struct option longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "before", required_argument, NULL, OPT_BEFORE },
	{ "sql", no_argument, NULL, OPT_SQL },
	{ NULL, 0, NULL, 0 },
};

/* A day's compaction waits at most this long for a lock, and is tried this
 * many times, this far apart. */
#define COMPACT_LOCK_TIMEOUT "5s"
#define COMPACT_TRIES        3
#define COMPACT_PAUSE_S      5

/* Rows a FETCH, and the slices' bytes sent in one COPY; the tests make
 * them small (HAZGATE_COMPACT_FETCH, HAZGATE_COMPACT_FLUSH) so that slices
 * cross FETCHes and COPYs. */
#define FETCH_ROWS 20000
#define OUT_FLUSH  ((size_t)32 << 20)

/* An environment variable's positive number, or dflt. */
static long long
env_size(const char *name, long long dflt)
{
	const char *v = getenv(name);
	char *end;
	long long n = v ? strtoll(v, &end, 10) : 0;
	return v && *v && !*end && n > 0 ? n : dflt;
}

/* --sql given (or HAZGATE_COMPACT=sql): schema/012's SQL function. */
static bool compact_sql;

/* What one day's compaction did, for HAZGATE_COMPACT_STATS. */
struct compact_stats {
	long long fixes, slices, bytes;
	long pid;                        /* the backend's, 0: no figures */
	double at;                       /* its CPU at the last mark */
	double begin_s, read_s, copy_s;  /* its CPU in begin, the cursor, the COPYs */
};

/* A statement whose result does not matter beyond success: false after
 * saying why (as "compacting DAY: ..."); *state then holds the SQLSTATE. */
static bool
exec_ok(PGresult *res, const char *cmd, const char *day, char state[6])
{
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(res);
		return true;
	}
	const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	snprintf(state, 6, "%s", s ? s : "");
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	ctl_error(cmd, "compacting %s: %s", day, msg ? msg : PQresultErrorMessage(res));
	PQclear(res);
	return false;
}

/* The CPU seconds (user + system) of process pid from /proc, or -1. */
static double
proc_cpu_s(long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	unsigned long long ut, st;
	/* after the command: state and 10 fields, then utime and stime */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double
self_cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Adds the backend's CPU since the last mark to *phase. */
static void
stats_mark(struct compact_stats *st, double *phase)
{
	if (!st->pid)
		return;
	double now = proc_cpu_s(st->pid);
	*phase += now - st->at;
	st->at = now;
}

/* The slices' rows collected since the last flush, sent as one COPY into
 * begin's temporary table. */
static bool
out_flush(PGconn *conn, struct ctl_buf *out, const char *cmd, const char *day, char state[6],
	  struct compact_stats *st)
{
	static const char sql[] = "COPY pg_temp.hg_compact_out (%s) FROM STDIN (FORMAT binary)";
	char text[1024];

	if (out->len <= 19)
		return true;
	stats_mark(st, &st->read_s);
	ctl_cenc_copy_trailer(out);
	if (out->oom) {
		ctl_error(cmd, "compacting %s: out of memory", day);
		return false;
	}
	snprintf(text, sizeof text, sql, ctl_cenc_slice_columns);
	PGresult *res = PQexec(conn, text);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		exec_ok(res, cmd, day, state);
		return false;
	}
	PQclear(res);
	bool sent = PQputCopyData(conn, (const char *)out->p, (int)out->len) == 1;
	if (PQputCopyEnd(conn, sent ? NULL : "hazgate-ctl: the slices could not be sent") != 1)
		sent = false;
	bool ok = true;
	while ((res = PQgetResult(conn)))
		ok = exec_ok(res, cmd, day, state) && ok;
	if (!sent && ok) {
		ctl_error(cmd, "compacting %s: %s", day, PQerrorMessage(conn));
		ok = false;
	}
	st->bytes += (long long)out->len;
	stats_mark(st, &st->copy_s);
	out->len = 0;
	ctl_cenc_copy_header(out);
	return ok;
}

/* The fixes of the slice being read: borrowed from the FETCH results held
 * (every result since the one where the slice began). */
struct slice_acc {
	struct ctl_fix *f;
	size_t n, cap;
	PGresult **held;
	size_t nheld, capheld;
};

static bool
acc_push(struct slice_acc *a, const struct ctl_fix *f)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 1024;
		struct ctl_fix *p = realloc(a->f, cap * sizeof *p);
		if (!p)
			return false;
		a->f = p;
		a->cap = cap;
	}
	a->f[a->n++] = *f;
	return true;
}

static void
acc_release(struct slice_acc *a)
{
	for (size_t i = 0; i < a->nheld; i++)
		PQclear(a->held[i]);
	a->nheld = 0;
}

static bool
acc_hold(struct slice_acc *a, PGresult *res)
{
	if (a->nheld == a->capheld) {
		size_t cap = a->capheld ? 2 * a->capheld : 8;
		PGresult **p = realloc(a->held, cap * sizeof *p);
		if (!p)
			return false;
		a->held = p;
		a->capheld = cap;
	}
	a->held[a->nheld++] = res;
	return true;
}

/* Encodes the slice in a, if any, into out. */
static bool
slice_end(struct slice_acc *a, struct ctl_buf *out, const char *cmd, const char *day,
	  struct compact_stats *st)
{
	if (!a->n)
		return true;
	size_t bad;
	int rc = ctl_cenc_slice(out, a->f, a->n, &bad);
	if (rc != CTL_CENC_OK) {
		char ts[40];
		ctl_time_format(a->f[bad].ts + INT64_C(946684800000000), ts);
		ctl_error(cmd, "compacting %s: the fix of %.*s at %s: %s", day,
			  (int)a->f[bad].vehicle_len, a->f[bad].vehicle, ts, ctl_cenc_strerror(rc));
		return false;
	}
	st->slices++;
	a->n = 0;
	return true;
}

/* hazgate_positions_compact_finish(day, rows): the database checks that the
 * day's rows and the slices sent both hold the rows read. */
static bool
finish(PGconn *conn, const char *cmd, const char *day, long long rows, char state[6])
{
	char n[24];
	snprintf(n, sizeof n, "%lld", rows);
	const char *params[] = { day, n };
	return exec_ok(PQexecParams(conn, "SELECT hazgate_positions_compact_finish($1::date, $2)",
				    2, NULL, params, NULL, NULL, 0),
		       cmd, day, state);
}

/*
 * The C path, inside the caller's transaction: begin, read and encode,
 * COPY the slices, finish. Returns the fixes moved, or -1 after saying why
 * (state: the SQLSTATE of a statement that failed, or "").
 */
static long long
compact_day_c(PGconn *conn, const char *cmd, const char *day, char state[6],
	      struct compact_stats *st)
{
	const char *params[] = { day };
	struct slice_acc a = { 0 };
	struct ctl_buf out = { 0 };
	PGresult *cur = NULL;
	long long added, rows = 0, moved = -1;
	char sql[1024], fetch[80];
	size_t flush_at = (size_t)env_size("HAZGATE_COMPACT_FLUSH", (long long)OUT_FLUSH);

	snprintf(fetch, sizeof fetch, "FETCH FORWARD %lld FROM hg_compact_cur",
		 env_size("HAZGATE_COMPACT_FETCH", FETCH_ROWS));

	PGresult *res = PQexecParams(conn, "SELECT hazgate_positions_compact_begin($1::date)", 1,
				     NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		exec_ok(res, cmd, day, state);
		return -1;
	}
	added = ctl_field_i64(res, 0, 0);
	PQclear(res);
	stats_mark(st, &st->begin_s);
	/* the day comes from hazgate_positions_compact_due: YYYY-MM-DD */
	snprintf(sql, sizeof sql,
		 "DECLARE hg_compact_cur NO SCROLL CURSOR FOR SELECT %s FROM positions_recent"
		 " WHERE ts >= '%.10s'::date::timestamp AT TIME ZONE 'UTC'"
		 " AND ts < ('%.10s'::date + 1)::timestamp AT TIME ZONE 'UTC' ORDER BY vehicle, ts",
		 ctl_cenc_select, day, day);
	if (strspn(day, "0123456789-") != strlen(day)) {
		ctl_error(cmd, "compacting %s: not a day", day);
		goto done;
	}
	if (!exec_ok(PQexec(conn, "SET LOCAL work_mem = '256MB'; SET LOCAL cursor_tuple_fraction = 1"),
		     cmd, day, state) ||
	    !exec_ok(PQexec(conn, sql), cmd, day, state))
		goto done;
	ctl_cenc_copy_header(&out);
	for (;;) {
		res = PQexecParams(conn, fetch, 0, NULL, NULL, NULL, NULL, 1);
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != CTL_FIX_COLS) {
			exec_ok(res, cmd, day, state);
			goto done;
		}
		int nt = PQntuples(res);
		if (nt == 0) {
			PQclear(res);
			break;
		}
		/* the previous result holds the open slice's first fixes */
		if (cur && !a.n) {
			PQclear(cur);
		} else if (cur && !acc_hold(&a, cur)) {
			PQclear(cur);
			cur = res;
			ctl_error(cmd, "compacting %s: out of memory", day);
			goto done;
		}
		cur = res;
		for (int r = 0; r < nt; r++) {
			const char *val[CTL_FIX_COLS];
			int len[CTL_FIX_COLS];
			struct ctl_fix f;
			for (int c = 0; c < CTL_FIX_COLS; c++) {
				val[c] = PQgetvalue(res, r, c);
				len[c] = PQgetisnull(res, r, c) ? -1 : PQgetlength(res, r, c);
			}
			if (ctl_cenc_fix_parse(&f, val, len) != CTL_CENC_OK) {
				ctl_error(cmd, "compacting %s: row %lld: a field not in the form of "
					  "its type", day, rows + 1);
				goto done;
			}
			rows++;
			if (a.n && (f.vehicle_len != a.f[0].vehicle_len ||
				    memcmp(f.vehicle, a.f[0].vehicle, f.vehicle_len) ||
				    ctl_cenc_hour(f.ts) != ctl_cenc_hour(a.f[0].ts))) {
				if (!slice_end(&a, &out, cmd, day, st))
					goto done;
				acc_release(&a);
				if (out.len >= flush_at && !out_flush(conn, &out, cmd, day, state, st))
					goto done;
			}
			if (!acc_push(&a, &f)) {
				ctl_error(cmd, "compacting %s: out of memory", day);
				goto done;
			}
		}
	}
	if (!slice_end(&a, &out, cmd, day, st) || !out_flush(conn, &out, cmd, day, state, st) ||
	    !exec_ok(PQexec(conn, "CLOSE hg_compact_cur"), cmd, day, state) ||
	    !finish(conn, cmd, day, rows, state))
		goto done;
	moved = rows - added;
	st->fixes = rows;
done:
	acc_release(&a);
	PQclear(cur);
	free(a.f);
	free(a.held);
	ctl_buf_free(&out);
	return moved;
}

/* Compacts one day in its own transaction. Returns the fixes moved, or -1
 * after saying why (the day is left as it was). */
static long long
compact_day(PGconn *conn, const char *cmd, const char *day, long backend_pid)
{
	for (int attempt = 1;; attempt++) {
		double b0 = backend_pid ? proc_cpu_s(backend_pid) : 0, c0 = self_cpu_s();
		struct compact_stats st = { .pid = backend_pid, .at = b0 };
		char state[6] = "";
		long long moved = -1;

		if (exec_ok(PQexec(conn, "BEGIN; SET LOCAL lock_timeout = '" COMPACT_LOCK_TIMEOUT "'"),
			    cmd, day, state)) {
			if (compact_sql) {
				const char *params[] = { day };
				PGresult *res = PQexecParams(conn,
							     "SELECT hazgate_positions_compact($1::date)",
							     1, NULL, params, NULL, NULL, 0);
				if (PQresultStatus(res) == PGRES_TUPLES_OK) {
					moved = ctl_field_i64(res, 0, 0);
					PQclear(res);
				} else {
					exec_ok(res, cmd, day, state);
				}
			} else {
				moved = compact_day_c(conn, cmd, day, state, &st);
			}
		}
		if (moved >= 0) {
			if (exec_ok(PQexec(conn, "COMMIT"), cmd, day, state)) {
				if (backend_pid)
					printf("compact_stats: day=%s path=%s fixes=%lld slices=%lld "
					       "copy_bytes=%lld backend_cpu_s=%.3f ctl_cpu_s=%.3f "
					       "(backend: begin %.3f, cursor %.3f, copy %.3f)\n",
					       day, compact_sql ? "sql" : "c", moved, st.slices,
					       st.bytes, proc_cpu_s(backend_pid) - b0,
					       self_cpu_s() - c0, st.begin_s, st.read_s, st.copy_s);
				return moved;
			}
			return -1;
		}
		PQclear(PQexec(conn, "ROLLBACK"));
		bool busy = !strcmp(state, "55P03") || !strcmp(state, "40P01");
		if (!busy || attempt == COMPACT_TRIES)
			return -1;
		printf("compacting %s: the database is busy: again in %d s\n", day,
		       COMPACT_PAUSE_S);
		fflush(stdout);
		sleep(COMPACT_PAUSE_S);
	}
}

int
ctl_compact_days(PGconn *conn, const char *cmd, const char *from, const char *before, bool dry_run,
		 struct ctl_compact_sum *sum)
{
	const char *params[] = { from, before };
	PGresult *due =
		ctl_query(conn, cmd,
			  "SELECT d::text FROM hazgate_positions_compact_due(coalesce($2::date,"
			  " (now() AT TIME ZONE 'UTC')::date - 1)) d"
			  " WHERE $1::date IS NULL OR d >= $1::date ORDER BY d",
			  2, params);
	*sum = (struct ctl_compact_sum){ 0 };
	if (!due)
		return -1;
	const char *env = getenv("HAZGATE_COMPACT");
	if (env && !strcmp(env, "sql"))
		compact_sql = true;
	long backend_pid = 0;
	env = getenv("HAZGATE_COMPACT_STATS");
	if (env && !strcmp(env, "1") && !dry_run)
		backend_pid = PQbackendPID(conn);
	for (int i = 0; i < PQntuples(due); i++) {
		const char *day = PQgetvalue(due, i, 0);
		if (dry_run) {
			printf("%s: would be compacted (rows into slices)\n", day);
			sum->days++;
			continue;
		}
		long long moved = compact_day(conn, cmd, day, backend_pid);
		if (moved < 0) {
			sum->failed++;
			continue;
		}
		printf("compacted %s: %lld fixes\n", day, moved);
		fflush(stdout);
		sum->days++;
		sum->fixes += moved;
	}
	PQclear(due);
	return sum->failed;
}

int
ctl_compact_main(int argc, char **argv)
{
	struct ctl_common co = { .cmd = "compact", .usage = usage_text, .help = help_text };
	const char *before = NULL;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, CTL_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (c == OPT_BEFORE) {
			before = optarg;
			continue;
		}
		if (c == OPT_SQL) {
			compact_sql = true;
			continue;
		}
		int r = ctl_common_option(&co, c, argv);
		if (r >= 0)
			return r;
	}
	if (optind < argc)
		return ctl_usage_error(co.cmd, co.usage, "unexpected argument '%s'", argv[optind]);
	if (before) {
		int y, m, d;
		char tail;

		if (strlen(before) != 10 || sscanf(before, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
			return ctl_usage_error(co.cmd, co.usage, "--before: '%s' is not YYYY-MM-DD",
					       before);
	}
	PGconn *conn = ctl_connect(co.conninfo);
	if (!conn)
		return CTL_EFAIL;
	struct ctl_compact_sum sum;
	int failed = ctl_compact_days(conn, co.cmd, NULL, before, false, &sum);
	PQfinish(conn);
	return failed == 0 ? CTL_OK : CTL_EFAIL;
}
