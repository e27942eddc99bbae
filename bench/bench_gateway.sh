#!/usr/bin/env bash
# bench_gateway.sh: the gateway benchmark of issue 7, in one run on this
# machine, with a private PostgreSQL and mosquitto (scripts/services-start).
#
#   bench/bench_gateway.sh [--ceiling-only]
#
# 1. ceiling: hazgate-load simulate -> mosquitto -> hazgate-load count (a
#    subscriber that only counts): what broker and load generator move here.
# 2. full speed: the same load -> mosquitto -> hazgate -> PostgreSQL; sustained
#    messages/s fully committed (first publish to the last position visible in
#    the database), its ratio to the ceiling, and CPU microseconds per message
#    of the gateway and of the PostgreSQL cluster (utime+stime from
#    /proc/PID/stat of the postmaster, every backend and the children that
#    exited meanwhile, minus the benchmark's own probe connection).
#    Then the ceiling once more, on topics the gateway does not read: the
#    spread between the two says how much neighbours moved the figures.
# 3. paced at 2,000 msg/s: CPU per message again.
#    Beside 2 and 3 (issue 15), the same loads to a bare counting
#    libmosquitto subscriber (bench/bench_counter, on the gateway's core):
#    its CPU per message is the baseline; printed as counter_*, with
#    the gateway's CPU and its PostgreSQL backend's (/proc/PID/schedstat of
#    the backend the gateway is connected to, found in pg_stat_activity;
#    nanoseconds, summed over threads) and the ratios gateway/counter
#    (target <= 1.1) and (gateway + backend) paced / full speed (target
#    <= 2). --write-path runs only these four phases and the ratios,
#    HG_BENCH_ROUNDS times (3; about 40 s a round), and prints each
#    round's figures, their medians and the medians of the rounds'
#    ratios; HG_BENCH_GATEWAY=PATH runs another hazgate binary on this
#    script.
# 4. half speed: publish-to-committed-alert latency p50/p99: the load logs the
#    publish time of each fix, a subscriber on hazgate/alerts/# matches each
#    alert's (vehicle, ts) to it.
# 5. the gateway's peak RSS (VmHWM) so far;
# 6. 10,000 zones loaded (a grid of small squares): the full-speed load
#    again, CPU per message against 10 zones;
# 7. a fleet of 400,000 vehicles (a fix each), then the peak RSS again.
#
# Cores. Everything runs on the one machine, but trackers and broker are not
# what is measured: the harness (load generator and broker) is pinned to
# core 0, and what drains it to core 1: the counting subscriber in the
# ceiling runs, the gateway and PostgreSQL in the gateway runs. The ratio to
# the ceiling then says whether hazgate and its database keep up with what
# the harness can push (issue 7: "hazgate is never the bottleneck"), not how
# much CPU they take from a load generator that production never runs on
# the gateway's machine. The same two runs are then made unpinned, all
# processes sharing both cores, and printed as *_shared figures: there the
# ratio mostly compares hazgate's CPU per message with the counter's.
# HG_BENCH_PIN=0 runs everything unpinned (and the *_shared runs are left
# out); with fewer than 2 cores nothing is pinned.
#
# Without ./hazgate in the build folder it prints "gateway not built yet" and
# exits 0 (--ceiling-only measures the ceiling alone). Figures are key=value
# lines. Knobs: HG_BENCH_MESSAGES (100000), HG_BENCH_VEHICLES (500),
# HG_BENCH_PACED (20000 messages at 2,000/s), HG_BENCH_LATENCY_S (20),
# HG_BENCH_FLEET (400000 vehicles), HG_BENCH_SPOOL_FSYNC (never),
# HG_BENCH_PG_UNIX=1 (the gateway reaches PostgreSQL by its unix socket
# rather than TCP on 127.0.0.1).
#
#   bench/bench_gateway.sh --against OTHER_HAZGATE [ROUNDS]
#
# compares two builds in one run instead (a change's cost per message):
# after the ceiling, the full-speed phase runs ROUNDS times (3) with each
# binary in turn, A B A B ..., each on the same services, configuration and
# fresh vehicles, and prints both CPU figures per message per round, their
# medians and the ratios this build / OTHER. Both binaries must accept the
# schema of this build's hazgate-ctl migrate. With HG_BENCH_ALERT_GRID=1
# the city is first tiled with 10,000 restricted zones of about 270 x 300 m
# that touch, so that a moving vehicle leaves one and enters the next every
# few fixes: an alert-heavy load (the sample zones give about one alert per
# thousand messages), its alerts per message printed with each round.
set -uo pipefail

