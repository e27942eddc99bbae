/*
 * ctl_slicesdb.c: one vehicle's stored positions read by hazgate-ctl and
 * decoded here (ctl_slices.h) instead of by hazgate_positions_vehicle().
 *
 * Two queries, both with binary results: the row tier's fixes by its key
 * (vehicle, ts), and the raw columns of the slices that overlap the
 * range (the same probe of positions_slices' key as schema/018's
 * function: vehicle = V AND hour > from - 1 h AND hour < to, partitions
 * pruned by day); the columns a caller does not need are selected as
 * NULL, so the server neither detoasts nor sends them. The fixes are
 * merged in ts order.
 *
 * Rights: SELECT on positions_recent (the grants of 001's positions,
 * which 012 renamed) and positions_slices (012), which hazgate_dispatcher
 * and hazgate_admin hold; the SQL functions ran with the caller's rights
 * too (not SECURITY DEFINER), so nobody who could read before is refused.
 */
#include "ctl/ctl.h"
#include "ctl/ctl_slices.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* asprintf's text, or NULL (asprintf leaves its pointer undefined on
 * failure). */
static char * __attribute__((format(printf, 1, 2)))
text_of(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* The array type of an element type. */
static uint32_t
array_oid(uint32_t elem)
{
	switch (elem) {
	case CTL_PG_BOOL:
		return 1000;
	case CTL_PG_INT2:
		return 1005;
	case CTL_PG_INT4:
		return 1007;
	case CTL_PG_TEXT:
		return 1009;
	case CTL_PG_INT8:
		return 1016;
	case CTL_PG_FLOAT4:
		return 1021;
	default:
		return 0;
	}
}

static const char *
sql_type(uint32_t t)
{
	switch (t) {
	case CTL_PG_BOOL:
		return "boolean";
	case CTL_PG_INT2:
		return "smallint";
	case CTL_PG_INT4:
		return "integer";
	case CTL_PG_INT8:
		return "bigint";
	case CTL_PG_TEXT:
		return "text";
	case CTL_PG_FLOAT4:
		return "real";
	case CTL_PG_FLOAT8:
		return "double precision";
	default:
		return "timestamptz";
	}
}

/* SELECT list of cols (n of them) for want: the wanted columns, NULL of
 * their type for the others. Returns a malloc'd string or NULL. */
static char *
select_list(const struct ctl_col_desc *cols, int n, unsigned want)
{
	size_t cap = 4096, len = 0;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int k = 0; k < n; k++) {
		bool use = cols[k].want == 0 || (cols[k].want & want) || (want & CTL_WANT_ALL);
		int w = use ? snprintf(s + len, cap - len, "%s%s", k ? ", " : "", cols[k].name)
			    : snprintf(s + len, cap - len, "%sNULL::%s%s", k ? ", " : "",
				       sql_type(cols[k].type), cols[k].array ? "[]" : "");
		if (w < 0 || (size_t)w >= cap - len) {
			free(s);
			return NULL;
		}
		len += (size_t)w;
	}
	return s;
}

/* Checks that res has the n columns of cols, of their types. */
static int
check_types(const PGresult *res, const struct ctl_col_desc *cols, int n, const char *table,
	    char *err, size_t errlen)
{
	if (PQnfields(res) != n) {
		snprintf(err, errlen, "%s: %d columns, %d expected", table, PQnfields(res), n);
		return -1;
	}
	for (int k = 0; k < n; k++) {
		uint32_t want = cols[k].array ? array_oid(cols[k].type) : cols[k].type;
		if (PQftype(res, k) != want || PQfformat(res, k) != 1) {
			snprintf(err, errlen, "%s.%s: type %u, %u expected in binary", table,
				 cols[k].name, (unsigned)PQftype(res, k), (unsigned)want);
			return -1;
		}
	}
	return 0;
}

/* Row i of res (n columns) as binary values. */
static void
row_values(const PGresult *res, int i, int n, struct ctl_pgval *v)
{
	for (int k = 0; k < n; k++)
		v[k] = PQgetisnull(res, i, k)
			       ? (struct ctl_pgval){ NULL, 0 }
			       : (struct ctl_pgval){ (const uint8_t *)PQgetvalue(res, i, k),
						     (size_t)PQgetlength(res, i, k) };
}

