/*
 * hz_backoff.h - the reconnect delay of hazgate's programs (prefix
 * hz_backoff_): exponential backoff, doubling from a minimum up to a
 * maximum and back to the minimum once a connection succeeds, with
 * optional jitter.
 *
 * Pure: no clock, no randomness of its own, no statics. The state is one
 * integer the caller keeps (zeroed = fresh); the caller passes the bounds
 * with each step (so a reloaded configuration applies at the next one) and
 * its own random bits to the jitter. Values are in the caller's unit
 * (the gateway counts milliseconds, the tracker microseconds).
 */
#ifndef HAZGATE_HZ_BACKOFF_H
#define HAZGATE_HZ_BACKOFF_H

#include <stdint.h>

struct hz_backoff {
	int64_t next;           /* the next delay; 0 = the minimum */
};

/* Back to the minimum (after a connection succeeded). A zeroed struct is
 * the same. */
void hz_backoff_reset(struct hz_backoff *b);

/*
 * The delay before the next attempt, without jitter: MIN the first time
 * after a reset, then twice the previous one, never above MAX (the MAX of
 * this call). Expects 0 < MIN <= MAX.
 */
int64_t hz_backoff_next(struct hz_backoff *b, int64_t min, int64_t max);

/*
 * DELAY with jitter, so that many clients that lost the same server do not
 * all come back at the same moment: DELAY/2 + RND % (DELAY/2 + 1), i.e.
 * between half of DELAY and DELAY (integer halves). RND is the caller's
 * random bits (e.g. random()).
 */
int64_t hz_backoff_jitter(int64_t delay, uint32_t rnd);

#endif
