#!/usr/bin/env bats
# 42-ctl-vehicles-track: hazgate-ctl vehicles and track on a database filled
# by replaying the shared fleet sample (tests/data/ctl/fill-db.sh); expected
# values come from the sample files themselves.

load "$HG_SRCDIR/tests/data/ctl/helpers.bash"
FLEET="$HG_SHARED/data/fleet-sample.ndjson"

@test "vehicles: the 12 tankers with their last fix, cargo and open alerts (dispatcher role)" {
  run disp vehicles --format json
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 12 ]
  got=$(printf '%s\n' "${lines[@]}" | jq -c '[.vehicle, .last_fix, .lat, .lon, .un, .hazard_class]')
  want=$(jq -s -c 'group_by(.vehicle)[] | max_by(.ts) | [.vehicle, .ts, .lat, .lon, .un, .hazard_class]' "$FLEET")
  [ "$got" = "$want" ]
  got=$(printf '%s\n' "${lines[@]}" | jq -c '[.vehicle, .open_alerts]')
  want=$(jq -s -c 'group_by(.vehicle)[] | [.[0].vehicle, length]' "$HG_SVC_DIR/alerts.ndjson")
  [ "$got" = "$want" ]
  # the sample is from 2019: every age is over a year
  [ "$(printf '%s\n' "${lines[@]}" | jq -c 'select(.age_s > 86400 * 365)' | wc -l)" -eq 12 ]
}

@test "vehicles: the zones each is in agree with the expected enter/exit alerts" {
  # final non-corridor zones per vehicle, from the PostGIS-computed alerts
  want=$(jq -s -r 'group_by(.vehicle)[] | . as $a | reduce $a[] as $e ({};
            if $e.kind == "zone_exit" then del(.[$e.zone_id|tostring])
            elif $e.zone_id != null then .[$e.zone_id|tostring] = true else . end)
          | [$a[0].vehicle, (keys | map(tonumber) | sort | map(tostring) | join(","))] | join("|")' "$EXPECTED")
  got=$(ctl vehicles --format json | jq -r '[.vehicle, (.zone_ids - [8] | map(tostring) | join(","))] | join("|")' \
        | grep -F -f <(echo "$want" | cut -d'|' -f1) )
  [ "$(echo "$want" | wc -l)" -eq 12 ]
  [ "$got" = "$want" ]
  [[ "$want" == *"晋A10012|3"* ]]
  run ctl vehicles --format json
  [ "$(printf '%s\n' "${lines[@]}" | jq -r 'select(.vehicle == "晋A10012") | .zones | join(",")')" = "Athletes' village (hazmat prohibited)" ]
}

@test "vehicles as a table and as CSV" {
  run ctl vehicles
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 13 ]
  [[ "${lines[0]}" == "VEHICLE"*"LAST_FIX"*"AGE"*"ZONES"*"UN"*"CLASS"*"OPEN" ]]
  [[ "${lines[12]}" == "晋A10012  2019-08-10 09:59:57"*"d "*"Athletes' village (hazmat prohibited)"*"1977"*"2.2"* ]]
  run ctl vehicles --format csv
  [ "${lines[0]}" = "vehicle,last_fix,age_s,lat,lon,speed_kmh,zone_ids,zones,un,hazard_class,carrier,open_alerts" ]
  [ "${#lines[@]}" -eq 13 ]
  [[ "${lines[1]}" == "晋A10001,2019-08-10T01:59:55.000Z,"* ]]
}

@test "vehicles --stale: silent longer than S, fresh ones left out, unheard-of ones in" {
  q "INSERT INTO positions (vehicle, ts, lat, lon, zone_ids) VALUES ('晋A10003', now() - interval '10 minutes', 37.76, 112.6, '{}')"
  q "INSERT INTO vehicles (vehicle, un, hazard_class, carrier) VALUES ('晋A20000', '1203', '3', 'Taiyuan Hazmat Co')"
  run ctl vehicles --stale 1h --format json
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 12 ]
  [[ "$output" != *'"晋A10003"'* ]]
  [ "$(printf '%s\n' "${lines[@]}" | jq -c 'select(.vehicle == "晋A20000") | [.last_fix, .un, .carrier]')" = '[null,"1203","Taiyuan Hazmat Co"]' ]
  run ctl vehicles --stale 5m --format json
  [ "${#lines[@]}" -eq 13 ]
  run ctl vehicles --stale 1h30m --format json
  [ "${#lines[@]}" -eq 12 ]
  run ctl vehicles --stale 600000000 --format json
  [ "${#lines[@]}" -eq 1 ]
  q "DELETE FROM positions WHERE vehicle = '晋A10003' AND ts > '2020-01-01'"
  q "DELETE FROM vehicles"
}

