/*
 * bench_pg.h - what the benchmarks that write to PostgreSQL share
 * (bench_copy, bench_chunks; bench_pg.c): the CPU of the server's backend
 * read from /proc (the benchmark and the server on one machine), and
 * statements that end the program on failure: a benchmark has nothing to
 * recover, and a figure from a half-failed run would mislead. And the
 * reading of their input, COPY text rows a batch at a time.
 */
#ifndef HAZGATE_BENCH_PG_H
#define HAZGATE_BENCH_PG_H

#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "gateway/gw_batch.h"

/* The user + system CPU of process pid in clock ticks (/proc/PID/stat), or
 * -1 if it cannot be read. */
long bench_pg_backend_ticks(int pid);

/* Runs sql; exits(1) with the server's message unless its result is want. */
void bench_pg_exec(PGconn *c, const char *sql, ExecStatusType want);

/* Runs copy (a COPY ... FROM STDIN statement) with data[0 .. len) as its
 * whole input; exits(1) with the server's message on any failure. */
void bench_pg_copy(PGconn *c, const char *copy, const char *data, size_t len);

/* Appends up to max lines of in (COPY text rows, each with its newline) to
 * text; returns how many (fewer than max: the input has ended). Exits(1)
 * when out of memory. */
size_t bench_pg_read_rows(FILE *in, struct gw_buf *text, size_t max);

#endif /* HAZGATE_BENCH_PG_H */
