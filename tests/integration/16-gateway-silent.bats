#!/usr/bin/env bats
# 16-gateway-silent: scenario 10. A tracker that falls silent raises
# tracker_silent by the wall clock (a timer in the daemon, here with
# silent_after_s = 2), stored and published; its next fix raises
# tracker_resumed. The state survives a restart: a vehicle silent across it
# is still reported once. While the broker is away nobody is silent: the
# clock restarts at the reconnect.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() {
  export GW_EXTRA_CONF=$'[geofence]\nsilent_after_s = 2\n[daemon]\ntick_ms = 200'
  gw_setup_file
  gw_start
}
teardown_file() { gw_teardown_file; }

now_ts() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

fix() {
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t "tankers/$1/telemetry" \
    -m "{\"ts\":\"$(now_ts)\",\"lat\":38.5,\"lon\":113.5,\"seq\":$2}"
}

@test "10 a silent tracker raises tracker_silent by the wall clock, then tracker_resumed" {
  # The alert subscriber: a persistent QoS 1 session whose subscription is
  # in place (-E returns on the SUBACK) before the fix is sent, whenever the
  # second mosquitto_sub gets to connect.
  mosquitto_sub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -c -i t16-s1 -t 'hazgate/alerts/S1' -E
  mosquitto_sub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -c -i t16-s1 -t 'hazgate/alerts/S1' \
    -C 1 -W 20 > "$GWDIR/silent.mqtt" 2>/dev/null 3>&- &
  local sub=$!
  fix S1 1
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'S1'" "1"
  # The gateway received the fix between the fix's own time and now.
  local stored=$(now_ts)
  # Nothing yet; then, 2 s after the fix, the timer reports it. (A run so
  # slow that the 2 s are over already here may see it: never earlier.)
  [ "$(q "SELECT count(*) FROM alerts WHERE vehicle = 'S1'")" = "0" ] ||
    [ "$(q "SELECT clock_timestamp() - (SELECT ts FROM positions WHERE vehicle = 'S1') >= interval '2 s'")" = "t" ]
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'S1' AND kind = 'tracker_silent'" "1" 10
  # ts = the time the fix was received + 2 s, and it was received between
  # the fix's own time and the moment the test saw it stored.
  [ "$(q "SELECT ts - interval '2 s' BETWEEN (SELECT ts FROM positions WHERE vehicle = 'S1') AND '$stored' FROM alerts WHERE vehicle = 'S1'")" = "t" ]
  [ "$(q "SELECT severity FROM alerts WHERE vehicle = 'S1'")" = "warning" ]
  wait "$sub"
  [ "$(jq -r .kind "$GWDIR/silent.mqtt")" = "tracker_silent" ]
  [ "$(jq -r .id "$GWDIR/silent.mqtt")" = "$(q "SELECT id FROM alerts WHERE vehicle = 'S1'")" ]
  # Once only.
  sleep 1
  [ "$(q "SELECT count(*) FROM alerts WHERE vehicle = 'S1' AND kind = 'tracker_silent'")" = "1" ]
  fix S1 2
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'S1' AND kind = 'tracker_resumed'" "1" 10
}

@test "10 silence across a restart is still noticed, once" {
  fix S2 1
  wait_sql "SELECT count(*) FROM vehicle_state WHERE vehicle = 'S2'" "1"
  run gw_stop
  [ "$output" = "0" ]
  sleep 2.5
  gw_start
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'S2' AND kind = 'tracker_silent'" "1" 10
  # S1 resumed before the restart and has been silent since: reported again, once.
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'S1' AND kind = 'tracker_silent'" "2" 10
  sleep 1
  [ "$(q "SELECT count(*) FROM alerts WHERE vehicle = 'S2' AND kind = 'tracker_silent'")" = "1" ]
  run gw_stop
  [ "$output" = "0" ]
}

@test "10 no tracker_silent while the broker is away; the clock restarts at the reconnect" {
  gw_start
  fix S3 1
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'S3'" "1"
  local connects=$(metric hazgate_mqtt_connects_total)
  mqtt_stop
  # Twice silent_after_s without the broker: the gateway hears nobody,
  # which is not the trackers' fault.
  sleep 4
  [ "$(q "SELECT count(*) FROM alerts WHERE vehicle = 'S3'")" = "0" ]
  local back=$(now_ts)
  mqtt_start
  for i in $(seq 1 100); do [ "$(metric hazgate_mqtt_connects_total)" -gt "$connects" ] && break; sleep 0.1; done
  [ "$(metric hazgate_mqtt_connects_total)" -gt "$connects" ]
  [ "$(q "SELECT count(*) FROM alerts WHERE vehicle = 'S3'")" = "0" ]
  # Silent again 2 s after the reconnect, if it still says nothing.
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'S3' AND kind = 'tracker_silent'" "1" 10
  [ "$(q "SELECT ts - interval '2 s' >= '$back' FROM alerts WHERE vehicle = 'S3'")" = "t" ]
  run gw_stop
  [ "$output" = "0" ]
}
