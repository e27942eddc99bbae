-- 012_compact_positions: closed days of positions kept as compact slices
-- (issue 15). schema/README.md says why this layout, with the figures.
--
-- Two tiers, read as one through the view `positions`:
--   positions_recent  the row table of before (renamed, still partitioned by
--                     day, primary key (vehicle, ts)): what the gateway
--                     writes. Its partitions are positions_recent_YYYYMMDD.
--   positions_slices  one row per vehicle and UTC hour of a closed day, the
--                     hour's fixes as delta-coded arrays (int2 where they
--                     fit), decoded by PostgreSQL itself (unnest, a running
--                     sum); partitioned by day (positions_slices_YYYYMMDD).
-- hazgate_positions_compact(day) moves a day from the first to the second
-- (hazgate-ctl compact runs it for each closed day). Every value is kept
-- exactly: the encoder chooses per slice and field a form that decodes to
-- the same value (bit for bit), else keeps the raw value.

SET LOCAL TimeZone = 'UTC';

-- 011 adds it (zones for past periods); here too if 011 is not there yet.
ALTER TABLE positions ADD COLUMN IF NOT EXISTS alarms integer;

-- ---- the row tier ------------------------------------------------------------
ALTER TABLE positions RENAME TO positions_recent;
ALTER TABLE positions_default RENAME TO positions_recent_default;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'positions_recent'::regclass
                AND c.relname ~ '^positions_[0-9]{8}$' LOOP
        EXECUTE format('ALTER TABLE %I RENAME TO %I', r.relname,
                       'positions_recent_' || substr(r.relname, 11));
    END LOOP;
END
$$;

-- ---- the slices --------------------------------------------------------------
-- Arrays hold one element per fix, in ts order. A field is either one value
-- for the whole slice (the *_c column, its arrays NULL) or an array. Numbers:
--   ts        hour + running sum of dt (in tsu microseconds); t8: offsets in
--             microseconds where a step does not fit int4.
--   lat, lon  (lat0 + running sum of dla * llu) nanodegrees / 1e9: llu is the
--             largest power of ten dividing every value (1e-7 degree data:
--             llu 100); la8/lo8: nanodegrees, where a step does not fit int4.
--   reals     (speed, heading, alt, hdop) k / 10^e as real, e the smallest
--             0..3 that gives every value back; *_r: the reals themselves.
--   seq       seq0 + (i - 1) + sqd (sqd NULL: a counter without gaps);
--             sq8: the values, where sqd does not fit int4.
--   zone_ids  zc when every fix has the same; else zn (how many) and zf (the
--             ids, one after another).
--   received_at  ts + rc microseconds.
-- The arrays are TOAST-compressed with lz4 (smaller and faster to decode
-- than pglz here: schema/README.md).
CREATE TABLE positions_slices (
    vehicle   text NOT NULL,
    hour      timestamptz NOT NULL,
    n         integer NOT NULL,
    t_first   timestamptz NOT NULL,
    t_last    timestamptz NOT NULL,
    tsu       integer NOT NULL,
    dt2 smallint[], dt4 integer[], t8 bigint[],
    llu       bigint NOT NULL,
    lat0      bigint NOT NULL,
    lon0      bigint NOT NULL,
    dla2 smallint[], dla4 integer[], la8 bigint[],
    dlo2 smallint[], dlo4 integer[], lo8 bigint[],
    sp_e smallint, sp2 smallint[], sp4 integer[], sp_r real[], sp_c real,
    hd_e smallint, hd2 smallint[], hd4 integer[], hd_r real[], hd_c real,
    al_e smallint, al2 smallint[], al4 integer[], al_r real[], al_c real,
    hp_e smallint, hp2 smallint[], hp4 integer[], hp_r real[], hp_c real,
    fix_c smallint, fixa smallint[],
    sats_c smallint, satsa smallint[],
    un_c text, una text[],
    hc_c text, hca text[],
    seq0 bigint, sqd integer[], sq8 bigint[],
    ign_c boolean, igna boolean[],
    zc integer[], zn smallint[], zf integer[],
    rc4 integer[], rc8 bigint[],
    am_c integer, ama integer[],
    PRIMARY KEY (vehicle, hour)
) PARTITION BY RANGE (hour);
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT a.attname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
              WHERE a.attrelid = 'positions_slices'::regclass AND a.attnum > 0
                AND t.typcategory = 'A' LOOP
        EXECUTE format('ALTER TABLE positions_slices ALTER COLUMN %I SET COMPRESSION lz4',
                       c.attname);
    END LOOP;
END
$$;

-- k / 10^e as the real the encoder checked it gives back.
CREATE FUNCTION hazgate_dec_real(e smallint, k integer) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (k::float8 / (10::float8 ^ e))::real $$;

