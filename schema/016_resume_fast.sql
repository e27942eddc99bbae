-- 016_resume_fast: the gateway's start-up query by each tier's key.
--
-- 012 made hazgate_vehicle_resume() complete each vehicle's last seq
-- through hazgate_positions(vehicle, last_ts, 'infinity'), whose
-- "vehicle IS NULL OR" filter cannot use the key when the function runs
-- as a plan of its own: a sequential scan of the open day per vehicle
-- (the soak: 500 vehicles, 3 M fixes, 113 s before the gateway took its
-- first message). 015's partition version read the positions view, which
-- decodes every slice before it filters on the vehicle. Both now probe
-- positions_recent's key (vehicle, ts) and positions_slices' (vehicle,
-- hour) and decode only the vehicle's slices after last_ts.
CREATE OR REPLACE FUNCTION hazgate_resume_seq(p_vehicle text, p_from timestamptz)
RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT greatest(
        (SELECT max(r.seq) FROM positions_recent r
          WHERE r.vehicle = p_vehicle AND r.ts >= p_from),
        (SELECT max(f.seq) FROM positions_slices s, LATERAL hazgate_slice_fixes(s) f
          WHERE s.vehicle = p_vehicle AND s.hour > p_from - interval '1 hour'
            AND s.t_last >= p_from AND f.ts >= p_from))
$$;
REVOKE EXECUTE ON FUNCTION hazgate_resume_seq(text, timestamptz) FROM PUBLIC;

CREATE OR REPLACE FUNCTION hazgate_vehicle_resume()
RETURNS TABLE (vehicle text, last_us bigint, lat double precision,
               lon double precision, state bytea, last_seq bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT v.vehicle, (extract(epoch FROM v.last_ts) * 1000000)::bigint, v.lat, v.lon,
           v.state, greatest(v.last_seq, hazgate_resume_seq(v.vehicle, v.last_ts))
      FROM vehicle_state v
$$;

CREATE OR REPLACE FUNCTION hazgate_vehicle_resume(parts integer[], partitions integer)
RETURNS TABLE (vehicle text, last_us bigint, lat double precision,
               lon double precision, state bytea, last_seq bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT v.vehicle, (extract(epoch FROM v.last_ts) * 1000000)::bigint, v.lat, v.lon,
           v.state, greatest(v.last_seq, hazgate_resume_seq(v.vehicle, v.last_ts))
      FROM vehicle_state v
     WHERE hazgate_partition(v.vehicle, partitions) = ANY (parts)
$$;
