# helpers.bash - shared by tests/integration/2*-tracker-*.bats: a private
# mosquitto (scripts/services-start), gpsd through gpsfake, hazgate-tracker,
# and a mosquitto_sub subscriber with a persistent QoS 1 session.
#
# Every process started here records its PID in $HG_SVC_DIR/<name>.pid so
# that scripts/services-stop ends it.  gpsfake runs gpsd itself (and ends it
# on SIGTERM or when the log is played): it is started with
#   gpsfake -1 -q -p -P PORT -c CYCLE LOG
# -1 plays the log once; -p makes gpsfake watch gpsd itself, which activates
# the fake device at once and ends gpsfake cleanly when the log is done
# (its output, gpsd's JSON, is kept in $HG_SVC_DIR/gpsfake-N.out); -P PORT
# is a free port; -c is the delay between sentences (the drive's fixes are
# judged by their own times, so it can be played faster than real time).
# A 60-sentence lead-in with no fix (leadin.nmea) goes first, so that the
# tracker, started before gpsfake and retrying gpsd every 0.1 s, is
# connected when the drive's first fix comes.

# Loading this file also sets the tests' hooks (a file that needs another
# setup_file, as 25-tracker-tls does, defines its own after the load): the
# services once per file, and after each test the diagnostics and the
# clean-up of what a failed test left running.
setup_file() { trk_services_start; }
teardown() { trk_diag; trk_test_cleanup; }
teardown_file() { trk_services_stop; }

TRK_BIN="$HG_BUILDDIR/hazgate-tracker"
TRK_DATA="$HG_SRCDIR/tests/data/tracker"
TRK_DRIVE="$HG_SHARED/data/drive-A10005.nmea"
TRK_VEHICLE="晋A10005"
TRK_CHECK="$TRK_DATA/check-telemetry.py"
# The policy defaults: min_interval_s, max_interval_s, heading_change_deg,
# min_distance_m, heading_min_speed_kmh.
TRK_POLICY="10,60,30,100,5"

trk_services_start() {
  eval "$("$HG_SRCDIR/scripts/services-start" --no-pg)"
  export HG_SVC_DIR HG_MQTT_HOST HG_MQTT_PORT
  TRK_GPSD_PORT=$(trk_free_port)
  export TRK_GPSD_PORT
}

trk_services_stop() {
  "$HG_SRCDIR/scripts/services-stop" "$HG_SVC_DIR"
}

trk_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A free port below the kernel's ephemeral range (ip_local_port_range), so
# that no outgoing connection of this or a parallel test can take it between
# now and the moment a server (gpsd) binds it.
trk_free_port() {
  local p i lo=32768 hi
  read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  [ "$lo" -gt 12000 ] || lo=32768
  for i in $(seq 1 200); do
    p=$(( 10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000) ))
    if trk_port_free "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

# wait_until SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_until() {
  local t=$1 i; shift
  for i in $(seq 1 $(( t * 10 ))); do
    "$@" && return 0
    sleep 0.1
  done
  "$@"
}

# trk_config FILE [INI LINES...]: a test configuration; extra lines are
# appended (later keys override earlier ones).
trk_config() {
  local f=$1; shift
  {
    printf '[tracker]\nvehicle = %s\nun = 1203\nhazard_class = 3\n' "$TRK_VEHICLE"
    printf '[gpsd]\nhost = 127.0.0.1\nport = %s\nreconnect_s = 0.1\n' "$TRK_GPSD_PORT"
    printf '[mqtt]\nhost = 127.0.0.1\nport = %s\nreconnect_min_s = 0.2\nreconnect_max_s = 1\ndrain_s = 3\n' "$HG_MQTT_PORT"
    printf '[queue]\ndir = %s/queue\nfsync = interval\n' "$HG_SVC_DIR"
    local l
    for l in "$@"; do printf '%s\n' "$l"; done
  } > "$f"
}

# trk_start_tracker CONFIG [ARGS...]: start in the background, log to
# $HG_SVC_DIR/tracker.log (appended), PID in tracker.pid.
trk_start_tracker() {
  local conf=$1; shift
  "$TRK_BIN" -c "$conf" "$@" >>"$HG_SVC_DIR/tracker.log" 2>&1 3>&- &
  echo $! > "$HG_SVC_DIR/tracker.pid"
}

trk_tracker_pid() { cat "$HG_SVC_DIR/tracker.pid"; }

