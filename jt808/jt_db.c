/*
 * jt_db.c - hazgate-jt808's PostgreSQL side: the registry loaded and kept
 * current by NOTIFY, registrations, last_seen and rejects written in the
 * background, one statement at a time. See jt_db.h.
 */
#include "jt808/jt_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "common/hz_log.h"
#include "net/net_pg.h"

#define REJECTS_QUEUED_MAX 1000
#define WRITES_QUEUED_MAX 100000

enum item_kind { ITEM_REGISTER, ITEM_REJECT, ITEM_SEEN };

static const char *const item_sql[] = {
	[ITEM_REGISTER] = "SELECT hazgate_jt808_register($1, $2, decode($3, 'hex'))",
	[ITEM_REJECT] = "INSERT INTO rejects (topic, payload, reason, message)"
			" VALUES ($1, decode($2, 'hex'), $3, $4)",
	[ITEM_SEEN] = "SELECT hazgate_jt808_seen($1::text[])",
};
static const int item_nparams[] = { [ITEM_REGISTER] = 3, [ITEM_REJECT] = 4, [ITEM_SEEN] = 1 };

/* A write waiting for its turn; the parameters are its own. */
struct item {
	struct item *next;
	enum item_kind kind;
	char *params[4];
};

/* A notification's reread of one terminal (allocated: several may wait). */
struct reread {
	struct net_pg_job job;
	struct jt_db *db;
	char phone[JT_PHONE_DIGITS_MAX + 1];
	const char *params[1];
};

struct jt_db {
	struct net_pg *pg;
	const struct jt_config *cfg;
	struct jt_registry *reg;
	struct jt_server_stats *st;
	struct item *head, *tail;       /* writes in order */
	size_t queued, rejects_queued;
	struct item *inflight;          /* the write being run */
	struct net_pg_job wjob;
	struct net_pg_job ljob;         /* the full load */
	bool loading, loaded;
	bool *loaded_flag;              /* the sessions' (env.ready) */
	struct event *ev_seen;
};

static const char registry_sql[] =
	"SELECT phone, vehicle, encode(auth_hash, 'hex') FROM jt808_registry";
static const char registry_one_sql[] =
	"SELECT phone, vehicle, encode(auth_hash, 'hex') FROM jt808_registry WHERE phone = $1";

static void write_next(struct jt_db *db);

static void
item_free(struct item *it)
{
	for (int i = 0; i < 4; i++)
		free(it->params[i]);
	free(it);
}

/* Queue a write (it owns its parameters, strdup'd here). */
static void
enqueue(struct jt_db *db, enum item_kind kind, const char *const *params)
{
	struct item *it;

	if (db->queued >= WRITES_QUEUED_MAX ||
	    (kind == ITEM_REJECT && db->rejects_queued >= REJECTS_QUEUED_MAX)) {
		if (kind == ITEM_REJECT)
			db->st->rejects_dropped++;
		else
			db->st->db_writes_failed++;
		return;
	}
	it = calloc(1, sizeof(*it));
	if (!it)
		return;
	it->kind = kind;
	for (int i = 0; i < item_nparams[kind]; i++) {
		it->params[i] = strdup(params[i]);
		if (!it->params[i]) {
			item_free(it);
			return;
		}
	}
	if (db->tail)
		db->tail->next = it;
	else
		db->head = it;
	db->tail = it;
	db->queued++;
	if (kind == ITEM_REJECT)
		db->rejects_queued++;
	write_next(db);
}

static void
write_done(void *arg, int err, const char *msg)
{
	struct jt_db *db = arg;
	struct item *it = db->inflight;

	db->inflight = NULL;
	if (err == NET_PG_ELINK) {
		/* Back at the head: written when the link is back. */
		it->next = db->head;
		db->head = it;
		if (!db->tail)
			db->tail = it;
		return;
	}
	db->queued--;
	if (it->kind == ITEM_REJECT) {
		db->rejects_queued--;
		if (err == NET_PG_OK)
			db->st->rejects_stored++;
	}
	if (err != NET_PG_OK) {
		db->st->db_writes_failed++;
		hz_log(HZ_LOG_WARN, "pg_write_failed", "sql=\"%.40s\" why=\"%s\"",
		       item_sql[it->kind], msg ? msg : "");
	}
	item_free(it);
	write_next(db);
}

