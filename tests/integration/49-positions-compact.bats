#!/usr/bin/env bats
# 49-positions-compact: the compact layout of positions (schema/012) keeps
# exactly what went in. Random fixes (every field, NULLs, extreme values,
# times to the microsecond, late and out of order, across hour and day
# boundaries) go in as the gateway writes them (COPY into positions_recent)
# and through the view; days are compacted, late fixes, redeliveries and
# fixes with a stored key and other values come after; at every step
# positions, hazgate_positions() and hazgate_positions_last() read back
# exactly the first copy of each key, and rejects holds the others. Then a
# database of the row layout (migrations 001-009) migrates and compacts
# without a change in what it reads.

setup_file() {
  eval "$("$HG_SRCDIR/scripts/services-start" --no-mqtt)"
  export HG_SVC_DIR PGHOST PGPORT PGUSER PGDATABASE HG_PG_CONNINFO
  "$HG_BUILDDIR/hazgate-ctl" migrate >/dev/null
}

teardown_file() {
  "$HG_SRCDIR/scripts/services-stop" "$HG_SVC_DIR"
}

q() { psql -XqAt -v ON_ERROR_STOP=1 -c "$*"; }

# gen SEED N DAY0: N random fixes of 4 vehicles over 3 days from DAY0 into
# table gen (created), in a random order; keys may repeat (first wins).
gen() {
  psql -XqAt -v ON_ERROR_STOP=1 -v seed="$1" -v n="$2" -v day0="$3" <<'SQL'
DROP TABLE IF EXISTS gen;
SELECT setseed(:seed);
CREATE TABLE gen AS
SELECT row_number() OVER () AS ord, v, ts,
       CASE p WHEN 0 THEN round(lat::numeric, 9) WHEN 1 THEN round(lat::numeric, 7)
              ELSE round(lat::numeric, 5) END::float8 AS lat,
       CASE p WHEN 0 THEN round(lon::numeric, 9) WHEN 1 THEN round(lon::numeric, 7)
              ELSE round(lon::numeric, 5) END::float8 AS lon,
       CASE WHEN random() < 0.1 THEN NULL WHEN random() < 0.5 THEN round((random() * 300)::numeric, 3)
            ELSE round((random() * 120)::numeric, 1) END::real AS speed_kmh,
       CASE WHEN random() < 0.1 THEN NULL ELSE round((random() * 360)::numeric, (random() * 3)::int) END::real AS heading,
       CASE WHEN random() < 0.5 THEN NULL WHEN random() < 0.1 THEN (random() * 1e7 - 5e6)::real
            ELSE round((random() * 4000 - 400)::numeric, 2) END::real AS alt_m,
       CASE WHEN random() < 0.3 THEN NULL ELSE round((random() * 5)::numeric, 1) END::real AS hdop,
       CASE WHEN random() < 0.2 THEN NULL ELSE (2 + (random() < 0.8)::int)::smallint END AS fix,
       CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 20)::smallint END AS sats,
       CASE WHEN random() < 0.1 THEN NULL ELSE (ARRAY['1203', '1075', 'UN1789'])[1 + (random() * 2)::int] END AS un,
       CASE WHEN random() < 0.1 THEN NULL ELSE (ARRAY['3', '2.1', '8'])[1 + (random() * 2)::int] END AS hazard_class,
       CASE WHEN random() < 0.05 THEN NULL WHEN random() < 0.02 THEN (random() * 9e18)::bigint
            ELSE i + (random() < 0.1)::int * 5 END AS seq,
       CASE WHEN random() < 0.3 THEN NULL ELSE random() < 0.5 END AS ignition,
       CASE WHEN random() < 0.6 THEN '{}'::integer[] WHEN random() < 0.7 THEN ARRAY[7]
            ELSE ARRAY[(random() * 100)::int, (random() * 1e9)::int, -3] END AS zone_ids,
       ts + CASE WHEN random() < 0.05 THEN random() * interval '40 days'
                 ELSE random() * interval '2 s' END AS received_at,
       CASE WHEN random() < 0.8 THEN NULL ELSE (random() * 2147483647)::int END AS alarms
  FROM (SELECT 'V' || (i % 4) AS v, i,
               -- mostly 10 s apart, some at hour and day edges, some to the us
               date_trunc('second', :'day0'::timestamptz + (i / 4) * interval '10 s' * (1 + 30 * (i % 5 = 0)::int))
                 + CASE WHEN random() < 0.3 THEN (random() * 1e6)::int * interval '1 microsecond'
                        WHEN random() < 0.1 THEN interval '59 minutes 59.999999 seconds'
                        WHEN random() < 0.1 THEN (random() * 1000)::int * interval '1 millisecond'
                        ELSE interval '0' END AS ts,
               CASE WHEN random() < 0.01 THEN 90 - random() * 1e-6 WHEN random() < 0.01 THEN -80 + random() * 170
                    ELSE 37.7 + i * 1e-5 * random() END AS lat,
               CASE WHEN random() < 0.01 THEN -180 + random() * 360 ELSE 112.5 + i * 1e-5 * random() END AS lon,
               (random() * 3)::int AS p
          FROM generate_series(1, :n) i) x
 ORDER BY random();
-- what must be stored: the first copy of each key written so far (copy_rows)
CREATE TABLE IF NOT EXISTS want (LIKE positions);
TRUNCATE want;
SQL
}

# rows of gen with ord in (lo, hi] into positions_recent as the gateway's
# COPY does, new keys only (the gateway's direct path)
copy_rows() {
  q "CREATE TEMP TABLE batch AS
     SELECT v AS vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un,
            hazard_class, seq, ignition, zone_ids, received_at, alarms
       FROM gen g WHERE ord > $1 AND ord <= $2
        AND NOT EXISTS (SELECT 1 FROM gen e WHERE e.v = g.v AND e.ts = g.ts AND e.ord < g.ord)
      ORDER BY ord;
     INSERT INTO positions_recent SELECT * FROM batch;
     INSERT INTO want SELECT * FROM batch"
}

