#!/usr/bin/env bats
# 15-gateway-zones: scenario 08. Zones changed in the `zones` table reach a
# running gateway through NOTIFY hazgate_zones (and SIGHUP): new alerts
# follow the new zones without a restart; a bad zone set is refused with a
# log line and the old one stays in force.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() { gw_setup_file; gw_start; }
teardown_file() { gw_teardown_file; }

# fix VEHICLE TS SEQ: one native fix at a point far from the sample zones.
fix() {
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t "tankers/$1/telemetry" \
    -m "{\"ts\":\"$2\",\"lat\":38.5,\"lon\":113.5,\"speed_kmh\":30,\"seq\":$3}"
}

circle='{"type":"Feature","properties":{"id":100,"name":"New checkpoint","kind":"restricted","radius_m":500},"geometry":{"type":"Point","coordinates":[113.5,38.5]}}'

@test "08 a zone added to the table is in force for the next fix" {
  fix Z1 2020-01-01T00:00:00Z 1
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'Z1'" "1"
  [ "$(q "SELECT zone_ids FROM positions WHERE vehicle = 'Z1'")" = "{}" ]
  psql -XqAt -v f="$circle" <<< "INSERT INTO zones (id, name, kind, feature) VALUES (100, 'New checkpoint', 'restricted', :'f'::jsonb)"
  wait_log 'event=zones_loaded zones=11'
  fix Z1 2020-01-01T00:00:05Z 2
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'Z1' AND kind = 'zone_enter' AND zone_id = 100" "1"
  [ "$(q "SELECT zone_ids FROM positions WHERE vehicle = 'Z1' AND ts = '2020-01-01T00:00:05Z'")" = "{100}" ]
}

@test "08 a bad zone set is refused, logged, and the old one stays" {
  psql -XqAt <<< "UPDATE zones SET feature = jsonb_set(feature, '{geometry,coordinates}', '[[[113.0,38.0],[113.1,38.0],[113.1,38.1]]]') , kind = 'restricted' WHERE id = 9"
  wait_log 'event=zones_refused'
  grep 'event=zones_refused' "$GWDIR/log" | grep -q 'kept=11'
  [ "$(metric hazgate_zones)" = "11" ]
  [ "$(metric hazgate_zone_reload_failures_total)" -ge 1 ]
  # Still in force: leaving zone 100 raises its exit.
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/Z1/telemetry \
    -m '{"ts":"2020-01-01T00:00:10Z","lat":38.6,"lon":113.5,"seq":3}'
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'Z1' AND kind = 'zone_exit' AND zone_id = 100" "1"
  # Repair zone 9 (its original feature) for the next case.
  "$CTL" zones import "$ZONES" >/dev/null
  for i in $(seq 1 50); do [ "$(grep -c 'event=zones_loaded zones=11' "$GWDIR/log")" -ge 2 ] && break; sleep 0.1; done
  [ "$(grep -c 'event=zones_loaded zones=11' "$GWDIR/log")" -ge 2 ]
}

@test "08 a zone removed from the table no longer fires; SIGHUP reloads too" {
  # The start-up load said zones=10 too: wait for a new line, not any.
  local before=$(grep -c 'event=zones_loaded zones=10' "$GWDIR/log")
  q "DELETE FROM zones WHERE id = 100"
  for i in $(seq 1 100); do [ "$(grep -c 'event=zones_loaded zones=10' "$GWDIR/log")" -gt "$before" ] && break; sleep 0.1; done
  [ "$(grep -c 'event=zones_loaded zones=10' "$GWDIR/log")" -gt "$before" ]
  fix Z2 2020-01-01T00:00:00Z 1
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'Z2'" "1"
  [ "$(q "SELECT count(*) FROM alerts WHERE vehicle = 'Z2'")" = "0" ]
  [ "$(q "SELECT zone_ids FROM positions WHERE vehicle = 'Z2'")" = "{}" ]
  local n=$(grep -c 'event=zones_loaded' "$GWDIR/log")
  kill -HUP "$(gw_pid)"
  for i in $(seq 1 50); do [ "$(grep -c 'event=zones_loaded' "$GWDIR/log")" -gt "$n" ] && break; sleep 0.1; done
  [ "$(grep -c 'event=zones_loaded' "$GWDIR/log")" -gt "$n" ]
  grep -q 'event=config_reloaded needs_restart=0' "$GWDIR/log"
  run gw_stop
  [ "$output" = "0" ]
}
