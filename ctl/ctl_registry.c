/*
 * ctl_registry.c: the fleet registry's commands (schema 010):
 *
 *   hazgate-ctl vehicles import FILE.csv|FILE.json
 *   hazgate-ctl vehicles set PLATE [--un X] [--class X] [--carrier X] [--driver X]
 *                            [--terminal-phone X] [--route ID]... [--device ID]...
 *   hazgate-ctl vehicles show PLATE
 *   hazgate-ctl vehicles --never-seen        (ctl_vehicles.c calls ctl_registry_list)
 *
 * A file is read and checked whole (ctl_regload.c) and its routes checked
 * against the corridor zones stored, before anything is written; then
 * every row goes through hazgate_vehicle_set() in one transaction, sent in
 * libpq's pipeline mode (one round trip per 512 rows, and the failing
 * row still known by its place). Any refusal rolls the whole import back.
 */
#include "ctl/ctl.h"
#include "ctl/ctl_registry.h"
#include "ctl/ctl_regload.h"
#include "common/hz_file.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PIPELINE_ROWS 512

/* ---- SQL array literals -------------------------------------------------- */

/* Append s to buf (cap bytes, used so far *n) as a quoted array element. */
static int
arr_text(char **buf, size_t *cap, size_t *n, const char *s)
{
	size_t need = *n + 2 * strlen(s) + 4;

	if (need > *cap) {
		size_t nc = need * 2;
		char *nb = realloc(*buf, nc);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = nc;
	}
	(*buf)[(*n)++] = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			(*buf)[(*n)++] = '\\';
		(*buf)[(*n)++] = *s;
	}
	(*buf)[(*n)++] = '"';
	(*buf)[*n] = 0;
	return 0;
}

/* The row's routes as "{8,9}" and devices as "{\"a\",\"b\"}" (malloc'd). */
static int
row_arrays(const struct ctl_regrow *row, char **routes, char **devices)
{
	size_t cap = 64, n = 1;
	char *d = malloc(cap);
	char *r = malloc(row->nroutes * 12 + 3);

	*routes = r;
	*devices = d;
	if (!r || !d)
		return -1;
	strcpy(r, "{");
	for (size_t i = 0; i < row->nroutes; i++)
		sprintf(r + strlen(r), "%s%" PRId64, i ? "," : "", row->routes[i]);
	strcat(r, "}");
	strcpy(d, "{");
	for (size_t i = 0; i < row->ndevices; i++) {
		if (i)
			d[n++] = ',';
		if (arr_text(devices, &cap, &n, row->devices[i]))
			return -1;
		d = *devices;
	}
	if (n + 2 > cap) {
		char *nd = realloc(d, n + 2);
		if (!nd)
			return -1;
		*devices = d = nd;
	}
	d[n++] = '}';
	d[n] = 0;
	return 0;
}

/* ---- routes against the stored zones --------------------------------- */

/* Each route of each row must be a corridor zone stored now. Returns 0, or
 * -1 after printing "WHERE: route N ..." (where() gives the row's place). */
static int
check_routes(PGconn *conn, const char *cmd, struct ctl_regrow *rows, size_t n,
	     void (*where)(const struct ctl_regrow *, char *, size_t, const void *),
	     const void *warg)
{
	bool any = false;

	for (size_t i = 0; i < n && !any; i++)
		any = rows[i].nroutes > 0;
	if (!any)
		return 0;
	PGresult *res = ctl_query(conn, cmd, "SELECT id, kind FROM zones ORDER BY id", 0, NULL);
	if (!res)
		return -1;
	int nz = PQntuples(res), rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		for (size_t k = 0; k < rows[i].nroutes && rc == 0; k++) {
			int lo = 0, hi = nz;
			int64_t id = rows[i].routes[k];
			while (lo < hi) {
				int mid = lo + (hi - lo) / 2;
				if (ctl_field_i64(res, mid, 0) < id)
					lo = mid + 1;
				else
					hi = mid;
			}
			const char *kind = lo < nz && ctl_field_i64(res, lo, 0) == id
						   ? PQgetvalue(res, lo, 1)
						   : NULL;
			if (kind && !strcmp(kind, "corridor"))
				continue;
			char w[256];
			where(&rows[i], w, sizeof w, warg);
			if (kind)
				ctl_error(cmd,
					  "%s: route %" PRId64 " is a %s zone, not a corridor; "
					  "nothing was changed",
					  w, id, kind);
			else
				ctl_error(
					cmd,
					"%s: route %" PRId64 " is no zone (import the corridor "
					"with hazgate-ctl zones import first); nothing was changed",
					w, id);
			rc = -1;
		}
	PQclear(res);
	return rc;
}

