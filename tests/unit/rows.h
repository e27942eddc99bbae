/*
 * rows.h - one named cmocka test point per row of a case table, for the
 * unit tests written as tables (test_common, test_geofence). Include after
 * <cmocka.h>. ROWS and ONE append to the caller's `tests` array and bump
 * its count `n`; each row is a struct whose first member is `name`.
 */
#ifndef HG_TESTS_ROWS_H
#define HG_TESTS_ROWS_H

#define NROWS(t) (sizeof t / sizeof t[0])

/* Every row of table t as a test point running fn with the row as state. */
#define ROWS(t, fn)                                                   \
	for (size_t i = 0; i < NROWS(t); i++)                             \
		tests[n++] = (struct CMUnitTest){t[i].name, fn, NULL, NULL, \
						 (void *)&t[i]}

/* One test point of its own. */
#define ONE(fn) tests[n++] = (struct CMUnitTest)cmocka_unit_test(fn)

#endif
