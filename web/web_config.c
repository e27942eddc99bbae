/*
 * web_config.c - hazgate-web's options: one table on the common INI engine
 * (common/hz_ini.h), plus four rows per [webhook.NAME] section.
 *
 * The hook sections have names the table cannot know in advance, so a
 * load reads the file twice with libinih: first only to collect the
 * [webhook.NAME] section names (at most WEB_HOOK_MAX, names of 1..63
 * bytes), then through hz_ini with a table made of the fixed rows and
 * those sections' rows, so that every value, hook ones included, is read
 * and worded by the one engine ("FILE:LINE: ..."). A hook section beyond
 * the limit, or with a bad name, is reported at its first key as such.
 * The checks across options (TLS files in pairs, plain HTTP only on
 * loopback unless allowed, a hook's url) come after, naming the file.
 */
#include "web/web_config.h"

#include <arpa/inet.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/hz_ini.h"

#define OFF(f) offsetof(struct web_config, f)
#define SZ(f) sizeof(((struct web_config *)0)->f)

#define STR(s, k, f, d, h) { .section = s, .key = k, .type = HZ_INI_STR, .offset = OFF(f), \
	.size = SZ(f), .def = d, .help = h }
#define NUM(s, k, t, f, lo, hi, d, h) { .section = s, .key = k, .type = t, .offset = OFF(f), \
	.min = lo, .max = hi, .def = d, .help = h }
#define ENUM(s, k, f, n, v, d, h) { .section = s, .key = k, .type = HZ_INI_ENUM, \
	.offset = OFF(f), .names = n, .values = v, .def = d, .help = h }

static const char *const bool_names[] = { "false", "true", "no", "yes", "off", "on", "0", "1",
					  NULL };
static const int bool_values[] = { 0, 1, 0, 1, 0, 1, 0, 1 };
static const char *const sev_names[] = { "info", "warning", "critical", NULL };

#define KIB 1024.0

static const struct hz_ini_opt web_opts[] = {
	STR("web", "listen", web.listen, "127.0.0.1:9760",
	    "ADDRESS:PORT of the board and the API"),
	STR("web", "tls_cert", web.tls_cert, "", "certificate chain (PEM): HTTPS with tls_key"),
	STR("web", "tls_key", web.tls_key, "", "private key (PEM)"),
	ENUM("web", "allow_plain_http", web.allow_plain_http, bool_names, bool_values, "false",
	     "plain HTTP on an address other than loopback (behind a TLS proxy)"),
	NUM("web", "session_idle_s", HZ_INI_INT, web.session_idle_s, 1, 31536000, "1800",
	    "a session unused this long is over"),
	NUM("web", "session_max_s", HZ_INI_INT, web.session_max_s, 1, 31536000, "43200",
	    "a session is over this long after the login, used or not"),
	STR("web", "tiles_url", web.tiles_url, "",
	    "basemap tiles, e.g. https://tiles.example/{z}/{x}/{y}.png (empty: none)"),
	STR("web", "timezone", web.timezone, "Asia/Shanghai", "IANA zone the board shows times in"),
	STR("web", "assets", web.assets, "",
	    "the board's files (empty: the installed ones, or web/board of the source tree)"),
	STR("web", "metrics_listen", web.metrics_listen, "127.0.0.1:9761",
	    "ADDRESS:PORT of /metrics and /healthz (empty: off)"),
	NUM("web", "max_connections", HZ_INI_INT, web.max_connections, 1, 1000000, "1024",
	    "connections beyond this are closed at once"),
	NUM("web", "timeout_s", HZ_INI_INT, web.timeout_s, 1, 3600, "30",
	    "a request not read or written within this is closed"),
	NUM("web", "max_body_bytes", HZ_INI_SIZE, web.max_body_bytes, 1024, 64 * KIB * KIB, "64k",
	    "larger request bodies get 413"),
	NUM("web", "max_header_bytes", HZ_INI_SIZE, web.max_header_bytes, 1024, KIB * KIB, "16k",
	    "larger request headers are refused"),

	STR("postgres", "conninfo", postgres.conninfo, "",
	    "libpq connection string of a login in hazgate_web (empty: the PG* variables)"),
	NUM("postgres", "connections", HZ_INI_INT, postgres.connections, 1, 64, "4",
	    "the API's connections (the stream and the hooks have their own)"),
	NUM("postgres", "reconnect_max_ms", HZ_INI_INT, postgres.reconnect_max_ms, 10, 600000,
	    "5000", "largest reconnect delay"),

	ENUM("log", "level", log.level, hz_log_level_names, NULL, "info", "debug, info, warn, error"),
};
#define NOPTS (sizeof(web_opts) / sizeof(web_opts[0]))

