#!/usr/bin/env bats
# 50-jt808-server: hazgate-jt808's basics against the real pipeline
# (private PostgreSQL, mosquitto, the gateway): command line, 2013 and
# 2019 terminals registering, authenticating and reporting into
# `positions`, provisioning in SQL, bad frames answered and kept, the
# broker away (no acknowledgement until the broker has the fix), bounds.
# The fleet, load and restart scenarios are 51- onwards.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"
load "$HG_SRCDIR/tests/data/jt808/helpers.bash"

setup_file() {
  gw_setup_file
  gw_start
  jt_setup jtreg "[jt808]
unknown_terminals = register
max_connections_per_address = 3
idle_s = 10"
  jt_start jtreg
  jt_setup jtref
  jt_start jtref
}

teardown_file() {
  for n in jtreg jtref; do
    [ -s "$GWDIR/$n.pid" ] && kill "$(cat "$GWDIR/$n.pid")" 2>/dev/null || true
  done
  gw_stop >/dev/null || true
  gw_teardown_file
}

@test "--version, --help, --check-config and a bad line named" {
  run "$JT" --version
  [ "$status" -eq 0 ]
  [[ "$output" == "hazgate-jt808 "* ]]
  run "$JT" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"[jt808] unknown_terminals"* ]]
  [[ "$output" == *"[mqtt] reconnect_max_ms"* ]]
  run "$JT" -c "$GWDIR/jtreg.conf" --check-config
  [ "$status" -eq 0 ]
  [ "$output" = "$GWDIR/jtreg.conf: ok" ]
  printf '[jt808]\nlisten = 127.0.0.1:1\n\nauth = sometimes\n' > "$GWDIR/bad.conf"
  run "$JT" -c "$GWDIR/bad.conf" --check-config
  [ "$status" -eq 2 ]
  [[ "$output" == *"$GWDIR/bad.conf:4: [jt808] auth = 'sometimes'"* ]]
}

@test "a 2013 terminal registers with its GBK plate, authenticates, and its fix is stored under the plate" {
  run jt_term jtreg "phone 013800000001
loc 37.8 112.5
register 晋A50001
auth
heartbeat
loc 37.85 112.55 0 3 261207080000"
  echo "$output"
  [ "${lines[0]}" = "8001 0200 1" ]            # before authentication
  [[ "${lines[1]}" == "8100 0 "???????????????? ]]
  [ "${lines[2]}" = "8001 0102 0" ]
  [ "${lines[3]}" = "8001 0002 0" ]
  [ "${lines[4]}" = "8001 0200 0" ]            # after PUBACK
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = '晋A50001' AND ts = '2026-12-07T00:00:00Z' AND lat = 37.85" 1
  [ "$(q "SELECT terminal_phone FROM vehicles WHERE vehicle = '晋A50001'")" = "013800000001" ]
  [ "$(q "SELECT plate, octet_length(auth_hash), registered_at IS NOT NULL FROM terminals WHERE phone = '013800000001'")" = "晋A50001|32|t" ]
}

@test "a 2019 terminal (20-digit phone) reports a backfill batch, stored in order" {
  run jt_term jtreg "phone 00000000013800000002
register 晋A50002
auth
batch 1 37.70,112.40,261207070000 37.71,112.41,261207070100
loc 37.72 112.42 0 3 261207070200"
  echo "$output"
  [ "${lines[2]}" = "8001 0704 0" ]
  [ "${lines[3]}" = "8001 0200 0" ]
  wait_sql "SELECT string_agg(lat::text, ',' ORDER BY ts) FROM positions WHERE vehicle = '晋A50002'" "37.7,37.71,37.72"
}

@test "refuse: an unknown terminal cannot register; a provisioned one with its former code authenticates at once" {
  run jt_term jtref "phone 013800000003
register 晋A50003"
  [ "$output" = "8100 4 " ]
  q "INSERT INTO vehicles (vehicle) VALUES ('晋A50004')"
  q "SELECT hazgate_jt808_provision('013800000004', '晋A50004', 'OLDCODE1')"
  # The NOTIFY reaches the running server: no restart.
  sleep 0.5
  run jt_term jtref "phone 013800000004
auth OLDCODE1
loc 37.6 112.3 0 3 261207060000"
  echo "$output"
  [ "${lines[0]}" = "8001 0102 0" ]
  [ "${lines[1]}" = "8001 0200 0" ]
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = '晋A50004' AND lat = 37.6" 1
  run jt_term jtref "phone 013800000004
auth WRONG
loc 37.6 112.3"
  [ "${lines[0]}" = "8001 0102 1" ]
  [ "${lines[1]}" = "8001 0200 1" ]
}

