#!/usr/bin/env bats
# 48-rules-fleet: the sample data of the rules beyond geometry (issue 14,
# data/fleet-rules.ndjson, made by scripts/gen-fleet-rules) through the real
# daemon over mosquitto: a long haul (fatigue_driving), a stop outside every
# depot (unauthorized_stop), a drive into an expressway's night ban
# (night_driving), an SOS pressed and released (terminal_alarm, critical,
# and terminal_alarm_cleared). The daemon stores each fix's alarms
# (positions.alarms, schema/011) and raises exactly the alerts the script
# constructed (data/expected-rules.ndjson) and `hazgate-ctl replay`
# decides; `hazgate-ctl audit` re-decides them all from the stored
# positions and the zones recorded as in force since 2019-08-01 (zones
# import --valid-from), with each live alert and its acknowledgement.
# Also: a spool record of the builds before positions.alarms ("HGB2") is
# still written, its alarms NULL.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

RULES_FLEET="$HG_SRCDIR/data/fleet-rules.ndjson"
RULES_ZONES="$HG_SRCDIR/data/zones-rules.geojson"
RULES_EXPECTED="$HG_SRCDIR/data/expected-rules.ndjson"
PLATES="('晋A20001', '晋A20002', '晋A20003', '晋A20004')"
# An alert as compared: what the script constructs, keys sorted.
SHAPE='{vehicle, ts, kind, severity, zone_id, lat, lon, detail}'

setup_file() {
  gw_setup_file
  # The sample zones and the expressway, in force since 2019-08-01 (and now).
  "$CTL" zones import --valid-from 2019-08-01T00:00:00Z "$ZONES" >/dev/null
  "$CTL" zones import --valid-from 2019-08-01T00:00:00Z "$RULES_ZONES" >/dev/null
  jq -s '{type: "FeatureCollection", features: (map(.features) | add)}' "$ZONES" "$RULES_ZONES" \
    > "$GWDIR/zones-all.geojson"
  # A record as the builds before schema/011 spooled it: positions rows of
  # 16 fields, no alarms. The gateway writes it at its start.
  python3 - "$GWDIR/old.hgb" <<'PY'
import struct, sys
row = ("晋A29999\t2019-08-11 00:00:00.000000+00\t37.1\t112.1\t10\t\\N\t\\N\t\\N\t\\N\t\\N"
       "\t\\N\t\\N\t7\t\\N\t{}\t2019-08-11 00:00:01.000000+00\n").encode()
open(sys.argv[1], "wb").write(b"HGB2" + struct.pack("<8I", 1, 0, 0, 0, len(row), 0, 0, 0) + row)
PY
  "$HG_BUILDDIR/tests/tools/spool-append" "$GWDIR/spool" 1 < "$GWDIR/old.hgb"
  gw_start
  pub_lines "$RULES_FLEET"
  wait_sql "SELECT count(*) FROM positions WHERE vehicle IN $PLATES" "$(wc -l < "$RULES_FLEET")" 60
  "$CTL" replay --zones "$GWDIR/zones-all.geojson" --config "$GWCONF" "$RULES_FLEET" \
    > "$GWDIR/replay.ndjson" 2>/dev/null
}

teardown_file() { gw_teardown_file; }

@test "a spool record of the previous format (HGB2) is written, its alarms NULL" {
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = '晋A29999'" "1"
  [ "$(q "SELECT lat || ' ' || lon || ' ' || speed_kmh || ' ' || seq || ' ' || (alarms IS NULL) FROM positions WHERE vehicle = '晋A29999'")" = "37.1 112.1 10 7 true" ]
  [ "$(metric hazgate_spool_records_unreadable_total)" = "0" ]
  ! grep -q 'event=spool_record_unreadable' "$GWDIR/log"
}

@test "every fix is stored once with its alarms: NULL when it said none, 0 for [], 1 for sos" {
  [ "$(q "SELECT count(DISTINCT (vehicle, ts)) FROM positions WHERE vehicle IN $PLATES")" = "$(wc -l < "$RULES_FLEET")" ]
  run q "SELECT vehicle || ' ' || coalesce(alarms::text, 'null') || ' ' || count(*) FROM positions WHERE vehicle IN $PLATES GROUP BY vehicle, alarms ORDER BY vehicle, alarms NULLS FIRST"
  [ "$output" = "$(printf '%s\n' '晋A20001 null 1801' '晋A20002 null 391' '晋A20003 null 360' '晋A20004 0 149' '晋A20004 1 31')" ]
  # the SOS is held from 09:10:00 to 09:15:00 local
  [ "$(q "SELECT min(ts) || ' ' || max(ts) FROM positions WHERE vehicle = '晋A20004' AND alarms = 1")" = \
    "2019-08-10 01:10:00+00 2019-08-10 01:15:00+00" ]
}

