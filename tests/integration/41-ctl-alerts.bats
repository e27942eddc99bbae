#!/usr/bin/env bats
# 41-ctl-alerts: hazgate-ctl alerts (filters, three formats, --follow) and
# ack (the dispatcher role alone), on a database filled by replaying the
# shared fleet sample through the engine (tests/data/ctl/fill-db.sh).

load "$HG_SRCDIR/tests/data/ctl/helpers.bash"
KEY='[.vehicle, .ts, .kind, .zone_id] | @json'

# 82 of the geometry's and, since issue 14, two unauthorized stops
@test "alerts lists all 84 alerts of the sample in time order" {
  run ctl alerts --format json
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 84 ]
  run bash -c "ctl() { '$HG_BUILDDIR/hazgate-ctl' \"\$@\"; }; ctl alerts --format json | jq -r .ts"
  [ "$output" = "$(printf '%s\n' "${lines[@]}" | sort)" ]
}

@test "the stored zone alerts are exactly the PostGIS-computed expected ones" {
  got=$(ctl alerts --format json --kind zone_enter,zone_exit --kind prohibited_entry,route_deviation | jq -r "$KEY" | sort)
  want=$(jq -r "$KEY" "$EXPECTED" | sort)
  [ "$(echo "$got" | wc -l)" -eq 66 ]
  [ "$got" = "$want" ]
}

@test "--vehicle, --kind and --zone (by id or by name) filter" {
  run ctl alerts --format json --vehicle 晋A10012 --kind prohibited_entry
  [ "${#lines[@]}" -eq "$(jq -r 'select(.vehicle == "晋A10012" and .kind == "prohibited_entry")' -c "$EXPECTED" | wc -l)" ]
  [ "${#lines[@]}" -gt 0 ]
  by_id=$(ctl alerts --format json --zone 5)
  by_name=$(ctl alerts --format json --zone 'Wusu airport')
  [ -n "$by_id" ]
  [ "$by_id" = "$by_name" ]
  [ "$(echo "$by_id" | jq -r .zone_id | sort -u)" = "5" ]
  [ "$(echo "$by_id" | wc -l)" -eq "$(jq -c 'select(.zone_id == 5)' "$HG_SVC_DIR/alerts.ndjson" | wc -l)" ]
  # the rules' kinds are kinds too (issue 14): the sample's two unauthorized stops
  run ctl alerts --format json --kind unauthorized_stop,terminal_alarm
  [ "$status" -eq 0 ]
  [ "$(printf '%s\n' "${lines[@]}" | jq -r .vehicle | sort | tr '\n' ' ')" = "晋A10001 晋A10003 " ]
  run ctl alerts --vehicle nobody --format json
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "--since/--until: local time and RFC 3339 agree, since inclusive, until exclusive" {
  a=$(ctl alerts --format json --since '2019-08-10 09:00' --until '2019-08-10 09:30')
  b=$(ctl alerts --format json --since 2019-08-10T01:00:00Z --until 2019-08-10T09:30:00+08:00)
  [ "$a" = "$b" ]
  want=$(jq -c 'select(.ts >= "2019-08-10T01:00:00.000Z" and .ts < "2019-08-10T01:30:00.000Z")' "$HG_SVC_DIR/alerts.ndjson" | wc -l)
  [ "$(echo "$a" | wc -l)" -eq "$want" ]
  c=$(ctl --tz UTC alerts --format json --since '2019-08-10 01:00' --until '2019-08-10 01:30')
  [ "$a" = "$c" ]
  # the first alert is at 00:00:00Z exactly: --since is inclusive
  run ctl alerts --format json --since 2019-08-10T00:00:00Z --until 2019-08-10T00:00:01Z
  [ "${#lines[@]}" -ge 1 ]
  run ctl alerts --format json --since 2019-08-10T00:00:01Z --until 2019-08-10T00:00:02Z
  [ -z "$output" ]
}

@test "local times follow the configured zone, DST included (Berlin is UTC+2 in August)" {
  utc=$(ctl alerts --format json --since 2019-08-10T00:00:00Z --until 2019-08-10T00:30:00Z)
  [ -n "$utc" ]
  [ "$(ctl --tz Europe/Berlin alerts --format json --since '2019-08-10 02:00' --until '2019-08-10 02:30')" = "$utc" ]
  [ "$(HAZGATE_TZ=America/New_York "$HG_BUILDDIR/hazgate-ctl" alerts --format json --since '2019-08-09 20:00' --until '2019-08-09 20:30')" = "$utc" ]
  run ctl --tz Europe/Berlin alerts --kind dwell_exceeded
  ts=$(jq -r 'select(.kind == "dwell_exceeded") | .ts' "$HG_SVC_DIR/alerts.ndjson")
  [[ "${lines[1]}" == *"$(TZ=Europe/Berlin date -d "$ts" '+%Y-%m-%d %H:%M:%S')"* ]]
}

@test "--limit N gives the latest N, in time order" {
  want=$(ctl alerts --format json --kind zone_exit | tail -3)
  [ "$(echo "$want" | wc -l)" -eq 3 ]
  [ "$(ctl alerts --format json --kind zone_exit --limit 3)" = "$want" ]
  run ctl alerts --limit 0
  [ "$status" -eq 2 ]; [[ "$output" == *"--limit: '0' is not a positive number"* ]]
}

@test "alerts as a table: header, one line per alert, local times" {
  run ctl alerts --kind dwell_exceeded
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 2 ]
  [[ "${lines[0]}" == "ID  KIND"*"SEVERITY"*"VEHICLE"*"TIME"*"ACKED"* ]]
  ts=$(jq -r 'select(.kind == "dwell_exceeded") | .ts' "$HG_SVC_DIR/alerts.ndjson")
  local_ts=$(TZ=Asia/Shanghai date -d "$ts" '+%Y-%m-%d %H:%M:%S')
  [[ "${lines[1]}" == *"dwell_exceeded"*"warning"*"$local_ts"* ]]
}

