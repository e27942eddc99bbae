#!/usr/bin/env bats
# 15-gateway-registry: the fleet registry in a running gateway (issue 14,
# issue 11 item 15). Loaded at start before any message; a TPV fix with no
# cargo takes the registry's class (a class-3 zone fires, a class-8 one
# does not) and is stored with it; a change made with hazgate-ctl reaches
# the gateway by NOTIFY hazgate_registry and the next fix uses it; a
# registry route gives route_deviation; an OwnTracks device mapped to a
# plate is stored and alerted as the plate; replay and audit decide as the
# daemon did.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

# Zones far from the sample's, around (38.5, 113.5): 200 prohibited for
# class 3, 201 restricted for class 8 (same circle), corridor 202 elsewhere
# with no `vehicles` list.
zones_sql() {
  local z200='{"type":"Feature","properties":{"id":200,"name":"Class 3 ban","kind":"prohibited","radius_m":500,"hazard_classes":["3"]},"geometry":{"type":"Point","coordinates":[113.5,38.5]}}'
  local z201='{"type":"Feature","properties":{"id":201,"name":"Class 8 check","kind":"restricted","radius_m":500,"hazard_classes":["8"]},"geometry":{"type":"Point","coordinates":[113.5,38.5]}}'
  local z202='{"type":"Feature","properties":{"id":202,"name":"Route R","kind":"corridor","width_m":200},"geometry":{"type":"LineString","coordinates":[[113.0,39.0],[113.1,39.0]]}}'
  psql -XqAt -v ON_ERROR_STOP=1 -v a="$z200" -v b="$z201" -v c="$z202" <<'SQL'
INSERT INTO zones (id, name, kind, feature) VALUES
  (200, 'Class 3 ban', 'prohibited', :'a'::jsonb),
  (201, 'Class 8 check', 'restricted', :'b'::jsonb),
  (202, 'Route R', 'corridor', :'c'::jsonb);
SQL
}

setup_file() {
  gw_setup_file
  zones_sql
  "$CTL" vehicles set R1 --un 1203 --class 3 >/dev/null
  "$CTL" vehicles set R3 --un 1830 --class 3 --device jane:phone >/dev/null
  gw_start
}
teardown_file() { gw_teardown_file; }

# tpv VEHICLE TS LAT LON: a gpsd TPV report (no cargo) on tankers/<v>/telemetry;
# also kept, as topic<TAB>payload, for the replay.
tpv() {
  local p="{\"class\":\"TPV\",\"mode\":3,\"time\":\"$2\",\"lat\":$3,\"lon\":$4,\"speed\":8.0}"
  printf 'tankers/%s/telemetry\t%s\n' "$1" "$p" >> "$GWDIR/sent.tsv"
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t "tankers/$1/telemetry" -m "$p"
}

# loads: how many registry loads the log shows so far.
loads() { grep -c 'event=registry_loaded' "$GWDIR/log"; }
wait_loads() {
  for i in $(seq 1 100); do [ "$(loads)" -gt "$1" ] && return 0; sleep 0.1; done
  return 1
}

@test "the registry is loaded at start, before MQTT" {
  grep -q 'event=registry_loaded vehicles=2 devices=1' "$GWDIR/log"
  [ "$(metric hazgate_registry_vehicles)" = "2" ]
  [ "$(metric hazgate_registry_devices)" = "1" ]
  # before the first subscription
  [ "$(grep -n 'event=registry_loaded' "$GWDIR/log" | head -1 | cut -d: -f1)" -lt \
    "$(grep -n 'event=mqtt_receiving' "$GWDIR/log" | head -1 | cut -d: -f1)" ]
}

@test "a TPV fix without cargo takes the registry's class 3: the class-3 zone fires, the class-8 one not" {
  tpv R1 2020-01-01T00:00:00Z 38.5 113.5
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'R1'" "1"
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'R1'" "1"
  [ "$(q "SELECT kind || '|' || zone_id FROM alerts WHERE vehicle = 'R1'")" = "prohibited_entry|200" ]
  # the row keeps the cargo the engine decided with
  [ "$(q "SELECT un || '|' || hazard_class || '|' || zone_ids::text FROM positions WHERE vehicle = 'R1'")" = "1203|3|{200}" ]
}

@test "a change made with hazgate-ctl reaches the running gateway (NOTIFY), the next fix uses it" {
  local n=$(loads)
  "$CTL" vehicles set R1 --class 8 >/dev/null
  wait_loads "$n"
  tpv R1 2020-01-01T00:00:05Z 38.5 113.5
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'R1'" "3"
  [ "$(q "SELECT string_agg(kind || '|' || zone_id, ',' ORDER BY id) FROM alerts WHERE vehicle = 'R1' AND ts = '2020-01-01T00:00:05Z'")" = \
    "zone_exit|200,zone_enter|201" ]
  [ "$(q "SELECT hazard_class FROM positions WHERE vehicle = 'R1' AND ts = '2020-01-01T00:00:05Z'")" = "8" ]
}

