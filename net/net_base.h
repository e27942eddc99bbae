/*
 * net_base.h: the libevent base every hazgate daemon runs its loop on
 * (hazgate, hazgate-web, hazgate-jt808, hazgate-tracker).
 */
#ifndef HAZGATE_NET_BASE_H
#define HAZGATE_NET_BASE_H

struct event_base;

/*
 * A new event base whose timers run on CLOCK_MONOTONIC
 * (EVENT_BASE_FLAG_PRECISE_TIMER), with npriorities priorities (0 or 1:
 * libevent's single one). libevent's default clock on Linux is
 * CLOCK_MONOTONIC_COARSE, which moves in jiffies (4 ms on Debian's
 * kernel; a CPU waking from idle brings it up to date, a busy one does
 * not): under load a timer of a few milliseconds then found itself not
 * yet due when epoll_wait returned and slept once more, two wake-ups where
 * one was asked for (issue 15: the gateway's MQTT read coalescing). The
 * precise clock is a vDSO call like the coarse one; libevent then times
 * epoll_wait with a timerfd. Returns NULL when libevent cannot make it (no
 * memory).
 */
struct event_base *net_base_new(int npriorities);

#endif
