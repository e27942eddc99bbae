/*
 * hz_crc32.c - CRC-32 (IEEE) through zlib's crc32_z. The gateway's spool
 * runs every byte of every batch through it twice (append and read back):
 * a nibble-at-a-time CRC of our own was a quarter of the gateway's CPU
 * under load (hz_queue.c before issue 10).
 */
#include "common/hz_crc32.h"

#include <zlib.h>

uint32_t
hz_crc32(uint32_t crc, const void *p, size_t len)
{
	if (len == 0)
		return crc;
	return (uint32_t)crc32_z(crc, p, len);
}
