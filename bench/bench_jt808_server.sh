#!/usr/bin/env bash
# bench_jt808_server.sh: hazgate-jt808 under a fleet of JT/T 808 terminals
# (issue 13), with a private mosquitto and PostgreSQL (scripts/services-
# start) on this machine.
#
#   bench/bench_jt808_server.sh
#
# hazgate-load jt808 opens HG_BENCH_JT_TERMINALS (10,000) terminals from one
# process; each registers, authenticates, then reports every
# HG_BENCH_JT_INTERVAL s (5) and heartbeats after HG_BENCH_JT_HEARTBEAT s
# (4) without sending, so one 0x0200 and one 0x0002 per interval, for
# HG_BENCH_JT_DURATION s (60). hazgate-jt808 publishes each report QoS 1 to
# the local mosquitto and answers it after the PUBACK. Figures (key=value):
#   - rss_per_connection_bytes: hazgate-jt808's VmRSS with every terminal
#     connected and reporting, minus its VmRSS before the first one, per
#     connection (issue 13's target: <= 8 KiB);
#   - cpu_us_per_report: hazgate-jt808's utime+stime over the steady
#     window (every terminal online, one whole interval after the last
#     one came), per 0x0200 it read in that window (heartbeats included in
#     the CPU; cpu_us_per_message divides by reports + heartbeats);
#   - report_ack_p50_us / p99 / max: from a report's first sending to its
#     0x8001, seen by the terminals, over the steady window (the ramp's p99,
#     10,000 terminals registering at once, and the whole run's apart);
#   - the reports and heartbeats per second, how busy hazgate-jt808, the
#     broker and the load generator were, the load average: on a shared
#     machine the latency says as much about the neighbours.
# The file-descriptor limit is raised to the hard limit; with fewer than
# terminals + 512 descriptors the fleet is cut to fit (said on stderr).
# Without ./hazgate-jt808 it prints "hazgate-jt808 not built yet" and
# exits 0. It fails only when the run did not happen (a program did not
# start, terminals never came online), never on the figures.
set -uo pipefail

