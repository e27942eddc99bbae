/*
 * gw_registry.c - the fleet registry in the daemon (see gw_registry.h):
 * the query, the build off to the side and the swap, the reload on
 * NOTIFY hazgate_registry.
 *
 * The rows come as one text value (schema's sch_registry_query), so
 * libpq's result stays small. A row the registry cannot take (a name or
 * cargo written before schema 010's checks, a device mapped twice) is
 * skipped and counted in the log line (`event=registry_loaded skipped=N
 * first="..."`); only running out of memory refuses the whole load
 * (`event=registry_refused`, the old copy stays).
 */
#include "gateway/gateway-internal.h"
#include "gateway/gw_registry.h"

#include <stdlib.h>
#include <string.h>

#include "common/hz_log.h"
#include "schema/schema.h"

static void
registry_result(void *arg, const PGresult *res)
{
	struct gw *gw = arg;
	struct decide_registry *r;
	size_t skipped = 0;
	char why[160] = "";

	if (PQntuples(res) != 1)
		return;
	r = decide_registry_new();
	if (r && decide_registry_load_text(r, PQgetvalue(res, 0, 1),
					   (size_t)PQgetlength(res, 0, 1), &skipped, why,
					   sizeof why) != DECIDE_REG_OK) {
		decide_registry_free(r);
		r = NULL;
	}
	if (!r) {
		hz_log(HZ_LOG_ERROR, "registry_refused", "why=\"out of memory\" kept=%zu",
		       decide_registry_vehicles(gw->reg.cur));
		return;
	}
	skipped += strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	for (char *p = why; *p; p++)
		if (*p == '"')
			*p = '\'';
	decide_registry_free(gw->reg.cur);
	gw->reg.cur = r;   /* the swap: the next message decides with it */
	hz_log(skipped ? HZ_LOG_WARN : HZ_LOG_INFO, "registry_loaded",
	       "vehicles=%zu devices=%zu bytes=%zu skipped=%zu first=\"%s\"",
	       decide_registry_vehicles(r), decide_registry_devices(r),
	       decide_registry_memory(r), skipped,
	       why[0] ? why : (skipped ? "a control character in a value" : ""));
}

struct net_pg_step
gw_registry_load_step(void)
{
	return (struct net_pg_step){ .sql = sch_registry_query, .on_result = registry_result };
}

static void
reload_done(void *arg, int err, const char *msg)
{
	struct gw *gw = arg;

	gw->reg.busy = false;
	if (err == NET_PG_ESQL)
		hz_log(HZ_LOG_ERROR, "registry_query_failed", "why=\"%s\"", msg);
	if (gw->reg.dirty && err == NET_PG_OK) {
		gw->reg.dirty = false;
		gw_registry_reload(gw);
	}
}

void
gw_registry_reload(struct gw *gw)
{
	struct net_pg_job *j = &gw->reg.job;

	if (gw->phase != GW_PHASE_RUN && gw->phase != GW_PHASE_LOAD)
		return;
	if (gw->reg.busy) {
		gw->reg.dirty = true;
		return;
	}
	memset(j, 0, sizeof(*j));
	j->steps[0] = gw_registry_load_step();
	j->nsteps = 1;
	j->done = reload_done;
	j->arg = gw;
	gw->reg.busy = true;
	net_pg_submit(gw->pg, j);
}

const struct decide_registry *
gw_registry_current(const struct gw *gw)
{
	return gw->reg.cur;
}

void
gw_registry_clear(struct gw *gw)
{
	decide_registry_free(gw->reg.cur);
	gw->reg.cur = NULL;
}
