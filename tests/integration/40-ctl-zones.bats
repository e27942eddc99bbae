#!/usr/bin/env bats
# 40-ctl-zones: hazgate-ctl zones import / list / export against a private
# PostgreSQL: the loader's validation, one transaction, the re-import round
# trip, --replace, the gateway's reload notification, the roles.

setup_file() {
  eval "$("$HG_SRCDIR/scripts/services-start" --no-mqtt)"
  export HG_SVC_DIR PGHOST PGPORT PGUSER PGDATABASE HG_PG_CONNINFO
  "$HG_BUILDDIR/hazgate-ctl" migrate >/dev/null
  psql -XqAt -v ON_ERROR_STOP=1 -c "CREATE ROLE t_disp LOGIN IN ROLE hazgate_dispatcher" \
    -c "CREATE ROLE t_admin LOGIN IN ROLE hazgate_admin"
}

teardown_file() {
  "$HG_SRCDIR/scripts/services-stop" "$HG_SVC_DIR"
}

ctl() { "$HG_BUILDDIR/hazgate-ctl" "$@"; }
q() { psql -XqAt -v ON_ERROR_STOP=1 -c "$*"; }
ZONES="$HG_SHARED/data/zones-taiyuan.geojson"
FIX="$HG_SRCDIR/tests/data/ctl"

@test "import adds the 10 sample zones as the admin role" {
  run ctl -d "host=$PGHOST port=$PGPORT user=t_admin dbname=hazgate" zones import "$ZONES"
  [ "$status" -eq 0 ]
  [ "$output" = "10 zones in $ZONES: 10 added, 0 updated, 0 unchanged" ]
  [ "$(q "SELECT string_agg(id || ':' || kind, ',' ORDER BY id) FROM zones")" = \
    "1:event_venue,2:event_venue,3:prohibited,4:prohibited,5:prohibited,6:event_venue,7:depot,8:corridor,9:restricted,10:restricted" ]
  [ "$(q "SELECT name FROM zones WHERE id = 5")" = "Wusu airport" ]
  [ "$(q "SELECT count(*) FROM zones_history")" = "10" ]
}

@test "the stored features are the file's features" {
  run bash -c "jq -S -c '.features[]' '$ZONES' | sort"
  want=$output
  run bash -c "psql -XqAt -c 'SELECT feature FROM zones' | jq -S -c . | sort"
  [ "$output" = "$want" ]
}

@test "import again: everything unchanged, no new history" {
  run ctl zones import "$ZONES"
  [ "$status" -eq 0 ]
  [ "$output" = "10 zones in $ZONES: 0 added, 0 updated, 10 unchanged" ]
  [ "$(q "SELECT count(*) FROM zones_history")" = "10" ]
}

@test "export then import is the round trip: identical zones and identical export" {
  ctl zones export > "$BATS_FILE_TMPDIR/export.geojson"
  run jq -r '.type, (.features | length), ([.features[].properties.id] | join(","))' \
    "$BATS_FILE_TMPDIR/export.geojson"
  [ "${lines[0]}" = "FeatureCollection" ]
  [ "${lines[1]}" = "10" ]
  [ "${lines[2]}" = "1,2,3,4,5,6,7,8,9,10" ]
  before=$(q "SELECT md5(string_agg(id || name || kind || feature::text, '|' ORDER BY id)) FROM zones")
  run ctl zones import "$BATS_FILE_TMPDIR/export.geojson"
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 added, 0 updated, 10 unchanged" ]]
  [ "$(q "SELECT md5(string_agg(id || name || kind || feature::text, '|' ORDER BY id)) FROM zones")" = "$before" ]
  ctl zones export > "$BATS_FILE_TMPDIR/export2.geojson"
  cmp "$BATS_FILE_TMPDIR/export.geojson" "$BATS_FILE_TMPDIR/export2.geojson"
  # and the export is semantically the original file
  [ "$(jq -S -c '.features' "$BATS_FILE_TMPDIR/export.geojson")" = "$(jq -S -c '.features | sort_by(.properties.id)' "$ZONES")" ]
}

@test "a file with a bad feature is refused whole, naming it, with exit 2" {
  before=$(q "SELECT count(*) FROM zones_history")
  run ctl zones import "$FIX/bad-ring.geojson"
  [ "$status" -eq 2 ]
  [[ "$output" == *"feature 1 (id 42)"* ]]
  [[ "$output" == *"nothing was changed"* ]]
  [ "$(q "SELECT count(*) FROM zones WHERE id IN (1, 42) AND name = 'fine'")" = "0" ]
  [ "$(q "SELECT count(*) FROM zones_history")" = "$before" ]
}

@test "not a FeatureCollection, and a missing file, are exit 2" {
  echo '{"type":"Feature"}' > "$BATS_FILE_TMPDIR/f.geojson"
  run ctl zones import "$BATS_FILE_TMPDIR/f.geojson"
  [ "$status" -eq 2 ]
  [[ "$output" == *"FeatureCollection"* ]]
  run ctl zones import /nonexistent.geojson
  [ "$status" -eq 2 ]
  [[ "$output" == *"cannot read /nonexistent.geojson"* ]]
}

