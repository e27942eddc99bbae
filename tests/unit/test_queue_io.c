/*
 * test_queue_io.c - the queue when the disk misbehaves: writev(2)
 * (a record's one write, hz_queue_append and hz_queue_appendv) and
 * ftruncate(2) in common/hz_queue.c are wrapped (-Wl,--wrap). A
 * record whose write is cut short is refused (HZ_QUEUE_ERR_IO), the torn
 * bytes are cut off; where the cut fails too, the next append must not land
 * behind the torn bytes: every record appended successfully is read back,
 * in order, in this process and after a reopen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/hz_queue.h"

ssize_t __real_writev(int fd, const struct iovec *iov, int iovcnt);
int __real_ftruncate(int fd, off_t len);
ssize_t __wrap_writev(int fd, const struct iovec *iov, int iovcnt);
int __wrap_ftruncate(int fd, off_t len);

static bool short_write;        /* the next writev(2) writes half, once */
static bool truncate_fails;     /* ftruncate(2) fails with EIO */

ssize_t
__wrap_writev(int fd, const struct iovec *iov, int iovcnt)
{
	size_t n = 0, half;
	struct iovec cut[8];
	int k = 0;

	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	if (!short_write || n <= 8 || iovcnt > 8)
		return __real_writev(fd, iov, iovcnt);
	short_write = false;
	/* The first half of the pieces' bytes, as a disk that filled up. */
	for (half = n / 2; half > 0 && k < iovcnt; k++) {
		cut[k] = iov[k];
		if (cut[k].iov_len > half)
			cut[k].iov_len = half;
		half -= cut[k].iov_len;
	}
	return __real_writev(fd, cut, k);
}

int
__wrap_ftruncate(int fd, off_t len)
{
	if (truncate_fails) {
		errno = EIO;
		return -1;
	}
	return __real_ftruncate(fd, len);
}

static void
check_all(hz_queue *q, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t id;
		const void *data;
		size_t len;

		assert_int_equal(hz_queue_next(q, &id, &data, &len), HZ_QUEUE_OK);
		assert_int_equal(len, strlen(want[i]));
		assert_memory_equal(data, want[i], len);
	}
	{
		uint64_t id;
		const void *data;
		size_t len;

		assert_int_equal(hz_queue_next(q, &id, &data, &len), HZ_QUEUE_EMPTY);
	}
}

/* Append s as one record, whole or in three pieces. */
static int
append(hz_queue *q, const char *s, bool pieces)
{
	size_t n = strlen(s);
	struct iovec v[3] = { { (void *)(uintptr_t)s, 3 }, { (void *)(uintptr_t)(s + 3), 0 },
			      { (void *)(uintptr_t)(s + 3), n - 3 } };

	return pieces ? hz_queue_appendv(q, v, 3, NULL) : hz_queue_append(q, s, n, NULL);
}

static void
run(bool cut_fails, bool pieces)
{
	char dir[] = "/tmp/hazgate-qio-XXXXXX";
	static const char *const want[] = { "record one, written whole",
					    "record three, after the torn one" };
	struct hz_queue_options o;
	hz_queue *q = NULL;
	char cmd[64];

	assert_non_null(mkdtemp(dir));
	hz_queue_options_init(&o);
	assert_int_equal(hz_queue_open(&q, dir, &o), HZ_QUEUE_OK);
	assert_int_equal(append(q, want[0], pieces), HZ_QUEUE_OK);
	short_write = true;
	truncate_fails = cut_fails;
	assert_int_equal(append(q, "record two, torn by the disk", pieces), HZ_QUEUE_ERR_IO);
	assert_false(short_write);
	truncate_fails = false;
	assert_int_equal(append(q, want[1], pieces), HZ_QUEUE_OK);
	check_all(q, want, 2);
	hz_queue_free(q);

	q = NULL;
	assert_int_equal(hz_queue_open(&q, dir, &o), HZ_QUEUE_OK);
	check_all(q, want, 2);
	hz_queue_free(q);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_torn_write_cut_off(void **state)
{
	(void)state;
	run(false, false);
	run(false, true);
}

/* Before the fix the append after a failed cut went behind the torn bytes
 * in the same segment, where the reader, which trusts the size it kept,
 * read the torn record's bytes as the next one. */
static void
test_torn_write_not_cut(void **state)
{
	(void)state;
	run(true, false);
	run(true, true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_torn_write_cut_off),
		cmocka_unit_test(test_torn_write_not_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
