#!/usr/bin/env bats
# 30-load: hazgate-load against a private mosquitto started with the project's
# scripts/mosquitto.conf.in: replay delivers every line exactly, simulate is
# deterministic, and a QoS 1 burst larger than mosquitto's defaults reaches a
# persistent subscriber whole (the broker-limits proof of issue 7), while the
# same burst through a broker with the default limits loses messages.

setup_file() {
  eval "$("$HG_SRCDIR/scripts/services-start" --no-pg)"
  export HG_SVC_DIR HG_MQTT_HOST HG_MQTT_PORT
}

teardown_file() {
  "$HG_SRCDIR/scripts/services-stop" "$HG_SVC_DIR"
}

load_() { "$HG_BUILDDIR/hazgate-load" "$@"; }
sample=$HG_SHARED/data/fleet-sample.ndjson
# fig KEY: the value of KEY= in $output
fig() { printf '%s\n' "$output" | sed -n "s/^$1=//p" | tail -1; }

# start_broker NAME CONF: a second mosquitto on a free port, made from CONF
# (a mosquitto.conf.in); sets BROKER_PORT; services-stop ends it.
start_broker() {
  local name=$1 conf=$2 dir="$HG_SVC_DIR/$1" i
  mkdir -p "$dir/data"
  if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then chown -R mosquitto: "$dir"; fi
  for i in 1 2 3 4 5; do
    # A port nobody answers on yet (the file's own broker and PostgreSQL
    # have ports from the same range): an answer must come from this one.
    BROKER_PORT=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$BROKER_PORT") 2>/dev/null && continue
    sed -e "s|@PORT@|$BROKER_PORT|g" -e "s|@DATADIR@|$dir/data|g" "$conf" > "$dir/mosquitto.conf"
    setsid mosquitto -c "$dir/mosquitto.conf" >>"$dir/mosquitto.log" 2>&1 </dev/null &
    echo $! > "$HG_SVC_DIR/$name.pid"
    for _ in $(seq 1 50); do
      kill -0 "$(cat "$HG_SVC_DIR/$name.pid")" 2>/dev/null || break
      (exec 3<>"/dev/tcp/127.0.0.1/$BROKER_PORT") 2>/dev/null && return 0
      sleep 0.1
    done
    kill "$(cat "$HG_SVC_DIR/$name.pid")" 2>/dev/null || true
  done
  return 1
}

# burst PORT CLIENT N: leave a persistent session CLIENT subscribed, publish
# N simulated QoS 1 messages at full speed while it is away, then reconnect
# it and count what the broker kept for it (sets output/status).
burst() {
  local port=$1 client=$2 n=$3
  load_ count --port "$port" --client-id "$client" --subscribe-only >/dev/null
  run load_ simulate --port "$port" --vehicles 200 --messages "$n" --seed 30
  [ "$status" -eq 0 ]
  [ "$(fig acked)" = "$n" ]
  run load_ count --port "$port" --client-id "$client" --expect "$n" --timeout 10 \
      --dump "$BATS_TEST_TMPDIR/$client.dump"
}

@test "--help names the three modes; a bad mode or option is a usage error" {
  run load_ --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"hazgate-load replay FILE"* ]]
  [[ "$output" == *"hazgate-load simulate"* ]]
  [[ "$output" == *"hazgate-load count"* ]]
  run load_ fly
  [ "$status" -eq 2 ]
  run load_ simulate --rate fast
  [ "$status" -eq 2 ]
  [[ "$output" == *"--rate"* ]]
}

@test "replay of the sample fleet delivers every line exactly once, byte for byte" {
  n=$(grep -c . "$sample")
  load_ count --client-id t31 --subscribe-only >/dev/null
  run load_ replay "$sample"
  [ "$status" -eq 0 ]
  [ "$(fig messages)" = "$n" ]
  [ "$(fig acked)" = "$n" ]
  run load_ count --client-id t31 --expect "$n" --timeout 20 --dump "$BATS_TEST_TMPDIR/d"
  [ "$status" -eq 0 ]
  [ "$(fig messages)" = "$n" ]
  cmp <(sort "$BATS_TEST_TMPDIR/d") <(grep . "$sample" | sort)
  # and nothing more is left for that session
  run load_ count --client-id t31 --timeout 1
  [ "$(fig messages)" = 0 ]
}