/* ---- writing ------------------------------------------------------------ */

static const char sql_set[] = "SELECT hazgate_vehicle_set($1, $2::integer, $3, $4, $5, $6, $7, "
			      "$8::integer[], $9::text[])";

static int
send_row(PGconn *conn, const struct ctl_regrow *row)
{
	char has[16], *routes = NULL, *devices = NULL;
	int ok;

	snprintf(has, sizeof has, "%u", row->has);
	if (row_arrays(row, &routes, &devices)) {
		free(routes);
		free(devices);
		return 0;
	}
	const char *p[9] = { row->vehicle,
			     has,
			     row->text[CTL_REG_UN],
			     row->text[CTL_REG_CLASS],
			     row->text[CTL_REG_CARRIER],
			     row->text[CTL_REG_DRIVER],
			     row->text[CTL_REG_PHONE],
			     routes,
			     devices };
	ok = PQsendQueryParams(conn, sql_set, 9, NULL, p, NULL, NULL, 0);
	free(routes);
	free(devices);
	return ok;
}

/*
 * Write rows[0..n) in one transaction. Returns CTL_OK with *added and
 * *updated, or CTL_EFAIL after printing the server's message under the
 * failing row's place (where()); nothing is then written.
 */
static int
write_rows(PGconn *conn, const char *cmd, const struct ctl_regrow *rows, size_t n, size_t *added,
	   size_t *updated, void (*where)(const struct ctl_regrow *, char *, size_t, const void *),
	   const void *warg)
{
	PGresult *res = ctl_query(conn, cmd, "BEGIN", 0, NULL);
	size_t bad = n;
	char msg[1024] = "";

	if (!res)
		return CTL_EFAIL;
	PQclear(res);
	*added = *updated = 0;
	if (!PQenterPipelineMode(conn)) {
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
		goto fail;
	}
	for (size_t base = 0; base < n && bad == n; base += PIPELINE_ROWS) {
		size_t end = base + PIPELINE_ROWS < n ? base + PIPELINE_ROWS : n;
		for (size_t i = base; i < end; i++)
			if (!send_row(conn, &rows[i])) {
				snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
				PQexitPipelineMode(conn);
				goto fail;
			}
		if (!PQpipelineSync(conn)) {
			snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
			goto fail;
		}
		for (size_t i = base; i < end; i++) {
			PGresult *r = PQgetResult(conn);
			if (!r) {
				snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
				bad = i;
				break;
			}
			if (PQresultStatus(r) == PGRES_TUPLES_OK) {
				if (!strcmp(PQgetvalue(r, 0, 0), "t"))
					++*added;
				else
					++*updated;
			} else if (bad == n && PQresultStatus(r) != PGRES_PIPELINE_ABORTED) {
				/* The server's message and detail, without the
				 * function's text that CONTEXT would add. */
				const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
				const char *d = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
				bad = i;
				snprintf(msg, sizeof msg, "%s%s%s", m ? m : PQresultErrorMessage(r),
					 d ? ": " : "", d ? d : "");
			}
			PQclear(r);
			while ((r = PQgetResult(conn)))
				PQclear(r);
		}
		for (PGresult *r; (r = PQgetResult(conn));) { /* the sync */
			ExecStatusType st = PQresultStatus(r);
			PQclear(r);
			if (st == PGRES_PIPELINE_SYNC)
				break;
		}
	}
	PQexitPipelineMode(conn);
	if (bad < n)
		goto fail;
	res = ctl_query(conn, cmd, "COMMIT", 0, NULL);
	if (!res)
		goto fail_quiet;
	PQclear(res);
	return CTL_OK;
fail:
	for (char *e = msg + strlen(msg); e > msg && (e[-1] == '\n' || e[-1] == ' ');)
		*--e = 0;
	if (bad < n) {
		char w[256];
		where(&rows[bad], w, sizeof w, warg);
		ctl_error(cmd, "%s: %s", w, msg);
	} else {
		ctl_error(cmd, "%s", msg);
	}
fail_quiet:
	PQclear(PQexec(conn, "ROLLBACK"));
	fprintf(stderr, "hazgate-ctl %s: nothing was changed%s\n", cmd,
		strstr(msg, "permission denied") ? " (the registry needs the hazgate_admin role)"
						 : "");
	return CTL_EFAIL;
}

