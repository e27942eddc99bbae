/*
 * hz_hash.h: FNV-1a, the one non-cryptographic string hash of hazgate
 * (hash tables of vehicles, addresses and keys; NATS's subject-mapping
 * `partition` function is FNV-1a 32 too). Header only: each function is a
 * few instructions and is inlined where the tables probe.
 *
 * Not for anything an attacker can aim at where collisions matter beyond
 * speed; never for secrets (libsodium does those).
 */
#ifndef HZ_HASH_H
#define HZ_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HZ_FNV32_OFFSET 2166136261u
#define HZ_FNV32_PRIME 16777619u
#define HZ_FNV64_OFFSET 14695981039346656037ull
#define HZ_FNV64_PRIME 1099511628211ull

/* 32-bit FNV-1a of n bytes at p (p may be NULL when n is 0). */
static inline uint32_t
hz_fnv1a32(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint32_t h = HZ_FNV32_OFFSET;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * HZ_FNV32_PRIME;
	return h;
}

/* 64-bit FNV-1a of n bytes at p (p may be NULL when n is 0). */
static inline uint64_t
hz_fnv1a64(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = HZ_FNV64_OFFSET;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * HZ_FNV64_PRIME;
	return h;
}

/* 64-bit FNV-1a of the NUL-terminated string s (the NUL not included). */
static inline uint64_t
hz_fnv1a64_str(const char *s)
{
	uint64_t h = HZ_FNV64_OFFSET;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * HZ_FNV64_PRIME;
	return h;
}

#endif
