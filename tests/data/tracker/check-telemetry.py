#!/usr/bin/env python3
"""check-telemetry.py - hazgate tracker tests: check what a subscriber
received (mosquitto_sub -v output, "topic payload" per line) against the
NMEA drive that gpsfake played.

For every telemetry payload: the vehicle (and cargo) are the configured
ones, ts is one of the drive's fix times (RFC 3339 UTC with milliseconds),
lat/lon match that fix (1e-6 degree), speed_kmh is the RMC speed in knots
times 1.852 (0.02), heading is the RMC course, alt_m, sats and hdop those of
the GGA when fix is 3.  Then, by seq (duplicates, which QoS 1 allows, must be byte-equal
to the first copy and are counted):
  - seq numbers are consecutive from --first-seq (nothing lost),
  - fix times grow with seq (sent in order),
  - with --policy, the fixes reported are exactly those the reporting
    policy picks from the drive (a decision within 1 cm or 1 ms of a
    threshold may go either way: then the tracker's choice is followed).
Prints a summary line "payloads=N unique=N dups=N first_ts=... last_ts=..."
and exits 1 with one line per problem.

usage: check-telemetry.py --nmea FILE --sub FILE --vehicle V [--un U]
         [--hazard-class C] [--first-seq N] [--max-dups N] [--missing S,S]
         [--policy MIN,MAX,HEADING,DIST,HEADSPEED] [--from-ts TS] [--to-ts TS]
"""
import argparse
import json
import math
import sys


def nmea_fixes(path):
    """{ts_string: fix dict} and the ordered list of fix times."""
    fixes = {}
    order = []
    for line in open(path, encoding="ascii", errors="replace"):
        line = line.strip()
        if not line.startswith("$"):
            continue
        f = line.split("*")[0].split(",")
        if f[0].endswith("RMC") and f[2] == "A":
            hh, mm, ss = f[1][0:2], f[1][2:4], f[1][4:]
            d = f[9]
            ts = "20%s-%s-%sT%s:%s:%06.3fZ" % (d[4:6], d[2:4], d[0:2], hh, mm, float(ss))
            lat = int(f[3][:2]) + float(f[3][2:]) / 60.0
            if f[4] == "S":
                lat = -lat
            lon = int(f[5][:3]) + float(f[5][3:]) / 60.0
            if f[6] == "W":
                lon = -lon
            fx = fixes.setdefault(ts, {})
            fx.update(ts=ts, lat=lat, lon=lon, speed_kmh=float(f[7]) * 1.852,
                      heading=float(f[8]) if f[8] else None)
            if ts not in order:
                order.append(ts)
            last_rmc = ts
        elif f[0].endswith("GGA") and f[6] != "0":
            # The GGA of a cycle carries the same time as its RMC.
            for ts in reversed(order[-2:]):
                if ts[11:19].replace(":", "") == f[1][:6]:
                    fixes[ts]["alt_m"] = float(f[9])
                    fixes[ts]["sats"] = int(f[7])
                    fixes[ts]["hdop"] = float(f[8])
                    break
    return fixes, order


def ms(ts):
    # 2019-08-10T00:00:02.000Z -> ms since the start of the year 2000 (enough to compare)
    import datetime
    d = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int((d - datetime.datetime(2000, 1, 1)).total_seconds() * 1000 + 0.5)


def dist_m(a, b):
    r, rad = 6371008.8, math.pi / 180.0
    dlat = (b["lat"] - a["lat"]) * rad
    dlon = (b["lon"] - a["lon"]) * rad
    h = math.sin(dlat / 2) ** 2 + math.cos(a["lat"] * rad) * math.cos(b["lat"] * rad) * math.sin(dlon / 2) ** 2
    return 2 * r * math.asin(math.sqrt(min(h, 1.0)))


def angle_diff(a, b):
    d = math.fmod(abs(a - b), 360.0)
    return 360.0 - d if d > 180.0 else d


