#!/usr/bin/env bats
# 72-cluster-tracker: hazgate-tracker publishing to scripts/cluster-start's
# NATS cluster with the three nodes as its broker list ([mqtt] host =
# a, b, c). The node it is on is stopped mid-drive: it moves to the next
# node and sends its queue there; a persistent subscriber on the third node
# (after the partition mapping, hz/part/<k>/tankers/<vehicle>/telemetry)
# gets every payload the policy asks for, in order, once by seq.

# teardown: helpers.bash; setup_file and teardown_file are this file's own
# (the cluster instead of one mosquitto).
load "$HG_SRCDIR/tests/data/tracker/helpers.bash"

setup_file() {
  "$HG_SRCDIR/scripts/cluster-start" --no-pg --partitions 8 > "$BATS_FILE_TMPDIR/start.out"
  eval "$(cat "$BATS_FILE_TMPDIR/start.out")"
  export HG_SVC_DIR HG_CLUSTER_DIR HG_MQTT_HOST HG_MQTT_PORT HG_MQTT_HOSTS HG_NATS_MQTT_PORTS
  TRK_GPSD_PORT=$(trk_free_port)
  export TRK_GPSD_PORT
}
teardown_file() { "$HG_SRCDIR/scripts/cluster-stop" "$HG_CLUSTER_DIR"; }

mqtt_port() { cut -d, -f"$1" <<<"$HG_NATS_MQTT_PORTS"; }

@test "the tracker's NATS node stopped mid-drive: it moves to the next node of its list; everything arrives in order, once" {
  # node 1 first in the tracker's list; the subscriber on node 3
  sub=(-h 127.0.0.1 -p "$(mqtt_port 3)" -q 1 -c -i trk-cluster -t 'hz/part/+/tankers/+/telemetry')
  mosquitto_sub "${sub[@]}" -E
  mosquitto_sub "${sub[@]}" -v > "$HG_SVC_DIR/raw.out" 2>>"$HG_SVC_DIR/raw.err" 3>&- &
  echo $! > "$HG_SVC_DIR/sub-raw.pid"
  trk_config "$HG_SVC_DIR/t.conf" "[log]" "level = debug"
  # the broker list instead of the one host trk_config wrote
  sed -i "/^\[mqtt\]/,/^\[/ { s|^host = 127.0.0.1\$|host = $HG_MQTT_HOSTS|; /^port = /d }" "$HG_SVC_DIR/t.conf"
  grep -q "^host = 127.0.0.1:$(mqtt_port 1), " "$HG_SVC_DIR/t.conf"
  trk_start_tracker "$HG_SVC_DIR/t.conf"
  wait_until 10 trk_log_has "event=mqtt_connected host=127.0.0.1 port=$(mqtt_port 1) "
  trk_play 1 "$TRK_DRIVE" 0.01
  wait_until 30 eval '[ "$(grep -c telemetry "$HG_SVC_DIR/raw.out")" -ge 60 ]'
  kill -TERM "$(cat "$HG_CLUSTER_DIR/nats1.pid")"
  wait_until 20 trk_log_has "event=mqtt_connected host=127.0.0.1 port=$(mqtt_port 2) "
  trk_wait_play 1
  # the subscriber's lines as the tracker's checker reads them (the topic
  # before the mapping)
  stable() {
    local a b
    a=$(wc -l < "$HG_SVC_DIR/raw.out"); sleep 1.5; b=$(wc -l < "$HG_SVC_DIR/raw.out")
    [ "$a" = "$b" ]
  }
  wait_until 30 stable
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
  grep -q 'event=mqtt_lost' "$HG_SVC_DIR/tracker.log"
  sed -E 's|^hz/part/[0-9]+/tankers/|tankers/|' "$HG_SVC_DIR/raw.out" > "$HG_SVC_DIR/moved.out"
  [ "$(grep -c telemetry "$HG_SVC_DIR/moved.out")" -gt 300 ]
  run trk_check moved --policy "$TRK_POLICY" --first-seq 1 --max-dups 2
  echo "$output"
  [ "$status" -eq 0 ]
  grep -q "event=exit .* pending=0 " "$HG_SVC_DIR/tracker.log"
}
