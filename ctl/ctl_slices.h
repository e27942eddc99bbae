/*
 * ctl_slices.h: stored positions decoded in hazgate-ctl, without
 * PostgreSQL's SQL decoder (schema/012's hazgate_slice_fixes).
 *
 * Closed days of positions are slices (positions_slices: one row per
 * vehicle and UTC hour, delta-coded arrays; schema/README.md, "What a
 * slice holds"). Decoding them in SQL costs the backend about 3 us a fix;
 * here the raw columns come in PostgreSQL's binary format and C decodes
 * them, value for value what hazgate_slice_fixes gives (reals bit for
 * bit, times to the microsecond, every variant of the encoding and NULL).
 *
 * Two halves:
 *   ctl_slices.c    pure (no libpq): the binary array parser, a slice's
 *                   and a row's decoder, and PostgreSQL's text of a float8
 *                   or real (shortest exact digits, extra_float_digits 1).
 *                   The unit test and the fuzz target link it alone.
 *   ctl_slicesdb.c  the queries (libpq, binary results) and the results
 *                   in the shape of ctl_track_sql's, for hazgate-ctl track;
 *                   in libctlfmt.a with the track writers, so hazgate-web's
 *                   track reads the same way (ctl/Makemodule.am).
 *
 * Anything unexpected in the bytes (a length past the buffer, another
 * element type, a multi-dimensional array, a lower bound other than 1, a
 * NULL where the array says it has none, arithmetic the server would
 * refuse as out of range) is refused with a message; nothing is guessed.
 */
#ifndef HAZGATE_CTL_SLICES_H
#define HAZGATE_CTL_SLICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- a stored fix ------------------------------------------------------ */

/* Bits of ctl_fix.nulls: the field is NULL. */
enum {
	CTL_FIX_NULL_SPEED = 1 << 0,
	CTL_FIX_NULL_HEADING = 1 << 1,
	CTL_FIX_NULL_ALT = 1 << 2,
	CTL_FIX_NULL_HDOP = 1 << 3,
	CTL_FIX_NULL_FIX = 1 << 4,
	CTL_FIX_NULL_SATS = 1 << 5,
	CTL_FIX_NULL_SEQ = 1 << 6,
	CTL_FIX_NULL_IGNITION = 1 << 7,
	CTL_FIX_NULL_ZONES = 1 << 8,
	CTL_FIX_NULL_RECEIVED = 1 << 9,
	CTL_FIX_NULL_ALARMS = 1 << 10,
	CTL_FIX_NULL_LAT = 1 << 11,    /* only a damaged slice: the column is NOT NULL */
	CTL_FIX_NULL_LON = 1 << 12,
};

/* One fix as the columns of the view positions (vehicle aside). Strings
 * and zone arrays point into the ctl_fixes that holds the fix. */
struct ctl_fix {
	int64_t ts_us; /* microseconds since 1970-01-01 UTC */
	double lat, lon;
	float speed, heading, alt, hdop;
	int16_t fix, sats;
	bool ignition;
	int32_t alarms;
	int64_t seq;
	int64_t received_us;
	const char *un, *hc;   /* NULL: NULL */
	const int32_t *zones;  /* nzones ids */
	const uint8_t *znull;  /* per id: 1 for a NULL element; NULL when none is */
	int32_t nzones;
	uint32_t nulls;        /* CTL_FIX_NULL_* */
	uint32_t order;        /* arrival order, to keep a sort stable */
};

/* Fixes, with the memory their strings and zone arrays live in. */
struct ctl_fixes {
	struct ctl_fix *v;
	size_t n, cap;
	struct ctl_blob *blobs; /* owned memory, a list */
};

/* Frees what f holds and empties it (f itself is the caller's). */
void ctl_fixes_clear(struct ctl_fixes *f);

/* Sorts f by ts, stable (for equal times, the order they were added). */
void ctl_fixes_sort(struct ctl_fixes *f);

/* ---- PostgreSQL's binary array format --------------------------------- */

/* Element types this decoder knows (pg_type OIDs). */
enum {
	CTL_PG_BOOL = 16,
	CTL_PG_INT8 = 20,
	CTL_PG_INT2 = 21,
	CTL_PG_INT4 = 23,
	CTL_PG_TEXT = 25,
	CTL_PG_FLOAT4 = 700,
	CTL_PG_FLOAT8 = 701,
	CTL_PG_TIMESTAMPTZ = 1184,
};

/* A one-dimensional array as array_send writes it, checked: n elements,
 * each at data + off[i] with len[i] bytes (-1: NULL). off and len are
 * the caller's (ctl_pgarr_parse allocates them; ctl_pgarr_free). */
struct ctl_pgarr {
	uint32_t elem;
	int32_t n;
	bool hasnull;
	const uint8_t *data;
	uint32_t *off;
	int32_t *len;
};

