/*
 * test_ingest.c - unit tests of ingest/: every reject reason, each format's
 * members and unit conversions, RFC 3339 offsets and fractions, UTF-8
 * plates, topic fallbacks, format autodetection, names.
 *
 * Two tables: decode_cases (one named cmocka test per row: topic, payload,
 * format -> result, reason, field) and time_cases (text -> µs). Checks of
 * decoded values are separate named functions below.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "common/hz_time.h"
#include "ingest/ingest.h"

/* "now" for every case: 2019-08-10T08:00:00Z. */
#define NOW_S  1565424000LL
#define NOW_US (NOW_S * 1000000LL)

#define T_TOPIC "tankers/\xe6\x99\x8b" "A12345/telemetry"  /* 晋A12345 */
#define OT_TOPIC "owntracks/alice/\xe6\x99\x8b" "A54321"   /* 晋A54321 */

/* A native message with every required member; %s adds more members. */
#define NAT(extra) "{\"vehicle\":\"V1\",\"ts\":\"2019-08-10T08:00:00Z\"," \
	"\"lat\":37.76,\"lon\":112.5" extra "}"
#define TPV(extra) "{\"class\":\"TPV\",\"device\":\"/dev/ttyUSB0\"," \
	"\"mode\":3,\"time\":\"2019-08-10T08:00:00.000Z\",\"lat\":37.76," \
	"\"lon\":112.5" extra "}"
#define OT(extra) "{\"_type\":\"location\",\"tst\":1565424000," \
	"\"lat\":37.76,\"lon\":112.5" extra "}"

enum { NATIVE = ING_FORMAT_NATIVE, TPVF = ING_FORMAT_TPV,
       OWNT = ING_FORMAT_OWNTRACKS, AUTO = ING_FORMAT_AUTO };

struct decode_case {
	const char *name;
	const char *topic;
	const char *payload;
	int format;
	enum ing_result result;
	enum ing_reason reason;
	const char *field;          /* expected err.field, NULL = don't care */
};

