/*
 * hz_crc32.h - the one CRC-32 of hazgate (prefix hz_): IEEE 802.3, the
 * CRC of zlib, gzip and PNG (reflected polynomial 0xedb88320, initial and
 * final value 0xffffffff; "123456789" gives 0xcbf43926). The spool
 * (common/hz_queue.c) and geofence's state blobs store it, so its values
 * never change: stored files stay readable.
 *
 * It is zlib's table-driven crc32_z: a program that calls it links
 * $(HZ_CRC_LIBS) after $(HZ_COMMON_LIBS) (common/Makemodule.am). Pure: no
 * statics of its own, no I/O.
 */
#ifndef HAZGATE_HZ_CRC32_H
#define HAZGATE_HZ_CRC32_H

#include <stddef.h>
#include <stdint.h>

/*
 * The CRC-32 of crc's data followed by the len bytes at p (p may be NULL
 * when len is 0). Start with crc 0; chaining calls over consecutive pieces
 * gives the CRC of the whole, as zlib's crc32().
 */
uint32_t hz_crc32(uint32_t crc, const void *p, size_t len);

#endif
