#!/usr/bin/env bats
# 31-bench: bench/bench_gateway.sh end to end at a small size (the real run is
# `make bench`), so that the benchmark keeps working as the gateway changes:
# every figure is printed and is a number, the gateway stored every message
# (the script checks the last fix and the row count), and exited 0.

setup_file() {
  export HG_BENCH_MESSAGES=5000 HG_BENCH_VEHICLES=50 HG_BENCH_PACED=2000 \
         HG_BENCH_LATENCY_S=2 HG_BENCH_FLEET=3000
  local rc=0
  bash "$HG_SRCDIR/bench/bench_gateway.sh" > "$BATS_FILE_TMPDIR/out" 2> "$BATS_FILE_TMPDIR/err" || rc=$?
  echo "$rc" > "$BATS_FILE_TMPDIR/rc"
}

out() { cat "$BATS_FILE_TMPDIR/out"; }
# num KEY: the figure KEY is there and is a number
num() { out | grep -Eq "^$1=[0-9]+(\.[0-9]+)?( |\$)"; }

@test "the benchmark runs to the end and the gateway exits 0" {
  [ "$(cat "$BATS_FILE_TMPDIR/rc")" = 0 ] || { cat "$BATS_FILE_TMPDIR/err" >&2; false; }
  out | grep -qx 'gateway_exit=0'
  ! grep -q 'positions stored for' "$BATS_FILE_TMPDIR/err"
}

@test "throughput: ceiling, committed msg/s and the ratio" {
  num ceiling_msg_per_s
  num gateway_msg_per_s
  num ratio_to_ceiling
  # pinned (harness on one core, gateway and PostgreSQL on the other),
  # then the same runs unpinned
  out | grep -q '^pinning=cpu0:load+broker cpu1:counter|gateway+postgres'
  num ceiling_shared_msg_per_s
  num gateway_shared_msg_per_s
  num ratio_to_ceiling_shared
}

@test "CPU per message: gateway and PostgreSQL, full speed and paced" {
  for k in gateway_cpu_us_per_msg postgres_cpu_us_per_msg total_cpu_us_per_msg \
           paced2000_gateway_cpu_us_per_msg paced2000_postgres_cpu_us_per_msg \
           zones10k_gateway_cpu_us_per_msg zones10k_gateway_cpu_ratio_to_10_zones; do
    num "$k" || { echo "missing $k" >&2; false; }
  done
  # issue 15: the counting subscriber, the gateway's backend, the ratios
  for k in counter_cpu_us_per_msg backend_cpu_us_per_msg paced2000_counter_cpu_us_per_msg \
           paced2000_backend_cpu_us_per_msg gateway_to_counter paced_to_full; do
    num "$k" || { echo "missing $k" >&2; false; }
  done
  # the gateway did some work for each message, and not absurdly much
  awk -v u="$(out | sed -n 's/^gateway_cpu_us_per_msg=//p')" 'BEGIN { exit !(u > 0 && u < 10000) }'
}

@test "latency at half speed: alerts matched to their fixes" {
  num latency_p50_ms
  num latency_p99_ms
  [ "$(out | sed -n 's/^latency_matched=//p')" -gt 0 ]
}

@test "peak RSS with the fleet and the 10,000 zones loaded" {
  out | grep -Eq '^gateway_peak_rss_mib=[0-9.]+ \(3[0-9]{3} vehicles, 10010 zones'
}