# every stored fix is the wanted one, bit for bit (floats by their bytes)
same() {
  local cols="vehicle, ts, float8send(lat), float8send(lon), float4send(speed_kmh), float4send(heading),
      float4send(alt_m), float4send(hdop), fix, sats, un, hazard_class, seq, ignition, zone_ids, received_at, alarms"
  [ "$(q "SELECT count(*) FROM positions")" = "$(q "SELECT count(*) FROM want")" ]
  [ "$(q "SELECT count(*) FROM (SELECT $cols FROM positions EXCEPT SELECT $cols FROM want) d")" = 0 ]
  [ "$(q "SELECT count(*) FROM (SELECT $cols FROM want EXCEPT SELECT $cols FROM positions) d")" = 0 ]
  # the audit index, over random windows, and the latest fix
  [ "$(q "SELECT count(*) FROM generate_series(1, 40) k,
            LATERAL (SELECT 'V' || (k % 5) AS v, '$DAY0'::timestamptz + random() * interval '4 days' AS a,
                            random() * interval '30 hours' AS len) w
          WHERE (SELECT coalesce(array_agg(($cols) ORDER BY ts), '{}')::text
                   FROM hazgate_positions(w.v, w.a, w.a + w.len))
                IS DISTINCT FROM
                (SELECT coalesce(array_agg(($cols) ORDER BY ts), '{}')::text FROM want
                  WHERE vehicle = w.v AND ts >= w.a AND ts < w.a + w.len)")" = 0 ]
  [ "$(q "SELECT count(*) FROM (VALUES ('V0'), ('V1'), ('V2'), ('V3')) k(v)
          WHERE (SELECT ($cols)::text FROM hazgate_positions_last(k.v))
                IS DISTINCT FROM (SELECT ($cols)::text FROM want WHERE vehicle = k.v ORDER BY ts DESC LIMIT 1)")" = 0 ]
}

DAY0=2026-03-28

@test "random fixes, compacted, late, redelivered and conflicting: read back exactly what went in" {
  for seed in 0.15 -0.42 0.77; do
    q "TRUNCATE positions_recent, positions_slices, rejects"
    gen "$seed" 3000 "${DAY0}T22:30:00Z"
    q "SELECT hazgate_ensure_partitions('$DAY0', 4)" >/dev/null
    copy_rows 0 2000
    same
    # the first two days into slices (the third stays in rows)
    q "SELECT count(hazgate_positions_compact(d)) FROM hazgate_positions_compact_due('$DAY0'::date + 2) d"
    [ "$(q "SELECT count(*) FROM positions_slices")" -gt 10 ]
    [ "$(q "SELECT count(*) FROM positions_recent WHERE ts < '$DAY0'::date + 2")" = 0 ]
    same
    # late fixes, several into slices already compacted (the default partition)
    copy_rows 2000 3000
    same
    # everything again: a replay stores nothing twice
    before=$(q "SELECT count(*) FROM rejects")
    q "INSERT INTO positions (vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un,
         hazard_class, seq, ignition, zone_ids, received_at, alarms)
       SELECT vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un, hazard_class,
              seq, ignition, zone_ids, received_at + interval '1 day', alarms
         FROM want WHERE ts < '$DAY0'::date + 2"
    [ "$(q "SELECT count(*) FROM rejects")" = "$before" ]
    same
    # the same keys with other values, into compacted days: rejects, duplicate_ts
    q "INSERT INTO positions_recent (vehicle, ts, lat, lon, seq)
       SELECT vehicle, ts, lat + 1e-9, lon, seq FROM want w
        WHERE ts < '$DAY0'::date + 2 AND NOT EXISTS (SELECT 1 FROM positions_recent r WHERE r.vehicle = w.vehicle AND r.ts = w.ts)
          AND hashtext(vehicle || ts) % 7 = 0"
    [ "$(q "SELECT count(*) FROM rejects WHERE reason = 'duplicate_ts'")" -gt "$before" ]
    [ "$(q "SELECT count(*) FROM rejects WHERE reason = 'duplicate_ts' AND message LIKE 'a fix of V% is already stored with other values%'")" -gt 0 ]
    same
    # compacting again merges the late fixes into their slices
    q "SELECT count(hazgate_positions_compact(d)) FROM hazgate_positions_compact_due('$DAY0'::date + 4) d"
    [ "$(q "SELECT count(*) FROM positions_recent")" = 0 ]
    same
    # every slice holds one vehicle's hour, in order
    [ "$(q "SELECT count(*) FROM positions_slices WHERE t_first < hour OR t_last >= hour + interval '1 hour' OR t_first > t_last")" = 0 ]
  done
}