@test "replay publishes each line to tankers/<vehicle>/telemetry" {
  load_ count --client-id t32 --topic 'tankers/晋A10004/telemetry' --subscribe-only >/dev/null
  load_ replay "$sample" >/dev/null
  run load_ count --client-id t32 --topic 'tankers/晋A10004/telemetry' \
      --expect "$(grep -c '"vehicle":"晋A10004"' "$sample")" --timeout 20 --dump "$BATS_TEST_TMPDIR/d"
  [ "$status" -eq 0 ]
  ! grep -v '"vehicle":"晋A10004"' "$BATS_TEST_TMPDIR/d"
}

@test "--topic is a template for replay and simulate; a line's own topic wins" {
  run bash -c "'$HG_BUILDDIR/hazgate-load' simulate --vehicles 2 --messages 2 --topic 'fleet/{vehicle}/gps/{vehicle}' --dry-run 2>/dev/null | cut -f1"
  [ "${lines[0]}" = "fleet/晋A10001/gps/晋A10001" ]
  [ "${lines[1]}" = "fleet/晋A10002/gps/晋A10002" ]
  printf 'own/topic\t{"vehicle":"V1","ts":"2026-01-05T08:00:00Z","lat":1,"lon":2}\n{"vehicle":"V2","ts":"2026-01-05T08:00:00Z","lat":1,"lon":2}\n' > "$BATS_TEST_TMPDIR/t"
  run bash -c "'$HG_BUILDDIR/hazgate-load' replay --topic 'x/{vehicle}' --dry-run '$BATS_TEST_TMPDIR/t' 2>/dev/null | cut -f1"
  [ "${lines[0]}" = "own/topic" ]
  [ "${lines[1]}" = "x/V2" ]
}

@test "replay --shift-to-now: the first fix is now, spacing divided by --speedup" {
  run bash -c "'$HG_BUILDDIR/hazgate-load' replay --dry-run --shift-to-now --speedup 1000 '$sample' 2>/dev/null | head -13 | cut -f2"
  [ "$status" -eq 0 ]
  first=$(printf '%s\n' "$output" | head -1 | jq -r .ts)
  now=$(date -u +%s%3N)
  t=$(date -u -d "$first" +%s%3N)
  [ $(( now - t )) -le 5000 ] && [ $(( t - now )) -le 5000 ]
  # the 13th line is 5 s after the first in the sample: 5 ms here
  t13=$(date -u -d "$(printf '%s\n' "$output" | sed -n 13p | jq -r .ts)" +%s%3N)
  [ $(( t13 - t )) -eq 5 ]
  # every other member is untouched
  [ "$(printf '%s\n' "$output" | head -1 | jq -c 'del(.ts)')" = "$(head -1 "$sample" | jq -c 'del(.ts)')" ]
}

@test "replay --end-at-now: the last fix is now and the spacing is kept" {
  run bash -c "'$HG_BUILDDIR/hazgate-load' replay --dry-run --end-at-now '$sample' 2>/dev/null | cut -f2 | jq -r .ts | sed -n '1p;\$p'"
  first=$(date -u -d "${lines[0]}" +%s)
  last=$(date -u -d "${lines[1]}" +%s)
  [ $(( last - first )) -eq 7199 ]
  [ $(( $(date -u +%s) - last )) -le 5 ]
}

@test "simulate is deterministic for a seed: same payloads twice, published or not" {
  args=(--vehicles 40 --messages 4000 --seed 7 --start 2026-01-05T08:00:00Z --bad-ratio 0.02)
  load_ simulate "${args[@]}" --dry-run > "$BATS_TEST_TMPDIR/a" 2>/dev/null
  load_ simulate "${args[@]}" --dry-run > "$BATS_TEST_TMPDIR/b" 2>/dev/null
  [ "$(wc -l < "$BATS_TEST_TMPDIR/a")" -ge 4000 ]
  cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
  # another seed is another fleet
  load_ simulate --vehicles 40 --messages 4000 --seed 8 --start 2026-01-05T08:00:00Z --dry-run \
      > "$BATS_TEST_TMPDIR/c" 2>/dev/null
  ! cmp -s "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/c"
  # through the broker: exactly the dry run's payloads arrive
  load_ count --client-id t36 --subscribe-only >/dev/null
  run load_ simulate "${args[@]}"
  [ "$status" -eq 0 ]
  [ "$(fig acked)" = 4000 ]
  run load_ count --client-id t36 --expect 4000 --timeout 20 --dump "$BATS_TEST_TMPDIR/d"
  [ "$status" -eq 0 ]
  cmp <(sort "$BATS_TEST_TMPDIR/d") <(cut -f2- "$BATS_TEST_TMPDIR/a" | sort)
}

