/*
 * bench_copy.c - writes positions as the gateway does, for
 * bench/bench_storage.sh (issue 15): COPY text rows from stdin, BATCH rows
 * a transaction (BEGIN; COPY TABLE (COLUMNS) FROM STDIN; COMMIT), sent as
 * text or, with "binary", converted by the gateway's own converter
 * (gateway/gw_copybin.c, gw_copybin_pos_types: the rows must be the
 * gateway's positions rows, GW_BATCH_POS_FIELDS columns) and sent WITH
 * (FORMAT binary). A batch the converter refuses is sent as text, as the
 * writer does (counted). Connects with libpq's defaults (PG* variables).
 *
 * Prints one line: rows, the PostgreSQL backend's CPU (user + system clock
 * ticks from /proc/PID/stat, same machine), this process's CPU seconds in
 * the conversion alone (what the gateway adds per fix), and the batches
 * sent as text.
 *
 * Usage: bench_copy TABLE COLUMNS BATCH text|binary < rows
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/bench_pg.h"
#include "gateway/gw_copybin.h"

static void
send_batch(PGconn *c, const char *copy, const char *data, size_t len)
{
	bench_pg_exec(c, "BEGIN", PGRES_COMMAND_OK);
	bench_pg_copy(c, copy, data, len);
	bench_pg_exec(c, "COMMIT", PGRES_COMMAND_OK);
}

int
main(int argc, char **argv)
{
	struct gw_buf text = { 0 }, bin = { 0 };
	char copy_text[1024], copy_bin[1100];
	size_t batch, got;
	uint64_t rows = 0, conv_rows = 0, as_text = 0;
	double conv_s = 0;
	long t0, t1;
	bool binary;
	PGconn *c;
	int pid;

	if (argc != 5 || (strcmp(argv[4], "text") != 0 && strcmp(argv[4], "binary") != 0) ||
	    (batch = strtoul(argv[3], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bench_copy TABLE COLUMNS BATCH text|binary < rows\n");
		return 2;
	}
	binary = strcmp(argv[4], "binary") == 0;
	snprintf(copy_text, sizeof(copy_text), "COPY %s (%s) FROM STDIN", argv[1], argv[2]);
	snprintf(copy_bin, sizeof(copy_bin), "%s WITH (FORMAT binary)", copy_text);
	c = PQconnectdb("");
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "bench_copy: %s", PQerrorMessage(c));
		return 1;
	}
	pid = PQbackendPID(c);
	t0 = bench_pg_backend_ticks(pid);
	while ((got = bench_pg_read_rows(stdin, &text, batch)) > 0) {
		rows += got;
		if (binary) {
			double a = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
			int rc;

			bin.len = 0;
			rc = gw_copybin_header(&bin);
			if (rc == GW_BIN_OK)
				rc = gw_copybin_rows(&bin, gw_copybin_pos_types, GW_BATCH_POS_FIELDS,
						     text.p, text.len, &conv_rows);
			if (rc == GW_BIN_OK)
				rc = gw_copybin_trailer(&bin);
			conv_s += bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - a;
			if (rc == GW_BIN_OK)
				send_batch(c, copy_bin, bin.p, bin.len);
			else {
				as_text++;
				send_batch(c, copy_text, text.p, text.len);
			}
		} else {
			send_batch(c, copy_text, text.p, text.len);
		}
		text.len = 0;
	}
	t1 = bench_pg_backend_ticks(pid);
	printf("rows=%" PRIu64 " backend_ticks=%ld convert_cpu_s=%.3f batches_as_text=%" PRIu64 "\n",
	       rows, t1 - t0, conv_s, as_text);
	PQfinish(c);
	gw_buf_free(&text);
	gw_buf_free(&bin);
	return 0;
}
