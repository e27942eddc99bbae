#!/usr/bin/env bats
# 11-gateway-fleet: scenario 02. The sample fleet (../shared/data, 17,280
# native fixes of 12 tankers) published QoS 1: every fix stored once with
# the zones it was in (equal to `hazgate-ctl replay --positions`), the
# alerts in PostgreSQL equal to the replay's and to the independent
# PostGIS expectation, each alert also received on MQTT and by a LISTEN on
# hazgate_alerts, byte for byte the replay's JSON apart from the id.
# tracker_silent/resumed are left out of the comparison: the daemon judges
# silence by the wall clock (the 2019 sample is years old), replay by gaps.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() {
  gw_setup_file
  gw_start
  # Subscribers first: alerts on MQTT, and NOTIFY hazgate_alerts; both are
  # in place before the first fix is published (no guess at how long they
  # take to start). MQTT: a persistent QoS 1 session, subscribed by a first
  # mosquitto_sub that returns once the subscription is acknowledged (-E),
  # so that the broker keeps for it whatever comes before the second one
  # connects. NOTIFY: the listener prints "listening" after its LISTEN.
  mosquitto_sub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -c -i t11-alerts \
    -t 'hazgate/alerts/#' -E
  mosquitto_sub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -c -i t11-alerts \
    -t 'hazgate/alerts/#' -v > "$GWDIR/alerts.mqtt" 2>/dev/null 3>&- &
  echo $! > "$HG_SVC_DIR/sub.pid"
  ( echo 'LISTEN hazgate_alerts;'; echo "SELECT 'listening';"
    while sleep 0.2; do echo 'SELECT 1;'; done ) |
    psql -XqAt > "$GWDIR/alerts.notify" 2>&1 3>&- &
  echo $! > "$HG_SVC_DIR/listen.pid"
  for i in $(seq 1 300); do grep -qx listening "$GWDIR/alerts.notify" && break; sleep 0.1; done
  grep -qx listening "$GWDIR/alerts.notify"
  pub_lines "$FLEET"
  wait_sql "SELECT count(*) FROM positions" "$(fleet_count)" 60
  "$CTL" replay --zones "$ZONES" --config "$GWCONF" --positions "$GWDIR/replay-positions.csv" \
    "$FLEET" > "$GWDIR/replay.ndjson" 2>/dev/null
}

teardown_file() { gw_teardown_file; }

# Alerts of the replay, without tracker_*, as "kind vehicle ts zone_id" lines.
replay_keys() {
  jq -r 'select(.kind | startswith("tracker_") | not) | "\(.kind) \(.vehicle) \(.ts) \(.zone_id)"' \
    "$GWDIR/replay.ndjson" | sort
}

@test "02 every fix is stored once, with the zones the replay computes" {
  [ "$(q "SELECT count(*) FROM positions")" = "$(fleet_count)" ]
  [ "$(q "SELECT count(DISTINCT (vehicle, ts)) FROM positions")" = "$(fleet_count)" ]
  q "CREATE TABLE replay_pos (LIKE positions INCLUDING DEFAULTS)"
  head -1 "$GWDIR/replay-positions.csv" > "$GWDIR/cols"
  psql -XqAt -c "\\copy replay_pos ($(cat "$GWDIR/cols")) FROM '$GWDIR/replay-positions.csv' CSV HEADER"
  [ "$(q "SELECT count(*) FROM replay_pos")" = "$(fleet_count)" ]
  # Same (vehicle, ts, lat, lon, speed, seq, zone_ids) everywhere; some fixes are in zones.
  [ "$(q "SELECT count(*) FROM (SELECT vehicle, ts, lat, lon, speed_kmh, seq, zone_ids FROM positions EXCEPT SELECT vehicle, ts, lat, lon, speed_kmh, seq, zone_ids FROM replay_pos) d")" = "0" ]
  [ "$(q "SELECT count(*) FROM positions WHERE zone_ids <> '{}'")" -gt 1000 ]
}