/* ---- vehicles import ----------------------------------------------------- */

struct fwhere {
	const char *path;
	const struct ctl_regfile *f;
};

static void
path_where(const struct ctl_regrow *row, char *buf, size_t cap, const void *arg)
{
	const struct fwhere *w = arg;

	if (w->f->array)
		snprintf(buf, cap, "%s: item %u (vehicle %s)", w->path, row->line, row->vehicle);
	else
		snprintf(buf, cap, "%s:%u: vehicle %s", w->path, row->line, row->vehicle);
}

int
ctl_registry_file(const char *cmd, const char *path, struct ctl_regfile *f)
{
	size_t len = 0;
	char err[512];
	char *text = hz_file_read(path, &len);

	if (!text) {
		ctl_error(cmd, "cannot read %s: %s", path, strerror(errno));
		return CTL_EUSAGE;
	}
	int r = ctl_regfile_parse(path, text, len, f, err, sizeof err);
	free(text);
	if (r) {
		ctl_error(cmd, "%s; nothing was changed", err);
		return CTL_EUSAGE;
	}
	return CTL_OK;
}

/* The common options and exactly one operand (a file, a plate): -1 and
 * *operand, or the exit code for the command to return. */
static int
one_operand(struct ctl_common *co, int argc, char **argv, const char *what, const char **operand)
{
	static const struct option longopts[] = { CTL_COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	static const struct ctl_optval opts[] = { { 0 } };
	int r = ctl_parse_options(co, argc, argv, longopts, opts, true);

	if (r >= 0)
		return r;
	if (optind != argc - 1)
		return ctl_usage_error(co->cmd, co->usage, "%s", what);
	*operand = argv[optind];
	return -1;
}

static const char import_usage[] = "vehicles import FILE.csv|FILE.json";

static int
import_main(int argc, char **argv)
{
	struct ctl_common co = {
		.cmd = "vehicles",
		.usage = import_usage,
		.help = "usage: hazgate-ctl vehicles import FILE.csv|FILE.json\n"
			"\n"
			"Adds or updates the vehicles of FILE in the fleet registry, in one\n"
			"transaction, once the whole file is checked. CSV: a header line naming\n"
			"the columns (vehicle, un, hazard_class, carrier, driver, terminal_phone,\n"
			"routes, devices; lists separated by ';'). JSON: one object per line, or\n"
			"an array. A column or member left out keeps the stored value; an empty\n"
			"one clears it. Needs the hazgate_admin role.\n",
		.formats = CTL_FMT_TABLE,
		.format = CTL_FMT_TABLE,
	};
	const char *path = NULL;
	int r = one_operand(&co, argc, argv, "import takes one file", &path);

	if (r >= 0)
		return r;
	struct ctl_regfile f;
	if ((r = ctl_registry_file(co.cmd, path, &f)) != CTL_OK)
		return r;
	PGconn *conn = ctl_connect(co.conninfo);
	if (!conn) {
		ctl_regfile_free(&f);
		return CTL_EFAIL;
	}
	struct fwhere w = { path, &f };
	size_t added = 0, updated = 0;
	if (check_routes(conn, co.cmd, f.rows, f.n, path_where, &w))
		r = CTL_EUSAGE;
	else
		r = write_rows(conn, co.cmd, f.rows, f.n, &added, &updated, path_where, &w);
	if (r == CTL_OK)
		printf("%zu vehicles in %s: %zu added, %zu updated\n", f.n, path, added, updated);
	ctl_regfile_free(&f);
	PQfinish(conn);
	return r;
}

/* ---- vehicles show / --never-seen ---------------------------------------- */

static const char sql_show[] =
	"SELECT v.vehicle, v.un, v.hazard_class, v.carrier, v.driver, v.terminal_phone,"
	"  to_json(v.routes),"
	"  (SELECT coalesce(json_agg(d.device ORDER BY d.device), '[]') FROM vehicle_devices d"
	"    WHERE d.vehicle = v.vehicle),"
	"  (SELECT floor(extract(epoch FROM p.ts) * 1000000)::int8 FROM positions p"
	"    WHERE p.vehicle = v.vehicle ORDER BY p.ts DESC LIMIT 1),"
	"  floor(extract(epoch FROM v.updated_at) * 1000000)::int8 "
	"FROM vehicles v "
	"WHERE ($1::text IS NOT NULL AND v.vehicle = $1)"
	"   OR ($1::text IS NULL AND NOT EXISTS (SELECT 1 FROM positions p"
	"                                        WHERE p.vehicle = v.vehicle)) "
	"ORDER BY v.vehicle";

int
ctl_registry_list(PGconn *conn, const struct ctl_common *co, const char *plate)
{
	static const struct ctl_column cols[] = {
		{ "vehicle", NULL, 0, 0 },
		{ "un", "UN", 0, 0 },
		{ "hazard_class", "CLASS", 0, 0 },
		{ "carrier", NULL, 0, 0 },
		{ "driver", NULL, 0, 0 },
		{ "terminal_phone", "TERMINAL", 0, 0 },
		{ "routes", NULL, 0, 0 },
		{ "devices", NULL, 0, 0 },
		{ "last_fix", NULL, CTL_COL_LOCALTIME, 0 },
		{ "updated_at", "UPDATED", CTL_COL_LOCALTIME, 0 },
	};
	const char *params[] = { plate };
	PGresult *res = ctl_query(conn, co->cmd, sql_show, 1, params);
	ctl_out *o = NULL;
	int rc = CTL_EFAIL;

	if (!res)
		return CTL_EFAIL;
	if (plate && PQntuples(res) == 0) {
		ctl_error(co->cmd, "no vehicle '%s' in the registry", plate);
		goto done;
	}
	o = ctl_out_new(co->format, cols, sizeof cols / sizeof cols[0], stdout, false);
	if (!o)
		goto done;
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *row = json_object();
		for (int c = 0; c < 6; c++)
			json_object_set_new(row, cols[c].key, ctl_json_text(res, i, c));
		json_object_set_new(row, "routes", ctl_json_parse(res, i, 6));
		json_object_set_new(row, "devices", ctl_json_parse(res, i, 7));
		json_object_set_new(row, "last_fix", ctl_json_time(res, i, 8));
		json_object_set_new(row, "updated_at", ctl_json_time(res, i, 9));
		ctl_out_row(o, row);
	}
	ctl_out_finish(o);
	rc = CTL_OK;
done:
	ctl_out_free(o);
	PQclear(res);
	return rc;
}

