#!/usr/bin/env bats
# 13-gateway-alert-outbox: every committed alert reaches a persistent QoS 1
# subscriber (the alert outbox, migration 006): across a broker outage,
# and across a SIGTERM or a SIGKILL of the gateway while the broker is
# away (the alerts committed, never published). Alerts of any length are
# published and announced (issue 11 item 6); SIGTERM does not wait for
# PUBACKs it cannot read (item 11); libpq's notices are log lines (item 12).
#
# Alerts that commit while the broker is away: PostgreSQL is stopped, fixes
# that raise them arrive (their batch waits in the spool), the broker
# stops, PostgreSQL starts again and the writer commits them.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() {
  export GW_EXTRA_CONF=$'[daemon]\ndrain_timeout_ms = 6000'
  gw_setup_file
  local f='{"type":"Feature","properties":{"id":200,"name":"Outbox checkpoint","kind":"restricted","radius_m":500},"geometry":{"type":"Point","coordinates":[113.5,38.5]}}'
  psql -XqAt -v f="$f" <<< "INSERT INTO zones (id, name, kind, feature) VALUES (200, 'Outbox checkpoint', 'restricted', :'f'::jsonb)"
  gw_start
}
teardown_file() { gw_teardown_file; }
# A failed case leaves the services and the gateway running for the next.
teardown() {
  kill -0 "$(cat "$HG_SVC_DIR/mosquitto.pid")" 2>/dev/null || mqtt_start
  as_pg "$PGBIN/pg_ctl" -D "$HG_SVC_DIR/pg/data" status >/dev/null 2>&1 || pg_start
  kill -0 "$(gw_pid)" 2>/dev/null || gw_start
}

# sub_open ID: a persistent QoS 1 session on hazgate/alerts/#, subscribed
# (-E returns on the SUBACK), so that the broker keeps its alerts.
sub_open() {
  mosquitto_sub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -c -i "$1" -t 'hazgate/alerts/#' -E
}
# sub_read ID N FILE: the session's next N alerts ("topic payload" lines).
sub_read() {
  mosquitto_sub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -c -i "$1" -t 'hazgate/alerts/#' \
    -v -C "$2" -W 30 > "$3" 2>/dev/null || true
}

# fix VEHICLE SEQ LAT: one native fix at lon 113.5 (lat 38.5: inside zone 200).
fix() {
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t "tankers/$1/telemetry" \
    -m "{\"ts\":\"2020-01-01T00:00:0${2}Z\",\"lat\":${3:-38.5},\"lon\":113.5,\"seq\":$2}"
}

# away_alerts PREFIX: alerts of vehicles PREFIX1..PREFIX3 committed while
# the broker is stopped: three zone_enter, and PREFIX1's zone_exit after
# its zone_enter (4 alerts). The broker is left stopped.
away_alerts() {
  local p=$1 before=$(metric hazgate_messages_received_total)
  pg_stop
  fix "${p}1" 1; fix "${p}2" 1; fix "${p}3" 1; fix "${p}1" 2 38.6
  for i in $(seq 1 100); do
    [ "$(metric hazgate_messages_received_total)" -ge $((before + 4)) ] && break; sleep 0.1
  done
  [ "$(metric hazgate_messages_received_total)" -ge $((before + 4)) ]
  sleep 0.3   # flush_ms: the batch is sealed into the spool
  mqtt_stop
  pg_start
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle LIKE '${p}_'" "4" 60
  [ "$(metric hazgate_mqtt_connected)" = "0" ]
}

# check_received PREFIX FILE: FILE has exactly the 4 alerts of PREFIX, by
# id, on their vehicle's topic, and PREFIX1's in ascending id order.
check_received() {
  local p=$1 f=$2
  cut -d' ' -f2- "$f" | jq -r .id | sort -n > "$f.ids"
  diff "$f.ids" <(q "SELECT id FROM alerts WHERE vehicle LIKE '${p}_' ORDER BY id")
  awk '{ split($1, t, "/"); print t[3] }' "$f" > "$f.topics"
  diff "$f.topics" <(cut -d' ' -f2- "$f" | jq -r .vehicle)
  diff <(grep "/${p}1 " "$f" | cut -d' ' -f2- | jq -r .id) \
       <(q "SELECT id FROM alerts WHERE vehicle = '${p}1' ORDER BY id")
}