/* The rows of one hook; section and offsets are filled per hook. */
static const struct hz_ini_opt hook_opts[] = {
	{ .key = "url", .type = HZ_INI_STR, .offset = offsetof(struct web_hook_conf, url),
	  .size = sizeof(((struct web_hook_conf *)0)->url), .def = "",
	  .help = "http:// or https:// URL each matching alert is POSTed to" },
	{ .key = "secret_file", .type = HZ_INI_STR,
	  .offset = offsetof(struct web_hook_conf, secret_file),
	  .size = sizeof(((struct web_hook_conf *)0)->secret_file), .def = "",
	  .help = "file whose first line is the HMAC-SHA256 key" },
	{ .key = "kinds", .type = HZ_INI_STR, .offset = offsetof(struct web_hook_conf, kinds),
	  .size = sizeof(((struct web_hook_conf *)0)->kinds), .def = "",
	  .help = "comma-separated alert kinds (empty: all)" },
	{ .key = "min_severity", .type = HZ_INI_ENUM, .names = sev_names, .def = "info",
	  .help = "info, warning or critical" },
};
#define NHOOKOPTS (sizeof(hook_opts) / sizeof(hook_opts[0]))

#define HOOK_PREFIX "webhook."

static void
explain(const struct hz_ini_fault *f, char *buf, size_t len)
{
	if (f->kind == HZ_INI_UNKNOWN_SECTION && !strncmp(f->section, HOOK_PREFIX, 8)) {
		snprintf(buf, len, "[%s]: at most %d webhook sections, each named by 1..%d "
			 "bytes after 'webhook.'", f->section, WEB_HOOK_MAX, WEB_HOOK_NAME_MAX - 1);
		return;
	}
	hz_ini_explain(f, buf, len);
}

/* The hook sections found by the first pass. */
struct hook_names {
	char section[WEB_HOOK_MAX][WEB_HOOK_NAME_MAX + 8];
	size_t n;
};

static int
collect(void *user, const char *section, const char *key, const char *value)
{
	struct hook_names *h = user;
	size_t len = strlen(section);

	(void)key;
	(void)value;
	if (strncmp(section, HOOK_PREFIX, 8) || len == 8 || len - 8 >= WEB_HOOK_NAME_MAX)
		return 1;
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->section[i], section))
			return 1;
	if (h->n < WEB_HOOK_MAX)
		memcpy(h->section[h->n++], section, len + 1);
	return 1;
}

void
web_config_default(struct web_config *cfg)
{
	static const struct hz_ini_table t = { .opts = web_opts, .nopts = NOPTS };

	memset(cfg, 0, sizeof(*cfg));
	(void)hz_ini_defaults(&t, cfg);         /* the unit test proves every default parses */
}

int
web_config_split_listen(const char *listen, char *host, size_t cap, uint16_t *port)
{
	const char *colon = strrchr(listen, ':');
	const char *h = listen;
	size_t n;
	char *end;
	long p;

	if (!colon || colon == listen)
		return -1;
	n = (size_t)(colon - listen);
	if (listen[0] == '[') {         /* [v6]:port */
		if (colon[-1] != ']')
			return -1;
		h = listen + 1;
		n -= 2;
	}
	if (n == 0 || n >= cap)
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || p < 1 || p > 65535)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (uint16_t)p;
	return 0;
}

