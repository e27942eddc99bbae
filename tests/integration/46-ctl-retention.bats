#!/usr/bin/env bats
# 46-ctl-retention: hazgate-ctl retention run on a private PostgreSQL filled
# with the fleet sample (tests/data/ctl/fill-db.sh, 2019-08-10) and copies
# of it on other days: every closed day still in rows is compacted first
# (track and audit unchanged), days past the horizon are archived and dropped, days
# inside kept, alerts untouched; track --archive and audit --archive print
# byte for byte what they printed before the drop, a track through the
# archive's per-vehicle index (its gzip member alone); a run SIGKILLed at each
# step (HAZGATE_RETENTION_CRASH) loses nothing and writes nothing twice;
# bad [retention] values name file and line; archive_compression = zstd
# (a zstd frame per vehicle) reads back the same way, beside gzip parts.

load "$HG_SRCDIR/tests/data/ctl/helpers.bash"
ZONES="$HG_SHARED/data/zones-taiyuan.geojson"
COLS="vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un, hazard_class, seq, ignition, zone_ids, received_at"

# shifted DAYS_SQL: the select list of positions' columns with ts moved by DAYS_SQL days
shifted() { echo "vehicle, ts + ($1) * interval '1 day', lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un, hazard_class, seq, ignition, zone_ids, received_at"; }
# retention [ARGS]: a retention run on $HG_SVC_DIR/retention.conf, as bats' run
# (status, output), its output shown when a test fails
retention() { run adm retention run --config "$HG_SVC_DIR/retention.conf" "$@"; echo "$output"; }
adm() { "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=t_admin dbname=hazgate" "$@"; }
# copy_day FROM_DATE_SQL TO_DATE_SQL [VEHICLE]: the positions of one UTC day
# again on another (ts moved by whole days, every other column as stored).
copy_day() {
  local cond="TRUE"
  [ -n "${3:-}" ] && cond="vehicle = '$3'"
  q "INSERT INTO positions ($COLS)
     SELECT $(shifted "($2)::date - ($1)::date") FROM positions
      WHERE ts >= ($1)::date::timestamp AT TIME ZONE 'UTC'
        AND ts < (($1)::date + 1)::timestamp AT TIME ZONE 'UTC' AND $cond"
}
# header DAY: the column list of DAY's archive, as its header line names it
header() { zcat "$HG_SVC_DIR/archive/positions-$1.csv.gz" | head -1; }
# from_archive DAY NEW_DAY: the archive of DAY loaded back with COPY, moved to
# NEW_DAY (in its own partition)
from_archive() {
  q "SELECT hazgate_ensure_partitions('$2', 1)" >/dev/null
  psql -XqAt -v ON_ERROR_STOP=1 -c "CREATE TEMP TABLE x (LIKE positions)" \
    -c "\\copy x ($(header "$1")) FROM PROGRAM 'zcat $HG_SVC_DIR/archive/positions-$1.csv.gz' CSV HEADER" \
    -c "INSERT INTO positions ($COLS) SELECT $(shifted "'$2'::date - '$1'::date") FROM x"
}
held() { q "SELECT count(*) FROM positions WHERE ts >= ('$1')::date::timestamp AT TIME ZONE 'UTC' AND ts < ('$1'::date + 1)::timestamp AT TIME ZONE 'UTC'"; }
day_ago() { date -u -d "$1 days ago" +%F; }
# retention_beside_reader: a retention run while another session reads
# positions in an 8-s transaction (so a DROP of a partition waits)
retention_beside_reader() {
  psql -XqAt -c "BEGIN; SELECT count(*) FROM positions; SELECT pg_sleep(8); COMMIT" >/dev/null &
  local reader=$!
  sleep 1
  retention
  wait "$reader"
}
conf() { # conf DAYS [ARCHIVE_DIR [COMPRESSION]]
  printf '[retention]\npositions_days = %s\narchive_dir = %s\n' "$1" "${2:-}" > "$HG_SVC_DIR/retention.conf"
  if [ -n "${3:-}" ]; then printf 'archive_compression = %s\n' "$3" >> "$HG_SVC_DIR/retention.conf"; fi
}
# snapshot NAME: what track and audit print now, for later comparison
snapshot() {
  local out="$HG_SVC_DIR/snap-$1" f
  mkdir -p "$out"
  for f in geojson gpx csv json; do
    ctl track 晋A10005 --from 2019-08-10T00:00:00Z --to 2019-08-13T00:00:00Z --format $f ${ARCH:+--archive "$ARCH"} > "$out/track.$f" 2>/dev/null
  done
  ctl track 晋A10005 --from "$(day_ago 4)" --to now --format csv ${ARCH:+--archive "$ARCH"} > "$out/track-recent.csv" 2>/dev/null
  ctl audit --from 2019-08-10T00:00:00Z --to 2019-08-13T00:00:00Z --zones "$ZONES" --format json \
    ${ARCH:+--archive "$ARCH"} > "$out/audit.json" 2> "$out/audit.summary"
  ctl audit --from '2019-08-10 08:00' --to '2019-08-10 10:00' --zones "$ZONES" \
    ${ARCH:+--archive "$ARCH"} > "$out/audit.table" 2>&1
}

setup_file() {
  eval "$("$HG_SRCDIR/scripts/services-start" --no-mqtt)"
  export HG_SVC_DIR PGHOST PGPORT PGUSER PGDATABASE HG_PG_CONNINFO
  "$HG_SRCDIR/tests/data/ctl/fill-db.sh" "$HG_SVC_DIR"
  psql -XqAt -v ON_ERROR_STOP=1 -c "SELECT hazgate_ensure_partitions('2019-08-11', 1)" \
    -c "SELECT hazgate_ensure_partitions(((now() AT TIME ZONE 'UTC')::date - 3), 4)" >/dev/null
  # 2019-08-11: the whole sample again, in its own partition; 2019-08-12:
  # one tanker, in the default partition (no partition for it); three and
  # two days ago and yesterday: one tanker, in their partitions.
  copy_day "'2019-08-10'" "'2019-08-11'"
  copy_day "'2019-08-10'" "'2019-08-12'" 晋A10005
  for n in 3 2 1; do
    copy_day "'2019-08-10'" "(now() AT TIME ZONE 'UTC')::date - $n" 晋A10005
  done
  # an empty partition past the horizon
  psql -XqAt -c "SELECT hazgate_ensure_partitions('2019-07-01', 1)" >/dev/null
}

teardown_file() {
  "$HG_SRCDIR/scripts/services-stop" "$HG_SVC_DIR"
}

