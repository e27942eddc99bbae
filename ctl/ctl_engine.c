/*
 * ctl_engine.c: configuration, time zone, zones and topic formats for
 * hazgate-ctl replay and audit, so that both decide exactly as the daemon
 * does (same reader, same loader, same decoders, same engine).
 */
#include "ctl/ctl_engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
ctl_engine_conf_load(const struct ctl_common *co, const char *path,
                     struct ctl_engine_conf *conf)
{
    char err[512];
    memset(conf, 0, sizeof *conf);
    gw_config_default(&conf->cfg);
    if (path && gw_config_load(path, &conf->cfg, err, sizeof err) != GW_CONFIG_OK) {
        ctl_error(co->cmd, "--config: %s", err);
        return CTL_EUSAGE;
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
    char *text = ctl_read_file(path, &len);
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

/* MQTT filter matching, level by level: '+' one level, '#' the rest
 * (including the parent: "a/#" matches "a"). */
static bool
topic_matches(const char *f, const char *t)
{
    for (;;) {
        const char *fe = strchr(f, '/');
        size_t fl = fe ? (size_t)(fe - f) : strlen(f);
        if (fl == 1 && f[0] == '#')
            return true;
        if (!t)
            return false;
        const char *te = strchr(t, '/');
        size_t tl = te ? (size_t)(te - t) : strlen(t);
        if (!(fl == 1 && f[0] == '+') && (fl != tl || memcmp(f, t, fl) != 0))
            return false;
        t = te ? te + 1 : NULL;
        if (!fe)
            return t == NULL;
        f = fe + 1;
    }
}

enum ing_format
ctl_engine_format(const struct gw_config *cfg, const char *topic)
{
    if (!topic)
        return ING_FORMAT_AUTO;
    for (size_t i = 0; i < cfg->mqtt.nsubs; i++) {
        if (!topic_matches(cfg->mqtt.subs[i].filter, topic))
            continue;
        switch (cfg->mqtt.subs[i].format) {
        case ING_FORMAT_NATIVE: return ING_FORMAT_NATIVE;
        case ING_FORMAT_TPV: return ING_FORMAT_TPV;
        case ING_FORMAT_OWNTRACKS: return ING_FORMAT_OWNTRACKS;
        case ING_FORMAT_AUTO: default: return ING_FORMAT_AUTO;
        }
    }
    return ING_FORMAT_AUTO;
}

void
ctl_engine_fix(const struct ing_fix *in, struct gf_fix *out)
{
    memset(out, 0, sizeof *out);
    out->vehicle = in->vehicle;
    out->ts_us = in->time_us;
    out->lat = in->lat;
    out->lon = in->lon;
    out->has_speed = (in->present & ING_HAS_SPEED) != 0;
    out->speed_kmh = in->speed_kmh;
    out->hazard_class = (in->present & ING_HAS_HAZARD_CLASS) ? in->hazard_class : NULL;
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
