#!/usr/bin/env bats
# 74-cluster-start-gateways: `scripts/cluster-start --gateways N` brings the
# whole local cluster up (3 NATS nodes, etcd, Patroni's pair, N partitioned
# gateways): the gateways share the partitions out, a fix published on any
# node is stored once, and cluster-stop ends every gateway by PID too.

setup_file() {
  # A short NATS ack_wait, so the gateways' first sessions start after
  # handoff_wait_ms = ack_wait + 0.5 s, not 30 s.
  HG_NATS_ACK_WAIT=1s HG_NATS_MAX_ACK_PENDING=1000 \
    "$HG_SRCDIR/scripts/cluster-start" --partitions 4 --gateways 2 > "$BATS_FILE_TMPDIR/start.out"
  eval "$(cat "$BATS_FILE_TMPDIR/start.out")"
  export HG_CLUSTER_DIR HG_PG_CONNINFO HG_NATS_MQTT_PORTS HG_GATEWAY_HTTP_1 HG_GATEWAY_HTTP_2
  cat "$HG_CLUSTER_DIR"/gw*.pid > "$BATS_FILE_TMPDIR/gw.pids"
}
teardown_file() { "$HG_SRCDIR/scripts/cluster-stop" "$HG_CLUSTER_DIR"; }

owned() {
  curl -s "http://$1/metrics" | awk '$1 == "hazgate_cluster_partitions_owned" { print $2 }'
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
  for i in $(seq 1 150); do
    [ "$(owned "$HG_GATEWAY_HTTP_1")" = 2 ] && [ "$(owned "$HG_GATEWAY_HTTP_2")" = 2 ] && break
    sleep 0.2
  done
  [ "$(owned "$HG_GATEWAY_HTTP_1")" = 2 ]
  [ "$(owned "$HG_GATEWAY_HTTP_2")" = 2 ]
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

@test "cluster-stop ends the gateways by PID, with the rest" {
  "$HG_SRCDIR/scripts/cluster-stop" "$HG_CLUSTER_DIR"
  for pid in $(cat "$BATS_FILE_TMPDIR/gw.pids"); do ! kill -0 "$pid" 2>/dev/null; done
  [ ! -e "$HG_CLUSTER_DIR" ]
}