@test "a fix deleted through the view is gone from its slice, its neighbours stay" {
  victim=$(q "SELECT vehicle || '|' || ts FROM want ORDER BY ts LIMIT 1 OFFSET 10")
  v=${victim%%|*} t=${victim#*|}
  q "DELETE FROM positions WHERE vehicle = '$v' AND ts = '$t'"
  q "DELETE FROM want WHERE vehicle = '$v' AND ts = '$t'"
  same
  q "SELECT count(hazgate_positions_compact(d)) FROM hazgate_positions_compact_due('$DAY0'::date + 4) d"
  same
}

@test "a day dropped (retention) is gone from both tiers, the other days stay" {
  d=$(q "SELECT '$DAY0'::date + 1")
  q "INSERT INTO positions (vehicle, ts, lat, lon) VALUES ('V9', '$d 12:00:00+00', 1, 2)"   # a late row
  n=$(q "SELECT count(*) FROM positions WHERE ts >= '$d' AND ts < '$d'::date + 1")
  [ "$n" -gt 1 ]
  [ "$(q "SELECT hazgate_positions_drop_day('$d')")" = "$n" ]
  [ "$(q "SELECT count(*) FROM hazgate_positions_day_tables('$d')")" = 0 ]
  q "DELETE FROM want WHERE ts >= '$d' AND ts < '$d'::date + 1"
  same
}

# plan_check SQL: EXPLAIN ANALYZE of SQL as a prepared statement with a
# generic plan ($1 vehicle, $2 from, $3 to unknown when planned: how a
# function runs as a plan of its own; sequential scans off, so that the
# index is taken wherever it can be) for V1 over the four days; fails
# unless every scan of positions_recent or positions_slices that ran is
# an index scan whose condition has the vehicle (and prints the plan)
plan_check() {
  psql -XqAt -v ON_ERROR_STOP=1 -c "SET plan_cache_mode = force_generic_plan" -c "SET enable_seqscan = off" \
    -c "PREPARE p(text, timestamptz, timestamptz) AS $1" \
    -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE p('V1', '$DAY0', '$DAY0'::date + 4)" \
  | python3 -c '
import re, sys
plan = sys.stdin.read().splitlines()
print("\n".join(plan))
ran = 0
for i, l in enumerate(plan):
    if not re.search(r"Scan.* on positions_(recent|slices)", l) or "never executed" in l:
        continue
    ran += 1
    assert re.search(r"Index (Only )?Scan", l), "not an index scan: " + l
    cond = next(c for c in plan[i + 1:] if "Index Cond:" in c)
    assert "vehicle = $1" in cond, "no vehicle in " + cond
assert ran >= 2, "no scan of both tiers ran"
'
}

@test "the audit index probes both keys also as a plan of its own: per vehicle, and hazgate_positions' vehicle form (018)" {
  q "SELECT hazgate_ensure_partitions('$DAY0'::date + 5, 1)" >/dev/null
  q "INSERT INTO positions_recent (vehicle, ts, lat, lon) VALUES ('V1', '$DAY0'::date + 5, 1, 2)"
  plan_check 'SELECT * FROM hazgate_positions($1, $2, $3)'
  plan_check 'SELECT * FROM hazgate_positions_vehicle($1, $2, $3)'
  # the same rows as the dispatcher, and as every vehicle's function filtered
  cols="vehicle, ts, float8send(lat), float8send(lon), seq, zone_ids"
  [ "$(q "SELECT count(*) FROM (SELECT $cols FROM hazgate_positions_vehicle('V2', '$DAY0', '$DAY0'::date + 6)
                                EXCEPT SELECT $cols FROM hazgate_positions_all('$DAY0', '$DAY0'::date + 6) WHERE vehicle = 'V2') d")" = 0 ]
  [ "$(q "SELECT count(*) FROM hazgate_positions_vehicle('V2', '$DAY0', '$DAY0'::date + 6)")" = \
    "$(q "SELECT count(*) FROM want WHERE vehicle = 'V2'")" ]
  [ "$(q "SELECT count(*) FROM hazgate_positions(NULL, '$DAY0', '$DAY0'::date + 6)")" = "$(q "SELECT count(*) + 1 FROM want")" ]
  [ "$(q "SELECT count(*) FROM hazgate_positions_all('$DAY0', '$DAY0'::date + 6)")" = "$(q "SELECT count(*) + 1 FROM want")" ]
  q "DELETE FROM positions_recent WHERE vehicle = 'V1' AND ts = '$DAY0'::date + 5"
}

@test "the gateway role cannot compact nor read slices; a dispatcher reads" {
  q "CREATE ROLE t49_gw LOGIN IN ROLE hazgate_gateway; CREATE ROLE t49_disp LOGIN IN ROLE hazgate_dispatcher"
  run psql -XqAt -U t49_gw -c "SELECT hazgate_positions_compact('$DAY0')"
  [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
  run psql -XqAt -U t49_gw -c "SELECT count(*) FROM positions_slices"
  [ "$status" -ne 0 ]
  run psql -XqAt -U t49_disp -c "SELECT count(*) FROM hazgate_positions('V1', '$DAY0', '$DAY0'::date + 4)"
  [ "$status" -eq 0 ]; [ "$output" -gt 0 ]
  run psql -XqAt -U t49_disp -c "SELECT hazgate_positions_compact('$DAY0')"
  [ "$status" -ne 0 ]
}

@test "a database of the row layout migrates, compacts and reads the same" {
  q "CREATE DATABASE rows9"
  psql -XqAt -d rows9 -c "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
                            applied_at timestamptz NOT NULL DEFAULT now())"
  for f in "$HG_SRCDIR"/schema/00[1-9]_*.sql; do
    psql -Xq -1 -v ON_ERROR_STOP=1 -d rows9 -f "$f" >/dev/null
    b=$(basename "$f" .sql)
    psql -XqAt -d rows9 -c "INSERT INTO schema_migrations (version, name) VALUES (${b:0:3}, '$b')"
  done
  psql -XqAt -v ON_ERROR_STOP=1 -d rows9 -c "SELECT hazgate_ensure_partitions('$DAY0', 2)" >/dev/null
  # the wanted fixes of the first test, as the old table held them
  q "COPY (SELECT vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un, hazard_class,
                  seq, ignition, zone_ids, received_at FROM want) TO STDOUT" > "$HG_SVC_DIR/want.copy"
  psql -XqAt -v ON_ERROR_STOP=1 -d rows9 -c "\\copy positions FROM '$HG_SVC_DIR/want.copy'"
  old=$(psql -XqAt -d rows9 -c "SELECT md5(string_agg(p::text, ',' ORDER BY vehicle, ts)) FROM positions p")
  run "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=postgres dbname=rows9" migrate
  [ "$status" -eq 0 ]; [[ "$output" == *"applied 012_compact_positions"* ]]
  # alarms: a column the old table did not have, NULL for its rows
  new() { psql -XqAt -d rows9 -c "SELECT md5(string_agg((vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un, hazard_class, seq, ignition, zone_ids, received_at)::text, ',' ORDER BY vehicle, ts)) FROM positions p"; }
  [ "$(new)" = "$old" ]
  [ "$(psql -XqAt -d rows9 -c "SELECT count(*) FROM pg_tables WHERE tablename ~ '^positions_[0-9]{8}$'")" = 0 ]
  run "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=postgres dbname=rows9" compact --before "$(date -u +%F)"
  [ "$status" -eq 0 ]
  [ "$(psql -XqAt -d rows9 -c "SELECT count(*) FROM positions_recent")" = 0 ]
  [ "$(psql -XqAt -d rows9 -c "SELECT sum(n) FROM positions_slices")" = "$(q "SELECT count(*) FROM want")" ]
  [ "$(new)" = "$old" ]
}