@test "alerts as CSV: a header and 84 records that parse" {
  ctl alerts --format csv > "$BATS_FILE_TMPDIR/a.csv"
  run head -1 "$BATS_FILE_TMPDIR/a.csv"
  [ "$output" = "id,kind,severity,vehicle,zone_id,zone,ts,lat,lon,speed_kmh,detail,acked_at,acked_by,ack_note" ]
  run python3 -c "
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8')))
print(len(rows)); print(sum(1 for r in rows if r['kind'] == 'prohibited_entry'))
print([r['zone'] for r in rows if r['zone_id'] == '4'][0])" "$BATS_FILE_TMPDIR/a.csv"
  [ "${lines[0]}" = "84" ]
  [ "${lines[1]}" = "13" ]
  [ "${lines[2]}" = "City core, daytime ban" ]
}

@test "ack with the dispatcher role alone; --open no longer lists it" {
  id=$(ctl alerts --format json --kind route_deviation | jq -r .id)
  open_before=$(ctl alerts --open --format json | wc -l)
  run disp ack "$id" --by 'duty officer Li' --note 'called the driver'
  [ "$status" -eq 0 ]
  [[ "${lines[1]}" == *"$id"*"acknowledged"*"route_deviation"*"晋A10004"*"t_disp"*"[by duty officer Li] called the driver"* ]]
  [ "$(q "SELECT acked_by || '|' || ack_note FROM alerts WHERE id = $id")" = "t_disp|[by duty officer Li] called the driver" ]
  [ "$(ctl alerts --open --format json | wc -l)" -eq $((open_before - 1)) ]
  [ "$(ctl alerts --open --format json --kind route_deviation)" = "" ]
  run ctl alerts --format json --kind route_deviation
  [ "$(echo "$output" | jq -r '.acked_by + "|" + .ack_note')" = "t_disp|[by duty officer Li] called the driver" ]
}

# issue 11 item 3: before, acked_by was --by itself ("Director Zhang").
@test "ack as login wang with --by 'Director Zhang' records login wang; the trail lists it" {
  q "CREATE ROLE wang LOGIN IN ROLE hazgate_dispatcher"
  id=$(ctl alerts --format json --kind dwell_exceeded | jq -r .id)
  run ctl -d "host=$PGHOST port=$PGPORT user=wang dbname=hazgate" ack "$id" --by 'Director Zhang' --format json
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '[.result, .acked_by, .ack_note] | join("|")')" = "acknowledged|wang|[by Director Zhang]" ]
  [ "$(q "SELECT acked_by FROM alerts WHERE id = $id")" = "wang" ]
  [ "$(q "SELECT login || '|' || kind || '|' || note || '|' || (ts = (SELECT acked_at FROM alerts WHERE id = $id)) FROM alert_events WHERE alert_id = $id")" = "wang|ack|[by Director Zhang]|true" ]
  # the trail, as hazgate-ctl shows it (any role that reads alerts)
  run disp alerts --events "$id" --format json
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [ "$(echo "$output" | jq -r '[.kind, .user, .login, .note] | join("|")')" = "ack|wang|wang|[by Director Zhang]" ]
  [ "$(echo "$output" | jq -r .ts)" = "$(ctl alerts --format json --kind dwell_exceeded | jq -r .acked_at)" ]
  q "SELECT hazgate_alert_note($id, 'driver confirmed')"
  run disp alerts --events "$id"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "TIME"*"KIND"*"USER"*"NOTE"* ]]
  [[ "${lines[1]}" == *"ack"*"wang"*"[by Director Zhang]"* ]]
  [[ "${lines[2]}" == *"note"*"postgres"*"driver confirmed"* ]]
  run disp alerts --events 999999
  [ "$status" -eq 1 ]; [[ "$output" == *"there is no alert 999999"* ]]
  run disp alerts --events "$id" --open
  [ "$status" -eq 2 ]
}

