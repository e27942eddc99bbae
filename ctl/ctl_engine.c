/*
 * ctl_engine.c: configuration, time zone, zones and the decide step for
 * hazgate-ctl replay and audit, so that both decide exactly as the daemon
 * does (same reader, same loader, same decide step: decide/).
 */
#include "ctl/ctl_engine.h"
#include "ctl/ctl_registry.h"
#include "schema/schema.h"
#include "common/hz_file.h"

#include <errno.h>
#include <stdio.h>
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
	decide_registry_free(conf->reg);
	conf->reg = NULL;
}

int
ctl_engine_registry_file(const struct ctl_common *co, const char *path, const gf_zoneset *zs,
			 struct ctl_engine_conf *conf)
{
	struct ctl_regfile f;
	int rc = ctl_registry_file(co->cmd, path, &f);
	char why[256];

	if (rc != CTL_OK)
		return rc;
	decide_registry_free(conf->reg);
	conf->reg = decide_registry_new();
	rc = conf->reg ? CTL_OK : CTL_EFAIL;
	for (size_t i = 0; rc == CTL_OK && i < f.n; i++) {
		const struct ctl_regrow *row = &f.rows[i];
		struct gf_zone_info zi;
		for (size_t k = 0; k < row->nroutes && rc == CTL_OK; k++) {
			long z = gf_zoneset_find(zs, row->routes[k]);
			if (z < 0 || gf_zoneset_zone(zs, (size_t)z, &zi) != GF_OK ||
			    zi.kind != GF_KIND_CORRIDOR) {
				ctl_error(
					co->cmd,
					"%s:%u: vehicle %s: route %lld is no corridor of the zones",
					path, row->line, row->vehicle, (long long)row->routes[k]);
				rc = CTL_EUSAGE;
			}
		}
		if (rc == CTL_OK &&
		    decide_registry_add(conf->reg, row->vehicle, row->text[CTL_REG_UN],
					row->text[CTL_REG_CLASS], row->routes, row->nroutes, why,
					sizeof why) != DECIDE_REG_OK)
			rc = CTL_EFAIL;
		for (size_t k = 0; rc == CTL_OK && k < row->ndevices; k++)
			if (decide_registry_add_device(conf->reg, row->devices[k], row->vehicle,
						       why, sizeof why) != DECIDE_REG_OK)
				rc = CTL_EFAIL;
		if (rc == CTL_EFAIL)
			ctl_error(co->cmd, "%s:%u: %s", path, row->line, why);
	}
	ctl_regfile_free(&f);
	return rc;
}

int
ctl_engine_registry_db(const struct ctl_common *co, PGconn *conn, struct ctl_engine_conf *conf)
{
	PGresult *res = ctl_query(conn, co->cmd, sch_registry_query, 0, NULL);
	char why[160];
	size_t skipped = 0;
	int rc = CTL_EFAIL;

	if (!res)
		return CTL_EFAIL;
	decide_registry_free(conf->reg);
	conf->reg = decide_registry_new();
	if (conf->reg && PQntuples(res) == 1 &&
	    decide_registry_load_text(conf->reg, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1),
				      &skipped, why, sizeof why) == DECIDE_REG_OK) {
		rc = CTL_OK;
		skipped += strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		if (skipped)
			fprintf(stderr,
				"hazgate-ctl %s: %zu registry rows skipped, as the gateway skips them: %s\n",
				co->cmd, skipped, why[0] ? why : "a control character in a value");
	} else {
		ctl_error(co->cmd, "the fleet registry: out of memory");
	}
	PQclear(res);
	return rc;
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
				    .arg = arg,
				    .registry = conf->reg };
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
