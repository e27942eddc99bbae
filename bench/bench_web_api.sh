#!/usr/bin/env bash
# bench_web_api.sh: hazgate-web's API against a full table (issue 12), in one
# run on this machine, with a private PostgreSQL (scripts/services-start
# --no-mqtt). Prints key=value figures; never fails on speed.
#
# The tables are filled in SQL (generate_series), not through the gateway:
# - HG_BENCH_WEB_API_ALERTS (1,000,000) alerts of 10,000 vehicles, 3 s
#   apart (about 35 days), a mix of the kinds with their severities, zone
#   alerts on 40 zones; inserted open (schema 003 refuses an alert inserted
#   acknowledged), then 4 in 5 acknowledged through hazgate_ack() by the
#   board's login for 5 board users (an alert_events row each, as in
#   production): every alert but one in five and the newest 1,000, so
#   about 201,000 stay open;
# - one vehicle-day: 8,640 fixes of one vehicle, 10 s apart (lat and lon to
#   1e-7 degree, as trackers send them: the slices keep 1e-9), in the day's
#   partition, beside HG_BENCH_WEB_API_FLEET (99) other vehicles' days
#   (864,000 rows in the partition by default).
# Then VACUUM ANALYZE, hazgate-web on a private port with its own login (in
# hazgate_web), a viewer's session (hazgate-ctl users add --password-file,
# POST /api/v1/session), and, after 5 calls not counted:
# - HG_BENCH_WEB_API_CALLS (200) x GET /api/v1/alerts?open=1 (the 100
#   newest open alerts): p50, p99, max (target p99 <= 50 ms);
# - HG_BENCH_WEB_API_TRACKS (30) x GET /api/v1/vehicles/{plate}/track,
#   the day, format=geojson: p50, p99, max (target <= 100 ms); then the
#   day compacted into slices (hazgate-ctl compact) and the same again
#   (track_geojson_compacted_*), the answer byte for byte the rows' one.
# Times are curl's time_total over loopback (the HTTP round trip is in
# them), twice: on one connection kept alive for all the calls of a kind,
# as a browser does, and on a fresh connection per call.
# HG_BENCH_WEB_API_BEFORE=PATH: another build's hazgate-web, started beside
# this one on the same database and login; each track figure is then
# taken for both, alternated (this, before, this, before: two blocks of
# HG_BENCH_WEB_API_TRACKS calls each, both printed), and its answers must
# be byte for byte this build's (track_*_before_*).
# Exits 0 with "not built yet" when a program is missing.
set -uo pipefail

