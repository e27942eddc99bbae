/*
 * gateway.h - hazgate, the daemon, as gw_main.c drives it: make one on an
 * event loop, start it, reload it on SIGHUP, drain it on SIGTERM, and read
 * the exit status once the loop has ended (libgateway.a).
 */
#ifndef HAZGATE_GATEWAY_H
#define HAZGATE_GATEWAY_H

#include "gateway/gw_config.h"

struct event_base;
struct gw;

/* A daemon on base (borrowed; outlives it) with a copy of cfg; cfg_path is
 * the file SIGHUP reads again ("" or NULL: none). Opens the spool, makes
 * the adapters and binds [http] listen. Returns NULL (logged) on failure. */
struct gw *gw_new(struct event_base *base, const struct gw_config *cfg, const char *cfg_path);
/* Frees everything gw_new made; gw may be NULL. */
void gw_free(struct gw *gw);
/* Start connecting; the pipeline starts once the database is ready.
 * Returns 0. */
int gw_start(struct gw *gw);
/* SIGHUP: read the configuration file again, apply its reloadable options
 * (the others are named in the log) and reload the zones. */
void gw_reload(struct gw *gw);
/* Begin the SIGTERM drain; the loop exits when done or at the timeout. */
void gw_drain(struct gw *gw);
/* Exit status for main once the loop has ended: 0, or 1 when the schema
 * was refused. */
int gw_exit_code(const struct gw *gw);

#endif
