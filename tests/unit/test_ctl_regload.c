/*
 * test_ctl_regload: fleet registry files (ctl/ctl_regload.c) read and
 * checked: CSV through libcsv and JSON through jansson, every check at its
 * boundary (plate 32/33 bytes, cargo 7/8 bytes, phone 20/21 digits, route
 * ids 1..2147483647, 64 routes, 16 devices), and bad lines named by file,
 * line and column, with nothing returned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl/ctl_regload.h"

static int
parse(const char *name, const char *text, struct ctl_regfile *f, char *err, size_t cap)
{
	err[0] = 0;
	return ctl_regfile_parse(name, text, strlen(text), f, err, cap);
}

/* Parse text that must fail; the message must start with want. */
static void
bad(const char *name, const char *text, const char *want)
{
	struct ctl_regfile f;
	char err[512];

	if (parse(name, text, &f, err, sizeof err) == 0) {
		ctl_regfile_free(&f);
		fail_msg("accepted: %s", text);
	}
	assert_null(f.rows);
	assert_int_equal(f.n, 0);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error '%s', expected it to start with '%s'", err, want);
}

static void
csv_good(void **state)
{
	struct ctl_regfile f;
	char err[512];

	(void)state;
	assert_int_equal(parse("r.csv",
			       "\xef\xbb\xbf"
			       "devices,vehicle,un,hazard_class,carrier,routes,terminal_phone\n"
			       "jane:iphone; john:pixel ,晋A10001,1203,3,\"Taiyuan, Hazmat "
			       "Co\",8;9,014450376202\n"
			       "\n"
			       ",晋A10002,,,,,\n",
			       &f, err, sizeof err),
			 0);
	assert_int_equal(f.n, 2);
	const struct ctl_regrow *a = &f.rows[0], *b = &f.rows[1];
	assert_string_equal(a->vehicle, "晋A10001");
	assert_int_equal(a->line, 2);
	assert_string_equal(a->text[CTL_REG_UN], "1203");
	assert_string_equal(a->text[CTL_REG_CLASS], "3");
	assert_string_equal(a->text[CTL_REG_CARRIER], "Taiyuan, Hazmat Co");
	assert_string_equal(a->text[CTL_REG_PHONE], "014450376202");
	assert_null(a->text[CTL_REG_DRIVER]);
	assert_int_equal(a->nroutes, 2);
	assert_int_equal(a->routes[0], 8);
	assert_int_equal(a->routes[1], 9);
	assert_int_equal(a->ndevices, 2);
	assert_string_equal(a->devices[0], "jane:iphone");
	assert_string_equal(a->devices[1], "john:pixel");
	/* driver is not a column: not given, so kept as stored */
	assert_false(a->has & (1u << CTL_REG_DRIVER));
	assert_true(a->has & (1u << CTL_REG_CARRIER));
	/* empty fields: given, no value (cleared) */
	assert_int_equal(b->line, 4);
	assert_true(b->has & (1u << CTL_REG_UN));
	assert_null(b->text[CTL_REG_UN]);
	assert_int_equal(b->nroutes, 0);
	assert_int_equal(b->ndevices, 0);
	ctl_regfile_free(&f);
}