@test "vehicles: bad --stale is exit 2" {
  run ctl vehicles --stale soon
  [ "$status" -eq 2 ]
  [[ "$output" == *"--stale: 'soon' is not a duration"* ]]
  run ctl vehicles --stale
  [ "$status" -eq 2 ]
  [[ "$output" == *"option --stale needs a value"* ]]
}

@test "track GeoJSON: a LineString of the stored fixes in time order, with their times" {
  run ctl track 晋A10005 --from '2019-08-10 08:30' --to '2019-08-10 09:00'
  [ "$status" -eq 0 ]
  want=$(jq -c 'select(.vehicle == "晋A10005" and .ts >= "2019-08-10T00:30" and .ts < "2019-08-10T01:00") | [[.lon, .lat], .ts]' "$FLEET")
  [ "$(echo "$want" | wc -l)" -eq 360 ]
  [ "$(echo "$output" | jq -r '.type + "|" + .geometry.type + "|" + .properties.vehicle + "|" + (.properties.points|tostring)')" = "Feature|LineString|晋A10005|360" ]
  [ "$(echo "$output" | jq -c '.geometry.coordinates as $c | .properties.coordTimes | to_entries[] | [$c[.key], .value]')" = "$want" ]
}

@test "track: RFC 3339 and local times give the same track; --to is exclusive" {
  a=$(ctl track 晋A10005 --from 2019-08-10T00:30:00Z --to 2019-08-10T01:00:00Z)
  b=$(ctl track 晋A10005 --from '2019-08-10 08:30' --to '2019-08-10 09:00')
  [ "$a" = "$b" ]
  t0=$(jq -r 'select(.vehicle == "晋A10005" and .ts >= "2019-08-10T00:30") | .ts' "$FLEET" | head -1)
  t1=$(jq -r 'select(.vehicle == "晋A10005" and .ts >= "2019-08-10T00:30") | .ts' "$FLEET" | sed -n 2p)
  run ctl track 晋A10005 --from "$t0" --to "$t1" --format json
  [ "${#lines[@]}" -eq 1 ]
  [ "$(echo "$output" | jq -r .ts)" = "$t0" ]
}

@test "track GPX 1.1: well-formed (an XML parser reads it), one trkpt per fix with time, in order" {
  ctl track 晋A10005 --from '2019-08-10 08:30' --to '2019-08-10 09:00' --format gpx > "$BATS_FILE_TMPDIR/t.gpx"
  run python3 - "$BATS_FILE_TMPDIR/t.gpx" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"g": "http://www.topografix.com/GPX/1/1"}
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.topografix.com/GPX/1/1}gpx" and root.get("version") == "1.1"
pts = root.findall("g:trk/g:trkseg/g:trkpt", ns)
times = [p.find("g:time", ns).text for p in pts]
assert times == sorted(times)
# the schema's order inside a trkpt: ele, time, ..., fix, sat, hdop
for p in pts:
    tags = [c.tag.split("}")[1] for c in p]
    order = ["ele", "time", "fix", "sat", "hdop"]
    assert tags == sorted(tags, key=order.index), tags
print(len(pts), root.find("g:trk/g:name", ns).text, pts[0].get("lat"), pts[0].get("lon"), times[0])
PY
  [ "$status" -eq 0 ]
  first=$(jq -r 'select(.vehicle == "晋A10005" and .ts >= "2019-08-10T00:30") | "\(.lat) \(.lon) \(.ts)"' "$FLEET" | head -1)
  [ "$output" = "360 晋A10005 $first" ]
}

