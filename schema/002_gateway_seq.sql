-- 002_gateway_seq: the last telemetry `seq` the gateway saw per vehicle, so
-- that after a restart a gap in a tracker's counter is still counted as lost
-- messages (the gateway's hazgate_lost_seq_total), never silently.
ALTER TABLE vehicle_state ADD COLUMN last_seq bigint;
