/*
 * trk_gpsd.c - gpsd adapter: libgps driven by the libevent loop.
 *
 * gps_open + gps_stream(WATCH_ENABLE|WATCH_JSON|WATCH_NMEA), then the
 * socket is made non-blocking and read on readiness: gps_read is called until it has no
 * complete line left (libgps keeps partial lines in its own buffer and
 * returns 0 on EAGAIN).  Each TPV with a 2D/3D fix and a time becomes a
 * struct trk_fix.  When gpsd closes the socket (restart, crash) the adapter
 * closes its side and tries gps_open again every retry_s.
 *
 * hdop and the number of satellites used are not in gpsd's TPV.  They come
 * from the GGA sentence of the same cycle (the watch asks for NMEA too:
 * gpsd passes a receiver's GGA on, or makes one up from a binary
 * protocol), matched to the TPV by time of day; failing that, from gpsd's
 * latest SKY report, which not every receiver produces.
 *
 * gpsd may report one cycle in several TPVs with the same time (its first
 * cycle: a 2D fix after RMC, then the 3D fix after GGA).  The adapter holds
 * a cycle's fix for up to 250 ms and passes on the last, most complete one,
 * once a TPV with another time comes, the time is up, or gpsd goes away.
 *
 * Limits: gps_open connects synchronously (gpsd runs on the same machine,
 * so this does not stall the loop in practice).
 */
#include "tracker/tracker.h"

