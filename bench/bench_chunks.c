/*
 * bench_chunks.c - a measurement of "option (c)" of issue 15 for
 * bench/bench_storage.sh: a chunked open tier, emulated as a gateway would
 * write it, to see what PostgreSQL's backend spends a fix. Not a product:
 * the gateway does not write this way.
 *
 * Reads the gateway's positions rows as COPY text (stdin, the 17 columns of
 * positions_recent, alarms last), BATCH rows a transaction in arrival
 * order, and in each transaction:
 *   - writes ONE row into positions_log (id bigint PRIMARY KEY, data bytea):
 *     the whole batch as the binary COPY bytes the gateway's converter
 *     (gateway/gw_copybin.c) makes of it, so that a COMMIT holds every fix;
 *   - keeps each vehicle's fixes in memory per window of W seconds (on the
 *     UTC clock; W divides 3600, so a window lies in one hour) and writes a
 *     vehicle's window as one chunk when its first fix of a later window
 *     arrives (every window at the end of the input): a row of
 *     positions_slices' format (ctl/ctl_compact_enc.c, ctl_cenc_slice; hour
 *     the hour, t_first the chunk's first ts) COPYed in binary into
 *     positions_chunks;
 *   - DELETEs the log rows whose every fix is now in a written chunk (a
 *     count per log row of the fixes not yet chunked).
 * The fixes a chunk holds are in ts order; a second fix of a vehicle at the
 * same ts in the window held is dropped (the first wins, as the row tier's
 * key). A fix older than its vehicle's window held (a late fix) writes
 * that window and starts its own (the bench's fleet has none; a late fix
 * equal to a written chunk's t_first would fail the COPY on the UNIQUE key:
 * this emulation, unlike the row tier, is not idempotent across windows).
 *
 * Prints one line: rows, chunks written, log rows written and deleted,
 * duplicates and late fixes, the backend's CPU (clock ticks, /proc, as
 * bench_copy), this process's CPU seconds in the conversion to binary
 * (what the gateway already does) and in the chunking (parsing the binary
 * fields, grouping, encoding: what the gateway would add), and the most
 * fixes and bytes (batches kept, fixes held) held in memory at once.
 * Connects with libpq's defaults (PG* variables).
 *
 * Usage: bench_chunks BATCH W < rows
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/bench_pg.h"
#include "ctl/ctl_compact_enc.h"
#include "gateway/gw_copybin.h"

#define COPY_HEADER_LEN 19   /* signature 11, flags 4, extension length 4 */

/* One batch, as its log row holds it: kept while a fix of it waits. */
struct batch {
	char *p;          /* the binary COPY bytes (owned; NULL once freed) */
	size_t len;
	uint32_t pending; /* its fixes not yet in a written chunk */
};

/* One vehicle's window held: fixes in ts order, each with its batch. */
struct vehicle {
	char *name;       /* owned */
	size_t name_len;
	int64_t window;   /* ts / W, floored */
	struct ctl_fix *fix;
	size_t *from;     /* the batch of fix[i] */
	size_t n, cap;
};

struct chunker {
	int64_t w_us;
	struct vehicle *veh;   /* open addressing, nveh_cap a power of two */
	size_t nveh, nveh_cap;
	struct batch *batch;   /* by id (1-based: batch[0] unused) */
	size_t nbatch, batch_cap;
	struct ctl_buf chunks; /* binary COPY of positions_chunks, this transaction's */
	uint64_t nchunks, ndup, nlate;
	size_t held, held_max;
	size_t held_bytes, held_bytes_max;
	size_t *done;          /* log rows whose fixes are all chunked, this transaction's */
	size_t ndone, done_cap;
};

static void
die(const char *what)
{
	fprintf(stderr, "bench_chunks: %s\n", what);
	exit(1);
}

static void *
grow(void *p, size_t *cap, size_t want, size_t size)
{
	if (want <= *cap)
		return p;
	size_t c = *cap ? *cap : 16;
	while (c < want)
		c *= 2;
	p = realloc(p, c * size);
	if (!p)
		die("out of memory");
	*cap = c;
	return p;
}

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * UINT64_C(1099511628211);
	return h;
}

