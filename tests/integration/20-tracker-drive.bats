#!/usr/bin/env bats
# 20-tracker-drive: hazgate-tracker against real gpsd (gpsfake playing the
# recorded drive of 晋A10005, ../shared/data/drive-A10005.nmea) and a real
# mosquitto: the payloads a subscriber receives are the drive's fixes picked
# by the reporting policy (defaults 10 s / 60 s / 30° / 100 m), with the
# fix times, units and cargo right, seq 1..N; "online" then a retained
# "offline" on the status topic; SIGTERM exits 0.  Also the command line.

# setup_file, teardown and teardown_file: helpers.bash.
load "$HG_SRCDIR/tests/data/tracker/helpers.bash"

@test "--version and --help" {
  run "$TRK_BIN" --version
  [ "$status" -eq 0 ]
  [[ "$output" == "hazgate-tracker "[0-9]* ]]
  run "$TRK_BIN" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"--check-config"* ]]
  [[ "$output" == *"[report] min_interval_s (number 0..86400, default \"10\")"* ]]
  [[ "$output" == *"[report] min_distance_m"*"default \"100\""* ]]
}

@test "--check-config prints the effective configuration, overrides applied" {
  trk_config "$BATS_TEST_TMPDIR/t.conf"
  run "$TRK_BIN" -c "$BATS_TEST_TMPDIR/t.conf" --check-config --broker 10.1.2.3:8883 \
      --gpsd gpshost:2948 --queue /tmp/q --vehicle 晋A99999
  [ "$status" -eq 0 ]
  [[ "$output" == *"vehicle = 晋A99999"* ]]
  [[ "$output" == *$'[mqtt]\nhost = 10.1.2.3\nport = 8883'* ]]
  [[ "$output" == *$'[gpsd]\nhost = gpshost\nport = 2948'* ]]
  [[ "$output" == *"dir = /tmp/q"* ]]
  [[ "$output" == *"heading_change_deg = 30"* ]]
}

@test "--check-config names file and line of an unknown key or bad value" {
  trk_config "$BATS_TEST_TMPDIR/bad.conf" "[report]" "min_distanse_m = 50"
  run "$TRK_BIN" -c "$BATS_TEST_TMPDIR/bad.conf" --check-config
  [ "$status" -eq 1 ]
  line=$(grep -n min_distanse_m "$BATS_TEST_TMPDIR/bad.conf" | cut -d: -f1)
  [[ "$output" == *"$BATS_TEST_TMPDIR/bad.conf:$line: unknown key \"min_distanse_m\" in section [report]"* ]]
  trk_config "$BATS_TEST_TMPDIR/bad2.conf" "[mqtt]" "port = 70000"
  run "$TRK_BIN" -c "$BATS_TEST_TMPDIR/bad2.conf" --check-config
  [ "$status" -eq 1 ]
  [[ "$output" == *"bad2.conf:"*": bad value \"70000\" for [mqtt] port"* ]]
  run "$TRK_BIN" --check-config
  [ "$status" -eq 1 ]
  [[ "$output" == *"vehicle"* ]]
}

@test "the drive through gpsd arrives as telemetry under the reporting policy" {
  trk_config "$HG_SVC_DIR/drive.conf"
  trk_subscribe drive
  trk_start_tracker "$HG_SVC_DIR/drive.conf"
  wait_until 10 trk_log_has "event=mqtt_connected"
  trk_play 1 "$TRK_DRIVE"
  trk_wait_play 1
  # gpsd itself saw every fix of the drive (the player is not the subject).
  [ "$(grep -c '"class":"TPV".*"mode":3' "$HG_SVC_DIR/gpsfake-1.out")" -ge 1440 ]
  wait_until 20 trk_count_stable drive
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
  run trk_check drive --policy "$TRK_POLICY" --first-seq 1
  echo "$output"
  [ "$status" -eq 0 ]
  # The first fix of the drive, then the reports the policy asks for.
  [[ "$output" == *"first_ts=2019-08-10T00:00:02.000Z"* ]]
  [[ "$output" == *"last_ts=2019-08-10T01:59"* ]]
  [ "$(trk_count drive)" -gt 200 ]
  # Units: the first payload's speed is 25.2 kn = 46.67 km/h; gpsd's first
  # cycle (a 2D TPV, then the 3D one of the same time) gives one report,
  # the complete one, with the GGA's satellites and hdop.
  first=$(grep -m1 ' {' "$HG_SVC_DIR/drive.out")
  [[ "$first" == *'"ts":"2019-08-10T00:00:02.000Z","lat":37.7796217,"lon":112.604685,'* ]]
  [[ "$first" == *'"speed_kmh":46.67,"heading":227.9,"alt_m":780.0,"hdop":0.7,"eph":13.3,"fix":3,"sats":9,'* ]]
  [[ "$first" == *'"un":"1203","hazard_class":"3","seq":1}' ]]
  # Status: online on connect, the retained offline on a clean exit.
  grep -q "^tankers/$TRK_VEHICLE/status online$" "$HG_SVC_DIR/drive.out"
  wait_until 5 grep -q "^tankers/$TRK_VEHICLE/status offline$" "$HG_SVC_DIR/drive.out"
  run mosquitto_sub -h 127.0.0.1 -p "$HG_MQTT_PORT" -t "tankers/$TRK_VEHICLE/status" -C 1 -W 5
  [ "$output" = "offline" ]
  # Nothing left in the queue, and the exit line says so.
  grep -q "event=exit .* pending=0 " "$HG_SVC_DIR/tracker.log"
}