@test "outbox: alerts committed while the broker is away are published when it returns" {
  sub_open t13-a
  away_alerts A
  [ "$(metric hazgate_alerts_unpublished)" = "4" ]
  [ "$(q "SELECT count(*) FROM alert_outbox o JOIN alerts a ON a.id = o.alert_id WHERE a.vehicle LIKE 'A_'")" = "4" ]
  mqtt_start
  sub_read t13-a 4 "$GWDIR/a.mqtt"
  check_received A "$GWDIR/a.mqtt"
  wait_sql "SELECT count(*) FROM alert_outbox" "0"
  for i in $(seq 1 50); do [ "$(metric hazgate_alerts_unpublished)" = "0" ] && break; sleep 0.1; done
  [ "$(metric hazgate_alerts_unpublished)" = "0" ]
  [ "$(metric hazgate_alerts_published_total)" = "4" ]
}

@test "outbox: committed, broker away, gateway SIGTERM: published after both restart" {
  sub_open t13-b
  away_alerts B
  run gw_stop
  [ "$output" = "0" ]
  mqtt_start
  gw_start
  sub_read t13-b 4 "$GWDIR/b.mqtt"
  check_received B "$GWDIR/b.mqtt"
  wait_sql "SELECT count(*) FROM alert_outbox" "0"
}

@test "outbox: committed, broker away, gateway SIGKILL (no PUBACK): published after both restart" {
  sub_open t13-c
  away_alerts C
  run gw_stop KILL
  [ "$output" = "137" ]
  mqtt_start
  gw_start
  sub_read t13-c 4 "$GWDIR/c.mqtt"
  check_received C "$GWDIR/c.mqtt"
  wait_sql "SELECT count(*) FROM alert_outbox" "0"
  [ "$(metric hazgate_alerts_unpublished)" = "0" ]
}

@test "outbox: an alert committed whose COMMIT answer was lost is published after PostgreSQL returns" {
  sub_open t13-l
  # What a connection lost during COMMIT leaves when the server had
  # committed: the alert and its outbox row stored, the gateway told the
  # transaction failed (it writes the batch again: the alert is no longer
  # new, so not published after that commit).
  local id=$(q "INSERT INTO alerts (kind, severity, vehicle, ts, detail) VALUES ('zone_enter', 'info', 'LOST1', '2020-01-03T00:00:00Z', '{}') RETURNING id")
  q "INSERT INTO alert_outbox (alert_id, vehicle, payload) VALUES ($id, 'LOST1', '{\"id\":$id,\"kind\":\"zone_enter\",\"vehicle\":\"LOST1\"}')"
  pg_stop
  pg_start
  sub_read t13-l 1 "$GWDIR/l.mqtt"
  [ "$(cut -d' ' -f2- "$GWDIR/l.mqtt" | jq -r .id)" = "$id" ]
  wait_sql "SELECT count(*) FROM alert_outbox" "0"
}

@test "outbox: a backlog of 1,200 alerts is replayed in pages, each vehicle's in order" {
  sub_open t13-p
  local before=$(metric hazgate_messages_received_total)
  for i in $(seq 1 400); do
    echo "{\"vehicle\":\"P$i\",\"ts\":\"2020-01-02T00:00:01Z\",\"lat\":38.5,\"lon\":113.5,\"seq\":1}"
    echo "{\"vehicle\":\"P$i\",\"ts\":\"2020-01-02T00:00:02Z\",\"lat\":38.6,\"lon\":113.5,\"seq\":2}"
    echo "{\"vehicle\":\"P$i\",\"ts\":\"2020-01-02T00:00:03Z\",\"lat\":38.5,\"lon\":113.5,\"seq\":3}"
  done > "$GWDIR/p.ndjson"
  pg_stop
  pub_lines "$GWDIR/p.ndjson"
  for i in $(seq 1 300); do
    [ "$(metric hazgate_messages_received_total)" -ge $((before + 1200)) ] && break; sleep 0.1
  done
  [ "$(metric hazgate_messages_received_total)" -ge $((before + 1200)) ]
  sleep 0.3
  mqtt_stop
  pg_start
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle LIKE 'P%'" "1200" 60
  [ "$(metric hazgate_alerts_unpublished)" = "1200" ]
  local n=$(grep -c 'event=alerts_replayed' "$GWDIR/log")
  mqtt_start
  sub_read t13-p 1200 "$GWDIR/p.mqtt"
  [ "$(grep -c . "$GWDIR/p.mqtt")" = "1200" ]
  diff <(cut -d' ' -f2- "$GWDIR/p.mqtt" | jq -r .id | sort -n) \
       <(q "SELECT id FROM alerts WHERE vehicle LIKE 'P%' ORDER BY id")
  # Per vehicle, in ascending id (zone_enter, zone_exit, zone_enter).
  cut -d' ' -f2- "$GWDIR/p.mqtt" | jq -r '"\(.vehicle) \(.id)"' |
    awk '$1 in last && $2 <= last[$1] { bad++ } { last[$1] = $2 } END { exit bad > 0 }'
  wait_sql "SELECT count(*) FROM alert_outbox" "0"
  [ "$(grep -c 'event=alerts_replayed' "$GWDIR/log")" -gt "$n" ]
}