@test "the gateway's binary COPY (gw_copybin.c) stores exactly what its COPY text stores" {
  gen 0.23 4000 "$DAY0"
  local cols="vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un, hazard_class, seq, ignition, zone_ids, received_at, alarms"
  local f="$BATS_TEST_TMPDIR/rows.copy"
  q "DROP TABLE IF EXISTS by_bin, by_text;
     CREATE TABLE by_bin (LIKE positions_recent); CREATE TABLE by_text (LIKE positions_recent)"
  # every row of gen as COPY text in the gateway's columns (what the
  # server writes for them: the forms the batch writer makes, and more)
  psql -XqAt -v ON_ERROR_STOP=1 -c "SET TimeZone = 'UTC'" \
    -c "COPY (SELECT v, $(echo "$cols" | cut -d, -f2-) FROM gen ORDER BY ord) TO STDOUT" > "$f"
  [ "$(wc -l < "$f")" = 4000 ]
  run "$HG_BUILDDIR/bench/bench_copy" by_bin "$cols" 300 binary < "$f"
  [ "$status" -eq 0 ]; [[ "$output" == *"rows=4000 "*"batches_as_text=0"* ]]
  run "$HG_BUILDDIR/bench/bench_copy" by_text "$cols" 300 text < "$f"
  [ "$status" -eq 0 ]; [[ "$output" == *"rows=4000 "* ]]
  local bytes="vehicle, ts, float8send(lat), float8send(lon), float4send(speed_kmh), float4send(heading),
      float4send(alt_m), float4send(hdop), fix, sats, un, hazard_class, seq, ignition, zone_ids, received_at, alarms"
  [ "$(q "SELECT count(*) FROM (SELECT $bytes FROM by_bin EXCEPT ALL SELECT $bytes FROM by_text) d")" = 0 ]
  [ "$(q "SELECT count(*) FROM (SELECT $bytes FROM by_text EXCEPT ALL SELECT $bytes FROM by_bin) d")" = 0 ]
  [ "$(q "SELECT count(*) FROM by_bin")" = 4000 ]
  # a value the converter does not take (NaN, Infinity): its batch goes as
  # text, and the server stores it as before
  printf 'V9\t2026-03-28 00:00:00+00\t1\t2\tNaN\tInfinity\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t{}\t2026-03-28 00:00:01+00\t\\N\n' > "$f"
  run "$HG_BUILDDIR/bench/bench_copy" by_bin "$cols" 300 binary < "$f"
  [ "$status" -eq 0 ]; [[ "$output" == *"batches_as_text=1"* ]]
  [ "$(q "SELECT speed_kmh::text || ' ' || heading::text FROM by_bin WHERE vehicle = 'V9'")" = "NaN Infinity" ]
  q "DROP TABLE by_bin, by_text"
}

@test "017: both tiers' vehicle compares bytes (COLLATE \"C\"), and a vehicle's queries keep their index" {
  [ "$(q "SELECT string_agg(attrelid::regclass || ' ' || attcollation::regcollation, ',' ORDER BY attrelid::regclass::text)
          FROM pg_attribute WHERE attname = 'vehicle'
           AND attrelid IN ('positions'::regclass, 'positions_recent'::regclass, 'positions_slices'::regclass)")" \
    = 'positions "C",positions_recent "C",positions_slices "C"' ]
  q "TRUNCATE positions_recent, positions_slices"
  q "SELECT hazgate_ensure_partitions('$DAY0', 2)" >/dev/null
  q "INSERT INTO positions_recent (vehicle, ts, lat, lon) VALUES ('V1', '$DAY0', 1, 2)"
  q "SELECT hazgate_positions_compact('$DAY0')" >/dev/null
  # the key, from a parameter of the default collation, on both tiers and through the view
  plan() { psql -XqAt -c "SET enable_seqscan = off" -c "EXPLAIN (COSTS OFF) $1"; }
  run plan "SELECT * FROM hazgate_positions('V1'::text COLLATE \"default\", '$DAY0', '$DAY0'::date + 2)"
  [[ "$output" == *"Index Scan using positions_recent_"*"Index Cond: ((vehicle = 'V1'::text)"* ]]
  [[ "$output" == *"Index Scan using positions_slices_"*"Index Cond: ((vehicle = 'V1'::text)"* ]]
  run plan "SELECT * FROM positions WHERE vehicle = 'V1' AND ts >= '$DAY0'"
  [[ "$output" == *"Index Scan using positions_recent_"*"Index Cond: ((vehicle = 'V1'::text)"* ]]
  # a late fix's lookup (hazgate_positions_late: NEW.vehicle, the row's C) on the slices' key
  run plan "SELECT * FROM positions_slices s WHERE s.vehicle = ('V1'::text COLLATE \"C\") AND s.hour = '$DAY0'"
  [[ "$output" == *"Index Scan using positions_slices_"*"Index Cond: ((vehicle = 'V1'::text COLLATE \"C\")"* ]]
  # the same fix twice is still refused by the key, another vehicle is not
  local d1="'$DAY0'::date + 1"
  q "INSERT INTO positions_recent (vehicle, ts, lat, lon) VALUES ('晋A1', $d1, 1, 2), ('晋a1', $d1, 1, 2)"
  run q "INSERT INTO positions_recent (vehicle, ts, lat, lon) VALUES ('晋A1', $d1, 1, 2)"
  [ "$status" -ne 0 ]; [[ "$output" == *"duplicate key value violates unique constraint"* ]]
  q "TRUNCATE positions_recent, positions_slices"
}

