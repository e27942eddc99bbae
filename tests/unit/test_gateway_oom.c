/*
 * test_gateway_oom.c - the gateway's hot path under failing allocations
 * (chaos test, STYLE "Errors and bad input"): malloc, calloc and realloc are
 * wrapped (-Wl,--wrap) and the Nth call fails, for every N until a whole
 * scenario runs without a failure.
 *
 * The scenario plays what gw_in.c does per message with the two modules
 * it allocates in: the vehicle table (gateway/gw_vtab.c: 900 vehicles, so
 * it grows past its first 1024 slots, and the dirty list grows) and the
 * batch (gateway/gw_batch.c: positions, alerts, rejects, vehicle states,
 * sealed and serialised every 300 messages, then reset and reused).
 * Checked at every step: a failed append leaves the batch byte for byte as
 * it was; every loss is counted (the caller's count of refused appends, and
 * gw_vtab_oom() for the table); each sealed record parses back with exactly
 * the rows that were accepted; every vehicle the table accepted is still
 * there with its seq; the dirty list yields each dirty vehicle once and
 * nothing else. At the end every allocation has been freed (the wrapper
 * counts them; ASan/LSan does too under --enable-sanitizers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/gw_batch.h"
#include "gateway/gw_vtab.h"
#include "ingest/ingest.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

static long fail_at = -1;    /* fail the call with this number; -1 never */
static long fail_from = -1;  /* fail this call and every later one; -1 never */
static long calls, failed;
static long live;            /* blocks allocated and not freed */

static bool
fail_now(void)
{
	long n = calls++;

	if ((fail_at >= 0 && n == fail_at) || (fail_from >= 0 && n >= fail_from)) {
		failed++;
		return true;
	}
	return false;
}

void *
__wrap_malloc(size_t n)
{
	void *p;

	if (fail_now())
		return NULL;
	p = __real_malloc(n);
	live += p != NULL;
	return p;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	void *p;

	if (fail_now())
		return NULL;
	p = __real_calloc(n, size);
	live += p != NULL;
	return p;
}

void *
__wrap_realloc(void *p, size_t n)
{
	void *q;

	if (fail_now())
		return NULL;
	q = __real_realloc(p, n);
	live += !p && q;
	return q;
}

void
__wrap_free(void *p)
{
	live -= p != NULL;
	__real_free(p);
}

#define NVEH 900
#define NMSG 2400
#define SEAL_EVERY 300

struct model {
	bool known[NVEH];        /* accepted by gw_vtab_get */
	int64_t seq[NVEH];
	uint64_t dropped;        /* appends refused (what gw_in counts) */
	uint64_t vtab_refused;   /* gets and touches that failed, seen from here */
	uint32_t npos, nalerts, nrejects, nstates;   /* rows in the current batch */
	uint64_t sealed, serialize_failed;
	bool no_table;           /* gw_vtab_new refused: the daemon does not start */
};

static void
veh_name(int i, char *out, size_t cap)
{
	snprintf(out, cap, "T%04d\xe6\x99\x8b", i);
}

/* A failed append must leave the batch as it was. */
struct snap {
	size_t len[4];
	uint32_t n[4];
};

static void
take(const struct gw_batch *b, struct snap *s)
{
	s->len[0] = b->pos.len;
	s->len[1] = b->alerts.len;
	s->len[2] = b->rejects.len;
	s->len[3] = b->states.len;
	s->n[0] = b->npos;
	s->n[1] = b->nalerts;
	s->n[2] = b->nrejects;
	s->n[3] = b->nstates;
}

static void
check_unchanged(const struct gw_batch *b, const struct snap *s)
{
	struct snap now;

	take(b, &now);
	assert_memory_equal(&now, s, sizeof(now));
}

struct drain_ctx {
	struct gw_batch *b;
	struct model *m;
	int seen[NVEH];
	bool fail_states;
};

