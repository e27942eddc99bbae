#!/usr/bin/env bats
# 01-schema: migrations, partitions, the zones trigger and the roles' grants,
# against a private PostgreSQL 15 started by scripts/services-start.

setup_file() {
  eval "$("$HG_SRCDIR/scripts/services-start" --no-mqtt)"
  export HG_SVC_DIR PGHOST PGPORT PGUSER PGDATABASE HG_PG_CONNINFO
  "$HG_BUILDDIR/hazgate-ctl" migrate >/dev/null
  psql -XqAt -v ON_ERROR_STOP=1 <<'SQL'
CREATE ROLE t_gw LOGIN IN ROLE hazgate_gateway;
CREATE ROLE t_disp LOGIN IN ROLE hazgate_dispatcher;
CREATE ROLE t_admin LOGIN IN ROLE hazgate_admin;
SQL
}

teardown_file() {
  "$HG_SRCDIR/scripts/services-stop" "$HG_SVC_DIR"
}

ctl() { "$HG_BUILDDIR/hazgate-ctl" "$@"; }
# q USER SQL: run SQL as USER, print rows; fails when the statement fails.
q() { local u=$1; shift; psql -XqAt -v ON_ERROR_STOP=1 -U "$u" -c "$*"; }

@test "migrate applies every migration to an empty database" {
  psql -XqAt -c 'CREATE DATABASE fresh'
  run ctl -d "host=$PGHOST port=$PGPORT user=postgres dbname=fresh" migrate
  [ "$status" -eq 0 ]
  [[ "$output" == *"applied 001_base"* ]]
  run psql -XqAt -d fresh -c "SELECT string_agg(name, ',' ORDER BY version) FROM schema_migrations"
  expected=$(cd "$HG_SRCDIR/schema" && ls [0-9][0-9][0-9]_*.sql | sed 's/\.sql$//' | paste -sd,)
  [ "$output" = "$expected" ]
}

@test "migrate again is a no-op" {
  run ctl -d "host=$PGHOST port=$PGPORT user=postgres dbname=fresh" migrate
  [ "$status" -eq 0 ]
  [[ "$output" == "schema is up to date"* ]]
  [[ "$output" != *applied* ]]
}

@test "migrate reads libpq's PG variables and --check says current" {
  run ctl migrate
  [ "$status" -eq 0 ]
  run ctl migrate --check
  [ "$status" -eq 0 ]
  [[ "$output" == "schema is current"* ]]
}

@test "migrate --check on an empty database names the missing migration" {
  psql -XqAt -c 'CREATE DATABASE empty'
  run ctl -d "host=$PGHOST port=$PGPORT user=postgres dbname=empty" migrate --check
  [ "$status" -eq 1 ]
  [[ "$output" == *"001_base is missing"* ]]
}

@test "migrate against an unreachable server fails with exit 1" {
  run ctl -d "host=127.0.0.1 port=1 connect_timeout=2" migrate
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot connect"* ]]
}

@test "a position for today lands in today's partition" {
  q postgres "SELECT hazgate_ensure_partitions(current_date, 2)"
  q t_gw "INSERT INTO positions (vehicle, ts, lat, lon) VALUES ('晋A12345', now(), 37.8, 112.5)"
  run q postgres "SELECT tableoid::regclass FROM positions_recent WHERE vehicle = '晋A12345'"
  [ "$output" = "positions_recent_$(date -u +%Y%m%d)" ]
}

@test "a position for a day without a partition is kept, and moves when the day gets one" {
  q t_gw "INSERT INTO positions (vehicle, ts, lat, lon) VALUES ('晋A10001', '2019-08-10T08:00:00Z', 37.8, 112.5)"
  run q postgres "SELECT tableoid::regclass FROM positions_recent WHERE vehicle = '晋A10001'"
  [ "$output" = "positions_recent_default" ]
  run q postgres "SELECT hazgate_ensure_partitions('2019-08-10', 1)"
  [ "$output" = "1" ]
  run q postgres "SELECT tableoid::regclass, lat FROM positions_recent WHERE vehicle = '晋A10001'"
  [ "$output" = "positions_recent_20190810|37.8" ]
  run q postgres "SELECT hazgate_ensure_partitions('2019-08-10', 1)"
  [ "$output" = "0" ]
}

@test "the same fix twice is one position" {
  q t_gw "INSERT INTO positions (vehicle, ts, lat, lon) VALUES ('晋A10002', '2019-08-10T08:00:05Z', 1, 2) ON CONFLICT DO NOTHING"
  q t_gw "INSERT INTO positions (vehicle, ts, lat, lon) VALUES ('晋A10002', '2019-08-10T08:00:05Z', 1, 2) ON CONFLICT DO NOTHING"
  run q postgres "SELECT count(*) FROM positions WHERE vehicle = '晋A10002'"
  [ "$output" = "1" ]
}

