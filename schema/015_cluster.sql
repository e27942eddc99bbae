-- 015_cluster: partitioned gateways (issue 16; gateway/README.md,
-- "Partitioned gateways").
--
-- With [cluster] partitions = P, each gateway claims partitions with
-- session advisory locks on a connection of its own:
--   pg_try_advisory_lock(1752854577, k)   partition k (key 'hzp1', k)
--   pg_advisory_lock_shared(1752853809, 0) "this gateway is alive" ('hzm1')
-- so pg_locks shows who is alive and who holds what, and a gateway that
-- dies or loses its connection loses both at once. Nothing here is needed
-- by a single gateway (partitions = 0).

-- The partition of a vehicle as NATS's subject mapping {{partition(P,1)}}
-- computes it from the topic's vehicle token: FNV-1a 32 of its UTF-8
-- bytes, mod P (gateway/gw_part.c does the same).
CREATE FUNCTION hazgate_partition(vehicle text, partitions integer)
RETURNS integer LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    b bytea := convert_to(vehicle, 'UTF8');
    h bigint := 2166136261;
BEGIN
    FOR i IN 0 .. length(b) - 1 LOOP
        h := ((h # get_byte(b, i)) * 16777619) % 4294967296;
    END LOOP;
    RETURN (h % partitions)::integer;
END
$$;

-- Who holds each partition, for operators and for the gateways' own
-- takeover count: written when a gateway claims a partition (owner,
-- claimed_at; released_at cleared) and when it gives it up cleanly
-- (released_at). A claim that finds released_at empty under another owner
-- is a takeover (the owner died or lost its database connection). The
-- locks, not this table, decide who owns a partition.
CREATE TABLE cluster_partitions (
    partition   integer PRIMARY KEY,
    owner       text NOT NULL,          -- [cluster] name of the gateway
    claimed_at  timestamptz NOT NULL,
    released_at timestamptz
);
GRANT SELECT, INSERT, UPDATE ON cluster_partitions TO hazgate_gateway;
GRANT SELECT ON cluster_partitions TO hazgate_dispatcher, hazgate_admin;

-- The fence: the gateway's batch transaction starts with this check, so a
-- gateway whose claim connection lost a partition's lock (a PostgreSQL
-- failover, a dropped connection) commits nothing more as its owner; it
-- stops the partition and claims again. parts: the partitions it believes
-- it holds; claim_pid: its claim connection's pg_backend_pid().
CREATE FUNCTION hazgate_cluster_fence(claim_pid integer, parts integer[])
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    lost integer[];
BEGIN
    SELECT array_agg(p ORDER BY p) INTO lost FROM unnest(parts) p
     WHERE NOT EXISTS (SELECT 1 FROM pg_locks l
                        WHERE l.locktype = 'advisory' AND l.classid = 1752854577::oid
                          AND l.objid = p::oid AND l.objsubid = 2
                          AND l.pid = claim_pid AND l.granted
                          AND l.database = (SELECT oid FROM pg_database
                                             WHERE datname = current_database()));
    IF lost IS NOT NULL THEN
        RAISE EXCEPTION 'hazgate_fence: partitions % are no longer held by claim connection %',
            lost, claim_pid USING ERRCODE = 'HG412';
    END IF;
END
$$;

-- vehicle_state of the vehicles of some partitions, as
-- hazgate_vehicle_resume() (migration 002) gives it for all: what a gateway
-- loads when it claims them.
CREATE FUNCTION hazgate_vehicle_resume(parts integer[], partitions integer)
RETURNS TABLE (vehicle text, last_us bigint, lat double precision,
               lon double precision, state bytea, last_seq bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT v.vehicle, (extract(epoch FROM v.last_ts) * 1000000)::bigint, v.lat, v.lon,
           v.state,
           greatest(v.last_seq, (SELECT max(p.seq) FROM positions p
                                  WHERE p.vehicle = v.vehicle AND p.ts >= v.last_ts))
      FROM vehicle_state v
     WHERE hazgate_partition(v.vehicle, partitions) = ANY (parts)
$$;
REVOKE EXECUTE ON FUNCTION hazgate_vehicle_resume(integer[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_vehicle_resume(integer[], integer) TO hazgate_gateway;
