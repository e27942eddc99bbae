# cluster.bash - shared by tests/integration/7N-cluster-*.bats and
# bench/bench_cluster_gateways.sh: several partitioned gateways ([cluster]) on one
# private PostgreSQL and broker, each in its own folder with its own
# configuration, spool, log and HTTP port, started and stopped by PID.
#
# Needs helpers.bash (GW, CTL, FLEET, ZONES, q, wait_sql, gw_free_port,
# gw_write_conf)
# and the services' variables (HG_SVC_DIR, HG_MQTT_HOST/PORT, HG_PG_CONNINFO).
# CL_PARTS (default 8) and CL_TAKEOVER_S (default 2) are the [cluster]
# options every gateway gets.

CL_PARTS=${CL_PARTS:-8}
CL_TAKEOVER_S=${CL_TAKEOVER_S:-2}

# cl_conf NAME: write $HG_SVC_DIR/cl-NAME/hazgate.conf (once): the tests'
# configuration (helpers.bash, gw_write_conf) with its own spool, HTTP port
# and broker port (CL_MQTT_PORT), and [cluster].
cl_conf() {
  local d="$HG_SVC_DIR/cl-$1"
  [ -f "$d/hazgate.conf" ] && return 0
  mkdir -p "$d"
  gw_free_port > "$d/http_port"
  ( GWDIR=$d GWCONF=$d/hazgate.conf GW_HTTP_PORT=$(cat "$d/http_port")
    HG_MQTT_PORT=${CL_MQTT_PORT:-$HG_MQTT_PORT}
    GW_EXTRA_CONF="[cluster]
partitions = $CL_PARTS
takeover_s = $CL_TAKEOVER_S
name = $1
${CL_EXTRA_CONF:-}"
    gw_write_conf )
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

# cl_unlock: end the lock a scenario holds (its backend sleeps on after
# psql is gone, so it is terminated by name), and its psql.
cl_unlock() {
  q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hg-test-lock'" > /dev/null || true
  kill -TERM "$(cat "$HG_SVC_DIR/cl-lock.pid")" 2>/dev/null || true
  rm -f "$HG_SVC_DIR/cl-lock.pid"
}

# cl_stop_all: every gateway still running, and a publisher a scenario
# left behind, by PID (teardown).
cl_stop_all() {
  local f
  if [ -s "$HG_SVC_DIR/cl-publisher.pid" ]; then
    kill -TERM "$(cat "$HG_SVC_DIR/cl-publisher.pid")" 2>/dev/null || true
    rm -f "$HG_SVC_DIR/cl-publisher.pid"
  fi
  [ -s "$HG_SVC_DIR/cl-lock.pid" ] && cl_unlock
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

# cl_publish_bg RATE: the fleet in the background (its PID kept for
# cl_stop_all); cl_publish_wait: until it is done.
cl_publish_bg() {
  cl_publish "$1" &
  echo $! > "$HG_SVC_DIR/cl-publisher.pid"
}
cl_publish_wait() {
  local pid
  pid=$(cat "$HG_SVC_DIR/cl-publisher.pid")
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  rm -f "$HG_SVC_DIR/cl-publisher.pid"
}

# cl_ms TS: an RFC 3339 log time in epoch milliseconds.
cl_ms() { date -d "$1" +%s%3N; }

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

# ---- the scenarios (71 on mosquitto, 72 on the NATS cluster) -------------
# Each test file defines cl_publish RATE (the fleet, on the partition topics
# or on tankers/<vehicle>/telemetry through NATS's mapping) and cl_port NAME
# (the broker port of gateway NAME), and has $GWDIR/replay.ndjson.

# A clean database between scenarios: the gateways stopped, their spools
# emptied, the tables truncated.
cl_reset() {
  cl_stop_all
  rm -rf "$HG_SVC_DIR"/cl-*/spool
  # alert_events is empty (nothing acknowledged here); its trigger is the owner's to lift.
  q "ALTER TABLE alert_events DISABLE TRIGGER alert_events_no_truncate"
  q "TRUNCATE positions_recent, positions_slices, alerts, alert_events, alert_outbox, vehicle_state, rejects, cluster_partitions"
  q "ALTER TABLE alert_events ENABLE TRIGGER alert_events_no_truncate"
}

cl_start_on() { CL_MQTT_PORT=$(cl_port "$1") cl_start "$1"; }

cl_replay_keys() {
  jq -r 'select(.kind | startswith("tracker_") | not) | "\(.kind) \(.vehicle) \(.ts) \(.zone_id)"' \
    "$GWDIR/replay.ndjson" | sort
}
cl_db_keys() {
  q "SELECT kind || ' ' || vehicle || ' ' || to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') || ' ' || coalesce(zone_id::text, 'null') FROM alerts WHERE kind NOT LIKE 'tracker_%'" | sort
}

# Every fix once; the alerts equal the replay's, none twice.
cl_check_fleet() {
  wait_sql "SELECT count(*) FROM positions" "$(fleet_count)" 90
  [ "$(q "SELECT count(DISTINCT (vehicle, ts)) FROM positions")" = "$(fleet_count)" ]
  wait_sql "SELECT count(*) FROM alerts WHERE kind NOT LIKE 'tracker_%'" "$(cl_replay_keys | wc -l)" 30
  diff <(cl_replay_keys) <(cl_db_keys)
  [ "$(q "SELECT count(*) - count(DISTINCT (vehicle, ts, kind, zone_id)) FROM alerts")" = "0" ]
}

cl_sum() { local m=$1 n s=0; shift; for n in "$@"; do s=$((s + $(cl_metric "$n" "$m"))); done; echo "$s"; }

cl_scenario_three() {
  cl_reset
  cl_start_on a; cl_start_on b; cl_start_on c
  cl_wait_owned "$CL_PARTS" 20 a b c
  for n in a b c; do
    [ "$(cl_metric $n hazgate_cluster_partitions_owned)" -le "$(( (CL_PARTS + 2) / 3 ))" ]
    [ "$(cl_metric $n hazgate_cluster_members)" = "3" ]
  done
  [ "$(q "SELECT count(*) FROM cluster_partitions WHERE released_at IS NULL")" = "$CL_PARTS" ]
  cl_publish 6000
  cl_check_fleet
  # Each alert acknowledged by the broker: the outbox empties.
  wait_sql "SELECT count(*) FROM alert_outbox" "0" 30
  [ -z "$(cl_overlaps)" ]
  # Every gateway wrote its partitions' fixes, and only those.
  for n in a b c; do [ "$(cl_metric $n hazgate_positions_written_total)" -gt 0 ]; done
  [ "$(cl_sum hazgate_positions_written_total a b c)" = "$(fleet_count)" ]
  for n in a b c; do [ "$(cl_stop $n)" = "0" ]; done
}

cl_scenario_kill() {
  local held t0 t1 tc
  cl_reset
  cl_start_on a; cl_start_on b; cl_start_on c
  cl_wait_owned "$CL_PARTS" 20 a b c
  held=$(cl_metric b hazgate_cluster_partitions_owned)
  [ "$held" -ge 1 ]
  local bparts
  bparts=$(q "SELECT string_agg(partition::text, ',') FROM cluster_partitions WHERE owner = 'b' AND released_at IS NULL")
  [ -n "$bparts" ]
  cl_publish_bg 2500
  sleep 2.5
  t0=$(date +%s%3N)
  cl_stop b KILL
  echo "ts=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) level=info event=stopped killed=1" >> "$HG_SVC_DIR/cl-b/log"
  # All taken again by a and c (state loaded, sessions up, handoff_wait_ms
  # after they were seen free).
  cl_wait_owned "$CL_PARTS" $((CL_TAKEOVER_S + 10)) a c
  t1=$(date +%s%3N)
  [ "$(cl_sum hazgate_cluster_takeovers_total a c)" = "$held" ]
  # Claimed within takeover_s: the last takeover's claim in the logs.
  tc=$(grep -h 'event=partition_claimed .*takeover=1' "$HG_SVC_DIR/cl-a/log" "$HG_SVC_DIR/cl-c/log" |
         sed 's/^ts=\([^ ]*\) .*/\1/' | sort | tail -1)
  tc=$(cl_ms "$tc")
  echo "# claimed_ms=$((tc - t0)) taken_ms=$((t1 - t0)) takeover_s=$CL_TAKEOVER_S" >&3
  [ $((tc - t0)) -le $((CL_TAKEOVER_S * 1000)) ]
  cl_publish_wait
  # b comes back and takes its share again. What it had taken and not
  # committed it had not acknowledged: the broker sent it to a and c, which
  # decided it in order (alerts exactly the replay's), and b drops its
  # spool and inbox journal.
  cl_start_on b
  cl_wait_owned "$CL_PARTS" 20 a b c
  cl_check_fleet
  [ -z "$(cl_overlaps)" ]
}

# SIGKILL of a gateway that had taken messages and committed none (its
# database writes blocked by a lock): it had not acknowledged them either (partition sessions acknowledge after
# COMMIT): the broker sent them to the new owners, which decided them in
# order, and a, back, drops what its spool and inbox journal held of
# them; the alerts are exactly the replay's (cl_check_fleet). Before
# acknowledging after COMMIT, b never got them (a's PUBACKs had gone out).
# cl_scenario_kill_uncommitted [nats]: "nats" (NATS, handoff_wait_ms
# above ack_wait): a's sessions, held past half handoff_wait_ms with
# nothing committed, were parked (disconnected before ack_wait), and b got
# every fix in order: no seq gap. Before parking, NATS 2.9 sent a's held
# backlog again every ack_wait while connected, and after a's death those
# waves reached b out of order (seq gaps of about a hundred; the late
# fixes decided nothing, alerts were missed).
cl_scenario_kill_uncommitted() {
  cl_reset
  cl_start_on a
  cl_wait_owned "$CL_PARTS" 20 a
  # a can take messages but commit none: positions_recent locked.
  PGAPPNAME=hg-test-lock psql -XqAt -c "BEGIN; LOCK TABLE positions_recent IN SHARE MODE; SELECT pg_sleep(600)" \
    > /dev/null 2>&1 3>&- &
  echo $! > "$HG_SVC_DIR/cl-lock.pid"
  wait_sql "SELECT count(*) > 0 FROM pg_locks WHERE relation = 'positions_recent'::regclass AND mode = 'ShareLock' AND granted" t 10
  cl_publish 3000
  local i
  for i in $(seq 1 50); do
    [ "$(cl_metric a hazgate_messages_received_total)" -gt 0 ] && break; sleep 0.2
  done
  sleep 1
  local got
  got=$(cl_metric a hazgate_messages_received_total)
  echo "# taken by a, none committed: $got" >&3
  [ "$got" -gt 0 ]
  [ "$(q "SELECT count(*) FROM positions")" = "0" ]
  # NATS: the held sessions were parked (disconnected before ack_wait);
  # mosquitto (handoff_wait_ms 0): never.
  if [ "${1:-}" = nats ]; then
    [ "$(cl_metric a hazgate_cluster_parked_total)" -ge 1 ]
  else
    [ "$(cl_metric a hazgate_cluster_parked_total)" = 0 ]
  fi
  cl_stop a KILL
  echo "ts=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) level=info event=stopped killed=1" >> "$HG_SVC_DIR/cl-a/log"
  cl_unlock
  # b, a new gateway, takes every partition over: the broker sends it
  # what a had taken, since a acknowledged none of it.
  cl_start_on b
  cl_wait_owned "$CL_PARTS" $((CL_TAKEOVER_S + 10)) b
  cl_check_uncommitted "${1:-}"
  # a comes back: what its spool and inbox journal held is dropped, not
  # written a second time.
  cl_start_on a
  cl_wait_owned "$CL_PARTS" 20 a b
  grep -q 'event=spool_dropped' "$HG_SVC_DIR/cl-a/log"
  sleep 1
  cl_check_uncommitted "${1:-}"
  [ -z "$(cl_overlaps)" ]
}

cl_check_uncommitted() {
  cl_check_fleet
  [ "$1" = nats ] || return 0
  grep -q 'event=partition_parked' "$HG_SVC_DIR/cl-a/log"
  [ "$(grep -c 'event=seq_gap' "$HG_SVC_DIR/cl-b/log")" = 0 ]
  [ "$(cl_metric b hazgate_lost_seq_total)" = 0 ]
}

cl_scenario_grow_shrink() {
  local i
  cl_reset
  cl_start_on a; cl_start_on b
  cl_wait_owned "$CL_PARTS" 20 a b
  [ "$(cl_metric a hazgate_cluster_partitions_owned)" = "$((CL_PARTS / 2))" ]
  cl_publish_bg 2000
  sleep 2
  cl_start_on c
  # c takes its share over: a and b give partitions up, cleanly.
  for i in $(seq 1 100); do
    [ "$(cl_metric c hazgate_cluster_partitions_owned)" -ge 2 ] && break; sleep 0.2
  done
  [ "$(cl_metric c hazgate_cluster_partitions_owned)" -ge 2 ]
  [ "$(cl_sum hazgate_cluster_releases_total a b)" -ge 2 ]
  [ "$(cl_sum hazgate_cluster_takeovers_total a b c)" = "0" ]
  sleep 1
  # ... and leaves again (SIGTERM): a and b take its partitions back.
  [ "$(cl_stop c)" = "0" ]
  cl_wait_owned "$CL_PARTS" 20 a b
  cl_publish_wait
  cl_check_fleet
  # The state moved with the partitions: no false seq gap.
  [ "$(cl_sum hazgate_lost_seq_total a b)" = "0" ]
  # Given up on SIGTERM, not orphaned: no takeover.
  [ "$(cl_sum hazgate_cluster_takeovers_total a b)" = "0" ]
  [ -z "$(cl_overlaps)" ]
  grep -q 'event=partition_released' "$HG_SVC_DIR/cl-a/log" "$HG_SVC_DIR/cl-b/log"
}

# Every gateway's claim connection cut at once mid-stream (what a
# PostgreSQL failover does to the advisory locks): each stops its
# partitions at once and takes its own back first; nothing lost or doubled.
cl_scenario_claims_cut() {
  local before after
  cl_reset
  cl_start_on a; cl_start_on b
  cl_wait_owned "$CL_PARTS" 20 a b
  before=$(q "SELECT string_agg(partition || owner, ',' ORDER BY partition) FROM cluster_partitions")
  cl_publish_bg 2000
  sleep 2
  [ "$(q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'hazgate-claim'")" = "2" ]
  for i in $(seq 1 50); do [ "$(cl_sum hazgate_cluster_lost_total a b)" = "$CL_PARTS" ] && break; sleep 0.1; done
  [ "$(cl_sum hazgate_cluster_lost_total a b)" = "$CL_PARTS" ]
  cl_wait_owned "$CL_PARTS" 20 a b
  after=$(q "SELECT string_agg(partition || owner, ',' ORDER BY partition) FROM cluster_partitions")
  [ "$before" = "$after" ]
  cl_publish_wait
  cl_check_fleet
  [ "$(cl_sum hazgate_lost_seq_total a b)" = "0" ]
  [ -z "$(cl_overlaps)" ]
}
