#!/usr/bin/env bash
# fill-db.sh: fill the private PostgreSQL of a ctl test (PG* variables set)
# the way the gateway would: migrate, the sample zones, and the positions and
# alerts that `hazgate-ctl replay` computes from $HG_SHARED/data's fleet
# sample (positions through replay --positions, alerts from its stdout).
# The day is then compacted (hazgate-ctl compact), as closed days are.
# Also creates the login roles t_disp (hazgate_dispatcher) and t_admin
# (hazgate_admin). Leaves the replay output in $1 (default $HG_SVC_DIR).
# HG_FILL_ZONES=no leaves the zones out (the database has none, in force
# now or ever), for a test that records them as of the past itself.
set -euo pipefail
out=${1:-$HG_SVC_DIR}
ctl="$HG_BUILDDIR/hazgate-ctl"
data="$HG_SHARED/data"

"$ctl" migrate >/dev/null
psql -XqAt -v ON_ERROR_STOP=1 <<'SQL'
CREATE ROLE t_disp LOGIN IN ROLE hazgate_dispatcher;
CREATE ROLE t_admin LOGIN IN ROLE hazgate_admin;
SELECT hazgate_ensure_partitions('2019-08-10', 1);
SQL
if [ "${HG_FILL_ZONES:-yes}" != no ]; then
  "$ctl" zones import "$data/zones-taiyuan.geojson" >/dev/null
fi
"$ctl" replay --zones "$data/zones-taiyuan.geojson" --positions "$out/positions.csv" \
    "$data/fleet-sample.ndjson" > "$out/alerts.ndjson" 2> "$out/replay.log"
jq -r '[.kind, .severity, .vehicle, .zone_id, .zone, .ts, .lat, .lon, .speed_kmh,
        (.detail | tojson)] | @csv' "$out/alerts.ndjson" > "$out/alerts.csv"
psql -XqAt -v ON_ERROR_STOP=1 \
  -c "\\copy positions (vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un, hazard_class, seq, ignition, zone_ids, alarms) FROM '$out/positions.csv' CSV HEADER" \
  -c "\\copy alerts (kind, severity, vehicle, zone_id, zone_name, ts, lat, lon, speed_kmh, detail) FROM '$out/alerts.csv' CSV"
# The sample's day compacted, as an auditor finds a closed day months later
# (schema/012): tracks and audits read it from slices.
"$ctl" compact --before 2019-08-11 >/dev/null