static void
csv_boundaries(void **state)
{
	struct ctl_regfile f;
	char err[512], text[4096];
	/* 32 bytes: 10 CJK characters (30 bytes) and 2 ASCII */
	const char *p32 = "晋晋晋晋晋晋晋晋晋晋AB";

	(void)state;
	snprintf(text, sizeof text,
		 "vehicle,un,hazard_class,terminal_phone,routes\n"
		 "%s,1234567,1.4S,01234567890123456789,1;2147483647\n",
		 p32);
	assert_int_equal(parse("b.csv", text, &f, err, sizeof err), 0);
	assert_int_equal(strlen(f.rows[0].vehicle), 32);
	assert_int_equal(f.rows[0].routes[1], 2147483647);
	ctl_regfile_free(&f);

	snprintf(text, sizeof text, "vehicle\n%sC\n", p32);
	bad("b.csv", text, "b.csv:2: column 1 (vehicle): ");
	bad("b.csv", "vehicle,un\nA1,12345678\n", "b.csv:2: column 2 (un): ");
	bad("b.csv", "vehicle,un\nA1,12 3\n", "b.csv:2: column 2 (un): ");
	bad("b.csv", "vehicle,hazard_class\nA1,三\n", "b.csv:2: column 2 (hazard_class): ");
	bad("b.csv", "vehicle,terminal_phone\nA1,012345678901234567890\n",
	    "b.csv:2: column 2 (terminal_phone): ");
	bad("b.csv", "vehicle,terminal_phone\nA1,0123a\n", "b.csv:2: column 2 (terminal_phone): ");
	bad("b.csv", "vehicle,routes\nA1,0\n", "b.csv:2: column 2 (routes): ");
	bad("b.csv", "vehicle,routes\nA1,2147483648\n", "b.csv:2: column 2 (routes): ");
	bad("b.csv", "vehicle,routes\nA1,8;x\n", "b.csv:2: column 2 (routes): ");
	bad("b.csv", "vehicle,devices\nA1,a/b\n", "b.csv:2: column 2 (devices): ");
	bad("b.csv", "vehicle,devices\nA1,d1;d1\n", "b.csv:2: column 2 (devices): ");
	bad("b.csv", "vehicle\nA+1\n", "b.csv:2: column 1 (vehicle): ");
	bad("b.csv", "un,vehicle\n1203,\n", "b.csv:2: column 2 (vehicle): ");

	/* 64 routes and 16 devices fit; one more does not */
	char *p = text;
	p += sprintf(p, "vehicle,routes,devices\nA1,");
	for (int i = 1; i <= 64; i++)
		p += sprintf(p, "%d;", i);
	p += sprintf(p, ",");
	for (int i = 1; i <= 16; i++)
		p += sprintf(p, "u:d%d;", i);
	sprintf(p, "\n");
	assert_int_equal(parse("b.csv", text, &f, err, sizeof err), 0);
	assert_int_equal(f.rows[0].nroutes, 64);
	assert_int_equal(f.rows[0].ndevices, 16);
	ctl_regfile_free(&f);
	p = strchr(text, ',') + 1; /* after "vehicle," */
	p = strstr(text, "64;");
	memmove(p + 3, p, strlen(p) + 1);
	memcpy(p, "65;", 3);
	bad("b.csv", text, "b.csv:2: column 2 (routes): ");
}

static void
csv_bad_lines(void **state)
{
	(void)state;
	bad("x.csv", "vehicle,colour\nA1,red\n", "x.csv:1: column 2: unknown column 'colour'");
	bad("x.csv", "vehicle,un,un\nA1,1,2\n", "x.csv:1: column 3: repeated column 'un'");
	bad("x.csv", "un,carrier\n1203,x\n", "x.csv:1: the header has no column 'vehicle'");
	bad("x.csv", "vehicle,un\nA1,1203\nA2\n", "x.csv:3: 1 fields, the header has 2");
	bad("x.csv", "vehicle,un\nA1,1203\nA2,1203,3\n", "x.csv:3: 3 fields, the header has 2");
	bad("x.csv", "vehicle,un\nA1,\"12\"03\n", "x.csv:2: ");
	bad("x.csv", "vehicle,un\nA1,\"1203\n", "x.csv:");
	bad("x.csv", "vehicle,un\nA1,1203\nA2,1005\nA1,1203\n",
	    "x.csv:4: column 1 (vehicle): vehicle 'A1' is registered twice");
	bad("x.csv", "vehicle,devices\nA1,j:p\nA2,k:q;j:p\n",
	    "x.csv:3: column 2 (devices): device 'j:p' is mapped twice");
	bad("x.csv", "", "x.csv: empty");
	bad("x.csv", "vehicle,un\n", "x.csv: no vehicles");
	bad("x.csv", "vehicle,carrier\nA1,\"a\x01\"\n", "x.csv:2: column 2 (carrier): ");
	bad("x.csv", "vehicle,carrier\nA1,\"\xff\xfe\"\n", "x.csv:2: column 2 (carrier): ");
}

