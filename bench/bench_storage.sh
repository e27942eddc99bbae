#!/bin/bash
# bench_storage.sh: issue 15's storage figures (make bench-storage), both
# layouts in one run on one private PostgreSQL 15: the row layout of
# migrations 001-009 ("rows") and the compact one of 012 ("compact").
#
# A simulated fleet (bench/storage-gen.awk: STORAGE_VEHICLES tankers,
# STORAGE_HOURS hours, a fix every STORAGE_STEP_S seconds; the issue's
# size, 400 x 24 h x 10 s = 3.46 M fixes, is the default) is written to
# each database as the gateway writes it (bench/bench_copy: COPY of
# STORAGE_BATCH rows a transaction, in arrival order): rows, into
# positions, as COPY text of 16 columns (the gateway of 001-009); compact,
# into positions_recent, as this gateway sends it: its 17 columns in
# PostgreSQL's binary COPY format, converted by the gateway's own code
# (gateway/gw_copybin.c), on every migration (017: the key compares
# bytes); and, to tell the two changes apart, the same rows as COPY text
# into two more databases: migrations 001-016 (the gateway and schema
# before both) and 001-017.
# And, to measure a chunked open tier ("option (c)", schema/README.md),
# bench/bench_chunks writes the same rows in fresh databases as such a
# gateway would (a log row a transaction, a chunk per vehicle and window
# of W seconds, the log rows chunked whole deleted): its backend CPU, bytes,
# encoding CPU and memory per W; the chunks' fixes checked against those
# stored.
# Then the compact one's day is compacted, twice: by hazgate-ctl's C
# encoder (019) in a copy of the database, and by the SQL function
# (hazgate_positions_compact), whose slices must be the same. Printed, per layout: bytes a fix on disk
# (tables, indexes and TOAST of every partition), PostgreSQL backend CPU a
# fix (user + system of the backend, from /proc) for the ingest, and for
# the compaction; the ratios; the gateway's CPU a fix to convert to
# binary (bench_copy's own, in the converter); then, on the compact layout: one vehicle-day
# as GeoJSON (hazgate-ctl track), one vehicle's 30-day audit (hazgate-ctl
# audit; STORAGE_AUDIT_DAYS days of that vehicle are added for it), the
# same two reads as SQL on both layouts (hazgate-ctl's queries before 012,
# and now), hazgate-ctl's read of both now (the slices decoded in C:
# wall time, and the CPU of the backend and of the client), and the audit
# index's plan; the track also over the unix socket, and with
# STORAGE_CTL_BEFORE=PATH against another build of hazgate-ctl (its output
# compared). STORAGE_QUICK=1: a small size for the tests (20
# vehicles, 2 hours, 2 audit days). STORAGE_LOCALE=L: the databases are
# created with locale L (e.g. zh_CN.UTF-8, which must be installed; the
# cluster's default is C.UTF-8), so text keys compare by its collation.
# Never fails on a figure.
set -euo pipefail
SRC=${HG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${HG_BUILDDIR:-$SRC/build}
if [ "${STORAGE_QUICK:-0}" = 1 ]; then
  : "${STORAGE_VEHICLES:=20}" "${STORAGE_HOURS:=2}" "${STORAGE_AUDIT_DAYS:=2}"
fi
VEH=${STORAGE_VEHICLES:-400} HOURS=${STORAGE_HOURS:-24} STEP=${STORAGE_STEP_S:-10}
BATCH=${STORAGE_BATCH:-1000} ADAYS=${STORAGE_AUDIT_DAYS:-30}
START=1793577600                       # 2026-11-02T00:00:00Z
DAY=2026-11-02
CTL=$BUILD/hazgate-ctl

svc=$(mktemp -d /tmp/hg-bench-storage.XXXXXX)
chmod 755 "$svc"
cleanup() { "$SRC/scripts/services-stop" "$svc/svc" >/dev/null 2>&1 || true; rm -rf "$svc"; }
trap cleanup EXIT
eval "$("$SRC/scripts/services-start" --no-mqtt "$svc/svc")"
export PGHOST PGPORT PGUSER PGDATABASE
work=$svc/work
mkdir -p "$work"
chmod 777 "$work"

q() { psql -XqAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
dbopt=
[ -n "${STORAGE_LOCALE:-}" ] && dbopt="TEMPLATE template0 LOCALE '$STORAGE_LOCALE'"
cols="vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un, hazard_class, seq, ignition, zone_ids, received_at"

# The row layout: migrations 001-009 as they were; the compact one: all.
q postgres "CREATE DATABASE hg_rows $dbopt" >/dev/null
q postgres "CREATE DATABASE hg_compact $dbopt" >/dev/null
q hg_rows "CREATE TABLE schema_migrations (version integer PRIMARY KEY)"
for f in "$SRC"/schema/00[1-9]_*.sql; do
  psql -Xq -1 -v ON_ERROR_STOP=1 -d hg_rows -f "$f" >/dev/null
done
PGDATABASE=hg_compact "$CTL" migrate >/dev/null
for db in hg_rows hg_compact; do
  q "$db" "SELECT hazgate_ensure_partitions('$DAY', 1)" >/dev/null
done

gen() {  # gen VEHICLES HOURS START PREFIX
  awk -v vehicles="$1" -v hours="$2" -v step_s="$STEP" -v start="$3" -v prefix="$4" \
    -f "$SRC/bench/storage-gen.awk"
}
# The fixes written as the gateway writes them: a transaction per BATCH
# rows; bench_copy prints the backend's CPU (utime + stime, clock ticks).
feed() {  # feed DB TABLE COLUMNS text|binary < copy text: "rows=... backend_ticks=..."
  PGDATABASE=$1 "$BUILD/bench/bench_copy" "$2" "$3" "$BATCH" "$4"
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<< "$2"; }
ticks() { echo $(( $(cat "$1.1") - $(cat "$1.0") )); }
pgticks() {  # pgticks DB SQL: the CPU of the backend that runs SQL (clock ticks)
  {
    echo "SELECT pg_backend_pid() AS bpid \\gset"; echo "\\setenv BPID :bpid"
    echo "\\! awk '{print \$14 + \$15}' /proc/\$BPID/stat > $work/pgticks.0"
    echo "$2;"
    echo "\\! awk '{print \$14 + \$15}' /proc/\$BPID/stat > $work/pgticks.1"
  } | psql -Xq -o /dev/null -v ON_ERROR_STOP=1 -d "$1" >/dev/null
  ticks "$work/pgticks"
}
hz=$(getconf CLK_TCK)

gen "$VEH" "$HOURS" "$START" B > "$work/fleet.copy"
n=$(wc -l < "$work/fleet.copy")
echo "fixes=$n vehicles=$VEH hours=$HOURS step_s=$STEP batch_rows=$BATCH collation=$(q hg_compact "SELECT datcollate FROM pg_database WHERE datname = current_database()")"

# Ingest, alternated (rows, compact as text, compact as the gateway sends
# it) so that the machine's load hits all three.
awk '{ print $0 "\t\\N" }' "$work/fleet.copy" > "$work/fleet17.copy"   # alarms: none
q postgres "CREATE DATABASE hg_before $dbopt" >/dev/null
q hg_before "CREATE TABLE schema_migrations (version integer PRIMARY KEY)"
for f in "$SRC"/schema/0*.sql; do
  case $(basename "$f") in 01[7-9]_*|0[2-9]*) continue ;; esac
  PGOPTIONS="-c client_min_messages=warning" psql -Xq -1 -v ON_ERROR_STOP=1 -d hg_before -f "$f" >/dev/null
done
q postgres "CREATE DATABASE hg_key $dbopt" >/dev/null
PGDATABASE=hg_key "$CTL" migrate >/dev/null
for db in hg_before hg_key; do
  q "$db" "SELECT hazgate_ensure_partitions('$DAY', 1)" >/dev/null
done
out_rows=$(feed hg_rows positions "$cols" text < "$work/fleet.copy")
out_before=$(feed hg_before positions_recent "$cols, alarms" text < "$work/fleet17.copy")
out_key=$(feed hg_key positions_recent "$cols, alarms" text < "$work/fleet17.copy")
out_bin=$(feed hg_compact positions_recent "$cols, alarms" binary < "$work/fleet17.copy")
q postgres "DROP DATABASE hg_before" >/dev/null
q postgres "DROP DATABASE hg_key" >/dev/null
# Option (c) (schema/README.md "Option (c) measured"): a chunked open
# tier, emulated by bench/bench_chunks on the same fleet, BATCH rows a
# transaction in arrival order: each transaction writes one log row (the
# batch's binary COPY bytes), a chunk of positions_slices' format per
# vehicle and window of W seconds when the vehicle's next window begins,
# and deletes the log rows chunked whole. A fresh database per W
# (STORAGE_CHUNK_W), migrated, and in it the two tables made here, again
# for each storage of the log's column (STORAGE_CHUNK_LOG: lz4 =
# compressed with lz4, external = out of line uncompressed; the quick size
# runs lz4 alone); autovacuum is off on the log, whose VACUUM at the end is
# measured apart. Checked: the fixes the SQL decoder reads
# from the chunks are byte for byte those hg_compact stored (an md5 of
# both in (vehicle, ts) order), and no log row is left.
fixcols="vehicle, ts, float8send(lat), float8send(lon), float4send(speed_kmh), float4send(heading),
  float4send(alt_m), float4send(hdop), fix, sats, un, hazard_class, seq, ignition, zone_ids, received_at, alarms"
fixes_md5() {  # fixes_md5 DB FROM: the md5 of the fixes' bytes in (vehicle, ts) order
  psql -XqAt -v ON_ERROR_STOP=1 -d "$1" \
    -c "COPY (SELECT $fixcols FROM $2 ORDER BY vehicle COLLATE \"C\", ts) TO STDOUT" | md5sum | cut -d' ' -f1
}
fed_md5=$(fixes_md5 hg_compact positions_recent)
chunk_lines= chunk_log="lz4 external"
[ "${STORAGE_QUICK:-0}" = 1 ] && chunk_log=lz4
for cw in ${STORAGE_CHUNK_W:-60 300}; do
  first=1
  q postgres "CREATE DATABASE hg_chunks $dbopt" >/dev/null
  PGDATABASE=hg_chunks "$CTL" migrate >/dev/null
  for lg in ${STORAGE_CHUNK_LOG:-$chunk_log}; do
    case $lg in
      lz4) logopt="SET COMPRESSION lz4" ;;
      external) logopt="SET STORAGE EXTERNAL" ;;
      *) echo "bench_storage.sh: STORAGE_CHUNK_LOG: lz4 or external, not $lg" >&2; exit 2 ;;
    esac
    q hg_chunks "SET client_min_messages = warning; DROP TABLE IF EXISTS positions_chunks, positions_log;
                 CREATE TABLE positions_chunks (LIKE positions_slices INCLUDING COMPRESSION);
                 ALTER TABLE positions_chunks ADD UNIQUE (vehicle, t_first);
                 CREATE TABLE positions_log (id bigint PRIMARY KEY, data bytea)
                   WITH (autovacuum_enabled = off, toast.autovacuum_enabled = off);
                 ALTER TABLE positions_log ALTER COLUMN data $logopt"
    out=$(PGDATABASE=hg_chunks "$BUILD/bench/bench_chunks" "$BATCH" "$cw" < "$work/fleet17.copy")
    size_ch=$(q hg_chunks "SELECT pg_total_relation_size('positions_chunks')")
    size_log=$(q hg_chunks "SELECT pg_total_relation_size('positions_log')")
    t_vac=$(pgticks hg_chunks "VACUUM positions_log")
    size_logv=$(q hg_chunks "SELECT pg_total_relation_size('positions_log')")
    left=$(q hg_chunks "SELECT count(*) FROM positions_log")
    [ "$left" = 0 ] || echo "warning: chunks W=$cw, log $lg: $left log rows left at the end" >&2
    same=no
    [ "$(fixes_md5 hg_chunks "(SELECT f.* FROM positions_chunks c, LATERAL hazgate_slice_fixes(ROW(c.*)::positions_slices) f) x")" = "$fed_md5" ] && same=yes
    [ "$same" = yes ] || echo "warning: chunks W=$cw, log $lg: the fixes decoded from the chunks differ from those fed" >&2
    key=chunks_$cw
    [ "$first" = 1 ] || key=chunks_${cw}_log_$lg
    chunk_lines+=$(awk -v n="$n" -v hz="$hz" -v tr="$(field backend_ticks "$out_rows")" -v tb="$(field backend_ticks "$out_bin")" \
        -v key="$key" -v w="$cw" -v lg="$lg" -v first="$first" -v same="$same" -v left="$left" \
        -v t="$(field backend_ticks "$out")" -v tv="$t_vac" -v ch="$(field chunks "$out")" \
        -v lw="$(field log_rows "$out")" -v ld="$(field log_deleted "$out")" \
        -v sch="$size_ch" -v slog="$size_log" -v slogv="$size_logv" \
        -v enc="$(field encode_cpu_s "$out")" -v conv="$(field convert_cpu_s "$out")" \
        -v hf="$(field held_fixes_max "$out")" -v hb="$(field held_bytes_max "$out")" 'BEGIN {
  us = 1e6 / hz / n
  printf "%s_pg_cpu_us_per_fix=%.2f ratio_to_rows=%.3f (W=%d s, log %s: %d chunks, %d log rows written, %d deleted, %d left; today\047s positions_recent in binary: %.2f, ratio %.3f; + %.2f vacuuming the log = %.2f, ratio %.3f; the fixes decoded from the chunks the same as fed: %s)\n", key, t * us, t / tr, w, lg, ch, lw, ld, left, tb * us, tb / tr, tv * us, (t + tv) * us, (t + tv) / tr, same
  printf "%s_bytes_per_fix=%.1f (positions_chunks %d bytes + positions_log %d right after the ingest; the log %d after its VACUUM)\n", key, (sch + slog) / n, sch, slog, slogv
  if (first) {
    printf "%s_encode_cpu_us_per_fix=%.2f (bench_chunks: the binary fields parsed, grouped per vehicle and window, ctl_cenc_slice: what the gateway would add; the conversion to binary, which it does today: %.2f)\n", key, enc * 1e6 / n, conv * 1e6 / n
    printf "%s_held_fixes_max=%d (fixes held in memory at once; with the batches kept for them: %d bytes)\n", key, hf, hb
  }
}')$'\n'
    first=0
  done
  q postgres "DROP DATABASE hg_chunks" >/dev/null