/* The database's refusal in res (NULL: the connection's) as err. */
static void
refused(PGconn *conn, const PGresult *res, char *err, size_t errlen)
{
	const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	if (PQresultStatus(res) == PGRES_PIPELINE_ABORTED || !*m)
		m = "an earlier statement of the read failed";
	snprintf(err, errlen, "the database refused: %.*s%s", (int)strcspn(m, "\n"), m,
		 strstr(m, "does not exist") ? " (a database of migration 012 or later"
					      " is needed: hazgate-ctl migrate)"
					    : "");
}

/* The result of the next statement of the pipeline (and the NULL that
 * ends it) if its status is `want`; else NULL, with the first refusal
 * in err (*failed). */
static PGresult *
pipe_result(PGconn *conn, ExecStatusType want, bool *failed, char *err, size_t errlen)
{
	PGresult *res = PQgetResult(conn);
	if (res && PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		PQclear(PQgetResult(conn));     /* the NULL after it */
	if (PQresultStatus(res) == want)
		return res;
	if (!*failed)
		refused(conn, res, err, errlen);
	*failed = true;
	PQclear(res);
	return NULL;
}

/*
 * Runs the read's statements in one pipeline (one round trip, not four):
 * when own, BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; the rows'
 * query (rq) and the slices' (sq), each with params and binary results;
 * when own, COMMIT. Both reads see one snapshot: a compaction committed
 * between them would have moved fixes from the rows read into slices read
 * after (twice), or the other way round (lost); its DROP of the day's rows
 * waits for the transaction. Returns 0 with *rows and *slices, or -1 with
 * a message in err (the connection is out of the pipeline and of any
 * transaction it began).
 */
static int
run_reads(PGconn *conn, bool own, const char *rq, const char *sq, const char *const *params,
	  PGresult **rows, PGresult **slices, char *err, size_t errlen)
{
	static const char begin[] = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
	/* tests only: a pause between the two reads (42-ctl-vehicles-track) */
	const char *pause = getenv("HAZGATE_TEST_READ_PAUSE_MS");
	int pause_ms = pause ? atoi(pause) : 0;
	bool failed = false, got_rows = false;
	PGresult *r;

	if (PQenterPipelineMode(conn) != 1) {
		snprintf(err, errlen, "the database connection: %s", PQerrorMessage(conn));
		return -1;
	}
	if ((own && !PQsendQueryParams(conn, begin, 0, NULL, NULL, NULL, NULL, 0)) ||
	    !PQsendQueryParams(conn, rq, 3, NULL, params, NULL, NULL, 1))
		goto send_failed;
	if (pause_ms > 0) {
		if (!PQsendFlushRequest(conn) || PQflush(conn) != 0)
			goto send_failed;
		if (own)
			PQclear(pipe_result(conn, PGRES_COMMAND_OK, &failed, err, errlen));
		*rows = pipe_result(conn, PGRES_TUPLES_OK, &failed, err, errlen);
		got_rows = true;
		usleep((useconds_t)pause_ms * 1000);
	}
	if (!PQsendQueryParams(conn, sq, 3, NULL, params, NULL, NULL, 1) ||
	    (own && !PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0)) ||
	    PQpipelineSync(conn) != 1)
		goto send_failed;
	if (!got_rows) {
		if (own)
			PQclear(pipe_result(conn, PGRES_COMMAND_OK, &failed, err, errlen));
		*rows = pipe_result(conn, PGRES_TUPLES_OK, &failed, err, errlen);
	}
	*slices = pipe_result(conn, PGRES_TUPLES_OK, &failed, err, errlen);
	if (own)
		PQclear(pipe_result(conn, PGRES_COMMAND_OK, &failed, err, errlen));
	goto drain;
send_failed:
	if (!failed)
		snprintf(err, errlen, "the database connection: %s", PQerrorMessage(conn));
	failed = true;
	PQpipelineSync(conn);
drain:
	/* up to the sync point; NULL twice: nothing more will come */
	for (int nulls = 0; nulls < 2;) {
		r = PQgetResult(conn);
		nulls = r ? 0 : nulls + 1;
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		PQclear(r);
	}
	PQexitPipelineMode(conn);
	if (failed && own && PQtransactionStatus(conn) != PQTRANS_IDLE)
		PQclear(PQexec(conn, "ROLLBACK"));
	if (!failed)
		return 0;
	PQclear(*rows);
	PQclear(*slices);
	*rows = *slices = NULL;
	return -1;
}

