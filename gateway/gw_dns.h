/*
 * gw_dns.h - host names resolved without blocking the loop (gw_dns.c,
 * libevent's evdns), so libmosquitto and libpq are handed a numeric
 * address.
 */
#ifndef HAZGATE_GW_DNS_H
#define HAZGATE_GW_DNS_H

#include <stdbool.h>

struct event_base;

enum gw_dns_err {
	GW_DNS_OK = 0,
	GW_DNS_ENOTFOUND = -1,   /* no address for the name (or no answer) */
	GW_DNS_ENOMEM = -2,
	GW_DNS_EBUSY = -3,       /* a lookup of this gw_dns is in flight */
};

struct gw_dns;

/* addr: the numeric address (borrowed for the call), NULL on error. */
typedef void (*gw_dns_cb)(void *arg, int err, const char *addr);

/* A resolver on base (borrowed; outlives it), or NULL out of memory. */
struct gw_dns *gw_dns_new(struct event_base *base);
/* Cancels a lookup in flight (its callback is not called). */
void gw_dns_free(struct gw_dns *d);
void gw_dns_cancel(struct gw_dns *d);
/* Resolve host without blocking: cb is called once, from the loop, or from
 * inside this call when host is numeric or a socket path (passed back as
 * it is), or when the answer is at hand (/etc/hosts). Returns GW_DNS_OK
 * (cb will be or was called) or a negative gw_dns_err (cb not called). */
int gw_dns_resolve(struct gw_dns *d, const char *host, gw_dns_cb cb, void *arg);
/* An IPv4/IPv6 address or a Unix socket path: nothing to resolve. */
bool gw_dns_numeric(const char *host);
const char *gw_dns_strerror(int err);

#endif