@test "a redelivered alert is a no-op, with or without a zone" {
  for i in 1 2; do
    q t_gw "INSERT INTO alerts (kind, severity, vehicle, zone_id, ts) VALUES ('zone_enter', 'info', 'V1', 7, '2019-08-10T08:00:00Z') ON CONFLICT DO NOTHING"
    q t_gw "INSERT INTO alerts (kind, severity, vehicle, zone_id, ts) VALUES ('overspeed', 'warning', 'V1', NULL, '2019-08-10T08:00:00Z') ON CONFLICT DO NOTHING"
  done
  run q postgres "SELECT count(*) FROM alerts WHERE vehicle = 'V1'"
  [ "$output" = "2" ]
}

@test "a change to zones sends NOTIFY hazgate_zones and is kept in zones_history" {
  run psql -XqAt -U t_admin -c "LISTEN hazgate_zones" \
    -c "INSERT INTO zones (id, name, kind, feature) VALUES (1, 'venue', 'event_venue', '{}')" \
    -c "SELECT 1"
  [ "$status" -eq 0 ]
  [[ "$output" == *'notification "hazgate_zones"'* ]]
  q t_admin "UPDATE zones SET name = 'venue 2' WHERE id = 1"
  run q postgres "SELECT name, valid_to IS NULL FROM zones_history WHERE zone_id = 1 ORDER BY valid_from"
  [ "${lines[0]}" = "venue|f" ]
  [ "${lines[1]}" = "venue 2|t" ]
}

@test "gateway role: writes positions, alerts, rejects, vehicle_state; reads zones and registry_feed" {
  q t_gw "INSERT INTO rejects (topic, payload, reason) VALUES ('t', '\\x00ff', 'not_json')"
  q t_gw "INSERT INTO vehicle_state (vehicle, last_ts, state) VALUES ('V1', now(), '\\x01') ON CONFLICT (vehicle) DO UPDATE SET state = EXCLUDED.state"
  q t_gw "INSERT INTO vehicle_state (vehicle, last_ts, state) VALUES ('V1', now(), '\\x02') ON CONFLICT (vehicle) DO UPDATE SET state = EXCLUDED.state"
  q t_gw "SELECT count(*) FROM zones"
  q t_gw "SELECT count(*) FROM registry_feed"
  q t_gw "INSERT INTO alerts (kind, severity, vehicle, ts) VALUES ('overspeed', 'warning', 'V2', now()) RETURNING id"
}

