/*
 * ctl_regload.h: fleet registry files (hazgate-ctl vehicles import, replay
 * --vehicles): CSV read with libcsv, JSON with jansson, every row checked
 * before anything is written. No I/O, no database: the caller reads the
 * file and checks routes against the zones it knows.
 *
 * CSV: a header line naming the columns (any order, `vehicle` required):
 * vehicle, un, hazard_class, carrier, driver, terminal_phone, routes,
 * devices; routes and devices are lists separated by ';'. An empty field
 * is no value (NULL). A column left out of the header leaves that value as
 * it is in the database.
 * JSON: one object per line, or an array of objects, with those members
 * (routes an array of integers, devices an array of strings, null for no
 * value); a member left out leaves the value as it is.
 */
#ifndef HAZGATE_CTL_REGLOAD_H
#define HAZGATE_CTL_REGLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "decide/decide_registry.h"
#include "ingest/ingest.h"

/* The fields of a row, as bits of ctl_regrow.has (the column numbers of
 * ctl_reg_field_names, from 0). */
enum ctl_reg_field {
	CTL_REG_VEHICLE = 0,
	CTL_REG_UN,
	CTL_REG_CLASS,
	CTL_REG_CARRIER,
	CTL_REG_DRIVER,
	CTL_REG_PHONE,
	CTL_REG_ROUTES,
	CTL_REG_DEVICES,
	CTL_REG_NFIELDS
};

#define CTL_REG_DEVICES_MAX 16  /* devices per vehicle */
#define CTL_REG_TEXT_MAX    200 /* bytes of carrier, driver */
#define CTL_REG_PHONE_MAX   20  /* digits of a terminal phone (JT/T 808 BCD) */

/* "vehicle", "un", "hazard_class", "carrier", "driver", "terminal_phone",
 * "routes", "devices". */
extern const char *const ctl_reg_field_names[CTL_REG_NFIELDS];

/* One vehicle's registry values. Strings are NUL-terminated and owned by
 * the row (NULL: no value); a field whose bit is not in `has` was not
 * given. */
struct ctl_regrow {
	unsigned line;                 /* its line in the file (a JSON array: item, from 1) */
	unsigned col[CTL_REG_NFIELDS]; /* CSV: each field's column, from 1 */
	unsigned has;                  /* 1u << enum ctl_reg_field */
	char vehicle[ING_VEHICLE_MAX + 1];
	char *text[CTL_REG_NFIELDS]; /* un, hazard_class, carrier, driver,
	                                   terminal_phone (others NULL) */
	int64_t routes[DECIDE_REG_ROUTES_MAX];
	size_t nroutes;
	char *devices[CTL_REG_DEVICES_MAX];
	size_t ndevices;
};

struct ctl_regfile {
	struct ctl_regrow *rows;
	size_t n;
	int array; /* JSON array: rows' line is the item */
};

/*
 * Parse and check a registry file (text of len bytes; name for messages
 * and the format: ".csv" CSV, ".json"/".ndjson" JSON, else JSON when the
 * first character is '{' or '[', else CSV). Every row is checked
 * (ctl_regrow_check), and no vehicle or device may appear twice. Returns
 * 0 and *out (free with ctl_regfile_free), or -1 with one line in err:
 * "NAME:LINE: column C (FIELD): what" (CSV), "NAME:LINE: FIELD: what"
 * (JSON lines), "NAME: item N: FIELD: what" (a JSON array).
 */
int ctl_regfile_parse(const char *name, const char *text, size_t len, struct ctl_regfile *out,
		      char *err, size_t cap);
void ctl_regfile_free(struct ctl_regfile *f);

/*
 * Check one row's values: vehicle (ingest's vehicle rule: 1..32 bytes of
 * UTF-8, as the vehicles table's CHECK, no control characters, no '+',
 * '#', '/'), un and hazard_class (ingest's cargo rule), carrier and driver
 * (valid UTF-8 without control characters, at most CTL_REG_TEXT_MAX
 * bytes), terminal_phone (1..20 digits), routes (1..2147483647, at most
 * DECIDE_REG_ROUTES_MAX), devices (vehicle names, at most
 * CTL_REG_DEVICES_MAX, none twice). Returns -1 with *field (the enum
 * ctl_reg_field at fault) and err, or 0.
 */
int ctl_regrow_check(const struct ctl_regrow *row, int *field, char *err, size_t cap);

/* Parse a route id ("12"): 0 and *id, or -1. */
int ctl_reg_route_parse(const char *s, int64_t *id);

/* Free a row's strings (not the row). */
void ctl_regrow_clear(struct ctl_regrow *row);

#endif