static const struct decode_case decode_cases[] = {
	/* accepted */
	{ "ok_native_minimal", NULL, NAT(""), NATIVE, ING_OK, 0, NULL },
	{ "ok_native_auto", T_TOPIC, NAT(""), AUTO, ING_OK, 0, NULL },
	{ "ok_tpv", T_TOPIC, TPV(""), TPVF, ING_OK, 0, NULL },
	{ "ok_tpv_auto", T_TOPIC, TPV(""), AUTO, ING_OK, 0, NULL },
	{ "ok_owntracks", OT_TOPIC, OT(""), OWNT, ING_OK, 0, NULL },
	/* gpsd's safe_atof() and strtod() differ in the last bits here */
	{ "ok_tpv_long_decimals", T_TOPIC,
	  "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T08:00:00Z\","
	  "\"lat\":-22.46274425297172,\"lon\":93.68954509202837}", TPVF,
	  ING_OK, 0, NULL },
	{ "ok_tpv_long_decimals_2", T_TOPIC,
	  "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T08:00:00Z\","
	  "\"lat\":-25.120331177078342,\"lon\":-161.089465534821841}", TPVF,
	  ING_OK, 0, NULL },
	{ "ok_future_exactly_5min", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:05:00Z\",\"lat\":0,"
	  "\"lon\":0}", NATIVE, ING_OK, 0, NULL },
	{ "ok_year_2000_exactly", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2000-01-01T00:00:00Z\",\"lat\":0,"
	  "\"lon\":0}", NATIVE, ING_OK, 0, NULL },
	{ "ok_bounds", NULL, NAT(",\"speed_kmh\":300,\"heading\":360") ,
	  NATIVE, ING_OK, 0, NULL },
	{ "ok_speed_rounding_to_300", NULL, NAT(",\"speed_kmh\":299.9996"),
	  NATIVE, ING_OK, 0, NULL },
	{ "ok_lat_lon_extremes", NULL,
	  "{\"vehicle\":\"V\",\"ts_ms\":1565424000000,\"lat\":-90,"
	  "\"lon\":180}", NATIVE, ING_OK, 0, NULL },
	{ "ok_unknown_members_ignored", NULL,
	  NAT(",\"extra\":{\"a\":[1,2,{}]},\"x\":null"), NATIVE, ING_OK, 0,
	  NULL },
	{ "ok_nulls_are_absent", NULL,
	  NAT(",\"speed_kmh\":null,\"un\":null,\"fix\":null"), NATIVE, ING_OK,
	  0, NULL },
	{ "ok_owntracks_extra_levels", "owntracks/u/dev/extra", OT(""), OWNT,
	  ING_OK, 0, NULL },
	/* issue 11 item 14: the apps send -1 for an unknown speed/course */
	{ "ok_owntracks_vel_minus_1_is_absent", OT_TOPIC, OT(",\"vel\":-1"),
	  OWNT, ING_OK, 0, NULL },
	{ "ok_owntracks_cog_minus_1_is_absent", OT_TOPIC, OT(",\"cog\":-1"),
	  OWNT, ING_OK, 0, NULL },
	{ "ok_owntracks_vel_cog_negative_are_absent", OT_TOPIC,
	  OT(",\"vel\":-1,\"cog\":-1,\"acc\":65"), OWNT, ING_OK, 0, NULL },
	{ "ok_owntracks_vel_negative_fraction_is_absent", OT_TOPIC,
	  OT(",\"vel\":-0.5,\"cog\":-359"), OWNT, ING_OK, 0, NULL },
	/* issue 11 item 15: user and device, 32 bytes in all (31 + ':' ) */
	{ "ok_owntracks_user_device_32_bytes", "owntracks/abcdefghijklmno/"
	  "abcdefghijklmnop", OT(""), OWNT, ING_OK, 0, NULL },

	/* ignored: OwnTracks messages that are not locations */
	{ "ignored_owntracks_transition", OT_TOPIC,
	  "{\"_type\":\"transition\",\"tst\":1}", OWNT, ING_IGNORED, 0, NULL },
	{ "ignored_owntracks_lwt", OT_TOPIC, "{\"_type\":\"lwt\"}", OWNT,
	  ING_IGNORED, 0, NULL },
	{ "ignored_owntracks_waypoint", OT_TOPIC,
	  "{\"_type\":\"waypoint\",\"lat\":1}", OWNT, ING_IGNORED, 0, NULL },

	/* ignored: gpsd's other classes on a telemetry topic (issue 11 item
	 * 17: `gpspipe -w | mosquitto_pub -l`), auto and tpv alike */
	{ "ignored_gpsd_sky_auto", T_TOPIC,
	  "{\"class\":\"SKY\",\"device\":\"/dev/ttyUSB0\",\"xdop\":0.8,"
	  "\"satellites\":[{\"PRN\":5,\"used\":true}]}", AUTO, ING_IGNORED,
	  0, NULL },
	{ "ignored_gpsd_sky_tpv", T_TOPIC, "{\"class\":\"SKY\",\"satellites\":[]}",
	  TPVF, ING_IGNORED, 0, NULL },
	{ "ignored_gpsd_gst_auto", T_TOPIC,
	  "{\"class\":\"GST\",\"device\":\"/dev/ttyUSB0\",\"time\":"
	  "\"2019-08-10T08:00:00.000Z\",\"rms\":1.2,\"lat\":2.1,\"lon\":1.9}",
	  AUTO, ING_IGNORED, 0, NULL },
	{ "ignored_gpsd_att_auto", T_TOPIC,
	  "{\"class\":\"ATT\",\"device\":\"/dev/ttyUSB0\",\"heading\":14.2}",
	  AUTO, ING_IGNORED, 0, NULL },
	{ "ignored_gpsd_version_auto", T_TOPIC,
	  "{\"class\":\"VERSION\",\"release\":\"3.22\",\"rev\":\"3.22\","
	  "\"proto_major\":3,\"proto_minor\":14}", AUTO, ING_IGNORED, 0, NULL },
	{ "ignored_gpsd_devices_auto", T_TOPIC,
	  "{\"class\":\"DEVICES\",\"devices\":[{\"class\":\"DEVICE\","
	  "\"path\":\"/dev/ttyUSB0\"}]}", AUTO, ING_IGNORED, 0, NULL },
	{ "ignored_gpsd_device_tpv", T_TOPIC,
	  "{\"class\":\"DEVICE\",\"path\":\"/dev/ttyUSB0\",\"activated\":"
	  "\"2019-08-10T08:00:00.000Z\"}", TPVF, ING_IGNORED, 0, NULL },
	{ "ignored_gpsd_watch_auto", T_TOPIC,
	  "{\"class\":\"WATCH\",\"enable\":true,\"json\":true}", AUTO,
	  ING_IGNORED, 0, NULL },
	{ "ignored_gpsd_pps_auto", T_TOPIC,
	  "{\"class\":\"PPS\",\"device\":\"/dev/pps0\",\"real_sec\":"
	  "1565424000,\"real_nsec\":0}", AUTO, ING_IGNORED, 0, NULL },
	{ "ignored_gpsd_toff_tpv", T_TOPIC,
	  "{\"class\":\"TOFF\",\"device\":\"/dev/ttyUSB0\",\"real_sec\":"
	  "1565424000}", TPVF, ING_IGNORED, 0, NULL },
	{ "ignored_gpsd_error_auto", T_TOPIC,
	  "{\"class\":\"ERROR\",\"message\":\"unrecognized request\"}", AUTO,
	  ING_IGNORED, 0, NULL },

	/* not_json */
	{ "not_json_truncated", NULL, "{\"lat\":1", NATIVE, ING_REJECTED,
	  ING_REASON_NOT_JSON, NULL },
	{ "not_json_text", NULL, "hello", NATIVE, ING_REJECTED,
	  ING_REASON_NOT_JSON, NULL },
	{ "not_json_empty", NULL, "", NATIVE, ING_REJECTED,
	  ING_REASON_NOT_JSON, NULL },
	{ "not_json_scalar", NULL, "42", NATIVE, ING_REJECTED,
	  ING_REASON_NOT_JSON, NULL },
	{ "not_json_bad_utf8", NULL, "{\"vehicle\":\"\xff\"}", NATIVE,
	  ING_REJECTED, ING_REASON_NOT_JSON, NULL },
	{ "not_json_nan_literal", NULL, NAT(",\"speed_kmh\":NaN"), NATIVE,
	  ING_REJECTED, ING_REASON_NOT_JSON, NULL },
	/* a literal beyond a double is infinite, and fails its range */
	{ "number_overflow_is_infinite", NULL, NAT(",\"speed_kmh\":1e400"),
	  NATIVE, ING_REJECTED, ING_REASON_SPEED_RANGE, "speed_kmh" },
	{ "not_json_control_char_in_string", NULL, NAT(",\"un\":\"12\x01\""),
	  NATIVE, ING_REJECTED, ING_REASON_NOT_JSON, NULL },
	{ "not_json_bad_utf8_unknown_member", NULL,
	  NAT(",\"note\":\"\xc0\xaf\""), NATIVE, ING_REJECTED,
	  ING_REASON_NOT_JSON, NULL },
	{ "not_json_nul_escape_in_key", NULL, NAT(",\"a\\u0000\":1"), NATIVE,
	  ING_REJECTED, ING_REASON_NOT_JSON, NULL },
	{ "not_json_duplicate_owntracks_type", OT_TOPIC,
	  "{\"_type\":\"location\",\"_type\":\"lwt\",\"tst\":1565424000,"
	  "\"lat\":1,\"lon\":2}", OWNT, ING_REJECTED, ING_REASON_NOT_JSON,
	  "_type" },
	{ "not_json_duplicate_tpv_member", T_TOPIC,
	  "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T08:00:00Z\","
	  "\"lat\":1,\"lon\":2,\"lat\":3}", TPVF, ING_REJECTED,
	  ING_REASON_NOT_JSON, "lat" },
	{ "ok_escaped_backslash_then_u0000_text", NULL,
	  NAT(",\"note\":\"\\\\u0000\""), NATIVE, ING_OK, 0, NULL },
	{ "ok_unknown_member_twice", NULL, NAT(",\"x\":1,\"x\":[2]"), NATIVE,
	  ING_OK, 0, NULL },
	{ "ok_whitespace_around", NULL, " \t\r\n" NAT("") " \n", NATIVE,
	  ING_OK, 0, NULL },
	{ "not_json_duplicate_key", NULL, NAT(",\"lat\":99"), NATIVE,
	  ING_REJECTED, ING_REASON_NOT_JSON, "lat" },
	{ "not_json_trailing_garbage", NULL, NAT("") "x", NATIVE,
	  ING_REJECTED, ING_REASON_NOT_JSON, NULL },
	{ "not_json_nul_escape", NULL, "{\"vehicle\":\"A\\u0000B\"}", NATIVE,
	  ING_REJECTED, ING_REASON_NOT_JSON, NULL },
	{ "not_json_tpv_format", T_TOPIC, "{\"class\":\"TPV\"", TPVF,
	  ING_REJECTED, ING_REASON_NOT_JSON, NULL },
	{ "not_json_owntracks_format", OT_TOPIC, "nope", OWNT, ING_REJECTED,
	  ING_REASON_NOT_JSON, NULL },

	/* not_object */
	{ "not_object_array", NULL, "[1,2,3]", NATIVE, ING_REJECTED,
	  ING_REASON_NOT_OBJECT, NULL },
	{ "not_object_empty_array", T_TOPIC, "[]", AUTO, ING_REJECTED,
	  ING_REASON_NOT_OBJECT, NULL },

	/* missing_field */
	{ "missing_lat", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00Z\",\"lon\":1}",
	  NATIVE, ING_REJECTED, ING_REASON_MISSING_FIELD, "lat" },
	{ "missing_lon", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1}",
	  NATIVE, ING_REJECTED, ING_REASON_MISSING_FIELD, "lon" },
	{ "missing_lat_null", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":null,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_MISSING_FIELD, "lat" },
	{ "missing_ts", NULL, "{\"vehicle\":\"V\",\"lat\":1,\"lon\":1}",
	  NATIVE, ING_REJECTED, ING_REASON_MISSING_FIELD, "ts" },
	{ "missing_vehicle_no_topic", NULL,
	  "{\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,\"lon\":1}", NATIVE,
	  ING_REJECTED, ING_REASON_MISSING_FIELD, "vehicle" },
	{ "missing_vehicle_short_topic", "tankers",
	  "{\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,\"lon\":1}", NATIVE,
	  ING_REJECTED, ING_REASON_MISSING_FIELD, "vehicle" },
	{ "missing_owntracks_type", OT_TOPIC, "{\"lat\":1,\"lon\":1}", OWNT,
	  ING_REJECTED, ING_REASON_MISSING_FIELD, "_type" },
	{ "missing_owntracks_tst", OT_TOPIC,
	  "{\"_type\":\"location\",\"lat\":1,\"lon\":1}", OWNT, ING_REJECTED,
	  ING_REASON_MISSING_FIELD, "tst" },
	{ "missing_owntracks_device", "owntracks/alice", OT(""), OWNT,
	  ING_REJECTED, ING_REASON_MISSING_FIELD, "vehicle" },
	{ "missing_owntracks_topic", NULL, OT(""), OWNT, ING_REJECTED,
	  ING_REASON_MISSING_FIELD, "vehicle" },
	{ "missing_tpv_class", T_TOPIC, "{\"mode\":3}", TPVF, ING_REJECTED,
	  ING_REASON_MISSING_FIELD, "class" },
	{ "missing_tpv_mode", T_TOPIC,
	  "{\"class\":\"TPV\",\"time\":\"2019-08-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":1}", TPVF, ING_REJECTED, ING_REASON_MISSING_FIELD, "mode" },
	{ "missing_tpv_time", T_TOPIC,
	  "{\"class\":\"TPV\",\"mode\":3,\"lat\":1,\"lon\":1}", TPVF,
	  ING_REJECTED, ING_REASON_MISSING_FIELD, "time" },
	{ "missing_tpv_lon", T_TOPIC,
	  "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T08:00:00Z\","
	  "\"lat\":1}", TPVF, ING_REJECTED, ING_REASON_MISSING_FIELD, "lon" },

	/* bad_type */
	{ "bad_type_lat_string", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":\"1\","
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_BAD_TYPE, "lat" },
	{ "bad_type_lon_bool", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":true}", NATIVE, ING_REJECTED, ING_REASON_BAD_TYPE, "lon" },
	{ "bad_type_vehicle_number", NULL,
	  "{\"vehicle\":7,\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_BAD_TYPE, "vehicle" },
	{ "bad_type_ts_number", NULL,
	  "{\"vehicle\":\"V\",\"ts\":1565424000,\"lat\":1,\"lon\":1}", NATIVE,
	  ING_REJECTED, ING_REASON_BAD_TYPE, "ts" },
	{ "bad_type_ts_ms_real", NULL,
	  "{\"vehicle\":\"V\",\"ts_ms\":1565424000000.5,\"lat\":1,\"lon\":1}",
	  NATIVE, ING_REJECTED, ING_REASON_BAD_TYPE, "ts_ms" },
	{ "bad_type_ts_ms_string", NULL,
	  "{\"vehicle\":\"V\",\"ts_ms\":\"1565424000000\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_BAD_TYPE, "ts_ms" },
	{ "bad_type_speed_string", NULL, NAT(",\"speed_kmh\":\"fast\""),
	  NATIVE, ING_REJECTED, ING_REASON_BAD_TYPE, "speed_kmh" },
	{ "bad_type_heading_array", NULL, NAT(",\"heading\":[1]"), NATIVE,
	  ING_REJECTED, ING_REASON_BAD_TYPE, "heading" },
	{ "bad_type_fix_fraction", NULL, NAT(",\"fix\":2.5"), NATIVE,
	  ING_REJECTED, ING_REASON_BAD_TYPE, "fix" },
	{ "bad_type_sats_string", NULL, NAT(",\"sats\":\"9\""), NATIVE,
	  ING_REJECTED, ING_REASON_BAD_TYPE, "sats" },
	{ "bad_type_seq_real", NULL, NAT(",\"seq\":1.5"), NATIVE,
	  ING_REJECTED, ING_REASON_BAD_TYPE, "seq" },
	/* JSON has one number type: an integral value is an integer */
	{ "ok_seq_integral_real", NULL, NAT(",\"seq\":1.0,\"fix\":3e0"), NATIVE,
	  ING_OK, 0, NULL },
	{ "bad_type_ignition_number", NULL, NAT(",\"ignition\":1"), NATIVE,
	  ING_REJECTED, ING_REASON_BAD_TYPE, "ignition" },
	{ "bad_type_alarms_string", NULL, NAT(",\"alarms\":\"sos\""), NATIVE,
	  ING_REJECTED, ING_REASON_BAD_TYPE, "alarms" },
	{ "bad_type_alarms_number_item", NULL, NAT(",\"alarms\":[\"sos\",1]"),
	  NATIVE, ING_REJECTED, ING_REASON_BAD_TYPE, "alarms" },
	{ "bad_type_alarms_nested", NULL, NAT(",\"alarms\":[[\"sos\"]]"),
	  NATIVE, ING_REJECTED, ING_REASON_BAD_TYPE, "alarms" },
	{ "bad_type_alarms_object", NULL, NAT(",\"alarms\":{\"sos\":true}"),
	  NATIVE, ING_REJECTED, ING_REASON_BAD_TYPE, "alarms" },
	{ "ok_alarms_unknown_name_ignored", NULL,
	  NAT(",\"alarms\":[\"SOS\",\"warp_core_breach\",\"\"]"), NATIVE,
	  ING_OK, 0, NULL },
	{ "not_json_alarms_twice", NULL,
	  NAT(",\"alarms\":[],\"alarms\":[\"sos\"]"), NATIVE,
	  ING_REJECTED, ING_REASON_NOT_JSON, "alarms" },
	{ "bad_type_un_number", NULL, NAT(",\"un\":1203"), NATIVE,
	  ING_REJECTED, ING_REASON_BAD_TYPE, "un" },
	{ "bad_type_owntracks_type", OT_TOPIC, "{\"_type\":1}", OWNT,
	  ING_REJECTED, ING_REASON_BAD_TYPE, "_type" },
	{ "bad_type_owntracks_tst_string", OT_TOPIC,
	  "{\"_type\":\"location\",\"tst\":\"1565424000\",\"lat\":1,"
	  "\"lon\":1}", OWNT, ING_REJECTED, ING_REASON_BAD_TYPE, "tst" },
	{ "bad_type_owntracks_vel", OT_TOPIC, OT(",\"vel\":\"5\""), OWNT,
	  ING_REJECTED, ING_REASON_BAD_TYPE, "vel" },
	{ "bad_type_tpv_class", T_TOPIC, "{\"class\":5}", TPVF, ING_REJECTED,
	  ING_REASON_BAD_TYPE, "class" },
	{ "bad_type_tpv_speed", T_TOPIC, TPV(",\"speed\":\"1\""), TPVF,
	  ING_REJECTED, ING_REASON_BAD_TYPE, "speed" },
	{ "bad_type_tpv_time_number", T_TOPIC,
	  "{\"class\":\"TPV\",\"mode\":3,\"time\":1565424000,\"lat\":1,"
	  "\"lon\":1}", TPVF, ING_REJECTED, ING_REASON_BAD_TYPE, "time" },
	{ "bad_type_tpv_mode_fraction", T_TOPIC,
	  "{\"class\":\"TPV\",\"mode\":2.7,\"time\":\"2019-08-10T08:00:00Z\","
	  "\"lat\":1,\"lon\":1}", TPVF, ING_REJECTED, ING_REASON_BAD_TYPE,
	  "mode" },

	/* lat_range / lon_range */
	{ "lat_range_high", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":90.0001,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_LAT_RANGE, "lat" },
	{ "lat_range_low", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":-91,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_LAT_RANGE, "lat" },
	{ "lon_range_high", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":180.5}", NATIVE, ING_REJECTED, ING_REASON_LON_RANGE, "lon" },
	{ "lon_range_low", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":-1e300}", NATIVE, ING_REJECTED, ING_REASON_LON_RANGE,
	  "lon" },
	{ "lat_range_owntracks", OT_TOPIC,
	  "{\"_type\":\"location\",\"tst\":1565424000,\"lat\":100,\"lon\":1}",
	  OWNT, ING_REJECTED, ING_REASON_LAT_RANGE, "lat" },
	{ "lat_range_tpv", T_TOPIC,
	  "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T08:00:00Z\","
	  "\"lat\":-95,\"lon\":1}", TPVF, ING_REJECTED, ING_REASON_LAT_RANGE,
	  "lat" },

	/* speed_range */
	{ "speed_range_negative", NULL, NAT(",\"speed_kmh\":-0.1"), NATIVE,
	  ING_REJECTED, ING_REASON_SPEED_RANGE, "speed_kmh" },
	{ "speed_range_over_300", NULL, NAT(",\"speed_kmh\":300.01"), NATIVE,
	  ING_REJECTED, ING_REASON_SPEED_RANGE, "speed_kmh" },
	/* issue 11 item 8: ranges are checked on the value sent, before it
	 * is kept to 0.001 km/h / 1e-9 degree (which cannot leave a range) */
	{ "speed_range_over_300_below_0_001", NULL,
	  NAT(",\"speed_kmh\":300.0004"), NATIVE, ING_REJECTED,
	  ING_REASON_SPEED_RANGE, "speed_kmh" },
	{ "speed_range_negative_below_0_001", NULL,
	  NAT(",\"speed_kmh\":-0.0004"), NATIVE, ING_REJECTED,
	  ING_REASON_SPEED_RANGE, "speed_kmh" },
	{ "speed_range_tpv_ms", T_TOPIC, TPV(",\"speed\":84"), TPVF,
	  ING_REJECTED, ING_REASON_SPEED_RANGE, "speed" },  /* 302.4 km/h */
	{ "speed_range_owntracks", OT_TOPIC, OT(",\"vel\":301"), OWNT,
	  ING_REJECTED, ING_REASON_SPEED_RANGE, "vel" },

	/* heading_range */
	{ "heading_range_negative", NULL, NAT(",\"heading\":-0.5"), NATIVE,
	  ING_REJECTED, ING_REASON_HEADING_RANGE, "heading" },
	{ "heading_range_over_360", NULL, NAT(",\"heading\":360.5"), NATIVE,
	  ING_REJECTED, ING_REASON_HEADING_RANGE, "heading" },
	{ "heading_range_tpv_track", T_TOPIC, TPV(",\"track\":400"), TPVF,
	  ING_REJECTED, ING_REASON_HEADING_RANGE, "track" },
	{ "heading_range_owntracks_cog", OT_TOPIC, OT(",\"cog\":361"), OWNT,
	  ING_REJECTED, ING_REASON_HEADING_RANGE, "cog" },
	/* -1 is "unknown" (absent), but -infinity is still out of range */
	{ "heading_range_owntracks_cog_minus_infinity", OT_TOPIC,
	  OT(",\"cog\":-1e400"), OWNT, ING_REJECTED, ING_REASON_HEADING_RANGE,
	  "cog" },
	{ "speed_range_owntracks_vel_minus_infinity", OT_TOPIC,
	  OT(",\"vel\":-1e400"), OWNT, ING_REJECTED, ING_REASON_SPEED_RANGE,
	  "vel" },

	/* value_range */
	{ "value_range_fix_4", NULL, NAT(",\"fix\":4"), NATIVE, ING_REJECTED,
	  ING_REASON_VALUE_RANGE, "fix" },
	{ "value_range_fix_huge", NULL, NAT(",\"fix\":99999999999"), NATIVE,
	  ING_REJECTED, ING_REASON_VALUE_RANGE, "fix" },
	{ "value_range_sats", NULL, NAT(",\"sats\":300"), NATIVE,
	  ING_REJECTED, ING_REASON_VALUE_RANGE, "sats" },
	{ "value_range_hdop", NULL, NAT(",\"hdop\":-1"), NATIVE, ING_REJECTED,
	  ING_REASON_VALUE_RANGE, "hdop" },
	{ "value_range_seq", NULL, NAT(",\"seq\":-1"), NATIVE, ING_REJECTED,
	  ING_REASON_VALUE_RANGE, "seq" },
	{ "value_range_alt", NULL, NAT(",\"alt_m\":1e6"), NATIVE,
	  ING_REJECTED, ING_REASON_VALUE_RANGE, "alt_m" },
	{ "value_range_owntracks_acc", OT_TOPIC, OT(",\"acc\":-5"), OWNT,
	  ING_REJECTED, ING_REASON_VALUE_RANGE, "acc" },
	{ "value_range_tpv_mode_9", T_TOPIC,
	  "{\"class\":\"TPV\",\"mode\":9,\"time\":\"2019-08-10T08:00:00Z\","
	  "\"lat\":1,\"lon\":1}", TPVF, ING_REJECTED, ING_REASON_VALUE_RANGE,
	  "mode" },

	/* time_format */
	{ "time_format_no_zone", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_TIME_FORMAT, "ts" },
	{ "time_format_month_13", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-13-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_TIME_FORMAT, "ts" },
	{ "time_format_feb_29_2019", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-02-29T08:00:00Z\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_TIME_FORMAT, "ts" },
	{ "time_format_empty_fraction", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00.Z\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_TIME_FORMAT, "ts" },
	{ "time_format_hour_24", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T24:00:00Z\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_TIME_FORMAT, "ts" },
	{ "time_format_short_offset", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00+8:00\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_TIME_FORMAT, "ts" },
	{ "time_format_trailing", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00Zx\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_TIME_FORMAT, "ts" },
	{ "time_format_words", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"yesterday\",\"lat\":1,\"lon\":1}",
	  NATIVE, ING_REJECTED, ING_REASON_TIME_FORMAT, "ts" },
	{ "time_format_tpv", T_TOPIC,
	  "{\"class\":\"TPV\",\"mode\":3,\"time\":\"garbage\",\"lat\":1,"
	  "\"lon\":1}", TPVF, ING_REJECTED, ING_REASON_TIME_FORMAT, "time" },

	/* time_before_2000 */
	{ "time_old_rfc3339", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"1999-12-31T23:59:59.999999Z\","
	  "\"lat\":1,\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_TIME_OLD,
	  "ts" },
	{ "time_old_offset", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2000-01-01T07:59:59+08:00\","
	  "\"lat\":1,\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_TIME_OLD,
	  "ts" },
	{ "time_old_ts_ms_zero", NULL,
	  "{\"vehicle\":\"V\",\"ts_ms\":0,\"lat\":1,\"lon\":1}", NATIVE,
	  ING_REJECTED, ING_REASON_TIME_OLD, "ts" },
	{ "time_old_ts_ms_min", NULL,
	  "{\"vehicle\":\"V\",\"ts_ms\":-9223372036854775807,\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_TIME_OLD, "ts" },
	{ "time_old_owntracks", OT_TOPIC,
	  "{\"_type\":\"location\",\"tst\":-1,\"lat\":1,\"lon\":1}", OWNT,
	  ING_REJECTED, ING_REASON_TIME_OLD, "tst" },

	/* time_future */
	{ "time_future_301s", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:05:00.000001Z\","
	  "\"lat\":1,\"lon\":1}", NATIVE, ING_REJECTED,
	  ING_REASON_TIME_FUTURE, "ts" },
	{ "time_future_offset", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"2019-08-10T08:00:00-01:00\","
	  "\"lat\":1,\"lon\":1}", NATIVE, ING_REJECTED,
	  ING_REASON_TIME_FUTURE, "ts" },
	{ "time_future_ts_ms_max", NULL,
	  "{\"vehicle\":\"V\",\"ts_ms\":9223372036854775807,\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_TIME_FUTURE, "ts" },
	{ "time_future_year_9999", NULL,
	  "{\"vehicle\":\"V\",\"ts\":\"9999-12-31T23:59:59Z\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_TIME_FUTURE, "ts" },
	{ "time_future_owntracks", OT_TOPIC,
	  "{\"_type\":\"location\",\"tst\":1565424400,\"lat\":1,\"lon\":1}",
	  OWNT, ING_REJECTED, ING_REASON_TIME_FUTURE, "tst" },

	/* vehicle_* */
	{ "vehicle_empty_payload", NULL,
	  "{\"vehicle\":\"\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_VEHICLE_EMPTY,
	  "vehicle" },
	{ "vehicle_empty_topic_level", "tankers//telemetry",
	  "{\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,\"lon\":1}", NATIVE,
	  ING_REJECTED, ING_REASON_VEHICLE_EMPTY, "vehicle" },
	/* OwnTracks: user:device (issue 11 item 15), each level non-empty,
	 * 32 bytes in all, the user level under the vehicle rules too */
	{ "vehicle_empty_owntracks_user", "owntracks//phone", OT(""), OWNT,
	  ING_REJECTED, ING_REASON_VEHICLE_EMPTY, "vehicle" },
	{ "vehicle_empty_owntracks_device", "owntracks/alice/", OT(""), OWNT,
	  ING_REJECTED, ING_REASON_VEHICLE_EMPTY, "vehicle" },
	{ "vehicle_too_long_owntracks_user_device_33", "owntracks/"
	  "abcdefghijklmnop/abcdefghijklmnop", OT(""), OWNT, ING_REJECTED,
	  ING_REASON_VEHICLE_LONG, "vehicle" },
	{ "vehicle_too_long_owntracks_long_user", "owntracks/"
	  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz/p", OT(""), OWNT,
	  ING_REJECTED, ING_REASON_VEHICLE_LONG, "vehicle" },
	{ "vehicle_wildcard_owntracks_user", "owntracks/a+b/phone", OT(""),
	  OWNT, ING_REJECTED, ING_REASON_VEHICLE_WILDCARD, "vehicle" },
	{ "vehicle_control_owntracks_user", "owntracks/a\x7f/phone", OT(""),
	  OWNT, ING_REJECTED, ING_REASON_VEHICLE_CONTROL, "vehicle" },
	{ "vehicle_utf8_owntracks_user", "owntracks/\xe6\x99/phone", OT(""),
	  OWNT, ING_REJECTED, ING_REASON_VEHICLE_UTF8, "vehicle" },
	{ "vehicle_too_long_33_ascii", NULL,
	  "{\"vehicle\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456\","
	  "\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,\"lon\":1}", NATIVE,
	  ING_REJECTED, ING_REASON_VEHICLE_LONG, "vehicle" },
	{ "vehicle_too_long_11_hanzi", NULL,
	  "{\"vehicle\":\"\xe6\x99\x8b\xe6\x99\x8b\xe6\x99\x8b\xe6\x99\x8b"
	  "\xe6\x99\x8b\xe6\x99\x8b\xe6\x99\x8b\xe6\x99\x8b\xe6\x99\x8b"
	  "\xe6\x99\x8b\xe6\x99\x8b\",\"ts\":\"2019-08-10T08:00:00Z\","
	  "\"lat\":1,\"lon\":1}", NATIVE, ING_REJECTED,
	  ING_REASON_VEHICLE_LONG, "vehicle" },
	{ "vehicle_utf8_topic_ff", "tankers/A\xff/telemetry",
	  "{\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,\"lon\":1}", NATIVE,
	  ING_REJECTED, ING_REASON_VEHICLE_UTF8, "vehicle" },
	{ "vehicle_utf8_topic_overlong", "tankers/\xc0\xaf/telemetry",
	  "{\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,\"lon\":1}", NATIVE,
	  ING_REJECTED, ING_REASON_VEHICLE_UTF8, "vehicle" },
	{ "vehicle_utf8_topic_surrogate", "tankers/\xed\xa0\x80/telemetry",
	  "{\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,\"lon\":1}", NATIVE,
	  ING_REJECTED, ING_REASON_VEHICLE_UTF8, "vehicle" },
	{ "vehicle_utf8_topic_truncated", "tankers/\xe6\x99",
	  "{\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,\"lon\":1}", NATIVE,
	  ING_REJECTED, ING_REASON_VEHICLE_UTF8, "vehicle" },
	{ "vehicle_utf8_owntracks_device", "owntracks/u/\xf5\x80\x80\x80",
	  OT(""), OWNT, ING_REJECTED, ING_REASON_VEHICLE_UTF8, "vehicle" },
	{ "vehicle_control_tab", NULL,
	  "{\"vehicle\":\"A\\tB\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_VEHICLE_CONTROL,
	  "vehicle" },
	{ "vehicle_control_del", NULL,
	  "{\"vehicle\":\"A\\u007f\",\"ts\":\"2019-08-10T08:00:00Z\","
	  "\"lat\":1,\"lon\":1}", NATIVE, ING_REJECTED,
	  ING_REASON_VEHICLE_CONTROL, "vehicle" },
	{ "vehicle_control_c1_nel", NULL,
	  "{\"vehicle\":\"A\\u0085\",\"ts\":\"2019-08-10T08:00:00Z\","
	  "\"lat\":1,\"lon\":1}", NATIVE, ING_REJECTED,
	  ING_REASON_VEHICLE_CONTROL, "vehicle" },
	{ "vehicle_control_topic_newline", "tankers/A\nB/telemetry",
	  "{\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,\"lon\":1}", NATIVE,
	  ING_REJECTED, ING_REASON_VEHICLE_CONTROL, "vehicle" },
	{ "vehicle_wildcard_plus", NULL,
	  "{\"vehicle\":\"A+B\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_VEHICLE_WILDCARD,
	  "vehicle" },
	{ "vehicle_wildcard_hash", NULL,
	  "{\"vehicle\":\"#\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_VEHICLE_WILDCARD,
	  "vehicle" },
	{ "vehicle_wildcard_slash", NULL,
	  "{\"vehicle\":\"A/B\",\"ts\":\"2019-08-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":1}", NATIVE, ING_REJECTED, ING_REASON_VEHICLE_WILDCARD,
	  "vehicle" },
	{ "vehicle_wildcard_tpv_member", T_TOPIC, TPV(",\"vehicle\":\"+\""),
	  TPVF, ING_REJECTED, ING_REASON_VEHICLE_WILDCARD, "vehicle" },

	/* no_fix */
	{ "no_fix_native_0", NULL, NAT(",\"fix\":0"), NATIVE, ING_REJECTED,
	  ING_REASON_NO_FIX, "fix" },
	{ "no_fix_native_1", NULL, NAT(",\"fix\":1"), NATIVE, ING_REJECTED,
	  ING_REASON_NO_FIX, "fix" },
	{ "no_fix_native_without_position", NULL,
	  "{\"vehicle\":\"V\",\"fix\":0}", NATIVE, ING_REJECTED,
	  ING_REASON_NO_FIX, "fix" },
	{ "no_fix_tpv_mode_1", T_TOPIC,
	  "{\"class\":\"TPV\",\"device\":\"/dev/ttyUSB0\",\"mode\":1}", TPVF,
	  ING_REJECTED, ING_REASON_NO_FIX, "mode" },
	{ "no_fix_tpv_mode_0_auto", T_TOPIC,
	  "{\"class\":\"TPV\",\"mode\":0,\"time\":\"2019-08-10T08:00:00Z\"}",
	  AUTO, ING_REJECTED, ING_REASON_NO_FIX, "mode" },

	/* cargo_format */
	{ "cargo_format_un_long", NULL, NAT(",\"un\":\"12345678\""), NATIVE,
	  ING_REJECTED, ING_REASON_CARGO_FORMAT, "un" },
	{ "cargo_format_un_space", NULL, NAT(",\"un\":\"12 3\""), NATIVE,
	  ING_REJECTED, ING_REASON_CARGO_FORMAT, "un" },
	{ "cargo_format_class_non_ascii", NULL,
	  NAT(",\"hazard_class\":\"\xe2\x85\xa2\""), NATIVE, ING_REJECTED,
	  ING_REASON_CARGO_FORMAT, "hazard_class" },

	/* not_tpv */
	/* a class gpsd does not send (gpsd's own: ignored, above) */
	{ "not_tpv_unknown_class", T_TOPIC,
	  "{\"class\":\"POSITION\",\"satellites\":[]}", TPVF, ING_REJECTED,
	  ING_REASON_NOT_TPV, "class" },
	{ "not_tpv_sky_lowercase", T_TOPIC, "{\"class\":\"sky\"}", TPVF,
	  ING_REJECTED, ING_REASON_NOT_TPV, "class" },
	{ "not_tpv_lowercase", T_TOPIC, "{\"class\":\"tpv\"}", TPVF,
	  ING_REJECTED, ING_REASON_NOT_TPV, "class" },
	/* a class gpsd does not send is native on auto (gpsd's: ignored) */
	{ "auto_unknown_class_is_native", T_TOPIC, "{\"class\":\"POSITION\"}",
	  AUTO, ING_REJECTED, ING_REASON_MISSING_FIELD, "lat" },

	/* tpv_unreadable: JSON that gpsd's own parser does not read */
	{ "tpv_unreadable_spaced_class", T_TOPIC,
	  "{\"class\": \"TPV\", \"mode\": 3, "
	  "\"time\": \"2019-08-10T08:00:00Z\", \"lat\": 1, \"lon\": 1}", TPVF,
	  ING_REJECTED, ING_REASON_TPV_UNREADABLE, "class" },
	/* gps_unpack() loops forever when its parse fails before "class":
	 * only gpsd's layout (class first, one class tag) reaches it */
	{ "tpv_unreadable_class_not_first", T_TOPIC,
	  "{\"mode\":3,\"class\":\"TPV\",\"time\":\"2019-08-10T08:00:00Z\","
	  "\"lat\":1,\"lon\":1}", TPVF, ING_REJECTED,
	  ING_REASON_TPV_UNREADABLE, "class" },
	{ "tpv_unreadable_bad_member_before_class_no_hang", T_TOPIC,
	  "{\"ept\":\"x\",\"class\":\"TPV\",\"mode\":3,"
	  "\"time\":\"2019-08-10T08:00:00Z\",\"lat\":1,\"lon\":1}", AUTO,
	  ING_REJECTED, ING_REASON_TPV_UNREADABLE, "class" },
	{ "tpv_unreadable_long_key_before_class_no_hang", T_TOPIC,
	  "{\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\":1,\"class\":\"TPV\","
	  "\"mode\":3,\"time\":\"2019-08-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":1}", TPVF, ING_REJECTED, ING_REASON_TPV_UNREADABLE,
	  "class" },
	{ "tpv_unreadable_second_class_tag", T_TOPIC,
	  TPV(",\"\\\"class\":\"TPV\""), TPVF, ING_REJECTED,
	  ING_REASON_TPV_UNREADABLE, "class" },
	{ "ok_tpv_space_after_brace", T_TOPIC,
	  "{ \"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T08:00:00Z\","
	  "\"lat\":1,\"lon\":1}", TPVF, ING_OK, 0, NULL },
	{ "tpv_unreadable_nested_member", T_TOPIC,
	  TPV(",\"extra\":{\"a\":1},\"speed\":1"), TPVF, ING_REJECTED,
	  ING_REASON_TPV_UNREADABLE, NULL },
	/* these two made libgps 3.22's gps_unpack() spin forever */
	{ "tpv_unreadable_nested_first_no_hang", T_TOPIC,
	  "{\"x\":{\"class\":\"SKY\"},\"class\":\"TPV\",\"mode\":3,"
	  "\"time\":\"2019-08-10T08:00:00Z\",\"lat\":1,\"lon\":1}", TPVF,
	  ING_REJECTED, ING_REASON_TPV_UNREADABLE, NULL },
	{ "tpv_unreadable_array_first_no_hang", T_TOPIC,
	  "{\"x\":[],\"class\":\"TPV\",\"mode\":3,"
	  "\"time\":\"2019-08-10T08:00:00Z\",\"lat\":1,\"lon\":1}", AUTO,
	  ING_REJECTED, ING_REASON_TPV_UNREADABLE, NULL },
	{ "tpv_unreadable_string_with_class_ok", T_TOPIC,
	  TPV(",\"x\":\"{\\\"class\\\":\\\"SKY\\\"}\""), TPVF, ING_OK, 0,
	  NULL },
	{ "tpv_unreadable_time_offset", T_TOPIC,
	  "{\"class\":\"TPV\",\"mode\":3,"
	  "\"time\":\"2019-08-10T16:00:00+08:00\",\"lat\":1,\"lon\":1}", TPVF,
	  ING_REJECTED, ING_REASON_TPV_UNREADABLE, "time" },
	{ "tpv_unreadable_long_member_name", T_TOPIC,
	  TPV(",\"a_member_name_longer_than_gpsd_reads\":1,\"speed\":1"),
	  TPVF, ING_REJECTED, ING_REASON_TPV_UNREADABLE, "speed" },
	{ "tpv_unreadable_long_device", T_TOPIC,
	  "{\"class\":\"TPV\",\"device\":\"/dev/"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "\",\"mode\":3,\"time\":\"2019-08-10T08:00:00Z\",\"lat\":1,"
	  "\"lon\":1}", TPVF, ING_REJECTED, ING_REASON_TPV_UNREADABLE, NULL },
};

static void
run_decode_case(void **state)
{
	const struct decode_case *c = *state;
	struct ing_fix fix;
	struct ing_error err;
	enum ing_result res;

	res = ing_decode(c->topic, c->payload, strlen(c->payload),
	                 (enum ing_format)c->format, NOW_US, &fix, &err);
	if (res != c->result || err.reason != c->reason)
		print_message("# %s: got %s/%s (%s)\n", c->name,
		              ing_result_name(res), ing_reason_name(err.reason),
		              err.message);
	assert_int_equal(res, c->result);
	assert_int_equal(err.reason, c->reason);
	if (c->field) {
		assert_non_null(err.field);
		assert_string_equal(err.field, c->field);
	}
	if (res == ING_REJECTED) {
		/* the human message names the problem, printable ASCII */
		size_t i, n = strlen(err.message);
		assert_true(n > 0);
		for (i = 0; i < n; i++)
			assert_true(err.message[i] >= 0x20 &&
			            err.message[i] < 0x7f);
		if (c->field && strcmp(c->field, "vehicle") != 0)
			assert_non_null(strstr(err.message, c->field));
	}
}

/* ---- decoded values ---------------------------------------------------- */

static void
decode_ok(const char *topic, const char *payload, enum ing_format format,
          struct ing_fix *fix)
{
	struct ing_error err;
	enum ing_result res = ing_decode(topic, payload, strlen(payload), format,
	                                 NOW_US, fix, &err);

	if (res != ING_OK)
		print_message("# rejected: %s: %s\n",
		              ing_reason_name(err.reason), err.message);
	assert_int_equal(res, ING_OK);
	assert_int_equal(err.reason, ING_REASON_NONE);
}

static void
native_all_members(void **state)
{
	struct ing_fix f;

	(void)state;
	decode_ok("tankers/other/telemetry",
	          "{\"vehicle\":\"\xe6\x99\x8b" "A12345\","
	          "\"ts\":\"2019-08-10T08:00:00.123Z\",\"lat\":37.604999,"
	          "\"lon\":112.3600398,\"speed_kmh\":30.9,\"heading\":41.4,"
	          "\"alt_m\":812.5,\"hdop\":1.4,\"fix\":3,\"sats\":9,"
	          "\"un\":\"1203\",\"hazard_class\":\"3\",\"seq\":42,"
	          "\"ignition\":true}", ING_FORMAT_NATIVE, &f);
	assert_string_equal(f.vehicle, "\xe6\x99\x8b" "A12345");
	assert_int_equal(strlen(f.vehicle), 9);
	assert_true(f.time_us == NOW_US + 123000);
	assert_true(f.lat == 37.604999 && f.lon == 112.3600398);
	assert_true(f.speed_kmh == 30.9 && f.heading == 41.4);
	assert_true(f.alt_m == 812.5 && f.hdop == 1.4);
	assert_int_equal(f.fix, 3);
	assert_int_equal(f.sats, 9);
	assert_string_equal(f.un, "1203");
	assert_string_equal(f.hazard_class, "3");
	assert_true(f.seq == 42);
	assert_true(f.ignition);
	assert_int_equal(f.format, ING_FORMAT_NATIVE);
	assert_int_equal(f.present,
	                 ING_HAS_SPEED | ING_HAS_HEADING | ING_HAS_ALT |
	                 ING_HAS_HDOP | ING_HAS_FIX | ING_HAS_SATS |
	                 ING_HAS_UN | ING_HAS_HAZARD_CLASS | ING_HAS_SEQ |
	                 ING_HAS_IGNITION);
}

/* "alarms": names -> the JT/T 808 alarm word's bits; [] is "none raised"
 * (present), null and absence are "not said"; unknown names are ignored,
 * duplicates are one bit. */
static void
native_alarms(void **state)
{
	struct ing_fix f;

	(void)state;
	decode_ok(NULL, NAT(",\"alarms\":[\"sos\",\"collision\",\"rollover\","
	          "\"illegal_door_open\",\"overspeed\",\"sos\",\"nonesuch\"]"),
	          ING_FORMAT_NATIVE, &f);
	assert_int_equal(f.present, ING_HAS_ALARMS);
	assert_true(f.alarms == ((1u << 0) | (1u << 1) | (1u << 29) |
	                         (1u << 30) | (1u << 31)));
	decode_ok(NULL, NAT(",\"alarms\":[]"), ING_FORMAT_NATIVE, &f);
	assert_int_equal(f.present, ING_HAS_ALARMS);
	assert_true(f.alarms == 0);
	decode_ok(NULL, NAT(",\"alarms\":null"), ING_FORMAT_NATIVE, &f);
	assert_int_equal(f.present, 0);
	decode_ok(NULL, NAT(",\"alarms\":[\"SOS\",\"fatigue \"]"),
	          ING_FORMAT_NATIVE, &f);
	assert_int_equal(f.present, ING_HAS_ALARMS);
	assert_true(f.alarms == 0);
	/* names at the word's ends and around the reserved bits 15-17 */
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "sos", 0 }, { "fatigue", 2 }, { "fatigue_warning", 14 },
		{ "driving_time_exceeded", 18 }, { "collision", 29 },
		{ "rollover", 30 }, { "illegal_door_open", 31 },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char buf[200];
		snprintf(buf, sizeof buf, NAT(",\"alarms\":[\"%s\"]"),
		         names[i].name);
		decode_ok(NULL, buf, ING_FORMAT_NATIVE, &f);
		assert_true(f.alarms == 1u << names[i].bit);
	}
}

/* "positioned": false (hazgate-jt808's alarm-only report) is no position;
 * true or absent is. */
static void
native_positioned(void **state)
{
	struct ing_fix f;

	(void)state;
	decode_ok(NULL, NAT(",\"positioned\":false,\"alarms\":[\"sos\"]"), ING_FORMAT_NATIVE, &f);
	assert_int_equal(f.present, ING_HAS_ALARMS | ING_HAS_POSITIONED);
	assert_false(ing_fix_positioned(&f));
	decode_ok(NULL, NAT(",\"positioned\":true"), ING_FORMAT_NATIVE, &f);
	assert_true(ing_fix_positioned(&f));
	decode_ok(NULL, NAT(""), ING_FORMAT_NATIVE, &f);
	assert_true(ing_fix_positioned(&f));
	struct ing_error err;
	const char *bad = NAT(",\"positioned\":0");
	assert_int_equal(ing_decode(NULL, bad, strlen(bad), ING_FORMAT_NATIVE, NOW_US, &f, &err),
	                 ING_REJECTED);
	assert_int_equal(err.reason, ING_REASON_BAD_TYPE);
}

static void
native_minimal_has_nothing_optional(void **state)
{
	struct ing_fix f;

	(void)state;
	decode_ok(NULL, NAT(",\"un\":\"\",\"ignition\":false"),
	          ING_FORMAT_NATIVE, &f);
	assert_int_equal(f.present, ING_HAS_IGNITION);
	assert_false(f.ignition);
	assert_string_equal(f.vehicle, "V1");
	assert_string_equal(f.un, "");
	assert_true(f.speed_kmh == 0.0);
}

static void
native_vehicle_from_topic(void **state)
{
	struct ing_fix f;

	(void)state;
	decode_ok(T_TOPIC, "{\"ts_ms\":1565424000123,\"lat\":37.76,"
	          "\"lon\":112.5}", ING_FORMAT_NATIVE, &f);
	assert_string_equal(f.vehicle, "\xe6\x99\x8b" "A12345");
	assert_true(f.present & ING_VEHICLE_FROM_TOPIC);
	assert_true(f.time_us == NOW_US + 123000);
	/* a topic with no third level still has a second one */
	decode_ok("tankers/B2", "{\"ts_ms\":1565424000000,\"lat\":1,"
	          "\"lon\":1}", ING_FORMAT_NATIVE, &f);
	assert_string_equal(f.vehicle, "B2");
}

static void
native_payload_vehicle_wins(void **state)
{
	struct ing_fix f;

	(void)state;
	decode_ok(T_TOPIC, NAT(""), ING_FORMAT_NATIVE, &f);
	assert_string_equal(f.vehicle, "V1");
	assert_false(f.present & ING_VEHICLE_FROM_TOPIC);
}

static void
native_vehicle_32_bytes_ok(void **state)
{
	struct ing_fix f;

	(void)state;
	/* 10 hanzi (30 bytes) + 2 ASCII = 32 bytes: the limit is bytes */
	decode_ok(NULL, "{\"vehicle\":\"\xe6\x99\x8b\xe6\x99\x8b\xe6\x99\x8b"
	          "\xe6\x99\x8b\xe6\x99\x8b\xe6\x99\x8b\xe6\x99\x8b\xe6\x99\x8b"
	          "\xe6\x99\x8b\xe6\x99\x8b" "AB\",\"ts_ms\":1565424000000,"
	          "\"lat\":1,\"lon\":1}", ING_FORMAT_NATIVE, &f);
	assert_int_equal(strlen(f.vehicle), 32);
	/* a 4-byte UTF-8 character is fine too */
	decode_ok(NULL, "{\"vehicle\":\"\\ud83d\\ude9a1\",\"ts_ms\":"
	          "1565424000000,\"lat\":1,\"lon\":1}", ING_FORMAT_NATIVE, &f);
	assert_string_equal(f.vehicle, "\xf0\x9f\x9a\x9a" "1");
}

static void
native_ts_wins_over_ts_ms(void **state)
{
	struct ing_fix f;

	(void)state;
	decode_ok(NULL, NAT(",\"ts_ms\":1565424000999"), ING_FORMAT_NATIVE,
	          &f);
	assert_true(f.time_us == NOW_US);
}

static void
native_integral_real_fix(void **state)
{
	struct ing_fix f;

	(void)state;
	decode_ok(NULL, NAT(",\"fix\":2.0,\"sats\":12"), ING_FORMAT_NATIVE, &f);
	assert_int_equal(f.fix, 2);
	assert_int_equal(f.sats, 12);
	/* integer lat/lon are numbers too */
	decode_ok(NULL, "{\"vehicle\":\"V\",\"ts_ms\":1565424000000,"
	          "\"lat\":37,\"lon\":-112}", ING_FORMAT_NATIVE, &f);
	assert_true(f.lat == 37.0 && f.lon == -112.0);
}

static void
tpv_members_and_units(void **state)
{
	struct ing_fix f;

	(void)state;
	decode_ok(T_TOPIC,
	          "{\"class\":\"TPV\",\"device\":\"/dev/ttyUSB0\",\"mode\":3,"
	          "\"time\":\"2019-08-10T08:00:00.123456789Z\",\"ept\":0.005,"
	          "\"lat\":37.76,\"lon\":112.5,\"altHAE\":812.1,"
	          "\"altMSL\":800.5,\"alt\":800.5,\"epx\":3.1,\"epy\":4.2,"
	          "\"epv\":6.3,\"eph\":4.5,\"track\":41.4,\"speed\":10.0,"
	          "\"climb\":0.1,\"eps\":0.5,\"un\":\"1203\","
	          "\"hazard_class\":\"2.1\",\"seq\":7,\"ignition\":true}",
	          ING_FORMAT_TPV, &f);
	assert_int_equal(f.format, ING_FORMAT_TPV);
	assert_string_equal(f.vehicle, "\xe6\x99\x8b" "A12345");
	assert_true(f.time_us == NOW_US + 123456);
	assert_true(f.lat == 37.76 && f.lon == 112.5);
	assert_true(fabs(f.speed_kmh - 36.0) < 1e-9);     /* 10 m/s */
	assert_true(f.heading == 41.4);
	assert_true(f.alt_m == 800.5);                  /* altMSL first */
	assert_true(f.eph_m == 4.5);
	assert_int_equal(f.fix, 3);
	assert_string_equal(f.un, "1203");
	assert_string_equal(f.hazard_class, "2.1");
	assert_true(f.seq == 7 && f.ignition);
	assert_int_equal(f.present & (ING_HAS_HDOP | ING_HAS_SATS), 0);
	assert_int_equal(f.present & (ING_HAS_SPEED | ING_HAS_HEADING |
	                              ING_HAS_ALT | ING_HAS_EPH | ING_HAS_FIX),
	                 ING_HAS_SPEED | ING_HAS_HEADING | ING_HAS_ALT |
	                 ING_HAS_EPH | ING_HAS_FIX);
}

static void
tpv_mode_2_and_alt_fallbacks(void **state)
{
	struct ing_fix f;

	(void)state;
	decode_ok("tankers/T1/telemetry",
	          "{\"class\":\"TPV\",\"mode\":2,\"time\":\"2019-08-10T08:00:00Z\","
	          "\"lat\":1,\"lon\":2,\"altHAE\":55.5,\"speed\":0}",
	          ING_FORMAT_TPV, &f);
	assert_int_equal(f.fix, 2);
	assert_true(f.alt_m == 55.5);
	assert_true(f.speed_kmh == 0.0 && (f.present & ING_HAS_SPEED));
	assert_string_equal(f.vehicle, "T1");
	decode_ok("tankers/T1/telemetry",
	          "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T08:00:00Z\","
	          "\"lat\":1,\"lon\":2,\"alt\":12.25,\"altHAE\":55.5}",
	          ING_FORMAT_AUTO, &f);
	assert_true(f.alt_m == 12.25);
	assert_int_equal(f.format, ING_FORMAT_TPV);
	/* gpsd ignores scalar members it doesn't know */
	decode_ok("tankers/T1/telemetry",
	          TPV(",\"foo\":1,\"bar\":\"x\",\"vehicle\":\"OVR\""),
	          ING_FORMAT_TPV, &f);
	assert_string_equal(f.vehicle, "OVR");
}

static void
owntracks_members_and_units(void **state)
{
	struct ing_fix f;

	(void)state;
	decode_ok(OT_TOPIC,
	          "{\"_type\":\"location\",\"tid\":\"JA\",\"tst\":1565424000,"
	          "\"lat\":37.76,\"lon\":112.5,\"vel\":42,\"cog\":270,"
	          "\"alt\":790,\"acc\":12,\"batt\":80,\"conn\":\"m\"}",
	          ING_FORMAT_OWNTRACKS, &f);
	assert_int_equal(f.format, ING_FORMAT_OWNTRACKS);
	assert_string_equal(f.vehicle, "alice:\xe6\x99\x8b" "A54321");
	assert_true(f.present & ING_VEHICLE_FROM_TOPIC);
	assert_true(f.time_us == NOW_US);
	assert_true(f.speed_kmh == 42.0);       /* already km/h */
	assert_true(f.heading == 270.0);
	assert_true(f.alt_m == 790.0);
	assert_true(f.eph_m == 12.0);           /* acc is metres, not DOP */
	assert_int_equal(f.present & ~ING_VEHICLE_FROM_TOPIC,
	                 ING_HAS_SPEED | ING_HAS_HEADING | ING_HAS_ALT |
	                 ING_HAS_EPH);
}

/* Issue 11 item 14: "vel":-1 and "cog":-1 are the apps' "unknown". */
static void
owntracks_negative_vel_cog_absent(void **state)
{
	struct ing_fix f;

	(void)state;
	decode_ok(OT_TOPIC, OT(",\"vel\":-1,\"cog\":-1,\"alt\":790"),
	          ING_FORMAT_OWNTRACKS, &f);
	assert_int_equal(f.present & ~ING_VEHICLE_FROM_TOPIC, ING_HAS_ALT);
	assert_true(f.speed_kmh == 0.0);
	assert_true(f.heading == 0.0);
	/* 0 is a speed and a course, not "unknown" */
	decode_ok(OT_TOPIC, OT(",\"vel\":0,\"cog\":0"), ING_FORMAT_OWNTRACKS,
	          &f);
	assert_int_equal(f.present & ~ING_VEHICLE_FROM_TOPIC,
	                 ING_HAS_SPEED | ING_HAS_HEADING);
	/* one unknown, the other kept */
	decode_ok(OT_TOPIC, OT(",\"vel\":-1,\"cog\":90"), ING_FORMAT_OWNTRACKS,
	          &f);
	assert_int_equal(f.present & ~ING_VEHICLE_FROM_TOPIC, ING_HAS_HEADING);
	assert_true(f.heading == 90.0);
}

/*
 * Issue 11 item 8: the engine decides on what the positions table keeps,
 * speed to 0.001 km/h and lat/lon to 1e-9 degree (gateway/gw_batch.c's
 * COPY text), so that an audit of the stored rows decides alike. A TPV
 * speed of 22.2223 m/s is 80.00028 km/h: kept as 80.000, not overspeed at
 * 80 live or in the audit. Every format, the nearest double to the kept
 * decimal (what strtod() of the stored text gives), no -0.
 */
static void
speed_and_position_kept_as_stored(void **state)
{
	struct ing_fix f;
	char text[64];

	(void)state;
	decode_ok(T_TOPIC, TPV(",\"speed\":22.2223"), ING_FORMAT_TPV, &f);
	assert_true(f.present & ING_HAS_SPEED);
	assert_true(f.speed_kmh == 80.0);
	assert_false(f.speed_kmh > 80.0);
	/* the daemon's stored text reads back as the value decided on */
	snprintf(text, sizeof(text), "%.3f", f.speed_kmh);
	assert_string_equal(text, "80.000");
	assert_true(strtod(text, NULL) == f.speed_kmh);
	decode_ok(T_TOPIC, TPV(",\"speed\":22.2225"), ING_FORMAT_TPV, &f);
	assert_true(f.speed_kmh == 80.001);
	decode_ok(NULL, NAT(",\"speed_kmh\":80.0004"), ING_FORMAT_NATIVE, &f);
	assert_true(f.speed_kmh == 80.0);
	decode_ok(NULL, NAT(",\"speed_kmh\":22.2226"), ING_FORMAT_NATIVE, &f);
	assert_true(f.speed_kmh == 22.223);
	decode_ok(NULL, NAT(",\"speed_kmh\":299.9996"), ING_FORMAT_NATIVE, &f);
	assert_true(f.speed_kmh == 300.0);
	decode_ok(NULL, NAT(",\"speed_kmh\":0.0004"), ING_FORMAT_NATIVE, &f);
	assert_true(f.speed_kmh == 0.0 && !signbit(f.speed_kmh));
	decode_ok(OT_TOPIC, OT(",\"vel\":80.0004"), ING_FORMAT_OWNTRACKS, &f);
	assert_true(f.speed_kmh == 80.0);
	/* lat/lon: 9 decimals, as stored (double precision columns) */
	decode_ok(NULL, "{\"vehicle\":\"V\",\"ts_ms\":1565424000000,"
	          "\"lat\":37.7469123456789,\"lon\":-112.62830000000049}",
	          ING_FORMAT_NATIVE, &f);
	assert_true(f.lat == 37.746912346);
	assert_true(f.lon == -112.6283);
	snprintf(text, sizeof(text), "%.9f", f.lat);
	assert_true(strtod(text, NULL) == f.lat);
	decode_ok(NULL, "{\"vehicle\":\"V\",\"ts_ms\":1565424000000,"
	          "\"lat\":-0.0000000004,\"lon\":0.0000000006}",
	          ING_FORMAT_NATIVE, &f);
	assert_true(f.lat == 0.0 && !signbit(f.lat));
	assert_true(f.lon == 1e-9);
	decode_ok(T_TOPIC,
	          "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T08:00:00Z\","
	          "\"lat\":-22.46274425297172,\"lon\":93.68954509202837}",
	          ING_FORMAT_TPV, &f);
	assert_true(f.lat == -22.462744253 && f.lon == 93.689545092);
	decode_ok(OT_TOPIC, "{\"_type\":\"location\",\"tst\":1565424000,"
	          "\"lat\":37.76000000049,\"lon\":112.4999999996}",
	          ING_FORMAT_OWNTRACKS, &f);
	assert_true(f.lat == 37.76 && f.lon == 112.5);
}

/* Issue 11 item 15: one vehicle per user and device; tid is not it. */
static void
owntracks_vehicle_is_user_and_device(void **state)
{
	struct ing_fix jane, john;

	(void)state;
	decode_ok("owntracks/jane/iphone", OT(",\"tid\":\"ip\""),
	          ING_FORMAT_OWNTRACKS, &jane);
	decode_ok("owntracks/john/iphone", OT(",\"tid\":\"ip\""),
	          ING_FORMAT_OWNTRACKS, &john);
	assert_string_equal(jane.vehicle, "jane:iphone");
	assert_string_equal(john.vehicle, "john:iphone");
	/* Android's default device name, the hardware codename */
	decode_ok("owntracks/\xe7\x8e\x8b/sunfish", OT(""),
	          ING_FORMAT_OWNTRACKS, &jane);
	assert_string_equal(jane.vehicle, "\xe7\x8e\x8b:sunfish");
	/* levels after the device are not part of it */
	decode_ok("owntracks/u/dev/extra", OT(""), ING_FORMAT_OWNTRACKS, &jane);
	assert_string_equal(jane.vehicle, "u:dev");
	/* the joined name is a valid vehicle name and one topic level */
	assert_int_equal(ing_vehicle_check(john.vehicle, strlen(john.vehicle),
	                                   NULL), ING_REASON_NONE);
	assert_null(strchr(john.vehicle, '/'));
}

/* Issue 11 item 17: gpsd's other classes are ignored, with a message. */
static void
gpsd_other_classes_ignored(void **state)
{
	static const char *const classes[] = {
		"SKY", "GST", "ATT", "IMU", "VERSION", "DEVICES", "DEVICE",
		"WATCH", "POLL", "PPS", "TOFF", "OSC", "ERROR", "AIS", "RAW",
		"RTCM2", "RTCM3", "SUBFRAME",
	};
	char payload[128];
	struct ing_fix f;
	struct ing_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		int n = snprintf(payload, sizeof(payload),
		                 "{\"class\":\"%s\",\"device\":\"/dev/gps0\"}",
		                 classes[i]);
		assert_int_equal(ing_decode(T_TOPIC, payload, (size_t)n,
		                            ING_FORMAT_AUTO, NOW_US, &f, &err),
		                 ING_IGNORED);
		assert_int_equal(err.reason, ING_REASON_NONE);
		assert_non_null(strstr(err.message, classes[i]));
		assert_int_equal(ing_decode(T_TOPIC, payload, (size_t)n,
		                            ING_FORMAT_TPV, NOW_US, &f, &err),
		                 ING_IGNORED);
		assert_int_equal(f.format, ING_FORMAT_TPV);
		/* on a native subscription nothing changes: missing_field */
		assert_int_equal(ing_decode(T_TOPIC, payload, (size_t)n,
		                            ING_FORMAT_NATIVE, NOW_US, &f, &err),
		                 ING_REJECTED);
		assert_int_equal(err.reason, ING_REASON_MISSING_FIELD);
	}
}

static void
owntracks_mapping_by_caller(void **state)
{
	struct ing_fix f;
	struct ing_error err;

	(void)state;
	decode_ok("owntracks/alice/phone", OT(""), ING_FORMAT_OWNTRACKS, &f);
	assert_string_equal(f.vehicle, "alice:phone");
	assert_int_equal(ing_fix_set_vehicle(&f, "\xe6\x99\x8b" "A99999", 9,
	                                     &err), ING_REASON_NONE);
	assert_string_equal(f.vehicle, "\xe6\x99\x8b" "A99999");
	/* a bad mapping is refused and leaves the fix alone */
	assert_int_equal(ing_fix_set_vehicle(&f, "a/b", 3, &err),
	                 ING_REASON_VEHICLE_WILDCARD);
	assert_int_equal(err.reason, ING_REASON_VEHICLE_WILDCARD);
	assert_string_equal(f.vehicle, "\xe6\x99\x8b" "A99999");
}

static void
ignored_reports_type(void **state)
{
	struct ing_fix f;
	struct ing_error err;

	(void)state;
	assert_int_equal(ing_decode(OT_TOPIC, "{\"_type\":\"card\"}", 16,
	                            ING_FORMAT_OWNTRACKS, NOW_US, &f, &err),
	                 ING_IGNORED);
	assert_int_equal(err.reason, ING_REASON_NONE);
	assert_string_equal(err.field, "_type");
	assert_non_null(strstr(err.message, "card"));
}

static void
too_large_payloads(void **state)
{
	size_t n = ING_PAYLOAD_MAX + 1;
	char *big = malloc(n);
	struct ing_fix f;
	struct ing_error err;
	const char *head = "{\"vehicle\":\"V\",\"ts_ms\":1565424000000,"
	                   "\"lat\":1,\"lon\":1,\"pad\":\"";
	size_t hl = strlen(head);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', n);
	memcpy(big, head, hl);
	big[n - 2] = '"';
	big[n - 1] = '}';
	assert_int_equal(ing_decode(NULL, big, n, ING_FORMAT_NATIVE, NOW_US, &f,
	                            &err), ING_REJECTED);
	assert_int_equal(err.reason, ING_REASON_TOO_LARGE);
	/* one byte less is accepted: the limit is exact */
	big[n - 3] = '"';
	big[n - 2] = '}';
	assert_int_equal(ing_decode(NULL, big, n - 1, ING_FORMAT_NATIVE, NOW_US,
	                            &f, &err), ING_OK);

	/* TPV: libgps's 8 KiB */
	head = "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2019-08-10T08:00:00Z\","
	       "\"lat\":1,\"lon\":1,\"pad\":\"";
	hl = strlen(head);
	n = ING_TPV_MAX + 1;
	memset(big, 'x', n);
	memcpy(big, head, hl);
	big[n - 2] = '"';
	big[n - 1] = '}';
	assert_int_equal(ing_decode(T_TOPIC, big, n, ING_FORMAT_AUTO, NOW_US,
	                            &f, &err), ING_REJECTED);
	assert_int_equal(err.reason, ING_REASON_TOO_LARGE);
	big[n - 3] = '"';
	big[n - 2] = '}';
	assert_int_equal(ing_decode(T_TOPIC, big, n - 1, ING_FORMAT_TPV,
	                            NOW_US, &f, &err), ING_OK);
	free(big);
}

static void
payload_not_nul_terminated(void **state)
{
	/* the length counts, not a NUL: trailing bytes beyond len unread */
	const char buf[] = NAT("") "GARBAGE";
	struct ing_fix f;
	struct ing_error err;

	(void)state;
	assert_int_equal(ing_decode(NULL, buf, strlen(NAT("")),
	                            ING_FORMAT_NATIVE, NOW_US, &f, &err),
	                 ING_OK);
	assert_int_equal(ing_decode(NULL, NULL, 0, ING_FORMAT_NATIVE, NOW_US,
	                            &f, NULL), ING_REJECTED);
}

static void
payload_nul_bytes_rejected(void **state)
{
	/* cJSON keeps C strings: a raw NUL would cut "A\0B" to "A" and a
	 * NUL after the object would end the text early. Both not_json. */
	static const char in_string[] =
		"{\"vehicle\":\"A\0B\",\"ts\":\"2019-08-10T08:00:00Z\","
		"\"lat\":1,\"lon\":2}";
	static const char after[] =
		"{\"vehicle\":\"A\",\"ts\":\"2019-08-10T08:00:00Z\","
		"\"lat\":1,\"lon\":2}\0";
	struct ing_fix f;
	struct ing_error err;

	(void)state;
	assert_int_equal(ing_decode(NULL, in_string, sizeof(in_string) - 1,
	                            ING_FORMAT_NATIVE, NOW_US, &f, &err),
	                 ING_REJECTED);
	assert_int_equal(err.reason, ING_REASON_NOT_JSON);
	assert_non_null(strstr(err.message, "byte 13"));
	assert_int_equal(ing_decode(NULL, after, sizeof(after) - 1,
	                            ING_FORMAT_NATIVE, NOW_US, &f, &err),
	                 ING_REJECTED);
	assert_int_equal(err.reason, ING_REASON_NOT_JSON);
	/* without the NUL, the same object is fine */
	assert_int_equal(ing_decode(NULL, after, sizeof(after) - 2,
	                            ING_FORMAT_NATIVE, NOW_US, &f, &err),
	                 ING_OK);
}

static void
fix_check_nan_and_inf(void **state)
{
	struct ing_fix f;
	struct ing_error err;

	(void)state;
	decode_ok(NULL, NAT(",\"speed_kmh\":10,\"heading\":5"),
	          ING_FORMAT_NATIVE, &f);
	assert_int_equal(ing_fix_check(&f, NOW_US, &err), ING_REASON_NONE);
	f.lat = NAN;
	assert_int_equal(ing_fix_check(&f, NOW_US, &err), ING_REASON_LAT_RANGE);
	f.lat = INFINITY;
	assert_int_equal(ing_fix_check(&f, NOW_US, &err), ING_REASON_LAT_RANGE);
	f.lat = 1;
	f.lon = -INFINITY;
	assert_int_equal(ing_fix_check(&f, NOW_US, &err), ING_REASON_LON_RANGE);
	f.lon = NAN;
	assert_int_equal(ing_fix_check(&f, NOW_US, NULL), ING_REASON_LON_RANGE);
	f.lon = 1;
	f.speed_kmh = NAN;
	assert_int_equal(ing_fix_check(&f, NOW_US, &err),
	                 ING_REASON_SPEED_RANGE);
	f.speed_kmh = 1;
	f.heading = NAN;
	assert_int_equal(ing_fix_check(&f, NOW_US, &err),
	                 ING_REASON_HEADING_RANGE);
	f.heading = 1;
	f.present |= ING_HAS_ALT;
	f.alt_m = INFINITY;
	assert_int_equal(ing_fix_check(&f, NOW_US, &err),
	                 ING_REASON_VALUE_RANGE);
	f.alt_m = 0;
	/* now near INT64_MAX: no overflow, nothing is "ahead" */
	assert_int_equal(ing_fix_check(&f, INT64_MAX, &err), ING_REASON_NONE);
	assert_int_equal(ing_fix_check(&f, INT64_MIN, &err),
	                 ING_REASON_TIME_FUTURE);
}

static void
vehicle_check_direct(void **state)
{
	struct ing_error err;

	(void)state;
	assert_int_equal(ing_vehicle_check("\xe6\x99\x8b" "A12345", 9, &err),
	                 ING_REASON_NONE);
	assert_int_equal(ing_vehicle_check("AB", 0, &err),
	                 ING_REASON_VEHICLE_EMPTY);
	assert_int_equal(ing_vehicle_check(NULL, 3, &err),
	                 ING_REASON_VEHICLE_EMPTY);
	assert_int_equal(ing_vehicle_check("A\0B", 3, &err),
	                 ING_REASON_VEHICLE_CONTROL);
	assert_int_equal(ing_vehicle_check("\xef\xbf\xbf", 3, NULL),
	                 ING_REASON_NONE);       /* U+FFFF is valid UTF-8 */
	assert_int_equal(ing_vehicle_check("\xf4\x90\x80\x80", 4, &err),
	                 ING_REASON_VEHICLE_UTF8); /* above U+10FFFF */
	assert_int_equal(ing_vehicle_check("\xe0\x80\x80", 3, &err),
	                 ING_REASON_VEHICLE_UTF8); /* overlong */
	assert_int_equal(ing_vehicle_check("\x80", 1, &err),
	                 ING_REASON_VEHICLE_UTF8); /* lone continuation */
}

/* ---- memory: everything cJSON allocates is freed; OOM is a rejection ---- */

/* cJSON's allocator hooks are process-wide and take no context, hence
 * file-level counters (test code only). */
static long alloc_live, alloc_count, alloc_fail_at = -1;

static void *
counting_malloc(size_t n)
{
	size_t *p;

	if (alloc_fail_at >= 0 && alloc_count >= alloc_fail_at)
		return NULL;
	p = malloc(n + 2 * sizeof(size_t));
	if (!p)
		return NULL;
	alloc_count++;
	alloc_live++;
	return p + 2;
}

static void
counting_free(void *ptr)
{
	if (!ptr)
		return;
	alloc_live--;
	free((size_t *)ptr - 2);
}

static const struct {
	const char *topic, *payload;
	enum ing_format format;
} memory_cases[] = {
	{ T_TOPIC, NAT(",\"speed_kmh\":3,\"un\":\"1203\",\"seq\":1"),
	  ING_FORMAT_NATIVE },
	{ T_TOPIC, TPV(",\"speed\":1.5,\"track\":3"), ING_FORMAT_AUTO },
	{ OT_TOPIC, OT(",\"vel\":3"), ING_FORMAT_OWNTRACKS },
	{ NULL, "{\"lat\":[1,2,{\"a\":\"b\"}],\"x\":", ING_FORMAT_NATIVE },
};

/* Every case with the arena capped at `arena_bytes` (0: every node from
 * the counting allocator, as with plain malloc). */
static void
memory_cases_with_arena(size_t arena_bytes)
{
	size_t c;

	ing_decode_allocator(counting_malloc, counting_free, arena_bytes);
	for (c = 0; c < sizeof(memory_cases) / sizeof(memory_cases[0]); c++) {
		const char *p = memory_cases[c].payload;
		struct ing_fix f;
		struct ing_error err;
		enum ing_result full;
		long needed, k;

		alloc_live = alloc_count = 0;
		alloc_fail_at = -1;
		full = ing_decode(memory_cases[c].topic, p, strlen(p),
		                  memory_cases[c].format, NOW_US, &f, &err);
		needed = alloc_count;
		/* with a part of the arena, at least the root fits: the spill
		 * is smaller (or none) */
		assert_true(arena_bytes > 0 || needed > 0);
		assert_int_equal(alloc_live, 0);        /* released on return */
		/* fail each allocation in turn: a rejection, never a crash or
		 * a leak, and the full result once nothing fails */
		for (k = 0; k <= needed; k++) {
			enum ing_result res;
			alloc_live = alloc_count = 0;
			alloc_fail_at = k;
			res = ing_decode(memory_cases[c].topic, p, strlen(p),
			                 memory_cases[c].format, NOW_US, &f, &err);
			assert_int_equal(alloc_live, 0);
			if (k < needed) {
				assert_int_equal(res, ING_REJECTED);
				assert_int_equal(err.reason, ING_REASON_NOT_JSON);
			} else {
				assert_int_equal(res, full);
			}
		}
	}
	alloc_fail_at = -1;
	ing_decode_allocator(NULL, NULL, (size_t)-1);
}

static void
memory_released_and_oom(void **state)
{
	(void)state;
	memory_cases_with_arena(0);
	/* part of the tree in the arena, the rest spilled (a node is 64
	 * bytes) */
	memory_cases_with_arena(100);
	memory_cases_with_arena(300);
}

/* Issue 15: the text check reads eight plain bytes at a time. A control
 * character, a byte >= 0x80 that is not UTF-8, or a \u0000 escape inside
 * an unknown member's string, at every offset (so at every place in a
 * word), is still found at its byte; valid UTF-8 and other escapes there
 * still pass. */
static void
text_check_every_offset(void **state)
{
	static const struct { const char *bad; const char *why; } bads[] = {
		{ "\x01", "control character 0x01" },
		{ "\x1f", "control character 0x1f" },
		{ "\x80", "invalid UTF-8" },
		{ "\xff", "invalid UTF-8" },
		{ "\\u0000", "\\u0000 in a string" },
	};
	static const char *const goods[] = { "\xe6\x99\x8b", "\\n", "\\\\", "\x7f", " " };
	char buf[256], want[96];
	struct ing_fix f;
	struct ing_error err;
	size_t b, pad, head;

	(void)state;
	for (pad = 0; pad < 24; pad++) {
		for (b = 0; b < sizeof(bads) / sizeof(bads[0]); b++) {
			/* {"x":"<pad a's><bad>",...} */
			head = (size_t)snprintf(buf, sizeof(buf), "{\"x\":\"%.*s",
			                        (int)pad, "aaaaaaaaaaaaaaaaaaaaaaaa");
			snprintf(buf + head, sizeof(buf) - head, "%s\",%s", bads[b].bad,
			         NAT("") + 1);
			assert_int_equal(ing_decode(T_TOPIC, buf, strlen(buf), ING_FORMAT_NATIVE,
			                            NOW_US, &f, &err), ING_REJECTED);
			assert_int_equal(err.reason, ING_REASON_NOT_JSON);
			snprintf(want, sizeof(want), "%s (byte %zu)", bads[b].why, head);
			assert_non_null(strstr(err.message, want));
		}
		for (b = 0; b < sizeof(goods) / sizeof(goods[0]); b++) {
			head = (size_t)snprintf(buf, sizeof(buf), "{\"x\":\"%.*s",
			                        (int)pad, "aaaaaaaaaaaaaaaaaaaaaaaa");
			snprintf(buf + head, sizeof(buf) - head, "%s\",%s", goods[b],
			         NAT("") + 1);
			assert_int_equal(ing_decode(T_TOPIC, buf, strlen(buf), ING_FORMAT_NATIVE,
			                            NOW_US, &f, &err), ING_OK);
		}
	}
}

/* Issue 15: with the whole arena, a native message allocates nothing;
 * a tree larger than the arena spills, decodes alike and is released. */
static void
memory_arena(void **state)
{
	const char *p = memory_cases[0].payload;
	struct ing_fix f, g;
	struct ing_error err;
	enum ing_result res;
	char *big;
	size_t i, n = 0, cap = 30000 * 2 + 512;

	(void)state;
	ing_decode_allocator(counting_malloc, counting_free, (size_t)-1);
	alloc_live = alloc_count = 0;
	assert_int_equal(ing_decode(memory_cases[0].topic, p, strlen(p),
	                            ING_FORMAT_NATIVE, NOW_US, &f, &err), ING_OK);
	assert_int_equal(alloc_count, 0);
	assert_int_equal(alloc_live, 0);

	/* an unknown member of 30,000 numbers (60 KB, under the payload
	 * cap): about 2 MB of nodes */
	big = malloc(cap);
	assert_non_null(big);
	n += (size_t)snprintf(big + n, cap - n, "{\"pad\":[1");
	for (i = 1; i < 30000; i++) {
		big[n++] = ',';
		big[n++] = '1';
	}
	n += (size_t)snprintf(big + n, cap - n, "],%s", p + 1);
	assert_true(n <= ING_PAYLOAD_MAX);
	alloc_live = alloc_count = 0;
	res = ing_decode(memory_cases[0].topic, big, n, ING_FORMAT_NATIVE, NOW_US,
	                 &g, &err);
	assert_true(alloc_count > 0);
	assert_int_equal(alloc_live, 0);
	assert_int_equal(res, ING_OK);
	assert_string_equal(f.vehicle, g.vehicle);
	assert_true(f.time_us == g.time_us && f.lat == g.lat && f.lon == g.lon &&
	            f.speed_kmh == g.speed_kmh && f.present == g.present &&
	            f.seq == g.seq && strcmp(f.un, g.un) == 0);
	/* and the arena serves the next message again */
	alloc_live = alloc_count = 0;
	assert_int_equal(ing_decode(memory_cases[0].topic, p, strlen(p),
	                            ING_FORMAT_NATIVE, NOW_US, &g, &err), ING_OK);
	assert_int_equal(alloc_count, 0);
	assert_true(f.time_us == g.time_us && f.lat == g.lat);
	free(big);
	ing_decode_allocator(NULL, NULL, (size_t)-1);
}

/* ---- RFC 3339 -------------------------------------------------------- */

struct time_case {
	const char *text;
	int ok;
	int64_t us;
};

#define S(x) ((int64_t)(x) * 1000000LL)
static const struct time_case time_cases[] = {
	{ "2019-08-10T08:00:00Z", 1, S(1565424000) },
	{ "2019-08-10t08:00:00z", 1, S(1565424000) },
	{ "2019-08-10 08:00:00Z", 1, S(1565424000) },
	{ "2019-08-10T16:00:00+08:00", 1, S(1565424000) },
	{ "2019-08-10T02:30:00-05:30", 1, S(1565424000) },
	{ "2019-08-10T08:00:00+00:00", 1, S(1565424000) },
	{ "2019-08-10T08:00:00-00:00", 1, S(1565424000) },
	{ "2019-08-11T07:59:00+23:59", 1, S(1565424000) },
	{ "2019-08-10T08:00:00.1Z", 1, S(1565424000) + 100000 },
	{ "2019-08-10T08:00:00.12Z", 1, S(1565424000) + 120000 },
	{ "2019-08-10T08:00:00.123Z", 1, S(1565424000) + 123000 },
	{ "2019-08-10T08:00:00.123456Z", 1, S(1565424000) + 123456 },
	{ "2019-08-10T08:00:00.1234569Z", 1, S(1565424000) + 123456 },
	{ "2019-08-10T08:00:00.999999999999Z", 1, S(1565424000) + 999999 },
	{ "2019-08-10T16:00:00.5+08:00", 1, S(1565424000) + 500000 },
	{ "1970-01-01T00:00:00Z", 1, 0 },
	{ "1969-12-31T23:59:59Z", 1, S(-1) },
	{ "0000-01-01T00:00:00Z", 1, S(-62167219200LL) },
	{ "2000-01-01T00:00:00Z", 1, S(946684800) },
	{ "2000-02-29T00:00:00Z", 1, S(951782400) },
	{ "2020-02-29T12:00:00Z", 1, S(1582977600) },
	{ "2016-12-31T23:59:60Z", 1, S(1483228800) },   /* leap second */
	{ "9999-12-31T23:59:59Z", 1, S(253402300799LL) },
	{ "1900-02-29T00:00:00Z", 0, 0 },      /* 1900 is not leap */
	{ "2019-04-31T00:00:00Z", 0, 0 },
	{ "2019-00-10T00:00:00Z", 0, 0 },
	{ "2019-08-00T00:00:00Z", 0, 0 },
	{ "2019-08-10T08:60:00Z", 0, 0 },
	{ "2019-08-10T08:00:61Z", 0, 0 },
	{ "2019-08-10T08:00:00+24:00", 0, 0 },
	{ "2019-08-10T08:00:00+08:60", 0, 0 },
	{ "2019-08-10T08:00:00+0800", 0, 0 },
	{ "2019-08-10T08:00:00", 0, 0 },
	{ "2019-08-10", 0, 0 },
	{ "2019-8-10T08:00:00Z", 0, 0 },
	{ "19-08-10T08:00:00Z", 0, 0 },
	{ "+2019-08-10T08:00:00Z", 0, 0 },
	{ "2019-08-10T08:00Z", 0, 0 },
	{ "2019-08-10T08:00:00,5Z", 0, 0 },
	{ "2019-08-10X08:00:00Z", 0, 0 },
	{ "", 0, 0 },
};

static void
rfc3339_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(time_cases) / sizeof(time_cases[0]); i++) {
		const struct time_case *c = &time_cases[i];
		int64_t us = -42;
		int rc = ing_time_parse(c->text, strlen(c->text), &us);

		if ((rc == 0) != c->ok || (c->ok && us != c->us))
			print_message("# time case \"%s\": rc %d us %lld\n",
			              c->text, rc, (long long)us);
		assert_int_equal(rc == 0, c->ok);
		if (c->ok)
			assert_true(us == c->us);
	}
	/* length, not NUL, bounds the text */
	assert_int_equal(ing_time_parse("2019-08-10T08:00:00Zjunk", 20, NULL),
	                 0);
	assert_int_equal(ing_time_parse("2019-08-10T08:00:00Z", 19, NULL), -1);
	assert_int_equal(ing_time_parse(NULL, 0, NULL), -1);
}

