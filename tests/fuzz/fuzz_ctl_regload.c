/*
 * fuzz_ctl_regload.c - libFuzzer target for the fleet registry's readers:
 * hazgate-ctl's registry files (ctl/ctl_regload.c: CSV through libcsv,
 * JSON through jansson, every check) and the gateway's rows of
 * registry_feed (decide_registry_add_row(), the routes text).
 *
 * Input: the first byte chooses the file name the format follows from
 * (0: "f.csv", 1: "f.json", else "f": by content); the rest is the file.
 * The same bytes are also loaded as the gateway's registry text
 * (decide_registry_load_text()) and given to decide_registry_add_row() as
 * a routes text and as a vehicle name. Aborts when a result breaks the contract:
 * an accepted file has rows that all pass ctl_regrow_check() and no
 * vehicle twice; a refused one returns nothing and names the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_regload.h"
#include "decide/decide_registry.h"

static void
check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "f.csv", "f.json", "f" };
	struct ctl_regfile f;
	char err[512];

	if (size < 1)
		return 0;
	const char *name = names[data[0] < 2 ? data[0] : 2];
	const char *text = (const char *)data + 1;
	size_t len = size - 1;

	err[0] = 0;
	if (ctl_regfile_parse(name, text, len, &f, err, sizeof err) == 0) {
		check(f.n > 0);
		struct decide_registry *r = decide_registry_new();
		check(r != NULL);
		for (size_t i = 0; i < f.n; i++) {
			int field;
			char why[256];
			check(ctl_regrow_check(&f.rows[i], &field, why, sizeof why) == 0);
			check(decide_registry_add(r, f.rows[i].vehicle, f.rows[i].text[CTL_REG_UN],
						  f.rows[i].text[CTL_REG_CLASS], f.rows[i].routes,
						  f.rows[i].nroutes, why, sizeof why) == DECIDE_REG_OK);
		}
		decide_registry_free(r);
		ctl_regfile_free(&f);
	} else {
		check(f.rows == NULL && f.n == 0);
		check(strncmp(err, name, strlen(name)) == 0 || strstr(err, "out of memory"));
	}

	/* The gateway's load: the same bytes as sch_registry_query's text. */
	struct decide_registry *t = decide_registry_new();
	size_t skipped;
	char twhy[160];
	check(t != NULL);
	check(decide_registry_load_text(t, text, len, &skipped, twhy, sizeof twhy) == DECIDE_REG_OK);
	check(skipped == 0 || twhy[0]);
	decide_registry_free(t);

	/* One row: routes text and names from the database. */
	char *s = malloc(len + 1);
	check(s != NULL);
	memcpy(s, text, len);
	s[len] = 0;
	struct decide_registry *r = decide_registry_new();
	struct decide_vehicle v;
	char why[160];
	check(r != NULL);
	if (decide_registry_add_row(r, "V1", NULL, NULL, "3", s, why, sizeof why) == DECIDE_REG_OK) {
		check(decide_registry_vehicle(r, "V1", &v));
		for (size_t i = 1; i < v.nroutes; i++)
			check(v.routes[i - 1] < v.routes[i]);
	}
	if (decide_registry_add_row(r, s, "u:d", NULL, NULL, NULL, why, sizeof why) ==
	    DECIDE_REG_OK)
		check(strcmp(decide_registry_device(r, "u:d"), s) == 0);
	decide_registry_free(r);
	free(s);
	return 0;
}
