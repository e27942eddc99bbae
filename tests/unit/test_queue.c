/*
 * test_queue.c - cmocka tests of common/hz_queue.c, the on-disk
 * store-and-forward queue: append/next/ack, reopen, torn tail, corrupt
 * record in the middle, the byte bound with the oldest dropped, rewind;
 * records appended in pieces (hz_queue_appendv) and records kept while
 * more are read (hz_queue_next_keep).
 * Each case gets a fresh directory under $TMPDIR.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/hz_queue.h"

struct fixture {
	char dir[256];
	int warnings;
	char last_event[64];
};

static void
log_cb(void *arg, enum hz_queue_level level, const char *event, const char *detail)
{
	struct fixture *f = arg;

	(void)detail;
	if (level >= HZ_QUEUE_LOG_WARN)
		f->warnings++;
	snprintf(f->last_event, sizeof f->last_event, "%s", event);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "%s/trkq.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

static hz_queue *
open_q(struct fixture *f, uint64_t max_bytes, uint64_t seg_bytes)
{
	struct hz_queue_options o;
	hz_queue *q = NULL;

	hz_queue_options_init(&o);
	o.log = log_cb;
	o.log_arg = f;
	if (max_bytes)
		o.max_bytes = max_bytes;
	if (seg_bytes)
		o.segment_bytes = seg_bytes;
	assert_int_equal(hz_queue_open(&q, f->dir, &o), HZ_QUEUE_OK);
	assert_non_null(q);
	return q;
}

static void
append_n(hz_queue *q, int from, int to)
{
	char buf[64];

	for (int i = from; i <= to; i++) {
		uint64_t id;
		int n = snprintf(buf, sizeof buf, "record-%04d", i);

		assert_int_equal(hz_queue_append(q, buf, (size_t)n, &id), HZ_QUEUE_OK);
	}
}

/* Take the next record and check it is "record-NNNN" with the given id. */
static uint64_t
expect_next(hz_queue *q, int num)
{
	const void *data;
	size_t len;
	uint64_t id;
	char want[64];

	snprintf(want, sizeof want, "record-%04d", num);
	assert_int_equal(hz_queue_next(q, &id, &data, &len), HZ_QUEUE_OK);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(data, want, len);
	return id;
}

static void
expect_empty(hz_queue *q)
{
	const void *data;
	size_t len;
	uint64_t id;

	assert_int_equal(hz_queue_next(q, &id, &data, &len), HZ_QUEUE_EMPTY);
}

/* The newest segment file's path (largest name). */
static void
newest_segment(struct fixture *f, char *out, size_t cap)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	char best[256] = "";

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".seg") && strcmp(e->d_name, best) > 0)
			snprintf(best, sizeof best, "%s", e->d_name);
	closedir(d);
	assert_true(best[0] != '\0');
	snprintf(out, cap, "%s/%s", f->dir, best);
}

static int
count_segments(struct fixture *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		n += strstr(e->d_name, ".seg") != NULL;
	if (d)
		closedir(d);
	return n;
}

static void
test_append_next_ack(void **state)
{
	struct fixture *f = *state;
	hz_queue *q = open_q(f, 0, 0);
	struct hz_queue_stats st;

	assert_int_equal(hz_queue_next_id(q), 1);
	append_n(q, 1, 5);
	assert_int_equal(hz_queue_next_id(q), 6);
	for (int i = 1; i <= 5; i++)
		assert_int_equal(expect_next(q, i), (uint64_t)i);
	expect_empty(q);
	hz_queue_get_stats(q, &st);
	assert_int_equal(st.inflight, 5);
	assert_int_equal(st.pending, 5);
	for (uint64_t i = 1; i <= 5; i++)
		assert_int_equal(hz_queue_ack(q, i), HZ_QUEUE_OK);
	hz_queue_get_stats(q, &st);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(st.pending, 0);
	/* Live records after the backlog. */
	append_n(q, 6, 6);
	assert_int_equal(expect_next(q, 6), 6);
	assert_int_equal(f->warnings, 0);
	hz_queue_free(q);
}