/* Run the next write, if the link is up and none is running. */
static void
write_next(struct jt_db *db)
{
	struct item *it = db->head;

	if (!it || db->inflight || !net_pg_ready(db->pg))
		return;
	db->head = it->next;
	if (!db->head)
		db->tail = NULL;
	it->next = NULL;
	db->inflight = it;
	memset(&db->wjob, 0, sizeof(db->wjob));
	db->wjob.steps[0] = (struct net_pg_step){ .sql = item_sql[it->kind],
		.nparams = item_nparams[it->kind], .params = (const char *const *)it->params };
	db->wjob.nsteps = 1;
	db->wjob.done = write_done;
	db->wjob.arg = db;
	net_pg_submit(db->pg, &db->wjob);
}

/* One row of jt808_registry (phone, vehicle, hex hash) into the registry. */
static void
set_row(struct jt_db *db, const PGresult *res, int r)
{
	uint8_t hash[JT_AUTH_HASH_BYTES];
	const char *phone = PQgetvalue(res, r, 0);
	const char *hex = PQgetvalue(res, r, 2);
	size_t n = 0;
	bool has = !PQgetisnull(res, r, 2) &&
		   sodium_hex2bin(hash, sizeof(hash), hex, strlen(hex), NULL, &n, NULL) == 0 &&
		   n == sizeof(hash);

	if (strlen(phone) > JT_PHONE_DIGITS_MAX)
		return;
	jt_registry_set(db->reg, phone, PQgetisnull(res, r, 1) ? NULL : PQgetvalue(res, r, 1),
			has ? hash : NULL);
}

static void
load_result(void *arg, const PGresult *res)
{
	struct jt_db *db = arg;
	int rows = PQntuples(res);

	jt_registry_load_begin(db->reg);
	for (int r = 0; r < rows; r++)
		set_row(db, res, r);
	jt_registry_load_end(db->reg);
	hz_log(HZ_LOG_INFO, "registry_loaded", "terminals=%d", rows);
}

static void
load_done(void *arg, int err, const char *msg)
{
	struct jt_db *db = arg;

	db->loading = false;
	if (err == NET_PG_OK) {
		db->loaded = true;
		*db->loaded_flag = true;
		return;
	}
	if (err != NET_PG_ELINK)
		hz_log(HZ_LOG_ERROR, "registry_load_failed", "why=\"%s\" hint=\"%s\"",
		       msg ? msg : "", "hazgate-ctl migrate; the login in group hazgate_jt808");
}

static void
reread_result(void *arg, const PGresult *res)
{
	struct reread *rr = arg;

	if (PQntuples(res) == 0)
		jt_registry_clear(rr->db->reg, rr->phone);
	else
		set_row(rr->db, res, 0);
}

static void
reread_done(void *arg, int err, const char *msg)
{
	struct reread *rr = arg;

	(void)err;
	(void)msg;
	free(rr);
}

static void
on_notify(void *arg, const char *channel, const char *payload)
{
	struct jt_db *db = arg;
	struct reread *rr;

	if (strcmp(channel, "hazgate_jt808") != 0 || strlen(payload) > JT_PHONE_DIGITS_MAX ||
	    !payload[0])
		return;
	rr = calloc(1, sizeof(*rr));
	if (!rr)
		return;
	rr->db = db;
	strcpy(rr->phone, payload);
	rr->params[0] = rr->phone;
	rr->job.steps[0] = (struct net_pg_step){ .sql = registry_one_sql, .nparams = 1,
		.params = rr->params, .on_result = reread_result };
	rr->job.nsteps = 1;
	rr->job.done = reread_done;
	rr->job.arg = rr;
	/* on_result's arg is the job's. */
	net_pg_submit(db->pg, &rr->job);
}

static void
on_ready(void *arg)
{
	struct jt_db *db = arg;

	hz_log(HZ_LOG_INFO, "pg_ready", "action=load_registry");
	/* The writes queued while away first, then the registry as it is
	 * with them (jobs run in order). */
	write_next(db);
	if (!db->loading) {
		db->loading = true;
		memset(&db->ljob, 0, sizeof(db->ljob));
		db->ljob.steps[0] = (struct net_pg_step){ .sql = registry_sql,
			.on_result = load_result };
		db->ljob.nsteps = 1;
		db->ljob.done = load_done;
		db->ljob.arg = db;
		net_pg_submit(db->pg, &db->ljob);
	}
}