@test "simulate: a plausible fleet (10 s fixes, seq runs, stops, speeders, in the city)" {
  load_ simulate --vehicles 50 --messages 10000 --seed 3 --start 2026-01-05T08:00:00Z \
      --zones "$HG_SHARED/data/zones-taiyuan.geojson" --dry-run 2>/dev/null | cut -f2 > "$BATS_TEST_TMPDIR/f"
  [ "$(jq -r .vehicle "$BATS_TEST_TMPDIR/f" | sort -u | wc -l)" -eq 50 ]
  # each vehicle: 200 fixes, seq 0..199, 10 s apart
  run jq -rs 'group_by(.vehicle) | map([length, (map(.seq) == [range(0; length)]),
      ((.[1].ts | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.[0].ts | sub("\\.[0-9]+Z$"; "Z") | fromdate))])
      | unique | .[] | @csv' "$BATS_TEST_TMPDIR/f"
  [ "$output" = "200,true,10" ]
  # some stops, some speeding above 80 km/h, nobody faster than 100
  [ "$(jq -s 'map(select(.speed_kmh == 0)) | length' "$BATS_TEST_TMPDIR/f")" -gt 50 ]
  [ "$(jq -s 'map(select(.speed_kmh > 80)) | length' "$BATS_TEST_TMPDIR/f")" -gt 10 ]
  [ "$(jq -s 'map(select(.speed_kmh > 100)) | length' "$BATS_TEST_TMPDIR/f")" -eq 0 ]
  # around Taiyuan: every fix within ~0.4 degrees of the centre
  [ "$(jq -s 'map(select(((.lat - 37.87) | fabs) > 0.4 or ((.lon - 112.55) | fabs) > 0.4)) | length' "$BATS_TEST_TMPDIR/f")" -eq 0 ]
}

@test "simulate --start takes RFC 3339 offsets and fractions; --interval, --first-vehicle" {
  run bash -c "'$HG_BUILDDIR/hazgate-load' simulate --vehicles 2 --messages 4 --interval 2 --first-vehicle 5 --start 2019-08-10T08:00:00.5+08:00 --dry-run 2>/dev/null | cut -f2 | jq -r '.vehicle + \" \" + .ts'"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "晋A10006 2019-08-10T00:00:00.500Z" ]
  [ "${lines[1]}" = "晋A10007 2019-08-10T00:00:01.500Z" ]
  [ "${lines[2]}" = "晋A10006 2019-08-10T00:00:02.500Z" ]
  [ "${lines[3]}" = "晋A10007 2019-08-10T00:00:03.500Z" ]
  run load_ simulate --start 2019-13-01T00:00:00Z --dry-run
  [ "$status" -eq 2 ]
  run load_ simulate --start 2019-08-10T08:00:00 --dry-run
  [ "$status" -eq 2 ]
}

@test "replay --end-at-now rewrites ts_ms too, and keeps a line's own topic" {
  printf 'x/y\t{"vehicle":"V1","ts_ms":1565395200000,"lat":37.8,"lon":112.5}\n{"vehicle":"V2","ts_ms":1565395210000,"lat":37.8,"lon":112.5}\n' > "$BATS_TEST_TMPDIR/ms"
  run bash -c "'$HG_BUILDDIR/hazgate-load' replay --dry-run --end-at-now '$BATS_TEST_TMPDIR/ms' 2>/dev/null"
  [ "$status" -eq 0 ]
  [ "$(printf '%s\n' "${lines[0]}" | cut -f1)" = "x/y" ]
  [ "$(printf '%s\n' "${lines[1]}" | cut -f1)" = "tankers/V2/telemetry" ]
  a=$(printf '%s\n' "${lines[0]}" | cut -f2 | jq .ts_ms)
  b=$(printf '%s\n' "${lines[1]}" | cut -f2 | jq .ts_ms)
  [ $(( b - a )) -eq 10000 ]
  now=$(date +%s%3N)
  [ $(( now - b )) -ge 0 ] && [ $(( now - b )) -lt 5000 ]
}