done
# The same day compacted by hazgate-ctl's C encoder (019), in a copy of the
# database made before: its backend's CPU and its own (HAZGATE_COMPACT_STATS
# prints them), the bytes of its slices; then the SQL function's below.
q postgres "CREATE DATABASE hg_compact_c TEMPLATE hg_compact" >/dev/null
out_cc=$(PGDATABASE=hg_compact_c HAZGATE_COMPACT_STATS=1 "$CTL" compact --before "$(date -u -d "$DAY + 1 day" +%F)")
t_cmp=$(pgticks hg_compact "SELECT hazgate_positions_compact(d) FROM hazgate_positions_compact_due('$DAY'::date + 1) d")
for db in hg_rows hg_compact; do q "$db" "VACUUM ANALYZE" >/dev/null; q "$db" "CHECKPOINT" >/dev/null; done

size_rows=$(q hg_rows "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('positions')")
size_compact=$(q hg_compact "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('positions_slices')")
size_recent=$(q hg_compact "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('positions_recent')")
stored=$(q hg_compact "SELECT sum(n) FROM positions_slices")
[ "$stored" = "$n" ] || echo "warning: $stored fixes in the slices for $n written" >&2
t_rows=$(field backend_ticks "$out_rows") t_before=$(field backend_ticks "$out_before")
t_key=$(field backend_ticks "$out_key")
t_comp=$(field backend_ticks "$out_bin")
conv_s=$(field convert_cpu_s "$out_bin") as_text=$(field batches_as_text "$out_bin")
awk -v n="$n" -v sr="$size_rows" -v sc="$size_compact" -v sre="$size_recent" -v hz="$hz" \
    -v tr="$t_rows" -v tb="$t_before" -v tkey="$t_key" -v tc="$t_comp" -v tk="$t_cmp" -v cs="$conv_s" \
    -v at="$as_text" 'BEGIN {
  us = 1e6 / hz / n
  printf "rows_bytes_per_fix=%.1f (positions, %d bytes)\n", sr / n, sr
  printf "compact_bytes_per_fix=%.1f (positions_slices, %d bytes; positions_recent left: %d bytes) target<=24\n", sc / n, sc, sre
  printf "bytes_ratio=%.3f\n", sc / sr
  printf "rows_pg_cpu_us_per_fix=%.2f (ingest, COPY text)\n", tr * us
  printf "compact_before_pg_cpu_us_per_fix=%.2f (ingest into positions_recent of 001-016, COPY text: before 017 and binary COPY; ratio %.3f)\n", tb * us, tb / tr
  printf "compact_key_pg_cpu_us_per_fix=%.2f (001-017, COPY text: the key alone; ratio %.3f)\n", tkey * us, tkey / tr
  printf "compact_pg_cpu_us_per_fix=%.2f (001-017, binary COPY, %d batches as text; ratio to before %.3f) + %.2f (compaction) = %.2f\n", tc * us, at, tc / tb, tk * us, (tc + tk) * us
  printf "cpu_ratio=%.3f (ingest), %.3f (ingest + compaction) target<=0.333\n", tc / tr, (tc + tk) / tr
  printf "gateway_convert_cpu_us_per_fix=%.2f (gw_copybin: COPY text to binary, the gateway\047s added work)\n", cs * 1e6 / n
}'
printf '%s' "$chunk_lines"
# The C encoder against the SQL function, the same day: slices byte for
# byte the same, the database's CPU and hazgate-ctl's.
q hg_compact_c "VACUUM ANALYZE" >/dev/null
size_cc=$(q hg_compact_c "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('positions_slices')")
slices_md5() { q "$1" "SELECT md5(string_agg(s::text, E'\n' ORDER BY vehicle, hour)) FROM positions_slices s"; }
same_slices=no
[ "$(slices_md5 hg_compact_c)" = "$(slices_md5 hg_compact)" ] && same_slices=yes
[ "$same_slices" = yes ] || echo "warning: the C encoder's slices differ from the SQL function's" >&2
[ "$(q hg_compact_c "SELECT sum(n) FROM positions_slices")" = "$n" ] || echo "warning: the C encoder's slices do not hold the $n fixes written" >&2
q postgres "DROP DATABASE hg_compact_c" >/dev/null
cc_pg=$(awk '/^compact_stats:/ { for (i = 1; i <= NF; i++) if ($i ~ /^backend_cpu_s=/) { sub(/.*=/, "", $i); s += $i } } END { print s + 0 }' <<< "$out_cc")
cc_ctl=$(awk '/^compact_stats:/ { for (i = 1; i <= NF; i++) if ($i ~ /^ctl_cpu_s=/) { sub(/.*=/, "", $i); s += $i } } END { print s + 0 }' <<< "$out_cc")
awk -v n="$n" -v hz="$hz" -v tr="$t_rows" -v tc="$t_comp" -v tk="$t_cmp" -v cpg="$cc_pg" -v cctl="$cc_ctl" \
    -v sz="$size_cc" -v same="$same_slices" 'BEGIN {
  us = 1e6 / hz / n
  printf "compact_c_pg_cpu_us_per_fix=%.2f (the compaction, hazgate-ctl compact: the C encoder, 019; the SQL function: %.2f; ratio %.3f)\n", cpg * 1e6 / n, tk * us, cpg * hz / (tk > 0 ? tk : 1)
  printf "compact_c_ctl_cpu_us_per_fix=%.2f (hazgate-ctl\047s own CPU, encoding)\n", cctl * 1e6 / n
  printf "compact_c_bytes_per_fix=%.1f (positions_slices, %d bytes; the same slices as the SQL function\047s: %s) target<=24\n", sz / n, sz, same
  printf "cpu_ratio_c=%.3f (ingest + the C compaction, backend) target<=0.333\n", (tc * 1e6 / hz / n + cpg * 1e6 / n) / (tr * us)
}'