# cdump V FROM TO: V's fixes with FROM <= ts < TO (Unix microseconds) as
# hazgate-ctl decodes them (ctl/ctl_slices.c); sqldump: the same from
# hazgate_positions_vehicle(), in the same form (floats by their bytes and
# as the server's text)
cdump() { "$HG_BUILDDIR/tests/unit/ctl_slices_dump" "$HG_PG_CONNINFO" "$@"; }
sqldump() {
  psql -XqAt -F'|' -P null='\N' -v ON_ERROR_STOP=1 -c "SELECT floor(extract(epoch FROM ts) * 1000000)::int8,
      encode(float8send(lat), 'hex'), encode(float8send(lon), 'hex'), encode(float4send(speed_kmh), 'hex'),
      encode(float4send(heading), 'hex'), encode(float4send(alt_m), 'hex'), encode(float4send(hdop), 'hex'),
      fix, sats, un, hazard_class, seq, ignition, zone_ids, floor(extract(epoch FROM received_at) * 1000000)::int8,
      alarms, lat, lon, speed_kmh, heading, alt_m, hdop
    FROM hazgate_positions_vehicle('$1', 'epoch'::timestamptz + $2 * interval '1 microsecond',
                                   'epoch'::timestamptz + $3 * interval '1 microsecond') ORDER BY ts"
}

