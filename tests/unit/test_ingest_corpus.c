/*
 * test_ingest_corpus.c - replay the fuzz corpus and every kept crash input
 * through ing_decode(), so that `make check` re-runs what the fuzzers found.
 *
 * tests/fuzz/corpus/<target>/ (native, owntracks, tpv) and
 * tests/fuzz/crashes/ are read from $HG_SRCDIR. Every file is decoded in
 * all four formats and must keep fuzz_invariant() (tests/fuzz/
 * fuzz_common.h). A seed named "<expect>--<what>" (expect: ok, ignored or
 * a reason name such as lat_range) must also give that outcome in its
 * directory's format. One named test per directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/fuzz/fuzz_common.h"
#include "tests/unit/corpus_walk.h"

struct corpus {
	const char *dir;            /* under tests/fuzz/ */
	enum ing_format format;     /* the directory's own format */
	const char *topic;          /* default topic */
	int min_files;              /* fewer files: the corpus went missing */
};

static const struct corpus corpora[] = {
	{ "corpus/native", ING_FORMAT_NATIVE, FUZZ_TANKERS_TOPIC, 10 },
	{ "corpus/owntracks", ING_FORMAT_OWNTRACKS, FUZZ_OWNTRACKS_TOPIC, 10 },
	{ "corpus/tpv", ING_FORMAT_TPV, FUZZ_TANKERS_TOPIC, 10 },
	{ "crashes", ING_FORMAT_AUTO, FUZZ_TANKERS_TOPIC, 1 },
};

/* "lat_range--foo.json" -> expected result and reason; 0 if no prefix. */
static int
expectation(const char *name, enum ing_result *res, enum ing_reason *reason)
{
	const char *sep = strstr(name, "--");
	size_t n;
	int r;

	if (!sep)
		return 0;
	n = (size_t)(sep - name);
	if (n == 2 && strncmp(name, "ok", 2) == 0) {
		*res = ING_OK;
		*reason = ING_REASON_NONE;
		return 1;
	}
	if (n == 7 && strncmp(name, "ignored", 7) == 0) {
		*res = ING_IGNORED;
		*reason = ING_REASON_NONE;
		return 1;
	}
	for (r = 1; r < ING_REASON_COUNT; r++) {
		const char *rn = ing_reason_name((enum ing_reason)r);
		if (strlen(rn) == n && strncmp(name, rn, n) == 0) {
			*res = ING_REJECTED;
			*reason = (enum ing_reason)r;
			return 1;
		}
	}
	return -1;      /* a prefix that names no outcome: a typo */
}

static bool
replay_file(const char *name, const uint8_t *data, size_t size, const void *arg)
{
	const struct corpus *c = arg;
	char topic[FUZZ_TOPIC_MAX + 1];
	const uint8_t *payload;
	size_t len;
	enum ing_result want_res = ING_OK;
	enum ing_reason want_reason = ING_REASON_NONE;
	int f, has_expect;
	bool checked = false;

	fuzz_split(data, size, c->topic, topic, &payload, &len);
	has_expect = expectation(name, &want_res, &want_reason);
	if (has_expect < 0)
		print_message("# %s: unknown expectation prefix\n", name);
	assert_true(has_expect >= 0);

	for (f = ING_FORMAT_NATIVE; f <= ING_FORMAT_AUTO; f++) {
		struct ing_fix fix;
		struct ing_error err;
		enum ing_result res;
		const char *broken;

		res = ing_decode(topic, payload, len, (enum ing_format)f,
		                 FUZZ_NOW_US, &fix, &err);
		broken = fuzz_invariant(res, &fix, &err);
		if (broken)
			print_message("# %s (%s): %s\n", name,
			              ing_format_name((enum ing_format)f), broken);
		assert_null(broken);
		if (has_expect && f == (int)c->format) {
			if (res != want_res || err.reason != want_reason)
				print_message("# %s: got %s/%s: %s\n", name,
				              ing_result_name(res),
				              ing_reason_name(err.reason),
				              err.message);
			assert_int_equal(res, want_res);
			assert_int_equal(err.reason, want_reason);
			checked = true;
		}
	}
	return checked;
}

static void
replay_dir(void **state)
{
	const struct corpus *c = *state;

	assert_true(corpus_walk(c->dir, "", replay_file, c).files >= c->min_files);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(replay_dir, (void *)&corpora[0]),
		cmocka_unit_test_prestate(replay_dir, (void *)&corpora[1]),
		cmocka_unit_test_prestate(replay_dir, (void *)&corpora[2]),
		cmocka_unit_test_prestate(replay_dir, (void *)&corpora[3]),
	};
	struct CMUnitTest named[4];
	static const char *const names[4] = {
		"corpus_native", "corpus_owntracks", "corpus_tpv", "crashes"
	};
	size_t i;

	for (i = 0; i < 4; i++) {
		named[i] = tests[i];
		named[i].name = names[i];
	}
	return _cmocka_run_group_tests("ingest_corpus", named, 4, NULL, NULL);
}