@test "item 6: alerts longer than 4,096 and 8,000 bytes are stored, published and announced" {
  local n5=$(printf 'L%.0s' $(seq 1 5000)) n9=$(printf 'N%.0s' $(seq 1 9000))
  local z5='{"type":"Feature","properties":{"id":201,"name":"'$n5'","kind":"restricted","radius_m":500},"geometry":{"type":"Point","coordinates":[114.5,38.5]}}'
  local z9='{"type":"Feature","properties":{"id":202,"name":"'$n9'","kind":"restricted","radius_m":500},"geometry":{"type":"Point","coordinates":[115.5,38.5]}}'
  local before=$(grep -c 'event=zones_loaded' "$GWDIR/log")
  psql -XqAt -v f5="$z5" -v f9="$z9" -v n5="$n5" -v n9="$n9" \
    <<< "INSERT INTO zones (id, name, kind, feature) VALUES (201, :'n5', 'restricted', :'f5'::jsonb), (202, :'n9', 'restricted', :'f9'::jsonb)"
  for i in $(seq 1 100); do [ "$(grep -c 'event=zones_loaded' "$GWDIR/log")" -gt "$before" ] && break; sleep 0.1; done
  # Listeners: MQTT, NOTIFY, and hazgate-ctl alerts --follow.
  sub_open t13-long
  ( echo 'LISTEN hazgate_alerts;'; echo "SELECT 'listening';"
    while sleep 0.2; do echo 'SELECT 1;'; done ) | psql -XqAt > "$GWDIR/long.notify" 2>&1 3>&- &
  local listen=$!
  "$CTL" alerts --vehicle L2 --follow --format json > "$GWDIR/long.follow" 2>&1 3>&- &
  local follow=$!
  for i in $(seq 1 100); do grep -qx listening "$GWDIR/long.notify" && break; sleep 0.1; done
  sleep 0.5
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/L1/telemetry \
    -m '{"ts":"2020-01-01T00:00:00Z","lat":38.5,"lon":114.5,"seq":1}'
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/L2/telemetry \
    -m '{"ts":"2020-01-01T00:00:00Z","lat":38.5,"lon":115.5,"seq":1}'
  # Stored, positions with them (a NOTIFY too long no longer fails the transaction).
  wait_sql "SELECT count(*) FROM positions WHERE vehicle IN ('L1', 'L2')" "2" 30
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle IN ('L1', 'L2')" "2"
  # Published whole.
  sub_read t13-long 2 "$GWDIR/long.mqtt"
  [ "$(grep -c . "$GWDIR/long.mqtt")" = "2" ]
  [ "$(grep '^hazgate/alerts/L1 ' "$GWDIR/long.mqtt" | cut -d' ' -f2- | jq -r .zone)" = "$n5" ]
  [ "$(grep '^hazgate/alerts/L2 ' "$GWDIR/long.mqtt" | cut -d' ' -f2- | jq -r .zone)" = "$n9" ]
  # Announced: the JSON where it fits in a NOTIFY, else {"id":N}.
  local id1=$(q "SELECT id FROM alerts WHERE vehicle = 'L1'") id2=$(q "SELECT id FROM alerts WHERE vehicle = 'L2'")
  for i in $(seq 1 50); do [ "$(grep -c 'Asynchronous notification' "$GWDIR/long.notify")" -ge 2 ] && break; sleep 0.2; done
  sed -n 's/.*with payload "\(.*\)" received from server.*/\1/p' "$GWDIR/long.notify" > "$GWDIR/long.payloads"
  [ "$(jq -r 'select(.id == '"$id1"') | .zone' "$GWDIR/long.payloads")" = "$n5" ]
  [ "$(jq -c 'select(.id == '"$id2"')' "$GWDIR/long.payloads")" = "{\"id\":$id2}" ]
  # hazgate-ctl alerts --follow prints the long one.
  for i in $(seq 1 50); do grep -q "\"id\": *$id2" "$GWDIR/long.follow" && break; sleep 0.2; done
  kill "$follow" "$listen" 2>/dev/null || true
  jq -r 'select(.id == '"$id2"') | .zone' "$GWDIR/long.follow" | grep -qx "$n9"
  ! grep -q 'event=alert_publish_failed' "$GWDIR/log"
}

