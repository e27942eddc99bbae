#!/usr/bin/env bats
# 46-ctl-zones-past: zones for past days (issue 14). `zones import
# --valid-from T --valid-to T` records a zone file as in force over a past
# period in zones_history (hazgate_zones_import_period, schema/011), the
# live zones untouched: `zones list/export --at` and `audit` then use it.
# The same import twice changes nothing; a later import wins over its own
# period; bad arguments are exit 2 and change nothing. The database starts
# with the fleet sample's positions and alerts and no zones at all.

setup_file() {
  eval "$("$HG_SRCDIR/scripts/services-start" --no-mqtt)"
  export HG_SVC_DIR PGHOST PGPORT PGUSER PGDATABASE HG_PG_CONNINFO
  HG_FILL_ZONES=no "$HG_SRCDIR/tests/data/ctl/fill-db.sh" "$HG_SVC_DIR"
}

teardown_file() {
  "$HG_SRCDIR/scripts/services-stop" "$HG_SVC_DIR"
}

ctl() { "$HG_BUILDDIR/hazgate-ctl" "$@"; }
admin() { "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=t_admin dbname=hazgate" "$@"; }
disp() { "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=t_disp dbname=hazgate" "$@"; }
q() { psql -XqAt -v ON_ERROR_STOP=1 -c "$*"; }
ZONES="$HG_SHARED/data/zones-taiyuan.geojson"
DAY=(--from '2019-08-10 08:00' --to '2019-08-10 10:00')
PERIOD=(--valid-from 2019-08-01T00:00:00Z --valid-to 2019-08-20T00:00:00Z)
# The history as one line per version: zone, from, to, radius (circles).
history() {
  q "SELECT string_agg(zone_id || ' ' || to_char(valid_from AT TIME ZONE 'UTC', 'MM-DD') || '..' ||
       coalesce(to_char(valid_to AT TIME ZONE 'UTC', 'MM-DD'), 'open') ||
       coalesce(' r' || (feature->'properties'->>'radius_m'), ''), ', ' ORDER BY zone_id, valid_from)
     FROM zones_history WHERE zone_id IN ($1)"
}

@test "before: no zones in force on 2019-08-10, and the audit says so" {
  run disp audit "${DAY[@]}" --format json
  [ "$status" -eq 0 ]
  [[ "$output" == *"no zones were in force at 2019-08-10T00:00:00.000Z"* ]]
  [ "$(q "SELECT count(*) FROM zones_history")" = "0" ]
}

