#!/usr/bin/env bats
# 71-cluster-gateways: partitioned gateways ([cluster], issue 16) on one
# private PostgreSQL and mosquitto. The fleet is published on the partition
# topics hz/part/<k>/tankers/<vehicle>/telemetry as NATS's mapping would
# (k from hazgate_partition(), whose values are NATS's; 72 does the same on
# the NATS cluster itself). Three gateways share 8 partitions: every fix
# stored once, the alerts those of `hazgate-ctl replay`; one SIGKILLed
# mid-stream: its partitions taken over within takeover_s, nothing lost,
# alerts still the replay's (acknowledged after COMMIT); one SIGKILLed
# while its commits were blocked: the next owner gets all it had taken; 2 -> 3 -> 2 gateways mid-stream: ownership moves,
# nothing lost or doubled, never two owners of one partition at once (from
# the gateways' logs); every claim connection terminated mid-stream (the
# locks gone, as in a failover): partitions stopped, taken back by their
# owners, nothing lost. Scenarios in tests/data/gateway/cluster.bash.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"
load "$HG_SRCDIR/tests/data/gateway/cluster.bash"

setup_file() {
  gw_setup_file
  export CL_PARTS=8 CL_TAKEOVER_S=2
  cl_fleet_file "$GWDIR/fleet.part"
  "$CTL" replay --zones "$ZONES" --config "$GWCONF" "$FLEET" > "$GWDIR/replay.ndjson" 2>/dev/null
}

teardown_file() {
  cl_stop_all
  gw_teardown_file
}

teardown() { cl_stop_all; }

cl_port() { echo "$HG_MQTT_PORT"; }
cl_publish() { "$HG_BUILDDIR/hazgate-load" replay "$GWDIR/fleet.part" --rate "$1" > "$GWDIR/load.out" 2>&1; }

@test "71 hazgate_partition() gives NATS's partitions (seen from nats-server 2.9.10)" {
  [ "$(q "SELECT string_agg(hazgate_partition(v, 8)::text, ',' ORDER BY o) FROM unnest(ARRAY['晋A10001','晋A10004','A','B','hello','truck-17','x']) WITH ORDINALITY AS t(v, o)")" = "0,7,4,5,3,7,7" ]
  # The fleet file's topics carry them; each vehicle in one partition.
  [ "$(cut -f1 "$GWDIR/fleet.part" | sort -u | wc -l)" = "12" ]
  grep -q $'^hz/part/0/tankers/晋A10001/telemetry\t' "$GWDIR/fleet.part"
}

@test "71 the fence refuses partitions whose lock the given connection does not hold (HG412)" {
  run psql -XqAt -v ON_ERROR_STOP=1 -c "SELECT hazgate_cluster_fence(pg_backend_pid(), '{3,5}')"
  [ "$status" -ne 0 ]
  [[ "$output" == *"hazgate_fence: partitions {3,5} are no longer held"* ]]
  # Held by this backend: passes; by another backend: refused.
  [ "$(q "SELECT pg_advisory_lock(1752854577, 3), pg_advisory_lock(1752854577, 5); SELECT hazgate_cluster_fence(pg_backend_pid(), '{3,5}'); SELECT 'passed'" | tail -1)" = "passed" ]
  run psql -XqAt -v ON_ERROR_STOP=1 -c "SELECT pg_advisory_lock(1752854577, 3); SELECT hazgate_cluster_fence(pg_backend_pid() + 1, '{3}')"
  [ "$status" -ne 0 ]
  [[ "$output" == *"partitions {3} are no longer held"* ]]
}

@test "71 three gateways share 8 partitions: every fix stored once, alerts equal the replay" {
  cl_scenario_three
}

@test "71 SIGKILL one gateway mid-stream: its partitions taken over within takeover_s, nothing lost" {
  cl_scenario_kill
}

@test "71 SIGKILL a gateway that took messages and committed none: the next owner gets them all from the broker" {
  cl_scenario_kill_uncommitted
}

@test "71 grow from 2 to 3 gateways and shrink back mid-stream: ownership moves, nothing lost or doubled" {
  cl_scenario_grow_shrink
}

@test "71 claim connections cut mid-stream (locks gone, as in a failover): partitions stopped, taken back by their owners, nothing lost" {
  cl_scenario_claims_cut
}
