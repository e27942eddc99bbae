/*
 * web_stream.c - the live stream (web_stream.h): one hub, one database
 * connection, every SSE client of hazgate-web.
 *
 * The hub's connection LISTENs to hazgate_alerts (the gateway's committed
 * alerts, its JSON as payload), hazgate_acks (005: an acknowledgement's
 * event id; the alert is read back) and hazgate_positions (the gateway's
 * committed positions, a line each, gateway/gw_batch.c
 * gw_batch_pos_notify). Nothing here reads the positions table.
 *
 * Alerts. A client without Last-Event-ID is live at once. One with it is
 * replayed first: SELECT ... WHERE id > N ORDER BY id, by pages of
 * REPLAY_PAGE, on the hub's connection; it gets no live alert until its
 * last page is in, and from then on only alerts above the highest id it
 * was sent. No gap: a notification of an alert committed after a page's
 * snapshot arrives after that page's result (PostgreSQL sends a busy
 * backend's notifications when its statement is done), and the last page
 * is followed only by such notifications. No duplicate: the id check.
 * Both hold while alert ids are committed in ascending order, which the
 * one gateway writing them (one transaction at a time) does. When the
 * hub's connection comes back after a loss, the alerts committed
 * meanwhile are read (above the highest id the hub has seen) and sent to
 * the live clients the same way; live alerts notified during that read
 * are held back and the read repeated, so that none goes out before a
 * lower one the read had not reached yet (the clients' id check would
 * then skip that one).
 *
 * Positions. Every line becomes one `position` event, at most one per
 * vehicle per second for the whole hub (and so per client): a position
 * within a second of the vehicle's last one waits, the newer replacing
 * it, and goes out when the second is over (a 100 ms tick); one older than
 * the vehicle's newest is dropped. A waiting one is kept as its line and
 * rendered only if it goes out. Events are rendered once and gathered for
 * FLUSH_MS (or FLUSH_BYTES), then copied to each client in one write. Positions lost while the hub's
 * connection is down are not made up: the next fix comes within seconds.
 *
 * A client whose socket does not take what is written (more than out_max
 * bytes pending at a check, every CHECK_MS, or SLOW_BURST times that at
 * any time) is dropped: its memory is bounded, and EventSource comes back
 * with Last-Event-ID. Heartbeat comments keep proxies from closing an
 * idle stream and find dead peers.
 */
#include "web/web_stream.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "common/hz_clock.h"
#include "common/hz_hash.h"
#include "common/hz_log.h"
#include "common/hz_time.h"
#include "net/net_pg.h"

#define REPLAY_PAGE 1000
#define ACK_PENDING_MAX 256
#define VEHICLES_MAX (1u << 20)
#define POS_INTERVAL_US 1000000
#define TICK_US 100000
#define POS_JSON_MAX 8192
#define SLOW_BURST 4
#define FLUSH_MS 50
#define FLUSH_BYTES (256 * 1024)
#define CHECK_MS 500
#define CATCHUP_RETRY_MIN_MS 1000
#define CATCHUP_RETRY_MAX_MS 8000
#define CATCHUP_HOLD_MAX_MS 60000

/* ---- the pure parts ----------------------------------------------------- */

/* A number as the gateway writes it: -?digits(.digits)?, finite. */
static int
copy_number(const char *p, size_t len, char *out, size_t cap, double lo, double hi, bool null_ok)
{
	size_t i = 0, digits = 0;
	char *end;
	double v;

	if (len == 2 && memcmp(p, "\\N", 2) == 0 && null_ok) {
		out[0] = '\0';
		return 0;
	}
	if (len == 0 || len >= cap)
		return -1;
	if (p[0] == '-')
		i++;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++)
		digits++;
	/* JSON's grammar: no leading zero ("00", "-01") */
	if (digits == 0 || (digits > 1 && p[i - digits] == '0'))
		return -1;
	if (i < len && p[i] == '.') {
		size_t f = 0;

		for (i++; i < len && p[i] >= '0' && p[i] <= '9'; i++)
			f++;
		if (f == 0)
			return -1;
	}
	if (i != len)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	errno = 0;
	v = strtod(out, &end);
	if (errno || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	return 0;
}

static bool
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i], n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if (i + n >= len)
			return false;
		for (unsigned k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += n + 1;
	}
	return true;
}

