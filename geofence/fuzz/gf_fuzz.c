/*
 * gf_fuzz.c - libFuzzer target for every decoder in geofence/ (make fuzz).
 *
 * The first input byte picks the decoder, the rest is its input:
 *   0 zone GeoJSON (gf_zoneset_parse; on success export + re-parse, which
 *     must succeed with the same count, and a few fixes through an engine)
 *   1 TZif bytes (gf_tz_parse, then offsets at sample instants)
 *   2 POSIX TZ rule (gf_tz_from_posix)
 *   3 vehicle state blob (gf_engine_state_load; on success save must give
 *     the same bytes back, and a fix must go through)
 *   4 RFC 3339 time (gf_time_parse; on success format and parse again)
 * Crashes, leaks, UB and failed round trips (abort) are findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geofence/geofence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
cstr(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);
	if (s == NULL)
		abort();
	memcpy(s, d, n);
	s[n] = '\0';
	return s;
}

static void
fuzz_zones(const uint8_t *d, size_t n)
{
	gf_zoneset *zs = NULL, *zs2 = NULL;
	char err[256];
	if (gf_zoneset_parse((const char *)d, n, &zs, err, sizeof err) != GF_OK)
		return;
	char *ex = gf_zoneset_export(zs);
	if (ex == NULL || gf_zoneset_parse(ex, strlen(ex), &zs2, err, sizeof err) ||
	    gf_zoneset_count(zs2) != gf_zoneset_count(zs))
		abort();
	struct gf_options opt;
	gf_options_default(&opt);
	gf_engine *e = NULL;
	if (gf_engine_new(&opt, zs, NULL, &e) == GF_OK) {
		for (size_t i = 0; i < gf_zoneset_count(zs) && i < 8; i++) {
			struct gf_zone_info zi;
			gf_zoneset_zone(zs, i, &zi);
			(void)gf_zoneset_distance_outside(zs, i, 37.8, 112.5);
		}
		for (int k = 0; k < 16; k++) {
			struct gf_fix fx = {"V", 1565395200000000LL + k * 60000000LL,
					    -80 + k * 10.5, -170 + k * 21.3, true, k * 9.0, "3"};
			gf_engine_fix(e, &fx, NULL, NULL, NULL);
		}
		gf_engine_set_zones(e, zs2);
		struct gf_fix fx = {"V", 1565399200000000LL, 37.8, 112.5, false, 0, NULL};
		gf_engine_fix(e, &fx, NULL, NULL, NULL);
		gf_engine_free(e);
	}
	free(ex);
	gf_zoneset_free(zs2);
	gf_zoneset_free(zs);
}

static void
fuzz_tz(const uint8_t *d, size_t n)
{
	gf_tz *tz = NULL;
	if (gf_tz_parse(d, n, &tz) != GF_OK)
		return;
	for (int64_t t = -4000000000LL; t < 8000000000LL; t += 123456789)
		(void)gf_tz_offset(tz, t, NULL);
	gf_tz_free(tz);
}

static void
fuzz_posix(const uint8_t *d, size_t n)
{
	char *s = cstr(d, n);
	gf_tz *tz = NULL;
	if (gf_tz_from_posix(s, &tz) == GF_OK) {
		for (int64_t t = -4000000000LL; t < 8000000000LL; t += 12345678)
			(void)gf_tz_offset(tz, t, NULL);
		gf_tz_free(tz);
	}
	free(s);
}

static void
fuzz_blob(const uint8_t *d, size_t n)
{
	struct gf_options opt;
	gf_options_default(&opt);
	gf_engine *e = NULL;
	if (gf_engine_new(&opt, NULL, NULL, &e) != GF_OK)
		return;
	if (gf_engine_state_load(e, "V", d, n) == GF_OK) {
		/* version 2 saves as it was; version 1 saves as version 2, with
		 * the rules' 33 bytes (zero) after the 32-byte head */
		size_t want = d[4] == 1 ? n + 33 : n;
		uint8_t *b = malloc(want);
		size_t len = 0;
		if (b == NULL || gf_engine_state_save(e, "V", b, want, &len) != GF_OK ||
		    len != want)
			abort();
		if (d[4] == 1 ? memcmp(b + 5, d + 5, 27) != 0 ||
					memcmp(b + 65, d + 32, n - 36) != 0
			      : memcmp(b, d, n) != 0)
			abort();
		free(b);
		struct gf_fix fx = {"V", 1565395200000000LL, 37.8, 112.5, true, 50, NULL,
				    0, true, 1};
		gf_engine_fix(e, &fx, NULL, NULL, NULL);
		gf_engine_tick(e, 1565399200000000LL, NULL, NULL);
	}
	gf_engine_free(e);
}

static void
fuzz_time(const uint8_t *d, size_t n)
{
	char *s = cstr(d, n);
	int64_t us, us2;
	if (gf_time_parse(s, &us) == GF_OK) {
		char b[25];
		gf_time_format(us, b);
		if (gf_time_parse(b, &us2) != GF_OK || us2 / 1000 != us / 1000 -
		    (us % 1000 < 0))
			abort();
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0: fuzz_zones(data + 1, size - 1); break;
	case 1: fuzz_tz(data + 1, size - 1); break;
	case 2: fuzz_posix(data + 1, size - 1); break;
	case 3: fuzz_blob(data + 1, size - 1); break;
	case 4: fuzz_time(data + 1, size - 1); break;
	}
	return 0;
}