static void
test_reopen_keeps_unacked(void **state)
{
	struct fixture *f = *state;
	hz_queue *q = open_q(f, 0, 0);

	append_n(q, 1, 10);
	for (int i = 1; i <= 4; i++)
		expect_next(q, i);
	/* 1..3 acked; 4 in flight when the process dies. */
	for (uint64_t i = 1; i <= 3; i++)
		hz_queue_ack(q, i);
	hz_queue_free(q);

	q = open_q(f, 0, 0);
	assert_int_equal(hz_queue_next_id(q), 11);     /* ids never reused */
	for (int i = 4; i <= 10; i++)
		assert_int_equal(expect_next(q, i), (uint64_t)i);
	expect_empty(q);
	for (uint64_t i = 4; i <= 10; i++)
		hz_queue_ack(q, i);
	hz_queue_free(q);

	/* Everything acked: nothing comes back, numbering continues. */
	q = open_q(f, 0, 0);
	expect_empty(q);
	assert_int_equal(hz_queue_next_id(q), 11);
	hz_queue_free(q);
}

static void
test_torn_tail(void **state)
{
	struct fixture *f = *state;
	hz_queue *q = open_q(f, 0, 0);
	char path[512];
	struct stat st;
	struct hz_queue_stats qs;

	append_n(q, 1, 3);
	hz_queue_free(q);
	/* A power cut in the middle of the last record. */
	newest_segment(f, path, sizeof path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 5), 0);

	q = open_q(f, 0, 0);
	hz_queue_get_stats(q, &qs);
	assert_int_equal(qs.torn, 1);
	assert_string_equal(f->last_event, "queue_open");
	assert_int_equal(f->warnings, 1);
	expect_next(q, 1);
	expect_next(q, 2);
	expect_empty(q);
	/* The torn record's id is reused for the next append: it was never
	 * complete, so never sent. */
	assert_int_equal(hz_queue_next_id(q), 3);
	append_n(q, 4, 4);
	assert_int_equal(expect_next(q, 4), 3);
	hz_queue_free(q);
}

static void
test_torn_header_only(void **state)
{
	struct fixture *f = *state;
	hz_queue *q = open_q(f, 0, 0);
	char path[512];
	int fd;

	append_n(q, 1, 2);
	hz_queue_free(q);
	newest_segment(f, path, sizeof path);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "TQR1\x40", 5), 5);     /* half a header */
	close(fd);

	q = open_q(f, 0, 0);
	expect_next(q, 1);
	expect_next(q, 2);
	expect_empty(q);
	hz_queue_free(q);
}

static void
test_corrupt_middle(void **state)
{
	struct fixture *f = *state;
	hz_queue *q = open_q(f, 0, 0);
	char path[512];
	struct hz_queue_stats qs;
	int fd;
	unsigned char c;
	off_t rec = 20 + 11;    /* header + "record-NNNN" */

	append_n(q, 1, 5);
	hz_queue_free(q);
	/* Flip one payload byte of the third record. */
	newest_segment(f, path, sizeof path);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, 2 * rec + 20 + 3), 1);
	c ^= 0x5a;
	assert_int_equal(pwrite(fd, &c, 1, 2 * rec + 20 + 3), 1);
	close(fd);

	q = open_q(f, 0, 0);
	f->warnings = 0;
	assert_int_equal(expect_next(q, 1), 1);
	assert_int_equal(expect_next(q, 2), 2);
	assert_int_equal(expect_next(q, 4), 4);
	assert_string_equal(f->last_event, "queue_corrupt_record");
	assert_int_equal(f->warnings, 1);
	assert_int_equal(expect_next(q, 5), 5);
	expect_empty(q);
	hz_queue_get_stats(q, &qs);
	assert_int_equal(qs.corrupt, 1);
	assert_int_equal(hz_queue_next_id(q), 6);
	hz_queue_free(q);
}

