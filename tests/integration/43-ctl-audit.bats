#!/usr/bin/env bats
# 43-ctl-audit: the route audit on a database filled by replaying the shared
# fleet sample (tests/data/ctl/fill-db.sh): it finds exactly the sample's
# violations, says which live alerts were acknowledged, flags a deleted live
# alert as missing, and follows the zones in force over time (zones_history).

load "$HG_SRCDIR/tests/data/ctl/helpers.bash"
ZONES="$HG_SHARED/data/zones-taiyuan.geojson"
KEY='[.vehicle, .ts, .kind, .zone_id] | @json'
VIOLATIONS='select(.kind | IN("prohibited_entry", "route_deviation", "zone_speeding", "overspeed", "dwell_exceeded", "fatigue_driving", "daily_driving_exceeded", "night_driving", "unauthorized_stop"))'
DAY=(--from '2019-08-10 08:00' --to '2019-08-10 10:00')

@test "audit with the zone file finds exactly the sample's violations, all with an open live alert" {
  run disp audit "${DAY[@]}" --zones "$ZONES" --format json
  [ "$status" -eq 0 ]
  json=$(printf '%s\n' "${lines[@]}" | grep '^{')
  summary=$(printf '%s\n' "${lines[@]}" | grep '^audit ')
  # 30 of the geometry's, and the sample's two unauthorized stops (issue 14)
  [ "$(echo "$json" | wc -l)" -eq 32 ]
  [ "$(echo "$json" | jq -r 'select(.kind == "unauthorized_stop") | .vehicle' | sort | tr '\n' ' ')" = "晋A10001 晋A10003 " ]
  # prohibited entries and route deviations: exactly the PostGIS-computed ones
  got=$(echo "$json" | jq -r "select(.kind | IN(\"prohibited_entry\", \"route_deviation\")) | $KEY" | sort)
  want=$(jq -r "select(.kind | IN(\"prohibited_entry\", \"route_deviation\")) | $KEY" "$EXPECTED" | sort)
  [ "$(echo "$want" | wc -l)" -eq 14 ]
  [ "$got" = "$want" ]
  # all of them: exactly the engine's violations, as the daemon raised them
  got=$(echo "$json" | jq -r "$KEY" | sort)
  want=$(jq -r "$VIOLATIONS | $KEY" "$HG_SVC_DIR/alerts.ndjson" | sort)
  [ "$got" = "$want" ]
  [ "$(echo "$json" | jq -r .live | sort -u)" = "open" ]
  [[ "$summary" == *"17280 fixes"*"32 violations: 0 acknowledged, 32 open, 0 missing a live alert; 0 live alerts not reproduced" ]]
}

