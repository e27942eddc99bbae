#!/usr/bin/env bats
# 51-jt808-fleet: the shared sample fleet (12 tankers, 17,280 fixes) driven
# as JT/T 808 terminals by `hazgate-load jt808` through hazgate-jt808 into
# the running pipeline (private PostgreSQL, mosquitto, the gateway): half
# of them 2013 terminals, half 2019; each registers with its GBK plate,
# authenticates, heartbeats, reports, and now and then uploads a
# blind-area batch (0x0704 type 1). Every fix hazgate-jt808 acknowledged
# is stored exactly once, the alerts equal `hazgate-ctl replay` of the
# same fixes, the backfill reaches the broker flagged and in order; broken
# frames from every terminal are answered and the sessions go on; an SOS
# pressed where there is no fix travels at the last known position.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"
load "$HG_SRCDIR/tests/data/jt808/helpers.bash"
load "$HG_SRCDIR/tests/data/jt808/load.bash"


setup_file() {
  gw_setup_file
  gw_start
  jt_setup fleet "[jt808]
unknown_terminals = register
auth = required"
  jt_start fleet
  # What hazgate-jt808 publishes, from before the first terminal connects.
  "$LOAD" count --topic 'tankers/+/telemetry' --clean --client-id t51-dump \
    --dump "$GWDIR/published.ndjson" --idle 5 --timeout 120 > "$GWDIR/count.out" 2>&1 3>&- &
  echo $! > "$HG_SVC_DIR/count.pid"
  sleep 0.5
  jtload fleet --fleet "$FLEET" --version mixed --blind-every 40 --blind-len 6 \
    --acked "$GWDIR/acked.tsv" --acked-json "$GWDIR/acked.ndjson" \
    > "$GWDIR/load.out" 2> "$GWDIR/load.err"
  echo $? > "$GWDIR/load.rc"
  wait_sql "SELECT count(*) FROM positions" "$(fleet_count)" 60
  "$CTL" replay --zones "$ZONES" --config "$GWCONF" "$GWDIR/acked.ndjson" \
    > "$GWDIR/replay.ndjson" 2>/dev/null
}

teardown_file() {
  kill "$(cat "$GWDIR/fleet.pid")" 2>/dev/null || true
  gw_teardown_file
}

@test "the load ran whole: 12 terminals registered and authenticated, every fix acknowledged" {
  run cat "$GWDIR/load.out"
  [ "$(cat "$GWDIR/load.rc")" = "0" ]
  [ "$(fig terminals)" = "12" ]
  [ "$(fig registered)" = "12" ]
  [ "$(fig authenticated)" = "12" ]
  [ "$(fig acked)" = "$(fleet_count)" ]
  [ "$(fig pending)" = "0" ]
  [ "$(fig failed)" = "0" ]
  [ "$(fig disconnects)" = "0" ]
  [ "$(fig blind_batches)" -gt 100 ]
  [ "$(fig blind_fixes)" -gt 600 ]
  [ "$(fig reports)" -gt 10000 ]
  [ "$(wc -l < "$GWDIR/acked.tsv")" -eq "$(fleet_count)" ]
}

@test "both protocol versions: 6 terminals with 2013 headers (12 digits), 6 with 2019 (20), each its vehicle's terminal" {
  [ "$(q "SELECT length(phone), count(*) FROM terminals GROUP BY 1 ORDER BY 1" | tr '\n' ' ')" = "12|6 20|6 " ]
  [ "$(q "SELECT count(*) FROM terminals t JOIN vehicles v ON v.terminal_phone = t.phone
          WHERE v.vehicle = t.plate AND t.plate LIKE '晋A100__' AND octet_length(t.auth_hash) = 32")" = "12" ]
  # the header form each terminal spoke is the one hazgate-jt808 read
  [ "$(q "SELECT count(*) FROM terminals WHERE phone = '013800000000' OR phone = '00000000013800000001'")" = "2" ]
}

@test "every acknowledged fix is stored exactly once, where it was acknowledged" {
  acked_stored "$GWDIR/acked.tsv" '晋A100__' "$(fleet_count)"
}

