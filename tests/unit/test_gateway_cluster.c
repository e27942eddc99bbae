/*
 * test_gateway_cluster: the pure parts of partitioned gateways
 * (gateway/gw_part.c) and the [cluster] options (gateway/gw_config.c):
 * the partition hash against values nats-server 2.9.10 gave for
 * {{partition(8,1)}}, the topic prefix, shares, the plan of a poll (claim
 * up to the share, give one up above it, the prior ones first, the grace),
 * and [cluster] lines with their errors naming file and line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/gw_config.h"
#include "gateway/gw_part.h"

/* Published on tankers/<v>/telemetry to a nats-server 2.9.10 with the
 * mapping tankers.*.telemetry -> hz.part.{{partition(8,1)}}.tankers...,
 * received on these hz/part/<k>/ topics (by hand, 2026-12-07). */
static const struct { const char *vehicle; uint32_t hash; int k8; } nats_seen[] = {
	{ "晋A10001", 1445006192u, 0 }, { "晋A10004", 1528894287u, 7 }, { "A", 3289118412u, 4 },
	{ "B", 3339451269u, 5 }, { "hello", 1335831723u, 3 }, { "truck-17", 2207884103u, 7 },
	{ "x", 4245442695u, 7 },
};

static void
test_hash_as_nats(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(nats_seen) / sizeof(nats_seen[0]); i++) {
		assert_int_equal(gw_part_hash(nats_seen[i].vehicle, strlen(nats_seen[i].vehicle)),
				 nats_seen[i].hash);
		assert_int_equal(gw_part_of(nats_seen[i].vehicle, 8), nats_seen[i].k8);
	}
	/* FNV-1a's own test vectors. */
	assert_int_equal(gw_part_hash("", 0), 0x811c9dc5u);
	assert_int_equal(gw_part_hash("a", 1), 0xe40c292cu);
	assert_int_equal(gw_part_hash("foobar", 6), 0xbf9cf968u);
	assert_int_equal(gw_part_of("anything", 1), 0);
	assert_int_equal(gw_part_of("anything", 0), 0);
}

static void
test_topic(void **state)
{
	const char *rest = NULL;
	int k = -1;

	(void)state;
	assert_true(gw_part_topic("hz/part/3/tankers/晋A1/telemetry", 8, &k, &rest));
	assert_int_equal(k, 3);
	assert_string_equal(rest, "tankers/晋A1/telemetry");
	assert_true(gw_part_topic("hz/part/0/x", 1, &k, &rest));
	assert_int_equal(k, 0);
	assert_true(gw_part_topic("hz/part/1023/x", 1024, &k, &rest));
	assert_int_equal(k, 1023);
	assert_false(gw_part_topic("hz/part/8/x", 8, &k, &rest));       /* out of range */
	assert_false(gw_part_topic("hz/part/03/x", 8, &k, &rest));      /* leading zero */
	assert_false(gw_part_topic("hz/part/-1/x", 8, &k, &rest));
	assert_false(gw_part_topic("hz/part/3/", 8, &k, &rest));        /* nothing after */
	assert_false(gw_part_topic("hz/part/3", 8, &k, &rest));
	assert_false(gw_part_topic("hz/part//x", 8, &k, &rest));
	assert_false(gw_part_topic("hz/part/3x/y", 8, &k, &rest));
	assert_false(gw_part_topic("tankers/a/telemetry", 8, &k, &rest));
	assert_false(gw_part_topic("hz/part/99999999999999999999/x", 8, &k, &rest));
}

static void
test_quota(void **state)
{
	(void)state;
	assert_int_equal(gw_part_quota(8, 3), 3);
	assert_int_equal(gw_part_quota(8, 2), 4);
	assert_int_equal(gw_part_quota(8, 1), 8);
	assert_int_equal(gw_part_quota(8, 0), 8);
	assert_int_equal(gw_part_quota(8, 8), 1);
	assert_int_equal(gw_part_quota(8, 9), 1);
	assert_int_equal(gw_part_quota(12, 3), 4);
	assert_int_equal(gw_part_quota(1, 3), 1);
	/* Shares always cover every partition. */
	for (int p = 1; p <= 64; p++)
		for (int m = 1; m <= 10; m++)
			assert_true(gw_part_quota(p, m) * m >= p);
}

#define P 8

