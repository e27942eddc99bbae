#!/usr/bin/env bats
# 46-ctl-registry: the fleet registry with hazgate-ctl (schema 010):
# vehicles import (CSV, JSON), set, show, --never-seen; a bad file names
# file, line and column and writes nothing; routes must be corridors; the
# roles; NOTIFY hazgate_registry. On the database of tests/data/ctl
# (fill-db.sh: the sample zones, the sample fleet's positions).

load "$HG_SRCDIR/tests/data/ctl/helpers.bash"

admin() { "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=t_admin dbname=hazgate" "$@"; }
count() { q "SELECT count(*) FROM vehicles"; }

@test "import CSV: every column, lists, quotes, then show" {
  cat > "$BATS_TEST_TMPDIR/fleet.csv" <<'CSV'
vehicle,un,hazard_class,carrier,driver,terminal_phone,routes,devices
晋A20001,1203,3,"Taiyuan Hazmat Co, Ltd",Wang Wei,014450376202,8,jane:iphone;john:pixel
晋A20002,1005,2.3,Jinzhong Gas,,,,
晋A10001,1203,3,,,,8,
CSV
  run admin vehicles import "$BATS_TEST_TMPDIR/fleet.csv"
  [ "$status" -eq 0 ]
  [ "$output" = "3 vehicles in $BATS_TEST_TMPDIR/fleet.csv: 3 added, 0 updated" ]
  run ctl vehicles show 晋A20001 --format json
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c '[.vehicle,.un,.hazard_class,.carrier,.driver,.terminal_phone,.routes,.devices,.last_fix]')" = \
    '["晋A20001","1203","3","Taiyuan Hazmat Co, Ltd","Wang Wei","014450376202",[8],["jane:iphone","john:pixel"],null]' ]
  [ "$(q "SELECT vehicle FROM vehicle_devices WHERE device = 'john:pixel'")" = "晋A20001" ]
  # a vehicle with positions shows its last fix
  run ctl vehicles show 晋A10001 --format json
  [ "$(echo "$output" | jq -r .last_fix)" = "2019-08-10T01:59:55.000Z" ]
  run ctl vehicles show 晋A10001
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "VEHICLE"*"UN"*"CLASS"*"CARRIER"*"DRIVER"*"TERMINAL"*"ROUTES"*"DEVICES"* ]]
  run ctl vehicles show 晋Z99999
  [ "$status" -eq 1 ]
  [[ "$output" == *"no vehicle '晋Z99999' in the registry"* ]]
}

@test "import again: updated, a column left out keeps its value, an empty one clears it" {
  printf 'vehicle,hazard_class,driver\n晋A20001,2.1,\n' > "$BATS_TEST_TMPDIR/upd.csv"
  run admin vehicles import "$BATS_TEST_TMPDIR/upd.csv"
  [ "$status" -eq 0 ]
  [[ "$output" == *": 0 added, 1 updated" ]]
  [ "$(q "SELECT concat_ws('|', un, hazard_class, coalesce(driver, 'NULL'), carrier, terminal_phone, routes) FROM vehicles WHERE vehicle = '晋A20001'")" = \
    "1203|2.1|NULL|Taiyuan Hazmat Co, Ltd|014450376202|{8}" ]
  [ "$(q "SELECT count(*) FROM vehicle_devices WHERE vehicle = '晋A20001'")" = "2" ]
}

@test "import JSON lines and a JSON array; a device moves to its new plate" {
  cat > "$BATS_TEST_TMPDIR/fleet.json" <<'JSON'
{"vehicle":"晋A20003","un":"1830","hazard_class":"8","routes":[8],"devices":["john:pixel"]}
{"vehicle":"晋A20004","carrier":"Datong Logistics","driver":null}
JSON
  run admin vehicles import "$BATS_TEST_TMPDIR/fleet.json"
  [ "$status" -eq 0 ]
  [[ "$output" == *"2 vehicles in "*": 2 added, 0 updated" ]]
  [ "$(q "SELECT vehicle FROM vehicle_devices WHERE device = 'john:pixel'")" = "晋A20003" ]
  [ "$(q "SELECT string_agg(device, ',') FROM vehicle_devices WHERE vehicle = '晋A20001'")" = "jane:iphone" ]
  echo '[{"vehicle":"晋A20004","un":"1203"}]' > "$BATS_TEST_TMPDIR/arr.json"
  run admin vehicles import "$BATS_TEST_TMPDIR/arr.json"
  [ "$status" -eq 0 ]
  [ "$(q "SELECT un || '|' || carrier FROM vehicles WHERE vehicle = '晋A20004'")" = "1203|Datong Logistics" ]
}

