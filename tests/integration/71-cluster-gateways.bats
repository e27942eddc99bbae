#!/usr/bin/env bats
# 71-cluster-gateways: partitioned gateways ([cluster], issue 16) on one
# private PostgreSQL and mosquitto. The fleet is published on the partition
# topics hz/part/<k>/tankers/<vehicle>/telemetry as NATS's mapping would
# (k from hazgate_partition(), whose values are NATS's). Three gateways
# share 8 partitions: every fix stored once, the alerts those of
# `hazgate-ctl replay`; one SIGKILLed mid-stream: its partitions taken over
# within takeover_s, nothing lost once it is back; 2 -> 3 -> 2 gateways
# mid-stream: ownership moves, nothing lost or doubled, never two owners of
# one partition at once (from the gateways' logs).

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

# A clean database and broker sessions between scenarios: the gateways
# are stopped, their spools emptied, the tables truncated.
reset_all() {
  cl_stop_all
  rm -rf "$HG_SVC_DIR"/cl-*/spool
  # (alert_events is empty: no acknowledgement here; its trigger is the owner's to lift)
  q "ALTER TABLE alert_events DISABLE TRIGGER alert_events_no_truncate"
  q "TRUNCATE positions, alerts, alert_events, alert_outbox, vehicle_state, rejects, cluster_partitions"
  q "ALTER TABLE alert_events ENABLE TRIGGER alert_events_no_truncate"
}

replay_keys() {
  jq -r 'select(.kind | startswith("tracker_") | not) | "\(.kind) \(.vehicle) \(.ts) \(.zone_id)"' \
    "$GWDIR/replay.ndjson" | sort
}
db_keys() {
  q "SELECT kind || ' ' || vehicle || ' ' || to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') || ' ' || coalesce(zone_id::text, 'null') FROM alerts WHERE kind NOT LIKE 'tracker_%'" | sort
}

publish() { "$HG_BUILDDIR/hazgate-load" replay "$GWDIR/fleet.part" --rate "${1:-4000}" > "$GWDIR/load.out" 2>&1; }

# Every fix once; the alerts equal the replay's.
check_fleet() {
  wait_sql "SELECT count(*) FROM positions" "$(fleet_count)" 90
  [ "$(q "SELECT count(DISTINCT (vehicle, ts)) FROM positions")" = "$(fleet_count)" ]
  wait_sql "SELECT count(*) FROM alerts WHERE kind NOT LIKE 'tracker_%'" "$(replay_keys | wc -l)" 30
  diff <(replay_keys) <(db_keys)
}

@test "71 hazgate_partition() gives NATS's partitions (seen from nats-server 2.9.10)" {
  [ "$(q "SELECT string_agg(hazgate_partition(v, 8)::text, ',' ORDER BY o) FROM unnest(ARRAY['晋A10001','晋A10004','A','B','hello','truck-17','x']) WITH ORDINALITY AS t(v, o)")" = "0,7,4,5,3,7,7" ]
  # The fleet file's topics carry them; each vehicle in one partition.
  [ "$(cut -f1 "$GWDIR/fleet.part" | sort -u | wc -l)" = "12" ]
  grep -q $'^hz/part/0/tankers/晋A10001/telemetry\t' "$GWDIR/fleet.part"
}

@test "71 three gateways share 8 partitions: every fix stored once, alerts equal the replay" {
  reset_all
  cl_start a; cl_start b; cl_start c
  cl_wait_owned 8 20 a b c
  for n in a b c; do
    [ "$(cl_metric $n hazgate_cluster_partitions_owned)" -le 3 ]
    [ "$(cl_metric $n hazgate_cluster_members)" = "3" ]
  done
  [ "$(q "SELECT count(*) FROM cluster_partitions WHERE released_at IS NULL")" = "8" ]
  publish 6000
  check_fleet
  # Each alert committed once and acknowledged by the broker: the outbox empties.
  wait_sql "SELECT count(*) FROM alert_outbox" "0" 30
  [ "$(q "SELECT count(*) - count(DISTINCT (vehicle, ts, kind, zone_id)) FROM alerts")" = "0" ]
  [ -z "$(cl_overlaps)" ]
  # Every gateway took messages, and only its own partitions' vehicles.
  for n in a b c; do [ "$(cl_metric $n hazgate_positions_written_total)" -gt 0 ]; done
  [ "$(( $(cl_metric a hazgate_positions_written_total) + $(cl_metric b hazgate_positions_written_total) + $(cl_metric c hazgate_positions_written_total) ))" = "$(fleet_count)" ]
  for n in a b c; do [ "$(cl_stop $n)" = "0" ]; done
}