static void
test_plan(void **state)
{
	enum gw_part_owner own[P];
	bool ok[P], prior[P] = { false };
	int claim[P], release, n;
	struct gw_part_view v = { .partitions = P, .members = 3, .owner = own, .claimable = ok,
				  .offset = 5 };

	(void)state;
	/* Nothing held, all free and claimable: 3 claimed, from the offset on. */
	for (int k = 0; k < P; k++) {
		own[k] = GW_PART_FREE;
		ok[k] = true;
	}
	n = gw_part_plan(&v, prior, claim, P, &release);
	assert_int_equal(release, -1);
	assert_int_equal(n, 3);
	assert_int_equal(claim[0], 5);
	assert_int_equal(claim[1], 6);
	assert_int_equal(claim[2], 7);
	/* want bounds it. */
	assert_int_equal(gw_part_plan(&v, prior, claim, 1, &release), 1);
	/* Two held: one more. */
	own[0] = own[1] = GW_PART_MINE;
	n = gw_part_plan(&v, prior, claim, P, &release);
	assert_int_equal(n, 1);
	assert_int_equal(claim[0], 5);
	/* Not claimable (within the grace) and others' are never taken. */
	for (int k = 2; k < P; k++) {
		own[k] = k % 2 ? GW_PART_OTHER : GW_PART_FREE;
		ok[k] = false;
	}
	assert_int_equal(gw_part_plan(&v, prior, claim, P, &release), 0);
	assert_int_equal(release, -1);
	/* Its own from before a failover come first, even past the offset. */
	ok[2] = ok[4] = true;
	prior[2] = true;
	n = gw_part_plan(&v, prior, claim, P, &release);
	assert_int_equal(n, 1);
	assert_int_equal(claim[0], 2);
	/* A gateway joins: 4 members, share 2; holding 3 gives the highest up. */
	own[6] = GW_PART_MINE;
	v.members = 4;
	n = gw_part_plan(&v, prior, claim, P, &release);
	assert_int_equal(n, 0);
	assert_int_equal(release, 6);
	/* Alone: share 8, takes every free claimable one. */
	v.members = 1;
	for (int k = 0; k < P; k++) {
		own[k] = GW_PART_FREE;
		ok[k] = true;
		prior[k] = false;
	}
	assert_int_equal(gw_part_plan(&v, NULL, claim, P, &release), P);
}

/* Three gateways claiming in turn, one dies, one joins: every partition is
 * held by exactly one, and nobody holds more than its share. */
static void
test_plan_converges(void **state)
{
	int holder[P], claim[P], release;
	enum gw_part_owner own[P];
	bool ok[P];

	(void)state;
	for (int k = 0; k < P; k++)
		holder[k] = -1;
	for (int round = 0; round < 30; round++) {
		int members = round < 10 ? 3 : round < 20 ? 2 : 3;   /* 2 dies at 10, back at 20 */

		if (round == 10)
			for (int k = 0; k < P; k++)
				if (holder[k] == 2)
					holder[k] = -1;
		for (int g = 0; g < members; g++) {
			struct gw_part_view v = { .partitions = P, .members = members, .owner = own,
						  .claimable = ok, .offset = (unsigned)g * 3 };
			int n;

			for (int k = 0; k < P; k++) {
				own[k] = holder[k] < 0 ? GW_PART_FREE :
					 holder[k] == g ? GW_PART_MINE : GW_PART_OTHER;
				ok[k] = true;
			}
			n = gw_part_plan(&v, NULL, claim, P, &release);
			if (release >= 0)
				holder[release] = -1;
			for (int i = 0; i < n; i++) {
				assert_int_equal(holder[claim[i]], -1);
				holder[claim[i]] = g;
			}
		}
		if (round == 9 || round == 19 || round == 29) {
			int count[3] = { 0 };

			for (int k = 0; k < P; k++) {
				assert_true(holder[k] >= 0);
				count[holder[k]]++;
			}
			for (int g = 0; g < members; g++)
				assert_true(count[g] <= gw_part_quota(P, members));
		}
	}
}

static void
test_config(void **state)
{
	struct gw_config c;
	char err[512] = "";

	(void)state;
	gw_config_default(&c);
	assert_int_equal(c.cluster.partitions, 0);
	assert_int_equal(c.cluster.takeover_s, 10);
	assert_string_equal(c.cluster.name, "");
	assert_int_equal(gw_config_load_string("t.conf", "[cluster]\npartitions = 12\n"
					       "takeover_s = 3\nname = gw-a\n", &c, err,
					       sizeof(err)), GW_CONFIG_OK);
	assert_int_equal(c.cluster.partitions, 12);
	assert_int_equal(c.cluster.takeover_s, 3);
	assert_string_equal(c.cluster.name, "gw-a");
	assert_int_equal(gw_config_load_string("t.conf", "[cluster]\n\npartitions = 1025\n", &c,
					       err, sizeof(err)), GW_CONFIG_EPARSE);
	assert_non_null(strstr(err, "t.conf:3: [cluster] partitions = '1025'"));
	assert_int_equal(gw_config_load_string("t.conf", "[cluster]\ntakeover_s = 0\n", &c, err,
					       sizeof(err)), GW_CONFIG_EPARSE);
	assert_non_null(strstr(err, "t.conf:2: [cluster] takeover_s = '0'"));
	assert_int_equal(gw_config_load_string("t.conf", "[cluster]\npartition = 3\n", &c, err,
					       sizeof(err)), GW_CONFIG_EPARSE);
	assert_non_null(strstr(err, "t.conf:2: unknown key 'partition' in [cluster]"));
	/* <client_id>-p<k> must fit the MQTT client id. */
	{
		char text[400];

		snprintf(text, sizeof(text), "[mqtt]\nclient_id = %0125d\n[cluster]\npartitions = 4\n",
			 0);
		assert_int_equal(gw_config_load_string("t.conf", text, &c, err, sizeof(err)),
				 GW_CONFIG_EPARSE);
		assert_non_null(strstr(err, "client_id too long for [cluster]"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_as_nats),
		cmocka_unit_test(test_topic),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_plan_converges),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