int
web_pos_parse(const char *line, size_t len, struct web_pos *out)
{
	const char *f[7], *p = line, *end = line + len;
	size_t flen[7], vl = 0;
	int n = 0;

	if (!line)
		return -1;
	while (n < 7) {
		const char *t = memchr(p, '\t', (size_t)(end - p));

		f[n] = p;
		flen[n] = (size_t)((t ? t : end) - p);
		n++;
		if (!t)
			break;
		p = t + 1;
	}
	if (n != 7 || f[6] + flen[6] != end)
		return -1;
	/* vehicle: COPY text escapes undone */
	for (size_t i = 0; i < flen[0]; i++) {
		char c = f[0][i];

		if (c == '\\') {
			if (++i >= flen[0])
				return -1;
			switch (f[0][i]) {
			case '\\': c = '\\'; break;
			case 't': c = '\t'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			default: return -1;
			}
		}
		if (vl >= 32 || c == '\0')
			return -1;
		out->vehicle[vl++] = c;
	}
	if (vl == 0 || !utf8_valid((const unsigned char *)out->vehicle, vl))
		return -1;
	out->vehicle[vl] = '\0';
	if (flen[1] != 24 || hz_time_parse(f[1], 24, NULL) != 0 || f[1][23] != 'Z')
		return -1;
	memcpy(out->ts, f[1], 24);
	out->ts[24] = '\0';
	if (copy_number(f[2], flen[2], out->lat, sizeof(out->lat), -90, 90, false) ||
	    copy_number(f[3], flen[3], out->lon, sizeof(out->lon), -180, 180, false) ||
	    copy_number(f[4], flen[4], out->speed, sizeof(out->speed), -1e6, 1e6, true) ||
	    copy_number(f[5], flen[5], out->heading, sizeof(out->heading), -1e6, 1e6, true))
		return -1;
	/* zone ids: "" or integers separated by single commas */
	for (size_t i = 0, digits = 0; i <= flen[6]; i++) {
		char c = i < flen[6] ? f[6][i] : ',';

		if (c >= '0' && c <= '9') {
			/* at most 10 digits, no leading zero (JSON) */
			if (++digits > 10 || (digits == 2 && f[6][i - 1] == '0'))
				return -1;
		} else if (c == '-' && (i == 0 || f[6][i - 1] == ',') && i + 1 < flen[6] &&
			   f[6][i + 1] >= '0' && f[6][i + 1] <= '9') {
			continue;   /* a sign, at the start of an id, before a digit */
		} else if (c == ',' && (digits > 0 || (i == flen[6] && flen[6] == 0))) {
			digits = 0;
		} else {
			return -1;
		}
	}
	out->zones = f[6];
	out->zones_len = flen[6];
	return 0;
}

/* A JSON string of s (valid UTF-8, no NUL) into o: jansson escapes it. */
static int
json_str(const char *s, char *o, size_t cap, size_t *len)
{
	json_t *j = json_string(s);
	size_t n;

	if (!j)
		return -1;
	n = json_dumpb(j, o, cap, JSON_ENCODE_ANY);
	json_decref(j);
	if (n == 0 || n > cap)
		return -1;
	*len = n;
	return 0;
}

/* web_pos_json with the vehicle already a JSON string (vl bytes at v). */
static size_t
pos_render(const struct web_pos *p, const char *v, size_t vl, char *buf, size_t size)
{
	int n = snprintf(buf, size, "{\"vehicle\":%.*s,\"ts\":\"%s\",\"lat\":%s,\"lon\":%s,"
			 "\"speed_kmh\":%s,\"heading\":%s,\"zone_ids\":[%.*s]}", (int)vl, v, p->ts,
			 p->lat, p->lon, p->speed[0] ? p->speed : "null",
			 p->heading[0] ? p->heading : "null", (int)p->zones_len, p->zones);

	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}

size_t
web_pos_json(const struct web_pos *p, char *buf, size_t size)
{
	char v[200];
	size_t vl;

	if (json_str(p->vehicle, v, sizeof(v), &vl) != 0)
		return 0;
	return pos_render(p, v, vl, buf, size);
}

int
web_alert_from_notify(const char *payload, size_t len, struct evbuffer *out, int64_t *id)
{
	static const char acked[] = ",\"acked_at\":null,\"acked_by\":null,\"ack_note\":null}";
	json_error_t err;
	json_t *j = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &err), *jid;
	int rc = -1;

	evbuffer_drain(out, evbuffer_get_length(out));
	if (!j || !json_is_object(j))
		goto done;
	jid = json_object_get(j, "id");
	if (!json_is_integer(jid) || json_integer_value(jid) <= 0)
		goto done;
	*id = json_integer_value(jid);
	/* The payload as it is when it is one line ending in '}' (the
	 * gateway's), else jansson's compact form of it. */
	while (len > 0 && (payload[len - 1] == ' ' || payload[len - 1] == '\t'))
		len--;
	if (len > 1 && payload[len - 1] == '}' && !memchr(payload, '\n', len) &&
	    !memchr(payload, '\r', len)) {
		if (json_object_size(j) == 0)
			goto done;   /* has an id: not reached */
		if (evbuffer_add(out, payload, len - 1) != 0)
			goto done;
	} else {
		char *s = json_dumps(j, JSON_COMPACT);
		int bad = !s || evbuffer_add(out, s, strlen(s) - 1) != 0;

		free(s);
		if (bad)
			goto done;
	}
	if (evbuffer_add(out, acked, sizeof(acked) - 1) != 0)
		goto done;
	rc = 0;
done:
	json_decref(j);
	if (rc != 0)
		evbuffer_drain(out, evbuffer_get_length(out));
	return rc;
}

/* ---- vehicles: the hub's position coalescing ------------------------------ */

struct veh {
	char name[33];
	char vjson[200];          /* name as a JSON string (made once) */
	size_t vjson_len;
	char ts[25];              /* newest position seen */
	int64_t sent_us;          /* monotonic time of the last one sent; 0 none */
	char *pending;            /* its notification line, waiting for the second
				     to end (rendered only if it is still the
				     newest then) */
	size_t pending_len, pending_cap;
	struct veh *next_pending;
	bool queued;
};

struct vtab {
	struct veh **v;           /* entries stay where they are when it grows */
	size_t cap, n;            /* cap a power of two */
};

/* The entry of vehicle name, made when absent; NULL when the table is
 * full (VEHICLES_MAX) or out of memory. */
