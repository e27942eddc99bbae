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
