/*
 * test_gateway_dns.c - the daemon's non-blocking name resolution
 * (net/net_dns.c, evdns_getaddrinfo) in a real libevent loop: host
 * names come back as numeric addresses ("localhost" from /etc/hosts, no
 * server needed), numeric addresses and socket paths come back unchanged
 * without a lookup, a second lookup while one is in flight is refused, and
 * a lookup freed in flight never calls back (ASan watches the memory);
 * and which PostgreSQL conninfo host net_pg resolves before libpq would
 * (net/net_pg.c: net_pg_host_to_resolve).
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
	static const struct { const char *conninfo, *host; } cases[] = {
		{ "host=localhost port=5432 dbname=hazgate", "localhost" },
		{ "host=db.example.org sslmode=verify-full", "db.example.org" },
		{ "postgresql://gw@db.example.org:5433/hazgate", "db.example.org" },
		{ "host=127.0.0.1 port=5432", NULL },           /* numeric */
		{ "host=::1", NULL },
		{ "host=/var/run/postgresql", NULL },           /* socket directory */
		{ "host=db hostaddr=10.0.0.5", NULL },          /* libpq has the address */
		{ "host=db1,db2", NULL },                       /* a list: left to libpq */
		{ "dbname=hazgate", NULL },                     /* no host */
		{ "hazgate", NULL },                            /* not a connection string */
		{ "", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char host[256] = "";
		bool got = net_pg_host_to_resolve(cases[i].conninfo, host, sizeof(host));

		if (got != (cases[i].host != NULL))
			print_message("# \"%s\": got %d (%s)\n", cases[i].conninfo, got, host);
		assert_int_equal(got, cases[i].host != NULL);
		if (cases[i].host)
			assert_string_equal(host, cases[i].host);
	}
	/* A name longer than the buffer is left to libpq, not cut. */
	{
		char small[8];

		assert_false(net_pg_host_to_resolve("host=db.example.org", small, sizeof(small)));
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