static struct veh *
vtab_get(struct vtab *t, const char *name)
{
	size_t k;

	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		struct veh **nv;

		if (t->n >= VEHICLES_MAX || !(nv = calloc(cap, sizeof(*nv))))
			return NULL;
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->v[i])
				continue;
			for (k = hz_fnv1a64_str(t->v[i]->name) & (cap - 1); nv[k]; k = (k + 1) & (cap - 1))
				;
			nv[k] = t->v[i];
		}
		free(t->v);
		t->v = nv;
		t->cap = cap;
	}
	for (k = hz_fnv1a64_str(name) & (t->cap - 1); t->v[k]; k = (k + 1) & (t->cap - 1))
		if (strcmp(t->v[k]->name, name) == 0)
			return t->v[k];
	if (!(t->v[k] = calloc(1, sizeof(struct veh))))
		return NULL;
	snprintf(t->v[k]->name, sizeof(t->v[k]->name), "%s", name);
	if (json_str(name, t->v[k]->vjson, sizeof(t->v[k]->vjson), &t->v[k]->vjson_len) != 0) {
		free(t->v[k]);
		t->v[k] = NULL;
		return NULL;
	}
	t->n++;
	return t->v[k];
}

static void
vtab_free(struct vtab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i]) {
			free(t->v[i]->pending);
			free(t->v[i]);
		}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ---- the hub ------------------------------------------------------------- */

struct web_client {
	struct web_stream *s;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct web_client *prev, *next;
	int64_t last_id;          /* the highest alert id sent */
	bool live;                /* replay done: live alerts go out */
	bool positions;
	bool gone;                /* closed while its replay job ran */
	bool replaying;           /* its job is with net_pg */
	bool wait_replay;         /* its replay waits for the connection */
	bool last_page;           /* the page read was the last */
	/* the replay job and its parameter */
	struct net_pg_job job;
	char param[24];
	const char *params[1];
};

struct web_stream {
	struct event_base *base;
	struct net_pg *pg;
	char *setup_sql;
	struct web_client *clients;
	size_t nclients;
	size_t out_max;
	int heartbeat_ms;
	struct event *ev_heartbeat, *ev_tick, *ev_check, *ev_flush;
	/* tmp: a chunk to a client; batch: position events waiting to go out
	 * together; alert: one client's alert event; note: an alert's or an
	 * ack's data while it is sent */
	struct evbuffer *tmp, *batch, *alert, *note;
	int64_t seen_id;          /* the highest alert id the hub has seen */
	bool ever_ready;
	/* catch-up after a reconnect */
	struct net_pg_job cjob;
	char cparam[24];
	const char *cparams[1];
	bool catching_up, clast;
	/* While a catch-up reads what was missed, a live alert is not sent
	 * (it may be above alerts the read has not reached yet, which the
	 * clients' id check would then skip): held_alerts notes that one came,
	 * and the catch-up reads again from where it got. */
	bool holding, held_alerts;
	/* A catch-up that failed other than by a lost link (a statement
	 * error: cancelled, a lock timeout, a permission) is tried again at
	 * cretry_at_us (on_check), CATCHUP_RETRY_MIN_MS doubling to
	 * CATCHUP_RETRY_MAX_MS apart, still holding; after
	 * CATCHUP_HOLD_MAX_MS of failures the live alerts go out and what
	 * was missed stays missed (logged). 0: none due. */
	int64_t cretry_at_us, chold_since_us;
	int cretry_ms;
	/* acknowledgements to read back */
	struct net_pg_job ajob;
	int64_t acks[ACK_PENDING_MAX], ajob_ids[ACK_PENDING_MAX];
	size_t nacks, najob;
	char aparam[ACK_PENDING_MAX * 21 + 3];
	const char *aparams[1];
	bool ack_busy;
	/* positions */
	struct vtab vt;
	struct veh *pending_head;
	size_t batch_npos;        /* position events in batch */
	char json[POS_JSON_MAX];
	/* counters */
	uint64_t m_alerts_sent, m_acks_sent, m_replayed, m_positions_in, m_positions_sent,
		m_positions_coalesced, m_positions_stale, m_bad_notifications, m_dropped,
		m_clients_total, m_vehicles_full;
};

static const char hub_setup_sql[] =
	"LISTEN hazgate_alerts; LISTEN hazgate_acks; LISTEN hazgate_positions";

static const char sql_replay[] =
	"SELECT a.id, " WEB_ALERT_JSON_SQL " FROM alerts a WHERE a.id > $1::bigint"
	" ORDER BY a.id LIMIT " "1000";
static const char sql_max_id[] = "SELECT coalesce(max(id), 0) FROM alerts";
static const char sql_acks[] =
	"SELECT a.id, " WEB_ALERT_JSON_SQL " FROM alert_events e JOIN alerts a ON a.id = e.alert_id"
	" WHERE e.id = ANY($1::bigint[]) AND e.kind = 'ack' ORDER BY e.id";

static void client_drop(struct web_client *c);

/* Bytes written to c that its socket has not taken yet. */
static size_t
client_pending(const struct web_client *c)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);

	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

static void
client_drop_slow(struct web_client *c, size_t pending)
{
	c->s->m_dropped++;
	hz_log(HZ_LOG_WARN, "stream_client_dropped", "pending_bytes=%zu why=\"it does not read"
	       " what it is sent; it may resume with Last-Event-ID\"", pending);
	client_drop(c);
}

/* Write len bytes to c; false when c was dropped for a full buffer. A
 * burst (the notifications of one read from PostgreSQL, written before
 * the loop gets to any socket) may take a client up to SLOW_BURST times
 * out_max; the check timer drops those still above out_max. */
