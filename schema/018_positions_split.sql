-- 018_positions_split: the audit index as a function per vehicle and one
-- for every vehicle, each with a plan that probes the keys whatever its
-- arguments are (issue 15).
--
-- 012's hazgate_positions(vehicle, from, to) took NULL for every vehicle
-- through "p_vehicle IS NULL OR vehicle = p_vehicle". Inlined into a query
-- whose vehicle is a constant (hazgate-ctl's custom plans) the planner
-- folds that away; but wherever the function runs as a plan of its own,
-- with the vehicle unknown when planned (a generic plan of a prepared
-- statement, PL/pgSQL, a vehicle taken from another table: 012's resume
-- query, fixed by 016 for that caller only), the condition cannot use an
-- index: every call scanned the open day's rows and every slice of the
-- range. Now:
--
--   hazgate_positions_vehicle(vehicle, from, to)  one vehicle: a probe of
--       positions_recent's key (vehicle, ts) and a range probe of
--       positions_slices' key (vehicle, hour), then those slices decoded
--   hazgate_positions_all(from, to)  every vehicle (retention's archive of
--       a day): the partitions of the range only
--   hazgate_positions(vehicle, from, to)  as before (NULL: every vehicle),
--       for the callers that have it: one of the two above, chosen when it
--       runs (a one-time filter on the vehicle being NULL), so its plan
--       has the per-vehicle form's probes too.
--
-- All three are inlinable SQL functions (STABLE, not SECURITY DEFINER):
-- the caller's rights apply, as for 012's. Unordered: callers say ORDER BY.

SET LOCAL TimeZone = 'UTC';

CREATE FUNCTION hazgate_positions_vehicle(p_vehicle text, p_from timestamptz,
                                          p_to timestamptz)
RETURNS SETOF positions
LANGUAGE sql STABLE AS $$
    SELECT r.vehicle, r.ts, r.lat, r.lon, r.speed_kmh, r.heading, r.alt_m, r.hdop, r.fix,
           r.sats, r.un, r.hazard_class, r.seq, r.ignition, r.zone_ids, r.received_at,
           r.alarms
      FROM positions_recent r
     WHERE r.vehicle = p_vehicle AND r.ts >= p_from AND r.ts < p_to
    UNION ALL
    SELECT f.*
      FROM positions_slices s, LATERAL hazgate_slice_fixes(s) f
     WHERE s.vehicle = p_vehicle
       AND s.hour > p_from - interval '1 hour' AND s.hour < p_to
       AND s.t_last >= p_from AND s.t_first < p_to
       AND (s.t_first >= p_from AND s.t_last < p_to OR f.ts >= p_from AND f.ts < p_to)
$$;

CREATE FUNCTION hazgate_positions_all(p_from timestamptz, p_to timestamptz)
RETURNS SETOF positions
LANGUAGE sql STABLE AS $$
    SELECT r.vehicle, r.ts, r.lat, r.lon, r.speed_kmh, r.heading, r.alt_m, r.hdop, r.fix,
           r.sats, r.un, r.hazard_class, r.seq, r.ignition, r.zone_ids, r.received_at,
           r.alarms
      FROM positions_recent r
     WHERE r.ts >= p_from AND r.ts < p_to
    UNION ALL
    SELECT f.*
      FROM positions_slices s, LATERAL hazgate_slice_fixes(s) f
     WHERE s.hour > p_from - interval '1 hour' AND s.hour < p_to
       AND s.t_last >= p_from AND s.t_first < p_to
       AND (s.t_first >= p_from AND s.t_last < p_to OR f.ts >= p_from AND f.ts < p_to)
$$;

CREATE OR REPLACE FUNCTION hazgate_positions(p_vehicle text, p_from timestamptz,
                                             p_to timestamptz)
RETURNS SETOF positions
LANGUAGE sql STABLE AS $$
    SELECT * FROM hazgate_positions_vehicle(p_vehicle, p_from, p_to)
     WHERE p_vehicle IS NOT NULL
    UNION ALL
    SELECT * FROM hazgate_positions_all(p_from, p_to)
     WHERE p_vehicle IS NULL
$$;

-- The view's INSERT trigger (012) looked a stored key up through
-- hazgate_positions() from PL/pgSQL, whose cached generic plan scanned:
-- the per-vehicle function probes.
CREATE OR REPLACE FUNCTION hazgate_positions_view_write() RETURNS trigger
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
            SELECT 1 FROM hazgate_positions_vehicle(NEW.vehicle, NEW.ts,
                                                    NEW.ts + interval '1 microsecond') s
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