@test "bad [retention] values are refused, naming file and line; the gateway's check agrees" {
  printf '[log]\nlevel = info\n[retention]\npositions_days = -5\n' > "$BATS_TEST_TMPDIR/bad.conf"
  run adm retention run --config "$BATS_TEST_TMPDIR/bad.conf"
  [ "$status" -eq 2 ]
  [[ "$output" == *"bad.conf:4: [retention] positions_days = '-5': out of range"* ]]
  printf '[retention]\narchive_dir = relative/dir\n' > "$BATS_TEST_TMPDIR/bad.conf"
  run adm retention run --config "$BATS_TEST_TMPDIR/bad.conf"
  [ "$status" -eq 2 ]
  [[ "$output" == *"bad.conf:2: [retention] archive_dir = 'relative/dir': want an absolute path"* ]]
  run "$HG_BUILDDIR/hazgate" -c "$BATS_TEST_TMPDIR/bad.conf" --check-config
  [ "$status" -ne 0 ]
  [[ "$output" == *"bad.conf:2: [retention] archive_dir"* ]]
  run adm retention run
  [ "$status" -eq 2 ]
  [[ "$output" == *"--config FILE"* ]]
}

@test "positions_days = 0 (the default) keeps everything; the run compacts every closed day first, reads unchanged" {
  ARCH= snapshot rows
  conf 0
  recent() { q "SELECT count(*) FROM positions_recent WHERE ts < (now() AT TIME ZONE 'UTC')::date::timestamp AT TIME ZONE 'UTC'"; }
  [ "$(recent)" -eq $((17280 + 4 * 1440)) ]
  retention --dry-run
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-08-11: would be compacted"* ]]
  [[ "$output" == *"$(day_ago 1): would be compacted"* ]]
  [[ "$output" == *"compact: 6 days would be compacted"* ]]
  retention --no-compact
  [ "$status" -eq 0 ]
  [[ "$output" != *compact* ]]
  [ "$(recent)" -eq $((17280 + 4 * 1440)) ]

  retention
  [ "$status" -eq 0 ]
  # the empty partition, the whole sample's copy, the default partition's day, the last three days
  [[ "$output" == *"compacted 2019-07-01: 0 fixes"* ]]
  [[ "$output" == *"compacted 2019-08-11: 17280 fixes"* ]]
  [[ "$output" == *"compacted 2019-08-12: 1440 fixes"* ]]
  [[ "$output" == *"compacted $(day_ago 1): 1440 fixes"* ]]
  [[ "$output" == *"compact: 6 days compacted (23040 fixes), 0 failed"* ]]
  [[ "$output" == *"kept for ever"* ]]
  [ "$(recent)" -eq 0 ]
  [ "$(q "SELECT count(*) FROM pg_tables WHERE tablename ~ '^positions_recent_[0-9]{8}$' AND tablename < 'positions_recent_' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')")" -eq 0 ]
  [ "$(q "SELECT sum(n) FROM positions_slices")" -eq $((2 * 17280 + 4 * 1440)) ]
  [ "$(held 2019-08-10)" -eq 17280 ]
  # track and audit print what they printed from rows, byte for byte
  ARCH= snapshot compacted
  for f in track.geojson track.gpx track.csv track.json track-recent.csv audit.json audit.summary audit.table; do
    cmp "$HG_SVC_DIR/snap-rows/$f" "$HG_SVC_DIR/snap-compacted/$f"
  done
  # a late fix for a compacted day waits in rows and goes into its slice at the next run
  q "INSERT INTO positions (vehicle, ts, lat, lon, zone_ids) VALUES ('晋A10001', (now() AT TIME ZONE 'UTC')::date - 1 + time '05:00:00.5', 37.7, 112.5, '{}')"
  [ "$(recent)" -eq 1 ]
  retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"compacted $(day_ago 1): 1 fixes"* ]]
  [[ "$output" == *"compact: 1 days compacted (1 fixes), 0 failed"* ]]
  [ "$(recent)" -eq 0 ]
  [ "$(q "SELECT count(*) FROM hazgate_positions('晋A10001', (now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date)")" -eq 1 ]
  retention
  [[ "$output" == *"compact: 0 days compacted (0 fixes), 0 failed"* ]]
}