static bool
client_send(struct web_client *c, const void *data, size_t len)
{
	struct web_stream *s = c->s;
	size_t pending = client_pending(c);

	if (pending + len > SLOW_BURST * s->out_max) {
		client_drop_slow(c, pending);
		return false;
	}
	if (evbuffer_add(s->tmp, data, len) != 0) {
		client_drop(c);
		return false;
	}
	evhttp_send_reply_chunk(c->req, s->tmp);
	evbuffer_drain(s->tmp, evbuffer_get_length(s->tmp));
	return true;
}

static void
client_unlink(struct web_client *c)
{
	struct web_stream *s = c->s;

	if (c->prev)
		c->prev->next = c->next;
	else if (s->clients == c)
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	s->nclients--;
}

/* The connection is going away (the peer left, or client_drop): the
 * request is freed by libevent when it is still attached to it, else
 * (libevent detached it on EOF or a timeout) here. */
static void
on_client_close(struct evhttp_connection *evcon, void *arg)
{
	struct web_client *c = arg;

	(void)evcon;
	if (c->req && evhttp_request_get_connection(c->req) == NULL)
		evhttp_request_free(c->req);
	c->req = NULL;
	c->evcon = NULL;
	client_unlink(c);
	if (c->replaying)
		c->gone = true;   /* freed when its job is done */
	else
		free(c);
}

static void
client_drop(struct web_client *c)
{
	/* Calls on_client_close, then frees the request. */
	evhttp_connection_free(c->evcon);
}

/* An `alert` event to c if it is above what c has: false if c was dropped. */
static bool
client_alert(struct web_client *c, int64_t id, const char *json, size_t len)
{
	struct web_stream *s = c->s;
	char head[64];
	int n;

	if (id <= c->last_id)
		return true;
	n = snprintf(head, sizeof(head), "id: %" PRId64 "\nevent: alert\ndata: ", id);
	evbuffer_drain(s->alert, evbuffer_get_length(s->alert));
	if (evbuffer_add(s->alert, head, (size_t)n) != 0 || evbuffer_add(s->alert, json, len) != 0 ||
	    evbuffer_add(s->alert, "\n\n", 2) != 0)
		return true;   /* out of memory: it resumes later */
	c->last_id = id;
	s->m_alerts_sent++;
	return client_send(c, evbuffer_pullup(s->alert, -1), evbuffer_get_length(s->alert));
}

/* A live alert to every live client. */
static void
broadcast_alert(struct web_stream *s, int64_t id, const char *json, size_t len)
{
	struct web_client *c, *next;

	if (id > s->seen_id)
		s->seen_id = id;
	for (c = s->clients; c; c = next) {
		next = c->next;
		if (c->live)
			(void)client_alert(c, id, json, len);
	}
}

/* Text to every client; npos > 0: that many position events, only to
 * the clients that want them. */
static void
broadcast_text(struct web_stream *s, const char *text, size_t len, size_t npos)
{
	struct web_client *c, *next;

	for (c = s->clients; c; c = next) {
		next = c->next;
		if (npos && !c->positions)
			continue;
		if (client_send(c, text, len))
			s->m_positions_sent += npos;
	}
}

/* ---- replay -------------------------------------------------------------- */

static void replay_next(struct web_client *c);

static void
replay_result(void *arg, const PGresult *res)
{
	struct web_client *c = arg;
	int rows = PQntuples(res);

	c->last_page = rows < REPLAY_PAGE;
	for (int i = 0; i < rows && !c->gone; i++) {
		int64_t id = strtoll(PQgetvalue(res, i, 0), NULL, 10);

		c->s->m_replayed++;
		if (!client_alert(c, id, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1)))
			break;   /* dropped: c->gone is set (the job holds it) */
	}
}

static void
replay_done(void *arg, int err, const char *msg)
{
	struct web_client *c = arg;
	c->replaying = false;
	if (c->gone) {
		free(c);
		return;
	}
	if (err == NET_PG_ELINK) {
		c->wait_replay = true;   /* again when the connection is back */
		return;
	}
	if (err != NET_PG_OK) {
		/* The client cannot be given what it asked for: it reconnects
		 * and asks again. */
		hz_log(HZ_LOG_WARN, "stream_replay_failed", "why=\"%s\"", msg ? msg : "");
		client_drop(c);
		return;
	}
	if (!c->last_page) {
		replay_next(c);
		return;
	}
	c->live = true;
}

static void
replay_next(struct web_client *c)
{
	c->wait_replay = false;
	if (!net_pg_ready(c->s->pg)) {
		c->wait_replay = true;   /* on_ready starts it */
		return;
	}
	snprintf(c->param, sizeof(c->param), "%" PRId64, c->last_id);
	c->params[0] = c->param;
	memset(&c->job, 0, sizeof(c->job));
	c->job.steps[0] = (struct net_pg_step){ .sql = sql_replay, .nparams = 1,
						.params = c->params, .on_result = replay_result };
	c->job.nsteps = 1;
	c->job.done = replay_done;
	c->job.arg = c;
	c->replaying = true;
	c->last_page = false;
	net_pg_submit(c->s->pg, &c->job);
}

/* ---- catch-up after the hub's connection came back -------------------------- */

static void catchup_start(struct web_stream *s);

static void
catchup_result(void *arg, const PGresult *res)
{
	struct web_stream *s = arg;
	int rows = PQntuples(res);

	if (s->cjob.steps[0].sql == sql_max_id) {
		if (rows == 1) {
			int64_t m = strtoll(PQgetvalue(res, 0, 0), NULL, 10);

			if (m > s->seen_id)
				s->seen_id = m;
		}
		return;
	}
	s->clast = rows < REPLAY_PAGE;
	for (int i = 0; i < rows; i++)
		broadcast_alert(s, strtoll(PQgetvalue(res, i, 0), NULL, 10), PQgetvalue(res, i, 1),
				(size_t)PQgetlength(res, i, 1));
}

