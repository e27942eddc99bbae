/*
 * corpus_walk.c - read every file of a fuzz corpus directory for the
 * replaying unit tests (see corpus_walk.h).
 */
#include "tests/unit/corpus_walk.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/hz_file.h"

struct corpus_count
corpus_walk(const char *dir, const char *prefix, corpus_file_fn *fn, const void *arg)
{
	const char *src = getenv("HG_SRCDIR");
	char path[4096];
	DIR *d;
	struct dirent *de;
	struct corpus_count n = { 0, 0 };

	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/tests/fuzz/%s", src, dir);
	d = opendir(path);
	if (!d)
		print_message("# cannot open %s\n", path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char file[4096 + 256];
		uint8_t *data;
		size_t size = 0;

		if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		data = (uint8_t *)hz_file_read(file, &size);
		assert_non_null(data);
		n.checked += fn(de->d_name, data, size, arg);
		free(data);
		n.files++;
	}
	closedir(d);
	print_message("# %s: %d files, %d with an expected outcome\n", dir, n.files, n.checked);
	return n;
}
