#!/usr/bin/env bats
# 72-cluster-nats-gateways: partitioned gateways ([cluster], issue 16) on
# scripts/cluster-start's 3-node NATS cluster (JetStream, MQTT on each
# node, tankers.*.telemetry -> hz.part.{{partition(8,1)}}...) and a
# private PostgreSQL: gateways a, b and c each on its own node, the fleet
# published plain on tankers/<vehicle>/telemetry to node 1 (NATS maps it).
# The scenarios of 71 (tests/data/gateway/cluster.bash): three gateways,
# fleet = replay; SIGKILL mid-stream, taken over within takeover_s, nothing
# lost; 2 -> 3 -> 2 mid-stream, no two owners at once.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"
load "$HG_SRCDIR/tests/data/gateway/cluster.bash"

setup_file() {
  eval "$("$HG_SRCDIR/scripts/services-start" --no-mqtt)"
  export HG_SVC_DIR PGHOST PGPORT PGUSER PGDATABASE HG_PG_CONNINFO
  export CL_PARTS=8 CL_TAKEOVER_S=2
  # NATS sends again what a session had not acknowledged after ack_wait:
  # a partition's next session starts later than that, so those messages
  # come first, in order ([cluster] handoff_wait_ms).
  export HG_NATS_ACK_WAIT=1s CL_EXTRA_CONF="handoff_wait_ms = 1200"
  # (cluster-start's env names its own folder HG_SVC_DIR too: only the ports are taken)
  "$HG_SRCDIR/scripts/cluster-start" --no-pg --partitions "$CL_PARTS" "$HG_SVC_DIR/nats-cluster" \
    > "$HG_SVC_DIR/cluster.env"
  eval "$(grep -E '^export HG_NATS_MQTT_PORTS=' "$HG_SVC_DIR/cluster.env")"
  export HG_NATS_MQTT_PORTS HG_MQTT_HOST=127.0.0.1 HG_MQTT_PORT=${HG_NATS_MQTT_PORTS%%,*}
  "$CTL" migrate >/dev/null
  "$CTL" zones import "$ZONES" >/dev/null
  export GWDIR="$HG_SVC_DIR/gw" GWCONF="$HG_SVC_DIR/gw/hazgate.conf" GW_HTTP_PORT=$(gw_free_port)
  mkdir -p "$GWDIR"
  gw_write_conf
  "$CTL" replay --zones "$ZONES" --config "$GWCONF" "$FLEET" > "$GWDIR/replay.ndjson" 2>/dev/null
}

teardown_file() {
  cl_stop_all
  "$HG_SRCDIR/scripts/cluster-stop" "$HG_SVC_DIR/nats-cluster"
  "$HG_SRCDIR/scripts/services-stop" "$HG_SVC_DIR"
}

teardown() { cl_stop_all; }

# a on node 1, b on node 2, c on node 3.
cl_port() { cut -d, -f"$(( $(printf '%d' "'$1") - 96 ))" <<<"$HG_NATS_MQTT_PORTS"; }
cl_publish() { "$HG_BUILDDIR/hazgate-load" replay "$FLEET" --rate "$1" > "$GWDIR/load.out" 2>&1; }

@test "72 NATS: three gateways on three nodes share 8 partitions: every fix stored once, alerts equal the replay" {
  cl_scenario_three
}

@test "72 NATS: SIGKILL one gateway mid-stream: its partitions taken over within takeover_s, nothing lost" {
  cl_scenario_kill
}

@test "72 NATS: SIGKILL a gateway that took messages and committed none: the next owner gets every fix from the broker" {
  cl_scenario_kill_uncommitted nats
}

@test "72 NATS: grow from 2 to 3 gateways and shrink back mid-stream: ownership moves, nothing lost or doubled" {
  cl_scenario_grow_shrink
}