@test "only an admin may drop a day, and never today's" {
  run psql -XqAt -U t_disp -c "SELECT hazgate_drop_positions_day('2019-08-10')"
  [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
  run psql -XqAt -U t_admin -c "SELECT hazgate_drop_positions_day((now() AT TIME ZONE 'UTC')::date)"
  [ "$status" -ne 0 ]; [[ "$output" == *"is today or later"* ]]
  run psql -XqAt -U t_admin -c "SELECT hazgate_drop_positions_day('2019-08-10', 5)"
  [ "$status" -ne 0 ]; [[ "$output" == *"holds 17280 positions, not the 5 archived"* ]]
  [ "$(held 2019-08-10)" -eq 17280 ]
}

@test "every vehicle's day decoded in hazgate-ctl: the audit and retention's archives are byte for byte the SQL decoder's (HAZGATE_DAYREAD=sql), over slices, late rows and odd values" {
  # In a copy of the database (the other tests' days stay as they are):
  # 2019-08-09 two tankers of the sample's day and odd values, compacted,
  # then late fixes (rows in the default partition) and odder values;
  # 2019-08-08 a fix whose received_at COPY writes with a five-digit year
  # (which the archive's reader refuses: the day is kept, either way).
  dq() { psql -XqAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
  dadm() { "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=t_admin dbname=$1" "${@:2}"; }
  for db in hz_dr hz_dr_sql hz_dr_c; do dq postgres "DROP DATABASE IF EXISTS $db" >/dev/null; done
  dq postgres "CREATE DATABASE hz_dr TEMPLATE hazgate"
  dq hz_dr "SELECT hazgate_ensure_partitions('2019-08-08', 2)" >/dev/null
  for v in 晋A10005 晋A10001; do
    dq hz_dr "INSERT INTO positions ($COLS)
      SELECT $(shifted -1) FROM positions WHERE vehicle = '$v'
         AND ts >= '2019-08-10T00:00:00Z' AND ts < '2019-08-11T00:00:00Z'"
  done
  odd="INSERT INTO positions ($COLS, alarms) VALUES"
  dq hz_dr "$odd
    ('X,\"odd', '2019-08-09T01:00:00Z', -89.999999999, -0.0, 'NaN', 'Infinity', '-0', 1e-45, NULL, NULL,
     'a,b', 'say \"hi\"', NULL, NULL, '{NULL,3}', '2019-08-09T01:00:01Z', -2147483648),
    ('X,\"odd', '2019-08-09T01:00:10.000001Z', 12.345678901, 179.999999999, '-Infinity', 3.4028235e38,
     1.17549435e-38, 0.1, 3, 12, '', E'line\nbreak', 9000000000000000000, true, '{1,2,3}',
     '2019-08-09T01:00:10.5Z', 0),
    ('晋A10001', '2019-08-09T23:59:59.999999Z', 37.5, 112.5, 0.001, 359.99, -400.25, 99.9, 2, 0,
     NULL, '', -1, false, '{}', '2030-01-01T00:00:00Z', 7),
    ('晋A10005', '2019-08-08T12:00:00Z', 37.5, 112.5, 10, 20, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, '{}', '2019-08-08T12:00:01Z', NULL)"
  dadm hz_dr compact --before 2019-08-10
  dq hz_dr "$odd
    ('X,\"odd', '2019-08-09T01:00:05Z', 1e-300, '-0', 1e-40, '-0', 'NaN', 3.4e38, -1, -2, E'a\r\"', ',',
     -9000000000000000000, NULL, '{5}', '2019-08-09T01:00:05.000001Z', NULL),
    ('晋A10005', '2019-08-08T12:00:10Z', 37.5, 112.5, 10, 20, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, '{}', '10000-01-01T00:00:00Z', NULL)"
  dq hz_dr "INSERT INTO positions ($COLS)
    SELECT vehicle, ts + interval '5.5 s', lat + 1e-5, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un,
           hazard_class, seq + 100000, ignition, zone_ids, received_at
      FROM positions WHERE vehicle = '晋A10005' AND ts >= '2019-08-09' AND ts < '2019-08-10'
     ORDER BY ts LIMIT 200"
  dq hz_dr "SELECT count(*) FROM positions_slices WHERE hour >= '2019-08-09' AND hour < '2019-08-10'"
  dq hz_dr "SELECT count(*) FROM positions_recent WHERE ts >= '2019-08-09' AND ts < '2019-08-10'"
  dq hz_dr "SELECT count(*) FROM hazgate_positions_all('2019-08-08', '2019-08-12T06:00:00Z')"

  # the audit of every vehicle: the same report and summary both ways
  for a in "--zones $ZONES --format json" "--warmup 1h --format csv"; do
    HAZGATE_DAYREAD=sql dadm hz_dr audit --from 2019-08-08T00:00:00Z --to 2019-08-12T06:00:00Z $a \
      > "$BATS_TEST_TMPDIR/audit-sql" 2> "$BATS_TEST_TMPDIR/audit-sql.err"
    dadm hz_dr audit --from 2019-08-08T00:00:00Z --to 2019-08-12T06:00:00Z $a \
      > "$BATS_TEST_TMPDIR/audit-c" 2> "$BATS_TEST_TMPDIR/audit-c.err"
    cat "$BATS_TEST_TMPDIR/audit-c.err"
    cmp "$BATS_TEST_TMPDIR/audit-sql" "$BATS_TEST_TMPDIR/audit-c"
    cmp "$BATS_TEST_TMPDIR/audit-sql.err" "$BATS_TEST_TMPDIR/audit-c.err"
    grep -q ' fixes, .* [1-9][0-9]* violations' "$BATS_TEST_TMPDIR/audit-c.err"
  done
  cp "$BATS_TEST_TMPDIR/audit-c" "$BATS_TEST_TMPDIR/audit-before"
  cp "$BATS_TEST_TMPDIR/audit-c.err" "$BATS_TEST_TMPDIR/audit-before.err"

  # retention on two copies, one each way: every archive the same bytes
  dq postgres "CREATE DATABASE hz_dr_sql TEMPLATE hz_dr"
  dq postgres "CREATE DATABASE hz_dr_c TEMPLATE hz_dr"
  for w in sql c; do
    printf '[retention]\npositions_days = 2\narchive_dir = %s\n' "$BATS_TEST_TMPDIR/arch-$w" \
      > "$BATS_TEST_TMPDIR/ret-$w.conf"
  done
  run env HAZGATE_DAYREAD=sql "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=t_admin dbname=hz_dr_sql" \
    retention run --config "$BATS_TEST_TMPDIR/ret-sql.conf"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" != *"written by COPY"* ]]
  [[ "$output" == *"2019-08-09: archived 3084 positions"* ]]
  [[ "$output" == *"positions-2019-08-08.csv.gz.tmp: record 2: received_at '10000-01-01T00:00:00.000000Z' is not valid); the day is kept"* ]]
  [[ "$output" == *"retention: 6 days dropped (40524 positions), 3 kept, 1 failed"* ]]
  sql_out=$output
  run dadm hz_dr_c retention run --config "$BATS_TEST_TMPDIR/ret-c.conf"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"2019-08-08: a time outside years 1-9999: written by COPY"* ]]
  [ "$(grep -v 'written by COPY' <<< "$output" | sed 's/arch-c/arch-sql/g; s/sha256 [0-9a-f]*//')" = "$(sed 's/sha256 [0-9a-f]*//' <<< "$sql_out")" ]
  n=0
  for f in "$BATS_TEST_TMPDIR"/arch-sql/positions-*.gz; do
    cmp <(zcat "$f") <(zcat "$BATS_TEST_TMPDIR/arch-c/${f##*/}")
    n=$((n + 1))
  done
  [ "$n" -eq 10 ]       # 5 days, an archive and its index each
  # (the odd values are there: quoted text, the shortest floats, -0)
  zcat "$BATS_TEST_TMPDIR/arch-c/positions-2019-08-09.csv.gz" > "$BATS_TEST_TMPDIR/odd.csv"
  grep -qF '"X,""odd",2019-08-09T01:00:05.000000Z,1e-300,-0,1e-40,-0,NaN,3.4e+38,-1,-2,"a' "$BATS_TEST_TMPDIR/odd.csv"
  grep -qF ',1.1754944e-38,0.1,3,12,"","line' "$BATS_TEST_TMPDIR/odd.csv"
  grep -qF 'break",9000000000000000000,t,"{1,2,3}",2019-08-09T01:00:10.500000Z,0' "$BATS_TEST_TMPDIR/odd.csv"
  # the audit of every vehicle over archived and live days: both ways the
  # same, and what it was before the archive
  for w in sql c; do
    env HAZGATE_DAYREAD=$w "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=t_admin dbname=hz_dr_c" \
      audit --from 2019-08-08T00:00:00Z --to 2019-08-12T06:00:00Z --warmup 1h --format csv \
      --archive "$BATS_TEST_TMPDIR/arch-c" > "$BATS_TEST_TMPDIR/audit-arch-$w" 2> "$BATS_TEST_TMPDIR/audit-arch-$w.err"
    cmp "$BATS_TEST_TMPDIR/audit-before" "$BATS_TEST_TMPDIR/audit-arch-$w"
    cmp "$BATS_TEST_TMPDIR/audit-before.err" "$BATS_TEST_TMPDIR/audit-arch-$w.err"
  done
  for db in hz_dr hz_dr_sql hz_dr_c; do dq postgres "DROP DATABASE $db"; done
}