int
ctl_slices_fetch(PGconn *conn, const char *vehicle, int64_t from_us, int64_t to_us,
		 unsigned want, struct ctl_fixes *out, char *err, size_t errlen)
{
	char from_s[40], to_s[40];
	ctl_time_format(from_us, from_s);
	ctl_time_format(to_us, to_s);
	const char *params[] = { vehicle, from_s, to_s };
	char *rl = select_list(ctl_row_cols, CTL_RC_NCOLS, want);
	char *sl = select_list(ctl_slice_cols, CTL_SC_NCOLS, want);
	char *rq = NULL, *sq = NULL;
	PGresult *rows = NULL, *slices = NULL;
	int rc = -1;

	if (rl && sl)
		rq = text_of("SELECT %s FROM positions_recent WHERE vehicle = $1"
			     " AND ts >= $2::timestamptz AND ts < $3::timestamptz ORDER BY ts", rl);
	if (rq)
		sq = text_of("SELECT %s FROM positions_slices WHERE vehicle = $1"
			     " AND hour > $2::timestamptz - interval '1 hour'"
			     " AND hour < $3::timestamptz AND t_last >= $2::timestamptz"
			     " AND t_first < $3::timestamptz ORDER BY hour",
			     sl);
	if (!sq) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (run_reads(conn, PQtransactionStatus(conn) == PQTRANS_IDLE, rq, sq, params, &rows,
		      &slices, err, errlen) != 0 ||
	    check_types(rows, ctl_row_cols, CTL_RC_NCOLS, "positions_recent", err, errlen) != 0 ||
	    check_types(slices, ctl_slice_cols, CTL_SC_NCOLS, "positions_slices", err, errlen) != 0)
		goto done;

	char why[400];
	for (int i = 0; i < PQntuples(rows); i++) {
		struct ctl_pgval v[CTL_RC_NCOLS];
		row_values(rows, i, CTL_RC_NCOLS, v);
		if (ctl_row_decode(v, out, why, sizeof why) != 0) {
			snprintf(err, errlen, "a stored position of %s: %s", vehicle, why);
			goto done;
		}
	}
	for (int i = 0; i < PQntuples(slices); i++) {
		struct ctl_pgval v[CTL_SC_NCOLS];
		row_values(slices, i, CTL_SC_NCOLS, v);
		if (ctl_slice_decode(v, from_us, to_us, out, why, sizeof why) != 0) {
			char hour[40] = "?";
			if (!PQgetisnull(slices, i, CTL_SC_HOUR) &&
			    PQgetlength(slices, i, CTL_SC_HOUR) == 8) {
				const uint8_t *p = (const uint8_t *)PQgetvalue(slices, i, CTL_SC_HOUR);
				uint64_t u = 0;
				for (int b = 0; b < 8; b++)
					u = u << 8 | p[b];
				ctl_time_format((int64_t)u + INT64_C(946684800000000), hour);
			}
			snprintf(err, errlen, "the slice of %s at %s: %s", vehicle, hour, why);
			goto done;
		}
	}
	ctl_fixes_sort(out);
	rc = 0;
done:
	PQclear(rows);
	PQclear(slices);
	free(rl);
	free(sl);
	free(rq);
	free(sq);
	return rc;
}

/* Sets field (row, col) of res to text s (NULL: NULL). */
static bool
set_text(PGresult *res, int row, int col, const char *s, int len)
{
	return PQsetvalue(res, row, col, (char *)(s ? s : ""), s ? len : -1) != 0;
}

