/*
 * fuzz_web_feed.c - libFuzzer target for what hazgate-web's live feed
 * reads from PostgreSQL notifications (any login may NOTIFY any channel,
 * so the payloads are outside input): web_pos_parse + web_pos_json (a
 * hazgate_positions line) and web_alert_from_notify (a hazgate_alerts
 * payload); and the gateway's gw_batch_pos_notify over arbitrary COPY
 * text. The first byte picks the reader, the rest is the input.
 *
 * Invariants (abort when broken): an accepted position gives a JSON object
 * on one line with the seven members; an accepted alert gives a JSON object
 * on one line whose id is the one returned; every payload the gateway
 * builds is at most 7999 bytes and has no empty line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "gateway/gw_batch.h"
#include "web/web_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_position(const char *line, size_t len)
{
	struct web_pos p;
	char out[16384];
	json_t *j;
	size_t n;

	if (web_pos_parse(line, len, &p) != 0)
		return;
	n = web_pos_json(&p, out, sizeof(out));
	if (n == 0 || memchr(out, '\n', n))
		abort();
	j = json_loadb(out, n, 0, NULL);
	if (!j || json_object_size(j) != 7 || !json_is_string(json_object_get(j, "vehicle")) ||
	    !json_is_number(json_object_get(j, "lat")) ||
	    !json_is_array(json_object_get(j, "zone_ids")))
		abort();
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		check_position(in, len);
		break;
	case 1: {
		struct evbuffer *b = evbuffer_new();
		int64_t id = 0;
		json_t *j;

		if (!b)
			return 0;
		if (web_alert_from_notify(in, len, b, &id) == 0) {
			size_t n = evbuffer_get_length(b);
			const char *s = (const char *)evbuffer_pullup(b, -1);

			if (memchr(s, '\n', n) || memchr(s, '\r', n))
				abort();
			j = json_loadb(s, n, 0, NULL);
			if (!j || json_integer_value(json_object_get(j, "id")) != id)
				abort();
			json_decref(j);
		}
		evbuffer_free(b);
		break;
	}
	default: {
		struct gw_buf out = { 0 };
		size_t payload = 0;

		if (gw_batch_pos_notify(&out, &payload, in, len) == 0 && out.len) {
			const char *p = out.p, *end = out.p + out.len;

			while (p < end) {
				const char *sep = memmem(p, (size_t)(end - p), "\n\n", 2);
				size_t l = (size_t)((sep ? sep : end) - p);

				if (l == 0 || l > GW_POS_NOTIFY_MAX)
					abort();
				p += l + (sep ? 2 : 0);
			}
			/* and the stream reads each line without harm */
			for (p = out.p; p < end;) {
				const char *eol = memchr(p, '\n', (size_t)(end - p));
				size_t l = (size_t)((eol ? eol : end) - p);

				check_position(p, l);
				p += l + 1;
			}
		}
		gw_buf_free(&out);
		break;
	}
	}
	return 0;
}
