/*
 * net_dns.c - host names resolved without blocking the loop (libevent's
 * evdns_getaddrinfo), so that libmosquitto and libpq are handed a numeric
 * address and never call a blocking getaddrinfo themselves.
 *
 * One net_dns per adapter, one lookup in flight at a time. A numeric
 * address (IPv4 or IPv6) or a Unix socket path (starts with '/' or '@')
 * is passed back at once, from inside net_dns_resolve; a name goes to evdns,
 * which reads /etc/hosts (so "localhost" needs no server) and the
 * nameservers of /etc/resolv.conf. Of the answers the first IPv4 address
 * is taken, else the first IPv6 one.
 *
 * Limits: no search of the answers for one that accepts the connection;
 * names resolved anew on every (re)connect.
 */
#include "net/net_dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

/* The lookup's callback argument. A cancelled lookup is not cancelled in
 * libevent (evdns_getaddrinfo_cancel schedules a callback that still reads
 * the evdns_base, which net_dns_free may have freed by then: valgrind saw
 * it); it is orphaned instead and runs out, or fails with the base
 * (evdns_base_free(.., 1) makes its callback leave the base alone). */
struct ticket {
	struct net_dns *d;        /* NULL once cancelled */
};

struct net_dns {
	struct event_base *base;
	struct evdns_base *dns;
	struct ticket *ticket;   /* lookup in flight, or NULL */
	net_dns_cb cb;
	void *arg;
};

struct net_dns *
net_dns_new(struct event_base *base)
{
	struct net_dns *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->base = base;
	return d;
}

void
net_dns_cancel(struct net_dns *d)
{
	if (!d || !d->ticket)
		return;
	d->ticket->d = NULL;     /* on_answer frees it and says nothing */
	d->ticket = NULL;
}

void
net_dns_free(struct net_dns *d)
{
	if (!d)
		return;
	net_dns_cancel(d);
	/* Lookups still running (orphaned) fail with the base, from the loop
	 * if it runs again; their tickets are freed then (or at exit). */
	if (d->dns)
		evdns_base_free(d->dns, 1);
	free(d);
}

bool
net_dns_numeric(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return host[0] == '/' || host[0] == '@' || inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

static void
on_answer(int result, struct evutil_addrinfo *res, void *arg)
{
	struct ticket *t = arg;
	struct net_dns *d = t->d;
	const struct evutil_addrinfo *ai, *pick = NULL;
	char addr[INET6_ADDRSTRLEN] = "";
	int err = NET_DNS_OK;

	free(t);
	if (!d) {
		if (res)
			evutil_freeaddrinfo(res);
		return;
	}
	d->ticket = NULL;
	if (result != 0) {
		err = NET_DNS_ENOTFOUND;
	} else {
		for (ai = res; ai; ai = ai->ai_next)
			if (ai->ai_family == AF_INET && (!pick || pick->ai_family != AF_INET))
				pick = ai;
			else if (ai->ai_family == AF_INET6 && !pick)
				pick = ai;
		if (!pick)
			err = NET_DNS_ENOTFOUND;
		else if (pick->ai_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)pick->ai_addr)->sin_addr,
				  addr, sizeof(addr));
		else
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)pick->ai_addr)->sin6_addr,
				  addr, sizeof(addr));
	}
	if (res)
		evutil_freeaddrinfo(res);
	d->cb(d->arg, err, err == NET_DNS_OK ? addr : NULL);
}

int
net_dns_resolve(struct net_dns *d, const char *host, net_dns_cb cb, void *arg)
{
	struct evutil_addrinfo hints;
	struct ticket *t;

	if (d->ticket)
		return NET_DNS_EBUSY;
	if (!host[0])
		return NET_DNS_ENOTFOUND;
	if (net_dns_numeric(host)) {
		cb(arg, NET_DNS_OK, host);
		return NET_DNS_OK;
	}
	if (!d->dns) {
		/* Nameservers from /etc/resolv.conf; none there (a sandbox)
		 * still leaves /etc/hosts. */
		d->dns = evdns_base_new(d->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
					EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (!d->dns)
			d->dns = evdns_base_new(d->base, 0);
		if (!d->dns)
			return NET_DNS_ENOMEM;
		evdns_base_load_hosts(d->dns, NULL);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	t = malloc(sizeof(*t));
	if (!t)
		return NET_DNS_ENOMEM;
	t->d = d;
	d->ticket = t;
	d->cb = cb;
	d->arg = arg;
	/* May answer from inside (hosts file, cache): on_answer has then run
	 * before this returns. */
	(void)evdns_getaddrinfo(d->dns, host, NULL, &hints, on_answer, t);
	return NET_DNS_OK;
}

const char *
net_dns_strerror(int err)
{
	switch (err) {
	case NET_DNS_OK: return "ok";
	case NET_DNS_ENOTFOUND: return "host name not resolved";
	case NET_DNS_ENOMEM: return "out of memory";
	case NET_DNS_EBUSY: return "a lookup is already in flight";
	}
	return "unknown DNS error";
}
