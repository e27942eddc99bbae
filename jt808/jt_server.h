/*
 * jt_server.h - hazgate-jt808, the server (prefix jt_server_): the TCP
 * listener, one connection per terminal (a bufferevent and a jt_session),
 * the broker (net_mqtt: a report is answered once every fix in it has its
 * PUBACK) and the registry (jt_db.c on net_pg); jt_http.c serves its
 * counters. One libevent loop, no thread.
 */
#ifndef HAZGATE_JT_SERVER_H
#define HAZGATE_JT_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "jt808/jt_config.h"
#include "jt808/jt_registry.h"
#include "jt808/jt_session.h"

struct event_base;
struct jt_server;
struct jt_conn;
struct jt_db;

/* Server-level counters beside the sessions' (struct jt_stats). */
struct jt_server_stats {
	uint64_t accepted;
	uint64_t refused_max, refused_per_address;
	uint64_t closed_idle, closed_garbage, closed_peer;
	uint64_t publishes_acked;
	uint64_t mqtt_connects;
	uint64_t rejects_stored, rejects_dropped;
	uint64_t db_writes_failed;
};

/* The running server, for jt_http.c and jt_db.c. */
struct jt_server_view {
	unsigned connections;
	unsigned authenticated;
	unsigned pending;               /* fixes published, PUBACK not yet in */
	bool mqtt_up, pg_up, registry_loaded;
};

/* A server on base with a copy of cfg, not yet listening; NULL (logged)
 * when the broker or database adapters cannot be made. */
struct jt_server *jt_server_new(struct event_base *base, const struct jt_config *cfg);

/* Listen on [jt808] listen, connect to the broker and the database.
 * Returns false (logged) when the address cannot be bound. */
bool jt_server_start(struct jt_server *s);

/* SIGTERM: stop accepting and reading, wait (at most a few seconds) for
 * the PUBACKs of what was published so the replies go out, then
 * disconnect and leave the loop. */
void jt_server_drain(struct jt_server *s);

void jt_server_free(struct jt_server *s);

/* For jt_http.c: the counters and the state. */
const struct jt_stats *jt_server_session_stats(const struct jt_server *s);
const struct jt_server_stats *jt_server_stats(const struct jt_server *s);
const struct jt_registry *jt_server_registry(const struct jt_server *s);
void jt_server_view(const struct jt_server *s, struct jt_server_view *v);

#endif
