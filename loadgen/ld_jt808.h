/*
 * ld_jt808.h: hazgate-load jt808, a fleet of JT/T 808 terminals over TCP
 * (the counterpart of hazgate-jt808), and the pure helpers it is made of.
 *
 * The fixes come from one of hazgate-load's sources (ld_sim: the
 * simulated fleet; ld_replay: a native-JSON file such as the shared
 * sample), one terminal per vehicle. Each terminal registers (0x0100,
 * plate in GBK), authenticates (0x0102 with the code from 0x8100),
 * reports each fix (0x0200, or 0x0704 batches), heartbeats (0x0002),
 * re-sends a report that got no 0x8001 after a timeout (same serial) and
 * reconnects when the link is gone. See loadgen/README.md.
 */
#ifndef HG_LOADGEN_LD_JT808_H
#define HG_LOADGEN_LD_JT808_H

#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "jt808/jt808.h"
#include "loadgen/ld.h"

struct ld_jt808_opts {
	const char *host;       /* hazgate-jt808's address (numeric or a name) */
	int port;
	uint32_t terminals;     /* file source: at most this many vehicles (0: all) */
	int version;            /* 2013, 2019, or 0: alternate (even 2013, odd 2019) */
	uint64_t phone_base;    /* terminal i's phone number is phone_base + i */
	uint32_t first;         /* added to i (simulate --first-vehicle) */
	double rate;            /* > 0: fix k is due k / rate s after the start
	                           (instead of the source's own times) */
	double ack_timeout_s;   /* T: the n-th re-send after T * n! (JT/T 808) */
	int retries;            /* re-sends of one message before reconnecting */
	double heartbeat_s;     /* heartbeat after this long without sending */
	uint32_t blind_every;   /* every K live fixes a terminal loses the link ... */
	uint32_t blind_len;     /* ... for this many fixes, then uploads them as
	                           one 0x0704 type 1 (blind-area backfill) */
	uint32_t batch;         /* > 1: a backlog of live fixes goes as 0x0704
	                           type 0 of up to this many (default: 0x0200s) */
	uint32_t sos_every;     /* every K-th fix of a terminal carries SOS */
	bool sos_unpositioned;  /* ... and is not positioned (lat/lon 0) */
	uint32_t bad_frames;    /* bad frames each terminal sends once online */
	double duration_s;      /* stop taking fixes after this long (0: source end) */
	double drain_s;         /* then wait this long at most for the replies */
	double reconnect_max_s; /* reconnect backoff ceiling */
	uint32_t queue_max;     /* as-fast-as-possible source: fixes a terminal
	                           holds before the source waits for it */
	const char *acked;      /* write "terminal\tvehicle\tts\tlat\tlon" per acked fix */
	const char *acked_json; /* write each acked fix as hazgate-jt808 publishes it */
	const char *codes;      /* auth codes kept across runs ("phone\thex") */
	const char *ack_log;    /* "t_us\tlatency_us" per answered report or batch
	                           (t: since the start; latency: from its first
	                           sending to its 0x8001) */
	double progress_s;      /* > 0: a "progress t=.. online=.. acked=.." line
	                           on stderr this often */
};

/*
 * Drive the terminals with the fixes of src until it ends (or
 * duration_s), wait for the replies (drain_s), print key=value figures to
 * out. Returns 0 when every fix was acknowledged, LD_ERR_TIMEOUT when
 * some were not (or were refused), LD_ERR_USAGE, LD_ERR_IO, LD_ERR_NOMEM,
 * LD_ERR_DATA (a fix the source gave is not native JSON with vehicle, ts,
 * lat and lon).
 */
int ld_jt808_run(const struct ld_jt808_opts *o, struct ld_source *src, FILE *out);

/* ---- pure helpers (ld_jt808_fix.c) ------------------------------------- */

/*
 * A native-JSON fix (payload[0..len)) as a 0x0200 report: vehicle (into
 * vehicle, vcap bytes), ts (to the second: the BCD time has no fraction),
 * lat/lon (1e-6 degrees, rounded), speed_kmh (0.1 km/h), heading
 * (degrees, 0..359), alt_m, sats (item 0x31; 10 when absent), ignition
 * (ACC; on when absent); positioned. Returns LD_OK or LD_ERR_DATA (not
 * JSON, no vehicle/ts/lat/lon, a value out of range).
 */
int ld_jt_fix_parse(const char *payload, size_t len, char *vehicle,
                    size_t vcap, struct jt_location *loc);

/* The phone number of terminal `index`: base + index in decimal (cap
 * bytes, at least 21). Returns false when it has over 20 digits. */
bool ld_jt_phone(uint64_t base, uint64_t index, char *out, size_t cap);

/* The wait for the reply to the n-th sending (n >= 1) of a message:
 * JT/T 808's T(n+1) = T(n) * (n+1), T(1) = t_us. */
int64_t ld_jt_reply_wait_us(int64_t t_us, int n);

/* A plate (UTF-8) in GBK through cd (iconv_open("GBK", "UTF-8")), into
 * out (cap bytes). Returns LD_OK or LD_ERR_DATA (not convertible, too
 * long). */
int ld_jt_plate_gbk(iconv_t cd, const char *utf8, uint8_t *out, size_t cap,
                    size_t *out_len);

/* Distance between two 1e-6 degree points in 0.1 km (haversine),
 * rounded: the mileage item's step. */
uint32_t ld_jt_step_dkm(int32_t lat1, int32_t lon1, int32_t lat2, int32_t lon2);

/* A 1e-6 degree value as decimal text, six decimals ("-33.868800"). */
int ld_jt_e6(int32_t v, char *buf, size_t cap);

#endif