@test "acknowledging twice says so and changes nothing" {
  id=$(ctl alerts --format json --kind route_deviation | jq -r .id)
  before=$(q "SELECT acked_at || acked_by || ack_note FROM alerts WHERE id = $id")
  run disp ack "$id" --by 'someone else' --format json
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.result + "|" + .acked_by')" = "already acknowledged|t_disp" ]
  [ "$(q "SELECT acked_at || acked_by || ack_note FROM alerts WHERE id = $id")" = "$before" ]
  [ "$(q "SELECT count(*) FROM alert_events WHERE alert_id = $id AND kind = 'ack'")" = "1" ]
  # nor through the function itself, nor by rewriting the row
  run psql -XqAt -U t_disp -c "SELECT hazgate_ack($id, 'again')"
  [ "$status" -ne 0 ]; [[ "$output" == *"already acknowledged"* ]]
  [ "$(q "SELECT acked_at || acked_by || ack_note FROM alerts WHERE id = $id")" = "$before" ]
}

@test "ack several; an unknown id is exit 1 and the others are acknowledged" {
  ids=$(ctl alerts --format json --vehicle 晋A10011 --kind prohibited_entry | jq -r .id | tr '\n' ' ')
  run disp ack $ids 999999 --by ops --format csv
  [ "$status" -eq 1 ]
  [[ "$output" == *"there is no alert 999999"* ]]
  [[ "$output" == *"999999,no such alert"* ]]
  [ "$(q "SELECT count(*) FROM alerts WHERE vehicle = '晋A10011' AND kind = 'prohibited_entry' AND acked_by = 't_disp' AND ack_note = '[by ops]'")" -eq "$(echo $ids | wc -w)" ]
}

