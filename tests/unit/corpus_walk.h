/*
 * corpus_walk.h - the walk over a fuzz corpus directory that the unit
 * tests replaying tests/fuzz/ share (test_ingest_corpus,
 * test_gateway_corpus): every file read whole and handed to a callback.
 * Test code: failures are cmocka assertions in the running test.
 */
#ifndef HG_TESTS_CORPUS_WALK_H
#define HG_TESTS_CORPUS_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One file: its name (no directory) and its bytes, both borrowed for the
 * call (the bytes are freed after it); arg is corpus_walk's. Returns true
 * when the file's name gave an expected outcome and it was checked. */
typedef bool corpus_file_fn(const char *name, const uint8_t *data, size_t size,
			    const void *arg);

/* What a walk saw. */
struct corpus_count {
	int files;              /* handed to the callback */
	int checked;            /* of them, with an expected outcome */
};

/*
 * Hand every file of $HG_SRCDIR/tests/fuzz/<dir> whose name starts with
 * `prefix` ("" for all; names starting with '.' never) to fn, in directory
 * order, and print "# <dir>: N files, M with an expected outcome". Fails
 * the running test when HG_SRCDIR is not set, the directory cannot be
 * opened or a file cannot be read.
 */
struct corpus_count corpus_walk(const char *dir, const char *prefix, corpus_file_fn *fn,
				const void *arg);

#endif