static void
days_from_civil_matches_timegm(void **state)
{
	/* Every day from 1900 to 2200 against glibc's timegm (the test may
	 * use libc; the module may not). */
	int64_t day;

	(void)state;
	for (day = -25567; day <= 84000; day++) {
		time_t t = (time_t)(day * 86400);
		struct tm tm;
		gmtime_r(&t, &tm);
		assert_true(hz_days_from_civil(tm.tm_year + 1900,
		                                (unsigned)tm.tm_mon + 1,
		                                (unsigned)tm.tm_mday) == day);
	}
	assert_true(hz_days_from_civil(1970, 1, 1) == 0);
	assert_true(hz_days_from_civil(-1, 12, 31) == -719529);
}

/* ---- names ----------------------------------------------------------- */

static void
reason_names_stable(void **state)
{
	static const char *const expect[ING_REASON_COUNT] = {
		"none", "too_large", "not_json", "not_object", "missing_field",
		"bad_type", "lat_range", "lon_range", "speed_range",
		"heading_range", "value_range", "time_format",
		"time_before_2000", "time_future", "vehicle_empty",
		"vehicle_too_long", "vehicle_utf8", "vehicle_control",
		"vehicle_wildcard", "no_fix", "cargo_format", "not_tpv",
		"tpv_unreadable",
	};
	int i, j;

	(void)state;
	for (i = 0; i < ING_REASON_COUNT; i++) {
		const char *n = ing_reason_name((enum ing_reason)i);
		const char *p;
		assert_non_null(expect[i]);
		assert_string_equal(n, expect[i]);
		for (p = n; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') ||
			            (*p >= '0' && *p <= '9') || *p == '_');
		for (j = 0; j < i; j++)
			assert_string_not_equal(n,
			        ing_reason_name((enum ing_reason)j));
	}
	assert_string_equal(ing_reason_name(ING_REASON_COUNT), "unknown");
	assert_string_equal(ing_reason_name((enum ing_reason)-1), "unknown");
	assert_string_equal(ing_result_name(ING_OK), "ok");
	assert_string_equal(ing_result_name(ING_IGNORED), "ignored");
	assert_string_equal(ing_result_name(ING_REJECTED), "rejected");
	assert_string_equal(ing_result_name((enum ing_result)7), "unknown");
}

