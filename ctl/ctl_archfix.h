/*
 * ctl_archfix.h: a decoded fix (ctl_slices.h) as a record of a positions
 * archive (ctl_archive.h), byte for byte the record PostgreSQL's COPY
 * writes for it in `hazgate-ctl retention run` (ctl_retention.c's
 * archive_cols, FORMAT csv), so that retention can write a day's archive
 * from the slices decoded here instead of through the SQL decoder.
 *
 * What COPY writes, and what stands for it here:
 *   - NULL: an empty unquoted field; text (vehicle, un, hazard_class):
 *     quoted when empty or holding a comma, a double quote, CR or LF, a
 *     double quote doubled inside (CopyAttributeOutCSV; the caller makes
 *     sure the client encoding is not one whose multi-byte characters may
 *     hold ASCII bytes: SJIS, BIG5, GBK, UHC, GB18030, JOHAB);
 *   - floats: float8out / float4out with extra_float_digits > 0 (the
 *     shortest exact digits: ctl_float8_text, ctl_float4_text; the caller
 *     checks the session's setting);
 *   - ts, received_at: to_char(x AT TIME ZONE 'UTC',
 *     'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), for years 1-9999 (other years are
 *     refused: to_char writes them otherwise);
 *   - fix, sats, seq, alarms: integers; ignition: t or f; zone_ids: the
 *     array literal ({1,4}, {NULL,3}, {}), quoted when it holds a comma.
 * Pure: no libpq.
 */
#ifndef HAZGATE_CTL_ARCHFIX_H
#define HAZGATE_CTL_ARCHFIX_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl/ctl_slices.h"

/* The header record of an archive (the column names, a line end), with
 * `alarms` last when alarms. Returns a static string. */
const char *ctl_archfix_header(bool alarms);

/*
 * Writes the record of vehicle's fix x (vehicle, then its 15 columns, and
 * alarms when alarms; a line end) into *buf (*cap bytes, grown with
 * realloc as needed; the caller frees it). Returns the length; 0 when a
 * value cannot be written as COPY would (a time outside years 1-9999);
 * -1 when out of memory.
 */
long ctl_archfix_record(const char *vehicle, const struct ctl_fix *x, bool alarms, char **buf,
			size_t *cap);

#endif
