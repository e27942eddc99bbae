/*
 * test_geofence_oom.c - allocation failures on purpose (tg's chaos tests).
 *
 * Linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc, so every
 * allocation in libgeofence.a (statically linked) can be made to fail at
 * the Nth call; jansson and libc (shared) are not affected. For each N
 * until a run completes without meeting the failure: the call must
 * return GF_ENOMEM (or succeed), produce nothing half-built, leak nothing
 * (ASan builds check that), and the engine must go on working afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geofence/geofence.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static long countdown = -1; /* -1: never fail */
static long failures;

static bool
should_fail(void)
{
	if (countdown < 0)
		return false;
	if (countdown-- == 0) {
		failures++;
		return true;
	}
	return false;
}

void *
__wrap_malloc(size_t n)
{
	return should_fail() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t m)
{
	return should_fail() ? NULL : __real_calloc(n, m);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : __real_realloc(p, n);
}

static char *
slurp(const char *rel, size_t *len)
{
	/* $HG_SHARED/data first; the project's copy in $HG_SRCDIR/data when
	 * ../shared is not there (a checkout elsewhere). */
	const char *shared = getenv("HG_SHARED"), *src = getenv("HG_SRCDIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", shared ? shared : "../shared", rel);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(path, sizeof path, "%s/%s", src ? src : ".", rel);
		f = fopen(path, "rb");
	}
	if (f == NULL)
		fail_msg("cannot open %s (set HG_SHARED or HG_SRCDIR)", rel);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = __real_malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
test_oom_zoneset_parse(void **state)
{
	(void)state;
	size_t len;
	char *text = slurp("data/zones-taiyuan.geojson", &len);
	long k;
	for (k = 0;; k++) {
		gf_zoneset *zs = NULL;
		failures = 0;
		countdown = k;
		int rc = gf_zoneset_parse(text, len, &zs, NULL, 0);
		countdown = -1;
		if (failures == 0) {
			assert_int_equal(rc, GF_OK);
			assert_int_equal(gf_zoneset_count(zs), 10);
			gf_zoneset_free(zs);
			break;
		}
		if (rc != GF_ENOMEM || zs != NULL)
			fail_msg("failure at allocation %ld: rc %d", k, rc);
	}
	print_message("# zone set: %ld allocation points all fail cleanly\n", k);
	assert_true(k > 20);
	free(text);
}

static void
test_oom_tz_parse(void **state)
{
	(void)state;
	FILE *f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
	assert_non_null(f);
	static uint8_t buf[16384];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	long k;
	for (k = 0;; k++) {
		gf_tz *tz = NULL;
		failures = 0;
		countdown = k;
		int rc = gf_tz_parse(buf, n, &tz);
		countdown = -1;
		if (failures == 0) {
			assert_int_equal(rc, GF_OK);
			gf_tz_free(tz);
			break;
		}
		assert_int_equal(rc, GF_ENOMEM);
		assert_null(tz);
	}
	assert_true(k >= 4);
}

static int
cb_count;

static void
count_cb(const struct gf_alert *a, void *arg)
{
	(void)a;
	(void)arg;
	cb_count++;
}

static void
test_oom_engine_goes_on(void **state)
{
	(void)state;
	size_t zlen;
	char *text = slurp("data/zones-taiyuan.geojson", &zlen);
	gf_zoneset *zs = NULL;
	assert_int_equal(gf_zoneset_parse(text, zlen, &zs, NULL, 0), GF_OK);
	struct gf_options opt;
	gf_options_default(&opt);
	/* 200 vehicles in and out of zone 7 (the depot) and the corridor. */
	enum { NFIX = 4000 };
	static char names[200][16];
	for (int v = 0; v < 200; v++)
		snprintf(names[v], sizeof names[v], "\xe6\x99\x8b" "A1000%d", v);
	long points = 0, enomem_total = 0;
	for (long k = 0; k < 400; k += 3) {
		gf_engine *e = NULL;
		failures = 0;
		countdown = k;
		int rc = gf_engine_new(&opt, zs, NULL, &e);
		if (rc != GF_OK) {
			countdown = -1;
			assert_int_equal(rc, GF_ENOMEM);
			assert_null(e);
			continue;
		}
		int64_t t0 = 1565395200LL * 1000000;
		for (int i = 0; i < NFIX; i++) {
			int v = i % 200;
			double lat = 37.60 + 0.0002 * (i / 200) + 0.00001 * v;
			struct gf_fix fx = {names[v], t0 + (int64_t)(i / 200) * 5000000,
					    lat, 112.36, true, 50 + (i % 7) * 10, "3", 0, false, 0, false, NULL, 0};
			struct gf_fix_result res;
			rc = gf_engine_fix(e, &fx, count_cb, NULL, &res);
			if (rc == GF_ENOMEM)
				enomem_total++;
			else
				assert_int_equal(rc, GF_OK);
		}
		countdown = -1;
		/* After the failure the engine still works and its blobs are sound. */
		uint8_t blob[512];
		size_t len;
		for (int v = 0; v < 200; v++) {
			if (gf_engine_state_save(e, names[v], blob, sizeof blob, &len) ==
			    GF_OK)
				assert_int_equal(gf_engine_state_load(e, names[v], blob, len),
						 GF_OK);
		}
		struct gf_fix fx = {names[0], t0 + 3600000000LL, 37.9, 112.9, false, 0, NULL, 0, false, 0, false, NULL, 0};
		assert_int_equal(gf_engine_fix(e, &fx, count_cb, NULL, NULL), GF_OK);
		gf_engine_free(e);
		points++;
	}
	print_message("# engine: %ld runs (failure armed at allocation 0..400), %ld fixes "
		      "refused with GF_ENOMEM, %d alerts delivered\n", points,
		      enomem_total, cb_count);
	assert_true(enomem_total > 0);
	gf_zoneset_free(zs);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oom_zoneset_parse),
		cmocka_unit_test(test_oom_tz_parse),
		cmocka_unit_test(test_oom_engine_goes_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