@test "an acknowledged alert shows as such, with who and when" {
  id=$(ctl alerts --format json --kind dwell_exceeded | jq -r .id)
  disp ack "$id" --by 'auditor test' >/dev/null
  run ctl audit "${DAY[@]}" --zones "$ZONES" --format json
  [ "$(printf '%s\n' "${lines[@]}" | grep '^{' | jq -r "select(.kind == \"dwell_exceeded\") | [.live, .alert_id, .acked_by] | @tsv")" = "$(printf 'acknowledged\t%s\tt_disp' "$id")" ]
  [[ "$output" == *"1 acknowledged, 31 open, 0 missing"* ]]
}

@test "a deleted live alert is flagged missing, and only that one" {
  gone=$(q "DELETE FROM alerts WHERE vehicle = '晋A10009' AND kind = 'prohibited_entry' AND zone_id = 5 RETURNING ts")
  [ -n "$gone" ]
  run ctl audit "${DAY[@]}" --zones "$ZONES" --format json
  [ "$status" -eq 0 ]
  missing=$(printf '%s\n' "${lines[@]}" | grep '^{' | jq -r 'select(.live == "missing") | [.vehicle, .kind, .zone_id, .alert_id] | @tsv')
  [ "$missing" = "$(printf '晋A10009\tprohibited_entry\t5\t')" ]
  [[ "$output" == *"1 acknowledged, 30 open, 1 missing a live alert"* ]]
  # the table says it too
  run ctl audit "${DAY[@]}" --zones "$ZONES" --vehicle 晋A10009
  [[ "${lines[0]}" == "TIME"*"VEHICLE"*"KIND"*"ZONE"*"LIVE"*"ALERT"*"ACKED"* ]]
  [[ "$output" == *"2019-08-10 09:42:50  晋A10009  prohibited_entry"*"Wusu airport"*"missing"* ]]
}

@test "a live alert the audit does not reproduce is counted" {
  q "INSERT INTO alerts (kind, severity, vehicle, ts) VALUES ('overspeed', 'warning', '晋A10001', '2019-08-10T00:30:00Z')"
  run ctl audit "${DAY[@]}" --zones "$ZONES" --format csv
  [[ "$output" == *"1 live alerts not reproduced"* ]]
  q "DELETE FROM alerts WHERE vehicle = '晋A10001' AND kind = 'overspeed'"
}

@test "--vehicle restricts the audit to one vehicle" {
  run ctl audit "${DAY[@]}" --zones "$ZONES" --vehicle 晋A10004 --format json
  [ "$status" -eq 0 ]
  [ "$(printf '%s\n' "${lines[@]}" | grep '^{' | jq -r '[.vehicle, .kind, .live] | @tsv')" = "$(printf '晋A10004\troute_deviation\topen')" ]
}

@test "a fix with sub-millisecond time matches its live alert as the gateway stores it (ms)" {
  q "INSERT INTO positions (vehicle, ts, lat, lon, speed_kmh) VALUES ('V9', '2019-08-10T01:00:00.123456Z', 37.7469, 112.6283, 20)"
  run ctl audit "${DAY[@]}" --zones "$ZONES" --vehicle V9 --format json
  [ "$(printf '%s\n' "${lines[@]}" | grep '^{' | jq -r '[.kind, .ts, .live] | @tsv')" = "$(printf 'prohibited_entry\t2019-08-10T01:00:00.123Z\tmissing')" ]
  q "INSERT INTO alerts (kind, severity, vehicle, zone_id, ts) VALUES ('prohibited_entry', 'critical', 'V9', 5, '2019-08-10T01:00:00.123Z')"
  run ctl audit "${DAY[@]}" --zones "$ZONES" --vehicle V9 --format json
  [ "$(printf '%s\n' "${lines[@]}" | grep '^{' | jq -r .live)" = "open" ]
  q "DELETE FROM positions WHERE vehicle = 'V9'"
  q "DELETE FROM alerts WHERE vehicle = 'V9'"
}

@test "CSV: a header and one record per violation" {
  run ctl audit "${DAY[@]}" --zones "$ZONES" --format csv
  [ "${lines[0]}" = "ts,vehicle,kind,severity,zone_id,zone,lat,lon,speed_kmh,detail,live,alert_id,acked_at,acked_by" ]
  [ "$(printf '%s\n' "${lines[@]}" | grep -c '^2019-08-10T')" -eq 32 ]
}

@test "without --zones: the zones in force at the time, from zones_history" {
  # imported today, the zones were not in force in 2019
  run ctl audit "${DAY[@]}" --format json
  [ "$status" -eq 0 ]
  [[ "$output" == *"no zones were in force at 2019-08-10T00:00:00.000Z"* ]]
  # only the two overspeeds, and four unauthorized stops: with no zone in
  # force, the two vehicles parked in the depot (zone 7) are not authorised
  [ "$(printf '%s\n' "${lines[@]}" | grep '^{' | jq -r .kind | sort | uniq -c | tr -s ' ')" = "$(printf ' 2 overspeed\n 4 unauthorized_stop')" ]
  # as if they had been imported before the event
  q "UPDATE zones_history SET valid_from = '2019-08-01T00:00:00Z'"
  a=$(ctl audit "${DAY[@]}" --format json 2>/dev/null)
  b=$(ctl audit "${DAY[@]}" --zones "$ZONES" --format json 2>/dev/null)
  [ "$(echo "$a" | wc -l)" -eq 32 ]
  [ "$a" = "$b" ]
}

@test "a zone withdrawn in the middle of the period counts only before" {
  # the airport zone is out of force from 09:10 Beijing time
  q "UPDATE zones_history SET valid_to = '2019-08-10T01:10:00Z' WHERE zone_id = 5"
  run ctl audit "${DAY[@]}" --format json
  [ "$status" -eq 0 ]
  [[ "$output" == *"2 zone sets"* ]]
  airport=$(printf '%s\n' "${lines[@]}" | grep '^{' | jq -r 'select(.zone_id == 5) | .vehicle + " " + .ts')
  [ "$airport" = "晋A10011 2019-08-10T01:05:41.000Z" ]
  [ "$(printf '%s\n' "${lines[@]}" | grep -c '^{')" -eq 29 ]
}

@test "--warmup feeds earlier fixes without reporting them" {
  run ctl audit --from '2019-08-10 09:00' --to '2019-08-10 10:00' --zones "$ZONES" --format json
  cold=$(printf '%s\n' "${lines[@]}" | grep -c '^{')
  run ctl audit --from '2019-08-10 09:00' --to '2019-08-10 10:00' --warmup 1h --zones "$ZONES" --format json
  warm=$(printf '%s\n' "${lines[@]}" | grep '^{')
  # with the first hour fed, the second hour has exactly the live alerts of that hour
  want=$(jq -r "$VIOLATIONS | select(.ts >= \"2019-08-10T01:00\") | $KEY" "$HG_SVC_DIR/alerts.ndjson" | sort)
  [ "$(echo "$warm" | jq -r "$KEY" | sort)" = "$want" ]
  # without it, vehicles already inside zones at 09:00 are reported again
  [ "$cold" -gt "$(echo "$warm" | wc -l)" ]
}

@test "issue 11 item 8: a TPV speed of 22.2223 m/s gets the same verdict live (replay) and in the audit" {
  # One vehicle each, around the 80 km/h limit: 22.2223 m/s = 80.00028 km/h
  # (the issue's), 22.22222225 m/s = 80.0000001 km/h (finer than float4),
  # 22.2225 m/s = 80.001 km/h (over). On 2019-08-11, away from the sample.
  in="$BATS_FILE_TMPDIR/speed.txt"
  for vs in 81:22.2223 82:22.22222225 83:22.2225; do
    printf 'tankers/V%s/telemetry\t{"class":"TPV","mode":3,"time":"2019-08-11T01:00:00.000Z","lat":37.60,"lon":112.40,"speed":%s}\n' \
      "${vs%%:*}" "${vs#*:}"
  done > "$in"
  ctl replay --zones "$ZONES" --positions "$BATS_FILE_TMPDIR/speed.csv" "$in" \
    > "$BATS_FILE_TMPDIR/speed-live.ndjson" 2>/dev/null
  # Stored as the daemon stores them: its COPY text has 9 decimals for lat
  # and lon, 3 for speed (gateway/gw_batch.c), into the positions columns.
  q "CREATE TABLE speed_in (vehicle text, ts timestamptz, lat float8, lon float8, speed_kmh float8,
       heading float8, alt_m float8, hdop float8, fix smallint, sats smallint, un text,
       hazard_class text, seq bigint, ignition boolean, zone_ids integer[], alarms integer)"
  psql -XqAt -v ON_ERROR_STOP=1 -c "\\copy speed_in FROM '$BATS_FILE_TMPDIR/speed.csv' CSV HEADER"
  q "INSERT INTO positions (vehicle, ts, lat, lon, speed_kmh, zone_ids)
     SELECT vehicle, ts, round(lat::numeric, 9), round(lon::numeric, 9),
       round(speed_kmh::numeric, 3), zone_ids FROM speed_in"
  run ctl audit --from '2019-08-11 08:00' --to '2019-08-11 10:00' --zones "$ZONES" --format json
  [ "$status" -eq 0 ]
  audit=$(printf '%s\n' "${lines[@]}" | grep '^{' | jq -r "$KEY" | sort)
  live=$(jq -r "$VIOLATIONS | $KEY" "$BATS_FILE_TMPDIR/speed-live.ndjson" | sort)
  [ "$audit" = "$live" ]
  # the same whatever the session's float output is set to (80.001 at 3 digits is 80)
  PGOPTIONS='-c extra_float_digits=-12' run ctl audit --from '2019-08-11 08:00' --to '2019-08-11 10:00' --zones "$ZONES" --format json
  [ "$(printf '%s\n' "${lines[@]}" | grep '^{' | jq -r "$KEY" | sort)" = "$live" ]
  [ "$(jq -r 'select(.kind == "overspeed") | .vehicle' "$BATS_FILE_TMPDIR/speed-live.ndjson")" = "V83" ]
  # replay's rows already are what the daemon keeps: nothing was rounded
  [ "$(q "SELECT count(*) FROM speed_in WHERE speed_kmh::numeric <> round(speed_kmh::numeric, 3)")" = 0 ]
  [ "$(q "SELECT string_agg(speed_kmh::text, ' ' ORDER BY vehicle) FROM speed_in")" = "80 80 80.001" ]
  q "DELETE FROM positions WHERE vehicle IN ('V81', 'V82', 'V83')"
  q "DROP TABLE speed_in"
}

