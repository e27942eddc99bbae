/*
 * web_hook.h - webhooks (web_hook.c): each committed alert POSTed as its
 * JSON to every matching `[webhook.NAME]`, in order per hook, retried with
 * backoff until 2xx, resumed after a restart from a cursor kept in
 * PostgreSQL, signed `X-Hazgate-Signature: sha256=HEX` (HMAC-SHA256 of the
 * body with the hook's secret). At least once: receivers dedupe by id.
 * The hooks keep their own database connection (net_pg).
 */
#ifndef HAZGATE_WEB_HOOK_H
#define HAZGATE_WEB_HOOK_H

#include <stddef.h>

#define WEB_HOOK_MAX 16
#define WEB_HOOK_NAME_MAX 64

/* One [webhook.NAME] section, as the configuration reader fills it. */
struct web_hook_conf {
	char name[WEB_HOOK_NAME_MAX];   /* NAME */
	char url[512];                  /* http:// or https:// */
	char secret_file[256];          /* the HMAC key: the file's first line */
	char kinds[256];                /* comma-separated alert kinds; "" = all */
	char min_severity[16];          /* info | warning | critical; "" = info */
};

struct event_base;
struct evbuffer;
struct net_pg_conf;
struct web_hooks;

/* The deliverers of n hooks (copied) on base, connecting with pgc (copied;
 * its strings borrowed), or NULL (logged: out of memory, an unreadable
 * secret file, a bad url). n may be 0. */
struct web_hooks *web_hooks_new(struct event_base *base, const struct net_pg_conf *pgc,
                                const struct web_hook_conf *hooks, size_t n);
void web_hooks_free(struct web_hooks *h);
/* Append the hooks' Prometheus lines (hazgate_web_webhook_*) to out. */
void web_hooks_metrics(const struct web_hooks *h, struct evbuffer *out);

#endif