top=${HG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${HG_BUILDDIR:-$PWD}
NA=${HG_BENCH_WEB_API_ALERTS:-1000000}
NF=${HG_BENCH_WEB_API_FLEET:-99}
NCALLS=${HG_BENCH_WEB_API_CALLS:-200}
NTRACKS=${HG_BENCH_WEB_API_TRACKS:-30}
ctl=$B/hazgate-ctl feed=$B/hazgate-web
before=${HG_BENCH_WEB_API_BEFORE:-}

for x in "$feed" "$ctl"; do
  [ -x "$x" ] || { echo "bench_web_api: $(basename "$x") not built yet"; exit 0; }
done
die() { echo "bench_web_api: $*" >&2; exit 1; }
[ -z "$before" ] || [ -x "$before" ] ||
  { echo "bench_web_api: HG_BENCH_WEB_API_BEFORE=$before is not an executable hazgate-web" >&2; exit 2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
. "$top/bench/web-bench.bash"   # free_port, web_bench_conf

eval "$("$top/scripts/services-start" --no-mqtt)" || die "services did not start"
export PGHOST PGPORT PGUSER PGDATABASE
svc=$HG_SVC_DIR work=$HG_SVC_DIR/bench-web-api
mkdir -p "$work"
feedpid= beforepid=
cleanup() {
  local p
  for p in $feedpid $beforepid; do
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  "$top/scripts/services-stop" "$svc" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sql() { psql -XqAt -v ON_ERROR_STOP=1 "$@"; }

"$ctl" migrate >/dev/null || die "migrate failed"
sql -c "CREATE ROLE hgbench LOGIN IN ROLE hazgate_web" >/dev/null || die "cannot create the web login"
echo 'bench-view-pass' > "$work/viewer.pw"
"$ctl" users add wall --role viewer --password-file "$work/viewer.pw" >/dev/null ||
  die "hazgate-ctl users add failed"

echo "== web API benchmark: $NA alerts, a vehicle-day of 8640 fixes, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "loadavg_at_start=$(cut -d' ' -f1 /proc/loadavg)"

# ---- the tables ----------------------------------------------------------------
t0=$(now_ms)
sql -v n="$NA" >/dev/null <<'SQL' || die "filling alerts failed"
INSERT INTO alerts (kind, severity, vehicle, zone_id, zone_name, ts, lat, lon, speed_kmh, detail, created_at)
SELECT k.kind,
       CASE WHEN k.kind IN ('prohibited_entry', 'terminal_alarm') THEN 'critical'
            WHEN k.kind IN ('zone_enter', 'zone_exit', 'tracker_resumed', 'terminal_alarm_cleared') THEN 'info'
            ELSE 'warning' END,
       '晋A' || lpad((i % 10000)::text, 5, '0'),
       CASE WHEN k.zoned THEN 1 + i % 40 END,
       CASE WHEN k.zoned THEN 'Zone ' || (1 + i % 40) END,
       t, 37.7 + (i % 997) / 2000.0, 112.4 + (i % 991) / 2000.0, 20 + i % 70,
       CASE k.kind
         WHEN 'overspeed' THEN jsonb_build_object('limit_kmh', 80, 'speed_kmh', 80 + i % 30)
         WHEN 'zone_speeding' THEN jsonb_build_object('limit_kmh', 40, 'speed_kmh', 40 + i % 30)
         WHEN 'dwell_exceeded' THEN jsonb_build_object('dwell_s', 1800 + i % 600, 'limit_s', 1800)
         WHEN 'tracker_silent' THEN jsonb_build_object('silent_s', 600 + i % 600)
         WHEN 'terminal_alarm' THEN jsonb_build_object('alarm', 'sos')
         WHEN 'terminal_alarm_cleared' THEN jsonb_build_object('alarm', 'sos')
         ELSE '{}'::jsonb END,
       t + interval '150 ms'
  FROM generate_series(1, :n) i
 CROSS JOIN LATERAL (SELECT timestamptz '2026-10-01 00:00:00Z' + i * interval '3 s' AS t) ts
 CROSS JOIN LATERAL (
   SELECT (ARRAY['zone_enter', 'zone_exit', 'zone_enter', 'zone_exit', 'zone_enter', 'zone_exit',
                 'overspeed', 'overspeed', 'overspeed', 'zone_speeding', 'zone_speeding',
                 'prohibited_entry', 'dwell_exceeded', 'route_deviation', 'tracker_silent',
                 'tracker_resumed', 'fatigue_driving', 'daily_driving_exceeded', 'night_driving',
                 'unauthorized_stop', 'terminal_alarm', 'terminal_alarm_cleared'])[1 + i % 22] AS kind) k0
 CROSS JOIN LATERAL (
   SELECT k0.kind, k0.kind IN ('zone_enter', 'zone_exit', 'zone_speeding', 'prohibited_entry',
                               'dwell_exceeded', 'unauthorized_stop') AS zoned) k;
SQL
t1=$(now_ms)
# Acknowledged as the board does it: hazgate_ack(id, note, board_user) from
# the board's login, in transactions of 100,000.
maxid=$(sql -c "SELECT max(id) FROM alerts") || die "no alerts"
for lo in $(seq 0 100000 "$maxid"); do
  PGUSER=hgbench sql -v lo="$lo" -v top=$(( maxid - 1000 )) >/dev/null <<'SQL' || die "acknowledging failed"
SELECT count(hazgate_ack(id, CASE WHEN id % 3 = 0 THEN 'called the driver' END, 'disp' || (id % 5)))
  FROM alerts WHERE id > :lo AND id <= :lo + 100000 AND id <= :top AND id % 5 <> 0;
SQL
done
t2=$(now_ms)
sql -v plate='晋A00042' -v fleet="$NF" >/dev/null <<'SQL' || die "filling positions failed"
SELECT hazgate_ensure_partitions('2026-11-02', 1);
INSERT INTO positions_recent (vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un,
                       hazard_class, seq, ignition, zone_ids, received_at)
SELECT CASE WHEN v = 0 THEN :'plate' ELSE '晋B' || lpad(v::text, 5, '0') END,
       timestamptz '2026-11-02 00:00:00Z' + i * interval '10 s',
       round((37.7 + v / 1000.0 + 0.1 * sin(i / 500.0))::numeric, 7),
       round((112.4 + 0.1 * cos(i / 700.0))::numeric, 7),
       (40 + 30 * sin(i / 50.0))::real, (i * 7 % 360)::real, (780 + i % 40)::real, 0.9, 3,
       9 + i % 4, '1203', '3', i, true,
       CASE WHEN i % 97 < 12 THEN ARRAY[1 + i % 40] ELSE '{}' END,
       timestamptz '2026-11-02 00:00:00Z' + i * interval '10 s' + interval '300 ms'
  FROM generate_series(0, :fleet) v, generate_series(0, 8639) i;
SQL
t3=$(now_ms)
sql -c "VACUUM ANALYZE alerts" -c "VACUUM ANALYZE alert_events" -c "VACUUM ANALYZE positions_recent_20261102" \
  >/dev/null || die "VACUUM ANALYZE failed"
t4=$(now_ms)
nopen=$(sql -c "SELECT count(*) FROM alerts WHERE acked_at IS NULL")
echo "alerts_stored=$(sql -c "SELECT count(*) FROM alerts") (open $nopen; ack events $(sql -c "SELECT count(*) FROM alert_events"))"
echo "positions_in_the_day=$(sql -c "SELECT count(*) FROM positions_recent_20261102") ($(( NF + 1 )) vehicles)"
echo "fill_s=alerts $(( (t1 - t0) / 1000 )), acks $(( (t2 - t1) / 1000 )), positions $(( (t3 - t2) / 1000 )), vacuum analyze $(( (t4 - t3) / 1000 ))"

# ---- hazgate-web ----------------------------------------------------------------
# web_up PID METRICS_PORT LOG: wait for its /healthz
web_up() {
  for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$1" 2>/dev/null || die "hazgate-web exited: $(tail -3 "$3")"
    sleep 0.1
  done
  die "hazgate-web did not answer /healthz"
}
if [ -n "$before" ]; then
  bport=$(free_port) bmport=$(free_port)
  web_bench_conf "$bport" "$bmport"
  mv "$work/web.conf" "$work/web-before.conf"
  "$before" -c "$work/web-before.conf" >>"$work/web-before.log" 2>&1 &
  beforepid=$!
  web_up "$beforepid" "$bmport" "$work/web-before.log"
fi
port=$(free_port) mport=$(free_port)
web_bench_conf "$port" "$mport"
"$feed" -c "$work/web.conf" >>"$work/web.log" 2>&1 &
feedpid=$!
web_up "$feedpid" "$mport" "$work/web.log"
base=http://127.0.0.1:$port
jar=$work/jar
curl -fs -c "$jar" -H 'Content-Type: application/json' -d '{"user":"wall","password":"bench-view-pass"}' \
  "$base/api/v1/session" >/dev/null || die "the viewer's login failed"

# timed MODE N URL: N calls of URL (5 more before, not counted), MODE
# "kept": one connection kept alive for all (as a browser does), "fresh":
# a new connection (and curl) per call; prints "p50 p99 max" in ms. Every
# answer must be a 200.
timed() {
  local mode=$1 n=$2 url=$3 args=()
  : > "$work/times"
  if [ "$mode" = kept ]; then
    for _ in $(seq 1 $(( n + 5 ))); do args+=(-o /dev/null "$url"); done
    curl -s -b "$jar" -w '%{http_code} %{time_total}\n' "${args[@]}" >"$work/times" ||
      die "curl failed on $url"
  else
    for _ in $(seq 1 $(( n + 5 ))); do
      curl -s -b "$jar" -w '%{http_code} %{time_total}\n' -o /dev/null "$url" >>"$work/times" ||
        die "curl failed on $url"
    done
  fi
  awk '$1 != 200 { bad++ } END { exit bad > 0 }' "$work/times" ||
    die "not 200: $url ($(awk '{ print $1 }' "$work/times" | sort -u | tr '\n' ' '))"
  tail -n "$n" "$work/times" | awk '{ print $2 * 1000 }' | sort -g |
    awk '{ a[NR] = $1 } END { i50 = int((NR * 50 + 99) / 100); i99 = int((NR * 99 + 99) / 100);
                              printf "%.1f %.1f %.1f", a[i50], a[i99], a[NR] }'
}
# the answers are what they should be (the setup, not the speed)
alerts_url="$base/api/v1/alerts?open=1"
n=$(curl -fs -b "$jar" "$alerts_url" | jq length) || die "GET /api/v1/alerts failed"
[ "$n" = 100 ] || die "GET /api/v1/alerts?open=1 gave $n alerts, not 100"
plate=$(jq -rn --arg v '晋A00042' '$v | @uri')
track_url="$base/api/v1/vehicles/$plate/track?from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z&format=geojson"
curl -fs -b "$jar" -o "$work/track.geojson" "$track_url" || die "GET track failed"
pts=$(jq .properties.points "$work/track.geojson")
[ "$pts" = 8640 ] || die "the track has $pts points, not 8640"

echo "alerts_open_calls=$NCALLS (the 100 newest open of $nopen; $(curl -fs -b "$jar" "$alerts_url" | wc -c) bytes)"
read -r a50 a99 amax <<< "$(timed kept "$NCALLS" "$alerts_url")"
echo "alerts_open_kept_alive_ms=p50 $a50, p99 $a99, max $amax (target p99 <= 50)"
read -r a50 a99 amax <<< "$(timed fresh "$NCALLS" "$alerts_url")"
echo "alerts_open_fresh_connection_ms=p50 $a50, p99 $a99, max $amax (target p99 <= 50)"
# track_figures NAME URL_PATH: the track's figures on this build (and,
# with HG_BENCH_WEB_API_BEFORE, the other build's, alternated, its answer
# compared with this build's first).
track_figures() {
  local name=$1 path=$2 mode t50 t99 tmax
  if [ -n "$before" ]; then
    curl -fs -b "$jar" -o "$work/before.out" "http://127.0.0.1:$bport$path" ||
      die "GET track failed on the build before"
    cmp -s "$work/before.out" "$work/track.geojson" &&
      echo "${name}_before_same_bytes=yes" || die "the build before answers other bytes ($name)"
  fi
  for mode in kept fresh; do
    local label=$mode; [ "$mode" = kept ] && label=kept_alive || label=fresh_connection
    for round in 1 2; do
      read -r t50 t99 tmax <<< "$(timed "$mode" "$NTRACKS" "$base$path")"
      echo "${name}_${label}_ms=p50 $t50, p99 $t99, max $tmax (target <= 100)"
      [ -n "$before" ] || break
      read -r t50 t99 tmax <<< "$(timed "$mode" "$NTRACKS" "http://127.0.0.1:$bport$path")"
      echo "${name}_before_${label}_ms=p50 $t50, p99 $t99, max $tmax (HG_BENCH_WEB_API_BEFORE, alternated)"
    done
  done
}
track_path=${track_url#"$base"}
echo "track_geojson_calls=$NTRACKS (8640 fixes, $(wc -c < "$work/track.geojson") bytes)"
track_figures track_geojson "$track_path"
# The same day compacted into slices (hazgate-ctl compact, as the daily
# retention run does once the day is closed): the board's track then
# reads slices (decoded in C on hazgate-web's exporter thread, as
# hazgate-ctl track does); the answer must stay byte for byte the same.
"$ctl" compact --before 2026-11-03 >/dev/null || die "compact failed"
sql -c "VACUUM ANALYZE positions_slices" >/dev/null || die "VACUUM ANALYZE failed"
echo "slices_of_the_day=$(sql -c "SELECT count(*) FROM positions_slices WHERE hour >= '2026-11-02' AND hour < '2026-11-03'")"
curl -fs -b "$jar" -o "$work/track-slices.geojson" "$track_url" || die "GET track (slices) failed"
cmp -s "$work/track.geojson" "$work/track-slices.geojson" ||
  die "the track of the compacted day differs from the rows' track"
track_figures track_geojson_compacted "$track_path"
echo "loadavg_at_end=$(cut -d' ' -f1 /proc/loadavg)"