bool
web_config_is_loopback(const char *listen)
{
	char host[WEB_STR_MAX];
	uint16_t port;
	struct in_addr a4;
	struct in6_addr a6;

	if (web_config_split_listen(listen, host, sizeof(host), &port) != 0)
		return false;
	if (!strcmp(host, "localhost"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static bool
zone_installed(const char *name)
{
	char path[512];
	struct stat st;
	const char *dir = getenv("TZDIR");

	if (!strcmp(name, "UTC"))
		return true;
	if (!*name || name[0] == '/' || strstr(name, ".."))
		return false;
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Cross-option checks after the whole file is read; NULL or what is wrong
 * (in why, len bytes). */
static bool
check_all(const struct web_config *cfg, char *why, size_t len)
{
	char host[WEB_STR_MAX];
	uint16_t port;

	if (web_config_split_listen(cfg->web.listen, host, sizeof(host), &port) != 0) {
		snprintf(why, len, "[web] listen = '%s': want ADDRESS:PORT", cfg->web.listen);
		return false;
	}
	if (cfg->web.metrics_listen[0] &&
	    web_config_split_listen(cfg->web.metrics_listen, host, sizeof(host), &port) != 0) {
		snprintf(why, len, "[web] metrics_listen = '%s': want ADDRESS:PORT",
			 cfg->web.metrics_listen);
		return false;
	}
	if ((cfg->web.tls_cert[0] != '\0') != (cfg->web.tls_key[0] != '\0')) {
		snprintf(why, len, "[web] tls_cert and tls_key go together");
		return false;
	}
	if (!cfg->web.tls_cert[0] && !cfg->web.allow_plain_http &&
	    !web_config_is_loopback(cfg->web.listen)) {
		snprintf(why, len, "[web] listen = '%s': plain HTTP only on a loopback address; "
			 "set tls_cert and tls_key, or allow_plain_http = true behind a TLS proxy",
			 cfg->web.listen);
		return false;
	}
	if (cfg->web.session_idle_s > cfg->web.session_max_s) {
		snprintf(why, len, "[web] session_idle_s is above session_max_s");
		return false;
	}
	if (!zone_installed(cfg->web.timezone)) {
		snprintf(why, len, "[web] timezone = '%s': no such zone is installed",
			 cfg->web.timezone);
		return false;
	}
	for (size_t i = 0; i < cfg->nhooks; i++) {
		const struct web_hook_conf *h = &cfg->hooks[i];

		if (strncmp(h->url, "http://", 7) && strncmp(h->url, "https://", 8)) {
			snprintf(why, len, "[webhook.%s] url = '%s': want an http:// or https:// URL",
				 h->name, h->url);
			return false;
		}
	}
	return true;
}

static int
load(const char *path, const char *text, struct web_config *cfg, char *err, size_t errlen)
{
	struct hook_names hn = { .n = 0 };
	struct hz_ini_opt opts[NOPTS + WEB_HOOK_MAX * NHOOKOPTS];
	struct hz_ini_table t = { .opts = opts, .explain = explain };
	char why[512];
	size_t n = NOPTS;
	int rc;

	web_config_default(cfg);
	/* First pass: the hook sections only (a syntax error is left to the
	 * second pass, which reports it with its line). */
	if (text)
		(void)ini_parse_string(text, collect, &hn);
	else
		(void)ini_parse(path, collect, &hn);
	memcpy(opts, web_opts, sizeof(web_opts));
	for (size_t i = 0; i < hn.n; i++) {
		struct web_hook_conf *h = &cfg->hooks[i];

		snprintf(h->name, sizeof(h->name), "%s", hn.section[i] + 8);
		for (size_t k = 0; k < NHOOKOPTS; k++) {
			struct hz_ini_opt *o = &opts[n++];

			*o = hook_opts[k];
			o->section = hn.section[i];
			if (o->type == HZ_INI_ENUM)
				o->offset = OFF(hook_sev) + i * sizeof(int);
			else
				o->offset += OFF(hooks) + i * sizeof(struct web_hook_conf);
		}
	}
	cfg->nhooks = hn.n;
	t.nopts = n;
	rc = hz_ini_defaults(&t, cfg);
	if (rc == HZ_INI_OK)
		rc = text ? hz_ini_load_string(&t, cfg, path, text, err, errlen)
			  : hz_ini_load(&t, cfg, path, err, errlen);
	if (rc != HZ_INI_OK)
		return rc;
	for (size_t i = 0; i < cfg->nhooks; i++)
		snprintf(cfg->hooks[i].min_severity, sizeof(cfg->hooks[i].min_severity), "%s",
			 sev_names[cfg->hook_sev[i]]);
	if (!check_all(cfg, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		return HZ_INI_EPARSE;
	}
	return HZ_INI_OK;
}

int
web_config_load(const char *path, struct web_config *cfg, char *err, size_t errlen)
{
	return load(path, NULL, cfg, err, errlen);
}

int
web_config_load_string(const char *name, const char *text, struct web_config *cfg, char *err,
                       size_t errlen)
{
	return load(name, text, cfg, err, errlen);
}

void
web_config_print_help(FILE *out)
{
	static const struct hz_ini_table t = { .opts = web_opts, .nopts = NOPTS };
	struct hz_ini_opt hook[NHOOKOPTS];
	struct hz_ini_table ht = { .opts = hook, .nopts = NHOOKOPTS };

	hz_ini_print_help(&t, out);
	for (size_t k = 0; k < NHOOKOPTS; k++) {
		hook[k] = hook_opts[k];
		hook[k].section = "webhook.NAME";
	}
	hz_ini_print_help(&ht, out);
}