# trk_stop_tracker: SIGTERM, wait for the exit; returns its exit status.
trk_stop_tracker() {
  local pid rc
  pid=$(trk_tracker_pid)
  kill -TERM "$pid"
  wait "$pid"; rc=$?
  rm -f "$HG_SVC_DIR/tracker.pid"
  return $rc
}

trk_kill_tracker() {
  local pid
  pid=$(trk_tracker_pid)
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  rm -f "$HG_SVC_DIR/tracker.pid"
}

# trk_subscribe NAME: a persistent QoS 1 session subscribed to the
# vehicle's topics (established first with -E, so nothing published after
# this returns can be missed), printing "topic payload" lines to NAME.out.
trk_subscribe() {
  local name=$1
  mosquitto_sub -h 127.0.0.1 -p "$HG_MQTT_PORT" -q 1 -c -i "$name" \
      -t "tankers/+/telemetry" -t "tankers/+/status" -E
  mosquitto_sub -h 127.0.0.1 -p "$HG_MQTT_PORT" -q 1 -c -i "$name" \
      -t "tankers/+/telemetry" -t "tankers/+/status" -v \
      >>"$HG_SVC_DIR/$name.out" 2>>"$HG_SVC_DIR/$name.err" 3>&- &
  echo $! > "$HG_SVC_DIR/sub-$name.pid"
}

trk_count() { grep -c "^tankers/[^ ]*/telemetry " "$HG_SVC_DIR/$1.out" 2>/dev/null || true; }

# trk_count_at_least NAME N
trk_count_at_least() { [ "$(trk_count "$1")" -ge "$2" ]; }

# trk_count_stable NAME: the count did not change over 1.5 s.
trk_count_stable() {
  local a b
  a=$(trk_count "$1"); sleep 1.5; b=$(trk_count "$1")
  [ "$a" = "$b" ]
}

# trk_play N LOG [CYCLE]: play the lead-in then LOG through gpsfake on
# $TRK_GPSD_PORT in the background (gpsfake-N.pid, gpsfake-N.out).
# -W 15: when gpsd never took the log (see trk_wait_play), give up 15 s
# after the end instead of gpsfake's default 60.
trk_play() {
  local n=$1 log=$2 cycle=${3:-0.005}
  cat "$TRK_DATA/leadin.nmea" "$log" > "$HG_SVC_DIR/play-$n.nmea"
  echo "$cycle" > "$HG_SVC_DIR/play-$n.cycle"
  : > "$HG_SVC_DIR/gpsfake-$n.out"   # now, not when the background job gets to it
  gpsfake -1 -q -p -W 15 -P "$TRK_GPSD_PORT" -c "$cycle" "$HG_SVC_DIR/play-$n.nmea" \
      >"$HG_SVC_DIR/gpsfake-$n.out" 2>>"$HG_SVC_DIR/gpsfake-$n.err" 3>&- &
  echo $! > "$HG_SVC_DIR/gpsfake-$n.pid"
}

# trk_wait_play N: wait until gpsfake N has played its log and ended.
# On a heavily loaded machine gpsd (run by gpsfake) now and then never
# takes the fake device: gpsfake's add_device connects to gpsd's control
# socket as soon as the socket file exists and silently gives up when the
# connect is refused.  gpsd then answers gpsfake's own client (-p) with an
# empty device list, '"class":"DEVICES","devices":[]', and nobody ever
# reads the fake device: a log that fits in the pty's buffer ends with
# gpsfake's "timed out" (-W), a longer one blocks gpsfake in write() for
# good (its timeout is never checked again), and the test hangs.  That is
# the player failing, not the tracker, so such a play is ended (gpsfake
# and its gpsd) and started again, up to twice; the tracker reconnects to
# the new gpsd.  A play that delivered anything is never repeated.
# Likewise when gpsfake's own client found gpsd's port closed and gpsfake
# ended at once ("gpsfake: socket error [Errno 111] Connection refused."
# on its stderr, nothing played: seen once in CI, 23's first case, 2026-12-07).
trk_wait_play() {
  local n=$1 pid try
  for try in 1 2 3; do
    pid=$(cat "$HG_SVC_DIR/gpsfake-$n.pid")
    while kill -0 "$pid" 2>/dev/null; do
      if trk_play_doomed "$n"; then trk_stop_play "$pid"; break; fi
      sleep 0.1
    done
    wait "$pid" || true
    rm -f "$HG_SVC_DIR/gpsfake-$n.pid"
    if grep -q '"class":"TPV".*"mode":[23]' "$HG_SVC_DIR/gpsfake-$n.out" ||
       ! { trk_play_doomed "$n" ||
           grep -qE "timed out|socket error" "$HG_SVC_DIR/gpsfake-$n.err"; }; then
      return 0
    fi
    [ "$try" -lt 3 ] || return 0
    echo "gpsfake $n: gpsd never took the fake device; playing again" >&2
    : > "$HG_SVC_DIR/gpsfake-$n.out"   # no stale device list for the check above
    gpsfake -1 -q -p -W 15 -P "$TRK_GPSD_PORT" -c "$(cat "$HG_SVC_DIR/play-$n.cycle")" \
        "$HG_SVC_DIR/play-$n.nmea" >"$HG_SVC_DIR/gpsfake-$n.out" \
        2>>"$HG_SVC_DIR/gpsfake-$n.err" 3>&- &
    echo $! > "$HG_SVC_DIR/gpsfake-$n.pid"
  done
}

