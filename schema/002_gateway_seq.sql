-- 002_gateway_seq: what the gateway needs beyond 001.
--
-- The last telemetry `seq` the gateway saw per vehicle, so that after a
-- restart a gap in a tracker's counter is still counted as lost messages
-- (the gateway's hazgate_lost_seq_total), never silently.
ALTER TABLE vehicle_state ADD COLUMN last_seq bigint;

-- The gateway (and the other roles) check the schema version at start.
GRANT SELECT ON schema_migrations TO hazgate_gateway, hazgate_dispatcher, hazgate_admin;

-- What the gateway resumes from at start: each vehicle's saved state, with
-- its last seq completed from the positions stored after the row was last
-- saved (the gateway saves it at most every state_interval_ms while only
-- time and place change). SECURITY DEFINER: the gateway role itself has no
-- SELECT on positions.
CREATE FUNCTION hazgate_vehicle_resume()
RETURNS TABLE (vehicle text, last_us bigint, lat double precision,
               lon double precision, state bytea, last_seq bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT v.vehicle, (extract(epoch FROM v.last_ts) * 1000000)::bigint, v.lat, v.lon,
           v.state,
           greatest(v.last_seq, (SELECT max(p.seq) FROM positions p
                                  WHERE p.vehicle = v.vehicle AND p.ts >= v.last_ts))
      FROM vehicle_state v
$$;
REVOKE EXECUTE ON FUNCTION hazgate_vehicle_resume() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_vehicle_resume() TO hazgate_gateway;
