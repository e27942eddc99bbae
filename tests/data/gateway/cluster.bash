# cluster.bash - shared by tests/integration/7N-cluster-*.bats and
# bench/bench_cluster.sh: several partitioned gateways ([cluster]) on one
# private PostgreSQL and broker, each in its own folder with its own
# configuration, spool, log and HTTP port, started and stopped by PID.
#
# Needs helpers.bash (GW, CTL, FLEET, ZONES, q, wait_sql, gw_free_port)
# and the services' variables (HG_SVC_DIR, HG_MQTT_HOST/PORT, HG_PG_CONNINFO).
# CL_PARTS (default 8) and CL_TAKEOVER_S (default 2) are the [cluster]
# options every gateway gets.

CL_PARTS=${CL_PARTS:-8}
CL_TAKEOVER_S=${CL_TAKEOVER_S:-2}

# cl_conf NAME: write $HG_SVC_DIR/cl-NAME/hazgate.conf (once).
cl_conf() {
  local d="$HG_SVC_DIR/cl-$1"
  [ -f "$d/hazgate.conf" ] && return 0
  mkdir -p "$d"
  gw_free_port > "$d/http_port"
  cat > "$d/hazgate.conf" <<CONF
[mqtt]
host = ${CL_MQTT_HOST:-$HG_MQTT_HOST}
port = ${CL_MQTT_PORT:-$HG_MQTT_PORT}
client_id = hzcl
keepalive_s = 5
reconnect_min_ms = 100
reconnect_max_ms = 1000
[postgres]
conninfo = $HG_PG_CONNINFO
batch_rows = 500
flush_ms = 50
reconnect_max_ms = 1000
[spool]
dir = $d/spool
max_bytes = 64M
fsync = always
[http]
listen = 127.0.0.1:$(cat "$d/http_port")
[log]
level = info
[cluster]
partitions = $CL_PARTS
takeover_s = $CL_TAKEOVER_S
name = $1
${CL_EXTRA_CONF:-}
CONF
}

# cl_start NAME: start gateway NAME in the background (its exit status goes
# to cl-NAME/exit); wait until its claim connection is up.
cl_start() {
  local d="$HG_SVC_DIR/cl-$1" n i
  cl_conf "$1"
  n=$(wc -l < "$d/log" 2>/dev/null || echo 0)
  rm -f "$d/exit" "$d/pid"
  ( "$GW" -c "$d/hazgate.conf" >>"$d/log" 2>&1 &
    echo $! > "$d/pid.tmp"; mv "$d/pid.tmp" "$d/pid"
    st=0; wait $! || st=$?; echo "$st" > "$d/exit" ) 3>&- &
  for i in $(seq 1 50); do [ -s "$d/pid" ] && break; sleep 0.1; done
  for i in $(seq 1 200); do
    tail -n +$((n + 1)) "$d/log" | grep -q 'event=cluster_connected' && return 0
    kill -0 "$(cat "$d/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "gateway $1 did not start:" >&2; tail -20 "$d/log" >&2
  return 1
}

# cl_stop NAME [SIGNAL]: signal it (TERM by default), wait for its end,
# print its exit status.
cl_stop() {
  local d="$HG_SVC_DIR/cl-$1" i
  [ -s "$d/pid" ] || return 0
  kill -"${2:-TERM}" "$(cat "$d/pid")" 2>/dev/null || true
  for i in $(seq 1 600); do [ -s "$d/exit" ] && break; sleep 0.1; done
  rm -f "$d/pid"
  cat "$d/exit"
}

# cl_stop_all: every gateway still running, by PID (teardown).
cl_stop_all() {
  local f
  for f in "$HG_SVC_DIR"/cl-*/pid; do
    [ -s "$f" ] || continue
    kill -TERM "$(cat "$f")" 2>/dev/null || true
  done
  sleep 1
  for f in "$HG_SVC_DIR"/cl-*/pid; do
    [ -s "$f" ] || continue
    kill -KILL "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

cl_metric() {
  curl -s "http://127.0.0.1:$(cat "$HG_SVC_DIR/cl-$1/http_port")/metrics" |
    awk -v m="$2" '$1 == m { print $2 }'
}

# cl_owned NAME...: the partitions each holds, summed ("8" when all of them
# are taken); cl_wait_owned SUM SECONDS NAME...: until that sum.
cl_owned() {
  local n s=0
  for n in "$@"; do s=$((s + $(cl_metric "$n" hazgate_cluster_partitions_owned || echo 0))); done
  echo "$s"
}
cl_wait_owned() {
  local want=$1 t=$2 i; shift 2
  for i in $(seq 1 $((t * 5))); do
    [ "$(cl_owned "$@")" = "$want" ] && return 0
    sleep 0.2
  done
  echo "owned: $(for n in "$@"; do echo -n "$n=$(cl_metric "$n" hazgate_cluster_partitions_owned) "; done)" >&2
  return 1
}

# cl_fleet_file OUT: the sample fleet as "topic<TAB>payload" lines on the
# partition topics hz/part/<k>/tankers/<vehicle>/telemetry, k from the
# database's hazgate_partition() (NATS's mapping does this itself).
cl_fleet_file() {
  local out=$1
  jq -r .vehicle "$FLEET" | sort -u > "$out.vehicles"
  q "SELECT v || '|' || hazgate_partition(v, $CL_PARTS) FROM unnest(string_to_array('$(paste -sd, "$out.vehicles")', ',')) v" > "$out.map"
  jq -rc '[.vehicle, tostring] | @tsv' "$FLEET" |
    awk -F'\t' 'NR == FNR { split($0, a, "|"); k[a[1]] = a[2]; next }
                { printf "hz/part/%s/tankers/%s/telemetry\t%s\n", k[$1], $1, $2 }' "$out.map" - > "$out"
}

# cl_overlaps: from every gateway's log, the partitions' owners in time
# (claimed .. released, lost, or the gateway's end): prints each time two
# gateways held one partition at once; nothing when never.
cl_overlaps() {
  local f name
  for f in "$HG_SVC_DIR"/cl-*/log; do
    name=$(basename "$(dirname "$f")"); name=${name#cl-}
    grep -E 'event=(partition_claimed|partition_released|partition_lost|stopped|cluster_starting) ' "$f" |
      sed -E "s/^ts=([^ ]+) .*event=([a-z_]+).*/\1 \2 $name &/"
  done | sort | awk '
    { ts = $1; ev = $2; gw = $3; k = ""
      if (match($0, /partition=[0-9]+/)) k = substr($0, RSTART + 10, RLENGTH - 10) }
    ev == "partition_claimed" {
      if ((k in owner) && owner[k] != "" && owner[k] != gw) print "partition " k " claimed by " gw " at " ts " while " owner[k] " holds it"
      owner[k] = gw; next }
    ev == "partition_released" || ev == "partition_lost" { if (owner[k] == gw) owner[k] = ""; next }
    ev == "stopped" || ev == "cluster_starting" { for (p in owner) if (owner[p] == gw) owner[p] = "" }'
}
