#!/usr/bin/env bats
# 44-ctl-replay: hazgate-ctl replay, offline (no services): the independent
# check against the PostGIS-computed alerts of the shared sample, the alert
# JSON, input forms (payload, topic<TAB>payload, stdin), rejects, --config,
# and exit 2 on bad zones or options.

bats_require_minimum_version 1.5.0

ctl() { "$HG_BUILDDIR/hazgate-ctl" "$@"; }
D="$HG_SHARED/data"
FIX="$HG_SRCDIR/tests/data/ctl"
KEY='[.vehicle, .ts, .kind, .zone_id] | @json'
ZONE_KINDS='select(.kind | IN("zone_enter", "zone_exit", "prohibited_entry", "route_deviation"))'

setup_file() {
  "$HG_BUILDDIR/hazgate-ctl" replay --zones "$HG_SHARED/data/zones-taiyuan.geojson" \
    "$HG_SHARED/data/fleet-sample.ndjson" > "$BATS_FILE_TMPDIR/out" 2> "$BATS_FILE_TMPDIR/err"
  echo $? > "$BATS_FILE_TMPDIR/rc"
}

@test "the sample replays to exactly the expected zone alerts (multiset of vehicle, ts, kind, zone_id)" {
  [ "$(cat "$BATS_FILE_TMPDIR/rc")" = "0" ]
  got=$(jq -r "$ZONE_KINDS | $KEY" "$BATS_FILE_TMPDIR/out" | sort)
  want=$(jq -r "$KEY" "$D/expected-sample.ndjson" | sort)
  [ "$(echo "$want" | wc -l)" -eq 66 ]
  [ "$got" = "$want" ]
  # duplicates count too: the same line as often on both sides
  [ "$(echo "$got" | uniq -c | sort)" = "$(echo "$want" | uniq -c | sort)" ]
}

@test "one alert per line, the DESIGN JSON with id null, in input (time) order" {
  run jq -r 'keys_unsorted | join(",")' "$BATS_FILE_TMPDIR/out"
  [ "$(printf '%s\n' "${lines[@]}" | sort -u)" = "id,kind,severity,vehicle,zone_id,zone,ts,lat,lon,speed_kmh,detail" ]
  [ "$(jq -r .id "$BATS_FILE_TMPDIR/out" | sort -u)" = "null" ]
  run jq -r .ts "$BATS_FILE_TMPDIR/out"
  [ "$(printf '%s\n' "${lines[@]}")" = "$(printf '%s\n' "${lines[@]}" | sort)" ]
  [ "$(jq -r 'select(.kind == "prohibited_entry" or .kind == "route_deviation") | .severity' "$BATS_FILE_TMPDIR/out" | sort -u)" = "critical" ]
  [ "$(jq -r 'select(.kind == "zone_speeding" or .kind == "overspeed" or .kind == "dwell_exceeded") | .severity' "$BATS_FILE_TMPDIR/out" | sort -u)" = "warning" ]
}

@test "the summary on stderr: fixes, rejects and alerts by kind" {
  run cat "$BATS_FILE_TMPDIR/err"
  [ "${lines[0]}" = "replay: 17280 lines, 17280 fixes (0 late, 0 duplicate), 0 rejected, 0 ignored, $(wc -l < "$BATS_FILE_TMPDIR/out") alerts" ]
  [[ "$output" == *"prohibited_entry   13"* ]]
  [[ "$output" == *"route_deviation    1"* ]]
}

@test "stdin, '-', and topic<TAB>payload lines give the same alerts" {
  a=$(ctl replay --zones "$D/zones-taiyuan.geojson" < "$D/fleet-sample.ndjson" 2>/dev/null)
  [ "$a" = "$(cat "$BATS_FILE_TMPDIR/out")" ]
  b=$(jq -r '"tankers/\(.vehicle)/telemetry\t" + (del(.vehicle) | tojson)' "$D/fleet-sample.ndjson" \
      | ctl replay --zones "$D/zones-taiyuan.geojson" - 2>/dev/null)
  [ "$b" = "$a" ]
}

@test "native, gpsd TPV and OwnTracks messages by topic; rejects and ignored are counted" {
  run ctl replay --zones "$D/zones-taiyuan.geojson" "$FIX/topics.txt"
  [ "$status" -eq 0 ]
  alerts=$(printf '%s\n' "${lines[@]}" | grep '^{' | jq -r '[.vehicle, .kind, .zone_id, .ts] | @tsv')
  [ "$alerts" = "$(printf '%s\n' \
      $'晋A30001\tprohibited_entry\t5\t2019-08-10T03:00:05.000Z' \
      $'晋A30002\tprohibited_entry\t5\t2019-08-10T03:00:00.000Z' \
      $'driver:晋A30003\tprohibited_entry\t5\t2019-08-10T03:00:00.000Z' \
      $'晋A30005\tprohibited_entry\t5\t2019-08-10T03:00:00.000Z')" ]
  [[ "$output" == *"replay: 13 lines, 5 fixes (0 late, 0 duplicate), 2 rejected, 1 ignored, 4 alerts"* ]]
  [[ "$output" == *"rejected not_json           1"* ]]
  [[ "$output" == *"rejected lat_range          1"* ]]
  # TPV speed is m/s: 8.5 m/s = 30.6 km/h
  [[ "$output" == *'"vehicle":"晋A30002"'*'"speed_kmh":30.6'* ]]
}