@test "days past the horizon are archived and dropped, days inside kept, alerts untouched; track and audit read the archive back byte for byte" {
  ARCH= snapshot before
  [ "$(wc -l < "$HG_SVC_DIR/snap-before/track.csv")" -eq $((3 * 1440 + 1)) ]
  grep -q '32 violations' "$HG_SVC_DIR/snap-before/audit.table"
  alerts=$(q "SELECT count(*) FROM alerts")
  kept2=$(held "$(day_ago 2)"); kept1=$(held "$(day_ago 1)")
  [ "$kept2" -eq 1440 ]

  conf 2 "$HG_SVC_DIR/archive"
  retention --dry-run
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-08-10: due: would be archived and dropped"* ]]
  [[ "$output" == *"$(day_ago 3): due"* ]]
  [[ "$output" != *"$(day_ago 2): due"* ]]
  [ ! -e "$HG_SVC_DIR/archive" ]

  retention
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-07-01: held no positions: dropped, no archive"* ]]
  [[ "$output" == *"2019-08-10: archived 17280 positions to $HG_SVC_DIR/archive/positions-2019-08-10.csv.gz"* ]]
  [[ "$output" == *"retention: 5 days dropped (37440 positions), 3 kept, 0 failed"* ]]
  # the database: past days gone (partitions and default rows), days inside kept
  for d in 2019-07-01 2019-08-10 2019-08-11 2019-08-12 "$(day_ago 3)"; do [ "$(held "$d")" -eq 0 ]; done
  [ "$(held "$(day_ago 2)")" -eq "$kept2" ]; [ "$(held "$(day_ago 1)")" -eq "$kept1" ]
  [ "$(q "SELECT count(*) FROM pg_class WHERE relname IN ('positions_20190810', 'positions_20190811', 'positions_20190701')")" -eq 0 ]
  [ "$(q "SELECT string_agg(d::text, ',') FROM hazgate_positions_days() d WHERE d < (now() AT TIME ZONE 'UTC')::date - 2")" = "" ]
  [ "$(q "SELECT count(*) FROM alerts")" -eq "$alerts" ]
  # the archives table: one part per day, the file's rows, size and hash
  [ "$(q "SELECT string_agg(day || ':' || part || ':' || rows, ' ' ORDER BY day) FROM archives")" = "2019-08-10:1:17280 2019-08-11:1:17280 2019-08-12:1:1440 $(day_ago 3):1:1440" ]
  while IFS='|' read -r path bytes sha; do
    [ "$(stat -c %s "$path")" -eq "$bytes" ]
    [ "$(sha256sum "$path" | cut -d' ' -f1)" = "$sha" ]
  done < <(q "SELECT path, bytes, sha256 FROM archives")
  # (and alarms where positions has the column: migration 011)
  [[ "$(zcat "$HG_SVC_DIR/archive/positions-2019-08-10.csv.gz" | head -1)" =~ ^vehicle,ts,lat,lon,speed_kmh,heading,alt_m,hdop,fix,sats,un,hazard_class,seq,ignition,zone_ids,received_at(,alarms)?$ ]]
  [ -z "$(ls -A "$HG_SVC_DIR/archive" | grep -v '^positions-')" ]

  # without the archive, the dropped days are gone ...
  run ctl track 晋A10005 --from 2019-08-10T00:00:00Z --to 2019-08-13T00:00:00Z --format csv
  [ "${#lines[@]}" -eq 2 ]     # the header and "no positions"
  # ... with it, every output is what it was, byte for byte, also over
  # archived and live days together
  ARCH="$HG_SVC_DIR/archive" snapshot after
  for f in track.geojson track.gpx track.csv track.json track-recent.csv audit.json audit.summary audit.table; do
    cmp "$HG_SVC_DIR/snap-before/$f" "$HG_SVC_DIR/snap-after/$f"
  done
  [ "$(wc -l < "$HG_SVC_DIR/snap-after/track-recent.csv")" -gt 4000 ]
}

@test "the archive loads back into PostgreSQL with COPY as it was stored" {
  q "CREATE TABLE restored (LIKE positions)"
  q "\\copy restored ($(header 2019-08-12)) FROM PROGRAM 'zcat $HG_SVC_DIR/archive/positions-2019-08-12.csv.gz' CSV HEADER"
  [ "$(q "SELECT count(*) FROM restored")" -eq 1440 ]
  # the same rows as the day they were copied from (2019-08-10, still in the archive of 2019-08-11)
  q "CREATE TABLE restored11 (LIKE positions)"
  q "\\copy restored11 ($(header 2019-08-11)) FROM PROGRAM 'zcat $HG_SVC_DIR/archive/positions-2019-08-11.csv.gz' CSV HEADER"
  [ "$(q "SELECT count(*) FROM (SELECT $COLS FROM restored EXCEPT SELECT $(shifted 1) FROM restored11) x")" -eq 0 ]
  q "DROP TABLE restored, restored11"
}

@test "a second run has nothing to do and writes nothing" {
  before=$(ls -l --time-style=+%s.%N "$HG_SVC_DIR/archive" | md5sum)
  retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"retention: 0 days dropped (0 positions), 3 kept, 0 failed"* ]]
  [ "$(ls -l --time-style=+%s.%N "$HG_SVC_DIR/archive" | md5sum)" = "$before" ]
  [ "$(q "SELECT count(*) FROM archives")" -eq 4 ]
}

@test "a fix that arrives for an archived day later goes to part 2; the reader merges the parts" {
  q "INSERT INTO positions (vehicle, ts, lat, lon, speed_kmh, zone_ids) VALUES ('晋A10005', '2019-08-10T02:30:00Z', 37.7, 112.5, 12.5, '{3}')"
  retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-08-10: archived 1 positions to $HG_SVC_DIR/archive/positions-2019-08-10.p2.csv.gz"* ]]
  [ "$(q "SELECT rows FROM archives WHERE day = '2019-08-10' AND part = 2")" -eq 1 ]
  run ctl track 晋A10005 --from 2019-08-10T00:00:00Z --to 2019-08-11T00:00:00Z --format csv --archive "$HG_SVC_DIR/archive"
  [ "${#lines[@]}" -eq 1442 ]
  [ "${lines[1441]}" = "晋A10005,2019-08-10T02:30:00.000Z,37.7,112.5,12.5,,,,,,,,3" ]
}

@test "retention verify: every archive as recorded; a changed, missing or unrecorded file and a damaged index are named" {
  A="$HG_SVC_DIR/archive" C="$BATS_TEST_TMPDIR/cold"
  # a dispatcher's login reads archives; --deep reads every record too
  run disp retention verify --deep
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-08-10 part 1: ok: $A/positions-2019-08-10.csv.gz, 17280 rows read, "*" bytes, SHA-256 $(sha256sum "$A/positions-2019-08-10.csv.gz" | cut -d' ' -f1)"* ]]
  [[ "$output" == *"2019-08-10 part 2: ok: $A/positions-2019-08-10.p2.csv.gz, 1 rows read"* ]]
  [[ "${lines[-1]}" == "verify: 5 archives read through, 5 as recorded, 0 not; 0 files not recorded" ]]
  # the files moved elsewhere: --archive DIR; --from/--to pick days
  cp -a "$A" "$C"
  run disp retention verify --archive "$C" --from 2019-08-11 --to 2019-08-12
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-08-11 part 1: ok: $C/positions-2019-08-11.csv.gz, 17280 rows, "* ]]
  [[ "${lines[-1]}" == "verify: 2 archives hashed, 2 as recorded, 0 not; 0 files not recorded" ]]
  # one byte changed (same size), a file gone, a file no run recorded
  printf 'X' | dd of="$C/positions-2019-08-11.csv.gz" bs=1 seek=100 conv=notrunc status=none
  rm "$C/positions-2019-08-12.csv.gz"
  cp "$C/positions-2019-08-10.p2.csv.gz" "$C/positions-2019-07-02.csv.gz"
  run disp retention verify --archive "$C"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"2019-08-11 part 1: FAILED: $C/positions-2019-08-11.csv.gz: SHA-256 "*" where archives records $(q "SELECT sha256 FROM archives WHERE day = '2019-08-11'"): not the file archived"* ]]
  [[ "$output" == *"2019-08-12 part 1: FAILED: $C/positions-2019-08-12.csv.gz: No such file or directory"* ]]
  [[ "$output" == *"2019-07-02 part 1: not recorded: $C/positions-2019-07-02.csv.gz"* ]]
  [[ "$output" == *"2019-08-10 part 1: ok"* ]]
  [[ "${lines[-1]}" == "verify: 5 archives hashed, 3 as recorded, 2 not; 1 files not recorded" ]]
  # an index that does not serve its archive: only a read through finds it
  cp "$A/positions-2019-08-10.idx.gz" "$C/positions-2019-08-11.idx.gz"
  cp "$A/positions-2019-08-11.csv.gz" "$C/"
  run disp retention verify --archive "$C" --from 2019-08-11 --to 2019-08-11
  [ "$status" -eq 0 ]
  run disp retention verify --archive "$C" --from 2019-08-11 --to 2019-08-11 --deep
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"2019-08-11 part 1: FAILED: $C/positions-2019-08-11.idx.gz: "*"(the archive matches its SHA-256; its index does not serve)"* ]]
  # what is refused
  run disp retention verify --dry-run
  [ "$status" -eq 2 ]
  [[ "$output" == *"--dry-run is for run, not verify"* ]]
  run disp retention verify --from 2019-08-12 --to 2019-08-11
  [ "$status" -eq 2 ]
  run disp retention verify --archive "$BATS_TEST_TMPDIR/nowhere"
  [ "$status" -eq 1 ]
  [[ "$output" == *"archive folder $BATS_TEST_TMPDIR/nowhere: No such file or directory"* ]]
}