# trk_play_doomed N: gpsd told gpsfake N it has no device (see above).
trk_play_doomed() {
  head -n 5 "$HG_SVC_DIR/gpsfake-$1.out" 2>/dev/null | grep -q '"class":"DEVICES","devices":\[\]'
}

# trk_stop_play PID: end gpsfake PID and the gpsd it runs, its child (a
# gpsfake ended while it is blocked in write() does not end its gpsd).
trk_stop_play() {
  local pid=$1 kids k
  kids=$(pgrep -P "$pid" || true)
  kill -TERM "$pid" $kids 2>/dev/null
  for k in "$pid" $kids; do wait_until 5 trk_not_running "$k" || kill -KILL "$k" 2>/dev/null; done
  return 0
}

# trk_test_cleanup: after each test, end what it may have left running (a
# tracker, gpsfake) when it failed half-way, so that the next test starts
# clean (two trackers with one client id would take the session from each
# other).
trk_test_cleanup() {
  local f pid i
  for f in "$HG_SVC_DIR"/gpsfake-*.pid; do
    [ -f "$f" ] || continue
    trk_stop_play "$(cat "$f")"
    rm -f "$f"
  done
  for f in "$HG_SVC_DIR"/tracker.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    rm -f "$f"
  done
  return 0
}

# The broker: stop and start it again on the same port with the same
# persistence (the QoS 1 sessions survive).
trk_broker_stop() {
  local pid
  pid=$(cat "$HG_SVC_DIR/mosquitto.pid")
  kill -TERM "$pid"
  wait_until 10 trk_not_running "$pid"
}

trk_broker_start() {
  local mosq
  mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  "$mosq" -c "$HG_SVC_DIR/mqtt/mosquitto.conf" >>"$HG_SVC_DIR/mqtt/mosquitto.log" 2>&1 3>&- &
  echo $! > "$HG_SVC_DIR/mosquitto.pid"
  wait_until 10 trk_port_busy "$HG_MQTT_PORT"
}

trk_port_busy() { ! trk_port_free "$1"; }
trk_not_running() { ! kill -0 "$1" 2>/dev/null; }

trk_log_has() { grep -q -- "$1" "$HG_SVC_DIR/tracker.log"; }

# trk_check NAME [ARGS...]: check-telemetry.py on NAME.out against the drive.
trk_check() {
  local name=$1; shift
  python3 "$TRK_CHECK" --nmea "$TRK_DRIVE" --sub "$HG_SVC_DIR/$name.out" \
      --vehicle "$TRK_VEHICLE" --un 1203 --hazard-class 3 "$@"
}

# trk_diag: what to look at when a test fails (bats shows a test's output,
# teardown included, only when it fails): the tracker's log without the
# debug lines, the broker's log, gpsfake's errors.
trk_diag() {
  [ -n "${HG_SVC_DIR:-}" ] || return 0
  echo "--- tracker.log (no debug lines, last 40)"
  grep -av "level=debug" "$HG_SVC_DIR/tracker.log" 2>/dev/null | tail -40
  echo "--- mosquitto.log (last 15)"
  tail -15 "$HG_SVC_DIR/mqtt/mosquitto.log" 2>/dev/null
  echo "--- gpsfake errors"
  cat "$HG_SVC_DIR"/gpsfake-*.err 2>/dev/null | grep -v DBUS | tail -10
  return 0
}
