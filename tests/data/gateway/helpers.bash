# helpers.bash - shared by tests/integration/1N-gateway-*.bats: private
# services, a hazgate configuration, starting/stopping the daemon and the
# services it talks to, and waiting for database counts.
#
# Needs HG_SRCDIR, HG_BUILDDIR, HG_SHARED (set by make check).

# HG_TEST_GATEWAY runs the tests on another hazgate binary (an older
# build, to see a test fail before its fix).
GW="${HG_TEST_GATEWAY:-$HG_BUILDDIR/hazgate}"
CTL="$HG_BUILDDIR/hazgate-ctl"
FLEET="$HG_SHARED/data/fleet-sample.ndjson"
ZONES="$HG_SHARED/data/zones-taiyuan.geojson"
PGBIN=${HG_PGBIN:-/usr/lib/postgresql/15/bin}

# Start PostgreSQL + mosquitto, migrate, import the sample zones, write a
# configuration ($GWCONF). Extra "[section] key = value" lines may follow
# in $GW_EXTRA_CONF (raw INI text appended at the end); $GW_CLIENT_ID and
# $GW_SUBSCRIBE replace the [mqtt] client_id and subscriptions.
gw_setup_file() {
  eval "$("$HG_SRCDIR/scripts/services-start")"
  export HG_SVC_DIR PGHOST PGPORT PGUSER PGDATABASE HG_PG_CONNINFO HG_MQTT_HOST HG_MQTT_PORT
  "$CTL" migrate >/dev/null
  "$CTL" zones import "$ZONES" >/dev/null
  export GWDIR="$HG_SVC_DIR/gw"
  mkdir -p "$GWDIR"
  export GW_HTTP_PORT=$(gw_free_port)
  export GWCONF="$GWDIR/hazgate.conf"
  gw_write_conf
}

# gw_free_port: a port nobody listens on, below the kernel's ephemeral range
# (so that no client socket takes it before the daemon binds it). Checked,
# not only drawn: a port drawn at random from services-start's range is now
# and then the one its PostgreSQL or mosquitto already has.
gw_free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

gw_write_conf() {
  cat > "$GWCONF" <<CONF
[mqtt]
host = $HG_MQTT_HOST
port = $HG_MQTT_PORT
client_id = ${GW_CLIENT_ID:-hazgate-test}
subscribe = ${GW_SUBSCRIBE:-tankers/+/telemetry auto, owntracks/+/+ owntracks, gpsd/+/tpv tpv}
keepalive = 5
reconnect_min_ms = 100
reconnect_max_ms = 1000
[postgres]
conninfo = $HG_PG_CONNINFO
batch_rows = 500
flush_ms = 50
reconnect_max_ms = 1000
[spool]
dir = $GWDIR/spool
max_bytes = 64M
fsync = always
[http]
listen = 127.0.0.1:$GW_HTTP_PORT
[log]
level = info
${GW_EXTRA_CONF:-}
CONF
}

gw_teardown_file() {
  "$HG_SRCDIR/scripts/services-stop" "$HG_SVC_DIR"
}

# gw_keep_running_pid: a gateway hazgate.pid still names (a case failed
# before it stopped its gateway) keeps a pid file of its own, so that
# services-stop, which stops what every *.pid names, still stops it.
gw_keep_running_pid() {
  local f=$HG_SVC_DIR/hazgate.pid pid
  pid=$(cat "$f" 2>/dev/null) || return 0
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then mv "$f" "$HG_SVC_DIR/hazgate-$pid.pid"; fi
  rm -f "$f"
}

# gw_record_pid PID: PID is now the test's gateway (gw_pid, gw_stop).
gw_record_pid() {
  gw_keep_running_pid
  echo "$1" > "$HG_SVC_DIR/hazgate.pid"
}

