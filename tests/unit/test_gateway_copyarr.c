/*
 * test_gateway_copyarr: COPY text rows to array literals
 * (gateway/gw_copyarr.c), the writer's way to pass a batch's alerts and
 * vehicle states as array parameters (issue 15). Table-driven: each
 * input's literals, or its refusal; then a property: random values
 * (every byte but NUL, quotes, backslashes, braces, commas, tabs,
 * newlines, UTF-8, empty, NULL) escaped by gw_copy_escape, as the batch
 * writes them, come back from the literals byte for byte, whatever the
 * cut of the input into pieces. Last, the fuzz target's corpus
 * (tests/fuzz/corpus/gateway_copyarr: seeds named <outcome>--<what>, ok or
 * EFORMAT, and what the runs kept) under the same contract.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/gw_batch.h"
#include "gateway/gw_copyarr.h"
#include "tests/fuzz/fuzz_copyarr.h"
#include "tests/unit/corpus_walk.h"

struct arr_case {
	const char *what;
	size_t ncols;
	const char *in;
	int rc;
	const char *want[3];   /* the literals, when rc is GW_ARR_OK */
};

static const struct arr_case cases[] = {
	{ "nothing", 2, "", GW_ARR_OK, { "{}", "{}" } },
	{ "one row", 2, "a\tb\n", GW_ARR_OK, { "{\"a\"}", "{\"b\"}" } },
	{ "two rows", 1, "a\nb\n", GW_ARR_OK, { "{\"a\",\"b\"}" } },
	{ "NULL", 2, "\\N\tx\n", GW_ARR_OK, { "{NULL}", "{\"x\"}" } },
	{ "an escaped backslash before N is text", 1, "\\\\N\n", GW_ARR_OK, { "{\"\\\\N\"}" } },
	{ "\\N inside a value is N", 1, "a\\Nb\n", GW_ARR_OK, { "{\"aNb\"}" } },
	{ "empty strings", 2, "\t\n", GW_ARR_OK, { "{\"\"}", "{\"\"}" } },
	{ "quotes, braces, commas", 1, "say \"x\" {a,b}\n", GW_ARR_OK,
	  { "{\"say \\\"x\\\" {a,b}\"}" } },
	{ "the word NULL is text", 1, "NULL\n", GW_ARR_OK, { "{\"NULL\"}" } },
	{ "escapes", 1, "\\t\\n\\r\\b\\f\\v\n", GW_ARR_OK, { "{\"\t\n\r\b\f\v\"}" } },
	{ "octal", 1, "\\101\\60\\1x\\1010\n", GW_ARR_OK, { "{\"A0\001xA0\"}" } },
	{ "octal over a byte keeps the low 8 bits", 1, "\\501\n", GW_ARR_OK, { "{\"A\"}" } },
	{ "hex", 1, "\\x41\\x4g\\xg\n", GW_ARR_OK, { "{\"A\004gxg\"}" } },
	{ "other escaped bytes stand for themselves", 1, "\\q\\\"\\{\n", GW_ARR_OK,
	  { "{\"q\\\"{\"}" } },
	{ "an escaped tab is data", 2, "a\\\tb\tc\n", GW_ARR_OK, { "{\"a\tb\"}", "{\"c\"}" } },
	{ "an escaped newline is data", 1, "a\\\nb\n", GW_ARR_OK, { "{\"a\nb\"}" } },
	{ "bytea as COPY writes it", 1, "\\\\x0aff\n", GW_ARR_OK, { "{\"\\\\x0aff\"}" } },
	{ "UTF-8 passes as it is", 2, "晋A12345\t危险品 \"甲\"\n", GW_ARR_OK,
	  { "{\"晋A12345\"}", "{\"危险品 \\\"甲\\\"\"}" } },
	{ "three columns", 3, "1\t\\N\t2\n", GW_ARR_OK, { "{\"1\"}", "{NULL}", "{\"2\"}" } },
	{ "no newline at the end", 1, "a", GW_ARR_EFORMAT, { NULL } },
	{ "no newline after a full row", 1, "a\nb", GW_ARR_EFORMAT, { NULL } },
	{ "too few columns", 2, "a\n", GW_ARR_EFORMAT, { NULL } },
	{ "too many columns", 1, "a\tb\n", GW_ARR_EFORMAT, { NULL } },
	{ "a bare carriage return", 1, "a\rb\n", GW_ARR_EFORMAT, { NULL } },
	{ "a NUL by octal", 1, "a\\0b\n", GW_ARR_EFORMAT, { NULL } },
	{ "a NUL by hex", 1, "a\\x00\n", GW_ARR_EFORMAT, { NULL } },
	{ "the end-of-data marker", 1, "\\.\n", GW_ARR_EFORMAT, { NULL } },
	{ "a backslash at the very end", 1, "a\\", GW_ARR_EFORMAT, { NULL } },
	{ "an empty line is a row of one empty column", 1, "\n", GW_ARR_OK, { "{\"\"}" } },
	{ "an empty line, two columns", 2, "\n", GW_ARR_EFORMAT, { NULL } },
};

