#!/usr/bin/env bats
# 61-web-stream: hazgate-web's live stream (GET /api/v1/stream) against the
# real gateway, PostgreSQL and mosquitto: alerts the gateway committed
# arrive; after a forced disconnect, Last-Event-ID brings each alert
# committed meanwhile once, in order, then the live ones with no gap;
# acknowledgements and positions arrive; a client that does not read is
# dropped and the others go on; alerts committed while the stream's
# database connection was down are sent when it is back.

load "$HG_SRCDIR/tests/data/web/live.bash"

setup_file() {
  web_setup_file
  web_start
}
teardown_file() { web_teardown_file; }

teardown() { [ -n "${STREAM_PID:-}" ] && kill "$STREAM_PID" 2>/dev/null; STREAM_PID=; true; }

@test "the stream delivers an alert the gateway committed, as the alert JSON with its ack fields" {
  stream_open "$GWDIR/s1" -H 'Accept: text/event-stream'
  fixes S1 0 1
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'S1'" 1
  id=$(q "SELECT id FROM alerts WHERE vehicle = 'S1'")
  wait_grep 1 "^id: $id\$" "$GWDIR/s1"
  [ "$(alert_ids "$GWDIR/s1")" = "$id" ]
  data=$(grep -A2 "^id: $id\$" "$GWDIR/s1" | sed -n 's/^data: //p')
  [ "$(jq -r .kind <<< "$data")" = zone_enter ]
  [ "$(jq -r .vehicle <<< "$data")" = S1 ]
  [ "$(jq -r .zone_id <<< "$data")" = 100 ]
  [ "$(jq -r .zone <<< "$data")" = "Live checkpoint" ]
  [ "$(jq -r '.acked_at, .acked_by, .ack_note' <<< "$data" | sort -u)" = null ]
  grep -A1 "^id: $id\$" "$GWDIR/s1" | grep -qx 'event: alert'
}

@test "after a forced disconnect, Last-Event-ID gives every alert committed meanwhile once, then the live ones" {
  stream_open "$GWDIR/s2a"
  fixes S2 0 4
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'S2'" 4
  wait_grep 4 '^event: alert$' "$GWDIR/s2a"
  last=$(alert_ids "$GWDIR/s2a" | tail -1)
  kill "$STREAM_PID"; wait "$STREAM_PID" 2>/dev/null || true
  # committed while nobody listens: 30 alerts over two vehicles
  fixes S2 4 30
  fixes S3 0 31
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle IN ('S2', 'S3')" 65
  stream_open "$GWDIR/s2b" -H "Last-Event-ID: $last"
  # live ones while it replays and after
  fixes S4 0 21
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'S4'" 21
  want=$(q "SELECT string_agg(id::text, ' ' ORDER BY id) FROM alerts WHERE id > $last")
  n=$(wc -w <<< "$want")
  wait_grep "$n" '^event: alert$' "$GWDIR/s2b"
  sleep 1
  got=$(alert_ids "$GWDIR/s2b" | paste -sd' ')
  [ "$got" = "$want" ]
  [ "$(web_metric hazgate_web_stream_alerts_replayed_total)" -ge 61 ]
}

@test "no login: 401; a bad Last-Event-ID or query parameter: 400 with a JSON error" {
  run curl -s -o "$GWDIR/e401" -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/api/v1/stream"
  [ "$output" = 401 ]
  run curl -s -o "$GWDIR/e400" -w '%{http_code}' -H "$AUTH" -H 'Last-Event-ID: x1' "http://127.0.0.1:$WEB_PORT/api/v1/stream"
  [ "$output" = 400 ]
  [ "$(jq -r .error "$GWDIR/e400")" = "bad Last-Event-ID" ]
  run curl -s -o "$GWDIR/e400" -w '%{http_code}' -H "$AUTH" "http://127.0.0.1:$WEB_PORT/api/v1/stream?positions=2"
  [ "$output" = 400 ]
  [ "$(jq -r .error "$GWDIR/e400")" = "bad parameter positions" ]
}

