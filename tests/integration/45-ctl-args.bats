#!/usr/bin/env bats
# 45-ctl-args: hazgate-ctl's command line without a database: bad arguments
# and times are exit 2 with a message that says what to do, before any
# connection is tried; an unreachable database is exit 1; --help is exit 0.

ctl() { "$HG_BUILDDIR/hazgate-ctl" "$@"; }
# A conninfo nothing listens on: a command that got past its arguments fails with 1.
NODB="host=127.0.0.1 port=1 connect_timeout=2"

@test "unknown command and unknown global option" {
  run ctl frobnicate
  [ "$status" -eq 2 ]; [[ "$output" == *"unknown command 'frobnicate'"* ]]
  run ctl --frob alerts
  [ "$status" -eq 2 ]; [[ "$output" == *"unknown option --frob"* ]]
  run ctl
  [ "$status" -eq 2 ]; [[ "$output" == *"usage: hazgate-ctl"* ]]
}

@test "--help for the tool and every command is exit 0" {
  run ctl --help
  [ "$status" -eq 0 ]
  top=$output
  for c in zones alerts ack vehicles track audit replay; do
    [[ "$top" == *"  $c "* ]]
    run ctl "$c" --help
    [ "$status" -eq 0 ]
    [[ "$output" == "usage: hazgate-ctl $c"* ]]
  done
}

@test "times: RFC 3339 needs an offset or Z; local times must exist" {
  for t in '2019-08-10T08:00:00+0800' '2019-13-01 08:00' '2019-02-29 08:00' '2019-08-10 24:00' \
           '2019-08-10 08:60' '10/08/2019' '2019-08-10T08' 'tomorrow' '' '2019-08-10 08:00 +08:00'; do
    run ctl -d "$NODB" alerts --since "$t"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--since: '$t' is not a time; give RFC 3339 (2019-08-10T08:00:00Z"* ]]
    [[ "$output" == *"or local time in Asia/Shanghai ('2019-08-10 16:00')"* ]]
  done
  # good times get as far as connecting
  for t in 2019-08-10T08:00:00Z 2019-08-10t08:00:00.123456z 2019-08-10T16:00:00+08:00 \
           '2019-08-10 16:00' '2019-08-10 16:00:30' 2019-08-10 2020-02-29T00:00:00Z now; do
    run ctl -d "$NODB" alerts --since "$t"
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot connect"* ]]
  done
}

@test "--until before --since, and --to before --from, are refused" {
  run ctl -d "$NODB" alerts --since '2019-08-10 10:00' --until '2019-08-10 09:00'
  [ "$status" -eq 2 ]; [[ "$output" == *"--until (2019-08-10 09:00) must be after --since (2019-08-10 10:00)"* ]]
  run ctl -d "$NODB" audit --from 2019-08-10T02:00:00Z --to '2019-08-10 10:00'
  [ "$status" -eq 2 ]; [[ "$output" == *"must be after --from"* ]]
}

@test "the configured time zone: --tz, \$HAZGATE_TZ, and an unknown zone" {
  run ctl --tz Mars/Olympus alerts
  [ "$status" -eq 2 ]; [[ "$output" == *"no time zone 'Mars/Olympus' is installed"* ]]
  run ctl -d "$NODB" alerts --tz ../../etc/passwd
  [ "$status" -eq 2 ]
  run env HAZGATE_TZ=Europe/Berlin "$HG_BUILDDIR/hazgate-ctl" -d "$NODB" alerts --since yesterday
  [ "$status" -eq 2 ]; [[ "$output" == *"local time in Europe/Berlin"* ]]
  run ctl -d "$NODB" --tz UTC alerts --since yesterday
  [[ "$output" == *"local time in UTC"* ]]
}

@test "alerts: unknown kind, option, format; missing values; stray arguments" {
  run ctl alerts --kind zone_enter,speeding
  [ "$status" -eq 2 ]; [[ "$output" == *"--kind: unknown alert kind 'speeding'"* ]]
  run ctl alerts --open --frob
  [ "$status" -eq 2 ]; [[ "$output" == *"unknown option --frob"* ]]
  [[ "$output" == *"usage: hazgate-ctl alerts [--open]"* ]]
  run ctl alerts --format yaml
  [ "$status" -eq 2 ]; [[ "$output" == *"unknown --format 'yaml' (one of: table, json, csv)"* ]]
  run ctl alerts --since
  [ "$status" -eq 2 ]; [[ "$output" == *"option --since needs a value"* ]]
  run ctl alerts open
  [ "$status" -eq 2 ]; [[ "$output" == *"unexpected argument 'open'"* ]]
  run ctl alerts -x
  [ "$status" -eq 2 ]; [[ "$output" == *"unknown option -x"* ]]
}

@test "an unreachable database is exit 1 and says so" {
  for cmd in "alerts" "vehicles" "zones list" "zones export" "ack 1 --by x" \
             "track V --from 2019-08-10 --to 2019-08-11" "audit --from 2019-08-10 --to 2019-08-11"; do
    run ctl -d "$NODB" $cmd
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot connect to PostgreSQL"* ]]
  done
}