top=${HG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${HG_BUILDDIR:-$PWD}
N=${HG_BENCH_MESSAGES:-100000}
V=${HG_BENCH_VEHICLES:-500}
NP=${HG_BENCH_PACED:-20000}
LAT_S=${HG_BENCH_LATENCY_S:-20}
zones=$top/data/zones-taiyuan.geojson
[ -f "$zones" ] || zones=${HG_SHARED:-$top/../shared}/data/zones-taiyuan.geojson
load=$B/hazgate-load gw=${HG_BENCH_GATEWAY:-$B/hazgate} ctl=$B/hazgate-ctl
counter=$B/bench/bench_counter
pin=${HG_BENCH_PIN:-1}
[ "$(nproc)" -ge 2 ] || pin=0
command -v taskset >/dev/null 2>&1 || pin=0
ceiling_only=0 write_path=0
against= rounds=3
case "${1:-}" in
  --ceiling-only) ceiling_only=1 ;;
  --write-path) write_path=1 ;;
  --against) against=${2:-}; rounds=${3:-3}
    [ -x "$against" ] || { echo "bench_gateway: --against needs an executable hazgate" >&2; exit 2; } ;;
  -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
  "") ;;
  *) echo "bench_gateway: unknown argument $1" >&2; exit 2 ;;
esac

if [ "$ceiling_only" = 0 ] && [ ! -x "$gw" ]; then
  echo "gateway not built yet"
  exit 0
fi
[ -x "$load" ] || { echo "bench_gateway: $load is not built" >&2; exit 1; }
[ "$ceiling_only" = 1 ] || [ -x "$counter" ] \
  || { echo "bench_gateway: $counter is not built (make bench/bench_counter)" >&2; exit 1; }

die() { echo "bench_gateway: $*" >&2; exit 1; }
kv() { sed -n "s/^$2=//p" "$1" | tail -1; }
now_us() { echo $(( $(date +%s%N) / 1000 )); }
hz=$(getconf CLK_TCK)
stat_fields() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; echo "${s##*) }"; }
# cpu ticks of a process (utime+stime), and of its waited-for children
ticks() { local f; f=($(stat_fields "$1")) || { echo 0; return; }; echo $(( f[11] + f[12] )); }
cticks() { local f; f=($(stat_fields "$1")) || { echo 0; return; }; echo $(( f[13] + f[14] )); }
# CPU nanoseconds a process has run, all its threads (/proc/PID/task/*/schedstat)
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; }
# times a process's threads were put to sleep (voluntary context switches):
# its wake-ups, summed over threads
wakeups() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '$1 == "voluntary_ctxt_switches:" { s += $2 } END { printf "%.0f", s }'; }
# busy SECONDS TICKS: share of one core
busy() { awk -v d="$2" -v hz="$hz" -v s="$1" 'BEGIN { printf "%.2f", d / hz / s }'; }

eval "$("$top/scripts/services-start" $([ "$ceiling_only" = 1 ] && echo --no-pg))" \
  || die "services did not start"

