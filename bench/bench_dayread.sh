#!/bin/bash
# bench_dayread.sh: the two reads of every vehicle over a whole day (make
# bench-dayread): `hazgate-ctl retention run` archiving a compacted day
# (ctl/ctl_retention.c) and `hazgate-ctl audit` of every vehicle over it
# (ctl/ctl_audit.c), each by the SQL decoder (HAZGATE_DAYREAD=sql:
# hazgate_positions_all(), schema/018) and by hazgate-ctl's (ctl_slices.c,
# ctl_slicesdb.c's every-vehicle reader), alternated in one run on one
# private PostgreSQL 15; their outputs compared byte for byte.
#
# The day: DAYREAD_VEHICLES tankers (default 400) over DAYREAD_HOURS
# hours (24) at a fix every DAYREAD_STEP_S s (10): bench/storage-gen.awk's
# fleet, written by binary COPY as the gateway writes it, compacted by
# hazgate-ctl compact, then DAYREAD_LATE late fixes (default 200) in
# positions_recent_default (the rows a late fix of a compacted day makes).
# Printed per path and run: wall time, the PostgreSQL backend's CPU (the
# postmaster's reaped children: the command's backend, which ends with
# it) and hazgate-ctl's own CPU, a fix; then the ratios (best of
# DAYREAD_RUNS runs, default 2). Each retention run works on a fresh copy
# of the day's database (CREATE DATABASE ... TEMPLATE), since it drops the
# day. Never fails on a figure; exits 1 when the outputs differ.
set -euo pipefail
SRC=${HG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${HG_BUILDDIR:-$SRC/build}
VEH=${DAYREAD_VEHICLES:-400} HOURS=${DAYREAD_HOURS:-24} STEP=${DAYREAD_STEP_S:-10}
LATE=${DAYREAD_LATE:-200} RUNS=${DAYREAD_RUNS:-2}
START=1793577600                       # 2026-11-02T00:00:00Z
DAY=2026-11-02 DAYTO=2026-11-03
CTL=$BUILD/hazgate-ctl
ZONES=$SRC/data/zones-taiyuan.geojson

svc=$(mktemp -d /tmp/hg-bench-dayread.XXXXXX)
chmod 755 "$svc"
cleanup() { "$SRC/scripts/services-stop" "$svc/svc" >/dev/null 2>&1 || true; rm -rf "$svc"; }
trap cleanup EXIT
eval "$("$SRC/scripts/services-start" --no-mqtt "$svc/svc")"
export PGHOST PGPORT PGUSER
work=$svc/work
mkdir -p "$work"
chmod 777 "$work"
q() { psql -XqAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
hz=$(getconf CLK_TCK)
cols="vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un, hazard_class, seq, ignition, zone_ids, received_at"

q postgres "CREATE DATABASE hg_day" >/dev/null
PGDATABASE=hg_day "$CTL" migrate >/dev/null
q hg_day "SELECT hazgate_ensure_partitions('$DAY', 1)" >/dev/null
awk -v vehicles="$VEH" -v hours="$HOURS" -v step_s="$STEP" -v start="$START" -v prefix=B \
  -f "$SRC/bench/storage-gen.awk" | awk '{ print $0 "\t\\N" }' > "$work/fleet.copy"
PGDATABASE=hg_day "$BUILD/bench/bench_copy" positions_recent "$cols, alarms" 1000 binary \
  < "$work/fleet.copy" >/dev/null
PGDATABASE=hg_day "$CTL" compact --before "$DAYTO" >/dev/null
# Late fixes of the compacted day: 5 s after fixes of the first vehicles,
# through the view (they land in positions_recent_default).
q hg_day "INSERT INTO positions ($cols)
  SELECT vehicle, ts + interval '5 s', lat + 1e-5, lon, speed_kmh, heading, alt_m, hdop, fix,
         sats, un, hazard_class, seq + 1000000, ignition, zone_ids, received_at
    FROM hazgate_positions_all('$DAY', '$DAYTO') ORDER BY vehicle, ts LIMIT $LATE" >/dev/null
q hg_day "VACUUM ANALYZE" >/dev/null
q hg_day "CHECKPOINT" >/dev/null
PGDATABASE=hg_day "$CTL" zones import "$ZONES" >/dev/null
n=$(q hg_day "SELECT count(*) FROM hazgate_positions_all('$DAY', '$DAYTO')")
late=$(q hg_day "SELECT count(*) FROM positions_recent")
echo "fixes=$n (late, in rows: $late) vehicles=$VEH hours=$HOURS step_s=$STEP slices=$(q hg_day "SELECT count(*) FROM positions_slices")"
echo "start: $(date -u +%FT%TZ) load_average=$(cut -d' ' -f1-3 /proc/loadavg) cores=$(nproc)"

pm=$(head -1 "$svc/svc/pg/data/postmaster.pid")
# autovacuum workers are the postmaster's children too: none during the runs
q postgres "ALTER SYSTEM SET autovacuum = off" >/dev/null; q postgres "SELECT pg_reload_conf()" >/dev/null
reaped() { awk '{ print $16 + $17 }' "/proc/$pm/stat"; }   # cutime + cstime
# measure NAME CMD...: wall ms, backend CPU ms (the postmaster's reaped
# children, so the command's backend must end with it), own CPU ms
measure() {
  local name=$1; shift
  sleep 0.3
  local b0 a b b1 own
  b0=$(reaped); a=$(date +%s%N)
  /usr/bin/time -f '%U %S' -o "$work/time" "$@" > "$work/$name.out" 2> "$work/$name.err" || {
    echo "$name failed:" >&2; cat "$work/$name.err" >&2; exit 1; }
  b=$(date +%s%N)
  sleep 0.3
  b1=$(reaped)
  own=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$work/time")
  echo "$(( (b - a) / 1000000 )) $(( (b1 - b0) * 1000 / hz )) $own"
}
printf '[retention]\npositions_days = 1\narchive_dir = %s/arch\n' "$work" > "$work/retention.conf"
retention() {  # retention PATH(sql|c): a run on a fresh copy of the day
  q postgres "DROP DATABASE IF EXISTS hg_run" >/dev/null
  q postgres "CREATE DATABASE hg_run TEMPLATE hg_day" >/dev/null
  rm -rf "$work/arch"; mkdir -p "$work/arch"
  local env=()
  [ "$1" = sql ] && env=(HAZGATE_DAYREAD=sql)
  measure "retention-$1" env "${env[@]}" PGDATABASE=hg_run "$CTL" retention run --no-compact \
    --config "$work/retention.conf"
  zcat "$work/arch/positions-$DAY.csv.gz" > "$work/archive-$1.csv"
  cp "$work/arch/positions-$DAY.csv.gz" "$work/archive-$1.csv.gz"
}
audit() {  # audit PATH(sql|c)
  local env=()
  [ "$1" = sql ] && env=(HAZGATE_DAYREAD=sql)
  measure "audit-$1" env "${env[@]}" PGDATABASE=hg_day "$CTL" audit --from "${DAY}T00:00:00Z" \
    --to "${DAYTO}T00:00:00Z" --zones "$ZONES" --format csv
}
# Where the SQL path's backend CPU goes (DAYREAD_BREAKDOWN=0: skipped):
# each query once in its own session, the backend's CPU.
sqlcpu() {  # sqlcpu SQL: the backend's CPU ms
  {
    echo "SELECT pg_backend_pid() AS bpid \\gset"; echo "\\setenv BPID :bpid"
    echo "\\! awk '{print \$14 + \$15}' /proc/\$BPID/stat > $work/sq.0"
    echo "$1;"
    echo "\\! awk '{print \$14 + \$15}' /proc/\$BPID/stat > $work/sq.1"
  } | psql -XqAt -v ON_ERROR_STOP=1 -o /dev/null -d hg_day
  echo $(( ($(cat "$work/sq.1") - $(cat "$work/sq.0")) * 1000 / hz ))
}
if [ "${DAYREAD_BREAKDOWN:-1}" = 1 ]; then
  tt="to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
  tr="to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
  acols="vehicle, $tt AS ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un, hazard_class, seq, ignition, zone_ids, $tr AS received_at, alarms"
  all="hazgate_positions_all('$DAY', '$DAYTO')"
  echo "breakdown (backend CPU ms, each once, $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)):"
  echo "  decode only, SELECT count(*) FROM hazgate_positions_all(day): $(sqlcpu "SELECT count(*) FROM $all")"
  echo "  decode + every column out, unordered, COPY (SELECT * ...) TO /dev/null: $(sqlcpu "COPY (SELECT * FROM $all) TO '/dev/null'")"
  echo "  decode + sort, SELECT count(*) FROM (... ORDER BY vehicle, ts OFFSET 0): $(sqlcpu "SELECT count(*) FROM (SELECT vehicle, ts FROM $all ORDER BY vehicle COLLATE \"C\", ts OFFSET 0) x")"
  echo "  retention's COPY whole, to /dev/null: $(sqlcpu "COPY (SELECT $acols FROM $all ORDER BY vehicle COLLATE \"C\", ts) TO '/dev/null' WITH (FORMAT csv, HEADER)")"
  echo "  the raw slices and rows, binary, ordered by vehicle (the C path's reads): $(sqlcpu "COPY (SELECT * FROM positions_slices ORDER BY vehicle COLLATE \"C\", hour) TO '/dev/null' WITH (FORMAT binary)") + $(sqlcpu "COPY (SELECT * FROM positions_recent ORDER BY vehicle COLLATE \"C\", ts) TO '/dev/null' WITH (FORMAT binary)")"
  echo "  the audit's query (ORDER BY ts, vehicle; 7 columns) to /dev/null: $(sqlcpu "COPY (SELECT vehicle, floor(extract(epoch FROM ts) * 1000000)::int8, lat, lon, speed_kmh, hazard_class, alarms FROM $all ORDER BY ts, vehicle COLLATE \"C\") TO '/dev/null'")"
fi
declare -A best
keep() {  # keep KEY "wall pg own"
  local cur=${best[$1]:-}
  if [ -z "$cur" ] || [ "${2%% *}" -lt "${cur%% *}" ]; then best[$1]=$2; fi
  echo "  $1: wall_ms pg_cpu_ms ctl_cpu_ms = $2"
}
for r in $(seq "$RUNS"); do
  [ "$RUNS" = 0 ] && break
  echo "run $r: $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
  keep retention_sql "$(retention sql)"
  keep retention_c "$(retention c)"
  keep audit_sql "$(audit sql)"
  keep audit_c "$(audit c)"
done
same_archive=no; cmp -s "$work/archive-sql.csv" "$work/archive-c.csv" && same_archive=yes
same_gz=no; cmp -s "$work/archive-sql.csv.gz" "$work/archive-c.csv.gz" && same_gz=yes
same_audit=no
cmp -s "$work/audit-sql.out" "$work/audit-c.out" && cmp -s "$work/audit-sql.err" "$work/audit-c.err" &&
  same_audit=yes
for k in retention audit; do
  read -r sw sp so <<< "${best[${k}_sql]}"
  read -r cw cp co <<< "${best[${k}_c]}"
  awk -v k="$k" -v n="$n" -v sw="$sw" -v sp="$sp" -v so="$so" -v cw="$cw" -v cp="$cp" -v co="$co" 'BEGIN {
    printf "%s_sql: wall %d ms, backend CPU %.2f us a fix, hazgate-ctl CPU %.2f us a fix\n", k, sw, sp * 1000 / n, so * 1000 / n
    printf "%s_c:   wall %d ms, backend CPU %.2f us a fix, hazgate-ctl CPU %.2f us a fix\n", k, cw, cp * 1000 / n, co * 1000 / n
    printf "%s_ratio: wall %.3f, backend CPU %.3f, backend + hazgate-ctl CPU %.3f (C / SQL, best of runs)\n", k, cw / sw, cp / (sp > 0 ? sp : 1), (cp + co) / (sp + so > 0 ? sp + so : 1)
  }'
done
echo "archive_same_bytes=$same_archive (decompressed; gzip files: $same_gz) audit_same_bytes=$same_audit ($(wc -l < "$work/audit-c.out") lines; $(cat "$work/audit-c.err"))"
echo "end: $(date -u +%FT%TZ) load_average=$(cut -d' ' -f1-3 /proc/loadavg)"
[ "$same_archive" = yes ] && [ "$same_audit" = yes ]
