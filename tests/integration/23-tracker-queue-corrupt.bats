#!/usr/bin/env bats
# 23-tracker-queue-corrupt: the on-disk queue is damaged while the tracker
# is stopped: one record in the middle has a flipped byte (its CRC no longer
# matches) and the last record is cut short, as a power cut during an append
# leaves it.  On the next start the torn tail is cut off (logged, never
# sent), the damaged record is skipped with a log line, and every other
# record goes out in order.  Also the byte bound: a queue too small for the
# backlog drops its oldest records, counts and logs them, and sends the rest.

# setup_file, teardown and teardown_file: helpers.bash.
load "$HG_SRCDIR/tests/data/tracker/helpers.bash"

@test "records queued while the broker is unreachable stay on disk" {
  # Every fix reported (min 0 s, max 1 s), the broker's port wrong.
  trk_config "$HG_SVC_DIR/away.conf" "[report]" "min_interval_s = 0" "max_interval_s = 1" \
      "[mqtt]" "port = $(trk_free_port)"
  head -81 "$TRK_DRIVE" > "$HG_SVC_DIR/forty.nmea"     # 40 fixes
  trk_start_tracker "$HG_SVC_DIR/away.conf"
  wait_until 10 trk_log_has "event=mqtt_connect_failed"
  trk_play 1 "$HG_SVC_DIR/forty.nmea"
  trk_wait_play 1
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
  grep -q "event=exit .* reported=40 .* pending=40 " "$HG_SVC_DIR/tracker.log"
  run python3 "$TRK_DATA/damage-queue.py" "$HG_SVC_DIR/queue" list
  [ "${#lines[@]}" -eq 40 ]
}

@test "a corrupt record is skipped with a log line, a torn tail is cut, the rest is sent" {
  python3 "$TRK_DATA/damage-queue.py" "$HG_SVC_DIR/queue" flip 17
  python3 "$TRK_DATA/damage-queue.py" "$HG_SVC_DIR/queue" torn
  trk_config "$HG_SVC_DIR/t.conf"
  trk_subscribe corrupt
  : > "$HG_SVC_DIR/tracker.log"
  trk_start_tracker "$HG_SVC_DIR/t.conf"
  wait_until 20 trk_count_at_least corrupt 39
  wait_until 10 trk_count_stable corrupt
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
  cat "$HG_SVC_DIR/tracker.log"
  # The torn tail: cut at open, logged, never sent; its id is free again.
  grep -q "event=queue_torn_tail .*bytes=" "$HG_SVC_DIR/tracker.log"
  grep -q "event=queue_open .*next_id=41 " "$HG_SVC_DIR/tracker.log"
  # The damaged record: skipped with a log line naming where.
  grep -q "event=queue_corrupt_record segment=.* offset=[0-9]* skipped_bytes=[0-9]* id_hint=17" "$HG_SVC_DIR/tracker.log"
  grep -q "event=exit .* pending=0 corrupt=1 torn=1 " "$HG_SVC_DIR/tracker.log" ||
    grep -q "event=exit .* corrupt=1 torn=1 " "$HG_SVC_DIR/tracker.log"
  # The other 39 arrive in order; 17 never does, nor anything torn.
  run trk_check corrupt --first-seq 1 --missing 17 --expect-count 39
  echo "$output"
  [ "$status" -eq 0 ]
  ! grep -q '"torn"' "$HG_SVC_DIR/corrupt.out"
}

@test "a full queue drops its oldest records, counts and logs them; the newest are sent" {
  # Every fix of the whole drive (1440 records, ~390 KB) into a 64 KiB queue
  # while the broker is unreachable.
  trk_config "$HG_SVC_DIR/full.conf" "[report]" "min_interval_s = 0" "max_interval_s = 1" \
      "[mqtt]" "port = $(trk_free_port)" \
      "[queue]" "dir = $HG_SVC_DIR/queue-full" "max_bytes = 64K" "segment_bytes = 4K"
  : > "$HG_SVC_DIR/tracker.log"
  trk_start_tracker "$HG_SVC_DIR/full.conf"
  wait_until 10 trk_log_has "event=mqtt_connect_failed"
  trk_play 2 "$TRK_DRIVE"
  trk_wait_play 2
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
  grep -q "event=queue_full_dropped first_id=1 last_id=" "$HG_SVC_DIR/tracker.log"
  exitline=$(grep "event=exit" "$HG_SVC_DIR/tracker.log")
  echo "$exitline"
  dropped=$(echo "$exitline" | sed 's/.* dropped=\([0-9]*\) .*/\1/')
  bytes=$(echo "$exitline" | sed 's/.* queue_bytes=\([0-9]*\) .*/\1/')
  [ "$dropped" -gt 1000 ]
  [ "$bytes" -le 65536 ]
  # With the broker back: what is left goes out, the newest records, in
  # order, ending with the last fix; seq starts after the dropped ones.
  trk_config "$HG_SVC_DIR/full2.conf" "[queue]" "dir = $HG_SVC_DIR/queue-full" \
      "max_bytes = 64K" "segment_bytes = 4K"
  trk_subscribe full
  : > "$HG_SVC_DIR/tracker.log"
  trk_start_tracker "$HG_SVC_DIR/full2.conf"
  wait_until 20 trk_count_at_least full "$((1440 - dropped))"
  wait_until 10 trk_count_stable full
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
  run trk_check full --first-seq "$((dropped + 1))" --expect-count "$((1440 - dropped))"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"last_seq=1440 "*"last_ts=2019-08-10T01:59:57.000Z"* ]]
}

@test "a second tracker on the same queue directory refuses to start" {
  trk_config "$HG_SVC_DIR/lock.conf" "[mqtt]" "port = $(trk_free_port)" \
      "[queue]" "dir = $HG_SVC_DIR/queue-lock/nested"
  : > "$HG_SVC_DIR/tracker.log"
  trk_start_tracker "$HG_SVC_DIR/lock.conf"
  wait_until 10 trk_log_has "event=queue_open dir=$HG_SVC_DIR/queue-lock/nested"
  run "$TRK_BIN" -c "$HG_SVC_DIR/lock.conf"
  [ "$status" -eq 1 ]
  [[ "$output" == *"event=queue_open_failed"*"queue directory in use by another process"* ]]
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
}