@test "02 alerts in PostgreSQL equal the replay's and the PostGIS expectation" {
  wait_sql "SELECT count(*) FROM alerts WHERE kind NOT LIKE 'tracker_%'" "$(replay_keys | wc -l)"
  diff <(replay_keys) <(q "SELECT kind || ' ' || vehicle || ' ' || to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') || ' ' || coalesce(zone_id::text, 'null') FROM alerts WHERE kind NOT LIKE 'tracker_%'" | sort)
  diff <(jq -r '"\(.kind) \(.vehicle) \(.ts) \(.zone_id)"' "$HG_SHARED/data/expected-sample.ndjson" | sort) \
       <(q "SELECT kind || ' ' || vehicle || ' ' || to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') || ' ' || coalesce(zone_id::text, 'null') FROM alerts WHERE kind IN ('zone_enter', 'zone_exit', 'prohibited_entry', 'route_deviation')" | sort)
}

@test "02 each alert is published on hazgate/alerts/<vehicle> with its id, as the replay's JSON" {
  local n=$(q "SELECT count(*) FROM alerts")
  for i in $(seq 1 50); do [ "$(wc -l < "$GWDIR/alerts.mqtt")" -ge "$n" ] && break; sleep 0.2; done
  [ "$(wc -l < "$GWDIR/alerts.mqtt")" -eq "$n" ]
  # Topic names the vehicle; ids are the table's.
  awk '{ split($1, t, "/"); print t[3] }' "$GWDIR/alerts.mqtt" > "$GWDIR/topics"
  cut -d' ' -f2- "$GWDIR/alerts.mqtt" > "$GWDIR/payloads"
  diff "$GWDIR/topics" <(jq -r .vehicle "$GWDIR/payloads")
  diff <(jq -r .id "$GWDIR/payloads" | sort -n) <(q "SELECT id FROM alerts ORDER BY id")
  # Byte for byte the replay's text apart from the id.
  diff <(grep -v '"kind":"tracker_' "$GWDIR/replay.ndjson" | sed 's/^{"id":null,//' | sort) \
       <(grep -v '"kind":"tracker_' "$GWDIR/payloads" | sed 's/^{"id":[0-9]*,//' | sort)
}

@test "02 each alert is announced by NOTIFY hazgate_alerts after its commit" {
  local n=$(q "SELECT count(*) FROM alerts")
  for i in $(seq 1 50); do [ "$(grep -c 'Asynchronous notification "hazgate_alerts"' "$GWDIR/alerts.notify")" -ge "$n" ] && break; sleep 0.2; done
  [ "$(grep -c 'Asynchronous notification "hazgate_alerts"' "$GWDIR/alerts.notify")" -eq "$n" ]
  diff <(sed -n 's/.*with payload "\(.*\)" received from server.*/\1/p' "$GWDIR/alerts.notify" | jq -r .id | sort -n) \
       <(q "SELECT id FROM alerts ORDER BY id")
}

@test "02 the fixes went in binary COPY (gw_copybin.c): no group of the fleet was sent as text" {
  [ -s "$GWDIR/log" ]
  [ "$(q "SELECT count(*) FROM positions")" = "$(fleet_count)" ]
  run grep -c 'event=positions_as_text' "$GWDIR/log"
  [ "$output" = 0 ]
}

@test "02 counters agree, no seq lost, vehicle_state saved" {
  [ "$(metric hazgate_messages_received_total)" = "$(fleet_count)" ]
  [ "$(metric hazgate_positions_written_total)" = "$(fleet_count)" ]
  # Published = acknowledged by the broker (PUBACK): the last may be on the way.
  local n=$(q "SELECT count(*) FROM alerts")
  for i in $(seq 1 50); do [ "$(metric hazgate_alerts_published_total)" = "$n" ] && break; sleep 0.1; done
  [ "$(metric hazgate_alerts_published_total)" = "$n" ]
  [ "$(metric hazgate_alerts_unpublished)" = "0" ]
  [ "$(metric hazgate_lost_seq_total)" = "0" ]
  wait_sql "SELECT count(*) FROM vehicle_state" "12"
  # At shutdown every vehicle's latest state is saved.
  run gw_stop
  [ "$output" = "0" ]
  [ "$(q "SELECT count(*) FROM vehicle_state v JOIN (SELECT vehicle, max(ts) ts, max(seq) seq FROM positions GROUP BY 1) p USING (vehicle) WHERE v.last_ts = p.ts AND v.last_seq = p.seq")" = "12" ]
}
