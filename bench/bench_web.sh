#!/usr/bin/env bash
# bench_web.sh: hazgate-web's live feed (issue 12), in one run on this
# machine, with a private PostgreSQL and mosquitto (scripts/services-start),
# the gateway and the feed. Prints key=value figures; never fails on speed.
#
# 1. A live fleet: HG_BENCH_WEB_VEHICLES (10,000) vehicles at a fix per
#    10 s (hazgate-load simulate --realtime) for HG_BENCH_WEB_SECONDS (60),
#    HG_BENCH_WEB_CLIENTS (50) SSE clients reading the stream
#    (bench_web_sse): CPU of the feed per delivered position (utime+stime
#    of its process over the positions all clients received), fix-to-client
#    latency p50/p99/max (the fix time is the publish time with --realtime,
#    so this is publish -> gateway batch -> COMMIT -> NOTIFY -> stream ->
#    client, an upper bound of commit-to-client; target p99 <= 1 s), the
#    feed's peak RSS, and the gateway's CPU per message meanwhile.
# 2. Gateway throughput with the boards open against none, in one run:
#    HG_BENCH_WEB_ROUNDS (5) rounds, each a full-speed burst of
#    HG_BENCH_WEB_MESSAGES (50,000) fixes from 500 vehicles with no client,
#    and one with the clients connected, in turn first (fresh vehicles each
#    time, after a warm-up burst that is not counted); msg/s
#    from the first publish to the last position committed (the gateway's
#    hazgate_positions_written_total), the ratio boards/none per round and
#    its median (target >= 0.95). Nothing is pinned: the feed, its clients,
#    the gateway, PostgreSQL, broker and load share the cores, as on one
#    box.
#
# hazgate-web runs with its own login (in hazgate_web); the clients use a
# viewer's bearer token. Knobs above; HG_BENCH_WEB_CLIENTS=0 leaves the
# clients out. Exits 0 with "not built yet" when a program is missing.
set -uo pipefail

