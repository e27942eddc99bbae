/*
 * ing_names.c - the stable names of ingest's enums and the error recorder.
 *
 * Reason names are stored in the `rejects` table and in counters: they are
 * part of the contract. Tables, not switches, so a name can't go missing
 * without a test noticing (test_ingest checks every code has a name).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ingest/ingest-internal.h"

static const char *const reason_names[ING_REASON_COUNT] = {
	[ING_REASON_NONE] = "none",
	[ING_REASON_TOO_LARGE] = "too_large",
	[ING_REASON_NOT_JSON] = "not_json",
	[ING_REASON_NOT_OBJECT] = "not_object",
	[ING_REASON_MISSING_FIELD] = "missing_field",
	[ING_REASON_BAD_TYPE] = "bad_type",
	[ING_REASON_LAT_RANGE] = "lat_range",
	[ING_REASON_LON_RANGE] = "lon_range",
	[ING_REASON_SPEED_RANGE] = "speed_range",
	[ING_REASON_HEADING_RANGE] = "heading_range",
	[ING_REASON_VALUE_RANGE] = "value_range",
	[ING_REASON_TIME_FORMAT] = "time_format",
	[ING_REASON_TIME_OLD] = "time_before_2000",
	[ING_REASON_TIME_FUTURE] = "time_future",
	[ING_REASON_VEHICLE_EMPTY] = "vehicle_empty",
	[ING_REASON_VEHICLE_LONG] = "vehicle_too_long",
	[ING_REASON_VEHICLE_UTF8] = "vehicle_utf8",
	[ING_REASON_VEHICLE_CONTROL] = "vehicle_control",
	[ING_REASON_VEHICLE_WILDCARD] = "vehicle_wildcard",
	[ING_REASON_NO_FIX] = "no_fix",
	[ING_REASON_CARGO_FORMAT] = "cargo_format",
	[ING_REASON_NOT_TPV] = "not_tpv",
	[ING_REASON_TPV_UNREADABLE] = "tpv_unreadable",
};

static const char *const format_names[] = {
	[ING_FORMAT_NATIVE] = "native",
	[ING_FORMAT_TPV] = "tpv",
	[ING_FORMAT_OWNTRACKS] = "owntracks",
	[ING_FORMAT_AUTO] = "auto",
};

static const char *const result_names[] = {
	[ING_OK] = "ok",
	[ING_IGNORED] = "ignored",
	[ING_REJECTED] = "rejected",
};

const char *
ing_reason_name(enum ing_reason reason)
{
	if ((unsigned)reason >= ING_REASON_COUNT || !reason_names[reason])
		return "unknown";
	return reason_names[reason];
}

const char *
ing_format_name(enum ing_format format)
{
	if ((unsigned)format >= sizeof(format_names) / sizeof(format_names[0]))
		return "unknown";
	return format_names[format];
}

const char *
ing_result_name(enum ing_result result)
{
	if ((unsigned)result >= sizeof(result_names) / sizeof(result_names[0]))
		return "unknown";
	return result_names[result];
}

int
ing_format_parse(const char *name, enum ing_format *out)
{
	size_t i;

	if (!name)
		return -1;
	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (strcmp(name, format_names[i]) == 0) {
			if (out)
				*out = (enum ing_format)i;
			return 0;
		}
	}
	return -1;
}

enum ing_reason
ing_err_set(struct ing_error *err, enum ing_reason reason, const char *field,
            const char *fmt, ...)
{
	va_list ap;
	size_t i;

	if (!err)
		return reason;
	err->reason = reason;
	err->field = field;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	/* Messages may quote input (a member name, a _type): keep them
	 * printable ASCII so that logs and a PostgreSQL text column take
	 * them whatever the payload was. */
	for (i = 0; err->message[i]; i++) {
		unsigned char c = (unsigned char)err->message[i];
		if (c < 0x20 || c > 0x7e)
			err->message[i] = '?';
	}
	return reason;
}
