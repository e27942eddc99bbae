/*
 * bench_pg.c - the PostgreSQL helpers of the benchmark programs
 * (bench_pg.h): the backend's CPU from /proc, a statement and a COPY that
 * end the program on failure, the input read a batch of rows at a time.
 */
#include "bench/bench_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long
bench_pg_backend_ticks(int pid)
{
	char path[64], buf[1024], *p;
	long ut = -1, st = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* after the command's ')': state is field 3, utime 14, stime 15 */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut,
			 &st) != 2)
		return -1;
	return ut + st;
}

void
bench_pg_exec(PGconn *c, const char *sql, ExecStatusType want)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != want) {
		fprintf(stderr, "bench: %s: %s", sql, PQerrorMessage(c));
		exit(1);
	}
	PQclear(r);
}

void
bench_pg_copy(PGconn *c, const char *copy, const char *data, size_t len)
{
	PGresult *r;

	bench_pg_exec(c, copy, PGRES_COPY_IN);
	if (PQputCopyData(c, data, (int)len) != 1 || PQputCopyEnd(c, NULL) != 1) {
		fprintf(stderr, "bench: %s: %s", copy, PQerrorMessage(c));
		exit(1);
	}
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "bench: %s: %s", copy, PQerrorMessage(c));
		exit(1);
	}
	PQclear(r);
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
}

size_t
bench_pg_read_rows(FILE *in, struct gw_buf *text, size_t max)
{
	char *line = NULL;
	size_t cap = 0, got = 0;
	ssize_t n;

	while (got < max && (n = getline(&line, &cap, in)) > 0) {
		if (gw_buf_add(text, line, (size_t)n) != 0) {
			fprintf(stderr, "bench: out of memory\n");
			exit(1);
		}
		got++;
	}
	free(line);
	return got;
}