/*
 * Parses buf[0..len) as array_send's output: ndim (0 or 1), the has-null
 * flag (0 or 1), the element type (must be `elem`), for one dimension its
 * size and lower bound (must be 1), then each element as a 4-byte length
 * (-1: NULL) and that many bytes; an element of a fixed-size type must
 * have its size (2, 4, 8; bool 1); nothing may follow. Returns 0 with *a
 * set (data points into buf, which must outlive it), or -1 with a message
 * in err and nothing allocated.
 */
int ctl_pgarr_parse(const uint8_t *buf, size_t len, uint32_t elem, struct ctl_pgarr *a,
		    char *err, size_t errlen);

/* Frees what ctl_pgarr_parse allocated in a. */
void ctl_pgarr_free(struct ctl_pgarr *a);

/* ---- decoding ------------------------------------------------------------ */

/* A column's value in binary (libpq resultFormat 1): NULL when SQL NULL. */
struct ctl_pgval {
	const uint8_t *p;
	size_t len;
};

/* The columns of positions_slices the decoder reads, in this order (the
 * query ctl_slices_sql() builds selects them so). */
enum ctl_slice_col {
	CTL_SC_HOUR, CTL_SC_T_FIRST, CTL_SC_T_LAST, CTL_SC_TSU, CTL_SC_DT2, CTL_SC_DT4,
	CTL_SC_T8, CTL_SC_LLU, CTL_SC_LAT0, CTL_SC_LON0, CTL_SC_DLA2, CTL_SC_DLA4, CTL_SC_LA8,
	CTL_SC_DLO2, CTL_SC_DLO4, CTL_SC_LO8,
	CTL_SC_SP_E, CTL_SC_SP2, CTL_SC_SP4, CTL_SC_SP_R, CTL_SC_SP_C,
	CTL_SC_HD_E, CTL_SC_HD2, CTL_SC_HD4, CTL_SC_HD_R, CTL_SC_HD_C,
	CTL_SC_AL_E, CTL_SC_AL2, CTL_SC_AL4, CTL_SC_AL_R, CTL_SC_AL_C,
	CTL_SC_HP_E, CTL_SC_HP2, CTL_SC_HP4, CTL_SC_HP_R, CTL_SC_HP_C,
	CTL_SC_FIX_C, CTL_SC_FIXA, CTL_SC_SATS_C, CTL_SC_SATSA, CTL_SC_UN_C, CTL_SC_UNA,
	CTL_SC_HC_C, CTL_SC_HCA, CTL_SC_SEQ0, CTL_SC_SQD, CTL_SC_SQ8, CTL_SC_IGN_C,
	CTL_SC_IGNA, CTL_SC_ZC, CTL_SC_ZN, CTL_SC_ZF, CTL_SC_RC4, CTL_SC_RC8, CTL_SC_AM_C,
	CTL_SC_AMA,
	CTL_SC_NCOLS
};

/* The columns of positions_recent the row decoder reads, in this order. */
enum ctl_row_col {
	CTL_RC_TS, CTL_RC_LAT, CTL_RC_LON, CTL_RC_SPEED, CTL_RC_HEADING, CTL_RC_ALT,
	CTL_RC_HDOP, CTL_RC_FIX, CTL_RC_SATS, CTL_RC_UN, CTL_RC_HC, CTL_RC_SEQ,
	CTL_RC_IGNITION, CTL_RC_ZONES, CTL_RC_RECEIVED, CTL_RC_ALARMS,
	CTL_RC_NCOLS
};

/* Groups of fields a caller needs (the others come back NULL and cost
 * neither the server nor the decoder anything). */
enum {
	CTL_WANT_TRACK = 1 << 0, /* speed, heading, alt, hdop, fix, sats, un, class, zones */
	CTL_WANT_AUDIT = 1 << 1, /* speed, class, alarms */
	CTL_WANT_ALL = 1 << 2,   /* every field */
	CTL_WANT_SPEED = 1 << 3, /* speed (the GeoJSON track: times, places, speeds) */
};

/* Name and type of each column (for the queries and their checks). */
struct ctl_col_desc {
	const char *name;
	uint32_t type;  /* element type for an array */
	bool array;
	unsigned want;  /* CTL_WANT_* that need it; 0: always */
};
extern const struct ctl_col_desc ctl_slice_cols[CTL_SC_NCOLS];
extern const struct ctl_col_desc ctl_row_cols[CTL_RC_NCOLS];

/*
 * Decodes one slice (its columns in ctl_slice_cols' order) as
 * hazgate_slice_fixes does and appends the fixes with from <= ts < to,
 * under hazgate_positions_vehicle's condition (a slice entirely inside
 * the range gives all its fixes), in the slice's order. Returns 0, or -1
 * with a message in err (f keeps the fixes appended before).
 */
int ctl_slice_decode(const struct ctl_pgval col[CTL_SC_NCOLS], int64_t from_us, int64_t to_us,
		     struct ctl_fixes *f, char *err, size_t errlen);

/* Decodes one row of positions_recent (columns in ctl_row_cols' order) and
 * appends it. Returns 0, or -1 with a message in err. */
int ctl_row_decode(const struct ctl_pgval col[CTL_RC_NCOLS], struct ctl_fixes *f, char *err,
		   size_t errlen);

