#!/usr/bin/env bats
# 73-cluster-pg-hosts: a multi-host conninfo whose first host accepts TCP and
# never answers (a listener nobody serves: what a hung or cut-off primary
# looks like) and whose second is the real PostgreSQL, named "localhost" (a
# name, resolved by net_dns, not by libpq on the loop). net_pg walks the list
# itself: the silent host gives way after connect_timeout, the gateway
# connects to the second and stores the fleet, and its loop never blocks
# meanwhile (/healthz answers at once). libpq's own walk, restarted from the
# first host on every attempt, never got past the silent one.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() {
  gw_setup_file
  SILENT_PORT=$(gw_free_port)
  python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
time.sleep(3600)' "$SILENT_PORT" 3>&- &
  echo $! > "$HG_SVC_DIR/silent.pid"
  for i in $(seq 1 50); do ! (exec 3<>"/dev/tcp/127.0.0.1/$SILENT_PORT") 2>/dev/null || break; sleep 0.1; done
  export SILENT_PORT
  HG_PG_CONNINFO="host=127.0.0.1,localhost port=$SILENT_PORT,$PGPORT user=postgres dbname=hazgate target_session_attrs=read-write connect_timeout=2" \
    gw_write_conf
}
teardown_file() { gw_teardown_file; }

@test "the silent first host times out (connect_timeout) and gives way to the second, a name; the loop answers meanwhile" {
  grep -q "conninfo = host=127.0.0.1,localhost port=$SILENT_PORT,$PGPORT" "$GWCONF"
  t0=$(date +%s%N)
  gw_start
  # while the attempt waits on the silent host, the loop answers at once
  run curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_HTTP_PORT/healthz"
  [ "$output" = 200 ] || [ "$output" = 503 ]
  wait_log 'event=pg_connected' 20
  t1=$(date +%s%N)
  grep -q "event=pg_connect_failed host=127.0.0.1 port=$SILENT_PORT why=\"connect timed out\"" "$GWDIR/log"
  # one step's timeout (2 s), not libpq's walk, not 10 s
  [ $(( (t1 - t0) / 1000000 )) -lt 9000 ]
  pub_lines "$FLEET"
  wait_sql "SELECT count(*) FROM positions" "$(fleet_count)" 60
  [ "$(q "SELECT count(DISTINCT (vehicle, ts)) FROM positions")" = "$(fleet_count)" ]
}

@test "the gateway stops cleanly" {
  run gw_stop
  [ "$output" = "0" ]
}