@test "--config [mqtt] subscribe chooses each topic's decoder, as in the daemon" {
  tpv='{"class":"TPV","device":"/dev/ttyUSB0","mode":3,"time":"2019-08-10T03:00:00.000Z","lat":37.7470,"lon":112.6280,"speed":8.5}'
  printf 'gps/晋A40001/fix\t%s\nfleet/x/晋A40002\t%s\n' "$tpv" "$tpv" > "$BATS_TEST_TMPDIR/in.txt"
  printf '[mqtt]\nsubscribe = gps/+/fix tpv, fleet/# native\n' > "$BATS_TEST_TMPDIR/subs.conf"
  run ctl replay --zones "$D/zones-taiyuan.geojson" --config "$BATS_TEST_TMPDIR/subs.conf" "$BATS_TEST_TMPDIR/in.txt"
  [ "$status" -eq 0 ]
  # gps/+/fix is TPV: decoded (vehicle from the topic); fleet/# is native: the TPV
  # message lacks the native members and is rejected
  [ "$(printf '%s\n' "${lines[@]}" | grep '^{' | jq -r '.vehicle + " " + .kind')" = "晋A40001 prohibited_entry" ]
  [[ "$output" == *"2 lines, 1 fixes (0 late, 0 duplicate), 1 rejected"* ]]
}

@test "late and duplicate fixes raise nothing and are counted" {
  printf '%s\n' \
    '{"vehicle":"V1","ts":"2019-08-10T03:00:10Z","lat":37.80,"lon":112.70}' \
    '{"vehicle":"V1","ts":"2019-08-10T03:00:10Z","lat":37.7469,"lon":112.6283}' \
    '{"vehicle":"V1","ts":"2019-08-10T03:00:05Z","lat":37.7469,"lon":112.6283}' > "$BATS_TEST_TMPDIR/late.ndjson"
  run ctl replay --zones "$D/zones-taiyuan.geojson" "$BATS_TEST_TMPDIR/late.ndjson"
  [ "$status" -eq 0 ]
  [ "$output" = "replay: 3 lines, 3 fixes (1 late, 1 duplicate), 0 rejected, 0 ignored, 0 alerts" ]
}

@test "--config: the [geofence] options apply (overspeed_kmh), --positions writes the fixes" {
  printf '[geofence]\noverspeed_kmh = 60\n' > "$BATS_FILE_TMPDIR/60.conf"
  run ctl replay --zones "$D/zones-taiyuan.geojson" --config "$BATS_FILE_TMPDIR/60.conf" \
    --positions "$BATS_FILE_TMPDIR/pos.csv" "$D/fleet-sample.ndjson"
  [ "$status" -eq 0 ]
  n60=$(printf '%s\n' "${lines[@]}" | grep -c '"kind":"overspeed"')
  n80=$(grep -c '"kind":"overspeed"' "$BATS_FILE_TMPDIR/out")
  [ "$n80" -eq 2 ]
  [ "$n60" -gt "$n80" ]
  [ "$(printf '%s\n' "${lines[@]}" | grep '"kind":"overspeed"' | jq -r '.detail.limit_kmh' | sort -u)" = "60" ]
  [ "$(printf '%s\n' "${lines[@]}" | grep '"kind":"overspeed"' | jq -r '.speed_kmh > 60' | sort -u)" = "true" ]
  [ "$(head -1 "$BATS_FILE_TMPDIR/pos.csv")" = "vehicle,ts,lat,lon,speed_kmh,heading,alt_m,hdop,fix,sats,un,hazard_class,seq,ignition,zone_ids,alarms" ]
  [ "$(wc -l < "$BATS_FILE_TMPDIR/pos.csv")" -eq 17281 ]
  [ "$(sed -n 2p "$BATS_FILE_TMPDIR/pos.csv")" = '"晋A10001",2019-08-10T00:00:00.000Z,37.604999,112.3600398,30.9,41.4,,1.4,3,,1203,3,0,,"{7,8}",' ]
}