static void
on_down(void *arg)
{
	(void)arg;
	hz_log(HZ_LOG_WARN, "pg_down", "registry=in_memory");
}

/* Every seen_interval_s: last_seen of the terminals authenticated since. */
static void
on_seen_tick(evutil_socket_t fd, short what, void *arg)
{
	struct jt_db *db = arg;
	char *list = NULL;
	size_t len = 0, cap = 0;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < db->reg->nslots; i++)
		for (struct jt_term *t = db->reg->slots[i]; t; t = t->next) {
			size_t k = strlen(t->phone);

			if (!t->seen || !t->known)
				continue;
			if (len + k + 3 > cap) {
				size_t ncap = cap ? cap * 2 : 4096;
				char *n = realloc(list, ncap);

				if (!n)
					goto out;
				list = n;
				cap = ncap;
			}
			list[len] = len == 0 ? '{' : ',';
			len++;
			memcpy(list + len, t->phone, k);    /* digits only */
			len += k;
			t->seen = false;
		}
	if (len) {
		const char *params[1] = { list };

		list[len++] = '}';
		list[len] = '\0';
		enqueue(db, ITEM_SEEN, params);
	}
out:
	free(list);
}

struct jt_db *
jt_db_new(struct event_base *base, const struct jt_config *cfg, struct jt_registry *reg,
          bool *loaded, struct jt_server_stats *st)
{
	struct jt_db *db = calloc(1, sizeof(*db));
	struct net_pg_conf pc = { .conninfo = cfg->postgres.conninfo, .app_name = "hazgate-jt808",
				  .setup_sql = "LISTEN hazgate_jt808",
				  .reconnect_max_ms = cfg->postgres.reconnect_max_ms };
	struct net_pg_cbs cbs = { .on_ready = on_ready, .on_down = on_down,
				  .on_notify = on_notify };

	if (!db)
		return NULL;
	db->cfg = cfg;
	db->reg = reg;
	db->loaded_flag = loaded;
	db->st = st;
	cbs.arg = db;
	db->pg = net_pg_new(base, &pc, &cbs);
	db->ev_seen = event_new(base, -1, EV_PERSIST, on_seen_tick, db);
	if (!db->pg || !db->ev_seen) {
		hz_log(HZ_LOG_ERROR, "pg_setup_failed", "why=\"out of memory\"");
		jt_db_free(db);
		return NULL;
	}
	return db;
}

void
jt_db_start(struct jt_db *db)
{
	struct timeval tv = { db->cfg->postgres.seen_interval_s, 0 };

	event_add(db->ev_seen, &tv);
	net_pg_start(db->pg);
}

void
jt_db_free(struct jt_db *db)
{
	if (!db)
		return;
	if (db->ev_seen)
		event_free(db->ev_seen);
	/* Freeing the adapter ends its jobs (ELINK): the writes come back to
	 * the queue, then everything is freed. */
	net_pg_free(db->pg);
	if (db->inflight) {
		item_free(db->inflight);
		db->inflight = NULL;
	}
	while (db->head) {
		struct item *next = db->head->next;

		item_free(db->head);
		db->head = next;
	}
	free(db);
}

bool
jt_db_ready(const struct jt_db *db)
{
	return net_pg_ready(db->pg);
}

bool
jt_db_loaded(const struct jt_db *db)
{
	return db->loaded;
}

void
jt_db_registered(struct jt_db *db, const char *phone, const char *plate,
                 const uint8_t hash[JT_AUTH_HASH_BYTES])
{
	char hex[JT_AUTH_HASH_BYTES * 2 + 1];
	const char *params[3] = { phone, plate, hex };

	sodium_bin2hex(hex, sizeof(hex), hash, JT_AUTH_HASH_BYTES);
	enqueue(db, ITEM_REGISTER, params);
}

void
jt_db_reject(struct jt_db *db, const char *vehicle, const char *reason, const uint8_t *p,
             size_t n)
{
	char topic[64], *hex;
	const char *params[4];

	if (n > 4096)
		n = 4096;
	hex = malloc(n * 2 + 1);
	if (!hex)
		return;
	sodium_bin2hex(hex, n * 2 + 1, p, n);
	snprintf(topic, sizeof(topic), "jt808/%s", vehicle);
	params[0] = topic;
	params[1] = hex;
	params[2] = reason;
	params[3] = "hazgate-jt808";
	enqueue(db, ITEM_REJECT, params);
	free(hex);
}