@test "a damaged archive is an error naming the file, never a short track" {
  cp "$HG_SVC_DIR/archive/positions-2019-08-12.csv.gz" "$BATS_TEST_TMPDIR/keep.gz"
  head -c 2000 "$BATS_TEST_TMPDIR/keep.gz" > "$HG_SVC_DIR/archive/positions-2019-08-12.csv.gz"
  run ctl track 晋A10005 --from 2019-08-12T00:00:00Z --to 2019-08-13T00:00:00Z --archive "$HG_SVC_DIR/archive"
  cp "$BATS_TEST_TMPDIR/keep.gz" "$HG_SVC_DIR/archive/positions-2019-08-12.csv.gz"
  [ "$status" -eq 1 ]
  [[ "$output" == *"positions-2019-08-12.csv.gz: not a complete gzip file"* ]]
  run ctl audit --from 2019-08-12T00:00:00Z --to 2019-08-13T00:00:00Z --zones "$ZONES" --archive "$HG_SVC_DIR/nowhere"
  [ "$status" -eq 1 ]
  [[ "$output" == *"archive folder $HG_SVC_DIR/nowhere"* ]]
}

@test "a track reads its vehicle's gzip member alone through the archive's index; a damaged index is noted and the file read whole" {
  a="$HG_SVC_DIR/archive/positions-2019-08-11.csv.gz" i="$HG_SVC_DIR/archive/positions-2019-08-11.idx.gz"
  # the index: its header, the header's member, a member per vehicle, tiling the file
  run zcat "$i"
  [ "${lines[0]}" = "vehicle,offset,bytes,rows" ]
  [[ "${lines[1]}" =~ ^,0,[0-9]+,0$ ]]
  [ "$(( ${#lines[@]} - 2 ))" -eq "$(zcat "$a" | tail -n +2 | cut -d, -f1 | sort -u | wc -l)" ]
  [ "$(printf '%s\n' "${lines[@]:1}" | awk -F, '{ s += $(NF-1) } END { print s }')" -eq "$(stat -c %s "$a")" ]
  [ "$(printf '%s\n' "${lines[@]:2}" | awk -F, '{ s += $NF } END { print s }')" -eq 17280 ]
  gzip -t "$a"
  other=${lines[2]}; [[ "$other" != *晋A10005* ]]
  v=${other%%\",*}; v=${v#\"}
  off=$(echo "$other" | awk -F, '{ print $(NF-2) + int($(NF-1) / 2) }')
  range=(--from 2019-08-11T00:00:00Z --to 2019-08-12T00:00:00Z --format csv --archive "$HG_SVC_DIR/archive")
  ctl track 晋A10005 "${range[@]}" > "$BATS_TEST_TMPDIR/want.csv"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/want.csv")" -eq 1441 ]
  # another vehicle's member spoilt: this track is the same (its member alone
  # is read), that vehicle's is an error naming the file
  cp "$a" "$BATS_TEST_TMPDIR/keep.gz"
  printf '\xde\xad\xbe\xef' | dd of="$a" bs=1 seek="$off" conv=notrunc status=none
  ctl track 晋A10005 "${range[@]}" > "$BATS_TEST_TMPDIR/got.csv" || true
  run ctl track "$v" "${range[@]}"
  cp "$BATS_TEST_TMPDIR/keep.gz" "$a"
  echo "$output"
  cmp "$BATS_TEST_TMPDIR/got.csv" "$BATS_TEST_TMPDIR/want.csv"
  [ "$status" -eq 1 ]
  [[ "$output" == *"hazgate-ctl track: note: $a: "*"; read the whole file"* ]]
  [ "$(grep -c "^hazgate-ctl track: $a: " <<< "$output")" -eq 1 ]
  # the index cut: noted, the file read whole, the same track
  cp "$i" "$BATS_TEST_TMPDIR/keep.idx.gz"
  head -c 30 "$BATS_TEST_TMPDIR/keep.idx.gz" > "$i"
  ctl track 晋A10005 "${range[@]}" > "$BATS_TEST_TMPDIR/got1.csv" 2> "$BATS_TEST_TMPDIR/err1" || true
  # no index (an archive written before it): read whole, no note
  rm "$i"
  ctl track 晋A10005 "${range[@]}" > "$BATS_TEST_TMPDIR/got2.csv" 2> "$BATS_TEST_TMPDIR/err2" || true
  cp "$BATS_TEST_TMPDIR/keep.idx.gz" "$i"
  cat "$BATS_TEST_TMPDIR/err1"
  cmp "$BATS_TEST_TMPDIR/got1.csv" "$BATS_TEST_TMPDIR/want.csv"
  grep -q "note: $a: index: not a complete gzip file" "$BATS_TEST_TMPDIR/err1"
  cmp "$BATS_TEST_TMPDIR/got2.csv" "$BATS_TEST_TMPDIR/want.csv"
  ! grep -q note "$BATS_TEST_TMPDIR/err2"
}