PGresult *
ctl_fixes_track_result(const struct ctl_fixes *fixes)
{
	static const char *const names[] = { "ts",	"lat",	"lon", "speed_kmh",
					     "heading", "alt_m", "hdop", "fix",
					     "sats",	"un",	"hazard_class", "zone_ids" };
	enum { NCOLS = sizeof names / sizeof names[0] };
	const struct ctl_fixes f = *fixes;
	PGresAttDesc att[NCOLS];
	memset(att, 0, sizeof att);
	for (int c = 0; c < NCOLS; c++) {
		att[c].name = (char *)names[c];
		att[c].typid = 25;
		att[c].typlen = -1;
	}
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	if (!res || !PQsetResultAttrs(res, NCOLS, att))
		goto oom;
	char *zones = NULL;
	size_t zcap = 0;
	for (size_t i = 0; i < f.n; i++) {
		const struct ctl_fix *x = &f.v[i];
		int row = (int)i;
		char b[CTL_FLOAT_TEXT_MAX];
		int n = snprintf(b, sizeof b, "%" PRId64, x->ts_us);
		if (!set_text(res, row, 0, b, n))
			goto oom_z;
		n = ctl_float8_text(x->lat, b);
		if (!set_text(res, row, 1, x->nulls & CTL_FIX_NULL_LAT ? NULL : b, n))
			goto oom_z;
		n = ctl_float8_text(x->lon, b);
		if (!set_text(res, row, 2, x->nulls & CTL_FIX_NULL_LON ? NULL : b, n))
			goto oom_z;
		const float reals[] = { x->speed, x->heading, x->alt, x->hdop };
		const uint32_t rnull[] = { CTL_FIX_NULL_SPEED, CTL_FIX_NULL_HEADING,
					   CTL_FIX_NULL_ALT, CTL_FIX_NULL_HDOP };
		for (int r = 0; r < 4; r++) {
			n = ctl_float4_text(reals[r], b);
			if (!set_text(res, row, 3 + r, x->nulls & rnull[r] ? NULL : b, n))
				goto oom_z;
		}
		n = snprintf(b, sizeof b, "%d", x->fix);
		if (!set_text(res, row, 7, x->nulls & CTL_FIX_NULL_FIX ? NULL : b, n))
			goto oom_z;
		n = snprintf(b, sizeof b, "%d", x->sats);
		if (!set_text(res, row, 8, x->nulls & CTL_FIX_NULL_SATS ? NULL : b, n))
			goto oom_z;
		if (!set_text(res, row, 9, x->un, x->un ? (int)strlen(x->un) : 0) ||
		    !set_text(res, row, 10, x->hc, x->hc ? (int)strlen(x->hc) : 0))
			goto oom_z;
		size_t need = (size_t)x->nzones * 12 + 3;
		if (need > zcap) {
			char *z = realloc(zones, need);
			if (!z)
				goto oom_z;
			zones = z;
			zcap = need;
		}
		n = ctl_zones_json(x, zones, zcap);
		if (!set_text(res, row, 11, x->nulls & CTL_FIX_NULL_ZONES ? NULL : zones, n))
			goto oom_z;
	}
	free(zones);
	return res;
oom_z:
	free(zones);
oom:
	PQclear(res);
	return NULL;
}

/* ---- every vehicle of a range (ctl_slices_each_vehicle) ------------------ */

/* Rows a FETCH takes: a slice with every field is a few KB (an hour at 10
 * s: 360 fixes), a row of the row tier about 150 bytes, so a chunk of
 * either is a few MB whatever the day's size. */
#define EACH_SLICES_CHUNK 500
#define EACH_ROWS_CHUNK   20000

/* One of the two cursors: its chunk held and the place in it. Each row is
 * the vehicle, then the decoder's columns (cols). */
struct each_cursor {
	const char *name, *table;
	int chunk;
	const struct ctl_col_desc *cols;
	int ncols;
	PGresult *res;
	int i;
	bool done;
};

/* Checks that res has the vehicle (text) then the n columns of cols, of
 * their types, all in binary. */
static int
each_check(const PGresult *res, const struct ctl_col_desc *cols, int n, const char *table,
	   char *err, size_t errlen)
{
	if (PQnfields(res) != n + 1) {
		snprintf(err, errlen, "%s: %d columns, %d expected", table, PQnfields(res), n + 1);
		return -1;
	}
	for (int k = 0; k <= n; k++) {
		uint32_t want = k == 0		  ? CTL_PG_TEXT
				: cols[k - 1].array ? array_oid(cols[k - 1].type)
						    : cols[k - 1].type;
		if (PQftype(res, k) != want || PQfformat(res, k) != 1) {
			snprintf(err, errlen, "%s.%s: type %u, %u expected in binary", table,
				 k ? cols[k - 1].name : "vehicle", (unsigned)PQftype(res, k),
				 (unsigned)want);
			return -1;
		}
	}
	return 0;
}

/* Makes c's current row valid, fetching the next chunk when the one held
 * is used up (c->done at the end). Returns 0, or -1 with err. */