static void
catchup_done(void *arg, int err, const char *msg)
{
	struct web_stream *s = arg;
	bool replay = s->cjob.steps[0].sql == sql_replay;

	s->catching_up = false;
	if (err != NET_PG_OK) {
		int64_t now = hz_mono_us();

		hz_log(HZ_LOG_WARN, "stream_catchup_failed", "why=\"%s\"", msg ? msg : "");
		if (err == NET_PG_ELINK) {
			s->cretry_at_us = 0;
			return;   /* the next on_ready tries again */
		}
		if (!replay)
			return;   /* the first read of max(id): live alerts start anyway */
		/* Tried again, holding the live alerts, so that none is
		 * skipped; but not for ever. */
		if (!s->chold_since_us)
			s->chold_since_us = now;
		if (now - s->chold_since_us >= (int64_t)CATCHUP_HOLD_MAX_MS * 1000) {
			hz_log(HZ_LOG_ERROR, "stream_catchup_abandoned", "after_id=%" PRId64
			       " held_ms=%" PRId64 " why=\"the alerts above this id committed while"
			       " the stream was away are not sent; the live ones go out again\"",
			       s->seen_id, (now - s->chold_since_us) / 1000);
			s->holding = false;
			s->chold_since_us = 0;
			s->cretry_ms = 0;
			return;
		}
		s->cretry_ms = s->cretry_ms ? s->cretry_ms * 2 : CATCHUP_RETRY_MIN_MS;
		if (s->cretry_ms > CATCHUP_RETRY_MAX_MS)
			s->cretry_ms = CATCHUP_RETRY_MAX_MS;
		s->cretry_at_us = now + (int64_t)s->cretry_ms * 1000;
		return;
	}
	s->cretry_ms = 0;
	s->chold_since_us = 0;
	s->cretry_at_us = 0;
	if (!replay)
		return;
	/* Another page; or again, from the highest id sent, when live alerts
	 * came meanwhile (held: they may be above ones this read had not
	 * reached); else the live alerts go out as they come. */
	if (!s->clast || s->held_alerts) {
		s->held_alerts = false;
		catchup_start(s);
		return;
	}
	s->holding = false;
}

static void
catchup_start(struct web_stream *s)
{
	if (s->catching_up)
		return;
	memset(&s->cjob, 0, sizeof(s->cjob));
	snprintf(s->cparam, sizeof(s->cparam), "%" PRId64, s->seen_id);
	s->cparams[0] = s->cparam;
	s->clast = false;
	if (!s->ever_ready) {
		s->cjob.steps[0] = (struct net_pg_step){ .sql = sql_max_id,
							 .on_result = catchup_result };
	} else {
		s->cjob.steps[0] = (struct net_pg_step){ .sql = sql_replay, .nparams = 1,
							 .params = s->cparams,
							 .on_result = catchup_result };
		s->holding = true;
	}
	s->cjob.nsteps = 1;
	s->cjob.done = catchup_done;
	s->cjob.arg = s;
	s->catching_up = true;
	net_pg_submit(s->pg, &s->cjob);
}

/* ---- acknowledgements ----------------------------------------------------------- */

static void acks_start(struct web_stream *s);

static void
acks_result(void *arg, const PGresult *res)
{
	struct web_stream *s = arg;

	for (int i = 0; i < PQntuples(res); i++) {
		evbuffer_drain(s->note, evbuffer_get_length(s->note));
		evbuffer_add_printf(s->note, "event: ack\ndata: %s\n\n", PQgetvalue(res, i, 1));
		s->m_acks_sent++;
		broadcast_text(s, (const char *)evbuffer_pullup(s->note, -1),
			       evbuffer_get_length(s->note), 0);
	}
	evbuffer_drain(s->note, evbuffer_get_length(s->note));
}

static void
acks_done(void *arg, int err, const char *msg)
{
	struct web_stream *s = arg;

	s->ack_busy = false;
	if (err != NET_PG_OK)
		hz_log(HZ_LOG_WARN, "stream_acks_failed", "events=%zu why=\"%s\"", s->najob,
		       msg ? msg : "");
	if (s->nacks)
		acks_start(s);
}

static void
acks_start(struct web_stream *s)
{
	char *p = s->aparam;

	if (s->ack_busy || s->nacks == 0 || !net_pg_ready(s->pg))
		return;
	*p++ = '{';
	for (size_t i = 0; i < s->nacks; i++)
		p += sprintf(p, "%s%" PRId64, i ? "," : "", s->acks[i]);
	*p++ = '}';
	*p = '\0';
	s->najob = s->nacks;
	s->nacks = 0;
	s->aparams[0] = s->aparam;
	memset(&s->ajob, 0, sizeof(s->ajob));
	s->ajob.steps[0] = (struct net_pg_step){ .sql = sql_acks, .nparams = 1,
						 .params = s->aparams, .on_result = acks_result };
	s->ajob.nsteps = 1;
	s->ajob.done = acks_done;
	s->ajob.arg = s;
	s->ack_busy = true;
	net_pg_submit(s->pg, &s->ajob);
}

/* ---- positions ---------------------------------------------------------------- */

/* "event: position\ndata: JSON\n\n" of p (v: its vehicle's entry, or NULL)
 * appended to the batch. */