static void
on_dirty(struct gw_vehicle *v, void *arg)
{
	struct drain_ctx *c = arg;
	static const uint8_t blob[] = { 'H', 'G', 'V', 'S', 1, 2, 3, 4 };
	struct snap s;
	int i = atoi(v->name + 1);

	assert_true(i >= 0 && i < NVEH);
	assert_true(c->m->known[i]);
	assert_false(v->dirty);          /* cleared before the call */
	c->seen[i]++;
	take(c->b, &s);
	if (gw_batch_add_state(c->b, v->name, v->last_us, v->lat, v->lon, blob, sizeof(blob),
			       v->has_seq, v->seq) != 0) {
		check_unchanged(c->b, &s);
		c->m->dropped++;
	} else {
		c->m->nstates++;
	}
}

static void
seal(struct gw_vtab *t, struct gw_batch *b, struct gw_buf *rec, struct model *m)
{
	struct drain_ctx c = { .b = b, .m = m };
	struct gw_batch_view v;

	gw_vtab_drain_dirty(t, on_dirty, &c);
	for (int i = 0; i < NVEH; i++)
		assert_true(c.seen[i] <= 1);
	assert_int_equal(b->npos, m->npos);
	assert_int_equal(b->nalerts, m->nalerts);
	assert_int_equal(b->nrejects, m->nrejects);
	assert_int_equal(b->nstates, m->nstates);
	if (gw_batch_serialize(b, rec) != 0) {
		/* gw_in logs batch_oom and keeps the batch growing. */
		m->serialize_failed++;
		return;
	}
	assert_int_equal(gw_batch_parse(rec->p, rec->len, &v), GW_BATCH_OK);
	assert_int_equal(v.npos, m->npos);
	assert_int_equal(v.nalerts, m->nalerts);
	assert_int_equal(v.nrejects, m->nrejects);
	assert_int_equal(v.nstates, m->nstates);
	gw_batch_reset(b);
	m->npos = m->nalerts = m->nrejects = m->nstates = 0;
	m->sealed++;
}

/* One run of the scenario; returns the table's own OOM count. */
static void
scenario(struct model *m)
{
	struct gw_vtab *t = gw_vtab_new();
	struct gw_batch b = { 0 };
	struct gw_buf rec = { 0 };
	static const char alert[] =
		"{\"id\":null,\"kind\":\"zone_enter\",\"vehicle\":\"x\",\"zone_id\":3,"
		"\"lat\":37.5,\"lon\":-112.25,\"speed_kmh\":null,\"detail\":{\"zone_kind\":\"depot\"}}";

	memset(m, 0, sizeof(*m));
	if (!t) {
		m->no_table = true;
		return;
	}
	for (int k = 0; k < NMSG; k++) {
		int i = (k * 7) % NVEH;
		char name[ING_VEHICLE_MAX + 1];
		struct ing_fix f = { 0 };
		struct gw_vehicle *v;
		struct snap s;

		veh_name(i, name, sizeof(name));
		if (k % 11 == 5) {
			take(&b, &s);
			if (gw_batch_add_reject(&b, "tankers/x/telemetry", "{\"lat\":99}", 10,
						"lat_range", "lat 99", k) != 0) {
				check_unchanged(&b, &s);
				m->dropped++;
			} else {
				m->nrejects++;
			}
			continue;
		}
		strcpy(f.vehicle, name);
		f.time_us = 1565424000000000LL + k * 1000000LL;
		f.lat = 37.5 + i * 1e-4;
		f.lon = -112.25;
		f.seq = k;
		f.present = ING_HAS_SEQ;
		take(&b, &s);
		if (gw_batch_add_position(&b, &f, (const int64_t[]){ 3, 7 }, 2, f.time_us) != 0) {
			check_unchanged(&b, &s);
			m->dropped++;
		} else {
			m->npos++;
		}
		if (k % 13 == 0) {
			take(&b, &s);
			struct gw_alert_row row = { .kind = "zone_enter", .severity = "info",
						    .vehicle = name, .zone_name = "Depot",
						    .json = alert, .json_len = strlen(alert) };

			if (gw_batch_add_alert(&b, &row) != 0) {
				check_unchanged(&b, &s);
				m->dropped++;
			} else {
				m->nalerts++;
			}
		}
		v = gw_vtab_get(t, name);
		if (!v) {
			assert_false(m->known[i]);    /* a known one is always found */
			m->vtab_refused++;
		} else {
			if (m->known[i])
				assert_int_equal(v->seq, m->seq[i]);
			m->known[i] = true;
			v->seq = m->seq[i] = k;
			v->has_seq = v->has_fix = true;
			v->last_us = f.time_us;
			if (gw_vtab_touch(t, v) != 0) {
				assert_false(v->dirty);
				m->vtab_refused++;
			} else {
				assert_true(v->dirty);
			}
		}
		if (k % SEAL_EVERY == SEAL_EVERY - 1)
			seal(t, &b, &rec, m);
	}
	seal(t, &b, &rec, m);
	/* The table kept every vehicle it accepted, with its seq. */
	{
		size_t known = 0;

		for (int i = 0; i < NVEH; i++) {
			char name[ING_VEHICLE_MAX + 1];
			struct gw_vehicle *v;
			long before = fail_at, before_from = fail_from;

			if (!m->known[i])
				continue;
			known++;
			veh_name(i, name, sizeof(name));
			fail_at = fail_from = -1;   /* a known name never allocates */
			v = gw_vtab_get(t, name);
			fail_at = before;
			fail_from = before_from;
			assert_non_null(v);
			assert_int_equal(v->seq, m->seq[i]);
		}
		assert_int_equal(gw_vtab_count(t), known);
	}
	assert_int_equal(gw_vtab_oom(t), m->vtab_refused);
	gw_buf_free(&rec);
	gw_batch_free(&b);
	gw_vtab_free(t);
}

