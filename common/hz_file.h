/*
 * hz_file.h - a whole file read into memory (prefix hz_file_): zone files,
 * configuration-sized inputs, fuzz corpora, benchmark data. Not for
 * telemetry streams (they are read line by line).
 */
#ifndef HAZGATE_HZ_FILE_H
#define HAZGATE_HZ_FILE_H

#include <stddef.h>

/*
 * Read all of `path` ("-" is standard input) into a malloc'd buffer with a
 * NUL after the last byte (so text can be used as a string; the length
 * counts the bytes read, without the NUL); *len gets the length when len is
 * not NULL. An empty file is a buffer of length 0. Returns NULL with errno
 * set (the open's errno, ENOMEM or EIO); the caller frees the buffer.
 */
char *hz_file_read(const char *path, size_t *len);

#endif
