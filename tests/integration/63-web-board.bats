#!/usr/bin/env bats
# 63-web-board: the dispatchers' board in a real browser (Debian's chromium,
# headless, driven by puppeteer-core: tests/browser/*.js) against a real
# stack: PostgreSQL, mosquitto, the gateway and hazgate-web. Log in; the
# zones and every tanker are drawn; a prohibited entry published through
# the broker appears and flashes within 2 s; a dispatcher acknowledges it
# in the page and PostgreSQL records that user; a viewer has no ack button
# and its forged POST gets 403; a zone named like an HTML tag shows as text.
# Screenshots: $HG_BUILDDIR/tests/browser/artefacts/.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

BROWSER_DIR="$HG_BUILDDIR/tests/browser"
XSS_NAME='<img src=x onerror=alert(1)>'
# tankers on the map: a grid north of the sample zones (no zone there)
TANKERS=${HG_BOARD_TANKERS:-10000}

# puppeteer-core from npm, as pinned by package-lock.json, in the build
# tree (installed again only when the lock file changed).
browser_install() {
  mkdir -p "$BROWSER_DIR"
  cp "$HG_SRCDIR/tests/browser/package.json" "$HG_SRCDIR/tests/browser/package-lock.json" "$BROWSER_DIR/"
  if ! cmp -s "$BROWSER_DIR/package-lock.json" "$BROWSER_DIR/node_modules/.hg-lock" 2>/dev/null; then
    (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2
    cp "$BROWSER_DIR/package-lock.json" "$BROWSER_DIR/node_modules/.hg-lock"
  fi
}

# browser SCRIPT: run tests/browser/SCRIPT.js (its output is the test's).
browser() { NODE_PATH="$BROWSER_DIR/node_modules" node "$HG_SRCDIR/tests/browser/$1.js"; }

web_write_conf() {
  cat > "$WEBDIR/web.conf" <<CONF
[web]
listen = 127.0.0.1:$WEB_PORT
metrics_listen = 127.0.0.1:$WEB_METRICS_PORT
assets = $HG_SRCDIR/web/board
timezone = Asia/Shanghai
[postgres]
conninfo = host=$PGHOST port=$PGPORT user=board_web dbname=$PGDATABASE
[log]
level = info
CONF
}

web_start() {
  ( "$HG_BUILDDIR/hazgate-web" -c "$WEBDIR/web.conf" >>"$WEBDIR/log" 2>&1 &
    echo $! > "$HG_SVC_DIR/hazgate-web.pid" ) 3>&-
  for i in $(seq 1 100); do
    curl -sf -o /dev/null "$HG_WEB_URL/" && return 0
    sleep 0.1
  done
  echo "hazgate-web did not start:" >&2; tail -20 "$WEBDIR/log" >&2
  return 1
}

# fix VEHICLE LAT LON SPEED HEADING [TS]: one native telemetry line
fix() {
  jq -nc --arg v "$1" --argjson lat "$2" --argjson lon "$3" --argjson s "$4" --argjson h "$5" \
     --arg ts "${6:-$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)}" \
     '{vehicle:$v, ts:$ts, lat:$lat, lon:$lon, speed_kmh:$s, heading:$h, un:"1203", hazard_class:"3"}'
}

setup_file() {
  # no tracker_silent alerts during the test (the board's own grey is by
  # the fix's age, tested with a fix 15 minutes old)
  export GW_EXTRA_CONF=$'[geofence]\nsilent_after_s = 3600'
  gw_setup_file
  # the sample zones and one named like an HTML tag
  jq --arg n "$XSS_NAME" '.features += [{type:"Feature", geometry:{type:"Point", coordinates:[112.40, 38.05]},
      properties:{id:11, name:$n, kind:"restricted", radius_m:300}}]' "$ZONES" > "$GWDIR/zones.geojson"
  "$CTL" zones import "$GWDIR/zones.geojson" >/dev/null
  gw_start

  export WEBDIR="$HG_SVC_DIR/web"
  mkdir -p "$WEBDIR"
  export WEB_PORT=$(gw_free_port) WEB_METRICS_PORT=$(gw_free_port)
  export HG_WEB_URL="http://127.0.0.1:$WEB_PORT"
  q "CREATE ROLE board_web LOGIN IN ROLE hazgate_web"
  export HG_DISPATCHER=disp HG_VIEWER=watcher
  export HG_DISPATCHER_PW=$(openssl rand -hex 12) HG_VIEWER_PW=$(openssl rand -hex 12)
  echo "$HG_DISPATCHER_PW" > "$WEBDIR/disp.pw"
  echo "$HG_VIEWER_PW" > "$WEBDIR/watcher.pw"
  "$CTL" users add disp --role dispatcher --password-file "$WEBDIR/disp.pw" >/dev/null
  "$CTL" users add watcher --role viewer --password-file "$WEBDIR/watcher.pw" >/dev/null
  web_write_conf
  web_start

  # the fleet: TANKERS on a grid (even ones moving, odd ones stopped), G0000
  # with two fixes before (its track; board-map moves the grid once more),
  # one silent for 15 minutes
  local now=$(date -u +%s) f="$GWDIR/fleet.ndjson"
  awk -v n="$TANKERS" -v ts="$(date -u -d @"$now" +%Y-%m-%dT%H:%M:%S.000Z)" 'BEGIN {
    for (i = 0; i < n; i++)
      printf "{\"vehicle\":\"G%04d\",\"ts\":\"%s\",\"lat\":%.6f,\"lon\":%.6f,\"speed_kmh\":%d,\"heading\":%d,\"un\":\"1203\",\"hazard_class\":\"3\"}\n",
        i, ts, 37.90 + (i % 100) * 0.0009, 112.30 + int(i / 100) * 0.0018, (i % 2) ? 0 : 40, (i * 37) % 360
  }' > "$f.grid"
  { fix G0000 37.8990 112.2980 40 45 "$(date -u -d @"$((now - 60))" +%Y-%m-%dT%H:%M:%S.000Z)"
    fix G0000 37.8995 112.2990 40 45 "$(date -u -d @"$((now - 30))" +%Y-%m-%dT%H:%M:%S.000Z)"
    cat "$f.grid"
    fix 晋A77777 37.9500 112.2800 0 0 "$(date -u -d @"$((now - 900))" +%Y-%m-%dT%H:%M:%S.000Z)"
  } > "$f"
  pub_lines "$f"
  wait_sql "SELECT count(*) FROM positions" "$((TANKERS + 3))" 120
  export HG_TANKERS_N=$((TANKERS + 1)) HG_ZONES_N=11

  browser_install
  export HG_ARTEFACTS="$BROWSER_DIR/artefacts"
  rm -rf "$HG_ARTEFACTS"
  mkdir -p "$HG_ARTEFACTS"
  export HG_MQTT_HOST HG_MQTT_PORT
}

