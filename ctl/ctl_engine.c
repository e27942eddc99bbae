/*
 * ctl_engine.c: configuration, time zone, zones and the decide step for
 * hazgate-ctl replay and audit, so that both decide exactly as the daemon
 * does (same reader, same loader, same decide step: decide/).
 */
#include "ctl/ctl_engine.h"
#include "common/hz_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
ctl_engine_conf_load(const struct ctl_common *co, const char *path, struct ctl_engine_conf *conf)
{
	char err[512];
	memset(conf, 0, sizeof *conf);
	gw_config_default(&conf->cfg);
	if (path && gw_config_load(path, &conf->cfg, err, sizeof err) != GW_CONFIG_OK) {
		ctl_error(co->cmd, "--config: %s", err);
		return CTL_EUSAGE;
	}
	for (size_t i = 0; i < conf->cfg.mqtt.nsubs; i++) {
		conf->subs[i].filter = conf->cfg.mqtt.subs[i].filter;
		conf->subs[i].format = conf->cfg.mqtt.subs[i].format;
	}
	int r = gf_tz_load(conf->cfg.geofence.timezone, &conf->tz);
	if (r != GF_OK) {
		ctl_error(co->cmd, "time zone '%s' of [geofence] timezone: %s",
			  conf->cfg.geofence.timezone, gf_strerror(r));
		return CTL_EUSAGE;
	}
	if (gf_options_check(&conf->cfg.geofence) != GF_OK) {
		ctl_error(co->cmd, "the [geofence] options are out of range");
		ctl_engine_conf_clear(conf);
		return CTL_EUSAGE;
	}
	return CTL_OK;
}

void
ctl_engine_conf_clear(struct ctl_engine_conf *conf)
{
	gf_tz_free(conf->tz);
	conf->tz = NULL;
}

int
ctl_engine_zones_file(const struct ctl_common *co, const char *path, gf_zoneset **zs)
{
	size_t len = 0;
	char err[512];
	char *text = hz_file_read(path, &len);
	*zs = NULL;
	if (!text) {
		ctl_error(co->cmd, "cannot read zones %s: %s", path, strerror(errno));
		return CTL_EUSAGE;
	}
	int r = gf_zoneset_parse(text, len, zs, err, sizeof err);
	free(text);
	if (r != GF_OK) {
		ctl_error(co->cmd, "zones %s: %s", path, r == GF_EZONES ? err : gf_strerror(r));
		return CTL_EUSAGE;
	}
	return CTL_OK;
}

void
ctl_engine_decide(const struct ctl_engine_conf *conf, gf_engine *e, gf_alert_cb cb, void *arg,
		  struct decide_ctx *out)
{
	*out = (struct decide_ctx){ .subs = conf->subs,
				    .nsubs = conf->cfg.mqtt.nsubs,
				    .engine = e,
				    .on_alert = cb,
				    .arg = arg };
}

char *
ctl_engine_alert_json(const struct gf_alert *a, int64_t id)
{
	char small[512];
	size_t n = gf_alert_format(a, id, small, sizeof small);
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	if (n < sizeof small)
		memcpy(out, small, n + 1);
	else
		gf_alert_format(a, id, out, n + 1);
	return out;
}