@test "a fix's own class wins over the registry's" {
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/R1/telemetry \
    -m '{"ts":"2020-01-01T00:00:10Z","lat":38.5,"lon":113.5,"hazard_class":"3","seq":1}'
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'R1' AND ts = '2020-01-01T00:00:10Z'" "2"
  [ "$(q "SELECT string_agg(kind || '|' || zone_id, ',' ORDER BY id) FROM alerts WHERE vehicle = 'R1' AND ts = '2020-01-01T00:00:10Z'")" = \
    "zone_exit|201,prohibited_entry|200" ]
  [ "$(q "SELECT coalesce(un, 'NULL') || '|' || hazard_class FROM positions WHERE vehicle = 'R1' AND ts = '2020-01-01T00:00:10Z'")" = "NULL|3" ]
}

@test "a registry route gives route_deviation" {
  local n=$(loads)
  "$CTL" vehicles set R2 --route 202 >/dev/null
  wait_loads "$n"
  tpv R2 2020-01-01T00:00:00Z 39.0 113.05
  tpv R2 2020-01-01T00:00:05Z 38.5 113.5
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'R2'" "2"
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'R2' AND kind = 'route_deviation'" "1"
  [ "$(q "SELECT to_char(ts AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM alerts WHERE vehicle = 'R2' AND kind = 'route_deviation'")" = "00:00:05" ]
}

@test "an OwnTracks device mapped to a plate is stored and alerted as the plate" {
  local p='{"_type":"location","lat":38.5,"lon":113.5,"tst":1577836800,"vel":20}'
  printf 'owntracks/jane/phone\t%s\n' "$p" >> "$GWDIR/sent.tsv"
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t owntracks/jane/phone -m "$p"
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'R3'" "1"
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'R3'" "1"
  [ "$(q "SELECT kind || '|' || zone_id FROM alerts WHERE vehicle = 'R3'")" = "prohibited_entry|200" ]
  [ "$(q "SELECT count(*) FROM positions WHERE vehicle = 'jane:phone'")" = "0" ]
  [ "$(q "SELECT count(*) FROM vehicle_state WHERE vehicle = 'jane:phone'")" = "0" ]
  # a device not mapped keeps user:device
  mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t owntracks/john/phone -m "$p"
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'john:phone'" "1"
}

@test "replay with the registry file decides as the daemon did; audit finds the registry route's deviation" {
  # The registry as it stands now, as a file; the zones as stored.
  "$CTL" zones export > "$GWDIR/zones.geojson"
  printf 'vehicle,un,hazard_class,routes,devices\nR2,,,202,\nR3,1830,3,,jane:phone\n' > "$GWDIR/reg.csv"
  grep -v '^tankers/R1/' "$GWDIR/sent.tsv" > "$GWDIR/replay.tsv"
  "$CTL" replay --zones "$GWDIR/zones.geojson" --vehicles "$GWDIR/reg.csv" "$GWDIR/replay.tsv" \
    > "$GWDIR/replay.json" 2> "$GWDIR/replay.err"
  got=$(jq -r '[.vehicle, .kind, .zone_id, .ts] | @tsv' "$GWDIR/replay.json" | sort)
  want=$(q "SELECT vehicle, kind, coalesce(zone_id::text, ''), to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
            FROM alerts WHERE vehicle IN ('R2', 'R3')" | tr '|' '\t' | sort)
  echo "got: $got"; echo "want: $want"
  [ "$(echo "$got" | wc -l)" -ge 3 ]
  [ "$got" = "$want" ]
  # the audit re-decides from the stored rows with the registry's routes
  # (the zones were stored today: audit against their file)
  "$CTL" audit --from 2020-01-01T00:00:00Z --to 2020-01-01T00:01:00Z --zones "$GWDIR/zones.geojson" --format json \
    > "$GWDIR/audit.json" 2> "$GWDIR/audit.err"
  cat "$GWDIR/audit.err"
  [ "$(jq -r 'select(.vehicle == "R2" and .kind == "route_deviation") | .live' "$GWDIR/audit.json")" = "open" ]
  [ "$(jq -r 'select(.vehicle == "R3") | [.kind, .zone_id, .live] | @tsv' "$GWDIR/audit.json")" = "prohibited_entry	200	open" ]
  [ "$(jq -r 'select(.live == "missing")' "$GWDIR/audit.json" | wc -l)" -eq 0 ]
  grep -q ' 0 live alerts not reproduced' "$GWDIR/audit.err"
}

@test "rows the registry cannot use are skipped and counted; the rest still loads" {
  local n=$(loads)
  # vehicle_devices checks only the length: a tab, a '/' pass the table
  q "INSERT INTO vehicle_devices (device, vehicle) VALUES (E'tab\tdev', 'R1'), ('sl/ash', 'R1')"
  wait_loads "$n"
  grep 'event=registry_loaded' "$GWDIR/log" | tail -1 | grep -q 'skipped=2 first="device '"'"'sl/ash'"'"': '
  [ "$(metric hazgate_registry_devices)" = "1" ]
  [ "$(metric hazgate_registry_vehicles)" = "3" ]
  kill -0 "$(gw_pid)"
}
