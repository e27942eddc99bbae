#!/usr/bin/env bats
# 70-cluster-nats: scripts/cluster-start's NATS cluster (3 nodes, JetStream,
# MQTT on each, the partition mapping of DESIGN.md "More than one machine"):
# every vehicle lands in one partition, always the same, the one FNV-1a 32
# of its plate modulo P names (what the gateway computes); a persistent
# QoS 1 session left on one node is resumed on another; cluster-stop leaves
# no process and no folder.

P=8

setup_file() {
  export HG_CLUSTER_DIR="$BATS_FILE_TMPDIR/cluster"
  "$HG_SRCDIR/scripts/cluster-start" --no-pg --partitions "$P" "$HG_CLUSTER_DIR" > "$BATS_FILE_TMPDIR/start.out"
  eval "$(cat "$BATS_FILE_TMPDIR/start.out")"
  export HG_NATS_MQTT_PORTS HG_PARTITIONS HG_MQTT_HOSTS
  cat "$HG_CLUSTER_DIR"/nats*.pid > "$BATS_FILE_TMPDIR/pids"
}
teardown_file() { "$HG_SRCDIR/scripts/cluster-stop" "$HG_CLUSTER_DIR"; }

mqtt_port() { cut -d, -f"$1" <<<"$HG_NATS_MQTT_PORTS"; }

# fnv1a_part PLATE...: "PLATE k" with k = FNV-1a 32 of the plate's UTF-8 bytes mod P.
fnv1a_part() {
  python3 - "$P" "$@" <<'PY'
import sys
p = int(sys.argv[1])
for v in sys.argv[2:]:
    h = 0x811c9dc5
    for b in v.encode():
        h = ((h ^ b) * 0x01000193) & 0xffffffff
    print(v, h % p)
PY
}

PLATES=(晋A10001 晋A10002 晋A10003 晋A10004 晋B20017 京C33333 ABC123 V-0001 V-0002 V-0003
        V-0004 V-0005 V-0006 V-0007 V-0008 V-0009 V-0010 x y z tanker_42)

@test "cluster-start writes the env file with three MQTT brokers and P" {
  [ "$HG_PARTITIONS" = "$P" ]
  [ "$(tr ',' '\n' <<<"$HG_NATS_MQTT_PORTS" | sort -u | wc -l)" = 3 ]
  [[ "$HG_MQTT_HOSTS" == "127.0.0.1:$(mqtt_port 1), 127.0.0.1:$(mqtt_port 2), 127.0.0.1:$(mqtt_port 3)" ]]
  [ "$(wc -l < "$BATS_FILE_TMPDIR/pids")" = 3 ]
  for pid in $(cat "$BATS_FILE_TMPDIR/pids"); do kill -0 "$pid"; done
}

@test "tankers/<vehicle>/telemetry reaches hz/part/<FNV-1a(vehicle) mod P>/..., the same partition every time, from every node" {
  out="$BATS_TEST_TMPDIR/sub.out"
  n=$(( ${#PLATES[@]} * 3 ))
  # A persistent session subscribes, leaves, and collects afterwards: no
  # race between the subscription and the first publish.
  run mosquitto_sub -h 127.0.0.1 -p "$(mqtt_port 2)" -q 1 -c -i map-check \
    -t 'hz/part/+/tankers/+/telemetry' -W 1
  for node in 1 2 3; do
    for v in "${PLATES[@]}"; do
      mosquitto_pub -h 127.0.0.1 -p "$(mqtt_port "$node")" -q 1 -t "tankers/$v/telemetry" -m "$v $node"
    done
  done
  mosquitto_sub -h 127.0.0.1 -p "$(mqtt_port 2)" -q 1 -c -i map-check -v \
    -t 'hz/part/+/tankers/+/telemetry' -C "$n" -W 30 > "$out"
  [ "$(wc -l < "$out")" = "$n" ]
  # what NATS did: "plate partition", one line per (plate, partition) seen
  sed -E 's|^hz/part/([0-9]+)/tankers/([^/]+)/telemetry .*|\2 \1|' "$out" | sort -u > "$BATS_TEST_TMPDIR/nats"
  fnv1a_part "${PLATES[@]}" | sort -u > "$BATS_TEST_TMPDIR/fnv"
  diff "$BATS_TEST_TMPDIR/fnv" "$BATS_TEST_TMPDIR/nats"
  # and the plates spread over more than one partition
  [ "$(cut -d' ' -f2 "$BATS_TEST_TMPDIR/nats" | sort -u | wc -l)" -gt 3 ]
}

@test "a persistent QoS 1 session on node 1 is resumed on node 3: what was published meanwhile arrives, in order" {
  k=$(fnv1a_part 晋A10004 | cut -d' ' -f2)
  run mosquitto_sub -h 127.0.0.1 -p "$(mqtt_port 1)" -q 1 -c -i hz-test-p"$k" \
    -t "hz/part/$k/tankers/+/telemetry" -W 1
  for i in $(seq 1 20); do
    mosquitto_pub -h 127.0.0.1 -p "$(mqtt_port 2)" -q 1 -t "tankers/晋A10004/telemetry" -m "fix $i"
  done
  run mosquitto_sub -h 127.0.0.1 -p "$(mqtt_port 3)" -q 1 -c -i hz-test-p"$k" \
    -t "hz/part/$k/tankers/+/telemetry" -C 20 -W 20
  [ "$status" = 0 ]
  [ "$output" = "$(for i in $(seq 1 20); do echo "fix $i"; done)" ]
}

@test "cluster-stop ends every process by PID and removes the folder" {
  "$HG_SRCDIR/scripts/cluster-stop" "$HG_CLUSTER_DIR"
  for pid in $(cat "$BATS_FILE_TMPDIR/pids"); do ! kill -0 "$pid" 2>/dev/null; done
  [ ! -e "$HG_CLUSTER_DIR" ]
}
