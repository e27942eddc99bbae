/*
 * test_gateway_corpus.c - what the gateway reads back from its spool.
 *
 * Replays the fuzz seeds (tests/fuzz/corpus/gateway_batch/) and the kept
 * findings (tests/fuzz/crashes/gateway_batch-*) through gw_batch_parse under
 * the fuzz target's invariants (tests/fuzz/fuzz_gateway.h); checks that a
 * record with a byte of its shape flipped, or with its tail cut, is refused
 * (this build's "HGB3" and the previous "HGB2" and "HGB1");
 * and that a record damaged inside the spool (tracker/hz_queue: a data byte
 * flipped, which keeps the COPY shape, or the tail torn off) never comes
 * back out of it.
 *
 * A seed or finding named "<outcome>--..." / "gateway_batch-<outcome>-..."
 * (outcome: ok or a GW_BATCH_E* name without the prefix, e.g. EROWS) must
 * give that outcome.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ingest/ingest.h"
#include "tests/fuzz/fuzz_gateway.h"
#include "tests/unit/corpus_walk.h"
#include "common/hz_queue.h"

static const struct { const char *name; int code; } outcomes[] = {
	{ "ok", GW_BATCH_OK }, { "ESHORT", GW_BATCH_ESHORT }, { "EMAGIC", GW_BATCH_EMAGIC },
	{ "ELENGTH", GW_BATCH_ELENGTH }, { "EROWS", GW_BATCH_EROWS },
	{ "EFIELDS", GW_BATCH_EFIELDS }, { "EBYTE", GW_BATCH_EBYTE },
	{ "EALERT", GW_BATCH_EALERT },
};

/* The outcome named by the first n bytes of s; 1 when none matches. */
static int
outcome(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (strlen(outcomes[i].name) == n && strncmp(s, outcomes[i].name, n) == 0)
			return outcomes[i].code;
	return 1;
}

struct replay {
	const char *dir;      /* under tests/fuzz/ */
	const char *prefix;   /* only files starting so; "" for all */
	int min_files;
	int min_expect;
};

static const struct replay replays[] = {
	{ "corpus/gateway_batch", "", 12, 12 },
	{ "crashes", "gateway_batch-", 1, 1 },
};

static bool
replay_file(const char *name, const uint8_t *data, size_t size, const void *arg)
{
	const char *prefix = ((const struct replay *)arg)->prefix, *tag, *end;
	struct gw_batch_view v;
	int want, got;

	got = fuzz_gateway_batch_check(data, size);
	if (got < 0)
		print_message("# %s: invariant broken\n", name);
	assert_true(got >= 0);
	tag = name + strlen(prefix);
	end = *prefix ? strchr(tag, '-') : strstr(tag, "--");
	if (end) {
		want = outcome(tag, (size_t)(end - tag));
		if (want == 1)
			print_message("# %s: unknown outcome\n", name);
		assert_int_not_equal(want, 1);
		got = gw_batch_parse(data, size, &v);
		if (got != want)
			print_message("# %s: got %s\n", name, gw_batch_strerror(got));
		assert_int_equal(got, want);
		return true;
	}
	return false;
}

static void
test_replay(void **state)
{
	const struct replay *r = *state;
	struct corpus_count n = corpus_walk(r->dir, r->prefix, replay_file, r);

	assert_true(n.files >= r->min_files);
	assert_true(n.checked >= r->min_expect);
}

/* A full record: two positions, two alerts, a reject, a vehicle state;
 * version 3 (this build's), 2 (the previous builds': positions without
 * alarms) or 1 (older: also alerts as (vehicle, JSON) pairs). */