static void
test_cases(void **state)
{
	struct gw_arrays a = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct arr_case *c = &cases[i];
		int rc;

		gw_arrays_reset(&a, c->ncols);
		rc = gw_arrays_add_copy(&a, c->in, strlen(c->in));
		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d", c->what, rc, c->rc);
		if (rc != GW_ARR_OK)
			continue;
		assert_int_equal(gw_arrays_finish(&a), GW_ARR_OK);
		for (size_t k = 0; k < c->ncols; k++) {
			if (strcmp(a.param[k], c->want[k]) != 0)
				fail_msg("%s: column %zu is %s, want %s", c->what, k, a.param[k],
					 c->want[k]);
			assert_int_equal(fuzz_arr_count(a.param[k]), (long)a.nrows);
		}
	}
	gw_arrays_free(&a);
}

/* Pieces: rows may come in several calls (the group's records). */
static void
test_pieces_and_reuse(void **state)
{
	struct gw_arrays a = { 0 };

	(void)state;
	gw_arrays_reset(&a, 2);
	assert_int_equal(gw_arrays_add_copy(&a, "a\t1\n", 4), GW_ARR_OK);
	assert_int_equal(gw_arrays_add_copy(&a, "", 0), GW_ARR_OK);
	assert_int_equal(gw_arrays_add_copy(&a, "b\t\\N\nc\t3\n", 9), GW_ARR_OK);
	assert_int_equal(gw_arrays_finish(&a), GW_ARR_OK);
	assert_int_equal(a.nrows, 3);
	assert_string_equal(a.param[0], "{\"a\",\"b\",\"c\"}");
	assert_string_equal(a.param[1], "{\"1\",NULL,\"3\"}");
	/* reset keeps the buffers and starts over */
	gw_arrays_reset(&a, 1);
	assert_null(a.param[0]);
	assert_int_equal(gw_arrays_add_copy(&a, "z\n", 2), GW_ARR_OK);
	assert_int_equal(gw_arrays_finish(&a), GW_ARR_OK);
	assert_string_equal(a.param[0], "{\"z\"}");
	/* after an error, reset makes them usable again */
	gw_arrays_reset(&a, 1);
	assert_int_equal(gw_arrays_add_copy(&a, "ok\nbad", 6), GW_ARR_EFORMAT);
	gw_arrays_reset(&a, 1);
	assert_int_equal(gw_arrays_finish(&a), GW_ARR_OK);
	assert_string_equal(a.param[0], "{}");
	/* a raw NUL byte (the fuzz target's first finding: it went into the
	 * literal, which libpq would have cut there) */
	gw_arrays_reset(&a, 1);
	assert_int_equal(gw_arrays_add_copy(&a, "\0\xff\n", 3), GW_ARR_EFORMAT);
	/* columns are bounded */
	gw_arrays_reset(&a, GW_ARR_COLS + 5);
	assert_int_equal(a.ncols, GW_ARR_COLS);
	gw_arrays_reset(&a, 0);
	assert_int_equal(gw_arrays_add_copy(&a, "", 0), GW_ARR_OK);
	assert_int_equal(gw_arrays_add_copy(&a, "a\n", 2), GW_ARR_EFORMAT);
	assert_string_equal(gw_arrays_strerror(GW_ARR_EFORMAT),
			    "not COPY text of the expected columns");
	gw_arrays_free(&a);
}

