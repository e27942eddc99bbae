/*
 * test_queue_io.c - the queue when the disk misbehaves: write(2)
 * and ftruncate(2) in common/hz_queue.c are wrapped (-Wl,--wrap). A
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
#include <unistd.h>

#include "common/hz_queue.h"

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_ftruncate(int fd, off_t len);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_ftruncate(int fd, off_t len);

static bool short_write;        /* the next write(2) writes half, once */
static bool truncate_fails;     /* ftruncate(2) fails with EIO */

ssize_t
__wrap_write(int fd, const void *buf, size_t n)
{
	if (short_write && n > 8) {
		short_write = false;
		return __real_write(fd, buf, n / 2);
	}
	return __real_write(fd, buf, n);
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

static void
run(bool cut_fails)
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
	assert_int_equal(hz_queue_append(q, want[0], strlen(want[0]), NULL), HZ_QUEUE_OK);
	short_write = true;
	truncate_fails = cut_fails;
	assert_int_equal(hz_queue_append(q, "record two, torn by the disk", 28, NULL),
			 HZ_QUEUE_ERR_IO);
	truncate_fails = false;
	assert_int_equal(hz_queue_append(q, want[1], strlen(want[1]), NULL), HZ_QUEUE_OK);
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
	run(false);
}

/* Before the fix the append after a failed cut went behind the torn bytes
 * in the same segment, where the reader, which trusts the size it kept,
 * read the torn record's bytes as the next one. */
static void
test_torn_write_not_cut(void **state)
{
	(void)state;
	run(true);
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