@test "killed after writing the temporary file: it is removed, the day archived once at the next run" {
  # the sample again on 2019-09-01, from the archive of 2019-08-11 (loaded back)
  from_archive 2019-08-11 2019-09-01
  [ "$(held 2019-09-01)" -eq 17280 ]
  ctl track 晋A10005 --from 2019-09-01 --to 2019-09-02 --format gpx > "$HG_SVC_DIR/sep01.gpx"
  HAZGATE_RETENTION_CRASH=write run adm retention run --config "$HG_SVC_DIR/retention.conf"
  [ "$status" -eq 137 ]
  [ -f "$HG_SVC_DIR/archive/.positions-2019-09-01.csv.gz.tmp" ]
  [ ! -e "$HG_SVC_DIR/archive/positions-2019-09-01.csv.gz" ]
  [ "$(held 2019-09-01)" -eq 17280 ]
  [ "$(q "SELECT count(*) FROM archives WHERE day = '2019-09-01'")" -eq 0 ]
  retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"removed $HG_SVC_DIR/archive/.positions-2019-09-01.csv.gz.tmp, left by a run that did not finish"* ]]
  [[ "$output" == *"2019-09-01: archived 17280 positions"* ]]
  [ ! -e "$HG_SVC_DIR/archive/.positions-2019-09-01.csv.gz.tmp" ]
  [ "$(held 2019-09-01)" -eq 0 ]
  [ "$(q "SELECT count(*) || ':' || sum(rows) FROM archives WHERE day = '2019-09-01'")" = "1:17280" ]
  ctl track 晋A10005 --from 2019-09-01 --to 2019-09-02 --format gpx --archive "$HG_SVC_DIR/archive" 2>/dev/null | cmp - "$HG_SVC_DIR/sep01.gpx"
}

@test "killed after the rename, before the record: the complete file is used as it is, not written again" {
  from_archive 2019-09-01 2019-09-02
  ctl track 晋A10005 --from 2019-09-02 --to 2019-09-03 --format geojson > "$HG_SVC_DIR/sep02.geojson"
  HAZGATE_RETENTION_CRASH=rename run adm retention run --config "$HG_SVC_DIR/retention.conf"
  [ "$status" -eq 137 ]
  f="$HG_SVC_DIR/archive/positions-2019-09-02.csv.gz"
  [ -f "$f" ]
  [ "$(held 2019-09-02)" -eq 17280 ]
  [ "$(q "SELECT count(*) FROM archives WHERE day = '2019-09-02'")" -eq 0 ]
  ino=$(stat -c '%i %Y.%y' "$f")
  retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-09-02: $f, written before a restart, is complete: used as it is"* ]]
  [ "$(stat -c '%i %Y.%y' "$f")" = "$ino" ]
  [ "$(held 2019-09-02)" -eq 0 ]
  [ "$(q "SELECT count(*) || ':' || sum(rows) FROM archives WHERE day = '2019-09-02'")" = "1:17280" ]
  [ "$(ls "$HG_SVC_DIR/archive" | grep 2019-09-02 | paste -sd' ')" = "positions-2019-09-02.csv.gz positions-2019-09-02.idx.gz" ]
  ctl track 晋A10005 --from 2019-09-02 --to 2019-09-03 --format geojson --archive "$HG_SVC_DIR/archive" 2>/dev/null | cmp - "$HG_SVC_DIR/sep02.geojson"
}

@test "a cut file under the final name (no record) is removed and the day written again" {
  from_archive 2019-09-02 2019-09-03
  head -c 5000 "$HG_SVC_DIR/archive/positions-2019-09-02.csv.gz" > "$HG_SVC_DIR/archive/positions-2019-09-03.csv.gz"
  retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-09-03: removing $HG_SVC_DIR/archive/positions-2019-09-03.csv.gz, written before a restart:"*"not a complete gzip file"* ]]
  [[ "$output" == *"2019-09-03: archived 17280 positions"* ]]
  [ "$(q "SELECT count(*) || ':' || sum(rows) FROM archives WHERE day = '2019-09-03'")" = "1:17280" ]
  [ "$(zcat "$HG_SVC_DIR/archive/positions-2019-09-03.csv.gz" | wc -l)" -eq 17281 ]
}

@test "killed after the commit: the next run has nothing left to do for the day" {
  q "SELECT hazgate_ensure_partitions('2019-09-04', 1)" >/dev/null
  q "INSERT INTO positions (vehicle, ts, lat, lon, zone_ids) VALUES ('晋A10001', '2019-09-04T01:00:00Z', 37.7, 112.5, '{}'), ('晋A10002', '2019-09-04T01:00:00Z', 37.8, 112.6, '{}')"
  HAZGATE_RETENTION_CRASH=commit run adm retention run --config "$HG_SVC_DIR/retention.conf"
  [ "$status" -eq 137 ]
  [ "$(held 2019-09-04)" -eq 0 ]
  [ "$(q "SELECT count(*) || ':' || sum(rows) FROM archives WHERE day = '2019-09-04'")" = "1:2" ]
  retention
  [ "$status" -eq 0 ]
  [[ "$output" != *"2019-09-04"* ]]
  [ "$(q "SELECT count(*) FROM archives WHERE day = '2019-09-04'")" -eq 1 ]
  [ "$(ls "$HG_SVC_DIR/archive" | grep 2019-09-04 | paste -sd' ')" = "positions-2019-09-04.csv.gz positions-2019-09-04.idx.gz" ]
}

@test "a fix that comes in while the day is archived: nothing dropped, the day written again; never dropped while it keeps coming" {
  from_archive 2019-09-04 2019-09-07
  # a fix for the day inserted in the transaction that records the archive,
  # before the drop counts: the first time only (a sequence is not rolled back)
  psql -XqAt -v ON_ERROR_STOP=1 <<'SQL'
CREATE SEQUENCE late_seq;
CREATE FUNCTION late_fix() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF nextval('late_seq') = 1 THEN
    INSERT INTO positions (vehicle, ts, lat, lon, zone_ids) VALUES ('晋A10003', NEW.day + time '05:00', 37.7, 112.5, '{}');
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER late_fix BEFORE INSERT ON archives FOR EACH ROW EXECUTE FUNCTION late_fix();
SQL
  retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-09-07: hazgate_drop_positions_day: 2019-09-07 holds 3 positions, not the 2 archived; nothing dropped"* ]]
  [[ "$output" == *"2019-09-07: a fix for the day came in while it was archived: once more"* ]]
  [[ "$output" == *"2019-09-07: archived 2 positions"* ]]
  [ "$(q "SELECT count(*) || ':' || sum(rows) FROM archives WHERE day = '2019-09-07'")" = "1:2" ]
  [ "$(held 2019-09-07)" -eq 0 ]
  # every time: the day is kept, no file, no record, exit 1
  from_archive 2019-09-04 2019-09-08
  q "ALTER SEQUENCE late_seq RESTART WITH -100 MINVALUE -100"
  q "CREATE OR REPLACE FUNCTION late_fix() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS \$\$ BEGIN INSERT INTO positions (vehicle, ts, lat, lon, zone_ids) VALUES ('晋A10003', NEW.day + time '05:00', 37.7, 112.5, '{}'); RETURN NEW; END \$\$"
  retention
  [ "$status" -eq 1 ]
  [[ "$output" == *"2019-09-08: fixes for the day kept coming in; kept for the next run"* ]]
  [[ "$output" == *"1 failed"* ]]
  [ "$(held 2019-09-08)" -eq 2 ]
  [ "$(q "SELECT count(*) FROM archives WHERE day = '2019-09-08'")" -eq 0 ]
  [ ! -e "$HG_SVC_DIR/archive/positions-2019-09-08.csv.gz" ]
  q "DROP TRIGGER late_fix ON archives"
  retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-09-08: archived 2 positions"* ]]
}

