/*
 * gateway-internal.h - what the files of the daemon's core share. Each
 * adapter has its own header (gw_batch.h, gw_vtab.h, gw_log.h, gw_mqtt.h,
 * gw_pg.h, gw_dns.h, gw_http.h, gw_metrics.h); gw_main.c sees gateway.h.
 * Nothing outside gateway/ includes it.
 */
#ifndef HAZGATE_GATEWAY_INTERNAL_H
#define HAZGATE_GATEWAY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/gateway.h"
#include "gateway/gw_batch.h"

/* Prometheus text of the metrics into out. */
void gw_metrics_render(struct gw *gw, struct gw_buf *out);
/* Healthy: MQTT and PostgreSQL up, or the spool absorbing. */
bool gw_healthy(const struct gw *gw, char *why, size_t len);

#endif
