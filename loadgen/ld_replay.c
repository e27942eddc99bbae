/*
 * ld_replay.c: hazgate-load's file source. Reads a native-JSON ndjson file
 * (a payload per line, or "topic<TAB>payload" as hazgate-ctl replay takes)
 * into memory and hands out one message per non-empty line, in file order,
 * on tankers/<vehicle>/telemetry (the line's own topic when it has one).
 *
 * Time shifts rewrite the "ts" string (or "ts_ms" integer) in the payload
 * text and leave every other byte as it was:
 *   --shift-to-now  the first fix becomes now, spacing divided by --speedup,
 *                   and each message is due at its new time (a fix is never
 *                   published before it happened);
 *   --end-at-now    the last fix becomes now, published as fast as allowed.
 * Without a shift the payload goes out byte for byte. A line that is not
 * JSON is published as it is (to tankers/unknown/telemetry), so bad payloads
 * can be replayed too; with a shift, such lines keep their place.
 * Limits: the whole file is held in memory; the "ts" key is found textually
 * (the first `"ts"` key of the object), which fits native telemetry.
 */
#include "loadgen/ld.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct line {
	size_t topic_off, topic_len;   /* topic_len 0: derive from the vehicle */
	size_t pay_off, pay_len;
	size_t ts_off, ts_len;         /* value text in the payload, ts_len 0: none */
	bool ts_is_ms;
	int64_t ts_ms;
	char vehicle[96];
};

struct ld_replay {
	struct ld_replay_opts o;
	char *text;
	size_t size;
	struct line *lines;
	size_t n, next;
	int64_t first_ms, last_ms;
	int64_t wall0_ms;
	char topic[256];
	char *buf;       /* payload being rewritten */
	size_t bufcap;
};

/* Find the value of a top-level-looking key `"name"` in p[0..len): offsets of
 * a string's content (without quotes) or of an integer. */
static bool
find_key(const char *p, size_t len, const char *name, bool string, size_t *off, size_t *vlen)
{
	size_t nl = strlen(name);
	const char *end = p + len, *s = p;

	while ((s = memmem(s, (size_t)(end - s), name, nl)) != NULL) {
		const char *q = s + nl;
		s = q;
		if (s - nl == p || s[-(long)nl - 1] != '"' || q >= end || *q != '"')
			continue;
		q++;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || *q != ':')
			continue;
		q++;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (string) {
			const char *v;
			if (q >= end || *q != '"')
				continue;
			v = ++q;
			while (q < end && *q != '"' && *q != '\\')
				q++;
			if (q >= end || *q != '"')
				continue;
			*off = (size_t)(v - p);
			*vlen = (size_t)(q - v);
			return true;
		} else {
			const char *v = q;
			if (q < end && *q == '-')
				q++;
			while (q < end && *q >= '0' && *q <= '9')
				q++;
			if (q == v)
				continue;
			*off = (size_t)(v - p);
			*vlen = (size_t)(q - v);
			return true;
		}
	}
	return false;
}

static int
parse_line(struct ld_replay *r, struct line *l)
{
	const char *pay = r->text + l->pay_off;
	json_t *root;
	json_error_t e;
	const char *veh;
	size_t off, vlen;

	root = json_loadb(pay, l->pay_len, 0, &e);
	veh = json_string_value(json_object_get(root, "vehicle"));
	if (veh != NULL && strlen(veh) < sizeof(l->vehicle))
		strcpy(l->vehicle, veh);
	json_decref(root);
	if (find_key(pay, l->pay_len, "ts", true, &off, &vlen) &&
	    ld_time_parse(pay + off, vlen, &l->ts_ms) == LD_OK) {
		l->ts_off = off;
		l->ts_len = vlen;
	} else if (find_key(pay, l->pay_len, "ts_ms", false, &off, &vlen)) {
		l->ts_off = off;
		l->ts_len = vlen;
		l->ts_is_ms = true;
		l->ts_ms = strtoll(pay + off, NULL, 10);
	}
	return LD_OK;
}

static int
read_all(const char *path, char **text, size_t *size)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 1 << 16, n = 0, got;
	char *buf = NULL, *nb;
	int rc = LD_OK;

	if (f == NULL) {
		fprintf(stderr, "hazgate-load: %s: %s\n", path, strerror(errno));
		return LD_ERR_IO;
	}
	for (;;) {
		if ((nb = realloc(buf, cap + 1)) == NULL) {
			rc = LD_ERR_NOMEM;
			goto done;
		}
		buf = nb;
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap) {
			if (ferror(f)) {
				fprintf(stderr, "hazgate-load: %s: read error\n", path);
				rc = LD_ERR_IO;
			}
			break;
		}
		cap *= 2;
	}
	buf[n] = '\0';
	*text = buf;
	*size = n;
	buf = NULL;
done:
	free(buf);
	if (f != stdin)
		fclose(f);
	return rc;
}

