#!/usr/bin/env bats
# 17-gateway-spool-full: the spool's bound. With PostgreSQL away and a small
# spool (max_bytes = 4M), the gateway stops reading MQTT when the spool is
# full (log line, metric, /healthz 503), the broker keeps the persistent
# session's messages, and once the database is back the spool drains,
# reading resumes and every message is stored once.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() {
  export GW_EXTRA_CONF=''
  gw_setup_file
  sed -i 's/^max_bytes = 64M/max_bytes = 4M/' "$GWCONF"
  gw_start
}
teardown_file() { gw_teardown_file; }

@test "spool full: MQTT reading paused, then resumed; nothing lost" {
  # Three days of the fleet: about 10 MB of rows, more than the spool holds.
  for d in 10 11 12; do jq -c ".ts |= sub(\"2019-08-10\"; \"2019-08-$d\") | .seq += ($d - 10) * 1440" "$FLEET"; done > "$GWDIR/fleet3"
  pg_stop
  wait_log 'event=pg_lost'
  pub_paced "$GWDIR/fleet3" 10000 0
  wait_log 'event=spool_full'
  [ "$(metric hazgate_spool_full)" = "1" ]
  [ "$(metric hazgate_spool_bytes)" -le $((4 * 1024 * 1024)) ]
  local got=$(metric hazgate_messages_received_total)
  [ "$got" -lt $((3 * $(fleet_count))) ]
  run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_HTTP_PORT/healthz"
  [ "$output" = "503" ]
  # Paused: nothing more is read while the database is away.
  sleep 2
  [ "$(metric hazgate_messages_received_total)" = "$got" ]
  pg_start
  wait_log 'event=spool_room'
  wait_sql "SELECT count(*) FROM positions" "$((3 * $(fleet_count)))" 120
  [ "$(q "SELECT count(DISTINCT (vehicle, ts)) FROM positions")" = "$((3 * $(fleet_count)))" ]
  [ "$(metric hazgate_lost_seq_total)" = "0" ]
  [ "$(metric hazgate_spool_full)" = "0" ]
  run gw_stop
  [ "$output" = "0" ]
}

# A record that passes the spool's CRC but is no batch (a disk that lies, a
# buggy build) is never sent to PostgreSQL: set aside as
# unreadable-<id>.hgb, logged, counted; at most 64 copies are kept, so a
# spool full of them cannot fill the disk; and the gateway goes on.
@test "unreadable spool records are set aside, 64 copies at most, and the gateway goes on" {
  printf 'HGB1 this is not a batch' > "$GWDIR/junk"
  "$HG_BUILDDIR/tests/tools/spool-append" "$GWDIR/spool" 70 < "$GWDIR/junk"
  gw_start
  wait_log 'event=spool_record_unreadable'
  for i in $(seq 1 100); do [ "$(metric hazgate_spool_records_unreadable_total)" = "70" ] && break; sleep 0.1; done
  [ "$(metric hazgate_spool_records_unreadable_total)" = "70" ]
  [ "$(ls "$GWDIR/spool"/unreadable-*.hgb | wc -l)" = "64" ]
  [ "$(grep -c 'event=spool_record_unreadable' "$GWDIR/log")" = "70" ]
  [ "$(grep -c 'kept="no (64 kept already)"' "$GWDIR/log")" = "6" ]
  cmp "$GWDIR/junk" "$(ls "$GWDIR/spool"/unreadable-*.hgb | head -1)"
  # nothing of it reached the database, and live traffic is stored
  local before=$(q "SELECT count(*) FROM positions")
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/SA1/telemetry \
    -m '{"ts":"2020-01-01T00:00:00Z","lat":38.5,"lon":113.5,"seq":1}'
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'SA1'" "1"
  [ "$(q "SELECT count(*) FROM positions")" = "$((before + 1))" ]
  run gw_stop
  [ "$output" = "0" ]
}

