#!/usr/bin/env bash
# bench_cluster_gateways.sh: partitioned gateways (issue 16) on this
# machine: scripts/cluster-start's 3 NATS nodes (the partition mapping,
# P = HG_BENCH_PARTS, 8) and a private PostgreSQL (scripts/services-start).
#
# 1. throughput with 1, 2 and 3 gateways (each on its own NATS node): a
#    simulated fleet (HG_BENCH_VEHICLES, 500) of HG_BENCH_MESSAGES (60000)
#    published at full speed on node 1; messages per second from the first
#    publish to the last position committed. On a 2-core machine this is
#    flat or falls with more gateways: they share the same two cores with
#    NATS, PostgreSQL and the load.
# 2. takeover after a SIGKILL: 3 gateways under a steady stream (2,000
#    msg/s), one killed; the time until the last of its partitions is
#    claimed by another (the lock; within takeover_s, HG_BENCH_TAKEOVER_S,
#    2) and until all are taken (state loaded, session up, handoff_wait_ms
#    later: NATS's ack_wait, 1 s here, + 0.2 s).
#
# Figures are key=value lines. Without ./hazgate it says "not built yet"
# and exits 0. Everything it starts is stopped by PID at the end.
set -uo pipefail

src=${HG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${HG_BUILDDIR:-$PWD}
export HG_SRCDIR=$src HG_BUILDDIR=$build HG_SHARED=${HG_SHARED:-$src/../shared}
if [ ! -x "$build/hazgate" ] || [ ! -x "$build/hazgate-load" ]; then
  echo "bench_cluster_gateways: gateway not built yet"; exit 0
fi
MESSAGES=${HG_BENCH_MESSAGES:-60000}
VEHICLES=${HG_BENCH_VEHICLES:-500}
export CL_PARTS=${HG_BENCH_PARTS:-8} CL_TAKEOVER_S=${HG_BENCH_TAKEOVER_S:-2}
export HG_NATS_ACK_WAIT=1s HG_NATS_MAX_ACK_PENDING=${HG_NATS_MAX_ACK_PENDING:-1000} CL_EXTRA_CONF="handoff_wait_ms = 1200"

# shellcheck source=../tests/data/gateway/helpers.bash
. "$src/tests/data/gateway/helpers.bash"
# shellcheck source=../tests/data/gateway/cluster.bash
. "$src/tests/data/gateway/cluster.bash"

eval "$("$src/scripts/services-start" --no-mqtt)" || exit 1
export HG_SVC_DIR PGHOST PGPORT PGUSER PGDATABASE HG_PG_CONNINFO
cleanup() {
  cl_stop_all >/dev/null 2>&1
  "$src/scripts/cluster-stop" "$HG_SVC_DIR/nats-cluster" >/dev/null 2>&1
  "$src/scripts/services-stop" "$HG_SVC_DIR" >/dev/null 2>&1
}
trap cleanup EXIT
"$src/scripts/cluster-start" --no-pg --partitions "$CL_PARTS" "$HG_SVC_DIR/nats-cluster" \
  > "$HG_SVC_DIR/cluster.env" || exit 1
eval "$(grep -E '^export HG_NATS_MQTT_PORTS=' "$HG_SVC_DIR/cluster.env")"
export HG_MQTT_HOST=127.0.0.1 HG_MQTT_PORT=${HG_NATS_MQTT_PORTS%%,*}
"$CTL" migrate >/dev/null && "$CTL" zones import "$ZONES" >/dev/null || exit 1

cl_port() { cut -d, -f"$(( $(printf '%d' "'$1") - 96 ))" <<<"$HG_NATS_MQTT_PORTS"; }
names=(a b c)
round=0

# Throughput with the first N gateways.
for n in 1 2 3; do
  cl_reset
  for ((i = 0; i < n; i++)); do cl_start_on "${names[i]}" || exit 1; done
  cl_wait_owned "$CL_PARTS" 30 "${names[@]:0:n}" || exit 1
  t0=$(date +%s%3N)
  "$build/hazgate-load" simulate --vehicles "$VEHICLES" --messages "$MESSAGES" \
    --first-vehicle $((round * VEHICLES)) --seed $((round + 1)) > "$HG_SVC_DIR/load.$n" 2>&1
  wait_sql "SELECT count(*) FROM positions" "$MESSAGES" 600 || exit 1
  t1=$(date +%s%3N)
  dup=0; for ((i = 0; i < n; i++)); do dup=$((dup + $(cl_metric "${names[i]}" hazgate_positions_duplicate_total))); done
  echo "cluster_gateways=$n messages=$MESSAGES committed_msg_per_s=$(( MESSAGES * 1000 / (t1 - t0) )) published_msg_per_s=$(grep -o "msg_per_s=[0-9.]*" "$HG_SVC_DIR/load.$n" | head -1 | cut -d= -f2) redelivered_duplicates=$dup"
  round=$((round + 1))
done

# Takeover after a SIGKILL under a steady stream.
cl_reset
for g in a b c; do cl_start_on "$g" || exit 1; done
cl_wait_owned "$CL_PARTS" 30 a b c || exit 1
"$build/hazgate-load" simulate --vehicles "$VEHICLES" --messages 0 --rate 2000 \
  --first-vehicle $((round * VEHICLES)) > "$HG_SVC_DIR/load.steady" 2>&1 &
echo $! > "$HG_SVC_DIR/cl-publisher.pid"
sleep 3
held=$(cl_metric b hazgate_cluster_partitions_owned)
t0=$(date +%s%3N)
cl_stop b KILL >/dev/null
cl_wait_owned "$CL_PARTS" 30 a c || exit 1
t1=$(date +%s%3N)
tc=$(grep -h 'event=partition_claimed .*takeover=1' "$HG_SVC_DIR/cl-a/log" "$HG_SVC_DIR/cl-c/log" |
       sed 's/^ts=\([^ ]*\) .*/\1/' | sort | tail -1)
echo "takeover_partitions=$held takeover_s=$CL_TAKEOVER_S handoff_wait_ms=1200" \
  "takeover_claimed_ms=$(( $(cl_ms "$tc") - t0 )) takeover_taken_ms=$((t1 - t0))"