@test "simulate --bad-ratio: bad payloads, counted, without seq gaps" {
  run bash -c "'$HG_BUILDDIR/hazgate-load' simulate --vehicles 20 --messages 2000 --seed 4 --bad-ratio 0.1 --dry-run 2>'$BATS_TEST_TMPDIR/fig' | cut -f2 > '$BATS_TEST_TMPDIR/f'"
  bad=$(sed -n 's/^bad=//p' "$BATS_TEST_TMPDIR/fig")
  [ "$bad" -gt 100 ] && [ "$bad" -lt 300 ]
  # good ones: valid fixes with unbroken seq per vehicle
  good=$(grep -ac '"seq":' "$BATS_TEST_TMPDIR/f")
  [ "$good" -eq $(( 2000 - bad )) ]
  run bash -c "grep -a '\"seq\":' '$BATS_TEST_TMPDIR/f' | jq -rs 'group_by(.vehicle) | map(map(.seq) == [range(0; length)]) | unique | .[]'"
  [ "$output" = true ]
  # the bad ones are of several kinds, and none is a well-formed fix
  grep -av '"seq":' "$BATS_TEST_TMPDIR/f" > "$BATS_TEST_TMPDIR/bad"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/bad")" -eq "$bad" ]
  grep -aq '"lat":97.5' "$BATS_TEST_TMPDIR/bad"
  grep -aq '"ts":"yesterday"' "$BATS_TEST_TMPDIR/bad"
  [ "$(awk 'length($0) > 65536' "$BATS_TEST_TMPDIR/bad" | wc -l)" -gt 0 ]
}

