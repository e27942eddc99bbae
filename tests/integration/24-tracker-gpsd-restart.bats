#!/usr/bin/env bats
# 24-tracker-gpsd-restart: gpsd goes away under the tracker and comes back.
# The first half of the drive is played by one gpsfake (its gpsd ends with
# it), the second half by a new gpsfake/gpsd on the same port.  The tracker
# notices, retries, reconnects and goes on: the two halves together give
# exactly the reports the policy picks from the whole drive, seq 1..N.

# setup_file, teardown and teardown_file: helpers.bash.
load "$HG_SRCDIR/tests/data/tracker/helpers.bash"

gpsd_connects() { [ "$(grep -c 'event=gpsd_connected' "$HG_SVC_DIR/tracker.log")" -ge "$1" ]; }

@test "gpsd restarted under the tracker: it reconnects and goes on" {
  head -1441 "$TRK_DRIVE" > "$HG_SVC_DIR/half1.nmea"          # fixes 1-720
  tail -n +1442 "$TRK_DRIVE" > "$HG_SVC_DIR/half2.nmea"       # fixes 721-1440
  trk_config "$HG_SVC_DIR/t.conf"
  trk_subscribe gpsd
  trk_start_tracker "$HG_SVC_DIR/t.conf"
  wait_until 10 trk_log_has "event=mqtt_connected"
  trk_play 1 "$HG_SVC_DIR/half1.nmea"
  trk_wait_play 1
  # gpsd is gone: the tracker saw it and keeps trying.
  wait_until 10 trk_log_has "event=gpsd_lost"
  wait_until 10 trk_log_has "event=gpsd_connect_failed"
  mid=$(trk_count gpsd)
  [ "$mid" -gt 100 ]
  sleep 1
  trk_play 2 "$HG_SVC_DIR/half2.nmea"
  wait_until 10 gpsd_connects 2
  trk_wait_play 2
  wait_until 20 trk_count_stable gpsd
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
  [ "$(trk_count gpsd)" -gt "$((mid + 100))" ]
  run trk_check gpsd --policy "$TRK_POLICY" --first-seq 1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"first_ts=2019-08-10T00:00:02.000Z"* ]]
  [[ "$output" == *"last_ts=2019-08-10T01:59"* ]]
}
