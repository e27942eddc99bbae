/*
 * bench_web_sse.c - the boards of bench/bench_web.sh: N SSE clients of
 * hazgate-web's stream that read everything, count the position events
 * and time each one from its fix time (the load generator's --realtime
 * fix time is its publish time) to its arrival here.
 *
 *   bench_web_sse HOST PORT PATH CLIENTS SECONDS [HEADER]...
 *
 * Ends after SECONDS (or on SIGTERM/SIGINT) and prints key=value lines:
 * clients, connected (still open at the end), positions (events received,
 * all clients), bytes, latency_p50_ms, latency_p99_ms, latency_max_ms.
 * HTTP/1.0, so the stream comes without chunked framing. One thread, poll().
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/hz_clock.h"
#include "common/hz_time.h"

#define MAX_CLIENTS 1000
#define BUF 65536
#define HIST_MS 60000

struct client {
	int fd;
	size_t len;
	char buf[BUF];
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t hist[HIST_MS + 1], npos, nbytes;

/* Complete lines of c's buffer: position data lines timed. */
static void
scan(struct client *c, int64_t now_us)
{
	char *p = c->buf, *end = c->buf + c->len, *eol;

	while ((eol = memchr(p, '\n', (size_t)(end - p)))) {
		static const char pre[] = "data: {\"vehicle\":";

		if ((size_t)(eol - p) > sizeof(pre) && memcmp(p, pre, sizeof(pre) - 1) == 0) {
			char *ts = memmem(p, (size_t)(eol - p), "\"ts\":\"", 6);
			int64_t us;

			npos++;
			if (ts && eol - ts > 30 && hz_time_parse(ts + 6, 24, &us) == 0) {
				int64_t ms = (now_us - us) / 1000;

				hist[ms < 0 ? 0 : ms > HIST_MS ? HIST_MS : ms]++;
			}
		}
		p = eol + 1;
	}
	c->len = (size_t)(end - p);
	memmove(c->buf, p, c->len);
	if (c->len == BUF)
		c->len = 0;   /* a line longer than the buffer: not ours */
}

static int64_t
pct(double q)
{
	uint64_t total = 0, seen = 0;

	for (int i = 0; i <= HIST_MS; i++)
		total += hist[i];
	if (!total)
		return -1;
	for (int i = 0; i <= HIST_MS; i++) {
		seen += hist[i];
		if ((double)seen >= q * (double)total)
			return i;
	}
	return HIST_MS;
}

int
main(int argc, char **argv)
{
	static struct client cl[MAX_CLIENTS];
	struct pollfd pf[MAX_CLIENTS];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[4096];
	int n, secs, open = 0;
	int64_t end_us, maxms = -1;
	size_t rl;

	if (argc < 6 || (n = atoi(argv[4])) < 1 || n > MAX_CLIENTS || (secs = atoi(argv[5])) < 1) {
		fprintf(stderr, "usage: bench_web_sse HOST PORT PATH CLIENTS SECONDS [HEADER]...\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "bench_web_sse: HOST must be an IPv4 address\n");
		return 2;
	}
	rl = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n", argv[3], argv[1]);
	for (int i = 6; i < argc && rl < sizeof(req); i++)
		rl += (size_t)snprintf(req + rl, sizeof(req) - rl, "%s\r\n", argv[i]);
	rl += (size_t)snprintf(req + rl, sizeof(req) - rl, "\r\n");
	if (rl >= sizeof(req))
		return 2;
	for (int i = 0; i < n; i++) {
		cl[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (cl[i].fd < 0 || connect(cl[i].fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    write(cl[i].fd, req, rl) != (ssize_t)rl) {
			fprintf(stderr, "bench_web_sse: client %d: %s\n", i, strerror(errno));
			return 1;
		}
		pf[i] = (struct pollfd){ .fd = cl[i].fd, .events = POLLIN };
		open++;
	}
	fprintf(stderr, "bench_web_sse: %d clients connected\n", n);
	end_us = hz_mono_us() + (int64_t)secs * 1000000;
	while (!stop && open > 0 && hz_mono_us() < end_us) {
		int r = poll(pf, (nfds_t)n, 200);
		int64_t now = hz_now_us();

		if (r < 0 && errno != EINTR)
			break;
		for (int i = 0; r > 0 && i < n; i++) {
			ssize_t got;

			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(cl[i].fd, cl[i].buf + cl[i].len, BUF - cl[i].len);
			if (got <= 0) {
				close(cl[i].fd);
				pf[i].fd = -1;
				open--;
				continue;
			}
			nbytes += (uint64_t)got;
			cl[i].len += (size_t)got;
			scan(&cl[i], now);
		}
	}
	for (int i = HIST_MS; i >= 0; i--)
		if (hist[i]) {
			maxms = i;
			break;
		}
	printf("clients=%d\nconnected=%d\npositions=%llu\nbytes=%llu\n", n, open,
	       (unsigned long long)npos, (unsigned long long)nbytes);
	printf("latency_p50_ms=%lld\nlatency_p99_ms=%lld\nlatency_max_ms=%lld\n",
	       (long long)pct(0.50), (long long)pct(0.99), (long long)maxms);
	return 0;
}