# Start the daemon in the background; wait until it subscribed.
gw_start() {
  local n=$(wc -l < "$GWDIR/log" 2>/dev/null || echo 0)
  gw_keep_running_pid
  rm -f "$GWDIR/exit"
  # A wrapper shell keeps the daemon's exit status in $GWDIR/exit.
  ( "$GW" -c "$GWCONF" >>"$GWDIR/log" 2>&1 &
    echo $! > "$HG_SVC_DIR/hazgate.pid.tmp"; mv "$HG_SVC_DIR/hazgate.pid.tmp" "$HG_SVC_DIR/hazgate.pid"
    st=0; wait $! || st=$?; echo "$st" > "$GWDIR/exit" ) 3>&- &
  for i in $(seq 1 50); do [ -s "$HG_SVC_DIR/hazgate.pid" ] && break; sleep 0.1; done
  for i in $(seq 1 100); do
    if tail -n +$((n + 1)) "$GWDIR/log" | grep -q 'event=mqtt_receiving'; then return 0; fi
    kill -0 "$(cat "$HG_SVC_DIR/hazgate.pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "hazgate did not start:" >&2; tail -20 "$GWDIR/log" >&2
  return 1
}

gw_pid() { cat "$HG_SVC_DIR/hazgate.pid"; }

# gw_stop [SIGNAL]: signal the daemon (TERM by default), wait for it to
# end (60 s at most), print its exit status.
gw_stop() {
  local pid=$(gw_pid)
  kill -"${1:-TERM}" "$pid"
  for i in $(seq 1 600); do [ -s "$GWDIR/exit" ] && break; sleep 0.1; done
  cat "$GWDIR/exit"
}

q() { psql -XqAt -v ON_ERROR_STOP=1 -c "$*"; }

# wait_sql SQL WANT [SECONDS]: poll until the query prints WANT.
wait_sql() {
  local sql=$1 want=$2 t=${3:-30} got
  for i in $(seq 1 $((t * 5))); do
    got=$(q "$sql" 2>/dev/null || true)
    [ "$got" = "$want" ] && return 0
    sleep 0.2
  done
  echo "wait_sql: '$sql' gave '$got', want '$want'" >&2
  return 1
}

# wait_log PATTERN [SECONDS]
wait_log() {
  local t=${2:-30}
  for i in $(seq 1 $((t * 10))); do
    grep -q -- "$1" "$GWDIR/log" && return 0
    sleep 0.1
  done
  echo "wait_log: no '$1' in the log" >&2; tail -20 "$GWDIR/log" >&2
  return 1
}

metric() { curl -s "http://127.0.0.1:$GW_HTTP_PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

pub_lines() { mosquitto_pub -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t "${2:-tankers/x/telemetry}" -l < "$1"; }

# Publish FILE in chunks of N lines with a pause between them (mid-stream tests).
pub_paced() {
  local file=$1 n=${2:-1000} pause=${3:-0.3} d
  d=$(mktemp -d "$GWDIR/chunks.XXXX")
  split -l "$n" "$file" "$d/c."
  for c in "$d"/c.*; do pub_lines "$c"; sleep "$pause"; done
  rm -rf "$d"
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_stop() { as_pg "$PGBIN/pg_ctl" -D "$HG_SVC_DIR/pg/data" -m fast -w stop >/dev/null; }

pg_start() {
  as_pg "$PGBIN/pg_ctl" -D "$HG_SVC_DIR/pg/data" -l "$HG_SVC_DIR/pg/postgres.log" -w -t 60 \
    -o "-p $PGPORT -k $HG_SVC_DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 \
        -c shared_buffers=128MB -c log_min_messages=warning" start >/dev/null
  head -1 "$HG_SVC_DIR/pg/data/postmaster.pid" > "$HG_SVC_DIR/postgres.pid"
}

mqtt_stop() {
  local pid=$(cat "$HG_SVC_DIR/mosquitto.pid")
  kill -TERM "$pid"
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

mqtt_start() {
  local mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  setsid "$mosq" -c "$HG_SVC_DIR/mqtt/mosquitto.conf" >>"$HG_SVC_DIR/mqtt/mosquitto.log" 2>&1 < /dev/null 3>&- &
  echo $! > "$HG_SVC_DIR/mosquitto.pid"
  for i in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$HG_MQTT_PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# The fleet's accepted fixes, as "vehicle|ts" count (every line is valid).
fleet_count() { wc -l < "$FLEET" | tr -d ' '; }