# Reads on the compact layout: a vehicle-day as GeoJSON, a 30-day audit.
v=B00001
ms() { local a b; a=$(date +%s%N); "$@" > "$work/out" 2>/dev/null; b=$(date +%s%N); echo $(( (b - a) / 1000000 )); }
best() { local m=999999 t; for _ in 1 2 3; do t=$(ms "$@"); [ "$t" -lt "$m" ] && m=$t; done; echo "$m"; }
export PGDATABASE=hg_compact
t=$(best "$CTL" track "$v" --from "${DAY}T00:00:00Z" --to "$(date -u -d "$DAY + 1 day" +%F)T00:00:00Z" --format geojson)
echo "track_geojson_vehicle_day_ms=$t ($(jq '.properties.points' "$work/out") fixes, hazgate-ctl track, best of 3, process start included) target<=50"
trk=(track "$v" --from "${DAY}T00:00:00Z" --to "$(date -u -d "$DAY + 1 day" +%F)T00:00:00Z" --format geojson)
cp "$work/out" "$work/track.geojson"
# The same over the unix socket (a deployment's choice: no TCP, no SSL
# request), and, with STORAGE_CTL_BEFORE=PATH, another build of
# hazgate-ctl (an earlier commit's) alternated with this one, its output
# compared byte for byte.
t=$(PGHOST=$svc/svc/pg best "$CTL" "${trk[@]}")
echo "track_geojson_vehicle_day_unix_ms=$t (the same over the unix socket, best of 3)"
if [ -n "${STORAGE_CTL_BEFORE:-}" ]; then
  bm=999999 am=999999
  for _ in 1 2 3 4 5; do
    t=$(ms "$STORAGE_CTL_BEFORE" "${trk[@]}"); [ "$t" -lt "$bm" ] && bm=$t
    t=$(ms "$CTL" "${trk[@]}"); [ "$t" -lt "$am" ] && am=$t
  done
  "$STORAGE_CTL_BEFORE" "${trk[@]}" > "$work/track-before.geojson" 2>/dev/null
  same=no; cmp -s "$work/track.geojson" "$work/track-before.geojson" && same=yes
  echo "track_geojson_vehicle_day_before_ms=$bm (STORAGE_CTL_BEFORE; this build alternated with it: $am; best of 5 each; the same bytes: $same)"
