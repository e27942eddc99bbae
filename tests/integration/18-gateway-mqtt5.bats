#!/usr/bin/env bats
# 18-gateway-mqtt5: the same persistent session over MQTT 5 (protocol = 5:
# session expiry set, clean start off): messages published while the
# gateway is stopped are delivered when it comes back.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() {
  export GW_EXTRA_CONF=''
  gw_setup_file
  sed -i 's/^client_id = hazgate-test/client_id = hazgate-test\nprotocol = 5/' "$GWCONF"
  gw_start
}
teardown_file() { gw_teardown_file; }

pubfix() {
  mosquitto_pub -V mqttv5 -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/M5/telemetry \
    -m "{\"ts\":\"$1\",\"lat\":38.5,\"lon\":113.5,\"seq\":$2}"
}

@test "MQTT 5: messages published while the gateway is down arrive after its restart" {
  grep -q 'event=mqtt_connected' "$GWDIR/log"
  pubfix 2020-01-01T00:00:00Z 1
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'M5'" "1"
  run gw_stop
  [ "$output" = "0" ]
  pubfix 2020-01-01T00:00:05Z 2
  pubfix 2020-01-01T00:00:10Z 3
  gw_start
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'M5'" "3"
  [ "$(metric hazgate_lost_seq_total)" = "0" ]
  run gw_stop
  [ "$output" = "0" ]
}

# A reconnect must keep the session persistent too: in MQTT 5 a CONNECT
# without the session-expiry property means expiry 0, and the broker would
# drop the session (subscriptions and queue) when that link ends.
@test "MQTT 5: after a reconnect (broker restarted) the session still outlives a SIGKILL" {
  gw_start
  pubfix 2020-01-02T00:00:00Z 4
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'M5'" "4"
  mqtt_stop
  mqtt_start
  # Connected once at start, once more after the restart.
  for i in $(seq 1 100); do [ "$(metric hazgate_mqtt_connects_total)" = "2" ] && break; sleep 0.1; done
  [ "$(metric hazgate_mqtt_connects_total)" = "2" ]
  pubfix 2020-01-02T00:00:05Z 5
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'M5'" "5"
  # The link ends without a DISCONNECT: the broker keeps the session only
  # if the reconnect asked for it.
  run gw_stop KILL
  [ "$output" = "137" ]
  for s in 6 7 8 9 10; do pubfix "$(printf "2020-01-02T00:01:%02dZ" "$s")" "$s"; done
  gw_start
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'M5'" "10"
  [ "$(metric hazgate_lost_seq_total)" = "0" ]
  run gw_stop
  [ "$output" = "0" ]
}
