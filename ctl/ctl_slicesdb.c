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
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

	if (!rl || !sl ||
	    asprintf(&rq, "SELECT %s FROM positions_recent WHERE vehicle = $1"
			  " AND ts >= $2::timestamptz AND ts < $3::timestamptz ORDER BY ts", rl) < 0 ||
	    asprintf(&sq, "SELECT %s FROM positions_slices WHERE vehicle = $1"
			  " AND hour > $2::timestamptz - interval '1 hour' AND hour < $3::timestamptz"
			  " AND t_last >= $2::timestamptz AND t_first < $3::timestamptz ORDER BY hour",
		     sl) < 0) {
		rq = sq = NULL;
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