@test "gateway role is refused everything else" {
  run q t_gw "SELECT count(*) FROM positions";              [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
  run q t_gw "SELECT count(*) FROM rejects";                [ "$status" -ne 0 ]
  run q t_gw "UPDATE alerts SET acked_by = 'x'";            [ "$status" -ne 0 ]
  run q t_gw "DELETE FROM alerts";                          [ "$status" -ne 0 ]
  run q t_gw "DELETE FROM positions";                       [ "$status" -ne 0 ]
  run q t_gw "INSERT INTO zones (id, name, kind, feature) VALUES (2, 'x', 'depot', '{}')"; [ "$status" -ne 0 ]
  run q t_gw "INSERT INTO vehicles (vehicle) VALUES ('x')"; [ "$status" -ne 0 ]
  # the registry only through registry_feed (010): no driver, carrier, phone
  run q t_gw "SELECT driver FROM vehicles";                 [ "$status" -ne 0 ]
}

@test "dispatcher role reads everything and may only acknowledge, through hazgate_ack" {
  q t_disp "SELECT count(*) FROM positions"
  q t_disp "SELECT count(*) FROM rejects"
  q t_disp "SELECT count(*) FROM zones_history"
  q t_disp "SELECT count(*) FROM alert_events"
  run q t_disp "SELECT hazgate_ack(id, 'called driver') FROM alerts WHERE vehicle = 'V1' ORDER BY id"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 2 ]
  # acked_by is the login, whatever the caller would like it to be
  run q postgres "SELECT DISTINCT acked_by || '|' || ack_note FROM alerts WHERE vehicle = 'V1'"
  [ "$output" = "t_disp|called driver" ]
  run q t_disp "UPDATE alerts SET kind = 'zone_exit'";      [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
  run q t_disp "DELETE FROM alerts";                        [ "$status" -ne 0 ]
  run q t_disp "INSERT INTO positions (vehicle, ts, lat, lon) VALUES ('x', now(), 0, 0)"; [ "$status" -ne 0 ]
  run q t_disp "UPDATE zones SET name = 'x'";               [ "$status" -ne 0 ]
}

# issue 11 item 3: before 003_ack_trail, both UPDATEs below succeeded for a
# dispatcher login (GRANT UPDATE (acked_at, acked_by, ack_note) ON alerts).
@test "no hazgate role can rewrite or undo an acknowledgement" {
  before=$(q postgres "SELECT string_agg(id::text || acked_at || acked_by || ack_note, ',' ORDER BY id) FROM alerts WHERE vehicle = 'V1'")
  [ -n "$before" ]
  for u in t_disp t_admin t_gw; do
    run q $u "UPDATE alerts SET acked_by = 'nobody', ack_note = 'rewritten', acked_at = '2019-08-10 09:43+08' WHERE vehicle = 'V1'"
    [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
    run q $u "UPDATE alerts SET acked_at = NULL, acked_by = NULL WHERE vehicle = 'V1'"
    [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
  done
  # not even the owner: an acknowledgement is final
  run q postgres "UPDATE alerts SET acked_at = NULL, acked_by = NULL WHERE vehicle = 'V1'"
  [ "$status" -ne 0 ]; [[ "$output" == *"an acknowledgement is final"* ]]
  run q postgres "UPDATE alerts SET acked_by = 'nobody' WHERE vehicle = 'V1'"
  [ "$status" -ne 0 ]
  [ "$(q postgres "SELECT string_agg(id::text || acked_at || acked_by || ack_note, ',' ORDER BY id) FROM alerts WHERE vehicle = 'V1'")" = "$before" ]
  # nor insert an alert already acknowledged
  run q t_gw "INSERT INTO alerts (kind, severity, vehicle, ts, acked_at, acked_by) VALUES ('overspeed', 'warning', 'V9', now(), now(), 'nobody')"
  [ "$status" -ne 0 ]; [[ "$output" == *"only through hazgate_ack()"* ]]
}

@test "acknowledging twice is an error of its own (HG409), an unknown alert another (HG404)" {
  id=$(q postgres "SELECT min(id) FROM alerts WHERE vehicle = 'V1'")
  run psql -XqAt -v VERBOSITY=verbose -U t_disp -c "SELECT hazgate_ack($id, 'again')"
  [ "$status" -ne 0 ]
  [[ "$output" == *"HG409"*"alert $id was already acknowledged at"*"by t_disp"* ]]
  run psql -XqAt -v VERBOSITY=verbose -U t_disp -c "SELECT hazgate_ack(999999)"
  [ "$status" -ne 0 ]; [[ "$output" == *"HG404"*"there is no alert 999999"* ]]
  [ "$(q postgres "SELECT count(*) FROM alert_events WHERE alert_id = $id AND kind = 'ack'")" = "1" ]
  [ "$(q postgres "SELECT ack_note FROM alerts WHERE id = $id")" = "called driver" ]
}

@test "the trail: an ack event per acknowledgement and notes, with login and time" {
  id=$(q postgres "SELECT min(id) FROM alerts WHERE vehicle = 'V1'")
  q t_admin "SELECT hazgate_alert_note($id, 'driver called back')"
  run q postgres "SELECT kind, login, coalesce(board_user, '-'), note, ts = (SELECT acked_at FROM alerts WHERE id = $id) FROM alert_events WHERE alert_id = $id ORDER BY id"
  [ "${lines[0]}" = "ack|t_disp|-|called driver|t" ]
  [ "${lines[1]}" = "note|t_admin|-|driver called back|f" ]
  run q t_disp "SELECT hazgate_alert_note($id, '')";         [ "$status" -ne 0 ]
  run q t_disp "SELECT hazgate_alert_note(999999, 'x')";     [ "$status" -ne 0 ]; [[ "$output" == *"there is no alert 999999"* ]]
  # the gateway has no part in it
  run q t_gw "SELECT hazgate_alert_note($id, 'x')";          [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
  run q t_gw "SELECT count(*) FROM alert_events";            [ "$status" -ne 0 ]
}

@test "a board user is accepted only from the board's login (a member of hazgate_web, from 004_web)" {
  id=$(q postgres "SELECT max(id) FROM alerts WHERE vehicle = 'V2'")
  run q t_disp "SELECT hazgate_ack($id, 'x', 'Director Zhang')"
  [ "$status" -ne 0 ]; [[ "$output" == *"board_user is for the board's login"* ]]
  run q t_disp "SELECT hazgate_alert_note($id, 'x', 'Director Zhang')"
  [ "$status" -ne 0 ]
  [ "$(q postgres "SELECT count(*) FROM alert_events WHERE alert_id = $id")" = "0" ]
  [ "$(q postgres "SELECT acked_at IS NULL FROM alerts WHERE id = $id")" = "t" ]
  # 004_web made the group, a member of hazgate_dispatcher: the board's
  # login may name its user, and its login is recorded beside it
  [ "$(q postgres "SELECT pg_has_role('hazgate_web', 'hazgate_dispatcher', 'MEMBER')")" = "t" ]
  q postgres "CREATE ROLE t_web LOGIN IN ROLE hazgate_web"
  q t_web "SELECT hazgate_ack($id, 'seen on the board', 'Director Zhang')"
  run q postgres "SELECT a.acked_by || '|' || e.login || '|' || e.board_user || '|' || e.note FROM alerts a JOIN alert_events e ON e.alert_id = a.id WHERE a.id = $id"
  q postgres "DROP ROLE t_web"
  [ "$output" = "Director Zhang|t_web|Director Zhang|seen on the board" ]
}

@test "alert_events is append-only: no role may change, erase or forge an event" {
  n=$(q postgres "SELECT count(*) FROM alert_events")
  [ "$n" -ge 3 ]
  for u in t_disp t_admin t_gw; do
    run q $u "UPDATE alert_events SET note = 'rewritten'";   [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
    run q $u "DELETE FROM alert_events";                     [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
    run q $u "TRUNCATE alert_events";                        [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
    run q $u "INSERT INTO alert_events (alert_id, kind, login) VALUES (1, 'ack', 'nobody')"; [ "$status" -ne 0 ]
  done
  # the owner (here a superuser) is refused as well
  run q postgres "UPDATE alert_events SET note = 'rewritten'"; [ "$status" -ne 0 ]; [[ "$output" == *"alert_events is append-only: UPDATE refused"* ]]
  run q postgres "DELETE FROM alert_events";                   [ "$status" -ne 0 ]; [[ "$output" == *"append-only: DELETE refused"* ]]
  run q postgres "TRUNCATE alert_events";                      [ "$status" -ne 0 ]; [[ "$output" == *"append-only: TRUNCATE refused"* ]]
  # an alert with a trail cannot be deleted
  run q postgres "DELETE FROM alerts WHERE vehicle = 'V1'";    [ "$status" -ne 0 ]
  [ "$(q postgres "SELECT count(*) FROM alert_events")" = "$n" ]
}

@test "acknowledgements made before 003_ack_trail get their ack event, without a login" {
  psql -XqAt -c 'CREATE DATABASE legacy'
  # 001 and 002 only: the migrations this build embeds, up to 002
  ( cd "$HG_SRCDIR/schema" && cat 001_base.sql 002_gateway_seq.sql ) > "$BATS_FILE_TMPDIR/old.sql"
  psql -XqAt -v ON_ERROR_STOP=1 -d legacy <<SQL
CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
\i $BATS_FILE_TMPDIR/old.sql
INSERT INTO schema_migrations (version, name) VALUES (1, '001_base'), (2, '002_gateway_seq');
INSERT INTO alerts (kind, severity, vehicle, ts, acked_at, acked_by, ack_note)
  VALUES ('overspeed', 'warning', 'V1', '2019-08-10T01:00:00Z', '2019-08-10T01:05:00Z', 'Director Zhang', 'called'),
         ('overspeed', 'warning', 'V2', '2019-08-10T01:00:00Z', NULL, NULL, NULL);
SQL
  run ctl -d "host=$PGHOST port=$PGPORT user=postgres dbname=legacy" migrate
  [ "$status" -eq 0 ]; [[ "$output" == *"applied 003_ack_trail"* ]]
  run psql -XqAt -d legacy -c "SELECT e.kind, coalesce(e.login, '-'), e.note, e.ts = a.acked_at FROM alert_events e JOIN alerts a ON a.id = e.alert_id"
  [ "$output" = "ack|-|[by Director Zhang] called|t" ]
}

@test "admin role keeps zones and vehicles, and cannot write the gateway's tables" {
  q t_admin "INSERT INTO vehicles (vehicle, un, hazard_class) VALUES ('晋A12345', '1203', '3')"
  q t_admin "DELETE FROM zones WHERE id = 1"
  run q t_admin "INSERT INTO positions (vehicle, ts, lat, lon) VALUES ('x', now(), 0, 0)"; [ "$status" -ne 0 ]
  run q t_admin "UPDATE alerts SET acked_by = 'x'";         [ "$status" -ne 0 ]
  run q t_admin "SELECT hazgate_ensure_partitions(current_date, 1)"; [ "$status" -ne 0 ]
}