# Pinning (see the header): HARNESS runs the load generator, SINK the
# counting subscriber and the gateway; set_affinity moves the broker,
# PostgreSQL (the postmaster's children inherit it) and the gateway.
HARNESS=() SINK=()
set_affinity() {   # pinned|shared
  local h=0 k=1 p
  if [ "$1" = shared ]; then h=0-1 k=0-1; HARNESS=() SINK=(); else HARNESS=(taskset -c 0) SINK=(taskset -c 1); fi
  taskset -a -p -c "$h" "$(cat "$HG_SVC_DIR/mosquitto.pid")" >/dev/null || die "taskset failed"
  if [ -f "$HG_SVC_DIR/pg/data/postmaster.pid" ]; then
    for p in $(head -1 "$HG_SVC_DIR/pg/data/postmaster.pid") \
             $(ps --ppid "$(head -1 "$HG_SVC_DIR/pg/data/postmaster.pid")" -o pid=); do
      taskset -a -p -c "$k" "$p" >/dev/null 2>&1
    done
  fi
  [ -n "${gwpid:-}" ] && taskset -a -p -c "$k" "$gwpid" >/dev/null
  return 0
}
[ "$pin" = 1 ] && set_affinity pinned
export HG_MQTT_HOST HG_MQTT_PORT
svc=$HG_SVC_DIR
work=$svc/bench
mkdir -p "$work"
cleanup() {
  [ -n "${PQ_PID:-}" ] && kill "$PQ_PID" 2>/dev/null
  if [ -f "$svc/gateway.pid" ]; then
    kill -TERM "$(cat "$svc/gateway.pid")" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$(cat "$svc/gateway.pid")" 2>/dev/null || break; sleep 0.1; done
  fi
  "$top/scripts/services-stop" "$svc" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_at MESSAGES VEHICLES: an RFC 3339 start so that the run ends now (the
# gateway refuses fixes from the future), fixed so a dry run can name the
# last fix.
start_at() {
  local ticks=$(( ($1 + $2 - 1) / $2 ))
  date -u -d "@$(( $(date +%s) - ticks * 10 - 1 ))" +%Y-%m-%dT%H:%M:%SZ
}

echo "== gateway benchmark: $N messages, $V vehicles, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
# Other work on the machine skews every figure: say how busy it was.
echo "loadavg_at_start=$(cut -d' ' -f1 /proc/loadavg)"
if [ "$pin" = 1 ]; then
  echo "pinning=cpu0:load+broker cpu1:counter|gateway+postgres (then *_shared: unpinned)"
else
  echo "pinning=none"
fi

# ---- 1. the ceiling ------------------------------------------------------
mqpid=$(cat "$svc/mosquitto.pid")
# ceiling NAME TOPIC_ROOT: load -> count on TOPIC_ROOT/<vehicle>/telemetry;
# sets CEIL (msg/s, first publish to last receipt) and prints its figures.
ceiling() {
  local name=$1 root=$2 cpid m0 m1 h0 h1 a b
  "$load" count --client-id "bench-$name" --topic "$root/+/telemetry" --subscribe-only \
    >/dev/null 2>&1 || die "count: no broker"
  "${SINK[@]}" "$load" count --client-id "bench-$name" --topic "$root/+/telemetry" --expect "$N" --timeout 300 \
    >"$work/$name-count.out" 2>"$work/$name-count.err" &
  cpid=$!
  for _ in $(seq 1 100); do grep -q subscribed "$work/$name-count.err" && break; sleep 0.05; done
  m0=$(ticks "$mqpid"); h0=$(cticks $$)
  "${HARNESS[@]}" "$load" simulate --vehicles "$V" --messages "$N" --seed 1 --zones "$zones" \
    --topic "$root/{vehicle}/telemetry" --start "$(start_at "$N" "$V")" \
    >"$work/$name-pub.out" 2>&1 || die "load failed: $(tail -1 "$work/$name-pub.out")"
  wait "$cpid" || die "the counting subscriber got $(kv "$work/$name-count.out" messages) of $N"
  m1=$(ticks "$mqpid"); h1=$(cticks $$)
  # the session is not needed any more: a clean connect removes it
  "$load" count --client-id "bench-$name" --topic "$root/+/telemetry" --clean --subscribe-only \
    >/dev/null 2>&1
  a=$(kv "$work/$name-pub.out" start_us)
  b=$(kv "$work/$name-count.out" last_us)
  CEIL=$(awk -v n="$N" -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", n / ((b - a) / 1e6) }')
  echo "${name}_msg_per_s=$CEIL"
  echo "${name}_publisher_msg_per_s=$(kv "$work/$name-pub.out" msg_per_s)"
  echo "${name}_puback_p99_us=$(kv "$work/$name-pub.out" puback_p99_us)"
  echo "${name}_broker_cores_busy=$(busy "$(awk -v a="$a" -v b="$b" 'BEGIN { print (b - a) / 1e6 }')" $(( m1 - m0 )))"
  # load generator and counting subscriber together (both waited for here)
  echo "${name}_harness_cores_busy=$(busy "$(awk -v a="$a" -v b="$b" 'BEGIN { print (b - a) / 1e6 }')" $(( h1 - h0 )))"
}
if [ "$write_path" = 0 ]; then
  ceiling ceiling tankers
  ceiling=$CEIL
fi
[ "$ceiling_only" = 1 ] && exit 0

# ---- the gateway ------------------------------------------------------------
export PGHOST PGPORT PGUSER PGDATABASE
"$ctl" migrate >/dev/null || die "hazgate-ctl migrate failed"
if ! "$ctl" zones import "$zones" >/dev/null 2>&1; then
  # hazgate-ctl without zones import: load the FeatureCollection directly.
  psql -XqAt -v ON_ERROR_STOP=1 -v doc="$(cat "$zones")" >/dev/null <<'SQL' || die "cannot load zones"
INSERT INTO zones (id, name, kind, feature)
SELECT (f->'properties'->>'id')::int, f->'properties'->>'name', f->'properties'->>'kind', f
  FROM jsonb_array_elements((:'doc')::jsonb->'features') AS f;
SQL
fi
# The private PostgreSQL runs with fsync off: the spool's default
# (fdatasync per batch) would measure the disk, not the gateway.
spool_fsync=${HG_BENCH_SPOOL_FSYNC:-never}
echo "spool_fsync=$spool_fsync"
conninfo=$HG_PG_CONNINFO
[ "${HG_BENCH_PG_UNIX:-0}" = 1 ] && conninfo="host=$svc/pg port=$PGPORT user=postgres dbname=hazgate"
# A port below the ephemeral range that nothing answers on (services-start's
# range; the gateway exits if it cannot bind).
for _ in $(seq 1 200); do
  httpport=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
  (exec 3<>"/dev/tcp/127.0.0.1/$httpport") 2>/dev/null || break
done
cat > "$work/hazgate.conf" <<CONF
[mqtt]
host = 127.0.0.1
port = $HG_MQTT_PORT
client_id = hazgate-bench
subscribe = tankers/+/telemetry native
[postgres]
conninfo = $conninfo
[spool]
dir = $work/spool
fsync = $spool_fsync
[http]
listen = 127.0.0.1:$httpport
[log]
level = warn
CONF
# start_gateway BINARY: start it on the configuration above and wait until
# it is healthy; sets gwpid.
start_gateway() {
  local ready=0
  "${SINK[@]}" "$1" -c "$work/hazgate.conf" >>"$work/hazgate.log" 2>&1 &
  gwpid=$!
  echo "$gwpid" > "$svc/gateway.pid"
  for _ in $(seq 1 200); do
    kill -0 "$gwpid" 2>/dev/null || die "the gateway exited: $(tail -5 "$work/hazgate.log")"
    if curl -fs "http://127.0.0.1:$httpport/healthz" >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.1
  done
  [ "$ready" = 1 ] || die "the gateway is not healthy after 20 s: $(tail -5 "$work/hazgate.log")"
}
# stop_gateway: SIGTERM, and wait for the drain.
stop_gateway() {
  kill -TERM "$gwpid"
  for _ in $(seq 1 150); do kill -0 "$gwpid" 2>/dev/null || break; sleep 0.1; done
  wait "$gwpid" 2>/dev/null
  rm -f "$svc/gateway.pid"
}
start_gateway "$gw"

# metric NAME: a figure of the gateway's /metrics
metric() { curl -fs "http://127.0.0.1:$httpport/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

# add_grid NAME FIRST_ID LAT0 LON0 STEP_LAT STEP_LON SIZE_LAT SIZE_LON: 100 x 100
# restricted squares into zones (ids from FIRST_ID, south-west corner at
# LAT0,LON0), and wait until the gateway has loaded them all.
add_grid() {
  psql -XqAt -v ON_ERROR_STOP=1 -v name="$1" -v id0="$2" -v lat0="$3" -v lon0="$4" \
    -v dlat="$5" -v dlon="$6" -v slat="$7" -v slon="$8" >/dev/null <<'SQL' || die "cannot add the $1 zones"
INSERT INTO zones (id, name, kind, feature)
SELECT id, :'name' || ' ' || i || ',' || j, 'restricted',
       jsonb_build_object('type', 'Feature',
         'properties', jsonb_build_object('id', id, 'name', :'name' || ' ' || i || ',' || j, 'kind', 'restricted'),
         'geometry', jsonb_build_object('type', 'Polygon', 'coordinates', jsonb_build_array(jsonb_build_array(
           jsonb_build_array(x, y), jsonb_build_array(x + :slon, y), jsonb_build_array(x + :slon, y + :slat),
           jsonb_build_array(x, y + :slat), jsonb_build_array(x, y)))))
  FROM generate_series(0, 99) AS i, generate_series(0, 99) AS j,
       LATERAL (SELECT :id0 + i * 100 + j AS id, :lat0 + i * :dlat AS y, :lon0 + j * :dlon AS x) AS g;
SQL
  local want n
  want=$(q "SELECT count(*) FROM zones;")
  for _ in $(seq 1 300); do n=$(metric hazgate_zones); [ "$n" = "$want" ] && break; sleep 0.1; done
  [ "$n" = "$want" ] || die "the gateway did not load the $want zones: $(tail -3 "$work/hazgate.log")"
}

# One long-lived probe connection: its backend is left out of the CPU sums.
coproc PQ { psql -XqAt 2>&1; }
q() { echo "$1" >&"${PQ[1]}"; IFS= read -t 30 -r REPLY <&"${PQ[0]}" || REPLY=; echo "$REPLY"; }
probe_pid=$(q "SELECT pg_backend_pid();")
pm=$(head -1 "$svc/pg/data/postmaster.pid")

pg_ticks() {
  local t=$(( $(ticks "$pm") + $(cticks "$pm") )) c
  for c in $(ps --ppid "$pm" -o pid=); do
    [ "$c" = "$probe_pid" ] && continue
    t=$(( t + $(ticks "$c") ))
  done
  echo "$t"
}

# run_phase NAME MESSAGES VEHICLES FIRST_VEHICLE [hazgate-load options]:
# publish a fleet, wait until its last fix is in positions, and set P_SECS
# (first publish to committed), P_GW_US and P_PG_US (CPU µs per message).
run_phase() {
  local name=$1 n=$2 nv=$3 first=$4; shift 4
  local start last veh ts t0 g0 p0 t1 g1 p1 m0 m1 h0 h1 deadline rows
  start=$(start_at "$n" "$nv")
  last=$("$load" simulate --vehicles "$nv" --messages "$n" --seed 2 --first-vehicle "$first" \
         --zones "$zones" --start "$start" --dry-run 2>/dev/null | tail -1 | cut -f2)
  veh=$(printf '%s' "$last" | jq -r .vehicle)
  ts=$(printf '%s' "$last" | jq -r .ts)
  rows=$(q "SELECT count(*) FROM positions;")
  local alerts0=$(q "SELECT count(*) FROM alerts;")
  local b0 r0 c0 b1 r1 c1
  b0=$(metric hazgate_batch_rows_count); r0=$(metric hazgate_batch_rows_sum)
  c0=$(metric hazgate_commit_seconds_sum)
  local be e0 e1
  be=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'hazgate' LIMIT 1;")
  [ -n "$be" ] || die "$name: the gateway has no PostgreSQL backend"
  g0=$(cpu_ns "$gwpid"); p0=$(pg_ticks); m0=$(ticks "$mqpid"); h0=$(cticks $$); e0=$(cpu_ns "$be")
  local w0=$(wakeups "$gwpid") x0=$(wakeups "$be") w1 x1
  "${HARNESS[@]}" "$load" simulate --vehicles "$nv" --messages "$n" --seed 2 --first-vehicle "$first" \
    --zones "$zones" --start "$start" "$@" >"$work/$name-pub.out" 2>&1 \
    || die "$name: load failed: $(tail -2 "$work/$name-pub.out")"
  deadline=$(( $(date +%s) + 300 ))
  until [ "$(q "SELECT count(*) FROM positions WHERE vehicle = '$veh' AND ts = '$ts';")" = 1 ]; do
    kill -0 "$gwpid" 2>/dev/null || die "$name: the gateway died: $(tail -5 "$work/hazgate.log")"
    [ "$(date +%s)" -lt "$deadline" ] || die "$name: the last fix ($veh $ts) is not stored after 300 s"
    sleep 0.02
  done
  t1=$(now_us)
  g1=$(cpu_ns "$gwpid"); p1=$(pg_ticks); m1=$(ticks "$mqpid"); h1=$(cticks $$); e1=$(cpu_ns "$be")
  w1=$(wakeups "$gwpid"); x1=$(wakeups "$be")
  b1=$(metric hazgate_batch_rows_count); r1=$(metric hazgate_batch_rows_sum)
  c1=$(metric hazgate_commit_seconds_sum)
  # batches in the phase, their mean size and mean write+commit time (empty
  # when the gateway does not export them)
  P_BATCHES=$(awk -v a="${b0:-0}" -v b="${b1:-0}" 'BEGIN { printf "%.0f", b - a }')
  P_BATCH_ROWS=$(awk -v a="${r0:-0}" -v b="${r1:-0}" -v n="$P_BATCHES" 'BEGIN { if (n > 0) printf "%.0f", (b - a) / n }')
  P_COMMIT_MS=$(awk -v a="${c0:-0}" -v b="${c1:-0}" -v n="$P_BATCHES" 'BEGIN { if (n > 0) printf "%.1f", (b - a) * 1000 / n }')
  rows=$(( $(q "SELECT count(*) FROM positions;") - rows ))
  P_ALERTS=$(( $(q "SELECT count(*) FROM alerts;") - alerts0 ))
  [ "$rows" = "$n" ] || echo "warning: $name: $rows positions stored for $n messages" >&2
  t0=$(kv "$work/$name-pub.out" start_us)
  P_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
  P_GW_US=$(awk -v d=$(( g1 - g0 )) -v n="$n" 'BEGIN { printf "%.1f", d / 1e3 / n }')
  P_BE_US=$(awk -v d=$(( e1 - e0 )) -v n="$n" 'BEGIN { printf "%.1f", d / 1e3 / n }')
  P_PG_US=$(awk -v d=$(( p1 - p0 )) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.1f", d * 1e6 / hz / n }')
  # wake-ups a message: the gateway's threads and its backend's
  P_GW_WAKE=$(awk -v d=$(( w1 - w0 )) -v n="$n" 'BEGIN { printf "%.3f", d / n }')
  P_BE_WAKE=$(awk -v d=$(( x1 - x0 )) -v n="$n" 'BEGIN { printf "%.3f", d / n }')
  # share of one core each used over the phase: low figures with a low
  # throughput mean the pipeline waits rather than computes
  P_GW_BUSY=$(awk -v d=$(( g1 - g0 )) -v s="$P_SECS" 'BEGIN { printf "%.2f", d / 1e9 / s }')
  P_PG_BUSY=$(busy "$P_SECS" $(( p1 - p0 )))
  P_MQ_BUSY=$(busy "$P_SECS" $(( m1 - m0 )))
  P_LOAD_BUSY=$(busy "$P_SECS" $(( h1 - h0 )))
}

# ---- --against: this build and another, alternated ---------------------------
if [ -n "$against" ]; then
  median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
  this_gw= this_pg= other_gw= other_pg= first=0
  if [ "${HG_BENCH_ALERT_GRID:-0}" = 1 ]; then
    # 100 x 100 squares of 0.003 x 0.0027 degrees, edge to edge, over the
    # simulation's 15 km around 37.87,112.55.
    add_grid cell 200001 37.735 112.40 0.0027 0.003 0.0027 0.003
    echo "alert_grid=10000 zones"
  fi
  for r in $(seq 1 "$rounds"); do
    for who in this other; do
      if [ "$who" = other ]; then stop_gateway; start_gateway "$against"; fi
      run_phase "ab-$who-$r" "$N" "$V" "$first"
      first=$(( first + V ))
      echo "round=$r build=$who gateway_cpu_us_per_msg=$P_GW_US postgres_cpu_us_per_msg=$P_PG_US msg_per_s=$(awk -v n="$N" -v s="$P_SECS" 'BEGIN { printf "%.0f", n / s }') alerts_per_msg=$(awk -v a="$P_ALERTS" -v n="$N" 'BEGIN { printf "%.3f", a / n }')"
      if [ "$who" = this ]; then this_gw+=" $P_GW_US" this_pg+=" $P_PG_US"
      else other_gw+=" $P_GW_US" other_pg+=" $P_PG_US"; fi
      if [ "$who" = other ]; then stop_gateway; start_gateway "$gw"; fi
    done
  done
  a=$(echo "$this_gw" | median) b=$(echo "$other_gw" | median)
  c=$(echo "$this_pg" | median) d=$(echo "$other_pg" | median)
  echo "this_gateway_cpu_us_per_msg_median=$a"
  echo "other_gateway_cpu_us_per_msg_median=$b"
  echo "this_postgres_cpu_us_per_msg_median=$c"
  echo "other_postgres_cpu_us_per_msg_median=$d"
  echo "gateway_cpu_ratio_this_to_other=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
  echo "total_cpu_ratio_this_to_other=$(awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" 'BEGIN { printf "%.2f", (a + c) / (b + d) }')"
  stop_gateway
  echo "loadavg_at_end=$(cut -d' ' -f1 /proc/loadavg)"
  exit 0
fi

# ---- the counting subscriber, and the write path's figures (issue 15) --------
# counter_phase NAME MESSAGES [hazgate-load options]: the load of a gateway
# phase (same seed and vehicles) to bench_counter, on topics the gateway
# does not read; sets C_US (its CPU microseconds a message).
counter_phase() {
  local name=$1 n=$2 cpid; shift 2
  "${SINK[@]}" "$counter" 127.0.0.1 "$HG_MQTT_PORT" "bench-counter-$name" "counter/+/telemetry" "$n" \
    >"$work/$name-counter.out" 2>"$work/$name-counter.err" &
  cpid=$!
  for _ in $(seq 1 100); do grep -q subscribed "$work/$name-counter.err" && break; sleep 0.05; done
  grep -q subscribed "$work/$name-counter.err" || die "$name: the counter did not subscribe: $(cat "$work/$name-counter.err")"
  "${HARNESS[@]}" "$load" simulate --vehicles "$V" --messages "$n" --seed 2 --zones "$zones" \
    --topic "counter/{vehicle}/telemetry" --start "$(start_at "$n" "$V")" "$@" \
    >"$work/$name-counter-pub.out" 2>&1 || die "$name: load failed: $(tail -1 "$work/$name-counter-pub.out")"
  wait "$cpid" || die "$name: the counter failed: $(tail -1 "$work/$name-counter.err")"
  "$load" count --client-id "bench-counter-$name" --topic "counter/+/telemetry" --clean --subscribe-only \
    >/dev/null 2>&1
  C_US=$(awk -v ns="$(kv "$work/$name-counter.out" cpu_ns_per_msg)" 'BEGIN { printf "%.1f", ns / 1e3 }')
}
# write_path_figures: the counter's, the gateway's and its backend's CPU a
# message at full speed (cf gf bf) and paced (cp gp bp), and the ratios.
write_path_figures() {
  echo "counter_cpu_us_per_msg=$cf"
  echo "gateway_cpu_us_per_msg=$gf"
  echo "backend_cpu_us_per_msg=$bf"
  echo "paced2000_counter_cpu_us_per_msg=$cp"
  echo "paced2000_gateway_cpu_us_per_msg=$gp"
  echo "paced2000_backend_cpu_us_per_msg=$bp"
  echo "gateway_to_counter=$(awk -v a="$gf" -v b="$cf" 'BEGIN { printf "%.2f", a / b }') (target <= 1.1)"
  echo "paced2000_gateway_to_counter=$(awk -v a="$gp" -v b="$cp" 'BEGIN { printf "%.2f", a / b }')"
  echo "paced_to_full=$(awk -v a="$gp" -v b="$bp" -v c="$gf" -v d="$bf" 'BEGIN { printf "%.2f", (a + b) / (c + d) }') ((gateway + backend) paced / full speed; target <= 2)"
}
if [ "$write_path" = 1 ]; then
  # HG_BENCH_ROUNDS rounds (3), each the four phases on fresh vehicles; the
  # figures are the medians over the rounds, the ratios the medians of
  # each round's own ratios (a round's phases run within a minute: what
  # the neighbours do moves both sides of its ratios alike).
  R=${HG_BENCH_ROUNDS:-3}
  wmedian() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
  l_cf= l_gf= l_bf= l_cp= l_gp= l_bp= l_r1= l_r2= l_r3=
  for r in $(seq 1 "$R"); do
    first=$(( (r - 1) * 2 * V ))
    counter_phase "full-$r" "$N"; cf=$C_US
    run_phase "full-$r" "$N" "$V" "$first"; gf=$P_GW_US bf=$P_BE_US
    echo "round=$r full_gateway_batches=$P_BATCHES rows_mean=$P_BATCH_ROWS commit_ms_mean=$P_COMMIT_MS msg_per_s=$(awk -v n="$N" -v s="$P_SECS" 'BEGIN { printf "%.0f", n / s }') gateway_wakeups_per_msg=$P_GW_WAKE backend_wakeups_per_msg=$P_BE_WAKE"
    counter_phase "paced-$r" "$NP" --rate 2000; cp=$C_US
    run_phase "paced-$r" "$NP" "$V" $(( first + V )) --rate 2000; gp=$P_GW_US bp=$P_BE_US
    echo "round=$r paced2000_gateway_batches=$P_BATCHES rows_mean=$P_BATCH_ROWS commit_ms_mean=$P_COMMIT_MS gateway_wakeups_per_msg=$P_GW_WAKE backend_wakeups_per_msg=$P_BE_WAKE"
    r1=$(ratio "$gf" "$cf") r2=$(ratio "$gp" "$cp")
    r3=$(awk -v a="$gp" -v b="$bp" -v c="$gf" -v d="$bf" 'BEGIN { printf "%.2f", (a + b) / (c + d) }')
    echo "round=$r counter=$cf gateway=$gf backend=$bf paced_counter=$cp paced_gateway=$gp paced_backend=$bp gateway_to_counter=$r1 paced_to_full=$r3 load=$(cut -d' ' -f1 /proc/loadavg)"
    l_cf+=" $cf" l_gf+=" $gf" l_bf+=" $bf" l_cp+=" $cp" l_gp+=" $gp" l_bp+=" $bp"
    l_r1+=" $r1" l_r2+=" $r2" l_r3+=" $r3"
  done
  echo "rounds=$R (figures: medians; ratios: medians of the rounds' ratios)"
  echo "counter_cpu_us_per_msg=$(echo "$l_cf" | wmedian)"
  echo "gateway_cpu_us_per_msg=$(echo "$l_gf" | wmedian)"
  echo "backend_cpu_us_per_msg=$(echo "$l_bf" | wmedian)"
  echo "paced2000_counter_cpu_us_per_msg=$(echo "$l_cp" | wmedian)"
  echo "paced2000_gateway_cpu_us_per_msg=$(echo "$l_gp" | wmedian)"
  echo "paced2000_backend_cpu_us_per_msg=$(echo "$l_bp" | wmedian)"
  echo "gateway_to_counter=$(echo "$l_r1" | wmedian) (rounds:$l_r1; target <= 1.1)"
  echo "paced2000_gateway_to_counter=$(echo "$l_r2" | wmedian)"
  echo "paced_to_full=$(echo "$l_r3" | wmedian) (rounds:$l_r3; (gateway + backend) paced / full speed; target <= 2)"
  stop_gateway
  echo "loadavg_at_end=$(cut -d' ' -f1 /proc/loadavg)"
  exit 0
fi

# ---- 2. full speed ---------------------------------------------------------
counter_phase full "$N"; cf=$C_US
run_phase full "$N" "$V" 0
gw10=$P_GW_US pg10=$P_PG_US gf=$P_GW_US bf=$P_BE_US
rate=$(awk -v n="$N" -v s="$P_SECS" 'BEGIN { printf "%.0f", n / s }')
echo "gateway_msg_per_s=$rate"
echo "ratio_to_ceiling=$(awk -v a="$rate" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }') (target >= 0.9)"
echo "postgres_cpu_us_per_msg=$P_PG_US"
echo "total_cpu_us_per_msg=$(awk -v a="$P_GW_US" -v b="$P_PG_US" 'BEGIN { printf "%.1f", a + b }') (target <= 20)"
echo "gateway_cores_busy=$P_GW_BUSY"
echo "postgres_cores_busy=$P_PG_BUSY"
echo "broker_cores_busy=$P_MQ_BUSY"
echo "load_cores_busy=$P_LOAD_BUSY"
echo "gateway_batches=$P_BATCHES rows_mean=$P_BATCH_ROWS commit_ms_mean=$P_COMMIT_MS"

# The ceiling again, on topics the gateway does not read: how much the
# machine's other work moved it during the run.
ceiling ceiling_again bench
echo "ceiling_spread=$(awk -v a="$ceiling" -v b="$CEIL" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "%.2f", d / (a > b ? a : b) }')"

# The same two runs with every process free to use both cores. Vehicles
# from 1,000,000 on, so that no later phase meets them.
if [ "$pin" = 1 ]; then
  set_affinity shared
  ceiling ceiling_shared shared
  shared_ceiling=$CEIL
  run_phase full_shared "$N" "$V" 1000000
  rate_s=$(awk -v n="$N" -v s="$P_SECS" 'BEGIN { printf "%.0f", n / s }')
  echo "gateway_shared_msg_per_s=$rate_s"
  echo "ratio_to_ceiling_shared=$(awk -v a="$rate_s" -v b="$shared_ceiling" 'BEGIN { printf "%.2f", a / b }') (all on both cores: hazgate+PostgreSQL CPU against the counter's)"
  echo "shared_gateway_cpu_us_per_msg=$P_GW_US"
  echo "shared_postgres_cpu_us_per_msg=$P_PG_US"
  echo "shared_total_cpu_us_per_msg=$(awk -v a="$P_GW_US" -v b="$P_PG_US" 'BEGIN { printf "%.1f", a + b }')"
  echo "shared_cores_busy=gateway:$P_GW_BUSY postgres:$P_PG_BUSY broker:$P_MQ_BUSY load:$P_LOAD_BUSY"
  set_affinity pinned
fi

# ---- 3. paced at 2,000 msg/s -------------------------------------------------
counter_phase paced "$NP" --rate 2000; cp=$C_US
run_phase paced "$NP" "$V" "$V" --rate 2000
gp=$P_GW_US bp=$P_BE_US
echo "paced2000_postgres_cpu_us_per_msg=$P_PG_US"
echo "paced2000_total_cpu_us_per_msg=$(awk -v a="$P_GW_US" -v b="$P_PG_US" 'BEGIN { printf "%.1f", a + b }')"
echo "paced2000_gateway_batches=$P_BATCHES rows_mean=$P_BATCH_ROWS commit_ms_mean=$P_COMMIT_MS"
write_path_figures

# ---- 4. latency at half speed ----------------------------------------------
half=$(( rate / 2 ))
nl=$(( half * LAT_S ))
[ "$nl" -gt "$N" ] && nl=$N
"$load" count --client-id bench-alerts --clean --topic 'hazgate/alerts/#' \
  --latency "$work/publog" >"$work/alerts.out" 2>"$work/alerts.err" &
apid=$!
for _ in $(seq 1 100); do grep -q subscribed "$work/alerts.err" && break; sleep 0.05; done
run_phase latency "$nl" "$V" $(( 2 * V )) --rate "$half" --publog "$work/publog"
sleep 1
kill -TERM "$apid" 2>/dev/null
wait "$apid"
echo "latency_rate_msg_per_s=$half"
echo "latency_alerts=$(kv "$work/alerts.out" messages)"
echo "latency_matched=$(kv "$work/alerts.out" latency_matched)"
echo "latency_p50_ms=$(kv "$work/alerts.out" latency_p50_ms)"
echo "latency_p99_ms=$(kv "$work/alerts.out" latency_p99_ms) (target <= 100)"
echo "latency_max_ms=$(kv "$work/alerts.out" latency_max_ms)"

# ---- 5. memory ----------------------------------------------------------------
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$gwpid/status" | awk '{ printf "%.1f", $1 / 1024 }'; }
echo "gateway_peak_rss_mib=$(hwm) ($(metric hazgate_vehicles) vehicles, $(metric hazgate_zones) zones)"

# ---- 6. 10,000 zones: the same load, CPU per message against 10 zones -----
# A 100 x 100 grid of 100 m squares, 1 km apart, over the city and around it.
add_grid grid 100001 37.42 111.98 0.009 0.0114 0.0009 0.00114
run_phase zones10k "$N" "$V" $(( 3 * V ))
echo "zones10k_gateway_msg_per_s=$(awk -v n="$N" -v s="$P_SECS" 'BEGIN { printf "%.0f", n / s }')"
echo "zones10k_gateway_cpu_us_per_msg=$P_GW_US"
echo "zones10k_postgres_cpu_us_per_msg=$P_PG_US"
echo "zones10k_gateway_cpu_ratio_to_10_zones=$(awk -v a="$P_GW_US" -v b="$gw10" 'BEGIN { printf "%.2f", a / b }') (target <= 1.2)"
echo "zones10k_total_cpu_ratio_to_10_zones=$(awk -v a="$P_GW_US" -v b="$P_PG_US" -v c="$gw10" -v d="$pg10" 'BEGIN { printf "%.2f", (a + b) / (c + d) }')"

# ---- 7. 400,000 vehicles' state with the 10,000 zones: peak RSS -------------
NV=${HG_BENCH_FLEET:-400000}
# The fleet registry too (migration 010): every vehicle with cargo and a
# route, loaded by the gateway on NOTIFY before the fleet's fixes.
q "INSERT INTO vehicles (vehicle, un, hazard_class, carrier, routes)
   SELECT 'REG' || lpad(g::text, 6, '0'), '1203', '3', 'Bench Co', '{8}'
     FROM generate_series(1, $NV) g ON CONFLICT DO NOTHING; SELECT count(*) FROM vehicles;" >/dev/null
for _ in $(seq 1 600); do [ "$(metric hazgate_registry_vehicles)" = "$NV" ] && break; sleep 0.1; done
[ "$(metric hazgate_registry_vehicles)" = "$NV" ] \
  || die "the gateway did not load the registry: hazgate_registry_vehicles $(metric hazgate_registry_vehicles)"
echo "registry_vehicles=$NV gateway_peak_rss_mib_with_registry=$(hwm)"
run_phase fleet "$NV" "$NV" $(( 4 * V ))
echo "fleet_gateway_msg_per_s=$(awk -v n="$NV" -v s="$P_SECS" 'BEGIN { printf "%.0f", n / s }')"
echo "gateway_peak_rss_mib=$(hwm) ($(metric hazgate_vehicles) vehicles, $(metric hazgate_zones) zones; target <= 256)"
echo "gateway_lost_seq=$(metric hazgate_lost_seq_total)"
echo "gateway_alerts_published=$(metric hazgate_alerts_published_total)"

kill -TERM "$gwpid"
for _ in $(seq 1 150); do kill -0 "$gwpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$gwpid" 2>/dev/null; then
  echo "warning: the gateway did not exit 15 s after SIGTERM" >&2
else
  wait "$gwpid"; echo "gateway_exit=$?"
fi
rm -f "$svc/gateway.pid"
echo "loadavg_at_end=$(cut -d' ' -f1 /proc/loadavg)"
