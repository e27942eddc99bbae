#!/usr/bin/env bats
# 10-gateway-basics: the daemon's command line, scenario 01 (connect and
# subscribe: retained status, /healthz, /metrics) and scenario 03 (a bad
# payload of every ingest reason stored in `rejects` with its raw bytes, the
# daemon alive), against private PostgreSQL + mosquitto.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() { gw_setup_file; }
teardown_file() { gw_teardown_file; }

@test "--version, --help and --check-config" {
  run "$GW" --version
  [ "$status" -eq 0 ]
  [[ "$output" == "hazgate "* ]]
  run "$GW" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"silent_after_s"* ]]
  [[ "$output" == *"(SIGHUP reloads)"* ]]
  run "$GW" -c "$GWCONF" --check-config
  [ "$status" -eq 0 ]
  [[ "$output" == *": ok" ]]
}

@test "net_pg delivers a NOTIFY that came in with a statement's results, with nothing after it" {
  # Before the fix it stayed in libpq until the next read (there was none).
  run "$HG_BUILDDIR/tests/tools/pg-notify-probe" "$HG_PG_CONNINFO"
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [ "${lines[-1]}" = notified ] || { echo "$output" >&2; false; }
}

@test "a bad configuration names the file and line and exits 2" {
  printf '[mqtt]\nhost = x\n\n[postgres]\nbatch_rows = lots\n' > "$GWDIR/bad.conf"
  run "$GW" -c "$GWDIR/bad.conf" --check-config
  [ "$status" -eq 2 ]
  [[ "$output" == *"$GWDIR/bad.conf:5: [postgres] batch_rows = 'lots': not an integer"* ]]
  printf '[mqtt]\nclinet_id = x\n' > "$GWDIR/bad.conf"
  run "$GW" -c "$GWDIR/bad.conf"
  [ "$status" -eq 2 ]
  [[ "$output" == *"bad.conf:2: unknown key 'clinet_id' in [mqtt]"* ]]
}

@test "an old schema is refused at start, naming the missing migration" {
  q "CREATE DATABASE old"
  psql -XqAt -d old -c "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()); INSERT INTO schema_migrations (version, name) VALUES (1, '001_base')"
  sed "s/dbname=hazgate/dbname=old/; s/^client_id = .*/client_id = hazgate-old/" "$GWCONF" > "$GWDIR/old.conf"
  run timeout 20 "$GW" -c "$GWDIR/old.conf"
  [ "$status" -eq 1 ]
  [[ "$output" == *"event=schema_refused"*"migration 002_gateway_seq is missing"* ]]
}

@test "01 connect and subscribe: retained online status, healthz 200, metrics" {
  gw_start
  run mosquitto_sub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -t 'hazgate/status/hazgate-test' -C 1 -W 5
  [ "$status" -eq 0 ]
  [ "$output" = "online" ]
  run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_HTTP_PORT/healthz"
  [ "$output" = "200" ]
  [ "$(metric hazgate_mqtt_connected)" = "1" ]
  [ "$(metric hazgate_postgres_connected)" = "1" ]
  [ "$(metric hazgate_zones)" = "10" ]
  # The broker has our persistent session's three QoS 1 subscriptions.
  grep -q 'event=mqtt_connected .* subscriptions=3' "$GWDIR/log"
  # ... and has answered all three (gw_start waited for this line)
  grep -q 'event=mqtt_receiving subscriptions=3' "$GWDIR/log"
  [ "$(grep -n 'event=mqtt_connected' "$GWDIR/log" | head -1 | cut -d: -f1)" -lt \
    "$(grep -n 'event=mqtt_receiving' "$GWDIR/log" | head -1 | cut -d: -f1)" ]
}

