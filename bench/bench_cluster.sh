#!/usr/bin/env bash
# bench_cluster.sh: the local cluster's figures (issue 16; `make
# bench-cluster`, printed, not a test), on scripts/cluster-start's cluster
# and a private mosquitto (scripts/services-start) in the same run:
#
#   - messages per second through each broker: HG_BENCH_CLUSTER_MESSAGES
#     (50,000) fixes of a simulated fleet published QoS 1 by hazgate-load
#     (PUBACKs awaited, 1000 in flight) while a persistent QoS 1 subscriber
#     takes them: on mosquitto (tankers/+/telemetry), and on NATS
#     (published on node 1, taken on node 2 from hz/part/+/tankers/+/telemetry
#     after the partition mapping; JetStream with 3 replicas). pub_msg_per_s
#     is what the publisher had acknowledged, sub_msg_per_s what the
#     subscriber received (first to last message);
#   - failover time after a primary stop, HG_BENCH_CLUSTER_ROUNDS (2) rounds
#     of each: Patroni's primary stopped (SIGTERM: it shuts PostgreSQL
#     down and hands the leader key over), and the primary crashed (SIGKILL
#     of Patroni and its PostgreSQL: the replica waits for the leader key's
#     ttl, 10 s). writable_ms: from the signal to the first committed INSERT
#     through the multi-host conninfo (target_session_attrs=read-write),
#     polled every 50 ms; gateway_ms: to the gateway's
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
pgbin=${HG_PGBIN:-/usr/lib/postgresql/15/bin}

die() { echo "bench_cluster: $*" >&2; exit 1; }
for p in "$load" "$gw" "$ctl"; do [ -x "$p" ] || die "$p is not built"; done
export HG_BUILDDIR="$build"

svc= cl=
cleanup() {
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
IFS=, read -r n1 n2 _ <<<"$HG_NATS_MQTT_PORTS"
IFS=, read -r r1 r2 <<<"$HG_PATRONI_PORTS"
rest=("" "$r1" "$r2")
echo "== bench_cluster: $N messages per broker; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# through BROKER PUBPORT SUBPORT FILTER: one publisher, one subscriber
through() {
  local name=$1 pport=$2 sport=$3 filter=$4 out="$cl/through-$1"
  "$load" count --host 127.0.0.1 --port "$sport" --topic "$filter" --client-id "bench-sub-$name" \
    --subscribe-only >/dev/null 2>&1 || die "$name: the subscriber could not subscribe"
  "$load" count --host 127.0.0.1 --port "$sport" --topic "$filter" --client-id "bench-sub-$name" \
    --expect "$N" --timeout 600 > "$out.sub" 2>/dev/null &
  local sub=$!
  "$load" simulate --vehicles 1000 --messages "$N" --seed 3 --start 2019-08-10T00:00:00Z \
    --host 127.0.0.1 --port "$pport" --client-id "bench-pub-$name" > "$out.pub" 2>/dev/null \
    || die "$name: the publisher failed"
  wait "$sub" || die "$name: the subscriber did not get $N messages"
  echo "broker=$name messages=$N pub_msg_per_s=$(kv msg_per_s "$out.pub")" \
    "puback_p99_us=$(kv puback_p99_us "$out.pub") sub_msg_per_s=$(kv msg_per_s "$out.sub")"
}
through mosquitto "$mosq_port" "$mosq_port" 'tankers/+/telemetry'
through nats "$n1" "$n2" 'hz/part/+/tankers/+/telemetry'

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
  local n=$1 d="$cl/pg/pg$1" as=()
  [ "$(id -u)" = 0 ] && as=(setpriv --reuid=postgres --regid=postgres --init-groups)
  ( cd "$d" && HOME="$d" exec setsid "${as[@]}" patroni "$d/patroni.yml" >>"$d/patroni.log" 2>&1 < /dev/null ) &
  echo $! > "$cl/patroni$n.pid"
  for i in $(seq 1 1200); do role_ok "$n" sync && return 0; sleep 0.1; done
  die "node $n did not come back as the synchronous replica (see $d/patroni.log)"
}

for kind in stop crash; do
  for round in $(seq 1 "$ROUNDS"); do
    old=$(primary)
    [ -n "$old" ] || die "no primary"
    t0=$(now_ms)
    if [ "$kind" = stop ]; then
      kill -TERM "$(cat "$cl/patroni$old.pid")"
    else
      pm=$(head -1 "$cl/pg/pg$old/data/postmaster.pid")
      kill -KILL "$(cat "$cl/patroni$old.pid")" "$pm"
    fi
    w= g= down=
    for i in $(seq 1 1200); do
      [ -z "$w" ] && psql_rw "INSERT INTO bench_failover VALUES (now())" && w=$(( $(now_ms) - t0 ))
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
