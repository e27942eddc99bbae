/*
 * test_queue_oom.c - the queue under failing allocations (chaos
 * test): malloc/realloc in common/hz_queue.c are wrapped (-Wl,--wrap) and
 * made to fail at the Nth call, for every N until a whole scenario runs
 * without a failure (appends whole and in pieces, reads with and without
 * keeping the records).  Whatever fails must fail with HZ_QUEUE_ERR_NOMEM (or
 * leave the queue usable), never crash, and never lose or reorder a record
 * that was appended successfully: reopened with working memory, the queue
 * hands out every appended record not acknowledged, in id order, and
 * nothing that was never appended.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/hz_queue.h"

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);

static long fail_at = -1;       /* fail the call with this number; -1 never */
static long calls;

void *
__wrap_malloc(size_t n)
{
	if (fail_at >= 0 && calls++ == fail_at)
		return NULL;
	return __real_malloc(n);
}

void *
__wrap_realloc(void *p, size_t n)
{
	if (fail_at >= 0 && calls++ == fail_at)
		return NULL;
	return __real_realloc(p, n);
}

static void
rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

#define NREC 120

/* One scenario: appends (small and large records, across segments; every
 * third one in pieces, hz_queue_appendv), sends (the second round keeping
 * the records, hz_queue_next_keep, and checking them after several more
 * reads), acks, a rewind, a reopen.  Records appended successfully are
 * marked in appended[], acknowledged ones in acked[]. */
static void
scenario(const char *dir, bool *appended, bool *acked)
{
	struct hz_queue_options o;
	hz_queue *q = NULL;
	char big[3000];
	int rc;

	hz_queue_options_init(&o);
	o.max_bytes = 1 << 20;
	o.segment_bytes = 8192;
	if (hz_queue_open(&q, dir, &o) != HZ_QUEUE_OK)
		return;
	for (int round = 0; round < 2; round++) {
		const void *kdata[NREC / 3];
		size_t klen[NREC / 3], nk = 0;
		uint64_t kid[NREC / 3];
		char khead[NREC / 3][16];

		for (int i = 0; i < NREC / 2; i++) {
			uint64_t id;
			size_t len;

			len = (size_t)snprintf(big, sizeof big, "rec %d.%d", round, i);
			if (i % 10 == 0) {      /* a large one */
				memset(big + len, 'x', 2500);
				len += 2500;
			}
			if (i % 3 == 1) {
				struct iovec v[3] = { { big, 4 }, { big + 4, 0 },
						      { big + 4, len - 4 } };

				rc = hz_queue_appendv(q, v, 3, &id);
			} else {
				rc = hz_queue_append(q, big, len, &id);
			}
			assert_true(rc == HZ_QUEUE_OK || rc == HZ_QUEUE_ERR_NOMEM);
			if (rc == HZ_QUEUE_OK)
				appended[id] = true;
		}
		for (int i = 0; i < NREC / 3; i++) {
			const void *data;
			size_t len;
			uint64_t id;

			if (round == 1)
				rc = hz_queue_next_keep(q, &id, &data, &len);
			else
				rc = hz_queue_next(q, &id, &data, &len);
			assert_true(rc == HZ_QUEUE_OK || rc == HZ_QUEUE_EMPTY ||
			            rc == HZ_QUEUE_ERR_NOMEM);
			if (rc != HZ_QUEUE_OK)
				continue;
			assert_true(appended[id]);
			assert_true(len >= 6 && memcmp(data, "rec ", 4) == 0);
			if (round == 1) {
				kdata[nk] = data;
				klen[nk] = len;
				memcpy(khead[nk], data, len < 16 ? len : 16);
				kid[nk++] = id;
			}
			if (i % 4 != 3 && hz_queue_ack(q, id) == HZ_QUEUE_OK)
				acked[id] = true;
		}
		/* Kept records are still there, whole, after the reads that
		 * followed them. */
		for (size_t k = 0; k < nk; k++) {
			const char *d = kdata[k];

			assert_true(kid[k] > (k ? kid[k - 1] : 0));
			assert_memory_equal(d, khead[k], klen[k] < 16 ? klen[k] : 16);
			assert_true(klen[k] < 2500 || d[klen[k] - 1] == 'x');
		}
		hz_queue_release(q);
		hz_queue_rewind(q);
	}
	hz_queue_free(q);
}

static void
test_queue_survives_failing_allocations(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256];
	long n;

	(void)state;
	for (n = 0;; n++) {
		bool appended[NREC + 2] = { false }, acked[NREC + 2] = { false };
		struct hz_queue_options o;
		hz_queue *q = NULL;
		uint64_t prev = 0;
		long used;

		snprintf(dir, sizeof dir, "%s/trkoom.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		assert_non_null(mkdtemp(dir));
		calls = 0;
		fail_at = n;
		scenario(dir, appended, acked);
		used = calls;
		fail_at = -1;

		/* With memory back: exactly the unacked appended records, in order. */
		hz_queue_options_init(&o);
		o.max_bytes = 1 << 20;
		o.segment_bytes = 8192;
		assert_int_equal(hz_queue_open(&q, dir, &o), HZ_QUEUE_OK);
		for (;;) {
			const void *data;
			size_t len;
			uint64_t id;
			int rc = hz_queue_next(q, &id, &data, &len);

			if (rc == HZ_QUEUE_EMPTY)
				break;
			assert_int_equal(rc, HZ_QUEUE_OK);
			assert_true(id > prev);
			/* An acked record may come back (its ack was above one
			 * still in flight, so not yet under the floor: at least
			 * once); one never appended must not. */
			if (!appended[id] && !acked[id])
				fail_msg("fail_at=%ld: record %llu was never appended", n,
				         (unsigned long long)id);
			appended[id] = false;
			prev = id;
		}
		for (uint64_t id = 1; id <= NREC; id++)
			if (appended[id] && !acked[id])
				fail_msg("fail_at=%ld: record %llu lost", n, (unsigned long long)id);
		hz_queue_free(q);
		rm_dir(dir);
		if (used <= n)
			break;          /* the scenario ran without hitting the failure */
	}
	assert_true(n > 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_survives_failing_allocations),
	};

	return cmocka_run_group_tests_name("tracker_queue_oom", tests, NULL, NULL);
}
