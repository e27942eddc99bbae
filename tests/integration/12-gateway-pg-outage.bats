#!/usr/bin/env bats
# 12-gateway-pg-outage: scenario 04. PostgreSQL is stopped for 10 s in the
# middle of the sample fleet's stream and started again on the same port:
# meanwhile batches go to the on-disk spool, /healthz stays 200 (the spool
# absorbs), and once the database is back every message is stored exactly
# once and every alert once.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() { gw_setup_file; gw_start; }
teardown_file() { gw_teardown_file; }

@test "04 PostgreSQL stopped 10 s mid-stream: everything stored exactly once" {
  pub_paced "$FLEET" 1000 0.5 &
  local pub=$!
  wait_sql "SELECT count(*) > 0 FROM positions" "t"
  pg_stop
  local t0=$SECONDS
  wait_log 'event=pg_lost'
  # While the database is away the spool takes the batches.
  sleep 3
  [ "$(metric hazgate_postgres_connected)" = "0" ]
  [ "$(metric hazgate_spool_pending_batches)" -gt 0 ]
  run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_HTTP_PORT/healthz"
  [ "$output" = "200" ]
  sleep $((10 - (SECONDS - t0)))
  pg_start
  wait "$pub"
  wait_sql "SELECT count(*) FROM positions" "$(fleet_count)" 60
  [ "$(q "SELECT count(DISTINCT (vehicle, ts)) FROM positions")" = "$(fleet_count)" ]
  # Alerts once each (the unique key would refuse a second), as without the outage.
  "$CTL" replay --zones "$ZONES" --config "$GWCONF" "$FLEET" 2>/dev/null |
    jq -r 'select(.kind | startswith("tracker_") | not) | .kind' | sort | uniq -c > "$GWDIR/want"
  wait_sql "SELECT count(*) FROM alerts WHERE kind NOT LIKE 'tracker_%'" "$(awk '{ s += $1 } END { print s }' "$GWDIR/want")"
  diff "$GWDIR/want" <(q "SELECT kind FROM alerts WHERE kind NOT LIKE 'tracker_%'" | sort | uniq -c)
  wait_sql "SELECT count(*) FROM vehicle_state" "12"
  [ "$(metric hazgate_spool_pending_batches)" = "0" ]
  [ "$(metric hazgate_postgres_connected)" = "1" ]
  # The backlog went in groups: fewer transactions than batches.
  [ "$(metric hazgate_transactions_committed_total)" -lt "$(metric hazgate_batches_committed_total)" ]
  [ "$(metric hazgate_messages_received_total)" = "$(fleet_count)" ]
}

@test "04 after the outage: SIGTERM drains and exits 0" {
  run gw_stop
  [ "$output" = "0" ]
}

@test "started while PostgreSQL is down, the gateway waits, then runs" {
  pg_stop
  "$GW" -c "$GWCONF" >>"$GWDIR/log" 2>&1 3>&- &
  local pid=$!
  gw_record_pid "$pid"
  sleep 2
  kill -0 "$pid"
  # Not subscribed yet: the broker keeps the messages meanwhile.
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/W1/telemetry \
    -m '{"ts":"2020-01-01T00:00:00Z","lat":38.5,"lon":113.5,"seq":1}'
  run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_HTTP_PORT/healthz"
  [ "$output" = "503" ]
  pg_start
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'W1'" "1" 30
  kill -TERM "$pid"
  wait "$pid"
}
