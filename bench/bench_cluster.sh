#!/usr/bin/env bash
# bench_cluster.sh: the local cluster's figures (issue 16; `make
# bench-cluster`, printed, not a test), on scripts/cluster-start's cluster
# and a private mosquitto (scripts/services-start) in the same run:
#
#   - messages per second through each broker: HG_BENCH_CLUSTER_MESSAGES
#     (50,000) fixes of a simulated fleet of 1000 vehicles published QoS 1
#     by HG_BENCH_CLUSTER_PUBLISHERS (8) hazgate-load processes at once
#     (PUBACKs awaited, 200 in flight each) while a persistent QoS 1
#     subscriber takes them: on mosquitto (tankers/+/telemetry), and on NATS
#     (the publishers spread over the 3 nodes, the subscriber on node 2 on
#     hz/part/+/tankers/+/telemetry after the partition mapping; JetStream
#     with 3 replicas). pub_msg_per_s: all publishers' messages over the
#     time until the last one had its PUBACKs; sub_msg_per_s: what the
#     subscriber received, first to last message; broker_cpu_us_per_msg:
#     the broker's processes' CPU (user + system; all three nodes for
#     NATS) over the run, per message. nats-r1: the same on a
#     second cluster with `--nats-replicas 1` (what replication costs).
#     NATS takes a QoS 1
#     publish into JetStream before the next packet of that connection is
#     read, so one publisher alone is bound by that round trip: a fleet is
#     many connections;
#   - failover time after a primary stop, HG_BENCH_CLUSTER_ROUNDS (2) rounds
#     of each: Patroni's primary stopped (SIGTERM: it shuts PostgreSQL
#     down and hands the leader key over), and the primary crashed (SIGKILL
#     of Patroni and its PostgreSQL: the replica waits for the leader key's
#     ttl, 10 s). writable_ms: from the signal to the first INSERT
#     committed on the new primary through the multi-host conninfo
#     (target_session_attrs=read-write), polled every 50 ms; gateway_ms: to the gateway's
#     hazgate_postgres_connected back at 1 (its reconnect_max_ms is 500).
#     After each round the old node is started again and rejoins as the
#     synchronous replica (pg_rewind) before the next.
#
# The gateways' takeover time and 1/2/3 gateways are the partition work's
# (issue 16, DESIGN.md "More than one machine"), added to this script there.
# It fails only when the run did not happen, never on the figures.
set -uo pipefail