@test "a bad line names file, line and column, and nothing is written" {
  local before=$(count) f="$BATS_TEST_TMPDIR/bad.csv"
  printf 'vehicle,un,hazard_class\n晋A30001,1203,3\n晋A30002,12034567,3\n' > "$f"
  run admin vehicles import "$f"
  [ "$status" -eq 2 ]
  [[ "$output" == "hazgate-ctl vehicles: $f:3: column 2 (un): '12034567': un must be 1..7 bytes; nothing was changed" ]]
  printf 'vehicle,terminal_phone\n晋A30001,0123\n晋A30002,01x3\n' > "$f"
  run admin vehicles import "$f"
  [ "$status" -eq 2 ]
  [[ "$output" == *"$f:3: column 2 (terminal_phone): '01x3' is not a terminal phone"* ]]
  printf 'vehicle,un\n晋A30001,1203\n晋A30001,1203\n' > "$f"
  run admin vehicles import "$f"
  [ "$status" -eq 2 ]
  [[ "$output" == *"$f:3: column 1 (vehicle): vehicle '晋A30001' is registered twice"* ]]
  printf 'vehicle,un\n"晋A30001,1203\n' > "$f"
  run admin vehicles import "$f"
  [ "$status" -eq 2 ]
  [[ "$output" == *"$f:"* ]]
  printf '{"vehicle":"晋A30001"}\n{"vehicle":"晋A30002","hazard_class":"3 "}\n' > "$BATS_TEST_TMPDIR/bad.json"
  run admin vehicles import "$BATS_TEST_TMPDIR/bad.json"
  [ "$status" -eq 2 ]
  [[ "$output" == *"bad.json:2: hazard_class: '3 ': hazard_class must be printable ASCII without spaces; nothing was changed" ]]
  [ "$(count)" = "$before" ]
}

@test "routes must be corridor zones; a refused row rolls the whole import back" {
  local before=$(count) f="$BATS_TEST_TMPDIR/routes.csv"
  printf 'vehicle,routes\n晋A30001,8\n晋A30002,5\n' > "$f"
  run admin vehicles import "$f"
  [ "$status" -eq 2 ]
  [[ "$output" == *"$f:3: vehicle 晋A30002: route 5 is a prohibited zone, not a corridor; nothing was changed"* ]]
  printf 'vehicle,routes\n晋A30001,8\n晋A30002,77\n' > "$f"
  run admin vehicles import "$f"
  [ "$status" -eq 2 ]
  [[ "$output" == *"route 77 is no zone"* ]]
  # The database refuses the third row (a phone another vehicle has): the
  # first two are not kept.
  printf 'vehicle,terminal_phone\n晋A30001,013800000001\n晋A30002,013800000002\n晋A30003,014450376202\n' > "$f"
  run admin vehicles import "$f"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$f:4: vehicle 晋A30003: "*"vehicles_terminal_phone"* ]]
  [[ "$output" == *"nothing was changed"* ]]
  [ "$(count)" = "$before" ]
}

@test "set: adds or changes the values given, --route and --device repeat, empty clears" {
  run admin vehicles set 晋A20005 --un 1203 --class 3 --route 8 --device ann:tab --device bob:tab --format json
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c '[.un,.hazard_class,.routes,.devices]')" = '["1203","3",[8],["ann:tab","bob:tab"]]' ]
  run admin vehicles set 晋A20005 --class 2.1 --driver 'Li Na' --route '' --format json
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c '[.un,.hazard_class,.driver,.routes,.devices]')" = '["1203","2.1","Li Na",[],["ann:tab","bob:tab"]]' ]
  run admin vehicles set 晋A20005 --class 'a b'
  [ "$status" -eq 2 ]
  [[ "$output" == *"--class: 'a b': hazard_class must be printable ASCII without spaces"* ]]
  run admin vehicles set 晋A20005 --route 3
  [ "$status" -eq 2 ]
  [[ "$output" == *"route 3 is a prohibited zone, not a corridor"* ]]
  run admin vehicles set 晋A20005 --terminal-phone 123456789012345678901
  [ "$status" -eq 2 ]
  run admin vehicles set --un 1203
  [ "$status" -eq 2 ]
  [[ "$output" == *"set needs a plate"* ]]
  [ "$(q "SELECT hazard_class FROM vehicles WHERE vehicle = '晋A20005'")" = "2.1" ]
}