static void
make_record(struct gw_buf *out, int version)
{
	struct gw_batch b = { 0 };
	struct ing_fix f = { 0 };
	const int64_t zones[] = { 3, 7 };
	static const uint8_t blob[] = { 1, 2, 0xab, 0xff };
	static const char a1[] = "{\"id\":null,\"kind\":\"zone_enter\",\"vehicle\":\"T1\","
		"\"zone_id\":3,\"ts\":\"2019-08-10T08:00:00.123Z\",\"lat\":37.6,"
		"\"detail\":{\"zone_kind\":\"depot\"}}";
	static const char a2[] = "{\"id\":null,\"kind\":\"tracker_silent\",\"vehicle\":\"T2\"}";
	const struct gw_alert_row r1 = { .kind = "zone_enter", .severity = "info", .vehicle = "T1",
					 .zone_name = "Z\tA", .json = a1, .json_len = sizeof(a1) - 1 };
	const struct gw_alert_row r2 = { .kind = "tracker_silent", .severity = "warning",
					 .vehicle = "T2", .json = a2, .json_len = sizeof(a2) - 1 };

	strcpy(f.vehicle, "T1");
	f.time_us = 1565424000123000LL;
	f.lat = 37.6;
	f.lon = -112.36;
	f.seq = 42;
	f.present = ING_HAS_SEQ;
	assert_int_equal(gw_batch_add_position(&b, &f, zones, 2, f.time_us), 0);
	strcpy(f.vehicle, "T2\\x\ty");
	assert_int_equal(gw_batch_add_position(&b, &f, NULL, 0, f.time_us), 0);
	if (version < 3) {
		/* The rows end "\t\\N\n" (no alarms): without that field. */
		size_t w = 0;

		for (size_t i = 0; i < b.pos.len; i++) {
			if (b.pos.p[i] == '\n')
				w -= 3;
			b.pos.p[w++] = b.pos.p[i];
		}
		b.pos.len = w;
	}
	if (version >= 2) {
		assert_int_equal(gw_batch_add_alert(&b, &r1), 0);
		assert_int_equal(gw_batch_add_alert(&b, &r2), 0);
	} else {
		assert_int_equal(gw_buf_add(&b.alerts, "T1", 3), 0);
		assert_int_equal(gw_buf_add(&b.alerts, a1, sizeof(a1)), 0);
		assert_int_equal(gw_buf_add(&b.alerts, "T2", 3), 0);
		assert_int_equal(gw_buf_add(&b.alerts, a2, sizeof(a2)), 0);
		b.nalerts = 2;
	}
	assert_int_equal(gw_batch_add_reject(&b, "tankers/x/telemetry", "{\"lat\":99}", 10,
					     "lat_range", "lat out of range", f.time_us), 0);
	assert_int_equal(gw_batch_add_state(&b, "T1", f.time_us, 37.6, -112.36, blob,
					    sizeof(blob), true, 42), 0);
	assert_int_equal(gw_batch_serialize(&b, out), 0);
	memcpy(out->p, version == 1 ? "HGB1" : version == 2 ? "HGB2" : "HGB3", 4);
	gw_batch_free(&b);
}

/* Bytes that give a record its shape: header, separators. (A flipped
 * backslash that opens an escape leaves plain text, "\N" -> "]N": only the
 * spool's CRC sees that, test_spool_damage.) */
static bool
shape_byte(const struct gw_buf *rec, size_t i)
{
	char c = rec->p[i];

	return i < 36 || c == '\t' || c == '\n' || c == '\0';
}

static void
test_flipped_byte(void **state)
{
	struct gw_buf rec = { 0 }, bad = { 0 };
	struct gw_batch_view v;
	static const uint8_t masks[] = { 0x01, 0x20, 0x80, 0xff };
	size_t refused = 0, shape = 0;
	int version = *(const int *)*state;

	make_record(&rec, version);
	assert_int_equal(fuzz_gateway_batch_check((const uint8_t *)rec.p, rec.len), 1);
	assert_int_equal(gw_batch_parse(rec.p, rec.len, &v), GW_BATCH_OK);
	assert_int_equal(gw_buf_add(&bad, rec.p, rec.len), 0);
	for (size_t i = 0; i < rec.len; i++) {
		if (!shape_byte(&rec, i))
			continue;
		shape++;
		for (size_t m = 0; m < sizeof(masks); m++) {
			int rc;

			bad.p[i] = (char)(rec.p[i] ^ masks[m]);
			rc = gw_batch_parse(bad.p, bad.len, &v);
			if (rc == GW_BATCH_OK)
				print_message("# byte %zu (0x%02x ^ 0x%02x) accepted\n", i,
					      (unsigned char)rec.p[i], masks[m]);
			assert_int_not_equal(rc, GW_BATCH_OK);
			assert_true(fuzz_gateway_batch_check((const uint8_t *)bad.p, bad.len) == 0);
			refused++;
		}
		bad.p[i] = rec.p[i];
	}
	print_message("# version %d: %zu shape bytes, %zu flips refused\n", version, shape, refused);
	assert_true(shape > 36 + 30);
	gw_buf_free(&rec);
	gw_buf_free(&bad);
}

static void
test_truncated_tail(void **state)
{
	struct gw_buf rec = { 0 };
	struct gw_batch_view v;

	make_record(&rec, *(const int *)*state);
	for (size_t n = 0; n < rec.len; n++) {
		int rc = gw_batch_parse(rec.p, n, &v);

		assert_int_equal(rc, n < 36 ? GW_BATCH_ESHORT : GW_BATCH_ELENGTH);
		assert_null(v.pos);
	}
	gw_buf_free(&rec);
}

/* Damage the spool file itself: what hz_queue hands back is either the
 * record as written or nothing (counted). */
struct spool_case {
	const char *name;
	int how;        /* 0 flip a data byte (keeps the COPY shape), 1 cut the tail */
};

