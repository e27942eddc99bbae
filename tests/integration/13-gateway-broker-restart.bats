#!/usr/bin/env bats
# 13-gateway-broker-restart: scenario 05. mosquitto (persistence on, the
# project's mosquitto.conf) is restarted in the middle of the stream while
# messages are queued for the gateway's persistent session: the gateway
# reconnects with backoff, the broker hands over what it kept, nothing is
# lost and nothing is stored twice.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() { gw_setup_file; gw_start; }
teardown_file() { gw_teardown_file; }

@test "05 mosquitto restarted mid-stream with messages queued: nothing lost" {
  split -l 6000 "$FLEET" "$GWDIR/part."
  pub_lines "$GWDIR/part.aa"
  wait_sql "SELECT count(*) FROM positions" "6000"
  # The gateway stops reading; the next part is queued in the broker for its
  # persistent session; the broker restarts with that queue on disk.
  kill -STOP "$(gw_pid)"
  pub_lines "$GWDIR/part.ab"
  mqtt_stop
  mqtt_start
  kill -CONT "$(gw_pid)"
  wait_log 'event=mqtt_retry'
  for i in $(seq 1 100); do [ "$(metric hazgate_mqtt_connects_total)" = "2" ] && break; sleep 0.1; done
  [ "$(metric hazgate_mqtt_connects_total)" = "2" ]
  pub_lines "$GWDIR/part.ac"
  wait_sql "SELECT count(*) FROM positions" "$(fleet_count)" 60
  [ "$(q "SELECT count(DISTINCT (vehicle, ts)) FROM positions")" = "$(fleet_count)" ]
  [ "$(metric hazgate_lost_seq_total)" = "0" ]
  [ "$(metric hazgate_mqtt_connected)" = "1" ]
}

@test "05 the status topic says online again after the restart" {
  run mosquitto_sub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -t 'hazgate/status/hazgate-test' -C 1 -W 5
  [ "$output" = "online" ]
  run gw_stop
  [ "$output" = "0" ]
}