static void
pos_event(struct web_stream *s, const struct web_pos *p, const struct veh *v)
{
	static const char head[] = "event: position\ndata: ";
	char *o = s->json + sizeof(head) - 1;
	size_t cap = sizeof(s->json) - sizeof(head) - 2;
	size_t n = v ? pos_render(p, v->vjson, v->vjson_len, o, cap) : web_pos_json(p, o, cap);

	if (n == 0)
		return;
	memcpy(s->json, head, sizeof(head) - 1);
	n += sizeof(head) - 1;
	s->json[n++] = '\n';
	s->json[n++] = '\n';
	if (evbuffer_add(s->batch, s->json, n) == 0)
		s->batch_npos++;
}

static void
on_position_line(struct web_stream *s, const char *line, size_t len, int64_t now)
{
	struct web_pos p;
	struct veh *v;

	s->m_positions_in++;
	if (web_pos_parse(line, len, &p) != 0) {
		s->m_bad_notifications++;
		return;
	}
	v = vtab_get(&s->vt, p.vehicle);
	if (!v) {
		/* The table is full (or out of memory): sent as it is. */
		s->m_vehicles_full++;
		pos_event(s, &p, NULL);
		return;
	}
	if (v->ts[0] && strcmp(p.ts, v->ts) <= 0) {   /* older, or this one again */
		s->m_positions_stale++;
		return;
	}
	memcpy(v->ts, p.ts, sizeof(v->ts));
	if (!v->queued && (v->sent_us == 0 || now - v->sent_us >= POS_INTERVAL_US)) {
		v->sent_us = now;
		pos_event(s, &p, v);
		return;
	}
	if (v->queued)
		s->m_positions_coalesced++;
	if (len > v->pending_cap) {
		char *b = realloc(v->pending, len);

		if (!b)
			return;
		v->pending = b;
		v->pending_cap = len;
	}
	memcpy(v->pending, line, len);
	v->pending_len = len;
	if (!v->queued) {
		v->queued = true;
		v->next_pending = s->pending_head;
		s->pending_head = v;
	}
	if (!evtimer_pending(s->ev_tick, NULL)) {
		struct timeval tv = { 0, TICK_US };

		evtimer_add(s->ev_tick, &tv);
	}
}

static void
flush_batch(struct web_stream *s)
{
	size_t len = evbuffer_get_length(s->batch);

	if (len)
		broadcast_text(s, (const char *)evbuffer_pullup(s->batch, -1), len, s->batch_npos);
	evbuffer_drain(s->batch, len);
	s->batch_npos = 0;
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush_batch(arg);
}

/* The positions whose second is over go out; the others wait again. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct web_stream *s = arg;
	struct veh **pp = &s->pending_head, *v;
	int64_t now = hz_mono_us();

	(void)fd;
	(void)what;
	while ((v = *pp)) {
		if (now - v->sent_us >= POS_INTERVAL_US) {
			struct web_pos p;

			*pp = v->next_pending;
			v->queued = false;
			v->sent_us = now;
			/* read when it came: it parses again */
			if (web_pos_parse(v->pending, v->pending_len, &p) == 0)
				pos_event(s, &p, v);
		} else {
			pp = &v->next_pending;
		}
	}
	flush_batch(s);
	if (s->pending_head) {
		struct timeval tv = { 0, TICK_US };

		evtimer_add(s->ev_tick, &tv);
	}
}

/* ---- notifications -------------------------------------------------------------- */

static void
on_notify(void *arg, const char *channel, const char *payload)
{
	struct web_stream *s = arg;
	size_t len = strlen(payload);

	if (strcmp(channel, "hazgate_positions") == 0) {
		int64_t now = hz_mono_us();
		const char *p = payload, *end = payload + len;

		while (p < end) {
			const char *eol = memchr(p, '\n', (size_t)(end - p));

			if (!eol)
				eol = end;
			if (eol > p)
				on_position_line(s, p, (size_t)(eol - p), now);
			p = eol + 1;
		}
		/* The events of the notifications of the next FLUSH_MS go out
		 * together: fewer writes to each client. */
		if (evbuffer_get_length(s->batch) >= FLUSH_BYTES)
			flush_batch(s);
		else if (evbuffer_get_length(s->batch) && !evtimer_pending(s->ev_flush, NULL)) {
			struct timeval tv = { 0, FLUSH_MS * 1000 };

			evtimer_add(s->ev_flush, &tv);
		}
	} else if (strcmp(channel, "hazgate_alerts") == 0) {
		int64_t id;

		if (web_alert_from_notify(payload, len, s->note, &id) != 0) {
			s->m_bad_notifications++;
			hz_log(HZ_LOG_WARN, "stream_bad_alert", "why=\"a hazgate_alerts payload that is"
			       " not an alert object\" bytes=%zu", len);
			return;
		}
		if (s->holding)
			s->held_alerts = true;   /* the catch-up reads it */
		else
			broadcast_alert(s, id, (const char *)evbuffer_pullup(s->note, -1),
					evbuffer_get_length(s->note));
		evbuffer_drain(s->note, evbuffer_get_length(s->note));
	} else if (strcmp(channel, "hazgate_acks") == 0) {
		char *end;
		long long id;

		errno = 0;
		id = strtoll(payload, &end, 10);
		if (errno || *end || end == payload || id <= 0) {
			s->m_bad_notifications++;
			return;
		}
		if (s->nacks == ACK_PENDING_MAX) {
			hz_log(HZ_LOG_WARN, "stream_ack_dropped", "event=%lld why=\"too many waiting\"",
			       id);
			return;
		}
		s->acks[s->nacks++] = id;
		acks_start(s);
	}
}