@test "the simulated fleet, run through hazgate-ctl replay with the sample zones, raises the alerts and rejects a dispatcher expects" {
  load_ simulate --vehicles 50 --messages 20000 --seed 3 --start 2019-08-10T00:00:00Z \
      --zones "$HG_SHARED/data/zones-taiyuan.geojson" --bad-ratio 0.01 --dry-run \
      > "$BATS_TEST_TMPDIR/sim" 2>/dev/null
  "$HG_BUILDDIR/hazgate-ctl" replay --zones "$HG_SHARED/data/zones-taiyuan.geojson" \
      "$BATS_TEST_TMPDIR/sim" > "$BATS_TEST_TMPDIR/alerts" 2> "$BATS_TEST_TMPDIR/summary"
  for k in zone_enter zone_exit prohibited_entry zone_speeding overspeed route_deviation; do
    [ "$(jq -r "select(.kind == \"$k\") | .kind" "$BATS_TEST_TMPDIR/alerts" | wc -l)" -gt 0 ] \
      || { echo "no $k" >&2; false; }
  done
  # time order: no fix of the fleet is late
  grep -q '(0 late, 0 duplicate)' "$BATS_TEST_TMPDIR/summary"
  # the bad payloads are rejected for six different reasons
  [ "$(grep -c '^ *rejected ' "$BATS_TEST_TMPDIR/summary")" -ge 6 ]
}

@test "simulate --rate paces the publisher" {
  run load_ simulate --vehicles 10 --messages 600 --rate 400
  [ "$status" -eq 0 ]
  s=$(fig seconds)
  # 600 messages at 400/s: 1.5 s (first to last); unpaced it takes a few
  # milliseconds. Never more than 10 % early; late by up to 30 %, which a
  # loaded CI machine's timer wake-ups can add.
  awk -v s="$s" 'BEGIN { exit !(s > 1.35 && s < 1.95) }'
}

@test "count --latency matches received alerts to the publish log" {
  # 50 alert-like messages published with a log of their (vehicle, ts)
  for i in $(seq 0 49); do
    printf 'hazgate/alerts/V%d\t{"kind":"overspeed","vehicle":"V%d","ts":"2026-01-05T08:00:%02d.000Z"}\n' "$i" "$i" "$i"
  done > "$BATS_TEST_TMPDIR/alerts"
  load_ count --client-id t310 --topic 'hazgate/alerts/#' --subscribe-only >/dev/null
  run load_ replay "$BATS_TEST_TMPDIR/alerts" --publog "$BATS_TEST_TMPDIR/publog"
  [ "$status" -eq 0 ]
  [ "$(wc -l < "$BATS_TEST_TMPDIR/publog")" -eq 50 ]
  run load_ count --client-id t310 --topic 'hazgate/alerts/#' --expect 50 --latency "$BATS_TEST_TMPDIR/publog"
  [ "$status" -eq 0 ]
  [ "$(fig latency_matched)" = 50 ]
  [ "$(fig latency_unmatched)" = 0 ]
  # published, then received some time later: a positive latency, under a minute
  awk -v p="$(fig latency_p99_ms)" 'BEGIN { exit !(p > 0 && p < 60000) }'
}

@test "broker limits: 20,000 QoS 1 messages for a persistent subscriber that is away arrive whole" {
  burst "$HG_MQTT_PORT" t311 20000
  [ "$status" -eq 0 ]
  [ "$(fig messages)" = 20000 ]
  # whole means every message, each once: 20,000 distinct (vehicle, seq)
  [ "$(jq -r '[.vehicle, .seq] | @tsv' "$BATS_TEST_TMPDIR/t311.dump" | sort -u | wc -l)" -eq 20000 ]
}

@test "broker limits: a slow subscriber connected during a full-speed burst gets all of it" {
  load_ count --client-id t312 --subscribe-only >/dev/null
  load_ count --client-id t312 --expect 20000 --timeout 60 --delay-us 100 \
      > "$BATS_TEST_TMPDIR/slow.out" 2>"$BATS_TEST_TMPDIR/slow.err" &
  cpid=$!
  run load_ simulate --vehicles 200 --messages 20000 --seed 31
  [ "$(fig acked)" = 20000 ]
  wait "$cpid"
  grep -qx 'messages=20000' "$BATS_TEST_TMPDIR/slow.out"
}

@test "control: with mosquitto's default limits the same burst loses messages" {
  sed -e '/^max_queued_messages/d' -e '/^max_queued_bytes/d' -e '/^max_inflight_messages/d' \
      "$HG_SRCDIR/scripts/mosquitto.conf.in" > "$BATS_TEST_TMPDIR/defaults.conf.in"
  ! grep -qE '^max_(queued|inflight)' "$BATS_TEST_TMPDIR/defaults.conf.in"
  start_broker mosquitto-defaults "$BATS_TEST_TMPDIR/defaults.conf.in"
  burst "$BROKER_PORT" t313 20000
  [ "$status" -ne 0 ]
  got=$(fig messages)
  [ "$got" -lt 20000 ]
  grep -q 'Outgoing messages are being dropped' "$HG_SVC_DIR/mosquitto-defaults/mosquitto.log"
  # and the slow subscriber that stays connected loses messages too
  load_ count --port "$BROKER_PORT" --client-id t313s --subscribe-only >/dev/null
  load_ count --port "$BROKER_PORT" --client-id t313s --expect 20000 --timeout 8 --delay-us 100 \
      > "$BATS_TEST_TMPDIR/slow.out" 2>/dev/null &
  cpid=$!
  run load_ simulate --port "$BROKER_PORT" --vehicles 200 --messages 20000 --seed 31
  [ "$(fig acked)" = 20000 ]
  ! wait "$cpid"
  got=$(sed -n 's/^messages=//p' "$BATS_TEST_TMPDIR/slow.out")
  [ "$got" -lt 20000 ]
}

@test "a burst queued for a persistent subscriber survives a broker restart" {
  start_broker mosquitto-restart "$HG_SRCDIR/scripts/mosquitto.conf.in"
  load_ count --port "$BROKER_PORT" --client-id t314 --subscribe-only >/dev/null
  run load_ simulate --port "$BROKER_PORT" --vehicles 100 --messages 5000 --seed 32
  [ "$(fig acked)" = 5000 ]
  pid=$(cat "$HG_SVC_DIR/mosquitto-restart.pid")
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  ! kill -0 "$pid" 2>/dev/null
  port=$BROKER_PORT
  setsid mosquitto -c "$HG_SVC_DIR/mosquitto-restart/mosquitto.conf" \
      >>"$HG_SVC_DIR/mosquitto-restart/mosquitto.log" 2>&1 </dev/null &
  echo $! > "$HG_SVC_DIR/mosquitto-restart.pid"
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  run load_ count --port "$port" --client-id t314 --expect 5000 --timeout 20
  [ "$status" -eq 0 ]
  [ "$(fig messages)" = 5000 ]
}