top=${HG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${HG_BUILDDIR:-$PWD}
jt="$build/hazgate-jt808"
load="$build/hazgate-load"
ctl="$build/hazgate-ctl"
TERMS=${HG_BENCH_JT_TERMINALS:-10000}
INTERVAL=${HG_BENCH_JT_INTERVAL:-5}
HEARTBEAT=${HG_BENCH_JT_HEARTBEAT:-4}
DURATION=${HG_BENCH_JT_DURATION:-60}

if [ ! -x "$jt" ]; then
  echo "hazgate-jt808 not built yet"
  exit 0
fi
die() { echo "bench_jt808_server: $*" >&2; exit 1; }
[ -x "$load" ] || die "$load is not built"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fds=$(ulimit -n)
if [ "$fds" != unlimited ] && [ "$fds" -lt $((TERMS + 512)) ]; then
  echo "bench_jt808_server: $fds file descriptors: $((fds - 512)) terminals, not $TERMS" >&2
  TERMS=$((fds - 512))
fi

hz=$(getconf CLK_TCK)
stat_fields() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; echo "${s##*) }"; }
ticks() { local f; f=($(stat_fields "$1")) || { echo 0; return; }; echo $(( f[11] + f[12] )); }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
now_us() { echo $(( $(date +%s%N) / 1000 )); }
metric() { curl -s "http://127.0.0.1:$http/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
# the last progress line's value of KEY
prog() { tail -n 50 "$work/load.err" | grep '^progress ' | tail -1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }

eval "$("$top/scripts/services-start")" || die "services did not start"
svc=$HG_SVC_DIR
work=$svc/bench-jt808
mkdir -p "$work"
cleanup() {
  [ -n "${loadpid:-}" ] && kill "$loadpid" 2>/dev/null
  "$top/scripts/services-stop" "$svc" >/dev/null 2>&1
}
trap cleanup EXIT
export PGHOST PGPORT PGUSER PGDATABASE
"$ctl" migrate >/dev/null || die "migrate failed"
psql -XqAt -c "CREATE ROLE bench_jt808 LOGIN IN ROLE hazgate_jt808" >/dev/null ||
  die "cannot create the login"

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}
port=$(free_port) http=$(free_port)
cat > "$work/jt808.conf" <<CONF
[jt808]
listen = 127.0.0.1:$port
unknown_terminals = register
auth = required
max_connections = $((TERMS + 1000))
max_connections_per_address = $((TERMS + 1000))
[mqtt]
host = $HG_MQTT_HOST
port = $HG_MQTT_PORT
client_id = bench-jt808
[postgres]
conninfo = host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=bench_jt808
[http]
listen = 127.0.0.1:$http
[log]
level = warn
CONF
"$jt" -c "$work/jt808.conf" > "$work/jt808.log" 2>&1 &
jtpid=$!
echo "$jtpid" > "$svc/jt808.pid"
for _ in $(seq 1 100); do
  [ "$(metric hazgate_jt808_connections)" = 0 ] && [ "$(curl -s "http://127.0.0.1:$http/healthz")" = ok ] && break
  sleep 0.1
done
[ "$(curl -s "http://127.0.0.1:$http/healthz")" = ok ] || { tail "$work/jt808.log" >&2; die "hazgate-jt808 did not start"; }
mqpid=$(cat "$svc/mosquitto.pid")
sleep 1
rss0=$(rss_kb "$jtpid")

echo "== hazgate-jt808 benchmark: $TERMS terminals, a report every ${INTERVAL}s, heartbeat after ${HEARTBEAT}s idle, ${DURATION}s, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "loadavg_at_start=$(cut -d' ' -f1 /proc/loadavg)"
echo "terminals=$TERMS"
echo "rss_before_kb=$rss0"

"$load" jt808 --port "$port" --terminals "$TERMS" --realtime --interval "$INTERVAL" \
  --heartbeat "$HEARTBEAT" --duration "$DURATION" --reply-timeout 10 --drain 30 \
  --progress 1 --ack-log "$work/acks.tsv" > "$work/load.out" 2> "$work/load.err" &
loadpid=$!
start=$(now_us)

# Ramp: every terminal online, then one whole interval for the last ones'
# first reports and heartbeats to settle.
while :; do
  sleep 1
  kill -0 "$loadpid" 2>/dev/null || { tail "$work/load.err" >&2; die "hazgate-load ended during the ramp"; }
  [ "$(prog online)" = "$TERMS" ] && break
  [ $(( $(now_us) - start )) -gt $(( DURATION * 1000000 )) ] &&
    { tail -3 "$work/load.err" >&2; die "not every terminal came online within ${DURATION}s"; }
done
ramp_s=$(awk -v a="$start" -v b="$(now_us)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
sleep "$INTERVAL"
left=$(awk -v a="$start" -v b="$(now_us)" -v d="$DURATION" 'BEGIN { printf "%d", d - (b - a) / 1e6 - 2 }')
[ "$left" -ge "$INTERVAL" ] || die "no steady window: raise HG_BENCH_JT_DURATION (ramp took ${ramp_s}s)"

t0=$(now_us); c0=$(ticks "$jtpid"); m0=$(ticks "$mqpid"); l0=$(ticks "$loadpid")
r0=$(metric 'hazgate_jt808_frames_total{msg_id="0x0200"}')
h0=$(metric 'hazgate_jt808_frames_total{msg_id="0x0002"}')
rss1=$(rss_kb "$jtpid"); conns=$(metric hazgate_jt808_connections)
sleep "$left"
t1=$(now_us); c1=$(ticks "$jtpid"); m1=$(ticks "$mqpid"); l1=$(ticks "$loadpid")
r1=$(metric 'hazgate_jt808_frames_total{msg_id="0x0200"}')
h1=$(metric 'hazgate_jt808_frames_total{msg_id="0x0002"}')
rss2=$(rss_kb "$jtpid")

wait "$loadpid"
loadrc=$?
loadpid=
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
reports=$((r1 - r0)) beats=$((h1 - h0))
kv() { sed -n "s/^$1=//p" "$work/load.out" | tail -1; }
# pct FROM_US TO_US P: the P-th percentile (nearest rank) of the report
# latencies answered between FROM and TO (microseconds since the load began)
pct() {
  awk -F'\t' -v a="$1" -v b="$2" '$1 >= a && $1 < b { print $2 }' "$work/acks.tsv" | sort -n |
    awk -v p="$3" '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
      i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; print v[i] }'
}
w0=$((t0 - start)) w1=$((t1 - start))

echo "ramp_s=$ramp_s"
echo "window_s=$secs"
echo "connections=$conns"
echo "reports_per_s=$(awk -v n="$reports" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')"
echo "heartbeats_per_s=$(awk -v n="$beats" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')"
echo "cpu_us_per_report=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v n="$reports" 'BEGIN { if (n > 0) printf "%.1f", d * 1e6 / hz / n; else print "nan" }')"
echo "cpu_us_per_message=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v n=$((reports + beats)) 'BEGIN { if (n > 0) printf "%.1f", d * 1e6 / hz / n; else print "nan" }')"
echo "jt808_cores_busy=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.3f", d / hz / s }')"
echo "broker_cores_busy=$(awk -v d=$((m1 - m0)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.3f", d / hz / s }')"
echo "load_cores_busy=$(awk -v d=$((l1 - l0)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.3f", d / hz / s }')"
echo "rss_connected_kb=$rss1"
echo "rss_end_kb=$rss2"
echo "rss_per_connection_bytes=$(awk -v a="$rss0" -v b="$rss1" -v n="$conns" 'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1024 / n; else print "nan" }')"
echo "rss_per_connection_end_bytes=$(awk -v a="$rss0" -v b="$rss2" -v n="$conns" 'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1024 / n; else print "nan" }')"
echo "report_ack_p50_us=$(pct "$w0" "$w1" 50)"
echo "report_ack_p99_us=$(pct "$w0" "$w1" 99)"
echo "report_ack_max_us=$(pct "$w0" "$w1" 100)"
echo "ramp_report_ack_p99_us=$(pct 0 "$w0" 99)"
echo "run_report_ack_p99_us=$(kv ack_p99_us)"
for k in acked pending resent failed disconnects; do echo "load_$k=$(kv $k)"; done
echo "load_exit=$loadrc"
echo "loadavg_at_end=$(cut -d' ' -f1 /proc/loadavg)"
kill -TERM "$jtpid"
for _ in $(seq 1 100); do kill -0 "$jtpid" 2>/dev/null || break; sleep 0.1; done
wait "$jtpid"
echo "jt808_exit=$?"
exit 0
