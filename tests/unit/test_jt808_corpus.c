/*
 * test_jt808_corpus.c - replay tests/fuzz/corpus/jt808/ through the JT/T
 * 808 codec's whole path (fuzz_jt808_run, tests/fuzz/fuzz_jt808.h), so
 * that `make check` re-runs the seeds and what the fuzzer kept. Every
 * file must keep the invariants; a seed named "<result>--<what>" (result:
 * a jt_strerror name, e.g. ok, bad_check, need_more) must give that
 * result for its first frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/fuzz/fuzz_jt808.h"
#include "tests/unit/corpus_walk.h"

static bool
replay_file(const char *name, const uint8_t *data, size_t size, const void *arg)
{
	const char *sep = strstr(name, "--");
	enum jt_err first;
	const char *broken = fuzz_jt808_run(data, size, &first);
	const char *got = jt_strerror(first);

	(void)arg;
	if (broken)
		print_message("# %s: %s\n", name, broken);
	assert_null(broken);
	if (!sep)
		return false;
	if (strlen(got) != (size_t)(sep - name) ||
	    strncmp(name, got, (size_t)(sep - name)) != 0)
		print_message("# %s: got %s\n", name, got);
	assert_int_equal(strlen(got), (size_t)(sep - name));
	assert_memory_equal(name, got, (size_t)(sep - name));
	return true;
}

static void
corpus_jt808(void **state)
{
	struct corpus_count c;

	(void)state;
	c = corpus_walk("corpus/jt808", "", replay_file, NULL);
	assert_true(c.files >= 20);
	assert_true(c.checked >= 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(corpus_jt808),
	};

	return cmocka_run_group_tests_name("jt808_corpus", tests, NULL, NULL);
}