int
ld_replay_new(const struct ld_replay_opts *o, struct ld_replay **out)
{
	struct ld_replay *r;
	size_t cap = 0, pos = 0;
	int rc;
	bool have_ts = false;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return LD_ERR_NOMEM;
	r->o = *o;
	if (r->o.speedup <= 0)
		r->o.speedup = 1;
	if ((rc = read_all(o->file, &r->text, &r->size)) != LD_OK)
		goto err;
	while (pos < r->size) {
		char *nl = memchr(r->text + pos, '\n', r->size - pos);
		size_t end = nl ? (size_t)(nl - r->text) : r->size, ls = pos, le = end;
		struct line *l;
		char *tab;

		pos = end + 1;
		if (le > ls && r->text[le - 1] == '\r')
			le--;
		if (le == ls)
			continue;
		if (r->n == cap) {
			struct line *nlines;
			cap = cap ? cap * 2 : 1024;
			if ((nlines = realloc(r->lines, cap * sizeof(*nlines))) == NULL) {
				rc = LD_ERR_NOMEM;
				goto err;
			}
			r->lines = nlines;
		}
		l = &r->lines[r->n++];
		memset(l, 0, sizeof(*l));
		tab = memchr(r->text + ls, '\t', le - ls);
		if (tab != NULL && r->text[ls] != '{') {
			l->topic_off = ls;
			l->topic_len = (size_t)(tab - (r->text + ls));
			ls = (size_t)(tab - r->text) + 1;
		}
		l->pay_off = ls;
		l->pay_len = le - ls;
		parse_line(r, l);
		if (l->ts_len > 0) {
			if (!have_ts || l->ts_ms < r->first_ms)
				r->first_ms = l->ts_ms;
			if (!have_ts || l->ts_ms > r->last_ms)
				r->last_ms = l->ts_ms;
			have_ts = true;
		}
	}
	if (r->n == 0) {
		fprintf(stderr, "hazgate-load: %s: no lines\n", o->file);
		rc = LD_ERR_DATA;
		goto err;
	}
	if ((o->shift_to_now || o->end_at_now) && !have_ts) {
		fprintf(stderr, "hazgate-load: %s: no line has a usable ts to shift\n", o->file);
		rc = LD_ERR_DATA;
		goto err;
	}
	*out = r;
	return LD_OK;
err:
	ld_replay_free(r);
	return rc;
}

void
ld_replay_free(struct ld_replay *r)
{
	if (r == NULL)
		return;
	free(r->text);
	free(r->lines);
	free(r->buf);
	free(r);
}

size_t
ld_replay_count(const struct ld_replay *r)
{
	return r->n;
}

static void
replay_start(void *ctx, int64_t wall_us)
{
	struct ld_replay *r = ctx;

	r->wall0_ms = wall_us / 1000;
	r->next = 0;
}

static int
replay_next(void *ctx, struct ld_msg *m)
{
	struct ld_replay *r = ctx;
	struct line *l;
	const char *pay;
	bool shift = r->o.shift_to_now || r->o.end_at_now;

	if (r->next >= r->n)
		return 0;
	l = &r->lines[r->next++];
	pay = r->text + l->pay_off;
	if (l->topic_len > 0)
		snprintf(r->topic, sizeof(r->topic), "%.*s", (int)l->topic_len, r->text + l->topic_off);
	else
		ld_topic_format(r->o.topic, l->vehicle[0] ? l->vehicle : "unknown", r->topic,
		                sizeof(r->topic));
	m->topic = r->topic;
	m->payload = pay;
	m->payload_len = l->pay_len;
	m->due_us = -1;
	m->vehicle = l->vehicle[0] ? l->vehicle : NULL;
	m->ts_ms = l->ts_ms;
	if (shift && l->ts_len > 0) {
		int64_t ts;
		char tsbuf[40];
		int tslen;
		size_t need;

		if (r->o.shift_to_now) {
			int64_t off = (int64_t)((double)(l->ts_ms - r->first_ms) / r->o.speedup);
			ts = r->wall0_ms + off;
			m->due_us = off * 1000;
		} else {
			ts = r->wall0_ms - (int64_t)((double)(r->last_ms - l->ts_ms) / r->o.speedup);
		}
		if (l->ts_is_ms)
			tslen = snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
		else
			tslen = ld_time_format(ts, tsbuf, sizeof(tsbuf));
		need = l->pay_len - l->ts_len + (size_t)tslen;
		if (need > r->bufcap) {
			char *nb = realloc(r->buf, need);
			if (nb == NULL)
				return -LD_ERR_NOMEM;
			r->buf = nb;
			r->bufcap = need;
		}
		memcpy(r->buf, pay, l->ts_off);
		memcpy(r->buf + l->ts_off, tsbuf, (size_t)tslen);
		memcpy(r->buf + l->ts_off + (size_t)tslen, pay + l->ts_off + l->ts_len,
		       l->pay_len - l->ts_off - l->ts_len);
		m->payload = r->buf;
		m->payload_len = need;
		m->ts_ms = ts;
	}
	return 1;
}

struct ld_source
ld_replay_source(struct ld_replay *r)
{
	struct ld_source s = { r, replay_start, replay_next };

	return s;
}
