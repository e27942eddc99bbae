# live.bash - shared by tests/integration/61-web-stream.bats and
# 62-web-hooks.bats: the gateway's services and daemon (helpers.bash), a
# zone to make alerts on demand, hazgate-web (its own login, a viewer's
# token) started and stopped by PID, the stream read with curl.
#
# Needs HG_SRCDIR, HG_BUILDDIR, HG_SHARED (set by make check).

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

WEB="$HG_BUILDDIR/hazgate-web"
RECEIVER="$HG_SRCDIR/tests/web-hook-receiver.py"

# Zone 100: a 500 m restricted circle at 38.5,113.5, far from the samples.
circle='{"type":"Feature","properties":{"id":100,"name":"Live checkpoint","kind":"restricted","radius_m":500},"geometry":{"type":"Point","coordinates":[113.5,38.5]}}'

# The gateway and its services, zone 100, hazgate-web's own login (hglive
# in hazgate_web) and a viewer's bearer token (TOKEN, AUTH for curl).
web_setup_file() {
  gw_setup_file
  psql -XqAt -v f="$circle" <<< "INSERT INTO zones (id, name, kind, feature) VALUES (100, 'Live checkpoint', 'restricted', :'f'::jsonb)"
  gw_start
  wait_log 'event=zones_loaded zones=11'
  psql -XqAt -v ON_ERROR_STOP=1 -c "CREATE ROLE hglive LOGIN IN ROLE hazgate_web"
  export TOKEN=$("$CTL" tokens add live-test --role viewer)
  export AUTH="Authorization: Bearer $TOKEN"
  export WEB_PORT=$(gw_free_port) WEB_MPORT=$(gw_free_port)
  export WEBDIR="$HG_SVC_DIR/web"
  mkdir -p "$WEBDIR/assets"
  echo '<!doctype html><title>board</title>' > "$WEBDIR/assets/index.html"
  export WEB_LOG="$WEBDIR/log"
  export T0=$(( $(date +%s) - 3000 ))   # fix times: the past hour, one second apart
}

# web_conf [EXTRA]: hazgate-web's configuration in $WEBDIR/web.conf, EXTRA
# (INI text, e.g. [webhook.NAME] sections) at its end.
web_conf() {
  cat > "$WEBDIR/web.conf" <<CONF
[web]
listen = 127.0.0.1:$WEB_PORT
metrics_listen = 127.0.0.1:$WEB_MPORT
assets = $WEBDIR/assets
[postgres]
conninfo = host=127.0.0.1 port=$PGPORT user=hglive dbname=$PGDATABASE
connections = 1
reconnect_max_ms = 500
[log]
level = info
${1:-}
CONF
}

# hook NAME URL SECRET_FILE [KINDS [MIN_SEVERITY]]: a [webhook.NAME] section.
hook() {
  printf '[webhook.%s]\nurl = %s\nsecret_file = %s\n' "$1" "$2" "$3"
  [ -n "${4:-}" ] && printf 'kinds = %s\n' "$4"
  [ -n "${5:-}" ] && printf 'min_severity = %s\n' "$5"
  true
}

# web_start [EXTRA]: hazgate-web on WEB_PORT with web_conf EXTRA; waits
# until its stream is connected to PostgreSQL and it listens.
web_start() {
  local n=$(wc -l < "$WEB_LOG" 2>/dev/null || echo 0)
  web_conf "${1:-}"
  "$WEB" -c "$WEBDIR/web.conf" >>"$WEB_LOG" 2>&1 3>&- &
  echo $! > "$HG_SVC_DIR/web.pid"
  for i in $(seq 1 100); do
    if tail -n +$((n + 1)) "$WEB_LOG" | grep -q 'event=stream_db_ready' &&
       curl -s -o /dev/null "http://127.0.0.1:$WEB_MPORT/metrics"; then
      return 0
    fi
    kill -0 "$(cat "$HG_SVC_DIR/web.pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "hazgate-web did not start:" >&2; tail -20 "$WEB_LOG" >&2
  return 1
}

# web_stop [SIGNAL]: signal it (TERM by default) and wait until it is gone.
web_stop() {
  local pid=$(cat "$HG_SVC_DIR/web.pid")
  kill -"${1:-TERM}" "$pid" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

web_teardown_file() {
  # TERM first: a clean exit (what a sanitizer build checks for leaks)
  [ -f "$HG_SVC_DIR/web.pid" ] && { web_stop || web_stop KILL; }
  [ -f "$HG_SVC_DIR/receiver.pid" ] && kill "$(cat "$HG_SVC_DIR/receiver.pid")" 2>/dev/null
  gw_stop >/dev/null 2>&1
  gw_teardown_file
}

web_metric() {
  curl -s "http://127.0.0.1:$WEB_MPORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# stream_open FILE [CURL ARGS]: read the stream (as the viewer's token)
# into FILE in the background; its PID in STREAM_PID. Waits for the
# stream's first line.
stream_open() {
  local f=$1; shift
  : > "$f"
  curl -sN -H "$AUTH" "$@" "http://127.0.0.1:$WEB_PORT/api/v1/stream" > "$f" 3>&- &
  STREAM_PID=$!
  for i in $(seq 1 50); do grep -q '^retry:' "$f" && return 0; sleep 0.1; done
  echo "the stream did not answer" >&2; return 1
}

# wait_grep COUNT PATTERN FILE [SECONDS]: until FILE has COUNT lines matching.
wait_grep() {
  local want=$1 pat=$2 f=$3 t=${4:-30} got
  for i in $(seq 1 $((t * 10))); do
    got=$(grep -c -- "$pat" "$f")
    [ "$got" -ge "$want" ] && return 0
    sleep 0.1
  done
  echo "wait_grep: $got lines of '$pat' in $f, want $want" >&2
  return 1
}

# fixes VEHICLE FIRST N: N fixes of VEHICLE, seconds FIRST .. FIRST+N-1 after
# T0, alternately inside and outside zone 100: one alert each (zone_enter,
# zone_exit, ...). Published at once.
fixes() {
  local v=$1 first=$2 n=$3 i lat
  for i in $(seq "$first" $((first + n - 1))); do
    if [ $((i % 2)) = 0 ]; then lat=38.5; else lat=38.6; fi
    printf '{"vehicle":"%s","ts":"%s","lat":%s,"lon":113.5,"speed_kmh":30,"heading":90}\n' \
      "$v" "$(date -u -d "@$((T0 + i))" +%Y-%m-%dT%H:%M:%SZ)" "$lat"
  done > "$GWDIR/fixes.ndjson"
  pub_lines "$GWDIR/fixes.ndjson" "tankers/$v/telemetry"
}

# stream_diag FILE: what a failed stream check needs to be understood, on
# stderr (bats prints it): the stream's tail, the web's log, its metrics.
stream_diag() {
  echo "--- the stream ($1), last 20 lines:" >&2; tail -20 "$1" >&2
  echo "--- hazgate-web's log, last 30 lines:" >&2; tail -30 "$WEB_LOG" >&2
  echo "--- its stream metrics:" >&2
  curl -s "http://127.0.0.1:$WEB_MPORT/metrics" | grep '^hazgate_web_stream' >&2 || true
}

# alert_ids FILE [VEHICLE...]: the ids of the alert events in a stream
# file, in order; with VEHICLEs, only theirs.
alert_ids() {
  local f=$1; shift
  awk '/^event: alert$/ { a = 1; next } a && /^data: / { print; a = 0 }' "$f" | sed 's/^data: //' |
    jq -r --args 'select(($ARGS.positional | length) == 0 or (.vehicle | IN($ARGS.positional[]))) | .id' "$@"
}
