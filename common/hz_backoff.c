/*
 * hz_backoff.c - exponential backoff with jitter (see hz_backoff.h).
 */
#include "common/hz_backoff.h"

void
hz_backoff_reset(struct hz_backoff *b)
{
	b->next = 0;
}

int64_t
hz_backoff_next(struct hz_backoff *b, int64_t min, int64_t max)
{
	int64_t delay = b->next ? b->next : min;

	if (delay > max)
		delay = max;
	b->next = delay * 2 > max ? max : delay * 2;
	return delay;
}

int64_t
hz_backoff_jitter(int64_t delay, uint32_t rnd)
{
	int64_t half = delay / 2;

	return half + (int64_t)(rnd % (uint64_t)(half + 1));
}