teardown_file() {
  cp "$WEBDIR/log" "$BROWSER_DIR/artefacts/hazgate-web.log" 2>/dev/null || true
  gw_teardown_file
}

@test "log in: the zones and every tanker are drawn, move with the stream, in their state's colour; a tanker's panel and track replay" {
  HG_MOVING=G0002 HG_STOPPED=G0001 HG_SILENT=晋A77777 HG_TRACK_PLATE=G0000 HG_TRACK_N=4 run browser board-map
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"board-map: ok"* ]]
  [ -s "$HG_ARTEFACTS/board-map.png" ]
}

@test "a prohibited entry appears and flashes within 2 s; acknowledged in the page, PostgreSQL has that user" {
  HG_ALERT_PLATE=晋A99001 HG_ALERT_LAT=37.7469 HG_ALERT_LON=112.6283 HG_ACK_NOTE='called the driver: turning back' \
    run browser board-alert-ack
  echo "$output"
  [ "$status" -eq 0 ]
  id=$(echo "$output" | sed -n 's/^ALERT_ID=//p')
  [ -n "$id" ]
  [ "$(q "SELECT kind, vehicle FROM alerts WHERE id = $id")" = "prohibited_entry|晋A99001" ]
  [ "$(q "SELECT acked_by, ack_note FROM alerts WHERE id = $id")" = "disp|called the driver: turning back" ]
  [ "$(q "SELECT count(*) FROM alert_events WHERE alert_id = $id AND kind = 'ack' AND board_user = 'disp'")" = 1 ]
}

