/*
 * unhex.h - hex text to bytes for the unit tests that write frames out in
 * hex (test_jt808, test_jt808_term). Include after <cmocka.h>: a bad
 * character, an odd digit count or too many bytes fail the test.
 */
#ifndef HG_TESTS_UNHEX_H
#define HG_TESTS_UNHEX_H

#include <stddef.h>
#include <stdint.h>

/* Hex text s (lower case, spaces allowed) into out (cap bytes); returns
 * the number of bytes. */
static inline size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v = 0;

		if (*s == ' ')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else
			fail_msg("bad hex character '%c'", *s);
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

#endif