static void
on_ready(void *arg)
{
	struct web_stream *s = arg;

	hz_log(HZ_LOG_INFO, "stream_db_ready", "%s", "");
	/* First time: where the live alerts start. Again: what was missed. */
	catchup_start(s);
	s->ever_ready = true;
	acks_start(s);
	for (struct web_client *c = s->clients; c; c = c->next)
		if (c->wait_replay)
			replay_next(c);
}

static void
on_down(void *arg)
{
	(void)arg;
	hz_log(HZ_LOG_WARN, "stream_db_down", "why=\"the stream's database connection is lost;"
	       " alerts committed meanwhile are sent when it is back\"");
}

/* A catch-up due again (catchup_done); clients whose sockets have not
 * taken out_max bytes: dropped. */
static void
on_check(evutil_socket_t fd, short what, void *arg)
{
	struct web_stream *s = arg;
	struct web_client *c, *next;

	(void)fd;
	(void)what;
	if (s->cretry_at_us && !s->catching_up && hz_mono_us() >= s->cretry_at_us) {
		s->cretry_at_us = 0;
		catchup_start(s);
	}
	for (c = s->clients; c; c = next) {
		size_t pending = client_pending(c);

		next = c->next;
		if (pending > s->out_max)
			client_drop_slow(c, pending);
	}
}

static void
on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	static const char hb[] = ": hb\n\n";
	struct web_stream *s = arg;

	(void)fd;
	(void)what;
	broadcast_text(s, hb, sizeof(hb) - 1, 0);
}

/* ---- the interface ---------------------------------------------------------------- */

struct web_stream *
web_stream_new(struct event_base *base, const struct net_pg_conf *pgc)
{
	struct web_stream *s = calloc(1, sizeof(*s));
	struct net_pg_conf c = *pgc;
	struct net_pg_cbs cbs = { .on_ready = on_ready, .on_down = on_down,
				  .on_notify = on_notify };
	struct timeval hb;
	size_t n;

	if (!s)
		return NULL;
	s->base = base;
	s->out_max = WEB_STREAM_OUT_MAX;
	s->heartbeat_ms = WEB_STREAM_HEARTBEAT_MS;
	n = (pgc->setup_sql ? strlen(pgc->setup_sql) : 0) + sizeof(hub_setup_sql) + 2;
	if (!(s->setup_sql = malloc(n)))
		goto err;
	snprintf(s->setup_sql, n, "%s%s%s", pgc->setup_sql ? pgc->setup_sql : "",
		 pgc->setup_sql && *pgc->setup_sql ? ";" : "", hub_setup_sql);
	c.setup_sql = s->setup_sql;
	if (!c.app_name)
		c.app_name = "hazgate-web-stream";
	cbs.arg = s;
	s->tmp = evbuffer_new();
	s->batch = evbuffer_new();
	s->alert = evbuffer_new();
	s->note = evbuffer_new();
	s->ev_heartbeat = event_new(base, -1, EV_PERSIST, on_heartbeat, s);
	s->ev_tick = evtimer_new(base, on_tick, s);
	s->ev_check = event_new(base, -1, EV_PERSIST, on_check, s);
	s->ev_flush = evtimer_new(base, on_flush, s);
	if (!s->tmp || !s->batch || !s->alert || !s->note || !s->ev_heartbeat || !s->ev_tick || !s->ev_check ||
	    !s->ev_flush)
		goto err;
	if (!(s->pg = net_pg_new(base, &c, &cbs)))
		goto err;
	hb = (struct timeval){ s->heartbeat_ms / 1000, (s->heartbeat_ms % 1000) * 1000 };
	event_add(s->ev_heartbeat, &hb);
	hb = (struct timeval){ 0, CHECK_MS * 1000 };
	event_add(s->ev_check, &hb);
	net_pg_start(s->pg);
	return s;
err:
	web_stream_free(s);
	return NULL;
}

void
web_stream_set_limits(struct web_stream *s, size_t out_max, int heartbeat_ms)
{
	if (out_max)
		s->out_max = out_max;
	if (heartbeat_ms > 0) {
		struct timeval hb = { heartbeat_ms / 1000, (heartbeat_ms % 1000) * 1000 };

		s->heartbeat_ms = heartbeat_ms;
		event_add(s->ev_heartbeat, &hb);
	}
}

void
web_stream_free(struct web_stream *s)
{
	if (!s)
		return;
	web_stream_close_all(s);
	/* Freeing the adapter ends the jobs in flight (their done is called
	 * with an error): the clients they hold are freed there. */
	if (s->pg)
		net_pg_free(s->pg);
	if (s->ev_heartbeat)
		event_free(s->ev_heartbeat);
	if (s->ev_tick)
		event_free(s->ev_tick);
	if (s->ev_check)
		event_free(s->ev_check);
	if (s->ev_flush)
		event_free(s->ev_flush);
	if (s->tmp)
		evbuffer_free(s->tmp);
	if (s->batch)
		evbuffer_free(s->batch);
	if (s->alert)
		evbuffer_free(s->alert);
	if (s->note)
		evbuffer_free(s->note);
	vtab_free(&s->vt);
	free(s->setup_sql);
	free(s);
}