static void
test_every_allocation_fails_once(void **state)
{
	struct model m;
	long n, runs = 0, lossy = 0;

	(void)state;
	/* Reference run: how many allocations the scenario makes. */
	fail_at = -1;
	calls = failed = live = 0;
	scenario(&m);
	assert_int_equal(live, 0);
	assert_int_equal(m.dropped + m.vtab_refused + m.serialize_failed, 0);
	assert_true(m.sealed >= NMSG / SEAL_EVERY);
	for (n = 0;; n++) {
		calls = failed = live = 0;
		fail_at = n;
		scenario(&m);
		fail_at = -1;
		assert_int_equal(live, 0);          /* nothing leaked */
		if (!failed)
			break;                      /* ran to the end: every call tried */
		runs++;
		lossy += m.dropped + m.vtab_refused + m.serialize_failed > 0;
		/* Every failure after start costs a row, a listing or a seal
		 * attempt, and it is counted. */
		if (!m.no_table)
			assert_true(m.dropped + m.vtab_refused + m.serialize_failed > 0);
	}
	print_message("# %ld allocation sites failed in turn, %ld runs with a counted loss\n",
		      runs, lossy);
	assert_true(runs >= 10);
	assert_true(lossy >= 1);
}

/* Memory runs out at the Nth call and stays out: the scenario runs to its
 * end, losing (and counting) what it must, consistent at every step. */
static void
test_memory_runs_out_for_good(void **state)
{
	struct model m;
	long n, runs = 0;

	(void)state;
	for (n = 0;; n++) {
		calls = failed = live = 0;
		fail_from = n;
		scenario(&m);
		fail_from = -1;
		assert_int_equal(live, 0);
		if (!failed)
			break;
		runs++;
		if (!m.no_table)
			assert_true(m.dropped + m.vtab_refused + m.serialize_failed > 0);
	}
	print_message("# memory ran out for good at each of %ld calls\n", runs);
	assert_true(runs >= 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_allocation_fails_once),
		cmocka_unit_test(test_memory_runs_out_for_good),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
