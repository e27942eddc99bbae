/*
 * spool-append.c - test tool: append records to a spool folder (the
 * common queue, common/hz_queue.h, as the gateway keeps it), so that
 * integration tests can hand the gateway records it never wrote: damaged
 * batches that pass the queue's CRC, to see them set aside.
 *
 *   spool-append DIR COUNT < BYTES
 *
 * Appends the bytes read from stdin COUNT times, one record each, with
 * fdatasync, then closes the queue. Exit 0, or 1 with a message on stderr.
 * The gateway must not be running on DIR (the queue takes a lock).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hz_queue.h"

int
main(int argc, char **argv)
{
	struct hz_queue_options o;
	hz_queue *q = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	long count;
	int rc, status = 1;

	if (argc != 3 || (count = strtol(argv[2], NULL, 10)) < 1) {
		fprintf(stderr, "usage: spool-append DIR COUNT < BYTES\n");
		return 2;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *b = realloc(buf, cap ? 2 * cap : 65536);

			if (!b)
				goto done;
			buf = b;
			cap = cap ? 2 * cap : 65536;
		}
		n = fread(buf + len, 1, cap - len, stdin);
		len += n;
		if (n == 0)
			break;
	}
	hz_queue_options_init(&o);
	o.fsync = HZ_QUEUE_FSYNC_ALWAYS;
	rc = hz_queue_open(&q, argv[1], &o);
	if (rc != HZ_QUEUE_OK) {
		fprintf(stderr, "spool-append: %s: %s\n", argv[1], hz_queue_strerror(rc));
		goto done;
	}
	for (long i = 0; i < count; i++) {
		rc = hz_queue_append(q, buf, len, NULL);
		if (rc != HZ_QUEUE_OK) {
			fprintf(stderr, "spool-append: append: %s (%s)\n", hz_queue_strerror(rc),
			        strerror(errno));
			goto done;
		}
	}
	status = 0;
done:
	if (q)
		hz_queue_free(q);
	free(buf);
	return status;
}
