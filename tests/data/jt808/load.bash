# load.bash - for tests/integration/51-53-jt808-*.bats: hazgate-load jt808
# against a hazgate-jt808 instance of tests/data/jt808/helpers.bash, its
# figures, and the check that what the terminals were told was received
# is stored exactly once. Load after helpers.bash.

LOAD="$HG_BUILDDIR/hazgate-load"

# fig KEY: the value of KEY= in $output (the last one)
fig() { printf '%s\n' "$output" | sed -n "s/^$1=//p" | tail -1; }

# jtload NAME ARGS: hazgate-load jt808 against instance NAME
jtload() { local n=$1 port; shift; eval "port=\$JT_PORT_$n"; "$LOAD" jt808 --port "$port" "$@"; }

# load_bg NAME OUT ARGS: the same in the background; stdout in OUT,
# stderr in OUT.err, the exit status in OUT.rc
load_bg() {
  local n=$1 out=$2; shift 2
  ( jtload "$n" "$@" > "$out" 2> "$out.err"; echo $? > "$out.rc" ) 3>&- &
}

# wait_file FILE [SECONDS]: until FILE is not empty
wait_file() { for i in $(seq 1 $((${2:-60} * 10))); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

# stored_keys LIKE: vehicle, ts, lat, lon (six decimals) of the stored
# fixes of the vehicles LIKE matches, sorted
stored_keys() {
  psql -XqAt -F $'\t' -c "SELECT vehicle, to_char(ts AT TIME ZONE 'UTC',
      'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), round(lat::numeric, 6), round(lon::numeric, 6)
    FROM positions WHERE vehicle LIKE '$1'" | sort
}

# acked_stored ACKED LIKE N: the N fixes of --acked file ACKED (positioned
# ones) are the stored fixes of the vehicles LIKE matches, each once, at
# the position acknowledged
acked_stored() {
  local acked=$1 like=$2 n=$3
  wait_sql "SELECT count(*) FROM positions WHERE vehicle LIKE '$like'" "$n" 60 || return 1
  [ "$(q "SELECT count(*) - count(DISTINCT (vehicle, ts)) FROM positions")" = "0" ] || return 1
  awk -F'\t' '$6 == 1' "$acked" | cut -f2-5 | sort > "$acked.keys"
  [ "$(wc -l < "$acked.keys")" -eq "$n" ] || return 1
  stored_keys "$like" > "$acked.stored"
  diff "$acked.keys" "$acked.stored"
}