top=${HG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${HG_BUILDDIR:-$PWD}
NV=${HG_BENCH_WEB_VEHICLES:-10000}
SECS=${HG_BENCH_WEB_SECONDS:-60}
NC=${HG_BENCH_WEB_CLIENTS:-50}
NM=${HG_BENCH_WEB_MESSAGES:-50000}
ROUNDS=${HG_BENCH_WEB_ROUNDS:-5}
zones=$top/data/zones-taiyuan.geojson
[ -f "$zones" ] || zones=${HG_SHARED:-$top/../shared}/data/zones-taiyuan.geojson
load=$B/hazgate-load gw=$B/hazgate ctl=$B/hazgate-ctl feed=$B/hazgate-web
sse=$B/bench/bench_web_sse

for x in "$gw" "$feed" "$sse" "$load" "$ctl"; do
  [ -x "$x" ] || { echo "bench_web: $(basename "$x") not built yet"; exit 0; }
done
die() { echo "bench_web: $*" >&2; exit 1; }
kv() { sed -n "s/^$2=//p" "$1" | tail -1; }
hz=$(getconf CLK_TCK)
ticks() { local s f; s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }; f=(${s##*) }); echo $(( f[11] + f[12] )); }
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" | awk '{ printf "%.1f", $1 / 1024 }'; }
now_us() { echo $(( $(date +%s%N) / 1000 )); }
. "$top/bench/web-bench.bash"   # free_port, web_bench_conf

eval "$("$top/scripts/services-start")" || die "services did not start"
export PGHOST PGPORT PGUSER PGDATABASE HG_MQTT_HOST HG_MQTT_PORT
svc=$HG_SVC_DIR work=$HG_SVC_DIR/bench-web
mkdir -p "$work"
gwpid= feedpid= ssepid=
cleanup() {
  for p in $ssepid $feedpid $gwpid; do kill -TERM "$p" 2>/dev/null; done
  for p in $gwpid; do for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
  "$top/scripts/services-stop" "$svc" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$ctl" migrate >/dev/null || die "migrate failed"
"$ctl" zones import "$zones" >/dev/null || die "zones import failed"
gwport=$(free_port) feedport=$(free_port) mport=$(free_port)
psql -XqAt -v ON_ERROR_STOP=1 -c "CREATE ROLE hgbench LOGIN IN ROLE hazgate_web" >/dev/null ||
  die "cannot create the web login"
token=$("$ctl" tokens add bench --role viewer) || die "hazgate-ctl tokens add failed"
web_bench_conf "$feedport" "$mport"
cat > "$work/hazgate.conf" <<CONF
[mqtt]
host = 127.0.0.1
port = $HG_MQTT_PORT
client_id = hazgate-bench-web
subscribe = tankers/+/telemetry native
[postgres]
conninfo = $HG_PG_CONNINFO
[spool]
dir = $work/spool
fsync = never
[http]
listen = 127.0.0.1:$gwport
[log]
level = warn
CONF
"$gw" -c "$work/hazgate.conf" >>"$work/hazgate.log" 2>&1 &
gwpid=$!
"$feed" -c "$work/web.conf" >>"$work/feed.log" 2>&1 &
feedpid=$!
for _ in $(seq 1 200); do
  curl -fs "http://127.0.0.1:$gwport/healthz" >/dev/null 2>&1 &&
    curl -fs "http://127.0.0.1:$mport/metrics" >/dev/null 2>&1 && break
  kill -0 "$gwpid" 2>/dev/null || die "the gateway exited: $(tail -3 "$work/hazgate.log")"
  kill -0 "$feedpid" 2>/dev/null || die "the feed exited: $(tail -3 "$work/feed.log")"
  sleep 0.1
done
gmetric() { curl -fs "http://127.0.0.1:$gwport/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
fmetric() { curl -fs "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

echo "== web live feed benchmark: $NV vehicles, $NC clients, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "loadavg_at_start=$(cut -d' ' -f1 /proc/loadavg)"

# ---- 1. a live fleet, the boards reading ------------------------------------
msgs=$(( NV * SECS / 10 ))
if [ "$NC" -gt 0 ]; then
  "$sse" 127.0.0.1 "$feedport" /api/v1/stream "$NC" $(( SECS + 15 )) "Authorization: Bearer $token" >"$work/sse.out" 2>"$work/sse.err" &
  ssepid=$!
  for _ in $(seq 1 100); do grep -q connected "$work/sse.err" && break; sleep 0.1; done
fi
f0=$(ticks "$feedpid") g0=$(ticks "$gwpid") s0=$(fmetric hazgate_web_stream_positions_sent_total)
w0=$(gmetric hazgate_positions_written_total)
t0=$(now_us)
"$load" simulate --vehicles "$NV" --messages "$msgs" --realtime --seed 7 --zones "$zones" \
  >"$work/live-pub.out" 2>&1 || die "load failed: $(tail -1 "$work/live-pub.out")"
# the last fixes to their clients
for _ in $(seq 1 50); do
  [ "$(gmetric hazgate_positions_written_total)" -ge $(( w0 + msgs )) ] 2>/dev/null && break
  sleep 0.1
done
sleep 1
t1=$(now_us)
f1=$(ticks "$feedpid") g1=$(ticks "$gwpid") s1=$(fmetric hazgate_web_stream_positions_sent_total)
if [ -n "$ssepid" ]; then kill -TERM "$ssepid" 2>/dev/null; wait "$ssepid"; ssepid=; fi
delivered=$(( s1 - s0 ))
echo "live_messages=$msgs"
echo "live_msg_per_s=$(awk -v n="$msgs" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / ((b - a) / 1e6) }')"
echo "live_positions_delivered=$delivered (all clients; received by them: $(kv "$work/sse.out" positions))"
echo "live_clients_connected_at_end=$(kv "$work/sse.out" connected) of $NC"
echo "web_cpu_us_per_delivered_position=$(awk -v d=$(( f1 - f0 )) -v hz="$hz" -v n="$delivered" 'BEGIN { if (n > 0) printf "%.2f", d * 1e6 / hz / n; else print "n/a" }')"
echo "web_cores_busy=$(awk -v d=$(( f1 - f0 )) -v hz="$hz" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", d / hz / ((b - a) / 1e6) }')"
echo "fix_to_client_latency_p50_ms=$(kv "$work/sse.out" latency_p50_ms)"
echo "fix_to_client_latency_p99_ms=$(kv "$work/sse.out" latency_p99_ms) (target <= 1000)"
echo "fix_to_client_latency_max_ms=$(kv "$work/sse.out" latency_max_ms)"
echo "web_peak_rss_mib=$(hwm "$feedpid")"
echo "live_gateway_cpu_us_per_msg=$(awk -v d=$(( g1 - g0 )) -v hz="$hz" -v n="$msgs" 'BEGIN { printf "%.1f", d * 1e6 / hz / n }')"

# ---- 2. gateway throughput, boards open against none ---------------------------
# burst NAME FIRST_VEHICLE: NM fixes of 500 vehicles as fast as they go;
# sets RATE (msg/s, first publish to last commit).
burst() {
  local name=$1 first=$2 w start a b
  w=$(gmetric hazgate_positions_written_total)
  start=$(date -u -d "@$(( $(date +%s) - (NM / 500 + 1) * 10 - 1 ))" +%Y-%m-%dT%H:%M:%SZ)
  "$load" simulate --vehicles 500 --messages "$NM" --seed 9 --first-vehicle "$first" \
    --zones "$zones" --start "$start" >"$work/$name-pub.out" 2>&1 || die "load failed"
  for _ in $(seq 1 1200); do
    [ "$(gmetric hazgate_positions_written_total)" -ge $(( w + NM )) ] 2>/dev/null && break
    sleep 0.05
  done
  b=$(now_us)
  a=$(kv "$work/$name-pub.out" start_us)
  RATE=$(awk -v n="$NM" -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", n / ((b - a) / 1e6) }')
}
ratios=
first=100000
# A first burst, not counted: new vehicles, partitions and caches warm up.
burst warmup "$first"; first=$(( first + 500 ))
echo "warmup_gateway_msg_per_s=$RATE"
# boards_burst ROUND: the same, with the clients connected
boards_burst() {
  if [ "$NC" -gt 0 ]; then
    "$sse" 127.0.0.1 "$feedport" /api/v1/stream "$NC" 600 "Authorization: Bearer $token" >"$work/sse-$1.out" 2>"$work/sse-$1.err" &
    ssepid=$!
    for _ in $(seq 1 100); do grep -q connected "$work/sse-$1.err" && break; sleep 0.1; done
  fi
  local w0=$(ticks "$feedpid") c0=0 a b
  [ -n "$ssepid" ] && c0=$(ticks "$ssepid")
  a=$(now_us)
  burst "boards-$1" "$first"; boards=$RATE; first=$(( first + 500 ))
  b=$(now_us)
  # the cores the feed and the clients took meanwhile (the clients are
  # the boards' browsers: elsewhere in production, here on the same cores)
  BWEB=$(awk -v d=$(( $(ticks "$feedpid") - w0 )) -v hz="$hz" -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", d / hz / ((b - a) / 1e6) }')
  BCLI=n/a
  [ -n "$ssepid" ] && BCLI=$(awk -v d=$(( $(ticks "$ssepid") - c0 )) -v hz="$hz" -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", d / hz / ((b - a) / 1e6) }')
  if [ -n "$ssepid" ]; then kill -TERM "$ssepid" 2>/dev/null; wait "$ssepid"; ssepid=; fi
}
for r in $(seq 1 "$ROUNDS"); do
  # alternate the order, so that a drift of the machine counts both ways
  if [ $(( r % 2 )) = 1 ]; then
    burst "none-$r" "$first"; none=$RATE; first=$(( first + 500 ))
    boards_burst "$r"
  else
    boards_burst "$r"
    burst "none-$r" "$first"; none=$RATE; first=$(( first + 500 ))
  fi
  ratio=$(awk -v a="$boards" -v b="$none" 'BEGIN { printf "%.3f", a / b }')
  ratios+=" $ratio"
  echo "round=$r gateway_msg_per_s_none=$none gateway_msg_per_s_boards=$boards ratio=$ratio" \
       "boards_positions=$(kv "$work/sse-$r.out" positions) web_cores_busy=$BWEB clients_cores_busy=$BCLI"
done
median=$(echo "$ratios" | tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
echo "gateway_throughput_ratio_boards_to_none_median=$median (target >= 0.95)"
echo "web_peak_rss_mib=$(hwm "$feedpid") (after the bursts)"
echo "web_stream_clients_dropped=$(fmetric hazgate_web_stream_clients_dropped_total)"
echo "loadavg_at_end=$(cut -d' ' -f1 /proc/loadavg)"
