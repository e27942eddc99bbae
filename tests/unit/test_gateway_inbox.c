/*
 * test_gateway_inbox: the gateway's inbox journal (gateway/gw_inbox.c).
 * Messages put by a process that is then SIGKILLed are all replayed by the
 * next open, in order, with their topic, payload and time; a cut and a trim
 * remove what was sealed; a reused segment's old records are never
 * replayed; a damaged record ends its segment (counted), the
 * records before it still replayed; an empty journal leaves no file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/gw_inbox.h"

struct seen {
	size_t n;
	int64_t first_us, last_us;
	bool order_ok;
	char last_topic[64];
	char last_payload[256];
};

static void
collect(void *arg, const char *topic, const void *payload, size_t len, int64_t recv_us)
{
	struct seen *s = arg;

	if (s->n && recv_us != s->last_us + 1)
		s->order_ok = false;
	if (!s->n)
		s->first_us = recv_us;
	s->last_us = recv_us;
	snprintf(s->last_topic, sizeof(s->last_topic), "%s", topic);
	snprintf(s->last_payload, sizeof(s->last_payload), "%.*s", (int)len, (const char *)payload);
	s->n++;
}

static char *
tmpdir(void)
{
	char tmpl[] = "/tmp/test_inbox.XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static size_t
files_in(const char *dir)
{
	char cmd[512];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "ls -1 %s | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%zu", &n), 1);
	pclose(p);
	return n;
}

static void
rm_rf(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
put_n(struct gw_inbox *ib, size_t from, size_t n)
{
	char payload[128];

	for (size_t i = from; i < from + n; i++) {
		int len = snprintf(payload, sizeof(payload), "{\"seq\":%zu,\"lat\":37.87}", i);

		assert_int_equal(gw_inbox_put(ib, "tankers/v/telemetry", payload, (size_t)len,
					      (int64_t)i), GW_INBOX_OK);
	}
}

/* A child puts 20,000 messages over several segments (64 KiB each) and is
 * killed: the next open replays them all, in order. */
static void
test_sigkill_keeps_everything(void **state)
{
	char *dir = tmpdir();
	struct gw_inbox *ib;
	struct seen s = { .order_ok = true };
	size_t torn = 9;
	int st;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (gw_inbox_open(&ib, dir, 64 << 10) != GW_INBOX_OK)
			_exit(3);
		put_n(ib, 1, 20000);
		raise(SIGKILL);
		_exit(4);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(gw_inbox_open(&ib, dir, 64 << 10), GW_INBOX_OK);
	assert_true(gw_inbox_segments(ib) > 2);
	assert_int_equal(gw_inbox_replay(ib, collect, &s, &torn), 20000);
	assert_int_equal(torn, 0);
	assert_true(s.order_ok);
	assert_int_equal(s.first_us, 1);
	assert_int_equal(s.last_us, 20000);
	assert_string_equal(s.last_topic, "tankers/v/telemetry");
	assert_string_equal(s.last_payload, "{\"seq\":20000,\"lat\":37.87}");
	/* Once: a second replay hands over nothing. */
	assert_int_equal(gw_inbox_replay(ib, collect, &s, NULL), 0);
	gw_inbox_free(ib);
	rm_rf(dir);
	free(dir);
}

/* Cut at a seal, trim once the batch is in the spool: only what came after
 * the cut is replayed; the old segments are gone. */
static void
test_cut_and_trim(void **state)
{
	char *dir = tmpdir();
	struct gw_inbox *ib;
	struct seen s = { .order_ok = true };
	uint64_t cut;

	(void)state;
	assert_int_equal(gw_inbox_open(&ib, dir, 64 << 10), GW_INBOX_OK);
	put_n(ib, 1, 3000);            /* several segments */
	cut = gw_inbox_cut(ib);
	put_n(ib, 3001, 10);
	gw_inbox_trim(ib, cut);
	assert_int_equal(gw_inbox_segments(ib), 1);   /* in use; the others free, kept for reuse */
	assert_true(files_in(dir) <= 5);
	/* A crash now (no free): the next open replays the 10. */
	{
		struct gw_inbox *ib2;

		assert_int_equal(gw_inbox_open(&ib2, dir, 64 << 10), GW_INBOX_OK);
		assert_int_equal(gw_inbox_replay(ib2, collect, &s, NULL), 10);
		assert_int_equal(s.first_us, 3001);
		gw_inbox_free(ib2);
	}
	/* Cut again with everything sealed, trim: nothing left after free. */
	gw_inbox_trim(ib, gw_inbox_cut(ib));
	gw_inbox_free(ib);
	assert_int_equal(files_in(dir), 0);
	rm_rf(dir);
	free(dir);
}

/* Trimmed segments are reused (no new file, no page fault): the records
 * an earlier use left in them are never replayed. */
static void
test_reuse_no_stale(void **state)
{
	char *dir = tmpdir();
	struct gw_inbox *ib, *ib2;
	struct seen s = { .order_ok = true };
	size_t before;

	(void)state;
	assert_int_equal(gw_inbox_open(&ib, dir, 64 << 10), GW_INBOX_OK);
	put_n(ib, 1, 3000);
	gw_inbox_trim(ib, gw_inbox_cut(ib));
	assert_int_equal(gw_inbox_segments(ib), 0);
	before = files_in(dir);
	put_n(ib, 5001, 7);
	assert_int_equal(files_in(dir), before);   /* a free segment taken again */
	/* A crash now: only the 7. */
	assert_int_equal(gw_inbox_open(&ib2, dir, 64 << 10), GW_INBOX_OK);
	assert_int_equal(gw_inbox_replay(ib2, collect, &s, NULL), 7);
	assert_true(s.order_ok);
	assert_int_equal(s.first_us, 5001);
	gw_inbox_free(ib2);
	gw_inbox_free(ib);
	rm_rf(dir);
	free(dir);
}

/* A byte changed in the middle of a segment: the records before it are
 * replayed, the segment counts as torn. A message larger than a segment
 * gets one of its own. */
static void
test_damage_and_big(void **state)
{
	char *dir = tmpdir(), path[512], cmd[700];
	struct gw_inbox *ib;
	struct seen s = { .order_ok = true };
	size_t torn = 0, big = 200000, n;
	char *payload = malloc(big);
	FILE *fp;

	(void)state;
	assert_non_null(payload);
	memset(payload, 'x', big);
	assert_int_equal(gw_inbox_open(&ib, dir, 64 << 10), GW_INBOX_OK);
	put_n(ib, 1, 100);
	snprintf(path, sizeof(path), "%s/%020d.jnl", dir, 1);
	assert_int_equal(gw_inbox_put(ib, "t/big", payload, big, 101), GW_INBOX_OK);
	gw_inbox_free(ib);             /* not empty: kept */
	/* Damage record 51's topic (records are 72 bytes apart here). */
	fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 16 + 50 * 72 + 30, SEEK_SET), 0);
	assert_int_equal(fputc('#', fp), '#');
	fclose(fp);
	assert_int_equal(gw_inbox_open(&ib, dir, 64 << 10), GW_INBOX_OK);
	n = gw_inbox_replay(ib, collect, &s, &torn);
	assert_int_equal(n, 51);       /* 1..50 and the big one */
	assert_int_equal(torn, 1);
	assert_int_equal(s.last_us, 101);
	gw_inbox_free(ib);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(payload);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_keeps_everything),
		cmocka_unit_test(test_cut_and_trim),
		cmocka_unit_test(test_reuse_no_stale),
		cmocka_unit_test(test_damage_and_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