@test "hazgate-ctl's decoder (ctl_slices.c) reads what hazgate_positions_vehicle() reads, bit for bit" {
  q "TRUNCATE positions_recent, positions_slices, rejects"
  gen 0.61 4000 "${DAY0}T22:30:00Z"
  q "SELECT hazgate_ensure_partitions('$DAY0', 4)" >/dev/null
  copy_rows 0 3000
  # an hour whose every field is one value (the *_c columns), and one
  # whose every field but the key and place is NULL
  q "CREATE TEMP TABLE k AS
       SELECT 'V1'::text AS vehicle, '$DAY0 05:00:00+00'::timestamptz + i * interval '10 s' AS ts,
              37.5::float8 AS lat, 112.25::float8 AS lon, 50.5::real AS speed_kmh, 90::real AS heading,
              -3.25::real AS alt_m, 1.5::real AS hdop, 3::smallint AS fix, 9::smallint AS sats, '1203' AS un,
              '2.1' AS hazard_class, 1000 + i AS seq, true AS ignition, '{4,5}'::integer[] AS zone_ids,
              '$DAY0 05:00:01+00'::timestamptz + i * interval '10 s' AS received_at, 7 AS alarms
         FROM generate_series(0, 9) i
       UNION ALL
       SELECT 'V2', '$DAY0 06:00:00.5+00'::timestamptz + i * interval '1 s', 1, 2, NULL, NULL, NULL, NULL,
              NULL, NULL, NULL, NULL, NULL, NULL, '{}', '$DAY0 06:00:00.5+00'::timestamptz + i * interval '1 s', NULL
         FROM generate_series(0, 4) i
       UNION ALL
       SELECT 'V3', '$DAY0 07:00:00+00'::timestamptz + i * interval '10 s', 1, 2,
              (ARRAY['NaN', '-0', '1.25', 'Infinity'])[i + 1]::real, (ARRAY['-Infinity', '1e-7', '3', '3e38'])[i + 1]::real,
              (ARRAY[1.5, -2.25, 0, 10])[i + 1]::real, (ARRAY[100.001, 1, 2, 3])[i + 1]::real, NULL, NULL, NULL, NULL, NULL, NULL, '{}', '$DAY0 07:00:00+00'::timestamptz + i * interval '10 s', NULL
         FROM generate_series(0, 3) i
       UNION ALL
       SELECT 'V0', '$DAY0 08:00:00+00'::timestamptz + i * interval '10 s', 1, 2, NULL, NULL,
              (ARRAY[3e6, 1.5])[i + 1]::real, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{}',
              '$DAY0 08:00:00+00'::timestamptz + i * interval '10 s', NULL
         FROM generate_series(0, 1) i;
     INSERT INTO positions_recent SELECT * FROM k; INSERT INTO want SELECT * FROM k"
  q "SELECT count(hazgate_positions_compact(d)) FROM hazgate_positions_compact_due('$DAY0'::date + 2) d"
  # late fixes: into compacted days (the default partition) and the open one
  copy_rows 3000 4000
  [ "$(q "SELECT count(*) FROM positions_recent_default")" -gt 0 ]
  [ "$(q "SELECT count(*) FROM positions_recent WHERE ts >= '$DAY0'::date + 2")" -gt 0 ]
  # every form of the encoding is there
  local missing=
  for form in dt2 dt4 t8 dla2 dla4 la8 dlo2 dlo4 lo8 sp2 sp4 sp_r sp_c hd2 hd4 hd_r hd_c al2 al4 al_r al_c hp2 \
              hp4 hp_c fixa fix_c satsa sats_c una un_c hca hc_c sqd sq8 igna ign_c zc zf rc4 rc8 ama am_c; do
    [ "$(q "SELECT count(*) FROM positions_slices WHERE $form IS NOT NULL")" -gt 0 ] || missing="$missing $form"
  done
  echo "forms missing:$missing"
  [ -z "$missing" ]
  [ "$(q "SELECT count(*) FROM positions_slices WHERE sp_c IS NULL AND sp2 IS NULL AND sp4 IS NULL AND sp_r IS NULL
                                                    AND seq0 IS NULL AND am_c IS NULL AND ama IS NULL")" -gt 0 ]
  [ "$(q "SELECT count(*) FROM positions_slices WHERE seq0 IS NOT NULL AND sqd IS NULL AND sq8 IS NULL")" -gt 0 ]
  [ "$(q "SELECT count(*) FROM positions_slices WHERE tsu = 1")" -gt 0 ]
  [ "$(q "SELECT count(*) FROM positions_slices WHERE tsu = 1000000")" -gt 0 ]
  [ "$(q "SELECT count(*) FROM positions_slices WHERE llu = 100")" -gt 0 ]
  # each vehicle whole, then random windows (cutting hours, slices and days)
  local lo hi
  lo=$(q "SELECT (extract(epoch FROM '$DAY0'::timestamptz) * 1000000)::int8")
  hi=$((lo + 5 * 86400000000))
  local total=0
  for v in V0 V1 V2 V3; do
    cdump "$v" "$lo" "$hi" > "$BATS_TEST_TMPDIR/c"
    sqldump "$v" "$lo" "$hi" > "$BATS_TEST_TMPDIR/s"
    diff "$BATS_TEST_TMPDIR/s" "$BATS_TEST_TMPDIR/c"
    total=$((total + $(wc -l < "$BATS_TEST_TMPDIR/c")))
  done
  [ "$total" = "$(q "SELECT count(*) FROM want")" ]
  for w in $(q "SELECT 'V' || (k % 4) || ',' || a || ',' || (a + (random() * 40 * 3600e6)::int8)
                  FROM generate_series(1, 30) k,
                       LATERAL (SELECT $lo + (random() * 4 * 86400e6)::int8 + k * 0 AS a) x"); do
    IFS=, read -r v a b <<< "$w"
    cdump "$v" "$a" "$b" > "$BATS_TEST_TMPDIR/c"
    sqldump "$v" "$a" "$b" > "$BATS_TEST_TMPDIR/s"
    diff "$BATS_TEST_TMPDIR/s" "$BATS_TEST_TMPDIR/c"
  done
  # audit --vehicle (this decoder) re-decides what the audit of every
  # vehicle (the SQL decoder) does for that vehicle; from 5 days before,
  # so that its reads of 7 days at a time cut the fixes in two
  local span=(--from "$(q "SELECT to_char('$DAY0'::date - 5, 'YYYY-MM-DD')")T00:00:00Z" --to "$(q "SELECT to_char('$DAY0'::date + 4, 'YYYY-MM-DD')")T00:00:00Z"
              --zones "$HG_SRCDIR/data/zones-taiyuan.geojson" --format json)
  "$HG_BUILDDIR/hazgate-ctl" audit "${span[@]}" 2>/dev/null > "$BATS_TEST_TMPDIR/all"
  for v in V0 V1 V2 V3; do
    "$HG_BUILDDIR/hazgate-ctl" audit "${span[@]}" --vehicle "$v" 2>"$BATS_TEST_TMPDIR/sum" > "$BATS_TEST_TMPDIR/one"
    [ "$(grep -c . "$BATS_TEST_TMPDIR/one")" -gt 0 ]
    # every fix fed once (none lost or doubled where the reads meet)
    grep -q ": $(q "SELECT count(*) FROM want WHERE vehicle = '$v' AND ts >= '$DAY0'::date - 5 AND ts < '$DAY0'::date + 4") fixes," "$BATS_TEST_TMPDIR/sum"
    diff <(jq -c "select(.vehicle == \"$v\")" "$BATS_TEST_TMPDIR/all") <(jq -c . "$BATS_TEST_TMPDIR/one")
  done
  # track and audit --vehicle run on it (their own tests: 42, 43)
  run "$HG_BUILDDIR/hazgate-ctl" track V1 --from "${DAY0}T00:00:00Z" --to "$(q "SELECT to_char('$DAY0'::date + 4, 'YYYY-MM-DD')")T00:00:00Z" --format csv
  [ "$status" -eq 0 ]
  [ "$((${#lines[@]} - 1))" = "$(q "SELECT count(*) FROM want WHERE vehicle = 'V1' AND ts >= '$DAY0' AND ts < '$DAY0'::date + 4")" ]
}

@test "hazgate-ctl writes floats as the server does (float8out, float4out: shortest exact digits)" {
  # random magnitudes, subnormals, k / 10^e, nanodegrees, extremes
  psql -XqAt -F' ' -v ON_ERROR_STOP=1 -c "SELECT 1 FROM (SELECT setseed(0.3)) s WHERE false" -c "
    SELECT '8', encode(float8send(x), 'hex'), x::text FROM (
      SELECT (random() - 0.5) * 10 ^ (random() * 600 - 300) FROM generate_series(1, 20000)
      UNION ALL SELECT (random() - 0.5) * 1e-310 FROM generate_series(1, 500)
      UNION ALL SELECT round((random() - 0.5) * 360e9)::float8 / 1e9 FROM generate_series(1, 5000)
      UNION ALL SELECT round((random() - 0.5) * 2 ^ 53) * 2 ^ (round(random() * 40) - 20) FROM generate_series(1, 5000)
      UNION ALL VALUES (1e15::float8), (1e-5), (1e-4), (123456789012345678), (1.7976931348623157e308),
                       (2.2250738585072014e-308), (4.9e-324), (0.1::float8 + 0.2), ('-0'), ('NaN'), ('Infinity'),
                       ('-Infinity'), (5e-5), (2 ^ 60), (2 ^ 63), (2 ^ -20), (9007199254740993)) v(x)
    UNION ALL
    SELECT '4', encode(float4send(x), 'hex'), x::text FROM (
      SELECT ((0.5 + random()) * 10 ^ (random() * 82 - 44) * sign(random() - 0.5))::real FROM generate_series(1, 20000)
      UNION ALL SELECT (round((random() - 0.5) * 2e6) / 10 ^ round(random() * 3))::real FROM generate_series(1, 5000)
      UNION ALL SELECT ((random() - 0.5) * 2 ^ 24 * 2 ^ (round(random() * 20) - 10))::real FROM generate_series(1, 5000)
      UNION ALL VALUES (1e6::real), (999999), (1234567), (1e-5), (1e-4), (3.4028235e38), (1.4e-45), (1.17549435e-38),
                       ('-0'), ('NaN'), ('Infinity'), (16777217), (0.1), (72.3), (100.001)) v(x)" > "$BATS_TEST_TMPDIR/f"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/f")" -gt 60000 ]
  cut -d' ' -f1,2 "$BATS_TEST_TMPDIR/f" | "$HG_BUILDDIR/tests/unit/ctl_slices_dump" --floats > "$BATS_TEST_TMPDIR/c"
  cut -d' ' -f3 "$BATS_TEST_TMPDIR/f" | diff - "$BATS_TEST_TMPDIR/c"
}

