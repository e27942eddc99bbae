#!/usr/bin/env bats
# 53-jt808-bench: bench/bench_jt808_server.sh end to end at a small size
# (the real run, 10,000 terminals, is `make bench`), so that the benchmark
# keeps working as hazgate-jt808 and hazgate-load change: every figure is
# printed and is a number, every report of the run was acknowledged, and
# both programs exited 0.

setup_file() {
  export HG_BENCH_JT_TERMINALS=300 HG_BENCH_JT_DURATION=20
  local rc=0
  bash "$HG_SRCDIR/bench/bench_jt808_server.sh" > "$BATS_FILE_TMPDIR/out" 2> "$BATS_FILE_TMPDIR/err" || rc=$?
  echo "$rc" > "$BATS_FILE_TMPDIR/rc"
}

out() { cat "$BATS_FILE_TMPDIR/out"; }
num() { out | grep -Eq "^$1=[0-9]+(\.[0-9]+)?\$"; }
fig() { out | sed -n "s/^$1=//p"; }

@test "the benchmark runs to the end; hazgate-jt808 and the load exit 0, nothing pending" {
  [ "$(cat "$BATS_FILE_TMPDIR/rc")" = 0 ] || { cat "$BATS_FILE_TMPDIR/err" >&2; false; }
  [ "$(fig jt808_exit)" = 0 ]
  [ "$(fig load_exit)" = 0 ]
  [ "$(fig load_pending)" = 0 ]
  [ "$(fig load_failed)" = 0 ]
  [ "$(fig connections)" = 300 ]
}

@test "the figures: CPU per report, RSS per connection, latency, rates" {
  for k in cpu_us_per_report cpu_us_per_message rss_per_connection_bytes \
           report_ack_p50_us report_ack_p99_us report_ack_max_us ramp_report_ack_p99_us \
           reports_per_s heartbeats_per_s jt808_cores_busy broker_cores_busy ramp_s window_s; do
    num "$k" || { echo "missing or not a number: $k" >&2; out >&2; false; }
  done
  # 300 terminals, one report and one heartbeat every 5 s each: 60/s
  [ "$(fig reports_per_s)" -ge 50 ] && [ "$(fig reports_per_s)" -le 70 ]
  [ "$(fig heartbeats_per_s)" -ge 50 ] && [ "$(fig heartbeats_per_s)" -le 70 ]
  [ "$(fig rss_per_connection_bytes)" -gt 0 ]
}

@test "without ./hazgate-jt808 it says so and succeeds" {
  mkdir -p "$BATS_TEST_TMPDIR/empty"
  HG_BUILDDIR="$BATS_TEST_TMPDIR/empty" run bash "$HG_SRCDIR/bench/bench_jt808_server.sh"
  [ "$status" -eq 0 ]
  [ "$output" = "hazgate-jt808 not built yet" ]
}
