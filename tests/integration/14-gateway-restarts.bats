#!/usr/bin/env bats
# 14-gateway-restarts: scenarios 06 (SIGTERM mid-stream: drained, exit 0,
# nothing lost), 09 (restart: no second zone_enter for vehicles already
# inside, thanks to vehicle_state) and 07 (SIGKILL mid-stream three times
# and restart: the inbox journal keeps what was taken, so nothing is lost
# and nothing duplicated).

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() { gw_setup_file; }
teardown_file() { gw_teardown_file; }

replay_counts() {
  "$CTL" replay --zones "$ZONES" --config "$GWCONF" "$1" 2>/dev/null |
    jq -r 'select(.kind | startswith("tracker_") | not) | .kind' | sort | uniq -c
}

db_counts() { q "SELECT kind FROM alerts WHERE kind NOT LIKE 'tracker_%'" | sort | uniq -c; }

@test "06 SIGTERM mid-stream: drained, exit 0; after a restart nothing is lost" {
  gw_start
  pub_paced "$FLEET" 1000 0.4 &
  local pub=$!
  wait_sql "SELECT count(*) >= 3000 FROM positions" "t"
  run gw_stop TERM
  [ "$output" = "0" ]
  grep -q 'event=stopped spool_pending=0 held=0' "$GWDIR/log"
  # Everything it took is in the database (drained, not left in the spool).
  [ "$(q "SELECT count(*) FROM positions")" -gt 0 ]
  gw_start
  wait "$pub"
  wait_sql "SELECT count(*) FROM positions" "$(fleet_count)" 60
  [ "$(metric hazgate_lost_seq_total)" = "0" ]
}

@test "09 restart: the alerts are exactly the replay's (no second zone_enter)" {
  replay_counts "$FLEET" > "$GWDIR/want"
  wait_sql "SELECT count(*) FROM alerts WHERE kind NOT LIKE 'tracker_%'" "$(awk '{ s += $1 } END { print s }' "$GWDIR/want")"
  diff "$GWDIR/want" <(db_counts)
  # Restart again, then one more fix per vehicle where it last was.
  local before=$(q "SELECT count(*) FROM alerts WHERE kind IN ('zone_enter', 'prohibited_entry')")
  local inside=$(q "SELECT count(*) FROM vehicle_state v JOIN positions p ON p.vehicle = v.vehicle AND p.ts = v.last_ts WHERE p.zone_ids <> '{}'")
  [ "$inside" -gt 0 ]
  run gw_stop
  [ "$output" = "0" ]
  gw_start
  grep -q 'event=vehicle_state_loaded vehicles=12 refused=0' "$GWDIR/log"
  jq -c -s 'group_by(.vehicle) | map(last | .ts = "2019-08-10T02:00:00.000Z" | .seq += 1) | .[]' "$FLEET" > "$GWDIR/more"
  pub_lines "$GWDIR/more"
  wait_sql "SELECT count(*) FROM positions" "$(( $(fleet_count) + 12 ))"
  sleep 0.5
  [ "$(q "SELECT count(*) FROM alerts WHERE kind IN ('zone_enter', 'prohibited_entry')")" = "$before" ]
  # The new fixes are in the same zones as before.
  [ "$(q "SELECT count(*) FROM positions WHERE ts = '2019-08-10T02:00:00Z' AND zone_ids <> '{}'")" = "$inside" ]
}

