/*
 * jt_config.h - hazgate-jt808's configuration file (prefix jt_config_):
 * one table on the common INI engine (common/hz_ini.h), as the gateway's.
 * [jt808] the terminals' side, [mqtt] the broker (the rows the gateway
 * has too, net/net_mqtt_opts.h), [postgres] the registry, [http] /metrics
 * and /healthz, [log]. Errors name the file and line ("FILE:LINE: ...").
 * The struct is plain values: copied by assignment, nothing to free.
 */
#ifndef HAZGATE_JT_CONFIG_H
#define HAZGATE_JT_CONFIG_H

#include <stdio.h>

#include "common/hz_log.h"
#include "net/net_mqtt_opts.h"

enum jt_unknown { JT_UNKNOWN_REFUSE = 0, JT_UNKNOWN_REGISTER };
enum jt_auth_mode { JT_AUTH_REQUIRED = 0, JT_AUTH_OPTIONAL };

struct jt_config {
	struct {
		char listen[128];               /* ADDRESS:PORT of the terminals */
		int unknown_terminals;          /* enum jt_unknown */
		int auth;                       /* enum jt_auth_mode */
		int idle_s;                     /* no byte in this long: closed */
		int max_connections;
		int max_connections_per_address;
		int reassembly_timeout_s;       /* subpackages incomplete this long: dropped */
		int max_pending;                /* a session's fixes awaiting PUBACK:
		                                   reading stops above it */
		int garbage_max_bytes;          /* bytes without a 0x7e: closed */
		int output_max_bytes;           /* replies not read by the peer:
		                                   reading stops above it */
	} jt808;
	struct {
		NET_MQTT_OPTION_FIELDS;
	} mqtt;
	struct {
		char conninfo[512];
		int reconnect_max_ms;
		int seen_interval_s;            /* terminals.last_seen written this often */
	} postgres;
	struct {
		char listen[128];               /* "" = off */
	} http;
	struct {
		enum hz_log_level level;
	} log;
};

/* Fill *cfg with every option's default. */
void jt_config_default(struct jt_config *cfg);

/*
 * Read PATH over the defaults into *cfg. On error err (errlen bytes) holds
 * one line "PATH:LINE: message" or "PATH: message". Returns 0 (HZ_INI_OK)
 * or a negative enum hz_ini_err.
 */
int jt_config_load(const char *path, struct jt_config *cfg, char *err, size_t errlen);

/* As jt_config_load, from the NUL-terminated TEXT; NAME stands for the
 * file in messages. */
int jt_config_load_string(const char *name, const char *text, struct jt_config *cfg,
                          char *err, size_t errlen);

/* The options table for --help, one option a line. */
void jt_config_print_help(FILE *out);

#endif