static int
each_fill(PGconn *conn, struct each_cursor *c, char *err, size_t errlen)
{
	if (c->done || (c->res && c->i < PQntuples(c->res)))
		return 0;
	PQclear(c->res);
	c->i = 0;
	char sql[64];
	snprintf(sql, sizeof sql, "FETCH %d FROM %s", c->chunk, c->name);
	/* The Bind's result format applies to a FETCH (DECLARE's BINARY
	 * not needed). */
	c->res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 1);
	if (PQresultStatus(c->res) != PGRES_TUPLES_OK) {
		refused(conn, c->res, err, errlen);
		return -1;
	}
	if (PQntuples(c->res) == 0) {
		c->done = true;
		return 0;
	}
	return each_check(c->res, c->cols, c->ncols, c->table, err, errlen);
}

/* Is c's current row of vehicle v (len bytes)? */
static bool
each_at(const struct each_cursor *c, const char *v, size_t len)
{
	return !c->done && (size_t)PQgetlength(c->res, c->i, 0) == len &&
	       memcmp(PQgetvalue(c->res, c->i, 0), v, len) == 0;
}

/* Byte order of two vehicles (COLLATE "C": memcmp, then the shorter). */
static int
each_vcmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c ? c : (alen > blen) - (alen < blen);
}

/* The current row's columns after the vehicle, as binary values. */
static void
each_values(const struct each_cursor *c, struct ctl_pgval *v)
{
	for (int k = 0; k < c->ncols; k++)
		v[k] = PQgetisnull(c->res, c->i, k + 1)
			       ? (struct ctl_pgval){ NULL, 0 }
			       : (struct ctl_pgval){ (const uint8_t *)PQgetvalue(c->res, c->i, k + 1),
						     (size_t)PQgetlength(c->res, c->i, k + 1) };
}

/* Reads one vehicle's rows (first: equal times keep the row tier's first,
 * as ctl_slices_fetch) and slices from the cursors into f. Returns 0,
 * CTL_EACH_EDB or CTL_EACH_EDECODE with err. */
static int
each_vehicle(PGconn *conn, struct each_cursor *rows, struct each_cursor *slices,
	     const char *veh, size_t vlen, int64_t from_us, int64_t to_us, struct ctl_fixes *f,
	     char *err, size_t errlen)
{
	char why[400];
	while (each_at(rows, veh, vlen)) {
		struct ctl_pgval v[CTL_RC_NCOLS];
		each_values(rows, v);
		if (ctl_row_decode(v, f, why, sizeof why) != 0) {
			snprintf(err, errlen, "a stored position of %s: %s", veh, why);
			return CTL_EACH_EDECODE;
		}
		rows->i++;
		if (each_fill(conn, rows, err, errlen) != 0)
			return CTL_EACH_EDB;
	}
	while (each_at(slices, veh, vlen)) {
		struct ctl_pgval v[CTL_SC_NCOLS];
		each_values(slices, v);
		if (ctl_slice_decode(v, from_us, to_us, f, why, sizeof why) != 0) {
			char hour[40] = "?";
			if (v[CTL_SC_HOUR].p && v[CTL_SC_HOUR].len == 8) {
				uint64_t u = 0;
				for (int b = 0; b < 8; b++)
					u = u << 8 | v[CTL_SC_HOUR].p[b];
				ctl_time_format((int64_t)u + INT64_C(946684800000000), hour);
			}
			snprintf(err, errlen, "the slice of %s at %s: %s", veh, hour, why);
			return CTL_EACH_EDECODE;
		}
		slices->i++;
		if (each_fill(conn, slices, err, errlen) != 0)
			return CTL_EACH_EDB;
	}
	ctl_fixes_sort(f);
	return 0;
}

