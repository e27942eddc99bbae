# helpers.bash - for tests/integration/5N-jt808-*.bats: hazgate-jt808
# instances beside the gateway's private services (tests/data/gateway/
# helpers.bash: gw_setup_file first), and a scripted terminal
# (jt808term.py). Needs HG_SRCDIR, HG_BUILDDIR.

JT="$HG_BUILDDIR/hazgate-jt808"
JT_TERM="$HG_SRCDIR/tests/data/jt808/jt808term.py"

# jt_setup NAME [EXTRA_INI]: a login in group hazgate_jt808 (once), ports
# and the configuration $GWDIR/NAME.conf; sets JT_PORT_<NAME>,
# JT_HTTP_<NAME>.
jt_setup() {
  local name=$1 extra=${2:-} port http
  psql -XqAt -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 't_jt808')
    THEN CREATE ROLE t_jt808 LOGIN IN ROLE hazgate_jt808; END IF; END \$\$" >/dev/null
  port=$(gw_free_port)
  http=$(gw_free_port)
  eval "export JT_PORT_$name=$port JT_HTTP_$name=$http"
  cat > "$GWDIR/$name.conf" <<CONF
[jt808]
listen = 127.0.0.1:$port
[mqtt]
host = $HG_MQTT_HOST
port = $HG_MQTT_PORT
client_id = $name
keepalive_s = 5
reconnect_min_ms = 100
reconnect_max_ms = 500
[postgres]
conninfo = host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=t_jt808
reconnect_max_ms = 500
[http]
listen = 127.0.0.1:$http
$extra
CONF
  # an [jt808] key in EXTRA_INI given again: the last section header wins
  # in INI, so EXTRA_INI starts with its own [section] lines.
}

# jt_start NAME: run it in the background; wait until the registry is in.
jt_start() {
  local name=$1
  rm -f "$GWDIR/$name.exit"
  ( "$JT" -c "$GWDIR/$name.conf" >>"$GWDIR/$name.log" 2>&1 &
    echo $! > "$GWDIR/$name.pid"
    st=0; wait $! || st=$?; echo "$st" > "$GWDIR/$name.exit" ) 3>&- &
  for i in $(seq 1 100); do
    grep -q 'event=registry_loaded' "$GWDIR/$name.log" 2>/dev/null && grep -q 'event=mqtt_connected' "$GWDIR/$name.log" && return 0
    [ -s "$GWDIR/$name.exit" ] && break
    sleep 0.1
  done
  echo "hazgate-jt808 $name did not start:" >&2; tail -20 "$GWDIR/$name.log" >&2
  return 1
}

# jt_stop NAME [SIGNAL]: prints the exit status.
jt_stop() {
  local name=$1
  kill -"${2:-TERM}" "$(cat "$GWDIR/$name.pid")" 2>/dev/null || true
  for i in $(seq 1 200); do [ -s "$GWDIR/$name.exit" ] && break; sleep 0.1; done
  cat "$GWDIR/$name.exit"
}

# jt_term NAME SCRIPT: a terminal running SCRIPT (jt808term.py's steps,
# one a line) against instance NAME; prints the replies.
jt_term() {
  local port
  eval "port=\$JT_PORT_$1"
  printf '%s\n' "$2" > "$GWDIR/term.$$.txt"
  python3 "$JT_TERM" 127.0.0.1 "$port" "$GWDIR/term.$$.txt"
}

# jt_metric NAME METRIC (with its labels, as printed)
jt_metric() {
  local http
  eval "http=\$JT_HTTP_$1"
  curl -s "http://127.0.0.1:$http/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}