-- The fixes of one slice, as rows of positions (ts order).
CREATE FUNCTION hazgate_slice_fixes(s positions_slices)
RETURNS TABLE (vehicle text, ts timestamptz, lat double precision, lon double precision,
               speed_kmh real, heading real, alt_m real, hdop real, fix smallint,
               sats smallint, un text, hazard_class text, seq bigint, ignition boolean,
               zone_ids integer[], received_at timestamptz, alarms integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT s.vehicle, x.ts,
           coalesce(s.lat0 + c.la * s.llu, c.la8)::float8 / 1e9,
           coalesce(s.lon0 + c.lo * s.llu, c.lo8)::float8 / 1e9,
           coalesce(hazgate_dec_real(s.sp_e, c.sp), c.sp_r, s.sp_c),
           coalesce(hazgate_dec_real(s.hd_e, c.hd), c.hd_r, s.hd_c),
           coalesce(hazgate_dec_real(s.al_e, c.al), c.al_r, s.al_c),
           coalesce(hazgate_dec_real(s.hp_e, c.hp), c.hp_r, s.hp_c),
           coalesce(c.fx, s.fix_c), coalesce(c.sa, s.sats_c),
           coalesce(c.un, s.un_c), coalesce(c.hc, s.hc_c),
           coalesce(c.sq8, s.seq0 + (c.i - 1) + CASE WHEN s.sqd IS NULL THEN 0 ELSE c.sqd END),
           coalesce(c.ig, s.ign_c),
           coalesce(s.zc, s.zf[(c.zs - c.zn + 1)::integer : c.zs::integer], '{}'),
           x.ts + coalesce(c.rc4, c.rc8) * interval '1 microsecond',
           coalesce(c.am, s.am_c)
      FROM (SELECT u.*, sum(u.dt) OVER w AS t, sum(u.dla) OVER w AS la,
                   sum(u.dlo) OVER w AS lo, sum(u.zn) OVER w AS zs
              FROM unnest(coalesce(s.dt2::integer[], s.dt4), s.t8,
                          coalesce(s.dla2::integer[], s.dla4), s.la8,
                          coalesce(s.dlo2::integer[], s.dlo4), s.lo8,
                          coalesce(s.sp2::integer[], s.sp4), s.sp_r,
                          coalesce(s.hd2::integer[], s.hd4), s.hd_r,
                          coalesce(s.al2::integer[], s.al4), s.al_r,
                          coalesce(s.hp2::integer[], s.hp4), s.hp_r,
                          s.fixa, s.satsa, s.una, s.hca, s.sqd, s.sq8, s.igna, s.zn,
                          s.rc4, s.rc8, s.ama)
                   WITH ORDINALITY AS u(dt, t8, dla, la8, dlo, lo8, sp, sp_r, hd, hd_r, al,
                                        al_r, hp, hp_r, fx, sa, un, hc, sqd, sq8, ig, zn,
                                        rc4, rc8, am, i)
            WINDOW w AS (ORDER BY u.i)) c,
           LATERAL (SELECT s.hour + coalesce(c.t * s.tsu, c.t8)::float8
                           * interval '1 microsecond' AS ts) x
$$;

-- Every stored fix, as the table was before: plain SQL keeps working. A
-- query by vehicle and time should use hazgate_positions() (below), which
-- reads only the slices it needs; this view decodes every slice it sees.
CREATE VIEW positions AS
    SELECT vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un,
           hazard_class, seq, ignition, zone_ids, received_at, alarms
      FROM positions_recent
    UNION ALL
    SELECT f.* FROM positions_slices s, LATERAL hazgate_slice_fixes(s) f;

-- The audit index: the fixes of one vehicle (NULL: every vehicle) with
-- p_from <= ts < p_to, from the row tier by its primary key and from the
-- slices of the hours that overlap (one index probe, then those slices).
-- Unordered: callers say ORDER BY.
CREATE FUNCTION hazgate_positions(p_vehicle text, p_from timestamptz, p_to timestamptz)
RETURNS SETOF positions
LANGUAGE sql STABLE AS $$
    SELECT r.vehicle, r.ts, r.lat, r.lon, r.speed_kmh, r.heading, r.alt_m, r.hdop, r.fix,
           r.sats, r.un, r.hazard_class, r.seq, r.ignition, r.zone_ids, r.received_at,
           r.alarms
      FROM positions_recent r
     WHERE (p_vehicle IS NULL OR r.vehicle = p_vehicle) AND r.ts >= p_from AND r.ts < p_to
    UNION ALL
    SELECT f.*
      FROM positions_slices s, LATERAL hazgate_slice_fixes(s) f
     WHERE (p_vehicle IS NULL OR s.vehicle = p_vehicle)
       AND s.hour > p_from - interval '1 hour' AND s.hour < p_to
       AND s.t_last >= p_from AND s.t_first < p_to
       AND (s.t_first >= p_from AND s.t_last < p_to OR f.ts >= p_from AND f.ts < p_to)
$$;

-- The latest stored fix of a vehicle (no row: none).
CREATE FUNCTION hazgate_positions_last(p_vehicle text)
RETURNS SETOF positions
LANGUAGE sql STABLE AS $$
    SELECT * FROM (
        (SELECT r.vehicle, r.ts, r.lat, r.lon, r.speed_kmh, r.heading, r.alt_m, r.hdop,
                r.fix, r.sats, r.un, r.hazard_class, r.seq, r.ignition, r.zone_ids,
                r.received_at, r.alarms
           FROM positions_recent r WHERE r.vehicle = p_vehicle ORDER BY r.ts DESC LIMIT 1)
        UNION ALL
        (SELECT f.* FROM (SELECT * FROM positions_slices s WHERE s.vehicle = p_vehicle
                           ORDER BY s.hour DESC LIMIT 1) s,
                LATERAL hazgate_slice_fixes(s) f
          ORDER BY f.ts DESC LIMIT 1)) b
     ORDER BY ts DESC LIMIT 1
$$;

-- ---- the encoder -----------------------------------------------------------------
-- How many of the last decimal digits of x are zeros (0..9).
CREATE FUNCTION hazgate_tz10(x bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN x % 1000000000 = 0 THEN 9 WHEN x % 100000000 = 0 THEN 8
                WHEN x % 10000000 = 0 THEN 7 WHEN x % 1000000 = 0 THEN 6
                WHEN x % 100000 = 0 THEN 5 WHEN x % 10000 = 0 THEN 4
                WHEN x % 1000 = 0 THEN 3 WHEN x % 100 = 0 THEN 2
                WHEN x % 10 = 0 THEN 1 ELSE 0 END
$$;

-- The smallest e in 0..3 with which v comes back bit for bit from
-- round(v * 10^e) (hazgate_dec_real): then it does with any larger e too.
-- 99: none (NaN, infinite, -0, over 2e6, more digits); 0 for NULL.
CREATE FUNCTION hazgate_enc_e(v real) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v IS NULL THEN 0
                WHEN NOT (abs(v) < 2e6) OR float4send(v) = float4send('-0'::real) THEN 99
                WHEN float4send(round(v::float8)::real) = float4send(v) THEN 0
                WHEN float4send((round(v::float8 * 10) / 10)::real) = float4send(v) THEN 1
                WHEN float4send((round(v::float8 * 100) / 100)::real) = float4send(v) THEN 2
                WHEN float4send((round(v::float8 * 1000) / 1000)::real) = float4send(v) THEN 3
                ELSE 99 END
$$;

-- One real field of a slice, as the slice's columns *_e, *2, *4, *_r, *_c:
-- k, every value the same (then v[1] is kept); code, the exponent e of
-- hazgate_enc_e (plus 10: integers, not smallints; NULL: the reals as they
-- are); v, the values in ts order.
CREATE FUNCTION hazgate_enc_real(k boolean, code integer, v real[],
                                 OUT e smallint, OUT a2 smallint[], OUT a4 integer[],
                                 OUT r real[], OUT c real)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN NOT k THEN (code % 10)::smallint END,
           CASE WHEN NOT k AND code < 10 THEN
               (SELECT array_agg(round(x::float8 * 10::float8 ^ code)::smallint ORDER BY o)
                  FROM unnest(v) WITH ORDINALITY u(x, o)) END,
           CASE WHEN NOT k AND code >= 10 THEN
               (SELECT array_agg(round(x::float8 * 10::float8 ^ (code - 10))::integer ORDER BY o)
                  FROM unnest(v) WITH ORDINALITY u(x, o)) END,
           CASE WHEN NOT k AND code IS NULL THEN v END,
           CASE WHEN k THEN v[1] END
$$;

-- Builds the slices of the fixes in the temporary table hg_slice_src (one
-- row per (vehicle, ts), the columns of positions) and inserts them; the
-- caller has removed the slices they replace. Returns the slices made.
-- The arrays are aggregated in the order of their input, which the window
-- w sorts by (vehicle, hour, ts) (no sort per aggregate: 40 of them).
CREATE FUNCTION hazgate_slices_build() RETURNS bigint
LANGUAGE plpgsql SET search_path = public, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    made bigint;
BEGIN
    WITH f AS (
        SELECT s.*, h.hour, row_number() OVER w AS i,
               k.o - coalesce(lag(k.o) OVER w, 0) AS dtus, k.o,
               k.la, k.lo,
               k.la - lag(k.la, 1, k.la) OVER w AS dla,
               k.lo - lag(k.lo, 1, k.lo) OVER w AS dlo,
               least(hazgate_tz10(k.la), hazgate_tz10(k.lo)) AS tz,
               s.seq - first_value(s.seq) OVER w - (row_number() OVER w - 1) AS sqdev,
               k.rcus,
               -- the same as the slice's first fix (reals: bit for bit)
               float4send(s.speed_kmh) IS NOT DISTINCT FROM
                   float4send(first_value(s.speed_kmh) OVER w) AS sp_same,
               float4send(s.heading) IS NOT DISTINCT FROM
                   float4send(first_value(s.heading) OVER w) AS hd_same,
               float4send(s.alt_m) IS NOT DISTINCT FROM
                   float4send(first_value(s.alt_m) OVER w) AS al_same,
               float4send(s.hdop) IS NOT DISTINCT FROM
                   float4send(first_value(s.hdop) OVER w) AS hp_same,
               s.fix IS NOT DISTINCT FROM first_value(s.fix) OVER w AS fix_same,
               s.sats IS NOT DISTINCT FROM first_value(s.sats) OVER w AS sats_same,
               s.un IS NOT DISTINCT FROM first_value(s.un) OVER w AS un_same,
               s.hazard_class IS NOT DISTINCT FROM first_value(s.hazard_class) OVER w AS hc_same,
               s.ignition IS NOT DISTINCT FROM first_value(s.ignition) OVER w AS ign_same,
               s.alarms IS NOT DISTINCT FROM first_value(s.alarms) OVER w AS am_same,
               s.zone_ids = first_value(s.zone_ids) OVER w AS z_same
          FROM hg_slice_src s,
               LATERAL (SELECT date_trunc('hour', s.ts) AS hour) h,
               LATERAL (SELECT round(date_part('epoch', s.ts - h.hour) * 1e6::float8)::bigint AS o,
                               round(s.lat * 1e9::float8)::bigint AS la,
                               round(s.lon * 1e9::float8)::bigint AS lo,
                               round(date_part('epoch', s.received_at - s.ts) * 1e6::float8)::bigint
                                   AS rcus) k
        WINDOW w AS (PARTITION BY s.vehicle, h.hour ORDER BY s.ts)),
    -- What each slice can use (units, exponents, widths, constants), on
    -- each of its rows, in the same order.
    g AS (
        SELECT f.*,
               CASE WHEN bool_and(dtus % 1000000 = 0) OVER p THEN 1000000
                    WHEN bool_and(dtus % 1000 = 0) OVER p THEN 1000 ELSE 1 END AS tsu,
               max(abs(dtus)) OVER p AS dtmax, 10::bigint ^ min(tz) OVER p AS llu,
               max(greatest(abs(dla), abs(dlo))) OVER p AS dlmax,
               max(hazgate_enc_e(speed_kmh)) OVER p AS sp_e,
               max(hazgate_enc_e(heading)) OVER p AS hd_e,
               max(hazgate_enc_e(alt_m)) OVER p AS al_e,
               max(hazgate_enc_e(hdop)) OVER p AS hp_e,
               max(abs(speed_kmh)) OVER p AS sp_m, max(abs(heading)) OVER p AS hd_m,
               max(abs(alt_m)) OVER p AS al_m, max(abs(hdop)) OVER p AS hp_m,
               bool_and(sp_same) OVER p AS sp_k, bool_and(hd_same) OVER p AS hd_k,
               bool_and(al_same) OVER p AS al_k, bool_and(hp_same) OVER p AS hp_k,
               bool_and(fix_same) OVER p AS fix_k, bool_and(sats_same) OVER p AS sats_k,
               bool_and(un_same) OVER p AS un_k, bool_and(hc_same) OVER p AS hc_k,
               bool_and(ign_same) OVER p AS ign_k, bool_and(am_same) OVER p AS am_k,
               bool_and(z_same) OVER p AS z_k,
               bool_and(seq IS NULL) OVER p AS seq_none,
               bool_and(seq IS NOT NULL) OVER p AND coalesce(max(abs(sqdev)) OVER p, 0)
                   <= 2147483647 AS seq_dev,
               coalesce(bool_and(sqdev = 0) OVER p, false) AS seq_lin,
               max(abs(rcus)) OVER p <= 2147483647 AS rc_4
          FROM f WINDOW p AS (PARTITION BY vehicle, hour)),
    e AS (
        SELECT g.*,
               CASE WHEN dtmax / tsu <= 32767 THEN 2 WHEN dtmax / tsu <= 2147483647 THEN 4
                    ELSE 8 END AS dtw,
               CASE WHEN dlmax / llu <= 32767 THEN 2 WHEN dlmax / llu <= 2147483647 THEN 4
                    ELSE 8 END AS dlw,
               CASE WHEN sp_e > 3 THEN NULL WHEN sp_m * 10 ^ sp_e <= 32767 THEN sp_e
                    ELSE sp_e + 10 END AS sp_c,
               CASE WHEN hd_e > 3 THEN NULL WHEN hd_m * 10 ^ hd_e <= 32767 THEN hd_e
                    ELSE hd_e + 10 END AS hd_c,
               CASE WHEN al_e > 3 THEN NULL WHEN al_m * 10 ^ al_e <= 32767 THEN al_e
                    ELSE al_e + 10 END AS al_c,
               CASE WHEN hp_e > 3 THEN NULL WHEN hp_m * 10 ^ hp_e <= 32767 THEN hp_e
                    ELSE hp_e + 10 END AS hp_c
          FROM g)
    INSERT INTO positions_slices
    SELECT a.vehicle, a.hour, a.n, a.t_first, a.t_last, a.tsu, a.dt2, a.dt4, a.t8, a.llu, a.lat0,
           a.lon0, a.dla2, a.dla4, a.la8, a.dlo2, a.dlo4, a.lo8, sp.*, hd.*, al.*, hp.*,
           a.fix_c, a.fixa, a.sats_c, a.satsa, a.un_c, a.una, a.hc_c, a.hca, a.seq0, a.sqd,
           a.sq8, a.ign_c, a.igna, a.zc, a.zn, a.zf, a.rc4, a.rc8, a.am_c, a.ama
      FROM (SELECT e.vehicle, e.hour, count(*) AS n, min(e.ts) AS t_first, max(e.ts) AS t_last,
           min(e.tsu) AS tsu,
           array_agg((e.dtus / e.tsu)::smallint) FILTER (WHERE e.dtw = 2) AS dt2,
           array_agg((e.dtus / e.tsu)::integer) FILTER (WHERE e.dtw = 4) AS dt4,
           array_agg(e.o) FILTER (WHERE e.dtw = 8) AS t8,
           min(e.llu) AS llu, min(e.la) FILTER (WHERE e.i = 1) AS lat0,
           min(e.lo) FILTER (WHERE e.i = 1) AS lon0,
           array_agg((e.dla / e.llu)::smallint) FILTER (WHERE e.dlw = 2) AS dla2,
           array_agg((e.dla / e.llu)::integer) FILTER (WHERE e.dlw = 4) AS dla4,
           array_agg(e.la) FILTER (WHERE e.dlw = 8) AS la8,
           array_agg((e.dlo / e.llu)::smallint) FILTER (WHERE e.dlw = 2) AS dlo2,
           array_agg((e.dlo / e.llu)::integer) FILTER (WHERE e.dlw = 4) AS dlo4,
           array_agg(e.lo) FILTER (WHERE e.dlw = 8) AS lo8,
           bool_and(e.sp_k) AS sp_k, min(e.sp_c) AS sp_c, array_agg(e.speed_kmh) AS sp_v,
           bool_and(e.hd_k) AS hd_k, min(e.hd_c) AS hd_c, array_agg(e.heading) AS hd_v,
           bool_and(e.al_k) AS al_k, min(e.al_c) AS al_c, array_agg(e.alt_m) AS al_v,
           bool_and(e.hp_k) AS hp_k, min(e.hp_c) AS hp_c, array_agg(e.hdop) AS hp_v,
           min(e.fix) FILTER (WHERE e.fix_k) AS fix_c,
           array_agg(e.fix) FILTER (WHERE NOT e.fix_k) AS fixa,
           min(e.sats) FILTER (WHERE e.sats_k) AS sats_c,
           array_agg(e.sats) FILTER (WHERE NOT e.sats_k) AS satsa,
           min(e.un) FILTER (WHERE e.un_k) AS un_c, array_agg(e.un) FILTER (WHERE NOT e.un_k) AS una,
           min(e.hazard_class) FILTER (WHERE e.hc_k) AS hc_c,
           array_agg(e.hazard_class) FILTER (WHERE NOT e.hc_k) AS hca,
           min(e.seq) FILTER (WHERE e.seq_dev AND e.i = 1) AS seq0,
           array_agg(e.sqdev::integer) FILTER (WHERE e.seq_dev AND NOT e.seq_lin) AS sqd,
           array_agg(e.seq) FILTER (WHERE NOT e.seq_none AND NOT e.seq_dev) AS sq8,
           bool_or(e.ignition) FILTER (WHERE e.ign_k) AS ign_c,
           array_agg(e.ignition) FILTER (WHERE NOT e.ign_k) AS igna,
           min(e.zone_ids) FILTER (WHERE e.z_k) AS zc,
           array_agg(cardinality(e.zone_ids)::smallint) FILTER (WHERE NOT e.z_k) AS zn,
           string_to_array(string_agg(nullif(array_to_string(e.zone_ids, ','), ''), ',')
                           FILTER (WHERE NOT e.z_k), ',')::integer[] AS zf,
           array_agg(e.rcus::integer) FILTER (WHERE e.rc_4) AS rc4,
           array_agg(e.rcus) FILTER (WHERE NOT e.rc_4) AS rc8,
           min(e.alarms) FILTER (WHERE e.am_k) AS am_c,
           array_agg(e.alarms) FILTER (WHERE NOT e.am_k) AS ama
      FROM e
     GROUP BY e.vehicle, e.hour) a,
    LATERAL hazgate_enc_real(a.sp_k, a.sp_c, a.sp_v) sp,
    LATERAL hazgate_enc_real(a.hd_k, a.hd_c, a.hd_v) hd,
    LATERAL hazgate_enc_real(a.al_k, a.al_c, a.al_v) al,
    LATERAL hazgate_enc_real(a.hp_k, a.hp_c, a.hp_v) hp;
    GET DIAGNOSTICS made = ROW_COUNT;
    RETURN made;
END
$$;

-- ---- a day from rows to slices ------------------------------------------------------
-- The values a duplicate check compares (not the zones a fix was found in,
-- nor when it was received): as the gateway's (gateway/gw_writer.c).
CREATE FUNCTION hazgate_fix_same(a positions, b positions) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (a.lat, a.lon, a.speed_kmh, a.heading, a.alt_m, a.hdop, a.fix, a.sats, a.un,
            a.hazard_class, a.seq, a.ignition)
           IS NOT DISTINCT FROM
           (b.lat, b.lon, b.speed_kmh, b.heading, b.alt_m, b.hdop, b.fix, b.sats, b.un,
            b.hazard_class, b.seq, b.ignition)
$$;

-- A rejects row, reason duplicate_ts, for fix b whose key holds a (the
-- gateway's wording).
CREATE FUNCTION hazgate_reject_duplicate(a positions, b positions) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO rejects (topic, payload, reason, message, received_at)
    SELECT '', convert_to(json_build_object('vehicle', b.vehicle, 'ts', b.ts, 'lat', b.lat,
               'lon', b.lon, 'speed_kmh', b.speed_kmh, 'heading', b.heading, 'alt_m', b.alt_m,
               'hdop', b.hdop, 'fix', b.fix, 'sats', b.sats, 'un', b.un,
               'hazard_class', b.hazard_class, 'seq', b.seq, 'ignition', b.ignition)::text,
               'UTF8'), 'duplicate_ts',
           format('a fix of %s at %s is already stored with other values (stored lat %s lon %s,'
                  ' this one lat %s lon %s)', b.vehicle, b.ts, a.lat, a.lon, b.lat, b.lon),
           b.received_at
$$;
REVOKE EXECUTE ON FUNCTION hazgate_reject_duplicate(positions, positions) FROM PUBLIC;

-- Moves day p_day (UTC) from positions_recent into positions_slices: its
-- partition and its rows in the default partition; the hours that already
-- have a slice (late fixes, a second run) are decoded and built again with
-- them. A fix whose (vehicle, ts) a slice holds is dropped when its values
-- are the same (a redelivery) and goes to rejects (duplicate_ts) when they
-- are not. The day's row partition is dropped; later fixes of the day go to
-- the default partition (see hazgate_positions_late). Returns the fixes
-- moved. One compaction at a time; inserts into that day wait for it.
CREATE FUNCTION hazgate_positions_compact(p_day date) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'UTC'
SET work_mem = '256MB' AS $$
DECLARE
    lo timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    rpart text := format('positions_recent_%s', to_char(p_day, 'YYYYMMDD'));
    spart text := format('positions_slices_%s', to_char(p_day, 'YYYYMMDD'));
    moved bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('hazgate_positions_compact'));
    IF to_regclass(rpart) IS NOT NULL THEN
        EXECUTE format('LOCK TABLE %I IN EXCLUSIVE MODE', rpart);
    END IF;
    LOCK TABLE positions_recent_default IN EXCLUSIVE MODE;
    IF to_regclass(spart) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF positions_slices FOR VALUES FROM (%L) TO (%L)',
                       spart, lo, hi);
    END IF;
    CREATE TEMP TABLE hg_slice_new ON COMMIT DROP AS
        SELECT * FROM positions_recent WHERE ts >= lo AND ts < hi;
    SELECT count(*) INTO moved FROM hg_slice_new;
    -- The slices these fixes fall in, decoded, with the fixes that are new.
    CREATE TEMP TABLE hg_slice_src ON COMMIT DROP AS
        WITH k AS (SELECT DISTINCT vehicle, date_trunc('hour', ts) AS hour FROM hg_slice_new),
             old AS (DELETE FROM positions_slices s USING k
                      WHERE s.vehicle = k.vehicle AND s.hour = k.hour
                        AND s.hour >= lo AND s.hour < hi RETURNING s.*)
        SELECT f.* FROM old, LATERAL hazgate_slice_fixes(old) f;
    PERFORM hazgate_reject_duplicate(ROW(o.*)::positions, ROW(n.*)::positions)
       FROM hg_slice_new n JOIN hg_slice_src o ON o.vehicle = n.vehicle AND o.ts = n.ts
      WHERE NOT hazgate_fix_same(ROW(o.*)::positions, ROW(n.*)::positions);
    INSERT INTO hg_slice_src
        SELECT DISTINCT ON (n.vehicle, n.ts) n.* FROM hg_slice_new n
         WHERE NOT EXISTS (SELECT 1 FROM hg_slice_src o WHERE o.vehicle = n.vehicle AND o.ts = n.ts)
         ORDER BY n.vehicle, n.ts;
    PERFORM hazgate_slices_build();
    IF to_regclass(rpart) IS NOT NULL THEN
        EXECUTE format('DROP TABLE %I', rpart);
    END IF;
    DELETE FROM positions_recent_default WHERE ts >= lo AND ts < hi;
    DROP TABLE hg_slice_new, hg_slice_src;
    RETURN moved;
END
$$;
REVOKE EXECUTE ON FUNCTION hazgate_positions_compact(date) FROM PUBLIC;

-- The days before p_before (UTC) that still have fixes in positions_recent:
-- what hazgate-ctl compact moves.
CREATE FUNCTION hazgate_positions_compact_due(p_before date) RETURNS SETOF date
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT to_date(substr(c.relname, 18), 'YYYYMMDD')
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'positions_recent'::regclass
       AND c.relname ~ '^positions_recent_[0-9]{8}$'
       AND to_date(substr(c.relname, 18), 'YYYYMMDD') < p_before
    UNION
    SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date FROM positions_recent_default
     WHERE ts < p_before::timestamp AT TIME ZONE 'UTC'
    ORDER BY 1
$$;
REVOKE EXECUTE ON FUNCTION hazgate_positions_compact_due(date) FROM PUBLIC;

-- The tables that hold day d's positions (its slices' partition, its row
-- partition while not compacted), for retention: dropping them drops the
-- day, but for late fixes waiting in positions_recent_default (compacted
-- into the slices by the next hazgate_positions_compact of the day).
CREATE FUNCTION hazgate_positions_day_tables(d date) RETURNS SETOF regclass
LANGUAGE sql STABLE AS $$
    SELECT r FROM (VALUES (to_regclass(format('positions_slices_%s', to_char(d, 'YYYYMMDD')))),
                          (to_regclass(format('positions_recent_%s', to_char(d, 'YYYYMMDD'))))) v(r)
     WHERE r IS NOT NULL
