#!/usr/bin/env bats
# 52-jt808-outages: JT/T 808 terminals (`hazgate-load jt808`) keep
# reporting through hazgate-jt808 while a part of the pipeline goes away:
# the broker stopped mid-stream (no report is acknowledged until the
# broker has it; the terminals send again, same serial, and nothing they
# were told was received is lost), and hazgate-jt808 SIGKILLed mid-stream
# and restarted (the terminals reconnect, authenticate with the code they
# kept, upload what they made meanwhile as blind-area batches; nothing
# acknowledged is lost, nothing sent twice is stored twice).

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"
load "$HG_SRCDIR/tests/data/jt808/helpers.bash"
load "$HG_SRCDIR/tests/data/jt808/load.bash"

setup_file() {
  gw_setup_file
  gw_start
  jt_setup out "[jt808]
unknown_terminals = register"
  jt_start out
}

teardown_file() {
  kill "$(cat "$GWDIR/out.pid")" 2>/dev/null || true
  gw_teardown_file
}

@test "broker stopped mid-stream: reports wait, are sent again, and every acknowledged fix is stored once" {
  load_bg out "$GWDIR/broker.out" --fleet "$FLEET" --rate 2500 --reply-timeout 0.5 \
    --retries 4 --batch 20 --drain 60 --acked "$GWDIR/broker.tsv" --progress 1
  sleep 2.5
  mqtt_stop
  sleep 3
  mqtt_start
  wait_file "$GWDIR/broker.out.rc" 90
  run cat "$GWDIR/broker.out"
  echo "$output"; tail -5 "$GWDIR/broker.out.err"
  [ "$(cat "$GWDIR/broker.out.rc")" = "0" ]
  [ "$(fig acked)" = "$(fleet_count)" ]
  [ "$(fig pending)" = "0" ]
  [ "$(fig resent)" -gt 0 ]
  # the backlog made while the broker was away went in 0x0704 type 0 batches
  [ "$(fig batches)" -gt 0 ]
  # nothing was answered while the broker was away: the reply waits grew
  [ "$(fig ack_max_us)" -gt 1000000 ]
  acked_stored "$GWDIR/broker.tsv" '晋A100__' "$(fleet_count)"
}

@test "hazgate-jt808 SIGKILLed mid-stream and restarted: terminals reconnect, nothing acknowledged is lost" {
  load_bg out "$GWDIR/kill.out" --terminals 20 --first-vehicle 2000 --phone-base 13600000000 \
    --messages 6000 --rate 1000 --reply-timeout 0.5 --reconnect-max 0.5 --drain 60 \
    --acked "$GWDIR/kill.tsv" --progress 1
  sleep 2
  [ "$(jt_stop out KILL)" = "137" ]
  sleep 1.5
  jt_start out
  wait_file "$GWDIR/kill.out.rc" 90
  run cat "$GWDIR/kill.out"
  echo "$output"; tail -5 "$GWDIR/kill.out.err"
  [ "$(cat "$GWDIR/kill.out.rc")" = "0" ]
  [ "$(fig acked)" = "6000" ]
  [ "$(fig pending)" = "0" ]
  [ "$(fig disconnects)" -ge 20 ]
  [ "$(fig connects)" -ge 40 ]
  # registered once, then authenticated again with the kept code
  [ "$(fig registered)" = "20" ]
  [ "$(fig authenticated)" -ge 40 ]
  # what the terminals made while it was down went as blind-area backfill
  [ "$(fig blind_batches)" -ge 1 ]
  [ "$(fig blind_fixes)" -gt 20 ]
  acked_stored "$GWDIR/kill.tsv" '晋A12%' 6000
}