static void
json_lines(void **state)
{
	struct ctl_regfile f;
	char err[512];

	(void)state;
	assert_int_equal(parse("r.json",
			       "{\"vehicle\":\"晋A1\",\"un\":\"1203\",\"hazard_class\":\"3\","
			       "\"routes\":[8],\"devices\":[\"jane:iphone\"],\"driver\":null}\n"
			       "\n"
			       "{\"vehicle\":\"晋A2\",\"terminal_phone\":\"013800000000\"}\n",
			       &f, err, sizeof err),
			 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.array, 0);
	assert_int_equal(f.rows[1].line, 3);
	assert_string_equal(f.rows[0].devices[0], "jane:iphone");
	assert_true(f.rows[0].has & (1u << CTL_REG_DRIVER));
	assert_null(f.rows[0].text[CTL_REG_DRIVER]);
	assert_false(f.rows[1].has & (1u << CTL_REG_UN));
	ctl_regfile_free(&f);

	assert_int_equal(parse("r.json",
			       "[{\"vehicle\":\"A\"},{\"vehicle\":\"B\",\"routes\":[1,2]}]", &f,
			       err, sizeof err),
			 0);
	assert_int_equal(f.array, 1);
	assert_int_equal(f.rows[1].line, 2);
	ctl_regfile_free(&f);

	bad("r.json", "{\"vehicle\":\"A\"}\n{\"vehicle\":\"B\",\"colour\":\"red\"}\n",
	    "r.json:2: vehicle: unknown member 'colour'");
	bad("r.json", "{\"vehicle\":\"A\",\"routes\":8}\n", "r.json:1: routes: not an array");
	bad("r.json", "{\"vehicle\":\"A\",\"routes\":[0]}\n", "r.json:1: routes: ");
	bad("r.json", "{\"vehicle\":\"A\",\"un\":1203}\n", "r.json:1: un: not a string");
	bad("r.json", "{\"vehicle\":\"A\"}\n{\"vehicle\":\"B\",\n", "r.json:2: column ");
	bad("r.json", "{\"un\":\"1203\"}\n", "r.json:1: vehicle: the member 'vehicle' is missing");
	bad("r.json", "[{\"vehicle\":\"A\"},{\"vehicle\":\"B\",\"un\":\"toolong1\"}]",
	    "r.json: item 2: un: ");
	bad("r.json", "[1]", "r.json: item 1: vehicle: not a JSON object");
	/* the format by content when the name says nothing */
	bad("regfile", "{\"vehicle\":\"A\",\"un\":\"toolong1\"}\n", "regfile:1: un: ");
	bad("regfile", "vehicle,un\nA,toolong1\n", "regfile:2: column 2 (un): ");
}