@test "a reader holding positions: the drop waits at most 5 s at a time and is tried again" {
  from_archive 2019-09-04 2019-09-06
  retention_beside_reader
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-09-06: the database is busy: again in 5 s"* ]]
  [[ "$output" == *"2019-09-06: archived 2 positions"* ]]
  [ "$(held 2019-09-06)" -eq 0 ]
  [ "$(q "SELECT count(*) || ':' || sum(rows) FROM archives WHERE day = '2019-09-06'")" = "1:2" ]
}

@test "without archive_dir a past day is dropped, nothing written" {
  q "SELECT hazgate_ensure_partitions('2019-09-05', 1)" >/dev/null
  q "INSERT INTO positions (vehicle, ts, lat, lon, zone_ids) VALUES ('晋A10001', '2019-09-05T01:00:00Z', 37.7, 112.5, '{}')"
  n=$(ls "$HG_SVC_DIR/archive" | wc -l)
  conf 2
  retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-09-05: dropped 1 positions (no archive_dir: not archived)"* ]]
  [ "$(held 2019-09-05)" -eq 0 ]
  [ "$(ls "$HG_SVC_DIR/archive" | wc -l)" -eq "$n" ]
  [ "$(q "SELECT count(*) FROM archives WHERE day = '2019-09-05'")" -eq 0 ]
}

@test "archive_compression = zstd: a frame per vehicle that zstdcat and COPY read; track and audit read it back byte for byte; damage named; a gzip part 1 and a zstd part 2 merge; verify --deep" {
  Z="$HG_SVC_DIR/zarch"
  # part 1 of 2019-11-02 archived in gzip, then a late fix for it and a
  # whole day (2019-11-01, the sample) archived in zstd
  q "SELECT hazgate_ensure_partitions('2019-11-02', 1)" >/dev/null
  q "INSERT INTO positions (vehicle, ts, lat, lon, speed_kmh, zone_ids) VALUES ('晋A10005', '2019-11-02T01:00:00Z', 37.7, 112.5, 10, '{}'), ('晋A10001', '2019-11-02T01:00:00Z', 37.8, 112.6, 11, '{1}')"
  conf 2 "$Z" gzip
  retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-11-02: archived 2 positions to $Z/positions-2019-11-02.csv.gz"* ]]
  q "INSERT INTO positions (vehicle, ts, lat, lon, speed_kmh, zone_ids) VALUES ('晋A10005', '2019-11-02T02:00:00Z', 37.9, 112.7, 12, '{}')"
  from_archive 2019-08-11 2019-11-01
  day=(--from 2019-11-01T00:00:00Z --to 2019-11-02T00:00:00Z)
  for f in csv geojson; do ctl track 晋A10005 "${day[@]}" --format $f > "$BATS_TEST_TMPDIR/before.$f"; done
  ctl audit "${day[@]}" --zones "$ZONES" --format json > "$BATS_TEST_TMPDIR/before.audit" 2> "$BATS_TEST_TMPDIR/before.sum"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/before.csv")" -eq 1441 ]

  conf 2 "$Z" zstd
  retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-11-01: archived 17280 positions to $Z/positions-2019-11-01.csv.zst"* ]]
  [[ "$output" == *"2019-11-02: archived 1 positions to $Z/positions-2019-11-02.p2.csv.zst"* ]]
  [ "$(ls "$Z" | paste -sd' ')" = "positions-2019-11-01.csv.zst positions-2019-11-01.idx.zst positions-2019-11-02.csv.gz positions-2019-11-02.idx.gz positions-2019-11-02.p2.csv.zst positions-2019-11-02.p2.idx.zst" ]
  # track and audit through the zstd archive: byte for byte what they printed
  for f in csv geojson; do
    ctl track 晋A10005 "${day[@]}" --format $f --archive "$Z" | cmp - "$BATS_TEST_TMPDIR/before.$f"
  done
  ctl audit "${day[@]}" --zones "$ZONES" --format json --archive "$Z" > "$BATS_TEST_TMPDIR/after.audit" 2> "$BATS_TEST_TMPDIR/after.sum"
  cmp "$BATS_TEST_TMPDIR/before.audit" "$BATS_TEST_TMPDIR/after.audit"
  cmp "$BATS_TEST_TMPDIR/before.sum" "$BATS_TEST_TMPDIR/after.sum"
  # a zstd stream to zstd and zstdcat; its index tiles it, a frame a vehicle
  a="$Z/positions-2019-11-01.csv.zst" i="$Z/positions-2019-11-01.idx.zst"
  zstd -q -t "$a"
  run zstdcat "$i"
  [ "${lines[0]}" = "vehicle,offset,bytes,rows" ]
  [[ "${lines[1]}" =~ ^,0,[0-9]+,0$ ]]
  [ "$(( ${#lines[@]} - 2 ))" -eq "$(zstdcat "$a" | tail -n +2 | cut -d, -f1 | sort -u | wc -l)" ]
  [ "$(printf '%s\n' "${lines[@]:1}" | awk -F, '{ s += $(NF-1) } END { print s }')" -eq "$(stat -c %s "$a")" ]
  other=${lines[2]}; [[ "$other" != *晋A10005* ]]
  v=${other%%\",*}; v=${v#\"}
  off=$(echo "$other" | awk -F, '{ print $(NF-2) + int($(NF-1) / 2) }')
  # the same records as the gzip archive they were loaded from; COPY loads it
  cmp <(zcat "$HG_SVC_DIR/archive/positions-2019-08-11.csv.gz" | sed 's/^\([^,]*\),2019-08-11T/\1,2019-11-01T/' | head -3) <(zstdcat "$a" | head -3)
  q "CREATE TABLE restored_z (LIKE positions)"
  q "\\copy restored_z ($(zstdcat "$a" | head -1)) FROM PROGRAM 'zstdcat $a' CSV HEADER"
  q "CREATE TABLE restored_g (LIKE positions)"
  q "\\copy restored_g ($(header 2019-08-11)) FROM PROGRAM 'zcat $HG_SVC_DIR/archive/positions-2019-08-11.csv.gz' CSV HEADER"
  [ "$(q "SELECT count(*) FROM restored_z")" -eq 17280 ]
  [ "$(q "SELECT count(*) FROM (SELECT $COLS FROM restored_z EXCEPT SELECT $(shifted "'2019-11-01'::date - '2019-08-11'::date") FROM restored_g) x")" -eq 0 ]
  q "DROP TABLE restored_z, restored_g"
  # part 1 (gzip) and part 2 (zstd) of 2019-11-02 merge
  run ctl track 晋A10005 --from 2019-11-02T00:00:00Z --to 2019-11-03T00:00:00Z --format csv --archive "$Z"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]
  [[ "${lines[1]}" == "晋A10005,2019-11-02T01:00:00.000Z,37.7,112.5,10,"* ]]
  [[ "${lines[2]}" == "晋A10005,2019-11-02T02:00:00.000Z,37.9,112.7,12,"* ]]
  run disp retention verify --archive "$Z" --from 2019-11-01 --to 2019-11-02 --deep
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "verify: 3 archives read through, 3 as recorded, 0 not; 0 files not recorded" ]
  # another vehicle's frame damaged: this track is the same (its frame
  # alone), that vehicle's an error naming the file
  cp "$a" "$BATS_TEST_TMPDIR/keep.zst"
  printf '\xde\xad\xbe\xef' | dd of="$a" bs=1 seek="$off" conv=notrunc status=none
  ctl track 晋A10005 "${day[@]}" --format csv --archive "$Z" > "$BATS_TEST_TMPDIR/got.csv" || true
  run ctl track "$v" "${day[@]}" --archive "$Z"
  cp "$BATS_TEST_TMPDIR/keep.zst" "$a"
  echo "$output"
  cmp "$BATS_TEST_TMPDIR/got.csv" "$BATS_TEST_TMPDIR/before.csv"
  [ "$status" -eq 1 ]
  [[ "$output" == *"note: $a: not a complete zstd frame where the index says"*"; read the whole file"* ]]
  [[ "$output" == *"hazgate-ctl track: $a: not a complete zstd file"* ]]
  # the index damaged: noted, the file read whole, the same track
  cp "$i" "$BATS_TEST_TMPDIR/keep.idx.zst"
  head -c 30 "$BATS_TEST_TMPDIR/keep.idx.zst" > "$i"
  ctl track 晋A10005 "${day[@]}" --format csv --archive "$Z" > "$BATS_TEST_TMPDIR/got1.csv" 2> "$BATS_TEST_TMPDIR/err1" || true
  cp "$BATS_TEST_TMPDIR/keep.idx.zst" "$i"
  cat "$BATS_TEST_TMPDIR/err1"
  cmp "$BATS_TEST_TMPDIR/got1.csv" "$BATS_TEST_TMPDIR/before.csv"
  grep -q "note: $a: index: not a complete zstd file" "$BATS_TEST_TMPDIR/err1"
  # a cut archive is an error naming it, never a short track
  head -c 5000 "$BATS_TEST_TMPDIR/keep.zst" > "$a"
  run ctl track 晋A10005 "${day[@]}" --archive "$Z"
  cp "$BATS_TEST_TMPDIR/keep.zst" "$a"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$a: not a complete zstd file"* ]]
  # an unrecorded complete file under the other codec's name (the
  # configuration changed after a run died before recording it) is used
  from_archive 2019-08-12 2019-11-03
  HAZGATE_RETENTION_CRASH=rename run adm retention run --config "$HG_SVC_DIR/retention.conf"
  [ "$status" -eq 137 ]
  [ -f "$Z/positions-2019-11-03.csv.zst" ]
  conf 2 "$Z" gzip
  retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-11-03: $Z/positions-2019-11-03.csv.zst, written before a restart, is complete: used as it is"* ]]
  [ "$(q "SELECT path || ':' || rows FROM archives WHERE day = '2019-11-03'")" = "$Z/positions-2019-11-03.csv.zst:1440" ]
  [ ! -e "$Z/positions-2019-11-03.csv.gz" ]
  # verify: a stray file of a recorded part under the other codec's name
  # is not the one recorded
  cp "$Z/positions-2019-11-02.csv.gz" "$Z/positions-2019-11-02.csv.zst"
  run disp retention verify --archive "$Z" --from 2019-11-01 --to 2019-11-03
  rm "$Z/positions-2019-11-02.csv.zst"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"2019-11-02 part 1: not recorded: $Z/positions-2019-11-02.csv.zst"* ]]
  [ "${lines[-1]}" = "verify: 4 archives hashed, 4 as recorded, 0 not; 1 files not recorded" ]
}