@test "make bench-storage runs at its quick size and prints every figure" {
  run env STORAGE_QUICK=1 bash "$HG_SRCDIR/bench/bench_storage.sh"
  [ "$status" -eq 0 ]
  for k in rows_bytes_per_fix compact_bytes_per_fix bytes_ratio rows_pg_cpu_us_per_fix \
           compact_before_pg_cpu_us_per_fix compact_key_pg_cpu_us_per_fix compact_pg_cpu_us_per_fix cpu_ratio \
           gateway_convert_cpu_us_per_fix track_geojson_vehicle_day_ms audit_vehicle_2_days_ms \
           track_sql_pg_cpu_ms track_c_read_ms audit_c_read_ms \
           chunks_{60,300}_{pg_cpu_us_per_fix,bytes_per_fix,encode_cpu_us_per_fix,held_fixes_max}; do
    printf '%s\n' "${lines[@]}" | grep -Eq "^$k=[0-9]+(\.[0-9]+)?( |\$)"
  done
  # every fix written is in the slices, and the track has the vehicle's fixes
  [[ "$output" != *"warning:"* ]]
  # the compact layout's ingest went in binary, none of its batches as text
  [[ "$output" == *"compact_pg_cpu_us_per_fix="*"(001-017, binary COPY, 0 batches as text;"* ]]
  # the C encoder's compaction beside the SQL function's: the same slices
  [[ "$output" == *"compact_c_pg_cpu_us_per_fix="*"compact_c_ctl_cpu_us_per_fix="*"compact_c_bytes_per_fix="*"the same slices as the SQL function's: yes"* ]]
  [[ "$output" == *"track_geojson_vehicle_day_ms="*"(720 fixes"* ]]
  # hazgate-ctl's own read of the slices: the same fixes
  [[ "$output" == *"track_c_read_ms="*"(fixes=720 "*"backend_cpu_ms="* ]]
  [[ "$output" == *"audit_c_read_ms="*"(fixes=17280 "* ]]
  # option (c), a chunked open tier (bench_chunks): for each window, the
  # fixes the SQL decoder reads from the chunks are those fed, byte for
  # byte, and every log row was deleted
  for w in 60 300; do
    printf '%s\n' "${lines[@]}" | grep -Eq "^chunks_${w}_pg_cpu_us_per_fix=[0-9.]+ ratio_to_rows=[0-9.]+ \(W=$w s, log lz4: [0-9]+ chunks, ([0-9]+) log rows written, \1 deleted, 0 left;.*the same as fed: yes\)\$"
  done
}

# ---- the C encoder (hazgate-ctl compact, schema/019) ---------------------------
# ctl_compact BEFORE [ARGS]: hazgate-ctl compact (the C encoder; --sql: the
# SQL function) of every due day before BEFORE, as a login in
# hazgate_admin (the rights retention runs with)
ctl_compact() {
  "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=t49_adm dbname=$PGDATABASE" \
    compact --before "$@"
}
# same_as_sql DAYS: the slices of the first DAYS days are byte for byte what
# the SQL encoder (hazgate_slices_build, 012) makes of the wanted fixes
same_as_sql() {
  psql -XqAt -v ON_ERROR_STOP=1 <<SQL
BEGIN;
CREATE TEMP TABLE by_c AS SELECT * FROM positions_slices WHERE hour < '$DAY0'::date + $1;
DELETE FROM positions_slices WHERE hour < '$DAY0'::date + $1;
CREATE TEMP TABLE hg_slice_src AS SELECT * FROM want WHERE ts < '$DAY0'::date + $1;
SELECT hazgate_slices_build() > 0 AS built;
SELECT 'differ ' || count(*) FROM (SELECT s::text FROM positions_slices s WHERE hour < '$DAY0'::date + $1
                                   EXCEPT ALL SELECT c::text FROM by_c c) d;
SELECT 'differ ' || count(*) FROM (SELECT c::text FROM by_c c
                                   EXCEPT ALL SELECT s::text FROM positions_slices s WHERE hour < '$DAY0'::date + $1) d;
ROLLBACK;
SQL
}

@test "the C encoder (hazgate-ctl compact, 019): random fixes read back exactly, late ones merged; slices byte for byte the SQL encoder's" {
  q "DO \$\$ BEGIN CREATE ROLE t49_adm LOGIN IN ROLE hazgate_admin; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
  for seed in 0.31 -0.66; do
    q "TRUNCATE positions_recent, positions_slices, rejects"
    gen "$seed" 3000 "${DAY0}T22:30:00Z"
    q "SELECT hazgate_ensure_partitions('$DAY0', 4)" >/dev/null
    copy_rows 0 2000
    n=$(q "SELECT count(*) FROM positions_recent WHERE ts < '$DAY0'::date + 2")
    # FETCHes of 7 rows and a COPY every 2 kB: slices cross both
    HAZGATE_COMPACT_FETCH=7 HAZGATE_COMPACT_FLUSH=2000 run ctl_compact "$(q "SELECT '$DAY0'::date + 2")"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(printf '%s\n' "$output" | awk '/^compacted /{s += $3} END {print s}')" = "$n" ]
    [ "$(q "SELECT count(*) FROM positions_recent WHERE ts < '$DAY0'::date + 2")" = 0 ]
    [ "$(q "SELECT count(*) FROM pg_tables WHERE tablename IN ('positions_recent_${DAY0//-/}')")" = 0 ]
    same
    run same_as_sql 2
    echo "$output"
    [ "$output" = "$(printf 't\ndiffer 0\ndiffer 0')" ]
    # late fixes (some into compacted hours), redeliveries and conflicting
    # values; then the C encoder again merges them into their slices
    copy_rows 2000 3000
    before=$(q "SELECT count(*) FROM rejects")
    q "INSERT INTO positions_recent (vehicle, ts, lat, lon, seq)
       SELECT vehicle, ts, lat + 1e-9, lon, seq FROM want w
        WHERE ts < '$DAY0'::date + 2 AND NOT EXISTS (SELECT 1 FROM positions_recent r WHERE r.vehicle = w.vehicle AND r.ts = w.ts)
          AND hashtext(vehicle || ts) % 7 = 0"
    [ "$(q "SELECT count(*) FROM rejects WHERE reason = 'duplicate_ts'")" -gt "$before" ]
    late=$(q "SELECT count(*) FROM positions_recent WHERE ts < '$DAY0'::date + 2")
    [ "$late" -gt 0 ]
    same
    run ctl_compact "$(q "SELECT '$DAY0'::date + 4")"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(q "SELECT count(*) FROM positions_recent")" = 0 ]
    same
    run same_as_sql 4
    [ "$output" = "$(printf 't\ndiffer 0\ndiffer 0')" ]
    [ "$(q "SELECT count(*) FROM positions_slices WHERE t_first < hour OR t_last >= hour + interval '1 hour' OR t_first > t_last")" = 0 ]
  done
}