static void
format_names_parse(void **state)
{
	static const char *const names[] = { "native", "tpv", "owntracks",
	                                     "auto" };
	enum ing_format f = ING_FORMAT_AUTO;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(ing_format_parse(names[i], &f), 0);
		assert_int_equal((int)f, (int)i);
		assert_string_equal(ing_format_name(f), names[i]);
	}
	f = ING_FORMAT_TPV;
	assert_int_equal(ing_format_parse("Native", &f), -1);
	assert_int_equal(ing_format_parse("tpv ", &f), -1);
	assert_int_equal(ing_format_parse("", &f), -1);
	assert_int_equal(ing_format_parse(NULL, &f), -1);
	assert_int_equal(f, ING_FORMAT_TPV);    /* untouched on error */
	assert_string_equal(ing_format_name((enum ing_format)9), "unknown");
}

static void
fleet_sample_decodes(void **state)
{
	/* The shared sample fleet: every line is valid native telemetry. */
	const char *dir = getenv("HG_SRCDIR");
	char path[4096], line[2048];
	FILE *fp;
	int n = 0;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/data/fleet-sample.ndjson", dir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		struct ing_fix f;
		size_t len = strcspn(line, "\r\n");
		decode_ok("tankers/x/telemetry", (line[len] = '\0', line),
		          ING_FORMAT_AUTO, &f);
		assert_int_equal(f.format, ING_FORMAT_NATIVE);
		assert_true(f.present & ING_HAS_UN);
		n++;
	}
	fclose(fp);
	assert_true(n > 1000);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(native_all_members),
		cmocka_unit_test(native_alarms),
		cmocka_unit_test(native_positioned),
		cmocka_unit_test(native_minimal_has_nothing_optional),
		cmocka_unit_test(native_vehicle_from_topic),
		cmocka_unit_test(native_payload_vehicle_wins),
		cmocka_unit_test(native_vehicle_32_bytes_ok),
		cmocka_unit_test(native_ts_wins_over_ts_ms),
		cmocka_unit_test(native_integral_real_fix),
		cmocka_unit_test(tpv_members_and_units),
		cmocka_unit_test(tpv_mode_2_and_alt_fallbacks),
		cmocka_unit_test(owntracks_members_and_units),
		cmocka_unit_test(owntracks_mapping_by_caller),
		cmocka_unit_test(owntracks_negative_vel_cog_absent),
		cmocka_unit_test(speed_and_position_kept_as_stored),
		cmocka_unit_test(owntracks_vehicle_is_user_and_device),
		cmocka_unit_test(gpsd_other_classes_ignored),
		cmocka_unit_test(ignored_reports_type),
		cmocka_unit_test(too_large_payloads),
		cmocka_unit_test(payload_not_nul_terminated),
		cmocka_unit_test(payload_nul_bytes_rejected),
		cmocka_unit_test(fix_check_nan_and_inf),
		cmocka_unit_test(memory_released_and_oom),
		cmocka_unit_test(memory_arena),
		cmocka_unit_test(text_check_every_offset),
		cmocka_unit_test(vehicle_check_direct),
		cmocka_unit_test(rfc3339_table),
		cmocka_unit_test(days_from_civil_matches_timegm),
		cmocka_unit_test(reason_names_stable),
		cmocka_unit_test(format_names_parse),
		cmocka_unit_test(fleet_sample_decodes),
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	const size_t ncases = sizeof(decode_cases) / sizeof(decode_cases[0]);
	struct CMUnitTest *tests = calloc(nfixed + ncases, sizeof(*tests));
	size_t i;
	int rc;

	if (!tests)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	for (i = 0; i < ncases; i++) {
		tests[nfixed + i].name = decode_cases[i].name;
		tests[nfixed + i].test_func = run_decode_case;
		tests[nfixed + i].initial_state = (void *)&decode_cases[i];
	}
	rc = _cmocka_run_group_tests("ingest", tests, nfixed + ncases, NULL,
	                             NULL);
	free(tests);
	return rc;
}
