/*
 * web_config.h - hazgate-web's configuration file (web_config.c, prefix
 * web_config_).
 *
 * One INI file on the common engine (common/hz_ini.h), the gateway's rules:
 * every option in one table with its default and bounds; an unknown
 * section or key, a bad value or a key given twice is an error naming the
 * file and the line. Sections: [web], [postgres], [log], and any number (up
 * to WEB_HOOK_MAX) of [webhook.NAME], each filling one struct web_hook_conf
 * (web/web_hook.h). The struct is plain values: copied by assignment, no
 * free.
 */
#ifndef HAZGATE_WEB_CONFIG_H
#define HAZGATE_WEB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/hz_log.h"
#include "web/web_hook.h"

#define WEB_PATH_MAX 256
#define WEB_STR_MAX 128

struct web_config {
	struct {
		char listen[WEB_STR_MAX];       /* ADDRESS:PORT of the board and the API */
		char tls_cert[WEB_PATH_MAX];    /* PEM chain; with tls_key: HTTPS */
		char tls_key[WEB_PATH_MAX];
		int allow_plain_http;           /* plain HTTP on a non-loopback address */
		int session_idle_s;
		int session_max_s;
		char tiles_url[WEB_PATH_MAX];   /* "" = no basemap */
		char timezone[64];              /* IANA name, for the board's times */
		char assets[WEB_PATH_MAX];      /* the board's files; "" = the default */
		char metrics_listen[WEB_STR_MAX];       /* "" = off */
		int max_connections;
		int timeout_s;                  /* a connection idle or slow this long is closed */
		uint64_t max_body_bytes;
		uint64_t max_header_bytes;
	} web;
	struct {
		char conninfo[WEB_PATH_MAX * 2];
		int connections;                /* the API's pool */
		int reconnect_max_ms;
	} postgres;
	struct {
		enum hz_log_level level;
	} log;
	struct web_hook_conf hooks[WEB_HOOK_MAX];
	size_t nhooks;
	/* private: each hook's min_severity as read (an index of info,
	 * warning, critical), copied into hooks[i].min_severity. */
	int hook_sev[WEB_HOOK_MAX];
};

/* Every option's default; no hooks. */
void web_config_default(struct web_config *cfg);

/*
 * Read FILE over the defaults into *cfg. On error *cfg is unspecified and
 * err (errlen bytes) holds one line "FILE:LINE: message" (or "FILE:
 * message" when no line applies). Returns 0, or hz_ini's HZ_INI_EIO,
 * HZ_INI_EPARSE or HZ_INI_ENOMEM.
 */
int web_config_load(const char *path, struct web_config *cfg, char *err, size_t errlen);

/* As web_config_load, from a NUL-terminated string; NAME stands for the
 * file in messages. */
int web_config_load_string(const char *name, const char *text, struct web_config *cfg,
                           char *err, size_t errlen);

/* The options table for --help. */
void web_config_print_help(FILE *out);

/* Whether the host part of an ADDRESS:PORT is a loopback address
 * (127.0.0.0/8, ::1, localhost). */
bool web_config_is_loopback(const char *listen);

/* Split "HOST:PORT" ("[::1]:80" too) into host (cap bytes) and *port.
 * Returns 0, or -1 when it is not that. */
int web_config_split_listen(const char *listen, char *host, size_t cap, uint16_t *port);

#endif
