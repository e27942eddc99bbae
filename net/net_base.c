/*
 * net_base.c: the event base of every hazgate daemon (net_base.h).
 */
#include "net/net_base.h"

#include <event2/event.h>

struct event_base *
net_base_new(int npriorities)
{
	struct event_config *ec = event_config_new();
	struct event_base *base = NULL;

	if (ec && event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER) == 0)
		base = event_base_new_with_config(ec);
	if (ec)
		event_config_free(ec);
	if (base && npriorities > 1 && event_base_priority_init(base, npriorities) != 0) {
		event_base_free(base);
		base = NULL;
	}
	return base;
}