$$;

-- Drops day d's positions, both tiers (for retention, after archiving
-- them: read them with hazgate_positions(NULL, d, d + 1) first). Returns
-- the fixes dropped. Waits for a compaction of the day under way.
CREATE FUNCTION hazgate_positions_drop_day(d date) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    lo timestamptz := d::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (d + 1)::timestamp AT TIME ZONE 'UTC';
    t regclass;
    n bigint := 0;
    k bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('hazgate_positions_compact'));
    FOR t IN SELECT hazgate_positions_day_tables(d) LOOP
        EXECUTE format('SELECT %s FROM %s',
                       CASE WHEN t::text LIKE 'positions_slices_%' THEN 'coalesce(sum(n), 0)'
                            ELSE 'count(*)' END, t) INTO k;
        n := n + k;
        EXECUTE format('DROP TABLE %s', t);
    END LOOP;
    DELETE FROM positions_recent_default WHERE ts >= lo AND ts < hi;
    GET DIAGNOSTICS k = ROW_COUNT;
    RETURN n + k;
END
$$;
REVOKE EXECUTE ON FUNCTION hazgate_positions_drop_day(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_positions_drop_day(date) TO hazgate_admin;

-- ---- late fixes of a compacted day ----------------------------------------------------
-- A fix for a day whose row partition is gone lands in the default
-- partition: if a slice already holds its (vehicle, ts), it is not stored
-- again (same values: a redelivery) or goes to rejects (duplicate_ts).
CREATE FUNCTION hazgate_positions_late() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    kept positions;
    came positions;
BEGIN
    SELECT f.* INTO kept
      FROM positions_slices s, LATERAL hazgate_slice_fixes(s) f
     WHERE s.vehicle = NEW.vehicle AND s.hour = date_trunc('hour', NEW.ts) AND f.ts = NEW.ts;
    IF NOT FOUND THEN
        RETURN NEW;
    END IF;
    came := (NEW.vehicle, NEW.ts, NEW.lat, NEW.lon, NEW.speed_kmh, NEW.heading, NEW.alt_m,
            NEW.hdop, NEW.fix, NEW.sats, NEW.un, NEW.hazard_class, NEW.seq, NEW.ignition,
            NEW.zone_ids, NEW.received_at, NEW.alarms);
    IF NOT hazgate_fix_same(kept, came) THEN
        PERFORM hazgate_reject_duplicate(kept, came);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER positions_late BEFORE INSERT ON positions_recent_default
    FOR EACH ROW EXECUTE FUNCTION hazgate_positions_late();

-- ---- writing through the view -----------------------------------------------------------
-- INSERT goes to positions_recent (the same fix twice is one row, with or
-- without ON CONFLICT; another fix with a stored key is a unique_violation);
-- DELETE of a fix in a slice first moves its slice back into rows. Who may
-- is the view's grants' business (the gateway inserts, nobody deletes but
-- the owner): the trigger runs as the owner.
CREATE FUNCTION hazgate_positions_view_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO positions_recent (vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop,
                                      fix, sats, un, hazard_class, seq, ignition, zone_ids,
                                      received_at, alarms)
        VALUES (NEW.vehicle, NEW.ts, NEW.lat, NEW.lon, NEW.speed_kmh, NEW.heading, NEW.alt_m,
                NEW.hdop, NEW.fix, NEW.sats, NEW.un, NEW.hazard_class, NEW.seq, NEW.ignition,
                coalesce(NEW.zone_ids, '{}'), coalesce(NEW.received_at, now()), NEW.alarms)
        ON CONFLICT DO NOTHING;
        -- The same fix again is no second copy; another with its key is
        -- refused, as the table did.
        IF NOT FOUND AND NOT EXISTS (
            SELECT 1 FROM hazgate_positions(NEW.vehicle, NEW.ts, NEW.ts + interval '1 microsecond') s
             WHERE hazgate_fix_same(s, NEW)) THEN
            RAISE unique_violation USING
                MESSAGE = format('a fix of %s at %s is already stored with other values',
                                 NEW.vehicle, NEW.ts);
        END IF;
        RETURN NEW;
    END IF;
    -- DELETE: a fix in a slice takes its slice back into rows first.
    DELETE FROM positions_recent WHERE vehicle = OLD.vehicle AND ts = OLD.ts;
    IF NOT FOUND THEN
        PERFORM hazgate_slice_unpack(OLD.vehicle, OLD.ts);
        DELETE FROM positions_recent WHERE vehicle = OLD.vehicle AND ts = OLD.ts;
    END IF;
    RETURN OLD;
END
$$;

-- Moves the slice holding (p_vehicle, p_ts) back into positions_recent
-- (where the next compaction of its day finds it).
CREATE FUNCTION hazgate_slice_unpack(p_vehicle text, p_ts timestamptz) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'UTC' AS $$
    WITH old AS (DELETE FROM positions_slices
                  WHERE vehicle = p_vehicle AND hour = date_trunc('hour', p_ts) RETURNING *),
         ins AS (INSERT INTO positions_recent SELECT f.* FROM old, LATERAL hazgate_slice_fixes(old) f
                 RETURNING 1)
    SELECT count(*) FROM ins
$$;
REVOKE EXECUTE ON FUNCTION hazgate_slice_unpack(text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_slice_unpack(text, timestamptz) TO hazgate_admin;

CREATE TRIGGER positions_write INSTEAD OF INSERT OR DELETE ON positions
    FOR EACH ROW EXECUTE FUNCTION hazgate_positions_view_write();

-- ---- what used positions ------------------------------------------------------------------
-- Partitions are positions_recent_YYYYMMDD now; a compacted day gets none
-- again (its late fixes wait in the default partition).
CREATE OR REPLACE FUNCTION hazgate_ensure_partitions(start date, days integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    d date;
    part text;
    made integer := 0;
BEGIN
    IF days < 1 OR days > 366 THEN
        RAISE EXCEPTION 'hazgate_ensure_partitions: days must be 1..366, not %', days;
    END IF;
    FOR i IN 0 .. days - 1 LOOP
        d := start + i;
        part := format('positions_recent_%s', to_char(d, 'YYYYMMDD'));
        CONTINUE WHEN to_regclass(part) IS NOT NULL
                   OR to_regclass(format('positions_slices_%s', to_char(d, 'YYYYMMDD'))) IS NOT NULL;
        -- Serialise concurrent callers on the parent.
        LOCK TABLE positions_recent IN SHARE ROW EXCLUSIVE MODE;
        CONTINUE WHEN to_regclass(part) IS NOT NULL;
        EXECUTE format('CREATE TABLE %I (LIKE positions_recent INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
        EXECUTE format('WITH moved AS (DELETE FROM positions_recent_default
                          WHERE ts >= %L::timestamptz AND ts < %L::timestamptz RETURNING *)
                        INSERT INTO %I SELECT * FROM moved',
                       d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC', part);
        EXECUTE format('ALTER TABLE positions_recent ATTACH PARTITION %I
                          FOR VALUES FROM (%L) TO (%L)',
                       part, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
        made := made + 1;
    END LOOP;
    RETURN made;
END
$$;

-- The gateway's duplicate check (008): the rows of the row tier (a late
-- fix of a compacted day is checked by hazgate_positions_late).
DROP FUNCTION hazgate_positions_stored(text[], timestamptz[]);
CREATE FUNCTION hazgate_positions_stored(p_vehicle text[], p_ts timestamptz[])
RETURNS SETOF positions
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT p.vehicle, p.ts, p.lat, p.lon, p.speed_kmh, p.heading, p.alt_m, p.hdop, p.fix,
           p.sats, p.un, p.hazard_class, p.seq, p.ignition, p.zone_ids, p.received_at, p.alarms
      FROM unnest(p_vehicle, p_ts) AS k(vehicle, ts)
      JOIN positions_recent p ON p.vehicle = k.vehicle AND p.ts = k.ts
$$;
REVOKE EXECUTE ON FUNCTION hazgate_positions_stored(text[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_positions_stored(text[], timestamptz[]) TO hazgate_gateway;

CREATE OR REPLACE FUNCTION hazgate_vehicle_resume()
RETURNS TABLE (vehicle text, last_us bigint, lat double precision,
               lon double precision, state bytea, last_seq bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT v.vehicle, (extract(epoch FROM v.last_ts) * 1000000)::bigint, v.lat, v.lon,
           v.state,
           greatest(v.last_seq, (SELECT max(p.seq)
                                   FROM hazgate_positions(v.vehicle, v.last_ts, 'infinity') p))
      FROM vehicle_state v
$$;

-- ---- grants ---------------------------------------------------------------------------------
-- positions_recent kept the grants of positions (the gateway's INSERT, the
-- readers' SELECT). The view: the gateway may insert through it, readers read.
GRANT INSERT ON positions TO hazgate_gateway;
GRANT SELECT ON positions, positions_slices TO hazgate_dispatcher, hazgate_admin;
GRANT EXECUTE ON FUNCTION hazgate_positions_compact(date) TO hazgate_admin;
GRANT EXECUTE ON FUNCTION hazgate_positions_compact_due(date) TO hazgate_admin;
