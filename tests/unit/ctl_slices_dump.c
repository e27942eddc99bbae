/*
 * ctl_slices_dump.c: a helper of tests/integration/49-positions-compact.bats
 * (not a test of its own). Prints one vehicle's stored fixes as
 * ctl_slices_fetch() decodes them, one line each, every field exact, in
 * the form of the SQL the test compares it with:
 *
 *   ctl_slices_dump CONNINFO VEHICLE FROM_US TO_US
 *     ts_us|lat|lon|speed|heading|alt|hdop (float8send/float4send hex)|
 *     fix|sats|un|hazard_class|seq|ignition (t/f)|zone_ids ({1,2})|
 *     received_at_us|alarms|lat|lon|speed|heading|alt|hdop (as text)
 *   NULL as \N.
 *
 *   ctl_slices_dump --floats
 *     reads lines "8 HEX" (float8 bytes) or "4 HEX" (float4) and prints
 *     ctl_float8_text / ctl_float4_text of each.
 *
 *   ctl_slices_dump --bench track|audit RUNS CONNINFO VEHICLE FROM_US TO_US
 *     for bench/bench_storage.sh: the database read of hazgate-ctl track
 *     (ctl_slices_fetch, and ctl_track_write_fixes' GeoJSON of the fixes
 *     to /dev/null) or of audit --vehicle
 *     (ctl_slices_fetch, and the speeds as their text reads), RUNS times
 *     on one connection; prints the fixes, the best wall time, and the
 *     CPU a run of the server's backend (/proc/PID/stat: the same
 *     machine) and of this process.
 *
 *   ctl_slices_dump --sql-track CONNINFO VEHICLE FROM_US TO_US FORMAT
 *     for tests/integration/60-web-api.bats: the track as hazgate-web's
 *     GET .../track wrote it before it read like hazgate-ctl track: the
 *     server's SQL decoder (ctl_track_sql, text results, TimeZone UTC as
 *     the web's pool sets it) and ctl_track_write, on stdout; FORMAT
 *     geojson, gpx or csv.
 */
#include "ctl/ctl.h"
#include "ctl/ctl_slices.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ctl_util.c's, which this helper does not link. */
void
ctl_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
hex(const void *p, size_t n)
{
	/* big-endian, as float8send writes it */
	const unsigned char *b = p;
	for (size_t i = n; i-- > 0;)
		printf("%02x", b[i]);
}

static int
floats(void)
{
	char line[128];
	while (fgets(line, sizeof line, stdin)) {
		char buf[CTL_FLOAT_TEXT_MAX];
		uint64_t u = strtoull(line + 2, NULL, 16);
		if (line[0] == '8') {
			double d;
			memcpy(&d, &u, sizeof d);
			ctl_float8_text(d, buf);
		} else {
			uint32_t w = (uint32_t)u;
			float f;
			memcpy(&f, &w, sizeof f);
			ctl_float4_text(f, buf);
		}
		puts(buf);
	}
	return 0;
}