static const char show_usage[] = "vehicles show PLATE [--format table|json|csv]";

static int
show_main(int argc, char **argv)
{
	struct ctl_common co = {
		.cmd = "vehicles",
		.usage = show_usage,
		.help = "usage: hazgate-ctl vehicles show PLATE [--format table|json|csv]\n"
			"\n"
			"One vehicle's registry entry: cargo, carrier, driver, terminal phone,\n"
			"routes, OwnTracks devices, and its last stored fix.\n",
		.formats = CTL_FMT_TABLE | CTL_FMT_JSON | CTL_FMT_CSV,
		.format = CTL_FMT_TABLE,
	};
	const char *plate = NULL;
	int r = one_operand(&co, argc, argv, "show takes one plate", &plate);

	if (r >= 0)
		return r;
	PGconn *conn = ctl_connect(co.conninfo);
	if (!conn)
		return CTL_EFAIL;
	r = ctl_registry_list(conn, &co, plate);
	PQfinish(conn);
	return r;
}

/* ---- vehicles set ------------------------------------------------------ */

static const char set_usage[] =
	"vehicles set PLATE [--un X] [--class X] [--carrier X] [--driver X] "
	"[--terminal-phone X] [--route ID]... [--device ID]...";

static const char *const set_options[CTL_REG_NFIELDS] = {
	"PLATE",   "--un",     "--class", "--carrier", "--driver", "--terminal-phone",
	"--route", "--device",
};