static struct vehicle *
vehicle_find(struct chunker *k, const char *name, size_t len)
{
	if (2 * (k->nveh + 1) > k->nveh_cap) {
		size_t cap = k->nveh_cap ? 2 * k->nveh_cap : 1024;
		struct vehicle *t = calloc(cap, sizeof *t);
		if (!t)
			die("out of memory");
		for (size_t i = 0; i < k->nveh_cap; i++) {
			if (!k->veh[i].name)
				continue;
			size_t j = fnv1a(k->veh[i].name, k->veh[i].name_len) & (cap - 1);
			while (t[j].name)
				j = (j + 1) & (cap - 1);
			t[j] = k->veh[i];
		}
		free(k->veh);
		k->veh = t;
		k->nveh_cap = cap;
	}
	size_t j = fnv1a(name, len) & (k->nveh_cap - 1);
	while (k->veh[j].name) {
		if (k->veh[j].name_len == len && !memcmp(k->veh[j].name, name, len))
			return &k->veh[j];
		j = (j + 1) & (k->nveh_cap - 1);
	}
	struct vehicle *v = &k->veh[j];
	v->name = malloc(len ? len : 1);
	if (!v->name)
		die("out of memory");
	memcpy(v->name, name, len);
	v->name_len = len;
	k->nveh++;
	return v;
}

/* One fix of batch id is accounted for (chunked or dropped). */
static void
fix_done(struct chunker *k, size_t id)
{
	if (--k->batch[id].pending == 0) {
		k->done = grow(k->done, &k->done_cap, k->ndone + 1, sizeof *k->done);
		k->done[k->ndone++] = id;
	}
}

/* Writes v's window held as one chunk into this transaction's COPY. */
static void
vehicle_flush(struct chunker *k, struct vehicle *v)
{
	size_t bad;
	int rc;

	if (!v->n)
		return;
	if (!k->chunks.len)
		ctl_cenc_copy_header(&k->chunks);
	rc = ctl_cenc_slice(&k->chunks, v->fix, v->n, &bad);
	if (rc != CTL_CENC_OK)
		die(ctl_cenc_strerror(rc));
	k->nchunks++;
	for (size_t i = 0; i < v->n; i++)
		fix_done(k, v->from[i]);
	k->held -= v->n;
	v->n = 0;
}

static int64_t
floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* Routes fix f of batch id into its vehicle's window. */
static void
chunk_fix(struct chunker *k, const struct ctl_fix *f, size_t id)
{
	struct vehicle *v = vehicle_find(k, f->vehicle, f->vehicle_len);
	int64_t w = floordiv(f->ts, k->w_us);
	size_t at;

	if (v->n && w != v->window) {
		if (w < v->window)
			k->nlate++;
		vehicle_flush(k, v);
	}
	if (!v->n)
		v->window = w;
	/* in ts order: almost always at the end */
	for (at = v->n; at > 0 && v->fix[at - 1].ts > f->ts; at--)
		;
	if (at > 0 && v->fix[at - 1].ts == f->ts) {
		k->ndup++;
		fix_done(k, id);
		return;
	}
	size_t cap = v->cap, cap2 = v->cap;
	v->fix = grow(v->fix, &cap, v->n + 1, sizeof *v->fix);
	v->from = grow(v->from, &cap2, v->n + 1, sizeof *v->from);
	k->held_bytes += (cap - v->cap) * (sizeof *v->fix + sizeof *v->from);
	v->cap = cap;
	memmove(v->fix + at + 1, v->fix + at, (v->n - at) * sizeof *v->fix);
	memmove(v->from + at + 1, v->from + at, (v->n - at) * sizeof *v->from);
	v->fix[at] = *f;
	v->from[at] = id;
	v->n++;
	if (++k->held > k->held_max)
		k->held_max = k->held;
}

