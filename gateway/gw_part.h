/*
 * gw_part.h - the pure arithmetic of partitioned gateways (gw_part.c):
 * which partition a vehicle is in (as NATS's subject mapping computes it),
 * the partition prefix of a topic, each gateway's share, and what a
 * gateway claims or gives up next. No I/O, no clock, no allocation: the
 * daemon's side is gw_cluster.c.
 */
#ifndef HAZGATE_GW_PART_H
#define HAZGATE_GW_PART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Partitions a gateway configuration may name ([cluster] partitions). */
#define GW_PART_MAX 1024

/* FNV-1a, 32 bits, of len bytes: the hash of NATS's {{partition(P,n)}}
 * (nats-server's subject transform, hash/fnv New32a over the token's
 * bytes). */
uint32_t gw_part_hash(const void *data, size_t len);

/* The partition (0 .. partitions-1) of a vehicle token, as NATS maps
 * tankers.<vehicle>.telemetry; 0 when partitions < 1. */
int gw_part_of(const char *vehicle, int partitions);

/* A partition topic "hz/part/<k>/<rest>": true with *k and *rest (pointing
 * into topic) when topic has that shape and 0 <= k < partitions (digits
 * only, no sign, no leading zero but "0", rest not empty). */
bool gw_part_topic(const char *topic, int partitions, int *k, const char **rest);

/* Each live gateway's share: ceil(partitions / members); all of them when
 * members < 1. */
int gw_part_quota(int partitions, int members);

/* A partition as a gateway sees it at a poll. */
enum gw_part_owner {
	GW_PART_FREE = 0,     /* nobody holds its lock */
	GW_PART_MINE,         /* this gateway holds it */
	GW_PART_OTHER,        /* another gateway holds it */
};

/* What one gateway knows at a poll (arrays of `partitions` entries). */
struct gw_part_view {
	int partitions;
	int members;                    /* live gateways, this one included */
	const enum gw_part_owner *owner;
	/* Free partitions this gateway may claim now: free for the grace
	 * period already, or held by this gateway before it lost its
	 * database connection (it takes them back first). */
	const bool *claimable;
	unsigned offset;                /* where this gateway starts looking (spreads the race) */
};

/*
 * The next step for this gateway: a partition to give up (*release, or -1)
 * when it holds more than its share; else up to want partitions to claim
 * (claim[], returns how many: prior ones first, then from offset on,
 * wrapping), never more than its share minus what it holds. Returns the
 * number written into claim (0 when it releases).
 */
int gw_part_plan(const struct gw_part_view *v, const bool *prior, int *claim, int want,
                 int *release);

#endif
