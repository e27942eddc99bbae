/*
 * gf_time.c - geofence's names for RFC 3339 parsing and the UTC
 * millisecond timestamp form used in alerts. Both are common/hz_time.c:
 * one parser for every program, one rule (fractions of any length
 * truncated to the microsecond, second 60 read as the next minute's :00;
 * see hz_time.h). geofence keeps its own names for its error codes and
 * its NUL-terminated strings.
 */
#include "geofence/geofence-internal.h"

#include <string.h>

#include "common/hz_time.h"

int
gf_time_parse(const char *s, int64_t *out_us)
{
	if (s == NULL || out_us == NULL ||
	    hz_time_parse(s, strlen(s), out_us) != 0)
		return GF_EINVAL;
	return GF_OK;
}

void
gf_time_format(int64_t us, char buf[25])
{
	hz_time_format(us, HZ_TIME_MS, buf);
}
