/*
 * ctl_compact_enc.h: the slice encoder of `hazgate-ctl compact` (issue 15),
 * pure: no libpq, no I/O. It reads the fixes of a day as PostgreSQL sends
 * them in binary (one field each, the columns of positions) and writes one
 * row of positions_slices per vehicle and UTC hour in PostgreSQL's binary
 * COPY format (schema/012's format, decoded by the unchanged SQL decoder
 * hazgate_slice_fixes). It makes the choices schema/012's SQL encoder
 * (hazgate_slices_build) makes, value for value: the units (tsu, llu), the
 * widths (int2, int4, the 8-byte fallbacks), the exponents of the reals and
 * the constants; so its slices are byte for byte those of the SQL encoder
 * (tests/integration/49-positions-compact compares them). Where the SQL
 * encoder would fail or lose a value, it does better, never worse:
 *   - a real whose chosen exponent does not give it back (the SQL assumes
 *     that a larger exponent always does) keeps the field's reals as they
 *     are (*_r);
 *   - a seq whose deviation overflows (the SQL fails the day) or whose
 *     decoding would overflow (the SQL's slice would fail every read) is
 *     kept as sq8;
 *   - zone_ids with NULL elements (nothing writes them): zn counts the
 *     non-NULL ones, which zf holds, so other fixes' zones stay in place
 *     (the SQL counts the NULLs and shifts the rest); the NULLs are lost
 *     in both;
 *   - received_at more than about 70 years from ts: the exact difference
 *     (the SQL goes through a float).
 * A value the format cannot hold fails the slice (CTL_CENC_EVALUE) as it
 * fails the SQL encoder: lat or lon whose nanodegrees overflow a bigint
 * (NaN, infinity), received_at infinite, more than 32767 zones.
 */
#ifndef HAZGATE_CTL_COMPACT_ENC_H
#define HAZGATE_CTL_COMPACT_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ctl_cenc_err {
	CTL_CENC_OK = 0,
	CTL_CENC_EVALUE = -1, /* a field not in PostgreSQL's binary form of its type, a NULL
	                         where positions has NOT NULL, or a value no slice can hold */
	CTL_CENC_ENOMEM = -2,
};

const char *ctl_cenc_strerror(int rc);

/* The columns of a fix, in the order the caller selects them (ctl_cenc_select
 * lists them), each in PostgreSQL's binary form. */
enum {
	CTL_FIX_VEHICLE, CTL_FIX_TS, CTL_FIX_LAT, CTL_FIX_LON, CTL_FIX_SPEED, CTL_FIX_HEADING,
	CTL_FIX_ALT, CTL_FIX_HDOP, CTL_FIX_FIX, CTL_FIX_SATS, CTL_FIX_UN, CTL_FIX_HC, CTL_FIX_SEQ,
	CTL_FIX_IGNITION, CTL_FIX_ZONES, CTL_FIX_RECEIVED, CTL_FIX_ALARMS,
	CTL_FIX_COLS
};

/* "vehicle, ts, lat, ..., alarms": the select list of the columns above. */
extern const char ctl_cenc_select[];

/* The real columns, in the order of ctl_fix.real[]. */
enum { CTL_REAL_SPEED, CTL_REAL_HEADING, CTL_REAL_ALT, CTL_REAL_HDOP, CTL_REALS };

/* One fix as read. The text and zone fields point into the caller's
 * buffers (borrowed: they must live until the fix's slice is written). */
struct ctl_fix {
	const char *vehicle;
	size_t vehicle_len;
	int64_t ts;       /* microseconds since 2000-01-01 UTC (PostgreSQL's epoch) */
	int64_t received; /* the same */
	double lat, lon;
	float real[CTL_REALS];
	int16_t fix, sats;
	const char *un, *hc;
	size_t un_len, hc_len;
	int64_t seq;
	int32_t alarms;
	bool ignition;
	/* zone_ids in binary (an int4 array, checked): raw, whole; nzones its
	 * non-NULL elements, which zone_at() reads. */
	const uint8_t *zones;
	size_t zones_len;
	uint32_t nzones; /* elements, NULL ones included */
	uint32_t nzones_set;
	unsigned nulls; /* bit 1 << CTL_FIX_x for each NULL field */
};