@test "the daemon's alerts are the script's, and the replay's" {
  want=$(jq -S -c "$SHAPE" "$RULES_EXPECTED" | sort)
  [ "$(echo "$want" | wc -l)" -eq 5 ]
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle IN $PLATES AND kind NOT LIKE 'tracker_%'" "5"
  sleep 0.5
  daemon=$(q "SELECT json_build_object('vehicle', vehicle, 'ts', to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
      'kind', kind, 'severity', severity, 'zone_id', zone_id, 'lat', lat, 'lon', lon, 'detail', detail)
    FROM alerts WHERE vehicle IN $PLATES AND kind NOT LIKE 'tracker_%'" | jq -S -c . | sort)
  [ "$daemon" = "$want" ]
  replay=$(jq -S -c "select(.kind | startswith(\"tracker_\") | not) | $SHAPE" "$GWDIR/replay.ndjson" | sort)
  [ "$replay" = "$want" ]
  # the SOS is critical, its release info; the night ban names the expressway
  [ "$(q "SELECT string_agg(kind || ' ' || severity || ' ' || coalesce(zone_name, '-'), ', ' ORDER BY kind) FROM alerts WHERE vehicle IN ('晋A20003', '晋A20004') AND kind NOT LIKE 'tracker_%'")" = \
    "night_driving critical G208 expressway (hazmat night ban 19:00-06:00), terminal_alarm critical -, terminal_alarm_cleared info -" ]
}

@test "the audit re-decides all five from the stored positions, with each live alert and its acknowledgement" {
  id=$(q "SELECT id FROM alerts WHERE vehicle = '晋A20004' AND kind = 'terminal_alarm'")
  [ -n "$id" ]
  "$CTL" ack "$id" --note 'driver called: a false alarm' >/dev/null
  run "$CTL" audit --from 2019-08-10 --to 2019-08-11 --format json
  [ "$status" -eq 0 ]
  json=$(printf '%s\n' "${lines[@]}" | grep '^{')
  [ "$(echo "$json" | jq -S -c "$SHAPE" | sort)" = "$(jq -S -c "$SHAPE" "$RULES_EXPECTED" | sort)" ]
  [ "$(echo "$json" | jq -r '[.kind, .live, (.alert_id | tostring), .acked_by // "-"] | @tsv' | sort)" = \
    "$(q "SELECT kind || E'\t' || CASE WHEN acked_at IS NULL THEN 'open' ELSE 'acknowledged' END || E'\t' || id || E'\t' || coalesce(acked_by, '-') FROM alerts WHERE vehicle IN $PLATES AND kind NOT LIKE 'tracker_%'" | sort)" ]
  [ "$(echo "$json" | jq -r 'select(.vehicle == "晋A20004") | [.kind, .live, .acked_by // "-"] | @tsv')" = \
    "$(printf 'terminal_alarm\tacknowledged\tpostgres\nterminal_alarm_cleared\topen\t-')" ]
  [[ "$output" == *"5 violations: 1 acknowledged, 4 open, 0 missing a live alert; 0 live alerts not reproduced"* ]]
  # a deleted live alert of a terminal alarm is found missing
  q "DELETE FROM alert_outbox WHERE alert_id IN (SELECT id FROM alerts WHERE vehicle = '晋A20004' AND kind = 'terminal_alarm_cleared')"
  q "DELETE FROM alerts WHERE vehicle = '晋A20004' AND kind = 'terminal_alarm_cleared'"
  run "$CTL" audit --from 2019-08-10 --to 2019-08-11 --vehicle 晋A20004 --format json
  [ "$(printf '%s\n' "${lines[@]}" | grep '^{' | jq -r '[.kind, .live, .detail.alarm] | @tsv')" = \
    "$(printf 'terminal_alarm\tacknowledged\tsos\nterminal_alarm_cleared\tmissing\tsos')" ]
}

@test "a second fix for a stored vehicle and ts with other alarms is a duplicate_ts reject, not a duplicate" {
  printf '%s\n' '{"vehicle":"晋A29998","ts":"2019-08-12T00:00:00Z","lat":37.1,"lon":112.1,"alarms":[]}' > "$GWDIR/dup1"
  printf '%s\n' '{"vehicle":"晋A29998","ts":"2019-08-12T00:00:00Z","lat":37.1,"lon":112.1,"alarms":["sos"]}' > "$GWDIR/dup2"
  dup=$(metric hazgate_positions_duplicate_total)
  pub_lines "$GWDIR/dup1"
  wait_sql "SELECT alarms FROM positions WHERE vehicle = '晋A29998'" "0"
  pub_lines "$GWDIR/dup1"
  for i in $(seq 1 50); do [ "$(metric hazgate_positions_duplicate_total)" = "$((dup + 1))" ] && break; sleep 0.1; done
  [ "$(metric hazgate_positions_duplicate_total)" = "$((dup + 1))" ]
  pub_lines "$GWDIR/dup2"
  wait_sql "SELECT count(*) FROM rejects WHERE reason = 'duplicate_ts' AND message LIKE 'a fix of 晋A29998 %'" "1"
  [ "$(q "SELECT convert_from(payload, 'UTF8')::json->>'alarms' FROM rejects WHERE reason = 'duplicate_ts'")" = "1" ]
  [ "$(q "SELECT alarms FROM positions WHERE vehicle = '晋A29998'")" = "0" ]
}