@test "item 11: SIGTERM with an alert in the last batch exits at once, without drain_timeout" {
  # A long flush_ms keeps the fix in the open batch: the drain seals it,
  # commits it and publishes its alert, whose PUBACK arrives on the socket
  # the drain no longer reads.
  run gw_stop
  [ "$output" = "0" ]
  sed -i 's/^flush_ms = .*/flush_ms = 3000/' "$GWCONF"
  gw_start
  local before=$(metric hazgate_messages_received_total)
  fix D1 1
  for i in $(seq 1 100); do [ "$(metric hazgate_messages_received_total)" -gt "$before" ] && break; sleep 0.02; done
  [ "$(q "SELECT count(*) FROM alerts WHERE vehicle = 'D1'")" = "0" ]
  local t0=$(date +%s%N)
  run gw_stop
  [ "$output" = "0" ]
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "# drain took $ms ms (drain_timeout_ms 6000)" >&3
  [ "$(q "SELECT count(*) FROM alerts WHERE vehicle = 'D1'")" = "1" ]
  [ "$ms" -lt 3000 ]
  ! grep -q 'event=drain_timeout' "$GWDIR/log"
  sed -i 's/^flush_ms = .*/flush_ms = 50/' "$GWCONF"
  gw_start
}

@test "positions wait positions_flush_ms; a batch's first alert brings it to flush_ms (issue 15)" {
  run gw_stop
  [ "$output" = "0" ]
  sed -i 's/^flush_ms = .*/flush_ms = 50\npositions_flush_ms = 6000/' "$GWCONF"
  gw_start
  local before=$(metric hazgate_messages_received_total) t0 ms
  fix PF1 1 30.0   # far from every zone: a position, no alert
  for i in $(seq 1 100); do [ "$(metric hazgate_messages_received_total)" -gt "$before" ] && break; sleep 0.02; done
  sleep 1
  # still in the open batch
  [ "$(q "SELECT count(*) FROM positions WHERE vehicle = 'PF1'")" = "0" ]
  t0=$(date +%s%N)
  fix PF2 1   # enters zone 200: an alert
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'PF2'" 1 10
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "# the alert committed $ms ms after its fix (positions_flush_ms 6000, flush_ms 50)" >&3
  [ "$ms" -lt 3000 ]
  # the waiting position went with it
  [ "$(q "SELECT count(*) FROM positions WHERE vehicle = 'PF1'")" = "1" ]
  run gw_stop
  [ "$output" = "0" ]
  sed -i '/^positions_flush_ms = /d' "$GWCONF"
  gw_start
}

@test "item 12: libpq's notices are log lines; no log line carries a tab" {
  # An immediate shutdown makes the server send each backend's
  # "terminating connection due to immediate shutdown command" notice.
  local n=$(grep -c 'event=pg_connected' "$GWDIR/log")
  as_pg "$PGBIN/pg_ctl" -D "$HG_SVC_DIR/pg/data" -m immediate -w stop >/dev/null
  wait_log 'event=pg_lost'
  pg_start
  for i in $(seq 1 100); do [ "$(grep -c 'event=pg_connected' "$GWDIR/log")" -gt "$n" ] && break; sleep 0.1; done
  [ "$(grep -c 'event=pg_connected' "$GWDIR/log")" -gt "$n" ]
  grep -q 'event=pg_notice .*immediate shutdown' "$GWDIR/log"
  # Every line is a log line: no raw "WARNING:  ..." from libpq.
  ! grep -v '^ts=' "$GWDIR/log"
  ! grep -q $'\t' "$GWDIR/log"
  run gw_stop
  [ "$output" = "0" ]
}
