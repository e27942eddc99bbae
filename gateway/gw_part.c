/*
 * gw_part.c - partition arithmetic of partitioned gateways (gw_part.h):
 * FNV-1a as NATS's subject mapping uses it, the hz/part/<k>/ prefix, the
 * share ceil(P / live gateways), and the plan of one poll. Pure.
 */
#include "gateway/gw_part.h"

#include <string.h>

uint32_t
gw_part_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

int
gw_part_of(const char *vehicle, int partitions)
{
	if (partitions < 1)
		return 0;
	return (int)(gw_part_hash(vehicle, strlen(vehicle)) % (uint32_t)partitions);
}

bool
gw_part_topic(const char *topic, int partitions, int *k, const char **rest)
{
	static const char pre[] = "hz/part/";
	const char *p;
	long n = 0;

	if (strncmp(topic, pre, sizeof(pre) - 1) != 0)
		return false;
	p = topic + sizeof(pre) - 1;
	if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '/'))
		return false;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (*p++ - '0');
		if (n >= partitions)
			return false;
	}
	if (*p != '/' || p[1] == '\0')
		return false;
	*k = (int)n;
	*rest = p + 1;
	return true;
}

int
gw_part_quota(int partitions, int members)
{
	if (members < 1)
		return partitions;
	return (partitions + members - 1) / members;
}

int
gw_part_plan(const struct gw_part_view *v, const bool *prior, int *claim, int want,
             int *release)
{
	int P = v->partitions, mine = 0, quota = gw_part_quota(P, v->members), n = 0;

	*release = -1;
	for (int k = 0; k < P; k++)
		if (v->owner[k] == GW_PART_MINE)
			mine++;
	if (mine > quota) {
		/* The highest one held: the same choice at every poll. */
		for (int k = P - 1; k >= 0; k--)
			if (v->owner[k] == GW_PART_MINE) {
				*release = k;
				break;
			}
		return 0;
	}
	if (want > quota - mine)
		want = quota - mine;
	/* Those it held before its connection dropped, first. */
	for (int k = 0; k < P && n < want; k++)
		if (v->owner[k] == GW_PART_FREE && v->claimable[k] && prior && prior[k])
			claim[n++] = k;
	for (int i = 0; i < P && n < want; i++) {
		int k = (int)((v->offset + (unsigned)i) % (unsigned)P);

		if (v->owner[k] == GW_PART_FREE && v->claimable[k] && !(prior && prior[k]))
			claim[n++] = k;
	}
	return n;
}