/* utime + stime of process pid, in clock ticks; -1 when unreadable. */
static long long
proc_ticks(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	long long ut = 0, st = 0;
	/* after the name: state, then fields 4..13, then utime stime */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &ut, &st) != 2)
		return -1;
	return ut + st;
}

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double
self_cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int
bench(char **argv)
{
	bool track = strcmp(argv[0], "track") == 0;
	int runs = atoi(argv[1]);
	int64_t from = strtoll(argv[4], NULL, 10), to = strtoll(argv[5], NULL, 10);
	PGconn *conn = PQconnectdb(argv[2]);
	if (PQstatus(conn) != CONNECTION_OK || runs < 1) {
		fprintf(stderr, "ctl_slices_dump: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	FILE *devnull = fopen("/dev/null", "w");
	if (!devnull)
		return 1;
	long long t0 = proc_ticks(PQbackendPID(conn));
	double c0 = self_cpu_ms(), best = 1e12, sink = 0;
	size_t fixes = 0;
	for (int r = 0; r < runs; r++) {
		double a = now_ms();
		if (track) {
			struct ctl_fixes f = { 0 };
			char err[600];
			if (ctl_slices_fetch(conn, argv[3], from, to, CTL_WANT_SPEED, &f, err, sizeof err) != 0 ||
			    ctl_track_write_fixes(devnull, CTL_FMT_GEOJSON, argv[3], "from", "to", &f) != 0) {
				fprintf(stderr, "ctl_slices_dump: %s\n", err);
				return 1;
			}
			fixes = f.n;
			ctl_fixes_clear(&f);
		} else {
			struct ctl_fixes f = { 0 };
			char err[600];
			if (ctl_slices_fetch(conn, argv[3], from, to, CTL_WANT_AUDIT, &f, err, sizeof err) != 0) {
				fprintf(stderr, "ctl_slices_dump: %s\n", err);
				return 1;
			}
			for (size_t i = 0; i < f.n; i++)
				sink += ctl_float4_text_value(f.v[i].speed);
			fixes = f.n;
			ctl_fixes_clear(&f);
		}
		double b = now_ms();
		if (b - a < best)
			best = b - a;
	}
	long long t1 = proc_ticks(PQbackendPID(conn));
	double c1 = self_cpu_ms();
	printf("fixes=%zu wall_ms=%.1f backend_cpu_ms=%.1f client_cpu_ms=%.1f%s\n", fixes, best,
	       t0 < 0 || t1 < 0 ? -1.0 : (double)(t1 - t0) * 1000.0 / (double)sysconf(_SC_CLK_TCK) / runs,
	       (c1 - c0) / runs, sink == 12345.678 ? " " : "");
	PQfinish(conn);
	fclose(devnull);
	return 0;
}

static int
sql_track(char **argv)
{
	static const char *const names[] = { "geojson", "gpx", "csv" };
	static const enum ctl_format fmts[] = { CTL_FMT_GEOJSON, CTL_FMT_GPX, CTL_FMT_CSV };
	char from[40], to[40];
	int k = 0;
	while (k < 3 && strcmp(argv[4], names[k]) != 0)
		k++;
	if (k == 3) {
		fprintf(stderr, "ctl_slices_dump: no format %s\n", argv[4]);
		return 2;
	}
	ctl_time_format(strtoll(argv[2], NULL, 10), from);
	ctl_time_format(strtoll(argv[3], NULL, 10), to);
	const char *params[] = { argv[1], from, to };
	PGconn *conn = PQconnectdb(argv[0]);
	PGresult *res = NULL;
	if (PQstatus(conn) == CONNECTION_OK) {
		PQclear(PQexec(conn, "SET TimeZone = 'UTC'"));
		res = PQexecParams(conn, ctl_track_sql, 3, NULL, params, NULL, NULL, 0);
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "ctl_slices_dump: %s", PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		return 1;
	}
	ctl_track_write(stdout, fmts[k], argv[1], from, to, res);
	PQclear(res);
	PQfinish(conn);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "--sql-track") == 0)
		return sql_track(argv + 2);
	if (argc == 2 && strcmp(argv[1], "--floats") == 0)
		return floats();
	if (argc == 8 && strcmp(argv[1], "--bench") == 0)
		return bench(argv + 2);
	if (argc != 5) {
		fprintf(stderr, "usage: ctl_slices_dump CONNINFO VEHICLE FROM_US TO_US | --floats\n");
		return 2;
	}
	PGconn *conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "ctl_slices_dump: %s", PQerrorMessage(conn));
		return 1;
	}
	struct ctl_fixes f = { 0 };
	char err[600];
	if (ctl_slices_fetch(conn, argv[2], strtoll(argv[3], NULL, 10), strtoll(argv[4], NULL, 10),
			     CTL_WANT_ALL, &f, err, sizeof err) != 0) {
		fprintf(stderr, "ctl_slices_dump: %s\n", err);
		PQfinish(conn);
		return 1;
	}
	for (size_t i = 0; i < f.n; i++) {
		const struct ctl_fix *x = &f.v[i];
		printf("%" PRId64 "|", x->ts_us);
		hex(&x->lat, 8);
		putchar('|');
		hex(&x->lon, 8);
		const float r[] = { x->speed, x->heading, x->alt, x->hdop };
		const uint32_t rn[] = { CTL_FIX_NULL_SPEED, CTL_FIX_NULL_HEADING, CTL_FIX_NULL_ALT,
					CTL_FIX_NULL_HDOP };
		for (int k = 0; k < 4; k++) {
			putchar('|');
			if (x->nulls & rn[k])
				fputs("\\N", stdout);
			else
				hex(&r[k], 4);
		}
		if (x->nulls & CTL_FIX_NULL_FIX)
			fputs("|\\N", stdout);
		else
			printf("|%d", x->fix);
		if (x->nulls & CTL_FIX_NULL_SATS)
			fputs("|\\N", stdout);
		else
			printf("|%d", x->sats);
		printf("|%s|%s", x->un ? x->un : "\\N", x->hc ? x->hc : "\\N");
		if (x->nulls & CTL_FIX_NULL_SEQ)
			fputs("|\\N", stdout);
		else
			printf("|%" PRId64, x->seq);
		if (x->nulls & CTL_FIX_NULL_IGNITION)
			fputs("|\\N", stdout);
		else
			printf("|%c", x->ignition ? 't' : 'f');
		if (x->nulls & CTL_FIX_NULL_ZONES) {
			fputs("|\\N", stdout);
		} else {
			fputs("|{", stdout);
			for (int32_t k = 0; k < x->nzones; k++) {
				if (x->znull && x->znull[k])
					printf("%sNULL", k ? "," : "");
				else
					printf("%s%" PRId32, k ? "," : "", x->zones[k]);
			}
			putchar('}');
		}
		if (x->nulls & CTL_FIX_NULL_RECEIVED)
			fputs("|\\N", stdout);
		else
			printf("|%" PRId64, x->received_us);
		if (x->nulls & CTL_FIX_NULL_ALARMS)
			fputs("|\\N", stdout);
		else
			printf("|%" PRId32, x->alarms);
		char b[CTL_FLOAT_TEXT_MAX];
		ctl_float8_text(x->lat, b);
		printf("|%s", b);
		ctl_float8_text(x->lon, b);
		printf("|%s", b);
		for (int k = 0; k < 4; k++) {
			if (x->nulls & rn[k]) {
				fputs("|\\N", stdout);
			} else {
				ctl_float4_text(r[k], b);
				printf("|%s", b);
			}
		}
		putchar('\n');
	}
	ctl_fixes_clear(&f);
	PQfinish(conn);
	return 0;
}