int
ctl_slices_each_vehicle(PGconn *conn, int64_t from_us, int64_t to_us, unsigned want,
			ctl_slices_vehicle_cb cb, void *arg, char *err, size_t errlen)
{
	char from_s[40], to_s[40];
	ctl_time_format(from_us, from_s);
	ctl_time_format(to_us, to_s);
	bool own = PQtransactionStatus(conn) == PQTRANS_IDLE, declared = false;
	char *rl = select_list(ctl_row_cols, CTL_RC_NCOLS, want);
	char *sl = select_list(ctl_slice_cols, CTL_SC_NCOLS, want);
	char *rq = NULL, *sq = NULL, *veh = NULL;
	size_t vcap = 0;
	struct each_cursor rows = { .name = "hg_each_rows", .table = "positions_recent",
				    .chunk = EACH_ROWS_CHUNK, .cols = ctl_row_cols,
				    .ncols = CTL_RC_NCOLS };
	struct each_cursor slices = { .name = "hg_each_slices", .table = "positions_slices",
				      .chunk = EACH_SLICES_CHUNK, .cols = ctl_slice_cols,
				      .ncols = CTL_SC_NCOLS };
	struct ctl_fixes f = { 0 };
	PGresult *res = NULL;
	int rc = CTL_EACH_EDB;

	/* The range as literals of our own RFC 3339 text (a DECLARE's query
	 * is planned with them: partitions pruned, the key's order). Byte
	 * order of vehicles in both, the slices' and the rows' keys' own
	 * (017: COLLATE "C"). */
	if (rl && sl)
		rq = text_of("DECLARE %s NO SCROLL CURSOR FOR SELECT vehicle, %s FROM"
			     " positions_recent WHERE ts >= '%s'::timestamptz AND ts < '%s'::timestamptz"
			     " ORDER BY vehicle COLLATE \"C\", ts",
			     rows.name, rl, from_s, to_s);
	if (rq)
		sq = text_of("DECLARE %s NO SCROLL CURSOR FOR SELECT vehicle, %s FROM"
			     " positions_slices WHERE hour > '%s'::timestamptz - interval '1 hour'"
			     " AND hour < '%s'::timestamptz AND t_last >= '%s'::timestamptz"
			     " AND t_first < '%s'::timestamptz ORDER BY vehicle COLLATE \"C\", hour",
			     slices.name, sl, from_s, to_s, from_s, to_s);
	if (!sq) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (own) {
		res = PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			refused(conn, res, err, errlen);
			goto done;
		}
		PQclear(res);
	}
	declared = true;
	res = PQexec(conn, rq);
	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		PQclear(res);
		res = PQexec(conn, sq);
	}
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		refused(conn, res, err, errlen);
		goto done;
	}
	PQclear(res);
	res = NULL;
	for (;;) {
		if (each_fill(conn, &rows, err, errlen) != 0 ||
		    each_fill(conn, &slices, err, errlen) != 0)
			goto done;
		if (rows.done && slices.done)
			break;
		/* The next vehicle: the lesser of the two cursors' current. */
		const struct each_cursor *c = &rows;
		if (rows.done ||
		    (!slices.done &&
		     each_vcmp(PQgetvalue(slices.res, slices.i, 0),
			       (size_t)PQgetlength(slices.res, slices.i, 0),
			       PQgetvalue(rows.res, rows.i, 0),
			       (size_t)PQgetlength(rows.res, rows.i, 0)) < 0))
			c = &slices;
		size_t vlen = (size_t)PQgetlength(c->res, c->i, 0);
		if (vlen + 1 > vcap) {
			char *nv = realloc(veh, vlen + 1);
			if (!nv) {
				snprintf(err, errlen, "out of memory");
				goto done;
			}
			veh = nv;
			vcap = vlen + 1;
		}
		memcpy(veh, PQgetvalue(c->res, c->i, 0), vlen);
		veh[vlen] = '\0';
		int vr = each_vehicle(conn, &rows, &slices, veh, vlen, from_us, to_us, &f, err,
				      errlen);
		if (vr == 0)
			vr = cb(veh, &f, arg);
		ctl_fixes_clear(&f);
		if (vr != 0) {
			rc = vr;
			goto done;
		}
	}
	rc = 0;
done:
	PQclear(res);
	PQclear(rows.res);
	PQclear(slices.res);
	ctl_fixes_clear(&f);
	if (declared) {
		/* Our transaction ends (its cursors with it); in the caller's,
		 * the cursors are closed (after an error it is aborted: the
		 * caller's ROLLBACK closes them). */
		const char *end = own ? (rc == 0 ? "COMMIT" : "ROLLBACK")
				      : "CLOSE hg_each_rows; CLOSE hg_each_slices";
		res = PQexec(conn, end);
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
			refused(conn, res, err, errlen);
			rc = CTL_EACH_EDB;
		}
		PQclear(res);
	}
	free(veh);
	free(rl);
	free(sl);
	free(rq);
	free(sq);
	return rc;
}
