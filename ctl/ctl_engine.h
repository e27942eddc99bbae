/*
 * ctl_engine.h: what `hazgate-ctl replay` and `hazgate-ctl audit` share to
 * run the decide step (decide/) as the daemon does: the [geofence] options
 * and the subscriptions from the daemon's own configuration reader, the
 * time zone, and zone files through the geofence loader.
 */
#ifndef HAZGATE_CTL_ENGINE_H
#define HAZGATE_CTL_ENGINE_H

#include "ctl/ctl.h"
#include "decide/decide.h"
#include "gateway/gw_config.h"
#include "geofence/geofence.h"
#include "ingest/ingest.h"

struct ctl_engine_conf {
	struct gw_config cfg;               /* defaults, or the --config file */
	gf_tz *tz;                          /* the [geofence] timezone; owned */
	struct decide_sub subs[GW_SUB_MAX]; /* [mqtt] subscribe; filters borrowed
                                            from cfg: the struct stays put */
	struct decide_registry *reg;        /* the fleet registry, or NULL; owned */
};

/* Reads the configuration (path NULL: the defaults) and loads its time
 * zone. Returns CTL_OK, or CTL_EUSAGE after saying why under co->cmd. */
int ctl_engine_conf_load(const struct ctl_common *co, const char *path,
			 struct ctl_engine_conf *conf);

void ctl_engine_conf_clear(struct ctl_engine_conf *conf);

/* Loads a zone file with the geofence loader. Returns CTL_OK and *zs, or
 * CTL_EUSAGE after naming the file and the bad feature. */
int ctl_engine_zones_file(const struct ctl_common *co, const char *path, gf_zoneset **zs);

/* The fleet registry from a registry file (ctl_regload.h), as replay
 * --vehicles reads it: every route must be a corridor of zs. Returns
 * CTL_OK with conf->reg set, or CTL_EUSAGE after naming the file, line
 * and fault. */
int ctl_engine_registry_file(const struct ctl_common *co, const char *path, const gf_zoneset *zs,
			     struct ctl_engine_conf *conf);

/* The fleet registry from the database (the view registry_feed, as the
 * daemon loads it: rows it cannot use are skipped, as the daemon skips
 * them, with a note on stderr). Returns CTL_OK with conf->reg set, or
 * CTL_EFAIL after saying why. */
int ctl_engine_registry_db(const struct ctl_common *co, PGconn *conn,
			   struct ctl_engine_conf *conf);

/* The decide step over the configuration's subscriptions, registry and engine e,
 * alerts to cb(arg). conf and e must outlive *out. */
void ctl_engine_decide(const struct ctl_engine_conf *conf, gf_engine *e, gf_alert_cb cb, void *arg,
		       struct decide_ctx *out);

/* Renders an alert with gf_alert_format into a malloc'd line (no newline). */
char *ctl_engine_alert_json(const struct gf_alert *a, int64_t id);

#endif
