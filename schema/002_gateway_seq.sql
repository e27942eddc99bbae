-- 002_gateway_seq: what the gateway needs beyond 001.
--
-- The last telemetry `seq` the gateway saw per vehicle, so that after a
-- restart a gap in a tracker's counter is still counted as lost messages
-- (the gateway's hazgate_lost_seq_total), never silently.
ALTER TABLE vehicle_state ADD COLUMN last_seq bigint;

-- The gateway (and the other roles) check the schema version at start.
GRANT SELECT ON schema_migrations TO hazgate_gateway, hazgate_dispatcher, hazgate_admin;

-- At start the gateway completes each vehicle's last seq from the positions
-- stored after its vehicle_state was last saved (it saves that row at most
-- every state_interval_ms while only time and place change).
GRANT SELECT (vehicle, ts, seq) ON positions TO hazgate_gateway;
