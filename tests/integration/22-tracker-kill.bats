#!/usr/bin/env bats
# 22-tracker-kill: the tracker is killed with SIGKILL mid-drive, twice: once
# with the broker up, once with the broker away and a backlog on disk.  It
# is started again each time on the same queue: nothing queued is lost,
# seq goes on from where it was (never back to 1), and the only repeats are
# records whose PUBACK had not been recorded when the process died, as QoS 1
# allows (byte-identical copies, a handful at most).

# setup_file, teardown and teardown_file: helpers.bash.
load "$HG_SRCDIR/tests/data/tracker/helpers.bash"

starts() { [ "$(grep -c 'event=queue_open' "$HG_SVC_DIR/tracker.log")" -ge "$1" ]; }

last_seq() { grep -o '"seq":[0-9]*' "$HG_SVC_DIR/$1.out" | tail -1 | cut -d: -f2; }

@test "SIGKILL mid-drive, with and without the broker: nothing queued lost, seq goes on" {
  trk_config "$HG_SVC_DIR/t.conf" "[log]" "level = debug"
  trk_subscribe kill
  trk_start_tracker "$HG_SVC_DIR/t.conf"
  wait_until 10 trk_log_has "event=mqtt_connected"
  trk_play 1 "$TRK_DRIVE" 0.01

  # 1. Killed while connected; started again at once.
  wait_until 30 trk_count_at_least kill 60
  trk_kill_tracker
  s1=$(last_seq kill)
  trk_start_tracker "$HG_SVC_DIR/t.conf"
  wait_until 10 starts 2
  # The second run numbers on: its next id is past everything sent.
  next=$(grep 'event=queue_open' "$HG_SVC_DIR/tracker.log" | tail -1 | sed 's/.*next_id=\([0-9]*\).*/\1/')
  [ "$next" -gt "$s1" ]

  # 2. The broker goes away, reports pile up on disk, the tracker is killed.
  wait_until 30 trk_count_at_least kill 200
  trk_broker_stop
  wait_until 10 trk_log_has "event=mqtt_lost"
  sleep 3
  trk_kill_tracker
  s2=$(last_seq kill)
  pending=$(ls "$HG_SVC_DIR/queue/"*.seg | wc -l)
  [ "$pending" -ge 1 ]
  trk_broker_start
  trk_start_tracker "$HG_SVC_DIR/t.conf"
  wait_until 10 starts 3
  line=$(grep 'event=queue_open' "$HG_SVC_DIR/tracker.log" | tail -1)
  next=$(echo "$line" | sed 's/.*next_id=\([0-9]*\).*/\1/')
  floor=$(echo "$line" | sed 's/.*floor=\([0-9]*\).*/\1/')
  echo "third start: $line (last seen by the subscriber: $s2)"
  # A backlog was on disk: records after the last acknowledged one.
  [ "$next" -gt "$((floor + 5))" ]
  [ "$floor" -le "$((s2 + 1))" ]

  trk_wait_play 1
  wait_until 30 trk_count_stable kill
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]

  # Every seq from 1 on, in time order, none lost; repeats only as QoS 1 allows.
  run trk_check kill --first-seq 1 --max-dups 25
  echo "$output"
  [ "$status" -eq 0 ]
  final=$(echo "$output" | sed -n 's/.*last_seq=\([0-9]*\) .*/\1/p')
  [ "$final" -ge "$next" ]
  grep -q "event=exit .* pending=0 " "$HG_SVC_DIR/tracker.log"
}