fi

# One vehicle's ADAYS days before the fleet's day, compacted, then audited.
astart=$(( START - ADAYS * 86400 ))
q hg_compact "SELECT hazgate_ensure_partitions('$DAY'::date - $ADAYS, $ADAYS)" >/dev/null
gen 1 $(( ADAYS * 24 )) "$astart" A > "$work/audit.copy"
psql -Xq -v ON_ERROR_STOP=1 -d hg_compact -c "COPY positions_recent ($cols) FROM STDIN" < "$work/audit.copy" >/dev/null
q hg_compact "SELECT count(hazgate_positions_compact(d)) FROM hazgate_positions_compact_due('$DAY') d" >/dev/null
q hg_compact "VACUUM ANALYZE" >/dev/null
q hg_rows "SELECT hazgate_ensure_partitions('$DAY'::date - $ADAYS, $ADAYS)" >/dev/null
psql -Xq -v ON_ERROR_STOP=1 -d hg_rows -c "COPY positions ($cols) FROM STDIN" < "$work/audit.copy" >/dev/null
q hg_rows "VACUUM ANALYZE" >/dev/null
"$CTL" zones import "$SRC/data/zones-taiyuan.geojson" >/dev/null
afrom=$(date -u -d "@$astart" +%FT%TZ) ato=$(date -u -d "@$START" +%FT%TZ)
t=$(best "$CTL" audit --vehicle A00001 --from "$afrom" --to "$ato" --format csv)
echo "audit_vehicle_${ADAYS}_days_ms=$t ($(q hg_compact "SELECT count(*) FROM hazgate_positions('A00001', '$afrom', '$ato')") fixes, hazgate-ctl audit, best of 3) target<=1000"
# The same reads as SQL on both layouts, in this run (the load hits both):
# hazgate-ctl's queries before 012 on the table, and now.
sqlms() {  # sqlms DB SQL: best of 3, ms, rows to /dev/null
  local m=999999 t
  for _ in 1 2 3; do
    t=$(psql -XqAt -o /dev/null -d "$1" -c '\timing on' -c "$2" | sed -n 's/^Time: \([0-9]*\).*/\1/p')
    [ "$t" -lt "$m" ] && m=$t
  done
  echo "$m"
}
sqlcpu() {  # sqlcpu DB SQL: the backend's CPU ms a run, 3 runs in one session
  echo $(( ($(pgticks "$1" "$2; $2; $2") * 1000 / hz) / 3 ))
}
dayto=$(date -u -d "$DAY + 1 day" +%F)
trk="floor(extract(epoch FROM ts) * 1000000)::int8, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un, hazard_class, array_to_json(zone_ids)"
aud="vehicle, floor(extract(epoch FROM ts) * 1000000)::int8, lat, lon, speed_kmh, hazard_class"
r=$(sqlms hg_rows "SELECT $trk FROM positions WHERE vehicle = '$v' AND ts >= '$DAY' AND ts < '$dayto' ORDER BY ts")
c=$(sqlms hg_compact "SELECT $trk FROM hazgate_positions('$v', '$DAY', '$dayto') ORDER BY ts")
echo "track_sql_ms=$c (compact; rows: $r; a vehicle-day, best of 3)"
r=$(sqlms hg_rows "SELECT $aud FROM positions WHERE ts >= '$afrom' AND ts < '$ato' AND vehicle = 'A00001' ORDER BY ts, vehicle")
c=$(sqlms hg_compact "SELECT $aud FROM hazgate_positions('A00001', '$afrom', '$ato') ORDER BY ts, vehicle")
echo "audit_sql_ms=$c (compact; rows: $r; ${ADAYS} days of one vehicle, best of 3)"
r=$(sqlcpu hg_rows "SELECT $aud FROM positions WHERE ts >= '$afrom' AND ts < '$ato' AND vehicle = 'A00001' ORDER BY ts, vehicle")
c=$(sqlcpu hg_compact "SELECT $aud FROM hazgate_positions('A00001', '$afrom', '$ato') ORDER BY ts, vehicle")
echo "audit_sql_pg_cpu_ms=$c (compact; rows: $r; the backend's CPU a run, load-independent)"
c=$(sqlcpu hg_compact "SELECT $trk FROM hazgate_positions('$v', '$DAY', '$dayto') ORDER BY ts")
echo "track_sql_pg_cpu_ms=$c (compact, the SQL decoder; a vehicle-day, the backend's CPU a run)"
# hazgate-ctl's read now (ctl/ctl_slices.c: the tables with binary results,
# the slices decoded in C), in this run beside the SQL above: the track's
# read and its GeoJSON (to /dev/null), the audit's read, each 5 times on one connection
# (tests/unit/ctl_slices_dump --bench; the process's start not included)
dump=$BUILD/tests/unit/ctl_slices_dump
[ -x "$dump" ] || make -s -C "$BUILD" tests/unit/ctl_slices_dump >/dev/null
us() { echo $(( $(date -u -d "$1" +%s) * 1000000 )); }
out=$("$dump" --bench track 5 "$HG_PG_CONNINFO dbname=hg_compact" "$v" "$(us "${DAY}T00:00:00Z")" "$(us "${dayto}T00:00:00Z")")
echo "track_c_read_ms=$(sed -n 's/.*wall_ms=\([0-9.]*\).*/\1/p' <<< "$out") ($out; a vehicle-day, best of 5) SQL's: track_sql_ms, track_sql_pg_cpu_ms"
out=$("$dump" --bench audit 5 "$HG_PG_CONNINFO dbname=hg_compact" A00001 "$(us "$afrom")" "$(us "$ato")")
echo "audit_c_read_ms=$(sed -n 's/.*wall_ms=\([0-9.]*\).*/\1/p' <<< "$out") ($out; ${ADAYS} days of one vehicle, best of 5) SQL's: audit_sql_ms, audit_sql_pg_cpu_ms"
echo "load_average=$(cut -d' ' -f1-3 /proc/loadavg) cores=$(nproc)"
echo "audit_index_plan: one index probe, then the slices it needs:"
q hg_compact "EXPLAIN (COSTS OFF) SELECT * FROM hazgate_positions('B00001', '${DAY}T10:00:00Z', '${DAY}T11:30:00Z')" | sed 's/^/  /'