@test "an acknowledgement arrives as an ack event with who and why" {
  stream_open "$GWDIR/s3"
  id=$(q "SELECT min(id) FROM alerts WHERE vehicle = 'S1'")
  q "SELECT hazgate_ack($id, 'driver called')" >/dev/null
  wait_grep 1 '^event: ack$' "$GWDIR/s3" || { stream_diag "$GWDIR/s3"; false; }
  data=$(grep -A1 '^event: ack$' "$GWDIR/s3" | sed -n 's/^data: //p')
  [ "$(jq -r .id <<< "$data")" = "$id" ]
  [ "$(jq -r .acked_by <<< "$data")" = postgres ]
  [ "$(jq -r .ack_note <<< "$data")" = "driver called" ]
  [ "$(jq -r .acked_at <<< "$data")" != null ]
  # an ack event carries no id: the client's Last-Event-ID stays an alert's
  ! grep -B1 '^event: ack$' "$GWDIR/s3" | grep -q '^id:'
}

@test "positions arrive, one event per fix when fixes are seconds apart, with the fix's zones" {
  stream_open "$GWDIR/s4"
  for i in 0 1 2; do
    mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/P1/telemetry \
      -m "{\"ts\":\"$(date -u -d "@$((T0 + i))" +%Y-%m-%dT%H:%M:%SZ)\",\"lat\":38.5,\"lon\":113.5,\"speed_kmh\":12.5,\"heading\":$((i * 10))}"
    sleep 1.2
  done
  wait_grep 3 '^data: {"vehicle":"P1"' "$GWDIR/s4"
  grep '^data: {"vehicle":"P1"' "$GWDIR/s4" | sed 's/^data: //' > "$GWDIR/p1"
  [ "$(jq -r .heading "$GWDIR/p1" | paste -sd,)" = 0,10,20 ]
  [ "$(jq -c .zone_ids "$GWDIR/p1" | sort -u)" = "[100]" ]
  [ "$(jq -r .speed_kmh "$GWDIR/p1" | sort -u)" = 12.5 ]
  [ "$(jq -r .ts "$GWDIR/p1" | head -1)" = "$(date -u -d "@$T0" +%Y-%m-%dT%H:%M:%S.000Z)" ]
  grep -B1 '"vehicle":"P1"' "$GWDIR/s4" | grep -q '^event: position$'
}

@test "a burst of fixes of one vehicle is coalesced: at most one position a second, the newest last" {
  stream_open "$GWDIR/s5"
  for i in $(seq 0 199); do
    printf '{"vehicle":"P2","ts":"%s","lat":38.9,"lon":113.9,"speed_kmh":%d}\n' \
      "$(date -u -d "@$((T0 + i))" +%Y-%m-%dT%H:%M:%SZ)" "$i"
  done > "$GWDIR/p2.ndjson"
  start=$(date +%s%N)
  pub_lines "$GWDIR/p2.ndjson" tankers/P2/telemetry
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'P2'" 200
  sleep 1.5
  secs=$(( ($(date +%s%N) - start) / 1000000000 + 1 ))
  n=$(grep -c '"vehicle":"P2"' "$GWDIR/s5")
  [ "$n" -ge 1 ]
  [ "$n" -le $((secs + 1)) ]
  # the last one sent is the newest fix
  [ "$(grep '"vehicle":"P2"' "$GWDIR/s5" | tail -1 | sed 's/^data: //' | jq -r .speed_kmh)" = 199 ]
  [ "$(web_metric hazgate_web_stream_positions_coalesced_total)" -ge 150 ]
}

@test "positions=0: no position events, alerts still" {
  stream_open "$GWDIR/s6" -G -d positions=0
  fixes S6 0 2
  wait_grep 1 '^event: alert$' "$GWDIR/s6"
  sleep 0.5
  ! grep -q '^event: position$' "$GWDIR/s6"
}

