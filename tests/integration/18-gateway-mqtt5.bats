#!/usr/bin/env bats
# 18-gateway-mqtt5: the same persistent session over MQTT 5 (protocol = 5:
# session expiry set, clean start off): messages published while the
# gateway is stopped are delivered when it comes back.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() {
  export GW_EXTRA_CONF=''
  gw_setup_file
  sed -i 's/^client_id = hazgate-test/client_id = hazgate-test\nprotocol = 5/' "$GWCONF"
  gw_start
}
teardown_file() { gw_teardown_file; }

pubfix() {
  mosquitto_pub -V mqttv5 -h "$HG_MQTT_HOST" -p "$HG_MQTT_PORT" -q 1 -t tankers/M5/telemetry \
    -m "{\"ts\":\"$1\",\"lat\":38.5,\"lon\":113.5,\"seq\":$2}"
}

@test "MQTT 5: messages published while the gateway is down arrive after its restart" {
  grep -q 'event=mqtt_connected' "$GWDIR/log"
  pubfix 2020-01-01T00:00:00Z 1
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'M5'" "1"
  run gw_stop
  [ "$output" = "0" ]
  pubfix 2020-01-01T00:00:05Z 2
  pubfix 2020-01-01T00:00:10Z 3
  gw_start
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'M5'" "3"
  [ "$(metric hazgate_lost_seq_total)" = "0" ]
  run gw_stop
  [ "$output" = "0" ]
}

# A reconnect must keep the session persistent too: in MQTT 5 a CONNECT
# without the session-expiry property means expiry 0, and the broker would
# drop the session (subscriptions and queue) when that link ends.
@test "MQTT 5: after a reconnect (broker restarted) the session still outlives a SIGKILL" {
  gw_start
  pubfix 2020-01-02T00:00:00Z 4
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'M5'" "4"
  mqtt_stop
  mqtt_start
  # Connected once at start, once more after the restart.
  for i in $(seq 1 100); do [ "$(metric hazgate_mqtt_connects_total)" = "2" ] && break; sleep 0.1; done
  [ "$(metric hazgate_mqtt_connects_total)" = "2" ]
  pubfix 2020-01-02T00:00:05Z 5
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'M5'" "5"
  # The link ends without a DISCONNECT: the broker keeps the session only
  # if the reconnect asked for it.
  run gw_stop KILL
  [ "$output" = "137" ]
  for s in 6 7 8 9 10; do pubfix "$(printf "2020-01-02T00:01:%02dZ" "$s")" "$s"; done
  gw_start
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'M5'" "10"
  [ "$(metric hazgate_lost_seq_total)" = "0" ]
  run gw_stop
  [ "$output" = "0" ]
}

# A TCP port that never completes a handshake: a listening socket whose
# accept queue (backlog 0) is kept full, so Linux drops every further SYN
# (nobody accepts). Prints the port; its PID is in $HG_SVC_DIR/blackhole.pid
# (services-stop ends it; it ends by itself after 5 minutes anyway).
blackhole_start() {
  rm -f "$GWDIR/blackhole.port"
  python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for i in range(4):
    c = socket.socket(); c.setblocking(False)
    c.connect_ex(("127.0.0.1", port)); fill.append(c)
time.sleep(0.3)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % port)
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(300)
' "$GWDIR/blackhole.port" </dev/null >/dev/null 2>&1 3>&- &
  echo $! > "$HG_SVC_DIR/blackhole.pid"
  for i in $(seq 1 50); do [ -s "$GWDIR/blackhole.port" ] && break; sleep 0.1; done
  cat "$GWDIR/blackhole.port"
}

# gw_start without waiting for the broker: configuration $1.
gw_spawn() {
  rm -f "$GWDIR/exit" "$HG_SVC_DIR/hazgate.pid"
  ( "$GW" -c "$1" >>"$GWDIR/log" 2>&1 &
    echo $! > "$HG_SVC_DIR/hazgate.pid.tmp"; mv "$HG_SVC_DIR/hazgate.pid.tmp" "$HG_SVC_DIR/hazgate.pid"
    st=0; wait $! || st=$?; echo "$st" > "$GWDIR/exit" ) 3>&- &
  for i in $(seq 1 50); do [ -s "$HG_SVC_DIR/hazgate.pid" ] && break; sleep 0.1; done
}

# The MQTT 5 connect is libmosquitto's blocking one (the only call that
# sends CONNECT properties): it must not hold the loop while the broker
# does not answer.
@test "MQTT 5: a broker that drops SYNs does not stall the loop (healthz answers, attempts logged)" {
  local port n t code
  [ -s "$GWDIR/exit" ] || gw_stop >/dev/null   # the tests above leave it stopped
  port=$(blackhole_start)
  [ -n "$port" ]
  # The port really drops SYNs.
  run timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
  [ "$status" -eq 124 ]
  sed "s/^port = .*/port = $port/" "$GWCONF" > "$GWDIR/blackhole.conf"
  grep -q "^port = $port" "$GWDIR/blackhole.conf"
  grep -q '^protocol = 5' "$GWDIR/blackhole.conf"
  n=$(wc -l < "$GWDIR/log")
  gw_spawn "$GWDIR/blackhole.conf"
  for i in $(seq 1 100); do
    tail -n +$((n + 1)) "$GWDIR/log" | grep -q 'event=running' && break
    sleep 0.1
  done
  tail -n +$((n + 1)) "$GWDIR/log" | grep -q 'event=running'
  sleep 0.5   # the first attempt is under way
  # A blocked loop would hold every request for the kernel's SYN retries
  # (about 127 s); 3 s leaves room for a loaded CI machine.
  for i in 1 2 3 4 5 6; do
    read -r code t < <(curl -s -m 3 -o /dev/null -w '%{http_code} %{time_total}\n' \
      "http://127.0.0.1:$GW_HTTP_PORT/healthz" || true)
    echo "healthz $i: $code in $t s" >&2
    [ "$code" = "503" ]
    awk -v t="$t" 'BEGIN { exit !(t < 3.0) }'
    sleep 1
  done
  [ "$(metric hazgate_mqtt_connected)" = "0" ]
  # Two failed attempts, each logged with its reason; no connection.
  for i in $(seq 1 300); do
    [ "$(tail -n +$((n + 1)) "$GWDIR/log" | grep -c "event=mqtt_retry host=127.0.0.1 port=$port ")" -ge 2 ] && break
    sleep 0.1
  done
  tail -n +$((n + 1)) "$GWDIR/log" | grep "event=mqtt_retry host=127.0.0.1 port=$port " >&2
  [ "$(tail -n +$((n + 1)) "$GWDIR/log" | grep -c "event=mqtt_retry host=127.0.0.1 port=$port .*why=\"[^\"]")" -ge 2 ]
  ! tail -n +$((n + 1)) "$GWDIR/log" | grep -q 'event=mqtt_connected'
  run gw_stop
  [ "$output" = "0" ]
  kill "$(cat "$HG_SVC_DIR/blackhole.pid")"
  rm -f "$HG_SVC_DIR/blackhole.pid"
}