@test "seq survives a restart: a second run goes on where the first stopped" {
  last=$(grep -o '"seq":[0-9]*' "$HG_SVC_DIR/drive.out" | tail -1 | cut -d: -f2)
  [ "$last" -gt 200 ]
  trk_config "$HG_SVC_DIR/drive.conf"
  head -41 "$TRK_DRIVE" > "$HG_SVC_DIR/short.nmea"
  trk_start_tracker "$HG_SVC_DIR/drive.conf"
  wait_until 10 trk_log_has "next_id=$((last + 1))"
  trk_play 2 "$HG_SVC_DIR/short.nmea"
  trk_wait_play 2
  wait_until 10 grep -q "\"seq\":$((last + 1))}" "$HG_SVC_DIR/drive.out"
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
}

@test "SIGTERM with the broker away exits 0 and keeps the queue" {
  trk_config "$HG_SVC_DIR/away.conf" "[mqtt]" "port = $(trk_free_port)" \
      "[queue]" "dir = $HG_SVC_DIR/queue-away"
  head -41 "$TRK_DRIVE" > "$HG_SVC_DIR/short.nmea"
  trk_start_tracker "$HG_SVC_DIR/away.conf"
  wait_until 10 trk_log_has "event=mqtt_connect_failed"
  trk_play 3 "$HG_SVC_DIR/short.nmea"
  trk_wait_play 3
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
  # 20 fixes over 95 s with the defaults: reported at 0, 10, 20 s ... (moving ~62 m/5 s).
  grep -q "event=exit .* reported=10 .* pending=10 " "$HG_SVC_DIR/tracker.log"
  ls "$HG_SVC_DIR/queue-away/"*.seg
}

@test "end to end: every fix through gpsd, tracker and broker replays to the expected alerts" {
  # Report every fix (min 0 s, max 1 s) with the sample's cargo (UN 1789,
  # class 8) and feed what the subscriber got to hazgate-ctl replay (the
  # gateway's decoders and geofence): the alerts are those computed
  # independently with PostGIS for this vehicle (expected-sample.ndjson).
  trk_config "$HG_SVC_DIR/all.conf" "[tracker]" "un = 1789" "hazard_class = 8" \
      "[report]" "min_interval_s = 0" "max_interval_s = 1" "[queue]" "dir = $HG_SVC_DIR/queue-all"
  trk_subscribe all
  trk_start_tracker "$HG_SVC_DIR/all.conf"
  wait_until 10 trk_log_has "event=mqtt_connected"
  trk_play 4 "$TRK_DRIVE"
  trk_wait_play 4
  wait_until 20 trk_count_at_least all 1440
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
  run trk_check all --un 1789 --hazard-class 8 --expect-count 1440 --policy 0,1,30,100,5
  echo "$output"
  [ "$status" -eq 0 ]
  grep -a "^tankers/[^ ]*/telemetry {" "$HG_SVC_DIR/all.out" | sed 's/ /\t/' > "$HG_SVC_DIR/all.tsv"
  "$HG_BUILDDIR/hazgate-ctl" replay --zones "$HG_SHARED/data/zones-taiyuan.geojson" \
      "$HG_SVC_DIR/all.tsv" > "$HG_SVC_DIR/all.alerts" 2> "$HG_SVC_DIR/all.summary"
  cat "$HG_SVC_DIR/all.summary"
  grep -q "1440 fixes .* 0 rejected" "$HG_SVC_DIR/all.summary"
  run python3 - "$HG_SVC_DIR/all.alerts" "$HG_SHARED/data/expected-sample.ndjson" "$TRK_VEHICLE" <<'PY'
import json, sys
kinds = {"zone_enter", "zone_exit", "prohibited_entry", "route_deviation"}
key = lambda a: (a["vehicle"], a["ts"], a["kind"], a.get("zone_id"))
got = sorted(key(a) for a in map(json.loads, open(sys.argv[1])) if a["kind"] in kinds)
exp = sorted(key(a) for a in map(json.loads, open(sys.argv[2])) if a["vehicle"] == sys.argv[3])
print("got", len(got), "expected", len(exp))
for a in sorted(set(got) ^ set(exp)):
    print("differs:", a)
sys.exit(0 if got == exp and exp else 1)
PY
  echo "$output"
  [ "$status" -eq 0 ]
}
