/*
 * jt_names.c - the stable names of the codec: results (jt_strerror, which
 * the server counts rejects by) and the 0x0200 alarm bits (DESIGN.md
 * "hazgate-jt808"; the names are common/hz_alarm's). Tables, indexed by
 * value.
 */
#include "jt808/jt808.h"

#include "common/hz_alarm.h"

static const char *const err_names[JT_ERR_COUNT] = {
	[JT_OK] = "ok",
	[JT_NEED_MORE] = "need_more",
	[JT_E_GARBAGE] = "garbage",
	[JT_E_OVERSIZE] = "oversize",
	[JT_E_ESCAPE] = "bad_escape",
	[JT_E_CHECK] = "bad_check",
	[JT_E_TRUNCATED] = "truncated",
	[JT_E_LENGTH] = "length_mismatch",
	[JT_E_VERSION] = "unknown_version",
	[JT_E_PHONE] = "bad_phone",
	[JT_E_PACKET] = "bad_packet",
	[JT_E_ENCRYPTED] = "encrypted",
	[JT_E_BODY_SHORT] = "body_short",
	[JT_E_ITEM] = "bad_item",
	[JT_E_BATCH] = "bad_batch",
	[JT_E_REASM_FULL] = "reasm_full",
	[JT_E_NO_SPACE] = "no_space",
	[JT_E_TIME] = "bad_time",
	[JT_E_ARG] = "bad_argument",
};

const char *
jt_strerror(enum jt_err e)
{
	if ((unsigned)e >= JT_ERR_COUNT || !err_names[e])
		return "unknown";
	return err_names[e];
}

const char *
jt_alarm_name(unsigned bit)
{
	/* One table for the codec, ingest and the geofence engine; bits
	 * 15-17 are reserved in JT/T 808-2013 and -2019: no name. */
	return bit < JT_ALARM_BITS ? hz_alarm_name(bit) : NULL;
}