@test "71 SIGKILL one gateway mid-stream: its partitions taken over within takeover_s, nothing lost" {
  reset_all
  cl_start a; cl_start b; cl_start c
  cl_wait_owned 8 20 a b c
  local held=$(cl_metric b hazgate_cluster_partitions_owned)
  [ "$held" -ge 1 ]
  publish 2500 &
  local pub=$!
  sleep 2.5
  local t0=$(date +%s%3N)
  cl_stop b KILL
  echo "ts=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) level=info event=stopped killed=1" >> "$HG_SVC_DIR/cl-b/log"
  # Taken over by a and c: all 8 held again, within takeover_s (+1 s for
  # the state load and the sessions' connects on this shared machine).
  cl_wait_owned 8 $((CL_TAKEOVER_S + 5)) a c
  local t1=$(date +%s%3N)
  echo "takeover_ms=$((t1 - t0))" >&3
  [ $((t1 - t0)) -le $(( (CL_TAKEOVER_S + 1) * 1000 )) ]
  [ "$(( $(cl_metric a hazgate_cluster_takeovers_total) + $(cl_metric c hazgate_cluster_takeovers_total) ))" = "$held" ]
  wait "$pub"
  # b comes back: its spool and inbox journal are written (nothing lost),
  # and it takes its share again from the others.
  cl_start b
  cl_wait_owned 8 20 a b c
  check_fleet
  [ -z "$(cl_overlaps)" ]
}

@test "71 grow from 2 to 3 gateways and shrink back mid-stream: ownership moves, nothing lost or doubled" {
  reset_all
  cl_start a; cl_start b
  cl_wait_owned 8 20 a b
  [ "$(cl_metric a hazgate_cluster_partitions_owned)" = "4" ]
  publish 2000 &
  local pub=$!
  sleep 2
  cl_start c
  # c takes its share over: a and b give one each up, cleanly.
  for i in $(seq 1 100); do
    [ "$(cl_metric c hazgate_cluster_partitions_owned)" -ge 2 ] && break; sleep 0.2
  done
  [ "$(cl_metric c hazgate_cluster_partitions_owned)" -ge 2 ]
  [ "$(( $(cl_metric a hazgate_cluster_releases_total) + $(cl_metric b hazgate_cluster_releases_total) ))" -ge 2 ]
  [ "$(( $(cl_metric a hazgate_cluster_takeovers_total) + $(cl_metric b hazgate_cluster_takeovers_total) + $(cl_metric c hazgate_cluster_takeovers_total) ))" = "0" ]
  sleep 1
  # ... and leaves again (SIGTERM): a and b take its partitions back.
  [ "$(cl_stop c)" = "0" ]
  cl_wait_owned 8 20 a b
  wait "$pub"
  check_fleet
  [ "$(q "SELECT count(*) - count(DISTINCT (vehicle, ts, kind, zone_id)) FROM alerts")" = "0" ]
  [ "$(cl_metric a hazgate_lost_seq_total)" = "0" ]
  [ "$(cl_metric b hazgate_lost_seq_total)" = "0" ]
  # Given up on SIGTERM, not orphaned: no takeover.
  [ "$(( $(cl_metric a hazgate_cluster_takeovers_total) + $(cl_metric b hazgate_cluster_takeovers_total) ))" = "0" ]
  [ -z "$(cl_overlaps)" ]
  grep -q 'event=partition_released' "$HG_SVC_DIR/cl-a/log" "$HG_SVC_DIR/cl-b/log"
}
