/*
 * decide.h - THE decide step: one MQTT message in, what hazgate makes of it
 * out (pure: no I/O, no clock, no statics, no allocation).
 *
 *   topic -> format (the first configured subscription whose filter
 *   matches, else auto) -> ing_decode() -> the fix as the engine's gf_fix
 *   -> gf_engine_fix() (alerts to the caller's callback).
 *
 * The daemon, `hazgate-ctl replay` and `audit` and the benchmarks all call
 * this, so that an audit replays exactly what the daemon decided: there is
 * no second copy of the topic matcher, the ing_fix -> gf_fix rule or the
 * handling of the engine's result. What becomes of the outcome (rows,
 * counters, logs, CSV) is the caller's: decide_result holds everything
 * for that, so nothing is decoded twice.
 *
 * Memory: the payload is read in place (borrowed for the call); the fix is
 * decoded straight into the caller's decide_result and the engine reads it
 * from there (its strings are borrowed, not copied). No allocation here;
 * ingest's and the engine's are theirs (see ingest.h, geofence.h).
 *
 * Thread safety: none needed beyond the engine's: one engine, one thread.
 */
#ifndef HAZGATE_DECIDE_H
#define HAZGATE_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decide/decide_registry.h"
#include "geofence/geofence.h"
#include "ingest/ingest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A configured subscription: an MQTT topic filter and its decoder. */
struct decide_sub {
	const char *filter;         /* NUL-terminated, borrowed */
	enum ing_format format;
};

/*
 * What a decision needs besides the message. Plain values the caller
 * fills (no _new/_free); every pointer is borrowed and must outlive the
 * calls that use it.
 */
struct decide_ctx {
	const struct decide_sub *subs;  /* in configuration order; may be NULL
	                                   when nsubs is 0 */
	size_t nsubs;
	gf_engine *engine;              /* NULL: every fix is refused with
	                                   GF_EINVAL (the daemon before its
	                                   zones load) */
	gf_alert_cb on_alert;           /* each alert, borrowed for the call;
	                                   may be NULL */
	void *arg;                      /* for on_alert */
	const struct decide_registry *registry; /* the fleet registry
	                                   (decide_registry.h), or NULL: none */
};

/* The outcome of decide_message(). */
struct decide_result {
	enum ing_result result;     /* ING_OK: a fix (fix, engine_rc, fr);
	                               ING_IGNORED: not a position (err.message
	                               says what); ING_REJECTED: err.reason,
	                               err.message */
	enum ing_format format;     /* the subscription's format (may be auto;
	                               fix.format is the decoder used) */
	struct ing_error err;
	struct ing_fix fix;         /* ING_OK: the decoded fix, the positions
	                               row; otherwise partly written */
	int engine_rc;              /* ING_OK: gf_engine_fix()'s GF_OK,
	                               GF_EINVAL (refused: nothing changed) or
	                               GF_ENOMEM (see geofence.h); else GF_OK */
	struct gf_fix_result fr;    /* ING_OK: disposition, nalerts,
	                               state_changed, and the zone ids covering
	                               the fix (nzone_ids is 0 unless engine_rc
	                               is GF_OK; zone_ids is the engine's, valid
	                               until its next call); else zeroed */
};

/*
 * Does MQTT topic filter `filter` match topic name `topic` (MQTT 3.1.1
 * 4.7, as mosquitto_topic_matches_sub)? '+' matches one whole level
 * (possibly empty), '#' as the last level matches the rest, the parent
 * included ("a/#" matches "a"). A topic starting with '$' is not matched by
 * a filter starting with a wildcard. False for NULL or empty arguments, an
 * invalid filter ('+' or '#' not alone in its level, '#' not last) and a
 * topic with '+' or '#' in it.
 */
bool decide_topic_matches(const char *filter, const char *topic);

/* The format of the first of `n` subscriptions whose filter matches
 * `topic`; ING_FORMAT_AUTO when none does or topic is NULL. */
enum ing_format decide_format(const struct decide_sub *subs, size_t n,
                              const char *topic);

/*
 * Run a decoded fix through d->engine, alerts to d->on_alert: the engine
 * step of decide_message(), for fixes that were decoded before (`hazgate-ctl
 * audit` replays stored positions). The engine gets vehicle, time,
 * position, speed when ING_HAS_SPEED and hazard class when
 * ING_HAS_HAZARD_CLASS, borrowed from `fix`, and the routes d->registry
 * assigns to the vehicle; rx_us is the wall-clock
 * receive time that silence is measured from (0: the fix's own time).
 * The fix's cargo is taken as it is (a stored row holds the cargo
 * decide_message() decided with, the registry's included).
 * fr may be NULL. Returns gf_engine_fix()'s code (GF_OK, GF_EINVAL,
 * GF_ENOMEM); on anything but GF_OK fr->nzone_ids is 0.
 */
int decide_fix(const struct decide_ctx *d, const struct ing_fix *fix,
               int64_t rx_us, struct gf_fix_result *fr);

/*
 * Decide one message: its format from d->subs, ing_decode() into out->fix,
 * then the fleet registry (d->registry, when set): an OwnTracks fix whose
 * vehicle is a mapped device becomes its plate; a fix that carries neither
 * `un` nor `hazard_class` takes both from the vehicle's entry (the pair
 * is one cargo: a fix that names either keeps its own); out->fix is then
 * the positions row, with that vehicle and cargo. Then, for a fix,
 * decide_fix(). topic may be NULL (a replay line without
 * one: auto, the vehicle from the payload); payload is `len` raw bytes,
 * borrowed. now_us is the caller's clock at receipt: the decoder's "now"
 * for its future check, and the engine's receive time. Returns
 * out->result (ING_OK, ING_IGNORED, ING_REJECTED); every member of *out
 * is set as its comment says.
 */
enum ing_result decide_message(const struct decide_ctx *d, const char *topic,
                               const void *payload, size_t len,
                               int64_t now_us, struct decide_result *out);

#ifdef __cplusplus
}
#endif

#endif /* HAZGATE_DECIDE_H */