@test "the dispatcher role cannot change alerts otherwise, nor delete them" {
  run psql -XqAt -U t_disp -c "UPDATE alerts SET kind = 'zone_exit' WHERE id = 1"
  [ "$status" -ne 0 ]
  # nor write the acknowledgement columns (it could before issue 11)
  acked=$(q "SELECT min(id) FROM alerts WHERE acked_at IS NOT NULL")
  run psql -XqAt -U t_disp -c "UPDATE alerts SET acked_by = 'nobody', ack_note = 'rewritten', acked_at = '2019-08-10 09:43+08' WHERE id = $acked"
  [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
  run psql -XqAt -U t_disp -c "UPDATE alerts SET acked_at = NULL, acked_by = NULL WHERE id = $acked"
  [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
  run psql -XqAt -U t_disp -c "UPDATE alerts SET acked_by = 'x' WHERE id = 1"
  [ "$status" -ne 0 ]
  # nor the trail
  [ "$(q "SELECT count(*) FROM alert_events WHERE alert_id = $acked")" -ge 1 ]
  run psql -XqAt -U t_disp -c "UPDATE alert_events SET note = 'rewritten' WHERE alert_id = $acked"
  [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
  run psql -XqAt -U t_disp -c "DELETE FROM alert_events WHERE alert_id = $acked"
  [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
  run psql -XqAt -U t_disp -c "DELETE FROM alerts WHERE id = 1"
  [ "$status" -ne 0 ]
  run disp alerts --format json --kind overspeed
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 2 ]
}

@test "ack: bad arguments are exit 2 with the reason, and nothing changes" {
  run disp ack 5 --by ''
  [ "$status" -eq 2 ]; [[ "$output" == *"--by needs a name"* ]]
  run disp ack --by x
  [ "$status" -eq 2 ]; [[ "$output" == *"give one or more alert ids"* ]]
  run disp ack 12abc --by x
  [ "$status" -eq 2 ]; [[ "$output" == *"'12abc' is not an alert id"* ]]
  run disp ack -- -3 --by x
  [ "$status" -eq 2 ]
  [ "$(q "SELECT count(*) FROM alerts WHERE ack_note LIKE '[by x]%' OR acked_by = 'x'")" = "0" ]
}

wait_for_lines() { # FILE N: wait up to 10 s until FILE has N lines
  for _ in $(seq 1 100); do
    [ "$(wc -l < "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

@test "--follow prints alerts committed by another connection, as they come" {
  out="$BATS_FILE_TMPDIR/follow.out"
  # the binary itself in the background (not the ctl function: $! must be its PID)
  "$HG_BUILDDIR/hazgate-ctl" alerts --follow --format json --vehicle 晋A10099 > "$out" 2>"$out.err" 3>&- &
  echo $! > "$HG_SVC_DIR/follow.pid"
  sleep 1
  [ "$(wc -l < "$out")" -eq 0 ]
  # the gateway's way: insert and NOTIFY with the id as payload, one transaction
  psql -XqAt -v ON_ERROR_STOP=1 <<'SQL'
BEGIN;
WITH a AS (INSERT INTO alerts (kind, severity, vehicle, zone_id, zone_name, ts, lat, lon, speed_kmh)
           VALUES ('prohibited_entry', 'critical', '晋A10099', 5, 'Wusu airport',
                   '2019-08-10T03:00:00Z', 37.75, 112.62, 40) RETURNING id)
SELECT pg_notify('hazgate_alerts', id::text) FROM a;
COMMIT;
SQL
  wait_for_lines "$out" 1
  [ "$(sed -n 1p "$out" | jq -r '.vehicle + "|" + .kind + "|" + .ts')" = "晋A10099|prohibited_entry|2019-08-10T03:00:00.000Z" ]
  # another vehicle's alert is not printed; a JSON payload works as well
  q "INSERT INTO alerts (kind, severity, vehicle, ts) VALUES ('overspeed', 'warning', '晋A10098', '2019-08-10T03:00:01Z')"
  q "INSERT INTO alerts (kind, severity, vehicle, ts) VALUES ('overspeed', 'warning', '晋A10099', '2019-08-10T03:00:02Z')"
  q "SELECT pg_notify('hazgate_alerts', '{\"id\":null,\"kind\":\"overspeed\"}')"
  wait_for_lines "$out" 2
  sleep 0.5
  [ "$(wc -l < "$out")" -eq 2 ]
  [ "$(sed -n 2p "$out" | jq -r '.vehicle + "|" + .kind')" = "晋A10099|overspeed" ]
  kill "$(cat "$HG_SVC_DIR/follow.pid")"
}

@test "--follow: an alert whose id is below one already printed (committed late) still comes" {
  out="$BATS_FILE_TMPDIR/follow2.out"
  "$HG_BUILDDIR/hazgate-ctl" alerts --follow --format json --kind tracker_silent > "$out" 2>"$out.err" 3>&- &
  echo $! > "$HG_SVC_DIR/follow2.pid"
  sleep 1
  hi=$(q "SELECT nextval('alerts_id_seq')")
  q "INSERT INTO alerts (id, kind, severity, vehicle, ts) VALUES ($hi + 1, 'tracker_silent', 'warning', 'V1', '2019-08-10T04:00:00Z'); NOTIFY hazgate_alerts"
  wait_for_lines "$out" 1
  q "INSERT INTO alerts (id, kind, severity, vehicle, ts) VALUES ($hi, 'tracker_silent', 'warning', 'V2', '2019-08-10T04:00:01Z'); NOTIFY hazgate_alerts"
  wait_for_lines "$out" 2
  [ "$(jq -r .vehicle "$out" | tr '\n' ' ')" = "V1 V2 " ]
  # a third notification prints nothing twice
  q "NOTIFY hazgate_alerts"
  sleep 1
  [ "$(wc -l < "$out")" -eq 2 ]
  kill "$(cat "$HG_SVC_DIR/follow2.pid")"
  q "SELECT setval('alerts_id_seq', (SELECT max(id) FROM alerts))"
}

@test "--follow in a table prints the header once, then a line per alert" {
  out="$BATS_FILE_TMPDIR/follow3.out"
  "$HG_BUILDDIR/hazgate-ctl" alerts --follow --kind tracker_resumed > "$out" 2>"$out.err" 3>&- &
  echo $! > "$HG_SVC_DIR/follow3.pid"
  sleep 1
  q "INSERT INTO alerts (kind, severity, vehicle, ts) VALUES ('tracker_resumed', 'info', 'V3', '2019-08-10T05:00:00Z'); NOTIFY hazgate_alerts"
  wait_for_lines "$out" 2
  kill "$(cat "$HG_SVC_DIR/follow3.pid")"
  [[ "$(sed -n 1p "$out")" == *"ID  KIND"* ]]
  [[ "$(sed -n 2p "$out")" == *"tracker_resumed"*"V3"*"2019-08-10 13:00:00"* ]]
}
