/*
 * hz_file.c - read a whole file (or standard input) into memory, growing
 * the buffer as it goes, so that pipes and files whose size changes work
 * as well as regular files.
 */
#include "common/hz_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
hz_file_read(const char *path, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t used = 0, cap = 0;

	if (!fp)
		return NULL;
	for (;;) {
		size_t got;

		if (cap - used < 65536) {
			char *n;

			cap = cap ? cap * 2 : 65536;
			n = realloc(buf, cap + 1);
			if (!n) {
				free(buf);
				buf = NULL;
				errno = ENOMEM;
				goto done;
			}
			buf = n;
		}
		got = fread(buf + used, 1, cap - used, fp);
		used += got;
		if (got == 0) {
			if (ferror(fp)) {
				free(buf);
				buf = NULL;
				errno = EIO;
			}
			break;
		}
	}
	if (buf) {
		buf[used] = '\0';
		if (len)
			*len = used;
	}
done:
	if (fp != stdin)
		fclose(fp);
	return buf;
}