static uint32_t
rd32(const char *p)
{
	const uint8_t *u = (const uint8_t *)p;
	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* Walks batch id's binary COPY rows (each: a field count, then per field
 * an int32 length, -1 for NULL, and the bytes) into chunk_fix. */
static void
chunk_batch(struct chunker *k, size_t id)
{
	const char *p = k->batch[id].p + COPY_HEADER_LEN, *end = k->batch[id].p + k->batch[id].len;
	const char *val[CTL_FIX_COLS];
	int len[CTL_FIX_COLS];
	struct ctl_fix f;

	for (;;) {
		if (end - p < 2)
			die("binary rows cut short");
		int nf = (int16_t)((uint8_t)p[0] << 8 | (uint8_t)p[1]);
		p += 2;
		if (nf == -1)
			break;
		if (nf != CTL_FIX_COLS)
			die("not a row of positions_recent's 17 columns");
		for (int i = 0; i < CTL_FIX_COLS; i++) {
			if (end - p < 4)
				die("binary rows cut short");
			len[i] = (int32_t)rd32(p);
			p += 4;
			val[i] = p;
			if (len[i] > 0) {
				if (end - p < len[i])
					die("binary rows cut short");
				p += len[i];
			}
		}
		if (ctl_cenc_fix_parse(&f, val, len) != CTL_CENC_OK)
			die("a fix ctl_cenc_fix_parse refuses");
		chunk_fix(k, &f, id);
	}
}

/* A new batch (id returned) holding bin's bytes (taken: bin is left empty). */
static size_t
batch_add(struct chunker *k, struct gw_buf *bin, uint32_t rows)
{
	size_t id = ++k->nbatch;

	k->batch = grow(k->batch, &k->batch_cap, id + 1, sizeof *k->batch);
	k->batch[id] = (struct batch){ .p = bin->p, .len = bin->len, .pending = rows };
	k->held_bytes += bin->len;
	*bin = (struct gw_buf){ 0 };
	return id;
}

/* The transaction: the log row of batch id, the chunks written, the log
 * rows chunked whole deleted. */