@test "bad zones are exit 2 naming the feature; nothing is written to stdout" {
  run --separate-stderr ctl replay --zones "$FIX/bad-ring.geojson" "$D/fleet-sample.ndjson"
  [ "$status" -eq 2 ]
  [ -z "$output" ]
  [[ "$stderr" == *"feature 1 (id 42)"* ]]
}

@test "bad options are exit 2 with the reason" {
  run ctl replay "$D/fleet-sample.ndjson"
  [ "$status" -eq 2 ]; [[ "$output" == *"--zones FILE is required"* ]]
  run ctl replay --zones /nonexistent.geojson
  [ "$status" -eq 2 ]; [[ "$output" == *"cannot read zones /nonexistent.geojson"* ]]
  run ctl replay --zones "$D/zones-taiyuan.geojson" /nonexistent.ndjson
  [ "$status" -eq 2 ]; [[ "$output" == *"cannot read /nonexistent.ndjson"* ]]
  run ctl replay --zones "$D/zones-taiyuan.geojson" a b
  [ "$status" -eq 2 ]; [[ "$output" == *"one INPUT at most"* ]]
  run ctl replay --zones "$D/zones-taiyuan.geojson" --speed 3
  [ "$status" -eq 2 ]; [[ "$output" == *"unknown option --speed"* ]]
  printf '[geofence]\nexit_fixes = 0\n' > "$BATS_TEST_TMPDIR/bad.conf"
  run ctl replay --zones "$D/zones-taiyuan.geojson" --config "$BATS_TEST_TMPDIR/bad.conf" /dev/null
  [ "$status" -eq 2 ]; [[ "$output" == *"bad.conf:2"* ]]
  printf '[geofence]\ntimezone = Mars/Olympus\n' > "$BATS_TEST_TMPDIR/tz.conf"
  run ctl replay --zones "$D/zones-taiyuan.geojson" --config "$BATS_TEST_TMPDIR/tz.conf" /dev/null
  [ "$status" -eq 2 ]; [[ "$output" == *"Mars/Olympus"* ]]
}

@test "the rules' sample (data/fleet-rules.ndjson): exactly the alerts gen-fleet-rules constructed, with its zone alone or beside Taiyuan's" {
  data="$HG_SRCDIR/data"
  shape='{vehicle, ts, kind, severity, zone_id, lat, lon, detail}'
  want=$(jq -S -c "$shape" "$data/expected-rules.ndjson" | sort)
  [ "$(echo "$want" | jq -r .kind | sort | tr '\n' ' ')" = "fatigue_driving night_driving terminal_alarm terminal_alarm_cleared unauthorized_stop " ]
  run --separate-stderr ctl replay --zones "$data/zones-rules.geojson" "$data/fleet-rules.ndjson"
  [ "$status" -eq 0 ]
  [ "$(printf '%s\n' "${lines[@]}" | jq -S -c "$shape" | sort)" = "$want" ]
  # the summary counts the rules' kinds too (it stopped at tracker_resumed)
  [[ "$stderr" == *"2732 fixes (0 late, 0 duplicate), 0 rejected, 0 ignored, 5 alerts"* ]]
  for k in fatigue_driving night_driving unauthorized_stop terminal_alarm terminal_alarm_cleared; do
    echo "$stderr" | grep -Eq "^  $k +1\$"
  done
  jq -s '{type: "FeatureCollection", features: (map(.features) | add)}' \
    "$D/zones-taiyuan.geojson" "$data/zones-rules.geojson" > "$BATS_FILE_TMPDIR/all.geojson"
  [ "$(ctl replay --zones "$BATS_FILE_TMPDIR/all.geojson" "$data/fleet-rules.ndjson" 2>/dev/null | jq -S -c "$shape" | sort)" = "$want" ]
  # --positions: alarms as the positions column keeps them (sos is bit 0)
  ctl replay --zones "$data/zones-rules.geojson" --positions "$BATS_FILE_TMPDIR/rules.csv" \
    "$data/fleet-rules.ndjson" >/dev/null 2>&1
  [ "$(grep -c ',1$' "$BATS_FILE_TMPDIR/rules.csv")" -eq 31 ]
  [ "$(grep '^"晋A20004"' "$BATS_FILE_TMPDIR/rules.csv" | grep -c ',0$')" -eq 149 ]
  [ "$(grep '^"晋A20001"' "$BATS_FILE_TMPDIR/rules.csv" | grep -c ',$')" -eq 1801 ]
}

@test "scripts/gen-fleet-rules makes the same three files again" {
  "$HG_SRCDIR/scripts/gen-fleet-rules" "$BATS_FILE_TMPDIR"
  for f in fleet-rules.ndjson expected-rules.ndjson zones-rules.geojson; do
    cmp "$BATS_FILE_TMPDIR/$f" "$HG_SRCDIR/data/$f"
  done
}