# Issue 11 item 4: a tick that finds thousands of vehicles silent used to
# put every tracker_silent and every vehicle_state in one batch, larger
# than a spool record (max_bytes = 4M: records up to 1 MiB); the append
# failed, the spool was marked full for good and MQTT stayed paused.
@test "a large fleet gone silent: bounded batches, every tracker_silent stored, reading never stuck" {
  q "TRUNCATE positions_recent, positions_slices, vehicle_state, rejects; DELETE FROM alerts"
  cp "$GWCONF" "$GWDIR/conf.saved"
  printf '[geofence]\nsilent_after_s = 3\n[daemon]\ntick_ms = 200\n' >> "$GWCONF"
  gw_start
  "$HG_BUILDDIR/hazgate-load" simulate --vehicles 6000 --messages 6000 --seed 7 \
    --host "$HG_MQTT_HOST" --port "$HG_MQTT_PORT" > "$GWDIR/load.out" 2>&1
  wait_sql "SELECT count(*) FROM positions" "6000" 60
  wait_sql "SELECT count(*) FROM alerts WHERE kind = 'tracker_silent'" "6000" 60
  [ "$(metric hazgate_batches_split_total)" -gt 0 ]
  [ "$(metric hazgate_spool_full)" = "0" ]
  ! grep -q 'event=spool_append_failed' "$GWDIR/log"
  # Still reading.
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/SIL1/telemetry \
    -m '{"ts":"2020-01-01T00:00:00Z","lat":38.5,"lon":113.5,"seq":1}'
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'SIL1'" "1"
  run gw_stop
  [ "$output" = "0" ]
  grep -q 'event=stopped spool_pending=0 held=0' "$GWDIR/log"
  [ "$(q "SELECT count(*) FROM vehicle_state")" = "6001" ]
  cp "$GWDIR/conf.saved" "$GWCONF"
}

# Issue 11 item 5: with retry_limit = 1 a failing group of records used to
# set aside the group's first record (a good batch) again and again until
# the bad one came first, and kept none of them. Now the group is taken
# again one record at a time, only the bad record is set aside, as a file,
# and the operator gives it back by renaming it replay-<id>.hgb.
@test "retry_limit = 1: only the bad record is set aside, kept as a file, and replayed on request" {
  q "TRUNCATE positions_recent, positions_slices, vehicle_state, rejects; DELETE FROM alerts"
  rm -f "$GWDIR/spool"/set-aside-*.hgb "$GWDIR/spool"/replay-*.hgb
  cp "$GWCONF" "$GWDIR/conf.saved"
  sed -i 's/^flush_ms = 50$/flush_ms = 50\nretry_limit = 1/' "$GWCONF"
  grep -q '^retry_limit = 1' "$GWCONF"
  q "CREATE OR REPLACE FUNCTION hg_test_refuse() RETURNS trigger LANGUAGE plpgsql AS
     \$\$BEGIN IF NEW.vehicle = 'BAD1' THEN RAISE EXCEPTION 'refused for the test'; END IF;
     RETURN NEW; END\$\$;
     CREATE TRIGGER hg_test_refuse BEFORE INSERT ON positions_recent FOR EACH ROW EXECUTE FUNCTION hg_test_refuse()"
  # The fleet a week later, with one fix of BAD1 in the middle, published
  # while PostgreSQL is away: many batches wait, then go as groups.
  jq -c '.ts |= sub("2019-08-10"; "2019-08-17")' "$FLEET" > "$GWDIR/fleet7"
  { head -8000 "$GWDIR/fleet7"
    echo '{"vehicle":"BAD1","ts":"2019-08-17T01:00:00Z","lat":37.8,"lon":112.5}'
    tail -n +8001 "$GWDIR/fleet7"; } > "$GWDIR/fleet7b"
  gw_start
  pg_stop
  wait_log 'event=pg_lost'
  local before=$(metric hazgate_messages_received_total)
  pub_lines "$GWDIR/fleet7b"
  for i in $(seq 1 300); do
    [ "$(metric hazgate_messages_received_total)" = "$((before + $(fleet_count) + 1))" ] && break
    sleep 0.1
  done
  sleep 0.5
  pg_start
  wait_log 'event=batch_set_aside'
  for i in $(seq 1 300); do [ "$(metric hazgate_spool_pending_batches)" = "0" ] && break; sleep 0.1; done
  [ "$(metric hazgate_spool_pending_batches)" = "0" ]
  grep 'event=batch_set_aside' "$GWDIR/log" >&3 || true
  [ "$(grep -c 'event=batch_set_aside' "$GWDIR/log")" = "1" ]
  grep -q 'event=group_failed' "$GWDIR/log"
  [ "$(metric hazgate_batches_set_aside_total)" = "1" ]
  # Only the bad record's rows are missing, and they are in the file.
  local kept=$(grep -o 'event=batch_set_aside record=[0-9]* positions=[0-9]*' "$GWDIR/log" | sed 's/.*positions=//')
  local stored=$(q "SELECT count(*) FROM positions")
  [ "$((stored + kept))" = "$(( $(fleet_count) + 1 ))" ]
  [ "$(ls "$GWDIR/spool"/set-aside-*.hgb | wc -l)" = "1" ]
  # The operator removes the cause, gives the record back, restarts.
  q "DROP TRIGGER hg_test_refuse ON positions_recent"
  run gw_stop
  [ "$output" = "0" ]
  local f=$(ls "$GWDIR/spool"/set-aside-*.hgb)
  mv "$f" "$GWDIR/spool/replay-${f##*/set-aside-}"
  cp "$GWDIR/conf.saved" "$GWCONF"
  gw_start
  grep -q 'event=record_replayed' "$GWDIR/log"
  wait_sql "SELECT count(*) FROM positions" "$(( $(fleet_count) + 1 ))" 60
  [ "$(q "SELECT count(*) FROM positions WHERE vehicle = 'BAD1'")" = "1" ]
  [ -z "$(ls "$GWDIR/spool"/replay-*.hgb 2>/dev/null)" ]
  run gw_stop
  [ "$output" = "0" ]
}