/*
 * Fills *f from one row's fields: val[i] and len[i] (len -1: NULL) for the
 * columns CTL_FIX_VEHICLE .. CTL_FIX_ALARMS. The pointers are kept in *f.
 * Returns CTL_CENC_OK or CTL_CENC_EVALUE (a field of the wrong length, a
 * zone array that is not a well-formed int4 array, a NULL in a NOT NULL
 * column: vehicle, ts, lat, lon, zone_ids, received_at).
 */
int ctl_cenc_fix_parse(struct ctl_fix *f, const char *const val[CTL_FIX_COLS],
		       const int len[CTL_FIX_COLS]);

/* The UTC hour a time (PostgreSQL microseconds) falls in: date_trunc. */
int64_t ctl_cenc_hour(int64_t ts);

/* A growing byte buffer; oom is set (and stays) when a write found no
 * memory, the bytes written then being incomplete. */
struct ctl_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};
void ctl_buf_free(struct ctl_buf *b);

/* Binary COPY: the header (signature, flags, extension) and the trailer. */
void ctl_cenc_copy_header(struct ctl_buf *b);
void ctl_cenc_copy_trailer(struct ctl_buf *b);

/* The columns of positions_slices in the order ctl_cenc_slice writes them,
 * for COPY's column list. */
extern const char ctl_cenc_slice_columns[];

/*
 * Appends one binary COPY row of positions_slices: the slice of fixes
 * f[0 .. n) (n >= 1, one vehicle, one hour, ascending ts). Returns
 * CTL_CENC_OK, CTL_CENC_EVALUE (*bad: the fix with the value no slice can
 * hold; b is back at its length before the call) or CTL_CENC_ENOMEM.
 */
int ctl_cenc_slice(struct ctl_buf *b, const struct ctl_fix *f, size_t n, size_t *bad);

/* ---- the parts, for the unit test ------------------------------------ */

/* hazgate_enc_e(v): the smallest e in 0..3 with which v comes back from
 * (round(v * 10^e) / 10^e)::real bit for bit; 99 for none (NaN, infinite,
 * -0, |v| >= 2e6, more digits). */
int ctl_cenc_real_e(float v);

/* hazgate_tz10(x): how many of x's last decimal digits are zeros (0..9). */
int ctl_cenc_tz10(int64_t x);

/* The width (2, 4 or 8 bytes) of values up to max (>= 0) in units of unit:
 * int2 when max / unit fits it, int4, else the 8-byte fallback. */
int ctl_cenc_width(int64_t max, int64_t unit);

/* Binary array elements: an array field of n elements of type oid opened,
 * its elements appended with the put functions, then closed (its length
 * written). Arrays are one-dimensional, lower bound 1. */
enum {
	CTL_OID_BOOL = 16, CTL_OID_INT8 = 20, CTL_OID_INT2 = 21, CTL_OID_INT4 = 23,
	CTL_OID_TEXT = 25, CTL_OID_FLOAT4 = 700,
};
size_t ctl_cenc_array_open(struct ctl_buf *b, uint32_t oid, uint32_t n, bool hasnull);
void ctl_cenc_array_close(struct ctl_buf *b, size_t at);
void ctl_cenc_put_null(struct ctl_buf *b);
void ctl_cenc_put_i16(struct ctl_buf *b, int16_t v);
void ctl_cenc_put_i32(struct ctl_buf *b, int32_t v);
void ctl_cenc_put_i64(struct ctl_buf *b, int64_t v);
void ctl_cenc_put_f32(struct ctl_buf *b, float v);
void ctl_cenc_put_bool(struct ctl_buf *b, bool v);
void ctl_cenc_put_text(struct ctl_buf *b, const char *p, size_t n);

#endif