def decide(p, last, fx):
    """'yes', 'no' or 'tie' (too close to a threshold to tell)."""
    mn, mx, hd, dd, hs = p
    dt = (ms(fx["ts"]) - ms(last["ts"])) / 1000.0
    if dt <= 0 or dt < mn:
        return "no"
    if dt >= mx:
        return "yes"
    d = dist_m(last, fx)
    if abs(d - dd) < 0.01:
        return "tie"
    if d >= dd:
        return "yes"
    if fx["heading"] is not None and last["heading"] is not None and fx["speed_kmh"] >= hs:
        a = angle_diff(fx["heading"], last["heading"])
        if abs(a - hd) < 1e-6:
            return "tie"
        if a >= hd:
            return "yes"
    return "no"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nmea", required=True)
    ap.add_argument("--sub", required=True)
    ap.add_argument("--vehicle", required=True)
    ap.add_argument("--un")
    ap.add_argument("--hazard-class")
    ap.add_argument("--first-seq", type=int, default=1)
    ap.add_argument("--max-dups", type=int, default=0)
    ap.add_argument("--policy")
    ap.add_argument("--from-ts", help="first fix time the tracker could see")
    ap.add_argument("--to-ts", help="last fix time the tracker could see")
    ap.add_argument("--expect-count", type=int)
    ap.add_argument("--missing", default="",
                    help="comma-separated seqs that must not arrive (damaged on disk)")
    a = ap.parse_args()

    fixes, order = nmea_fixes(a.nmea)
    problems = []
    by_seq = {}
    raw_by_seq = {}
    payloads = dups = 0
    topic = "tankers/%s/telemetry" % a.vehicle
    for line in open(a.sub, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.startswith(topic + " "):
            continue
        raw = line[len(topic) + 1:]
        payloads += 1
        try:
            p = json.loads(raw)
        except ValueError:
            problems.append("not JSON: %s" % raw[:80])
            continue
        seq = p.get("seq")
        if not isinstance(seq, int):
            problems.append("no integer seq: %s" % raw[:80])
            continue
        if seq in by_seq:
            dups += 1
            print("duplicate: seq %d" % seq)
            if raw != raw_by_seq[seq]:
                problems.append("seq %d sent twice with different payloads" % seq)
            continue
        by_seq[seq] = p
        raw_by_seq[seq] = raw
        if p.get("vehicle") != a.vehicle:
            problems.append("seq %d: vehicle %r" % (seq, p.get("vehicle")))
        if a.un and p.get("un") != a.un:
            problems.append("seq %d: un %r" % (seq, p.get("un")))
        if a.hazard_class and p.get("hazard_class") != a.hazard_class:
            problems.append("seq %d: hazard_class %r" % (seq, p.get("hazard_class")))
        fx = fixes.get(p.get("ts"))
        if fx is None:
            problems.append("seq %d: ts %r is not a fix of the drive" % (seq, p.get("ts")))
            continue
        if abs(p["lat"] - fx["lat"]) > 1e-6 or abs(p["lon"] - fx["lon"]) > 1e-6:
            problems.append("seq %d: position %r,%r != %r,%r" % (seq, p["lat"], p["lon"], fx["lat"], fx["lon"]))
        if abs(p.get("speed_kmh", -1e9) - fx["speed_kmh"]) > 0.02:
            problems.append("seq %d: speed_kmh %r != %.3f" % (seq, p.get("speed_kmh"), fx["speed_kmh"]))
        if fx["heading"] is not None and abs(p.get("heading", -1e9) - fx["heading"]) > 0.05:
            problems.append("seq %d: heading %r != %r" % (seq, p.get("heading"), fx["heading"]))
        if p.get("fix") not in (2, 3):
            problems.append("seq %d: fix %r" % (seq, p.get("fix")))
        if p.get("fix") == 3 and abs(p.get("alt_m", -1e9) - fx.get("alt_m", 1e9)) > 0.05:
            problems.append("seq %d: alt_m %r != %r" % (seq, p.get("alt_m"), fx.get("alt_m")))
        # hdop and sats come from the cycle's GGA: with a 3D fix they are known.
        if p.get("fix") == 3 or "sats" in p or "hdop" in p:
            if p.get("sats") != fx.get("sats"):
                problems.append("seq %d: sats %r != %r" % (seq, p.get("sats"), fx.get("sats")))
            if abs(p.get("hdop", -1e9) - fx.get("hdop", 1e9)) > 0.005:
                problems.append("seq %d: hdop %r != %r" % (seq, p.get("hdop"), fx.get("hdop")))

    seqs = sorted(by_seq)
    missing_ok = set(int(x) for x in a.missing.split(",") if x)
    for m in sorted(missing_ok & set(seqs)):
        problems.append("seq %d arrived but should be missing" % m)
    if seqs:
        want = [s for s in range(a.first_seq, seqs[-1] + 1) if s not in missing_ok]
        if seqs != want:
            missing = sorted(set(want) - set(seqs))
            problems.append("seq not consecutive from %d: %d missing (%s...), first %d last %d"
                            % (a.first_seq, len(missing), missing[:10], seqs[0], seqs[-1]))
        prev = None
        for s in seqs:
            t = by_seq[s].get("ts")
            if prev is not None and t is not None and prev is not None and t <= prev:
                problems.append("seq %d: ts %s not after the previous %s" % (s, t, prev))
            prev = t
    else:
        problems.append("no telemetry received")
    if dups > a.max_dups:
        problems.append("%d duplicates (at most %d allowed)" % (dups, a.max_dups))
    if a.expect_count is not None and len(seqs) != a.expect_count:
        problems.append("%d unique payloads, expected %d" % (len(seqs), a.expect_count))

    if a.policy and seqs:
        p = [float(x) for x in a.policy.split(",")]
        got = [by_seq[s]["ts"] for s in seqs]
        got_set = set(got)
        drive = [t for t in order
                 if (not a.from_ts or t >= a.from_ts) and (not a.to_ts or t <= a.to_ts)]
        expected = []
        last = None
        for t in drive:
            fx = fixes[t]
            if last is None:
                verdict = "yes"
            else:
                verdict = decide(p, last, fx)
            if verdict == "tie":
                verdict = "yes" if t in got_set else "no"
            if verdict == "yes":
                expected.append(t)
                last = fx
        if got != expected:
            extra = [t for t in got if t not in set(expected)]
            miss = [t for t in expected if t not in got_set]
            problems.append("policy: %d reported, %d expected; unexpected %s; missing %s"
                            % (len(got), len(expected), extra[:5], miss[:5]))

    print("payloads=%d unique=%d dups=%d first_seq=%s last_seq=%s first_ts=%s last_ts=%s"
          % (payloads, len(seqs), dups, seqs[0] if seqs else None, seqs[-1] if seqs else None,
             by_seq[seqs[0]]["ts"] if seqs else None, by_seq[seqs[-1]]["ts"] if seqs else None))
    for pr in problems[:30]:
        print("PROBLEM: " + pr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