#include <event2/event.h>
#include <fcntl.h>
#include <gps.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a cycle's fix is held for a later, more complete TPV of the
 * same time (a receiver sends a cycle's sentences within a few ms). */
#define TRK_GPSD_CYCLE_WAIT_US 250000

struct trk_gpsd {
	struct event_base *base;
	char *host;
	char port[16];
	double retry_s;
	trk_gpsd_fix_fn fn;
	void *arg;
	struct gps_data_t gd;
	bool open;
	struct event *ev_read;
	struct event *ev_retry;
	struct event *ev_flush;         /* hands the pending fix on */
	bool have_pending;
	struct trk_fix pending;         /* the latest TPV of the current cycle */
	unsigned long fixes;
	/* The latest GGA: time of day (ms), satellites used, hdop. */
	bool gga_valid;
	int64_t gga_tod_ms;
	int gga_sats;
	double gga_hdop;
	bool warned;            /* the current outage was logged */
};

static void gpsd_connect(trk_gpsd *g);

static void
schedule_retry(trk_gpsd *g)
{
	struct timeval tv;

	tv.tv_sec = (time_t)g->retry_s;
	tv.tv_usec = (suseconds_t)((g->retry_s - (double)tv.tv_sec) * 1e6);
	evtimer_add(g->ev_retry, &tv);
}

static void
gpsd_close(trk_gpsd *g)
{
	if (g->ev_read) {
		event_free(g->ev_read);
		g->ev_read = NULL;
	}
	if (g->open) {
		gps_close(&g->gd);
		g->open = false;
	}
}

/* Remember time, satellites and hdop of a $xxGGA sentence. */
static void
handle_gga(trk_gpsd *g, const char *msg)
{
	const char *f[10];
	int n = 0;
	char *end;
	double t;

	for (const char *p = msg; *p && n < 10; p++)
		if (*p == ',')
			f[n++] = p + 1;
	g->gga_valid = false;
	/* f[0] time, f[5] quality, f[6] satellites, f[7] hdop */
	if (n < 8 || f[5][0] == '0' || f[5][0] == ',')
		return;
	t = strtod(f[0], &end);
	if (end == f[0] || *end != ',' || t < 0)
		return;
	g->gga_tod_ms = ((int64_t)t / 10000) * 3600000 + (((int64_t)t / 100) % 100) * 60000 +
	                (int64_t)llround(fmod(t, 100.0) * 1000.0);
	g->gga_sats = f[6][0] != ',' ? (int)strtol(f[6], NULL, 10) : -1;
	g->gga_hdop = f[7][0] != ',' ? strtod(f[7], NULL) : NAN;
	g->gga_valid = true;
}

static void
handle_tpv(trk_gpsd *g)
{
	const struct gps_fix_t *x = &g->gd.fix;
	const struct timeval cycle_wait = { 0, TRK_GPSD_CYCLE_WAIT_US };
	struct trk_fix f;

	if (x->mode < MODE_2D || !isfinite(x->latitude) || !isfinite(x->longitude) ||
	    x->time.tv_sec <= 0)
		return;
	f.time_ms = (int64_t)x->time.tv_sec * 1000 + (x->time.tv_nsec + 500000) / 1000000;
	f.lat = x->latitude;
	f.lon = x->longitude;
	f.speed_kmh = isfinite(x->speed) ? x->speed * 3.6 : NAN;
	f.heading = x->track;
	f.alt_m = x->mode >= MODE_3D ? x->altMSL : NAN;
	f.eph = x->eph;
	f.hdop = g->gd.satellites_used > 0 ? g->gd.dop.hdop : NAN;
	f.sats = g->gd.satellites_used > 0 ? g->gd.satellites_used : -1;
	if (g->gga_valid && g->gga_tod_ms == f.time_ms % 86400000) {
		f.hdop = g->gga_hdop;
		f.sats = g->gga_sats;
	}
	f.mode = x->mode;
	g->fixes++;
	if (g->have_pending && g->pending.time_ms == f.time_ms) {
		/* The same cycle reported again, completed by a later sentence
		 * (gpsd's first cycle: a 2D TPV after RMC, a 3D one after GGA). */
		if (f.sats < 0 && g->pending.sats >= 0) {
			f.sats = g->pending.sats;
			f.hdop = g->pending.hdop;
		}
		g->pending = f;
		return;
	}
	trk_gpsd_flush(g);
	g->pending = f;
	g->have_pending = true;
	evtimer_add(g->ev_flush, &cycle_wait);
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	trk_gpsd_flush(arg);
}

void
trk_gpsd_flush(trk_gpsd *g)
{
	struct trk_fix f;

	if (!g || !g->have_pending)
		return;
	evtimer_del(g->ev_flush);
	f = g->pending;
	g->have_pending = false;
	g->fn(g->arg, &f);
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	trk_gpsd *g = arg;
	char msg[4096];
	int n;

	(void)fd;
	(void)what;
	for (;;) {
		msg[0] = '\0';
		n = gps_read(&g->gd, msg, (int)sizeof msg);
		if (n < 0) {
			hz_log(HZ_LOG_WARN, "gpsd_lost", "host=%s port=%s fixes=%lu retry_s=%g",
			        g->host, g->port, g->fixes, g->retry_s);
			gpsd_close(g);
			trk_gpsd_flush(g);
			schedule_retry(g);
			return;
		}
		if (n == 0)
			return;         /* no complete line yet: wait for readiness */
		if (msg[0] == '$' && strncmp(msg + 3, "GGA,", 4) == 0)
			handle_gga(g, msg);
		else if (strstr(msg, "\"class\":\"TPV\""))
			handle_tpv(g);
	}
}

static void
gpsd_connect(trk_gpsd *g)
{
	int fl;

	memset(&g->gd, 0, sizeof g->gd);
	if (gps_open(g->host, g->port, &g->gd) != 0) {
		/* Logged once per outage, then at debug level. */
		hz_log(g->warned ? HZ_LOG_DEBUG : HZ_LOG_WARN, "gpsd_connect_failed",
		        "host=%s port=%s error=\"%s\" retry_s=%g", g->host, g->port,
		        gps_errstr(errno), g->retry_s);
		g->warned = true;
		schedule_retry(g);
		return;
	}
	g->open = true;
	if (gps_stream(&g->gd, WATCH_ENABLE | WATCH_JSON | WATCH_NMEA, NULL) != 0) {
		hz_log(HZ_LOG_WARN, "gpsd_watch_failed", "host=%s port=%s", g->host, g->port);
		gpsd_close(g);
		schedule_retry(g);
		return;
	}
	fl = fcntl(g->gd.gps_fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(g->gd.gps_fd, F_SETFL, fl | O_NONBLOCK);
	g->ev_read = event_new(g->base, g->gd.gps_fd, EV_READ | EV_PERSIST, on_read, g);
	if (!g->ev_read || event_add(g->ev_read, NULL) != 0) {
		hz_log(HZ_LOG_ERROR, "gpsd_event_failed", "host=%s port=%s", g->host, g->port);
		gpsd_close(g);
		schedule_retry(g);
		return;
	}
	g->warned = false;
	hz_log(HZ_LOG_INFO, "gpsd_connected", "host=%s port=%s", g->host, g->port);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gpsd_connect(arg);
}

trk_gpsd *
trk_gpsd_new(struct event_base *base, const char *host, int port, double retry_s,
             trk_gpsd_fix_fn fn, void *arg)
{
	trk_gpsd *g = calloc(1, sizeof *g);

	if (!g)
		return NULL;
	g->base = base;
	g->host = strdup(host);
	snprintf(g->port, sizeof g->port, "%d", port);
	g->retry_s = retry_s;
	g->fn = fn;
	g->arg = arg;
	g->ev_retry = evtimer_new(base, on_retry, g);
	g->ev_flush = evtimer_new(base, on_flush, g);
	if (!g->host || !g->ev_retry || !g->ev_flush) {
		trk_gpsd_free(g);
		return NULL;
	}
	return g;
}

int
trk_gpsd_start(trk_gpsd *g)
{
	gpsd_connect(g);
	return TRK_OK;
}

void
trk_gpsd_free(trk_gpsd *g)
{
	if (!g)
		return;
	gpsd_close(g);
	if (g->ev_retry)
		event_free(g->ev_retry);
	if (g->ev_flush)
		event_free(g->ev_flush);
	free(g->host);
	free(g);
}
