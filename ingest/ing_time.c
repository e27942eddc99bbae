/*
 * ing_time.c - ingest's name for the one RFC 3339 parser,
 * common/hz_time.c (hz_time_parse): same contract, same rule (any number
 * of fraction digits truncated to the microsecond, second 60 read as the
 * next minute's :00; see common/hz_time.h). Kept so that the decoders'
 * field tables name an ingest function.
 */
#include "ingest/ingest.h"

#include "common/hz_time.h"

int
ing_time_parse(const char *s, size_t len, int64_t *out_us)
{
	return hz_time_parse(s, len, out_us);
}
