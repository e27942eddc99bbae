/*
 * web_hook.c - webhooks (web_hook.h). Placeholder until the deliverer
 * lands: hooks are accepted and nothing is sent.
 */
#include "web/web_hook.h"

#include <stdlib.h>

struct web_hooks {
	size_t n;
};

struct web_hooks *
web_hooks_new(struct event_base *base, const struct net_pg_conf *pgc,
              const struct web_hook_conf *hooks, size_t n)
{
	struct web_hooks *h = calloc(1, sizeof(*h));

	(void)base;
	(void)pgc;
	(void)hooks;
	if (h)
		h->n = n;
	return h;
}

void
web_hooks_free(struct web_hooks *h)
{
	free(h);
}

void
web_hooks_metrics(const struct web_hooks *h, struct evbuffer *out)
{
	(void)h;
	(void)out;
}
