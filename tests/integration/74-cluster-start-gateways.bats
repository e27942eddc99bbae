#!/usr/bin/env bats
# 74-cluster-start-gateways: `scripts/cluster-start --gateways N` brings the
# whole local cluster up (3 NATS nodes, etcd, Patroni's pair, N partitioned
# gateways): the gateways share the partitions out, a fix published on any
# node is stored once; the PostgreSQL primary stopped under the partitioned
# gateways mid-stream (their advisory locks vanish with it): each claims
# its partitions back on the new primary, the sample fleet is stored once
# and its alerts equal the replay's; cluster-stop ends every gateway by PID.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() {
  # A short NATS ack_wait, so the gateways' first sessions start after
  # handoff_wait_ms = ack_wait + 0.5 s, not 30 s.
  HG_NATS_ACK_WAIT=1s HG_NATS_MAX_ACK_PENDING=1000 \
    "$HG_SRCDIR/scripts/cluster-start" --partitions 4 --gateways 2 > "$BATS_FILE_TMPDIR/start.out"
  eval "$(cat "$BATS_FILE_TMPDIR/start.out")"
  export HG_CLUSTER_DIR HG_PG_CONNINFO HG_NATS_MQTT_PORTS HG_NATS_HTTP_PORTS HG_GATEWAY_HTTP_1 HG_GATEWAY_HTTP_2 \
    PGHOST PGPORT PGUSER PGDATABASE PGTARGETSESSIONATTRS HG_PG_PORTS HG_PATRONI_PORTS
  cat "$HG_CLUSTER_DIR"/gw*.pid > "$BATS_FILE_TMPDIR/gw.pids"
}
teardown_file() { "$HG_SRCDIR/scripts/cluster-stop" "$HG_CLUSTER_DIR"; }

owned() {
  curl -s "http://$1/metrics" | awk '$1 == "hazgate_cluster_partitions_owned" { print $2 }'
}

# Wait until the 4 partitions are owned 2 and 2 (each session up) and NATS
# has their 4 durable consumers: a QoS 1 message published before its
# partition's first session subscribed has no interest in JetStream and is
# dropped (the MQTT streams keep messages for existing consumers only).
wait_sessions() {
  local i
  for i in $(seq 1 150); do
    [ "$(owned "$HG_GATEWAY_HTTP_1")" = 2 ] && [ "$(owned "$HG_GATEWAY_HTTP_2")" = 2 ] &&
      [ "$(nats_consumers)" = 4 ] && return 0
    sleep 0.2
  done
  echo "# owned: $(owned "$HG_GATEWAY_HTTP_1") $(owned "$HG_GATEWAY_HTTP_2"), consumers: $(nats_consumers)" >&3
  return 1
}
nats_consumers() {
  curl -s "http://127.0.0.1:${HG_NATS_HTTP_PORTS%%,*}/jsz?consumers=true" |
    jq '[.account_details[]?.stream_detail[]? | select(.name == "$MQTT_msgs") | .consumer_detail[]?] | length'
}

@test "cluster-start --gateways 2: two gateways running, each with its own folder and HTTP port" {
  [ "$HG_GATEWAYS" = 2 ]
  [ "$(wc -l < "$BATS_FILE_TMPDIR/gw.pids")" = 2 ]
  for pid in $(cat "$BATS_FILE_TMPDIR/gw.pids"); do kill -0 "$pid"; done
  [ "$HG_GATEWAY_HTTP_1" != "$HG_GATEWAY_HTTP_2" ]
  grep -q '^partitions = 4$' "$HG_CLUSTER_DIR/gw1/hazgate.conf"
  grep -q '^handoff_wait_ms = 1500$' "$HG_CLUSTER_DIR/gw2/hazgate.conf"
}

@test "the 4 partitions are shared out 2 and 2, and a fix published on each node is stored once" {
  wait_sessions
  local node=0
  for port in $(tr ',' ' ' <<<"$HG_NATS_MQTT_PORTS"); do
    node=$((node + 1))
    for v in 1 2 3 4 5 6; do
      mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "tankers/CS$v/telemetry" \
        -m "{\"vehicle\":\"CS$v\",\"ts\":\"2019-08-10T01:00:0${node}Z\",\"lat\":37.8,\"lon\":112.5}"
    done
  done
  for i in $(seq 1 150); do
    [ "$(psql -XAt "$HG_PG_CONNINFO" -c "SELECT count(*) FROM positions WHERE vehicle LIKE 'CS%'")" = 18 ] && break
    sleep 0.2
  done
  [ "$(psql -XAt "$HG_PG_CONNINFO" -c "SELECT count(*) FROM positions WHERE vehicle LIKE 'CS%'")" = 18 ]
  [ "$(psql -XAt "$HG_PG_CONNINFO" -c "SELECT count(DISTINCT (vehicle, ts)) FROM positions WHERE vehicle LIKE 'CS%'")" = 18 ]
}