@test "the alerts equal hazgate-ctl replay of the acknowledged fixes (vehicle, ts, kind, zone)" {
  # silence is judged by the wall clock in the daemon (the sample is 2019)
  want=$(jq -r 'select(.kind | test("^tracker_") | not) | [.vehicle, .ts, .kind, (.zone_id | tostring)] | @tsv' \
         "$GWDIR/replay.ndjson" | sort)
  got=$(psql -XqAt -F $'\t' -c "SELECT vehicle, to_char(ts AT TIME ZONE 'UTC',
          'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), kind, coalesce(zone_id::text, 'null')
        FROM alerts WHERE kind NOT LIKE 'tracker\\_%'" | sort)
  [ "$(echo "$want" | wc -l)" -ge 60 ]
  [ "$got" = "$want" ]
  [[ "$want" == *prohibited_entry* ]]
}

@test "blind-area fixes reach the broker flagged backfill, in order per terminal" {
  for i in $(seq 1 150); do [ -s "$GWDIR/published.ndjson" ] && ! kill -0 "$(cat "$HG_SVC_DIR/count.pid")" 2>/dev/null && break; sleep 0.2; done
  run cat "$GWDIR/load.out"
  blind=$(fig blind_fixes)
  # published at least once each (a re-sent one may come twice)
  [ "$(jq -r 'select(.backfill == true) | [.vehicle, .ts] | @tsv' "$GWDIR/published.ndjson" | sort -u | wc -l)" -eq "$blind" ]
  [ "$(jq -r 'select(.source == "jt808") | .vehicle' "$GWDIR/published.ndjson" | sort -u | wc -l)" -eq 12 ]
  # per vehicle, the times never go back
  [ "$(jq -sr 'group_by(.vehicle) | map([.[].ts] as $t | $t == ($t | sort)) | all' "$GWDIR/published.ndjson")" = "true" ]
}

@test "broken frames from every terminal are answered (result 2, 3), counted, and the sessions go on" {
  before2=$(jt_metric fleet 'hazgate_jt808_replies_total{result="2"}')
  esc=$(jt_metric fleet 'hazgate_jt808_rejects_total{reason="bad_escape"}')
  run jtload fleet --fleet "$FLEET" --terminals 4 --first-vehicle 0 --bad-frames 8 --rate 400 --duration 2
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(fig bad_check_sent)" = "8" ]
  [ "$(fig bad_length_sent)" = "8" ]
  [ "$(fig bad_escape_sent)" = "8" ]
  [ "$(fig bad_unknown_id_sent)" = "8" ]
  [ "$(fig bad_result2)" = "16" ]
  [ "$(fig bad_result3)" = "8" ]
  [ "$(fig connects)" = "4" ]
  [ "$(fig disconnects)" = "0" ]
  [ "$(fig pending)" = "0" ]
  [ "$(jt_metric fleet 'hazgate_jt808_replies_total{result="2"}')" -eq $((before2 + 16)) ]
  [ "$(jt_metric fleet 'hazgate_jt808_rejects_total{reason="bad_escape"}')" -eq $((esc + 8)) ]
  [ "$(jt_metric fleet 'hazgate_jt808_rejects_total{reason="length_mismatch"}')" -ge 8 ]
  [ "$(jt_metric fleet 'hazgate_jt808_rejects_total{reason="bad_check"}')" -ge 8 ]
}

@test "an idle terminal heartbeats (0x0002) and is answered; a terminal keeps its auth code across runs" {
  run jtload fleet --terminals 2 --first-vehicle 800 --phone-base 13700000000 --realtime \
    --interval 2 --duration 3 --heartbeat 0.4 --codes "$GWDIR/codes.tsv"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(fig registered)" = "2" ]
  [ "$(fig heartbeats)" -ge 4 ]
  [ "$(fig heartbeats_acked)" = "$(fig heartbeats)" ]
  [ "$(fig acked)" = "$(fig fixes)" ]
  [ "$(fig disconnects)" = "0" ]
  [ "$(jt_metric fleet 'hazgate_jt808_frames_total{msg_id="0x0002"}')" -ge 4 ]
  # the codes kept (--codes): the next run authenticates without registering
  [ "$(wc -l < "$GWDIR/codes.tsv")" -eq 2 ]
  run jtload fleet --terminals 2 --first-vehicle 800 --phone-base 13700000000 \
    --messages 4 --codes "$GWDIR/codes.tsv"
  [ "$status" -eq 0 ]
  [ "$(fig registered)" = "0" ]
  [ "$(fig authenticated)" = "2" ]
  [ "$(fig auth_refused)" = "0" ]
}

@test "an SOS without a fix travels at the terminal's last known position, flagged; the report is kept as a reject" {
  rej=$(q "SELECT count(*) FROM rejects WHERE reason = 'not_positioned'")
  mosquitto_sub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t 'tankers/+/telemetry' \
    > "$GWDIR/sos.ndjson" 2>/dev/null 3>&- &
  sub=$!
  sleep 0.3
  run jtload fleet --terminals 2 --first-vehicle 700 --phone-base 13900000000 \
    --messages 40 --sos-every 5 --sos-unpositioned --acked "$GWDIR/sos.tsv"
  echo "$output"
  [ "$status" -eq 0 ]
  sleep 0.5
  kill "$sub"
  # 8 of the 40 carried SOS without a position
  [ "$(awk -F'\t' '$6 == 0 && $7 == 1' "$GWDIR/sos.tsv" | wc -l)" -eq 8 ]
  wait_sql "SELECT count(*) - $rej FROM rejects WHERE reason = 'not_positioned'" 8
  # each went out at the fix before it (the same terminal's), with the alarm
  while IFS=$'\t' read -r phone vehicle ts lat lon pos alarm; do
    if [ "$pos" = 1 ]; then eval "last_$phone='$lat $lon $ts'"; continue; fi
    eval "set -- \$last_$phone"
    got=$(jq -r --arg v "$vehicle" --arg ts "$ts" \
      'select(.vehicle == $v and .ts == $ts) | [.positioned, (.alarms | join(",")), .lat, .lon, .last_fix_ts] | @tsv' "$GWDIR/sos.ndjson" | head -1)
    want=$(printf 'false\tsos\t%s\t%s\t%s' "$(echo "$1" | sed 's/0*$//; s/\.$//')" "$(echo "$2" | sed 's/0*$//; s/\.$//')" "$3")
    [ "$got" = "$want" ]
  done < "$GWDIR/sos.tsv"
  # the gateway: each is a critical terminal_alarm (sos) at that place and
  # time, and no position
  while IFS=$'\t' read -r phone vehicle ts lat lon pos alarm; do
    [ "$pos" = 0 ] || continue
    wait_sql "SELECT count(*) FROM alerts WHERE vehicle = '$vehicle' AND ts = '$ts'
              AND kind = 'terminal_alarm' AND severity = 'critical' AND detail->>'alarm' = 'sos'" 1
    [ "$(q "SELECT count(*) FROM positions WHERE vehicle = '$vehicle' AND ts = '$ts'")" = 0 ]
  done < "$GWDIR/sos.tsv"
}
