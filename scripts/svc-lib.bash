# svc-lib.bash: what services-start, cluster-start and cluster-stop share
# (sourced, not run): free ports below the ephemeral range, ending a process
# by its PID file, stopping the PostgreSQL servers left in a folder.

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: print a port nobody listens on.
free_port() {
  local p i
  for i in $(seq 1 200); do
    # Below the kernel's ephemeral range (32768-60999), so that no client
    # socket takes the port between this check and the bind.
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    if port_free "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

# stop_pid PIDFILE [SECONDS]: SIGTERM, wait up to SECONDS (default 10), then SIGKILL.
stop_pid() {
  local f=$1 t=${2:-10} pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 $(( t * 10 ))); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# stop_postmaster PIDFILE: PostgreSQL's fast shutdown (SIGINT), SIGKILL after 10 s.
stop_postmaster() {
  local pid i
  [ -f "$1" ] || return 0
  pid=$(head -1 "$1")
  [ -n "$pid" ] || return 0
  kill -INT "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# stop_postmasters DIR: every PostgreSQL still running on a data folder DIR/pg/*/data.
stop_postmasters() {
  local f
  for f in "$1"/pg/*/data/postmaster.pid; do stop_postmaster "$f"; done
}