@test "the C encoder: a late fix whose key a slice holds with other values goes to rejects at compaction, the slice's copy stays" {
  # (a fix that reaches the default partition past the late trigger, as
  # 012's SQL compaction handles it)
  q "DO \$\$ BEGIN CREATE ROLE t49_adm LOGIN IN ROLE hazgate_admin; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
  q "TRUNCATE positions_recent, positions_slices, rejects"
  q "SELECT hazgate_ensure_partitions('$DAY0', 1)" >/dev/null
  q "INSERT INTO positions_recent (vehicle, ts, lat, lon, seq) VALUES ('V1', '$DAY0 05:00:00+00', 37.5, 112.5, 1),
       ('V1', '$DAY0 05:00:10+00', 37.50001, 112.5, 2)"
  run ctl_compact "$(q "SELECT '$DAY0'::date + 1")"
  [ "$status" -eq 0 ]; [[ "$output" == *"compacted $DAY0: 2 fixes"* ]]
  q "ALTER TABLE positions_recent_default DISABLE TRIGGER positions_late"
  q "INSERT INTO positions_recent (vehicle, ts, lat, lon, seq) VALUES ('V1', '$DAY0 05:00:10+00', 1, 2, 2),
       ('V1', '$DAY0 05:00:20+00', 37.50002, 112.5, 3), ('V1', '$DAY0 05:00:00+00', 37.5, 112.5, 1)"
  q "ALTER TABLE positions_recent_default ENABLE TRIGGER positions_late"
  run ctl_compact "$(q "SELECT '$DAY0'::date + 1")"
  echo "$output"
  [ "$status" -eq 0 ]; [[ "$output" == *"compacted $DAY0: 3 fixes"* ]]
  [ "$(q "SELECT string_agg(lat || ' ' || seq, ',' ORDER BY ts) FROM positions")" = "37.5 1,37.50001 2,37.50002 3" ]
  [ "$(q "SELECT count(*) FROM rejects WHERE reason = 'duplicate_ts'")" = 1 ]
  [ "$(q "SELECT n FROM positions_slices")" = 3 ]
  # hazgate-ctl compact --sql: the SQL function, the same result
  q "INSERT INTO positions (vehicle, ts, lat, lon, seq) VALUES ('V1', '$DAY0 05:00:30+00', 37.50003, 112.5, 4)"
  run ctl_compact "$(q "SELECT '$DAY0'::date + 1")" --sql
  [ "$status" -eq 0 ]; [[ "$output" == *"compacted $DAY0: 1 fixes"* ]]
  [ "$(q "SELECT string_agg(lat || ' ' || seq, ',' ORDER BY ts) FROM positions")" = "37.5 1,37.50001 2,37.50002 3,37.50003 4" ]
  [ "$(q "SELECT n || ' ' || seq0 || ' ' || (sqd IS NULL) FROM positions_slices")" = "4 1 true" ]
  q "TRUNCATE positions_recent, positions_slices, rejects"
  # begin and finish are the admin's: not the gateway's, not a dispatcher's
  q "DO \$\$ BEGIN CREATE ROLE t49_gw2 LOGIN IN ROLE hazgate_gateway, hazgate_dispatcher;
     EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
  for f in begin finish; do
    run psql -XqAt -U t49_gw2 -c "SELECT hazgate_positions_compact_$f('$DAY0')"
    [ "$status" -ne 0 ]; [[ "$output" == *"permission denied"* ]]
  done
  # finish without begin: refused, nothing dropped
  q "INSERT INTO positions_recent (vehicle, ts, lat, lon) VALUES ('V1', '$DAY0 06:00:00+00', 1, 2)"
  run psql -XqAt -U t49_adm -c "SELECT hazgate_positions_compact_finish('$DAY0')"
  [ "$status" -ne 0 ]; [[ "$output" == *"no compaction of $DAY0 under way"* ]]
  [ "$(q "SELECT count(*) FROM positions_recent")" = 1 ]
  # nor with a table of that name the caller made itself (no begin's locks,
  # no count: it would have dropped the day's rows)
  run psql -XqAt -v ON_ERROR_STOP=1 -U t49_adm -c "BEGIN" \
    -c "CREATE TEMP TABLE hg_compact_out (LIKE positions_slices)" \
    -c "SELECT hazgate_positions_compact_finish('$DAY0')" -c "COMMIT"
  [ "$status" -ne 0 ]; [[ "$output" == *"no compaction of $DAY0 under way"* ]]
  [ "$(q "SELECT count(*) FROM positions_recent")" = 1 ]
  # finish with slices that do not hold the day's fixes: refused, nothing changed
  run psql -XqAt -v ON_ERROR_STOP=1 -U t49_adm -c "BEGIN" -c "SELECT hazgate_positions_compact_begin('$DAY0')" \
    -c "SELECT hazgate_positions_compact_finish('$DAY0', 1)" -c "COMMIT"
  [ "$status" -ne 0 ]; [[ "$output" == *"$DAY0 holds 1 fixes in rows and 0 in the new slices, not the 1 read; nothing changed"* ]]
  [ "$(q "SELECT count(*) FROM positions_recent")" = 1 ]
  q "TRUNCATE positions_recent"
}
