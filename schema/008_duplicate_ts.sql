-- 008_duplicate_ts: a second fix with the same (vehicle, ts) is no longer
-- dropped without a trace (issue 11 item 9).
--
-- When a batch holds a position whose key is already stored (or twice in
-- the batch), the gateway compares it with the stored one: byte-identical
-- values (a redelivery after a crash or by the broker) are a duplicate,
-- counted and not stored again; other values get a rejects row with
-- reason duplicate_ts. The gateway role has no SELECT on positions: this
-- function gives it the stored rows of the keys it asks for, nothing more.
CREATE FUNCTION hazgate_positions_stored(p_vehicle text[], p_ts timestamptz[])
RETURNS SETOF positions
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT p.*
      FROM unnest(p_vehicle, p_ts) AS k(vehicle, ts)
      JOIN positions p ON p.vehicle = k.vehicle AND p.ts = k.ts
$$;
REVOKE EXECUTE ON FUNCTION hazgate_positions_stored(text[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_positions_stored(text[], timestamptz[]) TO hazgate_gateway;