static void
commit(PGconn *c, struct chunker *k, size_t id, const char *copy)
{
	char idtext[24], *ids = NULL;
	size_t idcap = 0, idlen = 0;
	PGresult *r;

	bench_pg_exec(c, "BEGIN", PGRES_COMMAND_OK);
	if (id) {
		const char *v[2] = { idtext, k->batch[id].p };
		int l[2] = { 0, (int)k->batch[id].len }, fmt[2] = { 0, 1 };

		snprintf(idtext, sizeof idtext, "%zu", id);
		r = PQexecPrepared(c, "log", 2, v, l, fmt, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die(PQerrorMessage(c));
		PQclear(r);
	}
	if (k->chunks.len) {
		ctl_cenc_copy_trailer(&k->chunks);
		if (k->chunks.oom)
			die("out of memory");
		bench_pg_copy(c, copy, (const char *)k->chunks.p, k->chunks.len);
		k->chunks.len = 0;
	}
	if (k->ndone) {
		for (size_t i = 0; i < k->ndone; i++) {
			ids = grow(ids, &idcap, idlen + 24, 1);
			idlen += (size_t)sprintf(ids + idlen, "%c%zu", i ? ',' : '{', k->done[i]);
		}
		ids = grow(ids, &idcap, idlen + 2, 1);
		strcpy(ids + idlen, "}");
		const char *v[1] = { ids };
		r = PQexecPrepared(c, "unlog", 1, v, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die(PQerrorMessage(c));
		PQclear(r);
	}
	bench_pg_exec(c, "COMMIT", PGRES_COMMAND_OK);
	free(ids);
}

static void
prepare(PGconn *c, const char *name, const char *sql)
{
	PGresult *r = PQprepare(c, name, sql, 0, NULL);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die(PQerrorMessage(c));
	PQclear(r);
}

int
main(int argc, char **argv)
{
	struct chunker k = { 0 };
	struct gw_buf text = { 0 }, bin = { 0 };
	char copy[1024], *end;
	size_t batch = 0;
	uint64_t rows = 0, conv_rows = 0, logged = 0, deleted = 0;
	double conv_s = 0, enc_s = 0;
	long w = 0, t0, t1;
	PGconn *c;
	int pid;

	if (argc == 3) {
		batch = strtoul(argv[1], &end, 10);
		batch = *end ? 0 : batch;
		w = strtol(argv[2], &end, 10);
		w = *end ? 0 : w;
	}
	if (batch == 0 || w <= 0 || 3600 % w != 0) {
		fprintf(stderr, "usage: bench_chunks BATCH W < rows (W seconds, a divisor of 3600)\n");
		return 2;
	}
	k.w_us = (int64_t)w * 1000000;
	snprintf(copy, sizeof copy, "COPY positions_chunks (%s) FROM STDIN WITH (FORMAT binary)",
		 ctl_cenc_slice_columns);
	c = PQconnectdb("");
	if (PQstatus(c) != CONNECTION_OK)
		die(PQerrorMessage(c));
	prepare(c, "log", "INSERT INTO positions_log (id, data) VALUES ($1::bigint, $2::bytea)");
	prepare(c, "unlog", "DELETE FROM positions_log WHERE id = ANY ($1::bigint[])");
	pid = PQbackendPID(c);
	t0 = bench_pg_backend_ticks(pid);
	for (bool last = false; !last;) {
		size_t got = bench_pg_read_rows(stdin, &text, batch), id = 0;
		double a = bench_seconds(CLOCK_PROCESS_CPUTIME_ID), b;

		rows += got;
		last = got < batch;
		if (got) {
			uint64_t before = conv_rows;
			int rc = gw_copybin_header(&bin);
			if (rc == GW_BIN_OK)
				rc = gw_copybin_rows(&bin, gw_copybin_pos_types, GW_BATCH_POS_FIELDS, text.p,
						     text.len, &conv_rows);
			if (rc == GW_BIN_OK)
				rc = gw_copybin_trailer(&bin);
			if (rc != GW_BIN_OK)
				die(gw_copybin_strerror(rc));
			id = batch_add(&k, &bin, (uint32_t)(conv_rows - before));
		}
		b = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
		conv_s += b - a;
		k.ndone = 0;
		if (id)
			chunk_batch(&k, id);
		if (last)
			for (size_t i = 0; i < k.nveh_cap; i++)
				if (k.veh[i].name)
					vehicle_flush(&k, &k.veh[i]);
		enc_s += bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - b;
		if (k.held_bytes > k.held_bytes_max)
			k.held_bytes_max = k.held_bytes;
		if (id || k.chunks.len || k.ndone)
			commit(c, &k, id, copy);
		logged += id != 0;
		deleted += k.ndone;
		for (size_t i = 0; i < k.ndone; i++) {
			struct batch *d = &k.batch[k.done[i]];
			k.held_bytes -= d->len;
			free(d->p);
			d->p = NULL;
		}
		text.len = 0;
	}
	t1 = bench_pg_backend_ticks(pid);
	printf("rows=%" PRIu64 " chunks=%" PRIu64 " log_rows=%" PRIu64 " log_deleted=%" PRIu64
	       " duplicates=%" PRIu64 " late=%" PRIu64 " backend_ticks=%ld convert_cpu_s=%.3f"
	       " encode_cpu_s=%.3f held_fixes_max=%zu held_bytes_max=%zu\n",
	       rows, k.nchunks, logged, deleted, k.ndup, k.nlate, t1 - t0, conv_s, enc_s, k.held_max,
	       k.held_bytes_max);
	PQfinish(c);
	for (size_t i = 0; i < k.nveh_cap; i++) {
		free(k.veh[i].name);
		free(k.veh[i].fix);
		free(k.veh[i].from);
	}
	for (size_t i = 1; i <= k.nbatch; i++)
		free(k.batch[i].p);
	free(k.veh);
	free(k.batch);
	free(k.done);
	ctl_buf_free(&k.chunks);
	gw_buf_free(&text);
	gw_buf_free(&bin);
	return 0;
}