/* A query parameter that is a non-negative integer: 0 and *v, 1 absent, -1 bad. */
static int
query_int(const struct evkeyvalq *q, const char *name, int64_t *v)
{
	const char *t = evhttp_find_header(q, name);
	char *end;
	long long x;

	if (!t)
		return 1;
	errno = 0;
	x = strtoll(t, &end, 10);
	if (errno || *end || end == t || x < 0)
		return -1;
	*v = x;
	return 0;
}

static void
reply_400(struct evhttp_request *req, const char *msg)
{
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	if (b)
		evbuffer_add_printf(b, "{\"error\":\"%s\"}\n", msg);
	evhttp_send_reply(req, 400, "Bad Request", b);
	if (b)
		evbuffer_free(b);
}

void
web_stream_attach(struct web_stream *s, struct evhttp_request *req)
{
	struct evkeyvalq q;
	const char *h, *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct web_client *c;
	struct bufferevent *bev;
	struct timeval wtv = { 60, 0 };
	int64_t last = -1, pos = 1;
	int rc;
	static const char hello[] = "retry: 3000\n: hazgate-web stream\n\n";

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) != 0) {
		reply_400(req, "bad query string");
		return;
	}
	if ((rc = query_int(&q, "last_event_id", &last)) < 0 ||
	    query_int(&q, "positions", &pos) < 0 || pos > 1) {
		evhttp_clear_headers(&q);
		reply_400(req, rc < 0 ? "bad parameter last_event_id" : "bad parameter positions");
		return;
	}
	evhttp_clear_headers(&q);
	h = evhttp_find_header(evhttp_request_get_input_headers(req), "Last-Event-ID");
	if (h && *h) {
		char *end;

		errno = 0;
		last = strtoll(h, &end, 10);
		if (errno || *end || last < 0) {
			reply_400(req, "bad Last-Event-ID");
			return;
		}
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		evhttp_send_error(req, 503, "out of memory");
		return;
	}
	c->s = s;
	c->req = req;
	c->evcon = evhttp_request_get_connection(req);
	c->positions = pos == 1;
	evhttp_add_header(out, "Content-Type", "text/event-stream; charset=utf-8");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	/* Never a read timeout (a stream's client sends nothing); a write that
	 * makes no progress for a minute ends it. */
	if ((bev = evhttp_connection_get_bufferevent(c->evcon)))
		bufferevent_set_timeouts(bev, NULL, &wtv);
	evhttp_connection_set_closecb(c->evcon, on_client_close, c);
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->nclients++;
	s->m_clients_total++;
	if (!client_send(c, hello, sizeof(hello) - 1))
		return;
	if (last >= 0) {
		c->last_id = last;
		replay_next(c);
	} else {
		c->last_id = 0;
		c->live = true;
	}
}

size_t
web_stream_clients(const struct web_stream *s)
{
	return s->nclients;
}

void
web_stream_close_all(struct web_stream *s)
{
	while (s->clients) {
		struct web_client *c = s->clients;

		/* End the chunked reply; the connection is then libevent's. */
		evhttp_connection_set_closecb(c->evcon, NULL, NULL);
		if (evhttp_request_get_connection(c->req))
			evhttp_send_reply_end(c->req);
		client_unlink(c);
		if (c->replaying)
			c->gone = true;
		else
			free(c);
	}
}

void
web_stream_metrics(const struct web_stream *s, struct evbuffer *out)
{
	evbuffer_add_printf(out,
		"# TYPE hazgate_web_stream_clients gauge\n"
		"hazgate_web_stream_clients %zu\n"
		"# TYPE hazgate_web_stream_clients_total counter\n"
		"hazgate_web_stream_clients_total %" PRIu64 "\n"
		"# TYPE hazgate_web_stream_clients_dropped_total counter\n"
		"hazgate_web_stream_clients_dropped_total %" PRIu64 "\n"
		"# TYPE hazgate_web_stream_db_ready gauge\n"
		"hazgate_web_stream_db_ready %d\n"
		"# TYPE hazgate_web_stream_alerts_sent_total counter\n"
		"hazgate_web_stream_alerts_sent_total %" PRIu64 "\n"
		"# TYPE hazgate_web_stream_alerts_replayed_total counter\n"
		"hazgate_web_stream_alerts_replayed_total %" PRIu64 "\n"
		"# TYPE hazgate_web_stream_acks_sent_total counter\n"
		"hazgate_web_stream_acks_sent_total %" PRIu64 "\n"
		"# TYPE hazgate_web_stream_positions_received_total counter\n"
		"hazgate_web_stream_positions_received_total %" PRIu64 "\n"
		"# TYPE hazgate_web_stream_positions_sent_total counter\n"
		"hazgate_web_stream_positions_sent_total %" PRIu64 "\n"
		"# TYPE hazgate_web_stream_positions_coalesced_total counter\n"
		"hazgate_web_stream_positions_coalesced_total %" PRIu64 "\n"
		"# TYPE hazgate_web_stream_positions_stale_total counter\n"
		"hazgate_web_stream_positions_stale_total %" PRIu64 "\n"
		"# TYPE hazgate_web_stream_bad_notifications_total counter\n"
		"hazgate_web_stream_bad_notifications_total %" PRIu64 "\n"
		"# TYPE hazgate_web_stream_vehicles gauge\n"
		"hazgate_web_stream_vehicles %zu\n",
		s->nclients, s->m_clients_total, s->m_dropped, net_pg_ready(s->pg) ? 1 : 0,
		s->m_alerts_sent, s->m_replayed, s->m_acks_sent, s->m_positions_in,
		s->m_positions_sent, s->m_positions_coalesced, s->m_positions_stale,
		s->m_bad_notifications, s->vt.n);
}
