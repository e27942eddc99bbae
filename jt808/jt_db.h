/*
 * jt_db.h - hazgate-jt808's PostgreSQL side (prefix jt_db_), on net_pg
 * with its own login (group hazgate_jt808, schema/007_jt808.sql): the
 * registry loaded whole on every (re)connection and kept current by
 * NOTIFY hazgate_jt808 (one terminal's row reread per notification),
 * registrations, last_seen and rejects written in the background. Nothing
 * here is on a message's path: the sessions read the registry in memory.
 */
#ifndef HAZGATE_JT_DB_H
#define HAZGATE_JT_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jt808/jt_config.h"
#include "jt808/jt_registry.h"
#include "jt808/jt_server.h"

struct event_base;
struct jt_db;

/* An adapter on base for cfg's [postgres] (cfg borrowed), filling reg,
 * setting *loaded once the registry is in, and counting in st. NULL
 * (logged) out of memory. */
struct jt_db *jt_db_new(struct event_base *base, const struct jt_config *cfg,
                        struct jt_registry *reg, bool *loaded, struct jt_server_stats *st);
void jt_db_start(struct jt_db *db);
void jt_db_free(struct jt_db *db);

/* Connected; the registry loaded at least once. */
bool jt_db_ready(const struct jt_db *db);
bool jt_db_loaded(const struct jt_db *db);

/* A registration to store (hazgate_jt808_register): queued, written in
 * order, kept across a lost link. */
void jt_db_registered(struct jt_db *db, const char *phone, const char *plate,
                      const uint8_t hash[JT_AUTH_HASH_BYTES]);

/* A reject to store in `rejects` (topic jt808/<vehicle>, the bytes, the
 * reason): queued up to a bound, then dropped (counted). */
void jt_db_reject(struct jt_db *db, const char *vehicle, const char *reason,
                  const uint8_t *p, size_t n);

#endif