static void
set_where(const struct ctl_regrow *row, char *buf, size_t cap, const void *arg)
{
	(void)arg;
	snprintf(buf, cap, "vehicle %s", row->vehicle);
}

static int
set_main(int argc, char **argv)
{
	enum {
		O_UN = CTL_OPT_FIRST_COMMAND,
		O_CLASS,
		O_CARRIER,
		O_DRIVER,
		O_PHONE,
		O_ROUTE,
		O_DEVICE
	};
	static const struct option longopts[] = {
		CTL_COMMON_LONGOPTS,
		{ "un", required_argument, NULL, O_UN },
		{ "class", required_argument, NULL, O_CLASS },
		{ "hazard-class", required_argument, NULL, O_CLASS },
		{ "carrier", required_argument, NULL, O_CARRIER },
		{ "driver", required_argument, NULL, O_DRIVER },
		{ "terminal-phone", required_argument, NULL, O_PHONE },
		{ "route", required_argument, NULL, O_ROUTE },
		{ "device", required_argument, NULL, O_DEVICE },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_common co = {
		.cmd = "vehicles",
		.usage = set_usage,
		.help = "usage: hazgate-ctl vehicles set PLATE [--un X] [--class X] [--carrier X]\n"
			"         [--driver X] [--terminal-phone X] [--route ID]... [--device "
			"ID]...\n"
			"\n"
			"Adds the vehicle to the fleet registry or changes the values given; an\n"
			"empty value clears one (--route '' clears the routes). --route (a "
			"corridor\n"
			"zone's id) and --device (an OwnTracks tracker, user:device) repeat, and\n"
			"replace the stored list. Prints the entry. Needs the hazgate_admin "
			"role.\n",
		.formats = CTL_FMT_TABLE | CTL_FMT_JSON | CTL_FMT_CSV,
		.format = CTL_FMT_TABLE,
	};
	struct ctl_regrow row;
	const char *plate = NULL;
	int c, rc = CTL_EUSAGE, field;
	char why[256];

	memset(&row, 0, sizeof row);
	optind = 0;
	opterr = 0;
	/* The plate may come first or after the options. */
	while ((c = getopt_long(argc, argv, "-" CTL_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int f = -1;
		switch (c) {
		case 1:
			if (plate) {
				rc = ctl_usage_error(co.cmd, co.usage, "unexpected argument '%s'",
						     optarg);
				goto done;
			}
			plate = optarg;
			continue;
		case O_UN:
			f = CTL_REG_UN;
			break;
		case O_CLASS:
			f = CTL_REG_CLASS;
			break;
		case O_CARRIER:
			f = CTL_REG_CARRIER;
			break;
		case O_DRIVER:
			f = CTL_REG_DRIVER;
			break;
		case O_PHONE:
			f = CTL_REG_PHONE;
			break;
		case O_ROUTE:
			f = CTL_REG_ROUTES;
			break;
		case O_DEVICE:
			f = CTL_REG_DEVICES;
			break;
		default: {
			int r = ctl_common_option(&co, c, argv);
			if (r >= 0) {
				rc = r;
				goto done;
			}
			continue;
		}
		}
		if (f == CTL_REG_ROUTES || f == CTL_REG_DEVICES) {
			row.has |= 1u << f;
			if (!*optarg)
				continue;
			if (f == CTL_REG_ROUTES) {
				int64_t id;
				if (ctl_reg_route_parse(optarg, &id)) {
					rc = ctl_usage_error(co.cmd, co.usage,
							     "--route: '%s' is not a zone id",
							     optarg);
					goto done;
				}
				if (row.nroutes == DECIDE_REG_ROUTES_MAX) {
					rc = ctl_usage_error(co.cmd, co.usage, "at most %d routes",
							     DECIDE_REG_ROUTES_MAX);
					goto done;
				}
				row.routes[row.nroutes++] = id;
			} else {
				if (row.ndevices == CTL_REG_DEVICES_MAX) {
					rc = ctl_usage_error(co.cmd, co.usage, "at most %d devices",
							     CTL_REG_DEVICES_MAX);
					goto done;
				}
				row.devices[row.ndevices++] = strdup(optarg);
			}
			continue;
		}
		if (row.has & (1u << f)) {
			rc = ctl_usage_error(co.cmd, co.usage, "%s is given twice", set_options[f]);
			goto done;
		}
		row.has |= 1u << f;
		free(row.text[f]);
		row.text[f] = *optarg ? strdup(optarg) : NULL;
	}
	if (!plate) {
		rc = ctl_usage_error(co.cmd, co.usage, "set needs a plate");
		goto done;
	}
	if (strlen(plate) > ING_VEHICLE_MAX) {
		rc = ctl_usage_error(co.cmd, co.usage, "plate '%s' is over %d bytes", plate,
				     ING_VEHICLE_MAX);
		goto done;
	}
	snprintf(row.vehicle, sizeof row.vehicle, "%s", plate);
	row.has |= 1u << CTL_REG_VEHICLE;
	for (size_t i = 0; i < row.ndevices; i++)
		if (!row.devices[i]) {
			ctl_error(co.cmd, "out of memory");
			rc = CTL_EFAIL;
			goto done;
		}
	if (ctl_regrow_check(&row, &field, why, sizeof why)) {
		rc = ctl_usage_error(co.cmd, co.usage, "%s: %s", set_options[field], why);
		goto done;
	}
	PGconn *conn = ctl_connect(co.conninfo);
	if (!conn) {
		rc = CTL_EFAIL;
		goto done;
	}
	size_t added, updated;
	if (check_routes(conn, co.cmd, &row, 1, set_where, NULL))
		rc = CTL_EUSAGE;
	else
		rc = write_rows(conn, co.cmd, &row, 1, &added, &updated, set_where, NULL);
	if (rc == CTL_OK)
		rc = ctl_registry_list(conn, &co, row.vehicle);
	PQfinish(conn);
done:
	ctl_regrow_clear(&row);
	return rc;
}

int
ctl_registry_main(int argc, char **argv)
{
	if (!strcmp(argv[0], "import"))
		return import_main(argc, argv);
	if (!strcmp(argv[0], "set"))
		return set_main(argc, argv);
	return show_main(argc, argv);
}
