/*
 * net_dns.h - host names resolved without blocking the loop (net_dns.c,
 * libevent's evdns), so libmosquitto and libpq are handed a numeric
 * address.
 */
#ifndef HAZGATE_NET_DNS_H
#define HAZGATE_NET_DNS_H

#include <stdbool.h>

struct event_base;

enum net_dns_err {
	NET_DNS_OK = 0,
	NET_DNS_ENOTFOUND = -1,   /* no address for the name (or no answer) */
	NET_DNS_ENOMEM = -2,
	NET_DNS_EBUSY = -3,       /* a lookup of this net_dns is in flight */
};

struct net_dns;

/* addr: the numeric address (borrowed for the call), NULL on error. */
typedef void (*net_dns_cb)(void *arg, int err, const char *addr);

/* A resolver on base (borrowed; outlives it), or NULL out of memory. */
struct net_dns *net_dns_new(struct event_base *base);
/* Cancels a lookup in flight (its callback is not called). */
void net_dns_free(struct net_dns *d);
void net_dns_cancel(struct net_dns *d);
/* Resolve host without blocking: cb is called once, from the loop, or from
 * inside this call when host is numeric or a socket path (passed back as
 * it is), or when the answer is at hand (/etc/hosts). Returns NET_DNS_OK
 * (cb will be or was called) or a negative net_dns_err (cb not called). */
int net_dns_resolve(struct net_dns *d, const char *host, net_dns_cb cb, void *arg);
/* An IPv4/IPv6 address or a Unix socket path: nothing to resolve. */
bool net_dns_numeric(const char *host);
const char *net_dns_strerror(int err);

#endif