static void
registry_tables(void **state)
{
	struct decide_registry *r = decide_registry_new();
	struct decide_vehicle v;
	char why[160];
	int64_t routes[] = { 9, 8, 9 };

	(void)state;
	assert_non_null(r);
	assert_int_equal(decide_registry_add(r, "晋A1", "1203", "3", routes, 3, why, sizeof why),
			 DECIDE_REG_OK);
	assert_int_equal(decide_registry_add(r, "晋A1", NULL, NULL, NULL, 0, why, sizeof why),
			 DECIDE_REG_EEXIST);
	assert_int_equal(decide_registry_add(r, "A2", "", "toolong1", NULL, 0, why, sizeof why),
			 DECIDE_REG_EINVAL);
	assert_int_equal(decide_registry_add_row(r, "A3", NULL, NULL, "8", "12,7", why, sizeof why),
			 DECIDE_REG_OK);
	assert_int_equal(decide_registry_add_row(r, "A4", NULL, NULL, NULL, "12,,7", why,
						 sizeof why),
			 DECIDE_REG_EINVAL);
	assert_int_equal(decide_registry_add_row(r, "A4", NULL, NULL, NULL, "12,", why, sizeof why),
			 DECIDE_REG_EINVAL);
	assert_int_equal(decide_registry_add_row(r, "晋A1", "jane:iphone", NULL, NULL, NULL, why,
						 sizeof why),
			 DECIDE_REG_OK);
	assert_int_equal(decide_registry_add_device(r, "jane:iphone", "A3", why, sizeof why),
			 DECIDE_REG_EEXIST);
	assert_true(decide_registry_vehicle(r, "晋A1", &v));
	assert_string_equal(v.un, "1203");
	assert_string_equal(v.hazard_class, "3");
	assert_int_equal(v.nroutes, 2);
	assert_int_equal(v.routes[0], 8);
	assert_int_equal(v.routes[1], 9);
	assert_true(decide_registry_vehicle(r, "A3", &v));
	assert_null(v.un);
	assert_string_equal(v.hazard_class, "8");
	assert_int_equal(v.routes[0], 7);
	assert_false(decide_registry_vehicle(r, "A2", &v));
	assert_string_equal(decide_registry_device(r, "jane:iphone"), "晋A1");
	assert_null(decide_registry_device(r, "john:iphone"));

	/* Many: every entry found after the tables grew. */
	char name[40];
	for (int i = 0; i < 100000; i++) {
		snprintf(name, sizeof name, "V%06d", i);
		assert_int_equal(decide_registry_add(r, name, i % 2 ? "1203" : NULL, "3", NULL, 0,
						     why, sizeof why),
				 DECIDE_REG_OK);
	}
	for (int i = 0; i < 100000; i++) {
		snprintf(name, sizeof name, "V%06d", i);
		assert_true(decide_registry_vehicle(r, name, &v));
		assert_true(i % 2 ? v.un != NULL : v.un == NULL);
	}
	assert_int_equal(decide_registry_vehicles(r), 100002);
	assert_true(decide_registry_memory(r) < 100002 * 64);
	decide_registry_free(r);
}

/* The gateway's text (sch_registry_query): lines of five tab-separated
 * fields; a bad line is skipped and counted, the rest loaded. */
static void
registry_text(void **state)
{
	static const char text[] = "晋A1\t\t1203\t3\t8,9\n"
				   "晋A1\tjane:iphone\t\t\t\n"
				   "bad line without tabs\n"
				   "A2\t\t12345678\t3\t\n"
				   "A3\t\t\t8\t\t\n"
				   "A4\t\t\t8\t\n"
				   "A1b\t\t\t2.1\t7";
	struct decide_registry *r = decide_registry_new();
	struct decide_vehicle v;
	size_t skipped;
	char why[160];

	(void)state;
	assert_int_equal(decide_registry_load_text(r, text, strlen(text), &skipped, why, sizeof why),
			 DECIDE_REG_OK);
	assert_int_equal(skipped, 3);
	assert_string_equal(why, "a line of 21 bytes is not 5 fields");
	assert_int_equal(decide_registry_vehicles(r), 3);
	assert_true(decide_registry_vehicle(r, "晋A1", &v));
	assert_int_equal(v.nroutes, 2);
	assert_string_equal(decide_registry_device(r, "jane:iphone"), "晋A1");
	assert_true(decide_registry_vehicle(r, "A1b", &v));
	assert_string_equal(v.hazard_class, "2.1");
	assert_int_equal(v.routes[0], 7);
	assert_false(decide_registry_vehicle(r, "A2", &v));
	assert_false(decide_registry_vehicle(r, "A3", &v));
	/* after the trim, more can be added */
	assert_int_equal(decide_registry_add(r, "A5", "1203", NULL, NULL, 0, why, sizeof why),
			 DECIDE_REG_OK);
	assert_true(decide_registry_vehicle(r, "A5", &v));
	assert_true(decide_registry_vehicle(r, "晋A1", &v));
	assert_string_equal(v.un, "1203");
	assert_int_equal(decide_registry_load_text(r, "", 0, &skipped, why, sizeof why),
			 DECIDE_REG_OK);
	assert_int_equal(skipped, 0);
	decide_registry_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csv_good),        cmocka_unit_test(csv_boundaries),
		cmocka_unit_test(csv_bad_lines),   cmocka_unit_test(json_lines),
		cmocka_unit_test(registry_tables), cmocka_unit_test(registry_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