@test "track GPX near the equator and the prime meridian: every number is an xsd:decimal (no exponent)" {
  # PostgreSQL writes these as -5e-05, 1e-05, 2.5e-05 ...; GPX 1.1 types
  # lat, lon, ele and hdop as xsd:decimal, which has no exponent.
  q "INSERT INTO positions (vehicle, ts, lat, lon, alt_m, hdop, fix, sats, zone_ids) VALUES
     ('EQ-GPX', '2019-08-10T02:00:00Z', -5e-05, 1e-05, 2.5e-05, 1e-05, 3, 9, '{}'),
     ('EQ-GPX', '2019-08-10T02:00:01Z', 0.000123, -0.0000001, -0.00003, 0.5, 3, 9, '{}'),
     ('EQ-GPX', '2019-08-10T02:00:02Z', 0, -0, 0, 0, 2, 4, '{}'),
     ('EQ-GPX', '2019-08-10T02:00:03Z', -1.23456789012345e-07, 179.99999999999997, 123456.7, 12, NULL, NULL, '{}')"
  run ctl track EQ-GPX --from 2019-08-10T02:00:00Z --to 2019-08-10T03:00:00Z --format gpx
  q "DELETE FROM positions WHERE vehicle = 'EQ-GPX'"
  [ "$status" -eq 0 ]
  printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/eq.gpx"
  run python3 - "$BATS_TEST_TMPDIR/eq.gpx" <<'PY'
import re, sys, xml.etree.ElementTree as ET
from decimal import Decimal
ns = {"g": "http://www.topografix.com/GPX/1/1"}
xsd_decimal = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
root = ET.parse(sys.argv[1]).getroot()
pts = root.findall("g:trk/g:trkseg/g:trkpt", ns)
got = []
for p in pts:
    nums = {"lat": p.get("lat"), "lon": p.get("lon")}
    for tag in ("ele", "hdop"):
        e = p.find("g:" + tag, ns)
        if e is not None:
            nums[tag] = e.text
    for k, v in nums.items():
        assert xsd_decimal.match(v), (k, v)
    got.append({k: Decimal(v) for k, v in nums.items()})
# the values themselves: exact for double precision lat/lon, float4's
# shortest text for ele and hdop
want = [
    {"lat": Decimal("-5e-05"), "lon": Decimal("1e-05"), "ele": Decimal("2.5e-05"), "hdop": Decimal("1e-05")},
    {"lat": Decimal("0.000123"), "lon": Decimal("-1e-07"), "ele": Decimal("-3e-05"), "hdop": Decimal("0.5")},
    {"lat": Decimal(0), "lon": Decimal(0), "ele": Decimal(0), "hdop": Decimal(0)},
    {"lat": Decimal("-1.23456789012345e-07"), "lon": Decimal("179.99999999999997"), "ele": Decimal("123456.7"), "hdop": Decimal(12)},
]
assert got == want, got
print(len(pts), pts[0].get("lat"), pts[0].get("lon"), pts[0].find("g:ele", ns).text, pts[0].find("g:hdop", ns).text)
PY
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "4 -0.00005 0.00001 0.000025 0.00001" ]
}

@test "track CSV and JSON lines" {
  run ctl track 晋A10005 --from '2019-08-10 08:30' --to '2019-08-10 09:00' --format csv
  [ "${lines[0]}" = "vehicle,ts,lat,lon,speed_kmh,heading,alt_m,hdop,fix,sats,un,hazard_class,zone_ids" ]
  [ "${#lines[@]}" -eq 361 ]
  want=$(jq -r 'select(.vehicle == "晋A10005" and .ts >= "2019-08-10T00:30") | "\(.vehicle),\(.ts),\(.lat),\(.lon),\(.speed_kmh),\(.heading),,\(.hdop),\(.fix),,\(.un),\(.hazard_class),"' "$FLEET" | head -1)
  [[ "${lines[1]}" == "$want"* ]]
  run ctl track 晋A10005 --from '2019-08-10 08:30' --to '2019-08-10 09:00' --format json
  [ "${#lines[@]}" -eq 360 ]
  [ "$(echo "${lines[0]}" | jq -r '.speed_kmh|type')" = "number" ]
}

@test "track of a vehicle without positions: an empty Feature and a note" {
  run ctl track 晋Z99999 --from '2019-08-10 08:00' --to '2019-08-10 10:00'
  [ "$status" -eq 0 ]
  [[ "$output" == *"no positions of 晋Z99999"* ]]
  [[ "$output" == *'{"type":"Feature","geometry":null,'*'"points":0'* ]]
}