static void
test_spool_damage(void **state)
{
	static const struct spool_case cases[] = {
		{ "digit flipped in a latitude", 0 },
		{ "tail cut", 1 },
	};
	struct gw_buf rec = { 0 };

	(void)state;
	make_record(&rec, 3);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char dir[] = "/tmp/test_gateway_corpus.XXXXXX", seg[256];
		struct hz_queue_options o;
		struct hz_queue_stats st;
		hz_queue *q = NULL;
		const void *data;
		size_t len;
		uint64_t id;
		struct stat sb;
		int fd;
		DIR *d;
		struct dirent *de;

		assert_non_null(mkdtemp(dir));
		hz_queue_options_init(&o);
		o.max_record = 1u << 20;
		assert_int_equal(hz_queue_open(&q, dir, &o), HZ_QUEUE_OK);
		assert_int_equal(hz_queue_append(q, rec.p, rec.len, NULL), HZ_QUEUE_OK);
		/* A second, intact record: the spool goes on after the bad one. */
		assert_int_equal(hz_queue_append(q, rec.p, rec.len, NULL), HZ_QUEUE_OK);
		hz_queue_free(q);

		seg[0] = '\0';
		d = opendir(dir);
		assert_non_null(d);
		while ((de = readdir(d)) != NULL)
			if (strstr(de->d_name, ".seg"))
				assert_true(snprintf(seg, sizeof(seg), "%s/%.200s", dir,
				                     de->d_name) < (int)sizeof(seg));
		closedir(d);
		assert_true(seg[0] != '\0');
		fd = open(seg, O_RDWR);
		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &sb), 0);
		assert_int_equal((size_t)sb.st_size, 2 * (20 + rec.len));
		if (cases[c].how == 0) {
			/* First record: header 20 bytes, then the batch; its
			 * first position's latitude starts after "T1\t" and the
			 * 29-byte timestamp and a tab. */
			off_t at = 20 + 36 + 3 + 30;
			char ch;

			assert_int_equal(pread(fd, &ch, 1, at), 1);
			assert_true(ch >= '0' && ch <= '9');
			ch = ch == '9' ? '8' : (char)(ch + 1);
			assert_int_equal(pwrite(fd, &ch, 1, at), 1);
		} else {
			assert_int_equal(ftruncate(fd, sb.st_size - 5), 0);
		}
		close(fd);

		assert_int_equal(hz_queue_open(&q, dir, &o), HZ_QUEUE_OK);
		len = 0;
		while (hz_queue_next(q, &id, &data, &len) == HZ_QUEUE_OK) {
			struct gw_batch_view v;

			/* Whatever comes out is the record exactly as written. */
			assert_int_equal(len, rec.len);
			assert_memory_equal(data, rec.p, rec.len);
			assert_int_equal(gw_batch_parse(data, len, &v), GW_BATCH_OK);
			assert_int_equal(hz_queue_ack(q, id), HZ_QUEUE_OK);
		}
		hz_queue_get_stats(q, &st);
		print_message("# %s: corrupt=%llu torn=%llu\n", cases[c].name,
			      (unsigned long long)st.corrupt, (unsigned long long)st.torn);
		if (cases[c].how == 0)
			assert_int_equal(st.corrupt, 1);
		else
			assert_int_equal(st.torn, 1);
		hz_queue_free(q);

		d = opendir(dir);
		assert_non_null(d);
		while ((de = readdir(d)) != NULL) {
			char p[512];

			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(d);
		rmdir(dir);
	}
	gw_buf_free(&rec);
}

int
main(void)
{
	static const int v1 = 1, v2 = 2, v3 = 3;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(test_replay, (void *)&replays[0]),
		cmocka_unit_test_prestate(test_replay, (void *)&replays[1]),
		cmocka_unit_test_prestate(test_flipped_byte, (void *)&v3),
		cmocka_unit_test_prestate(test_flipped_byte, (void *)&v2),
		cmocka_unit_test_prestate(test_flipped_byte, (void *)&v1),
		cmocka_unit_test_prestate(test_truncated_tail, (void *)&v3),
		cmocka_unit_test_prestate(test_truncated_tail, (void *)&v2),
		cmocka_unit_test_prestate(test_truncated_tail, (void *)&v1),
		cmocka_unit_test(test_spool_damage),
	};
	struct CMUnitTest named[sizeof(tests) / sizeof(tests[0])];
	static const char *const names[] = {
		"replay_corpus_gateway_batch", "replay_crashes_gateway_batch",
		"flipped_shape_byte_refused", "flipped_shape_byte_refused_v2",
		"flipped_shape_byte_refused_v1", "truncated_tail_refused",
		"truncated_tail_refused_v2", "truncated_tail_refused_v1",
		"spool_damage_never_returned",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == sizeof(tests) / sizeof(tests[0]),
		       "a name for every test");

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		named[i] = tests[i];
		named[i].name = names[i];
	}
	return cmocka_run_group_tests(named, NULL, NULL);
}
