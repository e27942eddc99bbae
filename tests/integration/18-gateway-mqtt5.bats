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