# Issue 15: after the COPYs, the batch's statements (alerts, vehicle_state,
# the outbox DELETE, the positions' NOTIFY) and COMMIT go in one pipeline.
# A statement the server refuses in there fails the transaction as before:
# rolled back, the group taken again record by record, only the bad record
# set aside, and nothing of it stored.
@test "retry_limit = 1: a vehicle_state refused inside the pipeline sets aside only its record" {
  q "TRUNCATE positions_recent, positions_slices, vehicle_state, rejects; DELETE FROM alerts"
  rm -f "$GWDIR/spool"/set-aside-*.hgb "$GWDIR/spool"/replay-*.hgb
  cp "$GWCONF" "$GWDIR/conf.saved"
  sed -i 's/^flush_ms = 50$/flush_ms = 50\nretry_limit = 1/' "$GWCONF"
  grep -q '^retry_limit = 1' "$GWCONF"
  q "CREATE OR REPLACE FUNCTION hg_test_refuse_state() RETURNS trigger LANGUAGE plpgsql AS
     \$\$BEGIN IF NEW.vehicle = 'BAD2' THEN RAISE EXCEPTION 'state refused for the test'; END IF;
     RETURN NEW; END\$\$;
     CREATE TRIGGER hg_test_refuse_state BEFORE INSERT OR UPDATE ON vehicle_state
       FOR EACH ROW EXECUTE FUNCTION hg_test_refuse_state()"
  # Two weeks later, BAD2's first fix (its state goes in the same batch)
  # in the middle, published while PostgreSQL is away.
  jq -c '.ts |= sub("2019-08-10"; "2019-08-24")' "$FLEET" > "$GWDIR/fleet14"
  { head -8000 "$GWDIR/fleet14"
    echo '{"vehicle":"BAD2","ts":"2019-08-24T01:00:00Z","lat":37.8,"lon":112.5}'
    tail -n +8001 "$GWDIR/fleet14"; } > "$GWDIR/fleet14b"
  gw_start
  pg_stop
  wait_log 'event=pg_lost'
  local before=$(metric hazgate_messages_received_total)
  pub_lines "$GWDIR/fleet14b"
  for i in $(seq 1 300); do
    [ "$(metric hazgate_messages_received_total)" = "$((before + $(fleet_count) + 1))" ] && break
    sleep 0.1
  done
  sleep 0.5
  pg_start
  for i in $(seq 1 600); do [ "$(metric hazgate_batches_set_aside_total)" = "1" ] && break; sleep 0.1; done
  for i in $(seq 1 300); do [ "$(metric hazgate_spool_pending_batches)" = "0" ] && break; sleep 0.1; done
  [ "$(metric hazgate_spool_pending_batches)" = "0" ]
  [ "$(metric hazgate_batches_set_aside_total)" = "1" ]
  [ "$(ls "$GWDIR/spool"/set-aside-*.hgb | wc -l)" = "1" ]
  grep 'state refused for the test' "$GWDIR/log" | tail -1 >&3 || true
  grep -q 'state refused for the test' "$GWDIR/log"
  # The bad record's positions are not stored (rolled back with its state),
  # every other one is.
  local kept=$(grep -o 'event=batch_set_aside record=[0-9]* positions=[0-9]*' "$GWDIR/log" | tail -1 | sed 's/.*positions=//')
  [ "$kept" -ge 1 ]
  [ "$(q "SELECT count(*) FROM positions")" = "$(( $(fleet_count) + 1 - kept ))" ]
  [ "$(q "SELECT count(*) FROM positions WHERE vehicle = 'BAD2'")" = "0" ]
  [ "$(q "SELECT count(*) FROM vehicle_state WHERE vehicle = 'BAD2'")" = "0" ]
  [ "$(q "SELECT count(*) FROM vehicle_state")" -gt 0 ]
  q "DROP TRIGGER hg_test_refuse_state ON vehicle_state"
  cp "$GWDIR/conf.saved" "$GWCONF"
  run gw_stop
  [ "$output" = "0" ]
}