@test "07 SIGKILL mid-stream three times: 0 fixes and 0 alerts lost, nothing duplicated" {
  q "TRUNCATE positions_recent, positions_slices, vehicle_state, rejects; DELETE FROM alerts"   # alert_events (003) references alerts: no TRUNCATE
  run gw_stop
  [ "$output" = "0" ]
  rm -rf "$GWDIR/spool"
  # Another fleet: the same drive a day later (new keys), seq continuing,
  # published at a steady rate by hazgate-load (QoS 1; the broker keeps the
  # gateway's persistent session while it is down).
  jq -c '.ts |= sub("2019-08-10"; "2019-08-11") | .seq += 10000' "$FLEET" > "$GWDIR/fleet2"
  gw_start
  "$HG_BUILDDIR/hazgate-load" replay "$GWDIR/fleet2" --rate 1500 \
    --host "$HG_MQTT_HOST" --port "$HG_MQTT_PORT" > "$GWDIR/load.out" 2>&1 &
  local pub=$!
  for k in 1 2 3; do
    wait_sql "SELECT count(*) >= $((k * 3500)) FROM positions" "t" 60
    run gw_stop KILL
    [ "$output" = "137" ]
    gw_start
  done
  wait "$pub"
  # Every published fix stored once: none lost, none twice.
  wait_sql "SELECT count(*) FROM positions" "$(fleet_count)" 60
  [ "$(q "SELECT count(DISTINCT (vehicle, ts)) FROM positions")" = "$(fleet_count)" ]
  [ "$(metric hazgate_lost_seq_total)" = "0" ]
  # The journal gave back what the killed processes had taken.
  grep -q 'event=inbox_replayed messages=[1-9]' "$GWDIR/log"
  # Every alert the fleet raises, once.
  replay_counts "$GWDIR/fleet2" > "$GWDIR/want2"
  wait_sql "SELECT count(*) FROM alerts WHERE kind NOT LIKE 'tracker_%'" "$(awk '{ s += $1 } END { print s }' "$GWDIR/want2")"
  diff "$GWDIR/want2" <(db_counts)
  [ "$(q "SELECT count(*) FROM (SELECT vehicle, ts, kind, zone_id FROM alerts GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d")" = "0" ]
  run gw_stop
  [ "$output" = "0" ]
  # A clean stop leaves no journal behind.
  [ -z "$(ls "$GWDIR/spool/inbox")" ]
}

# Issue 11 item 9: a second fix with the same (vehicle, ts) used to vanish
# (ON CONFLICT DO NOTHING, no trace). The same values again (a redelivery
# after a crash) are a duplicate, counted; other values are a rejects row,
# reason duplicate_ts, the stored fix staying.
@test "a second fix for the same vehicle and ts: identical counts as a duplicate, different is a duplicate_ts reject" {
  gw_start
  local m1='{"vehicle":"DUP1","ts":"2019-08-12T00:00:00Z","lat":38.5,"lon":113.5,"speed_kmh":40,"seq":1}'
  local m2='{"vehicle":"DUP1","ts":"2019-08-12T00:00:00Z","lat":38.6,"lon":113.5,"speed_kmh":40,"seq":2}'
  echo "$m1" > "$GWDIR/dup1"
  pub_lines "$GWDIR/dup1"
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'DUP1'" "1"
  pub_lines "$GWDIR/dup1"
  wait_sql "SELECT count(*) FROM rejects WHERE reason = 'duplicate_ts'" "0"
  for i in $(seq 1 50); do [ "$(metric hazgate_positions_duplicate_total)" = "1" ] && break; sleep 0.1; done
  [ "$(metric hazgate_positions_duplicate_total)" = "1" ]
  echo "$m2" > "$GWDIR/dup2"
  pub_lines "$GWDIR/dup2"
  wait_sql "SELECT count(*) FROM rejects WHERE reason = 'duplicate_ts'" "1"
  # Two different fixes with one key in one batch: the first stored, the
  # second a reject.
  printf '%s\n%s\n' '{"vehicle":"DUP2","ts":"2019-08-12T00:00:00Z","lat":38.5,"lon":113.5}' \
    '{"vehicle":"DUP2","ts":"2019-08-12T00:00:00Z","lat":38.7,"lon":113.5}' > "$GWDIR/dup3"
  pub_lines "$GWDIR/dup3"
  wait_sql "SELECT count(*) FROM rejects WHERE reason = 'duplicate_ts'" "2"
  [ "$(q "SELECT lat FROM positions WHERE vehicle = 'DUP1'")" = "38.5" ]
  [ "$(q "SELECT lat FROM positions WHERE vehicle = 'DUP2'")" = "38.5" ]
  [ "$(q "SELECT count(*) FROM rejects WHERE reason = 'duplicate_ts' AND message LIKE 'a fix of DUP1 at % lat 38.6 %'")" = "1" ]
  [ "$(q "SELECT convert_from(payload, 'UTF8')::json->>'lat' FROM rejects WHERE reason = 'duplicate_ts' AND message LIKE 'a fix of DUP2%'")" = "38.7" ]
  [ "$(metric hazgate_positions_duplicate_total)" = "1" ]
  [ "$(metric hazgate_positions_duplicate_ts_total)" = "2" ]
  run gw_stop
  [ "$output" = "0" ]
}

@test "SIGKILL inside the message callback: the broker has no PUBACK, the session gets the message again" {
  # net_mqtt's client dies in its first on_message, where the gateway's
  # first step is the inbox journal: a PUBACK written before the callback
  # (libmosquitto 2.0's default) would lose that message.
  local die=$HG_BUILDDIR/tests/tools/mqtt-die
  "$HG_BUILDDIR/hazgate-load" count --host "$HG_MQTT_HOST" --port "$HG_MQTT_PORT" \
    --client-id die-test --topic die/test --subscribe-only
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t die/test -m first
  run "$die" "$HG_MQTT_HOST" "$HG_MQTT_PORT" die-test die/test
  [ "$status" = 137 ]
  run timeout 10 mosquitto_sub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -c -i die-test -q 1 \
    -t die/test -C 1 -W 5
  [ "$output" = "first" ]
}
