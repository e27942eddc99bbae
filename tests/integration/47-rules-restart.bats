#!/usr/bin/env bats
# 47-rules-restart: the rules beyond geometry in the real daemon (issue 14).
# A tanker drives, its terminal presses SOS, the gateway is restarted in the
# middle of the stint: the driving clock and the raised alarm come back from
# vehicle_state, so fatigue_driving fires when the whole stint (before and
# after the restart) is over max_continuous_s, the SOS is not raised twice,
# and the alerts are exactly what `hazgate-ctl replay --config` decides from
# the same lines.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() {
  export GW_EXTRA_CONF=$'[rules]\nmax_continuous_s = 600\nmin_rest_s = 300\nmax_daily_s = 0\nmax_stop_s = 0'
  gw_setup_file
}
teardown_file() { gw_teardown_file; }

# fix MINUTE [ALARMS]: one native line of vehicle R1, driving north at 60
# km/h, a fix a minute (2019-08-11, away from the fleet sample's day).
fix() {
  local m=$1 alarms=${2:-}
  printf '{"vehicle":"R1","ts":"2019-08-11T00:%02d:00Z","lat":%s,"lon":112.0,"speed_kmh":60,"hazard_class":"3","seq":%d%s}\n' \
    "$m" "$(awk -v m="$m" 'BEGIN { printf "%.2f", 36 + m * 0.01 }')" "$m" "${alarms:+,\"alarms\":$alarms}"
}

@test "a restart in the middle of a stint keeps the driving clock and the raised alarms" {
  { fix 0 '["sos"]'; for m in 1 2 3 4 5 6 7; do fix "$m" '["sos"]'; done; } > "$GWDIR/before"
  { fix 8 '["sos"]'; fix 9 '["sos","collision"]'; fix 10; fix 11; fix 12; } > "$GWDIR/after"
  gw_start
  pub_lines "$GWDIR/before"
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'R1'" "8"
  run gw_stop
  [ "$output" = "0" ]
  # 420 s of driving so far, saved with the SOS
  [ "$(q "SELECT count(*) FROM vehicle_state WHERE vehicle = 'R1' AND last_ts = '2019-08-11T00:07:00Z'")" = "1" ]
  gw_start
  grep -q 'event=vehicle_state_loaded vehicles=1 refused=0' "$GWDIR/log"
  pub_lines "$GWDIR/after"
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'R1'" "13"
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'R1' AND kind = 'fatigue_driving'" "1"
  sleep 0.5
  got=$(q "SELECT kind || ' ' || severity || ' ' || to_char(ts AT TIME ZONE 'UTC', 'HH24:MI') || ' ' || detail::text FROM alerts WHERE vehicle = 'R1' ORDER BY ts, id")
  want=$(printf '%s\n' \
    'terminal_alarm critical 00:00 {"alarm": "sos"}' \
    'terminal_alarm critical 00:09 {"alarm": "collision"}' \
    'fatigue_driving warning 00:11 {"driving_s": 660, "max_continuous_s": 600}')
  # (fixes 10 to 12 carry no alarms member: they clear nothing)
  [ "$got" = "$want" ]
  # The replay of the same lines decides the same, alert for alert.
  replay=$(cat "$GWDIR/before" "$GWDIR/after" | "$CTL" replay --zones "$ZONES" --config "$GWCONF" 2>/dev/null |
    jq -S -c 'select(.vehicle == "R1") | {kind, severity, zone_id, ts, detail}')
  daemon=$(q "SELECT json_build_object('kind', kind, 'severity', severity, 'zone_id', zone_id, 'ts', to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'detail', detail) FROM alerts WHERE vehicle = 'R1' ORDER BY ts, id" | jq -S -c .)
  [ -n "$replay" ]
  [ "$replay" = "$daemon" ]
}

@test "SIGHUP applies a new [rules] without a restart: a shorter max_stop_s" {
  # max_stop_s = 0 (off) so far; a stop of R2 raises nothing
  printf '{"vehicle":"R2","ts":"2019-08-11T01:%02d:00Z","lat":36.5,"lon":112.5,"speed_kmh":0,"seq":%d}\n' 0 0 1 1 2 2 > "$GWDIR/r2a"
  pub_lines "$GWDIR/r2a"
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'R2'" "3"
  export GW_EXTRA_CONF=$'[rules]\nmax_continuous_s = 600\nmin_rest_s = 300\nmax_daily_s = 0\nmax_stop_s = 150'
  gw_write_conf
  local n=$(grep -c 'event=config_reloaded' "$GWDIR/log" || true)
  kill -HUP "$(gw_pid)"
  for i in $(seq 1 50); do [ "$(grep -c 'event=config_reloaded' "$GWDIR/log")" -gt "$n" ] && break; sleep 0.1; done
  grep 'event=config_reloaded' "$GWDIR/log" | tail -1 | grep -q 'needs_restart=0'
  # the stop goes on: over 150 s at 01:03, once
  printf '{"vehicle":"R2","ts":"2019-08-11T01:%02d:00Z","lat":36.5,"lon":112.5,"speed_kmh":0,"seq":%d}\n' 3 3 4 4 > "$GWDIR/r2b"
  pub_lines "$GWDIR/r2b"
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'R2'" "5"
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'R2'" "1"
  [ "$(q "SELECT kind || ' ' || to_char(ts AT TIME ZONE 'UTC', 'HH24:MI') || ' ' || (detail->>'stopped_s') || ' ' || (detail->>'max_stop_s') FROM alerts WHERE vehicle = 'R2'")" = "unauthorized_stop 01:03 180 150" ]
}