static uint64_t
xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random values through gw_copy_escape (the batch's writer) and back. */
static void
test_roundtrip(void **state)
{
	static const char *const alphabet[] = {
		"\"", "\\", "{", "}", ",", "\t", "\n", "\r", " ", "N", "\\N", "NULL", "x",
		"晋", "危险", "\xf0\x9f\x9a\x9a", "\x01", "\x7f", "\xff", "'", "a,b",
	};
	enum { NCOLS = 4, ROWS = 40, ROUNDS = 300 };
	static char val[ROWS][NCOLS][128];
	static bool isnull[ROWS][NCOLS];
	struct gw_arrays a = { 0 };
	struct gw_buf copy = { 0 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char got[512];

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		size_t rows = xs(&seed) % ROWS, cut;

		copy.len = 0;
		for (size_t r = 0; r < rows; r++) {
			for (size_t c = 0; c < NCOLS; c++) {
				size_t n = xs(&seed) % 6, len = 0;

				isnull[r][c] = xs(&seed) % 7 == 0;
				val[r][c][0] = '\0';
				for (size_t k = 0; k < n && !isnull[r][c]; k++) {
					const char *s = alphabet[xs(&seed) %
								 (sizeof(alphabet) / sizeof(alphabet[0]))];

					memcpy(val[r][c] + len, s, strlen(s) + 1);
					len += strlen(s);
				}
				if (isnull[r][c])
					assert_int_equal(gw_buf_add(&copy, "\\N", 2), 0);
				else
					assert_int_equal(gw_copy_escape(&copy, val[r][c], len), 0);
				assert_int_equal(gw_buf_add(&copy, c + 1 < NCOLS ? "\t" : "\n", 1), 0);
			}
		}
		/* in two pieces, cut between rows */
		cut = 0;
		for (size_t i = 0, want = rows / 2; i < copy.len && want; i++)
			if (copy.p[i] == '\n' && --want == 0)
				cut = i + 1;
		gw_arrays_reset(&a, NCOLS);
		assert_int_equal(gw_arrays_add_copy(&a, copy.p, cut), GW_ARR_OK);
		assert_int_equal(gw_arrays_add_copy(&a, copy.p + cut, copy.len - cut), GW_ARR_OK);
		assert_int_equal(gw_arrays_finish(&a), GW_ARR_OK);
		assert_int_equal(a.nrows, rows);
		for (size_t c = 0; c < NCOLS; c++) {
			assert_int_equal(fuzz_arr_count(a.param[c]), (long)rows);
			for (size_t r = 0; r < rows; r++) {
				bool null = false;
				long n = fuzz_arr_elem(a.param[c], r, got, sizeof(got), &null);

				assert_true(n >= 0);
				assert_int_equal(null, isnull[r][c]);
				if (!null)
					assert_string_equal(got, val[r][c]);
			}
		}
		/* the contract the fuzz target checks holds on it too */
		assert_int_equal(fuzz_copyarr_check(&a, NCOLS, copy.p, copy.len), 0);
	}
	gw_buf_free(&copy);
	gw_arrays_free(&a);
}

/* A corpus file as the fuzz target reads it: the contract, and the
 * outcome its name says. */
static bool
replay_file(const char *name, const uint8_t *data, size_t size, const void *arg)
{
	struct gw_arrays *a = (struct gw_arrays *)arg;
	size_t ncols;
	int rc;

	if (size < 2)
		return false;
	ncols = (size_t)data[0] % GW_ARR_COLS + 1;
	if (fuzz_copyarr_check(a, ncols, (const char *)data + 2, size - 2) != 0)
		fail_msg("%s: the contract is broken", name);
	gw_arrays_reset(a, ncols);
	rc = gw_arrays_add_copy(a, (const char *)data + 2, size - 2);
	if (strncmp(name, "ok--", 4) == 0) {
		if (rc != GW_ARR_OK)
			fail_msg("%s: refused (%s)", name, gw_arrays_strerror(rc));
		return true;
	}
	if (strncmp(name, "EFORMAT--", 9) == 0) {
		if (rc != GW_ARR_EFORMAT)
			fail_msg("%s: rc %d, want EFORMAT", name, rc);
		return true;
	}
	return false;
}

static void
test_corpus(void **state)
{
	struct gw_arrays a = { 0 };
	struct corpus_count n;

	(void)state;
	n = corpus_walk("corpus/gateway_copyarr", "", replay_file, &a);
	assert_true(n.checked >= 10);
	gw_arrays_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_pieces_and_reuse),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
