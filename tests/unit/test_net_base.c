/*
 * test_net_base.c - the daemons' event base (net/net_base.c): its timers
 * run on the precise clock (libevent's default, the coarse one, moves in
 * 4 ms ticks; on a busy CPU a timer of a few milliseconds then found
 * itself not yet due when epoll_wait returned, and the loop slept once
 * more: issue 15); and the priorities asked for are there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "net/net_base.h"

/* The loop's clock read over 20 ms of busy work inside a callback: how
 * many different times it gave. */
struct clock_probe {
	struct event_base *base;
	int distinct;
};

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
on_probe(evutil_socket_t fd, short what, void *arg)
{
	struct clock_probe *p = arg;
	struct timeval last = { 0, 0 }, tv;
	double start = now_s();

	(void)fd;
	(void)what;
	p->distinct = 0;
	while (now_s() - start < 0.02) {
		assert_int_equal(event_base_update_cache_time(p->base), 0);
		assert_int_equal(event_base_gettimeofday_cached(p->base, &tv), 0);
		if (tv.tv_sec != last.tv_sec || tv.tv_usec != last.tv_usec) {
			p->distinct++;
			last = tv;
		}
	}
}

static int
clock_steps_in_20ms(struct event_base *base)
{
	struct clock_probe p = { .base = base };
	struct event *ev = evtimer_new(base, on_probe, &p);
	const struct timeval tv = { 0, 1000 };

	assert_non_null(ev);
	assert_int_equal(evtimer_add(ev, &tv), 0);
	assert_true(event_base_loop(base, EVLOOP_ONCE) >= 0);
	event_free(ev);
	return p.distinct;
}

/* The loop's timers (and the time it caches) run on CLOCK_MONOTONIC, which
 * moves every microsecond, not on CLOCK_MONOTONIC_COARSE, which moves in
 * 4 ms ticks here (event_base_new's: 5 or 6 different times in 20 ms). */
static void
test_timers_on_the_precise_clock(void **state)
{
	(void)state;
	struct event_base *base = net_base_new(1), *dflt = event_base_new();

	assert_non_null(base);
	assert_non_null(dflt);
	int precise = clock_steps_in_20ms(base), coarse = clock_steps_in_20ms(dflt);

	printf("# the loop's clock over 20 ms: %d different times (net_base_new), %d"
	       " (event_base_new)\n",
	       precise, coarse);
	assert_true(precise >= 1000);
	event_base_free(base);
	event_base_free(dflt);
}

static void
test_priorities(void **state)
{
	(void)state;
	struct event_base *base = net_base_new(2);

	assert_non_null(base);
	assert_int_equal(event_base_get_npriorities(base), 2);
	event_base_free(base);
	base = net_base_new(1);
	assert_non_null(base);
	assert_int_equal(event_base_get_npriorities(base), 1);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_on_the_precise_clock),
		cmocka_unit_test(test_priorities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