@test "bad frames: bad check code and unknown ids answered, counted, kept; the session goes on" {
  before=$(jt_metric jtreg 'hazgate_jt808_rejects_total{reason="bad_check"}')
  run jt_term jtreg "phone 013800000001
badcheck 0002
frame 0900 0102
raw 7e00027d057e
heartbeat"
  echo "$output"
  [ "${lines[0]}" = "8001 0002 2" ]
  [ "${lines[1]}" = "8001 0900 3" ]
  [ "${lines[2]}" = "8001 0002 0" ]
  [ "$(jt_metric jtreg 'hazgate_jt808_rejects_total{reason="bad_check"}')" -eq $((before + 1)) ]
  [ "$(jt_metric jtreg 'hazgate_jt808_rejects_total{reason="bad_escape"}')" -ge 1 ]
  [ "$(jt_metric jtreg 'hazgate_jt808_frames_total{msg_id="other"}')" -ge 1 ]
  wait_sql "SELECT count(*) FROM rejects WHERE topic = 'jt808/晋A50001' AND reason = 'bad_check' AND payload = '\\x000200000138000000010001'::bytea" 1
}

@test "not positioned: kept as a reject; with SOS published at the last known position" {
  run jt_term jtreg "phone 013800000001
auth NOPE
register 晋A50001
auth
loc 37.9 112.6 0 3 261207081000
loc 0 0 0 0 261207081100
loc 0 0 1 0 261207081200"
  echo "$output"
  [ "${lines[4]}" = "8001 0200 0" ]
  [ "${lines[5]}" = "8001 0200 0" ]
  wait_sql "SELECT count(*) FROM rejects WHERE topic = 'jt808/晋A50001' AND reason = 'not_positioned'" 2
  [ "$(jt_metric jtreg hazgate_jt808_alarm_only_total)" -ge 1 ]
}

@test "broker away: a report is not answered until the broker has it; sent again, it is stored once" {
  run jt_term jtreg "phone 013800000005
register 晋A50005
auth"
  [ "${lines[1]}" = "8001 0102 0" ]
  mqtt_stop
  ( sleep 3; mqtt_start ) 3>&- &
  run jt_term jtreg "phone 013800000005
register 晋A50005
auth
send_loc 37.5 112.2 0 3 261207050000
expect_none 2
sleep 3
loc 37.5 112.2 0 3 261207050000"
  echo "$output"
  [ "${lines[2]}" = "8001 0200 0" ]
  wait
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = '晋A50005'" 1
  [ "$(jt_metric jtreg hazgate_jt808_publishes_refused_total)" -ge 1 ]
}

@test "per-address bound, garbage and idle connections are closed" {
  # three connections held open, the fourth closed at accept
  for i in 1 2 3; do
    ( jt_term jtreg "sleep 4" ) 3>&- &
  done
  sleep 1
  run jt_term jtreg "wait_close 2"
  [ "$output" = "closed" ]
  wait
  [ "$(jt_metric jtreg 'hazgate_jt808_connections_refused_total{reason="per_address"}')" -ge 1 ]
  # bytes without a delimiter beyond the bound
  run jt_term jtreg "raw $(head -c 20000 /dev/zero | tr '\0' 'A')
wait_close 5"
  [ "$output" = "closed" ]
  [ "$(jt_metric jtreg 'hazgate_jt808_connections_closed_total{reason="garbage"}')" -ge 1 ]
  # silent for idle_s (10)
  run jt_term jtreg "wait_close 14"
  [ "$output" = "closed" ]
  [ "$(jt_metric jtreg 'hazgate_jt808_connections_closed_total{reason="idle"}')" -ge 1 ]
}

@test "a peer that never reads its answers is no longer read: memory stays bounded" {
  before=$(jt_metric jtreg 'hazgate_jt808_frames_total{msg_id="0x0002"}')
  ( jt_term jtreg "phone 013800000009
flood 3000000
sleep 4" > "$GWDIR/flood.out" ) 3>&- &
  sleep 6
  a=$(jt_metric jtreg 'hazgate_jt808_frames_total{msg_id="0x0002"}')
  sleep 1
  b=$(jt_metric jtreg 'hazgate_jt808_frames_total{msg_id="0x0002"}')
  rss=$(awk '/VmRSS/ { print $2 }' "/proc/$(cat "$GWDIR/jtreg.pid")/status")
  wait
  cat "$GWDIR/flood.out"
  echo "read: $((a - before)) then $((b - a)); rss ${rss} KiB"
  [ "$a" -eq "$b" ]                            # no longer read
  [ "$((a - before))" -lt 3000000 ]            # stopped before the end
  [[ "$(cat "$GWDIR/flood.out")" == "flooded "* ]]
  [ "$rss" -lt 65536 ]
}

@test "SIGTERM drains and exits 0; /healthz said ok before" {
  run curl -s "http://127.0.0.1:$JT_HTTP_jtref/healthz"
  [ "$output" = "ok" ]
  [ "$(jt_stop jtref)" = "0" ]
}