@test "--never-seen: registered vehicles without a stored fix" {
  run ctl vehicles --never-seen --format json
  [ "$status" -eq 0 ]
  got=$(printf '%s\n' "${lines[@]}" | jq -r .vehicle | paste -sd,)
  [ "$got" = "晋A20001,晋A20002,晋A20003,晋A20004,晋A20005" ]
  [[ "$got" != *晋A10001* ]]
  run ctl vehicles --never-seen --stale 5m
  [ "$status" -eq 2 ]
  # the list of today keeps working
  run ctl vehicles --format json
  [ "$status" -eq 0 ]
  [ "$(printf '%s\n' "${lines[@]}" | jq -r 'select(.vehicle == "晋A20002") | .carrier')" = "Jinzhong Gas" ]
}

@test "roles: a dispatcher reads the registry but cannot change it; the gateway reads only registry_feed" {
  run disp vehicles show 晋A20001 --format json
  [ "$status" -eq 0 ]
  run disp vehicles set 晋A20001 --un 1005
  [ "$status" -eq 1 ]
  [[ "$output" == *"permission denied"* ]]
  [[ "$output" == *"needs the hazgate_admin role"* ]]
  q "CREATE ROLE t_gw LOGIN IN ROLE hazgate_gateway"
  run psql -XqAt -U t_gw -c "SELECT count(*) FROM registry_feed WHERE device IS NOT NULL"
  [ "$status" -eq 0 ]
  [ "$output" = "4" ]
  run psql -XqAt -U t_gw -c "SELECT driver FROM vehicles"
  [ "$status" -ne 0 ]
  run psql -XqAt -U t_gw -c "SELECT * FROM vehicle_devices"
  [ "$status" -ne 0 ]
}

@test "every change sends NOTIFY hazgate_registry, once per statement" {
  run psql -XqAt -v ON_ERROR_STOP=1 <<'SQL'
LISTEN hazgate_registry;
UPDATE vehicles SET driver = 'Zhao' WHERE vehicle LIKE '晋A2000%';
SELECT 1;
SQL
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | grep -c 'notification "hazgate_registry" with payload "vehicles"')" -eq 1 ]
  run psql -XqAt -v ON_ERROR_STOP=1 <<'SQL'
LISTEN hazgate_registry;
DELETE FROM vehicle_devices WHERE device = 'bob:tab';
SELECT 1;
SQL
  [[ "$output" == *'"hazgate_registry" with payload "vehicle_devices"'* ]]
}

@test "replay --vehicles: registry cargo and routes from a file, bad file refused" {
  # 晋A10005 (not on corridor 8's list) assigned to it by the registry file:
  # route_deviation appears; its cargo comes from its fixes (they carry one).
  printf 'vehicle,routes\n晋A10005,8\n' > "$BATS_TEST_TMPDIR/reg.csv"
  run ctl replay --zones "$HG_SHARED/data/zones-taiyuan.geojson" "$HG_SHARED/data/fleet-sample.ndjson"
  without=$(printf '%s\n' "${lines[@]}" | jq -r 'select(.vehicle == "晋A10005" and .kind == "route_deviation") | .ts' | wc -l)
  run ctl replay --zones "$HG_SHARED/data/zones-taiyuan.geojson" --vehicles "$BATS_TEST_TMPDIR/reg.csv" \
    "$HG_SHARED/data/fleet-sample.ndjson"
  [ "$status" -eq 0 ]
  with=$(printf '%s\n' "${lines[@]}" | jq -r 'select(.vehicle == "晋A10005" and .kind == "route_deviation") | .ts' | wc -l)
  [ "$without" -eq 0 ]
  [ "$with" -ge 1 ]
  printf 'vehicle,routes\n晋A10005,3\n' > "$BATS_TEST_TMPDIR/reg.csv"
  run ctl replay --zones "$HG_SHARED/data/zones-taiyuan.geojson" --vehicles "$BATS_TEST_TMPDIR/reg.csv" /dev/null
  [ "$status" -eq 2 ]
  [[ "$output" == *"reg.csv:2: vehicle 晋A10005: route 3 is no corridor of the zones"* ]]
}
