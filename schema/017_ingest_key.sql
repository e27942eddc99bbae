-- 017_ingest_key: the vehicle column of both tiers of positions compares
-- bytewise (COLLATE "C"), so that the row tier's primary key (vehicle, ts),
-- which every fix the gateway writes goes through, compares with memcmp
-- instead of the database's collation (strcoll on a copy of both strings,
-- or ICU). Issue 15, schema/README.md "Why this layout" and "Figures":
-- those comparisons were a quarter of the backend's CPU a fix while
-- ingesting with the locale zh_CN.UTF-8 (ingest 0.78 of before with this
-- alone), about 5 % with C.UTF-8.
--
-- Nothing else changes: for UTF-8 text, equality is byte equality under
-- every deterministic collation, so the key refuses exactly what it
-- refused; a comparison of this column with a text of the default
-- collation (a parameter, another table's vehicle) takes "C" (the column's
-- implicit collation wins over the default), so every query on a vehicle
-- keeps its index. Only ORDER BY vehicle on these tables and the view
-- sorts by bytes now (the same order as C.UTF-8's for UTF-8 text).
--
-- A view's column cannot change its collation: the view and what depends
-- on its row type are dropped and made again as 012 made them (each by
-- name, so that an operator's own view on positions makes the migration
-- fail rather than vanish). The column changes rebuild the primary keys of
-- the open days' row partitions and of every slice partition, holding
-- their locks until COMMIT (the gateway's writes wait).

SET LOCAL TimeZone = 'UTC';

DROP TRIGGER positions_write ON positions;
DROP FUNCTION hazgate_positions(text, timestamptz, timestamptz);
DROP FUNCTION hazgate_positions_last(text);
DROP FUNCTION hazgate_positions_stored(text[], timestamptz[]);
DROP FUNCTION hazgate_fix_same(positions, positions);
DROP FUNCTION hazgate_reject_duplicate(positions, positions);
DROP VIEW positions;

ALTER TABLE positions_recent ALTER COLUMN vehicle TYPE text COLLATE "C";
ALTER TABLE positions_slices ALTER COLUMN vehicle TYPE text COLLATE "C";

-- ---- as 012 made them ------------------------------------------------------------
CREATE VIEW positions AS
    SELECT vehicle, ts, lat, lon, speed_kmh, heading, alt_m, hdop, fix, sats, un,
           hazard_class, seq, ignition, zone_ids, received_at, alarms
      FROM positions_recent
    UNION ALL
    SELECT f.* FROM positions_slices s, LATERAL hazgate_slice_fixes(s) f;

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

CREATE FUNCTION hazgate_fix_same(a positions, b positions) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (a.lat, a.lon, a.speed_kmh, a.heading, a.alt_m, a.hdop, a.fix, a.sats, a.un,
            a.hazard_class, a.seq, a.ignition)
           IS NOT DISTINCT FROM
           (b.lat, b.lon, b.speed_kmh, b.heading, b.alt_m, b.hdop, b.fix, b.sats, b.un,
            b.hazard_class, b.seq, b.ignition)
$$;

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

CREATE TRIGGER positions_write INSTEAD OF INSERT OR DELETE ON positions
    FOR EACH ROW EXECUTE FUNCTION hazgate_positions_view_write();

GRANT INSERT ON positions TO hazgate_gateway;
GRANT SELECT ON positions TO hazgate_dispatcher, hazgate_admin;
