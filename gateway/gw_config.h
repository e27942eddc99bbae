/*
 * gw_config.h - hazgate's configuration file (libgwconfig.a, prefix gw_config_).
 *
 * One INI file (DESIGN.md "Configuration"). Every option lives in ONE table
 * in gw_config.c, on the common engine (common/hz_ini.h): section, key,
 * type, bounds, default and whether SIGHUP applies it; defaults go through
 * the same parser as the file, and --help prints the table. An unknown
 * section or key, a bad value or a repeated key is an error naming the file
 * and the line ("FILE:LINE: ..."). Durations carry their unit in the key
 * (`_ms`, `_s`); `[mqtt] keepalive` is still read, as `keepalive_s`.
 *
 * The struct is plain values (fixed-size strings, no pointers), so a config
 * is copied by assignment and needs no free. The daemon loads a new one on
 * SIGHUP, applies the reloadable options and names the others it ignored.
 * `hazgate-ctl replay --config FILE` links this library for [geofence].
 *
 * Limits: lines up to inih's INI_MAX_LINE (200 bytes); at most
 * GW_SUB_MAX subscriptions.
 */
#ifndef HAZGATE_GW_CONFIG_H
#define HAZGATE_GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/hz_log.h"
#include "geofence/geofence.h"
#include "ingest/ingest.h"
#include "net/net_mqtt_opts.h"

#define GW_PATH_MAX 256
#define GW_STR_MAX 128
#define GW_SUB_MAX 16
#define GW_TOPIC_MAX 200

/* The values of enum hz_ini_err. */
enum gw_config_err {
	GW_CONFIG_OK = 0,
	GW_CONFIG_EIO = -1,     /* the file cannot be opened or read */
	GW_CONFIG_EPARSE = -2,  /* a syntax error, unknown key or bad value */
	GW_CONFIG_ENOMEM = -3,  /* out of memory */
};

enum gw_fsync { GW_FSYNC_ALWAYS = 0, GW_FSYNC_NEVER };

/* A subscription: its format is ingest's (ing_format_parse reads it). */
struct gw_sub {
	char filter[GW_TOPIC_MAX];     /* MQTT topic filter, e.g. tankers/+/telemetry */
	enum ing_format format;         /* the decoder for messages it matches */
};

struct gw_config {
	struct {
		/* host, port, client_id, protocol, keepalive_s, username,
		 * password_file, tls_*, status_topic, reconnect_*_ms: the
		 * options shared with hazgate-jt808 (net/net_mqtt_opts.h) */
		NET_MQTT_OPTION_FIELDS;
		struct gw_sub subs[GW_SUB_MAX];
		size_t nsubs;
		char alerts_topic[GW_TOPIC_MAX];
		int coalesce_ms;   /* read coalescing (net_mqtt_conf.coalesce_us) */
	} mqtt;
	struct {
		char conninfo[GW_PATH_MAX * 2];
		int batch_rows;
		int flush_ms;
		int positions_flush_ms;
		int partition_days;
		int reconnect_max_ms;
		int retry_limit;
		int state_interval_ms;
	} postgres;
	struct {
		char dir[GW_PATH_MAX];
		uint64_t max_bytes;
		enum gw_fsync fsync;
	} spool;
	struct gf_options geofence;
	struct {
		char listen[GW_STR_MAX];       /* "" = off */
	} http;
	struct {
		enum hz_log_level level;
	} log;
	struct {
		int drain_timeout_ms;
		int tick_ms;
	} daemon;
	/* Read by `hazgate-ctl retention run` (ctl/ctl_retention.c), which a
	 * systemd timer runs; the gateway only checks them. */
	struct {
		int positions_days;             /* whole UTC days kept; 0 = for ever */
		char archive_dir[GW_PATH_MAX];  /* "" = drop without an archive */
		int archive_compression;        /* enum ctl_arch_codec: 0 gzip, 1 zstd */
	} retention;
	/* Partitioned gateways (gw_cluster.c): 0 = one gateway, as before. */
	struct {
		int partitions;
		int takeover_s;
		int handoff_wait_ms;
		char name[GW_STR_MAX];         /* "" = the host name */
	} cluster;
};

/* Fill *cfg with every option's documented default. */
void gw_config_default(struct gw_config *cfg);

/*
 * Read FILE over the defaults into *cfg. On error *cfg is unspecified and
 * err (errlen bytes, may be NULL) holds one line "FILE:LINE: message" (or
 * "FILE: message" when no line applies).
 * Returns GW_CONFIG_OK, GW_CONFIG_EIO, GW_CONFIG_EPARSE or GW_CONFIG_ENOMEM.
 */
int gw_config_load(const char *path, struct gw_config *cfg, char *err, size_t errlen);

/* As gw_config_load, from a NUL-terminated string; NAME stands for the file
 * in error messages. */
int gw_config_load_string(const char *name, const char *text, struct gw_config *cfg,
                          char *err, size_t errlen);

/*
 * After a reload: copy the reloadable options of *next into *cur. Options
 * that differ but need a restart are named, comma-separated "section.key",
 * in buf (may be NULL). Returns how many such options differ.
 */
int gw_config_apply_reload(struct gw_config *cur, const struct gw_config *next,
                           char *buf, size_t buflen);

/* Print the options table, one option a line: section, key, type and
 * bounds, default, summary, reload rule, old spelling. */
void gw_config_print_help(FILE *out);

/* Static text for a gw_config_err. */
const char *gw_config_strerror(int err);

#endif
