/*
 * test_gateway_dns.c - the daemon's non-blocking name resolution
 * (net/net_dns.c, evdns_getaddrinfo) in a real libevent loop: host
 * names come back as numeric addresses ("localhost" from /etc/hosts, no
 * server needed), numeric addresses and socket paths come back unchanged
 * without a lookup, a second lookup while one is in flight is refused, and
 * a lookup freed in flight never calls back (ASan watches the memory);
 * and which PostgreSQL conninfo hosts net_pg resolves and walks itself
 * before libpq would (net/net_pg.c: net_pg_hosts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "net/net_dns.h"
#include "net/net_pg.h"

struct answer {
	int calls;
	int err;
	char addr[64];
	struct event_base *base;
};

static void
on_answer(void *arg, int err, const char *addr)
{
	struct answer *a = arg;

	a->calls++;
	a->err = err;
	snprintf(a->addr, sizeof(a->addr), "%s", addr ? addr : "");
	if (a->base)
		event_base_loopbreak(a->base);
}

static void
run_for(struct event_base *base, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Host given -> address wanted (any of want, '|'-separated); immediate: the
 * answer must come from inside net_dns_resolve. */
static void
test_resolve(void **state)
{
	static const struct {
		const char *host, *want;
		bool immediate;
	} cases[] = {
		{ "localhost", "127.0.0.1|::1", false },
		{ "127.0.0.1", "127.0.0.1", true },
		{ "::1", "::1", true },
		{ "/var/run/postgresql", "/var/run/postgresql", true },
		{ "@hazgate-abstract", "@hazgate-abstract", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct event_base *base = event_base_new();
		struct net_dns *d = net_dns_new(base);
		struct answer a = { .base = base };
		char want[64], *tok, *save;
		bool match = false;

		assert_non_null(d);
		assert_int_equal(net_dns_resolve(d, cases[i].host, on_answer, &a), NET_DNS_OK);
		if (cases[i].immediate)
			assert_int_equal(a.calls, 1);
		if (!a.calls)
			run_for(base, 5000);
		assert_int_equal(a.calls, 1);
		assert_int_equal(a.err, NET_DNS_OK);
		snprintf(want, sizeof(want), "%s", cases[i].want);
		for (tok = strtok_r(want, "|", &save); tok; tok = strtok_r(NULL, "|", &save))
			match = match || strcmp(tok, a.addr) == 0;
		if (!match)
			print_message("# %s -> \"%s\"\n", cases[i].host, a.addr);
		assert_true(match);
		assert_int_equal(net_dns_numeric(a.addr), true);
		/* Resolving again works (nothing left in flight). */
		a.calls = 0;
		assert_int_equal(net_dns_resolve(d, cases[i].host, on_answer, &a), NET_DNS_OK);
		if (!a.calls)
			run_for(base, 5000);
		assert_int_equal(a.calls, 1);
		net_dns_free(d);
		event_base_free(base);
	}
}

static void
test_numeric(void **state)
{
	static const struct { const char *host; bool numeric; } cases[] = {
		{ "127.0.0.1", true }, { "10.1.2.3", true }, { "::1", true },
		{ "fe80::1", true }, { "/tmp/pg", true }, { "localhost", false },
		{ "db.example.org", false }, { "127.0.0.1.nip.io", false }, { "", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(net_dns_numeric(cases[i].host), cases[i].numeric);
}

/* A lookup that cannot be answered from /etc/hosts: in flight until a
 * server answers (or not at all in a sandbox). */
static void
test_busy_and_cancel(void **state)
{
	struct event_base *base = event_base_new();
	struct net_dns *d = net_dns_new(base);
	struct answer a = { 0 }, b = { 0 };
	int rc;

	(void)state;
	assert_non_null(d);
	rc = net_dns_resolve(d, "hazgate-test-no-such-host.invalid", on_answer, &a);
	assert_int_equal(rc, NET_DNS_OK);
	if (a.calls == 0) {
		/* In flight: a second lookup is refused, the first is not
		 * disturbed. */
		assert_int_equal(net_dns_resolve(d, "localhost", on_answer, &b), NET_DNS_EBUSY);
		assert_int_equal(b.calls, 0);
		/* Cancelled: no call back, even once the loop runs. */
		net_dns_cancel(d);
		run_for(base, 50);
		assert_int_equal(a.calls, 0);
		/* And the net_dns is usable again. */
		b.base = base;
		assert_int_equal(net_dns_resolve(d, "localhost", on_answer, &b), NET_DNS_OK);
		if (!b.calls)
			run_for(base, 5000);
		assert_int_equal(b.calls, 1);
		assert_int_equal(b.err, NET_DNS_OK);
		print_message("# a lookup stayed in flight: busy, cancel, free checked\n");
		/* Freed in flight: no call back, nothing leaked. */
		assert_int_equal(net_dns_resolve(d, "hazgate-test-no-such-host.invalid", on_answer,
						&a), NET_DNS_OK);
	} else {
		/* No nameserver at all: refused at once, with a reason. */
		assert_int_equal(a.err, NET_DNS_ENOTFOUND);
	}
	net_dns_free(d);
	run_for(base, 50);
	assert_true(a.calls <= 1);
	event_base_free(base);
}

static void
test_conninfo_host(void **state)
{
	/* hosts: what net_pg walks itself, "host:port|host:port", or NULL
	 * when libpq gets the conninfo as it is. */
	static const struct { const char *conninfo, *hosts; int tmo; } cases[] = {
		{ "host=localhost port=5432 dbname=hazgate", "localhost:5432", 10 },
		{ "host=db.example.org sslmode=verify-full", "db.example.org:", 10 },
		{ "postgresql://gw@db.example.org:5433/hazgate", "db.example.org:5433", 10 },
		{ "host=127.0.0.1 port=5432", NULL, 10 },       /* numeric */
		{ "host=::1", NULL, 10 },
		{ "host=/var/run/postgresql", NULL, 10 },       /* socket directory */
		{ "host=db hostaddr=10.0.0.5", NULL, 10 },      /* libpq has the address */
		{ "host=db1,db2", "db1:|db2:", 10 },            /* a list: walked by net_pg */
		{ "host=127.0.0.1,127.0.0.1 port=5001,5002 target_session_attrs=read-write "
		  "connect_timeout=3", "127.0.0.1:5001|127.0.0.1:5002", 3 },
		{ "host=db1,db2,db3 port=6000", "db1:6000|db2:6000|db3:6000", 10 },
		{ "postgresql://a:1,b:2/hazgate?target_session_attrs=read-write", "a:1|b:2", 10 },
		{ "host=db1,/tmp connect_timeout=1", "db1:|/tmp:", 2 },   /* libpq's minimum */
		{ "host=db1,db2 port=1,2,3", NULL, 10 },        /* libpq says why */
		{ "host=db1,db2,db3 port=1,2", NULL, 10 },
		{ "host=db1,,db2", NULL, 10 },                  /* an empty item: libpq's default */
		{ "host=db1,db2 hostaddr=10.0.0.1,10.0.0.2", NULL, 10 },
		{ "host=h1,h2,h3,h4,h5,h6,h7,h8,h9", NULL, 10 }, /* more than NET_PG_HOSTS_MAX */
		{ "dbname=hazgate", NULL, 10 },                 /* no host */
		{ "hazgate", NULL, 10 },                        /* not a connection string */
		{ "", NULL, 10 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct net_pg_host h[NET_PG_HOSTS_MAX];
		char got[4096] = "";
		int tmo = -1;
		int n = net_pg_hosts(cases[i].conninfo, h, NET_PG_HOSTS_MAX, &tmo);

		for (int k = 0; k < n; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s:%s", k ? "|" : "",
				 h[k].host, h[k].port);
		if ((n > 0) != (cases[i].hosts != NULL) ||
		    (cases[i].hosts && strcmp(got, cases[i].hosts) != 0) || tmo != cases[i].tmo)
			print_message("# \"%s\": got %d (%s) timeout %d\n", cases[i].conninfo, n, got,
				      tmo);
		assert_int_equal(n > 0, cases[i].hosts != NULL);
		if (cases[i].hosts)
			assert_string_equal(got, cases[i].hosts);
		assert_int_equal(tmo, cases[i].tmo);
	}
	/* A name longer than NET_PG_HOST_MAX is left to libpq, not cut. */
	{
		char conninfo[NET_PG_HOST_MAX + 16] = "host=";
		struct net_pg_host h[2];

		memset(conninfo + 5, 'a', NET_PG_HOST_MAX);
		assert_int_equal(net_pg_hosts(conninfo, h, 2, NULL), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_numeric),
		cmocka_unit_test(test_busy_and_cancel),
		cmocka_unit_test(test_conninfo_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