@test "a viewer (Chinese browser, Chinese board) has no ack button and its forged POST gets 403; the alert stays open" {
  fix 晋A99002 37.7470 112.6280 15 180 > "$GWDIR/v.ndjson"
  pub_lines "$GWDIR/v.ndjson"
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = '晋A99002' AND kind = 'prohibited_entry'" 1
  id=$(q "SELECT id FROM alerts WHERE vehicle = '晋A99002' AND kind = 'prohibited_entry'")
  HG_BROWSER_LANG=zh-CN HG_OPEN_ALERT_ID=$id HG_OPEN_ALERT_PLATE=晋A99002 run browser board-viewer
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"forged POST answered 403"* ]]
  [ "$(q "SELECT acked_at IS NULL, acked_by IS NULL FROM alerts WHERE id = $id")" = "t|t" ]
}

@test "a zone named <img src=x onerror=alert(1)> shows those characters, in every place, and runs nothing; the list's filters; logout" {
  fix 晋A99003 38.0500 112.4000 10 0 > "$GWDIR/x.ndjson"
  pub_lines "$GWDIR/x.ndjson"
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = '晋A99003' AND kind = 'zone_enter' AND zone_id = 11" 1
  HG_XSS_NAME=$XSS_NAME HG_XSS_ZONE_ID=11 HG_XSS_PLATE=晋A99003 run browser board-xss
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"board-xss: ok"* ]]
}

@test "the page's stream comes back after hazgate-web is killed: the alert committed meanwhile arrives, once, flashes, and is acknowledged from the vehicle panel; one acknowledged meanwhile stops flashing" {
  fix 晋A99007 37.7468 112.6285 20 270 > "$GWDIR/r.ndjson"
  # the viewer test's alert, still open: acknowledged with hazgate-ctl while hazgate-web is down
  away=$(q "SELECT id FROM alerts WHERE vehicle = '晋A99002' AND acked_at IS NULL")
  [ -n "$away" ]
  cat > "$WEBDIR/restart.sh" <<SH
set -e
pid=\$(cat "$HG_SVC_DIR/hazgate-web.pid")
kill -KILL "\$pid"
while kill -0 "\$pid" 2>/dev/null; do sleep 0.1; done
mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/x/telemetry -f "$GWDIR/r.ndjson"
for i in \$(seq 1 100); do
  [ "\$(psql -XqAt -c "SELECT count(*) FROM alerts WHERE vehicle = '晋A99007'")" = 1 ] && break
  sleep 0.1
done
echo "committed while down: \$(psql -XqAt -c "SELECT id FROM alerts WHERE vehicle = '晋A99007'")"
"$CTL" ack $away --note 'while the board was away' >/dev/null
sleep 2
SH
  declare -f web_start >> "$WEBDIR/restart.sh"
  echo web_start >> "$WEBDIR/restart.sh"
  HG_WEB_RESTART="$WEBDIR/restart.sh" HG_RESUME_PLATE=晋A99007 HG_AWAY_ACK_ID=$away run browser board-resume
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"board-resume: ok"* ]]
  [ "$(q "SELECT acked_by, ack_note FROM alerts WHERE vehicle = '晋A99007'")" = "disp|after the restart" ]
}