@test "import for 2019-08-01..20: recorded as of then, the live set untouched" {
  run admin zones import "${PERIOD[@]}" "$ZONES"
  [ "$status" -eq 0 ]
  [ "$output" = "10 zones in $ZONES, in force 2019-08-01T00:00:00.000Z .. 2019-08-20T00:00:00.000Z: 10 added, 0 replaced, 0 unchanged" ]
  [ "$(q "SELECT count(*) FROM zones")" = "0" ]
  [ "$(q "SELECT count(*) || ' ' || min(valid_from) || ' ' || max(valid_to) || ' ' || string_agg(DISTINCT changed_by, ',') FROM zones_history")" = \
    "10 2019-08-01 00:00:00+00 2019-08-20 00:00:00+00 t_admin" ]
  # the features are the file's
  [ "$(q "SELECT feature FROM zones_history" | jq -S -c . | sort)" = "$(jq -S -c '.features[]' "$ZONES" | sort)" ]
  # nothing is in force now
  run ctl zones list --format json
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "zones list and export --at a time of the period show them; not after it" {
  run disp zones list --at 2019-08-10T00:00:00Z --format json
  [ "$status" -eq 0 ]
  [ "$(printf '%s\n' "${lines[@]}" | jq -r .id | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 " ]
  [ "$(printf '%s\n' "${lines[@]}" | jq -r .updated_at | sort -u)" = "2019-08-01T00:00:00.000Z" ]
  disp zones export --at '2019-08-10 08:00' > "$BATS_FILE_TMPDIR/export.geojson"
  [ "$(jq -S -c '.features' "$BATS_FILE_TMPDIR/export.geojson")" = "$(jq -S -c '.features | sort_by(.properties.id)' "$ZONES")" ]
  # the end is exclusive, the start inclusive
  [ -z "$(disp zones list --at 2019-08-20T00:00:00Z --format json)" ]
  [ "$(disp zones list --at 2019-08-01T00:00:00Z --format json | wc -l)" -eq 10 ]
  [ -z "$(disp zones list --at 2019-07-31T23:59:59Z --format json)" ]
}

@test "the audit over that day finds the sample's violations, as with the zone file" {
  run disp audit "${DAY[@]}" --format json
  [ "$status" -eq 0 ]
  [[ "$output" != *"no zones were in force"* ]]
  a=$(printf '%s\n' "${lines[@]}" | grep '^{')
  b=$(disp audit "${DAY[@]}" --zones "$ZONES" --format json 2>/dev/null)
  [ "$(echo "$a" | wc -l)" -eq 32 ]
  [ "$a" = "$b" ]
  # the PostGIS-computed prohibited entries and route deviations among them
  key='[.vehicle, .ts, .kind, .zone_id] | @json'
  want=$(jq -r "select(.kind | IN(\"prohibited_entry\", \"route_deviation\")) | $key" "$HG_SHARED/data/expected-sample.ndjson" | sort)
  [ "$(echo "$a" | jq -r "select(.kind | IN(\"prohibited_entry\", \"route_deviation\")) | $key" | sort)" = "$want" ]
  [[ "$output" == *"17280 fixes, 1 zone sets, 32 violations: 0 acknowledged, 32 open, 0 missing a live alert"* ]]
}

@test "a second identical import changes nothing" {
  before=$(q "SELECT md5(string_agg(zone_id || ' ' || valid_from || coalesce(valid_to::text, '') || feature::text || changed_by, '|' ORDER BY zone_id, valid_from)) FROM zones_history")
  xmin=$(q "SELECT string_agg(xmin::text, ',' ORDER BY zone_id) FROM zones_history")
  run admin zones import "${PERIOD[@]}" "$ZONES"
  [ "$status" -eq 0 ]
  [[ "$output" == *": 0 added, 0 replaced, 10 unchanged" ]]
  [ "$(q "SELECT md5(string_agg(zone_id || ' ' || valid_from || coalesce(valid_to::text, '') || feature::text || changed_by, '|' ORDER BY zone_id, valid_from)) FROM zones_history")" = "$before" ]
  # not even rewritten
  [ "$(q "SELECT string_agg(xmin::text, ',' ORDER BY zone_id) FROM zones_history")" = "$xmin" ]
}

@test "an overlapping period: the later import wins over its own period, the rest is kept" {
  # a new version of the airport circle (zone 5, 2000 m -> 2500 m) from the
  # 10th to the 31st, and no zone 10 in that file
  jq '(.features[] | select(.properties.id == 5) | .properties.radius_m) |= 2500
      | .features |= map(select(.properties.id != 10))' "$ZONES" > "$BATS_FILE_TMPDIR/z2.geojson"
  run admin zones import --valid-from 2019-08-10T00:00:00Z --valid-to 2019-08-31T00:00:00Z "$BATS_FILE_TMPDIR/z2.geojson"
  [ "$status" -eq 0 ]
  [[ "$output" == *": 0 added, 9 replaced, 0 unchanged" ]]
  [ "$(history 5,10)" = "5 08-01..08-10 r2000, 5 08-10..08-31 r2500, 10 08-01..08-20 r350" ]
  [ "$(history 1)" = "1 08-01..08-10, 1 08-10..08-31" ]
  # the first file for its period again: it wins there, the later one keeps 20..31
  run admin zones import "${PERIOD[@]}" "$ZONES"
  [[ "$output" == *": 0 added, 9 replaced, 1 unchanged" ]]
  [ "$(history 5,10)" = "5 08-01..08-20 r2000, 5 08-20..08-31 r2500, 10 08-01..08-20 r350" ]
  # a period inside one version splits it in three
  run admin zones import --valid-from 2019-08-05T00:00:00Z --valid-to 2019-08-06T00:00:00Z "$BATS_FILE_TMPDIR/z2.geojson"
  [[ "$output" == *": 0 added, 9 replaced, 0 unchanged" ]]
  [ "$(history 5)" = "5 08-01..08-05 r2000, 5 08-05..08-06 r2500, 5 08-06..08-20 r2000, 5 08-20..08-31 r2500" ]
  [ "$(disp zones list --at 2019-08-05T12:00:00Z --format json | jq -r 'select(.id == 5) | .radius_m')" = "2500" ]
  # --replace: the zones not in the file were in force nowhere in the period
  run admin zones import --replace --valid-from 2019-08-05T00:00:00Z --valid-to 2019-08-06T00:00:00Z "$BATS_FILE_TMPDIR/z2.geojson"
  [[ "$output" == *": 0 added, 0 replaced, 9 unchanged, 1 withdrawn" ]]
  [ "$(history 10)" = "10 08-01..08-05 r350, 10 08-06..08-20 r350" ]
  [ "$(disp zones list --at 2019-08-05T12:00:00Z --format json | jq -r .id | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 " ]
  # the first file for the whole period puts everything back as it was
  admin zones import "${PERIOD[@]}" "$ZONES" >/dev/null
  [ "$(history 5,10)" = "5 08-01..08-20 r2000, 5 08-20..08-31 r2500, 10 08-01..08-20 r350" ]
  [ "$(q "SELECT count(*) FROM zones")" = "0" ]
}

@test "without --valid-to: in force from T on, the live zones too (a gateway reloads)" {
  run admin zones import --valid-from 2019-08-25T00:00:00Z "$ZONES"
  [ "$status" -eq 0 ]
  [[ "$output" == *"in force 2019-08-25T00:00:00.000Z .. now and on (the live zones too): 1 added, 9 replaced, 0 unchanged" ]]
  # (zone 10 had no version from the 25th on: added)
  [ "$(q "SELECT count(*) || ' ' || string_agg(DISTINCT updated_by, ',') FROM zones")" = "10 t_admin" ]
  [ "$(history 5)" = "5 08-01..08-20 r2000, 5 08-20..08-25 r2500, 5 08-25..open r2000" ]
  [ "$(q "SELECT count(*) FROM zones_history WHERE valid_to IS NULL")" = "10" ]
  # again: nothing changes; and a plain import finds the live set as the file
  run admin zones import --valid-from 2019-08-25T00:00:00Z "$ZONES"
  [[ "$output" == *": 0 added, 0 replaced, 10 unchanged" ]]
  run admin zones import "$ZONES"
  [ "$output" = "10 zones in $ZONES: 0 added, 0 updated, 10 unchanged" ]
  # a later change of the live zones closes the open versions as before
  q "UPDATE zones SET name = 'renamed' WHERE id = 5"
  [ "$(q "SELECT count(*) FROM zones_history WHERE zone_id = 5 AND valid_to IS NULL AND name = 'renamed'")" = "1" ]
  [ "$(q "SELECT count(*) FROM zones_history WHERE zone_id = 5 AND valid_from = '2019-08-25T00:00:00Z' AND valid_to IS NOT NULL")" = "1" ]
}

@test "without --valid-to on an empty database: added, not replaced (the trigger's own versions do not count)" {
  q "CREATE DATABASE fresh"
  PGDATABASE=fresh ctl migrate >/dev/null
  run env PGDATABASE=fresh "$HG_BUILDDIR/hazgate-ctl" zones import --valid-from 2019-08-01T00:00:00Z "$ZONES"
  [ "$status" -eq 0 ]
  [[ "$output" == *"in force 2019-08-01T00:00:00.000Z .. now and on (the live zones too): 10 added, 0 replaced, 0 unchanged" ]]
  [ "$(psql -XqAt -d fresh -c "SELECT count(*) || ' ' || min(valid_from) || ' ' || count(valid_to) FROM zones_history")" = "10 2019-08-01 00:00:00+00 0" ]
  [ "$(psql -XqAt -d fresh -c "SELECT count(*) FROM zones")" = "10" ]
  q "DROP DATABASE fresh"
}

@test "bad periods and arguments are exit 2 and change nothing" {
  before=$(q "SELECT md5(string_agg(zone_id || ' ' || valid_from || coalesce(valid_to::text, ''), '|' ORDER BY zone_id, valid_from)) FROM zones_history")
  run admin zones import --valid-from 2019-08-20T00:00:00Z --valid-to 2019-08-01T00:00:00Z "$ZONES"
  [ "$status" -eq 2 ]; [[ "$output" == *"--valid-to (2019-08-01T00:00:00.000Z) must be after --valid-from (2019-08-20T00:00:00.000Z)"* ]]
  run admin zones import --valid-from 2019-08-01T00:00:00Z --valid-to 2019-08-01T00:00:00Z "$ZONES"
  [ "$status" -eq 2 ]; [[ "$output" == *"must be after"* ]]
  run admin zones import --valid-from 1999-12-31T23:59:59Z --valid-to 2019-08-01T00:00:00Z "$ZONES"
  [ "$status" -eq 2 ]; [[ "$output" == *"--valid-from (1999-12-31T23:59:59.000Z) is before 2000"* ]]
  run admin zones import --valid-from 2019-08-01T00:00:00Z --valid-to 2099-01-01T00:00:00Z "$ZONES"
  [ "$status" -eq 2 ]; [[ "$output" == *"--valid-to (2099-01-01T00:00:00.000Z) is in the future; leave it out"* ]]
  run admin zones import --valid-from 2099-01-01T00:00:00Z "$ZONES"
  [ "$status" -eq 2 ]; [[ "$output" == *"--valid-from (2099-01-01T00:00:00.000Z) is in the future"* ]]
  run admin zones import --valid-from 'the first of August' "$ZONES"
  [ "$status" -eq 2 ]; [[ "$output" == *"--valid-from: 'the first of August' is not a time"* ]]
  run admin zones import --valid-to 2019-08-01T00:00:00Z "$ZONES"
  [ "$status" -eq 2 ]; [[ "$output" == *"--valid-to needs --valid-from"* ]]
  run admin zones list --valid-from 2019-08-01T00:00:00Z
  [ "$status" -eq 2 ]; [[ "$output" == *"--valid-from and --valid-to are for import"* ]]
  run admin zones import "${PERIOD[@]}" "$HG_SRCDIR/tests/data/ctl/bad-ring.geojson"
  [ "$status" -eq 2 ]; [[ "$output" == *"feature 1 (id 42)"*"nothing was changed"* ]]
  [ "$(q "SELECT md5(string_agg(zone_id || ' ' || valid_from || coalesce(valid_to::text, ''), '|' ORDER BY zone_id, valid_from)) FROM zones_history")" = "$before" ]
}

@test "roles: a dispatcher may not import a period; no role writes zones_history directly" {
  run disp zones import "${PERIOD[@]}" "$ZONES"
  [ "$status" -eq 1 ]
  [[ "$output" == *"permission denied for function hazgate_zones_import_period"* ]]
  [[ "$output" == *"nothing was changed (zones import needs the hazgate_admin role)"* ]]
  run psql -XqAt -h "$PGHOST" -p "$PGPORT" -U t_admin -d hazgate \
    -c "INSERT INTO zones_history (zone_id, name, kind, feature, valid_from, changed_by) VALUES (99, 'x', 'depot', '{}', '2019-08-01', 'x')"
  [ "$status" -ne 0 ]; [[ "$output" == *"permission denied for table zones_history"* ]]
  run psql -XqAt -h "$PGHOST" -p "$PGPORT" -U t_admin -d hazgate -c "SELECT hazgate_zones_history_cut(5, '2019-08-01', '2019-08-31')"
  [ "$status" -ne 0 ]; [[ "$output" == *"permission denied for function hazgate_zones_history_cut"* ]]
  # the function checks the period itself too
  run psql -XqAt -h "$PGHOST" -p "$PGPORT" -U t_admin -d hazgate \
    -c "SELECT * FROM hazgate_zones_import_period('[]', '2019-08-20', '2019-08-01', false)"
  [ "$status" -ne 0 ]; [[ "$output" == *"is not after valid_from"* ]]
  run psql -XqAt -h "$PGHOST" -p "$PGPORT" -U t_admin -d hazgate \
    -c "SELECT * FROM hazgate_zones_import_period('[{\"id\":1,\"name\":\"a\",\"kind\":\"depot\",\"feature\":{}},{\"id\":1,\"name\":\"b\",\"kind\":\"depot\",\"feature\":{}}]', '2019-08-01', '2019-08-02', false)"
  [ "$status" -ne 0 ]; [[ "$output" == *"every zone needs an id of its own"* ]]
}