@test "a reader holding positions: a day's compaction waits at most 5 s at a time and is tried again" {
  conf 0
  q "SELECT hazgate_ensure_partitions('2019-10-01', 1)" >/dev/null
  q "INSERT INTO positions (vehicle, ts, lat, lon, zone_ids) VALUES ('晋A10001', '2019-10-01T01:00:00Z', 37.7, 112.5, '{}')"
  [ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'positions_recent_20191001'")" -eq 1 ]
  # dropping the day's row partition needs positions_recent to itself for a moment
  retention_beside_reader
  [ "$status" -eq 0 ]
  [[ "$output" == *"compacting 2019-10-01: the database is busy: again in 5 s"* ]]
  [[ "$output" == *"compacted 2019-10-01: 1 fixes"* ]]
  [[ "$output" == *"compact: 1 days compacted (1 fixes), 0 failed"* ]]
  [ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'positions_recent_20191001'")" -eq 0 ]
  [ "$(q "SELECT sum(n) FROM positions_slices WHERE hour >= '2019-10-01' AND hour < '2019-10-02'")" -eq 1 ]
}

@test "retention's compaction encodes the slices in C (019); HAZGATE_COMPACT=sql (012's function) makes the same slices" {
  conf 0
  # two days of the same fixes, one compacted each way
  day_fixes() {
    q "SELECT hazgate_ensure_partitions('$1', 1)" >/dev/null
    q "INSERT INTO positions (vehicle, ts, lat, lon, speed_kmh, heading, seq, zone_ids, received_at)
       SELECT '晋A2000' || (i % 3), '$1'::timestamptz + i * interval '7.5 s', 37.7 + i * 1e-6, 112.5 - i * 1e-7,
              (i % 90) * 0.5, (i * 7) % 360, i / 3 + (i % 97 = 0)::int,
              CASE WHEN i % 50 < 10 THEN '{1}'::integer[] ELSE '{}' END,
              '$1'::timestamptz + i * interval '7.5 s' + interval '1.25 s'
         FROM generate_series(0, 11519) i"
  }
  day_fixes 2019-10-05
  HAZGATE_COMPACT_STATS=1 retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"compact_stats: day=2019-10-05 path=c fixes=11520 slices=72 "* ]]
  [[ "$output" == *"compacted 2019-10-05: 11520 fixes"* ]]
  day_fixes 2019-10-06
  HAZGATE_COMPACT=sql HAZGATE_COMPACT_STATS=1 retention
  [ "$status" -eq 0 ]
  [[ "$output" == *"compact_stats: day=2019-10-06 path=sql fixes=11520 "* ]]
  slices() {
    q "SELECT md5(string_agg((to_jsonb(s) - 'hour' - 't_first' - 't_last')::text, ',' ORDER BY vehicle, hour))
         FROM positions_slices s WHERE hour >= '$1' AND hour < '$1'::date + 1"
  }
  [ "$(slices 2019-10-05)" = "$(slices 2019-10-06)" ]
  [ "$(q "SELECT count(*) FROM positions_slices WHERE hour >= '2019-10-05' AND hour < '2019-10-07'")" -eq 144 ]
  [ "$(held 2019-10-05)" -eq 11520 ]
  [ "$(q "SELECT count(*) FROM positions_recent WHERE ts >= '2019-10-05' AND ts < '2019-10-07'")" -eq 0 ]
}