@test "the dispatcher role cannot import: exit 1, nothing changed, a hint" {
  run ctl -d "host=$PGHOST port=$PGPORT user=t_disp dbname=hazgate" zones import "$FIX/two-zones.geojson"
  [ "$status" -eq 1 ]
  [[ "$output" == *"permission denied"* ]]
  [[ "$output" == *"hazgate_admin"* ]]
  [ "$(q "SELECT count(*) FROM zones")" = "10" ]
  # but it may list
  run ctl -d "host=$PGHOST port=$PGPORT user=t_disp dbname=hazgate" zones list --format csv
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 11 ]
}

@test "an import notifies hazgate_zones (the gateway reloads)" {
  # A listener in psql sees the notification of a commit by another session.
  # The import starts only once the listener says it is listening, and the
  # listener polls (SELECT 1 every 0.1 s, 20 s at most) until the
  # notification is there: no guess at how long psql takes to start or the
  # import to commit.
  local d="$BATS_FILE_TMPDIR/listen"
  mkdir -p "$d"
  ( echo 'LISTEN hazgate_zones;'; echo "SELECT 'listening';"
    for _ in $(seq 1 200); do [ -e "$d/stop" ] && break; echo 'SELECT 1;'; sleep 0.1; done
  ) | psql -XqAt > "$d/out" 2>&1 3>&- &
  local listener=$!
  for _ in $(seq 1 200); do grep -qx listening "$d/out" && break; sleep 0.1; done
  grep -qx listening "$d/out"
  ctl zones import "$FIX/two-zones.geojson" > "$BATS_FILE_TMPDIR/imp.out"
  for _ in $(seq 1 200); do grep -q 'notification "hazgate_zones"' "$d/out" && break; sleep 0.1; done
  touch "$d/stop"
  wait "$listener"
  cat "$d/out"
  grep -q 'notification "hazgate_zones"' "$d/out"
  [ "$(cat "$BATS_FILE_TMPDIR/imp.out")" = "2 zones in $FIX/two-zones.geojson: 1 added, 1 updated, 0 unchanged" ]
  [ "$(q "SELECT name FROM zones WHERE id = 7")" = "Qingxu depot (redrawn)" ]
  [ "$(q "SELECT count(*) FROM zones")" = "11" ]
}

@test "zones list: table, json and csv" {
  run ctl zones list
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "ID  NAME"*"KIND"*"GEOMETRY"* ]]
  [ "${#lines[@]}" -eq 12 ]
  [[ "${lines[5]}" == *"Wusu airport"*"prohibited"*"Point"*"always"* ]]
  run ctl zones list --format json
  [ "${#lines[@]}" -eq 11 ]
  [ "$(echo "${lines[4]}" | jq -c '[.id, .kind, .geometry, .radius_m, .active]')" = '[5,"prohibited","Point",2000,"always"]' ]
  [ "$(echo "${lines[3]}" | jq -c '.hazard_classes')" = '["2.1","3","6.1"]' ]
  run ctl zones list --format csv
  [ "${lines[0]}" = "id,name,kind,geometry,radius_m,width_m,active,hazard_classes,speed_limit_kmh,max_dwell_s,datum,vehicles,updated_at,updated_by" ]
  [[ "${lines[4]}" == '4,"City core, daytime ban",prohibited,Polygon,'* ]]
  [[ "${lines[4]}" == *',"2.1,3,6.1",'* ]]
}

@test "--replace deletes the zones that are not in the file" {
  run ctl zones import --replace "$FIX/two-zones.geojson"
  [ "$status" -eq 0 ]
  [ "$output" = "2 zones in $FIX/two-zones.geojson: 0 added, 0 updated, 2 unchanged, 9 deleted" ]
  [ "$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM zones")" = "7,11" ]
  [ "$(q "SELECT count(*) FROM zones_history WHERE valid_to IS NULL")" = "2" ]
}

@test "zones list --at and export --at give the zones in force at a time" {
  t=$(q "SELECT to_char(min(valid_from) AT TIME ZONE 'UTC' + interval '1 microsecond', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM zones_history")
  run ctl zones export --at "$t"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq '.features | length')" = "10" ]
  [ "$(echo "$output" | jq -r '.features[6].properties.name')" = "Qingxu chemical park depot" ]
  run ctl zones list --at now --format json
  [ "${#lines[@]}" -eq 2 ]
}

@test "zones: bad subcommands and arguments are exit 2 with the reason" {
  run ctl zones
  [ "$status" -eq 2 ]; [[ "$output" == *"import, list or export"* ]]
  run ctl zones frobnicate
  [ "$status" -eq 2 ]; [[ "$output" == *"unknown zones command 'frobnicate'"* ]]
  run ctl zones import
  [ "$status" -eq 2 ]; [[ "$output" == *"import needs a FILE"* ]]
  run ctl zones list --replace
  [ "$status" -eq 2 ]; [[ "$output" == *"--replace is for import"* ]]
  run ctl zones list --at yesterday
  [ "$status" -eq 2 ]; [[ "$output" == *"--at: 'yesterday' is not a time"* ]]
  run ctl zones list --format xml
  [ "$status" -eq 2 ]; [[ "$output" == *"unknown --format 'xml' (one of: table, json, csv)"* ]]
}
