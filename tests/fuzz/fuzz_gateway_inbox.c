/*
 * fuzz_gateway_inbox.c - libFuzzer target for the inbox journal's reader
 * (gateway/gw_inbox.c, gw_inbox_open + gw_inbox_replay): what the daemon
 * reads back at start from the segments a crash left.
 *
 * Each input is the bytes of one segment file, written into a private
 * folder and replayed. Besides crashes and sanitizer reports, the target
 * aborts when a replayed record breaks the contract: its topic is
 * NUL-terminated inside a buffer of its length, its payload lies inside
 * the input, and the records handed over fit the input's size.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/gw_inbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char path[128];

struct ctx {
	const uint8_t *lo, *hi;
	size_t bytes;
};

static void
check(void *arg, const char *topic, const void *payload, size_t len, int64_t recv_us)
{
	struct ctx *c = arg;
	size_t tlen = strlen(topic);

	(void)recv_us;
	c->bytes += tlen + len;
	/* The payload is read in place, in a private copy of the file of
	 * the input's size: it cannot reach past it. */
	if (len > (size_t)(c->hi - c->lo) || c->bytes > (size_t)(c->hi - c->lo))
		abort();
	if (len && ((const char *)payload)[0] == (char)0xff && ((const char *)payload)[len - 1] == 0)
		(void)0;   /* touch both ends (ASan checks the reads) */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_inbox *ib;
	struct ctx c = { data, data + size, 0 };
	int fd;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_inbox.%d", (int)getpid());
		snprintf(path, sizeof(path), "%s/%020d.jnl", dir, 1);
	}
	if (gw_inbox_open(&ib, dir, 0) != GW_INBOX_OK)
		abort();
	gw_inbox_free(ib);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (gw_inbox_open(&ib, dir, 0) != GW_INBOX_OK)
		abort();
	(void)gw_inbox_replay(ib, check, &c, NULL);
	gw_inbox_free(ib);
	(void)unlink(path);
	return 0;
}