@test "issue 11 item 8: every speed the daemon keeps (0.001 km/h, 0..300) reads back exactly from real" {
  # float4 holds about 7 significant digits; 300.000 needs 6. PostgreSQL 15
  # prints the shortest text that reads back as the same float4, which is
  # the decimal stored, so strtod() gives the double the engine decided on.
  [ "$(q "SELECT count(*) FROM generate_series(0, 300000) k
          WHERE (((k / 1000.0)::text)::real)::text::numeric <> k / 1000.0")" = 0 ]
}

@test "audit: bad arguments, zones and configuration are exit 2 with the reason" {
  run ctl audit --from '2019-08-10 08:00'
  [ "$status" -eq 2 ]; [[ "$output" == *"--from and --to are both required"* ]]
  run ctl audit --from 'last week' --to '2019-08-10 09:00'
  [ "$status" -eq 2 ]; [[ "$output" == *"--from: 'last week' is not a time"* ]]
  run ctl audit "${DAY[@]}" --zones "$HG_SRCDIR/tests/data/ctl/bad-ring.geojson"
  [ "$status" -eq 2 ]; [[ "$output" == *"feature 1 (id 42)"* ]]
  run ctl audit "${DAY[@]}" --warmup forever
  [ "$status" -eq 2 ]; [[ "$output" == *"--warmup: 'forever' is not a duration"* ]]
  printf '[geofence]\noverspeed_kmh = fast\n' > "$BATS_FILE_TMPDIR/bad.conf"
  run ctl audit "${DAY[@]}" --config "$BATS_FILE_TMPDIR/bad.conf"
  [ "$status" -eq 2 ]; [[ "$output" == *"bad.conf:2"* ]]
}