@test "track: a read the database refuses (first or second statement of its pipeline) is exit 1 with the reason, nothing written" {
  q "CREATE ROLE t_half LOGIN; GRANT SELECT ON positions_recent TO t_half; CREATE ROLE t_none LOGIN"
  for fmt in geojson csv; do
    run "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=t_half dbname=hazgate" \
      track 晋A10005 --from '2019-08-10 08:00' --to '2019-08-10 09:00' --format $fmt
    [ "$status" -eq 1 ]
    [ "$output" = "hazgate-ctl track: the database refused: ERROR:  permission denied for table positions_slices" ]
    run "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=t_none dbname=hazgate" \
      track 晋A10005 --from '2019-08-10 08:00' --to '2019-08-10 09:00' --format $fmt
    [ "$status" -eq 1 ]
    [ "$output" = "hazgate-ctl track: the database refused: ERROR:  permission denied for table positions_recent" ]
  done
  q "DROP OWNED BY t_half; DROP ROLE t_half; DROP ROLE t_none"
}

@test "track: bad arguments are exit 2 with the reason" {
  run ctl track 晋A10005 --from '2019-08-10 08:00'
  [ "$status" -eq 2 ]; [[ "$output" == *"--from and --to are both required"* ]]
  run ctl track --from '2019-08-10 08:00' --to '2019-08-10 09:00'
  [ "$status" -eq 2 ]; [[ "$output" == *"which vehicle?"* ]]
  run ctl track 晋A10005 --from '2019-08-10 09:00' --to '2019-08-10 08:00'
  [ "$status" -eq 2 ]; [[ "$output" == *"must be after --from"* ]]
  run ctl track 晋A10005 --from '2019-08-10 25:00' --to '2019-08-10 09:00'
  [ "$status" -eq 2 ]; [[ "$output" == *"--from: '2019-08-10 25:00' is not a time"* ]]
  run ctl track 晋A10005 --from '2019-02-30 08:00' --to '2019-08-10 09:00'
  [ "$status" -eq 2 ]
  run ctl track 晋A10005 --from 2019-08-10T08:00:00+0800 --to '2019-08-10 09:00'
  [ "$status" -eq 2 ]
  run ctl track 晋A10005 --from '2019-08-10 08:00' --to '2019-08-10 09:00' --format kml
  [ "$status" -eq 2 ]; [[ "$output" == *"one of: json, csv, geojson, gpx"* ]]
}

@test "track reads both tiers in one snapshot: a compaction committed meanwhile neither doubles nor drops a fix" {
  # 60 fixes of a day of 2018 (no other test's), in rows
  q "INSERT INTO positions (vehicle, ts, lat, lon, speed_kmh, seq)
     SELECT 'S42', '2018-03-01 10:00:00+00'::timestamptz + i * interval '10 s',
            37.8 + i * 0.0001, 112.5, 30.5, i FROM generate_series(0, 59) i"
  range=(--from 2018-03-01T00:00:00Z --to 2018-03-02T00:00:00Z --format csv)
  ctl track S42 "${range[@]}" > "$BATS_TEST_TMPDIR/before.csv"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/before.csv")" = 61 ]
  # The track pauses 2 s between its read of the rows and its read of the
  # slices; the day is compacted meanwhile. Before the one snapshot, the
  # compaction committed in the pause and the track had every fix twice.
  HAZGATE_TEST_READ_PAUSE_MS=2000 ctl track S42 "${range[@]}" > "$BATS_TEST_TMPDIR/during.csv" &
  t=$!
  sleep 0.5
  run ctl compact --before 2018-03-02
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  wait "$t"
  [ "$(q "SELECT sum(n) FROM positions_slices WHERE vehicle = 'S42'")" = 60 ]
  cmp "$BATS_TEST_TMPDIR/before.csv" "$BATS_TEST_TMPDIR/during.csv"
  ctl track S42 "${range[@]}" > "$BATS_TEST_TMPDIR/after.csv"
  cmp "$BATS_TEST_TMPDIR/before.csv" "$BATS_TEST_TMPDIR/after.csv"
}