top=${HG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${HG_BUILDDIR:-$PWD}
load="$build/hazgate-load"
gw="$build/hazgate"
ctl="$build/hazgate-ctl"
N=${HG_BENCH_CLUSTER_MESSAGES:-50000}
ROUNDS=${HG_BENCH_CLUSTER_ROUNDS:-2}
PUBS=${HG_BENCH_CLUSTER_PUBLISHERS:-8}
pgbin=${HG_PGBIN:-/usr/lib/postgresql/15/bin}

die() { echo "bench_cluster: $*" >&2; exit 1; }
for p in "$load" "$gw" "$ctl"; do [ -x "$p" ] || die "$p is not built"; done
export HG_BUILDDIR="$build"

svc= cl= cl1=
cleanup() {
  [ -n "$cl1" ] && "$top/scripts/cluster-stop" "$cl1" >/dev/null 2>&1
  [ -n "$svc" ] && "$top/scripts/services-stop" "$svc" >/dev/null 2>&1
  [ -n "$cl" ] && "$top/scripts/cluster-stop" "$cl" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
kv() { sed -n "s/^$1=//p" "$2" | tail -1; }

eval "$("$top/scripts/services-start" --no-pg)" || die "services-start failed"
svc=$HG_SVC_DIR
mosq_port=$HG_MQTT_PORT
eval "$("$top/scripts/cluster-start" --partitions 8)" || die "cluster-start failed"
cl=$HG_CLUSTER_DIR
export PGHOST PGPORT PGUSER PGDATABASE PGTARGETSESSIONATTRS
IFS=, read -r n1 n2 n3 <<<"$HG_NATS_MQTT_PORTS"
IFS=, read -r r1 r2 <<<"$HG_PATRONI_PORTS"
rest=("" "$r1" "$r2")
echo "== bench_cluster: $N messages per broker; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

hz=$(getconf CLK_TCK)
# cpu_ticks PIDFILE...: user + system time of those processes, in ticks
cpu_ticks() {
  local f s sum=0 st
  for f in "$@"; do
    st=$(cat "/proc/$(cat "$f")/stat" 2>/dev/null) || continue
    s=(${st##*) })
    sum=$(( sum + s[11] + s[12] ))
  done
  echo "$sum"
}
# through NAME "PORT..." SUBPORT FILTER "BROKER PIDFILES": PUBS publishers (a
# share of the fleet each, their ports taken in turn from the list), one
# subscriber; the brokers' CPU per message from their PID files
through() {
  local name=$1 ports=($2) sport=$3 filter=$4 bpids=($5) out="$cl/through-$1" k pids=() t0 t1 c0 c1
  "$load" count --host 127.0.0.1 --port "$sport" --topic "$filter" --client-id "bench-sub-$name" \
    --subscribe-only >/dev/null 2>&1 || die "$name: the subscriber could not subscribe"
  "$load" count --host 127.0.0.1 --port "$sport" --topic "$filter" --client-id "bench-sub-$name" \
    --expect "$N" --timeout 900 > "$out.sub" 2>/dev/null &
  local sub=$!
  c0=$(cpu_ticks "${bpids[@]}")
  t0=$(now_ms)
  for k in $(seq 0 $((PUBS - 1))); do
    "$load" simulate --vehicles $((1000 / PUBS)) --first-vehicle $((k * 1000 / PUBS)) \
      --messages $((N / PUBS)) --seed $((k + 3)) --start 2019-08-10T00:00:00Z --inflight 200 \
      --host 127.0.0.1 --port "${ports[k % ${#ports[@]}]}" --client-id "bench-pub-$name-$k" \
      > "$out.pub$k" 2>/dev/null &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || die "$name: a publisher failed"; done
  t1=$(now_ms)
  wait "$sub" || die "$name: the subscriber did not get $N messages"
  c1=$(cpu_ticks "${bpids[@]}")
  echo "broker=$name publishers=$PUBS messages=$N pub_msg_per_s=$(( N * 1000 / (t1 - t0 + 1) ))" \
    "puback_p99_us(publisher 0)=$(kv puback_p99_us "$out.pub0") sub_msg_per_s=$(kv msg_per_s "$out.sub")" \
    "broker_cpu_us_per_msg=$(( (c1 - c0) * 1000000 / hz / N ))"
}
N=$(( N / PUBS * PUBS ))
through mosquitto "$mosq_port" "$mosq_port" 'tankers/+/telemetry' "$svc/mosquitto.pid"
through nats "$n1 $n2 $n3" "$n2" 'hz/part/+/tankers/+/telemetry' "$cl/nats1.pid $cl/nats2.pid $cl/nats3.pid"
# The same on a second NATS cluster whose MQTT streams have one replica:
# what replication costs (such a cluster loses sessions with a node).
cl1=$("$top/scripts/cluster-start" --no-pg --nats-replicas 1 | sed -n 's/^export HG_CLUSTER_DIR=//p')
[ -n "$cl1" ] || die "cluster-start --nats-replicas 1 failed"
IFS=, read -r o1 o2 o3 < <(sed -n 's/^HG_NATS_MQTT_PORTS=//p' "$cl1/env")
through nats-r1 "$o1 $o2 $o3" "$o2" 'hz/part/+/tankers/+/telemetry' "$cl1/nats1.pid $cl1/nats2.pid $cl1/nats3.pid"
"$top/scripts/cluster-stop" "$cl1"; cl1=

# The gateway on the cluster, for its side of the failover.
gwdir="$cl/gw"
mkdir -p "$gwdir"
. "$top/scripts/svc-lib.bash"
http=$(free_port)
cat > "$gwdir/hazgate.conf" <<CONF
[mqtt]
host = $HG_MQTT_HOSTS
client_id = bench-cluster
subscribe = hz/part/+/tankers/+/telemetry auto
reconnect_min_ms = 100
reconnect_max_ms = 1000
[postgres]
conninfo = $HG_PG_CONNINFO
reconnect_max_ms = 500
[spool]
dir = $gwdir/spool
[http]
listen = 127.0.0.1:$http
[log]
level = warn
CONF
"$gw" -c "$gwdir/hazgate.conf" >> "$gwdir/log" 2>&1 &
echo $! > "$cl/hazgate.pid"
gw_connected() { curl -fsS "http://127.0.0.1:$http/metrics" 2>/dev/null | awk '$1 == "hazgate_postgres_connected" { print $2 }'; }
for i in $(seq 1 200); do [ "$(gw_connected)" = 1 ] && break; sleep 0.05; done
[ "$(gw_connected)" = 1 ] || die "the gateway did not connect to PostgreSQL (see $gwdir/log)"
psql_rw() { "$pgbin/psql" -XqAt -v ON_ERROR_STOP=1 -c "$1" >/dev/null 2>&1; }
psql_rw "CREATE TABLE IF NOT EXISTS bench_failover (t timestamptz)" || die "no write to the primary"

primary() { local n; for n in 1 2; do curl -fsS -o /dev/null "http://127.0.0.1:${rest[n]}/primary" 2>/dev/null && { echo "$n"; return; }; done; }
role_ok() { curl -fsS -o /dev/null "http://127.0.0.1:${rest[$1]}/$2" 2>/dev/null; }
restart_node() { # N: Patroni again on node N's configuration; wait until it is the sync standby
  start_patroni "$cl/pg/pg$1" "$cl/patroni$1.pid"
  disown   # its SIGKILL in a later round is no job notice
  for i in $(seq 1 1200); do role_ok "$1" sync && return 0; sleep 0.1; done
  die "node $1 did not come back as the synchronous replica (see $cl/pg/pg$1/patroni.log)"
}
# writable_on PORT: an INSERT committed through the multi-host conninfo, on
# another server than PORT's (the old primary may take one more while it
# shuts down)
writable_elsewhere() {
  local got
  got=$("$pgbin/psql" -XqAt -v ON_ERROR_STOP=1 \
    -c "INSERT INTO bench_failover VALUES (now()) RETURNING inet_server_port()" 2>/dev/null) || return 1
  [ -n "$got" ] && [ "$got" != "$1" ]
}

for kind in stop crash; do
  for round in $(seq 1 "$ROUNDS"); do
    old=$(primary)
    [ -n "$old" ] || die "no primary"
    oldport=$(cut -d, -f"$old" <<<"$HG_PG_PORTS")
    t0=$(now_ms)
    if [ "$kind" = stop ]; then
      kill -TERM "$(cat "$cl/patroni$old.pid")"
    else
      pm=$(head -1 "$cl/pg/pg$old/data/postmaster.pid")
      kill -KILL "$(cat "$cl/patroni$old.pid")" "$pm"
    fi
    w= g= down=
    for i in $(seq 1 1200); do
      [ -z "$w" ] && writable_elsewhere "$oldport" && w=$(( $(now_ms) - t0 ))
      # the gateway's link: seen down, then up again
      c=$(gw_connected)
      [ -z "$down" ] && [ "$c" = 0 ] && down=1
      [ -z "$g" ] && [ -n "$down" ] && [ "$c" = 1 ] && g=$(( $(now_ms) - t0 ))
      [ -n "$w" ] && [ -n "$g" ] && break
      sleep 0.05
    done
    new=$(primary)
    echo "failover=$kind round=$round from_node=$old to_node=${new:-none} writable_ms=${w:-timeout} gateway_ms=${g:-timeout}"
    # the crashed node's PostgreSQL is gone; the stopped one's too: Patroni back on it
    for i in $(seq 1 100); do kill -0 "$(cat "$cl/patroni$old.pid")" 2>/dev/null || break; sleep 0.1; done
    restart_node "$old"
  done
done