/* ---- PostgreSQL's text of floats ------------------------------------------ */

/* Room for any text below, with its NUL. */
#define CTL_FLOAT_TEXT_MAX 32

/* The text float8out gives for x with extra_float_digits 1 (PostgreSQL 12
 * and later's default): the shortest digits that read back as x, the
 * closest of those to x; plain notation for decimal exponents -4..14,
 * else d.ddde+XX; "NaN", "Infinity", "-Infinity", "-0". Returns the
 * length. */
int ctl_float8_text(double x, char buf[CTL_FLOAT_TEXT_MAX]);

/* The same for a real (float4out: exponents -4..5 plain). */
int ctl_float4_text(float x, char buf[CTL_FLOAT_TEXT_MAX]);

/* The digits of ctl_float8_text(x) / ctl_float4_text(x) for a finite,
 * nonzero x: dig[0..nd) (no leading or trailing zero, no sign) and the
 * decimal exponent of the first, *e10 (37.5: "375", 1). Returns nd (at most
 * 17; 9 for a real). */
int ctl_float8_digits(double x, char dig[24], int *e10);
int ctl_float4_digits(float x, char dig[24], int *e10);

/* Digits dig[0..nd) (no leading or trailing zero) times 10^(e10 - nd + 1),
 * negative when neg, as PostgreSQL's Ryu writes them: plain for -4 <= e10
 * < plain_max (15 for a float8, 6 for a real), else d.ddde+XX (two
 * exponent digits at least), which is also what printf's "%.15g" writes
 * for at most 15 digits with plain_max 15. out has CTL_FLOAT_TEXT_MAX
 * bytes. Returns the length. */
int ctl_float_notation(bool neg, const char *dig, int nd, int e10, int plain_max, char *out);

/* strtod() of ctl_float4_text(x): the double a reader of the text gets. */
double ctl_float4_text_value(float x);

/* array_to_json's text of fix f's zone_ids ("[]", "[1,2]", "[null,3]"), or
 * -1 when it does not fit in len bytes (with the NUL). Returns the length. */
int ctl_zones_json(const struct ctl_fix *f, char *buf, size_t len);

/* ---- reading (ctl_slicesdb.c, libpq) ---------------------------------------- */

struct pg_conn;
struct pg_result;

/*
 * Appends the stored fixes of `vehicle` with from <= ts < to, in ts order
 * (equal times: the row tier's first), both tiers read with binary
 * results and decoded here; the fields outside `want` (CTL_WANT_*) are
 * NULL. Returns 0, or -1 with a message in err (the database's refusal,
 * a column missing or of another type, a slice that does not decode).
 */
int ctl_slices_fetch(struct pg_conn *conn, const char *vehicle, int64_t from_us, int64_t to_us,
		     unsigned want, struct ctl_fixes *out, char *err, size_t errlen);

/* What ctl_slices_each_vehicle hands on: one vehicle's fixes. */
typedef int (*ctl_slices_vehicle_cb)(const char *vehicle, const struct ctl_fixes *f, void *arg);

/* ctl_slices_each_vehicle's codes besides 0 and the callback's own. */
enum { CTL_EACH_EDB = -1, CTL_EACH_EDECODE = -2 };

/*
 * Every vehicle's stored fixes with from <= ts < to, as
 * hazgate_positions_all() (schema/018) returns them but decoded here: for
 * each vehicle (byte order, COLLATE "C") its fixes in ts order (equal
 * times: the row tier's first), those of its slices and of the row tier
 * (open days, and late fixes of a compacted day in positions_recent_default)
 * merged, handed to cb (f borrowed for the call). Two cursors in one
 * REPEATABLE READ, READ ONLY transaction (the connection's own when one is
 * open): the slices that overlap the range ordered by (vehicle, hour) and
 * the row tier's rows ordered by (vehicle, ts), binary, fetched in chunks
 * of a few MB, so that memory holds one vehicle's fixes of the range and a
 * chunk. The fields outside want (CTL_WANT_*) are NULL. Returns 0; the
 * callback's non-zero return (the read stops there; err untouched: a
 * positive value, so as not to be taken for the codes below); CTL_EACH_EDB (the
 * database refused, a column missing or of another type, out of memory)
 * or CTL_EACH_EDECODE (a slice or row that does not decode), with a
 * message in err. The connection is left outside the transaction it
 * began.
 */
int ctl_slices_each_vehicle(struct pg_conn *conn, int64_t from_us, int64_t to_us, unsigned want,
			    ctl_slices_vehicle_cb cb, void *arg, char *err, size_t errlen);

/*
 * Fixes f (borrowed) as the result of ctl_track_sql (ctl.h) would hold
 * them: its twelve columns, as text, the values byte for byte the
 * server's text (times as integer microseconds, floats as with
 * extra_float_digits 1, zone_ids as array_to_json). Returns a PGresult to
 * PQclear, or NULL when out of memory.
 */
struct pg_result *ctl_fixes_track_result(const struct ctl_fixes *f);

#endif