static void
test_corrupt_length_field(void **state)
{
	struct fixture *f = *state;
	hz_queue *q = open_q(f, 0, 0);
	char path[512];
	int fd;
	unsigned char big[4] = { 0xff, 0xff, 0xff, 0x7f };
	off_t rec = 20 + 11;

	append_n(q, 1, 4);
	hz_queue_free(q);
	newest_segment(f, path, sizeof path);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, big, 4, rec + 4), 4);       /* record 2's length */
	close(fd);

	q = open_q(f, 0, 0);
	expect_next(q, 1);
	expect_next(q, 3);
	expect_next(q, 4);
	expect_empty(q);
	hz_queue_free(q);
}

static void
test_bound_drops_oldest(void **state)
{
	struct fixture *f = *state;
	/* 4 KiB in all, 1 KiB segments: 33 records of 31 bytes per segment. */
	hz_queue *q = open_q(f, 4096, 1024);
	struct hz_queue_stats st;
	const void *data;
	size_t len;
	uint64_t id, first;

	append_n(q, 1, 400);
	hz_queue_get_stats(q, &st);
	assert_true(st.bytes <= 4096);
	assert_true(st.dropped > 0);
	assert_true(st.dropped >= 400 - 4096 / 31);
	assert_true(count_segments(f) <= 4);
	assert_string_equal(f->last_event, "queue_full_dropped");
	/* What is left is the newest records, in order, ending at 400. */
	assert_int_equal(hz_queue_next(q, &id, &data, &len), HZ_QUEUE_OK);
	first = id;
	assert_int_equal(first, st.dropped + 1);
	for (uint64_t want = first + 1; want <= 400; want++) {
		assert_int_equal(hz_queue_next(q, &id, &data, &len), HZ_QUEUE_OK);
		assert_int_equal(id, want);
	}
	expect_empty(q);
	hz_queue_free(q);
}

static void
test_rewind_resends_unacked(void **state)
{
	struct fixture *f = *state;
	hz_queue *q = open_q(f, 0, 0);

	append_n(q, 1, 6);
	for (int i = 1; i <= 5; i++)
		expect_next(q, i);
	hz_queue_ack(q, 1);
	hz_queue_ack(q, 3);    /* out of order: 2 still missing */
	hz_queue_rewind(q);    /* link dropped */
	assert_int_equal(expect_next(q, 2), 2);
	assert_int_equal(expect_next(q, 4), 4);        /* 3 was acked: not again */
	assert_int_equal(expect_next(q, 5), 5);
	assert_int_equal(expect_next(q, 6), 6);
	expect_empty(q);
	hz_queue_free(q);
}

static void
test_segments_retired_and_reopen(void **state)
{
	struct fixture *f = *state;
	hz_queue *q = open_q(f, 1 << 20, 4096);
	int n = 600;

	append_n(q, 1, n);
	assert_true(count_segments(f) > 3);
	for (int i = 1; i <= n - 10; i++)
		hz_queue_ack(q, expect_next(q, i));
	/* Fully acked segments are gone, the rest is still there. */
	assert_true(count_segments(f) <= 2);
	hz_queue_free(q);

	q = open_q(f, 1 << 20, 4096);
	for (int i = n - 9; i <= n; i++)
		expect_next(q, i);
	expect_empty(q);
	assert_int_equal(hz_queue_next_id(q), (uint64_t)n + 1);
	hz_queue_free(q);
}