@test "03 bad payloads of every reason are stored in rejects, the daemon goes on" {
  local n=0
  while IFS=$'\t' read -r reason topic payload; do
    case "$reason" in \#*|'') continue ;; esac
    mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t "$topic" -m "$payload"
    n=$((n + 1))
  done < "$HG_SRCDIR/tests/data/gateway/bad-payloads.tsv"
  # Raw bytes: invalid UTF-8 (jansson refuses the whole text: not_json),
  # and a payload over 64 KiB.
  printf '{"vehicle":"T\xff1","ts":"2020-01-01T00:00:00Z","lat":37.5,"lon":112.5}' > "$GWDIR/utf8.bin"
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/T1/telemetry -f "$GWDIR/utf8.bin"
  head -c 70000 /dev/zero | tr '\0' ' ' > "$GWDIR/large.bin"
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/T1/telemetry -f "$GWDIR/large.bin"
  n=$((n + 2))
  # And one good fix after them all.
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/T9/telemetry \
    -m '{"ts":"2020-01-01T00:00:00Z","lat":37.5,"lon":112.5,"seq":1}'
  wait_sql "SELECT count(*) FROM rejects" "$n"
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'T9'" "1"
  # Every reason is there, with its topic and its exact bytes.
  while IFS=$'\t' read -r reason topic payload; do
    case "$reason" in \#*|'') continue ;; esac
    [ "$(psql -XqAt -v r="$reason" -v t="$topic" -v p="$payload" <<< "SELECT count(*) FROM rejects WHERE reason = :'r' AND topic = :'t' AND payload = convert_to(:'p', 'UTF8')")" = "1" ] ||
      { echo "reason $reason not stored"; q "SELECT reason, topic FROM rejects"; return 1; }
  done < "$HG_SRCDIR/tests/data/gateway/bad-payloads.tsv"
  [ "$(q "SELECT count(*) FROM rejects WHERE reason = 'too_large' AND octet_length(payload) = 70000")" = "1" ]
  # The raw bytes are kept exactly.
  [ "$(q "SELECT count(*) FROM rejects WHERE reason = 'not_json' AND encode(payload, 'hex') = '$(od -An -tx1 -v "$GWDIR/utf8.bin" | tr -d ' \n')'")" = "1" ]
  [ "$(q "SELECT convert_from(payload, 'UTF8') FROM rejects WHERE reason = 'not_object'")" = "[1,2,3]" ]
  # Counted by reason, and alive.
  [ "$(metric 'hazgate_messages_rejected_total{reason="not_json"}')" = "2" ]
  [ "$(curl -s "http://127.0.0.1:$GW_HTTP_PORT/metrics" | grep -c 'hazgate_messages_rejected_total{reason="[a-z_0-9]*"} 1$')" -eq "$((n - 2))" ]
  kill -0 "$(gw_pid)"
}

@test "SIGTERM after the test: drained, exit 0, offline status retained" {
  run gw_stop
  [ "$output" = "0" ]
  run mosquitto_sub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -t 'hazgate/status/hazgate-test' -C 1 -W 5
  [ "$output" = "offline" ]
}

@test "runs as a login of the hazgate_gateway role (least privilege)" {
  q "CREATE ROLE t_gw LOGIN IN ROLE hazgate_gateway"
  sed "s/user=postgres/user=t_gw/; s/^client_id = .*/client_id = hazgate-role/" "$GWCONF" > "$GWDIR/role.conf"
  rm -rf "$GWDIR/spool"
  "$GW" -c "$GWDIR/role.conf" >>"$GWDIR/log" 2>&1 3>&- &
  local pid=$!
  gw_record_pid "$pid"
  wait_log 'client_id=hazgate-role'
  head -100 "$FLEET" > "$GWDIR/head"
  pub_lines "$GWDIR/head"
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/R1/telemetry -m 'junk'
  wait_sql "SELECT count(*) FROM positions WHERE ts < '2019-08-11'" "100"
  # The same again: de-duplicated, with the role's rights.
  pub_lines "$GWDIR/head"
  wait_sql "SELECT count(*) FROM rejects WHERE topic = 'tankers/R1/telemetry'" "1"
  for i in $(seq 1 50); do [ "$(metric hazgate_batches_deduplicated_total)" -ge 1 ] && break; sleep 0.1; done
  [ "$(metric hazgate_batches_deduplicated_total)" -ge 1 ]
  [ "$(q "SELECT count(*) FROM positions WHERE ts < '2019-08-11'")" = "100" ]
  [ "$(q "SELECT count(*) FROM vehicle_state WHERE vehicle LIKE '晋%'")" = "12" ]
  [ "$(q "SELECT count(*) FROM alerts")" -gt 0 ]
  kill -TERM "$pid"
  wait "$pid"
}

@test "host names: localhost for the broker and PostgreSQL, resolved without blocking the loop" {
  sed -e "s/^host = .*/host = localhost/" -e "s/host=127.0.0.1/host=localhost/" \
      -e "s/^client_id = .*/client_id = hazgate-names/" -e "s/^level = .*/level = debug/" \
      "$GWCONF" > "$GWDIR/names.conf"
  grep -q '^host = localhost' "$GWDIR/names.conf"
  grep -q 'host=localhost' "$GWDIR/names.conf"
  rm -rf "$GWDIR/spool"
  "$GW" -c "$GWDIR/names.conf" >>"$GWDIR/log" 2>&1 3>&- &
  local pid=$!
  gw_record_pid "$pid"
  wait_log 'client_id=hazgate-names'
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/N1/telemetry \
    -m "{\"ts\":\"$(date -u +%Y-%m-%dT%H:%M:%S.000Z)\",\"lat\":38.5,\"lon\":113.5,\"seq\":1}"
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'N1'" "1"
  grep -q 'event=pg_resolved.*addr=127.0.0.1' "$GWDIR/log"
  grep -q 'event=mqtt_resolved.*addr=127.0.0.1' "$GWDIR/log"
  kill -TERM "$pid"
  wait "$pid"
}

# segs_out: TCP segments the gateway has sent the broker (ss -i of its one
# connection to the broker's port).
segs_out() {
  ss -tniH state established "( dport = :$HG_MQTT_PORT )" -p | grep -A1 "pid=$(gw_pid)," \
    | grep -o 'segs_out:[0-9]*' | head -1 | cut -d: -f2
}

# wakeups: times the gateway's threads went to sleep so far
wakeups() {
  cat /proc/"$(gw_pid)"/task/*/status | awk '$1 == "voluntary_ctxt_switches:" { s += $2 } END { print s }'
}

@test "at 2,000 msg/s the gateway wakes up once for several messages, and acknowledges them in one segment (issue 15)" {
  kill -0 "$(gw_pid)" 2>/dev/null || gw_start
  local before=$(metric hazgate_messages_received_total) w0 w1 s0 s1 start
  start=$(date -u -d "@$(( $(date +%s) - 100 ))" +%Y-%m-%dT%H:%M:%SZ)
  w0=$(wakeups); s0=$(segs_out)
  "$HG_BUILDDIR/hazgate-load" simulate --host "$HG_MQTT_HOST" --port "$HG_MQTT_PORT" \
    --vehicles 200 --messages 4000 --seed 3 --first-vehicle 5000 --start "$start" --rate 2000 \
    > "$GWDIR/paced.out" 2>&1
  for _ in $(seq 1 100); do
    [ "$(metric hazgate_messages_received_total)" -ge $((before + 4000)) ] && break; sleep 0.05
  done
  [ "$(metric hazgate_messages_received_total)" -ge $((before + 4000)) ]
  w1=$(wakeups); s1=$(segs_out)
  echo "# wake-ups for 4,000 messages at 2,000/s: $((w1 - w0)); segments to the broker: $((s1 - s0))" >&3
  # Read coalescing (7 ms) on a precise clock: about one wake-up in eight
  # messages, the writer's and timers' included (468-472 here; 561-577
  # with 5 ms); 1,412-1,498 before (2 ms, and libevent's coarse clock,
  # which made each wait two).
  [ $((w1 - w0)) -lt 800 ]
  # Each read's PUBACKs corked into one segment: 597-604 segments, ACKs
  # included; 1,744-1,837 before (a segment a PUBACK, each waking the
  # broker).
  [ $((s1 - s0)) -lt 1300 ]
  run gw_stop
  [ "$output" = "0" ]
}