@test "a client that does not read is dropped; the others get everything" {
  python3 - "$WEB_PORT" "$TOKEN" > "$GWDIR/slow.out" 3>&- <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(("GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % sys.argv[2]).encode())
time.sleep(120)
PY
  slow=$!
  stream_open "$GWDIR/s7"
  d0=$(web_metric hazgate_web_stream_clients_dropped_total)
  # 4000 vehicles, 12 rounds more than a second apart: ~6 MB of events,
  # more than the slow client's socket buffers and the 1 MiB cap
  for r in $(seq 0 11); do
    ts=$(date -u -d "@$((T0 + r))" +%Y-%m-%dT%H:%M:%SZ)
    seq 1 4000 | awk -v ts="$ts" '{ printf "{\"vehicle\":\"Q%d\",\"ts\":\"%s\",\"lat\":38.1,\"lon\":113.1}\n", $1, ts }' \
      > "$GWDIR/q.ndjson"
    pub_lines "$GWDIR/q.ndjson" tankers/Q/telemetry
    sleep 1.1
  done
  wait_sql "SELECT count(*) FROM positions WHERE vehicle LIKE 'Q%'" 48000 60
  for i in $(seq 1 100); do
    [ "$(web_metric hazgate_web_stream_clients_dropped_total)" -gt "$d0" ] && break
    sleep 0.1
  done
  kill "$slow" 2>/dev/null || true
  [ "$(web_metric hazgate_web_stream_clients_dropped_total)" -gt "$d0" ]
  grep -q 'event=stream_client_dropped' "$WEB_LOG"
  # the reader got the last round of every vehicle and is still attached
  wait_grep 4000 "\"ts\":\"$(date -u -d "@$((T0 + 11))" +%Y-%m-%dT%H:%M:%S)" "$GWDIR/s7" 30
  [ "$(grep -c "\"vehicle\":\"Q[0-9]*\",\"ts\":\"$(date -u -d "@$((T0 + 11))" +%Y-%m-%dT%H:%M:%S)" "$GWDIR/s7")" = 4000 ]
  [ "$(grep -c '"vehicle":"Q' "$GWDIR/s7")" -ge 20000 ]
  kill -0 "$STREAM_PID"
}

@test "alerts committed while the stream's database connection was down arrive when it is back" {
  stream_open "$GWDIR/s8"
  pg_stop
  sleep 1
  # the gateway spools them; they are committed when PostgreSQL is back,
  # perhaps before the stream has listened again: it catches up
  fixes S8 0 6
  pg_start
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'S8'" 6 60
  want=$(q "SELECT string_agg(id::text, ' ' ORDER BY id) FROM alerts WHERE vehicle = 'S8'")
  wait_grep 6 '"vehicle":"S8","zone_id"' "$GWDIR/s8" 30 || { stream_diag "$GWDIR/s8"; false; }
  got=$(alert_ids "$GWDIR/s8" | paste -sd' ')
  [ "$got" = "$want" ]
}

@test "a catch-up that fails on a statement error is tried again, holding the live alerts: none is skipped" {
  stream_open "$GWDIR/s11"
  # S11A committed with no NOTIFY: only a catch-up can find it.
  q "INSERT INTO alerts (kind, severity, vehicle, zone_id, zone_name, ts, lat, lon, speed_kmh, detail)
     VALUES ('zone_enter', 'warning', 'S11A', 100, 'Live checkpoint', now(), 38.5, 113.5, 0, '{}')" >/dev/null
  # A lock holds the stream's next catch-up; cancelled there, it fails
  # with a statement error, not a lost link.
  psql -XqAt -v ON_ERROR_STOP=1 > "$GWDIR/lock.out" 2>&1 3>&- <<'SQL' &
BEGIN;
LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE;
SELECT pg_sleep(4) AS s11_lock_held;
COMMIT;
SQL
  local lk=$! n0
  wait_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%s11_lock_held%' AND state = 'active' AND pid <> pg_backend_pid()" 1
  n0=$(grep -c 'event=stream_catchup_failed' "$WEB_LOG" || true)
  q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hazgate-web-stream'" >/dev/null
  wait_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hazgate-web-stream' AND wait_event_type = 'Lock'" 1 20
  q "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'hazgate-web-stream' AND wait_event_type = 'Lock'" >/dev/null
  for _ in $(seq 1 50); do [ "$(grep -c 'event=stream_catchup_failed' "$WEB_LOG")" -gt "$n0" ] && break; sleep 0.1; done
  [ "$(grep -c 'event=stream_catchup_failed' "$WEB_LOG")" -gt "$n0" ]
  wait "$lk" || { cat "$GWDIR/lock.out" >&2; false; }
  # a live one after it
  fixes S11 0 1
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle IN ('S11', 'S11A')" 2
  want=$(q "SELECT string_agg(id::text, ' ' ORDER BY id) FROM alerts WHERE vehicle IN ('S11', 'S11A')")
  wait_grep 2 '^data: {"id":.*"vehicle":"S11A*"[,}]' "$GWDIR/s11" 30 || { stream_diag "$GWDIR/s11"; false; }
  got=$(alert_ids "$GWDIR/s11" S11 S11A | paste -sd' ')
  [ "$got" = "$want" ] || { echo "stream: '$got', committed: '$want'" >&2; stream_diag "$GWDIR/s11"; false; }
}

@test "alerts of two writers committing at once arrive each once, in id order: ids are handed out in commit order (020)" {
  stream_open "$GWDIR/s10"
  # A second writer, as a second gateway of a cluster would be: takes an
  # alert id, announces it, and commits 3 s later. Before 020 the
  # gateway's alert took the next id and committed first: the stream sent
  # it, and then skipped the lower id (a client has everything below the
  # last id it got; Last-Event-ID and the webhooks' cursors say the same).
  psql -XqAt -v ON_ERROR_STOP=1 > "$GWDIR/w2.out" 2>&1 3>&- <<'SQL' &
BEGIN;
WITH ins AS (INSERT INTO alerts (kind, severity, vehicle, zone_id, zone_name, ts, lat, lon, speed_kmh, detail)
             VALUES ('zone_enter', 'warning', 'S10B', 100, 'Live checkpoint', now(), 38.5, 113.5, 0, '{}')
             RETURNING id)
SELECT pg_notify('hazgate_alerts', '{"id":' || id || ',"kind":"zone_enter","vehicle":"S10B"}') FROM ins;
SELECT pg_sleep(3) AS second_writer_waits;
COMMIT;
SQL
  w2=$!
  wait_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%second_writer_waits%' AND state = 'active' AND pid <> pg_backend_pid()" 1
  fixes S10 0 1
  wait "$w2" || { cat "$GWDIR/w2.out" >&2; false; }
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle IN ('S10', 'S10B')" 2
  want=$(q "SELECT string_agg(id::text, ' ' ORDER BY id) FROM alerts WHERE vehicle IN ('S10', 'S10B')")
  wait_grep 2 '^data: {"id":.*"vehicle":"S10B*"[,}]' "$GWDIR/s10" 30 || { stream_diag "$GWDIR/s10"; false; }
  got=$(alert_ids "$GWDIR/s10" S10 S10B | paste -sd' ')
  [ "$got" = "$want" ] || { echo "stream: '$got', committed: '$want'" >&2; stream_diag "$GWDIR/s10"; false; }
}

@test "bench/bench_web.sh runs to the end at a small size and prints its figures" {
  rc=0
  HG_BENCH_WEB_SECONDS=10 HG_BENCH_WEB_VEHICLES=200 HG_BENCH_WEB_CLIENTS=5 \
  HG_BENCH_WEB_MESSAGES=2000 HG_BENCH_WEB_ROUNDS=1 \
    bash "$HG_SRCDIR/bench/bench_web.sh" > "$GWDIR/bench.out" 2> "$GWDIR/bench.err" || rc=$?
  [ "$rc" = 0 ] || { cat "$GWDIR/bench.err" >&2; false; }
  grep -q '^live_clients_connected_at_end=5 of 5$' "$GWDIR/bench.out"
  grep -qE '^web_cpu_us_per_delivered_position=[0-9.]+$' "$GWDIR/bench.out"
  grep -qE '^fix_to_client_latency_p99_ms=[0-9]+ ' "$GWDIR/bench.out"
  grep -qE '^gateway_throughput_ratio_boards_to_none_median=[0-9.]+ ' "$GWDIR/bench.out"
  # every position the feed sent was received
  sent=$(sed -n 's/^live_positions_delivered=\([0-9]*\) .*/\1/p' "$GWDIR/bench.out")
  got=$(sed -n 's/.*received by them: \([0-9]*\))$/\1/p' "$GWDIR/bench.out")
  [ "$sent" -gt 0 ] && [ "$sent" = "$got" ]
}