static void
test_too_big_and_strerror(void **state)
{
	struct fixture *f = *state;
	struct hz_queue_options o;
	struct iovec v[HZ_QUEUE_IOV_MAX + 1];
	hz_queue *q = NULL;
	char big[300];

	hz_queue_options_init(&o);
	o.max_record = 200;
	assert_int_equal(hz_queue_open(&q, f->dir, &o), HZ_QUEUE_OK);
	memset(big, 'x', sizeof big);
	assert_int_equal(hz_queue_append(q, big, sizeof big, NULL), HZ_QUEUE_ERR_TOO_BIG);
	assert_int_equal(hz_queue_append(q, big, 200, NULL), HZ_QUEUE_OK);
	assert_string_equal(hz_queue_strerror(HZ_QUEUE_ERR_TOO_BIG), "record too big");
	/* In pieces: at most HZ_QUEUE_IOV_MAX of them, too big counted
	 * together. */
	for (int i = 0; i <= HZ_QUEUE_IOV_MAX; i++)
		v[i] = (struct iovec){ big, 1 };
	assert_int_equal(hz_queue_appendv(q, v, HZ_QUEUE_IOV_MAX + 1, NULL), HZ_QUEUE_ERR_INVAL);
	assert_int_equal(hz_queue_appendv(q, v, -1, NULL), HZ_QUEUE_ERR_INVAL);
	assert_int_equal(hz_queue_appendv(q, v, HZ_QUEUE_IOV_MAX, NULL), HZ_QUEUE_OK);
	v[0].iov_len = v[1].iov_len = 150;
	assert_int_equal(hz_queue_appendv(q, v, 2, NULL), HZ_QUEUE_ERR_TOO_BIG);
	v[1].iov_len = 50;
	assert_int_equal(hz_queue_appendv(q, v, 2, NULL), HZ_QUEUE_OK);
	assert_int_equal(hz_queue_next_id(q), 4);
	hz_queue_free(q);
	assert_int_equal(hz_queue_open(&q, "", &o), HZ_QUEUE_ERR_INVAL);
}

static void
test_one_process_per_directory(void **state)
{
	struct fixture *f = *state;
	hz_queue *q = open_q(f, 0, 0), *q2 = NULL;
	char nested[512];

	assert_int_equal(hz_queue_open(&q2, f->dir, NULL), HZ_QUEUE_ERR_BUSY);
	assert_null(q2);
	hz_queue_free(q);
	assert_int_equal(hz_queue_open(&q2, f->dir, NULL), HZ_QUEUE_OK);
	hz_queue_free(q2);
	/* Missing parents are created. */
	snprintf(nested, sizeof nested, "%s/a/b", f->dir);
	assert_int_equal(hz_queue_open(&q2, nested, NULL), HZ_QUEUE_OK);
	hz_queue_free(q2);
	unlink(strcat(nested, "/cursor"));
	snprintf(nested, sizeof nested, "%s/a/b", f->dir);
	rmdir(nested);
	snprintf(nested, sizeof nested, "%s/a", f->dir);
	rmdir(nested);
}

/* The whole content of the newest segment file into buf; returns its size. */
static size_t
slurp_newest(struct fixture *f, char *buf, size_t cap)
{
	char path[512];
	FILE *fp;
	size_t n;

	newest_segment(f, path, sizeof path);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	n = fread(buf, 1, cap, fp);
	fclose(fp);
	return n;
}

#define IOV(s, n) { (void *)(uintptr_t)(s), (n) }

/* A record appended in pieces is the record appended whole: the same bytes
 * on disk (header, CRC), read back as one. */