primary_node() {
  local n
  for n in 1 2; do
    curl -fsS -o /dev/null "http://127.0.0.1:$(cut -d, -f"$n" <<<"$HG_PATRONI_PORTS")/primary" 2>/dev/null &&
      { echo "$n"; return 0; }
  done
  return 1
}
gw_metric() { curl -s "http://$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }

@test "the PostgreSQL primary stopped under 2 partitioned gateways mid-stream: each claims its partitions back on the new primary; the fleet stored once, alerts = replay" {
  # On its own (bats -f) too: the partitions' sessions exist before the
  # first message (else NATS drops what their partitions get meanwhile).
  wait_sessions
  q "TRUNCATE positions_recent, positions_slices, vehicle_state, rejects"
  "$CTL" zones import "$ZONES" >/dev/null
  "$CTL" replay --zones "$ZONES" "$FLEET" 2>/dev/null |
    jq -r 'select(.kind | startswith("tracker_") | not) | "\(.kind) \(.vehicle) \(.ts) \(.zone_id)"' |
    sort > "$BATS_TEST_TMPDIR/replay.keys"
  [ -s "$BATS_TEST_TMPDIR/replay.keys" ]
  sleep 1   # the gateways reload the zones (NOTIFY)
  "$HG_BUILDDIR/hazgate-load" replay "$FLEET" --host 127.0.0.1 --port "$(cut -d, -f1 <<<"$HG_NATS_MQTT_PORTS")" \
    --client-id "pub-74" --rate 1500 > "$BATS_TEST_TMPDIR/load.out" 2>&1 &
  local pub=$!
  sleep 3
  local old=$(primary_node)
  kill -TERM "$(cat "$HG_CLUSTER_DIR/patroni$old.pid")"
  wait "$pub" || { cat "$BATS_TEST_TMPDIR/load.out"; false; }
  local new=$((3 - old))
  for i in $(seq 1 300); do [ "$(primary_node || true)" = "$new" ] && break; sleep 0.1; done
  [ "$(primary_node)" = "$new" ]
  wait_sql "SELECT count(*) FROM positions" "$(fleet_count)" 120
  [ "$(q "SELECT count(DISTINCT (vehicle, ts)) FROM positions")" = "$(fleet_count)" ]
  # the locks went with the old primary: every partition was lost, and
  # taken back (4 in all, 2 and 2)
  [ "$(( $(gw_metric "$HG_GATEWAY_HTTP_1" hazgate_cluster_lost_total) + $(gw_metric "$HG_GATEWAY_HTTP_2" hazgate_cluster_lost_total) ))" -ge 4 ]
  for i in $(seq 1 150); do
    [ "$(( $(gw_metric "$HG_GATEWAY_HTTP_1" hazgate_cluster_partitions_owned) + $(gw_metric "$HG_GATEWAY_HTTP_2" hazgate_cluster_partitions_owned) ))" = 4 ] && break
    sleep 0.2
  done
  [ "$(( $(gw_metric "$HG_GATEWAY_HTTP_1" hazgate_cluster_partitions_owned) + $(gw_metric "$HG_GATEWAY_HTTP_2" hazgate_cluster_partitions_owned) ))" = 4 ]
  wait_sql "SELECT count(*) FROM alerts WHERE kind NOT LIKE 'tracker_%'" "$(wc -l < "$BATS_TEST_TMPDIR/replay.keys")" 60
  q "SELECT kind || ' ' || vehicle || ' ' || to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') || ' ' || coalesce(zone_id::text, 'null') FROM alerts WHERE kind NOT LIKE 'tracker_%'" |
    sort > "$BATS_TEST_TMPDIR/db.keys"
  diff "$BATS_TEST_TMPDIR/replay.keys" "$BATS_TEST_TMPDIR/db.keys"
  [ "$(gw_metric "$HG_GATEWAY_HTTP_1" hazgate_lost_seq_total)" = 0 ]
  [ "$(gw_metric "$HG_GATEWAY_HTTP_2" hazgate_lost_seq_total)" = 0 ]
}

@test "cluster-stop ends the gateways by PID, with the rest" {
  "$HG_SRCDIR/scripts/cluster-stop" "$HG_CLUSTER_DIR"
  for pid in $(cat "$BATS_FILE_TMPDIR/gw.pids"); do ! kill -0 "$pid" 2>/dev/null; done
  [ ! -e "$HG_CLUSTER_DIR" ]
}