static void
test_appendv_pieces(void **state)
{
	struct fixture *f = *state;
	static const char rec[] = "HGB2 header, then sections";
	static const struct { const char *name; struct iovec v[4]; int n; } cases[] = {
		{ "one piece", { IOV(rec, 26) }, 1 },
		{ "three pieces", { IOV(rec, 4), IOV(rec + 4, 8), IOV(rec + 12, 14) }, 3 },
		{ "empty pieces between", { IOV(rec, 0), IOV(rec, 12), IOV(rec + 12, 0),
					    IOV(rec + 12, 14) }, 4 },
	};
	char whole[256], pieces[256];
	size_t nwhole, npieces;
	hz_queue *q;

	q = open_q(f, 0, 0);
	assert_int_equal(hz_queue_append(q, rec, 26, NULL), HZ_QUEUE_OK);
	hz_queue_free(q);
	nwhole = slurp_newest(f, whole, sizeof whole);
	assert_int_equal(nwhole, 20 + 26);
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		const void *data;
		size_t len;
		uint64_t id;

		teardown(state);
		assert_int_equal(setup(state), 0);
		f = *state;
		q = open_q(f, 0, 0);
		assert_int_equal(hz_queue_appendv(q, cases[c].v, cases[c].n, &id), HZ_QUEUE_OK);
		assert_int_equal(id, 1);
		assert_int_equal(hz_queue_next(q, &id, &data, &len), HZ_QUEUE_OK);
		assert_int_equal(len, 26);
		assert_memory_equal(data, rec, 26);
		hz_queue_free(q);
		npieces = slurp_newest(f, pieces, sizeof pieces);
		if (npieces != nwhole || memcmp(pieces, whole, nwhole) != 0)
			fail_msg("%s: not the bytes of the whole record", cases[c].name);
	}
	/* No pieces: an empty record, as hz_queue_append(q, NULL, 0). */
	teardown(state);
	assert_int_equal(setup(state), 0);
	f = *state;
	q = open_q(f, 0, 0);
	assert_int_equal(hz_queue_appendv(q, NULL, 0, NULL), HZ_QUEUE_OK);
	{
		const void *data;
		size_t len;
		uint64_t id;

		assert_int_equal(hz_queue_next(q, &id, &data, &len), HZ_QUEUE_OK);
		assert_int_equal(len, 0);
	}
	hz_queue_free(q);
}

/* Records read with hz_queue_next_keep stay where they are while more are
 * read (kept or not), across a rewind, until hz_queue_release. */
static void
test_next_keep(void **state)
{
	struct fixture *f = *state;
	hz_queue *q = open_q(f, 1 << 20, 4096);   /* several segments */
	const void *data[40];
	size_t len[40];
	uint64_t id;
	char want[64];

	for (int i = 1; i <= 40; i++) {
		int n = snprintf(want, sizeof want, "record-%04d", i);

		memset(want + n, 'k', (size_t)(i * 7 % 50));
		assert_int_equal(hz_queue_append(q, want, (size_t)n + (size_t)(i * 7 % 50), NULL),
				 HZ_QUEUE_OK);
	}
	for (int i = 1; i <= 30; i++) {
		assert_int_equal(hz_queue_next_keep(q, &id, &data[i - 1], &len[i - 1]), HZ_QUEUE_OK);
		assert_int_equal(id, (uint64_t)i);
	}
	{                         /* an ordinary read in between */
		const void *d;
		size_t l;

		assert_int_equal(hz_queue_next(q, &id, &d, &l), HZ_QUEUE_OK);
		assert_int_equal(id, 31);
		assert_memory_equal(d, "record-0031", 11);
	}
	for (int i = 1; i <= 30; i++) {
		int n = snprintf(want, sizeof want, "record-%04d", i);

		assert_int_equal(len[i - 1], (size_t)n + (size_t)(i * 7 % 50));
		assert_memory_equal(data[i - 1], want, (size_t)n);
	}
	for (uint64_t i = 1; i <= 10; i++)
		assert_int_equal(hz_queue_ack(q, i), HZ_QUEUE_OK);
	hz_queue_rewind(q);
	assert_memory_equal(data[0], "record-0001", 11);   /* not released by rewind */
	hz_queue_release(q);
	/* After the release the buffers are reused: the rewound records again. */
	for (int i = 11; i <= 40; i++) {
		const void *d;
		size_t l;

		assert_int_equal(hz_queue_next_keep(q, &id, &d, &l), HZ_QUEUE_OK);
		assert_int_equal(id, (uint64_t)i);
		snprintf(want, sizeof want, "record-%04d", i);
		assert_memory_equal(d, want, 11);
	}
	assert_int_equal(hz_queue_next_keep(q, &id, &data[0], &len[0]), HZ_QUEUE_EMPTY);
	hz_queue_release(q);
	hz_queue_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_next_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_unacked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_header_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_middle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_length_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_drops_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewind_resends_unacked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segments_retired_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big_and_strerror, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_process_per_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appendv_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_keep, setup, teardown),
	};

	return cmocka_run_group_tests_name("tracker_queue", tests, NULL, NULL);
}
